//! The foundation's "done" scenario, end to end through the whole app: a saved profile for a
//! local Mosquitto configured like an aedifion broker (TLS with a test CA, user name and password,
//! an ACL) connects with the password from the keychain, shows retained and live topics,
//! survives a broker restart with its subscription restored, and is still there after the app
//! restarts.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use common::{ALLOWED_PREFIX, Mosquitto, PASSWORD, USER};
use topicscope::app::{AppOptions, Startup, TopicScopeApp};
use topicscope::model::config::profile::{PasswordStorage, Profile, Subscription, Transport};
use topicscope::model::config::profile_store::ProfileStore;
use topicscope::model::config::secret::{MemorySecrets, SecretBackend};
use topicscope::model::topic::qos::Qos;
use topicscope::ui::explorer::ExplorerViewState;
use topicscope::ui::status_bar::Health;

const PROFILE_NAME: &str = "Local TLS broker";

fn app(config_dir: &Path, startup: Startup, secrets: Arc<MemorySecrets>) -> TopicScopeApp {
    let options = AppOptions {
        config_dir: config_dir.to_owned(),
        profiles: ProfileStore::open(config_dir),
        startup,
        memory_budget_mib: None,
    };
    TopicScopeApp::new(
        &egui::Context::default(),
        options,
        secrets,
        ExplorerViewState::default(),
    )
}

fn harness_for(app: TopicScopeApp) -> Harness<'static, TopicScopeApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut TopicScopeApp| {
                app.before_frame(ui.ctx());
                app.frame_ui(ui);
            },
            app,
        )
}

/// Steps frames until `done` holds; `between` runs every ~second (e.g. to publish again).
fn step_until(
    harness: &mut Harness<'_, TopicScopeApp>,
    timeout: Duration,
    mut between: impl FnMut(),
    done: impl Fn(&TopicScopeApp) -> bool,
) -> bool {
    let started = Instant::now();
    let mut last_between = started;
    between();
    while started.elapsed() < timeout {
        harness.step();
        if done(harness.state()) {
            return true;
        }
        if last_between.elapsed() >= Duration::from_secs(1) {
            between();
            last_between = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn has_topic(app: &TopicScopeApp, topic: &str) -> bool {
    app.store().find_topic(topic).is_some()
}

fn saved_tls_profile(config_dir: &Path, broker: &Mosquitto) -> Profile {
    let mut store = ProfileStore::open(config_dir);
    let profile = Profile {
        name: PROFILE_NAME.into(),
        host: "localhost".into(),
        port: broker.ports.tls_auth,
        transport: Transport::Tls,
        client_id: format!("TopicScopeE2e{}", rand::random::<u16>()),
        username: USER.into(),
        password_storage: PasswordStorage::Keychain,
        subscriptions: vec![Subscription {
            filter: format!("{ALLOWED_PREFIX}/#"),
            qos: Qos::AtLeastOnce,
        }],
        ..Profile::default()
    };
    let mut profile = profile;
    profile.tls.ca_file = Some(broker.ca_file());
    let id = store.create(profile).expect("profile saved");
    store.get(&id).expect("saved profile").clone()
}

#[test]
fn a_tls_password_profile_connects_survives_a_broker_restart_and_an_app_restart() {
    let mut broker = Mosquitto::start();
    let retained_topic = format!("{ALLOWED_PREFIX}/site/ahu1/supply_temp");
    broker.publish(&retained_topic, b"21.5", true);

    let config = tempfile::tempdir().expect("temp dir");
    let profile = saved_tls_profile(config.path(), &broker);
    let file_text =
        std::fs::read_to_string(config.path().join("profiles.toml")).expect("profiles file");
    assert!(!file_text.contains(PASSWORD), "password written to disk");
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set(&profile.id, PASSWORD).expect("keychain set");

    let startup = Startup::Connect {
        profile: Box::new(profile.clone()),
        password: None,
    };
    let mut harness = harness_for(app(config.path(), startup, secrets.clone()));

    let retained_shown = step_until(
        &mut harness,
        Duration::from_secs(20),
        || {},
        |app| {
            let store = app.store();
            store
                .find_topic(&retained_topic)
                .is_some_and(|(_, topic)| topic.latest_retained())
        },
    );
    assert!(
        retained_shown,
        "the retained topic did not arrive over TLS + password; status: {:?}\n{}",
        harness.state().explorer().status().connection,
        broker.log()
    );
    assert_eq!(harness.state().explorer().status().health, Health::Ok);

    let live_topic = format!("{ALLOWED_PREFIX}/site/ahu1/fan");
    let live_shown = step_until(
        &mut harness,
        Duration::from_secs(20),
        || broker.publish(&live_topic, b"1", false),
        |app| has_topic(app, &live_topic),
    );
    assert!(live_shown, "a live message did not arrive");
    let denied_topic = "secret/plans";
    broker.publish(denied_topic, b"x", false);

    broker.restart();
    let after_restart = format!("{ALLOWED_PREFIX}/site/after_restart");
    let resubscribed = step_until(
        &mut harness,
        Duration::from_secs(40),
        || broker.publish(&after_restart, b"2", false),
        |app| has_topic(app, &after_restart),
    );
    assert!(
        resubscribed,
        "no message after the broker restart (subscription not restored?); status: {:?}",
        harness.state().explorer().status().connection
    );
    assert!(
        !has_topic(harness.state(), denied_topic),
        "the ACL let a denied topic through"
    );
    drop(harness);

    // The app restarts as a user starts it (no arguments): a saved profile exists, so no demo;
    // the last used profile is chosen in the picker.
    let mut harness = harness_for(app(config.path(), Startup::Auto, secrets));
    harness.run();
    let reloaded = harness
        .state()
        .profiles()
        .find(PROFILE_NAME)
        .expect("profile kept after restart")
        .clone();
    assert_eq!(reloaded.port, broker.ports.tls_auth);
    assert_eq!(reloaded.tls.ca_file, Some(broker.ca_file()));
    assert_eq!(reloaded.username, USER);
    assert!(
        harness.state().demo_port().is_none(),
        "a saved profile exists: no demo"
    );
    assert_eq!(
        harness.state().settings().last_profile_id.as_deref(),
        Some(reloaded.id.as_str()),
        "the last used profile is remembered"
    );
    // One click connects again: the picker has it chosen. (The restarted broker keeps no
    // retained messages — no persistence — so a live one proves the connection.)
    harness.get_by_label("Connect").click();
    let reconnected = step_until(
        &mut harness,
        Duration::from_secs(20),
        || broker.publish(&live_topic, b"3", false),
        |app| has_topic(app, &live_topic),
    );
    assert!(
        reconnected,
        "Connect after the app restart did not connect with the saved profile"
    );
}
