#!/usr/bin/env bash
# bench/peers/tokio/build.sh: build the Tokio peer of troupe's side-by-side
# benchmark.
#   bench/peers/tokio/build.sh OUT_DIR
# Installs Debian 12's cargo, rustc and librust-tokio-dev (Tokio 1.24, which
# provides the rt, rt-multi-thread and sync features) when missing, then builds
# src/main.rs OFFLINE with Debian's /usr/bin/cargo and /usr/bin/rustc against
# the packaged crates in /usr/share/cargo/registry (cargo source replacement),
# in release mode, entirely under OUT_DIR (sources copied to OUT_DIR/src,
# CARGO_HOME=OUT_DIR/cargo-home, CARGO_TARGET_DIR=OUT_DIR/target).
# Exit 0 when built; prints "SKIP tokio: <reason>" and exits 3 when it cannot
# be installed or built. Idempotent; quick when already built.
set -uo pipefail

skip() { echo "SKIP tokio: $*"; exit 3; }

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1" || skip "cannot create $1"
out=$(cd "$1" && pwd)

registry=/usr/share/cargo/registry
have_all() {
    [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] &&
        compgen -G "$registry/tokio-1.*" > /dev/null
}

if ! have_all; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
        sudo=(sudo -n)
    else
        skip "cargo/rustc/librust-tokio-dev missing and not root (no passwordless sudo)"
    fi
    apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
    log="$out/apt.log"
    "${apt[@]}" update -qq > "$log" 2>&1 || true
    "${apt[@]}" install -y -qq cargo rustc librust-tokio-dev >> "$log" 2>&1 ||
        skip "apt-get install cargo rustc librust-tokio-dev failed (see $log)"
    have_all || skip "cargo, rustc or the tokio crate still missing after apt-get install"
fi

# Sources go to OUT_DIR/src (cargo writes Cargo.lock beside Cargo.toml);
# copy only what changed, preserving mtimes so cargo sees no change.
mkdir -p "$out/src/src" "$out/cargo-home"
for f in Cargo.toml src/main.rs; do
    cmp -s "$here/$f" "$out/src/$f" || cp -p "$here/$f" "$out/src/$f" || skip "cannot copy $f"
done
cat > "$out/cargo-home/config.toml.new" <<CFG
# Written by bench/peers/tokio/build.sh: Debian's packaged crates, offline.
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$registry"

[net]
offline = true
CFG
if cmp -s "$out/cargo-home/config.toml.new" "$out/cargo-home/config.toml"; then
    rm -f "$out/cargo-home/config.toml.new"
else
    mv "$out/cargo-home/config.toml.new" "$out/cargo-home/config.toml"
fi

# Debian's toolchain explicitly, not the rustup one on PATH.
export PATH="/usr/bin:$PATH"
export CARGO_HOME="$out/cargo-home" CARGO_TARGET_DIR="$out/target"
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_TARGET CARGO_ENCODED_RUSTFLAGS
if ! /usr/bin/cargo build --release --offline -j 2 --manifest-path "$out/src/Cargo.toml" \
        > "$out/cargo.log" 2>&1; then
    tail -n 20 "$out/cargo.log" >&2
    skip "cargo build failed (see $out/cargo.log)"
fi
[ -x "$out/target/release/tokio-peer" ] || skip "no binary after cargo build"

tokio_v=$(awk '/^name = "tokio"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$out/src/Cargo.lock")
rustc_v=$(/usr/bin/rustc --version | awk '{print $2}')
echo "Tokio ${tokio_v:-unknown} (rustc ${rustc_v:-unknown})" > "$out/version.txt"
exit 0
