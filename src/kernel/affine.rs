//! Drivers of the affine classes (`LastDim`, `InnerRun`, `Pick`,
//! `StridedIndex`): every one is `out[r, j] = src[base(r) + j·si + idx[r, j]·gs]`
//! with the output row contiguous, and the index row too once a strided index
//! is copied into dense tiles, so one row body per path serves all four; the
//! drivers decide the order rows are visited in.

use super::{BadIndex, Job, Row, RowBody, Tile, prefetch_span};
pub(crate) use crate::driver::Driver;
use crate::index::IndexElem;
use crate::plan::{LayoutClass, Plan};
use crate::tune::{
    BAND_TILE_BYTES, CACHED_SOURCE_BYTES, COLUMN_PACK_BYTES, MIN_REUSE, PACK_BYTES,
    PACK_MIN_STRIDE_BYTES, ROW_PACK_BYTES, ROW_PACK_MAX_ROWS, ROWS_AHEAD, SPARSE_PICKS, TILE_BYTES,
};
use std::ops::Range;

/// Runs the rectangle `rows × cols` with row body `body` under `driver`.
///
/// # Safety
/// The kernel contract (`kernel/mod.rs`), with the plan's class one of the
/// affine classes and `driver` one the dispatch table allows for it.
#[inline(always)]
pub(crate) unsafe fn drive<R: RowBody, E: Copy, I: IndexElem>(
    body: R,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
    driver: Driver,
) -> Result<(), BadIndex> {
    let p = job.plan;
    // Packed scratch is raw bytes: only byte-array elements (alignment 1),
    // which is what the dispatch table re-types every affine element to.
    let packs = align_of::<E>() == 1 && p.bound > 0;
    match driver {
        // SAFETY: forwarded from this function's contract.
        Driver::Tiles => return unsafe { drive_tiles(body, job, rows, cols) },
        Driver::PackedColumns if packs => {
            // SAFETY: forwarded; alignment 1 and `bound > 0` checked above.
            return unsafe { drive_packed_columns(body, job, rows, cols) };
        }
        Driver::PackedRows if packs && !p.outer.is_empty() => {
            // SAFETY: forwarded; alignment, `bound` and the outer axis checked.
            return unsafe { drive_packed_rows(body, job, rows, cols) };
        }
        _ => {}
    }
    debug_assert!(p.idx_inner == 1 && p.out_inner == 1);
    let tile = match driver {
        Driver::ColumnTiles => tile_cols(p, size_of::<E>()),
        _ => cols.len(),
    }
    .max(1);
    let (w, j) = (size_of::<E>(), |j0: usize| j0 as isize);
    let step = p.outer.last().copied().unwrap_or_default();
    let mut j0 = cols.start;
    while j0 < cols.end {
        let n = tile.min(cols.end - j0);
        let mut cur = p.rows_from(rows.start);
        let mut r = rows.start;
        while r < rows.end {
            // Rows along the innermost outer axis go as one group.
            let k = (rows.end - r).min(cur.left_in_axis());
            let base = cur.src + j(j0) * p.src_inner;
            let last = base + (k as isize - 1) * step.src;
            let group = Row {
                src: job.src,
                src_len: p.src_len,
                base,
                // In-bounds for the group's positions (plan invariant 2);
                // wrapping so that no pointer is formed out of bounds otherwise.
                idx: job.idx.wrapping_offset(cur.idx + j(j0)),
                out: job.out.wrapping_offset(cur.out + j(j0)),
                n,
                si: p.src_inner,
                gs: p.gather_stride,
                bound: p.bound,
                slack: slack(p, base, n, w) && slack(p, last, n, w),
                rows: k,
                step_src: step.src,
                step_idx: step.idx,
                step_out: step.out,
            };
            group.debug_check();
            // SAFETY: the group's rows lie in this rectangle (invariants 2 and
            // 3); the highest address of the group is in its first or its last
            // row, so `slack` holds for all.
            unsafe { body.rows(&group)? };
            cur.advance_by(k);
            r += k;
        }
        j0 += n;
    }
    Ok(())
}

/// [`drive`] for `StridedIndex` and `General`: a strided index is first
/// copied into a dense tile, and rows bound for a strided output are written
/// into one and copied out after.
///
/// When rows lie closer together in the index or the output than positions
/// do (a transposed index or output), a band of rows along the innermost
/// outer axis goes at once: each tile copy then moves runs of adjacent rows,
/// whole lines and pages of them, which the paths with vector transposes
/// turn into tile rows and back. Bands are sized so their source lines stay
/// in L2 while the band's tiles pass over them.
///
/// # Safety
/// As for [`drive`], with the plan's class `StridedIndex` or `General`.
#[inline(always)]
unsafe fn drive_tiles<R: RowBody, E: Copy, I: IndexElem>(
    body: R,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let (w, wi) = (size_of::<E>(), size_of::<I>());
    let (idx_tiled, out_tiled) = (p.idx_inner != 1, p.out_inner != 1);
    let step = p.outer.last().copied().unwrap_or_default();
    let across = |row: isize, inner: isize| row.unsigned_abs() < inner.unsigned_abs();
    let band = if (idx_tiled && across(step.idx, p.idx_inner))
        || (out_tiled && across(step.out, p.out_inner))
    {
        band_rows(p, w).min(rows.len()).max(1)
    } else {
        1
    };
    let widest = if out_tiled { w.max(wi) } else { wi };
    let width = (BAND_TILE_BYTES / (band * widest)).min(cols.len());
    // Tile rows one line longer than a multiple of lines, so that the rows of
    // a transposed block fall into different cache sets.
    let (si, so) = (width + 64 / wi, width + 64 / w.max(1));
    let mut idx_tile = Vec::<I>::with_capacity(if idx_tiled { band * si } else { 0 });
    let mut out_tile = Vec::<E>::with_capacity(if out_tiled { band * so } else { 0 });
    let mut cur = p.rows_from(rows.start);
    let mut r = rows.start;
    while r < rows.end {
        // Rows along the innermost outer axis, whose offsets step evenly.
        let k = (rows.end - r).min(cur.left_in_axis()).min(band);
        let mut j0 = cols.start;
        while j0 < cols.end {
            let n = width.min(cols.end - j0);
            let j = j0 as isize;
            let (idx, step_idx) = if idx_tiled {
                let fill = Tile {
                    src: job.idx.wrapping_offset(cur.idx + j * p.idx_inner),
                    row_step: step.idx,
                    col_step: p.idx_inner,
                    rows: k,
                    cols: n,
                    dst: idx_tile.as_mut_ptr(),
                    dst_step: si,
                    src_order: true,
                };
                // Rows `r..r + k` lie in the rectangle along one axis, and
                // positions `j0..j0 + n` below `inner`.
                // SAFETY: index positions (invariant 2); room for `k` rows of
                // `si >= n` values.
                unsafe { body.fill_tile(&fill) };
                (idx_tile.as_ptr(), si as isize)
            } else {
                (job.idx.wrapping_offset(cur.idx + j), step.idx)
            };
            let (out, step_out) = if out_tiled {
                (out_tile.as_mut_ptr(), so as isize)
            } else {
                (job.out.wrapping_offset(cur.out + j), step.out)
            };
            let base = cur.src + j * p.src_inner;
            let last = base + (k as isize - 1) * step.src;
            let group = Row {
                src: job.src,
                src_len: p.src_len,
                base,
                idx,
                out,
                n,
                si: p.src_inner,
                gs: p.gather_stride,
                bound: p.bound,
                slack: slack(p, base, n, w) && slack(p, last, n, w),
                rows: k,
                step_src: step.src,
                step_idx,
                step_out,
            };
            group.debug_check();
            // Index runs are contiguous in the index or the tile, output
            // runs in the output or the tile.
            // SAFETY: the rows lie in this rectangle (invariants 2 and 3);
            // `slack` as in `drive`.
            unsafe { body.rows(&group)? };
            if out_tiled {
                let to = job.out.wrapping_offset(cur.out + j * p.out_inner);
                // The rows just wrote their `k × n` values into the tile.
                // SAFETY: their output positions are the rectangle's own
                // (invariant 2).
                unsafe { copy_out(body, out, so, to, (step.out, p.out_inner), (k, n)) };
            }
            j0 += n;
        }
        cur.advance_by(k);
        r += k;
    }
    Ok(())
}

/// Copies `k` tile rows of `n` values, `pitch` apart from `tile`, to output
/// rows `step` apart from `out`, positions `inner` apart: by the path's
/// transposes when the rows are adjacent in the output.
///
/// # Safety
/// The tile holds the `k × n` values, and the output positions are in the
/// output buffer.
#[inline(always)]
unsafe fn copy_out<R: RowBody, E: Copy>(
    body: R,
    tile: *const E,
    pitch: usize,
    out: *mut E,
    (step, inner): (isize, isize),
    (k, n): (usize, usize),
) {
    if step == 1 && inner > 0 {
        // Position `j` of the rows is a run of `k` adjacent output elements.
        let copy = Tile {
            src: tile,
            row_step: 1,
            col_step: pitch as isize,
            rows: n,
            cols: k,
            dst: out,
            dst_step: inner as usize,
            src_order: false,
        };
        // SAFETY: the block is the tile's `k × n` values, and `dst` row `j`,
        // column `t` is the output position of row `t`, position `j`.
        unsafe { body.fill_tile(&copy) };
        return;
    }
    for t in 0..k {
        for j in 0..n {
            // SAFETY: row `t`, position `j`: in the tile and the output.
            unsafe {
                let v = tile.add(t * pitch + j).read();
                out.offset(t as isize * step + j as isize * inner).write(v);
            }
        }
    }
}

/// Rows per band of [`drive_tiles`]: as many as keep their source lines within
/// `PACK_BYTES` (a row's picks reach `bound` elements, each on a line of its
/// own once the gather stride is a line long), from 8 to 64, a multiple of 8.
fn band_rows(p: &Plan, width: usize) -> usize {
    let width = width.max(1);
    let pick = p
        .gather_stride
        .unsigned_abs()
        .saturating_mul(width)
        .clamp(width, 64);
    let row = p.bound.saturating_mul(pick).max(1);
    (PACK_BYTES / row).clamp(8, 64) & !7
}

/// Columns per `InnerRun` tile: `TILE_BYTES` of source over `bound` source rows,
/// at least one cache line and a multiple of 16 elements.
pub(crate) fn tile_cols(p: &Plan, width: usize) -> usize {
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

/// The packing driver for an affine plan of `width`-byte elements, if one
/// pays: copying the part of the source a block of work reads into a dense
/// scratch buffer, when the source's own layout would make those reads miss
/// (a large gather stride puts the picked elements on distinct lines and
/// pages, and a power-of-two one on the same few cache sets).
pub(crate) fn packing(p: &Plan, width: usize) -> Option<Driver> {
    let stride_bytes = p.gather_stride.unsigned_abs().saturating_mul(width);
    if p.bound == 0 || stride_bytes < PACK_MIN_STRIDE_BYTES || p.rows < 2 {
        return None;
    }
    match p.class {
        // Packing pays as a streamed copy of blocks the picks would miss on:
        // not for sparse picks, nor for blocks that are contiguous runs of a
        // source small enough to stay cached between calls.
        LayoutClass::InnerRun => {
            let reuse = p.reuse();
            let dense = reuse.saturating_mul(SPARSE_PICKS) >= p.bound;
            let whole = p.gather_stride.unsigned_abs() == p.inner
                && p.bound.saturating_mul(p.inner).saturating_mul(width) <= COLUMN_PACK_BYTES;
            let cached = p.src_len.saturating_mul(width) <= CACHED_SOURCE_BYTES;
            (reuse >= MIN_REUSE && dense && !(whole && cached)).then_some(Driver::PackedColumns)
        }
        LayoutClass::LastDim => {
            let step = p.outer.last()?.src.unsigned_abs().saturating_mul(width);
            let fits = p.bound.saturating_mul(width * 2) <= PACK_BYTES;
            (step != 0 && step < 64 && fits).then_some(Driver::PackedRows)
        }
        _ => None,
    }
}

/// A zeroed scratch buffer for `elems` elements of `width` bytes, with room
/// for a 4-byte load past the last one (`slack` holds inside it).
fn scratch(elems: usize, width: usize) -> Vec<u8> {
    vec![0u8; (elems + 4) * width]
}

/// [`drive`] for [`Driver::PackedColumns`].
///
/// # Safety
/// As [`drive`]; the class is `InnerRun` (source inner stride 1), `E` has
/// alignment 1 and `bound > 0`.
#[inline(always)]
unsafe fn drive_packed_columns<R: RowBody, E: Copy, I: IndexElem>(
    body: R,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let w = size_of::<E>();
    let tile = ((COLUMN_PACK_BYTES / (p.bound * w)) & !15)
        .max(16)
        .min(cols.len());
    let mut buf = scratch(p.bound * tile, w);
    let packed = buf.as_mut_ptr().cast::<E>();
    let mut j0 = cols.start;
    while j0 < cols.end {
        let n = tile.min(cols.end - j0);
        let mut holds = None;
        let mut cur = p.rows_from(rows.start);
        // Each row's index and output runs sit on pages of their own, where
        // the hardware prefetcher starts cold: a cursor `ROWS_AHEAD` rows on
        // asks for them.
        let mut lead = rows.start + ROWS_AHEAD;
        let mut ahead = (lead < rows.end).then(|| p.rows_from(lead));
        for _ in rows.clone() {
            if let Some(a) = ahead.as_mut()
                && lead < rows.end
            {
                let at = |off: isize| off + j0 as isize;
                prefetch_span(job.idx.wrapping_offset(at(a.idx)), n);
                prefetch_span(job.out.wrapping_offset(at(a.out)).cast_const(), n);
                a.advance();
                lead += 1;
            }
            let base = cur.src + j0 as isize;
            if holds != Some(base) {
                for k in 0..p.bound {
                    // SAFETY: for `k < bound` and the tile's columns, the source
                    // elements are this row's (invariant 3, inner stride 1); the
                    // scratch holds `bound · tile >= bound · n` elements.
                    unsafe {
                        let from = job.src.offset(base + k as isize * p.gather_stride);
                        std::ptr::copy_nonoverlapping(from, packed.add(k * n), n);
                    }
                }
                holds = Some(base);
            }
            let row = Row {
                src: packed.cast_const(),
                src_len: p.bound * n,
                base: 0,
                idx: job.idx.wrapping_offset(cur.idx + j0 as isize),
                out: job.out.wrapping_offset(cur.out + j0 as isize),
                n,
                si: 1,
                gs: n as isize,
                bound: p.bound,
                slack: true,
                rows: 1,
                step_src: 0,
                step_idx: 0,
                step_out: 0,
            };
            row.debug_check();
            // SAFETY: the scratch block is this row's source, re-laid dense:
            // element `v·n + j` for `v < bound`, `j < n` was packed above, and the
            // 4 spare elements give `slack`; index and output as in `drive`.
            unsafe { body.rows(&row)? };
            cur.advance();
        }
        j0 += n;
    }
    Ok(())
}

/// [`drive`] for [`Driver::PackedRows`]: the block is filled by the path's
/// tile fill, by register transposes where its rows are adjacent elements (a
/// transposed source).
///
/// # Safety
/// As [`drive`]; the class is `LastDim` (source inner stride 0), the plan has
/// an outer axis, `E` has alignment 1 and `bound > 0`.
#[inline(always)]
unsafe fn drive_packed_rows<R: RowBody, E: Copy, I: IndexElem>(
    body: R,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let w = size_of::<E>();
    let step = p.outer.last().map_or(0, |a| a.src);
    let block = (ROW_PACK_BYTES / (p.bound * w)).clamp(1, ROW_PACK_MAX_ROWS);
    // Rows of the block sit `pitch` elements apart: one cache line more than
    // `bound`, so a power-of-two `bound` does not put every row on the same sets.
    let pitch = p.bound + 64 / w.max(1);
    let mut buf = scratch(pitch * block, w);
    let packed = buf.as_mut_ptr().cast::<E>();
    let j0 = cols.start as isize;
    let mut cur = p.rows_from(rows.start);
    let mut r = rows.start;
    while r < rows.end {
        // Rows `r..r + nb` are consecutive along the innermost outer axis, so row
        // `b` of the block starts `b · step` after this one.
        let nb = block.min(rows.end - r).min(cur.left_in_axis());
        let fill = Tile {
            src: job.src.wrapping_offset(cur.src),
            row_step: step,
            col_step: p.gather_stride,
            rows: nb,
            cols: p.bound,
            dst: packed,
            dst_step: pitch,
            src_order: true,
        };
        // Row `r + b`, `b < nb`, starts `b · step` after this one.
        // SAFETY: its `bound` gather-dim elements are in the source (invariant
        // 3); the scratch holds `nb` rows of `pitch ≥ bound`.
        unsafe { body.fill_tile(&fill) };
        let step = p.outer.last().copied().unwrap_or_default();
        let row = Row {
            src: packed.cast_const(),
            src_len: pitch * block,
            base: 0,
            idx: job.idx.wrapping_offset(cur.idx + j0),
            out: job.out.wrapping_offset(cur.out + j0),
            n: cols.len(),
            si: 0,
            gs: 1,
            bound: p.bound,
            slack: true,
            rows: nb,
            step_src: pitch as isize,
            step_idx: step.idx,
            step_out: step.out,
        };
        row.debug_check();
        // The block's rows are consecutive along the innermost outer axis, so
        // their index and output rows step by its strides (invariant 2).
        // SAFETY: block row `b` holds row `r + b`'s `bound` source elements
        // contiguously (packed above), then at least 4 spare elements.
        unsafe { body.rows(&row)? };
        cur.advance_by(nb);
        r += nb;
    }
    Ok(())
}
