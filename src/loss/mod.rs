//! Softmax-regression losses built on gather and scatter_add, with torch's
//! names meaning torch's things:
//!
//! | torch | fastgather |
//! |---|---|
//! | `F.cross_entropy(logits, y)` (class indices) | [`cross_entropy`], gradient [`cross_entropy_backward`] / [`cross_entropy_backward_into`] |
//! | `F.cross_entropy(logits, p)` (class probabilities) | [`cross_entropy_with_probs_target`], gradient [`cross_entropy_with_probs_target_backward`] / [`_into`](cross_entropy_with_probs_target_backward_into) |
//! | `F.nll_loss(log_probs, y)` | [`nll_loss`] |
//! | `F.log_softmax(x, 1)` | [`log_softmax`] |
//! | `-ln(y_hat.gather(1, y.view(-1, 1)))` (the tutorial, on probabilities) | [`cross_entropy_from_probs`] |
//! | `weight=`, `reduction=`, `ignore_index=`, `label_smoothing=` | [`LossOptions`] |
//!
//! Inputs are `[N, C]`, `[N, C, d1, .., dk]` (classes along dim 1) or an
//! unbatched `[C]`, any strides; class-index labels have the input's shape
//! without dim 1 (`[N]`, `[N, d1, .., dk]`, 0-d), and class-probability
//! targets the input's shape. Definitions follow torch's
//! `nn.functional.cross_entropy` / `nll_loss`: reductions `None`, `Mean`,
//! `Sum`, a class `weight`, `ignore_index`, and label smoothing `ε`, where each
//! row's loss is `(1-ε)·nll + ε·mean_c(-log p_c)` and `Mean` divides by the
//! number of rows not ignored (the sum of their labels' weights, with a
//! weight). `cross_entropy_from_probs` refuses a picked value outside `[0, 1]`,
//! so logits passed by mistake are an error, not a plausible number. Rows are
//! split across rayon threads; per-row results are reduced in row order, so
//! every result is the same on any number of threads.
//!
//! ```
//! use fastgather::loss::{cross_entropy, cross_entropy_backward, LossOptions};
//! use fastgather::TensorView;
//!
//! let logits = TensorView::new(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]).unwrap();
//! let labels = TensorView::new(&[0i64, 2], &[2]).unwrap();
//! let opts = LossOptions::new(); // mean over rows, as torch
//! let loss = cross_entropy(&logits, &labels, &opts).unwrap().item().unwrap();
//! assert!((loss - 0.205579).abs() < 1e-5); // torch: 0.20557868
//! let one = 1.0f32;
//! let grad = cross_entropy_backward(&logits, &labels, &TensorView::scalar(&one), &opts).unwrap();
//! assert_eq!(grad.shape(), &[2, 3]);
//! // Each row of the gradient sums to zero (softmax minus a one-hot).
//! for row in grad.as_slice().chunks(3) {
//!     assert!(row.iter().sum::<f32>().abs() < 1e-6);
//! }
//! ```
//!
//! The module is split by concern: `options` (what a call asks for), `float`
//! (the float types and their arithmetic), `rows` (inputs cut into class
//! rows, labels checked, rows walked in parallel, results reduced in row
//! order), `stats` (the row kernels, run under the instruction-set path of
//! the dispatch table), `forward` and `backward`.

mod backward;
mod float;
mod forward;
mod options;
mod rows;
mod stats;

pub use backward::{
    cross_entropy_backward, cross_entropy_backward_into, cross_entropy_with_probs_target_backward,
    cross_entropy_with_probs_target_backward_into, gather_backward,
};
pub use float::{Acc, LossFloat};
pub use forward::{
    cross_entropy, cross_entropy_from_probs, cross_entropy_with_probs_target, log_softmax,
    log_softmax_with, nll_loss,
};
pub use options::{LossOptions, Reduction};
