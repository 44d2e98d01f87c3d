//! fastgather in a rayon pool of your own: `cargo run --release --example custom_pool`.
//!
//! A call splits its rows across the *caller's* rayon pool: the global pool by
//! default, or the pool whose `install` it runs in. So a library can keep
//! fastgather to a few threads (leaving the rest to other work) without any
//! option, and `GatherOptions::sequential` keeps one call on its own thread.
//! Results are bit-identical in every case.

use fastgather::{GatherError, GatherOptions, TensorView, gather, gather_with};
use std::time::Instant;

fn main() -> Result<(), GatherError> {
    // A top-k style problem: 4096 rows of 1024 floats, 256 picks per row.
    let (rows, cols, k) = (4096usize, 1024usize, 256usize);
    let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let idx: Vec<i64> = (0..rows * k)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % cols as u64) as i64
        })
        .collect();
    let src = TensorView::new(&src, &[rows, cols])?;
    let idx = TensorView::new(&idx, &[rows, k])?;

    let time = |label: &str, f: &dyn Fn() -> Result<Vec<f32>, GatherError>| {
        f().map(|_| ()).expect("warm-up");
        let t = Instant::now();
        let reps = 20;
        let mut out = Vec::new();
        for _ in 0..reps {
            out = f().expect("gather");
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
        println!("{label:<34} {ms:8.3} ms per call");
        out
    };

    println!("global pool: {} threads", rayon::current_num_threads());
    let global = time("global pool", &|| Ok(gather(&src, 1, &idx)?.into_vec()));
    let sequential = time("GatherOptions::sequential()", &|| {
        Ok(gather_with(&src, 1, &idx, &GatherOptions::new().sequential())?.into_vec())
    });

    // A pool of two threads: every fastgather call inside `install` uses it.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .thread_name(|i| format!("gather-{i}"))
        .build()
        .expect("a rayon pool");
    let pooled = pool.install(|| {
        println!("inside install: {} threads", rayon::current_num_threads());
        time("2-thread pool (install)", &|| {
            Ok(gather(&src, 1, &idx)?.into_vec())
        })
    });

    // Calls from inside the pool's own tasks nest fine: each task's gather
    // splits across the same two threads.
    let halves: Vec<Vec<f32>> = pool.install(|| {
        use rayon::prelude::*;
        [0..rows / 2, rows / 2..rows]
            .into_par_iter()
            .map(|r| {
                let part = src.slice(0, r.start, r.end, 1)?;
                let part_idx = idx.slice(0, r.start, r.end, 1)?;
                Ok(gather(&part, 1, &part_idx)?.into_vec())
            })
            .collect::<Result<_, GatherError>>()
    })?;

    assert_eq!(global, sequential);
    assert_eq!(global, pooled);
    assert_eq!(global, halves.concat());
    println!("all results bit-identical");
    Ok(())
}
