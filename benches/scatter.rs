//! Issue-16 benchmarks: the scatter family on graph-shaped data, the cases of
//! `examples/scatter_graph.rs` (same data generator, so the figures compare
//! with its tables and with `benches/compare_torch_scatter.py`), each at 1
//! thread and at all threads in a criterion group `<case>-t<threads>`.
//!
//! Cases (`f32` values, `i64` index, dim 0):
//! - `sr_sum_random`, `sr_mean_random`, `sr_amax_random`, `sr_sum_sorted`:
//!   `scatter_reduce_into_with(dest [100_000, 64], 0, idx, src [1_000_000, 64],
//!   Sum | Mean | Amax, include_self = true)` with `idx` a 1-d `[E]` of random
//!   (or sorted) destinations viewed `[E, 1]` and expanded to `[E, 64]`
//!   (torch: `idx.view(-1, 1).expand(E, 64)`);
//! - `index_add`: `index_add_into_with(dest [10_000, 128], 0, idx [100_000],
//!   source [100_000, 128], 1.0)`, random `idx`.
//!
//! Engines:
//! - `fastgather`: the `_into_with` form in a rayon pool of that many threads.
//!   Before each timed call the destination is reset from a saved copy with
//!   `copy_from_slice`, *untimed* (`iter_custom`: the clock runs around the call
//!   only), as the example and the torch script do;
//! - `stream`: the streaming bound, one pass reading the 1-d index and the
//!   source and reading and rewriting the destination (after the same untimed
//!   reset), split over the pool's threads;
//! - `plain-loop` (1-thread group only): the obvious sequential loop over the
//!   edges, `dest[idx[e]] ⊕= src[e]` row by row (then the mean's division);
//! - `reset` (1-thread group only): the `copy_from_slice` reset itself, timed
//!   on its own; it is in no other engine's figure.
//!
//! Every engine of a group reports the same throughput: index bytes (the 1-d
//! index) + source bytes + destination bytes read and written.
//!
//! Before any timing each case checks that fastgather's result is
//! bit-identical at 1 thread and at all threads and equal to the plain loop's
//! (f32 sums in index order, as the plain loop adds them), and panics
//! otherwise.
//!
//! `FASTGATHER_BENCH_CASES=sr_sum_random cargo bench --bench scatter` runs one case.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fastgather::{
    GatherOptions, Reduction, Tensor, TensorView, index_add_into_with, scatter_reduce_into_with,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draw `i` of stream `seed`, as `examples/scatter_graph.rs` (and the Python
/// side) compute it.
fn draw(seed: u64, i: usize) -> u64 {
    mix(seed.wrapping_add((i as u64 + 1).wrapping_mul(GOLDEN)))
}

/// `n` floats in `[-1, 1)`, multiples of 2⁻²³.
fn floats(seed: u64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (draw(seed, i) >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
        .collect()
}

/// `n` destinations below `bound`, sorted if asked.
fn destinations(seed: u64, n: usize, bound: usize, sorted: bool) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n)
        .map(|i| (draw(seed, i) % bound as u64) as i64)
        .collect();
    if sorted {
        v.sort_unstable();
    }
    v
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

struct Case {
    name: &'static str,
    /// `None`: `index_add` (a sum, alpha 1).
    reduce: Option<Reduction>,
    sorted: bool,
    /// Destination rows, index length (source rows), row width.
    nodes: usize,
    edges: usize,
    width: usize,
    /// Seeds of the index, the source and the destination.
    seeds: [u64; 3],
}

/// The plain sequential loop over the edges (`include_self = true`):
/// `dest[idx[e]] ⊕= src[e]` row by row in index order, then the mean's
/// division by 1 + the number of values each touched row received.
fn plain(case: &Case, idx: &[i64], src: &[f32], dest: &mut [f32]) {
    let w = case.width;
    let reduce = case.reduce.unwrap_or(Reduction::Sum);
    let mut counts = if reduce == Reduction::Mean {
        vec![1.0f32; case.nodes]
    } else {
        Vec::new()
    };
    for (&i, s) in idx.iter().zip(src.chunks_exact(w)) {
        let d = &mut dest[i as usize * w..][..w];
        match reduce {
            Reduction::Sum | Reduction::Mean => {
                d.iter_mut().zip(s).for_each(|(d, &s)| *d += s);
                if reduce == Reduction::Mean {
                    counts[i as usize] += 1.0;
                }
            }
            Reduction::Amax => d.iter_mut().zip(s).for_each(|(d, &s)| {
                if s.is_nan() || *d < s {
                    *d = s;
                }
            }),
            _ => unreachable!("not a case here"),
        }
    }
    if reduce == Reduction::Mean {
        for (d, &c) in dest.chunks_exact_mut(w).zip(&counts) {
            if c != 1.0 {
                d.iter_mut().for_each(|x| *x /= c);
            }
        }
    }
}

/// The streaming bound: one pass that reads the index and the source and
/// reads and rewrites the destination in place, each third split over
/// `threads` tasks of the current pool (as `examples/scatter_graph.rs`).
fn stream(idx: &[u8], src: &[u8], dest: &mut [u8], threads: usize) -> u64 {
    // Sixteen lanes of `u32`, which the compiler keeps in vector registers.
    let fold = |bytes: &[u8]| {
        let words: &[u32] = bytemuck::cast_slice(bytes);
        words
            .chunks_exact(16)
            .fold([0u32; 16], |mut a, c| {
                for (a, c) in a.iter_mut().zip(c) {
                    *a ^= c;
                }
                a
            })
            .iter()
            .fold(0u64, |a, &b| a ^ u64::from(b))
    };
    // The destination is rewritten with its own bytes (the xor of a value
    // that is zero, but the compiler cannot know it).
    let part = |t: usize, dest: &mut [u8]| {
        let cut = |len: usize| (len * t / threads)..(len * (t + 1) / threads);
        let (ci, cs) = (cut(idx.len() / 64), cut(src.len() / 64));
        let h = fold(&idx[ci.start * 64..ci.end * 64]) ^ fold(&src[cs.start * 64..cs.end * 64]);
        let z = black_box(0u32);
        let words: &mut [u32] = bytemuck::cast_slice_mut(dest);
        words.iter_mut().for_each(|w| *w ^= z);
        h
    };
    if threads == 1 {
        return part(0, dest);
    }
    use rayon::prelude::*;
    let per = dest.len().div_ceil(threads).next_multiple_of(64);
    dest.par_chunks_mut(per)
        .enumerate()
        .map(|(t, d)| part(t, d))
        .reduce(|| 0, |a, b| a ^ b)
}

/// Times `call` `iters` times, each after an untimed reset of `dest` from `saved`.
fn timed_after_reset(
    iters: u64,
    dest: &mut [f32],
    saved: &[f32],
    mut call: impl FnMut(&mut [f32]),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        dest.copy_from_slice(saved);
        let t = Instant::now();
        call(dest);
        total += t.elapsed();
    }
    total
}

fn run_case(c: &mut Criterion, case: &Case, pools: &[(usize, rayon::ThreadPool)]) {
    let (n, e, w) = (case.nodes, case.edges, case.width);
    let [si, ss, sd] = case.seeds;
    let idx = destinations(si, e, n, case.sorted);
    let src = floats(ss, e * w);
    let saved = floats(sd, n * w);
    let sv = TensorView::new(&src, &[e, w]).unwrap();
    let iv1 = TensorView::new(&idx, &[e]).unwrap();
    let ivc = TensorView::new(&idx, &[e, 1]).unwrap();
    let iv = ivc.expand(&[e, w]).unwrap();
    let opts = GatherOptions::new();
    let fast = |dest: &mut Tensor<f32>| {
        let mut dv = dest.view_mut();
        match case.reduce {
            None => index_add_into_with(&mut dv, 0, &iv1, &sv, 1.0, &opts),
            Some(r) => scatter_reduce_into_with(&mut dv, 0, &iv, &sv, r, true, &opts),
        }
        .unwrap()
    };

    // The check, before any timing: every thread count against the plain loop.
    let mut want = saved.clone();
    plain(case, &idx, &src, &mut want);
    let want_bits: &[u8] = bytemuck::cast_slice(&want);
    let mut dest = Tensor::from_vec(saved.clone(), &[n, w]).unwrap();
    for (threads, pool) in pools {
        dest.as_mut_slice().copy_from_slice(&saved);
        pool.install(|| fast(&mut dest));
        let got: &[u8] = bytemuck::cast_slice(dest.as_slice());
        assert!(
            got == want_bits,
            "{} at {threads} thread(s): not bit-identical to the plain sequential loop",
            case.name
        );
    }
    eprintln!(
        "{}: fastgather at {} thread(s) bit-identical to the plain sequential loop",
        case.name,
        pools
            .iter()
            .map(|(t, _)| t.to_string())
            .collect::<Vec<_>>()
            .join(" and ")
    );

    let idx_bytes: &[u8] = bytemuck::cast_slice(&idx);
    let src_bytes: &[u8] = bytemuck::cast_slice(&src);
    let bytes = idx_bytes.len() + src_bytes.len() + 2 * n * w * 4;
    let mut scratch = saved.clone();
    for (threads, pool) in pools {
        let threads = *threads;
        let mut group = c.benchmark_group(format!("{}-t{threads}", case.name));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(3));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function("fastgather", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    dest.as_mut_slice().copy_from_slice(&saved);
                    total += pool.install(|| {
                        let t = Instant::now();
                        fast(&mut dest);
                        t.elapsed()
                    });
                }
                total
            })
        });
        group.bench_function("stream", |b| {
            b.iter_custom(|iters| {
                pool.install(|| {
                    timed_after_reset(iters, &mut scratch, &saved, |d| {
                        black_box(stream(
                            idx_bytes,
                            src_bytes,
                            bytemuck::cast_slice_mut(d),
                            threads,
                        ));
                    })
                })
            })
        });
        if threads == 1 {
            group.bench_function("plain-loop", |b| {
                b.iter_custom(|iters| {
                    timed_after_reset(iters, &mut scratch, &saved, |d| {
                        plain(case, &idx, &src, black_box(d))
                    })
                })
            });
            group.bench_function("reset", |b| {
                b.iter(|| {
                    scratch.copy_from_slice(&saved);
                    black_box(scratch[0])
                })
            });
        }
        group.finish();
    }
}

fn scatter_cases(c: &mut Criterion) {
    let graph = |name, reduce, sorted| Case {
        name,
        reduce: Some(reduce),
        sorted,
        nodes: 100_000,
        edges: 1_000_000,
        width: 64,
        seeds: [1, 2, 3],
    };
    let cases = [
        graph("sr_sum_random", Reduction::Sum, false),
        graph("sr_mean_random", Reduction::Mean, false),
        graph("sr_amax_random", Reduction::Amax, false),
        graph("sr_sum_sorted", Reduction::Sum, true),
        Case {
            name: "index_add",
            reduce: None,
            sorted: false,
            nodes: 10_000,
            edges: 100_000,
            width: 128,
            seeds: [11, 12, 13],
        },
    ];
    let pools = pools();
    for case in cases.iter().filter(|case| wanted(case.name)) {
        run_case(c, case, &pools);
    }
}

criterion_group!(benches, scatter_cases);
criterion_main!(benches);
