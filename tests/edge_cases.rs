//! The numbered edge cases of docs/SEMANTICS.md ("Edge cases the tests
//! cover"), each through every entry point and against the reference, plus the
//! behaviour of the view operations the tests build layouts with.

mod common;

use common::{
    FAR, Rng, STYLES, Strided, Style, TestElem, check_all, check_entry_points, check_layouts, idx,
    index_vec, random_index, random_src, random_vec,
};
use fastgather::{
    GatherError, GatherOptions, IndexElem, LayoutClass, Tensor, TensorView, TensorViewMut, explain,
    gather, gather_into, reference,
};

/// `out[p] = src[p with p[dim] = index[p]]`, written out for rank 3.
fn naive3<T: Copy>(src: &[T], s: [usize; 3], index: &[i64], i: [usize; 3], dim: usize) -> Vec<T> {
    let mut out = Vec::new();
    for a in 0..i[0] {
        for b in 0..i[1] {
            for c in 0..i[2] {
                let v = index[(a * i[1] + b) * i[2] + c] as usize;
                let mut p = [a, b, c];
                p[dim] = v;
                out.push(src[(p[0] * s[1] + p[1]) * s[2] + p[2]]);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// 1. Index smaller than src on inner non-dim axes, rank >= 3
// ---------------------------------------------------------------------------

fn smaller_inner_axes<I: IndexElem>(seed: u64) {
    let mut rng = Rng::new(seed);
    let src: Vec<i32> = (0..24).collect();
    let cases: [([usize; 3], usize); 6] = [
        ([2, 2, 4], 2),
        ([2, 2, 2], 0),
        ([2, 2, 4], 1),
        ([2, 2, 2], 1),
        ([2, 2, 2], 2),
        ([1, 1, 3], 2),
    ];
    for (ishape, dim) in cases {
        let n: usize = ishape.iter().product();
        let bound = [2, 3, 4][dim];
        let raw: Vec<i64> = (0..n).map(|_| rng.below(bound) as i64).collect();
        let want = naive3(&src, [2, 3, 4], &raw, ishape, dim);
        let index: Vec<I> = idx(&raw);
        for d in [dim as isize, dim as isize - 3] {
            let got =
                check_layouts(&mut rng, (&src, &[2, 3, 4]), d, (&index, &ishape), &STYLES).unwrap();
            assert_eq!(got.shape(), &ishape);
            assert_eq!(got.as_slice(), &want[..], "index {ishape:?} dim {d}");
        }
    }
}

#[test]
fn smaller_inner_axes_i64() {
    smaller_inner_axes::<i64>(1);
}

#[test]
fn smaller_inner_axes_i32() {
    smaller_inner_axes::<i32>(2);
}

#[test]
fn smaller_inner_axes_unsigned() {
    smaller_inner_axes::<u32>(3);
    smaller_inner_axes::<u64>(4);
    smaller_inner_axes::<usize>(5);
}

/// The two cases of the contract with hand-written results.
#[test]
fn smaller_inner_axes_by_hand() {
    let src: Vec<i32> = (0..24).collect();
    let s = TensorView::new(&src, &[2, 3, 4]).unwrap();
    // dim 2: out[i][j][k] = src[i][j][index[i][j][k]], j < 2 only.
    let raw = [3i64, 2, 1, 0, 0, 0, 3, 3, 1, 1, 1, 1, 2, 3, 0, 1];
    let i = TensorView::new(&raw, &[2, 2, 4]).unwrap();
    let out = gather(&s, 2, &i).unwrap();
    assert_eq!(
        out.as_slice(),
        &[3, 2, 1, 0, 4, 4, 7, 7, 13, 13, 13, 13, 18, 19, 16, 17]
    );
    // dim 0: out[i][j][k] = src[index[i][j][k]][j][k], j < 2 and k < 2 only.
    let raw = [1i64, 0, 0, 1, 0, 0, 1, 1];
    let i = TensorView::new(&raw, &[2, 2, 2]).unwrap();
    let out = gather(&s, 0, &i).unwrap();
    assert_eq!(out.as_slice(), &[12, 1, 4, 17, 0, 1, 16, 17]);
    assert_eq!(
        reference::gather(&s, 0, &i).unwrap().as_slice(),
        out.as_slice()
    );
}

/// Rank 4 and 5, the index smaller than the source on several axes at once.
#[test]
fn smaller_inner_axes_rank_4_and_5() {
    let mut rng = Rng::new(0x4455);
    let cases: [(&[usize], &[usize]); 4] = [
        (&[3, 4, 5, 2], &[2, 3, 7, 1]),
        (&[2, 3, 4, 5], &[1, 2, 3, 4]),
        (&[2, 2, 3, 2, 4], &[2, 1, 2, 2, 3]),
        (&[3, 1, 4, 2, 5], &[2, 1, 6, 1, 5]),
    ];
    for (sshape, ishape) in cases {
        for dim in 0..sshape.len() as isize {
            // The index may be anything along dim: make it match `ishape` there.
            let src: Vec<f32> = random_vec(&mut rng, sshape.iter().product());
            let bound = sshape[dim as usize];
            let index: Vec<i64> = index_vec(&mut rng, ishape.iter().product(), bound, 0);
            let ok = ishape
                .iter()
                .zip(sshape.iter())
                .enumerate()
                .all(|(k, (i, s))| k == dim as usize || i <= s);
            let r = check_layouts(&mut rng, (&src, sshape), dim, (&index, ishape), &STYLES);
            assert_eq!(r.is_ok(), ok, "{sshape:?} {ishape:?} dim {dim}: {r:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// 2. Expanded, [N, 1], transposed, offset and sliced index views
// ---------------------------------------------------------------------------

/// `idx.unsqueeze(-1).expand(B, K, D)`: the common way to gather rows.
#[test]
fn expanded_index_selects_whole_rows() {
    let mut rng = Rng::new(0xE4);
    for (b, s, k, d) in [
        (2, 5, 3, 4),
        (1, 3, 7, 1),
        (3, 9, 9, 17),
        (2, 4, 1, 8),
        (4, 16, 33, 2),
    ] {
        let src: Vec<f64> = random_vec(&mut rng, b * s * d);
        let sv = TensorView::new(&src, &[b, s, d]).unwrap();
        let raw: Vec<i64> = index_vec(&mut rng, b * k, s, 0);
        let small = TensorView::new(&raw, &[b, k]).unwrap();
        let expanded = small.unsqueeze(2).unwrap().expand(&[b, k, d]).unwrap();
        assert_eq!(expanded.strides()[2], 0);
        let want: Vec<f64> = (0..b * k * d)
            .map(|p| {
                let (bi, ki, di) = (p / (k * d), p / d % k, p % d);
                src[(bi * s + raw[bi * k + ki] as usize) * d + di]
            })
            .collect();
        for dim in [1, -2] {
            let got = check_all(&mut rng, &sv, dim, &expanded).unwrap();
            common::assert_bits(got.as_slice(), &want, "expanded rows");
            // Equal to the call on a contiguous copy of the index.
            let copy = expanded.to_tensor();
            let got_c = gather(&sv, dim, &copy.view()).unwrap();
            common::assert_bits(got.as_slice(), got_c.as_slice(), "contiguous copy");
        }
    }
}

/// An `[N, 1]` index whose size-1 axis has stride 0 or 1 (both are what torch
/// makes of `y.view(-1, 1)` and `y.unsqueeze(1)`), against the contiguous call.
#[test]
fn column_index_with_odd_strides() {
    let mut rng = Rng::new(0x11);
    for n in [1usize, 2, 7, 8, 9, 16, 17, 100] {
        for s in [1usize, 2, 3, 16] {
            let src: Vec<u32> = random_vec(&mut rng, n * s);
            let sv = TensorView::new(&src, &[n, s]).unwrap();
            let raw: Vec<i64> = index_vec(&mut rng, n, s, 0);
            let want = gather(&sv, 1, &TensorView::new(&raw, &[n, 1]).unwrap()).unwrap();
            let expect: Vec<u32> = (0..n).map(|r| src[r * s + raw[r] as usize]).collect();
            assert_eq!(want.as_slice(), &expect[..]);
            for strides in [[1isize, 0], [1, 1], [1, 7], [1, -3]] {
                let iv = TensorView::with_strides(&raw, &[n, 1], &strides, 0).unwrap();
                let got = check_all(&mut rng, &sv, 1, &iv).unwrap();
                assert_eq!(
                    got.as_slice(),
                    want.as_slice(),
                    "n {n} s {s} strides {strides:?}"
                );
            }
            // Gathering along dim 0 of an [M, 1] source with an [N, 1] index.
            let col: Vec<u32> = random_vec(&mut rng, s);
            let cv = TensorView::new(&col, &[s, 1]).unwrap();
            for strides in [[1isize, 0], [1, 1]] {
                let iv = TensorView::with_strides(&raw, &[n, 1], &strides, 0).unwrap();
                let got = check_all(&mut rng, &cv, 0, &iv).unwrap();
                let expect: Vec<u32> = raw.iter().map(|&v| col[v as usize]).collect();
                assert_eq!(got.as_slice(), &expect[..]);
            }
        }
    }
}

/// Broadcast along the gather dim itself, and a broadcast source.
#[test]
fn expanded_along_dim_and_expanded_source() {
    let mut rng = Rng::new(0x22);
    let src: Vec<i16> = random_vec(&mut rng, 5 * 6);
    let sv = TensorView::new(&src, &[5, 6]).unwrap();
    let row: Vec<i32> = idx(&[4, 0, 3, 3, 1, 2]);
    let iv = TensorView::new(&row, &[1, 6])
        .unwrap()
        .expand(&[9, 6])
        .unwrap();
    let got = check_all(&mut rng, &sv, 0, &iv).unwrap();
    for r in 0..9 {
        for c in 0..6 {
            assert_eq!(got.as_slice()[r * 6 + c], src[row[c] as usize * 6 + c]);
        }
    }
    // The source broadcast along both axes: every output is the one value.
    let one = [42i16];
    let bv = TensorView::with_strides(&one, &[5, 6], &[0, 0], 0).unwrap();
    for dim in [0, 1] {
        let raw: Vec<i32> = idx(&[4, 0, 3, 3, 1, 2, 0, 0]);
        let iv = TensorView::new(&raw, &[2, 4]).unwrap();
        assert_eq!(
            check_all(&mut rng, &bv, dim, &iv).unwrap().as_slice(),
            &[42; 8]
        );
    }
    // Broadcast along the gather dim of the source: any in-range index reads the same.
    let base: Vec<i16> = (0..6).collect();
    let dv = TensorView::new(&base, &[1, 6])
        .unwrap()
        .expand(&[1000, 6])
        .unwrap();
    let raw: Vec<i64> = idx(&[999, 0, 500, 1, 998, 3]);
    let iv = TensorView::new(&raw, &[1, 6]).unwrap();
    assert_eq!(
        check_all(&mut rng, &dv, 0, &iv).unwrap().as_slice(),
        &[0, 1, 2, 3, 4, 5]
    );
}

/// Random strided index and source layouts of every style equal the contiguous call.
#[test]
fn every_layout_equals_contiguous() {
    let mut rng = Rng::new(0x33);
    let shapes: [(&[usize], &[usize], isize); 5] = [
        (&[4, 5], &[3, 5], 0),
        (&[4, 5], &[4, 9], 1),
        (&[3, 4, 5], &[2, 4, 3], -1),
        (&[6], &[11], 0),
        (&[2, 3, 2, 3], &[2, 2, 2, 3], 2),
    ];
    for (ss, is, dim) in shapes {
        let src: Vec<u64> = random_vec(&mut rng, ss.iter().product());
        let d = dim.rem_euclid(ss.len() as isize) as usize;
        let index: Vec<i64> = index_vec(&mut rng, is.iter().product(), ss[d], 0);
        check_layouts(&mut rng, (&src, ss), dim, (&index, is), &STYLES).unwrap();
        // And views built with the view operations.
        let sv = TensorView::new(&src, ss).unwrap();
        let iv = TensorView::new(&index, is).unwrap();
        let want = gather(&sv, dim, &iv).unwrap();
        let r = ss.len();
        let rev: Vec<usize> = (0..r).rev().collect();
        // A buffer holding the index transposed, viewed back: a transposed index.
        let t_shape: Vec<usize> = rev.iter().map(|&k| is[k]).collect();
        let t_buf = TensorView::new(&index, is)
            .unwrap()
            .permute(&rev)
            .unwrap()
            .to_vec();
        let t_view = TensorView::new(&t_buf, &t_shape)
            .unwrap()
            .permute(&rev)
            .unwrap();
        assert_eq!(t_view.shape(), is);
        let got = check_all(&mut rng, &sv, dim, &t_view).unwrap();
        assert_eq!(got.as_slice(), want.as_slice());
        // Flipped twice along every axis: the same logical tensor with negative strides.
        let mut f_buf: Vec<u64> = src.clone();
        f_buf.reverse();
        let f_view = TensorView::new(&f_buf, ss).unwrap();
        let f_src = (0..r).fold(f_view, |v, k| v.flip(k).unwrap());
        assert!(f_src.strides().iter().all(|&s| s < 0));
        let got = check_all(&mut rng, &f_src, dim, &iv).unwrap();
        assert_eq!(got.as_slice(), want.as_slice());
        // An index sliced out of a larger buffer, at an offset, with a step.
        let mut big_shape: Vec<usize> = is.iter().map(|&n| 2 * n + 1).collect();
        big_shape[0] += 1;
        let mut big = vec![-1i64; big_shape.iter().product()];
        let mut sliced = TensorViewMut::new(&mut big, &big_shape).unwrap();
        sliced = sliced.slice(0, 1, 1 + 2 * is[0], 2).unwrap();
        for (k, &n) in is.iter().enumerate().skip(1) {
            sliced = sliced.slice(k, 1, 1 + 2 * n, 2).unwrap();
        }
        assert_eq!(sliced.shape(), is);
        for (p, &v) in common::positions(is).iter().zip(&index) {
            *sliced.get_mut(p).unwrap() = v;
        }
        let sliced = sliced.as_view().to_tensor();
        assert_eq!(sliced.as_slice(), &index[..]);
        let view = TensorView::new(&big, &big_shape).unwrap();
        let mut v = view.slice(0, 1, 1 + 2 * is[0], 2).unwrap();
        for (k, &n) in is.iter().enumerate().skip(1) {
            v = v.slice(k, 1, 1 + 2 * n, 2).unwrap();
        }
        assert!(v.offset() > 0);
        let got = check_all(&mut rng, &sv, dim, &v).unwrap();
        assert_eq!(got.as_slice(), want.as_slice());
    }
}

/// Every operand padded by one element per axis. Where an axis's padded
/// extent equals its outer neighbour's size, a merge rule checking the wrong
/// size would fuse axes that must stay apart; every small shape is tried.
#[test]
fn padded_layouts_on_every_operand() {
    let mut rng = Rng::new(0x9AD);
    for rank in 1..=4u32 {
        for code in 0..4usize.pow(rank) {
            let shape: Vec<usize> = (0..rank).map(|k| 1 + code / 4usize.pow(k) % 4).collect();
            for dim in 0..rank as usize {
                let src = random_src::<u16>(&mut rng, &shape, Style::Padded);
                let index = random_index::<i64>(&mut rng, &shape, Style::Padded, shape[dim], 0);
                let want = check_all(&mut rng, &src.view(), dim as isize, &index.view());
                assert!(want.is_ok());
                let mut out = common::random_out::<u16>(&mut rng, &shape, Style::Padded);
                common::check_into(
                    &want,
                    &src.view(),
                    dim as isize,
                    &index.view(),
                    &mut out,
                    None,
                    "padded out",
                );
            }
        }
    }
}

/// Ranks past the inline capacity of the crate's small vectors (shapes, strides
/// and plan axes spill to the heap), in layouts whose axes cannot be merged.
#[test]
fn high_ranks() {
    let mut rng = Rng::new(0x4A4C);
    let cases: [(&[usize], &[usize]); 4] = [
        (&[2, 3, 2, 3, 2, 2, 2], &[2, 2, 2, 3, 1, 2, 2]),
        (&[2, 2, 2, 2, 2, 2, 2, 2], &[2, 2, 2, 2, 2, 2, 2, 2]),
        (&[3, 1, 2, 1, 3, 1, 2, 1, 2], &[2, 1, 2, 1, 3, 1, 1, 1, 2]),
        (&[2, 2, 2, 2, 2, 2], &[1, 2, 1, 2, 1, 2]),
    ];
    for (ss, is) in cases {
        for dim in -(ss.len() as isize)..ss.len() as isize {
            let d = dim.rem_euclid(ss.len() as isize) as usize;
            for style in [
                Style::Permuted,
                Style::Padded,
                Style::Random,
                Style::Stepped,
            ] {
                let src = random_src::<f32>(&mut rng, ss, style);
                let index_style = rng.pick(&STYLES);
                let index = random_index::<i32>(&mut rng, is, index_style, ss[d], 40);
                check_all(&mut rng, &src.view(), dim, &index.view()).ok();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Extreme index values
// ---------------------------------------------------------------------------

fn extreme_values<I: IndexElem>(raw: &[i64]) {
    let mut rng = Rng::new(0x55);
    let src: Vec<f32> = random_vec(&mut rng, 12);
    let sv = TensorView::new(&src, &[4, 3]).unwrap();
    for &r in raw {
        let v = I::from_i64_wrapping(r);
        let mut vals: Vec<I> = idx(&[0, 1, 2, 2, 1, 0]);
        vals[4] = v;
        // A later bad value must not be reported instead.
        vals[5] = I::from_i64_wrapping(-1);
        for style in STYLES {
            let s = Strided::place(
                &mut rng,
                &vals,
                &[2, 3],
                if style == Style::Expanded {
                    Style::Random
                } else {
                    style
                },
                |_| I::from_i64_wrapping(1),
            );
            let e = check_all(&mut rng, &sv, 1, &s.view()).unwrap_err();
            assert_eq!(
                e,
                GatherError::IndexOutOfBounds {
                    value: v.to_i128(),
                    position: vec![1, 1],
                    dim: 1,
                    size: 3,
                    wraps: false
                }
            );
        }
    }
}

#[test]
fn extreme_values_every_index_type() {
    let common = [
        3,
        4,
        -1,
        i64::MIN,
        i64::MAX,
        i32::MAX as i64,
        i32::MIN as i64,
    ];
    extreme_values::<i64>(&common);
    extreme_values::<i32>(&[3, -1, i32::MAX as i64, i32::MIN as i64, i32::MAX as i64 - 1]);
    extreme_values::<u32>(&[3, -1, i32::MAX as i64, u32::MAX as i64 - 1]);
    extreme_values::<u64>(&common);
    // Values wrap to the index type: `usize`'s extremes are `isize`'s (i64's
    // on 64-bit targets; on 32-bit ones i64::MIN would wrap to a valid 0).
    extreme_values::<usize>(&[
        3,
        4,
        -1,
        isize::MIN as i64,
        isize::MAX as i64,
        i32::MAX as i64,
        i32::MIN as i64,
    ]);
}

/// In range and out of range near the top of an index type, for a source
/// broadcast (stride 0) to `size` along dim 1 over the buffer `[7, 9]` (one
/// row of it where two rows of `size` would not fit in `isize`).
fn near_the_top<I: IndexElem>(rng: &mut Rng, size: usize, good: i64, bad: i64) {
    let base = [7u8, 9];
    let rows = if size <= isize::MAX as usize / 2 {
        2
    } else {
        1
    };
    let sv = TensorView::with_strides(&base, &[rows, size], &[1, 0], 0).unwrap();
    let raw: Vec<I> = idx(&[good, 0][..rows]);
    let iv = TensorView::new(&raw, &[rows, 1]).unwrap();
    // The reference reads the broadcast source in place; no copies of it are made.
    let want = reference::gather(&sv, 1, &iv);
    assert_eq!(
        want.as_ref().unwrap().as_slice(),
        &[7, 9][..rows],
        "size {size} value {good}"
    );
    check_entry_points(rng, &sv, 1, &iv, &want);
    let raw: Vec<I> = idx(&[0, bad][2 - rows..]);
    let iv = TensorView::new(&raw, &[rows, 1]).unwrap();
    let want = reference::gather(&sv, 1, &iv);
    assert_eq!(
        want.as_ref().unwrap_err(),
        &GatherError::IndexOutOfBounds {
            value: raw[rows - 1].to_i128(),
            position: vec![rows - 1, 0],
            dim: 1,
            size,
            wraps: false
        }
    );
    check_entry_points(rng, &sv, 1, &iv, &want);
}

/// Index values near `i32::MAX`, `u32::MAX`, `2^62` and `isize::MAX` are in
/// range for a source that large along dim, and one past is not. A dim holds
/// at most `isize::MAX` elements, so on 32-bit targets the sizes past
/// `i32::MAX` do not exist (they are skipped) and the top is `i32::MAX`.
#[test]
fn values_near_the_top_of_each_index_type() {
    let mut rng = Rng::new(0x66);
    // `size` as a dim's size, where a dim can be that large.
    let dim_size = |size: i64| {
        usize::try_from(size)
            .ok()
            .filter(|&s| s <= isize::MAX as usize)
    };
    let i32_max = i32::MAX as i64;
    let u32_max = u32::MAX as i64;
    let top = isize::MAX as i64;
    // (size, the largest value in range, a value out of range)
    for (size, good, bad) in [
        (i32_max, i32_max - 1, i32_max),
        (i32_max + 1, i32_max, i32::MIN as i64),
    ] {
        if let Some(size) = dim_size(size) {
            near_the_top::<i32>(&mut rng, size, good, bad);
        }
    }
    for (size, good, bad) in [
        (i32_max, i32_max - 1, i32_max),
        (i32_max + 1, i32_max, i32_max + 1),
        (u32_max, u32_max - 1, u32_max),
    ] {
        if let Some(size) = dim_size(size) {
            near_the_top::<u32>(&mut rng, size, good, bad);
        }
    }
    for (size, good, bad) in [
        (i32_max, i32_max - 1, i32_max),
        (u32_max + 1, u32_max, u32_max + 1),
        (1 << 62, (1 << 62) - 1, 1 << 62),
        (top, top - 1, top),
    ] {
        let Some(size) = dim_size(size) else {
            continue;
        };
        near_the_top::<i64>(&mut rng, size, good, bad);
        near_the_top::<u64>(&mut rng, size, good, bad);
        near_the_top::<usize>(&mut rng, size, good, bad);
    }
    // u64 values past i64::MAX are out of range even for the largest sizes.
    near_the_top::<u64>(&mut rng, isize::MAX as usize, 0, -1);
    near_the_top::<u64>(&mut rng, isize::MAX as usize, 1, i64::MIN);
}

// ---------------------------------------------------------------------------
// 4. 0-d tensors
// ---------------------------------------------------------------------------

fn zero_d<I: IndexElem>() {
    let mut rng = Rng::new(0x0D);
    let x = 2.5f64;
    let scalar = TensorView::scalar(&x);
    let zero = I::from_i64_wrapping(0);
    // (0-d src, index [0, 0, 0]) -> [x, x, x]
    let zeros = [zero; 3];
    let iv = TensorView::new(&zeros, &[3]).unwrap();
    for dim in [0, -1] {
        let out = check_all(&mut rng, &scalar, dim, &iv).unwrap();
        assert_eq!((out.shape(), out.as_slice()), (&[3][..], &[x, x, x][..]));
        // (0-d, 0-d) -> 0-d
        let out = check_all(&mut rng, &scalar, dim, &TensorView::scalar(&zero)).unwrap();
        assert_eq!((out.shape(), out.as_slice()), (&[][..], &[x][..]));
    }
    // (1-d src, 0-d index) -> 0-d
    let src = [1.0f64, 2.0, 3.0, 4.0];
    let sv = TensorView::new(&src, &[4]).unwrap();
    for v in 0..4 {
        let i = I::from_i64_wrapping(v);
        for dim in [0, -1] {
            let out = check_all(&mut rng, &sv, dim, &TensorView::scalar(&i)).unwrap();
            assert_eq!(
                (out.shape(), out.as_slice()),
                (&[][..], &[src[v as usize]][..])
            );
        }
    }
    // A 1-d source that is a strided slice.
    let strided = sv.slice(0, 0, 4, -2).unwrap();
    let one = I::from_i64_wrapping(1);
    assert_eq!(
        check_all(&mut rng, &strided, 0, &TensorView::scalar(&one))
            .unwrap()
            .as_slice(),
        &[2.0]
    );
    // dim 1 is out of range for 0-d.
    for dim in [1, -2] {
        let e = check_all(&mut rng, &scalar, dim, &TensorView::scalar(&zero)).unwrap_err();
        assert_eq!(e, GatherError::DimOutOfRange { dim, rank: 1 });
    }
    // Out-of-range values: position [] for a 0-d index, size 1 for a 0-d source.
    let four = I::from_i64_wrapping(4);
    let e = check_all(&mut rng, &sv, 0, &TensorView::scalar(&four)).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 4,
            position: vec![],
            dim: 0,
            size: 4,
            wraps: false
        }
    );
    let vals: Vec<I> = idx(&[0, 0, 1, 0]);
    let e = check_all(&mut rng, &scalar, 0, &TensorView::new(&vals, &[4]).unwrap()).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 1,
            position: vec![2],
            dim: 0,
            size: 1,
            wraps: false
        }
    );
    let e = check_all(&mut rng, &scalar, 0, &TensorView::scalar(&one)).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 1,
            position: vec![],
            dim: 0,
            size: 1,
            wraps: false
        }
    );
    // (0-d, 2-d) is a rank mismatch; an empty 2-d index is not checked.
    let e = check_all(
        &mut rng,
        &scalar,
        0,
        &TensorView::new(&zeros[..1], &[1, 1]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::RankMismatch {
            src_rank: 0,
            index_rank: 2
        }
    );
    let out = check_all(
        &mut rng,
        &scalar,
        0,
        &TensorView::new(&zeros[..0], &[2, 0]).unwrap(),
    )
    .unwrap();
    assert_eq!(out.shape(), &[2, 0]);
    // A 0-d out for gather_into.
    let mut out = Tensor::scalar(0.0f64);
    gather_into(&sv, 0, &TensorView::scalar(&one), &mut out.view_mut()).unwrap();
    assert_eq!(out.as_slice(), &[2.0]);
    // A 1-d source of size 1 and a longer index along dim.
    let single = [8.0f64];
    let s1 = TensorView::new(&single, &[1]).unwrap();
    let out = check_all(&mut rng, &s1, 0, &iv).unwrap();
    assert_eq!(out.as_slice(), &[8.0; 3]);
    // A 0-d src from a view of a longer buffer at an offset.
    let off = TensorView::with_strides(&src, &[], &[], 3).unwrap();
    assert_eq!(
        check_all(&mut rng, &off, 0, &iv).unwrap().as_slice(),
        &[4.0; 3]
    );
}

#[test]
fn zero_d_i64() {
    zero_d::<i64>();
}

#[test]
fn zero_d_other_index_types() {
    zero_d::<i32>();
    zero_d::<u32>();
    zero_d::<u64>();
    zero_d::<usize>();
}

// ---------------------------------------------------------------------------
// 5. Empty tensors
// ---------------------------------------------------------------------------

#[test]
fn empty_index_is_never_checked() {
    let mut rng = Rng::new(0xE0);
    let src = [1u16, 2, 3, 4, 5, 6];
    let sv = TensorView::new(&src, &[2, 3]).unwrap();
    // Out-of-range values sit in the buffer under the empty views.
    let junk = [-1i64, i64::MAX, 99, i64::MIN];
    let shapes: [&[usize]; 7] = [
        &[0],
        &[0, 3],
        &[5, 0],
        &[0, 0],
        &[2, 0, 4],
        &[9, 9, 0, 1],
        &[0, 100],
    ];
    for shape in shapes {
        let iv = TensorView::with_strides(&junk, shape, &vec![1; shape.len()], 0).unwrap();
        assert!(iv.is_empty());
        for dim in [0, 1, -1, -2] {
            let out = check_all(&mut rng, &sv, dim, &iv).unwrap();
            assert_eq!(out.shape(), shape);
            assert!(out.is_empty());
        }
        // Still a dim error.
        assert_eq!(
            check_all(&mut rng, &sv, 2, &iv).unwrap_err(),
            GatherError::DimOutOfRange { dim: 2, rank: 2 }
        );
    }
    // An empty source too.
    let none: [u16; 0] = [];
    let ev = TensorView::new(&none, &[0, 4]).unwrap();
    let iv = TensorView::with_strides(&junk, &[3, 0], &[1, 1], 2).unwrap();
    assert_eq!(check_all(&mut rng, &ev, 0, &iv).unwrap().shape(), &[3, 0]);
    let scalar = 5u16;
    assert_eq!(
        check_all(&mut rng, &TensorView::scalar(&scalar), 0, &iv)
            .unwrap()
            .shape(),
        &[3, 0]
    );
}

#[test]
fn empty_source_dim_with_nonempty_index() {
    let mut rng = Rng::new(0xE1);
    let none: [f32; 0] = [];
    let zero = [0i64, 0, 0, 0, 0, 0];
    // 1-d of size 0.
    let sv = TensorView::new(&none, &[0]).unwrap();
    let e = check_all(
        &mut rng,
        &sv,
        0,
        &TensorView::new(&zero[..2], &[2]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 0,
            position: vec![0],
            dim: 0,
            size: 0,
            wraps: false
        }
    );
    let e = check_all(&mut rng, &sv, -1, &TensorView::scalar(&zero[0])).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 0,
            position: vec![],
            dim: 0,
            size: 0,
            wraps: false
        }
    );
    // 2-d, size 0 along dim only.
    let sv = TensorView::new(&none, &[3, 0]).unwrap();
    let e = check_all(&mut rng, &sv, 1, &TensorView::new(&zero, &[3, 2]).unwrap()).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 0,
            position: vec![0, 0],
            dim: 1,
            size: 0,
            wraps: false
        }
    );
    // A size-0 source along dim in a strided view over a non-empty buffer.
    let buf = [1.0f32; 8];
    let sv = TensorView::with_strides(&buf, &[2, 0, 3], &[4, 1, 1], 1).unwrap();
    let e = check_all(
        &mut rng,
        &sv,
        1,
        &TensorView::new(&zero, &[2, 1, 3]).unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            GatherError::IndexOutOfBounds {
                size: 0,
                dim: 1,
                ..
            }
        ),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------
// 6. Lengths around SIMD widths and rayon chunk edges, in every layout
// ---------------------------------------------------------------------------

const LENS: [usize; 9] = [0, 1, 7, 8, 9, 15, 16, 17, 4097];
const COLS: [usize; 3] = [1, 2, 67];

/// src [N, C] or [2, N, C]; five index shapes; every style for src and index
/// (paired so each style meets several others).
fn lengths<T: TestElem, I: IndexElem>(seed: u64) {
    let mut rng = Rng::new(seed);
    for n in LENS {
        for c in COLS {
            for (k, &ss) in STYLES.iter().enumerate() {
                let is = STYLES[(k + n + c) % STYLES.len()];
                // gather along the last dim, index as big as the source
                let src = random_src::<T>(&mut rng, &[n, c], ss);
                let index = random_index::<I>(&mut rng, &[n, c], is, c, 0);
                check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
                // a wider index along dim
                let index = random_index::<I>(&mut rng, &[n, 2 * c + 1], is, c, 0);
                check_all(&mut rng, &src.view(), -1, &index.view()).unwrap();
                // one pick per row
                let index = random_index::<I>(&mut rng, &[n, 1], is, c, 0);
                check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
                // along dim 0 (fails for n == 0 with a non-empty index)
                let index = random_index::<I>(&mut rng, &[n.max(1), c], is, n, 0);
                let r = check_all(&mut rng, &src.view(), 0, &index.view());
                assert_eq!(r.is_ok(), n > 0);
                // rows of a 3-d source by an expanded index
                let src3 = random_src::<T>(&mut rng, &[2, n, c], ss);
                let small = random_index::<I>(&mut rng, &[2, n, 1], is, n, 0);
                let expanded = small.view().expand(&[2, n, c]).unwrap();
                check_all(&mut rng, &src3.view(), 1, &expanded).unwrap();
                // an occasional bad value: the same error everywhere
                if n > 0 {
                    let index = random_index::<I>(&mut rng, &[n, c], is, c, n * c);
                    check_all(&mut rng, &src.view(), 1, &index.view()).ok();
                }
            }
        }
    }
}

#[test]
fn lengths_f32_i64() {
    lengths::<f32, i64>(6);
}

#[test]
fn lengths_u8_i32() {
    lengths::<u8, i32>(7);
}

#[test]
fn lengths_f64_u32() {
    lengths::<f64, u32>(8);
}

#[test]
fn lengths_u16_usize() {
    lengths::<u16, usize>(9);
}

// ---------------------------------------------------------------------------
// 7. Every element width through every kernel path
// ---------------------------------------------------------------------------

const INNER: [usize; 17] = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65];

#[track_caller]
fn assert_class<T: TestElem, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    class: LayoutClass,
) {
    let choice = explain(src, dim, index, &GatherOptions::new())
        .unwrap()
        .unwrap();
    assert_eq!(
        choice.class,
        class,
        "src {:?} index {:?} dim {dim}",
        src.strides(),
        index.strides()
    );
}

/// One layout class per block, at inner lengths around every SIMD width, plus
/// a large case past the serial cutoff and a case with a bad value.
fn every_path<T: TestElem, I: IndexElem>(seed: u64) {
    let mut rng = Rng::new(seed);
    for &m in &INNER {
        let rows = rng.pick(&[2usize, 3, 5]);
        let s = rng.pick(&[2usize, 5, 17, 70]);
        // LastDim: out[r, j] = src[r, idx[r, j]]
        let src = random_src::<T>(&mut rng, &[rows, s], Style::Contiguous);
        let index = random_index::<I>(&mut rng, &[rows, m], Style::Contiguous, s, 0);
        if m > 1 {
            assert_class(&src.view(), 1, &index.view(), LayoutClass::LastDim);
        }
        check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
        // Pick: out[r] = src[r, idx[r]]
        let src = random_src::<T>(&mut rng, &[m + 1, s], Style::Contiguous);
        let index = random_index::<I>(&mut rng, &[m + 1, 1], Style::Contiguous, s, 0);
        assert_class(&src.view(), 1, &index.view(), LayoutClass::Pick);
        check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
        // InnerRun: out[i, j] = src[idx[i, j], j]
        let src = random_src::<T>(&mut rng, &[s, m + 1], Style::Contiguous);
        let index = random_index::<I>(&mut rng, &[rows, m + 1], Style::Contiguous, s, 0);
        assert_class(&src.view(), 0, &index.view(), LayoutClass::InnerRun);
        check_all(&mut rng, &src.view(), 0, &index.view()).unwrap();
        // ExpandedRuns: out[b, k, d] = src[b, idx[b, k], d]
        let src = random_src::<T>(&mut rng, &[2, s, m + 1], Style::Contiguous);
        let small = random_index::<I>(&mut rng, &[2, rows, 1], Style::Contiguous, s, 0);
        let expanded = small.view().expand(&[2, rows, m + 1]).unwrap();
        assert_class(&src.view(), 1, &expanded, LayoutClass::ExpandedRuns);
        check_all(&mut rng, &src.view(), 1, &expanded).unwrap();
        // StridedIndex: transposed index and strided source.
        let src = random_src::<T>(&mut rng, &[rows, s], Style::Stepped);
        let index = random_index::<I>(&mut rng, &[rows, m], Style::Permuted, s, 0);
        if m > 1 {
            assert_class(&src.view(), 1, &index.view(), LayoutClass::StridedIndex);
        }
        check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
        // A bad value somewhere in each path.
        let src = random_src::<T>(&mut rng, &[rows, s], Style::Contiguous);
        let mut index = random_index::<I>(&mut rng, &[rows, m], Style::Contiguous, s, 0);
        let at = rng.below(rows * m);
        index.buf[at] = I::from_i64_wrapping(common::bad_index_value(&mut rng, s));
        check_all(&mut rng, &src.view(), 1, &index.view()).ok();
        let src = random_src::<T>(&mut rng, &[s, m + 1], Style::Contiguous);
        let mut index = random_index::<I>(&mut rng, &[rows, m + 1], Style::Contiguous, s, 0);
        let at = rng.below(rows * (m + 1));
        index.buf[at] = I::from_i64_wrapping(common::bad_index_value(&mut rng, s));
        check_all(&mut rng, &src.view(), 0, &index.view()).ok();
    }
    // Past the serial cutoff, so the rows are split across threads.
    let (rows, m, s) = (4097, 17, 9);
    let src = random_src::<T>(&mut rng, &[rows, s], Style::Contiguous);
    let index = random_index::<I>(&mut rng, &[rows, m], Style::Contiguous, s, 0);
    check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
    let index = random_index::<I>(&mut rng, &[rows, 1], Style::Contiguous, s, 0);
    check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
    let src = random_src::<T>(&mut rng, &[s, m], Style::Contiguous);
    let index = random_index::<I>(&mut rng, &[rows, m], Style::Contiguous, s, 0);
    check_all(&mut rng, &src.view(), 0, &index.view()).unwrap();
    let src = random_src::<T>(&mut rng, &[2, s, m], Style::Contiguous);
    let small = random_index::<I>(&mut rng, &[2, rows, 1], Style::Contiguous, s, 0);
    check_all(
        &mut rng,
        &src.view(),
        1,
        &small.view().expand(&[2, rows, m]).unwrap(),
    )
    .unwrap();
    let src = random_src::<T>(&mut rng, &[rows, s], Style::Random);
    let index = random_index::<I>(&mut rng, &[rows, m], Style::Random, s, rows * m / 2);
    check_all(&mut rng, &src.view(), 1, &index.view()).ok();
}

/// Sources laid out so that a block of work reads far-apart elements (a gather
/// stride of 256 bytes or more): the shapes that make a kernel copy the
/// source's block into dense scratch first, columns (`InnerRun`, rows sharing
/// a source base) or rows (`LastDim` over a transposed source), including
/// several column tiles and row blocks that cross an outer axis.
fn packed_sources<T: TestElem, I: IndexElem>(seed: u64) {
    let mut rng = Rng::new(seed);
    let w = size_of::<T>().max(1);
    let wide = 256 / w;
    // Columns: out[k, j] = src[idx[k, j], j] with many rows per source base.
    for c in [wide, wide + 1, wide + 17] {
        for (s, k) in [(1usize, 64usize), (2, 65), (5, 130)] {
            let src = random_src::<T>(&mut rng, &[s, c], Style::Contiguous);
            let index = random_index::<I>(&mut rng, &[k, c], Style::Contiguous, s, 0);
            assert_class(&src.view(), 0, &index.view(), LayoutClass::InnerRun);
            check_all(&mut rng, &src.view(), 0, &index.view()).unwrap();
            // The same below a 3-d batch axis, and with one bad value.
            let src = random_src::<T>(&mut rng, &[2, s, c], Style::Contiguous);
            let mut index = random_index::<I>(&mut rng, &[2, k, c], Style::Contiguous, s, 0);
            check_all(&mut rng, &src.view(), 1, &index.view()).unwrap();
            let at = rng.below(index.buf.len());
            index.buf[at] = I::from_i64_wrapping(s as i64);
            check_all(&mut rng, &src.view(), 1, &index.view()).unwrap_err();
        }
    }
    // Columns in several tiles: a source block twice the scratch (1 MiB).
    let c = wide + 37;
    let s = 2 * (1 << 20) / (w * c) + 3;
    let src = random_src::<T>(&mut rng, &[s, c], Style::Contiguous);
    let index = random_index::<I>(&mut rng, &[70, c], Style::Contiguous, s, 0);
    check_all(&mut rng, &src.view(), 0, &index.view()).unwrap();
    // Rows: out[r, j] = src[r, idx[r, j]] with src stored transposed.
    for r in [wide, wide + 1, wide + 70, wide + 140] {
        for (s, k) in [(1usize, 2usize), (2, 5), (7, 33), (3, 64)] {
            let buf = random_src::<T>(&mut rng, &[s, r], Style::Contiguous);
            let src = buf.view().transpose(0, 1).unwrap();
            let index = random_index::<I>(&mut rng, &[r, k], Style::Contiguous, s, 0);
            assert_class(&src, 1, &index.view(), LayoutClass::LastDim);
            check_all(&mut rng, &src, 1, &index.view()).unwrap();
            // Reversed rows (a negative step between them).
            let flipped = src.flip(0).unwrap();
            check_all(&mut rng, &flipped, -1, &index.view()).unwrap();
            // Blocks of rows that cross the end of an outer axis: [3, r, s]
            // stored as [3, s, r].
            let buf = random_src::<T>(&mut rng, &[3, s, r], Style::Contiguous);
            let src = buf.view().permute(&[0, 2, 1]).unwrap();
            let mut index = random_index::<I>(&mut rng, &[3, r, k], Style::Contiguous, s, 0);
            check_all(&mut rng, &src, 2, &index.view()).unwrap();
            let at = rng.below(index.buf.len());
            index.buf[at] = I::from_i64_wrapping(-1);
            check_all(&mut rng, &src, 2, &index.view()).unwrap_err();
        }
    }
}

#[test]
fn packed_sources_every_width() {
    packed_sources::<u8, i64>(0x9A01);
    packed_sources::<u16, i32>(0x9A02);
    packed_sources::<f32, i64>(0x9A03);
    packed_sources::<f64, u32>(0x9A04);
    packed_sources::<u128, i64>(0x9A05);
    packed_sources::<bool, usize>(0x9A06);
    packed_sources::<[u8; 3], i32>(0x9A07);
}

/// Size-1 axes may carry any stride, huge ones included: they never move.
#[test]
fn huge_strides_on_size_1_axes() {
    let mut rng = Rng::new(0x51DE);
    let data: Vec<u32> = random_vec(&mut rng, 6);
    let far = FAR as isize;
    for huge in [isize::MAX, isize::MIN, isize::MAX / 2, -far, far] {
        // Size 1 along the gather dim: every index value must be 0.
        let sv = TensorView::with_strides(&data, &[1, 6], &[huge, 1], 0).unwrap();
        let zeros = [0i64; 12];
        let iv = TensorView::new(&zeros, &[2, 6]).unwrap();
        let out = check_all(&mut rng, &sv, 0, &iv).unwrap();
        assert_eq!(out.as_slice(), &[&data[..], &data[..]].concat()[..]);
        let bad = [0i64, 0, 1, 0, 0, 0];
        let e = check_all(&mut rng, &sv, 0, &TensorView::new(&bad, &[1, 6]).unwrap()).unwrap_err();
        assert!(
            matches!(
                e,
                GatherError::IndexOutOfBounds {
                    value: 1,
                    size: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        // Size 1 off the gather dim, on the source, the index and the out.
        let sv = TensorView::with_strides(&data, &[6, 1], &[1, huge], 0).unwrap();
        let raw = [5i64, 0, 3];
        let iv = TensorView::with_strides(&raw, &[3, 1], &[1, huge], 0).unwrap();
        let out = check_all(&mut rng, &sv, 0, &iv).unwrap();
        assert_eq!(out.as_slice(), &[data[5], data[0], data[3]]);
        let mut buf = [0u32; 3];
        let mut ov = TensorViewMut::with_strides(&mut buf, &[3, 1], &[1, huge], 0).unwrap();
        gather_into(&sv, 0, &iv, &mut ov).unwrap();
        assert_eq!(buf, [data[5], data[0], data[3]]);
        // A 0-d-like source: one element, every axis of size 1 with a huge stride.
        let sv = TensorView::with_strides(
            &data,
            &[1, 1, 1],
            &[huge, huge.checked_neg().unwrap_or(isize::MAX), huge],
            4,
        )
        .unwrap();
        let zero = [0u32; 4];
        let iv = TensorView::new(&zero, &[1, 1, 4]).unwrap();
        assert_eq!(
            check_all(&mut rng, &sv, 2, &iv).unwrap().as_slice(),
            &[data[4]; 4]
        );
    }
}

fn every_index_type<T: TestElem>(seed: u64) {
    every_path::<T, i64>(seed);
    every_path::<T, i32>(seed + 1);
    every_path::<T, u32>(seed + 2);
    every_path::<T, u64>(seed + 3);
    every_path::<T, usize>(seed + 4);
}

macro_rules! every_width {
    ($($name:ident: $t:ty = $seed:literal),* $(,)?) => {
        mod widths {
            $(
                #[test]
                fn $name() {
                    super::every_index_type::<$t>($seed);
                }
            )*
        }
    };
}

every_width!(
    w1_u8: u8 = 10,
    w1_bool: bool = 20,
    w2_u16: u16 = 30,
    w4_f32: f32 = 40,
    w8_f64: f64 = 50,
    w16_u128: u128 = 60,
    w16_u64x2: [u64; 2] = 70,
    odd_u8x3: [u8; 3] = 80,
    odd_u8x12: [u8; 12] = 90,
    odd_u16x3: [u16; 3] = 100,
    zero_sized_unit: () = 110,
);

/// Every width keeps its bits: NaN payloads, `-0.0`, signalling NaNs.
#[test]
fn float_bits_survive() {
    let f32s = [
        f32::from_bits(0x7FC0_0001),
        f32::from_bits(0xFF80_0001),
        f32::from_bits(0x7F80_1234),
        -0.0,
        0.0,
        f32::from_bits(1),
        f32::NEG_INFINITY,
    ];
    let n = f32s.len();
    let sv = TensorView::new(&f32s, &[n]).unwrap();
    let order: Vec<i64> = (0..n as i64).rev().collect();
    let iv = TensorView::new(&order, &[n]).unwrap();
    let mut rng = Rng::new(0xF);
    let out = check_all(&mut rng, &sv, 0, &iv).unwrap();
    let bits: Vec<u32> = out.as_slice().iter().map(|f| f.to_bits()).collect();
    let want: Vec<u32> = f32s.iter().rev().map(|f| f.to_bits()).collect();
    assert_eq!(bits, want);
    let f64s: Vec<f64> = f32s
        .iter()
        .map(|&f| f64::from_bits(0x7FF0_0000_0000_0001 ^ f.to_bits() as u64))
        .collect();
    let sv = TensorView::new(&f64s, &[n]).unwrap();
    let out = check_all(&mut rng, &sv, 0, &iv).unwrap();
    let bits: Vec<u64> = out.as_slice().iter().map(|f| f.to_bits()).collect();
    let want: Vec<u64> = f64s.iter().rev().map(|f| f.to_bits()).collect();
    assert_eq!(bits, want);
}

/// The `Element` bound takes `()` (a zero-sized `Pod` type): shapes and errors
/// behave as for any other type.
#[test]
fn zero_sized_elements() {
    let mut rng = Rng::new(0x2E50);
    let units = [(); 6];
    let sv = TensorView::new(&units, &[2, 3]).unwrap();
    let raw = [2i64, 0, 1, 1];
    let out = check_all(&mut rng, &sv, 1, &TensorView::new(&raw, &[2, 2]).unwrap()).unwrap();
    assert_eq!((out.shape(), out.len()), (&[2, 2][..], 4));
    let raw = [2i64, 3];
    let e = check_all(&mut rng, &sv, 1, &TensorView::new(&raw, &[2, 1]).unwrap()).unwrap_err();
    assert_eq!(
        e,
        GatherError::IndexOutOfBounds {
            value: 3,
            position: vec![1, 0],
            dim: 1,
            size: 3,
            wraps: false
        }
    );
}

// ---------------------------------------------------------------------------
// View operations
// ---------------------------------------------------------------------------

fn iota(n: usize) -> Vec<i32> {
    (0..n as i32).collect()
}

#[test]
fn permute_and_transpose() {
    let data = iota(24);
    let v = TensorView::new(&data, &[2, 3, 4]).unwrap();
    let p = v.permute(&[2, 0, 1]).unwrap();
    assert_eq!(p.shape(), &[4, 2, 3]);
    assert_eq!(p.strides(), &[1, 12, 4]);
    let want: Vec<i32> = (0..24)
        .map(|k| {
            let (c, a, b) = (k / 6, k / 3 % 2, k % 3);
            a * 12 + b * 4 + c
        })
        .collect();
    assert_eq!(p.to_vec(), want);
    assert!(!p.is_contiguous());
    assert_eq!(v.permute(&[0, 1, 2]).unwrap().to_vec(), data);
    assert_eq!(p.permute(&[1, 2, 0]).unwrap().to_vec(), data);
    let t = v.transpose(0, 2).unwrap();
    assert_eq!(t.shape(), &[4, 3, 2]);
    assert_eq!(*t.get(&[3, 1, 1]).unwrap(), 12 + 4 + 3);
    assert_eq!(t.transpose(2, 0).unwrap().to_vec(), data);
    assert_eq!(v.transpose(1, 1).unwrap().to_vec(), data);
    let m = TensorView::new(&data[..6], &[2, 3]).unwrap();
    assert_eq!(m.transpose(0, 1).unwrap().to_vec(), vec![0, 3, 1, 4, 2, 5]);
}

#[test]
fn expand_and_unsqueeze() {
    let data = iota(3);
    let v = TensorView::new(&data, &[3]).unwrap();
    let e = v.expand(&[2, 3]).unwrap();
    assert_eq!((e.shape(), e.strides()), (&[2, 3][..], &[0, 1][..]));
    assert_eq!(e.to_vec(), vec![0, 1, 2, 0, 1, 2]);
    let c = v.unsqueeze(1).unwrap();
    assert_eq!(c.shape(), &[3, 1]);
    assert_eq!(c.to_vec(), data);
    let e = c.expand(&[3, 4]).unwrap();
    assert_eq!(e.to_vec(), vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    assert_eq!(c.expand(&[3, 0]).unwrap().to_vec(), Vec::<i32>::new());
    assert_eq!(v.expand(&[3]).unwrap().to_vec(), data);
    assert_eq!(v.unsqueeze(0).unwrap().shape(), &[1, 3]);
    let x = 9i32;
    let s = TensorView::scalar(&x);
    assert_eq!(s.expand(&[2, 2]).unwrap().to_vec(), vec![9; 4]);
    assert_eq!(s.unsqueeze(0).unwrap().shape(), &[1]);
    assert_eq!(s.to_vec(), vec![9]);
    assert_eq!((s.rank(), s.len(), s.is_empty()), (0, 1, false));
}

#[test]
fn slice_with_steps() {
    let data = iota(10);
    let v = TensorView::new(&data, &[10]).unwrap();
    assert_eq!(v.slice(0, 1, 8, 3).unwrap().to_vec(), vec![1, 4, 7]);
    assert_eq!(v.slice(0, 1, 8, -3).unwrap().to_vec(), vec![7, 4, 1]);
    assert_eq!(
        v.slice(0, 0, 10, -1).unwrap().to_vec(),
        (0..10).rev().collect::<Vec<_>>()
    );
    assert_eq!(v.slice(0, 2, 4, 10).unwrap().to_vec(), vec![2]);
    assert_eq!(v.slice(0, 2, 4, -10).unwrap().to_vec(), vec![3]);
    assert_eq!(v.slice(0, 3, 3, 1).unwrap().to_vec(), Vec::<i32>::new());
    assert_eq!(v.slice(0, 10, 10, -2).unwrap().to_vec(), Vec::<i32>::new());
    assert_eq!(v.slice(0, 0, 10, 4).unwrap().to_vec(), vec![0, 4, 8]);
    assert_eq!(v.slice(0, 0, 10, -4).unwrap().to_vec(), vec![9, 5, 1]);
    let s = v.slice(0, 2, 9, 2).unwrap();
    assert_eq!((s.offset(), s.strides()), (2, &[2][..]));
    // Slices of slices, against index arithmetic.
    assert_eq!(s.slice(0, 1, 4, -1).unwrap().to_vec(), vec![8, 6, 4]);
    let m = TensorView::new(&data[..9], &[3, 3]).unwrap();
    assert_eq!(
        m.slice(1, 0, 3, 2).unwrap().to_vec(),
        vec![0, 2, 3, 5, 6, 8]
    );
    assert_eq!(
        m.slice(0, 0, 3, -2).unwrap().to_vec(),
        vec![6, 7, 8, 0, 1, 2]
    );
    assert_eq!(
        m.slice(1, 1, 3, -1)
            .unwrap()
            .slice(0, 1, 2, 1)
            .unwrap()
            .to_vec(),
        vec![5, 4]
    );
}

#[test]
fn flip() {
    let data = iota(6);
    let m = TensorView::new(&data, &[2, 3]).unwrap();
    assert_eq!(m.flip(1).unwrap().to_vec(), vec![2, 1, 0, 5, 4, 3]);
    assert_eq!(m.flip(0).unwrap().to_vec(), vec![3, 4, 5, 0, 1, 2]);
    assert_eq!(
        m.flip(0).unwrap().flip(1).unwrap().to_vec(),
        vec![5, 4, 3, 2, 1, 0]
    );
    assert_eq!(m.flip(1).unwrap().flip(1).unwrap().to_vec(), data);
    let f = m.flip(0).unwrap();
    assert_eq!((f.offset(), f.strides()), (3, &[-3, 1][..]));
    assert_eq!(
        m.slice(1, 0, 0, 1).unwrap().flip(1).unwrap().shape(),
        &[2, 0]
    );
}

#[test]
fn reshape() {
    let data = iota(6);
    let m = TensorView::new(&data, &[2, 3]).unwrap();
    assert_eq!(m.reshape(&[3, 2]).unwrap().to_vec(), data);
    assert_eq!(m.reshape(&[3, 2]).unwrap().get(&[2, 0]), Some(&4));
    assert_eq!(m.reshape(&[6]).unwrap().shape(), &[6]);
    assert_eq!(m.reshape(&[1, 6, 1]).unwrap().to_vec(), data);
    // A contiguous slice at an offset reshapes too.
    let row = m.slice(0, 1, 2, 1).unwrap();
    assert_eq!(row.reshape(&[3]).unwrap().to_vec(), vec![3, 4, 5]);
    let one = [5i32];
    let s = TensorView::new(&one, &[1]).unwrap();
    assert_eq!(s.reshape(&[0usize; 0]).unwrap().rank(), 0);
    assert_eq!(
        s.reshape(&[0usize; 0])
            .unwrap()
            .reshape(&[1, 1])
            .unwrap()
            .to_vec(),
        vec![5]
    );
    let none: [i32; 0] = [];
    let e = TensorView::new(&none, &[0, 3]).unwrap();
    assert_eq!(e.reshape(&[3, 0]).unwrap().shape(), &[3, 0]);
}

#[test]
fn accessors_and_tensor() {
    let data = iota(12);
    let v = TensorView::with_strides(&data, &[2, 3], &[-6, 2], 7).unwrap();
    assert_eq!(v.to_vec(), vec![7, 9, 11, 1, 3, 5]);
    assert_eq!((v.rank(), v.len(), v.offset()), (2, 6, 7));
    assert_eq!(v.get(&[1, 2]), Some(&5));
    assert_eq!(v.get(&[2, 0]), None);
    assert_eq!(v.get(&[0]), None);
    assert_eq!(v.data().len(), 12);
    let t = v.to_tensor();
    assert_eq!(
        (t.shape(), t.as_slice()),
        (&[2, 3][..], &[7, 9, 11, 1, 3, 5][..])
    );
    assert!(t.view().is_contiguous());
    assert!(!v.is_contiguous());
    let mut t = Tensor::full(&[2, 2], 1u8).unwrap();
    *t.view_mut().get_mut(&[1, 0]).unwrap() = 3;
    t.as_mut_slice()[3] = 4;
    assert_eq!(t.clone().into_vec(), vec![1, 1, 3, 4]);
    assert_eq!(t.view().transpose(0, 1).unwrap().to_vec(), vec![1, 3, 1, 4]);
    assert_eq!(Tensor::scalar(2u8).shape(), &[] as &[usize]);
    assert_eq!(Tensor::from_vec(vec![1, 2], &[2]).unwrap().rank(), 1);
}

/// `gather_into` writes through a permuted, reversed or stepped out view: the
/// logical result lands where the view says and nowhere else.
#[test]
fn writable_view_ops_route_the_output() {
    let src = iota(12);
    let sv = TensorView::new(&src, &[3, 4]).unwrap();
    let raw = [3i64, 0, 2, 1, 1, 1];
    let iv = TensorView::new(&raw, &[3, 2]).unwrap();
    let want = gather(&sv, 1, &iv).unwrap();
    assert_eq!(want.as_slice(), &[3, 0, 6, 5, 9, 9]);
    // Out stored transposed: buffer [2, 3], view its transpose.
    let mut buf = vec![-1; 6];
    let mut out = TensorViewMut::new(&mut buf, &[2, 3])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    gather_into(&sv, 1, &iv, &mut out).unwrap();
    assert_eq!(out.as_view().to_vec(), want.as_slice());
    assert_eq!(buf, vec![3, 6, 9, 0, 5, 9]);
    // Out reversed along both axes.
    let mut buf = vec![-1; 6];
    let out = TensorViewMut::new(&mut buf, &[3, 2])
        .unwrap()
        .flip(0)
        .unwrap();
    let mut out = out.flip(1).unwrap();
    gather_into(&sv, 1, &iv, &mut out).unwrap();
    assert_eq!(buf, vec![9, 9, 5, 6, 0, 3]);
    // Out every other element of a longer buffer, after an unsqueeze and reshape.
    let mut buf = vec![-1; 13];
    let out = TensorViewMut::new(&mut buf, &[13])
        .unwrap()
        .slice(0, 1, 13, 2)
        .unwrap();
    let mut out = out.unsqueeze(1).unwrap().slice(0, 0, 6, 1).unwrap();
    assert_eq!(out.shape(), &[6, 1]);
    let flat = TensorView::new(&raw, &[6, 1]).unwrap();
    let col = TensorView::new(&src[..4], &[4, 1]).unwrap();
    gather_into(&col, 0, &flat, &mut out.reborrow()).unwrap();
    assert_eq!(buf, vec![-1, 3, -1, 0, -1, 2, -1, 1, -1, 1, -1, 1, -1]);
    let mut t = Tensor::full(&[6], 0i32).unwrap();
    let r = t.view_mut().reshape(&[6, 1]).unwrap();
    let mut r = r.permute(&[0, 1]).unwrap();
    gather_into(&col, 0, &flat, &mut r).unwrap();
    assert_eq!(t.as_slice(), &[3, 0, 2, 1, 1, 1]);
}

// ---------------------------------------------------------------------------
// Regressions: view operations on empty views and with extreme steps
// ---------------------------------------------------------------------------

/// Slicing or flipping an empty view along a non-empty axis is valid (torch:
/// `torch.empty(0, 3)[:, 1:3]` has shape (0, 2)); the offset must not move
/// past the (empty) buffer.
#[test]
fn slice_and_flip_of_empty_views() {
    let none: [f32; 0] = [];
    let v = TensorView::new(&none, &[0, 3]).unwrap();
    assert_eq!(v.slice(1, 1, 3, 1).unwrap().shape(), &[0, 2]);
    assert_eq!(v.flip(1).unwrap().shape(), &[0, 3]);
    assert_eq!(v.slice(1, 0, 3, -2).unwrap().shape(), &[0, 2]);
    let mut none: [f32; 0] = [];
    let m = TensorViewMut::new(&mut none, &[0, 3]).unwrap();
    assert_eq!(m.flip(1).unwrap().shape(), &[0, 3]);
    let m = TensorViewMut::new(&mut none, &[0, 3]).unwrap();
    assert_eq!(m.slice(1, 2, 3, 1).unwrap().shape(), &[0, 1]);
    // Such views gather like any other empty ones.
    let mut rng = Rng::new(0xE5);
    let src = [1.0f32, 2.0, 3.0];
    let sv = TensorView::new(&src, &[1, 3]).unwrap();
    let empty: [i64; 0] = [];
    let iv = TensorView::new(&empty, &[0, 3]).unwrap().flip(1).unwrap();
    assert_eq!(check_all(&mut rng, &sv, 1, &iv).unwrap().shape(), &[0, 3]);
    let iv = TensorView::new(&empty, &[0, 3])
        .unwrap()
        .slice(1, 1, 3, -1)
        .unwrap();
    assert_eq!(check_all(&mut rng, &sv, 0, &iv).unwrap().shape(), &[0, 2]);
}

/// A step larger than the range leaves one element: a valid view, even when
/// `stride * step` would overflow (it must not panic with overflow checks).
#[test]
fn slice_with_a_step_past_the_range() {
    let data = [1u8, 2, 3, 4];
    let v = TensorView::new(&data, &[2, 2]).unwrap();
    assert_eq!(v.slice(0, 0, 1, isize::MAX).unwrap().to_vec(), vec![1, 2]);
    assert_eq!(v.slice(0, 0, 2, isize::MIN).unwrap().to_vec(), vec![3, 4]);
}

/// An empty view may have sizes whose product, taken from the last axis,
/// overflows: `is_contiguous` and `reshape` must not.
#[test]
fn is_contiguous_and_reshape_of_huge_empty_views() {
    let none: [u8; 0] = [];
    let v = TensorView::new(&none, &[0, FAR, FAR]).unwrap();
    assert!(v.is_contiguous());
    assert_eq!(v.reshape(&[0]).unwrap().shape(), &[0]);
}
