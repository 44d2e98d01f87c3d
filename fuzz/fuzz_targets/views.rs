//! View validation and view operations against an exact model.
//!
//! An input decodes to a buffer length, a shape (sizes up to `u64::MAX`), strides
//! (up to `isize::MIN`/`isize::MAX`) and an offset, plus a chain of view
//! operations (permute, transpose, expand, slice with any step, flip, unsqueeze,
//! reshape) with arbitrary arguments. The buffer holds `0, 1, 2, ...`, so every
//! element a view yields names its own buffer position.
//!
//! A model recomputes everything in `i128`, where nothing overflows. Checked:
//! 1. `TensorView::with_strides` / `TensorView::new` accept exactly the layouts
//!    whose every element lies in the buffer (the model's rule; the only
//!    tolerated gap is an axis longer than `isize::MAX`, which is rejected).
//! 2. An accepted view reports the shape, strides, offset, length and
//!    contiguity the model computes, and `get`/`to_vec` yield exactly the model's
//!    elements (all of them up to 100,000 elements, else the two extreme
//!    corners); out-of-shape positions give `None`.
//! 3. `TensorViewMut::with_strides` additionally never accepts a layout where
//!    two positions share an element, and accepts every layout the documented
//!    sufficient test (sorted strides each step over the smaller axes' span)
//!    passes; writing through `get_mut` touches exactly the view's elements.
//! 4. Each view operation fails exactly when its arguments are invalid or the
//!    result would not be a valid view, and otherwise yields the model's view.
//! Nothing may panic.
#![no_main]

mod common;

use arbitrary::{Arbitrary, Unstructured};
use common::{byte, numel, raw_i64, size, size_from, LayoutSpec};
use fastgather::{TensorView, TensorViewMut};
use libfuzzer_sys::fuzz_target;
use std::fmt;

/// Largest buffer a case allocates, in elements.
const BUF_CAP: usize = 70_000;
/// Views with more elements are checked at their corners only.
const FULL_CHECK: usize = 100_000;
const MAX_OPS: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Permute(Vec<usize>),
    Transpose(usize, usize),
    Expand(Vec<usize>),
    Slice {
        dim: usize,
        start: usize,
        end: usize,
        step: isize,
    },
    Flip(usize),
    Unsqueeze(usize),
    Reshape(Vec<usize>),
}

/// A layout in exact arithmetic.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    shape: Vec<usize>,
    strides: Vec<i128>,
    offset: i128,
}

impl Model {
    fn from_spec(shape: &[usize], strides: &[isize], offset: usize) -> Model {
        Model {
            shape: shape.to_vec(),
            strides: strides.iter().map(|&s| s as i128).collect(),
            offset: offset as i128,
        }
    }

    fn numel(&self) -> Option<usize> {
        numel(&self.shape)
    }

    /// Saturating: a span past i128 is far past any buffer anyway.
    fn extent(&self) -> (i128, i128) {
        let (mut lo, mut hi) = (0i128, 0i128);
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            let span = (d as i128 - 1).saturating_mul(s);
            if span < 0 {
                lo = lo.saturating_add(span);
            } else {
                hi = hi.saturating_add(span);
            }
        }
        (lo, hi)
    }

    /// Whether a view with this layout over `len` elements must be accepted.
    /// (Rejected although harmless: element counts whose left-to-right product
    /// overflows even if a later size is 0, and axes longer than `isize::MAX`.)
    fn valid(&self, len: usize) -> bool {
        let Some(n) = self.numel() else { return false };
        // The element count fits `isize`; an empty view is valid whatever its
        // offset and strides (as in torch): nothing of it is ever addressed.
        if n > isize::MAX as usize {
            return false;
        }
        if n == 0 {
            return true;
        }
        if self.shape.iter().any(|&d| d - 1 > isize::MAX as usize) {
            return false;
        }
        let (lo, hi) = self.extent();
        self.offset.saturating_add(lo) >= 0 && self.offset.saturating_add(hi) < len as i128
    }

    /// The documented sufficient no-overlap test of `TensorViewMut`.
    fn nested(&self) -> bool {
        if self.numel() == Some(0) {
            return true;
        }
        let mut axes: Vec<(usize, i128)> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d > 1)
            .map(|(&d, &s)| (d, s.abs()))
            .collect();
        axes.sort_by_key(|&(_, s)| s);
        let mut extent = 1i128;
        for (d, s) in axes {
            if s < extent {
                return false;
            }
            extent = extent.saturating_add((d as i128 - 1).saturating_mul(s));
        }
        true
    }

    /// C-contiguity as the crate defines it: size-1 axes may have any stride.
    fn contiguous(&self) -> bool {
        let mut step = Some(1i128);
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && Some(s) != step {
                return false;
            }
            step = step.and_then(|t| t.checked_mul(d as i128));
        }
        true
    }

    fn offset_of(&self, pos: &[usize]) -> i128 {
        common::offset_of(self.offset, &self.strides, pos)
    }

    /// The positions of the smallest and the largest element offset.
    fn corners(&self) -> [Vec<usize>; 2] {
        let mut low = Vec::new();
        let mut high = Vec::new();
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            let last = d.saturating_sub(1);
            low.push(if s < 0 { last } else { 0 });
            high.push(if s < 0 { 0 } else { last });
        }
        [low, high]
    }

    /// The op's result, or `None` if its arguments are invalid for this view.
    fn apply(&self, op: &Op) -> Option<Model> {
        let rank = self.shape.len();
        let mut m = self.clone();
        match op {
            Op::Permute(dims) => {
                let mut seen = vec![false; rank];
                if dims.len() != rank {
                    return None;
                }
                for &d in dims {
                    if d >= rank || std::mem::replace(&mut seen[d], true) {
                        return None;
                    }
                }
                m.shape = dims.iter().map(|&d| self.shape[d]).collect();
                m.strides = dims.iter().map(|&d| self.strides[d]).collect();
            }
            Op::Transpose(a, b) => {
                // torch's dims on a 0-d tensor: 0 names it, and it is its own
                // transpose.
                if *a >= rank.max(1) || *b >= rank.max(1) {
                    return None;
                }
                if rank == 0 {
                    return Some(m);
                }
                m.shape.swap(*a, *b);
                m.strides.swap(*a, *b);
            }
            Op::Expand(shape) => {
                if shape.len() < rank {
                    return None;
                }
                let lead = shape.len() - rank;
                m.strides = vec![0; shape.len()];
                for (k, &d) in shape.iter().enumerate().skip(lead) {
                    let old = self.shape[k - lead];
                    if old == d {
                        m.strides[k] = self.strides[k - lead];
                    } else if old != 1 {
                        return None;
                    }
                }
                m.shape = shape.clone();
            }
            Op::Slice {
                dim,
                start,
                end,
                step,
            } => {
                let (dim, start, end) = (*dim, *start, *end);
                if dim >= rank || *step == 0 {
                    return None;
                }
                // Python's bounds: clamped to the size, empty when end <= start.
                let start = start.min(self.shape[dim]);
                let end = end.min(self.shape[dim]).max(start);
                let mag = (*step as i128).unsigned_abs();
                let count = ((end - start) as u128).div_ceil(mag) as usize;
                m.shape[dim] = count;
                // An empty result addresses nothing: it keeps the old offset
                // (which fits the buffer) and must be accepted like any empty view.
                if count > 0 && m.numel() != Some(0) {
                    let first = if *step > 0 { start } else { end - 1 };
                    m.offset = m
                        .offset
                        .saturating_add((first as i128).saturating_mul(self.strides[dim]));
                }
                m.strides[dim] = self.strides[dim].saturating_mul(*step as i128);
            }
            Op::Flip(dim) => {
                // A 0-d tensor flips to itself along its dim 0.
                if rank == 0 && *dim == 0 {
                    return Some(m);
                }
                let size = *self.shape.get(*dim)?;
                return self.apply(&Op::Slice {
                    dim: *dim,
                    start: 0,
                    end: size,
                    step: -1,
                });
            }
            Op::Unsqueeze(dim) => {
                if *dim > rank {
                    return None;
                }
                m.shape.insert(*dim, 1);
                m.strides.insert(*dim, 0);
            }
            Op::Reshape(shape) => {
                let n = self.numel()?;
                if numel(shape)? != n || (n > 0 && !self.contiguous()) {
                    return None;
                }
                m.shape = shape.clone();
                m.strides = vec![0; shape.len()];
                let mut step = 1i128;
                for k in (0..shape.len()).rev() {
                    m.strides[k] = step;
                    step = step.saturating_mul(shape[k].max(1) as i128);
                }
            }
        }
        Some(m)
    }
}

struct Case {
    /// `TensorView::new` / `TensorViewMut::new` instead of `with_strides`.
    contiguous_ctor: bool,
    layout: LayoutSpec,
    ops: Vec<Op>,
}

fn dim_arg(u: &mut Unstructured<'_>, rank: usize) -> usize {
    let b = byte(u);
    if b < 250 {
        b as usize % (rank + 1)
    } else {
        usize::MAX - (b - 250) as usize
    }
}

fn decode_op(u: &mut Unstructured<'_>, kind: u8, m: &Model) -> Op {
    let rank = m.shape.len();
    match kind {
        1 => {
            let p = byte(u);
            if p < 200 {
                let mut dims: Vec<usize> = (0..rank).collect();
                for i in (1..rank).rev() {
                    let j = byte(u) as usize % (i + 1);
                    dims.swap(i, j);
                }
                Op::Permute(dims)
            } else {
                Op::Permute((0..p % 8).map(|_| dim_arg(u, rank)).collect())
            }
        }
        2 => Op::Transpose(dim_arg(u, rank), dim_arg(u, rank)),
        3 => {
            let n = byte(u);
            if n >= 250 {
                let r = rank.saturating_sub(1);
                return Op::Expand((0..r).map(|_| size(u, true)).collect());
            }
            let lead = (n % 3) as usize;
            let mut shape: Vec<usize> = (0..lead).map(|_| size(u, true)).collect();
            for &old in &m.shape {
                let b = byte(u);
                shape.push(match b {
                    0..=199 if old == 1 => (b % 6) as usize,
                    0..=199 => old,
                    _ => size_from(b, u, true),
                });
            }
            Op::Expand(shape)
        }
        4 => {
            let dim = dim_arg(u, rank);
            let size = m.shape.get(dim).copied().unwrap_or(0);
            let modulus = size.saturating_add(2);
            let b = byte(u);
            let start = if b < 250 {
                b as usize % modulus
            } else {
                usize::MAX - (b - 250) as usize
            };
            let b = byte(u);
            let end = match b {
                0..=127 => size,
                128..=249 => (b - 128) as usize % modulus,
                _ => usize::MAX - (b - 250) as usize,
            };
            let b = byte(u);
            let step = match b {
                0..=249 => (b % 9) as isize - 4,
                250 => isize::MIN,
                251 => isize::MAX,
                _ => raw_i64(u) as isize,
            };
            Op::Slice {
                dim,
                start,
                end,
                step,
            }
        }
        5 => Op::Flip(dim_arg(u, rank)),
        6 => {
            let b = byte(u);
            Op::Unsqueeze(if b < 250 {
                b as usize % (rank + 2)
            } else {
                usize::MAX - (b - 250) as usize
            })
        }
        _ => {
            let n = byte(u);
            if n >= 160 {
                return Op::Reshape((0..n % 7).map(|_| size(u, true)).collect());
            }
            let r = (n % 5) as usize;
            match m.numel() {
                Some(0) => {
                    let mut shape: Vec<usize> = (0..r).map(|_| (byte(u) % 4) as usize).collect();
                    if let Some(last) = shape.last_mut() {
                        *last = 0;
                    }
                    Op::Reshape(shape)
                }
                Some(total) if r > 0 => {
                    let mut rest = total;
                    let mut shape = Vec::new();
                    for _ in 0..r - 1 {
                        let f = 1 + (byte(u) % 8) as usize;
                        if rest % f == 0 {
                            rest /= f;
                            shape.push(f);
                        } else {
                            shape.push(1);
                        }
                    }
                    shape.push(rest);
                    Op::Reshape(shape)
                }
                _ => Op::Reshape(Vec::new()),
            }
        }
    }
}

impl<'a> Arbitrary<'a> for Case {
    /// Byte layout: a constructor byte (`b & 3 == 3`: the contiguous `new`), a
    /// rank byte (`b % 8`), one size per axis (`common::size_from`, wide), then
    /// for `new` a length byte (`b >= 248`: the length is off by `b - 252`) or
    /// else a layout (`common::layout`); then up to 8 ops, each a kind byte
    /// (`b % 8`: 0 ends the chain, 1 permute, 2 transpose, 3 expand, 4 slice,
    /// 5 flip, 6 unsqueeze, 7 reshape) and its arguments, decoded against the
    /// shape the model gives the view at that point (see `decode_op`).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let contiguous_ctor = byte(u) & 3 == 3;
        let rank = (byte(u) % 8) as usize;
        let shape: Vec<usize> = (0..rank).map(|_| size(u, true)).collect();
        let layout = if contiguous_ctor {
            let n = numel(&shape).filter(|&n| n <= BUF_CAP).unwrap_or(64);
            let b = byte(u);
            let len = if b >= 248 {
                (n as isize + (b as isize - 252)).max(0) as usize
            } else {
                n
            };
            let mut strides = vec![0isize; rank];
            let mut step = 1isize;
            for k in (0..rank).rev() {
                strides[k] = step;
                step = step.wrapping_mul(shape[k].max(1) as isize);
            }
            LayoutSpec {
                shape,
                strides,
                offset: 0,
                len,
            }
        } else {
            common::layout(u, &shape, BUF_CAP)
        };
        let mut model = Model::from_spec(&layout.shape, &layout.strides, layout.offset);
        let mut ops = Vec::new();
        while ops.len() < MAX_OPS {
            let kind = byte(u) % 8;
            if kind == 0 {
                break;
            }
            let op = decode_op(u, kind, &model);
            if let Some(next) = model.apply(&op).filter(|m| m.valid(layout.len)) {
                model = next;
            }
            ops.push(op);
        }
        Ok(Case {
            contiguous_ctor,
            layout,
            ops,
        })
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.layout;
        if self.contiguous_ctor {
            writeln!(f, "new(buffer of {} elements, shape {:?})", l.len, l.shape)?;
        } else {
            writeln!(
                f,
                "with_strides(buffer of {} elements, shape {:?}, strides {:?}, offset {})",
                l.len, l.shape, l.strides, l.offset
            )?;
        }
        for op in &self.ops {
            writeln!(f, "  .{op:?}")?;
        }
        Ok(())
    }
}

/// Checks an accepted view against the model (invariant 2).
fn check_view(v: &TensorView<'_, u32>, m: &Model, len: usize, what: &str, case: &Case) {
    let n = m.numel().expect("an accepted view has a countable shape");
    assert!(m.valid(len), "{what}: accepted, but the model says it reaches outside the buffer: {m:?}\n{case:?}");
    assert_eq!(v.shape(), m.shape.as_slice(), "{what}: shape\n{case:?}");
    assert_eq!(v.rank(), m.shape.len(), "{what}: rank\n{case:?}");
    assert_eq!(v.strides().len(), m.shape.len(), "{what}: strides length\n{case:?}");
    assert_eq!(v.len(), n, "{what}: len\n{case:?}");
    assert_eq!(v.is_empty(), n == 0, "{what}: is_empty\n{case:?}");
    assert_eq!(v.data().len(), len, "{what}: data\n{case:?}");
    // Contiguity of an empty view is moot (its strides are never used), but
    // asking must not panic either.
    let contiguous = v.is_contiguous();
    if n > 0 {
        assert_eq!(contiguous, m.contiguous(), "{what}: is_contiguous, model {m:?}\n{case:?}");
    }
    // An empty view's offset may be anything (nothing of it is addressed).
    if n > 0 {
        assert_eq!(v.offset() as i128, m.offset, "{what}: offset\n{case:?}");
        for (k, (&d, (&s, &ms))) in m.shape.iter().zip(v.strides().iter().zip(&m.strides)).enumerate() {
            if d > 1 {
                assert_eq!(s as i128, ms, "{what}: stride of axis {k}\n{case:?}");
            }
        }
    }
    let expect_at = |pos: &[usize]| {
        let e = m.offset_of(pos);
        assert!(
            (0..len as i128).contains(&e),
            "{what}: position {pos:?} is element {e}, outside 0..{len}\n{case:?}"
        );
        e as u32
    };
    if n <= FULL_CHECK {
        let all = v.to_vec();
        assert_eq!(all.len(), n, "{what}: to_vec length\n{case:?}");
        let mut k = 0;
        common::for_each_pos(&m.shape, |pos| {
            let e = expect_at(pos);
            assert_eq!(v.get(pos), Some(&e), "{what}: get({pos:?})\n{case:?}");
            assert_eq!(all[k], e, "{what}: to_vec()[{k}] (position {pos:?})\n{case:?}");
            k += 1;
        });
        if n <= 64 {
            assert_eq!(v.to_tensor().as_slice(), all.as_slice(), "{what}: to_tensor\n{case:?}");
        }
    } else {
        for pos in m.corners() {
            let e = expect_at(&pos);
            assert_eq!(v.get(&pos), Some(&e), "{what}: get({pos:?})\n{case:?}");
        }
    }
    // Positions outside the shape.
    let rank = m.shape.len();
    assert_eq!(v.get(&vec![0; rank + 1]), None, "{what}: get with rank + 1 coordinates\n{case:?}");
    if rank > 0 {
        assert_eq!(v.get(&vec![0; rank - 1]), None, "{what}: get with rank - 1 coordinates\n{case:?}");
        for k in 0..rank {
            let mut pos = vec![0; rank];
            pos[k] = m.shape[k];
            assert_eq!(v.get(&pos), None, "{what}: get({pos:?}) past axis {k}\n{case:?}");
        }
    }
}

/// Every element of a writable view is its own (invariant 3), checked by
/// writing through `get_mut` into a copy of the buffer.
fn check_writes(v: &mut TensorViewMut<'_, u32>, m: &Model, len: usize, what: &str, case: &Case) {
    let Some(n) = m.numel().filter(|&n| n <= FULL_CHECK) else { return };
    let mut offsets = Vec::with_capacity(n);
    common::for_each_pos(&m.shape, |pos| offsets.push(m.offset_of(pos) as usize));
    let mut sorted = offsets.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), n, "{what}: a writable view whose positions share elements: {m:?}\n{case:?}");
    const MARK: u32 = u32::MAX;
    let mut k = 0;
    common::for_each_pos(&m.shape, |pos| {
        let e = v.get_mut(pos).unwrap_or_else(|| panic!("{what}: get_mut({pos:?}) is None\n{case:?}"));
        assert_eq!(*e as usize, offsets[k], "{what}: get_mut({pos:?})\n{case:?}");
        *e = MARK;
        k += 1;
    });
    let data = v.as_view().data().to_vec();
    let mut in_view = vec![false; len];
    for &o in &offsets {
        in_view[o] = true;
    }
    for (i, &x) in data.iter().enumerate() {
        let want = if in_view[i] { MARK } else { i as u32 };
        assert_eq!(x, want, "{what}: buffer element {i} after writing every position\n{case:?}");
    }
    // Put the buffer back as it was.
    let mut k = 0;
    common::for_each_pos(&m.shape, |pos| {
        *v.get_mut(pos).unwrap() = offsets[k] as u32;
        k += 1;
    });
}

/// What the model expects of `op` on `m`: `Some(ok)`, or `None` where both
/// outcomes are acceptable (reshaping an empty view whose strides are not the
/// contiguous ones: the contiguity of an empty view is moot).
fn want(m: &Model, op: &Op, next: &Option<Model>, len: usize) -> Option<bool> {
    let ok = next.as_ref().is_some_and(|n| n.valid(len));
    let moot = matches!(op, Op::Reshape(_)) && m.numel() == Some(0) && !m.contiguous();
    if moot {
        None
    } else {
        Some(ok)
    }
}

fn expect_outcome<V>(
    got: &Result<V, fastgather::GatherError>,
    want: Option<bool>,
    what: &str,
    m: &Option<Model>,
    case: &Case,
) {
    match (got, want) {
        (Ok(_), Some(false)) => panic!("{what}: accepted, the model says it must fail ({m:?})\n{case:?}"),
        (Err(e), Some(true)) => panic!("{what}: failed with {e:?}, the model says it is valid ({m:?})\n{case:?}"),
        _ => {}
    }
}

fn run(case: &Case) {
    let l = &case.layout;
    let buf: Vec<u32> = (0..l.len as u32).collect();
    let start = Model::from_spec(&l.shape, &l.strides, l.offset);

    // Read-only views.
    let made = if case.contiguous_ctor {
        TensorView::new(&buf, &l.shape)
    } else {
        TensorView::with_strides(&buf, &l.shape, &l.strides, l.offset)
    };
    let want_ok = if case.contiguous_ctor {
        numel(&l.shape) == Some(l.len) && start.valid(l.len)
    } else {
        start.valid(l.len)
    };
    let what = if case.contiguous_ctor { "TensorView::new" } else { "TensorView::with_strides" };
    expect_outcome(&made, Some(want_ok), what, &Some(start.clone()), case);
    if let Ok(mut v) = made {
        let mut m = start.clone();
        check_view(&v, &m, l.len, what, case);
        for (step, op) in case.ops.iter().enumerate() {
            let what = format!("TensorView op {step} ({op:?})");
            let next = m.apply(op);
            let want = want(&m, op, &next, l.len);
            let got = match op {
                Op::Permute(d) => v.permute(d),
                Op::Transpose(a, b) => v.transpose(*a, *b),
                Op::Expand(s) => v.expand(s),
                Op::Slice { dim, start, end, step } => v.slice(*dim, *start, *end, *step),
                Op::Flip(d) => v.flip(*d),
                Op::Unsqueeze(d) => v.unsqueeze(*d),
                Op::Reshape(s) => v.reshape(s),
            };
            expect_outcome(&got, want, &what, &next, case);
            if let Ok(nv) = got {
                let nm = next.expect("checked by expect_outcome");
                check_view(&nv, &nm, l.len, &what, case);
                if let Op::Reshape(_) = op {
                    if nm.numel().is_some_and(|n| n <= FULL_CHECK) {
                        assert_eq!(nv.to_vec(), v.to_vec(), "{what}: reshape changed the elements\n{case:?}");
                    }
                }
                v = nv;
                m = nm;
            }
        }
    }

    // Writable views: the same chain without `expand`. Each op consumes its
    // view, so every step starts from a view rebuilt from the last good layout.
    let mut mbuf = buf.clone();
    let made = if case.contiguous_ctor {
        TensorViewMut::new(&mut mbuf, &l.shape)
    } else {
        TensorViewMut::with_strides(&mut mbuf, &l.shape, &l.strides, l.offset)
    };
    let what = if case.contiguous_ctor { "TensorViewMut::new" } else { "TensorViewMut::with_strides" };
    let mut cur = match made {
        Ok(mut v) => {
            assert!(want_ok, "{what}: accepted, the model says it must fail ({start:?})\n{case:?}");
            check_view(&v.as_view(), &start, l.len, what, case);
            check_writes(&mut v, &start, l.len, what, case);
            (v.shape().to_vec(), v.strides().to_vec(), v.offset())
        }
        Err(e) => {
            if want_ok && start.nested() {
                panic!("{what}: rejected with {e:?} a valid layout that the no-overlap test accepts: {start:?}\n{case:?}");
            }
            return;
        }
    };
    let mut m = start;
    for (step, op) in case.ops.iter().enumerate() {
        if let Op::Expand(_) = op {
            continue;
        }
        let what = format!("TensorViewMut op {step} ({op:?})");
        let v = TensorViewMut::with_strides(&mut mbuf, &cur.0, &cur.1, cur.2)
            .unwrap_or_else(|e| panic!("{what}: rebuilding the previous view failed: {e:?}\n{case:?}"));
        let next = m.apply(op);
        let want = want(&m, op, &next, l.len);
        let got = match op {
            Op::Permute(d) => v.permute(d),
            Op::Transpose(a, b) => v.transpose(*a, *b),
            Op::Expand(_) => unreachable!(),
            Op::Slice { dim, start, end, step } => v.slice(*dim, *start, *end, *step),
            Op::Flip(d) => v.flip(*d),
            Op::Unsqueeze(d) => v.unsqueeze(*d),
            Op::Reshape(s) => v.reshape(s),
        };
        expect_outcome(&got, want, &what, &next, case);
        if let Ok(mut nv) = got {
            let nm = next.expect("checked by expect_outcome");
            check_view(&nv.as_view(), &nm, l.len, &what, case);
            check_writes(&mut nv, &nm, l.len, &what, case);
            {
                let r = nv.reborrow();
                assert_eq!(r.shape(), nm.shape.as_slice(), "{what}: reborrow\n{case:?}");
            }
            cur = (nv.shape().to_vec(), nv.strides().to_vec(), nv.offset());
            m = nm;
        }
    }
}

fuzz_target!(|case: Case| run(&case));
