//! The checked-loads row body, written once over [`Lanes`]: `N` index values
//! checked per vector compare, then one scalar load per element, combined into
//! one vector store where the element is 4 or 8 bytes wide.
//!
//! Every path but the hardware gathers runs it: the portable path on `wide`,
//! AVX2 and AVX-512 on their own lanes. Scalar loads are independent, so they
//! overlap; on CPUs where `vpgather` is slow (AMD Zen, Intel with the
//! "Downfall" mitigation) this body is the fastest.

use super::scalar::row_range;
use super::{Ahead, BadIndex, Lanes, Row, RowBody, prefetch_stream};
use crate::index::IndexElem;

/// The checked-loads body on lanes `L`.
#[derive(Clone, Copy)]
pub(crate) struct Checked<L>(pub L);

impl<L: Lanes> RowBody for Checked<L> {
    #[inline(always)]
    unsafe fn rows<E: Copy, I: IndexElem>(self, r: &Row<E, I>) -> Result<(), BadIndex> {
        let direct = r.si == 0 && r.gs == 1;
        for t in 0..r.rows {
            let row = r.nth(t);
            let ahead = if L::PREFETCH {
                Ahead::for_row(r, t)
            } else {
                None
            };
            // SAFETY: forwarded, row by row; `DIRECT` exactly when the row is
            // direct.
            unsafe {
                if direct {
                    self.0.row::<E, I, true>(&row, ahead)?;
                } else {
                    self.0.row::<E, I, false>(&row, ahead)?;
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &super::Tile<T>) {
        // SAFETY: forwarded (this function's contract).
        unsafe { self.0.fill_tile(t) }
    }
}

/// One row: full steps of `N`, then the tail under a mask or one at a time.
///
/// # Safety
/// As [`RowBody::rows`] for a group of one row, with `DIRECT` only if
/// `r.si == 0 && r.gs == 1`.
#[inline(always)]
pub(crate) unsafe fn one_row<L: Lanes, E: Copy, I: IndexElem, const DIRECT: bool>(
    lanes: L,
    r: &Row<E, I>,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    let bound = lanes.bound(r.bound);
    let mut j = 0;
    while j + L::N <= r.n {
        if L::PREFETCH && j % 8 == 0 {
            if let Some(a) = ahead {
                a.at(j);
            }
            prefetch_stream(r.idx.wrapping_add(j));
        }
        // SAFETY: positions `j..j + N` are in the row (invariant 2).
        if !unsafe { lanes.below(r.idx.add(j), bound) } {
            return Err(BadIndex);
        }
        // SAFETY: the `N` positions were just checked; the output positions
        // are the row's own (invariant 2).
        unsafe {
            match size_of::<E>() {
                4 | 8 => {
                    lanes.store_combined(r.out.add(j), |k| checked_src::<E, I, DIRECT>(r, j + k))
                }
                _ => copy_checked::<E, I, DIRECT>(r, j, j + L::N),
            }
        }
        j += L::N;
    }
    if j == r.n {
        return Ok(());
    }
    // SAFETY: positions `j..n` are in the row (invariant 2).
    match unsafe { lanes.below_tail(r.idx.add(j), r.n - j, bound) } {
        Some(false) => Err(BadIndex),
        Some(true) => {
            // SAFETY: the positions were just checked.
            unsafe { copy_checked::<E, I, DIRECT>(r, j, r.n) };
            Ok(())
        }
        // SAFETY: the rest of the row, `j <= n`.
        None => unsafe { row_range(r, j, r.n) },
    }
}

/// Copies positions `from..to` of a row whose indices were already checked;
/// the loads are independent, so they overlap.
///
/// # Safety
/// As [`checked_src`] for every position in `from..to`, with `to <= r.n`.
#[inline(always)]
pub(crate) unsafe fn copy_checked<E: Copy, I: IndexElem, const DIRECT: bool>(
    r: &Row<E, I>,
    from: usize,
    to: usize,
) {
    for k in from..to {
        // SAFETY: position `k` of the row (invariant 2), under this function's
        // contract, so `checked_src` applies.
        unsafe { r.out.add(k).write(checked_src::<E, I, DIRECT>(r, k).read()) };
    }
}

/// The source element of position `k` of a row whose index there was
/// already checked. `DIRECT` rows (`si == 0`, `gs == 1`: contiguous rows
/// gathered along their length) address the source without multiplies.
///
/// The index is read again, volatile: a fresh load of a cached value costs
/// less than the lane extracts the compiler would otherwise take from the
/// checked vector.
///
/// # Safety
/// As [`RowBody::rows`], with `k < r.n`, the index at `k` below `r.bound`,
/// and `DIRECT` only if `r.si == 0 && r.gs == 1`.
#[inline(always)]
pub(crate) unsafe fn checked_src<E, I: IndexElem, const DIRECT: bool>(
    r: &Row<E, I>,
    k: usize,
) -> *const E {
    // SAFETY: position `k` of the row (invariant 2); its index is below
    // `bound` (the caller's contract), so the offset is a source element of
    // the row (invariant 3).
    unsafe {
        let v = r.idx.add(k).read_volatile().to_i64() as isize;
        let s = if DIRECT {
            r.base + v
        } else {
            r.base + k as isize * r.si + v * r.gs
        };
        debug_assert!(
            s >= 0 && (s as usize) < r.src_len,
            "source offset {s} of a checked index, buffer of {}",
            r.src_len
        );
        r.src.offset(s)
    }
}
