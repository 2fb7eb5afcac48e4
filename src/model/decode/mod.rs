//! Payload decoding, done once per message on the worker thread: format detection, a one-line
//! preview, the numeric values a plot may want (Influx line protocol, aedifion's legacy format,
//! JSON), per-topic decoder overrides, and [`message::Message`], a received publish with what was
//! decoded from it.
//!
//! Depends on: time, heap, topic, aedifion.

pub mod decoder_override;
pub mod influx;
pub mod json_values;
pub mod legacy;
pub mod message;
pub mod payload;
