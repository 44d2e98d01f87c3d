#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target in fuzz/ (or the targets named as arguments)
# for FUZZ_SECONDS each (default 60), one after another, under AddressSanitizer
# (cargo fuzz's default), starting from the committed seeds in fuzz/seeds/<target>
# plus whatever fuzz/corpus/<target> already holds. Exits non-zero if any target
# finds a crash; the inputs are left in fuzz/artifacts/<target>/ and printed as
# the case they decode to.
#
#   bash .ci/fuzz.sh                       # all targets, 60 s each
#   FUZZ_SECONDS=600 bash .ci/fuzz.sh views
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"
FUZZ_DIR=fuzz
DICT="$FUZZ_DIR/gather.dict"

if ! cargo "+$TOOLCHAIN" --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing the $TOOLCHAIN toolchain" >&2
  rustup toolchain install "$TOOLCHAIN" --profile minimal || {
    echo "fuzz.sh: the $TOOLCHAIN toolchain is missing and could not be installed" >&2
    exit 1
  }
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

fuzz() { cargo "+$TOOLCHAIN" fuzz "$@"; }

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(fuzz list --fuzz-dir "$FUZZ_DIR")
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi

# Build everything first, so a compile error fails fast and before any fuzzing.
fuzz build --fuzz-dir "$FUZZ_DIR"

failed=()
for t in "${targets[@]}"; do
  corpus="$FUZZ_DIR/corpus/$t"
  artifacts="$FUZZ_DIR/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$FUZZ_DIR/seeds/$t" ]; then
    cp "$FUZZ_DIR/seeds/$t"/* "$corpus"/
  fi
  before=$(find "$artifacts" -type f | sort)
  echo "=== fuzz $t for ${FUZZ_SECONDS}s (corpus: $(find "$corpus" -type f | wc -l) inputs)"
  status=0
  fuzz run --fuzz-dir "$FUZZ_DIR" "$t" "$corpus" -- \
    -max_total_time="$FUZZ_SECONDS" -dict="$DICT" -timeout=60 -print_final_stats=1 \
    || status=$?
  new=$(comm -13 <(echo "$before") <(find "$artifacts" -type f | sort) || true)
  if [ "$status" -ne 0 ] || [ -n "$new" ]; then
    failed+=("$t")
    echo "=== $t: FAILED (exit $status)"
    for f in $new; do
      echo "--- $f decodes to:"
      fuzz fmt --fuzz-dir "$FUZZ_DIR" "$t" "$f" 2>&1 | sed -n '/^Output of/,$p' || true
      echo "--- reproduce: cargo +$TOOLCHAIN fuzz run --fuzz-dir $FUZZ_DIR $t $f"
    done
  else
    echo "=== $t: ok (corpus now $(find "$corpus" -type f | wc -l) inputs)"
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz.sh: crashes found in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${FUZZ_SECONDS}s each, no crashes"
