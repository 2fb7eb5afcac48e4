//! The worker survives a broker restart: it notices the loss, retries with backoff, reconnects
//! and subscribes again (rumqttc does not), so messages published after the restart arrive.

mod common;

use common::{Mosquitto, Received, profile, wait_for_status, wait_until_subscribed};
use topicscope::model::config::profile::Transport;
use topicscope::mqtt::status::{ConnectionState, SubscriptionState};
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerHandle};

#[test]
fn broker_restart_reconnects_and_restores_subscriptions() {
    let mut broker = Mosquitto::start();
    let filters = ["plant/#", "weather/+"];
    let params = ConnectParams::new(profile(broker.ports.plain, Transport::Tcp, &filters), None);
    let handle =
        WorkerHandle::spawn(params, Inbox::new(DEFAULT_INBOX_CAPACITY)).expect("spawn worker");
    let first = wait_until_subscribed(&handle);
    let ConnectionState::Connected {
        since_nanos: first_since,
    } = first.state
    else {
        unreachable!()
    };
    broker.publish("plant/pump", b"on", false);
    let mut received = Received::new(handle.inbox.clone());
    received.wait_for_topic("plant/pump");

    broker.stop();
    let lost = wait_for_status(&handle, "the connection loss to show", |status| {
        !status.connected()
    });
    assert!(
        matches!(
            lost.state,
            ConnectionState::Failed { .. } | ConnectionState::Connecting { .. }
        ),
        "{lost:?}"
    );
    assert!(
        lost.subscriptions
            .iter()
            .all(|(_, state)| *state == SubscriptionState::Pending),
        "answers of the old connection are stale: {lost:?}"
    );

    broker.restart();
    let second = wait_for_status(
        &handle,
        "a new connection with all filters granted",
        |status| {
            matches!(status.state, ConnectionState::Connected { since_nanos } if since_nanos > first_since)
                && status
                    .subscriptions
                    .iter()
                    .all(|(_, state)| *state == SubscriptionState::Granted(1))
        },
    );
    assert_eq!(second.subscriptions.len(), 2);

    broker.publish("weather/wind", b"12", false);
    broker.publish("plant/valve", b"closed", false);
    assert_eq!(&received.wait_for_topic("weather/wind").payload[..], b"12");
    assert_eq!(
        &received.wait_for_topic("plant/valve").payload[..],
        b"closed"
    );
}
