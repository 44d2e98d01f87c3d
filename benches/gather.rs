//! The benchmark suite of `/work/shared/BENCH-CASES.md`, plus one case per layout
//! class the dispatcher distinguishes.
//!
//! Every case runs at 1 thread and at all threads, in one criterion group per
//! (case, thread count) named `<case>-t<threads>`. The engines of a group are
//! measured side by side in the same run, so every figure can be read as a ratio:
//!
//! * `fastgather`: `gather_into_with` into a preallocated output, default options,
//!   inside a rayon pool of that many threads;
//! * `fastgather-<isa>`: the same on one forced instruction-set path (`last_perm` only);
//! * `stream`: the streaming bound of BENCH-CASES.md (see [`stream`]);
//! * `memcpy`: a copy of the output's bytes, split over the same threads;
//! * `plain-loop`: the same picks in plain safe code, on the pick cases
//!   (`ce_pick`, `last_topk`) and the column gathers (`dim0_random`, `col_*`);
//! * `reference`: `fastgather::reference::gather`, in the 1-thread group only (it is
//!   single-threaded), and only where one call takes under a second.
//!
//! Every engine of a group reports the same `Throughput::Bytes` (index bytes +
//! output bytes + min(source bytes, output bytes)), so higher GiB/s is faster.
//! Before any timing, each fastgather configuration's output is checked against the
//! reference, or, for cases too large for it, against 1000 positions computed by hand.
//!
//! `FASTGATHER_BENCH_CASES=last_perm,ce_pick cargo bench` runs only the named cases
//! (a criterion filter would still build and check every case).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytemuck::Pod;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use fastgather::{
    GatherOptions, IndexElem, Isa, LayoutClass, Tensor, TensorView, TensorViewMut, explain_into,
    gather_into_with, reference,
};
use rayon::ThreadPool;
use rayon::prelude::*;

/// Fixed seed for every random buffer: runs are comparable across commits.
const SEED: u64 = 0x5EED_6A7E_2024_0001;
/// Up to this many output elements, the check runs the whole reference gather.
const FULL_CHECK_MAX: usize = 1 << 22;
/// Positions checked by hand when the reference would be too slow.
const SPOT_CHECKS: usize = 1000;
/// The reference engine is timed only if one call took less than this.
const REFERENCE_MAX: Duration = Duration::from_secs(1);

/// The splitmix64 generator: tiny, fast, and good enough for benchmark data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` by multiply-shift (bias ~ n / 2^64, nothing at these sizes).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Memory for a case's large buffers: the heap by default (4 KiB pages), or,
/// with `FASTGATHER_BENCH_HUGEPAGES=1` on Linux, an anonymous mapping advised
/// for transparent huge pages. numpy advises huge pages for its large arrays, so
/// a peer timed on numpy-backed tensors sees fewer TLB misses on random-access
/// cases; this puts fastgather on the same footing (`compare_torch.py
/// --hugepages` is the matching peer run).
enum Buf<T> {
    Heap(Vec<T>),
    #[cfg(target_os = "linux")]
    Huge(memmap2::MmapMut, std::marker::PhantomData<T>),
}

fn hugepages() -> bool {
    std::env::var("FASTGATHER_BENCH_HUGEPAGES").is_ok_and(|v| v == "1")
}

impl<T: Pod> Buf<T> {
    /// `v`'s elements, moved to huge-page memory when asked for.
    fn place(v: Vec<T>) -> Self {
        #[cfg(target_os = "linux")]
        if hugepages() && !v.is_empty() {
            let mut map = memmap2::MmapMut::map_anon(size_of_val(&v[..])).expect("anonymous map");
            map.advise(memmap2::Advice::HugePage)
                .expect("madvise(MADV_HUGEPAGE)");
            bytemuck::cast_slice_mut::<u8, T>(&mut map).copy_from_slice(&v);
            return Buf::Huge(map, std::marker::PhantomData);
        }
        Buf::Heap(v)
    }
}

impl<T: Pod> std::ops::Deref for Buf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Buf::Heap(v) => v,
            #[cfg(target_os = "linux")]
            Buf::Huge(m, _) => bytemuck::cast_slice(m),
        }
    }
}

impl<T: Pod> std::ops::DerefMut for Buf<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Buf::Heap(v) => v,
            #[cfg(target_os = "linux")]
            Buf::Huge(m, _) => bytemuck::cast_slice_mut(m),
        }
    }
}

/// `n` elements of random bytes (any bit pattern: gather copies bits, and the
/// checks compare bytes, so NaNs are harmless).
fn random_elems<T: Pod>(n: usize, rng: &mut SplitMix64) -> Buf<T> {
    let mut v = vec![T::zeroed(); n];
    for chunk in bytemuck::cast_slice_mut::<T, u8>(&mut v).chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes()[..chunk.len()]);
    }
    Buf::place(v)
}

/// `n` index values uniform in `0..bound`.
fn random_index<I: IndexElem + Pod>(n: usize, bound: usize, rng: &mut SplitMix64) -> Buf<I> {
    Buf::place(
        (0..n)
            .map(|_| I::from_i64_wrapping(rng.below(bound) as i64))
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// The streaming bound and memcpy engines.
// ---------------------------------------------------------------------------

/// Output bytes one streaming block covers; its index share is folded first.
const STREAM_BLOCK: usize = 16 << 10;
/// Smallest share of output bytes worth a thread of its own.
const STREAM_GRAIN: usize = 64 << 10;

/// Splits `len` bytes into at most `threads` chunks of at least [`STREAM_GRAIN`]
/// bytes (cache-line multiples); returns the chunk length.
fn chunk_len(len: usize, threads: usize) -> usize {
    let chunks = threads.min(len.div_ceil(STREAM_GRAIN)).max(1);
    len.div_ceil(chunks).next_multiple_of(64).max(64)
}

/// The streaming bound: one fused pass over the output, split over the current
/// pool's threads, that reads each of `idx`'s bytes once in memory order, reads
/// `src` (already cut to min(source bytes, output bytes)) sequentially, and writes
/// every output byte once, as `src ^ h` with `h` folded from the index bytes of
/// the same share of the pass, so no read can be optimized away.
fn stream(idx: &[u8], src: &[u8], out: &mut [u8]) {
    let total = out.len();
    let per = chunk_len(total, rayon::current_num_threads());
    if per >= total {
        stream_range(idx, src, out, 0, total);
    } else {
        out.par_chunks_mut(per)
            .enumerate()
            .for_each(|(c, o)| stream_range(idx, src, o, c * per, total));
    }
}

/// The part of [`stream`] for output bytes `start..start + out.len()` of `total`.
fn stream_range(idx: &[u8], src: &[u8], out: &mut [u8], start: usize, total: usize) {
    // The index bytes that belong to output byte `p`'s share of the pass.
    let share = |p: usize| (idx.len() as u128 * p as u128 / total as u128) as usize;
    for (b, o) in out.chunks_mut(STREAM_BLOCK).enumerate() {
        let x = start + b * STREAM_BLOCK;
        let y = x + o.len();
        let h = fold(&idx[share(x)..share(y)]);
        xor_copy(o, &src[x.min(src.len())..y.min(src.len())], h);
    }
}

/// A 64-bit digest of `bytes` that depends on all of them.
fn fold(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    let mut acc = words.fold(0x243F_6A88_85A3_08D3_u64, |a, w| {
        a.wrapping_add(u64::from_ne_bytes(w.try_into().unwrap()))
    });
    for &b in tail {
        acc = acc.rotate_left(8) ^ u64::from(b);
    }
    acc
}

/// `out[..src.len()] = src ^ h` bytewise (by words), the rest of `out` filled from `h`.
fn xor_copy(out: &mut [u8], src: &[u8], h: u64) {
    let (head, rest) = out.split_at_mut(src.len());
    let mut o8 = head.chunks_exact_mut(8);
    let mut s8 = src.chunks_exact(8);
    for (o, s) in (&mut o8).zip(&mut s8) {
        let v = u64::from_ne_bytes(s.try_into().unwrap()) ^ h;
        o.copy_from_slice(&v.to_ne_bytes());
    }
    for (o, s) in o8.into_remainder().iter_mut().zip(s8.remainder()) {
        *o = s ^ h as u8;
    }
    rest.fill(h as u8);
}

/// `dst.copy_from_slice(src)`, split over the current pool's threads like [`stream`].
fn memcpy(src: &[u8], dst: &mut [u8]) {
    let per = chunk_len(dst.len(), rayon::current_num_threads());
    if per >= dst.len() {
        dst.copy_from_slice(src);
    } else {
        dst.par_chunks_mut(per)
            .zip(src.par_chunks(per))
            .for_each(|(d, s)| d.copy_from_slice(s));
    }
}

/// The yardstick the issue sets for latency-bound picks: a plain loop of
/// independent loads, eight per step, in safe code (every index checked
/// against its row), rows split over the current pool's threads. `src` is
/// `[rows, cols]`, `idx` and `out` are `[rows, K]`, all contiguous.
fn plain_picks<T: Pod + Send + Sync, I: IndexElem, const K: usize>(
    src: &[T],
    cols: usize,
    idx: &[I],
    out: &mut [T],
) {
    let rows = out.len() / K;
    let per = rows.div_ceil(rayon::current_num_threads()).max(1) * K;
    out.par_chunks_mut(per)
        .zip(idx.par_chunks(per))
        .enumerate()
        .for_each(|(c, (o, ix))| {
            let first = c * per;
            for (b, (o8, i8)) in o.chunks_mut(8).zip(ix.chunks(8)).enumerate() {
                let mut at = [0usize; 8];
                for (t, (a, v)) in at.iter_mut().zip(i8).enumerate() {
                    let (row, j) = ((first + b * 8 + t) / K, v.to_i64() as usize);
                    assert!(j < cols, "index {j} out of range");
                    *a = row * cols + j;
                }
                for (o, &a) in o8.iter_mut().zip(&at) {
                    *o = src[a];
                }
            }
        });
}

/// The yardstick of column gathers (`InnerRun` with a random index): the
/// plain loop `out[b][j][k] = src[b][idx[b][j][k]][k]` in safe code (every
/// pick slice-indexed), rows of `k` split over the current pool's threads.
/// `src` is `[b, s, k]`, `idx` and `out` are `[b, j, k]`, all contiguous.
fn plain_columns<T: Pod + Send + Sync, I: IndexElem>(
    src: &[T],
    [s, j, k]: [usize; 3],
    idx: &[I],
    out: &mut [T],
) {
    let rows = out.len() / k;
    let per = rows.div_ceil(rayon::current_num_threads()).max(1) * k;
    out.par_chunks_mut(per)
        .zip(idx.par_chunks(per))
        .enumerate()
        .for_each(|(c, (o, ix))| {
            let first = c * per / k;
            for (t, (o, ix)) in o.chunks_exact_mut(k).zip(ix.chunks_exact(k)).enumerate() {
                let block = &src[(first + t) / j * s * k..][..s * k];
                for (kk, (o, v)) in o.iter_mut().zip(ix).enumerate() {
                    *o = block[v.to_i64() as usize * k + kk];
                }
            }
        });
}

// ---------------------------------------------------------------------------
// Checking outputs.
// ---------------------------------------------------------------------------

/// Asserts that `out` (contiguous, the index's shape) is the gather of `src`
/// along `dim` by `idx`: bytewise equal to `expected` when given, else at
/// [`SPOT_CHECKS`] random positions computed by hand from the views.
fn check<T: Pod, I: IndexElem>(
    what: &str,
    src: &TensorView<'_, T>,
    dim: usize,
    idx: &TensorView<'_, I>,
    out: &[T],
    expected: Option<&Tensor<T>>,
) {
    assert_eq!(out.len(), idx.len(), "{what}: output length");
    if let Some(e) = expected {
        let same =
            bytemuck::cast_slice::<T, u8>(out) == bytemuck::cast_slice::<T, u8>(e.as_slice());
        assert!(
            same,
            "{what}: output differs from fastgather::reference::gather"
        );
        return;
    }
    let mut rng = SplitMix64(SEED ^ 0xC0FF_EE00);
    let shape = idx.shape();
    for _ in 0..SPOT_CHECKS {
        let linear = rng.below(out.len());
        let mut pos = vec![0; shape.len()];
        let mut rest = linear;
        for k in (0..shape.len()).rev() {
            pos[k] = rest % shape[k];
            rest /= shape[k];
        }
        let v = idx.get(&pos).expect("position in the index").to_i64();
        let mut at = pos.clone();
        at[dim] = usize::try_from(v).expect("index values are in range");
        let want = src.get(&at).expect("position in the source");
        assert!(
            bytemuck::bytes_of(want) == bytemuck::bytes_of(&out[linear]),
            "{what}: wrong element at {pos:?} (index value {v})"
        );
    }
}

// ---------------------------------------------------------------------------
// One case.
// ---------------------------------------------------------------------------

/// The rayon pools every case runs in: 1 thread, and all threads (if more than 1).
struct Pools(Vec<(usize, ThreadPool)>);

impl Pools {
    fn new() -> Self {
        let all = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut counts = vec![1];
        if all > 1 {
            counts.push(all);
        }
        Pools(
            counts
                .into_iter()
                .map(|t| {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(t)
                        .build()
                        .expect("rayon pool");
                    (t, pool)
                })
                .collect(),
        )
    }
}

/// Whether `FASTGATHER_BENCH_CASES` (a comma-separated list) selects `name`.
fn selected(name: &str) -> bool {
    match std::env::var("FASTGATHER_BENCH_CASES") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|c| c.trim() == name),
        _ => true,
    }
}

/// Short lowercase name of a path, for engine names (`fastgather-avx512`).
fn isa_name(isa: Isa) -> String {
    format!("{isa:?}").to_lowercase()
}

/// One benchmark case: its views, the dim, and what to expect of it.
struct Case<'a, T, I> {
    name: &'a str,
    src: TensorView<'a, T>,
    dim: usize,
    idx: TensorView<'a, I>,
    /// The layout class the case is meant to exercise (a mismatch is reported).
    class: LayoutClass,
    /// Add one `fastgather-<isa>` engine per available path.
    per_isa: bool,
    /// Write a 2-d output through a transposed view of its buffer.
    out_transposed: bool,
    /// Add the `plain-loop` engine ([`plain_picks`]; 2-d contiguous picks
    /// along dim 1, 1 or 16 per row).
    plain: bool,
}

/// The output view of a case: the buffer in row-major order, or (2-d) its
/// transpose.
fn out_view<'a, T>(buf: &'a mut [T], shape: &[usize], transposed: bool) -> TensorViewMut<'a, T> {
    if !transposed {
        return TensorViewMut::new(buf, shape).expect("out view");
    }
    TensorViewMut::new(buf, &[shape[1], shape[0]])
        .and_then(|v| v.transpose(0, 1))
        .expect("transposed out view")
}

/// The output in row-major order of its shape, whichever way it was written.
fn row_major<T: Pod>(buf: &[T], shape: &[usize], transposed: bool) -> Vec<T> {
    if !transposed {
        return buf.to_vec();
    }
    let (rows, cols) = (shape[0], shape[1]);
    (0..rows * cols)
        .map(|k| buf[(k % cols) * rows + k / cols])
        .collect()
}

/// Times one engine: `body` runs `iters` times inside `pool`, timed there.
fn time_in(pool: &ThreadPool, iters: u64, mut body: impl FnMut() + Send) -> Duration {
    pool.install(|| {
        let start = Instant::now();
        for _ in 0..iters {
            body();
        }
        start.elapsed()
    })
}

fn run_case<T, I>(c: &mut Criterion, pools: &Pools, case: Case<'_, T, I>)
where
    T: Pod + Send + Sync,
    I: IndexElem + Pod,
{
    let Case {
        name,
        src,
        dim,
        idx,
        class,
        per_isa,
        out_transposed,
        plain,
    } = case;
    let n = idx.len();
    let elem = size_of::<T>();
    let out_bytes = n * elem;
    // A stride-0 expanded index is read through its underlying elements only.
    let idx_bytes: &[u8] = bytemuck::cast_slice(idx.data());
    let src_read = (src.len() * elem).min(out_bytes);
    let src_bytes: &[u8] = &bytemuck::cast_slice(src.data())[..src_read];
    let bytes = (idx_bytes.len() + out_bytes + src_read) as u64;

    let default = GatherOptions::new();
    let mut out = Buf::place(vec![T::zeroed(); n]);
    let explain_as = |opts: &GatherOptions, out: &mut [T]| {
        let ov = out_view(out, idx.shape(), out_transposed);
        explain_into(&src, dim as isize, &idx, &ov, opts)
            .expect("valid case")
            .expect("non-empty case")
    };
    let choice = explain_as(&default, &mut out);
    eprintln!(
        "[{name}] {:?} -> {} on {:?}; {bytes} bytes per call ({} elements of {elem} B)",
        choice.class, choice.kernel, choice.isa, n
    );
    if choice.class != class {
        eprintln!("[{name}] note: the case was written for class {class:?}");
    }
    let isas: Vec<Isa> = if per_isa {
        Isa::available()
    } else {
        Vec::new()
    };
    for &isa in &isas {
        let ch = explain_as(&GatherOptions::new().isa(isa), &mut out);
        eprintln!("[{name}]   forced {isa:?}: {} on {:?}", ch.kernel, ch.isa);
    }

    // The oracle, once: for the full check, and to see whether it is cheap enough
    // to be an engine (cases past FULL_CHECK_MAX would take well over a second).
    let (expected, ref_time) = if n <= FULL_CHECK_MAX {
        let t = Instant::now();
        let e = reference::gather(&src, dim as isize, &idx).expect("reference");
        (Some(e), Some(t.elapsed()))
    } else {
        (None, None)
    };
    let time_reference = ref_time.is_some_and(|t| t < REFERENCE_MAX);
    match ref_time {
        Some(t) if time_reference => eprintln!("[{name}] reference: {t:.2?} per call"),
        Some(t) => eprintln!("[{name}] reference: {t:.2?} per call, too slow to time"),
        None => eprintln!("[{name}] reference: skipped (too large), spot-checking instead"),
    }

    let mut scratch = vec![0u8; out_bytes];
    let copy_src: Buf<u8> = random_elems(out_bytes, &mut SplitMix64(SEED ^ 0x3E3C));
    let large = bytes >= 16 << 20;
    let cols = src.shape().last().copied().unwrap_or(1);
    type Plain<'f, T, I> = Box<dyn Fn(&[T], &[I], &mut [T]) + Send + Sync + 'f>;
    let plain: Option<Plain<'_, T, I>> = match (idx.shape(), src.shape(), dim) {
        _ if !plain => None,
        ([_, 1], _, 1) => Some(Box::new(move |s, i, o| {
            plain_picks::<T, I, 1>(s, cols, i, o)
        })),
        ([_, 16], _, 1) => Some(Box::new(move |s, i, o| {
            plain_picks::<T, I, 16>(s, cols, i, o)
        })),
        (&[j, k], &[s, _], 0) | (&[_, j, k], &[_, s, _], 1) => {
            Some(Box::new(move |sr, i, o| plain_columns(sr, [s, j, k], i, o)))
        }
        _ => None,
    };

    for (threads, pool) in &pools.0 {
        let mut engines: Vec<(String, GatherOptions)> =
            vec![("fastgather".into(), default.clone())];
        engines.extend(isas.iter().map(|&isa| {
            (
                format!("fastgather-{}", isa_name(isa)),
                GatherOptions::new().isa(isa),
            )
        }));
        for (engine, opts) in &engines {
            out.fill(T::zeroed());
            pool.install(|| {
                let mut ov = out_view(&mut out, idx.shape(), out_transposed);
                gather_into_with(&src, dim as isize, &idx, &mut ov, opts).expect("gather");
            });
            let what = format!("{name} {engine} at {threads} threads");
            let got = row_major(&out, idx.shape(), out_transposed);
            check(&what, &src, dim, &idx, &got, expected.as_ref());
        }
        if let Some(f) = &plain {
            out.fill(T::zeroed());
            pool.install(|| f(src.data(), idx.data(), &mut out));
            let what = format!("{name} plain-loop at {threads} threads");
            check(&what, &src, dim, &idx, &out, expected.as_ref());
        }

        let mut group: BenchmarkGroup<'_, _> = c.benchmark_group(format!("{name}-t{threads}"));
        group.throughput(Throughput::Bytes(bytes));
        group.sample_size(10);
        if large {
            group.warm_up_time(Duration::from_millis(500));
        }
        for (engine, opts) in &engines {
            group.bench_function(engine.as_str(), |b| {
                b.iter_custom(|iters| {
                    let mut ov = out_view(&mut out, idx.shape(), out_transposed);
                    time_in(pool, iters, || {
                        gather_into_with(&src, dim as isize, &idx, black_box(&mut ov), opts)
                            .expect("gather");
                    })
                })
            });
        }
        if let Some(f) = &plain {
            group.bench_function("plain-loop", |b| {
                b.iter_custom(|iters| {
                    time_in(pool, iters, || {
                        f(src.data(), idx.data(), black_box(&mut out));
                    })
                })
            });
        }
        group.bench_function("stream", |b| {
            b.iter_custom(|iters| {
                time_in(pool, iters, || {
                    stream(black_box(idx_bytes), black_box(src_bytes), &mut scratch);
                    black_box(&mut scratch);
                })
            })
        });
        group.bench_function("memcpy", |b| {
            b.iter_custom(|iters| {
                time_in(pool, iters, || {
                    memcpy(black_box(&copy_src), &mut scratch);
                    black_box(&mut scratch);
                })
            })
        });
        // The reference is single-threaded: timed in the 1-thread group only, and
        // only when a call takes under REFERENCE_MAX (else it is skipped, see above).
        if *threads == 1 && time_reference {
            group.bench_function("reference", |b| {
                b.iter_custom(|iters| {
                    time_in(pool, iters, || {
                        black_box(reference::gather(&src, dim as isize, &idx).expect("reference"));
                    })
                })
            });
        }
        group.finish();
    }
}

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

/// A contiguous case: random `T` source of `src_shape`, random `I` index of
/// `idx_shape` in range of `src_shape[dim]`.
fn contiguous_case<T, I>(
    c: &mut Criterion,
    pools: &Pools,
    name: &str,
    src_shape: &[usize],
    dim: usize,
    idx_shape: &[usize],
    class: LayoutClass,
) where
    T: Pod + Send + Sync,
    I: IndexElem + Pod,
{
    if !selected(name) {
        return;
    }
    let mut rng = SplitMix64(SEED);
    let src_data: Buf<T> = random_elems(src_shape.iter().product(), &mut rng);
    let idx_data: Buf<I> = random_index(idx_shape.iter().product(), src_shape[dim], &mut rng);
    let case = Case {
        name,
        src: TensorView::new(&src_data, src_shape).expect("src view"),
        dim,
        idx: TensorView::new(&idx_data, idx_shape).expect("index view"),
        class,
        per_isa: name == "last_perm",
        out_transposed: false,
        plain: matches!(name, "ce_pick" | "last_topk" | "dim0_random") || name.starts_with("col_"),
    };
    run_case(c, pools, case);
}

fn seed_tiny(c: &mut Criterion, pools: &Pools) {
    if !selected("seed_tiny") {
        return;
    }
    let y_hat = [0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5];
    let y = [0i64, 2];
    let case = Case {
        name: "seed_tiny",
        src: TensorView::new(&y_hat, &[2, 3]).expect("src view"),
        dim: 1,
        idx: TensorView::new(&y, &[2, 1]).expect("index view"),
        class: LayoutClass::Pick,
        per_isa: false,
        out_transposed: false,
        plain: false,
    };
    run_case(c, pools, case);
}

/// Index [32,256,1] expanded (stride 0) to [32,256,256] over src [32,1024,256], dim 1.
fn expanded_tokens(c: &mut Criterion, pools: &Pools) {
    let name = "expanded_tokens";
    if !selected(name) {
        return;
    }
    let mut rng = SplitMix64(SEED);
    let src_data: Buf<f32> = random_elems(32 * 1024 * 256, &mut rng);
    let idx_data: Buf<i64> = random_index(32 * 256, 1024, &mut rng);
    let idx = TensorView::new(&idx_data, &[32, 256, 1]).expect("index view");
    let case = Case {
        name,
        src: TensorView::new(&src_data, &[32, 1024, 256]).expect("src view"),
        dim: 1,
        idx: idx.expand(&[32, 256, 256]).expect("expand"),
        class: LayoutClass::ExpandedRuns,
        per_isa: false,
        out_transposed: false,
        plain: false,
    };
    run_case(c, pools, case);
}

/// LastDim with a strided gather dim: a transposed (non-contiguous) src
/// [2048,2048].t() gathered along dim 1, so consecutive index values pick
/// elements 2048 apart (a column gather).
fn last_transposed_src(c: &mut Criterion, pools: &Pools) {
    let name = "last_transposed_src";
    if !selected(name) {
        return;
    }
    let mut rng = SplitMix64(SEED);
    let src_data: Buf<f32> = random_elems(2048 * 2048, &mut rng);
    let idx_data: Buf<i64> = random_index(2048 * 2048, 2048, &mut rng);
    let src = TensorView::new(&src_data, &[2048, 2048]).expect("src view");
    let case = Case {
        name,
        src: src.transpose(0, 1).expect("transpose"),
        dim: 1,
        idx: TensorView::new(&idx_data, &[2048, 2048]).expect("index view"),
        class: LayoutClass::LastDim,
        per_isa: false,
        out_transposed: false,
        plain: false,
    };
    run_case(c, pools, case);
}

/// StridedIndex: a transposed (non-contiguous) index [2048,2048].t() over a
/// contiguous src [2048,2048], dim 1, so the index is read 2048 elements apart
/// along the output row.
fn strided_transposed_idx(c: &mut Criterion, pools: &Pools) {
    let name = "strided_transposed_idx";
    if !selected(name) {
        return;
    }
    let mut rng = SplitMix64(SEED);
    let src_data: Buf<f32> = random_elems(2048 * 2048, &mut rng);
    let idx_data: Buf<i64> = random_index(2048 * 2048, 2048, &mut rng);
    let idx = TensorView::new(&idx_data, &[2048, 2048]).expect("index view");
    let case = Case {
        name,
        src: TensorView::new(&src_data, &[2048, 2048]).expect("src view"),
        dim: 1,
        idx: idx.transpose(0, 1).expect("transpose"),
        class: LayoutClass::StridedIndex,
        per_isa: false,
        out_transposed: false,
        plain: false,
    };
    run_case(c, pools, case);
}

/// General: a [2048,2048] `f32` gather along dim 1 written through a
/// transposed output view (`gather_into`), so each output row is a column
/// of the buffer.
fn general_transposed_out(c: &mut Criterion, pools: &Pools) {
    let name = "general_transposed_out";
    if !selected(name) {
        return;
    }
    let mut rng = SplitMix64(SEED);
    let src_data: Buf<f32> = random_elems(2048 * 2048, &mut rng);
    let idx_data: Buf<i64> = random_index(2048 * 2048, 2048, &mut rng);
    let case = Case {
        name,
        src: TensorView::new(&src_data, &[2048, 2048]).expect("src view"),
        dim: 1,
        idx: TensorView::new(&idx_data, &[2048, 2048]).expect("index view"),
        class: LayoutClass::General,
        per_isa: false,
        out_transposed: true,
        plain: false,
    };
    run_case(c, pools, case);
}

/// LastDim with 8-byte elements on a sliced source: f64 [2048,4096][:, 1024..3072],
/// rows 4096 apart, gathered along dim 1.
fn last_sliced_f64(c: &mut Criterion, pools: &Pools) {
    let name = "last_sliced_f64";
    if !selected(name) {
        return;
    }
    let mut rng = SplitMix64(SEED);
    let src_data: Buf<f64> = random_elems(2048 * 4096, &mut rng);
    let idx_data: Buf<i64> = random_index(2048 * 2048, 2048, &mut rng);
    let src = TensorView::new(&src_data, &[2048, 4096]).expect("src view");
    let case = Case {
        name,
        src: src.slice(1, 1024, 3072, 1).expect("slice"),
        dim: 1,
        idx: TensorView::new(&idx_data, &[2048, 2048]).expect("index view"),
        class: LayoutClass::LastDim,
        per_isa: false,
        out_transposed: false,
        plain: false,
    };
    run_case(c, pools, case);
}

fn benches(c: &mut Criterion) {
    let pools = Pools::new();
    eprintln!(
        "fastgather benches: threads {:?}, best path {:?}, available {:?}",
        pools.0.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        Isa::best(),
        Isa::available()
    );
    use LayoutClass::{InnerRun, LastDim, Pick};

    // BENCH-CASES.md, in its order.
    seed_tiny(c, &pools);
    contiguous_case::<f32, i64>(c, &pools, "ce_pick", &[65536, 1000], 1, &[65536, 1], Pick);
    contiguous_case::<f32, i64>(
        c,
        &pools,
        "last_perm",
        &[2048, 2048],
        1,
        &[2048, 2048],
        LastDim,
    );
    contiguous_case::<f32, i32>(
        c,
        &pools,
        "last_perm_i32",
        &[2048, 2048],
        1,
        &[2048, 2048],
        LastDim,
    );
    contiguous_case::<f32, i64>(
        c,
        &pools,
        "last_topk",
        &[8192, 1024],
        1,
        &[8192, 16],
        LastDim,
    );
    contiguous_case::<f32, i64>(
        c,
        &pools,
        "dim0_random",
        &[2048, 2048],
        0,
        &[2048, 2048],
        InnerRun,
    );
    expanded_tokens(c, &pools);
    contiguous_case::<u8, i64>(
        c,
        &pools,
        "u8_last",
        &[4096, 4096],
        1,
        &[4096, 1024],
        LastDim,
    );
    // f16 without the `half` feature: `u16` has the same 2 bytes, and gather only
    // moves bytes, so the kernels and figures are those of `half::f16`.
    contiguous_case::<u16, i64>(
        c,
        &pools,
        "f16_last",
        &[4096, 4096],
        1,
        &[4096, 4096],
        LastDim,
    );

    // One more case per layout class and element width the dispatcher tells apart.
    last_transposed_src(c, &pools);
    strided_transposed_idx(c, &pools);
    general_transposed_out(c, &pools);
    // InnerRun, 8-byte elements: a middle dim of a 3-D tensor.
    contiguous_case::<f64, i64>(
        c,
        &pools,
        "mid3d_f64",
        &[64, 512, 128],
        1,
        &[64, 256, 128],
        InnerRun,
    );
    last_sliced_f64(c, &pools);
    column_gathers(c, &pools);
    // LastDim, 16-byte elements.
    contiguous_case::<[u64; 2], i64>(
        c,
        &pools,
        "last_16b",
        &[1024, 2048],
        1,
        &[1024, 1024],
        LastDim,
    );
}

/// Column gathers (`InnerRun`, random index along a middle dim): source
/// blocks from L1-sized to past L3, dense picks (index rows ≥ a quarter of the
/// block's rows) and sparse ones, each beside the plain loop.
fn column_gathers(c: &mut Criterion, pools: &Pools) {
    // (name, [b, s, j, k]): source [b, s, k], index [b, j, k], dim 1.
    let f32_cases: [(&str, [usize; 4]); 6] = [
        ("col_16k_dense", [1024, 64, 64, 64]),
        ("col_96k_quarter", [128, 384, 96, 64]),
        ("col_128k_sparse", [256, 512, 16, 64]),
        ("col_4m_dense", [4, 4096, 4096, 256]),
        ("col_4m_sparse", [16, 4096, 128, 256]),
        ("col_64m_sparse", [1, 16384, 1024, 1024]),
    ];
    for (name, [b, s, j, k]) in f32_cases {
        contiguous_case::<f32, i64>(
            c,
            pools,
            name,
            &[b, s, k],
            1,
            &[b, j, k],
            LayoutClass::InnerRun,
        );
    }
    let f64_cases: [(&str, [usize; 4]); 2] = [
        ("col_f64_256k_half", [16, 1024, 512, 32]),
        ("col_f64_512k_quarter", [32, 256, 64, 256]),
    ];
    for (name, [b, s, j, k]) in f64_cases {
        contiguous_case::<f64, i64>(
            c,
            pools,
            name,
            &[b, s, k],
            1,
            &[b, j, k],
            LayoutClass::InnerRun,
        );
    }
}

criterion_group! {
    name = gather;
    config = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    targets = benches
}
criterion_main!(gather);
