//! The gradients.

use super::float::{Acc, LossFloat};
use super::options::{LossOptions, Reduction};
use super::rows::{per_row_into, Rows};
use super::stats::{on_path, SoftmaxGrad};
use crate::element::Accumulate;
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::scatter::{scatter_add_into, scatter_add_into_with};
use crate::view::{try_vec, Tensor, TensorView, TensorViewMut};

/// The gradient of [`cross_entropy_with_logits`](super::cross_entropy_with_logits) with respect to the logits,
/// given the gradient of the loss: a 0-d `grad_output` for `Mean`/`Sum`, `[N]` for
/// `None`. Row `n` is `g_n · (softmax(x_n) - target_n)` with
/// `target = (1-ε)·one_hot(label) + ε/C`; the one-hot part is put in place by
/// `scatter_add`. Ignored rows get zeros; `Mean` divides by the rows counted.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_logits_backward, LossOptions, Reduction};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let y = TensorView::new(&[1i64], &[1]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let g = TensorView::new(&[1.0f64], &[1]).unwrap();
/// let grad = cross_entropy_with_logits_backward(&logits, &y, &g, &opts).unwrap();
/// // softmax = [0.5, 0.5], minus the one-hot of label 1.
/// let want = [0.5, -0.5];
/// assert!(grad.as_slice().iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12));
/// ```
pub fn cross_entropy_with_logits_backward<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    // Zeroed pages from the allocator: the rows below are their first write.
    let mut grad = Tensor::zeros(logits.shape())?;
    cross_entropy_with_logits_backward_into(
        logits,
        labels,
        grad_output,
        opts,
        &mut grad.view_mut(),
    )?;
    Ok(grad)
}

/// [`cross_entropy_with_logits_backward`] into a caller's `[N, C]` buffer, which
/// a training loop reuses from step to step: every element of `grad` is
/// written (ignored rows with zeros). A fresh buffer of the benchmark's size
/// (262 MB) costs more in page faults than the whole gradient computation, so
/// this is the form to call in a loop. `grad` may have any strides; contiguous
/// rows are written in place, other layouts through a row-major copy.
///
/// On an error `grad` is untouched.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_logits_backward_into, LossOptions, Reduction};
/// use fastgather::{TensorView, TensorViewMut};
/// let logits = TensorView::new(&[0.0f32, 0.0, 5.0, 5.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 0], &[2]).unwrap();
/// let g = TensorView::new(&[1.0f32, 2.0], &[2]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let mut buf = [9.0f32; 4]; // stale values from the last step
/// let mut grad = TensorViewMut::new(&mut buf, &[2, 2]).unwrap();
/// cross_entropy_with_logits_backward_into(&logits, &y, &g, &opts, &mut grad).unwrap();
/// assert_eq!(buf, [0.5, -0.5, -1.0, 1.0]);
/// ```
pub fn cross_entropy_with_logits_backward_into<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
    grad: &mut TensorViewMut<'_, F>,
) -> Result<(), GatherError> {
    let path = opts.path()?;
    let rows = Rows::new(logits, labels, opts)?;
    let expected: &[usize] = match opts.reduction {
        Reduction::None => &[rows.n],
        _ => &[],
    };
    if grad_output.shape() != expected {
        return Err(GatherError::OutShapeMismatch {
            expected: expected.to_vec(),
            actual: grad_output.shape().to_vec(),
        });
    }
    if grad.shape() != logits.shape() {
        return Err(GatherError::OutShapeMismatch {
            expected: logits.shape().to_vec(),
            actual: grad.shape().to_vec(),
        });
    }
    if rows.n == 0 || rows.c == 0 {
        return Ok(());
    }
    let counted = (0..rows.n)
        .filter(|&r| rows.label(r, opts).is_some())
        .count();
    let scale = match opts.reduction {
        Reduction::Mean => 1.0 / counted as f64,
        _ => 1.0,
    };
    let g = |r: usize| -> F::Acc {
        let v = match opts.reduction {
            Reduction::None => grad_output.get(&[r]),
            _ => grad_output.get(&[]),
        };
        <F::Acc as Acc>::from_f64(v.expect("inside grad_output").widen().to_f64() * scale)
    };
    let eps = opts.label_smoothing;
    let floor = <F::Acc as Acc>::from_f64(eps / rows.c as f64);
    let softmax_part = |dst: &mut [F]| {
        per_row_into(&rows, opts, dst, |r, label, x, dst| match label {
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
    };
    if grad.is_contiguous() {
        let start = grad.offset();
        softmax_part(&mut grad.data_mut()[start..start + rows.n * rows.c]);
    } else {
        let mut dense = Tensor::zeros(grad.shape())?;
        softmax_part(dense.as_mut_slice());
        for (r, row) in dense.as_slice().chunks(rows.c).enumerate() {
            for (k, &v) in row.iter().enumerate() {
                *grad.get_mut(&[r, k]).expect("inside grad") = v;
            }
        }
    }
    // The one-hot part: grad[n, label_n] -= g_n · (1 - ε), by scatter_add.
    let (mut idx, mut delta) = (try_vec(rows.n)?, try_vec(rows.n)?);
    for r in 0..rows.n {
        let (i, v) = match rows.label(r, opts) {
            Some(l) => (
                l as i64,
                F::narrow(-g(r) * <F::Acc as Acc>::from_f64(1.0 - eps)),
            ),
            None => (0, F::default()),
        };
        idx.push(i);
        delta.push(v);
    }
    let idx = TensorView::new(&idx, &[rows.n, 1])?;
    let delta = TensorView::new(&delta, &[rows.n, 1])?;
    scatter_add_into_with(grad, 1, &idx, &delta, &opts.gather_options())
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
