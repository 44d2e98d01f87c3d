//! The tutorial's gather examples, its cross-entropy, and gather's throughput
//! against the reference: `cargo run --release --example demo`.

use fastgather::{GatherError, Tensor, TensorView, gather, reference};
use std::time::Instant;

fn show<T: std::fmt::Debug>(t: &Tensor<T>) -> String {
    let cols = t.shape().last().copied().unwrap_or(1).max(1);
    let rows: Vec<String> = t
        .as_slice()
        .chunks(cols)
        .map(|r| format!("{r:?}"))
        .collect();
    format!("[{}]", rows.join(", "))
}

/// A fixed-seed generator, so every run gathers the same indices.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> i64 {
        (self.next() % n as u64) as i64
    }
}

/// Median seconds of `runs` calls of `f`.
fn median_secs(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn throughput(name: &str, src: &TensorView<f32>, dim: isize, idx: &TensorView<i64>) {
    let fast = gather(src, dim, idx).expect("valid gather");
    let slow = reference::gather(src, dim, idx).expect("valid gather");
    assert_eq!(fast, slow, "fastgather and the reference disagree");
    // Bytes that must move: index + output + the source elements read.
    let bytes = (idx.len() * (8 + 4) + idx.len().min(src.len()) * 4) as f64;
    let t_fast = median_secs(11, || {
        std::hint::black_box(gather(src, dim, idx).unwrap());
    });
    let t_ref = median_secs(3, || {
        std::hint::black_box(reference::gather(src, dim, idx).unwrap());
    });
    println!(
        "  {name:<34} fastgather {:>7.2} ms ({:>6.2} GB/s)   reference {:>8.2} ms   {:>5.1}x",
        t_fast * 1e3,
        bytes / t_fast / 1e9,
        t_ref * 1e3,
        t_ref / t_fast
    );
}

fn main() -> Result<(), GatherError> {
    println!("fastgather demo: torch.gather semantics on the CPU\n");

    // The cross-entropy pick from the tutorial.
    let y_hat = Tensor::from_vec(vec![0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5], &[2, 3])?;
    let y = [0i64, 2];
    let y_col = TensorView::new(&y, &[2])?.reshape(&[2, 1])?; // y.view(-1, 1)
    let picked = gather(&y_hat.view(), 1, &y_col)?;
    println!("y_hat.gather(1, y.view(-1, 1)) = {}", show(&picked));
    let ce: Vec<f32> = picked.as_slice().iter().map(|p| -p.ln()).collect();
    println!("cross_entropy_from_probs(y_hat, y) = -ln(p[label]) = {ce:?}");
    let mean = ce.iter().sum::<f32>() / ce.len() as f32;
    println!("mean loss = {mean:.4}\n");

    // The two index examples on 1..=15 as [5, 3].
    let data: Vec<i32> = (1..=15).collect();
    let src = TensorView::new(&data, &[5, 3])?;
    let idx0 = [0i64, 1, 2, 2, 3, 4, 0, 2, 4];
    let out0 = gather(&src, 0, &TensorView::new(&idx0, &[3, 3])?)?;
    println!("src.gather(0, [[0,1,2],[2,3,4],[0,2,4]]) = {}", show(&out0));
    let idx1 = [1i64, 1, 2, 2, 0, 1, 2, 0, 1, 0];
    let out1 = gather(&src, 1, &TensorView::new(&idx1, &[5, 2])?)?;
    println!(
        "src.gather(1, [[1,1],[2,2],[0,1],[2,0],[1,0]]) = {}",
        show(&out1)
    );

    // An error names the bad value and where it sits.
    let bad = [0i64, 5];
    let err = gather(&src, 1, &TensorView::new(&bad, &[2, 1])?).unwrap_err();
    println!("an index of 5 along a dim of size 3: {err}\n");

    println!(
        "throughput, median of runs ({} rayon threads):",
        rayon_threads()
    );
    let mut rng = SplitMix(42);
    let probs: Vec<f32> = (0..65536 * 1000)
        .map(|i| (i % 977) as f32 / 977.0)
        .collect();
    let labels: Vec<i64> = (0..65536).map(|_| rng.below(1000)).collect();
    throughput(
        "ce_pick f32 [65536,1000] dim 1",
        &TensorView::new(&probs, &[65536, 1000])?,
        1,
        &TensorView::new(&labels, &[65536, 1])?,
    );
    let square: Vec<f32> = (0..2048 * 2048).map(|i| i as f32).collect();
    let perm: Vec<i64> = (0..2048 * 2048).map(|_| rng.below(2048)).collect();
    let (sq, pv) = (
        TensorView::new(&square, &[2048, 2048])?,
        TensorView::new(&perm, &[2048, 2048])?,
    );
    throughput("last_perm f32 [2048,2048] dim 1", &sq, 1, &pv);
    throughput("dim0_random f32 [2048,2048] dim 0", &sq, 0, &pv);
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
