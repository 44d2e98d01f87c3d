//! The scatter kernel: `dest[p with p[dim] = idx[p]] ⊕= src[p]`.
//!
//! Runs on a plan from `Plan::scatter`, whose inner axis is the scatter dim:
//! a row's writes may collide only with each other, and they are applied in
//! index order, so results are the same on any number of threads.

use super::{Ahead, BadIndex};
use crate::element::{Accumulate, Reduce};
use crate::index::{IndexElem, Resolved, in_bounds, resolve};
use crate::options::IndexMode;
use crate::plan::{ScatterAxis, ScatterCursor, ScatterPlan};
use crate::tune::{
    SCATTER_AHEAD_CHUNK as AHEAD_CHUNK, SCATTER_BLOCK as BLOCK, SCATTER_PACK_AHEAD as PACK_AHEAD,
    SCATTER_SHARED_AHEAD as SHARED_AHEAD, SCATTER_SWEEP_AHEAD as SWEEP_AHEAD,
    SCATTER_SWEEP_BYTES as SWEEP_BYTES, SCATTER_SWEEP_MIN_ROWS as SWEEP_MIN_ROWS,
};
use std::ops::Range;

/// How a scattered value meets the element already there.
pub(crate) trait Combine<E>: Sync {
    fn combine(&self, old: E, new: E) -> E;
}

/// `scatter`: the value replaces the element (the last in index order wins).
pub(crate) struct Assign;
impl<E> Combine<E> for Assign {
    #[inline(always)]
    fn combine(&self, _: E, new: E) -> E {
        new
    }
}

/// `scatter_add`: the value is added to the element.
pub(crate) struct Add;
impl<E: Accumulate> Combine<E> for Add {
    #[inline(always)]
    fn combine(&self, old: E, new: E) -> E {
        old.accumulate(new)
    }
}

/// `scatter_reduce(.., "prod")`: the value multiplies the element.
pub(crate) struct Mul;
impl<E: Reduce> Combine<E> for Mul {
    #[inline(always)]
    fn combine(&self, old: E, new: E) -> E {
        old.product(new)
    }
}

/// `scatter_reduce(.., "amax")`: the larger of the two, NaN winning.
pub(crate) struct Max;
impl<E: Reduce> Combine<E> for Max {
    #[inline(always)]
    fn combine(&self, old: E, new: E) -> E {
        old.maximum(new)
    }
}

/// `scatter_reduce(.., "amin")`: the smaller of the two, NaN winning.
pub(crate) struct Min;
impl<E: Reduce> Combine<E> for Min {
    #[inline(always)]
    fn combine(&self, old: E, new: E) -> E {
        old.minimum(new)
    }
}

/// `index_add` with an `alpha`: `old + new * alpha`, rounded once when
/// `fused` (as torch on tensors of rank 2 and up), else twice (rank 1).
pub(crate) struct AddScaled<E> {
    pub alpha: E,
    pub fused: bool,
}
impl<E: Reduce + Sync> Combine<E> for AddScaled<E> {
    #[inline(always)]
    fn combine(&self, old: E, new: E) -> E {
        if self.fused {
            old.add_fused(new, self.alpha)
        } else {
            old.accumulate(new.product(self.alpha))
        }
    }
}

/// The pointers of one scatter: the destination, the index and the values
/// (`src`, torch's name for them).
pub(crate) struct ScatterJob<'p, E, I, C> {
    pub plan: &'p ScatterPlan,
    pub dest: *mut E,
    pub idx: *const I,
    pub src: *const E,
    /// What an out-of-range value means; only read once a block fails its check.
    pub mode: IndexMode,
    /// How a value meets its element.
    pub op: C,
}

/// What a line needs to place and combine its values: the size of the dim,
/// the index mode, the combination.
pub(crate) struct Meet<'a, C> {
    bound: usize,
    mode: IndexMode,
    op: &'a C,
}

impl<E, I, C> ScatterJob<'_, E, I, C> {
    #[inline(always)]
    fn meet(&self) -> Meet<'_, C> {
        Meet {
            bound: self.plan.bound(),
            mode: self.mode,
            op: &self.op,
        }
    }
}

// SAFETY: shared between threads only by `par::for_each_chunk` with whole rows;
// rows of a scatter plan write disjoint destination elements (they differ in a
// non-dim coordinate of a non-overlapping view) and only read `idx` and `src`.
unsafe impl<E: Send + Sync, I: Sync, C: Sync> Sync for ScatterJob<'_, E, I, C> {}

/// Scatters rows `rows` of the plan, combining with `C`. Rows that share
/// their index apply only the values whose destination along the dim lies in
/// `within` (the others are another thread's); other rows apply all of them.
///
/// # Safety
/// `job` holds a `Plan::scatter` plan and the base pointers of the buffers its
/// layouts were checked against (the destination also non-overlapping), `rows`
/// lies within `0..plan.rows`, and no other thread touches these rows (for
/// rows that share their index: these rows' destinations in `within`)
/// meanwhile.
pub(crate) unsafe fn scatter_rows<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I, C>,
    rows: Range<usize>,
    within: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let step = p.step();
    let mut cur = p.rows_from(rows.start);
    let mut r = rows.start;
    let mut scratch = Vec::new();
    let shared = shares_index(p);
    while r < rows.end {
        if shared {
            // Rows that share their index: swept together, one index value
            // and one destination run per dim position.
            let k = (rows.end - r).min(cur.left_in_axis());
            // SAFETY: rows `r..r + k` lie in the range and along the
            // innermost outer axis, so each step of `step` is the next row's
            // (plan invariants 2 and 3), and that step's index stride is 0.
            unsafe { scatter_shared::<E, I, C>(job, &cur, step, k, within.clone())? };
            cur.advance_by(k);
            r += k;
            continue;
        }
        // When the dim axis strides farther than the rows do (`scatter_add`
        // along dim 0), rows along the innermost outer axis are swept together,
        // one dim position at a time, which is memory order. Each destination
        // element still receives its values in index order along the dim.
        // A sweep takes at most `tile` rows, so that the destination elements it
        // can hit (`bound` per row) stay in L2 until the sweep is done with them.
        let sweep = p.idx_inner().unsigned_abs() > step.idx.unsigned_abs();
        // A zero-sized element takes no room: the divisor is at least 1.
        let hit = p.bound().max(1).saturating_mul(size_of::<E>()).max(1);
        let tile = (SWEEP_BYTES / hit).max(SWEEP_MIN_ROWS);
        let k = if sweep {
            (rows.end - r).min(cur.left_in_axis()).min(tile)
        } else {
            1
        } as isize;
        if !sweep {
            // The next row's destination, when it is contiguous and in range.
            let next = r + 1 < rows.end && cur.left_in_axis() > 1 && p.dim_stride() == 1;
            let ahead = next
                .then(|| {
                    let at = job.dest.wrapping_offset(cur.dest() + step.dest);
                    Ahead::over(at, p.bound(), p.inner())
                })
                .flatten();
            // SAFETY: row `r` of the range: its index, value and destination
            // offsets are the cursor's, and it runs `inner` steps along the dim
            // (plan invariants 2 and 3).
            unsafe {
                scatter_line::<E, I, C>(
                    job,
                    (cur.idx(), cur.values(), cur.dest()),
                    (p.idx_inner(), p.values_inner(), 0),
                    p.inner(),
                    ahead,
                )?
            };
        } else if packs(p, k as usize) {
            // SAFETY: rows `r..r + k` lie in the range and along the innermost
            // outer axis, so each step of `step` is the next row's (plan
            // invariants 2 and 3).
            unsafe { scatter_packed::<E, I, C>(job, &cur, step, k as usize, &mut scratch)? };
        } else {
            for j in 0..p.inner() as isize {
                // SAFETY: dim position `j < inner` of rows `r..r + k`, which lie
                // in the range and along the innermost outer axis, so each step
                // of `step` is the next row's (plan invariants 2 and 3).
                unsafe {
                    scatter_line::<E, I, C>(
                        job,
                        (
                            cur.idx() + j * p.idx_inner(),
                            cur.values() + j * p.values_inner(),
                            cur.dest(),
                        ),
                        (step.idx, step.values, step.dest),
                        k as usize,
                        None,
                    )?
                };
            }
        }
        cur.advance_by(k as usize);
        r += k as usize;
    }
    Ok(())
}

/// Whether the rows along the plan's innermost outer axis share their index
/// (an index expanded across them, as torch's `idx.view(-1, 1).expand(E, D)`
/// for a scatter along dim 0): a sweep of them then reads one index value per
/// dim position and meets one destination run with one run of values.
pub(crate) fn shares_index(p: &ScatterPlan) -> bool {
    p.rows() > 1 && p.step().idx == 0 && p.idx_inner() != 0
}

/// A sweep of `k` rows that share their index, from the cursor's: for each
/// dim position `j` in order, one index value `v`, then
/// `dest[row t, v] ⊕= src[row t, j]` for `t < k`. Each element still receives
/// its values in index order. The destination run of the position
/// [`SHARED_AHEAD`] ahead is asked for before each position runs, as are its
/// values.
///
/// # Safety
/// As for [`scatter_rows`], with `k` rows from the cursor's lying in the range
/// and along the innermost outer axis, whose step is `step`, with
/// `step.idx == 0`.
unsafe fn scatter_shared<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I, C>,
    cur: &ScatterCursor<'_>,
    step: ScatterAxis,
    k: usize,
    within: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let at = (cur.idx(), cur.values(), cur.dest());
    let steps = (p.idx_inner(), p.values_inner(), p.dim_stride());
    // The common layouts call the same body with the rows' steps as
    // constants, so the run's loop vectorizes: contiguous runs of values and
    // destination, and a destination run met by one value (a mean's counts).
    // SAFETY: as the caller's.
    unsafe {
        match (step.values, step.dest) {
            (1, 1) => shared_body::<E, I, C, 1, 1>(job, at, steps, k, within),
            (0, 1) => shared_body::<E, I, C, 0, 1>(job, at, steps, k, within),
            _ => shared_body_strided(job, at, steps, (step.values, step.dest), k, within),
        }
    }
}

/// [`scatter_shared`] with the rows' value and destination steps `VS`, `DS`.
///
/// # Safety
/// As for [`scatter_shared`], with `at` the cursor's (index, values,
/// destination) offsets, `steps` the plan's index and values strides along
/// the dim and the destination's dim stride, and the rows stepping by `VS`
/// values and `DS` destination elements.
#[inline(always)]
unsafe fn shared_body<E: Copy, I: IndexElem, C: Combine<E>, const VS: isize, const DS: isize>(
    job: &ScatterJob<'_, E, I, C>,
    at: (isize, isize, isize),
    steps: (isize, isize, isize),
    k: usize,
    within: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: the caller's contract, with the steps as constants.
    unsafe { shared_body_strided(job, at, steps, (VS, DS), k, within) }
}

/// The body of [`scatter_shared`], rows stepping by `(vs, ds)`.
///
/// # Safety
/// As for [`shared_body`].
#[inline(always)]
unsafe fn shared_body_strided<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I, C>,
    (i0, v0, d0): (isize, isize, isize),
    (is, vs_dim, gs): (isize, isize, isize),
    (vs, ds): (isize, isize),
    k: usize,
    within: Range<usize>,
) -> Result<(), BadIndex> {
    let Meet { bound, mode, op } = job.meet();
    // This thread's destinations: `lo <= v < hi`, in one unsigned compare.
    let (lo, span) = (within.start as i64, within.len());
    let mine = |v: i64| in_bounds(v.wrapping_sub(lo), span);
    let n = job.plan.inner();
    // A run's lines, for the hints: from its first element to its last.
    let run_bytes = (k.saturating_sub(1) * size_of::<E>()) as isize;
    let hint = |from: *const E, stride: isize| {
        let first = from.cast::<i8>();
        let last = first.wrapping_offset(run_bytes.wrapping_mul(stride));
        let (lo, hi) = if stride >= 0 {
            (first, last)
        } else {
            (last, first)
        };
        let mut line = lo.wrapping_sub(lo as usize & 63);
        while line <= hi {
            super::prefetch(line);
            line = line.wrapping_add(64);
        }
    };
    for j in 0..n {
        let ja = j + SHARED_AHEAD;
        if ja < n && (ds == 1 || ds == -1) && vs.unsigned_abs() <= 1 {
            // SAFETY: `ja < n`: an index position of the first row (the
            // caller's contract).
            let w = unsafe { job.idx.offset(i0 + ja as isize * is).read() }.to_i64();
            if in_bounds(w, bound) && mine(w) {
                // Hints may name any address: wrapping offsets.
                hint(
                    job.dest.wrapping_offset(d0.wrapping_add(w as isize * gs)),
                    ds,
                );
                if vs != 0 {
                    hint(job.src.wrapping_offset(v0 + ja as isize * vs_dim), vs);
                }
            }
        }
        // SAFETY: `j < n`, as above.
        let v = unsafe { job.idx.offset(i0 + j as isize * is).read() }.to_i64();
        let v = if in_bounds(v, bound) {
            v as isize
        } else {
            match resolve::<I>(mode, v, bound) {
                Resolved::At(v) => v as isize,
                Resolved::Fill => continue,
                Resolved::Bad => return Err(BadIndex),
            }
        };
        if !mine(v as i64) {
            continue;
        }
        // Rows `t < k` of the sweep at dim position `j` read value
        // `v0 + j·vs_dim + t·vs` (plan invariant 2) and write destination
        // element `d0 + v·gs + t·ds` (invariant 3), in a different buffer.
        // SAFETY: `j < n`, `v < bound`, and no other thread touches that
        // destination (`v` is in `within`: the caller's contract).
        unsafe {
            let src = job.src.offset(v0 + j as isize * vs_dim);
            let dest = job.dest.offset(d0 + v * gs);
            if (vs, ds) == (1, 1) {
                let d = std::slice::from_raw_parts_mut(dest, k);
                let s = std::slice::from_raw_parts(src, k);
                for (d, &s) in d.iter_mut().zip(s) {
                    *d = op.combine(*d, s);
                }
            } else if (vs, ds) == (0, 1) {
                let x = src.read();
                for d in std::slice::from_raw_parts_mut(dest, k) {
                    *d = op.combine(*d, x);
                }
            } else {
                for t in 0..k as isize {
                    let d = dest.offset(t * ds);
                    d.write(op.combine(d.read(), src.offset(t * vs).read()));
                }
            }
        }
    }
    Ok(())
}

/// Whether a sweep of `k` rows accumulates into a dense copy of the elements it
/// can hit: when they are spread over far more pages than that copy (a
/// destination row per dim position, as along dim 0) and each gets enough
/// values to pay for copying it in and out.
fn packs(p: &ScatterPlan, k: usize) -> bool {
    p.dim_stride().unsigned_abs() > k && p.inner().saturating_mul(4) >= p.bound()
}

/// A sweep of `k` rows from the cursor's, accumulated in `scratch`: the
/// `bound × k` destination elements the rows can hit are copied in (element
/// `(v, t)` to `v·k + t`; one `memcpy` per `v` when the rows are adjacent,
/// which halves the page walks of the copy), every dim position's values are combined
/// there in index order, and the block is copied back. Each element thus sees the same
/// sequence of combinations as in place. After a bad index the block is not
/// copied back (the destination may be partly written, as documented).
///
/// # Safety
/// As for [`scatter_rows`], with `k` rows from the cursor's lying in the range
/// and along the innermost outer axis, whose step is `step`.
unsafe fn scatter_packed<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I, C>,
    cur: &ScatterCursor<'_>,
    step: ScatterAxis,
    k: usize,
    scratch: &mut Vec<E>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let at = |v: usize, t: usize| cur.dest() + t as isize * step.dest + v as isize * p.dim_stride();
    scratch.clear();
    for v in 0..p.bound() {
        if step.dest == 1 {
            // A hint past the last row may name any address: wrapping offsets.
            let ahead = ((v + PACK_AHEAD) as isize).wrapping_mul(p.dim_stride());
            super::prefetch_span(job.dest.wrapping_offset(cur.dest().wrapping_add(ahead)), k);
        }
        if step.dest == 1 {
            // SAFETY: as below, for the `k` elements of rows `0..k`, which
            // are adjacent; `reserve` made room for them past `len`.
            unsafe {
                scratch.reserve(k);
                let len = scratch.len();
                let from = job.dest.offset(at(v, 0));
                std::ptr::copy_nonoverlapping(from, scratch.as_mut_ptr().add(len), k);
                scratch.set_len(len + k);
            }
            continue;
        }
        // SAFETY: `v < bound` and row `t` of the sweep: a destination element
        // of that row (plan invariant 3).
        scratch.extend((0..k).map(|t| unsafe { job.dest.offset(at(v, t)).read() }));
    }
    let block = scratch.as_mut_ptr();
    for j in 0..p.inner() as isize {
        let (iv, sv) = (
            cur.idx() + j * p.idx_inner(),
            cur.values() + j * p.values_inner(),
        );
        if (step.idx, step.values) == (1, 1) {
            // Hints past the last dim position: wrapping offsets, as above.
            let d = SWEEP_AHEAD as isize;
            let (ia, sa) = (
                d.wrapping_mul(p.idx_inner()),
                d.wrapping_mul(p.values_inner()),
            );
            super::prefetch_span(job.idx.wrapping_offset(iv.wrapping_add(ia)), k);
            super::prefetch_span(job.src.wrapping_offset(sv.wrapping_add(sa)), k);
        }
        // SAFETY: dim position `j < inner` of the sweep's rows (plan invariant
        // 2); the block holds `bound × k` elements, `v·k + t` for `v < bound`,
        // `t < k`. Rows stepping by one get the body with constant steps.
        unsafe {
            let (idx, src) = (job.idx.offset(iv), job.src.offset(sv));
            let gs = k as isize;
            if (step.idx, step.values) == (1, 1) {
                scatter_line_body::<E, I, C>(idx, src, block, (1, 1, 1), gs, k, job.meet())?
            } else {
                scatter_line_body::<E, I, C>(
                    idx,
                    src,
                    block,
                    (step.idx, step.values, 1),
                    gs,
                    k,
                    job.meet(),
                )?
            }
        }
    }
    for v in 0..p.bound() {
        if step.dest == 1 {
            // SAFETY: the `k` adjacent elements copied in above, written back.
            unsafe {
                let to = job.dest.offset(at(v, 0));
                std::ptr::copy_nonoverlapping(scratch.as_ptr().add(v * k), to, k);
            }
            continue;
        }
        for t in 0..k {
            // SAFETY: the element copied in above, written back.
            unsafe { job.dest.offset(at(v, t)).write(scratch[v * k + t]) };
        }
    }
    Ok(())
}

/// One line of index positions: `n` steps from the offsets `at` = (index,
/// values, destination) by `steps` = (index, values, destination base).
///
/// # Safety
/// As for [`scatter_rows`], and the `n` positions are index positions of rows
/// the caller owns: every step lands on one (plan invariants 2 and 3).
#[inline(always)]
unsafe fn scatter_line<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I, C>,
    at: (isize, isize, isize),
    steps: (isize, isize, isize),
    n: usize,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    let gs = job.plan.dim_stride();
    // SAFETY: the caller's offsets are those of an index position.
    let (idx, src, dest) = unsafe {
        (
            job.idx.offset(at.0),
            job.src.offset(at.1),
            job.dest.offset(at.2),
        )
    };
    // SAFETY: as the caller's. The common shapes call the same body with their
    // steps as constants, so the compiler can vectorize its checks: a row along
    // a contiguous dim, and a sweep across contiguous rows.
    unsafe {
        match (steps, gs) {
            ((1, 1, 0), 1) if ahead.is_some() => {
                // A contiguous row whose next one is prefetched a chunk at a
                // time, at the same fraction of its length.
                let mut j = 0;
                while j < n {
                    let m = AHEAD_CHUNK.min(n - j);
                    ahead.inspect(|a| a.lines(j, j + m));
                    let (idx, src) = (idx.add(j), src.add(j));
                    scatter_line_body::<E, I, C>(idx, src, dest, (1, 1, 0), 1, m, job.meet())?;
                    j += m;
                }
                Ok(())
            }
            ((1, 1, 0), 1) => {
                scatter_line_body::<E, I, C>(idx, src, dest, (1, 1, 0), 1, n, job.meet())
            }
            ((1, 1, 1), _) => {
                scatter_line_body::<E, I, C>(idx, src, dest, (1, 1, 1), gs, n, job.meet())
            }
            _ => scatter_line_body::<E, I, C>(idx, src, dest, steps, gs, n, job.meet()),
        }
    }
}

/// `dest[j·ds + idx[j·is]·gs] ⊕= src[j·vs]` for `j < n`, in order. Values are
/// range-checked a block at a time (one branch per block) before any of the
/// block is applied.
///
/// # Safety
/// `idx` and `src` are valid for `n` steps of their strides, and `dest` for
/// offsets `j·ds + v·gs` with `j < n`, `v < bound`, written by no one else
/// meanwhile.
#[inline(always)]
unsafe fn scatter_line_body<E: Copy, I: IndexElem, C: Combine<E>>(
    idx: *const I,
    src: *const E,
    dest: *mut E,
    (is, vs, ds): (isize, isize, isize),
    gs: isize,
    n: usize,
    Meet { bound, mode, op }: Meet<'_, C>,
) -> Result<(), BadIndex> {
    // Both loops below call this with `j < n` and a value already checked.
    let apply = |j: usize, v: i64| {
        // SAFETY: `j < n` (the caller's contract) and `v < bound`.
        unsafe {
            let x = src.offset(j as isize * vs).read();
            let d = dest.offset(j as isize * ds + v as isize * gs);
            d.write(op.combine(d.read(), x));
        }
    };
    // A value that may be out of range: resolved under the index mode, the
    // write skipped under `Drop`. Kept off the checked blocks' path.
    let apply_resolved = |j: usize, v: i64| match resolve::<I>(mode, v, bound) {
        Resolved::At(v) => {
            apply(j, v as i64);
            Ok(())
        }
        Resolved::Fill => Ok(()),
        Resolved::Bad => Err(BadIndex),
    };
    let blocks = n / BLOCK * BLOCK;
    let mut j = 0usize;
    while j < blocks {
        if (is, ds) == (1, 0) {
            // Along a contiguous row the index and value streams run on past
            // it, so they are asked for ahead, a line at a time. A sweep
            // across rows leaves them after `n` steps: there it measured slower.
            super::prefetch_stream(idx.wrapping_add(j));
            if vs == 1 && j.is_multiple_of((64 / size_of::<E>().max(1)).max(BLOCK)) {
                super::prefetch_stream(src.wrapping_add(j));
            }
        }
        // The block's values are checked together (one branch), then read
        // again one by one as they are applied: a second load is cheaper than
        // moving each lane out of a vector register. (An array of them on the
        // stack costs twice as much: its stores and the row's loads collide in
        // the store buffer.)
        // SAFETY: `j + k < blocks <= n`.
        let at = |k: usize| unsafe { idx.offset((j + k) as isize * is).read() }.to_i64();
        if (0..BLOCK).fold(true, |ok, k| ok & in_bounds(at(k), bound)) {
            for k in 0..BLOCK {
                apply(j + k, at(k));
            }
        } else {
            for k in 0..BLOCK {
                apply_resolved(j + k, at(k))?;
            }
        }
        j += BLOCK;
    }
    for j in blocks..n {
        // SAFETY: `j < n`.
        apply_resolved(j, unsafe { idx.offset(j as isize * is).read() }.to_i64())?;
    }
    Ok(())
}
