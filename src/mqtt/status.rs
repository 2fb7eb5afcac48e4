//! Connection status: a latest-value cell written by the worker and read by the UI each frame.
//! It never travels through the inbox, so a flood cannot push a "disconnected" out.
//! OWNER: mqtt-worker helper (may extend, keep these names).

use std::sync::{Mutex, PoisonError};

use crate::model::message::Nanos;

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
    Other,
}

/// Where the connection is.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    Idle,
    Connecting { attempt: u32 },
    Connected { since_nanos: Nanos },
    /// Failed; the worker retries at `retry_at_nanos` (None = it gave up / will not retry).
    Failed { reason: FailureReason, message: String, retry_at_nanos: Option<Nanos> },
    Stopped,
}

/// The broker's answer to one subscription filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    Pending,
    /// Granted at this QoS level.
    Granted(u8),
    /// SUBACK failure (e.g. outside the account's ACL).
    Refused,
}

/// Snapshot the UI reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    /// Filter → broker's answer, in the profile's order.
    pub subscriptions: Vec<(String, SubscriptionState)>,
    /// Broker the worker talks to (`host:port`), for display.
    pub broker: String,
}

/// A latest-value cell.
#[derive(Debug)]
pub struct StatusCell {
    inner: Mutex<ConnectionStatus>,
}

impl StatusCell {
    pub fn new(broker: String) -> Self {
        Self {
            inner: Mutex::new(ConnectionStatus {
                state: ConnectionState::Idle,
                subscriptions: Vec::new(),
                broker,
            }),
        }
    }

    pub fn snapshot(&self) -> ConnectionStatus {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn update(&self, change: impl FnOnce(&mut ConnectionStatus)) {
        change(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner));
    }
}
