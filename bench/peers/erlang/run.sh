#!/usr/bin/env bash
# bench/peers/erlang/run.sh: run ONE workload of the Erlang/OTP peer of
# troupe's benchmarks in a fresh VM with THREADS schedulers (+S THREADS:THREADS).
#   bench/peers/erlang/run.sh OUT_DIR WORKLOAD THREADS
#   bench/peers/erlang/run.sh OUT_DIR version
# WORKLOAD: pingpong ring ask_seq ask_pipelined spawn fanin restart; THREADS:
# 1 or 2. OUT_DIR is what build.sh built. Prints "name: value unit" lines and
# indented details; exits non-zero (message on stderr) when a check fails.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 OUT_DIR WORKLOAD THREADS | $0 OUT_DIR version" >&2
    exit 2
fi
OUT=$1
WORKLOAD=$2
if [ ! -f "$OUT/bench.beam" ]; then
    echo "run.sh: no $OUT/bench.beam: run build.sh $OUT first" >&2
    exit 1
fi
# No erl_crash.dump files in the caller's directory.
export ERL_CRASH_DUMP_SECONDS=0

if [ "$WORKLOAD" = version ]; then
    exec erl -noshell -pa "$OUT" -run bench main version
fi

THREADS=${3:-}
case "$THREADS" in
    1|2) ;;
    *) echo "run.sh: THREADS must be 1 or 2 (got '$THREADS')" >&2; exit 2 ;;
esac
case "$WORKLOAD" in
    pingpong|ring|ask_seq|ask_pipelined|spawn|fanin|restart) ;;
    *) echo "run.sh: unknown workload '$WORKLOAD'" >&2; exit 2 ;;
esac

# +S N:N: N scheduler threads, all online. +P: room for the spawn workload's
# 1,000,000 processes (the limit is rounded up to a power of two).
exec erl -noshell +S "$THREADS:$THREADS" +P 2097152 -pa "$OUT" -run bench main "$WORKLOAD"
