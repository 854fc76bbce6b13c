#!/usr/bin/env bash
# bench/peers/caf/run.sh: runs one workload of the CAF peer of troupe's
# side-by-side benchmark in a fresh process (build it first with build.sh).
#   bench/peers/caf/run.sh OUT_DIR WORKLOAD THREADS
#       WORKLOAD: pingpong ring ask_seq ask_pipelined spawn fanin restart
#       THREADS:  CAF scheduler worker threads (scheduler.max-threads), 1 or 2
#   bench/peers/caf/run.sh OUT_DIR version      prints e.g. "CAF 0.17.6"
# Prints "name: value unit" lines and indented details on stdout; exits
# non-zero with a message on stderr if the run failed.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 OUT_DIR WORKLOAD THREADS | $0 OUT_DIR version" >&2
    exit 2
fi
exe="$1/caf_bench"
if [ ! -x "$exe" ]; then
    echo "run.sh: no $exe: run bench/peers/caf/build.sh $1 first" >&2
    exit 1
fi
if [ "$2" = version ]; then
    exec "$exe" version
fi
if [ $# -ne 3 ]; then
    echo "usage: $0 OUT_DIR WORKLOAD THREADS" >&2
    exit 2
fi
case "$3" in
    1|2) ;;
    *) echo "run.sh: THREADS must be 1 or 2, not '$3'" >&2; exit 2 ;;
esac
# Run from OUT_DIR so that nothing CAF might write lands in the caller's cwd.
cd "$1" || exit 1
exec "$exe" "$2" "$3"
