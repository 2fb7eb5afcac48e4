//! Writing to a broker: publish requests, payload editing modes, and the [`Publisher`], the one
//! gate every outgoing message passes (UI and command line alike).
//!
//! The gate enforces the profile's read-only switch for every kind of write (plain publish,
//! clearing retained messages, SWOP setpoints), numbers each message, records it in the
//! sent-message history and the audit log, and follows it until the broker acknowledges it
//! (PUBACK for QoS 1, PUBCOMP for QoS 2, "sent" for QoS 0), the network layer reports that it
//! could not be sent, or a timeout passes. The model never touches the network: the app hands the
//! [`AuthorizedPublish`] to the worker and feeds the worker's reports back in.

use std::collections::VecDeque;

use crate::model::aedifion::family::{TopicFamily, topic_family};
use crate::model::aedifion::swop;
use crate::model::time::Nanos;
use crate::model::topic::filter::{TopicError, validate_topic_name};
use crate::model::topic::qos::Qos;
use crate::model::write::audit::{AuditEntry, AuditLog};

/// Sent messages kept in the history (oldest forgotten first).
pub const SENT_HISTORY_LEN: usize = 200;
/// How long a QoS 1/2 publish may wait for the broker's acknowledgement.
pub const DEFAULT_ACK_TIMEOUT_NANOS: Nanos = 10_000_000_000;
/// Number that identifies one publish between the model, the worker and the audit log.
pub type PublishId = u64;

/// How the payload editor reads the text the user typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PayloadMode {
    /// The text as UTF-8 bytes.
    #[default]
    Text,
    /// JSON: must parse; sent compact as typed (pretty-print is a separate editor action).
    Json,
    /// Hex digits, spaces and line breaks ignored (`de ad be ef`).
    Hex,
}

impl PayloadMode {
    /// Every mode, in the order the editor offers them.
    pub const ALL: [PayloadMode; 3] = [PayloadMode::Text, PayloadMode::Json, PayloadMode::Hex];

    /// Name shown in the editor.
    pub fn label(self) -> &'static str {
        match self {
            PayloadMode::Text => "Text",
            PayloadMode::Json => "JSON",
            PayloadMode::Hex => "Hex",
        }
    }
}

/// Why a payload or request cannot be sent, in words that say what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The JSON editor holds something that is not JSON.
    #[error("The payload is not valid JSON: {0}. Fix it or switch the editor to Text.")]
    InvalidJson(String),
    /// A character that is not a hex digit.
    #[error(
        "The payload is not hex: '{character}' at position {position}. Use digits 0-9 and a-f, spaces are ignored."
    )]
    InvalidHex {
        /// The offending character.
        character: char,
        /// Its 1-based position in the text.
        position: usize,
    },
    /// An odd number of hex digits.
    #[error("The hex payload has an odd number of digits ({0}); every byte needs two.")]
    OddHexDigits(usize),
    /// The topic cannot be published to.
    #[error("Topic: {0}")]
    Topic(#[from] TopicError),
}

/// Reads the editor's text as payload bytes in `mode`.
pub fn payload_bytes(mode: PayloadMode, text: &str) -> Result<Vec<u8>, PublishError> {
    match mode {
        PayloadMode::Text => Ok(text.as_bytes().to_vec()),
        PayloadMode::Json => {
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|error| PublishError::InvalidJson(error.to_string()))?;
            Ok(text.as_bytes().to_vec())
        }
        PayloadMode::Hex => parse_hex(text),
    }
}

/// The JSON text pretty-printed (two-space indent), or why it is not JSON.
pub fn pretty_json(text: &str) -> Result<String, PublishError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| PublishError::InvalidJson(error.to_string()))?;
    serde_json::to_string_pretty(&value)
        .map_err(|error| PublishError::InvalidJson(error.to_string()))
}

/// Parses hex digits; whitespace separates nothing and is ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, PublishError> {
    let mut digits = Vec::with_capacity(text.len());
    for (index, character) in text.chars().enumerate() {
        if character.is_whitespace() {
            continue;
        }
        let Some(digit) = character.to_digit(16) else {
            return Err(PublishError::InvalidHex {
                character,
                position: index + 1,
            });
        };
        // to_digit(16) is below 16, so it fits a byte.
        digits.push(digit as u8);
    }
    if digits.len() % 2 != 0 {
        return Err(PublishError::OddHexDigits(digits.len()));
    }
    Ok(digits
        .chunks_exact(2)
        .map(|pair| (pair[0] << 4) | pair[1])
        .collect())
}

/// Bytes as lowercase hex pairs separated by spaces.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 3);
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 {
            text.push(' ');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// One message to publish, before the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    /// Concrete topic (no wildcards).
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
    pub qos: Qos,
    /// Ask the broker to keep it as the topic's retained message.
    pub retain: bool,
}

impl PublishRequest {
    /// Checks the topic name.
    pub fn validate(&self) -> Result<(), PublishError> {
        validate_topic_name(&self.topic)?;
        Ok(())
    }
}

/// True for a topic on `CONTROLS/…`, where SWOP requests reach the building's edge device.
pub fn is_controls_topic(topic: &str) -> bool {
    topic_family(topic) == TopicFamily::Controls
}

/// The rules for `CONTROLS/…` every write passes (the gate checks them; the publish window
/// checks them before it asks for confirmation): not retained, and a valid SWOP request (the
/// strict validator the setpoint composer uses), not an acknowledgement (the edge device sends
/// those). Other topics pass.
pub fn check_controls(request: &PublishRequest) -> Result<(), WriteError> {
    if !is_controls_topic(&request.topic) {
        return Ok(());
    }
    if request.retain {
        return Err(WriteError::ControlsRetained(request.topic.clone()));
    }
    let invalid = |reason: String| WriteError::InvalidSwop {
        topic: request.topic.clone(),
        reason,
    };
    match swop::parse(&request.payload) {
        Err(error) => Err(invalid(error.to_string())),
        Ok(message) if message.message_type().is_acknowledgement() => Err(invalid(format!(
            "{} is an acknowledgement, which only the edge device sends",
            message.message_type().code()
        ))),
        Ok(_) => Ok(()),
    }
}

/// What kind of write a message is (the read-only switch refuses all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum WriteKind {
    /// A message the user composed (panel, template, Influx builder, CLI `publish`).
    Publish,
    /// An empty retained message that deletes a topic's retained message.
    ClearRetained,
    /// A SWOP request on `CONTROLS/…` (setpoints and schedules).
    Setpoint,
    /// A run of the load generator (`topicscope bench publish`): many messages, audited as
    /// one run.
    Load,
}

impl WriteKind {
    /// Lower-case words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            WriteKind::Publish => "publishing",
            WriteKind::ClearRetained => "clearing retained messages",
            WriteKind::Setpoint => "writing setpoints",
            WriteKind::Load => "running the load generator",
        }
    }
}

/// Why the gate refused a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The profile is read-only.
    #[error(
        "The profile \"{profile}\" is read-only: {} is switched off. Turn off \"Read-only\" in the profile editor to write.",
        kind.describe()
    )]
    ReadOnly {
        /// Profile name.
        profile: String,
        /// What was attempted.
        kind: WriteKind,
    },
    /// The request itself is invalid.
    #[error("{0}")]
    Invalid(#[from] PublishError),
    /// A clear that is not an empty retained message (a programming error the gate catches).
    #[error("Clearing a retained message must publish an empty payload with retain set.")]
    NotAClear,
    /// A retained message on `CONTROLS/…`: every later subscriber (the edge device after a
    /// restart) would receive the request again.
    #[error(
        "A message to {0} must not be retained: the edge device would receive the request again after every reconnect."
    )]
    ControlsRetained(String),
    /// A message on `CONTROLS/…` that is not a valid SWOP request.
    #[error(
        "Not sent: a message to {topic} must be a valid SWOP request ({reason}). Use Write setpoint to compose one."
    )]
    InvalidSwop {
        /// The topic.
        topic: String,
        /// What the SWOP validator said.
        reason: String,
    },
    /// The load generator aimed at `CONTROLS/…`.
    #[error("The load generator does not write to CONTROLS/ topics: choose another --prefix.")]
    LoadOnControls,
    /// The audit log could not record the write, so it was not sent (fail closed).
    #[error("Nothing was sent: the write could not be recorded in the audit log first. {0}")]
    Audit(String),
}

/// A write the gate allowed, numbered; only [`Publisher::authorize`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedPublish {
    id: PublishId,
    kind: WriteKind,
    request: PublishRequest,
}

impl AuthorizedPublish {
    /// Its number (the worker reports outcomes by it).
    pub fn id(&self) -> PublishId {
        self.id
    }

    /// What kind of write it is.
    pub fn kind(&self) -> WriteKind {
        self.kind
    }

    /// The message.
    pub fn request(&self) -> &PublishRequest {
        &self.request
    }

    /// Number and message, for the network layer.
    pub fn into_parts(self) -> (PublishId, PublishRequest) {
        (self.id, self.request)
    }
}

/// A run of the load generator, as the gate sees it: where, how much, how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadRun {
    /// The topics written, as a filter (`lbg01/bench/+`).
    pub topics: String,
    /// What is sent, in words ("100000 messages, Influx payloads, over 1000 topics").
    pub description: String,
    pub qos: Qos,
    pub retain: bool,
}

/// A load run the gate allowed; only [`Publisher::authorize_load`] makes one.
#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizedLoad {
    id: PublishId,
}

impl AuthorizedLoad {
    /// Its number in the audit log.
    pub fn id(&self) -> PublishId {
        self.id
    }
}

/// What became of a publish.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum PublishOutcome {
    /// Handed to the network layer; nothing heard yet.
    Requested,
    /// QoS 0: written to the connection (the broker does not acknowledge QoS 0).
    Sent,
    /// QoS 1: the broker's PUBACK arrived.
    Acknowledged,
    /// QoS 2: the broker's PUBCOMP arrived.
    Completed,
    /// The network layer could not send it (not connected, too big, queue full…).
    NotSent(String),
    /// No acknowledgement within the timeout.
    TimedOut,
    /// The connection dropped after the message was handed over and before the broker
    /// confirmed it: it may or may not have arrived. It is never sent again.
    Unknown(String),
    /// The gate refused it (audit log only: refused writes get no number and no history entry).
    Refused(String),
}

impl PublishOutcome {
    /// True once nothing more will happen to it.
    pub fn is_final(&self) -> bool {
        !matches!(self, PublishOutcome::Requested)
    }

    /// True when the broker took it (or, for QoS 0, it was written).
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            PublishOutcome::Sent | PublishOutcome::Acknowledged | PublishOutcome::Completed
        )
    }

    /// A short text for lists and the command line.
    pub fn label(&self) -> String {
        match self {
            PublishOutcome::Requested => "waiting for the broker".to_owned(),
            PublishOutcome::Sent => "sent (QoS 0, not acknowledged)".to_owned(),
            PublishOutcome::Acknowledged => "acknowledged (PUBACK)".to_owned(),
            PublishOutcome::Completed => "completed (PUBCOMP)".to_owned(),
            PublishOutcome::NotSent(reason) => format!("not sent: {reason}"),
            PublishOutcome::TimedOut => "no acknowledgement from the broker (timeout)".to_owned(),
            PublishOutcome::Unknown(reason) => format!("outcome unknown: {reason}"),
            PublishOutcome::Refused(reason) => format!("refused: {reason}"),
        }
    }
}

/// One message the app sent, for the history list (re-sendable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub id: PublishId,
    pub kind: WriteKind,
    pub request: PublishRequest,
    pub sent_at_nanos: Nanos,
    pub outcome: PublishOutcome,
}

/// Who is writing where: written into every audit line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WriteContext {
    /// Profile name.
    pub profile: String,
    /// `host:port` of the broker.
    pub broker: String,
    /// The profile's read-only switch.
    pub read_only: bool,
}

/// The gate for every outgoing message (see the module docs).
#[derive(Debug)]
pub struct Publisher {
    context: WriteContext,
    audit: Option<AuditLog>,
    next_id: PublishId,
    ack_timeout_nanos: Nanos,
    /// Newest last; bounded by [`SENT_HISTORY_LEN`].
    sent: VecDeque<SentMessage>,
    /// Problems writing the audit log, to show once.
    audit_problem: Option<String>,
    /// Load runs authorized and not finished.
    load_runs: Vec<(PublishId, SentMessage)>,
}

impl Publisher {
    /// A gate for `context`, appending to `audit` if given.
    pub fn new(context: WriteContext, audit: Option<AuditLog>) -> Self {
        Self {
            context,
            audit,
            next_id: 1,
            ack_timeout_nanos: DEFAULT_ACK_TIMEOUT_NANOS,
            sent: VecDeque::new(),
            audit_problem: None,
            load_runs: Vec::new(),
        }
    }

    /// Changes how long an acknowledgement may take.
    pub fn with_ack_timeout_nanos(mut self, timeout_nanos: Nanos) -> Self {
        self.ack_timeout_nanos = timeout_nanos.max(1);
        self
    }

    /// Who is writing where.
    pub fn context(&self) -> &WriteContext {
        &self.context
    }

    /// Changes the profile/broker/read-only switch (a new connection, or the editor toggled it).
    pub fn set_context(&mut self, context: WriteContext) {
        self.context = context;
    }

    /// True when every write is refused.
    pub fn read_only(&self) -> bool {
        self.context.read_only
    }

    /// The audit log, if any.
    pub fn audit(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    /// A problem writing the audit log since the last call (taken, so it is shown once).
    pub fn take_audit_problem(&mut self) -> Option<String> {
        self.audit_problem.take()
    }

    /// The gate: refuses every write of a read-only profile (and records the refusal in the
    /// audit log) and invalid requests; otherwise numbers the message and records it as
    /// requested in the audit log, flushed to disk, before returning it for the network layer.
    /// If the audit log cannot record it, nothing is sent ([`WriteError::Audit`]).
    pub fn authorize(
        &mut self,
        request: PublishRequest,
        kind: WriteKind,
        now_nanos: Nanos,
    ) -> Result<AuthorizedPublish, WriteError> {
        if self.context.read_only {
            let refusal = WriteError::ReadOnly {
                profile: self.context.profile.clone(),
                kind,
            };
            let refused = SentMessage {
                id: 0,
                kind,
                request,
                sent_at_nanos: now_nanos,
                outcome: PublishOutcome::Refused(refusal.to_string()),
            };
            // The refusal stands whether or not it could be recorded.
            let _ = self.write_audit(&refused, now_nanos);
            return Err(refusal);
        }
        request.validate()?;
        if kind == WriteKind::ClearRetained && (!request.payload.is_empty() || !request.retain) {
            return Err(WriteError::NotAClear);
        }
        if kind != WriteKind::ClearRetained {
            check_controls(&request)?;
        }
        let id = self.next_id;
        let sent = SentMessage {
            id,
            kind,
            request: request.clone(),
            sent_at_nanos: now_nanos,
            outcome: PublishOutcome::Requested,
        };
        if let Err(problem) = self.write_audit(&sent, now_nanos) {
            return Err(WriteError::Audit(problem));
        }
        self.next_id += 1;
        self.sent.push_back(sent);
        while self.sent.len() > SENT_HISTORY_LEN {
            self.sent.pop_front();
        }
        Ok(AuthorizedPublish { id, kind, request })
    }

    /// The gate for the load generator: refuses a read-only profile (recorded) and `CONTROLS/…`,
    /// records the run as requested (flushed, fail closed) and numbers it. Its result is
    /// recorded with [`Publisher::record_load_outcome`].
    pub fn authorize_load(
        &mut self,
        run: &LoadRun,
        now_nanos: Nanos,
    ) -> Result<AuthorizedLoad, WriteError> {
        let sent = SentMessage {
            id: 0,
            kind: WriteKind::Load,
            request: PublishRequest {
                topic: run.topics.clone(),
                payload: run.description.clone().into_bytes(),
                qos: run.qos,
                retain: run.retain,
            },
            sent_at_nanos: now_nanos,
            outcome: PublishOutcome::Requested,
        };
        let refusal = if self.context.read_only {
            Some(WriteError::ReadOnly {
                profile: self.context.profile.clone(),
                kind: WriteKind::Load,
            })
        } else if is_controls_topic(&run.topics) {
            Some(WriteError::LoadOnControls)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            let refused = SentMessage {
                outcome: PublishOutcome::Refused(refusal.to_string()),
                ..sent
            };
            let _ = self.write_audit(&refused, now_nanos);
            return Err(refusal);
        }
        let id = self.next_id;
        let sent = SentMessage { id, ..sent };
        self.write_audit(&sent, now_nanos)
            .map_err(WriteError::Audit)?;
        self.next_id += 1;
        self.load_runs.push((id, sent));
        Ok(AuthorizedLoad { id })
    }

    /// Records how a load run ended (e.g. `NotSent` with how many messages went out).
    pub fn record_load_outcome(
        &mut self,
        load: AuthorizedLoad,
        outcome: PublishOutcome,
        now_nanos: Nanos,
    ) {
        let Some(index) = self.load_runs.iter().position(|(id, _)| *id == load.id) else {
            return;
        };
        let (_, mut sent) = self.load_runs.swap_remove(index);
        sent.outcome = outcome;
        let _ = self.write_audit(&sent, now_nanos);
    }

    /// Records what the network layer reported for `id`. Only the first final outcome counts.
    pub fn record_outcome(&mut self, id: PublishId, outcome: PublishOutcome, now_nanos: Nanos) {
        let Some(index) = self.sent.iter().position(|sent| sent.id == id) else {
            return;
        };
        if self.sent[index].outcome.is_final() || !outcome.is_final() {
            return;
        }
        self.sent[index].outcome = outcome;
        let sent = self.sent[index].clone();
        // The message is out: a failure to record its outcome is shown, it cannot be undone.
        let _ = self.write_audit(&sent, now_nanos);
    }

    /// Marks publishes that waited longer than the timeout as timed out; returns their ids.
    pub fn expire(&mut self, now_nanos: Nanos) -> Vec<PublishId> {
        let expired: Vec<PublishId> = self
            .sent
            .iter()
            .filter(|sent| {
                !sent.outcome.is_final()
                    && now_nanos.saturating_sub(sent.sent_at_nanos) >= self.ack_timeout_nanos
            })
            .map(|sent| sent.id)
            .collect();
        for &id in &expired {
            self.record_outcome(id, PublishOutcome::TimedOut, now_nanos);
        }
        expired
    }

    /// True while some publish waits for its outcome.
    pub fn waiting(&self) -> bool {
        self.sent.iter().any(|sent| !sent.outcome.is_final())
    }

    /// The outcome of `id`, if still in the history.
    pub fn outcome(&self, id: PublishId) -> Option<&PublishOutcome> {
        self.sent
            .iter()
            .find(|sent| sent.id == id)
            .map(|sent| &sent.outcome)
    }

    /// Sent messages, newest first.
    pub fn sent_newest_first(&self) -> impl Iterator<Item = &SentMessage> {
        self.sent.iter().rev()
    }

    /// Appends `sent` in its current state; the problem (also kept for
    /// [`Publisher::take_audit_problem`]) if that failed.
    fn write_audit(&mut self, sent: &SentMessage, now_nanos: Nanos) -> Result<(), String> {
        let Some(audit) = &mut self.audit else {
            return Ok(());
        };
        let entry = AuditEntry::new(&self.context, sent, now_nanos);
        audit.append(&entry).map_err(|error| {
            tracing::warn!("audit log: {error}");
            let problem = error.to_string();
            self.audit_problem = Some(problem.clone());
            problem
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(topic: &str) -> PublishRequest {
        PublishRequest {
            topic: topic.to_owned(),
            payload: b"1".to_vec(),
            qos: Qos::AtLeastOnce,
            retain: false,
        }
    }

    fn publisher(read_only: bool) -> Publisher {
        Publisher::new(
            WriteContext {
                profile: "p".to_owned(),
                broker: "h:1".to_owned(),
                read_only,
            },
            None,
        )
    }

    #[test]
    fn hex_payloads_ignore_spaces_and_report_bad_digits_with_their_position() {
        assert_eq!(parse_hex("de ad\nBE ef"), Ok(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(
            parse_hex("0g"),
            Err(PublishError::InvalidHex {
                character: 'g',
                position: 2
            })
        );
        assert_eq!(parse_hex("abc"), Err(PublishError::OddHexDigits(3)));
        assert_eq!(to_hex(&[0, 255, 16]), "00 ff 10");
    }

    #[test]
    fn json_mode_refuses_invalid_json_and_pretty_prints_valid_json() {
        assert!(matches!(
            payload_bytes(PayloadMode::Json, "{\"a\":"),
            Err(PublishError::InvalidJson(_))
        ));
        assert_eq!(
            payload_bytes(PayloadMode::Json, "{\"a\":1}"),
            Ok(b"{\"a\":1}".to_vec())
        );
        assert_eq!(
            pretty_json("{\"a\":[1]}"),
            Ok("{\n  \"a\": [\n    1\n  ]\n}".to_owned())
        );
        assert_eq!(
            payload_bytes(PayloadMode::Text, "é"),
            Ok("é".as_bytes().to_vec())
        );
    }

    #[test]
    fn a_read_only_profile_refuses_every_kind_of_write() {
        let mut gate = publisher(true);
        for kind in [
            WriteKind::Publish,
            WriteKind::ClearRetained,
            WriteKind::Setpoint,
        ] {
            let mut message = request("a/b");
            if kind == WriteKind::ClearRetained {
                message.payload.clear();
                message.retain = true;
            }
            let refused = gate.authorize(message, kind, 0);
            assert_eq!(
                refused,
                Err(WriteError::ReadOnly {
                    profile: "p".to_owned(),
                    kind
                })
            );
        }
        assert_eq!(gate.sent_newest_first().count(), 0, "nothing was recorded");
    }

    #[test]
    fn wildcard_topics_and_non_empty_clears_are_refused() {
        let mut gate = publisher(false);
        assert!(matches!(
            gate.authorize(request("a/#"), WriteKind::Publish, 0),
            Err(WriteError::Invalid(PublishError::Topic(_)))
        ));
        let mut clear = request("a");
        clear.retain = true;
        assert_eq!(
            gate.authorize(clear, WriteKind::ClearRetained, 0),
            Err(WriteError::NotAClear)
        );
    }

    #[test]
    fn outcomes_are_recorded_once_and_silence_times_out() {
        let mut gate = publisher(false).with_ack_timeout_nanos(100);
        let first = gate.authorize(request("a"), WriteKind::Publish, 0).unwrap();
        let second = gate.authorize(request("b"), WriteKind::Publish, 0).unwrap();
        assert_ne!(first.id(), second.id());
        gate.record_outcome(first.id(), PublishOutcome::Acknowledged, 10);
        gate.record_outcome(first.id(), PublishOutcome::TimedOut, 20);
        assert_eq!(
            gate.outcome(first.id()),
            Some(&PublishOutcome::Acknowledged)
        );
        assert!(gate.waiting());
        assert_eq!(gate.expire(99), Vec::<PublishId>::new());
        assert_eq!(gate.expire(100), vec![second.id()]);
        assert_eq!(gate.outcome(second.id()), Some(&PublishOutcome::TimedOut));
        assert!(!gate.waiting());
        let newest: Vec<_> = gate.sent_newest_first().map(|sent| sent.id).collect();
        assert_eq!(newest, [second.id(), first.id()]);
    }

    #[test]
    fn a_write_the_audit_log_cannot_record_is_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the config folder should be: the log cannot be created.
        let blocked = dir.path().join("config");
        std::fs::write(&blocked, "a file").unwrap();
        let mut gate = Publisher::new(
            WriteContext {
                profile: "p".to_owned(),
                broker: "h:1".to_owned(),
                read_only: false,
            },
            Some(AuditLog::new(&blocked)),
        );
        let refused = gate.authorize(request("a"), WriteKind::Publish, 0);
        assert!(matches!(refused, Err(WriteError::Audit(_))), "{refused:?}");
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("Nothing was sent")
        );
        assert_eq!(gate.sent_newest_first().count(), 0);
        assert!(gate.take_audit_problem().is_some(), "shown to the user");
    }

    #[test]
    fn read_only_refusals_are_recorded_in_the_audit_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut gate = Publisher::new(
            WriteContext {
                profile: "building".to_owned(),
                broker: "h:1".to_owned(),
                read_only: true,
            },
            Some(AuditLog::new(dir.path())),
        );
        assert!(
            gate.authorize(request("a/b"), WriteKind::Setpoint, 5)
                .is_err()
        );
        let entries = AuditLog::new(dir.path()).recent(10).unwrap();
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(
            (entry.id, entry.kind, entry.topic.as_str()),
            (0, WriteKind::Setpoint, "a/b")
        );
        assert!(
            matches!(&entry.outcome, PublishOutcome::Refused(reason) if reason.contains("read-only")),
            "{:?}",
            entry.outcome
        );
    }

    #[test]
    fn controls_writes_must_be_valid_swop_requests_and_never_retained() {
        let mut gate = publisher(false);
        let newspt =
            br#"{"type":"NEWSPT","swop_version":"1.0","datapoint":"d","value":21.5,"priority":13}"#;
        let mut controls = request("CONTROLS/lbg01/x");
        controls.payload = newspt.to_vec();
        assert!(
            gate.authorize(controls.clone(), WriteKind::Publish, 0)
                .is_ok()
        );
        let mut retained = controls.clone();
        retained.retain = true;
        assert!(matches!(
            gate.authorize(retained, WriteKind::Setpoint, 0),
            Err(WriteError::ControlsRetained(_))
        ));
        for payload in [
            &b"21.5"[..],
            br#"{"type":"NEWSPT"}"#,
            br#"{"type":"ACKSPT","swop_version":"1.0"}"#,
        ] {
            let mut bad = controls.clone();
            bad.payload = payload.to_vec();
            let refused = gate.authorize(bad, WriteKind::Publish, 0);
            assert!(
                matches!(refused, Err(WriteError::InvalidSwop { .. })),
                "{payload:?}: {refused:?}"
            );
        }
        // Clearing a retained CONTROLS message stays possible.
        let mut clear = request("CONTROLS/lbg01/x");
        clear.payload.clear();
        clear.retain = true;
        assert!(gate.authorize(clear, WriteKind::ClearRetained, 0).is_ok());
    }

    #[test]
    fn a_load_run_is_refused_read_only_or_on_controls_and_audited_before_and_after() {
        let dir = tempfile::tempdir().unwrap();
        let context = |read_only| WriteContext {
            profile: "bench".to_owned(),
            broker: "h:1".to_owned(),
            read_only,
        };
        let run = LoadRun {
            topics: "lbg01/bench/+".into(),
            description: "10 messages".into(),
            qos: Qos::AtMostOnce,
            retain: false,
        };
        let mut refused = Publisher::new(context(true), Some(AuditLog::new(dir.path())));
        assert!(matches!(
            refused.authorize_load(&run, 1),
            Err(WriteError::ReadOnly {
                kind: WriteKind::Load,
                ..
            })
        ));
        let mut gate = Publisher::new(context(false), Some(AuditLog::new(dir.path())));
        let on_controls = LoadRun {
            topics: "CONTROLS/lbg01/x/+".into(),
            ..run.clone()
        };
        assert_eq!(
            gate.authorize_load(&on_controls, 2),
            Err(WriteError::LoadOnControls)
        );
        let load = gate.authorize_load(&run, 3).unwrap();
        gate.record_load_outcome(load, PublishOutcome::Sent, 4);
        let outcomes: Vec<(WriteKind, PublishOutcome)> = AuditLog::new(dir.path())
            .recent(10)
            .unwrap()
            .into_iter()
            .rev()
            .map(|entry| (entry.kind, entry.outcome))
            .collect();
        assert!(
            matches!(
                outcomes.as_slice(),
                [
                    (WriteKind::Load, PublishOutcome::Refused(_)),
                    (WriteKind::Load, PublishOutcome::Refused(_)),
                    (WriteKind::Load, PublishOutcome::Requested),
                    (WriteKind::Load, PublishOutcome::Sent),
                ]
            ),
            "{outcomes:?}"
        );
    }

    #[test]
    fn the_history_is_bounded() {
        let mut gate = publisher(false);
        for _ in 0..(SENT_HISTORY_LEN + 5) {
            gate.authorize(request("a"), WriteKind::Publish, 0).unwrap();
        }
        assert_eq!(gate.sent_newest_first().count(), SENT_HISTORY_LEN);
    }
}
