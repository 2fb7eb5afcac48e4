//! The `publish`, `setpoint` and `demo-server` commands, run as the built binary against a real
//! Mosquitto and the demo building.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

use common::{Mosquitto, Received, profile, wait_until_subscribed};
use topicscope::demo::{CONTROLS_TOPIC, DemoServer};
use topicscope::model::config::presets::Preset;
use topicscope::model::config::profile::{Profile, Transport};
use topicscope::model::config::profile_store::ProfileStore;
use topicscope::model::topic::qos::Qos;
use topicscope::mqtt::{ConnectParams, Inbox, WorkerHandle};

const BINARY: &str = env!("CARGO_BIN_EXE_topicscope");
const SETPOINT: &str = "bacnet100-4120-Real-room-temperature-setpoint-RTs_real";

fn run(args: &[&str], config_dir: &std::path::Path) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let dir = config_dir.to_str().expect("utf-8 path");
    all.extend(["--config-dir", dir]);
    common::run_with_input(BINARY, &all, b"")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    let text = stdout(output);
    serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

fn setpoint_args<'a>(url: &'a str, datapoint: &'a str, value: &'a str) -> Vec<&'a str> {
    vec![
        "setpoint",
        "--url",
        url,
        "--project",
        "lbg01/demo_building",
        "--datapoint",
        datapoint,
        "--value",
        value,
        "--acknowledge",
        "--yes",
        "--timeout",
        "10",
    ]
}

/// The simulator subscribes to its controls topic before it publishes data, so once data
/// arrives a NEWSPT cannot go unheard.
fn wait_for_the_simulator(port: u16) {
    let watcher = WorkerHandle::spawn(
        ConnectParams::new(profile(port, Transport::Tcp, &["lbg01/#"]), None),
        Inbox::new(10_000),
    )
    .expect("spawn");
    wait_until_subscribed(&watcher);
    let deadline = std::time::Instant::now() + common::WAIT;
    let mut messages = Vec::new();
    while messages.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo sent no data"
        );
        watcher.inbox.drain_into(usize::MAX, &mut messages);
        std::thread::sleep(common::POLL_EVERY);
    }
}

#[test]
fn publish_reports_the_acknowledgement_and_the_message_arrives_retained() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("mqtt://127.0.0.1:{}", broker.ports.plain);
    let output = run(
        &[
            "publish", "--url", &url, "--topic", "cli/one", "--qos", "2", "--retain", "hello",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).contains("completed (PUBCOMP)"),
        "{output:?}"
    );
    let late = WorkerHandle::spawn(
        ConnectParams::new(
            profile(broker.ports.plain, Transport::Tcp, &["cli/#"]),
            None,
        ),
        Inbox::new(64),
    )
    .expect("spawn");
    wait_until_subscribed(&late);
    let message = Received::new(late.inbox.clone()).wait_for_topic("cli/one");
    assert!(message.retained);
    assert_eq!(message.qos, Qos::AtLeastOnce);
    assert_eq!(&message.payload[..], b"hello");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    assert!(audit.contains("\"completed\""), "{audit}");
}

#[test]
fn a_read_only_profile_refuses_publish_and_setpoint_with_exit_code_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    let guarded = Profile {
        name: "Guarded".into(),
        host: "127.0.0.1".into(),
        port: common::free_port(),
        username: "someone".into(),
        password_storage: topicscope::model::config::profile::PasswordStorage::None,
        subscriptions: vec![topicscope::model::config::profile::Subscription::new(
            "lbg01/x/#",
            Qos::AtLeastOnce,
        )],
        ..Preset::AedifionProduction.profile()
    };
    assert!(guarded.read_only, "aedifion presets start read-only");
    store.create(guarded).expect("save profile");
    let publish = run(
        &["publish", "--profile", "Guarded", "--topic", "a", "x"],
        dir.path(),
    );
    assert_eq!(publish.status.code(), Some(3), "{publish:?}");
    assert!(String::from_utf8_lossy(&publish.stderr).contains("read-only"));
    let setpoint = run(
        &[
            "setpoint",
            "--profile",
            "Guarded",
            "--project",
            "lbg01/x",
            "--datapoint",
            "d",
            "--value",
            "1",
            "--yes",
        ],
        dir.path(),
    );
    assert_eq!(setpoint.status.code(), Some(3), "{setpoint:?}");
    // Nothing was sent; both refusals are in the audit log.
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    let states: Vec<String> = log
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            entry["outcome"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(states, ["refused", "refused"], "{log}");
}

#[test]
fn a_setpoint_to_the_demo_is_written_and_a_refused_one_fails_with_the_reason() {
    let demo = DemoServer::start().expect("demo");
    wait_for_the_simulator(demo.port());
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("mqtt://127.0.0.1:{}", demo.port());
    let written = run(&setpoint_args(&url, SETPOINT, "21.5"), dir.path());
    assert!(written.status.success(), "{written:?}");
    let state = json(&written);
    assert_eq!(state["state"], "written");
    assert_eq!(state["priority"], 13);
    assert_eq!(state["topic"], CONTROLS_TOPIC);

    let unknown = run(
        &setpoint_args(&url, "no-such-datapoint", "21.5"),
        dir.path(),
    );
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    let state = json(&unknown);
    assert_eq!(state["state"], "failed");
    assert!(
        state["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown datapoint"))
    );

    let out_of_range = run(&setpoint_args(&url, SETPOINT, "95"), dir.path());
    assert_eq!(json(&out_of_range)["state"], "failed", "{out_of_range:?}");
}

#[test]
fn silence_times_out_and_invalid_input_sends_nothing() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("mqtt://127.0.0.1:{}", broker.ports.plain);
    let mut args = setpoint_args(&url, SETPOINT, "21.5");
    let last = args.len() - 1;
    args[last] = "1";
    let silent = run(&args, dir.path());
    assert_eq!(silent.status.code(), Some(1), "{silent:?}");
    assert_eq!(json(&silent)["state"], "timeout");

    let other = tempfile::tempdir().expect("temp dir");
    let mut invalid = setpoint_args(&url, SETPOINT, "21,5");
    invalid.extend(["--priority", "0"]);
    let refused = run(&invalid, other.path());
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let message = json(&refused)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("decimal point") && message.contains("priority"),
        "{message}"
    );
    assert!(
        !other.path().join("audit.jsonl").exists(),
        "nothing was sent"
    );
}

/// Kills the child on drop, so a failing test leaves no demo server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_server_prints_its_address_and_serves_the_building() {
    let mut child = Running(
        Command::new(BINARY)
            .args(["demo-server"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start demo-server"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    // read_line returns at the first line or at EOF (the process ended): bounded either way.
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let port: u16 = line
        .trim()
        .strip_prefix("mqtt://127.0.0.1:")
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let handle = WorkerHandle::spawn(
        ConnectParams::new(profile(port, Transport::Tcp, &["META/#"]), None),
        Inbox::new(10_000),
    )
    .expect("spawn");
    wait_until_subscribed(&handle);
    let mut received = Received::new(handle.inbox.clone());
    let deadline = std::time::Instant::now() + common::WAIT;
    while !received
        .messages
        .iter()
        .any(|m| m.topic.starts_with("META/lbg01/demo_building"))
    {
        assert!(std::time::Instant::now() < deadline, "no demo metadata");
        handle.inbox.drain_into(usize::MAX, &mut received.messages);
        std::thread::sleep(common::POLL_EVERY);
    }
}
