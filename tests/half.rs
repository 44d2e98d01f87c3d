//! The `half` feature: `f16` and `bf16` as elements of every op, copied bit for
//! bit on every instruction-set path; `scatter_add` summing in f32 and
//! rounding once per element (torch 2.15); the losses computing in f32 and rounding once.

use fastgather::half::{bf16, f16};
use fastgather::loss::{LossOptions, Reduction, cross_entropy, log_softmax};
use fastgather::{
    GatherOptions, Isa, Tensor, TensorView, gather, gather_with, index_select, reference, scatter,
    scatter_add, take_along_axis,
};

fn f16s(v: &[f32]) -> Vec<f16> {
    v.iter().map(|&x| f16::from_f32(x)).collect()
}

/// Every 16-bit pattern, NaNs and signed zeros included, survives a gather on
/// every path, along every layout class the shapes below reach.
#[test]
fn every_f16_bit_pattern_survives_every_path() {
    let bits: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
    let src = TensorView::new(&bits, &[256, 256]).unwrap();
    let idx: Vec<i64> = (0..256 * 256)
        .map(|i| ((i * 97 + 13) % 256) as i64)
        .collect();
    let idx = TensorView::new(&idx, &[256, 256]).unwrap();
    let want = reference::gather(&src, 1, &idx).unwrap();
    for isa in Isa::available() {
        for dim in [0, 1] {
            let opts = GatherOptions::new().isa(isa);
            let got = gather_with(&src, dim, &idx, &opts).unwrap();
            let want = if dim == 1 {
                want.clone()
            } else {
                reference::gather(&src, 0, &idx).unwrap()
            };
            let same = got
                .as_slice()
                .iter()
                .zip(want.as_slice())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{isa:?} dim {dim} changed some bits");
        }
    }
    // Transposed source: the general kernel.
    let t = src.transpose(0, 1).unwrap();
    let got = gather(&t, 1, &idx).unwrap();
    let want = reference::gather(&t, 1, &idx).unwrap();
    assert!(
        got.as_slice()
            .iter()
            .zip(want.as_slice())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn bf16_index_select_take_along_axis_and_scatter() {
    let vals: Vec<bf16> = (0..12).map(|i| bf16::from_f32(i as f32 * 0.5)).collect();
    let x = TensorView::new(&vals, &[3, 4]).unwrap();
    let rows = index_select(&x, 0, &TensorView::new(&[2i32, 0], &[2]).unwrap()).unwrap();
    assert_eq!(rows.as_slice()[..4], vals[8..12]);
    assert_eq!(rows.as_slice()[4..], vals[..4]);

    let last = take_along_axis(&x, &TensorView::new(&[-1i64], &[1, 1]).unwrap(), 1).unwrap();
    assert_eq!(last.as_slice(), &[vals[3], vals[7], vals[11]]);

    let zeros = Tensor::full(&[4], bf16::ZERO).unwrap();
    let idx = TensorView::new(&[3i64, 1], &[2]).unwrap();
    let src = TensorView::new(&[bf16::ONE, bf16::NEG_ONE], &[2]).unwrap();
    let out = scatter(&zeros.view(), 0, &idx, &src).unwrap();
    assert_eq!(
        out.as_slice(),
        &[bf16::ZERO, bf16::NEG_ONE, bf16::ZERO, bf16::ONE]
    );
}

/// torch 2.15's half `scatter_add_` sums in f32 and rounds once per element:
/// 2048 + 1 + 1 in f16 is 2050 (recorded: `torch.tensor([2048.], dtype=torch.half)
/// .scatter_add(0, tensor([0, 0]), tensor([1., 1.], dtype=torch.half))`), where
/// rounding after every addition would stay at 2048 (2049 ties to even).
#[test]
fn f16_scatter_add_rounds_once() {
    let base = Tensor::from_vec(f16s(&[2048.0]), &[1]).unwrap();
    let idx = TensorView::new(&[0i64, 0], &[2]).unwrap();
    let ones = f16s(&[1.0, 1.0]);
    let ones = TensorView::new(&ones, &[2]).unwrap();
    let out = scatter_add(&base.view(), 0, &idx, &ones).unwrap();
    assert_eq!(out.as_slice(), &[f16::from_f32(2050.0)]);
    // One step at a time, `Accumulate` itself rounds.
    use fastgather::Accumulate;
    let stepwise = f16::from_f32(2048.0)
        .accumulate(f16::ONE)
        .accumulate(f16::ONE);
    assert_eq!(stepwise, f16::from_f32(2048.0));

    // Exact sums stay exact, in row-major order of the index.
    let zeros = Tensor::full(&[2, 2], f16::ZERO).unwrap();
    let idx = TensorView::new(&[1i64, 1, 0, 1], &[2, 2]).unwrap();
    let vals = f16s(&[0.5, 0.25, 1.5, 2.0]);
    let vals = TensorView::new(&vals, &[2, 2]).unwrap();
    let out = scatter_add(&zeros.view(), 1, &idx, &vals).unwrap();
    assert_eq!(out.as_slice(), f16s(&[0.0, 0.75, 1.5, 2.0]).as_slice());
}

#[test]
fn half_losses_round_once_from_f32() {
    let logits32 = [2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0];
    let labels = TensorView::new(&[0i64, 2], &[2]).unwrap();
    let opts = LossOptions::new().reduction(Reduction::None);
    let want = cross_entropy(
        &TensorView::new(&logits32, &[2, 3]).unwrap(),
        &labels,
        &opts,
    )
    .unwrap();

    let h = f16s(&logits32);
    let got = cross_entropy(&TensorView::new(&h, &[2, 3]).unwrap(), &labels, &opts).unwrap();
    for (g, w) in got.as_slice().iter().zip(want.as_slice()) {
        assert_eq!(
            *g,
            f16::from_f32(*w),
            "f16 loss is the f32 loss rounded once"
        );
    }

    let b: Vec<bf16> = logits32.iter().map(|&x| bf16::from_f32(x)).collect();
    let ls = log_softmax(&TensorView::new(&b, &[2, 3]).unwrap()).unwrap();
    let ls32 = log_softmax(&TensorView::new(&logits32, &[2, 3]).unwrap()).unwrap();
    for (g, w) in ls.as_slice().iter().zip(ls32.as_slice()) {
        assert_eq!(*g, bf16::from_f32(*w));
    }
}

/// torch 2.15's `index_add_` on halves: summed in f32 on rank 2 (recorded:
/// `torch.zeros(1, 4, dtype=torch.half).index_add(0, zeros(3000, long),
/// ones(3000, 4, dtype=torch.half))` is 3000, bf16 3008), every step rounded
/// on rank 1 (2048, bf16 256; tests/torch_recorded_scatter.rs).
#[test]
fn half_index_add_on_rank_2_sums_in_f32() {
    let idx = vec![0i64; 3000];
    let idx = TensorView::new(&idx, &[3000]).unwrap();
    let zero = Tensor::full(&[1, 4], f16::ZERO).unwrap();
    let ones = vec![f16::ONE; 12000];
    let ones = TensorView::new(&ones, &[3000, 4]).unwrap();
    let out = fastgather::index_add(&zero.view(), 0, &idx, &ones, f16::ONE).unwrap();
    assert!(out.as_slice().iter().all(|&x| x == f16::from_f32(3000.0)));
    let zero = Tensor::full(&[1, 4], bf16::ZERO).unwrap();
    let ones = vec![bf16::ONE; 12000];
    let ones = TensorView::new(&ones, &[3000, 4]).unwrap();
    let out = fastgather::index_add(&zero.view(), 0, &idx, &ones, bf16::ONE).unwrap();
    assert!(out.as_slice().iter().all(|&x| x == bf16::from_f32(3008.0)));
}
