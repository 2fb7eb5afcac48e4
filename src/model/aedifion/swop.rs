//! SWOP control messages (aedifion reference §5.4): the one place that decides whether a SWOP
//! message is valid. Used by the decoder (`topicscope decode`, the explorer) and by whoever
//! builds setpoint requests, so both sides agree.
//!
//! What the specification confirms is checked strictly: one JSON object, `type` one of the 13
//! upper-case codes, `swop_version` present (a string; a number is accepted and normalised, with a
//! note), and the complete NEWSPT field table. The field tables of the other twelve types are not
//! published, so those are decoded leniently: the envelope is checked, well-known fields are
//! picked out, and every other field is kept and shown.

use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::model::aedifion::family::{BACNET_PRIORITIES, SWOP_MESSAGE_TYPES};
use crate::model::aedifion::meta::{json_kind, json_reason};

/// The SWOP version TopicScope writes.
pub const SWOP_VERSION: &str = "0.2";

/// The BACnet priority the aedifion API uses when none is given.
pub const DEFAULT_PRIORITY: u8 = 13;

/// Every field of the NEWSPT table, in the order [`NewSetpoint::to_json`] writes them.
pub const NEWSPT_FIELDS: [&str; 8] = [
    "type",
    "swop_version",
    "datapoint",
    "value",
    "priority",
    "acknowledge",
    "dry_run",
    "reference",
];

/// The 13 SWOP message types of protocol version 0.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SwopType {
    /// `NEWSPT`: write one setpoint (issuer → edge).
    Newspt,
    /// `ACKSPT`: outcome of a setpoint (edge → issuer).
    Ackspt,
    /// `NEWSCHD`: create a schedule.
    Newschd,
    /// `UPSCHD`: change an active schedule.
    Upschd,
    /// `DELSCHD`: stop and delete a schedule.
    Delschd,
    /// `ACKSCHD`: outcome of a schedule operation.
    Ackschd,
    /// `UPSRTCTRL`: insert or update a controls app.
    Upsrtctrl,
    /// `ACKUPSRTCTRL`: acknowledgement of UPSRTCTRL.
    Ackupsrtctrl,
    /// `RESETCTRL`: write a controls app's reset values.
    Resetctrl,
    /// `ACKRESETCTRL`: acknowledgement of RESETCTRL.
    Ackresetctrl,
    /// `DELCTRL`: delete a controls app.
    Delctrl,
    /// `ACKDELCTRL`: acknowledgement of DELCTRL.
    Ackdelctrl,
    /// `ALIVE`: heartbeat of the service running a controls app.
    Alive,
}

impl SwopType {
    /// Every type, in the order of the specification's table.
    pub const ALL: [SwopType; 13] = [
        SwopType::Newspt,
        SwopType::Ackspt,
        SwopType::Newschd,
        SwopType::Upschd,
        SwopType::Delschd,
        SwopType::Ackschd,
        SwopType::Upsrtctrl,
        SwopType::Ackupsrtctrl,
        SwopType::Resetctrl,
        SwopType::Ackresetctrl,
        SwopType::Delctrl,
        SwopType::Ackdelctrl,
        SwopType::Alive,
    ];

    /// The code as written in the `type` field, e.g. `NEWSPT`.
    pub fn code(self) -> &'static str {
        // ALL and SWOP_MESSAGE_TYPES are in the same order (a test checks it).
        let index = SwopType::ALL
            .iter()
            .position(|candidate| *candidate == self)
            .unwrap_or(0);
        SWOP_MESSAGE_TYPES[index]
    }

    /// The type for an exact (upper-case) code.
    pub fn from_code(code: &str) -> Option<SwopType> {
        let index = SWOP_MESSAGE_TYPES
            .iter()
            .position(|candidate| *candidate == code)?;
        SwopType::ALL.get(index).copied()
    }

    /// Whether this is an acknowledgement sent by the edge device (`ACK…`).
    pub fn is_acknowledgement(self) -> bool {
        self.code().starts_with("ACK")
    }
}

/// A decoded SWOP message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SwopMessage {
    /// `NEWSPT`, strictly validated.
    NewSetpoint(NewSetpoint),
    /// Any `ACK…` type: the outcome the edge device reports.
    Acknowledgement(Acknowledgement),
    /// Any other type, decoded leniently.
    Other(OtherMessage),
}

impl SwopMessage {
    /// The message's type.
    pub fn message_type(&self) -> SwopType {
        match self {
            SwopMessage::NewSetpoint(_) => SwopType::Newspt,
            SwopMessage::Acknowledgement(ack) => ack.message_type,
            SwopMessage::Other(other) => other.message_type,
        }
    }

    /// The issuer's operation id that ties requests and acknowledgements together.
    pub fn reference(&self) -> Option<&str> {
        match self {
            SwopMessage::NewSetpoint(setpoint) => setpoint.reference.as_deref(),
            SwopMessage::Acknowledgement(ack) => ack.reference.as_deref(),
            SwopMessage::Other(other) => other.reference.as_deref(),
        }
    }

    /// Remarks of the lenient decoding that do not make the message invalid.
    pub fn notes(&self) -> &[SwopNote] {
        match self {
            SwopMessage::NewSetpoint(setpoint) => &setpoint.notes,
            SwopMessage::Acknowledgement(ack) => &ack.notes,
            SwopMessage::Other(other) => &other.notes,
        }
    }

    /// `swop_version`, as text.
    pub fn swop_version(&self) -> &str {
        match self {
            SwopMessage::NewSetpoint(setpoint) => &setpoint.swop_version,
            SwopMessage::Acknowledgement(ack) => &ack.swop_version,
            SwopMessage::Other(other) => &other.swop_version,
        }
    }
}

/// A value to write: the NEWSPT table allows a boolean, an integer, a float or a string.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SetpointValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer or a float, exactly as written.
    Number(Number),
    /// A string; `"null"` relinquishes the priority slot on BACnet.
    Text(String),
}

impl SetpointValue {
    /// A float value; `None` for NaN or infinity, which JSON cannot carry.
    pub fn float(value: f64) -> Option<SetpointValue> {
        Number::from_f64(value).map(SetpointValue::Number)
    }

    /// The value as a number for plotting: booleans as 0/1, numbers as themselves, strings
    /// only when they are a plain number with a decimal point.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            SetpointValue::Bool(flag) => Some(f64::from(u8::from(*flag))),
            SetpointValue::Number(number) => number.as_f64(),
            SetpointValue::Text(text) => text.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
        }
    }

    fn to_json_value(&self) -> Value {
        match self {
            SetpointValue::Bool(flag) => Value::Bool(*flag),
            SetpointValue::Number(number) => Value::Number(number.clone()),
            SetpointValue::Text(text) => Value::String(text.clone()),
        }
    }
}

impl std::fmt::Display for SetpointValue {
    /// JSON text: strings keep their quotes, so `"20.5"` and `20.5` are told apart.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}", self.to_json_value())
    }
}

/// A NEWSPT request (reference §5.4.2), every field of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewSetpoint {
    /// Protocol version, e.g. `0.2`.
    pub swop_version: String,
    /// The datapoint to write.
    pub datapoint: String,
    /// The value to write.
    pub value: SetpointValue,
    /// BACnet write priority (1 to 16), if given.
    pub priority: Option<u8>,
    /// Whether the receiver must answer with ACKSPT (`None`: absent, meaning false).
    pub acknowledge: Option<bool>,
    /// Validate only, do not write (`None`: absent, meaning false).
    pub dry_run: Option<bool>,
    /// The issuer's operation id (the API uses UUIDs).
    pub reference: Option<String>,
    /// Vendor extension fields (`x-…`), kept as written.
    pub extensions: Map<String, Value>,
    /// Things worth a warning that do not make the message invalid.
    pub notes: Vec<SwopNote>,
}

impl NewSetpoint {
    /// A request with the current version and no optional fields.
    pub fn new(datapoint: impl Into<String>, value: SetpointValue) -> NewSetpoint {
        NewSetpoint {
            swop_version: SWOP_VERSION.to_owned(),
            datapoint: datapoint.into(),
            value,
            priority: None,
            acknowledge: None,
            dry_run: None,
            reference: None,
            extensions: Map::new(),
            notes: Vec::new(),
        }
    }

    /// Checks the request against the NEWSPT table, as [`parse`] would after sending it.
    pub fn validate(&self) -> Result<(), SwopError> {
        parse_value(&self.to_json_value()).map(|_| ())
    }

    /// The message as compact JSON, fields in table order, `swop_version` always a string.
    pub fn to_json(&self) -> String {
        // Written by hand: serde_json's map is sorted, and readers expect the table order.
        let mut members: Vec<(&str, Value)> = vec![
            ("type", Value::from(SwopType::Newspt.code())),
            ("swop_version", Value::from(self.swop_version.clone())),
            ("datapoint", Value::from(self.datapoint.clone())),
            ("value", self.value.to_json_value()),
        ];
        if let Some(priority) = self.priority {
            members.push(("priority", Value::from(priority)));
        }
        if let Some(acknowledge) = self.acknowledge {
            members.push(("acknowledge", Value::from(acknowledge)));
        }
        if let Some(dry_run) = self.dry_run {
            members.push(("dry_run", Value::from(dry_run)));
        }
        if let Some(reference) = &self.reference {
            members.push(("reference", Value::from(reference.clone())));
        }
        for (key, value) in &self.extensions {
            members.push((key, value.clone()));
        }
        let body: Vec<String> = members
            .iter()
            .map(|(key, value)| format!("{}:{value}", Value::from(*key)))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    fn to_json_value(&self) -> Value {
        let mut members = Map::new();
        members.insert("type".into(), Value::from(SwopType::Newspt.code()));
        members.insert(
            "swop_version".into(),
            Value::from(self.swop_version.clone()),
        );
        members.insert("datapoint".into(), Value::from(self.datapoint.clone()));
        members.insert("value".into(), self.value.to_json_value());
        if let Some(priority) = self.priority {
            members.insert("priority".into(), Value::from(priority));
        }
        if let Some(acknowledge) = self.acknowledge {
            members.insert("acknowledge".into(), Value::from(acknowledge));
        }
        if let Some(dry_run) = self.dry_run {
            members.insert("dry_run".into(), Value::from(dry_run));
        }
        if let Some(reference) = &self.reference {
            members.insert("reference".into(), Value::from(reference.clone()));
        }
        for (key, value) in &self.extensions {
            members.insert(key.clone(), value.clone());
        }
        Value::Object(members)
    }
}

/// An acknowledgement (`ACKSPT`, `ACKSCHD`, …). Field names beyond the envelope are inferred
/// from the 2019 draft and the state machines, so every one is optional.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acknowledgement {
    /// Which acknowledgement.
    pub message_type: SwopType,
    /// Protocol version as text.
    pub swop_version: String,
    /// The reference of the request it answers.
    pub reference: Option<String>,
    /// `state` (`written`, `failed`, `active`, …), if given.
    pub state: Option<String>,
    /// `success`, if given.
    pub success: Option<bool>,
    /// Human-readable message from the edge device.
    pub message: Option<String>,
    /// Free-form detail (priority array, conversion errors, …).
    pub detail: Option<Value>,
    /// Every other field, kept as written.
    pub other_fields: Map<String, Value>,
    /// Lenient-decoding remarks (e.g. a known field with an unexpected type).
    pub notes: Vec<SwopNote>,
}

impl Acknowledgement {
    /// Whether the edge device reports a failure: `success: false`, or a state of `failed`.
    pub fn is_failure(&self) -> bool {
        self.success == Some(false) || self.state.as_deref() == Some("failed")
    }
}

/// A message of a type whose field table is not published: envelope plus every field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherMessage {
    /// Which type.
    pub message_type: SwopType,
    /// Protocol version as text.
    pub swop_version: String,
    /// The issuer's operation id, if given as a string.
    pub reference: Option<String>,
    /// Every field except `type`, `swop_version` and `reference`, kept as written.
    pub fields: Map<String, Value>,
    /// Lenient-decoding remarks.
    pub notes: Vec<SwopNote>,
}

/// Something worth showing that does not make a message invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum SwopNote {
    /// `swop_version` was a JSON number; the table says string.
    #[error("`swop_version` {version} is a number; SWOP writes it as a string (\"{version}\")")]
    NumericVersion {
        /// The version as text.
        version: String,
    },
    /// A string value with a decimal comma: the edge device will refuse it.
    #[error(
        "value \"{value}\" has a decimal comma; SWOP requires a decimal point, the edge device will refuse it"
    )]
    DecimalComma {
        /// The value as written.
        value: String,
    },
    /// A field not in the NEWSPT table and not a vendor extension (`x-…`).
    #[error("`{field}` is not a NEWSPT field (vendor extensions start with `x-`)")]
    UnknownField {
        /// The field name.
        field: String,
    },
    /// A known field of a leniently decoded message has an unexpected JSON type.
    #[error("`{field}` should be {expected}; kept as written")]
    UnexpectedType {
        /// The field name.
        field: String,
        /// What was expected.
        expected: String,
    },
}

/// Why a payload is not a valid SWOP message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum SwopError {
    /// Not JSON (or not UTF-8).
    #[error("not JSON (line {line}, column {column}): {reason}; a SWOP message is one JSON object")]
    NotJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON reader said.
        reason: String,
    },
    /// JSON, but not an object.
    #[error("a SWOP message is one JSON object, this is {found}")]
    NotAnObject {
        /// What it is instead (`an array`, `a number`, …).
        found: &'static str,
    },
    /// No `type` field.
    #[error("`type` is missing; every SWOP message names its type (NEWSPT, ACKSPT, …)")]
    MissingType,
    /// `type` is not a string.
    #[error("`type` must be a string such as \"NEWSPT\"")]
    TypeNotString,
    /// `type` is a SWOP code in the wrong case.
    #[error("SWOP types are upper case: `{found}` should be `{expected}`")]
    LowerCaseType {
        /// As written.
        found: String,
        /// The upper-case code.
        expected: String,
    },
    /// `type` is no SWOP code at all.
    #[error("`{found}` is not a SWOP message type (NEWSPT, ACKSPT, NEWSCHD, …)")]
    UnknownType {
        /// As written.
        found: String,
    },
    /// No `swop_version`.
    #[error("`swop_version` is missing; write e.g. \"0.2\"")]
    MissingVersion,
    /// `swop_version` is neither a string nor a number.
    #[error("`swop_version` must be a string such as \"0.2\"")]
    VersionNotText,
    /// A NEWSPT that breaks its field table; every problem is listed.
    #[error("invalid NEWSPT: {}", join_problems(problems))]
    InvalidNewSetpoint {
        /// What is wrong, in table order.
        problems: Vec<FieldProblem>,
    },
}

/// One way a NEWSPT breaks its field table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum FieldProblem {
    /// A required field is absent.
    #[error("`{field}` is required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("`{field}` must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What the table allows.
        expected: &'static str,
    },
    /// An empty datapoint name.
    #[error("`datapoint` must not be empty")]
    EmptyDatapoint,
    /// A priority outside the BACnet range.
    #[error("`priority` {priority} is outside the BACnet range 1 to 16")]
    PriorityOutOfRange {
        /// As written.
        priority: String,
    },
}

fn join_problems(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Decodes one SWOP message from raw payload bytes. Never panics, whatever the bytes.
pub fn parse(payload: &[u8]) -> Result<SwopMessage, SwopError> {
    let document: Value = serde_json::from_slice(payload).map_err(|error| SwopError::NotJson {
        line: error.line(),
        column: error.column(),
        reason: json_reason(&error),
    })?;
    parse_value(&document)
}

/// Decodes an already parsed JSON document as a SWOP message.
pub fn parse_value(document: &Value) -> Result<SwopMessage, SwopError> {
    let Some(members) = document.as_object() else {
        return Err(SwopError::NotAnObject {
            found: json_kind(document),
        });
    };
    let message_type = envelope_type(members)?;
    let (swop_version, version_note) = envelope_version(members)?;
    let mut notes: Vec<SwopNote> = version_note.into_iter().collect();
    match message_type {
        SwopType::Newspt => {
            parse_new_setpoint(members, swop_version, notes).map(SwopMessage::NewSetpoint)
        }
        ack if ack.is_acknowledgement() => Ok(SwopMessage::Acknowledgement(parse_acknowledgement(
            ack,
            members,
            swop_version,
            notes,
        ))),
        other => {
            let reference = lenient_string(members, "reference", &mut notes);
            let fields = remaining_fields(members, &["type", "swop_version", "reference"]);
            Ok(SwopMessage::Other(OtherMessage {
                message_type: other,
                swop_version,
                reference,
                fields,
                notes,
            }))
        }
    }
}

fn envelope_type(members: &Map<String, Value>) -> Result<SwopType, SwopError> {
    let code = match members.get("type") {
        None => return Err(SwopError::MissingType),
        Some(Value::String(code)) => code,
        Some(_) => return Err(SwopError::TypeNotString),
    };
    if let Some(message_type) = SwopType::from_code(code) {
        return Ok(message_type);
    }
    let upper = code.to_uppercase();
    if SwopType::from_code(&upper).is_some() {
        Err(SwopError::LowerCaseType {
            found: code.clone(),
            expected: upper,
        })
    } else {
        Err(SwopError::UnknownType {
            found: truncate_chars(code, 64),
        })
    }
}

fn envelope_version(members: &Map<String, Value>) -> Result<(String, Option<SwopNote>), SwopError> {
    match members.get("swop_version") {
        None => Err(SwopError::MissingVersion),
        Some(Value::String(version)) => Ok((version.clone(), None)),
        Some(Value::Number(number)) => {
            let version = number.to_string();
            let note = SwopNote::NumericVersion {
                version: version.clone(),
            };
            Ok((version, Some(note)))
        }
        Some(_) => Err(SwopError::VersionNotText),
    }
}

fn parse_new_setpoint(
    members: &Map<String, Value>,
    swop_version: String,
    mut notes: Vec<SwopNote>,
) -> Result<NewSetpoint, SwopError> {
    let mut problems = Vec::new();
    let datapoint = match members.get("datapoint") {
        None => missing(&mut problems, "datapoint"),
        Some(Value::String(name)) if name.is_empty() => {
            problems.push(FieldProblem::EmptyDatapoint);
            None
        }
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => wrong_type(&mut problems, "datapoint", "a string"),
    };
    let value = match members.get("value") {
        None => missing(&mut problems, "value"),
        Some(Value::Bool(flag)) => Some(SetpointValue::Bool(*flag)),
        Some(Value::Number(number)) => Some(SetpointValue::Number(number.clone())),
        Some(Value::String(text)) => {
            if looks_like_decimal_comma(text) {
                notes.push(SwopNote::DecimalComma {
                    value: text.clone(),
                });
            }
            Some(SetpointValue::Text(text.clone()))
        }
        Some(_) => wrong_type(
            &mut problems,
            "value",
            "a boolean, an integer, a float or a string",
        ),
    };
    let priority = optional_priority(members, &mut problems);
    let acknowledge = optional_bool(members, "acknowledge", &mut problems);
    let dry_run = optional_bool(members, "dry_run", &mut problems);
    let reference = match members.get("reference") {
        None => None,
        Some(Value::String(reference)) => Some(reference.clone()),
        Some(_) => wrong_type(&mut problems, "reference", "a string"),
    };
    let mut extensions = Map::new();
    for (key, field_value) in members {
        if NEWSPT_FIELDS.contains(&key.as_str()) {
            continue;
        }
        if !is_vendor_extension(key) {
            notes.push(SwopNote::UnknownField { field: key.clone() });
        }
        extensions.insert(key.clone(), field_value.clone());
    }
    match (datapoint, value, problems.is_empty()) {
        (Some(datapoint), Some(value), true) => Ok(NewSetpoint {
            swop_version,
            datapoint,
            value,
            priority,
            acknowledge,
            dry_run,
            reference,
            extensions,
            notes,
        }),
        _ => Err(SwopError::InvalidNewSetpoint { problems }),
    }
}

fn missing<T>(problems: &mut Vec<FieldProblem>, field: &'static str) -> Option<T> {
    problems.push(FieldProblem::Missing { field });
    None
}

fn wrong_type<T>(
    problems: &mut Vec<FieldProblem>,
    field: &'static str,
    expected: &'static str,
) -> Option<T> {
    problems.push(FieldProblem::WrongType { field, expected });
    None
}

fn optional_priority(members: &Map<String, Value>, problems: &mut Vec<FieldProblem>) -> Option<u8> {
    let number = match members.get("priority")? {
        Value::Number(number) => number,
        _ => return wrong_type(problems, "priority", "an integer"),
    };
    // 13.0 is a float in JSON terms; the table says int.
    let Some(level) = number.as_i64() else {
        if number.is_u64() {
            problems.push(FieldProblem::PriorityOutOfRange {
                priority: number.to_string(),
            });
            return None;
        }
        return wrong_type(problems, "priority", "an integer");
    };
    if BACNET_PRIORITIES.contains(&level) {
        u8::try_from(level).ok()
    } else {
        problems.push(FieldProblem::PriorityOutOfRange {
            priority: level.to_string(),
        });
        None
    }
}

fn optional_bool(
    members: &Map<String, Value>,
    field: &'static str,
    problems: &mut Vec<FieldProblem>,
) -> Option<bool> {
    match members.get(field)? {
        Value::Bool(flag) => Some(*flag),
        _ => wrong_type(problems, field, "true or false"),
    }
}

fn is_vendor_extension(key: &str) -> bool {
    key.get(..2)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-"))
}

fn parse_acknowledgement(
    message_type: SwopType,
    members: &Map<String, Value>,
    swop_version: String,
    mut notes: Vec<SwopNote>,
) -> Acknowledgement {
    let reference = lenient_string(members, "reference", &mut notes);
    let state = lenient_string(members, "state", &mut notes);
    let message = lenient_string(members, "message", &mut notes);
    let success = match members.get("success") {
        None => None,
        Some(Value::Bool(flag)) => Some(*flag),
        Some(_) => {
            notes.push(unexpected_type("success", "true or false"));
            None
        }
    };
    let detail = members.get("detail").cloned();
    let known = [
        "type",
        "swop_version",
        "reference",
        "state",
        "message",
        "success",
        "detail",
    ];
    // Fields with an unexpected type were not taken, so they stay visible here.
    let mut other_fields = remaining_fields(members, &known);
    for field in ["reference", "state", "message"] {
        if let Some(value) = members.get(field).filter(|value| !value.is_string()) {
            other_fields.insert(field.to_owned(), value.clone());
        }
    }
    if let Some(value) = members.get("success").filter(|value| !value.is_boolean()) {
        other_fields.insert("success".to_owned(), value.clone());
    }
    Acknowledgement {
        message_type,
        swop_version,
        reference,
        state,
        success,
        message,
        detail,
        other_fields,
        notes,
    }
}

/// A string field of a leniently decoded message; another type gives a note and `None`.
fn lenient_string(
    members: &Map<String, Value>,
    field: &str,
    notes: &mut Vec<SwopNote>,
) -> Option<String> {
    match members.get(field)? {
        Value::String(text) => Some(text.clone()),
        _ => {
            notes.push(unexpected_type(field, "a string"));
            None
        }
    }
}

fn unexpected_type(field: &str, expected: &str) -> SwopNote {
    SwopNote::UnexpectedType {
        field: field.to_owned(),
        expected: expected.to_owned(),
    }
}

fn remaining_fields(members: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    members
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// `15,3` or `-0,5`: digits, one comma, digits.
fn looks_like_decimal_comma(text: &str) -> bool {
    let unsigned = text.trim().trim_start_matches('-');
    let Some((whole, fraction)) = unsigned.split_once(',') else {
        return false;
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<SwopMessage, SwopError> {
        parse(text.as_bytes())
    }

    fn setpoint(text: &str) -> NewSetpoint {
        match parse_text(text) {
            Ok(SwopMessage::NewSetpoint(setpoint)) => setpoint,
            other => panic!("expected a NEWSPT, got {other:?}"),
        }
    }

    fn problems(text: &str) -> Vec<FieldProblem> {
        match parse_text(text) {
            Err(SwopError::InvalidNewSetpoint { problems }) => problems,
            other => panic!("expected an invalid NEWSPT, got {other:?}"),
        }
    }

    #[test]
    fn type_codes_match_the_specification_list() {
        for (message_type, code) in SwopType::ALL.iter().zip(SWOP_MESSAGE_TYPES) {
            assert_eq!(message_type.code(), code);
            assert_eq!(SwopType::from_code(code), Some(*message_type));
        }
        assert_eq!(SwopType::from_code("newspt"), None);
        assert!(SwopType::Ackspt.is_acknowledgement());
        assert!(!SwopType::Alive.is_acknowledgement());
    }

    #[test]
    fn canonical_newspt_decodes_every_field() {
        let decoded = setpoint(
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":20.5,"priority":13,"acknowledge":true,"dry_run":false,"reference":"0cce"}"#,
        );
        assert_eq!(decoded.swop_version, "0.2");
        assert_eq!(decoded.datapoint, "RTs");
        assert_eq!(decoded.value.as_f64(), Some(20.5));
        assert_eq!(decoded.priority, Some(13));
        assert_eq!(decoded.acknowledge, Some(true));
        assert_eq!(decoded.dry_run, Some(false));
        assert_eq!(decoded.reference.as_deref(), Some("0cce"));
        assert!(decoded.notes.is_empty(), "{:?}", decoded.notes);
    }

    #[test]
    fn numeric_version_is_accepted_with_a_note() {
        let decoded = setpoint(r#"{"type":"NEWSPT","swop_version":0.1,"datapoint":"x","value":1}"#);
        assert_eq!(decoded.swop_version, "0.1");
        assert_eq!(
            decoded.notes,
            vec![SwopNote::NumericVersion {
                version: "0.1".into()
            }]
        );
        assert!(decoded.to_json().contains(r#""swop_version":"0.1""#));
    }

    #[test]
    fn envelope_errors_are_reported() {
        assert!(matches!(
            parse(b"type=NEWSPT;datapoint=x"),
            Err(SwopError::NotJson { line: 1, .. })
        ));
        assert!(matches!(
            parse(&[0xff, 0xfe]),
            Err(SwopError::NotJson { .. })
        ));
        assert_eq!(
            parse_text(r#"[{"type":"NEWSPT"}]"#),
            Err(SwopError::NotAnObject { found: "an array" })
        );
        assert_eq!(
            parse_text(r#"{"swop_version":"0.2"}"#),
            Err(SwopError::MissingType)
        );
        assert_eq!(
            parse_text(r#"{"type":"newspt","swop_version":"0.2"}"#),
            Err(SwopError::LowerCaseType {
                found: "newspt".into(),
                expected: "NEWSPT".into()
            })
        );
        assert!(matches!(
            parse_text(r#"{"type":"NEWSETPOINT","swop_version":"0.2"}"#),
            Err(SwopError::UnknownType { .. })
        ));
        assert_eq!(
            parse_text(r#"{"type":"NEWSPT","datapoint":"x","value":1}"#),
            Err(SwopError::MissingVersion)
        );
        assert_eq!(
            parse_text(r#"{"type":"ALIVE","swop_version":true}"#),
            Err(SwopError::VersionNotText)
        );
    }

    #[test]
    fn newspt_field_table_is_enforced_and_every_problem_listed() {
        assert_eq!(
            problems(r#"{"type":"NEWSPT","swop_version":"0.2"}"#),
            vec![
                FieldProblem::Missing { field: "datapoint" },
                FieldProblem::Missing { field: "value" }
            ]
        );
        assert_eq!(
            problems(
                r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":{"v":1},"priority":"13","acknowledge":"true","dry_run":1,"reference":7}"#
            ),
            vec![
                FieldProblem::WrongType {
                    field: "value",
                    expected: "a boolean, an integer, a float or a string"
                },
                FieldProblem::WrongType {
                    field: "priority",
                    expected: "an integer"
                },
                FieldProblem::WrongType {
                    field: "acknowledge",
                    expected: "true or false"
                },
                FieldProblem::WrongType {
                    field: "dry_run",
                    expected: "true or false"
                },
                FieldProblem::WrongType {
                    field: "reference",
                    expected: "a string"
                },
            ]
        );
        for priority in ["0", "17", "-1", "18446744073709551615"] {
            let text = format!(
                r#"{{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":1,"priority":{priority}}}"#
            );
            assert_eq!(
                problems(&text),
                vec![FieldProblem::PriorityOutOfRange {
                    priority: priority.to_owned()
                }]
            );
        }
        assert_eq!(
            problems(r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"","value":null}"#),
            vec![
                FieldProblem::EmptyDatapoint,
                FieldProblem::WrongType {
                    field: "value",
                    expected: "a boolean, an integer, a float or a string"
                }
            ]
        );
    }

    #[test]
    fn decimal_comma_and_unknown_fields_are_notes_not_errors() {
        let decoded = setpoint(
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":"15,3","x-origin":"test","colour":"red"}"#,
        );
        assert_eq!(
            decoded.notes,
            vec![
                SwopNote::DecimalComma {
                    value: "15,3".into()
                },
                SwopNote::UnknownField {
                    field: "colour".into()
                }
            ]
        );
        assert_eq!(decoded.extensions.len(), 2);
    }

    #[test]
    fn built_setpoint_round_trips_through_the_parser() {
        let mut request = NewSetpoint::new("Room Temp \"1\"", SetpointValue::Text("null".into()));
        request.priority = Some(DEFAULT_PRIORITY);
        request.acknowledge = Some(true);
        request.reference = Some("abc".into());
        assert_eq!(request.validate(), Ok(()));
        let json = request.to_json();
        assert!(json.starts_with(r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"#));
        assert_eq!(
            parse(json.as_bytes()),
            Ok(SwopMessage::NewSetpoint(request))
        );
        let mut bad = NewSetpoint::new("x", SetpointValue::Bool(true));
        bad.priority = Some(17);
        assert!(bad.validate().is_err());
        assert_eq!(SetpointValue::float(f64::NAN), None);
    }

    #[test]
    fn acknowledgements_are_decoded_leniently() {
        let Ok(SwopMessage::Acknowledgement(ack)) = parse_text(
            r#"{"type":"ACKSPT","swop_version":"0.2","reference":"r1","success":false,"message":"out of range","detail":{"min":5},"extra":1,"state":3}"#,
        ) else {
            panic!("expected an acknowledgement");
        };
        assert_eq!(ack.reference.as_deref(), Some("r1"));
        assert!(ack.is_failure());
        assert_eq!(ack.message.as_deref(), Some("out of range"));
        assert_eq!(ack.detail, Some(serde_json::json!({"min": 5})));
        assert_eq!(ack.state, None);
        assert_eq!(
            ack.other_fields.keys().collect::<Vec<_>>(),
            ["extra", "state"]
        );
        assert_eq!(ack.notes.len(), 1);
    }

    #[test]
    fn other_types_keep_every_field() {
        let message = parse_text(
            r#"{"type":"NEWSCHD","swop_version":"0.2","reference":"s1","setpoints":[{"id":1}],"heartbeat":60}"#,
        )
        .unwrap();
        assert_eq!(message.message_type(), SwopType::Newschd);
        assert_eq!(message.reference(), Some("s1"));
        let SwopMessage::Other(other) = message else {
            panic!("expected a lenient message");
        };
        assert_eq!(other.fields.len(), 2);
    }

    #[test]
    fn messages_serialise_with_a_kind_tag() {
        let message = parse_text(r#"{"type":"ALIVE","swop_version":"0.2"}"#).unwrap();
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["kind"], "other");
        assert_eq!(json["message_type"], "ALIVE");
        let error = serde_json::to_value(SwopError::MissingType).unwrap();
        assert_eq!(error["error"], "missing_type");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn value() -> impl Strategy<Value = SetpointValue> {
            prop_oneof![
                any::<bool>().prop_map(SetpointValue::Bool),
                any::<i64>().prop_map(|number| SetpointValue::Number(number.into())),
                any::<f64>().prop_filter_map("finite", SetpointValue::float),
                any::<String>().prop_map(SetpointValue::Text),
            ]
        }

        fn setpoint() -> impl Strategy<Value = NewSetpoint> {
            (
                ".+",
                value(),
                proptest::option::of(1u8..=16),
                proptest::option::of(any::<bool>()),
                proptest::option::of(any::<bool>()),
                proptest::option::of(any::<String>()),
            )
                .prop_map(
                    |(datapoint, value, priority, acknowledge, dry_run, reference)| {
                        let notes = match &value {
                            SetpointValue::Text(text) if looks_like_decimal_comma(text) => {
                                vec![SwopNote::DecimalComma {
                                    value: text.clone(),
                                }]
                            }
                            _ => Vec::new(),
                        };
                        NewSetpoint {
                            priority,
                            acknowledge,
                            dry_run,
                            reference,
                            notes,
                            ..NewSetpoint::new(datapoint, value)
                        }
                    },
                )
        }

        proptest! {
            #[test]
            fn any_valid_setpoint_written_as_json_parses_back_unchanged(request in setpoint()) {
                prop_assert_eq!(request.validate(), Ok(()));
                let parsed = parse(request.to_json().as_bytes());
                prop_assert_eq!(parsed, Ok(SwopMessage::NewSetpoint(request)));
            }

            #[test]
            fn parse_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = parse(&bytes);
            }

            #[test]
            fn every_type_code_with_a_version_is_accepted_leniently_except_newspt(
                index in 1usize..13,
                extra in any::<String>(),
            ) {
                let message_type = SwopType::ALL[index];
                let document = serde_json::json!({
                    "type": message_type.code(),
                    "swop_version": "0.2",
                    "x-extra": extra,
                });
                let message = parse_value(&document);
                prop_assert!(message.is_ok(), "{:?}", message);
                prop_assert_eq!(message.map(|m| m.message_type()), Ok(message_type));
            }
        }
    }
}
