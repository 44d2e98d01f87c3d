//! The float types the losses compute in, and the arithmetic their row
//! kernels need.

use crate::element::Accumulate;

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
    if underflow { 0.0 } else { p * scale }
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
