//! torch's indexing family against naive versions written here one element at
//! a time:
//! - `scatter_reduce` (every `Reduction`, with and without `include_self`),
//!   `scatter_value`;
//! - `index_add` (alpha one and not one), `index_copy`, `index_fill`,
//!   `index_reduce`;
//! - `take`, `put` (with and without `accumulate`), `take_along_dim` (with a
//!   dim and without), `put_along_axis`;
//!
//! each in its four forms (`_into_with`, `_into`, `_with`, the copying one),
//! for `i8 u8 i16 u16 i32 i64 f32 f64` elements (floats with NaNs of any
//! payload and sign, ±inf, ±0: compared by bits, any NaN equal to any NaN) and
//! `i64 i32 u32 u64` indices, under every index mode (`Drop` for the scatters,
//! `Fill` where it is refused or, for the gathers, filled), through strided,
//! flipped, padded or (size-1) expanded destination views and strided index
//! and source views (the shared layout decoder). The `_into_with` form runs
//! sequentially and in parallel and the two must agree bit for bit (a rare
//! "wide" case makes the work large enough to really split).
//!
//! The naive side decides errors: the library returns one of the same class
//! (an out-of-range value with the same value and position), never panics, on
//! an error other than an out-of-range value leaves the destination untouched,
//! and never writes outside the view. Where the index repeats without
//! accumulation, the last position in row-major index order wins.
#![no_main]

mod common;

use arbitrary::Unstructured;
use common::{byte, for_each_pos, layout, raw_i64, size, splitmix64, LayoutSpec};
use fastgather::{
    index_add, index_add_into, index_add_into_with, index_add_with, index_copy, index_copy_into,
    index_copy_into_with, index_copy_with, index_fill, index_fill_into, index_fill_into_with,
    index_fill_with, index_reduce, index_reduce_into, index_reduce_into_with, index_reduce_with,
    put, put_along_axis, put_along_axis_into, put_along_axis_into_with, put_along_axis_with,
    put_into, put_into_with, put_with, scatter_reduce, scatter_reduce_into,
    scatter_reduce_into_with, scatter_reduce_with, scatter_value, scatter_value_into,
    scatter_value_into_with, scatter_value_with, take, take_along_dim, take_along_dim_into,
    take_along_dim_into_with, take_along_dim_with, take_into, take_into_with, take_with,
    GatherError, GatherOptions, IndexElem, IndexMode, Reduce, Reduction, Tensor, TensorView,
    TensorViewMut,
};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::fmt::Debug;

const CAP: usize = 1 << 12;
/// Skip the cases of library bugs this target found and that are not fixed
/// yet (each with an ignored reproducer in tests/fuzz_scatter_family.rs).
/// None is open: the ones it found are fixed.
const KNOWN_BUGS: bool = false;
/// Buffers of the wide cases (an axis of 2^16 and a bit).
const WIDE_CAP: usize = 1 << 19;

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
    fn n_max(self, o: Self) -> Self;
    fn n_min(self, o: Self) -> Self;
    /// The sum divided by `count` values (counted in `Self`: integers wrap).
    fn n_mean(self, count: u64) -> Self;
    /// `self + x * alpha`: one rounding when `fused`, else two.
    fn n_axpy(self, x: Self, alpha: Self, fused: bool) -> Self;
    fn n_zero() -> Self;
    fn n_one() -> Self;
    fn n_lowest() -> Self;
    fn n_highest() -> Self;
    fn is_one(self) -> bool {
        self.raw() == Self::n_one().raw()
    }
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
            fn n_mean(self, count: u64) -> Self {
                let c = count as $t;
                if c == 0 {
                    return self;
                }
                // Floor division, in i128 where nothing overflows.
                let (a, b) = (self as i128, c as i128);
                let q = a / b;
                let q = if a % b != 0 && ((a < 0) != (b < 0)) { q - 1 } else { q };
                q as $t
            }
            fn n_axpy(self, x: Self, alpha: Self, _fused: bool) -> Self {
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
        }
    )*};
}
num_int!(i8, u8, i16, u16, i32, i64);

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
            fn n_mean(self, count: u64) -> Self {
                self / count as $t
            }
            fn n_axpy(self, x: Self, alpha: Self, fused: bool) -> Self {
                if fused { x.mul_add(alpha, self) } else { self + x * alpha }
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
        }
    )*};
}
num_float!(
    f32, u32, 0x7fc0_0000u32, 0x7f80_0000u32, 0x8000_0000u32;
    f64, u64, 0x7ff8_0000_0000_0000u64, 0x7ff0_0000_0000_0000u64, 0x8000_0000_0000_0000u64
);

// ---- decoding -----------------------------------------------------------------

/// Everything a case decodes before its shapes.
#[derive(Clone, Copy, Debug)]
struct Cfg {
    /// `None`: the operation's default mode (no `GatherOptions::mode`).
    mode: Option<IndexMode>,
    form: Form,
    reduce: Reduction,
    include_self: bool,
    seed: u64,
    small: bool,
    wide: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `_into_with`, sequential and parallel.
    IntoWith,
    /// `_into` (default options; `_into_with` where a mode is set).
    Into,
    /// `_with`.
    CopyWith,
    /// The copying form (default options; `_with` where a mode is set).
    Copy,
}

impl Cfg {
    fn opts(&self) -> GatherOptions {
        match self.mode {
            Some(m) => GatherOptions::new().mode(m),
            None => GatherOptions::new(),
        }
    }
    fn form(&self) -> Form {
        match (self.form, self.mode) {
            (Form::Into, Some(_)) => Form::IntoWith,
            (Form::Copy, Some(_)) => Form::CopyWith,
            (f, _) => f,
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
}

/// `rank` sizes, each 0..=6 (in a wide case the last one is 2^16 and a bit).
fn shape(u: &mut Unstructured<'_>, rank: usize, wide: bool) -> Vec<usize> {
    let mut s: Vec<usize> = (0..rank).map(|_| size(u, false) % 7).collect();
    if wide {
        if let Some(last) = s.last_mut() {
            *last = (1 << 16) + *last % 3;
        }
    }
    s
}

/// A dim in `-r-1..=r` for rank `r` (`max(rank, 1)`): one past each end too.
fn dim_of(u: &mut Unstructured<'_>, rank: usize) -> isize {
    let r = rank.max(1) as isize;
    (byte(u) as isize % (2 * r + 2)) - r - 1
}

fn wrap(dim: isize, rank: usize) -> Option<usize> {
    let r = rank.max(1) as isize;
    (-r..r).contains(&dim).then(|| dim.rem_euclid(r) as usize)
}

/// Index values for a bound: mostly in range, also in `-bound..0`, just past
/// either end, and the types' extremes.
fn index_values<I: IndexElem>(u: &mut Unstructured<'_>, len: usize, bound: usize) -> Vec<I> {
    let n = bound as i64;
    (0..len)
        .map(|_| {
            let b = byte(u);
            let v = match b {
                0..=199 => b as i64 % n.max(1),
                200..=219 => -1 - (b as i64 - 200) % n.max(1),
                220..=227 => n + (b as i64 - 220),
                228..=235 => -n - 1 - (b as i64 - 228),
                236 => i32::MAX as i64,
                237 => i32::MIN as i64,
                238 => u32::MAX as i64,
                239 => i64::MAX,
                240 => i64::MIN,
                241 => 1 << 32,
                242 => -(1 << 32),
                243 => (1 << 32) + 1,
                _ => raw_i64(u),
            };
            I::from_i64_wrapping(v)
        })
        .collect()
}

fn offset_in(spec: &LayoutSpec, pos: &[usize]) -> usize {
    let strides: Vec<i128> = spec.strides.iter().map(|&s| s as i128).collect();
    common::offset_of(spec.offset as i128, &strides, pos) as usize
}

fn ivals<I: IndexElem>(b: &[I]) -> Vec<i128> {
    b.iter().map(|v| v.to_i128()).collect()
}

/// Known (tests/fuzz_scatter_family.rs, *_offset_past_*): the flat ops slice
/// an empty view's buffer at its (unchecked) offset, and panic.
fn empty_past_end(spec: &LayoutSpec) -> bool {
    KNOWN_BUGS && numel(&spec.shape) == 0 && spec.offset > spec.len
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn view<'a, T>(buf: &'a [T], spec: &LayoutSpec) -> Option<TensorView<'a, T>> {
    TensorView::with_strides(buf, &spec.shape, &spec.strides, spec.offset).ok()
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

// ---- the naive side -----------------------------------------------------------

enum Resolved {
    At(usize),
    Skip,
    Bad,
}

/// An index value under a mode, as the docs state the modes.
fn resolve(mode: IndexMode, v: i128, bound: usize) -> Resolved {
    let n = bound as i128;
    if (0..n).contains(&v) {
        return Resolved::At(v as usize);
    }
    match mode {
        IndexMode::Wrap if v < 0 && v >= -n => Resolved::At((v + n) as usize),
        IndexMode::Clamp if n == 0 => Resolved::Bad,
        IndexMode::Clamp if v < 0 => Resolved::At(0),
        IndexMode::Clamp => Resolved::At(bound - 1),
        IndexMode::Drop | IndexMode::Fill => Resolved::Skip,
        _ => Resolved::Bad,
    }
}

/// What a call should return: the destination buffer (`Ok`), or an error of a
/// class (and for an out-of-range value, the value and position).
#[derive(Debug)]
enum Expect<T> {
    Ok(Vec<T>),
    Err(&'static str),
    Oob(i128, Vec<usize>),
}

fn class(e: &GatherError) -> &'static str {
    match e {
        GatherError::DimOutOfRange { .. } => "DimOutOfRange",
        GatherError::RankMismatch { .. } => "RankMismatch",
        GatherError::SizeMismatch { .. } => "SizeMismatch",
        GatherError::ScatterSizeMismatch { .. } => "ScatterSizeMismatch",
        GatherError::IndexOutOfBounds { .. } => "IndexOutOfBounds",
        GatherError::OutShapeMismatch { .. } => "OutShapeMismatch",
        GatherError::LengthMismatch { .. } => "LengthMismatch",
        GatherError::InvalidOption { .. } => "InvalidOption",
        GatherError::IndexNotVector { .. } => "IndexNotVector",
        GatherError::SliceShapeMismatch { .. } => "SliceShapeMismatch",
        GatherError::InvalidReduction { .. } => "InvalidReduction",
        GatherError::NotBroadcastable { .. } => "NotBroadcastable",
        _ => "other",
    }
}

/// Walks `shape` row-major: each position's index value (`idx`), resolved
/// against `bound`, names the destination position `dest_at(pos, v)`. The
/// writes in order as (position, buffer slot), or the first bad value.
fn walk(
    shape: &[usize],
    bound: usize,
    mode: IndexMode,
    idx: impl Fn(&[usize]) -> i128,
    mut dest_at: impl FnMut(&[usize], usize) -> usize,
) -> Result<Vec<(Vec<usize>, usize)>, (i128, Vec<usize>)> {
    let mut out = Vec::new();
    let mut bad = None;
    for_each_pos(shape, |pos| {
        if bad.is_some() {
            return;
        }
        let v = idx(pos);
        match resolve(mode, v, bound) {
            Resolved::At(v) => out.push((pos.to_vec(), dest_at(pos, v))),
            Resolved::Skip => {}
            Resolved::Bad => bad = Some((v, pos.to_vec())),
        }
    });
    match bad {
        Some(b) => Err(b),
        None => Ok(out),
    }
}

/// `pos` with `pos[d] = v`, cut to the destination's rank (a 0-d one has one
/// element).
fn with_at(pos: &[usize], d: usize, v: usize, dest_rank: usize) -> Vec<usize> {
    if dest_rank == 0 {
        return Vec::new();
    }
    // A 0-d index (or source) against a 1-d dest reads as [1].
    let mut at: Vec<usize> = (0..dest_rank).map(|k| pos.get(k).copied().unwrap_or(0)).collect();
    at[d] = v;
    at
}

/// torch's reduction of `hits` (slot, value, in order) into `want`.
fn reduce_into<T: Num>(want: &mut [T], hits: &[(usize, T)], red: Reduction, include_self: bool) {
    if !include_self {
        let start = match red {
            Reduction::Sum | Reduction::Mean => T::n_zero(),
            Reduction::Prod => T::n_one(),
            Reduction::Amax => T::n_lowest(),
            Reduction::Amin => T::n_highest(),
        };
        for &(slot, _) in hits {
            want[slot] = start;
        }
    }
    let mut counts: HashMap<usize, u64> = HashMap::new();
    for &(slot, x) in hits {
        let old = want[slot];
        want[slot] = match red {
            Reduction::Sum | Reduction::Mean => old.n_add(x),
            Reduction::Prod => old.n_mul(x),
            Reduction::Amax => old.n_max(x),
            Reduction::Amin => old.n_min(x),
        };
        *counts.entry(slot).or_default() += 1;
    }
    if red == Reduction::Mean {
        for (slot, c) in counts {
            want[slot] = want[slot].n_mean(c + include_self as u64);
        }
    }
}

fn assign_into<T: Num>(want: &mut [T], hits: &[(usize, T)]) {
    for &(slot, x) in hits {
        want[slot] = x;
    }
}

// ---- comparing ----------------------------------------------------------------

/// With `SCATTER_FAMILY_TRACE` set, prints each case as it runs (to check
/// what a seed decodes to: run the target on the file).
fn trace(what: &str) {
    if std::env::var_os("SCATTER_FAMILY_TRACE").is_some() {
        eprintln!("{what}");
    }
}

fn keys<T: Num>(xs: &[T]) -> Vec<u128> {
    xs.iter().map(|x| x.key()).collect()
}

fn raws<T: Num>(xs: &[T]) -> Vec<u128> {
    xs.iter().map(|x| x.raw()).collect()
}

fn check_err(what: &str, got: &GatherError, want: &Expect<impl Debug>) {
    match want {
        Expect::Ok(_) => panic!("{what}: expected Ok, got {got:?}"),
        Expect::Err(c) => assert_eq!(class(got), *c, "{what}: {got:?}"),
        Expect::Oob(value, position) => match got {
            GatherError::IndexOutOfBounds {
                value: v,
                position: p,
                ..
            } => assert_eq!((v, p), (value, position), "{what}: {got:?}"),
            other => panic!("{what}: expected out of range {value} at {position:?}, got {other:?}"),
        },
    }
}

type IntoFn<'f, T> =
    &'f dyn Fn(&mut TensorViewMut<'_, T>, &GatherOptions) -> Result<(), GatherError>;
type IntoPlain<'f, T> = &'f dyn Fn(&mut TensorViewMut<'_, T>) -> Result<(), GatherError>;
type CopyFn<'f, T> = &'f dyn Fn(&TensorView<'_, T>, &GatherOptions) -> Result<Tensor<T>, GatherError>;
type CopyPlain<'f, T> = &'f dyn Fn(&TensorView<'_, T>) -> Result<Tensor<T>, GatherError>;

/// Runs a scatter-like operation in the case's form on a destination with
/// layout `spec` holding `init`, and compares with `want`.
#[allow(clippy::too_many_arguments)]
fn run_scatter_like<T: Num>(
    what: &str,
    cfg: &Cfg,
    spec: &LayoutSpec,
    init: &[T],
    want: &Expect<T>,
    into_with: IntoFn<'_, T>,
    into: IntoPlain<'_, T>,
    copy_with: CopyFn<'_, T>,
    copy: CopyPlain<'_, T>,
) -> Option<()> {
    let form = cfg.form();
    let what = format!("{what} [{form:?}, mode {:?}, {}]", cfg.mode, std::any::type_name::<T>());
    trace(&what);
    match form {
        Form::IntoWith | Form::Into => {
            let mut runs = Vec::new();
            let variants: &[Option<bool>] = if form == Form::Into {
                &[None]
            } else {
                &[Some(false), Some(true)]
            };
            for &parallel in variants {
                let mut buf = init.to_vec();
                let got = {
                    let mut dest = TensorViewMut::with_strides(
                        &mut buf,
                        &spec.shape,
                        &spec.strides,
                        spec.offset,
                    )
                    .ok()?;
                    match parallel {
                        None => into(&mut dest),
                        Some(false) => into_with(&mut dest, &cfg.opts().sequential()),
                        Some(true) => into_with(&mut dest, &cfg.opts()),
                    }
                };
                runs.push((got, buf));
            }
            if let [(g0, b0), (g1, b1)] = &runs[..] {
                assert_eq!(g0, g1, "{what}: sequential and parallel differ");
                assert_eq!(raws(b0), raws(b1), "{what}: sequential and parallel differ (bits)");
            }
            let (got, buf) = &runs[0];
            match (got, want) {
                (Ok(()), Expect::Ok(w)) => {
                    assert_eq!(keys(buf), keys(w), "{what}: values differ (as bits)\n got {buf:?}\nwant {w:?}")
                }
                (Ok(()), _) => panic!("{what}: expected {want:?}, got Ok"),
                (Err(e), _) => {
                    check_err(&what, e, want);
                    if !matches!(e, GatherError::IndexOutOfBounds { .. }) {
                        assert_eq!(raws(buf), raws(init), "{what}: written before {e:?}");
                    }
                }
            }
        }
        Form::CopyWith | Form::Copy => {
            let input = view(init, spec)?;
            let got = if form == Form::Copy {
                copy(&input)
            } else {
                copy_with(&input, &cfg.opts())
            };
            match (got, want) {
                (Ok(t), Expect::Ok(w)) => {
                    assert_eq!(t.shape(), &spec.shape[..], "{what}");
                    let mut expect = Vec::new();
                    for_each_pos(&spec.shape, |pos| expect.push(w[offset_in(spec, pos)]));
                    assert_eq!(
                        keys(t.as_slice()),
                        keys(&expect),
                        "{what}, copying: values differ\n got {:?}\nwant {expect:?}",
                        t.as_slice()
                    );
                }
                (Ok(_), _) => panic!("{what}: expected {want:?}, got Ok"),
                (Err(e), _) => check_err(&what, &e, want),
            }
        }
    }
    Some(())
}

// ---- the operations -------------------------------------------------------------

/// A destination: shape, layout, initial values.
/// `None` where the layout is no writable view of its buffer (out of it, or
/// overlapping): the naive side may index the buffer by the layout only after.
fn dest_of<T: Num>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
    rank: usize,
) -> Option<(LayoutSpec, Vec<T>)> {
    let s = shape(u, rank, cfg.wide);
    let spec = layout(u, &s, cfg.cap());
    let mut init = cfg.values::<T>(spec.len, 2);
    TensorViewMut::with_strides(&mut init, &spec.shape, &spec.strides, spec.offset).ok()?;
    Some((spec, init))
}

fn scatter_case<T: Num, I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
    value_only: bool,
) -> Option<()> {
    let rank = (byte(u) % 5) as usize;
    let (dspec, init) = dest_of::<T>(u, cfg, rank)?;
    let b = byte(u);
    let irank = if b < 240 { rank } else { (b % 5) as usize };
    let ishape = shape(u, irank, cfg.wide);
    let sshape: Vec<usize> = ishape.iter().map(|&n| n + (byte(u) % 2) as usize).collect();
    let dim = dim_of(u, rank);
    let ispec = layout(u, &ishape, cfg.cap());
    let sspec = layout(u, &sshape, cfg.cap());
    let d = wrap(dim, rank);
    let bound = d.map_or(1, |d| dspec.shape.get(d).copied().unwrap_or(1));
    let ibuf: Vec<I> = index_values(u, ispec.len, bound);
    let sbuf: Vec<T> = cfg.values(sspec.len, 1);
    let value: T = cfg.value(3);
    let idx = view(&ibuf, &ispec)?;
    let src = view(&sbuf, &sspec)?;
    let (red, inc) = (cfg.reduce, cfg.include_self);
    let mode = cfg.mode.unwrap_or(IndexMode::Error);

    let want = (|| {
        if mode == IndexMode::Fill {
            return Expect::Err("InvalidOption");
        }
        let Some(d) = d else {
            return Expect::Err("DimOutOfRange");
        };
        if numel(&ishape) == 0 {
            return Expect::Ok(init.clone());
        }
        let vshape = if value_only { &ishape } else { &sshape };
        let r = rank.max(1);
        if irank.max(1) != r || vshape.len().max(1) != r {
            return Expect::Err("RankMismatch");
        }
        let at = |s: &[usize], k: usize| s.get(k).copied().unwrap_or(1);
        for k in 0..r {
            let i = at(&ishape, k);
            if i > at(vshape, k) || (k != d && i > at(&dspec.shape, k)) {
                return Expect::Err("ScatterSizeMismatch");
            }
        }
        let walked = walk(
            &ishape,
            bound,
            mode,
            |p| ibuf[offset_in(&ispec, p)].to_i128(),
            |p, v| offset_in(&dspec, &with_at(p, d, v, rank)),
        );
        match walked {
            Err((v, p)) => Expect::Oob(v, p),
            Ok(w) => {
                let hits: Vec<(usize, T)> = w
                    .into_iter()
                    .map(|(p, slot)| {
                        let x = if value_only { value } else { sbuf[offset_in(&sspec, &p)] };
                        (slot, x)
                    })
                    .collect();
                let mut want = init.clone();
                if value_only {
                    assign_into(&mut want, &hits);
                } else {
                    reduce_into(&mut want, &hits, red, inc);
                }
                Expect::Ok(want)
            }
        }
    })();
    if value_only {
        let ibuf_s = ivals(&ibuf);
    let what = format!("scatter_value(dest {dspec:?}, dim {dim}, index {ispec:?} {ibuf_s:?}, value {value:?})");
        run_scatter_like(
            &what,
            cfg,
            &dspec,
            &init,
            &want,
            &|dst, o| scatter_value_into_with(dst, dim, &idx, value, o),
            &|dst| scatter_value_into(dst, dim, &idx, value),
            &|inp, o| scatter_value_with(inp, dim, &idx, value, o),
            &|inp| scatter_value(inp, dim, &idx, value),
        )
    } else {
        let ibuf_s = ivals(&ibuf);
    let what = format!(
            "scatter_reduce(dest {dspec:?}, dim {dim}, index {ispec:?} {ibuf_s:?}, src {sspec:?}, {red:?}, include_self {inc})"
        );
        run_scatter_like(
            &what,
            cfg,
            &dspec,
            &init,
            &want,
            &|dst, o| scatter_reduce_into_with(dst, dim, &idx, &src, red, inc, o),
            &|dst| scatter_reduce_into(dst, dim, &idx, &src, red, inc),
            &|inp, o| scatter_reduce_with(inp, dim, &idx, &src, red, inc, o),
            &|inp| scatter_reduce(inp, dim, &idx, &src, red, inc),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IndexOp {
    Add,
    Copy,
    Fill,
    Reduce,
}

fn index_case<T: Num, I: IndexElem>(
    u: &mut Unstructured<'_>,
    cfg: &Cfg,
    op: IndexOp,
) -> Option<()> {
    let rank = (byte(u) % 5) as usize;
    let (dspec, init) = dest_of::<T>(u, cfg, rank)?;
    let dim = dim_of(u, rank);
    let d = wrap(dim, rank);
    // The index: 1-d (a length 0..=6), 0-d, or rarely 2-d.
    let b = byte(u);
    let ishape: Vec<usize> = match b {
        0..=219 => vec![(b % 7) as usize],
        220..=249 => vec![],
        _ => vec![(b % 3) as usize, 1 + (byte(u) % 2) as usize],
    };
    let m = numel(&ishape);
    let ispec = layout(u, &ishape, CAP);
    // The source: dest's shape with `dim` sized as the index (a 0-d dest or
    // index sees as [1]), or rarely one axis off.
    let mut sshape = dspec.shape.clone();
    match (d, sshape.is_empty()) {
        (Some(d), false) => sshape[d] = m,
        (_, true) if m == 1 && byte(u) & 1 == 0 => {}
        (_, true) => sshape = vec![m],
        (None, false) => {}
    }
    let off = byte(u);
    if off >= 240 && !sshape.is_empty() {
        let k = off as usize % sshape.len();
        sshape[k] += 1;
    }
    let sspec = layout(u, &sshape, cfg.cap());
    let bound = d.map_or(1, |d| dspec.shape.get(d).copied().unwrap_or(1));
    let ibuf: Vec<I> = index_values(u, ispec.len, bound);
    let sbuf: Vec<T> = cfg.values(sspec.len, 1);
    let value: T = cfg.value(3);
    // alpha: one half of the time.
    let alpha: T = if cfg.seed & 1 == 0 { T::n_one() } else { cfg.value(4) };
    let idx = view(&ibuf, &ispec)?;
    let src = view(&sbuf, &sspec)?;
    let (red, inc) = (cfg.reduce, cfg.include_self);
    // Known (tests/fuzz_scatter_family.rs, index_fill_0d_dest_*): index_fill
    // on a 0-d dest reads the 1-d index as 0-d (only its first element, even
    // when it is empty).
    if KNOWN_BUGS && op == IndexOp::Fill && rank == 0 && ishape.len() == 1 && m != 1 {
        return None;
    }
    let default = if op == IndexOp::Fill { IndexMode::Wrap } else { IndexMode::Error };
    let mode = cfg.mode.unwrap_or(default);

    let want = (|| {
        if op == IndexOp::Reduce && red == Reduction::Sum {
            // Every form refuses `Sum` before looking at the options.
            return Expect::Err("InvalidReduction");
        }
        if mode == IndexMode::Fill {
            return Expect::Err("InvalidOption");
        }
        let Some(d) = d else {
            return Expect::Err("DimOutOfRange");
        };
        let as_1d = |s: &[usize]| if s.is_empty() { vec![1] } else { s.to_vec() };
        if op != IndexOp::Fill && ishape.len() <= 1 {
            let mut w = as_1d(&dspec.shape);
            w[d] = m;
            // A 0-d `self` takes exactly one slice (torch refuses more).
            if as_1d(&sshape) != w || (dspec.shape.is_empty() && m != 1) {
                return Expect::Err("SliceShapeMismatch");
            }
        }
        if ishape.len() > 1 {
            return Expect::Err("IndexNotVector");
        }
        // The slices: a position of `dest` with `dim` sized as the index.
        let mut wshape = as_1d(&dspec.shape);
        wshape[d] = m;
        let index_at = |j: usize| {
            let pos: Vec<usize> = if ishape.is_empty() { vec![] } else { vec![j] };
            ibuf[offset_in(&ispec, &pos)].to_i128()
        };
        let walked = walk(
            &wshape,
            bound,
            mode,
            |p| index_at(p[d]),
            |p, v| offset_in(&dspec, &with_at(p, d, v, rank)),
        );
        match walked {
            Err((v, p)) => {
                let position = if ishape.is_empty() { vec![] } else { vec![p[d]] };
                // Known (tests/fuzz_scatter_family.rs,
                // index_add_0d_source_1d_index_out_of_range_position).
                // index_fill: the same where dest is 0-d.
                let zero_d = if op == IndexOp::Fill { rank == 0 } else { sshape.is_empty() };
                let position = if KNOWN_BUGS && zero_d { vec![] } else { position };
                Expect::Oob(v, position)
            }
            Ok(w) => {
                let src_at = |p: &[usize]| {
                    let p = if sshape.is_empty() { &[][..] } else { p };
                    sbuf[offset_in(&sspec, p)]
                };
                let mut want = init.clone();
                match op {
                    IndexOp::Fill => {
                        let hits: Vec<(usize, T)> = w.into_iter().map(|(_, s)| (s, value)).collect();
                        assign_into(&mut want, &hits);
                    }
                    IndexOp::Copy => {
                        let hits: Vec<(usize, T)> =
                            w.into_iter().map(|(p, s)| (s, src_at(&p))).collect();
                        assign_into(&mut want, &hits);
                    }
                    IndexOp::Reduce => {
                        let hits: Vec<(usize, T)> =
                            w.into_iter().map(|(p, s)| (s, src_at(&p))).collect();
                        reduce_into(&mut want, &hits, red, inc);
                    }
                    IndexOp::Add => {
                        let fused = rank >= 2;
                        for (p, s) in w {
                            let x = src_at(&p);
                            want[s] = if alpha.is_one() {
                                want[s].n_add(x)
                            } else {
                                want[s].n_axpy(x, alpha, fused)
                            };
                        }
                    }
                }
                Expect::Ok(want)
            }
        }
    })();
    let ibuf_s = ivals(&ibuf);
    let what = format!(
        "index_{op:?}(dest {dspec:?}, dim {dim}, index {ispec:?} {ibuf_s:?}, source {sspec:?}, \
         value {value:?}, alpha {alpha:?}, {red:?}, include_self {inc})"
    );
    match op {
        IndexOp::Add => run_scatter_like(
            &what,
            cfg,
            &dspec,
            &init,
            &want,
            &|dst, o| index_add_into_with(dst, dim, &idx, &src, alpha, o),
            &|dst| index_add_into(dst, dim, &idx, &src, alpha),
            &|inp, o| index_add_with(inp, dim, &idx, &src, alpha, o),
            &|inp| index_add(inp, dim, &idx, &src, alpha),
        ),
        IndexOp::Copy => run_scatter_like(
            &what,
            cfg,
            &dspec,
            &init,
            &want,
            &|dst, o| index_copy_into_with(dst, dim, &idx, &src, o),
            &|dst| index_copy_into(dst, dim, &idx, &src),
            &|inp, o| index_copy_with(inp, dim, &idx, &src, o),
            &|inp| index_copy(inp, dim, &idx, &src),
        ),
        IndexOp::Fill => run_scatter_like(
            &what,
            cfg,
            &dspec,
            &init,
            &want,
            &|dst, o| index_fill_into_with(dst, dim, &idx, value, o),
            &|dst| index_fill_into(dst, dim, &idx, value),
            &|inp, o| index_fill_with(inp, dim, &idx, value, o),
            &|inp| index_fill(inp, dim, &idx, value),
        ),
        IndexOp::Reduce => run_scatter_like(
            &what,
            cfg,
            &dspec,
            &init,
            &want,
            &|dst, o| index_reduce_into_with(dst, dim, &idx, &src, red, inc, o),
            &|dst| index_reduce_into(dst, dim, &idx, &src, red, inc),
            &|inp, o| index_reduce_with(inp, dim, &idx, &src, red, inc, o),
            &|inp| index_reduce(inp, dim, &idx, &src, red, inc),
        ),
    }
}

fn put_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let rank = (byte(u) % 5) as usize;
    let (dspec, init) = dest_of::<T>(u, cfg, rank)?;
    let irank = (byte(u) % 4) as usize;
    let ishape = shape(u, irank, false);
    let ispec = layout(u, &ishape, CAP);
    // The source: the index's shape, flattened, or rarely another length.
    let b = byte(u);
    let sshape: Vec<usize> = match b {
        0..=149 => ishape.clone(),
        150..=239 => vec![numel(&ishape)],
        _ => vec![(b % 7) as usize],
    };
    let sspec = layout(u, &sshape, CAP);
    let accumulate = byte(u) & 1 == 1;
    let n = numel(&dspec.shape);
    let ibuf: Vec<I> = index_values(u, ispec.len, n);
    let sbuf: Vec<T> = cfg.values(sspec.len, 1);
    let idx = view(&ibuf, &ispec)?;
    let src = view(&sbuf, &sspec)?;
    if empty_past_end(&ispec) || empty_past_end(&sspec) {
        return None;
    }
    let mode = cfg.mode.unwrap_or(IndexMode::Wrap);

    let want = (|| {
        if mode == IndexMode::Fill {
            return Expect::Err("InvalidOption");
        }
        if numel(&sshape) != numel(&ishape) {
            return Expect::Err("LengthMismatch");
        }
        let mut values = Vec::new();
        for_each_pos(&sshape, |p| values.push(sbuf[offset_in(&sspec, p)]));
        let mut k = 0usize;
        let walked = walk(
            &ishape,
            n,
            mode,
            |p| ibuf[offset_in(&ispec, p)].to_i128(),
            |_, v| offset_in(&dspec, &unravel(v, &dspec.shape)),
        );
        // The source element of each write: its index position, flattened.
        match walked {
            Err((v, p)) => Expect::Oob(v, p),
            Ok(w) => {
                let mut want = init.clone();
                for (p, slot) in w {
                    k = p.iter().zip(&ishape).fold(0, |acc, (&q, &s)| acc * s + q);
                    let x = values[k];
                    want[slot] = if accumulate { want[slot].n_add(x) } else { x };
                }
                let _ = k;
                Expect::Ok(want)
            }
        }
    })();
    let ibuf_s = ivals(&ibuf);
    let what = format!(
        "put(dest {dspec:?}, index {ispec:?} {ibuf_s:?}, source {sspec:?}, accumulate {accumulate})"
    );
    run_scatter_like(
        &what,
        cfg,
        &dspec,
        &init,
        &want,
        &|dst, o| put_into_with(dst, &idx, &src, accumulate, o),
        &|dst| put_into(dst, &idx, &src, accumulate),
        &|inp, o| put_with(inp, &idx, &src, accumulate, o),
        &|inp| put(inp, &idx, &src, accumulate),
    )
}

/// An axis size of an index or values against `n`: the same, 1, or any.
fn bcast_size(u: &mut Unstructured<'_>, n: usize) -> usize {
    match byte(u) {
        0..=119 => n,
        120..=219 => 1,
        b => (b % 7) as usize,
    }
}

fn put_along_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let rank = (byte(u) % 5) as usize;
    let (dspec, init) = dest_of::<T>(u, cfg, rank)?;
    let dim = dim_of(u, rank);
    let d = wrap(dim, rank);
    let b = byte(u);
    let irank = if b < 240 { rank } else { (b % 5) as usize };
    let ishape: Vec<usize> = (0..irank)
        .map(|k| {
            let n = dspec.shape.get(k).copied().unwrap_or(1);
            if Some(k) == d {
                size(u, false) % 7
            } else {
                bcast_size(u, n)
            }
        })
        .collect();
    let ispec = layout(u, &ishape, cfg.cap());
    let vrank = (byte(u) as usize) % (irank + 1);
    let vshape: Vec<usize> = (0..vrank)
        .map(|k| bcast_size(u, ishape[irank - vrank + k]))
        .collect();
    let vspec = layout(u, &vshape, cfg.cap());
    let bound = d.map_or(1, |d| dspec.shape.get(d).copied().unwrap_or(1));
    let ibuf: Vec<I> = index_values(u, ispec.len, bound);
    let vbuf: Vec<T> = cfg.values(vspec.len, 1);
    let idx = view(&ibuf, &ispec)?;
    let vals = view(&vbuf, &vspec)?;
    let mode = cfg.mode.unwrap_or(IndexMode::Wrap);

    let want = (|| {
        if mode == IndexMode::Fill {
            return Expect::Err("InvalidOption");
        }
        let Some(d) = d else {
            return Expect::Err("DimOutOfRange");
        };
        if irank.max(1) != rank.max(1) {
            return Expect::Err("RankMismatch");
        }
        // numpy: the index arrays (an arange on every axis but `axis`)
        // broadcast against each other.
        let ashape = if rank == 0 { vec![1] } else { dspec.shape.clone() };
        let ish = if irank == 0 { vec![1] } else { ishape.clone() };
        let mut shape = ish.clone();
        let mut size1_conflict = false;
        for k in 0..shape.len() {
            let (x, y) = (ashape[k], ish[k]);
            if k == d || x == y {
                continue;
            }
            // Known (tests/fuzz_scatter_family.rs,
            // put_along_axis_broadcasts_arr_size_1_axes).
            if x == 1 {
                size1_conflict = true;
                continue;
            }
            if y != 1 {
                return Expect::Err("NotBroadcastable");
            }
            shape[k] = x;
        }
        let fits = vshape.len() <= shape.len()
            && vshape.iter().rev().zip(shape.iter().rev()).all(|(&v, &s)| v == s || v == 1);
        if !fits {
            return Expect::Err("NotBroadcastable");
        }
        if numel(&shape) == 0 {
            return Expect::Ok(init.clone());
        }
        // fastgather does not stretch an `arr` axis of size 1 as numpy does
        // (docs/SEMANTICS.md): a clear error instead.
        if size1_conflict {
            return Expect::Err("ScatterSizeMismatch");
        }
        let lead = shape.len() - vshape.len();
        let walked = walk(
            &shape,
            bound,
            mode,
            |p| {
                let ip: Vec<usize> = if irank == 0 {
                    vec![]
                } else {
                    p.iter().zip(&ish).map(|(&q, &s)| if s == 1 { 0 } else { q }).collect()
                };
                ibuf[offset_in(&ispec, &ip)].to_i128()
            },
            |p, v| {
                let mut at: Vec<usize> =
                    p.iter().zip(&ashape).map(|(&q, &s)| if s == 1 { 0 } else { q }).collect();
                at[d] = v;
                if rank == 0 {
                    at.clear();
                }
                offset_in(&dspec, &at)
            },
        );
        match walked {
            Err((v, p)) => {
                let p = if irank == 0 { vec![] } else { p };
                Expect::Oob(v, p)
            }
            Ok(w) => {
                let hits: Vec<(usize, T)> = w
                    .into_iter()
                    .map(|(p, s)| {
                        let vp: Vec<usize> = p[lead..]
                            .iter()
                            .zip(&vshape)
                            .map(|(&q, &n)| if n == 1 { 0 } else { q })
                            .collect();
                        (s, vbuf[offset_in(&vspec, &vp)])
                    })
                    .collect();
                let mut want = init.clone();
                assign_into(&mut want, &hits);
                Expect::Ok(want)
            }
        }
    })();
    let ibuf_s = ivals(&ibuf);
    let what = format!(
        "put_along_axis(arr {dspec:?}, indices {ispec:?} {ibuf_s:?}, values {vspec:?}, axis {dim})"
    );
    run_scatter_like(
        &what,
        cfg,
        &dspec,
        &init,
        &want,
        &|dst, o| put_along_axis_into_with(dst, &idx, &vals, dim, o),
        &|dst| put_along_axis_into(dst, &idx, &vals, dim),
        &|inp, o| put_along_axis_with(inp, &idx, &vals, dim, o),
        &|inp| put_along_axis(inp, &idx, &vals, dim),
    )
}

/// The gathers' expectation: the result (row-major, with its shape) or an error.
type Gathered<T> = (Vec<usize>, Expect<T>);

/// Runs a gather-like operation in the case's form and compares with `want`
/// (values row-major over `shape`).
fn run_gather_like<T: Num>(
    what: &str,
    cfg: &Cfg,
    u: &mut Unstructured<'_>,
    want: &Gathered<T>,
    into_with: &dyn Fn(&mut TensorViewMut<'_, T>, &GatherOptions) -> Result<(), GatherError>,
    into: &dyn Fn(&mut TensorViewMut<'_, T>) -> Result<(), GatherError>,
    copy_with: &dyn Fn(&GatherOptions) -> Result<Tensor<T>, GatherError>,
    copy: &dyn Fn() -> Result<Tensor<T>, GatherError>,
) -> Option<()> {
    let form = cfg.form();
    let what = format!("{what} [{form:?}, mode {:?}, {}]", cfg.mode, std::any::type_name::<T>());
    trace(&what);
    let (shape, want) = want;
    match form {
        Form::CopyWith | Form::Copy => {
            let got = if form == Form::Copy { copy() } else { copy_with(&cfg.opts()) };
            match (got, want) {
                (Ok(t), Expect::Ok(w)) => {
                    assert_eq!(t.shape(), &shape[..], "{what}");
                    assert_eq!(keys(t.as_slice()), keys(w), "{what}: values differ\n got {:?}\nwant {w:?}", t.as_slice());
                }
                (Ok(_), _) => panic!("{what}: expected {want:?}, got Ok"),
                (Err(e), _) => check_err(&what, &e, want),
            }
        }
        Form::IntoWith | Form::Into => {
            let ospec = layout(u, shape, cfg.cap());
            let init: Vec<T> = cfg.values(ospec.len, 5);
            let mut runs = Vec::new();
            let variants: &[Option<bool>] =
                if form == Form::Into { &[None] } else { &[Some(false), Some(true)] };
            for &parallel in variants {
                let mut buf = init.clone();
                let got = {
                    let mut out = TensorViewMut::with_strides(
                        &mut buf,
                        &ospec.shape,
                        &ospec.strides,
                        ospec.offset,
                    )
                    .ok()?;
                    match parallel {
                        None => into(&mut out),
                        Some(false) => into_with(&mut out, &cfg.opts().sequential()),
                        Some(true) => into_with(&mut out, &cfg.opts()),
                    }
                };
                runs.push((got, buf));
            }
            if let [(g0, b0), (g1, b1)] = &runs[..] {
                assert_eq!(g0, g1, "{what}: sequential and parallel differ");
                assert_eq!(raws(b0), raws(b1), "{what}: sequential and parallel differ (bits)");
            }
            let (got, buf) = &runs[0];
    let what = format!("{what}, out {ospec:?}");
            match (got, want) {
                (Ok(()), Expect::Ok(w)) => {
                    let mut expect = init.clone();
                    let mut k = 0;
                    for_each_pos(shape, |p| {
                        expect[offset_in(&ospec, p)] = w[k];
                        k += 1;
                    });
                    assert_eq!(keys(buf), keys(&expect), "{what}: values differ\n got {buf:?}\nwant {expect:?}");
                }
                (Ok(()), _) => panic!("{what}: expected {want:?}, got Ok"),
                (Err(e), _) => {
                    check_err(&what, e, want);
                    if !matches!(e, GatherError::IndexOutOfBounds { .. }) {
                        assert_eq!(raws(buf), raws(&init), "{what}: written before {e:?}");
                    }
                }
            }
        }
    }
    Some(())
}

fn gather_mode(cfg: &Cfg) -> Cfg {
    // Drop is a scatter's mode: the gathers get their default instead.
    let mut c = *cfg;
    if c.mode == Some(IndexMode::Drop) {
        c.mode = None;
    }
    c
}

fn take_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let cfg = &gather_mode(cfg);
    let rank = (byte(u) % 5) as usize;
    let ashape = shape(u, rank, false);
    let aspec = layout(u, &ashape, CAP);
    let abuf: Vec<T> = cfg.values(aspec.len, 2);
    let irank = (byte(u) % 4) as usize;
    let ishape = shape(u, irank, false);
    let ispec = layout(u, &ishape, CAP);
    let n = numel(&ashape);
    let ibuf: Vec<I> = index_values(u, ispec.len, n);
    let input = view(&abuf, &aspec)?;
    let idx = view(&ibuf, &ispec)?;
    if empty_past_end(&aspec) {
        return None;
    }
    let fill: T = cfg.value(6);
    let cfg = &Cfg {
        mode: if cfg.mode == Some(IndexMode::Fill) { None } else { cfg.mode },
        ..*cfg
    };
    let filling = byte(u) & 7 == 0;
    let mode = if filling { IndexMode::Fill } else { cfg.mode.unwrap_or(IndexMode::Wrap) };
    let mut flat = Vec::new();
    for_each_pos(&ashape, |p| flat.push(abuf[offset_in(&aspec, p)]));
    let mut out = Vec::new();
    let walked = walk(&ishape, n, mode, |p| ibuf[offset_in(&ispec, p)].to_i128(), |_, v| v);
    let want = match walked {
        // Known (tests/fuzz_scatter_family.rs, take_0d_index_out_of_range_position).
        Err((v, p)) if KNOWN_BUGS && p.is_empty() => Expect::Oob(v, vec![0]),
        Err((v, p)) => Expect::Oob(v, p),
        Ok(w) => {
            // Fill: the skipped positions get the fill value.
            let mut it = w.into_iter().peekable();
            for_each_pos(&ishape, |p| match it.peek() {
                Some((q, _)) if q == p => out.push(flat[it.next().unwrap().1]),
                _ => out.push(fill),
            });
            Expect::Ok(out)
        }
    };
    let opts_of = |o: &GatherOptions| if filling { o.clone().fill(fill) } else { o.clone() };
    let cfg = &Cfg {
        form: if filling && matches!(cfg.form, Form::Into) {
            Form::IntoWith
        } else if filling && cfg.form == Form::Copy {
            Form::CopyWith
        } else {
            cfg.form
        },
        ..*cfg
    };
    let ibuf_s = ivals(&ibuf);
    let what = format!("take(input {aspec:?}, index {ispec:?} {ibuf_s:?}, fill {filling})");
    run_gather_like(
        &what,
        cfg,
        u,
        &(ishape.clone(), want),
        &|out, o| take_into_with(&input, &idx, out, &opts_of(o)),
        &|out| take_into(&input, &idx, out),
        &|o| take_with(&input, &idx, &opts_of(o)),
        &|| take(&input, &idx),
    )
}

fn take_along_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, cfg: &Cfg) -> Option<()> {
    let cfg = &gather_mode(cfg);
    let cfg = &Cfg {
        mode: if cfg.mode == Some(IndexMode::Fill) { None } else { cfg.mode },
        ..*cfg
    };
    let rank = (byte(u) % 5) as usize;
    let ashape = shape(u, rank, false);
    let aspec = layout(u, &ashape, CAP);
    let abuf: Vec<T> = cfg.values(aspec.len, 2);
    let b = byte(u);
    let dim: Option<isize> = if b < 64 { None } else { Some(dim_of(u, rank)) };
    let d = dim.and_then(|dim| wrap(dim, rank));
    let b = byte(u);
    let irank = if b < 240 { rank } else { (b % 5) as usize };
    let ishape: Vec<usize> = (0..irank)
        .map(|k| {
            let n = ashape.get(k).copied().unwrap_or(1);
            if Some(k) == d || dim.is_none() {
                size(u, false) % 7
            } else {
                bcast_size(u, n)
            }
        })
        .collect();
    let ispec = layout(u, &ishape, CAP);
    let bound = match (dim, d) {
        (None, _) => numel(&ashape),
        (Some(_), Some(d)) => ashape.get(d).copied().unwrap_or(1),
        _ => 1,
    };
    let ibuf: Vec<I> = index_values(u, ispec.len, bound);
    let input = view(&abuf, &aspec)?;
    let idx = view(&ibuf, &ispec)?;
    if dim.is_none() && (empty_past_end(&aspec) || empty_past_end(&ispec)) {
        return None;
    }
    let at_i = |p: &[usize]| ibuf[offset_in(&ispec, p)].to_i128();

    let want: Gathered<T> = match dim {
        None => {
            let mode = cfg.mode.unwrap_or(IndexMode::Error);
            let m = numel(&ishape);
            let mut flat = Vec::new();
            for_each_pos(&ashape, |p| flat.push(abuf[offset_in(&aspec, p)]));
            let mut flat_idx = Vec::new();
            for_each_pos(&ishape, |p| flat_idx.push(at_i(p)));
            let walked = walk(&[m], bound, mode, |p| flat_idx[p[0]], |_, v| v);
            let e = match walked {
                Err((v, p)) => Expect::Oob(v, p),
                Ok(w) => Expect::Ok(w.into_iter().map(|(_, v)| flat[v]).collect()),
            };
            (vec![m], e)
        }
        Some(_) => (|| {
            let mode = cfg.mode.unwrap_or(IndexMode::Wrap);
            let Some(d) = d else {
                return (ishape.clone(), Expect::Err("DimOutOfRange"));
            };
            if irank != rank {
                return (ishape.clone(), Expect::Err("RankMismatch"));
            }
            let mut oshape = ishape.clone();
            for k in (0..rank).filter(|&k| k != d) {
                let (a, i) = (ashape[k], ishape[k]);
                if a == i || a == 1 {
                    continue;
                }
                if i != 1 {
                    return (ishape.clone(), Expect::Err("SizeMismatch"));
                }
                oshape[k] = a;
            }
            if numel(&ishape) == 0 {
                return (oshape, Expect::Ok(vec![]));
            }
            if numel(&oshape) == 0 {
                // Values are checked even where the result is empty.
                let walked = walk(&ishape, bound, mode, at_i, |_, _| 0);
                return match walked {
                    Err((v, p)) => (oshape, Expect::Oob(v, p)),
                    Ok(_) => (oshape, Expect::Ok(vec![])),
                };
            }
            let walked = walk(
                &oshape,
                bound,
                mode,
                |p| {
                    let ip: Vec<usize> =
                        p.iter().zip(&ishape).map(|(&q, &s)| if s == 1 { 0 } else { q }).collect();
                    at_i(&ip)
                },
                |p, v| {
                    let mut at: Vec<usize> =
                        p.iter().zip(&ashape).map(|(&q, &s)| if s == 1 { 0 } else { q }).collect();
                    if rank > 0 {
                        at[d] = v;
                    }
                    offset_in(&aspec, &at)
                },
            );
            match walked {
                Err((v, p)) => (oshape, Expect::Oob(v, p)),
                Ok(w) => (oshape, Expect::Ok(w.into_iter().map(|(_, s)| abuf[s]).collect())),
            }
        })(),
    };
    let ibuf_s = ivals(&ibuf);
    let what = format!("take_along_dim(input {aspec:?}, indices {ispec:?} {ibuf_s:?}, dim {dim:?})");
    run_gather_like(
        &what,
        cfg,
        u,
        &want,
        &|out, o| take_along_dim_into_with(&input, &idx, dim, out, o),
        &|out| take_along_dim_into(&input, &idx, dim, out),
        &|o| take_along_dim_with(&input, &idx, dim, o),
        &|| take_along_dim(&input, &idx, dim),
    )
}

fn run_case<T: Num, I: IndexElem>(u: &mut Unstructured<'_>, op: u8, cfg: &Cfg) -> Option<()> {
    match op {
        0 => scatter_case::<T, I>(u, cfg, false),
        1 => scatter_case::<T, I>(u, cfg, true),
        2 => index_case::<T, I>(u, cfg, IndexOp::Add),
        3 => index_case::<T, I>(u, cfg, IndexOp::Copy),
        4 => index_case::<T, I>(u, cfg, IndexOp::Fill),
        5 => index_case::<T, I>(u, cfg, IndexOp::Reduce),
        6 => take_case::<T, I>(u, cfg),
        7 => put_case::<T, I>(u, cfg),
        8 => take_along_case::<T, I>(u, cfg),
        _ => put_along_case::<T, I>(u, cfg),
    }
}

macro_rules! by_index {
    ($t:ty, $kinds:expr, $u:expr, $op:expr, $cfg:expr) => {
        match ($kinds >> 3) & 3 {
            0 => run_case::<$t, i64>($u, $op, $cfg),
            1 => run_case::<$t, i32>($u, $op, $cfg),
            2 => run_case::<$t, u32>($u, $op, $cfg),
            _ => run_case::<$t, u64>($u, $op, $cfg),
        }
    };
}

// Byte layout: op (`% 10`: scatter_reduce, scatter_value, index_add,
// index_copy, index_fill, index_reduce, take, put, take_along_dim,
// put_along_axis); kinds (element `& 7`: i8 u8 i16 u16 i32 i64 f32 f64; index
// `>> 3 & 3`: i64 i32 u32 u64); flags (mode `& 7`: default, Error, Wrap, Clamp,
// Drop, Fill, default, default; form `>> 3 & 3`: into_with, into, with,
// copying; `0x20` include_self; `0x40` small values only; `0x80` with a
// wide-case byte of 0: a wide case); reduction (`% 5`: sum prod mean amax
// amin); value seed; then the case's own bytes.
fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let u = &mut u;
    let op = byte(u) % 10;
    let kinds = byte(u);
    let flags = byte(u);
    let reduce = [
        Reduction::Sum,
        Reduction::Prod,
        Reduction::Mean,
        Reduction::Amax,
        Reduction::Amin,
    ][(byte(u) % 5) as usize];
    let seed = splitmix64(byte(u) as u64);
    let wide = flags & 0x80 != 0 && byte(u) == 0;
    let cfg = Cfg {
        mode: match flags & 7 {
            1 => Some(IndexMode::Error),
            2 => Some(IndexMode::Wrap),
            3 => Some(IndexMode::Clamp),
            4 => Some(IndexMode::Drop),
            5 => Some(IndexMode::Fill),
            _ => None,
        },
        form: [Form::IntoWith, Form::Into, Form::CopyWith, Form::Copy][((flags >> 3) & 3) as usize],
        reduce,
        include_self: flags & 0x20 != 0,
        seed,
        small: flags & 0x40 != 0,
        wide,
    };
    // Every element type with an `i64` index; the other index types with one
    // integer and one float element (each pair is a whole copy of the kernels
    // to compile).
    let _ = match kinds & 7 {
        0 => run_case::<i8, i64>(u, op, &cfg),
        1 => run_case::<u8, i64>(u, op, &cfg),
        2 => run_case::<i16, i64>(u, op, &cfg),
        3 => run_case::<u16, i64>(u, op, &cfg),
        4 => by_index!(i32, kinds, u, op, &cfg),
        5 => run_case::<i64, i64>(u, op, &cfg),
        6 => by_index!(f32, kinds, u, op, &cfg),
        _ => run_case::<f64, i64>(u, op, &cfg),
    };
});
