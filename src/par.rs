//! Splitting rows across rayon threads: disjoint chunks, a grain in bytes, and
//! a serial cutoff under which the caller's thread does everything.

use crate::kernel::BadIndex;
use std::ops::Range;

/// Below this many bytes moved, threads cost more than they save.
pub(crate) const SERIAL_CUTOFF_BYTES: usize = 256 << 10;
/// Smallest chunk handed to one task.
pub(crate) const GRAIN_BYTES: usize = 64 << 10;
/// Chunks per thread, so uneven progress still balances.
const CHUNKS_PER_THREAD: usize = 4;

/// Runs `f` over `0..rows` in disjoint ranges, in parallel when `parallel` and
/// the work (`rows × row_bytes`) is large enough. Stops at the first error.
pub(crate) fn for_each_chunk(
    rows: usize,
    row_bytes: usize,
    parallel: bool,
    f: impl Fn(Range<usize>) -> Result<(), BadIndex> + Sync,
) -> Result<(), BadIndex> {
    #[cfg(feature = "rayon")]
    if parallel && rows > 1 && rows.saturating_mul(row_bytes) >= SERIAL_CUTOFF_BYTES {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads();
        if threads > 1 {
            let grain_rows = GRAIN_BYTES.div_ceil(row_bytes.max(1));
            let per_chunk = grain_rows.max(rows.div_ceil(threads * CHUNKS_PER_THREAD));
            let chunks = rows.div_ceil(per_chunk);
            return (0..chunks)
                .into_par_iter()
                .try_for_each(|c| f(c * per_chunk..rows.min((c + 1) * per_chunk)));
        }
    }
    #[cfg(not(feature = "rayon"))]
    let _ = parallel;
    f(0..rows)
}
