//! Message and byte rates per topic and per subtree, for the "busiest topics" view.
//!
//! Each message bumps counters on its topic's node and every ancestor (O(depth)). A node's
//! counters are two fixed-length buckets per window (the current one and the one before), and a
//! window's rate is the sliding-window estimate rate limiters use: `current + previous × (part of
//! the previous bucket still inside the window)`, divided by the window length. That costs two
//! buckets per window instead of one per second, so a node costs a few dozen bytes however long
//! the window. Each node seen has an 8-byte slot (a vector indexed by node id): empty, or its
//! only recent message packed into the slot (time and size; most topics of a big broker publish
//! once or rarely), or an index into a slab of counters for nodes with more. Silent nodes are
//! emptied as time passes and their counters reused, and once everything is silent the memory
//! is given back.
//!
//! The ranking (top N topics and subtrees) is recomputed at most once per second, and only when
//! asked for, so the view costs nothing per frame beyond the rows it shows. It and the pruning
//! walk the slots: O(nodes seen), a millisecond or two for a million topics.

use std::mem::size_of;

use crate::model::time::Nanos;
use crate::model::topic::tree::{NodeId, TopicTree};

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// The ranking is not recomputed more often than this.
pub const RANKING_REFRESH_NANOS: Nanos = NANOS_PER_SEC;
/// Pruning runs at most this often when the ranking is never asked for.
const PRUNE_EVERY_NANOS: Nanos = 30 * NANOS_PER_SEC;

/// The time window a rate is averaged over.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum RateWindow {
    /// The last 10 seconds.
    #[default]
    TenSeconds,
    /// The last minute.
    OneMinute,
}

impl RateWindow {
    /// Both windows, shortest first.
    pub const ALL: [RateWindow; 2] = [RateWindow::TenSeconds, RateWindow::OneMinute];

    /// Length of the window (and of its buckets) in nanoseconds.
    pub fn nanos(self) -> Nanos {
        match self {
            RateWindow::TenSeconds => 10 * NANOS_PER_SEC,
            RateWindow::OneMinute => 60 * NANOS_PER_SEC,
        }
    }

    /// A short label ("10 s", "1 min").
    pub fn label(self) -> &'static str {
        match self {
            RateWindow::TenSeconds => "10 s",
            RateWindow::OneMinute => "1 min",
        }
    }
}

/// What the ranking orders by.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum RankBy {
    /// Messages per second.
    #[default]
    Messages,
    /// Payload bytes per second.
    Bytes,
}

/// A byte counter: u32 for the 10 s buckets (saturating at 4 GiB per bucket, over 400 MB/s), u64
/// for the minute buckets. Keeps a node's counters at 48 bytes.
trait ByteCount: Copy + Default {
    fn plus(self, bytes: u64) -> Self;
    fn to_f64(self) -> f64;
}

impl ByteCount for u32 {
    fn plus(self, bytes: u64) -> Self {
        self.saturating_add(u32::try_from(bytes).unwrap_or(u32::MAX))
    }

    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl ByteCount for u64 {
    fn plus(self, bytes: u64) -> Self {
        self.saturating_add(bytes)
    }

    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// Two consecutive fixed buckets of one window: index 0 is the current one, 1 the one before.
#[derive(Debug, Clone, Copy, Default)]
struct Buckets<B> {
    messages: [u32; 2],
    bytes: [B; 2],
}

impl<B: ByteCount> Buckets<B> {
    /// Counts a message in bucket `bucket`, rolling `current_bucket` forward first (a message
    /// older than the current bucket is counted in it).
    fn add(&mut self, current_bucket: &mut u32, bucket: u32, bytes: u64) {
        if bucket > *current_bucket {
            if bucket == *current_bucket + 1 {
                self.messages[1] = self.messages[0];
                self.bytes[1] = self.bytes[0];
            } else {
                self.messages[1] = 0;
                self.bytes[1] = B::default();
            }
            self.messages[0] = 0;
            self.bytes[0] = B::default();
            *current_bucket = bucket;
        }
        self.messages[0] = self.messages[0].saturating_add(1);
        self.bytes[0] = self.bytes[0].plus(bytes);
    }

    /// (messages/s, bytes/s) over the window of length `window_nanos` ending at `now_nanos`: the
    /// current bucket plus the part of the previous one still inside the window.
    fn rates(&self, current_bucket: u32, now_nanos: Nanos, window_nanos: Nanos) -> (f64, f64) {
        let now_bucket = bucket_index(now_nanos, window_nanos);
        let (current, previous) = match now_bucket.checked_sub(current_bucket) {
            Some(0) => (0, 1),
            Some(1) => (2, 0),
            _ => return (0.0, 0.0),
        };
        // Index 2 stands for an empty bucket.
        let messages = |index: usize| self.messages.get(index).map_or(0.0, |&m| f64::from(m));
        let bytes = |index: usize| self.bytes.get(index).map_or(0.0, |b| b.to_f64());
        let into_bucket = now_nanos.rem_euclid(window_nanos) as f64 / window_nanos as f64;
        let previous_weight = 1.0 - into_bucket;
        let window_secs = window_nanos as f64 / NANOS_PER_SEC as f64;
        (
            (messages(current) + messages(previous) * previous_weight) / window_secs,
            (bytes(current) + bytes(previous) * previous_weight) / window_secs,
        )
    }
}

/// Index of the fixed bucket of length `window_nanos` holding `at_nanos` (times before 1970
/// count as 1970; u32 lasts beyond the year 3000 for 10 s buckets).
fn bucket_index(at_nanos: Nanos, window_nanos: Nanos) -> u32 {
    u32::try_from(at_nanos.max(0) / window_nanos).unwrap_or(u32::MAX)
}

/// Counters of one node for both windows (48 bytes).
#[derive(Debug, Clone, Copy, Default)]
struct NodeCounters {
    ten_seconds_bucket: u32,
    one_minute_bucket: u32,
    ten_seconds: Buckets<u32>,
    one_minute: Buckets<u64>,
}

impl NodeCounters {
    fn add(&mut self, at_nanos: Nanos, bytes: u64) {
        let ten = bucket_index(at_nanos, RateWindow::TenSeconds.nanos());
        let minute = bucket_index(at_nanos, RateWindow::OneMinute.nanos());
        self.ten_seconds
            .add(&mut self.ten_seconds_bucket, ten, bytes);
        self.one_minute
            .add(&mut self.one_minute_bucket, minute, bytes);
    }

    fn rates(&self, window: RateWindow, now_nanos: Nanos) -> (f64, f64) {
        match window {
            RateWindow::TenSeconds => {
                self.ten_seconds
                    .rates(self.ten_seconds_bucket, now_nanos, window.nanos())
            }
            RateWindow::OneMinute => {
                self.one_minute
                    .rates(self.one_minute_bucket, now_nanos, window.nanos())
            }
        }
    }

    /// Both windows read zero from now on: the last message is over a full minute bucket ago.
    fn silent(&self, now_nanos: Nanos) -> bool {
        let now = bucket_index(now_nanos, RateWindow::OneMinute.nanos());
        now.saturating_sub(self.one_minute_bucket) >= 2
    }
}

/// What a node holds: nothing, a node's only recent message packed into the slot itself, or
/// full counters in the slab. Most topics of a large broker publish once (a retained message)
/// or rarely, so the first message costs no counters: 8 bytes per node instead of 48 plus a
/// hash-table slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Slot(u64);

/// Tag of a [`Slot`] (top two bits; 0 is empty, the default).
const SLOT_TAG_SHIFT: u32 = 62;
const SLOT_SINGLE: u64 = 1;
const SLOT_COUNTERS: u64 = 2;
/// A single message's payload size is kept in 30 bits (MQTT payloads stay below 256 MiB).
const SINGLE_BYTES_BITS: u32 = 30;
const SINGLE_BYTES_MAX: u64 = (1 << SINGLE_BYTES_BITS) - 1;

/// What a slot holds, unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Empty,
    /// One message: the whole second it arrived in (exact for bucket arithmetic, since buckets
    /// are whole multiples of 10 s) and its payload bytes.
    Single {
        at_secs: u32,
        bytes: u32,
    },
    /// Index into the counters slab.
    Counters(u32),
}

impl Slot {
    fn state(self) -> SlotState {
        let payload = self.0 & ((1 << SLOT_TAG_SHIFT) - 1);
        match self.0 >> SLOT_TAG_SHIFT {
            SLOT_SINGLE => SlotState::Single {
                at_secs: (payload >> SINGLE_BYTES_BITS) as u32,
                bytes: (payload & SINGLE_BYTES_MAX) as u32,
            },
            SLOT_COUNTERS => SlotState::Counters(payload as u32),
            _ => SlotState::Empty,
        }
    }

    fn single(at_nanos: Nanos, bytes: u64) -> Slot {
        let at_secs = u64::try_from(at_nanos.max(0) / NANOS_PER_SEC)
            .unwrap_or(0)
            .min(u64::from(u32::MAX));
        Slot(
            (SLOT_SINGLE << SLOT_TAG_SHIFT)
                | (at_secs << SINGLE_BYTES_BITS)
                | bytes.min(SINGLE_BYTES_MAX),
        )
    }

    fn counters(index: u32) -> Slot {
        Slot((SLOT_COUNTERS << SLOT_TAG_SHIFT) | u64::from(index))
    }
}

/// Counters holding just the one message of a single slot (for reading its rates).
fn single_counters(at_secs: u32, bytes: u32) -> NodeCounters {
    let mut counters = NodeCounters::default();
    counters.add(Nanos::from(at_secs) * NANOS_PER_SEC, u64::from(bytes));
    counters
}

/// One row of the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedNode {
    /// The node.
    pub node: NodeId,
    /// Its full path (computed once per ranking, not per frame).
    pub path: String,
    /// Messages per second over the ranking's window.
    pub messages_per_sec: f64,
    /// Payload bytes per second over the ranking's window.
    pub bytes_per_sec: f64,
}

/// The busiest topics and subtrees at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranking {
    /// When it was computed (`None`: never).
    pub computed_at_nanos: Option<Nanos>,
    /// The window it averages over.
    pub window: RateWindow,
    /// What it is ordered by.
    pub by: RankBy,
    /// The busiest topics (nodes that received messages), busiest first.
    pub topics: Vec<RankedNode>,
    /// The busiest subtrees (nodes with children, their own topic included), busiest first.
    pub subtrees: Vec<RankedNode>,
    /// Nodes with any traffic in the window.
    pub active_nodes: usize,
    /// The most rows each list may hold.
    pub limit: usize,
}

/// Rates of every recently active node, plus the first and last message times.
#[derive(Debug, Default)]
pub struct Rates {
    /// One slot per node id (grown as nodes are seen): empty, one message, or a counters index.
    slots: Vec<Slot>,
    /// Counters of nodes with more than one recent message; freed entries are reused.
    counters: Vec<NodeCounters>,
    /// Indexes of `counters` free for reuse.
    free_counters: Vec<u32>,
    /// Slots that are not empty.
    tracked: usize,
    first_message_at_nanos: Option<Nanos>,
    last_message_at_nanos: Option<Nanos>,
    pruned_at_nanos: Nanos,
    ranking: Ranking,
}

impl Rates {
    /// No counters yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one message of `bytes` payload bytes on `node` and on each of its ancestors (the
    /// invisible root excepted).
    pub fn record(&mut self, tree: &TopicTree, node: NodeId, bytes: usize, at_nanos: Nanos) {
        let mut current = Some(node);
        while let Some(id) = current {
            self.record_level(id, bytes, at_nanos);
            current = tree.parent_of(id);
        }
        self.record_done(at_nanos);
    }

    /// Counts one message of `bytes` payload bytes on one level of its topic (the store calls
    /// it from the tree's own walk up the ancestors, so a message walks its ancestors once).
    /// The root is not counted. Call [`Rates::record_done`] once the levels are counted.
    pub fn record_level(&mut self, id: NodeId, bytes: usize, at_nanos: Nanos) {
        if id != NodeId::ROOT {
            self.record_one(id, bytes as u64, at_nanos);
        }
    }

    /// Finishes counting one message: first and last times, and pruning when due.
    pub fn record_done(&mut self, at_nanos: Nanos) {
        self.first_message_at_nanos = Some(
            self.first_message_at_nanos
                .map_or(at_nanos, |first| first.min(at_nanos)),
        );
        self.last_message_at_nanos = Some(
            self.last_message_at_nanos
                .map_or(at_nanos, |last| last.max(at_nanos)),
        );
        if at_nanos - self.pruned_at_nanos >= PRUNE_EVERY_NANOS {
            self.prune(at_nanos);
        }
    }

    /// Counts one message on one node: packed into its slot if it is the node's only one.
    fn record_one(&mut self, id: NodeId, bytes: u64, at_nanos: Nanos) {
        let index = id.0 as usize;
        if index >= self.slots.len() {
            self.slots.resize(index + 1, Slot::default());
        }
        match self.slots[index].state() {
            SlotState::Empty => {
                self.slots[index] = Slot::single(at_nanos, bytes);
                self.tracked += 1;
            }
            SlotState::Single {
                at_secs,
                bytes: first_bytes,
            } => {
                let mut counters = single_counters(at_secs, first_bytes);
                counters.add(at_nanos, bytes);
                let counters_index = self.allocate_counters(counters);
                self.slots[index] = Slot::counters(counters_index);
            }
            SlotState::Counters(counters_index) => {
                if let Some(counters) = self.counters.get_mut(counters_index as usize) {
                    counters.add(at_nanos, bytes);
                }
            }
        }
    }

    fn allocate_counters(&mut self, counters: NodeCounters) -> u32 {
        if let Some(free) = self.free_counters.pop() {
            self.counters[free as usize] = counters;
            return free;
        }
        self.counters.push(counters);
        // Fewer than 2^32 nodes exist (node ids are u32), so the slab index fits.
        (self.counters.len() - 1) as u32
    }

    /// The counters of a node, if it has any recent message.
    fn counters_of(&self, node: NodeId) -> Option<NodeCounters> {
        match self.slots.get(node.0 as usize)?.state() {
            SlotState::Empty => None,
            SlotState::Single { at_secs, bytes } => Some(single_counters(at_secs, bytes)),
            SlotState::Counters(index) => self.counters.get(index as usize).copied(),
        }
    }

    /// Receive time of the earliest message counted.
    pub fn first_message_at_nanos(&self) -> Option<Nanos> {
        self.first_message_at_nanos
    }

    /// Receive time of the latest message counted.
    pub fn last_message_at_nanos(&self) -> Option<Nanos> {
        self.last_message_at_nanos
    }

    /// (messages/s, bytes/s) of `node` over `window` as of `now_nanos`.
    pub fn rates_of(&self, node: NodeId, window: RateWindow, now_nanos: Nanos) -> (f64, f64) {
        self.counters_of(node)
            .map_or((0.0, 0.0), |counters| counters.rates(window, now_nanos))
    }

    /// Nodes holding counters (or a single recent message) right now.
    pub fn tracked_nodes(&self) -> usize {
        self.tracked
    }

    /// Estimated memory of the slots and the counters slab.
    pub fn estimated_bytes(&self) -> usize {
        crate::model::heap::heap_bytes(self.slots.capacity() * size_of::<Slot>())
            + crate::model::heap::heap_bytes(self.counters.capacity() * size_of::<NodeCounters>())
            + crate::model::heap::heap_bytes(self.free_counters.capacity() * size_of::<u32>())
    }

    /// The last computed ranking.
    pub fn ranking(&self) -> &Ranking {
        &self.ranking
    }

    /// Recomputes the top `limit` topics and subtrees if the last ranking is older than
    /// [`RANKING_REFRESH_NANOS`] or was made for another window, order or limit. Costs O(nodes
    /// seen), at most once per second.
    pub fn refresh_ranking(
        &mut self,
        tree: &TopicTree,
        window: RateWindow,
        by: RankBy,
        limit: usize,
        now_nanos: Nanos,
    ) -> &Ranking {
        let fresh = self.ranking.computed_at_nanos.is_some_and(|at| {
            (0..RANKING_REFRESH_NANOS).contains(&(now_nanos - at))
                && self.ranking.window == window
                && self.ranking.by == by
                && self.ranking.limit == limit
        });
        if fresh {
            return &self.ranking;
        }
        self.prune(now_nanos);
        let mut topics = Vec::new();
        let mut subtrees = Vec::new();
        let mut active_nodes = 0;
        for (index, slot) in self.slots.iter().enumerate() {
            let counters = match slot.state() {
                SlotState::Empty => continue,
                SlotState::Single { at_secs, bytes } => single_counters(at_secs, bytes),
                SlotState::Counters(counters_index) => {
                    match self.counters.get(counters_index as usize) {
                        Some(counters) => *counters,
                        None => continue,
                    }
                }
            };
            let (messages_per_sec, bytes_per_sec) = counters.rates(window, now_nanos);
            if messages_per_sec <= 0.0 {
                continue;
            }
            active_nodes += 1;
            let node = NodeId(index as u32);
            let Some(tree_node) = tree.get(node) else {
                continue;
            };
            let entry = (node, messages_per_sec, bytes_per_sec);
            if tree_node.is_topic() {
                topics.push(entry);
            }
            if tree_node.has_children() {
                subtrees.push(entry);
            }
        }
        self.ranking = Ranking {
            computed_at_nanos: Some(now_nanos),
            window,
            by,
            topics: top(topics, by, limit, tree),
            subtrees: top(subtrees, by, limit, tree),
            active_nodes,
            limit,
        };
        &self.ranking
    }

    /// Forgets nodes whose windows both read zero (silent for a minute or two). O(nodes seen),
    /// at most every [`PRUNE_EVERY_NANOS`] or once per ranking.
    fn prune(&mut self, now_nanos: Nanos) {
        self.pruned_at_nanos = now_nanos;
        for slot in &mut self.slots {
            let silent = match slot.state() {
                SlotState::Empty => continue,
                SlotState::Single { at_secs, bytes } => {
                    single_counters(at_secs, bytes).silent(now_nanos)
                }
                SlotState::Counters(index) => {
                    let silent = self
                        .counters
                        .get(index as usize)
                        .is_none_or(|counters| counters.silent(now_nanos));
                    if silent {
                        self.free_counters.push(index);
                    }
                    silent
                }
            };
            if silent {
                *slot = Slot::default();
                self.tracked -= 1;
            }
        }
        if self.tracked == 0 {
            // Everything went quiet: give the memory back.
            self.slots = Vec::new();
            self.counters = Vec::new();
            self.free_counters = Vec::new();
        }
    }
}

/// The `limit` busiest of `entries` by `by`, busiest first (ties by path for a stable order).
fn top(
    mut entries: Vec<(NodeId, f64, f64)>,
    by: RankBy,
    limit: usize,
    tree: &TopicTree,
) -> Vec<RankedNode> {
    let key = |entry: &(NodeId, f64, f64)| match by {
        RankBy::Messages => entry.1,
        RankBy::Bytes => entry.2,
    };
    let busier_first = |a: &(NodeId, f64, f64), b: &(NodeId, f64, f64)| {
        key(b).total_cmp(&key(a)).then(a.0.cmp(&b.0))
    };
    if entries.len() > limit && limit > 0 {
        entries.select_nth_unstable_by(limit - 1, busier_first);
    }
    entries.truncate(limit);
    entries.sort_by(busier_first);
    entries
        .into_iter()
        .map(|(node, messages_per_sec, bytes_per_sec)| RankedNode {
            node,
            path: tree.path(node),
            messages_per_sec,
            bytes_per_sec,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Nanos = NANOS_PER_SEC;
    /// A start time well inside a 10 s and a 60 s bucket, so estimates are easy to reason about.
    const T0: Nanos = 1_700_000_040 * SEC;

    fn tree_with(paths: &[&str]) -> (TopicTree, Vec<NodeId>) {
        let mut tree = TopicTree::new();
        let ids = paths
            .iter()
            .map(|path| tree.insert(path).expect("insert"))
            .collect();
        (tree, ids)
    }

    fn mark_topics(tree: &mut TopicTree, ids: &[NodeId]) {
        for &id in ids {
            tree.mark_topic(id);
        }
    }

    #[test]
    fn a_steady_flow_reads_as_its_rate_in_both_windows() {
        let (tree, ids) = tree_with(&["a/b"]);
        let mut rates = Rates::new();
        // 5 messages/s of 100 bytes for two minutes.
        for tick in 0..600 {
            rates.record(&tree, ids[0], 100, T0 + tick * SEC / 5);
        }
        let now = T0 + 120 * SEC;
        for window in RateWindow::ALL {
            let (messages, bytes) = rates.rates_of(ids[0], window, now);
            assert!((messages - 5.0).abs() < 0.6, "{window:?}: {messages}");
            assert!((bytes - 500.0).abs() < 60.0, "{window:?}: {bytes}");
        }
    }

    #[test]
    fn ancestors_sum_their_children_and_the_root_is_not_counted() {
        let (tree, ids) = tree_with(&["a/b", "a/c"]);
        let mut rates = Rates::new();
        for tick in 0..10 {
            rates.record(&tree, ids[0], 10, T0 + tick * SEC);
            rates.record(&tree, ids[1], 30, T0 + tick * SEC);
        }
        let parent = tree.find("a").expect("a");
        let now = T0 + 10 * SEC;
        let (messages, bytes) = rates.rates_of(parent, RateWindow::TenSeconds, now);
        let (b_messages, _) = rates.rates_of(ids[0], RateWindow::TenSeconds, now);
        assert!((messages - 2.0 * b_messages).abs() < 1e-9);
        assert!(bytes > 0.0);
        assert_eq!(rates.tracked_nodes(), 3, "a, a/b, a/c; not the root");
    }

    #[test]
    fn rates_fall_to_zero_after_the_window_and_counters_are_pruned() {
        let (tree, ids) = tree_with(&["x"]);
        let mut rates = Rates::new();
        rates.record(&tree, ids[0], 1, T0);
        assert!(rates.rates_of(ids[0], RateWindow::TenSeconds, T0).0 > 0.0);
        assert_eq!(
            rates.rates_of(ids[0], RateWindow::TenSeconds, T0 + 25 * SEC),
            (0.0, 0.0)
        );
        assert!(
            rates
                .rates_of(ids[0], RateWindow::OneMinute, T0 + 25 * SEC)
                .0
                > 0.0
        );
        rates.refresh_ranking(
            &tree,
            RateWindow::OneMinute,
            RankBy::Messages,
            5,
            T0 + 3 * 60 * SEC,
        );
        assert_eq!(rates.tracked_nodes(), 0);
    }

    #[test]
    fn ranking_puts_the_flooding_topic_first_and_respects_the_limit() {
        let paths = ["b/quiet", "b/flood", "c/medium", "c/other"];
        let (mut tree, ids) = tree_with(&paths);
        mark_topics(&mut tree, &ids);
        let mut rates = Rates::new();
        for tick in 0..100 {
            let at = T0 + tick * SEC / 20;
            rates.record(&tree, ids[1], 10, at);
            if tick % 4 == 0 {
                rates.record(&tree, ids[2], 1000, at);
            }
            if tick % 50 == 0 {
                rates.record(&tree, ids[0], 10, at);
                rates.record(&tree, ids[3], 10, at);
            }
        }
        let now = T0 + 5 * SEC;
        let ranking = rates
            .refresh_ranking(&tree, RateWindow::TenSeconds, RankBy::Messages, 2, now)
            .clone();
        let topics: Vec<&str> = ranking.topics.iter().map(|row| row.path.as_str()).collect();
        assert_eq!(topics, ["b/flood", "c/medium"]);
        let subtrees: Vec<&str> = ranking.subtrees.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(subtrees, ["b", "c"]);
        let by_bytes = rates
            .refresh_ranking(&tree, RateWindow::TenSeconds, RankBy::Bytes, 2, now)
            .clone();
        assert_eq!(by_bytes.topics[0].path, "c/medium");
        assert_eq!(by_bytes.subtrees[0].path, "c");
    }

    #[test]
    fn ranking_is_recomputed_at_most_once_per_second() {
        let (mut tree, ids) = tree_with(&["a", "b"]);
        mark_topics(&mut tree, &ids);
        let mut rates = Rates::new();
        rates.record(&tree, ids[0], 1, T0);
        let first = rates
            .refresh_ranking(&tree, RateWindow::TenSeconds, RankBy::Messages, 10, T0)
            .clone();
        for _ in 0..5 {
            rates.record(&tree, ids[1], 1, T0 + SEC / 2);
        }
        let cached = rates
            .refresh_ranking(
                &tree,
                RateWindow::TenSeconds,
                RankBy::Messages,
                10,
                T0 + SEC / 2,
            )
            .clone();
        assert_eq!(cached, first, "within a second the old ranking is kept");
        let later = rates
            .refresh_ranking(
                &tree,
                RateWindow::TenSeconds,
                RankBy::Messages,
                10,
                T0 + SEC,
            )
            .clone();
        assert_eq!(later.topics[0].path, "b");
    }

    #[test]
    fn a_node_costs_48_bytes_of_counters() {
        assert_eq!(size_of::<NodeCounters>(), 48);
        assert_eq!(size_of::<Slot>(), 8);
    }

    #[test]
    fn a_topic_with_one_message_holds_no_counters_until_its_second() {
        let paths: Vec<String> = (0..100).map(|index| format!("a/t{index}")).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let (tree, ids) = tree_with(&paths);
        let mut rates = Rates::new();
        for &id in &ids {
            rates.record(&tree, id, 40, T0);
        }
        assert_eq!(rates.counters.len(), 1, "only the parent `a` has counters");
        assert_eq!(rates.tracked_nodes(), 101);
        let single = rates.rates_of(ids[7], RateWindow::TenSeconds, T0 + SEC);
        assert!((single.0 - 0.1).abs() < 1e-9 && (single.1 - 4.0).abs() < 1e-9);
        rates.record(&tree, ids[7], 60, T0 + SEC);
        assert_eq!(rates.counters.len(), 2);
        let (messages, bytes) = rates.rates_of(ids[7], RateWindow::TenSeconds, T0 + SEC);
        assert!((messages - 0.2).abs() < 1e-9 && (bytes - 10.0).abs() < 1e-9);
    }

    #[test]
    fn single_messages_rank_and_pruned_counters_are_reused() {
        let (mut tree, ids) = tree_with(&["busy", "quiet", "once"]);
        mark_topics(&mut tree, &ids);
        let mut rates = Rates::new();
        for &id in &ids[..2] {
            rates.record(&tree, id, 1, T0);
            rates.record(&tree, id, 1, T0);
        }
        rates.record(&tree, ids[2], 1, T0);
        let ranking = rates
            .refresh_ranking(&tree, RateWindow::TenSeconds, RankBy::Messages, 10, T0)
            .clone();
        let topics: Vec<&str> = ranking.topics.iter().map(|row| row.path.as_str()).collect();
        assert_eq!(topics, ["busy", "quiet", "once"]);
        let later = T0 + 3 * 60 * SEC;
        rates.record(&tree, ids[0], 1, later);
        rates.refresh_ranking(&tree, RateWindow::TenSeconds, RankBy::Messages, 10, later);
        assert_eq!(rates.tracked_nodes(), 1, "only `busy` spoke lately");
        rates.record(&tree, ids[2], 1, later);
        rates.record(&tree, ids[2], 1, later);
        assert_eq!(rates.counters.len(), 2, "`quiet`'s counters were reused");
        let (messages, _) = rates.rates_of(ids[2], RateWindow::TenSeconds, later);
        assert!((messages - 0.2).abs() < 1e-9, "{messages}");
    }

    #[test]
    fn ten_second_bytes_saturate_instead_of_wrapping() {
        let (tree, ids) = tree_with(&["big"]);
        let mut rates = Rates::new();
        for _ in 0..3 {
            rates.record(&tree, ids[0], 2_000_000_000, T0);
        }
        let (_, ten) = rates.rates_of(ids[0], RateWindow::TenSeconds, T0);
        let (_, minute) = rates.rates_of(ids[0], RateWindow::OneMinute, T0);
        assert!(ten > 0.0 && ten <= f64::from(u32::MAX) / 10.0 + 1.0);
        assert!((minute * 60.0 - 6e9).abs() < 6e9 * 0.34, "{minute}");
    }

    #[test]
    fn first_and_last_message_times_span_everything_recorded() {
        let (tree, ids) = tree_with(&["a"]);
        let mut rates = Rates::new();
        assert_eq!(rates.first_message_at_nanos(), None);
        for at in [T0 + 5, T0 + 1, T0 + 9] {
            rates.record(&tree, ids[0], 0, at);
        }
        assert_eq!(rates.first_message_at_nanos(), Some(T0 + 1));
        assert_eq!(rates.last_message_at_nanos(), Some(T0 + 9));
    }

    proptest::proptest! {
        #[test]
        fn packed_slots_read_like_plain_counters_per_node(
            // (topic, payload bytes up to MQTT's 256 MiB, time step in ms: forward, as pruning
            // assumes, sometimes minutes ahead so nodes go quiet, are pruned and come back)
            steps in proptest::collection::vec(
                (0..4usize, 0..268_435_456u64, 0..200_000i64), 1..80
            ),
        ) {
            let (mut tree, ids) = tree_with(&["a/x", "a/y", "b", "a/x/deep"]);
            mark_topics(&mut tree, &ids);
            let mut rates = Rates::new();
            let mut reference: std::collections::HashMap<NodeId, NodeCounters> =
                std::collections::HashMap::new();
            let mut now = T0;
            for (topic, bytes, step_ms) in steps {
                now += step_ms * 1_000_000;
                rates.record(&tree, ids[topic], bytes as usize, now);
                let mut current = Some(ids[topic]);
                while let Some(id) = current.filter(|&id| id != NodeId::ROOT) {
                    reference.entry(id).or_default().add(now, bytes);
                    current = tree.parent_of(id);
                }
                rates.refresh_ranking(&tree, RateWindow::TenSeconds, RankBy::Messages, 10, now);
                for index in 1..tree.len() {
                    let id = NodeId(index as u32);
                    for window in RateWindow::ALL {
                        for later in [now, now + 7 * SEC, now + 70 * SEC] {
                            let expected = reference
                                .get(&id)
                                .map_or((0.0, 0.0), |counters| counters.rates(window, later));
                            proptest::prop_assert_eq!(rates.rates_of(id, window, later), expected);
                        }
                    }
                }
            }
        }
    }
}
