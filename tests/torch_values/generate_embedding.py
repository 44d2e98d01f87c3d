"""Writes tests/torch_values/embedding.rs: PyTorch's CPU results for embedding_bag,
embedding (backward) and segment_reduce, as data for fastgather's tests.

Not run by CI (the tests read the literals it wrote). To regenerate:
    /root/venv-torch/bin/python tests/torch_values/generate_embedding.py > tests/torch_values/embedding.rs
Floats are written as their bits (f16 and bf16 as u16 bits, f32 as u32, f64
as u64), so NaN, -0.0 and every rounding survive; integers as they are.
Runs everything with torch.set_num_threads(1), then reruns itself with 2
threads (FG_THREADS=2) and prints, as a comment, any bit that changed.
Calls that crash torch 2.15 (segfault) or read uninitialised memory are not
run: they are written with out None and an error starting "(undefined".
"""
import json
import math
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

THREADS = int(os.environ.get("FG_THREADS", "1"))
torch.set_num_threads(THREADS)
INF, NAN = math.inf, math.nan
f32, f64, f16, bf16 = torch.float32, torch.float64, torch.float16, torch.bfloat16
I64 = torch.int64

BITS = {
    f16: ("u16", torch.int16, 0xFFFF),
    bf16: ("u16", torch.int16, 0xFFFF),
    f32: ("u32", torch.int32, 0xFFFFFFFF),
    f64: ("u64", torch.int64, 0xFFFFFFFFFFFFFFFF),
}
SUFFIX = {f16: "F16", bf16: "BF16", f32: "F32", f64: "F64"}


def bits(t):
    t = t.detach().flatten().contiguous()
    if t.dtype in BITS:
        _, as_int, mask = BITS[t.dtype]
        return [v & mask for v in t.view(as_int).tolist()]
    return t.tolist()


def lits(t):
    if t.dtype in BITS:
        return ", ".join(hex(v) for v in bits(t))
    return ", ".join(str(v) for v in t.flatten().tolist())


def shape(t):
    return "&[" + ", ".join(str(s) for s in t.shape) + "]"


def opt(t):
    return "None" if t is None else f"Some(&[{lits(t)}])"


def ostr(s):
    return "None" if s is None else "Some(" + json.dumps(s) + ")"


def err_text(e):
    return str(e).splitlines()[0]


RECORD = {}  # name -> output bits, for the thread comparison
CASES = {}   # (kind, dtype) -> [rust literal]


def add(kind, dt, lit):
    CASES.setdefault((kind, dt), []).append(compact(lit))


def compact(lit):
    """Packs a struct literal written one field a line into lines of about 100 characters."""
    lines = [l.strip() for l in lit.strip().splitlines()]
    head, fields, tail = lines[0], lines[1:-1], lines[-1]
    out, cur = [], "    " + head
    for f in fields:
        if len(cur) + 1 + len(f) > 100 and cur.strip() != head:
            out.append(cur)
            cur = "        " + f
        else:
            cur += " " + f
    out.append(cur + " " + tail)
    return "\n".join(out)


def unique(kind, dt, name):
    key = f"{kind}/{SUFFIX[dt]}/{name}"
    assert key not in RECORD, key
    return key


# ---------------------------------------------------------------- embedding_bag
def bag(name, dt, weight, ids, offsets, mode, psw=None, padding_idx=None, ilo=False,
        wshape=None, ids_shape=None, undefined=None):
    w = torch.tensor(weight, dtype=dt)
    if wshape is not None:
        w = w.view(wshape)
    i = torch.tensor(ids, dtype=I64)
    if ids_shape is not None:
        i = i.view(ids_shape)
    o = None if offsets is None else torch.tensor(offsets, dtype=I64)
    p = None if psw is None else torch.tensor(psw, dtype=dt).view(i.shape) if len(psw) == i.numel() else torch.tensor(psw, dtype=dt)
    out, err = None, None
    if undefined is not None:
        err = "(undefined: " + undefined + ")"
    else:
        try:
            out = F.embedding_bag(i, w, o, mode=mode, per_sample_weights=p, padding_idx=padding_idx,
                                  include_last_offset=ilo)
        except (RuntimeError, ValueError, NotImplementedError, IndexError) as e:
            err = err_text(e)
    key = unique("bag", dt, name)
    RECORD[key] = bits(out) if out is not None else err
    add("BAGS", dt, f"""    BagCase {{
        name: {json.dumps(name)},
        weight: &[{lits(w)}],
        weight_shape: {shape(w)},
        ids: &[{lits(i)}],
        ids_shape: {shape(i)},
        offsets: {opt(o)},
        mode: "{mode}",
        per_sample_weights: {opt(p)},
        padding_idx: {"None" if padding_idx is None else f"Some({padding_idx})"},
        include_last_offset: {str(ilo).lower()},
        out: {opt(out)},
        error: {ostr(err)},
    }},""")
    return out


g = torch.Generator().manual_seed(2024)


def rnd(n, dt=f64, scale=1.0):
    return (torch.randn(n, generator=g, dtype=f64) * scale).to(dt).tolist()


W43 = [float(v) for v in range(12)]
SPECIAL = [NAN, 1.0, 2.0, NAN, -0.0, 0.0, 0.0, -0.0, -INF, INF, 3.0, -5.0]  # [6, 2]
for dt in [f32, f64, f16, bf16]:
    W = rnd(6 * 3, dt)
    for mode in ["sum", "mean", "max"]:
        m = mode
        bag(f"{m} basic", dt, W, [0, 2, 1, 5, 4, 3, 3], [0, 3, 5], m, wshape=(6, 3))
        bag(f"{m} empty bags", dt, W, [1, 2, 4], [0, 0, 2, 2, 3], m, wshape=(6, 3))
        bag(f"{m} empty bags include_last_offset", dt, W, [1, 2, 4], [0, 0, 2, 2, 3], m, ilo=True, wshape=(6, 3))
        bag(f"{m} include_last_offset", dt, W, [0, 1, 2, 3, 4, 5], [0, 2, 6], m, ilo=True, wshape=(6, 3))
        bag(f"{m} duplicate ids", dt, W, [2, 2, 2, 5, 5], [0, 3], m, wshape=(6, 3))
        bag(f"{m} padding_idx 2", dt, W, [2, 1, 2, 2, 0, 2], [0, 2, 3, 5], m, padding_idx=2, wshape=(6, 3))
        bag(f"{m} padding_idx -1 (=5)", dt, W, [5, 1, 5, 5, 0], [0, 2, 4], m, padding_idx=-1, wshape=(6, 3))
        bag(f"{m} padding_idx -6 (=0)", dt, W, [0, 1, 0], [0, 1], m, padding_idx=-6, wshape=(6, 3))
        bag(f"{m} 2-d ids", dt, W, [0, 1, 2, 3, 4, 5, 5, 5], None, m, ids_shape=(4, 2), wshape=(6, 3))
        bag(f"{m} 2-d ids with padding", dt, W, [0, 1, 1, 1, 4, 1], None, m, padding_idx=1, ids_shape=(3, 2), wshape=(6, 3))
        bag(f"{m} 2-d ids zero width", dt, W, [], None, m, ids_shape=(3, 0), wshape=(6, 3))
        bag(f"{m} NaN / ties / inf", dt, SPECIAL, [0, 5, 5, 1, 2, 3, 3, 2, 4, 4, 1, 0, 0, 5, 1], [0, 2, 4, 6, 8, 10, 12, 12], m, wshape=(6, 2))
        bag(f"{m} lone -0.0", dt, [-0.0, 1.0], [0], [0], m, wshape=(2, 1))
        bag(f"{m} empty ids", dt, W, [], [0, 0], m, wshape=(6, 3))
        # include_last_offset with the last offset short of the ids (torch: f32/f16/bf16 sum and mean
        # stop at the last offset, the count, max and f64 take the tail)
        bag(f"{m} include_last_offset short tail", dt, W43, [0, 1, 2, 3], [0, 2, 3], m, ilo=True, wshape=(4, 3))
        bag(f"{m} include_last_offset short tail, empty last", dt, W43, [0, 1, 2, 3], [0, 2, 2], m, ilo=True, wshape=(4, 3))
        bag(f"{m} include_last_offset short tail, one bag", dt, W43, [0, 1, 2, 3], [0, 2], m, ilo=True, wshape=(4, 3))
        bag(f"{m} include_last_offset short tail with padding", dt, W43, [0, 1, 2, 3], [0, 2, 3], m, padding_idx=3, ilo=True, wshape=(4, 3))
        if dt in (f16, bf16):
            continue  # the checks below are the same for all float types; recorded on f32 and f64
        # errors
        bag(f"{m} offsets[0] != 0", dt, W43, [0, 1, 2, 3], [1, 3], m, wshape=(4, 3))
        bag(f"{m} last offset past the ids", dt, W43, [0, 1, 2, 3], [0, 5], m, wshape=(4, 3))
        bag(f"{m} include_last_offset last offset past the ids", dt, W43, [0, 1, 2, 3], [0, 5], m, ilo=True, wshape=(4, 3))
        bag(f"{m} include_last_offset empty offsets", dt, W43, [0, 1, 2, 3], [], m, ilo=True, wshape=(4, 3))
        bag(f"{m} id negative", dt, W43, [0, -1], [0], m, wshape=(4, 3))
        bag(f"{m} id == V", dt, W43, [0, 4], [0], m, wshape=(4, 3))
        bag(f"{m} id == V, 2-d", dt, W43, [0, 4], None, m, ids_shape=(1, 2), wshape=(4, 3))
        bag(f"{m} padding_idx == V", dt, W43, [0, 1], [0], m, padding_idx=4, wshape=(4, 3))
        bag(f"{m} padding_idx == -V-1", dt, W43, [0, 1], [0], m, padding_idx=-5, wshape=(4, 3))
        bag(f"{m} id -1 with padding_idx -1", dt, W43, [0, -1], [0, 1], m, padding_idx=-1, wshape=(4, 3))
        bag(f"{m} offsets with 2-d ids", dt, W43, [0, 1, 2, 3], [0, 1], m, ids_shape=(2, 2), wshape=(4, 3))
        bag(f"{m} psw given", dt, W43, [0, 1, 2, 3], [0, 2], m, psw=[1.0, 2.0, 3.0, 4.0], wshape=(4, 3))
        bag(f"{m} offsets decreasing", dt, W43, [0, 1, 2, 3], [0, 3, 1], m, wshape=(4, 3),
            undefined="torch does not check; it returns uninitialised memory, raises 'Expected i < index_size' or crashes")
        bag(f"{m} offsets negative", dt, W43, [0, 1], [0, -1], m, wshape=(4, 3),
            undefined="torch does not check; it reads out of bounds and raises a garbage index error")
        crash = dt == f64 or mode == "max"  # (f16 and bf16 behave like f32; not recorded)
        bag(f"{m} empty offsets, non-empty ids", dt, W43, [0, 1, 2, 3], [], m, wshape=(4, 3),
            undefined="torch 2.15 segfaults" if crash else None)
        bag(f"{m} include_last_offset single offset", dt, W43, [0, 1, 2, 3], [0], m, ilo=True, wshape=(4, 3),
            undefined="torch 2.15 segfaults" if crash else None)
    # per_sample_weights (sum only)
    bag("sum psw", dt, W, [0, 2, 1, 5, 4, 3, 3], [0, 3, 5], "sum", psw=rnd(7, dt), wshape=(6, 3))
    bag("sum psw with padding and empty bag", dt, W, [0, 2, 1, 2, 4], [0, 2, 2, 4], "sum", psw=rnd(5, dt), padding_idx=2, wshape=(6, 3))
    bag("sum psw 2-d ids", dt, W, [0, 2, 1, 5, 4, 3], None, "sum", psw=rnd(6, dt), ids_shape=(3, 2), wshape=(6, 3))
    bag("sum psw NaN and -0.0", dt, [1.0, INF, -0.0, 2.0], [0, 1, 0, 1], [0, 2], "sum", psw=[NAN, 0.0, 1.0, -0.0], wshape=(2, 2))
    bag("sum psw include_last_offset short tail", dt, W43, [0, 1, 2, 3], [0, 2, 3], "sum", psw=[1.0, 2.0, 3.0, 4.0], ilo=True, wshape=(4, 3))
    bag("sum psw shape mismatch", dt, W43, [0, 1, 2, 3], [0, 2], "sum", psw=[1.0, 2.0, 3.0], wshape=(4, 3))

# Accumulation precision.
for dt in [f16, bf16]:
    for mode in ["sum", "mean"]:
        bag(f"{mode} of 3001 ones", dt, [1.0], [0] * 3001, [0], mode, wshape=(1, 1))
        bag(f"{mode} of 3001 ones, 2-d", dt, [1.0], [0] * 3001, None, mode, ids_shape=(1, 3001), wshape=(1, 1))
    # bf16 sum 1 + 2^-8: a tie; round-half-even gives 1.0, torch's round-half-away gives 1.0078125
    bag("sum tie 1 + 2^-8", dt, [1.0, 2.0 ** -8, -1.0, -(2.0 ** -8)], [0, 1, 2, 3], [0, 2], "sum", wshape=(4, 1))
    bag("sum tie 1 + 2^-11", dt, [1.0, 2.0 ** -11, -1.0, -(2.0 ** -11)], [0, 1, 2, 3], [0, 2], "sum", wshape=(4, 1))
    bag("psw tie 1 + 2^-8", dt, [1.0, 2.0 ** -8], [0, 1], [0], "sum", psw=[1.0, 1.0], wshape=(2, 1))
    # mean: sum rounded to the half type, then divided by the count (a second rounding)
    bag("mean double rounding", dt, [-1.71875, -1.171875, -1.0, -2.375, 0.515625, -0.1484375, 0.73828125, 0.6171875],
        [0, 1, 2, 3, 4, 5, 6, 7], [0, 4], "mean", wshape=(8, 1))
    V = 64
    Wl = rnd(V * 2, dt)
    ids = torch.randint(0, V, (200,), generator=g).tolist()
    bag("long 1-d random", dt, Wl, ids, [0, 7, 100, 100], "sum", wshape=(V, 2))
    bag("long 1-d random mean", dt, Wl, ids, [0, 7, 100, 100], "mean", wshape=(V, 2))
    bag("long 1-d random psw", dt, Wl, ids, [0, 7, 100, 100], "sum", psw=rnd(200, dt), wshape=(V, 2))
for dt in [f32, f64]:
    V = 64
    Wl = (torch.randn(V, 2, generator=g, dtype=f64) * torch.exp(torch.randn(V, 2, generator=g, dtype=f64) * 4)).to(dt).flatten().tolist()
    ids = torch.randint(0, V, (200,), generator=g).tolist()
    bag("long 1-d random", dt, Wl, ids, [0, 7, 100, 100], "sum", wshape=(V, 2))
    bag("long 1-d random mean", dt, Wl, ids, [0, 7, 100, 100, 197], "mean", wshape=(V, 2))
    bag("long 1-d random psw", dt, Wl, ids, [0, 7, 100, 100], "sum", psw=rnd(200, dt, 3.0), wshape=(V, 2))
# mean: sum / count, not sum * (1/count): each bag is one value x and count-1 zeros, with x
# chosen so that x / n and x * (1 / n) differ in the last bit.
def div_mul_differ(np_t, counts):
    import numpy as np
    rng = np.random.default_rng(1)
    found = []
    for n in counts:
        while True:
            x = np_t(rng.uniform(1, 2))
            if np_t(x / np_t(n)) != np_t(x * np_t(np_t(1) / np_t(n))):
                found.append((float(x), n))
                break
    return found


for dt in [f32, f64]:
    import numpy as np
    found = div_mul_differ(np.float32 if dt == f32 else np.float64, [3, 7, 10, 11])
    ids, off = [], []
    for k, (x, n) in enumerate(found):
        off.append(len(ids))
        ids += [k + 1] + [0] * (n - 1)
    bag("mean divide not multiply", dt, [0.0] + [x for x, _ in found], ids, off, "mean", wshape=(len(found) + 1, 1))
# psw: f32 fma(w, x, acc) with one rounding, f64 acc + w*x with two.
for dt in [f32, f64]:
    e = 2.0 ** -12 if dt == f32 else 2.0 ** -27
    # (1+e)*(1+e) = 1 + 2e + e^2; minus (1+2e): exact with fma gives e^2, two roundings give 0.
    bag("psw fma vs two roundings", dt, [1.0 + e, -(1.0 + 2 * e)], [1, 0], [0], "sum", psw=[1.0, 1.0 + e], wshape=(2, 1))

# ---------------------------------------------------------------- segment_reduce
def seg(name, dt, data, lengths, reduce, initial=None, dshape=None, offsets=False):
    d = torch.tensor(data, dtype=dt)
    if dshape is not None:
        d = d.view(dshape)
    L = torch.tensor(lengths, dtype=I64)
    out, err = None, None
    try:
        if offsets:
            out = torch.segment_reduce(d, reduce, offsets=L, initial=initial)
        else:
            out = torch.segment_reduce(d, reduce, lengths=L, initial=initial)
    except (RuntimeError, IndexError) as e:
        err = err_text(e)
    key = unique("seg", dt, name)
    RECORD[key] = bits(out) if out is not None else err
    init = "None" if initial is None else f"Some({lits(torch.tensor([initial], dtype=dt))})"
    add("SEGMENTS", dt, f"""    SegmentCase {{
        name: {json.dumps(name)},
        data: &[{lits(d)}],
        data_shape: {shape(d)},
        {"offsets" if offsets else "lengths"}: &[{lits(L)}],
        {"lengths: &[]," if offsets else "offsets: None,"}
        reduce: "{reduce}",
        initial: {init},
        out: {opt(out)},
        error: {ostr(err)},
    }},""".replace("offsets: &[", "lengths: &[], offsets: Some(&[").replace("lengths: &[], offsets: Some(&[" + lits(L) + "],\n        lengths: &[],",
                                                                               "lengths: &[],\n        offsets: Some(&[" + lits(L) + "]),"))


for dt in [f32, f64]:
    D1 = [1.0, 2.0, 3.0, NAN, 5.0, -1.0, -0.0, 0.0, 0.0, -0.0, INF, -INF]
    L1 = [2, 0, 3, 1, 2, 2, 2, 0]
    for red in ["sum", "mean", "max", "min", "prod"]:
        seg(f"{red} with empty segment", dt, D1, L1, red)
        seg(f"{red} with empty segment, initial 7", dt, D1, L1, red, initial=7.0)
        seg(f"{red} with empty segment, initial -0.0", dt, D1, L1, red, initial=-0.0)
        seg(f"{red} NaN first / later", dt, [NAN, 1.0, 1.0, NAN, 4.0], [2, 2, 1], red)
        seg(f"{red} 2-d", dt, rnd(5 * 3, dt), [2, 0, 3], red, dshape=(5, 3))
        seg(f"{red} offsets form", dt, D1, [0, 2, 2, 5, 6, 8, 10, 12, 12], red, offsets=True)
        seg(f"{red} lengths sum short", dt, D1, [2, 3], red)
        seg(f"{red} lengths sum long", dt, D1, [2, 30], red)
        seg(f"{red} negative length", dt, D1, [2, -1, 11], red)
        seg(f"{red} all empty", dt, [], [0, 0], red)
    seg("offsets not covering the data", dt, D1, [1, 2, 5], "sum", offsets=True)
    seg("offsets decreasing", dt, D1, [0, 5, 2, 12], "sum", offsets=True)
    seg("mean long", dt, rnd(100, dt, 1e3), [33, 67], "mean")
    seg("sum long", dt, rnd(100, dt, 1e3), [33, 67], "sum")
    seg("prod long", dt, rnd(40, dt), [40], "prod")
    seg("reduce name amax", dt, D1, L1, "amax")
    seg("reduce name any", dt, D1, L1, "any")

# ---------------------------------------------------------------- backward
def back(name, dt, weight, wshape, ids, offsets, mode, psw=None, padding_idx=None, ilo=False, ids_shape=None):
    w = torch.tensor(weight, dtype=dt).view(wshape).requires_grad_()
    i = torch.tensor(ids, dtype=I64)
    if ids_shape is not None:
        i = i.view(ids_shape)
    o = None if offsets is None else torch.tensor(offsets, dtype=I64)
    p = None if psw is None else torch.tensor(psw, dtype=dt).view(i.shape).requires_grad_()
    out = F.embedding_bag(i, w, o, mode=mode, per_sample_weights=p, padding_idx=padding_idx, include_last_offset=ilo)
    go = torch.randn(out.shape, generator=g, dtype=f64).to(dt)
    out.backward(go)
    key = unique("back", dt, name)
    RECORD[key] = bits(w.grad) + (bits(p.grad) if p is not None else [])
    add("BACKWARD", dt, f"""    BackwardCase {{
        name: {json.dumps(name)},
        weight: &[{lits(w)}],
        weight_shape: {shape(w)},
        ids: &[{lits(i)}],
        ids_shape: {shape(i)},
        offsets: {opt(o)},
        mode: "{mode}",
        per_sample_weights: {opt(p)},
        padding_idx: {"None" if padding_idx is None else f"Some({padding_idx})"},
        include_last_offset: {str(ilo).lower()},
        grad_out: &[{lits(go)}],
        grad_weight: &[{lits(w.grad)}],
        grad_per_sample_weights: {opt(None if p is None else p.grad)},
    }},""")


def emb_back(name, dt, num_weights, d, ids, padding_idx=None, ids_shape=None, scale=1.0):
    w = torch.zeros(num_weights, d, dtype=dt, requires_grad=True)
    i = torch.tensor(ids, dtype=I64)
    if ids_shape is not None:
        i = i.view(ids_shape)
    out = F.embedding(i, w, padding_idx=padding_idx)
    go = (torch.randn(out.shape, generator=g, dtype=f64) * torch.exp(torch.randn(out.shape, generator=g, dtype=f64) * scale)).to(dt)
    out.backward(go)
    key = unique("emb", dt, name)
    RECORD[key] = bits(w.grad)
    add("EMB_BACKWARD", dt, f"""    EmbeddingBackwardCase {{
        name: {json.dumps(name)},
        num_weights: {num_weights},
        ids: &[{lits(i)}],
        ids_shape: {shape(i)},
        grad_out: &[{lits(go)}],
        d: {d},
        padding_idx: {"None" if padding_idx is None else f"Some({padding_idx})"},
        grad_weight: &[{lits(w.grad)}],
    }},""")


for dt in [f32, f64]:
    W = rnd(6 * 3, dt)
    for mode in ["sum", "mean", "max"]:
        back(f"{mode} basic", dt, W, (6, 3), [0, 2, 1, 5, 4, 3, 3], [0, 3, 5], mode)
        back(f"{mode} padding, empty bags, duplicates", dt, W, (6, 3), [2, 1, 2, 2, 1, 0, 1], [0, 2, 2, 3, 7], mode, padding_idx=2)
        back(f"{mode} include_last_offset", dt, W, (6, 3), [4, 4, 1, 0, 4], [0, 3, 3, 5], mode, ilo=True)
        back(f"{mode} 2-d ids", dt, W, (6, 3), [0, 1, 1, 1, 5, 5], None, mode, ids_shape=(3, 2))
    back("max ties (first max gets the gradient)", dt, [1.0, 1.0, -0.0, 0.0, 0.0, -0.0], (3, 2), [0, 1, 2, 1, 0, 2], [0, 3], "max")
    back("max NaN", dt, [NAN, 1.0, 2.0, NAN], (2, 2), [0, 1, 1, 0], [0, 2], "max")
    back("sum psw", dt, W, (6, 3), [0, 2, 1, 5, 4, 3, 3], [0, 3, 5], "sum", psw=rnd(7, dt))
    back("sum psw padding, empty bag", dt, W, (6, 3), [0, 2, 2, 1, 2], [0, 2, 2, 5], "sum", psw=rnd(5, dt), padding_idx=2)
    back("sum psw D=16", dt, rnd(3 * 16, dt, 100.0), (3, 16), [0, 1, 2, 1], [0, 2], "sum", psw=rnd(4, dt))
    back("mean 16 duplicates (sort is stable up to 16)", dt, rnd(2 * 2, dt), (2, 2), [1, 0] * 8, [0, 3, 16], "mean")
    back("sum 40 duplicates (unstable sort order)", dt, rnd(2 * 2, dt), (2, 2), [i % 3 % 2 for i in range(40)], [0, 7, 40], "sum")
    emb_back("padding and duplicates", dt, 5, 3, [1, 4, 1, 0, 4, 4, 2], padding_idx=4)
    emb_back("padding -1, 2-d ids", dt, 5, 2, [0, 4, 4, 3, 0, 1], padding_idx=-1, ids_shape=(2, 3))
    emb_back("no padding", dt, 3, 2, [2, 2, 0], padding_idx=None)
    emb_back("300 duplicates of one id (position order)", dt, 2, 2, [1] * 300, scale=6.0)

# ---------------------------------------------------------------- threads
def bigger_checks():
    """Larger random calls (to get past torch's parallel grain sizes); returns name -> bits."""
    gg = torch.Generator().manual_seed(7)
    res = {}
    for dt in [f32, f64, f16, bf16]:
        W = torch.randn(1000, 64, generator=gg).to(dt)
        ids = torch.randint(0, 1000, (20000,), generator=gg)
        off = torch.sort(torch.randint(0, 20000, (3000,), generator=gg)).values
        off[0] = 0
        psw = torch.randn(20000, generator=gg).to(dt)
        for mode in ["sum", "mean", "max"]:
            res[f"big {mode} {dt}"] = bits(F.embedding_bag(ids, W, off, mode=mode))
        res[f"big psw {dt}"] = bits(F.embedding_bag(ids, W, off, mode="sum", per_sample_weights=psw))
        if dt in (f32, f64):
            w = W.clone().requires_grad_()
            p = psw.clone().requires_grad_()
            F.embedding_bag(ids, w, off, mode="mean").backward(torch.ones(3000, 64, dtype=dt))
            res[f"big mean backward {dt}"] = bits(w.grad)
            w.grad = None
            F.embedding_bag(ids, w, off, mode="sum", per_sample_weights=p).backward(torch.randn(3000, 64, generator=gg).to(dt))
            res[f"big psw backward {dt}"] = bits(w.grad) + bits(p.grad)
            w.grad = None
            F.embedding(ids, w).backward(torch.randn(20000, 64, generator=gg).to(dt))
            res[f"big embedding backward {dt}"] = bits(w.grad)
            d = torch.randn(20000, 64, generator=gg).to(dt)
            for red in ["sum", "mean", "max", "prod"]:
                res[f"big segment {red} {dt}"] = bits(torch.segment_reduce(d, red, lengths=torch.full((400,), 50)))
    return res


if THREADS != 1:
    RECORD.update(bigger_checks())
    json.dump(RECORD, sys.stdout)
    sys.exit(0)

RECORD.update(bigger_checks())
two = json.loads(subprocess.run([sys.executable, __file__], env=dict(os.environ, FG_THREADS="2"),
                                capture_output=True, text=True, check=True).stdout)
changed = sorted(k for k in RECORD if RECORD[k] != two.get(k))

print("//! PyTorch's CPU values for embedding_bag, embedding backward and segment_reduce,")
print("//! written by generate_embedding.py (torch " + torch.__version__.split("+")[0] + "). Do not edit by hand.")
print("//! Floats are bits (f16 and bf16 as u16, f32 as u32, f64 as u64). Recorded with 1 thread;")
if changed:
    print("//! with 2 threads these changed: " + "; ".join(changed))
else:
    print(f"//! rerun with 2 threads: no bit of any case changed ({len(RECORD)} cases and larger checks).")
print()
print("#![allow(dead_code, clippy::unreadable_literal)]")
print()
print("""/// One `embedding_bag` forward call. `out`: torch's output `[B, D]`; `None` where torch
/// raised (`error` is then its message, first line) or where the call is undefined in
/// torch 2.15 (`error` then starts with "(undefined": torch crashes or reads garbage).
pub struct BagCase<T: 'static> {
    pub name: &'static str,
    pub weight: &'static [T],
    pub weight_shape: &'static [usize],
    pub ids: &'static [i64],
    pub ids_shape: &'static [usize],
    pub offsets: Option<&'static [i64]>,
    pub mode: &'static str,
    pub per_sample_weights: Option<&'static [T]>,
    pub padding_idx: Option<i64>,
    pub include_last_offset: bool,
    pub out: Option<&'static [T]>,
    pub error: Option<&'static str>,
}

/// One `torch.segment_reduce(data, reduce, lengths=.., axis=0, initial=..)` call, or with
/// `offsets` (then `lengths` is empty).
pub struct SegmentCase<T: 'static> {
    pub name: &'static str,
    pub data: &'static [T],
    pub data_shape: &'static [usize],
    pub lengths: &'static [i64],
    pub offsets: Option<&'static [i64]>,
    pub reduce: &'static str,
    pub initial: Option<T>,
    pub out: Option<&'static [T]>,
    pub error: Option<&'static str>,
}

/// Autograd through `embedding_bag`: the gradients for `grad_out`.
pub struct BackwardCase<T: 'static> {
    pub name: &'static str,
    pub weight: &'static [T],
    pub weight_shape: &'static [usize],
    pub ids: &'static [i64],
    pub ids_shape: &'static [usize],
    pub offsets: Option<&'static [i64]>,
    pub mode: &'static str,
    pub per_sample_weights: Option<&'static [T]>,
    pub padding_idx: Option<i64>,
    pub include_last_offset: bool,
    pub grad_out: &'static [T],
    pub grad_weight: &'static [T],
    pub grad_per_sample_weights: Option<&'static [T]>,
}

/// Autograd through `embedding`: `grad_out` has shape `ids_shape + [d]`; `grad_weight` is `[num_weights, d]`.
pub struct EmbeddingBackwardCase<T: 'static> {
    pub name: &'static str,
    pub num_weights: usize,
    pub ids: &'static [i64],
    pub ids_shape: &'static [usize],
    pub grad_out: &'static [T],
    pub d: usize,
    pub padding_idx: Option<i64>,
    pub grad_weight: &'static [T],
}
""")
STRUCT = {"BAGS": "BagCase", "SEGMENTS": "SegmentCase", "BACKWARD": "BackwardCase", "EMB_BACKWARD": "EmbeddingBackwardCase"}
for kind in ["BAGS", "SEGMENTS", "BACKWARD", "EMB_BACKWARD"]:
    for dt in [f32, f64, f16, bf16]:
        rows = CASES.get((kind, dt))
        if not rows:
            continue
        ty = BITS[dt][0]
        print(f"pub const {kind}_{SUFFIX[dt]}: &[{STRUCT[kind]}<{ty}>] = &[")
        for r in rows:
            print(r)
        print("];")
        print()
