//! The gradients.

use super::float::{Acc, LossFloat};
use super::forward::{ProbTarget, label_weight_sum};
use super::options::{LossOptions, Reduction};
use super::rows::{Rows, Scores, Walk, per_row_into};
use super::stats::{SoftmaxGrad, on_path};
use crate::alloc::try_vec;
use crate::element::Accumulate;
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::scatter::{scatter_add_into, scatter_add_into_with};
use crate::view::{Tensor, TensorView, TensorViewMut};

/// The gradient of [`cross_entropy`](super::cross_entropy) with respect to the
/// logits, given the gradient of the loss: a 0-d `grad_output` for
/// `Mean`/`Sum`, one value per label (the labels' shape) for `None`. Row `n`
/// is `g_n · (softmax(x_n) - target_n)` with
/// `target = (1-ε)·one_hot(label) + ε/C`; the one-hot part is put in place by
/// `scatter_add`. With a class weight `w`, row `n` is
/// `g_n · (((1-ε)·w[y] + (ε/C)·Σw)·softmax(x_n) - (1-ε)·w[y]·one_hot(y) - (ε/C)·w)`.
/// Ignored rows get zeros; `Mean` divides by the rows counted (by the sum of
/// their labels' weights, with a weight).
///
/// ```
/// use fastgather::loss::{cross_entropy_backward, LossOptions, Reduction};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let y = TensorView::new(&[1i64], &[1]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let g = TensorView::new(&[1.0f64], &[1]).unwrap();
/// let grad = cross_entropy_backward(&logits, &y, &g, &opts).unwrap();
/// // softmax = [0.5, 0.5], minus the one-hot of label 1.
/// let want = [0.5, -0.5];
/// assert!(grad.as_slice().iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12));
/// ```
pub fn cross_entropy_backward<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    // Zeroed pages from the allocator: the rows below are their first write.
    let mut grad = Tensor::zeros(logits.shape())?;
    cross_entropy_backward_into(logits, labels, grad_output, opts, &mut grad.view_mut())?;
    Ok(grad)
}

/// [`cross_entropy_backward`] into a caller's buffer of the logits' shape,
/// which a training loop reuses from step to step: every element of `grad` is
/// written (ignored rows with zeros). A fresh buffer of the benchmark's size
/// (262 MB) costs page faults on its first write (fewer on Linux, where it is
/// advised for huge pages, but never none), so this is the form to call in a
/// loop. `grad` may have any strides; a
/// contiguous `[N, C]` (or `[C]`) buffer is written in place, other layouts
/// through a row-major copy.
///
/// On an error `grad` is untouched.
///
/// ```
/// use fastgather::loss::{cross_entropy_backward_into, LossOptions, Reduction};
/// use fastgather::{TensorView, TensorViewMut};
/// let logits = TensorView::new(&[0.0f32, 0.0, 5.0, 5.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 0], &[2]).unwrap();
/// let g = TensorView::new(&[1.0f32, 2.0], &[2]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let mut buf = [9.0f32; 4]; // stale values from the last step
/// let mut grad = TensorViewMut::new(&mut buf, &[2, 2]).unwrap();
/// cross_entropy_backward_into(&logits, &y, &g, &opts, &mut grad).unwrap();
/// assert_eq!(buf, [0.5, -0.5, -1.0, 1.0]);
/// ```
pub fn cross_entropy_backward_into<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
    grad: &mut TensorViewMut<'_, F>,
) -> Result<(), GatherError> {
    const OP: &str = "cross_entropy_backward";
    let path = opts.path()?;
    let rows = Rows::new(OP, logits, labels, opts)?;
    let (n, c) = (rows.scores.n, rows.scores.c);
    let weight = opts.class_weight::<F::Acc>(OP, c)?;
    check_grads(OP, &rows.scores, grad_output, opts.reduction, grad)?;
    if n == 0 || c == 0 {
        return Ok(());
    }
    let divisor = match &weight {
        Some(w) => label_weight_sum(&rows, w),
        None => (0..n).filter(|&r| rows.label(r).is_some()).count() as f64,
    };
    let upstream = Upstream::new(grad_output, opts.reduction, divisor);
    let g = |r| upstream.at(r);
    let eps = opts.label_smoothing;
    let acc = <F::Acc as Acc>::from_f64;
    let softmax_part = |dst: &mut [F]| match &weight {
        None => {
            let floor = acc(eps / c as f64);
            per_row_into(&rows.scores, dst, |r, x, _, dst| match rows.label(r) {
                Some(_) => on_path(
                    path,
                    SoftmaxGrad {
                        x,
                        dst,
                        g: g(r),
                        floor,
                    },
                ),
                None => dst.fill(F::default()),
            })
        }
        Some(w) => {
            // g·(a·softmax - (ε/C)·w) with a = (1-ε)·w[y] + (ε/C)·Σw.
            let eps_c = acc(eps / c as f64);
            let total = w.iter().fold(acc(0.0), |s, &v| s + v);
            per_row_into(&rows.scores, dst, |r, x, _, dst| match rows.label(r) {
                Some(y) => {
                    let g_r = g(r);
                    let a = acc(1.0 - eps) * w[y] + eps_c * total;
                    let (floor, g) = (acc(0.0), g_r * a);
                    on_path(path, SoftmaxGrad { x, dst, g, floor });
                    if eps != 0.0 {
                        let g = g_r * eps_c;
                        for (o, &wk) in dst.iter_mut().zip(w) {
                            *o = F::narrow(o.widen() - g * wk);
                        }
                    }
                }
                None => dst.fill(F::default()),
            })
        }
    };
    write_rows(grad, &rows.scores, |dense| {
        let start = dense.offset();
        softmax_part(&mut dense.data_mut()[start..start + n * c]);
        // The one-hot part: grad[n, y_n] -= g_n·(1-ε)·w[y_n], by scatter_add.
        let (mut idx, mut delta) = (try_vec(n)?, try_vec(n)?);
        for r in 0..n {
            let (i, v) = match rows.label(r) {
                Some(y) => {
                    let wy = weight.as_ref().map_or(acc(1.0), |w| w[y]);
                    (y as i64, F::narrow(-g(r) * (acc(1.0 - eps) * wy)))
                }
                None => (0, F::default()),
            };
            idx.push(i);
            delta.push(v);
        }
        let idx = TensorView::new(&idx, &[n, 1])?;
        let delta = TensorView::new(&delta, &[n, 1])?;
        scatter_add_into_with(dense, 1, &idx, &delta, &opts.gather_options())
    })
}

/// The gradient of
/// [`cross_entropy_with_probs_target`](super::cross_entropy_with_probs_target)
/// with respect to the logits: row `n` is
/// `g_n · (S_n·softmax(x_n) - w ⊙ t'_n)` with the smoothed target
/// `t' = (1-ε)·t + ε/C` and `S_n = Σ_c w[c]·t'_{n,c}` (`w` is 1 without a
/// class weight); `Mean` divides by the number of rows. `grad_output` as for
/// [`cross_entropy_backward`].
///
/// ```
/// use fastgather::loss::{cross_entropy_with_probs_target_backward, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let target = TensorView::new(&[0.25f64, 0.75], &[1, 2]).unwrap();
/// let one = 1.0f64;
/// let g = TensorView::scalar(&one);
/// let grad =
///     cross_entropy_with_probs_target_backward(&logits, &target, &g, &LossOptions::new())
///         .unwrap();
/// assert_eq!(grad.as_slice(), &[0.25, -0.25]); // softmax - target
/// ```
pub fn cross_entropy_with_probs_target_backward<F: LossFloat>(
    logits: &TensorView<'_, F>,
    target: &TensorView<'_, F>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let mut grad = Tensor::zeros(logits.shape())?;
    cross_entropy_with_probs_target_backward_into(
        logits,
        target,
        grad_output,
        opts,
        &mut grad.view_mut(),
    )?;
    Ok(grad)
}

/// [`cross_entropy_with_probs_target_backward`] into a caller's buffer of the
/// logits' shape (any strides); every element is written. On an error `grad`
/// is untouched.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_probs_target_backward_into, LossOptions};
/// use fastgather::{TensorView, TensorViewMut};
/// let logits = TensorView::new(&[0.0f32, 0.0], &[2]).unwrap(); // unbatched
/// let target = TensorView::new(&[1.0f32, 0.0], &[2]).unwrap();
/// let one = 1.0f32;
/// let mut buf = [9.0f32; 2];
/// let mut grad = TensorViewMut::new(&mut buf, &[2]).unwrap();
/// let opts = LossOptions::new();
/// let g = TensorView::scalar(&one);
/// cross_entropy_with_probs_target_backward_into(&logits, &target, &g, &opts, &mut grad)
///     .unwrap();
/// assert_eq!(buf, [-0.5, 0.5]);
/// ```
pub fn cross_entropy_with_probs_target_backward_into<F: LossFloat>(
    logits: &TensorView<'_, F>,
    target: &TensorView<'_, F>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
    grad: &mut TensorViewMut<'_, F>,
) -> Result<(), GatherError> {
    const OP: &str = "cross_entropy_with_probs_target_backward";
    let path = opts.path()?;
    let (scores, targets, weight) = ProbTarget::check(OP, logits, target, opts)?;
    check_grads(OP, &scores, grad_output, opts.reduction, grad)?;
    let (n, c) = (scores.n, scores.c);
    if n == 0 || c == 0 {
        return Ok(());
    }
    let upstream = Upstream::new(grad_output, opts.reduction, n as f64);
    let smooth = ProbTarget::new(opts, c);
    write_rows(grad, &scores, |dense| {
        let start = dense.offset();
        let dst = &mut dense.data_mut()[start..start + n * c];
        per_row_into(&scores, dst, |r, x, spare, dst| {
            let t = targets.row(r, spare);
            let g = upstream.at(r);
            let sum = (0..c).fold(smooth.zero, |s, k| s + smooth.weighted(&weight, t, k));
            let floor = smooth.zero;
            on_path(
                path,
                SoftmaxGrad {
                    x,
                    dst,
                    g: g * sum,
                    floor,
                },
            );
            for (k, o) in dst.iter_mut().enumerate() {
                *o = F::narrow(o.widen() - g * smooth.weighted(&weight, t, k));
            }
        });
        Ok(())
    })
}

/// `grad_output` has the unreduced loss's shape (0-d after a reduction), and
/// `grad` the logits'.
fn check_grads<F: Copy>(
    op: &'static str,
    scores: &Scores<'_, '_, F>,
    grad_output: &TensorView<'_, F>,
    reduction: Reduction,
    grad: &TensorViewMut<'_, F>,
) -> Result<(), GatherError> {
    let expected = match reduction {
        Reduction::None => scores.row_shape(),
        _ => Vec::new(),
    };
    if grad_output.shape() != expected {
        return Err(GatherError::InvalidLossArgument {
            op,
            reason: format!(
                "grad_output must have the loss's shape {expected:?} ({reduction:?}), got {:?}",
                grad_output.shape()
            ),
        });
    }
    if grad.shape() != scores.x.shape() {
        return Err(GatherError::OutShapeMismatch {
            expected: scores.x.shape().to_vec(),
            actual: grad.shape().to_vec(),
        });
    }
    Ok(())
}

/// The gradient of each row's loss: `grad_output` (one value, or one per
/// row), divided by the divisor of `Mean`.
struct Upstream<'v, 'a, F> {
    view: &'v TensorView<'a, F>,
    walk: Walk,
    scale: f64,
}

impl<'v, 'a, F: LossFloat> Upstream<'v, 'a, F> {
    fn new(view: &'v TensorView<'a, F>, reduction: Reduction, divisor: f64) -> Self {
        let scale = match reduction {
            Reduction::Mean => 1.0 / divisor,
            _ => 1.0,
        };
        // A 0-d view's walk gives its one element for every row.
        let walk = Walk::new(view, None);
        Self { view, walk, scale }
    }

    #[inline]
    fn at(&self, r: usize) -> F::Acc {
        let v = self.view.data()[self.walk.start(r)];
        <F::Acc as Acc>::from_f64(v.widen().to_f64() * self.scale)
    }
}

/// Lets `write` fill a row-major `[rows, C]` view, then leaves it in `grad`
/// (the scores' shape): `grad`'s own memory when its rows are those rows
/// (contiguous `[N, C]` or `[C]`), else a buffer copied into `grad`.
fn write_rows<F: LossFloat>(
    grad: &mut TensorViewMut<'_, F>,
    scores: &Scores<'_, '_, F>,
    write: impl FnOnce(&mut TensorViewMut<'_, F>) -> Result<(), GatherError>,
) -> Result<(), GatherError> {
    let (n, c) = (scores.n, scores.c);
    if grad.is_contiguous() && grad.rank() <= 2 {
        return write(&mut grad.reborrow().reshape(&[n, c])?);
    }
    let mut dense = Tensor::zeros(&[n, c])?;
    write(&mut dense.view_mut())?;
    let walk = Walk::new(&grad.as_view(), Some(scores.class_dim()));
    let class_stride = grad.strides()[scores.class_dim()];
    let data = grad.data_mut();
    for (r, row) in dense.as_slice().chunks(c).enumerate() {
        let start = walk.start(r) as isize;
        for (k, &v) in row.iter().enumerate() {
            data[(start + k as isize * class_stride) as usize] = v;
        }
    }
    Ok(())
}

/// Gather's backward: the gradient of `gather(src, dim, index)` with respect to
/// `src`, given `grad_output` (the index's shape): zeros of `src_shape` with
/// `scatter_add(dim, index, grad_output)` applied.
///
/// ```
/// use fastgather::loss::gather_backward;
/// use fastgather::TensorView;
/// let idx = TensorView::new(&[1i64, 1, 0], &[3]).unwrap();
/// let g = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// assert_eq!(gather_backward(&g, 0, &idx, &[2]).unwrap().as_slice(), &[3.0, 3.0]);
/// ```
pub fn gather_backward<F: Accumulate + Default, I: IndexElem>(
    grad_output: &TensorView<'_, F>,
    dim: isize,
    index: &TensorView<'_, I>,
    src_shape: &[usize],
) -> Result<Tensor<F>, GatherError> {
    let mut grad = Tensor::zeros(src_shape)?;
    scatter_add_into(&mut grad.view_mut(), dim, index, grad_output)?;
    Ok(grad)
}
