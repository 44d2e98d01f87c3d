//! Chooses the kernel for a plan, once per call, and runs it over the rows.
//!
//! The choice is made from plain facts — layout class, element width, index
//! kind, instruction-set path — by [`choose`], so [`crate::explain`] reports
//! exactly what [`run`] will execute.

use crate::index::{IndexElem, IndexKind};
use crate::isa::Isa;
use crate::kernel::{scalar, BadIndex, Job, Kernel};
use crate::par;
use crate::plan::{LayoutClass, Plan};

/// The kernels there are; each maps to one function per element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KernelId {
    ScalarGeneral,
}

/// A kernel choice: which kernel, on which path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelChoice {
    /// The layout class of the reduced problem.
    pub class: LayoutClass,
    /// The instruction-set path the chosen kernel runs on.
    pub isa: Isa,
    /// The kernel's name, for reports and benchmarks.
    pub kernel: &'static str,
    pub(crate) id: KernelId,
}

/// Picks the kernel for `plan`'s layout class, an element `width` in bytes and
/// the index kind, on path `isa` or the best lower one that has such a kernel.
pub(crate) fn choose(plan: &Plan, _width: usize, _kind: IndexKind, _isa: Isa) -> KernelChoice {
    let (isa, id, kernel) = match plan.class {
        LayoutClass::LastDim
        | LayoutClass::ExpandedRuns
        | LayoutClass::InnerRun
        | LayoutClass::Pick
        | LayoutClass::General => (Isa::Scalar, KernelId::ScalarGeneral, "scalar::general"),
    };
    KernelChoice {
        class: plan.class,
        isa,
        kernel,
        id,
    }
}

/// The function of kernel `id` for element type `E` and index type `I`.
fn kernel<E: Copy, I: IndexElem>(id: KernelId) -> Kernel<E, I> {
    match id {
        KernelId::ScalarGeneral => scalar::general::<E, I>,
    }
}

/// Runs the gather described by `plan` on path `isa` (or the best lower one).
///
/// # Safety
/// `src`, `idx` and `out` point at the buffers that `plan`'s layouts were checked
/// against (plan invariants 1-3), `isa` is available on this CPU, and nothing
/// else accesses `out` during the call.
pub(crate) unsafe fn run<E: Copy + Send + Sync, I: IndexElem>(
    plan: &Plan,
    src: *const E,
    idx: *const I,
    out: *mut E,
    isa: Isa,
    parallel: bool,
) -> Result<(), BadIndex> {
    let choice = choose(plan, crate::width::kernel_width::<E>(), I::KIND, isa);
    let kernel = kernel::<E, I>(choice.id);
    let job = Job {
        plan,
        src,
        idx,
        out,
    };
    let row_bytes = plan.inner * (size_of::<E>() + size_of::<I>());
    par::for_each_chunk(plan.rows, row_bytes, parallel, |rows| {
        // SAFETY: the caller vouches for the pointers and the path; `for_each_chunk`
        // gives each call a disjoint sub-range of `0..plan.rows`.
        unsafe { kernel(&job, rows) }
    })
}
