//! Reproducers of what the `embedding` fuzz target found
//! (fuzz/fuzz_targets/embedding.rs), minimized by hand.

use fastgather::{
    Bags, GatherError, Reduction, Segments, TensorView, embedding_backward, embedding_bag,
    segment_reduce,
};

/// `segment_reduce` must not panic. An integer mean of an empty segment
/// without `initial` once divided its zero sum by a zero count (`i32::mean`
/// is a `wrapping_div`); it is now 0, as documented (floats give NaN).
#[test]
fn segment_reduce_integer_mean_of_an_empty_segment() {
    let data = TensorView::new(&[1i32, 2], &[2]).unwrap();
    let lengths = TensorView::new(&[2i64, 0], &[2]).unwrap();
    let got = std::panic::catch_unwind(|| {
        segment_reduce(&data, &Segments::Lengths(lengths), Reduction::Mean, None)
    });
    assert!(got.is_ok(), "segment_reduce panicked");
}

/// An empty view's offset is not checked against its buffer (nothing is
/// read), so the embedding ops must not slice the buffer at it, as
/// `bags::dense` once did (`&data[offset..offset + 0]`). Here
/// empty offsets with ids: the documented error is `InvalidOffsets`.
#[test]
fn embedding_bag_empty_offsets_offset_past_the_buffer() {
    let table = TensorView::new(&[1.0f32, 2.0], &[1, 2]).unwrap();
    let ids = TensorView::new(&[0i64], &[1]).unwrap();
    let none: [i64; 0] = [];
    let offsets = TensorView::with_strides(&none, &[0], &[1], 9).unwrap();
    let got =
        std::panic::catch_unwind(|| embedding_bag(&table, &Bags::with_offsets(&ids, &offsets)));
    assert!(
        matches!(
            got,
            Ok(Err(GatherError::InvalidOffsets { position: 0, .. }))
        ),
        "{got:?}"
    );
}

/// The same through empty ids (no bags: a `[0, dim]` result).
#[test]
fn embedding_bag_empty_ids_offset_past_the_buffer() {
    let table = TensorView::new(&[1.0f32, 2.0], &[1, 2]).unwrap();
    let none: [i64; 0] = [];
    let ids = TensorView::with_strides(&none, &[0, 3], &[3, 1], 5).unwrap();
    let got = std::panic::catch_unwind(|| embedding_bag(&table, &Bags::fixed(&ids)));
    assert_eq!(
        got.ok().map(|r| r.map(|t| t.shape().to_vec())),
        Some(Ok(vec![0, 2]))
    );
}

/// The same in `embedding_backward` (empty ids: a zero gradient).
#[test]
fn embedding_backward_empty_ids_offset_past_the_buffer() {
    let none: [i64; 0] = [];
    let ids = TensorView::with_strides(&none, &[0], &[1], 3).unwrap();
    let grad = TensorView::<f32>::new(&[], &[0, 2]).unwrap();
    let got = std::panic::catch_unwind(|| embedding_backward(&grad, &ids, 2, None));
    let got = got.ok().map(|r| r.map(|t| t.as_slice().to_vec()));
    assert_eq!(got, Some(Ok(vec![0.0; 4])));
}

/// The same in `segment_reduce` (empty lengths of empty data: no segments).
#[test]
fn segment_reduce_empty_lengths_offset_past_the_buffer() {
    let data = TensorView::<f32>::new(&[], &[0, 2]).unwrap();
    let none: [i64; 0] = [];
    let lengths = TensorView::with_strides(&none, &[0], &[1], 7).unwrap();
    let got = std::panic::catch_unwind(|| {
        segment_reduce(&data, &Segments::Lengths(lengths), Reduction::Sum, None)
    });
    let got = got.ok().map(|r| r.map(|t| t.shape().to_vec()));
    assert_eq!(got, Some(Ok(vec![0, 2])));
}
