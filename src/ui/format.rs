//! Human-readable numbers for the UI: sizes ("1.2 KiB"), ages ("3 s ago"), durations ("2 min 5 s"),
//! counts ("1,234,567") and clock times. Pure functions, no UI dependency.

use chrono::{DateTime, Local, TimeZone, Utc};

use crate::model::time::Nanos;

const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_MIN: u64 = 60;
const SECS_PER_HOUR: u64 = 60 * SECS_PER_MIN;
const SECS_PER_DAY: u64 = 24 * SECS_PER_HOUR;

/// A byte count with binary units: `0 B`, `999 B`, `1.2 KiB`, `3.4 MiB`, `1.0 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision loss above 2^53 bytes is irrelevant for one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// How long ago something happened, coarsely: `just now`, `3 s ago`, `2 min ago`, `5 h ago`,
/// `3 d ago`. Times in the future (clock adjustments) read as `just now`.
pub fn format_age(age_nanos: i64) -> String {
    if age_nanos < NANOS_PER_SEC {
        return "just now".to_owned();
    }
    let secs = (age_nanos / NANOS_PER_SEC).unsigned_abs();
    if secs < SECS_PER_MIN {
        format!("{secs} s ago")
    } else if secs < SECS_PER_HOUR {
        format!("{} min ago", secs / SECS_PER_MIN)
    } else if secs < SECS_PER_DAY {
        format!("{} h ago", secs / SECS_PER_HOUR)
    } else {
        format!("{} d ago", secs / SECS_PER_DAY)
    }
}

/// [`format_age`] of `then_nanos` as seen at `now_nanos`.
pub fn format_age_since(then_nanos: Nanos, now_nanos: Nanos) -> String {
    format_age(now_nanos.saturating_sub(then_nanos))
}

/// A duration with its two most significant units: `850 ms`, `45 s`, `2 min 5 s`, `1 h 2 min`,
/// `3 d 4 h`. Negative durations read as `0 ms`.
pub fn format_duration_nanos(duration_nanos: i64) -> String {
    if duration_nanos < NANOS_PER_SEC {
        return format!("{} ms", duration_nanos.max(0) / NANOS_PER_MILLI);
    }
    format_duration_secs((duration_nanos / NANOS_PER_SEC).unsigned_abs())
}

/// A duration in whole seconds with its two most significant units (`0 s`, `2 min 5 s`, `1 h`).
pub fn format_duration_secs(duration_secs: u64) -> String {
    let with_rest = |major: u64, major_unit: &str, minor: u64, minor_unit: &str| {
        if minor == 0 {
            format!("{major} {major_unit}")
        } else {
            format!("{major} {major_unit} {minor} {minor_unit}")
        }
    };
    if duration_secs < SECS_PER_MIN {
        format!("{duration_secs} s")
    } else if duration_secs < SECS_PER_HOUR {
        with_rest(
            duration_secs / SECS_PER_MIN,
            "min",
            duration_secs % SECS_PER_MIN,
            "s",
        )
    } else if duration_secs < SECS_PER_DAY {
        with_rest(
            duration_secs / SECS_PER_HOUR,
            "h",
            duration_secs % SECS_PER_HOUR / SECS_PER_MIN,
            "min",
        )
    } else {
        with_rest(
            duration_secs / SECS_PER_DAY,
            "d",
            duration_secs % SECS_PER_DAY / SECS_PER_HOUR,
            "h",
        )
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn format_count(count: u64) -> String {
    let digits = count.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// `HH:MM:SS` in the local time zone (for plot axes and the status bar).
pub fn format_time_of_day_local(at_nanos: Nanos) -> String {
    format_in_zone(at_nanos, &Local, "%H:%M:%S")
}

/// `HH:MM:SS` in UTC.
pub fn format_time_of_day_utc(at_nanos: Nanos) -> String {
    format_in_zone(at_nanos, &Utc, "%H:%M:%S")
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in the local time zone (receive times in the details view).
pub fn format_timestamp_local(at_nanos: Nanos) -> String {
    format_in_zone(at_nanos, &Local, "%Y-%m-%d %H:%M:%S%.3f")
}

/// `YYYY-MM-DD HH:MM:SS.mmmZ` in UTC.
pub fn format_timestamp_utc(at_nanos: Nanos) -> String {
    format_in_zone(at_nanos, &Utc, "%Y-%m-%d %H:%M:%S%.3fZ")
}

fn format_in_zone<Zone>(at_nanos: Nanos, zone: &Zone, pattern: &str) -> String
where
    Zone: TimeZone,
    Zone::Offset: std::fmt::Display,
{
    DateTime::from_timestamp_nanos(at_nanos)
        .with_timezone(zone)
        .format(pattern)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = NANOS_PER_SEC;

    #[test]
    fn bytes_use_binary_units_with_one_decimal() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(format_bytes(1229), "1.2 KiB");
        assert_eq!(format_bytes(5 * 1024 * 1024 + 400 * 1024), "5.4 MiB");
        assert_eq!(format_bytes(1 << 30), "1.0 GiB");
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn ages_pick_one_coarse_unit() {
        assert_eq!(format_age(0), "just now");
        assert_eq!(format_age(-5 * SEC), "just now");
        assert_eq!(format_age(3 * SEC + 999), "3 s ago");
        assert_eq!(format_age(125 * SEC), "2 min ago");
        assert_eq!(format_age(5 * 3600 * SEC), "5 h ago");
        assert_eq!(format_age(3 * 86_400 * SEC), "3 d ago");
        assert_eq!(format_age_since(10 * SEC, 13 * SEC), "3 s ago");
        assert_eq!(format_age_since(i64::MIN, i64::MAX), format_age(i64::MAX));
    }

    #[test]
    fn durations_show_two_units_and_drop_zero_remainders() {
        assert_eq!(format_duration_nanos(850 * NANOS_PER_MILLI), "850 ms");
        assert_eq!(format_duration_nanos(-1), "0 ms");
        assert_eq!(format_duration_secs(45), "45 s");
        assert_eq!(format_duration_secs(125), "2 min 5 s");
        assert_eq!(format_duration_secs(3600), "1 h");
        assert_eq!(format_duration_secs(3720), "1 h 2 min");
        assert_eq!(format_duration_secs(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(format_duration_nanos(61 * SEC), "1 min 1 s");
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(format_count(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn clock_times_format_in_utc() {
        let at_nanos = 1_700_000_000 * SEC + 123 * NANOS_PER_MILLI;
        assert_eq!(format_time_of_day_utc(at_nanos), "22:13:20");
        assert_eq!(format_timestamp_utc(at_nanos), "2023-11-14 22:13:20.123Z");
        assert_eq!(format_time_of_day_local(at_nanos).len(), 8);
        assert!(format_timestamp_local(at_nanos).starts_with("2023-11-1"));
    }
}
