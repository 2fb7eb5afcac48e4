//! The store: everything received, owned by the UI thread. Applies decoded messages to the tree,
//! per-topic histories and plot series, within limits and a memory budget.
//! OWNER: model-core helper. Signatures are the contract for the UI and app layers.

use super::message::{Message, Nanos};
use super::payload::ValueKey;
use super::series::Series;
use super::tree::{NodeId, TopicTree};

/// Limits the user sets in the settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Messages kept per topic (the latest is always kept).
    pub history_messages_per_topic: usize,
    /// Payload bytes kept per topic's history.
    pub history_bytes_per_topic: usize,
    /// Points kept per plot series.
    pub series_points: usize,
    /// Total memory the store may use; oldest history goes first when over it.
    pub memory_budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            history_messages_per_topic: 100,
            history_bytes_per_topic: 1 << 20,
            series_points: 100_000,
            memory_budget_bytes: 512 << 20,
        }
    }
}

/// Everything known about one concrete topic.
#[derive(Debug)]
pub struct TopicState {
    /// Newest message first is `history.latest()`; older ones follow, bounded by [`Limits`].
    pub history: super::history::History,
    pub message_count: u64,
    /// Receive time of the newest message.
    pub changed_at_nanos: Nanos,
}

impl TopicState {
    /// The newest message (a topic always has one).
    pub fn latest(&self) -> &Message {
        todo!()
    }
}

/// Identifies a plot series in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId(pub u32);

/// Counters shown in the status bar and written by headless mode.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StoreStats {
    pub messages_applied: u64,
    pub topics: u64,
    /// Payload and bookkeeping bytes currently held (estimate).
    pub bytes_held: u64,
    /// History messages dropped to stay within limits or the memory budget.
    pub history_evicted: u64,
    pub series_points: u64,
}

#[derive(Debug, Default)]
pub struct Store {
    tree: TopicTree,
}

impl Store {
    pub fn new(limits: Limits) -> Self {
        let _ = limits;
        todo!()
    }
    pub fn limits(&self) -> &Limits {
        todo!()
    }
    /// Changes limits; trims at once if they shrank.
    pub fn set_limits(&mut self, limits: Limits) {
        let _ = limits;
        todo!()
    }
    /// Applies one message: tree, history, counters, and every series that plots this topic.
    pub fn apply(&mut self, message: Message) {
        let _ = message;
        todo!()
    }
    pub fn tree(&self) -> &TopicTree {
        &self.tree
    }
    pub fn tree_mut(&mut self) -> &mut TopicTree {
        &mut self.tree
    }
    /// The state of the topic at `node`, if a message arrived on it.
    pub fn topic(&self, node: NodeId) -> Option<&TopicState> {
        self.tree.node(node).topic.as_deref()
    }
    /// Starts plotting `key` of the topic at `node`, back-filled from that topic's history.
    /// Returns the existing series if it is already plotted.
    pub fn add_series(&mut self, node: NodeId, key: ValueKey) -> SeriesId {
        let _ = (node, key);
        todo!()
    }
    pub fn remove_series(&mut self, id: SeriesId) {
        let _ = id;
        todo!()
    }
    /// All plotted series, in the order they were added.
    pub fn series(&self) -> impl Iterator<Item = (SeriesId, &Series)> {
        std::iter::empty()
    }
    pub fn stats(&self) -> &StoreStats {
        todo!()
    }
    /// Forgets every topic and series (e.g. when connecting elsewhere).
    pub fn clear(&mut self) {
        todo!()
    }
}
