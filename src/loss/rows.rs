//! The rows of a loss: scores of any rank cut into class rows, labels checked
//! in torch's order, rows walked in parallel, per-row results reduced in row
//! order (the same bits on any number of threads).

use super::float::{Acc, LossFloat};
use super::options::{LossOptions, Reduction};
use crate::alloc::try_vec;
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::view::{Tensor, TensorView};

/// Where the rows of a view start: the positions of every dim but the class
/// dim, in row-major order, each with its element offset.
pub(super) struct Walk {
    offset: usize,
    sizes: Vec<usize>,
    strides: Vec<isize>,
}

impl Walk {
    /// The rows of a view, `class_dim` left out (`None`: every dim is a row dim).
    pub(super) fn new<T>(view: &TensorView<'_, T>, class_dim: Option<usize>) -> Self {
        let keep = |&(d, _): &(usize, _)| Some(d) != class_dim;
        let dims = view.shape().iter().zip(view.strides()).enumerate();
        let (sizes, strides) = dims.filter(keep).map(|(_, (&n, &s))| (n, s)).unzip();
        Self {
            offset: view.offset(),
            sizes,
            strides,
        }
    }

    /// The offset of row `r`'s first element. Only for rows of a view that
    /// has elements: its offsets are then known to fit.
    #[inline]
    pub(super) fn start(&self, r: usize) -> usize {
        match (self.sizes.as_slice(), self.strides.as_slice()) {
            ([], []) => self.offset,
            // A 2-d input: one row dim.
            ([_], [s]) => (self.offset as isize + r as isize * s) as usize,
            _ => {
                let (mut rest, mut at) = (r, self.offset as isize);
                for (&size, &stride) in self.sizes.iter().zip(&self.strides).rev() {
                    at += (rest % size) as isize * stride;
                    rest /= size;
                }
                at as usize
            }
        }
    }

    /// Row `r` as a multi-index over the row dims.
    pub(super) fn position(&self, r: usize) -> Vec<usize> {
        let mut pos = vec![0; self.sizes.len()];
        let mut rest = r;
        for (p, &size) in pos.iter_mut().zip(&self.sizes).rev() {
            *p = rest % size;
            rest /= size;
        }
        pos
    }

    /// Whether every row starts at the same element (all strides 0).
    fn is_broadcast(&self) -> bool {
        self.strides.iter().all(|&s| s == 0)
    }
}

/// The class rows of a loss's scores: `[N, C, d1, .., dk]` (classes along dim
/// 1, as torch) gives the `N·d1·..·dk` rows `x[n, :, i1, .., ik]` in row-major
/// order of `(n, i1, .., ik)`; an unbatched `[C]` view is one row.
pub(super) struct Scores<'v, 'a, F> {
    pub(super) x: &'v TensorView<'a, F>,
    pub(super) n: usize,
    pub(super) c: usize,
    class_stride: isize,
    walk: Walk,
}

impl<'v, 'a, F: Copy> Scores<'v, 'a, F> {
    pub(super) fn new(op: &'static str, x: &'v TensorView<'a, F>) -> Result<Self, GatherError> {
        if x.rank() == 0 {
            return Err(GatherError::InvalidLossArgument {
                op,
                reason: "expected scores of shape [C], [N, C] or [N, C, d1, ..], got a 0-d view"
                    .into(),
            });
        }
        let class_dim = usize::from(x.rank() > 1);
        let c = x.shape()[class_dim];
        let walk = Walk::new(x, Some(class_dim));
        // With no class the view is empty, and the other sizes may multiply
        // past usize.
        let n = walk
            .sizes
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| GatherError::ShapeOverflow {
                shape: x.shape().to_vec(),
            })?;
        Ok(Self {
            x,
            n,
            c,
            class_stride: x.strides()[class_dim],
            walk,
        })
    }

    /// The dim that holds the classes: 1, or 0 for an unbatched `[C]` input.
    pub(super) fn class_dim(&self) -> usize {
        usize::from(self.x.rank() > 1)
    }

    /// The shape of one value per row: the input's without its class dim
    /// (the shape of class-index targets and of unreduced losses).
    pub(super) fn row_shape(&self) -> Vec<usize> {
        self.walk.sizes.clone()
    }

    /// Row `r` as a slice: the view's own elements when the classes are
    /// adjacent, else copied into `scratch`.
    pub(super) fn row<'s>(&'s self, r: usize, scratch: &'s mut Vec<F>) -> &'s [F] {
        if self.c == 0 {
            return &[];
        }
        let start = self.walk.start(r);
        let data = self.x.data();
        if self.c == 1 || self.class_stride == 1 {
            return &data[start..start + self.c];
        }
        scratch.clear();
        scratch.extend(
            (0..self.c).map(|k| data[(start as isize + k as isize * self.class_stride) as usize]),
        );
        scratch
    }
}

/// The rows of a loss with class-index targets: the scores' rows, each with
/// its label, checked against `[N, d1, .., dk]` labels (`[]` for a `[C]` input).
pub(super) struct Rows<'v, 'a, F, I> {
    pub(super) scores: Scores<'v, 'a, F>,
    labels: &'v TensorView<'a, I>,
    label_walk: Walk,
    ignore: Option<i128>,
}

impl<'v, 'a, F: Copy, I: IndexElem> Rows<'v, 'a, F, I> {
    pub(super) fn new(
        op: &'static str,
        x: &'v TensorView<'a, F>,
        labels: &'v TensorView<'a, I>,
        opts: &LossOptions,
    ) -> Result<Self, GatherError> {
        let scores = Scores::new(op, x)?;
        let want = scores.row_shape();
        if labels.shape() != want {
            return Err(GatherError::InvalidLossArgument {
                op,
                reason: format!(
                    "expected labels of shape {want:?} (the input's shape {:?} without its \
                     class dim {}), got shape {:?}",
                    x.shape(),
                    scores.class_dim(),
                    labels.shape()
                ),
            });
        }
        check_smoothing(opts)?;
        let rows = Self {
            scores,
            labels,
            label_walk: Walk::new(labels, None),
            ignore: opts.ignore_index.map(i128::from),
        };
        rows.check_labels()?;
        Ok(rows)
    }

    /// torch's check: every label not ignored lies in `0..C`; the first bad one
    /// (in row-major order) is reported, with its position in the labels.
    fn check_labels(&self) -> Result<(), GatherError> {
        // Labels broadcast along every row dim (stride 0) are one value:
        // checking it once keeps a huge expanded view from costing a pass.
        let distinct = if self.label_walk.is_broadcast() {
            self.scores.n.min(1)
        } else {
            self.scores.n
        };
        let c = self.scores.c;
        for r in 0..distinct {
            let v = self.value(r);
            if Some(v) != self.ignore && !(0..c as i128).contains(&v) {
                return Err(GatherError::IndexOutOfBounds {
                    value: v,
                    position: self.label_walk.position(r),
                    dim: self.scores.class_dim(),
                    size: c,
                    wraps: false,
                });
            }
        }
        Ok(())
    }

    #[inline]
    fn value(&self, r: usize) -> i128 {
        self.labels.data()[self.label_walk.start(r)].to_i128()
    }

    /// Label of row `r`, or `None` if the row is ignored.
    #[inline]
    pub(super) fn label(&self, r: usize) -> Option<usize> {
        let v = self.value(r);
        (Some(v) != self.ignore).then_some(v as usize)
    }

    /// Row `r` as a multi-index into the labels (for error messages).
    pub(super) fn position(&self, r: usize) -> Vec<usize> {
        self.label_walk.position(r)
    }
}

/// Label smoothing lies in `[0, 1]`, as torch requires.
pub(super) fn check_smoothing(opts: &LossOptions) -> Result<(), GatherError> {
    if !(0.0..=1.0).contains(&opts.label_smoothing) {
        return Err(GatherError::InvalidOption {
            reason: format!(
                "label_smoothing must be in [0, 1], got {}",
                opts.label_smoothing
            ),
        });
    }
    Ok(())
}

/// Runs `f(row, values, spare)` for every row, in parallel, collecting results
/// in row order (in a buffer allocated fallibly, before any row runs). `spare`
/// is a scratch buffer of the thread, for a second strided row.
pub(super) fn per_row<F, T>(
    scores: &Scores<'_, '_, F>,
    f: impl Fn(usize, &[F], &mut Vec<F>) -> T + Sync,
) -> Result<Vec<T>, GatherError>
where
    F: Copy + Send + Sync,
    T: Send,
{
    let one =
        |r: usize, (scratch, spare): &mut (Vec<F>, Vec<F>)| f(r, scores.row(r, scratch), spare);
    let mut out = try_vec(scores.n)?;
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if scores.n.saturating_mul(scores.c) >= 1 << 15 {
            // `out` already holds room for every row: no allocation here.
            (0..scores.n)
                .into_par_iter()
                .map_init(Default::default, |scratch, r| one(r, scratch))
                .collect_into_vec(&mut out);
            return Ok(out);
        }
    }
    let mut scratch = Default::default();
    out.extend((0..scores.n).map(|r| one(r, &mut scratch)));
    Ok(out)
}

/// Runs `f(row, values, spare, out_row)` for every row, writing each row's
/// results straight into its `C`-wide slice of `out` (row-major `[rows, C]`),
/// in parallel.
pub(super) fn per_row_into<F>(
    scores: &Scores<'_, '_, F>,
    out: &mut [F],
    f: impl Fn(usize, &[F], &mut Vec<F>, &mut [F]) + Sync,
) where
    F: Copy + Send + Sync,
{
    if scores.c == 0 {
        return;
    }
    let one = |r: usize, dst: &mut [F], (scratch, spare): &mut (Vec<F>, Vec<F>)| {
        f(r, scores.row(r, scratch), spare, dst)
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if scores.n.saturating_mul(scores.c) >= 1 << 15 {
            out.par_chunks_mut(scores.c)
                .enumerate()
                .for_each_init(Default::default, |scratch, (r, dst)| one(r, dst, scratch));
            return;
        }
    }
    let mut scratch = Default::default();
    for (r, dst) in out.chunks_mut(scores.c).enumerate() {
        one(r, dst, &mut scratch);
    }
}

/// The reduced loss of rows that are all ignored, as [`reduce`] gives it
/// (zeros of the rows' shape, a sum of 0, a mean of NaN), without a pass or a
/// buffer per row. With no class (`C == 0`) every row is: [`Rows::new`] lets
/// no other label through.
pub(super) fn all_ignored<F: LossFloat>(
    shape: &[usize],
    reduction: Reduction,
) -> Result<Tensor<F>, GatherError> {
    match reduction {
        Reduction::None => Tensor::zeros(shape),
        _ => reduce::<F>(Vec::new(), reduction, shape, None),
    }
}

/// Combines per-row losses (`None` for ignored rows) by `reduction`: `None`
/// gives them in `shape`, `Mean` divides their sum by `divisor` (by default
/// the number of rows not ignored).
pub(super) fn reduce<F: LossFloat>(
    losses: Vec<Option<F::Acc>>,
    reduction: Reduction,
    shape: &[usize],
    divisor: Option<f64>,
) -> Result<Tensor<F>, GatherError> {
    Ok(match reduction {
        Reduction::None => {
            let mut v = try_vec(losses.len())?;
            v.extend(
                losses
                    .into_iter()
                    .map(|l| F::narrow(l.unwrap_or(<F::Acc as Acc>::from_f64(0.0)))),
            );
            Tensor::from_vec(v, shape)?
        }
        Reduction::Sum | Reduction::Mean => {
            // Summed in f64, in row order: the same on any number of threads.
            let (sum, count) = losses
                .iter()
                .flatten()
                .fold((0.0f64, 0usize), |(s, c), l| (s + l.to_f64(), c + 1));
            let total = if reduction == Reduction::Mean {
                sum / divisor.unwrap_or(count as f64)
            } else {
                sum
            };
            Tensor::scalar(F::narrow(<F::Acc as Acc>::from_f64(total)))
        }
    })
}
