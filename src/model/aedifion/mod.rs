//! aedifion.io's data as the reference describes it: hash ids of datapoint names, topic families
//! (`META/…`, `CONTROLS/…`), the META and SWOP message formats, the facts the worker decodes from
//! them, and the datapoint registry (names learned for hashed topics, staleness, the controls
//! timeline). It parses no payload format of its own beyond META/SWOP JSON: what the registry
//! observes arrives as aedifion facts and measurement names.
//!
//! Depends on: time, heap, topic.

pub mod controls;
pub mod datapoints;
pub mod family;
pub mod hash_id;
pub mod meta;
pub mod project;
pub mod staleness;
pub mod swop;
