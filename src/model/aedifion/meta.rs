//! aedifion metadata messages on `META/<lbg>/<project>` (reference §5.3), decoded in full:
//! `name` identifies a device or datapoint, `objtype` says which (`device`, or a BACnet object
//! type for a datapoint), `source` is the origin of the whole message, and every other
//! top-level key becomes a tag (objtype included, name and source not). Tag values keep their
//! JSON form; [`MetaMessage::tag_text`] gives the text the platform would store.

use serde::Serialize;
use serde_json::{Map, Value};

/// The `objtype` value that marks a device rather than a datapoint.
pub const DEVICE_OBJTYPE: &str = "device";

/// Size above which the newer docs say the platform drops metadata (unconfirmed, [3P]).
pub const MAX_META_BYTES: usize = 1024 * 1024;

/// What a metadata message describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaSubject {
    /// `objtype` is `device`.
    Device,
    /// Any other `objtype`, or none (then a datapoint is the likelier reading).
    Datapoint,
}

/// A decoded metadata message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaMessage {
    /// The device or datapoint described.
    pub name: String,
    /// Device or datapoint, from `objtype`.
    pub subject: MetaSubject,
    /// `objtype` as text, if present.
    pub objtype: Option<String>,
    /// `source` as text (e.g. `BACnet`), if present.
    pub source: Option<String>,
    /// Every top-level key except `name` and `source`, values as written.
    pub tags: Map<String, Value>,
    /// Remarks that do not make the message invalid.
    pub notes: Vec<MetaNote>,
}

impl MetaMessage {
    /// A tag's value as the platform stores it: strings as they are, anything else as JSON.
    pub fn tag_text(&self, key: &str) -> Option<String> {
        self.tags.get(key).map(|value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }

    /// Engineering units, when given and not empty.
    pub fn units(&self) -> Option<String> {
        self.tag_text("units").filter(|units| !units.is_empty())
    }

    /// The human description, when given and not empty.
    pub fn description(&self) -> Option<String> {
        self.tag_text("description").filter(|text| !text.is_empty())
    }
}

/// Something worth showing about a metadata message that the platform still accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum MetaNote {
    /// No `objtype`: the platform cannot tell device from datapoint for sure.
    #[error("no `objtype`: read as a datapoint; write `\"objtype\": \"device\"` for a device")]
    MissingObjtype,
    /// `source` is not a string; kept as JSON text.
    #[error("`source` should be a string such as \"BACnet\"")]
    SourceNotText,
    /// Larger than the 1 MB the newer docs mention.
    #[error("metadata is {size_bytes} bytes; the newer aedifion docs cap it at 1 MB")]
    TooLarge {
        /// The payload size.
        size_bytes: usize,
    },
}

/// Why a payload is not metadata the platform would accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum MetaError {
    /// Not JSON (or not UTF-8).
    #[error("not JSON (line {line}, column {column}): {reason}; metadata is one JSON object")]
    NotJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON reader said.
        reason: String,
    },
    /// JSON but not one object.
    #[error("metadata is one JSON object, this is {found}")]
    NotAnObject {
        /// What it is instead.
        found: &'static str,
    },
    /// No `name`: the platform drops the message silently.
    #[error(
        "`name` is missing: the platform drops metadata it cannot attach to a device or datapoint"
    )]
    MissingName,
    /// `name` is not a string.
    #[error("`name` must be a string (the device or datapoint name), this is {found}")]
    NameNotString {
        /// What it is instead.
        found: &'static str,
    },
}

/// Decodes a metadata payload. Never panics, whatever the bytes.
pub fn parse(payload: &[u8]) -> Result<MetaMessage, MetaError> {
    let document: Value = serde_json::from_slice(payload).map_err(|error| MetaError::NotJson {
        line: error.line(),
        column: error.column(),
        reason: json_reason(&error),
    })?;
    let mut message = parse_value(&document)?;
    if payload.len() > MAX_META_BYTES {
        message.notes.push(MetaNote::TooLarge {
            size_bytes: payload.len(),
        });
    }
    Ok(message)
}

/// Decodes an already parsed JSON document as metadata.
pub fn parse_value(document: &Value) -> Result<MetaMessage, MetaError> {
    let Some(members) = document.as_object() else {
        return Err(MetaError::NotAnObject {
            found: json_kind(document),
        });
    };
    let name = match members.get("name") {
        None => return Err(MetaError::MissingName),
        Some(Value::String(name)) => name.clone(),
        Some(other) => {
            return Err(MetaError::NameNotString {
                found: json_kind(other),
            });
        }
    };
    let mut notes = Vec::new();
    let objtype = members.get("objtype").map(text_of);
    if objtype.is_none() {
        notes.push(MetaNote::MissingObjtype);
    }
    let source = members.get("source").map(|source| {
        if !source.is_string() {
            notes.push(MetaNote::SourceNotText);
        }
        text_of(source)
    });
    let subject = if objtype.as_deref() == Some(DEVICE_OBJTYPE) {
        MetaSubject::Device
    } else {
        MetaSubject::Datapoint
    };
    let tags = members
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "name" | "source"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok(MetaMessage {
        name,
        subject,
        objtype,
        source,
        tags,
        notes,
    })
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// What kind of JSON value this is, for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message without its " at line … column …" suffix (reported separately).
pub(crate) fn json_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datapoint_metadata_keeps_every_other_key_as_a_tag() {
        let message = parse(
            br#"{"name":"AS11","objtype":"trendLog","objinstance":18,"units":"","description":"Trend","source":"BACnet"}"#,
        )
        .unwrap();
        assert_eq!(message.name, "AS11");
        assert_eq!(message.subject, MetaSubject::Datapoint);
        assert_eq!(message.source.as_deref(), Some("BACnet"));
        assert_eq!(
            message.tags.keys().collect::<Vec<_>>(),
            ["description", "objinstance", "objtype", "units"]
        );
        assert_eq!(message.tag_text("objinstance").as_deref(), Some("18"));
        assert_eq!(message.units(), None, "empty units are no units");
        assert_eq!(message.description().as_deref(), Some("Trend"));
        assert!(message.notes.is_empty());
    }

    #[test]
    fn device_metadata_is_recognised_by_objtype() {
        let message = parse(br#"{"name":"AS11","objtype":"device"}"#).unwrap();
        assert_eq!(message.subject, MetaSubject::Device);
        let no_objtype = parse(br#"{"name":"x"}"#).unwrap();
        assert_eq!(no_objtype.subject, MetaSubject::Datapoint);
        assert_eq!(no_objtype.notes, vec![MetaNote::MissingObjtype]);
    }

    #[test]
    fn invalid_metadata_is_refused_with_a_reason() {
        assert!(matches!(
            parse(b"name=RoomTemperature;objtype=analogInput"),
            Err(MetaError::NotJson { line: 1, .. })
        ));
        assert_eq!(
            parse(br#"[{"name":"x"}]"#),
            Err(MetaError::NotAnObject { found: "an array" })
        );
        assert_eq!(
            parse(br#"{"objtype":"analogInput"}"#),
            Err(MetaError::MissingName)
        );
        assert_eq!(
            parse(br#"{"name":42}"#),
            Err(MetaError::NameNotString { found: "a number" })
        );
        assert!(matches!(
            parse(&[0xc3, 0x28]),
            Err(MetaError::NotJson { .. })
        ));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_object_with_a_string_name_is_metadata_with_every_other_key_a_tag(
                name in any::<String>(),
                tags in proptest::collection::btree_map("[a-z]{1,8}", any::<String>(), 0..8),
            ) {
                let mut members: Map<String, Value> =
                    tags.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect();
                members.insert("name".into(), Value::from(name.clone()));
                let text = Value::Object(members.clone()).to_string();
                let message = parse(text.as_bytes()).expect("valid metadata");
                prop_assert_eq!(&message.name, &name);
                members.remove("name");
                members.remove("source");
                prop_assert_eq!(message.tags, members);
            }

            #[test]
            fn parse_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = parse(&bytes);
            }
        }
    }
}
