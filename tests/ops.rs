//! scatter, scatter_add, index_select, take_along_axis and the index modes,
//! against torch's documented examples and naive per-element versions.

mod common;

use common::{Rng, index_vec};
use fastgather::{
    GatherError, GatherOptions, IndexMode, Isa, Reduction, Tensor, TensorView, TensorViewMut,
    gather_with, index_select, reference, scatter, scatter_add, scatter_add_into_with,
    scatter_add_with, scatter_into, scatter_reduce, scatter_with, take_along_axis,
};

/// torch's `scatter_` example: src = 1..=10 as [2, 5], index [[0, 1, 2, 0]], dim 0
/// into zeros [3, 5].
#[test]
fn torch_scatter_examples() {
    let src: Vec<i64> = (1..=10).collect();
    let src = TensorView::new(&src, &[2, 5]).unwrap();
    let zeros = Tensor::full(&[3, 5], 0i64).unwrap();
    let idx = TensorView::new(&[0i64, 1, 2, 0], &[1, 4]).unwrap();
    let out = scatter(&zeros.view(), 0, &idx, &src).unwrap();
    assert_eq!(
        out.as_slice(),
        &[1, 0, 0, 4, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0]
    );
    // dim 1, index [[0, 1, 2], [0, 1, 4]]
    let idx = TensorView::new(&[0i64, 1, 2, 0, 1, 4], &[2, 3]).unwrap();
    let out = scatter(&zeros.view(), 1, &idx, &src).unwrap();
    assert_eq!(
        out.as_slice(),
        &[1, 2, 3, 0, 0, 6, 7, 0, 0, 8, 0, 0, 0, 0, 0]
    );
}

/// torch's `scatter_add_` example: ones [2, 5] added along dim 0 with index
/// [[0, 1, 2, 0, 0]] and [[0, 1, 2, 0, 0], [0, 1, 2, 2, 2]].
#[test]
fn torch_scatter_add_examples() {
    let ones = [1.0f32; 10];
    let src = TensorView::new(&ones, &[2, 5]).unwrap();
    let zeros = Tensor::full(&[3, 5], 0.0f32).unwrap();
    let idx = TensorView::new(&[0i64, 1, 2, 0, 0], &[1, 5]).unwrap();
    let out = scatter_add(&zeros.view(), 0, &idx, &src).unwrap();
    assert_eq!(
        out.as_slice(),
        &[1., 0., 0., 1., 1., 0., 1., 0., 0., 0., 0., 0., 1., 0., 0.]
    );
    let idx = TensorView::new(&[0i64, 1, 2, 0, 0, 0, 1, 2, 2, 2], &[2, 5]).unwrap();
    let out = scatter_add(&zeros.view(), 0, &idx, &src).unwrap();
    assert_eq!(
        out.as_slice(),
        &[2., 0., 0., 1., 1., 0., 2., 0., 0., 0., 0., 0., 2., 1., 1.]
    );
}

/// Naive scatter_add by multi-index, in row-major order of the index.
fn naive_scatter_add(
    dest: &mut [f64],
    dest_shape: &[usize],
    dim: usize,
    idx: &[i64],
    idx_shape: &[usize],
    src: &[f64],
    src_shape: &[usize],
) {
    let rank = idx_shape.len();
    let mut pos = vec![0usize; rank];
    for &v in idx {
        let mut d_off = 0;
        let mut s_off = 0;
        for k in 0..rank {
            let dk = if k == dim { v as usize } else { pos[k] };
            d_off = d_off * dest_shape[k] + dk;
            s_off = s_off * src_shape[k] + pos[k];
        }
        dest[d_off] += src[s_off];
        for k in (0..rank).rev() {
            pos[k] += 1;
            if pos[k] < idx_shape[k] {
                break;
            }
            pos[k] = 0;
        }
    }
}

/// scatter_add with many colliding indices, every dim of rank 3, sequential and
/// parallel: bit-identical to the naive version (same order of additions).
#[test]
fn scatter_add_collisions_match_naive_on_any_threads() {
    let mut rng = Rng::new(3);
    for dim in 0..3 {
        let dest_shape = [40, 30, 50];
        let mut idx_shape = [40, 30, 50];
        idx_shape[dim] = 300; // many more values than slots: collisions
        let src_shape = [idx_shape[0] + 1, idx_shape[1], idx_shape[2] + 2];
        let n: usize = idx_shape.iter().product();
        let idx: Vec<i64> = index_vec(&mut rng, n, dest_shape[dim], 0);
        let src: Vec<f64> = (0..src_shape.iter().product::<usize>())
            .map(|k| (k % 97) as f64 * 0.37 - 11.0)
            .collect();
        let mut want = vec![0.5f64; dest_shape.iter().product()];
        naive_scatter_add(
            &mut want,
            &dest_shape,
            dim,
            &idx,
            &idx_shape,
            &src,
            &src_shape,
        );
        for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
            let mut dest = Tensor::full(&dest_shape, 0.5f64).unwrap();
            scatter_add_into_with(
                &mut dest.view_mut(),
                dim as isize,
                &TensorView::new(&idx, &idx_shape).unwrap(),
                &TensorView::new(&src, &src_shape).unwrap(),
                &opts,
            )
            .unwrap();
            let same = dest
                .as_slice()
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "dim {dim}");
        }
    }
}

/// scatter's adjoint identity: <gather(x, idx), g> == <x, scatter_add(0, idx, g)>.
#[test]
fn scatter_add_is_gathers_adjoint() {
    let mut rng = Rng::new(9);
    let x: Vec<f64> = (0..6 * 7).map(|k| (k as f64).sin()).collect();
    let xv = TensorView::new(&x, &[6, 7]).unwrap();
    for dim in [0isize, 1, -1] {
        // Along dim 0 the index may be taller than x; along dim 1, wider.
        let (shape, bound) = if dim == 0 {
            ([9usize, 7], 6)
        } else {
            ([6usize, 9], 7)
        };
        let idx: Vec<i64> = index_vec(&mut rng, shape[0] * shape[1], bound, 0);
        let iv = TensorView::new(&idx, &shape).unwrap();
        let g: Vec<f64> = (0..idx.len()).map(|k| (k as f64 * 0.3).cos()).collect();
        let gv = TensorView::new(&g, &shape).unwrap();
        let gathered = fastgather::gather(&xv, dim, &iv).unwrap();
        let lhs: f64 = gathered.as_slice().iter().zip(&g).map(|(a, b)| a * b).sum();
        let back = fastgather::loss::gather_backward(&gv, dim, &iv, &[6, 7]).unwrap();
        let rhs: f64 = back.as_slice().iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-9, "{lhs} vs {rhs}");
    }
}

#[test]
fn scatter_duplicates_last_in_row_major_order_wins() {
    let mut dest = Tensor::full(&[4], 0i32).unwrap();
    let idx = TensorView::new(&[1i64, 1, 3, 1], &[4]).unwrap();
    let src = TensorView::new(&[10, 20, 30, 40], &[4]).unwrap();
    scatter_into(&mut dest.view_mut(), 0, &idx, &src).unwrap();
    assert_eq!(dest.as_slice(), &[0, 40, 0, 30]);
}

/// `scatter_with` / `scatter_add_with` give the plain forms' results under any
/// options that run, and the options' errors (a forced path the CPU lacks, an
/// index mode other than `Error`) otherwise; other errors are the plain forms'.
#[test]
fn scatter_with_forms_match_plain_forms() {
    let mut rng = Rng::new(0x5ca7);
    // Small (one walk) and large enough to split across threads (> 256 KiB).
    for (rows, cols, dest_rows) in [(3, 4, 2), (512, 96, 40)] {
        let n = rows * cols;
        let input: Vec<f64> = (0..dest_rows * cols).map(|i| (i % 7) as f64).collect();
        let input = TensorView::new(&input, &[dest_rows, cols]).unwrap();
        let src: Vec<f64> = (0..n).map(|i| (i % 13) as f64 - 6.0).collect();
        let src = TensorView::new(&src, &[rows, cols]).unwrap();
        let idx: Vec<i64> = index_vec(&mut rng, n, dest_rows, 0);
        let idx = TensorView::new(&idx, &[rows, cols]).unwrap();
        let plain = scatter(&input, 0, &idx, &src).unwrap();
        let plain_add = scatter_add(&input, 0, &idx, &src).unwrap();
        assert_ne!(plain, input.to_tensor(), "the scatter changed nothing");
        assert_ne!(plain_add, plain);
        let mut options = vec![GatherOptions::new(), GatherOptions::new().sequential()];
        options.extend(
            Isa::available()
                .into_iter()
                .map(|isa| GatherOptions::new().isa(isa)),
        );
        for opts in &options {
            assert_eq!(
                scatter_with(&input, 0, &idx, &src, opts).unwrap(),
                plain,
                "{opts:?}"
            );
            assert_eq!(
                scatter_add_with(&input, 0, &idx, &src, opts).unwrap(),
                plain_add,
                "{opts:?}"
            );
        }
    }

    let input = TensorView::new(&[0i32; 4], &[4]).unwrap();
    let idx = TensorView::new(&[3i64, 1], &[2]).unwrap();
    let src = TensorView::new(&[5, 6], &[2]).unwrap();
    assert_eq!(
        scatter(&input, 0, &idx, &src).unwrap().as_slice(),
        &[0, 6, 0, 5]
    );
    assert_eq!(
        scatter_add(&input, 0, &idx, &src).unwrap().as_slice(),
        &[0, 6, 0, 5]
    );
    let every = Isa::ALL;
    for isa in every {
        let opts = GatherOptions::new().isa(isa);
        let (a, b) = (
            scatter_with(&input, 0, &idx, &src, &opts),
            scatter_add_with(&input, 0, &idx, &src, &opts),
        );
        if isa.is_available() {
            assert_eq!(a.unwrap().as_slice(), &[0, 6, 0, 5]);
            assert_eq!(b.unwrap().as_slice(), &[0, 6, 0, 5]);
        } else {
            let want = GatherError::IsaUnavailable { isa };
            assert_eq!(a.unwrap_err(), want);
            assert_eq!(b.unwrap_err(), want);
        }
    }
    // A scatter has no slot to fill: `Fill` is refused (`Drop` skips instead).
    let fill = GatherOptions::new().fill(0i32);
    for e in [
        scatter_with(&input, 0, &idx, &src, &fill).unwrap_err(),
        scatter_add_with(&input, 0, &idx, &src, &fill).unwrap_err(),
    ] {
        assert!(matches!(e, GatherError::InvalidOption { .. }), "{e:?}");
    }
    // Errors that are not the options' are the plain forms'.
    let bad = TensorView::new(&[1i64, 4], &[2]).unwrap();
    let opts = GatherOptions::new().sequential();
    let want = scatter(&input, 0, &bad, &src).unwrap_err();
    assert!(matches!(
        want,
        GatherError::IndexOutOfBounds { value: 4, .. }
    ));
    assert_eq!(
        scatter_with(&input, 0, &bad, &src, &opts).unwrap_err(),
        want
    );
    assert_eq!(
        scatter_add_with(&input, 0, &bad, &src, &opts).unwrap_err(),
        want
    );
    assert_eq!(scatter_add(&input, 0, &bad, &src).unwrap_err(), want);
    assert_eq!(
        scatter_with(&input, 1, &idx, &src, &opts).unwrap_err(),
        scatter(&input, 1, &idx, &src).unwrap_err()
    );
}

#[test]
fn scatter_errors() {
    let mut dest = Tensor::full(&[2, 3], 0i32).unwrap();
    let src = [1, 2, 3, 4, 5, 6];
    let src = TensorView::new(&src, &[2, 3]).unwrap();
    // Index wider than self on a non-dim axis.
    let idx = TensorView::new(&[0i64; 8], &[2, 4]).unwrap();
    assert!(matches!(
        scatter_into(&mut dest.view_mut(), 0, &idx, &src),
        Err(GatherError::ScatterSizeMismatch {
            axis: 1,
            dim: 0,
            ..
        })
    ));
    // Index larger than src along dim.
    let idx = TensorView::new(&[0i64; 3], &[3, 1]).unwrap();
    assert!(matches!(
        scatter_into(&mut dest.view_mut(), 0, &idx, &src),
        Err(GatherError::ScatterSizeMismatch { axis: 0, .. })
    ));
    // Out-of-range value: the first in row-major order is reported.
    let idx = TensorView::new(&[0i64, 3, 1, 7], &[2, 2]).unwrap();
    assert_eq!(
        scatter_into(&mut dest.view_mut(), 1, &idx, &src),
        Err(GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![0, 1],
            dim: 1,
            size: 3,
            wraps: false
        })
    );
    // Rank mismatch and bad dim.
    let idx = TensorView::new(&[0i64], &[1]).unwrap();
    assert!(matches!(
        scatter_into(&mut dest.view_mut(), 0, &idx, &src),
        Err(GatherError::RankMismatch { .. })
    ));
    assert!(matches!(
        scatter_into(&mut dest.view_mut(), 2, &idx, &src),
        Err(GatherError::DimOutOfRange { dim: 2, rank: 2 })
    ));
    // An empty index changes nothing and checks nothing else.
    let mut dest = Tensor::full(&[2, 3], 0i32).unwrap();
    let empty: [i64; 0] = [];
    let idx = TensorView::new(&empty, &[0]).unwrap();
    scatter_into(&mut dest.view_mut(), 0, &idx, &src).unwrap();
    assert_eq!(dest.as_slice(), &[0; 6]);
}

#[test]
fn index_select_matches_torch() {
    // torch: x = arange(12).view(3, 4); x.index_select(0, [0, 2]); x.index_select(1, [0, 2])
    let x: Vec<i32> = (0..12).collect();
    let xv = TensorView::new(&x, &[3, 4]).unwrap();
    let idx = TensorView::new(&[0i64, 2], &[2]).unwrap();
    let rows = index_select(&xv, 0, &idx).unwrap();
    assert_eq!(rows.shape(), &[2, 4]);
    assert_eq!(rows.as_slice(), &[0, 1, 2, 3, 8, 9, 10, 11]);
    let cols = index_select(&xv, 1, &idx).unwrap();
    assert_eq!(cols.shape(), &[3, 2]);
    assert_eq!(cols.as_slice(), &[0, 2, 4, 6, 8, 10]);
    let cols = index_select(&xv, -1, &idx).unwrap();
    assert_eq!(cols.as_slice(), &[0, 2, 4, 6, 8, 10]);
    // A 0-d index keeps the dim with size 1.
    let one = 1i64;
    let r = index_select(&xv, 0, &TensorView::scalar(&one)).unwrap();
    assert_eq!(r.shape(), &[1, 4]);
    // Errors name the position in the 1-d index.
    let bad = TensorView::new(&[0i64, 1, 3], &[3]).unwrap();
    assert_eq!(
        index_select(&xv, 0, &bad),
        Err(GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![2],
            dim: 0,
            size: 3,
            wraps: false
        })
    );
    // An N-d index is numpy's take along the dim: its shape replaces the dim.
    // numpy: x = arange(12).reshape(3, 4); take(x, [[2, 0], [1, 1]], axis=1)
    let two_d = TensorView::new(&[2i64, 0, 1, 1], &[2, 2]).unwrap();
    let t = index_select(&xv, 1, &two_d).unwrap();
    assert_eq!(t.shape(), &[3, 2, 2]);
    assert_eq!(t.as_slice(), &[2, 0, 1, 1, 6, 4, 5, 5, 10, 8, 9, 9]);
    let rows = index_select(&xv, 0, &two_d.slice(1, 0, 1, 1).unwrap()).unwrap();
    assert_eq!(rows.shape(), &[2, 1, 4]);
    assert_eq!(rows.as_slice(), &[8, 9, 10, 11, 4, 5, 6, 7]);
}

#[test]
fn take_along_axis_matches_numpy() {
    // numpy: a = [[10, 30, 20], [60, 40, 50]]; ai = argsort(a, axis=1);
    // take_along_axis(a, ai, 1) == sort(a, 1)
    let a = [10, 30, 20, 60, 40, 50];
    let av = TensorView::new(&a, &[2, 3]).unwrap();
    let ai = TensorView::new(&[0i64, 2, 1, 1, 2, 0], &[2, 3]).unwrap();
    assert_eq!(
        take_along_axis(&av, &ai, 1).unwrap().as_slice(),
        &[10, 20, 30, 40, 50, 60]
    );
    // Negative indices wrap; broadcasting of a size-1 index axis.
    let neg = TensorView::new(&[-1i64, -3], &[1, 2]).unwrap();
    let out = take_along_axis(&av, &neg, 1).unwrap();
    assert_eq!(out.shape(), &[2, 2]);
    assert_eq!(out.as_slice(), &[20, 10, 50, 60]);
    // Broadcasting of a size-1 array axis.
    let col = TensorView::new(&[7, 8, 9], &[1, 3]).unwrap();
    let idx = TensorView::new(&[2i64, 0], &[2, 1]).unwrap();
    assert_eq!(take_along_axis(&col, &idx, 1).unwrap().as_slice(), &[9, 7]);
    // Out of range even after wrapping.
    let bad = TensorView::new(&[-4i64], &[1, 1]).unwrap();
    assert!(matches!(
        take_along_axis(&av, &bad, 1),
        Err(GatherError::IndexOutOfBounds { value: -4, .. })
    ));
    let mismatch = TensorView::new(&[0i64; 3], &[3, 1]).unwrap();
    assert!(matches!(
        take_along_axis(&av, &mismatch, 1),
        Err(GatherError::SizeMismatch { axis: 0, .. })
    ));
}

#[test]
fn index_modes() {
    let src = [1.0f32, 2.0, 3.0];
    let sv = TensorView::new(&src, &[3]).unwrap();
    let idx = [-1i64, 3, 0, -3, i64::MIN, i64::MAX];
    let iv = TensorView::new(&idx, &[6]).unwrap();
    let run = |opts: GatherOptions| gather_with(&sv, 0, &iv, &opts);
    assert!(matches!(
        run(GatherOptions::new()),
        Err(GatherError::IndexOutOfBounds { value: -1, .. })
    ));
    assert_eq!(
        run(GatherOptions::new().mode(IndexMode::Clamp))
            .unwrap()
            .as_slice(),
        &[1.0, 3.0, 1.0, 1.0, 1.0, 3.0]
    );
    assert_eq!(
        run(GatherOptions::new().fill(f32::NAN))
            .unwrap()
            .as_slice()
            .iter()
            .map(|v| v.is_nan())
            .collect::<Vec<_>>(),
        vec![true, true, false, true, true, true]
    );
    // Wrap: -1 and -3 wrap; 3 does not, and the error says negatives were accepted.
    let err = run(GatherOptions::new().mode(IndexMode::Wrap)).unwrap_err();
    assert_eq!(
        err,
        GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![1],
            dim: 0,
            size: 3,
            wraps: true
        }
    );
    assert!(err.to_string().contains("-3..=2"), "{err}");
    let ok = TensorView::new(&[-1i64, -3, 2], &[3]).unwrap();
    assert_eq!(
        gather_with(&sv, 0, &ok, &GatherOptions::new().mode(IndexMode::Wrap))
            .unwrap()
            .as_slice(),
        &[3.0, 1.0, 3.0]
    );
    // Unsigned values past i64::MAX are huge, never negative.
    let u = TensorView::new(&[u64::MAX], &[1]).unwrap();
    assert_eq!(
        gather_with(&sv, 0, &u, &GatherOptions::new().mode(IndexMode::Clamp))
            .unwrap()
            .as_slice(),
        &[3.0]
    );
    // A fill value of another width is refused before anything runs.
    assert!(matches!(
        gather_with(&sv, 0, &ok, &GatherOptions::new().fill(0.0f64)),
        Err(GatherError::InvalidOption { .. })
    ));
    // Clamp into an empty dim is an error.
    let empty: [f32; 0] = [];
    let ev = TensorView::new(&empty, &[0]).unwrap();
    assert!(gather_with(&ev, 0, &ok, &GatherOptions::new().mode(IndexMode::Clamp)).is_err());
    // In-range indices: every mode agrees with the reference.
    let fine = TensorView::new(&[2i64, 0, 1], &[3]).unwrap();
    let want = reference::gather(&sv, 0, &fine).unwrap();
    for mode in [IndexMode::Error, IndexMode::Wrap, IndexMode::Clamp] {
        let opts = GatherOptions::new().mode(mode);
        assert_eq!(gather_with(&sv, 0, &fine, &opts).unwrap(), want);
    }
}

/// Rows of every length around the scatter kernel's blocks of eight, unit
/// strides and strided, with a bad index at every position: results match the
/// naive loop, and the error names the first bad index in row-major order.
#[test]
fn scatter_add_rows_around_blocks() {
    let mut rng = Rng::new(17);
    for n in 1..=19usize {
        let rows = 3;
        let bound = 5;
        let idx: Vec<i64> = index_vec(&mut rng, rows * n, bound, 0);
        let src: Vec<f32> = (0..rows * n).map(|k| k as f32 * 0.25).collect();
        let iv = TensorView::new(&idx, &[rows, n]).unwrap();
        let sv = TensorView::new(&src, &[rows, n]).unwrap();
        let mut want = vec![1.0f32; rows * bound];
        for r in 0..rows {
            for j in 0..n {
                want[r * bound + idx[r * n + j] as usize] += src[r * n + j];
            }
        }
        let mut dest = Tensor::full(&[rows, bound], 1.0f32).unwrap();
        scatter_add_into_with(&mut dest.view_mut(), 1, &iv, &sv, &GatherOptions::new()).unwrap();
        assert_eq!(dest.as_slice(), &want[..], "n = {n}");
        // The same through a transposed destination (non-unit strides).
        let mut buf = vec![1.0f32; rows * bound];
        let mut dt = TensorViewMut::new(&mut buf, &[bound, rows])
            .unwrap()
            .transpose(0, 1)
            .unwrap();
        scatter_add_into_with(&mut dt, 1, &iv, &sv, &GatherOptions::new()).unwrap();
        assert_eq!(dt.as_view().to_vec(), want, "n = {n}, transposed");
        for bad_at in 0..n {
            let mut bad = idx.clone();
            bad[n + bad_at] = [-1, bound as i64, i64::MAX][bad_at % 3];
            bad[2 * n + n / 2] = 99; // a later one, never reported
            let bv = TensorView::new(&bad, &[rows, n]).unwrap();
            let mut dest = Tensor::full(&[rows, bound], 1.0f32).unwrap();
            let err =
                scatter_add_into_with(&mut dest.view_mut(), 1, &bv, &sv, &GatherOptions::new())
                    .unwrap_err();
            match err {
                GatherError::IndexOutOfBounds {
                    value,
                    position,
                    dim,
                    size,
                    wraps: false,
                } => {
                    assert_eq!(value, bad[n + bad_at] as i128);
                    assert_eq!(position, vec![1, bad_at]);
                    assert_eq!((dim, size), (1, bound));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// A dim-0 `scatter_add` problem: an `[n, cols]` index below `bound`, its
/// values, and the naive loop's `[bound, cols]` result from `init`.
fn dim0_problem(
    seed: u64,
    (bound, cols, n): (usize, usize, usize),
    init: f32,
) -> (Vec<i64>, Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let idx: Vec<i64> = index_vec(&mut rng, n * cols, bound, 0);
    let src: Vec<f32> = (0..n * cols)
        .map(|k| (k % 89) as f32 * 0.125 - 3.0)
        .collect();
    let mut want = vec![init; bound * cols];
    for j in 0..n {
        for t in 0..cols {
            want[idx[j * cols + t] as usize * cols + t] += src[j * cols + t];
        }
    }
    (idx, src, want)
}

/// Sweeps along dim 0 wide enough to need several packed blocks (about a
/// megabyte of destination each): adjacent destination columns (copied in
/// and out by runs) and columns two apart (element by element), on any
/// number of threads, bitwise equal to the naive loop.
#[test]
fn scatter_add_packed_sweeps_span_several_blocks() {
    let (bound, cols, n) = (1100usize, 300usize, 300usize);
    let (idx, src, want) = dim0_problem(29, (bound, cols, n), 1.5);
    let (iv, sv) = (
        TensorView::new(&idx, &[n, cols]).unwrap(),
        TensorView::new(&src, &[n, cols]).unwrap(),
    );
    for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
        for step in [1usize, 2] {
            let mut buf = vec![1.5f32; bound * cols * step];
            let mut dest = TensorViewMut::new(&mut buf, &[bound, cols * step])
                .unwrap()
                .slice(1, 0, cols * step, step as isize)
                .unwrap();
            scatter_add_into_with(&mut dest, 0, &iv, &sv, &opts).unwrap();
            let got = dest.as_view().to_vec();
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "column step {step}"
            );
        }
    }
}

/// scatter_add along dim 0 with many values per destination column: the sweep
/// accumulates in a packed block; results are bit-identical to the naive loop,
/// and a bad index anywhere is reported at its row-major position.
#[test]
fn scatter_add_packed_sweeps() {
    let (bound, cols, n) = (37usize, 70usize, 150usize);
    let (idx, src, want) = dim0_problem(23, (bound, cols, n), 0.5);
    let sv = TensorView::new(&src, &[n, cols]).unwrap();
    for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
        let iv = TensorView::new(&idx, &[n, cols]).unwrap();
        // Destination rows twice as long as the swept columns, so the elements
        // a sweep can hit are spread out (the case the packed block is for).
        let mut buf = vec![0.5f32; bound * 2 * cols];
        let mut dest = TensorViewMut::new(&mut buf, &[bound, 2 * cols])
            .unwrap()
            .slice(1, 0, cols, 1)
            .unwrap();
        scatter_add_into_with(&mut dest, 0, &iv, &sv, &opts).unwrap();
        let got = dest.as_view().to_vec();
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(
            buf.chunks(cols)
                .skip(1)
                .step_by(2)
                .flatten()
                .all(|&v| v == 0.5)
        );
        for bad_at in [0, 7 * cols + 3, n * cols - 1] {
            let mut bad = idx.clone();
            bad[bad_at] = bound as i64;
            let bv = TensorView::new(&bad, &[n, cols]).unwrap();
            let mut buf = vec![0.5f32; bound * 2 * cols];
            let mut dest = TensorViewMut::new(&mut buf, &[bound, 2 * cols])
                .unwrap()
                .slice(1, 0, cols, 1)
                .unwrap();
            let err = scatter_add_into_with(&mut dest, 0, &bv, &sv, &opts).unwrap_err();
            match err {
                GatherError::IndexOutOfBounds { position, .. } => {
                    assert_eq!(position, vec![bad_at / cols, bad_at % cols])
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// scatter_add along rows long enough that the next row's destination is
/// prefetched while one runs: bit-identical to the naive loop.
#[test]
fn scatter_add_long_rows() {
    let mut rng = Rng::new(29);
    for (rows, bound, n) in [(4usize, 1500usize, 1500usize), (3, 3000, 100)] {
        let idx: Vec<i64> = index_vec(&mut rng, rows * n, bound, 0);
        let src: Vec<f32> = (0..rows * n).map(|k| (k % 101) as f32 * 0.5).collect();
        let mut want = vec![1.0f32; rows * bound];
        for r in 0..rows {
            for j in 0..n {
                want[r * bound + idx[r * n + j] as usize] += src[r * n + j];
            }
        }
        let iv = TensorView::new(&idx, &[rows, n]).unwrap();
        let sv = TensorView::new(&src, &[rows, n]).unwrap();
        for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
            let mut dest = Tensor::full(&[rows, bound], 1.0f32).unwrap();
            scatter_add_into_with(&mut dest.view_mut(), 1, &iv, &sv, &opts).unwrap();
            assert!(
                dest.as_slice()
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }
}

/// A mean whose index is expanded along the other axes counts by one
/// histogram of the index; the same index made contiguous counts element by
/// element. Both give the same bits, counts wrapping in `u8` and `i8` included.
#[test]
fn scatter_mean_counts_by_line_or_by_element_alike() {
    fn check<T: fastgather::Reduce + std::fmt::Debug + PartialEq>(vals: Vec<T>, start: T) {
        let (e, f, n) = (vals.len() / 3, 3, 4);
        let dst: Vec<i64> = (0..e as i64).map(|i| (i * 7 + i / 5) % 3).collect();
        let line = TensorView::new(&dst, &[e, 1]).unwrap();
        let expanded = line.expand(&[e, f]).unwrap();
        let contiguous = expanded.to_tensor();
        let src = TensorView::new(&vals, &[e, f]).unwrap();
        let dest = Tensor::full(&[n, f], start).unwrap();
        for include_self in [true, false] {
            let run = |idx: &TensorView<'_, i64>| {
                scatter_reduce(&dest.view(), 0, idx, &src, Reduction::Mean, include_self).unwrap()
            };
            assert_eq!(
                run(&expanded),
                run(&contiguous.view()),
                "include_self {include_self}"
            );
        }
    }
    check((0..3 * 900).map(|i| (i % 251) as u8).collect(), 9u8);
    check((0..3 * 900).map(|i| (i % 256) as u8 as i8).collect(), -3i8);
    check(
        (0..3 * 90).map(|i| (i as f32 * 0.37).sin()).collect(),
        1.5f32,
    );
    check((0..3 * 90).map(|i| -(i as i64) * 3).collect(), 4i64);
}
