//! The store: everything received, owned by the UI thread. Applies decoded messages to the tree,
//! per-topic histories and plot series, within limits and a memory budget.
//!
//! Memory: the store keeps a running estimate of the bytes it holds (messages, nodes, topic
//! states, queue entries, series points). When the estimate exceeds the budget, the oldest history
//! entries across all topics are dropped first, using one global arrival-ordered queue of
//! `(node, sequence)`. A topic's latest message goes only when no older message is left anywhere:
//! the first queue hands each latest it reaches to a second queue (so in arrival order: the least
//! recently updated topic first), which is evicted from as a last resort. The topic stays in the
//! tree (name, counts, times, series); its next message makes it normal again. Entries the
//! per-topic limits (or newer messages) already made obsolete stay in the queues as stale entries
//! and are compacted away in bulk.

//!
//! Depends on: time, heap, topic, aedifion, decode.

mod eviction;
pub mod history;
pub mod memory_budget;
pub mod rates;
#[cfg(test)]
mod registry_tests;
pub mod series;

use std::collections::{HashMap, VecDeque};
use std::mem::size_of;

use crate::model::aedifion::datapoints::Datapoints;
use crate::model::decode::message::Message;
use crate::model::decode::payload::ValueKey;
use crate::model::store::eviction::QueuedMessage;
use crate::model::store::history::{HistoryLimits, Trimmed, estimated_message_bytes};
use crate::model::store::memory_budget::BudgetReading;
use crate::model::store::rates::{RankBy, Ranking, RateWindow, Rates};
use crate::model::store::series::{Series, TimeSource};
use crate::model::time::Nanos;
use crate::model::topic::level::LevelName;
use crate::model::topic::node_map::NodeMap;
use crate::model::topic::tree::{Node, NodeId, TopicTree};

/// Limits the user sets in the settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Messages kept per topic (the latest is always kept; only the memory budget may evict it).
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

impl Limits {
    /// The per-topic part of the limits.
    pub fn history_limits(&self) -> HistoryLimits {
        HistoryLimits {
            max_messages: self.history_messages_per_topic,
            max_payload_bytes: self.history_bytes_per_topic,
        }
    }
}

/// Everything known about one concrete topic.
#[derive(Debug, Default)]
pub struct TopicState {
    /// Newest message first is `history.latest()`; older ones follow, bounded by [`Limits`].
    pub history: crate::model::store::history::History,
    /// Messages received on this topic (including those no longer in the history).
    pub message_count: u64,
    /// Receive time of the newest message.
    pub changed_at_nanos: Nanos,
    /// The latest message left the first eviction queue for the latest-message queue; it must be
    /// queued in the first again once a newer message makes it an ordinary history entry.
    latest_unqueued: bool,
    /// The latest message is a non-empty retained one: kept apart from the message so that it
    /// is still known after the memory budget evicted the message (clearing retained messages
    /// must still find the topic).
    latest_retained: bool,
}

impl TopicState {
    /// The newest message; `None` while the memory budget has evicted it (see
    /// [`TopicState::latest_evicted`]).
    pub fn latest(&self) -> Option<&Message> {
        self.history.latest()
    }

    /// The broker holds a (non-empty) retained message for this topic, as far as the latest
    /// message received says (also while that message is evicted).
    pub fn latest_retained(&self) -> bool {
        self.latest_retained
    }

    /// True while the memory budget has evicted the latest message (the topic, its counts and
    /// series stay; its next message is shown again).
    pub fn latest_evicted(&self) -> bool {
        self.history.latest_evicted()
    }
}

/// Identifies a plot series in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId(pub u32);

/// Counters shown in the status bar and written by headless mode.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StoreStats {
    /// Messages applied since the store was created or cleared.
    pub messages_applied: u64,
    /// Topics that received at least one message.
    pub topics: u64,
    /// Payload and bookkeeping bytes currently held (estimate).
    pub bytes_held: u64,
    /// History messages dropped to stay within limits or the memory budget.
    pub history_evicted: u64,
    /// Latest messages the memory budget dropped as a last resort (their topics stay listed).
    pub latest_evicted: u64,
    /// Points held by all plot series.
    pub series_points: u64,
}

/// Estimated bookkeeping cost of one tree node (struct, a long name's allocation, slot in the
/// parent's child list).
fn estimated_node_bytes(name: &LevelName) -> usize {
    size_of::<Node>()
        + name.heap_bytes()
        + size_of::<NodeId>()
        + size_of::<Option<Box<TopicState>>>()
}

/// Estimated bookkeeping cost of one topic beyond its messages: its state and its slot in the
/// tree's path index (a hash table at most 7/8 full that grows by doubling: about two slots).
/// The state holds its latest message inline, which [`estimated_message_bytes`] counts.
const TOPIC_STATE_BYTES: usize =
    crate::model::heap::heap_bytes(size_of::<TopicState>()) + 2 * size_of::<(u32, NodeId)>();
/// What the latest message's box costs beyond the message ([`estimated_message_bytes`] counts
/// the struct itself): counted while a topic holds its latest.
const LATEST_BOX_SPARE_BYTES: usize =
    crate::model::heap::heap_bytes(size_of::<Message>()) - size_of::<Message>();
/// Estimated cost of one eviction queue entry.
const QUEUE_ENTRY_BYTES: usize = size_of::<QueuedMessage>();
/// Estimated cost of one series point.
const SERIES_POINT_BYTES: usize = size_of::<(Nanos, f64)>();
/// Compaction of the eviction queue runs only above this many stale entries (amortises its O(n)).
const MIN_STALE_FOR_COMPACTION: usize = 4096;

/// A series and the node it plots.
#[derive(Debug)]
struct Plotted {
    id: SeriesId,
    node: NodeId,
    series: Series,
}

/// Everything received, with its tree, histories and series.
#[derive(Debug, Default)]
pub struct Store {
    tree: TopicTree,
    /// What each topic holds (latest message, history, counts), by its tree node.
    topics: NodeMap<Box<TopicState>>,
    limits: Limits,
    stats: StoreStats,
    /// Plot series in the order they were added.
    series: Vec<Plotted>,
    /// Which series plot each node (looked up once per message only when any series exists).
    series_by_node: HashMap<NodeId, Vec<SeriesId>>,
    next_series_id: u32,
    /// Every held message in arrival order, oldest first (plus stale entries; see module docs).
    eviction_queue: VecDeque<QueuedMessage>,
    stale_queue_entries: usize,
    /// Latest messages the first queue reached, in arrival order: evicted once it is empty.
    latest_queue: VecDeque<QueuedMessage>,
    /// Entries of `latest_queue` whose message is no longer the latest.
    stale_latest_entries: usize,
    /// Bookkeeping estimate of the tree: nodes and topic states.
    tree_bytes: usize,
    /// Estimate of all messages held in histories ([`estimated_message_bytes`] summed).
    message_bytes: usize,
    /// Message and byte rates per node, for the busiest-topics view (see `rates.rs`).
    rates: Rates,
    /// aedifion datapoints, names, metadata, staleness and the controls timeline.
    datapoints: Datapoints,
    /// Messages held in all histories (for the typical message size and the spare ring slots).
    messages_held: usize,
    /// Message slots the history rings have allocated (held messages included).
    ring_slots: usize,
    /// The process-level correction of the budget (see `memory_budget.rs`): the estimate the
    /// store is held to when the process is over its budget, and the RSS that caused it.
    budget_reading: BudgetReading,
}

impl Store {
    /// An empty store with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Changes limits; trims at once if they shrank.
    pub fn set_limits(&mut self, limits: Limits) {
        let history_limits = limits.history_limits();
        let series_points = limits.series_points;
        self.limits = limits;
        let mut trimmed = Trimmed::default();
        for index in 0..self.tree.len() {
            let Ok(raw_id) = u32::try_from(index) else {
                break;
            };
            if let Some(state) = self.topics.get_mut(NodeId(raw_id)).map(Box::as_mut) {
                // A history trimmed back to its latest message gives its ring back.
                let slots_before = state.history.capacity();
                let topic_trimmed = state.history.trim(history_limits);
                self.ring_slots = self.ring_slots - slots_before + state.history.capacity();
                trimmed.messages += topic_trimmed.messages;
                trimmed.held_bytes += topic_trimmed.held_bytes;
            }
        }
        self.account_trimmed(trimmed);
        for plotted in &mut self.series {
            plotted.series.set_capacity_points(series_points);
        }
        self.recount_series_points();
        self.compact_queue_if_stale();
        self.enforce_memory_budget();
    }

    /// Applies one message: tree, history, counters, and every series that plots this topic.
    pub fn apply(&mut self, message: Message) {
        let nodes_before = self.tree.len();
        let Some(node) = self.tree.insert(&message.topic) else {
            tracing::warn!("topic tree is full; a message was not stored");
            return;
        };
        if self.tree.len() != nodes_before {
            self.count_new_nodes(nodes_before);
        }
        let received_at_nanos = message.received_at_nanos;
        if !self.tree.node(node).is_topic() {
            self.tree.mark_topic(node);
            self.topics.insert(node, Box::default());
            self.stats.topics += 1;
            self.tree_bytes += TOPIC_STATE_BYTES;
        }
        self.datapoints.observe(&mut self.tree, node, &message);
        self.plot_values(node, &message);
        let payload_bytes = message.payload.len();
        self.push_to_history(node, message);
        let rates = &mut self.rates;
        self.tree.record_message(node, received_at_nanos, |level| {
            rates.record_level(level, payload_bytes, received_at_nanos)
        });
        self.rates.record_done(received_at_nanos);
        self.stats.messages_applied += 1;
        self.update_bytes_held();
        self.enforce_memory_budget();
    }

    /// The topic tree.
    pub fn tree(&self) -> &TopicTree {
        &self.tree
    }

    /// Learns `(hash_id, name)` pairs of the project `lbg/handle` (from the platform's API):
    /// see [`Datapoints::learn_names`]. Returns how many datapoints were new.
    pub fn learn_datapoint_names<'a>(
        &mut self,
        project_key: &str,
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> usize {
        self.datapoints
            .learn_names(&mut self.tree, project_key, names)
    }

    /// What is known about aedifion datapoints, projects and controls.
    pub fn datapoints(&self) -> &Datapoints {
        &self.datapoints
    }

    /// The topic tree, mutably (expansion).
    pub fn tree_mut(&mut self) -> &mut TopicTree {
        &mut self.tree
    }

    /// The state of the topic at `node`, if a message arrived on it.
    pub fn topic(&self, node: NodeId) -> Option<&TopicState> {
        self.topics.get(node).map(Box::as_ref)
    }

    /// The node and state of the topic with this full path, if a message arrived on it.
    pub fn find_topic(&self, path: &str) -> Option<(NodeId, &TopicState)> {
        let node = self.tree.find(path)?;
        Some((node, self.topic(node)?))
    }

    /// Starts plotting `key` of the topic at `node`, back-filled from that topic's history.
    /// Returns the existing series if it is already plotted.
    pub fn add_series(&mut self, node: NodeId, key: ValueKey) -> SeriesId {
        if let Some(existing) = self
            .series
            .iter()
            .find(|plotted| plotted.node == node && plotted.series.key == key)
        {
            return existing.id;
        }
        let id = SeriesId(self.next_series_id);
        self.next_series_id = self.next_series_id.wrapping_add(1);
        let topic = self.tree.path(node);
        let mut series = Series::new(
            &topic,
            key,
            TimeSource::default(),
            self.limits.series_points,
        );
        self.backfill(node, &mut series);
        self.stats.series_points += series.len() as u64;
        self.series.push(Plotted { id, node, series });
        self.series_by_node.entry(node).or_default().push(id);
        self.update_bytes_held();
        id
    }

    /// Stops plotting a series (unknown ids are ignored).
    pub fn remove_series(&mut self, id: SeriesId) {
        let Some(position) = self.series.iter().position(|plotted| plotted.id == id) else {
            return;
        };
        let removed = self.series.remove(position);
        self.stats.series_points -= removed.series.len() as u64;
        if let Some(ids) = self.series_by_node.get_mut(&removed.node) {
            ids.retain(|&other| other != id);
            if ids.is_empty() {
                self.series_by_node.remove(&removed.node);
            }
        }
        self.update_bytes_held();
    }

    /// All plotted series, in the order they were added.
    pub fn series(&self) -> impl Iterator<Item = (SeriesId, &Series)> {
        self.series
            .iter()
            .map(|plotted| (plotted.id, &plotted.series))
    }

    /// One plotted series.
    pub fn series_by_id(&self, id: SeriesId) -> Option<&Series> {
        self.series
            .iter()
            .find(|plotted| plotted.id == id)
            .map(|plotted| &plotted.series)
    }

    /// The series plotting `key` of the topic at `node`, if any.
    pub fn find_series(&self, node: NodeId, key: &ValueKey) -> Option<SeriesId> {
        self.series
            .iter()
            .find(|plotted| plotted.node == node && plotted.series.key == *key)
            .map(|plotted| plotted.id)
    }

    /// Changes which clock a series uses; its points are rebuilt from the topic's history.
    pub fn set_series_time_source(&mut self, id: SeriesId, time_source: TimeSource) {
        let Some(position) = self.series.iter().position(|plotted| plotted.id == id) else {
            return;
        };
        let node = self.series[position].node;
        let mut series = std::mem::replace(
            &mut self.series[position].series,
            Series::new("", ValueKey::Whole, time_source, 1),
        );
        self.stats.series_points -= series.len() as u64;
        series.time_source = time_source;
        series.clear();
        self.backfill(node, &mut series);
        self.stats.series_points += series.len() as u64;
        self.series[position].series = series;
        self.update_bytes_held();
    }

    /// Message and byte rates per topic and subtree, and the first and last message times.
    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The busiest topics and subtrees, recomputed at most once per second (see [`Rates`]).
    pub fn refresh_busiest(
        &mut self,
        window: RateWindow,
        by: RankBy,
        limit: usize,
        now_nanos: Nanos,
    ) -> &Ranking {
        self.rates
            .refresh_ranking(&self.tree, window, by, limit, now_nanos);
        // The refresh prunes silent counters, which the estimate counts; the ranking it keeps
        // can also grow the estimate, which must then stay within the budget like any growth.
        self.update_bytes_held();
        self.enforce_memory_budget();
        self.rates.ranking()
    }

    /// The counters, kept up to date incrementally.
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    /// The estimate the store evicts down to: the memory budget, or less while the process is
    /// over its budget (see [`Store::set_memory_target_bytes`]).
    pub fn memory_target_bytes(&self) -> usize {
        let budget = self.limits.memory_budget_bytes;
        self.budget_reading
            .store_target_bytes
            .map_or(budget, |target| {
                usize::try_from(target).unwrap_or(budget).min(budget)
            })
    }

    /// Holds the store's estimate to `target_bytes` (never above the budget; `None`: the budget).
    /// Evicts at once if the store holds more.
    pub fn set_memory_target_bytes(&mut self, target_bytes: Option<usize>) {
        self.budget_reading.store_target_bytes = target_bytes.map(|target| target as u64);
        self.enforce_memory_budget();
    }

    /// Records the memory controller's reading (process RSS and the target derived from it)
    /// and applies its target.
    pub fn record_budget_reading(&mut self, reading: BudgetReading) {
        self.budget_reading = reading;
        self.enforce_memory_budget();
    }

    /// The last process-memory reading (default until the app first samples RSS).
    pub fn budget_reading(&self) -> BudgetReading {
        self.budget_reading
    }

    /// Average estimated bytes of a held message (a default before the first message), to size
    /// the headroom a full inbox needs.
    pub fn typical_message_bytes(&self) -> usize {
        self.message_bytes
            .checked_div(self.messages_held)
            .unwrap_or(crate::model::store::memory_budget::DEFAULT_MESSAGE_BYTES)
    }

    /// Forgets every topic and series (e.g. when connecting elsewhere). Limits stay.
    pub fn clear(&mut self) {
        let limits = std::mem::take(&mut self.limits);
        *self = Self::new(limits);
    }

    fn count_new_nodes(&mut self, first_new: usize) {
        for index in first_new..self.tree.len() {
            let Ok(raw_id) = u32::try_from(index) else {
                break;
            };
            self.tree_bytes += estimated_node_bytes(&self.tree.node(NodeId(raw_id)).name);
        }
    }

    /// Pushes the message's already extracted values into every series plotting this topic.
    fn plot_values(&mut self, node: NodeId, message: &Message) {
        if self.series_by_node.is_empty() || message.decoded.values.is_empty() {
            return;
        }
        let Some(ids) = self.series_by_node.get(&node) else {
            return;
        };
        for plotted in self
            .series
            .iter_mut()
            .filter(|plotted| ids.contains(&plotted.id))
        {
            let before = plotted.series.len();
            let series = &mut plotted.series;
            for value in &message.decoded.values {
                if value.key == series.key {
                    series.push_value(value, message.received_at_nanos);
                }
            }
            let after = plotted.series.len();
            self.stats.series_points = self.stats.series_points - before as u64 + after as u64;
        }
    }

    fn push_to_history(&mut self, node: NodeId, mut message: Message) {
        // The tree holds the path: a stored message keeps no copy of it (an empty `String`
        // allocates nothing).
        message.topic = String::new();
        let history_limits = self.limits.history_limits();
        let received_at_nanos = message.received_at_nanos;
        let message_bytes = estimated_message_bytes(&message);
        let Some(state) = self.topics.get_mut(node).map(Box::as_mut) else {
            return;
        };
        if std::mem::take(&mut state.latest_unqueued)
            && let Some(sequence) = state.history.latest_sequence()
        {
            // The previous latest becomes an ordinary history entry: back into the first queue
            // (its entry in the latest queue goes stale).
            self.eviction_queue
                .push_back(QueuedMessage { node, sequence });
            self.stale_latest_entries += 1;
        }
        if state.history.latest().is_none() {
            // A first message, or one after the latest was evicted: the latest's box comes back.
            self.tree_bytes += LATEST_BOX_SPARE_BYTES;
        }
        state.latest_retained = message.retained && !message.payload.is_empty();
        let slots_before = state.history.capacity();
        let (sequence, trimmed) = state.history.push(message, history_limits);
        self.ring_slots = self.ring_slots - slots_before + state.history.capacity();
        self.messages_held += 1;
        state.message_count += 1;
        state.changed_at_nanos = state.changed_at_nanos.max(received_at_nanos);
        self.eviction_queue
            .push_back(QueuedMessage { node, sequence });
        self.message_bytes += message_bytes;
        self.account_trimmed(trimmed);
        self.compact_queue_if_stale();
    }

    /// Books messages the per-topic limits dropped (their queue entries became stale).
    fn account_trimmed(&mut self, trimmed: Trimmed) {
        self.stats.history_evicted += trimmed.messages;
        self.messages_held -= trimmed.messages as usize;
        self.message_bytes -= trimmed.held_bytes;
        self.stale_queue_entries += trimmed.messages as usize;
        self.update_bytes_held();
    }

    /// Fills `series` from the stored history of the topic at `node`, oldest first.
    fn backfill(&self, node: NodeId, series: &mut Series) {
        let Some(state) = self.topic(node) else {
            return;
        };
        for message in state.history.iter_oldest_first() {
            for value in &message.decoded.values {
                if value.key == series.key {
                    series.push_value(value, message.received_at_nanos);
                }
            }
        }
    }

    fn recount_series_points(&mut self) {
        self.stats.series_points = self
            .series
            .iter()
            .map(|plotted| plotted.series.len() as u64)
            .sum();
        self.update_bytes_held();
    }

    /// Recomputes the estimate from its incrementally kept parts (O(1)).
    fn update_bytes_held(&mut self) {
        let bytes = self.message_bytes
            + self.tree_bytes
            + (self.eviction_queue.len() + self.latest_queue.len()) * QUEUE_ENTRY_BYTES
            + self.stats.series_points as usize * SERIES_POINT_BYTES
            + self.datapoints.estimated_bytes()
            + self.tree.label_bytes()
            + self.spare_bytes();
        self.stats.bytes_held = bytes as u64;
    }
}

impl Store {
    /// What the estimate's per-item parts leave out, all O(1): allocated but unused slots of the
    /// history rings, the tree's arena and the eviction queue, and the busiest-topics counters.
    fn spare_bytes(&self) -> usize {
        self.ring_slots.saturating_sub(self.messages_held) * size_of::<Message>()
            + self.tree.spare_bytes()
            + (self.eviction_queue.capacity() - self.eviction_queue.len()) * QUEUE_ENTRY_BYTES
            + (self.latest_queue.capacity() - self.latest_queue.len()) * QUEUE_ENTRY_BYTES
            + self.rates.estimated_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::payload::ExtractedValue;
    use crate::model::store::history::tests::message;

    const SEC: Nanos = 1_000_000_000;

    fn numeric(topic: &str, value: f64, received_at_nanos: Nanos) -> Message {
        let mut numeric = message(topic, &value.to_string(), received_at_nanos);
        numeric.decoded.values.push(ExtractedValue {
            key: ValueKey::Whole,
            value,
            timestamp_nanos: None,
        });
        numeric
    }

    fn json_pair(
        topic: &str,
        a: f64,
        b: f64,
        stamped_at_nanos: Option<Nanos>,
        received_at_nanos: Nanos,
    ) -> Message {
        let mut pair = message(
            topic,
            &format!("{{\"a\":{a},\"b\":{b}}}"),
            received_at_nanos,
        );
        for (key, value) in [("a", a), ("b", b)] {
            let key = ValueKey::JsonPath(key.into());
            pair.decoded.values.push(ExtractedValue {
                key,
                value,
                timestamp_nanos: stamped_at_nanos,
            });
        }
        pair
    }

    fn node(store: &Store, path: &str) -> NodeId {
        store.tree().find(path).unwrap()
    }

    fn latest_payload(store: &Store, path: &str) -> String {
        let state = store.topic(node(store, path)).unwrap();
        String::from_utf8_lossy(&state.latest().unwrap().payload).into_owned()
    }

    /// Sums the estimate from scratch, to check the incremental bookkeeping.
    fn recomputed_bytes_held(store: &Store) -> u64 {
        let tree = store.tree();
        let mut bytes = 0;
        for index in 1..tree.len() {
            let node = tree.node(NodeId(index as u32));
            bytes += estimated_node_bytes(&node.name);
            if let Some(state) = store.topic(NodeId(index as u32)) {
                if state.latest().is_some() {
                    bytes += LATEST_BOX_SPARE_BYTES;
                }
                bytes += TOPIC_STATE_BYTES
                    + state
                        .history
                        .iter_oldest_first()
                        .map(estimated_message_bytes)
                        .sum::<usize>()
                    + (state.history.capacity() - state.history.len()) * size_of::<Message>();
            }
        }
        bytes +=
            (store.eviction_queue.capacity() + store.latest_queue.capacity()) * QUEUE_ENTRY_BYTES;
        bytes += tree.spare_bytes() + store.rates().estimated_bytes();
        bytes += store
            .series()
            .map(|(_, series)| series.len())
            .sum::<usize>()
            * SERIES_POINT_BYTES;
        bytes += store.datapoints().estimated_bytes();
        bytes += store.tree().label_bytes();
        bytes as u64
    }

    #[test]
    fn apply_builds_tree_history_and_counters() {
        let mut store = Store::new(Limits::default());
        store.apply(message("a/b", "1", 10));
        store.apply(message("a/b", "2", 20));
        store.apply(message("a/c", "3", 15));
        let b = node(&store, "a/b");
        let state = store.topic(b).unwrap();
        assert_eq!(state.message_count, 2);
        assert_eq!(state.changed_at_nanos, 20);
        assert_eq!(latest_payload(&store, "a/b"), "2");
        assert_eq!(
            state.history.previous().map(|m| m.received_at_nanos),
            Some(10)
        );
        assert!(store.topic(node(&store, "a")).is_none());
        assert!(store.find_topic("a").is_none());
        assert_eq!(
            store
                .find_topic("a/c")
                .map(|(id, state)| (id, state.message_count)),
            Some((node(&store, "a/c"), 1))
        );
        let a = store.tree().node(node(&store, "a"));
        assert_eq!(
            (a.subtree_messages, a.subtree_topics, a.last_change_nanos),
            (3, 2, 20)
        );
        let stats = store.stats();
        assert_eq!(
            (stats.messages_applied, stats.topics, stats.history_evicted),
            (3, 2, 0)
        );
        assert_eq!(stats.bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn per_topic_limits_evict_and_count() {
        let limits = Limits {
            history_messages_per_topic: 3,
            ..Limits::default()
        };
        let mut store = Store::new(limits);
        for index in 0..10 {
            store.apply(message("t", &index.to_string(), index));
        }
        assert_eq!(store.topic(node(&store, "t")).unwrap().history.len(), 3);
        assert_eq!(store.stats().history_evicted, 7);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn lowering_the_history_limit_keeps_the_estimate_exact() {
        let mut store = Store::new(Limits::default());
        for index in 0..5 {
            store.apply(message("t", &index.to_string(), index));
        }
        // Trimming back to the latest gives the ring back: its slots must leave the estimate.
        store.set_limits(Limits {
            history_messages_per_topic: 1,
            ..Limits::default()
        });
        assert_eq!(store.topic(node(&store, "t")).unwrap().history.len(), 1);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn the_estimate_follows_rate_counters_pruned_by_the_busiest_view() {
        let mut store = Store::new(Limits::default());
        for index in 0..50 {
            store.apply(message(&format!("t/{index}"), "1", 0));
        }
        // Minutes later, with no message since, the view asks for the busiest topics: every
        // counter is silent and pruned, and the estimate must drop with them.
        store.refresh_busiest(RateWindow::TenSeconds, RankBy::Messages, 10, 300 * SEC);
        assert_eq!(store.rates().tracked_nodes(), 0);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn memory_budget_evicts_oldest_across_topics_but_keeps_every_latest() {
        let payload = "x".repeat(1000);
        let mut store = Store::new(Limits {
            memory_budget_bytes: 1 << 30,
            ..Limits::default()
        });
        for round in 0..5 {
            for topic in ["a", "b", "c"] {
                store.apply(message(topic, &format!("{round}{payload}"), round));
            }
        }
        assert_eq!(store.stats().history_evicted, 0);
        // Room for about eight messages fewer. An evicted message leaves its ring slot and queue
        // slot allocated (until a ring shrinks), so the exact count depends on the sizes; what
        // must hold: within the budget, oldest first across topics, every latest kept.
        let message_bytes =
            estimated_message_bytes(store.topic(node(&store, "a")).unwrap().latest().unwrap());
        let budget = store.stats().bytes_held as usize - 8 * message_bytes;
        store.set_limits(Limits {
            memory_budget_bytes: budget,
            ..Limits::default()
        });
        assert!(store.stats().bytes_held <= budget as u64);
        let evicted = store.stats().history_evicted as usize;
        assert!((8..12).contains(&evicted), "{evicted}");
        // Arrival order is round by round, a, b, c: the first `evicted` are gone, the rest held.
        for (position, (round, topic)) in (0..5)
            .flat_map(|round| ["a", "b", "c"].map(|topic| (round, topic)))
            .enumerate()
        {
            let history = &store.topic(node(&store, topic)).unwrap().history;
            let held = history
                .iter_oldest_first()
                .any(|m| m.received_at_nanos == round);
            assert_eq!(held, position >= evicted, "{topic} round {round}");
        }
        for topic in ["a", "b", "c"] {
            assert!(
                latest_payload(&store, topic).starts_with('4'),
                "latest of {topic} kept"
            );
        }
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn a_lowered_memory_target_evicts_oldest_first_and_never_exceeds_the_budget() {
        let payload = "x".repeat(1000);
        let mut store = Store::new(Limits::default());
        for round in 0..20 {
            for topic in ["a", "b"] {
                store.apply(message(topic, &format!("{round}{payload}"), round));
            }
        }
        let held = store.stats().bytes_held as usize;
        store.set_memory_target_bytes(Some(held / 2));
        assert_eq!(store.memory_target_bytes(), held / 2);
        assert!(store.stats().bytes_held as usize <= held / 2);
        let evicted = store.stats().history_evicted;
        assert!(evicted > 0);
        for topic in ["a", "b"] {
            let history = &store.topic(node(&store, topic)).unwrap().history;
            assert!(
                history
                    .iter_oldest_first()
                    .all(|m| m.received_at_nanos >= 5)
            );
            assert!(latest_payload(&store, topic).starts_with("19"));
        }
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
        // A target above the budget is the budget; none is the budget too.
        store.set_memory_target_bytes(Some(usize::MAX));
        assert_eq!(
            store.memory_target_bytes(),
            Limits::default().memory_budget_bytes
        );
        store.set_memory_target_bytes(None);
        assert_eq!(
            store.memory_target_bytes(),
            Limits::default().memory_budget_bytes
        );
        assert_eq!(store.stats().history_evicted, evicted);
    }

    #[test]
    fn evicted_histories_give_their_spare_slots_back() {
        let mut single = Store::new(Limits::default());
        single.apply(message("busy", "p", 99));
        let mut store = Store::new(Limits::default());
        for index in 0..100 {
            store.apply(message("busy", "p", index));
        }
        let busy = node(&store, "busy");
        assert!(store.topic(busy).unwrap().history.capacity() >= 100);
        // Room for the latest and a few older messages (the queue keeps its buffer).
        store.set_memory_target_bytes(Some(single.stats().bytes_held as usize + 4096));
        let history = &store.topic(busy).unwrap().history;
        assert!((2..20).contains(&history.len()), "{}", history.len());
        assert!(
            history.capacity() < 4 * history.len(),
            "{} slots for {}",
            history.capacity(),
            history.len()
        );
        assert_eq!(store.stats().latest_evicted, 0);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
        // Nothing left: the ring goes entirely.
        store.set_memory_target_bytes(Some(1));
        let history = &store.topic(busy).unwrap().history;
        assert_eq!((history.len(), history.capacity()), (0, 0));
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn the_typical_message_size_is_the_average_held() {
        let mut store = Store::new(Limits::default());
        assert_eq!(store.typical_message_bytes(), 512);
        store.apply(message("a", "1", 1));
        store.apply(message("b", &"x".repeat(500), 2));
        let expected = ["a", "b"]
            .map(|topic| {
                estimated_message_bytes(store.topic(node(&store, topic)).unwrap().latest().unwrap())
            })
            .iter()
            .sum::<usize>()
            / 2;
        assert_eq!(store.typical_message_bytes(), expected);
    }

    #[test]
    fn a_budget_smaller_than_the_latest_messages_evicts_them_but_keeps_the_topics() {
        let mut store = Store::new(Limits {
            memory_budget_bytes: 1,
            ..Limits::default()
        });
        for round in 0..4 {
            for topic in ["a", "b"] {
                store.apply(message(topic, &format!("{topic}{round}"), round));
            }
        }
        for topic in ["a", "b"] {
            let state = store.topic(node(&store, topic)).unwrap();
            assert!(
                state.latest().is_none() && state.latest_evicted(),
                "{topic}"
            );
            assert_eq!((state.history.len(), state.message_count), (0, 4));
            assert_eq!(state.changed_at_nanos, 3);
        }
        // Each message was the latest when the budget took it: none went as older history.
        assert_eq!(store.stats().history_evicted, 0);
        assert_eq!(store.stats().latest_evicted, 8);
        assert_eq!(store.stats().topics, 2);
        assert_eq!(store.messages_held, 0);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn over_budget_latest_messages_go_least_recently_updated_first_and_come_back() {
        let mut store = Store::new(Limits::default());
        for index in 0..100 {
            store.apply(message(&format!("t/{index}"), "payload", index));
        }
        // Topic 0 is updated again: it becomes the most recently updated.
        store.apply(message("t/0", "fresh", 100));
        let one_message =
            estimated_message_bytes(store.topic(node(&store, "t/1")).unwrap().latest().unwrap());
        let held = store.stats().bytes_held as usize;
        // Room for about 60 messages fewer.
        let target = held - 60 * one_message;
        store.set_memory_target_bytes(Some(target));
        assert!(store.stats().bytes_held as usize <= target);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
        // The older message of t/0 went first, then latest messages in arrival order.
        assert_eq!(store.stats().history_evicted, 1);
        let latest_evicted = store.stats().latest_evicted as usize;
        assert!((50..70).contains(&latest_evicted), "{latest_evicted}");
        for index in 1..100 {
            let state = store.topic(node(&store, &format!("t/{index}"))).unwrap();
            assert_eq!(state.latest_evicted(), index <= latest_evicted, "t/{index}");
            assert_eq!(state.message_count, 1);
            assert_eq!(state.changed_at_nanos, index as Nanos);
        }
        assert_eq!(
            latest_payload(&store, "t/0"),
            "fresh",
            "updated last, evicted last"
        );
        assert_eq!(store.stats().topics, 100);
        // A new message on an evicted topic is shown again (the budget takes another topic's).
        store.set_memory_target_bytes(None);
        store.apply(message("t/1", "again", 200));
        let state = store.topic(node(&store, "t/1")).unwrap();
        assert!(!state.latest_evicted());
        assert_eq!(
            (latest_payload(&store, "t/1").as_str(), state.message_count),
            ("again", 2)
        );
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
        // It is now the most recently updated: under pressure again, it goes last.
        store.set_memory_target_bytes(Some(1));
        assert!(store.topic(node(&store, "t/1")).unwrap().latest_evicted());
        assert_eq!(store.messages_held, 0);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn superseded_latest_queue_entries_are_compacted() {
        let mut store = Store::new(Limits::default());
        store.apply(message("small", "s", 0));
        store.apply(message("big", &"x".repeat(10_000), 0));
        store.apply(message("big", &"x".repeat(10_000), 1));
        // Just under the estimate: the first queue hands the small topic's latest to the latest
        // queue and evicts the older big message.
        store.set_memory_target_bytes(Some(store.stats().bytes_held as usize - 1));
        assert_eq!(
            (store.latest_queue.len(), store.stale_latest_entries),
            (1, 0)
        );
        assert_eq!(store.stats().history_evicted, 1);
        // Entries superseded by newer messages (as if the small topic had been updated many
        // times, each latest reaching the latest queue first).
        let small = node(&store, "small");
        for _ in 0..MIN_STALE_FOR_COMPACTION * 2 {
            let stale = QueuedMessage {
                node: small,
                sequence: u64::MAX,
            };
            store.latest_queue.push_front(stale);
            store.stale_latest_entries += 1;
        }
        store.set_memory_target_bytes(None);
        store.apply(message("other", "o", 2));
        assert!(
            store.latest_queue.len() < 4,
            "{} entries, {} stale",
            store.latest_queue.len(),
            store.stale_latest_entries
        );
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
        // The live entries survived the compaction: the budget still finds every latest message.
        store.set_memory_target_bytes(Some(1));
        assert_eq!(store.messages_held, 0);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn stale_queue_entries_are_compacted() {
        let limits = Limits {
            history_messages_per_topic: 2,
            ..Limits::default()
        };
        let mut store = Store::new(limits);
        for index in 0..(MIN_STALE_FOR_COMPACTION as i64 * 4) {
            store.apply(message("busy", "p", index));
        }
        assert!(
            store.eviction_queue.len() < MIN_STALE_FOR_COMPACTION * 3,
            "{}",
            store.eviction_queue.len()
        );
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
        // After compaction the budget still finds every message, the latest last.
        store.set_limits(Limits {
            memory_budget_bytes: 1,
            ..limits_clone(&store)
        });
        let state = store.topic(node(&store, "busy")).unwrap();
        assert_eq!(state.history.len(), 0);
        assert!(state.latest_evicted());
        assert_eq!(store.stats().latest_evicted, 1);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    fn limits_clone(store: &Store) -> Limits {
        store.limits().clone()
    }

    #[test]
    fn series_receive_values_as_messages_arrive() {
        let mut store = Store::new(Limits::default());
        store.apply(numeric("room/temp", 20.0, SEC));
        let id = store.add_series(node(&store, "room/temp"), ValueKey::Whole);
        store.apply(numeric("room/temp", 21.0, 2 * SEC));
        store.apply(numeric("room/other", 99.0, 3 * SEC));
        let series = store.series_by_id(id).unwrap();
        assert_eq!(
            series.points().collect::<Vec<_>>(),
            [(SEC, 20.0), (2 * SEC, 21.0)]
        );
        assert_eq!(series.label, "room/temp");
        assert_eq!(store.stats().series_points, 2);
        assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
    }

    #[test]
    fn add_series_backfills_from_history_and_returns_the_existing_id() {
        let mut store = Store::new(Limits::default());
        for (index, stamp) in [(0, 5), (1, 3), (2, 4)] {
            store.apply(json_pair(
                "dev",
                index as f64,
                -(index as f64),
                Some(stamp * SEC),
                index * SEC,
            ));
        }
        let dev = node(&store, "dev");
        let a = store.add_series(dev, ValueKey::JsonPath("a".into()));
        let b = store.add_series(dev, ValueKey::JsonPath("b".into()));
        assert_ne!(a, b);
        assert_eq!(store.add_series(dev, ValueKey::JsonPath("a".into())), a);
        assert_eq!(store.series().count(), 2);
        let series_a = store.series_by_id(a).unwrap();
        // Payload timestamps, out of arrival order, end up sorted.
        assert_eq!(
            series_a.points().collect::<Vec<_>>(),
            [(3 * SEC, 1.0), (4 * SEC, 2.0), (5 * SEC, 0.0)]
        );
        assert_eq!(series_a.label, "dev a");
        assert_eq!(store.stats().series_points, 6);
        store.set_series_time_source(a, TimeSource::Arrival);
        let series_a = store.series_by_id(a).unwrap();
        assert_eq!(
            series_a.points().collect::<Vec<_>>(),
            [(0, 0.0), (SEC, 1.0), (2 * SEC, 2.0)]
        );
        assert_eq!(series_a.time_source, TimeSource::Arrival);
        assert_eq!(series_a.label, "dev a");
        assert_eq!(
            store.find_series(dev, &ValueKey::JsonPath("b".into())),
            Some(b)
        );
    }

    #[test]
    fn removed_series_stop_receiving_and_release_their_points() {
        let mut store = Store::new(Limits::default());
        store.apply(numeric("t", 1.0, 1));
        let t = node(&store, "t");
        let id = store.add_series(t, ValueKey::Whole);
        store.remove_series(id);
        store.remove_series(id);
        store.apply(numeric("t", 2.0, 2));
        assert_eq!(store.series().count(), 0);
        assert_eq!(store.stats().series_points, 0);
        let again = store.add_series(t, ValueKey::Whole);
        assert_ne!(again, id, "ids are not reused");
        assert_eq!(store.series_by_id(again).unwrap().len(), 2);
    }

    #[test]
    fn a_series_can_wait_for_its_topic() {
        let mut store = Store::new(Limits::default());
        store.apply(message("a/b", "x", 1));
        let a = node(&store, "a");
        let id = store.add_series(a, ValueKey::Whole);
        assert!(store.series_by_id(id).unwrap().is_empty());
        store.apply(numeric("a", 7.0, 2));
        assert_eq!(store.series_by_id(id).unwrap().last(), Some((2, 7.0)));
    }

    #[test]
    fn series_points_are_bounded_by_the_limit() {
        let mut store = Store::new(Limits {
            series_points: 5,
            ..Limits::default()
        });
        store.apply(numeric("t", 0.0, 0));
        let id = store.add_series(node(&store, "t"), ValueKey::Whole);
        for index in 1..20 {
            store.apply(numeric("t", index as f64, index));
        }
        assert_eq!(store.series_by_id(id).unwrap().len(), 5);
        store.set_limits(Limits {
            series_points: 2,
            ..Limits::default()
        });
        assert_eq!(store.series_by_id(id).unwrap().len(), 2);
        assert_eq!(store.stats().series_points, 2);
    }

    #[test]
    fn clear_forgets_everything_but_the_limits() {
        let limits = Limits {
            history_messages_per_topic: 7,
            ..Limits::default()
        };
        let mut store = Store::new(limits.clone());
        store.apply(numeric("t", 1.0, 1));
        store.add_series(node(&store, "t"), ValueKey::Whole);
        store.clear();
        assert!(store.tree().is_empty());
        assert_eq!(store.series().count(), 0);
        assert_eq!(store.stats(), &StoreStats::default());
        assert_eq!(store.limits(), &limits);
        assert!(store.topic(NodeId(1)).is_none());
    }

    #[test]
    fn apply_never_reparses_payloads() {
        // The payload says 42 but the worker extracted nothing: the store must not find a value.
        let mut store = Store::new(Limits::default());
        store.apply(message("t", "42", 1));
        let id = store.add_series(node(&store, "t"), ValueKey::Whole);
        store.apply(message("t", "43", 2));
        assert!(store.series_by_id(id).unwrap().is_empty());
    }

    /// One step of [`the_estimate_stays_exact_whatever_happens`].
    #[derive(Debug, Clone)]
    enum Step {
        Apply {
            topic: usize,
            payload_len: usize,
            after_secs: i64,
        },
        HistoryLimit(usize),
        Target(Option<usize>),
        Busiest {
            after_secs: i64,
        },
        Clear,
    }

    /// Topics with the awkward cases: empty levels, leading and trailing `/`, a name of exactly
    /// the inline length, one a byte longer, multi-byte UTF-8 across the boundary.
    const PROPERTY_TOPICS: [&str; 8] = [
        "a",
        "a//b",
        "/lead",
        "trail/",
        "x/1234567890123456789012",
        "x/12345678901234567890123",
        "x/ääääääääääää",
        "x/123456789012345678901ä",
    ];

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (0..PROPERTY_TOPICS.len(), 0..400usize, 0..40i64).prop_map(
                |(topic, payload_len, after_secs)| Step::Apply { topic, payload_len, after_secs }
            ),
            1 => (1..6usize).prop_map(Step::HistoryLimit),
            1 => proptest::option::of(0..20_000usize).prop_map(Step::Target),
            1 => (0..200i64).prop_map(|after_secs| Step::Busiest { after_secs }),
            1 => Just(Step::Clear),
        ]
    }

    proptest::proptest! {
        #[test]
        fn the_estimate_stays_exact_whatever_happens(
            steps in proptest::collection::vec(step(), 1..60)
        ) {
            let mut store = Store::new(Limits::default());
            let mut now = 0;
            for step in steps {
                match step {
                    Step::Apply { topic, payload_len, after_secs } => {
                        now += after_secs * SEC;
                        let payload = "p".repeat(payload_len);
                        store.apply(message(PROPERTY_TOPICS[topic], &payload, now));
                    }
                    Step::HistoryLimit(messages) => store.set_limits(Limits {
                        history_messages_per_topic: messages,
                        ..Limits::default()
                    }),
                    Step::Target(target) => store.set_memory_target_bytes(target),
                    Step::Busiest { after_secs } => {
                        now += after_secs * SEC;
                        store.refresh_busiest(RateWindow::OneMinute, RankBy::Bytes, 5, now);
                    }
                    Step::Clear => store.clear(),
                }
                let tree = store.tree();
                let histories: Vec<&crate::model::store::history::History> = (1..tree.len())
                    .filter_map(|index| store.topic(NodeId(index as u32)))
                    .map(|state| &state.history)
                    .collect();
                proptest::prop_assert_eq!(
                    store.messages_held,
                    histories.iter().map(|history| history.len()).sum::<usize>()
                );
                proptest::prop_assert_eq!(
                    store.ring_slots,
                    histories.iter().map(|history| history.capacity()).sum::<usize>()
                );
                proptest::prop_assert_eq!(store.stats().bytes_held, recomputed_bytes_held(&store));
                // Over the target only once no message is left to evict.
                proptest::prop_assert!(
                    store.stats().bytes_held <= store.memory_target_bytes() as u64
                        || store.messages_held == 0
                );
                for state in (1..tree.len())
                    .filter_map(|index| store.topic(NodeId(index as u32)))
                {
                    proptest::prop_assert_eq!(state.latest_evicted(), state.history.is_empty());
                    proptest::prop_assert!(state.message_count > 0);
                }
                for path in PROPERTY_TOPICS {
                    if let Some(id) = store.tree().find(path) {
                        proptest::prop_assert_eq!(store.tree().path(id), path);
                    }
                }
            }
        }
    }
}
