//! The three worked examples of docs/SEMANTICS.md, verbatim, through `gather`,
//! `gather_into` and the reference, with `dim` given both ways, in every index
//! type and layout.

mod common;

use common::{Rng, STYLES, check_layouts, idx};
use fastgather::{
    GatherOptions, IndexElem, Tensor, TensorView, gather, gather_into, gather_with, reference,
};
use std::fmt::Debug;

/// Runs one example every way and asserts the expected result each time.
fn example<T, I>(
    src: &[T],
    src_shape: &[usize],
    index: &[i64],
    index_shape: &[usize],
    dims: [isize; 2],
    want: &[T],
) where
    T: common::TestElem + PartialEq,
    I: IndexElem + Debug,
{
    let index: Vec<I> = idx(index);
    let sv = TensorView::new(src, src_shape).unwrap();
    let iv = TensorView::new(&index, index_shape).unwrap();
    for dim in dims {
        let r = reference::gather(&sv, dim, &iv).unwrap();
        assert_eq!(r.shape(), index_shape, "reference shape, dim {dim}");
        assert_eq!(r.as_slice(), want, "reference, dim {dim}");

        let g = gather(&sv, dim, &iv).unwrap();
        assert_eq!(g.shape(), index_shape, "gather shape, dim {dim}");
        assert_eq!(g.as_slice(), want, "gather, dim {dim}");

        let s = gather_with(&sv, dim, &iv, &GatherOptions::new().sequential()).unwrap();
        assert_eq!(s.as_slice(), want, "gather_with sequential, dim {dim}");

        let mut out = Tensor::full(index_shape, src[0]).unwrap();
        gather_into(&sv, dim, &iv, &mut out.view_mut()).unwrap();
        assert_eq!(out.as_slice(), want, "gather_into, dim {dim}");

        let mut rng = Rng::new(dim as u64 ^ 0x7475_746f);
        let got = check_layouts(
            &mut rng,
            (src, src_shape),
            dim,
            (&index, index_shape),
            &STYLES,
        )
        .unwrap();
        assert_eq!(got.as_slice(), want, "layouts, dim {dim}");
    }
}

fn cross_entropy_pick<I: IndexElem + Debug>() {
    example::<f32, I>(
        &[0.1, 0.3, 0.6, 0.3, 0.2, 0.5],
        &[2, 3],
        &[0, 2],
        &[2, 1],
        [1, -1],
        &[0.1, 0.5],
    );
}

fn fifteen_dim0<I: IndexElem + Debug>() {
    let src: Vec<i32> = (1..=15).collect();
    example::<i32, I>(
        &src,
        &[5, 3],
        &[0, 1, 2, 2, 3, 4, 0, 2, 4],
        &[3, 3],
        [0, -2],
        &[1, 5, 9, 7, 11, 15, 1, 8, 15],
    );
}

fn fifteen_dim1<I: IndexElem + Debug>() {
    let src: Vec<i32> = (1..=15).collect();
    example::<i32, I>(
        &src,
        &[5, 3],
        &[1, 1, 2, 2, 0, 1, 2, 0, 1, 0],
        &[5, 2],
        [1, -1],
        &[2, 2, 6, 6, 7, 8, 12, 10, 14, 13],
    );
}

macro_rules! for_index_types {
    ($name:ident, $f:ident) => {
        mod $name {
            #[test]
            fn i64() {
                super::$f::<i64>();
            }
            #[test]
            fn i32() {
                super::$f::<i32>();
            }
            #[test]
            fn u32() {
                super::$f::<u32>();
            }
            #[test]
            fn u64() {
                super::$f::<u64>();
            }
            #[test]
            fn usize() {
                super::$f::<usize>();
            }
        }
    };
}

for_index_types!(cross_entropy, cross_entropy_pick);
for_index_types!(src_1_to_15_dim0, fifteen_dim0);
for_index_types!(src_1_to_15_dim1, fifteen_dim1);

/// The tutorial's cross-entropy pick as written there: `y.view(-1, 1)`.
#[test]
fn cross_entropy_pick_through_view_ops() {
    let y_hat = [0.1f32, 0.3, 0.6, 0.3, 0.2, 0.5];
    let y = [0i64, 2];
    let src = TensorView::new(&y_hat, &[2, 3]).unwrap();
    let labels = TensorView::new(&y, &[2]).unwrap();
    let column = labels.reshape(&[2, 1]).unwrap();
    assert_eq!(gather(&src, 1, &column).unwrap().as_slice(), &[0.1, 0.5]);
    let column = labels.unsqueeze(1).unwrap();
    assert_eq!(gather(&src, 1, &column).unwrap().as_slice(), &[0.1, 0.5]);
    let nll: Vec<f32> = gather(&src, 1, &column)
        .unwrap()
        .as_slice()
        .iter()
        .map(|p| -p.ln())
        .collect();
    assert_eq!(nll, vec![-0.1f32.ln(), -0.5f32.ln()]);
}
