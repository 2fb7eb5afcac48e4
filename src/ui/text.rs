//! Small text helpers the panels need beyond [`crate::ui::format`]: plot-axis times, safe
//! truncation, and when an age text next changes (so the UI repaints only then).

use crate::model::time::Nanos;
use crate::ui::format::format_time_of_day_local;

const NANOS_PER_SEC: Nanos = 1_000_000_000;

/// `HH:MM:SS` (local time) for a plot axis value in seconds since the epoch.
pub fn clock_time_of_secs(secs: f64) -> String {
    if !secs.is_finite() {
        return String::new();
    }
    // Clamp: the plot can be zoomed out to absurd ranges; the conversion must not overflow.
    let nanos = (secs.clamp(-1e10, 1e10) * 1e9) as Nanos;
    format_time_of_day_local(nanos)
}

/// Nanoseconds until the text of [`crate::ui::format::format_age`] for `elapsed_nanos`
/// changes: the next whole second, minute, hour or day.
pub fn age_text_changes_in_nanos(elapsed_nanos: Nanos) -> Nanos {
    let elapsed = elapsed_nanos.max(0);
    let step = match elapsed / NANOS_PER_SEC {
        0..60 => NANOS_PER_SEC,
        60..3600 => 60 * NANOS_PER_SEC,
        3600..86_400 => 3600 * NANOS_PER_SEC,
        _ => 86_400 * NANOS_PER_SEC,
    };
    step - elapsed % step
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a char boundary.
pub fn prefix_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_text_changes_at_the_next_unit_boundary() {
        assert_eq!(
            age_text_changes_in_nanos(NANOS_PER_SEC / 4),
            NANOS_PER_SEC * 3 / 4
        );
        assert_eq!(
            age_text_changes_in_nanos(90 * NANOS_PER_SEC),
            30 * NANOS_PER_SEC
        );
        assert_eq!(age_text_changes_in_nanos(-5), NANOS_PER_SEC);
    }

    #[test]
    fn prefix_never_splits_a_multibyte_character() {
        let text = "aä€";
        assert_eq!(prefix_at_char_boundary(text, 2), "a");
        assert_eq!(prefix_at_char_boundary(text, 3), "aä");
        assert_eq!(prefix_at_char_boundary(text, 100), text);
    }

    #[test]
    fn axis_time_of_nonsense_values_is_empty_or_bounded() {
        assert_eq!(clock_time_of_secs(f64::NAN), "");
        assert_eq!(clock_time_of_secs(1e300).len(), 8);
    }
}
