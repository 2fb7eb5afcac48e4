//! A fault-injection TCP proxy between TopicScope and a real broker, for tests: it forwards
//! bytes both ways and can pause a direction, cut every connection, blackhole the live
//! connections (swallow everything, send no FIN) or slow the link to a byte rate.
//!
//! Threads only (no runtime): an accept thread and two pump threads per connection. Every pump
//! reads with a short timeout, so a change of mode takes effect within [`TICK`].

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How often a pump looks at the mode while its socket is quiet.
const TICK: Duration = Duration::from_millis(20);
/// Largest piece forwarded at once (smaller pieces keep a slow link's rate even).
const CHUNK_BYTES: usize = 16 * 1024;

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to broker.
    Upstream,
    /// Broker to client.
    Downstream,
}

/// One proxied connection.
struct Link {
    client: TcpStream,
    server: TcpStream,
    /// Swallow everything both ways; never close the client's side.
    blackholed: AtomicBool,
    /// The link was cut or ended.
    closed: AtomicBool,
}

#[derive(Default)]
struct Shared {
    links: Mutex<Vec<Arc<Link>>>,
    upstream_paused: AtomicBool,
    downstream_paused: AtomicBool,
    /// Bytes per second each direction of each link may carry; 0: unlimited.
    rate_bytes_per_sec: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    accepted: AtomicU64,
    stopping: AtomicBool,
}

/// The proxy; dropping it closes every connection and stops its threads.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards every connection to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared::default());
        let accept_shared = shared.clone();
        thread::Builder::new()
            .name("fault-proxy-accept".into())
            .spawn(move || accept_loop(&listener, upstream, &accept_shared))
            .expect("spawn proxy");
        Self { port, shared }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops forwarding one direction: bytes wait in the socket buffers until [`FaultProxy::resume`].
    pub fn pause(&self, direction: Direction) {
        self.flag(direction).store(true, Ordering::SeqCst);
    }

    /// Forwards `direction` again.
    pub fn resume(&self, direction: Direction) {
        self.flag(direction).store(false, Ordering::SeqCst);
    }

    /// Closes every live connection at once (both sides see the connection end).
    pub fn cut(&self) {
        for link in self.links() {
            link.closed.store(true, Ordering::SeqCst);
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.server.shutdown(Shutdown::Both);
        }
    }

    /// Every live connection goes silent: whatever either side sends is swallowed, and the
    /// client gets no FIN, even when the broker closes its side. New connections work.
    pub fn blackhole(&self) {
        for link in self.links() {
            link.blackholed.store(true, Ordering::SeqCst);
        }
    }

    /// Limits each direction of each connection to `bytes_per_sec` (0: no limit).
    pub fn set_rate(&self, bytes_per_sec: u64) {
        self.shared
            .rate_bytes_per_sec
            .store(bytes_per_sec, Ordering::SeqCst);
    }

    /// Bytes forwarded in `direction` so far.
    pub fn bytes(&self, direction: Direction) -> u64 {
        match direction {
            Direction::Upstream => self.shared.bytes_up.load(Ordering::SeqCst),
            Direction::Downstream => self.shared.bytes_down.load(Ordering::SeqCst),
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Waits (at most `within`) until more than `than` bytes went in `direction`; false on timeout.
    pub fn wait_for_bytes(&self, direction: Direction, than: u64, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.bytes(direction) <= than {
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(TICK);
        }
        true
    }

    fn flag(&self, direction: Direction) -> &AtomicBool {
        match direction {
            Direction::Upstream => &self.shared.upstream_paused,
            Direction::Downstream => &self.shared.downstream_paused,
        }
    }

    fn links(&self) -> Vec<Arc<Link>> {
        self.shared
            .links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.cut();
    }
}

fn accept_loop(listener: &TcpListener, upstream: u16, shared: &Arc<Shared>) {
    while !shared.stopping.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, upstream));
                let Ok(server) = TcpStream::connect_timeout(&address, Duration::from_secs(5))
                else {
                    // The broker is down: the client sees its connection refused-like close.
                    drop(client);
                    continue;
                };
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                start_link(client, server, shared);
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => thread::sleep(TICK),
            Err(_) => thread::sleep(TICK),
        }
    }
}

fn start_link(client: TcpStream, server: TcpStream, shared: &Arc<Shared>) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let link = Arc::new(Link {
        client,
        server,
        blackholed: AtomicBool::new(false),
        closed: AtomicBool::new(false),
    });
    shared
        .links
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(link.clone());
    for (direction, reader) in [
        (Direction::Upstream, client_reader),
        (Direction::Downstream, server_reader),
    ] {
        let pumped = link.clone();
        let shared = shared.clone();
        let spawned = thread::Builder::new()
            .name(format!("fault-proxy-{direction:?}"))
            .spawn(move || pump(reader, &pumped, direction, &shared));
        if spawned.is_err() {
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.server.shutdown(Shutdown::Both);
        }
    }
}

/// Moves bytes from `reader` to the other side of `link` according to the mode.
fn pump(mut reader: TcpStream, link: &Link, direction: Direction, shared: &Shared) {
    let _ = reader.set_read_timeout(Some(TICK));
    let mut writer = match direction {
        Direction::Upstream => &link.server,
        Direction::Downstream => &link.client,
    };
    let (paused, counter) = match direction {
        Direction::Upstream => (&shared.upstream_paused, &shared.bytes_up),
        Direction::Downstream => (&shared.downstream_paused, &shared.bytes_down),
    };
    let mut buffer = vec![0u8; CHUNK_BYTES];
    loop {
        if link.closed.load(Ordering::SeqCst) || shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let blackholed = link.blackholed.load(Ordering::SeqCst);
        if paused.load(Ordering::SeqCst) && !blackholed {
            thread::sleep(TICK);
            continue;
        }
        let read = match reader.read(&mut buffer) {
            Ok(0) => {
                // The sender closed its side. A blackholed link keeps the client's side open
                // (no FIN): the client must notice the silence by itself.
                if !link.blackholed.load(Ordering::SeqCst) {
                    let _ = writer.shutdown(Shutdown::Write);
                }
                return;
            }
            Ok(read) => read,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue;
            }
            Err(_) => {
                if !link.blackholed.load(Ordering::SeqCst) {
                    let _ = writer.shutdown(Shutdown::Write);
                }
                return;
            }
        };
        // A pause set while this read was under way holds what it read, too.
        while paused.load(Ordering::SeqCst) && !link.blackholed.load(Ordering::SeqCst) {
            if link.closed.load(Ordering::SeqCst) || shared.stopping.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(TICK);
        }
        if link.blackholed.load(Ordering::SeqCst) {
            continue;
        }
        let rate = shared.rate_bytes_per_sec.load(Ordering::SeqCst);
        if rate > 0 {
            thread::sleep(Duration::from_secs_f64(read as f64 / rate as f64));
        }
        if writer.write_all(&buffer[..read]).is_err() {
            return;
        }
        counter.fetch_add(read as u64, Ordering::SeqCst);
    }
}
