//! Following the setpoint requests this app sent until the edge device answers.
//!
//! A tracked request is `requested` until an `ACKSPT` with its reference arrives (`written`,
//! `validated` for a dry run, or `failed` with the edge device's message) or the timeout passes
//! (`timeout`). A re-send keeps the reference: the receiver answers a repeated request with a
//! copy of its earlier acknowledgement and does not write twice (§5.4.5).

use std::collections::HashMap;

use crate::model::aedifion::swop::{self, SwopMessage, SwopType};
use crate::model::store::Store;
use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;
use crate::model::write::publish::PublishRequest;
use crate::model::write::setpoint::{ComposedWrite, DEFAULT_ACK_TIMEOUT_SECS, TRACKED_REQUESTS};

/// Where a tracked request stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Sent; no answer yet (a request without `acknowledge` stays here: nobody will answer).
    Requested,
    /// The edge device wrote the value.
    Written,
    /// A dry run the edge device accepted; nothing was written.
    Validated,
    /// A schedule operation the edge device acknowledged (its state is in the message).
    Accepted,
    /// The edge device refused or failed.
    Failed,
    /// No answer within the timeout.
    Timeout,
}

impl RequestState {
    /// The spelling used in lists and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestState::Requested => "requested",
            RequestState::Written => "written",
            RequestState::Validated => "validated",
            RequestState::Accepted => "accepted",
            RequestState::Failed => "failed",
            RequestState::Timeout => "timeout",
        }
    }
}

/// One request this app sent, and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrackedRequest {
    pub reference: String,
    pub message_type: &'static str,
    pub topic: String,
    pub datapoint: String,
    /// Value as JSON text.
    pub value: String,
    pub priority: u8,
    pub acknowledge: bool,
    pub dry_run: bool,
    pub state: RequestState,
    /// The edge device's message (or why it timed out).
    pub message: Option<String>,
    /// Times sent (re-sends keep the reference).
    pub attempts: u32,
    pub sent_at_nanos: Nanos,
    pub answered_at_nanos: Option<Nanos>,
    #[serde(skip)]
    payload: String,
    #[serde(skip)]
    deadline_nanos: Nanos,
}

impl TrackedRequest {
    /// The exact message sent, to send again.
    pub fn request(&self) -> PublishRequest {
        PublishRequest {
            topic: self.topic.clone(),
            payload: self.payload.clone().into_bytes(),
            qos: Qos::AtLeastOnce,
            retain: false,
        }
    }

    /// The final state as one JSON object (the command line prints it).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// The requests this app sent, newest last.
#[derive(Debug)]
pub struct SetpointTracker {
    requests: Vec<TrackedRequest>,
    timeout_nanos: Nanos,
    /// Per CONTROLS topic: how many messages the store had when last looked at.
    seen_counts: HashMap<String, u64>,
}

impl Default for SetpointTracker {
    fn default() -> Self {
        Self::new(DEFAULT_ACK_TIMEOUT_SECS)
    }
}

impl SetpointTracker {
    /// A tracker whose requests time out after `timeout_secs` without an answer.
    pub fn new(timeout_secs: u64) -> Self {
        Self {
            requests: Vec::new(),
            timeout_nanos: i64::try_from(timeout_secs.max(1).saturating_mul(1_000_000_000))
                .unwrap_or(i64::MAX),
            seen_counts: HashMap::new(),
        }
    }

    /// Starts tracking a write just handed to the gate.
    pub fn track(&mut self, write: &ComposedWrite, now_nanos: Nanos) {
        let deadline_nanos = now_nanos.saturating_add(self.timeout_nanos);
        if let Some(existing) = self.find_mut(&write.reference) {
            existing.attempts += 1;
            existing.sent_at_nanos = now_nanos;
            existing.deadline_nanos = deadline_nanos;
            existing.state = RequestState::Requested;
            existing.message = None;
            return;
        }
        self.requests.push(TrackedRequest {
            reference: write.reference.clone(),
            message_type: write.message_type.code(),
            topic: write.topic.clone(),
            datapoint: write.datapoint.clone(),
            value: write.value.clone(),
            priority: write.priority,
            acknowledge: write.acknowledge,
            dry_run: write.dry_run,
            state: RequestState::Requested,
            message: None,
            attempts: 1,
            sent_at_nanos: now_nanos,
            answered_at_nanos: None,
            payload: write.payload.clone(),
            deadline_nanos: now_nanos.saturating_add(self.timeout_nanos),
        });
        if self.requests.len() > TRACKED_REQUESTS {
            self.requests.remove(0);
        }
    }

    /// Marks a re-send of `reference` (same payload, same reference); returns the message to send.
    pub fn resend(&mut self, reference: &str, now_nanos: Nanos) -> Option<PublishRequest> {
        let timeout = self.timeout_nanos;
        let request = self.find_mut(reference)?;
        request.attempts += 1;
        request.sent_at_nanos = now_nanos;
        request.deadline_nanos = now_nanos.saturating_add(timeout);
        request.state = RequestState::Requested;
        request.message = None;
        request.answered_at_nanos = None;
        Some(request.request())
    }

    /// Reads one message seen on a CONTROLS topic; true if it answered a tracked request.
    pub fn on_message(&mut self, topic: &str, payload: &[u8], now_nanos: Nanos) -> bool {
        if !topic.starts_with("CONTROLS/") {
            return false;
        }
        let Ok(SwopMessage::Acknowledgement(ack)) = swop::parse(payload) else {
            return false;
        };
        let Some(reference) = ack.reference.as_deref() else {
            return false;
        };
        let Some(request) = self.find_mut(reference) else {
            return false;
        };
        // A repeated ACK (answer to a re-send) changes nothing once answered.
        if !matches!(
            request.state,
            RequestState::Requested | RequestState::Timeout
        ) {
            return false;
        }
        request.state = if ack.is_failure() {
            RequestState::Failed
        } else if request.message_type != SwopType::Newspt.code() {
            RequestState::Accepted
        } else if request.dry_run || ack.state.as_deref() == Some("validated") {
            RequestState::Validated
        } else {
            RequestState::Written
        };
        request.message = match (&ack.state, &ack.message) {
            (Some(state), Some(message)) if request.state == RequestState::Accepted => {
                Some(format!("{state}: {message}"))
            }
            (Some(state), None) if request.state == RequestState::Accepted => Some(state.clone()),
            _ => ack.message.clone(),
        };
        request.answered_at_nanos = Some(now_nanos);
        true
    }

    /// Looks at the newest messages of the CONTROLS topics of waiting requests in `store`.
    pub fn observe_store(&mut self, store: &Store, now_nanos: Nanos) {
        let topics: Vec<String> = self
            .requests
            .iter()
            .filter(|request| request.state == RequestState::Requested && request.acknowledge)
            .map(|request| request.topic.clone())
            .collect();
        for topic in topics {
            let Some((_, state)) = store.find_topic(&topic) else {
                continue;
            };
            let seen = self.seen_counts.get(&topic).copied().unwrap_or(0);
            let new = state.message_count.saturating_sub(seen);
            if new == 0 {
                continue;
            }
            self.seen_counts.insert(topic.clone(), state.message_count);
            let fresh: Vec<Vec<u8>> = state
                .history
                .iter_newest_first()
                .take(usize::try_from(new).unwrap_or(usize::MAX))
                .map(|message| message.payload.to_vec())
                .collect();
            for payload in fresh.iter().rev() {
                self.on_message(&topic, payload, now_nanos);
            }
        }
    }

    /// Marks acknowledged requests past their deadline as timed out; returns how many.
    pub fn expire(&mut self, now_nanos: Nanos) -> usize {
        let mut expired = 0;
        for request in &mut self.requests {
            if request.state == RequestState::Requested
                && request.acknowledge
                && now_nanos >= request.deadline_nanos
            {
                request.state = RequestState::Timeout;
                request.message = Some("No acknowledgement from the edge device in time.".into());
                expired += 1;
            }
        }
        expired
    }

    /// The request with `reference`.
    pub fn get(&self, reference: &str) -> Option<&TrackedRequest> {
        self.requests.iter().find(|r| r.reference == reference)
    }

    /// All tracked requests, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &TrackedRequest> {
        self.requests.iter().rev()
    }

    /// True while an acknowledged request waits for its answer.
    pub fn waiting(&self) -> bool {
        self.requests
            .iter()
            .any(|r| r.state == RequestState::Requested && r.acknowledge)
    }

    fn find_mut(&mut self, reference: &str) -> Option<&mut TrackedRequest> {
        self.requests.iter_mut().find(|r| r.reference == reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::write::setpoint::tests::draft;
    use serde_json::json;
    fn ack(reference: &str, state: &str, success: bool) -> Vec<u8> {
        json!({"type": "ACKSPT", "swop_version": "0.2", "reference": reference,
               "success": success, "state": state, "message": format!("it is {state}")})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn an_ack_moves_a_request_to_written_or_failed_and_silence_to_timeout() {
        let mut tracker = SetpointTracker::new(5);
        let write = draft().compose().unwrap();
        tracker.track(&write, 0);
        let mut other = draft();
        other.reference = "ref-2".into();
        tracker.track(&other.compose().unwrap(), 0);
        let mut third = draft();
        third.reference = "ref-3".into();
        tracker.track(&third.compose().unwrap(), 0);
        assert!(!tracker.on_message("lbg01/x", &ack("ref-1", "written", true), 1));
        assert!(tracker.on_message(&write.topic, &ack("ref-1", "written", true), 1));
        assert!(tracker.on_message(&write.topic, &ack("ref-2", "failed", false), 1));
        assert_eq!(tracker.get("ref-1").unwrap().state, RequestState::Written);
        let failed = tracker.get("ref-2").unwrap();
        assert_eq!(failed.state, RequestState::Failed);
        assert_eq!(failed.message.as_deref(), Some("it is failed"));
        assert_eq!(tracker.expire(4_999_999_999), 0);
        assert_eq!(tracker.expire(5_000_000_000), 1);
        assert_eq!(tracker.get("ref-3").unwrap().state, RequestState::Timeout);
        assert!(
            tracker
                .get("ref-3")
                .unwrap()
                .to_json()
                .contains("\"state\":\"timeout\"")
        );
    }

    #[test]
    fn a_resend_keeps_the_reference_and_payload_and_a_duplicate_ack_changes_nothing() {
        let mut tracker = SetpointTracker::new(1);
        let write = draft().compose().unwrap();
        tracker.track(&write, 0);
        tracker.expire(2_000_000_000);
        let again = tracker.resend("ref-1", 3_000_000_000).unwrap();
        assert_eq!(again, write.request());
        assert_eq!(tracker.get("ref-1").unwrap().attempts, 2);
        assert!(tracker.on_message(&write.topic, &ack("ref-1", "written", true), 3));
        assert!(!tracker.on_message(&write.topic, &ack("ref-1", "failed", false), 4));
        assert_eq!(tracker.get("ref-1").unwrap().state, RequestState::Written);
    }

    #[test]
    fn a_dry_run_answer_is_validated() {
        let mut tracker = SetpointTracker::new(5);
        let mut dry = draft();
        dry.dry_run = true;
        let write = dry.compose().unwrap();
        assert!(write.summary().starts_with("DRY RUN"));
        tracker.track(&write, 0);
        tracker.on_message(&write.topic, &ack("ref-1", "validated", true), 1);
        assert_eq!(tracker.get("ref-1").unwrap().state, RequestState::Validated);
    }
}
