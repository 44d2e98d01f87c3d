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
use crate::view::{try_vec, Tensor, TensorView, TensorViewMut};

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
    /// Whether `narrow` is exact (the type is its own `Acc`), so that
    /// intermediate results may be parked in the output.
    #[doc(hidden)]
    const EXACT: bool = false;
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
/// below 2e-8 on that interval) and `2^n` built in the exponent bits. Every step
/// is a plain float or bit operation (no conversion, no branch), so the loops
/// that call it compile to vector code. Meant for `x <= 0`: arguments below
/// -87.3 give 0 (their true value is under f32's normal range), `-inf` gives 0,
/// NaN stays NaN.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that `n · LN2_HI` is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5·2^23: adding it rounds to the nearest integer, which then sits in the
    // low mantissa bits of the sum.
    const ROUND: f32 = 12_582_912.0;
    let underflow = x < -87.3;
    // Written as a comparison (not `max`) so that NaN passes through.
    let x = if underflow { -87.3 } else { x };
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^n for n in -126..=1: the biased exponent `n + 127` in bits 23-30.
    let n_bits = t.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    if underflow {
        0.0
    } else {
        p * scale
    }
}

impl LossFloat for f32 {
    type Acc = f32;
    const EXACT: bool = true;
    fn widen(self) -> f32 {
        self
    }
    fn narrow(a: f32) -> Self {
        a
    }
}

impl LossFloat for f64 {
    type Acc = f64;
    const EXACT: bool = true;
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
        // Labels broadcast along the rows (stride 0) are one value: checking
        // it once keeps a huge expanded view from costing a pass over it.
        let distinct = if self.labels.strides()[0] == 0 {
            self.n.min(1)
        } else {
            self.n
        };
        for r in 0..distinct {
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
/// row order (in a buffer allocated fallibly, before any row runs).
fn per_row<F, I, T>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
    f: impl Fn(usize, Option<usize>, &[F]) -> T + Sync,
) -> Result<Vec<T>, GatherError>
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
    let mut out = try_vec(rows.n)?;
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if rows.n.saturating_mul(rows.c) >= 1 << 15 {
            // `out` already holds room for every row: no allocation here.
            (0..rows.n)
                .into_par_iter()
                .map_init(Vec::new, |scratch, r| one(r, scratch))
                .collect_into_vec(&mut out);
            return Ok(out);
        }
    }
    let mut scratch = Vec::new();
    out.extend((0..rows.n).map(|r| one(r, &mut scratch)));
    Ok(out)
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
        if rows.n.saturating_mul(rows.c) >= 1 << 15 {
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

/// The reduced loss of `n` rows that are all ignored, as [`reduce`] gives it
/// (zeros, a sum of 0, a mean of NaN), without a pass or a buffer per row.
/// With no class (`C == 0`) every row is: [`Rows::new`] lets no other label
/// through.
fn all_ignored<F: LossFloat>(n: usize, reduction: Reduction) -> Result<Tensor<F>, GatherError> {
    match reduction {
        Reduction::None => Tensor::zeros(&[n]),
        _ => reduce::<F>(Vec::new(), reduction),
    }
}

/// Combines per-row losses (`None` for ignored rows) by `reduction`.
fn reduce<F: LossFloat>(
    losses: Vec<Option<F::Acc>>,
    reduction: Reduction,
) -> Result<Tensor<F>, GatherError> {
    Ok(match reduction {
        Reduction::None => {
            let n = losses.len();
            let mut v = try_vec(n)?;
            v.extend(
                losses
                    .into_iter()
                    .map(|l| F::narrow(l.unwrap_or(<F::Acc as Acc>::from_f64(0.0)))),
            );
            Tensor::from_vec(v, &[n])?
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
    })
}

/// One row's work, run by [`on_widest`] in the widest vector unit the CPU has.
///
/// The row loops keep their partial results in [`Chains`], a shape the compiler
/// vectorizes without reordering any sum; inlined into a `target_feature`
/// function they become AVX-512 or AVX2 code, and every path returns the same
/// bits. (A trait rather than a closure, so that inlining is guaranteed.)
trait RowOp {
    type Out;
    fn run(self) -> Self::Out;
}

#[inline(always)]
fn on_widest<O: RowOp>(op: O) -> O::Out {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::isa::Isa;
        match Isa::best() {
            // SAFETY: `best()` names AVX-512 only where the CPU has it.
            Isa::Avx512 => return unsafe { on_avx512(op) },
            // SAFETY: `best()` names AVX2 only where the CPU has it.
            Isa::Avx2 => return unsafe { on_avx2(op) },
            _ => {}
        }
    }
    op.run()
}

/// # Safety
/// The CPU has AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn on_avx512<O: RowOp>(op: O) -> O::Out {
    op.run()
}

/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn on_avx2<O: RowOp>(op: O) -> O::Out {
    op.run()
}

/// Row statistics of the logits: max, `ln Σ exp(x - max)` and `Σ x`.
struct Stats<'r, F>(&'r [F]);

impl<F: LossFloat> RowOp for Stats<'_, F> {
    type Out = (F::Acc, F::Acc, F::Acc);
    #[inline(always)]
    fn run(self) -> Self::Out {
        row_stats(self.0)
    }
}

/// `dst = x - (max + lse)`: one row of `log_softmax`.
struct LogSoftmax<'r, F> {
    x: &'r [F],
    dst: &'r mut [F],
}

impl<F: LossFloat> RowOp for LogSoftmax<'_, F> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        let (max, lse, _) = row_stats::<F>(self.x);
        let shift = max + lse;
        for (o, &v) in self.dst.iter_mut().zip(self.x) {
            *o = F::narrow(v.widen() - shift);
        }
    }
}

/// `dst = g · (softmax(x) - floor)`: one row of the cross-entropy gradient
/// before its one-hot part.
struct SoftmaxGrad<'r, F: LossFloat> {
    x: &'r [F],
    dst: &'r mut [F],
    g: F::Acc,
    floor: F::Acc,
}

impl<F: LossFloat> RowOp for SoftmaxGrad<'_, F> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        let (x, dst, g) = (self.x, self.dst, self.g);
        let g_floor = g * self.floor;
        if !F::EXACT {
            let (max, lse, _) = row_stats::<F>(x);
            let shift = max + lse;
            for (o, &v) in dst.iter_mut().zip(x) {
                let p = <F::Acc as Acc>::exp_nonpos(v.widen() - shift);
                *o = F::narrow(g * p - g_floor);
            }
            return;
        }
        // Each exponential is computed once, parked in `dst` (exact for this
        // type), summed, then scaled in place while the row is still in L1.
        let zero = <F::Acc as Acc>::from_f64(0.0);
        let add = |a: F::Acc, b: F::Acc| a + b;
        let m = row_max(x);
        let mut sum = Chains::splat(zero);
        let mut blocks = dst.chunks_exact_mut(BLOCK);
        for (d, c) in (&mut blocks).zip(x.chunks_exact(BLOCK)) {
            for (o, &v) in d.iter_mut().zip(c) {
                *o = F::narrow(<F::Acc as Acc>::exp_nonpos(v.widen() - m));
            }
            sum.update(d, |s, e: F| s + e.widen());
        }
        let mut tail = [zero; BLOCK];
        for (k, o) in blocks.into_remainder().iter_mut().enumerate() {
            tail[k] = <F::Acc as Acc>::exp_nonpos(x[x.len() / BLOCK * BLOCK + k].widen() - m);
            *o = F::narrow(tail[k]);
        }
        sum.update(&tail, add);
        let scale = g / sum.fold(add);
        for o in dst.iter_mut() {
            *o = F::narrow(o.widen() * scale - g_floor);
        }
    }
}

/// Partial results of a row loop: four 16-lane vectors, enough independent
/// chains to hide the latency of each add and compare. They are four separate
/// arrays, each updated at fixed positions, so that they stay in registers.
#[derive(Clone, Copy)]
struct Chains<A>([[A; LANES]; CHAINS]);

const LANES: usize = 16;
const CHAINS: usize = 4;
const BLOCK: usize = LANES * CHAINS;

impl<A: Copy> Chains<A> {
    #[inline(always)]
    fn splat(a: A) -> Self {
        Self([[a; LANES]; CHAINS])
    }

    /// Folds `BLOCK` values in: value `i` goes to chain `i / LANES`, lane `i % LANES`.
    #[inline(always)]
    fn update<V: Copy>(&mut self, block: &[V], f: impl Fn(A, V) -> A) {
        let [c0, c1, c2, c3] = &mut self.0;
        let (b0, rest) = block[..BLOCK].split_at(LANES);
        let (b1, rest) = rest.split_at(LANES);
        let (b2, b3) = rest.split_at(LANES);
        for k in 0..LANES {
            c0[k] = f(c0[k], b0[k]);
            c1[k] = f(c1[k], b1[k]);
            c2[k] = f(c2[k], b2[k]);
            c3[k] = f(c3[k], b3[k]);
        }
    }

    /// Reduces to one value in a fixed tree (chains pairwise, then lanes by
    /// halves): it vectorizes, and is the same on every path.
    #[inline(always)]
    fn fold(self, f: impl Fn(A, A) -> A) -> A {
        let [c0, c1, c2, c3] = self.0;
        let mut a = [c0[0]; LANES];
        for k in 0..LANES {
            a[k] = f(f(c0[k], c1[k]), f(c2[k], c3[k]));
        }
        let mut half = LANES / 2;
        while half > 0 {
            for k in 0..half {
                a[k] = f(a[k], a[k + half]);
            }
            half /= 2;
        }
        a[0]
    }
}

/// The largest value of a row (`-inf` for an empty row). It need not see NaN:
/// a NaN logit makes its `exp` term, and so the row's log-sum-exp, its loss and
/// its softmax, NaN (as in torch).
#[inline(always)]
fn row_max<F: LossFloat>(x: &[F]) -> F::Acc {
    let neg_inf = <F::Acc as Acc>::NEG_INFINITY;
    let bigger = |m: F::Acc, v: F::Acc| if v > m { v } else { m };
    let chunks = x.chunks_exact(BLOCK);
    let mut tail = [neg_inf; BLOCK];
    for (k, &v) in chunks.remainder().iter().enumerate() {
        tail[k] = v.widen();
    }
    let mut max = Chains::splat(neg_inf);
    for c in chunks {
        max.update(c, |m, v: F| bigger(m, v.widen()));
    }
    max.update(&tail, bigger);
    max.fold(bigger)
}

/// Row statistics of the logits: max, `ln Σ exp(x - max)` and `Σ x`.
///
/// The last partial block is padded (with `-inf`, whose exponential is 0, and
/// with 0 for the sum), so every element goes through the vector loop.
#[inline(always)]
fn row_stats<F: LossFloat>(x: &[F]) -> (F::Acc, F::Acc, F::Acc) {
    let zero = <F::Acc as Acc>::from_f64(0.0);
    let neg_inf = <F::Acc as Acc>::NEG_INFINITY;
    let chunks = x.chunks_exact(BLOCK);
    let (mut tail_x, mut tail_e) = ([zero; BLOCK], [neg_inf; BLOCK]);
    for (k, &v) in chunks.remainder().iter().enumerate() {
        (tail_x[k], tail_e[k]) = (v.widen(), v.widen());
    }
    let m = row_max(x);
    let exp_term = |s: F::Acc, v: F::Acc| s + <F::Acc as Acc>::exp_nonpos(v - m);
    let add = |a: F::Acc, b: F::Acc| a + b;
    let (mut sum_exp, mut sum_x) = (Chains::splat(zero), Chains::splat(zero));
    for c in chunks {
        sum_exp.update(c, |s, v: F| exp_term(s, v.widen()));
        sum_x.update(c, |s, v: F| s + v.widen());
    }
    sum_exp.update(&tail_e, exp_term);
    sum_x.update(&tail_x, add);
    (m, sum_exp.fold(add).ln(), sum_x.fold(add))
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
    if rows.c == 0 {
        return all_ignored(rows.n, opts.reduction);
    }
    let picked = pick(&rows, opts)?;
    let mut losses = try_vec(rows.n)?;
    losses.extend((0..rows.n).map(|r| rows.label(r, opts).map(|_| -picked[r].widen().ln())));
    reduce::<F>(losses, opts.reduction)
}

/// `x.gather(1, y.view(-1, 1))`, with ignored labels replaced by class 0.
fn pick<F: LossFloat, I: IndexElem>(
    rows: &Rows<'_, '_, F, I>,
    opts: &LossOptions,
) -> Result<Vec<F>, GatherError> {
    if rows.c == 0 {
        // Every row is ignored (no label is a class): nothing to pick.
        let mut picked = try_vec(rows.n)?;
        picked.resize(rows.n, F::default());
        return Ok(picked);
    }
    let mut y = try_vec(rows.n)?;
    y.extend((0..rows.n).map(|r| rows.label(r, opts).map_or(0, |l| l as i64)));
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
    if logits.is_empty() {
        // No element: nothing to compute, and `N` may be any size, even one
        // that no labels view could have.
        return Tensor::zeros(logits.shape());
    }
    let (n, c) = (logits.shape()[0], logits.shape()[1]);
    // No labels: every row is a class row (`per_row` only reads labels of
    // rows). One zero broadcast over the rows, so nothing is sized by `n`.
    let zero = [0i64];
    let labels = TensorView::with_strides(&zero, &[n], &[0], 0)?;
    let opts = LossOptions::new().no_ignore_index();
    let rows = Rows {
        x: logits,
        labels: &labels,
        n,
        c,
    };
    let mut out = Tensor::zeros(logits.shape())?;
    per_row_into(&rows, &opts, out.as_mut_slice(), |_, _, x, dst| {
        on_widest(LogSoftmax { x, dst })
    });
    Ok(out)
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
    if rows.c == 0 {
        return all_ignored(rows.n, opts.reduction);
    }
    let picked = pick(&rows, opts)?;
    let mut losses = try_vec(rows.n)?;
    losses.extend((0..rows.n).map(|r| rows.label(r, opts).map(|_| -picked[r].widen())));
    reduce::<F>(losses, opts.reduction)
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
    if rows.c == 0 {
        return all_ignored(rows.n, opts.reduction);
    }
    let eps = <F::Acc as Acc>::from_f64(opts.label_smoothing);
    let one = <F::Acc as Acc>::from_f64(1.0);
    let inv_c = <F::Acc as Acc>::from_f64(1.0 / rows.c as f64);
    let losses = per_row(&rows, opts, |_, label, x| {
        let label = label?;
        let (max, lse, sum_x) = on_widest(Stats(x));
        let lse = max + lse;
        let nll = lse - x[label].widen();
        if opts.label_smoothing == 0.0 {
            // Not `nll + 0·smooth`: a `-inf` logit makes `smooth` infinite,
            // and the loss must stay finite, as torch's does.
            return Some(nll);
        }
        let smooth = lse - sum_x * inv_c;
        Some((one - eps) * nll + eps * smooth)
    })?;
    reduce::<F>(losses, opts.reduction)
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
    // Zeroed pages from the allocator: the rows below are their first write.
    let mut grad = Tensor::zeros(logits.shape())?;
    cross_entropy_with_logits_backward_into(
        logits,
        labels,
        grad_output,
        opts,
        &mut grad.view_mut(),
    )?;
    Ok(grad)
}

/// [`cross_entropy_with_logits_backward`] into a caller's `[N, C]` buffer, which
/// a training loop reuses from step to step: every element of `grad` is
/// written (ignored rows with zeros). A fresh buffer of the benchmark's size
/// (262 MB) costs more in page faults than the whole gradient computation, so
/// this is the form to call in a loop. `grad` may have any strides; contiguous
/// rows are written in place, other layouts through a row-major copy.
///
/// On an error `grad` is untouched.
///
/// ```
/// use fastgather::loss::{cross_entropy_with_logits_backward_into, LossOptions, Reduction};
/// use fastgather::{TensorView, TensorViewMut};
/// let logits = TensorView::new(&[0.0f32, 0.0, 5.0, 5.0], &[2, 2]).unwrap();
/// let y = TensorView::new(&[1i64, 0], &[2]).unwrap();
/// let g = TensorView::new(&[1.0f32, 2.0], &[2]).unwrap();
/// let opts = LossOptions::new().reduction(Reduction::None);
/// let mut buf = [9.0f32; 4]; // stale values from the last step
/// let mut grad = TensorViewMut::new(&mut buf, &[2, 2]).unwrap();
/// cross_entropy_with_logits_backward_into(&logits, &y, &g, &opts, &mut grad).unwrap();
/// assert_eq!(buf, [0.5, -0.5, -1.0, 1.0]);
/// ```
pub fn cross_entropy_with_logits_backward_into<F: LossFloat, I: IndexElem>(
    logits: &TensorView<'_, F>,
    labels: &TensorView<'_, I>,
    grad_output: &TensorView<'_, F>,
    opts: &LossOptions,
    grad: &mut TensorViewMut<'_, F>,
) -> Result<(), GatherError> {
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
    if grad.shape() != logits.shape() {
        return Err(GatherError::OutShapeMismatch {
            expected: logits.shape().to_vec(),
            actual: grad.shape().to_vec(),
        });
    }
    if rows.n == 0 || rows.c == 0 {
        return Ok(());
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
    let softmax_part = |dst: &mut [F]| {
        per_row_into(&rows, opts, dst, |r, label, x, dst| match label {
            Some(_) => on_widest(SoftmaxGrad {
                x,
                dst,
                g: g(r),
                floor,
            }),
            None => dst.fill(F::default()),
        })
    };
    if grad.is_contiguous() {
        let start = grad.offset();
        softmax_part(&mut grad.data_mut()[start..start + rows.n * rows.c]);
    } else {
        let mut dense = Tensor::zeros(grad.shape())?;
        softmax_part(dense.as_mut_slice());
        for (r, row) in dense.as_slice().chunks(rows.c).enumerate() {
            for (k, &v) in row.iter().enumerate() {
                *grad.get_mut(&[r, k]).expect("inside grad") = v;
            }
        }
    }
    // The one-hot part: grad[n, label_n] -= g_n · (1 - ε), by scatter_add.
    let (mut idx, mut delta) = (try_vec(rows.n)?, try_vec(rows.n)?);
    for r in 0..rows.n {
        let (i, v) = match rows.label(r, opts) {
            Some(l) => (
                l as i64,
                F::narrow(-g(r) * <F::Acc as Acc>::from_f64(1.0 - eps)),
            ),
            None => (0, F::default()),
        };
        idx.push(i);
        delta.push(v);
    }
    let idx = TensorView::new(&idx, &[rows.n, 1])?;
    let delta = TensorView::new(&delta, &[rows.n, 1])?;
    scatter_add_into(grad, 1, &idx, &delta)
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
    let mut grad = Tensor::zeros(src_shape)?;
    scatter_add_into(&mut grad.view_mut(), dim, index, grad_output)?;
    Ok(grad)
}

#[cfg(test)]
mod tests {
    use super::exp_f32;

    /// The vectorizable exponential against f64's, across its whole domain.
    #[test]
    fn exp_f32_is_accurate() {
        let mut worst = 0.0f64;
        for k in 0..=2_000_000u32 {
            let x = -87.3f32 * k as f32 / 2_000_000.0;
            let want = (x as f64).exp();
            let got = exp_f32(x) as f64;
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-87.4), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }
}
