//! Headless mode and the load generator against real brokers: `bench publish` sends N messages
//! over T topics, `headless --count N` receives all of them, and its statistics and dump say so.
//! Every wait is bounded; nothing here measures speed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use topicscope::commands::bench::{PayloadKind, PublishArgs, publish};
use topicscope::commands::headless::{self, HeadlessArgs};
use topicscope::demo::DemoServer;

const MESSAGES: u64 = 3000;
const TOPICS: u64 = 30;
/// Headless mode's own stop, far beyond what the tests need: a lost message fails the counts
/// instead of hanging the test.
const SAFETY_DURATION_SECS: u64 = 60;

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("JSON file written");
    serde_json::from_str(&text).expect("valid JSON")
}

fn check_dump(dump: &serde_json::Value) {
    let topics = dump["topics"].as_array().expect("topics array");
    assert_eq!(topics.len() as u64, TOPICS);
    let total: u64 = topics
        .iter()
        .map(|topic| topic["message_count"].as_u64().expect("count"))
        .sum();
    assert_eq!(total, MESSAGES);
    for topic in topics {
        assert_eq!(topic["message_count"].as_u64(), Some(MESSAGES / TOPICS));
        assert!(
            topic["topic"]
                .as_str()
                .is_some_and(|t| t.starts_with("lbg01/bench/")),
            "{topic}"
        );
        assert!(
            topic["datapoint"]
                .as_str()
                .is_some_and(|name| name.starts_with("bench_dp_")),
            "{topic}"
        );
        assert_eq!(topic["format"], "Influx");
    }
}

#[test]
fn headless_receives_every_message_bench_publishes_through_mosquitto() {
    let broker = common::Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str| dir.path().join(name);
    let url = format!("mqtt://127.0.0.1:{}", broker.ports.plain);
    let binary = env!("CARGO_BIN_EXE_topicscope");
    let mut headless = Command::new(binary)
        .args(["headless", "--url", &url, "--subscribe", "lbg01/bench/#"])
        .args(["--count", &MESSAGES.to_string()])
        .args(["--duration", &SAFETY_DURATION_SECS.to_string()])
        .arg("--stats-json")
        .arg(file("stats.json"))
        .arg("--dump")
        .arg(file("dump.json"))
        .arg("--ready-file")
        .arg(file("ready"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start headless");
    common::wait_for_file(&file("ready"));
    let published = Command::new(binary)
        .args(["bench", "publish", "--url", &url])
        .args(["--topics", &TOPICS.to_string()])
        .args(["--count", &MESSAGES.to_string()])
        .arg("--stats-json")
        .arg(file("publish.json"))
        .output()
        .expect("run bench publish");
    assert!(published.status.success(), "{published:?}");
    let summary = String::from_utf8_lossy(&published.stdout);
    assert!(
        summary.contains(&format!("sent {MESSAGES} messages over {TOPICS} topics")),
        "{summary}"
    );
    assert!(
        common::wait_for_exit(
            &mut headless,
            Duration::from_secs(SAFETY_DURATION_SECS + 20)
        )
        .success()
    );

    let stats = read_json(&file("stats.json"));
    assert_eq!(stats["stopped_by"], "count", "{stats}");
    assert_eq!(stats["messages_received"].as_u64(), Some(MESSAGES));
    assert_eq!(stats["messages_applied"].as_u64(), Some(MESSAGES));
    assert_eq!(stats["messages_dropped"].as_u64(), Some(0));
    assert_eq!(stats["topics"].as_u64(), Some(TOPICS));
    assert!(stats["bytes_held"].as_u64().is_some_and(|bytes| bytes > 0));
    assert!(stats["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(stats["first_to_last_secs"].as_f64().is_some());
    assert_eq!(
        read_json(&file("publish.json"))["sent"].as_u64(),
        Some(MESSAGES)
    );
    check_dump(&read_json(&file("dump.json")));
}

#[test]
fn headless_receives_every_message_bench_publishes_through_the_demo_broker() {
    let demo = DemoServer::start().expect("demo starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("mqtt://127.0.0.1:{}", demo.port());
    let ready: PathBuf = dir.path().join("ready");
    let dump = dir.path().join("dump.json");
    let args = HeadlessArgs {
        url: Some(url.clone()),
        // The simulated building publishes too; only the bench topics are counted.
        subscribe: vec!["lbg01/bench/#".into()],
        qos: Some(1),
        duration: Some(SAFETY_DURATION_SECS),
        count: Some(MESSAGES),
        stats_json: None,
        dump: Some(dump.clone()),
        memory_budget: Some(64),
        ready_file: Some(ready.clone()),
        client_id: None,
        persistent_session: false,
        allow_unencrypted_login: false,
        aedifion: Default::default(),
    };
    let (done, result) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("headless-under-test".into())
        .spawn(move || {
            let _ = done.send(headless::run(&args).map_err(|error| error.to_string()));
        })
        .expect("spawn");
    common::wait_for_file(&ready);
    let report = publish(&PublishArgs {
        url,
        topics: TOPICS,
        count: MESSAGES,
        rate: None,
        payload: PayloadKind::Influx,
        retain: false,
        qos: 1,
        prefix: "lbg01/bench".into(),
        stats_json: None,
        allow_writes: false,
        allow_unencrypted_login: false,
        config_dir: Some(dir.path().to_owned()),
    })
    .expect("publish");
    assert_eq!(report.sent, MESSAGES);
    let stats = result
        .recv_timeout(Duration::from_secs(SAFETY_DURATION_SECS + 20))
        .expect("headless finished")
        .expect("headless succeeded");
    assert_eq!(stats.stopped_by, "count");
    assert_eq!(
        (
            stats.messages_received,
            stats.messages_applied,
            stats.messages_dropped
        ),
        (MESSAGES, MESSAGES, 0)
    );
    assert_eq!(stats.topics, TOPICS);
    assert_eq!(stats.memory_budget_bytes, 64 << 20);
    check_dump(&read_json(&dump));
}

#[test]
fn a_persistent_session_receives_what_the_broker_queued_while_it_was_away() {
    // What the benchmark's drain case does: subscribe once with a kept session, go away, let the
    // broker queue a QoS 1 flood, come back under the same client id and take the backlog.
    let broker = common::Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str| dir.path().join(name);
    let url = format!("mqtt://127.0.0.1:{}", broker.ports.plain);
    let binary = env!("CARGO_BIN_EXE_topicscope");
    let headless = |stats: &str, ready: &str, count: u64| {
        let output = Command::new(binary)
            .args(["headless", "--url", &url, "--subscribe", "lbg01/bench/#"])
            .args([
                "--qos",
                "1",
                "--client-id",
                "drain-test",
                "--persistent-session",
            ])
            .args(["--count", &count.to_string(), "--duration", "2"])
            .arg("--stats-json")
            .arg(file(stats))
            .arg("--ready-file")
            .arg(file(ready))
            .output()
            .expect("run headless");
        assert!(output.status.success(), "{output:?}");
        read_json(&file(stats))
    };
    // First visit: subscribe, receive nothing, leave (the duration ends it).
    let first = headless("first.json", "ready-1", 1);
    assert_eq!(first["messages_received"].as_u64(), Some(0));
    assert!(file("ready-1").exists(), "the subscription was granted");
    // Mosquitto queues at most 1,000 messages for an absent client (`max_queued_messages`).
    let queued = 900;
    let published = Command::new(binary)
        .args(["bench", "publish", "--url", &url, "--qos", "1"])
        .args(["--topics", &TOPICS.to_string()])
        .args(["--count", &queued.to_string()])
        .output()
        .expect("run bench publish");
    assert!(published.status.success(), "{published:?}");
    // Second visit: the backlog arrives without publishing anything new (a safety duration far
    // above what it needs stops a lost message from hanging the test).
    let output = Command::new(binary)
        .args(["headless", "--url", &url, "--subscribe", "lbg01/bench/#"])
        .args([
            "--qos",
            "1",
            "--client-id",
            "drain-test",
            "--persistent-session",
        ])
        .args(["--count", &queued.to_string()])
        .args(["--duration", &SAFETY_DURATION_SECS.to_string()])
        .arg("--stats-json")
        .arg(file("second.json"))
        .output()
        .expect("run headless");
    assert!(output.status.success(), "{output:?}");
    let second = read_json(&file("second.json"));
    assert_eq!(second["stopped_by"], "count", "{second}");
    assert_eq!(second["messages_received"].as_u64(), Some(queued));
    assert_eq!(second["topics"].as_u64(), Some(TOPICS));
}

#[test]
fn a_persistent_session_needs_a_client_id() {
    let output = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .args(["headless", "--url", "mqtt://127.0.0.1:1", "--duration", "1"])
        .arg("--persistent-session")
        .output()
        .expect("run headless");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--client-id"),
        "{output:?}"
    );
}
