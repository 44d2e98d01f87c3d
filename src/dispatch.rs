//! Chooses the kernel for a plan, once per call, and runs it over the rows.
//!
//! The choice is made from plain facts — layout class, element width, index
//! kind, instruction-set path — by [`choose`], so [`crate::explain`] reports
//! exactly what [`run`] will execute.

#[cfg(target_arch = "x86_64")]
use crate::arch::x86_64::{avx2, avx512};
use crate::element::{kernel_width, Element};
use crate::index::{IndexElem, IndexKind};
use crate::isa::Isa;
use crate::kernel::{affine, portable, scalar, BadIndex, Job, Kernel};
use crate::options::IndexMode;
use crate::par;
use crate::plan::{LayoutClass, Plan};
use std::ops::Range;

/// The kernels there are; each maps to one function per element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KernelId {
    Tiny,
    General,
    GeneralMode,
    Runs,
    AffineScalar,
    AffinePortable,
    #[cfg(target_arch = "x86_64")]
    AffineAvx2,
    #[cfg(target_arch = "x86_64")]
    AffineAvx2Gather,
    #[cfg(target_arch = "x86_64")]
    AffineAvx512,
    #[cfg(target_arch = "x86_64")]
    AffineAvx512Gather,
}

/// A kernel choice: which kernel, on which path (see [`crate::explain`]).
///
/// ```
/// use fastgather::{explain, GatherOptions, Isa, LayoutClass, TensorView};
/// let src = TensorView::new(&[0u8; 64], &[8, 8]).unwrap();
/// let idx = TensorView::new(&[0i64; 8], &[8, 1]).unwrap();
/// let choice = explain(&src, 1, &idx, &GatherOptions::new().isa(Isa::Scalar)).unwrap().unwrap();
/// assert_eq!((choice.class, choice.isa), (LayoutClass::Pick, Isa::Scalar));
/// assert_eq!(choice.kernel, "scalar::affine");
/// ```
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

impl KernelChoice {
    /// The tiny path of calls with at most a few dozen index elements, taken
    /// before any plan exists (see `gather::tiny`).
    pub(crate) fn tiny(class: LayoutClass) -> Self {
        Self {
            class,
            isa: Isa::Scalar,
            kernel: "scalar::tiny",
            id: KernelId::Tiny,
        }
    }
}

/// Picks the kernel for `plan`'s layout class, an element `width` in bytes (0 for
/// widths without byte-width kernels) and the index kind, on path `isa`.
///
/// The kernel table:
/// - any class under an index mode other than `Error`: the scalar strided
///   kernel that resolves each value.
/// - `ExpandedRuns`: the run copier (`memcpy` per run) on every path.
/// - `LastDim`, `InnerRun`, `Pick`, `StridedIndex`, `General`: the affine
///   kernel of the path asked for (over dense tiles of a strided index or
///   output for the last two);
///   16-byte elements take the scalar-load variant of the gather paths
///   (`Avx2`, `Avx512`: vector checks, 16-byte moves), and widths without a
///   byte-width kernel the scalar strided kernel.
pub(crate) fn choose(plan: &Plan, width: usize, _kind: IndexKind, isa: Isa) -> KernelChoice {
    let (isa, id, kernel) = match plan.class {
        _ if plan.mode != IndexMode::Error => {
            (Isa::Scalar, KernelId::GeneralMode, "scalar::general_mode")
        }
        LayoutClass::ExpandedRuns => (Isa::Scalar, KernelId::Runs, "scalar::runs"),
        LayoutClass::LastDim
        | LayoutClass::InnerRun
        | LayoutClass::Pick
        | LayoutClass::StridedIndex
        | LayoutClass::General => match (isa, width) {
            (_, 0) => (Isa::Scalar, KernelId::General, "scalar::general"),
            (Isa::Scalar, _) => (Isa::Scalar, KernelId::AffineScalar, "scalar::affine"),
            (Isa::Portable, _) => (Isa::Portable, KernelId::AffinePortable, "portable::affine"),
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2, _) | (Isa::Avx2Gather, 16) => {
                (Isa::Avx2, KernelId::AffineAvx2, "avx2::affine_loads")
            }
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512 | Isa::Avx512Gather, 16) => {
                (Isa::Avx512, KernelId::AffineAvx512, "avx512::affine_loads")
            }
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2Gather, _) => (
                Isa::Avx2Gather,
                KernelId::AffineAvx2Gather,
                "avx2::affine_gather",
            ),
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, _) => (Isa::Avx512, KernelId::AffineAvx512, "avx512::affine_loads"),
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512Gather, _) => (
                Isa::Avx512Gather,
                KernelId::AffineAvx512Gather,
                "avx512::affine_gather",
            ),
            #[cfg(not(target_arch = "x86_64"))]
            _ => (Isa::Portable, KernelId::AffinePortable, "portable::affine"),
        },
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
        // Tiny calls are served before a plan exists; the general kernel is
        // correct for any plan, should one arrive here.
        KernelId::Tiny | KernelId::General => scalar::general::<E, I>,
        KernelId::GeneralMode => scalar::general_mode::<E, I>,
        KernelId::Runs => scalar::runs::<E, I>,
        KernelId::AffineScalar => affine_scalar::<E, I>,
        KernelId::AffinePortable => portable::affine::<E, I>,
        #[cfg(target_arch = "x86_64")]
        KernelId::AffineAvx2 => avx2::affine_loads::<E, I>,
        #[cfg(target_arch = "x86_64")]
        KernelId::AffineAvx2Gather => avx2::affine_gather::<E, I>,
        #[cfg(target_arch = "x86_64")]
        KernelId::AffineAvx512 => avx512::affine_loads::<E, I>,
        #[cfg(target_arch = "x86_64")]
        KernelId::AffineAvx512Gather => avx512::affine_gather::<E, I>,
    }
}

/// The affine kernel with the scalar row body.
///
/// # Safety
/// As for [`Kernel`].
unsafe fn affine_scalar<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive::<scalar::Scalar, E, I>(job, rows, cols) }
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
    let choice = choose(plan, kernel_width::<E>(), I::KIND, isa);
    let kernel = kernel::<E, I>(choice.id);
    let job = Job {
        plan,
        src,
        idx,
        out,
    };
    let elem_bytes = size_of::<E>() + size_of::<I>();
    // Column tiles of an `InnerRun` are packed per task, and rows with the same
    // source base share them: those rows stay in one task.
    let split = match plan.class {
        LayoutClass::InnerRun => par::Split::InnerFirst {
            group: affine::reuse(plan),
        },
        _ => par::Split::Any,
    };
    par::for_each_chunk(
        plan.rows,
        plan.inner,
        elem_bytes,
        parallel,
        split,
        |rows, cols| {
            // SAFETY: the caller vouches for the pointers and that `isa` (the path of
            // the chosen kernel, or one below it) is available; `for_each_chunk` gives
            // each call a disjoint rectangle inside `rows × inner`.
            unsafe { kernel(&job, rows, cols) }
        },
    )
}

/// Runs `plan` with `T` moved as raw bytes of its width.
///
/// # Safety
/// As [`run`]. Reading `T` as `[u8; W]` is sound because `T` has no
/// uninitialized bytes (`NoUninit`) and `[u8; W]` has alignment 1; writing those
/// bytes back makes a copy of a valid `T`.
pub(crate) unsafe fn run_by_width<T: Element, I: IndexElem>(
    plan: &Plan,
    src: *const T,
    idx: *const I,
    out: *mut T,
    isa: Isa,
    parallel: bool,
) -> Result<(), BadIndex> {
    macro_rules! by_width {
        ($($w:literal),*) => {
            match size_of::<T>() {
                $(
                    // SAFETY: the caller's guarantees, re-typed as documented above.
                    $w => unsafe {
                        run::<[u8; $w], I>(plan, src.cast(), idx, out.cast(), isa, parallel)
                    },
                )*
                // SAFETY: the caller's guarantees, on `T` itself.
                _ => unsafe { run::<T, I>(plan, src, idx, out, isa, parallel) },
            }
        };
    }
    by_width!(1, 2, 4, 8, 16)
}
