//! fastgather's public API, used from outside the crate. Each test names the
//! items it touches, with the signatures a user relies on spelled out where a
//! change would be a break.

use fastgather::loss::{
    cross_entropy_from_probs, cross_entropy, cross_entropy_backward, gather_backward,
    log_softmax, nll_loss, LossFloat, LossOptions, Reduction,
};
use fastgather::{
    explain, gather, gather_into, gather_into_with, gather_with, index_select, reference, scatter,
    scatter_add, scatter_add_into, scatter_add_into_with, scatter_into, scatter_into_with,
    take_along_axis, Accumulate, Element, GatherError, GatherOptions, IndexElem, IndexMode, Isa,
    KernelChoice, LayoutClass, Tensor, TensorView, TensorViewMut,
};
use fastgather_downstream::{describe, pick_rows};

#[test]
fn views_and_tensors() {
    let data: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let x: TensorView<'_, f32> = TensorView::new(&data, &[3, 4]).unwrap();
    assert_eq!(
        (x.shape(), x.strides(), x.offset()),
        (&[3, 4][..], &[4, 1][..], 0)
    );
    assert_eq!(
        (x.rank(), x.len(), x.is_empty(), x.is_contiguous()),
        (2, 12, false, true)
    );
    assert_eq!(x.get(&[2, 3]), Some(&11.0));
    let y = x
        .transpose(0, 1)
        .and_then(|t| t.permute(&[1, 0]))
        .and_then(|t| t.slice(1, 0, 4, 2))
        .and_then(|t| t.flip(0))
        .and_then(|t| t.unsqueeze(0))
        .and_then(|t| t.expand(&[2, 3, 2]))
        .unwrap();
    assert_eq!(y.to_vec()[..6], [8.0, 10.0, 4.0, 6.0, 0.0, 2.0]);
    let s = TensorView::with_strides(&data, &[2, 2], &[-4, 1], 4).unwrap();
    assert_eq!(s.to_tensor().as_slice(), &[4.0, 5.0, 0.0, 1.0]);
    assert_eq!(x.reshape(&[12]).unwrap().data().len(), 12);
    let one = 1.0f32;
    assert_eq!(TensorView::scalar(&one).rank(), 0);

    let mut t: Tensor<f32> = Tensor::from_vec(data.clone(), &[3, 4]).unwrap();
    t.as_mut_slice()[0] = -1.0;
    assert_eq!(
        (t.shape(), t.rank(), t.len(), t.is_empty()),
        (&[3, 4][..], 2, 12, false)
    );
    {
        let mut m: TensorViewMut<'_, f32> = t.view_mut();
        *m.get_mut(&[0, 1]).unwrap() = -2.0;
        let m = m.transpose(0, 1).unwrap();
        assert_eq!(m.as_view().get(&[1, 0]), Some(&-2.0));
    }
    assert_eq!(t.view().to_vec()[..2], [-1.0, -2.0]);
    assert_eq!(Tensor::scalar(3u8).into_vec(), vec![3]);
    assert_eq!(Tensor::full(&[2], 0i64).unwrap().as_slice(), &[0, 0]);

    let mut buf = [0u8; 6];
    let mut v = TensorViewMut::new(&mut buf, &[2, 3]).unwrap();
    *v.reborrow().get_mut(&[1, 2]).unwrap() = 1;
    let v = TensorViewMut::with_strides(&mut buf, &[3], &[2], 0).unwrap();
    let _ = v
        .flip(0)
        .and_then(|v| v.unsqueeze(1))
        .and_then(|v| v.slice(0, 0, 2, 1));
}

#[test]
fn gather_family() {
    let src = TensorView::new(&[1, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let idx = TensorView::new(&[2i64, 0, 1, 1], &[2, 2]).unwrap();
    let want = [3, 1, 5, 5];
    assert_eq!(gather(&src, 1, &idx).unwrap().as_slice(), &want);
    assert_eq!(gather(&src, -1, &idx).unwrap().as_slice(), &want);
    let opts = GatherOptions::new()
        .sequential()
        .isa(Isa::best())
        .mode(IndexMode::Error);
    assert_eq!(gather_with(&src, 1, &idx, &opts).unwrap().as_slice(), &want);
    assert_eq!(reference::gather(&src, 1, &idx).unwrap().as_slice(), &want);

    let mut out = Tensor::full(&[2, 2], 0).unwrap();
    gather_into(&src, 1, &idx, &mut out.view_mut()).unwrap();
    assert_eq!(out.as_slice(), &want);
    gather_into_with(
        &src,
        1,
        &idx,
        &mut out.view_mut(),
        &GatherOptions::default(),
    )
    .unwrap();

    let choice: KernelChoice = explain(&src, 1, &idx, &GatherOptions::new())
        .unwrap()
        .unwrap();
    let _: (&str, Isa) = (choice.kernel, choice.isa);
    match choice.class {
        LayoutClass::LastDim => {}
        other => panic!("{other:?}"),
    }
    assert!(Isa::available().iter().all(|i| i.is_available()));

    // Every index type a user may hold.
    assert_eq!(
        pick_rows(&[1.0f64, 2.0, 3.0, 4.0], 2, &[1i32, 0])
            .unwrap()
            .as_slice(),
        &[2.0, 3.0]
    );
    assert_eq!(
        pick_rows(&[1u8, 2, 3, 4], 2, &[1u32, 0])
            .unwrap()
            .as_slice(),
        &[2, 3]
    );
    assert_eq!(
        pick_rows(&[1u8, 2, 3, 4], 2, &[1u64, 0])
            .unwrap()
            .as_slice(),
        &[2, 3]
    );
    assert_eq!(
        pick_rows(&[1u8, 2, 3, 4], 2, &[1usize, 0])
            .unwrap()
            .as_slice(),
        &[2, 3]
    );

    // Index modes.
    let wild = TensorView::new(&[-1i64, 7], &[2]).unwrap();
    let flat = TensorView::new(&[10, 20, 30], &[3]).unwrap();
    let clamp = GatherOptions::new().mode(IndexMode::Clamp);
    assert_eq!(
        gather_with(&flat, 0, &wild, &clamp).unwrap().as_slice(),
        &[10, 30]
    );
    let fill = GatherOptions::new().fill(0);
    assert_eq!(
        gather_with(&flat, 0, &wild, &fill).unwrap().as_slice(),
        &[0, 0]
    );
}

#[test]
fn errors_are_matched_with_a_wildcard() {
    let src = TensorView::new(&[1, 2, 3], &[3]).unwrap();
    let bad = TensorView::new(&[3i64], &[1]).unwrap();
    let e = gather(&src, 0, &bad).unwrap_err();
    assert_eq!(describe(&e), "bad index");
    assert_eq!(describe(&gather(&src, 1, &bad).unwrap_err()), "bad dim");
    assert_eq!(describe(&TensorView::new(&[1], &[2]).unwrap_err()), "other");
    // Display and std::error::Error.
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e.clone());
    assert!(boxed.to_string().contains("out of bounds"));
    if let GatherError::IndexOutOfBounds {
        value,
        position,
        dim,
        size,
        wraps: false
    } = e
    {
        assert_eq!((value, position, dim, size), (3, vec![0], 0, 3));
    }
}

#[test]
fn scatter_family_and_selects() {
    let mut dest = Tensor::full(&[3], 0.0f32).unwrap();
    let idx = TensorView::new(&[0i64, 2, 0], &[3]).unwrap();
    let vals = TensorView::new(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    scatter_add_into(&mut dest.view_mut(), 0, &idx, &vals).unwrap();
    assert_eq!(dest.as_slice(), &[4.0, 0.0, 2.0]);
    let opts = GatherOptions::new().sequential();
    scatter_add_into_with(&mut dest.view_mut(), 0, &idx, &vals, &opts).unwrap();
    assert_eq!(dest.as_slice(), &[8.0, 0.0, 4.0]);
    assert_eq!(
        scatter_add(&dest.view(), 0, &idx, &vals)
            .unwrap()
            .as_slice(),
        &[12.0, 0.0, 6.0]
    );
    let once = TensorView::new(&[1i64], &[1]).unwrap();
    scatter_into(&mut dest.view_mut(), 0, &once, &vals).unwrap();
    scatter_into_with(&mut dest.view_mut(), 0, &once, &vals, &opts).unwrap();
    assert_eq!(
        scatter(&dest.view(), 0, &once, &vals).unwrap().as_slice(),
        &[8.0, 1.0, 4.0]
    );

    fn total<T: Accumulate + Default>(v: &[T]) -> T {
        v.iter().fold(T::default(), |a, &b| a.accumulate(b))
    }
    assert_eq!(total(&[1u8, 2, 3]), 6);

    let x = TensorView::new(&[1, 2, 3, 4, 5, 6], &[3, 2]).unwrap();
    let rows = TensorView::new(&[2i64, 0], &[2]).unwrap();
    assert_eq!(
        index_select(&x, 0, &rows).unwrap().as_slice(),
        &[5, 6, 1, 2]
    );
    let last = TensorView::new(&[-1i64], &[1, 1]).unwrap();
    assert_eq!(
        take_along_axis(&x, &last, 1).unwrap().as_slice(),
        &[2, 4, 6]
    );
}

#[test]
fn losses() {
    let logits = TensorView::new(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]).unwrap();
    let labels = TensorView::new(&[0i64, 2], &[2]).unwrap();
    let opts = LossOptions::new()
        .reduction(Reduction::Mean)
        .ignore_index(-100)
        .label_smoothing(0.0);
    let fused = cross_entropy(&logits, &labels, &opts).unwrap();
    let probs: Vec<f32> = log_softmax(&logits)
        .unwrap()
        .as_slice()
        .iter()
        .map(|v| v.exp())
        .collect();
    let probs = TensorView::new(&probs, &[2, 3]).unwrap();
    let plain = cross_entropy_from_probs(&probs, &labels, &opts).unwrap();
    assert!((fused.as_slice()[0] - plain.as_slice()[0]).abs() < 1e-5);
    let log_probs = log_softmax(&logits).unwrap();
    let nll = nll_loss(
        &log_probs.view(),
        &labels,
        &LossOptions::new().no_ignore_index(),
    )
    .unwrap();
    assert!((nll.as_slice()[0] - fused.as_slice()[0]).abs() < 1e-5);
    let one = 1.0f32;
    let g = cross_entropy_backward(&logits, &labels, &TensorView::scalar(&one), &opts)
        .unwrap();
    assert_eq!(g.shape(), &[2, 3]);
    let gb = gather_backward(
        &TensorView::new(&[1.0f32], &[1]).unwrap(),
        0,
        &TensorView::new(&[1i64], &[1]).unwrap(),
        &[2],
    )
    .unwrap();
    assert_eq!(gb.as_slice(), &[0.0, 1.0]);

    fn generic<F: LossFloat>(x: &TensorView<'_, F>) -> usize {
        log_softmax(x).unwrap().len()
    }
    assert_eq!(generic(&logits), 6);
    let _ = Reduction::default();
}

#[test]
fn user_element_types() {
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    struct Rgb {
        r: u8,
        g: u8,
        b: u8,
    }
    // SAFETY: three u8 fields, repr(C): no padding, every byte initialized.
    unsafe impl bytemuck::NoUninit for Rgb {}
    fn is_element<T: Element>() {}
    is_element::<Rgb>();
    let px = [Rgb { r: 1, g: 2, b: 3 }, Rgb { r: 4, g: 5, b: 6 }];
    let src = TensorView::new(&px, &[2]).unwrap();
    let idx = TensorView::new(&[1i64, 1, 0], &[3]).unwrap();
    assert_eq!(
        gather(&src, 0, &idx).unwrap().as_slice(),
        &[px[1], px[1], px[0]]
    );

    fn widen<I: IndexElem>(i: I) -> i64 {
        i.to_i64()
    }
    assert_eq!(widen(5u32), 5);
}

#[test]
fn half_feature() {
    use fastgather::half::{bf16, f16};
    let v = [f16::from_f32(1.5), f16::from_f32(-2.0)];
    let src = TensorView::new(&v, &[2]).unwrap();
    let idx = TensorView::new(&[1i64, 0], &[2]).unwrap();
    assert_eq!(gather(&src, 0, &idx).unwrap().as_slice(), &[v[1], v[0]]);
    let z = Tensor::full(&[1], bf16::ZERO).unwrap();
    let ones = TensorView::new(&[bf16::ONE; 2], &[2]).unwrap();
    let zi = TensorView::new(&[0i64, 0], &[2]).unwrap();
    assert_eq!(
        scatter_add(&z.view(), 0, &zi, &ones).unwrap().as_slice(),
        &[bf16::from_f32(2.0)]
    );
}

#[test]
fn ndarray_feature() {
    // A glob import of fastgather must leave `ndarray::..` paths unambiguous.
    use fastgather::nd::{copy_if_gapped, into_array, view, view_mut};
    use fastgather::*;
    use ndarray::{array, s, Array2, ArrayD, Axis};

    let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let idx = array![[2i64], [0]];
    let picked: Array2<f32> = a.gather(1, &idx).unwrap();
    assert_eq!(picked, array![[3.0], [4.0]]);
    assert_eq!(a.gather(Axis(1), &idx).unwrap(), picked);
    let mut out = Array2::<f32>::zeros((2, 1));
    a.view().gather_into(-1, &idx, &mut out).unwrap();
    assert_eq!(out, picked);
    let opts = GatherOptions::new().sequential();
    assert_eq!(a.gather_with(1, &idx, &opts).unwrap(), picked);
    let t = view(a.slice(s![.., ..;-1])).unwrap();
    assert_eq!(t.strides(), &[3, -1]);
    let mut b = Array2::<f32>::zeros((2, 3));
    let mut tv = view_mut(&mut b).unwrap();
    *tv.get_mut(&[1, 1]).unwrap() = 9.0;
    assert_eq!(b[[1, 1]], 9.0);
    let zeros = Array2::<f32>::zeros((2, 3));
    assert_eq!(zeros.scatter(1, &idx, &picked).unwrap()[[0, 2]], 3.0);
    assert_eq!(zeros.scatter_add(1, &idx, &picked).unwrap()[[1, 0]], 4.0);
    b.scatter_add_into(1, &idx, &picked).unwrap();
    assert_eq!(b[[0, 2]], 3.0);
    assert_eq!(
        a.index_select(0, &array![1i64]).unwrap(),
        array![[4.0, 5.0, 6.0]]
    );
    assert_eq!(a.take_along_axis(&idx, 1).unwrap(), picked);
    // Gapped arrays: an error, or an explicit copy.
    assert!(a.slice(s![.., ..;2]).gather(1, &idx).is_err());
    let dense = copy_if_gapped(a.slice(s![.., ..;2])).unwrap();
    assert_eq!(
        dense.gather(1, &array![[1i64], [0]]).unwrap(),
        array![[3.0], [4.0]]
    );
    let d: ArrayD<f32> = into_array(gather(&view(&a).unwrap(), 1, &view(&idx).unwrap()).unwrap());
    assert_eq!(d.shape(), &[2, 1]);
}

#[test]
fn custom_rayon_pool() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let data: Vec<u32> = (0..1 << 18).collect();
    let src = TensorView::new(&data, &[512, 512]).unwrap();
    let idx: Vec<i64> = (0..1 << 18).map(|i| (i * 31 % 512) as i64).collect();
    let idx = TensorView::new(&idx, &[512, 512]).unwrap();
    let pooled = pool.install(|| gather(&src, 1, &idx)).unwrap();
    assert_eq!(
        pooled,
        gather_with(&src, 1, &idx, &GatherOptions::new().sequential()).unwrap()
    );
}
