//! Chooses the kernel for a plan, once per call, and runs it over the rows.

use crate::index::IndexElem;
use crate::kernel::{scalar, BadIndex, Job, Kernel};
use crate::options::GatherOptions;
use crate::par;
use crate::plan::{LayoutClass, Plan};

/// The kernel for `plan`'s layout class and the element type `E`.
///
/// Specialized kernels plug in here by `(plan.class, size_of::<E>(), I::KIND)`;
/// a class without one runs the general strided kernel, which is correct for all.
pub(crate) fn select<E: Copy, I: IndexElem>(plan: &Plan, _opts: &GatherOptions) -> Kernel<E, I> {
    match plan.class {
        LayoutClass::LastDim
        | LayoutClass::ExpandedRuns
        | LayoutClass::InnerRun
        | LayoutClass::Pick
        | LayoutClass::General => scalar::general::<E, I>,
    }
}

/// Runs the gather described by `plan`.
///
/// # Safety
/// `src`, `idx` and `out` point at the buffers that `plan`'s layouts were checked
/// against (plan invariants 1-3); nothing else accesses `out` during the call.
pub(crate) unsafe fn run<E: Copy + Send + Sync, I: IndexElem>(
    plan: &Plan,
    src: *const E,
    idx: *const I,
    out: *mut E,
    opts: &GatherOptions,
) -> Result<(), BadIndex> {
    let kernel = select::<E, I>(plan, opts);
    let job = Job {
        plan,
        src,
        idx,
        out,
    };
    let row_bytes = plan.inner * (size_of::<E>() + size_of::<I>());
    par::for_each_chunk(plan.rows, row_bytes, opts.parallel, |rows| {
        // SAFETY: the caller vouches for the pointers; `for_each_chunk` gives each
        // call a disjoint sub-range of `0..plan.rows`.
        unsafe { kernel(&job, rows) }
    })
}
