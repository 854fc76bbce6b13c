#!/usr/bin/env bash
# bench/run.sh: run every benchmark three times and print, per figure, the
# median and the min-max, with the machine's CPU count and model.
#   bench/run.sh [BUILD_DIR]      default: build/release in the repository
#                                 (what `make bench` builds and passes)
# Environment: RUNS (default 3), BENCHES (default: all, space-separated).
# Each benchmark prints machine-parsable lines "name: value unit" (no leading
# space); indented lines are details, shown for the last run with -v.
set -euo pipefail

BUILD_DIR=${1:-"$(cd "$(dirname "$0")/.." && pwd)/build/release"}
RUNS=${RUNS:-3}
BENCHES=${BENCHES:-"bench_floor bench_pingpong bench_ask_seq bench_ask_pipelined bench_spawn"}
VERBOSE=${VERBOSE:-0}

bindir="$BUILD_DIR/bench"
if [ ! -d "$bindir" ]; then
    echo "run.sh: no $bindir: build first (make build, or cmake --build $BUILD_DIR)" >&2
    exit 1
fi

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
[ -n "$cpu_model" ] || cpu_model=$(uname -m)
echo "troupe benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr)"
echo "cpus: $(nproc), model: $cpu_model"
echo "build: $BUILD_DIR, $RUNS runs each, median [min-max]"
echo

# median and range of the numbers on stdin (one per line)
stats() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "n/a"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %s %s\n", m, v[1], v[NR]
        }'
}

fmt() { # pretty number: integers with thousands separators, else 2 decimals
    awk -v x="$1" 'BEGIN {
        if (x >= 1000) { s = sprintf("%.0f", x); o = "";
            while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
            print s o }
        else printf "%.2f\n", x }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A median

status=0
for b in $BENCHES; do
    exe="$bindir/$b"
    if [ ! -x "$exe" ]; then
        echo "$b: missing ($exe)"
        status=1
        continue
    fi
    : > "$tmp/$b.all"
    for i in $(seq 1 "$RUNS"); do
        if ! "$exe" > "$tmp/$b.out" 2> "$tmp/$b.err"; then
            echo "$b: run $i failed:"
            sed 's/^/    /' "$tmp/$b.err" "$tmp/$b.out"
            status=1
            continue 2
        fi
        grep -E '^[a-z_]+: [0-9.eE+-]+ [^ ]+$' "$tmp/$b.out" >> "$tmp/$b.all" || true
    done
    for name in $(awk -F: '{print $1}' "$tmp/$b.all" | awk '!seen[$0]++'); do
        unit=$(awk -v n="$name" -F'[: ]+' '$1 == n {print $3; exit}' "$tmp/$b.all")
        read -r med lo hi < <(awk -v n="$name" -F'[: ]+' '$1 == n {print $2}' "$tmp/$b.all" | stats)
        median[$name]=$med
        printf "%-18s %16s %-12s [%s - %s]\n" "$name" "$(fmt "$med")" "$unit" "$(fmt "$lo")" "$(fmt "$hi")"
    done
    if [ "$VERBOSE" = 1 ]; then
        grep -E '^ ' "$tmp/$b.out" || true
    fi
done

# troupe as a fraction of the C floor (msg/s against msg/s)
if [ -n "${median[floor]:-}" ] && [ -n "${median[pingpong]:-}" ]; then
    echo
    awk -v p="${median[pingpong]}" -v f="${median[floor]}" \
        'BEGIN { printf "pingpong is %.1f%% of the C floor (%.1f ns/msg vs %.1f ns/msg)\n", 100 * p / f, 1e9 / p, 1e9 / f }'
fi
exit $status
