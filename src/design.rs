//! How a call runs, for readers of the source: the model, the layout classes,
//! how dispatch chooses a kernel, threads, and what makes the `unsafe` kernels
//! sound. Documentation only.
//!
//! # Model
//!
//! A [`TensorView`] is a buffer plus shape, signed element strides and an offset,
//! checked when made so that every element it names lies in its buffer
//! ([`TensorViewMut`] is also checked for overlap). A call is validated once in
//! safe code, in torch's order; errors are one `#[non_exhaustive]` enum,
//! [`GatherError`], carrying torch's facts (dim, shapes, the first bad index
//! value in row-major order and its position).
//!
//! # Layout classes
//!
//! The validated call is reduced to a plan: every position `p` of the index names
//! one output element and one source element, `out[p] = src[p with p[dim] =
//! index[p]]`. Axes of size 1 are dropped and neighbouring axes are merged when
//! source, index and output all agree, leaving `rows × inner`. The inner axis
//! then classifies the problem as a [`LayoutClass`] (tested in this order):
//!
//! | class | inner axis | typical torch code |
//! |---|---|---|
//! | [`LayoutClass::LastDim`] | gather along it; index and output contiguous, source rows at any stride | `x.gather(-1, perm)`, top-k picks |
//! | [`LayoutClass::ExpandedRuns`] | index stride 0, source and output contiguous: each index value selects a whole run | `x.gather(1, i.unsqueeze(-1).expand(B, K, D))`, [`index_select`](fn@crate::index_select) |
//! | [`LayoutClass::InnerRun`] | all three contiguous, gather along an outer dim | `x.gather(0, idx)` on `[N, D]` |
//! | [`LayoutClass::Pick`] | one index per source row, index and output contiguous | `y_hat.gather(1, y.view(-1, 1))` |
//! | [`LayoutClass::StridedIndex`] | output contiguous, index strided (transposed, sliced) | `x.gather(1, idx.t())` |
//! | [`LayoutClass::General`] | anything else: a strided output row (reachable through [`gather_into`]) | `torch.gather(x, 1, idx, out=buf.t())` |
//!
//! # How dispatch chooses
//!
//! A kernel is chosen once per call from plain facts: the layout class, the
//! element's byte width, the index type and the instruction-set path ([`Isa`]).
//!
//! - Elements are moved as raw bytes: widths 1, 2, 4, 8 and 16 have their own
//!   kernels, so `f32`, `i32` and `[u8; 4]` share one; other widths run the
//!   scalar strided kernel on the type itself.
//! - `ExpandedRuns` runs a run copier (one `memcpy` per index value), and every
//!   other class the affine kernel of the chosen path. `StridedIndex` first
//!   copies the index into dense tiles, and `General` gathers rows into a
//!   dense tile and copies it out; where rows are adjacent in the index or the
//!   output (transposed), the AVX2, AVX-512 and NEON paths make those copies by
//!   register transposes. An [`IndexMode`] other than `Error` runs the scalar
//!   strided kernel that resolves each value.
//! - The path is the best the CPU has, detected once and cached
//!   ([`Isa::best`]): on x86-64 AVX-512 (F, BW, VL, DQ), else AVX2; on
//!   aarch64 NEON; else portable SIMD through `wide`. The best paths use
//!   vector index checks with scalar loads,
//!   which beat hardware gathers on CPUs with the "Downfall" microcode;
//!   [`GatherOptions::isa`] forces any available path, hardware gathers included,
//!   and every path gives bit-identical results.
//! - Calls of at most 32 index elements, with the default path and index mode,
//!   skip all of this: one scalar walk over the views (`scalar::tiny`), because
//!   their cost is per-call overhead, not data movement.
//! - The affine kernels visit rows under a [`Driver`]: rows in order, column
//!   tiles, index/output tiles, packed rows or packed columns, chosen by the
//!   same table; [`GatherOptions::driver`] forces one where it applies.
//! - [`explain`] reports the class, path, kernel and driver a call would run
//!   ([`explain_into`] for a call into an output view).
//!
//! ```
//! use fastgather::{explain, GatherOptions, Isa, LayoutClass, TensorView};
//! let logits = TensorView::new(&[0.0f32; 64 * 10], &[64, 10]).unwrap();
//! let labels = TensorView::new(&[3i64; 64], &[64, 1]).unwrap();
//! let choice = explain(&logits, 1, &labels, &GatherOptions::new()).unwrap().unwrap();
//! assert_eq!(choice.class, LayoutClass::Pick);
//! assert_eq!(choice.isa, Isa::best());
//! // A handful of picks takes the tiny path.
//! let few = labels.slice(0, 0, 4, 1).unwrap();
//! let choice = explain(&logits, 1, &few, &GatherOptions::new()).unwrap().unwrap();
//! assert_eq!((choice.kernel, choice.isa), ("scalar::tiny", Isa::Scalar));
//! // Forcing the plainest path:
//! let scalar = GatherOptions::new().isa(Isa::Scalar);
//! let choice = explain(&logits, 1, &labels, &scalar).unwrap().unwrap();
//! assert_eq!(choice.isa, Isa::Scalar);
//! ```
//!
//! # Threads
//!
//! With the `rayon` feature (on by default) a call splits its `rows × inner`
//! rectangle into disjoint pieces on the *caller's* rayon pool: the global pool,
//! or the one whose `install` the call runs in. Problems that move less than
//! 256 KiB run on the caller's thread; larger ones get pieces of at least 64 KiB,
//! about four per thread. Results are bit-identical on any number of threads,
//! including `scatter_add`'s sums (rows that could collide never run
//! concurrently) and the first reported bad index. [`GatherOptions::sequential`]
//! keeps a call on the caller's thread; without the `rayon` feature every call
//! does.
//!
//! # Safety story
//!
//! `unsafe` lives only in the kernels and their dispatch, and in `alloc.rs`
//! (one `madvise` call, below), each block with a `// SAFETY:` comment naming
//! the invariant it relies on and where it was checked. What makes them sound is carried by types, layer by layer:
//!
//! 1. A view's layout is checked against its buffer when the view is built
//!    (`view.rs`, the numbered rules of `Layout::check`); writable views are
//!    checked for overlap, so parallel pieces never write the same element.
//! 2. A plan (`plan.rs`) is made only by its validating constructors, from
//!    checked layouts, after torch's shape rules (`check.rs`); its numbered
//!    invariants are all a kernel may assume (the kernel contract in
//!    `kernel/mod.rs`). Kernels check every index value before forming a source
//!    address from it, and debug builds assert the offsets they form.
//! 3. Instruction sets are proven by tokens that only detection makes
//!    (`isa.rs`); every `#[target_feature]` function takes one, so a path the
//!    CPU lacks cannot be called, and forcing one returns
//!    [`GatherError::IsaUnavailable`].
//! 4. Bytes move only between slots of the same type: a fill value must be the
//!    call's element type, and elements are [`Element`]s (no padding, no
//!    uninitialized bytes), re-typed to byte arrays of their own width.
//!
//! Outputs are allocated fallibly ([`GatherError::AllocationFailed`]), all in
//! `alloc.rs`, from the global allocator through `Vec`. On Linux, a fresh
//! output of 2 MiB or more is advised for transparent huge pages
//! (`madvise(MADV_HUGEPAGE)` over the whole huge pages inside it, before it is
//! first written), so its first write takes one page fault per 2 MiB instead
//! of one per 4 KiB; the advice changes no contents. Every
//! kernel, on every path and driver, is tested against the one-element-at-a-time
//! [`reference::gather`].

// The names the text above links to.
#[allow(unused_imports)]
use crate::{
    Driver, Element, GatherError, GatherOptions, IndexMode, Isa, LayoutClass, TensorView,
    TensorViewMut, explain, explain_into, gather_into, index_select, reference,
};
