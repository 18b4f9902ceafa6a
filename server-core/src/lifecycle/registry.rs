//! The table of live connections: who is connected, on which config generation, doing what.
//!
//! Each connection keeps its own counters ([`Activity`], plain atomics it updates as it
//! reads and writes); the table only holds a pointer to them, so the request path never takes
//! the table's lock. The lock is taken once when a connection opens, once when it closes, and
//! when someone asks for [`ConnectionInfo`]s.
//!
//! It also counts live-reload event streams ([`Registry::open_stream`]), per server and per
//! peer address, against the connection limit: a stream on HTTP/1.1 holds its connection's
//! slot, and one on HTTP/2 takes a slot of its own, since its connection can carry other
//! requests beside it. The caps themselves are `live_reload`'s.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, Notify};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::lifecycle::events::ServerEvent;

/// What a connection is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    /// A request has started arriving and is not answered yet.
    Reading,
    /// A response is being sent.
    Sending,
    /// Waiting for the client's next request (or its first).
    Idle,
}

/// One live connection, as [`crate::ServerHandle::connections`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// Unique for the server's life, counting from 1 in order of acceptance.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The config generation the connection was accepted under, and serves with for life.
    pub generation: u64,
    /// What it is doing.
    pub state: ConnectionState,
    /// Responses finished (or abandoned by the client).
    pub requests: u64,
    /// Bytes written to the socket: heads and bodies.
    pub bytes_sent: u64,
    /// Time since it was accepted.
    #[serde(rename = "ageMs", serialize_with = "as_millis")]
    pub age: Duration,
}

fn as_millis<S: serde::Serializer>(age: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(age.as_millis()).unwrap_or(u64::MAX))
}

/// A connection's counters. Its own task writes them; the table and the idle timers read them.
#[derive(Debug)]
pub(crate) struct Activity {
    pub(crate) opened: Instant,
    /// Requests handed to the service whose response is not finished yet.
    pub(crate) in_flight: AtomicUsize,
    /// Responses finished (or abandoned) on this connection.
    pub(crate) responses: AtomicUsize,
    pub(crate) bytes_sent: AtomicU64,
    /// [`Activity::now_ms`] of the last byte received; 0 for never.
    pub(crate) last_read_ms: AtomicU64,
    /// [`Activity::now_ms`] of the last response finished; 0 for never.
    pub(crate) last_done_ms: AtomicU64,
    /// Milliseconds between the last response and the first byte of the request after it.
    pub(crate) last_gap_ms: AtomicU64,
    /// Microseconds since `opened`, plus one, of the first byte of the request being read:
    /// finer than the other clocks here, since the request's timeline shows it (issue 19).
    pub(crate) request_began_us: AtomicU64,
    /// Set when the server cuts the connection (closed from the table, or stop's deadline).
    pub(crate) cut: AtomicBool,
    /// Set when it carries a live-reload event stream: always "sending", yet no transfer an
    /// apply should report as continuing (the stream ends at once on a new generation).
    pub(crate) streaming: AtomicBool,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            responses: AtomicUsize::new(0),
            bytes_sent: AtomicU64::new(0),
            last_read_ms: AtomicU64::new(0),
            last_done_ms: AtomicU64::new(0),
            last_gap_ms: AtomicU64::new(0),
            request_began_us: AtomicU64::new(0),
            cut: AtomicBool::new(false),
            streaming: AtomicBool::new(false),
        }
    }

    /// Milliseconds since `opened`, plus one so that 0 can mean "never".
    pub(crate) fn now_ms(&self) -> u64 {
        plus_one(self.opened.elapsed().as_millis())
    }

    /// Bytes arrived from the client.
    pub(crate) fn read(&self) {
        let since_opened = self.opened.elapsed();
        let now = plus_one(since_opened.as_millis());
        let began = || plus_one(since_opened.as_micros());
        let done = self.last_done_ms.load(Ordering::Relaxed);
        let last_read = self.last_read_ms.load(Ordering::Relaxed);
        let answered = self.responses.load(Ordering::Relaxed) > 0;
        if answered && last_read <= done {
            // The first byte of the next request.
            self.last_gap_ms
                .store(now.saturating_sub(done), Ordering::Relaxed);
            self.request_began_us.store(began(), Ordering::Relaxed);
        } else if last_read == 0 {
            self.request_began_us.store(began(), Ordering::Relaxed);
        }
        self.last_read_ms.fetch_max(now, Ordering::Relaxed);
    }

    pub(crate) fn wrote(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A request reached the service.
    pub(crate) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Its response was written to the socket in full, or abandoned.
    pub(crate) fn done(&self) {
        self.last_done_ms
            .fetch_max(self.now_ms(), Ordering::Relaxed);
        self.responses.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// When the connection last received bytes or finished a response.
    pub(crate) fn last_active(&self) -> Instant {
        let ms = self
            .last_read_ms
            .load(Ordering::Relaxed)
            .max(self.last_done_ms.load(Ordering::Relaxed));
        self.opened + Duration::from_millis(ms.saturating_sub(1))
    }

    /// When the first byte of the request being read arrived.
    pub(crate) fn request_began(&self) -> Instant {
        let us = self.request_began_us.load(Ordering::Relaxed);
        self.opened + Duration::from_micros(us.saturating_sub(1))
    }

    /// Since when the connection has been waiting for the head of its next request: the end
    /// of its last response, or `since` if that is later (when its reading began), or `None`
    /// while a request is in flight.
    pub(crate) fn head_wait_began(&self, since: Instant) -> Option<Instant> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let done_ms = self.last_done_ms.load(Ordering::Relaxed);
        Some(since.max(self.opened + Duration::from_millis(done_ms.saturating_sub(1))))
    }

    /// Nothing in flight and no byte received since the last response: no request is half
    /// read, so the connection can be let go without cutting anyone off.
    pub(crate) fn between_requests(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self.last_read_ms.load(Ordering::Relaxed)
                <= self.last_done_ms.load(Ordering::Relaxed)
            && (self.responses.load(Ordering::Relaxed) > 0
                || self.last_read_ms.load(Ordering::Relaxed) == 0)
    }

    pub(crate) fn state(&self) -> ConnectionState {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            ConnectionState::Sending
        } else if self.between_requests() {
            ConnectionState::Idle
        } else {
            ConnectionState::Reading
        }
    }
}

/// `units` (milliseconds or microseconds since `opened`) plus one, so that 0 can mean "never".
fn plus_one(units: u128) -> u64 {
    u64::try_from(units).map_or(u64::MAX, |units| units.saturating_add(1))
}

struct Entry {
    peer: SocketAddr,
    generation: u64,
    activity: Arc<Activity>,
    abort: Option<AbortHandle>,
}

/// The table of live connections, shared by the accept loop, the connections and the handle.
pub(crate) struct Registry {
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Entry>>,
    events: broadcast::Sender<ServerEvent>,
    streams: Mutex<Streams>,
    /// Signalled when an HTTP/2 stream gives its slot back, so a full accept loop looks again.
    slot_freed: Notify,
}

/// Live-reload event streams open now.
#[derive(Debug, Default)]
struct Streams {
    total: usize,
    /// Those on HTTP/2, each holding a slot of the connection limit of its own.
    http2: usize,
    per_peer: HashMap<IpAddr, usize>,
}

/// How many live-reload event streams may be open (see `live_reload::stream_limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamLimits {
    pub(crate) per_server: usize,
    pub(crate) per_peer: usize,
    /// A stream on HTTP/2 opens only while the slots of the connection limit in use, its own
    /// included, stay within this.
    pub(crate) http2_slots: usize,
}

/// Why a live-reload event stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamRefusal {
    /// The peer's address already holds its share.
    PerPeer,
    /// The server holds its share, or (on HTTP/2) the connection slots streams may take.
    PerServer,
}

/// A live-reload event stream's place in the count; dropping it (the stream ended, however)
/// gives the place back.
pub(crate) struct StreamSlot {
    registry: Arc<Registry>,
    peer: IpAddr,
    http2: bool,
}

impl std::fmt::Debug for StreamSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSlot")
            .field("peer", &self.peer)
            .field("http2", &self.http2)
            .finish_non_exhaustive()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.registry.streams();
        streams.total -= 1;
        if let Some(count) = streams.per_peer.get_mut(&self.peer) {
            *count -= 1;
            if *count == 0 {
                streams.per_peer.remove(&self.peer);
            }
        }
        if self.http2 {
            streams.http2 -= 1;
            drop(streams);
            self.registry.slot_freed.notify_one();
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("connections", &self.len())
            .field("streams", &*self.streams())
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub(crate) fn new(events: broadcast::Sender<ServerEvent>) -> Registry {
        Registry {
            next_id: AtomicU64::new(1),
            live: Mutex::new(HashMap::new()),
            events,
            streams: Mutex::default(),
            slot_freed: Notify::new(),
        }
    }

    fn streams(&self) -> MutexGuard<'_, Streams> {
        // Every update leaves the counts consistent (see `live`).
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a live-reload event stream from `peer` (on an HTTP/2 connection when `http2`),
    /// or says why it may not open.
    pub(crate) fn open_stream(
        self: &Arc<Self>,
        peer: IpAddr,
        http2: bool,
        limits: StreamLimits,
    ) -> Result<StreamSlot, StreamRefusal> {
        // Taken before the streams' lock, never inside it (see `occupied`).
        let connections = if http2 { self.len() } else { 0 };
        let mut streams = self.streams();
        if streams.per_peer.get(&peer).copied().unwrap_or(0) >= limits.per_peer {
            return Err(StreamRefusal::PerPeer);
        }
        if streams.total >= limits.per_server
            || (http2 && connections + streams.http2 >= limits.http2_slots)
        {
            return Err(StreamRefusal::PerServer);
        }
        streams.total += 1;
        streams.http2 += usize::from(http2);
        *streams.per_peer.entry(peer).or_insert(0) += 1;
        Ok(StreamSlot {
            registry: Arc::clone(self),
            peer,
            http2,
        })
    }

    /// Slots of the connection limit in use: one per connection, and one more per HTTP/2
    /// event stream.
    pub(crate) fn occupied(&self) -> usize {
        let connections = self.len();
        connections + self.streams().http2
    }

    /// Resolves when an HTTP/2 event stream has given its slot back since the last call.
    pub(crate) async fn slot_freed(&self) {
        self.slot_freed.notified().await;
    }

    fn live(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        // The table stays consistent even if a holder panicked: every update is one insert
        // or one remove.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters a just-accepted connection. Dropping the returned [`Registration`] removes it.
    pub(crate) fn open(
        self: &Arc<Self>,
        peer: SocketAddr,
        generation: u64,
        activity: Arc<Activity>,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.live().insert(
            id,
            Entry {
                peer,
                generation,
                activity,
                abort: None,
            },
        );
        let _ = self.events.send(ServerEvent::ConnectionOpened {
            id,
            peer,
            generation,
        });
        Registration {
            id,
            registry: Arc::clone(self),
        }
    }

    /// Notes how to cut the connection's task, once it has been spawned.
    pub(crate) fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(entry) = self.live().get_mut(&id) {
            entry.abort = Some(abort);
        }
    }

    /// Cuts connection `id` at once, whatever it is doing. False if there is no such connection.
    pub(crate) fn close(&self, id: u64) -> bool {
        let abort = self.live().get_mut(&id).and_then(|entry| {
            entry.activity.cut.store(true, Ordering::Relaxed);
            entry.abort.take()
        });
        abort.map(|abort| abort.abort()).is_some()
    }

    /// Marks every open connection as cut by the server, before they are aborted.
    pub(crate) fn cut_all(&self) {
        for entry in self.live().values() {
            entry.activity.cut.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<ConnectionInfo> {
        let mut infos: Vec<ConnectionInfo> = self
            .live()
            .iter()
            .map(|(&id, entry)| ConnectionInfo {
                id,
                peer: entry.peer,
                generation: entry.generation,
                state: entry.activity.state(),
                requests: entry.activity.responses.load(Ordering::Relaxed) as u64,
                bytes_sent: entry.activity.bytes_sent.load(Ordering::Relaxed),
                age: entry.activity.opened.elapsed(),
            })
            .collect();
        infos.sort_unstable_by_key(|info| info.id);
        infos
    }

    /// Connections of generations older than `generation` that are in the middle of a request
    /// (they finish it before closing), counted per generation, oldest first. Live-reload
    /// event streams are left out: they end as soon as a newer generation applies.
    pub(crate) fn busy_before(&self, generation: u64) -> Vec<(u64, usize)> {
        let mut counts: Vec<(u64, usize)> = Vec::new();
        for entry in self.live().values() {
            if entry.generation >= generation
                || entry.activity.state() == ConnectionState::Idle
                || entry.activity.streaming.load(Ordering::Relaxed)
            {
                continue;
            }
            match counts.iter_mut().find(|(g, _)| *g == entry.generation) {
                Some((_, count)) => *count += 1,
                None => counts.push((entry.generation, 1)),
            }
        }
        counts.sort_unstable();
        counts
    }

    pub(crate) fn len(&self) -> usize {
        self.live().len()
    }
}

/// A connection's place in the [`Registry`]; dropped when the connection's task ends, however
/// it ends (closed, cut, or panicked).
pub(crate) struct Registration {
    id: u64,
    registry: Arc<Registry>,
}

impl Registration {
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The table it belongs to.
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(entry) = self.registry.live().remove(&self.id) else {
            return;
        };
        let _ = self.registry.events.send(ServerEvent::ConnectionClosed {
            id: self.id,
            requests: entry.activity.responses.load(Ordering::Relaxed) as u64,
            bytes_sent: entry.activity.bytes_sent.load(Ordering::Relaxed),
        });
    }
}
