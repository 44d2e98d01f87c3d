//! x86-64 row bodies and their `#[target_feature]` entry points.
//!
//! Each body is `#[inline(always)]` and only compiled into the one entry point
//! that enables its features, which owns the whole row loop.

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod transpose;
