#!/usr/bin/env bash
# examples/kvd/demo.sh: a scripted tour of kvd (`make demo`). Starts kvd on
# a temp copy of INI (port 6380, or a free port if 6380 is taken), then
# prints each step as a "$ command" line followed by its real output:
#   1. redis-cli SET and GET;
#   2. a short redis-benchmark run;
#   3. troupectl tree: the supervision tree;
#   4. live config: edit max_clients and request_timeout, SIGHUP, kvd's log
#      lines about it, CONFIG GET with the new values;
#   5. DEBUG PANIC 1: the client's DropWithoutReport error, the restart in
#      troupectl tree, a GET served again;
#   6. SIGTERM: the ordered shutdown in kvd's log, exit status 0.
# Non-interactive; exits 0 when every step worked, 1 (with kvd's logs) when
# one did not. Needs redis-tools (redis-cli, redis-benchmark).
#
#   bash examples/kvd/demo.sh KVD TROUPECTL INI
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 KVD TROUPECTL INI" >&2
    exit 2
fi
kvd=$1
src_ini=$3
[ -x "$2" ] || { echo "FAIL: no troupectl at $2" >&2; exit 1; }
PATH=$(cd "$(dirname "$2")" && pwd):$PATH # so the steps can say `troupectl`

# shellcheck source=kvd_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/kvd_lib.sh"
kvd_init kvd_demo
kvd_need_redis_tools

step() { printf '\n== %s\n' "$*"; }

# say COMMAND...: print "$ COMMAND" as a shell would read it (quoted where
# needed).
say() {
    local a s=''
    for a; do
        if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            s+=" $a"
        else
            s+=" '${a//\'/\'\\\'\'}'"
        fi
    done
    printf '$%s\n' "$s"
}

# run COMMAND...: say it, then run it; its output is shown as is.
run() {
    say "$@"
    "$@" || fail "$* exited $?"
}

# capture COMMAND...: the same, the output also kept in $out for checks.
out=
capture() {
    say "$@"
    out=$("$@" 2>&1) || { st=$?; printf '%s\n' "$out"; fail "$* exited $st"; }
    printf '%s\n' "$out"
}

# log_since N: kvd's stderr after its first N lines, indented.
log_since() { tail -n "+$(($1 + 1))" "$kvd_err" | sed 's/^/  | /'; }
log_lines() { wc -l <"$kvd_err"; }
log_has() { grep -Eq -- "$1" "$kvd_err"; }

# ---- start ----
step "Start kvd on a copy of $(basename "$src_ini")"
echo "$ kvd -c $kvd_ini -p 6380 &"
if ! kvd_try_start "$kvd" "$src_ini" 6380; then
    echo "(port 6380 is taken: kvd said \"$(grep -o 'cannot listen.*' "$kvd_err" | head -n 1)\";"
    echo " kvd -p 0 picks a free port)"
    echo "$ kvd -c $kvd_ini -p 0 &"
    kvd_start "$kvd" "$src_ini" 0
fi
sed 's/^/  | /' "$kvd_out"
log_since 0
echo "kvd is pid $kvd_pid, serving port $kvd_port"
p=$kvd_port

# ---- 1. ----
step "1. Talk to it with redis-cli"
capture redis-cli -p "$p" SET greeting "hello, troupe"
[ "$out" = OK ] || fail "SET answered '$out'"
capture redis-cli -p "$p" GET greeting
[ "$out" = "hello, troupe" ] || fail "GET answered '$out'"
capture redis-cli -p "$p" INCRBY visits 42
[ "$out" = 42 ] || fail "INCRBY answered '$out'"

# ---- 2. ----
step "2. A short benchmark (50 clients, 16 commands per round trip)"
say redis-benchmark -p "$p" -q -n 20000 -P 16 -t set,get
bench=$(timeout 120 redis-benchmark -p "$p" -q -n 20000 -P 16 -t set,get 2>&1) ||
    { st=$?; printf '%s\n' "$bench" | tr '\r' '\n'; fail "redis-benchmark exited $st"; }
# redis-benchmark redraws a progress line with CRs; keep the results only.
results=$(printf '%s\n' "$bench" | tr '\r' '\n' | grep 'requests per second')
printf '%s\n' "$results"
[ "$(printf '%s\n' "$results" | wc -l)" -eq 2 ] || fail "redis-benchmark: not 2 results: $bench"

# ---- 3. ----
step "3. The supervision tree, from the debug socket"
capture troupectl -p "$kvd_pid" tree
grep -q 'shard-0 <kvd_shard>' <<<"$out" || fail "no shard-0 in the tree"

# ---- 4. ----
step "4. Live config: edit the ini, send SIGHUP"
n=$(log_lines)
run sed -i -e 's/^max_clients[[:space:]]*=.*/max_clients = 500/' \
    -e 's/^request_timeout[[:space:]]*=.*/request_timeout = 250ms/' "$kvd_ini"
run kill -HUP "$kvd_pid"
wait_until "the request_timeout change in kvd's log" log_has 'kvd: request_timeout [0-9]+ ms -> 250 ms'
log_has 'kvd: max_clients [0-9]+ -> 500' || fail "no max_clients change in kvd's log"
echo "kvd's log:"
log_since "$n"
capture redis-cli -p "$p" CONFIG GET max_clients request_timeout
[ "$out" = $'max_clients\n500\nrequest_timeout\n250ms' ] || fail "CONFIG GET shows old values"

# ---- 5. ----
step "5. Crash a shard: DEBUG PANIC 1 (debug_commands = yes)"
n=$(log_lines)
capture redis-cli -p "$p" DEBUG PANIC 1
[[ $out == *DropWithoutReport*panicked* ]] || fail "DEBUG PANIC answered '$out'"
echo "kvd's log (the panic report, shortened):"
log_since "$n" | grep -E '=== troupe panic|actor:|reason:|at:'
# shellcheck disable=SC2317 # (called by wait_until)
restarted() {
    local t
    t=$(troupectl -p "$kvd_pid" tree 2>/dev/null) && grep -q 'shard-1 <kvd_shard> .*restarts 1' <<<"$t"
}
wait_until "shard-1 restarted in troupectl tree" restarted
capture troupectl -p "$kvd_pid" tree
echo "(shard-1 restarted empty: its keys are gone, the other shards kept theirs)"
capture redis-cli -p "$p" SET greeting "hello again"
[ "$out" = OK ] || fail "SET after the panic answered '$out'"
capture redis-cli -p "$p" GET greeting
[ "$out" = "hello again" ] || fail "GET after the panic answered '$out'"

# ---- 6. ----
step "6. Ordered shutdown: SIGTERM"
n=$(log_lines)
printf '$ kill -TERM %s; wait %s\n' "$kvd_pid" "$kvd_pid"
pid=$kvd_pid
kvd_stop
echo "kvd's log, then its last line on stdout:"
log_since "$n"
grep '^kvd: shut down cleanly' "$kvd_out" | sed 's/^/  | /'
echo "exit status $kvd_status"
[ "$kvd_status" -eq 0 ] || fail "kvd $pid exited $kvd_status after SIGTERM (137: killed after 10 s)"
grep -q '^kvd: shut down cleanly' "$kvd_out" || fail "no 'shut down cleanly' line"

printf '\ndemo ok: every step worked\n'
exit 0
