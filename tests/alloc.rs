//! Large fresh outputs (issue 17): `Tensor::zeros`, `Tensor::full`, and the
//! allocating `gather` and cross-entropy backward, at sizes on both sides of
//! the huge-page advice (2 MiB), are what they should be; and on Linux, where
//! transparent huge pages are on (`always` or `madvise`), a large
//! `Tensor::zeros` is backed by huge pages once written.

mod common;

use common::Rng;
use fastgather::loss::{LossOptions, cross_entropy_backward, cross_entropy_backward_into};
use fastgather::{GatherOptions, Tensor, TensorView, gather_into_with, gather_with};

const MIB: usize = 1 << 20;

/// Byte sizes around the advice's threshold and one well past it.
const SIZES: [usize; 6] = [
    2 * MIB - 8,
    2 * MIB,
    2 * MIB + 8,
    4 * MIB + 24,
    6 * MIB,
    40 * MIB + 16,
];

#[test]
fn large_zeros_are_zero_and_writable() {
    fn check<T: bytemuck::Pod + bytemuck::Zeroable + PartialEq + std::fmt::Debug>(
        bytes: usize,
        one: T,
    ) {
        let n = bytes / size_of::<T>();
        let mut z = Tensor::<T>::zeros(&[n]).unwrap();
        assert_eq!(z.shape(), &[n]);
        assert!(
            bytemuck::cast_slice::<T, u8>(z.as_slice())
                .iter()
                .all(|&b| b == 0),
            "{n} x {}",
            std::any::type_name::<T>()
        );
        // Ordinary memory: every element written and read back.
        z.as_mut_slice().fill(one);
        assert!(z.as_slice().iter().all(|&x| x == one));
    }
    for bytes in SIZES {
        check::<u8>(bytes, 1);
        check::<f32>(bytes, 1.5);
        check::<i64>(bytes, -3);
        check::<f64>(bytes, 0.25);
    }
    // A shape of several dims, its last short.
    let z = Tensor::<f32>::zeros(&[1000, 3, 1000]).unwrap();
    assert!(z.as_slice().iter().all(|x| x.to_bits() == 0));
}

#[test]
fn large_full_holds_its_value() {
    for bytes in SIZES {
        let n = bytes / 4;
        let t = Tensor::full(&[n], 2.5f32).unwrap();
        assert_eq!(t.as_slice().len(), n);
        assert!(t.as_slice().iter().all(|&x| x == 2.5));
    }
}

#[test]
fn large_gather_outputs_are_exact() {
    let (rows, cols) = (512, 4096); // 8 MiB of f32 output
    // Even source columns hold zeros: an output picks a zero exactly where its
    // index is even, and out-of-range positions are filled with zero.
    let src: Vec<f32> = (0..rows * cols)
        .map(|i: usize| if i.is_multiple_of(2) { 0.0 } else { i as f32 })
        .collect();
    let mut rng = Rng::new(17);
    let idx: Vec<i64> = (0..rows * cols)
        .map(|_| {
            if rng.one_in(64) {
                cols as i64 + 5
            } else {
                rng.below(cols) as i64
            }
        })
        .collect();
    let want: Vec<f32> = idx
        .iter()
        .enumerate()
        .map(|(p, &j)| {
            let j = j as usize;
            if j >= cols || j.is_multiple_of(2) {
                0.0
            } else {
                ((p / cols) * cols + j) as f32
            }
        })
        .collect();
    let src_v = TensorView::new(&src, &[rows, cols]).unwrap();
    let idx_v = TensorView::new(&idx, &[rows, cols]).unwrap();
    for opts in [
        GatherOptions::new().fill(0.0f32).sequential(),
        GatherOptions::new().fill(0.0f32),
    ] {
        let out = gather_with(&src_v, 1, &idx_v, &opts).unwrap();
        assert_eq!(out.shape(), &[rows, cols]);
        assert!(
            out.as_slice()
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        let mut into = Tensor::full(&[rows, cols], f32::NAN).unwrap();
        gather_into_with(&src_v, 1, &idx_v, &mut into.view_mut(), &opts).unwrap();
        assert_eq!(into.as_slice(), out.as_slice());
    }
    // Without a fill, the in-range picks alone, a whole page's worth of rows.
    let in_range: Vec<i64> = idx.iter().map(|&j| j % cols as i64).collect();
    let in_v = TensorView::new(&in_range, &[rows, cols]).unwrap();
    let out = gather_with(&src_v, 1, &in_v, &GatherOptions::new()).unwrap();
    for (p, (&o, &j)) in out.as_slice().iter().zip(&in_range).enumerate() {
        assert_eq!(o.to_bits(), src[(p / cols) * cols + j as usize].to_bits());
    }
}

#[test]
fn large_cross_entropy_backward_matches_its_into_form() {
    let (n, c) = (384, 8192); // a 12 MiB gradient
    let mut rng = Rng::new(5);
    let logits: Vec<f32> = (0..n * c)
        .map(|_| rng.below(2000) as f32 * 0.01 - 10.0)
        .collect();
    // Every fifth row ignored: its gradient row is all zeros.
    let labels: Vec<i64> = (0..n)
        .map(|r| {
            if r % 5 == 0 {
                -100
            } else {
                rng.below(c) as i64
            }
        })
        .collect();
    let logits = TensorView::new(&logits, &[n, c]).unwrap();
    let labels_v = TensorView::new(&labels, &[n]).unwrap();
    let one = 1.0f32;
    let g = TensorView::scalar(&one);
    let opts = LossOptions::new();
    let grad = cross_entropy_backward(&logits, &labels_v, &g, &opts).unwrap();
    let mut into = Tensor::full(&[n, c], f32::NAN).unwrap();
    cross_entropy_backward_into(&logits, &labels_v, &g, &opts, &mut into.view_mut()).unwrap();
    assert_eq!(grad.shape(), &[n, c]);
    assert!(
        grad.as_slice()
            .iter()
            .zip(into.as_slice())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    for (r, row) in grad.as_slice().chunks(c).enumerate() {
        if labels[r] < 0 {
            assert!(row.iter().all(|x| x.to_bits() == 0), "row {r}");
        } else {
            // softmax minus a one-hot: sums to zero, one negative element.
            let sum: f64 = row.iter().map(|&x| f64::from(x)).sum();
            assert!(sum.abs() < 1e-4, "row {r}: {sum}");
            assert!(row[labels[r] as usize] < 0.0);
        }
    }
}

/// The mode `/sys/kernel/mm/transparent_hugepage/enabled` selects (the word
/// in brackets), if the file is there.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn thp_mode() -> Option<String> {
    let s = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    let open = s.find('[')?;
    let close = s[open..].find(']')? + open;
    Some(s[open + 1..close].to_string())
}

/// Kilobytes of `AnonHugePages` over the mappings of `/proc/self/smaps` that
/// overlap `start .. end`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn anon_huge_kb(smaps: &str, start: usize, end: usize) -> usize {
    let mut overlaps = false;
    let mut kb = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            overlaps = lo < end && start < hi;
        } else if overlaps && let Some(rest) = line.strip_prefix("AnonHugePages:") {
            kb += rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .unwrap_or(0);
        }
    }
    kb
}

/// Only on x86-64, where CI runs the test on the kernel itself: it runs the
/// aarch64 suite under qemu-user, which takes `madvise` and does nothing with
/// it (and the `smaps` it shows are the emulator's).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn large_zeros_get_huge_pages_where_the_kernel_gives_them() {
    let Some(mode) = thp_mode() else {
        eprintln!("skipped: no /sys/kernel/mm/transparent_hugepage/enabled");
        return;
    };
    if mode != "always" && mode != "madvise" {
        eprintln!("skipped: transparent huge pages are `{mode}`");
        return;
    }
    let bytes = 64 * MIB;
    let mut z = Tensor::<u8>::zeros(&[bytes]).unwrap();
    // First touch: one write a 4 KiB page.
    for b in z.as_mut_slice().iter_mut().step_by(4096) {
        *b = 1;
    }
    let start = z.as_slice().as_ptr().addr();
    let smaps = match std::fs::read_to_string("/proc/self/smaps") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped: /proc/self/smaps unreadable ({e})");
            return;
        }
    };
    let kb = anon_huge_kb(&smaps, start, start + bytes);
    assert!(
        kb > 0,
        "no huge pages behind a written 64 MiB Tensor::zeros (THP `{mode}`)"
    );
    assert_eq!(
        z.as_slice()
            .iter()
            .step_by(4096)
            .filter(|&&b| b == 1)
            .count(),
        bytes / 4096
    );
}

// Its addresses are 64-bit ones.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[test]
fn smaps_parsing() {
    let smaps = "\
00400000-00600000 r-xp 00000000 08:01 1 /bin/x
AnonHugePages:      2048 kB
7f0000000000-7f0000400000 rw-p 00000000 00:00 0
Rss:                4096 kB
AnonHugePages:      4096 kB
7f0000400000-7f0000401000 rw-p 00000000 00:00 0
AnonHugePages:         0 kB
";
    assert_eq!(
        anon_huge_kb(smaps, 0x7f00_0000_0000, 0x7f00_0040_1000),
        4096
    );
    assert_eq!(
        anon_huge_kb(smaps, 0x7f00_003f_f000, 0x7f00_0040_0000),
        4096
    );
    assert_eq!(anon_huge_kb(smaps, 0x7f00_0040_0000, 0x7f00_0040_1000), 0);
    assert_eq!(anon_huge_kb(smaps, 0, 0x40_0001), 2048);
    assert_eq!(anon_huge_kb(smaps, 0x60_0000, 0x7f00_0000_0000), 0);
}
