#!/usr/bin/env bash
# Builds crates/xts (XTS-AES-256) to wasm and commits-in-place the artifact the app loads:
#   crates/xts/prebuilt/xts.wasm          the module (the only wasm the TypeScript side loads)
#   crates/xts/prebuilt/xts.wasm.sha256   sha256 of the module
#   crates/xts/prebuilt/sources.sha256    sha256 of every source file it was built from, and the toolchain
#
#   scripts/build-wasm.sh          build and update crates/xts/prebuilt/
#   scripts/build-wasm.sh --check  rebuild from a copy of the sources in a temporary directory and
#                                  fail if the bytes (or the source hash) differ from what is committed
#
# Toolchain: Debian's rustc/cargo with the wasm32 std (apt-get install rustc cargo
# libstd-rust-dev-wasm32), or any cargo with the wasm32-unknown-unknown target; see DEVELOPERS.md.
# The build is reproducible: no debug info, symbols stripped, one codegen unit, and source paths
# remapped so the directory the crate sits in does not reach the binary.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
crate="$root/crates/xts"
out="$crate/prebuilt"
mode="${1:-build}"

# Debian's cargo first: rustup's cargo usually lacks the wasm32 target.
if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ]; then
  CARGO=/usr/bin/cargo
  export PATH="/usr/bin:$PATH"
else
  CARGO="$(command -v cargo || true)"
fi
if [ -z "$CARGO" ]; then
  echo "build-wasm: no cargo found (apt-get install rustc cargo libstd-rust-dev-wasm32)" >&2
  exit 2
fi

# The files the module is built from, in a fixed order, hashed with their paths.
source_hash() {
  (cd "$1" && find Cargo.toml Cargo.lock .cargo src -type f | LC_ALL=C sort | while read -r f; do
    printf '%s  %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$f"
  done) | sha256sum | cut -d' ' -f1
}

build() { # build <crate dir> -> prints the path of the built module
  local dir="$1"
  (
    cd "$dir"
    # RUSTFLAGS replaces the config's rustflags, so it repeats +simd128.
    RUSTFLAGS="-C target-feature=+simd128 --remap-path-prefix=$dir=/xts --remap-path-prefix=$HOME=/home" \
      CARGO_TARGET_DIR="$dir/target" \
      "$CARGO" build --release --locked --offline --target wasm32-unknown-unknown -q >&2
  )
  echo "$dir/target/wasm32-unknown-unknown/release/xts.wasm"
}

toolchain="$("$CARGO" --version) / $(rustc --version)"

case "$mode" in
  build)
    wasm="$(build "$crate")"
    mkdir -p "$out"
    install -m 644 "$wasm" "$out/xts.wasm"
    (cd "$out" && sha256sum xts.wasm > xts.wasm.sha256)
    printf '%s  crates/xts sources (Cargo.toml Cargo.lock .cargo src)\n# built with %s\n' "$(source_hash "$crate")" "$toolchain" > "$out/sources.sha256"
    echo "build-wasm: wrote $out/xts.wasm ($(stat -c %s "$out/xts.wasm") bytes, $(cut -d' ' -f1 "$out/xts.wasm.sha256"))"
    ;;
  --check)
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/xts"
    (cd "$crate" && cp -r Cargo.toml Cargo.lock .cargo src "$tmp/xts/")
    wasm="$(build "$tmp/xts")"
    status=0
    if ! cmp -s "$wasm" "$out/xts.wasm"; then
      echo "build-wasm --check: a fresh build differs from crates/xts/prebuilt/xts.wasm (run npm run build:wasm and commit)" >&2
      status=1
    fi
    want="$(head -n 1 "$out/sources.sha256" | cut -d' ' -f1)"
    if [ "$(source_hash "$crate")" != "$want" ]; then
      echo "build-wasm --check: crates/xts sources changed since prebuilt/xts.wasm was built (run npm run build:wasm and commit)" >&2
      status=1
    fi
    if ! (cd "$out" && sha256sum --quiet -c xts.wasm.sha256); then status=1; fi
    [ "$status" -eq 0 ] && echo "build-wasm --check: prebuilt/xts.wasm matches a fresh build ($toolchain)"
    exit "$status"
    ;;
  *)
    echo "usage: scripts/build-wasm.sh [--check]" >&2
    exit 2
    ;;
esac
