//! The N-d gather reduced to `rows × inner` plus the layout class that picks a kernel.
//!
//! Every index position `p` names one output element and one source element:
//! `out[p] = src[p with p[dim] = index[p]]`. Each operand is an affine map of `p`
//! (`offset + Σ p[k]·stride[k]`), and the source gets one more term, `index[p] ·
//! src.stride(dim)`, so along `dim` its iteration stride is 0. Axes of size 1 are
//! dropped, and neighbouring axes whose three maps agree are merged; the last axis
//! left is the *inner* axis and the rest are *outer* axes, counted as rows.
//!
//! # Invariants of a [`Plan`] (kernels rely on these and nothing else)
//! 1. `inner >= 1`, `rows >= 1`, `rows · inner` equals the index's element count,
//!    and the pairs `(row, j)` for `row < rows`, `j < inner` enumerate every index
//!    position exactly once.
//! 2. For each such pair, `idx_offset + idx_row(row) + j·idx_inner` and
//!    `out_offset + out_row(row) + j·out_inner` are in bounds of the index and
//!    output buffers, and no two pairs share an output element.
//! 3. For each pair and every `v < bound`,
//!    `src_offset + src_row(row) + j·src_inner + v·gather_stride` is in bounds of
//!    the source buffer, and every partial sum of those terms fits in `isize`.
//!    Index values are *not* checked: a kernel must test `v < bound` (unsigned)
//!    before it forms a source address.

use crate::check::{check_scatter_shapes, check_shapes};
use crate::error::GatherError;
use crate::inline_vec::InlineVec;
use crate::layout::Layout;

/// What the reduced problem looks like; each class has its own kernel family.
///
/// The classes test the inner axis after axis merging, in this order.
///
/// ```
/// use fastgather::{explain, GatherOptions, LayoutClass, TensorView};
/// let src = TensorView::new(&[0f32; 24], &[2, 3, 4]).unwrap();
/// let opts = GatherOptions::new();
/// // Along the middle dim, each index picks a contiguous inner run.
/// let idx = TensorView::new(&[0i64; 8], &[2, 1, 4]).unwrap();
/// let middle = explain(&src, 1, &idx, &opts).unwrap().unwrap();
/// assert_eq!(middle.class, LayoutClass::InnerRun);
/// // One index broadcast over the inner dim: whole runs are copied.
/// let one = TensorView::new(&[2i64, 0], &[2, 1, 1]).unwrap().expand(&[2, 1, 4]).unwrap();
/// assert_eq!(explain(&src, 1, &one, &opts).unwrap().unwrap().class, LayoutClass::ExpandedRuns);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutClass {
    /// Gather along the inner axis: `out[r, j] = src[r, idx[r, j]]` with index and
    /// output rows contiguous (permutations, top-k picks); source rows at any
    /// stride (a transposed source too).
    LastDim,
    /// Expanded index, stride 0 along the inner axis: every index value selects a
    /// contiguous run of the source, copied whole (`idx.unsqueeze(-1).expand(..)`).
    ExpandedRuns,
    /// Gather along an outer or middle dim with a contiguous inner run:
    /// `out[i, j] = src[idx[i, j], j]`.
    InnerRun,
    /// One index per source row, index and output contiguous:
    /// `out[r] = src[r, idx[r]]` (the cross-entropy pick).
    Pick,
    /// The index strided along the inner axis (a transposed or sliced index),
    /// the output row contiguous: the index is copied into dense tiles, by
    /// vector transposes where rows are adjacent in it, and the tiles' rows
    /// run as `LastDim`, `Pick` or `InnerRun` rows would.
    StridedIndex,
    /// Anything else: a strided output row (a transposed, reversed or sliced
    /// output view). Rows are gathered into a dense tile and copied out, by
    /// vector transposes where rows are adjacent in the output.
    General,
}

/// The reduced problem. See the module docs for its invariants.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The outer axes, outermost first.
    pub outer: Axes,
    pub inner: usize,
    pub src_inner: isize,
    pub idx_inner: isize,
    pub out_inner: isize,
    pub gather_stride: isize,
    pub bound: usize,
    /// Length of the source buffer in elements.
    pub src_len: usize,
    pub rows: usize,
    pub src_offset: usize,
    pub idx_offset: usize,
    pub out_offset: usize,
    pub class: LayoutClass,
    _checked: Checked,
}

/// Only this module makes one: what keeps plans from being assembled
/// elsewhere without the checks their invariants rest on.
#[derive(Clone, Copy, Debug)]
struct Checked;

/// One axis of the iteration: its size and the stride of each operand.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Axis {
    pub size: usize,
    pub src: isize,
    pub idx: isize,
    pub out: isize,
}

/// Axes after merging; four inline cover nearly every real problem.
pub(crate) type Axes = InlineVec<Axis, 4>;

fn at(strides: &[isize], k: usize) -> isize {
    strides.get(k).copied().unwrap_or(0)
}

/// One axis per index dim (a 0-d index counts as `[1]`); along `dim` the
/// source's iteration stride is 0, its stride there multiplies the index value.
#[inline]
fn axes<'a>(
    src: &'a Layout,
    idx: &'a Layout,
    out: &'a Layout,
    dim: usize,
) -> impl Iterator<Item = Axis> + 'a {
    (0..idx.shape.len().max(1)).map(move |k| Axis {
        size: idx.shape.get(k).copied().unwrap_or(1),
        src: if k == dim { 0 } else { at(&src.strides, k) },
        idx: at(&idx.strides, k),
        out: at(&out.strides, k),
    })
}

/// Whether an outer stride equals `inner · size`: one step of the outer axis is
/// a whole sweep of the inner one.
#[inline(always)]
fn nests(outer: isize, inner: isize, size: usize) -> bool {
    inner.checked_mul(size as isize) == Some(outer)
}

/// Merges each axis into its outer neighbour when all three maps agree.
#[inline]
fn merge(axes: impl Iterator<Item = Axis>) -> Axes {
    let mut merged = Axes::new();
    for a in axes {
        match merged.last_mut() {
            Some(o)
                if nests(o.src, a.src, a.size)
                    && nests(o.idx, a.idx, a.size)
                    && nests(o.out, a.out, a.size) =>
            {
                *o = Axis {
                    size: o.size * a.size,
                    ..a
                };
            }
            _ => merged.push(a),
        }
    }
    merged
}

impl Plan {
    /// The plan of a gather with a non-empty index: `src` and `index` are
    /// views (their layouts were checked against their buffers when built),
    /// `out` the checked layout of the output view, or `None` for a dense
    /// row-major output of the index's shape. Checks `dim` and torch's shape
    /// rules itself, so the invariants rest on nothing a caller promises.
    pub(crate) fn gather(
        src: &Layout,
        src_len: usize,
        dim: usize,
        index: &Layout,
        out: Option<&Layout>,
    ) -> Result<Plan, GatherError> {
        if dim >= src.shape.len().max(1) {
            return Err(GatherError::DimOutOfRange {
                dim: dim as isize,
                rank: src.shape.len(),
            });
        }
        check_shapes(&src.shape, dim, &index.shape)?;
        // An empty source's offset and strides are unchecked: address it at 0.
        let src = &*src.addressed();
        if index.shape.contains(&0) {
            return Err(GatherError::InvalidOption {
                reason: "internal: a plan needs a non-empty index".into(),
            });
        }
        let dense;
        let out = match out {
            Some(o) if o.shape == index.shape => o,
            Some(o) => {
                return Err(GatherError::OutShapeMismatch {
                    expected: index.shape.to_vec(),
                    actual: o.shape.to_vec(),
                });
            }
            None => {
                dense = Layout::dense(&index.shape);
                &dense
            }
        };
        let mut merged = merge(axes(src, index, out, dim).filter(|a| a.size != 1));
        // A single element: one position, which any affine kernel handles.
        let inner = merged.pop().unwrap_or(Axis {
            size: 1,
            src: 0,
            idx: 1,
            out: 1,
        });
        Ok(Self::assemble(src, src_len, index, out, dim, merged, inner))
    }

    /// The plan of a scatter: `dest` is the tensor written through the index
    /// (torch's `self`), `values` the tensor read by position. In the plan,
    /// the destination takes the source's place (the side the index value
    /// addresses) and the values the output's (the side walked by position).
    /// The dim axis is kept apart as the inner axis, so rows never share a
    /// written element and each row applies its values in index order:
    /// splitting rows across threads is race-free and deterministic.
    ///
    /// Checks `dim` and torch's scatter shape rules itself; `dest` must be
    /// the layout of a writable view (checked for overlap), and the index
    /// non-empty.
    pub(crate) fn scatter(
        dest: &Layout,
        dest_len: usize,
        dim: usize,
        index: &Layout,
        values: &Layout,
    ) -> Result<ScatterPlan, GatherError> {
        if dim >= dest.shape.len().max(1) {
            return Err(GatherError::DimOutOfRange {
                dim: dim as isize,
                rank: dest.shape.len(),
            });
        }
        check_scatter_shapes(&dest.shape, dim, &index.shape, &values.shape)?;
        // An empty destination's offset is unchecked: address it at 0 (with a
        // non-empty index, its size along `dim` is then 0 and every value bad).
        let dest = &*dest.addressed();
        let inner = axes(dest, index, values, dim).nth(dim).unwrap_or(Axis {
            size: 1,
            src: 0,
            idx: 1,
            out: 1,
        });
        let rest = axes(dest, index, values, dim)
            .enumerate()
            .filter(|&(k, a)| k != dim && a.size != 1)
            .map(|(_, a)| a);
        let merged = merge(rest);
        let plan = Self::assemble(dest, dest_len, index, values, dim, merged, inner);
        Ok(ScatterPlan { plan })
    }

    #[inline]
    fn assemble(
        src: &Layout,
        src_len: usize,
        idx: &Layout,
        out: &Layout,
        dim: usize,
        mut merged: Axes,
        mut inner: Axis,
    ) -> Plan {
        let bound = src.shape.get(dim).copied().unwrap_or(1);
        if bound == 0 {
            // No index value is valid, so no source address is ever formed:
            // keep the cursor arithmetic on zeros whatever the strides.
            inner.src = 0;
            merged.iter_mut().for_each(|a| a.src = 0);
        }
        Plan {
            rows: merged.iter().map(|a| a.size).product(),
            outer: merged,
            inner: inner.size,
            src_inner: inner.src,
            idx_inner: inner.idx,
            out_inner: inner.out,
            // A gather dim of size 0 or 1 is never stepped along: its stride may
            // be anything (validation bounds only spans it walks), so use 0.
            gather_stride: match src.shape.get(dim) {
                Some(&size) if size > 1 => at(&src.strides, dim),
                _ => 0,
            },
            bound,
            src_len,
            src_offset: src.offset,
            idx_offset: idx.offset,
            out_offset: out.offset,
            class: classify(&inner),
            _checked: Checked,
        }
    }

    /// Consecutive rows that share a source base: the trailing outer axes along
    /// which the source does not move.
    pub(crate) fn reuse(&self) -> usize {
        self.outer
            .iter()
            .rev()
            .take_while(|a| a.src == 0)
            .map(|a| a.size)
            .product()
    }

    /// A cursor at the start of `row`, from which rows advance without division.
    #[inline]
    pub(crate) fn rows_from(&self, row: usize) -> RowCursor<'_> {
        let mut cur = RowCursor {
            src: self.src_offset as isize,
            idx: self.idx_offset as isize,
            out: self.out_offset as isize,
            pos: InlineVec::from_elem(0, self.outer.len()),
            plan: self,
        };
        let mut rest = row;
        for (k, a) in self.outer.iter().enumerate().rev() {
            let p = rest % a.size;
            rest /= a.size;
            cur.pos[k] = p;
            cur.src += p as isize * a.src;
            cur.idx += p as isize * a.idx;
            cur.out += p as isize * a.out;
        }
        cur
    }
}

fn classify(inner: &Axis) -> LayoutClass {
    match (inner.src, inner.idx, inner.out) {
        (0, 1, 1) => LayoutClass::LastDim,
        (1, 0, 1) => LayoutClass::ExpandedRuns,
        (1, 1, 1) => LayoutClass::InnerRun,
        (s, 1, 1) if s != 0 => LayoutClass::Pick,
        (_, _, 1) => LayoutClass::StridedIndex,
        _ => LayoutClass::General,
    }
}

/// Element offsets of the current row's start in each operand.
pub(crate) struct RowCursor<'p> {
    pub src: isize,
    pub idx: isize,
    pub out: isize,
    pos: InlineVec<usize, 4>,
    plan: &'p Plan,
}

impl RowCursor<'_> {
    /// Moves `k` rows on, for `1 <= k <=` [`Self::left_in_axis`]: `k - 1`
    /// steps along the innermost outer axis, then one [`Self::advance`] (which
    /// carries at the axis end). The same as `k` calls of `advance`.
    #[inline]
    pub(crate) fn advance_by(&mut self, k: usize) {
        debug_assert!((1..=self.left_in_axis()).contains(&k));
        if let (Some(a), Some(pos)) = (self.plan.outer.last(), self.pos.last_mut()) {
            let steps = k.saturating_sub(1);
            *pos += steps;
            let s = steps as isize;
            self.src = self.src.wrapping_add(s.wrapping_mul(a.src));
            self.idx = self.idx.wrapping_add(s.wrapping_mul(a.idx));
            self.out = self.out.wrapping_add(s.wrapping_mul(a.out));
        }
        self.advance();
    }

    /// Rows from this one (included) to the end of the innermost outer axis:
    /// the run of rows whose source offsets step by that axis's stride.
    #[inline]
    pub(crate) fn left_in_axis(&self) -> usize {
        match (self.plan.outer.last(), self.pos.last()) {
            (Some(a), Some(&p)) => a.size - p,
            _ => 1,
        }
    }

    /// Moves to the next row (an odometer over the outer axes). Wrapping
    /// arithmetic: a carry steps one past an axis end before stepping back, and
    /// only offsets of real rows (invariant 3) are ever used as addresses.
    #[inline(always)]
    pub(crate) fn advance(&mut self) {
        let p = self.plan;
        for (k, a) in p.outer.iter().enumerate().rev() {
            self.pos[k] += 1;
            self.src = self.src.wrapping_add(a.src);
            self.idx = self.idx.wrapping_add(a.idx);
            self.out = self.out.wrapping_add(a.out);
            if self.pos[k] < a.size {
                return;
            }
            let back = self.pos[k] as isize;
            self.pos[k] = 0;
            self.src = self.src.wrapping_sub(back.wrapping_mul(a.src));
            self.idx = self.idx.wrapping_sub(back.wrapping_mul(a.idx));
            self.out = self.out.wrapping_sub(back.wrapping_mul(a.out));
        }
    }
}

/// The plan of a scatter, in its own words: the destination (written at the
/// index values, along the dim) and the values (read by position). It is a
/// gather plan underneath, with the destination in the source's place and the
/// values in the output's, which only this type's accessors know.
pub(crate) struct ScatterPlan {
    plan: Plan,
}

/// Each operand's stride along one outer axis of a scatter.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ScatterAxis {
    pub dest: isize,
    pub idx: isize,
    pub values: isize,
}

impl ScatterPlan {
    /// Rows: every position but the dim's.
    pub(crate) fn rows(&self) -> usize {
        self.plan.rows
    }
    /// Positions along the dim (the inner axis of a scatter plan).
    pub(crate) fn inner(&self) -> usize {
        self.plan.inner
    }
    /// The destination's size along the dim: index values must be below it.
    pub(crate) fn bound(&self) -> usize {
        self.plan.bound
    }
    /// The destination's stride along the dim (what an index value multiplies).
    pub(crate) fn dim_stride(&self) -> isize {
        self.plan.gather_stride
    }
    /// The index's and the values' strides along the dim.
    pub(crate) fn idx_inner(&self) -> isize {
        self.plan.idx_inner
    }
    pub(crate) fn values_inner(&self) -> isize {
        self.plan.out_inner
    }
    pub(crate) fn class(&self) -> LayoutClass {
        self.plan.class
    }
    /// The innermost outer axis, along which rows step evenly (all zero
    /// without one).
    pub(crate) fn step(&self) -> ScatterAxis {
        let a = self.plan.outer.last().copied().unwrap_or_default();
        ScatterAxis {
            dest: a.src,
            idx: a.idx,
            values: a.out,
        }
    }
    /// A cursor at the start of `row`.
    pub(crate) fn rows_from(&self, row: usize) -> ScatterCursor<'_> {
        ScatterCursor(self.plan.rows_from(row))
    }
}

/// Element offsets of a scatter row's start in each operand.
pub(crate) struct ScatterCursor<'p>(RowCursor<'p>);

impl ScatterCursor<'_> {
    #[inline(always)]
    pub(crate) fn dest(&self) -> isize {
        self.0.src
    }
    #[inline(always)]
    pub(crate) fn idx(&self) -> isize {
        self.0.idx
    }
    #[inline(always)]
    pub(crate) fn values(&self) -> isize {
        self.0.out
    }
    /// As [`RowCursor::left_in_axis`].
    #[inline]
    pub(crate) fn left_in_axis(&self) -> usize {
        self.0.left_in_axis()
    }
    /// As [`RowCursor::advance_by`].
    #[inline]
    pub(crate) fn advance_by(&mut self, k: usize) {
        self.0.advance_by(k)
    }
}
