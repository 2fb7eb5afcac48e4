//! Every command-line writer passes the write gate (issue 9): an aedifion.io URL is read-only
//! unless `--allow-writes`; `bench publish` is refused for it and audited otherwise; the
//! password from `TOPICSCOPE_PASSWORD` travels only with a user name.
//!
//! Nothing here connects to aedifion.io: the refusals happen before any connection.

mod common;

use std::process::Output;

use common::Mosquitto;

const BINARY: &str = env!("CARGO_BIN_EXE_topicscope");
const AEDIFION_URL: &str = "mqtts://me@mqtt2.aedifion.io:8884";

fn run(args: &[&str], config_dir: &std::path::Path) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--config-dir", config_dir.to_str().expect("utf-8 path")]);
    run_with_env(&all, &[])
}

fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(BINARY);
    command
        .args(args)
        .env_remove("TOPICSCOPE_PASSWORD")
        .stdin(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run topicscope");
    common::wait_for_exit(&mut child, common::WAIT);
    child.wait_with_output().expect("output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `(kind, outcome state)` of every audit line, oldest first.
fn audited(config_dir: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(config_dir.join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            (
                entry["kind"].as_str().unwrap_or_default().to_owned(),
                entry["outcome"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn publish_to_an_aedifion_url_is_read_only_without_allow_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(
        &[
            "publish",
            "--url",
            AEDIFION_URL,
            "--topic",
            "lbg01/x/y",
            "1",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
    assert_eq!(audited(dir.path()), [("Publish".into(), "refused".into())]);
}

#[test]
fn bench_publish_refuses_an_aedifion_host_and_records_the_refusal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(
        &["bench", "publish", "--url", AEDIFION_URL, "--count", "1"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
    assert_eq!(audited(dir.path()), [("Load".into(), "refused".into())]);
}

#[test]
fn bench_publish_is_audited_before_and_after_and_sends_no_password_without_a_user_name() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("mqtt://127.0.0.1:{}", broker.ports.plain);
    // A password in the environment and no user in the URL: MQTT cannot send it, and
    // Mosquitto refuses a CONNECT that carries one anyway.
    let output = run_with_env(
        &[
            "bench",
            "publish",
            "--url",
            &url,
            "--count",
            "20",
            "--topics",
            "5",
            "--config-dir",
            dir.path().to_str().expect("utf-8"),
        ],
        &[("TOPICSCOPE_PASSWORD", "not for this broker")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        audited(dir.path()),
        [
            ("Load".into(), "requested".into()),
            ("Load".into(), "sent".into())
        ]
    );
}

#[test]
fn allow_writes_is_offered_the_same_way_by_every_writer_and_help_says_when_a_password_is_sent() {
    for command in [
        &["publish", "--help"][..],
        &["setpoint", "--help"],
        &["bench", "publish", "--help"],
        &["--help"],
    ] {
        let output = run_with_env(command, &[]);
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("--allow-writes"), "{command:?}:\n{help}");
        assert!(
            help.contains("only with a user name"),
            "{command:?}:\n{help}"
        );
    }
}

#[test]
fn a_command_line_writer_with_a_saved_profile_does_not_kick_the_window_off() {
    use topicscope::model::config::profile::Transport;
    use topicscope::model::config::profile_store::ProfileStore;
    use topicscope::mqtt::ConnectionState;
    use topicscope::session::{ConnectOptions, Connection};

    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut saved = common::profile(broker.ports.plain, Transport::Tcp, &["cli/#"]);
    saved.name = "Lab broker".into();
    let mut store = ProfileStore::open(dir.path());
    let id = store.create(saved).expect("save");
    let saved = store.get(&id).expect("saved").clone();
    // The window, connected with the same profile (and so the same client id).
    let window =
        Connection::start(saved, None, ConnectOptions::default(), None).expect("window connects");
    window
        .wait_until_subscribed(common::WAIT)
        .expect("subscribed");
    let ConnectionState::Connected { since_nanos } = window.status().state else {
        panic!("not connected");
    };
    for command in [
        &[
            "publish",
            "--profile",
            "Lab broker",
            "--topic",
            "cli/a",
            "--qos",
            "1",
            "x",
        ][..],
        &[
            "publish",
            "--profile",
            "Lab broker",
            "--topic",
            "cli/b",
            "--qos",
            "1",
            "y",
        ],
    ] {
        let output = run(command, dir.path());
        assert!(output.status.success(), "{}", stderr(&output));
    }
    // Both messages reached the window over its one, undisturbed connection.
    let deadline = std::time::Instant::now() + common::WAIT;
    let mut topics = Vec::new();
    while topics.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "got {topics:?}");
        let mut messages = Vec::new();
        window.inbox().drain_into(usize::MAX, &mut messages);
        topics.extend(messages.into_iter().map(|message| message.topic));
        std::thread::sleep(common::POLL_EVERY);
    }
    let status = window.status();
    assert_eq!(
        status.state,
        ConnectionState::Connected { since_nanos },
        "the window's connection was taken over: {status}"
    );
    assert_eq!(status.last_failure, None);
}

/// A host that is not this computer; nothing is ever sent to it (the refusals come first).
const LAN_HOST: &str = "192.0.2.10";

#[test]
fn a_password_over_plain_transport_to_another_computer_is_refused_at_every_entry_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_text = dir.path().to_str().expect("utf-8");
    let url = format!("mqtt://me@{LAN_HOST}:1883");
    let password = [("TOPICSCOPE_PASSWORD", "secret")];
    for command in [
        vec![
            "publish",
            "--url",
            &url,
            "--topic",
            "a",
            "x",
            "--config-dir",
            dir_text,
        ],
        vec![
            "setpoint",
            "--url",
            &url,
            "--project",
            "lbg01/x",
            "--datapoint",
            "d",
            "--value",
            "1",
            "--yes",
            "--config-dir",
            dir_text,
        ],
        vec!["headless", "--url", &url, "--duration", "1"],
        vec![
            "bench",
            "publish",
            "--url",
            &url,
            "--count",
            "1",
            "--config-dir",
            dir_text,
        ],
    ] {
        let output = run_with_env(&command, &password);
        assert!(!output.status.success(), "{command:?}");
        let text = stderr(&output) + &String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("sent unencrypted") && text.contains(LAN_HOST),
            "{command:?}: {text}"
        );
    }
}

#[test]
fn a_saved_profile_is_checked_again_at_connect() {
    use topicscope::model::config::profile::{PasswordStorage, Profile, Transport};
    use topicscope::session::{ConnectOptions, Connection, ConnectionError};

    // As if edited by hand: a stored password to another computer over plain TCP.
    let hand_edited = Profile {
        name: "LAN".into(),
        host: LAN_HOST.into(),
        username: "me".into(),
        password_storage: PasswordStorage::Keychain,
        client_id: "ts-lan".into(),
        ..Profile::default()
    };
    let refused = Connection::start(
        hand_edited.clone(),
        Some("secret".into()),
        ConnectOptions::default(),
        None,
    );
    assert!(
        matches!(&refused, Err(ConnectionError::InvalidProfile(text)) if text.contains("unencrypted")),
        "{:?}",
        refused.err()
    );
    // Over TLS to a real broker with certificate checks off: allowed, and warned about.
    let broker = Mosquitto::start();
    let mut unchecked = common::profile(broker.ports.tls, Transport::Tls, &["w/#"]);
    unchecked.tls.accept_invalid_certs = true;
    let connection =
        Connection::start(unchecked, None, ConnectOptions::default(), None).expect("starts");
    connection
        .wait_until_subscribed(common::WAIT)
        .expect("connects");
    let warnings = connection.security_warnings();
    assert!(
        warnings
            .iter()
            .any(|warning| warning.contains("not checked")),
        "{warnings:?}"
    );
}
