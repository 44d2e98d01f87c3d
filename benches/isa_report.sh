#!/usr/bin/env bash
# One command for a machine nobody here has measured (an aarch64 laptop or
# server, say): every instruction-set path side by side, then the criterion
# cases that decide the default path, written to one report to send back.
#
#   bash benches/isa_report.sh            # about 10 minutes
#   FASTGATHER_BENCH_CASES=last_perm bash benches/isa_report.sh   # fewer criterion cases
#
# The report is target/isa-report/report.txt; criterion's own reports stay in
# target/criterion/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/isa-report
mkdir -p "$out"
report=$out/report.txt
cases=${FASTGATHER_BENCH_CASES:-last_perm,last_perm_i32,ce_pick,last_topk,dim0_random,u8_last,f16_last,last_transposed_src,strided_transposed_idx}

{
  echo "# fastgather path report, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(uname -m), $(nproc) threads"
  grep -m1 -iE 'model name|cpu part' /proc/cpuinfo 2>/dev/null || true
  sysctl -n machdep.cpu.brand_string 2>/dev/null || true
  rustc --version
  git rev-parse --short HEAD 2>/dev/null || true
} >"$report"

echo "== every path, interleaved (examples/isa_compare)"
cargo run --release --example isa_compare | tee -a "$report"

echo "== the criterion cases (benches/gather.rs): $cases"
FASTGATHER_BENCH_CASES=$cases cargo bench --bench gather 2>&1 |
  grep -E '^\[|time:|thrpt:|^[a-z_0-9]+-t[0-9]+/' | tee -a "$report"

echo
echo "report: $report"
