use fastgather::{scatter_add_into, TensorView};
use std::time::Instant;
fn main() {
    let size = 2048;
    let mut s = 5u64;
    let mut next = || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let idx: Vec<i64> = (0..size * size)
        .map(|_| ((u128::from(next()) * size as u128) >> 64) as i64)
        .collect();
    let src: Vec<f32> = (0..size * size).map(|k| (k % 1013) as f32 * 1e-3).collect();
    let iv = TensorView::new(&idx, &[size, size]).unwrap();
    let sv = TensorView::new(&src, &[size, size]).unwrap();
    let off: usize = std::env::args().nth(2).map_or(0, |a| a.parse().unwrap());
    let mut buf = if std::env::var("T").is_ok() {
        fastgather::Tensor::full(&[size * size + off], 0.0f32)
            .unwrap()
            .into_vec()
    } else {
        vec![0.0f32; size * size + off]
    };
    let dim: isize = std::env::args().nth(1).map_or(1, |a| a.parse().unwrap());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let mut ts = vec![];
        for _ in 0..200 {
            let t = Instant::now();
            let mut dv = fastgather::TensorViewMut::with_strides(
                &mut buf,
                &[size, size],
                &[size as isize, 1],
                off,
            )
            .unwrap();
            scatter_add_into(&mut dv, dim, &iv, &sv).unwrap();
            ts.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "scatter_add dim {dim}: median {:.2} ms min {:.2}",
            ts[100], ts[0]
        );
    });
}
