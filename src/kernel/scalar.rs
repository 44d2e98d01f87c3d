//! Portable scalar kernels: the general strided one, correct for every layout.

use super::{BadIndex, Job};
use crate::index::{in_bounds, IndexElem};
use std::ops::Range;

/// Any layout: per row, walk the inner axis with the three strides.
///
/// # Safety
/// As for [`super::Kernel`].
pub(crate) unsafe fn general<E: Copy, I: IndexElem>(
    job: &Job<'_, E, I>,
    rows: Range<usize>,
) -> Result<(), BadIndex> {
    let p = job.plan;
    let mut cur = p.rows_from(rows.start);
    for _ in rows {
        for j in 0..p.inner as isize {
            // SAFETY: `j < inner`, so this is an index position (plan invariant 2).
            let v = unsafe { job.idx.offset(cur.idx + j * p.idx_inner).read() }.to_i64();
            if !in_bounds(v, p.bound) {
                return Err(BadIndex);
            }
            let s = cur.src + j * p.src_inner + v as isize * p.gather_stride;
            // SAFETY: `v < bound` was checked just above, so `s` is in the source
            // (invariant 3); the output element is this row's own (invariant 2).
            unsafe {
                job.out
                    .offset(cur.out + j * p.out_inner)
                    .write(job.src.offset(s).read())
            };
        }
        cur.advance();
    }
    Ok(())
}
