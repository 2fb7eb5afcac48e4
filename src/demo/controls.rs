//! The demo edge device's side of SWOP: recognising `NEWSPT` requests on `CONTROLS/…`,
//! building `ACKSPT` answers, and remembering answers by `reference` so that a repeated
//! request (the issuer's retry after a lost ACK) gets the same answer without a second write.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

/// SWOP version the simulator speaks and writes into its answers.
pub const SWOP_VERSION: &str = "0.2";

/// BACnet priority used when a request names none (the aedifion default).
pub const DEFAULT_PRIORITY: u8 = 13;

/// How many answers are remembered for duplicate detection.
pub const REMEMBERED_ACKS: usize = 1_024;

/// The value a `NEWSPT` asks to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RequestedValue {
    /// Write this number.
    Number(f64),
    /// The string `null`: release the priority slot, the schedule takes over again.
    Relinquish,
}

/// A well-formed `NEWSPT`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetpointRequest {
    pub datapoint: String,
    pub value: RequestedValue,
    pub priority: u8,
    pub acknowledge: bool,
    pub dry_run: bool,
    pub reference: Option<String>,
}

/// What a message on the controls topic means to the receiver.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlMessage {
    /// Nothing to do: not JSON, another SWOP type, or an acknowledgement (ours included).
    Ignored,
    /// A setpoint request to validate and carry out.
    Setpoint(SetpointRequest),
    /// A `NEWSPT` that cannot be carried out as sent; answered with a failed `ACKSPT` when it
    /// asked for an acknowledgement.
    Malformed {
        reference: Option<String>,
        acknowledge: bool,
        reason: String,
    },
}

/// Reads a payload received on `CONTROLS/…`. Never panics, whatever the bytes.
pub fn classify(payload: &[u8]) -> ControlMessage {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(payload) else {
        return ControlMessage::Ignored;
    };
    if object.get("type").and_then(Value::as_str) != Some("NEWSPT") {
        return ControlMessage::Ignored;
    }
    let reference = reference_of(&object);
    let acknowledge = object
        .get("acknowledge")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match setpoint_request(&object, reference.clone(), acknowledge) {
        Ok(request) => ControlMessage::Setpoint(request),
        Err(reason) => ControlMessage::Malformed {
            reference,
            acknowledge,
            reason,
        },
    }
}

/// The `reference` as a string; numbers are accepted and written as text.
fn reference_of(object: &Map<String, Value>) -> Option<String> {
    match object.get("reference")? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn setpoint_request(
    object: &Map<String, Value>,
    reference: Option<String>,
    acknowledge: bool,
) -> Result<SetpointRequest, String> {
    match object.get("swop_version") {
        Some(Value::String(_) | Value::Number(_)) => {}
        Some(_) => return Err("swop_version must be a string such as \"0.2\"".to_owned()),
        None => return Err("swop_version is missing; send \"swop_version\": \"0.2\"".to_owned()),
    }
    let datapoint = match object.get("datapoint") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        Some(_) => return Err("datapoint must be a non-empty string".to_owned()),
        None => return Err("datapoint is missing: name the datapoint to write".to_owned()),
    };
    let value = requested_value(object.get("value"))?;
    let priority = match object.get("priority") {
        None | Some(Value::Null) => DEFAULT_PRIORITY,
        Some(Value::Number(number)) => number
            .as_u64()
            .filter(|priority| (1..=16).contains(priority))
            .and_then(|priority| u8::try_from(priority).ok())
            .ok_or_else(|| {
                format!("priority {number} is not a BACnet priority (an integer 1 to 16)")
            })?,
        Some(other) => {
            return Err(format!(
                "priority {other} is not a BACnet priority (an integer 1 to 16)"
            ));
        }
    };
    let dry_run = object
        .get("dry_run")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(SetpointRequest {
        datapoint,
        value,
        priority,
        acknowledge,
        dry_run,
        reference,
    })
}

fn requested_value(value: Option<&Value>) -> Result<RequestedValue, String> {
    match value {
        None => Err("value is missing: send the number to write".to_owned()),
        Some(Value::Number(number)) => number
            .as_f64()
            .filter(|value| value.is_finite())
            .map(RequestedValue::Number)
            .ok_or_else(|| format!("value {number} is not a finite number")),
        Some(Value::String(text)) if text == "null" => Ok(RequestedValue::Relinquish),
        Some(Value::String(text)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .map(RequestedValue::Number)
            .ok_or_else(|| format!("value \"{text}\" is not a number (or \"null\" to relinquish)")),
        Some(other) => Err(format!(
            "value {other} cannot be written: the demo's writable datapoints are analog setpoints, send a number"
        )),
    }
}

/// The resulting state of a setpoint operation as an `ACKSPT` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetpointState {
    /// The value was written.
    Written,
    /// A dry run passed validation; nothing was written.
    Validated,
    /// Refused or failed.
    Failed,
}

impl SetpointState {
    /// The spelling in the `state` field.
    pub fn as_str(self) -> &'static str {
        match self {
            SetpointState::Written => "written",
            SetpointState::Validated => "validated",
            SetpointState::Failed => "failed",
        }
    }
}

/// The outcome of one setpoint request, ready to be written as an `ACKSPT`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetpointOutcome {
    pub state: SetpointState,
    /// A sentence for the user.
    pub message: String,
    /// Extra facts (previous value, priority), as SWOP's free-form `detail`.
    pub detail: Option<Value>,
}

impl SetpointOutcome {
    /// A refusal with a message that says what to change.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            state: SetpointState::Failed,
            message: message.into(),
            detail: None,
        }
    }
}

/// Writes the `ACKSPT` JSON for `outcome`. A dry run that passed reports `success: true` with
/// `state: "validated"` and `dry_run: true`, since nothing was written.
pub fn ackspt_json(reference: Option<&str>, outcome: &SetpointOutcome) -> String {
    let mut ack = json!({
        "type": "ACKSPT",
        "swop_version": SWOP_VERSION,
        "reference": reference,
        "success": outcome.state != SetpointState::Failed,
        "state": outcome.state.as_str(),
        "message": outcome.message,
    });
    if let Value::Object(fields) = &mut ack {
        if outcome.state == SetpointState::Validated {
            fields.insert("dry_run".to_owned(), Value::Bool(true));
        }
        if let Some(detail) = &outcome.detail {
            fields.insert("detail".to_owned(), detail.clone());
        }
    }
    ack.to_string()
}

/// The last [`REMEMBERED_ACKS`] answers by reference, oldest forgotten first.
#[derive(Debug, Default)]
pub struct AckLog {
    order: VecDeque<String>,
    acks: HashMap<String, String>,
}

impl AckLog {
    /// The answer given earlier to `reference`, if remembered.
    pub fn answer_for(&self, reference: &str) -> Option<&str> {
        self.acks.get(reference).map(String::as_str)
    }

    /// Remembers `ack` as the answer to `reference`.
    pub fn remember(&mut self, reference: &str, ack: String) {
        if self.acks.insert(reference.to_owned(), ack).is_none() {
            self.order.push_back(reference.to_owned());
        }
        while self.order.len() > REMEMBERED_ACKS {
            if let Some(oldest) = self.order.pop_front() {
                self.acks.remove(&oldest);
            }
        }
    }

    /// Number of remembered answers.
    pub fn len(&self) -> usize {
        self.acks.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.acks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = r#"{"type": "NEWSPT", "swop_version": "0.2", "datapoint": "bacnet100-4120-Real-room-temperature-setpoint-RTs_real",
        "value": 20.5, "priority": 13, "acknowledge": true, "dry_run": false, "reference": "0cce300f-6b9e-447d-ae29-0e7125e2fa36"}"#;

    #[test]
    fn the_canonical_newspt_is_a_setpoint_request() {
        let ControlMessage::Setpoint(request) = classify(CANONICAL.as_bytes()) else {
            panic!("not a setpoint request");
        };
        assert_eq!(
            request.datapoint,
            "bacnet100-4120-Real-room-temperature-setpoint-RTs_real"
        );
        assert_eq!(request.value, RequestedValue::Number(20.5));
        assert_eq!(request.priority, 13);
        assert!(request.acknowledge);
        assert!(!request.dry_run);
        assert_eq!(
            request.reference.as_deref(),
            Some("0cce300f-6b9e-447d-ae29-0e7125e2fa36")
        );
    }

    #[test]
    fn acknowledgements_other_types_and_garbage_are_ignored() {
        for payload in [
            r#"{"type":"ACKSPT","swop_version":"0.2","reference":"r","success":true}"#,
            r#"{"type":"NEWSCHD","swop_version":"0.2"}"#,
            r#"{"type":"newspt","swop_version":"0.2","datapoint":"x","value":1}"#,
            "[1,2,3]",
            "not json",
        ] {
            assert_eq!(
                classify(payload.as_bytes()),
                ControlMessage::Ignored,
                "{payload}"
            );
        }
        assert_eq!(classify(&[0xff, 0xfe, 0x00]), ControlMessage::Ignored);
    }

    #[test]
    fn a_numeric_swop_version_and_a_numeric_string_value_are_accepted() {
        let payload = r#"{"type":"NEWSPT","swop_version":0.1,"datapoint":"x","value":"21.5"}"#;
        let ControlMessage::Setpoint(request) = classify(payload.as_bytes()) else {
            panic!("not accepted");
        };
        assert_eq!(request.value, RequestedValue::Number(21.5));
        assert_eq!(request.priority, DEFAULT_PRIORITY);
        assert!(!request.acknowledge);
    }

    #[test]
    fn the_string_null_relinquishes() {
        let payload = r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":"null"}"#;
        let ControlMessage::Setpoint(request) = classify(payload.as_bytes()) else {
            panic!("not accepted");
        };
        assert_eq!(request.value, RequestedValue::Relinquish);
    }

    #[test]
    fn malformed_requests_keep_reference_and_acknowledge_and_say_why() {
        let cases = [
            (
                r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","acknowledge":true,"reference":"a"}"#,
                "value is missing",
            ),
            (
                r#"{"type":"NEWSPT","datapoint":"x","value":1,"acknowledge":true,"reference":"a"}"#,
                "swop_version is missing",
            ),
            (
                r#"{"type":"NEWSPT","swop_version":"0.2","value":1,"acknowledge":true,"reference":"a"}"#,
                "datapoint is missing",
            ),
            (
                r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":1,"priority":17,"acknowledge":true,"reference":"a"}"#,
                "priority 17",
            ),
            (
                r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":true,"acknowledge":true,"reference":"a"}"#,
                "send a number",
            ),
            (
                r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":"warm","acknowledge":true,"reference":"a"}"#,
                "not a number",
            ),
        ];
        for (payload, expected) in cases {
            let ControlMessage::Malformed {
                reference,
                acknowledge,
                reason,
            } = classify(payload.as_bytes())
            else {
                panic!("{payload} was not malformed");
            };
            assert_eq!(reference.as_deref(), Some("a"));
            assert!(acknowledge);
            assert!(
                reason.contains(expected),
                "{reason} should contain {expected}"
            );
        }
    }

    #[test]
    fn an_ack_carries_reference_success_state_and_message() {
        let outcome = SetpointOutcome {
            state: SetpointState::Written,
            message: "Wrote 20.5".to_owned(),
            detail: Some(json!({"priority": 13})),
        };
        let ack: Value = serde_json::from_str(&ackspt_json(Some("r1"), &outcome)).unwrap();
        assert_eq!(ack["type"], "ACKSPT");
        assert_eq!(ack["swop_version"], SWOP_VERSION);
        assert_eq!(ack["reference"], "r1");
        assert_eq!(ack["success"], true);
        assert_eq!(ack["state"], "written");
        assert_eq!(ack["detail"]["priority"], 13);
        let failed: Value =
            serde_json::from_str(&ackspt_json(None, &SetpointOutcome::failed("no"))).unwrap();
        assert_eq!(failed["success"], false);
        assert_eq!(failed["state"], "failed");
        assert!(failed["reference"].is_null());
    }

    #[test]
    fn the_ack_log_answers_repeats_and_forgets_the_oldest_beyond_its_capacity() {
        let mut log = AckLog::default();
        log.remember("first", "ack-1".to_owned());
        assert_eq!(log.answer_for("first"), Some("ack-1"));
        for i in 0..REMEMBERED_ACKS {
            log.remember(&format!("r{i}"), format!("ack {i}"));
        }
        assert_eq!(log.len(), REMEMBERED_ACKS);
        assert_eq!(log.answer_for("first"), None);
        assert_eq!(log.answer_for("r0"), Some("ack 0"));
    }
}
