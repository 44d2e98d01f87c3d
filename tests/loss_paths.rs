//! The losses on every instruction-set path this CPU has: each path's row
//! kernels (and the gathers and scatters inside the losses) give the bits of
//! the default path, for contiguous and strided rows, `f32` and `f64`.

use fastgather::loss::{
    cross_entropy, cross_entropy_with_logits, cross_entropy_with_logits_backward, log_softmax,
    log_softmax_with, nll_loss, LossFloat, LossOptions, Reduction,
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

/// Every loss of `x` on every path, against the default path's bits.
fn every_path<F: LossFloat + From<f32> + Into<f64>>(x: &TensorView<'_, F>) {
    let n = x.shape()[0];
    let c = x.shape()[1] as i64;
    let labels: Vec<i64> = (0..n as i64)
        .map(|r| if r % 7 == 3 { -100 } else { r * 5 % c })
        .collect();
    let y = TensorView::new(&labels, &[n]).unwrap();
    let g = [1.5f32];
    let g: Vec<F> = g.iter().map(|&v| F::from(v)).collect();
    let g = TensorView::new(&g, &[]).unwrap();
    let probs = log_softmax(x).unwrap();
    let probs: Vec<F> = probs
        .as_slice()
        .iter()
        .map(|&v| F::from((v.into() as f32).exp()))
        .collect();
    let probs = TensorView::new(&probs, x.shape()).unwrap();
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let base = LossOptions::new().reduction(reduction).label_smoothing(0.1);
        let run = |opts: &LossOptions| {
            [
                bits(&cross_entropy_with_logits(x, &y, opts).unwrap()),
                bits(&cross_entropy_with_logits_backward(x, &y, &g, opts).unwrap()),
                bits(&log_softmax_with(x, opts).unwrap()),
                bits(&nll_loss(x, &y, opts).unwrap()),
                bits(&cross_entropy(&probs, &y, opts).unwrap()),
            ]
        };
        let want = run(&base);
        for isa in Isa::available() {
            assert_eq!(
                run(&base.clone().isa(isa)),
                want,
                "{isa:?} {reduction:?} {:?}",
                x.shape()
            );
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
