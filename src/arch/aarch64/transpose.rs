//! Tiles filled by NEON register transposes (see `kernel::Tile`): 4-byte
//! values 4 × 4, 8-byte values 2 × 2, in 128-bit registers; other widths one
//! at a time.

use crate::isa::Neon;
use crate::kernel::Tile;
use core::arch::aarch64::*;

/// Fills `t` on NEON.
///
/// # Safety
/// As [`crate::kernel::RowBody::fill_tile`].
#[inline]
#[target_feature(enable = "neon")]
pub(crate) unsafe fn fill_neon<T: Copy>(k: Neon, t: &Tile<T>) {
    let (cs, ds) = (t.col_step, t.dst_step);
    // SAFETY: `fill_blocks` hands out blocks of the tile only (its contract
    // is this function's, with `row_step == 1` checked here).
    unsafe {
        match size_of::<T>() {
            4 if t.row_step == 1 => t.fill_blocks::<4>(|from, to| {
                transpose4_s(k, from.cast(), cs, to.cast(), ds);
            }),
            8 if t.row_step == 1 => t.fill_blocks::<2>(|from, to| {
                transpose2_d(k, from.cast(), cs, to.cast(), ds);
            }),
            _ => t.fill_part(0..t.rows, 0..t.cols),
        }
    }
}

/// Reads 4 runs of 4 `u32`, `from_step` apart, and writes them as the
/// columns of 4 runs `to_step` apart.
///
/// # Safety
/// The 16 source and destination values are in their buffers.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn transpose4_s(_: Neon, from: *const u32, from_step: isize, to: *mut u32, to_step: usize) {
    // SAFETY: run `k` is in the source buffer (the caller's contract).
    let r: [uint32x4_t; 4] = core::array::from_fn(|k| unsafe {
        from.offset(k as isize * from_step)
            .cast::<uint32x4_t>()
            .read_unaligned()
    });
    // Runs 0-1 and 2-3 interleaved by 32 bits: `even[p]` holds columns 0 and
    // 2 of the pair, `odd[p]` columns 1 and 3.
    let even = [vtrn1q_u32(r[0], r[1]), vtrn1q_u32(r[2], r[3])];
    let odd = [vtrn2q_u32(r[0], r[1]), vtrn2q_u32(r[2], r[3])];
    let d = vreinterpretq_u64_u32;
    let cols = [
        vtrn1q_u64(d(even[0]), d(even[1])),
        vtrn1q_u64(d(odd[0]), d(odd[1])),
        vtrn2q_u64(d(even[0]), d(even[1])),
        vtrn2q_u64(d(odd[0]), d(odd[1])),
    ];
    for (c, col) in cols.into_iter().enumerate() {
        // SAFETY: destination row `c` (the caller's contract).
        unsafe {
            to.add(c * to_step)
                .cast::<uint64x2_t>()
                .write_unaligned(col)
        };
    }
}

/// Reads 2 runs of 2 `u64`, `from_step` apart, and writes them as the
/// columns of 2 runs `to_step` apart.
///
/// # Safety
/// The 4 source and destination values are in their buffers.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn transpose2_d(_: Neon, from: *const u64, from_step: isize, to: *mut u64, to_step: usize) {
    // SAFETY: the two runs and two destination rows are the caller's.
    unsafe {
        let a = from.cast::<uint64x2_t>().read_unaligned();
        let b = from.offset(from_step).cast::<uint64x2_t>().read_unaligned();
        to.cast::<uint64x2_t>().write_unaligned(vtrn1q_u64(a, b));
        to.add(to_step)
            .cast::<uint64x2_t>()
            .write_unaligned(vtrn2q_u64(a, b));
    }
}
