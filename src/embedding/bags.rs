//! The arguments of an embedding bag ([`Bags`]) and their checked form
//! ([`BagPlan`]): every id resolved to a table row, every bag to a range of
//! positions, before anything is written.

use super::BagMode;
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::view::TensorView;
use std::borrow::Cow;

/// The bags of an [`embedding_bag`](crate::embedding_bag) call: which ids form
/// each bag, how they pool, and torch's options.
///
/// Bags come either from 1-d `ids` and 1-d `offsets` (bag `b` holds
/// `ids[offsets[b]..offsets[b + 1]]`, the last one running to the end of the
/// ids, or to the last offset with
/// [`include_last_offset`](Bags::include_last_offset)), or from 2-d `ids` of
/// shape `[bags, length]` (one bag per row, torch's fixed-size bags).
///
/// ```
/// use fastgather::{BagMode, Bags, TensorView};
/// let ids = TensorView::new(&[4i64, 2, 2, 0], &[4]).unwrap();
/// let offsets = TensorView::new(&[0i64, 1, 1], &[3]).unwrap(); // bags [4], [], [2, 2, 0]
/// let bags = Bags::<f32, _>::with_offsets(&ids, &offsets).mode(BagMode::Mean).padding_idx(0);
/// assert_eq!(bags.count().unwrap(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Bags<'a, T, I> {
    pub(crate) ids: TensorView<'a, I>,
    pub(crate) offsets: Option<TensorView<'a, I>>,
    pub(crate) mode: BagMode,
    pub(crate) weights: Option<TensorView<'a, T>>,
    pub(crate) padding_idx: Option<i64>,
    pub(crate) include_last_offset: bool,
}

impl<'a, T: Clone, I: IndexElem> Bags<'a, T, I> {
    /// Bags of 1-d `ids` cut at `offsets` (torch's `input`, `offsets`).
    pub fn with_offsets(ids: &TensorView<'a, I>, offsets: &TensorView<'a, I>) -> Self {
        Self::new(ids.clone(), Some(offsets.clone()))
    }

    /// One bag per row of 2-d `ids` `[bags, length]` (torch's 2-d `input`).
    pub fn fixed(ids: &TensorView<'a, I>) -> Self {
        Self::new(ids.clone(), None)
    }

    fn new(ids: TensorView<'a, I>, offsets: Option<TensorView<'a, I>>) -> Self {
        Self {
            ids,
            offsets,
            mode: BagMode::Sum,
            weights: None,
            padding_idx: None,
            include_last_offset: false,
        }
    }

    /// How each bag pools its rows (default [`BagMode::Sum`]).
    pub fn mode(mut self, mode: BagMode) -> Self {
        self.mode = mode;
        self
    }

    /// A weight for each id, the ids' shape (torch's `per_sample_weights`;
    /// [`BagMode::Sum`] only): each row is scaled by its weight as it is added.
    pub fn per_sample_weights(mut self, weights: &TensorView<'a, T>) -> Self {
        self.weights = Some(weights.clone());
        self
    }

    /// Ids equal to `padding_idx` (negative counts from the end of the table)
    /// take no part in their bag: not summed, not counted in a mean, not in a
    /// maximum, and they get no gradient.
    pub fn padding_idx(mut self, padding_idx: i64) -> Self {
        self.padding_idx = Some(padding_idx);
        self
    }

    /// `offsets` holds one more entry than there are bags: the end of the last
    /// bag, which must then be the number of ids.
    pub fn include_last_offset(mut self, include: bool) -> Self {
        self.include_last_offset = include;
        self
    }

    /// The ids.
    pub fn ids(&self) -> &TensorView<'a, I> {
        &self.ids
    }

    /// How the bags pool.
    pub fn pooling(&self) -> BagMode {
        self.mode
    }

    /// The number of bags (the output's rows), or the error the bags'
    /// shapes make.
    pub fn count(&self) -> Result<usize, GatherError> {
        Ok(starts(self)?.len() - 1)
    }
}

/// Row marking a padding id in a [`BagPlan`].
pub(crate) const PAD: usize = usize::MAX;

/// The checked bags: the ids (each in `0..rows`), the padding row ([`PAD`]
/// for none), each bag's range of positions, the weights dense. Nothing is
/// copied where the caller's views are contiguous.
pub(crate) struct BagPlan<'a, T: Clone, I: Clone> {
    pub(crate) ids: Cow<'a, [I]>,
    pub(crate) pad: usize,
    pub(crate) starts: Vec<usize>,
    pub(crate) weights: Option<Cow<'a, [T]>>,
    pub(crate) mode: BagMode,
}

impl<T: Clone, I: IndexElem> BagPlan<'_, T, I> {
    pub(crate) fn bags(&self) -> usize {
        self.starts.len() - 1
    }

    #[inline(always)]
    pub(crate) fn range(&self, b: usize) -> std::ops::Range<usize> {
        self.starts[b]..self.starts[b + 1]
    }

    /// The table row of id `p`, [`PAD`] for padding.
    #[inline(always)]
    pub(crate) fn row(&self, p: usize) -> usize {
        let r = self.ids[p].to_i64() as usize;
        if r == self.pad { PAD } else { r }
    }

    /// Every id's row ([`PAD`] for padding).
    pub(crate) fn resolved(&self) -> Result<Vec<usize>, GatherError> {
        let mut rows = crate::alloc::try_vec(self.ids.len())?;
        rows.extend((0..self.ids.len()).map(|p| self.row(p)));
        Ok(rows)
    }
}

/// A view's elements in row-major order: borrowed when it is contiguous.
pub(crate) fn dense<'v, T: Copy>(v: &TensorView<'v, T>) -> Result<Cow<'v, [T]>, GatherError> {
    if v.is_empty() {
        // An empty view's offset is not checked against its buffer.
        return Ok(Cow::Borrowed(&[]));
    }
    if v.is_contiguous() {
        let start = v.offset();
        Ok(Cow::Borrowed(&v.data()[start..start + v.len()]))
    } else {
        Ok(Cow::Owned(v.try_to_vec()?))
    }
}

fn invalid(reason: String) -> GatherError {
    GatherError::InvalidEmbeddingArgument {
        op: "embedding_bag",
        reason,
    }
}

fn bad_offset(position: usize, value: i64, ids: usize, reason: &'static str) -> GatherError {
    GatherError::InvalidOffsets {
        op: "embedding_bag",
        position,
        value: value.into(),
        ids,
        reason,
    }
}

/// torch's `padding_idx` rule: `-rows..rows`, negative counting from the end.
pub(crate) fn padding_row(
    op: &'static str,
    padding_idx: Option<i64>,
    rows: usize,
) -> Result<Option<usize>, GatherError> {
    let Some(p) = padding_idx else {
        return Ok(None);
    };
    let n = i64::try_from(rows).unwrap_or(i64::MAX);
    if p >= n || p < -n {
        return Err(GatherError::InvalidEmbeddingArgument {
            op,
            reason: format!("padding_idx {p} is outside -{rows}..{rows} (the table's rows)"),
        });
    }
    Ok(Some(if p < 0 { (p + n) as usize } else { p as usize }))
}

/// Where each bag starts, and after them the end of the last one, checked
/// against the ids: offsets start at 0, never decrease and stay within the
/// ids; with `include_last_offset` the last one is the number of ids.
fn starts<T, I: IndexElem>(bags: &Bags<'_, T, I>) -> Result<Vec<usize>, GatherError> {
    let n = bags.ids.len();
    let Some(offsets) = &bags.offsets else {
        if bags.ids.rank() != 2 {
            return Err(invalid(format!(
                "ids without offsets must be 2-d (one bag per row), but have shape {:?}",
                bags.ids.shape()
            )));
        }
        let (rows, len) = (bags.ids.shape()[0], bags.ids.shape()[1]);
        let mut starts = crate::alloc::try_vec(rows + 1)?;
        starts.extend((0..=rows).map(|b| b * len));
        return Ok(starts);
    };
    if bags.ids.rank() != 1 {
        return Err(invalid(format!(
            "ids with offsets must be 1-d, but have shape {:?} (2-d ids are fixed-size bags, without offsets)",
            bags.ids.shape()
        )));
    }
    if offsets.rank() != 1 {
        return Err(invalid(format!(
            "offsets must be 1-d, but have shape {:?}",
            offsets.shape()
        )));
    }
    let offs = dense(offsets)?;
    check_offsets(&offs, n, bags.include_last_offset)?;
    let mut starts = crate::alloc::try_vec(offs.len() + 1)?;
    // Checked above: every offset is in 0..=n.
    starts.extend(offs.iter().map(|o| o.to_i64() as usize));
    if !bags.include_last_offset {
        starts.push(n);
    }
    Ok(starts)
}

fn check_offsets<I: IndexElem>(
    offs: &[I],
    n: usize,
    include_last: bool,
) -> Result<(), GatherError> {
    if offs.is_empty() && include_last {
        return Err(bad_offset(
            0,
            0,
            n,
            "is missing: include_last_offset needs at least one offset",
        ));
    }
    if offs.is_empty() {
        if n > 0 {
            return Err(bad_offset(
                0,
                0,
                n,
                "is missing: offsets is empty but there are ids",
            ));
        }
        return Ok(());
    }
    let first = offs[0].to_i64();
    if first != 0 {
        return Err(bad_offset(
            0,
            first,
            n,
            "must be 0 (the first bag starts at the first id)",
        ));
    }
    let mut prev = 0i64;
    for (k, o) in offs.iter().enumerate() {
        let v = o.to_i64();
        if v < prev {
            return Err(bad_offset(
                k,
                v,
                n,
                "is less than the offset before it (offsets must not decrease)",
            ));
        }
        if v as u64 > n as u64 {
            return Err(bad_offset(k, v, n, "is past the end of the ids"));
        }
        prev = v;
    }
    if include_last && prev as u64 != n as u64 {
        return Err(bad_offset(
            offs.len() - 1,
            prev,
            n,
            "must be the number of ids (include_last_offset: it ends the last bag)",
        ));
    }
    Ok(())
}

/// Checks `bags` against a table of `rows` rows and resolves it.
pub(crate) fn plan<'a, T: Copy, I: IndexElem>(
    bags: &Bags<'a, T, I>,
    rows: usize,
) -> Result<BagPlan<'a, T, I>, GatherError> {
    let starts = starts(bags)?;
    if let Some(w) = &bags.weights {
        if bags.mode != BagMode::Sum {
            return Err(invalid(format!(
                "per_sample_weights pool only with mode sum, not {}",
                bags.mode
            )));
        }
        if w.shape() != bags.ids.shape() {
            return Err(invalid(format!(
                "per_sample_weights must have the ids' shape {:?}, but have {:?}",
                bags.ids.shape(),
                w.shape()
            )));
        }
    }
    let pad = padding_row("embedding_bag", bags.padding_idx, rows)?;
    let ids = dense(&bags.ids)?;
    // One read-only pass: the kernels then read the ids as they are.
    if let Some(p) = ids.iter().position(|id| id.to_i64() as u64 >= rows as u64) {
        let position = if bags.ids.rank() == 2 {
            let len = bags.ids.shape()[1];
            vec![p / len, p % len]
        } else {
            vec![p]
        };
        return Err(GatherError::IndexOutOfBounds {
            value: ids[p].to_i128(),
            position,
            dim: 0,
            size: rows,
            wraps: false,
        });
    }
    let weights = match &bags.weights {
        Some(w) => Some(dense(w)?),
        None => None,
    };
    Ok(BagPlan {
        ids,
        pad: pad.unwrap_or(PAD),
        starts,
        weights,
        mode: bags.mode,
    })
}
