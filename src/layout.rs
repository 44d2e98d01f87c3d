//! A view's layout (shape, signed element strides, offset) and its
//! validation against a buffer: the numbered invariants of [`Layout::check`]
//! are what every kernel's safety rests on. Also the view operations on
//! layouts (permute, expand, slice, ...), each returning a checked layout.

use crate::dim::{Dim, expand_sizes, reshape_sizes, slice_bounds, wrap_all, wrap_dim, wrap_in};
use crate::error::GatherError;
use crate::inline_vec::InlineVec;

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

/// Row-major element count of a shape a view or tensor may have: one that
/// fits in `isize` (as the offsets of its elements must), else
/// [`GatherError::ShapeOverflow`].
pub(crate) fn numel_isize(shape: &[usize]) -> Result<usize, GatherError> {
    numel(shape)
        .filter(|&n| isize::try_from(n).is_ok())
        .ok_or_else(|| GatherError::ShapeOverflow {
            shape: shape.to_vec(),
        })
}

impl Layout {
    /// The dense row-major layout of `shape` at offset 0: what an output
    /// buffer of `shape`'s element count, allocated for it, holds.
    pub(crate) fn dense(shape: &[usize]) -> Layout {
        Layout {
            shape: shape.into(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }
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
    /// 2. The element count `prod(shape)` fits in `isize`.
    /// 3. If the view has no elements, nothing else is promised: its offset
    ///    and strides may be anything (as in torch, an empty view is valid
    ///    whatever its offset), so no address or index may be formed from
    ///    them. Every operation returns before touching an empty operand's
    ///    data, or addresses it through [`Layout::addressed`] (offset 0,
    ///    strides 0).
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
        let n = numel_isize(shape)?;
        let layout = Layout {
            shape: shape.into(),
            strides: strides.into(),
            offset,
        };
        if n == 0 {
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
        let expected = numel_isize(shape)?;
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

    /// The layout to form addresses from: `self` when the view has elements;
    /// for an empty one (whose offset and strides are unchecked, invariant 3)
    /// the same shape at offset 0 with stride 0, so that arithmetic on it
    /// stays at the buffer's start.
    pub(crate) fn addressed(&self) -> std::borrow::Cow<'_, Layout> {
        if self.numel() > 0 {
            return std::borrow::Cow::Borrowed(self);
        }
        std::borrow::Cow::Owned(Layout {
            shape: self.shape.clone(),
            strides: InlineVec::from_elem(0, self.shape.len()),
            offset: 0,
        })
    }

    /// Whether the layout is C-contiguous (size-1 axes may have any stride; an
    /// empty layout is contiguous, as in torch).
    pub(crate) fn is_contiguous(&self) -> bool {
        if self.numel() == 0 {
            return true;
        }
        // Non-empty: the product of the sizes fits (invariant 2), but not
        // necessarily in isize, so compare in i128.
        let mut step = 1i128;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s as i128 != step {
                return false;
            }
            step *= d as i128;
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
            .filter(|&(&d, _)| d > 1)
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

    pub(crate) fn axis(&self, op: &'static str, dim: usize) -> Result<(), GatherError> {
        if dim >= self.shape.len() {
            return Err(op_err(
                op,
                format!("dim {dim} out of range for rank {}", self.shape.len()),
            ));
        }
        Ok(())
    }

    // The view operations as the API takes them: torch's dims (negative count
    // from the end) and sizes (`-1` inferred or kept), resolved, then applied.

    pub(crate) fn permute_dims(&self, dims: &[impl Dim]) -> Result<Self, GatherError> {
        if dims.len() != self.shape.len() {
            return Err(GatherError::RankLengthMismatch {
                shape_len: self.shape.len(),
                other_len: dims.len(),
            });
        }
        self.permute(&wrap_all(dims, self.shape.len().max(1))?)
    }

    pub(crate) fn transpose_dims(&self, a: impl Dim, b: impl Dim) -> Result<Self, GatherError> {
        let rank = self.shape.len();
        let (a, b) = (wrap_dim(a, rank)?, wrap_dim(b, rank)?);
        if rank == 0 {
            return Ok(self.clone()); // torch: a 0-d tensor's transpose(0, -1) is itself
        }
        self.transpose(a, b)
    }

    pub(crate) fn expand_dims(&self, shape: &[impl Dim]) -> Result<Self, GatherError> {
        self.expand(&expand_sizes(shape, &self.shape)?)
    }

    pub(crate) fn slice_dims(
        &self,
        dim: impl Dim,
        start: impl Dim,
        end: impl Dim,
        step: impl Dim,
    ) -> Result<Self, GatherError> {
        let d = wrap_dim(dim, self.shape.len())?;
        self.axis("slice", d)?;
        let (start, end) = slice_bounds(start, end, self.shape[d]);
        self.slice(d, start, end, step.to_isize())
    }

    pub(crate) fn flip_dim(&self, dim: impl Dim) -> Result<Self, GatherError> {
        let d = wrap_dim(dim, self.shape.len())?;
        if self.shape.is_empty() {
            return Ok(self.clone());
        }
        self.slice(d, 0, self.shape[d], -1)
    }

    pub(crate) fn unsqueeze_dim(&self, dim: impl Dim) -> Result<Self, GatherError> {
        self.unsqueeze(wrap_in(dim.to_isize(), self.shape.len() + 1)?)
    }

    pub(crate) fn reshape_dims(&self, shape: &[impl Dim]) -> Result<Self, GatherError> {
        self.reshape(&reshape_sizes(shape, self.numel())?)
    }

    pub(crate) fn permute(&self, dims: &[usize]) -> Result<Self, GatherError> {
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

    pub(crate) fn transpose(&self, a: usize, b: usize) -> Result<Self, GatherError> {
        self.axis("transpose", a)?;
        self.axis("transpose", b)?;
        let mut out = self.clone();
        out.shape.swap(a, b);
        out.strides.swap(a, b);
        Ok(out)
    }

    pub(crate) fn expand(&self, shape: &[usize]) -> Result<Self, GatherError> {
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

    pub(crate) fn slice(
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
        // An empty result, or an empty view, keeps the old offset: it addresses
        // nothing, and the first kept position may lie past the buffer.
        if count > 0 && self.numel() > 0 {
            let first = if step > 0 { start } else { end - 1 };
            // `first < size`, so this moves inside the view's own span (invariant 4).
            out.offset = (self.offset as isize + first as isize * stride) as usize;
        }
        // With at most one position left the stride is never stepped along.
        if count > 1 {
            // In a non-empty view `|step| < size`, so the product stays inside
            // the span that invariant 4 bounds; only an empty view (whose
            // strides are never used) can overflow here, and it saturates.
            out.strides[dim] = stride.saturating_mul(step);
        }
        Ok(out)
    }

    pub(crate) fn unsqueeze(&self, dim: usize) -> Result<Self, GatherError> {
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

    pub(crate) fn reshape(&self, shape: &[usize]) -> Result<Self, GatherError> {
        let n = numel_isize(shape)?;
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
