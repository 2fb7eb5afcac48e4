//! Recordings: every message a connection received (topic, payload, QoS, retain, receive time),
//! in an append-only file of zstd-compressed, checksummed blocks. RECORDING.md at the repository
//! root documents the bytes.
//!
//! - [`RecordWriter`] runs a named background thread: the hot path only hands a [`Record`] over
//!   (bounded queue, never blocks, every record it could not take is counted). A block is
//!   written when it holds enough records or bytes, or is old enough, so killing the process
//!   loses at most the block in progress. A size limit stops or rotates the file.
//! - [`RecordReader`] iterates the records of a file and stops at the first damage, saying
//!   where and why; it seeks by time through a block index it builds by scanning.
//!
//! Depends on `model` only.

pub mod format;
pub mod reader;
pub mod writer;

use bytes::Bytes;

use crate::model::decode::message::Message;
use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;

pub use reader::{BlockIndexEntry, RecordReader, Stop, StopKind};
pub use writer::{
    BlockWriter, OnLimit, RecordOptions, RecordState, RecordStatus, RecordWriter, rotated_path,
};

/// The usual file name extension of a recording.
pub const FILE_EXTENSION: &str = "tsrec";

/// One received message as a recording keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The concrete topic.
    pub topic: String,
    /// The payload bytes as received.
    pub payload: Bytes,
    /// QoS of the delivery.
    pub qos: Qos,
    /// Delivered as a retained message.
    pub retained: bool,
    /// Wall-clock time of receipt.
    pub received_at_nanos: Nanos,
}

impl Record {
    /// The record of a received message (the payload is shared, not copied). Call it before
    /// the store takes the message: the store empties `Message::topic`.
    pub fn of_message(message: &Message) -> Record {
        Record {
            topic: message.topic.clone(),
            payload: message.payload.clone(),
            qos: message.qos,
            retained: message.retained,
            received_at_nanos: message.received_at_nanos,
        }
    }

    /// The message as if just received: its payload decoded (on the calling thread).
    pub fn into_message(self) -> Message {
        Message::new(
            self.topic,
            self.payload,
            self.qos,
            self.retained,
            self.received_at_nanos,
        )
    }
}

/// Why a recording could not be written or opened.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Creating, writing or reading the file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot create", "cannot write to", …).
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a recording this version can read.
    #[error("{path} is not a readable recording: {reason}")]
    NotARecording {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The background writer thread could not be started.
    #[error("cannot start the recording thread: {0}")]
    Thread(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_becomes_a_record_and_back() {
        let message = Message::new(
            "a/b".into(),
            Bytes::from_static(b"21.5"),
            Qos::AtLeastOnce,
            true,
            123,
        );
        let record = Record::of_message(&message);
        let back = record.clone().into_message();
        assert_eq!(back.topic, "a/b");
        assert_eq!(back.decoded, message.decoded);
        assert_eq!(
            (back.qos, back.retained, back.received_at_nanos),
            (Qos::AtLeastOnce, true, 123)
        );
    }
}
