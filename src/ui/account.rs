//! The aedifion account panel: sign in (environment, e-mail, password, HTTP Basic or OpenID
//! Connect), pick a project, optionally allow writing (after a confirmation), connect, and see
//! the credentials' state ("credentials valid until 14:32") and the datapoint import's
//! progress. It reads an [`AccountController`] and returns [`AccountAction`]s; the network work
//! happens on the controller's threads, never here.

use egui::RichText;

use super::confirm::{ConfirmDialog, ConfirmOutcome};
use super::theme::Palette;
use crate::account::api::Rights;
use crate::account::broker::Environment;
use crate::account::client::{Login, SignInMethod};
use crate::account::controller::{AccountController, SignInState};
use crate::account::oidc::{DEFAULT_CLIENT_ID, DEFAULT_ISSUER, OidcSettings};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountAction {
    /// Sign in with this login (an empty password: the saved one), saving the password if
    /// `remember`.
    SignIn {
        /// Where and as whom.
        login: Login,
        /// Save the password in the keychain after a successful sign-in.
        remember: bool,
    },
    /// Forget the sign-in and stop the credentials.
    SignOut,
    /// Create and keep credentials for the project.
    Connect {
        /// The project.
        project_id: u64,
        /// `Read`, or `Write` after the user confirmed.
        rights: Rights,
    },
    /// Stop keeping credentials.
    Disconnect,
}

/// Applies `action` to `controller` (what the app does after drawing).
pub fn apply(action: AccountAction, controller: &mut AccountController) {
    match action {
        AccountAction::SignIn { login, remember } => controller.sign_in(login, remember),
        AccountAction::SignOut => controller.sign_out(),
        AccountAction::Connect { project_id, rights } => controller.connect(project_id, rights),
        AccountAction::Disconnect => controller.disconnect(),
    }
}

/// The panel's own state (what is typed and picked).
#[derive(Debug, Clone)]
pub struct AccountPanel {
    environment: Environment,
    custom_api_url: String,
    email: String,
    password: String,
    use_oidc: bool,
    oidc_issuer: String,
    oidc_client_id: String,
    remember: bool,
    selected: Option<u64>,
    allow_write: bool,
    confirming_write: bool,
}

impl Default for AccountPanel {
    fn default() -> Self {
        Self {
            environment: Environment::Production,
            custom_api_url: String::new(),
            email: String::new(),
            password: String::new(),
            use_oidc: false,
            oidc_issuer: DEFAULT_ISSUER.into(),
            oidc_client_id: DEFAULT_CLIENT_ID.into(),
            remember: true,
            selected: None,
            allow_write: false,
            confirming_write: false,
        }
    }
}

impl AccountPanel {
    /// An empty panel (production, HTTP Basic).
    pub fn new() -> Self {
        Self::default()
    }

    /// A panel for a custom API URL (e.g. a test server), with the e-mail filled in.
    pub fn with_custom_api(api_url: &str, email: &str) -> Self {
        Self {
            environment: Environment::Custom,
            custom_api_url: api_url.to_owned(),
            email: email.to_owned(),
            ..Self::default()
        }
    }

    /// Sets the OpenID Connect issuer and client id (and selects OpenID Connect).
    pub fn set_oidc(&mut self, issuer: &str, client_id: &str) {
        self.use_oidc = true;
        self.oidc_issuer = issuer.to_owned();
        self.oidc_client_id = client_id.to_owned();
    }

    /// The API URL the form points at.
    fn api_url(&self) -> String {
        self.environment
            .api_url()
            .map_or_else(|| self.custom_api_url.trim().to_owned(), str::to_owned)
    }

    /// Draws the panel; returns what the user asked for.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        controller: &AccountController,
    ) -> Option<AccountAction> {
        ui.heading("aedifion account");
        match controller.state().clone() {
            SignInState::SignedIn { email } => self.signed_in_ui(ui, controller, &email),
            state => self.sign_in_ui(ui, &state),
        }
    }

    fn sign_in_ui(&mut self, ui: &mut egui::Ui, state: &SignInState) -> Option<AccountAction> {
        let palette = Palette::for_ui(ui);
        let mut action = None;
        let busy = *state == SignInState::SigningIn;
        ui.add_enabled_ui(!busy, |ui| {
            egui::Grid::new("account_sign_in")
                .num_columns(2)
                .show(ui, |ui| {
                    let label = ui.label("Environment");
                    egui::ComboBox::from_id_salt("account_environment")
                        .selected_text(self.environment.label())
                        .show_ui(ui, |ui| {
                            for environment in Environment::ALL {
                                ui.selectable_value(
                                    &mut self.environment,
                                    environment,
                                    environment.label(),
                                );
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                    if self.environment == Environment::Custom {
                        labelled_field(ui, "API URL", &mut self.custom_api_url, false);
                    }
                    labelled_field(ui, "E-mail", &mut self.email, false);
                    labelled_field(ui, "Password", &mut self.password, true);
                });
            ui.checkbox(&mut self.use_oidc, "Sign in with OpenID Connect (Keycloak)");
            if self.use_oidc {
                egui::Grid::new("account_oidc")
                    .num_columns(2)
                    .show(ui, |ui| {
                        labelled_field(ui, "Issuer", &mut self.oidc_issuer, false);
                        labelled_field(ui, "Client id", &mut self.oidc_client_id, false);
                    });
            }
            ui.checkbox(
                &mut self.remember,
                "Remember the password in the OS keychain",
            );
            if self.password.is_empty() {
                ui.weak("With no password typed, the saved one is used.");
            }
            let ready = !self.email.trim().is_empty() && !self.api_url().is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Sign in"))
                .clicked()
            {
                let method = if self.use_oidc {
                    SignInMethod::Oidc(OidcSettings {
                        issuer: self.oidc_issuer.trim().to_owned(),
                        client_id: self.oidc_client_id.trim().to_owned(),
                    })
                } else {
                    SignInMethod::Basic
                };
                action = Some(AccountAction::SignIn {
                    login: Login {
                        api_url: self.api_url(),
                        email: self.email.trim().to_owned(),
                        password: self.password.clone(),
                        method,
                    },
                    remember: self.remember,
                });
            }
        });
        match state {
            SignInState::SigningIn => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Signing in…");
                });
            }
            SignInState::Failed(message) => {
                ui.label(RichText::new(message).color(palette.status_error));
            }
            _ => {}
        }
        action
    }

    fn signed_in_ui(
        &mut self,
        ui: &mut egui::Ui,
        controller: &AccountController,
        email: &str,
    ) -> Option<AccountAction> {
        let palette = Palette::for_ui(ui);
        let mut action = None;
        // The password is held by the sign-in from here on; the form need not keep it.
        self.password.clear();
        ui.horizontal(|ui| {
            ui.label(format!("Signed in as {email}"));
            if ui.button("Sign out").clicked() {
                action = Some(AccountAction::SignOut);
            }
        });
        if let Some(note) = controller.keychain_note() {
            ui.label(RichText::new(note).color(palette.warning));
        }
        ui.separator();
        let projects = controller.projects();
        if projects.is_empty() {
            ui.label("This account has no projects.");
            return action;
        }
        ui.label("Project");
        egui::ScrollArea::vertical()
            .max_height(240.0)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                for entry in projects {
                    let prefix = entry
                        .project
                        .topic_prefix()
                        .map(|prefix| format!(" ({prefix})"))
                        .unwrap_or_default();
                    let text = format!("{} — {}{prefix}", entry.company.name, entry.project.name);
                    let selected = self.selected == Some(entry.project.id);
                    let response = ui.selectable_label(selected, text);
                    if let Some(description) = &entry.project.description {
                        response.clone().on_hover_text(description);
                    }
                    if response.clicked() {
                        self.selected = Some(entry.project.id);
                    }
                }
            });
        let before = self.allow_write;
        ui.checkbox(
            &mut self.allow_write,
            "Allow writing (publish to the building)",
        );
        if self.allow_write && !before {
            // Not yet: only after the confirmation.
            self.allow_write = false;
            self.confirming_write = true;
        }
        if self.confirming_write {
            let dialog = ConfirmDialog {
                title: "Allow writing?".into(),
                summary: "The MQTT account will be allowed to publish on the project's topics: \
                          setpoints written with it reach real building equipment."
                    .into(),
                items: Vec::new(),
                confirm_label: "Allow writing".into(),
            };
            match dialog.show(ui.ctx()) {
                Some(ConfirmOutcome::Confirmed) => {
                    self.allow_write = true;
                    self.confirming_write = false;
                }
                Some(ConfirmOutcome::Cancelled) => self.confirming_write = false,
                None => {}
            }
        }
        let rights = if self.allow_write {
            Rights::Write
        } else {
            Rights::Read
        };
        ui.horizontal(|ui| {
            let connect = ui.add_enabled(self.selected.is_some(), egui::Button::new("Connect"));
            if connect.clicked()
                && let Some(project_id) = self.selected
            {
                action = Some(AccountAction::Connect { project_id, rights });
            }
            if controller.connected_project().is_some() && ui.button("Stop").clicked() {
                action = Some(AccountAction::Disconnect);
            }
        });
        if let Some(status) = controller.keeper_status() {
            let text = status.summary();
            let colour = if status.last_error.is_some() {
                palette.status_error
            } else {
                palette.status_ok
            };
            ui.label(RichText::new(text).color(colour));
        }
        if let Some(progress) = controller.import_progress() {
            let text = match (progress.total_pages, progress.total_datapoints) {
                (Some(pages), Some(total)) => format!(
                    "Reading datapoint names… page {} of {pages} ({} of {total})",
                    progress.pages_done, progress.datapoints
                ),
                _ => "Reading datapoint names…".into(),
            };
            ui.add(egui::ProgressBar::new(progress.fraction()).text(text));
        }
        if let Some(error) = controller.import_error() {
            ui.label(RichText::new(error).color(palette.warning));
        }
        action
    }
}

/// A label and a single-line field, the field labelled for screen readers (and tests).
fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, password: bool) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .password(password)
            .desired_width(320.0),
    )
    .labelled_by(label.id);
    ui.end_row();
}
