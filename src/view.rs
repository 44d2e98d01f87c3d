//! Strided views (`TensorView`, `TensorViewMut`) and the owned `Tensor`.
//!
//! A view is a buffer plus a [`Layout`]: shape, element strides (signed) and an
//! element offset. Every layout is validated against its buffer when the view
//! is made; see [`Layout::check`] for the invariants the kernels rely on.

use crate::dims::InlineVec;
use crate::error::GatherError;

/// Sizes of a tensor; inline up to rank 6 so views of common ranks never allocate.
pub(crate) type Dims = InlineVec<usize, 6>;
/// Element strides of a tensor.
pub(crate) type Strides = InlineVec<isize, 6>;

/// Shape, strides and offset of a view. Only ever built through [`Layout::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub shape: Dims,
    pub strides: Strides,
    pub offset: usize,
}

/// Row-major element count, `None` on overflow.
pub(crate) fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// Row-major (C-contiguous) strides for `shape`; callers have checked `numel`.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = InlineVec::from_elem(0, shape.len());
    let mut step = 1isize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = step;
        step = step.wrapping_mul(d.max(1) as isize);
    }
    strides
}

fn op_err(op: &'static str, reason: String) -> GatherError {
    GatherError::InvalidViewOp { op, reason }
}

impl Layout {
    /// Validates a layout against a buffer of `len` elements.
    ///
    /// Invariants of every `Layout` this returns (the kernels rely on them):
    /// 1. `shape.len() == strides.len()`.
    /// 2. The element count `prod(shape)` fits in `usize`.
    /// 3. If the view has no elements, `offset <= len` and nothing else is promised.
    /// 4. Otherwise, with `lo = offset + Σ min(0, (size-1)·stride)` and
    ///    `hi = offset + Σ max(0, (size-1)·stride)`, every partial sum is computed
    ///    without overflow in `isize` and `0 <= lo <= hi < len`: every position's
    ///    offset, and every partial sum of its per-axis terms added to `offset`,
    ///    lies inside the buffer.
    pub(crate) fn check(
        len: usize,
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<Self, GatherError> {
        if shape.len() != strides.len() {
            return Err(GatherError::RankLengthMismatch {
                shape_len: shape.len(),
                other_len: strides.len(),
            });
        }
        let overflow = || GatherError::ShapeOverflow {
            shape: shape.to_vec(),
        };
        let n = numel(shape).ok_or_else(overflow)?;
        let layout = Layout {
            shape: shape.into(),
            strides: strides.into(),
            offset,
        };
        if n == 0 {
            if offset > len {
                return Err(GatherError::ViewOutOfBounds {
                    min_offset: offset.try_into().unwrap_or(isize::MAX),
                    max_offset: offset.try_into().unwrap_or(isize::MAX),
                    len,
                });
            }
            return Ok(layout);
        }
        let base = isize::try_from(offset).map_err(|_| overflow())?;
        let (mut lo, mut hi) = (base, base);
        for (&d, &s) in shape.iter().zip(strides) {
            let span = isize::try_from(d - 1)
                .ok()
                .and_then(|d| d.checked_mul(s))
                .ok_or_else(overflow)?;
            if span < 0 {
                lo = lo.checked_add(span).ok_or_else(overflow)?;
            } else {
                hi = hi.checked_add(span).ok_or_else(overflow)?;
            }
        }
        if lo < 0 || hi as usize >= len {
            return Err(GatherError::ViewOutOfBounds {
                min_offset: lo,
                max_offset: hi,
                len,
            });
        }
        Ok(layout)
    }

    /// Contiguous row-major layout of `len` elements.
    pub(crate) fn contiguous(len: usize, shape: &[usize]) -> Result<Self, GatherError> {
        let expected = numel(shape).ok_or_else(|| GatherError::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        if expected != len {
            return Err(GatherError::LengthMismatch {
                expected,
                actual: len,
            });
        }
        Self::check(len, shape, &contiguous_strides(shape), 0)
    }

    pub(crate) fn numel(&self) -> usize {
        // Invariant 2 of `check`.
        self.shape.iter().product()
    }

    /// Whether the layout is C-contiguous (size-1 axes may have any stride).
    pub(crate) fn is_contiguous(&self) -> bool {
        let mut step = 1isize;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != step {
                return false;
            }
            step *= d as isize;
        }
        true
    }

    /// Rejects layouts where two positions may share an element.
    ///
    /// Sufficient test: sorted by |stride|, each axis must step over everything
    /// the smaller axes span. Non-overlapping layouts that interleave axes fail it
    /// too; they are rare and reported as overlapping rather than risked.
    pub(crate) fn check_no_overlap(&self) -> Result<(), GatherError> {
        if self.numel() == 0 {
            return Ok(());
        }
        let mut axes: Vec<(usize, usize)> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d > 1)
            .map(|(&d, &s)| (d, s.unsigned_abs()))
            .collect();
        axes.sort_by_key(|&(_, s)| s);
        // Spans fit because the layout passed `check` (invariant 4).
        let mut extent = 1usize;
        for (d, s) in axes {
            if s < extent {
                return Err(GatherError::OverlappingView {
                    shape: self.shape.to_vec(),
                    strides: self.strides.to_vec(),
                });
            }
            extent += (d - 1) * s;
        }
        Ok(())
    }

    fn axis(&self, op: &'static str, dim: usize) -> Result<(), GatherError> {
        if dim >= self.shape.len() {
            return Err(op_err(
                op,
                format!("dim {dim} out of range for rank {}", self.shape.len()),
            ));
        }
        Ok(())
    }

    fn permute(&self, dims: &[usize]) -> Result<Self, GatherError> {
        let rank = self.shape.len();
        let mut seen = vec![false; rank];
        if dims.len() != rank {
            return Err(GatherError::RankLengthMismatch {
                shape_len: rank,
                other_len: dims.len(),
            });
        }
        for &d in dims {
            if d >= rank || std::mem::replace(&mut seen[d], true) {
                return Err(op_err(
                    "permute",
                    format!("{dims:?} is not a permutation of 0..{rank}"),
                ));
            }
        }
        Ok(Layout {
            shape: dims.iter().map(|&d| self.shape[d]).collect(),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        })
    }

    fn transpose(&self, a: usize, b: usize) -> Result<Self, GatherError> {
        self.axis("transpose", a)?;
        self.axis("transpose", b)?;
        let mut out = self.clone();
        out.shape.swap(a, b);
        out.strides.swap(a, b);
        Ok(out)
    }

    fn expand(&self, shape: &[usize]) -> Result<Self, GatherError> {
        let rank = self.shape.len();
        if shape.len() < rank {
            return Err(op_err(
                "expand",
                format!("cannot expand rank {rank} to rank {}", shape.len()),
            ));
        }
        let lead = shape.len() - rank;
        let mut strides: Strides = InlineVec::from_elem(0, shape.len());
        for (k, &d) in shape.iter().enumerate().skip(lead) {
            let (old, s) = (self.shape[k - lead], self.strides[k - lead]);
            strides[k] = if old == d {
                s
            } else if old == 1 {
                0
            } else {
                return Err(op_err(
                    "expand",
                    format!(
                        "size {old} at dim {} cannot become {d} (only size-1 dims expand)",
                        k - lead
                    ),
                ));
            };
        }
        Ok(Layout {
            shape: shape.into(),
            strides,
            offset: self.offset,
        })
    }

    fn slice(
        &self,
        dim: usize,
        start: usize,
        end: usize,
        step: isize,
    ) -> Result<Self, GatherError> {
        self.axis("slice", dim)?;
        let size = self.shape[dim];
        if start > end || end > size || step == 0 {
            return Err(op_err(
                "slice",
                format!("range {start}..{end} step {step} invalid for size {size} at dim {dim}"),
            ));
        }
        let span = end - start;
        let mag = step.unsigned_abs();
        let count = span.div_ceil(mag);
        let stride = self.strides[dim];
        let mut out = self.clone();
        out.shape[dim] = count;
        // A zero count keeps the old offset: an empty view addresses nothing.
        if count > 0 {
            let first = if step > 0 { start } else { end - 1 };
            // `first < size`, so this moves inside the view's own span (invariant 4).
            out.offset = (self.offset as isize + first as isize * stride) as usize;
        }
        out.strides[dim] = stride * step;
        Ok(out)
    }

    fn unsqueeze(&self, dim: usize) -> Result<Self, GatherError> {
        if dim > self.shape.len() {
            return Err(op_err(
                "unsqueeze",
                format!("dim {dim} out of range for rank {}", self.shape.len()),
            ));
        }
        let mut out = self.clone();
        out.shape.insert(dim, 1);
        out.strides.insert(dim, 0);
        Ok(out)
    }

    fn reshape(&self, shape: &[usize]) -> Result<Self, GatherError> {
        let n = numel(shape).ok_or_else(|| GatherError::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        if n != self.numel() {
            return Err(op_err(
                "reshape",
                format!(
                    "shape {shape:?} holds {n} elements, the view holds {}",
                    self.numel()
                ),
            ));
        }
        if !self.is_contiguous() {
            return Err(op_err(
                "reshape",
                "only contiguous views can be reshaped without a copy".to_string(),
            ));
        }
        Ok(Layout {
            shape: shape.into(),
            strides: contiguous_strides(shape),
            offset: self.offset,
        })
    }

    /// Offset of the element at `pos`, or `None` if `pos` is outside the shape.
    pub(crate) fn offset_of(&self, pos: &[usize]) -> Option<usize> {
        if pos.len() != self.shape.len() || pos.iter().zip(&self.shape).any(|(p, d)| p >= d) {
            return None;
        }
        let off = pos
            .iter()
            .zip(&self.strides)
            .fold(self.offset as isize, |acc, (&p, &s)| acc + p as isize * s);
        Some(off as usize)
    }
}

macro_rules! view_accessors {
    () => {
        /// Sizes of each dim.
        pub fn shape(&self) -> &[usize] {
            &self.layout.shape
        }
        /// Element strides of each dim (may be zero or negative).
        pub fn strides(&self) -> &[isize] {
            &self.layout.strides
        }
        /// Element offset of position `[0, 0, ...]` in the buffer.
        pub fn offset(&self) -> usize {
            self.layout.offset
        }
        /// Number of dims (0 for a scalar).
        pub fn rank(&self) -> usize {
            self.layout.shape.len()
        }
        /// Number of elements (1 for a 0-d view).
        pub fn len(&self) -> usize {
            self.layout.numel()
        }
        /// Whether the view has no elements.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }
        /// Whether the view is C-contiguous.
        pub fn is_contiguous(&self) -> bool {
            self.layout.is_contiguous()
        }
        /// The element at multi-index `pos`, or `None` if `pos` is outside the shape.
        pub fn get(&self, pos: &[usize]) -> Option<&T> {
            self.layout.offset_of(pos).map(|o| &self.data[o])
        }
        /// The elements in row-major order, copied into a new `Vec`.
        pub fn to_vec(&self) -> Vec<T>
        where
            T: Copy,
        {
            let mut out = Vec::with_capacity(self.len());
            for_each_position(&self.layout.shape, |pos| {
                out.push(self.data[self.layout.offset_of(pos).unwrap()]);
                true
            });
            out
        }
        /// A contiguous owned copy.
        pub fn to_tensor(&self) -> Tensor<T>
        where
            T: Copy,
        {
            Tensor::from_parts(self.to_vec(), self.layout.shape.clone())
        }
    };
}

/// Calls `f` with every multi-index of `shape` in row-major order, until it
/// returns `false`.
pub(crate) fn for_each_position(shape: &[usize], mut f: impl FnMut(&[usize]) -> bool) {
    if shape.contains(&0) {
        return;
    }
    let mut pos: Dims = InlineVec::from_elem(0, shape.len());
    loop {
        if !f(&pos) {
            return;
        }
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            pos[k] += 1;
            if pos[k] < shape[k] {
                break;
            }
            pos[k] = 0;
        }
    }
}

/// A borrowed, read-only strided view of a buffer.
///
/// ```
/// use fastgather::TensorView;
/// let data = [1, 2, 3, 4, 5, 6];
/// let m = TensorView::new(&data, &[2, 3]).unwrap();
/// let t = m.transpose(0, 1).unwrap();
/// assert_eq!(t.shape(), &[3, 2]);
/// assert_eq!(t.to_vec(), vec![1, 4, 2, 5, 3, 6]);
/// ```
#[derive(Clone, Debug)]
pub struct TensorView<'a, T> {
    data: &'a [T],
    layout: Layout,
}

impl<'a, T> TensorView<'a, T> {
    /// A contiguous row-major view; `data.len()` must equal the product of `shape`.
    pub fn new(data: &'a [T], shape: &[usize]) -> Result<Self, GatherError> {
        Ok(Self {
            layout: Layout::contiguous(data.len(), shape)?,
            data,
        })
    }

    /// A view with any element strides (zero and negative included) and offset.
    /// Fails unless every addressable element lies inside `data` and no offset
    /// arithmetic overflows.
    pub fn with_strides(
        data: &'a [T],
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<Self, GatherError> {
        Ok(Self {
            layout: Layout::check(data.len(), shape, strides, offset)?,
            data,
        })
    }

    /// A 0-d view of one value.
    pub fn scalar(value: &'a T) -> Self {
        Self {
            data: std::slice::from_ref(value),
            layout: Layout {
                shape: Dims::new(),
                strides: Strides::new(),
                offset: 0,
            },
        }
    }

    fn derive(&self, layout: Result<Layout, GatherError>) -> Result<Self, GatherError> {
        let l = layout?;
        Ok(Self {
            layout: Layout::check(self.data.len(), &l.shape, &l.strides, l.offset)?,
            data: self.data,
        })
    }

    /// Reorders the dims: dim `k` of the result is dim `dims[k]` of `self`.
    pub fn permute(&self, dims: &[usize]) -> Result<Self, GatherError> {
        self.derive(self.layout.permute(dims))
    }

    /// Swaps two dims.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Self, GatherError> {
        self.derive(self.layout.transpose(a, b))
    }

    /// Broadcasts size-1 dims (and new leading dims) to `shape` with stride 0, as
    /// torch's `expand`.
    pub fn expand(&self, shape: &[usize]) -> Result<Self, GatherError> {
        self.derive(self.layout.expand(shape))
    }

    /// Keeps positions `start..end` of `dim`, every `step`-th; a negative step
    /// walks the same range backwards from `end - 1` (numpy's `a[start:end][::step]`).
    pub fn slice(
        &self,
        dim: usize,
        start: usize,
        end: usize,
        step: isize,
    ) -> Result<Self, GatherError> {
        self.derive(self.layout.slice(dim, start, end, step))
    }

    /// Reverses `dim` (a negative stride).
    pub fn flip(&self, dim: usize) -> Result<Self, GatherError> {
        let size = self.layout.shape.get(dim).copied().unwrap_or(0);
        self.derive(self.layout.slice(dim, 0, size, -1))
    }

    /// Inserts a size-1 dim at `dim`.
    pub fn unsqueeze(&self, dim: usize) -> Result<Self, GatherError> {
        self.derive(self.layout.unsqueeze(dim))
    }

    /// A new shape over the same elements; the view must be contiguous.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self, GatherError> {
        self.derive(self.layout.reshape(shape))
    }

    /// The whole underlying buffer.
    pub fn data(&self) -> &'a [T] {
        self.data
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    view_accessors!();
}

/// A borrowed, writable strided view. Besides fitting its buffer, its elements
/// must not overlap (no stride-0 expanded dims), so every position is written once.
#[derive(Debug)]
pub struct TensorViewMut<'a, T> {
    data: &'a mut [T],
    layout: Layout,
}

impl<'a, T> TensorViewMut<'a, T> {
    /// A contiguous row-major writable view.
    pub fn new(data: &'a mut [T], shape: &[usize]) -> Result<Self, GatherError> {
        Ok(Self {
            layout: Layout::contiguous(data.len(), shape)?,
            data,
        })
    }

    /// A writable view with any non-overlapping layout.
    pub fn with_strides(
        data: &'a mut [T],
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<Self, GatherError> {
        let layout = Layout::check(data.len(), shape, strides, offset)?;
        layout.check_no_overlap()?;
        Ok(Self { data, layout })
    }

    fn derive(self, layout: Result<Layout, GatherError>) -> Result<Self, GatherError> {
        let l = layout?;
        Self::with_strides(self.data, &l.shape, &l.strides, l.offset)
    }

    /// Reorders the dims, as [`TensorView::permute`].
    pub fn permute(self, dims: &[usize]) -> Result<Self, GatherError> {
        let l = self.layout.permute(dims);
        self.derive(l)
    }

    /// Swaps two dims.
    pub fn transpose(self, a: usize, b: usize) -> Result<Self, GatherError> {
        let l = self.layout.transpose(a, b);
        self.derive(l)
    }

    /// Keeps positions `start..end` of `dim` with a step, as [`TensorView::slice`].
    pub fn slice(
        self,
        dim: usize,
        start: usize,
        end: usize,
        step: isize,
    ) -> Result<Self, GatherError> {
        let l = self.layout.slice(dim, start, end, step);
        self.derive(l)
    }

    /// Reverses `dim`.
    pub fn flip(self, dim: usize) -> Result<Self, GatherError> {
        let size = self.layout.shape.get(dim).copied().unwrap_or(0);
        let l = self.layout.slice(dim, 0, size, -1);
        self.derive(l)
    }

    /// Inserts a size-1 dim at `dim`.
    pub fn unsqueeze(self, dim: usize) -> Result<Self, GatherError> {
        let l = self.layout.unsqueeze(dim);
        self.derive(l)
    }

    /// A new shape over the same elements; the view must be contiguous.
    pub fn reshape(self, shape: &[usize]) -> Result<Self, GatherError> {
        let l = self.layout.reshape(shape);
        self.derive(l)
    }

    /// A read-only view of the same elements.
    pub fn as_view(&self) -> TensorView<'_, T> {
        TensorView {
            data: self.data,
            layout: self.layout.clone(),
        }
    }

    /// A shorter-lived writable view of the same elements.
    pub fn reborrow(&mut self) -> TensorViewMut<'_, T> {
        TensorViewMut {
            data: self.data,
            layout: self.layout.clone(),
        }
    }

    /// The element at `pos`, writable.
    pub fn get_mut(&mut self, pos: &[usize]) -> Option<&mut T> {
        self.layout.offset_of(pos).map(|o| &mut self.data[o])
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    pub(crate) fn data_mut(&mut self) -> &mut [T] {
        self.data
    }

    view_accessors!();
}

/// An owned, contiguous row-major tensor.
///
/// ```
/// use fastgather::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(t.shape(), &[2, 2]);
/// assert_eq!(t.view().transpose(0, 1).unwrap().to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T> {
    data: Vec<T>,
    /// Always contiguous row-major over `data`, offset 0; kept whole so views
    /// are a copy away.
    layout: Layout,
}

impl<T> Tensor<T> {
    /// Wraps `data` as a row-major tensor of `shape`; the lengths must agree.
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self, GatherError> {
        let layout = Layout::contiguous(data.len(), shape)?;
        Ok(Self { data, layout })
    }

    /// A 0-d tensor holding `value`.
    pub fn scalar(value: T) -> Self {
        Self {
            data: vec![value],
            layout: Layout {
                shape: Dims::new(),
                strides: Strides::new(),
                offset: 0,
            },
        }
    }

    /// A tensor of `shape` with every element `value`.
    pub fn full(shape: &[usize], value: T) -> Result<Self, GatherError>
    where
        T: Clone,
    {
        let n = numel(shape).ok_or_else(|| GatherError::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        let mut data = Vec::new();
        data.try_reserve_exact(n)
            .map_err(|_| GatherError::AllocationFailed {
                bytes: n.saturating_mul(std::mem::size_of::<T>()),
            })?;
        data.resize(n, value);
        Ok(Self::from_parts(data, shape.into()))
    }

    /// Assembles a tensor whose length was checked by the caller.
    pub(crate) fn from_parts(data: Vec<T>, shape: Dims) -> Self {
        debug_assert_eq!(numel(&shape), Some(data.len()));
        Self {
            data,
            layout: Layout {
                strides: contiguous_strides(&shape),
                shape,
                offset: 0,
            },
        }
    }

    /// Sizes of each dim.
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    /// Number of dims.
    pub fn rank(&self) -> usize {
        self.layout.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, writable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The elements, giving up the shape.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A read-only view of the whole tensor.
    pub fn view(&self) -> TensorView<'_, T> {
        TensorView {
            data: &self.data,
            layout: self.layout.clone(),
        }
    }

    /// A writable view of the whole tensor.
    pub fn view_mut(&mut self) -> TensorViewMut<'_, T> {
        TensorViewMut {
            layout: self.layout.clone(),
            data: &mut self.data,
        }
    }
}
