//! Every driver of the dispatch table, forced on every path this CPU has and
//! every byte width, against the reference; and the table's own choices,
//! observed through `explain`.

use fastgather::{
    Driver, GatherError, GatherOptions, Isa, LayoutClass, Tensor, TensorView, explain,
    explain_into, gather_into_with, gather_with, reference,
};
use proptest::prelude::*;

/// A value of each width the kernels re-type to, made from a seed.
trait Make: fastgather::Element + PartialEq + std::fmt::Debug + Default {
    fn make(seed: u64) -> Self;
}

macro_rules! make {
    ($($t:ty),*) => {$(
        impl Make for $t {
            fn make(seed: u64) -> Self {
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) as $t
            }
        }
    )*};
}
make!(u8, u16, u32, u64, u128);

/// A gather problem: source shape, dim, index shape, and how the index and
/// output are laid out.
#[derive(Clone, Debug)]
struct Case {
    src: Vec<usize>,
    dim: usize,
    idx: Vec<usize>,
    /// Transpose the index's last two dims (a strided index).
    idx_t: bool,
    /// Write through a transposed output view (a strided output).
    out_t: bool,
    /// Transpose the source's last two dims.
    src_t: bool,
}

fn cases() -> impl Strategy<Value = (Case, u64)> {
    let inner_run = (1usize..4, 2usize..40, 1usize..40, 1usize..70).prop_map(|(b, s, k, c)| Case {
        src: vec![b, s, c],
        dim: 1,
        idx: vec![b, k, c],
        idx_t: false,
        out_t: false,
        src_t: false,
    });
    let last_dim =
        (1usize..70, 1usize..40, 1usize..70, any::<bool>()).prop_map(|(r, s, k, src_t)| Case {
            src: vec![r, s],
            dim: 1,
            idx: vec![r, k],
            idx_t: false,
            out_t: false,
            src_t,
        });
    let strided =
        (2usize..40, 2usize..40, 1usize..40, any::<bool>()).prop_map(|(r, s, k, out_t)| Case {
            src: vec![r, s],
            dim: 1,
            idx: vec![r, k],
            idx_t: !out_t,
            out_t,
            src_t: false,
        });
    (prop_oneof![inner_run, last_dim, strided], any::<u64>())
}

/// Runs `case` with elements `T` under `opts` and checks the output against
/// the reference. Returns the driver `explain` named, or the error.
fn check<T: Make>(case: &Case, seed: u64, opts: &GatherOptions) -> Result<Driver, GatherError> {
    let src_shape = if case.src_t {
        let mut s = case.src.clone();
        let r = s.len();
        s.swap(r - 1, r - 2);
        s
    } else {
        case.src.clone()
    };
    let n_src: usize = src_shape.iter().product();
    let data: Vec<T> = (0..n_src as u64).map(|i| T::make(i ^ seed)).collect();
    let base = TensorView::new(&data, &src_shape).unwrap();
    let src = if case.src_t {
        base.transpose(src_shape.len() - 1, src_shape.len() - 2)
            .unwrap()
    } else {
        base
    };
    assert_eq!(src.shape(), &case.src[..]);
    let bound = case.src[case.dim] as u64;
    let idx_shape = if case.idx_t {
        let mut s = case.idx.clone();
        let r = s.len();
        s.swap(r - 1, r - 2);
        s
    } else {
        case.idx.clone()
    };
    let n: usize = idx_shape.iter().product();
    let values: Vec<i64> = (0..n as u64)
        .map(|i| ((i.wrapping_mul(seed | 1) >> 7) % bound) as i64)
        .collect();
    let idx_base = TensorView::new(&values, &idx_shape).unwrap();
    let idx = if case.idx_t {
        idx_base.transpose(0, 1).unwrap()
    } else {
        idx_base
    };
    let want = reference::gather(&src, case.dim as isize, &idx).unwrap();
    let dim = case.dim as isize;
    if case.out_t {
        let mut t_shape = case.idx.clone();
        t_shape.swap(0, 1);
        let mut buf = Tensor::full(&t_shape, T::default()).unwrap();
        let mut view = buf.view_mut().transpose(0, 1).unwrap();
        let choice = explain_into(&src, dim, &idx, &view, opts)?.unwrap();
        gather_into_with(&src, dim, &idx, &mut view, opts)?;
        let got = buf.view().transpose(0, 1).unwrap().to_tensor();
        assert_eq!(got, want, "{case:?} {choice:?}");
        Ok(choice.driver)
    } else {
        let choice = explain(&src, dim, &idx, opts)?.unwrap();
        let got = gather_with(&src, dim, &idx, opts)?;
        assert_eq!(got, want, "{case:?} {choice:?}");
        Ok(choice.driver)
    }
}

const DRIVERS: [Driver; 5] = [
    Driver::Plain,
    Driver::ColumnTiles,
    Driver::Tiles,
    Driver::PackedRows,
    Driver::PackedColumns,
];

fn every_driver<T: Make>(case: &Case, seed: u64) {
    for isa in Isa::available() {
        let auto = check::<T>(case, seed, &GatherOptions::new().isa(isa).sequential())
            .unwrap_or_else(|e| panic!("{case:?} on {isa:?}: {e}"));
        let mut ran = 0;
        for driver in DRIVERS {
            let opts = GatherOptions::new().isa(isa).driver(driver).sequential();
            match check::<T>(case, seed, &opts) {
                Ok(d) => {
                    assert_eq!(d, driver, "explain names the forced driver");
                    ran += 1;
                }
                Err(GatherError::InvalidOption { .. }) => assert_ne!(driver, auto),
                Err(e) => panic!("{case:?} {driver:?} on {isa:?}: {e}"),
            }
        }
        assert!(ran >= 1, "no driver ran {case:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn forced_drivers_match_the_reference((case, seed) in cases()) {
        every_driver::<u8>(&case, seed);
        every_driver::<u16>(&case, seed);
        every_driver::<u32>(&case, seed);
        every_driver::<u64>(&case, seed);
        every_driver::<u128>(&case, seed);
    }
}

/// The table picks each driver where it should, and every driver has a case.
#[test]
fn the_table_picks_each_driver() {
    let opts = GatherOptions::new();
    let data: Vec<u32> = (0..2048 * 300).collect();
    let inner_run = |src: &TensorView<'_, u32>, dim: usize, idx: &TensorView<'_, i64>| {
        let choice = explain(src, dim, idx, &opts).unwrap().unwrap();
        assert_eq!(choice.class, LayoutClass::InnerRun);
        choice.driver
    };
    // Along dim 0 of a column slice, dense picks: every row picks from one
    // block of columns whose rows are 2400 bytes apart, packed first.
    let wide = TensorView::new(&data[..256 * 600], &[256, 600]).unwrap();
    let src = wide.slice(1, 0, 300, 1).unwrap();
    let picks: Vec<i64> = (0..256 * 300).map(|i| (i * 7 % 256) as i64).collect();
    let idx = TensorView::new(&picks, &[256, 300]).unwrap();
    assert_eq!(inner_run(&src, 0, &idx), Driver::PackedColumns);
    // The same picks from a whole, small source: the block is one contiguous
    // run that stays cached, picked in place by column tiles (1200-byte rows
    // wider than one tile).
    let src = TensorView::new(&data[..256 * 300], &[256, 300]).unwrap();
    assert_eq!(inner_run(&src, 0, &idx), Driver::ColumnTiles);
    // Sparse picks (256 rows of picks from 4096 source rows) are never
    // packed, and tiles of 16 columns would be too narrow: rows in order.
    let wide = TensorView::new(&data[..4096 * 150], &[4096, 150]).unwrap();
    let few: Vec<i64> = (0..256 * 150).map(|i| (i * 11 % 4096) as i64).collect();
    let idx = TensorView::new(&few, &[256, 150]).unwrap();
    assert_eq!(inner_run(&wide, 0, &idx), Driver::Plain);
    // Along a middle dim with short rows: one tile would hold every column,
    // so rows go in order.
    let src = TensorView::new(&data[..4 * 8 * 64], &[4, 8, 64]).unwrap();
    let vals: Vec<i64> = (0..4 * 8 * 64).map(|i| (i * 5 % 8) as i64).collect();
    let idx = TensorView::new(&vals, &[4, 8, 64]).unwrap();
    assert_eq!(inner_run(&src, 1, &idx), Driver::Plain);
    // Along the last dim of a transposed source: packed rows.
    let t = TensorView::new(&data[..512 * 512], &[512, 512])
        .unwrap()
        .transpose(0, 1)
        .unwrap();
    let vals: Vec<i64> = (0..512 * 64).map(|i| (i * 13 % 512) as i64).collect();
    let idx = TensorView::new(&vals, &[512, 64]).unwrap();
    let choice = explain(&t, 1, &idx, &opts).unwrap().unwrap();
    assert_eq!(
        (choice.class, choice.driver),
        (LayoutClass::LastDim, Driver::PackedRows)
    );
    // A transposed index: tiles; a contiguous one: plain rows.
    let src = TensorView::new(&data[..64 * 64], &[64, 64]).unwrap();
    let vals: Vec<i64> = (0..64 * 64).map(|i| (i * 13 % 64) as i64).collect();
    let idx = TensorView::new(&vals, &[64, 64]).unwrap();
    let plain = explain(&src, 1, &idx, &opts).unwrap().unwrap();
    assert_eq!(
        (plain.class, plain.driver),
        (LayoutClass::LastDim, Driver::Plain)
    );
    let tiled = explain(&src, 1, &idx.transpose(0, 1).unwrap(), &opts)
        .unwrap()
        .unwrap();
    assert_eq!(
        (tiled.class, tiled.driver),
        (LayoutClass::StridedIndex, Driver::Tiles)
    );
}

/// Kernels without drivers (here: a 3-byte element, which runs the scalar
/// strided kernel) walk rows in order, and refuse any other forced driver
/// instead of ignoring it.
#[test]
fn a_driver_forced_where_none_applies_is_an_error() {
    let data = [[1u8; 3]; 12];
    let src = TensorView::new(&data, &[3, 4]).unwrap();
    let idx = TensorView::new(&[0i64; 12], &[3, 4]).unwrap();
    for driver in DRIVERS {
        let opts = GatherOptions::new().driver(driver);
        let got = gather_with(&src, 1, &idx, &opts);
        if driver == Driver::Plain {
            assert_eq!(got.unwrap().as_slice(), &[[1u8; 3]; 12]);
        } else {
            let err = got.unwrap_err();
            assert!(matches!(err, GatherError::InvalidOption { .. }), "{err:?}");
        }
    }
}
