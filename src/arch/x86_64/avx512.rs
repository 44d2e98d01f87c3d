//! AVX-512 affine rows, in two variants that benchmarks choose between:
//! `Avx512Gather` fuses the index checks into masked gathers with masked tails;
//! `Avx512Loads` checks eight indices per masked compare, then moves each
//! element with a scalar load (faster where `vpgather` is slow: AMD Zen, and
//! Intel with the "Downfall" mitigation).
//!
//! The gathers take eight 64-bit offsets per step in general; sixteen 32-bit
//! offsets when the indices are 32-bit and every offset of the row fits in `i32`.
//! 1- and 2-byte elements are fetched with 32-bit gathers and narrowed, only
//! where `slack` proves the extra bytes lie inside the source buffer.

use super::transpose;
use crate::index::{IndexElem, IndexKind};
use crate::kernel::scalar::{checked_src, copy_checked, row_range};
use crate::kernel::{affine, prefetch_stream, Ahead, BadIndex, Job, Row, RowKernel, Tile};
use core::arch::x86_64::*;
use std::ops::Range;

/// AVX-512 with hardware gathers.
pub(crate) struct Avx512Gather;
/// AVX-512 index checks, scalar loads.
pub(crate) struct Avx512Loads;

/// The affine kernel on AVX-512 with hardware gathers.
///
/// # Safety
/// As for [`crate::kernel::Kernel`]; the CPU has AVX-512 F, BW, VL and DQ.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
pub(crate) unsafe fn affine_gather<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive::<Avx512Gather, E, I>(job, rows, cols) }
}

/// The affine kernel on AVX-512 with scalar loads.
///
/// # Safety
/// As for [`crate::kernel::Kernel`]; the CPU has AVX-512 F, BW, VL and DQ.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
pub(crate) unsafe fn affine_loads<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive::<Avx512Loads, E, I>(job, rows, cols) }
}

impl RowKernel for Avx512Loads {
    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
        // SAFETY: forwarded; this body only runs under `affine_loads`, which
        // enables its features.
        unsafe { row_loads(r) }
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(t: &Tile<T>) {
        // SAFETY: forwarded; this body only runs under this path's entry
        // points, which enable its features.
        unsafe { transpose::fill_avx512(t) }
    }
}

/// Eight indices checked per compare (the tail under a mask), then eight
/// independent scalar moves.
///
/// # Safety
/// As [`RowKernel::row`]; the CPU has AVX-512 F, BW, VL and DQ.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn row_loads<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
    let direct = r.si == 0 && r.gs == 1;
    for t in 0..r.rows {
        let row = r.nth(t);
        let ahead = Ahead::for_row(r, t);
        // SAFETY: forwarded, row by row; `DIRECT` exactly when the row is direct.
        unsafe {
            if direct {
                row_loads_as::<E, I, true>(&row, ahead)?;
            } else {
                row_loads_as::<E, I, false>(&row, ahead)?;
            }
        }
    }
    Ok(())
}

/// # Safety
/// As [`row_loads`], with `DIRECT` only if `r.si == 0 && r.gs == 1`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn row_loads_as<E: Copy, I: IndexElem, const DIRECT: bool>(
    r: &Row<E, I>,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    let bound = _mm512_set1_epi64(r.bound as i64);
    let mut j = 0;
    while j + 8 <= r.n {
        if let Some(a) = ahead {
            a.at(j);
        }
        prefetch_stream(r.idx.wrapping_add(j));
        // SAFETY: positions `j..j + 8` are in the row (invariant 2).
        let v = unsafe { load_q(r.idx.add(j), 0xff) };
        if _mm512_cmplt_epu64_mask(v, bound) != 0xff {
            return Err(BadIndex);
        }
        // SAFETY: the eight positions were just checked. A constant trip
        // count: the loads unroll and overlap.
        unsafe {
            match size_of::<E>() {
                4 | 8 => copy8_combined::<E, I, DIRECT>(r, j),
                _ => copy_checked::<E, I, DIRECT>(r, j, j + 8),
            }
        }
        j += 8;
    }
    if j < r.n {
        prefetch_stream(r.idx.wrapping_add(j));
        let m = tail8(r.n - j);
        // SAFETY: lanes of `m` are positions `j..n` of the row (invariant 2).
        let v = unsafe { load_q(r.idx.add(j), m) };
        if _mm512_mask_cmplt_epu64_mask(m, v, bound) != m {
            return Err(BadIndex);
        }
        // SAFETY: the positions of `m` were just checked.
        unsafe { copy_checked::<E, I, DIRECT>(r, j, r.n) };
    }
    Ok(())
}

/// Positions `j..j + 8` of a row of 4- or 8-byte elements: eight scalar loads
/// combined into one vector store. A store per element, beside two loads, is
/// what bounds the plain copy: `last_perm` ([2048, 2048] `f32`, one thread,
/// standalone) 1.44 -> 1.31 ms, with `i32` indices 1.46 -> 1.27 ms.
///
/// # Safety
/// As [`copy_checked`] for `from = j`, `to = j + 8`; `E` is 4 or 8 bytes wide;
/// the CPU has AVX-512 F, BW, VL and DQ.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn copy8_combined<E: Copy, I: IndexElem, const DIRECT: bool>(r: &Row<E, I>, j: usize) {
    // SAFETY: positions `j..j + 8` are checked positions of the row (the
    // caller's contract).
    let at = |k: usize| unsafe { checked_src::<E, I, DIRECT>(r, j + k) };
    // SAFETY: each read is one element of the source (above), read unaligned
    // as the element may be a byte array; the store covers the row's own output
    // positions `j..j + 8` (invariant 2), `8 · w` bytes.
    unsafe {
        if size_of::<E>() == 4 {
            let g = |k| at(k).cast::<i32>().read_unaligned();
            let v = _mm256_setr_epi32(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
            _mm256_storeu_si256(r.out.add(j).cast(), v);
        } else {
            let g = |k| at(k).cast::<i64>().read_unaligned();
            let v = _mm512_setr_epi64(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
            _mm512_storeu_si512(r.out.add(j).cast(), v);
        }
    }
}

impl RowKernel for Avx512Gather {
    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
        for t in 0..r.rows {
            // SAFETY: forwarded from this function's contract, row by row.
            unsafe { gather_one(&r.nth(t))? };
        }
        Ok(())
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(t: &Tile<T>) {
        // SAFETY: forwarded; this body only runs under this path's entry
        // points, which enable its features.
        unsafe { transpose::fill_avx512(t) }
    }
}

/// One row on the gather path.
///
/// # Safety
/// As [`RowKernel::row`], for a group of one row; the CPU has AVX-512.
#[inline(always)]
unsafe fn gather_one<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
    {
        let w = size_of::<E>();
        // SAFETY: forwarded from this function's contract, with `w`, `slack` and
        // `fits_d` checked by the match; the bodies only run under
        // `affine_gather`, which enables their features.
        unsafe {
            match w {
                1 | 2 if !r.slack => row_range(r, 0, r.n),
                1 | 2 | 4 if fits_d(r) => row_d(r),
                1 | 2 | 4 | 8 => row_q(r),
                _ => row_range(r, 0, r.n),
            }
        }
    }
}

/// 32-bit lanes serve: 32-bit indices, `bound` below 2^31, and every byte
/// offset from the row base within `i32`.
#[inline(always)]
fn fits_d<E, I: IndexElem>(r: &Row<E, I>) -> bool {
    let w = size_of::<E>();
    matches!(I::KIND, IndexKind::I32 | IndexKind::U32)
        && r.bound <= i32::MAX as usize
        && r.n
            .checked_mul(r.si.unsigned_abs())
            .and_then(|a| r.bound.checked_mul(r.gs.unsigned_abs())?.checked_add(a))
            .and_then(|a| a.checked_mul(w))
            .is_some_and(|a| a <= i32::MAX as usize)
}

/// Mask of the first `left.min(8)` lanes.
#[inline(always)]
fn tail8(left: usize) -> __mmask8 {
    if left >= 8 {
        0xff
    } else {
        (1u8 << left) - 1
    }
}

/// Mask of the first `left.min(16)` lanes.
#[inline(always)]
fn tail16(left: usize) -> __mmask16 {
    if left >= 16 {
        0xffff
    } else {
        (1u16 << left) - 1
    }
}

/// Eight indices widened to 64 bits; masked-off lanes are not read.
///
/// # Safety
/// The lanes of `m` are index positions of the row.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn load_q<I: IndexElem>(p: *const I, m: __mmask8) -> __m512i {
    // SAFETY: masked loads touch only the lanes of `m` (caller's contract).
    unsafe {
        match I::KIND {
            IndexKind::I64 | IndexKind::U64 => _mm512_maskz_loadu_epi64(m, p.cast()),
            IndexKind::I32 => _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, p.cast())),
            IndexKind::U32 => _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(m, p.cast())),
        }
    }
}

/// `v · w` for the element width `w` (a power of two up to 8).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
fn scale_q(v: __m512i, w: usize) -> __m512i {
    match w {
        1 => v,
        2 => _mm512_slli_epi64::<1>(v),
        4 => _mm512_slli_epi64::<2>(v),
        _ => _mm512_slli_epi64::<3>(v),
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
fn scale_d(v: __m512i, w: usize) -> __m512i {
    match w {
        1 => v,
        2 => _mm512_slli_epi32::<1>(v),
        _ => _mm512_slli_epi32::<2>(v),
    }
}

/// Eight elements per step, 64-bit byte offsets from the row base.
///
/// # Safety
/// As [`RowKernel::row`]; `w` in {1, 2, 4, 8}, and `slack` holds if `w < 4`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn row_q<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
    let w = size_of::<E>();
    let direct = r.si == 0 && r.gs == 1;
    // Only dereferenced at offsets of checked indices (invariant 3).
    let base = r.src.wrapping_offset(r.base).cast::<u8>();
    let bound = _mm512_set1_epi64(r.bound as i64);
    let gsw = _mm512_set1_epi64((r.gs as i64).wrapping_mul(w as i64));
    let siw = (r.si as i64).wrapping_mul(w as i64);
    let mut along = _mm512_mullo_epi64(
        _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
        _mm512_set1_epi64(siw),
    );
    let step = _mm512_set1_epi64(siw.wrapping_mul(8));
    let mut j = 0;
    while j < r.n {
        prefetch_stream(r.idx.wrapping_add(j));
        let m = tail8(r.n - j);
        // SAFETY: lanes of `m` are positions `j..n` of the row (invariant 2).
        let v = unsafe { load_q(r.idx.add(j), m) };
        if _mm512_mask_cmplt_epu64_mask(m, v, bound) != m {
            return Err(BadIndex);
        }
        let off = if direct {
            scale_q(v, w)
        } else {
            _mm512_add_epi64(along, _mm512_mullo_epi64(v, gsw))
        };
        let out = r.out.wrapping_add(j).cast::<u8>();
        // SAFETY: every lane of `m` holds a checked index, so each offset names a
        // source element of this row (invariant 3); for w < 4 the 4-byte reads
        // stay in the buffer (`slack`); stores are masked to the row's outputs.
        unsafe {
            match w {
                8 => {
                    let g =
                        _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), m, off, base.cast(), 1);
                    _mm512_mask_storeu_epi64(out.cast(), m, g);
                }
                4 => {
                    let g =
                        _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), m, off, base.cast(), 1);
                    _mm256_mask_storeu_epi32(out.cast(), m, g);
                }
                2 => {
                    let g =
                        _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), m, off, base.cast(), 1);
                    _mm_mask_storeu_epi16(out.cast(), m, _mm256_cvtepi32_epi16(g));
                }
                _ => {
                    let g =
                        _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), m, off, base.cast(), 1);
                    _mm_mask_storeu_epi8(out.cast(), m as __mmask16, _mm256_cvtepi32_epi8(g));
                }
            }
        }
        along = _mm512_add_epi64(along, step);
        j += 8;
    }
    Ok(())
}

/// Sixteen elements per step, 32-bit byte offsets from the row base.
///
/// # Safety
/// As [`RowKernel::row`]; `w` in {1, 2, 4}, `fits_d(r)`, and `slack` if `w < 4`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn row_d<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
    let w = size_of::<E>();
    let direct = r.si == 0 && r.gs == 1;
    // Only dereferenced at offsets of checked indices (invariant 3).
    let base = r.src.wrapping_offset(r.base).cast::<u8>();
    // `fits_d`: bound, gs·w and si·w·16 all fit in i32.
    let bound = _mm512_set1_epi32(r.bound as i32);
    let gsw = _mm512_set1_epi32(r.gs.wrapping_mul(w as isize) as i32);
    let siw = r.si.wrapping_mul(w as isize) as i32;
    let lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let mut along = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(siw));
    let step = _mm512_set1_epi32(siw.wrapping_mul(16));
    let mut j = 0;
    while j < r.n {
        prefetch_stream(r.idx.wrapping_add(j));
        let m = tail16(r.n - j);
        // SAFETY: lanes of `m` are positions `j..n` of the row (invariant 2).
        let v = unsafe { _mm512_maskz_loadu_epi32(m, r.idx.add(j).cast()) };
        // Unsigned compare: negative i32 values are huge and fail.
        if _mm512_mask_cmplt_epu32_mask(m, v, bound) != m {
            return Err(BadIndex);
        }
        let off = if direct {
            scale_d(v, w)
        } else {
            _mm512_add_epi32(along, _mm512_mullo_epi32(v, gsw))
        };
        let out = r.out.wrapping_add(j).cast::<u8>();
        // SAFETY: as in `row_q`; `fits_d` keeps every offset exact in 32 bits.
        unsafe {
            let g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, off, base.cast(), 1);
            match w {
                4 => _mm512_mask_storeu_epi32(out.cast(), m, g),
                2 => _mm256_mask_storeu_epi16(out.cast(), m, _mm512_cvtepi32_epi16(g)),
                _ => _mm_mask_storeu_epi8(out.cast(), m, _mm512_cvtepi32_epi8(g)),
            }
        }
        // Wrapping: past the row end the value is never used.
        along = _mm512_add_epi32(along, step);
        j += 16;
    }
    Ok(())
}
