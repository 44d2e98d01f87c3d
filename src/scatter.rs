//! `scatter` and `scatter_add`: gather's adjoint, on the same views, plans and
//! threads.

use crate::check::first_bad;
use crate::dim::{Dim, wrap_dim};
use crate::dispatch::{KernelChoice, choose_scatter, on_path};
use crate::element::{Accumulate, Element};
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::isa::Path;
use crate::kernel::scatter::{Add, Assign, Combine, ScatterJob, scatter_rows, shares_index};
use crate::options::{GatherOptions, IndexMode};
use crate::par;
use crate::plan::Plan;
use crate::view::{Tensor, TensorView, TensorViewMut};

/// The path a scatter with these options runs, or the options' error:
/// [`IndexMode::Fill`] is refused (a scatter has no slot to fill: `Drop` skips
/// the write), then a forced path the CPU lacks.
pub(crate) fn scatter_path(opts: &GatherOptions) -> Result<Path, GatherError> {
    if opts.index_mode() == IndexMode::Fill {
        return Err(GatherError::InvalidOption {
            reason: "a scatter has no fill value: IndexMode::Drop skips out-of-range writes"
                .to_string(),
        });
    }
    opts.path()
}

/// `dest[p with p[dim] = index[p]] ⊕= src[p]` for every index position `p`,
/// combining with `C`, out-of-range values resolved by the options' mode.
pub(crate) fn run_scatter<T: Element, I: IndexElem, C: Combine<T>>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    op: C,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    let path = scatter_path(opts)?;
    let mode = opts.index_mode();
    let d = wrap_dim(dim, dest.rank())?;
    if index.is_empty() {
        return Ok(());
    }
    let dest_len = dest.data_mut().len();
    let dest_ptr = dest.data_mut().as_mut_ptr();
    let plan = Plan::scatter(dest.layout(), dest_len, d, index.layout(), src.layout())?;
    let choice = choose_scatter(&plan, path);
    let job = ScatterJob {
        plan: &plan,
        dest: dest_ptr,
        idx: index.data().as_ptr(),
        src: src.data().as_ptr(),
        mode,
        op,
    };
    let elem_bytes = 2 * size_of::<T>() + size_of::<I>();
    let (rows, bound) = (plan.rows(), plan.bound());
    let ran = if shares_index(&plan) {
        // Rows that share their index: each thread reads all of it and takes
        // the values bound for its own range of destinations, so it moves
        // whole runs and touches no other thread's lines.
        let pieces = par::threads(opts.parallel);
        let cut = |p: usize| p * bound / pieces;
        let bytes = rows.saturating_mul(plan.inner()).saturating_mul(elem_bytes) / pieces;
        par::for_each_chunk(pieces, 1, bytes, opts.parallel, choice.split, |p, _| {
            // SAFETY: as below; each call gets the destinations `cut(p)`
            // along the dim, disjoint from every other call's.
            on_path(choice.path, || unsafe {
                scatter_rows::<T, I, C>(&job, 0..rows, cut(p.start)..cut(p.end))
            })
        })
    } else {
        par::for_each_chunk(
            rows,
            plan.inner(),
            elem_bytes,
            opts.parallel,
            choice.split,
            |rows, _| {
                // The layouts were checked against their buffers when the views were
                // made (the destination's for overlap too); shapes by `Plan::scatter`.
                // SAFETY: those checks, the `&mut` borrow of the destination, and
                // `RowsOnly`: each call gets whole, disjoint rows.
                on_path(choice.path, || unsafe {
                    scatter_rows::<T, I, C>(&job, rows, 0..bound)
                })
            },
        )
    };
    ran.map_err(|_| {
        let (value, position) = first_bad(index, plan.bound(), mode).unwrap_or_default();
        GatherError::IndexOutOfBounds {
            value,
            position,
            dim: d,
            size: plan.bound(),
            wraps: mode == IndexMode::Wrap,
        }
    })
}

/// Which kernel a scatter of these arguments runs, after the same validation
/// (index values are not looked at): [`scatter_into`], [`scatter_add_into`],
/// [`scatter_value_into`](crate::scatter_value_into) (with `src` a view of the
/// value expanded to the index's shape), every pass of
/// [`scatter_reduce_into`](crate::scatter_reduce_into), and
/// [`put_along_axis_into`](crate::put_along_axis_into) (with its broadcast
/// index) all run it. `None` for an empty index, where no kernel runs.
///
/// ```
/// use fastgather::{explain_scatter, GatherOptions, Tensor, TensorView};
/// // A graph's messages summed into its nodes: the feature columns share the
/// // edge's destination, so each edge adds one run of 8 values to its node's.
/// let mut nodes = Tensor::full(&[4, 8], 0.0f32).unwrap();
/// let dst = TensorView::new(&[3i64, 0, 3], &[3, 1]).unwrap();
/// let dst = dst.expand(&[3, 8]).unwrap();
/// let msg = TensorView::new(&[1.0f32; 24], &[3, 8]).unwrap();
/// let choice = explain_scatter(&nodes.view_mut(), 0, &dst, &msg, &GatherOptions::new());
/// assert_eq!(choice.unwrap().unwrap().kernel, "scatter::shared");
/// ```
pub fn explain_scatter<T: Element, I: IndexElem>(
    dest: &TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<Option<KernelChoice>, GatherError> {
    let path = scatter_path(opts)?;
    let d = wrap_dim(dim, dest.rank())?;
    if index.is_empty() {
        return Ok(None);
    }
    let len = dest.as_view().data().len();
    let plan = Plan::scatter(dest.layout(), len, d, index.layout(), src.layout())?;
    Ok(Some(choose_scatter(&plan, path)))
}

/// torch's `self.scatter_(dim, index, src)`: for every index position `p`,
/// `dest[p with p[dim] = index[p]] = src[p]`.
///
/// Where several positions name the same element, the last in row-major order
/// of the index wins, on any number of threads (torch leaves it unspecified).
/// On an out-of-range index, `dest` may be partly written; on any other error it
/// is untouched.
///
/// ```
/// use fastgather::{scatter_into, Tensor, TensorView};
/// let mut dest = Tensor::full(&[2, 3], 0i32).unwrap();
/// let idx = TensorView::new(&[2i64, 0], &[2, 1]).unwrap();
/// let src = TensorView::new(&[7, 9], &[2, 1]).unwrap();
/// scatter_into(&mut dest.view_mut(), 1, &idx, &src).unwrap();
/// assert_eq!(dest.as_slice(), &[0, 0, 7, 9, 0, 0]);
/// ```
pub fn scatter_into<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
) -> Result<(), GatherError> {
    scatter_into_with(dest, dim, index, src, &GatherOptions::default())
}

/// [`scatter_into`] with explicit options (threading, the index mode:
/// [`IndexMode::Drop`] skips out-of-range writes; `Fill` is refused).
///
/// ```
/// use fastgather::{scatter_into_with, GatherOptions, Tensor, TensorView};
/// let mut dest = Tensor::full(&[4], 0).unwrap();
/// let idx = TensorView::new(&[3i64, 1], &[2]).unwrap();
/// let src = TensorView::new(&[5, 6], &[2]).unwrap();
/// let opts = GatherOptions::new().sequential();
/// scatter_into_with(&mut dest.view_mut(), 0, &idx, &src, &opts).unwrap();
/// assert_eq!(dest.as_slice(), &[0, 6, 0, 5]);
/// ```
pub fn scatter_into_with<T: Element, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    run_scatter::<T, I, Assign>(dest, dim, index, src, Assign, opts)
}

/// torch's `input.scatter(dim, index, src)`: a contiguous copy of `input` with
/// [`scatter_into`] applied. The copy's allocation is fallible
/// ([`GatherError::AllocationFailed`]).
///
/// ```
/// use fastgather::{scatter, TensorView};
/// // A permutation's inverse: out[perm[i]] = i.
/// let perm = TensorView::new(&[2i64, 0, 1], &[3]).unwrap();
/// let iota = TensorView::new(&[0i64, 1, 2], &[3]).unwrap();
/// let inverse = scatter(&iota, 0, &perm, &iota).unwrap();
/// assert_eq!(inverse.as_slice(), &[1, 2, 0]);
/// ```
pub fn scatter<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
) -> Result<Tensor<T>, GatherError> {
    scatter_with(input, dim, index, src, &GatherOptions::default())
}

/// [`scatter`] with explicit options (threading, the instruction-set path).
/// [`IndexMode::Fill`] is refused; an option error comes back before `input`
/// is copied.
///
/// ```
/// use fastgather::{scatter, scatter_with, GatherOptions, Isa, TensorView};
/// let input = TensorView::new(&[0u8; 4], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[1i64, 0], &[2, 1]).unwrap();
/// let src = TensorView::new(&[7u8, 9], &[2, 1]).unwrap();
/// let opts = GatherOptions::new().isa(Isa::Scalar).sequential();
/// let out = scatter_with(&input, 1, &idx, &src, &opts).unwrap();
/// assert_eq!(out.as_slice(), &[0, 7, 9, 0]);
/// assert_eq!(out, scatter(&input, 1, &idx, &src).unwrap());
/// ```
pub fn scatter_with<T: Element, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    scatter_into_with(&mut out.view_mut(), dim, index, src, opts)?;
    Ok(out)
}

/// torch's `self.scatter_add_(dim, index, src)`: for every index position `p`,
/// `dest[p with p[dim] = index[p]] += src[p]`; duplicates accumulate.
///
/// Gather's adjoint: the gradient of `gather(x, dim, index)` with respect to `x`
/// is `scatter_add(zeros(x.shape), dim, index, grad)`. Sums are added in
/// row-major order of the index, one thread per set of rows that cannot collide,
/// so results are bit-identical on any number of threads (no atomics).
///
/// ```
/// use fastgather::{scatter_add_into, Tensor, TensorView};
/// let mut grad = Tensor::full(&[3], 0.0f32).unwrap();
/// let idx = TensorView::new(&[0i64, 2, 0], &[3]).unwrap();
/// let upstream = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// scatter_add_into(&mut grad.view_mut(), 0, &idx, &upstream).unwrap();
/// assert_eq!(grad.as_slice(), &[4.0, 0.0, 2.0]);
/// ```
pub fn scatter_add_into<T: Accumulate, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
) -> Result<(), GatherError> {
    scatter_add_into_with(dest, dim, index, src, &GatherOptions::default())
}

/// [`scatter_add_into`] with explicit options (threading, the index mode). The
/// sums are the same on any number of threads.
///
/// ```
/// use fastgather::{scatter_add_into_with, GatherOptions, Tensor, TensorView};
/// let mut hist = Tensor::full(&[3], 0i64).unwrap();
/// let bins = TensorView::new(&[0i64, 2, 2, 1, 2], &[5]).unwrap();
/// let ones = TensorView::new(&[1i64; 5], &[5]).unwrap();
/// let opts = GatherOptions::new().sequential();
/// scatter_add_into_with(&mut hist.view_mut(), 0, &bins, &ones, &opts).unwrap();
/// assert_eq!(hist.as_slice(), &[1, 1, 3]);
/// ```
pub fn scatter_add_into_with<T: Accumulate, I: IndexElem>(
    dest: &mut TensorViewMut<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    scatter_path(opts)?;
    let d = wrap_dim(dim, dest.rank())?;
    if !index.is_empty() {
        // Shapes first: a widened sum allocates before it scatters.
        let len = dest.data_mut().len();
        Plan::scatter(dest.layout(), len, d, index.layout(), src.layout())?;
        if let Some(done) = T::scatter_add_wide(dest, d, index, src, opts) {
            return done;
        }
    }
    run_scatter::<T, I, Add>(dest, d, index, src, Add, opts)
}

/// torch's `input.scatter_add(dim, index, src)`: a contiguous copy of `input`
/// with [`scatter_add_into`] applied. The copy's allocation is fallible
/// ([`GatherError::AllocationFailed`]).
///
/// ```
/// use fastgather::{scatter_add, TensorView};
/// // torch: torch.ones(2, 3).scatter_add(1, tensor([[0, 0], [2, 1]]), tensor([[1., 2.], [3., 4.]]))
/// let input = TensorView::new(&[1.0f32; 6], &[2, 3]).unwrap();
/// let idx = TensorView::new(&[0i64, 0, 2, 1], &[2, 2]).unwrap();
/// let src = TensorView::new(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let out = scatter_add(&input, 1, &idx, &src).unwrap();
/// assert_eq!(out.as_slice(), &[4.0, 1.0, 1.0, 1.0, 5.0, 4.0]);
/// ```
pub fn scatter_add<T: Accumulate, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
) -> Result<Tensor<T>, GatherError> {
    scatter_add_with(input, dim, index, src, &GatherOptions::default())
}

/// [`scatter_add`] with explicit options (threading, the instruction-set
/// path, the index mode). The sums are the same on any number of threads.
/// [`IndexMode::Fill`] is refused; an option error comes back before `input`
/// is copied.
///
/// ```
/// use fastgather::{scatter_add, scatter_add_with, GatherOptions, TensorView};
/// // Counts of each label: ones added into zeros at the labels.
/// let zeros = TensorView::new(&[0u32; 3], &[3]).unwrap();
/// let labels = TensorView::new(&[2i64, 0, 2, 2], &[4]).unwrap();
/// let ones = TensorView::new(&[1u32; 4], &[4]).unwrap();
/// let opts = GatherOptions::new().sequential();
/// let counts = scatter_add_with(&zeros, 0, &labels, &ones, &opts).unwrap();
/// assert_eq!(counts.as_slice(), &[1, 0, 3]);
/// assert_eq!(counts, scatter_add(&zeros, 0, &labels, &ones).unwrap());
/// ```
pub fn scatter_add_with<T: Accumulate, I: IndexElem>(
    input: &TensorView<'_, T>,
    dim: impl Dim,
    index: &TensorView<'_, I>,
    src: &TensorView<'_, T>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    scatter_path(opts)?;
    let mut out = input.try_to_tensor()?;
    scatter_add_into_with(&mut out.view_mut(), dim, index, src, opts)?;
    Ok(out)
}
