//! Wires store, worker and panels; owns the per-frame order. OWNER: ui helper.
//!
//! Per frame: (1) [`drain_inbox`] moves decoded messages into the store until the inbox is empty
//! or a time budget is spent; (2) one status snapshot becomes the status bar's [`StatusView`];
//! (3) the panels draw and return actions; (4) the actions are applied, in one place.

use std::time::{Duration, Instant};

use crate::model::message::{Message, Nanos};
use crate::model::store::Store;
use crate::mqtt::status::describe;
use crate::mqtt::{ConnectionState, ConnectionStatus, Inbox, InboxStats};
use crate::ui::status_bar::{Health, StatusView};

/// Messages taken from the inbox per lock.
pub const DRAIN_BATCH: usize = 1024;
/// Time per frame spent applying messages before drawing; the rest waits for the next frame.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(6);
/// Delay between the inbox waking the UI and the repaint, so a burst becomes one frame.
pub const WAKE_REPAINT_DELAY: Duration = Duration::from_millis(16);

/// What one drain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrainReport {
    /// Messages applied to the store.
    pub applied: usize,
    /// The budget ran out with messages still waiting: ask for another frame at once.
    pub more_waiting: bool,
}

/// Applies messages from `inbox` to `store` in batches of [`DRAIN_BATCH`] until the inbox is
/// empty or `budget` is spent. `buffer` is reused between frames to avoid allocating.
pub fn drain_inbox(
    inbox: &Inbox,
    store: &mut Store,
    buffer: &mut Vec<Message>,
    budget: Duration,
) -> DrainReport {
    let started = Instant::now();
    let mut report = DrainReport::default();
    loop {
        buffer.clear();
        let taken = inbox.drain_into(DRAIN_BATCH, buffer);
        for message in buffer.drain(..) {
            store.apply(message);
        }
        report.applied += taken;
        if taken < DRAIN_BATCH {
            return report;
        }
        if started.elapsed() >= budget {
            report.more_waiting = inbox.stats().pending > 0;
            return report;
        }
    }
}

/// The status bar's view of a connection (`None`: nothing connected) and its inbox.
pub fn status_view(
    status: Option<&ConnectionStatus>,
    inbox: InboxStats,
    now_nanos: Nanos,
) -> StatusView {
    let (connection, health, refused_subscriptions) = match status {
        None => ("Not connected".to_owned(), Health::Idle, Vec::new()),
        Some(status) => (
            describe(status, now_nanos),
            health_of(&status.state),
            status.refused_filters().map(str::to_owned).collect(),
        ),
    };
    StatusView {
        connection,
        health,
        refused_subscriptions,
        received: inbox.received,
        dropped: inbox.dropped,
        pending: inbox.pending,
    }
}

fn health_of(state: &ConnectionState) -> Health {
    match state {
        ConnectionState::Idle | ConnectionState::Stopped => Health::Idle,
        ConnectionState::Connecting { .. } => Health::Busy,
        ConnectionState::Connected { .. } => Health::Ok,
        ConnectionState::Failed { .. } => Health::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::Qos;
    use crate::model::store::Limits;
    use crate::mqtt::SubscriptionState;

    fn message(n: usize) -> Message {
        Message::new(
            format!("t/{n}"),
            bytes::Bytes::from(n.to_string()),
            Qos::AtMostOnce,
            false,
            1,
        )
    }

    #[test]
    fn drain_applies_everything_waiting_when_the_budget_allows() {
        let inbox = Inbox::new(10_000);
        for n in 0..3000 {
            inbox.push(message(n));
        }
        let mut store = Store::new(Limits::default());
        let report = drain_inbox(&inbox, &mut store, &mut Vec::new(), Duration::from_secs(60));
        assert_eq!(
            report,
            DrainReport {
                applied: 3000,
                more_waiting: false
            }
        );
        assert_eq!(store.stats().messages_applied, 3000);
        assert_eq!(inbox.stats().pending, 0);
    }

    #[test]
    fn drain_stops_after_a_batch_when_the_budget_is_spent() {
        let inbox = Inbox::new(10_000);
        for n in 0..(DRAIN_BATCH * 3) {
            inbox.push(message(n));
        }
        let mut store = Store::new(Limits::default());
        let report = drain_inbox(&inbox, &mut store, &mut Vec::new(), Duration::ZERO);
        assert_eq!(
            report,
            DrainReport {
                applied: DRAIN_BATCH,
                more_waiting: true
            }
        );
        assert_eq!(inbox.stats().pending, (DRAIN_BATCH * 2) as u64);
    }

    #[test]
    fn status_view_carries_inbox_counters_and_refusals() {
        let status = ConnectionStatus {
            state: ConnectionState::Connected { since_nanos: 0 },
            subscriptions: vec![
                ("a/#".to_owned(), SubscriptionState::Granted(1)),
                ("secret/#".to_owned(), SubscriptionState::Refused),
            ],
            broker: "example:1883".to_owned(),
        };
        let inbox = InboxStats {
            received: 10,
            dropped: 4,
            drained: 5,
            pending: 1,
        };
        let view = status_view(Some(&status), inbox, 0);
        assert_eq!(view.health, Health::Ok);
        assert!(
            view.connection.contains("example:1883"),
            "{}",
            view.connection
        );
        assert_eq!(view.refused_subscriptions, ["secret/#"]);
        assert_eq!((view.received, view.dropped, view.pending), (10, 4, 1));
    }

    #[test]
    fn no_connection_reads_not_connected() {
        let view = status_view(None, InboxStats::default(), 0);
        assert_eq!(
            (view.connection.as_str(), view.health),
            ("Not connected", Health::Idle)
        );
    }
}
