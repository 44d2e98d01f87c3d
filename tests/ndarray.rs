//! The `ndarray` feature: `GatherExt` on every array type against the
//! reference on row-major copies, zero-copy views of every layout ndarray makes
//! (permuted, reversed, broadcast, sliced), and the refusal of gapped arrays
//! unless copied explicitly.

// The glob import first, then the user's own `ndarray` (and `bytemuck`) paths:
// with a module named `ndarray` in fastgather this file fails to compile
// (E0659, "`ndarray` is ambiguous"). Keep these imports as they are.
#[allow(unused_imports)]
use bytemuck::Zeroable as _;
use fastgather::*;
use ndarray::{
    ArcArray, Array, Array1, Array2, Array3, ArrayD, ArrayView, ArrayViewMut, Axis, CowArray, Ix2,
    Ix3, IxDyn, ShapeBuilder, arr0, array, s,
};

mod common;

use common::Rng;
use fastgather::nd::{copy_if_gapped, into_array, view, view_mut};

fn cube() -> Array3<i32> {
    Array3::from_shape_fn((3, 4, 5), |(i, j, k)| (100 * i + 10 * j + k) as i32)
}

/// `reference::gather` on row-major copies of `src` and `index`.
fn reference_gather(
    src: &ArrayView<'_, i32, Ix3>,
    dim: usize,
    index: &ArrayView<'_, i64, Ix3>,
) -> Vec<i32> {
    let copy: Vec<i32> = src.iter().copied().collect();
    let idx: Vec<i64> = index.iter().copied().collect();
    reference::gather(
        &TensorView::new(&copy, src.shape()).unwrap(),
        dim as isize,
        &TensorView::new(&idx, index.shape()).unwrap(),
    )
    .unwrap()
    .into_vec()
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
        // The methods borrow it as it is: no copy to make.
        assert!(v.copy_if_gapped().unwrap().is_view(), "{what}");
    }
}

/// `view` takes what ndarray's `AsArray` takes; a view passed by value lends
/// the data's lifetime, not the borrow's.
#[test]
fn view_takes_every_array_type() {
    let a = cube();
    let arc: ArcArray<i32, Ix3> = a.to_shared();
    let cow = CowArray::from(a.view());
    assert_eq!(view(&a).unwrap().to_vec(), view(&arc).unwrap().to_vec());
    assert_eq!(view(&cow).unwrap().shape(), &[3, 4, 5]);
    let t = view(a.slice(s![1, .., ..;-1])).unwrap(); // the temporary view is gone
    assert_eq!(t.get(&[0, 0]).copied(), Some(104));
    let mut b = cube();
    *view_mut(&mut b).unwrap().get_mut(&[0, 0, 1]).unwrap() = -1;
    assert_eq!(b[[0, 0, 1]], -1);
}

/// A huge broadcast source is read in place: a copy would not fit in memory.
#[test]
fn broadcast_operands_are_never_copied() {
    // 2^60 rows on 64-bit targets, 2^28 on 32-bit ones.
    const N: usize = 1 << (usize::BITS - 4);
    let row = array![10u64, 20, 30];
    let huge = row.broadcast((N, 3)).unwrap();
    assert!(huge.copy_if_gapped().unwrap().is_view());
    let idx = array![[N as i64 - 1, 7, 0]];
    assert_eq!(huge.gather(0, &idx).unwrap(), array![[10, 20, 30]]);
    // A huge index too: its result (`2N` eight-byte elements, 2^64 bytes or
    // 2^32, past `usize` either way) cannot exist, an error.
    let cols = array![2i64, 0];
    let idx = cols.broadcast((N, 2)).unwrap();
    let r = huge.gather(1, &idx);
    assert!(
        matches!(
            r,
            Err(GatherError::AllocationFailed { .. } | GatherError::ShapeOverflow { .. })
        ),
        "{r:?}"
    );
}

#[test]
fn gapped_arrays_are_refused_with_their_name() {
    let a = cube();
    for v in [
        a.slice(s![.., .., ..;2]),
        a.slice(s![.., 1..3, ..]),
        a.slice(s![..;2, .., ..]),
    ] {
        match view(v) {
            Err(GatherError::InvalidViewOp { op, reason }) => {
                assert_eq!(op, "nd::view");
                assert!(reason.contains("skips memory"), "{reason}");
                assert!(reason.contains("copy_if_gapped"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let mut b = cube();
    assert!(matches!(
        view_mut(b.slice_mut(s![.., .., 1..4])),
        Err(GatherError::InvalidViewOp {
            op: "nd::view_mut",
            ..
        })
    ));

    // Every method names the gapped operand.
    let src = Array2::from_shape_fn((4, 6), |(i, j)| (10 * i + j) as i32);
    let gapped = src.slice(s![.., ..;2]); // [4, 3]
    let idx = array![[2i64, 0, 1], [0, 0, 0]];
    let gapped_idx = array![[2i64, 9, 0, 9, 1, 9], [0, 9, 0, 9, 0, 9]];
    let gapped_idx = gapped_idx.slice(s![.., ..;2]);
    let vals = array![[1, 2, 3], [4, 5, 6]];
    let name = |r: Result<_, GatherError>| match r {
        Err(GatherError::InvalidViewOp { op, reason }) => {
            assert!(reason.contains("skips memory"), "{reason}");
            format!("{op}: {}", reason.split(' ').next().unwrap())
        }
        Err(e) => panic!("expected a refusal, got {e}"),
        Ok(()) => panic!("expected a refusal, got Ok"),
    };
    assert_eq!(name(gapped.gather(1, &idx).map(drop)), "gather: `self`");
    assert_eq!(
        name(src.gather(1, &gapped_idx).map(drop)),
        "gather: `index`"
    );
    assert_eq!(
        name(src.index_select(0, &gapped_idx.row(0)).map(drop)),
        "index_select: `index`"
    );
    assert_eq!(
        name(gapped.take_along_axis(&idx, 1).map(drop)),
        "take_along_axis: `self`"
    );
    let zeros = Array2::<i32>::zeros((2, 3));
    assert_eq!(
        name(zeros.scatter(1, &gapped_idx, &vals).map(drop)),
        "scatter: `index`"
    );
    assert_eq!(
        name(
            zeros
                .scatter_add(1, &idx, &gapped.slice(s![..2, ..]))
                .map(drop)
        ),
        "scatter_add: `src`"
    );

    // A gapped output or in-place `self`: refused and left untouched.
    let mut wide = Array2::<i32>::from_elem((2, 6), -1);
    assert_eq!(
        name(src.gather_into(1, &idx, &mut wide.slice_mut(s![.., ..;2]))),
        "gather_into: `out`"
    );
    assert_eq!(
        name(wide.slice_mut(s![.., 1..;2]).scatter_into(1, &idx, &vals)),
        "scatter_into: `self`"
    );
    assert_eq!(
        name(
            wide.slice_mut(s![.., 1..4])
                .scatter_add_into(1, &idx, &vals)
        ),
        "scatter_add_into: `self`"
    );
    assert!(wide.iter().all(|&v| v == -1));

    // The explicit copy, then the same results as on an owned copy.
    let copy = gapped.copy_if_gapped().unwrap();
    assert!(copy.is_owned() && copy.is_standard_layout());
    assert_eq!(copy, gapped);
    assert_eq!(
        copy.gather(1, &idx).unwrap(),
        gapped.to_owned().gather(1, &idx).unwrap()
    );
    // The function form takes the view by value: the result outlives it.
    let copy = copy_if_gapped(src.slice(s![.., ..;2])).unwrap();
    assert!(copy.is_owned());
    assert_eq!(copy, gapped);
    assert!(copy_if_gapped(src.slice(s![1.., ..;-1])).unwrap().is_view());
    // Non-in-place scatters copy `self` anyway (the result): a gapped one is fine.
    let out = gapped.slice(s![..2, ..]).scatter(1, &idx, &vals).unwrap();
    assert_eq!(out, array![[2, 3, 1], [6, 12, 14]]);
}

/// `gather` on views of every dense layout (and gapped ones through the
/// explicit copy), with C- and Fortran-order indices, agrees with the reference
/// gather on row-major copies, for every way of naming the dim.
#[test]
fn gather_matches_reference_on_every_layout() {
    let a = cube();
    let mut rng = Rng::new(7);
    let views: Vec<ArrayView<'_, i32, Ix3>> = vec![
        a.view(),
        a.view().permuted_axes([1, 2, 0]),
        a.slice(s![..;-1, .., ..]),
        a.slice(s![.., ..;-1, ..;-1]),
        a.slice(s![1..2, .., ..]),
        a.slice(s![..;-1, .., 1..]),
        a.slice(s![.., ..;2, ..;-2]),
    ];
    for v in views {
        let src = v.copy_if_gapped().unwrap();
        for dim in 0..3 {
            let mut shape = v.shape().to_vec();
            shape[dim] = 1 + rng.below(6);
            let bound = v.shape()[dim];
            let idx = Array::from_shape_fn(IxDyn(&shape), |_| rng.below(bound) as i64)
                .into_dimensionality::<Ix3>()
                .unwrap();
            let reversed: Vec<usize> = shape.iter().rev().copied().collect();
            let idx_t = Array::from_shape_fn(IxDyn(&reversed), |_| rng.below(bound) as i64)
                .into_dimensionality::<Ix3>()
                .unwrap();
            for idx in [idx.view(), idx_t.view().reversed_axes()] {
                let want = reference_gather(&v, dim, &idx);
                let got = src.gather(dim, &idx).unwrap();
                assert_eq!(got.shape(), idx.shape());
                assert!(got.is_standard_layout());
                assert_eq!(got.iter().copied().collect::<Vec<_>>(), want);
                let negative = dim as i32 - 3;
                assert_eq!(src.gather(negative, &idx).unwrap(), got);
                assert_eq!(src.gather(Axis(dim), &idx).unwrap(), got);
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
    let out = a.t().gather(1, &idx).unwrap();
    let want = Array2::from_shape_fn((3, 4), |(i, j)| a[[one_row[[0, j]] as usize, i]]);
    assert_eq!(out, want);
    // The result takes the index's dimension type.
    let dynamic = a.gather(0usize, &idx.t().into_dyn()).unwrap();
    assert_eq!(dynamic.ndim(), 2);
}

#[test]
fn gather_into_any_writable_array() {
    let src = array![[1, 2, 3], [4, 5, 6]];
    let idx = array![[2i64, 0, 1], [0, 0, 2]];
    let want = src.gather(1, &idx).unwrap();

    // Reversed rows: written in place.
    let mut out = Array2::<i32>::zeros((2, 3));
    src.gather_into(1, &idx, &mut out.slice_mut(s![..;-1, ..]))
        .unwrap();
    assert_eq!(out.slice(s![..;-1, ..]), want);

    // Fortran order, another dimension type.
    let mut f = ArrayD::<i32>::zeros(IxDyn(&[2, 3]).f());
    src.gather_into(-1, &idx, &mut f).unwrap();
    assert_eq!(f, want.clone().into_dyn());

    // A shared array is un-shared before writing, as ndarray's own methods do.
    let mut shared: ArcArray<i32, Ix2> = ArcArray::zeros((2, 3));
    let other = shared.clone();
    src.gather_into(1, &idx, &mut shared).unwrap();
    assert_eq!(shared, want);
    assert!(other.iter().all(|&v| v == 0));

    // Options: clamp mode, one thread.
    let wild = array![[-5i64, 99, 1], [3, -1, 0]];
    let clamp = GatherOptions::new().mode(IndexMode::Clamp).sequential();
    src.gather_into_with(1, &wild, &mut out, &clamp).unwrap();
    assert_eq!(out, array![[1, 3, 2], [6, 4, 4]]);
    assert_eq!(src.gather_with(1, &wild, &clamp).unwrap(), out);

    // Errors: torch's, nothing written for a wrong shape.
    let mut small = Array2::<i32>::zeros((2, 2));
    assert!(matches!(
        src.gather_into(1, &idx, &mut small),
        Err(GatherError::OutShapeMismatch { .. })
    ));
    assert!(small.iter().all(|&v| v == 0));
    assert!(matches!(
        src.gather_into(1, &array![[9i64, 0, 0], [0, 0, 0]], &mut out),
        Err(GatherError::IndexOutOfBounds {
            value: 9,
            dim: 1,
            size: 3,
            ..
        })
    ));
}

#[test]
fn scatter_and_scatter_add() {
    // torch's scatter_ example: src = arange(1, 11).view(2, 5), index [[0, 1, 2, 0]].
    let src = Array2::from_shape_vec((2, 5), (1..=10).collect::<Vec<i64>>()).unwrap();
    let zeros = Array2::<i64>::zeros((3, 5));
    let idx = array![[0i64, 1, 2, 0]];
    let want = array![[1, 0, 0, 4, 0], [0, 2, 0, 0, 0], [0, 0, 3, 0, 0]];
    assert_eq!(zeros.scatter(0, &idx, &src).unwrap(), want);
    let seq = GatherOptions::new().sequential();
    assert_eq!(zeros.scatter_with(0, &idx, &src, &seq).unwrap(), want);
    // In place, through a transposed view of a Fortran-order array.
    let mut t = Array2::<i64>::zeros((5, 3).f());
    t.view_mut()
        .reversed_axes()
        .scatter_into(0, &idx, &src)
        .unwrap();
    assert_eq!(t.t(), want);
    let mut shared = zeros.to_shared();
    let before = shared.clone();
    shared.scatter_into_with(0, &idx, &src, &seq).unwrap();
    assert_eq!((shared, before), (want.to_shared(), zeros.to_shared()));

    // scatter_add on a Fortran-order input keeps its values and shape.
    let input = Array2::from_shape_vec((2, 3).f(), vec![1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0]).unwrap();
    let idx = array![[2i64, 2], [0, 1]];
    let vals = array![[0.5f32, 0.25], [1.0, 2.0]];
    let want = array![[1.0, 2.0, 3.75], [5.0, 7.0, 6.0]];
    let out = input.scatter_add(1, &idx, &vals).unwrap();
    assert_eq!(out, want);
    assert!(out.is_standard_layout());
    assert_eq!(input.scatter_add_with(-1, &idx, &vals, &seq).unwrap(), want);
    let mut inplace = input.clone();
    inplace.scatter_add_into(Axis(1), &idx, &vals).unwrap();
    assert_eq!(inplace, want);
    inplace.scatter_add_into_with(1, &idx, &vals, &seq).unwrap();
    assert_eq!(inplace, array![[1.0, 2.0, 4.5], [6.0, 9.0, 6.0]]);

    // Errors pass through unchanged.
    assert!(matches!(
        input.scatter_add(2, &idx, &vals),
        Err(GatherError::DimOutOfRange { dim: 2, rank: 2 })
    ));
}

#[test]
fn index_select_and_take_along_axis() {
    let x = Array2::from_shape_fn((3, 4), |(i, j)| (4 * i + j) as u8);
    assert_eq!(
        x.index_select(1, &array![3i64, 0]).unwrap(),
        array![[3, 0], [7, 4], [11, 8]]
    );
    let rows = x
        .slice(s![..;-1, ..])
        .index_select(0, &array![0u32])
        .unwrap();
    assert_eq!(rows, array![[8, 9, 10, 11]]);
    assert_eq!(
        x.index_select(Axis(0), &arr0(2usize)).unwrap(),
        x.slice(s![2..3, ..])
    );

    let scores = array![[0.2f64, 0.9, 0.5], [0.7, 0.1, 0.4]];
    let order = array![[0i64, 2, 1], [1, 2, 0]];
    let sorted = scores.take_along_axis(&order, 1).unwrap();
    assert_eq!(sorted, array![[0.2, 0.5, 0.9], [0.1, 0.4, 0.7]]);
    // Negative indices and broadcasting, as numpy.
    let last = scores.take_along_axis(&array![[-1i64]], -1).unwrap();
    assert_eq!(last, array![[0.5], [0.4]]);
}

/// Every form of `index_select` and `take_along_axis` on arrays gives what the
/// free functions give on the same views; an N-d index needs an `IxDyn`
/// result, and a gapped output is refused by name.
#[test]
fn index_select_and_take_along_axis_forms() {
    let table = Array2::from_shape_fn((5, 3), |(i, j)| (10 * i + j) as i32);
    let ids = array![[4i64, 0], [2, 2]];
    let seq = GatherOptions::new().sequential();
    let want = index_select(&view(&table).unwrap(), 0, &view(&ids).unwrap()).unwrap();
    assert_eq!(want.shape(), &[2, 2, 3]);
    let dynamic = table.view().into_dyn();
    let got = dynamic.index_select_with(0, &ids, &seq).unwrap();
    assert_eq!(got.shape(), want.shape());
    assert_eq!(got.iter().copied().collect::<Vec<_>>(), want.as_slice());
    // A fixed Ix2 result cannot hold three axes: an error, not a panic.
    assert!(matches!(
        table.index_select(0, &ids),
        Err(GatherError::InvalidViewOp { .. })
    ));
    let mut out = Array3::<i32>::zeros((2, 2, 3));
    table.index_select_into(0, &ids, &mut out).unwrap();
    assert_eq!(out.as_slice().unwrap(), want.as_slice());
    let mut again = Array3::<i32>::zeros((2, 2, 3));
    table
        .index_select_into_with(0, &ids, &mut again, &seq)
        .unwrap();
    assert_eq!(again, out);
    let mut wide = Array3::<i32>::zeros((2, 2, 6));
    let mut gapped = wide.slice_mut(s![.., .., ..3]);
    assert!(matches!(
        table.index_select_into(0, &ids, &mut gapped),
        Err(GatherError::InvalidViewOp { reason, .. }) if reason.contains("`out`")
    ));

    let scores = array![[0.2f64, 0.9, 0.5], [0.7, 0.1, 0.4]];
    let pick = array![[1i64], [-3]];
    let want = array![[0.9], [0.7]];
    assert_eq!(scores.take_along_axis_with(&pick, 1, &seq).unwrap(), want);
    let mut best = Array2::<f64>::zeros((2, 1));
    scores.take_along_axis_into(&pick, 1, &mut best).unwrap();
    assert_eq!(best, want);
    let mut best_t = Array2::<f64>::zeros((1, 2));
    let mut best_t = best_t.view_mut().reversed_axes();
    scores
        .take_along_axis_into_with(&pick, 1, &mut best_t, &seq)
        .unwrap();
    assert_eq!(best_t, want);
    // A mode in the options replaces numpy's wrapping.
    let clamp = GatherOptions::new().mode(IndexMode::Clamp);
    assert_eq!(
        scores
            .take_along_axis_with(&array![[7i64], [-9]], 1, &clamp)
            .unwrap(),
        array![[0.5], [0.7]]
    );
}

#[test]
fn writable_views_write_the_arrays_memory() {
    let src = TensorView::new(&[1.5f32, 2.5, 3.5], &[3]).unwrap();
    let idx = TensorView::new(&[2i64, 0, 1, 1], &[2, 2]).unwrap();
    let srcs = src.unsqueeze(0).unwrap().expand(&[2, 3]).unwrap();
    let mut f = Array2::<f32>::zeros((2, 2).f());
    {
        let mut out = view_mut(&mut f).unwrap();
        assert_eq!(out.strides(), &[1, 2]);
        gather_into(&srcs, 1, &idx, &mut out).unwrap();
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
    assert_eq!(s.gather(0, &arr0(0usize)).unwrap(), arr0(4.0));
    let dynamic = s
        .clone()
        .into_dyn()
        .index_select(0, &array![0i64, 0])
        .unwrap();
    assert_eq!(dynamic.shape(), &[2]);
    // A 1-d result does not fit `Ix0`: an error, not a panic.
    assert!(matches!(
        s.index_select(0, &array![0i64]),
        Err(GatherError::InvalidViewOp { .. })
    ));

    let e = Array2::<i32>::zeros((0, 3));
    assert_eq!(
        e.gather(1, &Array2::<i64>::zeros((0, 2))).unwrap().shape(),
        &[0, 2]
    );
    // An empty index gives an empty result and nothing else is checked (torch).
    let idx = Array2::<i64>::zeros((5, 0));
    assert_eq!(e.gather(1, &idx).unwrap().shape(), &[5, 0]);
}

#[test]
fn tensors_become_arrays() {
    let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let idx = TensorView::new(&[2i64, 1], &[1, 2]).unwrap();
    let t: Tensor<i32> = gather(&src, 1, &idx).unwrap();
    let a: ArrayD<i32> = t.clone().into();
    assert_eq!(a, into_array(t));
    assert_eq!(a.into_dimensionality::<Ix2>().unwrap(), array![[3, 2]]);
}

/// The crate-level `Dim` accepts `ndarray::Axis` everywhere.
#[test]
fn axis_is_a_dim() {
    let x = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let i = TensorView::new(&[2i64, 0], &[2, 1]).unwrap();
    assert_eq!(
        gather(&x, Axis(1), &i).unwrap(),
        gather(&x, -1, &i).unwrap()
    );
    assert_eq!(x.unsqueeze(Axis(2)).unwrap().shape(), &[2, 3, 1]);
    assert!(matches!(
        gather(&x, Axis(2), &i),
        Err(GatherError::DimOutOfRange { dim: 2, rank: 2 })
    ));
}

#[cfg(feature = "half")]
#[test]
fn half_arrays() {
    use half::{bf16, f16};
    let a = Array2::from_shape_fn((2, 3), |(i, j)| f16::from_f32((3 * i + j) as f32));
    let out = a.t().t().gather(1, &array![[2i64], [0]]).unwrap();
    assert_eq!(out, array![[f16::from_f32(2.0)], [f16::from_f32(3.0)]]);
    let z = Array1::from_elem(2, bf16::ZERO);
    let sum = z
        .scatter_add(0, &array![1i64, 1], &array![bf16::ONE, bf16::ONE])
        .unwrap();
    assert_eq!(sum, array![bf16::ZERO, bf16::from_f32(2.0)]);
}
