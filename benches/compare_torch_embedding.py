#!/usr/bin/env python3
"""torch's side of examples/embedding_bags.rs (issue 17; optional, not run by CI).

Same cases on the same ids: the example writes them to $EMBBENCH_DIR
(default /tmp/embbench) as little-endian int64 (<data>.ids, <data>.offsets),
so run it first. The tables are torch's own uniform [-1, 1) numbers (the
values do not change the work):
  * rec_{uniform,zipf}[_bf16]_{sum,mean}: F.embedding_bag(ids, weight[1_000_000,
    128], offsets, mode=...), 2048 bags of 40, f32 (and bf16);
  * small_{sum,mean}: weight [100_000, 64] f32, 4096 bags of 80;
  * lm_lookup: F.embedding(ids[8, 2048], weight[128_000, 4096] bf16).
Engines, at torch.set_num_threads(1) and (2), under torch.inference_mode():
  * torch: the functional call (it allocates its output each call; torch has
    no out= form of these);
  * bound: torch.index_select(weight, 0, ids, out=buf) into a reused buffer,
    torch's own copy of the same rows.
A sample is the mean of `calls` back-to-back calls (chosen from a warm call
so a sample takes about 50 ms); each round runs the engines in a fresh random
order; medians of ROUNDS (default 5) rounds.

Usage:
  /root/venv-torch/bin/python benches/compare_torch_embedding.py [--only a,b] [--rounds 5]
  python3 benches/compare_torch_embedding.py --merge fg1.txt t1.txt fg2.txt t2.txt ...
      (tables printed by either side; prints the medians over the files per
       case and thread count, torch / fastgather and fastgather's % of its
       bound)
"""

import argparse
import math
import os
import random
import re
import statistics
import sys
import time

HEADER = ("| case | threads | engine | ms | bound ms | % of bound | naive x1 ms "
          "| calls | bound GB/s |")

# name, data file, table rows, dim, dtype, mode (None: embedding), ids shape
CASES = [
    ("rec_uniform_sum", "rec_uniform", 1_000_000, 128, "f32", "sum", None),
    ("rec_uniform_mean", "rec_uniform", 1_000_000, 128, "f32", "mean", None),
    ("rec_zipf_sum", "rec_zipf", 1_000_000, 128, "f32", "sum", None),
    ("rec_zipf_mean", "rec_zipf", 1_000_000, 128, "f32", "mean", None),
    ("rec_uniform_bf16_sum", "rec_uniform", 1_000_000, 128, "bf16", "sum", None),
    ("rec_uniform_bf16_mean", "rec_uniform", 1_000_000, 128, "bf16", "mean", None),
    ("rec_zipf_bf16_sum", "rec_zipf", 1_000_000, 128, "bf16", "sum", None),
    ("rec_zipf_bf16_mean", "rec_zipf", 1_000_000, 128, "bf16", "mean", None),
    ("small_sum", "small", 100_000, 64, "f32", "sum", None),
    ("small_mean", "small", 100_000, 64, "f32", "mean", None),
    ("lm_lookup", "lm", 128_000, 4096, "bf16", None, (8, 2048)),
]


def run(args):
    import numpy as np
    import torch
    import torch.nn.functional as F

    core = getattr(np, "_core", None) or np.core
    core.multiarray._set_madvise_hugepage(False)
    rng = random.Random(7)
    gen = torch.Generator().manual_seed(5)
    dtypes = {"f32": torch.float32, "bf16": torch.bfloat16}
    tables = {}

    def table(rows, d, dtype):
        key = (rows, d, dtype)
        if key not in tables:
            tables.clear()
            w = torch.empty(rows, d, dtype=torch.float32)
            if dtype == "f32" or rows * d <= 1 << 28:
                w.uniform_(-1, 1, generator=gen)
                tables[key] = w.to(dtypes[dtype])
            else:
                del w
                w = torch.empty(rows, d, dtype=dtypes[dtype])
                for r in range(0, rows, 8192):
                    w[r:r + 8192] = torch.empty(min(8192, rows - r), d).uniform_(
                        -1, 1, generator=gen).to(dtypes[dtype])
                tables[key] = w
        return tables[key]

    def load(name, ext):
        a = np.fromfile(os.path.join(args.dir, f"{name}.{ext}"), dtype="<i8")
        return torch.from_numpy(a.astype(np.int64)).clone()

    print(f"torch {torch.__version__}, medians of {args.rounds} rounds; "
          "% of bound = bound ms / torch ms")
    print(HEADER)
    print("|---|---|---|---|---|---|---|---|---|")
    for name, data, rows, d, dt, mode, shape in CASES:
        if args.only and not any(o in name for o in args.only.split(",")):
            continue
        weight = table(rows, d, dt)
        ids = load(data, "ids")
        if shape is not None:
            ids = ids.view(*shape)
        offsets = load(data, "offsets") if mode is not None else None
        buf = torch.empty(ids.numel(), d, dtype=weight.dtype)
        flat = ids.reshape(-1)

        def engine(kind, threads):
            def call(n):
                torch.set_num_threads(threads)
                with torch.inference_mode():
                    t = time.perf_counter()
                    for _ in range(n):
                        if kind == "bound":
                            torch.index_select(weight, 0, flat, out=buf)
                        elif mode is None:
                            F.embedding(ids, weight)
                        else:
                            F.embedding_bag(ids, weight, offsets, mode=mode)
                    dt_ = time.perf_counter() - t
                torch.set_num_threads(2)
                return dt_ / n
            return call

        labels = [(k, t) for t in (1, 2) for k in ("torch", "bound")]
        engines = [engine(k, t) for k, t in labels]
        calls = []
        for e in engines:
            e(1)
            calls.append(args.calls or min(200, max(1, math.ceil(0.05 / e(1)))))
        times = [[] for _ in engines]
        order = list(range(len(engines)))
        for _ in range(args.rounds):
            rng.shuffle(order)
            for x in order:
                times[x].append(engines[x](calls[x]))
        med = {lab: statistics.median(ts) * 1e3 for lab, ts in zip(labels, times)}
        with torch.inference_mode():
            torch.set_num_threads(1)
            one = (F.embedding(ids, weight) if mode is None
                   else F.embedding_bag(ids, weight, offsets, mode=mode))
            torch.set_num_threads(2)
            two = (F.embedding(ids, weight) if mode is None
                   else F.embedding_bag(ids, weight, offsets, mode=mode))
        same = torch.equal(one, two)
        nbytes = ids.numel() * d * weight.element_size()
        for t in (1, 2):
            tt, bt = med[("torch", t)], med[("bound", t)]
            k = labels.index(("torch", t))
            print(f"| {name:<18} | {t} | torch | {tt:8.3f} | {bt:8.3f} | {100 * bt / tt:5.0f}% "
                  f"| | {calls[k]} | {nbytes / bt / 1e6:.1f} |")
        print(f"{name}: torch x1 and x2 {'bit-identical' if same else 'DIFFER'}",
              file=sys.stderr)
        sys.stdout.flush()


def merge(files):
    """Median over files of each (case, threads, engine): ms and bound ms."""
    rows = {}
    order = []
    for path in files:
        with open(path) as f:
            for line in f:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) < 5 or not re.fullmatch(r"\d+", cells[1]):
                    continue
                try:
                    ms, bt = float(cells[3]), float(cells[4])
                except ValueError:
                    continue
                key = (cells[0], int(cells[1]))
                if key not in order:
                    order.append(key)
                rows.setdefault(key, {}).setdefault(cells[2], []).append((ms, bt))
    med = statistics.median
    nan = float("nan")
    print("| case | threads | fastgather ms | torch ms | torch / fastgather "
          "| fastgather % of bound | torch % of its bound | runs |")
    print("|---|---|---|---|---|---|---|---|")
    for key in order:
        eng = rows[key]
        fg, th = eng.get("fastgather", []), eng.get("torch", [])
        f = med([m for m, _ in fg]) if fg else nan
        t = med([m for m, _ in th]) if th else nan
        fb = med([b for _, b in fg]) if fg else nan
        tb = med([b for _, b in th]) if th else nan
        print(f"| {key[0]} | {key[1]} | {f:.3f} | {t:.3f} | {t / f:.2f} "
              f"| {100 * fb / f:.0f}% | {100 * tb / t:.0f}% | {len(fg)}+{len(th)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="cases whose name contains one of these words")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=0, help="calls per sample (default: calibrated)")
    ap.add_argument("--dir", default=os.environ.get("EMBBENCH_DIR", "/tmp/embbench"))
    ap.add_argument("--merge", nargs="+", metavar="FILE")
    args = ap.parse_args()
    if args.merge:
        merge(args.merge)
    else:
        run(args)


if __name__ == "__main__":
    main()
