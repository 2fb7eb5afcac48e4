//! Message and byte rates per topic and per subtree, for the "busiest topics" view.
//!
//! Each message bumps counters on its topic's node and every ancestor (O(depth)). A node's
//! counters are two fixed-length buckets per window (the current one and the one before), and a
//! window's rate is the sliding-window estimate rate limiters use: `current + previous × (part of
//! the previous bucket still inside the window)`, divided by the window length. That costs two
//! buckets per window instead of one per second, so a node costs a few dozen bytes however long
//! the window. Only nodes with a message in the last two minutes hold counters (a sparse table,
//! pruned as time passes), so an idle tree of a million topics costs nothing here.
//!
//! The ranking (top N topics and subtrees) is recomputed at most once per second, and only when
//! asked for, so the view costs nothing per frame beyond the rows it shows.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::size_of;

use super::message::Nanos;
use super::tree::{NodeId, TopicTree};

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// The ranking is not recomputed more often than this.
pub const RANKING_REFRESH_NANOS: Nanos = NANOS_PER_SEC;
/// Counters silent for this long are dropped (both windows read zero by then).
const PRUNE_AFTER_NANOS: Nanos = 2 * 60 * NANOS_PER_SEC;
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

/// A sliding-window estimate from two consecutive fixed buckets.
#[derive(Debug, Clone, Copy, Default)]
struct WindowCounter {
    /// Index of the current bucket (time / bucket length).
    bucket: i64,
    current_messages: u32,
    previous_messages: u32,
    current_bytes: u64,
    previous_bytes: u64,
}

impl WindowCounter {
    fn add(&mut self, bucket: i64, bytes: u64) {
        self.roll_to(bucket);
        self.current_messages = self.current_messages.saturating_add(1);
        self.current_bytes = self.current_bytes.saturating_add(bytes);
    }

    /// Moves to `bucket` (a message older than the current bucket is counted in it).
    fn roll_to(&mut self, bucket: i64) {
        if bucket <= self.bucket {
            return;
        }
        if bucket == self.bucket + 1 {
            self.previous_messages = self.current_messages;
            self.previous_bytes = self.current_bytes;
        } else {
            self.previous_messages = 0;
            self.previous_bytes = 0;
        }
        self.current_messages = 0;
        self.current_bytes = 0;
        self.bucket = bucket;
    }

    /// (messages/s, bytes/s) over the window of length `window_nanos` ending at `now_nanos`.
    fn rates(&self, now_nanos: Nanos, window_nanos: Nanos) -> (f64, f64) {
        let bucket = now_nanos.div_euclid(window_nanos);
        let (current_messages, current_bytes, previous_messages, previous_bytes) =
            match bucket - self.bucket {
                0 => (
                    self.current_messages,
                    self.current_bytes,
                    self.previous_messages,
                    self.previous_bytes,
                ),
                1 => (0, 0, self.current_messages, self.current_bytes),
                _ => return (0.0, 0.0),
            };
        // Part of the previous bucket that still lies inside the window.
        let into_bucket = now_nanos.rem_euclid(window_nanos) as f64 / window_nanos as f64;
        let previous_weight = 1.0 - into_bucket;
        let window_secs = window_nanos as f64 / NANOS_PER_SEC as f64;
        let messages = f64::from(current_messages) + f64::from(previous_messages) * previous_weight;
        let bytes = current_bytes as f64 + previous_bytes as f64 * previous_weight;
        (messages / window_secs, bytes / window_secs)
    }
}

/// Counters of one node for both windows.
#[derive(Debug, Clone, Copy, Default)]
struct NodeCounters {
    ten_seconds: WindowCounter,
    one_minute: WindowCounter,
    last_message_at_nanos: Nanos,
}

impl NodeCounters {
    fn window(&self, window: RateWindow) -> &WindowCounter {
        match window {
            RateWindow::TenSeconds => &self.ten_seconds,
            RateWindow::OneMinute => &self.one_minute,
        }
    }
}

/// Hashes `NodeId`s (dense small integers) with one multiply instead of SipHash.
#[derive(Debug, Default)]
struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        let product = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        product ^ (product >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value);
    }
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
    counters: HashMap<NodeId, NodeCounters, BuildHasherDefault<NodeIdHasher>>,
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
        let bytes = bytes as u64;
        let ten_bucket = at_nanos.div_euclid(RateWindow::TenSeconds.nanos());
        let minute_bucket = at_nanos.div_euclid(RateWindow::OneMinute.nanos());
        let mut current = Some(node);
        while let Some(id) = current.filter(|&id| id != NodeId::ROOT) {
            let counters = self.counters.entry(id).or_default();
            counters.ten_seconds.add(ten_bucket, bytes);
            counters.one_minute.add(minute_bucket, bytes);
            counters.last_message_at_nanos = counters.last_message_at_nanos.max(at_nanos);
            current = tree.parent_of(id);
        }
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
        self.counters.get(&node).map_or((0.0, 0.0), |counters| {
            counters.window(window).rates(now_nanos, window.nanos())
        })
    }

    /// Nodes holding counters right now.
    pub fn tracked_nodes(&self) -> usize {
        self.counters.len()
    }

    /// Estimated memory of the counters table.
    pub fn estimated_bytes(&self) -> usize {
        // hashbrown: one control byte per slot, at most 7/8 full.
        self.counters.capacity() * (size_of::<(NodeId, NodeCounters)>() + 1) * 8 / 7
    }

    /// The last computed ranking.
    pub fn ranking(&self) -> &Ranking {
        &self.ranking
    }

    /// Recomputes the top `limit` topics and subtrees if the last ranking is older than
    /// [`RANKING_REFRESH_NANOS`] or was made for another window, order or limit. Costs O(nodes
    /// active in the last two minutes), at most once per second.
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
        for (&node, counters) in &self.counters {
            let (messages_per_sec, bytes_per_sec) =
                counters.window(window).rates(now_nanos, window.nanos());
            if messages_per_sec <= 0.0 {
                continue;
            }
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
        let active_nodes = self
            .counters
            .values()
            .filter(|counters| counters.window(window).rates(now_nanos, window.nanos()).0 > 0.0)
            .count();
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

    /// Forgets counters silent for [`PRUNE_AFTER_NANOS`].
    fn prune(&mut self, now_nanos: Nanos) {
        self.pruned_at_nanos = now_nanos;
        self.counters
            .retain(|_, counters| now_nanos - counters.last_message_at_nanos < PRUNE_AFTER_NANOS);
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
            tree.attach_topic(id, Box::default());
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
}
