//! Differential fuzzing: every kernel path against `fastgather::reference::gather`.
//!
//! An input decodes (see `Case::arbitrary`) to a source view, an index view and an
//! `out` view — each with a shape, strides (contiguous, permuted, padded, flipped,
//! expanded, small random or raw 64-bit), an offset and a buffer length — plus
//! `dim`, the element type (widths 0, 1, 2, 3, 4, 5, 6, 8 and 16, `bool` and
//! `char`), the index type (i64, i32, u32, u64) and the index values (mostly in
//! range; `size`, -1, i64::MIN/MAX, i32 and u32 limits sprinkled in or placed
//! exactly).
//!
//! Shapes are cut to at most `CAP` elements so that every input is cheap (the
//! CI minute saturates coverage). That is far below the cutoff where a call is
//! split across threads (256 KiB moved: such an input costs 0.1 to 1 s under
//! AddressSanitizer), so forced paths run on one thread; the splits are left
//! to the test suite.
//!
//! Invariants checked, for the default options and every `Isa::available()` path:
//! 1. `gather_with` returns what the reference returns: the same shape and the
//!    same bytes, or the same `GatherError`. So does plain `gather`. Every `bool`
//!    and `char` output is a valid value.
//! 2. `explain` fails exactly when the reference fails before looking at index
//!    values (same error), says `None` exactly for an empty index, and otherwise
//!    names an available path no wider than the one asked for.
//! 3. `gather_into_with` through a strided `out` view over a sentinel-filled
//!    buffer: on success every out position holds the reference value and no
//!    buffer element outside the view changed; on an error it returns the
//!    reference's error (or `OutShapeMismatch` for a wrongly shaped `out`), leaves
//!    the buffer untouched unless the error is an out-of-range index value, and
//!    then only writes positions whose own index value is valid, with the value
//!    the reference puts there.
//! 4. With the index modes on: `Wrap`, `Clamp` and `Fill` against the reference
//!    on a rewritten index, and a fill value of another type than the element
//!    (even of the same width) is refused with `InvalidOption` wherever a kernel
//!    would run, leaving `out` untouched.
//!
//! Views that fail validation end the case early (the `views` target checks
//! validation itself).
#![no_main]

mod common;

use arbitrary::{Arbitrary, Unstructured};
use common::{bits, byte, first_invalid, numel, raw_i64, raw_u128, raw_u64, size_from, splitmix64};
use common::{Elem, LayoutSpec};
use fastgather::{
    explain, gather, gather_into_with, gather_with, reference, GatherError, GatherOptions,
    IndexElem, IndexMode, Isa, Tensor, TensorView, TensorViewMut,
};
use libfuzzer_sys::fuzz_target;
use std::any::TypeId;
use std::fmt;

/// Most elements (index positions, or source elements) a case's shapes have:
/// past every vector width, unrolled body and the scalar sweep's 256 columns,
/// few enough that the ~60 calls of a case stay cheap under AddressSanitizer.
const CAP: usize = 1 << 9;
/// Largest buffer (in elements) a case allocates for any operand (padding and
/// gaps make buffers longer than shapes).
const BUF_CAP: usize = 1 << 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ElemKind {
    U8,
    U16,
    U32,
    F32,
    U64,
    F64,
    U128,
    PairU64,
    Bool,
    Char,
    U24,
    U40,
    U16x3,
    Zst,
}

/// Low nibble of the kinds byte. `bool` and `char` twice: their outputs are the
/// ones that can be invalid.
const ELEM_TABLE: [ElemKind; 16] = [
    ElemKind::U8,
    ElemKind::U16,
    ElemKind::U32,
    ElemKind::F32,
    ElemKind::U64,
    ElemKind::F64,
    ElemKind::U128,
    ElemKind::PairU64,
    ElemKind::Bool,
    ElemKind::Char,
    ElemKind::U24,
    ElemKind::U40,
    ElemKind::U16x3,
    ElemKind::Zst,
    ElemKind::Bool,
    ElemKind::Char,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdxKind {
    I64,
    I32,
    U32,
    U64,
}

/// Bits 4..=5 of the kinds byte.
const IDX_TABLE: [IdxKind; 4] = [IdxKind::I64, IdxKind::I32, IdxKind::U32, IdxKind::U64];

#[derive(Clone, Debug)]
enum SrcValues {
    /// `splitmix64` of the seed and the element number.
    Prng,
    /// 1, 2, 3, ... in the element type (as a float for floats).
    Iota,
    /// These bit patterns first, then `Prng` for the rest of the buffer.
    Raw(Vec<u128>),
}

/// Values the index sprinkles in, relative to the bound `n = src.size(dim)`.
fn bad_value(n: usize, pick: u64) -> i64 {
    let n = n as i64;
    match pick % 14 {
        0 => n,
        1 => n + 1,
        2 => -1,
        3 => -2,
        4 => i64::MIN,
        5 => i64::MAX,
        6 => i32::MAX as i64,
        7 => i32::MIN as i64,
        8 => u32::MAX as i64,
        9 => 1 << 31,
        10 => 1 << 32,
        11 => -n,
        12 => i64::MIN + 1,
        _ => (1 << 32) + 1,
    }
}

/// One decoded input; `Debug` prints it as the arguments of the calls it makes.
struct Case {
    elem: ElemKind,
    index: IdxKind,
    /// Also check the index modes `Wrap`, `Clamp` and `Fill` (kinds byte bit 6).
    modes: bool,
    dim: isize,
    seed: u64,
    src: LayoutSpec,
    idx: LayoutSpec,
    out: LayoutSpec,
    /// One per element of the index buffer, converted with `from_i64_wrapping`.
    idx_values: Vec<i64>,
    src_values: SrcValues,
}

impl<'a> Arbitrary<'a> for Case {
    /// Byte layout, in order:
    /// 1. kinds: element type `b & 15` ([`ELEM_TABLE`]), index type `(b >> 4) & 3`
    ///    ([`IDX_TABLE`]), bit 6: also check the index modes; bit 7 unused.
    /// 2. ranks: src rank `(b & 7) % 7`; index rank the same unless `b >> 3` is
    ///    28 (+1), 29 (-1), 30 (0) or 31 (1).
    /// 3. dim: `b < 240` → `b % 2R - R` with `R = max(rank, 1)` (always valid);
    ///    240 → R, 241 → -R-1, 242 → isize::MAX, 243 → isize::MIN, else a raw i64.
    /// 4. seed: u64.
    /// 5. src shape: one size (`common::size_from`) per axis, then cut to
    ///    [`CAP`] elements (`common::fit`).
    /// 6. index shape, per axis: for axes of src other than dim, `b < 128` → the
    ///    src size, `b < 200` → `(b - 128) % (size + 1)`, else a size byte; for
    ///    dim (and axes src lacks), a size byte. Then cut as the src shape.
    /// 7. out shape: `b < 248` the index shape; 248..=251 first axis + 1;
    ///    252, 253 an extra trailing axis of 1; 254, 255 the last axis dropped.
    /// 8. src, index and out layouts (`common::layout`, buffers up to [`BUF_CAP`]).
    /// 9. index values: mode byte `v`; `v & 7`: 0..=2 random in range, 3 zeros,
    ///    4 `n - 1`, 5 ramp `i % n`, 6 reversed ramp, 7 a raw i64 per element.
    ///    `v & 8`: a rate byte `r` follows; each value becomes a bad one with
    ///    probability `1 / (1 + r % 32)`. `v & 16`: a count byte follows, then that
    ///    many (u16 element, i64 value) overrides.
    /// 10. src values: `b % 4`: 0, 1 random, 2 iota, 3 raw u128 bit patterns for
    ///    as many elements as bytes remain.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let kinds = byte(u);
        let elem = ELEM_TABLE[(kinds & 15) as usize];
        let index = IDX_TABLE[((kinds >> 4) & 3) as usize];
        let modes = kinds & 0x40 != 0;

        let r = byte(u);
        let src_rank = ((r & 7) % 7) as usize;
        let idx_rank = match r >> 3 {
            28 => src_rank + 1,
            29 => src_rank.saturating_sub(1),
            30 => 0,
            31 => 1,
            _ => src_rank,
        };

        let big_r = src_rank.max(1) as isize;
        let d = byte(u);
        let dim = match d {
            0..=239 => (d as isize) % (2 * big_r) - big_r,
            240 => big_r,
            241 => -big_r - 1,
            242 => isize::MAX,
            243 => isize::MIN,
            _ => raw_i64(u) as isize,
        };
        let wdim = if (-big_r..big_r).contains(&dim) {
            Some(if dim < 0 { dim + big_r } else { dim } as usize)
        } else {
            None
        };

        let seed = raw_u64(u);

        let mut src_shape: Vec<usize> = (0..src_rank).map(|_| common::size(u, false)).collect();
        common::fit(&mut src_shape, CAP);
        let mut idx_shape: Vec<usize> = (0..idx_rank)
            .map(|k| {
                let b = byte(u);
                if k < src_rank && Some(k) != wdim {
                    let s = src_shape[k];
                    match b {
                        0..=127 => s,
                        128..=199 => (b - 128) as usize % (s.saturating_add(1).max(1)),
                        _ => size_from(b, u, false),
                    }
                } else {
                    size_from(b, u, false)
                }
            })
            .collect();
        common::fit(&mut idx_shape, CAP);
        let o = byte(u);
        let mut out_shape = idx_shape.clone();
        match o {
            248..=251 => match out_shape.first_mut() {
                Some(s) => *s += 1,
                None => out_shape.push(1),
            },
            252 | 253 => out_shape.push(1),
            254 | 255 => {
                out_shape.pop();
            }
            _ => {}
        }

        let src = common::layout(u, &src_shape, BUF_CAP);
        let idx = common::layout(u, &idx_shape, BUF_CAP);
        let out = common::layout(u, &out_shape, BUF_CAP);

        let bound = match wdim {
            Some(w) if src_rank > 0 => src_shape[w],
            _ => 1,
        };
        let v = byte(u);
        let n = idx.len;
        let rng =
            |i: usize, salt: u64| splitmix64(seed ^ salt ^ (i as u64).wrapping_mul(0x1000_0001));
        let in_range = |x: u64| {
            if bound == 0 {
                0
            } else {
                (x % bound as u64) as i64
            }
        };
        let mut idx_values: Vec<i64> = match v & 7 {
            0..=2 => (0..n).map(|i| in_range(rng(i, 1))).collect(),
            3 => vec![0; n],
            4 => vec![bound.saturating_sub(1) as i64; n],
            5 => (0..n).map(|i| in_range(i as u64)).collect(),
            6 => (0..n)
                .map(|i| bound.saturating_sub(1) as i64 - in_range(i as u64))
                .collect(),
            _ => (0..n).map(|_| raw_i64(u)).collect(),
        };
        if v & 8 != 0 {
            let rate = 1 + (byte(u) % 32) as u64;
            for (i, x) in idx_values.iter_mut().enumerate() {
                if rng(i, 2) % rate == 0 {
                    *x = bad_value(bound, rng(i, 3));
                }
            }
        }
        if v & 16 != 0 {
            let count = byte(u);
            for _ in 0..count {
                let at = common::raw_u16(u) as usize;
                let val = raw_i64(u);
                if n > 0 {
                    idx_values[at % n] = val;
                }
            }
        }

        let src_values = match byte(u) % 4 {
            0 | 1 => SrcValues::Prng,
            2 => SrcValues::Iota,
            _ => {
                let mut raw = Vec::new();
                while !u.is_empty() && raw.len() < src.len {
                    raw.push(raw_u128(u));
                }
                SrcValues::Raw(raw)
            }
        };

        Ok(Case {
            elem,
            index,
            modes,
            dim,
            seed,
            src,
            idx,
            out,
            idx_values,
            src_values,
        })
    }
}

struct Short<'a, T>(&'a [T]);

impl<T: fmt::Debug> fmt::Debug for Short<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        if self.0.len() <= MAX {
            fmt::Debug::fmt(self.0, f)
        } else {
            fmt::Debug::fmt(&self.0[..MAX], f)?;
            write!(f, " ... ({} in all)", self.0.len())
        }
    }
}

fn fmt_layout(f: &mut fmt::Formatter<'_>, name: &str, l: &LayoutSpec) -> fmt::Result {
    writeln!(
        f,
        "  {name}: with_strides(buffer of {} elements, shape {:?}, strides {:?}, offset {})",
        l.len, l.shape, l.strides, l.offset
    )
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Case {{ element {:?}, index {:?}, dim {}, seed {:#x}{}",
            self.elem,
            self.index,
            self.dim,
            self.seed,
            if self.modes { ", index modes too" } else { "" }
        )?;
        fmt_layout(f, "src", &self.src)?;
        fmt_layout(f, "index", &self.idx)?;
        fmt_layout(f, "out", &self.out)?;
        writeln!(f, "  index buffer: {:?}", Short(&self.idx_values))?;
        match &self.src_values {
            SrcValues::Raw(v) => writeln!(f, "  src buffer: raw bits {:x?} then random", Short(v))?,
            other => writeln!(f, "  src buffer: {other:?}")?,
        }
        write!(f, "}}")
    }
}

fn prng_bits(seed: u64, i: usize) -> u128 {
    let a = splitmix64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9));
    let b = splitmix64(a ^ 0xA5A5);
    a as u128 | (b as u128) << 64
}

/// Every element of `xs` is a valid `T` (a `bool` byte is 0 or 1, a `char` a
/// scalar value): a kernel that wrote foreign bytes would be undefined
/// behaviour through safe code.
fn assert_valid<T: Elem>(xs: &[T], what: &str, case: &Case) {
    if let Some(k) = first_invalid(xs) {
        panic!(
            "{what}: element {k} is not a valid {}: bytes {:x?}\n{case:?}",
            std::any::type_name::<T>(),
            &bytemuck::cast_slice::<T, u8>(xs)[k * size_of::<T>()..(k + 1) * size_of::<T>()]
        );
    }
}

fn bits_of<T: Elem>(t: &Tensor<T>) -> Vec<u128> {
    t.as_slice().iter().map(bits).collect()
}

/// Panics unless `got` and `want` are the same outcome, bit for bit.
fn same_outcome<T: Elem>(
    want: &Result<Tensor<T>, GatherError>,
    got: &Result<Tensor<T>, GatherError>,
    what: &str,
    case: &Case,
) {
    if let Ok(g) = got {
        assert_valid(g.as_slice(), what, case);
    }
    match (want, got) {
        (Ok(w), Ok(g)) => {
            assert_eq!(
                g.shape(),
                w.shape(),
                "{what}: output shape differs\n{case:?}"
            );
            let (wb, gb) = (bits_of(w), bits_of(g));
            if wb != gb {
                let first = wb.iter().zip(&gb).position(|(a, b)| a != b).unwrap_or(0);
                panic!(
                    "{what}: values differ from the reference; first at output element {first}: \
                     reference {:#x}, got {:#x}\nreference {:x?}\ngot       {:x?}\n{case:?}",
                    wb[first],
                    gb[first],
                    Short(&wb),
                    Short(&gb)
                );
            }
        }
        (Err(w), Err(g)) => assert_eq!(g, w, "{what}: a different error\n{case:?}"),
        (Ok(_), Err(g)) => panic!("{what}: failed with {g:?}, the reference succeeded\n{case:?}"),
        (Err(w), Ok(g)) => panic!(
            "{what}: succeeded with shape {:?}, the reference failed with {w:?}\n{case:?}",
            g.shape()
        ),
    }
}

/// The option sets a case runs: `isa: None` is the default dispatch (and the
/// tiny path for a few positions); each forced path runs on one thread (below
/// the parallel cutoff threads change nothing).
#[derive(Clone, Copy, Debug)]
struct Run {
    isa: Option<Isa>,
    parallel: bool,
}

impl Run {
    /// `o` with this run's path and threading.
    fn apply(self, mut o: GatherOptions) -> GatherOptions {
        if let Some(isa) = self.isa {
            o = o.isa(isa);
        }
        if !self.parallel {
            o = o.sequential();
        }
        o
    }

    fn options(self) -> GatherOptions {
        self.apply(GatherOptions::new())
    }
}

fn run<T: Elem, I: IndexElem>(c: &Case) {
    // Only an out shape with a longer first axis can pass the cap.
    let positions = |s: &[usize]| numel(s).is_some_and(|n| n <= 2 * CAP);
    if !positions(&c.idx.shape) || !positions(&c.out.shape) {
        return;
    }
    let src_buf: Vec<T> = (0..c.src.len)
        .map(|i| match &c.src_values {
            SrcValues::Prng => T::from_bits(prng_bits(c.seed, i)),
            SrcValues::Iota => T::iota(i),
            SrcValues::Raw(raw) => {
                T::from_bits(raw.get(i).copied().unwrap_or_else(|| prng_bits(c.seed, i)))
            }
        })
        .collect();
    let idx_buf: Vec<I> = c
        .idx_values
        .iter()
        .map(|&v| I::from_i64_wrapping(v))
        .collect();
    let Ok(src) = TensorView::with_strides(&src_buf, &c.src.shape, &c.src.strides, c.src.offset)
    else {
        return;
    };
    let Ok(idx) = TensorView::with_strides(&idx_buf, &c.idx.shape, &c.idx.strides, c.idx.offset)
    else {
        return;
    };

    let want = reference::gather(&src, c.dim, &idx);
    if let Ok(w) = &want {
        assert_eq!(w.shape(), idx.shape(), "reference output shape\n{c:?}");
        assert_valid(w.as_slice(), "reference", c);
    }

    let paths = Isa::available();
    assert!(
        paths.contains(&Isa::Scalar),
        "Isa::available() lacks Scalar"
    );
    let runs: Vec<Run> = std::iter::once(Run {
        isa: None,
        parallel: true,
    })
    .chain(paths.iter().map(|&isa| Run {
        isa: Some(isa),
        parallel: false,
    }))
    .collect();
    same_outcome(&want, &gather(&src, c.dim, &idx), "gather (defaults)", c);
    for &r in &runs {
        let what = format!("gather_with({r:?})");
        same_outcome(
            &want,
            &gather_with(&src, c.dim, &idx, &r.options()),
            &what,
            c,
        );
        check_explain(&src, &idx, r, &want, c);
    }

    check_into(c, &src, &idx, &idx_buf, &want, &runs);
    if c.modes {
        check_modes(c, &src, &idx, &idx_buf, &want, &runs);
    }
}

/// A `Fill` option whose value is of another type than `T` (picked by `pick`
/// from a list of widths 0 to 16, `bool` and `char` among them).
fn foreign_fill<T: 'static>(pick: u64, x: u128) -> GatherOptions {
    const TYPES: u64 = 12;
    for k in 0..TYPES {
        let o = GatherOptions::new();
        let (opts, ty) = match (pick % TYPES + k) % TYPES {
            0 => (o.fill(u8::from_bits(x)), TypeId::of::<u8>()),
            1 => (o.fill(bool::from_bits(x)), TypeId::of::<bool>()),
            2 => (o.fill(char::from_bits(x)), TypeId::of::<char>()),
            3 => (o.fill(u16::from_bits(x)), TypeId::of::<u16>()),
            4 => (o.fill(u32::from_bits(x)), TypeId::of::<u32>()),
            5 => (o.fill(<f32 as Elem>::from_bits(x)), TypeId::of::<f32>()),
            6 => (o.fill(i64::from_bits(x)), TypeId::of::<i64>()),
            7 => (o.fill(<f64 as Elem>::from_bits(x)), TypeId::of::<f64>()),
            8 => (o.fill(u128::from_bits(x)), TypeId::of::<u128>()),
            9 => (o.fill(<[u8; 3]>::from_bits(x)), TypeId::of::<[u8; 3]>()),
            10 => (o.fill(<[u16; 3]>::from_bits(x)), TypeId::of::<[u16; 3]>()),
            _ => (o.fill(()), TypeId::of::<()>()),
        };
        if ty != TypeId::of::<T>() {
            return opts;
        }
    }
    unreachable!("the list holds more than one type")
}

/// The index modes, each against the reference run on an index rewritten by the
/// mode's documented rule (docs/SEMANTICS.md): `Wrap` maps `-n..0` to
/// `0..n`, `Clamp` clips to `0..n` (still an error for `n == 0`), `Fill` puts the
/// fill value wherever the value is outside `0..n`. Values the rule leaves out
/// of range stay as they were, so the reference reports the first of them, with
/// its original value, just as the mode must. Then a fill value of a foreign type.
fn check_modes<T: Elem, I: IndexElem>(
    c: &Case,
    src: &TensorView<'_, T>,
    idx: &TensorView<'_, I>,
    idx_buf: &[I],
    want: &Result<Tensor<T>, GatherError>,
    runs: &[Run],
) {
    // The bound the reference checks against (size 1 for a 0-d source).
    let n: i128 = match want {
        Err(GatherError::IndexOutOfBounds { size, .. }) => *size as i128,
        _ => {
            let big_r = src.rank().max(1) as isize;
            match (src.rank(), (-big_r..big_r).contains(&c.dim)) {
                (0, _) => 1,
                (_, true) => {
                    src.shape()[if c.dim < 0 { c.dim + big_r } else { c.dim } as usize] as i128
                }
                (_, false) => 0,
            }
        }
    };
    let rewrite = |f: &dyn Fn(i128) -> Option<i128>| -> Vec<I> {
        idx_buf
            .iter()
            .map(|v| match f(v.to_i128()) {
                Some(w) => I::from_i64_wrapping(w as i64),
                None => *v,
            })
            .collect()
    };
    let in_range = |v: i128| (0..n).contains(&v);
    let wrap = rewrite(&|v| (-n..0).contains(&v).then_some(v + n));
    let clamp = rewrite(&|v| (n > 0 && !in_range(v)).then(|| if v < 0 { 0 } else { n - 1 }));
    let fill_value = T::from_bits(prng_bits(c.seed ^ 0xF111, 7));

    let expected = |buf: Vec<I>| {
        let v = TensorView::with_strides(&buf, idx.shape(), idx.strides(), idx.offset())
            .expect("same layout");
        reference::gather(src, c.dim, &v)
    };
    // Wrap mode's error names the range it accepts, negative values included.
    let want_wrap = expected(wrap).map_err(|e| match e {
        GatherError::IndexOutOfBounds {
            value,
            position,
            dim,
            size,
            ..
        } => GatherError::IndexOutOfBounds {
            value,
            position,
            dim,
            size,
            wraps: true,
        },
        e => e,
    });
    let want_clamp = expected(clamp);
    // Fill: never an index error. Where the shapes pass, every bad position
    // holds the fill value and the others their gathered value.
    let want_fill: Result<Tensor<T>, GatherError> = match want {
        Err(GatherError::IndexOutOfBounds { .. }) => {
            let zeroed = rewrite(&|v| (!in_range(v)).then_some(0));
            let mut bad = Vec::new();
            common::for_each_pos(idx.shape(), |p| {
                bad.push(!in_range(idx.get(p).unwrap().to_i128()))
            });
            let base: Vec<T> = if n > 0 {
                expected(zeroed).expect("all values in range").into_vec()
            } else {
                vec![fill_value; bad.len()]
            };
            let vals = base
                .into_iter()
                .zip(&bad)
                .map(|(x, &b)| if b { fill_value } else { x })
                .collect();
            Ok(Tensor::from_vec(vals, idx.shape()).expect("index shape"))
        }
        other => other.clone(),
    };

    for (mode, want) in [
        (IndexMode::Wrap, &want_wrap),
        (IndexMode::Clamp, &want_clamp),
        (IndexMode::Fill, &want_fill),
    ] {
        for &r in runs {
            let opts = match mode {
                IndexMode::Fill => r.options().fill(fill_value),
                m => r.options().mode(m),
            };
            let what = format!("gather_with({mode:?}, {r:?})");
            same_outcome(want, &gather_with(src, c.dim, idx, &opts), &what, c);
        }
    }

    // A foreign fill: refused once the arguments pass the checks a kernel needs
    // (before that, the reference's errors; an empty index runs nothing).
    for &r in runs {
        let opts = r.apply(foreign_fill::<T>(c.seed, prng_bits(c.seed ^ 0xF0F0, 3)));
        let what = format!("gather_with(foreign fill, {r:?})");
        let got = gather_with(src, c.dim, idx, &opts);
        match (want, &got) {
            (Ok(w), Ok(g)) if w.is_empty() => assert_eq!(g.shape(), w.shape(), "{what}\n{c:?}"),
            (
                Ok(_) | Err(GatherError::IndexOutOfBounds { .. }),
                Err(GatherError::InvalidOption { .. }),
            ) => {}
            (Err(w), Err(g)) if !matches!(w, GatherError::IndexOutOfBounds { .. }) => {
                assert_eq!(g, w, "{what}: a different error\n{c:?}")
            }
            (w, g) => panic!(
                "{what}: got {:?}, expected InvalidOption (reference: {:?})\n{c:?}",
                g.as_ref().map(|t| t.shape().to_vec()),
                w.as_ref().map(|t| t.shape().to_vec())
            ),
        }
    }
}

fn check_explain<T: Elem, I: IndexElem>(
    src: &TensorView<'_, T>,
    idx: &TensorView<'_, I>,
    r: Run,
    want: &Result<Tensor<T>, GatherError>,
    c: &Case,
) {
    let isa = r.isa.unwrap_or_else(Isa::best);
    let got = explain(src, c.dim, idx, &r.options());
    match (want, got) {
        (Err(GatherError::IndexOutOfBounds { .. }), Ok(Some(choice))) | (Ok(_), Ok(Some(choice)))
            if !idx.is_empty() =>
        {
            assert!(
                choice.isa <= isa && choice.isa.is_available(),
                "explain({r:?}) chose {choice:?}\n{c:?}"
            );
        }
        (Ok(_), Ok(None)) if idx.is_empty() => {}
        (Err(w), Err(g)) if !matches!(w, GatherError::IndexOutOfBounds { .. }) => {
            assert_eq!(&g, w, "explain({r:?}): a different error\n{c:?}")
        }
        (w, g) => panic!(
            "explain({r:?}) = {g:?} does not fit the reference outcome {:?} (index empty: {})\n{c:?}",
            w.as_ref().map(|t| t.shape().to_vec()),
            idx.is_empty()
        ),
    }
}

/// `gather_into_with` through the decoded `out` view, on every path.
fn check_into<T: Elem, I: IndexElem>(
    c: &Case,
    src: &TensorView<'_, T>,
    idx: &TensorView<'_, I>,
    idx_buf: &[I],
    want: &Result<Tensor<T>, GatherError>,
    runs: &[Run],
) {
    let o = &c.out;
    let sentinel = T::from_bits(prng_bits(c.seed ^ 0x5E47_1AE1, usize::MAX));
    let fresh = vec![sentinel; o.len];
    {
        let mut probe = fresh.clone();
        if TensorViewMut::with_strides(&mut probe, &o.shape, &o.strides, o.offset).is_err() {
            return;
        }
    }
    // Buffer slot of each out position, row-major (the view was accepted, so
    // these are inside the buffer; the `views` target checks that claim).
    let strides: Vec<i128> = o.strides.iter().map(|&s| s as i128).collect();
    let mut slots = Vec::new();
    common::for_each_pos(&o.shape, |p| {
        slots.push(common::offset_of(o.offset as i128, &strides, p) as usize)
    });
    let mut in_view = vec![false; o.len];
    for &s in &slots {
        in_view[s] = true;
    }
    let shape_ok = o.shape == idx.shape();

    // For an out-of-range index value: what the reference writes at each position
    // when the bad values are replaced by 0, and which positions hold a bad value.
    let mut partial: Option<(Vec<u128>, Vec<bool>)> = None;
    if shape_ok {
        if let Err(GatherError::IndexOutOfBounds { size, .. }) = want {
            let bad = |v: &I| !(0..*size as i128).contains(&v.to_i128());
            let clean: Vec<I> = idx_buf
                .iter()
                .map(|v| if bad(v) { I::from_i64_wrapping(0) } else { *v })
                .collect();
            let clean_view =
                TensorView::with_strides(&clean, idx.shape(), idx.strides(), idx.offset())
                    .expect("same layout as the index");
            let mut bad_at = Vec::new();
            common::for_each_pos(idx.shape(), |p| bad_at.push(bad(idx.get(p).unwrap())));
            let full = if *size == 0 {
                vec![0; slots.len()]
            } else {
                let t = reference::gather(src, c.dim, &clean_view).unwrap_or_else(|e| {
                    panic!("reference on the cleaned index failed: {e:?}\n{c:?}")
                });
                bits_of(&t)
            };
            partial = Some((full, bad_at));
        }
    }

    let into = |buf: &mut [T], opts: &GatherOptions| {
        let mut out = TensorViewMut::with_strides(buf, &o.shape, &o.strides, o.offset)
            .expect("accepted above");
        gather_into_with(src, c.dim, idx, &mut out, opts)
    };
    let sentinel_bits = bits(&sentinel);
    let unchanged = |buf: &[T]| slots.iter().all(|&s| bits(&buf[s]) == sentinel_bits);
    if c.modes {
        // A foreign fill writes nothing, whatever else is wrong.
        for &r in runs {
            let mut buf = fresh.clone();
            let opts = r.apply(foreign_fill::<T>(c.seed, prng_bits(c.seed ^ 0xF0F0, 3)));
            let got = into(&mut buf, &opts);
            let kernels_run = shape_ok
                && !idx.is_empty()
                && matches!(want, Ok(_) | Err(GatherError::IndexOutOfBounds { .. }));
            assert!(
                !kernels_run || matches!(got, Err(GatherError::InvalidOption { .. })),
                "gather_into_with(foreign fill, {r:?}) = {got:?}\n{c:?}"
            );
            assert!(
                buf.iter().all(|x| bits(x) == sentinel_bits),
                "gather_into_with(foreign fill, {r:?}) wrote into out\n{c:?}"
            );
        }
    }

    for &r in runs {
        let what = format!("gather_into_with({r:?})");
        let mut buf = fresh.clone();
        let got = into(&mut buf, &r.options());
        assert_valid(&buf, &what, c);
        // Nothing outside the view is ever written.
        for (k, (x, &inside)) in buf.iter().zip(&in_view).enumerate() {
            if !inside {
                assert_eq!(
                    bits(x),
                    sentinel_bits,
                    "{what}: wrote buffer element {k}, which the out view does not address\n{c:?}"
                );
            }
        }
        if !shape_ok {
            match (&got, want) {
                (Err(GatherError::OutShapeMismatch { expected, actual }), _) => {
                    assert_eq!(expected.as_slice(), idx.shape(), "{what}\n{c:?}");
                    assert_eq!(actual, &o.shape, "{what}\n{c:?}");
                }
                (Err(g), Err(w)) => {
                    assert_eq!(g, w, "{what}: wrong error for a misshaped out\n{c:?}")
                }
                _ => panic!(
                    "{what}: out shape {:?} != index shape {:?}, got {got:?}\n{c:?}",
                    o.shape,
                    idx.shape()
                ),
            }
            assert!(unchanged(&buf), "{what}: wrote into a misshaped out\n{c:?}");
            continue;
        }
        match (want, &got) {
            (Ok(w), Ok(())) => {
                for (k, (&s, wv)) in slots.iter().zip(w.as_slice()).enumerate() {
                    assert_eq!(
                            bits(&buf[s]),
                            bits(wv),
                            "{what}: out position {k} (buffer element {s}) differs from the reference\n{c:?}"
                        );
                }
            }
            (Err(w), Err(g)) => {
                assert_eq!(g, w, "{what}: a different error\n{c:?}");
                match &partial {
                    None => assert!(
                        unchanged(&buf),
                        "{what}: out changed although {w:?} is found before any kernel runs\n{c:?}"
                    ),
                    Some((full, bad_at)) => {
                        for (k, &s) in slots.iter().enumerate() {
                            let v = bits(&buf[s]);
                            if v == sentinel_bits {
                                continue;
                            }
                            assert!(
                                    !bad_at[k],
                                    "{what}: wrote out position {k}, whose index value is out of range\n{c:?}"
                                );
                            assert_eq!(
                                    v, full[k],
                                    "{what}: out position {k} holds neither its old value nor its gathered one\n{c:?}"
                                );
                        }
                    }
                }
            }
            (Ok(_), Err(g)) => panic!("{what}: failed with {g:?}, the reference succeeded\n{c:?}"),
            (Err(w), Ok(())) => panic!("{what}: succeeded, the reference failed with {w:?}\n{c:?}"),
        }
    }
}

fn dispatch<T: Elem>(c: &Case) {
    match c.index {
        IdxKind::I64 => run::<T, i64>(c),
        IdxKind::I32 => run::<T, i32>(c),
        IdxKind::U32 => run::<T, u32>(c),
        IdxKind::U64 => run::<T, u64>(c),
    }
}

fuzz_target!(|c: Case| {
    match c.elem {
        ElemKind::U8 => dispatch::<u8>(&c),
        ElemKind::U16 => dispatch::<u16>(&c),
        ElemKind::U32 => dispatch::<u32>(&c),
        ElemKind::F32 => dispatch::<f32>(&c),
        ElemKind::U64 => dispatch::<u64>(&c),
        ElemKind::F64 => dispatch::<f64>(&c),
        ElemKind::U128 => dispatch::<u128>(&c),
        ElemKind::PairU64 => dispatch::<[u64; 2]>(&c),
        ElemKind::Bool => dispatch::<bool>(&c),
        ElemKind::Char => dispatch::<char>(&c),
        ElemKind::U24 => dispatch::<[u8; 3]>(&c),
        ElemKind::U40 => dispatch::<[u8; 5]>(&c),
        ElemKind::U16x3 => dispatch::<[u16; 3]>(&c),
        ElemKind::Zst => dispatch::<()>(&c),
    }
});
