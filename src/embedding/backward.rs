//! Gradients of `embedding` and `embedding_bag` with respect to the table
//! (dense, `[rows, dim]`) and to the per-sample weights.
//!
//! A table row's gradient is a sum of output-gradient rows. The rows of the
//! table are split across threads by range; every thread reads all ids in
//! order and adds the terms of its own rows, so each row receives its terms
//! in id order on any thread count: no sort, no atomics.

use super::bags::{BagPlan, Bags, PAD, dense, padding_row, plan};
use super::pool::{Table, count_of};
use super::{BagMode, check_out, dense_mut, plain_mode, table_shape, write_through};
use crate::alloc::try_vec;
use crate::dispatch::on_path;
use crate::element::{Accumulate, Reduce};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::isa::Path;
use crate::options::GatherOptions;
use crate::par::for_each_rows_mut;
use crate::view::{Tensor, TensorView, TensorViewMut};

/// The gradients of an [`embedding_bag`](crate::embedding_bag) call.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BagGrads<T> {
    /// The table's gradient, `[rows, dim]`.
    pub weight: Tensor<T>,
    /// The per-sample weights' gradient (the ids' shape), where the bags have
    /// weights.
    pub per_sample_weights: Option<Tensor<T>>,
}

/// Where term `p` of a table gradient comes from.
trait Terms<T: Reduce>: Sync {
    /// The number of terms.
    fn len(&self) -> usize;
    /// Term `p`: (table row or [`PAD`], output-gradient row, element, scale).
    /// `element` is `Some(j)` where the term touches one element only.
    fn term(&self, p: usize) -> (usize, usize, Option<usize>, Option<T>);
}

/// `gw` (dense `[rows, d]`, zeroed) += every term, split by row range.
fn add_terms<T: Reduce>(
    path: Path,
    gw: &mut [T],
    d: usize,
    grad: &Table<'_, T>,
    terms: &impl Terms<T>,
    parallel: bool,
) {
    if d == 0 {
        return;
    }
    let work = terms.len().saturating_mul(d).saturating_mul(size_of::<T>());
    for_each_rows_mut(gw, d, work, parallel, |first, chunk| {
        // The closure inlined whole into the path's entry point, so its loops
        // are compiled for the path.
        on_path(
            path,
            #[inline(always)]
            || {
                let rows = first..first + chunk.len() / d;
                let mut scratch = vec![T::zeroed(); if grad.dense_rows() { 0 } else { d }];
                for p in 0..terms.len() {
                    let (r, src, element, scale) = terms.term(p);
                    if r == PAD || !rows.contains(&r) {
                        continue;
                    }
                    let dst = &mut chunk[(r - first) * d..][..d];
                    let g = grad.row(src, &mut scratch);
                    match (element, scale) {
                        (Some(j), _) => dst[j] = dst[j].accumulate(g[j]),
                        (None, None) => {
                            for (o, &x) in dst.iter_mut().zip(g) {
                                *o = o.accumulate(x);
                            }
                        }
                        (None, Some(s)) => {
                            for (o, &x) in dst.iter_mut().zip(g) {
                                *o = o.add_fused(x, s);
                            }
                        }
                    }
                }
            },
        )
    });
}

/// A gradient written by `f` into a zeroed dense buffer: `out` itself where
/// it is dense (`zeroed`: it is already all zeros), else a buffer copied
/// through `out` after.
fn into_dense<T: Reduce>(
    out: &mut TensorViewMut<'_, T>,
    zeroed: bool,
    f: impl FnOnce(&mut [T]),
) -> Result<(), GatherError> {
    match dense_mut(out) {
        Some(dst) => {
            // A fresh zeroed allocation is left untouched until the terms
            // land: filling it again would fault in every page first.
            if !zeroed {
                dst.fill(T::zeroed());
            }
            f(dst);
        }
        None => {
            let n = out.len();
            let mut tmp = try_vec(n)?;
            tmp.resize(n, T::zeroed());
            f(&mut tmp);
            write_through(out, &tmp);
        }
    }
    Ok(())
}

/// A gradient `[n, d]` as a table (a copy where its layout cannot be seen as
/// one).
fn grad_rows<'g, T: Copy>(
    grad: &TensorView<'g, T>,
    n: usize,
    d: usize,
    copy: &'g mut Option<Vec<T>>,
) -> Result<Table<'g, T>, GatherError> {
    if let Ok(v) = grad.reshape(&[n, d]) {
        return Ok(Table::of(&v));
    }
    let v: &'g Vec<T> = copy.insert(grad.try_to_vec()?);
    Ok(Table::of(&TensorView::new(v, &[n, d])?))
}

// ---------------------------------------------------------------------------
// embedding

struct Lookups<'r> {
    rows: &'r [usize],
}

impl<T: Reduce> Terms<T> for Lookups<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }
    #[inline(always)]
    fn term(&self, p: usize) -> (usize, usize, Option<usize>, Option<T>) {
        (self.rows[p], p, None, None)
    }
}

/// The gradient of [`embedding`](crate::embedding) with respect to its table
/// of `rows` rows: row `ids[p]` of the result sums `grad[p]` over every
/// position `p` (in order), except where `ids[p]` is `padding_idx` (negative
/// counts from the end). `grad` has shape `ids.shape + [dim]`.
///
/// Each term is added in the element type, rounding at every step, as torch's
/// CPU backward does for `f32` and `f64` (torch's `scale_grad_by_freq` is not
/// offered).
///
/// ```
/// use fastgather::{embedding_backward, TensorView};
/// let ids = TensorView::new(&[1i64, 0, 1], &[3]).unwrap();
/// let grad = TensorView::new(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
/// let gw = embedding_backward(&grad, &ids, 3, None).unwrap();
/// assert_eq!(gw.as_slice(), &[3.0, 4.0, 6.0, 8.0, 0.0, 0.0]);
/// let gw = embedding_backward(&grad, &ids, 3, Some(1)).unwrap();
/// assert_eq!(gw.as_slice(), &[3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
/// ```
pub fn embedding_backward<T: Reduce, I: IndexElem>(
    grad: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    rows: usize,
    padding_idx: Option<i64>,
) -> Result<Tensor<T>, GatherError> {
    embedding_backward_with(grad, ids, rows, padding_idx, &GatherOptions::default())
}

/// [`embedding_backward`] with explicit [`GatherOptions`].
pub fn embedding_backward_with<T: Reduce, I: IndexElem>(
    grad: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    rows: usize,
    padding_idx: Option<i64>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    let d = grad.shape().last().copied().unwrap_or(0);
    let mut gw = Tensor::zeros(&[rows, d])?;
    embedding_backward_impl(grad, ids, padding_idx, &mut gw.view_mut(), true, opts)?;
    Ok(gw)
}

/// [`embedding_backward`] into `grad_weight` `[rows, dim]`, which it
/// overwrites (its rows give the table's size).
pub fn embedding_backward_into<T: Reduce, I: IndexElem>(
    grad: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    padding_idx: Option<i64>,
    grad_weight: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    embedding_backward_into_with(
        grad,
        ids,
        padding_idx,
        grad_weight,
        &GatherOptions::default(),
    )
}

/// [`embedding_backward_into`] with explicit [`GatherOptions`].
pub fn embedding_backward_into_with<T: Reduce, I: IndexElem>(
    grad: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    padding_idx: Option<i64>,
    grad_weight: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    embedding_backward_impl(grad, ids, padding_idx, grad_weight, false, opts)
}

fn embedding_backward_impl<T: Reduce, I: IndexElem>(
    grad: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    padding_idx: Option<i64>,
    grad_weight: &mut TensorViewMut<'_, T>,
    zeroed: bool,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    const OP: &str = "embedding_backward";
    plain_mode(OP, opts)?;
    let path = opts.path()?;
    let [rows, d] = match *grad_weight.shape() {
        [v, d] => [v, d],
        _ => {
            return Err(GatherError::InvalidEmbeddingArgument {
                op: OP,
                reason: format!(
                    "the table's gradient must be 2-d [rows, dim], but has shape {:?}",
                    grad_weight.shape()
                ),
            });
        }
    };
    let mut want = ids.shape().to_vec();
    want.push(d);
    if grad.shape() != want.as_slice() {
        return Err(GatherError::InvalidEmbeddingArgument {
            op: OP,
            reason: format!(
                "the gradient must have shape ids.shape + [dim] = {want:?}, but has {:?}",
                grad.shape()
            ),
        });
    }
    let pad = padding_row(OP, padding_idx, rows)?;
    let ids_dense = dense(ids)?;
    let mut resolved = try_vec(ids_dense.len())?;
    for (p, id) in ids_dense.iter().enumerate() {
        let v = id.to_i64();
        if v < 0 || v as u64 >= rows as u64 {
            return Err(GatherError::IndexOutOfBounds {
                value: id.to_i128(),
                position: super::unravel(p, ids.shape()),
                dim: 0,
                size: rows,
                wraps: false,
            });
        }
        resolved.push(if Some(v as usize) == pad {
            PAD
        } else {
            v as usize
        });
    }
    let mut copy = None;
    let table = grad_rows(grad, resolved.len(), d, &mut copy)?;
    let terms = Lookups { rows: &resolved };
    into_dense(grad_weight, zeroed, |gw| {
        add_terms(path, gw, d, &table, &terms, opts.parallel)
    })
}

// ---------------------------------------------------------------------------
// embedding_bag

/// The terms of a sum or mean bag: id `p` adds its bag's gradient row,
/// scaled by its weight or by one over its bag's count.
struct Pooled<'r, T> {
    rows: &'r [usize],
    bag_of: &'r [usize],
    scale: Option<&'r [T]>,
}

impl<T: Reduce> Terms<T> for Pooled<'_, T> {
    fn len(&self) -> usize {
        self.rows.len()
    }
    #[inline(always)]
    fn term(&self, p: usize) -> (usize, usize, Option<usize>, Option<T>) {
        (self.rows[p], self.bag_of[p], None, self.scale.map(|s| s[p]))
    }
}

/// The terms of a max bag: element `j` of bag `b`'s gradient goes to the row
/// its maximum came from.
struct Winners<'r> {
    winners: &'r [usize],
    d: usize,
}

impl<T: Reduce> Terms<T> for Winners<'_> {
    fn len(&self) -> usize {
        self.winners.len()
    }
    #[inline(always)]
    fn term(&self, k: usize) -> (usize, usize, Option<usize>, Option<T>) {
        (self.winners[k], k / self.d, Some(k % self.d), None)
    }
}

/// Each bag and column's maximum's table row ([`PAD`] for empty bags): the
/// first id whose value has the bits of the maximum the forward kept (the
/// first of equal values; with NaNs, the first NaN of the result's bits).
fn winners<T: Reduce, I: IndexElem>(
    table: &Table<'_, T>,
    plan: &BagPlan<'_, T, I>,
) -> Result<Vec<usize>, GatherError> {
    let d = table.d;
    let n = plan.bags() * d;
    let mut out = try_vec(n)?;
    out.resize(n, PAD);
    if d == 0 {
        return Ok(out);
    }
    let mut best = vec![<T::Acc as Reduce>::LOWEST; d];
    let mut scratch = vec![T::zeroed(); if table.dense_rows() { 0 } else { d }];
    for (b, win) in out.chunks_exact_mut(d).enumerate() {
        best.fill(<T::Acc as Reduce>::LOWEST);
        let ids = || plan.range(b).map(|p| plan.row(p)).filter(|&r| r != PAD);
        for r in ids() {
            for (m, &x) in best.iter_mut().zip(table.row(r, &mut scratch)) {
                *m = m.maximum(x.widen());
            }
        }
        for r in ids() {
            for ((w, m), &x) in win.iter_mut().zip(&best).zip(table.row(r, &mut scratch)) {
                if *w == PAD && bytemuck::bytes_of(&x.widen()) == bytemuck::bytes_of(m) {
                    *w = r;
                }
            }
        }
    }
    Ok(out)
}

/// The per-sample weights' gradient: for id `p`, the dot product of its bag's
/// gradient row and its table row, summed in order of the columns in the
/// accumulation type; 0 for padding.
fn weight_grads<T: Reduce, I: IndexElem>(
    path: Path,
    table: &Table<'_, T>,
    grad: &Table<'_, T>,
    plan: &BagPlan<'_, T, I>,
    bag_of: &[usize],
    out: &mut [T],
) {
    // The closure inlined whole into the path's entry point, so its loops
    // are compiled for the path.
    on_path(
        path,
        #[inline(always)]
        || {
            let d = table.d;
            if d == 0 {
                out.fill(T::zeroed());
                return;
            }
            let mut s1 = vec![T::zeroed(); if table.dense_rows() { 0 } else { d }];
            let mut s2 = vec![T::zeroed(); if grad.dense_rows() { 0 } else { d }];
            for (p, o) in out.iter_mut().enumerate() {
                let r = plan.row(p);
                if r == PAD {
                    *o = T::zeroed();
                    continue;
                }
                let (w, g) = (table.row(r, &mut s1), grad.row(bag_of[p], &mut s2));
                let mut acc: T::Acc = bytemuck::Zeroable::zeroed();
                for (&x, &y) in w.iter().zip(g) {
                    acc = acc.accumulate(x.widen().product(y.widen()));
                }
                *o = T::narrow(acc);
            }
        },
    )
}

/// The gradients of [`embedding_bag`](crate::embedding_bag) for the output
/// gradient `grad` `[bags, dim]`: the table's, and the per-sample weights'
/// where the bags have weights. `weight` is the table the forward read (a max
/// bag's gradient goes to the rows its maxima came from; the weights'
/// gradient is a dot product with the rows).
///
/// - sum: row `ids[p]` gets its bag's gradient row (times the weight of `p`);
/// - mean: the bag's gradient row times one over the bag's count;
/// - max: each element of a bag's gradient row goes to the row whose value
///   was the maximum there (the first of equal values);
/// - padding ids and empty bags contribute nothing.
///
/// Terms meet each table row in id order whatever the thread count.
///
/// ```
/// use fastgather::{embedding_bag_backward, BagMode, Bags, TensorView};
/// let table = TensorView::new(&[1.0f32, 5.0, 3.0, 2.0], &[2, 2]).unwrap();
/// let ids = TensorView::new(&[0i64, 1, 1], &[3]).unwrap();
/// let offsets = TensorView::new(&[0i64, 2], &[2]).unwrap(); // [0, 1], [1]
/// let grad = TensorView::new(&[1.0f32, 1.0, 4.0, 4.0], &[2, 2]).unwrap();
/// let mean = Bags::with_offsets(&ids, &offsets).mode(BagMode::Mean);
/// let g = embedding_bag_backward(&table, &mean, &grad).unwrap();
/// assert_eq!(g.weight.as_slice(), &[0.5, 0.5, 4.5, 4.5]);
/// let max = Bags::with_offsets(&ids, &offsets).mode(BagMode::Max);
/// let g = embedding_bag_backward(&table, &max, &grad).unwrap();
/// assert_eq!(g.weight.as_slice(), &[0.0, 1.0, 5.0, 4.0]);
/// ```
pub fn embedding_bag_backward<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    grad: &TensorView<'_, T>,
) -> Result<BagGrads<T>, GatherError> {
    embedding_bag_backward_with(weight, bags, grad, &GatherOptions::default())
}

/// [`embedding_bag_backward`] with explicit [`GatherOptions`].
pub fn embedding_bag_backward_with<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    grad: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<BagGrads<T>, GatherError> {
    let shape = table_shape("embedding_bag_backward", weight)?;
    let mut gw = Tensor::zeros(&shape)?;
    let mut gs = match &bags.weights {
        Some(w) => Some(Tensor::zeros(w.shape())?),
        None => None,
    };
    embedding_bag_backward_impl(
        weight,
        bags,
        grad,
        &mut gw.view_mut(),
        gs.as_mut().map(|t| t.view_mut()).as_mut(),
        true,
        opts,
    )?;
    Ok(BagGrads {
        weight: gw,
        per_sample_weights: gs,
    })
}

/// [`embedding_bag_backward`] into `grad_weight` (the table's shape) and, where
/// the bags have weights, `grad_per_sample_weights` (the ids' shape; `None`
/// skips it). Both are overwritten.
pub fn embedding_bag_backward_into<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    grad: &TensorView<'_, T>,
    grad_weight: &mut TensorViewMut<'_, T>,
    grad_per_sample_weights: Option<&mut TensorViewMut<'_, T>>,
) -> Result<(), GatherError> {
    embedding_bag_backward_into_with(
        weight,
        bags,
        grad,
        grad_weight,
        grad_per_sample_weights,
        &GatherOptions::default(),
    )
}

/// [`embedding_bag_backward_into`] with explicit [`GatherOptions`].
pub fn embedding_bag_backward_into_with<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    grad: &TensorView<'_, T>,
    grad_weight: &mut TensorViewMut<'_, T>,
    grad_per_sample_weights: Option<&mut TensorViewMut<'_, T>>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    embedding_bag_backward_impl(
        weight,
        bags,
        grad,
        grad_weight,
        grad_per_sample_weights,
        false,
        opts,
    )
}

fn embedding_bag_backward_impl<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    grad: &TensorView<'_, T>,
    grad_weight: &mut TensorViewMut<'_, T>,
    grad_per_sample_weights: Option<&mut TensorViewMut<'_, T>>,
    zeroed: bool,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    const OP: &str = "embedding_bag_backward";
    let [rows, d] = table_shape(OP, weight)?;
    plain_mode(OP, opts)?;
    let path = opts.path()?;
    let plan = plan(bags, rows)?;
    if grad.shape() != [plan.bags(), d] {
        return Err(GatherError::InvalidEmbeddingArgument {
            op: OP,
            reason: format!(
                "the gradient must have shape [bags, dim] = {:?}, but has {:?}",
                [plan.bags(), d],
                grad.shape()
            ),
        });
    }
    check_out(grad_weight, &[rows, d])?;
    if let Some(gs) = &grad_per_sample_weights {
        if bags.weights.is_none() {
            return Err(GatherError::InvalidEmbeddingArgument {
                op: OP,
                reason: "a gradient of per-sample weights was asked for, but the bags have none"
                    .to_string(),
            });
        }
        check_out(gs, bags.ids.shape())?;
    }
    let table = Table::of(weight);
    let gtable = Table::of(grad);
    let mut bag_of = try_vec(plan.ids.len())?;
    for b in 0..plan.bags() {
        bag_of.extend(plan.range(b).map(|_| b));
    }
    match plan.mode {
        BagMode::Max => {
            let winners = winners(&table, &plan)?;
            let terms = Winners {
                winners: &winners,
                d,
            };
            into_dense(grad_weight, zeroed, |gw| {
                add_terms(path, gw, d, &gtable, &terms, opts.parallel)
            })?;
        }
        BagMode::Sum | BagMode::Mean => {
            let scale: Option<Vec<T>> = match (plan.mode, &plan.weights) {
                (BagMode::Mean, _) => {
                    let inverse: Vec<T> = (0..plan.bags())
                        .map(|b| {
                            let count = plan.range(b).filter(|&p| plan.row(p) != PAD).count();
                            T::ONE.mean(count_of::<T>(count.max(1)))
                        })
                        .collect();
                    Some(bag_of.iter().map(|&b| inverse[b]).collect())
                }
                (_, Some(w)) => Some(w.to_vec()),
                _ => None,
            };
            let rows = plan.resolved()?;
            let terms = Pooled {
                rows: &rows,
                bag_of: &bag_of,
                scale: scale.as_deref(),
            };
            into_dense(grad_weight, zeroed, |gw| {
                add_terms(path, gw, d, &gtable, &terms, opts.parallel)
            })?;
        }
    }
    if let Some(gs) = grad_per_sample_weights {
        into_dense(gs, false, |out| {
            weight_grads(path, &table, &gtable, &plan, &bag_of, out)
        })?;
    }
    Ok(())
}
