//! fastgather against values recorded from torch 2.15 (`torch_values/scatter.rs`,
//! written by `torch_values/generate_scatter.py`): the tricky rules of
//! `scatter_reduce` and the indexing family. Where fastgather departs from
//! torch on purpose, the test asserts fastgather's documented behaviour and
//! says so.

#[path = "torch_values/scatter.rs"]
mod recorded;

use fastgather::{GatherError, IndexMode, Reduce, Reduction, Tensor, TensorView, reference};
use recorded::Case;
use std::fmt::Debug;

fn t<T: Copy>(v: &[T], shape: &[usize]) -> Tensor<T> {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

/// Equal bit for bit, except that any two NaNs are equal (torch's NaN
/// payloads are not part of its contract).
fn same<T: Reduce + Debug>(a: &[T], b: &[T], is_nan: impl Fn(T) -> bool) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(&x, &y)| {
            (is_nan(x) && is_nan(y)) || bytemuck::bytes_of(&x) == bytemuck::bytes_of(&y)
        })
}

/// Runs every recorded `scatter_reduce` case with elements `T` decoded from
/// the stored `B`, through fastgather (allocating and `_into`) and the
/// reference.
fn run_cases<B: Copy, T: Reduce + Debug>(
    cases: &[Case<B>],
    decode: impl Fn(B) -> T,
    is_nan: impl Fn(T) -> bool + Copy,
) -> usize {
    let mut ran = 0;
    for case in cases {
        let dec = |v: &[B]| v.iter().map(|&b| decode(b)).collect::<Vec<T>>();
        let x = t(&dec(case.input), case.shape);
        let src = t(&dec(case.src), case.index_shape);
        let idx = t(case.index, case.index_shape);
        let reduce: Reduction = case.reduce.parse().unwrap();
        let (xv, iv, sv) = (x.view(), idx.view(), src.view());
        let got = fastgather::scatter_reduce(&xv, case.dim, &iv, &sv, reduce, case.include_self);
        let oracle = reference::scatter_reduce(&xv, case.dim, &iv, &sv, reduce, case.include_self);
        let mut into = x.clone();
        let into_res = fastgather::scatter_reduce_into(
            &mut into.view_mut(),
            case.dim,
            &iv,
            &sv,
            reduce,
            case.include_self,
        );
        match case.out {
            Some(want) => {
                let want = dec(want);
                let got = got.unwrap_or_else(|e| panic!("{}: {e}", case.name));
                assert!(
                    same(got.as_slice(), &want, is_nan),
                    "{}: torch {want:?}, fastgather {:?}",
                    case.name,
                    got.as_slice()
                );
                into_res.unwrap();
                assert!(same(into.as_slice(), &want, is_nan), "{}: _into", case.name);
                let oracle = oracle.unwrap();
                assert!(
                    same(oracle.as_slice(), &want, is_nan),
                    "{}: torch {want:?}, reference {:?}",
                    case.name,
                    oracle.as_slice()
                );
            }
            None => assert!(got.is_err() && oracle.is_err(), "{}", case.name),
        }
        ran += 1;
    }
    ran
}

#[test]
fn scatter_reduce_f32_rules() {
    use recorded::CASES_U32;
    let n = run_cases(CASES_U32, f32::from_bits, f32::is_nan);
    assert_eq!(n, CASES_U32.len());
    assert!(n >= 15, "{n}");
}

#[test]
fn scatter_reduce_f64_rules() {
    assert_eq!(
        run_cases(recorded::CASES_U64, f64::from_bits, f64::is_nan),
        2
    );
}

#[test]
fn scatter_reduce_integer_rules() {
    // Means floor, sums, products and counts wrap, a count wrapped to zero
    // divides by one.
    assert_eq!(run_cases(recorded::CASES_I8, |v| v, |_| false), 1);
    assert_eq!(run_cases(recorded::CASES_U8, |v| v, |_| false), 1);
    assert_eq!(run_cases(recorded::CASES_I32, |v| v, |_| false), 2);
    assert_eq!(run_cases(recorded::CASES_I64, |v| v, |_| false), 1);
}

#[cfg(feature = "half")]
#[test]
fn scatter_reduce_halves_accumulate_in_f32() {
    use fastgather::half::{bf16, f16};
    let (f16s, bf16s): (Vec<_>, Vec<_>) = recorded::CASES_U16
        .iter()
        .partition(|c| c.name.starts_with("f16"));
    let own = |v: Vec<&Case<u16>>| {
        v.into_iter()
            .map(|c| Case { ..*c })
            .collect::<Vec<Case<u16>>>()
    };
    assert_eq!(run_cases(&own(f16s), f16::from_bits, f16::is_nan), 3);
    assert_eq!(run_cases(&own(bf16s), bf16::from_bits, bf16::is_nan), 3);
}

/// torch's names, `max` and `min` included; others refused.
#[test]
fn reduction_names_parse_as_torch_takes_them() {
    use recorded::*;
    for (name, takes) in [
        ("sum", REDUCE_NAME_SUM),
        ("prod", REDUCE_NAME_PROD),
        ("mean", REDUCE_NAME_MEAN),
        ("amax", REDUCE_NAME_AMAX),
        ("amin", REDUCE_NAME_AMIN),
        ("max", REDUCE_NAME_MAX),
        ("min", REDUCE_NAME_MIN),
        ("median", REDUCE_NAME_MEDIAN),
        ("add", REDUCE_NAME_ADD),
    ] {
        let parsed = name.parse::<Reduction>();
        assert_eq!(parsed.is_ok(), takes, "{name}: {parsed:?}");
        if let Err(e) = parsed {
            assert!(matches!(e, GatherError::InvalidReduction { .. }));
        }
    }
    assert_eq!("max".parse::<Reduction>().unwrap(), Reduction::Amax);
    assert_eq!("min".parse::<Reduction>().unwrap(), Reduction::Amin);
}

/// torch 2.15 sums halves in f32 for `scatter_add` (3000 ones: 3000 in f16,
/// 3008 in bf16).
#[cfg(feature = "half")]
#[test]
fn halves_scatter_add_3000_ones() {
    use fastgather::half::{bf16, f16};
    let idx = t(&vec![0i64; 3000], &[3000]);
    let ones = t(&[f16::ONE; 3000], &[3000]);
    let got = fastgather::scatter_add(&t(&[f16::ZERO], &[1]).view(), 0, &idx.view(), &ones.view());
    assert_eq!(
        got.unwrap().as_slice()[0].to_bits(),
        recorded::F16_SCATTER_ADD_3000[0]
    );
    let ones = t(&[bf16::ONE; 3000], &[3000]);
    let got = fastgather::scatter_add(&t(&[bf16::ZERO], &[1]).view(), 0, &idx.view(), &ones.view());
    assert_eq!(
        got.unwrap().as_slice()[0].to_bits(),
        recorded::BF16_SCATTER_ADD_3000[0]
    );
}

/// torch 2.15's `index_add` on a 1-d tensor and `put(accumulate=True)` on
/// halves round at every step (3000 f16 ones sum to 2048, bf16 ones to 256),
/// unlike its scatters; fastgather does the same.
#[cfg(feature = "half")]
#[test]

fn halves_index_add_and_put_3000_ones() {
    use fastgather::half::{bf16, f16};
    let idx = t(&vec![0i64; 3000], &[3000]);
    let ones = t(&[f16::ONE; 3000], &[3000]);
    let zero = t(&[f16::ZERO], &[1]);
    let got = fastgather::index_add(&zero.view(), 0, &idx.view(), &ones.view(), f16::ONE);
    assert_eq!(
        got.unwrap().as_slice()[0].to_bits(),
        recorded::F16_INDEX_ADD_3000[0]
    );
    let got = fastgather::put(&zero.view(), &idx.view(), &ones.view(), true);
    assert_eq!(
        got.unwrap().as_slice()[0].to_bits(),
        recorded::F16_PUT_ACC_3000[0]
    );
    let ones = t(&[bf16::ONE; 3000], &[3000]);
    let zero = t(&[bf16::ZERO], &[1]);
    let got = fastgather::index_add(&zero.view(), 0, &idx.view(), &ones.view(), bf16::ONE);
    assert_eq!(
        got.unwrap().as_slice()[0].to_bits(),
        recorded::BF16_INDEX_ADD_3000[0]
    );
    let got = fastgather::put(&zero.view(), &idx.view(), &ones.view(), true);
    assert_eq!(
        got.unwrap().as_slice()[0].to_bits(),
        recorded::BF16_PUT_ACC_3000[0]
    );
}

#[test]
fn index_add_alpha() {
    let x = t(&[1i64, 2, 3], &[3]);
    let i = t(&[0i64, 0, 2], &[3]);
    let s = t(&[5i64, 6, 7], &[3]);
    let got = fastgather::index_add(&x.view(), 0, &i.view(), &s.view(), -3).unwrap();
    assert_eq!(got.as_slice(), recorded::INDEX_ADD_INT_ALPHA);
    // A float alpha: rank 1 (two roundings) and rank 2 (one), as torch rounds
    // each; the recorded values tell them apart.
    assert_ne!(recorded::ALPHA_RANK1, recorded::ALPHA_RANK2);
    let f = |v: &[u32]| v.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>();
    let (a, s) = (f(recorded::ALPHA_SELF), f(recorded::ALPHA_SOURCE));
    let n = a.len();
    let idx: Vec<i64> = (0..n as i64).collect();
    let i = t(&idx, &[n]);
    for (shape, want) in [
        (vec![n], recorded::ALPHA_RANK1),
        (vec![n, 1], recorded::ALPHA_RANK2),
    ] {
        let (x, src) = (t(&a, &shape), t(&s, &shape));
        let got = fastgather::index_add(&x.view(), 0, &i.view(), &src.view(), 1.1f32).unwrap();
        let bits: Vec<u32> = got.as_slice().iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, want, "rank {}", shape.len());
        let oracle =
            reference::index_add(&x.view(), 0, &i.view(), &src.view(), 1.1, IndexMode::Error);
        let obits: Vec<u32> = oracle
            .unwrap()
            .as_slice()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(obits, want, "reference, rank {}", shape.len());
    }
}

fn f32s(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(b)).collect()
}

#[test]
fn index_fill_wraps_negatives() {
    let x = t(&[0.0f32; 6], &[2, 3]);
    let i = t(&[-1i64, 0], &[2]);
    let got = fastgather::index_fill(&x.view(), 1, &i.view(), 7.0).unwrap();
    assert_eq!(got.as_slice(), f32s(recorded::INDEX_FILL_WRAPS));
    // -4 is outside -3..3, as torch says.
    const { assert!(recorded::INDEX_FILL_MINUS_4_RAISES) };
    let bad = t(&[-4i64], &[1]);
    let err = fastgather::index_fill(&t(&[0.0f32; 3], &[3]).view(), 0, &bad.view(), 1.0);
    assert!(matches!(
        err,
        Err(GatherError::IndexOutOfBounds {
            value: -4,
            wraps: true,
            ..
        })
    ));
    // index_copy and index_add do not wrap, in torch as here.
    const { assert!(recorded::INDEX_COPY_MINUS_1_RAISES && recorded::INDEX_ADD_MINUS_1_RAISES) };
    let (x, one, m1) = (t(&[0.0f32; 3], &[3]), t(&[1.0f32], &[1]), t(&[-1i64], &[1]));
    let r = fastgather::index_copy(&x.view(), 0, &m1.view(), &one.view());
    assert!(matches!(
        r,
        Err(GatherError::IndexOutOfBounds {
            value: -1,
            wraps: false,
            ..
        })
    ));
    let r = fastgather::index_add(&x.view(), 0, &m1.view(), &one.view(), 1.0);
    assert!(matches!(
        r,
        Err(GatherError::IndexOutOfBounds {
            value: -1,
            wraps: false,
            ..
        })
    ));
}

#[test]
fn take_and_put_wrap_negatives() {
    let x: Vec<f32> = (0..6).map(|k| k as f32 * 10.0).collect();
    let x = t(&x, &[2, 3]);
    let i = t(&[-1i64, 0, -6, 5], &[2, 2]);
    let got = fastgather::take(&x.view(), &i.view()).unwrap();
    assert_eq!(got.shape(), &[2, 2]);
    assert_eq!(got.as_slice(), f32s(recorded::TAKE_WRAPS));
    let i = t(&[1i64, 2, -1], &[3]);
    let got = fastgather::take(&x.view().transpose(0, 1).unwrap(), &i.view()).unwrap();
    assert_eq!(got.as_slice(), f32s(recorded::TAKE_TRANSPOSED));
    const { assert!(recorded::TAKE_MINUS_7_RAISES) };
    let r = fastgather::take(&x.view(), &t(&[-7i64], &[1]).view());
    assert!(matches!(
        r,
        Err(GatherError::IndexOutOfBounds { value: -7, .. })
    ));
    let i = t(&[-1i64, 0, -6], &[3]);
    let s = t(&[1.0f32, 2.0, 3.0], &[3]);
    let got = fastgather::put(
        &t(&[0.0f32; 6], &[2, 3]).view(),
        &i.view(),
        &s.view(),
        false,
    );
    assert_eq!(got.unwrap().as_slice(), f32s(recorded::PUT_WRAPS));
}

#[test]
fn put_accumulates_duplicates() {
    let i = t(&[1i64, 1, -1, 1], &[4]);
    let s = t(&[1.0f32, 2.0, 3.0, 4.0], &[4]);
    let got = fastgather::put(&t(&[0.0f32; 4], &[4]).view(), &i.view(), &s.view(), true);
    assert_eq!(got.unwrap().as_slice(), f32s(recorded::PUT_ACC_DUPLICATES));
    let i = t(&[0i64, 0], &[2]);
    let s = t(&[3u8, 4], &[2]);
    let got = fastgather::put(&t(&[250u8], &[1]).view(), &i.view(), &s.view(), true);
    assert_eq!(got.unwrap().as_slice(), recorded::PUT_INT_ACC_WRAPS);
}

#[test]
fn index_reduce_on_ints() {
    let x = t(&[10i64, -3, 4, 4, 0, 0], &[3, 2]);
    let i = t(&[1i64, 1, 0, 1], &[4]);
    let s = t(&[-7i64, 1, 0, 2, 5, 5, 1, -8], &[4, 2]);
    for (r, inc, want) in [
        (Reduction::Mean, true, recorded::INDEX_REDUCE_MEAN_SELF),
        (Reduction::Mean, false, recorded::INDEX_REDUCE_MEAN_NO_SELF),
        (Reduction::Prod, false, recorded::INDEX_REDUCE_PROD_NO_SELF),
        (Reduction::Amin, false, recorded::INDEX_REDUCE_AMIN_NO_SELF),
    ] {
        let got = fastgather::index_reduce(&x.view(), 0, &i.view(), &s.view(), r, inc).unwrap();
        assert_eq!(got.as_slice(), want, "{r:?} include_self {inc}");
        let mut into = x.clone();
        fastgather::index_reduce_into(&mut into.view_mut(), 0, &i.view(), &s.view(), r, inc)
            .unwrap();
        assert_eq!(into.as_slice(), want, "{r:?} include_self {inc}, into");
    }
    const { assert!(recorded::INDEX_REDUCE_SUM_RAISES) };
    let r = fastgather::index_reduce(&x.view(), 0, &i.view(), &s.view(), Reduction::Sum, true);
    assert!(matches!(r, Err(GatherError::InvalidReduction { .. })));
}

/// torch 2.15's `take_along_dim` with a dim wraps every value modulo the size
/// (5 picks element 1 of 2); fastgather takes `-size..size` and reports the
/// rest (documented on `take_along_dim`).
#[test]
fn take_along_dim_bounds() {
    let x = t(&[1i64, 2], &[2]);
    assert_eq!(recorded::TAKE_ALONG_DIM_5_OF_2, &[2]);
    let r = fastgather::take_along_dim(&x.view(), &t(&[5i64], &[1]).view(), Some(0));
    assert!(
        matches!(r, Err(GatherError::IndexOutOfBounds { value: 5, .. })),
        "{r:?}"
    );
    // Where torch's modulo and the wrap agree, the values are torch's.
    let x2 = t(&[1i64, 2, 3, 4, 5, 6], &[2, 3]);
    let i = t(&[-1i64, 0], &[2, 1]);
    let got = fastgather::take_along_dim(&x2.view(), &i.view(), Some(1)).unwrap();
    assert_eq!(got.as_slice(), recorded::TAKE_ALONG_DIM_BROADCAST);
    // Without a dim, only 0..numel, as torch.
    const { assert!(recorded::TAKE_ALONG_DIM_FLAT_MINUS_1_RAISES) };
    let r = fastgather::take_along_dim(&x.view(), &t(&[-1i64], &[1]).view(), None);
    assert!(
        matches!(r, Err(GatherError::IndexOutOfBounds { value: -1, .. })),
        "{r:?}"
    );
}

/// torch refuses i32 indices for take, put, index_copy, index_fill and
/// take_along_dim; fastgather takes them (any `IndexElem`).
#[test]
fn i32_indices_are_accepted() {
    use recorded::*;
    const {
        assert!(
            TAKE_I32_RAISES
                && PUT_I32_RAISES
                && INDEX_COPY_I32_RAISES
                && INDEX_FILL_I32_RAISES
                && TAKE_ALONG_DIM_I32_RAISES
        )
    };
    let x = t(&[0.0f32; 3], &[3]);
    let (i, one) = (t(&[1i32], &[1]), t(&[1.0f32], &[1]));
    let (x, i, one) = (x.view(), i.view(), one.view());
    assert_eq!(fastgather::take(&x, &i).unwrap().as_slice(), &[0.0]);
    let want: &[f32] = &[0.0, 1.0, 0.0];
    assert_eq!(
        fastgather::put(&x, &i, &one, false).unwrap().as_slice(),
        want
    );
    assert_eq!(
        fastgather::index_copy(&x, 0, &i, &one).unwrap().as_slice(),
        want
    );
    assert_eq!(
        fastgather::index_fill(&x, 0, &i, 1.0).unwrap().as_slice(),
        want
    );
    let got = fastgather::take_along_dim(&x, &i, Some(0)).unwrap();
    assert_eq!(got.as_slice(), &[0.0]);
}

#[test]
fn zero_d_index_add_of_one_slice() {
    let x = t(&[1.0f32], &[]);
    let got = fastgather::index_add(
        &x.view(),
        0,
        &t(&[0i64], &[]).view(),
        &t(&[2.0f32], &[]).view(),
        1.0,
    );
    assert_eq!(
        got.unwrap().as_slice(),
        f32s(recorded::ZERO_D_INDEX_ADD_ONE)
    );
}

/// torch: "source tensor shape must match self tensor shape, excluding the
/// specified dimension. Got self.shape = [] source.shape = [2]".
#[test]

fn zero_d_index_add_refuses_two_slices() {
    const { assert!(recorded::ZERO_D_INDEX_ADD_TWO_RAISES) };
    let x = t(&[1.0f32], &[]);
    let two = t(&[0i64, 0], &[2]);
    let s = t(&[1.0f32, 2.0], &[2]);
    let r = fastgather::index_add(&x.view(), 0, &two.view(), &s.view(), 1.0);
    assert!(
        matches!(r, Err(GatherError::SliceShapeMismatch { .. })),
        "{r:?}"
    );
    let r = fastgather::index_reduce(&x.view(), 0, &two.view(), &s.view(), Reduction::Prod, true);
    assert!(
        matches!(r, Err(GatherError::SliceShapeMismatch { .. })),
        "{r:?}"
    );
}

/// torch checks every value of `index_fill`'s index on a 0-d self ("index 5
/// is out of bounds for dimension 0 with size 1").
#[test]

fn zero_d_index_fill_checks_every_value() {
    const { assert!(recorded::ZERO_D_INDEX_FILL_5_RAISES) };
    let x = t(&[5.0f32], &[]);
    let r = fastgather::index_fill(&x.view(), 0, &t(&[0i64, 5], &[2]).view(), 1.0);
    assert!(
        matches!(r, Err(GatherError::IndexOutOfBounds { value: 5, .. })),
        "{r:?}"
    );
}

/// torch: an empty index changes nothing, on a 0-d self too.
#[test]

fn zero_d_index_fill_empty_index() {
    let x = t(&[5.0f32], &[]);
    // The index's buffer holds a stale value past its (empty) view.
    let buf = [0i64];
    let empty = TensorView::with_strides(&buf, &[0], &[1], 0).unwrap();
    let got = fastgather::index_fill(&x.view(), 0, &empty, 1.0);
    assert_eq!(
        got.unwrap().as_slice(),
        f32s(recorded::ZERO_D_INDEX_FILL_EMPTY)
    );
    let none: [i64; 0] = [];
    let got = fastgather::index_fill(&x.view(), 0, &TensorView::new(&none, &[0]).unwrap(), 1.0);
    assert_eq!(
        got.unwrap().as_slice(),
        f32s(recorded::ZERO_D_INDEX_FILL_EMPTY)
    );
}

/// A bad value of a 1-d index on a 0-d self is named at its position in the
/// index (`[0]`), as on any other self.
#[test]

fn zero_d_index_op_names_the_index_position() {
    let x = t(&[5.0f32], &[]);
    let r = fastgather::index_fill(&x.view(), 0, &t(&[3i64], &[1]).view(), 1.0);
    assert!(
        matches!(&r, Err(GatherError::IndexOutOfBounds { position, .. }) if position == &[0]),
        "{r:?}"
    );
}
