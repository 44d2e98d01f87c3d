//! # fastgather
//!
//! `torch.gather` on the CPU, exactly: same values, same shape rules, same errors,
//! on strided N-d views of any layout and any plain-old-data element type.
//!
//! ```
//! use fastgather::{gather, TensorView};
//! let src: Vec<i32> = (1..=15).collect();
//! let src = TensorView::new(&src, &[5, 3]).unwrap();
//! let idx = TensorView::new(&[0i64, 1, 2, 2, 3, 4, 0, 2, 4], &[3, 3]).unwrap();
//! let out = gather(&src, 0, &idx).unwrap();
//! assert_eq!(out.as_slice(), &[1, 5, 9, 7, 11, 15, 1, 8, 15]);
//! ```
//!
//! ## Model
//! A [`TensorView`] is a buffer plus shape, signed element strides and an offset,
//! checked when made so that every element it names lies in its buffer. A call is
//! validated once in safe code, reduced to a plan (`rows × inner` after merging
//! axes, classified into a [`LayoutClass`]), and run by a kernel chosen for that
//! class and the element's byte width, split across rayon threads by rows.
//!
//! ## Safety story
//! `unsafe` lives only in the kernels and their dispatch. No input through the
//! safe API can make them read or write outside a buffer: views are validated
//! when built, shapes before planning, and index values inside the kernels before
//! any source address is formed.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod arch;
mod dims;
mod dispatch;
mod error;
mod gather;
mod index;
mod isa;
mod kernel;
pub mod loss;
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod ndarray;
mod options;
mod par;
mod plan;
mod scatter;
mod select;
mod view;
mod width;

pub use dispatch::KernelChoice;
pub use error::GatherError;
pub use gather::{explain, gather, gather_into, gather_into_with, gather_with};
pub use index::IndexElem;
pub use isa::Isa;
pub use kernel::reference;
pub use options::{GatherOptions, IndexMode};
pub use plan::LayoutClass;
pub use scatter::{
    scatter, scatter_add, scatter_add_into, scatter_add_into_with, scatter_into, scatter_into_with,
    Accumulate,
};
pub use select::{index_select, take_along_axis};
pub use view::{Tensor, TensorView, TensorViewMut};
pub use width::Element;

#[cfg(feature = "half")]
#[cfg_attr(docsrs, doc(cfg(feature = "half")))]
pub use half;
