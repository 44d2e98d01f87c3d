//! Helpers shared by the integration tests: a deterministic RNG, random element
//! values of every width, strided views of random layouts over padded buffers,
//! and [`check_all`], which runs every entry point against the reference.

#![allow(dead_code)]

use fastgather::{
    Element, GatherError, GatherOptions, IndexElem, Isa, KernelChoice, Tensor, TensorView,
    TensorViewMut, gather, gather_into, gather_into_with, gather_with, reference,
};
use std::fmt::Debug;

/// A size or stride far past any buffer the tests make, whose square
/// overflows `usize`: `2^40` on 64-bit targets, `2^24` on 32-bit ones.
pub const FAR: usize = 1 << (usize::BITS / 2 + 8);

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

/// splitmix64: tiny, deterministic, good enough to pick shapes and values.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; 0 when `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// Uniform in `lo..hi`, 53 random bits.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------
// Element values
// ---------------------------------------------------------------------------

/// An element type the tests can make random values of.
pub trait TestElem: Element + Copy + Debug + 'static {
    /// A random value; floats favour NaN payloads, infinities and `-0.0`.
    fn random(rng: &mut Rng) -> Self;
}

fn random_pod<T: bytemuck::Pod>(rng: &mut Rng) -> T {
    let mut v = T::zeroed();
    for b in bytemuck::bytes_of_mut(&mut v) {
        *b = rng.next_u64() as u8;
    }
    v
}

macro_rules! test_elem_pod {
    ($($t:ty),*) => {$(
        impl TestElem for $t {
            fn random(rng: &mut Rng) -> Self {
                random_pod(rng)
            }
        }
    )*};
}
test_elem_pod!(
    u8,
    i8,
    u16,
    i16,
    u32,
    i32,
    u64,
    i64,
    u128,
    [u64; 2],
    [u8; 3],
    [u8; 12],
    [u16; 3],
    ()
);

impl TestElem for bool {
    fn random(rng: &mut Rng) -> Self {
        rng.coin()
    }
}

impl TestElem for f32 {
    fn random(rng: &mut Rng) -> Self {
        let bits = rng.next_u64() as u32;
        match rng.below(8) {
            // A NaN with a random payload and sign (quiet or signalling).
            0 => f32::from_bits(0x7F80_0000 | (bits & 0x807F_FFFF) | 1),
            1 => -0.0,
            2 => f32::from_bits(0x7F80_0000 | (bits & 0x8000_0000)),
            3 => f32::from_bits(bits & 0x807F_FFFF), // subnormals and zeros
            _ => f32::from_bits(bits),
        }
    }
}

impl TestElem for f64 {
    fn random(rng: &mut Rng) -> Self {
        let bits = rng.next_u64();
        match rng.below(8) {
            0 => f64::from_bits(0x7FF0_0000_0000_0000 | (bits & 0x800F_FFFF_FFFF_FFFF) | 1),
            1 => -0.0,
            2 => f64::from_bits(0x7FF0_0000_0000_0000 | (bits & 0x8000_0000_0000_0000)),
            3 => f64::from_bits(bits & 0x800F_FFFF_FFFF_FFFF),
            _ => f64::from_bits(bits),
        }
    }
}

/// `n` random values.
pub fn random_vec<T: TestElem>(rng: &mut Rng, n: usize) -> Vec<T> {
    (0..n).map(|_| T::random(rng)).collect()
}

/// `n` values uniform in `lo..hi`: finite, moderate numbers for arithmetic
/// (the losses), where [`TestElem::random`]'s NaNs and extremes would not do.
pub fn uniform_vec(rng: &mut Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.uniform(lo, hi)).collect()
}

/// The raw bytes of a slice (empty for zero-sized types).
pub fn bytes<T: Element>(values: &[T]) -> &[u8] {
    bytemuck::cast_slice(values)
}

/// Same length and the same bytes: NaN payloads and `-0.0` count.
pub fn same_bits<T: Element>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && bytes(a) == bytes(b)
}

/// Panics unless `a` and `b` agree bit for bit.
#[track_caller]
pub fn assert_bits<T: Element + Debug>(a: &[T], b: &[T], ctx: &str) {
    assert!(
        same_bits(a, b),
        "{ctx}: values differ\n  left:  {a:?}\n  right: {b:?}"
    );
}

// ---------------------------------------------------------------------------
// Index values
// ---------------------------------------------------------------------------

/// Values that are out of range for a bound of `bound`, as `i64` before being
/// wrapped into the index type (some wrap back into range for narrow types;
/// the reference decides).
pub fn bad_index_value(rng: &mut Rng, bound: usize) -> i64 {
    let b = bound as i64;
    match rng.below(10) {
        0 => b,
        1 => b + 1 + rng.below(5) as i64,
        2 => -1,
        3 => -1 - rng.below(100) as i64,
        4 => i64::MIN,
        5 => i64::MAX,
        6 => i32::MAX as i64,
        7 => i32::MIN as i64,
        8 => u32::MAX as i64,
        _ => 1 << (32 + rng.below(31)),
    }
}

/// An index value: in `0..bound`, or with probability `1 / bad_one_in` (if
/// nonzero) an out-of-range one.
pub fn index_value<I: IndexElem>(rng: &mut Rng, bound: usize, bad_one_in: usize) -> I {
    if bound == 0 || (bad_one_in > 0 && rng.one_in(bad_one_in)) {
        I::from_i64_wrapping(bad_index_value(rng, bound))
    } else {
        I::from_i64_wrapping(rng.below(bound) as i64)
    }
}

/// `n` index values as [`index_value`] makes them.
pub fn index_vec<I: IndexElem>(rng: &mut Rng, n: usize, bound: usize, bad_one_in: usize) -> Vec<I> {
    (0..n)
        .map(|_| index_value(rng, bound, bad_one_in))
        .collect()
}

/// Converts plain `i64` values to any index type.
pub fn idx<I: IndexElem>(values: &[i64]) -> Vec<I> {
    values.iter().map(|&v| I::from_i64_wrapping(v)).collect()
}

// ---------------------------------------------------------------------------
// Shapes and positions
// ---------------------------------------------------------------------------

/// Product of the sizes (1 for a 0-d shape).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Calls `f` with every multi-index of `shape`, in row-major order.
pub fn for_each_pos(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut pos = vec![0; shape.len()];
    loop {
        f(&pos);
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            pos[k] += 1;
            if pos[k] < shape[k] {
                break;
            }
            pos[k] = 0;
        }
    }
}

/// Every multi-index of `shape`, in row-major order.
pub fn positions(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = Vec::with_capacity(numel(shape));
    if shape.contains(&0) {
        return out;
    }
    let mut pos = vec![0; shape.len()];
    loop {
        out.push(pos.clone());
        let mut k = shape.len();
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            pos[k] += 1;
            if pos[k] < shape[k] {
                break;
            }
            pos[k] = 0;
        }
    }
}

/// Element offset of `pos` in a layout.
pub fn offset_of(strides: &[isize], offset: usize, pos: &[usize]) -> usize {
    let off = pos
        .iter()
        .zip(strides)
        .fold(offset as isize, |acc, (&p, &s)| acc + p as isize * s);
    usize::try_from(off).expect("position inside the buffer")
}

// ---------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------

/// How a view's elements sit in its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Row-major, offset 0, no padding: what `TensorView::new` makes.
    Contiguous,
    /// Axes stored in a random order (a permuted view of a contiguous buffer).
    Permuted,
    /// Every axis taken with a step of 2 or 3 out of a padded buffer.
    Stepped,
    /// Every axis reversed: negative strides.
    Flipped,
    /// Row-major, but at an offset inside a larger buffer.
    Offset,
    /// Row-major with one element of padding after every row of every axis
    /// (a slice of a tensor one larger along each axis): strides that look
    /// mergeable only to a merge rule that checks the wrong size.
    Padded,
    /// Broadcast: some axes have stride 0 (read-only views only).
    Expanded,
    /// A per-axis random mix of all of the above.
    Random,
}

/// Every style.
pub const STYLES: [Style; 8] = [
    Style::Contiguous,
    Style::Permuted,
    Style::Stepped,
    Style::Flipped,
    Style::Offset,
    Style::Padded,
    Style::Expanded,
    Style::Random,
];

/// The styles a writable view may have (no stride-0 axes).
pub const MUT_STYLES: [Style; 7] = [
    Style::Contiguous,
    Style::Permuted,
    Style::Stepped,
    Style::Flipped,
    Style::Offset,
    Style::Padded,
    Style::Random,
];

/// Shape, strides and offset of a view, and the length its buffer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutSpec {
    /// Sizes.
    pub shape: Vec<usize>,
    /// Element strides.
    pub strides: Vec<isize>,
    /// Element offset of position zero.
    pub offset: usize,
    /// Buffer length.
    pub len: usize,
}

impl LayoutSpec {
    /// Buffer offsets of every element, in row-major order of the view.
    pub fn offsets(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(numel(&self.shape));
        for_each_pos(&self.shape, |p| {
            out.push(offset_of(&self.strides, self.offset, p))
        });
        out
    }
}

/// A random layout of `style` for `shape`. Unless the style is `Expanded` or
/// `Random`, no two positions share an element; `Random` uses stride 0 only
/// when `allow_expand`.
pub fn make_layout(rng: &mut Rng, shape: &[usize], style: Style, allow_expand: bool) -> LayoutSpec {
    let rank = shape.len();
    // Physical order of the axes, outermost first.
    let mut order: Vec<usize> = (0..rank).collect();
    let mut step = vec![1usize; rank];
    let mut pad = vec![0usize; rank];
    let mut flip = vec![false; rank];
    let mut expand = vec![false; rank];
    let (mut lead, mut tail) = (0usize, 0usize);
    match style {
        Style::Contiguous => {}
        Style::Permuted => {
            rng.shuffle(&mut order);
            // Make sure something moves when it can.
            if rank >= 2 && order.iter().enumerate().all(|(k, &a)| k == a) {
                order.reverse();
            }
        }
        Style::Stepped => {
            for k in 0..rank {
                step[k] = rng.range(2, 3);
                pad[k] = rng.below(2);
            }
            lead = rng.below(3);
            tail = rng.below(3);
        }
        Style::Flipped => flip.fill(true),
        Style::Offset => {
            lead = rng.range(1, 7);
            tail = rng.below(4);
        }
        Style::Padded => pad.fill(1),
        Style::Expanded => {
            for e in expand.iter_mut() {
                *e = rng.coin();
            }
            if rank > 0 && !expand.contains(&true) {
                expand[rng.below(rank)] = true;
            }
        }
        Style::Random => {
            rng.shuffle(&mut order);
            for k in 0..rank {
                step[k] = if rng.one_in(3) { rng.range(2, 3) } else { 1 };
                pad[k] = if rng.one_in(3) { rng.range(1, 2) } else { 0 };
                flip[k] = rng.one_in(3);
                expand[k] = allow_expand && rng.one_in(4);
            }
            lead = if rng.coin() { rng.range(1, 5) } else { 0 };
            tail = rng.below(3);
        }
    }
    let mut strides = vec![0isize; rank];
    let mut phys = 1usize;
    let mut offset = lead;
    for &k in order.iter().rev() {
        if expand[k] {
            continue;
        }
        let n = shape[k].max(1);
        let s = (phys * step[k]) as isize;
        strides[k] = if flip[k] { -s } else { s };
        if flip[k] {
            offset += (n - 1) * s as usize;
        }
        phys *= (n - 1) * step[k] + 1 + pad[k];
    }
    LayoutSpec {
        shape: shape.to_vec(),
        strides,
        offset,
        len: lead + phys + tail,
    }
}

/// A buffer plus a layout over it.
#[derive(Clone, Debug)]
pub struct Strided<T> {
    /// The whole buffer, padding included.
    pub buf: Vec<T>,
    /// Where the view's elements are.
    pub layout: LayoutSpec,
}

impl<T: Copy> Strided<T> {
    /// A buffer for `layout` filled with `fill(rng)`.
    pub fn filled(rng: &mut Rng, layout: LayoutSpec, mut fill: impl FnMut(&mut Rng) -> T) -> Self {
        let buf = (0..layout.len).map(|_| fill(rng)).collect();
        Self { buf, layout }
    }

    /// `values` (row-major, of `shape`) placed in a layout of `style` (not
    /// `Expanded`); every other element of the buffer is `pad(rng)`.
    pub fn place(
        rng: &mut Rng,
        values: &[T],
        shape: &[usize],
        style: Style,
        pad: impl FnMut(&mut Rng) -> T,
    ) -> Self {
        assert_eq!(values.len(), numel(shape), "values do not fit the shape");
        assert_ne!(
            style,
            Style::Expanded,
            "cannot place distinct values in a broadcast view"
        );
        let layout = make_layout(rng, shape, style, false);
        let mut s = Self::filled(rng, layout, pad);
        for (off, &v) in s.layout.offsets().iter().zip(values) {
            s.buf[*off] = v;
        }
        s
    }

    /// The read-only view.
    pub fn view(&self) -> TensorView<'_, T> {
        let l = &self.layout;
        TensorView::with_strides(&self.buf, &l.shape, &l.strides, l.offset)
            .unwrap_or_else(|e| panic!("test layout {l:?} rejected: {e}"))
    }

    /// The writable view; the layout must not overlap.
    pub fn view_mut(&mut self) -> TensorViewMut<'_, T> {
        let l = &self.layout;
        TensorViewMut::with_strides(&mut self.buf, &l.shape, &l.strides, l.offset)
            .unwrap_or_else(|e| panic!("test layout {l:?} rejected for writing: {e}"))
    }
}

/// Random source values in a random layout of `style`.
pub fn random_src<T: TestElem>(rng: &mut Rng, shape: &[usize], style: Style) -> Strided<T> {
    let layout = make_layout(rng, shape, style, true);
    Strided::filled(rng, layout, T::random)
}

/// Random index values for a bound in a random layout of `style`; the padding
/// holds values too, in range or not, so reading it by mistake shows.
pub fn random_index<I: IndexElem>(
    rng: &mut Rng,
    shape: &[usize],
    style: Style,
    bound: usize,
    bad_one_in: usize,
) -> Strided<I> {
    let layout = make_layout(rng, shape, style, true);
    Strided::filled(rng, layout, |r| index_value(r, bound, bad_one_in))
}

/// A random writable layout of `style` (`Expanded` is taken as `Random`).
pub fn random_out<T: TestElem>(rng: &mut Rng, shape: &[usize], style: Style) -> Strided<T> {
    let style = if style == Style::Expanded {
        Style::Random
    } else {
        style
    };
    let layout = make_layout(rng, shape, style, false);
    Strided::filled(rng, layout, T::random)
}

// ---------------------------------------------------------------------------
// Which paths ran
// ---------------------------------------------------------------------------

/// The kernels a test's calls ran, as `explain` names them, so that a sweep
/// meant to cover every instruction-set path fails when one never ran instead
/// of passing quietly without it.
#[derive(Debug, Default)]
pub struct PathLog {
    /// (forced path, path that ran, kernel), each once, in first-seen order.
    ran: Vec<(Isa, Isa, &'static str)>,
}

impl PathLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that a call forced onto `forced` runs `choice`.
    pub fn record(&mut self, forced: Isa, choice: &KernelChoice) {
        let entry = (forced, choice.isa, choice.kernel);
        if !self.ran.contains(&entry) {
            self.ran.push(entry);
        }
    }

    /// Whether some call ran on `isa`.
    pub fn ran(&self, isa: Isa) -> bool {
        self.ran.iter().any(|r| r.1 == isa)
    }

    /// One line per path that ran: each kernel, with the paths that were forced
    /// to reach it.
    pub fn report(&self) -> String {
        let mut paths: Vec<Isa> = self.ran.iter().map(|r| r.1).collect();
        paths.sort();
        paths.dedup();
        let mut out = String::new();
        for isa in paths {
            let mut kernels: Vec<&str> = self
                .ran
                .iter()
                .filter(|r| r.1 == isa)
                .map(|r| r.2)
                .collect();
            kernels.sort_unstable();
            kernels.dedup();
            let parts: Vec<String> = kernels
                .iter()
                .map(|&k| {
                    let forced: Vec<String> = self
                        .ran
                        .iter()
                        .filter(|r| r.1 == isa && r.2 == k)
                        .map(|r| format!("{:?}", r.0))
                        .collect();
                    format!("{k} (forced {})", forced.join(", "))
                })
                .collect();
            out += &format!("  {isa:?}: {}\n", parts.join("; "));
        }
        out
    }

    /// Prints which paths ran, then panics unless every path the CPU reports
    /// was forced in some call that ran a kernel, and every path of `meant`
    /// ran.
    #[track_caller]
    pub fn assert_covered(&self, test: &str, meant: &[Isa]) {
        let report = self.report();
        println!("{test}: paths that ran\n{report}");
        let unforced: Vec<Isa> = Isa::available()
            .into_iter()
            .filter(|isa| !self.ran.iter().any(|r| r.0 == *isa))
            .collect();
        assert!(
            unforced.is_empty(),
            "{test}: {unforced:?} (reported by the CPU) never forced onto a kernel; ran:\n{report}"
        );
        let missing: Vec<Isa> = meant.iter().copied().filter(|&i| !self.ran(i)).collect();
        assert!(
            missing.is_empty(),
            "{test}: {missing:?} never ran; ran:\n{report}"
        );
    }
}

// ---------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------

/// Panics unless two results agree: same shape and bits, or the same error.
#[track_caller]
pub fn assert_same_result<T: Element + Debug>(
    want: &Result<Tensor<T>, GatherError>,
    got: &Result<Tensor<T>, GatherError>,
    ctx: &str,
) {
    match (want, got) {
        (Ok(w), Ok(g)) => {
            assert_eq!(w.shape(), g.shape(), "{ctx}: shapes differ");
            assert_bits(w.as_slice(), g.as_slice(), ctx);
        }
        (Err(w), Err(g)) => assert_eq!(w, g, "{ctx}: errors differ"),
        _ => panic!("{ctx}: expected {want:?}, got {got:?}"),
    }
}

/// For each index position, the value gather would put there if the index
/// value at that position is in range. Only for calls whose dim, ranks and
/// sizes are valid.
fn gathered_per_position<T: Copy, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> Vec<Option<T>> {
    let rank = src.rank().max(1) as isize;
    let d = if dim < 0 { dim + rank } else { dim } as usize;
    let bound = src.shape().get(d).copied().unwrap_or(1);
    let mut out = Vec::with_capacity(index.len());
    for_each_pos(index.shape(), |p| {
        let v = index.get(p).expect("index position").to_i128();
        if v < 0 || v >= bound as i128 {
            out.push(None);
            return;
        }
        let mut at = p.to_vec();
        if src.rank() == 0 {
            at.clear();
        } else {
            if at.is_empty() {
                at.push(0);
            }
            at[d] = v as usize;
        }
        out.push(Some(*src.get(&at).expect("source position")));
    });
    out
}

/// The documented state of `out` after a failed `gather_into`: untouched on a
/// dim or shape error; on an index error, each element old or gathered.
#[track_caller]
pub fn assert_out_contract<T: Element + Debug, I: IndexElem>(
    err: &GatherError,
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    before: &[T],
    after: &[T],
    ctx: &str,
) {
    if let GatherError::IndexOutOfBounds { .. } = err {
        let gathered = gathered_per_position(src, dim, index);
        for (k, ((b, a), g)) in before.iter().zip(after).zip(&gathered).enumerate() {
            let old = same_bits(std::slice::from_ref(b), std::slice::from_ref(a));
            let new =
                g.is_some_and(|g| same_bits(std::slice::from_ref(&g), std::slice::from_ref(a)));
            assert!(
                old || new,
                "{ctx}: after {err:?}, out element {k} is {a:?}: neither its old value {b:?} \
                 nor the gathered value {g:?}"
            );
        }
    } else {
        assert_bits(before, after, &format!("{ctx}: out changed after {err:?}"));
    }
}

/// `gather_into` (with `opts`, or the defaults) into `out`, checked against
/// `want`: on success the view holds `want`; on failure the error is the same
/// and `out` keeps the documented contract. Elements of `out`'s buffer outside
/// the view are never written.
#[track_caller]
pub fn check_into<T: TestElem, I: IndexElem>(
    want: &Result<Tensor<T>, GatherError>,
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    out: &mut Strided<T>,
    opts: Option<&GatherOptions>,
    ctx: &str,
) {
    let buf_before = out.buf.clone();
    let before = out.view().to_vec();
    let res = {
        let mut view = out.view_mut();
        match opts {
            Some(o) => gather_into_with(src, dim, index, &mut view, o),
            None => gather_into(src, dim, index, &mut view),
        }
    };
    let after = out.view().to_vec();
    match (want, &res) {
        (Ok(w), Ok(())) => assert_bits(w.as_slice(), &after, ctx),
        (Err(w), Err(g)) => {
            assert_eq!(w, g, "{ctx}: errors differ");
            assert_out_contract(g, src, dim, index, &before, &after, ctx);
        }
        _ => panic!("{ctx}: expected {want:?}, got {res:?}"),
    }
    let mut inside = vec![false; out.buf.len()];
    for off in out.layout.offsets() {
        inside[off] = true;
    }
    for (k, (b, a)) in buf_before.iter().zip(&out.buf).enumerate() {
        assert!(
            inside[k] || same_bits(std::slice::from_ref(b), std::slice::from_ref(a)),
            "{ctx}: buffer element {k} outside the out view was written"
        );
    }
}

/// Runs `gather`, `gather_with(.., sequential)`, `gather_with` forced onto
/// every instruction-set path this CPU has, and `gather_into` into a fresh
/// contiguous out and into random strided outs, and asserts each equals
/// `reference::gather` bit for bit (or fails with the same error). Also asserts
/// the reference gives the same on contiguous copies of the inputs. Returns the
/// reference's result.
#[track_caller]
pub fn check_all<T: TestElem, I: IndexElem>(
    rng: &mut Rng,
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
) -> Result<Tensor<T>, GatherError> {
    let ctx = format!(
        "src shape {:?} strides {:?} offset {}, index shape {:?} strides {:?} offset {}, dim {dim}",
        src.shape(),
        src.strides(),
        src.offset(),
        index.shape(),
        index.strides(),
        index.offset()
    );
    let want = reference::gather(src, dim, index);
    let (src_c, idx_c) = (src.to_tensor(), index.to_tensor());
    let want_c = reference::gather(&src_c.view(), dim, &idx_c.view());
    assert_same_result(
        &want,
        &want_c,
        &format!("{ctx}: reference on contiguous copies"),
    );
    check_entry_points(rng, src, dim, index, &want);
    want
}

/// Every entry point of [`check_all`] against a given expected result (for
/// inputs too large to copy, such as huge broadcast views).
#[track_caller]
pub fn check_entry_points<T: TestElem, I: IndexElem>(
    rng: &mut Rng,
    src: &TensorView<'_, T>,
    dim: isize,
    index: &TensorView<'_, I>,
    want: &Result<Tensor<T>, GatherError>,
) {
    let ctx = format!(
        "src shape {:?} strides {:?} offset {}, index shape {:?} strides {:?} offset {}, dim {dim}",
        src.shape(),
        src.strides(),
        src.offset(),
        index.shape(),
        index.strides(),
        index.offset()
    );
    let got = gather(src, dim, index);
    assert_same_result(want, &got, &format!("{ctx}: gather"));
    let seq = gather_with(src, dim, index, &GatherOptions::new().sequential());
    assert_same_result(want, &seq, &format!("{ctx}: gather_with sequential"));
    for isa in Isa::available() {
        let opts = GatherOptions::new().isa(isa);
        let got = gather_with(src, dim, index, &opts);
        assert_same_result(want, &got, &format!("{ctx}: gather_with {isa:?}"));
        let got = gather_with(src, dim, index, &opts.sequential());
        assert_same_result(
            want,
            &got,
            &format!("{ctx}: gather_with {isa:?} sequential"),
        );
    }

    let shape = index.shape().to_vec();
    let mut fresh = random_out::<T>(rng, &shape, Style::Contiguous);
    check_into(
        want,
        src,
        dim,
        index,
        &mut fresh,
        None,
        &format!("{ctx}: gather_into contiguous"),
    );

    let style = rng.pick(&MUT_STYLES[1..]);
    let mut out = random_out::<T>(rng, &shape, style);
    let octx = format!("{ctx}: gather_into out {:?}", out.layout);
    check_into(want, src, dim, index, &mut out, None, &octx);

    let style = rng.pick(&MUT_STYLES);
    let mut out = random_out::<T>(rng, &shape, style);
    let octx = format!("{ctx}: gather_into_with sequential out {:?}", out.layout);
    check_into(
        want,
        src,
        dim,
        index,
        &mut out,
        Some(&GatherOptions::new().sequential()),
        &octx,
    );
}

/// [`check_all`] on `src` values and `index` values (row-major) placed in
/// every combination of the given styles; every layout must give the
/// contiguous result. Returns the contiguous result.
#[track_caller]
pub fn check_layouts<T: TestElem, I: IndexElem>(
    rng: &mut Rng,
    src: (&[T], &[usize]),
    dim: isize,
    index: (&[I], &[usize]),
    styles: &[Style],
) -> Result<Tensor<T>, GatherError> {
    let src_c = TensorView::new(src.0, src.1).expect("contiguous src");
    let idx_c = TensorView::new(index.0, index.1).expect("contiguous index");
    let want = check_all(rng, &src_c, dim, &idx_c);
    for &ss in styles.iter().filter(|&&s| s != Style::Expanded) {
        for &is in styles.iter().filter(|&&s| s != Style::Expanded) {
            let s = Strided::place(rng, src.0, src.1, ss, T::random);
            // Padding of -1 (the maximum for unsigned types): reading it fails.
            let i = Strided::place(rng, index.0, index.1, is, |_| I::from_i64_wrapping(-1));
            let got = check_all(rng, &s.view(), dim, &i.view());
            assert_same_result(&want, &got, &format!("layouts src {ss:?} index {is:?}"));
        }
    }
    want
}

/// A proptest case count, divided by `FASTGATHER_PROPTEST_DIVISOR` when it is
/// set: CI sets it where the suite runs under emulation, so the heavy
/// properties keep their breadth natively and a tenth of it under qemu.
pub fn cases(native: u32) -> u32 {
    let divisor = std::env::var("FASTGATHER_PROPTEST_DIVISOR")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|&d| d > 0)
        .unwrap_or(1);
    (native / divisor).max(8)
}
