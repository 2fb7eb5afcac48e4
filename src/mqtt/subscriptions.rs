//! What the worker has subscribed to and what the broker answered.
//!
//! rumqttc does not restore subscriptions after a reconnect, so the book keeps the wanted filters
//! and hands all of them out again on every CONNACK. SUBACK answers come by packet id, which
//! rumqttc assigns only when the request leaves its queue: the book remembers the filter lists of
//! queued SUBSCRIBEs in order and pairs each with the id of the next `Outgoing::Subscribe` event.
//! After a connection drop the worker removes unsent SUBSCRIBEs from rumqttc's queue and calls
//! [`SubscriptionBook::on_disconnected`], so the pairing starts clean on the next connection.

use std::collections::{HashMap, VecDeque};

use crate::model::config::profile::Subscription;
use crate::model::topic::qos::Qos;

use super::status::SubscriptionState;

/// One wanted subscription and the broker's latest answer.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    filter: String,
    qos: Qos,
    /// A syntactically valid MQTT filter (invalid ones stay refused and are never sent).
    valid: bool,
    state: SubscriptionState,
}

/// What to do when a Subscribe command arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// Connected: send a SUBSCRIBE for this filter now.
    SendNow,
    /// Offline: it will be sent with the others at the next CONNACK.
    Deferred,
    /// Not a valid MQTT filter: marked refused, nothing to send.
    Invalid,
    /// Already subscribed (or being subscribed) at that QoS: nothing to do.
    Unchanged,
}

/// What to send right after a CONNACK.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectPlan {
    /// Every valid wanted filter, in order.
    pub subscribe: Vec<(String, Qos)>,
    /// Filters removed while offline (a persistent session on the broker may still hold them).
    pub unsubscribe: Vec<String>,
}

/// The wanted subscriptions, their SUBACK answers and the packet-id bookkeeping.
#[derive(Debug, Default)]
pub struct SubscriptionBook {
    entries: Vec<Entry>,
    unsubscribe_at_connect: Vec<String>,
    queued_without_pkid: VecDeque<Vec<String>>,
    awaiting_suback: HashMap<u16, Vec<String>>,
    connected: bool,
}

impl SubscriptionBook {
    /// A book holding the profile's subscriptions (a repeated filter keeps its last QoS).
    pub fn new(subscriptions: &[Subscription]) -> Self {
        let mut book = Self::default();
        for subscription in subscriptions {
            book.add(&subscription.filter, subscription.qos);
        }
        book
    }

    /// Filter → answer, in order, for the status cell.
    pub fn snapshot(&self) -> Vec<(String, SubscriptionState)> {
        self.entries
            .iter()
            .map(|entry| (entry.filter.clone(), entry.state.clone()))
            .collect()
    }

    /// True between a CONNACK and the next connection error.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// A connection is up: every valid filter must be subscribed again.
    pub fn on_connected(&mut self) -> ConnectPlan {
        self.connected = true;
        self.queued_without_pkid.clear();
        self.awaiting_suback.clear();
        let subscribe = self
            .entries
            .iter_mut()
            .filter(|entry| entry.valid)
            .map(|entry| {
                entry.state = SubscriptionState::Pending;
                (entry.filter.clone(), entry.qos)
            })
            .collect();
        ConnectPlan {
            subscribe,
            unsubscribe: std::mem::take(&mut self.unsubscribe_at_connect),
        }
    }

    /// The connection dropped: nothing queued will be answered, every answer is stale.
    pub fn on_disconnected(&mut self) {
        self.connected = false;
        self.queued_without_pkid.clear();
        self.awaiting_suback.clear();
        for entry in self.entries.iter_mut().filter(|entry| entry.valid) {
            entry.state = SubscriptionState::Pending;
        }
    }

    /// A SUBSCRIBE for `filters` was queued in rumqttc (its packet id is not known yet).
    pub fn on_subscribe_queued(&mut self, filters: Vec<String>) {
        self.queued_without_pkid.push_back(filters);
    }

    /// A queued SUBSCRIBE could not be queued after all (rumqttc's queue was full).
    pub fn on_subscribe_not_queued(&mut self) {
        self.queued_without_pkid.pop_back();
    }

    /// rumqttc sent the oldest queued SUBSCRIBE with packet id `pkid`.
    pub fn on_subscribe_sent(&mut self, pkid: u16) {
        match self.queued_without_pkid.pop_front() {
            Some(filters) => {
                self.awaiting_suback.insert(pkid, filters);
            }
            None => tracing::debug!("SUBSCRIBE {pkid} sent that the worker did not queue"),
        }
    }

    /// The SUBACK for `pkid`: one answer per filter, in the order they were sent.
    /// Returns false if the packet id was unknown (nothing changed).
    pub fn on_suback(
        &mut self,
        pkid: u16,
        answers: impl IntoIterator<Item = SubscriptionState>,
    ) -> bool {
        let Some(filters) = self.awaiting_suback.remove(&pkid) else {
            tracing::debug!("SUBACK {pkid} for no SUBSCRIBE the worker knows");
            return false;
        };
        for (filter, answer) in filters.iter().zip(answers) {
            // A filter removed meanwhile has no entry: its late answer is ignored.
            if let Some(entry) = self
                .entries
                .iter_mut()
                .find(|entry| entry.filter == *filter)
            {
                entry.state = answer;
            }
        }
        true
    }

    /// The user wants `filter` at `qos`.
    pub fn add(&mut self, filter: &str, qos: Qos) -> AddOutcome {
        self.unsubscribe_at_connect
            .retain(|removed| removed != filter);
        let valid = rumqttc::valid_filter(filter);
        let state = if valid {
            SubscriptionState::Pending
        } else {
            SubscriptionState::Refused
        };
        match self.entries.iter_mut().find(|entry| entry.filter == filter) {
            Some(entry) if entry.qos == qos && entry.state != SubscriptionState::Refused => {
                return AddOutcome::Unchanged;
            }
            Some(entry) => {
                entry.qos = qos;
                entry.state = state;
            }
            None => self.entries.push(Entry {
                filter: filter.to_owned(),
                qos,
                valid,
                state,
            }),
        }
        match (valid, self.connected) {
            (false, _) => AddOutcome::Invalid,
            (true, true) => AddOutcome::SendNow,
            (true, false) => AddOutcome::Deferred,
        }
    }

    /// The user no longer wants `filter`. Returns true if an UNSUBSCRIBE should be sent now.
    pub fn remove(&mut self, filter: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|entry| entry.filter != filter);
        let existed = self.entries.len() != before;
        if existed && !self.connected && !self.unsubscribe_at_connect.iter().any(|f| f == filter) {
            self.unsubscribe_at_connect.push(filter.to_owned());
        }
        existed && self.connected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(filters: &[&str]) -> SubscriptionBook {
        let subscriptions: Vec<_> = filters
            .iter()
            .map(|filter| Subscription {
                filter: (*filter).to_owned(),
                qos: Qos::AtLeastOnce,
            })
            .collect();
        SubscriptionBook::new(&subscriptions)
    }

    fn states(book: &SubscriptionBook) -> Vec<SubscriptionState> {
        book.snapshot()
            .into_iter()
            .map(|(_, state)| state)
            .collect()
    }

    #[test]
    fn reconnect_resubscribes_all_filters() {
        let mut book = book(&["a/#", "b/+/c"]);
        let first = book.on_connected();
        book.on_disconnected();
        let second = book.on_connected();
        assert_eq!(first.subscribe, second.subscribe);
        let filters: Vec<_> = second
            .subscribe
            .iter()
            .map(|(filter, _)| filter.as_str())
            .collect();
        assert_eq!(filters, ["a/#", "b/+/c"]);
    }

    #[test]
    fn suback_answers_map_to_filters_by_packet_id() {
        let mut book = book(&["a/#", "b/#"]);
        let plan = book.on_connected();
        book.on_subscribe_queued(
            plan.subscribe
                .into_iter()
                .map(|(filter, _)| filter)
                .collect(),
        );
        book.on_subscribe_queued(vec!["late/#".into()]);
        assert_eq!(book.add("late/#", Qos::AtMostOnce), AddOutcome::SendNow);
        book.on_subscribe_sent(7);
        book.on_subscribe_sent(8);
        assert!(book.on_suback(8, [SubscriptionState::Granted(0)]));
        assert!(book.on_suback(
            7,
            [SubscriptionState::Granted(1), SubscriptionState::Refused]
        ));
        assert_eq!(
            states(&book),
            [
                SubscriptionState::Granted(1),
                SubscriptionState::Refused,
                SubscriptionState::Granted(0)
            ]
        );
    }

    #[test]
    fn unknown_suback_changes_nothing() {
        let mut book = book(&["a/#"]);
        book.on_connected();
        assert!(!book.on_suback(3, [SubscriptionState::Refused]));
        assert_eq!(states(&book), [SubscriptionState::Pending]);
    }

    #[test]
    fn disconnect_forgets_queued_requests_and_marks_all_pending() {
        let mut book = book(&["a/#"]);
        book.on_connected();
        book.on_subscribe_queued(vec!["a/#".into()]);
        book.on_subscribe_sent(1);
        book.on_suback(1, [SubscriptionState::Granted(1)]);
        book.on_subscribe_queued(vec!["a/#".into()]);
        book.on_disconnected();
        assert_eq!(states(&book), [SubscriptionState::Pending]);
        book.on_connected();
        book.on_subscribe_queued(vec!["a/#".into()]);
        book.on_subscribe_sent(1);
        assert!(book.on_suback(1, [SubscriptionState::Granted(0)]));
        assert_eq!(states(&book), [SubscriptionState::Granted(0)]);
    }

    #[test]
    fn invalid_filters_are_refused_and_never_sent() {
        let mut book = book(&["a/#/b", "ok/#"]);
        assert_eq!(
            states(&book),
            [SubscriptionState::Refused, SubscriptionState::Pending]
        );
        let plan = book.on_connected();
        assert_eq!(plan.subscribe, [("ok/#".to_owned(), Qos::AtLeastOnce)]);
        book.on_disconnected();
        assert_eq!(
            states(&book),
            [SubscriptionState::Refused, SubscriptionState::Pending]
        );
        assert_eq!(book.add("x/#/y", Qos::AtMostOnce), AddOutcome::Invalid);
    }

    #[test]
    fn adding_offline_is_deferred_to_the_next_connection() {
        let mut book = book(&[]);
        assert_eq!(book.add("x/#", Qos::AtMostOnce), AddOutcome::Deferred);
        assert_eq!(
            book.on_connected().subscribe,
            [("x/#".to_owned(), Qos::AtMostOnce)]
        );
    }

    #[test]
    fn adding_a_granted_filter_again_at_the_same_qos_is_unchanged() {
        let mut book = book(&["a/#"]);
        book.on_connected();
        book.on_subscribe_queued(vec!["a/#".into()]);
        book.on_subscribe_sent(1);
        book.on_suback(1, [SubscriptionState::Granted(1)]);
        assert_eq!(book.add("a/#", Qos::AtLeastOnce), AddOutcome::Unchanged);
        assert_eq!(book.add("a/#", Qos::ExactlyOnce), AddOutcome::SendNow);
        assert_eq!(states(&book), [SubscriptionState::Pending]);
    }

    #[test]
    fn removing_offline_unsubscribes_at_the_next_connection() {
        let mut book = book(&["a/#", "b/#"]);
        assert!(!book.remove("a/#"));
        assert!(!book.remove("missing/#"));
        let plan = book.on_connected();
        assert_eq!(plan.unsubscribe, ["a/#"]);
        assert_eq!(plan.subscribe, [("b/#".to_owned(), Qos::AtLeastOnce)]);
        assert!(book.remove("b/#"));
        assert!(book.snapshot().is_empty());
    }

    #[test]
    fn readding_a_removed_filter_cancels_its_pending_unsubscribe() {
        let mut book = book(&["a/#"]);
        book.remove("a/#");
        book.add("a/#", Qos::AtMostOnce);
        assert!(book.on_connected().unsubscribe.is_empty());
    }

    #[test]
    fn late_suback_for_a_removed_filter_is_ignored() {
        let mut book = book(&["a/#", "b/#"]);
        book.on_connected();
        book.on_subscribe_queued(vec!["a/#".into(), "b/#".into()]);
        book.on_subscribe_sent(4);
        book.remove("a/#");
        book.on_suback(
            4,
            [SubscriptionState::Granted(1), SubscriptionState::Granted(1)],
        );
        assert_eq!(
            book.snapshot(),
            [("b/#".to_owned(), SubscriptionState::Granted(1))]
        );
    }

    #[test]
    fn not_queued_request_does_not_shift_the_pairing() {
        let mut book = book(&["a/#", "b/#"]);
        book.on_connected();
        book.on_subscribe_queued(vec!["a/#".into()]);
        book.on_subscribe_queued(vec!["b/#".into()]);
        book.on_subscribe_not_queued();
        book.on_subscribe_sent(1);
        book.on_suback(1, [SubscriptionState::Granted(0)]);
        assert_eq!(
            states(&book),
            [SubscriptionState::Granted(0), SubscriptionState::Pending]
        );
    }
}
