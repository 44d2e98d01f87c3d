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
//! | `torch.gather(src, dim, index)` | [`gather`](fn@gather)`(&src, dim, &index)` → [`Tensor`] |
//! | `torch.gather(src, -1, index)` | `gather(&src, -1, &index)` |
//! | `torch.gather(src, dim, index, out=out)` | [`gather_into`]`(&src, dim, &index, &mut out)` |
//! | `torch.set_num_threads(1)` | [`gather_with`]`(.., &GatherOptions::new().sequential())`, or a rayon pool's `install` |
//! | `self.scatter_(dim, index, src)` | [`scatter_into`]`(&mut self_view, dim, &index, &src)` |
//! | `input.scatter(dim, index, src)` | [`scatter`](fn@scatter)`(&input, dim, &index, &src)` |
//! | `self.scatter_add_(dim, index, src)` | [`scatter_add_into`]`(&mut self_view, dim, &index, &src)` |
//! | `input.scatter_add(dim, index, src)` | [`scatter_add`]`(&input, dim, &index, &src)` |
//! | `input.index_select(dim, index)` | [`index_select`](fn@index_select)`(&input, dim, &index)` |
//! | `numpy.take_along_axis(arr, idx, axis)` | [`take_along_axis`]`(&arr, &idx, axis)` |
//! | `F.cross_entropy(logits, y)` | [`loss::cross_entropy`]`(&logits, &y, &LossOptions::new())` |
//! | `F.cross_entropy(logits, probs)` (class-probability targets) | [`loss::cross_entropy_with_probs_target`] |
//! | `-ln(y_hat.gather(1, y.view(-1, 1)))` (on probabilities) | [`loss::cross_entropy_from_probs`] |
//! | `F.nll_loss(log_probs, y)` | [`loss::nll_loss`] |
//! | `F.log_softmax(x, 1)` | [`loss::log_softmax`] |
//! | `torch.tensor(data).view(2, 3)` | [`TensorView::new`]`(&data, &[2, 3])` |
//! | `t.as_strided(size, stride, offset)` | [`TensorView::with_strides`]`(&data, &size, &stride, offset)` |
//! | `t.permute(1, 0)` / `t.transpose(0, 1)` | `t.permute(&[1, 0])` / `t.transpose(0, 1)` |
//! | `t.expand(B, -1, D)` | `t.expand(&[B, -1, D])` (stride 0) |
//! | `t[:, 2:8:2]` | `t.slice(1, 2, 8, 2)` |
//! | `t.flip(0)` | `t.flip(0)` (negative stride) |
//! | `t.unsqueeze(-1)` | `t.unsqueeze(-1)` (every `dim` may count from the end, any integer type: [`Dim`]) |
//! | `t.view(-1, 1)` / `t.reshape(-1, 1)` | `t.reshape(&[-1, 1])` (contiguous views; [`Tensor::reshape`]) |
//! | `t.item()` | [`Tensor::item`] |
//! | `t.contiguous()` | `t.to_tensor()` |
//!
//! Index types ([`IndexElem`]): `i64` and `i32` (torch's), plus `u32`, `u64` and
//! `usize`. Element types ([`Element`]): every type without padding or
//! uninitialized bytes (`bytemuck::NoUninit`: all `Pod` types, `bool`, `char`),
//! copied bit for bit. [`IndexMode`] opts into numpy's negative indices or JAX's
//! clamp and fill modes; the default is torch's error.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rayon` | yes | parallel rows in the caller's rayon pool; without it the crate builds and runs single-threaded, with the same API |
//! | `half` | no | `half::f16` / `half::bf16` as elements, for `scatter_add` and for the losses (re-exported as `fastgather::half`) |
//! | `ndarray` | no | `fastgather::GatherExt` (ndarray 0.17): `gather`, `gather_into`, `scatter`, `scatter_add`, `index_select`, `take_along_axis` as methods of every ndarray array, returning `Array`s; `fastgather::nd`: zero-copy views of any array (negative and zero strides included; gapped arrays are an error unless copied explicitly) |
//!
//!
//! ## More
//!
//! - [`recipes`]: embedding lookup, top-k, bincount and segment sums,
//!   a cross-entropy training step, reusing buffers and threads.
//! - [`design`]: how a call runs (layout classes, dispatch, threads) and what
//!   makes the kernels sound.
//! - [`loss`]: the cross-entropy family, on logits and on probabilities.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod alloc;
mod arch;
mod check;
pub mod design;
mod dim;
mod dispatch;
mod driver;
mod element;
mod embedding;
mod error;
mod flat;
mod gather;
mod index;
mod index_ops;
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
mod scatter_reduce;
mod tune;
mod view;

pub use dim::Dim;
pub use dispatch::KernelChoice;
pub use driver::Driver;
pub use embedding::{
    BagGrads, BagMode, Bags, PoolChoice, Segments, embedding, embedding_backward,
    embedding_backward_into, embedding_backward_into_with, embedding_backward_with, embedding_bag,
    embedding_bag_backward, embedding_bag_backward_into, embedding_bag_backward_into_with,
    embedding_bag_backward_with, embedding_bag_into, embedding_bag_into_with, embedding_bag_with,
    embedding_into, embedding_into_with, embedding_with, explain_embedding_bag, segment_reduce,
    segment_reduce_into, segment_reduce_into_with, segment_reduce_with,
};
pub use error::GatherError;
pub use flat::{
    put, put_along_axis, put_along_axis_into, put_along_axis_into_with, put_along_axis_with,
    put_into, put_into_with, put_with, take, take_along_dim, take_along_dim_into,
    take_along_dim_into_with, take_along_dim_with, take_into, take_into_with, take_with,
};
pub use gather::{explain, explain_into, gather, gather_into, gather_into_with, gather_with};
pub use index::IndexElem;
pub use isa::Isa;
pub mod reference;
pub use element::{Accumulate, Element, Reduce};
pub use index_ops::{
    explain_index, index_add, index_add_into, index_add_into_with, index_add_with, index_copy,
    index_copy_into, index_copy_into_with, index_copy_with, index_fill, index_fill_into,
    index_fill_into_with, index_fill_with, index_reduce, index_reduce_into, index_reduce_into_with,
    index_reduce_with,
};
pub use index_select::{
    index_select, index_select_into, index_select_into_with, index_select_with, take_along_axis,
    take_along_axis_into, take_along_axis_into_with, take_along_axis_with,
};
pub use options::{GatherOptions, IndexMode};
pub use plan::LayoutClass;
pub use scatter::{
    explain_scatter, scatter, scatter_add, scatter_add_into, scatter_add_into_with,
    scatter_add_with, scatter_into, scatter_into_with, scatter_with,
};
pub use scatter_reduce::{
    Reduction, scatter_reduce, scatter_reduce_into, scatter_reduce_into_with, scatter_reduce_with,
    scatter_value, scatter_value_into, scatter_value_into_with, scatter_value_with,
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

// The README's Rust examples run as doc tests, so what a newcomer copies compiles.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
