//! The loss module against torch's values (computed once with PyTorch 2.15,
//! float64, and written down here), against finite differences, and against
//! naive formulas; thread-count independence.

mod common;

use common::{index_vec, uniform_vec, Rng};
use fastgather::loss::{
    cross_entropy, cross_entropy_backward, cross_entropy_backward_into, cross_entropy_from_probs,
    log_softmax, nll_loss, LossOptions, Reduction,
};
use fastgather::{GatherError, TensorView, TensorViewMut};

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
    assert!(a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .all(|(p, q)| p.to_bits() == q.to_bits()));
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
            size: 4
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
