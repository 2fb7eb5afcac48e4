//! Reconnect delays: capped exponential backoff with jitter.
//!
//! 0.5 s, 1 s, 2 s … doubling up to 30 s; each delay is shortened by a random 0–25 % so that many
//! clients cut off by the same broker restart do not all come back in the same instant.
//!
//! A connection resets it only once it has stayed up for [`STABLE_AFTER`]: one that fails right
//! after its CONNACK (another client with the same client id, a retained packet over the size
//! limit, a topic that is not UTF-8) keeps backing off instead of reconnecting, and
//! re-downloading every retained message, twice a second forever.

use std::time::{Duration, Instant};

/// First reconnect delay.
pub const INITIAL_DELAY: Duration = Duration::from_millis(500);
/// Longest reconnect delay.
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// How long a connection must stay up before a loss starts the backoff over.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Largest fraction taken off a delay at random.
const MAX_JITTER_FRACTION: f64 = 0.25;

/// Reconnect delay generator.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
    /// When the current connection came up, if one is up.
    connected_at: Option<Instant>,
}

impl Backoff {
    /// A backoff whose next delay is [`INITIAL_DELAY`] (minus jitter).
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts over.
    pub fn reset(&mut self) {
        self.failures = 0;
        self.connected_at = None;
    }

    /// A connection came up at `now` (CONNACK accepted).
    pub fn on_connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
    }

    /// A connection (or an attempt) failed at `now`: starts over if the connection had stayed
    /// up for [`STABLE_AFTER`], then returns the delay before the next attempt.
    pub fn next_delay_after_failure(&mut self, now: Instant) -> Duration {
        if let Some(connected_at) = self.connected_at.take()
            && now.saturating_duration_since(connected_at) >= STABLE_AFTER
        {
            self.failures = 0;
        }
        self.next_delay()
    }

    /// The delay before the next attempt, with random jitter.
    pub fn next_delay(&mut self) -> Duration {
        let jitter_fraction = rand::random::<f64>() * MAX_JITTER_FRACTION;
        self.next_delay_with_jitter(jitter_fraction)
    }

    /// The delay before the next attempt, shortened by `jitter_fraction` (clamped to 0–0.25).
    pub fn next_delay_with_jitter(&mut self, jitter_fraction: f64) -> Duration {
        let nominal = self.nominal_delay();
        self.failures = self.failures.saturating_add(1);
        let kept_fraction = 1.0 - jitter_fraction.clamp(0.0, MAX_JITTER_FRACTION);
        nominal.mul_f64(kept_fraction)
    }

    /// `INITIAL_DELAY * 2^failures`, capped at `MAX_DELAY`.
    fn nominal_delay(&self) -> Duration {
        // 2^6 * 0.5 s = 32 s is already past the cap; stop doubling there to avoid overflow.
        let doublings = self.failures.min(6);
        INITIAL_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_half_a_second_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let delays: Vec<_> = (0..9)
            .map(|_| backoff.next_delay_with_jitter(0.0))
            .collect();
        let secs: Vec<f64> = delays.iter().map(Duration::as_secs_f64).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
    }

    #[test]
    fn reset_starts_again_at_the_initial_delay() {
        let mut backoff = Backoff::new();
        for _ in 0..5 {
            backoff.next_delay_with_jitter(0.0);
        }
        backoff.reset();
        assert_eq!(backoff.next_delay_with_jitter(0.0), INITIAL_DELAY);
    }

    #[test]
    fn a_connection_lost_soon_after_connecting_keeps_backing_off() {
        let start = Instant::now();
        let mut backoff = Backoff::new();
        let mut nominal = Vec::new();
        for attempt in 0..4u32 {
            let connected = start + Duration::from_secs(u64::from(attempt) * 40);
            backoff.on_connected(connected);
            let delay = backoff.next_delay_after_failure(connected + Duration::from_secs(1));
            nominal.push(delay.as_secs_f64() / INITIAL_DELAY.as_secs_f64());
        }
        // Jitter takes off up to 25 %: 1, 2, 4, 8 times the first delay, less.
        for (index, factor) in nominal.iter().enumerate() {
            let expected = f64::from(1u32 << index);
            assert!(
                *factor <= expected && *factor >= expected * 0.75,
                "{nominal:?}"
            );
        }
    }

    #[test]
    fn a_connection_that_stayed_up_starts_the_backoff_over() {
        let start = Instant::now();
        let mut backoff = Backoff::new();
        for _ in 0..5 {
            backoff.next_delay_with_jitter(0.0);
        }
        backoff.on_connected(start);
        let delay = backoff.next_delay_after_failure(start + STABLE_AFTER);
        assert!(delay <= INITIAL_DELAY, "{delay:?}");
    }

    #[test]
    fn jitter_only_shortens_and_is_clamped() {
        let mut backoff = Backoff::new();
        assert_eq!(
            backoff.next_delay_with_jitter(0.25),
            Duration::from_millis(375)
        );
        assert_eq!(
            backoff.next_delay_with_jitter(5.0),
            Duration::from_millis(750)
        );
        assert_eq!(backoff.next_delay_with_jitter(-1.0), Duration::from_secs(2));
    }

    #[test]
    fn random_delays_stay_within_jitter_bounds() {
        let mut backoff = Backoff::new();
        let first = backoff.next_delay();
        assert!(
            first >= INITIAL_DELAY.mul_f64(0.75) && first <= INITIAL_DELAY,
            "{first:?}"
        );
        for _ in 0..100 {
            let delay = backoff.next_delay();
            assert!(delay <= MAX_DELAY, "{delay:?}");
        }
        let capped = backoff.next_delay();
        assert!(capped >= MAX_DELAY.mul_f64(0.75), "{capped:?}");
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut backoff = Backoff {
            failures: u32::MAX,
            connected_at: None,
        };
        assert_eq!(backoff.next_delay_with_jitter(0.0), MAX_DELAY);
    }
}
