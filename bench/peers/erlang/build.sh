#!/usr/bin/env bash
# bench/peers/erlang/build.sh: build the Erlang/OTP peer of troupe's
# benchmarks into OUT_DIR (the .beam files; nothing is written to the source
# tree). Installs Debian's erlang-base (OTP 25: erl, erlc) when erl or erlc
# is missing, as root or through sudo. Quick when already built.
#   bench/peers/erlang/build.sh OUT_DIR
# Exit 0 when built; "SKIP erlang: <reason>" on stdout and exit 3 when the
# peer cannot be installed or built.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT=$1
SRC=$(cd "$(dirname "$0")" && pwd)
MODULES="bench bench_adder bench_sup bench_crasher"

skip() { echo "SKIP erlang: $*"; exit 3; }

if ! command -v erl >/dev/null 2>&1 || ! command -v erlc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        SUDO=
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=sudo
    else
        skip "erl/erlc missing and not root (no passwordless sudo) to apt-get install erlang-base"
    fi
    command -v apt-get >/dev/null 2>&1 || skip "erl/erlc missing and no apt-get"
    echo "build.sh: installing erlang-base with apt-get" >&2
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq erlang-base >/dev/null 2>&1; then
        $SUDO apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq erlang-base >/dev/null 2>&1 \
            || skip "apt-get install erlang-base failed"
    fi
    command -v erl >/dev/null 2>&1 && command -v erlc >/dev/null 2>&1 \
        || skip "erlang-base installed but erl/erlc not found"
fi

mkdir -p "$OUT" || skip "cannot create $OUT"

stale=0
for m in $MODULES; do
    if [ ! -f "$OUT/$m.beam" ] || [ "$SRC/$m.erl" -nt "$OUT/$m.beam" ] \
       || [ "$SRC/build.sh" -nt "$OUT/$m.beam" ]; then
        stale=1
    fi
done
[ "$stale" = 0 ] && exit 0

files=()
for m in $MODULES; do files+=("$SRC/$m.erl"); done
if ! erlc -Werror -o "$OUT" "${files[@]}" >&2; then
    skip "erlc failed"
fi
exit 0
