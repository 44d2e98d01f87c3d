//! The bag kernel: each bag's rows pooled into one output row, bags split
//! across threads in contiguous runs (a bag is never split, so the result is
//! the same on any thread count), the rows of upcoming ids prefetched.

use super::bags::{BagPlan, PAD};
use crate::dispatch::on_path;
use crate::element::{Accumulate, Reduce};
use crate::index::IndexElem;
use crate::isa::Path;
use crate::kernel::prefetch_span;
use crate::tune::{BAG_ROWS_AHEAD, BAG_ROWS_PER_PASS};

/// A table `[rows, d]` seen through its strides: row `r`, element `j` is
/// `data[offset + r * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) offset: isize,
    pub(crate) row_stride: isize,
    pub(crate) col_stride: isize,
    pub(crate) d: usize,
}

impl<'a, T: Copy> Table<'a, T> {
    pub(crate) fn of(view: &crate::TensorView<'a, T>) -> Self {
        let (shape, strides) = (view.shape(), view.strides());
        Self {
            data: view.data(),
            offset: view.offset() as isize,
            row_stride: strides[0],
            col_stride: strides[1],
            d: shape[1],
        }
    }

    /// Whether a row is a contiguous run of `data`.
    pub(crate) fn dense_rows(&self) -> bool {
        self.col_stride == 1 || self.d <= 1
    }

    /// Where row `r` starts (`r` below the view's rows: the view's checks
    /// keep every element of it inside `data`).
    #[inline(always)]
    fn start(&self, r: usize) -> usize {
        (self.offset + r as isize * self.row_stride) as usize
    }

    /// Row `r`: a slice of the table when its rows are dense, else copied into
    /// `scratch` (`d` long).
    #[inline(always)]
    pub(crate) fn row<'s>(&'s self, r: usize, scratch: &'s mut [T]) -> &'s [T] {
        let s = self.start(r);
        if self.dense_rows() {
            return &self.data[s..s + self.d];
        }
        for (j, x) in scratch.iter_mut().enumerate() {
            *x = self.data[(s as isize + j as isize * self.col_stride) as usize];
        }
        scratch
    }

    /// Asks for row `r`'s lines (a dense row's; a strided row's first line).
    #[inline(always)]
    fn prefetch(&self, r: usize) {
        let s = self.start(r);
        let n = if self.dense_rows() { self.d } else { 1 };
        prefetch_span(self.data.as_ptr().wrapping_add(s), n);
    }

    /// Row `r` of a table with dense rows.
    #[inline(always)]
    fn dense_row(&self, r: usize) -> &'a [T] {
        let s = self.start(r);
        &self.data[s..s + self.d]
    }
}

/// The ids of a run of bags, checked (each in the table), read as they are.
#[derive(Clone, Copy)]
pub(crate) struct Ids<'r, I> {
    ids: &'r [I],
    pad: usize,
}

impl<I: IndexElem> Ids<'_, I> {
    /// Id `p`'s table row, [`PAD`] for padding.
    #[inline(always)]
    fn row(&self, p: usize) -> usize {
        let r = self.ids[p].to_i64() as usize;
        if r == self.pad { PAD } else { r }
    }

    /// The row of id `p` if there is one and it is not padding.
    #[inline(always)]
    fn ahead(&self, p: usize) -> Option<usize> {
        let r = self.ids.get(p)?.to_i64() as usize;
        (r != self.pad).then_some(r)
    }
}

/// How one bag's rows meet in its accumulator, and what the bag writes.
pub(crate) trait Pool<T: Reduce>: Copy + Send + Sync {
    /// The accumulator of an empty bag.
    fn start(self) -> T::Acc;
    /// Adds `row` (weighted by `w` where the bags have weights).
    fn add(self, acc: &mut [T::Acc], row: &[T], w: Option<T>);
    /// One unweighted element into its accumulator.
    fn combine(self, acc: T::Acc, x: T) -> T::Acc;
    /// The output of a bag of `count` rows (padding not counted).
    fn finish(self, acc: T::Acc, count: usize) -> T;
}

/// torch's `sum`: in the accumulation type (`f32` for halves), rounded once
/// (`bf16` half away from zero, as FBGEMM rounds); a weighted row is added as
/// `acc + w * x` rounded once (a fused multiply-add, as FBGEMM does), or for
/// `f64` (which torch sums without FBGEMM) rounded twice.
#[derive(Clone, Copy)]
pub(crate) struct Sum;

/// torch's `mean`: the sum, rounded to the element type, divided by the
/// count there (an empty bag divides its zero by one).
#[derive(Clone, Copy)]
pub(crate) struct Mean;

/// `max`: per element, the largest; a NaN anywhere wins; an empty bag is 0.
#[derive(Clone, Copy)]
pub(crate) struct Max;

#[inline(always)]
fn add_rows<T: Reduce>(acc: &mut [T::Acc], row: &[T], w: Option<T>) {
    match w {
        None => {
            for (a, &x) in acc.iter_mut().zip(row) {
                *a = a.accumulate(x.widen());
            }
        }
        Some(w) => {
            for (a, &x) in acc.iter_mut().zip(row) {
                *a = T::bag_weighted(*a, x, w);
            }
        }
    }
}

impl<T: Reduce> Pool<T> for Sum {
    #[inline(always)]
    fn combine(self, acc: T::Acc, x: T) -> T::Acc {
        acc.accumulate(x.widen())
    }
    #[inline(always)]
    fn start(self) -> T::Acc {
        bytemuck::Zeroable::zeroed()
    }
    #[inline(always)]
    fn add(self, acc: &mut [T::Acc], row: &[T], w: Option<T>) {
        add_rows(acc, row, w)
    }
    #[inline(always)]
    fn finish(self, acc: T::Acc, _: usize) -> T {
        T::bag_narrow(acc)
    }
}

impl<T: Reduce> Pool<T> for Mean {
    #[inline(always)]
    fn combine(self, acc: T::Acc, x: T) -> T::Acc {
        acc.accumulate(x.widen())
    }
    #[inline(always)]
    fn start(self) -> T::Acc {
        bytemuck::Zeroable::zeroed()
    }
    #[inline(always)]
    fn add(self, acc: &mut [T::Acc], row: &[T], w: Option<T>) {
        add_rows(acc, row, w)
    }
    #[inline(always)]
    fn finish(self, acc: T::Acc, count: usize) -> T {
        T::bag_narrow(acc).mean(count_of::<T>(count.max(1)))
    }
}

impl<T: Reduce> Pool<T> for Max {
    #[inline(always)]
    fn combine(self, acc: T::Acc, x: T) -> T::Acc {
        acc.maximum(x.widen())
    }
    #[inline(always)]
    fn start(self) -> T::Acc {
        <T::Acc as Reduce>::LOWEST
    }
    #[inline(always)]
    fn add(self, acc: &mut [T::Acc], row: &[T], _: Option<T>) {
        for (a, &x) in acc.iter_mut().zip(row) {
            *a = a.maximum(x.widen());
        }
    }
    #[inline(always)]
    fn finish(self, acc: T::Acc, count: usize) -> T {
        if count == 0 {
            bytemuck::Zeroable::zeroed()
        } else {
            T::narrow(acc)
        }
    }
}

/// `n` in the element type, rounded once (torch converts a bag's size to the
/// output's type before it divides).
#[inline(always)]
pub(crate) fn count_of<T: Reduce>(n: usize) -> T {
    T::narrow(<T::Acc as Reduce>::count(n as u64))
}

/// Pools bags `first..first + out.len() / d` of `plan` into `out` (those
/// bags' output rows, dense), on `path`.
pub(crate) fn pool_bags<T: Reduce, I: IndexElem, P: Pool<T>>(
    path: Path,
    pool: P,
    table: &Table<'_, T>,
    plan: &BagPlan<'_, T, I>,
    first: usize,
    out: &mut [T],
) {
    // The closure inlined whole into the path's entry point, so that its
    // loops are compiled for the path (a closure this large is otherwise
    // left a call, compiled for the baseline).
    on_path(
        path,
        #[inline(always)]
        || pool_bags_body(pool, table, plan, first, out),
    )
}

/// Adds `rows` (each `acc.len()` long) to `acc` in one pass, in order: each
/// element meets the rows one after another, as one row at a time would.
#[inline(always)]
fn add_group<T: Reduce, P: Pool<T>>(pool: P, acc: &mut [T::Acc], rows: &[&[T]; BAG_ROWS_PER_PASS]) {
    let d = acc.len();
    let rows = rows.map(|r| &r[..d]);
    for (j, a) in acc.iter_mut().enumerate() {
        let mut v = *a;
        for r in &rows {
            v = pool.combine(v, r[j]);
        }
        *a = v;
    }
}

#[inline(always)]
fn pool_bags_body<T: Reduce, I: IndexElem, P: Pool<T>>(
    pool: P,
    table: &Table<'_, T>,
    plan: &BagPlan<'_, T, I>,
    first: usize,
    out: &mut [T],
) {
    let d = table.d;
    if d == 0 {
        return;
    }
    let mut acc = vec![pool.start(); d];
    let bags = out.len() / d;
    let end = plan.starts[first + bags];
    // The ids of these bags: looking ahead stops at the last of them.
    let rows = Ids {
        ids: &plan.ids[..end],
        pad: plan.pad,
    };
    if table.dense_rows() && plan.weights.is_none() {
        // Rows read in place, added [`BAG_ROWS_PER_PASS`] at a time.
        for (b, out_row) in (first..first + bags).zip(out.chunks_exact_mut(d)) {
            acc.fill(pool.start());
            let mut group: [&[T]; BAG_ROWS_PER_PASS] = [&[]; BAG_ROWS_PER_PASS];
            let (mut k, mut count) = (0, 0);
            for p in plan.range(b) {
                if let Some(ahead) = rows.ahead(p + BAG_ROWS_AHEAD) {
                    table.prefetch(ahead);
                }
                let r = rows.row(p);
                if r == PAD {
                    continue;
                }
                group[k] = table.dense_row(r);
                k += 1;
                count += 1;
                if k == BAG_ROWS_PER_PASS {
                    add_group(pool, &mut acc, &group);
                    k = 0;
                }
            }
            for row in &group[..k] {
                pool.add(&mut acc, row, None);
            }
            for (o, &a) in out_row.iter_mut().zip(&acc) {
                *o = pool.finish(a, count);
            }
        }
        return;
    }
    let mut scratch = vec![T::zeroed(); if table.dense_rows() { 0 } else { d }];
    for (b, out_row) in (first..first + bags).zip(out.chunks_exact_mut(d)) {
        acc.fill(pool.start());
        let mut count = 0;
        for p in plan.range(b) {
            if let Some(ahead) = rows.ahead(p + BAG_ROWS_AHEAD) {
                table.prefetch(ahead);
            }
            let r = rows.row(p);
            if r == PAD {
                continue;
            }
            let w = plan.weights.as_ref().map(|w| w[p]);
            pool.add(&mut acc, table.row(r, &mut scratch), w);
            count += 1;
        }
        for (o, &a) in out_row.iter_mut().zip(&acc) {
            *o = pool.finish(a, count);
        }
    }
}
