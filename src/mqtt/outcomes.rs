//! What became of each publish: the worker pairs rumqttc's packet ids with the app's publish
//! ids and reports outcomes into a bounded queue the UI (or a command) polls.
//!
//! rumqttc sends requests in the order they were queued and announces each one as
//! `Outgoing::Publish(pkid)` (pkid 0 for QoS 0); PUBACK (QoS 1) and PUBCOMP (QoS 2) carry the
//! same pkid.
//!
//! When the connection drops, the pairing starts over ([`PublishPairing::on_disconnected`]):
//! rumqttc's packet ids restart their cycle on the new connection, and the worker removes every
//! PUBLISH rumqttc kept for a re-send, so nothing of the old connection can be credited with an
//! acknowledgement of the new one. What was queued but not written is reported "not sent"; what
//! was written but not acknowledged is reported "outcome unknown" (it may have reached the
//! broker). Neither is ever sent again: a setpoint the user was told had not been confirmed must
//! not arrive later by itself.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::topic::qos::Qos;
use crate::model::write::publish::{PublishId, PublishOutcome};

/// Outcomes kept until polled; beyond this the oldest are dropped (and counted).
pub const OUTCOME_QUEUE_CAPACITY: usize = 4096;

/// Outcomes waiting for the UI, oldest first.
#[derive(Debug, Default)]
pub struct PublishReports {
    queue: Mutex<VecDeque<(PublishId, PublishOutcome)>>,
    dropped: AtomicU64,
}

impl PublishReports {
    /// Adds one outcome, dropping the oldest when full.
    pub fn push(&self, id: PublishId, outcome: PublishOutcome) {
        let Ok(mut queue) = self.queue.lock() else {
            return;
        };
        if queue.len() >= OUTCOME_QUEUE_CAPACITY {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back((id, outcome));
    }

    /// Takes every waiting outcome.
    pub fn drain(&self) -> Vec<(PublishId, PublishOutcome)> {
        self.queue
            .lock()
            .map(|mut queue| queue.drain(..).collect())
            .unwrap_or_default()
    }

    /// Outcomes dropped because nobody polled.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Pairs packet ids with publish ids (worker thread only).
#[derive(Debug, Default)]
pub struct PublishPairing {
    /// Queued in rumqttc, not yet announced as sent: (publish id if tracked, QoS).
    queued: VecDeque<(Option<PublishId>, Qos)>,
    /// QoS 1/2 publishes sent and waiting for PUBACK/PUBCOMP, by packet id.
    in_flight: HashMap<u16, Option<PublishId>>,
}

impl PublishPairing {
    /// A publish was queued in rumqttc.
    pub fn on_queued(&mut self, id: Option<PublishId>, qos: Qos) {
        self.queued.push_back((id, qos));
    }

    /// rumqttc wrote a PUBLISH with `pkid`. Returns the outcome for a tracked QoS 0 publish.
    pub fn on_sent(&mut self, pkid: u16) -> Option<(PublishId, PublishOutcome)> {
        if pkid != 0 && self.in_flight.contains_key(&pkid) {
            return None; // a re-send after a reconnect
        }
        let (id, qos) = self.queued.pop_front()?;
        if qos == Qos::AtMostOnce {
            return id.map(|id| (id, PublishOutcome::Sent));
        }
        self.in_flight.insert(pkid, id);
        None
    }

    /// The connection dropped: every publish still waiting gets its final outcome (queued ones
    /// were never written, written ones may or may not have reached the broker) and the pairing
    /// starts over.
    pub fn on_disconnected(&mut self) -> Vec<(PublishId, PublishOutcome)> {
        let unsent = self.queued.drain(..).filter_map(|(id, _)| id).map(|id| {
            (
                id,
                PublishOutcome::NotSent(
                    "the connection was lost before it was sent; it will not be sent again"
                        .to_owned(),
                ),
            )
        });
        let mut in_flight: Vec<(u16, PublishId)> = self
            .in_flight
            .drain()
            .filter_map(|(pkid, id)| id.map(|id| (pkid, id)))
            .collect();
        in_flight.sort_unstable_by_key(|&(_, id)| id);
        let unconfirmed = in_flight.into_iter().map(|(_, id)| {
            (
                id,
                PublishOutcome::Unknown(
                    "the connection was lost before the broker confirmed it; it may or may not \
                     have arrived (look at the topic), and it will not be sent again"
                        .to_owned(),
                ),
            )
        });
        let mut reports: Vec<_> = unconfirmed.collect();
        reports.extend(unsent);
        reports
    }

    /// PUBACK (QoS 1) or PUBCOMP (QoS 2) for `pkid`.
    pub fn on_acknowledged(&mut self, pkid: u16, qos: Qos) -> Option<(PublishId, PublishOutcome)> {
        let id = self.in_flight.remove(&pkid)??;
        let outcome = if qos == Qos::ExactlyOnce {
            PublishOutcome::Completed
        } else {
            PublishOutcome::Acknowledged
        };
        Some((id, outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_ids_pair_with_publish_ids_in_queue_order_and_resends_are_ignored() {
        let mut pairing = PublishPairing::default();
        pairing.on_queued(Some(1), Qos::AtMostOnce);
        pairing.on_queued(None, Qos::AtLeastOnce);
        pairing.on_queued(Some(3), Qos::ExactlyOnce);
        assert_eq!(pairing.on_sent(0), Some((1, PublishOutcome::Sent)));
        assert_eq!(pairing.on_sent(1), None);
        assert_eq!(pairing.on_sent(2), None);
        assert_eq!(pairing.on_sent(2), None, "re-send keeps the queue");
        assert_eq!(
            pairing.on_acknowledged(1, Qos::AtLeastOnce),
            None,
            "untracked"
        );
        assert_eq!(
            pairing.on_acknowledged(2, Qos::ExactlyOnce),
            Some((3, PublishOutcome::Completed))
        );
        assert_eq!(pairing.on_acknowledged(2, Qos::ExactlyOnce), None);
    }

    #[test]
    fn a_disconnect_settles_every_waiting_publish_and_the_next_connection_starts_over() {
        let mut pairing = PublishPairing::default();
        pairing.on_queued(Some(1), Qos::AtLeastOnce);
        pairing.on_queued(Some(2), Qos::AtLeastOnce);
        pairing.on_queued(None, Qos::AtLeastOnce);
        assert_eq!(pairing.on_sent(1), None);
        let settled = pairing.on_disconnected();
        assert!(
            matches!(
                settled.as_slice(),
                [
                    (1, PublishOutcome::Unknown(_)),
                    (2, PublishOutcome::NotSent(_))
                ]
            ),
            "{settled:?}"
        );
        // The new connection reuses packet id 1 for a new publish: it is credited to that one.
        pairing.on_queued(Some(3), Qos::AtLeastOnce);
        assert_eq!(pairing.on_sent(1), None);
        assert_eq!(
            pairing.on_acknowledged(1, Qos::AtLeastOnce),
            Some((3, PublishOutcome::Acknowledged))
        );
        assert!(pairing.on_disconnected().is_empty());
    }

    #[test]
    fn the_report_queue_is_bounded_and_counts_what_it_dropped() {
        let reports = PublishReports::default();
        for id in 0..(OUTCOME_QUEUE_CAPACITY as u64 + 2) {
            reports.push(id, PublishOutcome::Sent);
        }
        assert_eq!(reports.dropped(), 2);
        let drained = reports.drain();
        assert_eq!(drained.len(), OUTCOME_QUEUE_CAPACITY);
        assert_eq!(drained[0].0, 2);
        assert!(reports.drain().is_empty());
    }
}
