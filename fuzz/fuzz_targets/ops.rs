//! The operations built on gather's machinery, against naive versions written
//! here one element at a time, for element types of every width the crate
//! moves (0, 1, 2, 3, 4, 5, 6, 8, 16 bytes; `bool` and `char` among them) and
//! the four index types:
//! 1. `scatter_into_with` (every type) and `scatter_add_into_with` (the numeric
//!    ones), sequential and parallel, through a strided destination view: the
//!    same destination bytes as a row-major loop (nothing outside the view
//!    written), or the same error class, with torch's shape rules; on an
//!    out-of-range value the reported position is the first bad one in
//!    row-major order. `scatter` / `scatter_add` give the same values as a new
//!    contiguous tensor.
//! 2. `index_select` and `take_along_axis` equal naive loops over the source;
//!    index values are checked even where the result is empty.
//! 3. `loss::cross_entropy` (on logits, with or without a class weight) and
//!    its backward never panic, and for finite logits match an f64 evaluation
//!    of torch's definition; `cross_entropy_from_probs` and the
//!    class-probability forms never panic either.
//! Every `bool` and `char` output is a valid value.
//!
//! Shapes are small (rank 0-4, sizes 0-6); strides come from the shared
//! layout decoder, so views are permuted, padded, flipped or expanded.
#![no_main]

mod common;

use arbitrary::Unstructured;
use common::{bits, byte, first_invalid, for_each_pos, layout, raw_i64, size, splitmix64, Elem};
use fastgather::loss::{
    cross_entropy, cross_entropy_backward, cross_entropy_from_probs,
    cross_entropy_with_probs_target, cross_entropy_with_probs_target_backward, LossOptions,
};
use fastgather::{
    index_select, scatter, scatter_add, scatter_add_into_with, scatter_into_with, take_along_axis,
    Accumulate, GatherError, GatherOptions, IndexElem, Tensor, TensorView, TensorViewMut,
};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 12;

fn shape(u: &mut Unstructured<'_>, rank: usize) -> Vec<usize> {
    (0..rank).map(|_| size(u, false) % 7).collect()
}

fn offset_in(spec: &common::LayoutSpec, pos: &[usize]) -> usize {
    let strides: Vec<i128> = spec.strides.iter().map(|&s| s as i128).collect();
    common::offset_of(spec.offset as i128, &strides, pos) as usize
}

fn assert_valid<T: Elem>(xs: &[T], what: &str) {
    if let Some(k) = first_invalid(xs) {
        panic!(
            "{what}: element {k} is not a valid {}",
            std::any::type_name::<T>()
        );
    }
}

fn same_bits<T: Elem>(got: &[T], want: &[T], what: &str) {
    assert_valid(got, what);
    let (g, w): (Vec<u128>, Vec<u128>) = (
        got.iter().map(bits).collect(),
        want.iter().map(bits).collect(),
    );
    assert_eq!(g, w, "{what}: values differ (as bits)");
}

/// Decodes an index buffer for a bound: mostly in range, sometimes -1 or raw.
fn index_values<I: IndexElem>(u: &mut Unstructured<'_>, len: usize, bound: usize) -> Vec<I> {
    (0..len)
        .map(|_| {
            let v = match byte(u) {
                250 => raw_i64(u),
                251 => -1,
                b => (b as usize % bound.max(1)) as i64,
            };
            I::from_i64_wrapping(v)
        })
        .collect()
}

fn scatter_case<T: Elem, I: IndexElem>(
    u: &mut Unstructured<'_>,
    op: ScatterOp<T, I>,
) -> Option<()> {
    let add = op.add;
    let rank = (byte(u) % 4) as usize;
    let dest_shape = shape(u, rank);
    let index_shape = shape(u, rank);
    let src_shape: Vec<usize> = index_shape
        .iter()
        .map(|&d| d + (byte(u) % 2) as usize)
        .collect();
    let dim = (byte(u) as isize % (rank.max(1) as isize + 1)) - (rank.max(1) as isize) / 2;
    let dest_spec = layout(u, &dest_shape, CAP);
    let src_spec = layout(u, &src_shape, CAP);
    let idx_spec = layout(u, &index_shape, CAP);
    let seed = splitmix64(byte(u) as u64);
    let value = |k: usize, salt: u64| {
        T::from_bits(splitmix64(seed ^ salt ^ k as u64) as u128 * 0x1_0000_0001)
    };
    let src_buf: Vec<T> = (0..src_spec.len).map(|k| value(k, 1)).collect();
    let bound = dest_shape
        .get(dim.rem_euclid(rank.max(1) as isize) as usize)
        .copied()
        .unwrap_or(1);
    let idx_buf: Vec<I> = index_values(u, idx_spec.len, bound);
    let parallel = byte(u) & 1 == 1;
    let src = TensorView::with_strides(
        &src_buf,
        &src_spec.shape,
        &src_spec.strides,
        src_spec.offset,
    )
    .ok()?;
    let idx = TensorView::with_strides(
        &idx_buf,
        &idx_spec.shape,
        &idx_spec.strides,
        idx_spec.offset,
    )
    .ok()?;
    let init: Vec<T> = (0..dest_spec.len).map(|k| value(k, 2)).collect();
    let mut buf = init.clone();
    let opts = if parallel {
        GatherOptions::new()
    } else {
        GatherOptions::new().sequential()
    };
    let what = format!(
        "{}(dest {dest_spec:?}, dim {dim}, index {idx_spec:?}, src {src_spec:?}, parallel {parallel})",
        if add.is_some() { "scatter_add_into_with" } else { "scatter_into_with" }
    );
    let got = {
        let mut dest = TensorViewMut::with_strides(
            &mut buf,
            &dest_spec.shape,
            &dest_spec.strides,
            dest_spec.offset,
        )
        .ok()?;
        (op.into)(&mut dest, dim, &idx, &src, &opts)
    };
    assert_valid(&buf, &what);
    // The naive side decides shape errors the way torch documents them.
    let r = rank.max(1) as isize;
    if dim < -r || dim >= r {
        assert!(
            matches!(got, Err(GatherError::DimOutOfRange { .. })),
            "{what}: {got:?}"
        );
        return Some(());
    }
    if idx.is_empty() {
        assert_eq!(got, Ok(()), "{what}");
        same_bits(&buf, &init, &what);
        return Some(());
    }
    let d = dim.rem_euclid(r) as usize;
    let fits = (0..rank)
        .all(|k| index_shape[k] <= src_shape[k] && (k == d || index_shape[k] <= dest_shape[k]));
    if !fits {
        assert!(
            matches!(got, Err(GatherError::ScatterSizeMismatch { .. })),
            "{what}: {got:?}"
        );
        same_bits(&buf, &init, &what);
        return Some(());
    }
    // Row-major over the index: the first bad value stops the naive loop.
    let mut want = init.clone();
    let mut bad = None;
    for_each_pos(&index_shape, |pos| {
        if bad.is_some() {
            return;
        }
        let v = idx_buf[offset_in(&idx_spec, pos)].to_i128();
        if !(0..bound as i128).contains(&v) {
            bad = Some(pos.to_vec());
            return;
        }
        let mut at = pos.to_vec();
        if !at.is_empty() {
            at[d] = v as usize;
        }
        let slot = offset_in(&dest_spec, &at);
        let x = src_buf[offset_in(&src_spec, pos)];
        want[slot] = match add {
            Some(f) => f(want[slot], x),
            None => x,
        };
    });
    match &bad {
        None => {
            assert_eq!(got, Ok(()), "{what}");
            same_bits(&buf, &want, &what);
        }
        Some(position) => match got {
            Err(GatherError::IndexOutOfBounds { position: p, .. }) => {
                assert_eq!(&p, position, "{what}")
            }
            other => {
                panic!("{what}: expected an out-of-range error at {position:?}, got {other:?}")
            }
        },
    }
    // The copying forms: the destination's values, contiguous, scattered into.
    if bad.is_none() {
        let input = TensorView::with_strides(
            &init,
            &dest_spec.shape,
            &dest_spec.strides,
            dest_spec.offset,
        )
        .unwrap();
        let out =
            (op.copy)(&input, dim, &idx, &src).unwrap_or_else(|e| panic!("{what}, copying: {e:?}"));
        let mut expect = Vec::new();
        for_each_pos(&dest_shape, |pos| {
            expect.push(want[offset_in(&dest_spec, pos)])
        });
        same_bits(out.as_slice(), &expect, &format!("{what}, copying"));
    }
    Some(())
}

/// The scatter under test: `scatter_into_with` / `scatter`, or for the types
/// that have it `scatter_add_into_with` / `scatter_add` with the naive side
/// adding by the same `Accumulate::accumulate` in the documented order.
struct ScatterOp<T, I> {
    into: fn(
        &mut TensorViewMut<'_, T>,
        isize,
        &TensorView<'_, I>,
        &TensorView<'_, T>,
        &GatherOptions,
    ) -> Result<(), GatherError>,
    copy: fn(
        &TensorView<'_, T>,
        isize,
        &TensorView<'_, I>,
        &TensorView<'_, T>,
    ) -> Result<Tensor<T>, GatherError>,
    add: Option<fn(T, T) -> T>,
}

fn assign<T: Elem, I: IndexElem>() -> ScatterOp<T, I> {
    ScatterOp {
        into: scatter_into_with::<T, I>,
        copy: scatter::<T, I>,
        add: None,
    }
}

fn add<T: Elem + Accumulate, I: IndexElem>() -> ScatterOp<T, I> {
    ScatterOp {
        into: scatter_add_into_with::<T, I>,
        copy: scatter_add::<T, I>,
        add: Some(|a, b| a.accumulate(b)),
    }
}

fn select_case<T: Elem, I: IndexElem>(u: &mut Unstructured<'_>) -> Option<()> {
    let rank = (byte(u) % 4) as usize;
    let src_shape = shape(u, rank);
    let spec = layout(u, &src_shape, CAP);
    let seed = splitmix64(byte(u) as u64);
    let buf: Vec<T> = (0..spec.len)
        .map(|k| T::from_bits(splitmix64(seed ^ k as u64) as u128 * 0x1_0000_0001))
        .collect();
    let src = TensorView::with_strides(&buf, &spec.shape, &spec.strides, spec.offset).ok()?;
    let r = rank.max(1) as isize;
    // One dim past each end too.
    let dim = (byte(u) as isize % (2 * r + 2)) - r - 1;
    let d = (-r..r).contains(&dim).then(|| dim.rem_euclid(r) as usize);
    let what = format!("src {spec:?}, dim {dim}");

    // index_select: a 1-d index (a count byte of 6 or 7: 0-d).
    let count = (byte(u) % 8) as usize;
    let zero_d = count >= 6;
    let count = if zero_d { 1 } else { count };
    let size = d.map_or(1, |d| src_shape.get(d).copied().unwrap_or(1));
    let raw_picks: Vec<i64> = (0..count)
        .map(|_| (byte(u) as i64 % (size as i64 + 2)) - 1)
        .collect();
    let picks: Vec<I> = raw_picks.iter().map(|&v| I::from_i64_wrapping(v)).collect();
    let pick_shape = if zero_d { vec![] } else { vec![count] };
    let pv = TensorView::new(&picks, &pick_shape).unwrap();
    let got = index_select(&src, dim, &pv);
    let what_sel = format!(
        "index_select({what}, index {raw_picks:?} as {})",
        std::any::type_name::<I>()
    );
    match d {
        None => assert!(
            matches!(got, Err(GatherError::DimOutOfRange { .. })),
            "{what_sel}: {got:?}"
        ),
        Some(d) => {
            let mut out_shape = if rank == 0 {
                vec![1]
            } else {
                src_shape.clone()
            };
            out_shape[d] = count;
            let bad = picks
                .iter()
                .position(|v| !(0..size as i128).contains(&v.to_i128()));
            match (&got, bad) {
                (Ok(t), None) => {
                    if rank > 0 {
                        assert_eq!(t.shape(), &out_shape[..], "{what_sel}");
                    }
                    let mut want = Vec::new();
                    for_each_pos(&out_shape, |pos| {
                        let mut at = pos.to_vec();
                        at[d] = picks[pos[d]].to_i128() as usize;
                        want.push(if rank == 0 {
                            *src.get(&[]).unwrap()
                        } else {
                            *src.get(&at).unwrap()
                        });
                    });
                    same_bits(t.as_slice(), &want, &what_sel);
                }
                (Err(GatherError::IndexOutOfBounds { position, .. }), Some(k)) => {
                    let want: Vec<usize> = if zero_d { vec![] } else { vec![k] };
                    assert_eq!(position, &want, "{what_sel}");
                }
                (got, bad) => panic!("{what_sel}: got {got:?}, first bad pick {bad:?}"),
            }
        }
    }

    // take_along_axis (numpy: rank >= 1): per axis other than dim, an index
    // size equal to the source's or 1, or (rarely) another size.
    if rank == 0 {
        return Some(());
    }
    let idx_shape: Vec<usize> = (0..rank)
        .map(|k| match byte(u) {
            0..=99 => src_shape[k],
            100..=199 => 1,
            b => (b % 7) as usize,
        })
        .collect();
    let ispec = layout(u, &idx_shape, CAP);
    let n_at = d.map_or(0, |d| src_shape[d]) as i64;
    let raw: Vec<i64> = (0..ispec.len)
        .map(|_| (byte(u) as i64 % (2 * n_at + 3)) - n_at - 1)
        .collect();
    let ibuf: Vec<I> = raw.iter().map(|&v| I::from_i64_wrapping(v)).collect();
    let iv = TensorView::with_strides(&ibuf, &ispec.shape, &ispec.strides, ispec.offset).ok()?;
    let got = take_along_axis(&src, &iv, dim);
    let what_take = format!(
        "take_along_axis({what}, indices {ispec:?} as {})",
        std::any::type_name::<I>()
    );
    let Some(d) = d else {
        assert!(
            matches!(got, Err(GatherError::DimOutOfRange { .. })),
            "{what_take}: {got:?}"
        );
        return Some(());
    };
    let compatible = (0..rank)
        .all(|k| k == d || src_shape[k] == idx_shape[k] || src_shape[k] == 1 || idx_shape[k] == 1);
    if !compatible {
        assert!(
            matches!(got, Err(GatherError::SizeMismatch { .. })),
            "{what_take}: {got:?}"
        );
        return Some(());
    }
    let out_shape: Vec<usize> = (0..rank)
        .map(|k| {
            if k == d || src_shape[k] == 1 {
                idx_shape[k]
            } else {
                src_shape[k]
            }
        })
        .collect();
    // Every value is checked, even where broadcasting against a size-0 axis
    // leaves the result empty (numpy does).
    let n = n_at as i128;
    let wrap = |v: i128| if v < 0 { v + n } else { v };
    let mut ok = true;
    for_each_pos(&idx_shape, |pos| {
        ok &= (0..n).contains(&wrap(iv.get(pos).unwrap().to_i128()))
    });
    let mut want = Vec::new();
    for_each_pos(&out_shape, |pos| {
        if !ok {
            return;
        }
        let ipos: Vec<usize> = (0..rank)
            .map(|k| if idx_shape[k] == 1 { 0 } else { pos[k] })
            .collect();
        let w = wrap(iv.get(&ipos).unwrap().to_i128());
        let mut at: Vec<usize> = (0..rank)
            .map(|k| if src_shape[k] == 1 { 0 } else { pos[k] })
            .collect();
        at[d] = w as usize;
        want.push(*src.get(&at).unwrap());
    });
    match got {
        Ok(t) if ok => {
            assert_eq!(t.shape(), &out_shape[..], "{what_take}");
            same_bits(t.as_slice(), &want, &what_take);
        }
        Err(GatherError::IndexOutOfBounds { .. }) if !ok => {}
        other => panic!("{what_take}: got {other:?}, every index in range: {ok}"),
    }
    Some(())
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
    // A class weight (of c classes, or a wrong length) half the time.
    let weight: Option<Vec<f64>> = (byte(u) & 1 == 1).then(|| {
        let len = if byte(u) % 8 == 0 { c + 1 } else { c };
        (0..len).map(|k| (k % 4 + 1) as f64 / 2.0).collect()
    });
    let mut opts = LossOptions::new().ignore_index(-1).label_smoothing(eps);
    if let Some(w) = &weight {
        opts = opts.weight(&TensorView::new(w, &[w.len()]).unwrap());
    }
    let got = cross_entropy(&x, &y, &opts);
    let one = 1.0f64;
    let g = TensorView::scalar(&one);
    let _ = cross_entropy_backward(&x, &y, &g, &opts);
    let plain = opts.clone().label_smoothing(0.0);
    let _ = cross_entropy_from_probs(&x, &y, &plain);
    let soft = opts.clone().no_ignore_index();
    let _ = cross_entropy_with_probs_target(&x, &x, &soft);
    let _ = cross_entropy_with_probs_target_backward(&x, &x, &g, &soft);
    let w = |k: usize| weight.as_ref().map_or(1.0, |w| w[k]);
    if weight.as_ref().is_some_and(|w| w.len() != c) {
        assert!(got.is_err(), "a weight of the wrong length: {got:?}");
        return Ok(());
    }
    let bad = labels
        .iter()
        .any(|&l| l != -1 && !(0..c as i64).contains(&l));
    match got {
        Err(_) => assert!(bad, "{got:?}"),
        Ok(loss) => {
            assert!(!bad);
            let (mut total, mut count, mut weight_sum) = (0.0f64, 0, 0.0f64);
            for r in 0..n {
                if labels[r] == -1 {
                    continue;
                }
                let row = &logits[r * c..(r + 1) * c];
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                let y = labels[r] as usize;
                // torch's smoothing term: Σ_k w[k]·(lse - x_k) / C.
                let smooth: f64 = row.iter().enumerate().map(|(k, v)| w(k) * (lse - v)).sum();
                total += (1.0 - eps) * w(y) * (lse - row[y]) + eps * smooth / c as f64;
                count += 1;
                weight_sum += w(y);
            }
            // A weighted mean divides by the labels' weights.
            let want = total / weight_sum;
            let v = loss.item().unwrap();
            let finite = logits.iter().all(|v| v.is_finite());
            if finite && count > 0 {
                assert!(
                    (v - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{v} vs {want}"
                );
            }
        }
    }
    Ok(())
}

/// Element types: the low nibble of the kinds byte (`bool` and `char` twice).
/// The numeric ones (first seven) also run `scatter_add` when bit 6 is set.
macro_rules! by_elem {
    ($kinds:expr, $i:ty, $numeric:ident, $any:ident) => {
        match $kinds & 15 {
            0 => $numeric!(i64, $i),
            1 => $numeric!(u8, $i),
            2 => $numeric!(u16, $i),
            3 => $numeric!(u32, $i),
            4 => $numeric!(f32, $i),
            5 => $numeric!(f64, $i),
            6 => $numeric!(u128, $i),
            7 | 13 => $any!(bool, $i),
            8 | 14 => $any!(char, $i),
            9 => $any!([u8; 3], $i),
            10 => $any!([u8; 5], $i),
            11 => $any!([u16; 3], $i),
            12 => $any!([u64; 2], $i),
            _ => $any!((), $i),
        }
    };
}

/// Index types: bits 4..=5 of the kinds byte.
macro_rules! by_index {
    ($kinds:expr, $numeric:ident, $any:ident) => {
        match ($kinds >> 4) & 3 {
            0 => by_elem!($kinds, i64, $numeric, $any),
            1 => by_elem!($kinds, i32, $numeric, $any),
            2 => by_elem!($kinds, u32, $numeric, $any),
            _ => by_elem!($kinds, u64, $numeric, $any),
        }
    };
}

// Byte layout: an operation byte (`b % 3`: scatter, index_select and
// take_along_axis, losses); for the first two a kinds byte (element type
// `b & 15`, index type `(b >> 4) & 3`, bit 6: `scatter_add` for a numeric
// type), then the case's own bytes.
fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let op = byte(&mut u) % 3;
    if op == 2 {
        let _ = loss_case(&mut u);
        return;
    }
    let kinds = byte(&mut u);
    let summing = kinds & 0x40 != 0;
    let u = &mut u;
    macro_rules! numeric {
        ($t:ty, $i:ty) => {
            if op == 1 {
                select_case::<$t, $i>(u)
            } else if summing {
                scatter_case::<$t, $i>(u, add::<$t, $i>())
            } else {
                scatter_case::<$t, $i>(u, assign::<$t, $i>())
            }
        };
    }
    macro_rules! any {
        ($t:ty, $i:ty) => {
            if op == 1 {
                select_case::<$t, $i>(u)
            } else {
                scatter_case::<$t, $i>(u, assign::<$t, $i>())
            }
        };
    }
    let _ = by_index!(kinds, numeric, any);
});
