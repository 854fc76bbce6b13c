#!/bin/sh
# examples/hot_reload_test.sh: end-to-end test of examples/hot_reload (ctest
# example_hot_reload). Runs the example on a copy of its ini, then:
#   1. waits for a tick with the initial message, generation 1;
#   2. rewrites message and interval, sends SIGHUP, waits for a tick with the
#      new message, generation 2;
#   3. writes a bad interval, sends SIGHUP: stderr must have the rejection with
#      file:line, and the example must go on ticking the generation-2 message;
#   4. sends SIGTERM: the example must exit 0 after an ordered shutdown.
# Every wait polls in 50 ms steps for at most 10 s. The temp dir and the
# example are cleaned up on every path.
#
#   sh examples/hot_reload_test.sh BINARY INI
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BINARY INI" >&2
    exit 2
fi
bin=$1
src_ini=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hot_reload_test.XXXXXX") || exit 1
pid=
dog=
cleanup() {
    [ -n "$dog" ] && kill "$dog" 2>/dev/null
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ini=$tmp/hot_reload.ini
out=$tmp/stdout
err=$tmp/stderr

fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout of the example" >&2
    cat "$out" >&2 2>/dev/null
    echo "--- stderr of the example" >&2
    cat "$err" >&2 2>/dev/null
    exit 1
}

# alive: the example is running (kill -0 alone also succeeds for a zombie).
alive() {
    kill -0 "$pid" 2>/dev/null || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# wait_until WHAT COMMAND...: run COMMAND every 50 ms until it succeeds; fail
# after 10 s, or at once if the example has exited.
wait_until() {
    what=$1
    shift
    n=0
    until "$@"; do
        alive || fail "the example exited while waiting for $what"
        n=$((n + 1))
        [ "$n" -le 200 ] || fail "no $what after 10 s"
        sleep 0.05
    done
}

has() { grep -q -- "$1" "$2"; }                      # has PATTERN FILE
more_than() { [ "$(grep -c -- "$1" "$2")" -gt "$3" ]; } # more_than PATTERN FILE N

# write_ini INTERVAL MESSAGE: replace the copy in one step (write, rename),
# as an editor should, so a reload never reads a half-written file.
write_ini() {
    cat >"$ini.new" <<EOF
; written by hot_reload_test.sh
[runtime]
log_level = notice

[ticker]
interval = $1
message = $2
EOF
    mv -f "$ini.new" "$ini" || fail "cannot write $ini"
}

cp "$src_ini" "$ini" || fail "cannot copy $src_ini"
: >"$out"
: >"$err"
"$bin" "$ini" >"$out" 2>"$err" &
pid=$!

# 1. the initial config
wait_until "first tick" has '^tick [0-9]* (generation 1): hello$' "$out"
has "^edit $ini, then: kill -HUP $pid\$" "$out" || fail "no usage line"

# 2. a good edit
write_ini 50ms goodbye
kill -HUP "$pid" || fail "cannot send SIGHUP"
wait_until "tick of generation 2" has '^tick [0-9]* (generation 2): goodbye$' "$out"

# 3. a bad edit: rejected with file:line, generation 2 goes on
write_ini 5xs goodbye
line=$(grep -n '^interval' "$ini" | cut -d: -f1)
kill -HUP "$pid" || fail "cannot send SIGHUP"
wait_until "rejection on stderr" has "rejected.*hot_reload\.ini:$line:.*interval" "$err"
has 'generation 2 unchanged' "$err" || fail "the rejection does not say generation 2 unchanged"
gen2='^tick [0-9]* (generation 2): goodbye$'
ticks=$(grep -c -- "$gen2" "$out")
wait_until "tick of generation 2 after the rejection" more_than "$gen2" "$out" "$ticks"
if has 'generation 3' "$out"; then fail "a rejected config was applied"; fi

# 4. an ordered shutdown, exit 0 (the watchdog kills it after 10 s)
kill -TERM "$pid" || fail "cannot send SIGTERM"
(
    n=0
    while [ "$n" -lt 200 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    kill -KILL "$pid"
) >/dev/null 2>&1 &
dog=$!
wait "$pid"
status=$?
pid=
kill "$dog" 2>/dev/null
dog=
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM (137: killed after 10 s)"
has '^config generation 2: 1 reload(s) committed, 1 rejected$' "$out" ||
    fail "wrong reload counts at exit"

echo "ok: generation 1 -> 2 on SIGHUP, bad config rejected at line $line, exit 0"
exit 0
