//! The orders in which the affine kernels visit a plan's rows.

/// The order a kernel visits the rows of a plan in; chosen by the dispatch
/// table, reported by [`crate::explain`], and forcible with
/// [`crate::GatherOptions::driver`] for tests and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Driver {
    /// Rows in order, rows along the innermost outer axis in groups.
    Plain,
    /// `InnerRun`: tiles of columns, all rows per tile, so the source block a
    /// tile's random picks touch stays in L2 while the rows reuse it.
    ColumnTiles,
    /// `StridedIndex` and `General`: a strided index is copied into dense
    /// tiles, rows bound for a strided output are gathered into one and copied
    /// out (by vector transposes where rows are adjacent).
    Tiles,
    /// `LastDim` over rows adjacent in memory (a transposed source): blocks of
    /// rows are transposed into a dense scratch first.
    PackedRows,
    /// `InnerRun` with a long gather stride and dense picks: the block of
    /// source columns the rows pick from is copied dense first (not when the
    /// block is already one contiguous run of a source small enough to stay
    /// cached).
    PackedColumns,
}
