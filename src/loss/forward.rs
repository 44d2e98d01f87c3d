//! The forward losses.

use super::float::{Acc, LossFloat};
use super::options::LossOptions;
use super::rows::{Rows, Scores, all_ignored, check_smoothing, per_row, per_row_into, reduce};
use super::stats::{LogSoftmax, Stats, on_path};
use crate::alloc::try_vec;
use crate::error::GatherError;
use crate::gather::gather_with;
use crate::index::IndexElem;
use crate::view::{Tensor, TensorView};

/// torch's `F.cross_entropy(logits, labels)` with class-index labels, fused:
/// one pass per row computes the log-sum-exp (shifted by the row max, so
/// logits of 1e4 are fine) and the loss `lse - (1-ε)·x[label] - ε·mean(x)`.
///
/// `logits` are `[N, C]`, `[N, C, d1, .., dk]` (classes along dim 1) or an
/// unbatched `[C]`, with any strides; `labels` have the logits' shape without
/// dim 1 (`[N]`, `[N, d1, .., dk]`, or 0-d). [`Reduction::None`] returns one
/// loss per label, in the labels' shape. A class weight, `ignore_index` and
/// label smoothing apply as in torch (see [`LossOptions`]); with a weight, a
/// row's loss is `(1-ε)·w[y]·nll + (ε/C)·Σ_c w[c]·(-log p_c)` and `Mean`
/// divides by the sum of `w[y]` over the rows not ignored.
///
/// [`Reduction::None`]: super::Reduction::None
///
/// ```
/// use fastgather::loss::{cross_entropy, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[1e4f32, 0.0, -1e4, 2.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 1], &[2]).unwrap();
/// let loss = cross_entropy(&logits, &y, &LossOptions::new()).unwrap();
/// assert!((loss.item().unwrap() - 5000.0).abs() < 1e-2);
/// ```
pub fn cross_entropy<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    const OP: &str = "cross_entropy";
    let path = opts.path()?;
    let rows = Rows::new(OP, logits, labels, opts)?;
    let (c, shape) = (rows.scores.c, rows.scores.row_shape());
    let weight = opts.class_weight::<F::Acc>(OP, c)?;
    if c == 0 {
        return all_ignored(&shape, opts.reduction);
    }
    let eps = <F::Acc as Acc>::from_f64(opts.label_smoothing);
    let one = <F::Acc as Acc>::from_f64(1.0);
    let inv_c = <F::Acc as Acc>::from_f64(1.0 / c as f64);
    let Some(w) = weight else {
        // The common case, unweighted: one pass of the row kernel per row.
        let losses = per_row(&rows.scores, |r, x, _| {
            let label = rows.label(r)?;
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
        return reduce::<F>(losses, opts.reduction, &shape, None);
    };
    let zero = <F::Acc as Acc>::from_f64(0.0);
    let losses = per_row(&rows.scores, |r, x, _| {
        let label = rows.label(r)?;
        let (max, lse, _) = on_path(path, Stats(x));
        let lse = max + lse;
        let nll = w[label] * (lse - x[label].widen());
        if opts.label_smoothing == 0.0 {
            return Some(nll);
        }
        // torch's smoothing term with a weight: Σ_c w[c]·(-log p_c).
        let smooth = x
            .iter()
            .zip(&w)
            .fold(zero, |s, (&v, &wc)| s + wc * (lse - v.widen()));
        Some((one - eps) * nll + eps * inv_c * smooth)
    })?;
    let divisor = label_weight_sum(&rows, &w);
    reduce::<F>(losses, opts.reduction, &shape, Some(divisor))
}

/// `Σ w[label]` over the rows not ignored, in f64 and row order: what a
/// weighted `Mean` divides by.
pub(super) fn label_weight_sum<F: Copy, I: IndexElem, A: Acc>(
    rows: &Rows<'_, '_, F, I>,
    w: &[A],
) -> f64 {
    (0..rows.scores.n)
        .filter_map(|r| rows.label(r))
        .map(|y| w[y].to_f64())
        .sum()
}

/// The tutorial's loss on probabilities: `-ln(probs.gather(1, y.view(-1, 1)))`,
/// reduced; torch's `nll_loss(probs.log(), y)`. `probs` are probabilities
/// (e.g. a softmax output), of the shapes [`cross_entropy`] takes; ignored
/// rows give 0 and are not counted; a class weight scales each row by
/// `w[y]` as in [`nll_loss`].
///
/// **Logits are refused.** Every picked value (the one at each row's label)
/// must lie in `[0, 1]`: one outside is an
/// [`GatherError::InvalidLossArgument`] naming its position and value, since
/// it means the input is not probabilities (most often logits, which belong
/// to [`cross_entropy`]). The check costs one comparison per row; it cannot
/// catch logits that all happen to lie in `[0, 1]`. A NaN passes through as
/// a NaN loss. Label smoothing is refused ([`GatherError::InvalidOption`]):
/// it belongs to [`cross_entropy`] on logits.
///
/// ```
/// use fastgather::loss::{cross_entropy_from_probs, LossOptions, Reduction};
/// use fastgather::{GatherError, TensorView};
/// let y_hat = TensorView::new(&[0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5], &[2, 3]).unwrap();
/// let y = TensorView::new(&[0i64, 2], &[2]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let per_row = cross_entropy_from_probs(&y_hat, &y, &opts).unwrap();
/// assert!((per_row.as_slice()[0] - 2.302585).abs() < 1e-6);
/// assert!((per_row.as_slice()[1] - 0.693147).abs() < 1e-6);
/// // Logits are not probabilities.
/// let logits = TensorView::new(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]).unwrap();
/// let err = cross_entropy_from_probs(&logits, &y, &opts).unwrap_err();
/// assert!(matches!(err, GatherError::InvalidLossArgument { .. }));
/// ```
pub fn cross_entropy_from_probs<F: LossFloat, I: IndexElem>(
    probs: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    picked_loss("cross_entropy_from_probs", probs, labels, opts, |p| {
        let v = p.widen();
        let out_of_range = v.to_f64() < 0.0 || v.to_f64() > 1.0;
        (!out_of_range).then(|| -v.ln())
    })
}

/// torch's `nll_loss(log_probs, labels)`: `-w[y]·log_probs[n, y]`, reduced
/// (`Mean` divides by the sum of `w[y]` over the rows not ignored; without a
/// weight, `w` is 1). Shapes as for [`cross_entropy`]. torch's `nll_loss` has
/// no label smoothing, so a smoothing option is refused
/// ([`GatherError::InvalidOption`]).
///
/// ```
/// use fastgather::loss::{log_softmax, nll_loss, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[1.0f64, 2.0, 3.0], &[1, 3]).unwrap();
/// let y = TensorView::new(&[2i64], &[1]).unwrap();
/// let log_probs = log_softmax(&logits).unwrap();
/// let loss = nll_loss(&log_probs.view(), &y, &LossOptions::new()).unwrap();
/// assert!((loss.item().unwrap() - 0.40760596444).abs() < 1e-9);
/// ```
pub fn nll_loss<F: LossFloat, I: IndexElem>(
    log_probs: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    picked_loss("nll_loss", log_probs, labels, opts, |v| Some(-v.widen()))
}

/// A loss of the picked values `x[n, y_n]` only: `loss(picked)` per row, or
/// `None` for a value the loss refuses; then scaled by the class weight and
/// reduced.
fn picked_loss<F: LossFloat, I: IndexElem>(
    op: &'static str,
    x: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
    loss: impl Fn(F) -> Option<F::Acc>,
) -> Result<Tensor<F>, GatherError> {
    opts.path()?;
    let rows = Rows::new(op, x, labels, opts)?;
    if opts.label_smoothing != 0.0 {
        return Err(GatherError::InvalidOption {
            reason: format!(
                "{op} has no label smoothing (torch's nll_loss has none); it applies to \
                 cross_entropy on logits"
            ),
        });
    }
    let (c, shape) = (rows.scores.c, rows.scores.row_shape());
    let weight = opts.class_weight::<F::Acc>(op, c)?;
    if c == 0 {
        return all_ignored(&shape, opts.reduction);
    }
    let picked = pick(&rows, opts)?;
    let mut losses = try_vec(rows.scores.n)?;
    for (r, &p) in picked.iter().enumerate() {
        let Some(label) = rows.label(r) else {
            losses.push(None);
            continue;
        };
        let Some(l) = loss(p) else {
            return Err(GatherError::InvalidLossArgument {
                op,
                reason: format!(
                    "the value {} at label position {:?} (class {label}) is not a probability \
                     (outside [0, 1]); the input looks like logits, which cross_entropy takes",
                    p.widen().to_f64(),
                    rows.position(r)
                ),
            });
        };
        losses.push(Some(match &weight {
            Some(w) => w[label] * l,
            None => l,
        }));
    }
    let divisor = weight.as_ref().map(|w| label_weight_sum(&rows, w));
    reduce::<F>(losses, opts.reduction, &shape, divisor)
}

/// `x.gather(1, y.unsqueeze(1))` in row order, with ignored labels replaced
/// by class 0. Needs at least one class.
fn pick<F: LossFloat, I: IndexElem>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
) -> Result<Vec<F>, GatherError> {
    let scores = &rows.scores;
    let mut y = try_vec(scores.n)?;
    y.extend((0..scores.n).map(|r| rows.label(r).map_or(0, |l| l as i64)));
    // The labels' positions in the scores' shape, with size 1 for the classes.
    let mut shape = scores.x.shape().to_vec();
    shape[scores.class_dim()] = 1;
    let col = TensorView::new(&y, &shape)?;
    let dim = scores.class_dim();
    Ok(gather_with(scores.x, dim, &col, &opts.gather_options())?.into_vec())
}

/// torch's `F.cross_entropy(logits, target)` with class-probability targets:
/// `target` has the logits' shape and holds, per row, a distribution over the
/// classes (torch reads it as given: neither its sign nor its sum is checked).
/// A row's loss is `Σ_c w[c]·t'_c·(-log_softmax(x)_c)` with the smoothed
/// target `t' = (1-ε)·t + ε/C` (`w` is 1 without a class weight);
/// [`Reduction::Mean`] divides by the number of rows (`N·d1·..·dk`), not by
/// the weights, and is NaN for an empty input, as torch's.
///
/// As in torch, `ignore_index` does not apply to probability targets: a
/// non-negative one is an [`GatherError::InvalidOption`] (the default, -100,
/// and any negative value are accepted and unused).
///
/// [`Reduction::Mean`]: super::Reduction::Mean
///
/// ```
/// use fastgather::loss::{cross_entropy_with_probs_target, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let target = TensorView::new(&[0.25f64, 0.75], &[1, 2]).unwrap();
/// let loss = cross_entropy_with_probs_target(&logits, &target, &LossOptions::new()).unwrap();
/// assert!((loss.item().unwrap() - std::f64::consts::LN_2).abs() < 1e-12);
/// ```
pub fn cross_entropy_with_probs_target<F: LossFloat>(
    logits: &TensorView<'_, F>,
    target: &TensorView<'_, F>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    const OP: &str = "cross_entropy_with_probs_target";
    let path = opts.path()?;
    let (scores, targets, weight) = ProbTarget::check(OP, logits, target, opts)?;
    let shape = scores.row_shape();
    if scores.c == 0 {
        // No class: every row's loss is an empty sum, and a mean over an
        // empty input is NaN (torch's special case).
        return all_ignored(&shape, opts.reduction);
    }
    let smooth = ProbTarget::new(opts, scores.c);
    let losses = per_row(&scores, |r, x, spare| {
        let t = targets.row(r, spare);
        let (max, lse, _) = on_path(path, Stats(x));
        let lse = max + lse;
        let loss = (0..x.len()).fold(smooth.zero, |s, k| {
            s + smooth.weighted(&weight, t, k) * (lse - x[k].widen())
        });
        Some(loss)
    })?;
    reduce::<F>(losses, opts.reduction, &shape, Some(scores.n as f64))
}

/// The smoothed, weighted class-probability target of a row.
pub(super) struct ProbTarget<A> {
    keep: A,
    floor: A,
    pub(super) zero: A,
}

impl<A: Acc> ProbTarget<A> {
    pub(super) fn new(opts: &LossOptions, c: usize) -> Self {
        Self {
            keep: A::from_f64(1.0 - opts.label_smoothing),
            floor: A::from_f64(opts.label_smoothing / c as f64),
            zero: A::from_f64(0.0),
        }
    }

    /// `w[k]·t'_k`, with `t' = (1-ε)·t + ε/C`.
    #[inline]
    pub(super) fn weighted<F: LossFloat<Acc = A>>(
        &self,
        weight: &Option<Vec<A>>,
        t: &[F],
        k: usize,
    ) -> A {
        let tk = self.keep * t[k].widen() + self.floor;
        match weight {
            Some(w) => w[k] * tk,
            None => tk,
        }
    }

    /// The checks of a call with probability targets, in torch's order: the
    /// shapes, label smoothing, `ignore_index`, the weight.
    #[allow(clippy::type_complexity)]
    pub(super) fn check<'v, 'a, F: LossFloat<Acc = A>>(
        op: &'static str,
        logits: &'v TensorView<'a, F>,
        target: &'v TensorView<'a, F>,
        opts: &LossOptions,
    ) -> Result<(Scores<'v, 'a, F>, Scores<'v, 'a, F>, Option<Vec<A>>), GatherError> {
        let scores = Scores::new(op, logits)?;
        if target.shape() != logits.shape() {
            return Err(GatherError::InvalidLossArgument {
                op,
                reason: format!(
                    "class-probability targets have the logits' shape {:?}, got shape {:?}",
                    logits.shape(),
                    target.shape()
                ),
            });
        }
        check_smoothing(opts)?;
        if let Some(i) = opts.ignore_index.filter(|&i| i >= 0) {
            return Err(GatherError::InvalidOption {
                reason: format!(
                    "ignore_index ({i}) is not supported for class-probability targets \
                     (as in torch); leave the default or call no_ignore_index()"
                ),
            });
        }
        let weight = opts.class_weight::<A>(op, scores.c)?;
        let targets = Scores::new(op, target)?;
        Ok((scores, targets, weight))
    }
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
        return Err(GatherError::InvalidLossArgument {
            op: "log_softmax",
            reason: format!("expected [N, C] logits, got shape {:?}", logits.shape()),
        });
    }
    if logits.is_empty() {
        // No element: nothing to compute, and `N` may be any size, even one
        // that no row count could hold.
        return Tensor::zeros(logits.shape());
    }
    let scores = Scores::new("log_softmax", logits)?;
    let mut out = Tensor::zeros(logits.shape())?;
    per_row_into(&scores, out.as_mut_slice(), |_, x, _, dst| {
        on_path(path, LogSoftmax { x, dst })
    });
    Ok(out)
}
