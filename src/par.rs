//! Splitting a plan across rayon threads: disjoint rectangles of rows × inner
//! positions, a grain in bytes, and a serial cutoff under which the caller's
//! thread does everything.

use crate::kernel::BadIndex;
use std::ops::Range;

/// Below this many bytes moved, threads cost more than they save.
#[cfg(feature = "rayon")]
pub(crate) const SERIAL_CUTOFF_BYTES: usize = 256 << 10;
/// Smallest piece of work handed to one task.
#[cfg(feature = "rayon")]
pub(crate) const GRAIN_BYTES: usize = 64 << 10;
/// Tasks per thread, so uneven progress still balances.
#[cfg(feature = "rayon")]
const TASKS_PER_THREAD: usize = 4;
/// Column blocks are a multiple of this, so neighbouring tasks rarely share an
/// output cache line and vector bodies keep whole steps.
#[cfg(feature = "rayon")]
const COL_ALIGN: usize = 64;

/// Runs `f` over the `rows × inner` rectangle in disjoint pieces, in parallel
/// when `parallel` and the work (`rows × inner × elem_bytes`) is large enough.
/// Splits rows when there are enough of them, else the inner axis if
/// `split_inner` allows. Stops at the first error.
pub(crate) fn for_each_chunk(
    rows: usize,
    inner: usize,
    elem_bytes: usize,
    parallel: bool,
    split_inner: bool,
    f: impl Fn(Range<usize>, Range<usize>) -> Result<(), BadIndex> + Sync,
) -> Result<(), BadIndex> {
    #[cfg(feature = "rayon")]
    {
        let bytes = rows.saturating_mul(inner).saturating_mul(elem_bytes.max(1));
        if parallel && bytes >= SERIAL_CUTOFF_BYTES && rayon::current_num_threads() > 1 {
            let threads = rayon::current_num_threads();
            use rayon::prelude::*;
            let tasks = (bytes / GRAIN_BYTES).clamp(2, threads * TASKS_PER_THREAD);
            if rows >= tasks || (!split_inner && rows > 1) {
                let per = rows.div_ceil(tasks);
                return (0..rows.div_ceil(per))
                    .into_par_iter()
                    .try_for_each(|t| f(t * per..rows.min((t + 1) * per), 0..inner));
            }
            let per = inner
                .div_ceil(tasks.div_ceil(rows))
                .next_multiple_of(COL_ALIGN);
            return (0..inner.div_ceil(per))
                .into_par_iter()
                .try_for_each(|t| f(0..rows, t * per..inner.min((t + 1) * per)));
        }
    }
    #[cfg(not(feature = "rayon"))]
    let _ = (parallel, elem_bytes, split_inner);
    f(0..rows, 0..inner)
}
