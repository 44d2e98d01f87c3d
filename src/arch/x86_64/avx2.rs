//! AVX2 affine rows, in two variants that benchmarks choose between:
//! `Avx2Gather` uses `vpgather`, `Avx2` checks indices with vector compares and
//! then loads each element with a scalar move. On CPUs with the "Downfall" (GDS)
//! microcode mitigation `vpgather` is slower than scalar loads, so both stay.
//!
//! Full groups run in vectors; the tail, and rows whose offsets the 32×32-bit
//! multiply cannot form, run the scalar row.

use super::transpose;
use crate::index::{IndexElem, IndexKind};
use crate::kernel::scalar::{checked_src, copy_checked, row_range};
use crate::kernel::{affine, prefetch_stream, Ahead, BadIndex, Job, Row, RowKernel, Tile};
use core::arch::x86_64::*;
use std::ops::Range;

/// AVX2 with hardware gathers.
pub(crate) struct Avx2Gather;
/// AVX2 index checks, scalar loads.
pub(crate) struct Avx2Loads;

/// The affine kernel on AVX2 with hardware gathers.
///
/// # Safety
/// As for [`crate::kernel::Kernel`]; the CPU has AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn affine_gather<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive::<Avx2Gather, E, I>(job, rows, cols) }
}

/// The affine kernel on AVX2 with scalar loads.
///
/// # Safety
/// As for [`crate::kernel::Kernel`]; the CPU has AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn affine_loads<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive::<Avx2Loads, E, I>(job, rows, cols) }
}

/// Four indices widened to 64 bits.
///
/// # Safety
/// Positions `0..4` from `p` are index positions of the row.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load4<I: IndexElem>(p: *const I) -> __m256i {
    // SAFETY: the caller's contract; unaligned loads.
    unsafe {
        match I::KIND {
            IndexKind::I64 | IndexKind::U64 => _mm256_loadu_si256(p.cast()),
            IndexKind::I32 => _mm256_cvtepi32_epi64(_mm_loadu_si128(p.cast())),
            IndexKind::U32 => _mm256_cvtepu32_epi64(_mm_loadu_si128(p.cast())),
        }
    }
}

/// Whether all four lanes satisfy `v < bound` as unsigned numbers (AVX2 only
/// compares signed, so both sides are shifted by 2^63 first).
#[inline]
#[target_feature(enable = "avx2")]
fn all_below(v: __m256i, bound_flipped: __m256i) -> bool {
    let flip = _mm256_set1_epi64x(i64::MIN);
    let lt = _mm256_cmpgt_epi64(bound_flipped, _mm256_xor_si256(v, flip));
    _mm256_movemask_pd(_mm256_castsi256_pd(lt)) == 0xf
}

#[inline]
#[target_feature(enable = "avx2")]
fn flipped_bound(bound: usize) -> __m256i {
    _mm256_set1_epi64x((bound as u64 ^ (1 << 63)) as i64)
}

impl RowKernel for Avx2Loads {
    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
        // SAFETY: forwarded; this body only runs under `affine_loads`, which
        // enables AVX2.
        unsafe { row_loads(r) }
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(t: &Tile<T>) {
        // SAFETY: forwarded; this body only runs under this path's entry
        // points, which enable its features.
        unsafe { transpose::fill_avx2(t) }
    }
}

/// Four indices checked per vector compare, then four scalar moves.
///
/// # Safety
/// As [`RowKernel::row`]; the CPU has AVX2.
#[inline]
#[target_feature(enable = "avx2")]
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
#[target_feature(enable = "avx2")]
unsafe fn row_loads_as<E: Copy, I: IndexElem, const DIRECT: bool>(
    r: &Row<E, I>,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    let bound = flipped_bound(r.bound);
    let mut j = 0;
    while j + 4 <= r.n {
        if j % 8 == 0 {
            if let Some(a) = ahead {
                a.at(j);
            }
            prefetch_stream(r.idx.wrapping_add(j));
        }
        // SAFETY: positions `j..j + 4` are in the row (invariant 2).
        if !all_below(unsafe { load4(r.idx.add(j)) }, bound) {
            return Err(BadIndex);
        }
        // SAFETY: the four positions were just checked.
        unsafe {
            match size_of::<E>() {
                4 | 8 => copy4_combined::<E, I, DIRECT>(r, j),
                _ => copy_checked::<E, I, DIRECT>(r, j, j + 4),
            }
        }
        j += 4;
    }
    // SAFETY: the rest of the row, `j <= n`.
    unsafe { row_range(r, j, r.n) }
}

/// Positions `j..j + 4` of a row of 4- or 8-byte elements: four scalar loads
/// combined into one vector store, as the AVX-512 path combines eight.
/// `last_perm` ([2048, 2048] `f32`, one thread, standalone) 1.50 -> 1.35 ms,
/// with `i32` indices 1.54 -> 1.32 ms.
///
/// # Safety
/// As [`copy_checked`] for `from = j`, `to = j + 4`; `E` is 4 or 8 bytes wide;
/// the CPU has AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn copy4_combined<E: Copy, I: IndexElem, const DIRECT: bool>(r: &Row<E, I>, j: usize) {
    // SAFETY: positions `j..j + 4` are checked positions of the row (the
    // caller's contract).
    let at = |k: usize| unsafe { checked_src::<E, I, DIRECT>(r, j + k) };
    // SAFETY: each read is one element of the source (above), read unaligned
    // as the element may be a byte array; the store covers the row's own output
    // positions `j..j + 4` (invariant 2), `4 · w` bytes.
    unsafe {
        if size_of::<E>() == 4 {
            let g = |k| at(k).cast::<i32>().read_unaligned();
            let v = _mm_setr_epi32(g(0), g(1), g(2), g(3));
            _mm_storeu_si128(r.out.add(j).cast(), v);
        } else {
            let g = |k| at(k).cast::<i64>().read_unaligned();
            let v = _mm256_setr_epi64x(g(0), g(1), g(2), g(3));
            _mm256_storeu_si256(r.out.add(j).cast(), v);
        }
    }
}

impl RowKernel for Avx2Gather {
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
        unsafe { transpose::fill_avx2(t) }
    }
}

/// One row on the gather path: vector gathers where they apply, else scalar.
///
/// # Safety
/// As [`RowKernel::row`], for a group of one row; the CPU has AVX2.
#[inline(always)]
unsafe fn gather_one<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
    {
        let w = size_of::<E>();
        // `_mm256_mul_epu32` multiplies the low 32 bits: exact when indices are
        // below 2^32 (they are below `bound`) and `gs·w` is in `0..2^32`.
        let gsw = r.gs.checked_mul(w as isize);
        let mul_ok = r.bound <= 1 << 32 && gsw.is_some_and(|g| (0..1 << 32).contains(&g));
        let direct = r.si == 0 && r.gs == 1;
        match w {
            1 | 2 if !r.slack => {}
            1 | 2 | 4 | 8 if direct || mul_ok => {
                // SAFETY: forwarded; `w`, `slack` and the multiply checked above;
                // this body only runs under `affine_gather`, which enables AVX2.
                return unsafe { row_gather(r, direct, gsw.unwrap_or(0)) };
            }
            _ => {}
        }
        // SAFETY: forwarded from this function's contract.
        unsafe { row_range(r, 0, r.n) }
    }
}

/// Bytes 0-1 (w = 2) or byte 0 (w = 1) of each 32-bit lane, packed low.
#[inline]
#[target_feature(enable = "avx2")]
fn pack_lanes(g: __m128i, w: usize) -> __m128i {
    let shuffle = if w == 2 {
        _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1)
    } else {
        _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
    };
    _mm_shuffle_epi8(g, shuffle)
}

/// Four elements per step through `vpgatherqd`/`vpgatherqq`.
///
/// # Safety
/// As [`RowKernel::row`]; `w` in {1, 2, 4, 8}, `slack` if `w < 4`, and unless
/// `direct`, `gsw = gs·w` in `0..2^32` and `bound <= 2^32`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn row_gather<E: Copy, I: IndexElem>(
    r: &Row<E, I>,
    direct: bool,
    gsw: isize,
) -> Result<(), BadIndex> {
    let w = size_of::<E>();
    // Only dereferenced at offsets of checked indices (invariant 3).
    let base = r.src.wrapping_offset(r.base).cast::<u8>();
    let bound = flipped_bound(r.bound);
    let siw = (r.si as i64).wrapping_mul(w as i64);
    let mut along = _mm256_setr_epi64x(0, siw, siw.wrapping_mul(2), siw.wrapping_mul(3));
    let step = _mm256_set1_epi64x(siw.wrapping_mul(4));
    let gsv = _mm256_set1_epi64x(gsw as i64);
    let mut j = 0;
    while j + 4 <= r.n {
        // SAFETY: positions `j..j + 4` are in the row (invariant 2).
        let v = unsafe { load4(r.idx.add(j)) };
        if !all_below(v, bound) {
            return Err(BadIndex);
        }
        let off = if direct {
            match w {
                1 => v,
                2 => _mm256_slli_epi64::<1>(v),
                4 => _mm256_slli_epi64::<2>(v),
                _ => _mm256_slli_epi64::<3>(v),
            }
        } else {
            _mm256_add_epi64(along, _mm256_mul_epu32(v, gsv))
        };
        let out = r.out.wrapping_add(j).cast::<u8>();
        // SAFETY: all four indices were checked, so each offset names a source
        // element of this row (invariant 3); for w < 4 the 4-byte reads stay in
        // the buffer (`slack`); the four outputs are the row's (invariant 2).
        unsafe {
            match w {
                8 => _mm256_storeu_si256(out.cast(), _mm256_i64gather_epi64(base.cast(), off, 1)),
                4 => _mm_storeu_si128(out.cast(), _mm256_i64gather_epi32(base.cast(), off, 1)),
                2 => {
                    let g = pack_lanes(_mm256_i64gather_epi32(base.cast(), off, 1), 2);
                    _mm_storel_epi64(out.cast(), g);
                }
                _ => {
                    let g = pack_lanes(_mm256_i64gather_epi32(base.cast(), off, 1), 1);
                    out.cast::<i32>().write_unaligned(_mm_cvtsi128_si32(g));
                }
            }
        }
        along = _mm256_add_epi64(along, step);
        j += 4;
    }
    // SAFETY: the rest of the row, `j <= n`.
    unsafe { row_range(r, j, r.n) }
}
