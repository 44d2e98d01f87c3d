//! Scatters whose index is expanded across the rows (torch's
//! `idx.view(-1, 1).expand(E, D)`, the graph-message shape): the kernel sweeps
//! such rows together, one index value per dim position. Every result must be
//! bit-identical to the same call with the index materialized (which takes the
//! row kernels), on any thread count, under every index mode and reduction.

mod common;

use common::{Rng, index_vec};
use fastgather::{
    GatherOptions, IndexMode, Reduction, Tensor, TensorView, TensorViewMut, scatter_add_into_with,
    scatter_into_with, scatter_reduce_into_with,
};

#[derive(Clone, Copy, Debug)]
enum Op {
    Assign,
    Add,
    Reduce(Reduction, bool),
}

fn apply(
    op: Op,
    dest: &mut TensorViewMut<'_, f32>,
    dim: usize,
    index: &TensorView<'_, i64>,
    values: &TensorView<'_, f32>,
    opts: &GatherOptions,
) -> bool {
    match op {
        Op::Assign => scatter_into_with(dest, dim, index, values, opts),
        Op::Add => scatter_add_into_with(dest, dim, index, values, opts),
        Op::Reduce(r, include_self) => {
            scatter_reduce_into_with(dest, dim, index, values, r, include_self, opts)
        }
    }
    .is_ok()
}

/// The destination's logical contents, row-major.
fn contents(dest: &TensorViewMut<'_, f32>) -> Vec<u32> {
    dest.as_view()
        .to_vec()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum DestLayout {
    Contiguous,
    Transposed,
    Flipped,
}

/// Runs `op` on a destination of `shape` laid out as `layout` (starting from
/// `init`, row-major), returning whether it succeeded and the contents.
fn run(
    op: Op,
    (shape, init, layout): (&[usize], &[f32], DestLayout),
    dim: usize,
    index: &TensorView<'_, i64>,
    values: &TensorView<'_, f32>,
    opts: &GatherOptions,
) -> (bool, Vec<u32>) {
    let rank = shape.len();
    match layout {
        DestLayout::Contiguous => {
            let mut buf = init.to_vec();
            let mut d = TensorViewMut::new(&mut buf, shape).unwrap();
            let ok = apply(op, &mut d, dim, index, values, opts);
            (ok, contents(&d))
        }
        DestLayout::Transposed => {
            // The buffer holds the first and last axes swapped.
            let mut tshape = shape.to_vec();
            tshape.swap(0, rank - 1);
            let src = TensorView::new(init, shape).unwrap();
            let mut buf = src.transpose(0, rank - 1).unwrap().to_vec();
            let d = TensorViewMut::new(&mut buf, &tshape).unwrap();
            let mut d = d.transpose(0, rank - 1).unwrap();
            let ok = apply(op, &mut d, dim, index, values, opts);
            (ok, contents(&d))
        }
        DestLayout::Flipped => {
            let src = TensorView::new(init, shape).unwrap();
            let mut buf = src.flip(rank - 1).unwrap().to_vec();
            let d = TensorViewMut::new(&mut buf, shape).unwrap();
            let mut d = d.flip(rank - 1).unwrap();
            let ok = apply(op, &mut d, dim, index, values, opts);
            (ok, contents(&d))
        }
    }
}

#[test]
fn expanded_index_matches_materialized_index() {
    let mut rng = Rng::new(16);
    let ops = [
        Op::Assign,
        Op::Add,
        Op::Reduce(Reduction::Sum, false),
        Op::Reduce(Reduction::Prod, true),
        Op::Reduce(Reduction::Mean, true),
        Op::Reduce(Reduction::Mean, false),
        Op::Reduce(Reduction::Amax, true),
        Op::Reduce(Reduction::Amin, false),
    ];
    let pools: Vec<rayon::ThreadPool> = [2, 3]
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        })
        .collect();
    for trial in 0..120 {
        let rank = 2 + rng.below(2);
        let dim = rng.below(rank);
        // Row widths around the 16-element lines the threads' pieces are cut at.
        let shape: Vec<usize> = (0..rank)
            .map(|k| {
                if k == dim {
                    1 + rng.below(40)
                } else {
                    rng.pick(&[1, 2, 5, 16, 17, 37, 64, 100])
                }
            })
            .collect();
        let bound = shape[dim];
        let e = rng.pick(&[1, 3, 50, 700, 3000]);
        let mut ishape = shape.clone();
        ishape[dim] = e;
        for (k, s) in ishape.iter_mut().enumerate() {
            if k != dim && *s > 1 && rng.one_in(4) {
                *s -= 1; // index smaller than the destination off the dim
            }
        }
        let mode = rng.pick(&[IndexMode::Error, IndexMode::Wrap, IndexMode::Drop]);
        let bad_one_in = if rng.one_in(3) { 200 } else { 0 };
        let base: Vec<i64> = index_vec(&mut rng, e, bound, bad_one_in);
        let mut one = vec![1; rank];
        one[dim] = e;
        let index = TensorView::new(&base, &one)
            .unwrap()
            .expand(&ishape)
            .unwrap();
        let materialized = index.to_vec();
        let materialized = TensorView::new(&materialized, &ishape).unwrap();
        // Values: contiguous (one larger on an axis), a broadcast scalar, or flipped.
        let mut vshape = ishape.clone();
        let grow = rng.below(rank);
        vshape[grow] += rng.below(2);
        let n: usize = vshape.iter().product();
        let vals: Vec<f32> = (0..n).map(|_| rng.uniform(-2.0, 2.0) as f32).collect();
        let scalar = rng.uniform(-2.0, 2.0) as f32;
        let values = match rng.below(3) {
            0 => TensorView::new(&vals, &vshape).unwrap(),
            1 => TensorView::scalar(&scalar).expand(&ishape).unwrap(),
            _ => TensorView::new(&vals, &vshape)
                .unwrap()
                .flip(rank - 1)
                .unwrap(),
        };
        let init: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| rng.uniform(-2.0, 2.0) as f32)
            .collect();
        let layout = rng.pick(&[
            DestLayout::Contiguous,
            DestLayout::Transposed,
            DestLayout::Flipped,
        ]);
        let op = rng.pick(&ops);
        let dest = (&shape[..], &init[..], layout);
        let opts = GatherOptions::new().mode(mode);
        let ctx = format!(
            "trial {trial}: {op:?} {shape:?} dim {dim} index {ishape:?} {mode:?} {layout:?}"
        );
        let want = run(
            op,
            dest,
            dim,
            &materialized,
            &values,
            &opts.clone().sequential(),
        );
        let mut got = vec![run(
            op,
            dest,
            dim,
            &index,
            &values,
            &opts.clone().sequential(),
        )];
        for pool in &pools {
            got.push(pool.install(|| run(op, dest, dim, &index, &values, &opts)));
        }
        for (t, g) in got.iter().enumerate() {
            assert_eq!(g.0, want.0, "{ctx}: thread config {t}: success differs");
            if want.0 {
                assert!(g.1 == want.1, "{ctx}: thread config {t}: contents differ");
            }
        }
    }
}

/// The graph shape itself, large enough to split across threads: a sum, a
/// mean and a max into `[N, 64]` by an expanded index of `E` rows, against a
/// plain loop, on 1, 2 and 3 threads.
#[test]
fn graph_messages_on_any_threads() {
    let mut rng = Rng::new(61);
    let (n, e, w) = (300usize, 5000usize, 64usize);
    let idx: Vec<i64> = index_vec(&mut rng, e, n, 0);
    let src: Vec<f32> = (0..e * w).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let init: Vec<f32> = (0..n * w).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let index = TensorView::new(&idx, &[e, 1])
        .unwrap()
        .expand(&[e, w])
        .unwrap();
    let values = TensorView::new(&src, &[e, w]).unwrap();
    let mut want = init.clone();
    for (&i, s) in idx.iter().zip(src.chunks_exact(w)) {
        for (d, &s) in want[i as usize * w..][..w].iter_mut().zip(s) {
            *d += s;
        }
    }
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut dest = Tensor::from_vec(init.clone(), &[n, w]).unwrap();
        pool.install(|| {
            scatter_add_into_with(
                &mut dest.view_mut(),
                0,
                &index,
                &values,
                &GatherOptions::new(),
            )
        })
        .unwrap();
        let same = dest
            .as_slice()
            .iter()
            .zip(&want)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{threads} threads");
        for r in [Reduction::Mean, Reduction::Amax] {
            let mut a = Tensor::from_vec(init.clone(), &[n, w]).unwrap();
            let mut b = Tensor::from_vec(init.clone(), &[n, w]).unwrap();
            let flat = index.to_vec();
            let flat = TensorView::new(&flat, &[e, w]).unwrap();
            let seq = GatherOptions::new().sequential();
            scatter_reduce_into_with(&mut a.view_mut(), 0, &flat, &values, r, true, &seq).unwrap();
            pool.install(|| {
                let opts = GatherOptions::new();
                scatter_reduce_into_with(&mut b.view_mut(), 0, &index, &values, r, true, &opts)
            })
            .unwrap();
            assert!(a == b, "{r} on {threads} threads");
        }
    }
}
