//! A user's own op, generic over fastgather's element and index traits: the
//! kind of code an API break would stop compiling.

use fastgather::{gather, GatherError, IndexElem, Tensor, TensorView};

/// The value of each row at its label, as a user's loss code would write it.
pub fn pick_rows<T, I>(values: &[T], classes: usize, labels: &[I]) -> Result<Tensor<T>, GatherError>
where
    T: fastgather::Element,
    I: IndexElem,
{
    let rows = labels.len();
    let src = TensorView::new(values, &[rows, classes])?;
    let idx = TensorView::new(labels, &[rows])?.reshape(&[rows, 1])?;
    gather(&src, 1, &idx)
}

/// Describes an error by matching the variants a user cares about; the enum is
/// non-exhaustive, so a wildcard arm is required.
pub fn describe(e: &GatherError) -> &'static str {
    match e {
        GatherError::IndexOutOfBounds { .. } => "bad index",
        GatherError::DimOutOfRange { .. } => "bad dim",
        GatherError::RankMismatch { .. } | GatherError::SizeMismatch { .. } => "bad shapes",
        _ => "other",
    }
}
