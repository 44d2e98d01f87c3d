//! What a loss call asks for: the reduction, class weights, ignored labels,
//! label smoothing and the instruction-set path.

use super::float::{Acc, LossFloat};
use crate::alloc::try_vec;
use crate::error::GatherError;
use crate::isa::{Isa, Path};
use crate::options::GatherOptions;
use crate::view::TensorView;
use std::sync::Arc;

/// How per-row losses are combined (torch's `reduction`).
///
/// ```
/// use fastgather::loss::{nll_loss, LossOptions, Reduction};
/// use fastgather::TensorView;
/// let log_probs = TensorView::new(&[-1.0f64, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 0], &[2]).unwrap();
/// let by = |r| nll_loss(&log_probs, &y, &LossOptions::new().reduction(r)).unwrap();
/// assert_eq!(by(Reduction::None).as_slice(), &[2.0, 3.0]);
/// assert_eq!(by(Reduction::Sum).as_slice(), &[5.0]);
/// assert_eq!(by(Reduction::Mean).as_slice(), &[2.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reduction {
    /// One loss per row, of the targets' shape (`[N]`, `[N, d1, ..]`, or 0-d
    /// for an unbatched `[C]` input).
    None,
    /// The mean over rows not ignored, a 0-d tensor (torch's default). With a
    /// class weight, the weighted sum divided by the sum of the weights of the
    /// rows' labels; with class-probability targets, divided by the number of
    /// rows.
    #[default]
    Mean,
    /// The sum over rows, a 0-d tensor.
    Sum,
}

/// Options of the losses; the defaults are torch's.
///
/// ```
/// use fastgather::loss::{LossOptions, Reduction};
/// use fastgather::TensorView;
/// let w = TensorView::new(&[1.0f32, 2.0, 0.5], &[3]).unwrap();
/// let opts = LossOptions::new()
///     .reduction(Reduction::Sum)
///     .weight(&w)
///     .ignore_index(-100)
///     .label_smoothing(0.1);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LossOptions {
    pub(crate) reduction: Reduction,
    pub(crate) weight: Option<ClassWeight>,
    pub(crate) ignore_index: Option<i64>,
    pub(crate) label_smoothing: f64,
    pub(crate) isa: Option<Isa>,
}

/// A class weight as the caller gave it: its shape (checked against the
/// classes at each call) and its values, widened to `f64` (exact for every
/// [`LossFloat`]), shared between clones of the options; or the error of
/// copying them, reported at the call.
#[derive(Clone, Debug)]
pub(crate) struct ClassWeight {
    shape: Vec<usize>,
    values: Result<Arc<[f64]>, GatherError>,
}

impl Default for LossOptions {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: Some(-100),
            label_smoothing: 0.0,
            isa: None,
        }
    }
}

impl LossOptions {
    /// torch's defaults: `Mean`, `ignore_index = -100`, no smoothing.
    ///
    /// ```
    /// use fastgather::loss::{cross_entropy, LossOptions};
    /// use fastgather::TensorView;
    /// let logits = TensorView::new(&[0.0f32, 0.0], &[1, 2]).unwrap();
    /// let y = TensorView::new(&[1i64], &[1]).unwrap();
    /// let loss = cross_entropy(&logits, &y, &LossOptions::new()).unwrap();
    /// assert!((loss.item().unwrap() - std::f32::consts::LN_2).abs() < 1e-6);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// How per-row losses are combined.
    ///
    /// ```
    /// use fastgather::loss::{cross_entropy, LossOptions, Reduction};
    /// use fastgather::TensorView;
    /// let logits = TensorView::new(&[0.0f32; 6], &[3, 2]).unwrap();
    /// let y = TensorView::new(&[0i64, 1, 0], &[3]).unwrap();
    /// let opts = LossOptions::new().reduction(Reduction::None);
    /// assert_eq!(cross_entropy(&logits, &y, &opts).unwrap().shape(), &[3]);
    /// ```
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// torch's `weight=`: a rescaling weight per class, a 1-d `[C]` view (any
    /// stride). A row with label `y` has its loss scaled by `weight[y]`, and
    /// [`Reduction::Mean`] divides by the sum of `weight[y]` over the rows not
    /// ignored. With label smoothing, the smoothing term of a row is
    /// `Σ_c weight[c]·(-log p_c)` (torch's formula); with class-probability
    /// targets, class `c`'s term is scaled by `weight[c]`.
    ///
    /// The values are copied (widened to `f64`, which is exact), so the
    /// options do not borrow the view and serve inputs of any float type. A
    /// weight that is not of shape `[C]` is an
    /// [`GatherError::InvalidLossArgument`] at the call.
    ///
    /// ```
    /// use fastgather::loss::{nll_loss, LossOptions};
    /// use fastgather::TensorView;
    /// let log_probs = TensorView::new(&[-1.0f64, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
    /// let y = TensorView::new(&[0i64, 1], &[2]).unwrap();
    /// let w = TensorView::new(&[1.0f64, 3.0], &[2]).unwrap();
    /// // (1·1 + 3·4) / (1 + 3)
    /// let loss = nll_loss(&log_probs, &y, &LossOptions::new().weight(&w)).unwrap();
    /// assert_eq!(loss.item().unwrap(), 3.25);
    /// ```
    pub fn weight<W: LossFloat>(mut self, weight: &TensorView<'_, W>) -> Self {
        // Copied only if it can be a class weight, fallibly: a huge stride-0
        // view is an error at the call, not an abort here.
        let values = if weight.rank() == 1 {
            weight
                .try_to_vec()
                .map(|v| v.into_iter().map(|v| v.widen().to_f64()).collect())
        } else {
            Ok(Arc::from([]))
        };
        self.weight = Some(ClassWeight {
            shape: weight.shape().to_vec(),
            values,
        });
        self
    }

    /// Rows whose label equals `label` contribute nothing and are not counted.
    ///
    /// ```
    /// use fastgather::loss::{nll_loss, LossOptions};
    /// use fastgather::TensorView;
    /// let log_probs = TensorView::new(&[-1.0f32, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
    /// let y = TensorView::new(&[0i64, -1], &[2]).unwrap();
    /// // Mean over the one row counted.
    /// let loss = nll_loss(&log_probs, &y, &LossOptions::new().ignore_index(-1)).unwrap();
    /// assert_eq!(loss.as_slice(), &[1.0]);
    /// ```
    pub fn ignore_index(mut self, label: i64) -> Self {
        self.ignore_index = Some(label);
        self
    }

    /// Every label is a class (no row is ignored).
    ///
    /// ```
    /// use fastgather::loss::{nll_loss, LossOptions};
    /// use fastgather::TensorView;
    /// let log_probs = TensorView::new(&[-1.0f32, -2.0], &[1, 2]).unwrap();
    /// let y = TensorView::new(&[-100i64], &[1]).unwrap();
    /// // -100 is no longer skipped, so it is an out-of-range label.
    /// assert!(nll_loss(&log_probs, &y, &LossOptions::new().no_ignore_index()).is_err());
    /// ```
    pub fn no_ignore_index(mut self) -> Self {
        self.ignore_index = None;
        self
    }

    /// Label smoothing `ε` in `[0, 1]`: the target is `(1-ε)·one_hot + ε/C`.
    ///
    /// ```
    /// use fastgather::loss::{cross_entropy, LossOptions};
    /// use fastgather::TensorView;
    /// // Uniform logits: every class costs ln 2, smoothed or not.
    /// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
    /// let y = TensorView::new(&[0i64], &[1]).unwrap();
    /// let opts = LossOptions::new().label_smoothing(0.1);
    /// let loss = cross_entropy(&logits, &y, &opts).unwrap();
    /// assert!((loss.item().unwrap() - std::f64::consts::LN_2).abs() < 1e-12);
    /// ```
    pub fn label_smoothing(mut self, epsilon: f64) -> Self {
        self.label_smoothing = epsilon;
        self
    }

    /// Run the row kernels, and the gather and `scatter_add` inside the
    /// losses, on this path instead of the best one (for tests and
    /// benchmarks). Every path gives the same bits; a call fails with
    /// [`GatherError::IsaUnavailable`] if the CPU lacks it.
    ///
    /// ```
    /// use fastgather::loss::{cross_entropy, LossOptions};
    /// use fastgather::{Isa, TensorView};
    /// let logits = TensorView::new(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]).unwrap();
    /// let y = TensorView::new(&[0i64, 2], &[2]).unwrap();
    /// let best = cross_entropy(&logits, &y, &LossOptions::new()).unwrap();
    /// for isa in Isa::available() {
    ///     let opts = LossOptions::new().isa(isa);
    ///     assert_eq!(cross_entropy(&logits, &y, &opts).unwrap(), best);
    /// }
    /// ```
    pub fn isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }

    /// The class weight of a call with `c` classes, in the type arithmetic
    /// happens in; `None` when no weight was given.
    pub(crate) fn class_weight<A: Acc>(
        &self,
        op: &'static str,
        c: usize,
    ) -> Result<Option<Vec<A>>, GatherError> {
        let Some(w) = &self.weight else {
            return Ok(None);
        };
        if w.shape != [c] {
            return Err(GatherError::InvalidLossArgument {
                op,
                reason: format!(
                    "weight must be defined for all {c} classes (shape [{c}]), got shape {:?}",
                    w.shape
                ),
            });
        }
        let values = w.values.as_ref().map_err(Clone::clone)?;
        let mut out = try_vec(c)?;
        out.extend(values.iter().map(|&v| A::from_f64(v)));
        Ok(Some(out))
    }

    /// The path these options run on, with its detection token.
    pub(crate) fn path(&self) -> Result<Path, GatherError> {
        Path::resolve(self.isa)
    }

    /// The options of the gathers and scatters inside a loss: the same path.
    pub(crate) fn gather_options(&self) -> GatherOptions {
        match self.isa {
            Some(isa) => GatherOptions::new().isa(isa),
            None => GatherOptions::new(),
        }
    }
}
