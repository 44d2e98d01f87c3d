//! The one place that reinterprets elements by byte width.
//!
//! Gather only copies elements, so a `T` of width 1, 2, 4, 8 or 16 bytes is moved
//! as `[u8; W]`: one kernel body per width serves every dtype. Other widths
//! (odd-sized `Pod` structs, zero-sized types) run the kernels on `T` itself.

use crate::dispatch;
use crate::index::IndexElem;
use crate::isa::Isa;
use crate::kernel::BadIndex;
use crate::plan::Plan;

/// An element type gather can move: any type without padding or uninitialized
/// bytes (every `bytemuck::Pod` type, `bool`, `char`, ...).
///
/// Its bytes are copied verbatim, so every value that arrives in the output was
/// a valid value in the source: NaN payloads and `-0.0` survive.
pub trait Element: bytemuck::NoUninit + Send + Sync {}
impl<T: bytemuck::NoUninit + Send + Sync> Element for T {}

/// Runs `plan` with `T` moved as raw bytes of its width.
///
/// # Safety
/// As [`dispatch::run`]. Reading `T` as `[u8; W]` is sound because `T` has no
/// uninitialized bytes (`NoUninit`) and `[u8; W]` has alignment 1; writing those
/// bytes back makes a copy of a valid `T`.
pub(crate) unsafe fn run<T: Element, I: IndexElem>(
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
                        dispatch::run::<[u8; $w], I>(plan, src.cast(), idx, out.cast(), isa, parallel)
                    },
                )*
                // SAFETY: the caller's guarantees, on `T` itself.
                _ => unsafe { dispatch::run::<T, I>(plan, src, idx, out, isa, parallel) },
            }
        };
    }
    by_width!(1, 2, 4, 8, 16)
}

/// The width dispatch sees for `T`: its size if a byte-width kernel serves it,
/// else 0 (kernels run on `T` itself).
pub(crate) fn kernel_width<T>() -> usize {
    match size_of::<T>() {
        w @ (1 | 2 | 4 | 8 | 16) => w,
        _ => 0,
    }
}
