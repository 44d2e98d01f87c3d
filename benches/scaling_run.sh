#!/usr/bin/env bash
# Thread scaling on another machine (it needs python3 with torch, not Rust):
# build here with `cargo build --release --example thread_scaling`, copy the
# repository with target/release/examples/thread_scaling, and run this from
# its root with OUT set to a results folder.
OUT=${OUT:-scaling-out}
mkdir -p "$OUT"
nproc > "$OUT/nproc.txt"
lscpu > "$OUT/lscpu.txt" 2>&1
python3 -c "import torch; print(torch.__version__, torch.get_num_threads())" > "$OUT/torch_version.txt" 2>&1
timeout 200 target/release/examples/thread_scaling 1,2,4,8,16 > "$OUT/rust.md" 2> "$OUT/rust.err"
timeout 250 python3 benches/torch_scaling.py 1,2,4,8,16 > "$OUT/torch.md" 2> "$OUT/torch.err"
cat "$OUT/nproc.txt" "$OUT/torch_version.txt" "$OUT/rust.md" "$OUT/torch.md"
tail -n 3 "$OUT/rust.err" "$OUT/torch.err"
grep -E "Model name|NUMA|L3" "$OUT/lscpu.txt"
