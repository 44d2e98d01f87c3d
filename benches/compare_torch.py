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

Memory pages: numpy advises transparent huge pages for large arrays, which
spares peers most TLB misses on the random-access cases, while `cargo bench`
keeps its buffers on the heap (4 KiB pages). So by default this script turns
numpy's advice off, and both sides run on 4 KiB pages; with --hugepages it
leaves it on, to be read beside `FASTGATHER_BENCH_HUGEPAGES=1 cargo bench`.

--losses times instead the issue-5 cases of benches/losses.rs: torch's
F.cross_entropy forward, its backward (autograd.grad of the mean loss, on one
retained graph), and scatter_add_ on [2048, 2048] f32 along dims 1 and 0,
beside the fastgather medians of `cargo bench --bench losses`.

Setup: pip install torch numpy onnx onnxruntime   (CPU wheels from PyPI)
Usage: python3 benches/compare_torch.py [--threads 1,2] [--cases a,b] [--markdown]
                                        [--hugepages] [--losses]
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
        ("strided_transposed_idx", "float32", (2048, 2048), 1, (2048, 2048), "int64", "idx_t"),
        ("general_transposed_out", "float32", (2048, 2048), 1, (2048, 2048), "int64", "out_t"),
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


def time_torch(src, idx, dim, threads, out_t=False):
    if torch is None:
        return None, "torch missing"
    torch.set_num_threads(threads)
    ts = torch.from_numpy(src)  # keeps a transposed or sliced view strided
    if idx.strides[-1] == 0:  # stride-0 expanded index stays a view in torch
        ti = torch.from_numpy(idx[..., :1].copy()).expand(*idx.shape)
    else:
        ti = torch.from_numpy(idx)
    if out_t:  # written through a transposed view of its buffer
        out = torch.empty(idx.shape[::-1], dtype=ts.dtype).t()
    else:
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


def set_hugepages(on):
    """numpy's madvise(MADV_HUGEPAGE) for new large arrays (a private switch)."""
    core = getattr(np, "_core", None) or np.core
    core.multiarray._set_madvise_hugepage(on)


def losses(threads, crit, markdown):
    """Issue-5 cases: torch beside the fastgather medians of benches/losses.rs."""
    if torch is None:
        print("torch missing")
        return
    import torch.nn.functional as F
    rng = np.random.default_rng(SEED)
    n, c = 65536, 1000
    x = torch.from_numpy(((rng.integers(0, 2000, (n, c)) - 1000) * 0.01).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, c, n).astype(np.int64))
    size = 2048
    idx = torch.from_numpy(rng.integers(0, size, (size, size)).astype(np.int64))
    val = torch.from_numpy((np.arange(size * size) % 1013 * 1e-3).astype(np.float32).reshape(size, size))
    dest = torch.zeros(size, size)
    rows = [["case", "thr", "torch", "fastgather", "torch / fastgather", "other engines"]]
    for t in threads:
        torch.set_num_threads(t)
        xr = x.clone().requires_grad_(True)
        loss = F.cross_entropy(xr, y)
        timed = {
            "ce_fwd": median_time(lambda: F.cross_entropy(x, y)),
            "ce_bwd": median_time(lambda: torch.autograd.grad(loss, xr, retain_graph=True)),
            "scatter_add_last": median_time(lambda: dest.scatter_add_(1, idx, val)),
            "scatter_add_dim0": median_time(lambda: dest.scatter_add_(0, idx, val)),
        }
        for case, tt in timed.items():
            got = crit.get((case, t), {})
            fg = got.get("fastgather")
            others = ", ".join(f"{k} {fmt(v)} ({tt / v:.2f}x)" for k, v in sorted(got.items())
                               if k not in ("fastgather", "reference"))
            ratio = f"{tt / fg:.2f}x" if fg else "-"
            rows.append([case, str(t), fmt(tt), fmt(fg), ratio, others or "-"])
            print(f"  {case} t{t}: torch {fmt(tt)}", file=sys.stderr)
    for k, r in enumerate(rows):
        if markdown:
            print("| " + " | ".join(r) + " |")
            if k == 0:
                print("|" + "|".join("---" for _ in r) + "|")
        else:
            print("  ".join(r))


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
    ap.add_argument("--hugepages", action="store_true",
                    help="leave numpy's huge-page advice on (see the module docs)")
    ap.add_argument("--losses", action="store_true",
                    help="the issue-5 cases of benches/losses.rs instead")
    ap.add_argument("--criterion", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion"))
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    wanted = set(filter(None, args.cases.split(",")))
    crit = criterion_medians(args.criterion)
    set_hugepages(args.hugepages)
    if args.losses:
        losses(threads, crit, args.markdown)
        return
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
            out_t = case[-1] == "out_t"
            tt, terr = time_torch(src, idx, dim, t, out_t)
            # onnxruntime binds dense outputs only.
            ot, oerr = (None, "no strided outputs") if out_t else time_ort(src, idx, dim, t)
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
