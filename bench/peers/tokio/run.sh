#!/usr/bin/env bash
# bench/peers/tokio/run.sh: run one workload of the Tokio peer of troupe's
# side-by-side benchmark, in a fresh process (build first with build.sh).
#   bench/peers/tokio/run.sh OUT_DIR WORKLOAD THREADS
#       WORKLOAD: pingpong ring ask_seq ask_pipelined spawn fanin restart
#       THREADS:  1 (current_thread runtime) or 2 (multi_thread, 2 workers)
#   bench/peers/tokio/run.sh OUT_DIR version
#       prints e.g. "Tokio 1.24.2 (rustc 1.63.0)"
# Prints "name: value unit" lines, then indented details; exits non-zero with
# a message on stderr when the run fails (e.g. a wrong checksum).
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR WORKLOAD THREADS | $0 OUT_DIR version" >&2; exit 2; }
[ $# -ge 2 ] || usage
out=$1
if [ "$2" = version ]; then
    [ -f "$out/version.txt" ] || { echo "run.sh: no $out/version.txt: run build.sh $out first" >&2; exit 1; }
    cat "$out/version.txt"
    exit 0
fi
[ $# -eq 3 ] || usage
exe="$out/target/release/tokio-peer"
[ -x "$exe" ] || { echo "run.sh: no $exe: run build.sh $out first" >&2; exit 1; }
case "$3" in 1|2) ;; *) echo "run.sh: THREADS must be 1 or 2, not '$3'" >&2; exit 2 ;; esac
exec "$exe" "$2" "$3"
