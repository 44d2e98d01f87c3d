//! The oracle: a per-element gather written for obviousness, not speed.
//!
//! ```
//! use fastgather::{gather, reference, TensorView};
//! let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
//! let idx = TensorView::new(&[2i64, 0, 1, 1], &[2, 2]).unwrap();
//! assert_eq!(gather(&src, 1, &idx), reference::gather(&src, 1, &idx));
//! ```
//!
//! It shares nothing with the fast path but the view types: its own checks, in
//! torch's order, and one element at a time by multi-index. Tests, benches and
//! fuzz targets compare every kernel against it.

use crate::error::GatherError;
use crate::index::IndexElem;
use crate::layout::for_each_position;
use crate::view::{Tensor, TensorView, try_vec};

/// `torch.gather(src, dim, index)`, one element at a time.
///
/// ```
/// use fastgather::{reference, TensorView};
/// let src = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[1i64, 0], &[2, 1]).unwrap();
/// assert_eq!(reference::gather(&src, 1, &idx).unwrap().as_slice(), &[2, 3]);
/// ```
pub fn gather<T: Copy, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    let rank = src.rank().max(1);
    let r = rank as isize;
    if dim < -r || dim >= r {
        return Err(GatherError::DimOutOfRange { dim, rank });
    }
    let d = if dim < 0 { dim + r } else { dim } as usize;
    if index.is_empty() {
        return Tensor::from_vec(Vec::new(), index.shape());
    }
    if index.rank().max(1) != rank {
        return Err(GatherError::RankMismatch {
            src_rank: src.rank(),
            index_rank: index.rank(),
        });
    }
    // A 0-d tensor acts as 1-d of size 1.
    let as_1d = |shape: &[usize]| {
        if shape.is_empty() {
            vec![1]
        } else {
            shape.to_vec()
        }
    };
    let (src_shape, idx_shape) = (as_1d(src.shape()), as_1d(index.shape()));
    for k in 0..rank {
        if k != d && idx_shape[k] > src_shape[k] {
            return Err(GatherError::SizeMismatch {
                axis: k,
                dim: d,
                index_shape: index.shape().to_vec(),
                src_shape: src.shape().to_vec(),
            });
        }
    }
    let size = src_shape[d];
    let mut out = try_vec(index.len())?;
    let mut err = None;
    for_each_position(index.shape(), |pos| {
        let value = index.get(pos).expect("position inside the index").to_i128();
        if value < 0 || value >= size as i128 {
            err = Some(GatherError::IndexOutOfBounds {
                value,
                position: pos.to_vec(),
                dim: d,
                size,
                wraps: false,
            });
            return false;
        }
        let mut at = pos.to_vec();
        if src.rank() == 0 {
            at.clear();
        } else {
            if at.is_empty() {
                at.push(0);
            }
            at[d] = value as usize;
        }
        out.push(*src.get(&at).expect("position inside the source"));
        true
    });
    match err {
        Some(e) => Err(e),
        None => Tensor::from_vec(out, index.shape()),
    }
}
