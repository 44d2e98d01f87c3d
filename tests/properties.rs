//! Property tests: random ranks, shapes, dims, layouts, index values, element
//! widths and index types, each call compared with the reference bit for bit
//! (or by its error); results independent of layout and of threading.

mod common;

use common::{
    Rng, STYLES, Style, TestElem, assert_bits, assert_same_result, check_all, check_into,
    random_index, random_out, random_src,
};
use fastgather::{
    GatherOptions, IndexElem, Isa, Tensor, gather, gather_into, gather_into_with, gather_with,
};
use proptest::collection::vec;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// A random gather: shapes, dim, a style per operand, how often an index value
/// is out of range (0: never) and a seed for the values and layouts.
#[derive(Clone, Debug)]
struct Case {
    src_shape: Vec<usize>,
    index_shape: Vec<usize>,
    dim: isize,
    src_style: Style,
    index_style: Style,
    out_style: Style,
    bad_one_in: usize,
    seed: u64,
}

impl Case {
    /// The size index values must stay under (3 where the dim is invalid).
    fn bound(&self) -> usize {
        let r = self.src_shape.len().max(1) as isize;
        if self.dim < -r || self.dim >= r {
            return 3;
        }
        let d = self.dim.rem_euclid(r) as usize;
        self.src_shape.get(d).copied().unwrap_or(1)
    }
}

/// Mostly 0..=5, occasionally larger.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0usize..=5, 1 => 6usize..=24]
}

fn style() -> impl Strategy<Value = Style> {
    prop::sample::select(STYLES.to_vec())
}

/// How the index rank relates to the source rank.
#[derive(Clone, Copy, Debug)]
enum RankRel {
    Same,
    /// 0-d <-> 1-d, valid both ways.
    Swap01,
    /// One rank less where that is a mismatch (1-d keeps to 0-d: valid).
    Less,
    /// One rank more, or two for a 0-d source (a mismatch either way).
    More,
}

const MAX_ELEMS: usize = 20_000;

fn cap(shape: &mut [usize]) {
    while shape.iter().product::<usize>() > MAX_ELEMS {
        let big = shape.iter_mut().max().expect("non-empty when over the cap");
        *big = (*big / 2).min(5);
    }
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..=5)
        .prop_flat_map(|rank| {
            let r = rank.max(1) as isize;
            let dim = prop_oneof![10 => -r..r, 1 => -r - 2..=r + 1];
            let rel = prop_oneof![
                20 => Just(RankRel::Same),
                4 => Just(RankRel::Swap01),
                1 => Just(RankRel::Less),
                1 => Just(RankRel::More),
            ];
            let bad = prop_oneof![6 => Just(0usize), 3 => 2usize..200, 1 => Just(1usize)];
            (
                vec(size(), rank),
                vec((0u8..16, 0usize..=7), rank + 2),
                rel,
                dim,
                (style(), style(), style()),
                bad,
                any::<u64>(),
            )
        })
        .prop_map(
            |(mut src_shape, axes, rel, dim, styles, bad_one_in, seed)| {
                cap(&mut src_shape);
                let rank = src_shape.len();
                let index_rank = match rel {
                    RankRel::Same => rank,
                    RankRel::Swap01 if rank <= 1 => 1 - rank,
                    RankRel::Swap01 => rank,
                    RankRel::Less => rank.saturating_sub(1 + usize::from(rank == 1)),
                    RankRel::More => rank + 1 + usize::from(rank == 0),
                };
                let r = rank.max(1) as isize;
                let d = (dim >= -r && dim < r).then(|| dim.rem_euclid(r) as usize);
                let mut index_shape: Vec<usize> = axes
                    .iter()
                    .take(index_rank)
                    .enumerate()
                    .map(|(k, &(how, n))| {
                        let s =
                            src_shape
                                .get(k)
                                .copied()
                                .unwrap_or(if rank == 0 { 1 } else { n % 4 });
                        if Some(k) == d {
                            n
                        } else {
                            match how {
                                0 => s + 1,
                                1..=6 => s,
                                _ => n % (s + 1),
                            }
                        }
                    })
                    .collect();
                cap(&mut index_shape);
                Case {
                    src_shape,
                    index_shape,
                    dim,
                    src_style: styles.0,
                    index_style: styles.1,
                    out_style: styles.2,
                    bad_one_in,
                    seed,
                }
            },
        )
}

/// Calls `$f::<T, I>($args)` for element type number `$e` and index type number `$i`.
macro_rules! dispatch {
    ($e:expr, $i:expr, $f:ident($($arg:expr),*)) => {
        match $e % 12 {
            0 => dispatch!(@index u8, $i, $f($($arg),*)),
            1 => dispatch!(@index bool, $i, $f($($arg),*)),
            2 => dispatch!(@index u16, $i, $f($($arg),*)),
            3 => dispatch!(@index f32, $i, $f($($arg),*)),
            4 => dispatch!(@index f64, $i, $f($($arg),*)),
            5 => dispatch!(@index u128, $i, $f($($arg),*)),
            6 => dispatch!(@index [u64; 2], $i, $f($($arg),*)),
            7 => dispatch!(@index [u8; 3], $i, $f($($arg),*)),
            8 => dispatch!(@index [u8; 12], $i, $f($($arg),*)),
            9 => dispatch!(@index (), $i, $f($($arg),*)),
            10 => dispatch!(@index i32, $i, $f($($arg),*)),
            _ => dispatch!(@index [u16; 3], $i, $f($($arg),*)),
        }
    };
    (@index $t:ty, $i:expr, $f:ident($($arg:expr),*)) => {
        match $i % 5 {
            0 => $f::<$t, i64>($($arg),*),
            1 => $f::<$t, i32>($($arg),*),
            2 => $f::<$t, u32>($($arg),*),
            3 => $f::<$t, u64>($($arg),*),
            _ => $f::<$t, usize>($($arg),*),
        }
    };
}

// ---------------------------------------------------------------------------
// Property bodies
// ---------------------------------------------------------------------------

/// Every entry point equals the reference, and `gather_into` through the
/// case's own out layout too.
fn matches_reference<T: TestElem, I: IndexElem>(case: &Case) {
    let mut rng = Rng::new(case.seed);
    let src = random_src::<T>(&mut rng, &case.src_shape, case.src_style);
    let index = random_index::<I>(
        &mut rng,
        &case.index_shape,
        case.index_style,
        case.bound(),
        case.bad_one_in,
    );
    let (sv, iv) = (src.view(), index.view());
    let want = check_all(&mut rng, &sv, case.dim, &iv);
    let mut out = random_out::<T>(&mut rng, &case.index_shape, case.out_style);
    check_into(&want, &sv, case.dim, &iv, &mut out, None, "case out layout");
}

/// A strided call equals the same call on contiguous copies, bit for bit, for
/// the allocating and the writing variants.
fn layout_independent<T: TestElem, I: IndexElem>(case: &Case) {
    let mut rng = Rng::new(case.seed);
    let src = random_src::<T>(&mut rng, &case.src_shape, case.src_style);
    let index = random_index::<I>(
        &mut rng,
        &case.index_shape,
        case.index_style,
        case.bound(),
        case.bad_one_in,
    );
    let (sv, iv) = (src.view(), index.view());
    let (sc, ic) = (sv.to_tensor(), iv.to_tensor());
    let strided = gather(&sv, case.dim, &iv);
    let contiguous = gather(&sc.view(), case.dim, &ic.view());
    assert_same_result(&contiguous, &strided, "strided vs contiguous copies");
    if let Ok(want) = &contiguous {
        let mut out = random_out::<T>(&mut rng, &case.index_shape, case.out_style);
        let mut view = out.view_mut();
        gather_into(&sv, case.dim, &iv, &mut view).unwrap();
        assert_bits(
            want.as_slice(),
            &out.view().to_vec(),
            "gather_into strided out",
        );
        let mut fresh =
            Tensor::from_vec(common::random_vec::<T>(&mut rng, want.len()), want.shape()).unwrap();
        gather_into(&sc.view(), case.dim, &ic.view(), &mut fresh.view_mut()).unwrap();
        assert_bits(want.as_slice(), fresh.as_slice(), "gather_into contiguous");
    }
}

/// A problem large enough to be split across threads.
#[derive(Clone, Debug)]
struct BigCase {
    src_shape: Vec<usize>,
    index_shape: Vec<usize>,
    dim: isize,
    src_style: Style,
    index_style: Style,
    out_style: Style,
    bad_at: Option<u64>,
    seed: u64,
}

fn big_case() -> impl Strategy<Value = BigCase> {
    let two_d = (500usize..4000, 16usize..80).prop_map(|(a, b)| vec![a, b]);
    let three_d = (2usize..4, 200usize..1500, 8usize..48).prop_map(|(a, b, c)| vec![a, b, c]);
    // Few rows and a long inner axis: the work is split along the inner axis.
    let wide = (1usize..6, 20_000usize..80_000).prop_map(|(a, b)| vec![a, b]);
    let one_d = (30_000usize..200_000).prop_map(|n| vec![n]);
    (
        prop_oneof![3 => two_d, 2 => three_d, 2 => wide, 1 => one_d],
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        (style(), style(), style()),
        prop::option::weighted(0.3, any::<u64>()),
        any::<u64>(),
    )
        .prop_map(|(src_shape, dim_pick, shrink_pick, styles, bad_at, seed)| {
            let rank = src_shape.len();
            let d = dim_pick.index(rank);
            let mut index_shape = src_shape.clone();
            // Along dim anything goes; elsewhere at most the source's size.
            index_shape[d] = 1 + src_shape[d] / 2 + shrink_pick.index(src_shape[d]);
            let k = shrink_pick.index(rank);
            if k != d {
                index_shape[k] -= shrink_pick.index(index_shape[k]);
            }
            let dim = if seed % 2 == 0 {
                d as isize
            } else {
                d as isize - rank as isize
            };
            BigCase {
                src_shape,
                index_shape,
                dim,
                src_style: styles.0,
                index_style: styles.1,
                out_style: styles.2,
                bad_at,
                seed,
            }
        })
}

/// Sequential and parallel runs, on every instruction-set path, agree bit for
/// bit (a bad value, when planted, gives the same error everywhere).
fn threads_agree<T: TestElem, I: IndexElem>(case: &BigCase) {
    let mut rng = Rng::new(case.seed);
    let src = random_src::<T>(&mut rng, &case.src_shape, case.src_style);
    let d = case.dim.rem_euclid(case.src_shape.len() as isize) as usize;
    let mut index = random_index::<I>(
        &mut rng,
        &case.index_shape,
        case.index_style,
        case.src_shape[d],
        0,
    );
    if let Some(at) = case.bad_at {
        let offsets = index.layout.offsets();
        let off = offsets[(at % offsets.len() as u64) as usize];
        index.buf[off] = I::from_i64_wrapping(common::bad_index_value(&mut rng, case.src_shape[d]));
    }
    let (sv, iv) = (src.view(), index.view());
    let seq = gather_with(&sv, case.dim, &iv, &GatherOptions::new().sequential());
    let par = gather(&sv, case.dim, &iv);
    assert_same_result(&seq, &par, "default vs sequential");
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        assert_same_result(
            &seq,
            &gather_with(&sv, case.dim, &iv, &opts),
            &format!("{isa:?}"),
        );
        let s = gather_with(&sv, case.dim, &iv, &opts.sequential());
        assert_same_result(&seq, &s, &format!("{isa:?} sequential"));
    }
    for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
        let mut out = random_out::<T>(&mut rng, &case.index_shape, case.out_style);
        let before = out.view().to_vec();
        let res = gather_into_with(&sv, case.dim, &iv, &mut out.view_mut(), &opts);
        match (&seq, res) {
            (Ok(want), Ok(())) => assert_bits(want.as_slice(), &out.view().to_vec(), "gather_into"),
            (Err(want), Err(got)) => {
                assert_eq!(want, &got, "gather_into error");
                common::assert_out_contract(
                    &got,
                    &sv,
                    case.dim,
                    &iv,
                    &before,
                    &out.view().to_vec(),
                    "big",
                );
            }
            (want, got) => panic!("gather_into: expected {want:?}, got {got:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(1024), ..ProptestConfig::default() })]

    /// Every element width and index type, every layout, against the reference.
    #[test]
    fn every_type_matches_reference(case in case(), elem in 0u8..12, index_type in 0u8..5) {
        dispatch!(elem, index_type, matches_reference(&case));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(256), ..ProptestConfig::default() })]

    /// The common dtype pair, with more cases of its own.
    #[test]
    fn f32_i64_matches_reference(case in case()) {
        matches_reference::<f32, i64>(&case);
    }

    /// One style for all three operands, so their strides line up (and any
    /// wrong axis merge shows).
    #[test]
    fn shared_layout_matches_reference(
        case in case(),
        shared in prop_oneof![2 => Just(Style::Padded), 1 => style()],
        elem in 0u8..12,
        index_type in 0u8..5,
    ) {
        let mut case = case;
        case.src_style = shared;
        case.index_style = shared;
        case.out_style = if shared == Style::Expanded { Style::Padded } else { shared };
        dispatch!(elem, index_type, matches_reference(&case));
    }

    /// Narrow index values: i32 and u32 with one-byte and sixteen-byte elements.
    #[test]
    fn narrow_index_matches_reference(case in case(), elem in prop::sample::select(vec![0u8, 5, 7]), index_type in 1u8..3) {
        dispatch!(elem, index_type, matches_reference(&case));
    }

    /// Floats with NaN payloads, signalling NaNs and -0.0: layout never changes a bit.
    #[test]
    fn floats_are_layout_independent(case in case(), wide in any::<bool>(), index_type in 0u8..5) {
        dispatch!(if wide { 4 } else { 3 }, index_type, layout_independent(&case));
    }

    /// Every other type: layout never changes a bit.
    #[test]
    fn every_type_is_layout_independent(case in case(), elem in 0u8..12, index_type in 0u8..5) {
        dispatch!(elem, index_type, layout_independent(&case));
    }

    /// Default (parallel when large) and sequential runs agree, with rayon's
    /// global pool.
    #[test]
    fn threads_do_not_change_results(case in big_case(), elem in prop::sample::select(vec![0u8, 3, 4, 5, 7, 9]), index_type in 0u8..5) {
        dispatch!(elem, index_type, threads_agree(&case));
    }
}

#[cfg(feature = "rayon")]
proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(256), ..ProptestConfig::default() })]

    /// The same inside a 3-thread pool (rayon is a default-on dependency of
    /// the crate, so integration tests can name it when the feature is on).
    #[test]
    fn threads_do_not_change_results_in_a_3_thread_pool(case in big_case(), elem in prop::sample::select(vec![3u8, 4, 0]), index_type in 0u8..5) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        pool.install(|| {
            assert_eq!(rayon::current_num_threads(), 3);
            dispatch!(elem, index_type, threads_agree(&case));
        });
    }
}

/// The strategy makes what it promises: a sanity check on its output.
#[test]
fn strategy_covers_the_space() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let (mut ranks, mut bad_dims, mut mismatched_ranks, mut empties) = ([0usize; 6], 0, 0, 0);
    for _ in 0..2000 {
        let c = strategy.new_tree(&mut runner).unwrap().current();
        ranks[c.src_shape.len()] += 1;
        let r = c.src_shape.len().max(1) as isize;
        bad_dims += usize::from(c.dim < -r || c.dim >= r);
        mismatched_ranks += usize::from(c.index_shape.len().max(1) != c.src_shape.len().max(1));
        empties += usize::from(c.index_shape.contains(&0));
        assert!(c.src_shape.iter().product::<usize>() <= MAX_ELEMS);
        assert!(c.index_shape.iter().product::<usize>() <= MAX_ELEMS);
    }
    assert!(ranks.iter().all(|&n| n > 100), "{ranks:?}");
    assert!(
        bad_dims > 20 && mismatched_ranks > 20 && empties > 100,
        "{bad_dims} {mismatched_ranks} {empties}"
    );
}
