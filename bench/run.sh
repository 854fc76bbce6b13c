#!/usr/bin/env bash
# bench/run.sh: troupe's benchmarks and the same workloads in Erlang/OTP,
# CAF and Tokio, side by side, in one run on this machine.
#   bench/run.sh [BUILD_DIR]      default: build/release in the repository
#                                 (what `make bench` builds and passes)
# For each figure it prints the median and the min-max of RUNS runs, for
# troupe (one scheduler, and with 2 schedulers), the C floor, and each peer
# single-threaded and with 2 threads, and how many times better troupe is
# than each ("troupe x": rate ratio, or cost ratio for ns and bytes; above 1
# troupe wins; a peer's 2-thread row also compares it with troupe on 2
# schedulers, "2 sched x").
#
# troupe's multi-scheduler column runs the same programs with
# TROUPE_SCHEDULERS=N (N from THREADS, above 1) and default options, so
# placement is what each program asks for: bench_pingpong and bench_ask_seq
# pin their two actors on schedulers 0 and 1 (every message crosses),
# bench_fanin puts one consumer on each scheduler (each producer thread
# feeds its own), and the others use the default round-robin placement
# (TR_PLACE_ANY): bench_ring's neighbours alternate schedulers, so every
# hop crosses; bench_ask_pipelined's server and client land on different
# schedulers; bench_spawn's actors alternate; bench_restart's worker
# incarnations alternate, while its driver and supervisor stay on
# scheduler 0.
#
# Peers live in bench/peers/<peer>/ (build.sh OUT_DIR, run.sh OUT_DIR
# WORKLOAD THREADS); each installs its Debian packages when missing
# (erlang-base, libcaf-dev, librust-tokio-dev and friends) and builds into
# BUILD_DIR/peers/<peer>. A peer that cannot be installed or built is
# skipped with its reason.
#
# Environment:
#   RUNS      runs per figure (default 3)
#   BENCHES   troupe programs (default: all below)
#   PEERS     peers to compare (default "erlang caf tokio"; "" for none)
#   THREADS   peer thread counts, and troupe's scheduler counts above 1
#             (default "1 2"; troupe always runs with 1 scheduler)
#   VERBOSE   1: also print the detail lines of each program's last run
# Every program prints machine-parsable lines "name: value unit" (no
# leading space); indented lines are details.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-"$root/build/release"}
RUNS=${RUNS:-3}
BENCHES=${BENCHES:-"bench_floor bench_pingpong bench_ring bench_ask_seq bench_ask_pipelined bench_spawn bench_fanin bench_restart"}
PEERS=${PEERS-"erlang caf tokio"}
THREADS=${THREADS:-"1 2"}
VERBOSE=${VERBOSE:-0}
WORKLOADS="pingpong ring ask_seq ask_pipelined spawn fanin restart"

bindir="$BUILD_DIR/bench"
if [ ! -d "$bindir" ]; then
    echo "run.sh: no $bindir: build first (make build, or cmake --build $BUILD_DIR)" >&2
    exit 1
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd) # the peers' scripts run from their own directory
bindir="$BUILD_DIR/bench"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
[ -n "$cpu_model" ] || cpu_model=$(uname -m)
echo "troupe benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr)"
echo "cpus: $(nproc), model: $cpu_model"
echo "troupe $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'), $(cc --version | head -1)"
echo "build: $BUILD_DIR, $RUNS runs each, median [min - max]"

# median and range of the numbers on stdin (one per line): "med lo hi"
stats() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print ""; exit }
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

# results: one line per sample, "system figure value unit"
results="$tmp/results"
: > "$results"

# collect SYSTEM FILE: append the figures of one run's output
collect() {
    grep -E '^[a-z_]+: [0-9.eE+-]+ [^ ]+$' "$2" | sed "s|^|$1 |; s|: | |" >> "$results" || true
}

# ---- troupe ------------------------------------------------------------
status=0
for b in $BENCHES; do
    exe="$bindir/$b"
    if [ ! -x "$exe" ]; then
        echo "$b: missing ($exe)" >&2
        status=1
        continue
    fi
    scheds=1
    if [ "$b" != bench_floor ]; then
        for t in $THREADS; do [ "$t" -gt 1 ] && scheds="$scheds $t"; done
    fi
    for sc in $scheds; do
        sys=troupe
        [ "$sc" -gt 1 ] && sys=troupe/$sc
        [ "$b" = bench_floor ] && sys=floor
        for i in $(seq 1 "$RUNS"); do
            if ! TROUPE_SCHEDULERS=$sc "$exe" > "$tmp/out" 2> "$tmp/err"; then
                echo "$b (schedulers $sc): run $i failed:" >&2
                sed 's/^/    /' "$tmp/err" "$tmp/out" >&2
                status=1
                continue 2
            fi
            collect "$sys" "$tmp/out"
        done
        if [ "$VERBOSE" = 1 ]; then
            grep -E '^ ' "$tmp/out" | sed "s/^/  [schedulers $sc] /" || true
        fi
    done
done

# ---- peers -------------------------------------------------------------
declare -A peer_version
ran_peers=""
for peer in $PEERS; do
    dir="$root/bench/peers/$peer"
    out="$BUILD_DIR/peers/$peer"
    if [ ! -x "$dir/build.sh" ]; then
        echo "SKIP $peer: no $dir/build.sh" >&2
        continue
    fi
    set +e
    bash "$dir/build.sh" "$out" > "$tmp/build" 2>&1
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        if [ $rc -eq 3 ]; then
            grep -m1 '^SKIP' "$tmp/build" >&2 || echo "SKIP $peer: its build.sh said so" >&2
        else
            echo "SKIP $peer: build failed (exit $rc):" >&2
            tail -5 "$tmp/build" | sed 's/^/    /' >&2
        fi
        continue
    fi
    peer_version[$peer]=$(bash "$dir/run.sh" "$out" version 2>/dev/null | head -1)
    ran_peers="$ran_peers $peer"
    for t in $THREADS; do
        for w in $WORKLOADS; do
            for i in $(seq 1 "$RUNS"); do
                if ! timeout 120 bash "$dir/run.sh" "$out" "$w" "$t" > "$tmp/out" 2> "$tmp/err"; then
                    echo "$peer $w (threads $t): run $i failed:" >&2
                    sed 's/^/    /' "$tmp/err" "$tmp/out" | tail -5 >&2
                    continue 2
                fi
                collect "$peer/$t" "$tmp/out"
            done
            if [ "$VERBOSE" = 1 ]; then
                grep -E '^ ' "$tmp/out" | sed "s/^/  [$peer $t] /" || true
            fi
        done
    done
done

for peer in $ran_peers; do
    echo "$peer: ${peer_version[$peer]}"
done
echo

# ---- the table ---------------------------------------------------------
label() { # SYSTEM -> column label
    case $1 in
    troupe) echo "troupe (1 scheduler)" ;;
    troupe/*) echo "troupe (${1#*/} schedulers)" ;;
    floor) echo "C floor" ;;
    erlang/*) echo "Erlang/OTP +S ${1#*/}" ;;
    caf/*) echo "CAF, ${1#*/} thread(s)" ;;
    tokio/1) echo "Tokio current_thread" ;;
    tokio/*) echo "Tokio multi_thread(${1#*/})" ;;
    *) echo "$1" ;;
    esac
}

figure_of() { # SYSTEM FIGURE -> "med lo hi" or ""
    awk -v s="$1" -v f="$2" '$1 == s && $2 == f {print $3}' "$results" | stats
}

systems="troupe"
for t in $THREADS; do [ "$t" -gt 1 ] && systems="$systems troupe/$t"; done
for peer in $ran_peers; do
    for t in $THREADS; do systems="$systems $peer/$t"; done
done

figures="pingpong ring ask_seq ask_seq_latency ask_pipelined spawn spawn_mem fanin restart"
for f in $figures; do
    unit=$(awk -v f="$f" '$2 == f {print $4; exit}' "$results")
    [ -n "$unit" ] || continue
    lower_better=0
    case $unit in ns | ns/* | bytes/*) lower_better=1 ;; esac
    read -r tm _ _ <<< "$(figure_of troupe "$f")" || true
    echo "$f ($unit)"
    for s in $systems; do
        read -r m lo hi <<< "$(figure_of "$s" "$f")" || true
        [ -n "${m:-}" ] || continue
        extra=""
        case $s in
        troupe) ;;
        troupe/*) # against troupe on one scheduler
            if [ -n "${tm:-}" ]; then
                extra=$(awk -v t="$tm" -v p="$m" -v lb="$lower_better" \
                    'BEGIN { r = lb ? t / p : p / t; printf (r >= 0.1 ? "%.2f" : "%.2g") " x 1 scheduler", r }')
            fi
            ;;
        *)
            if [ -n "${tm:-}" ]; then
                extra=$(awk -v t="$tm" -v p="$m" -v lb="$lower_better" \
                    'BEGIN { r = lb ? p / t : t / p; printf "troupe x %.2f", r }')
            fi
            n=${s#*/}
            if [ "$n" -gt 1 ]; then # also against troupe on as many schedulers
                read -r tn _ _ <<< "$(figure_of "troupe/$n" "$f")" || true
                if [ -n "${tn:-}" ]; then
                    extra="$extra, $n sched x $(awk -v t="$tn" -v p="$m" -v lb="$lower_better" \
                        'BEGIN { r = lb ? p / t : t / p; printf "%.2f", r }')"
                fi
            fi
            ;;
        esac
        printf "  %-26s %16s  [%s - %s]  %s\n" "$(label "$s")" "$(fmt "$m")" "$(fmt "$lo")" "$(fmt "$hi")" "$extra"
    done
    ff=""
    case $f in
    pingpong | ring) ff=floor; fl_label="C floor (same thread)" ;;
    fanin) ff=floor_spsc; fl_label="C floor (SPSC, 2 threads)" ;;
    esac
    if [ -n "$ff" ]; then
        read -r fl flo fhi <<< "$(figure_of floor "$ff")" || true
        if [ -n "${fl:-}" ] && [ -n "${tm:-}" ]; then
            frac=$(awk -v t="$tm" -v fl="$fl" 'BEGIN { printf "troupe at %.1f%% of it", 100 * t / fl }')
            for t in $THREADS; do
                [ "$t" -gt 1 ] || continue
                read -r tn _ _ <<< "$(figure_of "troupe/$t" "$f")" || true
                [ -n "${tn:-}" ] && frac="$frac, $(awk -v t="$tn" -v fl="$fl" -v n="$t" \
                    'BEGIN { printf "%s schedulers %.1f%%", n, 100 * t / fl }')"
            done
            printf "  %-26s %16s  [%s - %s]  %s\n" "$fl_label" "$(fmt "$fl")" "$(fmt "$flo")" "$(fmt "$fhi")" "$frac"
        fi
    fi
    echo
done
echo "total time: $(( $(date +%s) - started )) s"
exit $status
