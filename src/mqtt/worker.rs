//! The worker thread. OWNER: mqtt-worker helper. Signatures are the contract for the app layer.

use std::sync::Arc;

use crate::model::message::Qos;
use crate::model::profile::Profile;

use super::inbox::Inbox;
use super::status::StatusCell;

/// Everything needed to connect: the profile plus the secret, which is never stored in it.
#[derive(Debug, Clone)]
pub struct ConnectParams {
    pub profile: Profile,
    pub password: Option<String>,
    /// Largest packet accepted in or out (rumqttc defaults to 10 KiB; we raise it).
    pub max_packet_bytes: usize,
}

/// Requests the UI sends to the worker (bounded channel, never blocks the UI).
#[derive(Debug, Clone)]
pub enum WorkerCommand {
    Subscribe { filter: String, qos: Qos },
    Unsubscribe { filter: String },
    Publish { topic: String, payload: Vec<u8>, qos: Qos, retain: bool },
    /// Disconnect cleanly and end the thread.
    Stop,
}

/// The UI's side of a running worker. Dropping it stops the worker.
pub struct WorkerHandle {
    pub inbox: Arc<Inbox>,
    pub status: Arc<StatusCell>,
}

impl WorkerHandle {
    /// Starts the worker thread and returns at once; connection progress shows in `status`.
    pub fn spawn(params: ConnectParams, inbox: Arc<Inbox>) -> std::io::Result<Self> {
        let _ = (params, inbox);
        todo!()
    }

    /// Sends a command without blocking; returns false if the worker is gone or its queue is full.
    pub fn send(&self, command: WorkerCommand) -> bool {
        let _ = command;
        todo!()
    }
}
