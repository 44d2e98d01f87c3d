//! Decoding helpers shared by the fuzz targets.
//!
//! Inputs are decoded byte by byte from an `arbitrary::Unstructured`, with plain
//! fixed-width reads only (`u8`, and `u16`/`u64`/`i64` little-endian; a short
//! input reads as zeros). That keeps the format simple enough for
//! `fuzz/gen_seeds.py` to write seeds that decode to exactly the intended case,
//! and lets `cargo fuzz fmt <target> <file>` print any input as the case it is.
//!
//! Most choices are a single byte split into ranges: the common, small cases take
//! most of the range and the odd ones (size 0, huge strides, raw 64-bit values)
//! a thin slice of it, so random mutation mostly makes cases that get past
//! validation and into the kernels.
#![allow(dead_code)]

use arbitrary::{Arbitrary, Unstructured};
use std::fmt;

pub fn byte(u: &mut Unstructured<'_>) -> u8 {
    u8::arbitrary(u).unwrap_or(0)
}

pub fn raw_u16(u: &mut Unstructured<'_>) -> u16 {
    u16::arbitrary(u).unwrap_or(0)
}

pub fn raw_u64(u: &mut Unstructured<'_>) -> u64 {
    u64::arbitrary(u).unwrap_or(0)
}

pub fn raw_i64(u: &mut Unstructured<'_>) -> i64 {
    i64::arbitrary(u).unwrap_or(0)
}

pub fn raw_u128(u: &mut Unstructured<'_>) -> u128 {
    u128::arbitrary(u).unwrap_or(0)
}

/// A fast deterministic mixer: element values and index values derive from it,
/// so a few input bytes fill large buffers with distinct values.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Sizes reached by size bytes 210..=239: around SIMD widths and chunk edges.
pub const SIZE_TABLE: [usize; 30] = [
    6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255,
    256, 257, 1023, 1024, 4096, 4097,
];

/// One axis size whose first byte `b` was already read.
///
/// `0..=199`: 1..=5; `200..=209`: 0; `210..=239`: [`SIZE_TABLE`];
/// `240..=254`: a raw `u16`; `255`: a raw `u64` when `wide`, else a raw `u16`.
pub fn size_from(b: u8, u: &mut Unstructured<'_>, wide: bool) -> usize {
    match b {
        0..=199 => 1 + (b % 5) as usize,
        200..=209 => 0,
        210..=239 => SIZE_TABLE[(b - 210) as usize],
        255 if wide => raw_u64(u) as usize,
        _ => raw_u16(u) as usize,
    }
}

pub fn size(u: &mut Unstructured<'_>, wide: bool) -> usize {
    let b = byte(u);
    size_from(b, u, wide)
}

/// Cuts sizes so that `shape` has at most `cap` elements: each axis keeps its
/// size if the budget left by the axes before it allows, else takes what is left
/// (at least 1). Small shapes decode unchanged, and a large size still lands on
/// a large (if not the same) size instead of making the case useless.
pub fn fit(shape: &mut [usize], cap: usize) {
    let mut left = cap.max(1);
    for s in shape.iter_mut() {
        if *s > left {
            *s = left;
        }
        left /= (*s).max(1);
    }
}

/// Row-major element count with a left-to-right checked product.
pub fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// A decoded layout: what a test passes to `with_strides`, and the buffer length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutSpec {
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
    pub offset: usize,
    pub len: usize,
}

/// `(lo, hi)`: the smallest and largest element offset relative to `offset`,
/// in `i128` (saturating), for a non-empty shape.
pub fn extent(shape: &[usize], strides: &[isize]) -> (i128, i128) {
    // Saturating: a span past i128 is far past any buffer anyway.
    let (mut lo, mut hi) = (0i128, 0i128);
    for (&d, &s) in shape.iter().zip(strides) {
        let span = (d as i128 - 1).saturating_mul(s as i128);
        if span < 0 {
            lo = lo.saturating_add(span);
        } else {
            hi = hi.saturating_add(span);
        }
    }
    (lo, hi)
}

/// Decodes strides, offset and buffer length for `shape`.
///
/// Mode byte `m`: `m & 15` picks the base strides — `0..=7` contiguous, `8, 9`
/// a permuted memory order, `10, 11` padded rows (gaps), `12, 13` permuted and
/// padded, `14` small strides in `-8..=8`, `15` raw 64-bit strides. Flags:
/// `0x10` a flip mask byte follows (negate those strides), `0x20` a zero mask
/// byte follows (stride 0: expanded axes), `0x40` an offset byte (255: raw u64
/// offset) and a signed slack byte follow, `0x80` a raw u16 buffer length follows.
///
/// Without an override the offset and length are the smallest that fit (plus
/// the extra offset and slack). Lengths past `cap` become 64, so such views are
/// (almost always) rejected without a large allocation.
pub fn layout(u: &mut Unstructured<'_>, shape: &[usize], cap: usize) -> LayoutSpec {
    let rank = shape.len();
    let m = byte(u);
    let base = m & 15;
    let mut strides = vec![0isize; rank];
    match base {
        0..=13 => {
            // Memory order, outermost first.
            let mut order: Vec<usize> = (0..rank).collect();
            if matches!(base, 8 | 9 | 12 | 13) {
                for i in (1..rank).rev() {
                    let j = byte(u) as usize % (i + 1);
                    order.swap(i, j);
                }
            }
            let padded = matches!(base, 10..=13);
            let mut pads = vec![0u8; rank];
            if padded {
                for p in pads.iter_mut() {
                    *p = byte(u);
                }
            }
            let mut running: i128 = 1;
            for (n, &axis) in order.iter().rev().enumerate() {
                let pad = pads[axis];
                if padded && n == 0 {
                    // Element gap on the innermost axis.
                    running *= 1 + ((pad >> 2) & 1) as i128;
                }
                strides[axis] = isize::try_from(running).unwrap_or(isize::MAX);
                let step = shape[axis].max(1) as i128 + if padded { (pad & 3) as i128 } else { 0 };
                running = running.saturating_mul(step).min(i64::MAX as i128 * 4);
            }
        }
        14 => {
            for s in strides.iter_mut() {
                *s = (byte(u) % 17) as isize - 8;
            }
        }
        _ => {
            for s in strides.iter_mut() {
                *s = raw_i64(u) as isize;
            }
        }
    }
    if m & 0x10 != 0 {
        let mask = byte(u);
        for (k, s) in strides.iter_mut().enumerate() {
            if k < 8 && mask & (1 << k) != 0 {
                *s = s.wrapping_neg();
            }
        }
    }
    if m & 0x20 != 0 {
        let mask = byte(u);
        for (k, s) in strides.iter_mut().enumerate() {
            if k < 8 && mask & (1 << k) != 0 {
                *s = 0;
            }
        }
    }
    let (mut extra, mut raw_offset, mut slack) = (0i128, None, 0i128);
    if m & 0x40 != 0 {
        let e = byte(u);
        if e == 255 {
            raw_offset = Some(raw_u64(u) as usize);
        } else {
            extra = e as i128;
        }
        slack = byte(u) as i8 as i128;
    }
    let empty = shape.contains(&0);
    let (lo, hi) = if empty {
        (0, 0)
    } else {
        extent(shape, &strides)
    };
    let offset: i128 = match raw_offset {
        Some(o) => o as i128,
        None => extra.saturating_sub(lo),
    };
    let mut len: i128 = if empty {
        offset + slack
    } else {
        offset.saturating_add(hi).saturating_add(1 + slack)
    };
    if m & 0x80 != 0 {
        len = raw_u16(u) as i128;
    }
    let len = if (0..=cap as i128).contains(&len) {
        len as usize
    } else {
        64.min(cap)
    };
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    LayoutSpec {
        shape: shape.to_vec(),
        strides,
        offset,
        len,
    }
}

/// Calls `f` with every multi-index of `shape`, row-major.
pub fn for_each_pos(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut pos = vec![0usize; shape.len()];
    loop {
        f(&pos);
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            pos[k] += 1;
            if pos[k] < shape[k] {
                break;
            }
            pos[k] = 0;
        }
    }
}

/// Element offset of `pos` in a layout (exact unless it is far outside any buffer).
pub fn offset_of(offset: i128, strides: &[i128], pos: &[usize]) -> i128 {
    pos.iter().zip(strides).fold(offset, |acc, (&p, &s)| {
        acc.saturating_add((p as i128).saturating_mul(s))
    })
}

/// An element type under test. Values are made from raw bits and compared by
/// their bytes, never by `==` (NaN) and never read as `Self` before [`valid`]
/// vouched for them (a `bool` byte of 2 is undefined behaviour to read).
///
/// [`valid`]: Elem::valid
pub trait Elem: fastgather::Element + Copy + fmt::Debug + 'static {
    /// A valid value made from (the low bytes of) `x`.
    fn from_bits(x: u128) -> Self;
    fn iota(i: usize) -> Self {
        Self::from_bits(i as u128 + 1)
    }
    /// Whether one element's bytes are a valid `Self`.
    fn valid(_bytes: &[u8]) -> bool {
        true
    }
}

macro_rules! pod_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn from_bits(x: u128) -> Self {
                bytemuck::pod_read_unaligned(&x.to_le_bytes()[..std::mem::size_of::<Self>()])
            }
        }
    )*};
}
pod_elem!(
    u8,
    u16,
    u32,
    u64,
    u128,
    i64,
    [u64; 2],
    [u8; 3],
    [u8; 5],
    [u16; 3],
    ()
);

impl Elem for f32 {
    fn from_bits(x: u128) -> Self {
        f32::from_bits(x as u32)
    }
    fn iota(i: usize) -> Self {
        (i + 1) as f32
    }
}

impl Elem for f64 {
    fn from_bits(x: u128) -> Self {
        f64::from_bits(x as u64)
    }
    fn iota(i: usize) -> Self {
        (i + 1) as f64
    }
}

impl Elem for bool {
    fn from_bits(x: u128) -> Self {
        x & 1 == 1
    }
    fn valid(b: &[u8]) -> bool {
        b[0] <= 1
    }
}

impl Elem for char {
    fn from_bits(x: u128) -> Self {
        let v = x as u32 % 0x11_0000;
        // Surrogates move 2 KiB down, into valid scalar values.
        char::from_u32(v).unwrap_or_else(|| char::from_u32(v - 0x800).unwrap())
    }
    fn valid(b: &[u8]) -> bool {
        char::from_u32(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).is_some()
    }
}

/// One element's bytes as a little-endian number (`()` is 0).
pub fn bits<T: Elem>(x: &T) -> u128 {
    let b = bytemuck::bytes_of(x);
    let mut a = [0u8; 16];
    a[..b.len()].copy_from_slice(b);
    u128::from_le_bytes(a)
}

/// The first element of `xs` whose bytes are not a valid `T`, if any.
pub fn first_invalid<T: Elem>(xs: &[T]) -> Option<usize> {
    let w = std::mem::size_of::<T>();
    if w == 0 {
        return None;
    }
    let bytes: &[u8] = bytemuck::cast_slice(xs);
    bytes.chunks_exact(w).position(|b| !T::valid(b))
}
