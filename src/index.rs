//! Index element types and the range check every kernel applies.

use crate::options::IndexMode;

mod sealed {
    pub trait Sealed {}
}

/// Which concrete type an index element is, so dispatch can pick lane widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum IndexKind {
    I32,
    I64,
    /// u32: zero-extended, never negative.
    U32,
    /// u64 and usize: reinterpreted as i64, so values past `i64::MAX` are negative
    /// and fail the range check like any negative value.
    U64,
}

/// An integer type usable as gather indices.
///
/// `i64` and `i32` are torch's index dtypes; `u32`, `u64` and `usize` are
/// fastgather extensions with the same meaning (a value must lie in `0..size`).
/// Sealed: the kernels rely on the widths below.
///
/// ```
/// use fastgather::{gather, IndexElem, Tensor, TensorView};
/// // Generic over the index type, as a caller's own op might be.
/// fn first_column<I: IndexElem>(src: &TensorView<'_, f32>) -> Tensor<f32> {
///     let rows = src.shape()[0];
///     let zeros = vec![I::from_i64_wrapping(0); rows];
///     let idx = TensorView::new(&zeros, &[rows, 1]).unwrap();
///     gather(src, 1, &idx).unwrap()
/// }
/// let src = TensorView::new(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(first_column::<u32>(&src).as_slice(), &[1.0, 3.0]);
/// assert_eq!(first_column::<i64>(&src).as_slice(), &[1.0, 3.0]);
/// assert_eq!(u64::MAX.to_i64(), -1); // fails the range check like any negative
/// assert_eq!(u64::MAX.to_i128(), u64::MAX as i128);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fastgather index type",
    label = "not a `fastgather::IndexElem`",
    note = "indices are `i64` or `i32` (torch's dtypes), `u32`, `u64` or `usize`",
    note = "for a generic index type, write `I: fastgather::IndexElem`"
)]
pub trait IndexElem: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The value widened to `i64`; values that do not fit come out negative,
    /// so one unsigned compare against the bound rejects them too.
    fn to_i64(self) -> i64;
    /// The exact value, for error messages.
    fn to_i128(self) -> i128;
    /// `v` as this type, wrapping; lets tests and fuzzers build indices generically.
    fn from_i64_wrapping(v: i64) -> Self;
    #[doc(hidden)]
    const KIND: IndexKind;
}

macro_rules! index_elem {
    ($($t:ty => $kind:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl IndexElem for $t {
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn from_i64_wrapping(v: i64) -> Self {
                v as $t
            }
            const KIND: IndexKind = IndexKind::$kind;
        }
    )*};
}
index_elem!(i32 => I32, i64 => I64, u32 => U32, u64 => U64, usize => U64);

/// Where an index value points under an [`IndexMode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    At(usize),
    Fill,
    Bad,
}

/// Resolves `v` (an index of type `I`, widened by `to_i64`) against `bound`.
#[inline(always)]
pub(crate) fn resolve<I: IndexElem>(mode: IndexMode, v: i64, bound: usize) -> Resolved {
    if in_bounds(v, bound) {
        return Resolved::At(v as usize);
    }
    // Unsigned values past i64::MAX widen to negatives: they are huge, not negative.
    let negative = v < 0 && matches!(I::KIND, IndexKind::I32 | IndexKind::I64);
    match mode {
        IndexMode::Error => Resolved::Bad,
        IndexMode::Wrap if negative && v.unsigned_abs() <= bound as u64 => {
            Resolved::At((bound as i64 + v) as usize)
        }
        IndexMode::Wrap => Resolved::Bad,
        IndexMode::Clamp if bound == 0 => Resolved::Bad,
        IndexMode::Clamp if negative => Resolved::At(0),
        IndexMode::Clamp => Resolved::At(bound - 1),
        IndexMode::Fill | IndexMode::Drop => Resolved::Fill,
    }
}

/// `0 <= v < bound`, in one unsigned compare.
#[inline(always)]
pub(crate) fn in_bounds(v: i64, bound: usize) -> bool {
    (v as u64) < bound as u64
}
