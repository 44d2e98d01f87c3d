#!/usr/bin/env python3
"""Ratio table from the last `cargo bench` run (`gather`, `losses`, `scatter`).

Reads target/criterion/<group>/<engine>/new/{benchmark,estimates}.json (median
point estimates) and prints, per case and thread count: the fastgather median
and throughput, the streaming bound, "% of stream" (= stream time / fastgather
time), memcpy, the reference (timed at 1 thread only; its figure is reused for
the other thread counts) and its ratio to fastgather, and the speedup of all
threads over 1 thread. Engines `fastgather-<isa>` and `plain-loop` (the
latency-bound picks' yardstick; in the scatter groups the sequential loop over
the edges, 1-thread group only) get a row each. The scatter groups' `reset`
engine (the untimed destination reset, timed on its own) gets no row: its
median is in target/criterion/<case>-t1/reset/new/estimates.json.

Usage: python3 benches/summary.py [target/criterion] [--markdown]
"""

import glob
import json
import os
import re
import sys


def load(root):
    """{case: {threads: {engine: (median_ns, bytes)}}}"""
    cases = {}
    for path in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
        with open(path) as f:
            bench = json.load(f)
        est_path = os.path.join(os.path.dirname(path), "estimates.json")
        if not os.path.exists(est_path):
            continue
        with open(est_path) as f:
            median = json.load(f)["median"]["point_estimate"]
        m = re.fullmatch(r"(.+)-t(\d+)", bench["group_id"])
        if not m or not bench.get("function_id"):
            continue
        case, threads = m.group(1), int(m.group(2))
        tp = bench.get("throughput") or {}
        nbytes = tp.get("Bytes") or tp.get("BytesDecimal")
        cases.setdefault(case, {}).setdefault(threads, {})[bench["function_id"]] = (median, nbytes)
    return cases


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(nbytes, ns):
    if not nbytes or not ns:
        return "-"
    return f"{nbytes / ns * 1e9 / 2**30:.2f}"


# Cases in the order of the bench file (others follow, sorted).
ORDER = [
    "seed_tiny", "ce_pick", "last_perm", "last_perm_i32", "last_topk", "dim0_random",
    "expanded_tokens", "u8_last", "f16_last", "last_transposed_src", "strided_transposed_idx",
    "general_transposed_out",
    "mid3d_f64",
    "last_sliced_f64", "last_16b",
    "ce_fwd", "ce_bwd", "scatter_add_last", "scatter_add_dim0",
    "sr_sum_random", "sr_mean_random", "sr_amax_random", "sr_sum_sorted", "index_add",
]


def rows(cases):
    header = ["case", "thr", "engine", "median", "GiB/s", "stream", "% of stream",
              "memcpy", "reference", "ref / fg", "t1 / tN"]
    out = [header]
    names = [c for c in ORDER if c in cases] + sorted(c for c in cases if c not in ORDER)
    for case in names:
        by_t = cases[case]
        ref = by_t.get(1, {}).get("reference", (None, None))[0]
        for t in sorted(by_t):
            eng = by_t[t]
            stream = eng.get("stream", (None, None))[0]
            memcpy = eng.get("memcpy", (None, None))[0]
            fgs = [e for e in eng if e == "fastgather"]
            fgs += sorted(e for e in eng if e.startswith("fastgather-"))
            fgs += [e for e in eng if e == "plain-loop"]
            for e in fgs:
                ns, nbytes = eng[e]
                one = by_t.get(1, {}).get(e, (None, None))[0]
                out.append([
                    case, str(t), e, fmt_time(ns), fmt_rate(nbytes, ns), fmt_time(stream),
                    f"{100 * stream / ns:.1f}%" if stream else "-",
                    fmt_time(memcpy), fmt_time(ref),
                    f"{ref / ns:.1f}x" if ref else "-",
                    f"{one / ns:.2f}x" if one and t != 1 else "",
                ])
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    root = args[0] if args else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
    cases = load(root)
    if not cases:
        sys.exit(f"no criterion results under {root}; run `cargo bench --bench gather` (or losses, scatter) first")
    table = rows(cases)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for k, r in enumerate(table):
        if markdown:
            print("| " + " | ".join(r) + " |")
            if k == 0:
                print("|" + "|".join("---" for _ in r) + "|")
        else:
            print("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(r, widths))))


if __name__ == "__main__":
    main()
