//! The inbox's full policy against a real Mosquitto: a slow consumer makes the worker (and
//! through TCP the broker) wait and loses nothing, at QoS 0 and 1; a stalled consumer gets the
//! oldest messages dropped and counted; Stop and publishes work while the broker is held back;
//! the status bar says when the broker is waiting.
//!
//! The broker here has no per-client queue limit (`max_queued_messages 0`, like the benchmark's):
//! with Mosquitto's default of 1,000 queued messages the broker itself drops what a slow client
//! has not read, which TopicScope cannot see.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;

use common::{POLL_EVERY, WAIT, profile, run_with_input, wait_until_subscribed};
use topicscope::app::status_view;
use topicscope::model::config::profile::Transport;
use topicscope::model::decode::message::Message;
use topicscope::model::store::{Limits, Store};
use topicscope::model::topic::qos::Qos;
use topicscope::mqtt::status::ConnectionState;
use topicscope::mqtt::{ConnectParams, Inbox, InboxStats, WorkerCommand, WorkerHandle};

/// Long enough never to pass while a test expects the worker to be woken by a drain or a Stop.
const NEVER_STALLS: Duration = Duration::from_secs(120);

/// A Mosquitto with one anonymous loopback listener and no per-client queue limit; killed on
/// drop.
struct UnlimitedBroker {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl UnlimitedBroker {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = common::free_port();
        let config = format!(
            "listener {port} 127.0.0.1\n\
             allow_anonymous true\n\
             persistence false\n\
             max_queued_messages 0\n\
             user root\n\
             log_dest stderr\n\
             log_type all\n"
        );
        std::fs::write(dir.path().join("mosquitto.conf"), config).expect("write config");
        let log = std::fs::File::create(dir.path().join("mosquitto.log")).expect("log file");
        let binary = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
            .into_iter()
            .find(|path| std::path::Path::new(path).is_file())
            .unwrap_or("mosquitto");
        let child = Command::new(binary)
            .arg("-c")
            .arg(dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run mosquitto: {error} (apt-get install mosquitto)")
            });
        let broker = Self { port, child, dir };
        let deadline = Instant::now() + WAIT;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen: {}",
                broker.log()
            );
            std::thread::sleep(POLL_EVERY);
        }
        broker
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// Publishes `count` messages to `topic`; see [`flood`].
    fn flood(&self, topic: &str, qos: Qos, count: usize, payload_bytes: usize) {
        flood(self.port, topic, qos, count, payload_bytes);
    }

    /// The same from a named thread, so the test can consume meanwhile.
    fn flood_in_background(
        &self,
        topic: &str,
        qos: Qos,
        count: usize,
        payload_bytes: usize,
    ) -> std::thread::JoinHandle<()> {
        let (port, topic) = (self.port, topic.to_owned());
        std::thread::Builder::new()
            .name("test-publisher".to_owned())
            .spawn(move || flood(port, &topic, qos, count, payload_bytes))
            .expect("spawn publisher")
    }
}

impl Drop for UnlimitedBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `count` messages to `topic` with one `mosquitto_pub -l`, each payload its sequence
/// number (6 digits) padded to `payload_bytes`.
fn flood(port: u16, topic: &str, qos: Qos, count: usize, payload_bytes: usize) {
    let mut lines = Vec::with_capacity(count * (payload_bytes + 1));
    for n in 0..count {
        let line = format!("{n:06}");
        lines.extend_from_slice(line.as_bytes());
        lines.resize(lines.len() + payload_bytes.saturating_sub(line.len()), b'x');
        lines.push(b'\n');
    }
    let (port, qos) = (port.to_string(), qos.level().to_string());
    let args = [
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-q",
        &qos,
        "-t",
        topic,
        "-l",
    ];
    let output = run_with_input("mosquitto_pub", &args, &lines);
    assert!(
        output.status.success(),
        "mosquitto_pub failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn spawn_worker(port: u16, filter: &str, qos: Qos, inbox: std::sync::Arc<Inbox>) -> WorkerHandle {
    let mut profile = profile(port, Transport::Tcp, &[filter]);
    for subscription in &mut profile.subscriptions {
        subscription.qos = qos;
    }
    let handle = WorkerHandle::spawn(ConnectParams::new(profile, None), inbox).expect("spawn");
    wait_until_subscribed(&handle);
    handle
}

/// Polls the inbox's counters until `accept` holds; panics after [`WAIT`].
fn wait_for_inbox(inbox: &Inbox, what: &str, accept: impl Fn(&InboxStats) -> bool) -> InboxStats {
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = inbox.stats();
        if accept(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; inbox: {stats:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The sequence numbers of `messages` (the first 6 payload bytes).
fn sequence(messages: &[Message]) -> Vec<usize> {
    messages
        .iter()
        .map(|message| {
            std::str::from_utf8(&message.payload[..6])
                .ok()
                .and_then(|digits| digits.parse().ok())
                .expect("a sequence number")
        })
        .collect()
}

fn a_slow_consumer_loses_nothing(qos: Qos) {
    const COUNT: usize = 2_000;
    // 8 MB in all: more than the loopback socket buffers take, so the broker queues too.
    const PAYLOAD_BYTES: usize = 4_000;
    const CAPACITY: usize = 50;
    let broker = UnlimitedBroker::start();
    let inbox = Inbox::with_stall_after(CAPACITY, NEVER_STALLS);
    let _worker = spawn_worker(broker.port, "flood/#", qos, inbox.clone());
    let publisher = broker.flood_in_background("flood/a", qos, COUNT, PAYLOAD_BYTES);

    // A slow consumer: it takes a few messages only once the inbox is full (and, after the
    // publisher is done, a few per pause), so the worker has to wait every time.
    let mut messages = Vec::with_capacity(COUNT);
    let mut times_full = 0;
    let deadline = Instant::now() + WAIT;
    while messages.len() < COUNT {
        assert!(
            Instant::now() < deadline,
            "received {} of {COUNT}; inbox: {:?}\n{}",
            messages.len(),
            inbox.stats(),
            broker.log()
        );
        let full = inbox.stats().pending == CAPACITY as u64;
        times_full += usize::from(full);
        if full || publisher.is_finished() {
            inbox.drain_into(10, &mut messages);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    publisher.join().expect("publisher");

    assert_eq!(sequence(&messages), (0..COUNT).collect::<Vec<_>>());
    let stats = inbox.stats();
    assert_eq!(
        (stats.received, stats.dropped, stats.stalls),
        (COUNT as u64, 0, 0),
        "{stats:?}"
    );
    assert!(times_full > 0, "the inbox was full: the worker waited");
}

#[test]
fn a_slow_consumer_at_qos_0_makes_the_broker_wait_and_loses_nothing() {
    a_slow_consumer_loses_nothing(Qos::AtMostOnce);
}

#[test]
fn a_slow_consumer_at_qos_1_makes_the_broker_wait_and_loses_nothing() {
    a_slow_consumer_loses_nothing(Qos::AtLeastOnce);
}

#[test]
fn a_stalled_consumer_gets_the_oldest_dropped_and_counted() {
    const COUNT: usize = 1_000;
    let broker = UnlimitedBroker::start();
    let inbox = Inbox::with_stall_after(100, Duration::from_millis(300));
    let _worker = spawn_worker(broker.port, "flood/#", Qos::AtMostOnce, inbox.clone());
    broker.flood("flood/a", Qos::AtMostOnce, COUNT, 100);

    // Nobody takes anything: after the stall time the worker reads on and drops the oldest.
    let stats = wait_for_inbox(&inbox, "every message received", |stats| {
        stats.received == COUNT as u64
    });
    assert_eq!(
        (stats.dropped, stats.pending, stats.stalls),
        (900, 100, 1),
        "{stats:?}"
    );
    let mut newest = Vec::new();
    inbox.drain_into(usize::MAX, &mut newest);
    assert_eq!(sequence(&newest), (900..COUNT).collect::<Vec<_>>());
}

#[test]
fn stop_ends_the_worker_while_the_broker_is_held_back() {
    let broker = UnlimitedBroker::start();
    let inbox = Inbox::with_stall_after(10, NEVER_STALLS);
    let worker = spawn_worker(broker.port, "flood/#", Qos::AtLeastOnce, inbox.clone());
    broker.flood("flood/a", Qos::AtLeastOnce, 500, 1_000);
    wait_for_inbox(&inbox, "the worker to wait for room", |stats| {
        stats.holding_back
    });

    assert!(worker.send(WorkerCommand::Stop));
    let deadline = Instant::now() + WAIT;
    while worker.running() {
        assert!(
            Instant::now() < deadline,
            "the worker did not stop; inbox: {:?}",
            inbox.stats()
        );
        std::thread::sleep(POLL_EVERY);
    }
    assert_eq!(worker.status.snapshot().state, ConnectionState::Stopped);
    let stats = inbox.stats();
    assert_eq!((stats.dropped, stats.stalls), (0, 0), "{stats:?}");
}

#[test]
fn a_publish_sent_while_the_broker_is_held_back_goes_out_once_there_is_room() {
    let broker = UnlimitedBroker::start();
    let inbox = Inbox::with_stall_after(10, NEVER_STALLS);
    let flooded = spawn_worker(broker.port, "flood/#", Qos::AtMostOnce, inbox.clone());
    let listener = spawn_worker(broker.port, "reply/#", Qos::AtLeastOnce, Inbox::new(1_000));
    broker.flood("flood/a", Qos::AtMostOnce, 200, 100);
    wait_for_inbox(&inbox, "the worker to wait for room", |stats| {
        stats.holding_back
    });

    assert!(
        flooded.send(WorkerCommand::PublishAuthorized(common::authorized(
            "reply/while-waiting",
            b"sent",
            Qos::AtLeastOnce,
            false
        )))
    );
    // The consumer takes messages as a window does each frame; the worker polls again and the
    // publish goes out.
    let mut flood = Vec::new();
    let mut replies = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !replies
        .iter()
        .any(|message: &Message| message.topic == "reply/while-waiting")
    {
        assert!(Instant::now() < deadline, "the publish never arrived");
        inbox.drain_into(5, &mut flood);
        listener.inbox.drain_into(usize::MAX, &mut replies);
        std::thread::sleep(POLL_EVERY);
    }
    assert_eq!(inbox.stats().dropped, 0);
}

#[test]
fn the_status_bar_says_when_the_broker_is_waiting_on_topicscope() {
    let mut explorer = common::ExplorerState::new(Store::new(Limits::default()));
    let waiting = InboxStats {
        received: 10,
        pending: 10,
        holding_back: true,
        waited_ms: 1_500,
        ..InboxStats::default()
    };
    explorer.set_status(status_view(None, waiting, 0));
    let mut harness = common::explorer_harness(explorer, 1400.0);
    harness.get_by_label("Broker waiting on TopicScope");
    harness.get_by_label("Dropped: 0");

    harness
        .state_mut()
        .set_status(status_view(None, InboxStats::default(), 0));
    harness.run();
    assert!(
        harness
            .query_by_label("Broker waiting on TopicScope")
            .is_none(),
        "gone once the worker no longer waits"
    );
}

#[test]
fn a_connection_held_back_for_longer_than_its_keep_alive_stays_up() {
    const COUNT: usize = 4_000;
    const KEEP_ALIVE_SECS: u16 = 2;
    let broker = UnlimitedBroker::start();
    let inbox = Inbox::with_stall_after(20, NEVER_STALLS);
    let mut profile = profile(broker.port, Transport::Tcp, &["flood/#"]);
    profile.keep_alive_secs = KEEP_ALIVE_SECS;
    let worker =
        WorkerHandle::spawn(ConnectParams::new(profile, None), inbox.clone()).expect("spawn");
    wait_until_subscribed(&worker);
    let ConnectionState::Connected { since_nanos } = worker.status.snapshot().state else {
        panic!("not connected: {:?}", worker.status.snapshot());
    };
    let publisher = broker.flood_in_background("flood/a", Qos::AtLeastOnce, COUNT, 2_000);

    // A slow consumer (a couple of messages every few milliseconds) for well over two
    // keep-alive intervals: the worker waits most of the time, yet pings must still go out and
    // their answers come in, or rumqttc (or the broker) ends the connection. (While an answer
    // is overdue the worker reads on and drops the oldest: counted, and the price of staying up.)
    let mut messages = Vec::with_capacity(COUNT);
    let slow_until = Instant::now() + Duration::from_secs(u64::from(KEEP_ALIVE_SECS) * 3);
    while Instant::now() < slow_until {
        inbox.drain_into(2, &mut messages);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            worker.status.snapshot().state,
            ConnectionState::Connected { since_nanos },
            "the connection dropped while held back; inbox: {:?}\n{}",
            inbox.stats(),
            broker.log()
        );
    }
    publisher.join().expect("publisher");
    // QoS 1 on one connection: the broker delivers every message, so each is counted.
    let stats = wait_for_inbox(&inbox, "every message received", |stats| {
        inbox.drain_into(usize::MAX, &mut Vec::new());
        stats.received == COUNT as u64
    });
    assert_eq!(
        stats.received,
        stats.drained + stats.dropped + stats.pending
    );
}
