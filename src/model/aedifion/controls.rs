//! The controls timeline: SWOP messages seen on `CONTROLS/…`, each request grouped with its
//! acknowledgements by `reference` (reference §5.4).
//!
//! An issuer may re-send a request whose acknowledgement got lost, and the edge device answers a
//! repeated request with a copy of its earlier acknowledgement (§5.4.5), so duplicates are
//! legitimate: they are grouped into one operation and counted, not listed again. Messages
//! without a `reference` cannot be correlated and each make an operation of their own. The
//! timeline is bounded; the oldest operations are forgotten first.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use crate::model::time::Nanos;
use crate::model::topic::tree::NodeId;

/// Operations kept in the timeline; the oldest go first.
pub const MAX_OPERATIONS: usize = 2_000;

/// Characters kept of a free-text field (`message`) from outside.
const MAX_TEXT_CHARS: usize = 500;

/// What the registry needs from one SWOP message, decoded on the worker.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SwopFacts {
    /// The `type` code as written (`NEWSPT`, `ACKSPT`, …).
    pub message_type: Box<str>,
    /// Issuer-side id correlating requests with acknowledgements (numbers written as text).
    pub reference: Option<Box<str>>,
    /// Target datapoint of a request.
    pub datapoint: Option<Box<str>>,
    /// The value to write, as JSON text (strings keep their quotes).
    pub value: Option<Box<str>>,
    /// BACnet write priority.
    pub priority: Option<i64>,
    /// The request asks for an acknowledgement.
    pub acknowledge: Option<bool>,
    /// Validate only, do not write.
    pub dry_run: Option<bool>,
    /// An acknowledgement's `state` (`written`, `failed`, `validated`, …).
    pub state: Option<Box<str>>,
    /// An acknowledgement's `success`.
    pub success: Option<bool>,
    /// An acknowledgement's human-readable `message` (the edge device's error, if it failed).
    pub message: Option<Box<str>>,
}

impl SwopFacts {
    /// Reads the fields the timeline shows; `None` unless it is an object with a string `type`.
    pub fn from_document(document: &Value) -> Option<SwopFacts> {
        let members = document.as_object()?;
        let text = |key: &str| -> Option<Box<str>> {
            match members.get(key)? {
                Value::String(text) => Some(bounded(text)),
                Value::Number(number) => Some(number.to_string().into()),
                _ => None,
            }
        };
        Some(SwopFacts {
            message_type: bounded(members.get("type")?.as_str()?),
            reference: text("reference"),
            datapoint: text("datapoint"),
            value: members
                .get("value")
                .map(|value| bounded(&value.to_string())),
            priority: members.get("priority").and_then(Value::as_i64),
            acknowledge: members.get("acknowledge").and_then(Value::as_bool),
            dry_run: members.get("dry_run").and_then(Value::as_bool),
            state: text("state"),
            success: members.get("success").and_then(Value::as_bool),
            message: text("message"),
        })
    }

    /// True for the edge device's answers (`ACKSPT`, `ACKSCHD`, …).
    pub fn is_acknowledgement(&self) -> bool {
        self.message_type.starts_with("ACK")
    }

    /// One readable line: `NEWSPT RTs = 20.5 (priority 13, dry run)` or `ACKSPT written`.
    pub fn describe(&self) -> String {
        let mut text = self.message_type.to_string();
        if let Some(datapoint) = &self.datapoint {
            text.push(' ');
            text.push_str(datapoint);
        }
        if let Some(value) = &self.value {
            text.push_str(" = ");
            text.push_str(value);
        }
        let mut notes = Vec::new();
        if let Some(priority) = self.priority {
            notes.push(format!("priority {priority}"));
        }
        if self.dry_run == Some(true) {
            notes.push("dry run".to_owned());
        }
        if let Some(state) = &self.state {
            notes.push(state.to_string());
        } else if let Some(success) = self.success {
            notes.push(if success { "success" } else { "no success" }.to_owned());
        }
        if !notes.is_empty() {
            text.push_str(&format!(" ({})", notes.join(", ")));
        }
        text
    }
}

fn bounded(text: &str) -> Box<str> {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    }
}

/// Where an operation stands, judged from its newest acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationState {
    /// Sent, no acknowledgement (yet; an unacknowledged setpoint stays here for ever).
    Requested,
    /// The edge device wrote it.
    Written,
    /// A dry run the edge device found valid; nothing was written.
    Validated,
    /// The edge device refused or failed; its message, if it gave one.
    Failed(Option<String>),
    /// Acknowledged with another state (schedules: `active`, `terminated`, …).
    Acknowledged(String),
}

impl OperationState {
    /// A short word for the timeline.
    pub fn label(&self) -> &str {
        match self {
            OperationState::Requested => "requested",
            OperationState::Written => "written",
            OperationState::Validated => "validated",
            OperationState::Failed(_) => "failed",
            OperationState::Acknowledged(state) => state,
        }
    }
}

/// A request and its acknowledgements, grouped by `reference`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Position in the timeline (increasing, never reused).
    pub sequence: u64,
    /// The correlating id, if the messages carried one.
    pub reference: Option<Box<str>>,
    /// Topic node of the first message.
    pub topic: NodeId,
    /// The newest request (`NEWSPT`, `NEWSCHD`, …), if one was seen.
    pub request: Option<SwopFacts>,
    /// How many requests were seen (more than one: the issuer re-sent it).
    pub requests_seen: u32,
    /// The newest acknowledgement, if one was seen.
    pub acknowledgement: Option<SwopFacts>,
    /// How many acknowledgements were seen (more than one: answers to re-sent requests).
    pub acknowledgements_seen: u32,
    /// Arrival of the first message of the operation.
    pub first_at_nanos: Nanos,
    /// Arrival of the newest message of the operation.
    pub last_at_nanos: Nanos,
}

impl Operation {
    /// Where the operation stands.
    pub fn state(&self) -> OperationState {
        let Some(ack) = &self.acknowledgement else {
            return OperationState::Requested;
        };
        let failure = || OperationState::Failed(ack.message.as_deref().map(str::to_owned));
        let dry_run = self
            .request
            .as_ref()
            .and_then(|request| request.dry_run)
            .or(ack.dry_run)
            == Some(true);
        match ack.state.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("written") => OperationState::Written,
            Some("validated") => OperationState::Validated,
            Some("failed" | "error" | "refused") => failure(),
            Some(_) if ack.success == Some(false) => failure(),
            Some(other) => OperationState::Acknowledged(other.to_owned()),
            None => match ack.success {
                Some(true) if dry_run => OperationState::Validated,
                Some(true) => OperationState::Written,
                Some(false) => failure(),
                None => OperationState::Acknowledged("acknowledged".to_owned()),
            },
        }
    }

    /// Duplicates seen beyond the first request and first acknowledgement.
    pub fn duplicates(&self) -> u32 {
        self.requests_seen.saturating_sub(1) + self.acknowledgements_seen.saturating_sub(1)
    }
}

/// Every SWOP operation seen, oldest first, bounded by [`MAX_OPERATIONS`].
#[derive(Debug, Default)]
pub struct ControlsTimeline {
    operations: VecDeque<Operation>,
    /// Sequence of `operations[0]`.
    first_sequence: u64,
    by_reference: HashMap<Box<str>, u64>,
    /// Bumped on every change (for views that cache rows).
    revision: u64,
}

impl ControlsTimeline {
    /// Records one SWOP message received on `topic` at `received_at_nanos`.
    pub fn record(&mut self, topic: NodeId, facts: &SwopFacts, received_at_nanos: Nanos) {
        self.revision += 1;
        let existing = facts
            .reference
            .as_deref()
            .and_then(|reference| self.by_reference.get(reference))
            .and_then(|&sequence| sequence.checked_sub(self.first_sequence))
            .and_then(|index| usize::try_from(index).ok());
        if let Some(operation) = existing.and_then(|index| self.operations.get_mut(index)) {
            add_message(operation, facts, received_at_nanos);
            return;
        }
        let sequence = self.first_sequence + self.operations.len() as u64;
        let mut operation = Operation {
            sequence,
            reference: facts.reference.clone(),
            topic,
            request: None,
            requests_seen: 0,
            acknowledgement: None,
            acknowledgements_seen: 0,
            first_at_nanos: received_at_nanos,
            last_at_nanos: received_at_nanos,
        };
        add_message(&mut operation, facts, received_at_nanos);
        if let Some(reference) = &facts.reference {
            self.by_reference.insert(reference.clone(), sequence);
        }
        self.operations.push_back(operation);
        while self.operations.len() > MAX_OPERATIONS {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        let Some(oldest) = self.operations.pop_front() else {
            return;
        };
        self.first_sequence += 1;
        if let Some(reference) = &oldest.reference
            && self.by_reference.get(reference) == Some(&oldest.sequence)
        {
            self.by_reference.remove(reference);
        }
    }

    /// The operations, oldest first.
    pub fn operations(&self) -> impl DoubleEndedIterator<Item = &Operation> + ExactSizeIterator {
        self.operations.iter()
    }

    /// The operation correlated by `reference`, if still held.
    pub fn by_reference(&self, reference: &str) -> Option<&Operation> {
        let sequence = *self.by_reference.get(reference)?;
        let index = usize::try_from(sequence.checked_sub(self.first_sequence)?).ok()?;
        self.operations.get(index)
    }

    /// Number of operations held.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// True when no SWOP message was seen (or all were forgotten).
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Changes whenever a message was recorded.
    pub fn revision(&self) -> u64 {
        self.revision
    }
}

fn add_message(operation: &mut Operation, facts: &SwopFacts, received_at_nanos: Nanos) {
    operation.last_at_nanos = operation.last_at_nanos.max(received_at_nanos);
    if facts.is_acknowledgement() {
        operation.acknowledgements_seen += 1;
        operation.acknowledgement = Some(facts.clone());
    } else {
        operation.requests_seen += 1;
        operation.request = Some(facts.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: NodeId = NodeId(7);

    fn facts(json: &str) -> SwopFacts {
        SwopFacts::from_document(&serde_json::from_str(json).unwrap()).unwrap()
    }

    fn request(reference: &str, dry_run: bool) -> SwopFacts {
        facts(&format!(
            r#"{{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":20.5,"priority":13,"acknowledge":true,"dry_run":{dry_run},"reference":"{reference}"}}"#
        ))
    }

    fn ack(reference: &str, state: &str, message: &str) -> SwopFacts {
        facts(&format!(
            r#"{{"type":"ACKSPT","swop_version":"0.2","reference":"{reference}","state":"{state}","message":"{message}"}}"#
        ))
    }

    #[test]
    fn a_request_without_answer_stays_requested() {
        let mut timeline = ControlsTimeline::default();
        timeline.record(TOPIC, &request("r1", false), 1);
        let operation = timeline.by_reference("r1").unwrap();
        assert_eq!(operation.state(), OperationState::Requested);
        assert_eq!(
            operation.request.as_ref().unwrap().describe(),
            "NEWSPT RTs = 20.5 (priority 13)"
        );
    }

    #[test]
    fn an_acknowledgement_marks_its_request_written() {
        let mut timeline = ControlsTimeline::default();
        timeline.record(TOPIC, &request("r1", false), 1);
        timeline.record(TOPIC, &request("r2", false), 2);
        timeline.record(TOPIC, &ack("r1", "written", "Successfully wrote"), 3);
        assert_eq!(timeline.len(), 2);
        let operation = timeline.by_reference("r1").unwrap();
        assert_eq!(operation.state(), OperationState::Written);
        assert_eq!((operation.first_at_nanos, operation.last_at_nanos), (1, 3));
        assert_eq!(
            timeline.by_reference("r2").unwrap().state(),
            OperationState::Requested
        );
    }

    #[test]
    fn a_failed_acknowledgement_carries_the_edge_devices_error() {
        let mut timeline = ControlsTimeline::default();
        timeline.record(TOPIC, &request("r1", false), 1);
        timeline.record(TOPIC, &ack("r1", "failed", "Refused: read-only"), 2);
        assert_eq!(
            timeline.by_reference("r1").unwrap().state(),
            OperationState::Failed(Some("Refused: read-only".to_owned()))
        );
        let success_only =
            facts(r#"{"type":"ACKSPT","swop_version":"0.2","reference":"r2","success":false}"#);
        timeline.record(TOPIC, &success_only, 3);
        assert_eq!(
            timeline.by_reference("r2").unwrap().state(),
            OperationState::Failed(None)
        );
    }

    #[test]
    fn a_successful_dry_run_is_validated() {
        let mut timeline = ControlsTimeline::default();
        timeline.record(TOPIC, &request("r1", true), 1);
        let success =
            facts(r#"{"type":"ACKSPT","swop_version":"0.2","reference":"r1","success":true}"#);
        timeline.record(TOPIC, &success, 2);
        assert_eq!(
            timeline.by_reference("r1").unwrap().state(),
            OperationState::Validated
        );
        timeline.record(TOPIC, &ack("r3", "validated", "Dry run"), 3);
        assert_eq!(
            timeline.by_reference("r3").unwrap().state(),
            OperationState::Validated
        );
    }

    #[test]
    fn duplicates_are_grouped_and_counted() {
        let mut timeline = ControlsTimeline::default();
        for at in 0..3 {
            timeline.record(TOPIC, &request("r1", false), at * 2);
            timeline.record(TOPIC, &ack("r1", "written", "ok"), at * 2 + 1);
        }
        assert_eq!(timeline.len(), 1);
        let operation = timeline.by_reference("r1").unwrap();
        assert_eq!(
            (operation.requests_seen, operation.acknowledgements_seen),
            (3, 3)
        );
        assert_eq!(operation.duplicates(), 4);
        assert_eq!(operation.state(), OperationState::Written);
    }

    #[test]
    fn messages_without_reference_stand_alone() {
        let mut timeline = ControlsTimeline::default();
        let alive = facts(r#"{"type":"ALIVE","swop_version":"0.2"}"#);
        timeline.record(TOPIC, &alive, 1);
        timeline.record(TOPIC, &alive, 2);
        assert_eq!(timeline.len(), 2);
        assert!(timeline.operations().all(|op| op.reference.is_none()));
    }

    #[test]
    fn an_acknowledgement_before_its_request_still_correlates() {
        let mut timeline = ControlsTimeline::default();
        timeline.record(TOPIC, &ack("r1", "written", "ok"), 1);
        timeline.record(TOPIC, &request("r1", false), 2);
        let operation = timeline.by_reference("r1").unwrap();
        assert!(operation.request.is_some());
        assert_eq!(operation.state(), OperationState::Written);
    }

    #[test]
    fn the_timeline_is_bounded_and_forgets_references_of_dropped_operations() {
        let mut timeline = ControlsTimeline::default();
        for index in 0..MAX_OPERATIONS + 5 {
            timeline.record(TOPIC, &request(&format!("r{index}"), false), index as i64);
        }
        assert_eq!(timeline.len(), MAX_OPERATIONS);
        assert!(timeline.by_reference("r0").is_none());
        assert!(timeline.by_reference("r5").is_some());
        timeline.record(TOPIC, &ack("r5", "written", "ok"), 1);
        assert_eq!(
            timeline.by_reference("r5").unwrap().state(),
            OperationState::Written
        );
        assert_eq!(timeline.by_reference("r5").unwrap().sequence, 5);
    }

    #[test]
    fn numeric_references_and_other_states_are_kept() {
        let schedule = facts(
            r#"{"type":"ACKSCHD","swop_version":"0.2","reference":42,"state":"active","success":true}"#,
        );
        assert_eq!(schedule.reference.as_deref(), Some("42"));
        let mut timeline = ControlsTimeline::default();
        timeline.record(TOPIC, &schedule, 1);
        assert_eq!(
            timeline.by_reference("42").unwrap().state(),
            OperationState::Acknowledged("active".to_owned())
        );
        assert!(SwopFacts::from_document(&serde_json::json!({"type": 3})).is_none());
    }
}
