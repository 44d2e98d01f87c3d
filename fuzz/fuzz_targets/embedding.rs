//! The embedding family against naive versions written here one element at a
//! time from the documented rules (src/embedding/):
//! - `embedding` (ids of rank 0..=3);
//! - `embedding_bag`: bags from 1-d ids and offsets (with and without
//!   `include_last_offset`, empty bags, offsets that start elsewhere, decrease
//!   or run past the ids) or from 2-d ids (fixed bags); modes sum, mean, max;
//!   per-sample weights; `padding_idx` (negative too, out of range too);
//! - `embedding_backward` (with and without `padding_idx`);
//! - `embedding_bag_backward`: the table's gradient (sum, weighted sum,
//!   mean, max: to the row whose value the forward kept) and the per-sample
//!   weights' gradient;
//! - `segment_reduce` with lengths or offsets, every `Reduction`, with and
//!   without `initial`;
//!
//! each in its four forms (`_into_with`, `_into`, `_with`, the allocating
//! one), for `f32` (with `i64` and `i32` ids), `f64` and `i32` (wrapping)
//! elements with `i64` ids (every pair is a whole copy of the kernels to
//! compile). Floats come with NaNs of any payload and sign, ±inf and ±0 and
//! are compared by bits, every NaN equal to every NaN. Every input is a view
//! of the shared layout decoder (strided, flipped, padded, expanded), and so
//! is every output of the `_into` forms. The `_into_with` form runs
//! sequentially and in parallel and the two must agree bit for bit (a rare
//! "wide" case has 2^14 ids or rows, enough to really split). Options are
//! the defaults, the scalar instruction set, or an index mode (which every
//! one of them refuses).
//!
//! The naive side decides errors, in the order the functions check them: the
//! library returns one of the same class (an out-of-range id with the same
//! value and position, a bad offset or length with the same position and
//! value), never panics, and on an error leaves every output untouched and
//! writes nothing outside its view.
#![no_main]

mod common;

use arbitrary::Unstructured;
use common::{byte, fit, for_each_pos, layout, raw_i64, size, splitmix64, LayoutSpec};
use fastgather::{
    embedding, embedding_backward, embedding_backward_into, embedding_backward_into_with,
    embedding_backward_with, embedding_bag, embedding_bag_backward, embedding_bag_backward_into,
    embedding_bag_backward_into_with, embedding_bag_backward_with, embedding_bag_into,
    embedding_bag_into_with, embedding_bag_with, embedding_into, embedding_into_with,
    embedding_with, segment_reduce, segment_reduce_into, segment_reduce_into_with,
    segment_reduce_with, BagMode, Bags, GatherError, GatherOptions, IndexElem, IndexMode, Isa,
    Reduce, Reduction, Segments, Tensor, TensorView, TensorViewMut,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;

const CAP: usize = 1 << 12;
/// Buffers of the wide cases.
const WIDE_CAP: usize = 1 << 19;
/// Ids (or data rows) of a wide case: 2^14 and a bit.
const WIDE_N: usize = 1 << 14;
/// Skip the cases of library bugs this target found and that are not fixed
/// yet (each with an ignored reproducer in tests/fuzz_embedding.rs).
const KNOWN_BUGS: bool = false;

// ---- elements -----------------------------------------------------------------

/// An element under test, with the arithmetic of the naive versions written
/// out here (not taken from the library's `Reduce`).
trait Num: Reduce + Debug + 'static {
    /// A value from a random code: small numbers mostly, the type's extremes,
    /// and for floats ±0, ±inf and NaNs of any payload.
    fn make(code: u64, small: bool) -> Self;
    /// Comparison key: the bits, every NaN one key.
    fn key(self) -> u128;
    /// The exact bits (NaN payloads included).
    fn raw(self) -> u128;
    fn n_add(self, o: Self) -> Self;
    fn n_mul(self, o: Self) -> Self;
    /// torch's amax step: a NaN wins, else the first of equal values stays.
    fn n_max(self, o: Self) -> Self;
    fn n_min(self, o: Self) -> Self;
    /// Divided by a count (`Self` arithmetic: integers floor and wrap).
    fn n_div(self, count: Self) -> Self;
    fn n_count(n: usize) -> Self;
    /// `self + x * alpha`, rounded once (integers wrap).
    fn n_fma(self, x: Self, alpha: Self) -> Self;
    /// A bag's weighted row: `n_fma`, except that torch rounds `f64`'s
    /// product and sum apart.
    fn n_bag_fma(self, x: Self, w: Self) -> Self {
        self.n_fma(x, w)
    }
    fn n_zero() -> Self;
    fn n_one() -> Self;
    fn n_lowest() -> Self;
    fn n_highest() -> Self;
    const INT: bool;
}

macro_rules! num_int {
    ($($t:ty),*) => {$(
        impl Num for $t {
            fn make(c: u64, small: bool) -> Self {
                let v = c >> 8;
                match if small { c % 4 } else { c % 10 } {
                    0..=3 => ((v % 9) as i64 - 4) as $t,
                    4 => <$t>::MIN,
                    5 => <$t>::MAX,
                    6 => 0,
                    7 => 1,
                    8 => (<$t>::MAX).wrapping_sub((v % 3) as $t),
                    _ => v as $t,
                }
            }
            fn key(self) -> u128 {
                self as u128
            }
            fn raw(self) -> u128 {
                self as u128
            }
            fn n_add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            fn n_mul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            fn n_max(self, o: Self) -> Self {
                if o > self { o } else { self }
            }
            fn n_min(self, o: Self) -> Self {
                if o < self { o } else { self }
            }
            fn n_div(self, c: Self) -> Self {
                if c == 0 {
                    // Never asked for: an integer mean of an empty segment
                    // is a known bug (see KNOWN_BUGS).
                    return self;
                }
                // Floor division, in i128 where nothing overflows.
                let (a, b) = (self as i128, c as i128);
                let q = a / b;
                let q = if a % b != 0 && ((a < 0) != (b < 0)) { q - 1 } else { q };
                q as $t
            }
            fn n_count(n: usize) -> Self {
                n as $t
            }
            fn n_fma(self, x: Self, alpha: Self) -> Self {
                self.wrapping_add(x.wrapping_mul(alpha))
            }
            fn n_zero() -> Self {
                0
            }
            fn n_one() -> Self {
                1
            }
            fn n_lowest() -> Self {
                <$t>::MIN
            }
            fn n_highest() -> Self {
                <$t>::MAX
            }
            const INT: bool = true;
        }
    )*};
}
num_int!(i32);

macro_rules! num_float {
    ($($t:ty, $u:ty, $quiet:expr, $expo:expr, $sign:expr);*) => {$(
        impl Num for $t {
            fn make(c: u64, small: bool) -> Self {
                let v = c >> 8;
                match if small { c % 4 } else { c % 16 } {
                    0..=2 => ((v % 9) as i64 - 4) as $t,
                    3 => ((v % 17) as i64 - 8) as $t * 0.5,
                    4 => -0.0,
                    5 => 0.0,
                    // A quiet NaN, any payload and sign.
                    6 => <$t>::from_bits($quiet | (v as $u & !($expo | $quiet))),
                    // A signalling NaN.
                    7 => <$t>::from_bits($expo | 1 | (v as $u & $sign)),
                    8 => <$t>::INFINITY,
                    9 => <$t>::NEG_INFINITY,
                    10 => <$t>::from_bits(v as $u),
                    11 => <$t>::MIN_POSITIVE * (v % 5) as $t,
                    12 => <$t>::MAX,
                    13 => -<$t>::MAX,
                    14 => (v % 1000) as $t / 7.0,
                    _ => <$t>::from_bits((v as $u) & !$expo),
                }
            }
            fn key(self) -> u128 {
                if self.is_nan() { u128::MAX } else { self.to_bits() as u128 }
            }
            fn raw(self) -> u128 {
                self.to_bits() as u128
            }
            fn n_add(self, o: Self) -> Self {
                self + o
            }
            fn n_mul(self, o: Self) -> Self {
                self * o
            }
            fn n_max(self, o: Self) -> Self {
                if o.is_nan() { o } else if self.is_nan() { self } else if o > self { o } else { self }
            }
            fn n_min(self, o: Self) -> Self {
                if o.is_nan() { o } else if self.is_nan() { self } else if o < self { o } else { self }
            }
            fn n_div(self, c: Self) -> Self {
                self / c
            }
            fn n_count(n: usize) -> Self {
                n as $t
            }
            fn n_fma(self, x: Self, alpha: Self) -> Self {
                x.mul_add(alpha, self)
            }
            fn n_bag_fma(self, x: Self, w: Self) -> Self {
                if size_of::<$t>() == 8 { self + x * w } else { x.mul_add(w, self) }
            }
            fn n_zero() -> Self {
                0.0
            }
            fn n_one() -> Self {
                1.0
            }
            fn n_lowest() -> Self {
                <$t>::NEG_INFINITY
            }
            fn n_highest() -> Self {
                <$t>::INFINITY
            }
            const INT: bool = false;
        }
    )*};
}
num_float!(
    f32, u32, 0x7fc0_0000u32, 0x7f80_0000u32, 0x8000_0000u32;
    f64, u64, 0x7ff8_0000_0000_0000u64, 0x7ff0_0000_0000_0000u64, 0x8000_0000_0000_0000u64
);

// ---- decoding -----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `_into_with`, sequential and parallel.
    IntoWith,
    /// `_into` (`_into_with` where the options are not the defaults).
    Into,
    /// `_with`.
    CopyWith,
    /// The allocating form (`_with` where the options are not the defaults).
    Copy,
}

/// Everything a case decodes before its shapes.
#[derive(Clone, Copy, Debug)]
struct Cfg {
    form: Form,
    /// The op's own choices (bag mode and flags, reduction and flags).
    param: u8,
    seed: u64,
    small: bool,
    wide: bool,
    /// `Isa::Scalar` in the options.
    scalar: bool,
    /// An index mode in the options (every embedding op refuses one).
    refused: bool,
}

impl Cfg {
    fn opts(&self) -> GatherOptions {
        let mut o = GatherOptions::new();
        if self.scalar {
            o = o.isa(Isa::Scalar);
        }
        if self.refused {
            o = o.mode(IndexMode::Wrap);
        }
        o
    }
    fn form(&self) -> Form {
        let plain = !self.scalar && !self.refused;
        match self.form {
            Form::Into if !plain => Form::IntoWith,
            Form::Copy if !plain => Form::CopyWith,
            f => f,
        }
    }
    fn values<T: Num>(&self, len: usize, salt: u64) -> Vec<T> {
        (0..len)
            .map(|k| {
                let c = splitmix64(self.seed ^ salt.wrapping_mul(0x9E37_79B9) ^ k as u64);
                T::make(c, self.small)
            })
            .collect()
    }
    fn value<T: Num>(&self, salt: u64) -> T {
        self.values::<T>(1, salt)[0]
    }
    fn cap(&self) -> usize {
        if self.wide {
            WIDE_CAP
        } else {
            CAP
        }
    }
    /// A random number for the wide cases' contents.
    fn rand(&self, salt: u64, k: usize) -> u64 {
        splitmix64(self.seed ^ salt.wrapping_mul(0xA24B_AED4_963E_E407) ^ (k as u64) << 20)
    }
}

/// Index values for a bound: mostly in range, also negative, just past the
/// end, and the types' extremes.
fn index_values<I: IndexElem>(u: &mut Unstructured<'_>, len: usize, bound: usize) -> Vec<I> {
    let n = bound as i64;
    (0..len)
        .map(|_| {
            let b = byte(u);
            let v = match b {
                0..=209 => b as i64 % n.max(1),
                210..=219 => -1 - (b as i64 - 210),
                220..=227 => n + (b as i64 - 220),
                228 => i32::MAX as i64,
                229 => i32::MIN as i64,
                230 => u32::MAX as i64,
                231 => i64::MAX,
                232 => i64::MIN,
                233 => 1 << 32,
                234 => -(1 << 32),
                235..=249 => (b as i64) % n.max(1),
                _ => raw_i64(u),
            };
            I::from_i64_wrapping(v)
        })
        .collect()
}

/// Known (tests/fuzz_embedding.rs, *_offset_past_*): the embedding ops read
/// an empty contiguous view of ids, offsets, lengths or weights as a slice of
/// its buffer at its (unchecked) offset, and panic where that is past the end.
fn empty_past_end(spec: &LayoutSpec) -> bool {
    KNOWN_BUGS && numel(&spec.shape) == 0 && spec.offset > spec.len
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn offset_in(spec: &LayoutSpec, pos: &[usize]) -> usize {
    let strides: Vec<i128> = spec.strides.iter().map(|&s| s as i128).collect();
    common::offset_of(spec.offset as i128, &strides, pos) as usize
}

fn view<'a, T>(buf: &'a [T], spec: &LayoutSpec) -> Option<TensorView<'a, T>> {
    TensorView::with_strides(buf, &spec.shape, &spec.strides, spec.offset).ok()
}

/// The view's elements row-major (call after `view` accepted the layout).
fn read<T: Copy>(buf: &[T], spec: &LayoutSpec) -> Vec<T> {
    let mut v = Vec::new();
    for_each_pos(&spec.shape, |p| v.push(buf[offset_in(spec, p)]));
    v
}

/// The row-major position of flat offset `k` in `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (p, &s) in pos.iter_mut().zip(shape).rev() {
        *p = k % s.max(1);
        k /= s.max(1);
    }
    pos
}

/// `rank` sizes, each 0..=6.
fn small_shape(u: &mut Unstructured<'_>, rank: usize) -> Vec<usize> {
    (0..rank).map(|_| size(u, false) % 7).collect()
}

/// A shape one off `shape` (a size one larger, an axis more or fewer) for a
/// byte of 245 and up: the error cases of a wrong shape.
fn perturbed(b: u8, shape: &[usize]) -> Vec<usize> {
    let mut s = shape.to_vec();
    match b {
        0..=244 => {}
        245..=249 if !s.is_empty() => {
            let k = b as usize % s.len();
            s[k] += 1;
        }
        250..=252 | 245..=249 => s.push(1),
        _ => {
            if s.pop().is_none() {
                s.push(2);
            }
        }
    }
    s
}

/// A table `[rows, dim]` (rarely of another rank), its layout and buffer.
struct Input<T> {
    spec: LayoutSpec,
    buf: Vec<T>,
}

impl<T: Copy> Input<T> {
    fn shape(&self) -> &[usize] {
        &self.spec.shape
    }
    fn view(&self) -> Option<TensorView<'_, T>> {
        view(&self.buf, &self.spec)
    }
    fn values(&self) -> Vec<T> {
        read(&self.buf, &self.spec)
    }
}

fn input<T: Num>(u: &mut Unstructured<'_>, cfg: &Cfg, shape: Vec<usize>, salt: u64) -> Input<T> {
    let spec = layout(u, &shape, cfg.cap());
    let buf = cfg.values(spec.len, salt);
    Input { spec, buf }
}

fn table<T: Num>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Input<T> {
    let b = byte(u);
    let mut shape = if cfg.wide {
        vec![64 + (size(u, false) % 7), 16 + (size(u, false) % 3)]
    } else if b < 248 {
        vec![size(u, false), size(u, false)]
    } else {
        small_shape(u, (b % 4) as usize)
    };
    fit(&mut shape, cfg.cap());
    input(u, cfg, shape, 1)
}

/// Index values of shape `shape` in a layout, bounded by `bound`; a wide case
/// takes them from the seed (all in range, or rarely one out of it).
fn ids_of<I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
    shape: Vec<usize>,
    bound: usize,
) -> (LayoutSpec, Vec<I>) {
    if cfg.wide {
        let n = numel(&shape);
        let spec = LayoutSpec {
            strides: contiguous(&shape),
            shape,
            offset: 0,
            len: n,
        };
        let bad = (cfg.seed & 15 == 0).then(|| cfg.rand(9, 0) as usize % n.max(1));
        let buf = (0..n)
            .map(|k| {
                let v = if Some(k) == bad {
                    bound as i64
                } else {
                    (cfg.rand(8, k) % bound.max(1) as u64) as i64
                };
                I::from_i64_wrapping(v)
            })
            .collect();
        return (spec, buf);
    }
    let spec = layout(u, &shape, CAP);
    let buf = index_values(u, spec.len, bound);
    (spec, buf)
}

fn contiguous(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![1isize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1].max(1) as isize;
    }
    strides
}

/// `padding_idx`: none, in range, negative in range, out of range, raw.
fn padding(u: &mut Unstructured<'_>, rows: usize) -> Option<i64> {
    let b = byte(u);
    let n = rows as i64;
    match b {
        0..=139 => None,
        140..=219 => Some((b as i64 - 140) % n.max(1)),
        220..=239 => Some(-1 - (b as i64 - 220) % n.max(1)),
        240..=243 => Some(n + (b as i64 - 240) % 2),
        244..=247 => Some(-n - 1 - (b as i64 - 244) % 2),
        _ => Some(raw_i64(u)),
    }
}

/// Offsets into `n` ids or rows, as an offsets view buffer. Entry bytes:
/// `0..=199` the previous one plus `0..=3` (at most `n`; the first one 0),
/// `200..=209` less than the previous one, `210..=219` past `n`, `220..=239`
/// `n`, `240..=247` the previous one plus `0..=7` (unbounded), `248..` raw.
/// `end`: the last one is `n`. A wide case takes the steps from the seed.
fn offsets_of<I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
    n: usize,
    end: bool,
) -> (LayoutSpec, Vec<I>) {
    let (shape, vals): (Vec<usize>, Vec<i64>) = if cfg.wide {
        let mut vals = vec![0i64];
        let mut at = 0;
        let mut k = 0;
        while at < n {
            at = (at + (cfg.rand(10, k) % 4) as usize).min(n);
            vals.push(at as i64);
            k += 1;
        }
        if !end {
            vals.pop();
        }
        (vec![vals.len()], vals)
    } else {
        let c = byte(u);
        let (shape, k) = match c {
            0..=239 => (vec![(c % 8) as usize], (c % 8) as usize),
            240..=243 => (vec![1, (c % 4) as usize], (c % 4) as usize),
            _ => (vec![(c - 236) as usize], (c - 236) as usize),
        };
        let n = n as i64;
        let mut vals = Vec::with_capacity(k);
        let mut prev = 0i64;
        for i in 0..k {
            let b = byte(u);
            let v = match b {
                0..=199 if i == 0 => 0,
                0..=199 => (prev + (b % 4) as i64).min(n),
                200..=209 => prev - 1 - (b % 2) as i64,
                210..=219 => n + 1 + (b % 3) as i64,
                220..=239 => n,
                240..=247 => prev.wrapping_add((b % 8) as i64),
                _ => raw_i64(u),
            };
            vals.push(v);
            prev = v;
        }
        if end {
            if let Some(last) = vals.last_mut() {
                *last = n;
            }
        }
        (shape, vals)
    };
    let spec = if cfg.wide {
        LayoutSpec {
            strides: contiguous(&shape),
            offset: 0,
            len: numel(&shape),
            shape,
        }
    } else {
        layout(u, &shape, CAP)
    };
    // The values placed at the view's positions (where the layout repeats a
    // slot, the view reads the last one placed: `read` sees the same).
    let mut buf = vec![I::from_i64_wrapping(0); spec.len];
    let mut k = 0;
    let valid = view(&buf, &spec).is_some();
    if valid {
        for_each_pos(&spec.shape, |p| {
            buf[offset_in(&spec, p)] = I::from_i64_wrapping(vals[k]);
            k += 1;
        });
    }
    (spec, buf)
}

// ---- expectations -----------------------------------------------------------------

/// What a call should return: every output's values row-major (`Ok`), or an
/// error of a class (an out-of-range id with its value and position, a bad
/// offset or length with its position and value).
#[derive(Debug)]
enum Expect<T> {
    Ok(Vec<Vec<T>>),
    Err(&'static str),
    Oob(i128, Vec<usize>),
    Offsets(usize, i128),
}

const ARG: &str = "InvalidEmbeddingArgument";
const OUT: &str = "OutShapeMismatch";
const OPTION: &str = "InvalidOption";

fn class(e: &GatherError) -> &'static str {
    match e {
        GatherError::InvalidEmbeddingArgument { .. } => ARG,
        GatherError::OutShapeMismatch { .. } => OUT,
        GatherError::InvalidOption { .. } => OPTION,
        GatherError::IndexOutOfBounds { .. } => "IndexOutOfBounds",
        GatherError::InvalidOffsets { .. } => "InvalidOffsets",
        _ => "other",
    }
}

fn check_err<T: Debug>(what: &str, got: &GatherError, want: &Expect<T>) {
    match want {
        Expect::Ok(_) => panic!("{what}: expected Ok, got {got:?}"),
        Expect::Err(c) => assert_eq!(class(got), *c, "{what}: {got:?}"),
        Expect::Oob(value, position) => match got {
            GatherError::IndexOutOfBounds {
                value: v,
                position: p,
                ..
            } => assert_eq!((v, p), (value, position), "{what}: {got:?}"),
            other => {
                panic!("{what}: expected id {value} out of range at {position:?}, got {other:?}")
            }
        },
        Expect::Offsets(position, value) => match got {
            GatherError::InvalidOffsets {
                position: p,
                value: v,
                ..
            } => assert_eq!((p, v), (position, value), "{what}: {got:?}"),
            other => panic!("{what}: expected a bad offset {value} at {position}, got {other:?}"),
        },
    }
}

/// With `EMBEDDING_TRACE` set, prints each case as it runs.
fn trace(what: &str) {
    if std::env::var_os("EMBEDDING_TRACE").is_some() {
        eprintln!("{what}");
    }
}

fn keys<T: Num>(xs: &[T]) -> Vec<u128> {
    xs.iter().map(|x| x.key()).collect()
}

fn raws<T: Num>(xs: &[T]) -> Vec<u128> {
    xs.iter().map(|x| x.raw()).collect()
}

type IntoFn<'f, T> =
    &'f dyn Fn(&mut [TensorViewMut<'_, T>], Option<&GatherOptions>) -> Result<(), GatherError>;
type CopyFn<'f, T> = &'f dyn Fn(Option<&GatherOptions>) -> Result<Vec<Tensor<T>>, GatherError>;
/// The naive side: (allocating form, the outputs' shapes) to the expectation.
type WantFn<'f, T> = &'f dyn Fn(bool, &[Vec<usize>]) -> Expect<T>;

/// Runs an operation with outputs of shapes `shapes` (those of the
/// allocating forms) in the case's form and compares with the naive side.
/// The `_into` forms get outputs through decoded layouts, each rarely of a
/// wrong shape. `loose`: for a gather (`embedding`), which may stop at a bad
/// id part way, each output element's value where its id is in range.
fn run<T: Num>(
    what: &str,
    cfg: &Cfg,
    u: &mut Unstructured<'_>,
    shapes: &[Vec<usize>],
    want: WantFn<'_, T>,
    into: IntoFn<'_, T>,
    copy: CopyFn<'_, T>,
    loose: Option<&[Option<T>]>,
) -> Option<()> {
    let form = cfg.form();
    let what = format!("{what} [{form:?}, {cfg:?}, {}]", std::any::type_name::<T>());
    trace(&what);
    match form {
        Form::CopyWith | Form::Copy => {
            let want = want(true, shapes);
            let opts = cfg.opts();
            let got = copy((form == Form::CopyWith).then_some(&opts));
            match (got, &want) {
                (Ok(ts), Expect::Ok(w)) => {
                    assert_eq!(ts.len(), w.len(), "{what}: outputs");
                    for ((t, w), s) in ts.iter().zip(w).zip(shapes) {
                        assert_eq!(t.shape(), &s[..], "{what}: shape");
                        assert_eq!(
                            keys(t.as_slice()),
                            keys(w),
                            "{what}: values differ\n got {:?}\nwant {w:?}",
                            t.as_slice()
                        );
                    }
                }
                (Ok(_), _) => panic!("{what}: expected {want:?}, got Ok"),
                (Err(e), _) => check_err(&what, &e, &want),
            }
        }
        Form::IntoWith | Form::Into => {
            let mut specs = Vec::new();
            for s in shapes {
                let s = perturbed(byte(u), s);
                specs.push(layout(u, &s, cfg.cap()));
            }
            let out_shapes: Vec<Vec<usize>> = specs.iter().map(|s| s.shape.clone()).collect();
            let want = want(false, &out_shapes);
            let inits: Vec<Vec<T>> = specs
                .iter()
                .enumerate()
                .map(|(k, s)| cfg.values(s.len, 5 + k as u64))
                .collect();
            let opts = cfg.opts();
            let variants: &[Option<bool>] = if form == Form::Into {
                &[None]
            } else {
                &[Some(false), Some(true)]
            };
            let mut runs = Vec::new();
            for &parallel in variants {
                let mut bufs = inits.clone();
                let got = {
                    let mut outs = Vec::new();
                    for (b, s) in bufs.iter_mut().zip(&specs) {
                        outs.push(
                            TensorViewMut::with_strides(b, &s.shape, &s.strides, s.offset).ok()?,
                        );
                    }
                    match parallel {
                        None => into(&mut outs, None),
                        Some(false) => into(&mut outs, Some(&opts.clone().sequential())),
                        Some(true) => into(&mut outs, Some(&opts)),
                    }
                };
                runs.push((got, bufs));
            }
            if let [(g0, b0), (g1, b1)] = &runs[..] {
                assert_eq!(g0, g1, "{what}: sequential and parallel differ");
                for (b0, b1) in b0.iter().zip(b1) {
                    assert_eq!(
                        raws(b0),
                        raws(b1),
                        "{what}: sequential and parallel differ (bits)"
                    );
                }
            }
            let (got, bufs) = &runs[0];
            let what = format!("{what}, outs {specs:?}");
            match (got, &want) {
                (Ok(()), Expect::Ok(w)) => {
                    for ((buf, init), (spec, w)) in bufs.iter().zip(&inits).zip(specs.iter().zip(w))
                    {
                        let mut expect = init.clone();
                        let mut k = 0;
                        for_each_pos(&spec.shape, |p| {
                            expect[offset_in(spec, p)] = w[k];
                            k += 1;
                        });
                        assert_eq!(
                            keys(buf),
                            keys(&expect),
                            "{what}: values differ\n got {buf:?}\nwant {expect:?}"
                        );
                    }
                }
                (Ok(()), _) => panic!("{what}: expected {want:?}, got Ok"),
                (Err(e), _) => {
                    check_err(&what, e, &want);
                    match (e, loose) {
                        // A gather's rule: on an out-of-range id, every
                        // element holds its old value or its gathered one.
                        (GatherError::IndexOutOfBounds { .. }, Some(loose)) => {
                            let (buf, init, spec) = (&bufs[0], &inits[0], &specs[0]);
                            let mut expect = init.clone();
                            let mut k = 0;
                            for_each_pos(&spec.shape, |p| {
                                let at = offset_in(spec, p);
                                if let Some(v) = loose[k] {
                                    if buf[at].raw() == v.raw() {
                                        expect[at] = v;
                                    }
                                }
                                k += 1;
                            });
                            assert_eq!(
                                raws(buf),
                                raws(&expect),
                                "{what}: written wrongly before {e:?}"
                            );
                        }
                        _ => {
                            for (buf, init) in bufs.iter().zip(&inits) {
                                assert_eq!(raws(buf), raws(init), "{what}: written before {e:?}");
                            }
                        }
                    }
                }
            }
        }
    }
    Some(())
}

/// `Err` of an expectation: the first failed check.
type Check<T> = Result<T, Expect<()>>;

fn fail<T, U>(e: Expect<U>) -> Expect<T> {
    match e {
        Expect::Ok(_) => unreachable!(),
        Expect::Err(c) => Expect::Err(c),
        Expect::Oob(v, p) => Expect::Oob(v, p),
        Expect::Offsets(p, v) => Expect::Offsets(p, v),
    }
}

/// Runs the checks of `f` in order: its first failure, else its outputs.
fn expect<T>(f: impl FnOnce() -> Check<Vec<Vec<T>>>) -> Expect<T> {
    match f() {
        Ok(v) => Expect::Ok(v),
        Err(e) => fail(e),
    }
}

fn require(ok: bool, class: &'static str) -> Check<()> {
    if ok {
        Ok(())
    } else {
        Err(Expect::Err(class))
    }
}

/// Every id of `ids` (row-major, positions in `shape`) in `0..rows`, else
/// the first that is not.
fn check_ids(ids: &[i128], shape: &[usize], rows: usize) -> Check<Vec<usize>> {
    for (p, &v) in ids.iter().enumerate() {
        if !(0..rows as i128).contains(&v) {
            return Err(Expect::Oob(v, unravel(p, shape)));
        }
    }
    Ok(ids.iter().map(|&v| v as usize).collect())
}

/// torch's `padding_idx` rule: `-rows..rows`, negative from the end.
fn check_padding(p: Option<i64>, rows: usize) -> Check<Option<usize>> {
    let Some(p) = p else {
        return Ok(None);
    };
    let n = rows as i128;
    let p = p as i128;
    require((-n..n).contains(&p), ARG)?;
    Ok(Some(if p < 0 { (p + n) as usize } else { p as usize }))
}

/// Offsets (already 1-d) cutting `n` ids or rows: they start at 0, never
/// decrease, stay within `n`, and with `end` the last one is `n`. The bag or
/// segment boundaries.
fn check_offsets(offs: &[i128], n: usize, end: bool, empty_ok: bool) -> Check<Vec<usize>> {
    if offs.is_empty() {
        if n > 0 || !empty_ok || end {
            return Err(Expect::Offsets(0, 0));
        }
        return Ok(vec![0]);
    }
    let mut prev = 0;
    for (k, &v) in offs.iter().enumerate() {
        if (k == 0 && v != 0) || v < prev || v > n as i128 {
            return Err(Expect::Offsets(k, v));
        }
        prev = v;
    }
    if end && prev != n as i128 {
        return Err(Expect::Offsets(offs.len() - 1, prev));
    }
    let mut starts: Vec<usize> = offs.iter().map(|&v| v as usize).collect();
    if !end {
        starts.push(n);
    }
    Ok(starts)
}

// ---- embedding ------------------------------------------------------------------

fn embedding_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let w = table::<T>(u, cfg);
    let two_d = w.shape().len() == 2;
    let (rows, d) = if two_d {
        (w.shape()[0], w.shape()[1])
    } else {
        (0, 0)
    };
    let mut ishape = if cfg.wide {
        vec![WIDE_N + (byte(u) % 5) as usize]
    } else {
        let r = (byte(u) % 4) as usize;
        small_shape(u, r)
    };
    fit(&mut ishape, cfg.cap() / d.max(1));
    let (ispec, ibuf) = ids_of::<I>(u, cfg, ishape.clone(), rows);
    let wv = w.view()?;
    let ids = view(&ibuf, &ispec)?;
    let table = w.values();
    let idv: Vec<i128> = read(&ibuf, &ispec).iter().map(|v| v.to_i128()).collect();
    let mut oshape = ishape.clone();
    oshape.push(if two_d {
        d
    } else {
        w.shape().last().copied().unwrap_or(0)
    });

    let want = |copy: bool, outs: &[Vec<usize>]| {
        expect(|| {
            require(two_d, ARG)?;
            require(!cfg.refused, OPTION)?;
            if !copy {
                require(outs[0] == oshape, OUT)?;
            }
            let at = check_ids(&idv, &ishape, rows)?;
            let mut out = Vec::new();
            for r in at {
                out.extend_from_slice(&table[r * d..][..d]);
            }
            Ok(vec![out])
        })
    };
    let loose: Vec<Option<T>> = if two_d {
        let table = &table;
        idv.iter()
            .flat_map(|&v| {
                (0..d).map(move |j| {
                    (0..rows as i128)
                        .contains(&v)
                        .then(|| table[v as usize * d + j])
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let what = format!(
        "embedding(weight {:?}, ids {ispec:?} {:?})",
        w.spec,
        if cfg.wide { &[][..] } else { &idv[..] }
    );
    run(
        &what,
        cfg,
        u,
        &[oshape.clone()],
        &want,
        &|outs, o| match o {
            Some(o) => embedding_into_with(&wv, &ids, &mut outs[0], o),
            None => embedding_into(&wv, &ids, &mut outs[0]),
        },
        &|o| {
            match o {
                Some(o) => embedding_with(&wv, &ids, o),
                None => embedding(&wv, &ids),
            }
            .map(|t| vec![t])
        },
        Some(&loose),
    )
}

// ---- embedding_bag ----------------------------------------------------------------

/// A decoded bag case: the table, ids, offsets, weights and options.
struct BagCase<T, I> {
    w: Input<T>,
    ispec: LayoutSpec,
    ibuf: Vec<I>,
    offsets: Option<(LayoutSpec, Vec<I>)>,
    weights: Option<Input<T>>,
    mode: BagMode,
    include_last: bool,
    padding: Option<i64>,
}

fn bag_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> BagCase<T, I> {
    let p = cfg.param;
    let mode = [BagMode::Sum, BagMode::Mean, BagMode::Max, BagMode::Sum][(p & 3) as usize];
    let include_last = p & 4 != 0;
    let weighted = p & 8 != 0;
    let fixed = p & 16 != 0;
    let end = p & 32 != 0;
    let w = table::<T>(u, cfg);
    let rows = w.shape().first().copied().unwrap_or(0);
    let d = w.shape().get(1).copied().unwrap_or(1);
    let budget = cfg.cap() / d.max(1);
    let b = byte(u);
    let mut ishape = match (cfg.wide, fixed) {
        (true, true) => vec![WIDE_N / 4 + (b % 3) as usize, 4],
        (true, false) => vec![WIDE_N + (b % 5) as usize],
        // The ids' rank: mostly 1 with offsets and 2 without.
        (false, true) if b < 240 => small_shape(u, 2),
        (false, false) if b < 240 => vec![size(u, false) % 13],
        _ => small_shape(u, (b % 4) as usize),
    };
    fit(&mut ishape, budget);
    let n = numel(&ishape);
    let (ispec, ibuf) = ids_of::<I>(u, cfg, ishape.clone(), rows);
    let offsets = (!fixed).then(|| offsets_of::<I>(u, cfg, n, end && include_last));
    let weights = weighted.then(|| {
        let s = perturbed(byte(u), &ishape);
        input::<T>(u, cfg, s, 3)
    });
    let padding = padding(u, rows);
    BagCase {
        w,
        ispec,
        ibuf,
        offsets,
        weights,
        mode,
        include_last,
        padding,
    }
}

/// The naive bag plan: each id's table row (`None` for padding) and each
/// bag's range of positions, after the checks in the library's order.
struct NaivePlan {
    rows: Vec<Option<usize>>,
    starts: Vec<usize>,
}

impl NaivePlan {
    fn bags(&self) -> usize {
        self.starts.len() - 1
    }
    fn range(&self, b: usize) -> std::ops::Range<usize> {
        self.starts[b]..self.starts[b + 1]
    }
    fn count(&self, b: usize) -> usize {
        self.rows[self.range(b)]
            .iter()
            .filter(|r| r.is_some())
            .count()
    }
}

impl<T: Num, I: IndexElem> BagCase<T, I> {
    fn bags<'a>(
        &'a self,
        ids: &TensorView<'a, I>,
        offs: Option<&TensorView<'a, I>>,
        wts: Option<&TensorView<'a, T>>,
    ) -> Bags<'a, T, I> {
        let mut bags = match offs {
            Some(o) => Bags::with_offsets(ids, o),
            None => Bags::fixed(ids),
        };
        bags = bags.mode(self.mode).include_last_offset(self.include_last);
        if let Some(w) = wts {
            bags = bags.per_sample_weights(w);
        }
        if let Some(p) = self.padding {
            bags = bags.padding_idx(p);
        }
        bags
    }

    fn past_end(&self) -> bool {
        empty_past_end(&self.ispec)
            || self
                .offsets
                .as_ref()
                .is_some_and(|(s, _)| empty_past_end(s))
            || self
                .weights
                .as_ref()
                .is_some_and(|w| empty_past_end(&w.spec))
    }

    fn table_2d(&self) -> Check<(usize, usize)> {
        match *self.w.shape() {
            [r, d] => Ok((r, d)),
            _ => Err(Expect::Err(ARG)),
        }
    }

    /// Where the bags start (`Bags::count`'s checks).
    fn starts(&self) -> Check<Vec<usize>> {
        let ishape = &self.ispec.shape;
        match &self.offsets {
            None => {
                require(ishape.len() == 2, ARG)?;
                let (b, len) = (ishape[0], ishape[1]);
                Ok((0..=b).map(|k| k * len).collect())
            }
            Some((ospec, obuf)) => {
                require(ishape.len() == 1, ARG)?;
                require(ospec.shape.len() == 1, ARG)?;
                let offs: Vec<i128> = read(obuf, ospec).iter().map(|v| v.to_i128()).collect();
                check_offsets(&offs, ishape[0], self.include_last, true)
            }
        }
    }

    /// The whole plan against a table of `rows` rows.
    fn plan(&self, rows: usize) -> Check<NaivePlan> {
        let starts = self.starts()?;
        if let Some(w) = &self.weights {
            require(self.mode == BagMode::Sum, ARG)?;
            require(w.shape() == &self.ispec.shape[..], ARG)?;
        }
        let pad = check_padding(self.padding, rows)?;
        let idv: Vec<i128> = read(&self.ibuf, &self.ispec)
            .iter()
            .map(|v| v.to_i128())
            .collect();
        let at = check_ids(&idv, &self.ispec.shape, rows)?;
        Ok(NaivePlan {
            rows: at
                .into_iter()
                .map(|r| (Some(r) != pad).then_some(r))
                .collect(),
            starts,
        })
    }

    /// The forward, bag by bag, column by column.
    fn pooled(&self, plan: &NaivePlan, table: &[T], d: usize, wts: Option<&[T]>) -> Vec<T> {
        let mut out = Vec::with_capacity(plan.bags() * d);
        for b in 0..plan.bags() {
            let count = plan.count(b);
            for j in 0..d {
                let items = plan
                    .range(b)
                    .filter_map(|p| plan.rows[p].map(|r| (p, table[r * d + j])));
                let v = match self.mode {
                    BagMode::Sum => items.fold(T::n_zero(), |acc, (p, x)| match wts {
                        Some(w) => acc.n_bag_fma(x, w[p]),
                        None => acc.n_add(x),
                    }),
                    BagMode::Mean => items
                        .fold(T::n_zero(), |acc, (_, x)| acc.n_add(x))
                        .n_div(T::n_count(count.max(1))),
                    BagMode::Max if count == 0 => T::n_zero(),
                    BagMode::Max => items.fold(T::n_lowest(), |acc, (_, x)| acc.n_max(x)),
                };
                out.push(v);
            }
        }
        out
    }
}

fn embedding_bag_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let c = bag_case::<T, I>(u, cfg);
    if c.past_end() {
        return None;
    }
    let wv = c.w.view()?;
    let ids = view(&c.ibuf, &c.ispec)?;
    let offs = match &c.offsets {
        Some((s, b)) => Some(view(b, s)?),
        None => None,
    };
    let wts = match &c.weights {
        Some(w) => Some(w.view()?),
        None => None,
    };
    let bags = c.bags(&ids, offs.as_ref(), wts.as_ref());
    let table = c.w.values();
    let wvals = c.weights.as_ref().map(|w| w.values());
    let nbags = c.starts().map_or(0, |s| s.len() - 1);
    let d = c.w.shape().get(1).copied().unwrap_or(0);
    let oshape = vec![nbags, d];

    let want = |copy: bool, outs: &[Vec<usize>]| {
        expect(|| {
            if copy {
                // `embedding_bag_with` counts the bags before anything else.
                c.table_2d()?;
                c.starts()?;
            }
            let (rows, d) = c.table_2d()?;
            require(!cfg.refused, OPTION)?;
            let plan = c.plan(rows)?;
            if !copy {
                require(outs[0] == [plan.bags(), d], OUT)?;
            }
            Ok(vec![c.pooled(&plan, &table, d, wvals.as_deref())])
        })
    };
    let what = format!(
        "embedding_bag(weight {:?}, ids {:?} {:?}, offsets {:?}, weights {:?}, {:?}, include_last {}, padding {:?})",
        c.w.spec,
        c.ispec,
        if cfg.wide { vec![] } else { read(&c.ibuf, &c.ispec).iter().map(|v| v.to_i128()).collect() },
        c.offsets.as_ref().map(|(s, b)| (s, read(b, s).iter().map(|v| v.to_i128()).collect::<Vec<_>>())),
        c.weights.as_ref().map(|w| &w.spec),
        c.mode,
        c.include_last,
        c.padding
    );
    run(
        &what,
        cfg,
        u,
        &[oshape],
        &want,
        &|outs, o| match o {
            Some(o) => embedding_bag_into_with(&wv, &bags, &mut outs[0], o),
            None => embedding_bag_into(&wv, &bags, &mut outs[0]),
        },
        &|o| {
            match o {
                Some(o) => embedding_bag_with(&wv, &bags, o),
                None => embedding_bag(&wv, &bags),
            }
            .map(|t| vec![t])
        },
        None,
    )
}

fn embedding_bag_backward_case<T: Num, I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
) -> Option<()> {
    let c = bag_case::<T, I>(u, cfg);
    if c.past_end() {
        return None;
    }
    let wv = c.w.view()?;
    let ids = view(&c.ibuf, &c.ispec)?;
    let offs = match &c.offsets {
        Some((s, b)) => Some(view(b, s)?),
        None => None,
    };
    let wts = match &c.weights {
        Some(w) => Some(w.view()?),
        None => None,
    };
    let bags = c.bags(&ids, offs.as_ref(), wts.as_ref());
    let table = c.w.values();
    let wvals = c.weights.as_ref().map(|w| w.values());
    let nbags = c.starts().map_or(0, |s| s.len() - 1);
    let (rows, d) = match *c.w.shape() {
        [r, d] => (r, d),
        _ => (0, 0),
    };
    let gshape = perturbed(byte(u), &[nbags, d]);
    let g = input::<T>(u, cfg, gshape, 4);
    let gv = g.view()?;
    let grad = g.values();
    // The into forms: the weights' gradient asked for (or, rarely, asked for
    // without weights).
    let ask = c.weights.is_some() && cfg.param & 64 != 0 || cfg.param & 128 != 0 && byte(u) >= 250;
    let copy_outs = if c.weights.is_some() { 2 } else { 1 };

    let want = |copy: bool, outs: &[Vec<usize>]| {
        expect(|| {
            let (rows, d) = c.table_2d()?;
            require(!cfg.refused, OPTION)?;
            let plan = c.plan(rows)?;
            require(g.shape() == [plan.bags(), d], ARG)?;
            if !copy {
                require(outs[0] == [rows, d], OUT)?;
                if let Some(s) = outs.get(1) {
                    require(c.weights.is_some(), ARG)?;
                    require(s == &c.ispec.shape, OUT)?;
                }
            }
            let mut gw = vec![T::n_zero(); rows * d];
            match c.mode {
                BagMode::Max => {
                    // Each bag and column: the first row whose value has
                    // the bits of the maximum the forward kept (a NaN wins
                    // the forward; with NaNs of several payloads, the first
                    // of the result's payload).
                    for b in 0..plan.bags() {
                        for j in 0..d {
                            let col = || plan.range(b).filter_map(|p| plan.rows[p]);
                            let kept = col().fold(None, |m: Option<T>, r| {
                                let x = table[r * d + j];
                                Some(m.unwrap_or(T::n_lowest()).n_max(x))
                            });
                            let best = kept.and_then(|m| {
                                col().find(|&r| table[r * d + j].raw() == m.raw()).map(|r| (m, r))
                            });
                            if let Some((_, r)) = best {
                                gw[r * d + j] = gw[r * d + j].n_add(grad[b * d + j]);
                            }
                        }
                    }
                }
                BagMode::Sum | BagMode::Mean => {
                    for b in 0..plan.bags() {
                        let scale = match (c.mode, &wvals) {
                            (BagMode::Mean, _) => {
                                Some(T::n_one().n_div(T::n_count(plan.count(b).max(1))))
                            }
                            _ => None,
                        };
                        for p in plan.range(b) {
                            let Some(r) = plan.rows[p] else { continue };
                            let s = scale.or(wvals.as_ref().map(|w| w[p]));
                            for j in 0..d {
                                let (o, x) = (gw[r * d + j], grad[b * d + j]);
                                gw[r * d + j] = match s {
                                    Some(s) => o.n_fma(x, s),
                                    None => o.n_add(x),
                                };
                            }
                        }
                    }
                }
            }
            let mut res = vec![gw];
            if (copy && c.weights.is_some()) || (!copy && outs.len() == 2) {
                let mut gs = vec![T::n_zero(); plan.rows.len()];
                for b in 0..plan.bags() {
                    for p in plan.range(b) {
                        let Some(r) = plan.rows[p] else { continue };
                        gs[p] = (0..d).fold(T::n_zero(), |acc, j| {
                            acc.n_add(table[r * d + j].n_mul(grad[b * d + j]))
                        });
                    }
                }
                res.push(gs);
            }
            Ok(res)
        })
    };
    let what = format!(
        "embedding_bag_backward(weight {:?}, ids {:?} {:?}, offsets {:?}, weights {:?}, {:?}, include_last {}, padding {:?}, grad {:?})",
        c.w.spec,
        c.ispec,
        if cfg.wide { vec![] } else { read(&c.ibuf, &c.ispec).iter().map(|v| v.to_i128()).collect() },
        c.offsets.as_ref().map(|(s, b)| (s, read(b, s).iter().map(|v| v.to_i128()).collect::<Vec<_>>())),
        c.weights.as_ref().map(|w| &w.spec),
        c.mode,
        c.include_last,
        c.padding,
        g.spec,
    );
    let form = cfg.form();
    let shapes: Vec<Vec<usize>> = if matches!(form, Form::Copy | Form::CopyWith) {
        [vec![rows, d], c.ispec.shape.clone()][..copy_outs].to_vec()
    } else if ask {
        vec![vec![rows, d], c.ispec.shape.clone()]
    } else {
        vec![vec![rows, d]]
    };
    run(
        &what,
        cfg,
        u,
        &shapes,
        &want,
        &|outs, o| {
            let (gw, rest) = outs.split_first_mut().unwrap();
            let gs = rest.first_mut();
            match o {
                Some(o) => embedding_bag_backward_into_with(&wv, &bags, &gv, gw, gs, o),
                None => embedding_bag_backward_into(&wv, &bags, &gv, gw, gs),
            }
        },
        &|o| {
            let g = match o {
                Some(o) => embedding_bag_backward_with(&wv, &bags, &gv, o),
                None => embedding_bag_backward(&wv, &bags, &gv),
            }?;
            assert_eq!(
                g.per_sample_weights.is_some(),
                c.weights.is_some(),
                "{what}: the weights' gradient comes exactly with weights"
            );
            Ok([g.weight].into_iter().chain(g.per_sample_weights).collect())
        },
        None,
    )
}

// ---- embedding_backward ---------------------------------------------------------

fn embedding_backward_case<T: Num, I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
) -> Option<()> {
    let mut sizes = if cfg.wide {
        vec![64 + (size(u, false) % 7), 16 + (size(u, false) % 3)]
    } else {
        vec![size(u, false), size(u, false)]
    };
    fit(&mut sizes, cfg.cap());
    let (rows, d) = (sizes[0], sizes[1]);
    let mut ishape = if cfg.wide {
        vec![WIDE_N + (byte(u) % 5) as usize]
    } else {
        let r = (byte(u) % 4) as usize;
        small_shape(u, r)
    };
    fit(&mut ishape, cfg.cap() / d.max(1));
    let (ispec, ibuf) = ids_of::<I>(u, cfg, ishape.clone(), rows);
    let mut gshape = ishape.clone();
    gshape.push(d);
    let gshape = perturbed(byte(u), &gshape);
    let g = input::<T>(u, cfg, gshape, 4);
    let padding_idx = padding(u, rows);
    if empty_past_end(&ispec) {
        return None;
    }
    let ids = view(&ibuf, &ispec)?;
    let gv = g.view()?;
    let grad = g.values();
    let idv: Vec<i128> = read(&ibuf, &ispec).iter().map(|v| v.to_i128()).collect();
    let copy_d = g.shape().last().copied().unwrap_or(0);

    let want = |_copy: bool, outs: &[Vec<usize>]| {
        expect(|| {
            require(!cfg.refused, OPTION)?;
            let (rows, d) = match outs[0][..] {
                [r, d] => (r, d),
                _ => return Err(Expect::Err(ARG)),
            };
            let mut want = ishape.clone();
            want.push(d);
            require(g.shape() == &want[..], ARG)?;
            let pad = check_padding(padding_idx, rows)?;
            let at = check_ids(&idv, &ishape, rows)?;
            let mut gw = vec![T::n_zero(); rows * d];
            for (p, r) in at.into_iter().enumerate() {
                if Some(r) == pad {
                    continue;
                }
                for j in 0..d {
                    gw[r * d + j] = gw[r * d + j].n_add(grad[p * d + j]);
                }
            }
            Ok(vec![gw])
        })
    };
    let what = format!(
        "embedding_backward(grad {:?}, ids {ispec:?} {:?}, rows {rows}, padding {padding_idx:?})",
        g.spec,
        if cfg.wide { &[][..] } else { &idv[..] }
    );
    run(
        &what,
        cfg,
        u,
        &[vec![rows, copy_d]],
        &want,
        &|outs, o| match o {
            Some(o) => embedding_backward_into_with(&gv, &ids, padding_idx, &mut outs[0], o),
            None => embedding_backward_into(&gv, &ids, padding_idx, &mut outs[0]),
        },
        &|o| {
            match o {
                Some(o) => embedding_backward_with(&gv, &ids, rows, padding_idx, o),
                None => embedding_backward(&gv, &ids, rows, padding_idx),
            }
            .map(|t| vec![t])
        },
        None,
    )
}

// ---- segment_reduce -----------------------------------------------------------

/// Lengths cutting `n` rows. Entry bytes: `0..=199` `0..=3`, `200..=209`
/// negative, `210..=219` past `n`, `220..=247` `0..=7`, `248..` raw; with
/// `end` the last one makes them sum to `n` where it can. A wide case takes
/// them from the seed.
fn lengths_of<I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
    n: usize,
    end: bool,
) -> (LayoutSpec, Vec<I>) {
    let (shape, mut vals): (Vec<usize>, Vec<i64>) = if cfg.wide {
        let mut vals = Vec::new();
        let mut at = 0;
        while at < n {
            let l = ((cfg.rand(11, vals.len()) % 8) as usize).min(n - at);
            vals.push(l as i64);
            at += l;
        }
        (vec![vals.len()], vals)
    } else {
        let c = byte(u);
        let (shape, k) = match c {
            0..=239 => (vec![(c % 8) as usize], (c % 8) as usize),
            240..=243 => (vec![1, (c % 4) as usize], (c % 4) as usize),
            _ => (vec![(c - 236) as usize], (c - 236) as usize),
        };
        let vals = (0..k)
            .map(|_| {
                let b = byte(u);
                match b {
                    0..=199 => (b % 4) as i64,
                    200..=209 => -1 - (b % 2) as i64,
                    210..=219 => n as i64 + 1,
                    220..=247 => (b % 8) as i64,
                    _ => raw_i64(u),
                }
            })
            .collect();
        (shape, vals)
    };
    if end && !vals.is_empty() {
        let k = vals.len() - 1;
        let before: i64 = vals[..k].iter().fold(0i64, |a, &v| a.wrapping_add(v));
        if (0..=n as i64).contains(&before) {
            vals[k] = n as i64 - before;
        }
    }
    let spec = if cfg.wide {
        LayoutSpec {
            strides: contiguous(&shape),
            offset: 0,
            len: numel(&shape),
            shape,
        }
    } else {
        layout(u, &shape, CAP)
    };
    let mut buf = vec![I::from_i64_wrapping(0); spec.len];
    if view(&buf, &spec).is_some() {
        let mut k = 0;
        for_each_pos(&spec.shape, |p| {
            buf[offset_in(&spec, p)] = I::from_i64_wrapping(vals[k]);
            k += 1;
        });
    }
    (spec, buf)
}

fn segment_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let p = cfg.param;
    let reduce = [
        Reduction::Sum,
        Reduction::Prod,
        Reduction::Mean,
        Reduction::Amax,
        Reduction::Amin,
    ][(p % 5) as usize];
    let by_offsets = p & 8 != 0;
    let initial: Option<T> = (p & 16 != 0).then(|| cfg.value(7));
    let end = p & 32 != 0;
    let b = byte(u);
    let mut dshape = if cfg.wide {
        vec![WIDE_N + (b % 5) as usize, 16 + (size(u, false) % 3)]
    } else {
        let rank = if b < 8 { 0 } else { 1 + (b % 3) as usize };
        let mut s = small_shape(u, rank);
        if let Some(first) = s.first_mut() {
            // Up to 12 rows.
            *first += (byte(u) % 7) as usize;
        }
        s
    };
    fit(&mut dshape, cfg.cap());
    let data = input::<T>(u, cfg, dshape.clone(), 1);
    let rows = dshape.first().copied().unwrap_or(0);
    let (sspec, sbuf) = if by_offsets {
        offsets_of::<I>(u, cfg, rows, end)
    } else {
        lengths_of::<I>(u, cfg, rows, end)
    };
    if empty_past_end(&sspec) {
        return None;
    }
    let dv = data.view()?;
    let sv = view(&sbuf, &sspec)?;
    let segments = if by_offsets {
        Segments::Offsets(sv)
    } else {
        Segments::Lengths(sv)
    };
    let vals = data.values();
    let svals: Vec<i128> = read(&sbuf, &sspec).iter().map(|v| v.to_i128()).collect();
    let d: usize = dshape.iter().skip(1).product();

    let starts = || -> Check<Vec<usize>> {
        require(!dshape.is_empty(), ARG)?;
        require(sspec.shape.len() == 1, ARG)?;
        if by_offsets {
            // Segment offsets need not start at 0 nor end at the rows.
            if svals.is_empty() {
                return Err(Expect::Offsets(0, 0));
            }
            let mut prev = 0;
            for (k, &v) in svals.iter().enumerate() {
                if v < prev || v > rows as i128 {
                    return Err(Expect::Offsets(k, v));
                }
                prev = v;
            }
            return Ok(svals.iter().map(|&v| v as usize).collect());
        }
        let mut at: u64 = 0;
        let mut starts = vec![0];
        for (k, &l) in svals.iter().enumerate() {
            if l < 0 {
                return Err(Expect::Offsets(k, l));
            }
            at = at.saturating_add(l as u64);
            if at > rows as u64 {
                return Err(Expect::Offsets(k, l));
            }
            starts.push(at as usize);
        }
        if at != rows as u64 {
            let k = svals.len().saturating_sub(1);
            return Err(Expect::Offsets(k, svals.last().copied().unwrap_or(0)));
        }
        Ok(starts)
    };
    let nseg = starts().map_or(0, |s| s.len() - 1);
    let mut oshape = dshape.clone();
    if let Some(first) = oshape.first_mut() {
        *first = nseg;
    }
    // Known (tests/fuzz_embedding.rs, segment_reduce_integer_mean_of_an_empty_segment):
    // an integer mean of an empty segment without `initial` divides by zero.
    if KNOWN_BUGS
        && T::INT
        && reduce == Reduction::Mean
        && initial.is_none()
        && starts().is_ok_and(|s| s.windows(2).any(|w| w[0] == w[1]))
        && d > 0
    {
        return None;
    }

    let want = |copy: bool, outs: &[Vec<usize>]| {
        expect(|| {
            if copy {
                require(!dshape.is_empty(), ARG)?;
                starts()?;
            }
            require(!cfg.refused, OPTION)?;
            let starts = starts()?;
            if !copy {
                require(outs[0] == oshape, OUT)?;
            }
            let start = initial.unwrap_or(match reduce {
                Reduction::Sum | Reduction::Mean => T::n_zero(),
                Reduction::Prod => T::n_one(),
                Reduction::Amax => T::n_lowest(),
                Reduction::Amin => T::n_highest(),
            });
            let mut out = Vec::new();
            for s in 0..starts.len() - 1 {
                let (lo, hi) = (starts[s], starts[s + 1]);
                for j in 0..d {
                    let acc = (lo..hi).fold(start, |a, r| {
                        let x = vals[r * d + j];
                        match reduce {
                            Reduction::Sum | Reduction::Mean => a.n_add(x),
                            Reduction::Prod => a.n_mul(x),
                            Reduction::Amax => a.n_max(x),
                            Reduction::Amin => a.n_min(x),
                        }
                    });
                    out.push(match reduce {
                        Reduction::Mean if hi > lo => acc.n_div(T::n_count(hi - lo)),
                        // An empty mean: `initial`, else 0 / 0.
                        Reduction::Mean => {
                            initial.unwrap_or_else(|| T::n_zero().n_div(T::n_zero()))
                        }
                        _ => acc,
                    });
                }
            }
            Ok(vec![out])
        })
    };
    let what = format!(
        "segment_reduce(data {:?}, {} {sspec:?} {svals:?}, {reduce:?}, initial {initial:?})",
        data.spec,
        if by_offsets { "offsets" } else { "lengths" },
    );
    run(
        &what,
        cfg,
        u,
        &[oshape.clone()],
        &want,
        &|outs, o| match o {
            Some(o) => segment_reduce_into_with(&dv, &segments, reduce, initial, &mut outs[0], o),
            None => segment_reduce_into(&dv, &segments, reduce, initial, &mut outs[0]),
        },
        &|o| {
            match o {
                Some(o) => segment_reduce_with(&dv, &segments, reduce, initial, o),
                None => segment_reduce(&dv, &segments, reduce, initial),
            }
            .map(|t| vec![t])
        },
        None,
    )
}

fn run_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, op: u8, cfg: &Cfg) -> Option<()> {
    match op {
        0 => embedding_case::<T, I>(u, cfg),
        1 => embedding_bag_case::<T, I>(u, cfg),
        2 => embedding_backward_case::<T, I>(u, cfg),
        3 => embedding_bag_backward_case::<T, I>(u, cfg),
        _ => segment_case::<T, I>(u, cfg),
    }
}

// Byte layout: op (`% 5`: embedding, embedding_bag, embedding_backward,
// embedding_bag_backward, segment_reduce); kinds (`& 3`: f32 with i64 ids, f32
// with i32 ids, f64, i32; f64 and i32 take i64 ids); flags (form `& 3`:
// into_with, into, with, allocating; `0x04` small values only; `0x08` the
// scalar instruction set; `0x70` all set: an index mode in the options;
// `0x80` with a wide-case byte of 0: a wide case); param (bags: mode `& 3`
// sum mean max sum, `0x04` include_last_offset, `0x08` per-sample weights,
// `0x10` fixed bags (2-d ids), `0x20` the last offset is the number of ids,
// `0x40` the weights' gradient asked for, `0x80` (and a byte of 250 up) asked
// for without weights; segments: reduction `% 5` sum prod mean amax amin,
// `0x08` offsets (else lengths), `0x10` an initial value, `0x20` the lengths or
// offsets end at the rows); value seed; then the case's own bytes.
fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let u = &mut u;
    let op = byte(u) % 5;
    let kinds = byte(u);
    let flags = byte(u);
    let param = byte(u);
    let seed = splitmix64(byte(u) as u64);
    let wide = flags & 0x80 != 0 && byte(u) == 0;
    let cfg = Cfg {
        form: [Form::IntoWith, Form::Into, Form::CopyWith, Form::Copy][(flags & 3) as usize],
        param,
        seed,
        small: flags & 0x04 != 0,
        scalar: flags & 0x08 != 0,
        refused: flags & 0x70 == 0x70,
        wide,
    };
    let _ = match kinds & 3 {
        0 => run_case::<f32, i64>(u, op, &cfg),
        1 => run_case::<f32, i32>(u, op, &cfg),
        2 => run_case::<f64, i64>(u, op, &cfg),
        _ => run_case::<i32, i64>(u, op, &cfg),
    };
});
