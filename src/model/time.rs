//! Points in time: every time in the model is nanoseconds since the Unix epoch (UTC).

/// Nanoseconds since the Unix epoch (UTC). Used for every point in time in the model.
pub type Nanos = i64;

/// The current wall-clock time in nanoseconds since the Unix epoch.
pub fn now_nanos() -> Nanos {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
}
