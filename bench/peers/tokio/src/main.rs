//! bench/peers/tokio/src/main.rs: the Tokio peer of troupe's side-by-side
//! benchmark. One workload per process:
//!
//!     tokio-peer WORKLOAD THREADS      (normally via run.sh OUT_DIR WORKLOAD THREADS)
//!
//! WORKLOAD is pingpong, ring, ask_seq, ask_pipelined, spawn, fanin or restart;
//! THREADS=1 runs on `Builder::new_current_thread()`, THREADS=N>1 on
//! `Builder::new_multi_thread().worker_threads(N)`.
//!
//! Tokio idioms throughout: an "actor" is a task owning a bounded
//! `tokio::sync::mpsc::Receiver` (its mailbox); a request carries a
//! `tokio::sync::oneshot::Sender` for the reply. The workload's driver is itself
//! a spawned task, so with THREADS=2 everything runs on the runtime's workers.
//! Semantics follow troupe's bench/bench_*.c. Output: machine-parsable lines
//! `name: value unit`, then indented detail lines. Exit status 1 (message on
//! stderr) when a checksum is wrong or a channel fails.
//! Built offline by build.sh against Debian 12's packaged crates (Tokio 1.24).

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Notify};

/// Mailbox bound used wherever the contract does not fix one.
const MAILBOX: usize = 1024;

type Res = Result<String, String>;

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Resident set size in bytes: second field of /proc/self/statm (pages) times
/// the page size.
fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * if page > 0 { page as u64 } else { 4096 }
}

// ---------------------------------------------------------------- pingpong

/// Player: on each ball, decrement the counter; at 0 report the end time,
/// else pass the ball to the peer.
async fn player(
    mut rx: mpsc::Receiver<u64>,
    peer: mpsc::Sender<u64>,
    done: mpsc::Sender<Instant>,
) {
    while let Some(left) = rx.recv().await {
        let left = left - 1;
        if left == 0 {
            let _ = done.send(Instant::now()).await;
            return;
        }
        if peer.send(left).await.is_err() {
            return;
        }
    }
}

async fn pingpong() -> Res {
    let n: u64 = 2_000_000;
    let (a_tx, a_rx) = mpsc::channel::<u64>(MAILBOX);
    let (b_tx, b_rx) = mpsc::channel::<u64>(MAILBOX);
    let (done_tx, mut done_rx) = mpsc::channel::<Instant>(1);
    tokio::spawn(player(a_rx, b_tx, done_tx.clone()));
    tokio::spawn(player(b_rx, a_tx.clone(), done_tx));

    let t0 = Instant::now();
    a_tx.send(n).await.map_err(|_| "pingpong: first send failed")?;
    let t1 = done_rx
        .recv()
        .await
        .ok_or("pingpong: players stopped before the count ran out")?;
    let s = secs(t1 - t0);
    let mut o = String::new();
    writeln!(o, "pingpong: {:.0} msg/s", n as f64 / s).unwrap();
    writeln!(
        o,
        "  messages {n}, {s:.3} s, {:.1} ns/msg; 2 tasks, bounded mpsc mailboxes of {MAILBOX}",
        s * 1e9 / n as f64
    )
    .unwrap();
    Ok(o)
}

// -------------------------------------------------------------------- ring

/// Ring member: on each token, decrement the hop count; at 0 report the end
/// time, else forward the token to the next member.
async fn ring_member(
    mut rx: mpsc::Receiver<u64>,
    next: mpsc::Sender<u64>,
    done: mpsc::Sender<Instant>,
    ready: Arc<Ready>,
) {
    ready.arrive();
    while let Some(left) = rx.recv().await {
        let left = left - 1;
        if left == 0 {
            let _ = done.send(Instant::now()).await;
            return;
        }
        if next.send(left).await.is_err() {
            return;
        }
    }
}

/// Counts tasks that have started (been polled once); notifies at `n`.
struct Ready {
    n: usize,
    count: AtomicUsize,
    all: Notify,
}

impl Ready {
    fn new(n: usize) -> Arc<Ready> {
        Arc::new(Ready { n, count: AtomicUsize::new(0), all: Notify::new() })
    }
    fn arrive(&self) {
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.all.notify_one();
        }
    }
    async fn wait(&self) {
        while self.count.load(Ordering::Acquire) < self.n {
            self.all.notified().await;
        }
    }
}

async fn ring() -> Res {
    let members = 1000usize;
    let hops: u64 = 2_000_000;
    let (done_tx, mut done_rx) = mpsc::channel::<Instant>(1);
    let mut txs = Vec::with_capacity(members);
    let mut rxs = Vec::with_capacity(members);
    for _ in 0..members {
        let (tx, rx) = mpsc::channel::<u64>(MAILBOX);
        txs.push(tx);
        rxs.push(rx);
    }
    let ready = Ready::new(members);
    let t_spawn = Instant::now();
    for (i, rx) in rxs.into_iter().enumerate() {
        let next = txs[(i + 1) % members].clone();
        tokio::spawn(ring_member(rx, next, done_tx.clone(), ready.clone()));
    }
    drop(done_tx);
    // Timing starts once every member is parked on its mailbox.
    ready.wait().await;
    let spawn_s = secs(t_spawn.elapsed());

    let t0 = Instant::now();
    txs[0].send(hops).await.map_err(|_| "ring: injecting the token failed")?;
    let t1 = done_rx.recv().await.ok_or("ring: members stopped before the count ran out")?;
    let s = secs(t1 - t0);
    let mut o = String::new();
    writeln!(o, "ring: {:.0} hops/s", hops as f64 / s).unwrap();
    writeln!(
        o,
        "  {members} tasks, {hops} hops in {s:.3} s, {:.1} ns/hop; spawning + first poll {spawn_s:.3} s (not timed)",
        s * 1e9 / hops as f64
    )
    .unwrap();
    Ok(o)
}

// ----------------------------------------------------------------- ask_seq

/// A request to the add-1 server: the value and where to send value + 1.
struct Add1 {
    v: i64,
    reply: oneshot::Sender<i64>,
}

/// The add-1 server: replies to each request with its value plus one.
/// Returns the number of requests served when its mailbox closes.
async fn add1_server(mut rx: mpsc::Receiver<Add1>) -> u64 {
    let mut served = 0u64;
    while let Some(Add1 { v, reply }) = rx.recv().await {
        served += 1;
        let _ = reply.send(v + 1);
    }
    served
}

async fn ask_seq() -> Res {
    let n: u64 = 500_000;
    let (tx, rx) = mpsc::channel::<Add1>(MAILBOX);
    let server = tokio::spawn(add1_server(rx));

    let t0 = Instant::now();
    let mut v: i64 = 0;
    for i in 1..=n {
        let (reply, answer) = oneshot::channel();
        tx.send(Add1 { v, reply }).await.map_err(|_| "ask_seq: server mailbox closed")?;
        v = answer.await.map_err(|_| "ask_seq: reply dropped")?;
        if v as u64 != i {
            return Err(format!("ask_seq: wrong reply {v} after {i} calls"));
        }
    }
    let t1 = Instant::now();
    drop(tx);
    let served = server.await.map_err(|e| format!("ask_seq: server: {e}"))?;
    if served != n || v as u64 != n {
        return Err(format!("ask_seq: final value {v}, server served {served}, expected {n}"));
    }
    let s = secs(t1 - t0);
    let mut o = String::new();
    writeln!(o, "ask_seq: {:.0} round_trips/s", n as f64 / s).unwrap();
    writeln!(o, "ask_seq_latency: {:.1} ns", s * 1e9 / n as f64).unwrap();
    writeln!(
        o,
        "  round trips {n} in {s:.3} s, final value {v}; request = bounded mpsc ({MAILBOX}) + oneshot reply"
    )
    .unwrap();
    Ok(o)
}

// ----------------------------------------------------------- ask_pipelined

async fn ask_pipelined() -> Res {
    const WINDOW: usize = 1000;
    const SERVER_CAPACITY: usize = 1024;
    let n: u64 = 2_000_000;
    let (tx, rx) = mpsc::channel::<Add1>(SERVER_CAPACITY);
    let server = tokio::spawn(add1_server(rx));

    // The server answers in FIFO order, so the replies are awaited oldest
    // first; each reply triggers the next request, keeping WINDOW in flight.
    let mut inflight: VecDeque<oneshot::Receiver<i64>> = VecDeque::with_capacity(WINDOW);
    let (mut issued, mut done, mut sum, mut max_in_flight) = (0u64, 0u64, 0u64, 0usize);
    let t0 = Instant::now();
    while issued < n && inflight.len() < WINDOW {
        let (reply, answer) = oneshot::channel();
        tx.send(Add1 { v: issued as i64, reply })
            .await
            .map_err(|_| "ask_pipelined: server mailbox closed")?;
        inflight.push_back(answer);
        issued += 1;
    }
    max_in_flight = max_in_flight.max(inflight.len());
    while let Some(answer) = inflight.pop_front() {
        let v = answer.await.map_err(|_| "ask_pipelined: reply dropped")?;
        sum += v as u64;
        done += 1;
        if issued < n {
            let (reply, answer) = oneshot::channel();
            tx.send(Add1 { v: issued as i64, reply })
                .await
                .map_err(|_| "ask_pipelined: server mailbox closed")?;
            inflight.push_back(answer);
            issued += 1;
            max_in_flight = max_in_flight.max(inflight.len());
        }
    }
    let t1 = Instant::now();
    drop(tx);
    let served = server.await.map_err(|e| format!("ask_pipelined: server: {e}"))?;
    if done != n || served != n || sum != n * (n + 1) / 2 {
        return Err(format!(
            "ask_pipelined: {done} replies summing to {sum} (server served {served}), expected {n} summing to {}",
            n * (n + 1) / 2
        ));
    }
    let s = secs(t1 - t0);
    let mut o = String::new();
    writeln!(o, "ask_pipelined: {:.0} req/s", n as f64 / s).unwrap();
    writeln!(
        o,
        "  requests {n} in {s:.3} s, {:.1} ns/req, window {WINDOW} (max in flight {max_in_flight}), \
         server mailbox bounded mpsc of capacity {SERVER_CAPACITY}, oneshot replies",
        s * 1e9 / n as f64
    )
    .unwrap();
    Ok(o)
}

// ------------------------------------------------------------------- spawn

/// A message to an idle actor: ack with its message count.
struct Ping {
    ack: oneshot::Sender<u64>,
}

/// An idle actor: 16 bytes of state, parked on its mailbox.
async fn idle(mut rx: mpsc::Receiver<Ping>, ready: Arc<Ready>) {
    let mut state = [0u64; 2];
    ready.arrive();
    while let Some(Ping { ack }) = rx.recv().await {
        state[0] += 1;
        let _ = ack.send(state[0] + state[1]);
    }
}

async fn spawn_bench() -> Res {
    const IDLE_MAILBOX: usize = 64; // as troupe's bench_spawn.c
    let n: usize = 1_000_000;
    let ready = Ready::new(n);
    let mut refs: Vec<mpsc::Sender<Ping>> = Vec::new();
    let rss0 = rss_bytes();

    let t0 = Instant::now();
    for _ in 0..n {
        let (tx, rx) = mpsc::channel::<Ping>(IDLE_MAILBOX);
        tokio::spawn(idle(rx, ready.clone()));
        refs.push(tx);
    }
    let t1 = Instant::now();
    let rss_spawned = rss_bytes();
    // Every task polled once, i.e. parked on its receiver: the idle state.
    ready.wait().await;
    let t2 = Instant::now();
    let rss1 = rss_bytes();

    // Sanity: the first and last actors are alive and answer a message.
    let mut acks = 0u64;
    for tx in [&refs[0], &refs[n - 1]] {
        let (ack, got) = oneshot::channel();
        tx.send(Ping { ack }).await.map_err(|_| "spawn: an idle actor is gone")?;
        acks += got.await.map_err(|_| "spawn: an idle actor did not answer")?;
    }
    if acks != 2 {
        return Err(format!("spawn: {acks} pings acknowledged, expected 2"));
    }
    let rss2 = rss_bytes();

    let s = secs(t1 - t0);
    let per_actor = if rss1 > rss0 { (rss1 - rss0) as f64 / n as f64 } else { 0.0 };
    let mib = |b: u64| b as f64 / 1048576.0;
    let mut o = String::new();
    writeln!(o, "spawn: {:.0} actors/s", n as f64 / s).unwrap();
    writeln!(o, "spawn_mem: {per_actor:.0} bytes/actor").unwrap();
    writeln!(
        o,
        "  actors {n} (task + bounded mpsc of capacity {IDLE_MAILBOX} + 16 bytes of state; Sender kept in a Vec) \
         spawned in {s:.3} s, {:.0} ns/spawn; all parked on recv after {:.3} s",
        s * 1e9 / n as f64,
        secs(t2 - t0)
    )
    .unwrap();
    writeln!(
        o,
        "  RSS before spawning {:.1} MiB, after the spawn calls {:.1} MiB, all parked {:.1} MiB \
         (used for spawn_mem), after 2 pings {:.1} MiB",
        mib(rss0),
        mib(rss_spawned),
        mib(rss1),
        mib(rss2)
    )
    .unwrap();
    // Keep the senders alive until here so no actor exits early.
    drop(refs);
    Ok(o)
}

// ------------------------------------------------------------------- fanin

thread_local! {
    /// Index of the runtime worker thread this is (usize::MAX: not a worker,
    /// e.g. the current_thread runtime's own thread).
    static WORKER: Cell<usize> = Cell::new(usize::MAX);
}

fn worker_index() -> usize {
    WORKER.with(|w| w.get())
}

async fn producer(
    per: u64,
    tx: mpsc::Sender<u64>,
    go: oneshot::Receiver<()>,
) -> Result<Vec<(usize, u64)>, String> {
    go.await.map_err(|_| "fanin: no start signal")?;
    // Sample the thread we run on every 4096 messages.
    let mut where_: Vec<(usize, u64)> = Vec::new();
    for i in 1..=per {
        if i % 4096 == 1 {
            let w = worker_index();
            match where_.iter_mut().find(|(k, _)| *k == w) {
                Some((_, c)) => *c += 1,
                None => where_.push((w, 1)),
            }
        }
        tx.send(i)
            .await
            .map_err(|_| "fanin: consumer mailbox closed")?;
    }
    Ok(where_)
}

async fn consumer(mut rx: mpsc::Receiver<u64>, total: u64) -> (u64, u64, Instant) {
    let (mut count, mut sum) = (0u64, 0u64);
    while let Some(v) = rx.recv().await {
        count += 1;
        sum = sum.wrapping_add(v);
        if count == total {
            break;
        }
    }
    (count, sum, Instant::now())
}

async fn fanin() -> Res {
    let producers = 2u64;
    let per: u64 = 2_000_000;
    let total = producers * per;
    let (tx, rx) = mpsc::channel::<u64>(MAILBOX);
    let cons = tokio::spawn(consumer(rx, total));
    let mut gos = Vec::new();
    let mut prods = Vec::new();
    for _ in 0..producers {
        let (go, wait) = oneshot::channel();
        gos.push(go);
        prods.push(tokio::spawn(producer(per, tx.clone(), wait)));
    }
    drop(tx);
    // Let the tasks reach their first await, then start all producers at once.
    tokio::task::yield_now().await;
    let t0 = Instant::now();
    for go in gos {
        let _ = go.send(());
    }
    let (count, sum, t1) = cons.await.map_err(|e| format!("fanin: consumer: {e}"))?;
    let mut placement = Vec::new();
    for (id, p) in prods.into_iter().enumerate() {
        let w = p.await.map_err(|e| format!("fanin: producer: {e}"))??;
        let desc: Vec<String> = w
            .iter()
            .map(|(k, c)| {
                let name = if *k == usize::MAX { "runtime thread".to_string() } else { format!("worker {k}") };
                format!("{name} {c}")
            })
            .collect();
        placement.push(format!("producer {id}: {}", desc.join(", ")));
    }
    let expect = producers * (per * (per + 1) / 2);
    if count != total || sum != expect {
        return Err(format!("fanin: consumer got {count} messages summing to {sum}, expected {total} summing to {expect}"));
    }
    let s = secs(t1 - t0);
    let mut o = String::new();
    writeln!(o, "fanin: {:.0} msg/s", total as f64 / s).unwrap();
    writeln!(
        o,
        "  {producers} producer tasks x {per} messages into one bounded mpsc ({MAILBOX}), {total} received in {s:.3} s"
    )
    .unwrap();
    writeln!(
        o,
        "  placement is Tokio's work-stealing choice (no pinning); thread samples every 4096 sends: {}",
        placement.join("; ")
    )
    .unwrap();
    Ok(o)
}

// ----------------------------------------------------------------- restart
//
// As troupe's bench_restart.c: each worker incarnation tells a driver actor
// it is up (sending its mailbox's Sender); the driver asks it to crash; it
// panics; the supervisor, awaiting the worker's JoinHandle, sees
// JoinError::is_panic and spawns a new incarnation (Tokio has no supervisor:
// this task is the idiomatic equivalent). Timed from the first "up" (the
// first incarnation is not a restart) to the (n+1)th.

/// Panics seen by the panic hook (which only counts: no message printed).
static PANICS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

enum WorkerMsg {
    /// Crash (panic) on request.
    Crash,
    /// Stop normally (the end of the run).
    Stop,
}

/// A worker incarnation announcing itself to the driver.
struct Up {
    generation: u64,
    worker: mpsc::Sender<WorkerMsg>,
}

async fn crashing_worker(generation: u64, driver: mpsc::Sender<Up>) {
    let (tx, mut rx) = mpsc::channel(MAILBOX);
    if driver.send(Up { generation, worker: tx }).await.is_err() {
        return;
    }
    while let Some(m) = rx.recv().await {
        match m {
            WorkerMsg::Crash => panic!("worker generation {generation} crashed on request"),
            WorkerMsg::Stop => return,
        }
    }
}

/// The supervisor: runs one worker, restarting it each time it panics;
/// returns the number of restarts once the worker stops normally.
async fn supervisor(driver: mpsc::Sender<Up>) -> Result<u64, String> {
    let mut restarts = 0u64;
    loop {
        let worker = tokio::spawn(crashing_worker(restarts, driver.clone()));
        match worker.await {
            Err(e) if e.is_panic() => restarts += 1,
            Err(e) => return Err(format!("restart: worker ended with {e}, not a panic")),
            Ok(()) => return Ok(restarts),
        }
    }
}

async fn restart() -> Res {
    let n: u64 = 100_000;
    std::panic::set_hook(Box::new(|_| {
        PANICS.fetch_add(1, Ordering::Relaxed);
    }));
    let (up_tx, mut up_rx) = mpsc::channel::<Up>(MAILBOX);
    let sup = tokio::spawn(supervisor(up_tx));

    // The driver.
    let mut ups = 0u64;
    let mut t0 = Instant::now();
    let t1 = loop {
        let up = up_rx.recv().await.ok_or("restart: the supervisor stopped early")?;
        if up.generation != ups {
            return Err(format!("restart: incarnation {} up, expected {ups}", up.generation));
        }
        ups += 1;
        if ups == 1 {
            t0 = Instant::now();
        }
        if ups > n {
            let t1 = Instant::now();
            let _ = up.worker.send(WorkerMsg::Stop).await;
            break t1;
        }
        up.worker.send(WorkerMsg::Crash).await.map_err(|_| "restart: crash request refused")?;
    };
    let restarts = sup.await.map_err(|e| format!("restart: supervisor: {e}"))??;
    let panics = PANICS.load(Ordering::Relaxed);
    let _ = std::panic::take_hook();
    if restarts != n || panics != n {
        return Err(format!("restart: {restarts} restarts, {panics} panics (want {n})"));
    }
    let s = secs(t1 - t0);
    let mut o = String::new();
    writeln!(o, "restart: {:.0} restarts/s", n as f64 / s).unwrap();
    writeln!(
        o,
        "  {n} panics and restarts, {s:.3} s, {:.2} us each: worker tells the driver it is up, driver sends Crash, \
         worker panics (unwinds), supervisor task awaits the JoinHandle, checks JoinError::is_panic, spawns a new worker",
        s * 1e6 / n as f64
    )
    .unwrap();
    writeln!(
        o,
        "  panic hook replaced (std::panic::set_hook) by one that only counts, so the {n} panic messages are not printed"
    )
    .unwrap();
    Ok(o)
}

// -------------------------------------------------------------------- main

fn usage() -> ! {
    eprintln!("usage: tokio-peer pingpong|ring|ask_seq|ask_pipelined|spawn|fanin|restart THREADS");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        usage();
    }
    let workload = args[1].clone();
    let threads: usize = match args[2].parse() {
        Ok(t) if t >= 1 => t,
        _ => usage(),
    };
    if !matches!(
        workload.as_str(),
        "pingpong" | "ring" | "ask_seq" | "ask_pipelined" | "spawn" | "fanin" | "restart"
    ) {
        usage();
    }

    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().build()
    } else {
        let next = Arc::new(AtomicUsize::new(0));
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .on_thread_start(move || {
                let i = next.fetch_add(1, Ordering::Relaxed);
                WORKER.with(|w| w.set(i));
            })
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio-peer: building the runtime: {e}");
            std::process::exit(1);
        }
    };
    let flavor = if threads == 1 {
        "current_thread".to_string()
    } else {
        format!("multi_thread, {threads} workers")
    };

    // The driver is a task like the actors, so on the multi-thread runtime it
    // runs on a worker too.
    let w = workload.clone();
    let result = rt.block_on(async move {
        let h = tokio::spawn(async move {
            match w.as_str() {
                "pingpong" => pingpong().await,
                "ring" => ring().await,
                "ask_seq" => ask_seq().await,
                "ask_pipelined" => ask_pipelined().await,
                "spawn" => spawn_bench().await,
                "fanin" => fanin().await,
                "restart" => restart().await,
                _ => unreachable!(),
            }
        });
        match h.await {
            Ok(r) => r,
            Err(e) => Err(format!("{workload}: driver task failed: {e}")),
        }
    });
    match result {
        Ok(out) => {
            let t = Instant::now();
            drop(rt);
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "{out}");
            let _ = writeln!(
                stdout,
                "  runtime {flavor}; runtime shutdown {:.3} s (not timed)",
                secs(t.elapsed())
            );
            let _ = stdout.flush();
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
