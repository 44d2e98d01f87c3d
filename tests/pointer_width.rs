//! Sizes at the edges of the pointer width. Written for every target but aimed
//! at 32-bit ones, where `usize` and `isize` are 32 bits and a few MiB of real
//! data (or a stride-0 view of one value) reach them: element counts that fit
//! in `isize` while their bytes pass `isize::MAX` or `usize::MAX`, element
//! offsets next to and past `isize::MAX`, and shapes whose count overflows.
//! Every refusal must be an error (`AllocationFailed`, `ShapeOverflow`,
//! `ViewOutOfBounds`), never a panic, an abort or a wrong result.
//!
//! The sizes derive from `usize::BITS`, so on 64-bit targets the same
//! properties are tested at 64-bit sizes. No test allocates more than a few
//! MiB: a huge count is only ever refused, or held in zero-sized elements,
//! which take no memory whatever their count. (Nothing here copies a view of
//! at most `isize::MAX` bytes: on a 32-bit target, up to 2 GiB, that
//! allocation may well succeed.)

use fastgather::loss::{
    LossOptions, Reduction, cross_entropy, cross_entropy_backward, gather_backward, log_softmax,
    nll_loss,
};
use fastgather::{
    GatherError, GatherOptions, Isa, Tensor, TensorView, TensorViewMut, explain, explain_into,
    gather, gather_into, gather_into_with, gather_with, index_select, index_select_into, scatter,
    scatter_add, scatter_add_into_with, scatter_into, scatter_into_with, take_along_axis,
    take_along_axis_into,
};

/// The largest element count (and element offset) a view may have.
const MAX: usize = isize::MAX as usize;

/// The element count whose bytes are exactly `2^BITS` for `T` (of a
/// power-of-two size): one past `usize::MAX` (`2^29` eight-byte elements on a
/// 32-bit target, `2^61` on a 64-bit one), while the count itself fits in
/// `isize` with room to spare.
fn bytes_past_usize<T>() -> usize {
    1 << (usize::BITS - size_of::<T>().trailing_zeros())
}

/// The element count whose bytes are exactly `isize::MAX + 1` for `T`: the
/// smallest byte count no allocation may have (`2^28` eight-byte elements on
/// a 32-bit target).
fn bytes_past_isize<T>() -> usize {
    bytes_past_usize::<T>() / 2
}

/// A one-element buffer seen as `shape`, all strides 0.
fn broadcast<'a, T>(one: &'a [T; 1], shape: &[usize]) -> TensorView<'a, T> {
    TensorView::with_strides(one, shape, &vec![0; shape.len()], 0).unwrap()
}

fn overflow(shape: &[usize]) -> GatherError {
    GatherError::ShapeOverflow {
        shape: shape.to_vec(),
    }
}

/// The error of an allocation of `n` elements of `T`: the bytes asked for,
/// saturated at `usize::MAX` where they do not fit in it.
fn alloc_failed<T>(n: usize) -> GatherError {
    GatherError::AllocationFailed {
        bytes: n.saturating_mul(size_of::<T>()),
    }
}

// ---------------------------------------------------------------------------
// 1. Views whose bytes overflow while their count fits
// ---------------------------------------------------------------------------

/// A view may have more bytes than `isize::MAX` or `usize::MAX` (its elements
/// are never copied by making it); only a copy of it fails, with the bytes
/// it asked for.
#[test]
fn views_whose_bytes_do_not_fit_are_made_and_refuse_to_copy() {
    fn case<T: Copy + Default + PartialEq + std::fmt::Debug>(shape: &[usize]) {
        let one = [T::default()];
        let n: usize = shape.iter().product();
        let v = broadcast(&one, shape);
        assert_eq!((v.shape(), v.len()), (shape, n));
        assert_eq!(v.get(&vec![0; shape.len()]).copied(), Some(T::default()));
        let last: Vec<usize> = shape.iter().map(|&d| d - 1).collect();
        assert!(v.get(&last).is_some());
        assert_eq!(v.try_to_vec().unwrap_err(), alloc_failed::<T>(n));
        assert_eq!(v.try_to_tensor().unwrap_err(), alloc_failed::<T>(n));
        // The same view by `expand`, and through the view operations.
        let base = TensorView::new(&one, &vec![1; shape.len()]).unwrap();
        let e = base.expand(shape).unwrap();
        assert_eq!((e.shape(), e.strides()), (v.shape(), v.strides()));
        let f = e.flip(0).unwrap().transpose(0, -1).unwrap();
        assert_eq!(f.len(), n);
        let s = e.slice(0, 1, shape[0] as isize, 2).unwrap();
        assert_eq!(s.shape()[0], shape[0] / 2);
        assert_eq!(e.unsqueeze(0).unwrap().len(), n);
        // Not contiguous (stride 0), so not reshaped without a copy.
        let flat = [n as isize];
        assert!(matches!(
            e.reshape(&flat),
            Err(GatherError::InvalidViewOp { op: "reshape", .. })
        ));
    }
    let side = 1usize << (usize::BITS / 2 - 1);
    // 2^BITS bytes: one past usize::MAX.
    case::<f64>(&[bytes_past_usize::<f64>()]);
    case::<u32>(&[bytes_past_usize::<u32>()]);
    case::<u128>(&[bytes_past_usize::<u128>() / 4, 4]);
    // 2^(BITS-1) bytes: one past isize::MAX.
    case::<u16>(&[side, side]);
    case::<f64>(&[bytes_past_isize::<f64>()]);
}

/// Counts past `isize::MAX` are refused by every way of making a view, and
/// by the allocating constructors before they allocate (zero-sized elements
/// included, which would take no memory).
#[test]
fn counts_past_isize_are_refused() {
    let half = 1usize << (usize::BITS / 2);
    let one = [0u16];
    let base = TensorView::new(&one, &[1, 1]).unwrap();
    for shape in [
        [half, half],     // 2^BITS: past usize
        [half, half / 2], // 2^(BITS-1): past isize only
        [MAX, 2],
        [usize::MAX, 1],
    ] {
        assert_eq!(base.expand(&shape).unwrap_err(), overflow(&shape));
        assert_eq!(
            TensorView::with_strides(&one, &shape, &[0, 0], 0).unwrap_err(),
            overflow(&shape)
        );
        assert_eq!(Tensor::full(&shape, 0u16).unwrap_err(), overflow(&shape));
        assert_eq!(Tensor::<u16>::zeros(&shape).unwrap_err(), overflow(&shape));
        assert_eq!(Tensor::full(&shape, ()).unwrap_err(), overflow(&shape));
        assert_eq!(Tensor::<()>::zeros(&shape).unwrap_err(), overflow(&shape));
    }
    // Sizes given as i64 that do not fit in usize saturate, then overflow.
    let big = [1i64 << 40, 1i64 << 40];
    assert!(matches!(
        base.expand(&big),
        Err(GatherError::ShapeOverflow { .. })
    ));
}

/// `Tensor::full` and `Tensor::zeros` of a count that fits but whose bytes do
/// not: an allocation failure with the bytes asked for, not an abort.
#[test]
fn tensors_whose_bytes_do_not_fit_fail_to_allocate() {
    let n = bytes_past_usize::<f64>();
    assert_eq!(
        Tensor::full(&[n], 1.5f64).unwrap_err(),
        alloc_failed::<f64>(n)
    );
    assert_eq!(
        Tensor::<f64>::zeros(&[n]).unwrap_err(),
        alloc_failed::<f64>(n)
    );
    let n = bytes_past_isize::<u32>();
    assert_eq!(
        Tensor::full(&[n], 7u32).unwrap_err(),
        GatherError::AllocationFailed { bytes: MAX + 1 }
    );
    let half = 1usize << (usize::BITS / 2 - 1);
    assert_eq!(
        Tensor::<u16>::zeros(&[half, half]).unwrap_err(),
        GatherError::AllocationFailed { bytes: MAX + 1 }
    );
}

// ---------------------------------------------------------------------------
// 2. Offsets next to and past isize::MAX
// ---------------------------------------------------------------------------

/// `len` zero-sized elements, made at once rather than one by one (as
/// `vec![(); len]` may be): they take no memory, so the buffer may be as long
/// as `usize::MAX`, and views over it reach every element offset up to
/// `isize::MAX`, the last one a view may address.
fn zst_buffer(len: usize) -> Box<[()]> {
    fastgather::bytemuck::allocation::zeroed_slice_box(len)
}

#[test]
fn offsets_up_to_isize_max_are_valid() {
    let buf = zst_buffer(usize::MAX);
    // Offsets up to MAX, reached by the offset, by strides, or both.
    for (shape, strides, offset) in [
        (&[2usize][..], &[1isize][..], MAX - 1),
        (&[2], &[isize::MAX], 0),
        (&[2], &[-isize::MAX], MAX),
        (&[2, 2], &[isize::MAX / 2, 1], 0),
        (&[3], &[isize::MAX / 2], 0),
        (&[1], &[1], MAX),
    ] {
        let v = TensorView::with_strides(&buf, shape, strides, offset).unwrap();
        let last: Vec<usize> = shape.iter().map(|&d| d - 1).collect();
        assert!(v.get(&last).is_some(), "{shape:?} {strides:?} {offset}");
        assert!(v.flip(0).unwrap().get(&last).is_some());
        let mut mbuf = zst_buffer(usize::MAX);
        let mut m = TensorViewMut::with_strides(&mut mbuf, shape, strides, offset).unwrap();
        assert!(m.get_mut(&last).is_some());
    }
    // The largest contiguous view: every offset from 0 to MAX - 1.
    let all = TensorView::new(&buf[..MAX], &[MAX]).unwrap();
    assert!(all.is_contiguous());
    assert!(all.get(&[MAX - 1]).is_some() && all.get(&[MAX]).is_none());
    let flipped = all.flip(0).unwrap();
    assert_eq!((flipped.offset(), flipped.strides()), (MAX - 1, &[-1][..]));
    let tail = all.slice(0, -2, MAX as isize, 1).unwrap();
    assert_eq!((tail.offset(), tail.len()), (MAX - 2, 2));
    // Its copy takes no memory either.
    assert_eq!(all.try_to_vec().unwrap().len(), MAX);
    // Reshaped, and refused a shape of another count.
    let quarter = 1usize << (usize::BITS - 2);
    let q = TensorView::new(&buf[..quarter], &[quarter]).unwrap();
    let half = 1usize << (usize::BITS / 2 - 1);
    assert_eq!(
        q.reshape(&[half, half]).unwrap().strides(),
        &[half as isize, 1]
    );
    assert_eq!(q.reshape(&[-1, 4]).unwrap().shape(), &[quarter / 4, 4]);
    assert_eq!(
        q.reshape(&[quarter, 2]).unwrap_err(),
        overflow(&[quarter, 2])
    );
    let t = Tensor::<()>::zeros(&[quarter]).unwrap();
    assert_eq!(t.len(), quarter);
    assert_eq!(t.reshape(&[-1, 2]).unwrap().shape(), &[quarter / 2, 2]);
}

/// An element offset past `isize::MAX`, or one that a stride times a size
/// moves there, is a `ShapeOverflow`, even where the buffer is long enough;
/// one below 0 is out of bounds.
#[test]
fn offsets_past_isize_max_are_refused() {
    let buf = zst_buffer(usize::MAX);
    let half = isize::MAX / 2 + 1; // twice it is one past isize::MAX
    for (shape, strides, offset) in [
        (&[1usize][..], &[1isize][..], MAX + 1),
        (&[1], &[1], usize::MAX),
        (&[2], &[1], MAX),
        (&[2], &[isize::MAX], 1),
        (&[3], &[half], 0),
        (&[2, 2], &[half, half], 0),
        (&[2, 2], &[isize::MAX, 1], 0),
        (&[3], &[isize::MIN], 0),
        (&[2], &[-1], MAX + 1),
    ] {
        let e = TensorView::with_strides(&buf, shape, strides, offset).unwrap_err();
        assert_eq!(e, overflow(shape), "{shape:?} {strides:?} {offset}");
        let mut mbuf = zst_buffer(usize::MAX);
        let e = TensorViewMut::with_strides(&mut mbuf, shape, strides, offset).unwrap_err();
        assert_eq!(e, overflow(shape), "{shape:?} {strides:?} {offset}");
    }
    assert!(matches!(
        TensorView::with_strides(&buf, &[2], &[isize::MIN], MAX),
        Err(GatherError::ViewOutOfBounds { min_offset: -1, .. })
    ));
    // Empty views take any offset, as ever.
    assert!(TensorView::with_strides(&buf, &[0, 2], &[1, isize::MAX], usize::MAX).is_ok());
}

/// Gathers, selections and scatters over zero-sized elements at offsets up to
/// `isize::MAX`, on every path: index values near `isize::MAX` are in range
/// for a dim that large, one more is not.
#[test]
fn operations_at_offsets_near_isize_max() {
    let buf = zst_buffer(MAX);
    let src = TensorView::new(&buf, &[MAX]).unwrap();
    let top = MAX as i64 - 1;
    let picks = [top, 0, top - 1, 1];
    let idx = TensorView::new(&picks, &[4]).unwrap();
    let past = [0, top + 1];
    let bad_idx = TensorView::new(&past, &[2]).unwrap();
    let bad = GatherError::IndexOutOfBounds {
        value: top as i128 + 1,
        position: vec![1],
        dim: 0,
        size: MAX,
        wraps: false,
    };
    for source in [src.clone(), src.flip(0).unwrap()] {
        assert_eq!(gather(&source, 0, &idx).unwrap().len(), 4);
        assert_eq!(gather(&source, 0, &bad_idx).unwrap_err(), bad);
        for isa in Isa::available() {
            for opts in [
                GatherOptions::new().isa(isa),
                GatherOptions::new().isa(isa).sequential(),
            ] {
                assert_eq!(gather_with(&source, 0, &idx, &opts).unwrap().len(), 4);
                let mut out = [(); 4];
                let mut out = TensorViewMut::new(&mut out, &[4]).unwrap();
                gather_into_with(&source, 0, &idx, &mut out, &opts).unwrap();
                let e = gather_with(&source, 0, &bad_idx, &opts).unwrap_err();
                assert_eq!(e, bad, "{isa:?}");
            }
        }
        assert_eq!(index_select(&source, 0, &idx).unwrap().shape(), &[4]);
        let from_end = [-1i64, -(MAX as i64)];
        let along = TensorView::new(&from_end, &[2]).unwrap();
        assert_eq!(take_along_axis(&source, &along, 0).unwrap().shape(), &[2]);
    }
    // Scatter into the far end of a destination that long.
    let mut dbuf = zst_buffer(MAX);
    let mut dest = TensorViewMut::new(&mut dbuf, &[MAX]).unwrap();
    let vals = TensorView::new(&[(); 4], &[4]).unwrap();
    scatter_into(&mut dest, 0, &idx, &vals).unwrap();
    scatter_into_with(
        &mut dest,
        0,
        &idx,
        &vals,
        &GatherOptions::new().sequential(),
    )
    .unwrap();
    let e = scatter_into(&mut dest, 0, &bad_idx, &vals.slice(0, 0, 2, 1).unwrap()).unwrap_err();
    assert_eq!(e, bad);
}

// ---------------------------------------------------------------------------
// 3. Operations whose output bytes do not fit
// ---------------------------------------------------------------------------

/// The gather family over broadcast operands whose output has more bytes than
/// any allocation may: `AllocationFailed` with the bytes asked for, before a
/// kernel runs, on every path.
#[test]
fn outputs_whose_bytes_do_not_fit_fail_to_allocate() {
    // [n, 2] eight-byte elements: the [n, 1] outputs are isize::MAX + 1 bytes,
    // the [n, 2] ones 2^BITS.
    let n = bytes_past_isize::<f64>();
    let x = [2.5f64];
    let x = broadcast(&x, &[n, 2]);
    let zero = [0i64];
    let col = broadcast(&zero, &[n, 1]);
    let full = broadcast(&zero, &[n, 2]);
    let one_col = GatherError::AllocationFailed { bytes: MAX + 1 };
    assert_eq!(gather(&x, 1, &col).unwrap_err(), one_col);
    assert_eq!(
        gather(&x, 1, &full).unwrap_err(),
        alloc_failed::<f64>(2 * n)
    );
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        assert_eq!(gather_with(&x, 1, &col, &opts).unwrap_err(), one_col);
        let seq = opts.sequential();
        assert_eq!(
            gather_with(&x, 0, &full, &seq).unwrap_err(),
            alloc_failed::<f64>(2 * n)
        );
        // Planning the same call allocates nothing.
        assert!(explain(&x, 1, &full, &seq).unwrap().is_some());
    }
    let pick = TensorView::new(&[1i64], &[1]).unwrap();
    assert_eq!(index_select(&x, 1, &pick).unwrap_err(), one_col);
    let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
    assert_eq!(take_along_axis(&x, &last, 1).unwrap_err(), one_col);
    // scatter and scatter_add copy their input first.
    let small = TensorView::new(&[0i64], &[1, 1]).unwrap();
    let v = TensorView::new(&[1.0f64], &[1, 1]).unwrap();
    assert_eq!(
        scatter(&x, 1, &small, &v).unwrap_err(),
        alloc_failed::<f64>(2 * n)
    );
    assert_eq!(
        scatter_add(&x, 1, &small, &v).unwrap_err(),
        alloc_failed::<f64>(2 * n)
    );
    assert_eq!(
        gather_backward(&v, 1, &small, x.shape()).unwrap_err(),
        alloc_failed::<f64>(2 * n)
    );
    // Four-byte elements, 2^BITS bytes of them.
    let n = bytes_past_usize::<u32>();
    let y = [3u32];
    let y = broadcast(&y, &[n]);
    let idx = broadcast(&zero, &[n]);
    assert_eq!(gather(&y, 0, &idx).unwrap_err(), alloc_failed::<u32>(n));
    assert_eq!(
        index_select(&y, 0, &idx).unwrap_err(),
        alloc_failed::<u32>(n)
    );
}

/// `gather_into` and friends allocate nothing: into an output of zero-sized
/// elements as long as a broadcast index with `2^BITS` bytes, a bad value at
/// its first position is found and named, and planning succeeds.
#[test]
fn into_forms_with_an_index_whose_bytes_do_not_fit() {
    let n = bytes_past_usize::<i64>();
    let src = [(); 3];
    let src = TensorView::new(&src, &[3]).unwrap();
    let seven = [7i64];
    let idx = broadcast(&seven, &[n]);
    let mut obuf = zst_buffer(n);
    let mut out = TensorViewMut::new(&mut obuf, &[n]).unwrap();
    let bad = GatherError::IndexOutOfBounds {
        value: 7,
        position: vec![0],
        dim: 0,
        size: 3,
        wraps: false,
    };
    assert!(
        explain_into(&src, 0, &idx, &out, &GatherOptions::new())
            .unwrap()
            .is_some()
    );
    assert_eq!(gather_into(&src, 0, &idx, &mut out).unwrap_err(), bad);
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa).sequential();
        let e = gather_into_with(&src, 0, &idx, &mut out, &opts).unwrap_err();
        assert_eq!(e, bad, "{isa:?}");
    }
    assert_eq!(index_select_into(&src, 0, &idx, &mut out).unwrap_err(), bad);
    let along = broadcast(&seven, &[n]);
    let e = take_along_axis_into(&src, &along, 0, &mut out).unwrap_err();
    assert!(
        matches!(e, GatherError::IndexOutOfBounds { value: 7, ref position, .. } if position == &[0]),
        "{e:?}"
    );
}

/// The losses over broadcast scores of `n` rows, whose per-row results do not
/// fit (`2^BITS` bytes of `f64`, or of any row result eight bytes or wider):
/// an allocation failure for every reduction, not an abort.
#[test]
fn losses_of_rows_whose_results_do_not_fit() {
    let n = bytes_past_usize::<f64>();
    let x = [0.5f64];
    let x = broadcast(&x, &[n, 2]);
    let label = [1i64];
    let labels = broadcast(&label, &[n]);
    let is_alloc =
        |e: GatherError| matches!(e, GatherError::AllocationFailed { bytes } if bytes > MAX);
    for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        let opts = LossOptions::new().reduction(reduction);
        let e = cross_entropy(&x, &labels, &opts).unwrap_err();
        assert!(is_alloc(e.clone()), "{reduction:?}: {e:?}");
        let e = nll_loss(&x, &labels, &opts).unwrap_err();
        assert!(is_alloc(e.clone()), "{reduction:?}: {e:?}");
    }
    let g = [1.0f64];
    let e = cross_entropy_backward(&x, &labels, &TensorView::scalar(&g[0]), &LossOptions::new())
        .unwrap_err();
    assert_eq!(e, alloc_failed::<f64>(2 * n));
    assert_eq!(log_softmax(&x).unwrap_err(), alloc_failed::<f64>(2 * n));
    // A label out of range is still found first.
    let bad = [2i64];
    let bad = broadcast(&bad, &[n]);
    assert!(matches!(
        cross_entropy(&x, &bad, &LossOptions::new()),
        Err(GatherError::IndexOutOfBounds { value: 2, .. })
    ));
}

// ---------------------------------------------------------------------------
// 4. Regressions
// ---------------------------------------------------------------------------

/// scatter's look-ahead at the next destination row weighed the row's bytes
/// against `64 · positions` along the dim: a broadcast index of `2^26`
/// positions makes that `2^32`, past a 32-bit `usize` (a panic with overflow
/// checks). The values here all land on one element per row.
#[test]
fn scatter_with_a_long_broadcast_index_along_dim() {
    const POSITIONS: usize = 1 << 26;
    const ROW: usize = 4096;
    let at = [7i64];
    let idx = broadcast(&at, &[2, POSITIONS]);
    let seq = GatherOptions::new().sequential();
    // One-byte elements: a destination row of 4 KiB.
    let nine = [9u8];
    let mut buf = vec![0u8; 2 * ROW];
    let mut dest = TensorViewMut::new(&mut buf, &[2, ROW]).unwrap();
    scatter_into_with(&mut dest, 1, &idx, &broadcast(&nine, &[2, POSITIONS]), &seq).unwrap();
    let mut want = vec![0u8; 2 * ROW];
    (want[7], want[ROW + 7]) = (9, 9);
    assert!(buf == want);
    // Four-byte sums: 16 KiB rows, each of the positions adding one.
    let one = [1u32];
    let mut buf = vec![0u32; 2 * ROW];
    let mut dest = TensorViewMut::new(&mut buf, &[2, ROW]).unwrap();
    scatter_add_into_with(&mut dest, 1, &idx, &broadcast(&one, &[2, POSITIONS]), &seq).unwrap();
    let mut want = vec![0u32; 2 * ROW];
    (want[7], want[ROW + 7]) = (POSITIONS as u32, POSITIONS as u32);
    assert!(buf == want);
}

/// The documented 32-bit limit (docs/SEMANTICS.md, "Counts are `usize`"):
/// `index_select` by a 2-d index and `take_along_axis` broadcast their source
/// to the index's leading sizes, so on a 32-bit target a small call can build
/// a source view past `isize::MAX` elements, and is refused with a clear
/// error rather than run; on 64-bit targets the same calls run.
#[test]
fn broadcast_sources_past_isize_on_32_bit_only() {
    let src = vec![7u8; 1 << 20];
    let src = TensorView::new(&src, &[1 << 20]).unwrap();
    let ids = vec![3i64; 4096];
    let idx = TensorView::new(&ids, &[4096, 1]).unwrap();
    let selected = index_select(&src, 0, &idx);
    let row = src.unsqueeze(0).unwrap();
    let along = take_along_axis(&row, &idx, 1);
    if cfg!(target_pointer_width = "64") {
        let t = selected.unwrap();
        assert_eq!(
            (t.shape(), t.as_slice()),
            (&[4096, 1][..], &[7u8; 4096][..])
        );
        let t = along.unwrap();
        assert_eq!(
            (t.shape(), t.as_slice()),
            (&[4096, 1][..], &[7u8; 4096][..])
        );
    } else {
        assert_eq!(selected.unwrap_err(), overflow(&[4096, 1 << 20]));
        assert_eq!(along.unwrap_err(), overflow(&[4096, 1 << 20]));
    }
}
