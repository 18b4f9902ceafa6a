//! Soak test of live configuration: clients keep downloading while a new config is applied
//! every 100 ms, and no request may fail, no body may be wrong, no connection may mix configs.
//!
//! An in-process server on 127.0.0.1 serves one of two folders, A and B, each holding a
//! `small.txt` and a ~2 MiB `big.bin` with content of its own. An applier task applies a new
//! draft every `--apply-every-ms`: each draft has its own marker in `Cache-Control`
//! (`no-cache, soak-draft=17`), every 5th switches the root, every 10th moves to a new free
//! port, one in 25 asks for a port that is taken (it must be refused and change nothing), and
//! one in 13 turns keep-alive off. Meanwhile `--clients` tasks open connections and send a few
//! GETs on each: most as HTTP/1.1 keep-alive clients, some with `Connection: close` and some
//! as HTTP/1.0 clients (a new connection per request, which the server must close after each
//! response). Some read `big.bin` slowly through a small socket buffer, so transfers span
//! applies; some stop reading for 100-400 ms partway through a body, so the server holds its
//! tail; and some pause between requests, so connections go idle.
//!
//! At the end it checks, over every response of the run:
//! - **no failed request**: no reset or close mid-response, no short (truncated) body, no
//!   status but 200, no stall, and no connection left open after a response that closes it. The one tolerated close is the keep-alive race (RFC 9112 §9.3.1): a server may
//!   close a reused idle connection just as a request is sent on it; the request is then
//!   retried once on a new connection, as browsers do, and counted as `retried`;
//! - **no corrupt body**: every body hashes (SHA-256) to the file in the root of the draft
//!   named by the response's marker;
//! - **no generation violation**: every response on one connection carries the same marker,
//!   never older than the config current when the client called `connect()`, and that
//!   marker's draft is the generation the server says it accepted the connection on (from
//!   its `ConnectionOpened` events, matched by the client's address).
//!
//! The server's events also tell apart the two ways a new connection can end without a
//! response: never accepted (it sat in the queue of a listener let go by a port change, which
//! is like a refused connect and retried) or accepted and then closed (a failure).
//!
//! It prints a summary and exits non-zero on any failure. Run it with
//! `bench/soak-live-config.sh` or
//! `cargo run --release -p wharf-core --example soak -- --seconds 60 --clients 32 --apply-every-ms 100`.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::Parser;
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant, MissedTickBehavior};
use wharf_core::{ApplyError, ConfigDraft, ServerConfig, ServerEvent, ServerHandle, StartError};

/// Any single read, write or connect taking longer than this is a stall: a failure.
const STALL: Duration = Duration::from_secs(10);
/// How long clients may take to finish their last connection after the run ends.
const GRACE: Duration = Duration::from_secs(30);
/// How long a client keeps retrying a refused connect before calling it a failure.
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);
/// Failures of each kind printed in full; the rest are only counted.
const PROBLEMS_SHOWN: usize = 5;
/// How long a client waits for the server's event saying it accepted the connection.
const ACCEPT_EVENT_PATIENCE: Duration = Duration::from_secs(1);
/// Receive buffer of slow clients: small, so the server is still sending while they read.
const SLOW_RECV_BUFFER: u32 = 32 * 1024;
/// Slow clients read this much, then sleep a millisecond.
const SLOW_CHUNK: usize = 16 * 1024;
/// The shortest and longest time a stalling client stops reading partway through a body.
const STALL_PAUSE_MS: (u64, u64) = (100, 400);
const HEAD_MAX: usize = 16 * 1024;

/// Live-config soak test: see the module docs.
#[derive(Parser)]
struct Args {
    /// How long clients keep starting new connections.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Client tasks running at once.
    #[arg(long, default_value_t = 32)]
    clients: u64,
    /// Pause between two applies.
    #[arg(long, default_value_t = 100)]
    apply_every_ms: u64,
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = Args::parse();
    let sites = Sites::create()?;
    let config = ServerConfig::try_from(ConfigDraft {
        root: Some(sites.root(0)),
        port: Some(0),
        cache_control: Some(marker(0)),
        ..ConfigDraft::default()
    })?;
    let server = ServerHandle::start(config).await?;
    let accepted = Arc::new(Accepted::default());
    let watcher = tokio::spawn(watch_accepts(server.subscribe(), Arc::clone(&accepted)));
    let started = Instant::now();
    let soak = Arc::new(Soak {
        first_generation: server.config().generation(),
        server,
        sites,
        accepted,
        stats: Stats::default(),
        started,
        deadline: started + Duration::from_secs(args.seconds),
    });

    let applier = tokio::spawn(apply_loop(
        Arc::clone(&soak),
        Duration::from_millis(args.apply_every_ms.max(1)),
    ));
    let mut clients = JoinSet::new();
    for id in 0..args.clients {
        clients.spawn(client(Arc::clone(&soak), id));
    }
    let all_done = soak.deadline + GRACE;
    let joined = tokio::time::timeout_at(all_done, async {
        while let Some(result) = clients.join_next().await {
            if let Err(err) = result {
                soak.problem(&soak.stats.failed, "client task died", err.to_string());
            }
        }
    })
    .await;
    if joined.is_err() {
        let stuck = clients.len();
        soak.problem(
            &soak.stats.failed,
            "client stuck",
            format!("{stuck} clients still busy {GRACE:?} after the end"),
        );
        clients.shutdown().await;
    }
    let applies = applier.await?;
    let elapsed = started.elapsed();
    watcher.abort();
    soak.check_generations(&applies);

    let Ok(Soak {
        server,
        stats,
        accepted,
        ..
    }) = Arc::try_unwrap(soak)
    else {
        return Err("a finished task still holds the server".into());
    };
    let stopped = server.stop(Duration::from_secs(5)).await;
    let passed = print_summary(&args, elapsed, &applies, &stats, &accepted);
    println!(
        "server stopped: {} connections finished, {} cut",
        stopped.finished, stopped.cut
    );
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Everything the tasks share.
struct Soak {
    server: ServerHandle,
    /// The generation the server started with, draft 0's.
    first_generation: u64,
    sites: Sites,
    accepted: Arc<Accepted>,
    stats: Stats,
    started: Instant,
    /// No new connection is opened and no config applied after this.
    deadline: Instant,
}

impl Soak {
    /// Counts a failure in `counter` and under `kind`, and keeps its description if it is
    /// among the first of its kind.
    fn problem(&self, counter: &AtomicU64, kind: &'static str, what: String) {
        counter.fetch_add(1, Ordering::Relaxed);
        let at = self.started.elapsed().as_secs_f64();
        let mut problems = lock(&self.stats.problems);
        let (count, examples) = problems.entry(kind).or_default();
        *count += 1;
        if examples.len() < PROBLEMS_SHOWN {
            examples.push(format!("[{at:7.3}s] {what}"));
        }
    }

    /// Checks that each connection's draft is the generation the server accepted it on.
    fn check_generations(&self, applies: &Applies) {
        let seen = std::mem::take(&mut *lock(&self.stats.seen));
        for (conn, draft, accepted_on) in seen {
            let generation = if draft == 0 {
                Some(self.first_generation)
            } else {
                applies.generations.get(&draft).copied()
            };
            if generation != Some(accepted_on) {
                self.problem(
                    &self.stats.generation_violations,
                    "draft is not the generation the connection was accepted on",
                    format!(
                        "conn {conn}: accepted on generation {accepted_on}, served draft {draft} \
                         (generation {generation:?})"
                    ),
                );
            }
        }
    }

    /// The draft new connections get now.
    fn current_draft(&self) -> Option<u64> {
        draft_number(self.server.config().cache_control().to_str().ok()?)
    }
}

// ---------------------------------------------------------------------------------------------
// The two sites

/// The files every site has, and each client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Small,
    Big,
}

impl File {
    fn path(self) -> &'static str {
        match self {
            File::Small => "/small.txt",
            File::Big => "/big.bin",
        }
    }
}

/// What a file's body must be.
struct Expected {
    len: u64,
    sha256: [u8; 32],
}

/// Folders A and B, and what each of their files hashes to.
struct Sites {
    dirs: [TempDir; 2],
    /// Indexed `[root][File as usize]`.
    expected: [[Expected; 2]; 2],
}

impl Sites {
    const NAMES: [&'static str; 2] = ["A", "B"];

    fn create() -> io::Result<Sites> {
        let site = |index: usize| -> io::Result<(TempDir, [Expected; 2])> {
            let dir = tempfile::Builder::new()
                .prefix(&format!("wharf-soak-{}-", Sites::NAMES[index]))
                .tempdir()?;
            let small = format!("Wharf soak test, site {}.\n", Sites::NAMES[index]).repeat(12);
            // Different lengths too, so a mix-up is also a length mismatch.
            let mut big = vec![0; 2 * 1024 * 1024 + index * 4099];
            let mut rng = Rng::new(index as u64 + 1);
            for chunk in big.chunks_mut(8) {
                chunk.copy_from_slice(&rng.next().to_le_bytes()[..chunk.len()]);
            }
            std::fs::write(dir.path().join("small.txt"), &small)?;
            std::fs::write(dir.path().join("big.bin"), &big)?;
            Ok((dir, [expect(small.as_bytes()), expect(&big)]))
        };
        let (a, expected_a) = site(0)?;
        let (b, expected_b) = site(1)?;
        Ok(Sites {
            dirs: [a, b],
            expected: [expected_a, expected_b],
        })
    }

    fn root(&self, index: usize) -> PathBuf {
        self.dirs[index].path().to_path_buf()
    }

    fn expected(&self, root: usize, file: File) -> &Expected {
        &self.expected[root][file as usize]
    }
}

fn expect(body: &[u8]) -> Expected {
    Expected {
        len: body.len() as u64,
        sha256: Sha256::digest(body).into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The applier

/// What the applier's `n`th draft sets. A function of `n` alone, so a response's marker is
/// enough to know which root must have served it.
struct Plan {
    root: usize,
    port: PortPlan,
    keep_alive: bool,
}

enum PortPlan {
    Keep,
    /// A port that was free a moment ago.
    Free,
    /// A port another listener holds: the apply must fail and change nothing.
    Taken,
}

fn plan(n: u64) -> Plan {
    Plan {
        root: usize::from(n / 5 % 2 == 1),
        port: match n {
            n if n > 0 && n % 10 == 0 => PortPlan::Free,
            n if n % 25 == 12 => PortPlan::Taken,
            _ => PortPlan::Keep,
        },
        keep_alive: n % 13 != 12,
    }
}

/// The `Cache-Control` value of draft `n`: a valid header value that names the draft.
fn marker(n: u64) -> String {
    format!("no-cache, soak-draft={n}")
}

fn draft_number(cache_control: &str) -> Option<u64> {
    cache_control.rsplit_once("soak-draft=")?.1.parse().ok()
}

/// What the applier did.
#[derive(Default)]
struct Applies {
    applied: u64,
    port_changes: u64,
    root_changes: u64,
    keep_alive_changes: u64,
    /// Taken ports refused, as planned.
    refused_as_planned: u64,
    /// Free ports that could not be bound after all (someone took them): counted, not fatal.
    bind_failures: u64,
    /// Anything that should never happen: a taken port accepted, a skipped generation...
    errors: Vec<String>,
    /// The generation each applied draft became.
    generations: HashMap<u64, u64>,
    last_generation: u64,
    slowest: Duration,
}

/// Applies draft 1, 2, 3... every `every` until the deadline.
async fn apply_loop(soak: Arc<Soak>, every: Duration) -> Applies {
    let mut applies = Applies {
        last_generation: soak.server.config().generation(),
        ..Applies::default()
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await; // The first tick is immediate.
    for n in 1.. {
        ticks.tick().await;
        if Instant::now() >= soak.deadline {
            break;
        }
        let plan = plan(n);
        let current = soak.server.config();
        let mut draft = ConfigDraft {
            root: Some(soak.sites.root(plan.root)),
            keep_alive: Some(plan.keep_alive),
            cache_control: Some(marker(n)),
            ..ConfigDraft::from(&*current)
        };
        // Held until the apply returns, so the port stays taken.
        let mut _holder = None;
        match plan.port {
            PortPlan::Keep => {}
            PortPlan::Free => match free_port() {
                Ok(port) => draft.port = Some(port.into()),
                Err(err) => {
                    applies
                        .errors
                        .push(format!("draft {n}: no free port: {err}"));
                    continue;
                }
            },
            PortPlan::Taken => match taken_port() {
                Ok((listener, port)) => {
                    draft.port = Some(port.into());
                    _holder = Some(listener);
                }
                Err(err) => {
                    applies
                        .errors
                        .push(format!("draft {n}: cannot bind: {err}"));
                    continue;
                }
            },
        }
        let started = Instant::now();
        let result = soak.server.apply(draft).await;
        applies.slowest = applies.slowest.max(started.elapsed());
        match (result, &plan.port) {
            (Ok(report), PortPlan::Taken) => applies
                .errors
                .push(format!("draft {n}: a port in use was accepted: {report}")),
            (Ok(report), _) => {
                if report.generation != applies.last_generation + 1 {
                    applies.errors.push(format!(
                        "draft {n}: generation {} after {}",
                        report.generation, applies.last_generation
                    ));
                }
                applies.last_generation = report.generation;
                applies.generations.insert(n, report.generation);
                applies.applied += 1;
                let changed = |field| report.changes.iter().any(|c| c.field == field);
                applies.root_changes += u64::from(changed("root"));
                applies.keep_alive_changes += u64::from(changed("keepAlive"));
                applies.port_changes += u64::from(report.rebound.is_some());
            }
            (Err(ApplyError::Bind { error, .. }), plan_port) => {
                if matches!(plan_port, PortPlan::Taken)
                    && matches!(error, StartError::PortInUse { .. })
                {
                    applies.refused_as_planned += 1;
                } else {
                    applies.bind_failures += 1;
                }
                let now = soak.server.config().generation();
                if now != current.generation() {
                    applies.errors.push(format!(
                        "draft {n}: refused, yet the generation moved from {} to {now}",
                        current.generation()
                    ));
                }
            }
            (Err(err), _) => applies.errors.push(format!("draft {n}: {err}")),
        }
    }
    applies
}

/// A port that was free when asked; someone else may take it before the server binds it.
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A port, and the listener that holds it.
fn taken_port() -> io::Result<(std::net::TcpListener, u16)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

// ---------------------------------------------------------------------------------------------
// The clients

#[derive(Default)]
struct Stats {
    connections: AtomicU64,
    requests: AtomicU64,
    bytes: AtomicU64,
    /// Responses per root.
    served_by: [AtomicU64; 2],
    slow_transfers: AtomicU64,
    /// Big transfers during which the client stopped reading for a while.
    stalled_transfers: AtomicU64,
    /// Requests sent with `Connection: close`, and as HTTP/1.0.
    close_requests: AtomicU64,
    http10_requests: AtomicU64,
    /// Big transfers during which a newer config was applied.
    spanned_apply: AtomicU64,
    /// Keep-alive race retries: the server closed a reused connection cleanly...
    retried_closed: AtomicU64,
    /// ...or reset it, before the first byte of the response.
    retried_reset: AtomicU64,
    /// Connects refused because the port had just moved.
    refused: AtomicU64,
    /// New connections the server never accepted, because their listener was let go by a
    /// port change: reset like a refused connect, and retried on the new port.
    lost_to_port_change: AtomicU64,
    /// Connections not matched to one `ConnectionOpened` event: the subscriber lagged, or two
    /// connections shared a client address.
    unmatched: AtomicU64,
    failed: AtomicU64,
    corrupt: AtomicU64,
    generation_violations: AtomicU64,
    /// Per kind of failure: how many, and the first few in words.
    problems: Mutex<BTreeMap<&'static str, (u64, Vec<String>)>>,
    /// (connection, draft served, generation accepted on) of every connection that answered.
    seen: Mutex<Vec<(u64, u64, u64)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the server's events say it accepted: client address -> generation, or `None` when
/// two connections' events named one client address before either was taken. (Clients bind
/// before connecting, so two live connections never share an address.)
#[derive(Default)]
struct Accepted {
    by_peer: Mutex<HashMap<SocketAddr, Option<u64>>>,
    /// Events the subscriber missed because it fell behind.
    lagged: AtomicU64,
}

/// Notes every connection the server accepts, until aborted.
async fn watch_accepts(mut events: broadcast::Receiver<ServerEvent>, accepted: Arc<Accepted>) {
    loop {
        match events.recv().await {
            Ok(ServerEvent::ConnectionOpened {
                peer, generation, ..
            }) => {
                lock(&accepted.by_peer)
                    .entry(peer)
                    .and_modify(|known| *known = None)
                    .or_insert(Some(generation));
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                accepted.lagged.fetch_add(missed, Ordering::Relaxed);
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

impl Accepted {
    /// The generation the server accepted the connection from `peer` on, if it did within
    /// `patience` and the address is not ambiguous. Takes the entry: the client's port may be
    /// reused by a later connection.
    async fn take(&self, peer: SocketAddr, patience: Duration) -> Option<u64> {
        let give_up = Instant::now() + patience;
        loop {
            if let Some(known) = lock(&self.by_peer).remove(&peer) {
                return known;
            }
            if Instant::now() >= give_up {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// One client: opens connection after connection until the deadline.
async fn client(soak: Arc<Soak>, id: u64) {
    let mut rng = Rng::new(1000 + id);
    while Instant::now() < soak.deadline {
        let visit = Visit::random(&mut rng);
        if !soak.run_visit(id, &visit, &mut rng).await {
            // After a failure, start afresh; the failure is already counted.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// How a client asks: what the server must do with the connection after answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// HTTP/1.1 with nothing said: the connection stays open.
    KeepAlive,
    /// HTTP/1.1 with `Connection: close`: the server closes after the response.
    Close,
    /// HTTP/1.0 with nothing said: the server closes after the response.
    Http10,
}

impl Ask {
    fn request(self, file: File) -> String {
        let path = file.path();
        match self {
            Ask::KeepAlive => format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            Ask::Close => {
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            }
            Ask::Http10 => format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"),
        }
    }
}

/// The requests a client sends on one connection (or, when the server closes, on one after
/// another), and how it behaves.
struct Visit {
    files: Vec<File>,
    ask: Ask,
    /// Stop reading big bodies for a while, partway through.
    stalls: bool,
    /// Small receive buffer, and big bodies read a little at a time.
    slow: bool,
    /// Pause 30-80 ms between requests, so the server sees an idle connection.
    pauses: bool,
}

impl Visit {
    fn random(rng: &mut Rng) -> Visit {
        let count = 2 + rng.below(7);
        let files = (0..count)
            .map(|_| {
                if rng.chance(30) {
                    File::Big
                } else {
                    File::Small
                }
            })
            .collect();
        let ask = match rng.below(100) {
            0..=59 => Ask::KeepAlive,
            60..=84 => Ask::Close,
            _ => Ask::Http10,
        };
        Visit {
            files,
            ask,
            stalls: rng.chance(20),
            slow: rng.chance(15),
            pauses: rng.chance(10),
        }
    }
}

impl Soak {
    /// Sends the visit's requests, on one connection as long as the server keeps it open.
    /// Returns false after a failure (already counted).
    async fn run_visit(&self, client: u64, visit: &Visit, rng: &mut Rng) -> bool {
        let mut conn: Option<Conn> = None;
        for (i, &file) in visit.files.iter().enumerate() {
            if i > 0 && visit.pauses {
                tokio::time::sleep(Duration::from_millis(30 + rng.below(50))).await;
            }
            let mut retried = false;
            let mut lost = 0;
            loop {
                let c = match conn.take() {
                    Some(c) if !c.closing => conn.insert(c),
                    _ => match self.connect(visit.slow).await {
                        Ok(c) => conn.insert(c),
                        Err(err) => {
                            let what = format!("client {client}: {err}");
                            self.problem(&self.stats.failed, "connect failed", what);
                            return false;
                        }
                    },
                };
                let draft_before = self.current_draft();
                let stall = (visit.stalls && file == File::Big).then(|| Stall {
                    after: rng.below(self.sites.expected(0, File::Big).len),
                    pause: Duration::from_millis(
                        STALL_PAUSE_MS.0 + rng.below(STALL_PAUSE_MS.1 - STALL_PAUSE_MS.0),
                    ),
                });
                let stats = &self.stats;
                let asked = match visit.ask {
                    Ask::KeepAlive => None,
                    Ask::Close => Some(&stats.close_requests),
                    Ask::Http10 => Some(&stats.http10_requests),
                };
                if let Some(counter) = asked {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                stats
                    .stalled_transfers
                    .fetch_add(u64::from(stall.is_some()), Ordering::Relaxed);
                let result = c.exchange(file, visit.ask, visit.slow, stall).await;
                if c.responses == 0 && c.generation.is_none() {
                    c.generation = self.accepted.take(c.local, ACCEPT_EVENT_PATIENCE).await;
                    if result.is_ok() && c.generation.is_none() {
                        self.stats.unmatched.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let who = format!(
                    "client {client} conn {} (port {}, draft {} at connect, accepted on generation {:?}) \
                     response #{} GET {}",
                    c.id,
                    c.port,
                    c.draft_at_connect,
                    c.generation,
                    c.responses + 1,
                    file.path()
                );
                match result {
                    Ok(response) => {
                        if file == File::Big {
                            let spanned = self.current_draft() > draft_before;
                            let stats = &self.stats;
                            stats
                                .slow_transfers
                                .fetch_add(u64::from(visit.slow), Ordering::Relaxed);
                            stats
                                .spanned_apply
                                .fetch_add(u64::from(spanned), Ordering::Relaxed);
                        }
                        if !self.check(&who, c, file, &response) {
                            return false;
                        }
                        break;
                    }
                    // The keep-alive race: retry once, on a new connection.
                    Err(Exchange::NoResponse { reset }) if c.responses > 0 && !retried => {
                        retried = true;
                        let counter = if reset {
                            &self.stats.retried_reset
                        } else {
                            &self.stats.retried_closed
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        conn = None;
                    }
                    // Never accepted: it sat in the queue of a listener that a port change let
                    // go. Like a refused connect: try the new port.
                    Err(Exchange::NoResponse { .. })
                        if c.generation.is_none()
                            && self.server.local_addr().port() != c.port
                            && lost < 3 =>
                    {
                        lost += 1;
                        self.stats
                            .lost_to_port_change
                            .fetch_add(1, Ordering::Relaxed);
                        conn = None;
                    }
                    Err(Exchange::NoResponse { reset }) => {
                        let how = if reset { "reset" } else { "closed" };
                        let (kind, when) = match (c.responses, c.generation) {
                            (0, Some(_)) => (
                                "new connection, accepted, closed before its first response",
                                format!(
                                    "{how} before any response (now on draft {:?})",
                                    self.current_draft()
                                ),
                            ),
                            (0, None) => (
                                "new connection closed on the current port, not matched to an accept",
                                format!("{how} before any response"),
                            ),
                            _ => (
                                "closed before any response twice in a row",
                                format!("{how} before any response, after one retry"),
                            ),
                        };
                        self.problem(&self.stats.failed, kind, format!("{who}: {when}"));
                        return false;
                    }
                    Err(Exchange::Broken(err)) => {
                        let kind = "broken response (cut, short, malformed, stalled or not 200)";
                        self.problem(&self.stats.failed, kind, format!("{who}: {err}"));
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Connects to wherever the server listens now, following it when the port moves.
    async fn connect(&self, slow: bool) -> io::Result<Conn> {
        let give_up = Instant::now() + CONNECT_PATIENCE;
        loop {
            // Read before connecting: the connection's config can only be this one or newer.
            let draft_at_connect = self.current_draft().unwrap_or(0);
            let addr = self.server.local_addr();
            let socket = TcpSocket::new_v4()?;
            // Bound before connecting, so no two live connections share a client address:
            // on `connect` alone, Linux gives one local port to two connections to different
            // server ports (around a port change), and accept events, which name only the
            // client's end, could then be matched to the wrong connection.
            socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
            if slow {
                socket.set_recv_buffer_size(SLOW_RECV_BUFFER)?;
            }
            let err = match timeout(STALL, socket.connect(addr)).await {
                Ok(Ok(stream)) => {
                    stream.set_nodelay(true)?;
                    return Ok(Conn {
                        id: self.stats.connections.fetch_add(1, Ordering::Relaxed),
                        local: stream.local_addr()?,
                        stream,
                        port: addr.port(),
                        draft_at_connect,
                        draft: None,
                        generation: None,
                        responses: 0,
                        closing: false,
                        buf: vec![0; 64 * 1024],
                    });
                }
                Ok(Err(err)) => err,
                Err(_) => io::Error::new(io::ErrorKind::TimedOut, "connect stalled"),
            };
            let moved = || self.server.local_addr() != addr;
            match err.kind() {
                io::ErrorKind::ConnectionRefused if Instant::now() < give_up => {
                    self.stats.refused.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                // The handshake completed on a listener that was let go before accepting.
                io::ErrorKind::ConnectionReset if Instant::now() < give_up => {
                    // The apply that let it go publishes the new port a moment later.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if !moved() {
                        return Err(io::Error::new(
                            err.kind(),
                            format!("connect to {addr}, the current port: {err}"),
                        ));
                    }
                    self.stats
                        .lost_to_port_change
                        .fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    return Err(io::Error::new(
                        err.kind(),
                        format!("connect to {addr}: {err}"),
                    ))
                }
            }
        }
    }

    /// Checks one response against the file, the draft and the connection. Returns false
    /// (and counts the failure) if anything is wrong.
    fn check(&self, who: &str, conn: &mut Conn, file: File, response: &Response) -> bool {
        conn.responses += 1;
        conn.closing = response.close || response.closed;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(response.body_len, Ordering::Relaxed);
        let Some(draft) = response.draft else {
            let what = format!("{who}: no soak-draft marker in Cache-Control");
            self.problem(&self.stats.failed, "no marker", what);
            return false;
        };
        let mut ok = true;
        let violations = &self.stats.generation_violations;
        match conn.draft {
            None => {
                conn.draft = Some(draft);
                if let Some(generation) = conn.generation {
                    lock(&self.stats.seen).push((conn.id, draft, generation));
                }
            }
            Some(first) if first != draft => {
                let what = format!("{who}: draft {draft} after draft {first}");
                self.problem(violations, "two drafts on one connection", what);
                ok = false;
            }
            Some(_) => {}
        }
        if draft < conn.draft_at_connect {
            let what = format!(
                "{who}: draft {draft}, older than draft {} current at connect",
                conn.draft_at_connect
            );
            self.problem(violations, "draft older than at connect", what);
            ok = false;
        }
        let root = plan(draft).root;
        self.stats.served_by[root].fetch_add(1, Ordering::Relaxed);
        let expected = self.sites.expected(root, file);
        if response.body_len != expected.len || response.sha256 != expected.sha256 {
            let what = format!(
                "{who}: {} bytes that do not match site {}'s file of {} bytes (draft {draft})",
                response.body_len,
                Sites::NAMES[root],
                expected.len
            );
            self.problem(&self.stats.corrupt, "corrupt body", what);
            ok = false;
        }
        ok
    }
}

/// One client connection.
struct Conn {
    id: u64,
    stream: TcpStream,
    /// The client's end, which the server reports as the peer.
    local: SocketAddr,
    port: u16,
    /// The draft current when `connect()` was called.
    draft_at_connect: u64,
    /// The draft of this connection's first response; every later one must match.
    draft: Option<u64>,
    /// The generation the server says it accepted this connection on.
    generation: Option<u64>,
    responses: u64,
    /// The server said `Connection: close`: the next request needs a new connection.
    closing: bool,
    buf: Vec<u8>,
}

/// A complete 200 response, its body reduced to a length and a hash.
struct Response {
    draft: Option<u64>,
    close: bool,
    /// The server closed the connection after it, as the request asked.
    closed: bool,
    body_len: u64,
    sha256: [u8; 32],
}

/// Why an exchange did not produce a response.
enum Exchange {
    /// The server closed (`reset: false`) or reset the connection before sending a single
    /// byte of the response.
    NoResponse { reset: bool },
    /// Anything else: a reset or close mid-response, a malformed response, a stall.
    Broken(String),
}

/// A client that stops reading for `pause` once it has `after` body bytes.
struct Stall {
    after: u64,
    pause: Duration,
}

impl Conn {
    /// Sends `GET file` as `ask` says and reads the whole response. Bodies of slow visits
    /// are read in small pieces with a pause after each; a `stall` stops reading for a while.
    /// When `ask` closes the connection, the server must then close it.
    async fn exchange(
        &mut self,
        file: File,
        ask: Ask,
        slow: bool,
        mut stall: Option<Stall>,
    ) -> Result<Response, Exchange> {
        let request = ask.request(file);
        match timeout(STALL, self.stream.write_all(request.as_bytes())).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) if is_reset(&err) => return Err(Exchange::NoResponse { reset: true }),
            Ok(Err(err)) => return Err(Exchange::Broken(format!("sending: {err}"))),
            Err(_) => return Err(Exchange::Broken("sending stalled".into())),
        }

        let mut head = Vec::new();
        let body_start = loop {
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if head.len() > HEAD_MAX {
                return Err(Exchange::Broken("response head over 16 KiB".into()));
            }
            match timeout(STALL, self.stream.read(&mut self.buf)).await {
                Ok(Ok(0)) if head.is_empty() => return Err(Exchange::NoResponse { reset: false }),
                Ok(Ok(0)) => {
                    return Err(Exchange::Broken(format!(
                        "closed after {} bytes of the head",
                        head.len()
                    )))
                }
                Ok(Ok(n)) => head.extend_from_slice(&self.buf[..n]),
                Ok(Err(err)) if head.is_empty() && is_reset(&err) => {
                    return Err(Exchange::NoResponse { reset: true })
                }
                Ok(Err(err)) => {
                    return Err(Exchange::Broken(format!(
                        "{err} after {} bytes of the head",
                        head.len()
                    )))
                }
                Err(_) => return Err(Exchange::Broken("waiting for the head stalled".into())),
            }
        };
        let parsed = Head::parse(&head[..body_start]).map_err(Exchange::Broken)?;
        if parsed.status != 200 {
            return Err(Exchange::Broken(format!("status {}", parsed.status)));
        }
        let length = parsed
            .content_length
            .ok_or_else(|| Exchange::Broken("200 without Content-Length".into()))?;

        let mut hasher = Sha256::new();
        let early = &head[body_start..];
        hasher.update(early);
        let mut received = early.len() as u64;
        let chunk = if slow { SLOW_CHUNK } else { self.buf.len() };
        while received < length {
            if slow {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if let Some(Stall { pause, .. }) = stall.take_if(|stall| received >= stall.after) {
                tokio::time::sleep(pause).await;
            }
            // Never read past the body: any extra byte then spoils the next response's head.
            let want = chunk.min(usize::try_from(length - received).unwrap_or(chunk));
            let cut = |what: String| {
                Exchange::Broken(format!("{what} after {received} of {length} body bytes"))
            };
            match timeout(STALL, self.stream.read(&mut self.buf[..want])).await {
                Ok(Ok(0)) => return Err(cut("closed".into())),
                Ok(Ok(n)) => {
                    hasher.update(&self.buf[..n]);
                    received += n as u64;
                }
                Ok(Err(err)) => return Err(cut(err.to_string())),
                Err(_) => return Err(cut("stalled".into())),
            }
        }
        let closed = ask != Ask::KeepAlive;
        if closed {
            match timeout(STALL, self.stream.read(&mut self.buf)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    return Err(Exchange::Broken(format!(
                        "{n} bytes after the body of a response that closes"
                    )))
                }
                // A reset after the whole body: the client's data is all there.
                Ok(Err(err)) if is_reset(&err) => {}
                Ok(Err(err)) => return Err(Exchange::Broken(format!("after the body: {err}"))),
                Err(_) => {
                    return Err(Exchange::Broken(
                        "connection left open after a response that closes it".into(),
                    ))
                }
            }
        }
        Ok(Response {
            draft: parsed.cache_control.as_deref().and_then(draft_number),
            close: parsed.close,
            closed,
            body_len: received,
            sha256: hasher.finalize().into(),
        })
    }
}

/// Errors that mean the peer had closed the connection when we wrote or read.
fn is_reset(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

/// The parts of a response head the soak looks at.
struct Head {
    status: u16,
    content_length: Option<u64>,
    cache_control: Option<String>,
    close: bool,
}

impl Head {
    fn parse(head: &[u8]) -> Result<Head, String> {
        let text = std::str::from_utf8(head).map_err(|_| "head is not UTF-8".to_owned())?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
            ["HTTP/1.1" | "HTTP/1.0", code, ..] => code.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut parsed = Head {
            status,
            content_length: None,
            cache_control: None,
            close: false,
        };
        for line in lines.filter(|line| !line.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => {
                    let length = value
                        .parse()
                        .map_err(|_| format!("bad Content-Length {value:?}"))?;
                    if parsed.content_length.replace(length).is_some() {
                        return Err("two Content-Length headers".into());
                    }
                }
                "transfer-encoding" => return Err(format!("unexpected Transfer-Encoding {value}")),
                "cache-control" => parsed.cache_control = Some(value.to_owned()),
                "connection" => parsed.close |= value.to_ascii_lowercase().contains("close"),
                _ => {}
            }
        }
        Ok(parsed)
    }
}

// ---------------------------------------------------------------------------------------------
// Summary

/// Prints what happened; true if the run passed.
fn print_summary(
    args: &Args,
    elapsed: Duration,
    applies: &Applies,
    stats: &Stats,
    accepted: &Accepted,
) -> bool {
    let n = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let (failed, corrupt, violations) = (
        n(&stats.failed),
        n(&stats.corrupt),
        n(&stats.generation_violations),
    );
    println!(
        "soak: {:.1} s, {} clients, a config applied every {} ms",
        elapsed.as_secs_f64(),
        args.clients,
        args.apply_every_ms
    );
    println!(
        "applies:    {} applied ({} port changes, {} root changes, {} keep-alive changes), \
         last generation {}, slowest apply() {:.1} ms",
        applies.applied,
        applies.port_changes,
        applies.root_changes,
        applies.keep_alive_changes,
        applies.last_generation,
        applies.slowest.as_secs_f64() * 1e3
    );
    println!(
        "            {} refused as planned (port taken), {} bind failures (free port taken \
         meanwhile), {} unexpected errors",
        applies.refused_as_planned,
        applies.bind_failures,
        applies.errors.len()
    );
    println!(
        "requests:   {} on {} connections, {:.2} GiB of bodies; site A served {}, site B {}",
        n(&stats.requests),
        n(&stats.connections),
        n(&stats.bytes) as f64 / f64::from(1u32 << 30),
        n(&stats.served_by[0]),
        n(&stats.served_by[1])
    );
    println!(
        "transfers:  {} of big.bin read slowly, {} stopped partway for 100-400 ms; {} big \
         transfers spanned an apply",
        n(&stats.slow_transfers),
        n(&stats.stalled_transfers),
        n(&stats.spanned_apply)
    );
    println!(
        "clients:    {} requests with Connection: close, {} as HTTP/1.0",
        n(&stats.close_requests),
        n(&stats.http10_requests)
    );
    println!(
        "retried:    {} (keep-alive race on a reused connection, before the first byte: {} \
         closed, {} reset)",
        n(&stats.retried_closed) + n(&stats.retried_reset),
        n(&stats.retried_closed),
        n(&stats.retried_reset)
    );
    println!(
        "port moves: {} connects refused, {} connections never accepted by the old listener; \
         all retried on the new port",
        n(&stats.refused),
        n(&stats.lost_to_port_change)
    );
    println!(
        "events:     {} connections not matched to one accept event ({} events missed)",
        n(&stats.unmatched),
        n(&accepted.lagged)
    );
    println!("failed:     {failed}");
    println!("corrupt:    {corrupt}");
    println!("generation violations: {violations}");
    for (kind, (count, examples)) in lock(&stats.problems).iter() {
        println!("  {count} x {kind}, e.g.:");
        for example in examples {
            println!("      {example}");
        }
    }
    for error in &applies.errors {
        println!("  applier: {error}");
    }
    let passed = failed == 0 && corrupt == 0 && violations == 0 && applies.errors.is_empty();
    println!("{}", if passed { "PASS" } else { "FAIL" });
    passed
}

/// xorshift64*: deterministic, dependency-free, good enough for file bytes and choices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
