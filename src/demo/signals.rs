//! The simulated signal generators: daily curves with a random walk, stepping setpoints, lagged
//! followers, random 0/1 states, occupancy-driven loads and meter counters.
//!
//! Every datapoint owns one [`SignalState`] with its own seeded random generator, so a
//! datapoint's series depends only on the seed and on the times it is sampled at.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::building::Signal;
use crate::model::time::Nanos;

const NANOS_PER_SEC: f64 = 1e9;
const SECS_PER_DAY: i64 = 86_400;

/// The building sits in Germany: local time is UTC+1 (daylight saving is ignored on purpose,
/// so the curves never jump).
const LOCAL_OFFSET_SECS: i64 = 3_600;

/// How quickly the random walk of a daily signal returns to its curve.
const DAILY_WALK_TAU_SECS: f64 = 1_800.0;

/// How quickly the fluctuation of a load returns to its occupancy level.
const LOAD_WALK_TAU_SECS: f64 = 60.0;

/// Hour of the day (0.0 ≤ h < 24.0) in the building's local time.
pub fn local_hour(timestamp_nanos: Nanos) -> f64 {
    let local_secs = timestamp_nanos.div_euclid(1_000_000_000) + LOCAL_OFFSET_SECS;
    let nanos_into_second = timestamp_nanos.rem_euclid(1_000_000_000) as f64;
    let secs_into_day =
        local_secs.rem_euclid(SECS_PER_DAY) as f64 + nanos_into_second / NANOS_PER_SEC;
    secs_into_day / 3_600.0
}

/// Day of the week in local time, 0 = Monday … 6 = Sunday.
pub fn local_weekday(timestamp_nanos: Nanos) -> u32 {
    let local_days =
        (timestamp_nanos.div_euclid(1_000_000_000) + LOCAL_OFFSET_SECS).div_euclid(SECS_PER_DAY);
    // 1970-01-01 was a Thursday (index 3).
    (local_days + 3).rem_euclid(7) as u32
}

/// How busy the building is, from 0.15 (night) to 1.0 (weekday office hours); weekends peak
/// at 0.35. Linear ramps in the morning and evening keep loads from jumping.
pub fn occupancy(timestamp_nanos: Nanos) -> f64 {
    let hour = local_hour(timestamp_nanos);
    let peak = if local_weekday(timestamp_nanos) >= 5 {
        0.35
    } else {
        1.0
    };
    let night = 0.15;
    let shape = if !(6.0..19.0).contains(&hour) {
        0.0
    } else if hour < 8.0 {
        (hour - 6.0) / 2.0
    } else if hour < 17.0 {
        1.0
    } else {
        (19.0 - hour) / 2.0
    };
    night + (peak - night) * shape
}

/// A daily cosine curve with its maximum at `peak_hour`.
pub fn daily_curve(mean: f64, amplitude: f64, peak_hour: f64, hour: f64) -> f64 {
    mean + amplitude * (std::f64::consts::TAU * (hour - peak_hour) / 24.0).cos()
}

/// The level a stepping schedule holds at `timestamp_nanos`, shifted by `phase_secs`.
pub fn stepped_level(
    levels: &[f64],
    hold_secs: u32,
    phase_secs: u32,
    timestamp_nanos: Nanos,
) -> f64 {
    let Some(first) = levels.first() else {
        return 0.0;
    };
    let hold = i64::from(hold_secs.max(1));
    let secs = timestamp_nanos.div_euclid(1_000_000_000) + i64::from(phase_secs);
    let slot = secs.div_euclid(hold).rem_euclid(levels.len() as i64);
    levels.get(slot as usize).copied().unwrap_or(*first)
}

/// The evolving state of one datapoint's signal.
#[derive(Debug, Clone)]
pub struct SignalState {
    rng: StdRng,
    /// The last value produced (full precision).
    value: f64,
    /// Deviation of a random walk from its curve (daily and load signals).
    walk: f64,
    /// Shifts stepping schedules so that rooms do not all switch at the same second.
    phase_secs: u32,
    /// A written setpoint that replaces the schedule until relinquished.
    override_value: Option<f64>,
    last_sample_nanos: Option<Nanos>,
}

impl SignalState {
    /// A fresh state; `seed` should differ per datapoint.
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let phase_secs = rng.random_range(0..3_600);
        Self {
            rng,
            value: 0.0,
            walk: 0.0,
            phase_secs,
            override_value: None,
            last_sample_nanos: None,
        }
    }

    /// The last value produced, or `None` before the first sample.
    pub fn last_value(&self) -> Option<f64> {
        self.last_sample_nanos.map(|_| self.value)
    }

    /// The value written by a setpoint command, if any.
    pub fn override_value(&self) -> Option<f64> {
        self.override_value
    }

    /// Makes a stepping signal hold `value` (`Some`) or return to its schedule (`None`).
    pub fn set_override(&mut self, value: Option<f64>) {
        self.override_value = value;
    }

    /// What the signal shows at `timestamp_nanos` without sampling it: for schedules their
    /// level (or override), for everything else the last value produced.
    pub fn current(&self, signal: &Signal, timestamp_nanos: Nanos) -> f64 {
        match signal {
            Signal::Stepped { levels, hold_secs } => self.override_value.unwrap_or_else(|| {
                stepped_level(levels, *hold_secs, self.phase_secs, timestamp_nanos)
            }),
            _ => self.value,
        }
    }

    /// Produces the value at `timestamp_nanos`. `leader_value` is the current value of the
    /// datapoint a [`Signal::Follow`] tracks (ignored by other signals). Samples must come in
    /// time order; a sample older than the previous one is treated as simultaneous.
    pub fn sample(
        &mut self,
        signal: &Signal,
        timestamp_nanos: Nanos,
        leader_value: Option<f64>,
    ) -> f64 {
        let dt_secs = self
            .last_sample_nanos
            .map(|last| timestamp_nanos.saturating_sub(last).max(0) as f64 / NANOS_PER_SEC);
        self.value = match dt_secs {
            None => self.initial(signal, timestamp_nanos, leader_value),
            Some(dt_secs) => self.step(signal, timestamp_nanos, dt_secs, leader_value),
        };
        self.last_sample_nanos = Some(timestamp_nanos);
        self.value
    }

    fn initial(
        &mut self,
        signal: &Signal,
        timestamp_nanos: Nanos,
        leader_value: Option<f64>,
    ) -> f64 {
        match signal {
            Signal::Daily {
                mean,
                amplitude,
                peak_hour,
                min,
                max,
                ..
            } => daily_curve(*mean, *amplitude, *peak_hour, local_hour(timestamp_nanos))
                .clamp(*min, *max),
            Signal::Stepped { .. } => self.current(signal, timestamp_nanos),
            Signal::Follow { offset, .. } => {
                leader_value.unwrap_or(0.0) + offset + self.rng.random_range(-0.5..=0.5)
            }
            Signal::Binary {
                mean_on_secs,
                mean_off_secs,
            } => {
                let on_share = mean_on_secs / (mean_on_secs + mean_off_secs).max(f64::MIN_POSITIVE);
                if self.rng.random_bool(on_share.clamp(0.0, 1.0)) {
                    1.0
                } else {
                    0.0
                }
            }
            Signal::Load { base, peak, .. } => load_level(*base, *peak, timestamp_nanos),
            Signal::Counter { start, .. } => *start,
        }
    }

    fn step(
        &mut self,
        signal: &Signal,
        timestamp_nanos: Nanos,
        dt_secs: f64,
        leader_value: Option<f64>,
    ) -> f64 {
        match signal {
            Signal::Daily {
                mean,
                amplitude,
                peak_hour,
                walk_step,
                min,
                max,
            } => {
                self.walk =
                    self.mean_reverting_walk(self.walk, *walk_step, dt_secs, DAILY_WALK_TAU_SECS);
                let curve = daily_curve(*mean, *amplitude, *peak_hour, local_hour(timestamp_nanos));
                (curve + self.walk).clamp(*min, *max)
            }
            Signal::Stepped { .. } => self.current(signal, timestamp_nanos),
            Signal::Follow {
                offset,
                tau_secs,
                noise,
                ..
            } => {
                let target = leader_value.unwrap_or(self.value) + offset;
                let approach = 1.0 - (-dt_secs / tau_secs.max(1e-3)).exp();
                self.value
                    + (target - self.value) * approach
                    + noise * self.rng.random_range(-1.0..=1.0)
            }
            Signal::Binary {
                mean_on_secs,
                mean_off_secs,
            } => {
                let mean_secs = if self.value >= 0.5 {
                    mean_on_secs
                } else {
                    mean_off_secs
                };
                let flip_probability = 1.0 - (-dt_secs / mean_secs.max(1e-3)).exp();
                let flips = self.rng.random_bool(flip_probability.clamp(0.0, 1.0));
                if flips {
                    1.0 - self.value.round()
                } else {
                    self.value.round()
                }
            }
            Signal::Load { base, peak, noise } => {
                self.walk =
                    self.mean_reverting_walk(self.walk, *noise, dt_secs, LOAD_WALK_TAU_SECS);
                let level = load_level(*base, *peak, timestamp_nanos);
                let ceiling = base.max(*peak) * 1.1;
                // Loads (power, speeds, valve positions) are never negative.
                (level + self.walk).clamp(0.0, ceiling)
            }
            Signal::Counter { rate_per_hour, .. } => {
                let activity = 0.3 + 0.7 * occupancy(timestamp_nanos);
                let jitter = self.rng.random_range(0.8..=1.2);
                self.value + rate_per_hour * dt_secs / 3_600.0 * activity * jitter
            }
        }
    }

    /// One step of a random walk pulled back towards zero with time constant `tau_secs`.
    fn mean_reverting_walk(&mut self, walk: f64, step: f64, dt_secs: f64, tau_secs: f64) -> f64 {
        let decay = (-dt_secs / tau_secs).exp();
        walk * decay + step * dt_secs.sqrt() * self.rng.random_range(-1.0..=1.0)
    }
}

/// The occupancy-driven level of a load between `base` and `peak`.
fn load_level(base: f64, peak: f64, timestamp_nanos: Nanos) -> f64 {
    base + (peak - base) * occupancy(timestamp_nanos)
}

/// Rounds to `decimals` places, the precision the datapoint is published with.
pub fn round_to(value: f64, decimals: u8) -> f64 {
    let factor = 10f64.powi(i32::from(decimals));
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Nanos = 1_000_000_000;
    /// Monday 2024-03-04 00:00 local time (23:00 UTC the day before).
    const MONDAY_MIDNIGHT: Nanos = 1_709_506_800 * SECOND;

    fn sample_series(signal: &Signal, seed: u64, period_secs: i64, count: usize) -> Vec<f64> {
        let mut state = SignalState::new(seed);
        (0..count)
            .map(|i| {
                state.sample(
                    signal,
                    MONDAY_MIDNIGHT + i as i64 * period_secs * SECOND,
                    Some(21.0),
                )
            })
            .collect()
    }

    #[test]
    fn local_hour_and_weekday_follow_the_building_time_zone() {
        assert!((local_hour(MONDAY_MIDNIGHT) - 0.0).abs() < 1e-9);
        assert!(
            (local_hour(MONDAY_MIDNIGHT + 13 * 3_600 * SECOND + 1_800 * SECOND) - 13.5).abs()
                < 1e-9
        );
        assert_eq!(local_weekday(MONDAY_MIDNIGHT), 0);
        assert_eq!(
            local_weekday(MONDAY_MIDNIGHT + 6 * SECS_PER_DAY * SECOND),
            6
        );
    }

    #[test]
    fn occupancy_is_high_on_weekday_afternoons_and_low_at_night_and_weekends() {
        let monday_noon = MONDAY_MIDNIGHT + 12 * 3_600 * SECOND;
        let saturday_noon = monday_noon + 5 * SECS_PER_DAY * SECOND;
        assert!((occupancy(monday_noon) - 1.0).abs() < 1e-9);
        assert!((occupancy(MONDAY_MIDNIGHT + 3 * 3_600 * SECOND) - 0.15).abs() < 1e-9);
        assert!(occupancy(saturday_noon) < 0.5);
    }

    #[test]
    fn the_same_seed_gives_the_same_series_and_another_seed_another() {
        let signal = Signal::Daily {
            mean: 20.0,
            amplitude: 2.0,
            peak_hour: 15.0,
            walk_step: 0.1,
            min: 0.0,
            max: 40.0,
        };
        assert_eq!(
            sample_series(&signal, 7, 10, 100),
            sample_series(&signal, 7, 10, 100)
        );
        assert_ne!(
            sample_series(&signal, 7, 10, 100),
            sample_series(&signal, 8, 10, 100)
        );
    }

    #[test]
    fn a_daily_signal_stays_near_its_curve_and_within_its_limits() {
        let signal = Signal::Daily {
            mean: 20.0,
            amplitude: 5.0,
            peak_hour: 15.0,
            walk_step: 0.05,
            min: 12.0,
            max: 26.0,
        };
        let series = sample_series(&signal, 1, 60, 24 * 60);
        assert!(series.iter().all(|value| (12.0..=26.0).contains(value)));
        let afternoon = series[15 * 60];
        let early_morning = series[3 * 60];
        assert!(
            afternoon > early_morning + 5.0,
            "afternoon {afternoon}, morning {early_morning}"
        );
    }

    #[test]
    fn a_stepped_setpoint_visits_all_levels_and_holds_an_override() {
        let levels = vec![18.0, 19.0, 20.0];
        let signal = Signal::Stepped {
            levels: levels.clone(),
            hold_secs: 60,
        };
        let series = sample_series(&signal, 3, 30, 12);
        for level in &levels {
            assert!(series.contains(level), "{level} missing from {series:?}");
        }
        let mut state = SignalState::new(3);
        state.set_override(Some(23.5));
        assert_eq!(state.sample(&signal, MONDAY_MIDNIGHT, None), 23.5);
        assert_eq!(
            state.sample(&signal, MONDAY_MIDNIGHT + 600 * SECOND, None),
            23.5
        );
        state.set_override(None);
        assert!(levels.contains(&state.sample(&signal, MONDAY_MIDNIGHT + 900 * SECOND, None)));
    }

    #[test]
    fn a_follower_converges_to_its_leader_plus_offset() {
        let signal = Signal::Follow {
            leader: 0,
            offset: -1.0,
            tau_secs: 60.0,
            noise: 0.0,
        };
        let mut state = SignalState::new(5);
        state.sample(&signal, MONDAY_MIDNIGHT, Some(10.0));
        let mut value = 0.0;
        for i in 1..=60 {
            value = state.sample(&signal, MONDAY_MIDNIGHT + i * 10 * SECOND, Some(25.0));
        }
        assert!((value - 24.0).abs() < 0.01, "follower ended at {value}");
    }

    #[test]
    fn a_binary_signal_only_takes_zero_and_one_and_switches() {
        let signal = Signal::Binary {
            mean_on_secs: 60.0,
            mean_off_secs: 60.0,
        };
        let series = sample_series(&signal, 9, 10, 500);
        assert!(series.iter().all(|value| *value == 0.0 || *value == 1.0));
        let switches = series.windows(2).filter(|pair| pair[0] != pair[1]).count();
        assert!(switches > 10, "only {switches} switches");
    }

    #[test]
    fn a_counter_never_decreases_and_grows_at_about_its_rate() {
        let signal = Signal::Counter {
            start: 100.0,
            rate_per_hour: 10.0,
        };
        // Monday 12:00 to 13:00: full occupancy, so about 10 per hour.
        let mut state = SignalState::new(11);
        let noon = MONDAY_MIDNIGHT + 12 * 3_600 * SECOND;
        let mut previous = state.sample(&signal, noon, None);
        for i in 1..=360 {
            let value = state.sample(&signal, noon + i * 10 * SECOND, None);
            assert!(value >= previous);
            previous = value;
        }
        assert!((previous - 110.0).abs() < 1.0, "counter reached {previous}");
    }

    #[test]
    fn a_load_stays_between_zero_and_its_ceiling() {
        let signal = Signal::Load {
            base: 5.0,
            peak: 60.0,
            noise: 2.0,
        };
        let series = sample_series(&signal, 13, 5, 5_000);
        assert!(series.iter().all(|value| (0.0..=66.0).contains(value)));
    }

    #[test]
    fn rounding_keeps_the_published_precision() {
        assert_eq!(round_to(21.456, 1), 21.5);
        assert_eq!(round_to(-0.004, 2), -0.0);
        assert_eq!(round_to(1_254_880.123_45, 3), 1_254_880.123);
    }
}
