//! aedifion topic families and lenient recognition of their JSON messages: metadata on
//! `META/…` (reference §5.3) and SWOP control messages on `CONTROLS/…` (§5.4). Only what the
//! specification confirms is checked strictly; everything else is shown, not refused.

use serde_json::Value;

/// First topic level of metadata messages.
pub const META_PREFIX: &str = "META";
/// First topic level of SWOP control messages.
pub const CONTROLS_PREFIX: &str = "CONTROLS";

/// Every SWOP message type of protocol version 0.2.
pub const SWOP_MESSAGE_TYPES: [&str; 13] = [
    "NEWSPT",
    "ACKSPT",
    "NEWSCHD",
    "UPSCHD",
    "DELSCHD",
    "ACKSCHD",
    "UPSRTCTRL",
    "ACKUPSRTCTRL",
    "RESETCTRL",
    "ACKRESETCTRL",
    "DELCTRL",
    "ACKDELCTRL",
    "ALIVE",
];

/// The BACnet priorities a setpoint may be written with.
pub const BACNET_PRIORITIES: std::ops::RangeInclusive<i64> = 1..=16;

/// Characters of a SWOP `reference` shown in a preview (a UUID is recognisable by its start).
const REFERENCE_PREVIEW_CHARS: usize = 8;

/// What kind of traffic a topic carries, decided by its first level only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicFamily {
    /// `META/<lbg>/<project>…`: JSON metadata.
    Meta,
    /// `CONTROLS/<lbg>/<project>…`: SWOP JSON.
    Controls,
    /// Anything else, normally `<lbg>/<project>/<postfix>`: line protocol.
    TimeSeries,
}

/// The family of a topic (case-sensitive, like MQTT topics).
pub fn topic_family(topic: &str) -> TopicFamily {
    match topic.split('/').next() {
        Some(META_PREFIX) => TopicFamily::Meta,
        Some(CONTROLS_PREFIX) => TopicFamily::Controls,
        _ => TopicFamily::TimeSeries,
    }
}

/// The interesting keys of a metadata message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaSummary {
    /// The device or datapoint the message describes.
    pub name: Option<String>,
    /// `device`, or the BACnet object type of a datapoint (`analogInput`, `trendLog`, …).
    pub objtype: Option<String>,
    /// Engineering units, when given.
    pub units: Option<String>,
    /// Origin of the metadata, e.g. `BACnet`.
    pub source: Option<String>,
    /// Why the platform would drop it, if it would.
    pub problem: Option<MetaProblem>,
}

/// Why the platform would drop a metadata message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaProblem {
    #[error("metadata without `name` is dropped by the platform")]
    MissingName,
    #[error("metadata `name` must be a string")]
    NameNotString,
}

/// Summarises a metadata message; `None` when it is not a JSON object (the platform refuses it).
pub fn summarize_meta(document: &Value) -> Option<MetaSummary> {
    let members = document.as_object()?;
    let problem = match members.get("name") {
        None => Some(MetaProblem::MissingName),
        Some(Value::String(_)) => None,
        Some(_) => Some(MetaProblem::NameNotString),
    };
    Some(MetaSummary {
        name: members.get("name").map(scalar_text),
        objtype: members.get("objtype").map(scalar_text),
        units: members
            .get("units")
            .map(scalar_text)
            .filter(|units| !units.is_empty()),
        source: members.get("source").map(scalar_text),
        problem,
    })
}

impl MetaSummary {
    /// One line like `name=AS11 objtype=device units=degC`.
    pub fn preview(&self) -> String {
        let mut parts = Vec::with_capacity(3);
        for (label, value) in [
            ("name", &self.name),
            ("objtype", &self.objtype),
            ("units", &self.units),
        ] {
            if let Some(value) = value {
                parts.push(format!("{label}={value}"));
            }
        }
        if self.name.is_none() {
            parts.push("(no name)".to_owned());
        }
        parts.join(" ")
    }
}

/// What a SWOP message says, as far as a preview and correlation need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SwopSummary {
    /// The `type` code as written.
    pub message_type: String,
    /// `swop_version`, normalised to text (`0.1` written as a number becomes `"0.1"`).
    pub swop_version: Option<String>,
    /// Issuer-side id that correlates requests with acknowledgements.
    pub reference: Option<String>,
    /// Target datapoint.
    pub datapoint: Option<String>,
    /// The value to write, as text (strings quoted).
    pub value: Option<String>,
    /// BACnet write priority.
    pub priority: Option<i64>,
    /// Acknowledgement outcome: `state` (`written`, `failed`, …) or `success`.
    pub outcome: Option<String>,
}

/// Summarises a SWOP message for its one-line preview: `None` unless it is a JSON object with a
/// string `type`. Whether it is valid is for [`crate::model::aedifion::swop::parse_value`] to say.
pub fn recognize_swop(document: &Value) -> Option<SwopSummary> {
    let members = document.as_object()?;
    let message_type = members.get("type")?.as_str()?.to_owned();
    Some(SwopSummary {
        swop_version: members.get("swop_version").and_then(version_text),
        reference: members.get("reference").map(scalar_text),
        datapoint: members.get("datapoint").map(scalar_text),
        value: members.get("value").map(value_text),
        priority: members.get("priority").and_then(Value::as_i64),
        outcome: members
            .get("state")
            .or_else(|| members.get("success"))
            .map(scalar_text),
        message_type,
    })
}

impl SwopSummary {
    /// One line like `NEWSPT datapoint=RTs value=20.5 prio 13` or `ACKSPT ref=0cce300f… state=written`.
    pub fn preview(&self) -> String {
        let mut parts = vec![self.message_type.clone()];
        if let Some(datapoint) = &self.datapoint {
            parts.push(format!("datapoint={datapoint}"));
        }
        if let Some(value) = &self.value {
            parts.push(format!("value={value}"));
        }
        if let Some(priority) = self.priority {
            parts.push(format!("prio {priority}"));
        }
        let is_request = self.datapoint.is_some() || self.value.is_some();
        if let (Some(reference), false) = (&self.reference, is_request) {
            parts.push(format!(
                "ref={}",
                abbreviate(reference, REFERENCE_PREVIEW_CHARS)
            ));
        }
        if let Some(outcome) = &self.outcome {
            parts.push(format!("state={outcome}"));
        }
        parts.join(" ")
    }
}

/// Text of a string without quotes, of anything else as compact JSON.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Like [`scalar_text`] but strings keep their quotes, so `"20.5"` and `20.5` differ.
fn value_text(value: &Value) -> String {
    value.to_string()
}

fn version_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn abbreviate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn topic_family_looks_at_the_first_level_only() {
        assert_eq!(topic_family("META/lbg01/proj"), TopicFamily::Meta);
        assert_eq!(topic_family("META"), TopicFamily::Meta);
        assert_eq!(topic_family("CONTROLS/lbg01/proj/x"), TopicFamily::Controls);
        assert_eq!(topic_family("lbg01/META/x"), TopicFamily::TimeSeries);
        assert_eq!(topic_family("meta/lbg01"), TopicFamily::TimeSeries);
        assert_eq!(topic_family(""), TopicFamily::TimeSeries);
    }

    #[test]
    fn meta_summary_picks_name_objtype_and_units() {
        let summary = summarize_meta(&json(
            r#"{"name":"AS11","objtype":"device","units":"degC","source":"BACnet"}"#,
        ))
        .unwrap();
        assert_eq!(summary.preview(), "name=AS11 objtype=device units=degC");
        assert_eq!(summary.source.as_deref(), Some("BACnet"));
        assert_eq!(summary.problem, None);
    }

    #[test]
    fn meta_without_a_string_name_is_flagged() {
        let missing = summarize_meta(&json(r#"{"objtype":"analogInput"}"#)).unwrap();
        assert_eq!(missing.problem, Some(MetaProblem::MissingName));
        assert_eq!(missing.preview(), "objtype=analogInput (no name)");
        let number = summarize_meta(&json(r#"{"name":42}"#)).unwrap();
        assert_eq!(number.problem, Some(MetaProblem::NameNotString));
        assert!(summarize_meta(&json(r#"[{"name":"x"}]"#)).is_none());
    }

    #[test]
    fn newspt_preview_shows_datapoint_value_and_priority() {
        let summary = recognize_swop(&json(
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":20.5,"priority":13,"reference":"0cce300f-6b9e"}"#,
        ))
        .unwrap();
        assert_eq!(summary.preview(), "NEWSPT datapoint=RTs value=20.5 prio 13");
    }

    #[test]
    fn acknowledgement_preview_shows_reference_and_state() {
        let summary = recognize_swop(&json(r#"{"type":"ACKSPT","swop_version":"0.2","reference":"0cce300f-6b9e","state":"written"}"#)).unwrap();
        assert_eq!(summary.preview(), "ACKSPT ref=0cce300f… state=written");
    }

    #[test]
    fn numeric_swop_version_is_accepted_and_normalised() {
        let summary = recognize_swop(&json(
            r#"{"type":"NEWSPT","swop_version":0.1,"datapoint":"x","value":1}"#,
        ))
        .unwrap();
        assert_eq!(summary.swop_version.as_deref(), Some("0.1"));
    }

    #[test]
    fn json_without_a_string_type_is_not_swop() {
        assert!(recognize_swop(&json(r#"{"swop_version":"0.2"}"#)).is_none());
        assert!(recognize_swop(&json(r#"{"type":1}"#)).is_none());
        assert!(recognize_swop(&json(r#"[{"type":"NEWSPT"}]"#)).is_none());
    }
}
