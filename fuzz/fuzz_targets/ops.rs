//! The operations built on gather's machinery, against naive versions written
//! here one element at a time:
//! 1. `scatter_into_with` / `scatter_add_into_with` (sequential and parallel):
//!    the same destination bytes as a row-major loop, or the same error class,
//!    with torch's shape rules; on an out-of-range value the reported position
//!    is the first bad one in row-major order.
//! 2. `index_select` and `take_along_axis` equal gathers over explicitly
//!    broadcast indices built here.
//! 3. `loss::cross_entropy_with_logits` and its backward never panic, and for
//!    finite logits match an f64 evaluation of the definition.
//!
//! Shapes are small (rank 0-4, sizes 0-6); strides come from the shared
//! layout decoder, so views are permuted, padded, flipped or expanded.
#![no_main]

mod common;

use arbitrary::Unstructured;
use common::{byte, for_each_pos, layout, raw_i64, size};
use fastgather::loss::{cross_entropy_with_logits, cross_entropy_with_logits_backward, LossOptions};
use fastgather::{
    gather, index_select, scatter_add_into_with, scatter_into_with, take_along_axis, GatherError,
    GatherOptions, Tensor, TensorView,
};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 12;

fn shape(u: &mut Unstructured<'_>, rank: usize) -> Vec<usize> {
    (0..rank).map(|_| size(u, false) % 7).collect()
}

fn value_at(data: &[i64], spec: &common::LayoutSpec, pos: &[usize]) -> i64 {
    let off = common::offset_of(
        spec.offset as i128,
        &spec.strides.iter().map(|&s| s as i128).collect::<Vec<_>>(),
        pos,
    );
    data[off as usize]
}

/// A row-major naive scatter over plain vectors: `Err(first bad position)`.
fn naive_scatter(
    dest: &mut [i64],
    dest_shape: &[usize],
    dim: usize,
    index: &[i64],
    index_shape: &[usize],
    src: &dyn Fn(&[usize]) -> i64,
    add: bool,
) -> Result<(), Vec<usize>> {
    let size = dest_shape.get(dim).copied().unwrap_or(1);
    let mut err = None;
    let mut k = 0;
    for_each_pos(index_shape, |pos| {
        let v = index[k];
        k += 1;
        if err.is_some() {
            return;
        }
        if v < 0 || v as usize >= size {
            err = Some(pos.to_vec());
            return;
        }
        let mut at = pos.to_vec();
        if !at.is_empty() {
            at[dim] = v as usize;
        }
        let mut off = 0usize;
        for (d, &p) in dest_shape.iter().zip(&at) {
            off = off * d + p;
        }
        let x = src(pos);
        dest[off] = if add { dest[off].wrapping_add(x) } else { x };
    });
    err.map_or(Ok(()), Err)
}

fn scatter_case(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let rank = (byte(u) % 4) as usize;
    let dest_shape = shape(u, rank);
    let index_shape = shape(u, rank);
    let src_shape: Vec<usize> = index_shape.iter().map(|&d| d + (byte(u) % 2) as usize).collect();
    let dim = (byte(u) as isize % (rank.max(1) as isize + 1)) - (rank.max(1) as isize) / 2;
    let src_spec = layout(u, &src_shape, CAP);
    let idx_spec = layout(u, &index_shape, CAP);
    let src_buf: Vec<i64> = (0..src_spec.len.min(CAP)).map(|k| k as i64 * 7 - 3).collect();
    let mut idx_buf: Vec<i64> = vec![0; idx_spec.len.min(CAP)];
    let bound = dest_shape.get(dim.rem_euclid(rank.max(1) as isize) as usize).copied().unwrap_or(1);
    for v in idx_buf.iter_mut() {
        *v = match byte(u) {
            250 => raw_i64(u),
            251 => -1,
            b => (b as usize % bound.max(1)) as i64,
        };
    }
    let (Ok(src), Ok(idx)) = (
        TensorView::with_strides(&src_buf, &src_spec.shape, &src_spec.strides, src_spec.offset),
        TensorView::with_strides(&idx_buf, &idx_spec.shape, &idx_spec.strides, idx_spec.offset),
    ) else {
        return Ok(());
    };
    let add = byte(u) & 1 == 1;
    let parallel = byte(u) & 1 == 1;
    let opts = if parallel { GatherOptions::new() } else { GatherOptions::new().sequential() };
    let init: Vec<i64> = (0..dest_shape.iter().product::<usize>()).map(|k| k as i64).collect();
    let mut dest = Tensor::from_vec(init.clone(), &dest_shape).unwrap();
    let got = if add {
        scatter_add_into_with(&mut dest.view_mut(), dim, &idx, &src, &opts)
    } else {
        scatter_into_with(&mut dest.view_mut(), dim, &idx, &src, &opts)
    };
    // The naive side decides shape errors the way torch documents them.
    let r = rank.max(1) as isize;
    if dim < -r || dim >= r {
        assert!(matches!(got, Err(GatherError::DimOutOfRange { .. })), "{got:?}");
        return Ok(());
    }
    if idx.is_empty() {
        assert_eq!(got, Ok(()));
        assert_eq!(dest.as_slice(), &init[..]);
        return Ok(());
    }
    let d = dim.rem_euclid(r) as usize;
    let fits = (0..rank).all(|k| {
        index_shape[k] <= src_shape[k] && (k == d || index_shape[k] <= dest_shape[k])
    });
    if !fits {
        assert!(matches!(got, Err(GatherError::ScatterSizeMismatch { .. })), "{got:?}");
        return Ok(());
    }
    let flat_index: Vec<i64> = {
        let mut v = Vec::new();
        for_each_pos(&index_shape, |pos| v.push(value_at(&idx_buf, &idx_spec, pos)));
        v
    };
    let mut want = init.clone();
    let read_src = |pos: &[usize]| value_at(&src_buf, &src_spec, pos);
    match naive_scatter(&mut want, &dest_shape, d, &flat_index, &index_shape, &read_src, add) {
        Ok(()) => {
            assert_eq!(got, Ok(()));
            assert_eq!(dest.as_slice(), &want[..]);
        }
        Err(position) => match got {
            Err(GatherError::IndexOutOfBounds { position: p, .. }) => assert_eq!(p, position),
            other => panic!("expected an out-of-range error at {position:?}, got {other:?}"),
        },
    }
    Ok(())
}

fn select_case(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let rank = 1 + (byte(u) % 3) as usize;
    let src_shape = shape(u, rank);
    let spec = layout(u, &src_shape, CAP);
    let buf: Vec<u16> = (0..spec.len.min(CAP)).map(|k| k as u16).collect();
    let Ok(src) = TensorView::with_strides(&buf, &spec.shape, &spec.strides, spec.offset) else {
        return Ok(());
    };
    let dim = (byte(u) as usize) % rank;
    let count = (byte(u) % 6) as usize;
    let picks: Vec<i64> = (0..count)
        .map(|_| (byte(u) as i64 % (src_shape[dim] as i64 + 2)) - 1)
        .collect();
    let pv = TensorView::new(&picks, &[count]).unwrap();
    // index_select == gather with the picks broadcast over the other dims.
    let mut shape = src_shape.clone();
    shape[dim] = count;
    let wide: Vec<i64> = {
        let mut v = Vec::new();
        for_each_pos(&shape, |pos| v.push(picks[pos[dim]]));
        v
    };
    let via_gather = gather(&src, dim as isize, &TensorView::new(&wide, &shape).unwrap());
    match (index_select(&src, dim as isize, &pv), via_gather) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(GatherError::IndexOutOfBounds { value: a, .. }), Err(GatherError::IndexOutOfBounds { value: b, .. })) => {
            assert_eq!(a, b)
        }
        (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "{a:?} vs {b:?}"),
    }
    // take_along_axis with negative indices wrapped by hand == gather.
    let idx_shape: Vec<usize> = src_shape.iter().map(|&d| if byte(u) & 1 == 0 { 1 } else { d }).collect();
    let mut raw = Vec::new();
    for_each_pos(&idx_shape, |_| raw.push((byte(u) as i64 % 9) - 4));
    let iv = TensorView::new(&raw, &idx_shape).unwrap();
    let got = take_along_axis(&src, &iv, dim as isize);
    let size = src_shape[dim] as i64;
    let mut out_shape = src_shape.clone();
    out_shape[dim] = idx_shape[dim];
    let mut wrapped = Vec::new();
    let mut ok = true;
    for_each_pos(&out_shape, |pos| {
        let at: Vec<usize> = pos.iter().zip(&idx_shape).map(|(&p, &d)| if d == 1 { 0 } else { p }).collect();
        let mut off = 0;
        for (d, &p) in idx_shape.iter().zip(&at) {
            off = off * d + p;
        }
        let v = raw[off];
        let w = if v < 0 { v + size } else { v };
        ok &= (0..size).contains(&w);
        wrapped.push(w);
    });
    if out_shape.iter().product::<usize>() == 0 {
        return Ok(());
    }
    let src_b = src.expand(&src_shape).unwrap();
    let want = gather(&src_b, dim as isize, &TensorView::new(&wrapped, &out_shape).unwrap());
    match got {
        Ok(t) => assert_eq!(Ok(t), want),
        Err(e) => assert!(!ok || want.is_err(), "{e:?}"),
    }
    Ok(())
}

fn loss_case(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let (n, c) = ((byte(u) % 5) as usize, (byte(u) % 6) as usize);
    let logits: Vec<f64> = (0..n * c)
        .map(|_| match byte(u) {
            255 => f64::NAN,
            254 => 1e4,
            253 => -1e4,
            b => (b as f64 - 120.0) / 7.0,
        })
        .collect();
    let labels: Vec<i64> = (0..n).map(|_| (byte(u) % 8) as i64 - 1).collect();
    let x = TensorView::new(&logits, &[n, c]).unwrap();
    let y = TensorView::new(&labels, &[n]).unwrap();
    let eps = (byte(u) % 5) as f64 / 10.0;
    let opts = LossOptions::new().ignore_index(-1).label_smoothing(eps);
    let got = cross_entropy_with_logits(&x, &y, &opts);
    let one = 1.0f64;
    let _ = cross_entropy_with_logits_backward(&x, &y, &TensorView::scalar(&one), &opts);
    let bad = labels.iter().any(|&l| l != -1 && !(0..c as i64).contains(&l));
    match got {
        Err(_) => assert!(bad, "{got:?}"),
        Ok(loss) => {
            assert!(!bad);
            let (mut total, mut count) = (0.0f64, 0);
            for r in 0..n {
                if labels[r] == -1 {
                    continue;
                }
                let row = &logits[r * c..(r + 1) * c];
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                let mean = row.iter().sum::<f64>() / c as f64;
                total += (1.0 - eps) * (lse - row[labels[r] as usize]) + eps * (lse - mean);
                count += 1;
            }
            let want = total / count as f64;
            let v = loss.as_slice()[0];
            let finite = logits.iter().all(|v| v.is_finite());
            if finite && count > 0 {
                assert!((v - want).abs() <= 1e-9 * want.abs().max(1.0), "{v} vs {want}");
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = match byte(&mut u) % 3 {
        0 => scatter_case(&mut u),
        1 => select_case(&mut u),
        _ => loss_case(&mut u),
    };
});
