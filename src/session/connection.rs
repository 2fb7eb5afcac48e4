//! One live connection to a broker: the worker thread (with its tokio runtime and rumqttc event
//! loop), the inbox it fills and the status cell it writes. The window, headless mode and the
//! command-line writers all hold this one type.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::config::profile::Profile;
use crate::model::config::secret::Password;
use crate::model::time::now_nanos;
use crate::model::write::publish::AuthorizedPublish;
use crate::mqtt::inbox::Waker;
use crate::mqtt::outcomes::PublishReports;
use crate::mqtt::status::describe;
use crate::mqtt::worker::{WorkerCounters, WorkerStats};
use crate::mqtt::{
    ConnectParams, ConnectionStatus, Inbox, InboxStats, StatusCell, SubscriptionState,
    WorkerCommand, WorkerHandle,
};

/// How often [`Connection::wait_until_subscribed`] and [`Connection::stop_and_wait`] look.
const POLL: Duration = Duration::from_millis(20);

/// What a connection is started with besides its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Messages the inbox holds before the worker waits (see `mqtt::inbox`).
    pub inbox_capacity_messages: usize,
    /// Largest packet accepted in or out.
    pub max_packet_bytes: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            inbox_capacity_messages: crate::mqtt::DEFAULT_INBOX_CAPACITY,
            max_packet_bytes: crate::mqtt::DEFAULT_MAX_PACKET_BYTES,
        }
    }
}

/// Why a connection could not start or did not get where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The worker thread could not start.
    #[error(
        "Could not start the connection thread: {0}. Close other programs or restart TopicScope."
    )]
    Thread(std::io::Error),
    /// The broker refused a subscription the caller needs.
    #[error("The broker refused the subscription to {filters}.")]
    Refused {
        /// The refused filters, comma-separated.
        filters: String,
    },
    /// The profile fails a check made again right before connecting (a saved profile edited
    /// by hand, a `--url` profile, a password over plain transport).
    #[error("Not connected: {0}")]
    InvalidProfile(String),
    /// Not connected and subscribed within the time given.
    #[error("Could not connect within {secs} s: {status}")]
    TimedOut {
        /// The time waited.
        secs: u64,
        /// What the status said at the end.
        status: String,
    },
}

/// A running (or finished) connection. Dropping it stops the worker without waiting.
pub struct Connection {
    profile: Profile,
    inbox: Arc<Inbox>,
    status: Arc<StatusCell>,
    worker_stats: Arc<WorkerStats>,
    publish_reports: Arc<PublishReports>,
    /// `None` once a stopped worker has ended; the inbox is still drained so nothing received
    /// is lost.
    worker: Option<WorkerHandle>,
    /// Stop was asked for; the worker is finishing.
    stopping: bool,
    /// A password was sent with CONNECT.
    sends_password: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Connection")
            .field("profile", &self.profile.name)
            .field("running", &self.running())
            .field("stopping", &self.stopping)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Starts the worker for `profile` and returns at once; progress shows in [`Connection::status`].
    /// `waker` is called when the inbox goes from empty to non-empty (once per batch).
    pub fn start(
        profile: Profile,
        password: Option<Password>,
        options: ConnectOptions,
        waker: Option<Waker>,
    ) -> Result<Self, ConnectionError> {
        // Every entry point (window, --url, publish, setpoint, headless) comes through here:
        // the profile is checked again, with the password actually sent, before anything
        // leaves this computer.
        let sends_password = password.as_ref().is_some_and(|p| !p.is_empty());
        let problems = profile.connect_problems(sends_password);
        if !problems.is_empty() {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(ConnectionError::InvalidProfile(text.join(" ")));
        }
        let inbox = Inbox::new(options.inbox_capacity_messages);
        if let Some(waker) = waker {
            inbox.set_waker(waker);
        }
        let params = ConnectParams {
            profile: profile.clone(),
            password,
            max_packet_bytes: options.max_packet_bytes,
        };
        let worker = WorkerHandle::spawn(params, inbox.clone()).map_err(ConnectionError::Thread)?;
        tracing::info!(broker = %profile.display_url(), "connecting");
        Ok(Self {
            profile,
            inbox,
            status: worker.status.clone(),
            worker_stats: worker.stats.clone(),
            publish_reports: worker.publish_reports.clone(),
            worker: Some(worker),
            stopping: false,
            sends_password,
        })
    }

    /// What the status bar warns about while this connection is up (a password sent
    /// unencrypted, certificates not checked).
    pub fn security_warnings(&self) -> Vec<String> {
        self.profile.security_warnings(self.sends_password)
    }

    /// The profile this connection was started with.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The inbox the worker fills.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The inbox's counters.
    pub fn inbox_stats(&self) -> InboxStats {
        self.inbox.stats()
    }

    /// The latest connection status.
    pub fn status(&self) -> ConnectionStatus {
        self.status.snapshot()
    }

    /// What the worker could not do (oversize packets, publishes not sent).
    pub fn worker_counters(&self) -> WorkerCounters {
        self.worker_stats.snapshot()
    }

    /// Outcomes of authorized publishes (PUBACK, PUBCOMP, sent, not sent).
    pub fn publish_reports(&self) -> &PublishReports {
        &self.publish_reports
    }

    /// True while the worker runs and no stop was asked for.
    pub fn active(&self) -> bool {
        self.worker.is_some() && !self.stopping
    }

    /// True until the worker thread has ended.
    pub fn running(&self) -> bool {
        self.worker.as_ref().is_some_and(WorkerHandle::running)
    }

    /// Sends a command to the worker without blocking; false if it is gone or its queue is full.
    pub fn send(&self, command: WorkerCommand) -> bool {
        self.worker
            .as_ref()
            .is_some_and(|worker| !self.stopping && worker.send(command))
    }

    /// Hands a publish the write gate allowed to the worker; its outcome arrives in
    /// [`Connection::publish_reports`]. False if the worker is gone, stopping or its queue is
    /// full (the caller records it as not sent).
    pub fn publish(&self, authorized: AuthorizedPublish) -> bool {
        self.send(WorkerCommand::PublishAuthorized(authorized))
    }

    /// Asks the worker to disconnect cleanly; messages it already received stay in the inbox.
    pub fn stop(&mut self) {
        if let Some(worker) = &self.worker {
            // If the queue is full, dropping the handle later still stops the worker.
            worker.send(WorkerCommand::Stop);
            self.stopping = true;
        }
    }

    /// Lets go of the worker once a stopped one has ended (so the status shows the clean
    /// disconnect). Cheap; call it once per frame or loop.
    pub fn reap(&mut self) {
        if self.stopping && self.worker.as_ref().is_some_and(|worker| !worker.running()) {
            self.worker = None;
        }
    }

    /// Stops the worker and waits up to `grace` for it to send its DISCONNECT.
    pub fn stop_and_wait(mut self, grace: Duration) {
        self.stop();
        let deadline = Instant::now() + grace;
        while self.running() && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }

    /// Waits until connected with every subscription granted (with no subscription: until
    /// connected), a refusal, or `timeout`.
    pub fn wait_until_subscribed(&self, timeout: Duration) -> Result<(), ConnectionError> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status();
            if status.connected() && (status.subscriptions.is_empty() || status.all_granted()) {
                return Ok(());
            }
            let refused: Vec<&str> = status.refused_filters().collect();
            if !refused.is_empty() {
                return Err(ConnectionError::Refused {
                    filters: refused.join(", "),
                });
            }
            if Instant::now() >= deadline {
                return Err(ConnectionError::TimedOut {
                    secs: timeout.as_secs(),
                    status: describe(&status, now_nanos()),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// True once connected and every subscription is granted (see
    /// [`ConnectionStatus::all_granted`]).
    pub fn all_granted(&self) -> bool {
        self.status().all_granted()
    }

    /// The broker's answer to each subscription, in order.
    pub fn subscriptions(&self) -> Vec<(String, SubscriptionState)> {
        self.status().subscriptions
    }
}
