//! The credential keeper: a named thread that runs the [`Lifecycle`] against the platform —
//! creates the MQTT account, renews it before it expires, recreates it when it is gone, retries
//! with backoff — and publishes a status snapshot and events for the window, headless mode or a
//! command. The lifecycle decides; this only sends requests and waits.
//!
//! Waits are cut into slices of at most `poll_interval`, re-reading the clock each time, so a
//! jump of the wall clock (suspend and resume) or of a test's manual clock is noticed quickly.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Local, TimeZone, Utc};

use super::api::ApiError;
use super::client::AedifionClient;
use super::lifecycle::{Lifecycle, LifecycleEvent, MqttAccount, Step};

/// Events kept for a reader that does not take them; older ones are dropped (and counted).
const MAX_EVENTS: usize = 256;

/// How the keeper waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeeperSettings {
    /// Longest single wait before the clock is read again.
    pub poll_interval: Duration,
}

impl Default for KeeperSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// What the keeper is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeeperActivity {
    /// Not started yet.
    #[default]
    Starting,
    /// Sending a creation.
    Creating,
    /// Sending a renewal.
    Renewing,
    /// Waiting for the next renewal (the account is valid).
    Waiting,
    /// Waiting to retry after a temporary failure.
    WaitingToRetry,
    /// Stopped until [`CredentialKeeper::resume`] (see `last_error`).
    Halted,
    /// The thread ended.
    Stopped,
}

/// A snapshot of the keeper.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeeperStatus {
    /// What it is doing.
    pub activity: KeeperActivity,
    /// The account in use (its user name and password connect to the broker).
    pub account: Option<MqttAccount>,
    /// Changes whenever the account is replaced by a new one (connect again when it changes).
    pub account_generation: u64,
    /// When the next renewal is due.
    pub renew_at: Option<DateTime<Utc>>,
    /// When the account expires by this machine's clock (see `Lifecycle::expires_at`).
    pub expires_at: Option<DateTime<Utc>>,
    /// The last failure, until the next success.
    pub last_error: Option<ApiError>,
    /// When a failed request is tried again.
    pub retry_at: Option<DateTime<Utc>>,
    /// Events dropped because nobody took them.
    pub events_dropped: u64,
}

impl KeeperStatus {
    /// "credentials valid until 14:32" (local time), or what is wrong, for a status bar.
    pub fn summary(&self) -> String {
        self.summary_in(&Local)
    }

    /// [`KeeperStatus::summary`] in the time zone `zone`.
    pub fn summary_in<Z: TimeZone>(&self, zone: &Z) -> String
    where
        Z::Offset: std::fmt::Display,
    {
        let clock = |time: DateTime<Utc>| time.with_timezone(zone).format("%H:%M").to_string();
        let valid = self
            .account
            .as_ref()
            .map(|account| format!("credentials valid until {}", clock(account.valid_until)));
        match (&self.activity, valid, &self.last_error) {
            (KeeperActivity::Halted, _, Some(error)) => {
                format!("MQTT credentials stopped: {error}")
            }
            (_, Some(valid), Some(error)) => match self.retry_at {
                Some(retry_at) => format!(
                    "{valid}; renewal failed, retrying at {}: {error}",
                    clock(retry_at)
                ),
                None => format!("{valid}; {error}"),
            },
            (_, None, Some(error)) => match self.retry_at {
                Some(retry_at) => format!(
                    "no MQTT credentials yet, retrying at {}: {error}",
                    clock(retry_at)
                ),
                None => format!("no MQTT credentials: {error}"),
            },
            (_, Some(valid), None) => valid,
            (KeeperActivity::Stopped, None, None) => "MQTT credentials: stopped".into(),
            (_, None, None) => "creating MQTT credentials…".into(),
        }
    }
}

/// Why [`CredentialKeeper::wait_for_account`] returned without an account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeeperWaitError {
    /// The keeper stopped until the user acts.
    #[error("{0}")]
    Halted(ApiError),
    /// The keeper thread ended.
    #[error("the MQTT credentials keeper stopped")]
    Stopped,
    /// No account in time (the last failure, if any, says why).
    #[error("no MQTT credentials in time{}", last_error.as_ref().map(|error| format!(": {error}")).unwrap_or_default())]
    TimedOut {
        /// The last failure.
        last_error: Option<ApiError>,
    },
}

#[derive(Default)]
struct Inner {
    stop: bool,
    resume: bool,
    status: KeeperStatus,
    events: VecDeque<LifecycleEvent>,
}

struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the keeper thread (stop, resume).
    wake: Condvar,
    /// Wakes waiters for a new status.
    changed: Condvar,
    notify: Option<Box<dyn Fn() + Send + Sync>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running keeper. Dropping it asks the thread to stop without waiting for it (a request in
/// flight ends by its own timeout); [`CredentialKeeper::stop`] waits.
pub struct CredentialKeeper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CredentialKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialKeeper")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl CredentialKeeper {
    /// Starts the thread `topicscope-aedifion-account`. `notify` is called after every change
    /// of the status (e.g. to ask the window for a repaint); it must not block.
    pub fn start(
        client: Arc<AedifionClient>,
        lifecycle: Lifecycle,
        settings: KeeperSettings,
        notify: Option<Box<dyn Fn() + Send + Sync>>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            wake: Condvar::new(),
            changed: Condvar::new(),
            notify,
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("topicscope-aedifion-account".into())
            .spawn(move || run(&client, lifecycle, settings, &thread_shared))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// The current status.
    pub fn status(&self) -> KeeperStatus {
        self.shared.lock().status.clone()
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&self) -> Vec<LifecycleEvent> {
        self.shared.lock().events.drain(..).collect()
    }

    /// Waits (blocking: not on the UI thread) until an account exists, the keeper halts, or
    /// `timeout` passes. Headless mode and commands use it before connecting.
    pub fn wait_for_account(&self, timeout: Duration) -> Result<MqttAccount, KeeperWaitError> {
        let deadline = std::time::Instant::now() + timeout;
        let mut inner = self.shared.lock();
        loop {
            if let Some(account) = &inner.status.account {
                return Ok(account.clone());
            }
            match (&inner.status.activity, &inner.status.last_error) {
                (KeeperActivity::Halted, Some(error)) => {
                    return Err(KeeperWaitError::Halted(error.clone()));
                }
                (KeeperActivity::Stopped, _) => return Err(KeeperWaitError::Stopped),
                _ => {}
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(KeeperWaitError::TimedOut {
                    last_error: inner.status.last_error.clone(),
                });
            }
            inner = self
                .shared
                .changed
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Continues after a halt (e.g. once the user has fixed the password).
    pub fn resume(&self) {
        self.shared.lock().resume = true;
        self.shared.wake.notify_all();
    }

    /// Stops the thread and waits for it (at most one request's timeout).
    pub fn stop(mut self) {
        self.request_stop();
        if let Some(thread) = self.thread.take() {
            // A panic in the thread is already reported by the panic hook; nothing to add.
            let _ = thread.join();
        }
    }

    fn request_stop(&self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
    }
}

impl Drop for CredentialKeeper {
    fn drop(&mut self) {
        self.request_stop();
    }
}

fn run(
    client: &AedifionClient,
    mut lifecycle: Lifecycle,
    settings: KeeperSettings,
    shared: &Shared,
) {
    let clock = Arc::clone(client.clock());
    let project_id = lifecycle.request().project_id;
    let mut generation = 0;
    loop {
        {
            let mut inner = shared.lock();
            if inner.stop {
                break;
            }
            if std::mem::take(&mut inner.resume) {
                lifecycle.resume();
            }
        }
        let now = clock.now();
        let step = lifecycle.next_step(now);
        let activity = match &step {
            Step::Create(_) => KeeperActivity::Creating,
            Step::Renew { .. } => KeeperActivity::Renewing,
            Step::WaitUntil(_) if lifecycle.retry_at().is_some() => KeeperActivity::WaitingToRetry,
            Step::WaitUntil(_) => KeeperActivity::Waiting,
            Step::Halted => KeeperActivity::Halted,
        };
        publish(shared, &mut lifecycle, activity, &mut generation);
        match step {
            Step::Create(new) => {
                tracing::info!(project_id, username = %new.username, "creating an MQTT account");
                let result = client.create_mqtt_user(project_id, &new);
                lifecycle.create_finished(now, result);
            }
            Step::Renew {
                mqttuser_id,
                update,
            } => {
                tracing::debug!(project_id, mqttuser_id, "renewing the MQTT account");
                let result = client.update_mqtt_user(project_id, mqttuser_id, &update);
                lifecycle.renew_finished(now, result);
            }
            Step::WaitUntil(until) => {
                let remaining = (until - now).to_std().unwrap_or(Duration::ZERO);
                wait(shared, remaining.min(settings.poll_interval));
            }
            Step::Halted => wait(shared, settings.poll_interval),
        }
    }
    shared.lock().status.activity = KeeperActivity::Stopped;
    shared.changed.notify_all();
    if let Some(notify) = &shared.notify {
        notify();
    }
}

/// Copies the lifecycle's state and events into the shared status.
fn publish(
    shared: &Shared,
    lifecycle: &mut Lifecycle,
    activity: KeeperActivity,
    generation: &mut u64,
) {
    let events = lifecycle.take_events();
    for event in &events {
        match event {
            LifecycleEvent::Created { account, replaces } => {
                *generation += 1;
                tracing::info!(
                    mqttuser_id = account.mqttuser_id,
                    replaces = ?replaces,
                    valid_until = %account.valid_until,
                    "MQTT account created"
                );
            }
            LifecycleEvent::Renewed { account } => tracing::debug!(
                mqttuser_id = account.mqttuser_id,
                valid_until = %account.valid_until,
                "MQTT account renewed"
            ),
            LifecycleEvent::RetryScheduled { error, .. } | LifecycleEvent::Gone { error, .. } => {
                tracing::warn!("{error}");
            }
            LifecycleEvent::NameRefused { error, .. } | LifecycleEvent::Halted { error } => {
                tracing::warn!("{error}");
            }
            LifecycleEvent::Expired { mqttuser_id, .. } => {
                tracing::warn!(
                    mqttuser_id,
                    "MQTT account expired before it could be renewed"
                );
            }
        }
    }
    let status = KeeperStatus {
        activity,
        account: lifecycle.account().cloned(),
        account_generation: *generation,
        renew_at: lifecycle.renew_at(),
        expires_at: lifecycle.expires_at(),
        last_error: lifecycle.last_error().cloned(),
        retry_at: lifecycle.retry_at(),
        events_dropped: 0,
    };
    let changed = {
        let mut inner = shared.lock();
        let dropped = inner.status.events_dropped;
        for event in events.iter().cloned() {
            if inner.events.len() >= MAX_EVENTS {
                inner.events.pop_front();
                inner.status.events_dropped += 1;
            }
            inner.events.push_back(event);
        }
        let status = KeeperStatus {
            events_dropped: inner.status.events_dropped.max(dropped),
            ..status
        };
        let changed = inner.status != status || !events.is_empty();
        inner.status = status;
        changed
    };
    if changed {
        shared.changed.notify_all();
    }
    if changed && let Some(notify) = &shared.notify {
        notify();
    }
}

/// Sleeps up to `duration`, woken early by stop or resume.
fn wait(shared: &Shared, duration: Duration) {
    let inner = shared.lock();
    if inner.stop || inner.resume || duration.is_zero() {
        return;
    }
    let _ = shared
        .wake
        .wait_timeout_while(inner, duration, |inner| !inner.stop && !inner.resume);
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeDelta};

    use super::*;
    use crate::account::api::{ApiErrorKind, Operation, Rights};

    fn account(valid_until: DateTime<Utc>) -> MqttAccount {
        MqttAccount {
            mqttuser_id: 1,
            username: "u".into(),
            password: "p".into(),
            rights: Rights::Read,
            valid_until,
            acl: Vec::new(),
        }
    }

    #[test]
    fn the_summary_reads_like_the_status_bar() {
        let utc = FixedOffset::east_opt(0).expect("offset");
        let valid_until = DateTime::parse_from_rfc3339("2026-03-01T14:32:10Z")
            .expect("time")
            .with_timezone(&Utc);
        let mut status = KeeperStatus {
            activity: KeeperActivity::Waiting,
            account: Some(account(valid_until)),
            ..KeeperStatus::default()
        };
        assert_eq!(status.summary_in(&utc), "credentials valid until 14:32");
        let berlin = FixedOffset::east_opt(3600).expect("offset");
        assert_eq!(status.summary_in(&berlin), "credentials valid until 15:32");

        status.last_error = Some(ApiError::new(
            Operation::RenewMqttUser {
                project_id: 7,
                mqttuser_id: 1,
            },
            ApiErrorKind::Server {
                status: 502,
                server: String::new(),
            },
        ));
        status.retry_at = Some(valid_until - TimeDelta::minutes(30));
        let text = status.summary_in(&utc);
        assert!(
            text.starts_with("credentials valid until 14:32; renewal failed, retrying at 14:02:"),
            "{text}"
        );
        assert!(text.contains("HTTP 502"), "{text}");

        status.activity = KeeperActivity::Halted;
        assert!(
            status
                .summary_in(&utc)
                .starts_with("MQTT credentials stopped:")
        );
        assert_eq!(
            KeeperStatus::default().summary_in(&utc),
            "creating MQTT credentials…"
        );
    }
}
