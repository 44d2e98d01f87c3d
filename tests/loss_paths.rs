//! The losses on every instruction-set path this CPU has: each path's row
//! kernels (and the gathers and scatters inside the losses) give the bits of
//! the default path, for contiguous and strided rows, `f32` and `f64`, with
//! and without a class weight, for `[N, C]`, `[N, C, d1, d2]` and unbatched
//! `[C]` inputs, with class-index and class-probability targets.

use fastgather::loss::{
    LossFloat, LossOptions, Reduction, cross_entropy, cross_entropy_backward,
    cross_entropy_from_probs, cross_entropy_with_probs_target,
    cross_entropy_with_probs_target_backward, log_softmax, log_softmax_with, nll_loss,
};
use fastgather::{Isa, Tensor, TensorView};

/// Logits with a spread of magnitudes, a NaN-free deterministic pattern.
fn logits<F: LossFloat + From<f32>>(n: usize, c: usize) -> Vec<F> {
    (0..n * c)
        .map(|i| F::from(((i * 37 % 101) as f32 - 50.0) * 0.37))
        .collect()
}

fn bits<F: LossFloat + Into<f64>>(t: &Tensor<F>) -> Vec<u64> {
    t.as_slice().iter().map(|&v| v.into().to_bits()).collect()
}

/// A class weight of `c` classes, none of them 1.
fn weight<F: LossFloat + From<f32>>(c: usize) -> Vec<F> {
    (0..c)
        .map(|k| F::from(0.25 + (k % 5) as f32 * 0.5))
        .collect()
}

/// `softmax` of `x` along its class dim, as a target or as probabilities.
fn softmax<F: LossFloat + From<f32> + Into<f64>>(x: &TensorView<'_, F>) -> Vec<F> {
    let class_dim = usize::from(x.rank() > 1);
    // Classes last, rows first: log_softmax of the [rows, C] copy.
    let mut dims: Vec<usize> = (0..x.rank()).filter(|&d| d != class_dim).collect();
    dims.push(class_dim);
    let c = x.shape()[class_dim];
    let moved = x.permute(&dims).unwrap().to_tensor();
    let rows = moved.len() / c.max(1);
    let ls = log_softmax(&moved.view().reshape(&[rows, c]).unwrap()).unwrap();
    let moved: Vec<F> = ls
        .as_slice()
        .iter()
        .map(|&v| F::from((v.into() as f32).exp()))
        .collect();
    // Back to x's layout (row-major of x's shape).
    let moved_shape: Vec<usize> = dims.iter().map(|&d| x.shape()[d]).collect();
    let mut inverse = vec![0; dims.len()];
    for (i, &d) in dims.iter().enumerate() {
        inverse[d] = i;
    }
    TensorView::new(&moved, &moved_shape)
        .unwrap()
        .permute(&inverse)
        .unwrap()
        .to_vec()
}

/// Labels of `x`'s rows (its shape without the class dim): some ignored.
fn labels_for<F>(x: &TensorView<'_, F>) -> (Vec<i64>, Vec<usize>) {
    let class_dim = usize::from(x.rank() > 1);
    let c = x.shape()[class_dim] as i64;
    let shape: Vec<usize> = (0..x.rank())
        .filter(|&d| d != class_dim)
        .map(|d| x.shape()[d])
        .collect();
    let n: usize = shape.iter().product();
    let labels = (0..n as i64)
        .map(|r| if r % 7 == 3 { -100 } else { r * 5 % c })
        .collect();
    (labels, shape)
}

/// Every loss of `x` on every path, against the default path's bits.
fn every_path<F: LossFloat + From<f32> + Into<f64>>(x: &TensorView<'_, F>) {
    let (labels, label_shape) = labels_for(x);
    let y = TensorView::new(&labels, &label_shape).unwrap();
    let class_dim = usize::from(x.rank() > 1);
    let w = weight::<F>(x.shape()[class_dim]);
    let w = TensorView::new(&w, &[w.len()]).unwrap();
    let g = [F::from(1.5f32)];
    let g = TensorView::new(&g, &[]).unwrap();
    let probs = softmax(x);
    let probs = TensorView::new(&probs, x.shape()).unwrap();
    for reduction in [Reduction::Mean, Reduction::Sum] {
        for weighted in [false, true] {
            let mut plain = LossOptions::new().reduction(reduction);
            if weighted {
                plain = plain.weight(&w);
            }
            let smooth = plain.clone().label_smoothing(0.1);
            let prob_opts = smooth.clone().no_ignore_index();
            let run = |isa: Option<Isa>| {
                let on = |o: &LossOptions| match isa {
                    Some(isa) => o.clone().isa(isa),
                    None => o.clone(),
                };
                let (plain, smooth, prob_opts) = (on(&plain), on(&smooth), on(&prob_opts));
                let mut out = vec![
                    bits(&cross_entropy(x, &y, &smooth).unwrap()),
                    bits(&cross_entropy(x, &y, &plain).unwrap()),
                    bits(&cross_entropy_backward(x, &y, &g, &smooth).unwrap()),
                    bits(&cross_entropy_backward(x, &y, &g, &plain).unwrap()),
                    bits(&nll_loss(x, &y, &plain).unwrap()),
                    bits(&cross_entropy_from_probs(&probs, &y, &plain).unwrap()),
                    bits(&cross_entropy_with_probs_target(x, &probs, &prob_opts).unwrap()),
                    bits(
                        &cross_entropy_with_probs_target_backward(x, &probs, &g, &prob_opts)
                            .unwrap(),
                    ),
                ];
                if x.rank() == 2 {
                    out.push(bits(&log_softmax_with(x, &plain).unwrap()));
                }
                out
            };
            let want = run(None);
            for isa in Isa::available() {
                assert_eq!(
                    run(Some(isa)),
                    want,
                    "{isa:?} {reduction:?} weighted {weighted} {:?}",
                    x.shape()
                );
            }
        }
    }
}

#[test]
fn every_path_gives_the_default_bits() {
    // Rows long enough for the vector bodies and their tails, and enough of
    // them to split across threads.
    for (n, c) in [(3, 5), (64, 77), (200, 1000)] {
        let data = logits::<f32>(n, c);
        let x = TensorView::new(&data, &[n, c]).unwrap();
        every_path(&x);
        let data = logits::<f64>(n, c);
        every_path(&TensorView::new(&data, &[n, c]).unwrap());
        // Strided rows: a transposed buffer.
        let t = logits::<f32>(c, n);
        let xt = TensorView::new(&t, &[c, n])
            .unwrap()
            .transpose(0, 1)
            .unwrap();
        every_path(&xt);
    }
}

#[test]
fn every_path_on_nd_and_unbatched_inputs() {
    // [N, C, d1, d2]: class rows at stride d1·d2.
    for (n, c, d1, d2) in [(2, 3, 2, 2), (3, 70, 4, 5), (4, 130, 8, 9)] {
        let data = logits::<f32>(n * d1, c * d2);
        let x = TensorView::new(&data, &[n, c, d1, d2]).unwrap();
        every_path(&x);
        let data = logits::<f64>(n * d1, c * d2);
        every_path(&TensorView::new(&data, &[n, c, d1, d2]).unwrap());
        // Classes adjacent in memory: a [N, d1, d2, C] buffer seen as [N, C, d1, d2].
        let data = logits::<f32>(n * d1, c * d2);
        let x = TensorView::new(&data, &[n, d1, d2, c])
            .unwrap()
            .permute(&[0, 3, 1, 2])
            .unwrap();
        every_path(&x);
    }
    for c in [1, 5, 77, 1000] {
        let data = logits::<f32>(1, c);
        every_path(&TensorView::new(&data, &[c]).unwrap());
        let data = logits::<f64>(1, c);
        every_path(&TensorView::new(&data, &[c]).unwrap());
    }
}
