//! A received MQTT message as the store sees it: raw bytes plus what the worker
//! decoded from them (so the UI thread never parses payloads).

use std::sync::Arc;

use bytes::Bytes;

use crate::model::aedifion::datapoints::{AedifionFacts, Observed};

use crate::model::aedifion::family::{TopicFamily, topic_family};
use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;

use crate::model::decode::decoder_override::DecoderChoice;
use crate::model::decode::payload::{Decoded, ValueKey};

/// One received publish, decoded on the worker thread.
#[derive(Debug, Clone)]
pub struct Message {
    /// The concrete topic it was published on. Empty once the store keeps the message (the
    /// topic tree holds the path; see `Store::find_topic` and `TopicTree::path`).
    pub topic: String,
    /// Raw payload bytes (shared, never copied after receipt).
    pub payload: Bytes,
    pub qos: Qos,
    /// What kind of traffic the topic carries (aedifion's `META/…`, `CONTROLS/…` or time
    /// series), classified once on the worker.
    pub family: TopicFamily,
    /// The broker delivered it as a retained message.
    pub retained: bool,
    /// Wall-clock time of receipt.
    pub received_at_nanos: Nanos,
    /// Format, preview and numeric values, computed once when the message arrived.
    pub decoded: Decoded,
}

impl Message {
    /// Builds a message and decodes its payload (call this on the worker thread).
    pub fn new(
        topic: String,
        payload: Bytes,
        qos: Qos,
        retained: bool,
        received_at_nanos: Nanos,
    ) -> Self {
        Self::new_as(
            topic,
            payload,
            qos,
            retained,
            received_at_nanos,
            DecoderChoice::Auto,
        )
    }

    /// Like [`Message::new`], decoding with `decoder` (a profile's per-topic override).
    pub fn new_as(
        topic: String,
        payload: Bytes,
        qos: Qos,
        retained: bool,
        received_at_nanos: Nanos,
        decoder: DecoderChoice,
    ) -> Self {
        let family = topic_family(&topic);
        let decoded = Decoded::from_family_payload_as(family, &payload, decoder);
        Self {
            topic,
            payload,
            qos,
            family,
            retained,
            received_at_nanos,
            decoded,
        }
    }
}

impl Observed for Message {
    fn topic(&self) -> &str {
        &self.topic
    }

    fn family(&self) -> TopicFamily {
        self.family
    }

    fn received_at_nanos(&self) -> Nanos {
        self.received_at_nanos
    }

    fn measurements(&self) -> impl Iterator<Item = &Arc<str>> {
        self.decoded
            .values
            .iter()
            .filter_map(|value| match &value.key {
                ValueKey::InfluxField { measurement, .. } => Some(measurement.shared()),
                _ => None,
            })
    }

    fn facts(&self) -> Option<&AedifionFacts> {
        self.decoded.aedifion()
    }
}
