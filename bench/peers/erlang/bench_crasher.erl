%% bench/peers/erlang/bench_crasher.erl: the supervised worker of the
%% Erlang/OTP peer's restart workload. A gen_server that tells the driver
%% {crasher_up, self()} from init (so the driver asks for the next crash only
%% once this incarnation is up) and crashes (erlang:error) when it gets the
%% cast `crash`; its supervisor (bench_sup) restarts it.
%% Built by build.sh (erlc), used by bench.erl; run through run.sh:
%%   bench/peers/erlang/run.sh OUT_DIR restart 1
-module(bench_crasher).
-behaviour(gen_server).

-export([start_link/1]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link(Driver) ->
    gen_server:start_link(?MODULE, Driver, []).

init(Driver) ->
    Driver ! {crasher_up, self()},
    {ok, Driver}.

handle_call(_Req, _From, Driver) ->
    {reply, ok, Driver}.

handle_cast(crash, _Driver) ->
    erlang:error(crash_requested);
handle_cast(_Msg, Driver) ->
    {noreply, Driver}.
