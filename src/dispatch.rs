//! The dispatch table: (operation, layout class, element width, index mode,
//! instruction-set path) -> kernel, driver and thread split, chosen once per
//! call by [`choose`], so [`crate::explain`] reports exactly what [`run`]
//! executes; and the width re-typing that lets one kernel body per width serve
//! every element type.
//!
//! Each path's line in the table hands its detection token to the path's
//! entry point ([`affine_on`], [`on_path`]); nothing else calls into `arch/`.

#[cfg(target_arch = "aarch64")]
use crate::arch::aarch64::neon;
#[cfg(target_arch = "x86_64")]
use crate::arch::x86_64::{avx2, avx512};
use crate::element::{Element, kernel_width};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::isa::{Isa, Path};
use crate::kernel::affine::{self, Driver};
use crate::kernel::checked::Checked;
use crate::kernel::portable::Portable;
use crate::kernel::scalar::{self, Scalar};
use crate::kernel::{BadIndex, Job};
use crate::options::{GatherOptions, IndexMode};
use crate::par::{self, Split};
use crate::plan::{LayoutClass, Plan, ScatterPlan};
use crate::tune::{COLUMN_PACK_BYTES, ROW_PACK_BYTES, TILE_MIN_BYTES, TINY_MAX, TINY_RANK};
use std::ops::Range;

/// The kernels there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KernelId {
    /// Small calls, walked on the views before any plan exists.
    Tiny,
    /// Any layout, one element at a time (widths without a byte-width kernel).
    General,
    /// Any layout under an index mode other than `Error`.
    GeneralMode,
    /// Expanded indices: one source run per row.
    Runs,
    /// The affine classes: the path's row body under a driver.
    Affine,
    /// Scatter and scatter_add rows.
    Scatter,
}

/// A kernel choice: which kernel, on which path, visiting rows in which order
/// (see [`crate::explain`]).
///
/// ```
/// use fastgather::{explain, Driver, GatherOptions, Isa, LayoutClass, TensorView};
/// let src = TensorView::new(&[0u8; 64], &[8, 8]).unwrap();
/// let idx = TensorView::new(&[0i64; 8], &[8, 1]).unwrap();
/// let choice = explain(&src, 1, &idx, &GatherOptions::new().isa(Isa::Scalar)).unwrap().unwrap();
/// assert_eq!((choice.class, choice.isa), (LayoutClass::Pick, Isa::Scalar));
/// assert_eq!((choice.kernel, choice.driver), ("scalar::affine", Driver::Plain));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KernelChoice {
    /// The layout class of the reduced problem.
    pub class: LayoutClass,
    /// The instruction-set path the chosen kernel runs on.
    pub isa: Isa,
    /// The kernel's name, for reports and benchmarks.
    pub kernel: &'static str,
    /// The order the kernel visits the rows in.
    pub driver: Driver,
    pub(crate) id: KernelId,
    pub(crate) path: Path,
    pub(crate) split: Split,
}

impl KernelChoice {
    /// The tiny path of calls with at most a few dozen index elements, taken
    /// before any plan exists.
    pub(crate) fn tiny(class: LayoutClass) -> Self {
        Self {
            class,
            isa: Isa::Scalar,
            kernel: "scalar::tiny",
            driver: Driver::Plain,
            id: KernelId::Tiny,
            path: Path::Scalar,
            split: Split::Any,
        }
    }
}

/// Whether a gather takes the tiny path: a small index, no forced path or
/// driver (tests that force one get it), torch's index mode.
#[inline]
pub(crate) fn takes_tiny(len: usize, rank: usize, opts: &GatherOptions) -> bool {
    len <= TINY_MAX
        && rank <= TINY_RANK
        && opts.isa.is_none()
        && opts.driver.is_none()
        && opts.index_mode() == IndexMode::Error
}

/// The table. For a gather plan with elements of `width` bytes (0 for widths
/// without a byte-width kernel) on `path`:
/// - an index mode other than `Error`: the scalar strided kernel that
///   resolves each value;
/// - `ExpandedRuns`: the run copier (`memcpy` per run);
/// - widths without a byte-width kernel: the scalar strided kernel;
/// - the affine classes (`LastDim`, `InnerRun`, `Pick`, `StridedIndex`,
///   `General`): the path's row body under the driver [`driver_for`] picks
///   (or `forced`, where it applies); 16-byte elements take the scalar-load
///   body of a gather path (there is no 16-byte hardware gather).
///
/// Fails only when `forced` names a driver that cannot run this plan.
pub(crate) fn choose(
    plan: &Plan,
    width: usize,
    path: Path,
    mode: IndexMode,
    forced: Option<Driver>,
) -> Result<KernelChoice, GatherError> {
    let plain = |kernel, id| (Path::Scalar, kernel, id, Driver::Plain);
    let (path, kernel, id, driver) = match plan.class {
        _ if mode != IndexMode::Error => plain("scalar::general_mode", KernelId::GeneralMode),
        LayoutClass::ExpandedRuns => plain("scalar::runs", KernelId::Runs),
        _ if width == 0 => plain("scalar::general", KernelId::General),
        _ => {
            let path = if width == 16 {
                path.without_gather()
            } else {
                path
            };
            let driver = match forced {
                Some(d) if applies(d, plan, width) => d,
                Some(d) => {
                    return Err(GatherError::InvalidOption {
                        reason: format!(
                            "the {d:?} driver cannot run a {:?} gather of {width}-byte elements",
                            plan.class
                        ),
                    });
                }
                None => driver_for(plan, width),
            };
            (path, affine_name(path), KernelId::Affine, driver)
        }
    };
    if forced.is_some_and(|d| d != driver) {
        return Err(GatherError::InvalidOption {
            reason: format!(
                "a driver was forced, but this call runs {kernel}, which has none to choose"
            ),
        });
    }
    let split = match (id, plan.class) {
        // Rows with the same source base share packed column tiles: such
        // rows stay in one task.
        (KernelId::Affine, LayoutClass::InnerRun) => Split::InnerFirst {
            group: plan.reuse(),
        },
        _ => Split::Any,
    };
    Ok(KernelChoice {
        class: plan.class,
        isa: path.isa(),
        kernel,
        driver,
        id,
        path,
        split,
    })
}

/// The choice for a scatter plan on `path`: one row kernel, compiled under the
/// path's features, rows never split (rows never share a written element, and
/// each applies its values in index order). Its name says whether rows run one
/// at a time along the dim (`line`) or are swept together, a dim position at a
/// time, because the dim strides farther than the rows (`sweep`).
pub(crate) fn choose_scatter(plan: &ScatterPlan, path: Path) -> KernelChoice {
    let sweep = plan.idx_inner().unsigned_abs() > plan.step().idx.unsigned_abs();
    KernelChoice {
        class: plan.class(),
        isa: path.isa(),
        kernel: if sweep {
            "scatter::sweep"
        } else {
            "scatter::line"
        },
        driver: Driver::Plain,
        id: KernelId::Scatter,
        path,
        split: Split::RowsOnly,
    }
}

/// The name of the affine kernel on `path`.
fn affine_name(path: Path) -> &'static str {
    match path.isa() {
        Isa::Scalar => "scalar::affine",
        Isa::Portable => "portable::affine",
        Isa::Neon => "neon::affine_loads",
        Isa::Avx2 => "avx2::affine_loads",
        Isa::Avx2Gather => "avx2::affine_gather",
        Isa::Avx512 => "avx512::affine_loads",
        Isa::Avx512Gather => "avx512::affine_gather",
    }
}

/// The driver for an affine plan: tiles for a strided index or output,
/// packing where the source's own layout would make the picks miss (see
/// [`affine::packing`]), column tiles for rows that pick from the same source
/// block where a tile still leaves runs of `TILE_MIN_BYTES`, else rows in
/// order.
pub(crate) fn driver_for(plan: &Plan, width: usize) -> Driver {
    match plan.class {
        LayoutClass::StridedIndex | LayoutClass::General => Driver::Tiles,
        _ => match affine::packing(plan, width) {
            Some(d) => d,
            None if plan.class == LayoutClass::InnerRun
                && plan.rows > 1
                && tiles_pay(plan, width) =>
            {
                Driver::ColumnTiles
            }
            None => Driver::Plain,
        },
    }
}

/// Whether column tiles split an `InnerRun` plan's rows into runs long
/// enough to pay: a tile narrower than all the columns, and at least
/// `TILE_MIN_BYTES` wide.
fn tiles_pay(plan: &Plan, width: usize) -> bool {
    let cols = affine::tile_cols(plan, width);
    cols < plan.inner && cols.saturating_mul(width) >= TILE_MIN_BYTES
}

/// Whether `driver` can run an affine `plan` of `width`-byte elements.
fn applies(driver: Driver, plan: &Plan, width: usize) -> bool {
    let class = plan.class;
    let packable = |cap: usize| plan.bound > 0 && plan.bound.saturating_mul(width) <= cap;
    match driver {
        Driver::Tiles => matches!(class, LayoutClass::StridedIndex | LayoutClass::General),
        Driver::Plain => matches!(
            class,
            LayoutClass::LastDim | LayoutClass::InnerRun | LayoutClass::Pick
        ),
        Driver::ColumnTiles => class == LayoutClass::InnerRun,
        Driver::PackedColumns => class == LayoutClass::InnerRun && packable(COLUMN_PACK_BYTES),
        Driver::PackedRows => {
            class == LayoutClass::LastDim && !plan.outer.is_empty() && packable(ROW_PACK_BYTES)
        }
    }
}

/// Runs an affine kernel on `path`: each path's entry point, given its token.
///
/// # Safety
/// The kernel contract (`kernel/mod.rs`) for `job`, `rows` and `cols`;
/// `driver` applies to the plan.
#[inline(always)]
unsafe fn affine_on<E: Copy, I: IndexElem>(
    path: Path,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
    driver: Driver,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded; each token came from detection (`Path::detect`).
    unsafe {
        match path {
            Path::Scalar => affine::drive(Scalar, job, rows, cols, driver),
            Path::Portable => affine::drive(Checked(Portable), job, rows, cols, driver),
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 { token, gather } => match gather {
                false => avx2::affine(
                    token,
                    Checked(avx2::Avx2Lanes(token)),
                    job,
                    rows,
                    cols,
                    driver,
                ),
                true => avx2::affine(token, avx2::Avx2Gather(token), job, rows, cols, driver),
            },
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 { token, gather } => match gather {
                false => {
                    let lanes = Checked(avx512::Avx512Lanes(token));
                    avx512::affine(token, lanes, job, rows, cols, driver)
                }
                true => avx512::affine(token, avx512::Avx512Gather(token), job, rows, cols, driver),
            },
            #[cfg(target_arch = "aarch64")]
            Path::Neon { token } => neon::affine(
                token,
                Checked(neon::NeonLanes(token)),
                job,
                rows,
                cols,
                driver,
            ),
        }
    }
}

/// Runs `f` compiled under `path`'s features (what it inlines may use them):
/// the row kernels of scatter and of the losses go through here.
#[inline(always)]
pub(crate) fn on_path<O>(path: Path, f: impl FnOnce() -> O) -> O {
    match path {
        Path::Scalar | Path::Portable => f(),
        // SAFETY: the token came from detection.
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 { token, .. } => unsafe { avx2::under(token, f) },
        // SAFETY: the token came from detection.
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 { token, .. } => unsafe { avx512::under(token, f) },
        // SAFETY: the token came from detection.
        #[cfg(target_arch = "aarch64")]
        Path::Neon { token } => unsafe { neon::under(token, f) },
    }
}

/// Runs a gather `choice` over `job`'s plan, split across threads.
///
/// # Safety
/// `job` satisfies the kernel contract for the whole plan, `choice` was made
/// by [`choose`] for this plan, and nothing else accesses the output during
/// the call.
unsafe fn run<E: Copy + Send + Sync, I: IndexElem>(
    choice: &KernelChoice,
    job: &Job<'_, E, I>,
    parallel: bool,
) -> Result<(), BadIndex> {
    split(choice, job, parallel, |rows, cols| {
        // SAFETY: `split` gives each call a disjoint rectangle inside
        // `rows × inner`; the rest is the caller's.
        unsafe {
            match choice.id {
                KernelId::Affine => affine_on(choice.path, job, rows, cols, choice.driver),
                _ => scalar_kernel(choice.id, job, rows, cols),
            }
        }
    })
}

/// [`run`] for elements without a byte-width kernel, which [`choose`] never
/// sends to an affine kernel: only the scalar kernels are compiled for them.
///
/// # Safety
/// As [`run`].
unsafe fn run_scalar<E: Copy + Send + Sync, I: IndexElem>(
    choice: &KernelChoice,
    job: &Job<'_, E, I>,
    parallel: bool,
) -> Result<(), BadIndex> {
    debug_assert_ne!(choice.id, KernelId::Affine);
    split(choice, job, parallel, |rows, cols| {
        // SAFETY: as in `run`.
        unsafe { scalar_kernel(choice.id, job, rows, cols) }
    })
}

/// The scalar kernel `id` names on one rectangle; the general kernel is
/// correct for any plan, so it serves every other id.
///
/// # Safety
/// As [`scalar::general`], on a rectangle no other call touches.
unsafe fn scalar_kernel<E: Copy, I: IndexElem>(
    id: KernelId,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: the caller's guarantees.
    unsafe {
        match id {
            KernelId::GeneralMode => scalar::general_mode(job, rows, cols),
            KernelId::Runs => scalar::runs(job, rows, cols),
            _ => scalar::general(job, rows, cols),
        }
    }
}

/// Splits `job`'s `rows × inner` into disjoint rectangles across threads, as
/// `choice` says, and runs `body` on each.
fn split<E, I>(
    choice: &KernelChoice,
    job: &Job<'_, E, I>,
    parallel: bool,
    body: impl Fn(Range<usize>, Range<usize>) -> Result<(), BadIndex> + Sync,
) -> Result<(), BadIndex> {
    let plan = job.plan;
    par::for_each_chunk(
        plan.rows,
        plan.inner,
        size_of::<E>() + size_of::<I>(),
        parallel,
        choice.split,
        |rows, cols| {
            debug_assert!(rows.end <= plan.rows && cols.end <= plan.inner);
            body(rows, cols)
        },
    )
}

/// Runs a gather `choice` for `plan` with `T` moved as raw bytes of its width
/// where a byte-width kernel serves it (1, 2, 4, 8, 16 bytes), else as `T`.
///
/// The byte-width call goes through [`run_bytes`], which is generic over
/// nothing: its kernels are compiled once, in this crate, whatever element and
/// index types a caller uses, so a caller's own crate (a test binary, a
/// user's program) compiles only this thin shim, not the kernels again.
///
/// # Safety
/// `src`, `idx` and `out` point at the buffers `plan` was built from (the
/// output with room for every position the plan names), `choice` was made by
/// [`choose`] for `plan` with `kernel_width::<T>()`, `fill` holds a valid `T`
/// under `IndexMode::Fill`, and nothing else accesses the output during the
/// call. Reading `T` as `[u8; W]` is sound because `T` has no uninitialized
/// bytes (`NoUninit`) and `[u8; W]` has alignment 1; writing those bytes back
/// makes a copy of a valid `T`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn run_by_width<T: Element, I: IndexElem>(
    choice: &KernelChoice,
    plan: &Plan,
    src: *const T,
    idx: *const I,
    out: *mut T,
    mode: IndexMode,
    fill: [u8; 16],
    parallel: bool,
) -> Result<(), BadIndex> {
    debug_assert_eq!(choice.class, plan.class);
    // A constant condition: rustc compiles only the branch `T` takes.
    if const { kernel_width::<T>() == 0 } {
        let job = Job {
            plan,
            src,
            idx,
            out,
            mode,
            fill,
        };
        // SAFETY: the caller's guarantees, on `T` itself.
        unsafe { run_scalar(choice, &job, parallel) }
    } else {
        let bytes = Bytes {
            width: kernel_width::<T>(),
            src: src.cast(),
            idx: IndexPtr::of(idx),
            out: out.cast(),
        };
        // SAFETY: the caller's guarantees; `width` is `T`'s size, and the
        // index pointer keeps its element type (see `IndexPtr::of`).
        unsafe { run_bytes(choice, plan, bytes, mode, fill, parallel) }
    }
}

/// An index buffer with its element type as a value, not a type parameter.
#[derive(Clone, Copy)]
enum IndexPtr {
    I32(*const i32),
    I64(*const i64),
    U32(*const u32),
    U64(*const u64),
}

impl IndexPtr {
    /// `idx` re-typed as the fixed-width integer of the same kind and size:
    /// `usize` is `u64` or `u32` by its width, which reads the same values
    /// (`to_i64` is `as i64` on each).
    fn of<I: IndexElem>(idx: *const I) -> Self {
        use crate::index::IndexKind;
        match (I::KIND, size_of::<I>()) {
            (IndexKind::I32, _) => Self::I32(idx.cast()),
            (IndexKind::I64, _) => Self::I64(idx.cast()),
            (IndexKind::U32, _) | (IndexKind::U64, 4) => Self::U32(idx.cast()),
            (IndexKind::U64, _) => Self::U64(idx.cast()),
        }
    }
}

/// The buffers of a byte-width gather: elements as `width` raw bytes.
struct Bytes {
    width: usize,
    src: *const u8,
    idx: IndexPtr,
    out: *mut u8,
}

/// [`run`] on `[u8; width]` elements and the index type `bytes.idx` names:
/// the one place the byte-width kernels are instantiated.
///
/// # Safety
/// As [`run_by_width`], with `bytes.width` one of 1, 2, 4, 8 and 16.
#[inline(never)]
unsafe fn run_bytes(
    choice: &KernelChoice,
    plan: &Plan,
    bytes: Bytes,
    mode: IndexMode,
    fill: [u8; 16],
    parallel: bool,
) -> Result<(), BadIndex> {
    macro_rules! by_width {
        ($idx:expr, $($w:literal),*) => {
            match bytes.width {
                $(
                    $w => {
                        let job = Job {
                            plan,
                            src: bytes.src.cast::<[u8; $w]>(),
                            idx: $idx,
                            out: bytes.out.cast::<[u8; $w]>(),
                            mode,
                            fill,
                        };
                        // SAFETY: the caller's guarantees, re-typed as
                        // `run_by_width` documents.
                        unsafe { run(choice, &job, parallel) }
                    }
                )*
                w => unreachable!("no byte-width kernel for {w}-byte elements"),
            }
        };
    }
    match bytes.idx {
        IndexPtr::I32(idx) => by_width!(idx, 1, 2, 4, 8, 16),
        IndexPtr::I64(idx) => by_width!(idx, 1, 2, 4, 8, 16),
        IndexPtr::U32(idx) => by_width!(idx, 1, 2, 4, 8, 16),
        IndexPtr::U64(idx) => by_width!(idx, 1, 2, 4, 8, 16),
    }
}
