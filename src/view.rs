//! Strided views (`TensorView`, `TensorViewMut`) and the owned `Tensor`.
//!
//! A view is a buffer plus a `Layout` (`layout.rs`): shape, element strides
//! (signed) and an element offset. Every layout is validated against its
//! buffer when the view is made; `Layout::check` lists the invariants the
//! kernels rely on.

/// Re-exported for the modules (and branches) that still name it here; it
/// lives in `alloc.rs`.
pub(crate) use crate::alloc::try_vec;
use crate::alloc::try_zeroed_vec;
use crate::dim::{Dim, reshape_sizes};
use crate::error::GatherError;
use crate::layout::{
    Dims, Layout, Strides, contiguous_strides, for_each_position, numel, numel_isize,
};

macro_rules! view_accessors {
    () => {
        /// Sizes of each dim.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[0u8; 6], &[2, 3]).unwrap();
        /// assert_eq!(v.shape(), &[2, 3]);
        /// ```
        pub fn shape(&self) -> &[usize] {
            &self.layout.shape
        }
        /// Element strides of each dim (may be zero or negative).
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[0u8; 6], &[2, 3]).unwrap();
        /// assert_eq!(v.strides(), &[3, 1]);
        /// assert_eq!(v.flip(1).unwrap().strides(), &[3, -1]);
        /// assert_eq!(v.slice(0, 0, 1, 1).unwrap().expand(&[4, 3]).unwrap().strides(), &[0, 1]);
        /// ```
        pub fn strides(&self) -> &[isize] {
            &self.layout.strides
        }
        /// Element offset of position `[0, 0, ...]` in the buffer.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[0u8; 6], &[2, 3]).unwrap();
        /// assert_eq!(v.offset(), 0);
        /// assert_eq!(v.flip(1).unwrap().offset(), 2);
        /// ```
        pub fn offset(&self) -> usize {
            self.layout.offset
        }
        /// Number of dims (0 for a scalar).
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// assert_eq!(TensorView::new(&[0u8; 6], &[2, 3]).unwrap().rank(), 2);
        /// assert_eq!(TensorView::scalar(&7).rank(), 0);
        /// ```
        pub fn rank(&self) -> usize {
            self.layout.shape.len()
        }
        /// Number of elements (1 for a 0-d view).
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[0u8; 6], &[2, 3]).unwrap();
        /// assert_eq!(v.len(), 6);
        /// assert_eq!(v.expand(&[4, 2, 3]).unwrap().len(), 24);
        /// assert_eq!(TensorView::scalar(&7).len(), 1);
        /// ```
        pub fn len(&self) -> usize {
            self.layout.numel()
        }
        /// Whether the view has no elements.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// assert!(TensorView::<f32>::new(&[], &[3, 0]).unwrap().is_empty());
        /// assert!(!TensorView::scalar(&7).is_empty());
        /// ```
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }
        /// Whether the view is C-contiguous.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[0u8; 6], &[2, 3]).unwrap();
        /// assert!(v.is_contiguous());
        /// assert!(!v.transpose(0, 1).unwrap().is_contiguous());
        /// ```
        pub fn is_contiguous(&self) -> bool {
            self.layout.is_contiguous()
        }
        /// The element at multi-index `pos`, or `None` if `pos` is outside the shape.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
        /// assert_eq!(v.get(&[1, 0]), Some(&4));
        /// assert_eq!(v.get(&[2, 0]), None);
        /// assert_eq!(v.get(&[1]), None);
        /// ```
        pub fn get(&self, pos: &[usize]) -> Option<&T> {
            self.layout.offset_of(pos).map(|o| &self.data[o])
        }
        /// The elements in row-major order, copied into a new `Vec`.
        ///
        /// The allocation is infallible, as `Vec`'s: a view of more elements
        /// than memory holds (a stride-0 view is cheap to make that large)
        /// aborts the process. [`try_to_vec`](Self::try_to_vec) returns an
        /// error instead.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
        /// assert_eq!(v.flip(0).unwrap().to_vec(), vec![4, 5, 6, 1, 2, 3]);
        /// ```
        pub fn to_vec(&self) -> Vec<T>
        where
            T: Copy,
        {
            let mut out = Vec::with_capacity(self.len());
            copy_elements(self.data, &self.layout, &mut out);
            out
        }
        /// [`to_vec`](Self::to_vec) with a fallible allocation:
        /// [`GatherError::AllocationFailed`] where the elements do not fit.
        ///
        /// ```
        /// use fastgather::{GatherError, TensorView};
        /// let one = [7u32];
        /// let v = TensorView::new(&one, &[1, 1]).unwrap();
        /// assert_eq!(v.expand(&[2, 3]).unwrap().try_to_vec().unwrap(), vec![7; 6]);
        /// // `isize::MAX` elements from one: too many to copy.
        /// let huge = v.expand(&[isize::MAX as usize, 1]).unwrap();
        /// assert!(matches!(huge.try_to_vec(), Err(GatherError::AllocationFailed { .. })));
        /// ```
        pub fn try_to_vec(&self) -> Result<Vec<T>, GatherError>
        where
            T: Copy,
        {
            let mut out = try_vec(self.len())?;
            copy_elements(self.data, &self.layout, &mut out);
            Ok(out)
        }
        /// A contiguous owned copy (torch's `.contiguous()`). Its allocation is
        /// infallible, as [`to_vec`](Self::to_vec)'s;
        /// [`try_to_tensor`](Self::try_to_tensor) is the fallible form.
        ///
        /// ```
        /// # use fastgather::TensorView;
        /// let v = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
        /// let t = v.transpose(0, 1).unwrap().to_tensor();
        /// assert_eq!(t.shape(), &[2, 2]);
        /// assert_eq!(t.as_slice(), &[1, 3, 2, 4]);
        /// ```
        pub fn to_tensor(&self) -> Tensor<T>
        where
            T: Copy,
        {
            Tensor::from_parts(self.to_vec(), self.layout.shape.clone())
        }
        /// [`to_tensor`](Self::to_tensor) with a fallible allocation:
        /// [`GatherError::AllocationFailed`] where the elements do not fit.
        ///
        /// ```
        /// use fastgather::{GatherError, TensorView};
        /// let v = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
        /// let t = v.transpose(0, 1).unwrap().try_to_tensor().unwrap();
        /// assert_eq!(t.as_slice(), &[1, 3, 2, 4]);
        /// let huge = v.slice(0, 0, 1, 1).unwrap().expand(&[isize::MAX as usize / 2, 2]).unwrap();
        /// assert!(matches!(huge.try_to_tensor(), Err(GatherError::AllocationFailed { .. })));
        /// ```
        pub fn try_to_tensor(&self) -> Result<Tensor<T>, GatherError>
        where
            T: Copy,
        {
            Ok(Tensor::from_parts(
                self.try_to_vec()?,
                self.layout.shape.clone(),
            ))
        }
    };
}

/// Appends the elements of the view `layout` over `data` to `out`, in
/// row-major order: one slice copy when the view is contiguous.
fn copy_elements<T: Copy>(data: &[T], layout: &Layout, out: &mut Vec<T>) {
    if layout.numel() == 0 {
        // Invariant 3: an empty view's offset may lie anywhere.
        return;
    }
    if layout.is_contiguous() {
        // Invariant 4: a contiguous non-empty view's elements are the
        // `numel` elements from its offset, all inside the buffer.
        out.extend_from_slice(&data[layout.offset..layout.offset + layout.numel()]);
        return;
    }
    for_each_position(&layout.shape, |pos| {
        out.push(data[layout.offset_of(pos).expect("position inside the shape")]);
        true
    });
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
    ///
    /// ```
    /// use fastgather::{GatherError, TensorView};
    /// let v = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    /// assert_eq!(v.get(&[1, 2]), Some(&6));
    /// assert!(matches!(
    ///     TensorView::new(&[1, 2, 3], &[2, 2]),
    ///     Err(GatherError::LengthMismatch { expected: 4, actual: 3 })
    /// ));
    /// ```
    pub fn new(data: &'a [T], shape: &[usize]) -> Result<Self, GatherError> {
        Ok(Self {
            layout: Layout::contiguous(data.len(), shape)?,
            data,
        })
    }

    /// A view with any element strides (zero and negative included) and offset,
    /// as torch's `as_strided`. Fails unless every addressable element lies
    /// inside `data`, no offset arithmetic overflows and the element count fits
    /// in `isize`. A view with no elements addresses nothing, so it is valid
    /// whatever its strides and offset (as in torch).
    ///
    /// ```
    /// use fastgather::{GatherError, TensorView};
    /// let data = [0, 1, 2, 3, 4, 5, 6, 7];
    /// // Every other element, backwards from the last: [7, 5, 3, 1].
    /// let v = TensorView::with_strides(&data, &[4], &[-2], 7).unwrap();
    /// assert_eq!(v.to_vec(), vec![7, 5, 3, 1]);
    /// // One step too far: element -1 is outside the buffer.
    /// assert!(matches!(
    ///     TensorView::with_strides(&data, &[5], &[-2], 7),
    ///     Err(GatherError::ViewOutOfBounds { .. })
    /// ));
    /// // No elements: any offset.
    /// assert!(TensorView::with_strides(&data, &[0, 3], &[3, 1], 100).is_ok());
    /// // `2 * isize::MAX` elements (from one, by stride 0) do not fit in isize.
    /// assert!(matches!(
    ///     TensorView::with_strides(&data, &[isize::MAX as usize, 2], &[0, 0], 0),
    ///     Err(GatherError::ShapeOverflow { .. })
    /// ));
    /// ```
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
    ///
    /// ```
    /// use fastgather::{gather, TensorView};
    /// let src = TensorView::new(&[10, 20, 30], &[3]).unwrap();
    /// let i = 2i64;
    /// let out = gather(&src, 0, &TensorView::scalar(&i)).unwrap();
    /// assert_eq!(out.shape(), &[] as &[usize]);
    /// assert_eq!(out.as_slice(), &[30]);
    /// ```
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
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let v = TensorView::new(&[0u8; 24], &[2, 3, 4]).unwrap();
    /// let p = v.permute(&[2, 0, 1]).unwrap();
    /// assert_eq!(p.shape(), &[4, 2, 3]);
    /// assert_eq!(p.strides(), &[1, 12, 4]);
    /// assert!(v.permute(&[0, 0, 1]).is_err());
    /// ```
    pub fn permute(&self, dims: &[impl Dim]) -> Result<Self, GatherError> {
        self.derive(self.layout.permute_dims(dims))
    }

    /// Swaps two dims.
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let v = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    /// assert_eq!(v.transpose(0, 1).unwrap().to_vec(), vec![1, 4, 2, 5, 3, 6]);
    /// ```
    pub fn transpose(&self, a: impl Dim, b: impl Dim) -> Result<Self, GatherError> {
        self.derive(self.layout.transpose_dims(a, b))
    }

    /// Broadcasts size-1 dims (and new leading dims) to `shape` with stride 0, as
    /// torch's `expand`.
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let col = TensorView::new(&[1, 2], &[2, 1]).unwrap();
    /// let e = col.expand(&[3, 2, 2]).unwrap();
    /// assert_eq!(e.strides(), &[0, 1, 0]);
    /// assert_eq!(e.to_vec(), vec![1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
    /// assert!(col.expand(&[3, 2]).is_err()); // size 2 cannot become 3
    /// ```
    pub fn expand(&self, shape: &[impl Dim]) -> Result<Self, GatherError> {
        self.derive(self.layout.expand_dims(shape))
    }

    /// Keeps positions `start..end` of `dim`, every `step`-th; a negative step
    /// walks the same range backwards from `end - 1` (numpy's `a[start:end][::step]`).
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let v = TensorView::new(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], &[10]).unwrap();
    /// assert_eq!(v.slice(0, 2, 8, 2).unwrap().to_vec(), vec![2, 4, 6]); // t[2:8:2]
    /// assert_eq!(v.slice(0, 2, 8, -2).unwrap().to_vec(), vec![7, 5, 3]);
    /// ```
    pub fn slice(
        &self,
        dim: impl Dim,
        start: impl Dim,
        end: impl Dim,
        step: impl Dim,
    ) -> Result<Self, GatherError> {
        self.derive(self.layout.slice_dims(dim, start, end, step))
    }

    /// Reverses `dim` (a negative stride).
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let v = TensorView::new(&[1, 2, 3], &[3]).unwrap();
    /// let f = v.flip(0).unwrap();
    /// assert_eq!(f.strides(), &[-1]);
    /// assert_eq!(f.to_vec(), vec![3, 2, 1]);
    /// ```
    pub fn flip(&self, dim: impl Dim) -> Result<Self, GatherError> {
        self.derive(self.layout.flip_dim(dim))
    }

    /// Inserts a size-1 dim at `dim`.
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let v = TensorView::new(&[1, 2, 3], &[3]).unwrap();
    /// assert_eq!(v.unsqueeze(0).unwrap().shape(), &[1, 3]);
    /// assert_eq!(v.unsqueeze(1).unwrap().shape(), &[3, 1]); // t.unsqueeze(-1)
    /// ```
    pub fn unsqueeze(&self, dim: impl Dim) -> Result<Self, GatherError> {
        self.derive(self.layout.unsqueeze_dim(dim))
    }

    /// A new shape over the same elements; the view must be contiguous.
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let y = TensorView::new(&[0i64, 2, 1], &[3]).unwrap();
    /// assert_eq!(y.reshape(&[3, 1]).unwrap().shape(), &[3, 1]); // y.view(-1, 1)
    /// let m = TensorView::new(&[0u8; 6], &[2, 3]).unwrap();
    /// assert!(m.transpose(0, 1).unwrap().reshape(&[6]).is_err()); // not contiguous
    /// ```
    pub fn reshape(&self, shape: &[impl Dim]) -> Result<Self, GatherError> {
        self.derive(self.layout.reshape_dims(shape))
    }

    /// The whole underlying buffer, including elements the view does not address.
    ///
    /// ```
    /// # use fastgather::TensorView;
    /// let data = [1, 2, 3, 4];
    /// let v = TensorView::new(&data, &[4]).unwrap().slice(0, 1, 3, 1).unwrap();
    /// assert_eq!(v.to_vec(), vec![2, 3]);
    /// assert_eq!(v.data(), &data);
    /// assert_eq!(v.offset(), 1);
    /// ```
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
///
/// ```
/// use fastgather::{gather_into, TensorView, TensorViewMut};
/// let src = TensorView::new(&[1, 2, 3, 4], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[1i64, 0, 0, 1], &[2, 2]).unwrap();
/// let mut buf = [0; 4];
/// // Write the result transposed.
/// let mut out = TensorViewMut::new(&mut buf, &[2, 2]).unwrap().transpose(0, 1).unwrap();
/// gather_into(&src, 1, &idx, &mut out).unwrap();
/// assert_eq!(buf, [2, 3, 1, 4]);
/// ```
#[derive(Debug)]
pub struct TensorViewMut<'a, T> {
    data: &'a mut [T],
    layout: Layout,
}

impl<'a, T> TensorViewMut<'a, T> {
    /// A contiguous row-major writable view.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0.0f32; 6];
    /// let mut v = TensorViewMut::new(&mut buf, &[2, 3]).unwrap();
    /// *v.get_mut(&[1, 0]).unwrap() = 1.5;
    /// assert_eq!(buf[3], 1.5);
    /// ```
    pub fn new(data: &'a mut [T], shape: &[usize]) -> Result<Self, GatherError> {
        Ok(Self {
            layout: Layout::contiguous(data.len(), shape)?,
            data,
        })
    }

    /// A writable view with any non-overlapping layout; stride-0 dims of size
    /// above 1 and other overlapping layouts fail with
    /// [`GatherError::OverlappingView`]. As for [`TensorView::with_strides`],
    /// a view with no elements is valid whatever its strides and offset.
    ///
    /// ```
    /// use fastgather::{GatherError, TensorViewMut};
    /// let mut buf = [0u8; 6];
    /// // Column 1 of a [3, 2] row-major buffer.
    /// let col = TensorViewMut::with_strides(&mut buf, &[3], &[2], 1).unwrap();
    /// assert_eq!(col.shape(), &[3]);
    /// assert!(matches!(
    ///     TensorViewMut::with_strides(&mut buf, &[3, 2], &[1, 1], 0),
    ///     Err(GatherError::OverlappingView { .. })
    /// ));
    /// ```
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
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0u8; 6];
    /// let v = TensorViewMut::new(&mut buf, &[2, 3]).unwrap().permute(&[1, 0]).unwrap();
    /// assert_eq!(v.shape(), &[3, 2]);
    /// ```
    pub fn permute(self, dims: &[impl Dim]) -> Result<Self, GatherError> {
        let l = self.layout.permute_dims(dims);
        self.derive(l)
    }

    /// Swaps two dims.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0u8; 6];
    /// let mut v = TensorViewMut::new(&mut buf, &[2, 3]).unwrap().transpose(0, 1).unwrap();
    /// *v.get_mut(&[2, 0]).unwrap() = 9;
    /// assert_eq!(buf, [0, 0, 9, 0, 0, 0]);
    /// ```
    pub fn transpose(self, a: impl Dim, b: impl Dim) -> Result<Self, GatherError> {
        let l = self.layout.transpose_dims(a, b);
        self.derive(l)
    }

    /// Keeps positions `start..end` of `dim` with a step, as [`TensorView::slice`].
    ///
    /// ```
    /// use fastgather::{scatter_into, TensorView, TensorViewMut};
    /// let mut buf = [0; 6];
    /// // Scatter into the even positions only.
    /// let mut even = TensorViewMut::new(&mut buf, &[6]).unwrap().slice(0, 0, 6, 2).unwrap();
    /// let idx = TensorView::new(&[2i64, 0], &[2]).unwrap();
    /// let src = TensorView::new(&[7, 8], &[2]).unwrap();
    /// scatter_into(&mut even, 0, &idx, &src).unwrap();
    /// assert_eq!(buf, [8, 0, 0, 0, 7, 0]);
    /// ```
    pub fn slice(
        self,
        dim: impl Dim,
        start: impl Dim,
        end: impl Dim,
        step: impl Dim,
    ) -> Result<Self, GatherError> {
        let l = self.layout.slice_dims(dim, start, end, step);
        self.derive(l)
    }

    /// Reverses `dim`.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0u8; 3];
    /// let mut v = TensorViewMut::new(&mut buf, &[3]).unwrap().flip(0).unwrap();
    /// *v.get_mut(&[0]).unwrap() = 1;
    /// assert_eq!(buf, [0, 0, 1]);
    /// ```
    pub fn flip(self, dim: impl Dim) -> Result<Self, GatherError> {
        let l = self.layout.flip_dim(dim);
        self.derive(l)
    }

    /// Inserts a size-1 dim at `dim`.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0u8; 3];
    /// let v = TensorViewMut::new(&mut buf, &[3]).unwrap().unsqueeze(1).unwrap();
    /// assert_eq!(v.shape(), &[3, 1]);
    /// ```
    pub fn unsqueeze(self, dim: impl Dim) -> Result<Self, GatherError> {
        let l = self.layout.unsqueeze_dim(dim);
        self.derive(l)
    }

    /// A new shape over the same elements; the view must be contiguous.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0u8; 6];
    /// let v = TensorViewMut::new(&mut buf, &[6]).unwrap().reshape(&[3, 2]).unwrap();
    /// assert_eq!(v.strides(), &[2, 1]);
    /// ```
    pub fn reshape(self, shape: &[impl Dim]) -> Result<Self, GatherError> {
        let l = self.layout.reshape_dims(shape);
        self.derive(l)
    }

    /// A read-only view of the same elements.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [1, 2, 3];
    /// let v = TensorViewMut::new(&mut buf, &[3]).unwrap().flip(0).unwrap();
    /// assert_eq!(v.as_view().to_vec(), vec![3, 2, 1]);
    /// ```
    pub fn as_view(&self) -> TensorView<'_, T> {
        TensorView {
            data: self.data,
            layout: self.layout.clone(),
        }
    }

    /// A shorter-lived writable view of the same elements, to pass on without
    /// giving this one up.
    ///
    /// ```
    /// use fastgather::{gather_into, TensorView, TensorViewMut};
    /// let src = TensorView::new(&[5, 6], &[2]).unwrap();
    /// let idx = TensorView::new(&[1i64, 0], &[2]).unwrap();
    /// let mut buf = [0; 2];
    /// let mut out = TensorViewMut::new(&mut buf, &[2]).unwrap();
    /// gather_into(&src, 0, &idx, &mut out.reborrow()).unwrap();
    /// assert_eq!(out.as_view().to_vec(), vec![6, 5]);
    /// ```
    pub fn reborrow(&mut self) -> TensorViewMut<'_, T> {
        TensorViewMut {
            data: self.data,
            layout: self.layout.clone(),
        }
    }

    /// The element at `pos`, writable, or `None` if `pos` is outside the shape.
    ///
    /// ```
    /// # use fastgather::TensorViewMut;
    /// let mut buf = [0u8; 4];
    /// let mut v = TensorViewMut::new(&mut buf, &[2, 2]).unwrap();
    /// *v.get_mut(&[0, 1]).unwrap() = 3;
    /// assert!(v.get_mut(&[2, 0]).is_none());
    /// assert_eq!(buf, [0, 3, 0, 0]);
    /// ```
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
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// let t = Tensor::from_vec(vec![1, 2, 3, 4, 5, 6], &[3, 2]).unwrap();
    /// assert_eq!(t.view().get(&[2, 1]), Some(&6));
    /// assert!(Tensor::from_vec(vec![1, 2, 3], &[2, 2]).is_err());
    /// ```
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self, GatherError> {
        let layout = Layout::contiguous(data.len(), shape)?;
        Ok(Self { data, layout })
    }

    /// A 0-d tensor holding `value`.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// let t = Tensor::scalar(2.5f64);
    /// assert_eq!((t.rank(), t.len()), (0, 1));
    /// assert_eq!(t.as_slice(), &[2.5]);
    /// ```
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

    /// A tensor of `shape` with every element `value` (torch's `full`; `zeros`
    /// with `0`). The allocation is fallible.
    ///
    /// ```
    /// use fastgather::{GatherError, Tensor};
    /// let z = Tensor::full(&[2, 3], 0.0f32).unwrap();
    /// assert_eq!(z.as_slice(), &[0.0; 6]);
    /// assert!(matches!(
    ///     Tensor::full(&[usize::MAX, 2], 0u8),
    ///     Err(GatherError::ShapeOverflow { .. })
    /// ));
    /// ```
    pub fn full(shape: &[usize], value: T) -> Result<Self, GatherError>
    where
        T: Clone,
    {
        let n = numel_isize(shape)?;
        let mut data = try_vec(n)?;
        data.resize(n, value);
        Ok(Self::from_parts(data, shape.into()))
    }

    /// A tensor of `shape` filled with zero bytes (torch's `zeros`). The memory
    /// comes zeroed from the allocator (for large tensors, fresh pages the OS
    /// zeroes on first touch), so a kernel that then writes every element pays
    /// for one pass over it, not two. On Linux a tensor of 2 MiB or more is
    /// advised for transparent huge pages, so that first touch takes one page
    /// fault per 2 MiB rather than one per 4 KiB. The allocation is fallible.
    ///
    /// ```
    /// use fastgather::{GatherError, Tensor};
    /// let z = Tensor::<f32>::zeros(&[2, 3]).unwrap();
    /// assert_eq!(z.as_slice(), &[0.0; 6]);
    /// assert!(matches!(
    ///     Tensor::<u8>::zeros(&[usize::MAX, 2]),
    ///     Err(GatherError::ShapeOverflow { .. })
    /// ));
    /// ```
    pub fn zeros(shape: &[usize]) -> Result<Self, GatherError>
    where
        T: bytemuck::Zeroable,
    {
        let n = numel_isize(shape)?;
        let data = try_zeroed_vec(n)?;
        Ok(Self::from_parts(data, shape.into()))
    }

    /// The same elements under a new shape (torch's `reshape`; always free, as a
    /// tensor is contiguous). At most one size may be `-1`, inferred from the
    /// others.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// let t = Tensor::from_vec((0..6).collect::<Vec<i32>>(), &[6]).unwrap();
    /// let t = t.reshape(&[-1, 2]).unwrap();
    /// assert_eq!(t.shape(), &[3, 2]);
    /// assert!(t.clone().reshape(&[4, -1]).is_err()); // 6 is not a multiple of 4
    /// assert!(t.reshape(&[-1, -1]).is_err());
    /// ```
    pub fn reshape(self, shape: &[impl Dim]) -> Result<Self, GatherError> {
        let sizes = reshape_sizes(shape, self.data.len())?;
        let n = numel_isize(&sizes)?;
        if n != self.data.len() {
            return Err(GatherError::InvalidViewOp {
                op: "reshape",
                reason: format!(
                    "shape {sizes:?} holds {n} elements, the tensor holds {}",
                    self.data.len()
                ),
            });
        }
        Ok(Self::from_parts(self.data, sizes.as_slice().into()))
    }

    /// The one element of a one-element tensor, of any rank (torch's
    /// `.item()`): the value of a reduced loss, say.
    ///
    /// ```
    /// use fastgather::{GatherError, Tensor};
    /// assert_eq!(Tensor::scalar(0.25f32).item(), Ok(0.25));
    /// assert_eq!(Tensor::from_vec(vec![7], &[1, 1]).unwrap().item(), Ok(7));
    /// assert!(matches!(
    ///     Tensor::from_vec(vec![1, 2], &[2]).unwrap().item(),
    ///     Err(GatherError::InvalidViewOp { op: "item", .. })
    /// ));
    /// ```
    pub fn item(&self) -> Result<T, GatherError>
    where
        T: Copy,
    {
        match self.data.as_slice() {
            [one] => Ok(*one),
            all => Err(GatherError::InvalidViewOp {
                op: "item",
                reason: format!(
                    "a tensor with {} elements cannot be converted to a scalar",
                    all.len()
                ),
            }),
        }
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
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// assert_eq!(Tensor::full(&[2, 3], 0u8).unwrap().shape(), &[2, 3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    /// Number of dims.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// assert_eq!(Tensor::full(&[2, 3], 0u8).unwrap().rank(), 2);
    /// ```
    pub fn rank(&self) -> usize {
        self.layout.shape.len()
    }

    /// Number of elements.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// assert_eq!(Tensor::full(&[2, 3], 0u8).unwrap().len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// assert!(Tensor::full(&[2, 0], 0u8).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// let t = Tensor::from_vec(vec![1, 2, 3, 4], &[2, 2]).unwrap();
    /// assert_eq!(t.as_slice(), &[1, 2, 3, 4]);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, writable.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// let mut t = Tensor::full(&[2, 2], 0).unwrap();
    /// t.as_mut_slice()[3] = 1;
    /// assert_eq!(t.view().get(&[1, 1]), Some(&1));
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The elements, giving up the shape.
    ///
    /// ```
    /// # use fastgather::Tensor;
    /// let t = Tensor::from_vec(vec![1, 2, 3, 4], &[2, 2]).unwrap();
    /// assert_eq!(t.into_vec(), vec![1, 2, 3, 4]);
    /// ```
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A read-only view of the whole tensor.
    ///
    /// ```
    /// use fastgather::{gather, Tensor, TensorView};
    /// let src = Tensor::from_vec(vec![1, 2, 3, 4], &[2, 2]).unwrap();
    /// let idx = TensorView::new(&[1i64, 0], &[1, 2]).unwrap();
    /// assert_eq!(gather(&src.view(), 0, &idx).unwrap().as_slice(), &[3, 2]);
    /// ```
    pub fn view(&self) -> TensorView<'_, T> {
        TensorView {
            data: &self.data,
            layout: self.layout.clone(),
        }
    }

    /// A writable view of the whole tensor.
    ///
    /// ```
    /// use fastgather::{scatter_add_into, Tensor, TensorView};
    /// let mut counts = Tensor::full(&[3], 0u32).unwrap();
    /// let idx = TensorView::new(&[2i64, 2, 0], &[3]).unwrap();
    /// let ones = TensorView::new(&[1u32; 3], &[3]).unwrap();
    /// scatter_add_into(&mut counts.view_mut(), 0, &idx, &ones).unwrap();
    /// assert_eq!(counts.as_slice(), &[1, 0, 2]);
    /// ```
    pub fn view_mut(&mut self) -> TensorViewMut<'_, T> {
        TensorViewMut {
            layout: self.layout.clone(),
            data: &mut self.data,
        }
    }
}
