//! `topicscope aedifion projects` and `topicscope aedifion mqtt-user`, run as the built binary
//! against the contract server (tests/aedifion_api).

mod aedifion_api;
mod common;

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aedifion_api::{ContractServer, ProjectSpec};
use serde_json::Value;
use topicscope::account::clock::SystemClock;

const EMAIL: &str = "engineer@newco.example";
const PASSWORD: &str = "platform password";

fn server() -> ContractServer {
    let server = ContractServer::start(Arc::new(SystemClock));
    server.add_user(EMAIL, PASSWORD);
    server.add_project(ProjectSpec::new(7, "lbg01", "mybuilding"));
    server.grant(EMAIL, 7);
    server
}

/// Runs `topicscope aedifion ARGS` with the password in the environment (bounded wait).
fn aedifion(server: &ContractServer, password: &str, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .arg("aedifion")
        .args(args)
        .args(["--api-url", &server.base_url, "--email", EMAIL])
        .env("TOPICSCOPE_AEDIFION_PASSWORD", password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start topicscope");
    common::wait_for_exit(&mut child, Duration::from_secs(60));
    child.wait_with_output().expect("output")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn projects_are_printed_as_json_with_their_topic_prefix() {
    let server = server();
    let output = aedifion(&server, PASSWORD, &["projects"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        json(&output),
        serde_json::json!([{
            "id": 7,
            "name": "Building 7",
            "company": "NewCo",
            "topic_prefix": "lbg01/mybuilding",
            "description": "Test building 7",
        }])
    );
}

#[test]
fn mqtt_user_creates_the_account_and_prints_it_once() {
    let server = server();
    let output = aedifion(
        &server,
        PASSWORD,
        &[
            "mqtt-user",
            "--project",
            "7",
            "--validity",
            "600",
            "--write",
            "--broker",
            "127.0.0.1:8884",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let printed = json(&output);
    let stored = server.mqtt_users();
    assert_eq!(stored.len(), 1);
    let account = &stored[0];
    assert_eq!(printed["username"], account.username.as_str());
    assert_eq!(
        printed["password"],
        account.password.as_str(),
        "the password that was sent"
    );
    assert_eq!(printed["mqttuser_id"], account.id);
    assert_eq!(printed["rights"], "write");
    assert_eq!(
        printed["subscriptions"],
        serde_json::json!(["lbg01/mybuilding/#"])
    );
    assert_eq!(
        printed["acl"],
        serde_json::json!([{"topic": "lbg01/mybuilding/#", "rights": "write"}])
    );
    assert_eq!(printed["broker"]["url"], "mqtts://127.0.0.1:8884");
    let valid_until = printed["valid_until"].as_str().expect("text");
    assert_eq!(
        valid_until,
        topicscope::account::api::format_timestamp(account.valid_until)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("WRITE rights"),
        "write rights are pointed out"
    );
    let body: Value = serde_json::from_str(
        &server
            .requests()
            .iter()
            .find(|request| request.method == "POST")
            .expect("post")
            .body,
    )
    .expect("json body");
    assert_eq!(body["validity"], 600);
    assert!(
        body["username"]
            .as_str()
            .is_some_and(|name| name.starts_with("topicscope-"))
    );
}

#[test]
fn a_wrong_password_exits_1_with_a_plain_message() {
    let server = server();
    let output = aedifion(&server, "wrong", &["projects"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wrong e-mail or password (401)"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn an_unreachable_api_exits_1_naming_the_address() {
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .args(["aedifion", "projects", "--email", EMAIL, "--api-url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .env("TOPICSCOPE_AEDIFION_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start topicscope");
    common::wait_for_exit(&mut child, Duration::from_secs(60));
    let output = child.wait_with_output().expect("output");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "could not connect to http://127.0.0.1:{port}/v2/user/projects"
        )),
        "{stderr}"
    );
}
