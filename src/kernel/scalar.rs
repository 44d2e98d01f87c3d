//! Scalar kernels: the general strided one (correct for every layout), the
//! run copier for expanded indices, and the scalar affine row.

use super::{BadIndex, Job, Row, RowBody};
use crate::index::{IndexElem, Resolved, in_bounds, resolve};
use crate::plan::{Plan, RowCursor};
use crate::tune::{RUN_AHEAD_MAX, RUNS_AHEAD, SWEEP_COLS, SWEEP_ROWS};
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
/// As the kernel contract (`kernel/mod.rs`).
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
        debug_assert!(
            s >= 0 && (s as usize) < job.plan.src_len,
            "source offset {s}"
        );
        // SAFETY: `v < bound` was checked just above, so `s` is in the source
        // (invariant 3); the output element is this row's own (invariant 2).
        unsafe { job.out.offset(out + j * oi).write(job.src.offset(s).read()) };
    }
    Ok(())
}

/// Any layout under an [`crate::IndexMode`] other than `Error`: each value is
/// resolved (wrapped, clamped, or replaced by the fill value) before use.
///
/// # Safety
/// As the kernel contract (`kernel/mod.rs`), with the job's fill value.
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
            let value = match resolve::<I>(job.mode, v, p.bound) {
                // SAFETY: `k < bound` (resolve's contract), so the element is in
                // the source (invariant 3).
                Resolved::At(k) => unsafe {
                    let s = cur.src + j * p.src_inner + k as isize * p.gather_stride;
                    job.src.offset(s).read()
                },
                // SAFETY: the job's fill holds a valid `E` (its contract).
                Resolved::Fill => unsafe { job.fill.as_ptr().cast::<E>().read_unaligned() },
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
/// As the kernel contract (`kernel/mod.rs`); the plan's class is `ExpandedRuns` (source and
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
    // the ends of outer axes too.
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
        debug_assert!(s >= 0 && s as usize + n <= p.src_len, "source run at {s}");
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

/// The scalar affine row: one checked load per element.
#[derive(Clone, Copy)]
pub(crate) struct Scalar;

impl RowBody for Scalar {
    #[inline(always)]
    unsafe fn rows<E: Copy, I: IndexElem>(self, r: &Row<E, I>) -> Result<(), BadIndex> {
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
/// As [`RowBody::rows`] for a group of one row, with `from <= to <= r.n`.
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
        debug_assert!(s >= 0 && (s as usize) < r.src_len, "source offset {s}");
        // SAFETY: `v < bound` checked above, so `s` is a source element of this
        // row (invariant 3); `out + j` is the row's own output (invariant 2).
        unsafe { r.out.add(j).write(r.src.offset(s).read()) };
    }
    Ok(())
}
