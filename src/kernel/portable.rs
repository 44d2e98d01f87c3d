//! The portable SIMD row, built on `wide`: four indices checked and turned into
//! source offsets per step in vector registers, then four scalar moves.
//!
//! `wide` picks its instructions when the crate is compiled (SSE2 on a baseline
//! x86-64 build, NEON on aarch64), so this path needs no runtime detection.

use super::scalar::row_range;
use super::{BadIndex, Row, RowKernel};
use crate::index::IndexElem;
use wide::{i64x4, CmpGt};

/// The `wide` row body.
pub(crate) struct Portable;

impl RowKernel for Portable {
    #[inline(always)]
    unsafe fn row<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
        for t in 0..r.rows {
            // SAFETY: forwarded from this function's contract, row by row.
            unsafe { one_row(&r.nth(t))? };
        }
        Ok(())
    }
}

/// One row of the portable body.
///
/// # Safety
/// As [`RowKernel::row`], for a group of one row.
#[inline(always)]
unsafe fn one_row<E: Copy, I: IndexElem>(r: &Row<E, I>) -> Result<(), BadIndex> {
    {
        // Unsigned `v < bound` as a signed compare of both shifted by 2^63.
        let flip = i64x4::splat(i64::MIN);
        let bound = i64x4::splat((r.bound as u64 ^ (1 << 63)) as i64);
        let gs = i64x4::splat(r.gs as i64);
        let step = i64x4::splat((r.si as i64).wrapping_mul(4));
        let mut along =
            i64x4::new([0, 1, 2, 3]) * i64x4::splat(r.si as i64) + i64x4::splat(r.base as i64);
        let mut j = 0;
        while j + 4 <= r.n {
            // SAFETY: positions `j..j + 4` are in the row (invariant 2).
            let raw: [i64; 4] =
                std::array::from_fn(|k| unsafe { r.idx.add(j + k).read() }.to_i64());
            let v = i64x4::new(raw);
            // Negative values are huge as unsigned numbers, and fail.
            if bound.cmp_gt(v ^ flip).move_mask() != 0b1111 {
                return Err(BadIndex);
            }
            let offsets = (along + v * gs).to_array();
            for (k, &s) in offsets.iter().enumerate() {
                // SAFETY: the index was checked, so `s` is a source element of this
                // row (invariant 3); output `j + k` is the row's (invariant 2).
                unsafe { r.out.add(j + k).write(r.src.offset(s as isize).read()) };
            }
            along = along + step;
            j += 4;
        }
        // SAFETY: the rest of the row, `j <= n`.
        unsafe { row_range(r, j, r.n) }
    }
}

/// The affine kernel on the portable path.
///
/// # Safety
/// As for [`crate::kernel::Kernel`].
pub(crate) unsafe fn affine<E: Copy, I: IndexElem>(
    job: &super::Job<'_, E, I>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> Result<(), BadIndex> {
    // SAFETY: forwarded from this function's contract.
    unsafe { super::affine::drive::<Portable, E, I>(job, rows, cols) }
}
