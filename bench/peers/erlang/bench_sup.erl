%% bench/peers/erlang/bench_sup.erl: the supervisor of the Erlang/OTP peer's
%% restart workload: one_for_one, intensity 1,000,000 per 1 s (so it never
%% gives up here), one permanent bench_crasher worker.
%% Built by build.sh (erlc), used by bench.erl; run through run.sh:
%%   bench/peers/erlang/run.sh OUT_DIR restart 1
-module(bench_sup).
-behaviour(supervisor).

-export([start_link/1]).
-export([init/1]).

-define(INTENSITY, 1000000).
-define(PERIOD, 1).

%% Driver: the pid each worker incarnation reports to from its init.
start_link(Driver) ->
    supervisor:start_link(?MODULE, Driver).

init(Driver) ->
    Flags = #{strategy => one_for_one, intensity => ?INTENSITY, period => ?PERIOD},
    Child = #{id => crasher,
              start => {bench_crasher, start_link, [Driver]},
              restart => permanent,
              shutdown => 5000,
              type => worker,
              modules => [bench_crasher]},
    {ok, {Flags, [Child]}}.
