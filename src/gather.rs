//! The public gather entry points: validation in torch's order, then the plan.

use crate::alloc::try_vec;
use crate::check::{check_shapes, first_bad};
use crate::dim::Dim;
pub(crate) use crate::dim::wrap_dim;
use crate::dispatch::{KernelChoice, choose, run_by_width, takes_tiny};
use crate::element::{Element, kernel_width};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::kernel::tiny::tiny;
use crate::layout::Layout;
use crate::options::GatherOptions;
use crate::options::IndexMode;
use crate::plan::Plan;
use crate::tune::TINY_RANK;
use crate::view::{Tensor, TensorView, TensorViewMut};

/// Plans, chooses and runs a non-empty gather into `out`.
///
/// # Safety
/// With `out_layout` given, `out` points at the buffer that layout was
/// checked against (`Layout::check` and `check_no_overlap`); with `None`,
/// `out` has room for `index.len()` elements. Nothing else accesses it
/// during the call.
unsafe fn run<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: usize,
    index: &TensorView<'_, I>,
    out_layout: Option<&Layout>,
    out: *mut T,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let path = opts.path()?;
    let plan = Plan::gather(
        src.layout(),
        src.data().len(),
        dim,
        index.layout(),
        out_layout,
    )?;
    let choice = choose(
        &plan,
        kernel_width::<T>(),
        path,
        opts.index_mode(),
        opts.driver,
    )?;
    let fill = opts.fill_bytes::<T>()?;
    let (s, i) = (src.data().as_ptr(), index.data().as_ptr());
    // SAFETY: the plan was built from these views (checked against their
    // buffers when made) and `out`'s layout (the caller's); the choice is
    // the table's for this plan; `fill_bytes` matched the fill's type to `T`.
    let ran = unsafe {
        run_by_width(
            &choice,
            &plan,
            s,
            i,
            out,
            opts.index_mode(),
            fill,
            opts.parallel,
        )
    };
    ran.map_err(|_| {
        let (value, position) = first_bad(index, plan.bound, opts.index_mode()).unwrap_or_default();
        GatherError::IndexOutOfBounds {
            value,
            position,
            dim,
            size: plan.bound,
            wraps: opts.index_mode() == IndexMode::Wrap,
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
    dim: impl Dim,
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
    dim: impl Dim,
    index: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    opts.path()?;
    let d = wrap_dim(dim, src.rank())?;
    let n = index.len();
    let mut data: Vec<T> = Vec::new();
    if n > 0 {
        check_shapes(src.shape(), d, index.shape())?;
        data = try_vec(n)?;
        if takes_tiny(n, index.rank(), opts) {
            // Positions come in row-major order: the contiguous output's order.
            tiny(src, d, index, &[], |_, v| data.push(v))?;
            return Ok(Tensor::from_parts(data, index.shape().into()));
        }
        // SAFETY: `data` has room for `n` elements, the dense output's.
        unsafe { run(src, d, index, None, data.as_mut_ptr(), opts)? };
        // SAFETY: the run succeeded, so all `n` slots of the dense layout were
        // written (plan invariant 1; kernel contract: `Ok` means every output
        // position of the rectangle was written).
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
    dim: impl Dim,
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
    dim: impl Dim,
    index: &TensorView<'_, I>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    opts.path()?;
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
    if takes_tiny(index.len(), index.rank(), opts) {
        let (base, rank) = (out.offset() as isize, out.rank());
        let mut strides = [0isize; TINY_RANK];
        strides[..rank].copy_from_slice(out.strides());
        let data = out.data_mut();
        return tiny(src, d, index, &strides[..rank], |at, v| {
            data[(base + at) as usize] = v
        });
    }
    let layout = out.layout().clone();
    let ptr = out.data_mut().as_mut_ptr();
    // SAFETY: `out`'s layout was checked against its buffer, overlap included, when
    // the view was made; the `&mut` borrow keeps everyone else away.
    unsafe { run(src, d, index, Some(&layout), ptr, opts) }
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
    dim: impl Dim,
    index: &TensorView<'_, I>,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    explain_layout(src, dim, index, None, opts)
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
    dim: impl Dim,
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
    explain_layout(src, dim, index, Some(out.layout()), opts)
}

/// [`explain`] with the output's layout (`None`: dense).
fn explain_layout<T: Element, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    out: Option<&Layout>,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    let path = opts.path()?;
    let d = wrap_dim(dim, src.rank())?;
    if index.is_empty() {
        return Ok(None);
    }
    let plan = Plan::gather(src.layout(), src.data().len(), d, index.layout(), out)?;
    if takes_tiny(index.len(), index.rank(), opts) {
        return Ok(Some(KernelChoice::tiny(plan.class)));
    }
    choose(
        &plan,
        kernel_width::<T>(),
        path,
        opts.index_mode(),
        opts.driver,
    )
    .map(Some)
}
