#!/usr/bin/env bash
# bench/kvd_vs_redis.sh: kvd against Debian's redis-server on this machine,
# in one run, with the same redis-benchmark profiles: 50 clients, -P 1
# (one request in flight per client) and -P 16 (pipelines of 16), commands
# SET, GET, INCR and MSET (10 keys), keys spread over -r 1000000. The runs
# alternate between the two servers; each figure is the median of RUNS runs
# (default 3) with the min-max, and the ratio is kvd / redis-server.
#
#   bench/kvd_vs_redis.sh [KVD_BINARY]     (make bench-kvd builds and runs it)
#
# Environment: RUNS (3), CLIENTS (50), N1 (requests at -P 1, 100000),
# N16 (requests at -P 16, 1000000), TESTS (set,get,incr,mset).
# Installs redis-server and redis-tools from Debian when missing (as root,
# or with sudo); stops with a message if it cannot.
#
# Both servers are single-threaded (kvd runs one troupe scheduler), and
# redis-benchmark is one more process on the same 2 cores: the figures say
# how the two servers compare here, not what either does on a bigger box.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kvd=${1:-"$root/build/release/examples/kvd/kvd"}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-50}
N1=${N1:-100000}
N16=${N16:-1000000}
TESTS=${TESTS:-set,get,incr,mset}

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
kvd_pid=
redis_pid=
cleanup() {
    [ -n "$kvd_pid" ] && kill "$kvd_pid" 2>/dev/null && wait "$kvd_pid" 2>/dev/null
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
kvd_port=$(free_port $((redis_port + 1)))
sed -e 's/^debug_commands *=.*/debug_commands = no/' -e 's/^debug_socket *=.*/debug_socket = off/' \
    "$root/examples/kvd/kvd.ini" >"$tmp/kvd.ini"
"$kvd" -c "$tmp/kvd.ini" -p "$kvd_port" >"$tmp/kvd.out" 2>"$tmp/kvd.err" &
kvd_pid=$!
wait_ping "$redis_port"
wait_ping "$kvd_port"

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || uname -m)
echo "kvd vs redis-server: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr)"
echo "cpus: $(nproc), model: $cpu_model"
echo "redis-server: $(redis-server --version | sed 's/ sha=.*//'); kvd: $("$kvd" --version)"
echo "profile: redis-benchmark -c $CLIENTS -r 1000000 -t $TESTS; -P 1 with -n $N1, -P 16 with -n $N16"
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
        bench "$kvd_port" "$P" "$n" | sed "s/^/kvd $P /" >>"$tmp/results"
    done
done

# median and range of the numbers on stdin
stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

printf '%-6s %-5s %-30s %-30s %s\n' "-P" test "redis-server" "kvd" "kvd/redis"
for P in 1 16; do
    for t in $(echo "$TESTS" | tr ',' ' ' | tr '[:lower:]' '[:upper:]'); do
        read -r rm rlo rhi < <(awk -v p="$P" -v t="$t" '$1 == "redis" && $2 == p && $3 == t {print $4}' "$tmp/results" | stats)
        read -r km klo khi < <(awk -v p="$P" -v t="$t" '$1 == "kvd" && $2 == p && $3 == t {print $4}' "$tmp/results" | stats)
        ratio=$(awk -v k="$km" -v r="$rm" 'BEGIN { printf (r > 0 ? "%.2f" : "n/a"), (r > 0 ? k / r : 0) }')
        printf '%-6s %-5s %-30s %-30s %sx\n' "$P" "$t" "$rm [$rlo-$rhi]" "$km [$klo-$khi]" "$ratio"
    done
done

errors=$(redis-cli -p "$kvd_port" info stats | tr -d '\r' | awk -F: '$1 == "total_error_replies" {print $2}')
echo
echo "kvd error replies during the run: ${errors:-unknown}"
