//! torch's flat `take` and `put`, `take_along_dim`, and numpy's
//! `put_along_axis`: the gathers and scatters that address a tensor through
//! its row-major flattening, or broadcast their index first.
//!
//! Each is a view over the gather and scatter entry points: a flat source is
//! seen with the index's shape (stride 0 on every axis but the last), a
//! broadcast index by `expand`.

use crate::dim::{Dim, wrap_dim};
use crate::element::{Accumulate, Element};
use crate::error::GatherError;
use crate::gather::{gather_into_with, gather_with};
use crate::index::IndexElem;
use crate::index_select::{take_along_axis_into_with, take_along_axis_with};
use crate::kernel::scatter::{Add, Assign};
use crate::options::{GatherOptions, IndexMode};
use crate::scatter::{run_scatter, scatter_path};
use crate::scatter_reduce::for_each_element;
use crate::view::{Tensor, TensorView, TensorViewMut};
use std::borrow::Cow;

/// `v`'s elements in row-major order as a 1-d view: the view itself when its
/// layout allows, else a contiguous copy.
fn flat<'a, T: Copy>(v: &TensorView<'a, T>) -> Result<Cow<'a, [T]>, GatherError> {
    // An empty view's offset is never checked against its buffer.
    if v.is_empty() {
        return Ok(Cow::Borrowed(&[]));
    }
    if v.is_contiguous() {
        let at = v.offset();
        return Ok(Cow::Borrowed(&v.data()[at..at + v.len()]));
    }
    Ok(Cow::Owned(v.try_to_vec()?))
}

/// An out-of-range error of a gather or scatter on a flattening, told as torch
/// tells it: against dim 0 of the flattened tensor.
fn flat_error(e: GatherError) -> GatherError {
    match e {
        GatherError::IndexOutOfBounds {
            value,
            position,
            size,
            wraps,
            ..
        } => GatherError::IndexOutOfBounds {
            value,
            position,
            dim: 0,
            size,
            wraps,
        },
        e => e,
    }
}

/// An error's index position told in an index of `rank` (a 0-d index was
/// seen as `[1]`).
fn at_own_rank(e: GatherError, rank: usize) -> GatherError {
    match e {
        GatherError::IndexOutOfBounds {
            value,
            mut position,
            dim,
            size,
            wraps,
        } => {
            position.truncate(rank);
            GatherError::IndexOutOfBounds {
                value,
                position,
                dim,
                size,
                wraps,
            }
        }
        e => e,
    }
}

/// The row-major position of flat offset `k` in `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (p, &s) in pos.iter_mut().zip(shape).rev() {
        *p = k % s.max(1);
        k /= s.max(1);
    }
    pos
}

/// torch's `torch.take(input, index)`: `out[p] = input.flatten()[index[p]]`,
/// with the index's shape. As in torch, a negative index counts from the end
/// ([`IndexMode::Wrap`], unless the options name a mode).
///
/// ```
/// use fastgather::{take, TensorView};
/// let x = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
/// let idx = TensorView::new(&[0i64, 5, -2, 3], &[2, 2]).unwrap();
/// // The transpose flattens to [1, 4, 2, 5, 3, 6].
/// assert_eq!(take(&x.transpose(0, 1).unwrap(), &idx).unwrap().as_slice(), &[1, 6, 3, 5]);
/// ```
pub fn take<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    take_with(input, index, &GatherOptions::default())
}

/// [`take`] with explicit options (threading, the path, the index mode).
pub fn take_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    let opts = opts.or_mode(IndexMode::Wrap);
    let data = flat(input)?;
    let (src, idx, dim) = flat_source(&data, index)?;
    let out = gather_with(&src, dim, &idx, &opts)
        .map_err(|e| at_own_rank(flat_error(e), index.rank()))?;
    out.reshape(index.shape())
}

/// [`take`] into `out`, which has the index's shape.
pub fn take_into<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    take_into_with(input, index, out, &GatherOptions::default())
}

/// [`take_into`] with explicit options.
pub fn take_into_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let opts = opts.or_mode(IndexMode::Wrap);
    let data = flat(input)?;
    let (src, idx, dim) = flat_source(&data, index)?;
    let ran = if out.rank() == 0 && idx.rank() == 1 {
        gather_into_with(
            &src,
            dim,
            &idx,
            &mut out.reborrow().reshape(&[1usize])?,
            &opts,
        )
    } else {
        gather_into_with(&src, dim, &idx, out, &opts)
    };
    ran.map_err(|e| at_own_rank(flat_error(e), index.rank()))
}

/// A flat source seen with the index's shape (every axis but the last reads
/// the same elements), the index (a 0-d one as `[1]`) and the dim to gather.
fn flat_source<'a, 'i, T: Element, I: IndexElem>(
    data: &'a [T],
    index: &TensorView<'i, I>,
) -> Result<(TensorView<'a, T>, TensorView<'i, I>, usize), GatherError> {
    let index = if index.rank() == 0 {
        index.reshape(&[1usize])?
    } else {
        index.clone()
    };
    let rank = index.rank();
    let mut shape = index.shape().to_vec();
    shape[rank - 1] = data.len();
    let mut strides = vec![0isize; rank];
    strides[rank - 1] = 1;
    let src = TensorView::with_strides(data, &shape, &strides, 0)?;
    Ok((src, index, rank - 1))
}

/// torch's `self.put_(index, source, accumulate)`: `dest.flatten()[index[p]] =
/// source[p]` (or `+=` with `accumulate`), `source` matched to the index
/// element by element in row-major order. As in torch, a negative index counts
/// from the end ([`IndexMode::Wrap`], unless the options name a mode). Where
/// the index repeats without `accumulate`, the last value in index order wins;
/// with it, values add in index order on any number of threads (`f16` and
/// `bf16` rounding every step, as torch 2.15's `put_` does).
///
/// ```
/// use fastgather::{put_into, Tensor, TensorView};
/// let mut t = Tensor::full(&[2, 2], 0.0f32).unwrap();
/// let idx = TensorView::new(&[0i64, 0, -1], &[3]).unwrap();
/// let src = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// put_into(&mut t.view_mut(), &idx, &src, true).unwrap();
/// assert_eq!(t.as_slice(), &[3.0, 0.0, 0.0, 3.0]);
/// ```
pub fn put_into<T: Accumulate, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    accumulate: bool,
) -> Result<(), GatherError> {
    put_into_with(dest, index, source, accumulate, &GatherOptions::default())
}

/// [`put_into`] with explicit options.
pub fn put_into_with<T: Accumulate, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    accumulate: bool,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let opts = opts.or_mode(IndexMode::Wrap);
    scatter_path(&opts)?;
    if source.len() != index.len() {
        return Err(GatherError::LengthMismatch {
            expected: index.len(),
            actual: source.len(),
        });
    }
    let (idx, src) = (flat(index)?, flat(source)?);
    let m = idx.len();
    let idx = TensorView::new(&idx, &[m])?;
    let src = TensorView::new(&src, &[m])?;
    let n = dest.len();
    let run = |d: &mut TensorViewMut<'_, T>| {
        // torch 2.15's `put_(.., accumulate=True)` rounds halves at every
        // step, unlike its `scatter_add`: `Accumulate` one value at a time.
        let ran = if accumulate {
            run_scatter::<T, I, Add>(d, 0, &idx, &src, Add, &opts)
        } else {
            run_scatter::<T, I, Assign>(d, 0, &idx, &src, Assign, &opts)
        };
        // The flat index's position, told in the index's own shape.
        ran.map_err(|e| match flat_error(e) {
            GatherError::IndexOutOfBounds {
                value,
                position,
                dim,
                size,
                wraps,
            } => GatherError::IndexOutOfBounds {
                value,
                position: unravel(position.first().copied().unwrap_or(0), index.shape()),
                dim,
                size,
                wraps,
            },
            e => e,
        })
    };
    if dest.as_view().is_contiguous() {
        return run(&mut dest.reborrow().reshape(&[n])?);
    }
    // A strided destination: put into a row-major copy, then write it back.
    let mut copy = dest.as_view().try_to_vec()?;
    run(&mut TensorViewMut::new(&mut copy, &[n])?)?;
    let mut values = copy.into_iter();
    for_each_element(dest, |x| {
        *x = values.next().expect("the copy has dest's elements")
    });
    Ok(())
}

/// torch's `input.put(index, source, accumulate)`: a contiguous copy of
/// `input` with [`put_into`] applied.
pub fn put<T: Accumulate, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    accumulate: bool,
) -> Result<Tensor<T>, GatherError> {
    put_with(input, index, source, accumulate, &GatherOptions::default())
}

/// [`put`] with explicit options.
pub fn put_with<T: Accumulate, I: IndexElem>(
    input: &TensorView<'_, T>,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    accumulate: bool,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    put_into_with(&mut out.view_mut(), index, source, accumulate, opts)?;
    Ok(out)
}

/// torch's `torch.take_along_dim(input, indices, dim)`.
///
/// - With a `dim`: [`take_along_axis`](crate::take_along_axis) (the other axes
///   broadcast, negative indices count from the end). torch 2.15 wraps *every*
///   value modulo the size there, so `5` picks element 1 of 2; fastgather
///   reports values outside `-size..size` as [`GatherError::IndexOutOfBounds`].
/// - Without one: `input.flatten().gather(0, indices.flatten())`, a 1-d result,
///   with torch's rule there: only `0..numel` is valid.
///
/// ```
/// use fastgather::{take_along_dim, TensorView};
/// let x = TensorView::new(&[10, 30, 20, 60, 50, 40], &[2, 3]).unwrap();
/// let best = TensorView::new(&[1i64, 0], &[2, 1]).unwrap();
/// assert_eq!(take_along_dim(&x, &best, Some(1)).unwrap().as_slice(), &[30, 60]);
/// assert_eq!(take_along_dim(&x, &best, None).unwrap().as_slice(), &[30, 10]);
/// ```
pub fn take_along_dim<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    dim: Option<isize>,
) -> Result<Tensor<T>, GatherError> {
    take_along_dim_with(input, indices, dim, &GatherOptions::default())
}

/// [`take_along_dim`] with explicit options.
pub fn take_along_dim_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    dim: Option<isize>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    match dim {
        Some(d) => take_along_axis_with(input, indices, d, opts),
        None => {
            let (idx, n) = (flat(indices)?, indices.len());
            take_with(
                input,
                &TensorView::new(&idx, &[n])?,
                &opts.or_mode(IndexMode::Error),
            )
        }
    }
}

/// [`take_along_dim`] into `out`, which has the result's shape.
pub fn take_along_dim_into<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    dim: Option<isize>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    take_along_dim_into_with(input, indices, dim, out, &GatherOptions::default())
}

/// [`take_along_dim_into`] with explicit options.
pub fn take_along_dim_into_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    dim: Option<isize>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    match dim {
        Some(d) => take_along_axis_into_with(input, indices, d, out, opts),
        None => {
            let (idx, n) = (flat(indices)?, indices.len());
            let idx = TensorView::new(&idx, &[n])?;
            take_into_with(input, &idx, out, &opts.or_mode(IndexMode::Error))
        }
    }
}

/// numpy's `put_along_axis(arr, indices, values, axis)`: `arr[.., indices[p],
/// ..] = values[p]` along `axis`. Ranks of `arr` and `indices` match; the other
/// axes of `indices` broadcast against `arr`'s, and `values` broadcasts to the
/// result (numpy's rules); negative indices count from the end. Where the
/// index repeats, the last value in index order wins.
///
/// ```
/// use fastgather::{put_along_axis_into, Tensor, TensorView};
/// let mut a = Tensor::from_vec(vec![10, 30, 20, 60, 50, 40], &[2, 3]).unwrap();
/// // Zero the last column of each row, from one broadcast index and value.
/// let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
/// let zero = TensorView::new(&[0], &[1]).unwrap();
/// put_along_axis_into(&mut a.view_mut(), &last, &zero, 1).unwrap();
/// assert_eq!(a.as_slice(), &[10, 30, 0, 60, 50, 0]);
/// ```
pub fn put_along_axis_into<T: Element, I: IndexElem>(
    arr: &mut TensorViewMut<'_, T>,
    indices: &TensorView<'_, I>,
    values: &TensorView<'_, T>,
    axis: impl Dim,
) -> Result<(), GatherError> {
    put_along_axis_into_with(arr, indices, values, axis, &GatherOptions::default())
}

/// [`put_along_axis_into`] with explicit options.
pub fn put_along_axis_into_with<T: Element, I: IndexElem>(
    arr: &mut TensorViewMut<'_, T>,
    indices: &TensorView<'_, I>,
    values: &TensorView<'_, T>,
    axis: impl Dim,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let opts = opts.or_mode(IndexMode::Wrap);
    scatter_path(&opts)?;
    let d = wrap_dim(axis, arr.rank())?;
    if indices.rank().max(1) != arr.rank().max(1) {
        return Err(GatherError::RankMismatch {
            src_rank: arr.rank(),
            index_rank: indices.rank(),
        });
    }
    let op = "put_along_axis";
    let (a, b) = (arr.shape().to_vec(), indices.shape().to_vec());
    let mut shape = b.clone();
    for (k, s) in shape.iter_mut().enumerate() {
        let (x, y) = (a.get(k).copied().unwrap_or(1), b[k]);
        if k == d || x == y || x == 1 {
            continue;
        }
        if y != 1 {
            let (a, b) = (a.clone(), b.clone());
            return Err(GatherError::NotBroadcastable { op, axis: k, a, b });
        }
        *s = x;
    }
    let fits = values.rank() <= shape.len()
        && values
            .shape()
            .iter()
            .rev()
            .zip(shape.iter().rev())
            .all(|(&v, &s)| v == s || v == 1);
    if !fits {
        let axis = shape.len().saturating_sub(1);
        let (a, b) = (shape.clone(), values.shape().to_vec());
        return Err(GatherError::NotBroadcastable { op, axis, a, b });
    }
    let idx = indices.expand(&shape)?;
    let vals = values.expand(&shape)?;
    run_scatter::<T, I, Assign>(arr, d, &idx, &vals, Assign, &opts)
}

/// numpy's `put_along_axis` on a contiguous copy of `arr`, returned.
pub fn put_along_axis<T: Element, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    values: &TensorView<'_, T>,
    axis: impl Dim,
) -> Result<Tensor<T>, GatherError> {
    put_along_axis_with(arr, indices, values, axis, &GatherOptions::default())
}

/// [`put_along_axis`] with explicit options.
pub fn put_along_axis_with<T: Element, I: IndexElem>(
    arr: &TensorView<'_, T>,
    indices: &TensorView<'_, I>,
    values: &TensorView<'_, T>,
    axis: impl Dim,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = arr.try_to_tensor()?;
    put_along_axis_into_with(&mut out.view_mut(), indices, values, axis, opts)?;
    Ok(out)
}
