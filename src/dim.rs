//! How the API takes a dimension: any integer, negative counting from the end,
//! as torch does.

use crate::error::GatherError;

mod sealed {
    pub trait Sealed {}
}

/// A dimension (or a size in [`TensorView::reshape`](crate::TensorView::reshape)):
/// any of Rust's integer types, so `gather(&x, 1, ..)`, `gather(&x, -1, ..)` and
/// `gather(&x, x.rank() - 1, ..)` all compile.
///
/// A negative dim counts from the end, as in torch: `-1` is the last dim. Every
/// operation that takes a dim takes it as `impl Dim`, and one that takes a list
/// of dims takes `&[impl Dim]`. With the `ndarray` feature, `ndarray::Axis` is a
/// `Dim` too. The trait is sealed.
///
/// ```
/// use fastgather::{gather, TensorView};
/// let x = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
/// let i = TensorView::new(&[2i64, 0], &[2, 1]).unwrap();
/// let a = gather(&x, -1, &i).unwrap();
/// let b = gather(&x, x.rank() - 1, &i).unwrap();
/// let c = gather(&x, 1i64, &i).unwrap();
/// assert_eq!(a.as_slice(), &[3, 4]);
/// assert_eq!((a.as_slice(), b.as_slice()), (c.as_slice(), c.as_slice()));
/// assert_eq!(x.unsqueeze(-1).unwrap().shape(), &[2, 3, 1]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dimension",
    label = "expected an integer dim (`1`, `-1`, `rank - 1`)",
    note = "dims are integers of any type; negative dims count from the end, as in torch"
)]
pub trait Dim: Copy + sealed::Sealed {
    /// The value, exactly (saturating only for 128-bit values beyond `i128`).
    fn to_i128(self) -> i128;

    /// The value as an `isize`, saturating: a dim beyond `isize` is out of
    /// range for any tensor anyway.
    #[inline]
    fn to_isize(self) -> isize {
        let v = self.to_i128();
        isize::try_from(v).unwrap_or(if v > 0 { isize::MAX } else { isize::MIN })
    }
}

macro_rules! dims {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Dim for $t {
            #[inline]
            #[allow(clippy::unnecessary_fallible_conversions)]
            fn to_i128(self) -> i128 {
                i128::try_from(self).unwrap_or(i128::MAX)
            }
        }
    )*};
}
dims!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

#[cfg(feature = "ndarray")]
impl sealed::Sealed for ::ndarray::Axis {}

/// ndarray's axis type, with the `ndarray` feature: `Axis(k)` is dim `k`.
#[cfg(feature = "ndarray")]
impl Dim for ::ndarray::Axis {
    #[inline]
    fn to_i128(self) -> i128 {
        self.index() as i128
    }
}

/// Wraps `dim` into `0..max(rank, 1)`, as torch's `maybe_wrap_dim` (a 0-d
/// tensor accepts dims 0 and -1).
#[inline]
pub(crate) fn wrap_dim(dim: impl Dim, rank: usize) -> Result<usize, GatherError> {
    wrap_in(dim.to_isize(), rank.max(1))
}

/// Wraps `dim` against `count` positions (`rank + 1` for `unsqueeze`).
#[inline]
pub(crate) fn wrap_in(dim: isize, count: usize) -> Result<usize, GatherError> {
    let r = count as isize;
    if dim < -r || dim >= r {
        return Err(GatherError::DimOutOfRange { dim, rank: count });
    }
    Ok(if dim < 0 { dim + r } else { dim } as usize)
}

/// Wraps a list of dims (`permute`).
pub(crate) fn wrap_all(dims: &[impl Dim], rank: usize) -> Result<Vec<usize>, GatherError> {
    dims.iter().map(|&d| wrap_in(d.to_isize(), rank)).collect()
}

fn op_err(op: &'static str, reason: String) -> GatherError {
    GatherError::InvalidViewOp { op, reason }
}

/// A size given as a `Dim`: `Ok` for a non-negative one (saturating at
/// `usize::MAX`, which no shape can hold), `Err` with the negative value.
fn size_of(d: impl Dim) -> Result<usize, i128> {
    let v = d.to_i128();
    if v < 0 {
        Err(v)
    } else {
        Ok(usize::try_from(v).unwrap_or(usize::MAX))
    }
}

/// torch's `view` / `reshape` sizes: at most one `-1`, inferred from `numel`.
pub(crate) fn reshape_sizes(shape: &[impl Dim], numel: usize) -> Result<Vec<usize>, GatherError> {
    let mut sizes = Vec::with_capacity(shape.len());
    let mut inferred = None;
    for (k, &d) in shape.iter().enumerate() {
        match size_of(d) {
            Ok(s) => sizes.push(s),
            Err(-1) if inferred.is_none() => {
                inferred = Some(k);
                sizes.push(1);
            }
            Err(-1) => {
                return Err(op_err(
                    "reshape",
                    "only one dimension can be inferred".into(),
                ));
            }
            Err(v) => return Err(op_err("reshape", format!("invalid shape dimension {v}"))),
        }
    }
    if let Some(k) = inferred {
        let rest = crate::layout::numel_isize(&sizes)?;
        if rest == 0 || !numel.is_multiple_of(rest) {
            let given: Vec<i128> = shape.iter().map(|d| d.to_i128()).collect();
            return Err(op_err(
                "reshape",
                format!("shape {given:?} is invalid for input of size {numel}"),
            ));
        }
        sizes[k] = numel / rest;
    }
    Ok(sizes)
}

/// torch's `expand` sizes: `-1` keeps the size of the aligned existing dim
/// (it may not stand for a new leading dim).
pub(crate) fn expand_sizes(
    shape: &[impl Dim],
    current: &[usize],
) -> Result<Vec<usize>, GatherError> {
    let lead = shape.len().saturating_sub(current.len());
    shape
        .iter()
        .enumerate()
        .map(|(k, &d)| match size_of(d) {
            Ok(s) => Ok(s),
            Err(-1) if k >= lead => Ok(current[k - lead]),
            Err(v) => Err(op_err(
                "expand",
                format!("size {v} at new dim {k} (-1 only keeps an existing dim's size)"),
            )),
        })
        .collect()
}

/// Python's slice bounds on a dim of `size`: negative values count from the
/// end, and both are clamped to `0..=size` (an empty range when `end <= start`).
pub(crate) fn slice_bounds(start: impl Dim, end: impl Dim, size: usize) -> (usize, usize) {
    let clamp = |v: i128| {
        let v = if v < 0 { v + size as i128 } else { v };
        v.clamp(0, size as i128) as usize
    };
    let (s, e) = (clamp(start.to_i128()), clamp(end.to_i128()));
    (s, e.max(s))
}
