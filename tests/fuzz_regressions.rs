//! Regressions found by the fuzz targets in `fuzz/` (see `fuzz/fuzz_targets/`),
//! each reduced to the smallest call through the public API that shows it.
//!
//! The rule they break is in the test's doc comment; the fuzz input that found
//! it is kept as a seed under `fuzz/seeds/<target>/` where noted.

use fastgather::{TensorView, TensorViewMut};

/// A quarter of the address range: `2^62` on 64-bit targets, `2^30` on 32-bit
/// ones. Four times it overflows `usize`; as a stride, a step of 2 overflows
/// `isize`.
const QUARTER: usize = 1 << (usize::BITS - 2);

/// A stride found by a fuzz target (on a 64-bit machine) at the same place in
/// `isize`'s range on this target: the value itself on 64-bit targets, its
/// high 32 bits on 32-bit ones.
fn fuzz_stride(v: i64) -> isize {
    (v >> (64 - isize::BITS)) as isize
}

/// `views`: no view method may panic. `is_contiguous` multiplies the sizes from
/// the innermost axis outwards in `isize`; an empty view (a size-0 outer axis)
/// may have inner sizes whose product overflows, and with overflow checks on
/// (debug and test builds) that multiplication panicked.
#[test]
fn is_contiguous_of_empty_view_with_huge_inner_sizes_does_not_panic() {
    let v = TensorView::<u32>::new(&[], &[0, QUARTER, 4]).unwrap();
    assert!(v.is_empty());
    let _ = v.is_contiguous();
    // `reshape` asks the same question.
    let _ = v.reshape(&[0]);
}

/// `views`: no view method may panic. `slice` computed the new stride as
/// `stride * step` in `isize` even when the result keeps one element along the
/// axis (where that stride is never used), so a large step overflowed.
/// Fuzz seed: `fuzz/seeds/views/huge_stride_size1_slice`.
#[test]
fn slice_with_huge_step_does_not_overflow() {
    let data: Vec<u32> = (0..6).collect();
    let v = TensorView::new(&data, &[3, 2]).unwrap();
    // One row (row 1) survives: stride 2 * step isize::MIN overflows.
    let s = v.slice(0, 1, 2, isize::MIN).unwrap();
    assert_eq!(s.shape(), &[1, 2]);
    assert_eq!(s.to_vec(), vec![2, 3]);
    let s = v.slice(0, 1, 3, isize::MAX).unwrap();
    assert_eq!(s.to_vec(), vec![2, 3]);
}

/// Same overflow through `flip`: a size-1 axis may carry any stride, and
/// negating `isize::MIN` overflows.
#[test]
fn flip_of_size_one_axis_with_min_stride_does_not_overflow() {
    let data = [7u32];
    let v = TensorView::with_strides(&data, &[1], &[isize::MIN], 0).unwrap();
    let f = v.flip(0).unwrap();
    assert_eq!(f.to_vec(), vec![7]);

    let mut data = [7u32];
    let v = TensorViewMut::with_strides(&mut data, &[1], &[isize::MIN], 0).unwrap();
    let f = v.flip(0).unwrap();
    assert_eq!(f.as_view().to_vec(), vec![7]);
}

/// `views`: an operation with valid arguments on a valid view yields a view.
/// Slicing or flipping an empty view along one of its *non-empty* axes moved
/// the offset to the first kept element as if the view had elements; that
/// offset can lie past the (possibly empty) buffer, and the result was rejected
/// with `ViewOutOfBounds`. torch: `torch.empty(0, 6).flip(1)` is fine.
#[test]
fn flip_and_slice_of_empty_view_along_non_empty_axis() {
    let empty: [u32; 0] = [];
    let v = TensorView::new(&empty, &[0, 6]).unwrap();
    let f = v.flip(1).expect("flip of an empty [0, 6] view");
    assert_eq!(f.shape(), &[0, 6]);
    let s = v.slice(1, 1, 6, -4).expect("slice of an empty [0, 6] view");
    assert_eq!(s.shape(), &[0, 2]);

    let mut empty: [u32; 0] = [];
    let m = TensorViewMut::new(&mut empty, &[0, 6]).unwrap();
    let f = m.flip(1).expect("flip of an empty writable [0, 6] view");
    assert_eq!(f.shape(), &[0, 6]);
}

/// `views`: an operation with valid arguments on a valid view yields a view.
/// An empty view's contiguous strides may exceed `isize` (torch counts a size-0
/// axis as 1, so the sizes behind a stride can be huge); `slice` with a step
/// multiplied such a stride and reported `ShapeOverflow`. An empty view's strides
/// are never used, so the slice must succeed. Fuzz seed:
/// `fuzz/seeds/views/regress_slice_step_empty_huge_stride`.
#[test]
fn slice_of_empty_view_with_huge_stride_and_step() {
    let empty: [u32; 0] = [];
    let v = TensorView::new(&empty, &[8, 0, QUARTER]).unwrap();
    let s = v
        .slice(0, 0, 8, -4)
        .expect("slice of an empty [8, 0, QUARTER] view");
    assert_eq!(s.shape(), &[2, 0, QUARTER]);
    assert!(s.is_empty());
    assert!(s.to_vec().is_empty());
    let f = s.flip(0).expect("flip of the sliced empty view");
    assert_eq!(f.shape(), &[2, 0, QUARTER]);

    let mut empty: [u32; 0] = [];
    let m = TensorViewMut::new(&mut empty, &[8, 0, QUARTER]).unwrap();
    let s = m
        .slice(0, 0, 8, 3)
        .expect("slice of an empty writable view");
    assert_eq!(s.shape(), &[3, 0, QUARTER]);
}

/// `gather_differential`: every path equals the reference, and none panics.
/// A size-1 gather axis may carry any stride (it is never stepped along, so plan
/// invariant 3 bounds nothing about it), but the affine drivers do arithmetic
/// on `gather_stride` as if it were a span inside the buffer:
/// `prefetch_distance` (`bound · width · |gather_stride|`) and `affine::packing`
/// (`|gather_stride| · width`) in `src/kernel/affine.rs` overflow `usize` (a
/// panic with overflow checks, garbage otherwise) for strides past about 2^59.
/// Found on the `Avx512` path with `u128` and `u64` elements; the cases below
/// run every path. (Treating the gather stride as 0 when `bound <= 1` in the
/// plan would remove the whole class.)
#[test]
fn gather_along_size_one_axis_with_huge_stride() {
    use fastgather::{GatherOptions, Isa, gather_with};
    for stride in [
        QUARTER as isize,
        -(QUARTER as isize),
        fuzz_stride(-3_386_706_945_552_417_247),
        isize::MAX,
        isize::MIN,
    ] {
        let data = [0x0123_4567_89ab_cdef_u64];
        let src = TensorView::with_strides(&data, &[1], &[stride], 0).unwrap();
        let idx = TensorView::new(&[0i64], &[1]).unwrap();
        let wide = [u128::MAX - 5];
        let src_wide = TensorView::with_strides(&wide, &[1], &[stride], 0).unwrap();
        // Rank 2: the gather axis (size 1, huge stride) in front of a size-1 axis.
        let src_2d = TensorView::with_strides(&data, &[1, 1], &[stride, 0], 0).unwrap();
        let idx_2d = TensorView::with_strides(&[0u64], &[1, 1], &[1, 1], 0).unwrap();
        for isa in Isa::available() {
            for opts in [
                GatherOptions::new().isa(isa),
                GatherOptions::new().isa(isa).sequential(),
            ] {
                let out = gather_with(&src, 0, &idx, &opts).unwrap();
                assert_eq!(out.as_slice(), &data, "{isa:?}, stride {stride}");
                let out = gather_with(&src_wide, -1, &idx, &opts).unwrap();
                assert_eq!(out.as_slice(), &wide, "{isa:?}, stride {stride}");
                let out = gather_with(&src_2d, -2, &idx_2d, &opts).unwrap();
                assert_eq!(out.as_slice(), &data, "{isa:?}, stride {stride}");
            }
        }
    }
}

/// `ops`: the losses on `[N, 0]` logits (no classes) with every row ignored
/// sliced a row out of the empty buffer and panicked; now they return the
/// (NaN) mean of no rows, as torch does.
#[test]
fn losses_on_zero_classes() {
    use fastgather::loss::{LossOptions, cross_entropy, cross_entropy_backward};
    let empty: [f64; 0] = [];
    let x = TensorView::new(&empty, &[3, 0]).unwrap();
    let y = TensorView::new(&[-1i64, -1, -1], &[3]).unwrap();
    let opts = LossOptions::new().ignore_index(-1);
    let loss = cross_entropy(&x, &y, &opts).unwrap();
    assert!(loss.as_slice()[0].is_nan());
    let one = 1.0f64;
    let g = cross_entropy_backward(&x, &y, &TensorView::scalar(&one), &opts).unwrap();
    assert_eq!(g.shape(), &[3, 0]);
    // A label that is not ignored has no class to name.
    let y = TensorView::new(&[-1i64, 0, -1], &[3]).unwrap();
    assert!(cross_entropy(&x, &y, &opts).is_err());
}

/// `ops`: an empty source (size 0 along the gather dim) is validated only for
/// its offset, so its other strides may be huge; with a non-empty index every
/// value is out of range, but the row arithmetic ran on those strides first and
/// overflowed (a panic with overflow checks). Now the error comes cleanly, and
/// `IndexMode::Fill` fills everything.
#[test]
fn empty_source_with_huge_strides() {
    use fastgather::{GatherError, GatherOptions, Isa, gather, gather_with};
    let empty: [u16; 0] = [];
    let src = TensorView::with_strides(
        &empty,
        &[0, 4, 5],
        &[
            fuzz_stride(-1628024535952824296),
            fuzz_stride(7559687903134913640),
            fuzz_stride(450592512079),
        ],
        0,
    )
    .unwrap();
    let idx = TensorView::new(&[0i64; 20], &[1, 4, 5]).unwrap();
    for isa in Isa::available() {
        let err = gather_with(&src, 0, &idx, &GatherOptions::new().isa(isa)).unwrap_err();
        assert!(
            matches!(err, GatherError::IndexOutOfBounds { size: 0, .. }),
            "{err:?}"
        );
    }
    let filled = gather_with(&src, 0, &idx, &GatherOptions::new().fill(7u16)).unwrap();
    assert_eq!(filled.as_slice(), &[7u16; 20]);
    assert!(gather(&src, 0, &idx).is_err());
}

/// `ops`: a `scatter_add` along an outer dim whose values (or index) have a
/// size-1 dim axis with a huge stride. The packed sweep asked for the lines of
/// the dim position 4 ahead by multiplying that stride, which overflowed under
/// overflow checks; prefetch hints now use wrapping offsets. Seed:
/// `fuzz/seeds/ops/scatter_packed_huge_dim_stride`.
#[test]
fn scatter_add_packed_sweep_with_huge_dim_stride() {
    use fastgather::{GatherOptions, scatter_add_into_with, scatter_into_with};
    for stride in [
        QUARTER as isize,
        -(QUARTER as isize),
        isize::MAX,
        isize::MIN,
    ] {
        // dest [2, 4] with rows 100 apart (a wide dim stride, so sweeps pack).
        let mut buf = vec![1i64; 200];
        let idx_data = [1i64, 0, 1, 0];
        let val_data = [10i64, 20, 30, 40];
        let idx = TensorView::with_strides(&idx_data, &[1, 4], &[stride, 1], 0).unwrap();
        let vals = TensorView::with_strides(&val_data, &[1, 4], &[stride, 1], 0).unwrap();
        for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
            buf.fill(1);
            let mut dest = TensorViewMut::with_strides(&mut buf, &[2, 4], &[100, 1], 0).unwrap();
            scatter_add_into_with(&mut dest, 0, &idx, &vals, &opts).unwrap();
            assert_eq!(&buf[..4], &[1, 21, 1, 41], "stride {stride}");
            assert_eq!(&buf[100..104], &[11, 1, 31, 1], "stride {stride}");
            let mut dest = TensorViewMut::with_strides(&mut buf, &[2, 4], &[100, 1], 0).unwrap();
            scatter_into_with(&mut dest, 0, &idx, &vals, &opts).unwrap();
            assert_eq!(&buf[..4], &[1, 20, 1, 40], "stride {stride}");
        }
    }
}

/// `gather_differential`: in wrap mode an out-of-range index reports the range
/// the call accepts, negatives included (`wraps: true`), on every path: the
/// tiny path and the planned kernels alike, and along an empty dim where no
/// value is valid. (The fuzz target's own model still expected `wraps: false`
/// after the error gained the field.) Fuzz seed:
/// `fuzz/seeds/gather_differential/wrap_error_on_empty_dim`.
#[test]
fn wrap_mode_errors_name_the_negative_range() {
    use fastgather::{GatherError, GatherOptions, IndexMode, gather_with};
    let src = TensorView::<bool>::with_strides(&[], &[2, 0], &[1, 1], 0).unwrap();
    let idx = TensorView::new(&[0i64; 6], &[2, 3]).unwrap();
    let want = GatherError::IndexOutOfBounds {
        value: 0,
        position: vec![0, 0],
        dim: 1,
        size: 0,
        wraps: true,
    };
    for opts in [
        GatherOptions::new().mode(IndexMode::Wrap),
        GatherOptions::new().mode(IndexMode::Wrap).sequential(),
    ] {
        assert_eq!(gather_with(&src, 1, &idx, &opts).unwrap_err(), want);
    }
    // A large call (past the tiny path) with one value too negative to wrap.
    let data: Vec<u32> = (0..64 * 8).collect();
    let src = TensorView::new(&data, &[64, 8]).unwrap();
    let mut picks = vec![-1i64; 64 * 8];
    picks[8 * 5 + 3] = -9;
    let idx = TensorView::new(&picks, &[64, 8]).unwrap();
    let err = gather_with(&src, 1, &idx, &GatherOptions::new().mode(IndexMode::Wrap)).unwrap_err();
    assert_eq!(
        err,
        GatherError::IndexOutOfBounds {
            value: -9,
            position: vec![5, 3],
            dim: 1,
            size: 8,
            wraps: true,
        }
    );
    assert!(err.to_string().contains("-8..=7"), "{err}");
}

/// `views`: `slice` takes Python's bounds, clamped to the size and empty when
/// the end does not pass the start, so a start past the end is an empty view,
/// not an error (the fuzz target's model still refused it after the change).
/// Fuzz seed: `fuzz/seeds/views/slice_bounds_clamp_like_python`.
#[test]
fn slice_bounds_past_the_size_give_an_empty_view() {
    let data: Vec<u32> = (0..60).collect();
    let v = TensorView::new(&data, &[3, 1, 1, 5, 2, 1, 2]).unwrap();
    let s = v.slice(0, 4, 3, -3).unwrap();
    assert_eq!(s.shape(), &[0, 1, 1, 5, 2, 1, 2]);
    let s = s.slice(0, 1, 3, isize::MIN).unwrap();
    assert_eq!(s.shape()[0], 0);
    // Python: list(range(3))[5:1] == [], [-2:] == [1, 2], [1:100] == [1, 2].
    let r = TensorView::new(&[0u32, 1, 2], &[3]).unwrap();
    assert!(r.slice(0, 5, 1, 1).unwrap().is_empty());
    assert_eq!(r.slice(0, -2, 3, 1).unwrap().to_vec(), vec![1, 2]);
    assert_eq!(r.slice(0, 1, 100, 1).unwrap().to_vec(), vec![1, 2]);
}

/// `views`: torch's dims on a 0-d tensor: dim 0 (or -1) names it, and
/// `transpose(0, 0)` and `flip(0)` give it back unchanged (the fuzz target's
/// model still refused them after the change); a later bad op still fails.
#[test]
fn zero_d_transpose_and_flip_are_the_view_itself() {
    let data = [7u32];
    let v = TensorView::new(&data, &[]).unwrap();
    let t = v.transpose(0, 0).unwrap().transpose(0, -1).unwrap();
    assert_eq!((t.shape(), t.to_vec()), (&[][..], vec![7]));
    assert_eq!(v.flip(0).unwrap().to_vec(), vec![7]);
    assert!(t.reshape(&[3, 2]).is_err());
    assert!(v.transpose(0, 1).is_err());
}
