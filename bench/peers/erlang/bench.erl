%% bench/peers/erlang/bench.erl: the Erlang/OTP peer of troupe's side-by-side
%% benchmarks (bench/bench_*.c hold the troupe versions; the same workloads,
%% written as Erlang users would: plain processes and `!` for pingpong, ring
%% and fanin, a gen_server and gen_server:call for ask_seq, asynchronous
%% gen_server requests for ask_pipelined, an OTP supervisor for restart).
%%
%% Build and run through the scripts next to it (each run is a fresh VM):
%%   bench/peers/erlang/build.sh OUT_DIR
%%   bench/peers/erlang/run.sh OUT_DIR WORKLOAD THREADS   (THREADS: 1 or 2)
%%   bench/peers/erlang/run.sh OUT_DIR version
%% which comes down to
%%   erl -noshell +S THREADS:THREADS +P 2097152 -pa OUT_DIR -run bench main WORKLOAD
%% Workloads: pingpong ring ask_seq ask_pipelined spawn fanin restart.
%% Output: "name: value unit" lines, then indented detail lines; on a failed
%% check a message on stderr and exit status 1.
-module(bench).

-export([main/1]).
-export([idle/0]).

-define(PINGPONG_MSGS, 2000000).
-define(RING_SIZE, 1000).
-define(RING_HOPS, 2000000).
-define(ASK_SEQ_CALLS, 500000).
-define(PIPE_REQS, 2000000).
-define(PIPE_WINDOW, 1000).
-define(SPAWN_PROCS, 1000000).
-define(FANIN_PER_PRODUCER, 2000000).
-define(FANIN_PRODUCERS, 2).
-define(RESTARTS, 100000).
-define(SPLIT, 2000).                         % restarts timed at each end

%% Entry point (erl -run bench main WORKLOAD). The workload runs in a fresh
%% process of its own, not in init; this one waits for it and halts the VM.
main([Workload]) ->
    Fun = case Workload of
              "pingpong"      -> fun pingpong/0;
              "ring"          -> fun ring/0;
              "ask_seq"       -> fun ask_seq/0;
              "ask_pipelined" -> fun ask_pipelined/0;
              "spawn"         -> fun spawn_idle/0;
              "fanin"         -> fun fanin/0;
              "restart"       -> fun restart/0;
              "version"       -> fun version/0;
              _ -> fail("unknown workload ~s (pingpong ring ask_seq ask_pipelined "
                        "spawn fanin restart version)", [Workload])
          end,
    {_Pid, Ref} = spawn_monitor(fun() -> Fun(), exit(bench_ok) end),
    receive
        {'DOWN', Ref, process, _, bench_ok} ->
            halt(0);
        {'DOWN', Ref, process, _, Reason} ->
            io:format(standard_error, "~s: crashed: ~p~n", [Workload, Reason]),
            halt(1)
    end;
main(Args) ->
    fail("usage: erl -run bench main WORKLOAD (got ~p)", [Args]).

%% ---------------------------------------------------------------- helpers

now_ns() -> erlang:monotonic_time(nanosecond).

secs(T0, T1) -> (T1 - T0) / 1.0e9.

fail(Fmt, Args) ->
    io:format(standard_error, Fmt ++ "~n", Args),
    erlang:halt(1).

%% A figure line: "name: <integer> unit".
figure(Name, Value, Unit) ->
    io:format("~s: ~b ~s~n", [Name, round(Value), Unit]).

detail(Fmt, Args) ->
    io:format("  " ++ Fmt ++ "~n", Args).

schedulers_line() ->
    detail("~s, +S ~b:~b (schedulers:online), ~b dirty CPU schedulers",
           [otp_version(), erlang:system_info(schedulers),
            erlang:system_info(schedulers_online),
            erlang:system_info(dirty_cpu_schedulers)]).

otp_version() ->
    Rel = erlang:system_info(otp_release),
    File = filename:join([code:root_dir(), "releases", Rel, "OTP_VERSION"]),
    Full = case file:read_file(File) of
               {ok, Bin} -> string:trim(binary_to_list(Bin));
               _ -> Rel
           end,
    "Erlang/OTP " ++ Full ++ " (erts-" ++ erlang:system_info(version) ++ ")".

version() ->
    io:format("~s~n", [otp_version()]).

%% --------------------------------------------------------------- pingpong
%% Two processes bounce an integer counter (messages left, this one
%% included); 2,000,000 messages in total, the first from the driver.

pingpong() ->
    N = ?PINGPONG_MSGS,
    Self = self(),
    A = spawn(fun() -> receive {peer, P} -> player(P, Self, 0) end end),
    B = spawn(fun() -> player(A, Self, 0) end),
    A ! {peer, B},
    T0 = now_ns(),
    A ! N,
    T1 = receive {last_ball, _} -> now_ns() end,
    Handled = lists:sum([begin P ! {stop, Self}, receive {handled, P, H} -> H end end
                         || P <- [A, B]]),
    Handled =:= N orelse fail("pingpong: ~b messages handled, expected ~b", [Handled, N]),
    S = secs(T0, T1),
    figure("pingpong", N / S, "msg/s"),
    detail("messages ~b in ~.3f s, ~.1f ns/msg; two plain processes, Pid ! Integer",
           [N, S, S * 1.0e9 / N]),
    schedulers_line().

player(Peer, Main, Handled) ->
    receive
        1 ->
            Main ! {last_ball, self()},
            player(Peer, Main, Handled + 1);
        K when is_integer(K) ->
            Peer ! K - 1,
            player(Peer, Main, Handled + 1);
        {stop, From} ->
            From ! {handled, self(), Handled}
    end.

%% ------------------------------------------------------------------- ring
%% 1,000 processes in a ring pass one token (hops left, this one included);
%% 2,000,000 hops. Node i gets hop k at i = k rem 1000, so the last hop
%% (k = N - 1) must land on node (N - 1) rem 1000.

ring() ->
    N = ?RING_HOPS,
    Self = self(),
    Nodes = [spawn(fun() -> receive {next, Next} -> ring_node(I, Next, Self) end end)
             || I <- lists:seq(0, ?RING_SIZE - 1)],
    [First | Rest] = Nodes,
    lists:foreach(fun({P, Next}) -> P ! {next, Next} end,
                  lists:zip(Nodes, Rest ++ [First])),
    T0 = now_ns(),
    First ! N,
    {T1, Last} = receive {token_done, I} -> {now_ns(), I} end,
    Last =:= (N - 1) rem ?RING_SIZE
        orelse fail("ring: the last hop landed on node ~b, expected ~b",
                    [Last, (N - 1) rem ?RING_SIZE]),
    S = secs(T0, T1),
    figure("ring", N / S, "hops/s"),
    detail("ring of ~b processes, ~b hops in ~.3f s, ~.1f ns/hop (spawning and wiring "
           "not timed)", [?RING_SIZE, N, S, S * 1.0e9 / N]),
    schedulers_line().

ring_node(I, Next, Main) ->
    receive
        1 -> Main ! {token_done, I};
        K -> Next ! K - 1
    end,
    ring_node(I, Next, Main).

%% ---------------------------------------------------------------- ask_seq
%% 500,000 sequential gen_server:call({add1, V}) to bench_adder; each call
%% starts after the previous reply; the final value must be the call count.

ask_seq() ->
    N = ?ASK_SEQ_CALLS,
    {ok, Server} = bench_adder:start_link(),
    T0 = now_ns(),
    Final = ask_seq_loop(Server, 0, N),
    T1 = now_ns(),
    Final =:= N orelse fail("ask_seq: final value ~b, expected ~b", [Final, N]),
    Served = gen_server:call(Server, served),
    Served =:= N orelse fail("ask_seq: server served ~b, expected ~b", [Served, N]),
    S = secs(T0, T1),
    figure("ask_seq", N / S, "round_trips/s"),
    io:format("ask_seq_latency: ~.1f ns~n", [S * 1.0e9 / N]),
    detail("round trips ~b in ~.3f s; gen_server:call(Server, {add1, V}) "
           "(timeout 5000 ms, the default)", [N, S]),
    schedulers_line().

ask_seq_loop(_Server, V, 0) ->
    V;
ask_seq_loop(Server, V, Left) ->
    case gen_server:call(Server, {add1, V}) of
        V1 when V1 =:= V + 1 -> ask_seq_loop(Server, V1, Left - 1);
        Other -> fail("ask_seq: reply ~p to ~b", [Other, V])
    end.

%% ---------------------------------------------------------- ask_pipelined
%% 2,000,000 asynchronous requests ({add1, I}, I = 0 .. N-1) to bench_adder
%% with gen_server:send_request/2, at most 1,000 in flight; each reply
%% (gen_server:receive_response/2, oldest first: the server answers in
%% order) triggers the next request. The replies must sum to N(N+1)/2.
%% Erlang mailboxes are unbounded: the window alone limits the server's
%% queue; its length is sampled every 16,384 replies.

-record(pipe, {server, n, issued = 0, done = 0, sum = 0, queue,
               max_in_flight = 0, max_qlen = 0}).

ask_pipelined() ->
    N = ?PIPE_REQS,
    {ok, Server} = bench_adder:start_link(),
    T0 = now_ns(),
    P0 = pipe_fill(#pipe{server = Server, n = N, queue = queue:new()}),
    P = pipe_loop(P0),
    T1 = now_ns(),
    Expect = N * (N + 1) div 2,
    (P#pipe.done =:= N andalso P#pipe.sum =:= Expect)
        orelse fail("ask_pipelined: ~b replies summing to ~b, expected ~b summing to ~b",
                    [P#pipe.done, P#pipe.sum, N, Expect]),
    S = secs(T0, T1),
    figure("ask_pipelined", N / S, "req/s"),
    detail("requests ~b in ~.3f s, ~.1f ns/req, window ~b (max in flight ~b)",
           [N, S, S * 1.0e9 / N, ?PIPE_WINDOW, P#pipe.max_in_flight]),
    detail("server mailbox: unbounded (Erlang mailboxes have no capacity; only the "
           "window limits it), sampled max queue length ~b", [P#pipe.max_qlen]),
    detail("gen_server:send_request/2 + gen_server:receive_response/2 "
           "(a monitor and an alias per request)", []),
    schedulers_line().

pipe_fill(#pipe{issued = I, n = N} = P) when I < N, I < ?PIPE_WINDOW ->
    pipe_fill(pipe_issue(P));
pipe_fill(P) ->
    P.

pipe_issue(#pipe{server = Server, issued = I, done = D, queue = Q, max_in_flight = M} = P) ->
    ReqId = gen_server:send_request(Server, {add1, I}),
    P#pipe{issued = I + 1, queue = queue:in(ReqId, Q), max_in_flight = max(M, I + 1 - D)}.

pipe_loop(#pipe{done = N, n = N} = P) ->
    P;
pipe_loop(#pipe{queue = Q, sum = Sum, done = D} = P0) ->
    {{value, ReqId}, Q1} = queue:out(Q),
    V = case gen_server:receive_response(ReqId, infinity) of
            {reply, R} -> R;
            Error -> fail("ask_pipelined: request failed: ~p", [Error])
        end,
    P1 = pipe_sample(P0#pipe{queue = Q1, sum = Sum + V, done = D + 1}),
    P2 = case P1#pipe.issued < P1#pipe.n of
             true -> pipe_issue(P1);
             false -> P1
         end,
    pipe_loop(P2).

pipe_sample(#pipe{done = D, server = Server, max_qlen = M} = P) when D band 16383 =:= 0 ->
    {message_queue_len, L} = erlang:process_info(Server, message_queue_len),
    P#pipe{max_qlen = max(M, L)};
pipe_sample(P) ->
    P.

%% ------------------------------------------------------------------ spawn
%% Spawn 1,000,000 processes that block in receive (started with +P 2097152).
%% Memory: RSS read by this node from /proc/self/statm, before spawning (the
%% VM up) and once all of them wait in receive (the run queues drained),
%% divided by the count. Only the first and last pids are kept (a list of
%% a million would add to the RSS); they answer a ping as a check.

idle() ->
    receive
        {ping, From} -> From ! {pong, self()}, idle();
        stop -> ok
    end.

spawn_idle() ->
    N = ?SPAWN_PROCS,
    PageSize = page_size(),
    erlang:garbage_collect(),
    Procs0 = erlang:system_info(process_count),
    Rss0 = rss_bytes(PageSize),
    T0 = now_ns(),
    {First, Last} = spawn_loop(N),
    T1 = now_ns(),
    Rss1 = rss_bytes(PageSize),
    wait_run_queues_empty(),
    T2 = now_ns(),
    Rss2 = rss_bytes(PageSize),
    Procs1 = erlang:system_info(process_count),
    First ! {ping, self()},
    Last ! {ping, self()},
    Pongs = [receive {pong, P} -> P after 10000 -> none end || P <- [First, Last]],
    Pongs =:= [First, Last] orelse fail("spawn: pings answered: ~p", [Pongs]),
    Procs1 - Procs0 =:= N
        orelse fail("spawn: ~b processes alive, expected ~b", [Procs1 - Procs0, N]),
    S = secs(T0, T1),
    figure("spawn", N / S, "actors/s"),
    figure("spawn_mem", max(Rss2 - Rss0, 0) / N, "bytes/actor"),
    detail("processes ~b in ~.3f s (the spawn/1 loop), ~.1f ns/spawn; all waiting in "
           "receive after ~.3f s", [N, S, S * 1.0e9 / N, secs(T0, T2)]),
    detail("RSS before spawning ~.1f MiB, after the spawn loop ~.1f MiB, with all in "
           "receive ~.1f MiB (page ~b bytes); +P ~b, min_heap_size ~b words",
           [Rss0 / 1048576, Rss1 / 1048576, Rss2 / 1048576, PageSize,
            erlang:system_info(process_limit),
            element(2, erlang:system_info(min_heap_size))]),
    schedulers_line().

spawn_loop(N) ->
    First = spawn(fun ?MODULE:idle/0),
    spawn_loop(N - 1, First, First).

spawn_loop(0, First, Last) ->
    {First, Last};
spawn_loop(K, First, _Last) ->
    spawn_loop(K - 1, First, spawn(fun ?MODULE:idle/0)).

wait_run_queues_empty() ->
    case erlang:statistics(total_run_queue_lengths) of
        0 -> ok;
        _ -> timer:sleep(1), wait_run_queues_empty()
    end.

page_size() ->
    case string:to_integer(os:cmd("getconf PAGESIZE")) of
        {P, _} when is_integer(P), P > 0 -> P;
        _ -> 4096
    end.

rss_bytes(PageSize) ->
    {ok, Bin} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = string:lexemes(binary_to_list(Bin), " \n"),
    list_to_integer(Resident) * PageSize.

%% ------------------------------------------------------------------ fanin
%% Two producer processes each send 1 .. 2,000,000 to one consumer process,
%% which counts to 4,000,000 (and sums: 2 * M(M+1)/2). Timed from the go
%% signal until the consumer has them all. With +S 2 producer I is bound to
%% scheduler I (spawn_opt {scheduler, I}, an undocumented but long-standing
%% option), so the two run on different scheduler threads; the consumer is
%% placed by the BEAM. Every 65,536 messages each process notes the
%% scheduler it runs on; the sets are reported.

fanin() ->
    M = ?FANIN_PER_PRODUCER,
    Total = M * ?FANIN_PRODUCERS,
    Scheds = erlang:system_info(schedulers_online),
    Self = self(),
    Consumer = spawn(fun() -> consumer(Self, Total, 0, []) end),
    Producers = [spawn_opt(fun() -> receive go -> producer(Self, Consumer, M) end end,
                           [{scheduler, I} || Scheds >= ?FANIN_PRODUCERS])
                 || I <- lists:seq(1, ?FANIN_PRODUCERS)],
    T0 = now_ns(),
    [P ! go || P <- Producers],
    {T1, Sum, ConsumerOn} = receive {consumed, S0, COn} -> {now_ns(), S0, COn} end,
    ProducersOn = [receive {produced, P, POn} -> POn end || P <- Producers],
    Expect = ?FANIN_PRODUCERS * M * (M + 1) div 2,
    Sum =:= Expect orelse fail("fanin: sum ~b, expected ~b", [Sum, Expect]),
    S = secs(T0, T1),
    figure("fanin", Total / S, "msg/s"),
    detail("~b producers x ~b messages (Pid ! Integer) in ~.3f s, ~.1f ns/msg; "
           "consumer mailbox unbounded", [?FANIN_PRODUCERS, M, S, S * 1.0e9 / Total]),
    detail("producers ~s; seen on schedulers: producers ~s, consumer ~w",
           [case Scheds >= ?FANIN_PRODUCERS of
                true -> "bound to schedulers 1 and 2 (spawn_opt {scheduler, I})";
                false -> "unbound"
            end,
            lists:join(" and ", [io_lib:format("~w", [On]) || On <- ProducersOn]),
            ConsumerOn]),
    schedulers_line().

producer(Main, Consumer, M) ->
    On = produce(Consumer, 1, M, [erlang:system_info(scheduler_id)]),
    Main ! {produced, self(), lists:usort(On)}.

produce(_Consumer, I, M, On) when I > M ->
    On;
produce(Consumer, I, M, On) ->
    Consumer ! I,
    produce(Consumer, I + 1, M, note_scheduler(I, On)).

consumer(Main, 0, Sum, On) ->
    Main ! {consumed, Sum, lists:usort(On)};
consumer(Main, Left, Sum, On) ->
    receive
        V -> consumer(Main, Left - 1, Sum + V, note_scheduler(Left, On))
    end.

note_scheduler(I, On) when I band 65535 =:= 0 ->
    Id = erlang:system_info(scheduler_id),
    case lists:member(Id, On) of
        true -> On;
        false -> [Id | On]
    end;
note_scheduler(_I, On) ->
    On.

%% ---------------------------------------------------------------- restart
%% bench_sup (one_for_one, intensity 1,000,000 per 1 s) supervises one
%% permanent bench_crasher gen_server. Each incarnation sends
%% {crasher_up, Pid} from init; the driver then casts `crash` to it, it calls
%% erlang:error in handle_cast, the supervisor restarts it, and the driver
%% waits for the next {crasher_up, NewPid}: one restart at a time, 100,000 in
%% a row. Logging is turned off (logger primary level none) so that the
%% crash and supervisor reports are not formatted and printed.

restart() ->
    N = ?RESTARTS,
    ok = logger:set_primary_config(level, none),
    process_flag(trap_exit, true),
    {ok, Sup} = bench_sup:start_link(self()),
    First = receive {crasher_up, P} -> P after 5000 -> fail("restart: no worker", []) end,
    T0 = now_ns(),
    {LastPid, TFirst, TLast} = restart_loop(First, N),
    T1 = now_ns(),
    [{crasher, Child, worker, _}] = supervisor:which_children(Sup),
    Child =:= LastPid orelse fail("restart: supervisor has ~p, the last up was ~p",
                                  [Child, LastPid]),
    receive {'EXIT', Sup, R} -> fail("restart: the supervisor exited: ~p", [R])
    after 0 -> ok
    end,
    S = secs(T0, T1),
    figure("restart", N / S, "restarts/s"),
    detail("restarts ~b in ~.3f s, ~.1f us/restart; supervisor one_for_one, intensity "
           "1000000 per 1 s, permanent gen_server worker crashing with erlang:error "
           "in handle_cast", [N, S, S * 1.0e6 / N]),
    detail("logging turned off (logger:set_primary_config(level, none)): no crash, "
           "error or supervisor reports are formatted or printed", []),
    detail("first ~b restarts at ~b restarts/s, last ~b at ~b restarts/s: the supervisor "
           "keeps every restart of the last 1-2 s in a list and walks it "
           "(lists:takewhile, length/1) on each restart; its period is whole seconds",
           [?SPLIT, round(?SPLIT / secs(T0, TFirst)), ?SPLIT,
            round(?SPLIT / secs(TLast, T1))]),
    schedulers_line().

%% Returns the last pid and the times at which the first ?SPLIT restarts were
%% done and the last ?SPLIT began.
restart_loop(Pid, N) ->
    restart_loop(Pid, N, N, undefined, undefined).

restart_loop(Pid, 0, _N, TFirst, TLast) ->
    {Pid, TFirst, TLast};
restart_loop(Pid, Left, N, TFirst0, TLast0) ->
    TFirst = if N - Left =:= ?SPLIT -> now_ns(); true -> TFirst0 end,
    TLast = if Left =:= ?SPLIT -> now_ns(); true -> TLast0 end,
    gen_server:cast(Pid, crash),
    receive
        {crasher_up, New} when New =/= Pid -> restart_loop(New, Left - 1, N, TFirst, TLast)
    after 5000 ->
        fail("restart: no restart after a crash, ~b to go", [Left])
    end.
