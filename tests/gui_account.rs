//! The account panel (egui_kittest) against the contract server: sign in, pick a project,
//! connect, see "credentials valid until HH:MM"; write rights only after a confirmation; a
//! wrong password in plain words; and datapoint names from the API naming hashed topics in the
//! tree.

mod aedifion_api;
mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use aedifion_api::{ContractServer, ProjectSpec};
use bytes::Bytes;
use chrono::{Local, SubsecRound as _};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use topicscope::account::client::{AedifionClient, Login, SignInMethod};
use topicscope::account::clock::ManualClock;
use topicscope::account::controller::{AccountController, AccountEvent};
use topicscope::account::datapoints::fetch_datapoint_names;
use topicscope::account::keeper::KeeperSettings;
use topicscope::account::ureq_transport::{TransportSettings, UreqTransport};
use topicscope::model::aedifion::hash_id::hash_id;
use topicscope::model::config::secret::{MemorySecrets, NoSecrets, SecretBackend};
use topicscope::model::decode::message::Message;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::Nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::topic::tree::NodeId;
use topicscope::ui::account::{AccountPanel, apply};

const EMAIL: &str = "engineer@newco.example";
const PASSWORD: &str = "platform password";
const PROJECT_ROW: &str = "NewCo — Building 7 (lbg01/mybuilding)";

struct State {
    panel: AccountPanel,
    controller: AccountController,
    events: Vec<AccountEvent>,
}

fn datapoint_name(index: usize) -> String {
    format!("bacnet100-{index:04}-Room temperature")
}

fn setup() -> (Arc<ManualClock>, ContractServer) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now().trunc_subsecs(6)));
    let server = ContractServer::start(clock.clone());
    server.add_user(EMAIL, PASSWORD);
    server.add_project(ProjectSpec::new(7, "lbg01", "mybuilding"));
    server.grant(EMAIL, 7);
    server.add_datapoints(7, (0..250).map(datapoint_name));
    (clock, server)
}

fn harness(server: &ContractServer, clock: &Arc<ManualClock>) -> Harness<'static, State> {
    harness_with_secrets(server, clock, Arc::new(MemorySecrets::new()))
}

fn harness_with_secrets(
    server: &ContractServer,
    clock: &Arc<ManualClock>,
    secrets: Arc<dyn SecretBackend>,
) -> Harness<'static, State> {
    let controller = AccountController::new(clock.clone(), None)
        .with_secrets(secrets)
        .with_keeper_settings(KeeperSettings {
            poll_interval: Duration::from_millis(20),
        });
    let state = State {
        panel: AccountPanel::with_custom_api(&server.base_url, EMAIL),
        controller,
        events: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(800.0, 700.0))
        .build_ui_state(
            |ui, state: &mut State| {
                if let Some(action) = state.panel.ui(ui, &state.controller) {
                    apply(action, &mut state.controller);
                }
                let events = state.controller.poll();
                state.events.extend(events);
            },
            state,
        );
    harness.run_steps(2);
    harness
}

/// Runs frames until `done` (bounded by the common WAIT).
fn run_until(
    harness: &mut Harness<'static, State>,
    what: &str,
    done: impl Fn(&Harness<'static, State>) -> bool,
) {
    let deadline = Instant::now() + common::WAIT;
    loop {
        harness.run_steps(1);
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sign_in(harness: &mut Harness<'static, State>, password: &str) {
    harness.get_by_label("Password").focus();
    harness.run_steps(1);
    harness.get_by_label("Password").type_text(password);
    harness.run_steps(1);
    harness.get_by_label("Sign in").click();
    harness.run_steps(1);
}

#[test]
fn sign_in_pick_a_project_and_connect_shows_when_the_credentials_expire() {
    let (clock, server) = setup();
    let mut harness = harness(&server, &clock);
    sign_in(&mut harness, PASSWORD);
    run_until(&mut harness, "the project list", |harness| {
        harness.query_by_label(PROJECT_ROW).is_some()
    });
    harness.get_by_label(&format!("Signed in as {EMAIL}"));
    harness.get_by_label(PROJECT_ROW).click();
    harness.run_steps(1);
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "credentials and names", |harness| {
        harness
            .query_by_label_contains("credentials valid until")
            .is_some()
            && harness.state().events.len() == 2
    });

    let accounts = server.mqtt_users();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].rights, "read", "read-only unless confirmed");
    let expected = accounts[0]
        .valid_until
        .with_timezone(&Local)
        .format("%H:%M")
        .to_string();
    harness.get_by_label(&format!("credentials valid until {expected}"));

    let events = &harness.state().events;
    let connect = events.iter().find_map(|event| match event {
        AccountEvent::Connect { account, plan, .. } => Some((account, plan)),
        AccountEvent::DatapointNames { .. } => None,
    });
    let (account, plan) = connect.expect("a Connect event");
    assert_eq!(account.username, accounts[0].username);
    assert_eq!(account.password, accounts[0].password);
    assert_eq!(plan.filters, ["lbg01/mybuilding/#"]);
    let names = events.iter().find_map(|event| match event {
        AccountEvent::DatapointNames {
            topic_prefix,
            names,
        } => Some((topic_prefix, names)),
        AccountEvent::Connect { .. } => None,
    });
    let (prefix, names) = names.expect("datapoint names");
    assert_eq!(prefix.as_deref(), Some("lbg01/mybuilding"));
    assert_eq!(names.pairs.len(), 250);
    assert_eq!(names.hash_id_length, Some(8));
    let pages: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|request| request.path.contains("/datapoints/byPage"))
        .map(|request| request.path)
        .collect();
    assert_eq!(
        pages,
        [
            "/v2/project/7/datapoints/byPage?page=1&per_page=100",
            "/v2/project/7/datapoints/byPage?page=2&per_page=100",
            "/v2/project/7/datapoints/byPage?page=3&per_page=100",
        ]
    );
}

#[test]
fn write_rights_are_asked_for_only_after_a_confirmation() {
    let (clock, server) = setup();
    let mut harness = harness(&server, &clock);
    sign_in(&mut harness, PASSWORD);
    run_until(&mut harness, "the project list", |harness| {
        harness.query_by_label(PROJECT_ROW).is_some()
    });
    harness.get_by_label(PROJECT_ROW).click();
    let checkbox = "Allow writing (publish to the building)";
    harness.get_by_label(checkbox).click();
    harness.run_steps(2);
    harness.get_by_label_contains("reach real building equipment");
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("reach real building equipment")
            .is_none()
    );

    harness.get_by_label(checkbox).click();
    harness.run_steps(2);
    harness.get_by_label("Allow writing").click();
    harness.run_steps(2);
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "credentials", |harness| {
        harness
            .query_by_label_contains("credentials valid until")
            .is_some()
    });
    assert_eq!(server.mqtt_users()[0].rights, "write");
}

#[test]
fn a_wrong_password_is_shown_in_plain_words() {
    let (clock, server) = setup();
    let mut harness = harness(&server, &clock);
    sign_in(&mut harness, "wrong password");
    run_until(&mut harness, "the refusal", |harness| {
        harness
            .query_by_label_contains("wrong e-mail or password")
            .is_some()
    });
    assert!(harness.query_by_label_contains("Signed in as").is_none());
}

fn message(topic: &str, payload: &str, at: Nanos) -> Message {
    Message::new(
        topic.to_owned(),
        Bytes::copy_from_slice(payload.as_bytes()),
        Qos::AtMostOnce,
        false,
        at,
    )
}

/// A topic whose payload names nothing (a bare number) is named once the API's names arrive,
/// and so is one that appears afterwards.
#[test]
fn datapoint_names_from_the_api_are_shown_in_the_tree() {
    let (clock, server) = setup();
    let transport = UreqTransport::new(&TransportSettings::default()).expect("client");
    let client = AedifionClient::new(
        Login {
            api_url: server.base_url.clone(),
            email: EMAIL.into(),
            password: PASSWORD.into(),
            method: SignInMethod::Basic,
        },
        Arc::new(transport),
        clock.clone(),
    );
    let mut progress = Vec::new();
    let names = fetch_datapoint_names(&client, 7, &AtomicBool::new(false), &mut |step| {
        progress.push((step.pages_done, step.total_pages));
    })
    .expect("names");
    assert_eq!(progress, [(1, Some(3)), (2, Some(3)), (3, Some(3))]);

    let first = datapoint_name(3);
    let second = datapoint_name(200);
    let mut store = Store::new(Limits::default());
    let now: Nanos = 1_700_000_000_000_000_000;
    store.apply(message(
        &format!("lbg01/mybuilding/{}", hash_id(&first, 8)),
        "21.5",
        now,
    ));
    assert_eq!(
        store.learn_datapoint_names("lbg01/mybuilding", names.iter()),
        250
    );
    store.apply(message(
        &format!("lbg01/mybuilding/{}", hash_id(&second, 8)),
        "19",
        now,
    ));
    store.tree_mut().expand_all_below(NodeId::ROOT);

    let mut explorer = common::ExplorerState::new(store);
    explorer.set_fixed_now(Some(now));
    let mut harness = common::explorer_harness(explorer, 1400.0);
    harness.run_steps(2);
    harness.get_by_label_contains(&format!("{}  {first}", hash_id(&first, 8)));
    harness.get_by_label_contains(&format!("{}  {second}", hash_id(&second, 8)));
}

#[test]
fn the_password_is_kept_in_the_keychain_and_used_when_none_is_typed() {
    let (clock, server) = setup();
    let secrets = Arc::new(MemorySecrets::new());
    let mut harness = harness_with_secrets(&server, &clock, secrets.clone());
    // Nothing saved yet: a plain message.
    harness.get_by_label("Sign in").click();
    run_until(&mut harness, "the refusal", |harness| {
        harness
            .query_by_label(&format!(
                "No password is saved for {EMAIL}: type your password."
            ))
            .is_some()
    });
    sign_in(&mut harness, PASSWORD);
    run_until(&mut harness, "the project list", |harness| {
        harness.query_by_label(PROJECT_ROW).is_some()
    });
    let key = topicscope::account::secrets::platform_password_key(&server.base_url, EMAIL);
    assert_eq!(secrets.get(&key), Ok(Some(PASSWORD.into())));
    harness.get_by_label("Sign out").click();
    harness.run_steps(2);
    harness.get_by_label("With no password typed, the saved one is used.");
    harness.get_by_label("Sign in").click();
    run_until(&mut harness, "the project list again", |harness| {
        harness.query_by_label(PROJECT_ROW).is_some()
    });
    let signed_in = server
        .requests()
        .iter()
        .filter(|request| request.path == "/v2/user/projects" && request.status == 200)
        .count();
    assert_eq!(signed_in, 2);
}

#[test]
fn without_a_keychain_the_sign_in_works_and_says_the_password_was_not_saved() {
    let (clock, server) = setup();
    let secrets = Arc::new(NoSecrets::new("no session bus"));
    let mut harness = harness_with_secrets(&server, &clock, secrets);
    sign_in(&mut harness, PASSWORD);
    run_until(&mut harness, "the project list", |harness| {
        harness.query_by_label(PROJECT_ROW).is_some()
    });
    harness.get_by_label_contains(
        "The password was not saved: No OS keychain available (no session bus)",
    );
}
