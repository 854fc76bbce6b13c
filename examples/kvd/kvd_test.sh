#!/usr/bin/env bash
# examples/kvd/kvd_test.sh: end-to-end test of kvd with real clients (ctest
# kvd_e2e). Starts kvd on a copy of INI with -p 0 (a free port), then:
#   a. redis-cli: PING, SET/GET, INCR, MSET/MGET, DEL, EXISTS, DBSIZE, KEYS,
#      TTLs (EX, EXPIRE, PERSIST), the unknown-command and arity errors,
#      CONFIG GET, the INFO sections; exact answers, and total_error_replies
#      counts exactly the errors asked for;
#   b. redis-benchmark -q -n 100000 -P 16 -t set,get,incr,mset: four results,
#      then the answers: the INCR counter is exactly 100000, the SET/MSET key
#      holds redis-benchmark's value, no error reply, no protocol error, no
#      call left pending;
#   c. DEBUG PANIC 1: the client gets DropWithoutReport, INFO and troupectl
#      show shard-1 restarted once, SET/GET work on every shard; then the same
#      pipelined (SET, DEBUG PANIC 2, PING in one write: +OK, the error, +PONG);
#   d. garbage (bad multibulk, binary junk, an endless inline line): one
#      "-ERR Protocol error: ..." line, then the server closes; other clients
#      are still served;
#   e. live config (SIGHUP): max_clients = 1 refuses a second client,
#      debug_commands = no refuses DEBUG; a port change is logged as needing
#      a restart and the old port keeps serving; shards = 0 is rejected with
#      file:line and nothing of that file is applied;
#   f. troupectl -p PID tree shows the supervision tree;
#   g. SIGTERM: exit 0 within 10 s, "shut down cleanly", debug socket gone.
# Needs redis-cli and redis-benchmark (Debian: redis-tools); fails without
# them. Every wait polls in 50 ms steps for at most 10 s; no step is timed
# (it runs under AddressSanitizer too).
#
#   bash examples/kvd/kvd_test.sh KVD TROUPECTL INI
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015 # (predicates called by wait_until; A && B || fail)
set -u -o pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 KVD TROUPECTL INI" >&2
    exit 2
fi
kvd=$1
ctl=$2
src_ini=$3

# shellcheck source=kvd_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/kvd_lib.sh"
kvd_init kvd_test
kvd_need_redis_tools
[ -x "$ctl" ] || fail "no troupectl at $ctl"

# ---- helpers ----

# cli ARGS...: redis-cli on kvd; what it printed (stdout and stderr) in $out.
out=
cli() {
    out=$(timeout 30 redis-cli -p "$kvd_port" "$@" 2>&1) || fail "redis-cli $* exited $?: $out"
}

# is EXPECTED ARGS...: redis-cli ARGS prints exactly EXPECTED.
is() {
    local want=$1
    shift
    cli "$@"
    [ "$out" = "$want" ] || fail "redis-cli $*: got '$out', expected '$want'"
}

# is_err EXPECTED ARGS...: the same for an error reply, counted in $errs.
errs=0
is_err() {
    is "$@"
    errs=$((errs + 1))
}

# between LOW HIGH ARGS...: redis-cli ARGS prints an integer in [LOW, HIGH].
between() {
    local lo=$1 hi=$2
    shift 2
    cli "$@"
    [[ $out =~ ^-?[0-9]+$ ]] && [ "$out" -ge "$lo" ] && [ "$out" -le "$hi" ] ||
        fail "redis-cli $*: got '$out', expected $lo to $hi"
}

# info SECTION: INFO SECTION without CRs, in $out.
info() {
    cli INFO "$1"
    out=$(printf '%s\n' "$out" | tr -d '\r')
}

# info_is SECTION FIELD VALUE: INFO SECTION has the line FIELD:VALUE.
info_is() {
    info "$1"
    local got
    got=$(printf '%s\n' "$out" | sed -n "s/^$2://p")
    [ "$got" = "$3" ] || fail "INFO $1: $2 is '$got', expected '$3'"
}

# info_has SECTION LINE: quietly, INFO SECTION has LINE (for wait_until).
# (No `| grep -q` anywhere: under pipefail, grep leaving early can make the
# writer die of SIGPIPE and the pipeline fail.)
info_has() {
    local t
    t=$(timeout 30 redis-cli -p "$kvd_port" INFO "$1" 2>/dev/null) || return 1
    grep -qx -- "$2" <<<"${t//$'\r'/}"
}

# config_is KEY VALUE: quietly, CONFIG GET KEY answers VALUE (for wait_until).
config_is() {
    [ "$(timeout 30 redis-cli -p "$kvd_port" CONFIG GET "$1" 2>&1)" = "$1"$'\n'"$2" ]
}

log_has() { grep -Eq -- "$1" "$kvd_err"; }    # log_has REGEX: in kvd's stderr
log_has_f() { grep -Fq -- "$1" "$kvd_err"; }  # log_has_f STRING: the same, fixed

# reply FD: read one reply line from FD into $line, CR dropped; fail if none
# comes within 10 s or the server closed first.
line=
reply() {
    local st=0
    IFS= read -r -t 10 -u "$1" line || st=$?
    [ "$st" -eq 0 ] || fail "no reply line on fd $1 (read status $st: >128 timeout, 1 closed)"
    line=${line%$'\r'}
}

# closed FD: the server closes FD without sending anything more.
closed() {
    local st=0 rest=
    IFS= read -r -t 10 -u "$1" rest || st=$?
    [ "$st" -eq 1 ] && [ -z "$rest" ] ||
        fail "fd $1 was not closed by the server (read status $st: >128 timeout; got '$rest')"
}

connect() { # connect FD: a new connection to kvd on FD
    eval "exec $1<>/dev/tcp/127.0.0.1/$kvd_port" || fail "cannot connect to 127.0.0.1:$kvd_port"
}

# shard_of KEY: the shard kvd sends KEY to (kvd_shard_of in resp.c: 64-bit
# FNV-1a, modulo the shard count), in bash's wrapping signed 64-bit
# arithmetic: the offset basis 14695981039346656037 is written as its signed
# value, and the unsigned modulo is taken from h/2 and h%2. Step c checks it
# against INFO shards.
shard_of() {
    local key=$1 h=-3750763034362895579 i c
    for ((i = 0; i < ${#key}; i++)); do
        printf -v c '%d' "'${key:i:1}"
        h=$(((h ^ c) * 1099511628211))
    done
    echo $(((((h >> 1) & 0x7fffffffffffffff) % nshards * 2 + (h & 1)) % nshards))
}

# key_on SHARD: a key kvd keeps on SHARD.
key_on() {
    local i=0
    while [ "$(shard_of "key-$i")" -ne "$1" ]; do i=$((i + 1)); done
    echo "key-$i"
}

# restarted_once SHARD...: INFO shards shows restarts=1 for these shards and
# restarts=0 for the others (for wait_until).
restarted_once() {
    local want='' s got
    for ((s = 0; s < nshards; s++)); do
        case " $* " in *" $s "*) want+="1 " ;; *) want+="0 " ;; esac
    done
    got=$(timeout 30 redis-cli -p "$kvd_port" INFO shards 2>/dev/null | tr -d '\r' |
        sed -n 's/^shard_[0-9]*:.*,restarts=\([0-9]*\)$/\1/p' | tr '\n' ' ')
    [ "$got" = "$want" ]
}

# bench_value SIZE: the value redis-benchmark writes (genBenchmarkRandomData
# in redis-benchmark.c: an LCG from seed 1234, '0' + 6 bits per byte).
bench_value() {
    local s=1234 v='' i
    for ((i = 0; i < $1; i++)); do
        s=$(((s * 1103515245 + 12345) & 0xffffffff))
        v+=$(printf '%b' "\\$(printf %03o $((48 + ((s >> 16) & 63))))")
    done
    echo "$v"
}

# ini_set KEY VALUE: set KEY in the copy, in one step (write, rename) as an
# editor should, so a reload never reads a half-written file.
ini_set() {
    sed "s/^$1[[:space:]]*=.*/$1 = $2/" "$kvd_ini" >"$kvd_ini.new" && mv -f "$kvd_ini.new" "$kvd_ini" ||
        fail "cannot write $kvd_ini"
    grep -q "^$1 = $2\$" "$kvd_ini" || fail "no key $1 in $kvd_ini"
}

# ---- start ----
kvd_start "$kvd" "$src_ini" 0
echo "kvd pid $kvd_pid on port $kvd_port, debug socket ${kvd_sock:-none}"
cli CONFIG GET shards
nshards=${out#shards$'\n'}
[[ $nshards =~ ^[0-9]+$ ]] && [ "$nshards" -ge 3 ] || fail "CONFIG GET shards: '$out' (the test needs 3 shards or more)"

# ---- a. redis-cli: exact answers ----
is PONG PING
is hello PING hello
is OK SET greeting hello
is hello GET greeting
is "" GET nosuch
is 1 INCR n
is 11 INCRBY n 10
is 10 DECR n
is OK MSET k1 v1 k2 v2 k3 v3 k4 v4
is $'v1\nv2\n\nv4' MGET k1 k2 nosuch k4
is $'v3\nv3' MGET k3 k3
is 2 DEL k1 k2 nosuch
is 1 EXISTS k3
is 2 EXISTS k3 k3 nosuch
is 0 EXISTS k1 k2
is 4 DBSIZE
cli KEYS 'k*'
[ "$(printf '%s\n' "$out" | LC_ALL=C sort)" = $'k3\nk4' ] || fail "KEYS k*: got '$out'"
cli KEYS '*'
[ "$(printf '%s\n' "$out" | LC_ALL=C sort)" = $'greeting\nk3\nk4\nn' ] || fail "KEYS *: got '$out'"
is OK SET t v EX 100
between 90 100 TTL t # (a margin for a slow machine: 10 s)
between 90000 100000 PTTL t
is 1 EXPIRE greeting 50
between 40 50 TTL greeting
is 1 PERSIST greeting
is -1 TTL greeting
is 0 PERSIST greeting
is -2 TTL nosuch
is 0 EXPIRE nosuch 5
info keyspace
grep -qx 'db0:keys=5,expires=1,avg_ttl=0' <<<"$out" || fail "INFO keyspace: '$out'"
is_err "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' " NOSUCHCMD a b
is_err "ERR wrong number of arguments for 'get' command" GET
is_err "ERR wrong number of arguments for 'set' command" SET lonely
is_err "ERR syntax error" SET a b BOGUS
is_err "ERR value is not an integer or out of range" INCR greeting
is $'port\n'"$kvd_port" CONFIG GET port
is $'max_clients\n10000' CONFIG GET max_clients
info ""
for s in Server Clients Stats Keyspace Shards Troupe; do
    grep -qx "# $s" <<<"$out" || fail "INFO has no '# $s' section"
done
grep -qx "tcp_port:$kvd_port" <<<"$out" || fail "INFO: no tcp_port:$kvd_port"
info_is stats total_error_replies "$errs"
info_is stats protocol_errors 0
echo "a. redis-cli: exact answers, $errs error replies as asked"

# ---- b. redis-benchmark, then its answers ----
bench=$kvd_dir/bench.out
timeout 240 redis-benchmark -p "$kvd_port" -q -n 100000 -P 16 -t set,get,incr,mset >"$bench" 2>&1 ||
    { st=$?; tr '\r' '\n' <"$bench" >&2; fail "redis-benchmark exited $st (124: no end after 240 s)"; }
# Progress lines end in CR; the results are the lines with "requests per second".
results=$(tr '\r' '\n' <"$bench" | grep 'requests per second')
printf '%s\n' "$results" | sed 's/^/   /'
for t in 'SET' 'GET' 'INCR' 'MSET (10 keys)'; do
    grep -qF "$t: " <<<"$results" || fail "redis-benchmark: no $t result"
done
[ "$(printf '%s\n' "$results" | wc -l)" -eq 4 ] || fail "redis-benchmark: not 4 result lines"
if grep -qi 'error' "$bench"; then
    tr '\r' '\n' <"$bench" >&2
    fail "redis-benchmark reported an error"
fi
is 100000 GET counter:__rand_int__
is "$(bench_value 3)" GET key:__rand_int__
wait_until "calls_pending:0 in INFO troupe" info_has troupe calls_pending:0
info_is stats total_error_replies "$errs"
info_is stats protocol_errors 0
info_is troupe calls_timeout 0
echo "b. redis-benchmark: 4 results; counter 100000, value $(bench_value 3), no error reply"

# ---- c. a shard panics and is restarted ----
cli DEBUG PANIC 1
errs=$((errs + 1))
[[ $out == *DropWithoutReport* && $out == *panicked* ]] ||
    fail "DEBUG PANIC 1: got '$out', expected a DropWithoutReport ... panicked error"
wait_until "shard_1 restarts=1 (the others 0) in INFO shards" restarted_once 1
"$ctl" -p "$kvd_pid" tree >"$kvd_dir/tree.out" 2>&1 || { cat "$kvd_dir/tree.out" >&2; fail "troupectl -p $kvd_pid tree failed"; }
grep -Eq 'shard-1 <kvd_shard> .*restarts 1([^0-9]|$)' "$kvd_dir/tree.out" ||
    { cat "$kvd_dir/tree.out" >&2; fail "troupectl tree: shard-1 without 'restarts 1'"; }
if grep -q 'shard-0 .*restarts' "$kvd_dir/tree.out"; then
    cat "$kvd_dir/tree.out" >&2
    fail "troupectl tree: shard-0 shows a restart"
fi
# SET and GET on every shard: one key each (shard_of), checked with INFO.
is OK FLUSHALL
is 0 DBSIZE
for ((s = 0; s < nshards; s++)); do
    is OK SET "$(key_on $s)" "value-$s"
    info shards # the key went to shard s
    grep -q "^shard_$s:keys=1," <<<"$out" ||
        fail "INFO shards: $(key_on $s) did not go to shard_$s (the key-to-shard hash changed?): $out"
done
for ((s = 0; s < nshards; s++)); do
    is "value-$s" GET "$(key_on $s)"
done
# Pipelined: the replies come in order, the one behind the panic too.
connect 3
printf 'SET x 1\r\nDEBUG PANIC 2\r\nPING\r\n' >&3
reply 3
[ "$line" = "+OK" ] || fail "pipelined SET x 1: got '$line'"
reply 3
[[ $line == "-ERR DropWithoutReport: shard-2 "*panicked* ]] || fail "pipelined DEBUG PANIC 2: got '$line'"
errs=$((errs + 1))
reply 3
[ "$line" = "+PONG" ] || fail "pipelined PING after the panic: got '$line'"
exec 3>&-
wait_until "shard_2 restarts=1 in INFO shards" restarted_once 1 2
if [ "$(shard_of x)" -eq 2 ]; then is "" GET x; else is 1 GET x; fi
is OK SET x 2
is 2 GET x
echo "c. DEBUG PANIC: DropWithoutReport, shards 1 and 2 restarted once, every shard serves"

# ---- d. garbage: an error line, then the server closes ----
connect 5 # a bystander, served before and after
printf 'PING\r\n' >&5
reply 5
[ "$line" = "+PONG" ] || fail "bystander PING: got '$line'"
# shellcheck disable=SC2016 # ($ is RESP, not the shell's)
printf '*1\r\n$abc\r\n' >"$kvd_dir/junk1"
printf '*\001\376\r\n' >"$kvd_dir/junk2"
# shellcheck disable=SC2016
printf '*2\r\n$3\r\nGET\r\n:5\r\n' >"$kvd_dir/junk3"
head -c 65537 /dev/zero | tr '\000' '\377' >"$kvd_dir/junk4" # no newline: past the inline limit
junk() { # junk FILE EXPECTED
    connect 4
    cat "$1" >&4 || fail "cannot send $1"
    reply 4
    [ "$line" = "$2" ] || fail "garbage $(basename "$1"): got '$line', expected '$2'"
    closed 4
    exec 4>&-
    errs=$((errs + 1))
}
junk "$kvd_dir/junk1" "-ERR Protocol error: invalid bulk length"
junk "$kvd_dir/junk2" "-ERR Protocol error: invalid multibulk length"
junk "$kvd_dir/junk3" "-ERR Protocol error: expected '\$', got ':'"
junk "$kvd_dir/junk4" "-ERR Protocol error: too big inline request"
printf 'PING\r\n' >&5
reply 5
[ "$line" = "+PONG" ] || fail "bystander PING after the garbage: got '$line'"
exec 5>&-
is PONG PING
is 2 GET x
info_is stats protocol_errors 4
info_is stats total_error_replies "$errs"
echo "d. garbage: 4 protocol errors answered and closed; others still served"

# ---- e. live config ----
ini_set max_clients 1
ini_set debug_commands no
kill -HUP "$kvd_pid" || fail "cannot send SIGHUP"
wait_until "the max_clients change in kvd's log" log_has 'kvd: max_clients 10000 -> 1$'
log_has 'kvd: debug_commands yes -> no$' || fail "no debug_commands change in kvd's log"
# The connections of the last redis-cli runs may still be closing, and they
# count until they have: poll until one client is served.
wait_until "CONFIG GET max_clients = 1 (a client accepted)" config_is max_clients 1
hold() { # hold fd 3: a connection kvd serves
    exec 3<>/dev/tcp/127.0.0.1/"$kvd_port" || return 1
    printf 'PING\r\n' >&3
    local l=
    IFS= read -r -t 10 -u 3 l
    [ "$l" = $'+PONG\r' ] && return 0
    exec 3>&-
    return 1
}
wait_until "a connection served on fd 3" hold
is "ERR max number of clients reached" PING
printf 'DEBUG PANIC 0\r\n' >&3
reply 3
[ "$line" = "-ERR DEBUG is disabled: set debug_commands = yes in [kvd] and reload" ] ||
    fail "DEBUG PANIC with debug_commands = no: got '$line'"
exec 3>&-
# A restart-only key: logged, the old port goes on serving.
old=$(sed -n 's/^port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$kvd_ini")
new=$((old == 6390 ? 6391 : 6390))
ini_set port "$new"
ini_set max_clients 100
kill -HUP "$kvd_pid" || fail "cannot send SIGHUP"
wait_until "the port warning in kvd's log" \
    log_has_f "kvd: changed port: needs a restart; still serving 127.0.0.1:$kvd_port with $nshards shards"
log_has 'kvd: max_clients 1 -> 100$' || fail "no max_clients 1 -> 100 in kvd's log"
is PONG PING
is $'port\n'"$kvd_port" CONFIG GET port
is $'max_clients\n100' CONFIG GET max_clients
is $'debug_commands\nno' CONFIG GET debug_commands
# A bad value rejects the whole file, with file:line.
line_no=$(grep -n '^shards' "$kvd_ini" | cut -d: -f1)
ini_set shards 0
ini_set max_clients 7
kill -HUP "$kvd_pid" || fail "cannot send SIGHUP"
wait_until "the rejection in kvd's log" log_has_f "rejected: $kvd_ini:$line_no: [kvd] shards"
is $'max_clients\n100' CONFIG GET max_clients
is $'shards\n'"$nshards" CONFIG GET shards
! log_has 'max_clients 100 -> 7' || fail "a rejected config was applied"
info_is troupe reloads_ok 2
info_is troupe reloads_failed 1
echo "e. live config: max_clients and debug_commands applied, port needs a restart, shards = 0 rejected at line $line_no"

# ---- f. the supervision tree ----
"$ctl" -p "$kvd_pid" tree >"$kvd_dir/tree.out" 2>&1 || { cat "$kvd_dir/tree.out" >&2; fail "troupectl -p $kvd_pid tree failed"; }
tree_has() {
    grep -Eq -- "$1" "$kvd_dir/tree.out" || { cat "$kvd_dir/tree.out" >&2; fail "troupectl tree lacks /$1/"; }
}
tree_has '^kvd \(one_for_one'
tree_has ' shards \(one_for_one'
for ((s = 0; s < nshards; s++)); do
    tree_has " shard-$s <kvd_shard> "
done
tree_has 'shard-2 <kvd_shard> .*restarts 1([^0-9]|$)'
tree_has ' clients \(simple_one_for_one'
tree_has ' listener <kvd_listener> '
[ -z "$kvd_sock" ] || [ -S "$kvd_sock" ] || fail "no debug socket at $kvd_sock"
echo "f. troupectl tree: kvd, shards, shard-0..$((nshards - 1)), clients, listener"

# ---- g. an ordered shutdown ----
kvd_stop
[ "$kvd_status" -eq 0 ] || fail "exit status $kvd_status after SIGTERM (137: killed after 10 s)"
grep -q '^kvd: shut down cleanly: ' "$kvd_out" || fail "no 'shut down cleanly' on stdout"
log_has 'ordered shutdown complete' || fail "no 'ordered shutdown complete' in kvd's log"
[ -n "$kvd_sock" ] && [ -e "$kvd_sock" ] && fail "the debug socket $kvd_sock is still there after exit"
echo "g. SIGTERM: exit 0, shut down cleanly, debug socket removed"
echo "ok: kvd end to end"
exit 0
