%% bench/peers/erlang/bench_adder.erl: the add-1 server of the Erlang/OTP
%% peer's ask_seq and ask_pipelined workloads: a plain gen_server whose
%% handle_call({add1, V}) replies V + 1 and counts the requests it served.
%% Built by build.sh (erlc), used by bench.erl; run through run.sh:
%%   bench/peers/erlang/run.sh OUT_DIR ask_seq 1
-module(bench_adder).
-behaviour(gen_server).

-export([start_link/0]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() ->
    gen_server:start_link(?MODULE, [], []).

init([]) ->
    {ok, 0}.                                  % state: requests served

handle_call({add1, V}, _From, Served) ->
    {reply, V + 1, Served + 1};
handle_call(served, _From, Served) ->
    {reply, Served, Served}.

handle_cast(_Msg, Served) ->
    {noreply, Served}.
