//! Differential tests of `embedding`, `embedding_bag`, their gradients and
//! `segment_reduce` against `fastgather::reference` (`embedding_bag_ref`,
//! `embedding_bag_backward_ref`, `embedding_backward_ref`,
//! `segment_reduce_ref`), written from the documented rules.
//!
//! Covered: every public form (allocating, `_with` sequential or forced onto
//! each instruction-set path, `_into` a strided / flipped / padded out view,
//! `_into_with`); `f32`, `f64`, `i32` tables (integer sums, products and
//! counts wrap, means are floor divisions) and with `--features half` `f16`
//! and `bf16` (accumulated in `f32`); `i64` and `i32` ids; tables, ids,
//! offsets, weights and gradients in dense, transposed, flipped, stepped,
//! offset and stride-0 (expanded) layouts; empty bags, repeated offsets,
//! `include_last_offset`, `padding_idx` (positive and negative, bags of only
//! padding), per-sample weights, fixed 2-d bags, zero-width tables, zero bags;
//! NaN / ±inf / -0.0 (a NaN anywhere wins a max); 1, 2 and 4 threads and every
//! path giving the same bits; every documented error with its fields, and
//! `_into` leaving `out` untouched on error.
//!
//! Values are compared bit for bit, except that any two NaNs are equal (a
//! NaN's payload depends on operand order, which the compiler may swap);
//! results across threads and paths are compared bit for bit exactly.

mod common;

use common::{MUT_STYLES, Rng, STYLES, Strided, make_layout};
use fastgather::reference::{
    embedding_backward_ref, embedding_bag_backward_ref, embedding_bag_ref, segment_reduce_ref,
};
use fastgather::{
    BagGrads, BagMode, Bags, GatherError, GatherOptions, IndexElem, IndexMode, Isa, Reduce,
    Reduction, Segments, Tensor, TensorView, TensorViewMut,
};
use proptest::prelude::*;
use std::fmt::Debug;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// Element values
// ---------------------------------------------------------------------------

trait Val: Reduce + PartialEq + Debug + 'static {
    /// A random value: NaN, ±inf, ±0, extremes and fractions for floats;
    /// extremes (sums wrap) and small values for integers.
    fn pick(rng: &mut Rng) -> Self;
    /// A value without NaN or infinities.
    fn pick_finite(rng: &mut Rng) -> Self;
    /// Equal bit for bit, or both NaN.
    fn same(a: Self, b: Self) -> bool;
    /// Every NaN as the one positive quiet NaN.
    fn canonical(self) -> Self {
        self
    }
    /// Whether this type has NaN.
    const FLOAT: bool;
}

impl Val for i32 {
    fn pick(rng: &mut Rng) -> Self {
        match rng.below(6) {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => rng.next_u64() as i32,
            _ => rng.below(11) as i32 - 5,
        }
    }
    fn pick_finite(rng: &mut Rng) -> Self {
        Self::pick(rng)
    }
    fn same(a: Self, b: Self) -> bool {
        a == b
    }
    const FLOAT: bool = false;
}

macro_rules! val_float {
    ($($t:ty),*) => {$(
        impl Val for $t {
            fn pick(rng: &mut Rng) -> Self {
                match rng.below(14) {
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
                    2 => (rng.uniform(-1e6, 1e6)) as $t,
                    3 | 4 => (rng.uniform(-1.0, 1.0) / 3.0) as $t,
                    _ => (rng.below(9) as i32 - 4) as $t * 0.5,
                }
            }
            fn same(a: Self, b: Self) -> bool {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
            fn canonical(self) -> Self {
                if self.is_nan() { <$t>::NAN } else { self }
            }
            const FLOAT: bool = true;
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
            fn canonical(self) -> Self {
                if self.is_nan() { <$t>::NAN } else { self }
            }
            const FLOAT: bool = true;
        }
    )*};
}
#[cfg(feature = "half")]
val_half!(fastgather::half::f16, fastgather::half::bf16);

fn same_slice<T: Val>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| T::same(x, y))
}

fn same_tensor<T: Val>(a: &Tensor<T>, b: &Tensor<T>) -> bool {
    a.shape() == b.shape() && same_slice(a.as_slice(), b.as_slice())
}

fn bits<T: Val>(a: &[T]) -> &[u8] {
    bytemuck::cast_slice(a)
}

/// The same error; the wording (`reason`) of the embedding errors aside.
fn same_error(a: &GatherError, b: &GatherError) -> bool {
    use GatherError::*;
    match (a, b) {
        (InvalidEmbeddingArgument { op: x, .. }, InvalidEmbeddingArgument { op: y, .. }) => x == y,
        (
            InvalidOffsets {
                op,
                position,
                value,
                ids,
                ..
            },
            InvalidOffsets {
                op: op2,
                position: p2,
                value: v2,
                ids: i2,
                ..
            },
        ) => (op, position, value, ids) == (op2, p2, v2, i2),
        (InvalidOption { .. }, InvalidOption { .. }) => true,
        _ => a == b,
    }
}

#[track_caller]
fn check<T: Val>(
    want: &Result<Tensor<T>, GatherError>,
    got: &Result<Tensor<T>, GatherError>,
    ctx: &dyn Fn() -> String,
) {
    match (want, got) {
        (Ok(w), Ok(g)) => assert!(
            same_tensor(w, g),
            "{}: values differ\n  want: {w:?}\n  got:  {g:?}",
            ctx()
        ),
        (Err(w), Err(g)) => assert!(
            same_error(w, g),
            "{}: errors differ\n  want: {w:?}\n  got:  {g:?}",
            ctx()
        ),
        _ => panic!("{}: want {want:?}, got {got:?}", ctx()),
    }
}

#[track_caller]
fn check_grads<T: Val>(
    want: &Result<BagGrads<T>, GatherError>,
    got: &Result<BagGrads<T>, GatherError>,
    ctx: &dyn Fn() -> String,
) {
    let split = |r: &Result<BagGrads<T>, GatherError>| match r {
        Ok(g) => (Ok(g.weight.clone()), g.per_sample_weights.clone().map(Ok)),
        Err(e) => (Err(e.clone()), None),
    };
    let (ww, wp) = split(want);
    let (gw, gp) = split(got);
    check(&ww, &gw, &|| format!("{} (grad weight)", ctx()));
    assert_eq!(wp.is_some(), gp.is_some(), "{}: psw grads", ctx());
    if let (Some(w), Some(g)) = (wp, gp) {
        check(&w, &g, &|| format!("{} (grad per_sample_weights)", ctx()));
    }
}

// ---------------------------------------------------------------------------
// Layouts and options
// ---------------------------------------------------------------------------

/// Random values in a random layout of any style (stride 0 included).
fn values<T: Val>(rng: &mut Rng, shape: &[usize], finite: bool) -> Strided<T> {
    let style = rng.pick(&STYLES);
    let layout = make_layout(rng, shape, style, true);
    Strided::filled(rng, layout, if finite { T::pick_finite } else { T::pick })
}

/// `vals` (row-major) in a random layout: stride 0 when they are all equal
/// (sometimes), else any writable style; the padding holds `pad`.
fn place<T: Copy + PartialEq>(rng: &mut Rng, vals: &[T], shape: &[usize], pad: T) -> Strided<T> {
    if let Some(&v) = vals.first()
        && vals.iter().all(|&x| x == v)
        && rng.one_in(3)
    {
        let layout = common::LayoutSpec {
            shape: shape.to_vec(),
            strides: vec![0; shape.len()],
            offset: 0,
            len: 1,
        };
        return Strided {
            buf: vec![v],
            layout,
        };
    }
    let style = rng.pick(&MUT_STYLES);
    Strided::place(rng, vals, shape, style, |_| pad)
}

fn options(rng: &mut Rng) -> GatherOptions {
    let mut opts = GatherOptions::new();
    if rng.coin() {
        opts = opts.sequential();
    }
    if rng.coin() {
        opts = opts.isa(rng.pick(&Isa::available()));
    }
    opts
}

/// A random writable out of `shape`, run through `run`, checked: on success
/// the view holds `want`; on failure the error agrees and nothing in the
/// buffer changed. The buffer outside the view is never written.
#[track_caller]
fn check_into<T: Val>(
    rng: &mut Rng,
    want: &Result<Tensor<T>, GatherError>,
    shape: &[usize],
    ctx: &dyn Fn() -> String,
    run: impl FnOnce(&mut TensorViewMut<'_, T>) -> Result<(), GatherError>,
) {
    let style = rng.pick(&MUT_STYLES);
    let layout = make_layout(rng, shape, style, false);
    let mut out = Strided::filled(rng, layout, T::pick);
    let before = out.buf.clone();
    let res = run(&mut out.view_mut());
    let got = res.map(|()| out.view().to_tensor());
    let ctx2 = || format!("{} (into {:?})", ctx(), out.layout);
    check(want, &got, &ctx2);
    let inside: std::collections::HashSet<usize> = out.layout.offsets().into_iter().collect();
    for (k, (b, a)) in before.iter().zip(&out.buf).enumerate() {
        if got.is_err() || !inside.contains(&k) {
            assert_eq!(bits(&[*b]), bits(&[*a]), "{}: element {k} written", ctx2());
        }
    }
}

// ---------------------------------------------------------------------------
// Bags
// ---------------------------------------------------------------------------

/// One way to break a valid call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    BadId,
    FirstOffset,
    Decreasing,
    PastEnd,
    EmptyOffsets,
    ShortLast,
    WeightsMode,
    WeightsShape,
    OneDFixed,
    TwoDOffsets,
    Padding,
}

const FAULTS: [Fault; 11] = [
    Fault::BadId,
    Fault::FirstOffset,
    Fault::Decreasing,
    Fault::PastEnd,
    Fault::EmptyOffsets,
    Fault::ShortLast,
    Fault::WeightsMode,
    Fault::WeightsShape,
    Fault::OneDFixed,
    Fault::TwoDOffsets,
    Fault::Padding,
];

/// A random bag problem: the table, ids, offsets, weights and options.
struct BagCase<T, I> {
    rows: usize,
    d: usize,
    table: Strided<T>,
    ids: Strided<I>,
    offsets: Option<Strided<I>>,
    weights: Option<Strided<T>>,
    mode: BagMode,
    padding: Option<i64>,
    include_last: bool,
    fault: Fault,
    bags: usize,
}

impl<T: Val, I: IndexElem + PartialEq> BagCase<T, I> {
    fn new(rng: &mut Rng, big: bool) -> Self {
        let rows = if big {
            rng.range(500, 2000)
        } else if rng.one_in(12) {
            0
        } else {
            rng.range(1, 6)
        };
        let d = if big {
            rng.range(24, 72)
        } else {
            rng.pick(&[0, 1, 2, 3, 4, 7, 8, 9, 16, 17, 33])
        };
        let fault = if !big && rng.one_in(4) {
            rng.pick(&FAULTS)
        } else {
            Fault::None
        };
        let fixed = rng.one_in(4);
        let mode = rng.pick(&[BagMode::Sum, BagMode::Mean, BagMode::Max]);
        let mut weighted = mode == BagMode::Sum && rng.coin();
        let include_last = !fixed && rng.coin();
        let mut padding = (rows > 0 && rng.one_in(3)).then(|| {
            let p = rng.below(rows) as i64;
            if rng.coin() { p - rows as i64 } else { p }
        });
        let pad_row = padding.map(|p| p.rem_euclid(rows.max(1) as i64));
        // Bag sizes.
        let bags = if big {
            rng.range(200, 800)
        } else {
            rng.below(6)
        };
        let (shape, sizes): (Vec<usize>, Vec<usize>) = if fixed {
            let len = if big { rng.range(4, 12) } else { rng.below(5) };
            (vec![bags, len], vec![len; bags])
        } else {
            let sizes: Vec<usize> = (0..bags)
                .map(|_| {
                    if big {
                        rng.range(0, 16)
                    } else if rng.one_in(4) {
                        0
                    } else {
                        rng.range(1, 5)
                    }
                })
                .collect();
            (vec![sizes.iter().sum()], sizes)
        };
        let n: usize = shape.iter().product();
        // Ids: in range, some bags of padding only.
        let mut ids: Vec<i64> = Vec::with_capacity(n);
        for &s in &sizes {
            let all_pad = pad_row.is_some() && rng.one_in(4);
            for _ in 0..s {
                let id = match pad_row {
                    Some(p) if all_pad || rng.one_in(4) => p,
                    _ => rng.below(rows.max(1)) as i64,
                };
                ids.push(if rows == 0 { 0 } else { id });
            }
        }
        if rows == 0 && n > 0 && fault == Fault::None {
            // Every id is out of range: the reference names the first.
        }
        if fault == Fault::BadId && n > 0 {
            let p = rng.below(n);
            ids[p] = common::bad_index_value(rng, rows);
        }
        let mut offs: Vec<i64> = Vec::new();
        let mut at = 0i64;
        for &s in &sizes {
            offs.push(at);
            at += s as i64;
        }
        if include_last {
            offs.push(at);
        }
        let mut ids_shape = shape.clone();
        let mut with_offsets = !fixed;
        match fault {
            Fault::FirstOffset if !offs.is_empty() => offs[0] = rng.pick(&[1, -1, 5]),
            Fault::Decreasing if offs.len() > 1 => {
                let k = rng.range(1, offs.len() - 1);
                offs[k] = offs[k - 1] - 1;
            }
            Fault::PastEnd if !offs.is_empty() => {
                let k = rng.below(offs.len());
                offs[k] = n as i64 + 1 + rng.below(3) as i64;
            }
            Fault::EmptyOffsets => offs.clear(),
            Fault::ShortLast if include_last && n > 0 => {
                let last = offs.len() - 1;
                offs[last] -= 1;
            }
            Fault::OneDFixed => {
                with_offsets = false;
                ids_shape = vec![n];
            }
            Fault::TwoDOffsets => {
                with_offsets = true;
                ids_shape = vec![1, n];
            }
            Fault::Padding => {
                let r = rows as i64;
                padding = Some(rng.pick(&[r, r + 3, -r - 1, i64::MIN, i64::MAX]));
            }
            Fault::WeightsMode => weighted = true,
            _ => {}
        }
        let mode = if fault == Fault::WeightsMode && mode == BagMode::Sum {
            rng.pick(&[BagMode::Mean, BagMode::Max])
        } else {
            mode
        };
        let ids_v: Vec<I> = common::idx(&ids);
        let ids = place(rng, &ids_v, &ids_shape, I::from_i64_wrapping(-1));
        let offsets = with_offsets.then(|| {
            let o: Vec<I> = common::idx(&offs);
            place(rng, &o, &[o.len()], I::from_i64_wrapping(-7))
        });
        let weights = weighted.then(|| {
            let mut ws = ids_shape.clone();
            if fault == Fault::WeightsShape {
                ws.push(1);
            }
            let n: usize = ws.iter().product();
            let w: Vec<T> = (0..n)
                .map(|_| {
                    if big {
                        T::pick_finite(rng)
                    } else {
                        T::pick(rng)
                    }
                })
                .collect();
            let pad = T::pick(rng);
            place(rng, &w, &ws, pad)
        });
        let table = values::<T>(rng, &[rows, d], big);
        BagCase {
            rows,
            d,
            table,
            ids,
            offsets,
            weights,
            mode,
            padding,
            include_last,
            fault,
            bags,
        }
    }

    fn bags(&self) -> Bags<'_, T, I> {
        let ids = self.ids.view();
        let mut b = match &self.offsets {
            Some(o) => Bags::with_offsets(&ids, &o.view()),
            None => Bags::fixed(&ids),
        }
        .mode(self.mode)
        .include_last_offset(self.include_last);
        if let Some(p) = self.padding {
            b = b.padding_idx(p);
        }
        if let Some(w) = &self.weights {
            b = b.per_sample_weights(&w.view());
        }
        b
    }

    fn describe(&self) -> String {
        let ids: Vec<i128> = self
            .ids
            .view()
            .to_vec()
            .iter()
            .map(|i| i.to_i128())
            .collect();
        let offs: Option<Vec<i128>> = self
            .offsets
            .as_ref()
            .map(|o| o.view().to_vec().iter().map(|i| i.to_i128()).collect());
        format!(
            "{}<{}> table [{}, {}] {:?}, mode {:?}, padding {:?}, include_last {}, fault {:?}\n  \
             table {:?}\n  ids {ids:?} ({:?})\n  offsets {offs:?}\n  weights {:?}",
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            self.rows,
            self.d,
            self.table.layout,
            self.mode,
            self.padding,
            self.include_last,
            self.fault,
            self.table.view().to_vec(),
            self.ids.layout,
            self.weights.as_ref().map(|w| w.view().to_vec()),
        )
    }
}

fn bag_case<T: Val, I: IndexElem + PartialEq>(seed: u64) {
    let mut rng = Rng::new(seed);
    let case = BagCase::<T, I>::new(&mut rng, false);
    let (table, bags) = (case.table.view(), case.bags());
    let ctx = || case.describe();
    let want = embedding_bag_ref(&table, &bags);
    if case.fault == Fault::None && case.rows > 0 {
        assert!(want.is_ok(), "{}: the reference refused {want:?}", ctx());
    }
    check(&want, &fastgather::embedding_bag(&table, &bags), &ctx);
    for isa in Isa::available() {
        for opts in [
            GatherOptions::new().isa(isa),
            GatherOptions::new().isa(isa).sequential(),
        ] {
            let got = fastgather::embedding_bag_with(&table, &bags, &opts);
            check(&want, &got, &|| format!("{} {opts:?}", ctx()));
        }
    }
    let shape = match &want {
        Ok(w) => w.shape().to_vec(),
        Err(_) => vec![case.bags, case.d],
    };
    check_into(&mut rng, &want, &shape, &ctx, |out| {
        fastgather::embedding_bag_into(&table, &bags, out)
    });
    let opts = options(&mut rng);
    check_into(&mut rng, &want, &shape, &ctx, |out| {
        fastgather::embedding_bag_into_with(&table, &bags, out, &opts)
    });
    // explain: the same checks, and the kernel the table's layout asks for.
    let choice = fastgather::explain_embedding_bag(&table, &bags, &opts);
    match (&want, &choice) {
        (Ok(_), Ok(c)) => {
            let dense = table.strides()[1] == 1 || case.d <= 1;
            let name = if dense {
                "embedding::pool"
            } else {
                "embedding::pool_strided"
            };
            assert_eq!(c.kernel, name, "{}", ctx());
        }
        (Err(w), Err(g)) => assert!(same_error(w, g), "{}: explain {g:?}", ctx()),
        _ => panic!("{}: explain {choice:?} for {want:?}", ctx()),
    }
}

fn bag_backward_case<T: Val, I: IndexElem + PartialEq>(seed: u64) {
    let mut rng = Rng::new(seed);
    let mut case = BagCase::<T, I>::new(&mut rng, false);
    if case.mode == BagMode::Max {
        // NaNs of two bit patterns in one column make the row a max's
        // gradient goes to ambiguous: see `max_gradient_with_two_nan_patterns`.
        for x in case.table.buf.iter_mut() {
            *x = x.canonical();
        }
    }
    let (table, bags) = (case.table.view(), case.bags());
    let count = bags.count().unwrap_or(case.bags);
    let mut gshape = vec![count, case.d];
    if rng.one_in(16) {
        gshape[rng.below(2)] += 1;
    }
    let grad = values::<T>(&mut rng, &gshape, false);
    let g = grad.view();
    let ctx = || {
        format!(
            "{}\n  grad {:?} {:?}",
            case.describe(),
            grad.layout,
            g.to_vec()
        )
    };
    let want = embedding_bag_backward_ref(&table, &bags, &g);
    check_grads(
        &want,
        &fastgather::embedding_bag_backward(&table, &bags, &g),
        &ctx,
    );
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        let got = fastgather::embedding_bag_backward_with(&table, &bags, &g, &opts);
        check_grads(&want, &got, &|| format!("{} {isa:?}", ctx()));
    }
    // The _into forms, with and without the weights' gradient.
    for with_opts in [false, true] {
        let opts = options(&mut rng);
        let style = rng.pick(&MUT_STYLES);
        let gw_layout = make_layout(&mut rng, &[case.rows, case.d], style, false);
        let mut gw = Strided::filled(&mut rng, gw_layout, T::pick);
        let want_psw = case.weights.is_some() && rng.coin();
        let ps_shape = case.ids.layout.shape.clone();
        let style = rng.pick(&MUT_STYLES);
        let ps_layout = make_layout(&mut rng, &ps_shape, style, false);
        let mut ps = Strided::filled(&mut rng, ps_layout, T::pick);
        let (gw0, ps0) = (gw.buf.clone(), ps.buf.clone());
        let res = {
            let mut gwv = gw.view_mut();
            let mut psv = ps.view_mut();
            let psv = want_psw.then_some(&mut psv);
            if with_opts {
                fastgather::embedding_bag_backward_into_with(
                    &table, &bags, &g, &mut gwv, psv, &opts,
                )
            } else {
                fastgather::embedding_bag_backward_into(&table, &bags, &g, &mut gwv, psv)
            }
        };
        let ctx2 = || format!("{} into (opts {with_opts}, psw {want_psw})", ctx());
        match (&want, &res) {
            (Ok(w), Ok(())) => {
                let got = gw.view().to_tensor();
                assert!(same_tensor(&w.weight, &got), "{}: {got:?}", ctx2());
                if want_psw {
                    let w = w.per_sample_weights.as_ref().expect("weights");
                    let got = ps.view().to_tensor();
                    assert!(same_tensor(w, &got), "{}: psw {got:?}", ctx2());
                } else {
                    assert_eq!(bits(&ps0), bits(&ps.buf), "{}", ctx2());
                }
            }
            (Err(w), Err(e)) => {
                assert!(same_error(w, e), "{}: {e:?}", ctx2());
                assert_eq!(bits(&gw0), bits(&gw.buf), "{}: written", ctx2());
                assert_eq!(bits(&ps0), bits(&ps.buf), "{}: written", ctx2());
            }
            _ => panic!("{}: {want:?} vs {res:?}", ctx2()),
        }
    }
}

// ---------------------------------------------------------------------------
// embedding and its gradient
// ---------------------------------------------------------------------------

/// The lookup by hand: row `ids[p]` at every position.
fn lookup<T: Val, I: IndexElem>(
    table: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    let (rows, d) = (table.shape()[0], table.shape()[1]);
    let mut out = Vec::new();
    for pos in common::positions(ids.shape()) {
        let v = ids.get(&pos).unwrap().to_i128();
        if v < 0 || v >= rows as i128 {
            return Err(GatherError::IndexOutOfBounds {
                value: v,
                position: pos,
                dim: 0,
                size: rows,
                wraps: false,
            });
        }
        out.extend((0..d).map(|j| *table.get(&[v as usize, j]).unwrap()));
    }
    let mut shape = ids.shape().to_vec();
    shape.push(d);
    Tensor::from_vec(out, &shape)
}

fn embedding_case<T: Val, I: IndexElem + PartialEq>(seed: u64) {
    let mut rng = Rng::new(seed);
    let rows = if rng.one_in(10) { 0 } else { rng.range(1, 6) };
    let d = rng.pick(&[0, 1, 3, 8, 17]);
    let rank = rng.below(4);
    let ids_shape: Vec<usize> = (0..rank).map(|_| rng.below(4)).collect();
    let n: usize = ids_shape.iter().product();
    let bad = rng.one_in(5);
    let mut ids: Vec<i64> = (0..n).map(|_| rng.below(rows.max(1)) as i64).collect();
    if bad && n > 0 {
        let p = rng.below(n);
        ids[p] = common::bad_index_value(&mut rng, rows);
    }
    let ids_v: Vec<I> = common::idx(&ids);
    let ids = place(&mut rng, &ids_v, &ids_shape, I::from_i64_wrapping(-1));
    let table = values::<T>(&mut rng, &[rows, d], false);
    let padding = (rows > 0 && rng.coin()).then(|| rng.below(rows) as i64 - rows as i64);
    let mut gshape = ids_shape.clone();
    gshape.push(d);
    if rng.one_in(16) {
        let k = rng.below(gshape.len());
        gshape[k] += 1;
    }
    let grad = values::<T>(&mut rng, &gshape, false);
    let (t, i, g) = (table.view(), ids.view(), grad.view());
    let ctx = || {
        format!(
            "{}<{}> table {:?} ids {:?} {:?} grad {:?} padding {padding:?}\n  table {:?}\n  grad {:?}",
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            table.layout,
            ids.layout,
            i.to_vec().iter().map(|v| v.to_i128()).collect::<Vec<_>>(),
            grad.layout,
            t.to_vec(),
            g.to_vec()
        )
    };
    // Forward.
    let want = lookup(&t, &i);
    check(&want, &fastgather::embedding(&t, &i), &ctx);
    let opts = options(&mut rng);
    check(&want, &fastgather::embedding_with(&t, &i, &opts), &ctx);
    let mut oshape = ids_shape.clone();
    oshape.push(d);
    // embedding_into documents no state of `out` after an error: values only.
    let style = rng.pick(&MUT_STYLES);
    let layout = make_layout(&mut rng, &oshape, style, false);
    let mut out = Strided::filled(&mut rng, layout, T::pick);
    let res = if rng.coin() {
        fastgather::embedding_into(&t, &i, &mut out.view_mut())
    } else {
        fastgather::embedding_into_with(&t, &i, &mut out.view_mut(), &opts)
    };
    check(&want, &res.map(|()| out.view().to_tensor()), &ctx);
    // Backward.
    let want = embedding_backward_ref(&g, &i, rows, padding);
    let got = fastgather::embedding_backward(&g, &i, rows, padding);
    check(&want, &got, &ctx);
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        let got = fastgather::embedding_backward_with(&g, &i, rows, padding, &opts);
        check(&want, &got, &|| format!("{} {isa:?}", ctx()));
    }
    // The table's gradient as wide as the gradient (as the allocating form
    // makes it); a mismatch of the two is in `backward_errors_name_their_fields`.
    let gd = *gshape.last().unwrap();
    let opts = options(&mut rng);
    check_into(&mut rng, &want, &[rows, gd], &ctx, |out| {
        fastgather::embedding_backward_into(&g, &i, padding, out)
    });
    check_into(&mut rng, &want, &[rows, gd], &ctx, |out| {
        fastgather::embedding_backward_into_with(&g, &i, padding, out, &opts)
    });
}

// ---------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------

const REDUCTIONS: [Reduction; 5] = [
    Reduction::Sum,
    Reduction::Prod,
    Reduction::Mean,
    Reduction::Amax,
    Reduction::Amin,
];

fn segment_case<T: Val, I: IndexElem + PartialEq>(seed: u64) {
    let mut rng = Rng::new(seed);
    let reduce = rng.pick(&REDUCTIONS);
    let initial = rng.coin().then(|| T::pick(&mut rng));
    // Integer means of empty segments without `initial` divide by zero
    // (see `segment_mean_of_empty_int_segment`): not generated here.
    let no_empty = !T::FLOAT && reduce == Reduction::Mean && initial.is_none();
    let count = rng.below(6);
    let mut lengths: Vec<i64> = (0..count)
        .map(|_| {
            if !no_empty && rng.one_in(3) {
                0
            } else {
                rng.range(1, 4) as i64
            }
        })
        .collect();
    let rows: usize = lengths.iter().sum::<i64>() as usize;
    let rank = rng.range(1, 3);
    let mut shape = vec![rows];
    shape.extend((1..rank).map(|_| if rng.one_in(10) { 0 } else { rng.range(1, 5) }));
    let use_offsets = rng.coin();
    let mut offs = vec![0i64];
    for &l in &lengths {
        offs.push(offs.last().unwrap() + l);
    }
    let fault = rng.one_in(5).then(|| rng.below(6));
    let mut seg_shape = None;
    match fault {
        Some(0) if count > 0 => {
            let k = rng.below(count);
            lengths[k] = -lengths[k] - 1;
            offs[k + 1] = offs[k] - 1;
        }
        Some(1) => {
            lengths.push(1);
            *offs.last_mut().unwrap() += 1;
        }
        Some(2) if count > 0 => {
            lengths[count - 1] -= 1;
            let k = offs.len() - 1;
            offs[k] -= 1;
        }
        Some(3) => offs[0] = rng.pick(&[1, -1]),
        Some(4) => {
            offs.clear();
            lengths.clear();
        }
        Some(5) => seg_shape = Some(1),
        _ => {}
    }
    let segs = if use_offsets { offs } else { lengths };
    let seg_shape = match seg_shape {
        Some(_) => vec![segs.len(), 1],
        None => vec![segs.len()],
    };
    let segs_v: Vec<I> = common::idx(&segs);
    let segs = place(&mut rng, &segs_v, &seg_shape, I::from_i64_wrapping(-3));
    let data = values::<T>(&mut rng, &shape, false);
    let v = segs.view();
    let segments = if use_offsets {
        Segments::Offsets(v.clone())
    } else {
        Segments::Lengths(v.clone())
    };
    let x = data.view();
    let ctx = || {
        format!(
            "{}<{}> {reduce:?} initial {initial:?} {} {:?} {:?} fault {fault:?} data {:?}\n  data {:?}",
            std::any::type_name::<T>(),
            std::any::type_name::<I>(),
            if use_offsets { "offsets" } else { "lengths" },
            v.to_vec().iter().map(|v| v.to_i128()).collect::<Vec<_>>(),
            segs.layout,
            data.layout,
            x.to_vec()
        )
    };
    let want = segment_reduce_ref(&x, &segments, reduce, initial);
    if fault.is_none() {
        assert!(want.is_ok(), "{}: reference refused {want:?}", ctx());
    }
    check(
        &want,
        &fastgather::segment_reduce(&x, &segments, reduce, initial),
        &ctx,
    );
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        let got = fastgather::segment_reduce_with(&x, &segments, reduce, initial, &opts);
        check(&want, &got, &|| format!("{} {isa:?}", ctx()));
    }
    let mut oshape = shape.clone();
    oshape[0] = match &want {
        Ok(w) => w.shape()[0],
        Err(_) => count,
    };
    let opts = options(&mut rng);
    check_into(&mut rng, &want, &oshape, &ctx, |out| {
        fastgather::segment_reduce_into(&x, &segments, reduce, initial, out)
    });
    check_into(&mut rng, &want, &oshape, &ctx, |out| {
        fastgather::segment_reduce_into_with(&x, &segments, reduce, initial, out, &opts)
    });
}

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

macro_rules! dispatch {
    ($e:expr, $f:ident($($arg:expr),*)) => {
        match $e {
            0 => $f::<f32, i64>($($arg),*),
            1 => $f::<f32, i32>($($arg),*),
            2 => $f::<f64, i64>($($arg),*),
            3 => $f::<i32, i32>($($arg),*),
            #[cfg(feature = "half")]
            4 => $f::<fastgather::half::f16, i64>($($arg),*),
            #[cfg(feature = "half")]
            5 => $f::<fastgather::half::bf16, i32>($($arg),*),
            _ => $f::<f64, i32>($($arg),*),
        }
    };
}

#[cfg(feature = "half")]
const ELEMS: u8 = 6;
#[cfg(not(feature = "half"))]
const ELEMS: u8 = 4;

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(400), ..ProptestConfig::default() })]

    /// embedding_bag: every form against the reference.
    #[test]
    fn embedding_bag_matches_reference(seed in any::<u64>(), elem in 0..ELEMS) {
        dispatch!(elem, bag_case(seed));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(200), ..ProptestConfig::default() })]

    /// embedding_bag_backward: the table's and the weights' gradients.
    #[test]
    fn embedding_bag_backward_matches_reference(seed in any::<u64>(), elem in 0..ELEMS) {
        dispatch!(elem, bag_backward_case(seed));
    }

    /// embedding and embedding_backward.
    #[test]
    fn embedding_and_backward_match_reference(seed in any::<u64>(), elem in 0..ELEMS) {
        dispatch!(elem, embedding_case(seed));
    }

    /// segment_reduce: lengths and offsets, every reduction, data of rank 1-3.
    #[test]
    fn segment_reduce_matches_reference(seed in any::<u64>(), elem in 0..ELEMS) {
        dispatch!(elem, segment_case(seed));
    }
}

// ---------------------------------------------------------------------------
// Threads and paths
// ---------------------------------------------------------------------------

fn pools() -> &'static [rayon::ThreadPool] {
    static POOLS: OnceLock<Vec<rayon::ThreadPool>> = OnceLock::new();
    POOLS.get_or_init(|| {
        [1, 2, 4]
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

/// `run` on 1, 2 and 4 threads and every path: all the same bits as the
/// first run.
fn agree<R: Send>(
    what: &str,
    run: impl Fn(&GatherOptions) -> R + Sync,
    to_bits: impl Fn(&R) -> Vec<u8>,
) {
    let first = to_bits(&run(&GatherOptions::new().sequential()));
    for pool in pools() {
        let n = pool.current_num_threads();
        for isa in Isa::available() {
            let got = pool.install(|| run(&GatherOptions::new().isa(isa)));
            assert!(
                to_bits(&got) == first,
                "{what}: {isa:?} on {n} threads differs"
            );
        }
    }
}

fn threads_case<T: Val>(seed: u64) {
    let mut rng = Rng::new(seed);
    let case = BagCase::<T, i64>::new(&mut rng, true);
    let (table, bags) = (case.table.view(), case.bags());
    let ctx = format!(
        "{} [{}, {}] {:?} padding {:?} weights {}",
        std::any::type_name::<T>(),
        case.rows,
        case.d,
        case.mode,
        case.padding,
        case.weights.is_some()
    );
    let want = embedding_bag_ref(&table, &bags).expect("valid bags");
    let got = fastgather::embedding_bag(&table, &bags).unwrap();
    assert!(same_tensor(&want, &got), "{ctx}: forward");
    let tensor_bits =
        |r: &Result<Tensor<T>, GatherError>| bits(r.as_ref().unwrap().as_slice()).to_vec();
    agree(
        &format!("{ctx} forward"),
        |o| fastgather::embedding_bag_with(&table, &bags, o),
        tensor_bits,
    );
    let grad = values::<T>(&mut rng, &[want.shape()[0], case.d], true);
    let g = grad.view();
    let want = embedding_bag_backward_ref(&table, &bags, &g).unwrap();
    let got = fastgather::embedding_bag_backward(&table, &bags, &g).unwrap();
    check_grads(&Ok(want), &Ok(got), &|| format!("{ctx} backward"));
    agree(
        &format!("{ctx} backward"),
        |o| fastgather::embedding_bag_backward_with(&table, &bags, &g, o),
        |r| {
            let r = r.as_ref().unwrap();
            let mut b = bits(r.weight.as_slice()).to_vec();
            if let Some(p) = &r.per_sample_weights {
                b.extend_from_slice(bits(p.as_slice()));
            }
            b
        },
    );
    // embedding_backward on the same ids, as a 1-d lookup.
    let ids = case.ids.view().to_tensor();
    let ids = ids.view().reshape(&[ids.len()]).unwrap();
    let grad = values::<T>(&mut rng, &[ids.len(), case.d], true);
    let g = grad.view();
    let want = embedding_backward_ref(&g, &ids, case.rows, case.padding);
    check(
        &want,
        &fastgather::embedding_backward(&g, &ids, case.rows, case.padding),
        &|| format!("{ctx} embedding_backward"),
    );
    agree(
        &format!("{ctx} embedding_backward"),
        |o| fastgather::embedding_backward_with(&g, &ids, case.rows, case.padding, o),
        tensor_bits,
    );
    // segment_reduce over the table's rows.
    let mut lengths = Vec::new();
    let mut left = case.rows as i64;
    while left > 0 {
        let l = (rng.range(1, 12) as i64).min(left);
        lengths.push(l);
        left -= l;
    }
    let lengths = TensorView::new(&lengths, &[lengths.len()])
        .unwrap()
        .to_tensor();
    let segments = Segments::Lengths(lengths.view());
    for reduce in REDUCTIONS {
        let init = rng.coin().then(|| T::pick_finite(&mut rng));
        let want = segment_reduce_ref(&table, &segments, reduce, init);
        let got = fastgather::segment_reduce(&table, &segments, reduce, init);
        check(&want, &got, &|| format!("{ctx} segment {reduce:?}"));
        agree(
            &format!("{ctx} segment {reduce:?}"),
            |o| fastgather::segment_reduce_with(&table, &segments, reduce, init, o),
            tensor_bits,
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(12), ..ProptestConfig::default() })]

    /// Problems large enough to split: 1, 2 and 4 threads and every path give
    /// the same bits, equal to the reference.
    #[test]
    fn threads_and_paths_agree(seed in any::<u64>(), elem in 0u8..3) {
        match elem {
            0 => threads_case::<f32>(seed),
            1 => threads_case::<f64>(seed),
            _ => threads_case::<i32>(seed),
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases: the rules and the errors, written out
// ---------------------------------------------------------------------------

/// Offsets or lengths, a flag (include_last_offset, or lengths), and the
/// error's (position, value, ids).
type OffsetsCase = (&'static [i64], bool, (usize, i128, usize));

fn tv<'a, T>(v: &'a [T], shape: &[usize]) -> TensorView<'a, T> {
    TensorView::new(v, shape).unwrap()
}

fn emb_arg(e: &GatherError) -> &'static str {
    match e {
        GatherError::InvalidEmbeddingArgument { op, .. } => op,
        other => panic!("not an InvalidEmbeddingArgument: {other:?}"),
    }
}

/// (position, value, ids) of an `InvalidOffsets`, checking `op`.
fn offsets_err(e: &GatherError, want_op: &str) -> (usize, i128, usize) {
    match e {
        GatherError::InvalidOffsets {
            op,
            position,
            value,
            ids,
            ..
        } => {
            assert_eq!(*op, want_op);
            (*position, *value, *ids)
        }
        other => panic!("not an InvalidOffsets: {other:?}"),
    }
}

/// `embedding_bag_into` fails with `want` and leaves `out` untouched, as do
/// the allocating form, the reference and explain.
#[track_caller]
fn bag_err<I: IndexElem>(
    table: &TensorView<'_, f32>,
    bags: &Bags<'_, f32, I>,
    out_shape: &[usize],
) -> GatherError {
    let e = fastgather::embedding_bag(table, bags).unwrap_err();
    let r = embedding_bag_ref(table, bags).unwrap_err();
    assert!(same_error(&e, &r), "{e:?} vs reference {r:?}");
    let x = fastgather::explain_embedding_bag(table, bags, &GatherOptions::new()).unwrap_err();
    assert_eq!(e, x);
    let n: usize = out_shape.iter().product();
    let mut buf = vec![7.5f32; n];
    let got = fastgather::embedding_bag_into(
        table,
        bags,
        &mut TensorViewMut::new(&mut buf, out_shape).unwrap(),
    );
    assert_eq!(got.unwrap_err(), e);
    assert!(buf.iter().all(|&v| v == 7.5), "out written before {e:?}");
    e
}

#[test]
fn bag_errors_name_their_fields() {
    let table_v = [0.0f32; 6];
    let table = tv(&table_v, &[3, 2]);
    // A bad id at its position, 1-d and 2-d, i64 and i32.
    let ids = [0i64, 2, 3, 1];
    let offs = [0i64, 2];
    let e = bag_err(
        &table,
        &Bags::with_offsets(&tv(&ids, &[4]), &tv(&offs, &[2])),
        &[2, 2],
    );
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![2],
            dim: 0,
            size: 3,
            wraps: false
        }
    );
    let ids32 = [0i32, 1, 1, -4, 9, 0];
    let e = bag_err(&table, &Bags::fixed(&tv(&ids32, &[2, 3])), &[2, 2]);
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: -4,
            position: vec![1, 0],
            dim: 0,
            size: 3,
            wraps: false
        }
    );
    // A transposed 2-d ids view: positions are the view's.
    let ids_t = [0i64, 1, 2, 5];
    let v = tv(&ids_t, &[2, 2]).transpose(0, 1).unwrap(); // [[0, 2], [1, 5]]
    let e = bag_err(&table, &Bags::fixed(&v), &[2, 2]);
    assert!(
        matches!(e, GatherError::IndexOutOfBounds { value: 5, ref position, .. } if position == &[1, 1])
    );
    // Offsets: first not 0, decreasing, past the end, empty with ids, short
    // last with include_last_offset.
    let ids = [0i64, 1, 2, 1];
    let iv = tv(&ids, &[4]);
    let cases: [OffsetsCase; 7] = [
        (&[1, 2], false, (0, 1, 4)),
        (&[-1, 2], false, (0, -1, 4)),
        (&[0, 3, 2], false, (2, 2, 4)),
        (&[0, 5], false, (1, 5, 4)),
        (&[], false, (0, 0, 4)),
        (&[0, 2, 3], true, (2, 3, 4)),
        (&[0, 2, 5], true, (2, 5, 4)),
    ];
    for (offs, last, want) in cases {
        let ov = tv(offs, &[offs.len()]);
        let bags = Bags::with_offsets(&iv, &ov).include_last_offset(last);
        let count = offs.len().saturating_sub(last as usize).max(1);
        let e = bag_err(&table, &bags, &[count, 2]);
        assert_eq!(offsets_err(&e, "embedding_bag"), want, "offsets {offs:?}");
    }
    // Empty offsets with include_last_offset and ids.
    let empty: [i64; 0] = [];
    let bags = Bags::with_offsets(&iv, &tv(&empty, &[0])).include_last_offset(true);
    assert_eq!(
        offsets_err(&bag_err(&table, &bags, &[0, 2]), "embedding_bag"),
        (0, 0, 4)
    );
    // Weights with mean or max, and of another shape.
    let w = [1.0f32; 5];
    let ov = tv(&offs, &[2]);
    for mode in [BagMode::Mean, BagMode::Max] {
        let bags = Bags::with_offsets(&iv, &ov)
            .mode(mode)
            .per_sample_weights(&tv(&w[..4], &[4]));
        assert_eq!(emb_arg(&bag_err(&table, &bags, &[2, 2])), "embedding_bag");
    }
    let bags = Bags::with_offsets(&iv, &ov).per_sample_weights(&tv(&w, &[5]));
    assert_eq!(emb_arg(&bag_err(&table, &bags, &[2, 2])), "embedding_bag");
    let bags = Bags::with_offsets(&iv, &ov).per_sample_weights(&tv(&w[..4], &[2, 2]));
    assert_eq!(emb_arg(&bag_err(&table, &bags, &[2, 2])), "embedding_bag");
    // 1-d ids without offsets, 2-d ids with offsets, 2-d offsets.
    assert_eq!(
        emb_arg(&bag_err(&table, &Bags::fixed(&iv), &[1, 2])),
        "embedding_bag"
    );
    let bags = Bags::with_offsets(&tv(&ids, &[2, 2]), &ov);
    assert_eq!(emb_arg(&bag_err(&table, &bags, &[2, 2])), "embedding_bag");
    let bags = Bags::with_offsets(&iv, &tv(&offs, &[1, 2]));
    assert_eq!(emb_arg(&bag_err(&table, &bags, &[2, 2])), "embedding_bag");
    // padding_idx outside -rows..rows; its edges are fine.
    for p in [3i64, -4, i64::MIN, i64::MAX] {
        let bags = Bags::with_offsets(&iv, &ov).padding_idx(p);
        assert_eq!(emb_arg(&bag_err(&table, &bags, &[2, 2])), "embedding_bag");
    }
    for p in [2i64, -3] {
        let bags = Bags::with_offsets(&iv, &ov).padding_idx(p);
        assert!(fastgather::embedding_bag(&table, &bags).is_ok());
    }
    // A table that is not 2-d.
    let bags = Bags::with_offsets(&iv, &ov);
    let e = bag_err(&tv(&table_v, &[6]), &bags, &[2, 2]);
    assert_eq!(emb_arg(&e), "embedding_bag");
    // out of the wrong shape: untouched.
    let mut buf = [9.0f32; 6];
    let e = fastgather::embedding_bag_into(
        &table,
        &bags,
        &mut TensorViewMut::new(&mut buf, &[3, 2]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::OutShapeMismatch {
            expected: vec![2, 2],
            actual: vec![3, 2]
        }
    );
    assert_eq!(buf, [9.0; 6]);
    // Index modes are refused, by every entry point.
    for mode in [
        IndexMode::Wrap,
        IndexMode::Clamp,
        IndexMode::Drop,
        IndexMode::Fill,
    ] {
        let opts = GatherOptions::new().mode(mode);
        let is_opt =
            |e: GatherError| assert!(matches!(e, GatherError::InvalidOption { .. }), "{e:?}");
        is_opt(fastgather::embedding_bag_with(&table, &bags, &opts).unwrap_err());
        is_opt(fastgather::explain_embedding_bag(&table, &bags, &opts).unwrap_err());
        let mut buf = [9.0f32; 4];
        let r = fastgather::embedding_bag_into_with(
            &table,
            &bags,
            &mut TensorViewMut::new(&mut buf, &[2, 2]).unwrap(),
            &opts,
        );
        is_opt(r.unwrap_err());
        assert_eq!(buf, [9.0; 4]);
        let g = [1.0f32; 4];
        let gv = tv(&g, &[2, 2]);
        is_opt(fastgather::embedding_bag_backward_with(&table, &bags, &gv, &opts).unwrap_err());
        is_opt(fastgather::embedding_with(&table, &iv, &opts).unwrap_err());
        let g8 = [1.0f32; 8];
        let g8v = tv(&g8, &[4, 2]);
        is_opt(fastgather::embedding_backward_with(&g8v, &iv, 3, None, &opts).unwrap_err());
        let data = [1.0f32; 4];
        let lengths = [4i64];
        let segs = Segments::Lengths(tv(&lengths, &[1]));
        let r =
            fastgather::segment_reduce_with(&tv(&data, &[4]), &segs, Reduction::Sum, None, &opts);
        is_opt(r.unwrap_err());
    }
}

#[test]
fn backward_errors_name_their_fields() {
    let table_v = [1.0f32; 6];
    let table = tv(&table_v, &[3, 2]);
    let ids = [0i64, 1, 2];
    let offs = [0i64, 1];
    let (iv, ov) = (tv(&ids, &[3]), tv(&offs, &[2]));
    let w = [0.5f32; 3];
    let bags = Bags::with_offsets(&iv, &ov).per_sample_weights(&tv(&w, &[3]));
    // grad of a shape other than [bags, dim].
    let g = [1.0f32; 6];
    for shape in [[3usize, 2], [2, 3]] {
        let gv = tv(&g, &shape);
        let e = fastgather::embedding_bag_backward(&table, &bags, &gv).unwrap_err();
        assert_eq!(emb_arg(&e), "embedding_bag_backward");
        let r = embedding_bag_backward_ref(&table, &bags, &gv).unwrap_err();
        assert!(same_error(&e, &r));
    }
    let gv = tv(&g[..4], &[2, 2]);
    // Bag errors come through.
    let bad = [0i64, 3, 1];
    let bbags = Bags::<f32, _>::with_offsets(&tv(&bad, &[3]), &ov);
    let e = fastgather::embedding_bag_backward(&table, &bbags, &gv).unwrap_err();
    assert!(matches!(e, GatherError::IndexOutOfBounds { value: 3, .. }));
    // grad_weight and grad_per_sample_weights of the wrong shape; psw grads
    // asked of bags without weights: nothing written.
    let mut gw = [9.0f32; 8];
    let mut ps = [9.0f32; 3];
    let e = fastgather::embedding_bag_backward_into(
        &table,
        &bags,
        &gv,
        &mut TensorViewMut::new(&mut gw, &[4, 2]).unwrap(),
        Some(&mut TensorViewMut::new(&mut ps, &[3]).unwrap()),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::OutShapeMismatch {
            expected: vec![3, 2],
            actual: vec![4, 2]
        }
    );
    let e = fastgather::embedding_bag_backward_into(
        &table,
        &bags,
        &gv,
        &mut TensorViewMut::new(&mut gw[..6], &[3, 2]).unwrap(),
        Some(&mut TensorViewMut::new(&mut ps[..2], &[2]).unwrap()),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::OutShapeMismatch {
            expected: vec![3],
            actual: vec![2]
        }
    );
    let plain = Bags::with_offsets(&iv, &ov);
    let e = fastgather::embedding_bag_backward_into(
        &table,
        &plain,
        &gv,
        &mut TensorViewMut::new(&mut gw[..6], &[3, 2]).unwrap(),
        Some(&mut TensorViewMut::new(&mut ps, &[3]).unwrap()),
    )
    .unwrap_err();
    assert_eq!(emb_arg(&e), "embedding_bag_backward");
    assert_eq!(gw, [9.0; 8]);
    assert_eq!(ps, [9.0; 3]);
    // embedding_backward: grad shape, padding_idx, a bad id at its position,
    // grad_weight not 2-d.
    let ids2 = [0i64, 1, 2, 7];
    let i2 = tv(&ids2, &[2, 2]);
    let g8 = [1.0f32; 8];
    let e = fastgather::embedding_backward(&tv(&g8, &[4, 2]), &i2, 3, None).unwrap_err();
    assert_eq!(emb_arg(&e), "embedding_backward");
    let g2 = tv(&g8, &[2, 2, 2]);
    let e = fastgather::embedding_backward(&g2, &i2, 3, None).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 7,
            position: vec![1, 1],
            dim: 0,
            size: 3,
            wraps: false
        }
    );
    assert_eq!(embedding_backward_ref(&g2, &i2, 3, None).unwrap_err(), e);
    for p in [3i64, -4] {
        let e = fastgather::embedding_backward(&g2, &i2, 3, Some(p)).unwrap_err();
        assert_eq!(emb_arg(&e), "embedding_backward");
    }
    let mut out = [9.0f32; 6];
    let e = fastgather::embedding_backward_into(
        &g2,
        &i2,
        None,
        &mut TensorViewMut::new(&mut out, &[6]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(emb_arg(&e), "embedding_backward");
    let e = fastgather::embedding_backward_into(
        &g2,
        &i2,
        None,
        &mut TensorViewMut::new(&mut out, &[3, 2]).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, GatherError::IndexOutOfBounds { value: 7, .. }));
    assert_eq!(out, [9.0; 6]);
    // embedding: a bad id at its position in the ids.
    let e = fastgather::embedding(&table, &i2).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 7,
            position: vec![1, 1],
            dim: 0,
            size: 3,
            wraps: false
        }
    );
}

#[test]
fn segment_errors_name_their_fields() {
    let data_v = [1.0f32; 8];
    let data = tv(&data_v, &[4, 2]);
    let seg = |s: Segments<'_, i64>| {
        let e = fastgather::segment_reduce(&data, &s, Reduction::Sum, None).unwrap_err();
        let r = segment_reduce_ref(&data, &s, Reduction::Sum, None).unwrap_err();
        assert!(same_error(&e, &r), "{e:?} vs reference {r:?}");
        let mut out = [9.0f32; 4];
        let got = fastgather::segment_reduce_into(
            &data,
            &s,
            Reduction::Sum,
            None,
            &mut TensorViewMut::new(&mut out, &[2, 2]).unwrap(),
        );
        assert_eq!(got.unwrap_err(), e);
        assert_eq!(out, [9.0; 4]);
        e
    };
    // Offsets need not start at 0 nor end at the rows (torch's rule): only
    // negative, decreasing and past-the-end entries are refused.
    let cases: [OffsetsCase; 7] = [
        (&[2, -1, 3], true, (1, -1, 4)),
        (&[2, 3], true, (1, 3, 4)),
        (&[1, 2], true, (1, 2, 4)),
        (&[], true, (0, 0, 4)),
        (&[-1, 4], false, (0, -1, 4)),
        (&[0, 3, 2, 4], false, (2, 2, 4)),
        (&[0, 5], false, (1, 5, 4)),
    ];
    for (v, is_len, want) in cases {
        let view = tv(v, &[v.len()]);
        let s = if is_len {
            Segments::Lengths(view)
        } else {
            Segments::Offsets(view)
        };
        assert_eq!(
            offsets_err(&seg(s), "segment_reduce"),
            want,
            "{v:?} {is_len}"
        );
    }
    let two_d = [2i64, 2];
    assert_eq!(
        emb_arg(&seg(Segments::Lengths(tv(&two_d, &[1, 2])))),
        "segment_reduce"
    );
    assert_eq!(
        emb_arg(&seg(Segments::Offsets(tv(&two_d, &[2, 1])))),
        "segment_reduce"
    );
    // 0-d data.
    let one = [1.0f32];
    let l = [1i64];
    let s = Segments::Lengths(tv(&l, &[1]));
    let e = fastgather::segment_reduce(&tv(&one, &[]), &s, Reduction::Sum, None).unwrap_err();
    assert_eq!(emb_arg(&e), "segment_reduce");
    // out of the wrong shape.
    let l = [1i64, 3];
    let s = Segments::Lengths(tv(&l, &[2]));
    let mut out = [9.0f32; 6];
    let e = fastgather::segment_reduce_into(
        &data,
        &s,
        Reduction::Sum,
        None,
        &mut TensorViewMut::new(&mut out, &[3, 2]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::OutShapeMismatch {
            expected: vec![2, 2],
            actual: vec![3, 2]
        }
    );
    assert_eq!(out, [9.0; 6]);
}

/// The rules, by hand: padding (negative), empty bags, repeated offsets,
/// include_last_offset, NaN in a max, mean of a bag with padding, zero bags,
/// zero-width tables, integer sums wrapping.
#[test]
fn bag_rules_by_hand() {
    let nan = f32::NAN;
    let table_v = [1.0f32, -2.0, 3.0, nan, -0.0, 5.0, 7.0, 0.0];
    let table = tv(&table_v, &[4, 2]);
    let ids = [0i64, 3, 2, 1, 3, 3];
    let offs = [0i64, 2, 2, 5, 6];
    let (iv, ov) = (tv(&ids, &[6]), tv(&offs, &[5]));
    // include_last_offset: 4 bags [0, 3], [], [2, 1, 3], [3]; padding -1 (row 3).
    let bags = |m| {
        Bags::with_offsets(&iv, &ov)
            .mode(m)
            .include_last_offset(true)
            .padding_idx(-1)
    };
    let sum = fastgather::embedding_bag(&table, &bags(BagMode::Sum)).unwrap();
    assert!(same_slice(
        sum.as_slice(),
        &[1.0f32, -2.0, 0.0, 0.0, 3.0, nan, 0.0, 0.0]
    ));
    assert!(sum.as_slice()[2].is_sign_positive());
    let mean = fastgather::embedding_bag(&table, &bags(BagMode::Mean)).unwrap();
    let m = mean.as_slice();
    assert_eq!(
        (m[0], m[1], m[2], m[3], m[4], m[6], m[7]),
        (1.0, -2.0, 0.0, 0.0, 1.5, 0.0, 0.0)
    );
    assert!(m[5].is_nan());
    let max = fastgather::embedding_bag(&table, &bags(BagMode::Max)).unwrap();
    let m = max.as_slice();
    assert_eq!((m[0], m[1], m[4], m[6], m[7]), (1.0, -2.0, 3.0, 0.0, 0.0));
    assert!(m[5].is_nan(), "a NaN not first in its bag wins the max");
    // The max's gradient: column 1 of bag 2 goes to row 1 (the NaN).
    let g = [1.0f32, 1.0, 2.0, 2.0, 4.0, 8.0, 16.0, 16.0];
    let gw = fastgather::embedding_bag_backward(&table, &bags(BagMode::Max), &tv(&g, &[4, 2]))
        .unwrap()
        .weight;
    assert_eq!(gw.as_slice(), &[1.0, 1.0, 4.0, 8.0, 0.0, 0.0, 0.0, 0.0]);
    // Zero bags; zero-width table.
    let empty: [i64; 0] = [];
    let none = Bags::<f32, _>::with_offsets(&tv(&empty, &[0]), &tv(&empty, &[0]));
    assert_eq!(
        fastgather::embedding_bag(&table, &none).unwrap().shape(),
        &[0, 2]
    );
    let zero_w: [f32; 0] = [];
    let out = fastgather::embedding_bag(&tv(&zero_w, &[4, 0]), &bags(BagMode::Max)).unwrap();
    assert_eq!(out.shape(), &[4, 0]);
    // Integer sums wrap; integer means are floor divisions.
    let it = [i32::MAX, -3, 1, 0];
    let itv = tv(&it, &[2, 2]);
    let ids = [0i64, 1, 0, 1];
    let b = Bags::<i32, _>::fixed(&tv(&ids, &[2, 2]));
    let out = fastgather::embedding_bag(&itv, &b.clone()).unwrap();
    assert_eq!(out.as_slice(), &[i32::MIN, -3, i32::MIN, -3]);
    let ids = [1i64, 1, 0, 1];
    let b = Bags::<i32, _>::fixed(&tv(&ids, &[2, 2])).mode(BagMode::Mean);
    let out = fastgather::embedding_bag(&itv, &b).unwrap();
    assert_eq!(out.as_slice(), &[1, 0, i32::MIN / 2, -2]);
}

/// The gradient of a max bag follows the value the forward kept: the first
/// of equal values, a NaN anywhere.
#[test]
fn max_gradient_goes_to_the_kept_value() {
    let table_v = [2.0f32, 2.0, 1.0, 2.0, -0.0, 0.0];
    let table = tv(&table_v, &[3, 2]);
    let ids = [1i64, 0, 2];
    let bags = Bags::fixed(&tv(&ids, &[1, 3])).mode(BagMode::Max);
    let g = [1.0f32, 10.0];
    let gw = fastgather::embedding_bag_backward(&table, &bags, &tv(&g, &[1, 2]))
        .unwrap()
        .weight;
    // Column 0: 1, 2, -0 → row 0. Column 1: 2, 2, 0 → row 1 (first of equals).
    assert_eq!(gw.as_slice(), &[1.0, 0.0, 0.0, 10.0, 0.0, 0.0]);
    let want = embedding_bag_backward_ref(&table, &bags, &tv(&g, &[1, 2])).unwrap();
    assert_eq!(want.weight.as_slice(), gw.as_slice());
}

/// A zero-width table `[3, 0]` over no elements whose rows have a stride
/// (a `[0, 3]` table transposed).
fn zero_width_case<'a>(
    empty: &'a [f32],
    ids: &'a [i64],
    offs: &'a [i64],
) -> (
    TensorView<'a, f32>,
    TensorView<'a, i64>,
    TensorView<'a, i64>,
) {
    let table = tv(empty, &[0, 3]).transpose(0, 1).unwrap();
    assert_eq!((table.shape(), table.strides()), (&[3, 0][..], &[1, 3][..]));
    (table, tv(ids, &[ids.len()]), tv(offs, &[offs.len()]))
}

/// Zero-width tables: the forward and the table's gradient are empty.
#[test]
fn zero_width_tables() {
    let empty: [f32; 0] = [];
    let (ids, offs) = ([0i64, 2, 1], [0i64, 1]);
    let (table, iv, ov) = zero_width_case(&empty, &ids, &offs);
    for mode in [BagMode::Sum, BagMode::Mean, BagMode::Max] {
        let bags = Bags::with_offsets(&iv, &ov).mode(mode);
        let out = fastgather::embedding_bag(&table, &bags).unwrap();
        assert_eq!(out.shape(), &[2, 0]);
        let g = tv(&empty, &[2, 0]);
        let want = embedding_bag_backward_ref(&table, &bags, &g).unwrap();
        let got = fastgather::embedding_bag_backward(&table, &bags, &g).unwrap();
        assert_eq!(want, got);
        assert_eq!(got.weight.shape(), &[3, 0]);
    }
    let g = tv(&empty, &[3, 0]);
    let gw = fastgather::embedding_backward(&g, &iv, 3, None).unwrap();
    assert_eq!(gw.shape(), &[3, 0]);
}

/// The per-sample weights' gradient of a zero-width table is zeros (empty dot
/// products); the kernel reads a row slice past the table's (empty) data.
#[test]
fn zero_width_tables_have_weight_gradients() {
    let empty: [f32; 0] = [];
    let (ids, offs) = ([0i64, 2, 1], [0i64, 1]);
    let (table, iv, ov) = zero_width_case(&empty, &ids, &offs);
    let w = [1.0f32; 3];
    let bags = Bags::with_offsets(&iv, &ov).per_sample_weights(&tv(&w, &[3]));
    let out = fastgather::embedding_bag(&table, &bags).unwrap();
    assert_eq!(out.shape(), &[2, 0]);
    let g = tv(&empty, &[2, 0]);
    let want = embedding_bag_backward_ref(&table, &bags, &g).unwrap();
    let got = fastgather::embedding_bag_backward(&table, &bags, &g).unwrap();
    assert_eq!(want, got);
    assert_eq!(got.per_sample_weights.unwrap().as_slice(), &[0.0; 3]);
}

/// Segment rules by hand: every reduction, `initial`, empty segments.
#[test]
fn segment_rules_by_hand() {
    let data_v = [1.0f32, 5.0, 2.0, f32::NAN, 3.0, -1.0];
    let data = tv(&data_v, &[3, 2]);
    let offs = [0i64, 2, 2, 3];
    let s = Segments::Offsets(tv(&offs, &[4]));
    let run = |r, init: Option<f32>| -> Vec<f32> {
        fastgather::segment_reduce(&data, &s, r, init)
            .unwrap()
            .into_vec()
    };
    let sum = run(Reduction::Sum, None);
    assert_eq!(
        (sum[0], sum[2], sum[3], sum[4], sum[5]),
        (3.0, 0.0, 0.0, 3.0, -1.0)
    );
    assert!(sum[1].is_nan());
    let max = run(Reduction::Amax, None);
    assert_eq!(
        (max[0], max[2], max[3]),
        (2.0, f32::NEG_INFINITY, f32::NEG_INFINITY)
    );
    assert!(max[1].is_nan());
    let min = run(Reduction::Amin, Some(0.0));
    assert_eq!(
        (min[0], min[2], min[3], min[4], min[5]),
        (0.0, 0.0, 0.0, 0.0, -1.0)
    );
    let mean = run(Reduction::Mean, None);
    assert_eq!((mean[0], mean[4]), (1.5, 3.0));
    assert!(
        mean[2].is_nan() && mean[3].is_nan(),
        "an empty mean is 0 / 0"
    );
    let mean = run(Reduction::Mean, Some(1.0));
    assert_eq!((mean[0], mean[2], mean[3], mean[4]), (2.0, 1.0, 1.0, 4.0));
    let prod = run(Reduction::Prod, None);
    assert_eq!((prod[0], prod[2], prod[3], prod[4]), (2.0, 1.0, 1.0, 3.0));
}

/// An integer mean of an empty segment without `initial` is 0 (floats' is
/// NaN, torch's 0 / 0), never a panic.
#[test]
fn segment_mean_of_empty_int_segment() {
    let data = [1i32, 2];
    let lengths = [2i64, 0];
    let s = Segments::Lengths(tv(&lengths, &[2]));
    let r = std::panic::catch_unwind(|| {
        fastgather::segment_reduce(&tv(&data, &[2]), &s, Reduction::Mean, None)
            .map(|t| t.into_vec())
    });
    assert_eq!(r.expect("segment_reduce panicked").unwrap(), vec![1, 0]);
}

/// A max bag's column holding NaNs of two bit patterns, X (+NaN) and Y
/// (-NaN), in the order X, Y, X: the forward's result has X's bits, and by
/// the documented rule ("the first id whose value has the bits of the
/// maximum") its gradient goes to the first X, row 0 (the kernel once
/// followed the last change of the running maximum's bits, row 2).
#[test]
fn max_gradient_with_two_nan_patterns() {
    let table_v = [f32::NAN, -f32::NAN, f32::NAN];
    let table = tv(&table_v, &[3, 1]);
    let ids = [0i64, 1, 2];
    let bags = Bags::fixed(&tv(&ids, &[1, 3])).mode(BagMode::Max);
    let g = [1.0f32];
    let gv = tv(&g, &[1, 1]);
    let fwd = fastgather::embedding_bag(&table, &bags).unwrap();
    assert_eq!(fwd.as_slice()[0].to_bits(), f32::NAN.to_bits());
    let want = embedding_bag_backward_ref(&table, &bags, &gv).unwrap();
    assert_eq!(want.weight.as_slice(), &[1.0, 0.0, 0.0]);
    let got = fastgather::embedding_bag_backward(&table, &bags, &gv).unwrap();
    assert_eq!(got.weight.as_slice(), want.weight.as_slice());
}
