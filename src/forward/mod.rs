//! Forwarding decoded datapoints to InfluxDB, for data beyond what one window keeps.
//!
//! [`Forwarder::start`] runs a named thread (`influx-forwarder`). The hot path hands messages
//! over with [`Forwarder::offer`] (a bounded queue; never blocks; a full queue is counted). The
//! thread turns them into line protocol ([`lines`]), gathers batches (5,000 lines or 1 s by
//! default), sends each gzip-compressed to InfluxDB 1.x `/write` or 2.x/3.x `/api/v2/write`
//! ([`http`]) and retries with capped exponential backoff while the server is down. Unsent
//! lines wait in a bounded buffer; what does not fit is counted as overflow. Every line is
//! accounted for in [`ForwardStatus`]:
//! `lines = forwarded + pending + rejected + overflow + abandoned`.
//!
//! Depends on `model` only.

pub mod http;
pub mod lines;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::model::decode::message::Message;

pub use http::{InfluxClient, SetupError, WriteOutcome};
pub use lines::ForwardItem;

/// Which InfluxDB API, and where to write.
#[derive(Clone, PartialEq, Eq)]
pub enum InfluxTarget {
    /// InfluxDB 1.x: `/write?db=…&rp=…`, optional user and password (HTTP basic auth).
    V1 {
        /// Database.
        database: String,
        /// Retention policy; the database's default when `None`.
        retention_policy: Option<String>,
        /// User name, if authentication is on.
        user: Option<String>,
        /// Password of `user`.
        password: Option<String>,
    },
    /// InfluxDB 2.x and 3.x: `/api/v2/write?org=…&bucket=…` with a token.
    V2 {
        /// Organisation.
        org: String,
        /// Bucket.
        bucket: String,
        /// API token.
        token: String,
    },
}

impl std::fmt::Debug for InfluxTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password or token.
        match self {
            InfluxTarget::V1 {
                database,
                retention_policy,
                user,
                ..
            } => formatter
                .debug_struct("V1")
                .field("database", database)
                .field("retention_policy", retention_policy)
                .field("user", user)
                .finish_non_exhaustive(),
            InfluxTarget::V2 { org, bucket, .. } => formatter
                .debug_struct("V2")
                .field("org", org)
                .field("bucket", bucket)
                .finish_non_exhaustive(),
        }
    }
}

/// How a [`Forwarder`] forwards.
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// Base URL, e.g. `http://localhost:8086` (a path prefix is kept).
    pub url: String,
    /// API version, database or bucket, credentials.
    pub target: InfluxTarget,
    /// Measurement of numbers that are not line protocol (`mqtt`).
    pub measurement: String,
    /// A batch is sent when it holds this many lines…
    pub batch_lines: usize,
    /// …or its first line is this old.
    pub batch_interval: Duration,
    /// Lines kept while InfluxDB cannot take them; beyond, new lines are counted as overflow.
    pub max_pending_lines: u64,
    /// Messages the hand-over queue holds.
    pub queue_messages: usize,
    /// Compress request bodies.
    pub gzip: bool,
    /// Wait before the first retry; doubled each time…
    pub backoff_initial: Duration,
    /// …up to this.
    pub backoff_max: Duration,
    /// Time to connect.
    pub connect_timeout: Duration,
    /// Time for a whole request.
    pub request_timeout: Duration,
    /// Extra trusted CA certificates (PEM) for a server with a private CA.
    pub ca_file: Option<PathBuf>,
    /// At [`Forwarder::finish`], time allowed to send what is pending.
    pub finish_timeout: Duration,
}

impl ForwardConfig {
    /// Defaults for `url` and `target`: batches of 5,000 lines or 1 s, gzip, retries from
    /// 0.5 s to 30 s, a million lines of buffer.
    pub fn new(url: &str, target: InfluxTarget) -> Self {
        Self {
            url: url.to_owned(),
            target,
            measurement: "mqtt".to_owned(),
            batch_lines: 5_000,
            batch_interval: Duration::from_secs(1),
            max_pending_lines: 1_000_000,
            queue_messages: 65_536,
            gzip: true,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            ca_file: None,
            finish_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of a forwarder, for the status bar: every line is in exactly one of forwarded,
/// pending, rejected, overflow and abandoned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardStatus {
    /// Messages taken into the queue.
    pub messages_accepted: u64,
    /// Messages not taken because the queue was full (the forwarder fell behind); their lines
    /// are unknown and counted nowhere else.
    pub messages_dropped: u64,
    /// Lines made from the accepted messages.
    pub lines: u64,
    /// Lines InfluxDB stored.
    pub forwarded: u64,
    /// Lines waiting to be sent (or sent again).
    pub pending: u64,
    /// Lines InfluxDB refused (bad data: HTTP 400, 413, 422); not retried.
    pub rejected: u64,
    /// Lines dropped because the pending buffer was full.
    pub overflow: u64,
    /// Lines still pending when the forwarder was stopped.
    pub abandoned: u64,
    /// Lines skipped because they are not valid line protocol (never sent).
    pub invalid: u64,
    /// Write requests that failed and were retried.
    pub retries: u64,
    /// The last write failed (a retry is due); false after a success.
    pub failing: bool,
    /// Why the last failed request failed.
    pub last_error: Option<String>,
    /// The write URL, without credentials.
    pub url: String,
}

#[derive(Default)]
struct Shared {
    accepted: AtomicU64,
    dropped: AtomicU64,
    counters: Mutex<ForwardStatus>,
}

/// A running forwarder. Dropping it is [`Forwarder::finish`].
pub struct Forwarder {
    sender: Option<SyncSender<ForwardItem>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Forwarder {
    /// Checks the URL and starts the thread. Reads the OS trust store for https (a few ms):
    /// call it off the UI thread.
    pub fn start(config: ForwardConfig) -> Result<Forwarder, SetupError> {
        let client = InfluxClient::new(&config)?;
        let shared = Arc::new(Shared::default());
        if let Ok(mut counters) = shared.counters.lock() {
            counters.url = client.url().to_owned();
        }
        let (sender, receiver) = std::sync::mpsc::sync_channel(config.queue_messages.max(1));
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("influx-forwarder".into())
            .spawn(move || {
                ForwarderThread {
                    client,
                    config,
                    shared: thread_shared,
                    batches: VecDeque::new(),
                    open: Batch::default(),
                    pending_lines: 0,
                    attempt: 0,
                    retry_at: None,
                }
                .run(&receiver);
            })
            .map_err(SetupError::Thread)?;
        Ok(Forwarder {
            sender: Some(sender),
            shared,
            thread: Some(thread),
        })
    }

    /// Hands `message` (received on `topic`) over without blocking. Messages without numbers
    /// are ignored (`true`); `false` when the queue is full (counted in `messages_dropped`).
    pub fn offer(&self, topic: &str, message: &Message) -> bool {
        let Some(item) = ForwardItem::of_message(topic, message) else {
            return true;
        };
        self.offer_item(item)
    }

    /// Hands a prepared item over (see [`Forwarder::offer`]).
    pub fn offer_item(&self, item: ForwardItem) -> bool {
        let Some(sender) = &self.sender else {
            return false;
        };
        match sender.try_send(item) {
            Ok(()) => {
                self.shared.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// The counters now.
    pub fn status(&self) -> ForwardStatus {
        status_of(&self.shared)
    }

    /// Sends what is pending (for at most `finish_timeout`), stops the thread and returns the
    /// final counters; lines still unsent are counted as abandoned. Blocks: call it off the UI
    /// thread.
    pub fn finish(mut self) -> ForwardStatus {
        self.stop();
        status_of(&self.shared)
    }

    fn stop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
            && let Ok(mut counters) = self.shared.counters.lock()
        {
            counters.last_error = Some("the forwarder thread panicked".into());
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

fn status_of(shared: &Shared) -> ForwardStatus {
    let mut status = shared
        .counters
        .lock()
        .map(|counters| counters.clone())
        .unwrap_or_default();
    status.messages_accepted = shared.accepted.load(Ordering::Relaxed);
    status.messages_dropped = shared.dropped.load(Ordering::Relaxed);
    status
}

#[derive(Default)]
struct Batch {
    body: String,
    lines: u64,
    started: Option<Instant>,
}

struct ForwarderThread {
    client: InfluxClient,
    config: ForwardConfig,
    shared: Arc<Shared>,
    /// Sealed batches, oldest first; the front one is being sent (or retried).
    batches: VecDeque<Batch>,
    /// The batch being filled.
    open: Batch,
    pending_lines: u64,
    attempt: u32,
    retry_at: Option<Instant>,
}

impl ForwarderThread {
    fn run(mut self, receiver: &Receiver<ForwardItem>) {
        let mut connected = true;
        while connected {
            // Take what is queued (bounded, so that sending is not starved).
            for _ in 0..self.config.batch_lines.max(1) {
                match receiver.try_recv() {
                    Ok(item) => self.take(&item),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        connected = false;
                        break;
                    }
                }
            }
            let now = Instant::now();
            if self
                .open
                .started
                .is_some_and(|started| now >= started + self.config.batch_interval)
            {
                self.seal();
            }
            if !self.batches.is_empty() && self.retry_at.is_none_or(|at| now >= at) {
                self.send_front();
                continue;
            }
            if !connected {
                break;
            }
            // Nothing to send now: wait for a message, the open batch's deadline or the retry.
            let deadlines = [
                self.open
                    .started
                    .map(|started| started + self.config.batch_interval),
                self.retry_at.filter(|_| !self.batches.is_empty()),
            ];
            let wait = deadlines
                .into_iter()
                .flatten()
                .min()
                .map_or(Duration::from_secs(3600), |at| {
                    at.saturating_duration_since(Instant::now())
                });
            match receiver.recv_timeout(wait) {
                Ok(item) => self.take(&item),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => connected = false,
            }
        }
        self.drain_at_exit();
    }

    /// Turns an item into lines in the open batch (or counts them as overflow).
    fn take(&mut self, item: &ForwardItem) {
        let mark = self.open.body.len();
        let (written, invalid) = item.write_lines(&self.config.measurement, &mut self.open.body);
        let overflow = self.pending_lines + written > self.config.max_pending_lines;
        if overflow {
            self.open.body.truncate(mark);
        } else if written > 0 {
            self.open.lines += written;
            self.pending_lines += written;
            self.open.started.get_or_insert_with(Instant::now);
        }
        self.update(|status| {
            status.lines += written;
            status.invalid += invalid;
            if overflow {
                status.overflow += written;
            }
        });
        if self.open.lines >= self.config.batch_lines as u64 {
            self.seal();
        }
    }

    fn seal(&mut self) {
        if self.open.lines > 0 {
            self.batches.push_back(std::mem::take(&mut self.open));
        } else {
            self.open.started = None;
        }
    }

    fn send_front(&mut self) {
        let Some(batch) = self.batches.front() else {
            return;
        };
        let lines = batch.lines;
        let outcome = self.client.write(&batch.body);
        match outcome {
            WriteOutcome::Written => {
                self.batches.pop_front();
                self.pending_lines -= lines;
                self.attempt = 0;
                self.retry_at = None;
                self.update(|status| {
                    status.forwarded += lines;
                    status.failing = false;
                });
            }
            WriteOutcome::Rejected(error) => {
                tracing::warn!("InfluxDB forwarder: {error}");
                self.batches.pop_front();
                self.pending_lines -= lines;
                self.update(|status| {
                    status.rejected += lines;
                    status.last_error = Some(error);
                });
            }
            WriteOutcome::Retry(error) => {
                self.attempt = self.attempt.saturating_add(1);
                let wait = http::backoff(
                    self.attempt,
                    self.config.backoff_initial,
                    self.config.backoff_max,
                );
                if self.attempt == 1 {
                    tracing::warn!("InfluxDB forwarder: {error}; retrying");
                }
                self.retry_at = Some(Instant::now() + wait);
                self.update(|status| {
                    status.retries += 1;
                    status.failing = true;
                    status.last_error = Some(error);
                });
            }
        }
    }

    /// After the last message: send what is left while the server takes it, within
    /// `finish_timeout`; count the rest as abandoned.
    fn drain_at_exit(&mut self) {
        self.seal();
        let deadline = Instant::now() + self.config.finish_timeout;
        while !self.batches.is_empty() && Instant::now() < deadline {
            if let Some(at) = self.retry_at {
                let now = Instant::now();
                if at > now {
                    std::thread::sleep((at - now).min(deadline.saturating_duration_since(now)));
                    continue;
                }
            }
            self.send_front();
        }
        let abandoned = self.pending_lines;
        self.batches.clear();
        self.pending_lines = 0;
        self.update(|status| status.abandoned += abandoned);
    }

    fn update(&self, change: impl FnOnce(&mut ForwardStatus)) {
        if let Ok(mut counters) = self.shared.counters.lock() {
            change(&mut counters);
            counters.pending = self.pending_lines;
        }
    }
}
