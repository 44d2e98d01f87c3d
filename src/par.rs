//! Splitting a plan across rayon threads: disjoint rectangles of rows × inner
//! positions, a grain in bytes, and a serial cutoff under which the caller's
//! thread does everything.

use crate::kernel::BadIndex;
#[cfg(feature = "rayon")]
use crate::tune::{COL_ALIGN, GRAIN_BYTES, SERIAL_CUTOFF_BYTES, TASKS_PER_THREAD};
use std::ops::Range;

/// How a rectangle may be split across tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// Rows when there are enough of them, else the inner axis.
    Any,
    /// Rows share packed source columns in consecutive groups of `group`:
    /// whole groups per task when there are enough of them, else the inner
    /// axis first (tasks then share no packed source columns).
    InnerFirst { group: usize },
    /// Whole rows only (scatter: rows never share a written element).
    RowsOnly,
}

/// The threads a parallel call may use: the current rayon pool's, or one.
pub(crate) fn threads(parallel: bool) -> usize {
    #[cfg(feature = "rayon")]
    if parallel {
        return rayon::current_num_threads().max(1);
    }
    let _ = parallel;
    1
}

/// Runs `f` over the `rows × inner` rectangle in disjoint pieces, in parallel
/// when `parallel` and the work (`rows × inner × elem_bytes`) is large enough,
/// split as `split` allows. Stops at the first error.
pub(crate) fn for_each_chunk(
    rows: usize,
    inner: usize,
    elem_bytes: usize,
    parallel: bool,
    split: Split,
    f: impl Fn(Range<usize>, Range<usize>) -> Result<(), BadIndex> + Sync,
) -> Result<(), BadIndex> {
    #[cfg(feature = "rayon")]
    {
        let bytes = rows.saturating_mul(inner).saturating_mul(elem_bytes.max(1));
        if parallel && bytes >= SERIAL_CUTOFF_BYTES && rayon::current_num_threads() > 1 {
            let threads = rayon::current_num_threads();
            use rayon::prelude::*;
            let tasks = (bytes / GRAIN_BYTES).clamp(2, threads * TASKS_PER_THREAD);
            // Columns go first while every thread can have a block of its own:
            // row blocks would each repeat the packing of every column.
            let by_cols = match split {
                Split::RowsOnly => false,
                Split::InnerFirst { group } if rows / group.max(1) >= tasks => false,
                Split::InnerFirst { .. } => inner >= threads * COL_ALIGN || rows < tasks,
                Split::Any => rows < tasks,
            };
            if !by_cols {
                if rows < 2 {
                    return f(0..rows, 0..inner);
                }
                let per = match split {
                    Split::InnerFirst { group } => {
                        rows.div_ceil(tasks).next_multiple_of(group.max(1))
                    }
                    _ => rows.div_ceil(tasks),
                };
                return (0..rows.div_ceil(per))
                    .into_par_iter()
                    .try_for_each(|t| f(t * per..rows.min((t + 1) * per), 0..inner));
            }
            // Column blocks over all rows: one per task when columns go first,
            // else enough to make up for the few rows.
            let blocks = match split {
                Split::InnerFirst { .. } => tasks.min(inner / COL_ALIGN).max(1),
                _ => tasks.div_ceil(rows),
            };
            let per = inner.div_ceil(blocks).next_multiple_of(COL_ALIGN);
            return (0..inner.div_ceil(per))
                .into_par_iter()
                .try_for_each(|t| f(0..rows, t * per..inner.min((t + 1) * per)));
        }
    }
    #[cfg(not(feature = "rayon"))]
    let _ = (parallel, elem_bytes, split);
    f(0..rows, 0..inner)
}

/// Runs `f(first, rows)` over `out` cut into runs of whole rows of `row_len`
/// elements (`first`: the run's first row), in parallel when `parallel` and
/// `work_bytes` (what the calls read and write) reaches the serial cutoff.
/// Each row is written by one call, so the result does not depend on the split.
pub(crate) fn for_each_rows_mut<T: Send>(
    out: &mut [T],
    row_len: usize,
    work_bytes: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let rows = out.len().checked_div(row_len).unwrap_or(0);
    #[cfg(feature = "rayon")]
    if parallel && work_bytes >= SERIAL_CUTOFF_BYTES && rows > 1 && rayon::current_num_threads() > 1
    {
        use rayon::prelude::*;
        let tasks =
            (work_bytes / GRAIN_BYTES).clamp(2, rayon::current_num_threads() * TASKS_PER_THREAD);
        let per = rows.div_ceil(tasks);
        out.par_chunks_mut(per * row_len)
            .enumerate()
            .for_each(|(t, chunk)| f(t * per, chunk));
        return;
    }
    #[cfg(not(feature = "rayon"))]
    let _ = (work_bytes, parallel);
    if rows > 0 {
        f(0, out);
    }
}
