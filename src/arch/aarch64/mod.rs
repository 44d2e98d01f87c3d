//! aarch64 row bodies and their `#[target_feature]` entry points.
//!
//! NEON has no hardware gather, so there is one path: the checked-loads body
//! on NEON lanes, and tiles filled by NEON transposes.

pub(crate) mod neon;
pub(crate) mod transpose;
