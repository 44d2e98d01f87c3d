//! Softmax-regression losses built on gather and scatter_add:
//! `cross_entropy(y_hat, y) = -ln(y_hat.gather(1, y.view(-1, 1)))` and the fused,
//! numerically stable forms torch users reach for, with their gradients.
//!
//! Inputs are 2-d `[N, C]` views (any strides) with classes along dim 1, and
//! labels a 1-d `[N]` index view. Definitions follow torch's
//! `nn.functional.cross_entropy` / `nll_loss`: reductions `None`, `Mean`, `Sum`,
//! `ignore_index`, and label smoothing `ε`, where each row's loss is
//! `(1-ε)·nll + ε·mean_c(-log p_c)` and `Mean` divides by the number of rows not
//! ignored. Rows are split across rayon threads; per-row results are reduced in
//! row order, so every result is the same on any number of threads.
//!
//! ```
//! use fastgather::loss::{
//!     cross_entropy_with_logits, cross_entropy_with_logits_backward, LossOptions,
//! };
//! use fastgather::TensorView;
//!
//! let logits = TensorView::new(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]).unwrap();
//! let labels = TensorView::new(&[0i64, 2], &[2]).unwrap();
//! let opts = LossOptions::new(); // mean over rows, as torch
//! let loss = cross_entropy_with_logits(&logits, &labels, &opts).unwrap();
//! let one = 1.0f32;
//! let grad = cross_entropy_with_logits_backward(
//!     &logits,
//!     &labels,
//!     &TensorView::scalar(&one),
//!     &opts,
//! )
//! .unwrap();
//! assert_eq!(grad.shape(), &[2, 3]);
//! // Each row of the gradient sums to zero (softmax minus a one-hot).
//! for row in grad.as_slice().chunks(3) {
//!     assert!(row.iter().sum::<f32>().abs() < 1e-6);
//! }
//! assert!(loss.as_slice()[0] > 0.0);
//! ```
//!
//! The module is split by concern: `options` (what a call asks for), `float`
//! (the float types and their arithmetic), `rows` (labels checked, rows walked
//! in parallel, results reduced in row order), `stats` (the row kernels, run
//! under the instruction-set path of the dispatch table), `forward` and
//! `backward`.

mod backward;
mod float;
mod forward;
mod options;
mod rows;
mod stats;

pub use backward::{
    cross_entropy_with_logits_backward, cross_entropy_with_logits_backward_into, gather_backward,
};
pub use float::{Acc, LossFloat};
pub use forward::{
    cross_entropy, cross_entropy_with_logits, log_softmax, log_softmax_with, nll_loss,
};
pub use options::{LossOptions, Reduction};
