//! The worker against a real Mosquitto over plain TCP: retained and live messages, large payloads,
//! commands, refused connections, the packet size limit and stopping.

mod common;

use common::{
    Mosquitto, Received, profile, wait_for_status, wait_until_answered, wait_until_subscribed,
};
use topicscope::model::config::profile::Transport;
use topicscope::model::topic::qos::Qos;
use topicscope::mqtt::status::{ConnectionState, FailureReason, SubscriptionState, describe};
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerCommand, WorkerHandle};

fn spawn(params: ConnectParams) -> WorkerHandle {
    WorkerHandle::spawn(params, Inbox::new(DEFAULT_INBOX_CAPACITY)).expect("spawn worker")
}

#[test]
fn plain_tcp_receives_retained_then_live_messages() {
    let broker = Mosquitto::start();
    broker.publish("building/a/temperature", b"21.5", true);
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.plain, Transport::Tcp, &["building/#"]),
        None,
    ));
    let mut received = Received::new(handle.inbox.clone());

    let retained = received.wait_for_topic("building/a/temperature");
    assert!(retained.retained, "a retained message is flagged as such");
    assert_eq!(&retained.payload[..], b"21.5");

    let status = wait_until_subscribed(&handle);
    assert_eq!(
        status.subscriptions,
        [("building/#".to_owned(), SubscriptionState::Granted(1))]
    );
    assert!(describe(&status, 0).starts_with(&format!(
        "Connected to 127.0.0.1:{} since",
        broker.ports.plain
    )));

    broker.publish("building/b/humidity", b"40", false);
    let live = received.wait_for_topic("building/b/humidity");
    assert!(!live.retained);
    assert_eq!(live.qos, Qos::AtLeastOnce);
    assert_eq!(&live.payload[..], b"40");
}

#[test]
fn payload_of_one_mebibyte_arrives_intact() {
    let broker = Mosquitto::start();
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.plain, Transport::Tcp, &["big/#"]),
        None,
    ));
    wait_until_subscribed(&handle);
    // Far above rumqttc's 10 KiB default limit; a pattern that shows truncation or reordering.
    let payload: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    broker.publish("big/blob", &payload, false);

    let message = Received::new(handle.inbox.clone()).wait_for_topic("big/blob");
    assert_eq!(message.payload.len(), payload.len());
    assert!(message.payload[..] == payload[..], "payload bytes differ");
    assert_eq!(handle.stats.snapshot().oversize_packets_refused, 0);
}

#[test]
fn packet_over_the_limit_is_refused_counted_and_explained() {
    let broker = Mosquitto::start();
    let mut params = ConnectParams::new(
        profile(broker.ports.plain, Transport::Tcp, &["big/#"]),
        None,
    );
    params.max_packet_bytes = 1024;
    let handle = spawn(params);
    wait_until_subscribed(&handle);
    broker.publish("big/blob", &[b'x'; 4096], false);

    let status = wait_for_status(
        &handle,
        "the oversize packet to close the connection",
        |status| {
            matches!(
                status.state,
                ConnectionState::Failed {
                    reason: FailureReason::ConnectionLost,
                    ..
                }
            )
        },
    );
    let ConnectionState::Failed { message, .. } = &status.state else {
        unreachable!()
    };
    assert!(message.contains("limit of 1024 bytes"), "{message}");
    assert_eq!(handle.stats.snapshot().oversize_packets_refused, 1);
    // The packet was not retained, so the worker reconnects and carries on.
    wait_until_subscribed(&handle);
}

#[test]
fn subscribe_and_publish_commands_reach_the_broker() {
    let broker = Mosquitto::start();
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.plain, Transport::Tcp, &["first/#"]),
        None,
    ));
    wait_until_subscribed(&handle);

    assert!(handle.send(WorkerCommand::Subscribe {
        filter: "second/+".into(),
        qos: Qos::AtMostOnce
    }));
    let status = wait_until_answered(&handle, "second/+");
    assert_eq!(
        status.subscriptions,
        [
            ("first/#".to_owned(), SubscriptionState::Granted(1)),
            ("second/+".to_owned(), SubscriptionState::Granted(0)),
        ]
    );

    assert!(
        handle.send(WorkerCommand::PublishAuthorized(common::authorized(
            "second/echo",
            b"from the worker",
            Qos::AtLeastOnce,
            false
        )))
    );
    let echo = Received::new(handle.inbox.clone()).wait_for_topic("second/echo");
    assert_eq!(&echo.payload[..], b"from the worker");
    assert_eq!(handle.stats.snapshot().publishes_not_sent, 0);
}

#[test]
fn unsubscribe_command_stops_delivery_of_that_filter() {
    let broker = Mosquitto::start();
    let filters = ["keep/#", "drop/#"];
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.plain, Transport::Tcp, &filters),
        None,
    ));
    wait_until_subscribed(&handle);

    assert!(handle.send(WorkerCommand::Unsubscribe {
        filter: "drop/#".into()
    }));
    wait_for_status(&handle, "drop/# removed", |status| {
        status.subscriptions.len() == 1
    });
    // The UNSUBSCRIBE is on its way; a message published after a round trip through the
    // worker's own SUBSCRIBE (answered in order by the broker) proves it was applied.
    assert!(handle.send(WorkerCommand::Subscribe {
        filter: "sync/#".into(),
        qos: Qos::AtLeastOnce
    }));
    wait_until_answered(&handle, "sync/#");
    broker.publish("drop/x", b"unwanted", false);
    broker.publish("keep/x", b"wanted", false);

    let mut received = Received::new(handle.inbox.clone());
    received.wait_for_topic("keep/x");
    assert!(
        !received.has_topic("drop/x"),
        "published before keep/x on the same connection"
    );
}

#[test]
fn closed_port_reports_connection_refused_and_keeps_retrying() {
    let port = common::free_port();
    let handle = spawn(ConnectParams::new(
        profile(port, Transport::Tcp, &["#"]),
        None,
    ));

    let status = wait_for_status(&handle, "connection refused", |status| {
        matches!(
            status.state,
            ConnectionState::Failed {
                reason: FailureReason::ConnectionRefused,
                ..
            }
        )
    });
    let ConnectionState::Failed { retry_at_nanos, .. } = &status.state else {
        unreachable!()
    };
    assert!(retry_at_nanos.is_some(), "a refused connection is retried");
    let text = describe(&status, 0);
    assert!(text.starts_with("Connection refused:"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("retrying in"), "{text}");

    // Each failure sets a new retry time (an attempt lasts too briefly to be seen reliably);
    // a later one proves the worker tried again.
    let first_retry_at = *retry_at_nanos;
    wait_for_status(&handle, "a second failed attempt", |status| {
        match &status.state {
            ConnectionState::Failed { retry_at_nanos, .. } => *retry_at_nanos > first_retry_at,
            _ => false,
        }
    });
}

#[test]
fn publishing_while_disconnected_is_counted_not_lost_silently() {
    let port = common::free_port();
    let handle = spawn(ConnectParams::new(
        profile(port, Transport::Tcp, &["#"]),
        None,
    ));
    wait_for_status(&handle, "a failed attempt", |status| {
        matches!(status.state, ConnectionState::Failed { .. })
    });
    assert!(
        handle.send(WorkerCommand::PublishAuthorized(common::authorized(
            "t",
            b"x",
            Qos::AtMostOnce,
            false
        )))
    );
    let deadline = std::time::Instant::now() + common::WAIT;
    while handle.stats.snapshot().publishes_not_sent == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "publish never counted"
        );
        std::thread::sleep(common::POLL_EVERY);
    }
}

#[test]
fn dropping_the_handle_stops_the_worker() {
    let broker = Mosquitto::start();
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.plain, Transport::Tcp, &["#"]),
        None,
    ));
    wait_until_subscribed(&handle);
    let status = handle.status.clone();
    drop(handle);

    let deadline = std::time::Instant::now() + common::WAIT;
    while status.snapshot().state != ConnectionState::Stopped {
        assert!(
            std::time::Instant::now() < deadline,
            "worker did not stop: {:?}",
            status.snapshot()
        );
        std::thread::sleep(common::POLL_EVERY);
    }
}

#[test]
fn stop_command_ends_the_thread() {
    let port = common::free_port();
    let handle = spawn(ConnectParams::new(
        profile(port, Transport::Tcp, &["#"]),
        None,
    ));
    assert!(handle.send(WorkerCommand::Stop));
    let deadline = std::time::Instant::now() + common::WAIT;
    while handle.running() {
        assert!(
            std::time::Instant::now() < deadline,
            "worker thread still running"
        );
        std::thread::sleep(common::POLL_EVERY);
    }
    assert_eq!(handle.status.snapshot().state, ConnectionState::Stopped);
    assert!(
        !handle.send(WorkerCommand::Stop),
        "a stopped worker accepts no commands"
    );
}

/// `.invalid` never resolves (RFC 2606), so the resolver answers at once with a failure.
#[test]
fn unknown_host_reports_a_name_lookup_failure() {
    let mut unknown = profile(1883, Transport::Tcp, &["#"]);
    unknown.host = "topicscope-test.invalid".into();
    let handle = spawn(ConnectParams::new(unknown, None));
    let status = wait_for_status(&handle, "a failed attempt", |status| {
        matches!(status.state, ConnectionState::Failed { .. })
    });
    let ConnectionState::Failed {
        reason, message, ..
    } = &status.state
    else {
        unreachable!()
    };
    assert_eq!(*reason, FailureReason::Dns, "{message}");
    assert!(message.contains("\"topicscope-test.invalid\""), "{message}");
}

#[cfg(target_os = "linux")]
#[test]
fn worker_runs_on_a_thread_named_mqtt_worker() {
    let handle = spawn(ConnectParams::new(
        profile(common::free_port(), Transport::Tcp, &["#"]),
        None,
    ));
    // The thread names itself when it starts; a status change proves it has.
    wait_for_status(&handle, "the worker to start", |status| {
        status.state != ConnectionState::Idle
    });
    let thread_names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("list own threads")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect();
    assert!(handle.running());
    assert!(
        thread_names.iter().any(|name| name == "mqtt-worker"),
        "{thread_names:?}"
    );
}
