//! [`ndarray`](https://docs.rs/ndarray) interop (feature `ndarray`, for ndarray 0.17).
//!
//! Two levels:
//!
//! - **Methods on arrays**: [`GatherExt`] gives every ndarray array (owned
//!   `Array`, `ArcArray`, `CowArray`, `ArrayView`, `ArrayViewMut`: whatever
//!   dereferences to ndarray's `ArrayRef`) the methods `gather`, `gather_into`,
//!   `scatter`, `scatter_into`, `scatter_add`, `scatter_add_into`,
//!   `index_select` and `take_along_axis`, with `_with` forms taking
//!   [`GatherOptions`]. Operands are read in place, results are owned `Array`s,
//!   and `*_into` methods write into any array with writable data.
//! - **Views**: [`view`] and [`view_mut`] turn an array into a [`TensorView`] /
//!   [`TensorViewMut`] over the same memory, keeping its shape and element
//!   strides; every fastgather function then takes them. [`into_array`] turns a
//!   [`Tensor`] into an `ArrayD` without copying.
//!
//! The trait is also exported as `fastgather::GatherExt`, so `use fastgather::*;`
//! brings the methods in, and leaves the name `ndarray` to the ndarray crate:
//!
//! ```
//! use fastgather::*;
//! use ndarray::{array, Array2, Axis};
//!
//! // torch.gather(src, 1, index) on a transposed (Fortran-order) array.
//! let src: Array2<f32> = array![[1., 4.], [2., 5.], [3., 6.]].reversed_axes();
//! let index = array![[2i64, 0], [1, 1]];
//! let out: Array2<f32> = src.gather(1, &index)?;
//! assert_eq!(out, array![[3., 1.], [5., 5.]]);
//! // Dims are any integer (negative from the end) or an `Axis`.
//! assert_eq!(src.gather(-1, &index)?, out);
//! assert_eq!(src.gather(Axis(1), &index)?, out);
//! # Ok::<(), GatherError>(())
//! ```
//!
//! # Which arrays are read and written in place
//!
//! A [`TensorView`] borrows one slice that covers every element it addresses,
//! so fastgather can use an array in place exactly when its elements fill a
//! block of memory in *some* axis order:
//!
//! - C order and Fortran order, and any permutation of axes (`.t()`,
//!   `.permuted_axes(..)`);
//! - reversed axes (`.slice(s![..;-1, ..])`, `.invert_axis(..)`): negative strides;
//! - broadcast axes (`.broadcast(..)`, `.insert_axis(..)`): stride 0;
//! - a range of the outermost axis (`.slice(s![2..5, ..])` of a C-order array).
//!
//! An array that skips memory between its elements (`s![.., ..;2]`, a column
//! range of a C-order array) is *gapped*: a slice over the gaps would claim
//! elements that another view, perhaps on another thread, may be writing
//! (ndarray's `multi_slice_mut` and `axis_iter_mut` hand out such interleaved
//! views). fastgather never copies one behind your back: a gapped operand or
//! output is a [`GatherError::InvalidViewOp`] naming the operand. Copying is
//! one explicit call:
//!
//! - [`GatherExt::copy_if_gapped`] (or the function [`copy_if_gapped`]) borrows
//!   an array that can be used in place and copies a gapped one into C order;
//!   the `CowArray` it returns says which happened (`is_view()`);
//! - for an output, gather into a new array and `assign` it.
//!
//! ```
//! use fastgather::{GatherError, GatherExt};
//! use ndarray::{array, s};
//!
//! let a = array![[1, 2, 3, 4], [5, 6, 7, 8]];
//! let idx = array![[1i64], [0]];
//! let every_other = a.slice(s![.., ..;2]); // [[1, 3], [5, 7]], strides [4, 2]
//! assert!(matches!(
//!     every_other.gather(1, &idx),
//!     Err(GatherError::InvalidViewOp { op: "gather", .. })
//! ));
//! let dense = every_other.copy_if_gapped()?;
//! assert!(dense.is_owned()); // a copy was made
//! assert_eq!(dense.gather(1, &idx)?, array![[3], [5]]);
//! // A reversed view needs no copy.
//! assert!(a.slice(s![.., ..;-1]).copy_if_gapped()?.is_view());
//! # Ok::<(), GatherError>(())
//! ```
//!
//! This module has no `unsafe` code: the slices come from ndarray's own
//! `to_slice_memory_order` / `into_slice_memory_order`.

use ndarray::{
    Array, ArrayD, ArrayRef, ArrayView, ArrayViewMut, AsArray, Axis, CowArray, Dimension, IxDyn,
};

use crate::alloc::try_vec;
use crate::dim::Dim;
use crate::element::{Accumulate, Element};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::options::GatherOptions;
use crate::view::{Tensor, TensorView, TensorViewMut};

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

/// The error for a gapped array: `op` is the call, `what` the operand, `fix`
/// the explicit way around it.
fn gapped(
    op: &'static str,
    what: &str,
    shape: &[usize],
    strides: &[isize],
    fix: &str,
) -> GatherError {
    GatherError::InvalidViewOp {
        op,
        reason: format!(
            "{what} (shape {shape:?}, strides {strides:?}) skips memory between its elements, \
             so it cannot be used without a copy, and fastgather makes none implicitly; {fix}"
        ),
    }
}

/// How to get past a gapped input.
const COPY_INPUT: &str =
    "copy it explicitly with `.copy_if_gapped()?` (or ndarray's `.as_standard_layout()`)";
/// How to get past a gapped output.
const COPY_OUTPUT: &str =
    "write into a C-order array instead (e.g. the non-`_into` method) and `.assign(..)` it";

/// A [`TensorView`] over the same memory as an array, with the same shape and
/// element strides, without copying.
///
/// Takes whatever ndarray's `AsArray` takes: `&array` for any array type, or a
/// view by value (`a.slice(s![..])`), whose result then borrows the data for
/// the view's lifetime.
///
/// Works for every layout whose elements fill a block of memory in some axis
/// order: C and Fortran order, permuted and reversed axes (negative strides),
/// broadcast axes (stride 0), outer-axis ranges. A gapped array fails with
/// [`GatherError::InvalidViewOp`] (see the [module docs](self) for why).
///
/// ```
/// use ndarray::{array, s};
/// use fastgather::{gather, nd::view, TensorView};
///
/// let a = array![[1, 2, 3], [4, 5, 6]];
/// let src = view(a.slice(s![.., ..;-1])).unwrap(); // strides [3, -1]
/// assert_eq!(src.strides(), &[3, -1]);
/// assert_eq!(src.to_vec(), vec![3, 2, 1, 6, 5, 4]);
///
/// let idx = TensorView::new(&[0i64, 2], &[2, 1]).unwrap();
/// assert_eq!(gather(&src, 1, &idx).unwrap().as_slice(), &[3, 4]);
///
/// // Every other column skips memory: refused.
/// assert!(view(a.slice(s![.., ..;2])).is_err());
/// // An owned array by reference.
/// assert_eq!(view(&a).unwrap().shape(), &[2, 3]);
/// ```
pub fn view<'a, T: 'a, D: Dimension>(
    a: impl AsArray<'a, T, D>,
) -> Result<TensorView<'a, T>, GatherError> {
    let a: ArrayView<'a, T, D> = a.into();
    try_view(&a)?.ok_or_else(|| gapped("nd::view", "the array", a.shape(), a.strides(), COPY_INPUT))
}

/// A [`TensorViewMut`] over the same memory as a writable array, with the same
/// shape and element strides, without copying.
///
/// Takes `&mut array` for any array type with writable data, or an
/// `ArrayViewMut` by value. The same layouts convert as for [`view`] (a
/// writable array has no broadcast axes); a gapped array fails with
/// [`GatherError::InvalidViewOp`].
///
/// ```
/// use ndarray::{array, s};
/// use fastgather::{gather_into, nd::view_mut, TensorView};
///
/// let src = TensorView::new(&[10, 20, 30], &[3]).unwrap();
/// let idx = TensorView::new(&[2i64, 1, 0], &[3]).unwrap();
/// let mut out = array![0, 0, 0];
/// // Write through a reversed view: out[2 - k] = src[idx[k]].
/// let mut dst = view_mut(out.slice_mut(s![..;-1])).unwrap();
/// gather_into(&src, 0, &idx, &mut dst).unwrap();
/// assert_eq!(out, array![10, 20, 30]);
/// ```
pub fn view_mut<'a, T: 'a, D: Dimension>(
    a: impl Into<ArrayViewMut<'a, T, D>>,
) -> Result<TensorViewMut<'a, T>, GatherError> {
    let a: ArrayViewMut<'a, T, D> = a.into();
    let (shape, strides) = (a.shape().to_vec(), a.strides().to_vec());
    try_view_mut(a)?
        .ok_or_else(|| gapped("nd::view_mut", "the array", &shape, &strides, COPY_OUTPUT))
}

/// An owned, row-major `ArrayD` holding a [`Tensor`]'s elements, without copying.
///
/// ```
/// use fastgather::{gather, nd::into_array, TensorView};
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

/// An array as fastgather can read it in place: borrowed if it is not gapped,
/// else copied into C order; [`GatherExt::copy_if_gapped`] as a function.
///
/// Takes what [`view`] takes, so a view passed by value (`a.slice(..)`) gives a
/// `CowArray` that borrows the data, not the temporary view.
///
/// ```
/// use fastgather::{nd::copy_if_gapped, GatherExt};
/// use ndarray::{array, s};
/// let a = array![[1, 2, 3, 4], [5, 6, 7, 8]];
/// let odd_columns = copy_if_gapped(a.slice(s![.., 1..;2]))?;
/// assert!(odd_columns.is_owned());
/// assert_eq!(odd_columns.gather(1, &array![[1i64], [0]])?, array![[4], [6]]);
/// assert!(copy_if_gapped(a.slice(s![..;-1, ..]))?.is_view());
/// # Ok::<(), fastgather::GatherError>(())
/// ```
pub fn copy_if_gapped<'a, T: Clone + 'a, D: Dimension>(
    a: impl AsArray<'a, T, D>,
) -> Result<CowArray<'a, T, D>, GatherError> {
    let v: ArrayView<'a, T, D> = a.into();
    if try_view(&v)?.is_some() {
        return Ok(CowArray::from(v));
    }
    c_order_copy(&v).map(CowArray::from)
}

/// An operand read in place: `what` names it in the error if it is gapped.
fn operand<'x, T, D: Dimension>(
    op: &'static str,
    what: &str,
    a: &'x ArrayRef<T, D>,
) -> Result<TensorView<'x, T>, GatherError> {
    let v = a.view();
    try_view(&v)?.ok_or_else(|| gapped(op, what, v.shape(), v.strides(), COPY_INPUT))
}

/// An array written in place.
fn output<'x, T, D: Dimension>(
    op: &'static str,
    what: &str,
    a: &'x mut ArrayRef<T, D>,
) -> Result<TensorViewMut<'x, T>, GatherError> {
    let (shape, strides) = (a.shape().to_vec(), a.strides().to_vec());
    try_view_mut(a.view_mut())?.ok_or_else(|| gapped(op, what, &shape, &strides, COPY_OUTPUT))
}

/// An owned array of dimension type `D` from a row-major [`Tensor`].
fn to_array<T, D: Dimension>(t: Tensor<T>) -> Result<Array<T, D>, GatherError> {
    let shape = t.shape().to_vec();
    let reshape = |e: ndarray::ShapeError| GatherError::InvalidViewOp {
        op: "nd",
        reason: format!("a result of shape {shape:?} does not fit the array type: {e}"),
    };
    let a = ArrayD::from_shape_vec(IxDyn(&shape), t.into_vec()).map_err(reshape)?;
    a.into_dimensionality::<D>().map_err(reshape)
}

/// A C-order copy of `a` in a fallibly allocated buffer: `a` may be a
/// broadcast view of far more elements than memory holds.
fn c_order_copy<T: Clone, D: Dimension>(a: &ArrayRef<T, D>) -> Result<Array<T, D>, GatherError> {
    let mut data = try_vec(a.len())?;
    data.extend(a.iter().cloned());
    Array::from_shape_vec(a.raw_dim(), data).map_err(|e| GatherError::InvalidViewOp {
        op: "nd",
        reason: format!("a copy of shape {:?} does not fit: {e}", a.shape()),
    })
}

/// A C-order copy of `input` with `f` applied to it in place: the
/// non-in-place scatters.
fn modified_copy<T: Element, D: Dimension>(
    op: &'static str,
    input: &ArrayRef<T, D>,
    f: impl FnOnce(&mut TensorViewMut<'_, T>) -> Result<(), GatherError>,
) -> Result<Array<T, D>, GatherError> {
    let mut out = c_order_copy(input)?;
    f(&mut output(op, "the copy", &mut out)?)?;
    Ok(out)
}

mod sealed {
    pub trait Sealed {}
}
impl<T, D> sealed::Sealed for ndarray::ArrayRef<T, D> {}

/// fastgather's operations as methods of ndarray arrays: `src.gather(dim,
/// &index)` is `torch.gather(src, dim, index)`.
///
/// Implemented for ndarray's `ArrayRef`, which every array with readable data
/// dereferences to (owned `Array`, `ArcArray`, `CowArray`, `ArrayView`,
/// `ArrayViewMut`), so the methods work on all of them, and array arguments
/// (`&index`, `&src`, `&mut out`) may be any of them too. In-place methods
/// (`*_into`) need writable data (`&mut out` of an `ArcArray` un-shares it
/// first, as ndarray's own in-place methods do).
///
/// - Dims are [`Dim`]s: any integer, negative counting from the end, or an
///   `ndarray::Axis`.
/// - Operands are read and written in place, whatever their layout (permuted,
///   reversed, broadcast) unless gapped, which is an error naming the operand:
///   see the [module docs](self) and [`copy_if_gapped`](Self::copy_if_gapped).
/// - Results are owned C-order `Array`s. `gather` returns the index's
///   dimension type; the others return the source's (`Array<T, D>`).
/// - Errors are the same [`GatherError`]s as the [`TensorView`] functions'
///   (after the gapped-operand check); bad input never panics. As there, an
///   `*_into` method's output may be partly written only on an out-of-range
///   index value, and is untouched on any other error.
///
/// Sealed: implemented only for `ArrayRef`.
///
/// ```
/// use fastgather::{GatherError, GatherExt, GatherOptions, IndexMode};
/// use ndarray::{array, s, Array2, Axis};
///
/// let probs = array![[0.1f32, 0.3, 0.6], [0.3, 0.2, 0.5]];
/// let labels = array![0i64, 2].insert_axis(Axis(1)); // [2, 1]
/// let picked: Array2<f32> = probs.gather(1, &labels)?;
/// assert_eq!(picked, array![[0.1], [0.5]]);
///
/// // The gradient: scatter_add into zeros.
/// let grad = Array2::<f32>::zeros((2, 3)).scatter_add(1, &labels, &picked)?;
/// assert_eq!(grad, array![[0.1, 0.0, 0.0], [0.0, 0.0, 0.5]]);
///
/// // Options: JAX's clamp mode, written into a reversed view of `out`.
/// let mut out = Array2::<f32>::zeros((2, 1));
/// let wild = array![[-5i64], [99]];
/// let clamp = GatherOptions::new().mode(IndexMode::Clamp);
/// probs.gather_into_with(-1, &wild, &mut out.slice_mut(s![..;-1, ..]), &clamp)?;
/// assert_eq!(out, array![[0.5], [0.1]]);
/// # Ok::<(), GatherError>(())
/// ```
pub trait GatherExt<T, D: Dimension>: sealed::Sealed {
    /// `torch.gather(self, dim, index)`: `out[p] = self[p with p[dim] = index[p]]`,
    /// with the index's shape and dimension type. See [`crate::gather`](fn@crate::gather).
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::array;
    /// let x = array![[1, 2, 3], [4, 5, 6]];
    /// // Transposed index, read in place.
    /// let idx = array![[2i64, 0], [1, 1]];
    /// assert_eq!(x.gather(1, &idx.t()).unwrap(), array![[3, 2], [4, 5]]);
    /// ```
    fn gather<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
    ) -> Result<Array<T, DI>, GatherError>
    where
        T: Element;

    /// [`gather`](Self::gather) with [`GatherOptions`] (index mode, threads,
    /// kernel path). See [`crate::gather_with`].
    fn gather_with<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        options: &GatherOptions,
    ) -> Result<Array<T, DI>, GatherError>
    where
        T: Element;

    /// `torch.gather(self, dim, index, out=out)`: writes the gather into `out`,
    /// which must have the index's shape (any dimension type, any layout that is
    /// not gapped). See [`crate::gather_into`].
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::{array, Array2};
    /// let src = array![[1, 2, 3], [4, 5, 6]];
    /// let mut out = Array2::<i32>::zeros((2, 2));
    /// src.gather_into(1, &array![[2i64, 0], [1, 1]], &mut out).unwrap();
    /// assert_eq!(out, array![[3, 1], [5, 5]]);
    /// ```
    fn gather_into<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// [`gather_into`](Self::gather_into) with [`GatherOptions`]. See
    /// [`crate::gather_into_with`].
    fn gather_into_with<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// `self.scatter(dim, index, src)`: a new array of `self`'s shape with
    /// `out[p with p[dim] = index[p]] = src[p]` for every index position `p`
    /// (the last write wins where positions collide). `self` may be gapped:
    /// the result is a copy of it anyway. See [`crate::scatter`](fn@crate::scatter).
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::{array, Array2};
    /// let zeros = Array2::<i32>::zeros((2, 3));
    /// let out = zeros.scatter(1, &array![[2i64], [0]], &array![[7], [9]]).unwrap();
    /// assert_eq!(out, array![[0, 0, 7], [9, 0, 0]]);
    /// ```
    fn scatter<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element;

    /// [`scatter`](Self::scatter) with [`GatherOptions`].
    fn scatter_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element;

    /// torch's in-place `self.scatter_(dim, index, src)`. See [`crate::scatter_into`].
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::array;
    /// let mut x = array![[0, 0, 0], [0, 0, 0]];
    /// x.scatter_into(-1, &array![[2i64], [0]], &array![[7], [9]]).unwrap();
    /// assert_eq!(x, array![[0, 0, 7], [9, 0, 0]]);
    /// ```
    fn scatter_into<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// [`scatter_into`](Self::scatter_into) with [`GatherOptions`]. See
    /// [`crate::scatter_into_with`].
    fn scatter_into_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// `self.scatter_add(dim, index, src)`: a new array of `self`'s shape with
    /// `src[p]` added at `p with p[dim] = index[p]`; duplicates accumulate, in
    /// row-major order of the index. See [`crate::scatter_add`].
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::{array, Array1};
    /// let grad = Array1::<f32>::zeros(3);
    /// let out = grad.scatter_add(0, &array![0i64, 2, 0], &array![1.0, 2.0, 3.0]).unwrap();
    /// assert_eq!(out, array![4.0, 0.0, 2.0]);
    /// ```
    fn scatter_add<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Accumulate;

    /// [`scatter_add`](Self::scatter_add) with [`GatherOptions`].
    fn scatter_add_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Accumulate;

    /// torch's in-place `self.scatter_add_(dim, index, src)`. See
    /// [`crate::scatter_add_into`].
    fn scatter_add_into<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<(), GatherError>
    where
        T: Accumulate;

    /// [`scatter_add_into`](Self::scatter_add_into) with [`GatherOptions`]. See
    /// [`crate::scatter_add_into_with`].
    fn scatter_add_into_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Accumulate;

    /// `self.index_select(dim, index)`: the slices of `self` along `dim` that
    /// the 1-d (or 0-d) `index` names, in its order. See [`crate::index_select`](fn@crate::index_select).
    ///
    /// The result has `self`'s dimension type. (A 0-d `self` gives a 1-d result,
    /// and an index of rank 2 or more (numpy's `take`, an embedding lookup)
    /// adds axes: only an `IxDyn` array (`.into_dyn()`) holds those, and with a
    /// fixed dimension type they are a [`GatherError::InvalidViewOp`].)
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::array;
    /// let x = array![[1, 2], [3, 4], [5, 6]];
    /// assert_eq!(x.index_select(0, &array![2i64, 0]).unwrap(), array![[5, 6], [1, 2]]);
    /// ```
    fn index_select<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element;

    /// numpy's `take_along_axis(self, indices, axis)`, with broadcasting of the
    /// other axes and negative indices counting from the end. The result has
    /// `self`'s dimension type. See [`crate::take_along_axis`].
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::array;
    /// let arr = array![[10, 30, 20], [60, 50, 40]];
    /// let argmax = array![[1i64], [0]];
    /// assert_eq!(arr.take_along_axis(&argmax, 1).unwrap(), array![[30], [60]]);
    /// ```
    fn take_along_axis<I: IndexElem, DI: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element;

    /// [`index_select`](Self::index_select) with [`GatherOptions`]. See
    /// [`crate::index_select_with`].
    fn index_select_with<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element;

    /// [`index_select`](Self::index_select) into `out`, which must have the
    /// result's shape (any dimension type, any layout that is not gapped). See
    /// [`crate::index_select_into`].
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::{array, Array3};
    /// // An embedding lookup into a reused buffer: [2, 2] ids from a [3, 2] table.
    /// let table = array![[0.0f32, 0.5], [1.0, 1.5], [2.0, 2.5]];
    /// let mut rows = Array3::<f32>::zeros((2, 2, 2));
    /// table.index_select_into(0, &array![[2i64, 0], [1, 1]], &mut rows).unwrap();
    /// assert_eq!(rows, array![[[2.0, 2.5], [0.0, 0.5]], [[1.0, 1.5], [1.0, 1.5]]]);
    /// ```
    fn index_select_into<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// [`index_select_into`](Self::index_select_into) with [`GatherOptions`].
    /// See [`crate::index_select_into_with`].
    fn index_select_into_with<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// [`take_along_axis`](Self::take_along_axis) with [`GatherOptions`] (a
    /// mode given there replaces numpy's wrapping). See
    /// [`crate::take_along_axis_with`].
    fn take_along_axis_with<I: IndexElem, DI: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element;

    /// [`take_along_axis`](Self::take_along_axis) into `out`, which must have
    /// the broadcast result's shape. See [`crate::take_along_axis_into`].
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::{array, Array2};
    /// let arr = array![[10, 30, 20], [60, 50, 40]];
    /// let mut best = Array2::<i32>::zeros((2, 1));
    /// arr.take_along_axis_into(&array![[1i64], [-3]], 1, &mut best).unwrap();
    /// assert_eq!(best, array![[30], [60]]);
    /// ```
    fn take_along_axis_into<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
        out: &mut ArrayRef<T, DO>,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// [`take_along_axis_into`](Self::take_along_axis_into) with
    /// [`GatherOptions`]. See [`crate::take_along_axis_into_with`].
    fn take_along_axis_into_with<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
        out: &mut ArrayRef<T, DO>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element;

    /// `self` as an array fastgather can read in place: borrowed if it is not
    /// gapped, else copied into C order. The explicit opt-in to copying (see the
    /// [module docs](self)); `is_view()` / `is_owned()` on the result says which
    /// happened. The copy is allocated fallibly
    /// ([`GatherError::AllocationFailed`]).
    ///
    /// ```
    /// use fastgather::GatherExt;
    /// use ndarray::{array, s};
    /// let a = array![[1, 2, 3], [4, 5, 6]];
    /// assert!(a.t().copy_if_gapped().unwrap().is_view());
    /// let cols = a.slice(s![.., 1..]);
    /// let copy = cols.copy_if_gapped().unwrap();
    /// assert!(copy.is_owned());
    /// assert_eq!(copy.gather(0, &array![[1i64, 0]]).unwrap(), array![[5, 3]]);
    /// ```
    ///
    /// The result borrows `self`; for a temporary view (`a.slice(..)`), the
    /// free function [`copy_if_gapped`](fn@copy_if_gapped) takes the view by
    /// value and borrows the data instead.
    fn copy_if_gapped(&self) -> Result<CowArray<'_, T, D>, GatherError>
    where
        T: Clone;
}

impl<T, D: Dimension> GatherExt<T, D> for ArrayRef<T, D> {
    fn gather<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
    ) -> Result<Array<T, DI>, GatherError>
    where
        T: Element,
    {
        self.gather_with(dim, index, &GatherOptions::default())
    }

    fn gather_with<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        options: &GatherOptions,
    ) -> Result<Array<T, DI>, GatherError>
    where
        T: Element,
    {
        const OP: &str = "gather";
        let (src, index) = (operand(OP, "`self`", self)?, operand(OP, "`index`", index)?);
        to_array(crate::gather_with(&src, dim, &index, options)?)
    }

    fn gather_into<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        self.gather_into_with(dim, index, out, &GatherOptions::default())
    }

    fn gather_into_with<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        const OP: &str = "gather_into";
        let (src, index) = (operand(OP, "`self`", self)?, operand(OP, "`index`", index)?);
        crate::gather_into_with(&src, dim, &index, &mut output(OP, "`out`", out)?, options)
    }

    fn scatter<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element,
    {
        self.scatter_with(dim, index, src, &GatherOptions::default())
    }

    fn scatter_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element,
    {
        const OP: &str = "scatter";
        let (index, src) = (operand(OP, "`index`", index)?, operand(OP, "`src`", src)?);
        modified_copy(OP, self, |dest| {
            crate::scatter_into_with(dest, dim, &index, &src, options)
        })
    }

    fn scatter_into<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        self.scatter_into_with(dim, index, src, &GatherOptions::default())
    }

    fn scatter_into_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        const OP: &str = "scatter_into";
        let (index, src) = (operand(OP, "`index`", index)?, operand(OP, "`src`", src)?);
        crate::scatter_into_with(&mut output(OP, "`self`", self)?, dim, &index, &src, options)
    }

    fn scatter_add<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Accumulate,
    {
        self.scatter_add_with(dim, index, src, &GatherOptions::default())
    }

    fn scatter_add_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Accumulate,
    {
        const OP: &str = "scatter_add";
        let (index, src) = (operand(OP, "`index`", index)?, operand(OP, "`src`", src)?);
        modified_copy(OP, self, |dest| {
            crate::scatter_add_into_with(dest, dim, &index, &src, options)
        })
    }

    fn scatter_add_into<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
    ) -> Result<(), GatherError>
    where
        T: Accumulate,
    {
        self.scatter_add_into_with(dim, index, src, &GatherOptions::default())
    }

    fn scatter_add_into_with<I: IndexElem, DI: Dimension, DS: Dimension>(
        &mut self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        src: &ArrayRef<T, DS>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Accumulate,
    {
        const OP: &str = "scatter_add_into";
        let (index, src) = (operand(OP, "`index`", index)?, operand(OP, "`src`", src)?);
        let mut dest = output(OP, "`self`", self)?;
        crate::scatter_add_into_with(&mut dest, dim, &index, &src, options)
    }

    fn index_select<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element,
    {
        self.index_select_with(dim, index, &GatherOptions::default())
    }

    fn index_select_with<I: IndexElem, DI: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element,
    {
        const OP: &str = "index_select";
        let (src, index) = (operand(OP, "`self`", self)?, operand(OP, "`index`", index)?);
        to_array(crate::index_select_with(&src, dim, &index, options)?)
    }

    fn index_select_into<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        self.index_select_into_with(dim, index, out, &GatherOptions::default())
    }

    fn index_select_into_with<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        dim: impl Dim,
        index: &ArrayRef<I, DI>,
        out: &mut ArrayRef<T, DO>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        const OP: &str = "index_select_into";
        let (src, index) = (operand(OP, "`self`", self)?, operand(OP, "`index`", index)?);
        let mut out = output(OP, "`out`", out)?;
        crate::index_select_into_with(&src, dim, &index, &mut out, options)
    }

    fn take_along_axis<I: IndexElem, DI: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element,
    {
        self.take_along_axis_with(indices, axis, &GatherOptions::default())
    }

    fn take_along_axis_with<I: IndexElem, DI: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
        options: &GatherOptions,
    ) -> Result<Array<T, D>, GatherError>
    where
        T: Element,
    {
        const OP: &str = "take_along_axis";
        let (arr, indices) = (
            operand(OP, "`self`", self)?,
            operand(OP, "`indices`", indices)?,
        );
        to_array(crate::take_along_axis_with(&arr, &indices, axis, options)?)
    }

    fn take_along_axis_into<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
        out: &mut ArrayRef<T, DO>,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        self.take_along_axis_into_with(indices, axis, out, &GatherOptions::default())
    }

    fn take_along_axis_into_with<I: IndexElem, DI: Dimension, DO: Dimension>(
        &self,
        indices: &ArrayRef<I, DI>,
        axis: impl Dim,
        out: &mut ArrayRef<T, DO>,
        options: &GatherOptions,
    ) -> Result<(), GatherError>
    where
        T: Element,
    {
        const OP: &str = "take_along_axis_into";
        let (arr, indices) = (
            operand(OP, "`self`", self)?,
            operand(OP, "`indices`", indices)?,
        );
        let mut out = output(OP, "`out`", out)?;
        crate::take_along_axis_into_with(&arr, &indices, axis, &mut out, options)
    }

    fn copy_if_gapped(&self) -> Result<CowArray<'_, T, D>, GatherError>
    where
        T: Clone,
    {
        copy_if_gapped(self.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, ArrayView2, arr0, array, s};

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
        let t = view(b).unwrap();
        assert_eq!(t.strides(), &[0, 1]);
        assert_eq!(t.data().len(), 3);
        assert_eq!(t.to_vec(), b.iter().copied().collect::<Vec<_>>());
    }

    #[test]
    fn gapped_operands_are_refused_by_name() {
        let a = Array3::from_shape_fn((3, 4, 5), |(i, j, k)| (i * 20 + j * 5 + k) as u16);
        let g = a.slice(s![.., 1..3, ..;2]);
        assert!(matches!(
            view(g),
            Err(GatherError::InvalidViewOp { op: "nd::view", .. })
        ));
        let idx = array![[[1i64, 0, 2], [2, 2, 0]]];
        match g.gather(2, &idx) {
            Err(GatherError::InvalidViewOp {
                op: "gather",
                reason,
            }) => {
                assert!(reason.starts_with("`self` "), "{reason}");
                assert!(reason.contains("copy_if_gapped"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let out = g.copy_if_gapped().unwrap().gather(2, &idx).unwrap();
        assert_eq!(out, g.to_owned().gather(2, &idx).unwrap());
    }

    #[test]
    fn empty_arrays() {
        let a = Array3::<f64>::zeros((2, 0, 3));
        let t = view(&a).unwrap();
        assert!(t.is_empty());
        let mut b = Array3::<f64>::zeros((0, 2, 2));
        assert!(view_mut(&mut b).unwrap().is_empty());
        let idx = Array3::<i64>::zeros((2, 0, 3));
        assert_eq!(a.gather(1, &idx).unwrap().shape(), &[2, 0, 3]);
    }

    #[test]
    fn zero_d_arrays() {
        let a = arr0(5u8);
        let t = view(&a).unwrap();
        assert_eq!(t.rank(), 0);
        assert_eq!(t.to_vec(), vec![5]);
        assert_eq!(a.gather(0, &arr0(0i64)).unwrap(), arr0(5u8));
        // A 0-d source selects into a 1-d result: fine as IxDyn, not as Ix0.
        let one = array![0i64];
        let dynamic = a.clone().into_dyn().index_select(0, &one).unwrap();
        assert_eq!(dynamic.shape(), &[1]);
        assert!(a.index_select(0, &one).is_err());
    }
}
