//! Knobs for a call: threading and the instruction-set path.

use crate::driver::Driver;
use crate::element::Element;
use crate::error::GatherError;
use crate::isa::{Isa, Path};
use std::any::{TypeId, type_name};

/// Options for the `_with` forms of every operation ([`crate::gather_with`],
/// [`crate::scatter_add_into_with`], [`crate::index_select_with`], ...).
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
    pub(crate) driver: Option<Driver>,
    /// `None`: the operation's own default (torch's `Error`, numpy's `Wrap`
    /// for `take_along_axis`).
    pub(crate) mode: Option<IndexMode>,
    /// The fill value for [`IndexMode::Fill`], with its type.
    pub(crate) fill: Option<Fill>,
}

/// A fill value: its bytes and the type they are a value of. Kernels write the
/// bytes into output slots only after [`GatherOptions::fill_bytes`] has matched
/// the type against the call's element type, so no slot ever receives bytes that
/// are not a valid value of its own type (a `2u8` in a `bool`, a surrogate in a
/// `char`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fill {
    bytes: [u8; 16],
    width: usize,
    ty: TypeId,
    name: &'static str,
}

impl Default for GatherOptions {
    fn default() -> Self {
        Self {
            parallel: true,
            isa: None,
            driver: None,
            mode: None,
            fill: None,
        }
    }
}

/// What an index value outside `0..size` means (an opt-in extension; torch's
/// behaviour is `Error`).
///
/// ```
/// use fastgather::{gather_with, GatherOptions, IndexMode, TensorView};
/// let src = TensorView::new(&[10, 20, 30], &[3]).unwrap();
/// let idx = TensorView::new(&[-1i64, 5], &[2]).unwrap();
/// let run = |opts: GatherOptions| gather_with(&src, 0, &idx, &opts);
/// assert!(run(GatherOptions::new()).is_err()); // IndexMode::Error, torch's
/// assert!(run(GatherOptions::new().mode(IndexMode::Wrap)).is_err()); // 5 is still bad
/// let clamped = run(GatherOptions::new().mode(IndexMode::Clamp)).unwrap();
/// assert_eq!(clamped.as_slice(), &[10, 30]);
/// let filled = run(GatherOptions::new().fill(-1)).unwrap();
/// assert_eq!(filled.as_slice(), &[-1, -1]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexMode {
    /// torch: any value outside `0..size` is an error.
    #[default]
    Error,
    /// numpy `take_along_axis` / ONNX `GatherElements`: values in `-size..0`
    /// count from the end; anything outside `-size..size` is still an error.
    Wrap,
    /// JAX `mode="clip"`: values below 0 read element 0, values past the end
    /// read the last element (an error only when `size == 0`).
    Clamp,
    /// JAX `mode="fill"`: out-of-range positions get the value set by
    /// [`GatherOptions::fill`] (never an error). Gathers only.
    Fill,
    /// JAX `mode="drop"`: out-of-range writes are skipped (never an error).
    /// Scatters only: a gather refuses it.
    ///
    /// ```
    /// use fastgather::{scatter_with, GatherOptions, IndexMode, TensorView};
    /// let dest = TensorView::new(&[0, 0, 0], &[3]).unwrap();
    /// let idx = TensorView::new(&[2i64, 9, -1], &[3]).unwrap();
    /// let src = TensorView::new(&[7, 8, 9], &[3]).unwrap();
    /// let opts = GatherOptions::new().mode(IndexMode::Drop);
    /// let out = scatter_with(&dest, 0, &idx, &src, &opts).unwrap();
    /// assert_eq!(out.as_slice(), &[0, 0, 7]);
    /// ```
    Drop,
}

impl GatherOptions {
    /// The defaults: parallel across rows in the caller's rayon pool when the
    /// problem is large enough (with the `rayon` feature), index values checked
    /// as torch does, the best instruction-set path.
    ///
    /// ```
    /// use fastgather::{gather, gather_with, GatherOptions, TensorView};
    /// let src = TensorView::new(&[1u8, 2, 3], &[3]).unwrap();
    /// let idx = TensorView::new(&[2i64], &[1]).unwrap();
    /// let a = gather_with(&src, 0, &idx, &GatherOptions::new()).unwrap();
    /// assert_eq!(a, gather(&src, 0, &idx).unwrap());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Run on the caller's thread only. Results are bit-identical either way.
    ///
    /// ```
    /// use fastgather::{gather, gather_with, GatherOptions, TensorView};
    /// let data: Vec<f32> = (0..1 << 16).map(|i| i as f32).collect();
    /// let src = TensorView::new(&data, &[256, 256]).unwrap();
    /// let idx: Vec<i64> = (0..1 << 16).map(|i| (i * 7 % 256) as i64).collect();
    /// let idx = TensorView::new(&idx, &[256, 256]).unwrap();
    /// let one_thread = gather_with(&src, 1, &idx, &GatherOptions::new().sequential()).unwrap();
    /// assert_eq!(one_thread, gather(&src, 1, &idx).unwrap());
    /// ```
    pub fn sequential(mut self) -> Self {
        self.parallel = false;
        self
    }

    /// Run the kernels of this path instead of the best one (for tests and
    /// benchmarks). A call fails with [`GatherError::IsaUnavailable`] if the
    /// CPU lacks it.
    ///
    /// ```
    /// use fastgather::{gather_with, GatherError, GatherOptions, Isa, TensorView};
    /// let src = TensorView::new(&[1i16, 2, 3, 4], &[4]).unwrap();
    /// let idx = TensorView::new(&[3i32, 0], &[2]).unwrap();
    /// for isa in Isa::available() {
    ///     let out = gather_with(&src, 0, &idx, &GatherOptions::new().isa(isa)).unwrap();
    ///     assert_eq!(out.as_slice(), &[4, 1]);
    /// }
    /// if !Isa::Avx512Gather.is_available() {
    ///     let opts = GatherOptions::new().isa(Isa::Avx512Gather);
    ///     assert!(matches!(
    ///         gather_with(&src, 0, &idx, &opts),
    ///         Err(GatherError::IsaUnavailable { .. })
    ///     ));
    /// }
    /// ```
    pub fn isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }

    /// Visit rows in `driver`'s order instead of the one the dispatch table
    /// picks (for tests and benchmarks). A call fails with
    /// [`GatherError::InvalidOption`] if the driver cannot run its
    /// layout ([`crate::explain`] names the driver each call runs).
    ///
    /// ```
    /// use fastgather::{explain, gather_with, Driver, GatherOptions, TensorView};
    /// let data: Vec<u32> = (0..64 * 300).collect();
    /// let src = TensorView::new(&data, &[64, 300]).unwrap();
    /// let picks: Vec<i64> = (0..64 * 300).map(|i| (i * 7 % 64) as i64).collect();
    /// let idx = TensorView::new(&picks, &[64, 300]).unwrap();
    /// // A gather along dim 0: each row picks from the same block of columns.
    /// let auto = gather_with(&src, 0, &idx, &GatherOptions::new()).unwrap();
    /// for driver in [Driver::Plain, Driver::ColumnTiles, Driver::PackedColumns] {
    ///     let opts = GatherOptions::new().driver(driver);
    ///     assert_eq!(explain(&src, 0, &idx, &opts).unwrap().unwrap().driver, driver);
    ///     assert_eq!(gather_with(&src, 0, &idx, &opts).unwrap(), auto);
    /// }
    /// // Tiles are for strided index or output rows only.
    /// assert!(gather_with(&src, 0, &idx, &GatherOptions::new().driver(Driver::Tiles)).is_err());
    /// ```
    pub fn driver(mut self, driver: Driver) -> Self {
        self.driver = Some(driver);
        self
    }

    /// How out-of-range index values are treated (default [`IndexMode::Error`]).
    /// Modes other than `Error` run the general strided kernel.
    ///
    /// ```
    /// use fastgather::{gather_with, GatherOptions, IndexMode, TensorView};
    /// let src = TensorView::new(&[1, 2, 3, 4], &[4]).unwrap();
    /// let last = TensorView::new(&[-1i64], &[1]).unwrap();
    /// let opts = GatherOptions::new().mode(IndexMode::Wrap);
    /// assert_eq!(gather_with(&src, 0, &last, &opts).unwrap().as_slice(), &[4]);
    /// ```
    pub fn mode(mut self, mode: IndexMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// [`IndexMode::Fill`] with `value` for out-of-range positions. The value's
    /// type must be the element type of the call (checked when it runs: a fill
    /// of another type, even of the same width, is refused) and at most 16
    /// bytes wide.
    ///
    /// ```
    /// use fastgather::{gather_with, GatherError, GatherOptions, TensorView};
    /// let src = TensorView::new(&[0.5f32, 1.5], &[2]).unwrap();
    /// let idx = TensorView::new(&[1i64, 7, 0], &[3]).unwrap();
    /// let out = gather_with(&src, 0, &idx, &GatherOptions::new().fill(f32::NAN)).unwrap();
    /// assert_eq!(out.as_slice()[0], 1.5);
    /// assert!(out.as_slice()[1].is_nan());
    /// // A fill value of another type is refused when the call runs, whatever its width.
    /// for opts in [GatherOptions::new().fill(0.0f64), GatherOptions::new().fill(0u32)] {
    ///     assert!(matches!(
    ///         gather_with(&src, 0, &idx, &opts),
    ///         Err(GatherError::InvalidOption { .. })
    ///     ));
    /// }
    /// ```
    pub fn fill<T: Element>(mut self, value: T) -> Self {
        let bytes = bytemuck::bytes_of(&value);
        let mut fill = [0u8; 16];
        let n = bytes.len().min(16);
        fill[..n].copy_from_slice(&bytes[..n]);
        self.mode = Some(IndexMode::Fill);
        self.fill = Some(Fill {
            bytes: fill,
            width: bytes.len(),
            ty: TypeId::of::<T>(),
            name: type_name::<T>(),
        });
        self
    }

    /// The fill value's bytes, if the mode needs one: only a value of type `T`
    /// itself (at most 16 bytes) is accepted, so the bytes are a valid `T`.
    pub(crate) fn fill_bytes<T: 'static>(&self) -> Result<[u8; 16], GatherError> {
        match (self.index_mode(), self.fill) {
            (IndexMode::Fill, Some(f)) if f.ty == TypeId::of::<T>() && f.width <= 16 => Ok(f.bytes),
            (IndexMode::Fill, given) => Err(GatherError::InvalidOption {
                reason: format!(
                    "IndexMode::Fill needs a fill value of the element type {} \
                     ({} bytes, at most 16); got {}",
                    type_name::<T>(),
                    size_of::<T>(),
                    given.map_or("none".to_string(), |f| format!(
                        "a {} ({} bytes)",
                        f.name, f.width
                    ))
                ),
            }),
            (IndexMode::Drop, _) => Err(GatherError::InvalidOption {
                reason: "IndexMode::Drop skips out-of-range writes, so only scatters take it; \
                         a gather reads every position (IndexMode::Fill gives them a value)"
                    .to_string(),
            }),
            _ => Ok([0; 16]),
        }
    }

    /// The index mode asked for, or torch's `Error`.
    #[inline]
    pub(crate) fn index_mode(&self) -> IndexMode {
        self.mode.unwrap_or(IndexMode::Error)
    }

    /// These options with `mode` as the default index mode (an operation
    /// whose own default is not torch's).
    pub(crate) fn or_mode(&self, mode: IndexMode) -> Self {
        let mut opts = self.clone();
        opts.mode.get_or_insert(mode);
        opts
    }

    /// The path these options run on this CPU, with its detection token.
    #[inline]
    pub(crate) fn path(&self) -> Result<Path, GatherError> {
        Path::resolve(self.isa)
    }
}
