//! `segment_reduce`: runs of consecutive rows along dim 0, each reduced to one
//! output row.

use super::bags::dense;
use super::pool::{Table, count_of};
use super::{check_out, dense_mut, plain_mode, write_through};
use crate::alloc::try_vec;
use crate::dispatch::on_path;
use crate::element::Reduce;
use crate::error::GatherError;
use crate::index::IndexElem;
use crate::isa::Path;
use crate::options::GatherOptions;
use crate::par::for_each_rows_mut;
use crate::scatter_reduce::Reduction;
use crate::view::{Tensor, TensorView, TensorViewMut};

/// How [`segment_reduce`] cuts its data into segments along dim 0.
#[derive(Clone, Debug)]
pub enum Segments<'a, I> {
    /// Segment `s` holds the next `lengths[s]` rows; the lengths sum to the
    /// rows of the data.
    Lengths(TensorView<'a, I>),
    /// Segment `s` holds rows `offsets[s]..offsets[s + 1]`: the offsets never
    /// decrease and lie in `0..=rows` (rows before the first and after the
    /// last belong to no segment, as in torch).
    Offsets(TensorView<'a, I>),
}

fn bad(position: usize, value: i64, rows: usize, reason: &'static str) -> GatherError {
    GatherError::InvalidOffsets {
        op: "segment_reduce",
        position,
        value: value.into(),
        ids: rows,
        reason,
    }
}

/// Where each segment starts, then the end of the last.
fn starts<I: IndexElem>(
    segments: &Segments<'_, I>,
    rows: usize,
) -> Result<Vec<usize>, GatherError> {
    let (v, lengths) = match segments {
        Segments::Lengths(v) => (v, true),
        Segments::Offsets(v) => (v, false),
    };
    if v.rank() != 1 {
        return Err(GatherError::InvalidEmbeddingArgument {
            op: "segment_reduce",
            reason: format!(
                "{} must be 1-d, but have shape {:?}",
                if lengths { "lengths" } else { "offsets" },
                v.shape()
            ),
        });
    }
    let vals = dense(v)?;
    let mut out = try_vec(vals.len() + 1)?;
    if lengths {
        let mut at = 0u64;
        out.push(0);
        for (k, l) in vals.iter().enumerate() {
            let l = l.to_i64();
            if l < 0 {
                return Err(bad(k, l, rows, "is negative (lengths count rows)"));
            }
            at = at.saturating_add(l as u64);
            if at > rows as u64 {
                return Err(bad(k, l, rows, "runs past the rows of the data"));
            }
            out.push(at as usize);
        }
        if at != rows as u64 {
            return Err(bad(
                vals.len().saturating_sub(1),
                vals.last().map_or(0, |l| l.to_i64()),
                rows,
                "ends the lengths short of the rows of the data (they must sum to it)",
            ));
        }
    } else {
        if vals.is_empty() {
            return Err(bad(
                0,
                0,
                rows,
                "is missing: offsets need at least one entry",
            ));
        }
        let mut prev = 0i64;
        for (k, o) in vals.iter().enumerate() {
            let o = o.to_i64();
            if o < 0 {
                return Err(bad(k, o, rows, "is negative (offsets name rows)"));
            }
            if o < prev {
                return Err(bad(
                    k,
                    o,
                    rows,
                    "is less than the offset before it (offsets must not decrease)",
                ));
            }
            if o as u64 > rows as u64 {
                return Err(bad(k, o, rows, "is past the rows of the data"));
            }
            prev = o;
            out.push(o as usize);
        }
    }
    Ok(out)
}

/// `acc[j] = step(acc[j], row[j])`: one loop per reduction, inlined.
#[inline(always)]
fn fold<T: Copy>(acc: &mut [T], row: &[T], step: impl Fn(T, T) -> T) {
    for (a, &x) in acc.iter_mut().zip(row) {
        *a = step(*a, x);
    }
}

/// Reduces segments `first..` of `starts` into `out` (dense rows of `d`).
#[allow(clippy::too_many_arguments)]
fn reduce_segments<T: Reduce>(
    path: Path,
    reduce: Reduction,
    initial: Option<T>,
    table: &Table<'_, T>,
    starts: &[usize],
    first: usize,
    out: &mut [T],
) {
    // The closure inlined whole into the path's entry point, so its loops
    // are compiled for the path.
    on_path(
        path,
        #[inline(always)]
        || {
            let d = table.d;
            let start: T = match (initial, reduce) {
                (Some(v), _) => v,
                (None, Reduction::Sum | Reduction::Mean) => T::zeroed(),
                (None, Reduction::Prod) => T::ONE,
                (None, Reduction::Amax) => T::LOWEST,
                (None, Reduction::Amin) => T::HIGHEST,
            };
            let mut acc = vec![start; d];
            let mut scratch = vec![T::zeroed(); if table.dense_rows() { 0 } else { d }];
            for (s, o) in (first..).zip(out.chunks_exact_mut(d)) {
                acc.fill(start);
                let rows = starts[s]..starts[s + 1];
                let n = rows.len();
                for r in rows {
                    let row = table.row(r, &mut scratch);
                    match reduce {
                        Reduction::Sum | Reduction::Mean => fold(&mut acc, row, T::accumulate),
                        Reduction::Prod => fold(&mut acc, row, T::product),
                        Reduction::Amax => fold(&mut acc, row, T::maximum),
                        Reduction::Amin => fold(&mut acc, row, T::minimum),
                    }
                }
                for (y, &a) in o.iter_mut().zip(&acc) {
                    *y = match (reduce, n, initial) {
                        (Reduction::Mean, 0, Some(v)) => v,
                        (Reduction::Mean, 0, None) => T::empty_mean(),
                        (Reduction::Mean, n, _) => a.mean(count_of::<T>(n)),
                        _ => a,
                    };
                }
            }
        },
    )
}

/// torch's `segment_reduce(data, reduce, lengths=.. | offsets=.., axis=0,
/// initial=..)`: each segment of consecutive rows of `data` reduced to one row
/// of the result, `[segments] + data.shape[1..]`.
///
/// - `reduce`: [`Reduction::Sum`], `Prod`, `Mean`, `Amax` (torch's `"max"`),
///   `Amin` (`"min"`). Rows are combined in order in the element type, as
///   torch does (halves round at every step); a mean divides the sum by the
///   segment's length.
/// - Each segment starts from `initial` where given, else from 0 (sum,
///   mean), 1 (prod), -inf (max) or +inf (min); an empty segment is that
///   start, and an empty mean is `initial`, else NaN (0 / 0; 0 for
///   integers). With `initial`, a mean is `(initial + sum) / length`.
/// - A NaN in a segment wins its max and min.
///
/// ```
/// use fastgather::{segment_reduce, Reduction, Segments, TensorView};
/// let data = TensorView::new(&[1.0f32, 5.0, 2.0, 4.0, 3.0], &[5]).unwrap();
/// let lengths = TensorView::new(&[2i64, 0, 3], &[3]).unwrap();
/// let segments = Segments::Lengths(lengths);
/// let max = segment_reduce(&data, &segments, Reduction::Amax, None).unwrap();
/// assert_eq!(max.as_slice(), &[5.0, f32::NEG_INFINITY, 4.0]);
/// let sum = segment_reduce(&data, &segments, Reduction::Sum, None).unwrap();
/// assert_eq!(sum.as_slice(), &[6.0, 0.0, 9.0]);
/// ```
pub fn segment_reduce<T: Reduce, I: IndexElem>(
    data: &TensorView<'_, T>,
    segments: &Segments<'_, I>,
    reduce: Reduction,
    initial: Option<T>,
) -> Result<Tensor<T>, GatherError> {
    segment_reduce_with(data, segments, reduce, initial, &GatherOptions::default())
}

/// [`segment_reduce`] with explicit [`GatherOptions`].
pub fn segment_reduce_with<T: Reduce, I: IndexElem>(
    data: &TensorView<'_, T>,
    segments: &Segments<'_, I>,
    reduce: Reduction,
    initial: Option<T>,
    opts: &GatherOptions,
) -> Result<Tensor<T>, GatherError> {
    let rows = data_rows(data)?;
    let s = starts(segments, rows)?.len() - 1;
    let mut shape = data.shape().to_vec();
    shape[0] = s;
    let mut out = Tensor::zeros(&shape)?;
    segment_reduce_into_with(data, segments, reduce, initial, &mut out.view_mut(), opts)?;
    Ok(out)
}

/// [`segment_reduce`] into `out`, of shape `[segments] + data.shape[1..]`.
pub fn segment_reduce_into<T: Reduce, I: IndexElem>(
    data: &TensorView<'_, T>,
    segments: &Segments<'_, I>,
    reduce: Reduction,
    initial: Option<T>,
    out: &mut TensorViewMut<'_, T>,
) -> Result<(), GatherError> {
    segment_reduce_into_with(
        data,
        segments,
        reduce,
        initial,
        out,
        &GatherOptions::default(),
    )
}

fn data_rows<T>(data: &TensorView<'_, T>) -> Result<usize, GatherError> {
    data.shape()
        .first()
        .copied()
        .ok_or_else(|| GatherError::InvalidEmbeddingArgument {
            op: "segment_reduce",
            reason: "the data must have at least one dim (segments run along dim 0)".to_string(),
        })
}

/// [`segment_reduce_into`] with explicit [`GatherOptions`].
pub fn segment_reduce_into_with<T: Reduce, I: IndexElem>(
    data: &TensorView<'_, T>,
    segments: &Segments<'_, I>,
    reduce: Reduction,
    initial: Option<T>,
    out: &mut TensorViewMut<'_, T>,
    opts: &GatherOptions,
) -> Result<(), GatherError> {
    plain_mode("segment_reduce", opts)?;
    let path = opts.path()?;
    let rows = data_rows(data)?;
    let starts = starts(segments, rows)?;
    let mut shape = data.shape().to_vec();
    shape[0] = starts.len() - 1;
    check_out(out, &shape)?;
    let d: usize = data.shape()[1..].iter().product();
    let copy;
    let flat = match data.reshape(&[rows, d]) {
        Ok(v) => v,
        Err(_) => {
            copy = data.try_to_vec()?;
            TensorView::new(&copy, &[rows, d])?
        }
    };
    let table = Table::of(&flat);
    let work = rows.saturating_mul(d).saturating_mul(size_of::<T>());
    let run = |dst: &mut [T]| {
        for_each_rows_mut(dst, d, work, opts.parallel, |first, chunk| {
            reduce_segments(path, reduce, initial, &table, &starts, first, chunk)
        })
    };
    match dense_mut(out) {
        Some(dst) => run(dst),
        None => {
            let n = out.len();
            let mut tmp = try_vec(n)?;
            tmp.resize(n, T::zeroed());
            run(&mut tmp);
            write_through(out, &tmp);
        }
    }
    Ok(())
}
