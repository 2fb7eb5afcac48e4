//! The MQTT worker: a named thread running a tokio runtime and the rumqttc event loop.
//! It decodes each publish into a [`Message`] and pushes it into the [`Inbox`]; connection status
//! travels separately in a [`StatusCell`]. The UI talks to it only through [`WorkerHandle`].

pub mod backoff;
pub mod failure;
pub mod inbox;
pub mod options;
pub mod outcomes;
pub mod status;
pub mod subscriptions;
pub mod worker;

pub use inbox::{DEFAULT_INBOX_CAPACITY, Inbox, InboxStats};
pub use options::{DEFAULT_MAX_PACKET_BYTES, OptionsError};
pub use status::{
    ConnectionState, ConnectionStatus, FailureReason, StatusCell, SubscriptionState, describe,
};
pub use worker::{ConnectParams, WorkerCommand, WorkerCounters, WorkerHandle, WorkerStats};
