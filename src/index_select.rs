//! `index_select` and `take_along_axis`, expressed as gathers over
//! broadcast (stride-0) views, so they share gather's validation, plans,
//! kernels and threads.

use crate::check::first_bad;
use crate::dim::{wrap_dim, Dim};
use crate::element::Element;
use crate::error::GatherError;
use crate::gather::gather_with;
use crate::index::IndexElem;
use crate::options::{GatherOptions, IndexMode};
use crate::view::{Tensor, TensorView};

/// torch's `src.index_select(dim, index)`: the slices of `src` along `dim` that
/// `index` (1-d, or 0-d for one slice) names, in its order. The result has
/// `src`'s shape with `dim` resized to the number of indices.
///
/// It runs as a gather with the index broadcast over the other dims, which the
/// planner recognizes as whole contiguous runs (`ExpandedRuns`) when `dim` is not
/// the last one. An out-of-range value is reported at its position in `index`;
/// as in torch, values are checked even when the result is empty because
/// another dim of `src` is 0 (an empty `index` is never checked).
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
///
/// ```
/// use fastgather::{index_select, TensorView};
/// let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[3, 2]).unwrap();
/// let rows = TensorView::new(&[2i64, 0, 2], &[3]).unwrap();
/// let out = index_select(&src, 0, &rows).unwrap();
/// assert_eq!(out.shape(), &[3, 2]);
/// assert_eq!(out.as_slice(), &[5, 6, 1, 2, 5, 6]);
/// ```
pub fn index_select<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    let d = wrap_dim(dim, src.rank())?;
    if index.rank() > 1 {
        return Err(GatherError::InvalidViewOp {
            op: "index_select",
            reason: format!("index must be 0-d or 1-d, got shape {:?}", index.shape()),
        });
    }
    let count = index.len();
    let src_1d;
    let src = if src.rank() == 0 {
        src_1d = src.reshape(&[1])?;
        &src_1d
    } else {
        src
    };
    let mut shape = src.shape().to_vec();
    shape[d] = count;
    if count > 0 && shape.contains(&0) {
        // An empty result from a non-empty index (another dim of `src` is 0):
        // no gather runs, but torch still checks every value against
        // `src.size(d)`, and so does this.
        if let Some((value, position)) = first_bad(index, src.shape()[d], IndexMode::Error) {
            return Err(GatherError::IndexOutOfBounds {
                value,
                position,
                dim: d,
                size: src.shape()[d],
            });
        }
    }
    let mut strides = vec![0isize; shape.len()];
    strides[d] = index.strides().first().copied().unwrap_or(0);
    let wide = TensorView::with_strides(index.data(), &shape, &strides, index.offset())?;
    let out = gather_with(src, d as isize, &wide, &GatherOptions::default());
    out.map_err(|e| match e {
        GatherError::IndexOutOfBounds {
            value,
            position,
            dim,
            size,
        } => GatherError::IndexOutOfBounds {
            value,
            position: if index.rank() == 0 {
                vec![]
            } else {
                vec![position[d]]
            },
            dim,
            size,
        },
        other => other,
    })
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
                })
            }
        }
    }
    let bound = arr.shape().get(d).copied().unwrap_or(1);
    if !indices.is_empty() && idx_shape.contains(&0) {
        // An empty result from non-empty indices (broadcast against a size-0
        // axis): no gather runs, but numpy still checks every index value.
        if let Some((value, position)) = first_bad(indices, bound, IndexMode::Wrap) {
            return Err(GatherError::IndexOutOfBounds {
                value,
                position,
                dim: d,
                size: bound,
            });
        }
    }
    let arr = arr.expand(&arr_shape)?;
    let indices = indices.expand(&idx_shape)?;
    gather_with(
        &arr,
        d as isize,
        &indices,
        &GatherOptions::new().mode(IndexMode::Wrap),
    )
}
