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
/// Implemented for every such type; a plain struct of numbers qualifies by
/// deriving `bytemuck::NoUninit` (or `Pod`).
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
pub trait Element: bytemuck::NoUninit + Send + Sync {}
impl<T: bytemuck::NoUninit + Send + Sync> Element for T {}

/// The width dispatch sees for `T`: its size if a byte-width kernel serves it,
/// else 0 (kernels run on `T` itself).
pub(crate) fn kernel_width<T>() -> usize {
    match size_of::<T>() {
        w @ (1 | 2 | 4 | 8 | 16) => w,
        _ => 0,
    }
}

/// Element types `scatter_add` can sum: integers add wrapping (as torch's do),
/// floats in their own precision (with the `half` feature, `f16` and `bf16` too,
/// each sum rounded to the type).
///
/// ```
/// use fastgather::Accumulate;
/// assert_eq!(250u8.accumulate(10), 4); // wrapping, as torch's uint8
/// assert_eq!(0.5f32.accumulate(0.25), 0.75);
/// ```
pub trait Accumulate: Element + bytemuck::Zeroable {
    /// `self + other`.
    fn accumulate(self, other: Self) -> Self;
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
accumulate_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

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
    /// Each sum rounds to f16, as torch's half `scatter_add_` does.
    #[inline(always)]
    fn accumulate(self, other: Self) -> Self {
        half::f16::from_f32(self.to_f32() + other.to_f32())
    }
}

#[cfg(feature = "half")]
impl Accumulate for half::bf16 {
    /// Each sum rounds to bf16, as torch's bfloat16 `scatter_add_` does.
    #[inline(always)]
    fn accumulate(self, other: Self) -> Self {
        half::bf16::from_f32(self.to_f32() + other.to_f32())
    }
}
