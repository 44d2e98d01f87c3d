//! Every tuning constant, each with the cache level or cost it trades against.
//!
//! The kernels read these; they do not restate them. The measurements behind
//! each value, with the commands that produced them, are in `benches/README.md`
//! ("Tuning") and `CHANGELOG.md`.

// Calls and threads.

/// Index elements up to which a call with default path and mode skips planning:
/// below it the per-call overhead is the whole cost.
pub(crate) const TINY_MAX: usize = 32;
/// Ranks the tiny path walks (its position lives in a fixed array).
pub(crate) const TINY_RANK: usize = 8;
/// Below this many bytes moved, threads cost more than they save.
#[cfg(feature = "rayon")]
pub(crate) const SERIAL_CUTOFF_BYTES: usize = 256 << 10;
/// Smallest piece of work handed to one task.
#[cfg(feature = "rayon")]
pub(crate) const GRAIN_BYTES: usize = 64 << 10;
/// Tasks per thread, so uneven progress still balances.
#[cfg(feature = "rayon")]
pub(crate) const TASKS_PER_THREAD: usize = 4;
/// Column blocks are a multiple of this, so neighbouring tasks rarely share an
/// output cache line and vector bodies keep whole steps.
#[cfg(feature = "rayon")]
pub(crate) const COL_ALIGN: usize = 64;

// Memory.

/// Size and alignment of a transparent huge page (x86-64, and aarch64 with
/// 4 KiB base pages), and the smallest fresh buffer advised for huge pages
/// (`alloc.rs`): a smaller one holds no whole huge page. Each 2 MiB of a
/// large new output then costs one page fault on first write, not 512.
pub(crate) const HUGE_PAGE_BYTES: usize = 2 << 20;

// Prefetching.

/// How far ahead of its position a row asks for its index stream, in bytes: on
/// 4 KiB pages the hardware prefetcher restarts at every page, so the first
/// loads of each page would miss. Only the scalar-load vector paths and the
/// AVX-512 gathers ask; paths bound by their own instructions lose by it.
pub(crate) const INDEX_AHEAD: usize = 8 << 10;
/// Source spans of a next row shorter than this stay cached or are followed by
/// the hardware: not prefetched.
pub(crate) const AHEAD_MIN_SPAN: usize = 4 << 10;
/// Next-row spans longer than this would not stay in L1 until their row runs.
pub(crate) const AHEAD_MAX_SPAN: usize = 32 << 10;
/// Longest expanded-index run that is prefetched ahead; longer ones the
/// hardware follows once started.
pub(crate) const RUN_AHEAD_MAX: usize = 4 << 10;
/// Rows ahead whose run the expanded-index copier asks for: one row's copy is
/// shorter than a miss to memory.
pub(crate) const RUNS_AHEAD: usize = 8;
/// Rows ahead whose index and output runs the packed-columns driver asks for
/// (each row's runs sit on pages of their own).
pub(crate) const ROWS_AHEAD: usize = 8;
/// Ids ahead whose table row an embedding bag asks for (FBGEMM's default is
/// 16; 8 and 32 measured in benches/README.md, "Embedding bags (issue 17)").
pub(crate) const BAG_ROWS_AHEAD: usize = 16;
/// Rows an embedding bag adds to its accumulator in one pass over it: the
/// accumulator is loaded and stored once per group instead of once per row.
/// (Keeping a block of it in registers instead, one pass per 256 bytes of
/// columns, measured slower: benches/README.md, "Embedding bags".)
pub(crate) const BAG_ROWS_PER_PASS: usize = 4;

// Tiles and packing (sizes in bytes of the block they bound).

/// Source bytes one `InnerRun` column tile may touch, so its lines stay in L2
/// while the tile's rows reuse them.
pub(crate) const TILE_BYTES: usize = 256 << 10;
/// Bytes of one band's index or output tile, about an L2: whole rows of a band
/// go at once, so each source row is visited once.
pub(crate) const BAND_TILE_BYTES: usize = 1 << 20;
/// Source bytes a band of strided rows keeps live: about half an L2.
pub(crate) const PACK_BYTES: usize = 512 << 10;
/// Source bytes of one packed-columns block, about an L2: wider blocks mean
/// fewer sweeps down the rows, longer index and output runs per visit.
pub(crate) const COLUMN_PACK_BYTES: usize = 1 << 20;
/// Bytes of one packed-rows block (at most [`ROW_PACK_MAX_ROWS`] rows): taller
/// blocks read longer runs of each transposed source row.
pub(crate) const ROW_PACK_BYTES: usize = 1 << 20;
/// Rows of one packed-rows block at most.
pub(crate) const ROW_PACK_MAX_ROWS: usize = 128;
/// Gather strides shorter than this many bytes keep picks on shared lines:
/// packing would only copy what the cache already holds.
pub(crate) const PACK_MIN_STRIDE_BYTES: usize = 256;
/// Rows that must share a packed-columns block before packing pays for its copy.
pub(crate) const MIN_REUSE: usize = 64;
/// Source rows per row of picks above which a block's picks are sparse: packing
/// (or asking ahead for) the whole block would move more than the picks read.
pub(crate) const SPARSE_PICKS: usize = 8;
/// Column tiles narrower than this many bytes read their index and output in
/// runs too short to pay for the tiling: rows go in order instead.
pub(crate) const TILE_MIN_BYTES: usize = 256;
/// Sources up to this many bytes stay in L3 between calls: a column block
/// that is one contiguous run of such a source is picked from in place.
pub(crate) const CACHED_SOURCE_BYTES: usize = 8 << 20;
/// Rows one index sweep of the general kernel takes: each index line read is
/// used whole (eight `i64`), and the swept rows' source stays in L2.
pub(crate) const SWEEP_ROWS: usize = 16;
/// Inner positions per sweep tile of the general kernel (a 32 KiB tile of `i64`).
pub(crate) const SWEEP_COLS: usize = 256;

// Scatter.

/// Destination bytes one scatter sweep may hit: about an L2, so the swept
/// block stays cached while wider sweeps read longer index and value runs.
pub(crate) const SCATTER_SWEEP_BYTES: usize = 1024 << 10;
/// Rows a scatter sweep takes even when they hit more (whole lines of `f32`).
pub(crate) const SCATTER_SWEEP_MIN_ROWS: usize = 16;
/// Destination rows ahead a packed sweep asks for while copying in (each a
/// short run on a page of its own).
pub(crate) const SCATTER_PACK_AHEAD: usize = 8;
/// Dim positions ahead whose index and values a packed sweep asks for.
pub(crate) const SCATTER_SWEEP_AHEAD: usize = 4;
/// Positions of a scatter row per prefetch of the next row's lines.
pub(crate) const SCATTER_AHEAD_CHUNK: usize = 256;
/// Dim positions ahead whose destination run (and values) a sweep of rows
/// that share their index asks for: each position's run sits on a page of its
/// own, and one position's work is shorter than a miss to memory.
pub(crate) const SCATTER_SHARED_AHEAD: usize = 16;
/// Index values checked per block before any is applied (so a bad value
/// stops the block before it writes).
pub(crate) const SCATTER_BLOCK: usize = 8;
