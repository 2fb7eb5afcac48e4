//! Composing SWOP writes (NEWSPT, NEWSCHD, UPSCHD, DELSCHD) with field-level validation; the
//! requests this app sent are followed by `setpoint_tracker`.
//!
//! NEWSPT is built as a [`swop::NewSetpoint`] and checked with its validator (the one source of
//! truth for the field table); the form-level checks here only turn what the user typed into
//! typed fields and say which field is wrong. Schedule messages follow the reference's inferred
//! field names (§5.4.3: `reference`, `datapoint`, `priority`, `heartbeat`, `reset_value`,
//! `setpoints` / `setpoints_add` / `setpoints_modify` / `setpoints_delete`).

use serde_json::{Map, Number, Value, json};

use crate::model::aedifion::project::AedifionProject;
use crate::model::aedifion::swop::{self, NewSetpoint, SetpointValue, SwopType};
use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;
use crate::model::write::publish::PublishRequest;
use crate::model::write::templates::uuid_v4;

/// The BACnet priority aedifion uses when none is chosen.
pub const DEFAULT_PRIORITY: u8 = 13;
/// How long a tracked request waits for its acknowledgement by default.
pub const DEFAULT_ACK_TIMEOUT_SECS: u64 = 30;
/// Tracked requests kept (oldest forgotten first).
pub const TRACKED_REQUESTS: usize = 500;
/// Schedule updates may not touch setpoints starting sooner than this (§5.4.5).
pub const SCHEDULE_UPDATE_MARGIN_SECS: i64 = 60;

/// How the typed value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueKind {
    /// A JSON number (integer or decimal, decimal point only).
    #[default]
    Number,
    /// `true` or `false`.
    Boolean,
    /// A string (e.g. `"null"` to relinquish a BACnet priority slot).
    Text,
}

impl ValueKind {
    /// Every kind, in the order the composer offers them.
    pub const ALL: [ValueKind; 3] = [ValueKind::Number, ValueKind::Boolean, ValueKind::Text];

    /// Name shown in the composer.
    pub fn label(self) -> &'static str {
        match self {
            ValueKind::Number => "Number",
            ValueKind::Boolean => "Boolean",
            ValueKind::Text => "Text",
        }
    }
}

/// A field of the composer, for messages shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftField {
    Project,
    Datapoint,
    Value,
    Priority,
    Reference,
    Heartbeat,
    Setpoints,
    /// The message as a whole (the SWOP validator's verdict).
    Message,
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: DraftField,
    pub message: String,
}

impl FieldError {
    fn new(field: DraftField, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Joins field errors into one sentence list (for the command line).
pub fn describe_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A new random reference (UUID v4, as the aedifion API uses).
pub fn new_reference() -> String {
    uuid_v4(rand::random())
}

/// What the NEWSPT composer holds (text as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetpointDraft {
    /// `lbg/handle`.
    pub project: String,
    pub datapoint: String,
    pub value: String,
    pub kind: ValueKind,
    /// 1 to 16.
    pub priority: String,
    pub acknowledge: bool,
    pub dry_run: bool,
    pub reference: String,
}

impl Default for SetpointDraft {
    fn default() -> Self {
        Self {
            project: String::new(),
            datapoint: String::new(),
            value: String::new(),
            kind: ValueKind::Number,
            priority: DEFAULT_PRIORITY.to_string(),
            acknowledge: true,
            dry_run: false,
            reference: new_reference(),
        }
    }
}

/// A checked SWOP write, ready for the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposedWrite {
    /// `CONTROLS/<lbg>/<project>`.
    pub topic: String,
    /// The JSON payload.
    pub payload: String,
    /// SWOP type written.
    pub message_type: SwopType,
    pub reference: String,
    pub datapoint: String,
    /// The value as JSON text (setpoints).
    pub value: String,
    pub priority: u8,
    pub acknowledge: bool,
    pub dry_run: bool,
}

impl ComposedWrite {
    /// The MQTT message (QoS 1, not retained: a request must not be replayed to late joiners).
    pub fn request(&self) -> PublishRequest {
        PublishRequest {
            topic: self.topic.clone(),
            payload: self.payload.clone().into_bytes(),
            qos: Qos::AtLeastOnce,
            retain: false,
        }
    }

    /// One sentence saying exactly what will be written where.
    pub fn summary(&self) -> String {
        match self.message_type {
            SwopType::Newspt => format!(
                "{kind}: write {value} to datapoint \"{datapoint}\" at priority {priority} via {topic} \
                 (acknowledge: {ack}, reference {reference}).",
                kind = if self.dry_run {
                    "DRY RUN (nothing is written)"
                } else {
                    "NEWSPT"
                },
                value = self.value,
                datapoint = self.datapoint,
                priority = self.priority,
                topic = self.topic,
                ack = if self.acknowledge { "yes" } else { "no" },
                reference = self.reference,
            ),
            other => format!(
                "{}: schedule {} on datapoint \"{}\" via {}.",
                other.code(),
                self.reference,
                self.datapoint,
                self.topic
            ),
        }
    }
}

/// `CONTROLS/<lbg>/<project>` for `lbg/handle`.
pub fn controls_topic(project: &str) -> Result<String, FieldError> {
    let project = AedifionProject::parse(project).ok_or_else(|| {
        FieldError::new(
            DraftField::Project,
            format!(
                "Project \"{}\" is not <load-balancing-group>/<project-handle>, e.g. lbg01/demo_building.",
                project.trim()
            ),
        )
    })?;
    Ok(format!("CONTROLS/{project}"))
}

/// Reads a typed value.
pub fn parse_value(kind: ValueKind, text: &str) -> Result<SetpointValue, FieldError> {
    let trimmed = text.trim();
    match kind {
        ValueKind::Number => {
            if trimmed.contains(',') {
                return Err(FieldError::new(
                    DraftField::Value,
                    format!("Value \"{trimmed}\" has a comma: SWOP numbers use a decimal point."),
                ));
            }
            let number: Number = serde_json::from_str(trimmed).map_err(|_| {
                FieldError::new(
                    DraftField::Value,
                    format!("Value \"{trimmed}\" is not a number (e.g. 21.5)."),
                )
            })?;
            Ok(SetpointValue::Number(number))
        }
        ValueKind::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Ok(SetpointValue::Bool(true)),
            "false" => Ok(SetpointValue::Bool(false)),
            _ => Err(FieldError::new(
                DraftField::Value,
                format!("Value \"{trimmed}\" is not a boolean: write true or false."),
            )),
        },
        ValueKind::Text if text.is_empty() => Err(FieldError::new(
            DraftField::Value,
            "Value is empty: type the text to write (\"null\" relinquishes the priority).",
        )),
        ValueKind::Text => Ok(SetpointValue::Text(text.to_owned())),
    }
}

/// Reads a BACnet priority (1 to 16).
pub fn parse_priority(text: &str) -> Result<u8, FieldError> {
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|priority| (1..=16).contains(priority))
        .ok_or_else(|| {
            FieldError::new(
                DraftField::Priority,
                format!(
                    "Priority \"{}\" is not a BACnet priority: use a whole number from 1 (highest) to 16.",
                    text.trim()
                ),
            )
        })
}

fn check_datapoint(datapoint: &str) -> Result<(), FieldError> {
    if datapoint.trim().is_empty() {
        return Err(FieldError::new(
            DraftField::Datapoint,
            "Choose the datapoint to write.",
        ));
    }
    if datapoint.trim() != datapoint {
        return Err(FieldError::new(
            DraftField::Datapoint,
            "The datapoint name starts or ends with spaces; datapoint names must match exactly.",
        ));
    }
    Ok(())
}

fn check_reference(reference: &str) -> Result<(), FieldError> {
    if reference.trim().is_empty() || reference.trim() != reference {
        return Err(FieldError::new(
            DraftField::Reference,
            "The reference must not be empty or have surrounding spaces (a new one is generated for you).",
        ));
    }
    Ok(())
}

/// Collects the first error of each check.
fn collect<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

impl SetpointDraft {
    /// The NEWSPT, or every field problem at once.
    pub fn compose(&self) -> Result<ComposedWrite, Vec<FieldError>> {
        let mut errors = Vec::new();
        let topic = collect(&mut errors, controls_topic(&self.project));
        collect(&mut errors, check_datapoint(&self.datapoint));
        let value = collect(&mut errors, parse_value(self.kind, &self.value));
        let priority = collect(&mut errors, parse_priority(&self.priority));
        collect(&mut errors, check_reference(&self.reference));
        let (Some(topic), Some(value), Some(priority), true) =
            (topic, value, priority, errors.is_empty())
        else {
            return Err(errors);
        };
        let mut setpoint = NewSetpoint::new(self.datapoint.clone(), value.clone());
        setpoint.priority = Some(priority);
        setpoint.acknowledge = Some(self.acknowledge);
        setpoint.dry_run = Some(self.dry_run);
        setpoint.reference = Some(self.reference.clone());
        // The SWOP module's validator has the last word on the field table.
        if let Err(error) = setpoint.validate() {
            return Err(vec![FieldError::new(
                DraftField::Message,
                error.to_string(),
            )]);
        }
        Ok(ComposedWrite {
            topic,
            payload: setpoint.to_json(),
            message_type: SwopType::Newspt,
            reference: self.reference.clone(),
            datapoint: self.datapoint.clone(),
            value: value.to_string(),
            priority,
            acknowledge: self.acknowledge,
            dry_run: self.dry_run,
        })
    }
}

/// One entry of a schedule: from `start` on, the datapoint holds `value`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleEntryDraft {
    /// Whole number, unique within the schedule.
    pub id: String,
    /// RFC 3339, e.g. `2026-11-26T18:00:00Z`.
    pub start: String,
    /// A number, or `reset` (restore the value saved before the schedule).
    pub value: String,
}

/// Which schedule operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScheduleOperation {
    /// NEWSCHD: create.
    #[default]
    Create,
    /// UPSCHD: add/modify/delete entries, change the heartbeat.
    Update,
    /// DELSCHD: stop and delete.
    Delete,
}

/// What the schedule composer holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleDraft {
    pub operation: ScheduleOperation,
    pub project: String,
    /// The schedule's reference (kept for its whole life: updates and delete repeat it).
    pub reference: String,
    pub datapoint: String,
    pub priority: String,
    /// Seconds; empty for none.
    pub heartbeat_secs: String,
    /// NEWSCHD: all entries; UPSCHD: entries to add.
    pub entries: Vec<ScheduleEntryDraft>,
    /// UPSCHD: entries to modify.
    pub modify: Vec<ScheduleEntryDraft>,
    /// UPSCHD: ids to delete, comma-separated.
    pub delete_ids: String,
}

fn parse_entry(
    entry: &ScheduleEntryDraft,
    now_nanos: Nanos,
    min_lead_secs: Option<i64>,
) -> Result<Value, FieldError> {
    let at = |text: String| FieldError::new(DraftField::Setpoints, text);
    let id: u64 = entry.id.trim().parse().map_err(|_| {
        at(format!(
            "Entry id \"{}\" is not a whole number.",
            entry.id.trim()
        ))
    })?;
    let start = chrono::DateTime::parse_from_rfc3339(entry.start.trim()).map_err(|_| {
        at(format!(
            "Entry {id}: start \"{}\" is not an RFC 3339 time such as 2026-11-26T18:00:00Z.",
            entry.start.trim()
        ))
    })?;
    if let Some(lead_secs) = min_lead_secs {
        let start_nanos = start.timestamp_nanos_opt().unwrap_or(i64::MIN);
        if start_nanos < now_nanos.saturating_add(lead_secs * 1_000_000_000) {
            return Err(at(format!(
                "Entry {id}: a running schedule's entries can only be changed if they start at least {lead_secs} s from now."
            )));
        }
    }
    let value = match entry.value.trim() {
        "reset" => Value::from("reset"),
        text => match serde_json::from_str::<Number>(text) {
            Ok(number) => Value::Number(number),
            Err(_) => {
                return Err(at(format!(
                    "Entry {id}: value \"{text}\" is not a number or \"reset\"."
                )));
            }
        },
    };
    Ok(json!({"id": id, "start": entry.start.trim(), "value": value}))
}

fn parse_entries(
    entries: &[ScheduleEntryDraft],
    now_nanos: Nanos,
    min_lead_secs: Option<i64>,
) -> Result<Vec<Value>, FieldError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let value = parse_entry(entry, now_nanos, min_lead_secs)?;
        if !seen.insert(value["id"].as_u64()) {
            return Err(FieldError::new(
                DraftField::Setpoints,
                format!(
                    "Entry id {} is used twice; ids must be unique.",
                    value["id"]
                ),
            ));
        }
        out.push(value);
    }
    Ok(out)
}

impl ScheduleDraft {
    /// The NEWSCHD/UPSCHD/DELSCHD message, or every field problem.
    pub fn compose(&self, now_nanos: Nanos) -> Result<ComposedWrite, Vec<FieldError>> {
        let mut errors = Vec::new();
        let topic = collect(&mut errors, controls_topic(&self.project));
        collect(&mut errors, check_reference(&self.reference));
        let mut body = Map::new();
        let message_type = match self.operation {
            ScheduleOperation::Create => SwopType::Newschd,
            ScheduleOperation::Update => SwopType::Upschd,
            ScheduleOperation::Delete => SwopType::Delschd,
        };
        body.insert("type".into(), Value::from(message_type.code()));
        body.insert("swop_version".into(), Value::from(swop::SWOP_VERSION));
        body.insert("reference".into(), Value::from(self.reference.clone()));
        let mut priority = 0;
        match self.operation {
            ScheduleOperation::Create => {
                collect(&mut errors, check_datapoint(&self.datapoint));
                body.insert("datapoint".into(), Value::from(self.datapoint.clone()));
                if let Some(parsed) = collect(&mut errors, parse_priority(&self.priority)) {
                    priority = parsed;
                    body.insert("priority".into(), Value::from(parsed));
                }
                if let Some(heartbeat) = collect(&mut errors, self.heartbeat()) {
                    body.insert(
                        "heartbeat".into(),
                        heartbeat.map_or(Value::Null, Value::from),
                    );
                }
                body.insert("reset_value".into(), Value::Null);
                if self.entries.is_empty() {
                    errors.push(FieldError::new(
                        DraftField::Setpoints,
                        "A schedule needs at least one entry; the last one is its stop event.",
                    ));
                } else if let Some(entries) =
                    collect(&mut errors, parse_entries(&self.entries, now_nanos, None))
                {
                    body.insert("setpoints".into(), Value::Array(entries));
                }
            }
            ScheduleOperation::Update => {
                if let Some(Some(heartbeat)) = collect(&mut errors, self.heartbeat()) {
                    body.insert("heartbeat".into(), Value::from(heartbeat));
                }
                let lead = Some(SCHEDULE_UPDATE_MARGIN_SECS);
                let add = collect(&mut errors, parse_entries(&self.entries, now_nanos, lead));
                let modify = collect(&mut errors, parse_entries(&self.modify, now_nanos, lead));
                let delete = collect(&mut errors, self.delete_ids());
                if let (Some(add), Some(modify), Some(delete)) = (add, modify, delete) {
                    if add.is_empty() && modify.is_empty() && delete.is_empty() {
                        errors.push(FieldError::new(
                            DraftField::Setpoints,
                            "The update changes nothing: add, modify or delete an entry.",
                        ));
                    }
                    body.insert("setpoints_add".into(), Value::Array(add));
                    body.insert("setpoints_modify".into(), Value::Array(modify));
                    body.insert("setpoints_delete".into(), Value::from(delete));
                }
            }
            ScheduleOperation::Delete => {}
        }
        match (topic, errors.is_empty()) {
            (Some(topic), true) => Ok(ComposedWrite {
                topic,
                payload: Value::Object(body).to_string(),
                message_type,
                reference: self.reference.clone(),
                datapoint: self.datapoint.clone(),
                value: String::new(),
                priority,
                acknowledge: true,
                dry_run: false,
            }),
            _ => Err(errors),
        }
    }

    fn heartbeat(&self) -> Result<Option<u64>, FieldError> {
        let text = self.heartbeat_secs.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u64>()
            .ok()
            .filter(|secs| *secs > 0)
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    DraftField::Heartbeat,
                    format!("Heartbeat \"{text}\" is not a positive number of seconds."),
                )
            })
    }

    fn delete_ids(&self) -> Result<Vec<u64>, FieldError> {
        self.delete_ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse().map_err(|_| {
                    FieldError::new(
                        DraftField::Setpoints,
                        format!("Id to delete \"{id}\" is not a whole number."),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::aedifion::swop::SwopMessage;
    use crate::model::write::setpoint_tracker::{RequestState, SetpointTracker};

    /// A valid NEWSPT draft for the demo building's room temperature setpoint.
    pub(crate) fn draft() -> SetpointDraft {
        SetpointDraft {
            project: "lbg01/demo_building".into(),
            datapoint: "bacnet100-4120-Real-room-temperature-setpoint-RTs_real".into(),
            value: "20.5".into(),
            reference: "ref-1".into(),
            ..SetpointDraft::default()
        }
    }

    #[test]
    fn a_valid_draft_becomes_a_newspt_on_the_controls_topic() {
        let write = draft().compose().unwrap();
        assert_eq!(write.topic, "CONTROLS/lbg01/demo_building");
        let parsed = swop::parse(write.payload.as_bytes()).unwrap();
        let SwopMessage::NewSetpoint(setpoint) = parsed else {
            panic!("not a NEWSPT")
        };
        assert_eq!(setpoint.priority, Some(13));
        assert_eq!(setpoint.acknowledge, Some(true));
        assert_eq!(setpoint.reference.as_deref(), Some("ref-1"));
        assert_eq!(setpoint.value.to_string(), "20.5");
        assert!(
            write.summary().contains("priority 13"),
            "{}",
            write.summary()
        );
        assert_eq!(write.request().qos, Qos::AtLeastOnce);
        assert!(!write.request().retain);
    }

    #[test]
    fn every_bad_field_is_reported_next_to_its_field() {
        let bad = SetpointDraft {
            project: "lbg01".into(),
            datapoint: " ".into(),
            value: "20,5".into(),
            priority: "17".into(),
            reference: "".into(),
            ..SetpointDraft::default()
        };
        let errors = bad.compose().unwrap_err();
        let fields: Vec<DraftField> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                DraftField::Project,
                DraftField::Datapoint,
                DraftField::Value,
                DraftField::Priority,
                DraftField::Reference
            ]
        );
        assert!(errors[2].message.contains("decimal point"));
        assert!(describe_errors(&errors).contains("1 (highest) to 16"));
    }

    #[test]
    fn values_are_typed_as_chosen() {
        assert_eq!(
            parse_value(ValueKind::Boolean, "TRUE"),
            Ok(SetpointValue::Bool(true))
        );
        assert_eq!(
            parse_value(ValueKind::Text, "null"),
            Ok(SetpointValue::Text("null".into()))
        );
        assert!(parse_value(ValueKind::Number, "warm").is_err());
        assert!(parse_value(ValueKind::Boolean, "1").is_err());
        assert_eq!(
            parse_value(ValueKind::Number, "7").unwrap().to_string(),
            "7"
        );
    }

    #[test]
    fn generated_references_are_distinct_uuids() {
        let a = new_reference();
        assert_eq!(a.len(), 36);
        assert_ne!(a, new_reference());
    }

    #[test]
    fn schedules_compose_per_the_inferred_fields_and_refuse_bad_entries() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap();
        let create = ScheduleDraft {
            project: "lbg01/demo_building".into(),
            reference: "s-1".into(),
            datapoint: "dp".into(),
            priority: "15".into(),
            heartbeat_secs: "600".into(),
            entries: vec![
                ScheduleEntryDraft {
                    id: "0".into(),
                    start: "2026-11-26T18:00:00Z".into(),
                    value: "18.5".into(),
                },
                ScheduleEntryDraft {
                    id: "1".into(),
                    start: "2026-11-27T07:00:00Z".into(),
                    value: "reset".into(),
                },
            ],
            ..ScheduleDraft::default()
        };
        let message: Value = serde_json::from_str(&create.compose(now).unwrap().payload).unwrap();
        assert_eq!(message["type"], "NEWSCHD");
        assert_eq!(message["heartbeat"], 600);
        assert_eq!(message["setpoints"][1]["value"], "reset");
        assert!(swop::parse(message.to_string().as_bytes()).is_ok());

        let update = ScheduleDraft {
            operation: ScheduleOperation::Update,
            entries: vec![ScheduleEntryDraft {
                id: "2".into(),
                start: "2026-11-26T08:00:30Z".into(),
                value: "20".into(),
            }],
            ..create.clone()
        };
        let errors = update.compose(now).unwrap_err();
        assert!(errors[0].message.contains("at least 60 s"), "{errors:?}");

        let mut tracker = SetpointTracker::new(5);
        let created = create.compose(now).unwrap();
        tracker.track(&created, 0);
        let ack = json!({"type": "ACKSCHD", "swop_version": "0.2", "reference": "s-1",
                         "state": "active", "message": "Schedule activated."});
        assert!(tracker.on_message(&created.topic, ack.to_string().as_bytes(), 1));
        let tracked = tracker.get("s-1").unwrap();
        assert_eq!(tracked.state, RequestState::Accepted);
        assert_eq!(
            tracked.message.as_deref(),
            Some("active: Schedule activated.")
        );

        let delete = ScheduleDraft {
            operation: ScheduleOperation::Delete,
            ..create.clone()
        };
        let message: Value = serde_json::from_str(&delete.compose(now).unwrap().payload).unwrap();
        assert_eq!(message["type"], "DELSCHD");
        assert_eq!(message["reference"], "s-1");

        let duplicate = ScheduleDraft {
            entries: vec![create.entries[0].clone(), create.entries[0].clone()],
            ..create
        };
        assert!(
            duplicate.compose(now).unwrap_err()[0]
                .message
                .contains("twice")
        );
    }
}
