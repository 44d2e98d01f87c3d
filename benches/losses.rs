//! Issue-5 benchmarks: the fused cross-entropy forward and backward on f32
//! [65536, 1000], and scatter_add with colliding indices, each at 1 thread and
//! at all threads, beside naive reference versions measured in the same run.
//! The backward is timed allocating its output (`fastgather`, as torch's
//! autograd does), into a reused buffer (`fastgather-into`), and beside the
//! cost of a fresh output written once (`alloc-floor`).
//!
//! `FASTGATHER_BENCH_CASES=ce_fwd cargo bench --bench losses` runs one case.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fastgather::loss::{
    LossOptions, cross_entropy, cross_entropy_backward, cross_entropy_backward_into,
};
use fastgather::{Tensor, TensorView, scatter_add_into};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Duration;

struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

fn wanted(case: &str) -> bool {
    std::env::var("FASTGATHER_BENCH_CASES").map_or(true, |v| v.split(',').any(|c| c == case))
}

fn pools() -> Vec<(usize, rayon::ThreadPool)> {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = vec![1];
    if all > 1 {
        counts.push(all);
    }
    counts
        .into_iter()
        .map(|t| {
            (
                t,
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap(),
            )
        })
        .collect()
}

/// The definition, one row at a time in f64 with libm's `exp`: the oracle.
fn naive_forward(x: &[f32], y: &[i64], c: usize) -> f32 {
    let mut total = 0.0f64;
    for (row, &label) in x.chunks_exact(c).zip(y) {
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
        total += lse - row[label as usize] as f64;
    }
    (total / y.len() as f64) as f32
}

fn naive_backward(x: &[f32], y: &[i64], c: usize, out: &mut [f32]) {
    let scale = 1.0 / y.len() as f64;
    for ((row, g), &label) in x.chunks_exact(c).zip(out.chunks_exact_mut(c)).zip(y) {
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        for (k, (gv, &v)) in g.iter_mut().zip(row).enumerate() {
            let p = (v as f64 - m).exp() / s;
            *gv = ((p - f64::from(k as i64 == label)) * scale) as f32;
        }
    }
}

fn cross_entropy_cases(c: &mut Criterion) {
    let (n, classes) = (65536, 1000);
    let mut rng = Rng(11);
    let x: Vec<f32> = (0..n * classes)
        .map(|_| (rng.below(2000) as f32 - 1000.0) * 0.01)
        .collect();
    let y: Vec<i64> = (0..n).map(|_| rng.below(classes) as i64).collect();
    let xv = TensorView::new(&x, &[n, classes]).unwrap();
    let yv = TensorView::new(&y, &[n]).unwrap();
    let opts = LossOptions::new();
    let one = 1.0f32;
    let g = TensorView::scalar(&one);
    // Check against the oracle before timing anything.
    let fast = cross_entropy(&xv, &yv, &opts).unwrap().item().unwrap();
    let slow = naive_forward(&x, &y, classes);
    assert!((fast - slow).abs() <= 1e-4 * slow.abs(), "{fast} vs {slow}");
    let bytes = (x.len() * 4 + y.len() * 8) as u64;
    for (threads, pool) in pools() {
        if wanted("ce_fwd") {
            let mut group = c.benchmark_group(format!("ce_fwd-t{threads}"));
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(3));
            group.throughput(Throughput::Bytes(bytes));
            group.bench_function("fastgather", |b| {
                b.iter(|| pool.install(|| black_box(cross_entropy(&xv, &yv, &opts).unwrap())))
            });
            if threads == 1 {
                group.bench_function("reference", |b| {
                    b.iter(|| black_box(naive_forward(&x, &y, classes)))
                });
            }
            group.finish();
        }
        if wanted("ce_bwd") {
            let mut group = c.benchmark_group(format!("ce_bwd-t{threads}"));
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(3));
            group.throughput(Throughput::Bytes(2 * bytes));
            group.bench_function("fastgather", |b| {
                b.iter(|| {
                    pool.install(|| black_box(cross_entropy_backward(&xv, &yv, &g, &opts).unwrap()))
                })
            });
            // The same into a buffer reused across calls, as a training loop does.
            let mut grad = Tensor::<f32>::zeros(&[n, classes]).unwrap();
            group.bench_function("fastgather-into", |b| {
                b.iter(|| {
                    pool.install(|| {
                        cross_entropy_backward_into(&xv, &yv, &g, &opts, &mut grad.view_mut())
                            .unwrap()
                    })
                })
            });
            // What any allocating backward pays before computing anything: a
            // fresh [N, C] output (new pages from the OS) written once, in parallel.
            group.bench_function("alloc-floor", |b| {
                b.iter(|| {
                    pool.install(|| {
                        let mut out = Tensor::<f32>::zeros(&[n, classes]).unwrap();
                        out.as_mut_slice()
                            .par_chunks_mut(classes)
                            .zip(x.par_chunks(classes))
                            .for_each(|(o, r)| {
                                for (o, &v) in o.iter_mut().zip(r) {
                                    *o = v * 0.5;
                                }
                            });
                        black_box(out)
                    })
                })
            });
            if threads == 1 {
                let mut out = vec![0.0f32; x.len()];
                group.bench_function("reference", |b| {
                    b.iter(|| naive_backward(&x, &y, classes, black_box(&mut out)))
                });
            }
            group.finish();
        }
    }
}

/// Elements per task of the scatter_add streaming bound (256 KiB of values).
const STREAM_CHUNK: usize = 1 << 16;

/// scatter_add of a [2048, 2048] f32 gradient through random indices along
/// dim 1 and dim 0 (every destination receives ~1 value, many several).
fn scatter_add_cases(c: &mut Criterion) {
    let size = 2048;
    let mut rng = Rng(5);
    let idx: Vec<i64> = (0..size * size).map(|_| rng.below(size) as i64).collect();
    let src: Vec<f32> = (0..size * size).map(|k| (k % 1013) as f32 * 1e-3).collect();
    let iv = TensorView::new(&idx, &[size, size]).unwrap();
    let sv = TensorView::new(&src, &[size, size]).unwrap();
    for (dim, name) in [(1isize, "scatter_add_last"), (0, "scatter_add_dim0")] {
        if !wanted(name) {
            continue;
        }
        // The naive loop: the oracle and the reference engine.
        let naive = |dest: &mut [f32]| {
            for r in 0..size {
                for j in 0..size {
                    let v = idx[r * size + j] as usize;
                    let d = if dim == 1 { r * size + v } else { v * size + j };
                    dest[d] += src[r * size + j];
                }
            }
        };
        let mut want = vec![0.0f32; size * size];
        naive(&mut want);
        let mut got = Tensor::full(&[size, size], 0.0f32).unwrap();
        scatter_add_into(&mut got.view_mut(), dim, &iv, &sv).unwrap();
        assert!(
            got.as_slice()
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        for (threads, pool) in pools() {
            let mut group = c.benchmark_group(format!("{name}-t{threads}"));
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(2));
            group.throughput(Throughput::Bytes((size * size * (4 + 8 + 4)) as u64));
            let mut dest = Tensor::full(&[size, size], 0.0f32).unwrap();
            group.bench_function("fastgather", |b| {
                b.iter(|| {
                    pool.install(|| scatter_add_into(&mut dest.view_mut(), dim, &iv, &sv).unwrap())
                })
            });
            // The streaming bound: one fused pass that reads every index,
            // value and destination element once in memory order and writes
            // the destination back (the index folded in, so no read drops).
            let mut dest = vec![0.0f32; size * size];
            group.bench_function("stream", |b| {
                b.iter(|| {
                    pool.install(|| {
                        dest.par_chunks_mut(STREAM_CHUNK)
                            .zip(idx.par_chunks(STREAM_CHUNK))
                            .zip(src.par_chunks(STREAM_CHUNK))
                            .for_each(|((d, i), s)| {
                                for ((d, &i), &s) in d.iter_mut().zip(i).zip(s) {
                                    *d += f32::from_bits(s.to_bits() ^ (i as u32 & 1));
                                }
                            })
                    })
                })
            });
            if threads == 1 {
                group.bench_function("reference", |b| b.iter(|| naive(black_box(&mut dest))));
            }
            group.finish();
        }
    }
}

criterion_group!(benches, cross_entropy_cases, scatter_add_cases);
criterion_main!(benches);
