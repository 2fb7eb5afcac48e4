//! A topic's recent messages, bounded by count and bytes.
//!
//! The oldest message goes first; the per-topic limits always keep the latest, even when it alone
//! exceeds the byte limit (only the store's memory budget may evict it, as a last resort: see
//! [`History::evict_latest`]). Every message gets a per-history sequence number (consecutive, so entries need not
//! store it), which lets the store keep one global oldest-first queue of `(topic, sequence)` for
//! its memory budget.

use std::collections::VecDeque;
use std::mem::size_of;

use crate::model::decode::message::Message;
use crate::model::decode::payload::{ExtractedValue, KeyText, ValueKey};
use crate::model::heap::heap_bytes;

/// Bounds for one topic's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Messages kept (at least one is always kept).
    pub max_messages: usize,
    /// Payload bytes kept (the latest message is kept even if it is larger).
    pub max_payload_bytes: usize,
}

/// What trimming removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trimmed {
    /// Messages removed.
    pub messages: u64,
    /// Their estimated memory ([`estimated_message_bytes`]).
    pub held_bytes: usize,
}

impl Trimmed {
    fn add(&mut self, held_bytes: usize) {
        self.messages += 1;
        self.held_bytes += held_bytes;
    }
}

/// The outcome of asking a history to drop the message with a given sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictOldest {
    /// It was the oldest message and was dropped; it held this many bytes (estimate).
    Evicted {
        /// Estimated memory released.
        held_bytes: usize,
    },
    /// It is already gone.
    AlreadyGone,
    /// It is the latest message, which is always kept.
    IsLatest,
    /// It is still held but is not the oldest (the caller's queue is out of order).
    NotOldest,
}

/// A topic's recent messages. The latest is boxed (so that evicting it under the memory budget
/// really gives its memory back: an inline slot would stay allocated in the topic's state); older
/// ones, oldest first, in a ring allocated only once a topic has more than one message.
#[derive(Debug, Default)]
pub struct History {
    latest: Option<Box<Message>>,
    #[expect(
        clippy::box_collection,
        reason = "one pointer (8 bytes) in every topic's state instead of an empty ring (32)"
    )]
    older: Option<Box<VecDeque<Message>>>,
    /// Sequence number the next pushed message gets (= messages ever pushed).
    next_sequence: u64,
    payload_bytes: usize,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    fn older_iter(&self) -> impl DoubleEndedIterator<Item = &Message> {
        self.older.as_deref().into_iter().flatten()
    }

    fn older_len(&self) -> usize {
        self.older.as_deref().map_or(0, VecDeque::len)
    }

    /// The newest message.
    /// `None` before the first message and after the memory budget evicted the latest
    /// ([`History::latest_evicted`]).
    pub fn latest(&self) -> Option<&Message> {
        self.latest.as_deref()
    }

    /// True while the memory budget has evicted the latest message (until the next one arrives).
    pub fn latest_evicted(&self) -> bool {
        self.latest.is_none() && self.next_sequence > 0
    }

    /// The message before the latest (for a diff view).
    pub fn previous(&self) -> Option<&Message> {
        self.older.as_deref()?.back()
    }

    /// Newest first.
    pub fn iter_newest_first(&self) -> impl Iterator<Item = &Message> {
        self.latest
            .as_deref()
            .into_iter()
            .chain(self.older_iter().rev())
    }

    /// Oldest first.
    pub fn iter_oldest_first(&self) -> impl Iterator<Item = &Message> {
        self.older_iter().chain(self.latest.as_deref())
    }

    /// The `index`-th message counting from the newest (0 = latest).
    pub fn newest_first(&self, index: usize) -> Option<&Message> {
        match index.checked_sub(1) {
            None => self.latest(),
            Some(older_index) => {
                let older = self.older.as_deref()?;
                older
                    .len()
                    .checked_sub(older_index + 1)
                    .and_then(|position| older.get(position))
            }
        }
    }

    /// Number of messages held.
    pub fn len(&self) -> usize {
        usize::from(self.latest.is_some()) + self.older_len()
    }

    /// True before the first message (and while the latest is evicted).
    pub fn is_empty(&self) -> bool {
        self.latest.is_none()
    }

    /// Message slots allocated (held messages included; the latest's box counts as one slot);
    /// the store counts the spare ones.
    pub fn capacity(&self) -> usize {
        usize::from(self.latest.is_some()) + self.older.as_deref().map_or(0, VecDeque::capacity)
    }

    /// Gives spare slots back once at most a quarter of them is used (after the memory budget
    /// evicted most of a busy topic's history), keeping room for twice the messages held.
    pub fn shrink_if_sparse(&mut self) {
        let Some(older) = self.older.as_deref_mut() else {
            return;
        };
        let held = older.len();
        if held == 0 {
            self.older = None;
        } else if older.capacity() > 4 && held * 4 <= older.capacity() {
            older.shrink_to(held * 2);
        }
    }

    /// Payload bytes held.
    pub fn payload_bytes(&self) -> usize {
        self.payload_bytes
    }

    /// Estimated memory held by the messages ([`estimated_message_bytes`] summed); O(len).
    pub fn held_bytes(&self) -> usize {
        self.iter_oldest_first().map(estimated_message_bytes).sum()
    }

    /// Messages dropped so far to stay within limits (every message pushed and no longer held).
    pub fn evicted(&self) -> u64 {
        self.next_sequence - self.len() as u64
    }

    /// Sequence number of the latest message, if any.
    pub fn latest_sequence(&self) -> Option<u64> {
        self.next_sequence
            .checked_sub(1)
            .filter(|_| self.latest.is_some())
    }

    /// Sequence number of the oldest message held, if any.
    pub fn oldest_sequence(&self) -> Option<u64> {
        (!self.is_empty()).then(|| self.next_sequence - self.len() as u64)
    }

    /// Appends `message` as the latest, then trims the oldest to `limits`. Returns the new
    /// message's sequence number and what was trimmed.
    pub fn push(&mut self, message: Message, limits: HistoryLimits) -> (u64, Trimmed) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.payload_bytes += message.payload.len();
        match self.latest.as_deref_mut() {
            // The box is reused: one allocation per topic, not per message.
            Some(latest) => {
                let previous = std::mem::replace(latest, message);
                self.older
                    .get_or_insert_with(|| Box::new(VecDeque::with_capacity(1)))
                    .push_back(previous);
            }
            None => self.latest = Some(Box::new(message)),
        }
        (sequence, self.trim(limits))
    }

    /// Drops the oldest messages until `limits` hold (never the latest).
    pub fn trim(&mut self, limits: HistoryLimits) -> Trimmed {
        let mut trimmed = Trimmed::default();
        while self.len() > 1
            && (self.len() > limits.max_messages || self.payload_bytes > limits.max_payload_bytes)
        {
            if let Some(held_bytes) = self.pop_oldest() {
                trimmed.add(held_bytes);
            }
        }
        if trimmed.messages > 0 && self.older_len() == 0 {
            // Back to one message: give the ring back.
            self.older = None;
        }
        trimmed
    }

    /// Drops the message with `sequence` if it is the oldest and not the latest (memory budget).
    pub fn evict_oldest(&mut self, sequence: u64) -> EvictOldest {
        match self.oldest_sequence() {
            None => EvictOldest::AlreadyGone,
            Some(oldest) if sequence < oldest => EvictOldest::AlreadyGone,
            Some(_) if Some(sequence) == self.latest_sequence() => EvictOldest::IsLatest,
            Some(oldest) if sequence > oldest => EvictOldest::NotOldest,
            Some(_) => match self.pop_oldest() {
                Some(held_bytes) => EvictOldest::Evicted { held_bytes },
                None => EvictOldest::AlreadyGone,
            },
        }
    }

    /// Drops the latest message if it has `sequence` and is the only one held (the memory
    /// budget's last resort, once no older message is left anywhere). Returns its estimated
    /// memory, or `None` if it is not (or no longer) that message.
    pub fn evict_latest(&mut self, sequence: u64) -> Option<usize> {
        if self.latest_sequence() != Some(sequence) || self.older_len() > 0 {
            return None;
        }
        let message = self.latest.take()?;
        // An emptied ring goes too: the topic then holds no message memory at all.
        self.older = None;
        self.payload_bytes -= message.payload.len();
        Some(estimated_message_bytes(&message))
    }

    /// Removes the oldest message that is not the latest and returns its estimated memory.
    fn pop_oldest(&mut self) -> Option<usize> {
        let message = self.older.as_deref_mut()?.pop_front()?;
        let held_bytes = estimated_message_bytes(&message);
        self.payload_bytes -= message.payload.len();
        Some(held_bytes)
    }
}

/// Estimated memory one stored message costs: the struct, payload, topic, preview, values and
/// problem text, each allocation as the allocator rounds it (capacity, not length, so spare room
/// counts). Stable for a given message, so adding and removing it balance exactly.
pub fn estimated_message_bytes(message: &Message) -> usize {
    let decoded = &message.decoded;
    let keys_bytes: usize = decoded.values.iter().map(estimated_key_bytes).sum();
    size_of::<Message>()
        + heap_bytes(message.payload.len())
        + heap_bytes(message.topic.capacity())
        + heap_bytes(decoded.preview.capacity())
        + decoded.extra_heap_bytes()
        + heap_bytes(decoded.values.capacity() * size_of::<ExtractedValue>())
        + keys_bytes
}

/// A key's own text allocations. The measurement is not counted: the store gives it the datapoint
/// registry's copy of the name, which the registry counts (a measurement on a topic outside
/// `<lbg>/<project>/<hash id>` keeps its own copy, uncounted). `value` is one process-wide copy.
fn estimated_key_bytes(value: &ExtractedValue) -> usize {
    match &value.key {
        ValueKey::Whole => 0,
        ValueKey::JsonPath(path) => shared_text_bytes(path),
        ValueKey::InfluxField { field, .. } if field.is_value_field() => 0,
        ValueKey::InfluxField { field, .. } => shared_text_bytes(field),
    }
}

/// One `Arc<str>` allocation: two reference counts and the text.
fn shared_text_bytes(text: &KeyText) -> usize {
    heap_bytes(2 * size_of::<usize>() + text.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::decode::payload::{Decoded, PayloadFormat};
    use crate::model::time::Nanos;
    use crate::model::topic::qos::Qos;
    use bytes::Bytes;

    /// A message built without the payload decoder (tests of the store must not depend on it).
    pub(crate) fn message(topic: &str, payload: &str, received_at_nanos: Nanos) -> Message {
        Message {
            topic: topic.to_owned(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: Qos::AtMostOnce,
            family: crate::model::aedifion::family::topic_family(topic),
            retained: false,
            received_at_nanos,
            decoded: Decoded {
                format: PayloadFormat::Text,
                preview: payload.to_owned(),
                values: Vec::new(),
                extra: None,
            },
        }
    }

    const ROOMY: HistoryLimits = HistoryLimits {
        max_messages: 100,
        max_payload_bytes: 1 << 20,
    };

    fn payloads_newest_first(history: &History) -> Vec<String> {
        history
            .iter_newest_first()
            .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
            .collect()
    }

    #[test]
    fn count_limit_drops_the_oldest_and_counts_evictions() {
        let mut history = History::new();
        let limits = HistoryLimits {
            max_messages: 3,
            ..ROOMY
        };
        for index in 0..5 {
            history.push(message("t", &index.to_string(), index), limits);
        }
        assert_eq!(payloads_newest_first(&history), ["4", "3", "2"]);
        assert_eq!(history.evicted(), 2);
        assert_eq!(history.oldest_sequence(), Some(2));
        assert_eq!(history.latest_sequence(), Some(4));
    }

    #[test]
    fn byte_limit_keeps_the_latest_even_when_it_alone_is_too_big() {
        let mut history = History::new();
        let limits = HistoryLimits {
            max_messages: 100,
            max_payload_bytes: 10,
        };
        history.push(message("t", "12345", 1), limits);
        history.push(message("t", "67890", 2), limits);
        assert_eq!(history.len(), 2);
        let (_, trimmed) = history.push(message("t", &"x".repeat(50), 3), limits);
        assert_eq!(trimmed.messages, 2);
        assert_eq!(history.len(), 1);
        assert_eq!(history.payload_bytes(), 50);
        assert_eq!(history.latest().map(|m| m.received_at_nanos), Some(3));
    }

    #[test]
    fn zero_message_limit_still_keeps_the_latest() {
        let mut history = History::new();
        let limits = HistoryLimits {
            max_messages: 0,
            max_payload_bytes: 0,
        };
        history.push(message("t", "a", 1), limits);
        history.push(message("t", "b", 2), limits);
        assert_eq!(payloads_newest_first(&history), ["b"]);
    }

    #[test]
    fn previous_is_the_message_before_the_latest() {
        let mut history = History::new();
        assert!(history.previous().is_none());
        history.push(message("t", "first", 1), ROOMY);
        assert!(history.previous().is_none());
        history.push(message("t", "second", 2), ROOMY);
        history.push(message("t", "third", 3), ROOMY);
        assert_eq!(history.previous().map(|m| m.received_at_nanos), Some(2));
        assert_eq!(
            history.newest_first(0).map(|m| m.received_at_nanos),
            Some(3)
        );
        assert_eq!(
            history.newest_first(2).map(|m| m.received_at_nanos),
            Some(1)
        );
        assert!(history.newest_first(3).is_none());
    }

    #[test]
    fn held_bytes_balance_after_trimming_everything_but_the_latest() {
        let mut history = History::new();
        for index in 0..10 {
            history.push(
                message("some/topic", &"p".repeat(index * 10), index as Nanos),
                ROOMY,
            );
        }
        let latest_bytes = history.latest().map(estimated_message_bytes).unwrap();
        history.trim(HistoryLimits {
            max_messages: 1,
            ..ROOMY
        });
        assert_eq!(history.held_bytes(), latest_bytes);
        assert_eq!(history.payload_bytes(), 90);
    }

    #[test]
    fn evict_oldest_refuses_the_latest_and_stale_sequences() {
        let mut history = History::new();
        history.push(message("t", "a", 1), ROOMY);
        assert_eq!(history.evict_oldest(0), EvictOldest::IsLatest);
        history.push(message("t", "b", 2), ROOMY);
        history.push(message("t", "c", 3), ROOMY);
        assert_eq!(history.evict_oldest(1), EvictOldest::NotOldest);
        assert!(matches!(
            history.evict_oldest(0),
            EvictOldest::Evicted { .. }
        ));
        assert_eq!(history.evict_oldest(0), EvictOldest::AlreadyGone);
        assert!(matches!(
            history.evict_oldest(1),
            EvictOldest::Evicted { .. }
        ));
        assert_eq!(history.evict_oldest(2), EvictOldest::IsLatest);
        assert_eq!(payloads_newest_first(&history), ["c"]);
        assert_eq!(history.evicted(), 2);
    }

    #[test]
    fn evicting_the_latest_empties_the_history_until_the_next_message() {
        let mut history = History::new();
        history.push(message("t", "a", 1), ROOMY);
        history.push(message("t", "b", 2), ROOMY);
        assert_eq!(
            history.evict_latest(1),
            None,
            "an older message is still held"
        );
        assert!(matches!(
            history.evict_oldest(0),
            EvictOldest::Evicted { .. }
        ));
        assert_eq!(history.evict_latest(0), None, "not the latest's sequence");
        let latest_bytes = history.latest().map(estimated_message_bytes);
        assert_eq!(history.evict_latest(1), latest_bytes);
        assert!(history.latest().is_none());
        assert!(history.latest_evicted());
        assert_eq!(
            (history.len(), history.capacity(), history.payload_bytes()),
            (0, 0, 0)
        );
        assert_eq!(history.evicted(), 2);
        assert_eq!(history.evict_latest(1), None, "already gone");
        history.push(message("t", "c", 3), ROOMY);
        assert!(!history.latest_evicted());
        assert_eq!(payloads_newest_first(&history), ["c"]);
        assert_eq!(history.latest_sequence(), Some(2));
        assert!(!History::new().latest_evicted(), "never had a message");
    }

    #[test]
    fn a_stored_message_is_small() {
        // Rare parts are boxed: a one-message history is a 144-byte heap chunk (176 before).
        assert!(size_of::<Message>() <= 136, "{}", size_of::<Message>());
    }

    #[test]
    fn a_single_message_history_allocates_no_ring() {
        let mut history = History::new();
        history.push(message("t", "a", 1), ROOMY);
        assert!(history.older.is_none());
        assert_eq!(history.capacity(), 1);
        history.push(message("t", "b", 2), ROOMY);
        assert_eq!((history.len(), history.capacity()), (2, 2));
        history.trim(HistoryLimits {
            max_messages: 1,
            ..ROOMY
        });
        assert!(history.older.is_none(), "the ring is given back");
        assert_eq!(history.latest().map(|m| m.received_at_nanos), Some(2));
    }
}
