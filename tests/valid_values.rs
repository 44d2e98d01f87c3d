//! No slot ever receives bytes that are not a valid value of its type: every
//! output of `bool` and `char` gathers (every index mode, every instruction-set
//! path), scatters, `index_select` and `take_along_axis`, on random shapes,
//! dims and strides, is read back as raw bytes (`bytemuck::cast_slice`, which
//! needs no valid value) and checked: `bool` bytes are 0 or 1, `char` words are
//! Unicode scalar values. Outputs are also compared with a per-element model,
//! and a fill value of another type is refused.

mod common;

use common::{MUT_STYLES, Rng, STYLES, Strided, Style, TestElem, make_layout, positions};
use fastgather::{
    GatherError, GatherOptions, IndexElem, IndexMode, Isa, Tensor, TensorView, TensorViewMut,
    gather_into_with, gather_with, index_select, scatter_into_with, take_along_axis,
};
use proptest::prelude::*;

impl TestElem for char {
    fn random(rng: &mut Rng) -> Self {
        // Mostly the edges of the valid ranges: around the surrogates and the top.
        let pick = match rng.below(4) {
            0 => 0xD7FF - rng.below(4) as u32,
            1 => 0xE000 + rng.below(4) as u32,
            2 => 0x10_FFFF - rng.below(4) as u32,
            _ => rng.below(0x11_0000) as u32,
        };
        char::from_u32(pick).unwrap_or('\u{FFFD}')
    }
}

/// An element type with invalid bit patterns, checked from its raw bytes.
trait Checked: TestElem + PartialEq {
    /// The first element of `out` whose bits are not a valid value, if any.
    fn first_invalid(out: &[Self]) -> Option<usize>;
    /// A valid fill value that the source values never are.
    const FILL: Self;
}

impl Checked for bool {
    fn first_invalid(out: &[Self]) -> Option<usize> {
        bytemuck::cast_slice::<bool, u8>(out)
            .iter()
            .position(|&b| b > 1)
    }
    const FILL: Self = true;
}

impl Checked for char {
    fn first_invalid(out: &[Self]) -> Option<usize> {
        bytemuck::cast_slice::<char, u32>(out)
            .iter()
            .position(|&w| char::from_u32(w).is_none())
    }
    const FILL: Self = '\u{10FFFF}';
}

fn assert_valid<T: Checked>(out: &[T], ctx: &str) {
    if let Some(k) = T::first_invalid(out) {
        let bytes: &[u8] = bytemuck::cast_slice(&out[k..k + 1]);
        panic!("{ctx}: element {k} has invalid bytes {bytes:?}");
    }
}

/// Where index value `v` leads for a dim of size `bound` in `mode`:
/// `Ok(Some(at))`, `Ok(None)` for the fill value, `Err(())` for an error.
fn resolve(mode: IndexMode, v: i64, bound: usize) -> Result<Option<usize>, ()> {
    let b = bound as i64;
    if (0..b).contains(&v) {
        return Ok(Some(v as usize));
    }
    match mode {
        IndexMode::Wrap if v < 0 && v >= -b => Ok(Some((b + v) as usize)),
        IndexMode::Clamp if bound > 0 => Ok(Some(if v < 0 { 0 } else { bound - 1 })),
        IndexMode::Fill => Ok(None),
        _ => Err(()),
    }
}

/// A random case: source shape, dim, and an index shape valid for gather.
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    src: Vec<usize>,
    dim: usize,
    index: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (any::<u64>(), 1usize..=3).prop_map(|(seed, rank)| {
        let mut rng = Rng::new(seed);
        // The last axis long enough for the vector bodies, the others short;
        // now and then a size-0 axis.
        let size = |rng: &mut Rng, k: usize| {
            if rng.one_in(12) {
                0
            } else if k + 1 == rank {
                rng.range(1, 40)
            } else {
                rng.range(1, 4)
            }
        };
        let src: Vec<usize> = (0..rank).map(|k| size(&mut rng, k)).collect();
        let dim = rng.below(rank);
        let index = (0..rank)
            .map(|k| {
                if k == dim {
                    rng.below(40)
                } else {
                    rng.range(src[k].min(1), src[k])
                }
            })
            .collect();
        Case {
            seed: rng.next_u64(),
            src,
            dim,
            index,
        }
    })
}

/// A random view of `shape` holding random values.
fn random_view<T: TestElem>(rng: &mut Rng, shape: &[usize], styles: &[Style]) -> Strided<T> {
    let style = rng.pick(styles);
    let layout = make_layout(rng, shape, style, styles.contains(&Style::Expanded));
    Strided::filled(rng, layout, T::random)
}

/// Index values for a dim of size `bound`: all in range, or some out of it
/// (negative, past the end, huge).
fn random_index(rng: &mut Rng, shape: &[usize], bound: usize, bad: bool) -> Strided<i64> {
    let style = rng.pick(&STYLES);
    let layout = make_layout(rng, shape, style, true);
    let bad_one_in = if bad { 3 } else { 0 };
    Strided::filled(rng, layout, |r| {
        common::index_value::<i64>(r, bound, bad_one_in)
    })
}

/// Gathers in every mode on every path, checking validity and the model.
fn gathers_are_valid<T: Checked>(case: &Case) {
    let mut rng = Rng::new(case.seed);
    let src = random_view::<T>(&mut rng, &case.src, &STYLES);
    let src = src.view();
    let bound = case.src[case.dim];
    for bad in [false, true] {
        let index = random_index(&mut rng, &case.index, bound, bad);
        let index = index.view();
        for mode in [
            IndexMode::Error,
            IndexMode::Wrap,
            IndexMode::Clamp,
            IndexMode::Fill,
        ] {
            // The model: every position's value, or an error somewhere.
            let want: Result<Vec<T>, ()> = positions(index.shape())
                .iter()
                .map(|p| {
                    let v = index.get(p).unwrap().to_i64();
                    Ok(match resolve(mode, v, bound)? {
                        Some(at) => {
                            let mut q = p.clone();
                            q[case.dim] = at;
                            *src.get(&q).unwrap()
                        }
                        None => T::FILL,
                    })
                })
                .collect();
            for isa in Isa::available() {
                let opts = match mode {
                    IndexMode::Fill => GatherOptions::new().fill(T::FILL),
                    m => GatherOptions::new().mode(m),
                }
                .isa(isa);
                let ctx = format!("{case:?} bad {bad} {mode:?} {isa:?}");
                let got = gather_with(&src, case.dim as isize, &index, &opts);
                match (&got, &want) {
                    (Ok(out), Ok(want)) => {
                        assert_valid(out.as_slice(), &ctx);
                        assert!(out.as_slice() == &want[..], "{ctx}");
                    }
                    (Err(GatherError::IndexOutOfBounds { .. }), Err(())) => {}
                    _ => panic!("{ctx}: got {got:?}, model {want:?}"),
                }
                // Into a strided output: every element of its buffer, padding
                // and partly written outputs included, stays valid.
                let mut out = random_view::<T>(&mut rng, index.shape(), &MUT_STYLES);
                let r =
                    gather_into_with(&src, case.dim as isize, &index, &mut out.view_mut(), &opts);
                assert_valid(&out.buf, &ctx);
                assert_eq!(r.is_ok(), want.is_ok(), "{ctx}: into {r:?}");
                if let Ok(want) = &want {
                    assert!(out.view().to_vec() == *want, "{ctx}: into");
                }
            }
        }
    }
}

/// Scatters (torch's rules: `index <= src` on every axis, `index <= dest` off
/// `dim`), checking the whole destination buffer and the model.
fn scatters_are_valid<T: Checked>(case: &Case) {
    let mut rng = Rng::new(case.seed ^ 0x5CA7);
    // Here `case.src` is the destination; values are at least the index's size.
    let values_shape: Vec<usize> = case.index.iter().map(|&i| i + rng.below(2)).collect();
    let values = random_view::<T>(&mut rng, &values_shape, &STYLES);
    let values = values.view();
    let bound = case.src[case.dim];
    for bad in [false, true] {
        let index = random_index(&mut rng, &case.index, bound, bad);
        let index = index.view();
        for isa in Isa::available() {
            let mut dest = random_view::<T>(&mut rng, &case.src, &MUT_STYLES);
            let before = dest.clone();
            let ctx = format!("{case:?} bad {bad} {isa:?}");
            let opts = GatherOptions::new().isa(isa);
            let r = scatter_into_with(
                &mut dest.view_mut(),
                case.dim as isize,
                &index,
                &values,
                &opts,
            );
            assert_valid(&dest.buf, &ctx);
            // The model: last write in row-major order of the index wins.
            let mut want = before.buf.clone();
            let mut ok = true;
            for p in positions(index.shape()) {
                let v = index.get(&p).unwrap().to_i64();
                match resolve(IndexMode::Error, v, bound) {
                    Ok(Some(at)) => {
                        let mut q = p.clone();
                        q[case.dim] = at;
                        let off =
                            common::offset_of(&before.layout.strides, before.layout.offset, &q);
                        want[off] = *values.get(&p).unwrap();
                    }
                    _ => ok = false,
                }
            }
            assert_eq!(r.is_ok(), ok || index.is_empty(), "{ctx}: {r:?}");
            if r.is_ok() {
                assert!(dest.buf == want, "{ctx}");
            }
        }
    }
}

/// `index_select` (a 1-d index) and `take_along_axis` (broadcast, negative
/// indices from the end).
fn selections_are_valid<T: Checked>(case: &Case) {
    let mut rng = Rng::new(case.seed ^ 0x5E1E);
    let src = random_view::<T>(&mut rng, &case.src, &STYLES);
    let src = src.view();
    let bound = case.src[case.dim];
    for bad in [false, true] {
        let count = case.index[case.dim];
        let rows = random_index(&mut rng, &[count], bound, bad);
        let rows = rows.view();
        let ctx = format!("{case:?} bad {bad} index_select");
        match index_select(&src, case.dim as isize, &rows) {
            Ok(out) => {
                assert_valid(out.as_slice(), &ctx);
                let mut shape = case.src.clone();
                shape[case.dim] = count;
                assert_eq!(out.shape(), &shape[..], "{ctx}");
                for (p, got) in positions(&shape).iter().zip(out.as_slice()) {
                    let mut q = p.clone();
                    q[case.dim] = rows.get(&[p[case.dim]]).unwrap().to_i64() as usize;
                    assert!(got == src.get(&q).unwrap(), "{ctx} at {p:?}");
                }
            }
            Err(e) => assert!(
                matches!(e, GatherError::IndexOutOfBounds { .. }) && (bad || bound == 0),
                "{ctx}: {e}"
            ),
        }
        // take_along_axis: size-1 axes of the indices broadcast.
        let shape: Vec<usize> = case
            .index
            .iter()
            .enumerate()
            .map(|(k, &i)| match k == case.dim {
                true => i,
                false if rng.coin() => 1,
                false => case.src[k],
            })
            .collect();
        let indices = random_index(&mut rng, &shape, bound, bad);
        let ctx = format!("{case:?} bad {bad} take_along_axis {shape:?}");
        if let Ok(out) = take_along_axis(&src, &indices.view(), case.dim as isize) {
            assert_valid(out.as_slice(), &ctx);
            assert_eq!(out.shape()[case.dim], shape[case.dim], "{ctx}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn bool_gathers_are_valid(case in case()) {
        gathers_are_valid::<bool>(&case);
    }

    #[test]
    fn char_gathers_are_valid(case in case()) {
        gathers_are_valid::<char>(&case);
    }

    #[test]
    fn bool_scatters_are_valid(case in case()) {
        scatters_are_valid::<bool>(&case);
    }

    #[test]
    fn char_scatters_are_valid(case in case()) {
        scatters_are_valid::<char>(&case);
    }

    #[test]
    fn bool_selections_are_valid(case in case()) {
        selections_are_valid::<bool>(&case);
    }

    #[test]
    fn char_selections_are_valid(case in case()) {
        selections_are_valid::<char>(&case);
    }
}

fn refused<T>(r: Result<Tensor<T>, GatherError>) -> bool {
    matches!(r, Err(GatherError::InvalidOption { .. }))
}

/// Larger gathers, whose layouts reach the packed and tiled drivers, on every
/// path: valid values, equal to the reference.
fn large_gathers_are_valid<T: Checked>(seed: u64) {
    let mut rng = Rng::new(seed);
    for (shape, dim) in [([3, 300], 0), ([300, 3], 1), ([64, 96], 0), ([96, 64], 1)] {
        for style in STYLES {
            let layout = make_layout(&mut rng, &shape, style, true);
            let src = Strided::filled(&mut rng, layout, T::random);
            let bound = shape[dim];
            let mut ishape = shape;
            ishape[dim] = 40;
            let index = random_index(&mut rng, &ishape, bound, false);
            let (src, index) = (src.view(), index.view());
            let want = fastgather::reference::gather(&src, dim as isize, &index).unwrap();
            for isa in Isa::available() {
                let opts = GatherOptions::new().isa(isa);
                let got = gather_with(&src, dim as isize, &index, &opts).unwrap();
                let ctx = format!("{shape:?} dim {dim} {style:?} {isa:?}");
                assert_valid(got.as_slice(), &ctx);
                assert!(got.as_slice() == want.as_slice(), "{ctx}");
                let src_t = src.transpose(0, 1).unwrap();
                let index_t = index.transpose(0, 1).unwrap();
                let got = gather_with(&src_t, 1 - dim as isize, &index_t, &opts).unwrap();
                assert_valid(got.as_slice(), &ctx);
            }
        }
    }
}

#[test]
fn large_bool_gathers_are_valid() {
    large_gathers_are_valid::<bool>(1);
}

#[test]
fn large_char_gathers_are_valid() {
    large_gathers_are_valid::<char>(2);
}

/// A fill value must be of the element type itself: bytes that are a valid
/// value of another type (even of the same width) are refused on every path.
#[test]
fn fills_of_another_type_are_refused() {
    let flags = [true, false, true];
    let letters = ['a', '\u{D7FF}', '\u{E000}'];
    let idx = TensorView::new(&[0i64, 7, -1, 2], &[4]).unwrap();
    let bools = TensorView::new(&flags, &[3]).unwrap();
    let chars = TensorView::new(&letters, &[3]).unwrap();
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        for fill in [2u8, 1, 0] {
            let r = gather_with(&bools, 0, &idx, &opts.clone().fill(fill));
            assert!(refused(r), "{isa:?} bool fill {fill}u8");
        }
        assert!(refused(gather_with(
            &bools,
            0,
            &idx,
            &opts.clone().fill(1i8)
        )));
        for fill in [0xD800u32, 0x11_0000, 'a' as u32] {
            let r = gather_with(&chars, 0, &idx, &opts.clone().fill(fill));
            assert!(refused(r), "{isa:?} char fill {fill:#x}u32");
        }
        assert!(refused(gather_with(
            &chars,
            0,
            &idx,
            &opts.clone().fill(-1i32)
        )));
        assert!(refused(gather_with(
            &chars,
            0,
            &idx,
            &opts.clone().fill(1.0f32)
        )));
        // Fill mode with no value at all.
        let none = opts.clone().mode(IndexMode::Fill);
        assert!(refused(gather_with(&chars, 0, &idx, &none)));
        // Into an output: refused before anything is written.
        let mut buf = ['z'; 4];
        let mut out = TensorViewMut::new(&mut buf, &[4]).unwrap();
        let r = gather_into_with(&chars, 0, &idx, &mut out, &opts.clone().fill(0xD800u32));
        assert!(
            matches!(r, Err(GatherError::InvalidOption { .. })),
            "{isa:?}"
        );
        assert_eq!(buf, ['z'; 4]);
        // The element type's own values are taken.
        let ok = gather_with(&chars, 0, &idx, &opts.clone().fill('\u{FFFD}')).unwrap();
        assert_eq!(ok.as_slice(), &['a', '\u{FFFD}', '\u{FFFD}', '\u{E000}']);
        let ok = gather_with(&bools, 0, &idx, &opts.clone().fill(false)).unwrap();
        assert_eq!(ok.as_slice(), &[true, false, false, true]);
    }
}
