//! Plot series: numbers over time in a bounded ring, decimated (min/max per bucket) for drawing.
//!
//! Points are kept sorted by time: a late point (payload timestamps can arrive out of order) is
//! inserted where it belongs instead of drawing a zig-zag. When full, the oldest point goes.

use std::collections::VecDeque;

use crate::model::decode::payload::{ExtractedValue, ValueKey};
use crate::model::time::Nanos;

/// Which clock a point's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum TimeSource {
    /// Time written in the payload, falling back to receipt time.
    #[default]
    Payload,
    /// When the message arrived.
    Arrival,
}

/// One plotted number over time.
#[derive(Debug)]
pub struct Series {
    /// Topic path the values come from.
    pub topic: String,
    /// Which value of the payload is plotted.
    pub key: ValueKey,
    /// Shown in the legend.
    pub label: String,
    /// Which clock a point's time comes from.
    pub time_source: TimeSource,
    /// Sorted by time, oldest first.
    points: VecDeque<(Nanos, f64)>,
    capacity_points: usize,
    dropped_points: u64,
}

impl Series {
    /// An empty series of `key` on `topic`, holding at most `capacity_points` (at least one).
    pub fn new(
        topic: &str,
        key: ValueKey,
        time_source: TimeSource,
        capacity_points: usize,
    ) -> Self {
        Self {
            label: series_label(topic, &key),
            topic: topic.to_owned(),
            key,
            time_source,
            points: VecDeque::new(),
            capacity_points: capacity_points.max(1),
            dropped_points: 0,
        }
    }

    /// Number of points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no point is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maximum number of points held.
    pub fn capacity_points(&self) -> usize {
        self.capacity_points
    }

    /// Points dropped because the ring was full.
    pub fn dropped_points(&self) -> u64 {
        self.dropped_points
    }

    /// Changes the capacity, dropping the oldest points if it shrank.
    pub fn set_capacity_points(&mut self, capacity_points: usize) {
        self.capacity_points = capacity_points.max(1);
        while self.points.len() > self.capacity_points {
            self.points.pop_front();
            self.dropped_points += 1;
        }
    }

    /// All points, oldest first.
    pub fn points(&self) -> impl Iterator<Item = (Nanos, f64)> + '_ {
        self.points.iter().copied()
    }

    /// Time of the oldest and the newest point.
    pub fn time_range(&self) -> Option<(Nanos, Nanos)> {
        Some((self.points.front()?.0, self.points.back()?.0))
    }

    /// Removes every point.
    pub fn clear(&mut self) {
        self.points.clear();
    }

    /// Adds the value extracted from a message received at `received_at_nanos`, timed by
    /// [`Series::time_source`]. Returns false if the point was older than everything in a full ring.
    pub fn push_value(&mut self, value: &ExtractedValue, received_at_nanos: Nanos) -> bool {
        let at_nanos = match self.time_source {
            TimeSource::Payload => value.timestamp_nanos.unwrap_or(received_at_nanos),
            TimeSource::Arrival => received_at_nanos,
        };
        self.push(at_nanos, value.value)
    }

    /// Adds a point, keeping time order; drops the oldest when full. Returns false (and counts it
    /// as dropped) if the ring is full and the point is older than all it holds.
    ///
    /// A point at a time already held replaces that point's value: a re-sent reading (same
    /// payload timestamp) must not draw a vertical zig-zag.
    pub fn push(&mut self, at_nanos: Nanos, value: f64) -> bool {
        if self
            .points
            .back()
            .is_some_and(|&(last, _)| at_nanos <= last)
        {
            let index = self.points.partition_point(|&(t, _)| t < at_nanos);
            if let Some(point) = self.points.get_mut(index)
                && point.0 == at_nanos
            {
                point.1 = value;
                return true;
            }
        }
        let full = self.points.len() >= self.capacity_points;
        match self.points.back() {
            Some(&(last_nanos, _)) if at_nanos < last_nanos => {
                let index = self.points.partition_point(|&(t, _)| t <= at_nanos);
                if full && index == 0 {
                    self.dropped_points += 1;
                    return false;
                }
                self.points.insert(index, (at_nanos, value));
            }
            _ => self.points.push_back((at_nanos, value)),
        }
        if full {
            self.points.pop_front();
            self.dropped_points += 1;
        }
        true
    }

    /// Points with `from <= t <= to`, reduced to at most about `max_points` by keeping the min and
    /// max of each bucket, as `[seconds since epoch, value]` ready for egui_plot.
    pub fn decimated(&self, from: Nanos, to: Nanos, max_points: usize) -> Vec<[f64; 2]> {
        if from > to || max_points == 0 {
            return Vec::new();
        }
        let start = self.points.partition_point(|&(t, _)| t < from);
        let end = self.points.partition_point(|&(t, _)| t <= to);
        let in_range = self.points.range(start..end);
        if in_range.len() <= max_points {
            return in_range.map(|&(t, v)| plot_point(t, v)).collect();
        }
        decimate_min_max(in_range, from, to, (max_points / 2).max(1))
    }

    /// Time and value of the newest point.
    pub fn last(&self) -> Option<(Nanos, f64)> {
        self.points.back().copied()
    }
}

/// The legend label of a series: the topic path, then which value (nothing for a whole payload).
pub fn series_label(topic: &str, key: &ValueKey) -> String {
    match key {
        ValueKey::Whole => topic.to_owned(),
        ValueKey::JsonPath(path) => format!("{topic} {path}"),
        ValueKey::InfluxField { measurement, field } => format!("{topic} {measurement}.{field}"),
    }
}

fn plot_point(at_nanos: Nanos, value: f64) -> [f64; 2] {
    [at_nanos as f64 / 1e9, value]
}

/// Min and max of equal-width time buckets, each pair in time order, empty buckets skipped.
fn decimate_min_max<'a>(
    points: impl Iterator<Item = &'a (Nanos, f64)>,
    from: Nanos,
    to: Nanos,
    bucket_count: usize,
) -> Vec<[f64; 2]> {
    // i128 so that the full i64 range cannot overflow the span or the index computation.
    let span_nanos = i128::from(to) - i128::from(from) + 1;
    let buckets = bucket_count as i128;
    let mut output = Vec::with_capacity(bucket_count * 2);
    let mut current: Option<(i128, Extremes)> = None;
    for &(t, v) in points {
        let bucket = (i128::from(t) - i128::from(from)) * buckets / span_nanos;
        match &mut current {
            Some((index, extremes)) if *index == bucket => extremes.include(t, v),
            _ => {
                if let Some((_, extremes)) = current.take() {
                    extremes.write_to(&mut output);
                }
                current = Some((bucket, Extremes::new(t, v)));
            }
        }
    }
    if let Some((_, extremes)) = current {
        extremes.write_to(&mut output);
    }
    output
}

/// The lowest and highest point of a bucket (first occurrence wins ties).
#[derive(Debug, Clone, Copy)]
struct Extremes {
    min: (Nanos, f64),
    max: (Nanos, f64),
}

impl Extremes {
    fn new(at_nanos: Nanos, value: f64) -> Self {
        Self {
            min: (at_nanos, value),
            max: (at_nanos, value),
        }
    }

    fn include(&mut self, at_nanos: Nanos, value: f64) {
        if value < self.min.1 {
            self.min = (at_nanos, value);
        }
        if value > self.max.1 {
            self.max = (at_nanos, value);
        }
    }

    fn write_to(self, output: &mut Vec<[f64; 2]>) {
        let (first, second) = if self.min.0 <= self.max.0 {
            (self.min, self.max)
        } else {
            (self.max, self.min)
        };
        output.push(plot_point(first.0, first.1));
        if second != first {
            output.push(plot_point(second.0, second.1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Nanos = 1_000_000_000;

    #[test]
    fn a_point_at_a_time_already_held_replaces_its_value() {
        let mut series = Series::new("t", ValueKey::Whole, TimeSource::Payload, 10);
        for (at, value) in [(1, 1.0), (3, 3.0), (3, 30.0), (1, 10.0), (2, 2.0)] {
            series.push(at * SEC, value);
        }
        assert_eq!(
            series.points().collect::<Vec<_>>(),
            [(SEC, 10.0), (2 * SEC, 2.0), (3 * SEC, 30.0)]
        );
    }

    fn series(capacity: usize) -> Series {
        Series::new("a/b", ValueKey::Whole, TimeSource::Payload, capacity)
    }

    fn times(series: &Series) -> Vec<Nanos> {
        series.points().map(|(t, _)| t).collect()
    }

    #[test]
    fn late_points_are_inserted_in_time_order() {
        let mut s = series(10);
        for t in [1, 3, 5, 2, 4, 0, 5] {
            s.push(t * SEC, t as f64);
        }
        // The second point at 5 s replaces the first (same value here).
        assert_eq!(times(&s), [0, 1, 2, 3, 4, 5].map(|t| t * SEC));
        assert_eq!(s.last(), Some((5 * SEC, 5.0)));
    }

    #[test]
    fn a_full_ring_drops_the_oldest_point() {
        let mut s = series(3);
        for t in 0..5 {
            s.push(t, t as f64);
        }
        assert_eq!(times(&s), [2, 3, 4]);
        assert_eq!(s.dropped_points(), 2);
        assert!(!s.push(1, 1.0), "older than everything in a full ring");
        assert!(s.push(3, 3.5));
        assert_eq!(times(&s), [2, 3, 4], "same time replaces, nothing dropped");
        assert_eq!(s.points().nth(1), Some((3, 3.5)));
    }

    #[test]
    fn payload_time_falls_back_to_arrival_time() {
        let mut s = series(10);
        let stamped = ExtractedValue {
            key: ValueKey::Whole,
            value: 1.0,
            timestamp_nanos: Some(7 * SEC),
        };
        let unstamped = ExtractedValue {
            key: ValueKey::Whole,
            value: 2.0,
            timestamp_nanos: None,
        };
        s.push_value(&stamped, 100 * SEC);
        s.push_value(&unstamped, 9 * SEC);
        assert_eq!(times(&s), [7 * SEC, 9 * SEC]);
        let mut arrival = Series::new("a", ValueKey::Whole, TimeSource::Arrival, 10);
        arrival.push_value(&stamped, 100 * SEC);
        assert_eq!(times(&arrival), [100 * SEC]);
    }

    #[test]
    fn decimation_returns_everything_in_range_when_small() {
        let mut s = series(100);
        for t in 0..10 {
            s.push(t * SEC, t as f64);
        }
        let points = s.decimated(2 * SEC, 4 * SEC, 100);
        assert_eq!(points, vec![[2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]);
        assert!(s.decimated(5 * SEC, 4 * SEC, 100).is_empty());
        assert!(s.decimated(0, 9 * SEC, 0).is_empty());
    }

    #[test]
    fn decimation_keeps_min_and_max_of_each_bucket_in_time_order() {
        let mut s = series(10_000);
        // A spike and a dip hidden among 1000 flat points must survive decimation.
        for t in 0..1000 {
            let value = match t {
                250 => 100.0,
                750 => -100.0,
                _ => 0.0,
            };
            s.push(t * SEC, value);
        }
        let points = s.decimated(0, 999 * SEC, 20);
        assert!(points.len() <= 20, "{} points", points.len());
        assert!(points.iter().any(|p| p[1] == 100.0));
        assert!(points.iter().any(|p| p[1] == -100.0));
        assert!(points.windows(2).all(|w| w[0][0] <= w[1][0]), "time order");
    }

    #[test]
    fn decimation_survives_the_extremes_of_time() {
        let mut s = series(100);
        for (index, t) in [Nanos::MIN, -1, 0, 1, Nanos::MAX].into_iter().enumerate() {
            s.push(t, index as f64);
        }
        let points = s.decimated(Nanos::MIN, Nanos::MAX, 2);
        assert!(!points.is_empty() && points.len() <= 4);
    }

    #[test]
    fn shrinking_capacity_drops_the_oldest() {
        let mut s = series(10);
        for t in 0..10 {
            s.push(t, 0.0);
        }
        s.set_capacity_points(4);
        assert_eq!(times(&s), [6, 7, 8, 9]);
        assert_eq!(s.time_range(), Some((6, 9)));
    }

    #[test]
    fn labels_name_the_topic_and_the_value() {
        assert_eq!(series_label("a/b", &ValueKey::Whole), "a/b");
        assert_eq!(
            series_label("a/b", &ValueKey::JsonPath("x.y[1]".into())),
            "a/b x.y[1]"
        );
        let influx = ValueKey::InfluxField {
            measurement: "Temp".into(),
            field: "value".into(),
        };
        assert_eq!(series_label("a/b", &influx), "a/b Temp.value");
    }
}
