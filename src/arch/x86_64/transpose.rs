//! Tiles filled by register transposes: a block whose rows are adjacent in
//! memory (a transposed index, a transposed source) is read a run of rows per
//! load and written out as dense rows (see `affine::drive_tiles` and
//! `affine::drive_packed_rows`). 4-byte values go 8 × 8 in 256-bit registers,
//! 8-byte values 4 × 4 on AVX2 and 8 × 8 on AVX-512; other widths one at a
//! time.

use crate::isa::{Avx2, Avx512};
use crate::kernel::Tile;
use core::arch::x86_64::*;

/// Fills `t` on AVX2.
///
/// # Safety
/// As [`crate::kernel::RowBody::fill_tile`].
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn fill_avx2<T: Copy>(k: Avx2, t: &Tile<T>) {
    let (cs, ds) = (t.col_step, t.dst_step);
    // SAFETY: `fill_blocks` hands out blocks of the tile only (its contract
    // is this function's, with `row_step == 1` checked here).
    unsafe {
        match size_of::<T>() {
            4 if t.row_step == 1 => t.fill_blocks::<8>(|from, to| {
                transpose8_d(k, from.cast(), cs, to.cast(), ds);
            }),
            8 if t.row_step == 1 => t.fill_blocks::<4>(|from, to| {
                transpose4_q(k, from.cast(), cs, to.cast(), ds);
            }),
            _ => t.fill_part(0..t.rows, 0..t.cols),
        }
    }
}

/// Fills `t` on AVX-512: 8-byte values 8 × 8 in 512-bit registers, the rest
/// as on AVX2.
///
/// # Safety
/// As [`crate::kernel::RowBody::fill_tile`].
#[inline]
#[target_feature(enable = "avx512f,avx2")]
pub(crate) unsafe fn fill_avx512<T: Copy>(k: Avx512, t: &Tile<T>) {
    let (cs, ds) = (t.col_step, t.dst_step);
    // SAFETY: as in `fill_avx2`; the AVX-512 token proves AVX2 too.
    unsafe {
        if size_of::<T>() == 8 && t.row_step == 1 {
            t.fill_blocks::<8>(|from, to| transpose8_q(k, from.cast(), cs, to.cast(), ds));
        } else {
            fill_avx2(k.avx2(), t);
        }
    }
}

/// Reads 8 runs of 8 `u32`, `from_step` apart, and writes them as the
/// columns of 8 runs `to_step` apart.
///
/// # Safety
/// The 64 source and destination values are in their buffers.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn transpose8_d(_: Avx2, from: *const u32, from_step: isize, to: *mut u32, to_step: usize) {
    // SAFETY: run `k` is in the source buffer (the caller's contract).
    let r: [__m256i; 8] = core::array::from_fn(|k| unsafe {
        _mm256_loadu_si256(from.offset(k as isize * from_step).cast())
    });
    // Pairs of runs interleaved by 32 bits, then by 64: lane half 0 holds
    // columns 0-3, half 1 columns 4-7.
    let t: [__m256i; 8] = core::array::from_fn(|k| {
        let (a, b) = (r[k & !1], r[k | 1]);
        if k % 2 == 0 {
            _mm256_unpacklo_epi32(a, b)
        } else {
            _mm256_unpackhi_epi32(a, b)
        }
    });
    // u[4h + c]: column c (and c + 4 in the upper half) of runs 4h..4h + 4.
    let u: [__m256i; 8] = core::array::from_fn(|k| {
        let (h, c) = (k / 4, k % 4);
        let (a, b) = (t[4 * h + c / 2], t[4 * h + 2 + c / 2]);
        if c % 2 == 0 {
            _mm256_unpacklo_epi64(a, b)
        } else {
            _mm256_unpackhi_epi64(a, b)
        }
    });
    for c in 0..4 {
        let (lo, hi) = (u[c], u[4 + c]);
        // SAFETY: destination rows `c` and `c + 4` (the caller's contract).
        unsafe {
            _mm256_storeu_si256(
                to.add(c * to_step).cast(),
                _mm256_permute2x128_si256::<0x20>(lo, hi),
            );
            _mm256_storeu_si256(
                to.add((c + 4) * to_step).cast(),
                _mm256_permute2x128_si256::<0x31>(lo, hi),
            );
        }
    }
}

/// Reads 4 runs of 4 `u64`, `from_step` apart, and writes them as the
/// columns of 4 runs `to_step` apart.
///
/// # Safety
/// The 16 source and destination values are in their buffers.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn transpose4_q(_: Avx2, from: *const u64, from_step: isize, to: *mut u64, to_step: usize) {
    // SAFETY: run `k` is in the source buffer (the caller's contract).
    let r: [__m256i; 4] = core::array::from_fn(|k| unsafe {
        _mm256_loadu_si256(from.offset(k as isize * from_step).cast())
    });
    // Columns 0 and 2 (lo), 1 and 3 (hi) of runs 0-1 and of runs 2-3.
    let (a, b) = (
        _mm256_unpacklo_epi64(r[0], r[1]),
        _mm256_unpackhi_epi64(r[0], r[1]),
    );
    let (c, d) = (
        _mm256_unpacklo_epi64(r[2], r[3]),
        _mm256_unpackhi_epi64(r[2], r[3]),
    );
    // SAFETY: destination rows 0-3 (the caller's contract).
    unsafe {
        _mm256_storeu_si256(to.cast(), _mm256_permute2x128_si256::<0x20>(a, c));
        _mm256_storeu_si256(
            to.add(to_step).cast(),
            _mm256_permute2x128_si256::<0x20>(b, d),
        );
        _mm256_storeu_si256(
            to.add(2 * to_step).cast(),
            _mm256_permute2x128_si256::<0x31>(a, c),
        );
        _mm256_storeu_si256(
            to.add(3 * to_step).cast(),
            _mm256_permute2x128_si256::<0x31>(b, d),
        );
    }
}

/// Reads 8 runs of 8 `u64`, `from_step` apart, and writes them as the
/// columns of 8 runs `to_step` apart.
///
/// # Safety
/// The 64 source and destination values are in their buffers.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn transpose8_q(
    _: Avx512,
    from: *const u64,
    from_step: isize,
    to: *mut u64,
    to_step: usize,
) {
    // SAFETY: run `k` is in the source buffer (the caller's contract).
    let r: [__m512i; 8] = core::array::from_fn(|k| unsafe {
        _mm512_loadu_si512(from.offset(k as isize * from_step).cast())
    });
    // a[2p + h]: runs 2p, 2p + 1 interleaved; h = 0 holds the even columns.
    let a: [__m512i; 8] = core::array::from_fn(|k| {
        let (x, y) = (r[k & !1], r[k | 1]);
        if k % 2 == 0 {
            _mm512_unpacklo_epi64(x, y)
        } else {
            _mm512_unpackhi_epi64(x, y)
        }
    });
    // b: 128-bit lanes 0 and 2 (columns 0 and 4 of each pair, or 2 and 6)
    // or 1 and 3, of two pairs.
    let b: [__m512i; 8] = core::array::from_fn(|k| {
        let (q, h, odd) = (k / 4, (k / 2) % 2, k % 2);
        let (x, y) = (a[4 * q + h], a[4 * q + 2 + h]);
        if odd == 0 {
            _mm512_shuffle_i64x2::<0x88>(x, y)
        } else {
            _mm512_shuffle_i64x2::<0xdd>(x, y)
        }
    });
    // b[2h + odd] (runs 0-3) with b[4 + 2h + odd] (runs 4-7): column
    // `2·odd + h`, and 4 past it.
    for k in 0..4 {
        let (h, odd) = (k / 2, k % 2);
        let (x, y) = (b[k], b[4 + k]);
        let c = 2 * odd + h;
        // SAFETY: destination rows `c` and `c + 4` (the caller's contract).
        unsafe {
            _mm512_storeu_si512(
                to.add(c * to_step).cast(),
                _mm512_shuffle_i64x2::<0x88>(x, y),
            );
            _mm512_storeu_si512(
                to.add((c + 4) * to_step).cast(),
                _mm512_shuffle_i64x2::<0xdd>(x, y),
            );
        }
    }
}
