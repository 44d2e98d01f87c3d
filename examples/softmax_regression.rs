//! Softmax regression trained from scratch with fastgather's ops:
//! `cargo run --release --example softmax_regression`.
//!
//! A deterministic synthetic stand-in for MNIST (60,000 training and 10,000
//! held-out examples, 784 features, 10 classes) is generated in-process. Each
//! step computes logits = X·W + b, the tutorial's loss
//! `-ln(softmax(logits).gather(1, y.view(-1, 1)))` (`cross_entropy_from_probs`,
//! which takes probabilities), and the gradient of the fused cross-entropy on
//! the logits (`cross_entropy_backward`: softmax minus a one-hot placed by
//! `scatter_add`), then takes a plain SGD step. It prints loss and accuracy per epoch and the time spent in
//! gather and scatter.

use fastgather::loss::{LossOptions, cross_entropy_backward, cross_entropy_from_probs};
use fastgather::{GatherError, TensorView};
use std::time::{Duration, Instant};

const FEATURES: usize = 784;
const CLASSES: usize = 10;
const TRAIN: usize = 60_000;
const TEST: usize = 10_000;
const BATCH: usize = 256;
const EPOCHS: usize = 5;
const LEARNING_RATE: f32 = 0.02;
/// Pixel noise: large enough that the classes overlap and held-out accuracy
/// tells something (a noiseless version is separable).
const NOISE: f32 = 1.8;

/// splitmix64 with Box-Muller normals: the same data on every run.
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// Ten class "templates" of 784 pixels in [0, 1] (a few bright blobs each);
/// an example is its class template, shifted in brightness and covered in noise.
fn dataset(n: usize, rng: &mut Rng, templates: &[Vec<f32>]) -> (Vec<f32>, Vec<i64>) {
    let mut x = Vec::with_capacity(n * FEATURES);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let label = (rng.next_u64() % CLASSES as u64) as usize;
        let gain = 0.6 + 0.8 * rng.uniform();
        x.extend(
            templates[label]
                .iter()
                .map(|&t| (gain * t + NOISE * rng.normal()).clamp(-3.0, 4.0)),
        );
        y.push(label as i64);
    }
    (x, y)
}

fn templates(rng: &mut Rng) -> Vec<Vec<f32>> {
    (0..CLASSES)
        .map(|_| {
            let mut t = vec![0.0f32; FEATURES];
            for _ in 0..6 {
                let (cy, cx) = (rng.uniform() * 28.0, rng.uniform() * 28.0);
                let r2 = 4.0 + 12.0 * rng.uniform();
                for (p, v) in t.iter_mut().enumerate() {
                    let (py, px) = ((p / 28) as f32, (p % 28) as f32);
                    let d2 = (py - cy).powi(2) + (px - cx).powi(2);
                    *v = v.max((-d2 / r2).exp());
                }
            }
            t
        })
        .collect()
}

/// logits[b, k] = Σ_f x[b, f]·w[f, k] + bias[k].
fn logits(x: &[f32], w: &[f32], bias: &[f32]) -> Vec<f32> {
    let rows = x.len() / FEATURES;
    let mut out = vec![0.0f32; rows * CLASSES];
    for (r, o) in out.chunks_exact_mut(CLASSES).enumerate() {
        o.copy_from_slice(bias);
        for (f, &xf) in x[r * FEATURES..(r + 1) * FEATURES].iter().enumerate() {
            let wf = &w[f * CLASSES..(f + 1) * CLASSES];
            for k in 0..CLASSES {
                o[k] += xf * wf[k];
            }
        }
    }
    out
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let mut p = logits.to_vec();
    for row in p.chunks_exact_mut(CLASSES) {
        let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let s: f32 = row
            .iter_mut()
            .map(|v| {
                *v = (*v - m).exp();
                *v
            })
            .sum();
        row.iter_mut().for_each(|v| *v /= s);
    }
    p
}

fn accuracy(logits: &[f32], y: &[i64]) -> f64 {
    let hits = logits
        .chunks_exact(CLASSES)
        .zip(y)
        .filter(|&(row, &label)| {
            let best = (0..CLASSES)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            best as i64 == label
        })
        .count();
    hits as f64 / y.len() as f64
}

/// The tutorial's loss, timed: `-ln(y_hat.gather(1, y.view(-1, 1)))`, mean.
fn tutorial_loss(probs: &[f32], y: &[i64], timer: &mut Duration) -> Result<f32, GatherError> {
    let n = y.len();
    let start = Instant::now();
    let loss = cross_entropy_from_probs(
        &TensorView::new(probs, &[n, CLASSES])?,
        &TensorView::new(y, &[n])?,
        &LossOptions::new(),
    )?;
    *timer += start.elapsed();
    loss.item()
}

fn main() -> Result<(), GatherError> {
    let t0 = Instant::now();
    let mut rng = Rng(2026);
    let templates = templates(&mut rng);
    let (train_x, train_y) = dataset(TRAIN, &mut rng, &templates);
    let (test_x, test_y) = dataset(TEST, &mut rng, &templates);
    println!(
        "softmax regression: {TRAIN} training and {TEST} held-out examples, {FEATURES} features, \
         {CLASSES} classes (generated in {:.2} s)",
        t0.elapsed().as_secs_f64()
    );
    let mut w = vec![0.0f32; FEATURES * CLASSES];
    let mut bias = vec![0.0f32; CLASSES];
    let (mut gather_time, mut scatter_time) = (Duration::ZERO, Duration::ZERO);
    let one = 1.0f32;
    let mut order: Vec<usize> = (0..TRAIN).collect();
    let mut final_accuracy = 0.0;
    for epoch in 1..=EPOCHS {
        let epoch_start = Instant::now();
        // A fresh deterministic shuffle each epoch.
        for i in (1..TRAIN).rev() {
            order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        let mut loss_sum = 0.0f64;
        let mut batches = 0;
        for chunk in order.chunks(BATCH) {
            let n = chunk.len();
            let xb: Vec<f32> = chunk
                .iter()
                .flat_map(|&i| train_x[i * FEATURES..(i + 1) * FEATURES].iter().copied())
                .collect();
            let yb: Vec<i64> = chunk.iter().map(|&i| train_y[i]).collect();
            let z = logits(&xb, &w, &bias);
            loss_sum += tutorial_loss(&softmax(&z), &yb, &mut gather_time)? as f64;
            batches += 1;
            // d(mean loss)/d(logits) = (softmax - one_hot) / n; the one-hot by scatter_add.
            let start = Instant::now();
            let dz = cross_entropy_backward(
                &TensorView::new(&z, &[n, CLASSES])?,
                &TensorView::new(&yb, &[n])?,
                &TensorView::scalar(&one),
                &LossOptions::new(),
            )?;
            scatter_time += start.elapsed();
            let dz = dz.as_slice();
            for (r, dzr) in dz.chunks_exact(CLASSES).enumerate() {
                let xr = &xb[r * FEATURES..(r + 1) * FEATURES];
                for (f, &xf) in xr.iter().enumerate() {
                    let wf = &mut w[f * CLASSES..(f + 1) * CLASSES];
                    for k in 0..CLASSES {
                        wf[k] -= LEARNING_RATE * xf * dzr[k];
                    }
                }
                for k in 0..CLASSES {
                    bias[k] -= LEARNING_RATE * dzr[k];
                }
            }
        }
        let zt = logits(&test_x, &w, &bias);
        let test_loss = tutorial_loss(&softmax(&zt), &test_y, &mut gather_time)?;
        final_accuracy = accuracy(&zt, &test_y);
        println!(
            "epoch {epoch}: train loss {:.4}  held-out loss {test_loss:.4}  held-out accuracy \
             {:.2}%  ({:.2} s)",
            loss_sum / batches as f64,
            final_accuracy * 100.0,
            epoch_start.elapsed().as_secs_f64()
        );
    }
    println!(
        "time in gather (the loss's picks): {:.1} ms; in the backward (softmax, one-hot by \
         scatter_add): {:.1} ms; total {:.2} s",
        gather_time.as_secs_f64() * 1e3,
        scatter_time.as_secs_f64() * 1e3,
        t0.elapsed().as_secs_f64()
    );
    assert!(final_accuracy >= 0.90, "held-out accuracy below 90%");
    Ok(())
}
