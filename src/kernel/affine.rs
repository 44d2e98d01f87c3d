//! Drivers of the affine classes (`LastDim`, `InnerRun`, `Pick`): every one is
//! `out[r, j] = src[base(r) + j·si + idx[r, j]·gs]` with index and output rows
//! contiguous, so one row body per path serves all three; the drivers decide the
//! order rows are visited in.

use super::{scalar, BadIndex, Job, Row, RowKernel};
use crate::index::IndexElem;
use crate::plan::{LayoutClass, Plan};
use std::ops::Range;

/// Source bytes one `InnerRun` tile may touch, so its lines stay in L2.
const TILE_BYTES: usize = 256 << 10;

/// Runs the rectangle `rows × cols` with row body `R`.
///
/// `InnerRun` visits column tiles: for each tile, all rows. A tile of `t` columns
/// touches `bound · t` source elements whatever the index values, so sizing it to
/// `TILE_BYTES` keeps every source line a random index picks in cache while the
/// tile's rows reuse it.
///
/// # Safety
/// As for [`super::Kernel`], with the plan's class one of the affine classes and
/// `R`'s instruction set available.
#[inline(always)]
pub(crate) unsafe fn drive<R: RowKernel, E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    debug_assert!(p.idx_inner == 1 && p.out_inner == 1);
    let tile = match p.class {
        LayoutClass::InnerRun if rows.len() > 1 => tile_cols(p, size_of::<E>()),
        _ => cols.len(),
    }
    .max(1);
    let ahead = prefetch_distance(p, size_of::<E>());
    let mut j0 = cols.start;
    while j0 < cols.end {
        let n = tile.min(cols.end - j0);
        let row_at = |cur: &crate::plan::RowCursor<'_>| {
            let base = cur.src + j0 as isize * p.src_inner;
            Row {
                src: job.src,
                base,
                // In-bounds for this row's `n` positions (plan invariant 2);
                // wrapping so that no pointer is formed out of bounds otherwise.
                idx: job.idx.wrapping_offset(cur.idx + j0 as isize),
                out: job.out.wrapping_offset(cur.out + j0 as isize),
                n,
                si: p.src_inner,
                gs: p.gather_stride,
                bound: p.bound,
                slack: slack(p, base, n, size_of::<E>()),
                prefetch: if n > ahead { ahead } else { 0 },
            }
        };
        // Short rows prefetch whole rows ahead instead: this cursor runs
        // `lead` rows in front.
        let lead = if ahead > 0 && n <= ahead { ahead.div_ceil(n) } else { 0 };
        let mut front = p.rows_from((rows.start + lead).min(rows.end));
        let mut cur = p.rows_from(rows.start);
        for r in rows.clone() {
            if lead > 0 && r + lead < rows.end {
                // SAFETY: row `r + lead` is in this rectangle (invariants 2, 3);
                // prefetching reads its indices and touches no source memory.
                unsafe { scalar::prefetch(&row_at(&front), 0, n) };
                front.advance();
            }
            // SAFETY: the row lies in this rectangle (invariants 2 and 3), `slack`
            // was computed by `slack`, the caller vouches for the features.
            unsafe { R::row(&row_at(&cur))? };
            cur.advance();
        }
        j0 += n;
    }
    Ok(())
}

/// Positions to prefetch ahead, or 0. Picks are worth prefetching when they
/// are sparse in their source rows: one per row (`Pick`), or fewer than one per
/// four cache lines of a `LastDim` row (top-k); dense picks reuse lines the
/// first misses brought in, and the hardware streams contiguous runs.
fn prefetch_distance(p: &Plan, width: usize) -> usize {
    const AHEAD: usize = 32;
    match p.class {
        LayoutClass::Pick => AHEAD,
        LayoutClass::LastDim if p.inner * 256 <= p.bound * width * p.gather_stride.unsigned_abs().max(1) => {
            AHEAD
        }
        _ => 0,
    }
}

/// Columns per `InnerRun` tile: `TILE_BYTES` of source over `bound` source rows,
/// at least one cache line and a multiple of 16 elements.
fn tile_cols(p: &Plan, width: usize) -> usize {
    let width = width.max(1);
    let fit = TILE_BYTES / p.bound.max(1) / width;
    (fit & !15).max(64 / width).max(16)
}

/// Whether a 4-byte load at any source element this row can reach stays inside
/// the source buffer: the highest reachable element, plus 4 bytes, fits.
fn slack(p: &Plan, base: isize, n: usize, width: usize) -> bool {
    if width >= 4 || p.bound == 0 || n == 0 {
        return width >= 4;
    }
    // Both terms are spans of validated axes (plan invariant 3): no overflow.
    let along = (n as isize - 1) * p.src_inner;
    let picked = (p.bound as isize - 1) * p.gather_stride;
    let hi = base + along.max(0) + picked.max(0);
    hi >= 0 && (hi as usize) * width + 4 <= p.src_len * width
}
