//! Knobs for a call: threading and the instruction-set path.

use crate::isa::Isa;

/// Options for [`crate::gather_with`] and [`crate::gather_into_with`].
///
/// ```
/// use fastgather::{gather_with, GatherOptions, TensorView};
/// let src = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let idx = TensorView::new(&[2i64, 0], &[2]).unwrap();
/// let out = gather_with(&src, 0, &idx, &GatherOptions::new().sequential()).unwrap();
/// assert_eq!(out.as_slice(), &[3.0, 1.0]);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GatherOptions {
    pub(crate) parallel: bool,
    pub(crate) isa: Option<Isa>,
}

impl Default for GatherOptions {
    fn default() -> Self {
        Self {
            parallel: true,
            isa: None,
        }
    }
}

impl GatherOptions {
    /// The defaults: parallel across rows in the caller's rayon pool when the
    /// problem is large enough, index values checked as torch does.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run on the caller's thread only. Results are bit-identical either way.
    pub fn sequential(mut self) -> Self {
        self.parallel = false;
        self
    }

    /// Run the kernels of this path instead of the best one (for tests and
    /// benchmarks). A call fails with [`crate::GatherError::IsaUnavailable`] if the
    /// CPU lacks it.
    pub fn isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }

    /// The path these options run on this CPU.
    pub(crate) fn resolve_isa(&self) -> Result<Isa, crate::GatherError> {
        match self.isa {
            None => Ok(Isa::best()),
            Some(isa) if isa.is_available() => Ok(isa),
            Some(isa) => Err(crate::GatherError::IsaUnavailable { isa }),
        }
    }
}
