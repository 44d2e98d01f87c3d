//! `scatter_reduce` and `scatter` of one value: reductions by index, exact to
//! torch's rules, the same on any number of threads.
//!
//! A reduction runs as at most three scatters over the same plan and threads:
//! with `include_self = false` the elements the index touches are first set to
//! the reduction's start (`+0`, one, `-inf`, `+inf`), as torch does; then the
//! values are combined in index order; a mean then divides each touched element
//! by its count, summed in the element type as torch sums it.

use crate::dim::{Dim, wrap_dim};
use crate::element::{Element, Reduce};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::index::{Resolved, resolve};
use crate::kernel::scatter::{Add, Assign, Max, Min, Mul};
use crate::layout::for_each_position;
use crate::options::{GatherOptions, IndexMode};
use crate::plan::Plan;
use crate::scatter::{run_scatter, scatter_path};
use crate::view::{Tensor, TensorView, TensorViewMut};
use std::any::TypeId;
use std::fmt;
use std::str::FromStr;

/// How `scatter_reduce` and `index_reduce` combine the values that meet at one
/// element. Parsed from torch's names (`"sum"`, `"prod"`, `"mean"`, `"amax"`,
/// `"amin"`, and `"max"` / `"min"`, which torch's `scatter_reduce` accepts too).
///
/// ```
/// use fastgather::Reduction;
/// assert_eq!("amax".parse::<Reduction>().unwrap(), Reduction::Amax);
/// assert_eq!("max".parse::<Reduction>().unwrap(), Reduction::Amax);
/// assert!("median".parse::<Reduction>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The sum; with `include_self = false` it starts from `+0`.
    Sum,
    /// The product; with `include_self = false` it starts from one.
    Prod,
    /// The sum divided by the number of values (and `self`, when included);
    /// floor division for integers.
    Mean,
    /// The maximum; a NaN anywhere wins.
    Amax,
    /// The minimum; a NaN anywhere wins.
    Amin,
}

const REDUCTIONS: &str = "\"sum\", \"prod\", \"mean\", \"amax\" (\"max\"), \"amin\" (\"min\")";

impl FromStr for Reduction {
    type Err = GatherError;

    fn from_str(name: &str) -> Result<Self, GatherError> {
        Ok(match name {
            "sum" => Self::Sum,
            "prod" => Self::Prod,
            "mean" => Self::Mean,
            "amax" | "max" => Self::Amax,
            "amin" | "min" => Self::Amin,
            _ => {
                return Err(GatherError::InvalidReduction {
                    op: "scatter_reduce",
                    name: name.to_string(),
                    expected: REDUCTIONS,
                });
            }
        })
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sum => "sum",
            Self::Prod => "prod",
            Self::Mean => "mean",
            Self::Amax => "amax",
            Self::Amin => "amin",
        })
    }
}

/// `value` seen with `shape`: every position reads the one element.
fn filled<'a, T: Element>(value: &'a T, shape: &[usize]) -> Result<TensorView<'a, T>, GatherError> {
    TensorView::scalar(value).expand(shape)
}

/// torch's `self.scatter_(dim, index, value)`: `dest[p with p[dim] = index[p]] =
/// value` for every index position `p`.
///
/// ```
/// use fastgather::{scatter_value_into, Tensor, TensorView};
/// let mut mask = Tensor::full(&[2, 4], false).unwrap();
/// let idx = TensorView::new(&[3i64, 0], &[2, 1]).unwrap();
/// scatter_value_into(&mut mask.view_mut(), 1, &idx, true).unwrap();
/// assert_eq!(mask.as_slice(), &[false, false, false, true, true, false, false, false]);
/// ```
pub fn scatter_value_into<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
) -> Result<(), GatherError> {
    scatter_value_into_with(dest, dim, index, value, &GatherOptions::default())
}

/// [`scatter_value_into`] with explicit options (threading, the index mode).
pub fn scatter_value_into_with<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let values = filled(&value, index.shape())?;
    run_scatter::<T, I, Assign>(dest, dim, index, &values, Assign, opts)
}

/// torch's `input.scatter(dim, index, value)`: a contiguous copy of `input`
/// with [`scatter_value_into`] applied.
///
/// ```
/// use fastgather::{scatter_value, TensorView};
/// let x = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let idx = TensorView::new(&[1i64], &[1]).unwrap();
/// assert_eq!(scatter_value(&x, 0, &idx, 0.0).unwrap().as_slice(), &[1.0, 0.0, 3.0]);
/// ```
pub fn scatter_value<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
) -> Result<Tensor<T>, GatherError> {
    scatter_value_with(input, dim, index, value, &GatherOptions::default())
}

/// [`scatter_value`] with explicit options; an option error comes back before
/// `input` is copied.
pub fn scatter_value_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    scatter_value_into_with(&mut out.view_mut(), dim, index, value, opts)?;
    Ok(out)
}

/// torch's `self.scatter_reduce_(dim, index, src, reduce, include_self)`: the
/// values `src[p]` of every index position `p` with `p[dim] = index[p]` meet
/// at one element of `dest`, and are reduced there with the element itself
/// (`include_self = true`) or without it (`false`: an element the index names
/// is first set to the reduction's start). Elements the index never names keep
/// their value.
///
/// Exact to torch's CPU rules (each recorded from torch in
/// `tests/torch_recorded.rs`; the list is in the crate's SEMANTICS.md):
/// - values meet their element one at a time in row-major order of the index,
///   rounding at every step, on any number of threads and any instruction set
///   (no atomics);
/// - `Sum` and `Mean` without `self` start from `+0`, so a lone `-0.0` becomes
///   `+0.0`; `Amax` / `Amin` start from `-inf` / `+inf` (the integer extremes);
/// - `Mean` divides by the count of values, plus one with `self`, the count
///   summed in the element type (it rounds in `f16`, wraps in integers, and a
///   count that wraps to zero divides by one); integers floor;
/// - a NaN anywhere in an `Amax` or `Amin` wins;
/// - an empty index changes nothing.
///
/// On an out-of-range index `dest` may be partly written; on any other error it
/// is untouched.
///
/// ```
/// use fastgather::{scatter_reduce_into, Reduction, Tensor, TensorView};
/// // Node features: the mean of the incoming edges' messages.
/// let mut nodes = Tensor::full(&[3], 0.0f32).unwrap();
/// let dst = TensorView::new(&[0i64, 2, 0, 0], &[4]).unwrap();
/// let msg = TensorView::new(&[1.0f32, 5.0, 2.0, 6.0], &[4]).unwrap();
/// scatter_reduce_into(&mut nodes.view_mut(), 0, &dst, &msg, Reduction::Mean, false).unwrap();
/// assert_eq!(nodes.as_slice(), &[3.0, 0.0, 5.0]);
/// ```
pub fn scatter_reduce_into<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
) -> Result<(), GatherError> {
    let opts = GatherOptions::default();
    scatter_reduce_into_with(dest, dim, index, src, reduce, include_self, &opts)
}

/// [`scatter_reduce_into`] with explicit options (threading, the instruction-set
/// path, the index mode). The result is the same on any number of threads.
///
/// ```
/// use fastgather::{scatter_reduce_into_with, GatherOptions, IndexMode, Reduction, Tensor, TensorView};
/// let mut best = Tensor::full(&[2], i32::MIN).unwrap();
/// let at = TensorView::new(&[1i64, -1, 7, 0], &[4]).unwrap();
/// let score = TensorView::new(&[4, 9, 100, 3], &[4]).unwrap();
/// let opts = GatherOptions::new().mode(IndexMode::Drop).sequential();
/// scatter_reduce_into_with(&mut best.view_mut(), 0, &at, &score, Reduction::Amax, true, &opts)
///     .unwrap();
/// assert_eq!(best.as_slice(), &[3, 4]); // -1 and 7 are dropped
/// ```
pub fn scatter_reduce_into_with<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    scatter_path(opts)?;
    let d = wrap_dim(dim, dest.rank())?;
    if index.is_empty() {
        return Ok(());
    }
    // Shapes first, so that no pass writes before another one's shape error.
    let len = dest.data_mut().len();
    Plan::scatter(dest.layout(), len, d, index.layout(), src.layout())?;
    if TypeId::of::<T::Acc>() != TypeId::of::<T>() {
        return reduce_widened(dest, d, index, src, (reduce, include_self), opts);
    }
    // Where each index value stands for whole slices of `dest`, one histogram
    // of the index's line says which slices it names and how often.
    let hist = (!include_self || reduce == Reduction::Mean)
        .then(|| line_counts(dest, d, index, opts.index_mode()))
        .flatten();
    if !include_self {
        let start = match reduce {
            Reduction::Sum | Reduction::Mean => T::zeroed(),
            Reduction::Prod => T::ONE,
            Reduction::Amax => T::LOWEST,
            Reduction::Amin => T::HIGHEST,
        };
        match &hist {
            // Every value names whole slices: set the slices it names, once.
            Some(hist) => fill_line_slices(dest, d, hist, start),
            None => scatter_value_into_with(dest, d, index, start, opts)?,
        }
    }
    match reduce {
        Reduction::Sum | Reduction::Mean => {
            run_scatter::<T, I, Add>(dest, d, index, src, Add, opts)?
        }
        Reduction::Prod => run_scatter::<T, I, Mul>(dest, d, index, src, Mul, opts)?,
        Reduction::Amax => run_scatter::<T, I, Max>(dest, d, index, src, Max, opts)?,
        Reduction::Amin => run_scatter::<T, I, Min>(dest, d, index, src, Min, opts)?,
    }
    if reduce == Reduction::Mean {
        match &hist {
            Some(hist) => divide_by_line_counts(dest, d, hist, include_self),
            None => divide_by_counts(dest, d, index, include_self, opts)?,
        }
    }
    Ok(())
}

/// The start of a reduction without `self`, written to every slice of a
/// contiguous `dest` along `dim` that the histogram says the index names.
fn fill_line_slices<T: Copy>(dest: &mut TensorViewMut<'_, T>, dim: usize, hist: &[u64], start: T) {
    let inner = dest.shape()[dim + 1..].iter().product::<usize>().max(1);
    let (at, n) = (dest.as_view().offset(), dest.len());
    if n == 0 {
        // An empty view's offset is never checked against its buffer.
        return;
    }
    for (i, slice) in dest.data_mut()[at..at + n].chunks_mut(inner).enumerate() {
        if hist[i % hist.len()] > 0 {
            slice.fill(start);
        }
    }
}

/// The mean's last pass: each element divided by the number of values that
/// met it (plus one for itself), counted in `T` as torch counts, by a scatter
/// of ones into a count per element.
fn divide_by_counts<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: usize,
    index: &TensorView<'_, I>,
    include_self: bool,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let base = if include_self { T::ONE } else { T::zeroed() };
    let mut counts = Tensor::full(dest.shape(), base)?;
    let one = T::ONE;
    run_scatter::<T, I, Add>(
        &mut counts.view_mut(),
        dim,
        index,
        &filled(&one, index.shape())?,
        Add,
        opts,
    )?;
    let untouched = bytemuck::bytes_of(&base).to_vec();
    let zero = T::zeroed();
    let mean = |x: &mut T, c: T| {
        // An element no value met keeps its value (torch divides it by one); so
        // does one whose count wrapped to zero (torch's divisor is then one).
        let bytes = bytemuck::bytes_of(&c);
        if bytes != untouched.as_slice() && bytes != bytemuck::bytes_of(&zero) {
            *x = x.mean(c);
        }
    };
    let mut c = counts.as_slice().iter();
    for_each_element(dest, |x| {
        mean(x, *c.next().expect("counts have dest's shape"))
    });
    Ok(())
}

/// The mean's counts as one histogram over `dest`'s positions along `dim`,
/// where that is what they are: `dest` is contiguous and every value of the
/// index stands for a whole slice of it (the index is expanded, or of size 1,
/// on every other axis, and as large as `dest` there, as a graph's
/// `dst.view(-1, 1).expand(E, F)` is). `None` otherwise.
fn line_counts<T, I: IndexElem>(
    dest: &TensorViewMut<'_, T>,
    dim: usize,
    index: &TensorView<'_, I>,
    mode: IndexMode,
) -> Option<Vec<u64>> {
    let (shape, strides) = (index.shape(), index.strides());
    let slices = (0..shape.len())
        .filter(|&k| k != dim)
        .all(|k| (strides[k] == 0 || shape[k] == 1) && shape[k] == dest.shape()[k]);
    let same_rank = index.rank() == dest.rank();
    if dest.rank() == 0 || !same_rank || !slices || !dest.as_view().is_contiguous() {
        return None;
    }
    let bound = dest.shape()[dim];
    let mut hist = vec![0u64; bound];
    let (data, at) = (index.data(), index.offset() as isize);
    for j in 0..shape[dim] as isize {
        let v = data[(at + j * strides[dim]) as usize].to_i64();
        match resolve::<I>(mode, v, bound) {
            Resolved::At(v) => hist[v] += 1,
            Resolved::Fill => {}
            // The sum's pass reported bad values already.
            Resolved::Bad => return None,
        }
    }
    Some(hist)
}

/// The mean's division where the counts are one histogram along `dim` of a
/// contiguous `dest`.
fn divide_by_line_counts<T: Reduce>(
    dest: &mut TensorViewMut<'_, T>,
    dim: usize,
    hist: &[u64],
    include_self: bool,
) {
    let inner = dest.shape()[dim + 1..].iter().product::<usize>().max(1);
    let (at, n) = (dest.as_view().offset(), dest.len());
    if n == 0 {
        // An empty view's offset is never checked against its buffer.
        return;
    }
    let zero = T::zeroed();
    for (i, slice) in dest.data_mut()[at..at + n].chunks_mut(inner).enumerate() {
        let hits = hist[i % hist.len()];
        let count = T::count(hits + u64::from(include_self));
        // No value met this slice, or its count wrapped to zero: torch divides
        // by one.
        if hits == 0 || bytemuck::bytes_of(&count) == bytemuck::bytes_of(&zero) {
            continue;
        }
        for x in slice {
            *x = x.mean(count);
        }
    }
}

/// Calls `f` on every element of `dest`, in row-major order.
pub(crate) fn for_each_element<T>(dest: &mut TensorViewMut<'_, T>, mut f: impl FnMut(&mut T)) {
    let (at, n) = (dest.as_view().offset(), dest.len());
    if n == 0 {
        // An empty view's offset is never checked against its buffer.
        return;
    }
    if dest.as_view().is_contiguous() {
        dest.data_mut()[at..at + n].iter_mut().for_each(f);
        return;
    }
    let shape = dest.shape().to_vec();
    for_each_position(&shape, |pos| {
        f(dest.get_mut(pos).expect("a position inside the shape"));
        true
    });
}

/// `v` in its accumulation type, row-major.
pub(crate) fn widened<T: Reduce>(v: &TensorView<'_, T>) -> Result<Tensor<T::Acc>, GatherError> {
    let wide = v.try_to_vec()?.into_iter().map(T::widen).collect();
    Tensor::from_vec(wide, v.shape())
}

/// A reduction carried in `T::Acc` (halves in `f32`): `dest` and `src` are
/// widened, reduced there, and `dest` rounded back once. On an error `dest` is
/// untouched.
pub(crate) fn reduce_widened<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: usize,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    (reduce, include_self): (Reduction, bool),
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let mut wide = widened(&dest.as_view())?;
    let src = widened(src)?;
    let view = &mut wide.view_mut();
    scatter_reduce_into_with(view, dim, index, &src.view(), reduce, include_self, opts)?;
    let mut sums = wide.as_slice().iter();
    for_each_element(dest, |x| {
        *x = T::narrow(*sums.next().expect("dest's shape"))
    });
    Ok(())
}

/// torch's `input.scatter_reduce(dim, index, src, reduce, include_self)`: a
/// contiguous copy of `input` with [`scatter_reduce_into`] applied.
///
/// ```
/// use fastgather::{scatter_reduce, Reduction, TensorView};
/// // torch: tensor([1., 2., 3.]).scatter_reduce(0, tensor([0, 0, 2]), tensor([5., -1., 7.]), "prod")
/// let x = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let idx = TensorView::new(&[0i64, 0, 2], &[3]).unwrap();
/// let v = TensorView::new(&[5.0f32, -1.0, 7.0], &[3]).unwrap();
/// let out = scatter_reduce(&x, 0, &idx, &v, Reduction::Prod, true).unwrap();
/// assert_eq!(out.as_slice(), &[-5.0, 2.0, 21.0]);
/// ```
pub fn scatter_reduce<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
) -> Result<Tensor<T>, GatherError> {
    let opts = GatherOptions::default();
    scatter_reduce_with(input, dim, index, src, reduce, include_self, &opts)
}

/// [`scatter_reduce`] with explicit options; an option error comes back before
/// `input` is copied.
pub fn scatter_reduce_with<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    scatter_reduce_into_with(
        &mut out.view_mut(),
        dim,
        index,
        src,
        reduce,
        include_self,
        opts,
    )?;
    Ok(out)
}
