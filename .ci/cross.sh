#!/usr/bin/env bash
# The crate on two more targets, with Debian's Rust (rustc-web), whose
# packages carry the standard libraries that rustup cannot fetch here:
#   - aarch64-unknown-linux-gnu: clippy with -D warnings on every target, then
#     the whole test suite (doc tests included) under qemu-user emulation, so
#     the NEON path runs every path sweep, forced and by default (clippy on
#     the workspace type-checks the benchmarks that benches/isa_report.sh
#     runs on aarch64 machines; building them too would cost 2.5 minutes);
#   - i686-unknown-linux-gnu: clippy, then the whole suite where `usize` and
#     `isize` are 32 bits, so every overflow check of views, plans and offsets
#     runs there (natively where the kernel runs 32-bit programs, else under
#     qemu-i386).
# Test binaries for emulation are linked statically: under qemu-user here, a
# dynamically linked program hangs when it starts a thread.
set -euo pipefail
cd "$(dirname "$0")/.."

step() {
  echo
  echo "== $* (at ${SECONDS}s)"
}

step "install Debian's Rust with the aarch64 and i686 standard libraries, the cross linkers and qemu-user"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
packages=(
  rustc-web cargo-web rust-web-clippy
  libstd-rust-web-dev:arm64 libstd-rust-web-dev:i386
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  gcc-i686-linux-gnu libc6-dev-i386-cross
  qemu-user-static
)
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  $sudo dpkg --add-architecture arm64
  $sudo dpkg --add-architecture i386
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# Debian's cargo, rustc, rustdoc and clippy come first; the rustup toolchain
# (first on PATH otherwise) has no standard library for these targets.
debian_bin=$(dirname "$(dpkg -L cargo-web | grep -m1 '/bin/cargo$')")
export PATH="$debian_bin:$PATH"
export RUSTC="$debian_bin/rustc" RUSTDOC="$debian_bin/rustdoc"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/cross"
export CARGO_TERM_COLOR=never
cargo --version
rustc --version

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static
export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_LINKER=i686-linux-gnu-gcc

probe=$(mktemp -d)
printf 'int main(void) { return 0; }\n' >"$probe/probe.c"
i686-linux-gnu-gcc "$probe/probe.c" -o "$probe/probe"
if "$probe/probe" 2>/dev/null; then
  echo "i686 programs run natively"
else
  echo "i686 programs run under qemu-i386"
  export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
  export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_RUNNER=qemu-i386-static
fi
rm -rf "$probe"

for target in aarch64-unknown-linux-gnu i686-unknown-linux-gnu; do
  step "$target: clippy on every target of the workspace, all features"
  cargo clippy --workspace --all-targets --all-features --target "$target" -- -D warnings
  step "$target: clippy, no default features"
  cargo clippy -p fastgather --all-targets --no-default-features --target "$target" -- -D warnings
  step "$target: the test suite, all features (doc tests included), a tenth of the native proptest cases"
  FASTGATHER_PROPTEST_DIVISOR=10 cargo test -p fastgather --all-features --target "$target"
done

echo
echo "== .ci/cross.sh: both targets passed in ${SECONDS}s"
