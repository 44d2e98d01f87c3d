//! Embedding bags and lookups (issue 17), at one and two threads:
//! `cargo run --release --example embedding_bags --features half`
//! (without `half` the `bf16` cases are left out).
//!
//! Cases (index `i64`):
//! - `rec_uniform_{sum,mean}`, `rec_zipf_{sum,mean}`: `embedding_bag` of a
//!   table `[1_000_000, 128]` `f32`, 2048 bags of 40 ids each (offsets
//!   `0, 40, ..`); ids uniform over the rows, or Zipf-distributed
//!   (`s = 1.05`) over ranks that a shuffle spreads over the rows, so the hot
//!   rows are scattered through the table.
//! - `rec_*_bf16`: the same ids on the same table in `bf16` (`--features
//!   half`).
//! - `small_{sum,mean}`: a table `[100_000, 64]` `f32`, 4096 bags of 80
//!   uniform ids.
//! - `lm_lookup`: `embedding` of ids `[8, 2048]` (uniform) in a table
//!   `[128_000, 4096]` `bf16` (1 GiB; `--features half`).
//!
//! Engines, each at one thread (`GatherOptions::new().sequential()`) and two
//! (default options in a rayon pool of two):
//! - `fastgather`: the `_into` form into a reused output.
//! - `bound`: the random-row bound, a plain copy of the same rows in id order
//!   (`copy_from_slice` of each picked row into a reused buffer of
//!   `ids x row` elements; at two threads each thread copies half of the ids).
//!   It reads what the kernel must read, and writes every row, which a bag
//!   does not.
//!
//! A sample is the mean of `calls` back-to-back calls (`calls` chosen from a
//! warm call so that a sample takes about 50 ms); each round runs the engines
//! in a fresh random order; figures are medians over `ROUNDS` (default 5)
//! rounds. Each case's result is checked once against a naive loop (sums in
//! `f32` in id order, rounded once; a mean divides the rounded sum by the
//! count in the element type) bit for bit, at one and at two threads.
//!
//! The ids and offsets are written to `$EMBBENCH_DIR` (default
//! `/tmp/embbench`) as little-endian `i64` (`<data>.ids`, `<data>.offsets`)
//! for `benches/compare_torch_embedding.py`, which times torch on them.
//!
//! Prints a markdown table: median ms of each engine, the bound's median and
//! the share `bound ms / fastgather ms`. Knobs: `ROUNDS`,
//! `ONLY=<word>[,<word>]` (cases whose name contains one of the words),
//! `ENGINES=<prefix>[,..]` (time those engines only, e.g. `fastgather` under
//! callgrind), `CALLS` (calls per sample, instead of the calibration).

use fastgather::{
    BagMode, Bags, GatherOptions, Reduce, Tensor, TensorView, embedding_bag_into_with,
    embedding_into_with,
};
use rayon::prelude::*;
use std::time::Instant;

/// xorshift64 (13, 7, 17).
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// In `[0, 1)`, 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// In `[-1, 1)`, a multiple of 2⁻²³.
    fn float(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// `n` ids uniform over `rows`.
fn uniform_ids(seed: u64, n: usize, rows: usize) -> Vec<i64> {
    let mut g = XorShift(seed);
    (0..n).map(|_| g.below(rows) as i64).collect()
}

/// `n` ids whose ranks follow Zipf(`s`) over `rows` (rank `k` drawn with
/// weight `k^-s`, by the inverse of the cumulative weights), each rank sent to
/// a row by a shuffle of the rows.
fn zipf_ids(seed: u64, n: usize, rows: usize, s: f64) -> Vec<i64> {
    let mut g = XorShift(seed);
    let mut cum = Vec::with_capacity(rows);
    let mut total = 0.0f64;
    for k in 1..=rows {
        total += (k as f64).powf(-s);
        cum.push(total);
    }
    let mut row_of: Vec<i64> = (0..rows as i64).collect();
    for k in (1..rows).rev() {
        row_of.swap(k, g.below(k + 1));
    }
    (0..n)
        .map(|_| {
            let u = g.unit() * total;
            let rank = cum.partition_point(|&c| c <= u).min(rows - 1);
            row_of[rank]
        })
        .collect()
}

fn floats(seed: u64, n: usize) -> Vec<f32> {
    let mut g = XorShift(seed);
    (0..n).map(|_| g.float()).collect()
}

fn dump(dir: &str, name: &str, ids: &[i64], offsets: &[i64]) {
    std::fs::create_dir_all(dir).expect("EMBBENCH_DIR");
    let write = |ext: &str, v: &[i64]| {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(format!("{dir}/{name}.{ext}"), bytes).expect("write ids");
    };
    write("ids", ids);
    write("offsets", offsets);
}

/// The element types, for the naive loop.
trait El: Reduce + Send + Sync + PartialEq + std::fmt::Debug {
    fn to32(self) -> f32;
    fn of32(x: f32) -> Self;
    /// A bag's sum rounded as torch's FBGEMM rounds it.
    fn sum_of32(x: f32) -> Self {
        Self::of32(x)
    }
}
impl El for f32 {
    fn to32(self) -> f32 {
        self
    }
    fn of32(x: f32) -> Self {
        x
    }
}
#[cfg(feature = "half")]
impl El for half::bf16 {
    fn to32(self) -> f32 {
        self.to_f32()
    }
    fn of32(x: f32) -> Self {
        half::bf16::from_f32(x)
    }
    /// Ties away from zero: half a `bf16` ulp added to the bits, truncated.
    fn sum_of32(x: f32) -> Self {
        half::bf16::from_bits((x.to_bits().wrapping_add(0x8000) >> 16) as u16)
    }
}

/// The naive loop: each bag summed in `f32` in id order, rounded once (`bf16`
/// ties away from zero, as torch's FBGEMM); a mean divides the rounded sum by
/// the count (exact in both types here).
fn naive_bags<T: El>(table: &[T], d: usize, ids: &[i64], offsets: &[i64], mode: BagMode) -> Vec<T> {
    let mut out = Vec::with_capacity(offsets.len() * d);
    let mut acc = vec![0.0f32; d];
    for (b, &start) in offsets.iter().enumerate() {
        let end = offsets.get(b + 1).map_or(ids.len(), |&e| e as usize);
        acc.fill(0.0);
        for &id in &ids[start as usize..end] {
            let row = &table[id as usize * d..][..d];
            for (a, &x) in acc.iter_mut().zip(row) {
                *a += x.to32();
            }
        }
        let n = (end - start as usize) as f32;
        out.extend(acc.iter().map(|&a| match mode {
            BagMode::Mean => T::of32(T::sum_of32(a).to32() / T::of32(n).to32()),
            _ => T::sum_of32(a),
        }));
    }
    out
}

/// The bound: row `ids[p]` copied to row `p` of `buf`, in order; at two
/// threads each thread takes half of the ids.
fn copy_rows<T: Copy + Send + Sync>(
    table: &[T],
    d: usize,
    ids: &[i64],
    buf: &mut [T],
    threads: usize,
) {
    let part = |ids: &[i64], buf: &mut [T]| {
        for (&id, dst) in ids.iter().zip(buf.chunks_exact_mut(d)) {
            dst.copy_from_slice(&table[id as usize * d..][..d]);
        }
    };
    if threads == 1 {
        return part(ids, buf);
    }
    let per = ids.len().div_ceil(threads);
    buf.par_chunks_mut(per * d)
        .zip(ids.par_chunks(per))
        .for_each(|(b, i)| part(i, b));
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Bench<'a> {
    rounds: usize,
    engines_only: &'a [String],
    calls: Option<usize>,
    shuffle: XorShift,
}

type Engine<'a> = Box<dyn FnMut() + 'a>;

impl Bench<'_> {
    /// Times the engines (labelled `(name, threads)`), prints the case's rows.
    fn time(
        &mut self,
        case: &str,
        engines: Vec<((&str, usize), Engine<'_>)>,
        bytes: usize,
        naive_ms: f64,
    ) {
        let (labels, mut engines): (Vec<_>, Vec<_>) = engines.into_iter().unzip();
        let skip = |l: &str| {
            !self.engines_only.is_empty() && !self.engines_only.iter().any(|o| l.starts_with(o))
        };
        // Calibration: one warm call, then one timed.
        let calls: Vec<usize> = engines
            .iter_mut()
            .zip(&labels)
            .map(|(e, (l, _))| {
                if skip(l) {
                    return 0;
                }
                e();
                let t = Instant::now();
                e();
                let dt = t.elapsed().as_secs_f64();
                self.calls
                    .unwrap_or(((0.05 / dt).ceil() as usize).clamp(1, 200))
            })
            .collect();
        let mut times = vec![Vec::new(); engines.len()];
        let mut order: Vec<usize> = (0..engines.len()).collect();
        for _ in 0..self.rounds {
            for k in (1..order.len()).rev() {
                order.swap(k, self.shuffle.below(k + 1));
            }
            for &x in &order {
                if calls[x] == 0 {
                    times[x].push(f64::NAN);
                    continue;
                }
                let t = Instant::now();
                for _ in 0..calls[x] {
                    engines[x]();
                }
                times[x].push(t.elapsed().as_secs_f64() / calls[x] as f64);
            }
        }
        let times: Vec<f64> = times.into_iter().map(median).collect();
        let pick = |name: &str, threads: usize| {
            labels
                .iter()
                .zip(&times)
                .find(|((l, t), _)| *t == threads && *l == name)
                .map_or(f64::NAN, |(_, &t)| t * 1e3)
        };
        for threads in [1usize, 2] {
            let (fg, bound) = (pick("fastgather", threads), pick("bound", threads));
            let k = labels
                .iter()
                .position(|&l| l == ("fastgather", threads))
                .unwrap();
            println!(
                "| {case:<18} | {threads} | fastgather | {fg:8.3} | {bound:8.3} | {:5.0}% | {naive_ms:8.2} | {} | {:.1} |",
                100.0 * bound / fg,
                calls[k],
                bytes as f64 / bound / 1e6,
            );
        }
    }
}

/// The bag cases of one table and one set of bags: each mode, both thread
/// counts, checked against the naive loop.
fn bag_cases<T: El>(
    bench: &mut Bench<'_>,
    pool2: &rayon::ThreadPool,
    name: &str,
    table: &[T],
    d: usize,
    (ids, offsets): (&[i64], &[i64]),
    modes: &[BagMode],
) {
    let rows = table.len() / d;
    let wv = TensorView::new(table, &[rows, d]).unwrap();
    let iv = TensorView::new(ids, &[ids.len()]).unwrap();
    let ov = TensorView::new(offsets, &[offsets.len()]).unwrap();
    let seq = GatherOptions::new().sequential();
    let par = GatherOptions::new();
    let mut buf = vec![T::zeroed(); ids.len() * d];
    let mut buf2 = vec![T::zeroed(); ids.len() * d];
    for &mode in modes {
        let case = format!("{name}_{mode}");
        let bags = Bags::with_offsets(&iv, &ov).mode(mode);
        let mut out1 = Tensor::<T>::zeros(&[offsets.len(), d]).unwrap();
        let mut out2 = Tensor::<T>::zeros(&[offsets.len(), d]).unwrap();
        // The check: one call each, against the naive loop.
        let t = Instant::now();
        let want = naive_bags(table, d, ids, offsets, mode);
        let naive_ms = t.elapsed().as_secs_f64() * 1e3;
        embedding_bag_into_with(&wv, &bags, &mut out1.view_mut(), &seq).unwrap();
        pool2
            .install(|| embedding_bag_into_with(&wv, &bags, &mut out2.view_mut(), &par))
            .unwrap();
        let bits = |v: &[T]| -> Vec<u8> { bytemuck::cast_slice(v).to_vec() };
        let same12 = bits(out1.as_slice()) == bits(out2.as_slice());
        let naive = bits(out1.as_slice()) == bits(&want);
        let differ = out1
            .as_slice()
            .iter()
            .zip(&want)
            .filter(|(a, b)| bytemuck::bytes_of(*a) != bytemuck::bytes_of(*b))
            .count();
        eprintln!(
            "{case}: 1 and 2 threads {}; naive loop {}",
            if same12 { "bit-identical" } else { "DIFFER" },
            if naive {
                "bit-identical".to_string()
            } else {
                format!("DIFFERS in {differ} of {} elements", want.len())
            }
        );
        assert!(same12, "{case}: 1 and 2 threads differ");
        let (wv, bags, seq, par) = (&wv, &bags, &seq, &par);
        let (buf, buf2) = (&mut buf, &mut buf2);
        let engines: Vec<((&str, usize), Engine<'_>)> = vec![
            (
                ("fastgather", 1),
                Box::new(move || {
                    embedding_bag_into_with(wv, bags, &mut out1.view_mut(), seq).unwrap()
                }),
            ),
            (
                ("fastgather", 2),
                Box::new(move || {
                    pool2
                        .install(|| embedding_bag_into_with(wv, bags, &mut out2.view_mut(), par))
                        .unwrap()
                }),
            ),
            (
                ("bound", 1),
                Box::new(move || {
                    copy_rows(table, d, ids, buf, 1);
                    std::hint::black_box(&buf);
                }),
            ),
            (
                ("bound", 2),
                Box::new(move || {
                    pool2.install(|| copy_rows(table, d, ids, buf2, 2));
                    std::hint::black_box(&buf2);
                }),
            ),
        ];
        let bytes = ids.len() * d * size_of::<T>();
        bench.time(&case, engines, bytes, naive_ms);
    }
}

#[cfg_attr(not(feature = "half"), allow(dead_code))]
/// `embedding` of `ids` in `table`, both thread counts, checked against the
/// plain copy.
fn lookup_case<T: El>(
    bench: &mut Bench<'_>,
    pool2: &rayon::ThreadPool,
    case: &str,
    table: &[T],
    d: usize,
    ids: &[i64],
    shape: &[usize],
) {
    let rows = table.len() / d;
    let wv = TensorView::new(table, &[rows, d]).unwrap();
    let iv = TensorView::new(ids, shape).unwrap();
    let mut out_shape = shape.to_vec();
    out_shape.push(d);
    let seq = GatherOptions::new().sequential();
    let par = GatherOptions::new();
    let mut out1 = Tensor::<T>::zeros(&out_shape).unwrap();
    let mut out2 = Tensor::<T>::zeros(&out_shape).unwrap();
    let mut buf = vec![T::zeroed(); ids.len() * d];
    let mut buf2 = vec![T::zeroed(); ids.len() * d];
    let t = Instant::now();
    copy_rows(table, d, ids, &mut buf, 1);
    let naive_ms = t.elapsed().as_secs_f64() * 1e3;
    embedding_into_with(&wv, &iv, &mut out1.view_mut(), &seq).unwrap();
    pool2
        .install(|| embedding_into_with(&wv, &iv, &mut out2.view_mut(), &par))
        .unwrap();
    let bits = |v: &[T]| -> Vec<u8> { bytemuck::cast_slice(v).to_vec() };
    let (same12, naive) = (
        bits(out1.as_slice()) == bits(out2.as_slice()),
        bits(out1.as_slice()) == bits(&buf),
    );
    eprintln!(
        "{case}: 1 and 2 threads {}; naive loop {}",
        if same12 { "bit-identical" } else { "DIFFER" },
        if naive { "bit-identical" } else { "DIFFERS" },
    );
    assert!(same12 && naive, "{case}: results differ");
    let (wv, iv, seq, par) = (&wv, &iv, &seq, &par);
    let (buf, buf2) = (&mut buf, &mut buf2);
    let engines: Vec<((&str, usize), Engine<'_>)> = vec![
        (
            ("fastgather", 1),
            Box::new(move || embedding_into_with(wv, iv, &mut out1.view_mut(), seq).unwrap()),
        ),
        (
            ("fastgather", 2),
            Box::new(move || {
                pool2
                    .install(|| embedding_into_with(wv, iv, &mut out2.view_mut(), par))
                    .unwrap()
            }),
        ),
        (
            ("bound", 1),
            Box::new(move || {
                copy_rows(table, d, ids, buf, 1);
                std::hint::black_box(&buf);
            }),
        ),
        (
            ("bound", 2),
            Box::new(move || {
                pool2.install(|| copy_rows(table, d, ids, buf2, 2));
                std::hint::black_box(&buf2);
            }),
        ),
    ];
    bench.time(case, engines, ids.len() * d * size_of::<T>(), naive_ms);
}

/// Bags of `len` ids each: offsets `0, len, ..`.
fn offsets(bags: usize, len: usize) -> Vec<i64> {
    (0..bags).map(|b| (b * len) as i64).collect()
}

fn main() {
    let rounds = std::env::var("ROUNDS").map_or(5, |r| r.parse().expect("ROUNDS"));
    let calls = std::env::var("CALLS")
        .ok()
        .map(|c| c.parse().expect("CALLS"));
    let dir = std::env::var("EMBBENCH_DIR").unwrap_or_else(|_| "/tmp/embbench".into());
    let words = |var: &str| -> Vec<String> {
        std::env::var(var)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (only, engines_only) = (words("ONLY"), words("ENGINES"));
    let wanted = |case: &str| only.is_empty() || only.iter().any(|o| case.contains(o.as_str()));
    let pool2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut bench = Bench {
        rounds,
        engines_only: &engines_only,
        calls,
        shuffle: XorShift(7),
    };
    println!("fastgather, medians of {rounds} rounds; % of bound = bound ms / fastgather ms");
    println!(
        "| case | threads | engine | ms | bound ms | % of bound | naive x1 ms | calls | bound GB/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let modes = [BagMode::Sum, BagMode::Mean];
    // The recommendation tables: 2048 bags of 40.
    let (rows, d, bags, len) = (1_000_000, 128, 2048, 40);
    let rec_uniform = uniform_ids(1, bags * len, rows);
    let rec_zipf = zipf_ids(2, bags * len, rows, 1.05);
    let rec_offsets = offsets(bags, len);
    dump(&dir, "rec_uniform", &rec_uniform, &rec_offsets);
    dump(&dir, "rec_zipf", &rec_zipf, &rec_offsets);
    let rec = [("rec_uniform", &rec_uniform), ("rec_zipf", &rec_zipf)];
    if rec.iter().any(|(n, _)| {
        modes
            .iter()
            .any(|m| wanted(&format!("{n}_{m}")) || wanted(&format!("{n}_bf16_{m}")))
    }) {
        let table = floats(5, rows * d);
        for (name, ids) in rec {
            let modes: Vec<BagMode> = modes
                .into_iter()
                .filter(|m| wanted(&format!("{name}_{m}")))
                .collect();
            bag_cases(
                &mut bench,
                &pool2,
                name,
                &table,
                d,
                (ids, &rec_offsets),
                &modes,
            );
        }
        #[cfg(feature = "half")]
        {
            let table: Vec<half::bf16> = table.iter().map(|&x| half::bf16::from_f32(x)).collect();
            for (name, ids) in rec {
                let name = format!("{name}_bf16");
                let modes: Vec<BagMode> = modes
                    .into_iter()
                    .filter(|m| wanted(&format!("{name}_{m}")))
                    .collect();
                bag_cases(
                    &mut bench,
                    &pool2,
                    &name,
                    &table,
                    d,
                    (ids, &rec_offsets),
                    &modes,
                );
            }
        }
    }
    // The small table: 4096 bags of 80.
    let (rows, d, bags, len) = (100_000, 64, 4096, 80);
    let small = uniform_ids(3, bags * len, rows);
    let small_offsets = offsets(bags, len);
    dump(&dir, "small", &small, &small_offsets);
    if modes.iter().any(|m| wanted(&format!("small_{m}"))) {
        let table = floats(6, rows * d);
        let modes: Vec<BagMode> = modes
            .into_iter()
            .filter(|m| wanted(&format!("small_{m}")))
            .collect();
        bag_cases(
            &mut bench,
            &pool2,
            "small",
            &table,
            d,
            (&small, &small_offsets),
            &modes,
        );
    }
    // The language-model lookup: [8, 2048] ids in a [128_000, 4096] bf16 table.
    let (rows, d) = (128_000, 4096);
    let lm = uniform_ids(4, 8 * 2048, rows);
    dump(&dir, "lm", &lm, &[]);
    #[cfg(feature = "half")]
    if wanted("lm_lookup") {
        let mut g = XorShift(8);
        let table: Vec<half::bf16> = (0..rows * d)
            .map(|_| half::bf16::from_f32(g.float()))
            .collect();
        lookup_case(&mut bench, &pool2, "lm_lookup", &table, d, &lm, &[8, 2048]);
    }
    #[cfg(not(feature = "half"))]
    let _ = (rows, d);
}
