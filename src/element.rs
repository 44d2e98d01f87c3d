//! The one place that reinterprets elements by byte width.
//!
//! Gather only copies elements, so a `T` of width 1, 2, 4, 8 or 16 bytes is moved
//! as `[u8; W]`: one kernel body per width serves every dtype. Other widths
//! (odd-sized `Pod` structs, zero-sized types) run the kernels on `T` itself.

/// An element type gather can move: any type without padding or uninitialized
/// bytes (every `bytemuck::Pod` type, `bool`, `char`, ...).
///
/// Its bytes are copied verbatim, so every value that arrives in the output was
/// a valid value in the source: NaN payloads and `-0.0` survive.
///
/// Implemented for every `bytemuck::NoUninit + Send + Sync` type; code generic
/// over the element writes `T: fastgather::Element` (not `T: Copy`, which is not
/// enough). A type of your own qualifies by implementing
/// [`bytemuck::NoUninit`], re-exported as `fastgather::bytemuck` so no extra
/// dependency is needed: an `unsafe impl` whose safety argument is that the type
/// is `Copy + 'static`, has no padding and every field is `NoUninit`, or, with
/// bytemuck's `derive` feature enabled in your own `Cargo.toml`,
/// `#[derive(NoUninit)]` (which checks this at compile time; through the
/// re-export, add `#[bytemuck(crate = "fastgather::bytemuck")]`).
///
/// ```
/// use fastgather::{gather, TensorView};
/// // An RGBA pixel: 4 bytes, moved by the 4-byte kernels like an f32.
/// let pixels = [[255u8, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]];
/// let src = TensorView::new(&pixels, &[3]).unwrap();
/// let idx = TensorView::new(&[2i64, 2, 0], &[3]).unwrap();
/// let out = gather(&src, 0, &idx).unwrap();
/// assert_eq!(out.as_slice(), &[pixels[2], pixels[2], pixels[0]]);
/// // Bits survive: a NaN's payload and the sign of zero.
/// let odd = [f64::from_bits(0x7ff8_0000_dead_beef), -0.0];
/// let src = TensorView::new(&odd, &[2]).unwrap();
/// let out = gather(&src, 0, &TensorView::new(&[0i64, 1], &[2]).unwrap()).unwrap();
/// assert_eq!(out.as_slice()[0].to_bits(), 0x7ff8_0000_dead_beef);
/// assert!(out.as_slice()[1].is_sign_negative());
/// ```
///
/// A type of your own, and code generic over the element:
///
/// ```
/// use fastgather::{bytemuck, gather, Element, Tensor, TensorView};
///
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// #[repr(C)]
/// struct Rgb {
///     r: u8,
///     g: u8,
///     b: u8,
/// }
/// // SAFETY: `Rgb` is `Copy + 'static` and `repr(C)` with three `u8` fields:
/// // no padding, and every field is `NoUninit`.
/// unsafe impl bytemuck::NoUninit for Rgb {}
///
/// fn reversed<T: Element>(v: &[T]) -> Tensor<T> {
///     let idx: Vec<i64> = (0..v.len() as i64).rev().collect();
///     let src = TensorView::new(v, &[v.len()]).unwrap();
///     gather(&src, 0, &TensorView::new(&idx, &[v.len()]).unwrap()).unwrap()
/// }
/// let px = [Rgb { r: 1, g: 2, b: 3 }, Rgb { r: 4, g: 5, b: 6 }];
/// assert_eq!(reversed(&px).as_slice(), &[px[1], px[0]]);
/// ```
///
/// `T: Copy` is not enough, and the compiler says what to write instead:
///
/// ```compile_fail,E0277
/// use fastgather::{gather, Tensor, TensorView};
/// fn first<T: Copy>(src: &TensorView<'_, T>) -> Tensor<T> {
///     let idx = TensorView::new(&[0i64], &[1]).unwrap();
///     gather(src, 0, &idx).unwrap() // error: `T` is not a fastgather element
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fastgather element",
    label = "not a `fastgather::Element`",
    note = "for a generic element type, write `T: fastgather::Element` (`Copy` is not enough)",
    note = "elements are the types without padding or uninitialized bytes that are `Send + Sync`: \
            integers, floats, `bool`, `char`, arrays of them, and types implementing \
            `fastgather::bytemuck::NoUninit` (see the docs of `Element` for your own types)"
)]
pub trait Element: bytemuck::NoUninit + Send + Sync {}
// `do_not_recommend`: where the bound fails, the error names `Element` (and its
// note above) rather than this impl's `NoUninit`, `Send` and `Sync` bounds.
#[diagnostic::do_not_recommend]
impl<T: bytemuck::NoUninit + Send + Sync> Element for T {}

/// The width dispatch sees for `T`: its size if a byte-width kernel serves it,
/// else 0 (kernels run on `T` itself).
pub(crate) const fn kernel_width<T>() -> usize {
    match size_of::<T>() {
        w @ (1 | 2 | 4 | 8 | 16) => w,
        _ => 0,
    }
}

/// Element types `scatter_add` can sum: integers add wrapping (as torch's do),
/// floats in their own precision (with the `half` feature, `f16` and `bf16` too,
/// summed in `f32` and rounded once per element, as torch 2.15 does).
///
/// ```
/// use fastgather::Accumulate;
/// assert_eq!(250u8.accumulate(10), 4); // wrapping, as torch's uint8
/// assert_eq!(0.5f32.accumulate(0.25), 0.75);
/// ```
///
/// # Implementing it
///
/// Not sealed: a type of your own may implement it, and safety never depends
/// on what `accumulate` returns (it is safe code, called by value; the kernels
/// only store its result). The contract is about results, not soundness:
///
/// - `accumulate` should be a pure function of its two arguments. Each
///   destination element receives its sums in row-major order of the index, on
///   one thread, so results are bit-identical on any number of threads only if
///   `accumulate` is deterministic; associativity is *not* assumed.
/// - It may be called from any rayon thread (elements are `Send + Sync`).
/// - If it panics, the panic reaches the caller and the destination is left
///   partly updated (every element still holds a valid value of the type).
/// - [`bytemuck::Zeroable`]'s all-zero value should be the additive identity,
///   so that a sum can start from [`Tensor::zeros`](crate::Tensor::zeros), as
///   torch's `zeros(..).scatter_add_(..)` does.
///
/// ```
/// use fastgather::{bytemuck, scatter_add, Accumulate, TensorView};
///
/// /// A saturating 8-bit counter.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// #[repr(transparent)]
/// struct Sat(u8);
/// // SAFETY: `repr(transparent)` over a `u8`: no padding, all-zero is valid.
/// unsafe impl bytemuck::Zeroable for Sat {}
/// // SAFETY: as above; `Sat` is `Copy + 'static`.
/// unsafe impl bytemuck::NoUninit for Sat {}
/// impl Accumulate for Sat {
///     fn accumulate(self, other: Self) -> Self {
///         Sat(self.0.saturating_add(other.0))
///     }
/// }
///
/// let zero = TensorView::new(&[Sat(250), Sat(0)], &[2]).unwrap();
/// let idx = TensorView::new(&[0i64, 0, 1], &[3]).unwrap();
/// let add = TensorView::new(&[Sat(4), Sat(4), Sat(1)], &[3]).unwrap();
/// let out = scatter_add(&zero, 0, &idx, &add).unwrap();
/// assert_eq!(out.as_slice(), &[Sat(255), Sat(1)]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be summed by fastgather's `scatter_add`",
    label = "not a `fastgather::Accumulate`",
    note = "for a generic summable element, write `T: fastgather::Accumulate`",
    note = "implemented for the integers (wrapping), `f32`, `f64`, and with the `half` \
            feature `f16` and `bf16`; a type of your own may implement it (see its docs)"
)]
pub trait Accumulate: Element + bytemuck::Zeroable {
    /// `self + other`.
    fn accumulate(self, other: Self) -> Self;

    /// How `scatter_add` (and `put` with `accumulate`) sums many values of this
    /// type: `None`, one [`accumulate`](Accumulate::accumulate) at a time (the
    /// default); `f16` and `bf16` sum in `f32` and round once per element, as
    /// torch 2.15 does. Internal to fastgather: a type of your own keeps the
    /// default.
    #[doc(hidden)]
    fn scatter_add_wide<I: crate::IndexElem>(
        _dest: &mut crate::TensorViewMut<'_, Self>,
        _dim: usize,
        _index: &crate::TensorView<'_, I>,
        _src: &crate::TensorView<'_, Self>,
        _opts: &crate::GatherOptions,
    ) -> Option<Result<(), crate::GatherError>> {
        None
    }
}

macro_rules! accumulate_int {
    ($($t:ty),*) => {$(
        impl Accumulate for $t {
            #[inline(always)]
            fn accumulate(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
        }
    )*};
}
accumulate_int!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl Accumulate for f32 {
    #[inline(always)]
    fn accumulate(self, other: Self) -> Self {
        self + other
    }
}

impl Accumulate for f64 {
    #[inline(always)]
    fn accumulate(self, other: Self) -> Self {
        self + other
    }
}

#[cfg(feature = "half")]
impl Accumulate for half::f16 {
    /// One sum, computed in f32 and rounded to f16.
    #[inline(always)]
    fn accumulate(self, other: Self) -> Self {
        half::f16::from_f32(self.to_f32() + other.to_f32())
    }

    fn scatter_add_wide<I: crate::IndexElem>(
        dest: &mut crate::TensorViewMut<'_, Self>,
        dim: usize,
        index: &crate::TensorView<'_, I>,
        src: &crate::TensorView<'_, Self>,
        opts: &crate::GatherOptions,
    ) -> Option<Result<(), crate::GatherError>> {
        let sum = (crate::Reduction::Sum, true);
        Some(crate::scatter_reduce::reduce_widened(
            dest, dim, index, src, sum, opts,
        ))
    }
}

#[cfg(feature = "half")]
impl Accumulate for half::bf16 {
    /// One sum, computed in f32 and rounded to bf16.
    #[inline(always)]
    fn accumulate(self, other: Self) -> Self {
        half::bf16::from_f32(self.to_f32() + other.to_f32())
    }

    fn scatter_add_wide<I: crate::IndexElem>(
        dest: &mut crate::TensorViewMut<'_, Self>,
        dim: usize,
        index: &crate::TensorView<'_, I>,
        src: &crate::TensorView<'_, Self>,
        opts: &crate::GatherOptions,
    ) -> Option<Result<(), crate::GatherError>> {
        let sum = (crate::Reduction::Sum, true);
        Some(crate::scatter_reduce::reduce_widened(
            dest, dim, index, src, sum, opts,
        ))
    }
}

/// An element `scatter_reduce` and `index_reduce` can reduce: [`Accumulate`]'s
/// sum, and a product, a maximum, a minimum and a mean, each as torch's CPU
/// kernels compute them one step at a time.
///
/// - Integers wrap (sum, product, count) and their mean is floor division.
/// - Floats round at every step; `f16` and `bf16` compute each step in `f32` and
///   round back, as torch does.
/// - [`maximum`](Reduce::maximum) and [`minimum`](Reduce::minimum) return
///   `other` when it is NaN, else keep `self` unless `other` is strictly beyond
///   it: a NaN anywhere in a reduction wins, and between `-0.0` and `+0.0` the
///   first one stays.
///
/// ```
/// use fastgather::Reduce;
/// assert_eq!(7i32.mean(2), 3);
/// assert_eq!((-7i32).mean(2), -4); // floor, as torch's `div(.., rounding_mode="floor")`
/// assert!(1.0f32.maximum(f32::NAN).is_nan());
/// assert!(f32::NAN.maximum(1.0).is_nan());
/// assert!((-0.0f32).maximum(0.0).is_sign_negative());
/// ```
pub trait Reduce: Accumulate {
    /// The type a reduction of `Self` values is carried in: `f32` for `f16`
    /// and `bf16` (torch's CPU scatters accumulate halves in `f32` and round
    /// once per element), `Self` for every other type.
    type Acc: Reduce<Acc = Self::Acc>;
    /// `self` in the accumulation type (exact).
    fn widen(self) -> Self::Acc;
    /// A result back from the accumulation type (rounded once).
    fn narrow(acc: Self::Acc) -> Self;
    /// The start of a product with `include_self = false`: one.
    const ONE: Self;
    /// The start of a maximum with `include_self = false`: `-inf` for floats,
    /// the smallest value for integers.
    const LOWEST: Self;
    /// The start of a minimum with `include_self = false`: `+inf` for floats,
    /// the largest value for integers.
    const HIGHEST: Self;
    /// `self * other`.
    fn product(self, other: Self) -> Self;
    /// torch's `amax` step.
    fn maximum(self, other: Self) -> Self;
    /// torch's `amin` step.
    fn minimum(self, other: Self) -> Self;
    /// A sum divided by a count of values (itself summed in `Self`, never zero).
    fn mean(self, count: Self) -> Self;
    /// `self + x * alpha`, rounded once (torch's `index_add` on tensors of
    /// rank 2 and up).
    fn add_fused(self, x: Self, alpha: Self) -> Self;
    /// `n` ones summed one at a time in `Self`, from zero: integers wrap,
    /// floats stop where adding one no longer changes the sum (`2^24` in
    /// `f32`, `2048` in `f16`). A mean's count, as torch sums it.
    fn count(n: u64) -> Self;

    /// An embedding bag's sum back from the accumulation type, rounded as
    /// torch's bag kernels (FBGEMM) round it: as [`narrow`](Reduce::narrow),
    /// except `bf16`, rounded half away from zero. Internal to fastgather.
    #[doc(hidden)]
    #[inline(always)]
    fn bag_narrow(acc: Self::Acc) -> Self {
        Self::narrow(acc)
    }

    /// `acc + x * w` for an embedding bag's weighted row, as torch rounds it:
    /// once (a fused multiply-add), except `f64`, rounded twice. Internal to
    /// fastgather.
    #[doc(hidden)]
    #[inline(always)]
    fn bag_weighted(acc: Self::Acc, x: Self, w: Self) -> Self::Acc {
        acc.add_fused(x.widen(), w.widen())
    }

    /// The mean of no values: NaN for floats (torch's `0 / 0`), 0 for
    /// integers. Internal to fastgather.
    #[doc(hidden)]
    #[inline(always)]
    fn empty_mean() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

macro_rules! reduce_int {
    ($($t:ty),*) => {$(
        impl Reduce for $t {
            type Acc = Self;
            #[inline(always)]
            fn widen(self) -> Self {
                self
            }
            #[inline(always)]
            fn narrow(acc: Self) -> Self {
                acc
            }
            const ONE: Self = 1;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            #[inline(always)]
            fn product(self, other: Self) -> Self {
                self.wrapping_mul(other)
            }
            #[inline(always)]
            fn maximum(self, other: Self) -> Self {
                self.max(other)
            }
            #[inline(always)]
            fn minimum(self, other: Self) -> Self {
                self.min(other)
            }
            #[inline(always)]
            fn add_fused(self, x: Self, alpha: Self) -> Self {
                self.wrapping_add(x.wrapping_mul(alpha))
            }
            #[inline(always)]
            fn count(n: u64) -> Self {
                // Truncation is the wrapped sum.
                n as Self
            }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn mean(self, count: Self) -> Self {
                let q = self.wrapping_div(count);
                // Floor: a remainder with the divisor's opposite sign steps down.
                if self.wrapping_rem(count) != 0 && ((self < 0) != (count < 0)) {
                    q.wrapping_sub(1)
                } else {
                    q
                }
            }
        }
    )*};
}
reduce_int!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

macro_rules! reduce_float {
    ($($t:ty: $fused:expr),*) => {$(
        impl Reduce for $t {
            type Acc = Self;
            #[inline(always)]
            fn widen(self) -> Self {
                self
            }
            #[inline(always)]
            fn narrow(acc: Self) -> Self {
                acc
            }
            const ONE: Self = 1.0;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            #[inline(always)]
            fn product(self, other: Self) -> Self {
                self * other
            }
            #[inline(always)]
            fn maximum(self, other: Self) -> Self {
                if other.is_nan() || self < other { other } else { self }
            }
            #[inline(always)]
            fn minimum(self, other: Self) -> Self {
                if other.is_nan() || other < self { other } else { self }
            }
            #[inline(always)]
            fn mean(self, count: Self) -> Self {
                self / count
            }
            #[inline(always)]
            fn add_fused(self, x: Self, alpha: Self) -> Self {
                x.mul_add(alpha, self)
            }
            #[inline(always)]
            fn count(n: u64) -> Self {
                n.min(1 << <$t>::MANTISSA_DIGITS) as Self
            }
            #[inline(always)]
            fn bag_weighted(acc: Self, x: Self, w: Self) -> Self {
                if $fused { x.mul_add(w, acc) } else { acc + x * w }
            }
            #[inline(always)]
            fn empty_mean() -> Self {
                <$t>::NAN
            }
        }
    )*};
}
reduce_float!(f32: true, f64: false);

#[cfg(feature = "half")]
macro_rules! reduce_half {
    ($($t:ty: $bag_narrow:expr),*) => {$(
        impl Reduce for $t {
            type Acc = f32;
            #[inline(always)]
            fn widen(self) -> f32 {
                self.to_f32()
            }
            #[inline(always)]
            fn narrow(acc: f32) -> Self {
                <$t>::from_f32(acc)
            }
            const ONE: Self = <$t>::ONE;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            #[inline(always)]
            fn product(self, other: Self) -> Self {
                <$t>::from_f32(self.to_f32() * other.to_f32())
            }
            #[inline(always)]
            fn maximum(self, other: Self) -> Self {
                if other.is_nan() || self.to_f32() < other.to_f32() { other } else { self }
            }
            #[inline(always)]
            fn minimum(self, other: Self) -> Self {
                if other.is_nan() || other.to_f32() < self.to_f32() { other } else { self }
            }
            #[inline(always)]
            fn mean(self, count: Self) -> Self {
                <$t>::from_f32(self.to_f32() / count.to_f32())
            }
            #[inline(always)]
            fn add_fused(self, x: Self, alpha: Self) -> Self {
                <$t>::from_f32(x.to_f32().mul_add(alpha.to_f32(), self.to_f32()))
            }
            #[inline(always)]
            fn count(n: u64) -> Self {
                <$t>::from_f32(n.min(1 << <$t>::MANTISSA_DIGITS) as f32)
            }
            #[inline(always)]
            fn bag_narrow(acc: f32) -> Self {
                $bag_narrow(acc)
            }
            #[inline(always)]
            fn empty_mean() -> Self {
                <$t>::NAN
            }
        }
    )*};
}
#[cfg(feature = "half")]
reduce_half!(half::f16: half::f16::from_f32, half::bf16: bf16_away);

/// `x` to `bf16`, ties rounded away from zero (FBGEMM's conversion: add half
/// an ulp of `bf16` to the bits, then truncate); NaN stays NaN.
#[cfg(feature = "half")]
#[inline(always)]
fn bf16_away(x: f32) -> half::bf16 {
    if x.is_nan() {
        return half::bf16::from_f32(x);
    }
    half::bf16::from_bits((x.to_bits().wrapping_add(0x8000) >> 16) as u16)
}
