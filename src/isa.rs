//! Instruction-set paths: detected once, cached, and forcible for tests.
//!
//! The proof that the CPU has an instruction set is a token that only
//! detection makes (`Avx2::try_new`, `Avx512::try_new`, `Neon::try_new`), the way memchr's
//! per-ISA searchers are built. Every `#[target_feature]` entry point takes its
//! token as an argument, so a call without detection does not compile, and a
//! [`Path`] (a public [`Isa`] resolved against this CPU) holds the token of the
//! kernels it runs. Adding an instruction set: a token here, a variant of
//! [`Isa`] and [`Path`], a module under `arch/`, and its line in the dispatch
//! table.

use crate::error::GatherError;
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
    /// NEON (aarch64) with scalar loads: index values checked four at a time,
    /// one load per element, combined stores, prefetch of the next row. NEON
    /// has no hardware gather, so this is the only vector path there.
    Neon,
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
        Self::ALL.into_iter().filter(|i| i.is_available()).collect()
    }

    /// Every path this build knows, plainest first, available on this CPU or
    /// not (see [`Isa::available`]).
    pub const ALL: [Isa; 7] = [
        Isa::Scalar,
        Isa::Portable,
        Isa::Neon,
        Isa::Avx2,
        Isa::Avx2Gather,
        Isa::Avx512,
        Isa::Avx512Gather,
    ];

    /// Whether this CPU can run the path (no allocation: checked on every call).
    ///
    /// ```
    /// use fastgather::Isa;
    /// assert!(Isa::Scalar.is_available() && Isa::Portable.is_available());
    /// assert_eq!(Isa::Avx2.is_available(), Isa::available().contains(&Isa::Avx2));
    /// ```
    pub fn is_available(self) -> bool {
        Path::detect(self).is_some()
    }

    /// The path dispatch uses when none is forced: on x86-64, `Avx512` where
    /// the CPU has AVX-512 F, BW, VL and DQ, else `Avx2`; on aarch64, `Neon`;
    /// else `Portable`. Detected once and cached.
    ///
    /// ```
    /// use fastgather::Isa;
    /// let best = Isa::best();
    /// assert!(best.is_available());
    /// assert!(best >= Isa::Portable);
    /// ```
    pub fn best() -> Isa {
        Path::best().isa()
    }
}

/// An [`Isa`] this CPU was found to run, holding the proof: the token its
/// kernels take. Only [`Path::detect`] and [`Path::best`] make one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    Scalar,
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2 {
        token: Avx2,
        gather: bool,
    },
    #[cfg(target_arch = "x86_64")]
    Avx512 {
        token: Avx512,
        gather: bool,
    },
    #[cfg(target_arch = "aarch64")]
    Neon {
        token: Neon,
    },
}

impl Path {
    /// The path `isa` names, if this CPU runs it.
    #[inline]
    pub(crate) fn detect(isa: Isa) -> Option<Path> {
        match isa {
            Isa::Scalar => Some(Path::Scalar),
            Isa::Portable => Some(Path::Portable),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx2Gather => Avx2::try_new().map(|token| Path::Avx2 {
                token,
                gather: isa == Isa::Avx2Gather,
            }),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 | Isa::Avx512Gather => Avx512::try_new().map(|token| Path::Avx512 {
                token,
                gather: isa == Isa::Avx512Gather,
            }),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => Neon::try_new().map(|token| Path::Neon { token }),
            _ => None,
        }
    }

    /// The widest scalar-load path this CPU runs (hardware gathers are slow on
    /// many CPUs, so they are chosen only when forced); detected once.
    #[inline]
    pub(crate) fn best() -> Path {
        static BEST: OnceLock<Path> = OnceLock::new();
        *BEST.get_or_init(|| {
            [Isa::Avx512, Isa::Avx2, Isa::Neon]
                .into_iter()
                .find_map(Path::detect)
                .unwrap_or(Path::Portable)
        })
    }

    /// The path `isa` names if given, else the best one; an error if this CPU
    /// lacks the one asked for.
    #[inline]
    pub(crate) fn resolve(isa: Option<Isa>) -> Result<Path, GatherError> {
        match isa {
            None => Ok(Path::best()),
            Some(isa) => Path::detect(isa).ok_or(GatherError::IsaUnavailable { isa }),
        }
    }

    /// This path with scalar loads instead of hardware gathers (for widths
    /// without a hardware gather).
    pub(crate) fn without_gather(self) -> Path {
        match self {
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 { token, .. } => Path::Avx2 {
                token,
                gather: false,
            },
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 { token, .. } => Path::Avx512 {
                token,
                gather: false,
            },
            other => other,
        }
    }

    /// The public name of this path.
    pub(crate) fn isa(self) -> Isa {
        match self {
            Path::Scalar => Isa::Scalar,
            Path::Portable => Isa::Portable,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 { gather: false, .. } => Isa::Avx2,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 { gather: true, .. } => Isa::Avx2Gather,
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 { gather: false, .. } => Isa::Avx512,
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 { gather: true, .. } => Isa::Avx512Gather,
            #[cfg(target_arch = "aarch64")]
            Path::Neon { .. } => Isa::Neon,
        }
    }
}

/// Proof that this CPU runs AVX2. Only [`Avx2::try_new`] makes one (the field
/// is private), so code holding it may call functions compiled with
/// `#[target_feature(enable = "avx2")]`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// The token, if the CPU has AVX2.
    #[inline]
    pub(crate) fn try_new() -> Option<Self> {
        caps().avx2.then_some(Avx2(()))
    }
}

/// Proof that this CPU runs AVX-512 F, BW, VL and DQ, and AVX2 (the AVX-512
/// paths call the AVX2 transposes). Only [`Avx512::try_new`] makes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Avx512(());

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// The token, if the CPU has AVX-512 F, BW, VL, DQ and AVX2.
    #[inline]
    pub(crate) fn try_new() -> Option<Self> {
        let c = caps();
        (c.avx512 && c.avx2).then_some(Avx512(()))
    }

    /// AVX-512 proves AVX2 too.
    #[inline(always)]
    pub(crate) fn avx2(self) -> Avx2 {
        Avx2(())
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Caps {
    avx2: bool,
    avx512: bool,
}

#[cfg(target_arch = "x86_64")]
#[inline]
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

/// Proof that this CPU runs NEON (Advanced SIMD). Every aarch64 Linux CPU
/// does, but the token is made by detection all the same, so the NEON entry
/// points are called the way every other path's are. Only [`Neon::try_new`]
/// makes one.
#[cfg(target_arch = "aarch64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Neon(());

#[cfg(target_arch = "aarch64")]
impl Neon {
    /// The token, if the CPU has NEON.
    #[inline]
    pub(crate) fn try_new() -> Option<Self> {
        static NEON: OnceLock<bool> = OnceLock::new();
        NEON.get_or_init(|| std::arch::is_aarch64_feature_detected!("neon"))
            .then_some(Neon(()))
    }
}
