//! The once-per-second step that turns the process's resident size into the store's memory
//! target ([`MemoryGovernor`]).
//!
//! The model stays free of OS calls: it gets the figures from here (see
//! `model::store::memory_budget`), read by [`crate::process`]. Where the OS gives no reading the
//! store is held to its own estimate alone.

use crate::model::store::Store;
use crate::model::store::memory_budget::{
    BudgetController, BudgetInputs, BudgetReading, inbox_headroom_bytes,
};
use crate::model::time::{Nanos, now_nanos};

/// Samples RSS once per second and keeps the store's memory target in line with it
/// (see `model::memory_budget`). The GUI calls [`MemoryGovernor::tick`] every frame, headless
/// mode every loop; both are cheap when no sample is due.
#[derive(Debug, Default)]
pub struct MemoryGovernor {
    controller: BudgetController,
}

impl MemoryGovernor {
    /// A governor that samples at the first tick.
    pub fn new() -> Self {
        Self::default()
    }

    /// If a sample is due: reads RSS, corrects the store's target (which evicts at once if it
    /// fell) and records the reading in the store for the status bar. `inbox_capacity_messages`
    /// sizes the headroom left for a full inbox.
    pub fn tick(&mut self, store: &mut Store, inbox_capacity_messages: usize) {
        self.tick_at(
            store,
            inbox_capacity_messages,
            now_nanos(),
            crate::process::rss_bytes,
        );
    }

    /// [`MemoryGovernor::tick`] with the clock and the RSS reader given (tests). `read_rss` is
    /// called only when a sample is due: the caller ticks every frame or loop, and reading
    /// `/proc` each time would be wasted I/O on that path.
    pub fn tick_at(
        &mut self,
        store: &mut Store,
        inbox_capacity_messages: usize,
        now_nanos: Nanos,
        read_rss: impl FnOnce() -> Option<u64>,
    ) {
        let budget_bytes = store.limits().memory_budget_bytes as u64;
        if !self
            .controller
            .sample_due(now_nanos, store.stats().bytes_held, budget_bytes)
        {
            return;
        }
        let reading = match read_rss() {
            Some(rss_bytes) => self.controller.update(BudgetInputs {
                budget_bytes,
                inbox_headroom_bytes: inbox_headroom_bytes(
                    inbox_capacity_messages,
                    store.typical_message_bytes(),
                ),
                rss_bytes,
                store_bytes: store.stats().bytes_held,
            }),
            None => self.controller.update_without_rss(budget_bytes),
        };
        store.record_budget_reading(reading);
    }

    /// The last sample's findings.
    pub fn reading(&self) -> BudgetReading {
        self.controller.reading()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::message::Message;
    use crate::model::store::Limits;
    use crate::model::topic::qos::Qos;

    fn filled_store(budget_bytes: usize) -> Store {
        let mut store = Store::new(Limits {
            memory_budget_bytes: budget_bytes,
            ..Limits::default()
        });
        // 100 topics × 100 messages of 1,000 bytes: about 11 MB, within the budget.
        for index in 0..10_000 {
            store.apply(Message::new(
                format!("t/{}", index % 100),
                bytes::Bytes::from(vec![b'x'; 1000]),
                Qos::AtMostOnce,
                false,
                index,
            ));
        }
        store
    }

    #[test]
    fn a_process_over_its_budget_makes_the_store_evict() {
        let budget = 16 << 20;
        let mut store = filled_store(budget);
        let held = store.stats().bytes_held;
        let evicted = store.stats().history_evicted;
        let mut governor = MemoryGovernor::new();
        // The process is twice the budget: the store must shrink to about half of what it holds.
        governor.tick_at(&mut store, 0, 0, || Some(2 * budget as u64));
        assert!(governor.reading().enforcing());
        assert_eq!(store.budget_reading(), governor.reading());
        assert!(
            store.stats().bytes_held < held * 6 / 10,
            "{held} → {}",
            store.stats().bytes_held
        );
        assert!(store.stats().history_evicted > evicted);
        // Within the second, nothing is sampled again.
        governor.tick_at(&mut store, 0, 1, || Some(4 * budget as u64));
        assert_eq!(store.budget_reading(), governor.reading());
    }

    #[test]
    fn without_a_reading_the_store_keeps_its_budget() {
        let budget = 16 << 20;
        let mut store = filled_store(budget);
        let mut governor = MemoryGovernor::new();
        governor.tick_at(&mut store, 0, 0, || None);
        assert!(!store.budget_reading().enforcing());
        assert_eq!(store.memory_target_bytes(), budget);
    }
}
