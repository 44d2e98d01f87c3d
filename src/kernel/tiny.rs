//! The tiny path: gathers of a few dozen elements, whose cost is all per-call
//! overhead (`seed_tiny`), walk the views directly instead of planning.

use crate::error::GatherError;
use crate::index::{IndexElem, in_bounds};
use crate::tune::TINY_RANK;
use crate::view::TensorView;

/// The tiny kernel: one walk over the index in row-major order, carrying the
/// three operands' offsets along (no plan, no division, no dispatch), for calls
/// whose cost is all overhead (a few picks). `put(at, v)` stores `v` at offset
/// `at` of the output, relative to its first element, where `out_strides` are
/// the output's strides (empty when the output takes values in order). Safe
/// indexing: the views' layouts were checked against their buffers when made,
/// and shapes by `check_shapes`, so no access can fail.
pub(crate) fn tiny<T: Copy, I: IndexElem>(
    src: &TensorView<'_, T>,
    dim: usize,
    index: &TensorView<'_, I>,
    out_strides: &[isize],
    mut put: impl FnMut(isize, T),
) -> Result<(), GatherError> {
    let shape = index.shape();
    let bound = src.shape().get(dim).copied().unwrap_or(1);
    let along = src.strides().get(dim).copied().unwrap_or(0);
    // The source steps along every axis but `dim`, where the value decides.
    let src_step = |k: usize| if k == dim { 0 } else { src.strides()[k] };
    let out_step = |k: usize| out_strides.get(k).copied().unwrap_or(0);
    let mut pos = [0usize; TINY_RANK];
    // An empty source's offset is unchecked (layout invariant 3); it is never
    // read (no value is in bounds of a size-0 dim), so start it at 0.
    let src_start = if src.is_empty() { 0 } else { src.offset() };
    let (mut s, mut i, mut o) = (src_start as isize, index.offset() as isize, 0isize);
    let n: usize = shape.iter().product();
    for _ in 0..n {
        let v = index.data()[i as usize];
        if !in_bounds(v.to_i64(), bound) {
            return Err(GatherError::IndexOutOfBounds {
                value: v.to_i128(),
                position: pos[..shape.len()].to_vec(),
                dim,
                size: bound,
                wraps: false,
            });
        }
        put(o, src.data()[(s + v.to_i64() as isize * along) as usize]);
        // Odometer: step the last axis, carrying into the ones before it. An
        // axis at its end goes back by its span instead of stepping past it,
        // so every offset formed is a real element's (a size-1 axis may have
        // any stride).
        for k in (0..shape.len()).rev() {
            if pos[k] + 1 < shape[k] {
                pos[k] += 1;
                s += src_step(k);
                i += index.strides()[k];
                o += out_step(k);
                break;
            }
            let span = (shape[k] - 1) as isize;
            s -= src_step(k) * span;
            i -= index.strides()[k] * span;
            o -= out_step(k) * span;
            pos[k] = 0;
        }
    }
    Ok(())
}
