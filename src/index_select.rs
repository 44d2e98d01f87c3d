//! `index_select` and `take_along_axis`, expressed as gathers over
//! broadcast (stride-0) views, so they share gather's validation, plans,
//! kernels and threads. Each comes in gather's four forms: allocating,
//! `_with` options, `_into` an output view, and `_into_with`.

use crate::check::first_bad;
use crate::dim::{Dim, wrap_dim};
use crate::element::Element;
use crate::error::GatherError;
use crate::gather::{gather_into_with, gather_with};
use crate::index::IndexElem;
use crate::options::{GatherOptions, IndexMode};
use crate::view::{Tensor, TensorView, TensorViewMut};

/// The plain gather an `index_select` or `take_along_axis` call becomes:
/// a gather of `src` along `dim` by `index`, whose shape is the result's.
struct AsGather<'s, 'i, T, I> {
    src: TensorView<'s, T>,
    dim: usize,
    index: TensorView<'i, I>,
    /// The caller's dim, named in errors.
    caller_dim: usize,
    /// The axes of `index` that are the caller's index axes (the rest are
    /// broadcast), to name a bad value at its position in the caller's index.
    caller_axes: std::ops::Range<usize>,
    /// The options the gather runs with (the operation's default mode filled in).
    opts: GatherOptions,
}

/// Either the gather to run, or an empty result already checked.
// Lives on the stack for one call: boxing the large variant would only add
// an allocation.
#[allow(clippy::large_enum_variant)]
enum Prepared<'s, 'i, T, I> {
    Gather(AsGather<'s, 'i, T, I>),
    Empty(Vec<usize>),
}

impl<T: Element, I: IndexElem> AsGather<'_, '_, T, I> {
    /// Names a bad index value where the caller's index holds it.
    fn caller_error(&self, e: GatherError) -> GatherError {
        match e {
            GatherError::IndexOutOfBounds {
                value,
                position,
                size,
                wraps,
                ..
            } => GatherError::IndexOutOfBounds {
                value,
                position: position[self.caller_axes.clone()].to_vec(),
                dim: self.caller_dim,
                size,
                wraps,
            },
            other => other,
        }
    }

    fn run(self) -> Result<Tensor<T>, GatherError> {
        gather_with(&self.src, self.dim, &self.index, &self.opts).map_err(|e| self.caller_error(e))
    }

    fn run_into(self, out: &mut TensorViewMut<'_, T>) -> Result<(), GatherError> {
        gather_into_with(&self.src, self.dim, &self.index, out, &self.opts)
            .map_err(|e| self.caller_error(e))
    }
}

/// A non-empty `index` that yields an empty result (another dim is 0) runs no
/// gather, but torch and numpy still check every value: so does this.
fn check_values<I: IndexElem>(
    index: &TensorView<'_, I>,
    dim: usize,
    size: usize,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    match first_bad(index, size, opts.index_mode()) {
        Some((value, position)) => Err(GatherError::IndexOutOfBounds {
            value,
            position,
            dim,
            size,
            wraps: opts.index_mode() == IndexMode::Wrap,
        }),
        None => Ok(()),
    }
}

fn out_shape_check<T>(out: &TensorViewMut<'_, T>, shape: &[usize]) -> Result<(), GatherError> {
    if out.shape() != shape {
        return Err(GatherError::OutShapeMismatch {
            expected: shape.to_vec(),
            actual: out.shape().to_vec(),
        });
    }
    Ok(())
}

/// `index_select` as a gather. With `k` index axes the source gains `k - 1`
/// stride-0 axes before `dim`, and the index is broadcast over the source's
/// other axes, so the gather along `dim + k - 1` reads
/// `src[.., index[j..], ..]` at every result position.
fn select_as_gather<'s, 'i, T: Element, I: IndexElem>(
    src: &TensorView<'s, T>,
    dim: impl Dim,
    index: &TensorView<'i, I>,
    opts: &GatherOptions,
) -> Result<Prepared<'s, 'i, T, I>, GatherError> {
    opts.path()?;
    let d = wrap_dim(dim, src.rank())?;
    let (src_shape, src_strides) = match src.rank() {
        0 => (vec![1], vec![0]),
        _ => (src.shape().to_vec(), src.strides().to_vec()),
    };
    // A 0-d index selects one slice and keeps the dim (torch).
    let (idx_shape, idx_strides) = match index.rank() {
        0 => (vec![1], vec![0]),
        _ => (index.shape().to_vec(), index.strides().to_vec()),
    };
    let k = idx_shape.len();
    let splice = |around: &[usize], middle: &[usize]| -> Vec<usize> {
        [&around[..d], middle, &around[d + 1..]].concat()
    };
    let out_shape = splice(&src_shape, &idx_shape);
    let size = src_shape[d];
    if !index.is_empty() && out_shape.contains(&0) {
        check_values(index, d, size, opts)?;
        return Ok(Prepared::Empty(out_shape));
    }
    let mut wide_shape = idx_shape.clone();
    wide_shape[k - 1] = size;
    let wide_src = TensorView::with_strides(
        src.data(),
        &splice(&src_shape, &wide_shape),
        &[&src_strides[..d], &vec![0; k - 1][..], &src_strides[d..]].concat(),
        src.offset(),
    )?;
    let mut strides = vec![0isize; out_shape.len()];
    strides[d..d + k].copy_from_slice(&idx_strides);
    let wide_index = TensorView::with_strides(index.data(), &out_shape, &strides, index.offset())?;
    Ok(Prepared::Gather(AsGather {
        src: wide_src,
        dim: d + k - 1,
        index: wide_index,
        caller_dim: d,
        caller_axes: if index.rank() == 0 { d..d } else { d..d + k },
        opts: opts.clone(),
    }))
}

/// torch's `src.index_select(dim, index)`: the slices of `src` along `dim` that
/// `index` names, in its order. The result has `src`'s shape with `dim`
/// replaced by the index's shape: one dim of the index's length for a 1-d
/// index (torch), a size-1 dim for a 0-d index (torch), and the index's dims
/// for an N-d index (numpy's `take(src, index, axis=dim)`; torch accepts at
/// most 1-d). An embedding lookup is `index_select(&weight, 0, &ids)`.
///
/// It runs as a gather with the index broadcast over the other dims, which the
/// planner recognizes as whole contiguous runs (`ExpandedRuns`) when `dim` is not
/// the last one. An out-of-range value is reported at its position in `index`;
/// as in torch, values are checked even when the result is empty because
/// another dim of `src` is 0 (an empty `index` is never checked).
///
/// ```
/// use fastgather::{index_select, TensorView};
/// let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[3, 2]).unwrap();
/// let rows = TensorView::new(&[2i64, 0, 2], &[3]).unwrap();
/// let out = index_select(&src, 0, &rows).unwrap();
/// assert_eq!(out.shape(), &[3, 2]);
/// assert_eq!(out.as_slice(), &[5, 6, 1, 2, 5, 6]);
/// // A 2-d index: a batch of lookups, [2, 2] ids into [3, 2] rows.
/// let ids = TensorView::new(&[0i64, 1, 2, 2], &[2, 2]).unwrap();
/// let out = index_select(&src, 0, &ids).unwrap();
/// assert_eq!(out.shape(), &[2, 2, 2]);
/// assert_eq!(out.as_slice(), &[1, 2, 3, 4, 5, 6, 5, 6]);
/// ```
///
/// ```
/// use fastgather::{index_select, GatherError, TensorView};
/// let empty = TensorView::<f32>::new(&[], &[0, 3]).unwrap();
/// let seven = TensorView::new(&[7i64], &[1]).unwrap();
/// // torch: torch.empty(0, 3).index_select(1, torch.tensor([7])) raises.
/// assert!(matches!(
///     index_select(&empty, 1, &seven),
///     Err(GatherError::IndexOutOfBounds { value: 7, dim: 1, size: 3, .. })
/// ));
/// let two = TensorView::new(&[2i64], &[1]).unwrap();
/// assert_eq!(index_select(&empty, 1, &two).unwrap().shape(), &[0, 1]);
/// ```
pub fn index_select<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    index_select_with(src, dim, index, &GatherOptions::default())
}

/// [`index_select`] with explicit [`GatherOptions`]: threads, the
/// instruction-set path, and index modes (torch's is `Error`).
///
/// ```
/// use fastgather::{index_select_with, GatherOptions, IndexMode, TensorView};
/// let src = TensorView::new(&[10, 20, 30], &[3]).unwrap();
/// let idx = TensorView::new(&[-1i64, 0], &[2]).unwrap();
/// let opts = GatherOptions::new().mode(IndexMode::Wrap).sequential();
/// assert_eq!(index_select_with(&src, 0, &idx, &opts).unwrap().as_slice(), &[30, 10]);
/// ```
pub fn index_select_with<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    match select_as_gather(src, dim, index, opts)? {
        Prepared::Gather(g) => g.run(),
        Prepared::Empty(shape) => Tensor::from_vec(Vec::new(), &shape),
    }
}

/// [`index_select`] into `out` (torch's `index_select(.., out=out)`), which
/// must have the result's shape and may have any layout.
///
/// ```
/// use fastgather::{index_select_into, Tensor, TensorView};
/// let table = TensorView::new(&[0.0f32, 0.5, 1.0, 1.5, 2.0, 2.5], &[3, 2]).unwrap();
/// let ids = TensorView::new(&[2i32, 1], &[2]).unwrap();
/// let mut rows = Tensor::full(&[2, 2], 0.0f32).unwrap();
/// index_select_into(&table, 0, &ids, &mut rows.view_mut()).unwrap();
/// assert_eq!(rows.as_slice(), &[2.0, 2.5, 1.0, 1.5]);
/// ```
pub fn index_select_into<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    index_select_into_with(src, dim, index, out, &GatherOptions::default())
}

/// [`index_select_into`] with explicit [`GatherOptions`].
///
/// ```
/// use fastgather::{index_select_into_with, GatherError, GatherOptions, Tensor, TensorView};
/// let src = TensorView::new(&[1u8, 2, 3], &[3]).unwrap();
/// let idx = TensorView::new(&[0i64, 2], &[2]).unwrap();
/// let mut out = Tensor::full(&[3], 0u8).unwrap();
/// let err = index_select_into_with(&src, 0, &idx, &mut out.view_mut(), &GatherOptions::new());
/// assert!(matches!(err, Err(GatherError::OutShapeMismatch { .. })));
/// ```
pub fn index_select_into_with<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    match select_as_gather(src, dim, index, opts)? {
        Prepared::Gather(g) => g.run_into(out),
        Prepared::Empty(shape) => out_shape_check(out, &shape),
    }
}

/// `take_along_axis` as a gather over the broadcast views.
fn along_as_gather<'s, 'i, T: Element, I: IndexElem>(
    arr: &TensorView<'s, T>,
    indices: &TensorView<'i, I>,
    axis: impl Dim,
    opts: &GatherOptions,
) -> Result<Prepared<'s, 'i, T, I>, GatherError> {
    opts.path()?;
    let opts = opts.or_mode(IndexMode::Wrap);
    let d = wrap_dim(axis, arr.rank())?;
    if arr.rank() != indices.rank() {
        return Err(GatherError::RankMismatch {
            src_rank: arr.rank(),
            index_rank: indices.rank(),
        });
    }
    let (mut arr_shape, mut idx_shape) = (arr.shape().to_vec(), indices.shape().to_vec());
    for k in (0..arr.rank()).filter(|&k| k != d) {
        let (a, i) = (arr_shape[k], idx_shape[k]);
        match (a, i) {
            _ if a == i => {}
            (1, _) => arr_shape[k] = i,
            (_, 1) => idx_shape[k] = a,
            _ => {
                return Err(GatherError::SizeMismatch {
                    axis: k,
                    dim: d,
                    index_shape: indices.shape().to_vec(),
                    src_shape: arr.shape().to_vec(),
                });
            }
        }
    }
    if !indices.is_empty() && idx_shape.contains(&0) {
        let bound = arr.shape().get(d).copied().unwrap_or(1);
        check_values(indices, d, bound, &opts)?;
        return Ok(Prepared::Empty(idx_shape));
    }
    Ok(Prepared::Gather(AsGather {
        src: arr.expand(&arr_shape)?,
        dim: d,
        index: indices.expand(&idx_shape)?,
        caller_dim: d,
        caller_axes: 0..idx_shape.len(),
        opts,
    }))
}

/// numpy's `take_along_axis(arr, indices, axis)`: gather along `axis` with
/// numpy's rules. Ranks must match; the other axes broadcast against each other
/// (a size-1 axis of either side stretches); negative indices count from the
/// end. The result has the broadcast shape, with `indices`' size along `axis`.
/// Index values are checked even when that shape is empty (as numpy does); a
/// bad one is reported at its position in the broadcast indices, or in
/// `indices` itself when the result is empty.
///
/// ```
/// use fastgather::{take_along_axis, TensorView};
/// let arr = TensorView::new(&[10, 30, 20, 60, 50, 40], &[2, 3]).unwrap();
/// // The last column of every row, by a negative index broadcast over rows.
/// let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
/// let out = take_along_axis(&arr, &last, 1).unwrap();
/// assert_eq!(out.shape(), &[2, 1]);
/// assert_eq!(out.as_slice(), &[20, 40]);
/// ```
pub fn take_along_axis<T: Element, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    axis: impl Dim,
) -> Result<Tensor<T>, GatherError> {
    take_along_axis_with(arr, indices, axis, &GatherOptions::default())
}

/// [`take_along_axis`] with explicit [`GatherOptions`]. Without a
/// [`GatherOptions::mode`], negative indices wrap (numpy's rule); a mode given
/// replaces it, as JAX's `take_along_axis(.., mode=)`.
///
/// ```
/// use fastgather::{take_along_axis_with, GatherOptions, TensorView};
/// let arr = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let idx = TensorView::new(&[-1i64, 5], &[2]).unwrap();
/// // JAX's mode="fill": out-of-range positions get the fill value.
/// let out = take_along_axis_with(&arr, &idx, 0, &GatherOptions::new().fill(f32::NAN)).unwrap();
/// assert!(out.as_slice().iter().all(|v| v.is_nan()));
/// let out = take_along_axis_with(&arr, &idx.slice(0, 0, 1, 1).unwrap(), 0, &GatherOptions::new());
/// assert_eq!(out.unwrap().as_slice(), &[3.0]);
/// ```
pub fn take_along_axis_with<T: Element, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    axis: impl Dim,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    match along_as_gather(arr, indices, axis, opts)? {
        Prepared::Gather(g) => g.run(),
        Prepared::Empty(shape) => Tensor::from_vec(Vec::new(), &shape),
    }
}

/// [`take_along_axis`] into `out`, which must have the broadcast result shape.
///
/// ```
/// use fastgather::{take_along_axis_into, Tensor, TensorView};
/// let arr = TensorView::new(&[3, 1, 2, 9, 8, 7], &[2, 3]).unwrap();
/// let order = TensorView::new(&[1i64, 2, 0, 2, 1, 0], &[2, 3]).unwrap();
/// let mut sorted = Tensor::full(&[2, 3], 0).unwrap();
/// take_along_axis_into(&arr, &order, -1, &mut sorted.view_mut()).unwrap();
/// assert_eq!(sorted.as_slice(), &[1, 2, 3, 7, 8, 9]);
/// ```
pub fn take_along_axis_into<T: Element, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    axis: impl Dim,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    take_along_axis_into_with(arr, indices, axis, out, &GatherOptions::default())
}

/// [`take_along_axis_into`] with explicit [`GatherOptions`] (mode as in
/// [`take_along_axis_with`]).
///
/// ```
/// use fastgather::{take_along_axis_into_with, GatherOptions, Tensor, TensorView};
/// let arr = TensorView::new(&[5u16, 6, 7], &[1, 3]).unwrap();
/// let idx = TensorView::new(&[0i64, -1], &[2, 1]).unwrap();
/// let mut out = Tensor::full(&[2, 1], 0u16).unwrap();
/// let opts = GatherOptions::new().sequential();
/// take_along_axis_into_with(&arr, &idx, 1, &mut out.view_mut(), &opts).unwrap();
/// assert_eq!(out.as_slice(), &[5, 7]);
/// ```
pub fn take_along_axis_into_with<T: Element, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    axis: impl Dim,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    match along_as_gather(arr, indices, axis, opts)? {
        Prepared::Gather(g) => g.run_into(out),
        Prepared::Empty(shape) => out_shape_check(out, &shape),
    }
}
