//! Row kernels: each runs a range of a [`Plan`]'s rows through raw pointers.
//!
//! A kernel trusts the plan's numbered invariants (see `plan.rs`) and checks
//! index values itself, before it forms any source address.

pub mod reference;
pub(crate) mod scalar;

use crate::plan::Plan;
use std::ops::Range;

/// A kernel met an index value outside `0..bound`; which one is found later by
/// a row-major rescan, so every kernel and thread count names the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadIndex;

/// The pointers of one gather: the buffers the plan's layouts were checked against.
pub(crate) struct Job<'p, E, I> {
    pub plan: &'p Plan,
    pub src: *const E,
    pub idx: *const I,
    pub out: *mut E,
}

// SAFETY: a `Job` is shared between threads only by `par::for_each_chunk`, which
// hands each thread a disjoint row range; rows write disjoint output elements
// (plan invariant 2) and only read `src` and `idx`, which nobody writes.
unsafe impl<E: Send + Sync, I: Sync> Sync for Job<'_, E, I> {}

/// Every kernel has this signature.
///
/// # Safety
/// `job` holds the plan and the base pointers of the buffers its layouts were
/// checked against (plan invariants 1-3), `rows` lies within `0..plan.rows`, and
/// no other thread touches the output elements of those rows meanwhile.
pub(crate) type Kernel<E, I> = unsafe fn(&Job<'_, E, I>, Range<usize>) -> Result<(), BadIndex>;
