//! The profile editor: list, create from a preset, edit, duplicate, delete, save, connect.
//!
//! The panel edits a draft copy of one profile and leaves every change on disk to the
//! [`ProfileLibrary`] (the profile file and the keychain): Save hands it the draft and the typed
//! password, and the panel shows what came back. Connect returns a [`ProfileAction::Connect`]
//! when the password is known, else a [`ProfileAction::AskPassword`] for the app's one password
//! prompt (`ui::password_prompt`).

use std::path::{Path, PathBuf};

use egui::{Button, ComboBox, DragValue, Grid, RichText, TextEdit};

use crate::model::config::presets::Preset;
use crate::model::config::profile::{
    CLIENT_ID_MAX_CHARS, PasswordStorage, Profile, ProfileError, ProfileField, Subscription,
    Transport, generate_client_id,
};
use crate::model::config::profile_library::{KeychainError, KeychainOutcome, ProfileLibrary};
use crate::model::config::profile_store::{ProfileStore, StoreError};
use crate::model::config::secret::{Password, PasswordNeed, SecretBackend};
use crate::model::topic::qos::Qos;
use crate::ui::theme::Palette;

const LIST_WIDTH: f32 = 230.0;
const FIELD_WIDTH: f32 = 280.0;
const CLIENT_ID_RULES: &str =
    "1–23 letters and digits; no / + # or spaces. Each connection needs its own id.";
const NO_KEYCHAIN_NOTE: &str = "No OS keychain available: you will be asked at connect time.";
const INSECURE_WARNING: &str = "Certificate checks are OFF for this profile: anyone between you \
and the broker can read and change the traffic, including your password. Turn off \"Accept \
invalid certificates\" as soon as the broker's CA is set.";

/// What the panel asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileAction {
    /// Connect with this profile. `password` is `None` when the profile needs none.
    Connect {
        /// The profile as edited (possibly with unsaved changes).
        profile: Profile,
        /// The password to send, if the profile uses one.
        password: Option<Password>,
    },
    /// Connect with this profile once the user has typed its password (none is known).
    AskPassword {
        /// The profile as edited (possibly with unsaved changes).
        profile: Profile,
        /// Why it is not known (e.g. no keychain), if there is more to say than "none stored".
        reason: Option<String>,
    },
    /// Open the aedifion account window; its Connect updates the saved profile `profile_id`
    /// (`None`: creates a new profile).
    SignInToAedifion {
        /// The saved profile shown in the editor, if any.
        profile_id: Option<String>,
    },
}

/// A one-line message above the panel (result of the last action).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Notice {
    Info(String),
    Error(String),
}

/// The profile being edited.
#[derive(Debug, Clone)]
struct Editor {
    draft: Profile,
    /// The stored version; `None` while a new profile is not saved yet.
    saved: Option<Profile>,
    /// A password typed for the keychain; sent to the keychain on Save, never to the file.
    password: Password,
}

impl Editor {
    fn for_saved(profile: Profile) -> Self {
        Self {
            draft: profile.clone(),
            saved: Some(profile),
            password: Password::default(),
        }
    }

    fn for_new(profile: Profile) -> Self {
        Self {
            draft: profile,
            saved: None,
            password: Password::default(),
        }
    }

    fn is_dirty(&self) -> bool {
        self.saved.as_ref() != Some(&self.draft) || !self.password.is_empty()
    }
}

/// Something a widget asked for; applied after drawing so drawing code only borrows the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Select(String),
    New,
    Duplicate,
    AskDelete,
    ConfirmDelete,
    CancelDelete,
    Save,
    Discard,
    Connect,
    DismissLoadWarning,
    SignInToAedifion { for_profile: bool },
}

/// The profile list and editor.
pub struct ProfilesPanel {
    library: ProfileLibrary,
    editor: Option<Editor>,
    preset: Preset,
    confirm_delete: bool,
    notice: Option<Notice>,
}

impl ProfilesPanel {
    /// A panel over `store`, keeping passwords in `secrets` (the OS keychain in the app).
    pub fn new(store: ProfileStore, secrets: Box<dyn SecretBackend>) -> Self {
        let mut panel = Self {
            library: ProfileLibrary::new(store, secrets),
            editor: None,
            preset: Preset::LocalMosquitto,
            confirm_delete: false,
            notice: None,
        };
        if let Some(first) = panel.library.store().profiles().first() {
            panel.editor = Some(Editor::for_saved(first.clone()));
        }
        panel
    }

    /// A panel over the profiles in `config_dir`.
    pub fn open(config_dir: &Path, secrets: Box<dyn SecretBackend>) -> Self {
        Self::new(ProfileStore::open(config_dir), secrets)
    }

    /// The saved profiles.
    pub fn store(&self) -> &ProfileStore {
        self.library.store()
    }

    /// Replaces the publish templates of the saved profile `id`. The editor does not edit
    /// templates, so an open draft of that profile takes them over and is not made dirty.
    pub fn save_templates(
        &mut self,
        id: &str,
        templates: Vec<crate::model::write::templates::Template>,
    ) -> Result<(), StoreError> {
        let Some(profile) = self.library.save_templates(id, templates)? else {
            return Ok(());
        };
        if let Some(editor) = self.editor.as_mut().filter(|editor| editor.draft.id == id) {
            editor.draft.templates.clone_from(&profile.templates);
            if let Some(saved) = &mut editor.saved {
                saved.templates = profile.templates;
            }
        }
        Ok(())
    }

    /// Saves `profile` as the aedifion account made it (created when no saved profile has its
    /// id), with `password` (the MQTT account's) in the keychain when the profile keeps it
    /// there. Returns the profile as saved, and what to tell the user about the keychain if it
    /// failed. The editor shows the saved profile if it showed it, or nothing unsaved.
    pub fn save_account_profile(
        &mut self,
        profile: Profile,
        password: &str,
    ) -> Result<(Profile, Option<String>), StoreError> {
        let previous = self
            .library
            .store()
            .get(&profile.id)
            .map(|saved| saved.password_storage);
        let change = self.library.save(profile, password, previous)?;
        let note = match change.keychain {
            KeychainOutcome::Failed(error) => Some(format!(
                "\"{}\" was saved, but {error}",
                change.profile.name
            )),
            _ => None,
        };
        match &mut self.editor {
            Some(editor) if editor.draft.id == change.profile.id && editor.is_dirty() => {
                editor
                    .draft
                    .aedifion_account
                    .clone_from(&change.profile.aedifion_account);
                editor.saved = Some(change.profile.clone());
            }
            Some(editor) if editor.draft.id != change.profile.id => {}
            _ => self.editor = Some(Editor::for_saved(change.profile.clone())),
        }
        Ok((change.profile, note))
    }

    /// Replaces the aedifion account remembered by the saved profile `id` (a renewal moved its
    /// expiry); an open draft of that profile takes it over without becoming dirty.
    pub fn save_aedifion_account(
        &mut self,
        id: &str,
        account: Option<crate::model::config::aedifion_account::RememberedAccount>,
    ) -> Result<(), StoreError> {
        let Some(profile) = self.library.save_aedifion_account(id, account)? else {
            return Ok(());
        };
        if let Some(editor) = self.editor.as_mut().filter(|editor| editor.draft.id == id) {
            let clean = editor.saved.as_ref() == Some(&editor.draft);
            editor
                .draft
                .aedifion_account
                .clone_from(&profile.aedifion_account);
            if clean {
                editor.draft = profile.clone();
            }
            editor.saved = Some(profile);
        }
        Ok(())
    }

    /// Id of the profile shown in the editor, if it is saved.
    pub fn selected_profile_id(&self) -> Option<&str> {
        self.editor
            .as_ref()
            .and_then(|e| e.saved.as_ref())
            .map(|p| p.id.as_str())
    }

    /// Shows this saved profile in the editor (discarding unsaved edits). `false` if unknown.
    pub fn select(&mut self, id: &str) -> bool {
        let Some(profile) = self.library.store().get(id).cloned() else {
            return false;
        };
        self.editor = Some(Editor::for_saved(profile));
        self.confirm_delete = false;
        true
    }

    /// Starts connecting with `profile`: [`ProfileAction::Connect`] when the password is known
    /// (given, in the keychain, or not needed), otherwise [`ProfileAction::AskPassword`].
    pub fn request_connect(&self, profile: Profile, password: Option<Password>) -> ProfileAction {
        match self.library.password_need(&profile, password) {
            PasswordNeed::Known(password) => ProfileAction::Connect { profile, password },
            PasswordNeed::Ask { reason } => ProfileAction::AskPassword { profile, reason },
        }
    }

    /// Draws the panel. Returns an action for the app (a connect request), if any.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<ProfileAction> {
        let mut commands = Vec::new();
        let draft_before = self.editor.as_ref().map(|e| e.draft.clone());
        self.banners_ui(ui, &mut commands);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(LIST_WIDTH);
                self.list_ui(ui, &mut commands);
            });
            ui.separator();
            ui.vertical(|ui| {
                egui::ScrollArea::vertical()
                    .id_salt("profile_editor")
                    .show(ui, |ui| {
                        self.editor_ui(ui, &mut commands);
                    });
            });
        });
        // An error about the last Save or Connect is stale once the user edits again.
        if matches!(self.notice, Some(Notice::Error(_)))
            && self.editor.as_ref().map(|e| &e.draft) != draft_before.as_ref()
        {
            self.notice = None;
        }
        let mut action = None;
        for command in commands {
            if let Some(result) = self.apply(command) {
                action = Some(result);
            }
        }
        action
    }

    fn banners_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let palette = Palette::for_ui(ui);
        if let Some(warning) = self.library.store().load_warning() {
            banner(ui, palette.warning, |ui| {
                ui.label(RichText::new(warning.to_string()).color(palette.warning));
                if ui.button("Dismiss").clicked() {
                    commands.push(Command::DismissLoadWarning);
                }
            });
        }
        match &self.notice {
            Some(Notice::Info(text)) => {
                ui.label(text);
            }
            Some(Notice::Error(text)) => {
                ui.label(RichText::new(text).color(palette.status_error));
            }
            None => {}
        }
    }

    fn list_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.heading("Profiles");
        let selected = self.selected_profile_id().map(str::to_owned);
        egui::ScrollArea::vertical()
            .id_salt("profile_list")
            .max_height(320.0)
            .show(ui, |ui| {
                if self.library.store().profiles().is_empty() {
                    ui.label(RichText::new("No saved profiles yet.").weak());
                }
                for profile in self.library.store().profiles() {
                    let is_selected = selected.as_deref() == Some(profile.id.as_str());
                    let response = ui
                        .selectable_label(is_selected, &profile.name)
                        .on_hover_text(profile.display_url());
                    if response.clicked() && !is_selected {
                        commands.push(Command::Select(profile.id.clone()));
                    }
                }
            });
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Preset");
            ui.label_inputs_by(label.id, |ui| {
                ComboBox::from_id_salt("profile_preset")
                    .selected_text(self.preset.label())
                    .width(LIST_WIDTH - 60.0)
                    .show_ui(ui, |ui| {
                        for preset in Preset::ALL {
                            ui.selectable_value(&mut self.preset, preset, preset.label());
                        }
                    });
            });
        });
        ui.horizontal_wrapped(|ui| {
            if ui.button("New profile").clicked() {
                commands.push(Command::New);
            }
            let has_saved = selected.is_some();
            if ui
                .add_enabled(has_saved, Button::new("Duplicate"))
                .clicked()
            {
                commands.push(Command::Duplicate);
            }
            if ui.add_enabled(has_saved, Button::new("Delete")).clicked() {
                commands.push(Command::AskDelete);
            }
        });
        if ui
            .button(super::profile_account::SIGN_IN_ENTRY)
            .on_hover_text("A new profile from your aedifion login: pick a project, TopicScope creates and renews its MQTT credentials")
            .clicked()
        {
            commands.push(Command::SignInToAedifion { for_profile: false });
        }
        if self.confirm_delete
            && let Some(name) = self
                .editor
                .as_ref()
                .and_then(|e| e.saved.as_ref())
                .map(|p| &p.name)
        {
            banner(ui, Palette::for_ui(ui).status_error, |ui| {
                ui.label(format!(
                    "Delete profile \"{name}\"? Its keychain password goes too."
                ));
                ui.horizontal(|ui| {
                    if ui.button("Yes, delete").clicked() {
                        commands.push(Command::ConfirmDelete);
                    }
                    if ui.button("Cancel").clicked() {
                        commands.push(Command::CancelDelete);
                    }
                });
            });
        }
    }

    fn editor_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let keychain_available = self.library.keychain_available();
        let Some(editor) = &mut self.editor else {
            ui.label("Choose a preset and press \"New profile\", or select a saved profile.");
            return;
        };
        let errors = editor.draft.validate().err().unwrap_or_default();
        let palette = Palette::for_ui(ui);
        if editor.saved.is_none() {
            ui.heading("New profile (not saved yet)");
        } else {
            ui.heading(format!("Profile: {}", editor.draft.name));
        }
        if editor.draft.transport.uses_tls() && editor.draft.tls.accept_invalid_certs {
            banner(ui, palette.status_error, |ui| {
                ui.label(
                    RichText::new(INSECURE_WARNING)
                        .color(palette.status_error)
                        .strong(),
                );
            });
        }
        let form = FormContext {
            errors: &errors,
            error_colour: palette.status_error,
        };
        connection_ui(ui, &mut editor.draft, &form);
        ui.checkbox(
            &mut editor.draft.read_only,
            "Read-only: never publish, clear retained messages or write setpoints",
        )
        .on_hover_text("On by default for aedifion.io profiles, so nothing is written to a building by accident.");
        credentials_ui(ui, editor, &form, keychain_available);
        subscriptions_ui(ui, &mut editor.draft, &form);
        super::decoder_overrides::decoder_overrides_ui(
            ui,
            &mut editor.draft.decoder_overrides,
            palette.status_error,
        );
        if editor.draft.transport.uses_tls() && !editor.draft.demo {
            tls_ui(ui, &mut editor.draft, &form);
        }
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                commands.push(Command::Save);
            }
            if ui
                .add_enabled(editor.is_dirty(), Button::new("Discard changes"))
                .clicked()
            {
                commands.push(Command::Discard);
            }
            if ui.button("Connect").clicked() {
                commands.push(Command::Connect);
            }
        });
        if !errors.is_empty() {
            ui.label(
                RichText::new(format!("{} problem(s) to fix before saving.", errors.len()))
                    .color(palette.status_error),
            );
        }
        ui.separator();
        if super::profile_account::aedifion_account_ui(ui, &mut editor.draft, palette.warning)
            .is_some()
        {
            commands.push(Command::SignInToAedifion { for_profile: true });
        }
    }

    fn apply(&mut self, command: Command) -> Option<ProfileAction> {
        match command {
            Command::Select(id) => self.switch_to(Some(id)),
            Command::New => self.switch_to(None),
            Command::Duplicate => self.duplicate_selected(),
            Command::AskDelete => self.confirm_delete = true,
            Command::CancelDelete => self.confirm_delete = false,
            Command::ConfirmDelete => self.delete_selected(),
            Command::Save => self.save(),
            Command::Discard => self.discard(),
            Command::Connect => return self.connect_draft(),
            Command::DismissLoadWarning => self.library.dismiss_load_warning(),
            Command::SignInToAedifion { for_profile } => {
                let profile_id = for_profile
                    .then(|| self.selected_profile_id().map(str::to_owned))
                    .flatten();
                return Some(ProfileAction::SignInToAedifion { profile_id });
            }
        }
        None
    }

    /// Opens a saved profile (`Some(id)`) or a new one from the preset (`None`), unless that
    /// would throw away unsaved edits.
    fn switch_to(&mut self, id: Option<String>) {
        if let Some(editor) = &self.editor
            && editor.is_dirty()
        {
            self.notice = Some(Notice::Error(format!(
                "\"{}\" has unsaved changes: press Save or Discard changes first.",
                editor.draft.name
            )));
            return;
        }
        self.confirm_delete = false;
        self.notice = None;
        match id {
            Some(id) => {
                self.select(&id);
            }
            None => self.editor = Some(Editor::for_new(self.preset.profile())),
        }
    }

    fn duplicate_selected(&mut self) {
        let Some(id) = self.selected_profile_id().map(str::to_owned) else {
            return;
        };
        match self.library.duplicate(&id) {
            Ok(change) => {
                let note = match change.keychain {
                    KeychainOutcome::Failed(KeychainError::NotCopied(error)) => {
                        format!(" Its password was not copied: {error}")
                    }
                    _ => String::new(),
                };
                let copy = change.profile;
                self.notice = Some(Notice::Info(format!("Created \"{}\".{note}", copy.name)));
                self.editor = Some(Editor::for_saved(copy));
            }
            Err(error) => self.notice = Some(Notice::Error(error.to_string())),
        }
    }

    fn delete_selected(&mut self) {
        self.confirm_delete = false;
        let Some(id) = self.selected_profile_id().map(str::to_owned) else {
            return;
        };
        match self.library.delete(&id) {
            Ok(change) => {
                let mut text = format!("Deleted \"{}\".", change.profile.name);
                if let KeychainOutcome::Failed(error) = change.keychain {
                    tracing::warn!("deleted profile {id}: {error}");
                    text.push_str(" Its keychain entry could not be removed.");
                }
                self.notice = Some(Notice::Info(text));
                self.editor = self
                    .library
                    .store()
                    .profiles()
                    .first()
                    .cloned()
                    .map(Editor::for_saved);
            }
            Err(error) => self.notice = Some(Notice::Error(error.to_string())),
        }
    }

    fn save(&mut self) {
        let Some(editor) = &self.editor else {
            return;
        };
        let previous_storage = editor.saved.as_ref().map(|p| p.password_storage);
        let result = self.library.save(
            editor.draft.clone(),
            editor.password.expose(),
            previous_storage,
        );
        let change = match result {
            Ok(change) => change,
            Err(error) => {
                self.notice = Some(Notice::Error(error.to_string()));
                return;
            }
        };
        let name = &change.profile.name;
        self.notice = Some(match change.keychain {
            KeychainOutcome::Stored => Notice::Info(format!(
                "Saved \"{name}\". Password stored in the OS keychain."
            )),
            KeychainOutcome::Failed(error @ KeychainError::NotRemoved(_)) => {
                tracing::warn!("profile {}: {error}", change.profile.id);
                Notice::Info(format!("Saved \"{name}\"."))
            }
            KeychainOutcome::Failed(error) => {
                Notice::Error(format!("Saved \"{name}\", but {error}"))
            }
            KeychainOutcome::Untouched | KeychainOutcome::Copied | KeychainOutcome::Removed => {
                Notice::Info(format!("Saved \"{name}\"."))
            }
        });
        self.editor = Some(Editor::for_saved(change.profile));
    }

    fn discard(&mut self) {
        self.notice = None;
        self.editor = match self.editor.take().and_then(|e| e.saved) {
            Some(saved) => Some(Editor::for_saved(saved)),
            None => self
                .library
                .store()
                .profiles()
                .first()
                .cloned()
                .map(Editor::for_saved),
        };
    }

    fn connect_draft(&mut self) -> Option<ProfileAction> {
        let editor = self.editor.as_ref()?;
        if editor.draft.validate().is_err() {
            self.notice = Some(Notice::Error(
                "Fix the fields marked in red before connecting.".into(),
            ));
            return None;
        }
        let profile = editor.draft.clone();
        let typed = Some(editor.password.clone());
        self.notice = None;
        Some(self.request_connect(profile, typed))
    }
}

/// What every form section needs to show inline errors.
struct FormContext<'a> {
    errors: &'a [ProfileError],
    error_colour: egui::Color32,
}

impl FormContext<'_> {
    /// Adds a grid row with the messages for `field` (nothing if it has none).
    fn errors_row(&self, ui: &mut egui::Ui, field: ProfileField) {
        let messages: Vec<String> = self
            .errors
            .iter()
            .filter(|e| e.field() == field)
            .map(ToString::to_string)
            .collect();
        if messages.is_empty() {
            return;
        }
        ui.label("");
        ui.label(RichText::new(messages.join("\n")).color(self.error_colour));
        ui.end_row();
    }
}

/// One form row: a label, then the inputs `add` draws, named by that label. `add` gets the
/// label's id for inputs that name themselves (hint text, suffix) and must be told explicitly.
fn row<R>(ui: &mut egui::Ui, label: &str, add: impl FnOnce(&mut egui::Ui, egui::Id) -> R) -> R {
    let label = ui.label(label);
    let inner = ui
        .horizontal(|ui| ui.label_inputs_by(label.id, |ui| add(ui, label.id)))
        .inner;
    ui.end_row();
    inner
}

/// A single-line text field with a hint, named by the row label `label`.
fn text_field(ui: &mut egui::Ui, label: egui::Id, text: &mut String, hint: &str) -> egui::Response {
    ui.add(
        TextEdit::singleline(text)
            .hint_text(hint)
            .desired_width(FIELD_WIDTH),
    )
    .labelled_by(label)
}

fn connection_ui(ui: &mut egui::Ui, draft: &mut Profile, form: &FormContext<'_>) {
    Grid::new("profile_connection")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            row(ui, "Name", |ui, label| {
                text_field(ui, label, &mut draft.name, "e.g. Building A (production)")
            });
            form.errors_row(ui, ProfileField::Name);
            if draft.demo {
                ui.label("Broker");
                ui.label("The built-in demo broker (started on a free local port).");
                ui.end_row();
                return;
            }
            row(ui, "Transport", |ui, _| {
                transport_combo(ui, draft);
                // On the same row: the allowance belongs to the transport choice.
                if !draft.transport.uses_tls() && draft.password_storage.needs_password() {
                    ui.checkbox(
                        &mut draft.allow_unencrypted_login,
                        "Allow sending the password unencrypted",
                    )
                    .on_hover_text(
                        "Only on a network you trust: anyone on the way can read it. The status \
                         bar warns while such a connection is up.",
                    );
                }
            });
            form.errors_row(ui, ProfileField::Transport);
            let was_aedifion = draft.is_aedifion_host();
            row(ui, "Host", |ui, label| {
                text_field(ui, label, &mut draft.host, "broker.example.com")
            });
            if !was_aedifion && draft.is_aedifion_host() {
                // A building on aedifion.io is read-only by default, however the profile began.
                draft.read_only = true;
            }
            form.errors_row(ui, ProfileField::Host);
            row(ui, "Port", |ui, label| {
                ui.add(DragValue::new(&mut draft.port).range(1..=u16::MAX))
                    .labelled_by(label)
            });
            form.errors_row(ui, ProfileField::Port);
            if draft.transport.uses_websocket() {
                row(ui, "WebSocket path", |ui, label| {
                    text_field(ui, label, &mut draft.ws_path, "/mqtt")
                });
                form.errors_row(ui, ProfileField::WsPath);
            }
            ui.label("Protocol");
            ui.label(draft.mqtt_version.label());
            ui.end_row();
            row(ui, "Keep-alive", |ui, label| {
                ui.add(
                    DragValue::new(&mut draft.keep_alive_secs)
                        .range(0..=u16::MAX)
                        .suffix(" s"),
                )
                .labelled_by(label)
            });
            ui.label("");
            ui.checkbox(
                &mut draft.clean_session,
                "Clean session (forget queued messages)",
            );
            ui.end_row();
        });
}

/// Transport chooser; moves the port along when it was the old transport's default.
fn transport_combo(ui: &mut egui::Ui, draft: &mut Profile) {
    let before = draft.transport;
    ComboBox::from_id_salt("profile_transport")
        .selected_text(before.label())
        .show_ui(ui, |ui| {
            for transport in Transport::ALL {
                ui.selectable_value(&mut draft.transport, transport, transport.label());
            }
        });
    if draft.transport != before && draft.port == before.default_port() {
        draft.port = draft.transport.default_port();
    }
}

fn credentials_ui(
    ui: &mut egui::Ui,
    editor: &mut Editor,
    form: &FormContext<'_>,
    keychain_available: bool,
) {
    ui.add_space(6.0);
    ui.strong("Identity");
    let draft = &mut editor.draft;
    Grid::new("profile_credentials")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            row(ui, "Client id", |ui, _| {
                ui.add(
                    TextEdit::singleline(&mut draft.client_id).desired_width(FIELD_WIDTH - 90.0),
                );
                if ui
                    .button("Generate")
                    .on_hover_text("A new random TopicScope client id")
                    .clicked()
                {
                    draft.client_id = generate_client_id();
                }
            });
            ui.label("");
            let length = draft.client_id.chars().count();
            ui.label(
                RichText::new(format!(
                    "{CLIENT_ID_RULES} ({length}/{CLIENT_ID_MAX_CHARS})"
                ))
                .weak(),
            );
            ui.end_row();
            form.errors_row(ui, ProfileField::ClientId);
            row(ui, "Username", |ui, label| {
                text_field(ui, label, &mut draft.username, "empty for anonymous")
            });
            form.errors_row(ui, ProfileField::Username);
            row(ui, "Password storage", |ui, _| {
                password_storage_combo(ui, draft)
            });
            if draft.password_storage == PasswordStorage::Keychain {
                if keychain_available {
                    let hint = if editor.saved.as_ref().map(|p| p.password_storage)
                        == Some(PasswordStorage::Keychain)
                    {
                        "leave empty to keep the stored one"
                    } else {
                        "stored in the OS keychain on Save"
                    };
                    row(ui, "Password", |ui, label| {
                        ui.add(
                            TextEdit::singleline(editor.password.text_mut())
                                .password(true)
                                .hint_text(hint)
                                .desired_width(FIELD_WIDTH),
                        )
                        .labelled_by(label)
                    });
                } else {
                    ui.label("Password");
                    ui.label(RichText::new(NO_KEYCHAIN_NOTE).color(form.error_colour));
                    ui.end_row();
                }
            }
        });
}

fn password_storage_combo(ui: &mut egui::Ui, draft: &mut Profile) {
    let label = |storage: PasswordStorage| match storage {
        PasswordStorage::None => "No password",
        PasswordStorage::Keychain => "OS keychain",
        PasswordStorage::Ask => "Ask when connecting",
    };
    ComboBox::from_id_salt("profile_password_storage")
        .selected_text(label(draft.password_storage))
        .show_ui(ui, |ui| {
            for storage in [
                PasswordStorage::None,
                PasswordStorage::Keychain,
                PasswordStorage::Ask,
            ] {
                ui.selectable_value(&mut draft.password_storage, storage, label(storage));
            }
        });
}

fn subscriptions_ui(ui: &mut egui::Ui, draft: &mut Profile, form: &FormContext<'_>) {
    ui.add_space(6.0);
    ui.strong("Subscriptions");
    Grid::new("profile_aedifion")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            row(ui, "aedifion project", |ui, label| {
                let mut text = draft.aedifion_project.clone();
                if text_field(ui, label, &mut text, "lbg01/mybuilding (optional)").changed() {
                    draft.set_aedifion_project(&text);
                }
                let has_project = draft.aedifion_project().is_some();
                let button = ui
                    .add_enabled(has_project, Button::new("Add META and CONTROLS"))
                    .on_hover_text("Also subscribe to the project's metadata and control topics");
                if button.clicked() {
                    draft.add_aedifion_extra_subscriptions();
                }
            });
            form.errors_row(ui, ProfileField::AedifionProject);
        });
    let mut remove = None;
    Grid::new("profile_subscriptions")
        .num_columns(3)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (index, subscription) in draft.subscriptions.iter_mut().enumerate() {
                subscription_row(ui, index, subscription, &mut remove);
                let field = ProfileField::Subscription(index);
                if form.errors.iter().any(|e| e.field() == field) {
                    form.errors_row(ui, field);
                }
            }
        });
    if let Some(index) = remove {
        draft.subscriptions.remove(index);
    }
    if ui.button("Add subscription").clicked() {
        let qos = if draft.is_aedifion_host() {
            Qos::AtLeastOnce
        } else {
            Qos::AtMostOnce
        };
        draft
            .subscriptions
            .push(Subscription::new(String::new(), qos));
    }
    let messages: Vec<String> = form
        .errors
        .iter()
        .filter(|e| e.field() == ProfileField::Subscriptions)
        .map(ToString::to_string)
        .collect();
    for message in messages {
        ui.label(RichText::new(message).color(form.error_colour));
    }
}

fn subscription_row(
    ui: &mut egui::Ui,
    index: usize,
    subscription: &mut Subscription,
    remove: &mut Option<usize>,
) {
    let number = index + 1;
    ui.add(
        TextEdit::singleline(&mut subscription.filter)
            .hint_text("topic/filter/#")
            .desired_width(FIELD_WIDTH),
    )
    .accessible_name(format!("Filter {number}"));
    ui.name_inputs(format!("QoS {number}"), |ui| {
        ComboBox::from_id_salt(("subscription_qos", index))
            .selected_text(format!("QoS {}", subscription.qos.level()))
            .width(70.0)
            .show_ui(ui, |ui| {
                for qos in [Qos::AtMostOnce, Qos::AtLeastOnce, Qos::ExactlyOnce] {
                    ui.selectable_value(&mut subscription.qos, qos, format!("QoS {}", qos.level()));
                }
            });
    });
    if ui
        .button("Remove")
        .on_hover_text(format!("Remove subscription {number}"))
        .clicked()
    {
        *remove = Some(index);
    }
    ui.end_row();
}

fn tls_ui(ui: &mut egui::Ui, draft: &mut Profile, form: &FormContext<'_>) {
    ui.add_space(6.0);
    ui.strong("TLS");
    ui.label(
        RichText::new("The broker's certificate is checked against the OS trust store.").weak(),
    );
    Grid::new("profile_tls")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            row(ui, "CA file", |ui, label| {
                path_field(
                    ui,
                    label,
                    &mut draft.tls.ca_file,
                    "extra CA (PEM), optional",
                )
            });
            form.errors_row(ui, ProfileField::CaFile);
            row(ui, "Client certificate", |ui, label| {
                path_field(
                    ui,
                    label,
                    &mut draft.tls.client_cert_file,
                    "PEM, for mutual TLS",
                )
            });
            form.errors_row(ui, ProfileField::ClientCertFile);
            row(ui, "Client key", |ui, label| {
                path_field(
                    ui,
                    label,
                    &mut draft.tls.client_key_file,
                    "PEM, for mutual TLS",
                )
            });
            form.errors_row(ui, ProfileField::ClientKeyFile);
            ui.label("");
            ui.checkbox(
                &mut draft.tls.accept_invalid_certs,
                "Accept invalid certificates (insecure)",
            );
            ui.end_row();
        });
}

/// A path typed by hand or picked with the system file dialog (which may not exist: rfd
/// returns `None` without a portal or zenity, and typing still works).
fn path_field(ui: &mut egui::Ui, label: egui::Id, path: &mut Option<PathBuf>, hint: &str) {
    let mut text = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let edit = TextEdit::singleline(&mut text)
        .hint_text(hint)
        .desired_width(FIELD_WIDTH - 70.0);
    if ui.add(edit).labelled_by(label).changed() {
        *path = (!text.trim().is_empty()).then(|| PathBuf::from(text.trim()));
    }
    if ui.button("Browse…").clicked()
        && let Some(picked) = rfd::FileDialog::new()
            .add_filter("PEM", &["pem", "crt", "key", "cer"])
            .pick_file()
    {
        *path = Some(picked);
    }
    if path.is_some() && ui.button("Clear").clicked() {
        *path = None;
    }
}

/// A framed block in `colour`, for warnings that must stay visible.
fn banner(ui: &mut egui::Ui, colour: egui::Color32, add: impl FnOnce(&mut egui::Ui)) {
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.5, colour))
        .corner_radius(4.0)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add(ui);
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::secret::{MemorySecrets, NoSecrets};

    fn panel_in(dir: &Path, secrets: Box<dyn SecretBackend>) -> ProfilesPanel {
        ProfilesPanel::open(dir, secrets)
    }

    fn saved_profile(panel: &mut ProfilesPanel, profile: Profile) -> String {
        panel
            .library
            .save(profile, "", None)
            .expect("save")
            .profile
            .id
    }

    #[test]
    fn connect_without_password_needs_no_prompt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let panel = panel_in(dir.path(), Box::new(MemorySecrets::new()));
        let profile = Preset::LocalMosquitto.profile();
        let action = panel.request_connect(profile.clone(), None);
        assert_eq!(
            action,
            ProfileAction::Connect {
                profile,
                password: None
            }
        );
    }

    #[test]
    fn connect_uses_the_keychain_password() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = MemorySecrets::new();
        let profile = Profile {
            username: "me".into(),
            password_storage: PasswordStorage::Keychain,
            ..Preset::LocalMosquitto.profile()
        };
        secrets.set(&profile.id, "pw").expect("set");
        let panel = panel_in(dir.path(), Box::new(secrets));
        let action = panel.request_connect(profile.clone(), None);
        assert_eq!(
            action,
            ProfileAction::Connect {
                profile,
                password: Some("pw".into())
            }
        );
    }

    #[test]
    fn connect_without_keychain_asks_for_the_password_with_the_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let panel = panel_in(dir.path(), Box::new(NoSecrets::new("no session bus")));
        let profile = Profile {
            username: "me".into(),
            password_storage: PasswordStorage::Keychain,
            ..Preset::LocalMosquitto.profile()
        };
        let ProfileAction::AskPassword {
            profile: asked,
            reason,
        } = panel.request_connect(profile.clone(), None)
        else {
            panic!("expected to ask for the password");
        };
        assert_eq!(asked, profile);
        assert!(reason.unwrap_or_default().contains("no session bus"));
    }

    #[test]
    fn switching_away_from_unsaved_changes_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut panel = panel_in(dir.path(), Box::new(MemorySecrets::new()));
        let first = saved_profile(&mut panel, Preset::LocalMosquitto.profile());
        let second = saved_profile(&mut panel, Preset::Demo.profile());
        assert!(panel.select(&first));
        if let Some(editor) = &mut panel.editor {
            editor.draft.name = "Edited".into();
        }
        panel.apply(Command::Select(second));
        assert_eq!(panel.selected_profile_id(), Some(first.as_str()));
        assert!(matches!(panel.notice, Some(Notice::Error(_))));
    }
}
