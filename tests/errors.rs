//! Every `GatherError` that gather and the views can produce, with its exact
//! fields and the key facts of its message, and the documented state of `out`
//! after a failed `gather_into`.

mod common;

use common::{
    FAR, MUT_STYLES, Rng, Strided, Style, check_all, check_into, idx, random_out, random_vec,
};
use fastgather::{
    GatherError, GatherOptions, IndexElem, Isa, LayoutClass, Tensor, TensorView, TensorViewMut,
    explain, gather, gather_into, gather_into_with, gather_with, reference,
};
use std::fmt::Debug;

/// Runs every entry point (see `check_all`) and returns the error they agree on.
#[track_caller]
fn err_of<T: common::TestElem, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> GatherError {
    let mut rng = Rng::new(0xE770);
    match check_all(&mut rng, src, dim, index) {
        Ok(t) => panic!("expected an error, got a tensor of shape {:?}", t.shape()),
        Err(e) => e,
    }
}

/// Runs every entry point and returns the tensor they agree on.
#[track_caller]
fn ok_of<T: common::TestElem, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> Tensor<T> {
    let mut rng = Rng::new(0x0C);
    check_all(&mut rng, src, dim, index).unwrap_or_else(|e| panic!("unexpected error {e}"))
}

#[track_caller]
fn assert_msg(err: &GatherError, facts: &[&str]) {
    let msg = err.to_string();
    for fact in facts {
        assert!(
            msg.contains(fact),
            "message {msg:?} of {err:?} lacks {fact:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// DimOutOfRange
// ---------------------------------------------------------------------------

#[test]
fn dim_out_of_range_rank_2() {
    let data = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let src = TensorView::new(&data, &[2, 3]).unwrap();
    let index = TensorView::new(&[0i64, 1], &[2, 1]).unwrap();
    for dim in [2, 3, -3, -4, isize::MAX, isize::MIN] {
        let e = err_of(&src, dim, &index);
        assert_eq!(e, GatherError::DimOutOfRange { dim, rank: 2 });
    }
    for dim in [-2, -1, 0, 1] {
        ok_of(&src, dim, &index);
    }
    let e = err_of(&src, 2, &index);
    // torch: "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    assert_msg(&e, &["range", "[-2, 1]", "got 2"]);
    assert_msg(&err_of(&src, -3, &index), &["[-2, 1]", "got -3"]);
}

#[test]
fn dim_out_of_range_0d_counts_as_rank_1() {
    let x = 7u16;
    let src = TensorView::scalar(&x);
    let zero = 0i64;
    let scalar_index = TensorView::scalar(&zero);
    let three = [0i64; 3];
    let vector_index = TensorView::new(&three, &[3]).unwrap();
    for dim in [0, -1] {
        let r = ok_of(&src, dim, &scalar_index);
        assert_eq!((r.shape(), r.as_slice()), (&[][..], &[7u16][..]));
        let r = ok_of(&src, dim, &vector_index);
        assert_eq!((r.shape(), r.as_slice()), (&[3][..], &[7u16, 7, 7][..]));
    }
    for dim in [1, -2, 5] {
        assert_eq!(
            err_of(&src, dim, &scalar_index),
            GatherError::DimOutOfRange { dim, rank: 1 }
        );
        assert_eq!(
            err_of(&src, dim, &vector_index),
            GatherError::DimOutOfRange { dim, rank: 1 }
        );
    }
    assert_msg(&err_of(&src, 1, &scalar_index), &["[-1, 0]", "got 1"]);
}

#[test]
fn dim_is_checked_first() {
    let data = [0u8; 6];
    let src = TensorView::new(&data, &[2, 3]).unwrap();
    // Empty index: still a dim error.
    let empty: [i64; 0] = [];
    let e = err_of(&src, 2, &TensorView::new(&empty, &[0, 5, 7]).unwrap());
    assert_eq!(e, GatherError::DimOutOfRange { dim: 2, rank: 2 });
    // Wrong rank, oversized, out-of-range values: the dim error wins.
    let bad = [-1i64; 60];
    let e = err_of(&src, -3, &TensorView::new(&bad, &[3, 4, 5]).unwrap());
    assert_eq!(e, GatherError::DimOutOfRange { dim: -3, rank: 2 });
    let e = err_of(&src, 9, &TensorView::new(&bad, &[6, 10]).unwrap());
    assert_eq!(e, GatherError::DimOutOfRange { dim: 9, rank: 2 });
    // gather_into: before the out shape too.
    let mut out = [0u8; 4];
    let mut out = TensorViewMut::new(&mut out, &[4]).unwrap();
    let index = TensorView::new(&bad[..6], &[2, 3]).unwrap();
    let e = gather_into(&src, 2, &index, &mut out).unwrap_err();
    assert_eq!(e, GatherError::DimOutOfRange { dim: 2, rank: 2 });
}

// ---------------------------------------------------------------------------
// RankMismatch
// ---------------------------------------------------------------------------

#[test]
fn rank_mismatch() {
    let data: Vec<i32> = (0..6).collect();
    let src = TensorView::new(&data, &[2, 3]).unwrap();
    let zeros = [0i64; 8];
    let cases: [(&[usize], usize); 4] = [(&[2], 1), (&[1, 1, 1], 3), (&[], 0), (&[1, 1, 1, 1], 4)];
    for (shape, index_rank) in cases {
        let n: usize = shape.iter().product();
        let index = TensorView::new(&zeros[..n], shape).unwrap();
        for dim in [0, 1, -1] {
            let e = err_of(&src, dim, &index);
            assert_eq!(
                e,
                GatherError::RankMismatch {
                    src_rank: 2,
                    index_rank
                }
            );
        }
    }
    // 0-d src acts as 1-d: a 2-d index is a mismatch.
    let x = 1.5f64;
    let scalar = TensorView::scalar(&x);
    let index = TensorView::new(&zeros[..1], &[1, 1]).unwrap();
    let e = err_of(&scalar, 0, &index);
    assert_eq!(
        e,
        GatherError::RankMismatch {
            src_rank: 0,
            index_rank: 2
        }
    );
    assert_msg(&e, &["same number of dimensions", "2", "0"]);
    // ... and so is a 0-d index with a 2-d src.
    let z = 0i32;
    let e = err_of(&src, 1, &TensorView::scalar(&z));
    assert_eq!(
        e,
        GatherError::RankMismatch {
            src_rank: 2,
            index_rank: 0
        }
    );
}

#[test]
fn rank_is_checked_before_sizes_and_values() {
    let data = [0u32; 4];
    let src = TensorView::new(&data, &[2, 2]).unwrap();
    let bad = [99i64; 125];
    let index = TensorView::new(&bad, &[5, 5, 5]).unwrap();
    let e = err_of(&src, 0, &index);
    assert_eq!(
        e,
        GatherError::RankMismatch {
            src_rank: 2,
            index_rank: 3
        }
    );
}

// ---------------------------------------------------------------------------
// SizeMismatch
// ---------------------------------------------------------------------------

#[test]
fn size_mismatch_torch_example() {
    let data = [0.5f32; 6];
    let src = TensorView::new(&data, &[2, 3]).unwrap();
    let zeros = [0i64; 12];
    let index = TensorView::new(&zeros, &[4, 3]).unwrap();
    for dim in [1, -1] {
        let e = err_of(&src, dim, &index);
        assert_eq!(
            e,
            GatherError::SizeMismatch {
                axis: 0,
                dim: 1,
                index_shape: vec![4, 3],
                src_shape: vec![2, 3],
            }
        );
        // torch: "Size does not match at dimension 0 expected index [4, 3] to be no
        // larger than self [2, 3] apart from dimension 1"
        assert_msg(
            &e,
            &["dimension 0", "[4, 3]", "[2, 3]", "apart from dimension 1"],
        );
    }
    // Along dim 0 the index may be taller than the source.
    let r = ok_of(&src, 0, &index);
    assert_eq!(r.shape(), &[4, 3]);
}

#[test]
fn size_mismatch_names_first_bad_axis() {
    let data = [0u8; 16];
    let src = TensorView::new(&data, &[2, 2, 2, 2]).unwrap();
    let zeros = [0i64; 54];
    let index = TensorView::new(&zeros, &[3, 3, 2, 3]).unwrap();
    let expect = |axis, dim| GatherError::SizeMismatch {
        axis,
        dim,
        index_shape: vec![3, 3, 2, 3],
        src_shape: vec![2, 2, 2, 2],
    };
    assert_eq!(err_of(&src, 0, &index), expect(1, 0));
    assert_eq!(err_of(&src, -4, &index), expect(1, 0));
    assert_eq!(err_of(&src, 1, &index), expect(0, 1));
    assert_eq!(err_of(&src, 2, &index), expect(0, 2));
    assert_eq!(err_of(&src, -1, &index), expect(0, 3));
    // Only the last axis too big.
    let index = TensorView::new(&zeros[..24], &[2, 2, 2, 3]).unwrap();
    let e = err_of(&src, 0, &index);
    assert_eq!(
        e,
        GatherError::SizeMismatch {
            axis: 3,
            dim: 0,
            index_shape: vec![2, 2, 2, 3],
            src_shape: vec![2, 2, 2, 2],
        }
    );
    assert_eq!(ok_of(&src, 3, &index).shape(), &[2, 2, 2, 3]);
}

#[test]
fn sizes_are_checked_before_values() {
    let data = [0i8; 6];
    let src = TensorView::new(&data, &[3, 2]).unwrap();
    let bad = [-5i32; 6];
    let index = TensorView::new(&bad, &[2, 3]).unwrap();
    let e = err_of(&src, 0, &index);
    assert!(
        matches!(
            e,
            GatherError::SizeMismatch {
                axis: 1,
                dim: 0,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn empty_source_axis_is_a_size_mismatch_off_dim() {
    let data: [f32; 0] = [];
    let src = TensorView::new(&data, &[0, 3]).unwrap();
    let index = TensorView::new(&[0i64, 0, 0], &[1, 3]).unwrap();
    assert_eq!(
        err_of(&src, 1, &index),
        GatherError::SizeMismatch {
            axis: 0,
            dim: 1,
            index_shape: vec![1, 3],
            src_shape: vec![0, 3],
        }
    );
    // Along dim 0 every value is out of range for size 0.
    assert_eq!(
        err_of(&src, 0, &index),
        GatherError::IndexOutOfBounds {
            value: 0,
            position: vec![0, 0],
            dim: 0,
            size: 0,
            wraps: false
        }
    );
}

// ---------------------------------------------------------------------------
// IndexOutOfBounds
// ---------------------------------------------------------------------------

#[test]
fn index_out_of_bounds_torch_example() {
    let data: Vec<u64> = (0..6).collect();
    let src = TensorView::new(&data, &[2, 3]).unwrap();
    let index = TensorView::new(&[0i64, 1, 2, 5], &[2, 2]).unwrap();
    for dim in [1, -1] {
        let e = err_of(&src, dim, &index);
        assert_eq!(
            e,
            GatherError::IndexOutOfBounds {
                value: 5,
                position: vec![1, 1],
                dim: 1,
                size: 3,
                wraps: false
            }
        );
        // torch: "index 5 is out of bounds for dimension 1 with size 3"
        assert_msg(&e, &["index 5", "[1, 1]", "dimension 1", "size 3"]);
    }
}

/// Each bad value at each position of a small index, in each index type: the
/// error names the value exactly as stored, its position, the wrapped dim and
/// the size.
fn special_values<I: IndexElem + Debug>(values: &[i64]) {
    let data: Vec<f64> = (0..12).map(|v| v as f64).collect();
    let src = TensorView::new(&data, &[3, 4]).unwrap();
    for &raw in values {
        let v = I::from_i64_wrapping(raw);
        for dim in [0isize, 1, -1, -2] {
            let d = dim.rem_euclid(2) as usize;
            let size = [3usize, 4][d];
            for at in 0..6 {
                let mut index: Vec<I> = idx(&[0, 1, 2, 2, 1, 0]);
                index[at] = v;
                // A second bad value later must not be the one reported.
                if at < 5 {
                    index[5] = I::from_i64_wrapping(-1);
                }
                let iv = TensorView::new(&index, &[2, 3]).unwrap();
                let e = err_of(&src, dim, &iv);
                assert_eq!(
                    e,
                    GatherError::IndexOutOfBounds {
                        value: v.to_i128(),
                        position: vec![at / 3, at % 3],
                        dim: d,
                        size,
                        wraps: false
                    },
                    "raw value {raw}, dim {dim}, at {at}"
                );
                assert_msg(
                    &e,
                    &[
                        &v.to_i128().to_string(),
                        &format!("dimension {d}"),
                        &format!("size {size}"),
                    ],
                );
            }
        }
    }
}

#[test]
fn special_values_i64() {
    special_values::<i64>(&[
        4,
        5,
        -1,
        -4,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        i32::MAX as i64,
        1 << 40,
    ]);
}

#[test]
fn special_values_i32() {
    special_values::<i32>(&[
        4,
        5,
        -1,
        i32::MAX as i64,
        i32::MIN as i64,
        i32::MAX as i64 - 1,
    ]);
}

#[test]
fn special_values_u32() {
    special_values::<u32>(&[4, 5, u32::MAX as i64, i32::MAX as i64, 1 << 31]);
}

/// An expanded index copies whole runs and looks a few rows ahead, across
/// the ends of its outer axes: a bad value there is reported only at its own
/// row, and the first one in row-major order wins.
#[test]
fn expanded_index_reports_the_first_bad_row() {
    let data: Vec<f32> = (0..3 * 10 * 40).map(|v| v as f32).collect();
    let src = TensorView::new(&data, &[3, 10, 40]).unwrap();
    // Rows of the small index: (batch, k) at 6 · batch + k.
    for bad in [vec![13], vec![4, 13], vec![7], vec![17, 6]] {
        let mut small: Vec<i64> = (0..18).map(|r| r % 10).collect();
        for &r in &bad {
            small[r] = 10 + r as i64;
        }
        let first = *bad.iter().min().unwrap();
        let index = TensorView::new(&small, &[3, 6, 1])
            .unwrap()
            .expand(&[3, 6, 40])
            .unwrap();
        let choice = explain(&src, 1, &index, &GatherOptions::new()).unwrap();
        assert_eq!(choice.unwrap().class, LayoutClass::ExpandedRuns);
        let e = err_of(&src, 1, &index);
        assert_eq!(
            e,
            GatherError::IndexOutOfBounds {
                value: 10 + first as i128,
                position: vec![first / 6, first % 6, 0],
                dim: 1,
                size: 10,
                wraps: false
            },
            "bad rows {bad:?}"
        );
    }
}

#[test]
fn special_values_u64() {
    // -1 and i64::MIN wrap to u64::MAX and 2^63.
    special_values::<u64>(&[4, 5, -1, i64::MIN, i64::MAX, u32::MAX as i64]);
    let e = err_of(
        &TensorView::new(&[1u8, 2], &[2]).unwrap(),
        0,
        &TensorView::new(&[1u64, u64::MAX], &[2]).unwrap(),
    );
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: u64::MAX as i128,
            position: vec![1],
            dim: 0,
            size: 2,
            wraps: false
        }
    );
    assert_msg(&e, &["18446744073709551615", "[1]"]);
}

#[test]
fn special_values_usize() {
    // -1 and isize::MIN wrap to usize::MAX and 2^(BITS-1). (isize's extremes,
    // not i64's: on 32-bit targets i64::MIN would wrap to 0, a valid value.)
    special_values::<usize>(&[4, 5, -1, isize::MIN as i64, isize::MAX as i64]);
    let e = err_of(
        &TensorView::new(&[1u8, 2], &[2]).unwrap(),
        0,
        &TensorView::new(&[usize::MAX], &[1]).unwrap(),
    );
    assert!(
        matches!(e, GatherError::IndexOutOfBounds { value, .. } if value == usize::MAX as i128)
    );
}

/// A source whose gather dim has a large stride: `index × stride` would
/// overflow for the extreme values if it were formed before the range check.
#[test]
fn extreme_values_with_large_gather_stride() {
    let buf: Vec<u32> = (0..4003).collect();
    let src = TensorView::with_strides(&buf, &[3, 2], &[2000, 1], 1).unwrap();
    for v in [
        i64::MAX,
        i64::MIN,
        i64::MAX / 2000 + 1,
        -(i64::MAX / 2000) - 1,
        3,
    ] {
        let vals = [0i64, 1, 2, v];
        let index = TensorView::new(&vals, &[2, 2]).unwrap();
        let e = err_of(&src, 0, &index);
        assert_eq!(
            e,
            GatherError::IndexOutOfBounds {
                value: v as i128,
                position: vec![1, 1],
                dim: 0,
                size: 3,
                wraps: false
            }
        );
    }
    let index = TensorView::new(&[0i64, 1, 2, 2], &[2, 2]).unwrap();
    assert_eq!(ok_of(&src, 0, &index).as_slice(), &[1, 2002, 4001, 4002]);
}

/// The first bad value in row-major order of the logical index, not of memory.
#[test]
fn first_bad_in_row_major_order_of_a_transposed_index() {
    let data: Vec<i16> = (0..12).collect();
    let src = TensorView::new(&data, &[3, 4]).unwrap();
    // Memory [4, 3]; the view is its transpose, shape [3, 4]: logical (r, c) is
    // buffer[c * 3 + r].
    let mut buf = vec![0i64; 12];
    buf[2] = 100; // logical (2, 0): first in memory, late in row-major order
    buf[9] = -7; // logical (0, 3): the first in row-major order
    buf[7] = 50; // logical (1, 2)
    let index = TensorView::new(&buf, &[4, 3])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    assert_eq!(index.strides(), &[1, 3]);
    for dim in [0, 1] {
        let e = err_of(&src, dim, &index);
        assert_eq!(
            e,
            GatherError::IndexOutOfBounds {
                value: -7,
                position: vec![0, 3],
                dim: dim as usize,
                size: [3, 4][dim as usize],
                wraps: false
            }
        );
    }
    // Reversed rows: memory order runs backwards.
    let flipped = TensorView::new(&buf, &[4, 3])
        .unwrap()
        .flip(0)
        .unwrap()
        .flip(1)
        .unwrap();
    // logical (r, c) is buffer[(3 - r) * 3 + (2 - c)]: buffer[9] is (0, 2),
    // buffer[7] is (1, 1), buffer[2] is (3, 0).
    let data: Vec<i16> = (0..16).collect();
    let src = TensorView::new(&data, &[4, 4]).unwrap();
    let e = err_of(&src, 1, &flipped);
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: -7,
            position: vec![0, 2],
            dim: 1,
            size: 4,
            wraps: false
        }
    );
}

/// Large enough that the default options split the rows across threads: every
/// entry point still names the first bad value in row-major order.
fn first_bad_in_big_index(rows: usize, cols: usize, bad_rows: &[usize], transposed: bool) {
    let mut rng = Rng::new(rows as u64 * 31 + bad_rows.len() as u64);
    let src_data: Vec<f32> = random_vec(&mut rng, rows * cols);
    let src = TensorView::new(&src_data, &[rows, cols]).unwrap();
    let mut buf: Vec<i64> = (0..rows * cols).map(|k| (k % cols) as i64).collect();
    // Logical (r, c) is buf[r * cols + c], or buf[c * rows + r] when transposed.
    let at = |r: usize, c: usize| {
        if transposed {
            c * rows + r
        } else {
            r * cols + c
        }
    };
    for (k, &r) in bad_rows.iter().enumerate() {
        let c = (k * 7 + 3) % cols;
        buf[at(r, c)] = [cols as i64, -1, i64::MIN, i64::MAX][k % 4];
    }
    let index = if transposed {
        TensorView::new(&buf, &[cols, rows])
            .unwrap()
            .transpose(0, 1)
            .unwrap()
    } else {
        TensorView::new(&buf, &[rows, cols]).unwrap()
    };
    let first = *bad_rows.iter().min().unwrap();
    let k = bad_rows.iter().position(|&r| r == first).unwrap();
    let want = GatherError::IndexOutOfBounds {
        value: [cols as i128, -1, i64::MIN as i128, i64::MAX as i128][k % 4],
        position: vec![first, (k * 7 + 3) % cols],
        dim: 1,
        size: cols,
        wraps: false,
    };
    for _ in 0..4 {
        assert_eq!(gather(&src, 1, &index).unwrap_err(), want);
        assert_eq!(gather(&src, -1, &index).unwrap_err(), want);
        let seq = gather_with(&src, 1, &index, &GatherOptions::new().sequential());
        assert_eq!(seq.unwrap_err(), want);
        let mut out = Tensor::full(&[rows, cols], 0.0f32).unwrap();
        assert_eq!(
            gather_into(&src, 1, &index, &mut out.view_mut()).unwrap_err(),
            want
        );
        for isa in Isa::available() {
            let opts = GatherOptions::new().isa(isa);
            assert_eq!(
                gather_with(&src, 1, &index, &opts).unwrap_err(),
                want,
                "{isa:?}"
            );
            let seq = gather_with(&src, 1, &index, &opts.sequential());
            assert_eq!(seq.unwrap_err(), want, "{isa:?} sequential");
        }
    }
    assert_eq!(reference::gather(&src, 1, &index).unwrap_err(), want);
}

#[test]
fn first_bad_with_threads_late_rows() {
    // 4096 × 64 × (4 + 8) bytes: far above the serial cutoff.
    first_bad_in_big_index(4096, 64, &[3900, 4095, 3000, 2999], false);
}

#[test]
fn first_bad_with_threads_one_per_chunk() {
    let bad: Vec<usize> = (0..32).map(|k| 4095 - k * 128).collect();
    first_bad_in_big_index(4096, 64, &bad, false);
}

#[test]
fn first_bad_with_threads_only_the_last() {
    first_bad_in_big_index(4096, 64, &[4095], false);
    first_bad_in_big_index(4096, 64, &[0], false);
}

#[test]
fn first_bad_with_threads_transposed() {
    first_bad_in_big_index(4096, 64, &[4000, 2048, 2049, 3000], true);
    first_bad_in_big_index(8192, 3, &[8000, 7000, 6000], true);
}

/// The same under a pool of many threads (rayon is a default-on dependency of the crate).
#[cfg(feature = "rayon")]
#[test]
fn first_bad_with_an_8_thread_pool() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(8)
        .build()
        .unwrap();
    pool.install(|| {
        assert_eq!(rayon::current_num_threads(), 8);
        first_bad_in_big_index(4096, 64, &[4000, 3000, 2000, 1000, 4095], false);
        first_bad_in_big_index(4096, 64, &[4000, 1500], true);
    });
}

// ---------------------------------------------------------------------------
// OutShapeMismatch
// ---------------------------------------------------------------------------

#[test]
fn out_shape_mismatch() {
    let data = [1u8, 2, 3, 4, 5, 6];
    let src = TensorView::new(&data, &[2, 3]).unwrap();
    let index = TensorView::new(&[0i64, 2], &[2, 1]).unwrap();
    let shapes: [&[usize]; 5] = [&[2, 2], &[1, 2], &[2], &[], &[2, 1, 1]];
    for shape in shapes {
        let n: usize = shape.iter().product();
        let mut buf = vec![9u8; n];
        let mut out = TensorViewMut::new(&mut buf, shape).unwrap();
        let e = gather_into(&src, 1, &index, &mut out).unwrap_err();
        assert_eq!(
            e,
            GatherError::OutShapeMismatch {
                expected: vec![2, 1],
                actual: shape.to_vec(),
            }
        );
        assert!(buf.iter().all(|&b| b == 9), "out was written");
    }
    let mut buf = [0u8; 4];
    let e = gather_into(
        &src,
        1,
        &index,
        &mut TensorViewMut::new(&mut buf, &[2, 2]).unwrap(),
    )
    .unwrap_err();
    assert_msg(&e, &["[2, 2]", "[2, 1]"]);
    // An empty index still wants an out of its shape.
    let none: [i64; 0] = [];
    let index = TensorView::new(&none, &[0, 3]).unwrap();
    let mut buf: [u8; 0] = [];
    let e = gather_into(
        &src,
        1,
        &index,
        &mut TensorViewMut::new(&mut buf, &[3, 0]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::OutShapeMismatch {
            expected: vec![0, 3],
            actual: vec![3, 0],
        }
    );
}

// ---------------------------------------------------------------------------
// View construction errors
// ---------------------------------------------------------------------------

#[test]
fn rank_length_mismatch() {
    let mut buf = [0u8; 12];
    let e = TensorView::with_strides(&buf, &[2, 3], &[3], 0).unwrap_err();
    assert_eq!(
        e,
        GatherError::RankLengthMismatch {
            shape_len: 2,
            other_len: 1
        }
    );
    assert_msg(&e, &["2", "1"]);
    let e = TensorView::with_strides(&buf, &[], &[1], 0).unwrap_err();
    assert_eq!(
        e,
        GatherError::RankLengthMismatch {
            shape_len: 0,
            other_len: 1
        }
    );
    let e = TensorViewMut::with_strides(&mut buf, &[12], &[1, 1, 1], 0).unwrap_err();
    assert_eq!(
        e,
        GatherError::RankLengthMismatch {
            shape_len: 1,
            other_len: 3
        }
    );

    let v = TensorView::new(&buf, &[3, 4]).unwrap();
    assert_eq!(
        v.permute(&[0]).unwrap_err(),
        GatherError::RankLengthMismatch {
            shape_len: 2,
            other_len: 1
        }
    );
    assert_eq!(
        v.permute(&[0, 1, 2]).unwrap_err(),
        GatherError::RankLengthMismatch {
            shape_len: 2,
            other_len: 3
        }
    );
    let m = TensorViewMut::new(&mut buf, &[3, 4]).unwrap();
    assert_eq!(
        m.permute(&[0usize; 0]).unwrap_err(),
        GatherError::RankLengthMismatch {
            shape_len: 2,
            other_len: 0
        }
    );
}

#[test]
fn shape_overflow() {
    let empty: [u8; 0] = [];
    let big = [usize::MAX, 2];
    assert_eq!(
        TensorView::new(&empty, &big).unwrap_err(),
        GatherError::ShapeOverflow {
            shape: big.to_vec()
        }
    );
    assert_eq!(
        Tensor::from_vec(Vec::<u8>::new(), &big).unwrap_err(),
        GatherError::ShapeOverflow {
            shape: big.to_vec()
        }
    );
    let huge = [FAR, FAR];
    assert_eq!(
        Tensor::full(&huge, 0u8).unwrap_err(),
        GatherError::ShapeOverflow {
            shape: huge.to_vec()
        }
    );
    // Element count fits but strides or offset overflow isize.
    let mut buf = [0u8; 8];
    let cases: [(&[usize], &[isize], usize); 5] = [
        (&[2, 2], &[isize::MAX, 1], 0),
        (&[3], &[isize::MIN], 0),
        (&[3], &[isize::MAX / 2 + 1], 0),
        (&[1], &[1], usize::MAX),
        (&[usize::MAX], &[0], 0),
    ];
    for (shape, strides, offset) in cases {
        let want = GatherError::ShapeOverflow {
            shape: shape.to_vec(),
        };
        let e = TensorView::with_strides(&buf, shape, strides, offset).unwrap_err();
        assert_eq!(e, want, "{shape:?} {strides:?} {offset}");
        let e = TensorViewMut::with_strides(&mut buf, shape, strides, offset).unwrap_err();
        assert_eq!(e, want, "mut {shape:?} {strides:?} {offset}");
    }
    assert_msg(
        &GatherError::ShapeOverflow {
            shape: big.to_vec(),
        },
        &[&usize::MAX.to_string()],
    );
    // Through view operations.
    let v = TensorView::new(&buf, &[2, 4]).unwrap();
    assert_eq!(
        v.reshape(&big).unwrap_err(),
        GatherError::ShapeOverflow {
            shape: big.to_vec()
        }
    );
    let one = TensorView::new(&buf[..1], &[1, 1]).unwrap();
    assert_eq!(
        one.expand(&big).unwrap_err(),
        GatherError::ShapeOverflow {
            shape: big.to_vec()
        }
    );
}

#[test]
fn view_out_of_bounds() {
    let mut buf = [0u16; 6];
    let cases: [(&[usize], &[isize], usize, GatherError); 5] = [
        (
            &[2, 3],
            &[3, 1],
            1,
            GatherError::ViewOutOfBounds {
                min_offset: 1,
                max_offset: 6,
                len: 6,
            },
        ),
        (
            &[3],
            &[-1],
            0,
            GatherError::ViewOutOfBounds {
                min_offset: -2,
                max_offset: 0,
                len: 6,
            },
        ),
        (
            &[2, 2],
            &[-3, 4],
            2,
            GatherError::ViewOutOfBounds {
                min_offset: -1,
                max_offset: 6,
                len: 6,
            },
        ),
        (
            &[7],
            &[1],
            0,
            GatherError::ViewOutOfBounds {
                min_offset: 0,
                max_offset: 6,
                len: 6,
            },
        ),
        (
            &[],
            &[],
            6,
            GatherError::ViewOutOfBounds {
                min_offset: 6,
                max_offset: 6,
                len: 6,
            },
        ),
    ];
    for (shape, strides, offset, want) in cases {
        let e = TensorView::with_strides(&buf, shape, strides, offset).unwrap_err();
        assert_eq!(e, want, "{shape:?} {strides:?} {offset}");
        let e = TensorViewMut::with_strides(&mut buf, shape, strides, offset).unwrap_err();
        assert_eq!(e, want, "mut {shape:?} {strides:?} {offset}");
    }
    let e = TensorView::with_strides(&buf, &[2, 3], &[3, 1], 1).unwrap_err();
    assert_msg(&e, &["1", "6"]);
    // The edges that fit.
    TensorView::with_strides(&buf, &[2, 3], &[3, 1], 0).unwrap();
    TensorView::with_strides(&buf, &[3], &[-2], 4).unwrap();
    TensorView::with_strides(&buf, &[0, 4], &[4, 1], 6).unwrap();
    // No elements: any offset (torch's `as_strided` of an empty view).
    TensorView::with_strides(&buf, &[0, 4], &[4, 1], 7).unwrap();
    TensorViewMut::with_strides(&mut buf, &[0, 4], &[4, 1], 7).unwrap();
    TensorView::with_strides(&buf, &[], &[], 5).unwrap();
    let empty: [u16; 0] = [];
    assert_eq!(
        TensorView::with_strides(&empty, &[1], &[1], 0).unwrap_err(),
        GatherError::ViewOutOfBounds {
            min_offset: 0,
            max_offset: 0,
            len: 0
        }
    );
}

#[test]
fn overlapping_writable_views() {
    let mut buf = [0f32; 12];
    let cases: [(&[usize], &[isize], usize); 5] = [
        (&[3], &[0], 0),
        (&[2, 3], &[2, 1], 0),
        (&[2, 2], &[1, 1], 0),
        (&[2, 2], &[-1, 1], 1),
        (&[4, 3], &[0, 1], 0),
    ];
    for (shape, strides, offset) in cases {
        let e = TensorViewMut::with_strides(&mut buf, shape, strides, offset).unwrap_err();
        assert_eq!(
            e,
            GatherError::OverlappingView {
                shape: shape.to_vec(),
                strides: strides.to_vec(),
            }
        );
        // Read-only views may overlap.
        TensorView::with_strides(&buf, shape, strides, offset).unwrap();
    }
    let e = TensorViewMut::with_strides(&mut buf, &[3], &[0], 0).unwrap_err();
    assert_msg(&e, &["[3]", "[0]", "overlap"]);
    // Stride 0 on a size-1 axis, transposed and reversed layouts are fine.
    TensorViewMut::with_strides(&mut buf, &[1, 3], &[0, 1], 0).unwrap();
    TensorViewMut::with_strides(&mut buf, &[3, 4], &[1, 3], 0).unwrap();
    TensorViewMut::with_strides(&mut buf, &[3, 4], &[-4, -1], 11).unwrap();
    TensorViewMut::with_strides(&mut buf, &[2, 2], &[6, 2], 1).unwrap();
}

#[test]
fn length_mismatch() {
    let mut data = [1i32, 2, 3];
    let want = GatherError::LengthMismatch {
        expected: 4,
        actual: 3,
    };
    assert_eq!(TensorView::new(&data, &[2, 2]).unwrap_err(), want);
    assert_eq!(TensorViewMut::new(&mut data, &[2, 2]).unwrap_err(), want);
    assert_eq!(Tensor::from_vec(data.to_vec(), &[2, 2]).unwrap_err(), want);
    assert_msg(&want, &["3", "4"]);
    assert_eq!(
        Tensor::from_vec(Vec::<i32>::new(), &[]).unwrap_err(),
        GatherError::LengthMismatch {
            expected: 1,
            actual: 0
        }
    );
    assert_eq!(
        TensorView::new(&data, &[]).unwrap_err(),
        GatherError::LengthMismatch {
            expected: 1,
            actual: 3
        }
    );
    assert_eq!(
        TensorView::new(&data, &[3, 0]).unwrap_err(),
        GatherError::LengthMismatch {
            expected: 0,
            actual: 3
        }
    );
}

#[track_caller]
fn assert_view_op<T>(res: Result<T, GatherError>, op: &str) {
    match res {
        Err(e @ GatherError::InvalidViewOp { op: got, .. }) => {
            assert_eq!(got, op);
            assert_msg(&e, &[op]);
        }
        Err(e) => panic!("expected InvalidViewOp {op:?}, got {e:?}"),
        Ok(_) => panic!("expected InvalidViewOp {op:?}, got a view"),
    }
}

#[track_caller]
fn assert_dim_error<T>(res: Result<T, GatherError>, dim: isize, rank: usize) {
    match res {
        Err(e @ GatherError::DimOutOfRange { .. }) => {
            assert_eq!(e, GatherError::DimOutOfRange { dim, rank });
            assert_msg(&e, &["dimension out of range", &dim.to_string()]);
        }
        Err(e) => panic!("expected DimOutOfRange, got {e:?}"),
        Ok(_) => panic!("expected DimOutOfRange, got a view"),
    }
}

#[test]
fn invalid_view_ops() {
    let data: Vec<u8> = (0..6).collect();
    let v = TensorView::new(&data, &[2, 3]).unwrap();
    assert_view_op(v.permute(&[0, 0]), "permute");
    assert_view_op(v.permute(&[-1, 1]), "permute"); // -1 is dim 1: repeated
    assert_view_op(v.slice(1, 0, 3, 0), "slice");
    assert_view_op(v.expand(&[2, 6]), "expand");
    assert_view_op(v.expand(&[3]), "expand");
    assert_view_op(v.expand(&[4, 3]), "expand");
    assert_view_op(v.expand(&[-1, 2, 3]), "expand"); // -1 for a new leading dim
    assert_view_op(v.reshape(&[4]), "reshape");
    assert_view_op(v.reshape(&[7]), "reshape");
    assert_view_op(v.reshape(&[-1, -1]), "reshape");
    assert_view_op(v.reshape(&[-1, 4]), "reshape");
    assert_view_op(v.reshape(&[-2, 3]), "reshape");
    assert_view_op(v.transpose(0, 1).unwrap().reshape(&[6]), "reshape");
    assert_view_op(v.slice(1, 0, 3, 2).unwrap().reshape(&[4]), "reshape");

    // Dims outside [-rank, rank - 1] are torch's dim error, whatever the operation.
    assert_dim_error(v.permute(&[0, 2]), 2, 2);
    assert_dim_error(v.transpose(0, 2), 2, 2);
    assert_dim_error(v.transpose(-3, 0), -3, 2);
    assert_dim_error(v.slice(2, 0, 1, 1), 2, 2);
    assert_dim_error(v.flip(2), 2, 2);
    assert_dim_error(v.unsqueeze(3), 3, 3); // unsqueeze accepts [-3, 2]
    assert_dim_error(v.unsqueeze(-4), -4, 3);
    assert_dim_error(v.unsqueeze(usize::MAX), isize::MAX, 3);

    // Slices take Python's bounds: negative from the end, clamped, empty when reversed.
    assert_eq!(v.slice(1, 0, 4, 1).unwrap().shape(), &[2, 3]);
    assert_eq!(v.slice(1, 2, 1, 1).unwrap().shape(), &[2, 0]);
    assert_eq!(v.slice(-1, -2, 100, 1).unwrap().to_vec(), vec![1, 2, 4, 5]);
    assert_eq!(v.slice(0, -100, -1, 1).unwrap().to_vec(), vec![0, 1, 2]);

    let x = 0u8;
    let s = TensorView::scalar(&x);
    assert_eq!(
        s.permute(&[0]).unwrap_err(),
        GatherError::RankLengthMismatch {
            shape_len: 0,
            other_len: 1
        }
    );
    // A 0-d view takes dims 0 and -1 (torch's wrap_scalar) and is its own flip.
    assert_eq!(s.flip(0).unwrap().to_vec(), vec![0]);
    assert_eq!(s.transpose(0, -1).unwrap().rank(), 0);
    assert_dim_error(s.flip(1), 1, 1);
    assert_eq!(s.unsqueeze(-1).unwrap().shape(), &[1]);
    assert_dim_error(s.unsqueeze(1), 1, 1);

    let mut buf: Vec<u8> = (0..6).collect();
    macro_rules! m {
        () => {
            TensorViewMut::new(&mut buf, &[2, 3]).unwrap()
        };
    }
    assert_view_op(m!().permute(&[1, 1]), "permute");
    assert_dim_error(m!().transpose(0, 2), 2, 2);
    assert_eq!(m!().slice(0, 1, 3, 1).unwrap().shape(), &[1, 3]);
    assert_view_op(m!().slice(0, 0, 2, 0), "slice");
    assert_dim_error(m!().unsqueeze(5), 5, 3);
    assert_view_op(m!().reshape(&[5]), "reshape");
    assert_eq!(m!().reshape(&[3, -1]).unwrap().shape(), &[3, 2]);
    assert_view_op(m!().transpose(0, 1).unwrap().reshape(&[6]), "reshape");
    assert_dim_error(m!().flip(3), 3, 2);
}

#[test]
fn allocation_failed() {
    // 2^60 eight-byte elements (2^28 on 32-bit targets): 2^63 bytes (2^31),
    // one more than `isize::MAX`, refused before anything is allocated.
    let n = 1usize << (usize::BITS - 4);
    let bytes = isize::MAX as usize + 1;
    let e = Tensor::full(&[n], 0u64).unwrap_err();
    assert_eq!(e, GatherError::AllocationFailed { bytes });
    assert_msg(&e, &[&bytes.to_string()]);
    // gather's output: a broadcast index of that many elements over one value.
    let src = TensorView::new(&[1u64, 2], &[2]).unwrap();
    let zero = [0i64];
    let index = TensorView::with_strides(&zero, &[n], &[0], 0).unwrap();
    assert_eq!(index.len(), n);
    let e = gather(&src, 0, &index).unwrap_err();
    assert_eq!(e, GatherError::AllocationFailed { bytes });
    let e = gather_with(&src, 0, &index, &GatherOptions::new().sequential()).unwrap_err();
    assert_eq!(e, GatherError::AllocationFailed { bytes });
}

// ---------------------------------------------------------------------------
// Option errors
// ---------------------------------------------------------------------------

#[test]
fn isa_unavailable_or_usable() {
    let data = [1u32, 2, 3];
    let src = TensorView::new(&data, &[3]).unwrap();
    let index = TensorView::new(&[2i64, 0], &[2]).unwrap();
    let every = Isa::ALL;
    assert!(Isa::available().contains(&Isa::Scalar));
    for isa in every {
        let opts = GatherOptions::new().isa(isa);
        let mut buf = [0u32; 2];
        let into = gather_into_with(
            &src,
            0,
            &index,
            &mut TensorViewMut::new(&mut buf, &[2]).unwrap(),
            &opts,
        );
        if isa.is_available() {
            assert_eq!(
                gather_with(&src, 0, &index, &opts).unwrap().as_slice(),
                &[3, 1]
            );
            into.unwrap();
            assert_eq!(buf, [3, 1]);
        } else {
            let want = GatherError::IsaUnavailable { isa };
            assert_eq!(gather_with(&src, 0, &index, &opts).unwrap_err(), want);
            assert_eq!(into.unwrap_err(), want);
            assert_eq!(buf, [0, 0], "out written after {want:?}");
        }
    }
    assert_msg(
        &GatherError::IsaUnavailable { isa: Isa::Avx512 },
        &["Avx512"],
    );
}

#[test]
fn invalid_option_fill_of_another_width() {
    let data = [0.5f32, 1.5];
    let src = TensorView::new(&data, &[2]).unwrap();
    let index = TensorView::new(&[1i64, 7, 0], &[3]).unwrap();
    let opts = GatherOptions::new().fill(0.0f64);
    let e = gather_with(&src, 0, &index, &opts).unwrap_err();
    assert!(matches!(e, GatherError::InvalidOption { .. }), "{e:?}");
    assert_msg(&e, &["4 bytes", "8 bytes"]);
    let mut buf = [9.0f32; 3];
    let e2 = gather_into_with(
        &src,
        0,
        &index,
        &mut TensorViewMut::new(&mut buf, &[3]).unwrap(),
        &opts,
    );
    assert_eq!(e2.unwrap_err(), e);
    assert_eq!(buf, [9.0; 3], "out written after an option error");
}

// ---------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------

#[test]
fn every_message_carries_its_facts() {
    let cases: Vec<(GatherError, Vec<&str>)> = vec![
        (
            GatherError::DimOutOfRange { dim: -5, rank: 3 },
            vec!["[-3, 2]", "-5"],
        ),
        (
            GatherError::RankMismatch {
                src_rank: 3,
                index_rank: 2,
            },
            vec!["dimensions", "3", "2"],
        ),
        (
            GatherError::SizeMismatch {
                axis: 2,
                dim: 0,
                index_shape: vec![1, 2, 9],
                src_shape: vec![4, 5, 6],
            },
            vec!["dimension 2", "[1, 2, 9]", "[4, 5, 6]", "dimension 0"],
        ),
        (
            GatherError::IndexOutOfBounds {
                value: -9_223_372_036_854_775_808,
                position: vec![3, 0, 17],
                dim: 2,
                size: 11,
                wraps: false,
            },
            vec![
                "-9223372036854775808",
                "[3, 0, 17]",
                "dimension 2",
                "size 11",
            ],
        ),
        (
            GatherError::OutShapeMismatch {
                expected: vec![5, 1],
                actual: vec![1, 5],
            },
            vec!["[5, 1]", "[1, 5]"],
        ),
        (
            GatherError::RankLengthMismatch {
                shape_len: 4,
                other_len: 3,
            },
            vec!["4", "3"],
        ),
        (
            GatherError::ShapeOverflow {
                shape: vec![123, 456],
            },
            vec!["[123, 456]"],
        ),
        (
            GatherError::ViewOutOfBounds {
                min_offset: -17,
                max_offset: 99,
                len: 42,
            },
            vec!["-17", "99", "42"],
        ),
        (
            GatherError::OverlappingView {
                shape: vec![7, 8],
                strides: vec![0, 1],
            },
            vec!["[7, 8]", "[0, 1]"],
        ),
        (
            GatherError::LengthMismatch {
                expected: 77,
                actual: 66,
            },
            vec!["77", "66"],
        ),
        (
            GatherError::InvalidViewOp {
                op: "frobnicate",
                reason: "because".into(),
            },
            vec!["frobnicate", "because"],
        ),
        (
            GatherError::AllocationFailed { bytes: 31337 },
            vec!["31337"],
        ),
    ];
    for (e, facts) in &cases {
        assert_msg(e, facts);
        // It is a std error too.
        let dynamic: &dyn std::error::Error = e;
        assert_eq!(dynamic.to_string(), e.to_string());
    }
}

// ---------------------------------------------------------------------------
// The state of `out` after a failed gather_into
// ---------------------------------------------------------------------------

#[test]
fn out_untouched_on_dim_and_shape_errors() {
    let mut rng = Rng::new(0xA11);
    let data: Vec<f64> = random_vec(&mut rng, 24);
    let src = TensorView::new(&data, &[2, 3, 4]).unwrap();
    let zeros = [0i32; 64];
    let cases: [(isize, &[usize]); 5] = [
        (3, &[2, 3, 4]),  // dim
        (-4, &[1, 1, 1]), // dim
        (0, &[2, 3]),     // rank
        (1, &[3, 3, 4]),  // size, axis 0
        (0, &[2, 3, 5]),  // size, axis 2
    ];
    for (dim, shape) in cases {
        let n: usize = shape.iter().product();
        let index = TensorView::new(&zeros[..n], shape).unwrap();
        let want = reference::gather(&src, dim, &index);
        assert!(want.is_err());
        for style in MUT_STYLES {
            let mut out = random_out::<f64>(&mut rng, shape, style);
            check_into(
                &want,
                &src,
                dim,
                &index,
                &mut out,
                None,
                &format!("{dim} {shape:?} {style:?}"),
            );
        }
    }
}

#[test]
fn out_holds_old_or_gathered_values_on_index_errors() {
    let mut rng = Rng::new(0xB0B);
    for (rows, cols, bad_one_in) in [
        (3usize, 5usize, 7usize),
        (64, 64, 1000),
        (4096, 64, 50_000),
        (4096, 64, 3),
    ] {
        let data: Vec<f32> = random_vec(&mut rng, rows * cols * 2);
        let src = TensorView::new(&data, &[rows, cols * 2]).unwrap();
        let mut vals: Vec<i64> = common::index_vec(&mut rng, rows * cols, cols * 2, bad_one_in);
        // At least one bad value, somewhere past the first rows.
        let last = vals.len() - 1;
        vals[rng.range(last / 2, last)] = -1;
        let index = TensorView::new(&vals, &[rows, cols]).unwrap();
        let want = reference::gather(&src, 1, &index);
        assert!(matches!(want, Err(GatherError::IndexOutOfBounds { .. })));
        for style in MUT_STYLES {
            let mut out = random_out::<f32>(&mut rng, &[rows, cols], style);
            check_into(
                &want,
                &src,
                1,
                &index,
                &mut out,
                None,
                &format!("{rows}x{cols} {style:?}"),
            );
            let seq = GatherOptions::new().sequential();
            let mut out = random_out::<f32>(&mut rng, &[rows, cols], style);
            check_into(
                &want,
                &src,
                1,
                &index,
                &mut out,
                Some(&seq),
                &format!("seq {rows}x{cols} {style:?}"),
            );
        }
        // Also through a transposed index and a contiguous out.
        let t = Strided::place(&mut rng, &vals, &[rows, cols], Style::Permuted, |_| -1i64);
        let tv = t.view();
        let want = reference::gather(&src, 1, &tv);
        let mut out = random_out::<f32>(&mut rng, &[rows, cols], Style::Contiguous);
        check_into(&want, &src, 1, &tv, &mut out, None, "permuted index");
    }
}
