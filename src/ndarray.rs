//! [`ndarray`](https://docs.rs/ndarray) interop (feature `ndarray`, for ndarray 0.17).
//!
//! Two levels:
//!
//! - **Views**: [`view`] and [`view_mut`] turn an `ArrayView` / `ArrayViewMut`
//!   into a [`TensorView`] / [`TensorViewMut`] over the same memory, without
//!   copying, keeping its shape and its element strides as they are (negative
//!   and zero strides included). Every fastgather function then takes them.
//! - **Arrays in, arrays out**: [`gather_array`], [`gather_into_array`],
//!   [`scatter_array`], [`scatter_add_array`], [`index_select_array`] and
//!   [`take_along_axis_array`] take any `ArrayBase` (owned `Array`, views,
//!   `ArcArray`, `CowArray`) of any layout and return an owned `Array` whose
//!   dimension type is the one the result's shape comes from.
//!
//! ```
//! use ndarray::{array, Array2};
//! use fastgather::ndarray::gather_array;
//!
//! // torch.gather(src, 1, index) on a transposed (Fortran-order) array.
//! let src: Array2<f32> = array![[1., 4.], [2., 5.], [3., 6.]].reversed_axes();
//! let index = array![[2i64, 0], [1, 1]];
//! let out: Array2<f32> = gather_array(&src, 1, &index).unwrap();
//! assert_eq!(out, array![[3., 1.], [5., 5.]]);
//! ```
//!
//! # Which views convert without a copy
//!
//! A [`TensorView`] borrows one slice that covers every element it addresses,
//! so [`view`] hands out exactly the memory the array's elements occupy. That
//! works for every layout whose elements fill a block of memory in *some*
//! axis order:
//!
//! - C order and Fortran order, and any permutation of axes (`.t()`,
//!   `.permuted_axes(..)`);
//! - reversed axes (`.slice(s![..;-1, ..])`, `.invert_axis(..)`): negative strides;
//! - broadcast axes (`.broadcast(..)`, `.insert_axis(..)`): stride 0;
//! - a range of the outermost axis (`.slice(s![2..5, ..])` of a C-order array).
//!
//! A view that skips memory between its elements (`s![.., ..;2]`, a column
//! range of a C-order array) is refused with [`GatherError::InvalidViewOp`]:
//! a slice over the gaps would claim elements that another view, perhaps on
//! another thread, may be writing (ndarray's `multi_slice_mut` and
//! `axis_iter_mut` hand out such interleaved views). The `*_array` functions
//! accept these too: they copy just the view's elements, in row-major order,
//! and run on the copy.
//!
//! This module has no `unsafe` code: the slices come from ndarray's own
//! `to_slice_memory_order` / `into_slice_memory_order`.

use ::ndarray::{
    Array, ArrayBase, ArrayD, ArrayView, ArrayViewMut, Axis, Data, DataMut, Dimension, IxDyn,
};

use crate::element::Accumulate;
use crate::element::Element;
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::view::{try_vec, Tensor, TensorView, TensorViewMut};

/// Element offset of logical position `[0, 0, ..]` from the lowest-addressed
/// element of the view: what each reversed axis adds.
fn offset_of_origin(shape: &[usize], strides: &[isize]) -> usize {
    shape
        .iter()
        .zip(strides)
        .filter(|&(&d, &s)| d > 1 && s < 0)
        .map(|(&d, &s)| (d - 1) * s.unsigned_abs())
        .sum()
}

/// The view over exactly the memory its elements occupy, or `None` if the
/// view skips memory between its elements.
fn try_view<'a, T, D: Dimension>(
    a: &ArrayView<'a, T, D>,
) -> Result<Option<TensorView<'a, T>>, GatherError> {
    let (shape, strides) = (a.shape(), a.strides());
    if a.is_empty() {
        return TensorView::with_strides(&[], shape, strides, 0).map(Some);
    }
    // Broadcast axes repeat elements: keep one position of each, so what is
    // left holds every distinct element once.
    let mut distinct = a.clone();
    for (k, (&d, &s)) in shape.iter().zip(strides).enumerate() {
        if s == 0 && d > 1 {
            distinct.collapse_axis(Axis(k), 0);
        }
    }
    match distinct.to_slice_memory_order() {
        Some(data) => {
            let offset = offset_of_origin(shape, strides);
            TensorView::with_strides(data, shape, strides, offset).map(Some)
        }
        None => Ok(None),
    }
}

/// As [`try_view`], for a writable view (which never has broadcast axes).
fn try_view_mut<'a, T, D: Dimension>(
    a: ArrayViewMut<'a, T, D>,
) -> Result<Option<TensorViewMut<'a, T>>, GatherError> {
    let shape = a.shape().to_vec();
    let strides = a.strides().to_vec();
    if a.is_empty() {
        return TensorViewMut::with_strides(&mut [], &shape, &strides, 0).map(Some);
    }
    match a.into_slice_memory_order() {
        Some(data) => {
            let offset = offset_of_origin(&shape, &strides);
            TensorViewMut::with_strides(data, &shape, &strides, offset).map(Some)
        }
        None => Ok(None),
    }
}

fn gapped(op: &'static str, shape: &[usize], strides: &[isize]) -> GatherError {
    GatherError::InvalidViewOp {
        op,
        reason: format!(
            "the array view with shape {shape:?} and strides {strides:?} skips memory between \
             its elements, so it cannot be borrowed as one slice; copy it first \
             (`.as_standard_layout()`) or use the `*_array` functions, which do"
        ),
    }
}

/// A [`TensorView`] over the same memory as an `ArrayView`, with the same shape
/// and element strides, without copying.
///
/// Works for every layout whose elements fill a block of memory in some axis
/// order: C and Fortran order, permuted and reversed axes (negative strides),
/// broadcast axes (stride 0), outer-axis ranges. A view that skips memory
/// between its elements fails with [`GatherError::InvalidViewOp`] (see the
/// [module docs](self) for why); copy it with `.as_standard_layout()` first.
///
/// The result borrows the array's data for the view's lifetime `'a`, not just
/// for the borrow of `a`.
///
/// ```
/// use ndarray::{array, s};
/// use fastgather::{gather, ndarray::view, TensorView};
///
/// let a = array![[1, 2, 3], [4, 5, 6]];
/// let flipped = a.slice(s![.., ..;-1]); // strides [3, -1]
/// let src = view(&flipped).unwrap();
/// assert_eq!(src.strides(), &[3, -1]);
/// assert_eq!(src.to_vec(), vec![3, 2, 1, 6, 5, 4]);
///
/// let idx = TensorView::new(&[0i64, 2], &[2, 1]).unwrap();
/// assert_eq!(gather(&src, 1, &idx).unwrap().as_slice(), &[3, 4]);
///
/// // Every other column skips memory: refused, and a copy works.
/// let gapped = a.slice(s![.., ..;2]);
/// assert!(view(&gapped).is_err());
/// let copy = gapped.as_standard_layout();
/// assert_eq!(view(&copy.view()).unwrap().to_vec(), vec![1, 3, 4, 6]);
/// ```
pub fn view<'a, T, D: Dimension>(
    a: &ArrayView<'a, T, D>,
) -> Result<TensorView<'a, T>, GatherError> {
    try_view(a)?.ok_or_else(|| gapped("ndarray::view", a.shape(), a.strides()))
}

/// A [`TensorViewMut`] over the same memory as an `ArrayViewMut`, with the same
/// shape and element strides, without copying.
///
/// The same layouts convert as for [`view`] (a writable view has no broadcast
/// axes); a view that skips memory between its elements fails with
/// [`GatherError::InvalidViewOp`].
///
/// ```
/// use ndarray::{array, s};
/// use fastgather::{gather_into, ndarray::view_mut, TensorView};
///
/// let src = TensorView::new(&[10, 20, 30], &[3]).unwrap();
/// let idx = TensorView::new(&[2i64, 1, 0], &[3]).unwrap();
/// let mut out = array![0, 0, 0];
/// // Write through a reversed view: out[2 - k] = src[idx[k]].
/// let mut dst = view_mut(out.slice_mut(s![..;-1])).unwrap();
/// gather_into(&src, 0, &idx, &mut dst).unwrap();
/// assert_eq!(out, array![10, 20, 30]);
/// ```
pub fn view_mut<'a, T, D: Dimension>(
    a: ArrayViewMut<'a, T, D>,
) -> Result<TensorViewMut<'a, T>, GatherError> {
    let (shape, strides) = (a.shape().to_vec(), a.strides().to_vec());
    try_view_mut(a)?.ok_or_else(|| gapped("ndarray::view_mut", &shape, &strides))
}

/// A read-only operand: a view of `a` itself if it converts without a copy,
/// else a view of a row-major copy kept in `copy`.
fn operand<'x, T, S, D>(
    a: &'x ArrayBase<S, D>,
    copy: &'x mut Vec<T>,
) -> Result<TensorView<'x, T>, GatherError>
where
    T: Copy,
    S: Data<Elem = T>,
    D: Dimension,
{
    if let Some(v) = try_view(&a.view())? {
        return Ok(v);
    }
    *copy = try_vec(a.len())?;
    copy.extend(a.iter().copied());
    TensorView::new(copy, a.shape())
}

/// An owned array of dimension type `D` from a row-major [`Tensor`].
fn to_array<T, D: Dimension>(t: Tensor<T>) -> Result<Array<T, D>, GatherError> {
    let shape = t.shape().to_vec();
    let reshape = |e: ::ndarray::ShapeError| GatherError::InvalidViewOp {
        op: "ndarray",
        reason: format!("a result of shape {shape:?} does not fit the array type: {e}"),
    };
    let a = ArrayD::from_shape_vec(IxDyn(&shape), t.into_vec()).map_err(reshape)?;
    a.into_dimensionality::<D>().map_err(reshape)
}

/// An owned, row-major `ArrayD` holding a [`Tensor`]'s elements, without copying.
///
/// ```
/// use fastgather::{gather, ndarray::into_array, TensorView};
/// let src = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[1i64, 0], &[1, 2]).unwrap();
/// let out = into_array(gather(&src, 0, &idx).unwrap());
/// assert_eq!(out, ndarray::arr2(&[[3, 2]]).into_dyn());
/// ```
pub fn into_array<T>(t: Tensor<T>) -> ArrayD<T> {
    let shape = t.shape().to_vec();
    ArrayD::from_shape_vec(IxDyn(&shape), t.into_vec())
        .expect("a Tensor's length is the product of its shape")
}

impl<T> From<Tensor<T>> for ArrayD<T> {
    /// As [`into_array`].
    ///
    /// ```
    /// use fastgather::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]).unwrap();
    /// let a = ndarray::ArrayD::from(t);
    /// assert_eq!(a.shape(), &[1, 2]);
    /// ```
    fn from(t: Tensor<T>) -> Self {
        into_array(t)
    }
}

/// [`crate::gather`] on arrays: `torch.gather(src, dim, index)`. The result has
/// the index's shape and dimension type.
///
/// `src` and `index` may be any `ArrayBase` of any layout; views that skip
/// memory between elements are copied first (see the [module docs](self)).
///
/// ```
/// use ndarray::{array, Array2};
/// use fastgather::ndarray::gather_array;
///
/// let probs = array![[0.1f32, 0.3, 0.6], [0.3, 0.2, 0.5]];
/// let labels = array![[0i64], [2]];
/// let picked: Array2<f32> = gather_array(&probs, 1, &labels).unwrap();
/// assert_eq!(picked, array![[0.1], [0.5]]);
/// ```
pub fn gather_array<T, I, S, SI, D, DI>(
    src: &ArrayBase<S, D>,
    dim: isize,
    index: &ArrayBase<SI, DI>,
) -> Result<Array<T, DI>, GatherError>
where
    T: Element,
    I: IndexElem,
    S: Data<Elem = T>,
    SI: Data<Elem = I>,
    D: Dimension,
    DI: Dimension,
{
    let (mut src_copy, mut idx_copy) = (Vec::new(), Vec::new());
    let s = operand(src, &mut src_copy)?;
    let i = operand(index, &mut idx_copy)?;
    to_array(crate::gather(&s, dim, &i)?)
}

/// [`crate::gather_into`] on arrays: writes the gather into `out`, which must
/// have the index's shape.
///
/// A writable `out` that skips memory between its elements is filled through a
/// row-major copy; on an error it is left as it was.
///
/// ```
/// use ndarray::{array, s, Array2};
/// use fastgather::ndarray::gather_into_array;
///
/// let src = array![[1, 2, 3], [4, 5, 6]];
/// let idx = array![[2i64, 0], [1, 1]];
/// let mut out = Array2::<i32>::zeros((2, 4));
/// // Into every other column of `out`.
/// gather_into_array(&src, 1, &idx, &mut out.slice_mut(s![.., ..;2])).unwrap();
/// assert_eq!(out, array![[3, 0, 1, 0], [5, 0, 5, 0]]);
/// ```
pub fn gather_into_array<T, I, S, SI, SO, D, DI, DO>(
    src: &ArrayBase<S, D>,
    dim: isize,
    index: &ArrayBase<SI, DI>,
    out: &mut ArrayBase<SO, DO>,
) -> Result<(), GatherError>
where
    T: Element,
    I: IndexElem,
    S: Data<Elem = T>,
    SI: Data<Elem = I>,
    SO: DataMut<Elem = T>,
    D: Dimension,
    DI: Dimension,
    DO: Dimension,
{
    let (mut src_copy, mut idx_copy) = (Vec::new(), Vec::new());
    let s = operand(src, &mut src_copy)?;
    let i = operand(index, &mut idx_copy)?;
    if let Some(mut o) = try_view_mut(out.view_mut())? {
        return crate::gather_into(&s, dim, &i, &mut o);
    }
    let mut staged = try_vec(out.len())?;
    staged.extend(out.iter().copied());
    let mut staged = Tensor::from_vec(staged, out.shape())?;
    crate::gather_into(&s, dim, &i, &mut staged.view_mut())?;
    for (o, &v) in out.iter_mut().zip(staged.as_slice()) {
        *o = v;
    }
    Ok(())
}

/// A row-major owned copy of `input`, with `f` applied through a writable view.
fn modified_copy<T, S, D>(
    input: &ArrayBase<S, D>,
    f: impl FnOnce(&mut TensorViewMut<'_, T>) -> Result<(), GatherError>,
) -> Result<Array<T, D>, GatherError>
where
    T: Element,
    S: Data<Elem = T>,
    D: Dimension,
{
    // A row-major copy in a fallibly allocated buffer: `input` may be a
    // broadcast view of far more elements than memory holds.
    let mut data = try_vec(input.len())?;
    data.extend(input.iter().copied());
    let mut out =
        Array::from_shape_vec(input.raw_dim(), data).map_err(|e| GatherError::InvalidViewOp {
            op: "ndarray",
            reason: format!("a copy of shape {:?} does not fit: {e}", input.shape()),
        })?;
    let shape = out.shape().to_vec();
    let strides = out.strides().to_vec();
    let mut dest =
        try_view_mut(out.view_mut())?.ok_or_else(|| gapped("ndarray", &shape, &strides))?;
    f(&mut dest)?;
    Ok(out)
}

/// [`crate::scatter`] on arrays: `input.scatter(dim, index, src)`, a new array
/// of `input`'s shape with `out[p with p[dim] = index[p]] = src[p]` for every
/// index position `p` (the last write wins where positions collide).
///
/// ```
/// use ndarray::{array, Array2};
/// use fastgather::ndarray::scatter_array;
///
/// let zeros = Array2::<i32>::zeros((2, 3));
/// let idx = array![[2i64], [0]];
/// let vals = array![[7], [9]];
/// let out = scatter_array(&zeros, 1, &idx, &vals).unwrap();
/// assert_eq!(out, array![[0, 0, 7], [9, 0, 0]]);
/// ```
pub fn scatter_array<T, I, S, SI, SS, D, DI, DS>(
    input: &ArrayBase<S, D>,
    dim: isize,
    index: &ArrayBase<SI, DI>,
    src: &ArrayBase<SS, DS>,
) -> Result<Array<T, D>, GatherError>
where
    T: Element,
    I: IndexElem,
    S: Data<Elem = T>,
    SI: Data<Elem = I>,
    SS: Data<Elem = T>,
    D: Dimension,
    DI: Dimension,
    DS: Dimension,
{
    let (mut idx_copy, mut src_copy) = (Vec::new(), Vec::new());
    let i = operand(index, &mut idx_copy)?;
    let s = operand(src, &mut src_copy)?;
    modified_copy(input, |dest| crate::scatter_into(dest, dim, &i, &s))
}

/// [`crate::scatter_add`] on arrays: `input.scatter_add(dim, index, src)`, a new
/// array of `input`'s shape with `src[p]` added at `p with p[dim] = index[p]`;
/// duplicates accumulate, in row-major order of the index.
///
/// ```
/// use ndarray::{array, Array1};
/// use fastgather::ndarray::scatter_add_array;
///
/// let grad = Array1::<f32>::zeros(3);
/// let idx = array![0i64, 2, 0];
/// let upstream = array![1.0f32, 2.0, 3.0];
/// let out = scatter_add_array(&grad, 0, &idx, &upstream).unwrap();
/// assert_eq!(out, array![4.0, 0.0, 2.0]);
/// ```
pub fn scatter_add_array<T, I, S, SI, SS, D, DI, DS>(
    input: &ArrayBase<S, D>,
    dim: isize,
    index: &ArrayBase<SI, DI>,
    src: &ArrayBase<SS, DS>,
) -> Result<Array<T, D>, GatherError>
where
    T: Accumulate,
    I: IndexElem,
    S: Data<Elem = T>,
    SI: Data<Elem = I>,
    SS: Data<Elem = T>,
    D: Dimension,
    DI: Dimension,
    DS: Dimension,
{
    let (mut idx_copy, mut src_copy) = (Vec::new(), Vec::new());
    let i = operand(index, &mut idx_copy)?;
    let s = operand(src, &mut src_copy)?;
    modified_copy(input, |dest| crate::scatter_add_into(dest, dim, &i, &s))
}

/// [`crate::index_select`] on arrays: `src.index_select(dim, index)`, the slices
/// of `src` along `dim` that the 1-d (or 0-d) `index` names, in its order.
///
/// The result has `src`'s dimension type. (A 0-d `src` gives a 1-d result, which
/// only an `IxDyn` source can hold; with `Ix0` that is an
/// [`GatherError::InvalidViewOp`].)
///
/// ```
/// use ndarray::array;
/// use fastgather::ndarray::index_select_array;
///
/// let x = array![[1, 2], [3, 4], [5, 6]];
/// let rows = index_select_array(&x, 0, &array![2i64, 0]).unwrap();
/// assert_eq!(rows, array![[5, 6], [1, 2]]);
/// ```
pub fn index_select_array<T, I, S, SI, D, DI>(
    src: &ArrayBase<S, D>,
    dim: isize,
    index: &ArrayBase<SI, DI>,
) -> Result<Array<T, D>, GatherError>
where
    T: Element,
    I: IndexElem,
    S: Data<Elem = T>,
    SI: Data<Elem = I>,
    D: Dimension,
    DI: Dimension,
{
    let (mut src_copy, mut idx_copy) = (Vec::new(), Vec::new());
    let s = operand(src, &mut src_copy)?;
    let i = operand(index, &mut idx_copy)?;
    to_array(crate::index_select(&s, dim, &i)?)
}

/// [`crate::take_along_axis`] on arrays: numpy's `take_along_axis(arr, indices,
/// axis)`, with broadcasting of the other axes and negative indices counting
/// from the end. The result has `arr`'s dimension type.
///
/// ```
/// use ndarray::array;
/// use fastgather::ndarray::take_along_axis_array;
///
/// let arr = array![[10, 30, 20], [60, 50, 40]];
/// // Each row's largest value, by its position.
/// let argmax = array![[1i64], [0]];
/// let out = take_along_axis_array(&arr, &argmax, 1).unwrap();
/// assert_eq!(out, array![[30], [60]]);
/// ```
pub fn take_along_axis_array<T, I, S, SI, D, DI>(
    arr: &ArrayBase<S, D>,
    indices: &ArrayBase<SI, DI>,
    axis: isize,
) -> Result<Array<T, D>, GatherError>
where
    T: Element,
    I: IndexElem,
    S: Data<Elem = T>,
    SI: Data<Elem = I>,
    D: Dimension,
    DI: Dimension,
{
    let (mut arr_copy, mut idx_copy) = (Vec::new(), Vec::new());
    let a = operand(arr, &mut arr_copy)?;
    let i = operand(indices, &mut idx_copy)?;
    to_array(crate::take_along_axis(&a, &i, axis)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::ndarray::{arr0, array, s, Array3, ArrayView2};

    #[test]
    fn offsets_of_reversed_axes() {
        assert_eq!(offset_of_origin(&[2, 3], &[3, -1]), 2);
        assert_eq!(offset_of_origin(&[2, 3], &[-3, -1]), 5);
        assert_eq!(offset_of_origin(&[1, 3], &[-7, 1]), 0);
    }

    #[test]
    fn every_dense_layout_converts_without_copy() {
        let a = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as i32);
        let base = a.as_ptr();
        let layouts: Vec<ArrayView<'_, i32, _>> = vec![
            a.view(),
            a.view().reversed_axes(),
            a.view().permuted_axes([1, 2, 0]),
            a.slice(s![..;-1, .., ..;-1]),
            a.slice(s![1..2, .., ..]),
            a.slice(s![.., ..;-1, ..]).permuted_axes([2, 0, 1]),
        ];
        for v in layouts {
            let t = view(&v).unwrap();
            assert_eq!(t.shape(), v.shape());
            assert_eq!(t.strides(), v.strides());
            assert_eq!(t.to_vec(), v.iter().copied().collect::<Vec<_>>());
            // The same memory: the element at the origin is where ndarray says.
            let origin = t.get(&vec![0; t.rank()]).unwrap() as *const i32;
            assert_eq!(origin, v.as_ptr());
            assert!(t.data().as_ptr() >= base);
        }
    }

    #[test]
    fn broadcast_views_keep_stride_zero() {
        let row = array![1, 2, 3];
        let b: ArrayView2<'_, i32> = row.broadcast((4, 3)).unwrap();
        let t = view(&b).unwrap();
        assert_eq!(t.strides(), &[0, 1]);
        assert_eq!(t.data().len(), 3);
        assert_eq!(t.to_vec(), b.iter().copied().collect::<Vec<_>>());
    }

    #[test]
    fn gapped_views_are_refused_but_arrays_copy() {
        let a = Array3::from_shape_fn((3, 4, 5), |(i, j, k)| (i * 20 + j * 5 + k) as u16);
        let g = a.slice(s![.., 1..3, ..;2]);
        assert!(matches!(
            view(&g),
            Err(GatherError::InvalidViewOp {
                op: "ndarray::view",
                ..
            })
        ));
        let idx = array![[[1i64, 0, 2], [2, 2, 0]]];
        let out = gather_array(&g, 2, &idx).unwrap();
        let want = gather_array(&g.to_owned(), 2, &idx).unwrap();
        assert_eq!(out, want);
    }

    #[test]
    fn empty_arrays() {
        let a = Array3::<f64>::zeros((2, 0, 3));
        let t = view(&a.view()).unwrap();
        assert!(t.is_empty());
        let mut b = Array3::<f64>::zeros((0, 2, 2));
        assert!(view_mut(b.view_mut()).unwrap().is_empty());
        let idx = Array3::<i64>::zeros((2, 0, 3));
        assert_eq!(gather_array(&a, 1, &idx).unwrap().shape(), &[2, 0, 3]);
    }

    #[test]
    fn zero_d_arrays() {
        let a = arr0(5u8);
        let t = view(&a.view()).unwrap();
        assert_eq!(t.rank(), 0);
        assert_eq!(t.to_vec(), vec![5]);
        let i = arr0(0i64);
        assert_eq!(gather_array(&a, 0, &i).unwrap(), arr0(5u8));
        // A 0-d source selects into a 1-d result: fine as IxDyn, not as Ix0.
        let one = array![0i64];
        let dynamic = index_select_array(&a.clone().into_dyn(), 0, &one).unwrap();
        assert_eq!(dynamic.shape(), &[1]);
        assert!(index_select_array(&a, 0, &one).is_err());
    }
}
