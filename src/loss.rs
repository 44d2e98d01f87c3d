//! Softmax-regression losses built on gather and scatter_add:
//! `cross_entropy(y_hat, y) = -ln(y_hat.gather(1, y.view(-1, 1)))` and the fused,
//! numerically stable forms torch users reach for, with their gradients.
//!
//! Inputs are 2-d `[N, C]` views (any strides) with classes along dim 1, and
//! labels a 1-d `[N]` index view. Definitions follow torch's
//! `nn.functional.cross_entropy` / `nll_loss`: reductions `None`, `Mean`, `Sum`,
//! `ignore_index`, and label smoothing `ε`, where each row's loss is
//! `(1-ε)·nll + ε·mean_c(-log p_c)` and `Mean` divides by the number of rows not
//! ignored. Rows are split across rayon threads; per-row results are reduced in
//! row order, so every result is the same on any number of threads.
//!
//! ```
//! use fastgather::loss::{
//!     cross_entropy_with_logits, cross_entropy_with_logits_backward, LossOptions,
//! };
//! use fastgather::TensorView;
//!
//! let logits = TensorView::new(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]).unwrap();
//! let labels = TensorView::new(&[0i64, 2], &[2]).unwrap();
//! let opts = LossOptions::new(); // mean over rows, as torch
//! let loss = cross_entropy_with_logits(&logits, &labels, &opts).unwrap();
//! let one = 1.0f32;
//! let grad = cross_entropy_with_logits_backward(
//!     &logits,
//!     &labels,
//!     &TensorView::scalar(&one),
//!     &opts,
//! )
//! .unwrap();
//! assert_eq!(grad.shape(), &[2, 3]);
//! // Each row of the gradient sums to zero (softmax minus a one-hot).
//! for row in grad.as_slice().chunks(3) {
//!     assert!(row.iter().sum::<f32>().abs() < 1e-6);
//! }
//! assert!(loss.as_slice()[0] > 0.0);
//! ```

use crate::error::GatherError;
use crate::gather::gather_with;
use crate::index::IndexElem;
use crate::options::GatherOptions;
use crate::scatter::{scatter_add_into, Accumulate};
use crate::view::{Tensor, TensorView};

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
    /// One loss per row, shape `[N]`.
    None,
    /// The mean over rows not ignored, a 0-d tensor (torch's default).
    #[default]
    Mean,
    /// The sum over rows, a 0-d tensor.
    Sum,
}

/// Options of the losses; the defaults are torch's.
///
/// ```
/// use fastgather::loss::{LossOptions, Reduction};
/// let opts = LossOptions::new().reduction(Reduction::Sum).ignore_index(-100).label_smoothing(0.1);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LossOptions {
    pub(crate) reduction: Reduction,
    pub(crate) ignore_index: Option<i64>,
    pub(crate) label_smoothing: f64,
}

impl Default for LossOptions {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            ignore_index: Some(-100),
            label_smoothing: 0.0,
        }
    }
}

impl LossOptions {
    /// torch's defaults: `Mean`, `ignore_index = -100`, no smoothing.
    ///
    /// ```
    /// use fastgather::loss::{cross_entropy_with_logits, LossOptions};
    /// use fastgather::TensorView;
    /// let logits = TensorView::new(&[0.0f32, 0.0], &[1, 2]).unwrap();
    /// let y = TensorView::new(&[1i64], &[1]).unwrap();
    /// let loss = cross_entropy_with_logits(&logits, &y, &LossOptions::new()).unwrap();
    /// assert!((loss.as_slice()[0] - std::f32::consts::LN_2).abs() < 1e-6);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// How per-row losses are combined.
    ///
    /// ```
    /// use fastgather::loss::{cross_entropy_with_logits, LossOptions, Reduction};
    /// use fastgather::TensorView;
    /// let logits = TensorView::new(&[0.0f32; 6], &[3, 2]).unwrap();
    /// let y = TensorView::new(&[0i64, 1, 0], &[3]).unwrap();
    /// let opts = LossOptions::new().reduction(Reduction::None);
    /// assert_eq!(cross_entropy_with_logits(&logits, &y, &opts).unwrap().shape(), &[3]);
    /// ```
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
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
    /// use fastgather::loss::{cross_entropy_with_logits, LossOptions};
    /// use fastgather::TensorView;
    /// // Uniform logits: every class costs ln 2, smoothed or not.
    /// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
    /// let y = TensorView::new(&[0i64], &[1]).unwrap();
    /// let opts = LossOptions::new().label_smoothing(0.1);
    /// let loss = cross_entropy_with_logits(&logits, &y, &opts).unwrap();
    /// assert!((loss.as_slice()[0] - std::f64::consts::LN_2).abs() < 1e-12);
    /// ```
    pub fn label_smoothing(mut self, epsilon: f64) -> Self {
        self.label_smoothing = epsilon;
        self
    }
}

/// The float types the losses compute in: `f32` and `f64`, and with the `half`
/// feature `f16`/`bf16`, which compute in `f32` and round once at the end.
///
/// Its methods are hidden: it is implemented here for those types only.
///
/// ```
/// use fastgather::loss::{log_softmax, LossFloat};
/// use fastgather::{Tensor, TensorView};
/// fn normalize<F: LossFloat>(x: &TensorView<'_, F>) -> Tensor<F> {
///     log_softmax(x).unwrap()
/// }
/// let y = normalize(&TensorView::new(&[1.0f32, 1.0], &[1, 2]).unwrap());
/// assert!((y.as_slice()[0] + std::f32::consts::LN_2).abs() < 1e-6);
/// ```
pub trait LossFloat: Accumulate + Copy + PartialOrd + Default {
    /// The type arithmetic happens in.
    #[doc(hidden)]
    type Acc: Acc;
    #[doc(hidden)]
    fn widen(self) -> Self::Acc;
    #[doc(hidden)]
    fn narrow(a: Self::Acc) -> Self;
}

/// Arithmetic the loss kernels need; implemented for `f32` and `f64`.
#[doc(hidden)]
pub trait Acc:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn ln(self) -> Self;
    fn is_nan(self) -> bool;
    /// `exp(x)` for `x <= 0` (arguments here are always shifted by the row max).
    fn exp_nonpos(x: Self) -> Self;
    const NEG_INFINITY: Self;
}

impl Acc for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn ln(self) -> Self {
        f32::ln(self)
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline(always)]
    fn exp_nonpos(x: Self) -> Self {
        exp_f32(x)
    }
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
}

impl Acc for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    #[inline(always)]
    fn exp_nonpos(x: Self) -> Self {
        x.exp()
    }
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
}

/// `exp(x)` in f32 without a libm call, so row loops vectorize: `x = n·ln2 + r`
/// with `|r| <= ln2/2`, `e^r` by its Taylor series to degree 7 (relative error
/// below 2e-8 on that interval) and `2^n` built in the exponent bits. Arguments
/// below -87.3 give 0 (their true value is under f32's normal range); NaN stays
/// NaN; `-inf` gives 0.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that `n · LN2_HI` is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let underflow = x < -87.3;
    let x = x.max(-87.3);
    // Round to nearest for `x * LOG2E` in [-126, 0], with a truncating
    // conversion (one vector instruction; `round` is a libm call on baseline x86-64).
    let n = -((0.5 - x * LOG2E) as i32) as f32;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^n for n in -126..=0: the biased exponent `n + 127` in bits 23-30.
    let scale = f32::from_bits((((n as i32) + 127).max(0) as u32) << 23);
    if underflow {
        0.0
    } else {
        p * scale
    }
}

impl LossFloat for f32 {
    type Acc = f32;
    fn widen(self) -> f32 {
        self
    }
    fn narrow(a: f32) -> Self {
        a
    }
}

impl LossFloat for f64 {
    type Acc = f64;
    fn widen(self) -> f64 {
        self
    }
    fn narrow(a: f64) -> Self {
        a
    }
}

#[cfg(feature = "half")]
impl LossFloat for half::f16 {
    type Acc = f32;
    fn widen(self) -> f32 {
        self.to_f32()
    }
    fn narrow(a: f32) -> Self {
        half::f16::from_f32(a)
    }
}

#[cfg(feature = "half")]
impl LossFloat for half::bf16 {
    type Acc = f32;
    fn widen(self) -> f32 {
        self.to_f32()
    }
    fn narrow(a: f32) -> Self {
        half::bf16::from_f32(a)
    }
}

/// The rows of a `[N, C]` view as (row start offset, column stride), checked
/// against `[N]` labels.
struct Rows<'v, 'a, F, I> {
    x: &'v TensorView<'a, F>,
    labels: &'v TensorView<'a, I>,
    n: usize,
    c: usize,
}

impl<'v, 'a, F: Copy, I: IndexElem> Rows<'v, 'a, F, I> {
    fn new(
        x: &'v TensorView<'a, F>,
        labels: &'v TensorView<'a, I>,
        opts: &LossOptions,
    ) -> Result<Self, GatherError> {
        if x.rank() != 2 {
            return Err(GatherError::InvalidViewOp {
                op: "loss",
                reason: format!("expected [N, C] scores, got shape {:?}", x.shape()),
            });
        }
        let (n, c) = (x.shape()[0], x.shape()[1]);
        if labels.shape() != [n] {
            return Err(GatherError::InvalidViewOp {
                op: "loss",
                reason: format!("expected [{n}] labels, got shape {:?}", labels.shape()),
            });
        }
        if !(0.0..=1.0).contains(&opts.label_smoothing) {
            return Err(GatherError::InvalidOption {
                reason: format!(
                    "label_smoothing must be in [0, 1], got {}",
                    opts.label_smoothing
                ),
            });
        }
        let rows = Self { x, labels, n, c };
        rows.check_labels(opts)?;
        Ok(rows)
    }

    /// torch's check: every label not ignored lies in `0..C`; the first bad one
    /// (in row order) is reported.
    fn check_labels(&self, opts: &LossOptions) -> Result<(), GatherError> {
        for r in 0..self.n {
            let v = self.labels.get(&[r]).expect("row inside labels").to_i128();
            if Some(v) != opts.ignore_index.map(i128::from) && !(0..self.c as i128).contains(&v) {
                return Err(GatherError::IndexOutOfBounds {
                    value: v,
                    position: vec![r],
                    dim: 1,
                    size: self.c,
                });
            }
        }
        Ok(())
    }

    /// Label of row `r`, or `None` if the row is ignored.
    fn label(&self, r: usize, opts: &LossOptions) -> Option<usize> {
        let v = self.labels.get(&[r]).expect("row inside labels").to_i128();
        (Some(v) != opts.ignore_index.map(i128::from)).then_some(v as usize)
    }

    /// Row `r` as a contiguous slice when its columns are, else copied.
    fn row(&self, r: usize, scratch: &mut Vec<F>) -> Option<&'a [F]> {
        if self.c == 0 {
            return Some(&[]);
        }
        let (s0, s1) = (self.x.strides()[0], self.x.strides()[1]);
        if self.c == 1 || s1 == 1 {
            let start = (self.x.offset() as isize + r as isize * s0) as usize;
            return Some(&self.x.data()[start..start + self.c]);
        }
        scratch.clear();
        scratch.extend((0..self.c).map(|k| *self.x.get(&[r, k]).expect("inside the view")));
        None
    }
}

/// Runs `f(row, label, values)` for every row, in parallel, collecting results in
/// row order.
fn per_row<F, I, T>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
    f: impl Fn(usize, Option<usize>, &[F]) -> T + Sync,
) -> Vec<T>
where
    F: Copy + Send + Sync,
    I: IndexElem,
    T: Send,
{
    let one = |r: usize, scratch: &mut Vec<F>| {
        let label = rows.label(r, opts);
        match rows.row(r, scratch) {
            Some(values) => f(r, label, values),
            None => f(r, label, scratch),
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if rows.n * rows.c >= 1 << 15 {
            return (0..rows.n)
                .into_par_iter()
                .map_init(Vec::new, |scratch, r| one(r, scratch))
                .collect();
        }
    }
    let mut scratch = Vec::new();
    (0..rows.n).map(|r| one(r, &mut scratch)).collect()
}

/// Runs `f(row, label, values, out_row)` for every row, writing each row's
/// results straight into its `C`-wide slice of `out`, in parallel.
fn per_row_into<F, I>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
    out: &mut [F],
    f: impl Fn(usize, Option<usize>, &[F], &mut [F]) + Sync,
) where
    F: Copy + Send + Sync,
    I: IndexElem,
{
    if rows.c == 0 {
        return;
    }
    let one = |r: usize, dst: &mut [F], scratch: &mut Vec<F>| {
        let label = rows.label(r, opts);
        match rows.row(r, scratch) {
            Some(values) => f(r, label, values, dst),
            None => f(r, label, scratch, dst),
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if rows.n * rows.c >= 1 << 15 {
            out.par_chunks_mut(rows.c)
                .enumerate()
                .for_each_init(Vec::new, |scratch, (r, dst)| one(r, dst, scratch));
            return;
        }
    }
    let mut scratch = Vec::new();
    for (r, dst) in out.chunks_mut(rows.c).enumerate() {
        one(r, dst, &mut scratch);
    }
}

/// Combines per-row losses (`None` for ignored rows) by `reduction`.
fn reduce<F: LossFloat>(losses: Vec<Option<F::Acc>>, reduction: Reduction) -> Tensor<F> {
    match reduction {
        Reduction::None => {
            let n = losses.len();
            let v = losses
                .into_iter()
                .map(|l| F::narrow(l.unwrap_or(<F::Acc as Acc>::from_f64(0.0))))
                .collect();
            Tensor::from_vec(v, &[n]).expect("one loss per row")
        }
        Reduction::Sum | Reduction::Mean => {
            // Summed in f64, in row order: the same on any number of threads.
            let (sum, count) = losses
                .iter()
                .flatten()
                .fold((0.0f64, 0usize), |(s, c), l| (s + l.to_f64(), c + 1));
            let total = if reduction == Reduction::Mean {
                sum / count as f64
            } else {
                sum
            };
            Tensor::scalar(F::narrow(<F::Acc as Acc>::from_f64(total)))
        }
    }
}

/// Row statistics of the logits: max, `ln Σ exp(x - max)` and `Σ x`.
///
/// Runs in the widest vector unit the CPU has: the body keeps `LANES`
/// independent partial results, a shape the compiler vectorizes without
/// reordering any sum, so every path returns the same bits.
fn row_stats<F: LossFloat>(x: &[F]) -> (F::Acc, F::Acc, F::Acc) {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::isa::Isa;
        match Isa::best() {
            // SAFETY: `best()` names AVX-512 only where the CPU has it.
            Isa::Avx512 => return unsafe { row_stats_avx512(x) },
            // SAFETY: `best()` names AVX2 only where the CPU has it.
            Isa::Avx2 => return unsafe { row_stats_avx2(x) },
            _ => {}
        }
    }
    row_stats_body(x)
}

/// # Safety
/// The CPU has AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn row_stats_avx512<F: LossFloat>(x: &[F]) -> (F::Acc, F::Acc, F::Acc) {
    row_stats_body(x)
}

/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_stats_avx2<F: LossFloat>(x: &[F]) -> (F::Acc, F::Acc, F::Acc) {
    row_stats_body(x)
}

const LANES: usize = 16;

#[inline(always)]
fn row_stats_body<F: LossFloat>(x: &[F]) -> (F::Acc, F::Acc, F::Acc) {
    let zero = <F::Acc as Acc>::from_f64(0.0);
    // NaN wins the max, so a NaN logit makes the row's loss NaN (as in torch).
    let bigger = |m: F::Acc, v: F::Acc| if v > m || v.is_nan() { v } else { m };
    let mut max = [<F::Acc as Acc>::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks.clone() {
        for k in 0..LANES {
            max[k] = bigger(max[k], c[k].widen());
        }
    }
    let mut m = tail
        .iter()
        .fold(<F::Acc as Acc>::NEG_INFINITY, |m, &v| bigger(m, v.widen()));
    m = max.iter().fold(m, |a, &b| bigger(a, b));
    let (mut sum_exp, mut sum_x) = ([zero; LANES], [zero; LANES]);
    for c in chunks {
        for k in 0..LANES {
            let v = c[k].widen();
            sum_exp[k] = sum_exp[k] + <F::Acc as Acc>::exp_nonpos(v - m);
            sum_x[k] = sum_x[k] + v;
        }
    }
    let (mut se, mut sx) = (zero, zero);
    for k in 0..LANES {
        se = se + sum_exp[k];
        sx = sx + sum_x[k];
    }
    for &v in tail {
        let v = v.widen();
        se = se + <F::Acc as Acc>::exp_nonpos(v - m);
        sx = sx + v;
    }
    (m, se.ln(), sx)
}

/// The tutorial's loss: `-ln(probs[n, labels[n]])`, by gather, then reduced.
/// `probs` are probabilities (e.g. a softmax output); ignored rows give 0 and
/// are not counted. Label smoothing is not defined on probabilities (torch's
/// `nll_loss` has none) and is ignored here.
///
/// ```
/// use fastgather::loss::{cross_entropy, LossOptions, Reduction};
/// use fastgather::TensorView;
/// let y_hat = TensorView::new(&[0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5], &[2, 3]).unwrap();
/// let y = TensorView::new(&[0i64, 2], &[2]).unwrap();
/// let per_row = cross_entropy(&y_hat, &y, &LossOptions::new().reduction(Reduction::None)).unwrap();
/// assert!((per_row.as_slice()[0] - 2.302585).abs() < 1e-6);
/// assert!((per_row.as_slice()[1] - 0.693147).abs() < 1e-6);
/// ```
pub fn cross_entropy<F: LossFloat, I: IndexElem>(
    probs: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let rows = Rows::new(probs, labels, opts)?;
    let picked = pick(&rows, opts)?;
    let losses = (0..rows.n)
        .map(|r| rows.label(r, opts).map(|_| -picked[r].widen().ln()))
        .collect();
    Ok(reduce::<F>(losses, opts.reduction))
}

/// `x.gather(1, y.view(-1, 1))`, with ignored labels replaced by class 0.
fn pick<F: LossFloat, I: IndexElem>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
) -> Result<Vec<F>, GatherError> {
    let y: Vec<i64> = (0..rows.n)
        .map(|r| rows.label(r, opts).map_or(0, |l| l as i64))
        .collect();
    if rows.c == 0 {
        return Ok(vec![F::default(); rows.n]);
    }
    let col = TensorView::new(&y, &[rows.n, 1])?;
    Ok(gather_with(rows.x, 1, &col, &GatherOptions::default())?.into_vec())
}

/// `log_softmax` along dim 1 of `[N, C]` logits, stable for any magnitude.
///
/// ```
/// use fastgather::loss::log_softmax;
/// use fastgather::TensorView;
/// let x = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let y = log_softmax(&x).unwrap();
/// assert!((y.as_slice()[0] + std::f64::consts::LN_2).abs() < 1e-12);
/// ```
pub fn log_softmax<F: LossFloat>(logits: &TensorView<'_, F>) -> Result<Tensor<F>, GatherError> {
    if logits.rank() != 2 {
        return Err(GatherError::InvalidViewOp {
            op: "log_softmax",
            reason: format!("expected [N, C] logits, got shape {:?}", logits.shape()),
        });
    }
    let (n, c) = (logits.shape()[0], logits.shape()[1]);
    // No labels: every row is a class row (`per_row` only reads labels of rows).
    let zeros = vec![0i64; n];
    let labels = TensorView::new(&zeros, &[n])?;
    let opts = LossOptions::new().no_ignore_index();
    let rows = Rows {
        x: logits,
        labels: &labels,
        n,
        c,
    };
    let out: Vec<Vec<F>> = per_row(&rows, &opts, |_, _, x| {
        let (max, lse, _) = row_stats::<F>(x);
        x.iter()
            .map(|&v| F::narrow(v.widen() - max - lse))
            .collect()
    });
    Tensor::from_vec(out.concat(), logits.shape())
}

/// torch's `nll_loss(log_probs, labels)`: `-log_probs[n, labels[n]]`, reduced.
///
/// ```
/// use fastgather::loss::{log_softmax, nll_loss, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[1.0f64, 2.0, 3.0], &[1, 3]).unwrap();
/// let y = TensorView::new(&[2i64], &[1]).unwrap();
/// let log_probs = log_softmax(&logits).unwrap();
/// let loss = nll_loss(&log_probs.view(), &y, &LossOptions::new()).unwrap();
/// assert!((loss.as_slice()[0] - 0.40760596444).abs() < 1e-9);
/// ```
pub fn nll_loss<F: LossFloat, I: IndexElem>(
    log_probs: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let rows = Rows::new(log_probs, labels, opts)?;
    let picked = pick(&rows, opts)?;
    let losses = (0..rows.n)
        .map(|r| rows.label(r, opts).map(|_| -picked[r].widen()))
        .collect();
    Ok(reduce::<F>(losses, opts.reduction))
}

/// torch's `cross_entropy(logits, labels)`, fused: one pass per row computes the
/// log-sum-exp (shifted by the row max, so logits of 1e4 are fine) and the loss
/// `lse - (1-ε)·x[label] - ε·mean(x)`.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_logits, LossOptions};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[1e4f32, 0.0, -1e4, 2.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 1], &[2]).unwrap();
/// let loss = cross_entropy_with_logits(&logits, &y, &LossOptions::new()).unwrap();
/// assert!((loss.as_slice()[0] - 5000.0).abs() < 1e-2);
/// ```
pub fn cross_entropy_with_logits<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let rows = Rows::new(logits, labels, opts)?;
    let eps = <F::Acc as Acc>::from_f64(opts.label_smoothing);
    let one = <F::Acc as Acc>::from_f64(1.0);
    let inv_c = <F::Acc as Acc>::from_f64(1.0 / rows.c as f64);
    let losses = per_row(&rows, opts, |_, label, x| {
        let label = label?;
        let (max, lse, sum_x) = row_stats::<F>(x);
        let lse = max + lse;
        let nll = lse - x[label].widen();
        let smooth = lse - sum_x * inv_c;
        Some((one - eps) * nll + eps * smooth)
    });
    Ok(reduce::<F>(losses, opts.reduction))
}

/// The gradient of [`cross_entropy_with_logits`] with respect to the logits,
/// given the gradient of the loss: a 0-d `grad_output` for `Mean`/`Sum`, `[N]` for
/// `None`. Row `n` is `g_n · (softmax(x_n) - target_n)` with
/// `target = (1-ε)·one_hot(label) + ε/C`; the one-hot part is put in place by
/// `scatter_add`. Ignored rows get zeros; `Mean` divides by the rows counted.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_logits_backward, LossOptions, Reduction};
/// use fastgather::TensorView;
/// let logits = TensorView::new(&[0.0f64, 0.0], &[1, 2]).unwrap();
/// let y = TensorView::new(&[1i64], &[1]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let g = TensorView::new(&[1.0f64], &[1]).unwrap();
/// let grad = cross_entropy_with_logits_backward(&logits, &y, &g, &opts).unwrap();
/// // softmax = [0.5, 0.5], minus the one-hot of label 1.
/// let want = [0.5, -0.5];
/// assert!(grad.as_slice().iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12));
/// ```
pub fn cross_entropy_with_logits_backward<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
) -> Result<Tensor<F>, GatherError> {
    let rows = Rows::new(logits, labels, opts)?;
    let expected: &[usize] = match opts.reduction {
        Reduction::None => &[rows.n],
        _ => &[],
    };
    if grad_output.shape() != expected {
        return Err(GatherError::OutShapeMismatch {
            expected: expected.to_vec(),
            actual: grad_output.shape().to_vec(),
        });
    }
    let counted = (0..rows.n)
        .filter(|&r| rows.label(r, opts).is_some())
        .count();
    let scale = match opts.reduction {
        Reduction::Mean => 1.0 / counted as f64,
        _ => 1.0,
    };
    let g = |r: usize| -> F::Acc {
        let v = match opts.reduction {
            Reduction::None => grad_output.get(&[r]),
            _ => grad_output.get(&[]),
        };
        <F::Acc as Acc>::from_f64(v.expect("inside grad_output").widen().to_f64() * scale)
    };
    let eps = opts.label_smoothing;
    let floor = <F::Acc as Acc>::from_f64(eps / rows.c as f64);
    let zero = <F::Acc as Acc>::from_f64(0.0);
    let mut grad = Tensor::full(&[rows.n, rows.c], F::narrow(zero))?;
    per_row_into(&rows, opts, grad.as_mut_slice(), |r, label, x, dst| {
        if label.is_none() {
            return;
        }
        let (max, lse, _) = row_stats::<F>(x);
        let (gr, shift) = (g(r), max + lse);
        for (o, &v) in dst.iter_mut().zip(x) {
            *o = F::narrow(gr * (<F::Acc as Acc>::exp_nonpos(v.widen() - shift) - floor));
        }
    });
    // The one-hot part: grad[n, label_n] -= g_n · (1 - ε), by scatter_add.
    let (idx, delta): (Vec<i64>, Vec<F>) = (0..rows.n)
        .map(|r| match rows.label(r, opts) {
            Some(l) => (
                l as i64,
                F::narrow(-g(r) * <F::Acc as Acc>::from_f64(1.0 - eps)),
            ),
            None => (0, F::narrow(zero)),
        })
        .unzip();
    if rows.c > 0 {
        let idx = TensorView::new(&idx, &[rows.n, 1])?;
        let delta = TensorView::new(&delta, &[rows.n, 1])?;
        scatter_add_into(&mut grad.view_mut(), 1, &idx, &delta)?;
    }
    Ok(grad)
}

/// Gather's backward: the gradient of `gather(src, dim, index)` with respect to
/// `src`, given `grad_output` (the index's shape): zeros of `src_shape` with
/// `scatter_add(dim, index, grad_output)` applied.
///
/// ```
/// use fastgather::loss::gather_backward;
/// use fastgather::TensorView;
/// let idx = TensorView::new(&[1i64, 1, 0], &[3]).unwrap();
/// let g = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
/// assert_eq!(gather_backward(&g, 0, &idx, &[2]).unwrap().as_slice(), &[3.0, 3.0]);
/// ```
pub fn gather_backward<F: Accumulate + Default, I: IndexElem>(
    grad_output: &TensorView<'_, F>,
    dim: isize,
    index: &TensorView<'_, I>,
    src_shape: &[usize],
) -> Result<Tensor<F>, GatherError> {
    let mut grad = Tensor::full(src_shape, F::default())?;
    scatter_add_into(&mut grad.view_mut(), dim, index, grad_output)?;
    Ok(grad)
}
