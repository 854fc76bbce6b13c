# examples/kvd/kvd_lib.sh: shell functions shared by kvd_test.sh and
# demo.sh. Source it from bash, do not run it:
#
#   . examples/kvd/kvd_lib.sh
#   kvd_init NAME               a private temp dir $kvd_dir; on exit kvd is
#                               killed (SIGKILL) and the dir removed
#   kvd_need_redis_tools        fail unless redis-cli and redis-benchmark exist
#   kvd_start KVD INI [PORT]    kvd -c $kvd_ini -p PORT (default 0: a free
#                               port) on a copy of INI; waits until it listens
#                               and sets kvd_pid, kvd_port, kvd_sock
#   kvd_try_start KVD INI PORT  the same, but returns 1 if kvd exits first
#                               (a port in use, say)
#   wait_until WHAT COMMAND...  run COMMAND every 50 ms until it succeeds;
#                               fail after 10 s, or at once if kvd exited
#   kvd_stop                    SIGTERM, wait at most 10 s (then SIGKILL);
#                               sets kvd_status
#   fail MESSAGE                print it and kvd's stdout and stderr, exit 1
#
# kvd's stdout and stderr go to $kvd_out and $kvd_err.
# shellcheck shell=bash disable=SC2034 # (the variables are for the scripts)

kvd_dir=
kvd_ini=
kvd_out=
kvd_err=
kvd_pid=
kvd_port=
kvd_sock=
kvd_status=

# shellcheck disable=SC2317 # (called by the trap)
kvd_cleanup() {
    set +e
    exec 3>&- 4>&- 5>&- # connections the scripts hold
    if [ -n "$kvd_pid" ]; then
        kill -KILL "$kvd_pid" 2>/dev/null
        wait "$kvd_pid" 2>/dev/null
        kvd_pid=
    fi
    [ -n "$kvd_dir" ] && rm -rf "$kvd_dir"
}

kvd_init() {
    kvd_dir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
    chmod 0700 "$kvd_dir"
    kvd_ini=$kvd_dir/kvd.ini
    kvd_out=$kvd_dir/kvd.out
    kvd_err=$kvd_dir/kvd.err
    trap kvd_cleanup EXIT
    trap 'exit 1' HUP INT TERM
}

fail() {
    echo "FAIL: $*" >&2
    if [ -n "$kvd_dir" ] && [ -e "$kvd_out" ]; then # kvd was started
        echo "--- stdout of kvd" >&2
        cat "$kvd_out" >&2 2>/dev/null
        echo "--- stderr of kvd" >&2
        cat "$kvd_err" >&2 2>/dev/null
    fi
    exit 1
}

kvd_need_redis_tools() {
    local t
    for t in redis-cli redis-benchmark; do
        command -v "$t" >/dev/null 2>&1 ||
            fail "$t not found: install redis-tools (Debian/Ubuntu: apt-get install redis-tools)"
    done
}

# kvd_alive: kvd is running (kill -0 alone also succeeds for a zombie).
kvd_alive() {
    [ -n "$kvd_pid" ] && kill -0 "$kvd_pid" 2>/dev/null || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$kvd_pid/status" 2>/dev/null
}

wait_until() {
    local what=$1 n=0
    shift
    until "$@"; do
        kvd_alive || fail "kvd exited while waiting for $what"
        n=$((n + 1))
        [ "$n" -le 200 ] || fail "no $what after 10 s"
        sleep 0.05
    done
}

kvd_try_start() {
    local bin=$1 src=$2 port=${3:-0} n=0
    cp "$src" "$kvd_ini" || fail "cannot copy $src"
    : >"$kvd_out"
    : >"$kvd_err"
    "$bin" -c "$kvd_ini" -p "$port" >"$kvd_out" 2>"$kvd_err" &
    kvd_pid=$!
    # The listener logs "listening on" from its init; main prints the
    # socket after the whole tree started, its "Ctrl-C" line last.
    until grep -q 'kvd: listening on ' "$kvd_err" && grep -q '^  Ctrl-C or kill ' "$kvd_out"; do
        if ! kvd_alive; then
            wait "$kvd_pid" 2>/dev/null
            kvd_pid=
            return 1
        fi
        n=$((n + 1))
        [ "$n" -le 200 ] || fail "kvd did not start listening within 10 s"
        sleep 0.05
    done
    kvd_port=$(sed -n 's/.*kvd: listening on .*:\([0-9][0-9]*\) (.*/\1/p' "$kvd_err" | head -n 1)
    kvd_sock=$(sed -n 's/.*; debug socket \(.*\)$/\1/p' "$kvd_out" | head -n 1)
    [ -n "$kvd_port" ] || fail "no port in kvd's 'listening on' line"
    return 0
}

kvd_start() {
    kvd_try_start "$@" || fail "kvd exited at start"
}

kvd_stop() {
    local n=0
    kill -TERM "$kvd_pid" || fail "cannot send SIGTERM to kvd"
    while kvd_alive && [ "$n" -lt 200 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    kvd_alive && kill -KILL "$kvd_pid"
    kvd_status=0
    wait "$kvd_pid" || kvd_status=$?
    kvd_pid=
}
