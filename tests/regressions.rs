//! Safe input that used to panic, abort the process or be accepted against the
//! rules: zero-sized elements, empty-but-huge and huge stride-0 views, element
//! counts past `isize`, empty operands against torch's rules, and empty views
//! with offsets anywhere.

use fastgather::loss::{
    LossOptions, Reduction, cross_entropy, cross_entropy_backward, cross_entropy_backward_into,
    cross_entropy_from_probs, gather_backward, log_softmax, nll_loss,
};
use fastgather::{
    GatherError, GatherOptions, IndexMode, Isa, Tensor, TensorView, TensorViewMut, explain, gather,
    gather_into, gather_with, index_select, reference, scatter, scatter_add, scatter_add_into,
    scatter_into, scatter_into_with, take_along_axis,
};

/// Rows of the huge shapes below, `[HUGE_ROWS, HUGE_COLS]`: with 8-byte
/// elements, one per row is already more memory than can be had, so their
/// allocation fails on every machine (it is never attempted infallibly).
/// On 64-bit targets, `2^45` rows are `2^48` bytes, past any 47-bit user
/// address space: the allocator itself refuses.
#[cfg(target_pointer_width = "64")]
const HUGE_ROWS: usize = 1 << 45;
/// On 32-bit targets the address space (`2^32` bytes) is larger than the
/// `isize::MAX` bytes no allocation may exceed, so the sure failure is a
/// request past `isize::MAX`: `2^28` rows are `2^31` bytes, refused before
/// the allocator is asked.
#[cfg(not(target_pointer_width = "64"))]
const HUGE_ROWS: usize = 1 << (usize::BITS - 4);

/// Columns of the huge shapes: as many as keep `HUGE_ROWS * HUGE_COLS`
/// elements within `isize` (a view's element count must fit) with room to
/// spare: `2^55` elements on 64-bit targets, `2^30` on 32-bit ones.
#[cfg(target_pointer_width = "64")]
const HUGE_COLS: usize = 1 << 10;
#[cfg(not(target_pointer_width = "64"))]
const HUGE_COLS: usize = 4;

/// An offset, size or stride far past any small buffer, whose square
/// overflows `usize`: `2^40` on 64-bit targets, `2^24` on 32-bit ones.
const FAR: usize = 1 << (usize::BITS / 2 + 8);

/// Whether `r` is the failure to allocate a buffer of the huge shapes: at
/// least one byte per row.
fn is_alloc_failure<T: std::fmt::Debug>(r: Result<T, GatherError>) -> bool {
    matches!(r, Err(GatherError::AllocationFailed { bytes }) if bytes >= HUGE_ROWS)
}

fn out_of_bounds(value: i128, position: &[usize], dim: usize, size: usize) -> GatherError {
    GatherError::IndexOutOfBounds {
        value,
        position: position.to_vec(),
        dim,
        size,
        wraps: false,
    }
}

/// The error of a call that accepts negative indices (take_along_axis, wrap mode).
fn out_of_wrapped_bounds(value: i128, position: &[usize], dim: usize, size: usize) -> GatherError {
    GatherError::IndexOutOfBounds {
        value,
        position: position.to_vec(),
        dim,
        size,
        wraps: true,
    }
}

// ---------------------------------------------------------------------------
// 1. Zero-sized elements
// ---------------------------------------------------------------------------

#[test]
fn scatter_of_zero_sized_elements() {
    let values = [(); 6];
    let src = TensorView::new(&values, &[2, 3]).unwrap();
    for opts in [GatherOptions::new(), GatherOptions::new().sequential()] {
        for dim in [0isize, 1] {
            let mut buf = [(); 12];
            let mut dest = TensorViewMut::new(&mut buf, &[4, 3]).unwrap();
            let idx = TensorView::new(&[2i64, 0, 2, 1, 1, 0], &[2, 3]).unwrap();
            scatter_into_with(&mut dest, dim, &idx, &src, &opts).unwrap();
            let bad = TensorView::new(&[0i64, 1, 2, 0, 4, 0], &[2, 3]).unwrap();
            let size = [4, 3][dim as usize];
            assert_eq!(
                scatter_into_with(&mut dest, dim, &bad, &src, &opts).unwrap_err(),
                out_of_bounds(4, &[1, 1], dim as usize, size),
                "dim {dim}"
            );
        }
    }
    // The allocating form, and a dim-0 scatter of many rows (the sweep path).
    let input = vec![(); 4 * 4096];
    let input = TensorView::new(&input, &[4, 4096]).unwrap();
    let idx: Vec<i64> = (0..2 * 4096).map(|k| (k % 4) as i64).collect();
    let idx = TensorView::new(&idx, &[2, 4096]).unwrap();
    let values = vec![(); 2 * 4096];
    let values = TensorView::new(&values, &[2, 4096]).unwrap();
    let out = scatter(&input, 0, &idx, &values).unwrap();
    assert_eq!((out.shape(), out.len()), (&[4, 4096][..], 4 * 4096));
}

#[test]
fn gather_family_of_zero_sized_elements() {
    let data = vec![(); 5 * 64];
    let src = TensorView::new(&data, &[5, 64]).unwrap();
    let raw: Vec<i64> = (0..3 * 64).map(|k| (k * 7 % 5) as i64).collect();
    let idx = TensorView::new(&raw, &[3, 64]).unwrap();
    for isa in Isa::available() {
        for mode in [IndexMode::Error, IndexMode::Wrap, IndexMode::Clamp] {
            let opts = GatherOptions::new().isa(isa).mode(mode);
            let out = gather_with(&src, 0, &idx, &opts).unwrap();
            assert_eq!(out.shape(), &[3, 64], "{isa:?} {mode:?}");
        }
        let fill = GatherOptions::new().isa(isa).fill(());
        assert_eq!(gather_with(&src, 0, &idx, &fill).unwrap().len(), 3 * 64);
        let wide = TensorView::new(&raw[..64], &[1, 64]).unwrap();
        let opts = GatherOptions::new().isa(isa);
        assert_eq!(
            gather_with(
                &src.transpose(0, 1).unwrap(),
                1,
                &wide.expand(&[64, 64]).unwrap(),
                &opts
            )
            .unwrap()
            .len(),
            64 * 64
        );
    }
    let bad: Vec<i64> = raw.iter().map(|&v| if v == 3 { 5 } else { v }).collect();
    let bad = TensorView::new(&bad, &[3, 64]).unwrap();
    let first = raw.iter().position(|&v| v == 3).unwrap();
    assert_eq!(
        gather(&src, 0, &bad).unwrap_err(),
        out_of_bounds(5, &[first / 64, first % 64], 0, 5)
    );
    let rows = TensorView::new(&[4i64, 0, 4], &[3]).unwrap();
    assert_eq!(index_select(&src, 0, &rows).unwrap().shape(), &[3, 64]);
    let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
    assert_eq!(take_along_axis(&src, &last, 1).unwrap().shape(), &[5, 1]);
}

// ---------------------------------------------------------------------------
// 2. Empty-but-huge views through the losses
// ---------------------------------------------------------------------------

#[test]
fn log_softmax_of_empty_huge_views() {
    let none: [f32; 0] = [];
    let rows_past_isize = isize::MAX as usize + 1;
    for rows in [
        0,
        3,
        FAR,
        HUGE_ROWS,
        1 << (usize::BITS - 3),
        rows_past_isize,
        usize::MAX,
    ] {
        let x = TensorView::with_strides(&none, &[rows, 0], &[0, 1], 0).unwrap();
        let y = log_softmax(&x).unwrap();
        assert_eq!((y.shape(), y.len()), (&[rows, 0][..], 0));
    }
    let x = TensorView::<f64>::new(&[], &[0, 3]).unwrap();
    assert_eq!(log_softmax(&x).unwrap().shape(), &[0, 3]);
}

#[test]
fn losses_of_empty_huge_views() {
    let none: [f32; 0] = [];
    let n = FAR;
    let x = TensorView::with_strides(&none, &[n, 0], &[0, 1], 0).unwrap();
    // No class, so every label must be ignored: one that is not is out of range.
    let zero = [0i64];
    let zeros = TensorView::with_strides(&zero, &[n], &[0], 0).unwrap();
    let ignored = [-100i64];
    let ignored = TensorView::with_strides(&ignored, &[n], &[0], 0).unwrap();
    let opts = LossOptions::new();
    let bad = out_of_bounds(0, &[0], 1, 0);
    assert_eq!(
        cross_entropy_from_probs(&x, &zeros, &opts).unwrap_err(),
        bad
    );
    assert_eq!(nll_loss(&x, &zeros, &opts).unwrap_err(), bad);
    assert_eq!(cross_entropy(&x, &zeros, &opts).unwrap_err(), bad);
    // Every row ignored: a mean over no rows is NaN and a sum 0, as torch's.
    type Loss = fn(
        &TensorView<'_, f32>,
        &TensorView<'_, i64>,
        &LossOptions,
    ) -> Result<Tensor<f32>, GatherError>;
    let losses: [(&str, Loss); 3] = [
        ("cross_entropy_from_probs", cross_entropy_from_probs),
        ("nll_loss", nll_loss),
        ("cross_entropy", cross_entropy),
    ];
    for (name, loss) in losses {
        let mean = loss(&x, &ignored, &opts).unwrap();
        assert!(
            mean.shape().is_empty() && mean.as_slice()[0].is_nan(),
            "{name}"
        );
        let sum = loss(&x, &ignored, &opts.clone().reduction(Reduction::Sum)).unwrap();
        assert_eq!(sum.as_slice(), &[0.0], "{name}");
        // One loss per row: `2 * HUGE_ROWS` four-byte losses do not fit.
        let none = opts.clone().reduction(Reduction::None);
        let rows = HUGE_ROWS << 1;
        let wide = TensorView::with_strides(&[0f32; 0], &[rows, 0], &[0, 0], 0).unwrap();
        let labels = ignored.slice(0, 0, 1, 1).unwrap().expand(&[rows]).unwrap();
        assert!(is_alloc_failure(loss(&wide, &labels, &none)), "{name}");
    }
    // The gradient of no class is empty.
    let one = 1.0f32;
    let grad = cross_entropy_backward(&x, &ignored, &TensorView::scalar(&one), &opts).unwrap();
    assert_eq!((grad.shape(), grad.len()), (&[n, 0][..], 0));
    let grad = gather_backward(
        &x,
        1,
        &TensorView::<i64>::new(&[], &[0, 0]).unwrap(),
        &[n, 0],
    );
    assert_eq!(grad.unwrap().shape(), &[n, 0]);
}

// ---------------------------------------------------------------------------
// 3. Huge stride-0 views: allocation failures, not aborts
// ---------------------------------------------------------------------------

/// A `[HUGE_ROWS, HUGE_COLS]` view of one value.
fn huge<T>(one: &[T; 1]) -> TensorView<'_, T> {
    TensorView::with_strides(one, &[HUGE_ROWS, HUGE_COLS], &[0, 0], 0).unwrap()
}

#[test]
fn huge_views_fail_to_allocate_in_the_gather_family() {
    let x = [1.5f64];
    let x = huge(&x);
    let zero = [0i64];
    let z = huge(&zero);
    assert!(is_alloc_failure(gather(&x, 1, &z)));
    assert!(is_alloc_failure(reference::gather(&x, 1, &z)));
    assert!(is_alloc_failure(x.try_to_vec()));
    assert!(is_alloc_failure(x.try_to_tensor()));
    assert!(is_alloc_failure(Tensor::full(x.shape(), 0u64)));
    assert!(is_alloc_failure(Tensor::<u64>::zeros(x.shape())));
    let col = TensorView::new(&[1i64], &[1]).unwrap();
    assert!(is_alloc_failure(index_select(&x, 1, &col)));
    let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
    assert!(is_alloc_failure(take_along_axis(&x, &last, 1)));
    // scatter and scatter_add copy their input first.
    let small = TensorView::new(&[0i64], &[1, 1]).unwrap();
    let v = TensorView::new(&[2.0f64], &[1, 1]).unwrap();
    assert!(is_alloc_failure(scatter(&x, 1, &small, &v)));
    assert!(is_alloc_failure(scatter_add(&x, 1, &small, &v)));
    assert!(is_alloc_failure(gather_backward(&v, 1, &small, x.shape())));
}

#[test]
fn huge_views_fail_to_allocate_in_the_losses() {
    let x = [0.25f64];
    let x = huge(&x);
    let label = [3i64];
    let labels = TensorView::with_strides(&label, &[HUGE_ROWS], &[0], 0).unwrap();
    for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        let opts = LossOptions::new().reduction(reduction);
        assert!(is_alloc_failure(cross_entropy_from_probs(
            &x, &labels, &opts
        )));
        assert!(is_alloc_failure(nll_loss(&x, &labels, &opts)));
        assert!(is_alloc_failure(cross_entropy(&x, &labels, &opts)));
        let g = [1.0f64];
        let g = match reduction {
            Reduction::None => TensorView::with_strides(&g, &[HUGE_ROWS], &[0], 0).unwrap(),
            _ => TensorView::scalar(&g[0]),
        };
        assert!(is_alloc_failure(cross_entropy_backward(
            &x, &labels, &g, &opts
        )));
    }
    assert!(is_alloc_failure(log_softmax(&x)));
    // A label out of range is still found first, without a pass over the rows.
    let bad = [HUGE_COLS as i64];
    let bad = TensorView::with_strides(&bad, &[HUGE_ROWS], &[0], 0).unwrap();
    let e = cross_entropy(&x, &bad, &LossOptions::new()).unwrap_err();
    assert_eq!(e, out_of_bounds(HUGE_COLS as i128, &[0], 1, HUGE_COLS));
}

#[cfg(feature = "ndarray")]
#[test]
fn huge_broadcast_arrays_fail_to_allocate() {
    use fastgather::GatherExt;
    let one = ndarray::Array2::<f64>::zeros((1, 1));
    let input = one.broadcast((HUGE_ROWS, HUGE_COLS)).unwrap();
    let idx = ndarray::array![[0i64]];
    let v = ndarray::array![[1.0f64]];
    assert!(is_alloc_failure(input.scatter(1, &idx, &v)));
    assert!(is_alloc_failure(input.scatter_add(1, &idx, &v)));
}

// ---------------------------------------------------------------------------
// 4. Element counts fit in isize
// ---------------------------------------------------------------------------

#[test]
fn element_counts_past_isize_are_refused() {
    let one = [0u8];
    let overflow = |shape: &[usize]| GatherError::ShapeOverflow {
        shape: shape.to_vec(),
    };
    // A quarter of the address range (`2^62` on 64-bit targets, `2^30` on
    // 32-bit ones): twice it is past `isize::MAX`, though not past `usize`.
    let quarter = 1usize << (usize::BITS - 2);
    let e = TensorView::with_strides(&one, &[quarter, 2], &[0, 0], 0).unwrap_err();
    assert_eq!(e, overflow(&[quarter, 2]));
    assert!(e.to_string().contains("isize"), "{e}");
    // The largest count that fits is fine.
    let max = isize::MAX as usize;
    TensorView::with_strides(&one, &[max], &[0], 0).unwrap();
    TensorView::with_strides(&one, &[quarter, 1], &[0, 0], 0).unwrap();
    let base = TensorView::new(&one, &[1, 1]).unwrap();
    assert_eq!(
        base.expand(&[quarter, 2]).unwrap_err(),
        overflow(&[quarter, 2])
    );
    // `2^(BITS/2) * 2^(BITS/2 - 1)`: exactly `isize::MAX + 1`.
    let (a, b) = (1usize << (usize::BITS / 2), 1usize << (usize::BITS / 2 - 1));
    assert_eq!(base.expand(&[a, b]).unwrap_err(), overflow(&[a, b]));
    assert_eq!(
        TensorView::with_strides(&one, &[max + 1], &[0], 0).unwrap_err(),
        overflow(&[max + 1])
    );
    // Zero-sized elements take no memory, so only the count can refuse them.
    assert_eq!(
        Tensor::<()>::zeros(&[quarter, 2]).unwrap_err(),
        overflow(&[quarter, 2])
    );
    assert_eq!(
        Tensor::full(&[quarter, 2], ()).unwrap_err(),
        overflow(&[quarter, 2])
    );
}

// ---------------------------------------------------------------------------
// 5. Empty operands, by torch's rules
// ---------------------------------------------------------------------------

#[test]
fn index_select_checks_values_even_for_an_empty_result() {
    let src = TensorView::<f32>::new(&[], &[0, 3]).unwrap();
    let seven = TensorView::new(&[7i64], &[1]).unwrap();
    // torch: torch.empty(0, 3).index_select(0 or 1, torch.tensor([7])) raises.
    assert_eq!(
        index_select(&src, 0, &seven).unwrap_err(),
        out_of_bounds(7, &[0], 0, 0)
    );
    assert_eq!(
        index_select(&src, 1, &seven).unwrap_err(),
        out_of_bounds(7, &[0], 1, 3)
    );
    assert_eq!(
        index_select(&src, -1, &TensorView::scalar(&-1i64)).unwrap_err(),
        out_of_bounds(-1, &[], 1, 3)
    );
    let ok = TensorView::new(&[2i64, 0, 2, 9], &[4]).unwrap();
    assert_eq!(
        index_select(&src, 1, &ok).unwrap_err(),
        out_of_bounds(9, &[3], 1, 3)
    );
    let ok = ok.slice(0, 0, 3, 1).unwrap();
    assert_eq!(index_select(&src, 1, &ok).unwrap().shape(), &[0, 3]);
    // An empty index is never checked.
    let none = TensorView::<i64>::new(&[], &[0]).unwrap();
    assert_eq!(index_select(&src, 0, &none).unwrap().shape(), &[0, 3]);
    assert_eq!(index_select(&src, 1, &none).unwrap().shape(), &[0, 0]);
}

#[test]
fn take_along_axis_checks_values_even_for_an_empty_result() {
    let arr = TensorView::<i32>::new(&[], &[2, 0]).unwrap();
    let at = |v: i64| take_along_axis(&arr, &TensorView::new(&[v], &[1, 1]).unwrap(), 0);
    assert_eq!(at(1).unwrap().shape(), &[1, 0]);
    assert_eq!(at(-2).unwrap().shape(), &[1, 0]);
    assert_eq!(at(2).unwrap_err(), out_of_wrapped_bounds(2, &[0, 0], 0, 2));
    assert_eq!(
        at(-3).unwrap_err(),
        out_of_wrapped_bounds(-3, &[0, 0], 0, 2)
    );
    // Along a size-0 axis, no value is valid.
    let arr = TensorView::<i32>::new(&[], &[0, 3]).unwrap();
    let zero = TensorView::new(&[0i64], &[1, 1]).unwrap();
    assert_eq!(
        take_along_axis(&arr, &zero, 0).unwrap_err(),
        out_of_wrapped_bounds(0, &[0, 0], 0, 0)
    );
    let none = TensorView::<i64>::new(&[], &[0, 1]).unwrap();
    assert_eq!(take_along_axis(&arr, &none, 0).unwrap().shape(), &[0, 3]);
}

#[test]
fn empty_operands_follow_torch() {
    let empty = TensorView::<f32>::new(&[], &[0, 3]).unwrap();
    let one = TensorView::new(&[0i64], &[1, 1]).unwrap();
    let none = TensorView::<i64>::new(&[], &[0, 1]).unwrap();
    // gather: an empty index is never checked; a value into a size-0 dim is bad.
    assert_eq!(gather(&empty, 0, &none).unwrap().shape(), &[0, 1]);
    let far = TensorView::<i64>::new(&[], &[5, 0, 7]).unwrap();
    assert_eq!(gather(&empty, 1, &far).unwrap().shape(), &[5, 0, 7]);
    assert_eq!(
        gather(&empty, 0, &one).unwrap_err(),
        out_of_bounds(0, &[0, 0], 0, 0)
    );
    assert!(matches!(
        gather(&empty, 1, &one),
        Err(GatherError::SizeMismatch { axis: 0, .. })
    ));
    let mut buf = [0f32; 0];
    let mut out = TensorViewMut::new(&mut buf, &[0, 1]).unwrap();
    gather_into(&empty, 0, &none, &mut out).unwrap();
    // scatter: an empty index is a no-op whatever the shapes; a value into a
    // size-0 dim of the destination is bad.
    let mut dest_buf: [f32; 0] = [];
    let mut dest = TensorViewMut::new(&mut dest_buf, &[0, 3]).unwrap();
    let vals = TensorView::new(&[1.0f32; 3], &[1, 3]).unwrap();
    let big_none = TensorView::<i64>::new(&[], &[0, 9]).unwrap();
    scatter_into(&mut dest, 0, &big_none, &vals).unwrap();
    scatter_add_into(&mut dest, 0, &big_none, &vals).unwrap();
    let row = TensorView::new(&[0i64; 3], &[1, 3]).unwrap();
    assert_eq!(
        scatter_into(&mut dest, 0, &row, &vals).unwrap_err(),
        out_of_bounds(0, &[0, 0], 0, 0)
    );
    assert_eq!(
        scatter_add_into(&mut dest, 0, &row, &vals).unwrap_err(),
        out_of_bounds(0, &[0, 0], 0, 0)
    );
    assert_eq!(
        scatter(&empty, 1, &big_none, &vals).unwrap().shape(),
        &[0, 3]
    );
    // Losses of no rows.
    let labels = TensorView::<i64>::new(&[], &[0]).unwrap();
    let opts = LossOptions::new().reduction(Reduction::None);
    assert_eq!(cross_entropy(&empty, &labels, &opts).unwrap().shape(), &[0]);
    let mean = cross_entropy(&empty, &labels, &LossOptions::new()).unwrap();
    assert!(mean.as_slice()[0].is_nan());
}

// ---------------------------------------------------------------------------
// 6. Empty views are valid whatever their offset
// ---------------------------------------------------------------------------

/// Offsets far past a 4-element buffer, up to the largest.
const WILD: [usize; 4] = [5, FAR, isize::MAX as usize, usize::MAX];

#[test]
fn empty_views_take_any_offset() {
    let data = [1u16, 2, 3, 4];
    for offset in WILD {
        for (shape, strides) in [
            (&[0usize][..], &[1isize][..]),
            (&[0, 4], &[4, 1]),
            (&[3, 0, 2], &[isize::MAX, isize::MIN, -7]),
        ] {
            let v = TensorView::with_strides(&data, shape, strides, offset).unwrap();
            assert_eq!((v.offset(), v.len()), (offset, 0));
            assert!(v.to_vec().is_empty() && v.try_to_vec().unwrap().is_empty());
            assert_eq!(v.to_tensor().shape(), shape);
            assert!(v.get(&vec![0; shape.len()]).is_none());
            // Views derived from it stay valid and empty.
            assert!(v.flip(0).unwrap().is_empty());
            assert!(v.unsqueeze(0).unwrap().is_empty());
            assert!(v.slice(0, 0, shape[0], 1).unwrap().is_empty());
            let mut buf = [0u16; 4];
            let mut m = TensorViewMut::with_strides(&mut buf, shape, strides, offset).unwrap();
            assert_eq!(m.offset(), offset);
            assert!(m.get_mut(&vec![0; shape.len()]).is_none());
        }
    }
}

#[test]
fn operations_on_empty_views_with_wild_offsets() {
    let data = [1i32, 2, 3, 4];
    let idx_data = [0i64, 1, 1, 0];
    for offset in WILD {
        // An empty source with a non-empty index: every value is out of range,
        // on every path, or the fill value in fill mode.
        let src = TensorView::with_strides(&data, &[2, 0], &[1 << 20, -3], offset).unwrap();
        let idx = TensorView::new(&idx_data, &[2, 2]).unwrap();
        let bad = out_of_bounds(0, &[0, 0], 1, 0);
        assert_eq!(gather(&src, 1, &idx).unwrap_err(), bad);
        assert_eq!(reference::gather(&src, 1, &idx).unwrap_err(), bad);
        assert!(explain(&src, 1, &idx, &GatherOptions::new()).is_ok());
        for isa in Isa::available() {
            let opts = GatherOptions::new().isa(isa);
            assert_eq!(gather_with(&src, 1, &idx, &opts).unwrap_err(), bad);
            let filled = gather_with(&src, 1, &idx, &opts.clone().fill(-9)).unwrap();
            assert_eq!(filled.as_slice(), &[-9; 4], "{isa:?}");
            let clamp = opts.mode(IndexMode::Clamp);
            assert_eq!(gather_with(&src, 1, &idx, &clamp).unwrap_err(), bad);
        }
        let mut out = [0i32; 4];
        let mut out = TensorViewMut::new(&mut out, &[2, 2]).unwrap();
        assert_eq!(gather_into(&src, 1, &idx, &mut out).unwrap_err(), bad);
        // An empty index, output, or values with a wild offset: nothing runs.
        let none = TensorView::with_strides(&idx_data, &[2, 0], &[7, 7], offset).unwrap();
        let full = TensorView::new(&data, &[2, 2]).unwrap();
        assert_eq!(gather(&full, 1, &none).unwrap().shape(), &[2, 0]);
        assert_eq!(reference::gather(&full, 1, &none).unwrap().shape(), &[2, 0]);
        let mut obuf = [0i32; 4];
        let mut empty_out =
            TensorViewMut::with_strides(&mut obuf, &[2, 0], &[1, 1], offset).unwrap();
        gather_into(&full, 1, &none, &mut empty_out).unwrap();
        assert_eq!(obuf, [0; 4]);
        let no_vals = TensorView::with_strides(&data, &[2, 0], &[3, 3], offset).unwrap();
        let mut dbuf = [0i32; 4];
        let mut dest = TensorViewMut::new(&mut dbuf, &[2, 2]).unwrap();
        scatter_into(&mut dest, 1, &none, &no_vals).unwrap();
        scatter_add_into(&mut dest, 1, &none, &no_vals).unwrap();
        assert_eq!(dbuf, [0; 4]);
        assert_eq!(scatter(&src, 1, &none, &no_vals).unwrap().shape(), &[2, 0]);
        // An empty destination with a non-empty index: every value is bad.
        let mut ebuf = [0i32; 4];
        let mut edest = TensorViewMut::with_strides(&mut ebuf, &[2, 0], &[5, 1], offset).unwrap();
        let vals = TensorView::new(&data, &[2, 2]).unwrap();
        assert_eq!(scatter_into(&mut edest, 1, &idx, &vals).unwrap_err(), bad);
        assert_eq!(
            scatter_add_into(&mut edest, 1, &idx, &vals).unwrap_err(),
            bad
        );
        assert_eq!(ebuf, [0; 4]);
        // index_select and take_along_axis.
        let empty_1d = TensorView::with_strides(&idx_data, &[0], &[1], offset).unwrap();
        assert_eq!(index_select(&full, 0, &empty_1d).unwrap().shape(), &[0, 2]);
        let one = TensorView::new(&[0i64], &[1]).unwrap();
        assert_eq!(
            index_select(&src, 1, &one).unwrap_err(),
            out_of_bounds(0, &[0], 1, 0)
        );
        assert_eq!(index_select(&src, 0, &one).unwrap().shape(), &[1, 0]);
        assert_eq!(
            take_along_axis(&src, &idx, 1).unwrap_err(),
            out_of_wrapped_bounds(0, &[0, 0], 1, 0)
        );
        assert_eq!(take_along_axis(&full, &none, 1).unwrap().shape(), &[2, 0]);
        // Losses.
        let fdata = [0.5f32; 4];
        let x = TensorView::with_strides(&fdata, &[3, 0], &[9, 9], offset).unwrap();
        assert_eq!(log_softmax(&x).unwrap().shape(), &[3, 0]);
        let x = TensorView::with_strides(&fdata, &[0, 3], &[9, 9], offset).unwrap();
        assert_eq!(log_softmax(&x).unwrap().shape(), &[0, 3]);
        let labels = TensorView::with_strides(&idx_data, &[0], &[1], offset).unwrap();
        let sum = LossOptions::new().reduction(Reduction::Sum);
        assert_eq!(nll_loss(&x, &labels, &sum).unwrap().as_slice(), &[0.0]);
        assert_eq!(
            cross_entropy_from_probs(&x, &labels, &sum)
                .unwrap()
                .as_slice(),
            &[0.0]
        );
        let mut gbuf = [7.0f32; 4];
        let mut grad = TensorViewMut::with_strides(&mut gbuf, &[0, 3], &[1, 1], offset).unwrap();
        let g = 1.0f32;
        cross_entropy_backward_into(
            &x,
            &labels,
            &TensorView::scalar(&g),
            &LossOptions::new(),
            &mut grad,
        )
        .unwrap();
        assert_eq!(gbuf, [7.0; 4]);
    }
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_empty_views_convert() {
    let a = ndarray::Array2::<f32>::zeros((0, 3));
    let v = fastgather::nd::view(&a).unwrap();
    assert_eq!(v.shape(), &[0, 3]);
}
