//! Headless GUI tests of the profile editor with egui_kittest: create from a preset, type into
//! fields, save, reload in a new panel; inline validation; keychain and no-keychain password
//! paths (the latter through the app's one password prompt, driven in the same harness); delete
//! with confirmation; duplicate; the load warning with the backup path.

use std::path::Path;
use std::sync::Arc;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use topicscope::model::config::presets::Preset;
use topicscope::model::config::profile::{PasswordStorage, Profile, Transport};
use topicscope::model::config::profile_store::{PROFILES_FILE_NAME, ProfileStore};
use topicscope::model::config::secret::{MemorySecrets, NoSecrets, SecretBackend};
use topicscope::ui::password_prompt::{PasswordPrompt, PromptOutcome};
use topicscope::ui::profiles::{ProfileAction, ProfilesPanel};

/// The panel plus every action it returned, and the password prompt opened (as the app does)
/// for an [`ProfileAction::AskPassword`] with what the user decided in it.
struct State {
    panel: ProfilesPanel,
    actions: Vec<ProfileAction>,
    prompt: Option<PasswordPrompt>,
    outcomes: Vec<PromptOutcome>,
}

/// A keychain the test can still look into after handing it over.
type SharedSecrets = Arc<MemorySecrets>;

fn harness(dir: &Path, secrets: Box<dyn SecretBackend>) -> Harness<'static, State> {
    let state = State {
        panel: ProfilesPanel::open(dir, secrets),
        actions: Vec::new(),
        prompt: None,
        outcomes: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 1400.0))
        .build_ui_state(
            |ui, state: &mut State| {
                if let Some(action) = state.panel.ui(ui) {
                    if let ProfileAction::AskPassword { profile, reason } = &action {
                        state.prompt = Some(PasswordPrompt::new(profile.clone(), reason.clone()));
                    }
                    state.actions.push(action);
                }
                if let Some(prompt) = &mut state.prompt
                    && let Some(outcome) = prompt.show(ui.ctx())
                {
                    state.prompt = None;
                    state.outcomes.push(outcome);
                }
            },
            state,
        );
    harness.run();
    harness
}

/// Clicks the widget labelled `label` and lets the UI settle.
fn click(harness: &mut Harness<'_, State>, label: &str) {
    harness.get_by_label(label).click();
    harness.run();
}

/// Replaces the text of the field labelled `label` the way a user does: focus, select all, type.
fn type_into(harness: &mut Harness<'_, State>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

/// Opens the combo box labelled `combo` and picks `item`.
fn choose(harness: &mut Harness<'_, State>, combo: &str, item: &str) {
    click(harness, combo);
    click(harness, item);
}

fn saved_profiles(dir: &Path) -> Vec<Profile> {
    ProfileStore::open(dir).profiles().to_vec()
}

#[test]
fn a_created_profile_is_saved_and_shown_by_a_new_panel_after_reload() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));
    harness.get_by_label_contains("No saved profiles");

    click(&mut harness, "New profile");
    type_into(&mut harness, "Name", "Building A broker");
    type_into(&mut harness, "Host", "broker.building-a.local");
    harness.get_by_label("Port").set_value_accesskit(1884.0);
    harness.run();
    click(&mut harness, "Save");

    harness.get_by_label_contains("Saved \"Building A broker\"");
    let saved = saved_profiles(dir.path());
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].name, "Building A broker");
    assert_eq!(saved[0].host, "broker.building-a.local");
    assert_eq!(saved[0].port, 1884);
    assert_eq!(
        harness.state().panel.selected_profile_id(),
        Some(saved[0].id.as_str())
    );

    let reloaded = self::harness(dir.path(), Box::new(MemorySecrets::new()));
    reloaded.get_by_label("Building A broker");
    assert_eq!(
        reloaded.get_by_label("Host").value().as_deref(),
        Some("broker.building-a.local")
    );
    assert_eq!(reloaded.state().panel.store().profiles(), saved.as_slice());
}

#[test]
fn an_invalid_client_id_shows_the_rule_next_to_the_field_and_is_not_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));
    click(&mut harness, "New profile");
    harness.get_by_label_contains("1–23 letters and digits");

    type_into(&mut harness, "Client id", "my/client");
    harness.get_by_label_contains("Client id must not contain '/'");
    click(&mut harness, "Save");
    assert!(saved_profiles(dir.path()).is_empty());
    harness.get_by_label_contains("The profile was not saved");

    click(&mut harness, "Generate");
    assert!(
        harness
            .query_by_label_contains("Client id must not contain")
            .is_none()
    );
    click(&mut harness, "Save");
    assert_eq!(saved_profiles(dir.path()).len(), 1);
}

#[test]
fn accepting_invalid_certificates_shows_a_warning_that_stays() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));
    click(&mut harness, "New profile");
    choose(&mut harness, "Transport", "TLS");
    assert_eq!(
        harness.get_by_label("Port").value().as_deref(),
        Some("8883")
    );
    assert!(
        harness
            .query_by_label_contains("Certificate checks are OFF")
            .is_none()
    );

    click(&mut harness, "Accept invalid certificates (insecure)");
    harness.get_by_label_contains("Certificate checks are OFF");
    click(&mut harness, "Save");

    let saved = saved_profiles(dir.path());
    assert_eq!(saved[0].transport, Transport::Tls);
    assert!(saved[0].tls.accept_invalid_certs);
    let reloaded = self::harness(dir.path(), Box::new(MemorySecrets::new()));
    reloaded.get_by_label_contains("Certificate checks are OFF");
}

#[test]
fn a_typed_password_goes_to_the_keychain_and_never_to_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = SharedSecrets::default();
    let mut harness = harness(dir.path(), Box::new(secrets.clone()));
    click(&mut harness, "New profile");
    type_into(&mut harness, "Username", "alice");
    choose(&mut harness, "Password storage", "OS keychain");
    type_into(&mut harness, "Password", "hunter2-secret");
    click(&mut harness, "Save");
    harness.get_by_label_contains("Password stored in the OS keychain");

    let saved = saved_profiles(dir.path());
    assert_eq!(saved[0].password_storage, PasswordStorage::Keychain);
    assert_eq!(secrets.get(&saved[0].id), Ok(Some("hunter2-secret".into())));
    let file_text = std::fs::read_to_string(dir.path().join(PROFILES_FILE_NAME)).expect("read");
    assert!(!file_text.contains("hunter2"), "{file_text}");

    click(&mut harness, "Connect");
    let actions = &harness.state().actions;
    assert_eq!(
        actions.as_slice(),
        [ProfileAction::Connect {
            profile: saved[0].clone(),
            password: Some("hunter2-secret".into())
        }]
    );
}

#[test]
fn without_a_keychain_the_editor_says_so_and_connect_asks_for_the_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(dir.path(), Box::new(NoSecrets::new("no session bus")));
    click(&mut harness, "New profile");
    type_into(&mut harness, "Username", "bob");
    choose(&mut harness, "Password storage", "OS keychain");
    harness.get_by_label_contains("No OS keychain available: you will be asked at connect time");
    assert!(
        harness
            .query_by_role_and_label(Role::PasswordInput, "Password")
            .is_none()
            && harness
                .query_by_role_and_label(Role::TextInput, "Password")
                .is_none(),
        "nothing to type a password into"
    );
    click(&mut harness, "Save");

    let saved = saved_profiles(dir.path());
    let [profile] = saved.as_slice() else {
        panic!("expected one saved profile, got {saved:?}");
    };

    click(&mut harness, "Connect");
    let [
        ProfileAction::AskPassword {
            profile: asked,
            reason,
        },
    ] = harness.state().actions.as_slice()
    else {
        panic!(
            "expected one password request, got {:?}",
            harness.state().actions
        );
    };
    assert_eq!(asked, profile);
    assert!(
        reason
            .as_deref()
            .unwrap_or_default()
            .contains("no session bus"),
        "{reason:?}"
    );

    // The app's modal prompt: it names the profile and the account, and says why it asks.
    let dialog = harness.get_by_role(Role::Dialog);
    dialog.get_by_label(&format!("Connect to {}", profile.name));
    dialog.get_by_label("bob@localhost:1883");
    dialog.get_by_label_contains("no session bus");
    let field = dialog.get_by_role_and_label(Role::PasswordInput, "Password");
    field.focus();
    field.type_text("typed-at-connect");
    harness.run();
    harness
        .get_by_role(Role::Dialog)
        .get_by_role_and_label(Role::Button, "Connect")
        .click();
    harness.run();

    let state = harness.state();
    assert_eq!(
        state.outcomes.as_slice(),
        [PromptOutcome::Connect {
            profile: Box::new(profile.clone()),
            password: "typed-at-connect".into(),
        }]
    );
    assert!(state.prompt.is_none(), "prompt closed");
    assert!(harness.query_by_role(Role::Dialog).is_none(), "prompt gone");
    let file_text = std::fs::read_to_string(dir.path().join(PROFILES_FILE_NAME)).expect("read");
    assert!(!file_text.contains("typed-at-connect"), "{file_text}");
    assert_eq!(
        saved_profiles(dir.path()).as_slice(),
        saved.as_slice(),
        "connecting changed nothing in the file"
    );
}

#[test]
fn delete_asks_first_and_then_removes_the_profile_from_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    store
        .create(Profile {
            name: "Doomed".into(),
            ..Preset::LocalMosquitto.profile()
        })
        .expect("create");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));
    harness.get_by_label("Doomed");

    click(&mut harness, "Delete");
    harness.get_by_label_contains("Delete profile \"Doomed\"?");
    click(&mut harness, "Cancel");
    assert_eq!(saved_profiles(dir.path()).len(), 1);

    click(&mut harness, "Delete");
    click(&mut harness, "Yes, delete");
    assert!(saved_profiles(dir.path()).is_empty());
    assert!(harness.query_by_label("Doomed").is_none());
}

#[test]
fn duplicate_adds_a_copy_with_a_new_client_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    let original = Profile {
        name: "Plant".into(),
        ..Preset::LocalMosquitto.profile()
    };
    store.create(original.clone()).expect("create");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));

    click(&mut harness, "Duplicate");
    harness.get_by_label("Copy of Plant");
    let saved = saved_profiles(dir.path());
    assert_eq!(saved.len(), 2);
    assert_ne!(saved[1].id, original.id);
    assert_ne!(saved[1].client_id, original.client_id);
    assert_eq!(
        harness.state().panel.selected_profile_id(),
        Some(saved[1].id.as_str())
    );
}

#[test]
fn an_aedifion_preset_derives_its_subscriptions_from_the_project() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));
    choose(&mut harness, "Preset", "aedifion.io production");
    click(&mut harness, "New profile");
    harness.get_by_label_contains("require a user name");

    type_into(&mut harness, "Username", "me@example.com");
    type_into(&mut harness, "aedifion project", "lbg01/mybuilding");
    assert_eq!(
        harness.get_by_label("Filter 1").value().as_deref(),
        Some("lbg01/mybuilding/#")
    );
    click(&mut harness, "Add META and CONTROLS");
    assert_eq!(
        harness.get_by_label("Filter 3").value().as_deref(),
        Some("CONTROLS/lbg01/mybuilding/#")
    );
    click(&mut harness, "Save");

    let saved = saved_profiles(dir.path());
    assert_eq!(saved[0].host, "mqtt2.aedifion.io");
    assert_eq!(saved[0].subscriptions.len(), 3);
}

#[test]
fn a_corrupt_profile_file_is_reported_with_its_backup_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(PROFILES_FILE_NAME), "this is [not toml").expect("write");
    let mut harness = harness(dir.path(), Box::new(MemorySecrets::new()));
    let backup = harness
        .state()
        .panel
        .store()
        .load_warning()
        .and_then(|w| w.backup_path.clone());
    let backup = backup.expect("a backup was made");
    harness.get_by_label_contains(&backup.display().to_string());
    click(&mut harness, "Dismiss");
    assert!(
        harness
            .query_by_label_contains("could not be read")
            .is_none()
    );
}
