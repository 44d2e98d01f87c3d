//! Instruction-set paths: detected once, cached, and forcible for tests.

use std::sync::OnceLock;

/// A family of kernel implementations, from the plainest to the widest.
///
/// Dispatch runs the best path the CPU has, or the one [`crate::GatherOptions::isa`]
/// asks for. Every path gives bit-identical results.
///
/// ```
/// use fastgather::{explain, GatherOptions, Isa, TensorView};
/// let src = TensorView::new(&[0u32; 64], &[8, 8]).unwrap();
/// let idx = TensorView::new(&[1i64; 64], &[8, 8]).unwrap();
/// for isa in Isa::available() {
///     let choice = explain(&src, 1, &idx, &GatherOptions::new().isa(isa)).unwrap().unwrap();
///     println!("{isa:?}: {}", choice.kernel);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Plain Rust, one element at a time; runs everywhere.
    Scalar,
    /// Portable SIMD through the `wide` crate (compiled for the build target).
    Portable,
    /// AVX2 with scalar loads: vector index checks and offset math, one load per
    /// element. Immune to the "Downfall" (GDS) microcode slowdown of `vpgather`.
    Avx2,
    /// AVX2 with hardware gathers (`vpgatherdd`/`vpgatherqq`).
    Avx2Gather,
    /// AVX-512 (F, BW, VL, DQ) with scalar loads: masked index checks eight at
    /// a time, then one load per element.
    Avx512,
    /// AVX-512 with hardware gathers: checks fused into masked gathers, masked tails.
    Avx512Gather,
}

impl Isa {
    /// Every path this CPU can run, plainest first.
    ///
    /// ```
    /// use fastgather::Isa;
    /// let paths = Isa::available();
    /// assert_eq!(&paths[..2], &[Isa::Scalar, Isa::Portable]);
    /// assert!(paths.contains(&Isa::best()));
    /// ```
    pub fn available() -> Vec<Isa> {
        let mut paths = vec![Isa::Scalar, Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            let caps = caps();
            if caps.avx2 {
                paths.extend([Isa::Avx2, Isa::Avx2Gather]);
            }
            if caps.avx512 {
                paths.extend([Isa::Avx512, Isa::Avx512Gather]);
            }
        }
        paths
    }

    /// Whether this CPU can run the path (no allocation: checked on every call).
    ///
    /// ```
    /// use fastgather::Isa;
    /// assert!(Isa::Scalar.is_available() && Isa::Portable.is_available());
    /// assert_eq!(Isa::Avx2.is_available(), Isa::available().contains(&Isa::Avx2));
    /// ```
    pub fn is_available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            let caps = caps();
            match self {
                Isa::Scalar | Isa::Portable => true,
                Isa::Avx2 | Isa::Avx2Gather => caps.avx2,
                Isa::Avx512 | Isa::Avx512Gather => caps.avx512,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        matches!(self, Isa::Scalar | Isa::Portable)
    }

    /// The path dispatch uses when none is forced: `Avx512` where the CPU has
    /// AVX-512 F, BW, VL and DQ, else `Avx2`, else `Portable`. Detected once and
    /// cached.
    ///
    /// ```
    /// use fastgather::Isa;
    /// let best = Isa::best();
    /// assert!(best.is_available());
    /// assert!(best >= Isa::Portable);
    /// ```
    pub fn best() -> Isa {
        *BEST.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                let caps = caps();
                if caps.avx512 {
                    return Isa::Avx512;
                }
                if caps.avx2 {
                    return Isa::Avx2;
                }
            }
            Isa::Portable
        })
    }
}

static BEST: OnceLock<Isa> = OnceLock::new();

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Caps {
    avx2: bool,
    avx512: bool,
}

#[cfg(target_arch = "x86_64")]
fn caps() -> Caps {
    static CAPS: OnceLock<Caps> = OnceLock::new();
    *CAPS.get_or_init(|| Caps {
        avx2: is_x86_feature_detected!("avx2"),
        avx512: is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512dq"),
    })
}
