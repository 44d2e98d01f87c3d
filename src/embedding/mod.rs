//! Embedding lookups (`embedding`), bags of them (`embedding_bag`), segment
//! reductions (`segment_reduce`), and the gradients of the first two.
//!
//! A lookup is an `index_select` of table rows. A bag is checked whole first
//! (`bags.rs`: every id, offset and weight), then pooled bag by bag into its
//! output row (`pool.rs`): bags split across threads in contiguous runs and
//! each bag is pooled by one thread in id order, so results are the same bits
//! on any thread count. The gradients (`backward.rs`) are sums into table rows
//! split by row range, each row receiving its terms in id order.

mod backward;
mod bags;
mod pool;
mod segment;

pub use backward::{
    BagGrads, embedding_backward, embedding_backward_into, embedding_backward_into_with,
    embedding_backward_with, embedding_bag_backward, embedding_bag_backward_into,
    embedding_bag_backward_into_with, embedding_bag_backward_with,
};
pub use bags::Bags;
pub use segment::{
    Segments, segment_reduce, segment_reduce_into, segment_reduce_into_with, segment_reduce_with,
};

use crate::element::{Element, Reduce};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::index_select::{index_select_into_with, index_select_with};
use crate::isa::Isa;
use crate::options::{GatherOptions, IndexMode};
use crate::par::{for_each_rows_mut, threads};
use crate::scatter_reduce::for_each_element;
use crate::view::{Tensor, TensorView, TensorViewMut};
use pool::{Max, Mean, Sum, Table, pool_bags};
use std::fmt;
use std::str::FromStr;

/// How an embedding bag pools its rows (torch's `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BagMode {
    /// The sum of the rows (weighted by `per_sample_weights` where given).
    Sum,
    /// The sum divided by the number of ids in the bag (padding not counted);
    /// an empty bag gives zeros.
    Mean,
    /// The largest value of each column; an empty bag gives zeros. A NaN
    /// anywhere in a bag's column is the result (torch keeps it only when it
    /// comes first).
    Max,
}

impl fmt::Display for BagMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BagMode::Sum => "sum",
            BagMode::Mean => "mean",
            BagMode::Max => "max",
        })
    }
}

/// torch's names: `"sum"`, `"mean"`, `"max"`.
///
/// ```
/// use fastgather::BagMode;
/// assert_eq!("mean".parse::<BagMode>().unwrap(), BagMode::Mean);
/// assert!("amax".parse::<BagMode>().is_err());
/// ```
impl FromStr for BagMode {
    type Err = GatherError;
    fn from_str(s: &str) -> Result<Self, GatherError> {
        match s {
            "sum" => Ok(BagMode::Sum),
            "mean" => Ok(BagMode::Mean),
            "max" => Ok(BagMode::Max),
            _ => Err(GatherError::InvalidReduction {
                op: "embedding_bag",
                name: s.to_string(),
                expected: "sum, mean, max",
            }),
        }
    }
}

/// The kernel an embedding bag runs, from [`explain_embedding_bag`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolChoice {
    /// The instruction-set path the pooling loops are compiled for.
    pub isa: Isa,
    /// `"embedding::pool"` (rows read in place) or
    /// `"embedding::pool_strided"` (each row copied out of a table whose
    /// columns are not adjacent).
    pub kernel: &'static str,
    /// Threads the bags may split across.
    pub threads: usize,
}

fn table_shape<T>(op: &'static str, weight: &TensorView<'_, T>) -> Result<[usize; 2], GatherError> {
    match *weight.shape() {
        [v, d] => Ok([v, d]),
        _ => Err(GatherError::InvalidEmbeddingArgument {
            op,
            reason: format!(
                "the table must be 2-d [rows, dim], but has shape {:?}",
                weight.shape()
            ),
        }),
    }
}

/// torch's index rule for embeddings: no index modes.
fn plain_mode(op: &'static str, opts: &GatherOptions) -> Result<(), GatherError> {
    if opts.index_mode() != IndexMode::Error {
        return Err(GatherError::InvalidOption {
            reason: format!("{op} takes no index mode: every id must name a row"),
        });
    }
    Ok(())
}

/// The position of element `p` of a row-major `shape`.
fn unravel(mut p: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (k, &s) in shape.iter().enumerate().rev() {
        if s > 0 {
            pos[k] = p % s;
            p /= s;
        }
    }
    pos
}

/// The contiguous elements of `out` when it is one dense row-major run.
fn dense_mut<'o, T>(out: &'o mut TensorViewMut<'_, T>) -> Option<&'o mut [T]> {
    if out.is_empty() {
        // An empty view's offset is not checked against its buffer.
        return Some(&mut []);
    }
    if !out.is_contiguous() {
        return None;
    }
    let (start, n) = (out.offset(), out.len());
    Some(&mut out.data_mut()[start..start + n])
}

/// Writes `values` (row-major) through `out`'s strides.
fn write_through<T: Copy>(out: &mut TensorViewMut<'_, T>, values: &[T]) {
    let mut it = values.iter();
    for_each_element(out, |o| {
        if let Some(&v) = it.next() {
            *o = v;
        }
    });
}

fn check_out<T>(out: &TensorViewMut<'_, T>, shape: &[usize]) -> Result<(), GatherError> {
    if out.shape() != shape {
        return Err(GatherError::OutShapeMismatch {
            expected: shape.to_vec(),
            actual: out.shape().to_vec(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// embedding

/// The ids as a 1-d view (a copy where their layout cannot be seen as one).
fn ids_1d<'i, I: IndexElem>(
    ids: &TensorView<'i, I>,
) -> Result<(TensorView<'i, I>, Option<Vec<I>>), GatherError> {
    match ids.reshape(&[ids.len()]) {
        Ok(flat) => Ok((flat, None)),
        Err(_) => Ok((ids.clone(), Some(ids.try_to_vec()?))),
    }
}

/// An out-of-range id named at its position in the caller's ids.
fn at_id_position(e: GatherError, shape: &[usize]) -> GatherError {
    match e {
        GatherError::IndexOutOfBounds {
            value,
            position,
            size,
            wraps,
            ..
        } => GatherError::IndexOutOfBounds {
            value,
            position: unravel(position.first().copied().unwrap_or(0), shape),
            dim: 0,
            size,
            wraps,
        },
        e => e,
    }
}

/// `torch.nn.functional.embedding(ids, weight)`: row `ids[p]` of the table
/// `weight` `[rows, dim]` for every position `p`; the result has shape
/// `ids.shape + [dim]`.
///
/// torch's `padding_idx` changes only the gradient (see
/// [`embedding_backward`]); `max_norm` (which rewrites the table) is not
/// offered.
///
/// ```
/// use fastgather::{embedding, TensorView};
/// let table = TensorView::new(&[0.0f32, 0.5, 1.0, 1.5, 2.0, 2.5], &[3, 2]).unwrap();
/// let ids = TensorView::new(&[2i64, 0, 2, 1], &[2, 2]).unwrap();
/// let out = embedding(&table, &ids).unwrap();
/// assert_eq!(out.shape(), &[2, 2, 2]);
/// assert_eq!(out.as_slice(), &[2.0, 2.5, 0.0, 0.5, 2.0, 2.5, 1.0, 1.5]);
/// ```
pub fn embedding<T: Element, I: IndexElem>(
    weight: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    embedding_with(weight, ids, &GatherOptions::default())
}

/// [`embedding`] with explicit [`GatherOptions`] (threads, instruction set;
/// no index modes).
pub fn embedding_with<T: Element, I: IndexElem>(
    weight: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    let [_, d] = table_shape("embedding", weight)?;
    plain_mode("embedding", opts)?;
    let (flat, copy) = ids_1d(ids)?;
    let flat = match &copy {
        Some(v) => TensorView::new(v, &[v.len()])?,
        None => flat,
    };
    let rows =
        index_select_with(weight, 0, &flat, opts).map_err(|e| at_id_position(e, ids.shape()))?;
    let mut shape = ids.shape().to_vec();
    shape.push(d);
    rows.reshape(&shape)
}

/// [`embedding`] into `out`, of shape `ids.shape + [dim]`.
pub fn embedding_into<T: Element, I: IndexElem>(
    weight: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    embedding_into_with(weight, ids, out, &GatherOptions::default())
}

/// [`embedding_into`] with explicit [`GatherOptions`].
pub fn embedding_into_with<T: Element, I: IndexElem>(
    weight: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let [_, d] = table_shape("embedding", weight)?;
    plain_mode("embedding", opts)?;
    let mut shape = ids.shape().to_vec();
    shape.push(d);
    check_out(out, &shape)?;
    let (flat, copy) = ids_1d(ids)?;
    let flat = match &copy {
        Some(v) => TensorView::new(v, &[v.len()])?,
        None => flat,
    };
    let n = flat.len();
    match out.reborrow().reshape(&[n, d]) {
        Ok(mut rows) => index_select_into_with(weight, 0, &flat, &mut rows, opts),
        Err(_) => {
            let rows = index_select_with(weight, 0, &flat, opts);
            rows.map(|r| write_through(out, r.as_slice()))
        }
    }
    .map_err(|e| at_id_position(e, ids.shape()))
}

// ---------------------------------------------------------------------------
// embedding_bag

/// `torch.nn.functional.embedding_bag(ids, weight, offsets, mode=..,
/// per_sample_weights=.., padding_idx=.., include_last_offset=..)`: each bag
/// of [`Bags`] pooled into one row of the result `[bags, dim]`.
///
/// - Sums and means accumulate in `f32` for `f16` and `bf16` tables (in the
///   element type otherwise) and round once; a mean divides the rounded sum
///   by the bag's count of non-padding ids.
/// - Empty bags (and bags of padding only) give zeros in every mode.
/// - The result is the same bits on any number of threads.
///
/// Errors (nothing is written): an id outside the table
/// ([`GatherError::IndexOutOfBounds`] at its position), offsets that do not
/// start at 0, decrease or run past the ids, empty offsets with ids, a last
/// offset other than the number of ids with `include_last_offset`
/// ([`GatherError::InvalidOffsets`]), and weights of another shape, weights
/// with a mode other than sum, or a `padding_idx` outside the table
/// ([`GatherError::InvalidEmbeddingArgument`]).
///
/// ```
/// use fastgather::{embedding_bag, BagMode, Bags, TensorView};
/// let table = TensorView::new(&[1.0f32, 10.0, 2.0, 20.0, 3.0, 30.0], &[3, 2]).unwrap();
/// let ids = TensorView::new(&[0i64, 2, 1, 1], &[4]).unwrap();
/// let offsets = TensorView::new(&[0i64, 2, 2], &[3]).unwrap(); // [0, 2], [], [1, 1]
/// let sums = embedding_bag(&table, &Bags::with_offsets(&ids, &offsets)).unwrap();
/// assert_eq!(sums.as_slice(), &[4.0, 40.0, 0.0, 0.0, 4.0, 40.0]);
/// let bags = Bags::with_offsets(&ids, &offsets).mode(BagMode::Max);
/// assert_eq!(embedding_bag(&table, &bags).unwrap().as_slice(), &[3.0, 30.0, 0.0, 0.0, 2.0, 20.0]);
/// ```
pub fn embedding_bag<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
) -> Result<Tensor<T>, GatherError> {
    embedding_bag_with(weight, bags, &GatherOptions::default())
}

/// [`embedding_bag`] with explicit [`GatherOptions`] (threads, instruction
/// set; no index modes).
pub fn embedding_bag_with<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    let [_, d] = table_shape("embedding_bag", weight)?;
    let b = bags.count()?;
    let mut out = Tensor::zeros(&[b, d])?;
    embedding_bag_into_with(weight, bags, &mut out.view_mut(), opts)?;
    Ok(out)
}

/// [`embedding_bag`] into `out` `[bags, dim]` (every element is written).
pub fn embedding_bag_into<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    embedding_bag_into_with(weight, bags, out, &GatherOptions::default())
}

/// [`embedding_bag_into`] with explicit [`GatherOptions`].
pub fn embedding_bag_into_with<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let [rows, d] = table_shape("embedding_bag", weight)?;
    plain_mode("embedding_bag", opts)?;
    let path = opts.path()?;
    let plan = bags::plan(bags, rows)?;
    check_out(out, &[plan.bags(), d])?;
    let table = Table::of(weight);
    let work = plan
        .ids
        .len()
        .saturating_mul(d)
        .saturating_mul(size_of::<T>());
    let run = |dst: &mut [T]| {
        let (table, plan) = (&table, &plan);
        let go = |dst: &mut [T], pool: &(dyn Fn(usize, &mut [T]) + Sync)| {
            for_each_rows_mut(dst, d, work, opts.parallel, pool);
        };
        match plan.mode {
            BagMode::Sum => go(dst, &|first, chunk| {
                pool_bags(path, Sum, table, plan, first, chunk)
            }),
            BagMode::Mean => go(dst, &|first, chunk| {
                pool_bags(path, Mean, table, plan, first, chunk)
            }),
            BagMode::Max => go(dst, &|first, chunk| {
                pool_bags(path, Max, table, plan, first, chunk)
            }),
        }
    };
    match dense_mut(out) {
        Some(dst) => run(dst),
        None => {
            let mut tmp = crate::alloc::try_vec(plan.bags() * d)?;
            tmp.resize(plan.bags() * d, T::zeroed());
            run(&mut tmp);
            write_through(out, &tmp);
        }
    }
    Ok(())
}

/// Which kernel [`embedding_bag`] runs for these arguments, after the same
/// checks.
///
/// ```
/// use fastgather::{explain_embedding_bag, Bags, GatherOptions, Isa, TensorView};
/// let table = TensorView::new(&[0.5f32; 12], &[3, 4]).unwrap();
/// let ids = TensorView::new(&[0i64, 2, 1], &[3]).unwrap();
/// let offsets = TensorView::new(&[0i64, 1], &[2]).unwrap();
/// let opts = GatherOptions::new().isa(Isa::Scalar);
/// let choice = explain_embedding_bag(&table, &Bags::with_offsets(&ids, &offsets), &opts).unwrap();
/// assert_eq!((choice.kernel, choice.isa), ("embedding::pool", Isa::Scalar));
/// let strided = table.transpose(0, 1).unwrap().slice(0, 0, 3, 1).unwrap();
/// let choice = explain_embedding_bag(&strided, &Bags::with_offsets(&ids, &offsets), &opts).unwrap();
/// assert_eq!(choice.kernel, "embedding::pool_strided");
/// ```
pub fn explain_embedding_bag<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    opts: &GatherOptions,
) -> Result<PoolChoice, GatherError> {
    let [rows, _] = table_shape("embedding_bag", weight)?;
    plain_mode("embedding_bag", opts)?;
    let path = opts.path()?;
    bags::plan(bags, rows)?;
    let table = Table::of(weight);
    Ok(PoolChoice {
        isa: path.isa(),
        kernel: if table.dense_rows() {
            "embedding::pool"
        } else {
            "embedding::pool_strided"
        },
        threads: threads(opts.parallel),
    })
}
