//! Choosing a payload decoder: automatically (by topic family and payload, reference §5.0) or
//! fixed per topic pattern in the profile ("these topics carry line protocol, whatever they
//! look like"). The matcher is built once per connection and asked once per message on the
//! worker thread.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::topic::filter::{TopicError, TopicFilter};

/// Which decoder to run on a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecoderChoice {
    /// By topic family (`META/…`, `CONTROLS/…`, otherwise time series) and payload.
    #[default]
    Auto,
    /// InfluxDB line protocol.
    Influx,
    /// aedifion's legacy `datapoint;time;value` format.
    Legacy,
    /// JSON (numbers addressable by path) or a plain number with an optional unit.
    Json,
    /// aedifion metadata JSON.
    Meta,
    /// SWOP control message JSON.
    Swop,
}

impl DecoderChoice {
    /// Every choice, in the order a menu shows them.
    pub const ALL: [DecoderChoice; 6] = [
        DecoderChoice::Auto,
        DecoderChoice::Influx,
        DecoderChoice::Legacy,
        DecoderChoice::Json,
        DecoderChoice::Meta,
        DecoderChoice::Swop,
    ];

    /// The name used on the command line and in profile files.
    pub fn name(self) -> &'static str {
        match self {
            DecoderChoice::Auto => "auto",
            DecoderChoice::Influx => "influx",
            DecoderChoice::Legacy => "legacy",
            DecoderChoice::Json => "json",
            DecoderChoice::Meta => "meta",
            DecoderChoice::Swop => "swop",
        }
    }
}

impl fmt::Display for DecoderChoice {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A decoder name that is not one of [`DecoderChoice::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown decoder `{0}`: use auto, influx, legacy, json, meta or swop")]
pub struct UnknownDecoder(pub String);

impl FromStr for DecoderChoice {
    type Err = UnknownDecoder;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DecoderChoice::ALL
            .into_iter()
            .find(|choice| choice.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownDecoder(text.to_owned()))
    }
}

/// One row of a profile's decoder overrides: topics matching `filter` use `format`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecoderOverride {
    /// An MQTT topic filter (`+` and `#` allowed).
    pub filter: String,
    /// The decoder for matching topics.
    pub format: DecoderChoice,
}

impl DecoderOverride {
    /// A row for `filter` with `format`.
    pub fn new(filter: impl Into<String>, format: DecoderChoice) -> DecoderOverride {
        DecoderOverride {
            filter: filter.into(),
            format,
        }
    }
}

/// An override row whose filter is not a valid topic filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("decoder override \"{filter}\": {reason}")]
pub struct OverrideError {
    /// The filter as written.
    pub filter: String,
    /// Why it is not a valid filter.
    pub reason: TopicError,
}

/// The overrides of a profile, ready to match topics. The first matching row wins, so a
/// specific row written above a broad one takes precedence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecoderOverrides {
    rows: Vec<(TopicFilter, DecoderChoice)>,
}

impl DecoderOverrides {
    /// Builds the matcher; every invalid filter is reported and left out, so one typo does not
    /// disable the other rows.
    pub fn new(overrides: &[DecoderOverride]) -> (DecoderOverrides, Vec<OverrideError>) {
        let mut rows = Vec::with_capacity(overrides.len());
        let mut errors = Vec::new();
        // An empty filter is a row still being typed in the profile editor.
        for row in overrides.iter().filter(|row| !row.filter.is_empty()) {
            match TopicFilter::parse(&row.filter) {
                Ok(filter) => rows.push((filter, row.format)),
                Err(reason) => errors.push(OverrideError {
                    filter: row.filter.clone(),
                    reason,
                }),
            }
        }
        (DecoderOverrides { rows }, errors)
    }

    /// Whether there are no rows (then every topic is decoded automatically).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The decoder for `topic`: the first matching row's, else [`DecoderChoice::Auto`].
    pub fn choice_for(&self, topic: &str) -> DecoderChoice {
        self.rows
            .iter()
            .find(|(filter, _)| filter.matches(topic))
            .map_or(DecoderChoice::Auto, |(_, choice)| *choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(rows: &[(&str, DecoderChoice)]) -> DecoderOverrides {
        let rows: Vec<DecoderOverride> = rows
            .iter()
            .map(|(filter, choice)| DecoderOverride::new(*filter, *choice))
            .collect();
        let (matcher, errors) = DecoderOverrides::new(&rows);
        assert!(errors.is_empty(), "{errors:?}");
        matcher
    }

    #[test]
    fn no_rows_means_every_topic_is_automatic() {
        let matcher = matcher(&[]);
        assert!(matcher.is_empty());
        assert_eq!(matcher.choice_for("a/b"), DecoderChoice::Auto);
    }

    #[test]
    fn wildcard_rows_match_like_subscriptions() {
        let matcher = matcher(&[
            ("lbg01/+/legacy", DecoderChoice::Legacy),
            ("plant/#", DecoderChoice::Json),
        ]);
        assert_eq!(matcher.choice_for("lbg01/p1/legacy"), DecoderChoice::Legacy);
        assert_eq!(matcher.choice_for("lbg01/p1/other"), DecoderChoice::Auto);
        assert_eq!(matcher.choice_for("plant"), DecoderChoice::Json);
        assert_eq!(matcher.choice_for("plant/a/b/c"), DecoderChoice::Json);
        assert_eq!(matcher.choice_for("plantation/a"), DecoderChoice::Auto);
    }

    #[test]
    fn the_first_matching_row_wins() {
        let matcher = matcher(&[
            ("a/special", DecoderChoice::Swop),
            ("a/#", DecoderChoice::Influx),
        ]);
        assert_eq!(matcher.choice_for("a/special"), DecoderChoice::Swop);
        assert_eq!(matcher.choice_for("a/ordinary"), DecoderChoice::Influx);
    }

    #[test]
    fn invalid_filters_are_reported_and_skipped() {
        let rows = [
            DecoderOverride::new("a/#/b", DecoderChoice::Json),
            DecoderOverride::new("c/+", DecoderChoice::Meta),
        ];
        let (matcher, errors) = DecoderOverrides::new(&rows);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("a/#/b"), "{}", errors[0]);
        assert_eq!(matcher.choice_for("c/d"), DecoderChoice::Meta);
    }

    #[test]
    fn rows_without_a_filter_are_skipped_without_an_error() {
        let rows = [
            DecoderOverride::new("", DecoderChoice::Json),
            DecoderOverride::new("c/+", DecoderChoice::Meta),
        ];
        let (matcher, errors) = DecoderOverrides::new(&rows);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(matcher.choice_for("c/d"), DecoderChoice::Meta);
    }

    #[test]
    fn choice_names_parse_back_case_insensitively() {
        for choice in DecoderChoice::ALL {
            assert_eq!(choice.name().parse(), Ok(choice));
            assert_eq!(choice.name().to_uppercase().parse(), Ok(choice));
        }
        assert!("xml".parse::<DecoderChoice>().is_err());
    }

    #[test]
    fn a_forced_decoder_wins_over_the_topic_family_and_says_why_it_failed() {
        use crate::model::decode::payload::{Decoded, PayloadFormat};
        let forced = |topic: &str, payload: &str, choice| {
            Decoded::from_payload_as(topic, payload.as_bytes(), choice)
        };
        let meta = r#"{"name":"AHU-1","objtype":"device"}"#;
        assert_eq!(
            forced("a/b", meta, DecoderChoice::Meta).format,
            PayloadFormat::Meta
        );
        assert_eq!(
            forced("META/x", meta, DecoderChoice::Json).format,
            PayloadFormat::Json
        );
        let legacy = "dp;2018-12-20T10:35:01Z;1.5";
        assert_eq!(
            forced("META/x", legacy, DecoderChoice::Legacy).format,
            PayloadFormat::Legacy
        );
        let refused = forced("a/b", "m value=1 1", DecoderChoice::Legacy);
        assert_eq!(refused.format, PayloadFormat::Text);
        assert!(refused.problem().unwrap().contains("legacy"));
        let not_influx = forced("a/b", "21.5 °C", DecoderChoice::Influx);
        assert!(not_influx.problem().unwrap().contains("line protocol"));
        let number = forced("a/b", "21.5 °C", DecoderChoice::Json);
        assert_eq!(
            (number.format, number.values.len()),
            (PayloadFormat::Number, 1)
        );
        assert_eq!(
            forced("a/b", "x", DecoderChoice::Auto),
            Decoded::from_payload("a/b", b"x")
        );
        assert_eq!(
            Decoded::from_payload_as("a/b", &[0xff], DecoderChoice::Json).format,
            PayloadFormat::Binary
        );
    }

    #[test]
    fn overrides_serialise_with_lowercase_format_names() {
        let row = DecoderOverride::new("a/#", DecoderChoice::Legacy);
        let text = toml::to_string(&row).unwrap();
        assert!(text.contains("format = \"legacy\""), "{text}");
        assert_eq!(toml::from_str::<DecoderOverride>(&text).unwrap(), row);
    }
}
