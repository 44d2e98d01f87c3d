//! Column gathers (`InnerRun` with a random index) side by side with a plain
//! safe loop of the same picks and a stream over the same bytes, at one and
//! two threads: `cargo run --release --example columns [case-filter]
//! [--drivers] [--isas]`.
//!
//! Each case gathers `src [b, s, k]` along dim 1 by `idx [b, j, k]`; the
//! source block one output block picks from is `s × k` elements. Prints the
//! median ns per output element of each engine, the plain loop over
//! fastgather, and fastgather's share of the stream bound (one pass reading
//! the index and as many source bytes as output bytes, writing the output).
//! `--drivers` adds every driver the dispatch table could run, forced, and
//! `--isas` every instruction-set path. Engines run in a fresh random order
//! each round (`ROUNDS`, default 5), each sample after one untimed call;
//! `ONLY=<label>` times one engine and `INNER=<calls>` fixes the calls per
//! sample (for instruction counts under callgrind).

use fastgather::{
    Driver, Element, GatherOptions, Isa, Tensor, TensorView, explain, gather_into_with,
};
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The yardstick: `out[b][j][k] = src[b][idx[b][j][k]][k]`, slice-indexed
/// (every index checked by the slice), rows split over `threads` of the
/// current rayon pool.
fn plain_loop<T: Copy + Send + Sync>(
    src: &[T],
    idx: &[i64],
    out: &mut [T],
    [b, s, j, k]: [usize; 4],
    threads: usize,
) {
    let one = |src: &[T], idx: &[i64], out: &mut [T]| {
        for (o, i) in out.chunks_exact_mut(k).zip(idx.chunks_exact(k)) {
            for (kk, (o, &v)) in o.iter_mut().zip(i).enumerate() {
                *o = src[v as usize * k + kk];
            }
        }
    };
    if threads == 1 {
        for ((sb, ib), ob) in src
            .chunks_exact(s * k)
            .zip(idx.chunks_exact(j * k))
            .zip(out.chunks_exact_mut(j * k))
        {
            one(sb, ib, ob);
        }
        return;
    }
    // Rows of `k` split over the pool's threads (the caller installs it).
    use rayon::prelude::*;
    let per = (b * j).div_ceil(threads) * k;
    out.par_chunks_mut(per)
        .zip(idx.par_chunks(per))
        .enumerate()
        .for_each(|(c, (o, ix))| {
            let first = c * per / k;
            for (t, (o, ix)) in o.chunks_exact_mut(k).zip(ix.chunks_exact(k)).enumerate() {
                let block = &src[(first + t) / j * s * k..][..s * k];
                one(block, ix, o);
            }
        });
}

/// One pass over the bytes a gather must move: reads `idx` and `src`,
/// writes `out` (from `src`, so the writes are not a fill), on `threads`.
fn stream(idx: &[u8], src: &[u8], out: &mut [u8], threads: usize) -> u64 {
    let fold = |bytes: &[u8]| {
        bytes
            .chunks_exact(8)
            .fold(0u64, |a, c| a ^ u64::from_ne_bytes(c.try_into().unwrap()))
    };
    let part = |t: usize, out: &mut [u8]| {
        let cut = |len: usize| (len * t / threads)..(len * (t + 1) / threads);
        let (ri, rs) = (cut(idx.len()), cut(src.len()));
        let h = fold(&idx[ri]) ^ fold(&src[rs.clone()]);
        let from = &src[rs.start..];
        for (o, f) in out
            .chunks_mut(from.len().max(1))
            .zip(std::iter::repeat(from))
        {
            o.copy_from_slice(&f[..o.len()]);
        }
        h
    };
    if threads == 1 {
        return part(0, out);
    }
    use rayon::prelude::*;
    let per = out.len().div_ceil(threads);
    out.par_chunks_mut(per)
        .enumerate()
        .map(|(t, o)| part(t, o))
        .reduce(|| 0, |a, b| a ^ b)
}

struct Shape {
    name: &'static str,
    /// `[b, s, j, k]`: source `[b, s, k]`, index `[b, j, k]`.
    dims: [usize; 4],
}

fn case<T: Element + Default + From<u16> + bytemuck::Pod>(
    shape: &Shape,
    (drivers, isas, rounds): (bool, bool, usize),
    rng: &mut Rng,
) {
    let [b, s, j, k] = shape.dims;
    let w = size_of::<T>();
    let src: Vec<T> = (0..b * s * k).map(|v| T::from(v as u16)).collect();
    let idx: Vec<i64> = (0..b * j * k).map(|_| rng.below(s) as i64).collect();
    let sv = TensorView::new(&src, &[b, s, k]).unwrap();
    let iv = TensorView::new(&idx, &[b, j, k]).unwrap();
    let n = b * j * k;
    // As in the benchmark suite: the source counts up to the output's bytes
    // (a sparse gather need not read every source line).
    let src_read = (b * s * k).min(n) * w;
    let bytes = n * (8 + w) + src_read;
    let default = explain(&sv, 1, &iv, &GatherOptions::new())
        .unwrap()
        .unwrap();
    println!(
        "{} {:?} [{b}, {s}, {k}] by [{b}, {j}, {k}]: block {} KiB, {:.2} picks per block element; default {} / {:?}",
        shape.name,
        std::any::type_name::<T>(),
        (s * k * w) >> 10,
        j as f64 / s as f64,
        default.kernel,
        default.driver,
    );
    let mut forced: Vec<(String, GatherOptions)> =
        vec![("fastgather".into(), GatherOptions::new())];
    if drivers {
        for d in [Driver::Plain, Driver::ColumnTiles, Driver::PackedColumns] {
            let opts = GatherOptions::new().driver(d);
            if explain(&sv, 1, &iv, &opts).is_ok() {
                forced.push((format!("{d:?}"), opts));
            }
        }
    }
    if isas {
        for isa in Isa::available() {
            forced.push((format!("{isa:?}"), GatherOptions::new().isa(isa)));
        }
    }
    let mut outs: Vec<Tensor<T>> = (0..forced.len() * 2 + 4)
        .map(|_| Tensor::full(&[b, j, k], T::default()).unwrap())
        .collect();
    let idx_bytes: &[u8] = bytemuck::cast_slice(&idx);
    let src_bytes: &[u8] = &bytemuck::cast_slice(&src)[..src_read];
    let mut engines: Vec<Box<dyn FnMut() + Send + '_>> = Vec::new();
    let mut labels = Vec::new();
    let mut it = outs.iter_mut();
    for threads in [1usize, 2] {
        for (label, opts) in &forced {
            let out = it.next().unwrap();
            let opts = if threads == 1 {
                opts.clone().sequential()
            } else {
                opts.clone()
            };
            let (sv, iv) = (&sv, &iv);
            labels.push((format!("{label} x{threads}"), threads));
            engines.push(Box::new(move || {
                gather_into_with(sv, 1, iv, &mut out.view_mut(), &opts).unwrap();
            }));
        }
        let out = it.next().unwrap();
        let (src, idx) = (&src, &idx);
        labels.push((format!("plain loop x{threads}"), threads));
        engines.push(Box::new(move || {
            plain_loop(src, idx, out.as_mut_slice(), [b, s, j, k], threads)
        }));
        let out = it.next().unwrap();
        labels.push((format!("stream x{threads}"), threads));
        engines.push(Box::new(move || {
            std::hint::black_box(stream(
                idx_bytes,
                src_bytes,
                bytemuck::cast_slice_mut(out.as_mut_slice()),
                threads,
            ));
        }));
    }
    // Two threads for the pool-run engines.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let t = Instant::now();
    engines[0]();
    let once = t.elapsed().as_secs_f64();
    let inner = std::env::var("INNER").map_or(((0.01 / once) as usize).clamp(1, 200), |v| {
        v.parse().expect("INNER")
    });
    // `ONLY=label` times that engine alone (for instruction counts).
    let only = std::env::var("ONLY").ok();
    let skip = |l: &str| only.as_ref().is_some_and(|o| !l.starts_with(o.as_str()));
    let mut times = vec![Vec::new(); engines.len()];
    pool.install(|| {
        // Each round runs the engines in a fresh random order, so no engine
        // always follows the same one (a 1-thread stream before a 2-thread
        // engine leaves its pool's second thread asleep and the caches cold).
        let count = engines.len();
        let mut order: Vec<usize> = (0..count).collect();
        for _ in 0..rounds {
            for k in (1..count).rev() {
                order.swap(k, rng.below(k + 1));
            }
            for &e in &order {
                if skip(&labels[e].0) {
                    times[e].push(f64::NAN);
                    continue;
                }
                // One untimed call warms this engine's own data.
                engines[e]();
                let start = Instant::now();
                for _ in 0..inner {
                    engines[e]();
                }
                times[e].push(start.elapsed().as_secs_f64() / inner as f64);
            }
        }
    });
    drop(engines);
    let times: Vec<f64> = times.into_iter().map(median).collect();
    for threads in [1usize, 2] {
        let pick = |name: &str| {
            labels
                .iter()
                .zip(&times)
                .find(|((l, t), _)| *t == threads && l.starts_with(name))
                .map(|(_, &t)| t)
                .unwrap()
        };
        let (fg, plain, stream) = (pick("fastgather"), pick("plain"), pick("stream"));
        for ((label, t), time) in labels.iter().zip(&times) {
            if *t == threads {
                println!(
                    "  {label:<20} {:>8.3} ns/elem {:>9.3} ms",
                    time * 1e9 / n as f64,
                    time * 1e3
                );
            }
        }
        println!(
            "  x{threads}: plain/fastgather {:.2}, fastgather at {:.0}% of the stream bound ({:.1} GB/s)",
            plain / fg,
            100.0 * stream / fg,
            bytes as f64 / stream / 1e9
        );
    }
    let first = bytemuck::cast_slice::<T, u8>(outs[0].as_slice()).to_vec();
    for (o, (l, _)) in outs
        .iter()
        .zip(&labels)
        .filter(|(_, (l, _))| !l.starts_with("stream") && !skip(l))
    {
        assert!(
            bytemuck::cast_slice::<T, u8>(o.as_slice()) == first,
            "{l} differs"
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let rounds = std::env::var("ROUNDS").map_or(5, |r| r.parse().expect("ROUNDS"));
    let how = (flag("--drivers"), flag("--isas"), rounds);
    let filter = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_default();
    let mut rng = Rng(7);
    // (name, f32?, [b, s, j, k]): from L1-resident blocks to blocks past L3,
    // dense picks (j ≥ s/4) and sparse.
    let cases: [(Shape, bool); 15] = [
        // Hot: index, source and output together fit in L2 or L3, so the
        // kernels' own work decides.
        (
            Shape {
                name: "hot_16k",
                dims: [4, 64, 64, 64],
            },
            true,
        ),
        (
            Shape {
                name: "hot_96k",
                dims: [8, 384, 96, 64],
            },
            true,
        ),
        (
            Shape {
                name: "hot_f64_256k",
                dims: [2, 1024, 512, 32],
            },
            false,
        ),
        (
            Shape {
                name: "l1_dense",
                dims: [1024, 64, 64, 64],
            },
            true,
        ),
        (
            Shape {
                name: "l1_sparse",
                dims: [1024, 64, 8, 64],
            },
            true,
        ),
        (
            Shape {
                name: "issue_f32_96k",
                dims: [128, 384, 96, 64],
            },
            true,
        ),
        (
            Shape {
                name: "l2_dense",
                dims: [64, 512, 512, 64],
            },
            true,
        ),
        (
            Shape {
                name: "l2_sparse",
                dims: [256, 512, 16, 64],
            },
            true,
        ),
        (
            Shape {
                name: "issue_f64_256k",
                dims: [16, 1024, 512, 32],
            },
            false,
        ),
        (
            Shape {
                name: "issue_f64_512k",
                dims: [32, 256, 64, 256],
            },
            false,
        ),
        (
            Shape {
                name: "l2_wide",
                dims: [32, 64, 64, 2048],
            },
            true,
        ),
        (
            Shape {
                name: "l3_dense",
                dims: [4, 4096, 4096, 256],
            },
            true,
        ),
        (
            Shape {
                name: "l3_sparse",
                dims: [16, 4096, 128, 256],
            },
            true,
        ),
        (
            Shape {
                name: "dim0_random",
                dims: [1, 2048, 2048, 2048],
            },
            true,
        ),
        (
            Shape {
                name: "past_l3",
                dims: [1, 16384, 1024, 1024],
            },
            true,
        ),
    ];
    for (shape, f32) in &cases {
        if !shape.name.contains(&filter) {
            continue;
        }
        if *f32 {
            case::<f32>(shape, how, &mut rng);
        } else {
            case::<f64>(shape, how, &mut rng);
        }
    }
}
