//! Strided views, torch-style: `cargo run --example strided_views`.
//!
//! Every view below borrows the same buffers; nothing is copied until a gather
//! writes its output. For each one the example prints the layout (shape,
//! strides, offset), the result, and which kernel `explain` says runs it.

use fastgather::{
    Element, GatherError, GatherOptions, IndexElem, Tensor, TensorView, TensorViewMut, explain,
    gather, gather_into,
};

fn show<T: Element + std::fmt::Debug, I: IndexElem>(
    what: &str,
    src: &TensorView<'_, T>,
    dim: isize,
    idx: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    let out = gather(src, dim, idx)?;
    let kernel = explain(src, dim, idx, &GatherOptions::new())?
        .map(|c| format!("{:?} via {}", c.class, c.kernel))
        .unwrap_or_else(|| "no kernel (empty index)".into());
    println!("{what}");
    println!(
        "  src   shape {:?} strides {:?} offset {}",
        src.shape(),
        src.strides(),
        src.offset()
    );
    println!(
        "  index shape {:?} strides {:?}",
        idx.shape(),
        idx.strides()
    );
    println!("  out   {:?} = {:?}", out.shape(), out.as_slice());
    println!("  runs  {kernel}\n");
    Ok(out)
}

fn main() -> Result<(), GatherError> {
    // x = torch.arange(12).view(3, 4)
    let data: Vec<i32> = (0..12).collect();
    let x = TensorView::new(&data, &[3, 4])?;

    // x.gather(1, [[3, 0], [1, 1], [2, 0]]): per-row picks.
    let picks = [3i64, 0, 1, 1, 2, 0];
    let picks = TensorView::new(&picks, &[3, 2])?;
    show("x.gather(1, picks)", &x, 1, &picks)?;

    // x.t().gather(0, ..): a transposed source, no copy.
    let xt = x.transpose(0, 1)?;
    let rows = [2i64, 0, 1];
    let rows = TensorView::new(&rows, &[1, 3])?;
    show("x.t().gather(0, rows)", &xt, 0, &rows)?;

    // x.flip(1).gather(1, ..): a negative stride.
    let flipped = x.flip(1)?;
    show("x.flip(1).gather(1, picks)", &flipped, 1, &picks)?;

    // x[:, 1::2].gather(1, ..): a stepped slice (stride 2).
    let odd_cols = x.slice(1, 1, 4, 2)?;
    let which = [1i64, 0, 0];
    let which = TensorView::new(&which, &[3, 1])?;
    show("x[:, 1::2].gather(1, which)", &odd_cols, 1, &which)?;

    // index_select as a gather: idx.unsqueeze(-1).expand(2, 4) selects whole rows
    // with a stride-0 index.
    let chosen = [2i64, 0];
    let chosen = TensorView::new(&chosen, &[2])?;
    let expanded = chosen.unsqueeze(1)?.expand(&[2, 4])?;
    show(
        "x.gather(0, idx.unsqueeze(-1).expand(2, 4))",
        &x,
        0,
        &expanded,
    )?;

    // The cross-entropy pick, with labels y.view(-1, 1).
    let y = [3i64, 1, 0];
    let y = TensorView::new(&y, &[3])?.reshape(&[3, 1])?;
    show("x.gather(1, y.view(-1, 1))", &x, 1, &y)?;

    // as_strided: a sliding window of width 3 over 0..6, stride 1 in both dims.
    let seq: Vec<f32> = (0..6).map(|v| v as f32).collect();
    let windows = TensorView::with_strides(&seq, &[4, 3], &[1, 1], 0)?;
    let mid = [1i64; 4];
    let mid = TensorView::new(&mid, &[4, 1])?;
    show(
        "windows.gather(1, ones(4, 1)): each window's middle",
        &windows,
        1,
        &mid,
    )?;

    // Writing through a strided out view: the result lands in the odd
    // positions of a buffer, reversed.
    let mut buf = [-1i32; 12];
    let out = TensorViewMut::new(&mut buf, &[12])?;
    let mut out = out.slice(0, 1, 12, 2)?.flip(0)?; // strides [-2], offset 11
    let src = TensorView::new(&data, &[12])?;
    let idx: Vec<i64> = (0..6).map(|i| 2 * i).collect();
    let idx = TensorView::new(&idx, &[6])?;
    gather_into(&src, 0, &idx, &mut out)?;
    println!("gather_into a reversed, stepped out view: {buf:?}");

    // Views are checked when they are made: this one reaches past the buffer.
    match TensorView::with_strides(&data, &[4, 4], &[4, 1], 0) {
        Ok(_) => println!("unexpected: an out-of-bounds view was accepted"),
        Err(e) => println!("refused: {e}"),
    }
    Ok(())
}
