//! # fastgather
//!
//! `torch.gather` on the CPU, exactly: same values, same shape rules, same errors,
//! on strided N-d views of any layout and any plain-old-data element type, with
//! SIMD kernels chosen at run time and rows split across rayon threads. Around it:
//! `scatter` / `scatter_add` (gather's adjoint), `index_select`,
//! `take_along_axis`, and the cross-entropy losses of [`loss`].
//!
//! Worked examples (embeddings, top-k, bincount, segment sums, a training step): [`recipes`].
//!
//! ```
//! use fastgather::{gather, TensorView};
//! let src: Vec<i32> = (1..=15).collect();
//! let src = TensorView::new(&src, &[5, 3]).unwrap();
//! let idx = TensorView::new(&[0i64, 1, 2, 2, 3, 4, 0, 2, 4], &[3, 3]).unwrap();
//! let out = gather(&src, 0, &idx).unwrap();
//! assert_eq!(out.as_slice(), &[1, 5, 9, 7, 11, 15, 1, 8, 15]);
//! ```
//!
//! ## torch → fastgather
//!
//! | torch / numpy | fastgather |
//! |---|---|
//! | `torch.gather(src, dim, index)` | [`gather`]`(&src, dim, &index)` → [`Tensor`] |
//! | `torch.gather(src, -1, index)` | `gather(&src, -1, &index)` |
//! | `torch.gather(src, dim, index, out=out)` | [`gather_into`]`(&src, dim, &index, &mut out)` |
//! | `torch.set_num_threads(1)` | [`gather_with`]`(.., &GatherOptions::new().sequential())`, or a rayon pool's `install` |
//! | `self.scatter_(dim, index, src)` | [`scatter_into`]`(&mut self_view, dim, &index, &src)` |
//! | `input.scatter(dim, index, src)` | [`scatter`]`(&input, dim, &index, &src)` |
//! | `self.scatter_add_(dim, index, src)` | [`scatter_add_into`]`(&mut self_view, dim, &index, &src)` |
//! | `input.scatter_add(dim, index, src)` | [`scatter_add`]`(&input, dim, &index, &src)` |
//! | `input.index_select(dim, index)` | [`index_select`]`(&input, dim, &index)` |
//! | `numpy.take_along_axis(arr, idx, axis)` | [`take_along_axis`]`(&arr, &idx, axis)` |
//! | `F.cross_entropy(logits, y)` | [`loss::cross_entropy`]`(&logits, &y, &LossOptions::new())` |
//! | `F.cross_entropy(logits, probs)` (class-probability targets) | [`loss::cross_entropy_with_probs_target`] |
//! | `-ln(y_hat.gather(1, y.view(-1, 1)))` (on probabilities) | [`loss::cross_entropy_from_probs`] |
//! | `F.nll_loss(log_probs, y)` | [`loss::nll_loss`] |
//! | `F.log_softmax(x, 1)` | [`loss::log_softmax`] |
//! | `torch.tensor(data).view(2, 3)` | [`TensorView::new`]`(&data, &[2, 3])` |
//! | `t.as_strided(size, stride, offset)` | [`TensorView::with_strides`]`(&data, &size, &stride, offset)` |
//! | `t.permute(1, 0)` / `t.transpose(0, 1)` | `t.permute(&[1, 0])` / `t.transpose(0, 1)` |
//! | `t.expand(B, K, D)` | `t.expand(&[B, K, D])` (stride 0) |
//! | `t[:, 2:8:2]` | `t.slice(1, 2, 8, 2)` |
//! | `t.flip(0)` | `t.flip(0)` (negative stride) |
//! | `t.unsqueeze(-1)` | `t.unsqueeze(t.rank())` |
//! | `t.view(-1, 1)` / `t.reshape(..)` | `t.reshape(&[n, 1])` (contiguous views) |
//! | `t.contiguous()` | `t.to_tensor()` |
//!
//! Index types ([`IndexElem`]): `i64` and `i32` (torch's), plus `u32`, `u64` and
//! `usize`. Element types ([`Element`]): every type without padding or
//! uninitialized bytes (`bytemuck::NoUninit`: all `Pod` types, `bool`, `char`),
//! copied bit for bit. [`IndexMode`] opts into numpy's negative indices or JAX's
//! clamp and fill modes; the default is torch's error.
//!
//! ## Model
//!
//! A [`TensorView`] is a buffer plus shape, signed element strides and an offset,
//! checked when made so that every element it names lies in its buffer
//! ([`TensorViewMut`] is also checked for overlap). A call is validated once in
//! safe code, in torch's order; errors are one `#[non_exhaustive]` enum,
//! [`GatherError`], carrying torch's facts (dim, shapes, the first bad index
//! value in row-major order and its position).
//!
//! ## Layout classes
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
//! | [`LayoutClass::ExpandedRuns`] | index stride 0, source and output contiguous: each index value selects a whole run | `x.gather(1, i.unsqueeze(-1).expand(B, K, D))`, [`index_select`] |
//! | [`LayoutClass::InnerRun`] | all three contiguous, gather along an outer dim | `x.gather(0, idx)` on `[N, D]` |
//! | [`LayoutClass::Pick`] | one index per source row, index and output contiguous | `y_hat.gather(1, y.view(-1, 1))` |
//! | [`LayoutClass::StridedIndex`] | output contiguous, index strided (transposed, sliced) | `x.gather(1, idx.t())` |
//! | [`LayoutClass::General`] | anything else: a strided output row (reachable through [`gather_into`]) | `torch.gather(x, 1, idx, out=buf.t())` |
//!
//! ## How dispatch chooses
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
//!   output (transposed), the AVX2 and AVX-512 paths make those copies by
//!   register transposes. An [`IndexMode`] other than `Error` runs the scalar
//!   strided kernel that resolves each value.
//! - The path is the best the CPU has, detected once and cached
//!   ([`Isa::best`]): AVX-512 (F, BW, VL, DQ), else AVX2, else portable SIMD
//!   through `wide`. The best paths use vector index checks with scalar loads,
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
//! ## Threads
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
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rayon` | yes | parallel rows in the caller's rayon pool; without it the crate builds and runs single-threaded, with the same API |
//! | `half` | no | `half::f16` / `half::bf16` as elements, for `scatter_add` and for the losses (re-exported as `fastgather::half`) |
//! | `ndarray` | no | `fastgather::GatherExt` (ndarray 0.17): `gather`, `gather_into`, `scatter`, `scatter_add`, `index_select`, `take_along_axis` as methods of every ndarray array, returning `Array`s; `fastgather::nd`: zero-copy views of any array (negative and zero strides included; gapped arrays are an error unless copied explicitly) |
//!
//! ## Safety story
//!
//! `unsafe` lives only in the kernels and their dispatch, each block with a
//! `// SAFETY:` comment naming the invariant it relies on and where it was
//! checked. What makes them sound is carried by types, layer by layer:
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
//! Outputs are allocated fallibly ([`GatherError::AllocationFailed`]). Every
//! kernel, on every path and driver, is tested against the one-element-at-a-time
//! [`reference::gather`].

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod arch;
mod check;
mod dim;
mod dispatch;
mod driver;
mod element;
mod error;
mod gather;
mod index;
mod index_select;
mod inline_vec;
mod isa;
mod kernel;
mod layout;
pub mod loss;
// Not named `ndarray`: a module of that name would make `ndarray::..` paths
// ambiguous (E0659) in any crate that does `use fastgather::*;`.
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod nd;
mod options;
mod par;
mod plan;
// Documentation only: docs/RECIPES.md, whose examples run as doc tests.
pub mod recipes;
mod scatter;
mod tune;
mod view;

pub use dim::Dim;
pub use dispatch::KernelChoice;
pub use driver::Driver;
pub use error::GatherError;
pub use gather::{explain, explain_into, gather, gather_into, gather_into_with, gather_with};
pub use index::IndexElem;
pub use isa::Isa;
pub mod reference;
pub use element::{Accumulate, Element};
pub use index_select::{
    index_select, index_select_into, index_select_into_with, index_select_with, take_along_axis,
    take_along_axis_into, take_along_axis_into_with, take_along_axis_with,
};
pub use options::{GatherOptions, IndexMode};
pub use plan::LayoutClass;
pub use scatter::{
    scatter, scatter_add, scatter_add_into, scatter_add_into_with, scatter_add_with, scatter_into,
    scatter_into_with, scatter_with,
};
pub use view::{Tensor, TensorView, TensorViewMut};

#[cfg(feature = "half")]
#[cfg_attr(docsrs, doc(cfg(feature = "half")))]
pub use half;

/// The `bytemuck` crate fastgather's [`Element`] is defined by, so a crate can
/// make its own element types (`unsafe impl fastgather::bytemuck::NoUninit`)
/// without depending on it.
pub use bytemuck;

#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use nd::GatherExt;
