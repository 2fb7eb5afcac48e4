//! The inbox: a bounded ring between the worker (producer) and the UI thread (consumer).
//!
//! Policy when full (see ARCHITECTURE.md): the **oldest** queued message is dropped to make room,
//! because an explorer shows what a broker carries *now*; every dropped message is counted and the
//! count is shown in the status bar. Nothing is lost silently.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::message::Message;

/// Called by the producer when the inbox goes from empty to non-empty (once per batch, not per
/// message), so the UI can schedule a repaint without the inbox knowing about egui.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// Counters of the inbox, readable from any thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct InboxStats {
    /// Messages the worker received and pushed.
    pub received: u64,
    /// Messages dropped because the inbox was full (received but never applied).
    pub dropped: u64,
    /// Messages taken out by the consumer.
    pub drained: u64,
    /// Messages waiting right now.
    pub pending: u64,
}

/// The bounded queue of received messages; shared (`Arc`) by the worker and the UI.
pub struct Inbox {
    queue: Mutex<VecDeque<Message>>,
    capacity: usize,
    received: AtomicU64,
    dropped: AtomicU64,
    drained: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

/// Default capacity: a few seconds of a very busy broker, a bounded amount of memory.
pub const DEFAULT_INBOX_CAPACITY: usize = 200_000;

impl Inbox {
    /// An empty inbox holding at most `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity: capacity.max(1),
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            drained: AtomicU64::new(0),
            waker: Mutex::new(None),
        })
    }

    /// Installs the callback that wakes the consumer.
    pub fn set_waker(&self, waker: Waker) {
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(waker);
    }

    /// Queues one message, dropping the oldest one if full.
    pub fn push(&self, message: Message) {
        let was_empty = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let was_empty = queue.is_empty();
            if queue.len() >= self.capacity {
                queue.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            queue.push_back(message);
            was_empty
        };
        self.received.fetch_add(1, Ordering::Relaxed);
        if was_empty {
            self.wake();
        }
    }

    /// Moves up to `max` of the oldest messages into `out`; returns how many.
    pub fn drain_into(&self, max: usize, out: &mut Vec<Message>) -> usize {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let count = max.min(queue.len());
        out.extend(queue.drain(..count));
        drop(queue);
        self.drained.fetch_add(count as u64, Ordering::Relaxed);
        count
    }

    /// The counters as of now.
    pub fn stats(&self) -> InboxStats {
        let pending = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64;
        InboxStats {
            received: self.received.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            drained: self.drained.load(Ordering::Relaxed),
            pending,
        }
    }

    /// The most messages it holds before dropping the oldest.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn wake(&self) {
        if let Some(waker) = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            waker();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::Qos;

    fn message(n: u32) -> Message {
        Message::new(
            format!("t/{n}"),
            bytes::Bytes::from(n.to_string()),
            Qos::AtMostOnce,
            false,
            0,
        )
    }

    #[test]
    fn full_inbox_drops_oldest_and_counts_it() {
        let inbox = Inbox::new(3);
        for n in 0..5 {
            inbox.push(message(n));
        }
        let mut out = Vec::new();
        inbox.drain_into(10, &mut out);
        let topics: Vec<_> = out.iter().map(|m| m.topic.as_str()).collect();
        assert_eq!(topics, ["t/2", "t/3", "t/4"]);
        let stats = inbox.stats();
        assert_eq!(
            (stats.received, stats.dropped, stats.drained, stats.pending),
            (5, 2, 3, 0)
        );
    }

    #[test]
    fn waker_fires_once_per_batch() {
        let inbox = Inbox::new(10);
        let wakes = Arc::new(AtomicU64::new(0));
        let counter = wakes.clone();
        inbox.set_waker(Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
        inbox.push(message(1));
        inbox.push(message(2));
        assert_eq!(wakes.load(Ordering::Relaxed), 1);
        inbox.drain_into(1, &mut Vec::new());
        inbox.push(message(3));
        assert_eq!(
            wakes.load(Ordering::Relaxed),
            1,
            "still non-empty: no new wake"
        );
        inbox.drain_into(10, &mut Vec::new());
        inbox.push(message(4));
        assert_eq!(wakes.load(Ordering::Relaxed), 2);
    }
}
