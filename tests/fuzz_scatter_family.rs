//! Reproducers of what the `scatter_family` fuzz target found
//! (fuzz/fuzz_targets/scatter_family.rs), minimized by hand.

use fastgather::{index_fill, index_fill_into, GatherError, Tensor, TensorView};

/// `index_fill` on a 0-d tensor (seen as `[1]`) with an empty 1-d index
/// changes nothing, as torch's `tensor(5).index_fill_(0, tensor([], dtype=long), 1)`.
#[test]
#[ignore = "bug: index_fill on a 0-d dest views the 1-d index as 0-d (ViewOutOfBounds on an empty buffer)"]
fn index_fill_0d_dest_empty_index() {
    let mut t = Tensor::full(&[], 5u8).unwrap();
    let none: [i64; 0] = [];
    let idx = TensorView::new(&none, &[0]).unwrap();
    assert_eq!(index_fill_into(&mut t.view_mut(), 0, &idx, 1), Ok(()));
    assert_eq!(t.as_slice(), &[5]);
}

/// The same where the index's buffer holds an element the (empty) view does
/// not: it must not be read.
#[test]
#[ignore = "bug: index_fill on a 0-d dest reads the element at the index's offset even when the index is empty"]
fn index_fill_0d_dest_empty_index_view_of_a_longer_buffer() {
    let x = TensorView::new(&[5u8], &[]).unwrap();
    let buf = [0i64];
    let idx = TensorView::with_strides(&buf, &[0], &[1], 0).unwrap();
    assert_eq!(index_fill(&x, 0, &idx, 1).unwrap().as_slice(), &[5]);
}

/// Every value of the index is checked, not only the first.
#[test]
#[ignore = "bug: index_fill on a 0-d dest looks at index[0] only"]
fn index_fill_0d_dest_checks_every_value() {
    let x = TensorView::new(&[5u8], &[]).unwrap();
    let idx = TensorView::new(&[0i64, 7], &[2]).unwrap();
    match index_fill(&x, 0, &idx, 1) {
        Err(GatherError::IndexOutOfBounds { value, position, .. }) => {
            assert_eq!((value, position), (7, vec![1]))
        }
        other => panic!("expected index 7 out of range at [1], got {other:?}"),
    }
}
