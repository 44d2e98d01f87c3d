#!/usr/bin/env python3
"""Peers on the cases of benches/gather.rs (optional; not run by CI).

Times, at 1 and 2 threads (or the thread counts given with --threads):
  * torch:  torch.gather(src, dim, index, out=out), torch.set_num_threads(t)
  * ort:    onnxruntime GatherElements, a one-node model, intra_op_num_threads=t,
            inputs and a preallocated output bound through IOBinding
  * numpy:  np.take_along_axis(src, index, axis=dim) (single-threaded, allocates
            its output: numpy has no out= for it; timed once, shown in every row)
and prints medians. Where a criterion run of `cargo bench --bench gather` left
results in target/criterion, the fastgather and stream medians of the same case
and thread count are shown too, with "% of stream" (= stream time / engine time).
Those come from another process and run, so compare them loosely.

Layout notes:
  * ONNX tensors are dense: ORT gets a contiguous copy of transposed or sliced
    sources, and a materialized (not stride-0) expanded index.
  * f16_last uses float16 here (the Rust bench moves the same 2 bytes as u16);
    last_16b uses complex128 (16-byte elements).

Setup: pip install torch numpy onnx onnxruntime   (CPU wheels from PyPI)
Usage: python3 benches/compare_torch.py [--threads 1,2] [--cases a,b] [--markdown]
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

try:
    import torch
except ImportError:
    torch = None
try:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
except ImportError:
    ort = None

SEED = 0x5EED


def case_list():
    """(name, src dtype, src shape, dim, index shape, index dtype, layout)."""
    return [
        ("seed_tiny", "float32", None, 1, (2, 1), "int64", "seed"),
        ("ce_pick", "float32", (65536, 1000), 1, (65536, 1), "int64", "dense"),
        ("last_perm", "float32", (2048, 2048), 1, (2048, 2048), "int64", "dense"),
        ("last_perm_i32", "float32", (2048, 2048), 1, (2048, 2048), "int32", "dense"),
        ("last_topk", "float32", (8192, 1024), 1, (8192, 16), "int64", "dense"),
        ("dim0_random", "float32", (2048, 2048), 0, (2048, 2048), "int64", "dense"),
        ("expanded_tokens", "float32", (32, 1024, 256), 1, (32, 256, 256), "int64", "expanded"),
        ("u8_last", "uint8", (4096, 4096), 1, (4096, 1024), "int64", "dense"),
        ("f16_last", "float16", (4096, 4096), 1, (4096, 4096), "int64", "dense"),
        ("last_transposed_src", "float32", (2048, 2048), 1, (2048, 2048), "int64", "transposed"),
        ("general_transposed_idx", "float32", (2048, 2048), 1, (2048, 2048), "int64", "idx_t"),
        ("mid3d_f64", "float64", (64, 512, 128), 1, (64, 256, 128), "int64", "dense"),
        ("last_sliced_f64", "float64", (2048, 2048), 1, (2048, 2048), "int64", "sliced"),
        ("last_16b", "complex128", (1024, 2048), 1, (1024, 1024), "int64", "dense"),
    ]


def make(case, rng):
    """numpy src (maybe a view), numpy index (maybe a broadcast view), dim."""
    name, dt, shape, dim, ishape, it, layout = case
    if layout == "seed":
        src = np.array([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], dtype=np.float32)
        return src, np.array([[0], [2]], dtype=np.int64), dim

    def rand(shape):
        if np.dtype(dt).kind in "fc":
            a = rng.standard_normal(shape)
            if np.dtype(dt).kind == "c":
                a = a + 1j * rng.standard_normal(shape)
            return a.astype(dt)
        return rng.integers(0, 256, size=shape, dtype=dt)

    if layout == "sliced":
        full = rand((shape[0], 2 * shape[1]))
        src = full[:, shape[1] // 2: shape[1] // 2 + shape[1]]
    elif layout == "transposed":
        src = rand(shape).T
    else:
        src = rand(shape)
    bound = src.shape[dim]
    if layout == "expanded":
        base = rng.integers(0, bound, size=ishape[:2] + (1,), dtype=it)
        idx = np.broadcast_to(base, ishape)
    elif layout == "idx_t":
        idx = rng.integers(0, bound, size=ishape, dtype=it).T
    else:
        idx = rng.integers(0, bound, size=ishape, dtype=it)
    return src, idx, dim


def median_time(fn, min_total=0.5, max_reps=30, min_reps=5):
    fn()
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < min_total):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e9


def time_torch(src, idx, dim, threads):
    if torch is None:
        return None, "torch missing"
    torch.set_num_threads(threads)
    ts = torch.from_numpy(src)  # keeps a transposed or sliced view strided
    if idx.strides[-1] == 0:  # stride-0 expanded index stays a view in torch
        ti = torch.from_numpy(idx[..., :1].copy()).expand(*idx.shape)
    else:
        ti = torch.from_numpy(idx)
    out = torch.empty(idx.shape, dtype=ts.dtype)
    try:
        torch.gather(ts, dim, ti, out=out)
    except Exception as e:  # e.g. an index dtype torch does not take
        return None, str(e).splitlines()[0]
    expected = np.take_along_axis(src, idx, axis=dim)
    assert np.array_equal(out.numpy(), expected), "torch disagrees with numpy"
    return median_time(lambda: torch.gather(ts, dim, ti, out=out)), None


ONNX_TYPES = {
    "float32": TensorProto.FLOAT if ort else None,
    "float16": TensorProto.FLOAT16 if ort else None,
    "float64": TensorProto.DOUBLE if ort else None,
    "uint8": TensorProto.UINT8 if ort else None,
    "complex128": TensorProto.COMPLEX128 if ort else None,
    "int64": TensorProto.INT64 if ort else None,
    "int32": TensorProto.INT32 if ort else None,
}


def time_ort(src, idx, dim, threads):
    if ort is None:
        return None, "onnxruntime missing"
    s = np.ascontiguousarray(src)  # ONNX tensors are dense
    i = np.ascontiguousarray(idx)  # GatherElements needs the index materialized
    node = helper.make_node("GatherElements", ["src", "idx"], ["out"], axis=dim)
    graph = helper.make_graph(
        [node], "gather",
        [helper.make_tensor_value_info("src", ONNX_TYPES[str(s.dtype)], list(s.shape)),
         helper.make_tensor_value_info("idx", ONNX_TYPES[str(i.dtype)], list(i.shape))],
        [helper.make_tensor_value_info("out", ONNX_TYPES[str(s.dtype)], list(i.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        out = np.empty(i.shape, dtype=s.dtype)
        binding = sess.io_binding()
        binding.bind_ortvalue_input("src", ort.OrtValue.ortvalue_from_numpy(s))
        binding.bind_ortvalue_input("idx", ort.OrtValue.ortvalue_from_numpy(i))
        binding.bind_ortvalue_output("out", ort.OrtValue.ortvalue_from_numpy(out))
        sess.run_with_iobinding(binding)
    except Exception as e:
        return None, str(e).splitlines()[0][:120]
    assert np.array_equal(out, np.take_along_axis(src, idx, axis=dim)), "ort disagrees with numpy"
    return median_time(lambda: sess.run_with_iobinding(binding)), None


def time_numpy(src, idx, dim):
    return median_time(lambda: np.take_along_axis(src, idx, axis=dim)), None


def criterion_medians(root):
    """{(case, threads): {engine: median_ns}} from a criterion run, if any."""
    found = {}
    if not os.path.isdir(root):
        return found
    for group in os.listdir(root):
        gdir = os.path.join(root, group)
        for engine in os.listdir(gdir) if os.path.isdir(gdir) else []:
            b = os.path.join(gdir, engine, "new", "benchmark.json")
            e = os.path.join(gdir, engine, "new", "estimates.json")
            if not (os.path.exists(b) and os.path.exists(e)):
                continue
            with open(b) as f:
                bench = json.load(f)
            with open(e) as f:
                med = json.load(f)["median"]["point_estimate"]
            gid = bench["group_id"]
            if "-t" not in gid:
                continue
            case, t = gid.rsplit("-t", 1)
            if t.isdigit():
                found.setdefault((case, int(t)), {})[bench["function_id"]] = med
    return found


def fmt(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def pct(stream, ns):
    return f"{100 * stream / ns:.0f}%" if stream and ns else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cases", default="")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--criterion", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion"))
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    wanted = set(filter(None, args.cases.split(",")))
    crit = criterion_medians(args.criterion)
    print(f"torch {torch.__version__ if torch else '-'}, onnxruntime {ort.__version__ if ort else '-'}, "
          f"numpy {np.__version__}", file=sys.stderr)

    header = ["case", "thr", "torch", "%str", "ort", "%str", "numpy", "%str",
              "fastgather", "%str", "stream"]
    table = [header]
    notes = []
    for case in case_list():
        name = case[0]
        if wanted and name not in wanted:
            continue
        rng = np.random.default_rng(SEED)
        src, idx, dim = make(case, rng)
        npy, _ = time_numpy(src, idx, dim)
        for t in threads:
            tt, terr = time_torch(src, idx, dim, t)
            ot, oerr = time_ort(src, idx, dim, t)
            for who, err in (("torch", terr), ("ort", oerr)):
                if err and (name, who) not in {(n[0], n[1]) for n in notes}:
                    notes.append((name, who, err))
            c = crit.get((name, t), {})
            stream, fg = c.get("stream"), c.get("fastgather")
            table.append([name, str(t), fmt(tt), pct(stream, tt), fmt(ot), pct(stream, ot),
                          fmt(npy), pct(stream, npy), fmt(fg), pct(stream, fg), fmt(stream)])
            print(f"  {name} t{t}: torch {fmt(tt)}, ort {fmt(ot)}, numpy {fmt(npy)}", file=sys.stderr)

    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for k, r in enumerate(table):
        if args.markdown:
            print("| " + " | ".join(r) + " |")
            if k == 0:
                print("|" + "|".join("---" for _ in r) + "|")
        else:
            print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    for name, who, err in notes:
        print(f"note: {name}: {who}: {err}")


if __name__ == "__main__":
    main()
