//! Row kernels and the contract they share.
//!
//! # The kernel contract
//! A kernel runs a rectangle of a [`Plan`] (rows `rows` × inner positions
//! `cols`) through the raw pointers of a [`Job`]. It may assume, and nothing
//! more:
//! - the plan's numbered invariants (see `plan.rs`): every `(row, j)` of the
//!   rectangle names in-bounds index and output elements, no two name the same
//!   output element, and every source offset it can form *for an index value
//!   below `bound`* is in bounds;
//! - the job's pointers are the buffers the plan was built from, and no other
//!   thread touches the rectangle's output elements meanwhile;
//! - the CPU has the kernel's instruction set: the kernel's entry point takes
//!   the detection token that proves it (`crate::isa`).
//!
//! In return it must:
//! - test every index value against `bound` (unsigned) before it forms a
//!   source address from it, and return [`BadIndex`] at the first that fails
//!   (the caller rescans for the position: every kernel names the same one);
//! - when it returns `Ok`, have written every output element of the rectangle
//!   exactly once, with a copy of a source element or, under
//!   [`IndexMode::Fill`], the job's fill value. The allocating entry points
//!   rely on this to mark their output initialised.
//!
//! The row bodies of the affine classes are written once: [`checked::Checked`]
//! over a per-path [`Lanes`] implementation (vector index checks, combined
//! stores), plus the hardware-gather bodies of the x86-64 paths.

pub(crate) mod affine;
pub(crate) mod checked;
pub(crate) mod portable;
pub(crate) mod scalar;
pub(crate) mod scatter;
pub(crate) mod tiny;

use crate::index::IndexElem;
use crate::options::IndexMode;
use crate::plan::Plan;
use crate::tune::{AHEAD_MAX_SPAN, AHEAD_MIN_SPAN, INDEX_AHEAD};
use std::ops::Range;

/// A kernel met an index value outside `0..bound`; which one is found later by
/// a row-major rescan, so every kernel and thread count names the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadIndex;

/// The pointers of one gather, and how out-of-range values are treated.
pub(crate) struct Job<'p, E, I> {
    pub plan: &'p Plan,
    pub src: *const E,
    pub idx: *const I,
    pub out: *mut E,
    /// Kernels other than `scalar::general_mode` only run with `Error`.
    pub mode: IndexMode,
    /// Under [`IndexMode::Fill`], a valid `E` in its first `size_of::<E>()`
    /// bytes (checked against the call's element type by
    /// `GatherOptions::fill_bytes`).
    pub fill: [u8; 16],
}

// SAFETY: a `Job` is shared between threads only by `par::for_each_chunk`, which
// hands each thread a disjoint rectangle; rectangles write disjoint output
// elements (plan invariant 2) and only read `src` and `idx`, which nobody writes.
unsafe impl<E: Send + Sync, I: Sync> Sync for Job<'_, E, I> {}

/// One contiguous stretch of a row for the affine kernels:
/// `out[j] = src[base + j·si + idx[j]·gs]` for `j < n`, index and output contiguous;
/// or `rows` such rows, row `t` shifted by `t` times the `step_*` strides (short
/// rows are handed over in groups, so the per-row cost is a few adds).
pub(crate) struct Row<E, I> {
    /// Start of the source buffer.
    pub src: *const E,
    /// Elements in the source buffer (for the debug checks of offsets).
    pub src_len: usize,
    /// Source offset of position `j = 0`, without the index term.
    pub base: isize,
    pub idx: *const I,
    pub out: *mut E,
    pub n: usize,
    /// Source stride along the row (0 for `LastDim`, 1 for `InnerRun`).
    pub si: isize,
    /// Source stride of the gather dim.
    pub gs: isize,
    pub bound: usize,
    /// A 4-byte load at any source element this row can address stays inside
    /// the source buffer (lets 1- and 2-byte elements use 32-bit gathers).
    #[cfg_attr(
        not(target_arch = "x86_64"),
        expect(dead_code, reason = "only the x86-64 hardware gathers read it")
    )]
    pub slack: bool,
    /// Rows in the group (at least 1).
    pub rows: usize,
    /// Offsets from one row of the group to the next, in elements.
    pub step_src: isize,
    pub step_idx: isize,
    pub step_out: isize,
}

impl<E, I> Clone for Row<E, I> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E, I> Copy for Row<E, I> {}

impl<E, I> Row<E, I> {
    /// Debug builds check invariant 3 for the group: every source offset its
    /// rows can form for an index value below `bound` is inside the buffer
    /// (the extremes are at the first or the last row of the group).
    #[inline(always)]
    pub(crate) fn debug_check(&self) {
        if cfg!(debug_assertions) && self.n > 0 && self.bound > 0 && self.rows > 0 {
            let span = |k: usize, s: isize| (k as isize - 1) * s;
            let (along, picked) = (span(self.n, self.si), span(self.bound, self.gs));
            for t in [0, self.rows - 1] {
                let base = self.base + t as isize * self.step_src;
                let lo = base + along.min(0) + picked.min(0);
                let hi = base + along.max(0) + picked.max(0);
                assert!(
                    lo >= 0 && (hi as usize) < self.src_len,
                    "row {t} of a group reaches source offsets {lo}..={hi} of {}",
                    self.src_len
                );
            }
        }
    }

    /// Row `t < rows` of the group, as a group of one.
    #[inline(always)]
    pub(crate) fn nth(&self, t: usize) -> Row<E, I> {
        let t = t as isize;
        Row {
            base: self.base + t * self.step_src,
            idx: self.idx.wrapping_offset(t * self.step_idx),
            out: self.out.wrapping_offset(t * self.step_out),
            rows: 1,
            ..*self
        }
    }
}

/// Prefetching of the next row of a group while this one runs, spread over the
/// row: its source lines are picked in random order, which the hardware
/// prefetchers cannot follow, so without it each line of a long row is a
/// demand miss. (A burst of prefetches at the row start gained nothing.)
#[derive(Clone, Copy)]
pub(crate) struct Ahead {
    next: *const i8,
    /// Bytes of the next row per position of this one, in 16.16 fixed point.
    per_pos: usize,
}

impl Ahead {
    /// The plan for row `t` of group `r`, if it pays: a row gathered along its
    /// own positive-stride axis (`si == 0`, `gs >= 1`; contiguous, or a
    /// step-`gs` slice) with a next row in the group.
    #[inline(always)]
    pub(crate) fn for_row<E, I>(r: &Row<E, I>, t: usize) -> Option<Ahead> {
        if !(r.si == 0 && r.gs >= 1 && t + 1 < r.rows) {
            return None;
        }
        // Row `t + 1` of the group: a real row, so its offset is in range.
        let next = r
            .src
            .wrapping_offset(r.base + (t as isize + 1) * r.step_src);
        // The row's elements span `(bound - 1) · gs + 1` from its base.
        let len = (r.bound.max(1) - 1) * r.gs as usize + 1;
        Self::over(next, len, r.n)
    }

    /// The plan for a next row of `len` elements at `next`, visited while this
    /// one's `n` positions run, if it pays: a span of 4-32 KiB, and at least
    /// one position per line of it.
    #[inline(always)]
    pub(crate) fn over<E>(next: *const E, len: usize, n: usize) -> Option<Ahead> {
        let span = len * size_of::<E>();
        // `n * 64 >= span`, without the product: a broadcast index may give a
        // row `n` positions past `usize::MAX / 64` (`2^26` on 32-bit targets).
        let worth = (AHEAD_MIN_SPAN..=AHEAD_MAX_SPAN).contains(&span) && n >= span.div_ceil(64);
        worth.then(|| Ahead {
            next: next.cast::<i8>(),
            per_pos: (span << 16) / n,
        })
    }

    /// Asks for the next row's lines at the same fractions as positions
    /// `from..to`.
    #[inline(always)]
    pub(crate) fn lines(self, from: usize, to: usize) {
        let (lo, hi) = ((from * self.per_pos) >> 16, (to * self.per_pos) >> 16);
        let mut b = lo & !63;
        while b < hi {
            self.at_byte(b);
            b += 64;
        }
    }

    /// Asks for the next row's line at the same fraction as position `j`.
    #[inline(always)]
    pub(crate) fn at(self, j: usize) {
        self.at_byte((j * self.per_pos) >> 16);
    }

    /// Asks for the line holding byte `b` of the next row.
    #[inline(always)]
    fn at_byte(self, b: usize) {
        prefetch(self.next.wrapping_add(b));
    }
}

/// Asks for the line [`INDEX_AHEAD`] bytes past `at` of a stream read in memory
/// order: the index, and `scatter`'s values (past a buffer's end it is a hint
/// to nowhere, which never faults).
#[inline(always)]
pub(crate) fn prefetch_stream<I>(at: *const I) {
    prefetch(at.cast::<i8>().wrapping_add(INDEX_AHEAD));
}

/// Asks for the lines of `n` elements from `at` (hints: they never fault).
#[inline(always)]
pub(crate) fn prefetch_span<E>(at: *const E, n: usize) {
    let bytes = n * size_of::<E>();
    let mut b = 0;
    while b < bytes {
        prefetch(at.cast::<i8>().wrapping_add(b));
        b += 64;
    }
}

/// Asks for the cache line holding `at` (a hint: it never faults).
#[inline(always)]
pub(crate) fn prefetch(at: *const i8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint that never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `prfm` is a hint that never faults, whatever the address; it
    // changes no register, flag or memory the program can see.
    unsafe {
        core::arch::asm!(
            "prfm pldl1keep, [{at}]",
            at = in(reg) at,
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = at;
}

/// A block of values (index values, or source elements) to copy into a dense
/// row-major tile:
/// `dst[t·dst_step + j] = src[t·row_step + j·col_step]` for `t < rows`, `j < cols`.
pub(crate) struct Tile<I> {
    pub src: *const I,
    pub row_step: isize,
    pub col_step: isize,
    pub rows: usize,
    pub cols: usize,
    pub dst: *mut I,
    pub dst_step: usize,
    /// The source is the side in memory (the destination a cached tile): one
    /// value at a time, walk it in its own order rather than the destination's.
    pub src_order: bool,
}

impl<I: Copy> Tile<I> {
    /// Copies rows `rows` × columns `cols` of the block one value at a time
    /// (the whole tile on paths without transposes, and the ragged edges of
    /// the others).
    ///
    /// # Safety
    /// Every source position of the block is in its buffer, `dst` holds
    /// `rows` rows of `dst_step >= cols` values, and the ranges lie within
    /// the block.
    #[inline(always)]
    pub(crate) unsafe fn fill_part(&self, rows: Range<usize>, cols: Range<usize>) {
        let one = |t: usize, j: usize| {
            let at = t as isize * self.row_step + j as isize * self.col_step;
            // SAFETY: a position of the block (the caller's contract).
            unsafe {
                self.dst
                    .add(t * self.dst_step + j)
                    .write(self.src.offset(at).read())
            };
        };
        // Source order: along runs of adjacent rows, if that is what they are.
        if self.src_order && self.row_step.unsigned_abs() < self.col_step.unsigned_abs() {
            cols.for_each(|j| rows.clone().for_each(|t| one(t, j)));
        } else {
            rows.for_each(|t| cols.clone().for_each(|j| one(t, j)));
        }
    }
}

// Only the paths with vector transposes fill tiles by blocks.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
impl<I: Copy> Tile<I> {
    /// Fills the tile of a block whose rows are adjacent in memory
    /// (`row_step == 1`) by `B × B` transposes: `block(from, to)` reads `B`
    /// runs of `B` values, `col_step` apart from `from`, and writes them as
    /// the columns of `B` tile rows, `dst_step` apart from `to`. The ragged edges
    /// go one value at a time.
    ///
    /// # Safety
    /// As [`Tile::fill_part`] for the whole block, with `row_step == 1`,
    /// and `block` sound for any `B × B` part of it.
    #[inline(always)]
    pub(crate) unsafe fn fill_blocks<const B: usize>(&self, block: impl Fn(*const I, *mut I)) {
        debug_assert_eq!(self.row_step, 1);
        let (rows, cols) = (self.rows - self.rows % B, self.cols - self.cols % B);
        for j in (0..cols).step_by(B) {
            for t in (0..rows).step_by(B) {
                let from = self
                    .src
                    .wrapping_offset(t as isize + j as isize * self.col_step);
                block(from, self.dst.wrapping_add(t * self.dst_step + j));
            }
        }
        // SAFETY: parts of the block (this function's contract).
        unsafe {
            self.fill_part(rows..self.rows, 0..self.cols);
            self.fill_part(0..rows, cols..self.cols);
        }
    }
}

/// The row code of one path: runs groups of affine rows and fills tiles.
/// A value of it holds the path's detection token where the path needs one.
pub(crate) trait RowBody: Copy {
    /// Runs every row of a [`Row`] group.
    ///
    /// # Safety
    /// Each row of the group satisfies plan invariants 2 and 3 for `j < n`,
    /// and `slack` is true only if its promise holds for all of them.
    unsafe fn rows<E: Copy, I: IndexElem>(self, r: &Row<E, I>) -> Result<(), BadIndex>;

    /// Fills a tile; paths with vector transposes override it.
    ///
    /// # Safety
    /// Every source position of the block is in its buffer, and `dst` holds
    /// `rows` rows of `dst_step >= cols` values.
    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the whole block (this function's contract).
        unsafe { t.fill_part(0..t.rows, 0..t.cols) }
    }
}

/// The vector index checks and stores of one path: what differs per
/// instruction set in the checked-loads row body ([`checked::Checked`]).
/// A value of it holds the path's detection token.
pub(crate) trait Lanes: Copy {
    /// Index values per check.
    const N: usize;
    /// Whether rows ask for their index stream and next row ahead.
    const PREFETCH: bool;
    /// The bound in the form [`Lanes::below`] compares against.
    type Bound: Copy;

    /// `bound` prepared for [`Lanes::below`].
    fn bound(self, bound: usize) -> Self::Bound;

    /// Whether the `N` index values from `p` are all below the bound, as
    /// unsigned numbers (so negative values fail).
    ///
    /// # Safety
    /// The `N` positions from `p` are index positions of the row.
    unsafe fn below<I: IndexElem>(self, p: *const I, bound: Self::Bound) -> bool;

    /// As [`Lanes::below`] for `n < N` values, on paths with masked loads;
    /// `None` where the tail is checked one value at a time.
    ///
    /// # Safety
    /// The `n` positions from `p` are index positions of the row.
    #[inline(always)]
    unsafe fn below_tail<I: IndexElem>(
        self,
        p: *const I,
        n: usize,
        bound: Self::Bound,
    ) -> Option<bool> {
        let _ = (p, n, bound);
        None
    }

    /// Runs one row of the checked-loads body: each path's thin
    /// `#[target_feature]` shim around [`checked::one_row`], so that every row
    /// body is its own function, compiled under the path's features.
    ///
    /// # Safety
    /// As [`checked::one_row`].
    unsafe fn row<E: Copy, I: IndexElem, const DIRECT: bool>(
        self,
        r: &Row<E, I>,
        ahead: Option<Ahead>,
    ) -> Result<(), BadIndex>;

    /// Fills a tile; paths with vector transposes override it.
    ///
    /// # Safety
    /// As [`RowBody::fill_tile`].
    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the whole block (this function's contract).
        unsafe { t.fill_part(0..t.rows, 0..t.cols) }
    }

    /// Copies `N` elements of 4 or 8 bytes, lane `k` from `at(k)`, to `out`
    /// (paths with vector registers combine them into one store).
    ///
    /// # Safety
    /// Each `at(k)`, `k < N`, is a readable `E`; `out` has room for `N`
    /// elements; `E` is 4 or 8 bytes wide.
    #[inline(always)]
    unsafe fn store_combined<E: Copy>(self, out: *mut E, at: impl Fn(usize) -> *const E) {
        for k in 0..Self::N {
            // SAFETY: the caller's contract, lane by lane.
            unsafe { out.add(k).write(at(k).read()) };
        }
    }
}
