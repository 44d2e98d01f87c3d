//! The oracle: a per-element gather, and the scatters and indexing family
//! after it, written for obviousness, not speed.
//!
//! ```
//! use fastgather::{gather, reference, TensorView};
//! let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
//! let idx = TensorView::new(&[2i64, 0, 1, 1], &[2, 2]).unwrap();
//! assert_eq!(gather(&src, 1, &idx), reference::gather(&src, 1, &idx));
//! ```
//!
//! It shares nothing with the fast path but the view types: its own checks, in
//! torch's order, and one element at a time by multi-index. Tests, benches and
//! fuzz targets compare every kernel against it.

use crate::alloc::try_vec;
use crate::element::{Accumulate, Reduce};
use crate::embedding::{BagGrads, BagMode, Bags, Segments};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::layout::for_each_position;
use crate::options::IndexMode;
use crate::scatter_reduce::Reduction;
use crate::view::{Tensor, TensorView};

/// `torch.gather(src, dim, index)`, one element at a time.
///
/// ```
/// use fastgather::{reference, TensorView};
/// let src = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[1i64, 0], &[2, 1]).unwrap();
/// assert_eq!(reference::gather(&src, 1, &idx).unwrap().as_slice(), &[2, 3]);
/// ```
pub fn gather<T: Copy, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    let rank = src.rank().max(1);
    let r = rank as isize;
    if dim < -r || dim >= r {
        return Err(GatherError::DimOutOfRange { dim, rank });
    }
    let d = if dim < 0 { dim + r } else { dim } as usize;
    if index.is_empty() {
        return Tensor::from_vec(Vec::new(), index.shape());
    }
    if index.rank().max(1) != rank {
        return Err(GatherError::RankMismatch {
            src_rank: src.rank(),
            index_rank: index.rank(),
        });
    }
    // A 0-d tensor acts as 1-d of size 1.
    let as_1d = |shape: &[usize]| {
        if shape.is_empty() {
            vec![1]
        } else {
            shape.to_vec()
        }
    };
    let (src_shape, idx_shape) = (as_1d(src.shape()), as_1d(index.shape()));
    for k in 0..rank {
        if k != d && idx_shape[k] > src_shape[k] {
            return Err(GatherError::SizeMismatch {
                axis: k,
                dim: d,
                index_shape: index.shape().to_vec(),
                src_shape: src.shape().to_vec(),
            });
        }
    }
    let size = src_shape[d];
    let mut out = try_vec(index.len())?;
    let mut err = None;
    for_each_position(index.shape(), |pos| {
        let value = index.get(pos).expect("position inside the index").to_i128();
        if value < 0 || value >= size as i128 {
            err = Some(GatherError::IndexOutOfBounds {
                value,
                position: pos.to_vec(),
                dim: d,
                size,
                wraps: false,
            });
            return false;
        }
        let mut at = pos.to_vec();
        if src.rank() == 0 {
            at.clear();
        } else {
            if at.is_empty() {
                at.push(0);
            }
            at[d] = value as usize;
        }
        out.push(*src.get(&at).expect("position inside the source"));
        true
    });
    match err {
        Some(e) => Err(e),
        None => Tensor::from_vec(out, index.shape()),
    }
}

// ---------------------------------------------------------------------------
// Scatters and the indexing family (torch's issue-16 operations)
// ---------------------------------------------------------------------------

/// Where one index value points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// This position along the dim.
    At(usize),
    /// Nowhere: an out-of-range write that [`IndexMode::Drop`] skips.
    Skip,
    /// Out of range: an error.
    Bad,
}

/// `value` against `size` under `mode`, from the exact value: only a value
/// stored negative (of a signed index type) counts from the end.
fn target(value: i128, size: usize, mode: IndexMode) -> Target {
    let n = size as i128;
    if (0..n).contains(&value) {
        return Target::At(value as usize);
    }
    match mode {
        IndexMode::Error => Target::Bad,
        IndexMode::Wrap if value < 0 && -value <= n => Target::At((n + value) as usize),
        IndexMode::Wrap => Target::Bad,
        IndexMode::Clamp if size == 0 => Target::Bad,
        IndexMode::Clamp if value < 0 => Target::At(0),
        IndexMode::Clamp => Target::At(size - 1),
        IndexMode::Fill | IndexMode::Drop => Target::Skip,
    }
}

/// `pos` as a position of a tensor of rank `rank`, a 0-d tensor acting as
/// one of shape `[1]`.
fn pos_in(pos: &[usize], rank: usize) -> Vec<usize> {
    match (rank, pos.len()) {
        (0, _) => Vec::new(),
        (_, 0) => vec![0],
        _ => pos.to_vec(),
    }
}

/// The offset of `pos` in a row-major buffer of `shape` (both as [`pos_in`]
/// makes them).
fn row_major(shape: &[usize], pos: &[usize]) -> usize {
    pos.iter().zip(shape).fold(0, |acc, (&p, &s)| acc * s + p)
}

/// `dim` wrapped against `max(rank, 1)`.
fn wrapped_dim(dim: isize, rank: usize) -> Result<usize, GatherError> {
    let r = rank.max(1) as isize;
    if dim < -r || dim >= r {
        return Err(GatherError::DimOutOfRange {
            dim,
            rank: rank.max(1),
        });
    }
    Ok(if dim < 0 { dim + r } else { dim } as usize)
}

/// A scatter's refusal of [`IndexMode::Fill`].
fn fill_refused() -> GatherError {
    GatherError::InvalidOption {
        reason: "a scatter has no fill value".to_string(),
    }
}

/// The writes of a scatter, in row-major order of the index: for each index
/// position `p` whose value lands (not dropped), `p` and the row-major offset
/// in `dest` of `p` with `p[dim] = index[p]`. torch's checks, in its order:
/// the mode, the dim, nothing for an empty index, the ranks (0-d as `[1]`),
/// `index.size(k) <= src.size(k)` for all `k` and `<= dest.size(k)` for
/// `k != dim`, then every value (the first bad one in row-major order named).
fn scatter_writes<I: IndexElem>(
    dest: &[usize],
    dim: isize,
    index: &TensorView<'_, I>,
    src: &[usize],
    mode: IndexMode,
) -> Result<Vec<(Vec<usize>, usize)>, GatherError> {
    if mode == IndexMode::Fill {
        return Err(fill_refused());
    }
    let d = wrapped_dim(dim, dest.len())?;
    if index.is_empty() {
        return Ok(Vec::new());
    }
    let rank = dest.len().max(1);
    for other in [src, index.shape()] {
        if other.len().max(1) != rank {
            return Err(GatherError::RankMismatch {
                src_rank: dest.len(),
                index_rank: other.len(),
            });
        }
    }
    let size_of = |s: &[usize], k: usize| s.get(k).copied().unwrap_or(1);
    for k in 0..rank {
        let i = size_of(index.shape(), k);
        if i > size_of(src, k) || (k != d && i > size_of(dest, k)) {
            return Err(GatherError::ScatterSizeMismatch {
                axis: k,
                dim: d,
                index_shape: index.shape().to_vec(),
                self_shape: dest.to_vec(),
                src_shape: src.to_vec(),
            });
        }
    }
    let size = size_of(dest, d);
    let dest_1d: Vec<usize> = if dest.is_empty() {
        vec![1]
    } else {
        dest.to_vec()
    };
    let mut writes = Vec::new();
    let mut err = None;
    for_each_position(index.shape(), |pos| {
        let value = index.get(pos).expect("position inside the index").to_i128();
        match target(value, size, mode) {
            Target::At(v) => {
                let mut at = pos_in(pos, rank);
                at[d] = v;
                writes.push((pos.to_vec(), row_major(&dest_1d, &at)));
                true
            }
            Target::Skip => true,
            Target::Bad => {
                err = Some(GatherError::IndexOutOfBounds {
                    value,
                    position: pos.to_vec(),
                    dim: d,
                    size,
                    wraps: mode == IndexMode::Wrap,
                });
                false
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(writes),
    }
}

/// `v[pos]`, `pos` a position of an index of the same rank (0-d as `[1]`).
fn read<T: Copy>(v: &TensorView<'_, T>, pos: &[usize]) -> T {
    *v.get(&pos_in(pos, v.rank()))
        .expect("position inside the view")
}

/// torch's `input.scatter(dim, index, src)` with an index mode: for every
/// index position `p` in row-major order, `out[p with p[dim] = index[p]] =
/// src[p]`, so where positions collide the last one wins. With
/// [`IndexMode::Drop`] an out-of-range write is skipped; `Fill` is refused.
///
/// ```
/// use fastgather::{reference, IndexMode, TensorView};
/// let x = TensorView::new(&[0, 0, 0], &[3]).unwrap();
/// let idx = TensorView::new(&[2i64, -1, 0], &[3]).unwrap();
/// let src = TensorView::new(&[7, 8, 9], &[3]).unwrap();
/// let out = reference::scatter(&x, 0, &idx, &src, IndexMode::Wrap).unwrap();
/// assert_eq!(out.as_slice(), &[9, 0, 8]);
/// ```
pub fn scatter<T: Copy, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    let writes = scatter_writes(input.shape(), dim, index, src.shape(), mode)?;
    let mut out = input.to_vec();
    for (pos, at) in writes {
        out[at] = read(src, &pos);
    }
    Tensor::from_vec(out, input.shape())
}

/// The reductions of [`scatter_reduce_in`], carried in `A` (the element's
/// accumulation type), one value at a time.
fn reduce_loop<A: Reduce>(
    out: &mut [A],
    writes: &[(usize, A)],
    reduce: Reduction,
    include_self: bool,
) {
    if !include_self {
        let start = match reduce {
            Reduction::Sum | Reduction::Mean => A::zeroed(),
            Reduction::Prod => A::ONE,
            Reduction::Amax => A::LOWEST,
            Reduction::Amin => A::HIGHEST,
        };
        for &(at, _) in writes {
            out[at] = start;
        }
    }
    for &(at, x) in writes {
        let old = out[at];
        out[at] = match reduce {
            Reduction::Sum | Reduction::Mean => old.accumulate(x),
            Reduction::Prod => old.product(x),
            Reduction::Amax => old.maximum(x),
            Reduction::Amin => old.minimum(x),
        };
    }
    if reduce != Reduction::Mean {
        return;
    }
    // The count, summed in the accumulation type as torch sums it.
    let base = if include_self { A::ONE } else { A::zeroed() };
    let mut count = vec![base; out.len()];
    let mut touched = vec![false; out.len()];
    for &(at, _) in writes {
        count[at] = count[at].accumulate(A::ONE);
        touched[at] = true;
    }
    let zero = A::zeroed();
    for at in 0..out.len() {
        // A count that wrapped to zero divides by one: the sum stays.
        if touched[at] && bytemuck::bytes_of(&count[at]) != bytemuck::bytes_of(&zero) {
            out[at] = out[at].mean(count[at]);
        }
    }
}

/// torch's `input.scatter_reduce(dim, index, src, reduce, include_self)`
/// (index mode [`IndexMode::Error`]): see [`scatter_reduce_in`].
///
/// ```
/// use fastgather::{reference, Reduction, TensorView};
/// let x = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let idx = TensorView::new(&[0i64, 0, 2], &[3]).unwrap();
/// let v = TensorView::new(&[5.0f32, -1.0, 7.0], &[3]).unwrap();
/// let out = reference::scatter_reduce(&x, 0, &idx, &v, Reduction::Mean, false).unwrap();
/// assert_eq!(out.as_slice(), &[2.0, 2.0, 7.0]);
/// ```
pub fn scatter_reduce<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
) -> Result<Tensor<T>, GatherError> {
    scatter_reduce_in(
        input,
        dim,
        index,
        src,
        reduce,
        include_self,
        IndexMode::Error,
    )
}

/// torch's `scatter_reduce` by its most direct loop, with an index mode:
/// - every element the index names is first set to the reduction's start
///   when `include_self` is false (`+0` for sums and means, one for products,
///   [`Reduce::LOWEST`] / [`Reduce::HIGHEST`] for `Amax` / `Amin`);
/// - then the values meet their element one at a time, in row-major order of
///   the index;
/// - a mean then divides each element that was named by its count: one per
///   value, plus one with `include_self`, summed in the element type (so it
///   wraps for integers) and skipped where it is zero;
/// - everything is carried in [`Reduce::Acc`] and rounded back once per
///   element (`f16` / `bf16` in `f32`, as torch 2.15's CPU kernels do).
///
/// Errors as [`scatter`]'s. `scatter_add` is `Sum` with `include_self`.
pub fn scatter_reduce_in<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    let writes = scatter_writes(input.shape(), dim, index, src.shape(), mode)?;
    let mut out: Vec<T::Acc> = input.to_vec().into_iter().map(T::widen).collect();
    let writes: Vec<(usize, T::Acc)> = writes
        .iter()
        .map(|(pos, at)| (*at, read(src, pos).widen()))
        .collect();
    reduce_loop(&mut out, &writes, reduce, include_self);
    Tensor::from_vec(out.into_iter().map(T::narrow).collect(), input.shape())
}

/// The writes of an `index_*` operation: for every position `q` of the
/// slices (`dest`'s shape with `dim` sized as the index), in row-major order,
/// `q` and the row-major offset in `dest` of `q` with `q[dim] =
/// index[q[dim]]`. torch's checks, in its order: the mode, the dim, the slice
/// shape (when `source` is given: `dest`'s shape with `dim` sized as the
/// index, 0-d as `[1]`), the index's rank (1-d or 0-d), then the values, when
/// any slice element is written (the first bad one named at its position in
/// the index).
fn slice_writes<I: IndexElem>(
    op: &'static str,
    dest: &[usize],
    dim: isize,
    index: &TensorView<'_, I>,
    source: Option<&[usize]>,
    mode: IndexMode,
) -> Result<Vec<(Vec<usize>, usize)>, GatherError> {
    if mode == IndexMode::Fill {
        return Err(fill_refused());
    }
    let d = wrapped_dim(dim, dest.len())?;
    let dest_1d: Vec<usize> = if dest.is_empty() {
        vec![1]
    } else {
        dest.to_vec()
    };
    let mut slices = dest_1d.clone();
    slices[d] = index.len();
    if let Some(source) = source {
        let source_1d = if source.is_empty() {
            vec![1]
        } else {
            source.to_vec()
        };
        if index.rank() <= 1 && source_1d != slices {
            return Err(GatherError::SliceShapeMismatch {
                op,
                dim: d,
                self_shape: dest.to_vec(),
                source_shape: source.to_vec(),
                index_len: index.len(),
            });
        }
    }
    if index.rank() > 1 {
        return Err(GatherError::IndexNotVector {
            op,
            index_shape: index.shape().to_vec(),
        });
    }
    let values: Vec<i128> = index.to_vec().iter().map(|v| v.to_i128()).collect();
    let size = dest_1d[d];
    let mut writes = Vec::new();
    if slices.contains(&0) {
        return Ok(writes);
    }
    let mut targets = Vec::with_capacity(values.len());
    for (i, &value) in values.iter().enumerate() {
        match target(value, size, mode) {
            Target::Bad => {
                return Err(GatherError::IndexOutOfBounds {
                    value,
                    position: vec![i; index.rank()],
                    dim: d,
                    size,
                    wraps: mode == IndexMode::Wrap,
                });
            }
            t => targets.push(t),
        }
    }
    for_each_position(&slices, |q| {
        if let Target::At(v) = targets[q[d]] {
            let mut at = q.to_vec();
            at[d] = v;
            writes.push((q.to_vec(), row_major(&dest_1d, &at)));
        }
        true
    });
    Ok(writes)
}

/// torch's `input.index_add(dim, index, source, alpha)` (torch's index mode is
/// [`IndexMode::Error`]): slice `i` of `source` along `dim`, times `alpha`, is
/// added to slice `index[i]`, slices in index order, carried in
/// [`Reduce::Acc`] and rounded back once per element. `x * alpha` is added
/// with one rounding ([`Reduce::add_fused`]) where `input` has rank 2 or
/// more, with two where it has rank 0 or 1, as torch's CPU kernels do.
///
/// ```
/// use fastgather::{reference, IndexMode, TensorView};
/// let x = TensorView::new(&[1, 2, 3], &[3]).unwrap();
/// let i = TensorView::new(&[0i64, 0], &[2]).unwrap();
/// let s = TensorView::new(&[5, 6], &[2]).unwrap();
/// let out = reference::index_add(&x, 0, &i, &s, 2, IndexMode::Error).unwrap();
/// assert_eq!(out.as_slice(), &[23, 2, 3]);
/// ```
pub fn index_add<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    alpha: T,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    let shape = Some(source.shape());
    let writes = slice_writes("index_add", input.shape(), dim, index, shape, mode)?;
    let mut out: Vec<T::Acc> = input.to_vec().into_iter().map(T::widen).collect();
    let alpha = alpha.widen();
    for (q, at) in writes {
        let x = read(source, &q).widen();
        out[at] = if input.rank() >= 2 {
            out[at].add_fused(x, alpha)
        } else {
            out[at].accumulate(x.product(alpha))
        };
    }
    Tensor::from_vec(out.into_iter().map(T::narrow).collect(), input.shape())
}

/// torch's `input.index_copy(dim, index, source)` (torch's index mode is
/// [`IndexMode::Error`]): slice `i` of `source` replaces slice `index[i]`;
/// where the index repeats, the last slice wins.
///
/// ```
/// use fastgather::{reference, IndexMode, TensorView};
/// let x = TensorView::new(&[0, 0, 0, 0], &[2, 2]).unwrap();
/// let i = TensorView::new(&[1i64, 1], &[2]).unwrap();
/// let s = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// let out = reference::index_copy(&x, 1, &i, &s, IndexMode::Error).unwrap();
/// assert_eq!(out.as_slice(), &[0, 2, 0, 4]);
/// ```
pub fn index_copy<T: Copy, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    let shape = Some(source.shape());
    let writes = slice_writes("index_copy", input.shape(), dim, index, shape, mode)?;
    let mut out = input.to_vec();
    for (q, at) in writes {
        out[at] = read(source, &q);
    }
    Tensor::from_vec(out, input.shape())
}

/// torch's `input.index_fill(dim, index, value)` (torch's index mode is
/// [`IndexMode::Wrap`]): every slice `index[i]` is set to `value`. Every
/// index value is checked, even where the index names more slices than a 0-d
/// `input` has.
///
/// ```
/// use fastgather::{reference, IndexMode, TensorView};
/// let x = TensorView::new(&[1, 2, 3], &[3]).unwrap();
/// let i = TensorView::new(&[-1i64], &[1]).unwrap();
/// let out = reference::index_fill(&x, 0, &i, 0, IndexMode::Wrap).unwrap();
/// assert_eq!(out.as_slice(), &[1, 2, 0]);
/// ```
pub fn index_fill<T: Copy, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    value: T,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    let writes = slice_writes("index_fill", input.shape(), dim, index, None, mode)?;
    let mut out = input.to_vec();
    for (_, at) in writes {
        out[at] = value;
    }
    Tensor::from_vec(out, input.shape())
}

/// torch's `input.index_reduce(dim, index, source, reduce, include_self)`
/// (torch's index mode is [`IndexMode::Error`]): slice `i` of `source` is
/// reduced into slice `index[i]` by [`scatter_reduce_in`]'s rules. `Sum` is
/// refused first ([`GatherError::InvalidReduction`]), as torch refuses it.
///
/// ```
/// use fastgather::{reference, IndexMode, Reduction, TensorView};
/// let x = TensorView::new(&[0, 0], &[2]).unwrap();
/// let i = TensorView::new(&[1i64, 1], &[2]).unwrap();
/// let s = TensorView::new(&[-7, 0], &[2]).unwrap();
/// let out = reference::index_reduce(&x, 0, &i, &s, Reduction::Mean, false, IndexMode::Error);
/// assert_eq!(out.unwrap().as_slice(), &[0, -4]);
/// ```
pub fn index_reduce<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    if reduce == Reduction::Sum {
        return Err(GatherError::InvalidReduction {
            op: "index_reduce",
            name: reduce.to_string(),
            expected: "\"prod\", \"mean\", \"amax\", \"amin\"",
        });
    }
    let shape = Some(source.shape());
    let writes = slice_writes("index_reduce", input.shape(), dim, index, shape, mode)?;
    let mut out: Vec<T::Acc> = input.to_vec().into_iter().map(T::widen).collect();
    let writes: Vec<(usize, T::Acc)> = writes
        .iter()
        .map(|(q, at)| (*at, read(source, q).widen()))
        .collect();
    reduce_loop(&mut out, &writes, reduce, include_self);
    Tensor::from_vec(out.into_iter().map(T::narrow).collect(), input.shape())
}

/// The row-major position of flat offset `k` in `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (p, &s) in pos.iter_mut().zip(shape).rev() {
        *p = k % s;
        k /= s;
    }
    pos
}

/// torch's `torch.take(input, index)` with an index mode (torch's is
/// [`IndexMode::Wrap`]): `out[p] = input.flatten()[index[p]]`, with the
/// index's shape. A bad value is named at its position in the index, against
/// dim 0 of the flattened input; `Fill` and `Drop` are refused here.
///
/// ```
/// use fastgather::{reference, IndexMode, TensorView};
/// let x = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// let i = TensorView::new(&[3i64, -4], &[2]).unwrap();
/// assert_eq!(reference::take(&x, &i, IndexMode::Wrap).unwrap().as_slice(), &[4, 1]);
/// ```
pub fn take<T: Copy, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    if matches!(mode, IndexMode::Fill | IndexMode::Drop) {
        return Err(GatherError::InvalidOption {
            reason: "the reference's take has no fill value and drops nothing".to_string(),
        });
    }
    let flat = input.to_vec();
    let mut out = Vec::with_capacity(index.len());
    let mut err = None;
    for_each_position(index.shape(), |pos| {
        let value = index.get(pos).expect("position inside the index").to_i128();
        match target(value, flat.len(), mode) {
            Target::At(at) => {
                out.push(flat[at]);
                true
            }
            _ => {
                err = Some(GatherError::IndexOutOfBounds {
                    value,
                    position: pos.to_vec(),
                    dim: 0,
                    size: flat.len(),
                    wraps: mode == IndexMode::Wrap,
                });
                false
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Tensor::from_vec(out, index.shape()),
    }
}

/// torch's `input.put(index, source, accumulate)` with an index mode (torch's
/// is [`IndexMode::Wrap`]): `input.flatten()[index[p]] = source[p]` (`+=`
/// with `accumulate`, carried in [`Reduce::Acc`] and rounded once per
/// element), `source` matched to the index element by element in row-major
/// order; where the index repeats without `accumulate`, the last value wins.
/// Checks: `Fill` refused, then equal element counts
/// ([`GatherError::LengthMismatch`]), then the values (named at their
/// position in the index, against dim 0 of the flattened input).
///
/// ```
/// use fastgather::{reference, IndexMode, TensorView};
/// let x = TensorView::new(&[0, 0, 0], &[3]).unwrap();
/// let i = TensorView::new(&[0i64, 0, -1], &[3]).unwrap();
/// let s = TensorView::new(&[1, 2, 3], &[3]).unwrap();
/// let out = reference::put(&x, &i, &s, true, IndexMode::Wrap).unwrap();
/// assert_eq!(out.as_slice(), &[3, 0, 3]);
/// ```
pub fn put<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    accumulate: bool,
    mode: IndexMode,
) -> Result<Tensor<T>, GatherError> {
    if mode == IndexMode::Fill {
        return Err(fill_refused());
    }
    if source.len() != index.len() {
        return Err(GatherError::LengthMismatch {
            expected: index.len(),
            actual: source.len(),
        });
    }
    let (values, source) = (index.to_vec(), source.to_vec());
    let mut out: Vec<T::Acc> = input.to_vec().into_iter().map(T::widen).collect();
    for (k, (v, x)) in values.iter().zip(source).enumerate() {
        let value = v.to_i128();
        match target(value, out.len(), mode) {
            Target::At(at) if accumulate => out[at] = out[at].accumulate(x.widen()),
            Target::At(at) => out[at] = x.widen(),
            Target::Skip => {}
            Target::Bad => {
                return Err(GatherError::IndexOutOfBounds {
                    value,
                    position: unravel(k, index.shape()),
                    dim: 0,
                    size: out.len(),
                    wraps: mode == IndexMode::Wrap,
                });
            }
        }
    }
    Tensor::from_vec(out.into_iter().map(T::narrow).collect(), input.shape())
}

/// The broadcast shape of `a` and `b` (equal ranks) on every axis but `dim`,
/// where `b`'s size is kept; `None` where they do not broadcast.
fn broadcast_but(a: &[usize], b: &[usize], dim: usize) -> Option<Vec<usize>> {
    let mut shape = b.to_vec();
    for (k, s) in shape.iter_mut().enumerate() {
        match (a[k], b[k]) {
            _ if k == dim => {}
            (x, y) if x == y => {}
            (1, _) => {}
            (x, 1) => *s = x,
            _ => return None,
        }
    }
    Some(shape)
}

/// `p` (a position of the broadcast shape) in a tensor of `shape` whose size-1
/// axes stretch.
fn unbroadcast(p: &[usize], shape: &[usize]) -> Vec<usize> {
    p.iter()
        .zip(shape)
        .map(|(&i, &s)| if s == 1 { 0 } else { i })
        .collect()
}

/// `torch.take_along_dim(input, indices, dim)`, as fastgather defines it:
/// with a `dim`, numpy's `take_along_axis` (equal ranks; the other axes
/// broadcast; values in `-size..size`, negative ones counting from the end:
/// torch 2.15 wraps every value modulo the size instead); without one,
/// `input.flatten()[indices.flatten()]`, values in `0..numel`. Only results
/// are exact: an error comes back with the right variant (the broadcast
/// axis, value and position it names may differ from fastgather's).
///
/// ```
/// use fastgather::{reference, TensorView};
/// let x = TensorView::new(&[10, 30, 20, 60, 50, 40], &[2, 3]).unwrap();
/// let i = TensorView::new(&[-1i64], &[1, 1]).unwrap();
/// assert_eq!(reference::take_along_dim(&x, &i, Some(1)).unwrap().as_slice(), &[20, 40]);
/// let i = TensorView::new(&[5i64, 0], &[2]).unwrap();
/// assert_eq!(reference::take_along_dim(&x, &i, None).unwrap().as_slice(), &[40, 10]);
/// ```
pub fn take_along_dim<T: Copy, I: IndexElem>(
    input: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    dim: Option<isize>,
) -> Result<Tensor<T>, GatherError> {
    let Some(dim) = dim else {
        let flat = indices.to_vec();
        let flat = TensorView::new(&flat, &[flat.len()])?;
        return take(input, &flat, IndexMode::Error);
    };
    let d = wrapped_dim(dim, input.rank())?;
    if input.rank() != indices.rank() {
        return Err(GatherError::RankMismatch {
            src_rank: input.rank(),
            index_rank: indices.rank(),
        });
    }
    let (a, b) = (input.shape(), indices.shape());
    let shape = broadcast_but(a, b, d).ok_or_else(|| GatherError::SizeMismatch {
        axis: 0,
        dim: d,
        index_shape: b.to_vec(),
        src_shape: a.to_vec(),
    })?;
    let size = a.get(d).copied().unwrap_or(1);
    let bad = |value, position| GatherError::IndexOutOfBounds {
        value,
        position,
        dim: d,
        size,
        wraps: true,
    };
    // numpy checks every value, even where the result is empty.
    let mut err = None;
    for_each_position(b, |p| {
        let value = indices.get(p).expect("position inside the index").to_i128();
        if target(value, size, IndexMode::Wrap) == Target::Bad {
            err = Some(bad(value, p.to_vec()));
        }
        err.is_none()
    });
    if let Some(e) = err {
        return Err(e);
    }
    let mut out = Vec::new();
    for_each_position(&shape, |p| {
        let value = indices.get(&unbroadcast(p, b)).expect("index").to_i128();
        let Target::At(v) = target(value, size, IndexMode::Wrap) else {
            unreachable!("values were checked")
        };
        let mut at = unbroadcast(p, a);
        if let Some(x) = at.get_mut(d) {
            *x = v;
        }
        out.push(*input.get(&at).expect("position inside the input"));
        true
    });
    Tensor::from_vec(out, &shape)
}

/// numpy's `put_along_axis(arr, indices, values, axis)` (index mode
/// [`IndexMode::Wrap`]), with fastgather's broadcasting: equal ranks (0-d as
/// `[1]`), `indices`' other axes stretch to `arr`'s (size 1 or equal), `values`
/// broadcasts (numpy's trailing rule) to that shape; then a scatter in
/// row-major order of the broadcast indices, the last write winning. Only
/// results are exact: an error comes back with the right variant.
///
/// ```
/// use fastgather::{reference, TensorView};
/// let a = TensorView::new(&[10, 30, 20, 60, 50, 40], &[2, 3]).unwrap();
/// let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
/// let zero = TensorView::new(&[0], &[1]).unwrap();
/// let out = reference::put_along_axis(&a, &last, &zero, 1).unwrap();
/// assert_eq!(out.as_slice(), &[10, 30, 0, 60, 50, 0]);
/// ```
pub fn put_along_axis<T: Copy, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    values: &TensorView<'_, T>,
    axis: isize,
) -> Result<Tensor<T>, GatherError> {
    let d = wrapped_dim(axis, arr.rank())?;
    if indices.rank().max(1) != arr.rank().max(1) {
        return Err(GatherError::RankMismatch {
            src_rank: arr.rank(),
            index_rank: indices.rank(),
        });
    }
    let as_1d = |s: &[usize]| if s.is_empty() { vec![1] } else { s.to_vec() };
    let (a, b) = (as_1d(arr.shape()), indices.shape().to_vec());
    let not_broadcastable = |a: &[usize], b: &[usize]| GatherError::NotBroadcastable {
        op: "put_along_axis",
        axis: 0,
        a: a.to_vec(),
        b: b.to_vec(),
    };
    // `arr` is written, so only `indices` stretches.
    let mut shape = Vec::with_capacity(b.len());
    for (k, &y) in as_1d(&b).iter().enumerate() {
        shape.push(match (a[k], y) {
            _ if k == d => y,
            (x, y) if x == y || y == 1 => x,
            _ => return Err(not_broadcastable(&a, &b)),
        });
    }
    if b.is_empty() {
        shape.clear();
    }
    let v = values.shape();
    let fits = v.len() <= shape.len()
        && v.iter()
            .rev()
            .zip(shape.iter().rev())
            .all(|(&x, &s)| x == s || x == 1);
    if !fits {
        return Err(not_broadcastable(&shape, v));
    }
    let size = a[d];
    let mut out = arr.to_vec();
    let mut err = None;
    for_each_position(&shape, |p| {
        let value = indices.get(&unbroadcast(p, &b)).expect("index").to_i128();
        let Target::At(at) = target(value, size, IndexMode::Wrap) else {
            err = Some(GatherError::IndexOutOfBounds {
                value,
                position: p.to_vec(),
                dim: d,
                size,
                wraps: true,
            });
            return false;
        };
        let mut q = pos_in(p, arr.rank());
        if let Some(x) = q.get_mut(d) {
            *x = at;
        }
        // `values` lines up with the broadcast shape at its trailing axes.
        let vp = unbroadcast(&p[p.len() - v.len()..], v);
        out[row_major(arr.shape(), &q)] = *values.get(&vp).expect("value");
        true
    });
    match err {
        Some(e) => Err(e),
        None => Tensor::from_vec(out, arr.shape()),
    }
}

// ---------------------------------------------------------------------------
// Embeddings: bags, their gradients, segments
// ---------------------------------------------------------------------------

fn embedding_error(op: &'static str, reason: String) -> GatherError {
    GatherError::InvalidEmbeddingArgument { op, reason }
}

fn offsets_error(
    op: &'static str,
    position: usize,
    value: i64,
    ids: usize,
    reason: &'static str,
) -> GatherError {
    GatherError::InvalidOffsets {
        op,
        position,
        value: value.into(),
        ids,
        reason,
    }
}

/// The sizes of a table `[rows, dim]`.
fn table_dims<T>(op: &'static str, weight: &TensorView<'_, T>) -> Result<[usize; 2], GatherError> {
    match *weight.shape() {
        [rows, d] => Ok([rows, d]),
        _ => Err(embedding_error(op, "the table must be 2-d".to_string())),
    }
}

/// torch's `padding_idx` as a row of a table of `rows` rows: `-rows..rows`,
/// negative counting from the end.
fn padding_of(
    op: &'static str,
    padding_idx: Option<i64>,
    rows: usize,
) -> Result<Option<usize>, GatherError> {
    let Some(p) = padding_idx else {
        return Ok(None);
    };
    let n = rows as i128;
    let p = i128::from(p);
    if p < -n || p >= n {
        return Err(embedding_error(
            op,
            format!("padding_idx {p} is outside the table"),
        ));
    }
    Ok(Some(if p < 0 { p + n } else { p } as usize))
}

/// The id at `pos` as a table row, or the out-of-range error naming it.
fn id_row<I: IndexElem>(
    ids: &TensorView<'_, I>,
    pos: &[usize],
    rows: usize,
) -> Result<usize, GatherError> {
    let value = read(ids, pos).to_i128();
    if value < 0 || value >= rows as i128 {
        return Err(GatherError::IndexOutOfBounds {
            value,
            position: pos.to_vec(),
            dim: 0,
            size: rows,
            wraps: false,
        });
    }
    Ok(value as usize)
}

/// The bags, checked: each bag's positions in the ids (row-major), each
/// position's table row (`None` for padding) and the weights (row-major).
struct CheckedBags<T> {
    bags: Vec<std::ops::Range<usize>>,
    rows: Vec<Option<usize>>,
    weights: Option<Vec<T>>,
}

impl<T> CheckedBags<T> {
    /// Bag `b`'s members that are not padding: (position, table row), in order.
    fn members(&self, b: usize) -> Vec<(usize, usize)> {
        self.bags[b]
            .clone()
            .filter_map(|p| self.rows[p].map(|r| (p, r)))
            .collect()
    }
}

/// [`Bags`]' documented rules, checked in this order: the shapes (1-d ids
/// with 1-d offsets, or 2-d ids alone), the offsets (start at 0, never
/// decrease, within the ids, present when there are ids, the last one the
/// number of ids with `include_last_offset`), the weights (mode sum only, the
/// ids' shape), `padding_idx`, then every id (the first bad one in row-major
/// order named at its position).
fn check_bags<T: Copy, I: IndexElem>(
    bags: &Bags<'_, T, I>,
    rows: usize,
) -> Result<CheckedBags<T>, GatherError> {
    const OP: &str = "embedding_bag";
    let ids = &bags.ids;
    let n = ids.len();
    let ranges = match &bags.offsets {
        None => {
            let [count, len] = *ids.shape() else {
                return Err(embedding_error(
                    OP,
                    "ids without offsets must be 2-d".into(),
                ));
            };
            (0..count).map(|b| b * len..(b + 1) * len).collect()
        }
        Some(offsets) => {
            if ids.rank() != 1 {
                return Err(embedding_error(OP, "ids with offsets must be 1-d".into()));
            }
            if offsets.rank() != 1 {
                return Err(embedding_error(OP, "offsets must be 1-d".into()));
            }
            let offs: Vec<i64> = offsets.to_vec().iter().map(|o| o.to_i64()).collect();
            if offs.is_empty() && (n > 0 || bags.include_last_offset) {
                return Err(offsets_error(OP, 0, 0, n, "missing"));
            }
            for (k, &o) in offs.iter().enumerate() {
                if k == 0 && o != 0 {
                    return Err(offsets_error(OP, 0, o, n, "not 0"));
                }
                if k > 0 && o < offs[k - 1] {
                    return Err(offsets_error(OP, k, o, n, "decreasing"));
                }
                if o > n as i64 {
                    return Err(offsets_error(OP, k, o, n, "past the ids"));
                }
            }
            let mut starts = offs.as_slice();
            if bags.include_last_offset
                && let Some((&last, rest)) = offs.split_last()
            {
                if last != n as i64 {
                    return Err(offsets_error(OP, offs.len() - 1, last, n, "not the end"));
                }
                starts = rest;
            }
            // Bag k runs from its offset to the next one, the last to the end.
            (0..starts.len())
                .map(|k| offs[k] as usize..offs.get(k + 1).map_or(n, |&e| e as usize))
                .collect()
        }
    };
    if let Some(w) = &bags.weights {
        if bags.mode != BagMode::Sum {
            return Err(embedding_error(
                OP,
                "weights with a mode other than sum".into(),
            ));
        }
        if w.shape() != ids.shape() {
            return Err(embedding_error(OP, "weights not of the ids' shape".into()));
        }
    }
    let pad = padding_of(OP, bags.padding_idx, rows)?;
    let mut resolved = Vec::with_capacity(n);
    let mut err = None;
    for_each_position(ids.shape(), |pos| match id_row(ids, pos, rows) {
        Ok(r) => {
            resolved.push(Some(r).filter(|&r| Some(r) != pad));
            true
        }
        Err(e) => {
            err = Some(e);
            false
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(CheckedBags {
        bags: ranges,
        rows: resolved,
        weights: bags.weights.as_ref().map(|w| w.to_vec()),
    })
}

/// `n` converted to the element type as a mean's count: `n` ones summed in
/// the accumulation type, rounded once.
fn count_in<T: Reduce>(n: usize) -> T {
    T::narrow(<T::Acc as Reduce>::count(n as u64))
}

/// [`embedding_bag`](crate::embedding_bag) by its documented rules, one
/// output element at a time: for each bag and column, over the bag's
/// non-padding ids in order,
/// - sum: `acc.accumulate(x)` (or `acc + x * w` with per-sample weights:
///   fused except for `f64`, torch's two paths) in [`Reduce::Acc`] from
///   zero, rounded once (`bf16` half away from zero, as FBGEMM);
/// - mean: the sum rounded so, then `.mean(count)` with the count of
///   non-padding ids converted to `T`; an empty bag is zero;
/// - max: [`Reduce::maximum`] in `Acc` from the first value (a NaN anywhere
///   wins); an empty bag is zero.
///
/// Errors as the kernel's, checked in this order: the table's rank, the
/// shapes of ids and offsets, the offsets, the weights, `padding_idx`, then
/// the ids.
///
/// ```
/// use fastgather::{reference, BagMode, Bags, TensorView};
/// let table = TensorView::new(&[1.0f32, 10.0, 2.0, 20.0], &[2, 2]).unwrap();
/// let ids = TensorView::new(&[0i64, 1, 1], &[3]).unwrap();
/// let offsets = TensorView::new(&[0i64, 1], &[2]).unwrap();
/// let bags = Bags::with_offsets(&ids, &offsets).mode(BagMode::Mean);
/// let out = reference::embedding_bag_ref(&table, &bags).unwrap();
/// assert_eq!(out.as_slice(), &[1.0, 10.0, 2.0, 20.0]);
/// ```
pub fn embedding_bag_ref<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
) -> Result<Tensor<T>, GatherError> {
    let [rows, d] = table_dims("embedding_bag", weight)?;
    let checked = check_bags(bags, rows)?;
    let mut out = Vec::new();
    for b in 0..checked.bags.len() {
        let members = checked.members(b);
        for j in 0..d {
            let x = |r: usize| read(weight, &[r, j]).widen();
            out.push(match bags.mode {
                BagMode::Sum | BagMode::Mean => {
                    let mut acc: T::Acc = bytemuck::Zeroable::zeroed();
                    for &(p, r) in &members {
                        acc = match &checked.weights {
                            None => acc.accumulate(x(r)),
                            Some(w) => T::bag_weighted(acc, read(weight, &[r, j]), w[p]),
                        };
                    }
                    match bags.mode {
                        BagMode::Mean if members.is_empty() => T::zeroed(),
                        BagMode::Mean => T::bag_narrow(acc).mean(count_in::<T>(members.len())),
                        _ => T::bag_narrow(acc),
                    }
                }
                BagMode::Max => members
                    .iter()
                    .map(|&(_, r)| x(r))
                    .reduce(|m, v| m.maximum(v))
                    .map_or(T::zeroed(), T::narrow),
            });
        }
    }
    Tensor::from_vec(out, &[checked.bags.len(), d])
}

/// [`embedding_bag_backward`](crate::embedding_bag_backward) by its
/// documented rules. The table's gradient starts at zero; bag by bag, id by
/// id (so every row gets its terms in id order), in `T`:
/// - sum: `g.accumulate(grad)`, or `g.add_fused(grad, w)` with per-sample
///   weights;
/// - mean: `g.add_fused(grad, T::ONE.mean(count))`, the count of the bag's
///   non-padding ids converted to `T`;
/// - max: for each column, `grad` is `accumulate`d into the row of the first
///   non-padding id whose value (in `Acc`) has the bits of the forward's
///   maximum;
/// - padding ids and empty bags contribute nothing.
///
/// The per-sample weights' gradient at `p` is the dot product of its table row
/// and its bag's gradient row in column order, each term
/// `acc.accumulate(x.product(g))` in `Acc` from zero, rounded once; zero for
/// padding.
///
/// Errors: [`embedding_bag_ref`]'s, then `grad` of a shape other than
/// `[bags, dim]`.
///
/// ```
/// use fastgather::{reference, BagMode, Bags, TensorView};
/// let table = TensorView::new(&[1.0f32, 5.0, 3.0, 2.0], &[2, 2]).unwrap();
/// let ids = TensorView::new(&[0i64, 1], &[1, 2]).unwrap();
/// let grad = TensorView::new(&[1.0f32, 2.0], &[1, 2]).unwrap();
/// let max = Bags::fixed(&ids).mode(BagMode::Max);
/// let g = reference::embedding_bag_backward_ref(&table, &max, &grad).unwrap();
/// assert_eq!(g.weight.as_slice(), &[0.0, 2.0, 1.0, 0.0]);
/// ```
pub fn embedding_bag_backward_ref<T: Reduce, I: IndexElem>(
    weight: &TensorView<'_, T>,
    bags: &Bags<'_, T, I>,
    grad: &TensorView<'_, T>,
) -> Result<BagGrads<T>, GatherError> {
    const OP: &str = "embedding_bag_backward";
    let [rows, d] = table_dims(OP, weight)?;
    let checked = check_bags(bags, rows)?;
    let count = checked.bags.len();
    if grad.shape() != [count, d] {
        return Err(embedding_error(
            OP,
            "the gradient is not [bags, dim]".into(),
        ));
    }
    let x = |r: usize, j: usize| read(weight, &[r, j]).widen();
    let mut gw = vec![T::zeroed(); rows * d];
    for b in 0..count {
        let members = checked.members(b);
        if bags.mode == BagMode::Max {
            for j in 0..d {
                let values = members.iter().map(|&(_, r)| x(r, j));
                let Some(kept) = values.reduce(|m, v| m.maximum(v)) else {
                    continue;
                };
                let bits = bytemuck::bytes_of(&kept);
                let &(_, r) = members
                    .iter()
                    .find(|&&(_, r)| bytemuck::bytes_of(&x(r, j)) == bits)
                    .expect("the maximum is one of the values");
                gw[r * d + j] = gw[r * d + j].accumulate(read(grad, &[b, j]));
            }
            continue;
        }
        let mean = T::ONE.mean(count_in::<T>(members.len().max(1)));
        for &(p, r) in &members {
            let scale = match (bags.mode, &checked.weights) {
                (BagMode::Mean, _) => Some(mean),
                (_, Some(w)) => Some(w[p]),
                _ => None,
            };
            for j in 0..d {
                let (g, at) = (read(grad, &[b, j]), &mut gw[r * d + j]);
                *at = match scale {
                    None => at.accumulate(g),
                    Some(s) => at.add_fused(g, s),
                };
            }
        }
    }
    let psw = match &checked.weights {
        None => None,
        Some(_) => {
            let mut out = vec![T::zeroed(); checked.rows.len()];
            for b in 0..count {
                for (p, r) in checked.members(b) {
                    let mut acc: T::Acc = bytemuck::Zeroable::zeroed();
                    for j in 0..d {
                        acc = acc.accumulate(x(r, j).product(read(grad, &[b, j]).widen()));
                    }
                    out[p] = T::narrow(acc);
                }
            }
            Some(Tensor::from_vec(out, bags.ids.shape())?)
        }
    };
    Ok(BagGrads {
        weight: Tensor::from_vec(gw, &[rows, d])?,
        per_sample_weights: psw,
    })
}

/// [`embedding_backward`](crate::embedding_backward) by its documented rule:
/// a zero table `[rows, dim]` (`dim` the last size of `grad`), and for every
/// position `p` of the ids in row-major order whose id is not `padding_idx`,
/// `grad[p]` added into row `ids[p]` with [`Accumulate::accumulate`] in `T`.
///
/// Errors, in this order: `grad` of a shape other than `ids.shape + [dim]`,
/// `padding_idx` outside `-rows..rows`, an id outside the table (the first
/// in row-major order, at its position).
///
/// ```
/// use fastgather::{reference, TensorView};
/// let ids = TensorView::new(&[1i64, 1], &[2]).unwrap();
/// let grad = TensorView::new(&[1.0f32, 2.0], &[2, 1]).unwrap();
/// let gw = reference::embedding_backward_ref(&grad, &ids, 2, None).unwrap();
/// assert_eq!(gw.as_slice(), &[0.0, 3.0]);
/// ```
pub fn embedding_backward_ref<T: Reduce, I: IndexElem>(
    grad: &TensorView<'_, T>,
    ids: &TensorView<'_, I>,
    rows: usize,
    padding_idx: Option<i64>,
) -> Result<Tensor<T>, GatherError> {
    const OP: &str = "embedding_backward";
    let d = grad.shape().last().copied().unwrap_or(0);
    let mut want = ids.shape().to_vec();
    want.push(d);
    if grad.shape() != want.as_slice() {
        return Err(embedding_error(
            OP,
            "the gradient is not ids.shape + [dim]".into(),
        ));
    }
    let pad = padding_of(OP, padding_idx, rows)?;
    let mut gw = vec![T::zeroed(); rows * d];
    let mut err = None;
    for_each_position(ids.shape(), |pos| {
        let r = match id_row(ids, pos, rows) {
            Ok(r) => r,
            Err(e) => {
                err = Some(e);
                return false;
            }
        };
        if Some(r) != pad {
            let mut at = pos.to_vec();
            at.push(0);
            for j in 0..d {
                *at.last_mut().expect("dim") = j;
                gw[r * d + j] = gw[r * d + j].accumulate(read(grad, &at));
            }
        }
        true
    });
    match err {
        Some(e) => Err(e),
        None => Tensor::from_vec(gw, &[rows, d]),
    }
}

/// The segments' bounds along `rows` rows, by [`Segments`]' rules: lengths
/// not negative and summing to `rows`; offsets starting at 0, never
/// decreasing, within and ending at `rows`.
fn segment_bounds<I: IndexElem>(
    segments: &Segments<'_, I>,
    rows: usize,
) -> Result<Vec<std::ops::Range<usize>>, GatherError> {
    const OP: &str = "segment_reduce";
    let (v, lengths) = match segments {
        Segments::Lengths(v) => (v, true),
        Segments::Offsets(v) => (v, false),
    };
    if v.rank() != 1 {
        return Err(embedding_error(OP, "lengths / offsets must be 1-d".into()));
    }
    let vals: Vec<i64> = v.to_vec().iter().map(|x| x.to_i64()).collect();
    let last = vals.len().saturating_sub(1);
    let mut out = Vec::new();
    if lengths {
        let mut at = 0usize;
        for (k, &l) in vals.iter().enumerate() {
            if l < 0 {
                return Err(offsets_error(OP, k, l, rows, "negative"));
            }
            if l as u64 > (rows - at) as u64 {
                return Err(offsets_error(OP, k, l, rows, "past the rows"));
            }
            out.push(at..at + l as usize);
            at += l as usize;
        }
        if at != rows {
            let value = vals.last().copied().unwrap_or(0);
            return Err(offsets_error(OP, last, value, rows, "short"));
        }
    } else {
        if vals.is_empty() {
            return Err(offsets_error(OP, 0, 0, rows, "missing"));
        }
        for (k, &o) in vals.iter().enumerate() {
            if o < 0 {
                return Err(offsets_error(OP, k, o, rows, "negative"));
            }
            if k > 0 && o < vals[k - 1] {
                return Err(offsets_error(OP, k, o, rows, "decreasing"));
            }
            if o > rows as i64 {
                return Err(offsets_error(OP, k, o, rows, "past the rows"));
            }
        }
        out = vals
            .windows(2)
            .map(|w| w[0] as usize..w[1] as usize)
            .collect();
    }
    Ok(out)
}

/// [`segment_reduce`](crate::segment_reduce) by its documented rules, one
/// output element at a time: each segment's rows, in order, reduced in `T`
/// (halves round at every step, as torch's do) from `initial` or else 0
/// (sum, mean), one (prod), [`Reduce::LOWEST`] (max), [`Reduce::HIGHEST`]
/// (min), with `accumulate`, `product`, `maximum` or `minimum`; a mean of
/// `n > 0` rows is `acc.mean(n)` (the count converted to `T`); an empty mean
/// is `initial`, else NaN for floats (torch's `0 / 0`) and 0 for integers.
///
/// Errors: data of rank 0, lengths or offsets not 1-d, then the first bad
/// entry of the lengths or offsets.
///
/// ```
/// use fastgather::{reference, Reduction, Segments, TensorView};
/// let data = TensorView::new(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let segments = Segments::Lengths(TensorView::new(&[2i64, 0], &[2]).unwrap());
/// let out = reference::segment_reduce_ref(&data, &segments, Reduction::Sum, Some(0.5)).unwrap();
/// assert_eq!(out.as_slice(), &[4.5, 6.5, 0.5, 0.5]);
/// ```
pub fn segment_reduce_ref<T: Reduce, I: IndexElem>(
    data: &TensorView<'_, T>,
    segments: &Segments<'_, I>,
    reduce: Reduction,
    initial: Option<T>,
) -> Result<Tensor<T>, GatherError> {
    let Some((&rows, inner)) = data.shape().split_first() else {
        return Err(embedding_error("segment_reduce", "0-d data".into()));
    };
    let bounds = segment_bounds(segments, rows)?;
    let start = match (initial, reduce) {
        (Some(v), _) => v,
        (None, Reduction::Sum | Reduction::Mean) => T::zeroed(),
        (None, Reduction::Prod) => T::ONE,
        (None, Reduction::Amax) => T::LOWEST,
        (None, Reduction::Amin) => T::HIGHEST,
    };
    let mut out = Vec::new();
    for seg in &bounds {
        for_each_position(inner, |q| {
            let mut acc = start;
            for r in seg.clone() {
                let mut at = vec![r];
                at.extend_from_slice(q);
                let x = read(data, &at);
                acc = match reduce {
                    Reduction::Sum | Reduction::Mean => acc.accumulate(x),
                    Reduction::Prod => acc.product(x),
                    Reduction::Amax => acc.maximum(x),
                    Reduction::Amin => acc.minimum(x),
                };
            }
            let n = seg.len();
            out.push(match (reduce, initial) {
                (Reduction::Mean, _) if n > 0 => acc.mean(count_in::<T>(n)),
                (Reduction::Mean, Some(v)) => v,
                (Reduction::Mean, None) => T::empty_mean(),
                _ => acc,
            });
            true
        });
    }
    let mut shape = data.shape().to_vec();
    shape[0] = bounds.len();
    Tensor::from_vec(out, &shape)
}
