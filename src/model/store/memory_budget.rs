//! The memory budget bounds the process, not just the store's estimate.
//!
//! The store counts what it holds (messages, tree, registry, rate counters, ring slots), but the
//! process also holds the inbox, thread stacks, the runtime and whatever the allocator keeps
//! after a free. Once per second the app feeds the process's resident size (RSS) to a
//! [`BudgetController`], which lowers the store's *target* (the estimate it evicts down to) when
//! the process is over its share of the budget, and raises it again slowly when there is room.
//!
//! The allocator may keep freed memory (glibc does not return small freed chunks to the system),
//! so after eviction RSS often stays where it was. The controller must not read that as "still
//! over" and evict again and again: it lowers the target only when RSS is above its aim *and* has
//! grown since the last lowering. Freed memory is reused by the store's next messages, so a store
//! held below its earlier size keeps RSS flat. A floor (a quarter of the budget) keeps the store
//! useful when something else in the process (a window's textures, say) needs more than the budget.

use crate::model::time::Nanos;

/// How often the app samples RSS and corrects the target.
pub const SAMPLE_INTERVAL_NANOS: Nanos = 1_000_000_000;
/// ... and whenever the store's estimate grew by this share of the budget (1/32) since the last
/// sample, whichever comes first: a flood then overshoots by a bounded amount between samples,
/// however fast the machine is.
const SAMPLE_GROWTH_DIVISOR: u64 = 32;
/// A stored message's size before any was measured (an aedifion message; see BENCHMARKS.md).
pub const DEFAULT_MESSAGE_BYTES: usize = 512;
/// The smallest inbox [`inbox_capacity_for_budget`] returns.
const MIN_INBOX_CAPACITY_MESSAGES: usize = 1_000;
/// The inbox's headroom never takes more than this share of the budget (1/4): with a large inbox
/// and a small budget, a full inbox may briefly exceed the budget rather than starve the store.
const MAX_HEADROOM_DIVISOR: u64 = 4;
/// The store's target never drops below this share of the budget (1/4).
const FLOOR_DIVISOR: u64 = 4;
/// RSS settles this share (1/20) below the limit, so one second of growth stays within it.
const AIM_MARGIN_DIVISOR: u64 = 20;
/// Hysteresis (1/32 of the budget): RSS must grow this much after a lowering before the next one,
/// and fall this far below the aim before the target is raised.
const BAND_DIVISOR: u64 = 32;
/// The target is raised by at most this share of the budget (1/16) per sample.
const RAISE_STEP_DIVISOR: u64 = 16;

/// What the controller is given each sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetInputs {
    /// The configured memory budget (settings or `--memory-budget`).
    pub budget_bytes: u64,
    /// Memory to leave free for the inbox when it fills (its capacity × a typical message).
    pub inbox_headroom_bytes: u64,
    /// The process's resident size now.
    pub rss_bytes: u64,
    /// The store's own estimate of what it holds now.
    pub store_bytes: u64,
}

/// What the last sample found, for the status bar, the settings window and headless statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct BudgetReading {
    /// The process's resident size at the last sample (`None` where the OS does not tell: then
    /// only the store's estimate is bounded).
    pub rss_bytes: Option<u64>,
    /// The estimate the store is held to, when lower than the budget (`None`: the budget itself).
    pub store_target_bytes: Option<u64>,
    /// RSS the controller keeps the process under outside an inbox flood (budget minus headroom).
    pub rss_limit_bytes: u64,
}

impl BudgetReading {
    /// True while the target is below the budget: the process's size, not the store's estimate,
    /// is what evicts history now.
    pub fn enforcing(&self) -> bool {
        self.store_target_bytes.is_some()
    }
}

/// Lowers and raises the store's target from the measured RSS (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct BudgetController {
    reading: BudgetReading,
    /// RSS when the target was last lowered; `None` after a raise or before the first lowering.
    lowered_at_rss_bytes: Option<u64>,
    /// The budget the current target was derived for (a new budget starts afresh).
    budget_bytes: u64,
    next_sample_at_nanos: Option<Nanos>,
    /// The store's estimate at the last sample (or lower, once it shrank).
    sampled_at_store_bytes: u64,
}

impl BudgetController {
    /// A controller that has not sampled yet (the store is held to the budget alone).
    pub fn new() -> Self {
        Self::default()
    }

    /// True when a sample is due at `now_nanos` with the store holding `store_bytes` of a
    /// `budget_bytes` budget: once per [`SAMPLE_INTERVAL_NANOS`], or sooner when the store grew
    /// by a 32nd of the budget. Marks it taken.
    pub fn sample_due(&mut self, now_nanos: Nanos, store_bytes: u64, budget_bytes: u64) -> bool {
        // Growth counts from the lowest point since the last sample (eviction, a cleared store).
        self.sampled_at_store_bytes = self.sampled_at_store_bytes.min(store_bytes);
        // The app's clock is the wall clock: one set back (NTP, a resumed laptop) must not stop
        // the sampling until it has caught up again.
        let time_due = self.next_sample_at_nanos.is_none_or(|next| {
            now_nanos >= next || now_nanos < next.saturating_sub(SAMPLE_INTERVAL_NANOS)
        });
        let growth_due = store_bytes
            > self
                .sampled_at_store_bytes
                .saturating_add(budget_bytes / SAMPLE_GROWTH_DIVISOR);
        if !(time_due || growth_due) {
            return false;
        }
        self.next_sample_at_nanos = Some(now_nanos.saturating_add(SAMPLE_INTERVAL_NANOS));
        self.sampled_at_store_bytes = store_bytes;
        true
    }

    /// The last sample's findings.
    pub fn reading(&self) -> BudgetReading {
        self.reading
    }

    /// Where RSS is not known: no correction, the store is held to the budget alone.
    pub fn update_without_rss(&mut self, budget_bytes: u64) -> BudgetReading {
        self.reset_if_budget_changed(budget_bytes);
        self.reading = BudgetReading {
            rss_bytes: None,
            store_target_bytes: None,
            rss_limit_bytes: budget_bytes,
        };
        self.reading
    }

    /// Takes one sample and returns the new reading; its `store_target_bytes` is what the store
    /// should evict down to (`None`: the budget).
    pub fn update(&mut self, inputs: BudgetInputs) -> BudgetReading {
        self.reset_if_budget_changed(inputs.budget_bytes);
        let budget = inputs.budget_bytes;
        let headroom = inputs
            .inbox_headroom_bytes
            .min(budget / MAX_HEADROOM_DIVISOR);
        let limit = budget - headroom;
        let aim = limit - limit / AIM_MARGIN_DIVISOR;
        let band = budget / BAND_DIVISOR;
        let rss = inputs.rss_bytes.max(1);
        let current = self.reading.store_target_bytes.unwrap_or(budget);
        let mut target = self.reading.store_target_bytes;
        if rss > aim {
            let grew = self
                .lowered_at_rss_bytes
                .is_none_or(|at| rss > at.saturating_add(band));
            if grew {
                // Shrink the store in the proportion the process is over its aim: the rest of the
                // process (overhead per stored byte included) shrinks with it.
                let proposed = scale(inputs.store_bytes, aim, rss);
                target = Some(current.min(proposed).max(budget / FLOOR_DIVISOR));
                self.lowered_at_rss_bytes = Some(rss);
            }
        } else if rss.saturating_add(band) < aim && target.is_some() {
            // Step by step: should the store grow into it, the next samples see RSS rise.
            let raised = current.saturating_add(budget / RAISE_STEP_DIVISOR);
            target = (raised < budget).then_some(raised);
            self.lowered_at_rss_bytes = None;
        }
        self.reading = BudgetReading {
            rss_bytes: Some(inputs.rss_bytes),
            store_target_bytes: target,
            rss_limit_bytes: limit,
        };
        self.reading
    }

    fn reset_if_budget_changed(&mut self, budget_bytes: u64) {
        if self.budget_bytes != budget_bytes {
            self.budget_bytes = budget_bytes;
            self.reading.store_target_bytes = None;
            self.lowered_at_rss_bytes = None;
        }
    }
}

/// `value × numerator / denominator` without overflow (saturating).
fn scale(value: u64, numerator: u64, denominator: u64) -> u64 {
    let scaled = u128::from(value) * u128::from(numerator) / u128::from(denominator.max(1));
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// The inbox's headroom: `capacity_messages` messages of `typical_message_bytes` each.
pub fn inbox_headroom_bytes(capacity_messages: usize, typical_message_bytes: usize) -> u64 {
    (capacity_messages as u64).saturating_mul(typical_message_bytes as u64)
}

/// The inbox capacity to use with `budget_bytes`: the configured one, or fewer messages when a
/// full inbox of typical messages would not fit in the quarter of the budget kept for it (a
/// 64 MiB budget: 32,768 messages), but at least 1,000.
pub fn inbox_capacity_for_budget(configured_messages: usize, budget_bytes: u64) -> usize {
    let fitting = budget_bytes / MAX_HEADROOM_DIVISOR / DEFAULT_MESSAGE_BYTES as u64;
    let fitting = usize::try_from(fitting).unwrap_or(usize::MAX);
    configured_messages.min(fitting.max(MIN_INBOX_CAPACITY_MESSAGES))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const BUDGET: u64 = 512 * MIB;

    fn inputs(rss_mib: u64, store_mib: u64) -> BudgetInputs {
        BudgetInputs {
            budget_bytes: BUDGET,
            inbox_headroom_bytes: 64 * MIB,
            rss_bytes: rss_mib * MIB,
            store_bytes: store_mib * MIB,
        }
    }

    /// RSS the controller aims at for [`inputs`]: (512 − 64) − (512 − 64) / 20.
    fn aim_bytes() -> u64 {
        let limit = BUDGET - 64 * MIB;
        limit - limit / AIM_MARGIN_DIVISOR
    }

    #[test]
    fn below_the_aim_the_store_keeps_the_whole_budget() {
        let mut controller = BudgetController::new();
        let reading = controller.update(inputs(300, 250));
        assert_eq!(reading.store_target_bytes, None);
        assert!(!reading.enforcing());
        assert_eq!(reading.rss_bytes, Some(300 * MIB));
        assert_eq!(reading.rss_limit_bytes, BUDGET - 64 * MIB);
    }

    #[test]
    fn over_the_aim_the_target_shrinks_in_proportion() {
        let mut controller = BudgetController::new();
        let reading = controller.update(inputs(600, 300));
        let expected = 300 * MIB * aim_bytes() / (600 * MIB);
        assert_eq!(reading.store_target_bytes, Some(expected));
        assert!(reading.enforcing());
    }

    #[test]
    fn rss_that_stays_up_after_eviction_does_not_evict_again() {
        // The allocator keeps the freed memory: RSS does not move, the store is at its target.
        let mut controller = BudgetController::new();
        let first = controller.update(inputs(600, 300)).store_target_bytes;
        let target_mib = first.unwrap() / MIB;
        for _ in 0..100 {
            let reading = controller.update(inputs(600, target_mib));
            assert_eq!(reading.store_target_bytes, first, "held, not lowered again");
        }
    }

    #[test]
    fn rss_that_keeps_growing_lowers_the_target_again() {
        let mut controller = BudgetController::new();
        let first = controller
            .update(inputs(450, 300))
            .store_target_bytes
            .unwrap();
        // Growth within the hysteresis band: held.
        let held = controller.update(inputs(450 + 10, first / MIB));
        assert_eq!(held.store_target_bytes, Some(first));
        let lowered = controller.update(inputs(450 + 40, first / MIB));
        assert!(lowered.store_target_bytes.unwrap() < first);
    }

    #[test]
    fn the_target_never_goes_below_the_floor() {
        // A process far over the budget for reasons of its own (a window's textures, say).
        let mut controller = BudgetController::new();
        let mut rss_mib = 2000;
        for _ in 0..50 {
            controller.update(inputs(rss_mib, 200));
            rss_mib += 100;
        }
        assert_eq!(
            controller.reading().store_target_bytes,
            Some(BUDGET / FLOOR_DIVISOR)
        );
    }

    #[test]
    fn room_again_raises_the_target_step_by_step_up_to_the_budget() {
        let mut controller = BudgetController::new();
        let lowered = controller
            .update(inputs(600, 300))
            .store_target_bytes
            .unwrap();
        // RSS fell well below the aim (memory returned to the system).
        let raised = controller.update(inputs(200, lowered / MIB));
        let raised_bytes = raised.store_target_bytes.unwrap();
        assert!(raised_bytes > lowered);
        assert!(raised_bytes <= lowered + BUDGET / RAISE_STEP_DIVISOR);
        let mut reading = raised;
        for _ in 0..100 {
            reading = controller.update(inputs(100, 50));
        }
        assert_eq!(reading.store_target_bytes, None, "back to the budget");
    }

    #[test]
    fn within_the_band_below_the_aim_nothing_changes() {
        let mut controller = BudgetController::new();
        let lowered = controller.update(inputs(600, 300)).store_target_bytes;
        let just_below_aim_mib = aim_bytes() / MIB - 2;
        let reading = controller.update(inputs(just_below_aim_mib, 250));
        assert_eq!(reading.store_target_bytes, lowered);
    }

    #[test]
    fn after_a_raise_the_next_overshoot_lowers_at_once() {
        let mut controller = BudgetController::new();
        controller.update(inputs(900, 400));
        let raised = controller.update(inputs(100, 100)).store_target_bytes;
        // Growth back over the aim, though below the RSS of the first lowering.
        let lowered = controller.update(inputs(aim_bytes() / MIB + 20, 200));
        assert!(lowered.store_target_bytes < raised);
    }

    #[test]
    fn a_new_budget_starts_afresh() {
        let mut controller = BudgetController::new();
        assert!(controller.update(inputs(600, 300)).enforcing());
        let reading = controller.update(BudgetInputs {
            budget_bytes: 2048 * MIB,
            ..inputs(600, 300)
        });
        assert_eq!(reading.store_target_bytes, None);
    }

    #[test]
    fn headroom_is_capped_at_a_quarter_of_the_budget() {
        let mut controller = BudgetController::new();
        let reading = controller.update(BudgetInputs {
            inbox_headroom_bytes: 10 * BUDGET,
            ..inputs(100, 50)
        });
        assert_eq!(
            reading.rss_limit_bytes,
            BUDGET - BUDGET / MAX_HEADROOM_DIVISOR
        );
    }

    #[test]
    fn without_rss_the_budget_alone_applies() {
        let mut controller = BudgetController::new();
        controller.update(inputs(600, 300));
        let reading = controller.update_without_rss(BUDGET);
        assert_eq!(
            reading,
            BudgetReading {
                rss_bytes: None,
                store_target_bytes: None,
                rss_limit_bytes: BUDGET
            }
        );
    }

    #[test]
    fn samples_are_due_once_per_interval_or_when_the_store_grew() {
        let step = BUDGET / SAMPLE_GROWTH_DIVISOR;
        let mut controller = BudgetController::new();
        assert!(controller.sample_due(0, 0, BUDGET));
        assert!(!controller.sample_due(SAMPLE_INTERVAL_NANOS - 1, 10, BUDGET));
        assert!(controller.sample_due(SAMPLE_INTERVAL_NANOS, 10, BUDGET));
        assert!(!controller.sample_due(SAMPLE_INTERVAL_NANOS + 1, 10, BUDGET));
        // A flood: due once the store grew by a 32nd of the budget, whatever the clock says.
        assert!(!controller.sample_due(SAMPLE_INTERVAL_NANOS + 2, 10 + step, BUDGET));
        assert!(controller.sample_due(SAMPLE_INTERVAL_NANOS + 3, 11 + step, BUDGET));
        // Growth counts from the lowest point: a store that shrank and grew again.
        assert!(!controller.sample_due(SAMPLE_INTERVAL_NANOS + 4, 5, BUDGET));
        assert!(controller.sample_due(SAMPLE_INTERVAL_NANOS + 5, 6 + step, BUDGET));
    }

    #[test]
    fn samples_stay_due_once_per_interval_after_the_clock_is_set_back() {
        const HOUR: Nanos = 3_600 * SAMPLE_INTERVAL_NANOS;
        let mut controller = BudgetController::new();
        assert!(controller.sample_due(2 * HOUR, 10, BUDGET));
        // The wall clock steps back an hour (NTP, a resumed laptop): sampling goes on.
        assert!(controller.sample_due(HOUR, 10, BUDGET));
        assert!(!controller.sample_due(HOUR + 1, 10, BUDGET));
        assert!(controller.sample_due(HOUR + SAMPLE_INTERVAL_NANOS, 10, BUDGET));
    }

    #[test]
    fn the_inbox_shrinks_to_fit_a_small_budget_only() {
        assert_eq!(inbox_capacity_for_budget(200_000, 512 * MIB), 200_000);
        assert_eq!(inbox_capacity_for_budget(200_000, 64 * MIB), 32_768);
        assert_eq!(inbox_capacity_for_budget(200_000, 1), 1_000);
        assert_eq!(inbox_capacity_for_budget(500, 1), 500);
    }

    #[test]
    fn inbox_headroom_multiplies_without_overflow() {
        assert_eq!(inbox_headroom_bytes(200_000, 500), 100_000_000);
        assert_eq!(inbox_headroom_bytes(usize::MAX, usize::MAX), u64::MAX);
    }
}
