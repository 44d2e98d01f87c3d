//! The rows of a loss: labels checked in torch's order, rows walked in
//! parallel, per-row results reduced in row order (the same bits on any
//! number of threads).

use super::float::{Acc, LossFloat};
use super::options::{LossOptions, Reduction};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::view::{try_vec, Tensor, TensorView};

/// The rows of a `[N, C]` view as (row start offset, column stride), checked
/// against `[N]` labels.
pub(super) struct Rows<'v, 'a, F, I> {
    pub(super) x: &'v TensorView<'a, F>,
    pub(super) labels: &'v TensorView<'a, I>,
    pub(super) n: usize,
    pub(super) c: usize,
}

impl<'v, 'a, F: Copy, I: IndexElem> Rows<'v, 'a, F, I> {
    pub(super) fn new(
        x: &'v TensorView<'a, F>,
        labels: &'v TensorView<'a, I>,
        opts: &LossOptions,
    ) -> Result<Self, GatherError> {
        if x.rank() != 2 {
            return Err(GatherError::InvalidViewOp {
                op: "loss",
                reason: format!("expected [N, C] scores, got shape {:?}", x.shape()),
            });
        }
        let (n, c) = (x.shape()[0], x.shape()[1]);
        if labels.shape() != [n] {
            return Err(GatherError::InvalidViewOp {
                op: "loss",
                reason: format!("expected [{n}] labels, got shape {:?}", labels.shape()),
            });
        }
        if !(0.0..=1.0).contains(&opts.label_smoothing) {
            return Err(GatherError::InvalidOption {
                reason: format!(
                    "label_smoothing must be in [0, 1], got {}",
                    opts.label_smoothing
                ),
            });
        }
        let rows = Self { x, labels, n, c };
        rows.check_labels(opts)?;
        Ok(rows)
    }

    /// torch's check: every label not ignored lies in `0..C`; the first bad one
    /// (in row order) is reported.
    pub(super) fn check_labels(&self, opts: &LossOptions) -> Result<(), GatherError> {
        // Labels broadcast along the rows (stride 0) are one value: checking
        // it once keeps a huge expanded view from costing a pass over it.
        let distinct = if self.labels.strides()[0] == 0 {
            self.n.min(1)
        } else {
            self.n
        };
        for r in 0..distinct {
            let v = self.labels.get(&[r]).expect("row inside labels").to_i128();
            if Some(v) != opts.ignore_index.map(i128::from) && !(0..self.c as i128).contains(&v) {
                return Err(GatherError::IndexOutOfBounds {
                    value: v,
                    position: vec![r],
                    dim: 1,
                    size: self.c,
                    wraps: false,
                });
            }
        }
        Ok(())
    }

    /// Label of row `r`, or `None` if the row is ignored.
    pub(super) fn label(&self, r: usize, opts: &LossOptions) -> Option<usize> {
        let v = self.labels.get(&[r]).expect("row inside labels").to_i128();
        (Some(v) != opts.ignore_index.map(i128::from)).then_some(v as usize)
    }

    /// Row `r` as a contiguous slice when its columns are, else copied.
    pub(super) fn row(&self, r: usize, scratch: &mut Vec<F>) -> Option<&'a [F]> {
        if self.c == 0 {
            return Some(&[]);
        }
        let (s0, s1) = (self.x.strides()[0], self.x.strides()[1]);
        if self.c == 1 || s1 == 1 {
            let start = (self.x.offset() as isize + r as isize * s0) as usize;
            return Some(&self.x.data()[start..start + self.c]);
        }
        scratch.clear();
        scratch.extend((0..self.c).map(|k| *self.x.get(&[r, k]).expect("inside the view")));
        None
    }
}

/// Runs `f(row, label, values)` for every row, in parallel, collecting results in
/// row order (in a buffer allocated fallibly, before any row runs).
pub(super) fn per_row<F, I, T>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
    f: impl Fn(usize, Option<usize>, &[F]) -> T + Sync,
) -> Result<Vec<T>, GatherError>
where
    F: Copy + Send + Sync,
    I: IndexElem,
    T: Send,
{
    let one = |r: usize, scratch: &mut Vec<F>| {
        let label = rows.label(r, opts);
        match rows.row(r, scratch) {
            Some(values) => f(r, label, values),
            None => f(r, label, scratch),
        }
    };
    let mut out = try_vec(rows.n)?;
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if rows.n.saturating_mul(rows.c) >= 1 << 15 {
            // `out` already holds room for every row: no allocation here.
            (0..rows.n)
                .into_par_iter()
                .map_init(Vec::new, |scratch, r| one(r, scratch))
                .collect_into_vec(&mut out);
            return Ok(out);
        }
    }
    let mut scratch = Vec::new();
    out.extend((0..rows.n).map(|r| one(r, &mut scratch)));
    Ok(out)
}

/// Runs `f(row, label, values, out_row)` for every row, writing each row's
/// results straight into its `C`-wide slice of `out`, in parallel.
pub(super) fn per_row_into<F, I>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
    out: &mut [F],
    f: impl Fn(usize, Option<usize>, &[F], &mut [F]) + Sync,
) where
    F: Copy + Send + Sync,
    I: IndexElem,
{
    if rows.c == 0 {
        return;
    }
    let one = |r: usize, dst: &mut [F], scratch: &mut Vec<F>| {
        let label = rows.label(r, opts);
        match rows.row(r, scratch) {
            Some(values) => f(r, label, values, dst),
            None => f(r, label, scratch, dst),
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if rows.n.saturating_mul(rows.c) >= 1 << 15 {
            out.par_chunks_mut(rows.c)
                .enumerate()
                .for_each_init(Vec::new, |scratch, (r, dst)| one(r, dst, scratch));
            return;
        }
    }
    let mut scratch = Vec::new();
    for (r, dst) in out.chunks_mut(rows.c).enumerate() {
        one(r, dst, &mut scratch);
    }
}

/// The reduced loss of `n` rows that are all ignored, as [`reduce`] gives it
/// (zeros, a sum of 0, a mean of NaN), without a pass or a buffer per row.
/// With no class (`C == 0`) every row is: [`Rows::new`] lets no other label
/// through.
pub(super) fn all_ignored<F: LossFloat>(
    n: usize,
    reduction: Reduction,
) -> Result<Tensor<F>, GatherError> {
    match reduction {
        Reduction::None => Tensor::zeros(&[n]),
        _ => reduce::<F>(Vec::new(), reduction),
    }
}

/// Combines per-row losses (`None` for ignored rows) by `reduction`.
pub(super) fn reduce<F: LossFloat>(
    losses: Vec<Option<F::Acc>>,
    reduction: Reduction,
) -> Result<Tensor<F>, GatherError> {
    Ok(match reduction {
        Reduction::None => {
            let n = losses.len();
            let mut v = try_vec(n)?;
            v.extend(
                losses
                    .into_iter()
                    .map(|l| F::narrow(l.unwrap_or(<F::Acc as Acc>::from_f64(0.0)))),
            );
            Tensor::from_vec(v, &[n])?
        }
        Reduction::Sum | Reduction::Mean => {
            // Summed in f64, in row order: the same on any number of threads.
            let (sum, count) = losses
                .iter()
                .flatten()
                .fold((0.0f64, 0usize), |(s, c), l| (s + l.to_f64(), c + 1));
            let total = if reduction == Reduction::Mean {
                sum / count as f64
            } else {
                sum
            };
            Tensor::scalar(F::narrow(<F::Acc as Acc>::from_f64(total)))
        }
    })
}
