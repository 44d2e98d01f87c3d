#!/usr/bin/env python3
"""Side-by-side criterion run of two checkouts, for a "no regression" check.

Builds the `gather` and `losses` bench binaries of an old and a new checkout
(each in its own target dir), then times the `fastgather` engine of every case
group (`<case>-t<threads>`) on both, alternating old and new (ABAB...) so that a
slow spell on a shared machine lands on both sides alike. Prints a markdown
table: each side's median over the rounds, new/old, and each side's spread
across rounds as the noise to judge the ratio against.

    python3 benches/ab.py                          # every case, 2 rounds
    python3 benches/ab.py --cases last_perm,ce_fwd --rounds 3 --out ab.md

Standard library only.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCHES = ("gather", "losses")
ENGINE = "fastgather"
# Criterion's summary line: `time:   [1.2 ms 1.3 ms 1.4 ms]` (low, estimate, high).
TIME_RE = re.compile(
    r"time:\s+\[\s*([\d.]+)\s*(\S+)\s+([\d.]+)\s*(\S+)\s+([\d.]+)\s*(\S+)\s*\]"
)
UNITS_NS = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9}
GROUP_RE = re.compile(r"^(?P<group>(?P<case>.+)-t(?P<threads>\d+))/(?P<engine>[^:]+): benchmark$")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def default_target(checkout):
    """A checkout's target dir: $CARGO_TARGET_DIR for the repo this script sits
    in (where its owner builds), else a sibling `target-<name>`, so that an old
    worktree gets no build output inside it."""
    here = Path(__file__).resolve().parent.parent
    if checkout == here and os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]).resolve()
    return checkout.parent / f"target-{checkout.name}"


def build(checkout, target):
    """Builds the bench binaries; returns {bench name: executable path}."""
    log(f"building benches of {checkout} in {target}")
    cmd = ["cargo", "bench", "--no-run", "--message-format=json"]
    for b in BENCHES:
        cmd += ["--bench", b]
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    res = subprocess.run(cmd, cwd=checkout, env=env, stdout=subprocess.PIPE, text=True)
    if res.returncode != 0:
        sys.exit(f"cargo bench --no-run failed in {checkout}")
    exes = {}
    for line in res.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        tgt = msg.get("target", {})
        if (
            msg.get("reason") == "compiler-artifact"
            and "bench" in tgt.get("kind", [])
            and tgt.get("name") in BENCHES
            and msg.get("executable")
        ):
            exes[tgt["name"]] = msg["executable"]
    missing = [b for b in BENCHES if b not in exes]
    if missing:
        sys.exit(f"no executable for benches {missing} in {checkout}")
    return exes


def bench_env(cases, home):
    env = dict(os.environ, CRITERION_HOME=str(home))
    if cases:
        env["FASTGATHER_BENCH_CASES"] = ",".join(cases)
    else:
        env.pop("FASTGATHER_BENCH_CASES", None)
    return env


def list_groups(exe, checkout, cases, home):
    """The case groups with a `fastgather` engine that one bench binary runs,
    in its order, as (group, case, threads). Listing runs each selected case's
    setup (but times nothing)."""
    res = subprocess.run(
        [exe, "--bench", "--list", f"/{ENGINE}$"],
        cwd=checkout,
        env=bench_env(cases, home),
        stdout=subprocess.PIPE,
        text=True,
    )
    if res.returncode != 0:
        sys.exit(f"{exe} --list failed")
    groups = []
    for line in res.stdout.splitlines():
        m = GROUP_RE.match(line.strip())
        if m and m["engine"] == ENGINE:
            groups.append((m["group"], m["case"], int(m["threads"])))
    return groups


def time_once(exe, checkout, group, case, home, args):
    """One criterion run of `<group>/fastgather`; its estimate in ns."""
    cmd = [
        exe,
        "--bench",
        "--noplot",
        "--discard-baseline",
        "--warm-up-time",
        str(args.warm_up),
        "--measurement-time",
        str(args.measurement),
        f"^{re.escape(group)}/{ENGINE}$",
    ]
    res = subprocess.run(
        cmd,
        cwd=checkout,
        env=bench_env([case], home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    m = TIME_RE.search(res.stdout)
    if res.returncode != 0 or not m:
        sys.exit(f"no time for {group} from {exe}:\n{res.stdout[-2000:]}")
    value, unit = float(m.group(3)), m.group(4)
    if unit not in UNITS_NS:
        sys.exit(f"unknown unit {unit!r} in {m.group(0)!r}")
    return value * UNITS_NS[unit]


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def spread(times):
    """(max - min) / median across rounds, as a percentage."""
    return 100.0 * (max(times) - min(times)) / statistics.median(times)


def main():
    here = Path(__file__).resolve().parent.parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", type=Path, default=Path("/work/oldmain"), help="old checkout")
    p.add_argument("--new", type=Path, default=here, help="new checkout (default: this repo)")
    p.add_argument("--old-target", type=Path, help="old target dir (default: sibling target-<name>)")
    p.add_argument("--new-target", type=Path, help="new target dir (default: $CARGO_TARGET_DIR or sibling)")
    p.add_argument("--cases", help="comma-separated case names (default: every case)")
    p.add_argument("--rounds", type=int, default=2, help="ABAB rounds (default 2)")
    p.add_argument("--warm-up", type=float, default=1.0, help="criterion warm-up seconds")
    p.add_argument("--measurement", type=float, default=2.0, help="criterion measurement seconds")
    p.add_argument("--out", type=Path, help="also write the table to this file")
    args = p.parse_args()
    if args.rounds < 1:
        sys.exit("--rounds must be at least 1")

    old, new = args.old.resolve(), args.new.resolve()
    old_target = (args.old_target or default_target(old)).resolve()
    new_target = (args.new_target or default_target(new)).resolve()
    if old != new and old_target == new_target:
        sys.exit("old and new need different target dirs")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()] if args.cases else []

    old_exes = build(old, old_target)
    new_exes = old_exes if (old, old_target) == (new, new_target) else build(new, new_target)

    with tempfile.TemporaryDirectory(prefix="ab-criterion-") as tmp:
        homes = {"old": Path(tmp, "old"), "new": Path(tmp, "new")}
        # The new checkout decides which groups exist; a group the old one lacks is
        # reported as missing there.
        plan = []
        for bench in BENCHES:
            new_groups = list_groups(new_exes[bench], new, cases, homes["new"])
            if old_exes is new_exes:
                old_groups = {g for g, _, _ in new_groups}
            else:
                listed = list_groups(old_exes[bench], old, cases, homes["old"])
                old_groups = {g for g, _, _ in listed}
            for group, case, threads in new_groups:
                plan.append((bench, group, case, threads, group in old_groups))
        if not plan:
            sys.exit("no case groups selected")

        rows = []
        for bench, group, case, threads, in_old in plan:
            times = {"old": [], "new": []}
            for r in range(args.rounds):
                for side, checkout, exes in (("old", old, old_exes), ("new", new, new_exes)):
                    if side == "old" and not in_old:
                        continue
                    t = time_once(exes[bench], checkout, group, case, homes[side], args)
                    times[side].append(t)
                    log(f"{group} round {r + 1} {side}: {fmt_time(t)}")
            rows.append((case, threads, times))

    lines = [
        f"old = {old}, new = {new}; `{ENGINE}` engine, criterion estimate per run, "
        f"{args.rounds} round(s) ABAB, warm-up {args.warm_up} s, measurement {args.measurement} s.",
        "Median over rounds; noise = (max - min) / median across rounds.",
        "",
        "| case | threads | old median | new median | new/old | old noise | new noise |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case, threads, times in rows:
        n = statistics.median(times["new"])
        if times["old"]:
            o = statistics.median(times["old"])
            old_cols = (fmt_time(o), f"{n / o:.3f}", f"{spread(times['old']):.1f}%")
        else:
            old_cols = ("missing", "", "")
        lines.append(
            f"| {case} | {threads} | {old_cols[0]} | {fmt_time(n)} | {old_cols[1]} "
            f"| {old_cols[2]} | {spread(times['new']):.1f}% |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
