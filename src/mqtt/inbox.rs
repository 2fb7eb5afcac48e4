//! The inbox: a bounded ring between the worker (producer) and the UI thread (consumer).
//!
//! Policy when full (see ARCHITECTURE.md):
//! - **While the consumer is alive, the producer waits** ([`Inbox::push_or_wait`]): the worker
//!   stops reading the socket, TCP pushes back and the broker holds the rest. Nothing is dropped
//!   here, and the UI can keep its per-frame drain short.
//! - **Once the consumer is stalled** (the inbox stayed full for [`STALL_AFTER`] without a single
//!   message taken: a minimised window, a blocked UI thread), or whenever the worker must read on
//!   (a keep-alive answer is overdue), the **oldest** queued message is dropped to make room
//!   ([`Inbox::push`]): an explorer shows what a broker carries *now*. Every dropped message is
//!   counted and the count is shown in the status bar. Nothing is lost silently.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::model::decode::message::Message;

/// Called by the producer when the inbox goes from empty to non-empty (once per batch, not per
/// message), so the UI can schedule a repaint without the inbox knowing about egui.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// How long a producer waits for room in a full inbox before it counts the consumer as stalled
/// and drops the oldest messages instead. Long enough for a slow frame (a software-rendered
/// window under load takes 50-100 ms), short enough that the worker keeps its connection alive.
pub const STALL_AFTER: Duration = Duration::from_secs(1);

/// How long after its last wait the producer still counts as holding the broker back (the
/// status shows it): the worker alternates between short waits and pushes, and the status bar
/// must not flicker between frames.
pub const HOLDING_BACK_SHOWN_FOR: Duration = Duration::from_secs(1);

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
    /// The producer waited for room within the last [`HOLDING_BACK_SHOWN_FOR`]: the broker is
    /// waiting on the consumer (backpressure), and holds what it has not sent yet.
    pub holding_back: bool,
    /// Total time the producer waited for room, in milliseconds.
    pub waited_ms: u64,
    /// Times the consumer counted as stalled (full for [`STALL_AFTER`] with nothing taken), after
    /// which the oldest messages were dropped until it took messages again.
    pub stalls: u64,
}

/// The bounded queue of received messages; shared (`Arc`) by the worker and the UI.
pub struct Inbox {
    queue: Mutex<VecDeque<Message>>,
    capacity: usize,
    received: AtomicU64,
    dropped: AtomicU64,
    drained: AtomicU64,
    waker: Mutex<Option<Waker>>,
    /// Signalled whenever the consumer takes messages (room for a waiting producer).
    room: Notify,
    /// Set when a producer waited [`STALL_AFTER`] in vain; cleared when the consumer takes a
    /// message. While set, producers drop the oldest instead of waiting.
    consumer_stalled: AtomicBool,
    /// Reference point of the `*_nanos` fields below (monotonic).
    created: Instant,
    /// Since `created`, plus one: when the current wait began (0: no producer is waiting).
    waiting_since_nanos: AtomicU64,
    /// Since `created`, plus one: when the last wait ended (0: never waited).
    last_wait_end_nanos: AtomicU64,
    waited_nanos: AtomicU64,
    stalls: AtomicU64,
    stall_after: Duration,
}

/// Default capacity: a few seconds of a very busy broker, a bounded amount of memory.
pub const DEFAULT_INBOX_CAPACITY: usize = 200_000;

impl Inbox {
    /// An empty inbox holding at most `capacity` messages (at least 1); producers wait
    /// [`STALL_AFTER`] for room before dropping.
    pub fn new(capacity: usize) -> Arc<Self> {
        Self::with_stall_after(capacity, STALL_AFTER)
    }

    /// Like [`Inbox::new`] with another stall time (tests use a short one).
    pub fn with_stall_after(capacity: usize, stall_after: Duration) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity: capacity.max(1),
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            drained: AtomicU64::new(0),
            waker: Mutex::new(None),
            room: Notify::new(),
            consumer_stalled: AtomicBool::new(false),
            created: Instant::now(),
            waiting_since_nanos: AtomicU64::new(0),
            last_wait_end_nanos: AtomicU64::new(0),
            waited_nanos: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            stall_after,
        })
    }

    /// Installs the callback that wakes the consumer.
    pub fn set_waker(&self, waker: Waker) {
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(waker);
    }

    /// Queues one message, dropping (and counting) the oldest one if full. Never waits.
    pub fn push(&self, message: Message) {
        let was_empty = {
            let mut queue = self.lock();
            let was_empty = queue.is_empty();
            if queue.len() >= self.capacity {
                queue.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            queue.push_back(message);
            // Counted under the lock, so a snapshot (`stats`) always balances.
            self.received.fetch_add(1, Ordering::Relaxed);
            was_empty
        };
        if was_empty {
            self.wake();
        }
    }

    /// Queues one message; while the inbox is full, waits for the consumer to take some. If the
    /// consumer takes nothing for [`STALL_AFTER`], it counts as stalled: this message and those
    /// after it go in by dropping the oldest ([`Inbox::push`]) until the consumer takes messages
    /// again. Cancelling the future (a disconnect) loses only this message, which was never
    /// counted as received.
    pub async fn push_or_wait(&self, message: Message) {
        let Some(message) = self.push_if_room(message) else {
            return;
        };
        if !self.consumer_stalled.load(Ordering::Relaxed) {
            let waited = WaitRecord::start(self);
            let room = self.wait_for_room().await;
            drop(waited);
            if !room {
                self.consumer_stalled.store(true, Ordering::Relaxed);
                self.stalls.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    "inbox full for {:?} with nothing taken: dropping the oldest messages",
                    self.stall_after
                );
            }
        }
        self.push(message);
    }

    /// Waits until the inbox has room (true) or [`STALL_AFTER`] passed without any (false).
    async fn wait_for_room(&self) -> bool {
        let deadline = tokio::time::Instant::now() + self.stall_after;
        loop {
            let notified = self.room.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a drain in between cannot be missed.
            notified.as_mut().enable();
            if self.has_room() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.has_room();
            }
        }
    }

    /// Queues `message` if there is room (`None`); otherwise hands it back.
    fn push_if_room(&self, message: Message) -> Option<Message> {
        let was_empty = {
            let mut queue = self.lock();
            if queue.len() >= self.capacity {
                return Some(message);
            }
            let was_empty = queue.is_empty();
            queue.push_back(message);
            self.received.fetch_add(1, Ordering::Relaxed);
            was_empty
        };
        if was_empty {
            self.wake();
        }
        None
    }

    fn has_room(&self) -> bool {
        self.lock().len() < self.capacity
    }

    /// Moves up to `max` of the oldest messages into `out`; returns how many. Taking any ends a
    /// stall and lets a waiting producer go on.
    pub fn drain_into(&self, max: usize, out: &mut Vec<Message>) -> usize {
        let mut queue = self.lock();
        let count = max.min(queue.len());
        out.extend(queue.drain(..count));
        self.drained.fetch_add(count as u64, Ordering::Relaxed);
        drop(queue);
        if count > 0 {
            self.consumer_stalled.store(false, Ordering::Relaxed);
            self.room.notify_waiters();
        }
        count
    }

    /// The counters as of now.
    pub fn stats(&self) -> InboxStats {
        // Read under the queue lock, which every change of these counters holds: a snapshot
        // balances (received = drained + dropped + pending), so `received >= N && pending == 0`
        // really means all N were taken.
        let queue = self.lock();
        let pending = queue.len() as u64;
        let received = self.received.load(Ordering::Relaxed);
        let dropped = self.dropped.load(Ordering::Relaxed);
        let drained = self.drained.load(Ordering::Relaxed);
        drop(queue);
        let now = self.nanos_since_created();
        let waiting_since = self.waiting_since_nanos.load(Ordering::Relaxed);
        let last_end = self.last_wait_end_nanos.load(Ordering::Relaxed);
        let shown_for = duration_nanos(HOLDING_BACK_SHOWN_FOR);
        let current_wait = if waiting_since > 0 {
            now.saturating_sub(waiting_since)
        } else {
            0
        };
        InboxStats {
            received,
            dropped,
            drained,
            pending,
            holding_back: waiting_since > 0
                || (last_end > 0 && now.saturating_sub(last_end) < shown_for),
            waited_ms: (self.waited_nanos.load(Ordering::Relaxed) + current_wait) / 1_000_000,
            stalls: self.stalls.load(Ordering::Relaxed),
        }
    }

    /// The most messages it holds before the producer waits (or, stalled, drops the oldest).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Message>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Nanoseconds since the inbox was made, plus one (so 0 can mean "never").
    fn nanos_since_created(&self) -> u64 {
        duration_nanos(self.created.elapsed()).saturating_add(1)
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

/// Marks a producer's wait in the counters from creation to drop (also when the wait is
/// cancelled by a disconnect).
struct WaitRecord<'a> {
    inbox: &'a Inbox,
    started_nanos: u64,
}

impl<'a> WaitRecord<'a> {
    fn start(inbox: &'a Inbox) -> Self {
        let started_nanos = inbox.nanos_since_created();
        inbox
            .waiting_since_nanos
            .store(started_nanos, Ordering::Relaxed);
        Self {
            inbox,
            started_nanos,
        }
    }
}

impl Drop for WaitRecord<'_> {
    fn drop(&mut self) {
        let now = self.inbox.nanos_since_created();
        self.inbox
            .waited_nanos
            .fetch_add(now.saturating_sub(self.started_nanos), Ordering::Relaxed);
        self.inbox.last_wait_end_nanos.store(now, Ordering::Relaxed);
        self.inbox.waiting_since_nanos.store(0, Ordering::Relaxed);
    }
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topic::qos::Qos;

    fn message(n: u32) -> Message {
        Message::new(
            format!("t/{n}"),
            bytes::Bytes::from(n.to_string()),
            Qos::AtMostOnce,
            false,
            0,
        )
    }

    fn topics(messages: &[Message]) -> Vec<&str> {
        messages.iter().map(|m| m.topic.as_str()).collect()
    }

    /// A current-thread runtime for the producer's side.
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    /// Long enough never to pass in a test that expects the producer to be woken by a drain
    /// (and still a bound, should the consumer fail).
    const NEVER: Duration = Duration::from_secs(30);
    /// Short enough to pass quickly in a test where nobody drains.
    const SOON: Duration = Duration::from_millis(20);

    /// Runs `consume` on a named thread once the producer is waiting (bounded wait).
    fn consumer_once_waiting<T: Send + 'static>(
        inbox: &Arc<Inbox>,
        consume: impl FnOnce(&Inbox) -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let inbox = inbox.clone();
        std::thread::Builder::new()
            .name("test-consumer".to_owned())
            .spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(10);
                while inbox.waiting_since_nanos.load(Ordering::Relaxed) == 0 {
                    assert!(Instant::now() < deadline, "the producer never waited");
                    std::thread::sleep(Duration::from_millis(1));
                }
                consume(&inbox)
            })
            .expect("spawn consumer")
    }

    #[test]
    fn full_inbox_drops_oldest_and_counts_it() {
        let inbox = Inbox::new(3);
        for n in 0..5 {
            inbox.push(message(n));
        }
        let mut out = Vec::new();
        inbox.drain_into(10, &mut out);
        assert_eq!(topics(&out), ["t/2", "t/3", "t/4"]);
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

    #[test]
    fn push_or_wait_with_room_queues_at_once() {
        let inbox = Inbox::with_stall_after(2, NEVER);
        runtime().block_on(inbox.push_or_wait(message(1)));
        let stats = inbox.stats();
        assert_eq!((stats.received, stats.pending, stats.waited_ms), (1, 1, 0));
        assert!(!stats.holding_back);
    }

    #[test]
    fn a_full_inbox_makes_the_producer_wait_until_the_consumer_takes_messages() {
        let inbox = Inbox::with_stall_after(2, NEVER);
        inbox.push(message(0));
        inbox.push(message(1));
        let consumer = consumer_once_waiting(&inbox, |inbox| {
            let stats = inbox.stats();
            assert!(stats.holding_back, "{stats:?}");
            assert_eq!((stats.received, stats.dropped), (2, 0), "nothing dropped");
            let mut out = Vec::new();
            inbox.drain_into(1, &mut out);
            out
        });
        runtime().block_on(inbox.push_or_wait(message(2)));
        let taken = consumer.join().expect("consumer");
        assert_eq!(topics(&taken), ["t/0"]);
        let mut rest = Vec::new();
        inbox.drain_into(10, &mut rest);
        assert_eq!(topics(&rest), ["t/1", "t/2"]);
        let stats = inbox.stats();
        assert_eq!((stats.received, stats.dropped, stats.stalls), (3, 0, 0));
        assert!(stats.holding_back, "shown for a while after the wait");
    }

    #[test]
    fn a_stalled_consumer_gets_drop_oldest_until_it_takes_messages_again() {
        let inbox = Inbox::with_stall_after(2, SOON);
        inbox.push(message(0));
        inbox.push(message(1));
        let runtime = runtime();
        // Nobody drains: after the stall time the producer gives up waiting and drops the oldest.
        runtime.block_on(inbox.push_or_wait(message(2)));
        let stats = inbox.stats();
        assert_eq!((stats.received, stats.dropped, stats.stalls), (3, 1, 1));
        // Still stalled: the next push drops at once. A second wait would have ended in a
        // second stall, as nobody drains.
        runtime.block_on(inbox.push_or_wait(message(3)));
        let stats = inbox.stats();
        assert_eq!((stats.received, stats.dropped, stats.stalls), (4, 2, 1));
        let mut out = Vec::new();
        inbox.drain_into(1, &mut out);
        assert_eq!(topics(&out), ["t/2"]);
        // The consumer took a message: alive again, so a full inbox means waiting (and a
        // second stall, as nobody drains now).
        inbox.push(message(4));
        runtime.block_on(inbox.push_or_wait(message(5)));
        let stats = inbox.stats();
        assert_eq!((stats.received, stats.dropped, stats.stalls), (6, 3, 2));
        inbox.drain_into(10, &mut out);
        assert_eq!(topics(&out), ["t/2", "t/4", "t/5"]);
    }

    #[test]
    fn a_cancelled_wait_counts_nothing_and_ends_the_wait_record() {
        let inbox = Inbox::with_stall_after(1, NEVER);
        inbox.push(message(0));
        runtime().block_on(async {
            let cancelled = tokio::time::timeout(SOON, inbox.push_or_wait(message(1))).await;
            assert!(cancelled.is_err(), "still waiting when cancelled");
        });
        let stats = inbox.stats();
        assert_eq!((stats.received, stats.dropped, stats.pending), (1, 0, 1));
        assert!(stats.waited_ms >= 1, "{stats:?}");
        assert_eq!(inbox.waiting_since_nanos.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn every_snapshot_balances_received_against_drained_dropped_and_pending() {
        // `--count N` stops once `received >= N && pending == 0`: a snapshot that counts a
        // message as received but not yet as pending would stop before applying it.
        const MESSAGES: u32 = 100_000;
        let inbox = Inbox::with_stall_after(64, NEVER);
        let producer = {
            let inbox = Arc::clone(&inbox);
            std::thread::Builder::new()
                .name("producer".into())
                .spawn(move || {
                    for n in 0..MESSAGES {
                        inbox.push(message(n));
                    }
                })
                .expect("producer thread")
        };
        let consumer = {
            let inbox = Arc::clone(&inbox);
            std::thread::Builder::new()
                .name("consumer".into())
                .spawn(move || {
                    let mut out = Vec::new();
                    while !(inbox.stats().received == u64::from(MESSAGES)
                        && inbox.stats().pending == 0)
                    {
                        out.clear();
                        inbox.drain_into(16, &mut out);
                    }
                })
                .expect("consumer thread")
        };
        let mut unbalanced = Vec::new();
        while !consumer.is_finished() {
            let stats = inbox.stats();
            if stats.received != stats.drained + stats.dropped + stats.pending {
                unbalanced.push(stats);
            }
        }
        producer.join().expect("producer");
        consumer.join().expect("consumer");
        assert!(
            unbalanced.is_empty(),
            "{} unbalanced, e.g. {:?}",
            unbalanced.len(),
            unbalanced.first()
        );
    }
}
