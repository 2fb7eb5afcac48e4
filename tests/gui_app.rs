//! Headless GUI tests of the whole app (top bar, windows, connection wiring) with egui_kittest.
//! Each test uses its own temporary config folder and an in-memory password store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use topicscope::app::{AppOptions, Startup, TopicScopeApp};
use topicscope::model::config::presets::Preset;
use topicscope::model::config::profile::{PasswordStorage, Profile, Transport};
use topicscope::model::config::profile_store::ProfileStore;
use topicscope::model::config::secret::MemorySecrets;
use topicscope::model::config::settings::{Settings, Theme};
use topicscope::ui::explorer::ExplorerViewState;

mod common;

fn app(config_dir: &std::path::Path, startup: Startup) -> TopicScopeApp {
    let options = AppOptions {
        config_dir: config_dir.to_owned(),
        profiles: ProfileStore::open(config_dir),
        startup,
        memory_budget_mib: None,
    };
    TopicScopeApp::new(
        &egui::Context::default(),
        options,
        Arc::new(MemorySecrets::new()),
        ExplorerViewState::default(),
    )
}

fn harness(app: TopicScopeApp) -> Harness<'static, TopicScopeApp> {
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

/// Steps frames (with real time passing) until `done` or the timeout; returns whether it got there.
fn step_until(
    harness: &mut Harness<'_, TopicScopeApp>,
    timeout: Duration,
    done: impl Fn(&TopicScopeApp) -> bool,
) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        harness.step();
        if done(harness.state()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn an_idle_start_shows_not_connected_and_an_empty_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(app(dir.path(), Startup::Idle));
    harness.run();
    assert!(harness.state().connected_profile().is_none());
    assert!(harness.query_all_by_label("Not connected").count() >= 1);
    harness.get_by_label("No topics yet. Messages appear here as they arrive.");
}

#[test]
fn saving_the_settings_window_applies_and_persists_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(app(dir.path(), Startup::Idle));
    harness.run();

    harness.get_by_label("Settings…").click();
    harness.run();
    harness.get_by_label("Light").click();
    harness.run();
    harness.get_by_label("Save").click();
    harness.run();

    assert_eq!(harness.state().settings().theme, Theme::Light);
    assert_eq!(Settings::load(dir.path()).settings.theme, Theme::Light);
    assert!(
        harness.query_by_label("Save").is_none(),
        "the window closed"
    );
}

#[test]
fn connecting_a_profile_that_asks_for_its_password_shows_a_prompt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    let mut profile = Preset::LocalMosquitto.profile();
    profile.name = "Ask me".to_owned();
    profile.username = "alice".to_owned();
    profile.password_storage = PasswordStorage::Ask;
    store.create(profile).expect("profile saved");

    let mut harness = harness(app(dir.path(), Startup::Idle));
    harness.run();
    harness.get_by_label("Profile").click();
    harness.run();
    harness.get_by_label("Ask me").click();
    harness.run();
    harness.get_by_label("Connect").click();
    harness.run();

    harness.get_by_label("Connect to Ask me");
    assert!(
        harness.state().connected_profile().is_none(),
        "nothing connects before the password is given"
    );
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(harness.query_by_label("Connect to Ask me").is_none());
    assert!(harness.state().connected_profile().is_none());
}

#[test]
fn a_first_start_runs_the_demo_and_fills_the_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(app(dir.path(), Startup::Auto));
    assert!(
        harness.state().demo_port().is_some(),
        "no saved profile: the demo starts"
    );

    let filled = step_until(&mut harness, Duration::from_secs(30), |app| {
        let store = app.store();
        store.stats().topics >= 20 && store.tree().find("lbg01/demo_building").is_some()
    });
    assert!(
        filled,
        "the demo building did not fill the tree within 30 s"
    );
    assert!(
        harness
            .query_by_label_contains("Connected to 127.0.0.1:")
            .is_some()
    );
    // The rows of topics that arrived in the last step are laid out in the next one.
    harness.run_steps(2);
    // The first two levels start expanded: the project's datapoints are visible at once.
    // (`lbg01` shows twice: under the root and under `META`.)
    assert!(harness.get_all_by_label("lbg01").count() >= 1);
    assert!(harness.get_all_by_label("demo_building").count() >= 1);
}

#[test]
fn the_profiles_button_opens_the_profile_editor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(app(dir.path(), Startup::Idle));
    harness.run();
    assert!(harness.query_by_label("New profile").is_none());
    harness.get_by_label("Profiles…").click();
    harness.run();
    harness.get_by_label("New profile");
}

#[test]
fn disconnect_stops_the_connection_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(app(dir.path(), Startup::Auto));
    let connected = step_until(&mut harness, Duration::from_secs(30), |app| {
        app.explorer().status().connection.starts_with("Connected")
    });
    assert!(connected, "the demo connection did not come up within 30 s");

    harness.get_by_label("Disconnect").click();
    let disconnected = step_until(&mut harness, Duration::from_secs(30), |app| {
        app.explorer()
            .status()
            .connection
            .starts_with("Disconnected")
    });
    assert!(
        disconnected,
        "status: {}",
        harness.state().explorer().status().connection
    );
    harness.run_steps(1);
    assert!(
        harness.query_by_label("Disconnect").is_none(),
        "nothing left to disconnect"
    );
}

#[test]
fn connect_in_the_profile_editor_asks_in_the_password_prompt_and_the_typed_password_logs_in() {
    let broker = common::Mosquitto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    store
        .create(Profile {
            name: "Guarded".into(),
            username: common::USER.into(),
            password_storage: PasswordStorage::Ask,
            ..common::profile(broker.ports.auth, Transport::Tcp, &["allowed/#"])
        })
        .expect("profile saved");
    let mut harness = harness(app(dir.path(), Startup::Idle));
    harness.run();
    harness.get_by_label("Profiles…").click();
    harness.run();
    let editor_connect = |harness: &mut Harness<'_, TopicScopeApp>| {
        harness
            .get_by_role_and_label(Role::Window, "Connection profiles")
            .get_by_role_and_label(Role::Button, "Connect")
            .click();
        harness.run();
    };

    // Cancel: nothing connects and the editor stays open.
    editor_connect(&mut harness);
    harness
        .get_by_role(Role::Dialog)
        .get_by_label("Connect to Guarded");
    harness
        .get_by_role(Role::Dialog)
        .get_by_role_and_label(Role::Button, "Cancel")
        .click();
    harness.run();
    assert!(
        harness.query_by_role(Role::Dialog).is_none(),
        "prompt closed"
    );
    assert!(harness.state().connected_profile().is_none());
    harness.get_by_label("New profile");

    // Connect: the typed password logs in and the editor closes.
    editor_connect(&mut harness);
    let field = harness
        .get_by_role(Role::Dialog)
        .get_by_role_and_label(Role::PasswordInput, "Password");
    field.focus();
    field.type_text(common::PASSWORD);
    harness.run();
    harness
        .get_by_role(Role::Dialog)
        .get_by_role_and_label(Role::Button, "Connect")
        .click();
    harness.run();
    assert!(
        harness.query_by_role(Role::Dialog).is_none(),
        "prompt closed"
    );
    assert!(
        harness.query_by_label("New profile").is_none(),
        "the editor closed on connect"
    );
    let connected = step_until(&mut harness, Duration::from_secs(30), |app| {
        app.explorer().status().connection.starts_with("Connected")
    });
    assert!(
        connected,
        "status: {}",
        harness.state().explorer().status().connection
    );
    assert_eq!(
        harness.state().connected_profile().map(|p| p.name.as_str()),
        Some("Guarded")
    );
}
