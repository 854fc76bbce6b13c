// bench/peers/caf/bench.cpp: the CAF (C++ Actor Framework 0.17, Debian 12's
// libcaf-dev) peer of troupe's side-by-side benchmark. One binary runs one
// workload in a fresh process with a scheduler of THREADS worker threads:
//   caf_bench WORKLOAD THREADS [COUNT]
//       WORKLOAD: pingpong ring ask_seq ask_pipelined spawn fanin restart
//       COUNT (optional, for quick tests): overrides the workload's count
//   caf_bench version      prints "CAF <major>.<minor>.<patch>"
// Build and run it through build.sh / run.sh in this directory:
//   bench/peers/caf/build.sh OUT_DIR
//   bench/peers/caf/run.sh OUT_DIR WORKLOAD THREADS
// Output: "name: value unit" lines (no leading space), then indented details.
// Semantics follow bench/bench_*.c (see the workload comments below). All
// actors are event-based (functions returning caf::behavior, stateful where
// they keep state); one-way messages use send, request/reply uses
// request(...).then(...). The main thread only sets up (except in spawn,
// where it is the spawner), then waits in a scoped_actor for a "done"
// message carrying the end timestamp, which the finishing actor takes with
// std::chrono::steady_clock.
#include "caf/all.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

using namespace caf;

namespace {

// -- atoms (CAF 0.17 style: atom_constant, up to 10 characters) --------------
using ball_atom = atom_constant<atom("ball")>;
using token_atom = atom_constant<atom("token")>;
using next_atom = atom_constant<atom("next")>;
using add_atom = atom_constant<atom("add")>;
using start_atom = atom_constant<atom("start")>;
using done_atom = atom_constant<atom("done")>;
using fail_atom = atom_constant<atom("fail")>;
using more_atom = atom_constant<atom("more")>;
using msg_atom = atom_constant<atom("msg")>;
using crash_atom = atom_constant<atom("crash")>;
using ping_atom = atom_constant<atom("ping")>;

// Optional third argument: overrides the workload's main count (for tests).
uint64_t count_override = 0;

uint64_t count_or(uint64_t dflt) {
  return count_override ? count_override : dflt;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

uint64_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2)
    return 0;
  return static_cast<uint64_t>(resident)
         * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

[[noreturn]] void die(const char* workload, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", workload, what.c_str());
  std::exit(1);
}

// Waits in the scoped actor for {done, t_end_ns} or {fail, reason}.
int64_t await_done(scoped_actor& self, const char* workload) {
  int64_t t_end = 0;
  std::string failure;
  self->receive([&](done_atom, int64_t t) { t_end = t; },
                [&](fail_atom, const std::string& why) { failure = why; });
  if (!failure.empty())
    die(workload, failure);
  return t_end;
}

void stop_all(const std::vector<actor>& xs) {
  for (auto& x : xs)
    if (x)
      anon_send_exit(x, exit_reason::user_shutdown);
}

void print_sched(actor_system& sys, bool main_waits = true) {
  std::printf("  CAF %d.%d.%d, scheduler.max-threads %zu (work-stealing "
              "scheduler, default settings), plus CAF's timer thread%s\n",
              CAF_MAJOR_VERSION, CAF_MINOR_VERSION, CAF_PATCH_VERSION,
              sys.scheduler().num_workers(),
              main_waits ? "; the main thread only waits" : "");
}

// -- pingpong -----------------------------------------------------------------
// Two actors bounce one-way {ball, counter} messages; each receipt decrements
// the counter and sends it on; 2,000,000 messages in total, counting the
// first one, which main injects (as bench_pingpong.c does). b learns its peer
// from the first ball's sender.

struct player_state {
  actor peer;
};

behavior player(stateful_actor<player_state>* self, actor peer, actor main) {
  self->state.peer = std::move(peer);
  return {
    [=](ball_atom, uint64_t left) {
      if (!self->state.peer)
        self->state.peer = actor_cast<actor>(self->current_sender());
      if (--left == 0) {
        self->send(main, done_atom::value, now_ns());
        return;
      }
      self->send(self->state.peer, ball_atom::value, left);
    },
  };
}

int run_pingpong(actor_system& sys) {
  const uint64_t n = count_or(2000000);
  scoped_actor self{sys};
  actor main = actor_cast<actor>(self);
  auto b = sys.spawn(player, actor{}, main);
  auto a = sys.spawn(player, b, main);
  int64_t t0 = now_ns();
  anon_send(a, ball_atom::value, n);
  int64_t t1 = await_done(self, "pingpong");
  stop_all({a, b});
  double secs = (t1 - t0) / 1e9;
  std::printf("pingpong: %.0f msg/s\n", n / secs);
  std::printf("  messages %llu, %.3f s, %.1f ns/msg\n",
              static_cast<unsigned long long>(n), secs, secs * 1e9 / n);
  print_sched(sys);
  return 0;
}

// -- ring ---------------------------------------------------------------------
// 1,000 actors in a ring pass one {token, hops_left} message; 2,000,000 hops in
// total (main's injection counts as the first). The ring is wired with
// request/response before the clock starts, so only the passing is timed.

struct node_state {
  actor next;
};

behavior ring_node(stateful_actor<node_state>* self, actor main) {
  return {
    [=](next_atom, actor next) {
      self->state.next = std::move(next);
      return next_atom::value; // ack
    },
    [=](token_atom, uint64_t left) {
      if (--left == 0) {
        self->send(main, done_atom::value, now_ns());
        return;
      }
      self->send(self->state.next, token_atom::value, left);
    },
  };
}

int run_ring(actor_system& sys) {
  const uint64_t n = count_or(2000000);
  const size_t ring_size = 1000;
  scoped_actor self{sys};
  actor main = actor_cast<actor>(self);
  std::vector<actor> nodes;
  nodes.reserve(ring_size);
  for (size_t i = 0; i < ring_size; ++i)
    nodes.push_back(sys.spawn(ring_node, main));
  for (size_t i = 0; i < ring_size; ++i) {
    self->request(nodes[i], infinite, next_atom::value,
                  nodes[(i + 1) % ring_size])
      .receive([](next_atom) {},
               [&](error& err) { die("ring", "wiring: " + to_string(err)); });
  }
  int64_t t0 = now_ns();
  anon_send(nodes[0], token_atom::value, n);
  int64_t t1 = await_done(self, "ring");
  stop_all(nodes);
  double secs = (t1 - t0) / 1e9;
  std::printf("ring: %.0f hops/s\n", n / secs);
  std::printf("  hops %llu around %zu actors, %.3f s, %.1f ns/hop\n",
              static_cast<unsigned long long>(n), ring_size, secs,
              secs * 1e9 / n);
  print_sched(sys);
  return 0;
}

// -- add-1 server (ask_seq, ask_pipelined) -------------------------------------

behavior adder(event_based_actor*) {
  return {
    [](add_atom, int64_t v) { return v + 1; },
  };
}

// -- ask_seq ------------------------------------------------------------------
// A client actor calls the server with request(...).then(...) 500,000 times,
// one at a time: each continuation issues the next request with the reply as
// its argument, so the final reply must equal the number of calls.

struct seq_state {
  actor server;
  actor main;
  uint64_t target = 0;
  uint64_t done = 0;
};

using seq_actor = stateful_actor<seq_state>;

// One request; its continuation checks the reply and issues the next one.
void seq_issue(seq_actor* self, int64_t v) {
  self->request(self->state.server, infinite, add_atom::value, v)
    .then(
      [=](int64_t r) {
        auto& st = self->state;
        if (static_cast<uint64_t>(r) != ++st.done) {
          self->send(st.main, fail_atom::value,
                     "wrong reply " + std::to_string(r) + " after "
                       + std::to_string(st.done));
          return;
        }
        if (st.done == st.target) {
          self->send(st.main, done_atom::value, now_ns());
          return;
        }
        seq_issue(self, r);
      },
      [=](error& err) {
        self->send(self->state.main, fail_atom::value,
                   "request failed: " + to_string(err));
      });
}

behavior seq_client(seq_actor* self, actor server, uint64_t target,
                    actor main) {
  self->state.server = std::move(server);
  self->state.main = std::move(main);
  self->state.target = target;
  return {
    [=](start_atom) {
      self->send(self->state.main, start_atom::value, now_ns());
      seq_issue(self, 0);
    },
  };
}

int run_ask_seq(actor_system& sys) {
  const uint64_t n = count_or(500000);
  scoped_actor self{sys};
  actor main = actor_cast<actor>(self);
  auto server = sys.spawn(adder);
  auto client = sys.spawn(seq_client, server, n, main);
  int64_t t0 = 0;
  anon_send(client, start_atom::value);
  self->receive([&](start_atom, int64_t t) { t0 = t; });
  int64_t t1 = await_done(self, "ask_seq");
  stop_all({client, server});
  double secs = (t1 - t0) / 1e9;
  std::printf("ask_seq: %.0f round_trips/s\n", n / secs);
  std::printf("ask_seq_latency: %.1f ns\n", secs * 1e9 / n);
  std::printf("  round trips %llu in %.3f s, request(..., infinite, ...)"
              ".then(...), final reply %llu checked\n",
              static_cast<unsigned long long>(n), secs,
              static_cast<unsigned long long>(n));
  print_sched(sys);
  return 0;
}

// -- ask_pipelined ----------------------------------------------------------------
// The client keeps up to 1,000 requests in flight (request(...).then(...)), for
// 2,000,000 requests in total; each reply's continuation issues the next
// request. Request i carries i, so the replies must sum to 1 + 2 + ... + n.
// CAF 0.17 mailboxes are unbounded (no capacity option), so the server's
// mailbox is not bounded to 1,024 here. Note that CAF 0.17 keeps pending
// .then() handlers in a flat vector searched linearly (unordered_flat_map),
// so each reply costs O(requests in flight): 1,000 here.

struct pipe_state {
  actor server;
  actor main;
  uint64_t target = 0;
  uint64_t issued = 0;
  uint64_t done = 0;
  uint64_t sum = 0;
  uint64_t max_in_flight = 0;
  bool failed = false;
};

using pipe_actor = stateful_actor<pipe_state>;

constexpr uint64_t window = 1000;

// Final client counters, copied out by the client before it reports done.
struct pipe_counts {
  uint64_t done, sum, max_in_flight;
} pipe_result;

// One request (carrying its sequence number); its continuation adds the
// reply to the sum and issues the next request while any are left.
void pipe_issue(pipe_actor* self) {
  auto& st = self->state;
  int64_t v = static_cast<int64_t>(st.issued++);
  if (st.issued - st.done > st.max_in_flight)
    st.max_in_flight = st.issued - st.done;
  self->request(st.server, infinite, add_atom::value, v)
    .then(
      [=](int64_t r) {
        auto& st = self->state;
        if (st.failed)
          return;
        st.sum += static_cast<uint64_t>(r);
        if (++st.done == st.target) {
          pipe_result = {st.done, st.sum, st.max_in_flight};
          self->send(st.main, done_atom::value, now_ns());
          return;
        }
        if (st.issued < st.target)
          pipe_issue(self);
      },
      [=](error& err) {
        self->state.failed = true;
        self->send(self->state.main, fail_atom::value,
                   "request failed: " + to_string(err));
      });
}

behavior pipe_client(pipe_actor* self, actor server, uint64_t target,
                     actor main) {
  self->state.server = std::move(server);
  self->state.main = std::move(main);
  self->state.target = target;
  return {
    [=](start_atom) {
      auto& st = self->state;
      self->send(st.main, start_atom::value, now_ns());
      while (st.issued < st.target && st.issued < window)
        pipe_issue(self);
    },
  };
}

int run_ask_pipelined(actor_system& sys) {
  const uint64_t n = count_or(2000000);
  scoped_actor self{sys};
  actor main = actor_cast<actor>(self);
  auto server = sys.spawn(adder);
  auto client = sys.spawn(pipe_client, server, n, main);
  int64_t t0 = 0;
  anon_send(client, start_atom::value);
  self->receive([&](start_atom, int64_t t) { t0 = t; });
  int64_t t1 = await_done(self, "ask_pipelined");
  stop_all({client, server});
  const pipe_counts& r = pipe_result;
  if (r.done != n || r.sum != n * (n + 1) / 2)
    die("ask_pipelined", std::to_string(r.done) + " replies summing to "
                           + std::to_string(r.sum) + ", expected "
                           + std::to_string(n) + " summing to "
                           + std::to_string(n * (n + 1) / 2));
  double secs = (t1 - t0) / 1e9;
  std::printf("ask_pipelined: %.0f req/s\n", n / secs);
  std::printf("  requests %llu in %.3f s, %.1f ns/req, window %llu (max in "
              "flight %llu), reply sum checked\n",
              static_cast<unsigned long long>(n), secs, secs * 1e9 / n,
              static_cast<unsigned long long>(window),
              static_cast<unsigned long long>(r.max_in_flight));
  std::printf("  server mailbox NOT bounded: CAF 0.17 mailboxes are unbounded "
              "(no capacity option); the 1,000-request window is the only "
              "limit\n");
  std::printf("  CAF 0.17 keeps pending .then() handlers in a flat vector "
              "(detail::unordered_flat_map) searched linearly, so each reply "
              "costs O(requests in flight)\n");
  print_sched(sys);
  return 0;
}

// -- spawn --------------------------------------------------------------------
// The main thread spawns 1,000,000 idle actors with actor_system::spawn
// (outside any actor, as bench_spawn.c spawns outside any handler; default
// spawn options, each actor with a one-handler behavior waiting for {ping}).
// CAF launches each actor by queueing its initialization on a scheduler
// worker, so the THREADS workers initialize actors while main spawns. The
// time runs from the first spawn until every actor has run its
// initialization (its behavior function), which each signals through one
// atomic counter. (Spawning all of them inside one actor's turn instead is
// quadratic with 2 threads in CAF 0.17: the turn queues 1,000,000 jobs on
// its worker, and the idle worker steals from the queue's tail, which walks
// the singly linked queue, O(length) per steal.) RSS is
// read from /proc/self/statm after the actor system is up (before) and once
// all are initialized (after). The handle vector is allocated and touched
// before the baseline, so it is not counted. Afterwards the first and last
// actor answer a ping, and all are stopped with exit messages.

std::atomic<uint64_t> spawn_inited{0};
std::atomic<int64_t> spawn_t_end{0};
uint64_t spawn_target = 0;
std::mutex spawn_mtx;
std::condition_variable spawn_cv;
bool spawn_all_up = false;

behavior idle_actor(event_based_actor*) {
  if (spawn_inited.fetch_add(1, std::memory_order_relaxed) + 1 == spawn_target) {
    spawn_t_end.store(now_ns());
    std::lock_guard<std::mutex> guard{spawn_mtx};
    spawn_all_up = true;
    spawn_cv.notify_all();
  }
  return {
    [](ping_atom) { return ping_atom::value; },
  };
}

int run_spawn(actor_system& sys) {
  const uint64_t n = count_or(1000000);
  spawn_target = n;
  scoped_actor self{sys};
  std::vector<actor> handles(n); // touched (zeroed) before the baseline
  uint64_t rss0 = rss_bytes();
  int64_t t0 = now_ns();
  for (auto& h : handles)
    h = sys.spawn(idle_actor);
  int64_t t_loop = now_ns();
  {
    std::unique_lock<std::mutex> guard{spawn_mtx};
    spawn_cv.wait(guard, [] { return spawn_all_up; });
  }
  int64_t t1 = spawn_t_end.load();
  uint64_t rss1 = rss_bytes();
  // Sanity: the first and the last actor are alive and answer.
  int pongs = 0;
  for (auto* h : {&handles.front(), &handles.back()})
    self->request(*h, infinite, ping_atom::value)
      .receive([&](ping_atom) { ++pongs; },
               [&](error& err) { die("spawn", "ping: " + to_string(err)); });
  uint64_t rss2 = rss_bytes();
  stop_all(handles);
  handles.clear();
  handles.shrink_to_fit();
  if (pongs != 2)
    die("spawn", "sanity pings answered: " + std::to_string(pongs));
  double secs = (t1 - t0) / 1e9;
  double per_actor = rss1 > rss0 ? double(rss1 - rss0) / n : 0.0;
  std::printf("spawn: %.0f actors/s\n", n / secs);
  std::printf("spawn_mem: %.0f bytes/actor\n", per_actor);
  std::printf("  actors %llu in %.3f s until all initialized (spawn loop "
              "alone %.3f s), %.0f ns/spawn; spawned from the main "
              "thread with actor_system::spawn, default options (not "
              "lazy_init), initialized on the scheduler workers\n",
              static_cast<unsigned long long>(n), secs, (t_loop - t0) / 1e9,
              secs * 1e9 / n);
  std::printf("  RSS before spawning (system up, handle vector touched) %.1f MiB, "
              "after spawning %.1f "
              "MiB, after 2 pings %.1f MiB\n",
              rss0 / 1048576.0, rss1 / 1048576.0, rss2 / 1048576.0);
  print_sched(sys, false);
  return 0;
}

// -- fanin --------------------------------------------------------------------
// Two producer actors (separate event-based actors, so with 2 scheduler
// threads they run in parallel) each send 2,000,000 one-way {msg, i} messages
// to one consumer actor, which counts to 4,000,000. Producers send in batches
// of 1,000 per message and then send themselves {more}. (With CAF's default
// scheduler.max-throughput, unlimited, an actor keeps its worker as long as
// its mailbox is non-empty, so on 1 thread each producer still sends all its
// messages before the worker moves on; the consumer's unbounded mailbox
// absorbs the backlog.) Time: from main's start messages until the consumer
// has all 4,000,000.

constexpr uint64_t fanin_batch = 1000;

struct consumer_state {
  uint64_t count = 0;
  uint64_t sum = 0;
};

uint64_t fanin_sum = 0;

behavior consumer(stateful_actor<consumer_state>* self, uint64_t total,
                  actor main) {
  return {
    [=](msg_atom, uint64_t i) {
      auto& st = self->state;
      st.sum += i;
      if (++st.count == total) {
        fanin_sum = st.sum;
        self->send(main, done_atom::value, now_ns());
      }
    },
  };
}

struct producer_state {
  uint64_t sent = 0;
};

behavior producer(stateful_actor<producer_state>* self, actor dst,
                  uint64_t count) {
  auto step = [=] {
    auto& st = self->state;
    uint64_t end = std::min(count, st.sent + fanin_batch);
    for (; st.sent < end; ++st.sent)
      self->send(dst, msg_atom::value, st.sent);
    if (st.sent < count)
      self->send(self, more_atom::value);
  };
  return {
    [=](start_atom) { step(); },
    [=](more_atom) { step(); },
  };
}

int run_fanin(actor_system& sys) {
  const uint64_t per_producer = count_or(2000000);
  const uint64_t total = 2 * per_producer;
  scoped_actor self{sys};
  actor main = actor_cast<actor>(self);
  auto c = sys.spawn(consumer, total, main);
  auto p1 = sys.spawn(producer, c, per_producer);
  auto p2 = sys.spawn(producer, c, per_producer);
  int64_t t0 = now_ns();
  anon_send(p1, start_atom::value);
  anon_send(p2, start_atom::value);
  int64_t t1 = await_done(self, "fanin");
  stop_all({p1, p2, c});
  uint64_t expect = per_producer * (per_producer - 1); // 2 * sum(0..pp-1)
  if (fanin_sum != expect)
    die("fanin", "sum " + std::to_string(fanin_sum) + ", expected "
                   + std::to_string(expect));
  double secs = (t1 - t0) / 1e9;
  std::printf("fanin: %.0f msg/s\n", total / secs);
  std::printf("  2 producer actors (not threads) x %llu messages (batches of "
              "%llu per message) to 1 consumer actor, %.3f s, %.1f ns/msg, sum checked\n",
              static_cast<unsigned long long>(per_producer),
              static_cast<unsigned long long>(fanin_batch), secs,
              secs * 1e9 / total);
  std::printf("  consumer mailbox unbounded (CAF 0.17)\n");
  print_sched(sys);
  return 0;
}

// -- restart ------------------------------------------------------------------
// CAF 0.17 has no OTP-style supervisor, so this is the hand-written idiom: a
// supervisor actor spawns a worker with spawn<monitored>, asks it to crash
// ({crash}); the worker quits with sec::runtime_error; the supervisor's down
// handler checks the reason, spawns a fresh monitored worker and asks it to
// crash again; 100,000 restarts in a row, one at a time.

behavior crash_worker(event_based_actor* self) {
  return {
    [=](crash_atom) { self->quit(sec::runtime_error); },
  };
}

struct sup_state {
  uint64_t restarts = 0;
  int64_t t_start = 0;
};

behavior supervisor(stateful_actor<sup_state>* self, uint64_t target,
                    actor main) {
  self->set_down_handler([=](down_msg& dm) {
    if (dm.reason != sec::runtime_error) {
      self->send(main, fail_atom::value,
                 "worker went down with " + to_string(dm.reason));
      return;
    }
    if (++self->state.restarts == target) {
      self->send(main, done_atom::value, now_ns());
      return;
    }
    auto w = self->spawn<monitored>(crash_worker); // the restart
    self->send(w, crash_atom::value);
  });
  return {
    [=](start_atom) {
      self->send(main, start_atom::value, now_ns());
      auto w = self->spawn<monitored>(crash_worker);
      self->send(w, crash_atom::value);
    },
  };
}

int run_restart(actor_system& sys) {
  const uint64_t n = count_or(100000);
  scoped_actor self{sys};
  actor main = actor_cast<actor>(self);
  auto sup = sys.spawn(supervisor, n, main);
  int64_t t0 = 0;
  anon_send(sup, start_atom::value);
  self->receive([&](start_atom, int64_t t) { t0 = t; });
  int64_t t1 = await_done(self, "restart");
  stop_all({sup});
  double secs = (t1 - t0) / 1e9;
  std::printf("restart: %.0f restarts/s\n", n / secs);
  std::printf("  restarts %llu in %.3f s, %.1f us/restart\n",
              static_cast<unsigned long long>(n), secs, secs * 1e6 / n);
  std::printf("  hand-written monitor-and-respawn loop (CAF 0.17 lacks "
              "supervisors): supervisor spawn<monitored>s a worker, which "
              "quit(sec::runtime_error)s on request; the down handler "
              "respawns it\n");
  print_sched(sys);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("CAF %d.%d.%d\n", CAF_MAJOR_VERSION, CAF_MINOR_VERSION,
                CAF_PATCH_VERSION);
    return 0;
  }
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s WORKLOAD THREADS [COUNT] | version\n",
                 argv[0]);
    return 2;
  }
  std::string w = argv[1];
  if (argc == 4)
    count_override = std::strtoull(argv[3], nullptr, 10);
  long threads = std::strtol(argv[2], nullptr, 10);
  if (threads < 1 || threads > 64) {
    std::fprintf(stderr, "%s: bad THREADS '%s'\n", argv[0], argv[2]);
    return 2;
  }
  int (*fn)(actor_system&) = nullptr;
  if (w == "pingpong")
    fn = run_pingpong;
  else if (w == "ring")
    fn = run_ring;
  else if (w == "ask_seq")
    fn = run_ask_seq;
  else if (w == "ask_pipelined")
    fn = run_ask_pipelined;
  else if (w == "spawn")
    fn = run_spawn;
  else if (w == "fanin")
    fn = run_fanin;
  else if (w == "restart")
    fn = run_restart;
  if (!fn) {
    std::fprintf(stderr, "%s: unknown workload '%s'\n", argv[0], w.c_str());
    return 2;
  }
  actor_system_config cfg;
  cfg.set("scheduler.max-threads", static_cast<config_value::integer>(threads));
  actor_system sys{cfg};
  if (sys.scheduler().num_workers() != static_cast<size_t>(threads)) {
    std::fprintf(stderr, "%s: asked for %ld scheduler threads, got %zu\n",
                 argv[0], threads, sys.scheduler().num_workers());
    return 1;
  }
  int rc = fn(sys);
  std::fflush(stdout);
  return rc;
}
