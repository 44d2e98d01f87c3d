//! The forward losses.

use super::float::{Acc, LossFloat};
use super::options::LossOptions;
use super::rows::{all_ignored, per_row, per_row_into, reduce, Rows};
use super::stats::{on_path, LogSoftmax, Stats};
use crate::error::GatherError;
use crate::gather::gather_with;
use crate::index::IndexElem;
use crate::view::{try_vec, Tensor, TensorView};

/// The tutorial's loss: `-ln(probs[n, labels[n]])`, by gather, then reduced.
/// `probs` are probabilities (e.g. a softmax output); ignored rows give 0 and
/// are not counted. Label smoothing is not defined on probabilities (torch's
/// `nll_loss` has none) and is ignored here.
///
/// ```
/// use fastgather::loss::{cross_entropy, LossOptions, Reduction};
/// use fastgather::TensorView;
/// let y_hat = TensorView::new(&[0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5], &[2, 3]).unwrap();
/// let y = TensorView::new(&[0i64, 2], &[2]).unwrap();
/// let per_row = cross_entropy(&y_hat, &y, &LossOptions::new().reduction(Reduction::None)).unwrap();
/// assert!((per_row.as_slice()[0] - 2.302585).abs() < 1e-6);
/// assert!((per_row.as_slice()[1] - 0.693147).abs() < 1e-6);
/// ```
pub fn cross_entropy<F: LossFloat, I: IndexElem>(
    probs: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    opts.path()?;
    let rows = Rows::new(probs, labels, opts)?;
    if rows.c == 0 {
        return all_ignored(rows.n, opts.reduction);
    }
    let picked = pick(&rows, opts)?;
    let mut losses = try_vec(rows.n)?;
    losses.extend((0..rows.n).map(|r| rows.label(r, opts).map(|_| -picked[r].widen().ln())));
    reduce::<F>(losses, opts.reduction)
}

/// `x.gather(1, y.view(-1, 1))`, with ignored labels replaced by class 0.
fn pick<F: LossFloat, I: IndexElem>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
) -> Result<Vec<F>, GatherError> {
    if rows.c == 0 {
        // Every row is ignored (no label is a class): nothing to pick.
        let mut picked = try_vec(rows.n)?;
        picked.resize(rows.n, F::default());
        return Ok(picked);
    }
    let mut y = try_vec(rows.n)?;
    y.extend((0..rows.n).map(|r| rows.label(r, opts).map_or(0, |l| l as i64)));
    let col = TensorView::new(&y, &[rows.n, 1])?;
    Ok(gather_with(rows.x, 1, &col, &opts.gather_options())?.into_vec())
}

/// `log_softmax` along dim 1 of `[N, C]` logits, stable for any magnitude.
///
/// ```
/// use fastgather::loss::log_softmax;
/// use fastgather::TensorView;
/// let x = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let y = log_softmax(&x).unwrap();
/// assert!((y.as_slice()[0] + std::f64::consts::LN_2).abs() < 1e-12);
/// ```
pub fn log_softmax<F: LossFloat>(logits: &TensorView<'_, F>) -> Result<Tensor<F>, GatherError> {
    log_softmax_with(logits, &LossOptions::new())
}

/// [`log_softmax`] with [`LossOptions`] (of which only the path applies).
///
/// ```
/// use fastgather::loss::{log_softmax, log_softmax_with, LossOptions};
/// use fastgather::{Isa, TensorView};
/// let x = TensorView::new(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let scalar = log_softmax_with(&x, &LossOptions::new().isa(Isa::Scalar)).unwrap();
/// assert_eq!(scalar, log_softmax(&x).unwrap());
/// ```
pub fn log_softmax_with<F: LossFloat>(
    logits: &TensorView<'_, F>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let path = opts.path()?;
    if logits.rank() != 2 {
        return Err(GatherError::InvalidViewOp {
            op: "log_softmax",
            reason: format!("expected [N, C] logits, got shape {:?}", logits.shape()),
        });
    }
    if logits.is_empty() {
        // No element: nothing to compute, and `N` may be any size, even one
        // that no labels view could have.
        return Tensor::zeros(logits.shape());
    }
    let (n, c) = (logits.shape()[0], logits.shape()[1]);
    // No labels: every row is a class row (`per_row` only reads labels of
    // rows). One zero broadcast over the rows, so nothing is sized by `n`.
    let zero = [0i64];
    let labels = TensorView::with_strides(&zero, &[n], &[0], 0)?;
    let opts = opts.clone().no_ignore_index();
    let rows = Rows {
        x: logits,
        labels: &labels,
        n,
        c,
    };
    let mut out = Tensor::zeros(logits.shape())?;
    per_row_into(&rows, &opts, out.as_mut_slice(), |_, _, x, dst| {
        on_path(path, LogSoftmax { x, dst })
    });
    Ok(out)
}

/// torch's `nll_loss(log_probs, labels)`: `-log_probs[n, labels[n]]`, reduced.
///
/// ```
/// use fastgather::loss::{log_softmax, nll_loss, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[1.0f64, 2.0, 3.0], &[1, 3]).unwrap();
/// let y = TensorView::new(&[2i64], &[1]).unwrap();
/// let log_probs = log_softmax(&logits).unwrap();
/// let loss = nll_loss(&log_probs.view(), &y, &LossOptions::new()).unwrap();
/// assert!((loss.as_slice()[0] - 0.40760596444).abs() < 1e-9);
/// ```
pub fn nll_loss<F: LossFloat, I: IndexElem>(
    log_probs: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    opts.path()?;
    let rows = Rows::new(log_probs, labels, opts)?;
    if rows.c == 0 {
        return all_ignored(rows.n, opts.reduction);
    }
    let picked = pick(&rows, opts)?;
    let mut losses = try_vec(rows.n)?;
    losses.extend((0..rows.n).map(|r| rows.label(r, opts).map(|_| -picked[r].widen())));
    reduce::<F>(losses, opts.reduction)
}

/// torch's `cross_entropy(logits, labels)`, fused: one pass per row computes the
/// log-sum-exp (shifted by the row max, so logits of 1e4 are fine) and the loss
/// `lse - (1-ε)·x[label] - ε·mean(x)`.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_logits, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[1e4f32, 0.0, -1e4, 2.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 1], &[2]).unwrap();
/// let loss = cross_entropy_with_logits(&logits, &y, &LossOptions::new()).unwrap();
/// assert!((loss.as_slice()[0] - 5000.0).abs() < 1e-2);
/// ```
pub fn cross_entropy_with_logits<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let path = opts.path()?;
    let rows = Rows::new(logits, labels, opts)?;
    if rows.c == 0 {
        return all_ignored(rows.n, opts.reduction);
    }
    let eps = <F::Acc as Acc>::from_f64(opts.label_smoothing);
    let one = <F::Acc as Acc>::from_f64(1.0);
    let inv_c = <F::Acc as Acc>::from_f64(1.0 / rows.c as f64);
    let losses = per_row(&rows, opts, |_, label, x| {
        let label = label?;
        let (max, lse, sum_x) = on_path(path, Stats(x));
        let lse = max + lse;
        let nll = lse - x[label].widen();
        if opts.label_smoothing == 0.0 {
            // Not `nll + 0·smooth`: a `-inf` logit makes `smooth` infinite,
            // and the loss must stay finite, as torch's does.
            return Some(nll);
        }
        let smooth = lse - sum_x * inv_c;
        Some((one - eps) * nll + eps * smooth)
    })?;
    reduce::<F>(losses, opts.reduction)
}
