//! The `ndarray` feature: zero-copy views of every layout ndarray makes
//! (permuted, reversed, broadcast, sliced), the array functions against the
//! same calls on contiguous copies, and the refusal of gapped views.

mod common;

use common::Rng;
use fastgather::ndarray::{
    gather_array, gather_into_array, index_select_array, into_array, scatter_add_array,
    scatter_array, take_along_axis_array, view, view_mut,
};
use fastgather::{gather, reference, GatherError, Tensor, TensorView};
use ndarray::{
    arr0, array, s, Array, Array1, Array2, Array3, ArrayD, ArrayView, ArrayViewMut, Axis, IxDyn,
    ShapeBuilder,
};

fn cube() -> Array3<i32> {
    Array3::from_shape_fn((3, 4, 5), |(i, j, k)| (100 * i + 10 * j + k) as i32)
}

/// Views of every layout that fills its memory: each converts without a copy
/// and reads the same elements as ndarray does.
#[test]
fn dense_layouts_are_zero_copy() {
    let a = cube();
    let fortran = Array3::from_shape_vec((3, 4, 5).f(), (0..60).collect::<Vec<i32>>()).unwrap();
    let row = Array1::from_iter(0..5);
    let row_reversed = row.slice(s![..;-1]);
    let cases: Vec<(&str, ArrayView<'_, i32, IxDyn>)> = vec![
        ("c order", a.view().into_dyn()),
        ("fortran order", fortran.view().into_dyn()),
        ("reversed axes", a.view().reversed_axes().into_dyn()),
        ("permuted", a.view().permuted_axes([2, 0, 1]).into_dyn()),
        ("all flipped", a.slice(s![..;-1, ..;-1, ..;-1]).into_dyn()),
        ("middle flipped", a.slice(s![.., ..;-1, ..]).into_dyn()),
        ("outer range", a.slice(s![1..3, .., ..]).into_dyn()),
        ("one index", a.slice(s![2, .., ..]).into_dyn()),
        ("inserted axis", a.view().insert_axis(Axis(1)).into_dyn()),
        ("broadcast", row.broadcast((2, 3, 5)).unwrap().into_dyn()),
        (
            "broadcast, flipped",
            row_reversed.broadcast((4, 5)).unwrap().into_dyn(),
        ),
        ("0-d", a.slice(s![1, 2, 3]).into_dyn()),
    ];
    for (what, v) in cases {
        let t = view(&v).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(t.shape(), v.shape(), "{what}");
        assert_eq!(t.strides(), v.strides(), "{what}");
        assert_eq!(t.to_vec(), v.iter().copied().collect::<Vec<_>>(), "{what}");
        if !v.is_empty() {
            let origin = t.get(&vec![0; v.ndim()]).unwrap() as *const i32;
            assert_eq!(origin, v.as_ptr(), "{what}: not the array's memory");
        }
    }
}

#[test]
fn gapped_views_are_refused() {
    let a = cube();
    for v in [
        a.slice(s![.., .., ..;2]),
        a.slice(s![.., 1..3, ..]),
        a.slice(s![..;2, .., ..]),
    ] {
        match view(&v) {
            Err(GatherError::InvalidViewOp { op, reason }) => {
                assert_eq!(op, "ndarray::view");
                assert!(reason.contains("skips memory"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let mut b = cube();
    assert!(matches!(
        view_mut(b.slice_mut(s![.., .., 1..4])),
        Err(GatherError::InvalidViewOp { .. })
    ));
}

/// The array functions on views of every kind (gapped included) agree with the
/// reference gather on contiguous copies.
#[test]
fn gather_array_matches_reference_on_every_layout() {
    let a = cube();
    let mut rng = Rng::new(7);
    let views: Vec<ArrayView<'_, i32, ndarray::Ix3>> = vec![
        a.view(),
        a.view().permuted_axes([1, 2, 0]),
        a.slice(s![..;-1, .., 1..]),
        a.slice(s![.., ..;2, ..;-2]),
        a.slice(s![1..2, .., ..]),
    ];
    for v in views {
        for dim in 0..3 {
            let mut shape = v.shape().to_vec();
            shape[dim] = 1 + rng.below(6);
            let bound = v.shape()[dim];
            let idx = Array::from_shape_fn(IxDyn(&shape), |_| rng.below(bound) as i64)
                .into_dimensionality::<ndarray::Ix3>()
                .unwrap();
            // The same shape as a transposed (Fortran-order) index too.
            let reversed: Vec<usize> = shape.iter().rev().copied().collect();
            let idx_t = Array::from_shape_fn(IxDyn(&reversed), |_| rng.below(bound) as i64)
                .into_dimensionality::<ndarray::Ix3>()
                .unwrap();
            for idx in [idx.view(), idx_t.view().reversed_axes()] {
                let got = gather_array(&v, dim as isize, &idx).unwrap();
                // Row-major copies, read by the reference.
                let copy: Vec<i32> = v.iter().copied().collect();
                let idx_copy: Vec<i64> = idx.iter().copied().collect();
                let want = reference::gather(
                    &TensorView::new(&copy, v.shape()).unwrap(),
                    dim as isize,
                    &TensorView::new(&idx_copy, idx.shape()).unwrap(),
                )
                .unwrap();
                assert_eq!(got.shape(), want.shape());
                assert_eq!(got.iter().copied().collect::<Vec<_>>(), want.as_slice());
            }
        }
    }
}

#[test]
fn gather_on_transposed_and_broadcast_operands() {
    let a = Array2::from_shape_fn((4, 3), |(i, j)| (10 * i + j) as f64);
    // src = a.t() ([3, 4]), index broadcast from one row.
    let one_row = array![[3i64, 0, 0, 1]];
    let idx = one_row.broadcast((3, 4)).unwrap();
    let out = gather_array(&a.t(), 1, &idx).unwrap();
    let want = Array2::from_shape_fn((3, 4), |(i, j)| a[[one_row[[0, j]] as usize, i]]);
    assert_eq!(out, want);
}

#[test]
fn gather_into_array_dense_and_gapped_outputs() {
    let src = array![[1, 2, 3], [4, 5, 6]];
    let idx = array![[2i64, 0, 1], [0, 0, 2]];
    let want = gather_array(&src, 1, &idx).unwrap();

    // Dense, reversed rows: written in place.
    let mut out = Array2::<i32>::zeros((2, 3));
    gather_into_array(&src, 1, &idx, &mut out.slice_mut(s![..;-1, ..])).unwrap();
    assert_eq!(out.slice(s![..;-1, ..]), want);

    // Gapped: every other column of a wider array; the rest stays untouched.
    let mut wide = Array2::<i32>::from_elem((2, 6), -1);
    gather_into_array(&src, 1, &idx, &mut wide.slice_mut(s![.., 1..;2])).unwrap();
    assert_eq!(wide.slice(s![.., 1..;2]), want);
    assert!(wide.slice(s![.., ..;2]).iter().all(|&v| v == -1));

    // Errors leave a gapped output as it was.
    let bad = array![[9i64, 0, 0], [0, 0, 0]];
    let err = gather_into_array(&src, 1, &bad, &mut wide.slice_mut(s![.., ..;2])).unwrap_err();
    assert!(matches!(
        err,
        GatherError::IndexOutOfBounds {
            value: 9,
            dim: 1,
            size: 3,
            ..
        }
    ));
    assert!(wide.slice(s![.., ..;2]).iter().all(|&v| v == -1));

    // Wrong out shape: torch's error, nothing written.
    let mut small = Array2::<i32>::zeros((2, 2));
    assert!(matches!(
        gather_into_array(&src, 1, &idx, &mut small),
        Err(GatherError::OutShapeMismatch { .. })
    ));
    assert!(small.iter().all(|&v| v == 0));
}

#[test]
fn scatter_and_scatter_add_arrays() {
    // torch's scatter_ example: src = arange(1, 11).view(2, 5), index [[0, 1, 2, 0]].
    let src = Array2::from_shape_vec((2, 5), (1..=10).collect::<Vec<i64>>()).unwrap();
    let zeros = Array2::<i64>::zeros((3, 5));
    let out = scatter_array(&zeros, 0, &array![[0i64, 1, 2, 0]], &src).unwrap();
    assert_eq!(
        out,
        array![[1, 0, 0, 4, 0], [0, 2, 0, 0, 0], [0, 0, 3, 0, 0]]
    );

    // scatter_add on a Fortran-order input keeps the input's values and shape.
    let input = Array2::from_shape_vec((2, 3).f(), vec![1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0]).unwrap();
    let idx = array![[2i64, 2], [0, 1]];
    let vals = array![[0.5f32, 0.25], [1.0, 2.0]];
    let out = scatter_add_array(&input, 1, &idx, &vals).unwrap();
    assert_eq!(out, array![[1.0, 2.0, 3.75], [5.0, 7.0, 6.0]]);
    assert!(out.is_standard_layout());

    // Errors pass through unchanged.
    assert!(matches!(
        scatter_add_array(&input, 2, &idx, &vals),
        Err(GatherError::DimOutOfRange { dim: 2, rank: 2 })
    ));
}

#[test]
fn index_select_and_take_along_axis_arrays() {
    let x = Array2::from_shape_fn((3, 4), |(i, j)| (4 * i + j) as u8);
    let cols = index_select_array(&x, 1, &array![3i64, 0]).unwrap();
    assert_eq!(cols, array![[3, 0], [7, 4], [11, 8]]);
    let rows = index_select_array(&x.slice(s![..;-1, ..]), 0, &array![0i64]).unwrap();
    assert_eq!(rows, array![[8, 9, 10, 11]]);

    let scores = array![[0.2f64, 0.9, 0.5], [0.7, 0.1, 0.4]];
    let order = array![[0i64, 2, 1], [1, 2, 0]];
    let sorted = take_along_axis_array(&scores, &order, 1).unwrap();
    assert_eq!(sorted, array![[0.2, 0.5, 0.9], [0.1, 0.4, 0.7]]);
    // Negative indices and broadcasting, as numpy.
    let last = take_along_axis_array(&scores, &array![[-1i64]], 1).unwrap();
    assert_eq!(last, array![[0.5], [0.4]]);
}

#[test]
fn writable_views_write_the_arrays_memory() {
    let src = TensorView::new(&[1.5f32, 2.5, 3.5], &[3]).unwrap();
    let idx = TensorView::new(&[2i64, 0, 1, 1], &[2, 2]).unwrap();
    let srcs = src.unsqueeze(0).unwrap().expand(&[2, 3]).unwrap();
    let mut f = Array2::<f32>::zeros((2, 2).f());
    {
        let mut out = view_mut(f.view_mut()).unwrap();
        assert_eq!(out.strides(), &[1, 2]);
        fastgather::gather_into(&srcs, 1, &idx, &mut out).unwrap();
    }
    assert_eq!(f, array![[3.5, 1.5], [2.5, 2.5]]);

    let mut buf = Array3::<u16>::zeros((2, 3, 4));
    let v: ArrayViewMut<'_, u16, _> = buf.slice_mut(s![..;-1, .., ..;-1]);
    let mut t = view_mut(v).unwrap();
    *t.get_mut(&[0, 0, 0]).unwrap() = 7;
    assert_eq!(buf[[1, 0, 3]], 7);
}

#[test]
fn zero_d_and_empty_arrays() {
    let s = arr0(4.0f64);
    let i = arr0(0usize);
    assert_eq!(gather_array(&s, 0, &i).unwrap(), arr0(4.0));
    let dynamic = index_select_array(&s.clone().into_dyn(), 0, &array![0i64, 0]).unwrap();
    assert_eq!(dynamic.shape(), &[2]);

    let e = Array2::<i32>::zeros((0, 3));
    let idx = Array2::<i64>::zeros((0, 2));
    assert_eq!(gather_array(&e, 1, &idx).unwrap().shape(), &[0, 2]);
    // An empty index gives an empty result and nothing else is checked (torch).
    let idx = Array2::<i64>::zeros((5, 0));
    assert_eq!(gather_array(&e, 1, &idx).unwrap().shape(), &[5, 0]);
}

#[test]
fn tensors_become_arrays() {
    let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let idx = TensorView::new(&[2i64, 1], &[1, 2]).unwrap();
    let t: Tensor<i32> = gather(&src, 1, &idx).unwrap();
    let a: ArrayD<i32> = t.clone().into();
    assert_eq!(a, into_array(t));
    assert_eq!(
        a.into_dimensionality::<ndarray::Ix2>().unwrap(),
        array![[3, 2]]
    );
}

#[cfg(feature = "half")]
#[test]
fn half_arrays() {
    use half::{bf16, f16};
    let a = Array2::from_shape_fn((2, 3), |(i, j)| f16::from_f32((3 * i + j) as f32));
    let idx = array![[2i64], [0]];
    let out = gather_array(&a.t().t(), 1, &idx).unwrap();
    assert_eq!(out, array![[f16::from_f32(2.0)], [f16::from_f32(3.0)]]);
    let z = Array1::from_elem(2, bf16::ZERO);
    let sum = scatter_add_array(&z, 0, &array![1i64, 1], &array![bf16::ONE, bf16::ONE]).unwrap();
    assert_eq!(sum, array![bf16::ZERO, bf16::from_f32(2.0)]);
}
