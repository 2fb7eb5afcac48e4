//! Connection status: a latest-value cell written by the worker and read by the UI each frame.
//! It never travels through the inbox, so a flood cannot push a "disconnected" out.

use std::sync::{Mutex, PoisonError};

use crate::model::time::Nanos;

/// Why a connection attempt failed, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// The host name could not be resolved.
    Dns,
    /// Nothing listens on that host and port.
    ConnectionRefused,
    /// No answer in time.
    Timeout,
    /// The server's certificate is not trusted (unknown CA, wrong host name, expired…).
    CertificateNotTrusted,
    /// Any other TLS failure.
    Tls,
    /// CONNACK: bad user name or password.
    BadCredentials,
    /// CONNACK: not authorized.
    NotAuthorized,
    /// CONNACK with another refusal code.
    Refused,
    /// The connection dropped after it was up.
    ConnectionLost,
    /// Invalid settings (e.g. a CA file that cannot be read).
    Configuration,
    /// Anything else (the message says what).
    Other,
}

impl FailureReason {
    /// A short, plain-language summary; failure messages start with it.
    pub fn summary(&self) -> &'static str {
        match self {
            FailureReason::Dns => "Host name not found",
            FailureReason::ConnectionRefused => "Connection refused",
            FailureReason::Timeout => "No answer in time",
            FailureReason::CertificateNotTrusted => "Server certificate not trusted",
            FailureReason::Tls => "TLS handshake failed",
            FailureReason::BadCredentials => "Bad user name or password",
            FailureReason::NotAuthorized => "Not authorized",
            FailureReason::Refused => "Connection refused by the broker",
            FailureReason::ConnectionLost => "Connection lost",
            FailureReason::Configuration => "Invalid connection settings",
            FailureReason::Other => "Connection failed",
        }
    }
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.summary())
    }
}

/// Where the connection is.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    /// Not started yet.
    Idle,
    /// Trying to connect; `attempt` counts from 1 since the last successful connection.
    Connecting { attempt: u32 },
    /// Connected (CONNACK accepted) since this wall-clock time.
    Connected { since_nanos: Nanos },
    /// Failed; the worker retries at `retry_at_nanos` (None = it gave up / will not retry).
    /// `message` is a full sentence that starts with [`FailureReason::summary`] and says what to do.
    Failed {
        reason: FailureReason,
        message: String,
        retry_at_nanos: Option<Nanos>,
    },
    /// The worker has ended (the user disconnected).
    Stopped,
}

/// The broker's answer to one subscription filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// Sent (or to be sent at the next connection), no answer yet.
    Pending,
    /// Granted at this QoS level.
    Granted(u8),
    /// SUBACK failure (e.g. outside the account's ACL), or a filter the client refused to send
    /// because it is not a valid MQTT filter.
    Refused,
}

/// Snapshot the UI reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionStatus {
    /// Where the connection is.
    pub state: ConnectionState,
    /// Filter → broker's answer, in the profile's order (filters added later come last).
    pub subscriptions: Vec<(String, SubscriptionState)>,
    /// Broker the worker talks to (`host:port`), for display.
    pub broker: String,
    /// The message of the latest failure of this connection, kept while it reconnects and after
    /// (so a status bar can say what dropped the connection even once it is back).
    pub last_failure: Option<String>,
}

impl ConnectionStatus {
    /// True while a CONNACK-accepted connection is up.
    pub fn connected(&self) -> bool {
        matches!(self.state, ConnectionState::Connected { .. })
    }

    /// True once connected and every subscription (at least one) is granted: what a script
    /// waits for before it starts publishing.
    pub fn all_granted(&self) -> bool {
        self.connected()
            && !self.subscriptions.is_empty()
            && self
                .subscriptions
                .iter()
                .all(|(_, state)| matches!(state, SubscriptionState::Granted(_)))
    }

    /// Filters the broker refused, in order.
    pub fn refused_filters(&self) -> impl Iterator<Item = &str> {
        self.subscriptions
            .iter()
            .filter(|(_, state)| *state == SubscriptionState::Refused)
            .map(|(filter, _)| filter.as_str())
    }
}

/// The status-bar text for `status` at wall-clock time `now_nanos`, e.g.
/// "Connecting to host:port (attempt 3)…", "Connected to host:port since 10:42:07",
/// "Bad user name or password: … — retrying in 12 s".
pub fn describe(status: &ConnectionStatus, now_nanos: Nanos) -> String {
    let broker = &status.broker;
    match &status.state {
        ConnectionState::Idle => format!("Not connected to {broker}"),
        ConnectionState::Connecting { attempt } if *attempt <= 1 => {
            format!("Connecting to {broker}…")
        }
        ConnectionState::Connecting { attempt } => match &status.last_failure {
            Some(failure) => {
                format!("Connecting to {broker} (attempt {attempt})… (last failure: {failure})")
            }
            None => format!("Connecting to {broker} (attempt {attempt})…"),
        },
        ConnectionState::Connected { since_nanos } => {
            format!(
                "Connected to {broker} since {}",
                local_clock_time(*since_nanos)
            )
        }
        ConnectionState::Failed {
            message,
            retry_at_nanos: Some(retry_at),
            ..
        } => {
            let wait_secs = seconds_until(*retry_at, now_nanos);
            if wait_secs == 0 {
                format!("{message} — retrying now")
            } else {
                format!("{message} — retrying in {wait_secs} s")
            }
        }
        ConnectionState::Failed {
            message,
            retry_at_nanos: None,
            ..
        } => {
            format!("{message} — not retrying: fix the profile and connect again")
        }
        ConnectionState::Stopped => format!("Disconnected from {broker}"),
    }
}

/// Whole seconds from `now` until `at`, rounded up so a countdown never shows 0 too early.
fn seconds_until(at_nanos: Nanos, now_nanos: Nanos) -> i64 {
    const NANOS_PER_SEC: i64 = 1_000_000_000;
    let remaining_nanos = at_nanos.saturating_sub(now_nanos).max(0);
    remaining_nanos / NANOS_PER_SEC + i64::from(remaining_nanos % NANOS_PER_SEC != 0)
}

/// `HH:MM:SS` in the local time zone.
fn local_clock_time(at_nanos: Nanos) -> String {
    let utc = chrono::DateTime::from_timestamp_nanos(at_nanos);
    utc.with_timezone(&chrono::Local)
        .format("%H:%M:%S")
        .to_string()
}

impl std::fmt::Display for ConnectionStatus {
    /// The status-bar text as of now (see [`describe`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&describe(self, crate::model::time::now_nanos()))
    }
}

/// A latest-value cell.
#[derive(Debug)]
pub struct StatusCell {
    inner: Mutex<ConnectionStatus>,
}

impl StatusCell {
    /// A cell in the `Idle` state for `broker` (`host:port`).
    pub fn new(broker: String) -> Self {
        Self {
            inner: Mutex::new(ConnectionStatus {
                state: ConnectionState::Idle,
                subscriptions: Vec::new(),
                broker,
                last_failure: None,
            }),
        }
    }

    /// A copy of the current status.
    pub fn snapshot(&self) -> ConnectionStatus {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the status in place (keep `change` short: the UI reads the same lock).
    pub fn update(&self, change: impl FnOnce(&mut ConnectionStatus)) {
        change(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Nanos = 1_000_000_000;

    fn status(state: ConnectionState) -> ConnectionStatus {
        ConnectionStatus {
            state,
            subscriptions: Vec::new(),
            broker: "mqtt.example:8884".into(),
            last_failure: None,
        }
    }

    #[test]
    fn first_attempt_shows_no_attempt_number() {
        let text = describe(&status(ConnectionState::Connecting { attempt: 1 }), 0);
        assert_eq!(text, "Connecting to mqtt.example:8884…");
    }

    #[test]
    fn later_attempts_show_their_number() {
        let text = describe(&status(ConnectionState::Connecting { attempt: 3 }), 0);
        assert_eq!(text, "Connecting to mqtt.example:8884 (attempt 3)…");
    }

    #[test]
    fn connected_shows_local_clock_time_of_connection() {
        let since_nanos = 1_700_000_000 * SEC;
        let expected = chrono::DateTime::from_timestamp_nanos(since_nanos)
            .with_timezone(&chrono::Local)
            .format("%H:%M:%S")
            .to_string();
        let text = describe(
            &status(ConnectionState::Connected { since_nanos }),
            since_nanos,
        );
        assert_eq!(
            text,
            format!("Connected to mqtt.example:8884 since {expected}")
        );
    }

    #[test]
    fn failure_with_retry_counts_whole_seconds_up() {
        let failed = status(ConnectionState::Failed {
            reason: FailureReason::BadCredentials,
            message: "Bad user name or password: check the profile".into(),
            retry_at_nanos: Some(100 * SEC),
        });
        let text = describe(&failed, 100 * SEC - 11 * SEC - SEC / 2);
        assert_eq!(
            text,
            "Bad user name or password: check the profile — retrying in 12 s"
        );
        assert!(describe(&failed, 101 * SEC).ends_with("— retrying now"));
    }

    #[test]
    fn failure_without_retry_says_what_to_do() {
        let failed = status(ConnectionState::Failed {
            reason: FailureReason::Configuration,
            message: "Invalid connection settings: cannot read the CA file".into(),
            retry_at_nanos: None,
        });
        let text = describe(&failed, 0);
        assert!(text.starts_with("Invalid connection settings: cannot read the CA file"));
        assert!(text.contains("fix the profile"));
    }

    #[test]
    fn refused_filters_lists_only_refusals_in_order() {
        let mut snapshot = status(ConnectionState::Idle);
        snapshot.subscriptions = vec![
            ("a/#".into(), SubscriptionState::Granted(1)),
            ("b/#".into(), SubscriptionState::Refused),
            ("c/#".into(), SubscriptionState::Pending),
            ("d/#".into(), SubscriptionState::Refused),
        ];
        assert_eq!(
            snapshot.refused_filters().collect::<Vec<_>>(),
            ["b/#", "d/#"]
        );
    }

    #[test]
    fn every_reason_has_a_distinct_summary() {
        let reasons = [
            FailureReason::Dns,
            FailureReason::ConnectionRefused,
            FailureReason::Timeout,
            FailureReason::CertificateNotTrusted,
            FailureReason::Tls,
            FailureReason::BadCredentials,
            FailureReason::NotAuthorized,
            FailureReason::Refused,
            FailureReason::ConnectionLost,
            FailureReason::Configuration,
            FailureReason::Other,
        ];
        let summaries: std::collections::HashSet<_> = reasons.iter().map(|r| r.summary()).collect();
        assert_eq!(summaries.len(), reasons.len());
    }
}
