//! `topicscope headless --aedifion-project ID`, run as the built binary against the contract
//! server (tests/aedifion_api) and a real Mosquitto configured with the platform's accounts
//! (TLS, password file, ACL): it signs in, creates the MQTT account, subscribes to its ACL,
//! keeps the account renewed while it runs, names the datapoints from the API, and receives.

mod aedifion_api;
mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aedifion_api::{ContractServer, ProjectSpec, configure_mosquitto};
use serde_json::Value;
use topicscope::account::clock::SystemClock;
use topicscope::model::aedifion::hash_id::hash_id;

const EMAIL: &str = "engineer@newco.example";
const PASSWORD: &str = "platform password";

fn datapoint_name(index: usize) -> String {
    format!("bacnet100-{index:04}-Room temperature")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn stderr_of(child: Child) -> String {
    let output = child.wait_with_output().expect("output");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Waits (bounded by WAIT) for `path`, failing with the child's messages if it ends first.
fn wait_for_file_or_exit(path: &Path, child: &mut Option<Child>) {
    let deadline = Instant::now() + common::WAIT;
    while !path.exists() {
        if let Some(running) = child.as_mut()
            && let Ok(Some(status)) = running.try_wait()
        {
            let stderr = child.take().map(stderr_of).unwrap_or_default();
            panic!("headless ended ({status}) before it was ready:\n{stderr}");
        }
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {:?}",
            path.display(),
            common::WAIT
        );
        std::thread::sleep(common::POLL_EVERY);
    }
}

#[test]
fn headless_on_an_aedifion_project_renews_its_account_and_receives_with_names_from_the_api() {
    let server = ContractServer::start(Arc::new(SystemClock));
    server.add_user(EMAIL, PASSWORD);
    server.add_project(ProjectSpec::new(7, "lbg01", "mybuilding"));
    server.grant(EMAIL, 7);
    server.add_datapoints(7, (0..150).map(datapoint_name));
    let broker = common::Mosquitto::start();
    let (broker_dir, pid) = (broker.dir().to_owned(), broker.pid().expect("running"));
    server.on_accounts_changed(move |accounts| configure_mosquitto(&broker_dir, pid, accounts));

    let dir = tempfile::tempdir().expect("temp dir");
    let (ready, stats, dump) = (
        dir.path().join("ready"),
        dir.path().join("stats.json"),
        dir.path().join("dump.json"),
    );
    let child = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .arg("headless")
        .args(["--aedifion-project", "7", "--email", EMAIL])
        .args(["--api-url", &server.base_url])
        .args(["--broker", &format!("127.0.0.1:{}", broker.ports.tls_auth)])
        .arg("--broker-ca-file")
        .arg(broker.ca_file())
        // Renewed after 3 s: within the test, not within a slow machine's noise.
        .args(["--aedifion-validity", "4"])
        .args(["--count", "1", "--duration", "120"])
        .arg("--ready-file")
        .arg(&ready)
        .arg("--stats-json")
        .arg(&stats)
        .arg("--dump")
        .arg(&dump)
        .env("TOPICSCOPE_AEDIFION_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start topicscope");
    let mut child = Some(child);
    wait_for_file_or_exit(&ready, &mut child);

    // The account is kept while it runs: renewed (or, on a machine too slow to renew within
    // the second left, created again).
    let kept = || {
        let requests = server.requests();
        let renewed = requests
            .iter()
            .any(|request| request.method == "PUT" && request.status == 200);
        let created = requests
            .iter()
            .filter(|request| request.method == "POST" && request.status == 201)
            .count();
        renewed || created >= 2
    };
    let deadline = Instant::now() + common::WAIT;
    while !kept() {
        assert!(Instant::now() < deadline, "the account was not kept");
        std::thread::sleep(common::POLL_EVERY);
    }

    // A bare number on a hashed topic: only the API's list names it.
    let topic = format!("lbg01/mybuilding/{}", hash_id(&datapoint_name(5), 8));
    let mut running = child.take().expect("running");
    let deadline = Instant::now() + common::WAIT;
    let status = loop {
        if let Some(status) = running.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = running.kill();
            panic!(
                "headless did not receive within {:?}:\n{}",
                common::WAIT,
                stderr_of(running)
            );
        }
        broker.publish(&topic, b"21.5", false);
        std::thread::sleep(Duration::from_millis(500));
    };
    let stderr = stderr_of(running);
    assert!(status.success(), "{status}:\n{stderr}");
    assert!(stderr.contains("MQTT account"), "reported: {stderr}");

    let stats = read_json(&stats);
    assert_eq!(stats["messages_received"].as_u64(), Some(1), "{stats:#}");
    assert_eq!(
        stats["subscriptions"],
        serde_json::json!(["lbg01/mybuilding/#"])
    );
    let account = &stats["aedifion"];
    assert_eq!(account["project_id"].as_u64(), Some(7));
    let created = account["accounts_created"].as_u64().unwrap_or(0);
    let renewals = account["renewals"].as_u64().unwrap_or(0);
    assert!(created >= 1 && renewals + created >= 2, "{account:#}");
    assert_eq!(account["datapoint_names"].as_u64(), Some(150));
    let username = account["mqtt_username"].as_str().unwrap_or_default();
    assert!(username.starts_with("topicscope-"), "{username}");
    assert!(
        server
            .requests()
            .iter()
            .any(|request| request.method == "POST" && request.body.contains(username)),
        "the account in use was created by the run: {username}"
    );

    let dump = read_json(&dump);
    let topics = dump["topics"].as_array().expect("topics");
    let entry = topics
        .iter()
        .find(|entry| entry["topic"] == topic.as_str())
        .expect("the topic in the dump");
    assert_eq!(
        entry["datapoint"].as_str(),
        Some(datapoint_name(5).as_str())
    );
}
