#!/usr/bin/env bash
# bench/kvd_vs_redis.sh: kvd against Debian's redis-server on this machine,
# in one run, with the same redis-benchmark profiles: 50 clients, -P 1
# (one request in flight per client) and -P 16 (pipelines of 16), commands
# SET, GET, INCR and MSET (10 keys), keys spread over -r 1000000. The runs
# alternate between the two servers; each figure is the median of RUNS runs
# (default 3) with the min-max, and the ratio is kvd / redis-server.
# kvd runs once per scheduler count in KVD_SCHEDULERS (default "1 2": one
# kvd with `schedulers = 1` and one with `schedulers = 2` under [runtime]),
# each its own process on its own port, all in the same alternation.
#
#   bench/kvd_vs_redis.sh [KVD_BINARY]     (make bench-kvd builds and runs it)
#
# Environment: RUNS (3), CLIENTS (50), N1 (requests at -P 1, 100000),
# N16 (requests at -P 16, 1000000), TESTS (set,get,incr,mset),
# KVD_SCHEDULERS (kvd's scheduler counts, "1 2").
# Installs redis-server and redis-tools from Debian when missing (as root,
# or with sudo); stops with a message if it cannot.
#
# redis-server is single-threaded; kvd runs one troupe scheduler (one
# thread) or 2 (2 threads), and redis-benchmark is one more process on the
# same cores: the figures say how the servers compare here, not what either
# does on a bigger box.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kvd=${1:-"$root/build/release/examples/kvd/kvd"}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-50}
N1=${N1:-100000}
N16=${N16:-1000000}
TESTS=${TESTS:-set,get,incr,mset}
KVD_SCHEDULERS=${KVD_SCHEDULERS:-"1 2"}

if [ ! -x "$kvd" ]; then
    echo "kvd_vs_redis: no $kvd: build first (make build)" >&2
    exit 1
fi
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "kvd_vs_redis: installing redis-server and redis-tools from Debian"
    if ! { $sudo apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools; } \
        >/dev/null; then
        echo "kvd_vs_redis: cannot install redis-server; nothing to compare with" >&2
        exit 1
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvd_vs_redis.XXXXXX")
declare -A kvd_pid kvd_port
redis_pid=
cleanup() {
    for k in "${kvd_pid[@]}"; do
        kill "$k" 2>/dev/null && wait "$k" 2>/dev/null
    done
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { # a port nobody listens on, from 20000 up
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}

wait_ping() { # wait_ping PORT: up to 10 s for a PONG
    for _ in $(seq 200); do
        [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    echo "kvd_vs_redis: nothing answers on port $1" >&2
    exit 1
}

redis_port=$(free_port 20000)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --logfile "$tmp/redis.log" &
redis_pid=$!
next_port=$((redis_port + 1))
for sc in $KVD_SCHEDULERS; do
    port=$(free_port "$next_port")
    next_port=$((port + 1))
    kvd_port[$sc]=$port
    # the scheduler count goes in the config (TROUPE_SCHEDULERS would only
    # apply without the key)
    sed -e 's/^debug_commands *=.*/debug_commands = no/' -e 's/^debug_socket *=.*/debug_socket = off/' \
        -e "s/^\[runtime\].*/[runtime]\nschedulers = $sc/" \
        "$root/examples/kvd/kvd.ini" >"$tmp/kvd$sc.ini"
    "$kvd" -c "$tmp/kvd$sc.ini" -p "$port" >"$tmp/kvd$sc.out" 2>"$tmp/kvd$sc.err" &
    kvd_pid[$sc]=$!
done
wait_ping "$redis_port"
for sc in $KVD_SCHEDULERS; do wait_ping "${kvd_port[$sc]}"; done

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || uname -m)
echo "kvd vs redis-server: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr)"
echo "cpus: $(nproc), model: $cpu_model"
echo "redis-server: $(redis-server --version | sed 's/ sha=.*//'); kvd: $("$kvd" --version)"
echo "profile: redis-benchmark -c $CLIENTS -r 1000000 -t $TESTS; -P 1 with -n $N1, -P 16 with -n $N16"
for sc in $KVD_SCHEDULERS; do
    echo "kvd with schedulers = $sc: port ${kvd_port[$sc]}, $(ls "/proc/${kvd_pid[$sc]}/task" 2>/dev/null | wc -l) threads (schedulers and the watchdog)"
done
echo "$RUNS runs per server and profile, alternating; median [min-max] requests/s"
echo

# bench PORT P N: one redis-benchmark run; prints "TEST rps" lines.
bench() {
    redis-benchmark -p "$1" -c "$CLIENTS" -n "$3" -P "$2" -r 1000000 -t "$TESTS" --csv 2>/dev/null |
        awk -F'","' 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); split($1, w, " "); print w[1], $2 }'
}

for P in 1 16; do
    n=$N1
    [ "$P" = 16 ] && n=$N16
    for run in $(seq "$RUNS"); do
        bench "$redis_port" "$P" "$n" | sed "s/^/redis $P /" >>"$tmp/results"
        for sc in $KVD_SCHEDULERS; do
            bench "${kvd_port[$sc]}" "$P" "$n" | sed "s/^/kvd$sc $P /" >>"$tmp/results"
        done
    done
done

# median and range of the numbers on stdin
stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

hdr=$(printf '%-6s %-5s %-30s' "-P" test "redis-server")
for sc in $KVD_SCHEDULERS; do
    hdr="$hdr$(printf ' %-30s %-9s' "kvd, $sc scheduler(s)" "/redis")"
done
echo "$hdr"
for P in 1 16; do
    for t in $(echo "$TESTS" | tr ',' ' ' | tr '[:lower:]' '[:upper:]'); do
        read -r rm rlo rhi < <(awk -v p="$P" -v t="$t" '$1 == "redis" && $2 == p && $3 == t {print $4}' "$tmp/results" | stats)
        line=$(printf '%-6s %-5s %-30s' "$P" "$t" "$rm [$rlo-$rhi]")
        for sc in $KVD_SCHEDULERS; do
            read -r km klo khi < <(awk -v s="kvd$sc" -v p="$P" -v t="$t" '$1 == s && $2 == p && $3 == t {print $4}' "$tmp/results" | stats)
            ratio=$(awk -v k="$km" -v r="$rm" 'BEGIN { printf (r > 0 ? "%.2f" : "n/a"), (r > 0 ? k / r : 0) }')
            line="$line$(printf ' %-30s %-9s' "$km [$klo-$khi]" "${ratio}x")"
        done
        echo "$line"
    done
done

echo
for sc in $KVD_SCHEDULERS; do
    errors=$(redis-cli -p "${kvd_port[$sc]}" info stats | tr -d '\r' | awk -F: '$1 == "total_error_replies" {print $2}')
    echo "kvd ($sc scheduler(s)) error replies during the run: ${errors:-unknown}"
done
