//! The aedifion account in the whole window (egui_kittest), against the contract server
//! (tests/aedifion_api) and a real Mosquitto configured with the platform's accounts (TLS,
//! password file, ACL): "Sign in to aedifion…" from the top bar, pick the project, Connect —
//! then connected, the datapoint names from the API in the tree, "credentials valid until
//! HH:MM" in the status bar, the profile saved without its password, the silent datapoints in
//! the stale view; renewal under the live connection, and recreation after the platform deleted
//! the account reconnecting the same profile without losing the tree. The keeper and the
//! server share a manual clock, so "75 % of the validity" happens when the test says.

mod aedifion_api;
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aedifion_api::{ContractServer, ProjectSpec, configure_mosquitto};
use chrono::{Local, SubsecRound as _, TimeDelta};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use topicscope::account::clock::ManualClock;
use topicscope::account::controller::AccountController;
use topicscope::account::keeper::KeeperSettings;
use topicscope::app::{ACCOUNT_WINDOW_TITLE, AppOptions, Startup, TopicScopeApp};
use topicscope::model::aedifion::hash_id::hash_id;
use topicscope::model::config::profile::PasswordStorage;
use topicscope::model::config::profile_store::{PROFILES_FILE_NAME, ProfileStore};
use topicscope::model::config::secret::{MemorySecrets, SecretBackend};
use topicscope::mqtt::ConnectionState;
use topicscope::ui::explorer::ExplorerViewState;

const EMAIL: &str = "engineer@newco.example";
const PASSWORD: &str = "platform password";
const PROJECT_ROW: &str = "NewCo — Building 7 (lbg01/mybuilding)";
const DATAPOINTS: usize = 250;

fn datapoint_name(index: usize) -> String {
    format!("bacnet100-{index:04}-Room temperature")
}

/// The hashed topic of datapoint `index` (the project's hash ids are 8 characters).
fn datapoint_topic(index: usize) -> String {
    format!("lbg01/mybuilding/{}", hash_id(&datapoint_name(index), 8))
}

/// The contract server, the broker it configures, the clock they share, the app's keychain and
/// config folder.
struct World {
    clock: Arc<ManualClock>,
    server: ContractServer,
    broker: common::Mosquitto,
    secrets: Arc<MemorySecrets>,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now().trunc_subsecs(6)));
    let server = ContractServer::start(clock.clone());
    server.add_user(EMAIL, PASSWORD);
    server.add_project(ProjectSpec::new(7, "lbg01", "mybuilding"));
    server.grant(EMAIL, 7);
    server.add_datapoints(7, (0..DATAPOINTS).map(datapoint_name));
    let broker = common::Mosquitto::start();
    let (broker_dir, pid) = (broker.dir().to_owned(), broker.pid().expect("running"));
    server.on_accounts_changed(move |accounts| configure_mosquitto(&broker_dir, pid, accounts));
    World {
        clock,
        server,
        broker,
        secrets: Arc::new(MemorySecrets::new()),
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// The whole app, idle, with an account controller on the world's clock and a 6 s validity.
fn harness(world: &World) -> Harness<'static, TopicScopeApp> {
    harness_with_startup(world, Startup::Idle)
}

/// Like [`harness`], starting as `startup` says (a restart: `Startup::Auto`).
fn harness_with_startup(world: &World, startup: Startup) -> Harness<'static, TopicScopeApp> {
    harness_with(world, startup, 6)
}

/// Like [`harness`], starting as `startup` says, asking for accounts valid `validity_secs`.
fn harness_with(
    world: &World,
    startup: Startup,
    validity_secs: u32,
) -> Harness<'static, TopicScopeApp> {
    let ctx = egui::Context::default();
    let options = AppOptions {
        config_dir: world.dir.path().to_owned(),
        profiles: ProfileStore::open(world.dir.path()),
        startup,
        memory_budget_mib: None,
    };
    let mut app = TopicScopeApp::new(
        &ctx,
        options,
        world.secrets.clone(),
        ExplorerViewState::default(),
    );
    let controller = AccountController::new(world.clock.clone(), None)
        .with_secrets(world.secrets.clone())
        .with_keeper_settings(KeeperSettings {
            poll_interval: Duration::from_millis(20),
        })
        .with_validity_secs(validity_secs);
    app.set_account_controller(&ctx, controller);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut TopicScopeApp| {
                app.before_frame(ui.ctx());
                app.frame_ui(ui);
            },
            app,
        );
    harness.run_steps(2);
    harness
}

/// Steps frames until `done` (bounded by the common WAIT).
fn step_until(
    harness: &mut Harness<'static, TopicScopeApp>,
    what: &str,
    done: impl Fn(&Harness<'static, TopicScopeApp>) -> bool,
) {
    let deadline = Instant::now() + common::WAIT;
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; notices: {:?}",
            harness.state().notices()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn type_into(harness: &mut Harness<'static, TopicScopeApp>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.run_steps(1);
    harness.get_by_label(label).type_text(text);
    harness.run_steps(1);
}

fn connected(app: &TopicScopeApp) -> bool {
    app.session()
        .connection()
        .is_some_and(|connection| connection.status().all_granted())
}

/// The time the connection shown has been up since (changes when it reconnects).
fn connected_since(app: &TopicScopeApp) -> Option<i64> {
    match app.session().connection()?.status().state {
        ConnectionState::Connected { since_nanos } => Some(since_nanos),
        _ => None,
    }
}

/// From the top bar's entry to a connected, subscribed window: the three clicks.
fn sign_in_and_connect(harness: &mut Harness<'static, TopicScopeApp>, world: &World) {
    harness.get_by_label("Profile").click();
    harness.run_steps(2);
    harness.get_by_label("Sign in to aedifion…").click();
    harness.run();
    assert!(harness.state().account_window_open());
    harness.get_by_label("Environment").click();
    harness.run();
    harness.get_by_label("Custom").click();
    harness.run();
    type_into(harness, "API URL", &world.server.base_url);
    type_into(harness, "E-mail", EMAIL);
    type_into(harness, "Password", PASSWORD);
    harness.get_by_label("Sign in").click();
    step_until(harness, "the project list", |harness| {
        harness.query_by_label(PROJECT_ROW).is_some()
    });
    harness.get_by_label(PROJECT_ROW).click();
    harness.run_steps(1);
    // The test broker stands in for the platform's: a custom API names its broker.
    type_into(
        harness,
        "Broker (host:port)",
        &format!("127.0.0.1:{}", world.broker.ports.tls_auth),
    );
    type_into(
        harness,
        "Broker CA file (PEM)",
        &world.broker.ca_file().display().to_string(),
    );
    harness
        .get_by_role_and_label(Role::Window, ACCOUNT_WINDOW_TITLE)
        .get_by_role_and_label(Role::Button, "Connect")
        .click();
    step_until(harness, "a subscribed connection", |harness| {
        connected(harness.state())
    });
}

/// Publishes a bare number (no name in the payload) on `topic` every half second until the
/// window's store has it, bounded by WAIT.
fn publish_until_stored(harness: &mut Harness<'static, TopicScopeApp>, world: &World, topic: &str) {
    let deadline = Instant::now() + common::WAIT;
    loop {
        world.broker.publish(topic, b"21.5", false);
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            harness.step();
            if harness.state().store().find_topic(topic).is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            Instant::now() < deadline,
            "no message on {topic} within {:?}; broker log:\n{}",
            common::WAIT,
            world.broker.log()
        );
    }
}

fn label_of(app: &TopicScopeApp, topic: &str) -> Option<String> {
    let tree = app.store().tree();
    tree.label(tree.find(topic)?).map(str::to_owned)
}

fn saved_profiles(dir: &Path) -> ProfileStore {
    ProfileStore::open(dir)
}

#[test]
fn signing_in_from_the_window_connects_names_datapoints_and_shows_the_expiry() {
    let world = world();
    let mut harness = harness(&world);
    sign_in_and_connect(&mut harness, &world);
    assert!(
        !harness.state().account_window_open(),
        "the window closes once connected"
    );

    // The account the platform made, and the profile that remembers it (no password in the
    // file; the MQTT password in the keychain under the profile id).
    let accounts = world.server.mqtt_users();
    assert_eq!(accounts.len(), 1);
    let account = &accounts[0];
    assert_eq!(account.rights, "read");
    let profiles = saved_profiles(world.dir.path());
    assert_eq!(profiles.profiles().len(), 1);
    let profile = &profiles.profiles()[0];
    assert_eq!(profile.name, "aedifion: Building 7");
    assert_eq!(profile.username, account.username);
    assert_eq!(profile.password_storage, PasswordStorage::Keychain);
    assert!(profile.read_only);
    assert_eq!(profile.aedifion_project, "lbg01/mybuilding");
    let remembered = profile.aedifion_account.as_ref().expect("remembered");
    assert_eq!(
        (remembered.project_id, remembered.mqttuser_id),
        (7, account.id)
    );
    assert_eq!(remembered.email, EMAIL);
    let file = std::fs::read_to_string(world.dir.path().join(PROFILES_FILE_NAME)).expect("file");
    assert!(
        !file.contains(&account.password),
        "no MQTT password in the file"
    );
    assert!(!file.contains(PASSWORD), "no platform password in the file");
    assert_eq!(
        world.secrets.get(&profile.id),
        Ok(Some(account.password.clone()))
    );
    assert_eq!(
        harness.state().connected_profile().map(|p| p.id.clone()),
        Some(profile.id.clone())
    );

    // Names from the API: a bare number on a hashed topic is named in the tree.
    let topic = datapoint_topic(3);
    publish_until_stored(&mut harness, &world, &topic);
    step_until(&mut harness, "the name from the API", |harness| {
        label_of(harness.state(), &topic).as_deref() == Some(datapoint_name(3).as_str())
    });
    harness.get_by_label("Expand all").click();
    harness.run_steps(2);
    harness.get_by_label_contains(&format!(
        "{}  {}",
        hash_id(&datapoint_name(3), 8),
        datapoint_name(3)
    ));

    // The status bar: the expiry in local time, once the names are read.
    let expected = format!(
        "credentials valid until {}",
        account.valid_until.with_timezone(&Local).format("%H:%M")
    );
    step_until(&mut harness, "the expiry in the status bar", |harness| {
        harness.query_by_label(&expected).is_some()
    });

    // The stale view lists the datapoints the API names that never sent anything as silent.
    harness.get_by_label("Stale only").click();
    harness.run_steps(2);
    harness.get_by_label(&format!(
        "Silent: {} datapoints never sent a message",
        DATAPOINTS - 1
    ));
    harness.get_by_label(&datapoint_name(0));
    assert!(
        harness.query_by_label(&datapoint_name(3)).is_none(),
        "the datapoint that sent is not silent"
    );
    assert!(harness.query_all_by_label("silent").count() >= 1);
}

#[test]
fn renewal_and_recreation_keep_the_window_connection_and_its_tree() {
    let world = world();
    let mut harness = harness(&world);
    sign_in_and_connect(&mut harness, &world);
    let first_topic = datapoint_topic(1);
    publish_until_stored(&mut harness, &world, &first_topic);
    let first_count = |app: &TopicScopeApp| {
        app.store()
            .find_topic(&first_topic)
            .map_or(0, |(_, state)| state.message_count)
    };
    let count_before = first_count(harness.state());
    let since = connected_since(harness.state()).expect("connected");
    let profile_id = harness
        .state()
        .connected_profile()
        .expect("profile")
        .id
        .clone();
    let remembered = |app: &TopicScopeApp| {
        app.profiles()
            .get(&profile_id)
            .and_then(|profile| profile.aedifion_account.clone())
            .expect("remembered account")
    };
    let created = remembered(harness.state());

    // At 75 % of the 6 s the account is renewed: same account, the connection untouched, the
    // profile remembers the new expiry.
    world.clock.advance(TimeDelta::milliseconds(4600));
    step_until(&mut harness, "the renewal remembered", |harness| {
        remembered(harness.state()).valid_until != created.valid_until
    });
    assert_eq!(remembered(harness.state()).mqttuser_id, created.mqttuser_id);
    assert_eq!(connected_since(harness.state()), Some(since));
    let renewed = world.server.mqtt_users();
    let expected = format!(
        "credentials valid until {}",
        renewed[0].valid_until.with_timezone(&Local).format("%H:%M")
    );
    step_until(
        &mut harness,
        "the new expiry in the status bar",
        |harness| harness.query_by_label(&expected).is_some(),
    );

    // The platform deletes the account (Mosquitto drops the connection); at the next renewal
    // the keeper is refused, creates the account again, and the window reconnects the same
    // profile: the tree and its counts stay.
    world.server.delete_mqtt_user(created.mqttuser_id);
    world.clock.advance(TimeDelta::milliseconds(4600));
    step_until(&mut harness, "a new account remembered", |harness| {
        remembered(harness.state()).mqttuser_id != created.mqttuser_id
    });
    step_until(&mut harness, "the reconnect", |harness| {
        connected(harness.state()) && connected_since(harness.state()) != Some(since)
    });
    assert_eq!(
        harness.state().connected_profile().map(|p| p.id.clone()),
        Some(profile_id.clone()),
        "the same profile"
    );
    assert!(
        first_count(harness.state()) >= count_before,
        "the tree kept what it had"
    );
    assert_eq!(
        label_of(harness.state(), &first_topic).as_deref(),
        Some(datapoint_name(1).as_str()),
        "and its names"
    );
    let second_topic = datapoint_topic(2);
    publish_until_stored(&mut harness, &world, &second_topic);
    let requests: Vec<(String, u16)> = world
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path.contains("/mqttuser"))
        .map(|request| (request.method, request.status))
        .collect();
    assert_eq!(
        requests,
        [
            ("POST".into(), 201),
            ("PUT".into(), 200),
            ("PUT".into(), 404),
            ("POST".into(), 201),
        ]
    );
}

/// A renewal the platform fails (502) is shown in the status bar and retried; the retry's
/// success clears it. (A 60 s validity: the first retry, 2 s later, comes before the expiry.)
#[test]
fn a_failed_renewal_is_shown_in_the_status_bar_and_retried() {
    let world = world();
    let mut harness = harness_with(&world, Startup::Idle, 60);
    sign_in_and_connect(&mut harness, &world);
    world.server.fail_next("PUT", 502, "Bad gateway");
    world.clock.advance(TimeDelta::milliseconds(45_100));
    step_until(&mut harness, "the failure in the status bar", |harness| {
        harness
            .query_by_label_contains("renewal failed, retrying at")
            .is_some()
    });
    harness.get_by_label_contains("Bad gateway");
    // The first retry comes 2 s later.
    world.clock.advance(TimeDelta::milliseconds(2100));
    step_until(&mut harness, "the retry's success", |harness| {
        harness.query_by_label_contains("renewal failed").is_none()
            && harness
                .query_by_label_contains("credentials valid until")
                .is_some()
    });
    let puts: Vec<u16> = world
        .server
        .requests()
        .into_iter()
        .filter(|request| request.method == "PUT")
        .map(|request| request.status)
        .collect();
    assert_eq!(puts, [502, 200]);
    assert!(connected(harness.state()), "the connection stayed");
}

/// After a restart the saved profile connects again without typing anything: the platform
/// password from the keychain signs in, the MQTT password from the keychain connects at once,
/// and the same MQTT account is renewed (no new one created).
#[test]
fn a_saved_account_profile_connects_after_a_restart_and_renews_the_same_account() {
    let world = world();
    let mut harness = harness(&world);
    sign_in_and_connect(&mut harness, &world);
    let first = world.server.mqtt_users();
    drop(harness);

    let mut harness = harness_with_startup(&world, Startup::Auto);
    harness
        .get_by_role_and_label(Role::Button, "Connect")
        .click();
    step_until(&mut harness, "the saved profile connected", |harness| {
        connected(harness.state())
    });
    let profile = harness
        .state()
        .connected_profile()
        .expect("profile")
        .clone();
    assert_eq!(profile.username, first[0].username);
    step_until(&mut harness, "the expiry in the status bar", |harness| {
        harness
            .query_by_label_contains("credentials valid until")
            .is_some()
    });
    world.clock.advance(TimeDelta::milliseconds(4600));
    step_until(&mut harness, "the renewal of the same account", |harness| {
        harness
            .state()
            .profiles()
            .get(&profile.id)
            .and_then(|profile| profile.aedifion_account.as_ref())
            .is_some_and(|account| {
                account.mqttuser_id == first[0].id
                    && account.valid_until
                        != profile
                            .aedifion_account
                            .as_ref()
                            .map(|a| a.valid_until.clone())
                            .unwrap_or_default()
            })
    });
    let requests: Vec<(String, u16)> = world
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path.contains("/mqttuser"))
        .map(|request| (request.method, request.status))
        .collect();
    assert_eq!(requests, [("POST".into(), 201), ("PUT".into(), 200)]);
}

/// Without a saved platform password the restarted app cannot sign in by itself: it says so
/// in the status bar and opens the account window with the login filled in; typing the
/// password there resumes the profile's account.
#[test]
fn without_a_saved_platform_password_the_window_asks_and_then_resumes() {
    let world = world();
    let mut harness = harness(&world);
    sign_in_and_connect(&mut harness, &world);
    drop(harness);
    let key = topicscope::account::secrets::platform_password_key(&world.server.base_url, EMAIL);
    world
        .secrets
        .delete(&key)
        .expect("forget the platform password");

    let mut harness = harness_with_startup(&world, Startup::Auto);
    harness
        .get_by_role_and_label(Role::Button, "Connect")
        .click();
    step_until(&mut harness, "the window asking", |harness| {
        harness.state().account_window_open()
            && harness
                .query_by_label_contains("aedifion sign-in failed")
                .is_some()
    });
    harness.run();
    harness.get_by_label(&format!(
        "No password is saved for {EMAIL}: type your password."
    ));
    type_into(&mut harness, "Password", PASSWORD);
    harness.get_by_label("Sign in").click();
    step_until(&mut harness, "credentials again", |harness| {
        // In the status bar and in the window, which stays open.
        harness
            .query_all_by_label_contains("credentials valid until")
            .count()
            >= 1
            && connected(harness.state())
    });
    assert_eq!(world.server.mqtt_users().len(), 1, "the same account");
}

/// Disconnect stops the credentials; Connect on the same profile resumes the same account with
/// the sign-in still held (no new sign-in, no new account).
#[test]
fn disconnect_and_connect_again_resume_the_same_account() {
    let world = world();
    let mut harness = harness(&world);
    sign_in_and_connect(&mut harness, &world);
    harness
        .get_by_role_and_label(Role::Button, "Disconnect")
        .click();
    step_until(&mut harness, "the disconnect", |harness| {
        !harness
            .state()
            .session()
            .connection()
            .is_some_and(|connection| connection.active())
    });
    assert!(
        harness
            .state()
            .account_controller()
            .keeper_status()
            .is_none(),
        "the credentials are no longer kept"
    );
    harness
        .get_by_role_and_label(Role::Button, "Connect")
        .click();
    step_until(&mut harness, "connected again", |harness| {
        connected(harness.state())
            && harness
                .query_by_label_contains("credentials valid until")
                .is_some()
    });
    let count = |method: &str, path: &str| {
        world
            .server
            .requests()
            .iter()
            .filter(|request| request.method == method && request.path.contains(path))
            .count()
    };
    assert_eq!(count("GET", "/v2/user/projects"), 1, "signed in once");
    assert_eq!(count("POST", "/mqttuser"), 1, "the same account");
}
