//! Every instruction-set path side by side on the benchmark shapes, one thread
//! and all threads, interleaved so machine noise hits all engines alike:
//! `cargo run --release --example isa_compare [case-filter]`.
//!
//! Prints median milliseconds and GB/s (index + output + min(src, output)
//! bytes, as in the benchmark suite) per path, next to a plain copy of the
//! output bytes.

use fastgather::{GatherOptions, Isa, Tensor, TensorView, explain, gather_into_with};
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

/// Times `engines` round-robin, `reps` rounds; returns each engine's median seconds.
fn race(engines: &mut [Box<dyn FnMut() + '_>], reps: usize) -> Vec<f64> {
    let mut times = vec![Vec::new(); engines.len()];
    for _ in 0..reps {
        for (e, t) in engines.iter_mut().zip(&mut times) {
            let start = Instant::now();
            e();
            t.push(start.elapsed().as_secs_f64());
        }
    }
    times.into_iter().map(median).collect()
}

fn case<T: fastgather::Element + Default, I: fastgather::IndexElem>(
    name: &str,
    src: &TensorView<'_, T>,
    dim: isize,
    idx: &TensorView<'_, I>,
) {
    let n = idx.len();
    let w = size_of::<T>();
    let bytes = (n * (size_of::<I>() + w) + (n * w).min(src.len() * w)) as f64;
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let first = explain(src, dim, idx, &GatherOptions::new())
        .unwrap()
        .unwrap();
    println!(
        "{name}: class {:?}, default kernel {}",
        first.class, first.kernel
    );
    let paths = Isa::available();
    let mut outs: Vec<Tensor<T>> = (0..paths.len() * 2 + 1)
        .map(|_| Tensor::full(idx.shape(), T::default()).unwrap())
        .collect();
    // Real pages: a zeroed allocation would read the shared zero page.
    let copy_src: Vec<T> = (0..n).map(|k| idx_free_copy(src, k)).collect();
    let (copy_out, rest) = outs.split_last_mut().unwrap();
    let mut engines: Vec<Box<dyn FnMut() + '_>> = Vec::new();
    let mut labels = Vec::new();
    for (k, out) in rest.iter_mut().enumerate() {
        let isa = paths[k / 2];
        let all = k % 2 == 1;
        labels.push(format!("{isa:?} x{}", if all { threads } else { 1 }));
        // One thread: `sequential()`, the caller's thread (no pool hand-off).
        let opts = if all {
            GatherOptions::new().isa(isa)
        } else {
            GatherOptions::new().isa(isa).sequential()
        };
        engines.push(Box::new(move || {
            gather_into_with(src, dim, idx, &mut out.view_mut(), &opts).unwrap();
        }));
    }
    labels.push("memcpy of out x1".to_string());
    engines.push(Box::new(|| {
        copy_out.as_mut_slice().copy_from_slice(&copy_src)
    }));
    let reps = if bytes > 1e7 { 15 } else { 101 };
    // Tiny cases: each sample times many calls, so the clock's resolution
    // does not dominate.
    let inner = if bytes < 1e5 { 10_000 } else { 1 };
    let mut engines: Vec<Box<dyn FnMut() + '_>> = engines
        .into_iter()
        .map(|mut e| -> Box<dyn FnMut() + '_> { Box::new(move || (0..inner).for_each(|_| e())) })
        .collect();
    let times: Vec<f64> = race(&mut engines, reps)
        .iter()
        .map(|t| t / inner as f64)
        .collect();
    drop(engines);
    for (label, t) in labels.iter().zip(&times) {
        println!(
            "  {label:<18} {:>12.3} us {:>7.2} GB/s",
            t * 1e6,
            bytes / t / 1e9
        );
    }
    let first = outs[0].as_slice();
    for o in &outs[1..outs.len() - 1] {
        assert!(
            bytemuck::cast_slice::<T, u8>(o.as_slice()) == bytemuck::cast_slice::<T, u8>(first)
        );
    }
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let want = |name: &str| name.contains(&filter);
    let mut rng = Rng(1);
    let mut random =
        |n: usize, bound: usize| -> Vec<i64> { (0..n).map(|_| rng.below(bound) as i64).collect() };
    let f32s = |n: usize| -> Vec<f32> { (0..n).map(|i| i as f32).collect() };
    if want("seed_tiny") {
        let src = [0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5];
        let idx = [0i64, 2];
        case(
            "seed_tiny",
            &TensorView::new(&src, &[2, 3]).unwrap(),
            1,
            &TensorView::new(&idx, &[2, 1]).unwrap(),
        );
    }
    if want("ce_pick") {
        let src = f32s(65536 * 1000);
        let idx = random(65536, 1000);
        case(
            "ce_pick",
            &TensorView::new(&src, &[65536, 1000]).unwrap(),
            1,
            &TensorView::new(&idx, &[65536, 1]).unwrap(),
        );
    }
    let sq = f32s(2048 * 2048);
    let perm = random(2048 * 2048, 2048);
    let sqv = TensorView::new(&sq, &[2048, 2048]).unwrap();
    if want("last_perm") {
        case(
            "last_perm",
            &sqv,
            1,
            &TensorView::new(&perm, &[2048, 2048]).unwrap(),
        );
        let p32: Vec<i32> = perm.iter().map(|&v| v as i32).collect();
        case(
            "last_perm_i32",
            &sqv,
            1,
            &TensorView::new(&p32, &[2048, 2048]).unwrap(),
        );
    }
    if want("dim0_random") {
        case(
            "dim0_random",
            &sqv,
            0,
            &TensorView::new(&perm, &[2048, 2048]).unwrap(),
        );
    }
    if want("transposed_src") {
        case(
            "transposed_src",
            &sqv.transpose(0, 1).unwrap(),
            1,
            &TensorView::new(&perm, &[2048, 2048]).unwrap(),
        );
    }
    if want("transposed_idx") {
        case(
            "transposed_idx",
            &sqv,
            1,
            &TensorView::new(&perm, &[2048, 2048])
                .unwrap()
                .transpose(0, 1)
                .unwrap(),
        );
    }
    if want("last_topk") {
        let src = f32s(8192 * 1024);
        let idx = random(8192 * 16, 1024);
        case(
            "last_topk",
            &TensorView::new(&src, &[8192, 1024]).unwrap(),
            1,
            &TensorView::new(&idx, &[8192, 16]).unwrap(),
        );
    }
    if want("expanded_tokens") {
        let src = f32s(32 * 1024 * 256);
        let idx = random(32 * 256, 1024);
        let iv = TensorView::new(&idx, &[32, 256, 1])
            .unwrap()
            .expand(&[32, 256, 256])
            .unwrap();
        case(
            "expanded_tokens",
            &TensorView::new(&src, &[32, 1024, 256]).unwrap(),
            1,
            &iv,
        );
    }
    if want("u8_last") {
        let src: Vec<u8> = (0..4096 * 4096).map(|i| i as u8).collect();
        let idx = random(4096 * 1024, 4096);
        case(
            "u8_last",
            &TensorView::new(&src, &[4096, 4096]).unwrap(),
            1,
            &TensorView::new(&idx, &[4096, 1024]).unwrap(),
        );
    }
    if want("f16_last") {
        let src: Vec<u16> = (0..4096 * 4096).map(|i| i as u16).collect();
        let idx = random(4096 * 4096, 4096);
        case(
            "f16_last (u16)",
            &TensorView::new(&src, &[4096, 4096]).unwrap(),
            1,
            &TensorView::new(&idx, &[4096, 4096]).unwrap(),
        );
    }
}

/// Some source element for position `k` (values only feed the copy engine).
fn idx_free_copy<T: Copy>(src: &TensorView<'_, T>, k: usize) -> T {
    src.data()[k % src.data().len()]
}
