//! The row kernels of the losses: row statistics, `log_softmax` and the
//! softmax part of the gradient, written as loops the compiler vectorizes
//! under the call's instruction-set path.

use super::float::{Acc, LossFloat};
use crate::dispatch;
use crate::isa::Path;

/// One row's work, run by [`on_path`] under the instruction-set path of the
/// call, as the dispatch table gives it.
///
/// The row loops keep their partial results in [`Chains`], a shape the compiler
/// vectorizes without reordering any sum; inlined into a `target_feature`
/// function they become AVX-512 or AVX2 code, and every path returns the same
/// bits. (A trait with an `#[inline(always)]` body, so that it is inlined into
/// the path's entry point.)
pub(super) trait RowOp {
    type Out;
    fn run(self) -> Self::Out;
}

/// Runs `op` under `path`'s features.
#[inline(always)]
pub(super) fn on_path<O: RowOp>(path: Path, op: O) -> O::Out {
    dispatch::on_path(path, || op.run())
}

/// Row statistics of the logits: max, `ln Σ exp(x - max)` and `Σ x`.
pub(super) struct Stats<'r, F>(pub(super) &'r [F]);

impl<F: LossFloat> RowOp for Stats<'_, F> {
    type Out = (F::Acc, F::Acc, F::Acc);
    #[inline(always)]
    fn run(self) -> Self::Out {
        row_stats(self.0)
    }
}

/// `dst = x - (max + lse)`: one row of `log_softmax`.
pub(super) struct LogSoftmax<'r, F> {
    pub(super) x: &'r [F],
    pub(super) dst: &'r mut [F],
}

impl<F: LossFloat> RowOp for LogSoftmax<'_, F> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        let (max, lse, _) = row_stats::<F>(self.x);
        let shift = max + lse;
        for (o, &v) in self.dst.iter_mut().zip(self.x) {
            *o = F::narrow(v.widen() - shift);
        }
    }
}

/// `dst = g · (softmax(x) - floor)`: one row of the cross-entropy gradient
/// before its one-hot part.
pub(super) struct SoftmaxGrad<'r, F: LossFloat> {
    pub(super) x: &'r [F],
    pub(super) dst: &'r mut [F],
    pub(super) g: F::Acc,
    pub(super) floor: F::Acc,
}

impl<F: LossFloat> RowOp for SoftmaxGrad<'_, F> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        let (x, dst, g) = (self.x, self.dst, self.g);
        let g_floor = g * self.floor;
        if !F::EXACT {
            let (max, lse, _) = row_stats::<F>(x);
            let shift = max + lse;
            for (o, &v) in dst.iter_mut().zip(x) {
                let p = <F::Acc as Acc>::exp_nonpos(v.widen() - shift);
                *o = F::narrow(g * p - g_floor);
            }
            return;
        }
        // Each exponential is computed once, parked in `dst` (exact for this
        // type), summed, then scaled in place while the row is still in L1.
        let zero = <F::Acc as Acc>::from_f64(0.0);
        let add = |a: F::Acc, b: F::Acc| a + b;
        let m = row_max(x);
        let mut sum = Chains::splat(zero);
        let mut blocks = dst.chunks_exact_mut(BLOCK);
        for (d, c) in (&mut blocks).zip(x.chunks_exact(BLOCK)) {
            for (o, &v) in d.iter_mut().zip(c) {
                *o = F::narrow(<F::Acc as Acc>::exp_nonpos(v.widen() - m));
            }
            sum.update(d, |s, e: F| s + e.widen());
        }
        let mut tail = [zero; BLOCK];
        for (k, o) in blocks.into_remainder().iter_mut().enumerate() {
            tail[k] = <F::Acc as Acc>::exp_nonpos(x[x.len() / BLOCK * BLOCK + k].widen() - m);
            *o = F::narrow(tail[k]);
        }
        sum.update(&tail, add);
        let scale = g / sum.fold(add);
        for o in dst.iter_mut() {
            *o = F::narrow(o.widen() * scale - g_floor);
        }
    }
}

/// Partial results of a row loop: four 16-lane vectors, enough independent
/// chains to hide the latency of each add and compare. They are four separate
/// arrays, each updated at fixed positions, so that they stay in registers.
#[derive(Clone, Copy)]
struct Chains<A>([[A; LANES]; CHAINS]);

const LANES: usize = 16;
const CHAINS: usize = 4;
const BLOCK: usize = LANES * CHAINS;

impl<A: Copy> Chains<A> {
    #[inline(always)]
    fn splat(a: A) -> Self {
        Self([[a; LANES]; CHAINS])
    }

    /// Folds `BLOCK` values in: value `i` goes to chain `i / LANES`, lane `i % LANES`.
    #[inline(always)]
    fn update<V: Copy>(&mut self, block: &[V], f: impl Fn(A, V) -> A) {
        let [c0, c1, c2, c3] = &mut self.0;
        let (b0, rest) = block[..BLOCK].split_at(LANES);
        let (b1, rest) = rest.split_at(LANES);
        let (b2, b3) = rest.split_at(LANES);
        for k in 0..LANES {
            c0[k] = f(c0[k], b0[k]);
            c1[k] = f(c1[k], b1[k]);
            c2[k] = f(c2[k], b2[k]);
            c3[k] = f(c3[k], b3[k]);
        }
    }

    /// Reduces to one value in a fixed tree (chains pairwise, then lanes by
    /// halves): it vectorizes, and is the same on every path.
    #[inline(always)]
    fn fold(self, f: impl Fn(A, A) -> A) -> A {
        let [c0, c1, c2, c3] = self.0;
        let mut a = [c0[0]; LANES];
        for k in 0..LANES {
            a[k] = f(f(c0[k], c1[k]), f(c2[k], c3[k]));
        }
        let mut half = LANES / 2;
        while half > 0 {
            for k in 0..half {
                a[k] = f(a[k], a[k + half]);
            }
            half /= 2;
        }
        a[0]
    }
}

/// The largest value of a row (`-inf` for an empty row). It need not see NaN:
/// a NaN logit makes its `exp` term, and so the row's log-sum-exp, its loss and
/// its softmax, NaN (as in torch).
#[inline(always)]
fn row_max<F: LossFloat>(x: &[F]) -> F::Acc {
    let neg_inf = <F::Acc as Acc>::NEG_INFINITY;
    let bigger = |m: F::Acc, v: F::Acc| if v > m { v } else { m };
    let chunks = x.chunks_exact(BLOCK);
    let mut tail = [neg_inf; BLOCK];
    for (k, &v) in chunks.remainder().iter().enumerate() {
        tail[k] = v.widen();
    }
    let mut max = Chains::splat(neg_inf);
    for c in chunks {
        max.update(c, |m, v: F| bigger(m, v.widen()));
    }
    max.update(&tail, bigger);
    max.fold(bigger)
}

/// Row statistics of the logits: max, `ln Σ exp(x - max)` and `Σ x`.
///
/// The last partial block is padded (with `-inf`, whose exponential is 0, and
/// with 0 for the sum), so every element goes through the vector loop.
#[inline(always)]
fn row_stats<F: LossFloat>(x: &[F]) -> (F::Acc, F::Acc, F::Acc) {
    let zero = <F::Acc as Acc>::from_f64(0.0);
    let neg_inf = <F::Acc as Acc>::NEG_INFINITY;
    let chunks = x.chunks_exact(BLOCK);
    let (mut tail_x, mut tail_e) = ([zero; BLOCK], [neg_inf; BLOCK]);
    for (k, &v) in chunks.remainder().iter().enumerate() {
        (tail_x[k], tail_e[k]) = (v.widen(), v.widen());
    }
    let m = row_max(x);
    let exp_term = |s: F::Acc, v: F::Acc| s + <F::Acc as Acc>::exp_nonpos(v - m);
    let add = |a: F::Acc, b: F::Acc| a + b;
    let (mut sum_exp, mut sum_x) = (Chains::splat(zero), Chains::splat(zero));
    for c in chunks {
        sum_exp.update(c, |s, v: F| exp_term(s, v.widen()));
        sum_x.update(c, |s, v: F| s + v.widen());
    }
    sum_exp.update(&tail_e, exp_term);
    sum_x.update(&tail_x, add);
    (m, sum_exp.fold(add).ln(), sum_x.fold(add))
}
