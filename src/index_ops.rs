//! torch's `index_add`, `index_copy`, `index_fill` and `index_reduce`: a 1-d
//! index along `dim` that names whole slices.
//!
//! Each is a scatter whose index is the 1-d index seen with the source's shape
//! (stride 0 on every other axis), so they run on the scatter kernels, plans
//! and threads, with the same determinism: slices meet their destination in
//! index order.

use crate::dim::{Dim, wrap_dim};
use crate::dispatch::KernelChoice;
use crate::element::{Element, Reduce};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::kernel::scatter::{Add, AddScaled, Assign};
use crate::options::{GatherOptions, IndexMode};
use crate::scatter::{explain_scatter, run_scatter, scatter_path};
use crate::scatter_reduce::{
    Reduction, for_each_element, scatter_reduce_into_with, scatter_value_into_with, widened,
};
use crate::view::{Tensor, TensorView, TensorViewMut};
use std::any::TypeId;

/// `index` (1-d or 0-d) seen with `shape`: position `p` reads `index[p[dim]]`.
pub(crate) fn along<'a, I: IndexElem>(
    op: &'static str,
    index: &TensorView<'a, I>,
    shape: &[usize],
    dim: usize,
) -> Result<TensorView<'a, I>, GatherError> {
    if index.rank() > 1 {
        return Err(GatherError::IndexNotVector {
            op,
            index_shape: index.shape().to_vec(),
        });
    }
    let stride = index.strides().first().copied().unwrap_or(0);
    if shape.is_empty() {
        // A 0-d `self` counts as `[1]`: the index keeps its own length there.
        return TensorView::with_strides(index.data(), &[index.len()], &[stride], index.offset());
    }
    let mut strides = vec![0isize; shape.len()];
    strides[dim] = stride;
    TensorView::with_strides(index.data(), shape, &strides, index.offset())
}

/// torch's slice rule: `source` is `self`'s shape with `dim` sized as the
/// index (0-d tensors as `[1]`).
fn check_slices(
    op: &'static str,
    dest: &[usize],
    dim: usize,
    index_len: usize,
    source: &[usize],
) -> Result<(), GatherError> {
    let as_1d = |s: &[usize]| if s.is_empty() { vec![1] } else { s.to_vec() };
    let mut want = as_1d(dest);
    want[dim] = index_len;
    // A 0-d `self` takes one slice (torch: the source's shape must match it).
    let one_slice = !dest.is_empty() || index_len == 1;
    if as_1d(source) != want || !one_slice {
        return Err(GatherError::SliceShapeMismatch {
            op,
            dim,
            self_shape: dest.to_vec(),
            source_shape: source.to_vec(),
            index_len,
        });
    }
    Ok(())
}

/// An out-of-range error of the expanded index, told at the 1-d index's
/// position.
fn at_index_position(e: GatherError, dim: usize, index_rank: usize) -> GatherError {
    match e {
        GatherError::IndexOutOfBounds {
            value,
            position,
            dim: d,
            size,
            wraps,
        } => GatherError::IndexOutOfBounds {
            value,
            position: position
                .get(dim)
                .map(|&p| vec![p; index_rank])
                .unwrap_or_default(),
            dim: d,
            size,
            wraps,
        },
        e => e,
    }
}

/// The checks and the expanded index of an `index_*` op with a source.
fn slices<'a, T, I: IndexElem>(
    op: &'static str,
    dest: &TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'a, I>,
    source: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<(usize, TensorView<'a, I>), GatherError> {
    scatter_path(opts)?;
    let d = wrap_dim(dim, dest.rank())?;
    if index.rank() <= 1 {
        check_slices(op, dest.shape(), d, index.len(), source.shape())?;
    }
    let idx = along(op, index, source.shape(), d)?;
    Ok((d, idx))
}

/// Which kernel [`index_add_into`], [`index_copy_into`] and
/// [`index_reduce_into`] run for these arguments (every pass of a reduction
/// runs the same one), after the same validation. `None` for an empty index.
///
/// ```
/// use fastgather::{explain_index, GatherOptions, Tensor, TensorView};
/// let mut acc = Tensor::full(&[10, 128], 0.0f32).unwrap();
/// let rows = TensorView::new(&[3i64, 1, 3], &[3]).unwrap();
/// let x = TensorView::new(&[1.0f32; 384], &[3, 128]).unwrap();
/// let choice = explain_index(&acc.view_mut(), 0, &rows, &x, &GatherOptions::new());
/// assert_eq!(choice.unwrap().unwrap().kernel, "scatter::shared");
/// ```
pub fn explain_index<T: Element, I: IndexElem>(
    dest: &TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    let (d, idx) = slices("index_add", dest, dim, index, source, opts)?;
    explain_scatter(dest, d, &idx, source, opts)
}

/// torch's `self.index_add_(dim, index, source, alpha=alpha)`: slice `i` of
/// `source` along `dim`, times `alpha`, is added to slice `index[i]` of `dest`.
///
/// Slices are added in index order on any number of threads. `f16` and `bf16`
/// sum in `f32` and round once per element where `dest` has rank 2 or more,
/// and round every step on rank 0 and 1, as torch 2.15 does. With an `alpha`
/// other than one, `x * alpha` is added with one rounding where `dest` has rank
/// 2 or more, two where it has rank 1, as torch's CPU kernels do.
///
/// ```
/// use fastgather::{index_add_into, Tensor, TensorView};
/// let mut acc = Tensor::full(&[3, 2], 0.0f32).unwrap();
/// let rows = TensorView::new(&[2i64, 0, 2], &[3]).unwrap();
/// let x = TensorView::new(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
/// index_add_into(&mut acc.view_mut(), 0, &rows, &x, 1.0).unwrap();
/// assert_eq!(acc.as_slice(), &[3.0, 4.0, 0.0, 0.0, 6.0, 8.0]);
/// ```
pub fn index_add_into<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    alpha: T,
) -> Result<(), GatherError> {
    index_add_into_with(dest, dim, index, source, alpha, &GatherOptions::default())
}

/// [`index_add_into`] with explicit options (threading, the instruction-set
/// path, the index mode).
pub fn index_add_into_with<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    alpha: T,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let (d, idx) = slices("index_add", dest, dim, index, source, opts)?;
    if TypeId::of::<T::Acc>() != TypeId::of::<T>() && dest.rank() >= 2 {
        // Halves: summed in f32 and rounded once where torch 2.15 does (rank 2
        // and up); on rank 0 and 1 it rounds every step, as `Accumulate`.
        let mut wide = widened(&dest.as_view())?;
        let (source, alpha) = (widened(source)?, alpha.widen());
        index_add_into_with(&mut wide.view_mut(), d, index, &source.view(), alpha, opts)?;
        let mut sums = wide.as_slice().iter();
        for_each_element(dest, |x| {
            *x = T::narrow(*sums.next().expect("dest's shape"))
        });
        return Ok(());
    }
    let ran = if bytemuck::bytes_of(&alpha) == bytemuck::bytes_of(&T::ONE) {
        run_scatter::<T, I, Add>(dest, d, &idx, source, Add, opts)
    } else {
        let fused = dest.rank() >= 2;
        let op = AddScaled { alpha, fused };
        run_scatter::<T, I, AddScaled<T>>(dest, d, &idx, source, op, opts)
    };
    ran.map_err(|e| at_index_position(e, d, index.rank()))
}

/// torch's `input.index_add(dim, index, source, alpha=alpha)`: a contiguous
/// copy of `input` with [`index_add_into`] applied.
///
/// ```
/// use fastgather::{index_add, TensorView};
/// // torch: tensor([1, 2, 3]).index_add(0, tensor([0, 0]), tensor([5, 6]), alpha=2)
/// let x = TensorView::new(&[1i32, 2, 3], &[3]).unwrap();
/// let i = TensorView::new(&[0i64, 0], &[2]).unwrap();
/// let s = TensorView::new(&[5i32, 6], &[2]).unwrap();
/// assert_eq!(index_add(&x, 0, &i, &s, 2).unwrap().as_slice(), &[23, 2, 3]);
/// ```
pub fn index_add<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    alpha: T,
) -> Result<Tensor<T>, GatherError> {
    index_add_with(input, dim, index, source, alpha, &GatherOptions::default())
}

/// [`index_add`] with explicit options; an option error comes back before
/// `input` is copied.
pub fn index_add_with<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    alpha: T,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    index_add_into_with(&mut out.view_mut(), dim, index, source, alpha, opts)?;
    Ok(out)
}

/// torch's `self.index_copy_(dim, index, source)`: slice `i` of `source` along
/// `dim` replaces slice `index[i]` of `dest`; where the index repeats, the
/// last slice in index order wins (torch leaves it unspecified).
///
/// ```
/// use fastgather::{index_copy_into, Tensor, TensorView};
/// let mut t = Tensor::full(&[2, 3], 0).unwrap();
/// let cols = TensorView::new(&[2i64, 0], &[2]).unwrap();
/// let s = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// index_copy_into(&mut t.view_mut(), 1, &cols, &s).unwrap();
/// assert_eq!(t.as_slice(), &[2, 0, 1, 4, 0, 3]);
/// ```
pub fn index_copy_into<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
) -> Result<(), GatherError> {
    index_copy_into_with(dest, dim, index, source, &GatherOptions::default())
}

/// [`index_copy_into`] with explicit options.
pub fn index_copy_into_with<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let (d, idx) = slices("index_copy", dest, dim, index, source, opts)?;
    run_scatter::<T, I, Assign>(dest, d, &idx, source, Assign, opts)
        .map_err(|e| at_index_position(e, d, index.rank()))
}

/// torch's `input.index_copy(dim, index, source)`: a contiguous copy of
/// `input` with [`index_copy_into`] applied.
pub fn index_copy<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
) -> Result<Tensor<T>, GatherError> {
    index_copy_with(input, dim, index, source, &GatherOptions::default())
}

/// [`index_copy`] with explicit options.
pub fn index_copy_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    index_copy_into_with(&mut out.view_mut(), dim, index, source, opts)?;
    Ok(out)
}

/// torch's `self.index_fill_(dim, index, value)`: every slice `index[i]` of
/// `dest` along `dim` is set to `value`. As in torch, a negative index counts
/// from the end ([`IndexMode::Wrap`], unless the options name a mode).
///
/// ```
/// use fastgather::{index_fill_into, Tensor, TensorView};
/// let mut t = Tensor::full(&[2, 3], 1.0f32).unwrap();
/// let cols = TensorView::new(&[-1i64], &[1]).unwrap();
/// index_fill_into(&mut t.view_mut(), 1, &cols, f32::NAN).unwrap();
/// assert!(t.as_slice()[2].is_nan() && t.as_slice()[5].is_nan());
/// assert_eq!(t.as_slice()[..2], [1.0, 1.0]);
/// ```
pub fn index_fill_into<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
) -> Result<(), GatherError> {
    index_fill_into_with(dest, dim, index, value, &GatherOptions::default())
}

/// [`index_fill_into`] with explicit options.
pub fn index_fill_into_with<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let opts = opts.or_mode(IndexMode::Wrap);
    scatter_path(&opts)?;
    let d = wrap_dim(dim, dest.rank())?;
    let mut shape = dest.shape().to_vec();
    if let Some(s) = shape.get_mut(d) {
        *s = index.len();
    }
    let idx = along("index_fill", index, &shape, d)?;
    scatter_value_into_with(dest, d, &idx, value, &opts)
        .map_err(|e| at_index_position(e, d, index.rank()))
}

/// torch's `input.index_fill(dim, index, value)`: a contiguous copy of `input`
/// with [`index_fill_into`] applied.
pub fn index_fill<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
) -> Result<Tensor<T>, GatherError> {
    index_fill_with(input, dim, index, value, &GatherOptions::default())
}

/// [`index_fill`] with explicit options.
pub fn index_fill_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    value: T,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    index_fill_into_with(&mut out.view_mut(), dim, index, value, opts)?;
    Ok(out)
}

/// torch's `self.index_reduce_(dim, index, source, reduce, include_self)`:
/// slice `i` of `source` along `dim` is reduced into slice `index[i]` of
/// `dest` with the rules of [`scatter_reduce_into`](crate::scatter_reduce_into).
/// torch takes `Prod`, `Mean`, `Amax` and `Amin`; `Sum` is refused, as torch
/// does ([`index_add_into`] sums).
///
/// ```
/// use fastgather::{index_reduce_into, Reduction, Tensor, TensorView};
/// let mut t = Tensor::full(&[2, 2], 0).unwrap();
/// let rows = TensorView::new(&[1i64, 1, 0], &[3]).unwrap();
/// let s = TensorView::new(&[-7, 1, 0, 2, 5, 5], &[3, 2]).unwrap();
/// index_reduce_into(&mut t.view_mut(), 0, &rows, &s, Reduction::Mean, false).unwrap();
/// assert_eq!(t.as_slice(), &[5, 5, -4, 1]); // integer means floor
/// ```
pub fn index_reduce_into<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
) -> Result<(), GatherError> {
    let opts = GatherOptions::default();
    index_reduce_into_with(dest, dim, index, source, reduce, include_self, &opts)
}

/// [`index_reduce_into`] with explicit options.
pub fn index_reduce_into_with<T: Reduce, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    index_reduction(reduce)?;
    let (d, idx) = slices("index_reduce", dest, dim, index, source, opts)?;
    scatter_reduce_into_with(dest, d, &idx, source, reduce, include_self, opts)
        .map_err(|e| at_index_position(e, d, index.rank()))
}

/// torch's reductions for `index_reduce`: all but `Sum` (`index_add` sums).
fn index_reduction(reduce: Reduction) -> Result<(), GatherError> {
    if reduce == Reduction::Sum {
        return Err(GatherError::InvalidReduction {
            op: "index_reduce",
            name: reduce.to_string(),
            expected: "\"prod\", \"mean\", \"amax\", \"amin\"",
        });
    }
    Ok(())
}

/// torch's `input.index_reduce(dim, index, source, reduce, include_self)`: a
/// contiguous copy of `input` with [`index_reduce_into`] applied.
pub fn index_reduce<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
) -> Result<Tensor<T>, GatherError> {
    let opts = GatherOptions::default();
    index_reduce_with(input, dim, index, source, reduce, include_self, &opts)
}

/// [`index_reduce`] with explicit options.
pub fn index_reduce_with<T: Reduce, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    source: &TensorView<'_, T>,
    reduce: Reduction,
    include_self: bool,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    index_reduction(reduce)?;
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    index_reduce_into_with(
        &mut out.view_mut(),
        dim,
        index,
        source,
        reduce,
        include_self,
        opts,
    )?;
    Ok(out)
}
