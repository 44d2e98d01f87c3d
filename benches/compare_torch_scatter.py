#!/usr/bin/env python3
"""torch's side of examples/scatter_graph.rs (issue 16; optional, not run by CI).

Same cases, same numbers (the counter-based splitmix64 of the example,
computed with numpy), same table:
  * <reduce>_<order>: dest[100_000, 64].scatter_reduce_(0, idx.view(-1, 1)
    .expand(1_000_000, 64), src[1_000_000, 64], reduce, include_self), reduce
    sum, mean, amax with include_self=True, mean with False ("meanx"); the
    1-d index random or sorted;
  * index_add: dest[10_000, 128].index_add_(0, idx[100_000], source[100_000, 128]).
Engines, at torch.set_num_threads(1) and (2):
  * torch: the in-place op on a destination reset from a saved copy before
    each call (the reset is not timed, as in the example);
  * stream: one pass over the same bytes with torch ops on the same threads
    (idx.sum(), src.sum(), dest.mul_(1.0) on the reset destination).
Each round runs the engines in a fresh random order; each timed call follows
an untimed one; medians of ROUNDS (default 5) rounds. Tensors are allocated by
torch (4 KiB pages, as the Rust side's heap; numpy's huge-page advice is off).

Usage:
  /root/venv-torch/bin/python benches/compare_torch_scatter.py [--only a,b] [--rounds 5]
  python3 benches/compare_torch_scatter.py --merge fg1.txt t1.txt fg2.txt t2.txt ...
      (tables printed by either side; prints the medians over the files per
       case, thread count and engine, and fastgather's speedup over torch)
"""

import argparse
import random
import re
import statistics
import sys
import time

GOLDEN = 0x9E3779B97F4A7C15
HEADER = ("| case | threads | engine | ms | stream ms | % of stream | plain x1 ms "
          "| reset ms | stream GB/s |")

CASES = [
    # name, reduce, include_self, sorted, nodes, edges, width, seeds
    ("sum_random", "sum", True, False, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("sum_sorted", "sum", True, True, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("mean_random", "mean", True, False, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("mean_sorted", "mean", True, True, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("meanx_random", "mean", False, False, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("meanx_sorted", "mean", False, True, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("amax_random", "amax", True, False, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("amax_sorted", "amax", True, True, 100_000, 1_000_000, 64, (1, 2, 3)),
    ("index_add", None, True, False, 10_000, 100_000, 128, (11, 12, 13)),
]


def draws(np, seed, n):
    """mix(seed + (i + 1) * golden) for i < n, as the example's `draw`."""
    z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN) + np.uint64(seed)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def floats(np, seed, n):
    return ((draws(np, seed, n) >> np.uint64(40)).astype(np.float32)
            / np.float32(1 << 23) - np.float32(1.0))


def run(args):
    import numpy as np
    import torch

    core = getattr(np, "_core", None) or np.core
    core.multiarray._set_madvise_hugepage(False)
    rng = random.Random(7)
    print(f"torch {torch.__version__}, medians of {args.rounds} rounds; "
          "% of stream = stream ms / engine ms")
    print(HEADER)
    print("|---|---|---|---|---|---|---|---|---|")
    for name, reduce, include_self, sorted_, n, e, w, (si, ss, sd) in CASES:
        if args.only and not any(o in name for o in args.only.split(",")):
            continue
        idx = (draws(np, si, e) % np.uint64(n)).astype(np.int64)
        if sorted_:
            idx = np.sort(idx)
        idx = torch.from_numpy(idx).clone()
        src = torch.from_numpy(floats(np, ss, e * w)).clone().view(e, w)
        saved = torch.from_numpy(floats(np, sd, n * w)).clone().view(n, w)
        expanded = idx.view(-1, 1).expand(e, w)
        nbytes = idx.numel() * 8 + src.numel() * 4 + 2 * saved.numel() * 4
        dests = {}

        def engine(kind, threads):
            dest = dests.setdefault((kind, threads), saved.clone())

            def call():
                dest.copy_(saved)
                torch.set_num_threads(threads)
                t = time.perf_counter()
                if kind == "torch":
                    if reduce is None:
                        dest.index_add_(0, idx, src)
                    else:
                        dest.scatter_reduce_(0, expanded, src, reduce,
                                             include_self=include_self)
                else:
                    idx.sum()
                    src.sum()
                    dest.mul_(1.0)
                dt = time.perf_counter() - t
                torch.set_num_threads(2)
                return dt
            return call

        labels = [(k, t) for t in (1, 2) for k in ("torch", "stream")]
        engines = [engine(k, t) for k, t in labels]
        times = [[] for _ in engines]
        order = list(range(len(engines)))
        for _ in range(args.rounds):
            rng.shuffle(order)
            for x in order:
                engines[x]()
                times[x].append(engines[x]())
        med = {lab: statistics.median(ts) * 1e3 for lab, ts in zip(labels, times)}
        same = torch.equal(dests[("torch", 1)], dests[("torch", 2)])
        for t in (1, 2):
            tt, st = med[("torch", t)], med[("stream", t)]
            print(f"| {name:<12} | {t} | torch | {tt:9.2f} | {st:8.2f} | {100 * st / tt:5.0f}% "
                  f"| | | {nbytes / st / 1e6:.1f} |")
        print(f"{name}: torch x1 and x2 {'bit-identical' if same else 'DIFFER'}",
              file=sys.stderr)
        sys.stdout.flush()


def merge(files):
    """Median over files of each (case, threads, engine): ms and stream ms."""
    rows = {}
    order = []
    for path in files:
        with open(path) as f:
            for line in f:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) < 5 or not re.fullmatch(r"\d+", cells[1]):
                    continue
                try:
                    ms, st = float(cells[3]), float(cells[4])
                except ValueError:
                    continue
                key = (cells[0], int(cells[1]))
                if key not in order:
                    order.append(key)
                rows.setdefault(key, {}).setdefault(cells[2], []).append((ms, st))
    med = statistics.median
    print("| case | threads | fastgather ms | torch ms | torch / fastgather "
          "| fastgather % of stream | torch % of stream | runs |")
    print("|---|---|---|---|---|---|---|---|")
    for key in order:
        eng = rows[key]
        fg, th = eng.get("fastgather", []), eng.get("torch", [])
        f = med([m for m, _ in fg]) if fg else float("nan")
        t = med([m for m, _ in th]) if th else float("nan")
        fs = med([s for _, s in fg]) if fg else float("nan")
        ts = med([s for _, s in th]) if th else float("nan")
        print(f"| {key[0]} | {key[1]} | {f:.2f} | {t:.2f} | {t / f:.2f} "
              f"| {100 * fs / f:.0f}% | {100 * ts / t:.0f}% | {len(fg)}+{len(th)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="cases whose name contains one of these words")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--merge", nargs="+", metavar="FILE")
    args = ap.parse_args()
    if args.merge:
        merge(args.merge)
    else:
        run(args)


if __name__ == "__main__":
    main()
