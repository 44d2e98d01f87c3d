//! The loss module against torch's values (computed once with PyTorch 2.15,
//! float64, and written down here and in `torch_values/mod.rs` by
//! `torch_values/generate.py`), against finite differences, and against naive
//! formulas; thread-count independence.

mod common;
#[rustfmt::skip]
mod torch_values;

use common::{Rng, index_vec, uniform_vec};
use fastgather::loss::{
    LossOptions, Reduction, cross_entropy, cross_entropy_backward, cross_entropy_backward_into,
    cross_entropy_from_probs, cross_entropy_with_probs_target,
    cross_entropy_with_probs_target_backward, cross_entropy_with_probs_target_backward_into,
    log_softmax, nll_loss,
};
use fastgather::{GatherError, Tensor, TensorView, TensorViewMut};
use torch_values::Case;

const X: [f64; 12] = [
    1.5, -0.3, 0.2, 2.0, //
    0.0, 1e4, -1e4, 3.0, //
    -2.0, -1.0, 0.5, 0.25,
];
const Y: [i64; 3] = [3, 1, -100];

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?}\nvs\n{b:?}");
    }
}

/// `F.cross_entropy_from_probs(x, y, reduction, label_smoothing, ignore_index=-100)` and the
/// gradient of `loss.sum()` with respect to x, from torch.
#[allow(clippy::type_complexity)]
fn torch_cases() -> Vec<(Reduction, f64, Vec<f64>, Vec<f64>)> {
    let g_plain = vec![
        0.3239861228858861,
        0.0535545459122593,
        0.08829651898822846,
        -0.46583718778637406,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ];
    let g_smooth = vec![
        0.2739861228858861,
        0.003554545912259295,
        0.03829651898822846,
        -0.31583718778637415,
        -0.05,
        0.15000000000000013,
        -0.05,
        -0.05,
        0.0,
        0.0,
        0.0,
        0.0,
    ];
    let half = |g: &Vec<f64>| g.iter().map(|v| v / 2.0).collect::<Vec<_>>();
    vec![
        (
            Reduction::None,
            0.0,
            vec![0.627054594706181, 0.0, 0.0],
            g_plain.clone(),
        ),
        (
            Reduction::None,
            0.2,
            vec![0.8570545947061811, 1999.8500000000001, 0.0],
            g_smooth.clone(),
        ),
        (
            Reduction::Mean,
            0.0,
            vec![0.3135272973530905],
            half(&g_plain),
        ),
        (
            Reduction::Mean,
            0.2,
            vec![1000.353527297353],
            half(&g_smooth),
        ),
        (Reduction::Sum, 0.0, vec![0.627054594706181], g_plain),
        (Reduction::Sum, 0.2, vec![2000.707054594706], g_smooth),
    ]
}

#[test]
fn fused_cross_entropy_matches_torch() {
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let y = TensorView::new(&Y, &[3]).unwrap();
    for (reduction, eps, loss, grad) in torch_cases() {
        let opts = LossOptions::new().reduction(reduction).label_smoothing(eps);
        let got = cross_entropy(&x, &y, &opts).unwrap();
        close(got.as_slice(), &loss, 1e-12);
        let ones = vec![1.0f64; 3];
        let one = 1.0f64;
        let g = match reduction {
            Reduction::None => TensorView::new(&ones, &[3]).unwrap(),
            _ => TensorView::scalar(&one),
        };
        let back = cross_entropy_backward(&x, &y, &g, &opts).unwrap();
        close(back.as_slice(), &grad, 1e-12);
        // The same in f32, within f32's precision (logits of 1e4 included).
        let x32: Vec<f32> = X.iter().map(|&v| v as f32).collect();
        let x32 = TensorView::new(&x32, &[3, 4]).unwrap();
        let got32 = cross_entropy(&x32, &y, &opts).unwrap();
        let got32: Vec<f64> = got32.as_slice().iter().map(|&v| v as f64).collect();
        close(&got32, &loss, 1e-6);
    }
}

#[test]
fn log_softmax_and_nll_match_torch() {
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let want = [
        -1.127054594706181,
        -2.927054594706181,
        -2.4270545947061812,
        -0.627054594706181,
        -10000.0,
        0.0,
        -20000.0,
        -9997.0,
        -3.2342967734989703,
        -2.2342967734989703,
        -0.7342967734989704,
        -0.9842967734989704,
    ];
    close(log_softmax(&x).unwrap().as_slice(), &want, 1e-12);
    // The tutorial: -ln(p[label]) for p = [[0.1,0.3,0.6],[0.3,0.2,0.5]], y = [0, 2].
    let p = [0.1f64, 0.3, 0.6, 0.3, 0.2, 0.5];
    let p = TensorView::new(&p, &[2, 3]).unwrap();
    let y = TensorView::new(&[0i64, 2], &[2]).unwrap();
    let none = LossOptions::new().reduction(Reduction::None);
    // torch: [2.3025850929940455, 0.6931471805599453], i.e. ln 10 and ln 2.
    let want = [std::f64::consts::LN_10, std::f64::consts::LN_2];
    close(
        cross_entropy_from_probs(&p, &y, &none).unwrap().as_slice(),
        &want,
        1e-15,
    );
    let logp: Vec<f64> = [0.1f64, 0.3, 0.6, 0.3, 0.2, 0.5]
        .iter()
        .map(|v| v.ln())
        .collect();
    let logp = TensorView::new(&logp, &[2, 3]).unwrap();
    close(nll_loss(&logp, &y, &none).unwrap().as_slice(), &want, 1e-15);
    let mean = cross_entropy_from_probs(&p, &y, &LossOptions::new()).unwrap();
    assert_eq!(mean.shape(), &[] as &[usize]);
    close(mean.as_slice(), &[(want[0] + want[1]) / 2.0], 1e-15);
}

/// Central differences of the summed loss agree with the analytic gradient.
#[test]
fn backward_matches_finite_differences() {
    let (n, c) = (5, 7);
    let x = uniform_vec(&mut Rng::new(0x10), n * c, -2.0, 2.0);
    let y = [0i64, 6, 3, 3, -100];
    let yv = TensorView::new(&y, &[n]).unwrap();
    for eps in [0.0, 0.1] {
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let opts = LossOptions::new().reduction(reduction).label_smoothing(eps);
            let loss = |x: &[f64]| {
                let xv = TensorView::new(x, &[n, c]).unwrap();
                cross_entropy(&xv, &yv, &opts).unwrap().as_slice()[0]
            };
            let one = 1.0f64;
            let xv = TensorView::new(&x, &[n, c]).unwrap();
            let grad = cross_entropy_backward(&xv, &yv, &TensorView::scalar(&one), &opts).unwrap();
            let h = 1e-6;
            for k in 0..n * c {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[k] += h;
                down[k] -= h;
                let numeric = (loss(&up) - loss(&down)) / (2.0 * h);
                assert!(
                    (numeric - grad.as_slice()[k]).abs() < 1e-7,
                    "element {k}: {numeric} vs {}",
                    grad.as_slice()[k]
                );
            }
        }
    }
}

/// Big batches run on rayon threads; the result is the same in a 1-thread pool.
#[test]
fn threads_do_not_change_results() {
    let (n, c) = (3000, 40);
    let mut rng = Rng::new(0x11);
    let x: Vec<f32> = uniform_vec(&mut rng, n * c, -5.0, 5.0)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let y: Vec<i64> = index_vec(&mut rng, n, c, 0);
    let xv = TensorView::new(&x, &[n, c]).unwrap();
    let yv = TensorView::new(&y, &[n]).unwrap();
    let opts = LossOptions::new().label_smoothing(0.05);
    let many = cross_entropy(&xv, &yv, &opts).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| cross_entropy(&xv, &yv, &opts).unwrap());
    assert_eq!(many.as_slice()[0].to_bits(), one.as_slice()[0].to_bits());
    let g = 1.0f32;
    let gv = TensorView::scalar(&g);
    let a = cross_entropy_backward(&xv, &yv, &gv, &opts).unwrap();
    let b = pool.install(|| cross_entropy_backward(&xv, &yv, &gv, &opts).unwrap());
    assert!(
        a.as_slice()
            .iter()
            .zip(b.as_slice())
            .all(|(p, q)| p.to_bits() == q.to_bits())
    );
    // And the f32 fused loss is close to an f64 evaluation of the definition.
    let mut total = 0.0f64;
    for r in 0..n {
        let row: Vec<f64> = x[r * c..(r + 1) * c].iter().map(|&v| v as f64).collect();
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let mean_x = row.iter().sum::<f64>() / c as f64;
        total += 0.95 * (lse - row[y[r] as usize]) + 0.05 * (lse - mean_x);
    }
    let want = total / n as f64;
    assert!((many.as_slice()[0] as f64 - want).abs() < 1e-5 * want.abs().max(1.0));
}

#[test]
fn loss_errors() {
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let bad = TensorView::new(&[3i64, 4, 0], &[3]).unwrap();
    let err = cross_entropy(&x, &bad, &LossOptions::new()).unwrap_err();
    assert_eq!(
        err,
        fastgather::GatherError::IndexOutOfBounds {
            value: 4,
            position: vec![1],
            dim: 1,
            size: 4,
            wraps: false
        }
    );
    let short = TensorView::new(&[0i64, 1], &[2]).unwrap();
    assert!(cross_entropy(&x, &short, &LossOptions::new()).is_err());
    let y = TensorView::new(&Y, &[3]).unwrap();
    let smoothing = LossOptions::new().label_smoothing(1.5);
    assert!(cross_entropy(&x, &y, &smoothing).is_err());
    let flat = TensorView::new(&X, &[12]).unwrap();
    assert!(log_softmax(&flat).is_err());
    // Every row ignored: the mean is 0/0, as in torch.
    let ignored = TensorView::new(&[-100i64; 3], &[3]).unwrap();
    let l = cross_entropy(&x, &ignored, &LossOptions::new()).unwrap();
    assert!(l.as_slice()[0].is_nan());
}

/// Strided logits (a transposed view) give the same losses as contiguous ones.
#[test]
fn strided_logits() {
    let xt: Vec<f64> = (0..4)
        .flat_map(|c| (0..3).map(move |r| X[r * 4 + c]))
        .collect();
    let xv = TensorView::new(&xt, &[4, 3])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    let y = TensorView::new(&Y, &[3]).unwrap();
    let opts = LossOptions::new()
        .reduction(Reduction::None)
        .label_smoothing(0.2);
    let want = cross_entropy(&TensorView::new(&X, &[3, 4]).unwrap(), &y, &opts).unwrap();
    assert_eq!(cross_entropy(&xv, &y, &opts).unwrap(), want);
}

/// The definition in f64: per-row loss, and the gradient of the summed loss.
fn naive_row(row: &[f64], label: usize) -> (f64, Vec<f64>) {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = row.iter().map(|v| (v - m).exp()).sum();
    let lse = m + sum.ln();
    let grad = row
        .iter()
        .enumerate()
        .map(|(k, v)| (v - m).exp() / sum - f64::from(k == label))
        .collect();
    (lse - row[label], grad)
}

/// Rows of every length around the kernels' 64-element blocks (all of a row in
/// the padded tail, block plus tail, whole blocks), in f32 and f64.
#[test]
fn row_lengths_around_blocks() {
    let mut rng = Rng::new(0x12);
    for c in [1usize, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000] {
        let n = 3;
        let x = uniform_vec(&mut rng, n * c, -9.5, 9.5);
        let y: Vec<i64> = (0..n).map(|r| ((r * 5 + 1) % c) as i64).collect();
        let yv = TensorView::new(&y, &[n]).unwrap();
        let opts = LossOptions::new().reduction(Reduction::None);
        let (mut want_loss, mut want_grad) = (vec![], vec![]);
        for r in 0..n {
            let (l, g) = naive_row(&x[r * c..(r + 1) * c], y[r] as usize);
            want_loss.push(l);
            want_grad.extend(g);
        }
        let ones = vec![1.0f64; n];
        let gv = TensorView::new(&ones, &[n]).unwrap();
        let xv = TensorView::new(&x, &[n, c]).unwrap();
        let loss = cross_entropy(&xv, &yv, &opts).unwrap();
        close(loss.as_slice(), &want_loss, 1e-12);
        let grad = cross_entropy_backward(&xv, &yv, &gv, &opts).unwrap();
        close(grad.as_slice(), &want_grad, 1e-12);

        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let ones32 = vec![1.0f32; n];
        let xv = TensorView::new(&x32, &[n, c]).unwrap();
        let gv = TensorView::new(&ones32, &[n]).unwrap();
        let widen = |v: &[f32]| v.iter().map(|&v| v as f64).collect::<Vec<_>>();
        let loss = cross_entropy(&xv, &yv, &opts).unwrap();
        close(&widen(loss.as_slice()), &want_loss, 2e-6);
        let grad = cross_entropy_backward(&xv, &yv, &gv, &opts).unwrap();
        close(&widen(grad.as_slice()), &want_grad, 2e-6);
        let ls = log_softmax(&xv).unwrap();
        for r in 0..n {
            let (l, _) = naive_row(&x[r * c..(r + 1) * c], y[r] as usize);
            let got = ls.as_slice()[r * c + y[r] as usize] as f64;
            assert!((got + l).abs() < 2e-6 * (1.0 + l.abs()), "c={c} row {r}");
        }
    }
}

/// NaN and infinities behave as in torch: a NaN logit, or a +inf one, makes
/// its row's loss and gradient NaN; a -inf logit is a zero probability.
#[test]
fn special_values() {
    let nan = f32::NAN;
    let inf = f32::INFINITY;
    let c = 70; // one block and a tail
    let mut x = vec![0.0f32; 4 * c];
    x[3] = nan; // row 0: NaN in a block
    x[c + 68] = inf; // row 1: +inf in the tail
    for v in &mut x[2 * c + 1..3 * c] {
        *v = f32::NEG_INFINITY; // row 2: all but class 0 impossible
    }
    let y = [0i64, 1, 0, 5];
    let yv = TensorView::new(&y, &[4]).unwrap();
    let xv = TensorView::new(&x, &[4, c]).unwrap();
    let opts = LossOptions::new().reduction(Reduction::None);
    let loss = cross_entropy(&xv, &yv, &opts).unwrap();
    let l = loss.as_slice();
    assert!(l[0].is_nan() && l[1].is_nan(), "{l:?}");
    assert_eq!(l[2], 0.0);
    assert!((l[3] - (c as f32).ln()).abs() < 1e-6);
    let ones = [1.0f32; 4];
    let g =
        cross_entropy_backward(&xv, &yv, &TensorView::new(&ones, &[4]).unwrap(), &opts).unwrap();
    let g = g.as_slice();
    assert!(g[..2 * c].iter().all(|v| v.is_nan()));
    assert!(g[2 * c..3 * c].iter().all(|&v| v == 0.0));
    assert!((g[3 * c] - 1.0 / c as f32).abs() < 1e-7);
    assert!((g[3 * c + 5] - (1.0 / c as f32 - 1.0)).abs() < 1e-7);
}

/// The `_into` form overwrites every element of a stale buffer (ignored rows
/// with zeros), takes strided buffers, and leaves the buffer alone on errors.
#[test]
fn backward_into_buffers() {
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let y = TensorView::new(&Y, &[3]).unwrap();
    let opts = LossOptions::new().label_smoothing(0.1);
    let one = 1.0f64;
    let g = TensorView::scalar(&one);
    let want = cross_entropy_backward(&x, &y, &g, &opts).unwrap();
    assert!(
        want.as_slice()[8..].iter().all(|&v| v == 0.0),
        "ignored row"
    );

    let mut buf = [7.0f64; 12];
    cross_entropy_backward_into(
        &x,
        &y,
        &g,
        &opts,
        &mut TensorViewMut::new(&mut buf, &[3, 4]).unwrap(),
    )
    .unwrap();
    assert_eq!(&buf, want.as_slice());

    // A transposed buffer: column-major storage of the same gradient.
    let mut buf_t = [7.0f64; 12];
    let mut view_t = TensorViewMut::new(&mut buf_t, &[4, 3])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    cross_entropy_backward_into(&x, &y, &g, &opts, &mut view_t).unwrap();
    for r in 0..3 {
        for k in 0..4 {
            assert_eq!(buf_t[k * 3 + r], want.as_slice()[r * 4 + k]);
        }
    }

    let mut small = [7.0f64; 8];
    let err = cross_entropy_backward_into(
        &x,
        &y,
        &g,
        &opts,
        &mut TensorViewMut::new(&mut small, &[2, 4]).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, GatherError::OutShapeMismatch { .. }), "{err}");
    assert_eq!(small, [7.0; 8]);
}

// ---------------------------------------------------------------------------
// Class weights, [N, C, d..] and [C] inputs, class-probability targets
// ---------------------------------------------------------------------------

/// The options of a recorded case.
fn case_opts(case: &Case, weight: &TensorView<'_, f64>) -> LossOptions {
    let opts = LossOptions::new()
        .reduction(case.reduction)
        .label_smoothing(case.smoothing);
    if case.weighted {
        opts.weight(weight)
    } else {
        opts
    }
}

/// A grad_output of ones in the loss's shape.
fn ones_like(loss: &Tensor<f64>) -> Tensor<f64> {
    Tensor::full(loss.shape(), 1.0).unwrap()
}

/// `cross_entropy` and its gradient with class-index labels against torch.
fn check_label_cases(cases: &[Case], x: &TensorView<'_, f64>, y: &TensorView<'_, i64>, w: &[f64]) {
    let w = TensorView::new(w, &[w.len()]).unwrap();
    for case in cases {
        let opts = case_opts(case, &w);
        let what = format!(
            "{:?} ε={} weighted={} {:?}",
            case.reduction,
            case.smoothing,
            case.weighted,
            x.shape()
        );
        let loss = cross_entropy(x, y, &opts).unwrap();
        match case.reduction {
            Reduction::None => assert_eq!(loss.shape(), y.shape(), "{what}"),
            _ => assert_eq!(loss.shape(), &[] as &[usize], "{what}"),
        }
        close(loss.as_slice(), case.loss, 1e-12);
        let g = ones_like(&loss);
        let grad = cross_entropy_backward(x, y, &g.view(), &opts).unwrap();
        assert_eq!(grad.shape(), x.shape(), "{what}");
        close(grad.as_slice(), case.grad, 1e-12);
    }
}

#[test]
fn weighted_cross_entropy_matches_torch() {
    use torch_values::{W, WEIGHTED, X, Y};
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let y = TensorView::new(&Y, &[3]).unwrap();
    check_label_cases(WEIGHTED, &x, &y, &W);
    // torch's rule for a weighted mean: Σ w[y]·loss / Σ w[y] over rows not
    // ignored (here w[3] = 3 and w[1] = 2; row 2 is ignored).
    let w = TensorView::new(&W, &[4]).unwrap();
    let none = cross_entropy(&x, &y, &LossOptions::new().reduction(Reduction::None)).unwrap();
    let mean = cross_entropy(&x, &y, &LossOptions::new().weight(&w)).unwrap();
    let want = (3.0 * none.as_slice()[0] + 2.0 * none.as_slice()[1]) / 5.0;
    close(&[mean.item().unwrap()], &[want], 1e-15);
}

#[test]
fn nd_cross_entropy_matches_torch() {
    use torch_values::{ND, WN, XN, YN};
    let x = TensorView::new(&XN, &[2, 3, 2, 2]).unwrap();
    let y = TensorView::new(&YN, &[2, 2, 2]).unwrap();
    check_label_cases(ND, &x, &y, &WN);
    // The same numbers from a [N, d1, d2, C] buffer seen as [N, C, d1, d2],
    // and into a transposed gradient buffer.
    let moved = x.permute(&[0, 2, 3, 1]).unwrap().to_tensor();
    let xm = moved.view().permute(&[0, 3, 1, 2]).unwrap();
    check_label_cases(ND, &xm, &y, &WN);
    let case = &ND[7]; // weighted, ε = 0, mean
    let w = TensorView::new(&WN, &[3]).unwrap();
    let opts = case_opts(case, &w);
    let mut buf = [7.0f64; 24];
    let mut grad = TensorViewMut::new(&mut buf, &[2, 2, 2, 3])
        .unwrap()
        .permute(&[0, 3, 1, 2])
        .unwrap();
    let one = 1.0f64;
    cross_entropy_backward_into(&x, &y, &TensorView::scalar(&one), &opts, &mut grad).unwrap();
    let got = TensorView::new(&buf, &[2, 2, 2, 3])
        .unwrap()
        .permute(&[0, 3, 1, 2])
        .unwrap()
        .to_vec();
    close(&got, case.grad, 1e-12);
}

#[test]
fn unbatched_cross_entropy_matches_torch() {
    use torch_values::{UNBATCHED, W, X0, Y0};
    let x = TensorView::new(&X0, &[4]).unwrap();
    let y = TensorView::scalar(&Y0);
    check_label_cases(UNBATCHED, &x, &y, &W);
}

/// `cross_entropy_with_probs_target` and its gradient against torch.
fn check_prob_cases(cases: &[Case], x: &TensorView<'_, f64>, t: &TensorView<'_, f64>, w: &[f64]) {
    let w = TensorView::new(w, &[w.len()]).unwrap();
    for case in cases {
        let opts = case_opts(case, &w);
        let loss = cross_entropy_with_probs_target(x, t, &opts).unwrap();
        close(loss.as_slice(), case.loss, 1e-12);
        let g = ones_like(&loss);
        let grad = cross_entropy_with_probs_target_backward(x, t, &g.view(), &opts).unwrap();
        close(grad.as_slice(), case.grad, 1e-12);
        // The `_into` form into a stale buffer gives the same.
        let mut buf = Tensor::full(x.shape(), 7.0).unwrap();
        cross_entropy_with_probs_target_backward_into(x, t, &g.view(), &opts, &mut buf.view_mut())
            .unwrap();
        assert_eq!(buf, grad);
    }
}

#[test]
fn probability_targets_match_torch() {
    use torch_values::{PROBS, PROBS_ND, T, T0, TN, UNBATCHED_PROBS, W, WN, X, X0, XN};
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let t = TensorView::new(&T, &[3, 4]).unwrap();
    check_prob_cases(PROBS, &x, &t, &W);
    let x = TensorView::new(&XN, &[2, 3, 2, 2]).unwrap();
    let t = TensorView::new(&TN, &[2, 3, 2, 2]).unwrap();
    check_prob_cases(PROBS_ND, &x, &t, &WN);
    let x = TensorView::new(&X0, &[4]).unwrap();
    let t = TensorView::new(&T0, &[4]).unwrap();
    check_prob_cases(UNBATCHED_PROBS, &x, &t, &W);
}

/// The trap, both ways: `cross_entropy` takes logits and gives
/// torch's `F.cross_entropy`; `cross_entropy_from_probs` refuses logits.
#[test]
fn cross_entropy_takes_logits_and_from_probs_refuses_them() {
    use torch_values::{LOGITS_MEAN, LOGITS_NONE, XL, YL};
    let x = TensorView::new(&XL, &[2, 3]).unwrap();
    let y = TensorView::new(&YL, &[2]).unwrap();
    let mean = cross_entropy(&x, &y, &LossOptions::new()).unwrap();
    close(&[mean.item().unwrap()], &[LOGITS_MEAN], 1e-15);
    let none = LossOptions::new().reduction(Reduction::None);
    close(
        cross_entropy(&x, &y, &none).unwrap().as_slice(),
        &LOGITS_NONE,
        1e-15,
    );
    // Probabilities are accepted by the probability form.
    let probs = cross_entropy_from_probs(&x, &y, &none).unwrap();
    close(probs.as_slice(), &[-(0.1f64.ln()), -(0.5f64.ln())], 1e-15);

    // Logits: the picked value of row 0 is X[0, 3] = 2.
    let logits = TensorView::new(&X, &[3, 4]).unwrap();
    let labels = TensorView::new(&Y, &[3]).unwrap();
    let err = cross_entropy_from_probs(&logits, &labels, &LossOptions::new()).unwrap_err();
    match &err {
        GatherError::InvalidLossArgument { op, reason } => {
            assert_eq!(*op, "cross_entropy_from_probs");
            assert!(reason.contains("value 2 at label position [0]"), "{reason}");
            assert!(reason.contains("cross_entropy"), "{reason}");
        }
        other => panic!("expected InvalidLossArgument, got {other:?}"),
    }
    // A negative value, in an N-d input, is named by its full position.
    let p = [0.5f32, 0.5, 0.25, -0.25, 0.5, 0.5, 0.75, 1.25];
    let p = TensorView::new(&p, &[1, 2, 2, 2]).unwrap();
    let y = TensorView::new(&[0i64, 0, 1, 0], &[1, 2, 2]).unwrap();
    let err = cross_entropy_from_probs(&p, &y, &LossOptions::new()).unwrap_err();
    assert!(
        err.to_string()
            .contains("value -0.25 at label position [0, 1, 1]"),
        "{err}"
    );
    // The endpoints 0 and 1 are probabilities; NaN passes through.
    let p = [0.0f64, 1.0, f64::NAN, 0.0];
    let p = TensorView::new(&p, &[2, 2]).unwrap();
    let y = TensorView::new(&[1i64, 0], &[2]).unwrap();
    let l = cross_entropy_from_probs(&p, &y, &none).unwrap();
    assert_eq!(l.as_slice()[0], 0.0);
    assert!(l.as_slice()[1].is_nan());
}

/// `nll_loss` with a weight, on [N, C] and [N, C, d..] log-probabilities,
/// against the definition; `cross_entropy_from_probs` is `nll_loss` of `ln p`.
#[test]
fn weighted_nll_loss_matches_the_definition() {
    use torch_values::{ND, WN, XN, YN};
    // log_softmax over dim 1 of XN, naively.
    let mut lp = XN.to_vec();
    for n in 0..2 {
        for s in 0..4 {
            let at = |k: usize| n * 12 + k * 4 + s;
            let m = (0..3).map(|k| XN[at(k)]).fold(f64::NEG_INFINITY, f64::max);
            let lse = m + (0..3).map(|k| (XN[at(k)] - m).exp()).sum::<f64>().ln();
            for k in 0..3 {
                lp[at(k)] = XN[at(k)] - lse;
            }
        }
    }
    let x = TensorView::new(&lp, &[2, 3, 2, 2]).unwrap();
    let y = TensorView::new(&YN, &[2, 2, 2]).unwrap();
    let w = TensorView::new(&WN, &[3]).unwrap();
    // nll_loss of log_softmax is torch's unsmoothed cross-entropy.
    for case in ND.iter().filter(|c| c.smoothing == 0.0) {
        let opts = case_opts(case, &w);
        close(
            nll_loss(&x, &y, &opts).unwrap().as_slice(),
            case.loss,
            1e-12,
        );
        let p: Vec<f64> = lp.iter().map(|v| v.exp()).collect();
        let p = TensorView::new(&p, &[2, 3, 2, 2]).unwrap();
        close(
            cross_entropy_from_probs(&p, &y, &opts).unwrap().as_slice(),
            case.loss,
            1e-12,
        );
    }
}

/// Central differences of the summed loss agree with the analytic gradients
/// for weights, smoothing, N-d and unbatched inputs and probability targets.
#[test]
fn new_gradients_match_finite_differences() {
    let mut rng = Rng::new(0x13);
    let shapes: [&[usize]; 3] = [&[4, 5], &[2, 5, 3, 2], &[5]];
    for shape in shapes {
        let numel: usize = shape.iter().product();
        let c = shape[usize::from(shape.len() > 1)];
        let x = uniform_vec(&mut rng, numel, -2.0, 2.0);
        let w = uniform_vec(&mut rng, c, 0.1, 2.0);
        let w = TensorView::new(&w, &[c]).unwrap();
        let label_shape: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter(|&(d, _)| d != usize::from(shape.len() > 1))
            .map(|(_, &s)| s)
            .collect();
        let rows: usize = label_shape.iter().product();
        let labels: Vec<i64> = (0..rows)
            .map(|r| {
                if r % 4 == 1 && rows > 1 {
                    -100
                } else {
                    (r * 3 % c) as i64
                }
            })
            .collect();
        let y = TensorView::new(&labels, &label_shape).unwrap();
        let t: Vec<f64> = uniform_vec(&mut rng, numel, 0.0, 1.0);
        let t = TensorView::new(&t, shape).unwrap();
        let one = 1.0f64;
        let g = TensorView::scalar(&one);
        for eps in [0.0, 0.15] {
            for reduction in [Reduction::Mean, Reduction::Sum] {
                let opts = LossOptions::new()
                    .reduction(reduction)
                    .label_smoothing(eps)
                    .weight(&w);
                let xv = TensorView::new(&x, shape).unwrap();
                let by_labels = cross_entropy_backward(&xv, &y, &g, &opts).unwrap();
                let by_probs =
                    cross_entropy_with_probs_target_backward(&xv, &t, &g, &opts).unwrap();
                let h = 1e-6;
                for k in 0..numel {
                    let (mut up, mut down) = (x.clone(), x.clone());
                    up[k] += h;
                    down[k] -= h;
                    let up = TensorView::new(&up, shape).unwrap();
                    let down = TensorView::new(&down, shape).unwrap();
                    let numeric =
                        |f: &dyn Fn(&TensorView<'_, f64>) -> f64| (f(&up) - f(&down)) / (2.0 * h);
                    let lab = numeric(&|x| cross_entropy(x, &y, &opts).unwrap().item().unwrap());
                    let prob = numeric(&|x| {
                        cross_entropy_with_probs_target(x, &t, &opts)
                            .unwrap()
                            .item()
                            .unwrap()
                    });
                    let what = format!("{shape:?} ε={eps} {reduction:?} element {k}");
                    assert!((lab - by_labels.as_slice()[k]).abs() < 1e-7, "{what}");
                    assert!((prob - by_probs.as_slice()[k]).abs() < 1e-7, "{what}");
                }
            }
        }
    }
}

/// Every loss-argument error is an `InvalidLossArgument` naming the loss;
/// options that do not apply are `InvalidOption`; a bad label keeps torch's
/// facts, with its position in N-d labels.
#[test]
fn new_loss_errors() {
    let x = TensorView::new(&X, &[3, 4]).unwrap();
    let y = TensorView::new(&Y, &[3]).unwrap();
    let arg = |r: Result<Tensor<f64>, GatherError>, want: &str| match r {
        Err(GatherError::InvalidLossArgument { op, reason }) => {
            assert_eq!(op, want, "{reason}")
        }
        other => panic!("expected InvalidLossArgument from {want}, got {other:?}"),
    };
    let opts = LossOptions::new();
    // Labels of the wrong shape, for every form.
    let short = TensorView::new(&[0i64, 1], &[2]).unwrap();
    arg(cross_entropy(&x, &short, &opts), "cross_entropy");
    arg(nll_loss(&x, &short, &opts), "nll_loss");
    arg(
        cross_entropy_from_probs(&x, &short, &opts),
        "cross_entropy_from_probs",
    );
    let one = 1.0f64;
    let g = TensorView::scalar(&one);
    arg(
        cross_entropy_backward(&x, &short, &g, &opts),
        "cross_entropy_backward",
    );
    let column = TensorView::new(&Y, &[3, 1]).unwrap();
    arg(cross_entropy(&x, &column, &opts), "cross_entropy");
    // A 0-d input.
    arg(
        cross_entropy(&TensorView::scalar(&one), &TensorView::scalar(&0i64), &opts),
        "cross_entropy",
    );
    // A weight of the wrong length or rank.
    let w3 = TensorView::new(&[1.0f64, 2.0, 3.0], &[3]).unwrap();
    arg(
        cross_entropy(&x, &y, &opts.clone().weight(&w3)),
        "cross_entropy",
    );
    let w22 = TensorView::new(&[1.0f32; 4], &[2, 2]).unwrap();
    arg(nll_loss(&x, &y, &opts.clone().weight(&w22)), "nll_loss");
    let err = cross_entropy(&x, &y, &opts.clone().weight(&w3)).unwrap_err();
    assert!(err.to_string().contains("all 4 classes"), "{err}");
    // A probability target of the wrong shape.
    let t = TensorView::new(&X, &[4, 3]).unwrap();
    arg(
        cross_entropy_with_probs_target(&x, &t, &opts),
        "cross_entropy_with_probs_target",
    );
    // grad_output of the wrong shape.
    let gs = [1.0f64; 3];
    let g3 = TensorView::new(&gs, &[3]).unwrap();
    arg(
        cross_entropy_backward(&x, &y, &g3, &opts),
        "cross_entropy_backward",
    );
    let none = opts.clone().reduction(Reduction::None);
    arg(
        cross_entropy_backward(&x, &y, &g, &none),
        "cross_entropy_backward",
    );
    let t = TensorView::new(&X, &[3, 4]).unwrap();
    arg(
        cross_entropy_with_probs_target_backward(&x, &t, &g3, &opts),
        "cross_entropy_with_probs_target_backward",
    );
    // As torch: no ignore_index >= 0 with probability targets (a negative one is unused).
    let invalid_option = |r: Result<Tensor<f64>, GatherError>| {
        assert!(matches!(r, Err(GatherError::InvalidOption { .. })), "{r:?}")
    };
    invalid_option(cross_entropy_with_probs_target(
        &x,
        &t,
        &opts.clone().ignore_index(0),
    ));
    assert!(cross_entropy_with_probs_target(&x, &t, &opts.clone().ignore_index(-1)).is_ok());
    // No label smoothing where torch has none.
    let smooth = opts.clone().label_smoothing(0.1);
    invalid_option(nll_loss(&x, &y, &smooth));
    invalid_option(cross_entropy_from_probs(&x, &y, &smooth));
    // A bad label in N-d labels: its position there, the class dim 1.
    let xn = TensorView::new(&[0.0f64; 12], &[1, 3, 2, 2]).unwrap();
    let yn = TensorView::new(&[0i64, 2, 3, 1], &[1, 2, 2]).unwrap();
    assert_eq!(
        cross_entropy(&xn, &yn, &opts).unwrap_err(),
        GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![0, 1, 0],
            dim: 1,
            size: 3,
            wraps: false
        }
    );
    // Unbatched: a 0-d label, checked against dim 0.
    let x0 = TensorView::new(&[0.0f64; 3], &[3]).unwrap();
    let bad = 3i64;
    assert_eq!(
        cross_entropy(&x0, &TensorView::scalar(&bad), &opts).unwrap_err(),
        GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![],
            dim: 0,
            size: 3,
            wraps: false
        }
    );
}
