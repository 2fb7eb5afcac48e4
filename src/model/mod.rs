//! The UI-free core: topics and the tree, payload decoding, aedifion data, the store, writes and
//! configuration. It uses no egui, tokio or rumqttc, and no layer above it (`tests/layering.rs`).
//!
//! The model is split into rooms, each a folder whose `mod.rs` names, on its `Depends on:` line,
//! the only other parts of the model it may use (the layering test reads that line). From the
//! bottom up:
//!
//! | room | holds | depends on |
//! |---|---|---|
//! | [`time`], [`heap`], [`files`] | points in time; what an allocation costs; private files (0700/0600, no symlink following) | nothing |
//! | [`topic`] | topic names and filters, QoS, natural order, the topic tree | time, heap |
//! | [`aedifion`] | hash ids, META, SWOP, topic families, the datapoint registry | topic |
//! | [`decode`] | payload decoding (Influx, legacy, JSON), decoder overrides, `Message` | aedifion |
//! | [`store`] | the Store: topic states, histories, series, rates, memory budget | decode |
//! | [`write`] | the publish gate, audit log, templates, setpoints, retained clearing | store |
//! | [`config`] | profiles, presets, URLs, settings, config files, secrets | write |
//!
//! A room may use every room below it in this table (and `time`/`heap`), never one above.

pub mod aedifion;
pub mod config;
pub mod decode;
pub mod files;
pub mod heap;
pub mod store;
pub mod time;
pub mod topic;
pub mod write;
