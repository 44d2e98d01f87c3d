//! The scatter family on graph-shaped data (issue 16), at one and two threads:
//! `cargo run --release --example scatter_graph`.
//!
//! Cases (all `f32`, index `i64`):
//! - `<reduce>_<order>`: `scatter_reduce_` of edge features `src [E, 64]`
//!   along dim 0 into node features `dest [N, 64]`, `E = 1_000_000`,
//!   `N = 100_000`, by a 1-d index of destinations `[E]` viewed as `[E, 1]`
//!   and expanded to `[E, 64]` (torch: `idx.view(-1, 1).expand(E, 64)`);
//!   reduce `sum`, `mean`, `amax` with `include_self = true`, `mean` also
//!   with `include_self = false` (`meanx`); destinations random or sorted.
//! - `index_add`: `index_add_` of `source [100_000, 128]` into
//!   `dest [10_000, 128]` along dim 0 by a random 1-d index
//!   (`index_add_into_with`).
//!
//! Engines, each at one thread (in a one-thread rayon pool) and two (in a
//! two-thread pool):
//! - `fastgather`: the `_into` form into a reused destination. Each call is
//!   preceded by an untimed reset of the destination from a saved copy (so the
//!   destination starts the timed call as warm as the reset leaves it, as in
//!   `benches/compare_torch_scatter.py`); the reset is timed on its own as the
//!   `reset` engine and is not part of any other engine's figure.
//! - `stream`: the streaming bound, one pass over the bytes the operation must
//!   move: reads the 1-d index and the source, reads and writes the
//!   destination (after the same untimed reset).
//! - `plain`: a plain safe sequential loop, `for e: dest[idx[e]] ⊕= src[e]`
//!   row by row, at one thread (the correctness reference, timed too).
//!
//! Every engine's final destination must be bit-identical to the plain loop's
//! (so one and two threads agree). Inputs come from a counter-based splitmix64
//! that `benches/compare_torch_scatter.py` reproduces, so torch sees the same
//! numbers.
//!
//! Prints a markdown table per thread count: median ms of each engine and the
//! share of the stream bound (`stream ms / engine ms`). Knobs: `ROUNDS`
//! (default 5; each round runs the engines in a fresh random order, each timed
//! call after one untimed warm call), `ONLY=<case>[,<case>]` (cases whose name
//! contains one of the words), `ENGINES=<prefix>[,..]` (time those engines
//! only, e.g. `fastgather` under callgrind).

use fastgather::{
    GatherOptions, Reduction, Tensor, TensorView, index_add_into_with, scatter_reduce_into_with,
};
use std::time::Instant;

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draw `i` of stream `seed`: `mix(seed + (i + 1)·φ)` (what the Python side
/// computes with numpy).
fn draw(seed: u64, i: usize) -> u64 {
    mix(seed.wrapping_add((i as u64 + 1).wrapping_mul(GOLDEN)))
}

/// `n` floats in `[-1, 1)`, multiples of 2⁻²³ (exact in both languages).
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

/// The engines' shuffle.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(GOLDEN);
        (mix(self.0) % n as u64) as usize
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    /// `None`: `index_add` (a sum).
    reduce: Option<Reduction>,
    include_self: bool,
    sorted: bool,
    /// Destination rows, index length (source rows), row width.
    nodes: usize,
    edges: usize,
    width: usize,
    /// Seeds of the index, the source and the destination.
    seeds: [u64; 3],
}

/// The reference: `dest[idx[e]] ⊕= src[e]` row by row, in index order, with
/// torch's rules for the start (`include_self = false`) and the mean's count.
fn plain(case: &Case, idx: &[i64], src: &[f32], dest: &mut [f32]) {
    let w = case.width;
    let reduce = case.reduce.unwrap_or(Reduction::Sum);
    let rows = idx.iter().zip(src.chunks_exact(w));
    if !case.include_self {
        let start = match reduce {
            Reduction::Sum | Reduction::Mean => 0.0,
            Reduction::Prod => 1.0,
            Reduction::Amax => f32::NEG_INFINITY,
            Reduction::Amin => f32::INFINITY,
        };
        for &i in idx {
            dest[i as usize * w..][..w].fill(start);
        }
    }
    let mut counts = vec![if case.include_self { 1.0f32 } else { 0.0 }; case.nodes];
    for (&i, s) in rows {
        let d = &mut dest[i as usize * w..][..w];
        counts[i as usize] += 1.0;
        for (d, &s) in d.iter_mut().zip(s) {
            *d = match reduce {
                Reduction::Sum | Reduction::Mean => *d + s,
                Reduction::Prod => *d * s,
                Reduction::Amax if s.is_nan() || *d < s => s,
                Reduction::Amin if s.is_nan() || s < *d => s,
                Reduction::Amax | Reduction::Amin => *d,
            };
        }
    }
    if reduce == Reduction::Mean {
        let untouched = if case.include_self { 1.0 } else { 0.0 };
        for (d, &c) in dest.chunks_exact_mut(w).zip(&counts) {
            if c != untouched && c != 0.0 {
                d.iter_mut().for_each(|x| *x /= c);
            }
        }
    }
}

/// One pass over the bytes: reads the index and the source, reads and
/// writes the destination in place, on `threads` of the current pool.
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
        let z = std::hint::black_box(0u32);
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

type Timed<'a> = Box<dyn FnMut() -> f64 + 'a>;

fn run_case(case: &Case, rounds: usize, engines_only: &[String], rng: &mut Rng) {
    let (n, e, w) = (case.nodes, case.edges, case.width);
    let [si, ss, sd] = case.seeds;
    let idx = destinations(si, e, n, case.sorted);
    let src = floats(ss, e * w);
    let saved = floats(sd, n * w);
    let iv1 = TensorView::new(&idx, &[e, 1]).unwrap();
    let iv = iv1.expand(&[e, w]).unwrap();
    let sv = TensorView::new(&src, &[e, w]).unwrap();
    let line = TensorView::new(&idx, &[e]).unwrap();
    let idx_bytes: &[u8] = bytemuck::cast_slice(&idx);
    let src_bytes: &[u8] = bytemuck::cast_slice(&src);
    let bytes = idx_bytes.len() + src_bytes.len() + 2 * n * w * 4;
    let pools: Vec<rayon::ThreadPool> = [1, 2]
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        })
        .collect();
    // Destinations: fastgather x1, x2, stream x1, x2, plain, reset.
    let mut dests: Vec<Tensor<f32>> = (0..6)
        .map(|_| Tensor::from_vec(saved.clone(), &[n, w]).unwrap())
        .collect();
    let mut labels: Vec<(String, usize)> = Vec::new();
    let mut engines: Vec<Timed<'_>> = Vec::new();
    let mut it = dests.iter_mut();
    let opts = GatherOptions::new();
    for (threads, pool) in [1usize, 2].into_iter().zip(&pools) {
        let d = it.next().unwrap();
        let (iv, sv, saved, opts, line) = (&iv, &sv, &saved, &opts, &line);
        labels.push(("fastgather".into(), threads));
        engines.push(Box::new(move || {
            d.as_mut_slice().copy_from_slice(saved);
            pool.install(|| {
                let t = Instant::now();
                let mut dv = d.view_mut();
                match case.reduce {
                    None => index_add_into_with(&mut dv, 0, line, sv, 1.0, opts),
                    Some(r) => {
                        scatter_reduce_into_with(&mut dv, 0, iv, sv, r, case.include_self, opts)
                    }
                }
                .unwrap();
                t.elapsed().as_secs_f64()
            })
        }));
    }
    for (threads, pool) in [1usize, 2].into_iter().zip(&pools) {
        let d = it.next().unwrap();
        let saved = &saved;
        labels.push(("stream".into(), threads));
        engines.push(Box::new(move || {
            d.as_mut_slice().copy_from_slice(saved);
            pool.install(|| {
                let t = Instant::now();
                let dest = bytemuck::cast_slice_mut(d.as_mut_slice());
                std::hint::black_box(stream(idx_bytes, src_bytes, dest, threads));
                t.elapsed().as_secs_f64()
            })
        }));
    }
    {
        let d = it.next().unwrap();
        let (idx, src, saved) = (&idx, &src, &saved);
        labels.push(("plain".into(), 1));
        engines.push(Box::new(move || {
            d.as_mut_slice().copy_from_slice(saved);
            let t = Instant::now();
            plain(case, idx, src, d.as_mut_slice());
            t.elapsed().as_secs_f64()
        }));
        let d = it.next().unwrap();
        labels.push(("reset".into(), 1));
        engines.push(Box::new(move || {
            let t = Instant::now();
            d.as_mut_slice().copy_from_slice(saved);
            std::hint::black_box(d.as_slice()[0]);
            t.elapsed().as_secs_f64()
        }));
    }
    let skip = |l: &str| !engines_only.is_empty() && !engines_only.iter().any(|o| l.starts_with(o));
    let mut times = vec![Vec::new(); engines.len()];
    let count = engines.len();
    let mut order: Vec<usize> = (0..count).collect();
    for _ in 0..rounds {
        for k in (1..count).rev() {
            order.swap(k, rng.below(k + 1));
        }
        for &x in &order {
            if skip(&labels[x].0) {
                times[x].push(f64::NAN);
                continue;
            }
            engines[x]();
            times[x].push(engines[x]());
        }
    }
    drop(engines);
    let times: Vec<f64> = times.into_iter().map(median).collect();
    let pick = |name: &str, threads: usize| {
        labels
            .iter()
            .zip(&times)
            .find(|((l, t), _)| *t == threads && l == name)
            .map_or(f64::NAN, |(_, &t)| t * 1e3)
    };
    // The plain loop's result (recomputed if it was skipped) is the reference.
    let mut reference = saved.clone();
    plain(case, &idx, &src, &mut reference);
    let want: &[u8] = bytemuck::cast_slice(&reference);
    let mut agree = Vec::new();
    for (dest, (label, threads)) in dests.iter().zip(&labels) {
        if label == "fastgather" && !skip(label) {
            let got: &[u8] = bytemuck::cast_slice(dest.as_slice());
            assert!(
                got == want,
                "{} x{threads}: differs from the plain loop",
                case.name
            );
            agree.push(format!("x{threads}"));
        }
    }
    let reset = pick("reset", 1);
    for threads in [1usize, 2] {
        let (fg, st) = (pick("fastgather", threads), pick("stream", threads));
        println!(
            "| {:<12} | {threads} | fastgather | {fg:9.2} | {st:8.2} | {:5.0}% | {:8.2} | {reset:6.2} | {:.1} |",
            case.name,
            100.0 * st / fg,
            pick("plain", 1),
            bytes as f64 / st / 1e6,
        );
    }
    if !agree.is_empty() {
        eprintln!(
            "{}: fastgather {} bit-identical to the plain sequential loop",
            case.name,
            agree.join(", ")
        );
    }
}

fn main() {
    let rounds = std::env::var("ROUNDS").map_or(5, |r| r.parse().expect("ROUNDS"));
    let words = |var: &str| -> Vec<String> {
        std::env::var(var)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (only, engines_only) = (words("ONLY"), words("ENGINES"));
    let graph = |name, reduce, include_self, sorted| Case {
        name,
        reduce: Some(reduce),
        include_self,
        sorted,
        nodes: 100_000,
        edges: 1_000_000,
        width: 64,
        seeds: [1, 2, 3],
    };
    use Reduction::{Amax, Mean, Sum};
    let cases = [
        graph("sum_random", Sum, true, false),
        graph("sum_sorted", Sum, true, true),
        graph("mean_random", Mean, true, false),
        graph("mean_sorted", Mean, true, true),
        graph("meanx_random", Mean, false, false),
        graph("meanx_sorted", Mean, false, true),
        graph("amax_random", Amax, true, false),
        graph("amax_sorted", Amax, true, true),
        Case {
            name: "index_add",
            reduce: None,
            include_self: true,
            sorted: false,
            nodes: 10_000,
            edges: 100_000,
            width: 128,
            seeds: [11, 12, 13],
        },
    ];
    println!("fastgather, medians of {rounds} rounds; % of stream = stream ms / engine ms");
    println!(
        "| case | threads | engine | ms | stream ms | % of stream | plain x1 ms | reset ms | stream GB/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut rng = Rng(7);
    for case in &cases {
        if !only.is_empty() && !only.iter().any(|o| case.name.contains(o.as_str())) {
            continue;
        }
        run_case(case, rounds, &engines_only, &mut rng);
    }
}
