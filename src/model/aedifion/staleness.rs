//! Staleness of a datapoint: when it was last seen and how often it usually publishes.
//!
//! The typical interval is learned from arrival times as the median of the last
//! [`REMEMBERED_GAPS`] gaps between publications; a median ignores the odd outage or double send.
//! Gaps shorter than [`BURST_GAP_NANOS`] are not gaps but members of one burst (a meter that
//! buffers readings and flushes them in quick succession), so they are not recorded. Until
//! [`MIN_GAPS_FOR_ESTIMATE`] gaps are known, a `logInterval` from the metadata stands in.
//!
//! A datapoint is stale when it has not been seen for longer than
//! `max(STALE_FACTOR × interval, STALE_FLOOR_NANOS)`. Times are passed in, never read from a
//! clock, so the rules are deterministic under test.

use crate::model::time::Nanos;

const NANOS_PER_SEC: Nanos = 1_000_000_000;
const NANOS_PER_MILLI: Nanos = 1_000_000;

/// Gaps between publications kept for the running median.
pub const REMEMBERED_GAPS: usize = 8;
/// Gaps needed before the learned interval replaces the metadata's.
pub const MIN_GAPS_FOR_ESTIMATE: usize = 3;
/// Arrivals closer together than this belong to one burst and do not count as a gap.
pub const BURST_GAP_NANOS: Nanos = NANOS_PER_SEC;
/// A datapoint is stale after this many typical intervals of silence…
pub const STALE_FACTOR: Nanos = 3;
/// …but never after less than this (fast datapoints jitter by more than their interval).
pub const STALE_FLOOR_NANOS: Nanos = 10 * NANOS_PER_SEC;

/// Whether a datapoint is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Seen once and no interval known from metadata: nothing to judge by yet.
    Unknown,
    /// Seen within its expected silence.
    Fresh,
    /// Not seen for longer than its expected silence.
    Stale,
}

/// Arrival history of one datapoint, O(1) per observation and a few dozen bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Arrival time of the newest observation (0 before the first).
    pub last_seen_nanos: Nanos,
    /// Messages that carried this datapoint.
    pub observations: u64,
    /// Ring of the newest gaps between publications, in milliseconds (small: one per datapoint).
    gaps_millis: [u32; REMEMBERED_GAPS],
    /// Gaps recorded so far, saturating (the ring holds the newest `min(gap_count, REMEMBERED_GAPS)`).
    gap_count: u32,
}

impl Activity {
    /// Records a message carrying the datapoint that arrived at `received_at_nanos`.
    pub fn record(&mut self, received_at_nanos: Nanos) {
        if self.observations > 0 {
            let gap = received_at_nanos - self.last_seen_nanos;
            if gap >= BURST_GAP_NANOS {
                let millis = u32::try_from(gap / NANOS_PER_MILLI).unwrap_or(u32::MAX);
                self.gaps_millis[self.gap_count as usize % REMEMBERED_GAPS] = millis;
                // Past the ring's size only the position modulo the ring matters.
                self.gap_count = match self.gap_count.checked_add(1) {
                    Some(count) => count,
                    None => REMEMBERED_GAPS as u32,
                };
            }
        }
        self.observations += 1;
        self.last_seen_nanos = self.last_seen_nanos.max(received_at_nanos);
    }

    /// The median of the remembered gaps, once there are enough of them.
    pub fn learned_interval_nanos(&self) -> Option<Nanos> {
        let held = (self.gap_count as usize).min(REMEMBERED_GAPS);
        if held < MIN_GAPS_FOR_ESTIMATE {
            return None;
        }
        let mut gaps = self.gaps_millis;
        let gaps = &mut gaps[..held];
        gaps.sort_unstable();
        Some(Nanos::from(gaps[held / 2]) * NANOS_PER_MILLI)
    }

    /// The learned interval, else `fallback_interval_nanos` (e.g. the metadata's `logInterval`).
    pub fn interval_nanos(&self, fallback_interval_nanos: Option<Nanos>) -> Option<Nanos> {
        self.learned_interval_nanos().or(fallback_interval_nanos)
    }

    /// Time since the datapoint was last seen (0 if never, or if the clock went back).
    pub fn age_nanos(&self, now_nanos: Nanos) -> Nanos {
        if self.observations == 0 {
            return 0;
        }
        (now_nanos - self.last_seen_nanos).max(0)
    }

    /// Whether the datapoint is overdue at `now_nanos`, given its interval (learned or from
    /// metadata, see [`Activity::interval_nanos`]).
    pub fn staleness(&self, interval_nanos: Option<Nanos>, now_nanos: Nanos) -> Staleness {
        if self.observations == 0 || (interval_nanos.is_none() && self.observations < 2) {
            return Staleness::Unknown;
        }
        if self.age_nanos(now_nanos) > stale_after_nanos(interval_nanos) {
            Staleness::Stale
        } else {
            Staleness::Fresh
        }
    }
}

/// The silence after which a datapoint with this interval counts as stale.
pub fn stale_after_nanos(interval_nanos: Option<Nanos>) -> Nanos {
    interval_nanos
        .unwrap_or(0)
        .saturating_mul(STALE_FACTOR)
        .max(STALE_FLOOR_NANOS)
}

/// A BACnet trend log's `logInterval` in nanoseconds.
///
/// BACnet (ASHRAE 135, Trend Log object, `Log_Interval`) gives the interval in **hundredths of a
/// second**, so the reference's `"logInterval": "6000"` is one minute, the usual trend period.
/// Accepts a number or numeric text; zero, negative or unreadable values give `None`.
pub fn log_interval_nanos(text: &str) -> Option<Nanos> {
    let centiseconds: f64 = text.trim().parse().ok()?;
    if !centiseconds.is_finite() || centiseconds <= 0.0 {
        return None;
    }
    let nanos = centiseconds * 1e7;
    (nanos < i64::MAX as f64).then_some(nanos as Nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Nanos = NANOS_PER_SEC;

    fn activity_at(times_secs: &[i64]) -> Activity {
        let mut activity = Activity::default();
        for &at in times_secs {
            activity.record(at * SEC);
        }
        activity
    }

    #[test]
    fn the_interval_is_the_median_of_recent_gaps() {
        let activity = activity_at(&[0, 5, 10, 15, 80, 85, 90]);
        assert_eq!(activity.learned_interval_nanos(), Some(5 * SEC));
        assert_eq!(activity.last_seen_nanos, 90 * SEC);
        assert_eq!(activity.observations, 7);
    }

    #[test]
    fn too_few_gaps_fall_back_to_the_metadata_interval() {
        let activity = activity_at(&[0, 60]);
        assert_eq!(activity.learned_interval_nanos(), None);
        assert_eq!(activity.interval_nanos(Some(30 * SEC)), Some(30 * SEC));
        let activity = activity_at(&[0, 60, 120, 180]);
        assert_eq!(activity.interval_nanos(Some(30 * SEC)), Some(60 * SEC));
    }

    #[test]
    fn burst_members_are_not_gaps() {
        // Five readings flushed within a second, every minute.
        let mut times = Vec::new();
        for minute in 0..5 {
            for member in 0..5 {
                times.push(minute * 60 * SEC + member * 100_000_000);
            }
        }
        let mut activity = Activity::default();
        for at in times {
            activity.record(at);
        }
        let interval = activity.learned_interval_nanos().unwrap();
        assert!((59 * SEC..=60 * SEC).contains(&interval), "{interval}");
    }

    #[test]
    fn staleness_uses_three_intervals_with_a_floor() {
        let activity = activity_at(&[0, 60, 120, 180]);
        let interval = activity.interval_nanos(None);
        assert_eq!(activity.staleness(interval, 359 * SEC), Staleness::Fresh);
        assert_eq!(activity.staleness(interval, 361 * SEC), Staleness::Stale);
        let fast = activity_at(&[0, 1, 2, 3]);
        let interval = fast.interval_nanos(None);
        assert_eq!(fast.staleness(interval, 12 * SEC), Staleness::Fresh);
        assert_eq!(fast.staleness(interval, 14 * SEC), Staleness::Stale);
    }

    #[test]
    fn a_single_sighting_without_metadata_is_not_judged() {
        let activity = activity_at(&[0]);
        assert_eq!(activity.staleness(None, 3600 * SEC), Staleness::Unknown);
        assert_eq!(
            activity.staleness(Some(60 * SEC), 3600 * SEC),
            Staleness::Stale
        );
        assert_eq!(
            Activity::default().staleness(Some(SEC), SEC),
            Staleness::Unknown
        );
    }

    #[test]
    fn log_interval_is_read_in_hundredths_of_a_second() {
        assert_eq!(log_interval_nanos("6000"), Some(60 * SEC));
        assert_eq!(log_interval_nanos(" 150 "), Some(1_500_000_000));
        assert_eq!(log_interval_nanos("0"), None);
        assert_eq!(log_interval_nanos("-5"), None);
        assert_eq!(log_interval_nanos("often"), None);
        assert_eq!(log_interval_nanos("1e300"), None);
    }
}
