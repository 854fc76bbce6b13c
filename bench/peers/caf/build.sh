#!/usr/bin/env bash
# bench/peers/caf/build.sh: builds the CAF peer of troupe's side-by-side
# benchmark (bench.cpp) into OUT_DIR/caf_bench.
#   bench/peers/caf/build.sh OUT_DIR
# Installs Debian 12's libcaf-dev (CAF 0.17.6) and g++ with apt-get when
# missing (as root, or through sudo). Prints "SKIP caf: <reason>" and exits 3
# if CAF cannot be installed or the peer cannot be built. Rebuilds only when
# bench.cpp or this script is newer than the binary.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
src_dir=$(cd "$(dirname "$0")" && pwd)
out_dir=$1
mkdir -p "$out_dir" || { echo "SKIP caf: cannot create $out_dir"; exit 3; }
out_dir=$(cd "$out_dir" && pwd)
exe="$out_dir/caf_bench"

skip() { echo "SKIP caf: $*"; exit 3; }

have_caf() {
    [ -f /usr/include/caf/all.hpp ] && command -v g++ >/dev/null 2>&1 &&
        { [ -e /usr/lib/x86_64-linux-gnu/libcaf_core.so ] ||
          ls /usr/lib/*/libcaf_core.so >/dev/null 2>&1 ||
          [ -e /usr/lib/libcaf_core.so ]; }
}

if ! have_caf; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo_cmd=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd=(sudo -n)
    else
        skip "libcaf-dev/g++ missing and not root (no passwordless sudo)"
    fi
    command -v apt-get >/dev/null 2>&1 || skip "libcaf-dev missing and no apt-get"
    export DEBIAN_FRONTEND=noninteractive
    pkgs=(libcaf-dev g++)
    if ! "${sudo_cmd[@]}" apt-get install -y -qq "${pkgs[@]}" >/dev/null 2>&1; then
        "${sudo_cmd[@]}" apt-get update -qq >/dev/null 2>&1 ||
            skip "apt-get update failed"
        "${sudo_cmd[@]}" apt-get install -y -qq "${pkgs[@]}" >/dev/null 2>&1 ||
            skip "apt-get install ${pkgs[*]} failed"
    fi
    have_caf || skip "libcaf-dev installed but CAF headers/library not found"
fi

if [ -x "$exe" ] && [ "$exe" -nt "$src_dir/bench.cpp" ] && [ "$exe" -nt "$src_dir/build.sh" ]; then
    exit 0
fi

CXX=${CXX:-g++}
if ! "$CXX" -O2 -std=c++17 -DNDEBUG -o "$exe.tmp" "$src_dir/bench.cpp" \
        -lcaf_core -lpthread 2> "$out_dir/build.log"; then
    cat "$out_dir/build.log" >&2
    rm -f "$exe.tmp"
    skip "compiling bench.cpp failed (see $out_dir/build.log)"
fi
mv -f "$exe.tmp" "$exe"
exit 0
