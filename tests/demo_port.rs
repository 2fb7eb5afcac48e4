//! `demo-server --port P` with another broker already on P (issue 9): it fails with a clear
//! message and publishes nothing into that broker.

mod common;

use common::{Mosquitto, Received, profile, wait_until_subscribed};
use topicscope::demo::{DemoError, DemoServer};
use topicscope::model::config::profile::Transport;
use topicscope::mqtt::{ConnectParams, Inbox, WorkerHandle};

#[test]
fn the_demo_refuses_a_port_another_broker_listens_on_and_publishes_nothing_there() {
    let broker = Mosquitto::start();
    let port = broker.ports.plain;
    let error = match DemoServer::start_on_port(port) {
        Ok(_) => panic!("the demo started on a port Mosquitto holds"),
        Err(error) => error,
    };
    assert!(
        matches!(error, DemoError::PortInUse { port: p, .. } if p == port),
        "{error}"
    );
    assert!(error.to_string().contains("already in use"), "{error}");

    // Nothing of the demo reached Mosquitto: no retained META or data, no controls answers.
    let watcher = WorkerHandle::spawn(
        ConnectParams::new(profile(port, Transport::Tcp, &["#"]), None),
        Inbox::new(10_000),
    )
    .expect("watcher");
    wait_until_subscribed(&watcher);
    broker.publish("sentinel", b"after the subscription", false);
    let mut received = Received::new(watcher.inbox.clone());
    received.wait_for_topic("sentinel");
    let foreign: Vec<&str> = received
        .messages
        .iter()
        .map(|message| message.topic.as_str())
        .filter(|topic| *topic != "sentinel")
        .collect();
    assert!(
        foreign.is_empty(),
        "the demo published into Mosquitto: {foreign:?}"
    );
}

#[test]
fn the_demo_server_command_fails_clearly_when_its_port_is_taken() {
    let broker = Mosquitto::start();
    let port = broker.ports.plain.to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .args(["demo-server", "--port", &port])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run demo-server");
    let status = common::wait_for_exit(&mut child, common::WAIT);
    let output = child.wait_with_output().expect("output");
    assert!(!status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(output.stdout.is_empty(), "no URL was printed");
}
