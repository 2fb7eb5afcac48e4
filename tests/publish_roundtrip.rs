//! Publishing through the write gate and the worker against a real Mosquitto: outcomes per QoS,
//! QoS and retain as the subscriber sees them, template variables, clearing a retained subtree,
//! and refusals (read-only, not connected).

mod common;

use std::time::{Duration, Instant};

use common::{Mosquitto, Received, WAIT, profile, wait_until_subscribed};
use topicscope::model::config::profile::Transport;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::now_nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::write::publish::{
    PublishOutcome, PublishRequest, Publisher, WriteContext, WriteError, WriteKind,
};
use topicscope::model::write::retained::ClearPlan;
use topicscope::model::write::templates::{Expander, SystemVariables, Template};
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerCommand, WorkerHandle};

fn connect(port: u16, filters: &[&str]) -> WorkerHandle {
    let handle = WorkerHandle::spawn(
        ConnectParams::new(profile(port, Transport::Tcp, filters), None),
        Inbox::new(DEFAULT_INBOX_CAPACITY),
    )
    .expect("spawn worker");
    wait_until_subscribed(&handle);
    handle
}

fn gate(read_only: bool) -> Publisher {
    Publisher::new(
        WriteContext {
            profile: "test".into(),
            broker: "mosquitto".into(),
            read_only,
        },
        None,
    )
}

/// Sends through the gate and waits (bounded) for the final outcome.
fn send(
    handle: &WorkerHandle,
    gate: &mut Publisher,
    request: PublishRequest,
    kind: WriteKind,
) -> PublishOutcome {
    let authorized = gate.authorize(request, kind, now_nanos()).expect("allowed");
    let id = authorized.id();
    assert!(handle.send(WorkerCommand::PublishAuthorized(authorized)));
    let deadline = Instant::now() + WAIT;
    loop {
        for (reported, outcome) in handle.publish_reports.drain() {
            gate.record_outcome(reported, outcome, now_nanos());
        }
        if let Some(outcome) = gate.outcome(id).filter(|outcome| outcome.is_final()) {
            return outcome.clone();
        }
        assert!(Instant::now() < deadline, "no outcome for publish {id}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn request(topic: &str, payload: &str, qos: Qos, retain: bool) -> PublishRequest {
    PublishRequest {
        topic: topic.into(),
        payload: payload.as_bytes().to_vec(),
        qos,
        retain,
    }
}

#[test]
fn each_qos_reports_its_acknowledgement_and_arrives_with_that_qos() {
    let broker = Mosquitto::start();
    let subscriber = connect(broker.ports.plain, &["pub/#"]);
    let publisher = connect(broker.ports.plain, &[]);
    let mut gate = gate(false);
    let cases = [
        (Qos::AtMostOnce, PublishOutcome::Sent),
        (Qos::AtLeastOnce, PublishOutcome::Acknowledged),
        (Qos::ExactlyOnce, PublishOutcome::Completed),
    ];
    let mut received = Received::new(subscriber.inbox.clone());
    for (qos, expected) in cases {
        let topic = format!("pub/qos{}", qos.level());
        let outcome = send(
            &publisher,
            &mut gate,
            request(&topic, "x", qos, false),
            WriteKind::Publish,
        );
        assert_eq!(outcome, expected, "QoS {}", qos.level());
        let message = received.wait_for_topic(&topic);
        // The subscription is QoS 1, so QoS 2 is delivered at 1.
        let delivered = if qos == Qos::ExactlyOnce {
            Qos::AtLeastOnce
        } else {
            qos
        };
        assert_eq!(message.qos, delivered);
        assert!(!message.retained, "a live message is not flagged retained");
    }
    let history: Vec<_> = gate
        .sent_newest_first()
        .map(|sent| sent.outcome.clone())
        .collect();
    assert_eq!(
        history,
        [
            PublishOutcome::Completed,
            PublishOutcome::Acknowledged,
            PublishOutcome::Sent
        ]
    );
}

#[test]
fn a_retained_publish_reaches_a_later_subscriber_flagged_retained() {
    let broker = Mosquitto::start();
    let publisher = connect(broker.ports.plain, &[]);
    let mut gate = gate(false);
    let outcome = send(
        &publisher,
        &mut gate,
        request("kept/one", "21.5", Qos::AtLeastOnce, true),
        WriteKind::Publish,
    );
    assert_eq!(outcome, PublishOutcome::Acknowledged);
    let late = connect(broker.ports.plain, &["kept/#"]);
    let message = Received::new(late.inbox.clone()).wait_for_topic("kept/one");
    assert!(message.retained);
    assert_eq!(&message.payload[..], b"21.5");
}

#[test]
fn template_variables_expand_in_the_message_that_arrives() {
    let broker = Mosquitto::start();
    let subscriber = connect(broker.ports.plain, &["tpl/#"]);
    let publisher = connect(broker.ports.plain, &[]);
    let mut gate = gate(false);
    let template = Template {
        name: "counter".into(),
        topic: "tpl/{{counter}}".into(),
        payload: "{\"id\": \"{{uuid}}\", \"at\": {{now_ns}}, \"n\": {{counter}}}".into(),
        mode: topicscope::model::write::publish::PayloadMode::Json,
        qos: 1,
        retain: false,
    };
    let mut expander = Expander::new();
    let before = now_nanos();
    for _ in 0..2 {
        let message = expander
            .request(&template, &mut SystemVariables)
            .expect("expands");
        send(&publisher, &mut gate, message, WriteKind::Publish);
    }
    let mut received = Received::new(subscriber.inbox.clone());
    let second = received.wait_for_topic("tpl/2");
    let body: serde_json::Value = serde_json::from_slice(&second.payload).expect("JSON");
    assert_eq!(body["n"], 2);
    assert_eq!(body["id"].as_str().map(str::len), Some(36));
    assert!(body["at"].as_i64().is_some_and(|at| at >= before));
    assert!(received.has_topic("tpl/1"));
}

#[test]
fn clearing_a_subtree_clears_exactly_the_listed_retained_topics() {
    let broker = Mosquitto::start();
    for topic in ["site/a/1", "site/a/2", "site/a/deep/3", "site/b/1"] {
        broker.publish(topic, b"v", true);
    }
    broker.publish("site/a/live", b"v", false);
    let explorer = connect(broker.ports.plain, &["site/#"]);
    let mut received = Received::new(explorer.inbox.clone());
    for topic in ["site/a/1", "site/a/2", "site/a/deep/3", "site/b/1"] {
        received.wait_for_topic(topic);
    }
    let mut store = Store::new(Limits::default());
    for message in received.messages.drain(..) {
        store.apply(message);
    }
    let subtree = store.tree().find("site/a").expect("site/a");
    let plan = ClearPlan::for_subtree(&store, subtree);
    assert_eq!(plan.topics(), ["site/a/1", "site/a/2", "site/a/deep/3"]);

    let mut gate = gate(false);
    for clear in plan.requests() {
        let outcome = send(&explorer, &mut gate, clear, WriteKind::ClearRetained);
        assert_eq!(outcome, PublishOutcome::Acknowledged);
    }
    let late = connect(broker.ports.plain, &["site/#"]);
    let mut after = Received::new(late.inbox.clone());
    // A live message published now arrives after every retained one of this subscription.
    broker.publish("site/marker", b"end", false);
    after.wait_for_topic("site/marker");
    let retained: Vec<&str> = after
        .messages
        .iter()
        .filter(|message| message.retained)
        .map(|message| message.topic.as_str())
        .collect();
    assert_eq!(retained, ["site/b/1"]);
}

#[test]
fn a_read_only_gate_sends_nothing_and_a_disconnected_worker_reports_not_sent() {
    let broker = Mosquitto::start();
    let subscriber = connect(broker.ports.plain, &["ro/#"]);
    let mut read_only = gate(true);
    let refused = read_only.authorize(
        request("ro/x", "1", Qos::AtLeastOnce, false),
        WriteKind::Publish,
        0,
    );
    assert!(matches!(refused, Err(WriteError::ReadOnly { .. })));

    // A worker that never connects (nothing listens on the port).
    let nowhere = WorkerHandle::spawn(
        ConnectParams::new(profile(common::free_port(), Transport::Tcp, &[]), None),
        Inbox::new(16),
    )
    .expect("spawn");
    let mut open = gate(false);
    let outcome = send(
        &nowhere,
        &mut open,
        request("ro/x", "1", Qos::AtLeastOnce, false),
        WriteKind::Publish,
    );
    assert!(
        matches!(outcome, PublishOutcome::NotSent(ref reason) if reason.contains("not connected")),
        "{outcome:?}"
    );
    // Anything sent would have arrived before a marker published afterwards.
    broker.publish("ro/marker", b"end", false);
    let mut received = Received::new(subscriber.inbox.clone());
    received.wait_for_topic("ro/marker");
    assert!(!received.has_topic("ro/x"));
}
