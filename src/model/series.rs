//! Plot series: numbers over time in a bounded ring, decimated (min/max per bucket) for drawing.
//! OWNER: model-core helper.

use super::message::Nanos;
use super::payload::ValueKey;

/// Which clock a point's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum TimeSource {
    /// Time written in the payload, falling back to receipt time.
    #[default]
    Payload,
    /// When the message arrived.
    Arrival,
}

#[derive(Debug)]
pub struct Series {
    /// Topic path the values come from.
    pub topic: String,
    pub key: ValueKey,
    /// Shown in the legend.
    pub label: String,
    pub time_source: TimeSource,
}

impl Series {
    /// Number of points held.
    pub fn len(&self) -> usize {
        todo!()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Points with `from <= t <= to`, reduced to at most about `max_points` by keeping the min and
    /// max of each bucket, as `[seconds since epoch, value]` ready for egui_plot.
    pub fn decimated(&self, from: Nanos, to: Nanos, max_points: usize) -> Vec<[f64; 2]> {
        let _ = (from, to, max_points);
        todo!()
    }
    /// Time and value of the newest point.
    pub fn last(&self) -> Option<(Nanos, f64)> {
        todo!()
    }
}
