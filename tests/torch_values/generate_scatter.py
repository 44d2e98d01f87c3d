"""Writes tests/torch_values/scatter.rs: PyTorch's results for the tricky rules
of scatter_reduce and the indexing family, read by tests/torch_recorded_scatter.rs.

Not run by CI (the tests read the literals it wrote). To regenerate:
    python3 -m venv /root/venv-torch && /root/venv-torch/bin/pip install torch numpy
    /root/venv-torch/bin/python tests/torch_values/generate_scatter.py > tests/torch_values/scatter.rs
Floats are written as their bits (f16 and bf16 as u16 bits, f32 as u32, f64
as u64), so NaN, -0.0 and every rounding survive; integers as they are.
"""
import math
import torch

INF, NAN = math.inf, math.nan

BITS = {
    torch.float16: ("u16", torch.int16, 0xFFFF),
    torch.bfloat16: ("u16", torch.int16, 0xFFFF),
    torch.float32: ("u32", torch.int32, 0xFFFFFFFF),
    torch.float64: ("u64", torch.int64, 0xFFFFFFFFFFFFFFFF),
}
INTS = {torch.int8: "i8", torch.uint8: "u8", torch.int32: "i32", torch.int64: "i64"}


def rust_type(dtype):
    return BITS[dtype][0] if dtype in BITS else INTS[dtype]


def lits(t):
    t = t.flatten()
    if t.dtype in BITS:
        _, as_int, mask = BITS[t.dtype]
        vals = [v & mask for v in t.view(as_int).tolist()]
        return ", ".join(hex(v) for v in vals)
    return ", ".join(str(v) for v in t.tolist())


def shape(t):
    return "&[" + ", ".join(str(s) for s in t.shape) + "]"


def tensor(vals, dtype, shp=None):
    t = torch.tensor(vals, dtype=dtype)
    return t.view(shp) if shp is not None else t


CASES = []


def sr(name, dtype, x, dim, idx, src, reduce, include_self, x_shape=None, idx_shape=None):
    """One scatter_reduce call: inputs and torch's output (or its error)."""
    x = tensor(x, dtype, x_shape)
    i = tensor(idx, torch.int64, idx_shape)
    s = tensor(src, dtype, idx_shape)
    try:
        out = x.scatter_reduce(dim, i, s, reduce, include_self=include_self)
        out_lit = f"Some(&[{lits(out)}])"
    except RuntimeError as e:
        out_lit = "None"
        print(f"// {name}: torch raised {str(e).splitlines()[0]}")
    CASES.append((rust_type(dtype), f"""    Case {{
        name: "{name}",
        input: &[{lits(x)}],
        shape: {shape(x)},
        dim: {dim},
        index: &[{lits(i)}],
        index_shape: {shape(i)},
        src: &[{lits(s)}],
        reduce: "{reduce}",
        include_self: {str(include_self).lower()},
        out: {out_lit},
    }},"""))


def const(name, t):
    print(f"pub const {name}: &[{rust_type(t.dtype)}] = &[{lits(t)}];")


def raises(name, f):
    try:
        f()
        ok = False
    except (RuntimeError, IndexError) as e:
        ok = True
        print(f"// {name}: {type(e).__name__}: {str(e).splitlines()[0]}")
    print(f"pub const {name}: bool = {str(ok).lower()};")


print("//! PyTorch's values for tests/torch_recorded_scatter.rs, written by generate_scatter.py (torch "
      + torch.__version__.split("+")[0] + "). Do not edit by hand.")
print()
print("#![allow(dead_code, clippy::unreadable_literal)]")
print()

f32, f64, f16, bf16 = torch.float32, torch.float64, torch.float16, torch.bfloat16
i8, u8, i32, i64 = torch.int8, torch.uint8, torch.int32, torch.int64

# -0.0 alone without self: the start is +0, so the sum and mean are +0.
for red in ["sum", "mean"]:
    sr(f"lone -0.0 {red} without self", f32, [5.0, -0.0], 0, [0], [-0.0], red, False)
    sr(f"-0.0 + -0.0 {red} with self", f32, [-0.0], 0, [0], [-0.0], red, True)
# amax / amin of a lone infinity without self.
sr("amax lone -inf", f32, [5.0, 1.0], 0, [0], [-INF], "amax", False)
sr("amin lone +inf", f32, [5.0, 1.0], 0, [0], [INF], "amin", False)
sr("amax lone -inf f64", f64, [5.0], 0, [0], [-INF], "amax", False)
# NaN first, last, and in self.
for red in ["amax", "amin"]:
    for inc in [True, False]:
        sr(f"{red} NaN first/last/self include_self={inc}", f32, [1.0, NAN, 1.0, 2.0], 0,
           [0, 0, 1, 1, 2, 2, 3, 3], [NAN, 2.0, 3.0, 4.0, 5.0, NAN, -1.0, 7.0], red, inc)
# ±0 ties: the first one stays.
for red in ["amax", "amin"]:
    sr(f"{red} zero ties with self", f32, [-0.0, 0.0], 0, [0, 1], [0.0, -0.0], red, True)
    sr(f"{red} zero ties without self", f32, [1.0, 1.0], 0, [0, 0, 1, 1], [-0.0, 0.0, 0.0, -0.0], red, False)
# Integer means floor.
sr("int mean floors", i64, [0, 0, 9], 0, [0, 0, 1, 2, 2], [-7, 0, -1, -2, 2], "mean", False)
sr("int mean floors with self", i32, [-3, 5], 0, [0, 1, 1], [-2, 0, 0], "mean", True)
# int8: the sum wraps, so does the count (301 -> 45).
sr("int8 mean wraps", i8, [3], 0, [0] * 300, [100] * 300, "mean", True)
# uint8: the count wraps to 0 (255 values + self): the sum stays.
sr("uint8 count wraps to zero", u8, [7], 0, [0] * 255, [1] * 255, "mean", True)
# Halves sum in f32 and round once.
for dt, n in [(f16, "f16"), (bf16, "bf16")]:
    sr(f"{n} sum of 3000 ones", dt, [0.0], 0, [0] * 3000, [1.0] * 3000, "sum", True)
    sr(f"{n} mean of 3001 ones", dt, [0.0], 0, [0] * 3001, [1.0] * 3001, "mean", False)
    sr(f"{n} prod", dt, [1.5], 0, [0] * 5, [1.1, 1.3, 0.7, 3.3, 1.01], "prod", True)
# prod without self.
sr("prod without self", f32, [5.0, 6.0, 7.0], 0, [0, 0, 2], [2.0, 3.0, -0.5], "prod", False)
sr("prod int wraps", i32, [1], 0, [0] * 4, [1000, 1000, 1000, -7], "prod", False)
# 2-d along dim 1, collisions.
sr("2-d mean along dim 1", f64, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 1, [2, 2, 0, 1, 1, 1],
   [0.5, 0.25, -1.0, 3.0, 4.0, 5.0], "mean", True, x_shape=(2, 3), idx_shape=(2, 3))
# Empty index: nothing changes, even without self.
sr("empty index", f32, [1.0, -0.0, NAN], 0, [], [], "amax", False)

print()
print("/// One `scatter_reduce` call; floats as bits (see the module doc). `out`:")
print("/// torch's result, or `None` where torch raised.")
print("pub struct Case<T: 'static> {")
for field in ["name: &'static str", "input: &'static [T]", "shape: &'static [usize]", "dim: isize",
              "index: &'static [i64]", "index_shape: &'static [usize]", "src: &'static [T]",
              "reduce: &'static str", "include_self: bool", "out: Option<&'static [T]>"]:
    print(f"    pub {field},")
print("}")
print()
for ty in ["u16", "u32", "u64", "i8", "u8", "i32", "i64"]:
    rows = [c for t, c in CASES if t == ty]
    print(f"pub const CASES_{ty.upper()}: &[Case<{ty}>] = &[")
    for r in rows:
        print(r)
    print("];")
print()

# The names torch's scatter_reduce takes.
for name in ["sum", "prod", "mean", "amax", "amin", "max", "min", "median", "add"]:
    ok = True
    try:
        torch.zeros(2).scatter_reduce(0, torch.tensor([0]), torch.ones(1), name)
    except RuntimeError:
        ok = False
    print(f"pub const REDUCE_NAME_{name.upper()}: bool = {str(ok).lower()};")
print()

# f16 / bf16 scatter_add, index_add and put(accumulate) of 3000 ones.
for dt, n in [(f16, "F16"), (bf16, "BF16")]:
    ones = torch.ones(3000, dtype=dt)
    zero = torch.zeros(1, dtype=dt)
    idx = torch.zeros(3000, dtype=torch.int64)
    const(f"{n}_SCATTER_ADD_3000", zero.scatter_add(0, idx, ones))
    const(f"{n}_INDEX_ADD_3000", zero.index_add(0, idx, ones))
    const(f"{n}_PUT_ACC_3000", zero.put(idx, ones, accumulate=True))
print()

# index_add with an integer alpha.
const("INDEX_ADD_INT_ALPHA", torch.tensor([1, 2, 3]).index_add(0, torch.tensor([0, 0, 2]), torch.tensor([5, 6, 7]), alpha=-3))
# index_add with a float alpha: rank 1 (two roundings) and rank 2 (one).
g = torch.Generator().manual_seed(0)
A = torch.randn(64, generator=g, dtype=f32)
S = torch.randn(64, generator=g, dtype=f32) * 1000
const("ALPHA_SELF", A)
const("ALPHA_SOURCE", S)
const("ALPHA_RANK1", A.index_add(0, torch.arange(64), S, alpha=1.1))
const("ALPHA_RANK2", A.view(64, 1).index_add(0, torch.arange(64), S.view(64, 1), alpha=1.1))
R1 = A.index_add(0, torch.arange(64), S, alpha=1.1)
R2 = A.view(64, 1).index_add(0, torch.arange(64), S.view(64, 1), alpha=1.1).flatten()
print(f"// ALPHA_RANK1 and ALPHA_RANK2 differ at {int((R1 != R2).sum())} of 64 elements.")
# index_fill wraps negative indices (-3..3).
const("INDEX_FILL_WRAPS", torch.zeros(2, 3).index_fill(1, torch.tensor([-1, 0]), 7.0))
raises("INDEX_FILL_MINUS_4_RAISES", lambda: torch.zeros(3).index_fill(0, torch.tensor([-4]), 1.0))
raises("INDEX_COPY_MINUS_1_RAISES", lambda: torch.zeros(3).index_copy(0, torch.tensor([-1]), torch.ones(1)))
raises("INDEX_ADD_MINUS_1_RAISES", lambda: torch.zeros(3).index_add(0, torch.tensor([-1]), torch.ones(1)))
# index_copy, index_fill on 0-d self.
const("ZERO_D_INDEX_ADD_ONE", torch.tensor(1.0).index_add(0, torch.tensor(0), torch.tensor(2.0)))
raises("ZERO_D_INDEX_ADD_TWO_RAISES", lambda: torch.tensor(1.0).index_add(0, torch.tensor([0, 0]), torch.tensor([1.0, 2.0])))
raises("ZERO_D_INDEX_FILL_5_RAISES", lambda: torch.tensor(5.0).index_fill(0, torch.tensor([0, 5]), 1.0))
const("ZERO_D_INDEX_FILL_EMPTY", torch.tensor(5.0).index_fill(0, torch.tensor([], dtype=torch.int64), 1.0))
# take and put wrap negatives (-numel..numel).
X6 = torch.arange(6, dtype=f32).view(2, 3) * 10
const("TAKE_WRAPS", torch.take(X6, torch.tensor([[-1, 0], [-6, 5]])))
const("TAKE_TRANSPOSED", torch.take(X6.t(), torch.tensor([1, 2, -1])))
const("PUT_WRAPS", torch.zeros(2, 3).put(torch.tensor([-1, 0, -6]), torch.tensor([1.0, 2.0, 3.0])))
raises("TAKE_MINUS_7_RAISES", lambda: torch.take(X6, torch.tensor([-7])))
# put(accumulate=True) with duplicates; without, the values land in index order.
const("PUT_ACC_DUPLICATES", torch.zeros(4).put(torch.tensor([1, 1, -1, 1]), torch.tensor([1.0, 2.0, 3.0, 4.0]), accumulate=True))
const("PUT_INT_ACC_WRAPS", torch.tensor([250], dtype=u8).put(torch.tensor([0, 0]), torch.tensor([3, 4], dtype=u8), accumulate=True))
# index_reduce mean on ints, with and without self.
XR = torch.tensor([[10, -3], [4, 4], [0, 0]])
IR = torch.tensor([1, 1, 0, 1])
SR = torch.tensor([[-7, 1], [0, 2], [5, 5], [1, -8]])
const("INDEX_REDUCE_MEAN_SELF", XR.index_reduce(0, IR, SR, "mean", include_self=True))
const("INDEX_REDUCE_MEAN_NO_SELF", XR.index_reduce(0, IR, SR, "mean", include_self=False))
const("INDEX_REDUCE_PROD_NO_SELF", XR.index_reduce(0, IR, SR, "prod", include_self=False))
const("INDEX_REDUCE_AMIN_NO_SELF", XR.index_reduce(0, IR, SR, "amin", include_self=False))
raises("INDEX_REDUCE_SUM_RAISES", lambda: XR.index_reduce(0, IR, SR, "sum"))
# take_along_dim: torch wraps every value modulo the size with a dim.
const("TAKE_ALONG_DIM_5_OF_2", torch.take_along_dim(torch.tensor([1, 2]), torch.tensor([5]), 0))
const("TAKE_ALONG_DIM_BROADCAST", torch.take_along_dim(torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([[-1], [0]]).view(2, 1), 1))
raises("TAKE_ALONG_DIM_FLAT_MINUS_1_RAISES", lambda: torch.take_along_dim(torch.tensor([1, 2]), torch.tensor([-1])))
# torch refuses i32 indices here; fastgather takes them.
for name, f in [
    ("TAKE", lambda i: torch.zeros(3).take(i)),
    ("PUT", lambda i: torch.zeros(3).put(i, torch.ones(1))),
    ("INDEX_COPY", lambda i: torch.zeros(3).index_copy(0, i, torch.ones(1))),
    ("INDEX_FILL", lambda i: torch.zeros(3).index_fill(0, i, 1.0)),
    ("TAKE_ALONG_DIM", lambda i: torch.take_along_dim(torch.zeros(3), i, 0)),
]:
    raises(f"{name}_I32_RAISES", lambda f=f: f(torch.tensor([1], dtype=torch.int32)))
