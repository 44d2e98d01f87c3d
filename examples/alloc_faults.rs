//! Allocating calls against their `_into` forms (issue 17): what a fresh
//! output costs beyond the kernel that fills it.
//!
//! ```sh
//! cargo run --release --example alloc_faults            # both cases
//! cargo run --release --example alloc_faults -- gather  # one case (gather,
//!                                                       # ce_bwd, emb, emb_bwd)
//! ```
//!
//! Cases: `gather` of an f32 `[4096, 16384]` source by a random
//! `[4096, 16384]` index along dim 1 (a 256 MiB output), and the cross-entropy
//! backward of f32 `[8192, 8192]` logits (a 256 MiB gradient), `embedding`
//! of `[8, 2048]` ids from an f32 `[32_000, 4096]` table (a 256 MiB output),
//! and `embedding_backward` of those ids into a `[32_000, 2048]` f32 table
//! gradient (a 250 MiB output: the allocating form's fresh zeros are the
//! gradient's start). Each is timed
//! one thread (`GatherOptions::sequential()` for `gather`, a one-thread rayon
//! pool for the loss, which has no such option) and on every core (the
//! defaults). A timed allocating call includes dropping its result, as a loop
//! that makes one output per step pays for both; the `_into` form writes into
//! one buffer reused across calls. The two forms take turns, [`RUNS`] timed
//! calls each after one untimed, and each figure is the median. On Linux the
//! minor page faults per call (from `/proc/self/stat`) follow: a count, so
//! steadier than the times on a busy machine.

use fastgather::loss::{LossOptions, cross_entropy_backward, cross_entropy_backward_into};
use fastgather::{
    GatherOptions, Tensor, TensorView, embedding_backward_into_with, embedding_backward_with,
    embedding_into_with, embedding_with, gather_into_with, gather_with,
};
use std::hint::black_box;
use std::time::Instant;

/// Timed calls of each form.
const RUNS: usize = 7;

/// splitmix64, as in the benches.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((u128::from(z ^ (z >> 31)) * n as u128) >> 64) as usize
    }
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// This process's minor page faults so far (all threads), where Linux says.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (in parentheses); minflt is the 10th field.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(7)?.parse().ok()
}

/// Median milliseconds of `alloc` and `into`, taking turns (one untimed call
/// of each first), their ratio, and each form's minor faults per call.
fn pair(name: &str, mut alloc: impl FnMut(), mut into: impl FnMut()) {
    alloc();
    into();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (mut fa, mut fb) = (0, 0);
    for _ in 0..RUNS {
        let f0 = minor_faults();
        let start = Instant::now();
        alloc();
        a.push(start.elapsed().as_secs_f64() * 1e3);
        let f1 = minor_faults();
        let start = Instant::now();
        into();
        b.push(start.elapsed().as_secs_f64() * 1e3);
        let f2 = minor_faults();
        if let (Some(f0), Some(f1), Some(f2)) = (f0, f1, f2) {
            (fa, fb) = (fa + f1 - f0, fb + f2 - f1);
        }
    }
    let (a, b) = (median(a), median(b));
    let runs = RUNS as u64;
    println!(
        "{name:<16} allocating {a:>7.1} ms   _into {b:>7.1} ms   ratio {:>5.2}   \
         faults/call {:>6} vs {:>3}",
        a / b,
        fa / runs,
        fb / runs
    );
}

fn thp_mode() -> String {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .map_or_else(|_| "unknown".into(), |s| s.trim().to_string())
}

fn main() {
    let only = std::env::args().nth(1);
    let wanted = |case: &str| only.as_deref().is_none_or(|o| o == case);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "threads: 1 and {cores}; transparent huge pages: {}",
        thp_mode()
    );
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut rng = Rng(0x5EED);

    if wanted("gather") {
        let (rows, cols) = (4096, 16384);
        let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
        let idx: Vec<i64> = (0..rows * cols).map(|_| rng.below(cols) as i64).collect();
        let src = TensorView::new(&src, &[rows, cols]).unwrap();
        let idx = TensorView::new(&idx, &[rows, cols]).unwrap();
        let mut out = Tensor::<f32>::zeros(&[rows, cols]).unwrap();
        for (label, opts) in [
            ("gather t1", GatherOptions::new().sequential()),
            ("gather default", GatherOptions::new()),
        ] {
            pair(
                label,
                || drop(black_box(gather_with(&src, 1, &idx, &opts).unwrap())),
                || gather_into_with(&src, 1, &idx, &mut out.view_mut(), &opts).unwrap(),
            );
        }
    }

    if wanted("ce_bwd") {
        let (n, c) = (8192, 8192);
        let logits: Vec<f32> = (0..n * c)
            .map(|_| rng.below(2000) as f32 * 0.01 - 10.0)
            .collect();
        let labels: Vec<i64> = (0..n).map(|_| rng.below(c) as i64).collect();
        let logits = TensorView::new(&logits, &[n, c]).unwrap();
        let labels = TensorView::new(&labels, &[n]).unwrap();
        let g = 1.0f32;
        let g = TensorView::scalar(&g);
        let opts = LossOptions::new();
        let mut grad = Tensor::<f32>::zeros(&[n, c]).unwrap();
        let mut alloc = || {
            drop(black_box(
                cross_entropy_backward(&logits, &labels, &g, &opts).unwrap(),
            ))
        };
        let mut into = || {
            cross_entropy_backward_into(&logits, &labels, &g, &opts, &mut grad.view_mut()).unwrap()
        };
        one.install(|| pair("ce_bwd t1", &mut alloc, &mut into));
        pair("ce_bwd default", &mut alloc, &mut into);
    }

    if wanted("emb") || wanted("emb_bwd") {
        let (vocab, ids_n) = (32_000, 8 * 2048);
        let ids: Vec<i64> = (0..ids_n).map(|_| rng.below(vocab) as i64).collect();
        let ids = TensorView::new(&ids, &[8, 2048]).unwrap();
        if wanted("emb") {
            let d = 4096;
            let table: Vec<f32> = (0..vocab * d).map(|i| (i % 1000) as f32).collect();
            let table = TensorView::new(&table, &[vocab, d]).unwrap();
            let mut out = Tensor::<f32>::zeros(&[8, 2048, d]).unwrap();
            for (label, opts) in [
                ("emb t1", GatherOptions::new().sequential()),
                ("emb default", GatherOptions::new()),
            ] {
                pair(
                    label,
                    || drop(black_box(embedding_with(&table, &ids, &opts).unwrap())),
                    || embedding_into_with(&table, &ids, &mut out.view_mut(), &opts).unwrap(),
                );
            }
        }
        if wanted("emb_bwd") {
            let d = 2048;
            let grad: Vec<f32> = (0..ids_n * d).map(|i| (i % 7) as f32).collect();
            let grad = TensorView::new(&grad, &[8, 2048, d]).unwrap();
            let mut gw = Tensor::<f32>::zeros(&[vocab, d]).unwrap();
            for (label, opts) in [
                ("emb_bwd t1", GatherOptions::new().sequential()),
                ("emb_bwd default", GatherOptions::new()),
            ] {
                pair(
                    label,
                    || {
                        drop(black_box(
                            embedding_backward_with(&grad, &ids, vocab, None, &opts).unwrap(),
                        ))
                    },
                    || {
                        embedding_backward_into_with(&grad, &ids, None, &mut gw.view_mut(), &opts)
                            .unwrap()
                    },
                );
            }
        }
    }
}
