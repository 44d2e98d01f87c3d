//! The scatter kernel: `dest[p with p[dim] = idx[p]] ⊕= src[p]`.
//!
//! Runs on a plan from `Plan::for_scatter`, whose inner axis is the scatter dim:
//! a row's writes may collide only with each other, and they are applied in
//! index order, so results are the same on any number of threads.

use super::BadIndex;
use crate::index::{in_bounds, IndexElem};
use crate::plan::Plan;
use std::ops::Range;

/// How a scattered value meets the element already there.
pub(crate) trait Combine<E>: Sync {
    fn combine(old: E, new: E) -> E;
}

/// `scatter`: the value replaces the element (the last in index order wins).
pub(crate) struct Assign;
impl<E> Combine<E> for Assign {
    #[inline(always)]
    fn combine(_: E, new: E) -> E {
        new
    }
}

/// `scatter_add`: the value is added to the element.
pub(crate) struct Add;
impl<E: crate::Accumulate> Combine<E> for Add {
    #[inline(always)]
    fn combine(old: E, new: E) -> E {
        old.accumulate(new)
    }
}

/// The pointers of one scatter. In the plan, `src` is the written tensor
/// (`dest` here) and `out` the tensor of values (`src` here).
pub(crate) struct ScatterJob<'p, E, I> {
    pub plan: &'p Plan,
    pub dest: *mut E,
    pub idx: *const I,
    pub src: *const E,
}

// SAFETY: shared between threads only by `par::for_each_chunk` with whole rows;
// rows of a scatter plan write disjoint destination elements (they differ in a
// non-dim coordinate of a non-overlapping view) and only read `idx` and `src`.
unsafe impl<E: Send + Sync, I: Sync> Sync for ScatterJob<'_, E, I> {}

/// Scatters rows `rows` of the plan, combining with `C`.
///
/// # Safety
/// `job` holds a `Plan::for_scatter` plan and the base pointers of the buffers its
/// layouts were checked against (the destination also non-overlapping), `rows`
/// lies within `0..plan.rows`, and no other thread touches these rows meanwhile.
pub(crate) unsafe fn scatter_rows<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I>,
    rows: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let step = p.outer.last().copied().unwrap_or_default();
    let mut cur = p.rows_from(rows.start);
    let mut r = rows.start;
    while r < rows.end {
        // When the dim axis strides farther than the rows do (`scatter_add`
        // along dim 0), rows along the innermost outer axis are swept together,
        // one dim position at a time, which is memory order. Each destination
        // element still receives its values in index order along the dim.
        let sweep = p.idx_inner.unsigned_abs() > step.idx.unsigned_abs();
        let k = if sweep {
            (rows.end - r).min(cur.left_in_axis())
        } else {
            1
        } as isize;
        if !sweep {
            // SAFETY: row `r` of the range: its index, value and destination
            // offsets are the cursor's (invariants 2 and 3, as below).
            unsafe { scatter_row::<E, I, C>(job, cur.idx, cur.out, cur.src)? };
        } else {
            for j in 0..p.inner as isize {
                for t in 0..k {
                    // SAFETY: row `r + t` of the range and `j < inner`: an index
                    // position (plan invariant 2).
                    let v = unsafe {
                        job.idx
                            .offset(cur.idx + t * step.idx + j * p.idx_inner)
                            .read()
                    }
                    .to_i64();
                    if !in_bounds(v, p.bound) {
                        return Err(BadIndex);
                    }
                    // The value tensor covers every index position (torch's rule
                    // `index.size(d) <= src.size(d)`, checked before planning).
                    // SAFETY: that rule, and `v < bound`, which makes the destination
                    // element row `r + t`'s (invariant 3).
                    unsafe {
                        let x = job
                            .src
                            .offset(cur.out + t * step.out + j * p.out_inner)
                            .read();
                        let d = job
                            .dest
                            .offset(cur.src + t * step.src + v as isize * p.gather_stride);
                        d.write(C::combine(d.read(), x));
                    }
                }
            }
        }
        for _ in 0..k {
            cur.advance();
        }
        r += k as usize;
    }
    Ok(())
}

/// Values checked per block of [`scatter_row_body`] before any is applied.
const BLOCK: usize = 8;

/// One row of the plan: its index, value and destination offsets.
///
/// # Safety
/// As for [`scatter_rows`], and the offsets are those of one of its rows.
#[inline(always)]
unsafe fn scatter_row<E: Copy, I: IndexElem, C: Combine<E>>(
    job: &ScatterJob<'_, E, I>,
    idx: isize,
    src: isize,
    dest: isize,
) -> Result<(), BadIndex> {
    let p = job.plan;
    // SAFETY: the caller's offsets are those of a row (plan invariants 2, 3).
    let (idx, src, dest) = unsafe {
        (
            job.idx.offset(idx),
            job.src.offset(src),
            job.dest.offset(dest),
        )
    };
    let strides = (p.idx_inner, p.out_inner, p.gather_stride);
    // SAFETY: as the caller's; the unit-stride call is the same body with the
    // strides it was given as constants, so the compiler can vectorize its checks.
    unsafe {
        if strides == (1, 1, 1) {
            scatter_row_body::<E, I, C>(idx, src, dest, (1, 1, 1), p.inner, p.bound)
        } else {
            scatter_row_body::<E, I, C>(idx, src, dest, strides, p.inner, p.bound)
        }
    }
}

/// `dest[idx[j]·gs] ⊕= src[j]` for `j < n`, in order, with `(is, vs, gs)` the
/// strides of index, values and destination. Values are range-checked a block
/// at a time (one branch per block) before any of the block is applied.
///
/// # Safety
/// `idx` and `src` are valid for `n` steps of their strides, and `dest` for
/// offsets `v·gs` with `v < bound`, written by no one else meanwhile.
#[inline(always)]
unsafe fn scatter_row_body<E: Copy, I: IndexElem, C: Combine<E>>(
    idx: *const I,
    src: *const E,
    dest: *mut E,
    (is, vs, gs): (isize, isize, isize),
    n: usize,
    bound: usize,
) -> Result<(), BadIndex> {
    // SAFETY (both loops): `j + k < n` (the caller's contract), and each value
    // is checked against `bound` before its destination address is formed.
    let apply = |j: usize, v: i64| unsafe {
        let x = src.offset(j as isize * vs).read();
        let d = dest.offset(v as isize * gs);
        d.write(C::combine(d.read(), x));
    };
    let blocks = n / BLOCK * BLOCK;
    let mut j = 0usize;
    while j < blocks {
        // Whole blocks at fixed positions, so the values stay in registers (an
        // array on the stack costs twice as much: its stores and the row's
        // loads collide in the store buffer).
        // SAFETY: `j + k < blocks <= n`.
        let vals: [i64; BLOCK] =
            std::array::from_fn(|k| unsafe { idx.offset((j + k) as isize * is).read() }.to_i64());
        if !vals.iter().fold(true, |ok, &v| ok & in_bounds(v, bound)) {
            return Err(BadIndex);
        }
        for (k, &v) in vals.iter().enumerate() {
            apply(j + k, v);
        }
        j += BLOCK;
    }
    for j in blocks..n {
        // SAFETY: `j < n`.
        let v = unsafe { idx.offset(j as isize * is).read() }.to_i64();
        if !in_bounds(v, bound) {
            return Err(BadIndex);
        }
        apply(j, v);
    }
    Ok(())
}
