#!/usr/bin/env bash
# tools/troupectl/troupectl_test.sh: end-to-end test of troupectl against
# examples/diagnose (ctest troupectl_e2e). diagnose serves a debug socket on
# a shop: supervisor `shop` with workers frontend, inventory, billing and a
# supervisor `payments` with worker gateway; inventory and billing deadlock
# (each keeps the other's reply channel while waiting for its own call) and
# frontend stalls on payments/gateway (which keeps the reply forever).
#   1. start it in a private 0700 temp dir, wait for its `ready` line;
#   2. run every command, human and --json, and check real content: the
#      tree, the actors, the deadlock and the stall in `waits`, one actor,
#      trace, stats, config, alerts, schedulers, help, reload;
#   3. the error paths: an unknown actor and an unknown command (exit 1), a
#      usage error (exit 2), a missing socket (exit 3); -p PID and
#      TROUPE_SOCKET find the socket;
#   4. SIGTERM: the example must exit 0 and remove its socket.
# Every wait polls for at most 10 s (the deadlock and the stall: 30 s).
#
#   bash tools/troupectl/troupectl_test.sh TROUPECTL DIAGNOSE
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 TROUPECTL DIAGNOSE" >&2
    exit 2
fi
ctl=$1
diag=$2

dir=$(mktemp -d "${TMPDIR:-/tmp}/troupectl_test.XXXXXX")
chmod 0700 "$dir"
sock=$dir/d.sock
pid=
# shellcheck disable=SC2317 # (called by the trap)
cleanup() {
    set +e
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$dir"/last.out "$dir"/last.err; do
        [ -s "$f" ] && { echo "--- $(basename "$f") of the last troupectl run" >&2; cat "$f" >&2; }
    done
    echo "--- stdout of diagnose" >&2
    cat "$dir/diag.out" >&2 2>/dev/null || true
    echo "--- stderr of diagnose" >&2
    cat "$dir/diag.err" >&2 2>/dev/null || true
    exit 1
}

# alive: the example is running (kill -0 alone also succeeds for a zombie).
alive() {
    kill -0 "$pid" 2>/dev/null || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# tctl ARGS...: run troupectl on the socket; stdout in $dir/last.out, stderr
# in $dir/last.err, exit status in $rc. Never fails by itself.
rc=0
tctl() {
    rc=0
    "$ctl" -s "$sock" "$@" >"$dir/last.out" 2>"$dir/last.err" || rc=$?
}

# ok ARGS...: troupectl must exit 0; its stdout is kept as $dir/<name>.out.
ok() {
    tctl "$@"
    [ "$rc" -eq 0 ] || fail "troupectl $* exited $rc"
}

# has PATTERN: the last stdout matches the extended regex PATTERN.
has() {
    grep -Eq -- "$1" "$dir/last.out" || fail "the output of the last command lacks /$1/"
}

# jcheck DESCRIPTION PYTHON-EXPRESSION: the last stdout is JSON, and the
# expression is true of it (as `r`).
jcheck() {
    python3 - "$dir/last.out" "$2" <<'EOF' || fail "$1"
import json, sys
with open(sys.argv[1]) as f:
    r = json.load(f)
sys.exit(0 if eval("(" + sys.argv[2] + "\n)", {"r": r, "any": any, "all": all, "len": len}) else 1)
EOF
}

# ---- 1. start diagnose ----
: >"$dir/diag.out"
: >"$dir/diag.err"
"$diag" -s "$sock" >"$dir/diag.out" 2>"$dir/diag.err" &
pid=$!
n=0
until grep -q '^ready' "$dir/diag.out"; do
    alive || fail "diagnose exited before printing ready"
    n=$((n + 1))
    [ "$n" -le 200 ] || fail "no ready line from diagnose after 10 s"
    sleep 0.05
done
[ -S "$sock" ] || fail "ready, but no socket at $sock"
[ "$(stat -c %a "$sock")" = 600 ] || fail "the socket is mode $(stat -c %a "$sock"), not 600"

# ---- 2. every command ----

# help
ok help
has '^ *waits'
has '^ *actor '
ok --json help
jcheck "help --json lacks the commands" \
    'r["protocol"] == 1 and {"help","tree","actors","actor","waits","trace","stats","config","reload","alerts","schedulers"} <= {c["name"] for c in r["commands"]}'

# tree
ok tree
has '^shop \(one_for_one'
has 'frontend <[^>]*> [0-9]+\.[0-9]+ running'
has 'payments \('
has 'gateway'
grep -q '─' "$dir/last.out" || fail "tree is not drawn with box-drawing characters"
ok --ascii tree
has '^[|`]- frontend'
grep -q '─' "$dir/last.out" && fail "--ascii tree still has box-drawing characters"
ok --json tree
jcheck "tree --json: no root shop with frontend, inventory, billing and payments/gateway" '
any(s["name"] == "shop" and s["strategy"] == "one_for_one"
    and {"frontend","inventory","billing","payments"} <= {c["name"] for c in s["children"]}
    and any(c["name"] == "payments" and c["kind"] == "supervisor"
            and any(g["name"] == "gateway" for g in c["children"]) for c in s["children"])
    for s in r["roots"])'

# actors
ok actors
has '^ID +PATH/NAME +TYPE +SCHED +STATUS +DEPTH/CAP +HWM +HANDLED +DROPS +CALLS +KEPT +BUSY\(ms\)$'
has 'shop/inventory'
has 'shop/payments/gateway'
ok --json actors
jcheck "actors --json lacks the shop" '
r["total"] >= 6 and not r["truncated"]
and {"shop","shop/frontend","shop/inventory","shop/billing","shop/payments","shop/payments/gateway"}
    <= {a["path"] for a in r["actors"]}
and all(isinstance(a["sched"], int) for a in r["actors"])'
ok actors 2
has '^\(2 of [0-9]+ actors shown'
ok --json actors 2
jcheck "actors 2 --json is not cut at 2" 'len(r["actors"]) == 2 and r["truncated"]'

# waits: the deadlock and the stall (poll: the example sets them up at start)
n=0
while :; do
    ok --json waits
    if python3 - "$dir/last.out" <<'EOF'; then break; fi
import json, sys
r = json.load(open(sys.argv[1]))
cycle = any(any("inventory" in (p or "") for p in c["paths"]) and
            any("billing" in (p or "") for p in c["paths"]) for c in r["cycles"])
stall = any("gateway" in (s.get("end_path") or "") for s in r["stalls"])
sys.exit(0 if cycle and stall else 1)
EOF
    alive || fail "diagnose exited"
    n=$((n + 1))
    [ "$n" -le 60 ] || fail "waits --json: no inventory/billing cycle and gateway stall after 30 s"
    sleep 0.5
done
jcheck "waits --json: the edges do not show kept reply channels" \
    'any(e["state"] == "kept" for e in r["edges"]) and isinstance(r["stall_threshold_ms"], int)'
ok waits
has '^pending calls \([0-9]+\):'
has '--\[.*\]--> '
has '^DEADLOCK'
has 'inventory .* → .*billing|billing .* → .*inventory'
has '^STALL'
has 'gateway has an empty mailbox and nothing pending: nothing will answer'
has 'frontend → .*gateway'
ok --ascii waits
has 'inventory .* -> .*billing|billing .* -> .*inventory'

# actor
ok actor shop/frontend
has '^path: +shop/frontend$'
has '^type: +frontend$'
has '^calls waiting for an answer:'
has 'gateway'
ok --json actor shop/frontend
jcheck "actor --json: not shop/frontend, or no call to gateway" '
r["path"] == "shop/frontend" and r["supervisor"] is False
and any("gateway" in (c["callee_path"] or "") for c in r["calls"])'
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$dir/last.out")
ok actor "$id"
has "^id: +$id\$"
has '^path: +shop/frontend$'
ok actor shop/payments/gateway
has '^replies it owes \(kept\):'

# trace
ok trace 5
has '^[0-9]+ events? of [0-9]+ recorded'
has '^ *TIME +KIND +ACTOR +PEER +MESSAGE$'
[ "$(grep -Ec '^ *[0-9]+\.[0-9]{3}s +[a-z]+ ' "$dir/last.out")" -ge 1 ] || fail "trace 5 printed no event"
[ "$(grep -Ec '^ *[0-9]+\.[0-9]{3}s +[a-z]+ ' "$dir/last.out")" -le 5 ] || fail "trace 5 printed more than 5 events"
ok --json trace 5
jcheck "trace 5 --json: not 1 to 5 events" '
1 <= len(r["events"]) <= 5 and r["total"] >= len(r["events"])
and all(e["kind"] in "spawn send handle reply drop panic restart stop down stall".split() for e in r["events"])'

# stats
ok stats
has '^uptime:'
has '^runtime:$'
has '^reply channels:$'
has '^debug socket:$'
has '^diagnostics:$'
ok --json stats
jcheck "stats --json: groups missing" '
all(isinstance(r[k], dict) for k in ("runtime", "reply_channels", "debug", "diagnostics"))
and r["debug"]["requests"] >= 1'

# schedulers
ok schedulers
has '^[0-9]+ schedulers?, uptime '
has '^ID +ACTORS +RUNQ +HANDLED +PASSES +REMOTE_IN +WAKEUPS +SPINS +HITS +SLEEPS +BUSY_MS +LOAD$'
has '^ +0 +[0-9]+ +[0-9]+ '
ok --json schedulers
jcheck "schedulers --json: no scheduler 0, or actors not counted" '
r["schedulers"][0]["id"] == 0 and sum(s["actors"] for s in r["schedulers"]) >= 6
and all(k in r["schedulers"][0] for k in ("runq", "msgs_handled", "loop_passes", "remote_in",
        "wakeups", "spins", "spin_hits", "sleeps", "busy_ms", "load"))'

# config
ok config
has '^generation:'
has '^reloads: +[0-9]+ ok, [0-9]+ failed$'
ok --json config
jcheck "config --json: no generation or sections" \
    'isinstance(r["generation"], int) and isinstance(r["sections"], list)'

# alerts (the stall detector may or may not have reported yet)
ok alerts
has '^(no alerts|alert [0-9]+: )'
ok --json alerts
jcheck "alerts --json: no alerts list" 'isinstance(r["alerts"], list)'

# reload: an answer either way (diagnose may run without a config file)
tctl reload
case $rc in
0) has '^reloaded: generation [0-9]+$' ;;
1) grep -Eq '^troupectl: [a-z_]+: ' "$dir/last.err" || fail "reload: error not shown as code: message" ;;
*) fail "reload exited $rc" ;;
esac

# ---- 3. errors, and the other ways to find the socket ----
tctl actor shop/no-such-actor
[ "$rc" -eq 1 ] || fail "an unknown actor exited $rc, not 1"
grep -q '^troupectl: not_found: ' "$dir/last.err" || fail "an unknown actor: no not_found error"
[ -s "$dir/last.out" ] && fail "an unknown actor printed something on stdout"

tctl no-such-command
[ "$rc" -eq 1 ] || fail "an unknown command exited $rc, not 1"
grep -q '^troupectl: unknown_command: ' "$dir/last.err" || fail "no unknown_command error"

tctl actor
[ "$rc" -eq 2 ] || fail "actor without an argument exited $rc, not 2"
tctl trace many
[ "$rc" -eq 2 ] || fail "trace many exited $rc, not 2"

rc=0
"$ctl" -s /nonexistent/d.sock tree >"$dir/last.out" 2>"$dir/last.err" || rc=$?
[ "$rc" -eq 3 ] || fail "-s /nonexistent exited $rc, not 3"
grep -q 'no debug socket at /nonexistent/d.sock' "$dir/last.err" || fail "-s /nonexistent: unclear message"

rc=0
"$ctl" -p "$pid" --json tree >"$dir/last.out" 2>"$dir/last.err" || rc=$?
[ "$rc" -eq 0 ] || fail "-p $pid exited $rc (the socket is not at the default path: the /proc search)"
jcheck "-p: not the shop" 'any(s["name"] == "shop" for s in r["roots"])'

rc=0
TROUPE_SOCKET=$sock "$ctl" stats >"$dir/last.out" 2>"$dir/last.err" || rc=$?
[ "$rc" -eq 0 ] || fail "TROUPE_SOCKET: exited $rc"

rc=0
env -u TROUPE_SOCKET "$ctl" stats >"$dir/last.out" 2>"$dir/last.err" || rc=$?
[ "$rc" -eq 2 ] || fail "no socket at all exited $rc, not 2"
grep -q 'pass -s SOCKET or -p PID' "$dir/last.err" || fail "no socket at all: unclear message"

# ---- 4. an ordered shutdown, exit 0, socket removed (killed after 10 s) ----
kill -TERM "$pid" || fail "cannot send SIGTERM"
n=0
while alive && [ "$n" -lt 200 ]; do
    sleep 0.05
    n=$((n + 1))
done
alive && kill -KILL "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || fail "diagnose exited $status after SIGTERM (137: killed after 10 s)"
[ -e "$sock" ] && fail "the socket $sock is still there after exit"

echo "ok: troupectl answered every command against diagnose (deadlock and stall found)"
exit 0
