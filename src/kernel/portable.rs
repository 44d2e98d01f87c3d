//! The portable lanes, built on `wide`: four index values checked per step in
//! vector registers, for the checked-loads body.
//!
//! `wide` picks its instructions when the crate is compiled (SSE2 on a baseline
//! x86-64 build, NEON on aarch64), so this path needs no runtime detection and
//! no token.

use super::checked::one_row;
use super::{Ahead, BadIndex, Lanes, Row};
use crate::index::IndexElem;
use wide::{CmpGt, i64x4};

/// Four lanes of `wide`'s `i64x4`.
#[derive(Clone, Copy)]
pub(crate) struct Portable;

impl Lanes for Portable {
    const N: usize = 4;
    // Bound by its own instructions: asking ahead measured slower.
    const PREFETCH: bool = false;
    type Bound = i64x4;

    /// Unsigned `v < bound` is a signed compare of both shifted by 2^63.
    #[inline(always)]
    fn bound(self, bound: usize) -> i64x4 {
        i64x4::splat((bound as u64 ^ (1 << 63)) as i64)
    }

    #[inline(always)]
    unsafe fn below<I: IndexElem>(self, p: *const I, bound: i64x4) -> bool {
        // SAFETY: positions `0..4` from `p` are index positions (the caller's
        // contract).
        let raw: [i64; 4] = std::array::from_fn(|k| unsafe { p.add(k).read() }.to_i64());
        let flipped = i64x4::new(raw) ^ i64x4::splat(i64::MIN);
        bound.cmp_gt(flipped).move_mask() == 0b1111
    }

    #[inline]
    unsafe fn row<E: Copy, I: IndexElem, const DIRECT: bool>(
        self,
        r: &Row<E, I>,
        ahead: Option<Ahead>,
    ) -> Result<(), BadIndex> {
        // SAFETY: forwarded (this function's contract).
        unsafe { one_row::<Self, E, I, DIRECT>(self, r, ahead) }
    }
}
