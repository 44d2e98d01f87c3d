//! AVX-512 (F, BW, VL, DQ): the lanes of the checked-loads body (eight index
//! values per masked compare, masked tails, combined stores) and a row body of
//! masked hardware gathers with the checks fused in, which benchmarks choose
//! between (scalar loads win where `vpgather` is slow: AMD Zen, and Intel with
//! the "Downfall" mitigation).
//!
//! Everything here takes or holds an [`Avx512`] token, which only detection
//! makes. The gathers take eight 64-bit offsets per step in general; sixteen
//! 32-bit offsets when the indices are 32-bit and every offset of the row fits
//! in `i32`. 1- and 2-byte elements are fetched with 32-bit gathers and
//! narrowed, only where `slack` proves the extra bytes lie inside the source.

use super::transpose;
use crate::index::{IndexElem, IndexKind};
use crate::isa::Avx512;
use crate::kernel::affine::Driver;
use crate::kernel::checked::one_row;
use crate::kernel::scalar::row_range;
use crate::kernel::{Ahead, BadIndex, Job, Lanes, Row, RowBody, Tile, affine, prefetch_stream};
use core::arch::x86_64::*;
use std::ops::Range;

/// Runs an affine kernel with row body `B` under AVX-512: the one entry point
/// whose `#[target_feature]` the inlined driver and row bodies compile under.
///
/// # Safety
/// The kernel contract (`kernel/mod.rs`) for `job`, `rows`, `cols`, with
/// `driver` one [`affine::drive`] accepts for the plan.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx2")]
pub(crate) unsafe fn affine<B: RowBody, E: Copy, I: IndexElem>(
    _: Avx512,
    body: B,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
    driver: Driver,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive(body, job, rows, cols, driver) }
}

/// Runs `f` under AVX-512, so that what it inlines may use it.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx2")]
pub(crate) fn under<O>(_: Avx512, f: impl FnOnce() -> O) -> O {
    f()
}

/// The checked-loads lanes of AVX-512: eight index values per compare.
#[derive(Clone, Copy)]
pub(crate) struct Avx512Lanes(pub Avx512);

impl Lanes for Avx512Lanes {
    const N: usize = 8;
    const PREFETCH: bool = true;
    type Bound = __m512i;

    #[inline(always)]
    fn bound(self, bound: usize) -> __m512i {
        // SAFETY: `self` holds the AVX-512 token.
        unsafe { splat_q(self.0, bound as i64) }
    }

    #[inline(always)]
    unsafe fn below<I: IndexElem>(self, p: *const I, bound: __m512i) -> bool {
        // SAFETY: the token proves AVX-512; the eight positions are the caller's.
        unsafe { below_mask(self.0, p, 0xff, bound) }
    }

    #[inline(always)]
    unsafe fn below_tail<I: IndexElem>(
        self,
        p: *const I,
        n: usize,
        bound: __m512i,
    ) -> Option<bool> {
        prefetch_stream(p);
        // SAFETY: the token proves AVX-512; the mask covers the caller's `n`
        // positions only.
        Some(unsafe { below_mask(self.0, p, tail8(n), bound) })
    }

    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem, const DIRECT: bool>(
        self,
        r: &Row<E, I>,
        ahead: Option<Ahead>,
    ) -> Result<(), BadIndex> {
        // SAFETY: the token proves AVX-512; the row is the caller's.
        unsafe { checked_row::<E, I, DIRECT>(self, r, ahead) }
    }

    #[inline(always)]
    unsafe fn store_combined<E: Copy>(self, out: *mut E, at: impl Fn(usize) -> *const E) {
        // SAFETY: the token proves AVX-512; reads and the store as the caller
        // promises.
        unsafe { store8(self.0, out, at) }
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the token proves AVX-512 and AVX2; the block is the caller's.
        unsafe { transpose::fill_avx512(self.0, t) }
    }
}

/// The checked-loads row body compiled under AVX-512.
///
/// # Safety
/// As [`one_row`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx2")]
unsafe fn checked_row<E: Copy, I: IndexElem, const DIRECT: bool>(
    lanes: Avx512Lanes,
    r: &Row<E, I>,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded.
    unsafe { one_row::<_, E, I, DIRECT>(lanes, r, ahead) }
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
fn splat_q(_: Avx512, v: i64) -> __m512i {
    _mm512_set1_epi64(v)
}

/// Whether the index values at the lanes of `m` from `p` are all below
/// `bound`, unsigned.
///
/// # Safety
/// The lanes of `m` are index positions of the row.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn below_mask<I: IndexElem>(t: Avx512, p: *const I, m: __mmask8, bound: __m512i) -> bool {
    // SAFETY: the caller's contract.
    let v = unsafe { load_q(t, p, m) };
    _mm512_mask_cmplt_epu64_mask(m, v, bound) == m
}

/// Eight elements of 4 or 8 bytes, one vector store.
///
/// # Safety
/// As [`Lanes::store_combined`] with `N = 8`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn store8<E: Copy>(_: Avx512, out: *mut E, at: impl Fn(usize) -> *const E) {
    // SAFETY: the caller's contract.
    unsafe {
        if size_of::<E>() == 4 {
            let g = |k| at(k).cast::<i32>().read_unaligned();
            let v = _mm256_setr_epi32(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
            _mm256_storeu_si256(out.cast(), v);
        } else {
            let g = |k| at(k).cast::<i64>().read_unaligned();
            let v = _mm512_setr_epi64(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
            _mm512_storeu_si512(out.cast(), v);
        }
    }
}

/// The hardware-gather row body of AVX-512.
#[derive(Clone, Copy)]
pub(crate) struct Avx512Gather(pub Avx512);

impl RowBody for Avx512Gather {
    #[inline(always)]
    unsafe fn rows<E: Copy, I: IndexElem>(self, r: &Row<E, I>) -> Result<(), BadIndex> {
        for t in 0..r.rows {
            // SAFETY: forwarded from this function's contract, row by row; the
            // token proves AVX-512.
            unsafe { gather_one(self.0, &r.nth(t))? };
        }
        Ok(())
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the token proves AVX-512 and AVX2; the block is the caller's.
        unsafe { transpose::fill_avx512(self.0, t) }
    }
}

/// One row on the gather path.
///
/// # Safety
/// As [`RowBody::rows`], for a group of one row.
#[inline(always)]
unsafe fn gather_one<E: Copy, I: IndexElem>(t: Avx512, r: &Row<E, I>) -> Result<(), BadIndex> {
    {
        let w = size_of::<E>();
        // SAFETY: forwarded from this function's contract, with `w`, `slack` and
        // `fits_d` checked by the match; the token proves AVX-512.
        unsafe {
            match w {
                1 | 2 if !r.slack => row_range(r, 0, r.n),
                1 | 2 | 4 if fits_d(r) => row_d(t, r),
                1 | 2 | 4 | 8 => row_q(t, r),
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
    if left >= 8 { 0xff } else { (1u8 << left) - 1 }
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
unsafe fn load_q<I: IndexElem>(_: Avx512, p: *const I, m: __mmask8) -> __m512i {
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
fn scale_q(_: Avx512, v: __m512i, w: usize) -> __m512i {
    match w {
        1 => v,
        2 => _mm512_slli_epi64::<1>(v),
        4 => _mm512_slli_epi64::<2>(v),
        _ => _mm512_slli_epi64::<3>(v),
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
fn scale_d(_: Avx512, v: __m512i, w: usize) -> __m512i {
    match w {
        1 => v,
        2 => _mm512_slli_epi32::<1>(v),
        _ => _mm512_slli_epi32::<2>(v),
    }
}

/// Eight elements per step, 64-bit byte offsets from the row base.
///
/// # Safety
/// As [`RowBody::rows`] for one row; `w` in {1, 2, 4, 8}, and `slack` holds
/// if `w < 4`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn row_q<E: Copy, I: IndexElem>(t: Avx512, r: &Row<E, I>) -> Result<(), BadIndex> {
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
        let v = unsafe { load_q(t, r.idx.add(j), m) };
        if _mm512_mask_cmplt_epu64_mask(m, v, bound) != m {
            return Err(BadIndex);
        }
        let off = if direct {
            scale_q(t, v, w)
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
/// As [`RowBody::rows`] for one row; `w` in {1, 2, 4}, `fits_d(r)`, and
/// `slack` if `w < 4`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
unsafe fn row_d<E: Copy, I: IndexElem>(t: Avx512, r: &Row<E, I>) -> Result<(), BadIndex> {
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
            scale_d(t, v, w)
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
