//! Reproducers of what the `scatter_family` fuzz target found
//! (fuzz/fuzz_targets/scatter_family.rs), minimized by hand.

use fastgather::{GatherError, Tensor, TensorView, index_fill, index_fill_into};

/// `index_fill` on a 0-d tensor (seen as `[1]`) with an empty 1-d index
/// changes nothing, as torch's `tensor(5).index_fill_(0, tensor([], dtype=long), 1)`.
#[test]

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

fn index_fill_0d_dest_empty_index_view_of_a_longer_buffer() {
    let x = TensorView::new(&[5u8], &[]).unwrap();
    let buf = [0i64];
    let idx = TensorView::with_strides(&buf, &[0], &[1], 0).unwrap();
    assert_eq!(index_fill(&x, 0, &idx, 1).unwrap().as_slice(), &[5]);
}

/// Every value of the index is checked, not only the first.
#[test]

fn index_fill_0d_dest_checks_every_value() {
    let x = TensorView::new(&[5u8], &[]).unwrap();
    let idx = TensorView::new(&[0i64, 7], &[2]).unwrap();
    match index_fill(&x, 0, &idx, 1) {
        Err(GatherError::IndexOutOfBounds {
            value, position, ..
        }) => {
            assert_eq!((value, position), (7, vec![1]))
        }
        other => panic!("expected index 7 out of range at [1], got {other:?}"),
    }
}

/// An empty view's offset is not checked against its buffer (nothing is
/// read), so the flat ops must not slice the buffer at it.
#[test]

fn take_of_an_empty_view_with_offset_past_its_buffer() {
    let buf = [0u8; 4];
    let x = TensorView::with_strides(&buf, &[0], &[1], 9).unwrap();
    let none: [i64; 0] = [];
    let idx = TensorView::new(&none, &[0]).unwrap();
    let out = fastgather::take(&x, &idx).unwrap();
    assert_eq!(out.shape(), &[0]);
}

/// The same in `put`, through an empty index and source.
#[test]

fn put_of_an_empty_index_view_with_offset_past_its_buffer() {
    let mut t = Tensor::full(&[2], 1i32).unwrap();
    let ibuf = [0i64; 4];
    let idx = TensorView::with_strides(&ibuf, &[0], &[1], 9).unwrap();
    let sbuf = [0i32; 4];
    let src = TensorView::with_strides(&sbuf, &[0], &[1], 9).unwrap();
    fastgather::put_into(&mut t.view_mut(), &idx, &src, false).unwrap();
    assert_eq!(t.as_slice(), &[1, 1]);
}

/// And in `take_along_dim` without a dim (the indices flattened).
#[test]

fn take_along_dim_flat_of_empty_indices_with_offset_past_their_buffer() {
    let x = TensorView::new(&[1u8, 2], &[2]).unwrap();
    let ibuf = [0i64; 4];
    let idx = TensorView::with_strides(&ibuf, &[0], &[1], 9).unwrap();
    let out = fastgather::take_along_dim(&x, &idx, None).unwrap();
    assert_eq!(out.shape(), &[0]);
}

/// A bad value of a 0-d index is told at position `[]` (its position in the
/// index's own shape), as `put` tells it.
#[test]

fn take_0d_index_out_of_range_position() {
    let x = TensorView::new(&[1u8, 2], &[2]).unwrap();
    let idx = TensorView::new(&[5i64], &[]).unwrap();
    match fastgather::take(&x, &idx) {
        Err(GatherError::IndexOutOfBounds {
            value, position, ..
        }) => {
            assert_eq!((value, position), (5, vec![]))
        }
        other => panic!("expected index 5 out of range at [], got {other:?}"),
    }
    // put, for comparison, says [].
    let mut t = Tensor::full(&[2], 0u8).unwrap();
    let src = TensorView::new(&[1u8], &[]).unwrap();
    match fastgather::put_into(&mut t.view_mut(), &idx, &src, false) {
        Err(GatherError::IndexOutOfBounds { position, .. }) => assert_eq!(position, vec![]),
        other => panic!("{other:?}"),
    }
}

/// numpy's `put_along_axis` broadcasts `arr`'s size-1 axes against the
/// index too (`np.put_along_axis(a, i, v, 0)` with `a` of shape (4, 1) and `i`
/// of shape (1, 3) writes `a[i[0, k], 0]` for each k). fastgather does not
/// stretch `arr` (docs/SEMANTICS.md, "Where fastgather differs from torch on
/// purpose"): a clear `ScatterSizeMismatch`, and `arr` untouched.
#[test]
fn put_along_axis_does_not_stretch_arr_size_1_axes() {
    let mut a = Tensor::from_vec(vec![0, 0, 0, 0], &[4, 1]).unwrap();
    let i = TensorView::new(&[2i64, 0, 2], &[1, 3]).unwrap();
    let v = TensorView::new(&[7, 8, 9], &[1, 3]).unwrap();
    let got = fastgather::put_along_axis_into(&mut a.view_mut(), &i, &v, 0);
    assert!(
        matches!(got, Err(GatherError::ScatterSizeMismatch { axis: 1, .. })),
        "{got:?}"
    );
    assert_eq!(a.as_slice(), &[0, 0, 0, 0]);
}

/// A bad value of a 1-d index is told at its position `[j]` in the index,
/// also where `self` and `source` are 0-d (the index seen with the source's
/// shape is then 0-d).
#[test]

fn index_add_0d_source_1d_index_out_of_range_position() {
    let x = TensorView::new(&[1.0f32], &[]).unwrap();
    let idx = TensorView::new(&[3i64], &[1]).unwrap();
    let s = TensorView::new(&[2.0f32], &[]).unwrap();
    match fastgather::index_add(&x, 0, &idx, &s, 1.0) {
        Err(GatherError::IndexOutOfBounds {
            value, position, ..
        }) => {
            assert_eq!((value, position), (3, vec![0]))
        }
        other => panic!("expected index 3 out of range at [0], got {other:?}"),
    }
}

/// An empty destination view (offset past its buffer, unchecked) under
/// `IndexMode::Drop`: every value is dropped, and the mean's slice passes
/// must not slice the buffer at the offset.
#[test]
fn drop_into_an_empty_destination_with_offset_past_its_buffer() {
    let mut buf = [1.0f32; 4];
    let mut dest = fastgather::TensorViewMut::with_strides(&mut buf, &[0, 3], &[3, 1], 9).unwrap();
    let line = TensorView::new(&[0i64, 5], &[2, 1]).unwrap();
    let idx = line.expand(&[2, 3]).unwrap();
    let src = TensorView::new(&[2.0f32; 6], &[2, 3]).unwrap();
    let opts = fastgather::GatherOptions::new().mode(fastgather::IndexMode::Drop);
    for include_self in [true, false] {
        let got = fastgather::scatter_reduce_into_with(
            &mut dest.reborrow(),
            0,
            &idx,
            &src,
            fastgather::Reduction::Mean,
            include_self,
            &opts,
        );
        assert!(got.is_ok(), "{got:?}");
    }
    assert_eq!(buf, [1.0; 4]);
}

/// The same in `index_fill` on a 0-d dest with a 1-d index of one bad value.
#[test]
fn index_fill_0d_dest_1d_index_out_of_range_position() {
    let x = TensorView::new(&[1i32], &[]).unwrap();
    let idx = TensorView::new(&[3i64], &[1]).unwrap();
    match index_fill(&x, 0, &idx, 0) {
        Err(GatherError::IndexOutOfBounds {
            value, position, ..
        }) => {
            assert_eq!((value, position), (3, vec![0]))
        }
        other => panic!("expected index 3 out of range at [0], got {other:?}"),
    }
}
