//! AVX2: the lanes of the checked-loads body (vector index checks, scalar
//! loads, combined stores) and a row body of hardware gathers (`vpgather`),
//! which benchmarks choose between: on CPUs with the "Downfall" (GDS)
//! microcode mitigation `vpgather` is slower than scalar loads, so both stay.
//!
//! Everything here takes or holds an [`Avx2`] token, which only detection
//! makes; that is what makes calling the `#[target_feature]` functions sound.
//! Full groups run in vectors; tails, and rows whose offsets the 32×32-bit
//! multiply cannot form, run the scalar row.

use super::transpose;
use crate::index::{IndexElem, IndexKind};
use crate::isa::Avx2;
use crate::kernel::affine::Driver;
use crate::kernel::checked::one_row;
use crate::kernel::scalar::row_range;
use crate::kernel::{Ahead, BadIndex, Job, Lanes, Row, RowBody, Tile, affine};
use core::arch::x86_64::*;
use std::ops::Range;

/// Runs an affine kernel with row body `B` under AVX2: the one entry point
/// whose `#[target_feature]` the inlined driver and row bodies compile under.
///
/// # Safety
/// The kernel contract (`kernel/mod.rs`) for `job`, `rows`, `cols`, with
/// `driver` one [`affine::drive`] accepts for the plan.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn affine<B: RowBody, E: Copy, I: IndexElem>(
    _: Avx2,
    body: B,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
    driver: Driver,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive(body, job, rows, cols, driver) }
}

/// Runs `f` under AVX2, so that what it inlines (loops the compiler
/// vectorizes, such as the losses' row statistics) may use it.
#[target_feature(enable = "avx2")]
pub(crate) fn under<O>(_: Avx2, f: impl FnOnce() -> O) -> O {
    f()
}

/// The checked-loads lanes of AVX2: four index values per compare.
#[derive(Clone, Copy)]
pub(crate) struct Avx2Lanes(pub Avx2);

impl Lanes for Avx2Lanes {
    const N: usize = 4;
    const PREFETCH: bool = true;
    type Bound = __m256i;

    #[inline(always)]
    fn bound(self, bound: usize) -> __m256i {
        // SAFETY: `self` holds the AVX2 token.
        unsafe { flipped_bound(self.0, bound) }
    }

    #[inline(always)]
    unsafe fn below<I: IndexElem>(self, p: *const I, bound: __m256i) -> bool {
        // SAFETY: the token proves AVX2; the four positions are the caller's.
        unsafe { all_below(self.0, load4(self.0, p), bound) }
    }

    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem, const DIRECT: bool>(
        self,
        r: &Row<E, I>,
        ahead: Option<Ahead>,
    ) -> Result<(), BadIndex> {
        // SAFETY: the token proves AVX2; the row is the caller's.
        unsafe { checked_row::<E, I, DIRECT>(self, r, ahead) }
    }

    #[inline(always)]
    unsafe fn store_combined<E: Copy>(self, out: *mut E, at: impl Fn(usize) -> *const E) {
        // SAFETY: the token proves AVX2; reads and the store as the caller
        // promises (elements read unaligned: they may be byte arrays).
        unsafe { store4(self.0, out, at) }
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the token proves AVX2; the block is the caller's.
        unsafe { transpose::fill_avx2(self.0, t) }
    }
}

/// The checked-loads row body compiled under AVX2.
///
/// # Safety
/// As [`one_row`].
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn checked_row<E: Copy, I: IndexElem, const DIRECT: bool>(
    lanes: Avx2Lanes,
    r: &Row<E, I>,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded.
    unsafe { one_row::<_, E, I, DIRECT>(lanes, r, ahead) }
}

/// Four elements of 4 or 8 bytes, one vector store.
///
/// # Safety
/// As [`Lanes::store_combined`] with `N = 4`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store4<E: Copy>(_: Avx2, out: *mut E, at: impl Fn(usize) -> *const E) {
    // SAFETY: the caller's contract.
    unsafe {
        if size_of::<E>() == 4 {
            let g = |k| at(k).cast::<i32>().read_unaligned();
            let v = _mm_setr_epi32(g(0), g(1), g(2), g(3));
            _mm_storeu_si128(out.cast(), v);
        } else {
            let g = |k| at(k).cast::<i64>().read_unaligned();
            let v = _mm256_setr_epi64x(g(0), g(1), g(2), g(3));
            _mm256_storeu_si256(out.cast(), v);
        }
    }
}

/// Four indices widened to 64 bits.
///
/// # Safety
/// Positions `0..4` from `p` are index positions of the row.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load4<I: IndexElem>(_: Avx2, p: *const I) -> __m256i {
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
fn all_below(_: Avx2, v: __m256i, bound_flipped: __m256i) -> bool {
    let flip = _mm256_set1_epi64x(i64::MIN);
    let lt = _mm256_cmpgt_epi64(bound_flipped, _mm256_xor_si256(v, flip));
    _mm256_movemask_pd(_mm256_castsi256_pd(lt)) == 0xf
}

#[inline]
#[target_feature(enable = "avx2")]
fn flipped_bound(_: Avx2, bound: usize) -> __m256i {
    _mm256_set1_epi64x((bound as u64 ^ (1 << 63)) as i64)
}

/// The hardware-gather row body of AVX2.
#[derive(Clone, Copy)]
pub(crate) struct Avx2Gather(pub Avx2);

impl RowBody for Avx2Gather {
    #[inline(always)]
    unsafe fn rows<E: Copy, I: IndexElem>(self, r: &Row<E, I>) -> Result<(), BadIndex> {
        for t in 0..r.rows {
            // SAFETY: forwarded from this function's contract, row by row; the
            // token proves AVX2.
            unsafe { gather_one(self.0, &r.nth(t))? };
        }
        Ok(())
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the token proves AVX2; the block is the caller's.
        unsafe { transpose::fill_avx2(self.0, t) }
    }
}

/// One row on the gather path: vector gathers where they apply, else scalar.
///
/// # Safety
/// As [`RowBody::rows`], for a group of one row.
#[inline(always)]
unsafe fn gather_one<E: Copy, I: IndexElem>(t: Avx2, r: &Row<E, I>) -> Result<(), BadIndex> {
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
                // SAFETY: forwarded; `w`, `slack` and the multiply checked
                // above; the token proves AVX2.
                return unsafe { row_gather(t, r, direct, gsw.unwrap_or(0)) };
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
fn pack_lanes(_: Avx2, g: __m128i, w: usize) -> __m128i {
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
/// As [`RowBody::rows`] for one row; `w` in {1, 2, 4, 8}, `slack` if `w < 4`,
/// and unless `direct`, `gsw = gs·w` in `0..2^32` and `bound <= 2^32`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn row_gather<E: Copy, I: IndexElem>(
    t: Avx2,
    r: &Row<E, I>,
    direct: bool,
    gsw: isize,
) -> Result<(), BadIndex> {
    let w = size_of::<E>();
    // Only dereferenced at offsets of checked indices (invariant 3).
    let base = r.src.wrapping_offset(r.base).cast::<u8>();
    let bound = flipped_bound(t, r.bound);
    let siw = (r.si as i64).wrapping_mul(w as i64);
    let mut along = _mm256_setr_epi64x(0, siw, siw.wrapping_mul(2), siw.wrapping_mul(3));
    let step = _mm256_set1_epi64x(siw.wrapping_mul(4));
    let gsv = _mm256_set1_epi64x(gsw as i64);
    let mut j = 0;
    while j + 4 <= r.n {
        // SAFETY: positions `j..j + 4` are in the row (invariant 2).
        let v = unsafe { load4(t, r.idx.add(j)) };
        if !all_below(t, v, bound) {
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
                    let g = pack_lanes(t, _mm256_i64gather_epi32(base.cast(), off, 1), 2);
                    _mm_storel_epi64(out.cast(), g);
                }
                _ => {
                    let g = pack_lanes(t, _mm256_i64gather_epi32(base.cast(), off, 1), 1);
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
