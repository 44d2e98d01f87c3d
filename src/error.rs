//! The one error type of the crate.

use std::fmt;

/// Everything that can go wrong when building a view or running a gather.
///
/// Messages carry the facts torch's carry: the dim, both shapes, the bad index
/// value, its position in the index as a multi-index, and the valid range.
///
/// The enum is `#[non_exhaustive]`: new variants may come in minor releases, so
/// a `match` needs a wildcard arm.
///
/// ```
/// use fastgather::{gather, GatherError, TensorView};
/// let src = TensorView::new(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let idx = TensorView::new(&[0i64, 1, 2, 0], &[2, 2]).unwrap();
/// let err = gather(&src, 1, &idx).unwrap_err();
/// match &err {
///     GatherError::IndexOutOfBounds { value, position, dim, size, .. } => {
///         assert_eq!((*value, position.as_slice(), *dim, *size), (2, &[1, 0][..], 1, 2));
///     }
///     other => panic!("unexpected error: {other}"),
/// }
/// assert_eq!(
///     err.to_string(),
///     "index 2 is out of bounds for dimension 1 with size 2 \
///      (at position [1, 0] of the index; valid indices are 0..=1)"
/// );
/// // It is a std::error::Error, so `?` converts it into a Box<dyn Error>.
/// let boxed: Box<dyn std::error::Error> = err.into();
/// # let _ = boxed;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GatherError {
    /// `dim` is outside `[-rank, rank - 1]` (a 0-d tensor counts as rank 1).
    DimOutOfRange {
        /// The dim as the caller gave it.
        dim: isize,
        /// The rank it was wrapped against (`max(rank, 1)`).
        rank: usize,
    },
    /// `max(index.rank, 1) != max(src.rank, 1)`.
    RankMismatch {
        /// Rank of the source tensor.
        src_rank: usize,
        /// Rank of the index tensor.
        index_rank: usize,
    },
    /// `index.size(d) > src.size(d)` for some `d != dim`.
    SizeMismatch {
        /// The first axis (in order) where the index is larger than the source.
        axis: usize,
        /// The gather dim, which is exempt from the rule.
        dim: usize,
        /// Shape of the index.
        index_shape: Vec<usize>,
        /// Shape of the source.
        src_shape: Vec<usize>,
    },
    /// A scatter's index is larger than its source on some axis, or than `self`
    /// on an axis other than `dim`.
    ScatterSizeMismatch {
        /// The first axis (in order) that breaks the rule.
        axis: usize,
        /// The scatter dim.
        dim: usize,
        /// Shape of the index.
        index_shape: Vec<usize>,
        /// Shape of the tensor written (`self`).
        self_shape: Vec<usize>,
        /// Shape of the values.
        src_shape: Vec<usize>,
    },
    /// An index value outside `[0, size)`; the first such value in row-major
    /// order of the index.
    IndexOutOfBounds {
        /// The offending value, exactly as stored (any index type fits in `i128`).
        value: i128,
        /// Its position in the index tensor.
        position: Vec<usize>,
        /// The gather dim.
        dim: usize,
        /// `src.size(dim)`.
        size: usize,
        /// Whether values in `-size..0` were accepted, counting from the end
        /// ([`crate::IndexMode::Wrap`], [`crate::take_along_axis`]): the valid
        /// values are `-size..size` rather than `0..size`.
        wraps: bool,
    },
    /// The `out` view of `gather_into` does not have the index's shape.
    OutShapeMismatch {
        /// The shape `out` must have (the index's).
        expected: Vec<usize>,
        /// The shape it has.
        actual: Vec<usize>,
    },
    /// `shape` and `strides` (or a list of dims) have different lengths.
    RankLengthMismatch {
        /// Number of sizes given.
        shape_len: usize,
        /// Number of strides (or dims) given.
        other_len: usize,
    },
    /// The number of elements of a shape does not fit in `isize`, or an
    /// offset computed from shape, strides and offset overflows `isize`.
    ShapeOverflow {
        /// The shape that overflowed.
        shape: Vec<usize>,
    },
    /// A view addresses elements outside its buffer.
    ViewOutOfBounds {
        /// Smallest element offset the view reaches.
        min_offset: isize,
        /// Largest element offset the view reaches.
        max_offset: isize,
        /// Length of the buffer in elements.
        len: usize,
    },
    /// A writable view has two positions that address the same element
    /// (or a layout too tangled to prove otherwise).
    OverlappingView {
        /// Shape of the view.
        shape: Vec<usize>,
        /// Strides of the view.
        strides: Vec<isize>,
    },
    /// The data length does not match the product of the shape.
    LengthMismatch {
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// A view operation got arguments it cannot honour (bad permutation,
    /// slice out of range, incompatible expand or reshape, ...).
    InvalidViewOp {
        /// Which operation.
        op: &'static str,
        /// What was wrong, in words.
        reason: String,
    },
    /// The options do not fit the call (e.g. a fill value of another width).
    InvalidOption {
        /// What was wrong, in words.
        reason: String,
    },
    /// [`crate::GatherOptions::isa`] asked for a path this CPU cannot run.
    IsaUnavailable {
        /// The path asked for.
        isa: crate::isa::Isa,
    },
    /// The output could not be allocated.
    AllocationFailed {
        /// Bytes requested.
        bytes: usize,
    },
    /// A loss got arguments it cannot honour: scores or targets of the wrong
    /// shape, a class weight of the wrong length or type, a `grad_output` of
    /// the wrong shape, or a "probability" outside `[0, 1]`.
    InvalidLossArgument {
        /// Which loss.
        op: &'static str,
        /// What was wrong, in words.
        reason: String,
    },
    /// An `index_*` operation's index is not 1-d (or 0-d).
    IndexNotVector {
        /// Which operation.
        op: &'static str,
        /// Shape of the index given.
        index_shape: Vec<usize>,
    },
    /// An `index_*` operation's source is not `self`'s shape with `dim` sized
    /// as the index.
    SliceShapeMismatch {
        /// Which operation.
        op: &'static str,
        /// The dim the index runs along.
        dim: usize,
        /// Shape of `self`.
        self_shape: Vec<usize>,
        /// Shape of the source.
        source_shape: Vec<usize>,
        /// Length of the index.
        index_len: usize,
    },
    /// A reduction an operation does not take (an unknown name, or `sum` for
    /// `index_reduce`).
    InvalidReduction {
        /// Which operation.
        op: &'static str,
        /// The reduction given.
        name: String,
        /// The reductions it takes.
        expected: &'static str,
    },
    /// Bag offsets or segment lengths that do not describe the ids (or rows)
    /// they cut: the first offending entry.
    InvalidOffsets {
        /// Which operation.
        op: &'static str,
        /// The entry's position in the offsets (or lengths).
        position: usize,
        /// Its value.
        value: i128,
        /// The number of ids (or data rows) being cut.
        ids: usize,
        /// What is wrong with it, in words.
        reason: &'static str,
    },
    /// An embedding operation's arguments do not fit together: a table that is
    /// not 2-d, weights or gradients of the wrong shape, weights with a mode
    /// other than sum, or a `padding_idx` outside the table.
    InvalidEmbeddingArgument {
        /// Which operation.
        op: &'static str,
        /// What was wrong, in words.
        reason: String,
    },
    /// Two shapes that must broadcast against each other (apart from `dim`,
    /// where one is named) do not.
    NotBroadcastable {
        /// Which operation.
        op: &'static str,
        /// The first axis where they differ and neither is 1.
        axis: usize,
        /// The first shape (the input's).
        a: Vec<usize>,
        /// The second (the index's).
        b: Vec<usize>,
    },
}

fn shape(s: &[usize]) -> String {
    let parts: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

impl fmt::Display for GatherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DimOutOfRange { dim, rank } => {
                let r = *rank as isize;
                write!(
                    f,
                    "dimension out of range (expected to be in range of [{}, {}], but got {dim})",
                    -r,
                    r - 1
                )
            }
            Self::RankMismatch {
                src_rank,
                index_rank,
            } => write!(
                f,
                "index tensor must have the same number of dimensions as input tensor \
                 (index has {index_rank}, input has {src_rank})"
            ),
            Self::SizeMismatch {
                axis,
                dim,
                index_shape,
                src_shape,
            } => write!(
                f,
                "size does not match at dimension {axis}: expected index {} to be no larger \
                 than self {} apart from dimension {dim}",
                shape(index_shape),
                shape(src_shape)
            ),
            Self::ScatterSizeMismatch {
                axis,
                dim,
                index_shape,
                self_shape,
                src_shape,
            } => write!(
                f,
                "size does not match at dimension {axis}: expected index {} to be no larger \
                 than self {} apart from dimension {dim} and no larger than src {}",
                shape(index_shape),
                shape(self_shape),
                shape(src_shape)
            ),
            Self::IndexOutOfBounds {
                value,
                position,
                dim,
                size,
                wraps,
            } => {
                // torch's sentence, whole; then where, and what the call accepts.
                write!(
                    f,
                    "index {value} is out of bounds for dimension {dim} with size {size} \
                     (at position {} of the index; ",
                    shape(position)
                )?;
                match (*size, *wraps) {
                    (0, _) => write!(f, "the dimension is empty, so no index is valid)"),
                    (n, false) => write!(f, "valid indices are 0..={})", n - 1),
                    (n, true) => write!(f, "valid indices are -{n}..={})", n - 1),
                }
            }
            Self::OutShapeMismatch { expected, actual } => write!(
                f,
                "out has shape {} but the index has shape {} (out is never resized)",
                shape(actual),
                shape(expected)
            ),
            Self::RankLengthMismatch {
                shape_len,
                other_len,
            } => write!(
                f,
                "shape has {shape_len} dims but {other_len} strides or dims were given"
            ),
            Self::ShapeOverflow { shape: s } => write!(
                f,
                "shape {} overflows: element count or offset does not fit in isize",
                shape(s)
            ),
            Self::ViewOutOfBounds {
                min_offset,
                max_offset,
                len,
            } => write!(
                f,
                "view reaches elements {min_offset}..={max_offset} but the buffer holds {len}"
            ),
            Self::OverlappingView { shape: s, strides } => write!(
                f,
                "writable view with shape {} and strides {strides:?} has elements that overlap",
                shape(s)
            ),
            Self::LengthMismatch { expected, actual } => write!(
                f,
                "data has {actual} elements but the shape needs {expected}"
            ),
            Self::InvalidViewOp { op, reason } => write!(f, "{op}: {reason}"),
            Self::InvalidOption { reason } => write!(f, "invalid options: {reason}"),
            Self::IsaUnavailable { isa } => {
                write!(f, "the {isa:?} kernels cannot run on this CPU")
            }
            Self::AllocationFailed { bytes } => {
                write!(f, "could not allocate {bytes} bytes for the output")
            }
            Self::InvalidLossArgument { op, reason } => write!(f, "{op}: {reason}"),
            Self::InvalidOffsets {
                op,
                position,
                value,
                ids,
                reason,
            } => write!(
                f,
                "{op}: entry {position} ({value}) {reason}; there are {ids}"
            ),
            Self::InvalidEmbeddingArgument { op, reason } => write!(f, "{op}: {reason}"),
            Self::IndexNotVector { op, index_shape } => write!(
                f,
                "{op}: index must be 1-d or 0-d, but has shape {}",
                shape(index_shape)
            ),
            Self::SliceShapeMismatch {
                op,
                dim,
                self_shape,
                source_shape,
                index_len,
            } => write!(
                f,
                "{op}: source has shape {} but must be self's {} with dimension {dim} \
                 of size {index_len} (the index's length)",
                shape(source_shape),
                shape(self_shape)
            ),
            Self::InvalidReduction { op, name, expected } => write!(
                f,
                "{op}: reduce must be one of {expected}, but got {name:?}"
            ),
            Self::NotBroadcastable { op, axis, a, b } => write!(
                f,
                "{op}: shapes {} and {} do not broadcast at dimension {axis}",
                shape(a),
                shape(b)
            ),
        }
    }
}

impl std::error::Error for GatherError {}
