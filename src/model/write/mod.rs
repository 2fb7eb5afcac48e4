//! Writes to a broker, which must never happen by accident: the publish gate (read-only
//! profiles, topic validation, ids, the sent history), the audit log, publish templates, SWOP
//! setpoint drafts and their tracking, and clearing retained topics.
//!
//! Depends on: time, heap, files, topic, aedifion, decode, store.

pub mod audit;
pub mod publish;
pub mod retained;
pub mod setpoint;
pub mod setpoint_tracker;
pub mod templates;
