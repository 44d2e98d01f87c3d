//! Scalar kernels: the general strided one (correct for every layout), the
//! run copier for expanded indices, and the scalar affine row.

use super::{BadIndex, Job, Row, RowKernel};
use crate::index::{in_bounds, resolve, IndexElem, Resolved};
use crate::plan::{Plan, RowCursor};
use std::ops::Range;

/// Any layout (it runs every class for element widths without byte-width
/// kernels): per row, walk the inner axis with the three strides.
///
/// When the index steps farther along the inner axis than across rows (a
/// transposed index), rows along the innermost outer axis go [`SWEEP_ROWS`] at
/// a time: a tile of their index values is first copied into a dense row-major
/// block, reading each inner position's values across the rows in memory
/// order (one page per position instead of one per value), and the rows are
/// then walked along the block.
///
/// # Safety
/// As for [`super::Kernel`].
pub(crate) unsafe fn general<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let step = p.outer.last().copied().unwrap_or_default();
    let sweep = p.idx_inner.unsigned_abs() > step.idx.unsigned_abs();
    let mut tile = Vec::new();
    if sweep {
        tile.resize(SWEEP_ROWS * SWEEP_COLS, I::from_i64_wrapping(0));
    }
    let mut cur = p.rows_from(rows.start);
    let mut r = rows.start;
    while r < rows.end {
        if !sweep {
            // SAFETY: the row's index positions `cols` (plan invariant 2).
            let idx = |j: isize| unsafe { job.idx.offset(cur.idx + j * p.idx_inner).read() };
            // SAFETY: row `r` of the rectangle, walked at its own offsets.
            unsafe { general_row(job, (cur.src, cur.out), cols.clone(), idx)? };
            cur.advance();
            r += 1;
            continue;
        }
        let k = (rows.end - r).min(cur.left_in_axis()).min(SWEEP_ROWS);
        let mut j0 = cols.start;
        while j0 < cols.end {
            let w = SWEEP_COLS.min(cols.end - j0);
            for j in 0..w {
                for t in 0..k {
                    let at = cur.idx + t as isize * step.idx + (j0 + j) as isize * p.idx_inner;
                    // Row `r + t` lies in the range along the innermost outer
                    // axis (offsets: the cursor's plus `t` steps).
                    // SAFETY: that row and `j0 + j < inner`: an index position
                    // (plan invariant 2).
                    tile[t * w + j] = unsafe { job.idx.offset(at).read() };
                }
            }
            for t in 0..k {
                let (src, out) = (
                    cur.src + t as isize * step.src,
                    cur.out + t as isize * step.out,
                );
                let row = &tile[t * w..(t + 1) * w];
                let idx = |j: isize| row[j as usize - j0];
                // SAFETY: row `r + t`, at its own offsets (as above).
                unsafe { general_row(job, (src, out), j0..j0 + w, idx)? };
            }
            j0 += w;
        }
        cur.advance_by(k);
        r += k;
    }
    Ok(())
}

/// Positions `cols` of one row whose source and output offsets are `at`, with
/// the index value of position `j` from `idx(j)`.
///
/// # Safety
/// `at` are the offsets of a row of the plan and `cols` lie in `0..inner`.
#[inline(always)]
unsafe fn general_row<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    at: (isize, isize),
    cols: Range<usize>,
    idx: impl Fn(isize) -> I,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let strides = (p.src_inner, p.out_inner, p.gather_stride);
    // SAFETY: forwarded. A gather along a contiguous source row into a
    // contiguous output row gets the same body with those strides as constants.
    unsafe {
        if strides == (0, 1, 1) {
            general_row_body(job, at, cols, idx, (0, 1, 1))
        } else {
            general_row_body(job, at, cols, idx, strides)
        }
    }
}

/// [`general_row`] with the strides `(src_inner, out_inner, gather_stride)`.
///
/// # Safety
/// As for [`general_row`], with the plan's own strides.
#[inline(always)]
unsafe fn general_row_body<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    (src, out): (isize, isize),
    cols: Range<usize>,
    idx: impl Fn(isize) -> I,
    (si, oi, gs): (isize, isize, isize),
) -> Result<(), BadIndex> {
    let bound = job.plan.bound;
    for j in cols.start as isize..cols.end as isize {
        let v = idx(j).to_i64();
        if !in_bounds(v, bound) {
            return Err(BadIndex);
        }
        let s = src + j * si + v as isize * gs;
        // SAFETY: `v < bound` was checked just above, so `s` is in the source
        // (invariant 3); the output element is this row's own (invariant 2).
        unsafe { job.out.offset(out + j * oi).write(job.src.offset(s).read()) };
    }
    Ok(())
}

/// Rows one sweep of [`general`] takes: enough that each index line read is
/// used whole (eight `i64`, sixteen `i32`), few enough that the swept rows'
/// source stays in L2 from one tile to the next.
const SWEEP_ROWS: usize = 16;
/// Inner positions per tile of a sweep: the tile of `i64` values is 32 KiB.
/// Transposed `i64` index on [2048, 2048] `f32`, one thread (`isa_compare
/// transposed_idx`): 26.3 ms unswept, 16.2 ms swept without a tile, 12.9 ms
/// with 16 × 256 tiles; 32 × 128 14.4 ms, 64 × 64 18.4 ms, 16 × 2048 14.9 ms.
const SWEEP_COLS: usize = 256;

/// Any layout under an [`crate::IndexMode`] other than `Error`: each value is
/// resolved (wrapped, clamped, or replaced by the fill value) before use.
///
/// # Safety
/// As for [`super::Kernel`]; for `Fill`, `plan.fill` holds a valid `E` in its
/// first `size_of::<E>()` bytes (at most 16).
pub(crate) unsafe fn general_mode<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let mut cur = p.rows_from(rows.start);
    for _ in rows {
        for j in cols.start as isize..cols.end as isize {
            // SAFETY: `j < inner`, so this is an index position (plan invariant 2).
            let v = unsafe { job.idx.offset(cur.idx + j * p.idx_inner).read() }.to_i64();
            let value = match resolve::<I>(p.mode, v, p.bound) {
                // SAFETY: `k < bound` (resolve's contract), so the element is in
                // the source (invariant 3).
                Resolved::At(k) => unsafe {
                    let s = cur.src + j * p.src_inner + k as isize * p.gather_stride;
                    job.src.offset(s).read()
                },
                // SAFETY: the caller's contract on `plan.fill`.
                Resolved::Fill => unsafe { p.fill.as_ptr().cast::<E>().read_unaligned() },
                Resolved::Bad => return Err(BadIndex),
            };
            // SAFETY: the output element is this rectangle's own (invariant 2).
            unsafe { job.out.offset(cur.out + j * p.out_inner).write(value) };
        }
        cur.advance();
    }
    Ok(())
}

/// `ExpandedRuns`: the index is constant along the inner axis, so each row is one
/// contiguous source run, checked once and copied whole (as `index_select` would).
///
/// # Safety
/// As for [`super::Kernel`]; the plan's class is `ExpandedRuns` (source and
/// output inner strides 1, index inner stride 0).
pub(crate) unsafe fn runs<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    debug_assert_eq!((p.src_inner, p.idx_inner, p.out_inner), (1, 0, 1));
    let (j, n) = (cols.start as isize, cols.len());
    let run_bytes = n * size_of::<E>();
    let mut walk = RowWalk::new(p, rows.start);
    // The row `RUNS_AHEAD` on, walked on its own so that the lookahead crosses
    // the ends of outer axes too (before, it stopped eight rows short of each
    // of the 32 batch ends of `expanded_tokens`).
    let mut next = (run_bytes <= RUN_AHEAD_MAX && rows.start + RUNS_AHEAD < rows.end)
        .then(|| RowWalk::new(p, rows.start + RUNS_AHEAD));
    for r in rows.clone() {
        // The run `RUNS_AHEAD` rows on is fetched while this one is copied: the
        // runs lie in random order, and each is too short for the hardware to
        // catch up.
        if let Some(nx) = next.as_mut() {
            let (src, idx, _) = nx.at();
            // SAFETY: `nx` stands at row `r + RUNS_AHEAD`, a row of this
            // rectangle, so its index element is in bounds (plan invariant 2).
            let v = unsafe { job.idx.offset(idx).read() }.to_i64();
            if in_bounds(v, p.bound) {
                let s = src + j + v as isize * p.gather_stride;
                super::prefetch_span(job.src.wrapping_offset(s), n);
            }
            if r + RUNS_AHEAD + 1 < rows.end {
                nx.step();
            } else {
                next = None;
            }
        }
        let (src, idx, out) = walk.at();
        // SAFETY: the row's index element (plan invariant 2; inner stride 0).
        let v = unsafe { job.idx.offset(idx).read() }.to_i64();
        if !in_bounds(v, p.bound) {
            return Err(BadIndex);
        }
        let s = src + j + v as isize * p.gather_stride;
        // SAFETY: `v < bound`, so the `n` source elements from `s` are this row's
        // (invariant 3, source inner stride 1); the output run is the rectangle's
        // own (invariant 2), in another buffer than the source.
        unsafe {
            std::ptr::copy_nonoverlapping(job.src.offset(s), job.out.offset(out + j), n);
        }
        walk.step();
    }
    Ok(())
}

/// Rows in order, for short rows: offsets step along the innermost outer
/// axis, and the full cursor moves only where a run of that axis ends.
/// `expanded_tokens`, one thread, six alternating standalone runs: 257-302 µs
/// with a cursor per row and no lookahead across batch ends, 237-260 µs with
/// the lookahead, 225-257 µs walking (two threads: 145-149, 140-145, 136-147).
struct RowWalk<'p> {
    cur: RowCursor<'p>,
    /// Strides of the innermost outer axis (source, index, output).
    step: (isize, isize, isize),
    /// Rows taken since `cur`, and rows in its run.
    taken: usize,
    run: usize,
}

impl<'p> RowWalk<'p> {
    fn new(p: &'p Plan, row: usize) -> Self {
        let cur = p.rows_from(row);
        let a = p.outer.last().copied().unwrap_or_default();
        let run = cur.left_in_axis();
        Self {
            cur,
            step: (a.src, a.idx, a.out),
            taken: 0,
            run,
        }
    }

    /// Source, index and output offsets of the current row.
    #[inline(always)]
    fn at(&self) -> (isize, isize, isize) {
        let t = self.taken as isize;
        (
            self.cur.src + t * self.step.0,
            self.cur.idx + t * self.step.1,
            self.cur.out + t * self.step.2,
        )
    }

    #[inline(always)]
    fn step(&mut self) {
        self.taken += 1;
        if self.taken == self.run {
            self.cur.advance_by(self.run);
            self.taken = 0;
            self.run = self.cur.left_in_axis();
        }
    }
}

/// Longest run that [`runs`] prefetches ahead (longer ones the hardware
/// prefetchers follow once started). `expanded_tokens` (1 KiB runs), one
/// thread, interleaved: 431 µs against 460-471 µs without (one row ahead,
/// in an earlier build).
const RUN_AHEAD_MAX: usize = 4 << 10;

/// Rows ahead whose run [`runs`] asks for: one row's copy is shorter than a
/// miss to memory. `expanded_tokens`, standalone, one thread (three
/// interleaved runs each): 242-259 µs at 1 row, 211-227 at 4, 207-220 at 8,
/// 223-236 at 12.
const RUNS_AHEAD: usize = 8;

/// The scalar affine row: one checked load per element, eight in flight.
pub(crate) struct Scalar;

impl RowKernel for Scalar {
    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
        for t in 0..r.rows {
            // SAFETY: forwarded from this function's contract, row by row.
            unsafe { row_range(&r.nth(t), 0, r.n)? };
        }
        Ok(())
    }
}

/// Elements `from..to` of a row, one at a time; also the tail of vector rows.
///
/// # Safety
/// As [`RowKernel::row`], with `from <= to <= r.n`.
#[inline(always)]
pub(crate) unsafe fn row_range<E: Copy, I: IndexElem>(
    r: &Row<E, I>,
    from: usize,
    to: usize,
) -> Result<(), BadIndex> {
    for j in from..to {
        // SAFETY: `j < n`: an index position of this row (plan invariant 2).
        let v = unsafe { r.idx.add(j).read() }.to_i64();
        if !in_bounds(v, r.bound) {
            return Err(BadIndex);
        }
        let s = r.base + j as isize * r.si + v as isize * r.gs;
        // SAFETY: `v < bound` checked above, so `s` is a source element of this
        // row (invariant 3); `out + j` is the row's own output (invariant 2).
        unsafe { r.out.add(j).write(r.src.offset(s).read()) };
    }
    Ok(())
}

/// Copies positions `from..to` of a row whose indices were already checked
/// (by a vector compare); the loads are independent, so they overlap.
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
/// checked vector (`last_perm`, AVX-512, one thread: 1.44 -> 1.31 ms with the
/// combined stores of the vector paths).
///
/// # Safety
/// As [`RowKernel::row`], with `k < r.n`, the index at `k` below `r.bound`,
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
        r.src.offset(s)
    }
}
