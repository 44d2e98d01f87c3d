#!/usr/bin/env bash
# Feature combinations, docs, packaging and the downstream crate.
#
# .ci/run lints and runs the whole suite once with the default features
# (`cargo clippy --all-targets`, `cargo test`); this script covers what that
# leaves out, within the CI's time on 2 cores (about 15 minutes warm):
#   - every other feature combination is linted and type-checked on all
#     targets (no default features, half, ndarray, all features), and runs the
#     library's unit tests plus the test files that touch what it changes;
#   - the ndarray doc tests, the newcomer examples, and `cargo doc` with every
#     feature and without warnings;
#   - `cargo package`: the allowlist (no fuzz corpora, bench output or CI files),
#     the packaged crate's build, and its tests run from the unpacked tarball;
#   - the downstream crate (tests/downstream), which uses the public API as a
#     user would, so an API break fails here.
# Every cargo command names the package: the benches member depends on
# fastgather with its default features, which would otherwise switch rayon
# back on in the no-default-features build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}

export CARGO_TERM_COLOR=never

step() {
  echo
  echo "== $* (at ${SECONDS}s)"
}

step "no default features (no rayon): clippy on all targets"
cargo clippy -p fastgather --all-targets --no-default-features -- -D warnings
step "no default features: library, ops and loss tests, single-threaded"
cargo test -p fastgather --no-default-features --lib --test ops --test loss

# half and ndarray alone: each feature builds without the other (their tests
# run once below, with every feature on; running them per feature cost four
# minutes of CI for no path that differs).
step "half alone, ndarray alone: the library and their tests type-check"
cargo check -p fastgather --features half --lib --test half
cargo check -p fastgather --features ndarray --lib --test ndarray

step "all features: clippy on all targets"
cargo clippy -p fastgather --all-targets --all-features -- -D warnings
step "all features: library, feature tests, and the doc tests of the ndarray module"
# (.ci/run's `cargo test` runs every other doc test; running all 100+ again
# here would cost a minute and a half.)
cargo test -p fastgather --all-features --lib --test half --test ndarray --test ops
cargo test -p fastgather --all-features --doc ndarray

step "all features: the newcomer examples run"
cargo run -p fastgather --all-features --profile test --example strided_views >/dev/null
cargo run -p fastgather --all-features --profile test --example ndarray_interop >/dev/null
cargo run -p fastgather --all-features --profile test --example custom_pool >/dev/null

step "cargo doc --no-deps --all-features, warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc -p fastgather --no-deps --all-features

step "cargo package: contents"
list=$(cargo package -p fastgather --list --allow-dirty)
echo "$list" | sed 's/^/  /'
bad=$(echo "$list" | grep -E '^(fuzz/|\.ci/|target/|tests/downstream/|benches/.*\.(py|md|json|csv)$)' || true)
if [ -n "$bad" ]; then
  echo "package includes files it should leave out:" >&2
  echo "$bad" >&2
  exit 1
fi
for f in Cargo.toml src/lib.rs src/nd.rs README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE \
         tests/common/mod.rs examples/strided_views.rs; do
  echo "$list" | grep -qx "$f" || { echo "package lacks $f" >&2; exit 1; }
done

step "cargo package: build the tarball (cargo verifies it compiles)"
cargo package -p fastgather --allow-dirty
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
pkg="$target/package/fastgather-$version"
step "tests from the unpacked tarball ($pkg)"
# Its own copy of Cargo.lock pins the same versions; the shared target dir
# reuses the compiled dependencies.
(cd "$pkg" && CARGO_TARGET_DIR="$target" cargo test --all-features --test half)

step "downstream crate (tests/downstream)"
CARGO_TARGET_DIR="$target" cargo test --manifest-path tests/downstream/Cargo.toml

echo
echo "features.sh: all steps passed in ${SECONDS}s"
