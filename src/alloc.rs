//! Fresh buffers for outputs sized by a caller's shape, and the advice that
//! makes large ones cheap to write for the first time.
//!
//! Every buffer the crate makes to a caller's shape comes from here:
//! [`try_vec`] (room only, uninitialised) and [`try_zeroed_vec`] (zero bytes).
//! Both are fallible, so a huge shape (cheap to make with stride-0 views) is
//! [`GatherError::AllocationFailed`], not an abort.
//!
//! Why the advice: a large allocation is fresh pages from the OS, and each
//! 4 KiB page costs a fault (a kernel entry, a zeroed page, a page-table
//! entry) the first time it is written. For an output of hundreds of MiB that
//! first write costs more than the kernel that fills it, which is why the
//! allocating calls trailed their `_into` forms by several times (figures in
//! `benches/README.md`, "Allocating calls (issue 17)"). A transparent huge
//! page takes one fault per 2 MiB instead of 512, and fewer TLB misses
//! afterwards. Where the kernel's THP setting
//! (`/sys/kernel/mm/transparent_hugepage/enabled`) is `madvise`, a common
//! default, only memory advised with `madvise(MADV_HUGEPAGE)` gets huge pages;
//! under `always` the advice changes nothing, under `never` it is ignored.
//!
//! So on Linux, after an allocation of at least
//! [`HUGE_PAGE_BYTES`], the whole 2 MiB-aligned
//! pages inside it ([`huge_interior`]) are advised. The rules that keep this
//! small:
//! - Memory comes from the global allocator through `Vec` and goes back the
//!   same way: no alignment of our own, no mapping of our own.
//! - Only memory the new `Vec` owns and has not touched is advised, before
//!   anything is written to it. `MADV_HUGEPAGE` changes neither the contents
//!   (zeroed memory stays zero) nor which addresses are mapped.
//! - The advice's result is ignored (it is advice: an old kernel, one without
//!   THP, or another platform simply keeps 4 KiB pages); tests read it back.
//! - `madvise` is declared here (the crate has no `libc` dependency), and
//!   this module's two `unsafe` blocks are the whole of it.

use crate::error::GatherError;
use crate::tune::HUGE_PAGE_BYTES;

const _: () = assert!(HUGE_PAGE_BYTES.is_power_of_two());

/// An empty `Vec` with room for `n` elements, or
/// [`GatherError::AllocationFailed`] (with the bytes asked for) where the
/// allocator refuses. A large one is advised for huge pages (module doc).
pub(crate) fn try_vec<T>(n: usize) -> Result<Vec<T>, GatherError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| failed::<T>(n))?;
    let spare = v.spare_capacity_mut();
    let bytes = size_of_val(spare);
    // SAFETY: the range is the new Vec's own allocation (its spare capacity,
    // all of it: the Vec is empty), which nothing has written yet.
    note(unsafe { advise_huge(spare.as_mut_ptr().cast(), bytes) });
    Ok(v)
}

/// A `Vec` of `n` zeroed elements from the allocator's zeroed memory (for a
/// large one, fresh pages the OS zeroes on first touch, so nothing is written
/// here), or [`GatherError::AllocationFailed`]. A large one is advised for
/// huge pages (module doc).
pub(crate) fn try_zeroed_vec<T: bytemuck::Zeroable>(n: usize) -> Result<Vec<T>, GatherError> {
    let mut v = bytemuck::allocation::try_zeroed_slice_box::<T>(n)
        .map_err(|()| failed::<T>(n))?
        .into_vec();
    let bytes = size_of_val(v.as_slice());
    // SAFETY: the range is the new Vec's own allocation, which this crate has
    // not written (the allocator zeroed it, or the OS will on first touch);
    // the advice keeps the zeroes.
    note(unsafe { advise_huge(v.as_mut_ptr().cast(), bytes) });
    Ok(v)
}

fn failed<T>(n: usize) -> GatherError {
    GatherError::AllocationFailed {
        bytes: n.saturating_mul(size_of::<T>()),
    }
}

/// What [`advise_huge`] asked of the kernel: the advised range's start
/// address and length, and whether the kernel accepted the advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Advised {
    start: usize,
    len: usize,
    accepted: bool,
}

#[cfg(test)]
thread_local! {
    /// The last advice of this thread's allocations (`None`: none asked).
    static LAST: std::cell::Cell<Option<Advised>> = const { std::cell::Cell::new(None) };
}

/// Drops an advice's outcome; tests keep it (per thread) to read back.
fn note(advised: Option<Advised>) {
    #[cfg(test)]
    LAST.set(advised);
    let _ = advised;
}

/// The whole `HUGE_PAGE_BYTES`-aligned pages inside `addr .. addr + len`, as
/// `(start, len)`; `None` where no whole page fits (or the range would pass
/// the end of the address space).
fn huge_interior(addr: usize, len: usize) -> Option<(usize, usize)> {
    let mask = HUGE_PAGE_BYTES - 1;
    let end = addr.checked_add(len)? & !mask;
    let start = addr.checked_add(mask)? & !mask;
    (end > start).then(|| (start, end - start))
}

/// `MADV_HUGEPAGE` (`asm-generic/mman-common.h`).
#[cfg(all(target_os = "linux", not(miri)))]
const MADV_HUGEPAGE: core::ffi::c_int = 14;

#[cfg(all(target_os = "linux", not(miri)))]
unsafe extern "C" {
    /// `madvise(2)`.
    fn madvise(
        addr: *mut core::ffi::c_void,
        len: usize,
        advice: core::ffi::c_int,
    ) -> core::ffi::c_int;
}

/// Advises the whole huge pages inside `ptr .. ptr + bytes` for transparent
/// huge pages, where the buffer is at least `HUGE_PAGE_BYTES` (Linux only;
/// elsewhere nothing is asked). Returns what was asked, if anything.
///
/// # Safety
///
/// `ptr .. ptr + bytes` must lie within one live allocation that the caller
/// owns outright, so that the advice touches no one else's memory. (The
/// advice itself reads and writes nothing: it is sound for memory in any
/// state, and leaves its contents as they are.)
unsafe fn advise_huge(ptr: *mut u8, bytes: usize) -> Option<Advised> {
    if bytes < HUGE_PAGE_BYTES {
        return None;
    }
    let (start, len) = huge_interior(ptr.addr(), bytes)?;
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        // In bounds of the caller's allocation: `huge_interior` keeps inside it.
        let at = ptr.wrapping_add(start - ptr.addr());
        // SAFETY: `at..at + len` is page-aligned and inside the caller's
        // allocation (this fn's contract; `huge_interior` stays within it);
        // MADV_HUGEPAGE changes neither the contents nor the mapping.
        let rc = unsafe { madvise(at.cast(), len, MADV_HUGEPAGE) };
        Some(Advised {
            start,
            len,
            accepted: rc == 0,
        })
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        let _ = (start, len);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: usize = HUGE_PAGE_BYTES;

    #[test]
    fn interior_edges() {
        // Too short, or straddling one boundary only: no whole page.
        assert_eq!(huge_interior(0, 0), None);
        assert_eq!(huge_interior(P, 0), None);
        assert_eq!(huge_interior(P, P - 1), None);
        assert_eq!(huge_interior(P + 1, P), None);
        assert_eq!(huge_interior(P - 1, P), None);
        assert_eq!(huge_interior(16, 2 * P - 17), None);
        // Exactly aligned: the whole range.
        assert_eq!(huge_interior(0, P), Some((0, P)));
        assert_eq!(huge_interior(3 * P, 2 * P), Some((3 * P, 2 * P)));
        // Aligned start, ragged end; ragged start, aligned end.
        assert_eq!(huge_interior(P, 2 * P - 1), Some((P, P)));
        assert_eq!(huge_interior(P - 4096, P + 4096), Some((P, P)));
        // Ragged both ends: the pages strictly inside.
        assert_eq!(huge_interior(16, 2 * P), Some((P, P)));
        assert_eq!(huge_interior(P + 16, 5 * P), Some((2 * P, 4 * P)));
        // Just long enough from an unaligned start.
        assert_eq!(huge_interior(1, 2 * P - 1), Some((P, P)));
        assert_eq!(huge_interior(1, 2 * P - 2), None);
    }

    #[test]
    fn interior_near_the_top_of_the_address_space() {
        let top = usize::MAX;
        // The range would pass the end: refused, not wrapped.
        assert_eq!(huge_interior(top, 1), None);
        assert_eq!(huge_interior(top - P, 2 * P), None);
        assert_eq!(huge_interior(1, top), None);
        // Ending exactly at the top: the last whole page is the one below
        // `top - mask` (the page holding `top` is not whole).
        let last = top & !(P - 1);
        assert_eq!(huge_interior(last - P, P + P - 1), Some((last - P, P)));
        assert_eq!(
            huge_interior(last - P, top - (last - P)),
            Some((last - P, P))
        );
        // Start rounding up past the top: no page.
        assert_eq!(huge_interior(last + 1, top - last - 1), None);
        assert_eq!(huge_interior(0, top), Some((0, last)));
    }

    #[test]
    fn interior_stays_inside() {
        for addr in [0, 1, 16, 4096, P - 1, P, P + 1, 7 * P + 12345] {
            for len in [0, 1, P - 1, P, P + 1, 2 * P, 3 * P + 7, 64 * P] {
                if let Some((s, l)) = huge_interior(addr, len) {
                    assert_eq!(s % P, 0);
                    assert_eq!(l % P, 0);
                    assert!(l >= P);
                    assert!(s >= addr && s + l <= addr + len, "{addr} {len}");
                    // No whole page left out at either end.
                    assert!(s - addr < P && addr + len - (s + l) < P);
                }
            }
        }
    }

    /// Whether the kernel has transparent huge pages at all (madvise then
    /// accepts `MADV_HUGEPAGE`, whatever the mode).
    fn kernel_has_thp() -> bool {
        std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists()
    }

    /// `last` is the advice of the whole huge pages of `v`'s first
    /// `cap_bytes` bytes (none on other platforms), accepted where the kernel
    /// has THP.
    fn check_advised<T>(v: &[T], cap_bytes: usize, last: Option<Advised>) {
        if !cfg!(all(target_os = "linux", not(miri))) {
            assert_eq!(last, None);
            return;
        }
        let base = v.as_ptr().addr();
        assert_eq!(
            last.map(|a| (a.start, a.len)),
            huge_interior(base, cap_bytes)
        );
        if cap_bytes >= 2 * P {
            assert!(
                last.is_some(),
                "a buffer of {cap_bytes} bytes holds a whole huge page"
            );
        }
        if let Some(a) = last
            && kernel_has_thp()
        {
            assert!(a.accepted, "madvise(MADV_HUGEPAGE) refused");
        }
    }

    #[test]
    fn small_buffers_are_not_advised() {
        note(Some(Advised {
            start: 0,
            len: 0,
            accepted: false,
        }));
        let v = try_vec::<u8>(P - 1).unwrap();
        assert!(v.capacity() >= P - 1 && v.is_empty());
        assert_eq!(LAST.get(), None);
        let z = try_zeroed_vec::<u32>(1000).unwrap();
        assert_eq!(z, vec![0; 1000]);
        assert_eq!(LAST.get(), None);
        // Zero-sized elements take no memory, however many.
        let e = try_vec::<()>(usize::MAX).unwrap();
        assert_eq!(e.capacity(), usize::MAX);
        assert_eq!(LAST.get(), None);
    }

    #[test]
    fn large_uninit_buffers_are_advised() {
        for n in [P, 4 * P + 3, 16 * P] {
            let mut v = try_vec::<u8>(n).unwrap();
            let last = LAST.get();
            assert!(v.is_empty());
            let cap = v.capacity();
            check_advised(v.spare_capacity_mut(), cap, last);
            // Still ordinary memory of the global allocator: filled, read, freed.
            v.resize(n, 7);
            assert!(v.iter().all(|&b| b == 7));
        }
    }

    #[test]
    fn large_zeroed_buffers_are_advised_and_zero() {
        for n in [P / 4, 3 * P / 4 + 1, 8 * P] {
            let mut v = try_zeroed_vec::<f32>(n).unwrap();
            let last = LAST.get();
            assert_eq!(v.len(), n);
            check_advised(&v, size_of_val(v.as_slice()), last);
            assert!(v.iter().all(|&x| x.to_bits() == 0));
            v[n - 1] = 1.0;
            v.push(2.0); // grows through the global allocator as any Vec
            assert_eq!(v[n..], [2.0]);
        }
    }

    #[test]
    fn refusals_name_the_bytes() {
        let too_many = isize::MAX as usize;
        // On a 32-bit target `isize::MAX` bytes (2 GiB) may well be granted.
        if cfg!(target_pointer_width = "64") {
            assert!(matches!(
                try_vec::<u8>(too_many),
                Err(GatherError::AllocationFailed { bytes }) if bytes == too_many
            ));
        }
        assert!(matches!(
            try_zeroed_vec::<u64>(too_many),
            Err(GatherError::AllocationFailed { bytes: usize::MAX })
        ));
        assert!(matches!(
            try_vec::<u32>(usize::MAX / 2),
            Err(GatherError::AllocationFailed { bytes: usize::MAX })
        ));
    }
}
