//! Every kernel × instruction-set path the CPU has, forced one at a time, against
//! the reference: lengths around every vector width, every element width, every
//! index type, every layout class, bad indices in every lane position.
//!
//! Each case asserts that the kernel `explain` names for the forced path is the
//! one the kernel table promises, so a path that silently fell back fails here.
//! Each test logs the kernels that ran (shown with `--nocapture`) and fails if
//! a path `Isa::available()` reports was never forced, or one the test's
//! element widths can reach never ran.

mod common;

use common::{PathLog, Rng, TestElem, assert_same_result, index_vec, random_vec};
use fastgather::{
    GatherOptions, IndexElem, Isa, LayoutClass, Tensor, TensorView, TensorViewMut, explain,
    explain_into, gather_into_with, gather_with, reference,
};

const LENGTHS: &[usize] = &[1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 4097];

/// The path the kernel table promises for a forced `isa`.
fn expected_isa(class: LayoutClass, width: usize, isa: Isa) -> Isa {
    match class {
        LayoutClass::ExpandedRuns => Isa::Scalar,
        _ if ![1, 2, 4, 8, 16].contains(&width) => Isa::Scalar,
        _ if width == 16 && isa == Isa::Avx2Gather => Isa::Avx2,
        _ if width == 16 && isa == Isa::Avx512Gather => Isa::Avx512,
        _ => isa,
    }
}

/// The paths a test over elements of these widths must see run: every path the
/// CPU reports, as the kernel table maps it for each width.
fn meant(widths: &[usize]) -> Vec<Isa> {
    let mut paths: Vec<Isa> = widths
        .iter()
        .flat_map(|&w| {
            Isa::available()
                .into_iter()
                .map(move |isa| expected_isa(LayoutClass::LastDim, w, isa))
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Runs one problem on every path, sequential and parallel, allocating and
/// into a strided out view, compares with the reference, and logs the kernels.
fn check<T: TestElem, I: IndexElem>(
    log: &mut PathLog,
    src: &TensorView<'_, T>,
    dim: isize,
    idx: &TensorView<'_, I>,
    class: LayoutClass,
) {
    let want = reference::gather(src, dim, idx);
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        if let Some(choice) = explain(src, dim, idx, &opts).unwrap() {
            assert_eq!(choice.class, class, "class for {:?}", src.shape());
            assert_eq!(
                choice.isa,
                expected_isa(class, size_of::<T>(), isa),
                "{isa:?} did not run its own kernel ({})",
                choice.kernel
            );
            log.record(isa, &choice);
        }
        for opts in [opts.clone(), opts.clone().sequential()] {
            let got = gather_with(src, dim, idx, &opts);
            assert_same_result(&want, &got, &format!("{isa:?}"));
            // Into a reversed (negative-stride) output holding other values.
            if let Ok(w) = &want {
                let mut buf: Vec<T> = random_vec(&mut Rng::new(w.len() as u64), w.len());
                let shape = w.shape().to_vec();
                let mut out = TensorViewMut::new(&mut buf, &shape).unwrap();
                if !shape.is_empty() {
                    out = out.flip(0).unwrap();
                }
                gather_into_with(src, dim, idx, &mut out, &opts).unwrap();
                let into = Tensor::from_vec(out.as_view().to_vec(), &shape).unwrap();
                assert_same_result(&want, &Ok(into), &format!("{isa:?} into a flipped out"));
            }
        }
    }
    // Unforced: the best path, as the table maps it (or the tiny path).
    let opts = GatherOptions::new();
    if let Some(choice) = explain(src, dim, idx, &opts).unwrap() {
        let best = expected_isa(class, size_of::<T>(), Isa::best());
        assert!(
            choice.isa == best || choice.kernel == "scalar::tiny",
            "unforced, {} ran instead of the {best:?} kernel",
            choice.kernel
        );
    }
    assert_same_result(&want, &gather_with(src, dim, idx, &opts), "unforced");
}

/// All classes for one (element, index) type pair.
fn sweep<T: TestElem, I: IndexElem>(name: &str, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut log = PathLog::new();
    for &n in LENGTHS {
        for rows in [1usize, 3] {
            let c = 37;
            let src: Vec<T> = random_vec(&mut rng, rows * c * n.max(c));
            // LastDim: [rows, c] gathered along dim 1 with n picks per row.
            let s = TensorView::new(&src[..rows * c], &[rows, c]).unwrap();
            let iv: Vec<I> = index_vec(&mut rng, rows * n, c, 0);
            let idx = TensorView::new(&iv, &[rows, n]).unwrap();
            let class = if n == 1 && rows > 1 {
                LayoutClass::Pick
            } else {
                LayoutClass::LastDim
            };
            check(&mut log, &s, 1, &idx, class);
            check(&mut log, &s, -1, &idx, class);
            // A transposed source: rows of stride 1, gather stride `rows`.
            let t = TensorView::new(&src[..rows * c], &[c, rows])
                .unwrap()
                .transpose(0, 1)
                .unwrap();
            // With one pick per row, the rows' stride-1 walk is a contiguous run.
            let t_class = if n == 1 && rows > 1 {
                LayoutClass::InnerRun
            } else {
                class
            };
            check(&mut log, &t, 1, &idx, t_class);
            // InnerRun: [c, n] gathered along dim 0 into [rows, n].
            let s = TensorView::new(&src[..c * n], &[c, n]).unwrap();
            let idx = TensorView::new(&iv, &[rows, n]).unwrap();
            // With one column, dim 0 is the only axis left: a LastDim gather.
            let class = if n == 1 {
                LayoutClass::LastDim
            } else {
                LayoutClass::InnerRun
            };
            check(&mut log, &s, 0, &idx, class);
            // Pick: one index per row of [n, c].
            let s = TensorView::new(&src[..n * c], &[n, c]).unwrap();
            let pv: Vec<I> = index_vec(&mut rng, n, c, 0);
            let idx = TensorView::new(&pv, &[n, 1]).unwrap();
            check(
                &mut log,
                &s,
                1,
                &idx,
                if n == 1 {
                    LayoutClass::LastDim
                } else {
                    LayoutClass::Pick
                },
            );
            // ExpandedRuns: [rows, c, n] along dim 1, index [rows, k, 1] expanded to n.
            let s = TensorView::new(&src[..rows * c * n], &[rows, c, n]).unwrap();
            let ev: Vec<I> = index_vec(&mut rng, rows * 5, c, 0);
            let idx = TensorView::new(&ev, &[rows, 5, 1])
                .unwrap()
                .expand(&[rows, 5, n])
                .unwrap();
            if n > 1 {
                check(&mut log, &s, 1, &idx, LayoutClass::ExpandedRuns);
            }
            // StridedIndex: a transposed index.
            let gv: Vec<I> = index_vec(&mut rng, n * rows, c, 0);
            let idx = TensorView::new(&gv, &[n, rows])
                .unwrap()
                .transpose(0, 1)
                .unwrap();
            let s = TensorView::new(&src[..rows * c], &[rows, c]).unwrap();
            if n > 1 && rows > 1 {
                check(&mut log, &s, 1, &idx, LayoutClass::StridedIndex);
            }
        }
    }
    log.assert_covered(name, &meant(&[size_of::<T>()]));
}

macro_rules! sweeps {
    ($($name:ident: $t:ty, $i:ty;)*) => {$(
        #[test]
        fn $name() {
            sweep::<$t, $i>(stringify!($name), size_of::<$t>() as u64 * 1000 + size_of::<$i>() as u64);
        }
    )*};
}

macro_rules! sweeps_packed {
    ($($name:ident: $t:ty, $i:ty;)*) => {$(
        #[test]
        fn $name() {
            packed::<$t, $i>(stringify!($name), size_of::<$t>() as u64 * 77 + size_of::<$i>() as u64);
        }
    )*};
}

sweeps! {
    u8_i64: u8, i64;
    u8_i32: u8, i32;
    u16_i64: u16, i64;
    u16_i32: u16, i32;
    f32_i64: f32, i64;
    f32_i32: f32, i32;
    f32_u32: f32, u32;
    f32_u64: f32, u64;
    f64_i64: f64, i64;
    f64_i32: f64, i32;
    u128_i64: u128, i64;
    u128_i32: u128, i32;
    odd3_i64: [u8; 3], i64;
    odd12_i32: [u8; 12], i32;
}

/// A bad index in every lane position of a vector step, and in the tail: every
/// path reports the first one in row-major order, whatever its value.
#[test]
fn bad_index_in_every_lane() {
    let mut log = PathLog::new();
    let src: Vec<f32> = (0..64 * 40).map(|v| v as f32).collect();
    let s = TensorView::new(&src, &[64, 40]).unwrap();
    for n in [1usize, 8, 16, 19, 40] {
        for bad_at in 0..n {
            for bad in [-1i64, 40, i64::MIN, i64::MAX, 1 << 32] {
                let mut iv: Vec<i64> = (0..64 * n).map(|k| (k % 40) as i64).collect();
                iv[5 * n + bad_at] = bad;
                iv[60 * n + bad_at / 2] = 41; // a later bad one, never reported
                let idx = TensorView::new(&iv, &[64, n]).unwrap();
                let class = if n == 1 {
                    LayoutClass::Pick
                } else {
                    LayoutClass::LastDim
                };
                check(&mut log, &s, 1, &idx, class);
                let i32s: Vec<i32> = iv.iter().map(|&v| v as i32).collect();
                let idx = TensorView::new(&i32s, &[64, n]).unwrap();
                check(&mut log, &s, 1, &idx, class);
            }
        }
    }
    log.assert_covered("bad_index_in_every_lane", &meant(&[4]));
}

/// Large enough to be split across threads, by rows and by columns.
#[test]
fn threads_split_rows_and_columns() {
    let mut log = PathLog::new();
    let mut rng = Rng::new(7);
    let src: Vec<u16> = random_vec(&mut rng, 300 * 500);
    let s = TensorView::new(&src, &[300, 500]).unwrap();
    let iv: Vec<i32> = index_vec(&mut rng, 300 * 700, 500, 0);
    check(
        &mut log,
        &s,
        1,
        &TensorView::new(&iv, &[300, 700]).unwrap(),
        LayoutClass::LastDim,
    );
    let pv: Vec<i64> = index_vec(&mut rng, 300 * 1000, 300, 0);
    let big: Vec<u16> = random_vec(&mut rng, 300 * 1000);
    let b = TensorView::new(&big, &[300, 1000]).unwrap();
    check(
        &mut log,
        &b,
        0,
        &TensorView::new(&pv, &[300, 1000]).unwrap(),
        LayoutClass::InnerRun,
    );
    // Many groups of rows sharing a packed source block (13 of 70 rows): whole
    // groups per task, a task boundary every two groups.
    let mv: Vec<i32> = index_vec(&mut rng, 13 * 70 * 96, 40, 0);
    let mid: Vec<f64> = random_vec(&mut rng, 13 * 40 * 96);
    check(
        &mut log,
        &TensorView::new(&mid, &[13, 40, 96]).unwrap(),
        1,
        &TensorView::new(&mv, &[13, 70, 96]).unwrap(),
        LayoutClass::InnerRun,
    );
    let one: Vec<i64> = index_vec(&mut rng, 200_000, 1000, 0);
    let tall: Vec<u8> = random_vec(&mut rng, 200_000 * 3);
    let t = TensorView::new(&tall, &[200_000, 3]).unwrap();
    let one: Vec<i64> = one.iter().map(|v| v % 3).collect();
    check(
        &mut log,
        &t,
        1,
        &TensorView::new(&one, &[200_000, 1]).unwrap(),
        LayoutClass::Pick,
    );
    log.assert_covered("threads_split_rows_and_columns", &meant(&[2, 8, 1]));
}

/// 1- and 2-byte elements whose last reachable element ends the buffer: the
/// 32-bit gathers must not be used there (they would read past the end).
#[test]
fn narrow_elements_at_the_buffer_end() {
    let mut log = PathLog::new();
    for n in [1usize, 3, 8, 17, 64] {
        let src: Vec<u8> = (0..n as u8).collect();
        let s = TensorView::new(&src, &[1, n]).unwrap();
        let iv: Vec<i64> = (0..n as i64).rev().collect();
        check(
            &mut log,
            &s,
            1,
            &TensorView::new(&iv, &[1, n]).unwrap(),
            LayoutClass::LastDim,
        );
        let src16: Vec<u16> = (0..n as u16).collect();
        let s = TensorView::new(&src16, &[1, n]).unwrap();
        let i32s: Vec<i32> = (0..n as i32).rev().collect();
        check(
            &mut log,
            &s,
            1,
            &TensorView::new(&i32s, &[1, n]).unwrap(),
            LayoutClass::LastDim,
        );
    }
    let out = Tensor::from_vec(vec![0u8], &[1]).unwrap();
    assert_eq!(out.as_slice(), &[0]);
    log.assert_covered("narrow_elements_at_the_buffer_end", &meant(&[1, 2]));
}

/// Shapes that make the affine drivers pack source blocks into scratch: an
/// `InnerRun` whose rows share a source base (many rows, a large gather stride),
/// and a `LastDim` over a transposed source. Bad indices in the middle too.
fn packed<T: TestElem, I: IndexElem>(name: &str, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut log = PathLog::new();
    // InnerRun: src [50, 300] gathered along dim 0 into [100, 300].
    let src: Vec<T> = random_vec(&mut rng, 50 * 300);
    let s = TensorView::new(&src, &[50, 300]).unwrap();
    let mut iv: Vec<I> = index_vec(&mut rng, 100 * 300, 50, 0);
    check(
        &mut log,
        &s,
        0,
        &TensorView::new(&iv, &[100, 300]).unwrap(),
        LayoutClass::InnerRun,
    );
    iv[77 * 300 + 123] = I::from_i64_wrapping(50);
    check(
        &mut log,
        &s,
        0,
        &TensorView::new(&iv, &[100, 300]).unwrap(),
        LayoutClass::InnerRun,
    );
    // LastDim over a transposed source: [260, 300] viewed as [300, 260].t().
    let src: Vec<T> = random_vec(&mut rng, 300 * 260);
    let t = TensorView::new(&src, &[300, 260])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    let mut iv: Vec<I> = index_vec(&mut rng, 260 * 40, 300, 0);
    check(
        &mut log,
        &t,
        1,
        &TensorView::new(&iv, &[260, 40]).unwrap(),
        LayoutClass::LastDim,
    );
    // A 3-d source: rows are consecutive only within the inner outer axis.
    let t3 = TensorView::new(&src, &[300, 2, 130])
        .unwrap()
        .permute(&[1, 2, 0])
        .unwrap();
    let i3 = TensorView::new(&iv, &[2, 130, 40]).unwrap();
    check(&mut log, &t3, 2, &i3, LayoutClass::LastDim);
    iv[200 * 40 + 39] = I::from_i64_wrapping(-1);
    check(
        &mut log,
        &t,
        1,
        &TensorView::new(&iv, &[260, 40]).unwrap(),
        LayoutClass::LastDim,
    );
    log.assert_covered(name, &meant(&[size_of::<T>()]));
}

sweeps_packed! {
    packed_u8_i64: u8, i64;
    packed_u16_i32: u16, i32;
    packed_f32_i64: f32, i64;
    packed_f32_i32: f32, i32;
    packed_f64_u32: f64, u32;
    packed_u128_i64: u128, i64;
}

/// Calls of at most 32 index elements with default options take the tiny
/// path, on every rank, layout and index type; a forced path or a 33rd
/// element takes the planned kernels. Both agree with the reference, bad
/// indices (the first in row-major order) included.
#[test]
fn tiny_path_for_small_calls() {
    let mut rng = Rng::new(31);
    let src: Vec<f64> = random_vec(&mut rng, 6 * 7 * 5);
    let s3 = TensorView::new(&src, &[6, 7, 5]).unwrap();
    let shapes: &[&[usize]] = &[&[1, 1, 1], &[2, 3, 1], &[3, 2, 5], &[2, 4, 4], &[3, 4, 3]];
    for (k, &shape) in shapes.iter().enumerate() {
        for dim in 0..3 {
            // Views of every kind: transposed source, flipped and expanded index.
            let s = if k % 2 == 1 {
                s3.flip(2).unwrap()
            } else {
                s3.clone()
            };
            let n: usize = shape.iter().product();
            let bound = s.shape()[dim];
            let mut iv: Vec<i64> = index_vec(&mut rng, n, bound, 0);
            if k == 2 {
                iv[n - 3] = bound as i64; // one bad value near the end
            }
            let idx = TensorView::new(&iv, shape).unwrap();
            let idx_views = [idx.clone(), idx.flip(0).unwrap()];
            for idx in &idx_views {
                let want = reference::gather(&s, dim as isize, idx);
                let tiny = n <= 32;
                let choice = explain(&s, dim as isize, idx, &GatherOptions::new())
                    .unwrap()
                    .unwrap();
                assert_eq!(
                    choice.kernel == "scalar::tiny",
                    tiny,
                    "{shape:?}: {choice:?}"
                );
                let got = gather_with(&s, dim as isize, idx, &GatherOptions::new());
                assert_same_result(&want, &got, &format!("{shape:?} tiny"));
                let mut buf = vec![0.0f64; n];
                let mut out = TensorViewMut::new(&mut buf, shape)
                    .unwrap()
                    .flip(1)
                    .unwrap();
                let got = gather_into_with(&s, dim as isize, idx, &mut out, &GatherOptions::new())
                    .map(|()| Tensor::from_vec(out.as_view().to_vec(), shape).unwrap());
                assert_same_result(&want, &got, &format!("{shape:?} tiny into"));
                let i32s: Vec<i32> = iv.iter().map(|&v| v as i32).collect();
                let idx32 = TensorView::new(&i32s, shape).unwrap();
                let want32 = reference::gather(&s, dim as isize, &idx32);
                let got32 = gather_with(&s, dim as isize, &idx32, &GatherOptions::new());
                assert_same_result(&want32, &got32, &format!("{shape:?} tiny i32"));
                let forced = GatherOptions::new().isa(Isa::Scalar);
                let choice = explain(&s, dim as isize, idx, &forced).unwrap().unwrap();
                assert_ne!(choice.kernel, "scalar::tiny");
            }
        }
    }
    // A 0-d gather: one pick from a 0-d source.
    let one = 2.5f32;
    let zero = 0i64;
    let (s0, i0) = (TensorView::scalar(&one), TensorView::scalar(&zero));
    let choice = explain(&s0, 0, &i0, &GatherOptions::new())
        .unwrap()
        .unwrap();
    assert_eq!(choice.kernel, "scalar::tiny");
    assert_eq!(fastgather::gather(&s0, 0, &i0).unwrap().as_slice(), &[2.5]);
}

/// A transposed index (`StridedIndex` bands, filled by 8 × 8 and 4 × 4
/// transposes): row and column counts around the transpose sizes, bad values
/// at several positions, every index type.
#[test]
fn transposed_index_sweeps() {
    let mut log = PathLog::new();
    let mut rng = Rng::new(41);
    let src: Vec<f32> = random_vec(&mut rng, 130 * 50);
    let s = TensorView::new(&src, &[130, 50]).unwrap();
    for rows in [1usize, 3, 4, 7, 8, 9, 16, 17, 64, 65, 130] {
        for cols in [2usize, 4, 7, 8, 9, 33, 300] {
            let mut iv: Vec<i64> = index_vec(&mut rng, cols * rows, 50, 0);
            let bad = [None, Some(0), Some(cols * rows / 2), Some(cols * rows - 1)];
            let bad = if rows * cols > 2000 {
                &bad[..2]
            } else {
                &bad[..]
            };
            for &bad_at in bad {
                if let Some(k) = bad_at {
                    iv[k] = [50, -1, i64::MAX][k % 3];
                }
                let s = s.slice(0, 0, rows, 1).unwrap();
                // One row is a plain contiguous row once the size-1 axis is gone.
                let class = if rows == 1 {
                    LayoutClass::LastDim
                } else {
                    LayoutClass::StridedIndex
                };
                transposed_as::<i64>(&mut log, &s, &iv, rows, cols, class);
                transposed_as::<i32>(&mut log, &s, &iv, rows, cols, class);
                transposed_as::<u32>(&mut log, &s, &iv, rows, cols, class);
                transposed_as::<u64>(&mut log, &s, &iv, rows, cols, class);
            }
        }
    }
    log.assert_covered("transposed_index_sweeps", &meant(&[4]));
}

/// `iv`, stored [cols, rows], as a [rows, cols] index of type `I`.
fn transposed_as<I: IndexElem>(
    log: &mut PathLog,
    s: &TensorView<'_, f32>,
    iv: &[i64],
    rows: usize,
    cols: usize,
    class: LayoutClass,
) {
    let v: Vec<I> = iv.iter().map(|&v| I::from_i64_wrapping(v)).collect();
    let idx = TensorView::new(&v, &[cols, rows])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    check(log, s, 1, &idx, class);
}

/// Strided outputs (`General`: rows gathered into a tile, then copied out by
/// the path's transposes when rows are adjacent in the output): transposed,
/// reversed along the row and sliced outputs, row and column counts around
/// the transpose sizes, every element width, bad values.
#[test]
fn strided_output_sweeps() {
    let mut log = PathLog::new();
    let mut rng = Rng::new(53);
    for rows in [2usize, 4, 7, 8, 9, 17, 64, 65, 130] {
        for cols in [2usize, 4, 7, 8, 9, 33, 300] {
            strided_outputs::<u8, i64>(&mut log, rows, cols, &mut rng);
            strided_outputs::<u16, i32>(&mut log, rows, cols, &mut rng);
            strided_outputs::<f32, i64>(&mut log, rows, cols, &mut rng);
            strided_outputs::<f32, i32>(&mut log, rows, cols, &mut rng);
            strided_outputs::<f64, u32>(&mut log, rows, cols, &mut rng);
            strided_outputs::<u128, i64>(&mut log, rows, cols, &mut rng);
        }
    }
    log.assert_covered("strided_output_sweeps", &meant(&[1, 2, 4, 8, 16]));
}

fn strided_outputs<T: TestElem, I: IndexElem>(
    log: &mut PathLog,
    rows: usize,
    cols: usize,
    rng: &mut Rng,
) {
    let c = 50;
    let src: Vec<T> = random_vec(rng, rows * c);
    let s = TensorView::new(&src, &[rows, c]).unwrap();
    let mut iv: Vec<I> = index_vec(rng, rows * cols, c, 0);
    if rows * cols < 2000 && rng.below(3) == 0 {
        let k = rng.below(rows * cols);
        iv[k] = I::from_i64_wrapping([50, -1, i64::MAX][k % 3]);
    }
    let idx = TensorView::new(&iv, &[rows, cols]).unwrap();
    let want = reference::gather(&s, 1, &idx);
    for isa in Isa::available() {
        for opts in [
            GatherOptions::new().isa(isa),
            GatherOptions::new().isa(isa).sequential(),
        ] {
            for layout in 0..3 {
                let mut buf: Vec<T> = random_vec(rng, rows * cols * 2);
                let mut out = match layout {
                    // Transposed: rows adjacent in the buffer.
                    0 => TensorViewMut::new(&mut buf[..rows * cols], &[cols, rows])
                        .unwrap()
                        .transpose(0, 1)
                        .unwrap(),
                    // Each row reversed.
                    1 => TensorViewMut::new(&mut buf[..rows * cols], &[rows, cols])
                        .unwrap()
                        .flip(1)
                        .unwrap(),
                    // Every other element of [rows, 2 * cols].
                    _ => TensorViewMut::new(&mut buf, &[rows, 2 * cols])
                        .unwrap()
                        .slice(1, 1, 2 * cols, 2)
                        .unwrap(),
                };
                let choice = explain_into(&s, 1, &idx, &out, &opts).unwrap().unwrap();
                assert_eq!(choice.class, LayoutClass::General);
                assert_eq!(
                    choice.isa,
                    expected_isa(LayoutClass::General, size_of::<T>(), isa)
                );
                log.record(isa, &choice);
                let got = gather_into_with(&s, 1, &idx, &mut out, &opts)
                    .map(|()| Tensor::from_vec(out.as_view().to_vec(), &[rows, cols]).unwrap());
                assert_same_result(&want, &got, &format!("{isa:?} layout {layout}"));
            }
        }
    }
}

/// Other strided indices: sliced along the row (no band), transposed and
/// reversed (rows a negative step apart), and transposed inside a 3-d index
/// (bands end where the innermost outer axis does); 4- and 8-byte values.
#[test]
fn strided_index_layouts() {
    let mut log = PathLog::new();
    let mut rng = Rng::new(47);
    let src: Vec<u16> = random_vec(&mut rng, 3 * 40 * 30);
    let iv: Vec<i64> = index_vec(&mut rng, 3 * 40 * 42, 30, 0);
    let jv: Vec<i32> = iv.iter().map(|&v| v as i32).collect();
    strided_layouts_as(&mut log, &src, &iv);
    strided_layouts_as(&mut log, &src, &jv);
    log.assert_covered("strided_index_layouts", &meant(&[2]));
}

fn strided_layouts_as<I: IndexElem>(log: &mut PathLog, src: &[u16], v: &[I]) {
    let s2 = TensorView::new(&src[..40 * 30], &[40, 30]).unwrap();
    let s3 = TensorView::new(src, &[3, 40, 30]).unwrap();
    // [40, 21] read every other value of [40, 42].
    let idx = TensorView::new(&v[..40 * 42], &[40, 42])
        .unwrap()
        .slice(1, 0, 42, 2)
        .unwrap();
    check(log, &s2, 1, &idx, LayoutClass::StridedIndex);
    // Stored [21, 40], viewed [40, 21] with its rows in reverse order.
    let idx = TensorView::new(&v[..21 * 40], &[21, 40])
        .unwrap()
        .transpose(0, 1)
        .unwrap()
        .flip(0)
        .unwrap();
    check(log, &s2, 1, &idx, LayoutClass::StridedIndex);
    // Stored [3, 21, 40], viewed [3, 40, 21].
    let idx = TensorView::new(&v[..3 * 21 * 40], &[3, 21, 40])
        .unwrap()
        .transpose(1, 2)
        .unwrap();
    check(log, &s3, 2, &idx, LayoutClass::StridedIndex);
}

/// Long rows (source spans of 4-32 KiB, where the load paths prefetch the
/// next row while one runs), every path, 1-, 4- and 8-byte elements.
#[test]
fn long_rows_prefetch_the_next() {
    let mut log = PathLog::new();
    let mut rng = Rng::new(43);
    for (rows, bound, n) in [
        (5usize, 1100usize, 1100usize),
        (3, 4096, 700),
        (4, 2000, 64),
    ] {
        let s8: Vec<u8> = random_vec(&mut rng, rows * bound);
        let s32: Vec<f32> = random_vec(&mut rng, rows * bound);
        let s64: Vec<u64> = random_vec(&mut rng, rows * bound);
        let iv: Vec<i64> = index_vec(&mut rng, rows * n, bound, 0);
        let idx = TensorView::new(&iv, &[rows, n]).unwrap();
        check(
            &mut log,
            &TensorView::new(&s8, &[rows, bound]).unwrap(),
            1,
            &idx,
            LayoutClass::LastDim,
        );
        check(
            &mut log,
            &TensorView::new(&s32, &[rows, bound]).unwrap(),
            1,
            &idx,
            LayoutClass::LastDim,
        );
        check(
            &mut log,
            &TensorView::new(&s64, &[rows, bound]).unwrap(),
            1,
            &idx,
            LayoutClass::LastDim,
        );
        let i32s: Vec<i32> = iv.iter().map(|&v| v as i32).collect();
        let idx = TensorView::new(&i32s, &[rows, n]).unwrap();
        check(
            &mut log,
            &TensorView::new(&s32, &[rows, bound]).unwrap(),
            1,
            &idx,
            LayoutClass::LastDim,
        );
    }
    // A strided gather axis (every second or third element of the row): the
    // next row's span is `(bound - 1) · step + 1` elements.
    for (rows, bound, n, step) in [(5usize, 1000usize, 900usize, 2usize), (3, 700, 300, 3)] {
        let s32: Vec<f32> = random_vec(&mut rng, rows * bound * step);
        let s64: Vec<u64> = random_vec(&mut rng, rows * bound * step);
        let iv: Vec<i64> = index_vec(&mut rng, rows * n, bound, 0);
        let idx = TensorView::new(&iv, &[rows, n]).unwrap();
        let (wide, every) = (bound * step, step as isize);
        let v32 = TensorView::new(&s32, &[rows, wide]).unwrap();
        check(
            &mut log,
            &v32.slice(1, 0, wide, every).unwrap(),
            1,
            &idx,
            LayoutClass::LastDim,
        );
        let v64 = TensorView::new(&s64, &[rows, wide]).unwrap();
        check(
            &mut log,
            &v64.slice(1, 0, wide, every).unwrap(),
            1,
            &idx,
            LayoutClass::LastDim,
        );
    }
    log.assert_covered("long_rows_prefetch_the_next", &meant(&[1, 4, 8]));
}

/// `Isa::available()` reports every path the CPU can run, so the sweeps above,
/// which cover what it reports, cannot pass by leaving one out.
#[test]
fn available_paths_match_the_cpu() {
    let paths = Isa::available();
    println!("paths this CPU reports: {paths:?}");
    assert_eq!(&paths[..2], &[Isa::Scalar, Isa::Portable]);
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = is_x86_feature_detected!("avx2");
        let avx512 = avx2
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512dq");
        for (isa, cpu) in [
            (Isa::Avx2, avx2),
            (Isa::Avx2Gather, avx2),
            (Isa::Avx512, avx512),
            (Isa::Avx512Gather, avx512),
        ] {
            assert_eq!(paths.contains(&isa), cpu, "{isa:?}: CPU has it: {cpu}");
        }
        let best = match (avx512, avx2) {
            (true, _) => Isa::Avx512,
            (_, true) => Isa::Avx2,
            _ => Isa::Portable,
        };
        assert_eq!(Isa::best(), best);
    }
    #[cfg(target_arch = "aarch64")]
    {
        let neon = std::arch::is_aarch64_feature_detected!("neon");
        assert_eq!(paths.contains(&Isa::Neon), neon, "CPU has NEON: {neon}");
        assert_eq!(Isa::best(), Isa::Neon);
    }
    #[cfg(not(target_arch = "aarch64"))]
    assert!(!paths.contains(&Isa::Neon));
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    assert_eq!(paths, [Isa::Scalar, Isa::Portable]);
}

/// The coverage check itself: a path the test meant to see, that never ran,
/// fails the test.
#[test]
#[should_panic(expected = "never ran")]
fn a_path_that_never_ran_fails() {
    let src = TensorView::new(&[1u32, 2, 3, 4], &[2, 2]).unwrap();
    let idx = TensorView::new(&[1i64, 0, 0, 1], &[2, 2]).unwrap();
    let mut log = PathLog::new();
    for isa in Isa::available() {
        // Each path counts as forced, but only the scalar kernel is logged.
        let choice = explain(&src, 1, &idx, &GatherOptions::new().isa(Isa::Scalar))
            .unwrap()
            .unwrap();
        log.record(isa, &choice);
    }
    log.assert_covered("a_path_that_never_ran_fails", &[Isa::Scalar, Isa::Portable]);
}

/// `explain` names each path's own affine kernel, forced and by default.
#[test]
fn explain_names_each_path() {
    let name = |isa: Isa| match isa {
        Isa::Scalar => "scalar::affine",
        Isa::Portable => "portable::affine",
        Isa::Neon => "neon::affine_loads",
        Isa::Avx2 => "avx2::affine_loads",
        Isa::Avx2Gather => "avx2::affine_gather",
        Isa::Avx512 => "avx512::affine_loads",
        Isa::Avx512Gather => "avx512::affine_gather",
        other => panic!("no kernel name known for {other:?}"),
    };
    let data: Vec<u32> = (0..4096).collect();
    let src = TensorView::new(&data, &[64, 64]).unwrap();
    let ids: Vec<i64> = (0..4096).map(|k| (k * 7) % 64).collect();
    let idx = TensorView::new(&ids, &[64, 64]).unwrap();
    for isa in Isa::available() {
        let choice = explain(&src, 1, &idx, &GatherOptions::new().isa(isa))
            .unwrap()
            .unwrap();
        assert_eq!((choice.isa, choice.kernel), (isa, name(isa)));
    }
    let choice = explain(&src, 1, &idx, &GatherOptions::new())
        .unwrap()
        .unwrap();
    assert_eq!(
        (choice.isa, choice.kernel),
        (Isa::best(), name(Isa::best()))
    );
    println!("unforced: {}", choice.kernel);
}
