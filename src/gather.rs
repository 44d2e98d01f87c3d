//! The public gather entry points: validation in torch's order, then the plan.

use crate::dispatch::{choose, KernelChoice};
use crate::element::{kernel_width, Element};
use crate::error::GatherError;
use crate::index::{first_bad, IndexElem};
use crate::kernel::tiny::{takes_tiny, tiny, TINY_RANK};
use crate::options::GatherOptions;
use crate::plan::Plan;
use crate::view::{contiguous_strides, try_vec, Layout, Tensor, TensorView, TensorViewMut};

/// Wraps `dim` into `0..max(rank, 1)`, as torch's `maybe_wrap_dim`.
pub(crate) fn wrap_dim(dim: isize, rank: usize) -> Result<usize, GatherError> {
    let rank = rank.max(1);
    let r = rank as isize;
    if dim < -r || dim >= r {
        return Err(GatherError::DimOutOfRange { dim, rank });
    }
    Ok(if dim < 0 { dim + r } else { dim } as usize)
}

/// torch's rank and size rules (SEMANTICS.md, rules 4 and 5) for a non-empty index.
pub(crate) fn check_shapes(src: &[usize], dim: usize, index: &[usize]) -> Result<(), GatherError> {
    if index.len().max(1) != src.len().max(1) {
        return Err(GatherError::RankMismatch {
            src_rank: src.len(),
            index_rank: index.len(),
        });
    }
    let bad = src
        .iter()
        .zip(index)
        .enumerate()
        .find(|&(k, (s, i))| k != dim && i > s);
    match bad {
        Some((axis, _)) => Err(GatherError::SizeMismatch {
            axis,
            dim,
            index_shape: index.to_vec(),
            src_shape: src.to_vec(),
        }),
        None => Ok(()),
    }
}

/// Plans and runs a validated, non-empty gather into `out`.
///
/// # Safety
/// `out` points at a buffer that `out_layout` was checked against
/// (`Layout::check` and `check_no_overlap`), with the index's shape, and nothing
/// else accesses it during the call.
unsafe fn run<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: usize,
    index: &TensorView<'_, I>,
    out_layout: &Layout,
    out: *mut T,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let isa = opts.resolve_isa()?;
    // An empty source's offset is unchecked: the plan starts it at 0.
    let mut plan = Plan::new(
        &src.layout().addressed(),
        src.data().len(),
        index.layout(),
        out_layout,
        dim,
    );
    plan.mode = opts.mode;
    plan.fill = opts.fill_bytes::<T>()?;
    let (s, i) = (src.data().as_ptr(), index.data().as_ptr());
    // SAFETY: src and index layouts were checked against these buffers when their
    // views were made, `out` by the caller; shapes were checked by `check_shapes`,
    // which is what `Plan::new` requires for its invariants; `isa` is available.
    let ran = unsafe { crate::dispatch::run_by_width(&plan, s, i, out, isa, opts.parallel) };
    ran.map_err(|_| {
        let (value, position) = first_bad(index, plan.bound, plan.mode).unwrap_or_default();
        GatherError::IndexOutOfBounds {
            value,
            position,
            dim,
            size: plan.bound,
        }
    })
}

/// `torch.gather(src, dim, index)`: a new contiguous tensor of the index's shape
/// with `out[p] = src[p with p[dim] = index[p]]`.
///
/// `dim` may count from the end (`-1` is the last dim). Errors are torch's, in
/// torch's order; an out-of-range index reports the first bad value in row-major
/// order of the index.
///
/// ```
/// use fastgather::{gather, TensorView};
/// // The cross-entropy pick: the probability of each row's label.
/// let y_hat = [0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5];
/// let y = [0i64, 2];
/// let src = TensorView::new(&y_hat, &[2, 3]).unwrap();
/// let idx = TensorView::new(&y, &[2, 1]).unwrap();
/// let picked = gather(&src, 1, &idx).unwrap();
/// assert_eq!(picked.shape(), &[2, 1]);
/// assert_eq!(picked.as_slice(), &[0.1, 0.5]);
/// ```
pub fn gather<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    gather_with(src, dim, index, &GatherOptions::default())
}

/// [`gather`] with explicit [`GatherOptions`]: threading, the instruction-set
/// path, and index modes.
///
/// ```
/// use fastgather::{gather_with, GatherOptions, IndexMode, Isa, TensorView};
/// let src = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let idx = TensorView::new(&[2i64, -1], &[2]).unwrap();
/// // numpy-style wrapping of negative indices, on the plainest path, one thread.
/// let opts = GatherOptions::new().mode(IndexMode::Wrap).isa(Isa::Scalar).sequential();
/// assert_eq!(gather_with(&src, 0, &idx, &opts).unwrap().as_slice(), &[3.0, 3.0]);
/// ```
pub fn gather_with<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    opts.resolve_isa()?;
    let d = wrap_dim(dim, src.rank())?;
    let n = index.len();
    let mut data: Vec<T> = Vec::new();
    if n > 0 {
        check_shapes(src.shape(), d, index.shape())?;
        data = try_vec(n)?;
        if takes_tiny(index, opts) {
            // Positions come in row-major order: the contiguous output's order.
            tiny(src, d, index, &[], |_, v| data.push(v))?;
            return Ok(Tensor::from_parts(data, index.shape().into()));
        }
        let out_layout = Layout {
            shape: index.shape().into(),
            strides: contiguous_strides(index.shape()),
            offset: 0,
        };
        // SAFETY: `data` has room for `n` elements, and a contiguous row-major
        // layout of `n` elements fits it without overlap.
        unsafe { run(src, d, index, &out_layout, data.as_mut_ptr(), opts)? };
        // SAFETY: the run succeeded, so every position of the index's shape, which
        // covers all `n` slots of the contiguous layout, was written (plan invariant 1).
        unsafe { data.set_len(n) };
    }
    Ok(Tensor::from_parts(data, index.shape().into()))
}

/// `torch.gather(src, dim, index, out=out)`: writes through `out`'s strides.
///
/// `out` must have the index's shape (it is never resized). On any error found
/// before the kernels run (dim, shapes) `out` is untouched. On an out-of-range
/// index value, every element of `out` holds either its old value or its gathered
/// value: the kernels check values as they go and stop at the first bad one.
///
/// ```
/// use fastgather::{gather_into, Tensor, TensorView};
/// let src = TensorView::new(&[10u8, 20, 30], &[3]).unwrap();
/// let idx = TensorView::new(&[2i32, 2, 0], &[3]).unwrap();
/// let mut out = Tensor::full(&[3], 0u8).unwrap();
/// gather_into(&src, -1, &idx, &mut out.view_mut()).unwrap();
/// assert_eq!(out.as_slice(), &[30, 30, 10]);
/// ```
pub fn gather_into<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    gather_into_with(src, dim, index, out, &GatherOptions::default())
}

/// [`gather_into`] with explicit [`GatherOptions`].
///
/// ```
/// use fastgather::{gather_into_with, GatherOptions, Tensor, TensorView};
/// let src = TensorView::new(&[5u16, 6, 7, 8], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[1i32, 0], &[2, 1]).unwrap();
/// // Write the picks through a reversed view of the output buffer.
/// let mut out = Tensor::full(&[2, 1], 0u16).unwrap();
/// let mut view = out.view_mut().flip(0).unwrap();
/// gather_into_with(&src, 1, &idx, &mut view, &GatherOptions::new().sequential()).unwrap();
/// assert_eq!(out.as_slice(), &[7, 6]);
/// ```
pub fn gather_into_with<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    opts.resolve_isa()?;
    let d = wrap_dim(dim, src.rank())?;
    if out.shape() != index.shape() {
        return Err(GatherError::OutShapeMismatch {
            expected: index.shape().to_vec(),
            actual: out.shape().to_vec(),
        });
    }
    if index.is_empty() {
        return Ok(());
    }
    check_shapes(src.shape(), d, index.shape())?;
    if takes_tiny(index, opts) {
        let (base, rank) = (out.offset() as isize, out.rank());
        let mut strides = [0isize; TINY_RANK];
        strides[..rank].copy_from_slice(out.strides());
        let data = out.data_mut();
        return tiny(src, d, index, &strides[..rank], |at, v| {
            data[(base + at) as usize] = v
        });
    }
    let ptr = out.data_mut().as_mut_ptr();
    // SAFETY: `out`'s layout was checked against its buffer, overlap included, when
    // the view was made; the `&mut` borrow keeps everyone else away.
    unsafe { run(src, d, index, out.layout(), ptr, opts) }
}

/// Which kernel [`gather_with`] would run for these arguments, after the same
/// validation (index values are not looked at). `None` for an empty index,
/// where no kernel runs.
///
/// ```
/// use fastgather::{explain, GatherOptions, LayoutClass, TensorView};
/// let src = TensorView::new(&[0.5f32; 12], &[3, 4]).unwrap();
/// let idx = TensorView::new(&[0i64; 6], &[3, 2]).unwrap();
/// let choice = explain(&src, 1, &idx, &GatherOptions::new()).unwrap().unwrap();
/// assert_eq!(choice.class, LayoutClass::LastDim);
/// ```
pub fn explain<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    let out = Layout {
        shape: index.shape().into(),
        strides: contiguous_strides(index.shape()),
        offset: 0,
    };
    explain_layout(src, dim, index, &out, opts)
}

/// Which kernel [`gather_into_with`] would run for these arguments: as
/// [`explain`], for an output view of any strides (a strided output row is
/// the `General` class).
///
/// ```
/// use fastgather::{explain_into, GatherOptions, LayoutClass, Tensor, TensorView};
/// let src = TensorView::new(&[0.5f32; 12], &[3, 4]).unwrap();
/// let idx = TensorView::new(&[0i64; 6], &[3, 2]).unwrap();
/// let mut buf = Tensor::full(&[2, 3], 0f32).unwrap();
/// let out = buf.view_mut().transpose(0, 1).unwrap();
/// let choice = explain_into(&src, 1, &idx, &out, &GatherOptions::new()).unwrap().unwrap();
/// assert_eq!(choice.class, LayoutClass::General);
/// ```
pub fn explain_into<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    out: &TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    if out.shape() != index.shape() {
        return Err(GatherError::OutShapeMismatch {
            expected: index.shape().to_vec(),
            actual: out.shape().to_vec(),
        });
    }
    explain_layout(src, dim, index, out.layout(), opts)
}

/// [`explain`] with the output's layout.
fn explain_layout<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    out: &Layout,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    let isa = opts.resolve_isa()?;
    let d = wrap_dim(dim, src.rank())?;
    if index.is_empty() {
        return Ok(None);
    }
    check_shapes(src.shape(), d, index.shape())?;
    let src_layout = src.layout().addressed();
    let mut plan = Plan::new(&src_layout, src.data().len(), index.layout(), out, d);
    plan.mode = opts.mode;
    if takes_tiny(index, opts) {
        return Ok(Some(KernelChoice::tiny(plan.class)));
    }
    Ok(Some(choose(&plan, kernel_width::<T>(), I::KIND, isa)))
}
