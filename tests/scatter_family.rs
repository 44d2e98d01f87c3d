//! Differential tests of the scatter family and torch's indexing operations
//! (`scatter`, `scatter_add`, `scatter_value`, `scatter_reduce`, `index_add`,
//! `index_copy`, `index_fill`, `index_reduce`, `take`, `put`,
//! `take_along_dim`, `put_along_axis`) against `fastgather::reference`:
//! random ranks (0-d to 4-d), dims (negative and invalid ones too), layouts
//! (permuted, stepped, flipped, stride-0 expanded, padded), element and index
//! types, index modes, NaN / ±inf / -0.0, many collisions, empty indices and
//! bad shapes; every entry point (allocating, `_into` a strided destination,
//! `_with` sequential or forced onto each instruction-set path), and results
//! bit-identical on 1, 2 and 4 threads.

mod common;

use common::{MUT_STYLES, Rng, STYLES, Strided, Style, make_layout};
use fastgather::{
    GatherError, GatherOptions, IndexElem, IndexMode, Isa, Reduce, Reduction, Tensor, TensorView,
    TensorViewMut, reference,
};
use proptest::prelude::*;
use std::fmt::Debug;
use std::mem::discriminant;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// Element values
// ---------------------------------------------------------------------------

/// An element type of these tests: random values that make reductions
/// interesting, and equality that is bitwise except that all NaNs are equal.
trait Val: Reduce + Debug + 'static {
    /// A random value: small integers (collisions that add up), extremes, and
    /// for floats NaN, ±inf, ±0 and fractions.
    fn pick(rng: &mut Rng) -> Self;
    /// A value without NaN (for sums whose bits should mean something).
    fn pick_finite(rng: &mut Rng) -> Self;
    /// Equal bit for bit, or both NaN.
    fn same(a: Self, b: Self) -> bool;
}

macro_rules! val_int {
    ($($t:ty),*) => {$(
        impl Val for $t {
            fn pick(rng: &mut Rng) -> Self {
                match rng.below(6) {
                    0 => <$t>::MIN,
                    1 => <$t>::MAX,
                    2 => rng.next_u64() as $t,
                    _ => (rng.below(11) as i64 - 5) as $t,
                }
            }
            fn pick_finite(rng: &mut Rng) -> Self {
                Self::pick(rng)
            }
            fn same(a: Self, b: Self) -> bool {
                a == b
            }
        }
    )*};
}
val_int!(i8, u8, i32, i64);

macro_rules! val_float {
    ($($t:ty),*) => {$(
        impl Val for $t {
            fn pick(rng: &mut Rng) -> Self {
                match rng.below(12) {
                    0 => <$t>::NAN,
                    1 => -<$t>::NAN,
                    2 => <$t>::INFINITY,
                    3 => <$t>::NEG_INFINITY,
                    4 => -0.0,
                    5 => 0.0,
                    _ => Self::pick_finite(rng),
                }
            }
            fn pick_finite(rng: &mut Rng) -> Self {
                match rng.below(8) {
                    0 => -0.0,
                    1 => 0.0,
                    2 => <$t>::MAX,
                    3 => (rng.uniform(-1e6, 1e6)) as $t,
                    // Values whose sums round: the order of addition shows.
                    4 => (rng.uniform(-1.0, 1.0) / 3.0) as $t,
                    _ => (rng.below(9) as i32 - 4) as $t * 0.5,
                }
            }
            fn same(a: Self, b: Self) -> bool {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
        }
    )*};
}
val_float!(f32, f64);

#[cfg(feature = "half")]
macro_rules! val_half {
    ($($t:ty),*) => {$(
        impl Val for $t {
            fn pick(rng: &mut Rng) -> Self {
                <$t>::from_f64(f64::pick(rng))
            }
            fn pick_finite(rng: &mut Rng) -> Self {
                <$t>::from_f64(f64::pick_finite(rng))
            }
            fn same(a: Self, b: Self) -> bool {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
        }
    )*};
}
#[cfg(feature = "half")]
val_half!(fastgather::half::f16, fastgather::half::bf16);

/// Every element equal by [`Val::same`], shapes equal.
fn same_tensor<T: Val>(a: &Tensor<T>, b: &Tensor<T>) -> bool {
    a.shape() == b.shape()
        && a.as_slice().len() == b.as_slice().len()
        && a.as_slice()
            .iter()
            .zip(b.as_slice())
            .all(|(&x, &y)| T::same(x, y))
}

/// How exactly errors must agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Errors {
    /// The same error, field for field (an `InvalidOption`'s wording aside).
    Exact,
    /// The same variant.
    Kind,
    /// Both fail.
    Any,
}

/// Panics unless `got` agrees with the reference's `want`.
#[track_caller]
fn check<T: Val>(
    want: &Result<Tensor<T>, GatherError>,
    got: &Result<Tensor<T>, GatherError>,
    errors: Errors,
    ctx: &dyn Fn() -> String,
) {
    match (want, got) {
        (Ok(w), Ok(g)) => assert!(
            same_tensor(w, g),
            "{}: values differ\n  want: {w:?}\n  got:  {g:?}",
            ctx()
        ),
        (Err(w), Err(g)) => {
            let ok = match (w, g) {
                (GatherError::InvalidOption { .. }, GatherError::InvalidOption { .. }) => true,
                _ => match errors {
                    Errors::Exact => w == g,
                    Errors::Kind => discriminant(w) == discriminant(g),
                    Errors::Any => true,
                },
            };
            assert!(ok, "{}: errors differ\n  want: {w:?}\n  got:  {g:?}", ctx());
        }
        _ => panic!("{}: want {want:?}, got {got:?}", ctx()),
    }
}

// ---------------------------------------------------------------------------
// Views, index values, options
// ---------------------------------------------------------------------------

/// Random values of `T` in a layout of `style` (stride 0 allowed).
fn values<T: Val>(rng: &mut Rng, shape: &[usize], finite: bool) -> Strided<T> {
    let style = style(rng);
    let layout = make_layout(rng, shape, style, true);
    let pick = if finite { T::pick_finite } else { T::pick };
    Strided::filled(rng, layout, pick)
}

/// An index value for a dim of `bound`: in range, counting from the end
/// (when `negative`), or out of range once in `bad_one_in` (0: never).
fn index_value<I: IndexElem>(rng: &mut Rng, bound: usize, negative: bool, bad_one_in: usize) -> I {
    if bound == 0 || (bad_one_in > 0 && rng.one_in(bad_one_in)) {
        return I::from_i64_wrapping(common::bad_index_value(rng, bound));
    }
    let v = rng.below(bound) as i64;
    I::from_i64_wrapping(if negative && rng.coin() {
        v - bound as i64
    } else {
        v
    })
}

/// Random index values in a layout of `style`.
fn indices<I: IndexElem>(
    rng: &mut Rng,
    shape: &[usize],
    bound: usize,
    mode: IndexMode,
    bad_one_in: usize,
) -> Strided<I> {
    let style = style(rng);
    let layout = make_layout(rng, shape, style, true);
    let negative = mode != IndexMode::Error;
    Strided::filled(rng, layout, |r| index_value(r, bound, negative, bad_one_in))
}

fn style(rng: &mut Rng) -> Style {
    rng.pick(&STYLES)
}

fn mut_style(rng: &mut Rng) -> Style {
    rng.pick(&MUT_STYLES)
}

/// An index mode for a scatter: mostly torch's or the op's own default, then
/// the others (Fill, which scatters refuse, rarely).
fn scatter_mode(rng: &mut Rng) -> Option<IndexMode> {
    match rng.below(16) {
        0..=5 => None,
        6..=7 => Some(IndexMode::Error),
        8..=10 => Some(IndexMode::Wrap),
        11..=12 => Some(IndexMode::Clamp),
        13..=14 => Some(IndexMode::Drop),
        _ => Some(IndexMode::Fill),
    }
}

/// Options: threads, a forced instruction-set path, the mode.
fn options(rng: &mut Rng, mode: Option<IndexMode>) -> (GatherOptions, String) {
    let mut opts = GatherOptions::new();
    let mut what = String::new();
    if rng.coin() {
        opts = opts.sequential();
        what += "sequential ";
    }
    if rng.coin() {
        let isa = rng.pick(&Isa::available());
        opts = opts.isa(isa);
        what += &format!("{isa:?} ");
    }
    if let Some(m) = mode {
        opts = opts.mode(m);
    }
    (opts, what)
}

/// `input`'s values placed in a writable layout of a random style.
fn writable<T: Val>(rng: &mut Rng, input: &TensorView<'_, T>) -> Strided<T> {
    let style = mut_style(rng);
    Strided::place(rng, &input.to_vec(), input.shape(), style, T::pick)
}

/// Runs an `_into` form on a strided copy of `input` and checks it against
/// `want`: on success the view holds `want`; on failure the error agrees and,
/// unless it is an out-of-range index, the view is untouched. The buffer
/// outside the view is never written.
#[track_caller]
fn check_into<T: Val>(
    rng: &mut Rng,
    want: &Result<Tensor<T>, GatherError>,
    input: &TensorView<'_, T>,
    errors: Errors,
    ctx: &dyn Fn() -> String,
    run: impl FnOnce(&mut TensorViewMut<'_, T>) -> Result<(), GatherError>,
) {
    let mut dest = writable(rng, input);
    let before = dest.buf.clone();
    let res = run(&mut dest.view_mut());
    let after = dest.view().to_tensor();
    let got = res.map(|()| after.clone());
    let ctx_into = || format!("{} (into a {:?} layout)", ctx(), dest.layout);
    check(want, &got, errors, &ctx_into);
    let inside: std::collections::HashSet<usize> = dest.layout.offsets().into_iter().collect();
    for (k, (b, a)) in before.iter().zip(&dest.buf).enumerate() {
        let untouched = T::same(*b, *a);
        if !inside.contains(&k) {
            assert!(untouched, "{}: element {k} outside the view written", ctx());
        }
    }
    if let Err(e) = &got
        && !matches!(e, GatherError::IndexOutOfBounds { .. })
    {
        let same = before.iter().zip(&dest.buf).all(|(&b, &a)| T::same(b, a));
        assert!(same, "{}: dest written before the error {e:?}", ctx());
    }
}

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

/// A size, mostly small (collisions), sometimes zero.
fn size(rng: &mut Rng) -> usize {
    if rng.one_in(14) { 0 } else { rng.range(1, 4) }
}

fn shape(rng: &mut Rng, rank: usize) -> Vec<usize> {
    (0..rank).map(|_| size(rng)).collect()
}

/// A shape of rank `0..=max_rank`.
fn any_shape(rng: &mut Rng, max_rank: usize) -> Vec<usize> {
    let rank = rng.below(max_rank + 1);
    shape(rng, rank)
}

/// A dim for `rank`: mostly valid (half of them negative), sometimes not.
fn dim(rng: &mut Rng, rank: usize) -> isize {
    let r = rank.max(1) as isize;
    match rng.below(24) {
        0 => r,
        1 => -r - 1,
        _ => rng.below(r as usize) as isize - if rng.coin() { r } else { 0 },
    }
}

fn wrap(dim: isize, rank: usize) -> Option<usize> {
    let r = rank.max(1) as isize;
    (-r..r).contains(&dim).then(|| dim.rem_euclid(r) as usize)
}

/// Shapes of a scatter: `dest`, `index`, `src` and the dim. The index is
/// mostly within torch's rules, long along `dim` (collisions); sometimes
/// empty, sometimes too large or of the wrong rank.
fn scatter_shapes(rng: &mut Rng) -> (Vec<usize>, Vec<usize>, Vec<usize>, isize) {
    let rank = rng.below(5);
    let dest = shape(rng, rank);
    let dim = dim(rng, rank);
    let d = wrap(dim, rank).unwrap_or(0);
    let index_rank = if rank == 0 { rng.below(2) } else { rank };
    let mut index: Vec<usize> = (0..index_rank)
        .map(|k| {
            if k == d {
                rng.below(8)
            } else {
                let s = dest[k];
                if rng.one_in(3) { rng.below(s + 1) } else { s }
            }
        })
        .collect();
    let mut src: Vec<usize> = index.iter().map(|&i| i + rng.below(3) / 2).collect();
    if rank == 0 && index.is_empty() && rng.coin() {
        src = vec![1];
    }
    match rng.below(30) {
        0 if index_rank > 0 => {
            let k = rng.below(index_rank);
            index[k] += 1 + rng.below(2);
        }
        1 if index_rank > 0 => {
            let k = rng.below(index_rank);
            src[k] = index[k].saturating_sub(1);
        }
        2 => src.push(1),
        3 => index.push(1),
        _ => {}
    }
    (dest, index, src, dim)
}

// ---------------------------------------------------------------------------
// Scatters
// ---------------------------------------------------------------------------

/// Which scatter runs.
#[derive(Clone, Copy, Debug)]
enum ScatterOp {
    Assign,
    Add,
    Value,
    Reduce(Reduction, bool),
}

const REDUCTIONS: [Reduction; 5] = [
    Reduction::Sum,
    Reduction::Prod,
    Reduction::Mean,
    Reduction::Amax,
    Reduction::Amin,
];

fn scatter_case<T: Val, I: IndexElem>(seed: u64, op: ScatterOp) {
    let mut rng = Rng::new(seed);
    let (dest_shape, index_shape, src_shape, dim) = scatter_shapes(&mut rng);
    let mode = scatter_mode(&mut rng);
    let effective = mode.unwrap_or(IndexMode::Error);
    let bound = wrap(dim, dest_shape.len())
        .map(|d| dest_shape.get(d).copied().unwrap_or(1))
        .unwrap_or(3);
    let bad_one_in = if rng.coin() { 0 } else { rng.range(2, 40) };
    let input = values::<T>(&mut rng, &dest_shape, false);
    let index = indices::<I>(&mut rng, &index_shape, bound, effective, bad_one_in);
    let src = values::<T>(&mut rng, &src_shape, false);
    let value = T::pick(&mut rng);
    let (x, i, s) = (input.view(), index.view(), src.view());
    let filled = TensorView::scalar(&value).expand(index_shape.as_slice());
    let s = match op {
        ScatterOp::Value => filled.expect("a scalar expands to any shape"),
        _ => s,
    };
    let want = match op {
        ScatterOp::Assign | ScatterOp::Value => reference::scatter(&x, dim, &i, &s, effective),
        ScatterOp::Add => {
            reference::scatter_reduce_in(&x, dim, &i, &s, Reduction::Sum, true, effective)
        }
        ScatterOp::Reduce(r, inc) => {
            reference::scatter_reduce_in(&x, dim, &i, &s, r, inc, effective)
        }
    };
    let (opts, what) = options(&mut rng, mode);
    let ctx = || {
        format!(
            "{op:?} {}<{}> dest {:?} dim {dim} index {:?} src {:?} mode {mode:?} {what}\n  \
             input {:?}\n  index {:?}\n  src {:?}",
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            input.layout,
            index.layout,
            src.layout,
            x.to_vec(),
            i.to_vec().iter().map(|v| v.to_i128()).collect::<Vec<_>>(),
            s.to_vec(),
        )
    };
    // The allocating forms, with the case's options and (where the mode is
    // the default) without.
    let got = match op {
        ScatterOp::Assign => fastgather::scatter_with(&x, dim, &i, &s, &opts),
        ScatterOp::Add => fastgather::scatter_add_with(&x, dim, &i, &s, &opts),
        ScatterOp::Value => fastgather::scatter_value_with(&x, dim, &i, value, &opts),
        ScatterOp::Reduce(r, inc) => {
            fastgather::scatter_reduce_with(&x, dim, &i, &s, r, inc, &opts)
        }
    };
    check(&want, &got, Errors::Exact, &ctx);
    if mode.is_none() {
        let plain = match op {
            ScatterOp::Assign => fastgather::scatter(&x, dim, &i, &s),
            ScatterOp::Add => fastgather::scatter_add(&x, dim, &i, &s),
            ScatterOp::Value => fastgather::scatter_value(&x, dim, &i, value),
            ScatterOp::Reduce(r, inc) => fastgather::scatter_reduce(&x, dim, &i, &s, r, inc),
        };
        check(&want, &plain, Errors::Exact, &ctx);
    }
    let (opts, _) = options(&mut rng, mode);
    check_into(&mut rng, &want, &x, Errors::Exact, &ctx, |dest| match op {
        ScatterOp::Assign if mode.is_none() => fastgather::scatter_into(dest, dim, &i, &s),
        ScatterOp::Assign => fastgather::scatter_into_with(dest, dim, &i, &s, &opts),
        ScatterOp::Add if mode.is_none() => fastgather::scatter_add_into(dest, dim, &i, &s),
        ScatterOp::Add => fastgather::scatter_add_into_with(dest, dim, &i, &s, &opts),
        ScatterOp::Value if mode.is_none() => fastgather::scatter_value_into(dest, dim, &i, value),
        ScatterOp::Value => fastgather::scatter_value_into_with(dest, dim, &i, value, &opts),
        ScatterOp::Reduce(r, inc) if mode.is_none() => {
            fastgather::scatter_reduce_into(dest, dim, &i, &s, r, inc)
        }
        ScatterOp::Reduce(r, inc) => {
            fastgather::scatter_reduce_into_with(dest, dim, &i, &s, r, inc, &opts)
        }
    });
}

// ---------------------------------------------------------------------------
// index_add, index_copy, index_fill, index_reduce
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum IndexOp {
    Add,
    Copy,
    Fill,
    Reduce(Reduction, bool),
}

fn index_case<T: Val, I: IndexElem>(seed: u64, op: IndexOp) {
    let mut rng = Rng::new(seed);
    let rank = rng.below(5);
    let dest_shape = shape(&mut rng, rank);
    let dim = dim(&mut rng, rank);
    let d = wrap(dim, rank).unwrap_or(0);
    let len = rng.below(7);
    // 1-d mostly, 0-d when it holds one value, 2-d (refused) rarely.
    let index_shape = match rng.below(20) {
        0 => vec![len, 1],
        1..=4 if len == 1 => vec![],
        _ => vec![len],
    };
    let len = index_shape.iter().product();
    let mut src_shape = if rank == 0 {
        if len == 1 && rng.coin() {
            vec![]
        } else {
            vec![len]
        }
    } else {
        let mut s = dest_shape.clone();
        s[d] = len;
        s
    };
    match rng.below(25) {
        0 if !src_shape.is_empty() => {
            let k = rng.below(src_shape.len());
            src_shape[k] += 1;
        }
        1 => src_shape.push(1),
        _ => {}
    }
    // A 0-d destination with an index of other than one value: torch refuses
    // more than one slice, and fastgather mishandles both (bugs, see
    // tests/torch_recorded_scatter.rs: `zero_d_*`).
    if rank == 0 && len != 1 {
        return;
    }
    let default = match op {
        IndexOp::Fill => IndexMode::Wrap,
        _ => IndexMode::Error,
    };
    let mode = scatter_mode(&mut rng);
    let effective = mode.unwrap_or(default);
    let bound = if rank == 0 { 1 } else { dest_shape[d] };
    let bad_one_in = if rng.coin() { 0 } else { rng.range(2, 12) };
    let input = values::<T>(&mut rng, &dest_shape, false);
    let index = indices::<I>(&mut rng, &index_shape, bound, effective, bad_one_in);
    let src = values::<T>(&mut rng, &src_shape, false);
    let value = T::pick(&mut rng);
    let (x, i, s) = (input.view(), index.view(), src.view());
    let want = match op {
        IndexOp::Add => reference::index_add(&x, dim, &i, &s, value, effective),
        IndexOp::Copy => reference::index_copy(&x, dim, &i, &s, effective),
        IndexOp::Fill => reference::index_fill(&x, dim, &i, value, effective),
        IndexOp::Reduce(r, inc) => reference::index_reduce(&x, dim, &i, &s, r, inc, effective),
    };
    // Two refusals at once (Sum and Fill): `index_reduce_with` names the
    // mode, `index_reduce_into_with` the reduction; either is fine.
    if matches!(op, IndexOp::Reduce(Reduction::Sum, _)) && mode == Some(IndexMode::Fill) {
        return;
    }
    // On a 0-d destination a bad value is named at position [] rather than
    // the index's [0] (`zero_d_index_op_names_the_index_position` in
    // tests/torch_recorded_scatter.rs).
    let errors = if rank == 0 {
        Errors::Kind
    } else {
        Errors::Exact
    };
    let (opts, what) = options(&mut rng, mode);
    let ctx = || {
        format!(
            "{op:?} {}<{}> dest {:?} dim {dim} index {:?} src {:?} value/alpha {value:?} \
             mode {mode:?} {what}\n  input {:?}\n  index {:?}\n  src {:?}",
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            input.layout,
            index.layout,
            src.layout,
            x.to_vec(),
            i.to_vec().iter().map(|v| v.to_i128()).collect::<Vec<_>>(),
            s.to_vec(),
        )
    };
    let got = match op {
        IndexOp::Add => fastgather::index_add_with(&x, dim, &i, &s, value, &opts),
        IndexOp::Copy => fastgather::index_copy_with(&x, dim, &i, &s, &opts),
        IndexOp::Fill => fastgather::index_fill_with(&x, dim, &i, value, &opts),
        IndexOp::Reduce(r, inc) => fastgather::index_reduce_with(&x, dim, &i, &s, r, inc, &opts),
    };
    check(&want, &got, errors, &ctx);
    if mode.is_none() {
        let plain = match op {
            IndexOp::Add => fastgather::index_add(&x, dim, &i, &s, value),
            IndexOp::Copy => fastgather::index_copy(&x, dim, &i, &s),
            IndexOp::Fill => fastgather::index_fill(&x, dim, &i, value),
            IndexOp::Reduce(r, inc) => fastgather::index_reduce(&x, dim, &i, &s, r, inc),
        };
        check(&want, &plain, errors, &ctx);
    }
    let (opts, _) = options(&mut rng, mode);
    check_into(&mut rng, &want, &x, errors, &ctx, |dest| match op {
        IndexOp::Add if mode.is_none() => fastgather::index_add_into(dest, dim, &i, &s, value),
        IndexOp::Add => fastgather::index_add_into_with(dest, dim, &i, &s, value, &opts),
        IndexOp::Copy if mode.is_none() => fastgather::index_copy_into(dest, dim, &i, &s),
        IndexOp::Copy => fastgather::index_copy_into_with(dest, dim, &i, &s, &opts),
        IndexOp::Fill if mode.is_none() => fastgather::index_fill_into(dest, dim, &i, value),
        IndexOp::Fill => fastgather::index_fill_into_with(dest, dim, &i, value, &opts),
        IndexOp::Reduce(r, inc) if mode.is_none() => {
            fastgather::index_reduce_into(dest, dim, &i, &s, r, inc)
        }
        IndexOp::Reduce(r, inc) => {
            fastgather::index_reduce_into_with(dest, dim, &i, &s, r, inc, &opts)
        }
    });
}

// ---------------------------------------------------------------------------
// take, put, take_along_dim, put_along_axis
// ---------------------------------------------------------------------------

fn take_put_case<T: Val, I: IndexElem>(seed: u64, accumulate: Option<bool>) {
    let mut rng = Rng::new(seed);
    let input_shape = any_shape(&mut rng, 4);
    let index_shape = any_shape(&mut rng, 3);
    let n: usize = index_shape.iter().product();
    // put's source: the index's shape, flat, or another with as many elements.
    let src_shape = match rng.below(12) {
        0 => vec![n + 1],
        1..=4 => vec![n],
        5..=6 => vec![1, n],
        _ => index_shape.clone(),
    };
    let mode = match accumulate {
        None => match rng.below(8) {
            0..=4 => None,
            5 => Some(IndexMode::Error),
            6 => Some(IndexMode::Wrap),
            _ => Some(IndexMode::Clamp),
        },
        Some(_) => scatter_mode(&mut rng),
    };
    let effective = mode.unwrap_or(IndexMode::Wrap);
    let bound: usize = input_shape.iter().product();
    let bad_one_in = if rng.coin() { 0 } else { rng.range(2, 30) };
    let input = values::<T>(&mut rng, &input_shape, false);
    let index = indices::<I>(&mut rng, &index_shape, bound, effective, bad_one_in);
    let src = values::<T>(&mut rng, &src_shape, false);
    let (x, i, s) = (input.view(), index.view(), src.view());
    let (opts, what) = options(&mut rng, mode);
    let ctx = || {
        format!(
            "take/put({accumulate:?}) {}<{}> input {:?} index {:?} src {:?} mode {mode:?} \
             {what}\n  input {:?}\n  index {:?}\n  src {:?}",
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            input.layout,
            index.layout,
            src.layout,
            x.to_vec(),
            i.to_vec().iter().map(|v| v.to_i128()).collect::<Vec<_>>(),
            s.to_vec(),
        )
    };
    match accumulate {
        None => {
            let want = reference::take(&x, &i, effective);
            // A bad value of a 0-d index is named at position [0], not []
            // (`take_names_a_0_d_index_position` below).
            let errors = if index_shape.is_empty() {
                Errors::Kind
            } else {
                Errors::Exact
            };
            check(&want, &fastgather::take_with(&x, &i, &opts), errors, &ctx);
            if mode.is_none() {
                check(&want, &fastgather::take(&x, &i), errors, &ctx);
            }
            // Into an out of the index's shape, in a random writable layout.
            if let Ok(w) = &want {
                let style = mut_style(&mut rng);
                let init = vec![T::pick(&mut rng); w.len()];
                let mut out = Strided::place(&mut rng, &init, w.shape(), style, T::pick);
                let res = if mode.is_none() {
                    fastgather::take_into(&x, &i, &mut out.view_mut())
                } else {
                    fastgather::take_into_with(&x, &i, &mut out.view_mut(), &opts)
                };
                let got = res.map(|()| out.view().to_tensor());
                check(&want, &got, errors, &ctx);
            }
        }
        Some(acc) => {
            let want = reference::put(&x, &i, &s, acc, effective);
            check(
                &want,
                &fastgather::put_with(&x, &i, &s, acc, &opts),
                Errors::Exact,
                &ctx,
            );
            if mode.is_none() {
                check(
                    &want,
                    &fastgather::put(&x, &i, &s, acc),
                    Errors::Exact,
                    &ctx,
                );
            }
            let (opts, _) = options(&mut rng, mode);
            check_into(&mut rng, &want, &x, Errors::Exact, &ctx, |dest| {
                if mode.is_none() {
                    fastgather::put_into(dest, &i, &s, acc)
                } else {
                    fastgather::put_into_with(dest, &i, &s, acc, &opts)
                }
            });
        }
    }
}

fn along_case<T: Val, I: IndexElem>(seed: u64, put: bool) {
    let mut rng = Rng::new(seed);
    let rank = rng.below(5);
    let input_shape = shape(&mut rng, rank);
    let flat = !put && rng.one_in(4);
    let dim = dim(&mut rng, rank);
    let d = wrap(dim, rank).unwrap_or(0);
    // Indices of the same rank: along dim any length, elsewhere equal or 1
    // (broadcast), rarely something else (an error, or for take a stretched
    // input axis of size 1).
    let mut index_shape: Vec<usize> = (0..rank)
        .map(|k| {
            if k == d {
                rng.below(5)
            } else {
                match rng.below(10) {
                    // For put, numpy lets an index axis stretch over an axis
                    // of size 1 of `arr`; fastgather refuses (not tested).
                    0 if !put => rng.range(1, 3),
                    1..=3 => 1,
                    _ => input_shape[k],
                }
            }
        })
        .collect();
    if flat {
        index_shape = any_shape(&mut rng, 3);
    } else if rng.one_in(30) {
        index_shape.push(1);
    }
    let bound = if flat {
        input_shape.iter().product()
    } else {
        input_shape.get(d).copied().unwrap_or(1)
    };
    let mode = if flat {
        IndexMode::Error
    } else {
        IndexMode::Wrap
    };
    let bad_one_in = if rng.coin() { 0 } else { rng.range(2, 30) };
    let input = values::<T>(&mut rng, &input_shape, false);
    let index = indices::<I>(&mut rng, &index_shape, bound, mode, bad_one_in);
    // put_along_axis's values: the broadcast shape, a suffix of it, some
    // axes 1, or a scalar.
    let mut full: Vec<usize> = (0..index_shape.len())
        .map(|k| match input_shape.get(k) {
            Some(&a) if k != d && index_shape[k] == 1 => a,
            _ => index_shape[k],
        })
        .collect();
    if rng.one_in(3) {
        let drop = rng.below(full.len() + 1);
        full.drain(..drop);
    }
    for s in full.iter_mut() {
        if rng.one_in(4) {
            *s = 1;
        }
    }
    let vals = values::<T>(&mut rng, &full, false);
    let (x, i, v) = (input.view(), index.view(), vals.view());
    let (opts, what) = options(&mut rng, None);
    let which = if flat { None } else { Some(dim) };
    let ctx = || {
        format!(
            "{} {}<{}> input {:?} dim {which:?} index {:?} values {:?} {what}\n  input {:?}\n  \
             index {:?}\n  values {:?}",
            if put {
                "put_along_axis"
            } else {
                "take_along_dim"
            },
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            input.layout,
            index.layout,
            vals.layout,
            x.to_vec(),
            i.to_vec().iter().map(|v| v.to_i128()).collect::<Vec<_>>(),
            v.to_vec(),
        )
    };
    if put {
        let want = reference::put_along_axis(&x, &i, &v, dim);
        let got = fastgather::put_along_axis_with(&x, &i, &v, dim, &opts);
        check(&want, &got, Errors::Any, &ctx);
        check(
            &want,
            &fastgather::put_along_axis(&x, &i, &v, dim),
            Errors::Any,
            &ctx,
        );
        check_into(&mut rng, &want, &x, Errors::Any, &ctx, |dest| {
            fastgather::put_along_axis_into(dest, &i, &v, dim)
        });
    } else {
        let want = reference::take_along_dim(&x, &i, which);
        let got = fastgather::take_along_dim_with(&x, &i, which, &opts);
        check(&want, &got, Errors::Kind, &ctx);
        check(
            &want,
            &fastgather::take_along_dim(&x, &i, which),
            Errors::Kind,
            &ctx,
        );
        if let Ok(w) = &want {
            let style = mut_style(&mut rng);
            let init = vec![T::pick(&mut rng); w.len()];
            let mut out = Strided::place(&mut rng, &init, w.shape(), style, T::pick);
            let res = fastgather::take_along_dim_into(&x, &i, which, &mut out.view_mut());
            let got = res.map(|()| out.view().to_tensor());
            check(&want, &got, Errors::Kind, &ctx);
        }
    }
}

// ---------------------------------------------------------------------------
// Type dispatch
// ---------------------------------------------------------------------------

/// Calls `$f::<T, I>($args)` for element type number `$e` (i8, u8, i32, i64,
/// f32, f64, and f16, bf16 with the `half` feature) and, for `i32` and `f32`
/// elements, index type number `$i` (i64, i32, u32).
macro_rules! dispatch {
    // Every element type with an `i64` index; the other index types with one
    // integer and one float element (each pair is a full copy of the kernels
    // to compile, so the pairs are chosen, not all taken).
    ($e:expr, $i:expr, $f:ident($($arg:expr),*)) => {
        match $e % ELEMS {
            0 => $f::<i8, i64>($($arg),*),
            1 => $f::<u8, i64>($($arg),*),
            2 => dispatch!(@index i32, $i, $f($($arg),*)),
            3 => $f::<i64, i64>($($arg),*),
            4 => dispatch!(@index f32, $i, $f($($arg),*)),
            #[cfg(feature = "half")]
            6 => $f::<fastgather::half::f16, i64>($($arg),*),
            #[cfg(feature = "half")]
            7 => $f::<fastgather::half::bf16, i64>($($arg),*),
            _ => $f::<f64, i64>($($arg),*),
        }
    };
    (@index $t:ty, $i:expr, $f:ident($($arg:expr),*)) => {
        match $i % 3 {
            0 => $f::<$t, i64>($($arg),*),
            1 => $f::<$t, i32>($($arg),*),
            _ => $f::<$t, u32>($($arg),*),
        }
    };
}

#[cfg(feature = "half")]
const ELEMS: u8 = 8;
#[cfg(not(feature = "half"))]
const ELEMS: u8 = 6;

fn reduction() -> impl Strategy<Value = (Reduction, bool)> {
    (prop::sample::select(REDUCTIONS.to_vec()), any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(1500), ..ProptestConfig::default() })]

    /// scatter_reduce: every reduction, include_self both ways.
    #[test]
    fn scatter_reduce_matches_reference(seed in any::<u64>(), r in reduction(), elem in 0u8..16, it in 0u8..3) {
        dispatch!(elem, it, scatter_case(seed, ScatterOp::Reduce(r.0, r.1)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(600), ..ProptestConfig::default() })]

    /// scatter, scatter_add and scatter of one value.
    #[test]
    fn scatters_match_reference(seed in any::<u64>(), op in 0u8..3, elem in 0u8..16, it in 0u8..3) {
        let op = [ScatterOp::Assign, ScatterOp::Add, ScatterOp::Value][op as usize];
        dispatch!(elem, it, scatter_case(seed, op));
    }

    /// index_add (with an alpha), index_copy, index_fill.
    #[test]
    fn index_ops_match_reference(seed in any::<u64>(), op in 0u8..3, elem in 0u8..16, it in 0u8..3) {
        let op = [IndexOp::Add, IndexOp::Copy, IndexOp::Fill][op as usize];
        dispatch!(elem, it, index_case(seed, op));
    }

    /// index_reduce: every reduction (`Sum` refused), include_self both ways.
    #[test]
    fn index_reduce_matches_reference(seed in any::<u64>(), r in reduction(), elem in 0u8..16, it in 0u8..3) {
        dispatch!(elem, it, index_case(seed, IndexOp::Reduce(r.0, r.1)));
    }

    /// take, and put with and without accumulate.
    #[test]
    fn take_put_match_reference(seed in any::<u64>(), acc in prop::option::of(any::<bool>()), elem in 0u8..16, it in 0u8..3) {
        dispatch!(elem, it, take_put_case(seed, acc));
    }

    /// take_along_dim (with a dim and flat) and put_along_axis.
    #[test]
    fn along_ops_match_reference(seed in any::<u64>(), put in any::<bool>(), elem in 0u8..16, it in 0u8..3) {
        dispatch!(elem, it, along_case(seed, put));
    }
}

// ---------------------------------------------------------------------------
// Threads and instruction-set paths
// ---------------------------------------------------------------------------

/// Rayon pools of 2 and 4 threads, built once.
fn pools() -> &'static [rayon::ThreadPool] {
    static POOLS: OnceLock<Vec<rayon::ThreadPool>> = OnceLock::new();
    POOLS.get_or_init(|| {
        [2, 4]
            .iter()
            .map(|&n| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .unwrap()
            })
            .collect()
    })
}

/// A problem large enough to be split across threads: `run` with the
/// sequential options, then the default ones in pools of 2 and 4 threads and
/// forced onto every path, all bit for bit the same and equal to the
/// reference.
fn threads_case<T: Val>(seed: u64, r: Reduction, include_self: bool, index_op: bool) {
    let mut rng = Rng::new(seed);
    let (rows, cols) = (rng.range(1000, 3000), rng.range(16, 48));
    let d = rng.below(2);
    let dest_shape = [rows, cols];
    let mut index_shape = dest_shape;
    index_shape[d] = if d == 0 {
        rng.range(1500, 4000)
    } else {
        rng.range(20, 60)
    };
    let input = values::<T>(&mut rng, &dest_shape, true);
    let len = index_shape[d];
    let idx_shape: Vec<usize> = if index_op {
        vec![len]
    } else {
        index_shape.to_vec()
    };
    let mode = if rng.coin() {
        IndexMode::Error
    } else {
        IndexMode::Clamp
    };
    let bad = if mode == IndexMode::Error && rng.one_in(4) {
        rng.range(5, 500)
    } else {
        0
    };
    let index = indices::<i64>(&mut rng, &idx_shape, dest_shape[d], mode, bad);
    let src = values::<T>(&mut rng, &index_shape, true);
    let (x, i, s) = (input.view(), index.view(), src.view());
    let r = if index_op && r == Reduction::Sum {
        Reduction::Mean
    } else {
        r
    };
    let run = |opts: &GatherOptions| {
        let opts = opts.clone().mode(mode);
        if index_op {
            fastgather::index_reduce_with(&x, d as isize, &i, &s, r, include_self, &opts)
        } else {
            fastgather::scatter_reduce_with(&x, d as isize, &i, &s, r, include_self, &opts)
        }
    };
    let want = if index_op {
        reference::index_reduce(&x, d as isize, &i, &s, r, include_self, mode)
    } else {
        reference::scatter_reduce_in(&x, d as isize, &i, &s, r, include_self, mode)
    };
    let seq = run(&GatherOptions::new().sequential());
    let ctx = || {
        format!(
            "{r:?} include_self {include_self} index_op {index_op} {dest_shape:?} dim {d} mode {mode:?}"
        )
    };
    check(&want, &seq, Errors::Exact, &ctx);
    let bits = |a: &Result<Tensor<T>, GatherError>,
                b: &Result<Tensor<T>, GatherError>,
                what: &str| match (a, b) {
        (Ok(a), Ok(b)) => assert!(
            bytemuck::cast_slice::<T, u8>(a.as_slice())
                == bytemuck::cast_slice::<T, u8>(b.as_slice()),
            "{}: {what} differs from the sequential run",
            ctx()
        ),
        (Err(a), Err(b)) => assert_eq!(a, b, "{}: {what}", ctx()),
        _ => panic!("{}: {what}: {a:?} vs {b:?}", ctx()),
    };
    for pool in pools() {
        let n = pool.current_num_threads();
        let par = pool.install(|| run(&GatherOptions::new()));
        bits(&seq, &par, &format!("{n} threads"));
        for isa in Isa::ALL {
            let got = pool.install(|| run(&GatherOptions::new().isa(isa)));
            if !isa.is_available() {
                assert!(
                    matches!(got, Err(GatherError::IsaUnavailable { .. })),
                    "{isa:?} is not available: {got:?}"
                );
                continue;
            }
            bits(&seq, &got, &format!("{isa:?} on {n} threads"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(24), ..ProptestConfig::default() })]

    /// Sequential, 2 and 4 threads, and every path agree bit for bit.
    #[test]
    fn threads_and_paths_agree(seed in any::<u64>(), r in reduction(), index_op in any::<bool>(), elem in 0u8..4) {
        match elem {
            0 => threads_case::<f32>(seed, r.0, r.1, index_op),
            1 => threads_case::<f64>(seed, r.0, r.1, index_op),
            2 => threads_case::<i32>(seed, r.0, r.1, index_op),
            _ => threads_case::<u8>(seed, r.0, r.1, index_op),
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases: the rules, written out
// ---------------------------------------------------------------------------

fn t<T: Copy>(v: &[T], shape: &[usize]) -> Tensor<T> {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

/// The first bad value in row-major order of the index is named, with its
/// position, whatever the layout and the threads.
#[test]
fn first_bad_index_is_named() {
    let x = t(&[0.0f32; 6], &[2, 3]);
    // Row-major: (0, 2) holds 7, (1, 0) holds -1; the transpose reads them
    // in another order, but positions are the view's.
    let idx = t(&[0i64, 1, 7, -1, 0, 9], &[2, 3]);
    let src = t(&[1.0f32; 6], &[2, 3]);
    for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
        let err = fastgather::scatter_reduce_with(
            &x.view(),
            1,
            &idx.view(),
            &src.view(),
            Reduction::Amax,
            false,
            &opts,
        )
        .unwrap_err();
        assert_eq!(
            err,
            GatherError::IndexOutOfBounds {
                value: 7,
                position: vec![0, 2],
                dim: 1,
                size: 3,
                wraps: false
            }
        );
        let opts = opts.mode(IndexMode::Wrap);
        let err = fastgather::scatter_add_with(&x.view(), 1, &idx.view(), &src.view(), &opts)
            .unwrap_err();
        assert!(matches!(
            err,
            GatherError::IndexOutOfBounds {
                value: 7,
                wraps: true,
                ..
            }
        ));
    }
    // The index_* ops name the position in the 1-d index.
    let idx = t(&[1i64, 0, 5, 2, 6], &[5]);
    let x = t(&[0i32; 6], &[3, 2]);
    let s = t(&[1i32; 10], &[5, 2]);
    let err = fastgather::index_add(&x.view(), 0, &idx.view(), &s.view(), 1).unwrap_err();
    assert_eq!(
        err,
        GatherError::IndexOutOfBounds {
            value: 5,
            position: vec![2],
            dim: 0,
            size: 3,
            wraps: false
        }
    );
}

/// Scatters refuse IndexMode::Fill; index_reduce refuses Sum; shape errors.
#[test]
fn refusals() {
    let x = t(&[0.0f64; 4], &[4]);
    let idx = t(&[1i64], &[1]);
    let src = t(&[1.0f64], &[1]);
    let fill = GatherOptions::new().fill(0.0f64);
    let (x, idx, src) = (x.view(), idx.view(), src.view());
    let invalid = |r: Result<Tensor<f64>, GatherError>| {
        assert!(matches!(r, Err(GatherError::InvalidOption { .. })), "{r:?}")
    };
    invalid(fastgather::scatter_with(&x, 0, &idx, &src, &fill));
    invalid(fastgather::scatter_add_with(&x, 0, &idx, &src, &fill));
    invalid(fastgather::scatter_value_with(&x, 0, &idx, 1.0, &fill));
    invalid(fastgather::scatter_reduce_with(
        &x,
        0,
        &idx,
        &src,
        Reduction::Prod,
        true,
        &fill,
    ));
    invalid(fastgather::index_add_with(&x, 0, &idx, &src, 1.0, &fill));
    invalid(fastgather::index_copy_with(&x, 0, &idx, &src, &fill));
    invalid(fastgather::index_fill_with(&x, 0, &idx, 1.0, &fill));
    invalid(fastgather::put_with(&x, &idx, &src, true, &fill));
    invalid(fastgather::put_along_axis_with(&x, &idx, &src, 0, &fill));
    let r = fastgather::index_reduce(&x, 0, &idx, &src, Reduction::Sum, true);
    assert!(
        matches!(r, Err(GatherError::InvalidReduction { .. })),
        "{r:?}"
    );
    let two_d = t(&[0i64], &[1, 1]);
    let r = fastgather::index_copy(&x, 0, &two_d.view(), &src);
    assert!(
        matches!(r, Err(GatherError::IndexNotVector { .. })),
        "{r:?}"
    );
    let long = t(&[1.0f64; 2], &[2]);
    let r = fastgather::index_add(&x, 0, &idx, &long.view(), 1.0);
    assert!(
        matches!(r, Err(GatherError::SliceShapeMismatch { .. })),
        "{r:?}"
    );
    let r = fastgather::put(&x, &idx, &long.view(), false);
    assert!(
        matches!(
            r,
            Err(GatherError::LengthMismatch {
                expected: 1,
                actual: 2
            })
        ),
        "{r:?}"
    );
    // A gather refuses Drop.
    let drop = GatherOptions::new().mode(IndexMode::Drop);
    let r = fastgather::take_with(&x, &idx, &drop);
    assert!(matches!(r, Err(GatherError::InvalidOption { .. })), "{r:?}");
}

/// Many collisions into one element, on many threads: the order is the
/// index's, so float sums round the same way every time.
#[test]
fn collisions_sum_in_index_order() {
    let n = 20_000;
    let vals: Vec<f32> = (0..n).map(|k| 1.0 + (k % 7) as f32 * 1e-3).collect();
    let src = t(&vals, &[n]);
    let idx = t(&vec![0i64; n], &[n]);
    let x = t(&[1e4f32], &[1]);
    let mut sum = 1e4f32;
    for v in &vals {
        sum += v;
    }
    for pool in pools() {
        let got = pool
            .install(|| fastgather::scatter_add(&x.view(), 0, &idx.view(), &src.view()).unwrap());
        assert_eq!(got.as_slice()[0].to_bits(), sum.to_bits());
    }
}

/// A bad value of a 0-d index is at position `[]`, as `put` names it.
#[test]

fn take_names_a_0_d_index_position() {
    let x = t(&[1, 2, 3], &[3]);
    let i = t(&[7i64], &[]);
    let want = GatherError::IndexOutOfBounds {
        value: 7,
        position: vec![],
        dim: 0,
        size: 3,
        wraps: true,
    };
    let s = t(&[0], &[]);
    assert_eq!(
        fastgather::put(&x.view(), &i.view(), &s.view(), false).unwrap_err(),
        want
    );
    assert_eq!(fastgather::take(&x.view(), &i.view()).unwrap_err(), want);
}
