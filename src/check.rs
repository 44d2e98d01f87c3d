//! torch's argument checks, in torch's order, and the rescan that names the
//! first bad index value: what every operation runs before (and, for index
//! values, after) its kernels.

use crate::error::GatherError;
use crate::index::{IndexElem, Resolved, resolve};
use crate::layout::for_each_position;
use crate::options::IndexMode;
use crate::view::TensorView;

/// torch's rank and size rules for a non-empty index (docs/SEMANTICS.md).
#[inline]
pub(crate) fn check_shapes(src: &[usize], dim: usize, index: &[usize]) -> Result<(), GatherError> {
    if index.len().max(1) != src.len().max(1) {
        return Err(GatherError::RankMismatch {
            src_rank: src.len(),
            index_rank: index.len(),
        });
    }
    let bad = src
        .iter()
        .zip(index)
        .enumerate()
        .find(|&(k, (s, i))| k != dim && i > s);
    match bad {
        Some((axis, _)) => Err(GatherError::SizeMismatch {
            axis,
            dim,
            index_shape: index.to_vec(),
            src_shape: src.to_vec(),
        }),
        None => Ok(()),
    }
}

/// torch's scatter shape rules for a non-empty index: equal ranks (0-d as
/// `[1]`), `index.size(d) <= src.size(d)` for all `d`, and
/// `index.size(d) <= self.size(d)` for `d != dim`.
pub(crate) fn check_scatter_shapes(
    dest: &[usize],
    dim: usize,
    index: &[usize],
    src: &[usize],
) -> Result<(), GatherError> {
    let rank = dest.len().max(1);
    for other in [src, index] {
        if other.len().max(1) != rank {
            return Err(GatherError::RankMismatch {
                src_rank: dest.len(),
                index_rank: other.len(),
            });
        }
    }
    let at = |s: &[usize], k: usize| s.get(k).copied().unwrap_or(1);
    for k in 0..rank {
        let i = at(index, k);
        if i > at(src, k) || (k != dim && i > at(dest, k)) {
            return Err(GatherError::ScatterSizeMismatch {
                axis: k,
                dim,
                index_shape: index.to_vec(),
                self_shape: dest.to_vec(),
                src_shape: src.to_vec(),
            });
        }
    }
    Ok(())
}

/// The first out-of-range value of `index` in row-major order, with its position.
/// The cold path after a kernel reports that some value was bad: kernels may
/// visit positions in any order or in parallel, this scan fixes which one is named.
pub(crate) fn first_bad<I: IndexElem>(
    index: &TensorView<'_, I>,
    bound: usize,
    mode: IndexMode,
) -> Option<(i128, Vec<usize>)> {
    let mut found = None;
    for_each_position(index.shape(), |pos| {
        let v = *index.get(pos).expect("position inside the shape");
        if resolve::<I>(mode, v.to_i64(), bound) != Resolved::Bad {
            return true;
        }
        found = Some((v.to_i128(), pos.to_vec()));
        false
    });
    found
}
