//! fastgather on ndarray arrays: `cargo run --example ndarray_interop --features ndarray`.
//!
//! Shows the two levels of the `ndarray` feature:
//! 1. `GatherExt`: methods on every array (`a.gather(dim, &index)`,
//!    `a.scatter_add(..)`, ...), reading operands in place, returning arrays;
//! 2. `fastgather::nd::{view, view_mut}`: zero-copy views, to call any
//!    fastgather function on an array's own memory.

use fastgather::nd::{view, view_mut};
use fastgather::{GatherError, GatherExt, GatherOptions, IndexMode, gather_with};
use ndarray::{Array1, Array2, Axis, array, s};

fn main() -> Result<(), GatherError> {
    // The tutorial's pick: each row's probability of its label.
    let y_hat: Array2<f32> = array![[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]];
    let y = array![0i64, 2];
    let labels = y.view().insert_axis(Axis(1)); // y.view(-1, 1): [2, 1]
    let picked: Array2<f32> = y_hat.gather(1, &labels)?;
    println!("picked probabilities:\n{picked}");
    let loss = -picked.mapv(f32::ln).mean().unwrap_or(f32::NAN);
    println!("cross-entropy: {loss:.4}");

    // Any dense layout is read in place: here a transposed and a reversed array.
    let m = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as i32);
    let idx = array![[2i64, 0, 1], [1, 1, 1]];
    println!("gather(m.t(), 0, idx):\n{}", m.t().gather(0, &idx)?);
    let flipped = m.slice(s![.., ..;-1]); // negative column stride
    println!("gather(flipped, -1, idx):\n{}", flipped.gather(-1, &idx)?);

    // An array that skips memory (every other column) is never copied behind
    // your back: the call says so, and `copy_if_gapped` is the explicit copy.
    let every_other = m.slice(s![.., ..;2]);
    match every_other.index_select(1, &array![1i64, 0]) {
        Ok(_) => println!("unexpected: a gapped array was used"),
        Err(e) => println!("refused: {e}"),
    }
    let dense = every_other.copy_if_gapped()?;
    println!("copied: {}", dense.is_owned());
    println!(
        "index_select of every other column:\n{}",
        dense.index_select(1, &array![1i64, 0])?
    );

    // Scatter-add: a histogram of labels, gather's adjoint.
    let bins = array![0i64, 2, 2, 1, 2, 0];
    let ones = Array1::<u32>::ones(bins.len());
    let hist = Array1::<u32>::zeros(3).scatter_add(0, &bins, &ones)?;
    println!("label histogram: {hist}");

    // numpy's take_along_axis: each row sorted by an argsort computed elsewhere.
    let scores = array![[0.2f64, 0.9, 0.5], [0.7, 0.1, 0.4]];
    let order = array![[0i64, 2, 1], [1, 2, 0]];
    println!(
        "rows in ascending order:\n{}",
        scores.take_along_axis(&order, Axis(1))?
    );

    // Writing into an existing array, through a reversed view, with options:
    // JAX's clamp mode on one thread.
    let mut out = Array2::<i32>::zeros((2, 3));
    let opts = GatherOptions::new().mode(IndexMode::Clamp).sequential();
    let wild = array![[-5i64, 99, 1], [0, 2, 7]];
    m.gather_into_with(1, &wild, &mut out.slice_mut(s![..;-1, ..]), &opts)?;
    println!("clamped, rows written bottom-up:\n{out}");

    // Views reach every fastgather function, straight on the arrays' memory.
    let src = view(&m)?;
    let clamped = gather_with(&src, 1, &view(&wild)?, &opts)?;
    let mut dst = Array2::<i32>::zeros((2, 3));
    fastgather::gather_into_with(&src, 1, &view(&wild)?, &mut view_mut(&mut dst)?, &opts)?;
    assert_eq!(dst.as_slice().unwrap(), clamped.as_slice());
    Ok(())
}
