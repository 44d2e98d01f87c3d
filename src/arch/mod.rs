//! Kernels written with `core::arch` intrinsics, one module per instruction set.

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_64;
