//! NEON: the lanes of the checked-loads body. Index values are widened to 64
//! bits and compared four at a time (NEON compares unsigned natively, so
//! negative values fail without a flip), each element is one scalar load, and
//! elements of 4 or 8 bytes leave in full vector stores.
//!
//! Everything here takes or holds a [`Neon`] token, which only detection
//! makes. Tails run the scalar row.

use super::transpose;
use crate::index::{IndexElem, IndexKind};
use crate::isa::Neon;
use crate::kernel::affine::{self, Driver};
use crate::kernel::checked::one_row;
use crate::kernel::{Ahead, BadIndex, Job, Lanes, Row, RowBody, Tile};
use core::arch::aarch64::*;
use std::ops::Range;

/// Runs an affine kernel with row body `B` under NEON: the one entry point
/// whose `#[target_feature]` the inlined driver and row bodies compile under.
///
/// # Safety
/// The kernel contract (`kernel/mod.rs`) for `job`, `rows`, `cols`, with
/// `driver` one [`affine::drive`] accepts for the plan.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn affine<B: RowBody, E: Copy, I: IndexElem>(
    _: Neon,
    body: B,
    job: &Job<'_, E, I>,
    rows: Range<usize>,
    cols: Range<usize>,
    driver: Driver,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { affine::drive(body, job, rows, cols, driver) }
}

/// Runs `f` under NEON, so that what it inlines (loops the compiler
/// vectorizes, such as the losses' row statistics) may use it.
#[target_feature(enable = "neon")]
pub(crate) fn under<O>(_: Neon, f: impl FnOnce() -> O) -> O {
    f()
}

/// The checked-loads lanes of NEON: four index values per check, in two
/// 128-bit registers.
#[derive(Clone, Copy)]
pub(crate) struct NeonLanes(pub Neon);

impl Lanes for NeonLanes {
    const N: usize = 4;
    const PREFETCH: bool = true;
    type Bound = uint64x2_t;

    #[inline(always)]
    fn bound(self, bound: usize) -> uint64x2_t {
        // SAFETY: `self` holds the NEON token.
        unsafe { splat(self.0, bound as u64) }
    }

    #[inline(always)]
    unsafe fn below<I: IndexElem>(self, p: *const I, bound: uint64x2_t) -> bool {
        // SAFETY: the four positions are the caller's; the token proves NEON.
        unsafe { all_below(self.0, load4(self.0, p), bound) }
    }

    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem, const DIRECT: bool>(
        self,
        r: &Row<E, I>,
        ahead: Option<Ahead>,
    ) -> Result<(), BadIndex> {
        // SAFETY: the token proves NEON; the row is the caller's.
        unsafe { checked_row::<E, I, DIRECT>(self, r, ahead) }
    }

    #[inline(always)]
    unsafe fn store_combined<E: Copy>(self, out: *mut E, at: impl Fn(usize) -> *const E) {
        // SAFETY: the token proves NEON; reads and stores as the caller
        // promises (unaligned: elements may be byte arrays).
        unsafe { store4(self.0, out, at) }
    }

    #[inline(always)]
    unsafe fn fill_tile<T: Copy>(self, t: &Tile<T>) {
        // SAFETY: the token proves NEON; the block is the caller's.
        unsafe { transpose::fill_neon(self.0, t) }
    }
}

/// The checked-loads row body compiled under NEON.
///
/// # Safety
/// As [`one_row`].
#[inline]
#[target_feature(enable = "neon")]
unsafe fn checked_row<E: Copy, I: IndexElem, const DIRECT: bool>(
    lanes: NeonLanes,
    r: &Row<E, I>,
    ahead: Option<Ahead>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded.
    unsafe { one_row::<_, E, I, DIRECT>(lanes, r, ahead) }
}

#[inline]
#[target_feature(enable = "neon")]
fn splat(_: Neon, v: u64) -> uint64x2_t {
    vdupq_n_u64(v)
}

/// Four elements of 4 or 8 bytes: each loaded into its lane, then stored
/// whole (one store of 16 bytes, or two).
///
/// # Safety
/// As [`Lanes::store_combined`] with `N = 4`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn store4<E: Copy>(_: Neon, out: *mut E, at: impl Fn(usize) -> *const E) {
    // SAFETY: the caller's contract; every access is unaligned.
    unsafe {
        if size_of::<E>() == 4 {
            let g = |k| at(k).cast::<u32>().read_unaligned();
            let v = vdupq_n_u32(g(0));
            let v = vsetq_lane_u32::<1>(g(1), v);
            let v = vsetq_lane_u32::<2>(g(2), v);
            let v = vsetq_lane_u32::<3>(g(3), v);
            out.cast::<uint32x4_t>().write_unaligned(v);
        } else {
            let g = |k| at(k).cast::<u64>().read_unaligned();
            let lo = vsetq_lane_u64::<1>(g(1), vdupq_n_u64(g(0)));
            let hi = vsetq_lane_u64::<1>(g(3), vdupq_n_u64(g(2)));
            let out = out.cast::<uint64x2_t>();
            out.write_unaligned(lo);
            out.add(1).write_unaligned(hi);
        }
    }
}

/// Four index values widened to 64 bits (signed values sign-extended, so a
/// negative one is above every bound as an unsigned number).
///
/// # Safety
/// Positions `0..4` from `p` are index positions of the row.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load4<I: IndexElem>(_: Neon, p: *const I) -> [uint64x2_t; 2] {
    // SAFETY: the caller's contract; unaligned loads of 16 or 32 bytes.
    unsafe {
        match I::KIND {
            IndexKind::I64 | IndexKind::U64 => {
                let q = p.cast::<uint64x2_t>();
                [q.read_unaligned(), q.add(1).read_unaligned()]
            }
            IndexKind::I32 => {
                let v = p.cast::<int32x4_t>().read_unaligned();
                [
                    vreinterpretq_u64_s64(vmovl_s32(vget_low_s32(v))),
                    vreinterpretq_u64_s64(vmovl_high_s32(v)),
                ]
            }
            IndexKind::U32 => {
                let v = p.cast::<uint32x4_t>().read_unaligned();
                [vmovl_u32(vget_low_u32(v)), vmovl_high_u32(v)]
            }
        }
    }
}

/// Whether all four lanes are below `bound`, as unsigned numbers.
#[inline]
#[target_feature(enable = "neon")]
fn all_below(_: Neon, v: [uint64x2_t; 2], bound: uint64x2_t) -> bool {
    let lt = vandq_u64(vcltq_u64(v[0], bound), vcltq_u64(v[1], bound));
    vminvq_u32(vreinterpretq_u32_u64(lt)) == u32::MAX
}
