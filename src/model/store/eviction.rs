//! Eviction under the memory budget: two queues in arrival order. The first holds every stored
//! message `(node, sequence)`; over the target the oldest history entry across all topics goes
//! first. An entry that turns out to be its topic's latest moves to the second queue, which is
//! evicted from only when no history entry is left (least recently updated topic first).
//! Entries made obsolete by the per-topic limits or by newer messages stay as stale entries and
//! are compacted away in bulk.

use std::collections::VecDeque;

use crate::model::store::history::EvictOldest;
use crate::model::store::{LATEST_BOX_SPARE_BYTES, MIN_STALE_FOR_COMPACTION, Store};
use crate::model::topic::tree::NodeId;

/// An entry of the global eviction queue: the message `sequence` of the topic at `node`.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueuedMessage {
    pub(super) node: NodeId,
    pub(super) sequence: u64,
}

impl Store {
    /// Drops the oldest history entries across all topics while over the memory budget, then (as
    /// a last resort) the latest messages of the least recently updated topics.
    pub(super) fn enforce_memory_budget(&mut self) {
        let target_bytes = self.memory_target_bytes() as u64;
        while self.stats.bytes_held > target_bytes {
            let Some(queued) = self.eviction_queue.pop_front() else {
                if !self.evict_one_latest() {
                    break;
                }
                continue;
            };
            let Some(state) = self.topics.get_mut(queued.node).map(Box::as_mut) else {
                continue;
            };
            match state.history.evict_oldest(queued.sequence) {
                EvictOldest::Evicted { held_bytes } => {
                    self.stats.history_evicted += 1;
                    self.message_bytes -= held_bytes;
                    self.messages_held -= 1;
                    // Give the ring's spare slots back once it is mostly empty.
                    let slots_before = state.history.capacity();
                    state.history.shrink_if_sparse();
                    self.ring_slots = self.ring_slots - slots_before + state.history.capacity();
                    self.update_bytes_held();
                }
                EvictOldest::IsLatest => {
                    state.latest_unqueued = true;
                    self.latest_queue.push_back(queued);
                    self.update_bytes_held();
                }
                EvictOldest::AlreadyGone => {
                    self.stale_queue_entries = self.stale_queue_entries.saturating_sub(1)
                }
                // Cannot happen while the queue is in arrival order; the message stays bounded
                // by the per-topic limits.
                EvictOldest::NotOldest => {}
            }
        }
    }

    /// Evicts the latest message of the least recently updated topic that still holds one.
    /// Returns false once the latest queue is empty.
    fn evict_one_latest(&mut self) -> bool {
        if self.eviction_queue.capacity() > 0 {
            // Drained: the first queue's buffer (one slot per message once held) is freed.
            self.eviction_queue = VecDeque::new();
        }
        let Some(queued) = self.latest_queue.pop_front() else {
            return false;
        };
        let evicted = self
            .topics
            .get_mut(queued.node)
            .map(Box::as_mut)
            .and_then(|state| {
                let slots_before = state.history.capacity();
                let held_bytes = state.history.evict_latest(queued.sequence)?;
                Some((held_bytes, slots_before - state.history.capacity()))
            });
        match evicted {
            Some((held_bytes, slots_freed)) => {
                self.stats.latest_evicted += 1;
                self.message_bytes -= held_bytes;
                self.messages_held -= 1;
                self.ring_slots -= slots_freed;
                self.tree_bytes -= LATEST_BOX_SPARE_BYTES;
            }
            None => self.stale_latest_entries = self.stale_latest_entries.saturating_sub(1),
        }
        self.update_bytes_held();
        true
    }

    /// Removes stale queue entries once they outnumber live ones (amortised O(1) per message).
    pub(super) fn compact_queue_if_stale(&mut self) {
        self.compact_latest_queue_if_stale();
        if self.stale_queue_entries < MIN_STALE_FOR_COMPACTION
            || self.stale_queue_entries * 2 < self.eviction_queue.len()
        {
            return;
        }
        let topics = &self.topics;
        self.eviction_queue.retain(|queued| {
            let oldest = topics
                .get(queued.node)
                .and_then(|state| state.history.oldest_sequence());
            oldest.is_some_and(|oldest| queued.sequence >= oldest)
        });
        self.eviction_queue.shrink_to(self.eviction_queue.len() * 2);
        self.stale_queue_entries = 0;
        self.update_bytes_held();
    }

    /// Removes latest-queue entries superseded by newer messages once they outnumber live ones.
    fn compact_latest_queue_if_stale(&mut self) {
        if self.stale_latest_entries < MIN_STALE_FOR_COMPACTION
            || self.stale_latest_entries * 2 < self.latest_queue.len()
        {
            return;
        }
        let topics = &self.topics;
        self.latest_queue.retain(|queued| {
            topics
                .get(queued.node)
                .and_then(|state| state.history.latest_sequence())
                == Some(queued.sequence)
        });
        self.latest_queue.shrink_to(self.latest_queue.len() * 2);
        self.stale_latest_entries = 0;
        self.update_bytes_held();
    }
}
