//! fastgather on ndarray arrays: `cargo run --example ndarray_interop --features ndarray`.
//!
//! Shows the two levels of `fastgather::ndarray`:
//! 1. whole arrays in, arrays out (`gather_array`, `scatter_add_array`, ...),
//!    for any layout;
//! 2. zero-copy views (`view`, `view_mut`) to call any fastgather function,
//!    options included, on an array's own memory.

use fastgather::ndarray::{
    gather_array, gather_into_array, index_select_array, scatter_add_array, take_along_axis_array,
    view, view_mut,
};
use fastgather::{gather_with, GatherError, GatherOptions, IndexMode};
use ndarray::{array, s, Array1, Array2, Axis};

fn main() -> Result<(), GatherError> {
    // The tutorial's pick: each row's probability of its label.
    let y_hat: Array2<f32> = array![[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]];
    let y = array![0i64, 2];
    let labels = y.view().insert_axis(Axis(1)); // y.view(-1, 1): [2, 1]
    let picked: Array2<f32> = gather_array(&y_hat, 1, &labels)?;
    println!("picked probabilities:\n{picked}");
    let loss = -picked.mapv(f32::ln).mean().unwrap_or(f32::NAN);
    println!("cross-entropy: {loss:.4}");

    // Any layout goes in: here a transposed and a reversed array, zero-copy.
    let m = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as i32);
    let mt = m.t(); // [4, 3], Fortran order
    let idx = array![[2i64, 0, 1], [1, 1, 1]];
    println!("gather(m.t(), 0, idx):\n{}", gather_array(&mt, 0, &idx)?);
    let flipped = m.slice(s![.., ..;-1]); // negative column stride
    let tv = view(&flipped)?;
    println!(
        "reversed columns as a TensorView: shape {:?}, strides {:?}",
        tv.shape(),
        tv.strides()
    );

    // A view that skips memory (every other column) cannot be borrowed as one
    // slice; `view` says so, and the array functions copy it instead.
    let every_other = m.slice(s![.., ..;2]);
    match view(&every_other) {
        Ok(_) => println!("unexpected: a gapped view converted"),
        Err(e) => println!("view(every other column) refused: {e}"),
    }
    let cols = index_select_array(&every_other, 1, &array![1i64, 0])?;
    println!("index_select of every other column:\n{cols}");

    // Scatter-add: a histogram of labels, gather's adjoint.
    let bins = array![0i64, 2, 2, 1, 2, 0];
    let ones = Array1::<u32>::ones(bins.len());
    let hist = scatter_add_array(&Array1::<u32>::zeros(3), 0, &bins, &ones)?;
    println!("label histogram: {hist}");

    // numpy's take_along_axis: each row sorted by an argsort computed elsewhere.
    let scores = array![[0.2f64, 0.9, 0.5], [0.7, 0.1, 0.4]];
    let order = array![[0i64, 2, 1], [1, 2, 0]];
    println!(
        "rows in ascending order:\n{}",
        take_along_axis_array(&scores, &order, 1)?
    );

    // Writing into an existing array, through a reversed view.
    let mut out = Array2::<i32>::zeros((2, 3));
    gather_into_array(&m, 1, &idx, &mut out.slice_mut(s![..;-1, ..]))?;
    println!("gathered into rows written bottom-up:\n{out}");

    // Views give every option: here JAX's clamp mode, on one thread, written
    // straight into an ndarray buffer.
    let src = view(&m.view())?;
    let wild = array![[-5i64, 99]];
    let opts = GatherOptions::new().mode(IndexMode::Clamp).sequential();
    let clamped = gather_with(&src, 1, &view(&wild.view())?, &opts)?;
    println!("clamped: {:?}", clamped.as_slice());
    let mut dst = Array2::<i32>::zeros((1, 2));
    fastgather::gather_into_with(
        &src,
        1,
        &view(&wild.view())?,
        &mut view_mut(dst.view_mut())?,
        &opts,
    )?;
    assert_eq!(dst.as_slice().unwrap(), clamped.as_slice());
    Ok(())
}
