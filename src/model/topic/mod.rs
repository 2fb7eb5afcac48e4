//! MQTT addressing: topic names and filters (validation, matching), QoS levels, the natural
//! order of level names ("dp2" before "dp10") and the topic tree (an arena of levels with counts,
//! a path index and per-node labels). Knows nothing of payloads or of what a topic holds.
//!
//! Depends on: time, heap.

pub mod children;
pub mod filter;
pub mod level;
pub mod natural;
pub mod node_map;
pub mod qos;
pub mod tree;
