//! Faults between TopicScope and a real Mosquitto, injected by a TCP proxy (`common::proxy`):
//! a cut between PUBLISH and PUBACK (clean and persistent sessions), a blackholed connection
//! (no FIN, nothing arrives), a broker restart with a persistent session, and a slow link.
//!
//! What must hold: a publish whose acknowledgement was lost is reported as "outcome unknown"
//! at once and never sent again; later outcomes are credited to the right publish; a silent
//! connection is noticed within 1.5 × keep-alive and restored; subscriptions come back.

mod common;

use std::time::{Duration, Instant};

use common::proxy::{Direction, FaultProxy};
use common::{Mosquitto, WAIT, profile};
use topicscope::model::config::profile::{Profile, Transport};
use topicscope::model::decode::message::Message;
use topicscope::model::time::now_nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::write::publish::{
    PublishId, PublishOutcome, PublishRequest, Publisher, WriteContext, WriteKind,
};
use topicscope::model::write::setpoint::{SetpointDraft, ValueKind};
use topicscope::mqtt::ConnectionState;
use topicscope::session::{ConnectOptions, Connection};

/// A gate whose own timeout cannot fire during a test, so every outcome seen comes from the
/// worker.
fn gate() -> Publisher {
    Publisher::new(
        WriteContext {
            profile: "test".into(),
            broker: "proxy".into(),
            read_only: false,
        },
        None,
    )
    .with_ack_timeout_nanos(600_000_000_000)
}

fn start(profile: Profile) -> Connection {
    let connection =
        Connection::start(profile, None, ConnectOptions::default(), None).expect("start");
    connection
        .wait_until_subscribed(WAIT)
        .expect("connected and subscribed");
    connection
}

fn connected_since(connection: &Connection) -> Option<i64> {
    match connection.status().state {
        ConnectionState::Connected { since_nanos } => Some(since_nanos),
        _ => None,
    }
}

/// Waits until `connection` is connected again after `after` with every subscription granted.
fn wait_for_reconnect(connection: &Connection, after: i64) {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = connection.status();
        let again = connected_since(connection).is_some_and(|since| since > after);
        if again && (status.subscriptions.is_empty() || status.all_granted()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no new connection; last status: {status}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Hands `request` to the worker through the gate; returns its id.
fn send(connection: &Connection, gate: &mut Publisher, request: PublishRequest) -> PublishId {
    send_as(connection, gate, request, WriteKind::Publish)
}

fn send_as(
    connection: &Connection,
    gate: &mut Publisher,
    request: PublishRequest,
    kind: WriteKind,
) -> PublishId {
    let authorized = gate.authorize(request, kind, now_nanos()).expect("allowed");
    let id = authorized.id();
    assert!(connection.publish(authorized), "handed to the worker");
    id
}

/// Waits (bounded) for the final outcome of `id`.
fn outcome(connection: &Connection, gate: &mut Publisher, id: PublishId) -> PublishOutcome {
    let deadline = Instant::now() + WAIT;
    loop {
        for (reported, outcome) in connection.publish_reports().drain() {
            gate.record_outcome(reported, outcome, now_nanos());
        }
        if let Some(outcome) = gate.outcome(id).filter(|outcome| outcome.is_final()) {
            return outcome.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no final outcome for publish {id}: {:?}",
            gate.outcome(id)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn qos1(topic: &str, payload: &[u8]) -> PublishRequest {
    PublishRequest {
        topic: topic.into(),
        payload: payload.to_vec(),
        qos: Qos::AtLeastOnce,
        retain: false,
    }
}

/// Sends `request` with the broker's answers held back, waits until the PUBLISH went through
/// the proxy, then cuts every connection: the PUBACK never reaches TopicScope.
fn publish_then_cut(
    proxy: &FaultProxy,
    connection: &Connection,
    gate: &mut Publisher,
    request: PublishRequest,
    kind: WriteKind,
) -> PublishId {
    proxy.pause(Direction::Downstream);
    let before = proxy.bytes(Direction::Upstream);
    let id = send_as(connection, gate, request, kind);
    assert!(
        proxy.wait_for_bytes(Direction::Upstream, before, WAIT),
        "the PUBLISH never left TopicScope"
    );
    proxy.cut();
    proxy.resume(Direction::Downstream);
    id
}

/// Collects messages on one topic from a connection's inbox.
fn drain_topic(connection: &Connection, topic: &str, into: &mut Vec<Message>) {
    let mut all = Vec::new();
    connection.inbox().drain_into(usize::MAX, &mut all);
    into.extend(all.into_iter().filter(|message| message.topic == topic));
}

/// Waits until `marker` arrived on `connection`, then returns how many messages arrived on
/// `topic` before it (the broker keeps one publisher's order for a subscriber).
fn copies_before_marker(connection: &Connection, topic: &str, marker: &str) -> usize {
    let deadline = Instant::now() + WAIT;
    let mut messages = Vec::new();
    loop {
        connection.inbox().drain_into(usize::MAX, &mut messages);
        if let Some(position) = messages.iter().position(|m| m.topic == marker) {
            return messages[..position]
                .iter()
                .filter(|m| m.topic == topic)
                .count();
        }
        assert!(
            Instant::now() < deadline,
            "the marker {marker} never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn persistent(mut profile: Profile, client_id: &str) -> Profile {
    profile.clean_session = false;
    profile.client_id = client_id.to_owned();
    profile
}

#[test]
fn a_cut_between_publish_and_puback_is_reported_as_unknown_and_later_outcomes_pair_correctly() {
    let broker = Mosquitto::start();
    let proxy = FaultProxy::start(broker.ports.plain);
    let connection = start(profile(proxy.port(), Transport::Tcp, &[]));
    let first = connected_since(&connection).expect("connected");
    let mut gate = gate();

    let lost = publish_then_cut(
        &proxy,
        &connection,
        &mut gate,
        qos1("cut/a", b"1"),
        WriteKind::Publish,
    );
    let PublishOutcome::Unknown(reason) = outcome(&connection, &mut gate, lost) else {
        panic!("expected outcome unknown, got {:?}", gate.outcome(lost));
    };
    assert!(reason.contains("connection"), "{reason}");
    assert!(reason.contains("not be sent again"), "{reason}");

    // rumqttc numbers packets 1..=100 and wraps: 120 publishes reuse the lost one's packet id.
    // Each must be credited with its own acknowledgement.
    wait_for_reconnect(&connection, first);
    for index in 0..120 {
        let id = send(
            &connection,
            &mut gate,
            qos1("cut/b", index.to_string().as_bytes()),
        );
        assert_eq!(
            outcome(&connection, &mut gate, id),
            PublishOutcome::Acknowledged,
            "publish {index}"
        );
    }
    assert!(
        matches!(gate.outcome(lost), Some(PublishOutcome::Unknown(_))),
        "a later PUBACK was credited to the lost publish: {:?}",
        gate.outcome(lost)
    );
}

#[test]
fn with_a_persistent_session_a_publish_whose_puback_was_lost_is_not_sent_again() {
    let broker = Mosquitto::start();
    let proxy = FaultProxy::start(broker.ports.plain);
    let building = start(profile(broker.ports.plain, Transport::Tcp, &["plant/#"]));
    let client_id = format!("ts-persist-{}", rand::random::<u32>());
    let connection = start(persistent(
        profile(proxy.port(), Transport::Tcp, &[]),
        &client_id,
    ));
    let first = connected_since(&connection).expect("connected");
    let mut gate = gate();

    let lost = publish_then_cut(
        &proxy,
        &connection,
        &mut gate,
        qos1("plant/valve", b"open"),
        WriteKind::Publish,
    );
    assert!(
        matches!(
            outcome(&connection, &mut gate, lost),
            PublishOutcome::Unknown(_)
        ),
        "{:?}",
        gate.outcome(lost)
    );
    wait_for_reconnect(&connection, first);
    // rumqttc sends what it kept from the old session before anything new: once the marker
    // has arrived, a re-sent PUBLISH would have arrived before it.
    let marker = send(&connection, &mut gate, qos1("plant/marker", b"m"));
    assert_eq!(
        outcome(&connection, &mut gate, marker),
        PublishOutcome::Acknowledged
    );
    assert_eq!(
        copies_before_marker(&building, "plant/valve", "plant/marker"),
        1,
        "the broker got the write once; TopicScope must not send it again"
    );
}

#[test]
fn a_broker_restart_with_a_persistent_session_restores_subscriptions_without_duplicate_setpoints() {
    let mut broker = Mosquitto::start_persistent();
    let proxy = FaultProxy::start(broker.ports.plain);
    let controls = "CONTROLS/lbg01/plant";
    let filter = format!("{controls}/#");
    let building = start(persistent(
        profile(broker.ports.plain, Transport::Tcp, &[&filter]),
        &format!("ts-building-{}", rand::random::<u32>()),
    ));
    let app = start(persistent(
        profile(proxy.port(), Transport::Tcp, &[&filter]),
        &format!("ts-app-{}", rand::random::<u32>()),
    ));
    let first = connected_since(&app).expect("connected");
    let mut gate = gate();
    let write = SetpointDraft {
        project: "lbg01/plant".into(),
        datapoint: "supply_temperature_setpoint".into(),
        value: "21.5".into(),
        kind: ValueKind::Number,
        ..SetpointDraft::default()
    }
    .compose()
    .expect("a valid NEWSPT");
    assert_eq!(write.topic, controls);

    let lost = publish_then_cut(
        &proxy,
        &app,
        &mut gate,
        write.request(),
        WriteKind::Setpoint,
    );
    broker.restart_gracefully();
    assert!(
        matches!(outcome(&app, &mut gate, lost), PublishOutcome::Unknown(_)),
        "{:?}",
        gate.outcome(lost)
    );
    wait_for_reconnect(&app, first);
    wait_for_reconnect(&building, first);

    let marker = format!("{controls}/marker");
    broker.publish(&marker, b"after the restart", false);
    assert_eq!(
        copies_before_marker(&building, controls, &marker),
        1,
        "the building must see the setpoint once"
    );
    assert!(
        copies_before_marker(&app, controls, &marker) <= 1,
        "the app's restored subscription delivers the marker, and no second setpoint"
    );
}

#[test]
fn a_blackholed_connection_is_noticed_within_one_and_a_half_keep_alives_and_restored() {
    let broker = Mosquitto::start();
    let proxy = FaultProxy::start(broker.ports.plain);
    let keep_alive = Duration::from_secs(4);
    let mut profile = profile(proxy.port(), Transport::Tcp, &["hole/#"]);
    profile.keep_alive_secs = 4;
    let connection = start(profile);
    let first = connected_since(&connection).expect("connected");

    // Nothing is published, so the only bytes from the broker now are PINGRESPs: blackholing
    // right after one means the next ping is a whole keep-alive away (the worst case).
    let before = proxy.bytes(Direction::Downstream);
    assert!(
        proxy.wait_for_bytes(Direction::Downstream, before, keep_alive * 3),
        "no PINGRESP seen"
    );
    let blackholed_at = Instant::now();
    proxy.blackhole();
    let deadline = blackholed_at + keep_alive * 5;
    while connection.status().connected() {
        assert!(
            Instant::now() < deadline,
            "the silent connection was never noticed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let noticed_after = blackholed_at.elapsed();
    assert!(
        noticed_after <= keep_alive.mul_f64(1.5),
        "noticed after {noticed_after:?}, keep-alive {keep_alive:?}"
    );
    let failure = connection.status().last_failure.unwrap_or_default();
    assert!(failure.contains("keep-alive"), "{failure}");

    wait_for_reconnect(&connection, first);
    broker.publish("hole/after", b"back", false);
    let mut received = Vec::new();
    let deadline = Instant::now() + WAIT;
    while received.is_empty() {
        assert!(Instant::now() < deadline, "nothing after the reconnect");
        drain_topic(&connection, "hole/after", &mut received);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(&received[0].payload[..], b"back");
}

#[test]
fn a_slow_link_delivers_a_large_retained_message_intact_and_stays_connected() {
    let broker = Mosquitto::start();
    let payload: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    broker.publish("slow/big", &payload, true);
    let proxy = FaultProxy::start(broker.ports.plain);
    proxy.set_rate(1_000_000);
    let mut profile = profile(proxy.port(), Transport::Tcp, &["slow/#"]);
    profile.keep_alive_secs = 10;
    let connection = start(profile);
    let first = connected_since(&connection).expect("connected");
    let mut received = Vec::new();
    let deadline = Instant::now() + WAIT;
    while received.is_empty() {
        assert!(Instant::now() < deadline, "the big message never arrived");
        drain_topic(&connection, "slow/big", &mut received);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(received[0].payload[..] == payload[..], "payload changed");
    assert_eq!(
        connected_since(&connection),
        Some(first),
        "the connection stayed up"
    );
}
