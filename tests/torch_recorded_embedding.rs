//! fastgather against values recorded from torch 2.15 (`torch_values/embedding.rs`,
//! written by `torch_values/generate_embedding.py`): `embedding_bag` in every
//! mode and dtype, `segment_reduce`, and the gradients of `embedding` and
//! `embedding_bag`. Where fastgather departs from torch on purpose
//! (docs/SEMANTICS.md, "Where fastgather differs from torch on purpose"), the
//! test asserts fastgather's documented behaviour and says so.

#[path = "torch_values/embedding.rs"]
mod recorded;

use fastgather::{
    BagMode, Bags, GatherError, Reduce, Reduction, Segments, Tensor, TensorView,
    embedding_backward, embedding_bag, embedding_bag_backward, embedding_bag_into, segment_reduce,
};
use recorded::{BackwardCase, BagCase, EmbeddingBackwardCase, SegmentCase};
use std::fmt::Debug;

/// A recorded element type: its bits, NaN test and magnitude.
trait Elem: Reduce + Debug {
    type Bits: Copy + Debug;
    fn decode(b: Self::Bits) -> Self;
    fn is_nan(self) -> bool;
    fn to_f64(self) -> f64;
}

impl Elem for f32 {
    type Bits = u32;
    fn decode(b: u32) -> f32 {
        f32::from_bits(b)
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn to_f64(self) -> f64 {
        self.into()
    }
}

impl Elem for f64 {
    type Bits = u64;
    fn decode(b: u64) -> f64 {
        f64::from_bits(b)
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

#[cfg(feature = "half")]
impl Elem for half::f16 {
    type Bits = u16;
    fn decode(b: u16) -> Self {
        half::f16::from_bits(b)
    }
    fn is_nan(self) -> bool {
        half::f16::is_nan(self)
    }
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
}

#[cfg(feature = "half")]
impl Elem for half::bf16 {
    type Bits = u16;
    fn decode(b: u16) -> Self {
        half::bf16::from_bits(b)
    }
    fn is_nan(self) -> bool {
        half::bf16::is_nan(self)
    }
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
}

fn dec<T: Elem>(v: &[T::Bits]) -> Vec<T> {
    v.iter().map(|&b| T::decode(b)).collect()
}

/// Equal bit for bit, any NaN equal to any NaN (torch's payloads are not part
/// of its contract).
fn same<T: Elem>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(&x, &y)| {
            (x.is_nan() && y.is_nan()) || bytemuck::bytes_of(&x) == bytemuck::bytes_of(&y)
        })
}

/// Within `rel` of each other (relative to the larger magnitude, or absolute
/// near zero), NaNs together.
fn close<T: Elem>(a: &[T], b: &[T], rel: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(&x, &y)| {
            let (x, y) = (x.to_f64(), y.to_f64());
            (x.is_nan() && y.is_nan()) || (x - y).abs() <= rel * x.abs().max(y.abs()).max(1.0)
        })
}

fn view<'a, T>(v: &'a [T], shape: &[usize]) -> TensorView<'a, T> {
    TensorView::new(v, shape).unwrap()
}

/// What fastgather should do with a recorded forward case where it departs
/// from torch on purpose, if it does.
enum Expect {
    /// torch's result, bit for bit.
    Torch,
    /// An error of this kind, where torch returns a value or crashes.
    Refuse(&'static str),
    /// `B` zero rows, where torch raises "step must be nonzero".
    ZeroRows,
    /// torch's result, except where a NaN comes after another value in a max
    /// bag: fastgather's is NaN there too.
    NanWins,
}

fn expect_bag<B>(case: &BagCase<B>) -> Expect {
    let n = case.ids.len() as i64;
    if let Some(offs) = case.offsets {
        if offs.is_empty() && n > 0 {
            return Expect::Refuse("offsets");
        }
        if case.include_last_offset && offs.last().is_some_and(|&l| l != n) {
            return Expect::Refuse("offsets");
        }
    }
    if case.ids_shape.len() == 2 && case.ids_shape[1] == 0 {
        return Expect::ZeroRows;
    }
    if case.mode == "max" && case.name.contains("NaN") {
        return Expect::NanWins;
    }
    match case.error {
        Some(_) => Expect::Refuse("any"),
        None => Expect::Torch,
    }
}

fn error_kind(e: &GatherError) -> &'static str {
    match e {
        GatherError::IndexOutOfBounds { .. } => "id",
        GatherError::InvalidOffsets { .. } => "offsets",
        GatherError::InvalidEmbeddingArgument { .. } => "argument",
        _ => "other",
    }
}

fn run_bags<T: Elem>(cases: &[BagCase<T::Bits>]) -> usize {
    let mut ran = 0;
    for case in cases {
        let weight = dec::<T>(case.weight);
        let w = view(&weight, case.weight_shape);
        let ids = view(case.ids, case.ids_shape);
        let offsets = case.offsets.map(|o| o.to_vec());
        let offs = offsets.as_ref().map(|o| view(o, &[o.len()]));
        let mode: BagMode = case.mode.parse().unwrap();
        let mut bags = match &offs {
            Some(o) => Bags::with_offsets(&ids, o),
            None => Bags::fixed(&ids),
        }
        .mode(mode)
        .include_last_offset(case.include_last_offset);
        let psw = case.per_sample_weights.map(dec::<T>);
        let psw_view = psw.as_ref().map(|p| {
            // torch's shape error is a psw of another length: keep its own.
            if p.len() == case.ids.len() {
                view(p, case.ids_shape)
            } else {
                view(p, &[p.len()])
            }
        });
        if let Some(p) = &psw_view {
            bags = bags.per_sample_weights(p);
        }
        if let Some(p) = case.padding_idx {
            bags = bags.padding_idx(p);
        }
        let got = embedding_bag(&w, &bags);
        match expect_bag(case) {
            Expect::Torch => {
                let want = dec::<T>(case.out.unwrap());
                let got = got.unwrap_or_else(|e| panic!("{}: {e}", case.name));
                assert!(
                    same(got.as_slice(), &want),
                    "{}: torch {want:?}, fastgather {:?}",
                    case.name,
                    got.as_slice()
                );
                // `_into` a reused output gives the same.
                let mut into = Tensor::<T>::zeros(got.shape()).unwrap();
                embedding_bag_into(&w, &bags, &mut into.view_mut()).unwrap();
                assert!(same(into.as_slice(), &want), "{} (_into)", case.name);
            }
            Expect::NanWins => {
                let want = dec::<T>(case.out.unwrap());
                let got = got.unwrap_or_else(|e| panic!("{}: {e}", case.name));
                for (k, (&g, &t)) in got.as_slice().iter().zip(&want).enumerate() {
                    if !same(&[g], &[t]) {
                        assert!(
                            g.is_nan() && !t.is_nan(),
                            "{}: element {k}: torch {t:?}, fastgather {g:?}",
                            case.name
                        );
                    }
                }
            }
            Expect::ZeroRows => {
                let got = got.unwrap_or_else(|e| panic!("{}: {e}", case.name));
                assert_eq!(got.shape(), &[case.ids_shape[0], case.weight_shape[1]]);
                assert!(got.as_slice().iter().all(|x| x.to_f64() == 0.0));
            }
            Expect::Refuse(kind) => {
                let e = match got {
                    Err(e) => e,
                    Ok(v) => panic!(
                        "{}: torch says {:?}, fastgather returned {:?}",
                        case.name,
                        case.error,
                        v.as_slice()
                    ),
                };
                if kind != "any" {
                    assert_eq!(error_kind(&e), kind, "{}: {e}", case.name);
                }
                // torch's facts: an out-of-range id names its value.
                if let GatherError::IndexOutOfBounds { value, size, .. } = &e {
                    assert_eq!(*size, case.weight_shape[0], "{}", case.name);
                    assert!(case.ids.contains(&(*value as i64)), "{}", case.name);
                }
            }
        }
        ran += 1;
    }
    ran
}

#[test]
fn embedding_bag_f32() {
    assert!(run_bags::<f32>(recorded::BAGS_F32) > 50);
}

#[test]
fn embedding_bag_f64() {
    assert!(run_bags::<f64>(recorded::BAGS_F64) > 50);
}

#[cfg(feature = "half")]
#[test]
fn embedding_bag_f16() {
    assert!(run_bags::<half::f16>(recorded::BAGS_F16) > 30);
}

/// bf16 sums round half away from zero (FBGEMM's conversion), which the
/// recorded "tie" case pins.
#[cfg(feature = "half")]
#[test]
fn embedding_bag_bf16() {
    assert!(run_bags::<half::bf16>(recorded::BAGS_BF16) > 30);
    assert!(recorded::BAGS_BF16.iter().any(|c| c.name.contains("tie")));
}

fn run_segments<T: Elem>(cases: &[SegmentCase<T::Bits>]) -> usize {
    let mut ran = 0;
    for case in cases {
        let data = dec::<T>(case.data);
        let d = view(&data, case.data_shape);
        let lengths = case.lengths.to_vec();
        let offsets = case.offsets.map(|o| o.to_vec());
        let segments = match &offsets {
            Some(o) => Segments::Offsets(view(o, &[o.len()])),
            None => Segments::Lengths(view(&lengths, &[lengths.len()])),
        };
        let initial = case.initial.map(T::decode);
        let got = case
            .reduce
            .parse::<Reduction>()
            .and_then(|r| segment_reduce(&d, &segments, r, initial));
        match (case.out, got) {
            (Some(want), Ok(got)) => {
                let want = dec::<T>(want);
                assert!(
                    same(got.as_slice(), &want),
                    "{}: torch {want:?}, fastgather {:?}",
                    case.name,
                    got.as_slice()
                );
            }
            (None, Err(_)) => {}
            (want, got) => panic!(
                "{}: torch {want:?} ({:?}), fastgather {got:?}",
                case.name, case.error
            ),
        }
        ran += 1;
    }
    ran
}

#[test]
fn segment_reduce_f32() {
    assert!(run_segments::<f32>(recorded::SEGMENTS_F32) > 30);
}

#[test]
fn segment_reduce_f64() {
    assert!(run_segments::<f64>(recorded::SEGMENTS_F64) > 30);
}

fn run_backward<T: Elem>(cases: &[BackwardCase<T::Bits>], dot_rel: f64) -> usize {
    let mut ran = 0;
    for case in cases {
        let weight = dec::<T>(case.weight);
        let w = view(&weight, case.weight_shape);
        let ids = view(case.ids, case.ids_shape);
        let offsets = case.offsets.map(|o| o.to_vec());
        let offs = offsets.as_ref().map(|o| view(o, &[o.len()]));
        let mut bags = match &offs {
            Some(o) => Bags::with_offsets(&ids, o),
            None => Bags::fixed(&ids),
        }
        .mode(case.mode.parse().unwrap())
        .include_last_offset(case.include_last_offset);
        let psw = case.per_sample_weights.map(dec::<T>);
        let psw_view = psw.as_ref().map(|p| view(p, case.ids_shape));
        if let Some(p) = &psw_view {
            bags = bags.per_sample_weights(p);
        }
        if let Some(p) = case.padding_idx {
            bags = bags.padding_idx(p);
        }
        let grad_out = dec::<T>(case.grad_out);
        let bags_n = bags.count().unwrap();
        let g = view(&grad_out, &[bags_n, case.weight_shape[1]]);
        let got =
            embedding_bag_backward(&w, &bags, &g).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let want = dec::<T>(case.grad_weight);
        if case.mode == "max" && case.name.contains("NaN") {
            // fastgather's maximum is the NaN wherever one is in the bag, and
            // its gradient goes to that row (torch's to its first value
            // unless the NaN came first): only the totals agree.
            let total = |v: &[T]| v.iter().map(|x| x.to_f64()).sum::<f64>();
            let (a, b) = (total(got.weight.as_slice()), total(&want));
            assert!(
                (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                "{}: {a} vs {b}",
                case.name
            );
        } else if case.name.contains("unstable sort") {
            // torch adds an id's terms in the order of its unstable sort of the
            // ids (introsort above 16 repeats); fastgather in id order.
            assert!(close(got.weight.as_slice(), &want, 1e-5), "{}", case.name);
        } else {
            assert!(
                same(got.weight.as_slice(), &want),
                "{}: torch {want:?}, fastgather {:?}",
                case.name,
                got.weight.as_slice()
            );
        }
        match (case.grad_per_sample_weights, &got.per_sample_weights) {
            (Some(want), Some(got_s)) => {
                // torch's dot product follows its BLAS's order; fastgather sums
                // the columns in order.
                let want = dec::<T>(want);
                assert!(
                    close(got_s.as_slice(), &want, dot_rel),
                    "{}: psw grads",
                    case.name
                );
            }
            (None, None) => {}
            (want, got_s) => panic!("{}: torch {want:?}, fastgather {got_s:?}", case.name),
        }
        ran += 1;
    }
    ran
}

#[test]
fn embedding_bag_backward_f32() {
    assert!(run_backward::<f32>(recorded::BACKWARD_F32, 1e-5) > 5);
}

#[test]
fn embedding_bag_backward_f64() {
    assert!(run_backward::<f64>(recorded::BACKWARD_F64, 1e-13) > 5);
}

fn run_embedding_backward<T: Elem>(cases: &[EmbeddingBackwardCase<T::Bits>]) -> usize {
    for case in cases {
        let grad = dec::<T>(case.grad_out);
        let mut shape = case.ids_shape.to_vec();
        shape.push(case.d);
        let ids = view(case.ids, case.ids_shape);
        let got = embedding_backward(
            &view(&grad, &shape),
            &ids,
            case.num_weights,
            case.padding_idx,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let want = dec::<T>(case.grad_weight);
        assert!(
            same(got.as_slice(), &want),
            "{}: torch {want:?}, fastgather {:?}",
            case.name,
            got.as_slice()
        );
    }
    cases.len()
}

#[test]
fn embedding_backward_f32() {
    assert!(run_embedding_backward::<f32>(recorded::EMB_BACKWARD_F32) > 0);
}

#[test]
fn embedding_backward_f64() {
    assert!(run_embedding_backward::<f64>(recorded::EMB_BACKWARD_F64) > 0);
}
