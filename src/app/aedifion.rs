//! The aedifion account in the window: the account window (the panel of `ui::account` over an
//! [`AccountController`]), what its actions do, and the wiring from the credential keeper to the
//! session.
//!
//! - Connect in the window starts the keeper (on its own thread) and the datapoint import.
//! - A new MQTT account (the first, or one created again after the platform deleted it) saves
//!   the profile — user name, subscriptions from the ACL, the remembered account; the MQTT
//!   password in the keychain under the profile id — and connects it through the app's
//!   session. The profile id stays the same, so a reconnect keeps the session's store.
//! - A renewal (same user name and password, nothing to reconnect) moves the remembered expiry.
//! - The datapoint names from the API go into the store of the session running the profile.
//! - Connecting a saved profile that remembers an account signs in with the platform password
//!   saved in the keychain and resumes the same MQTT account (connecting at once with the MQTT
//!   password from the keychain while it is still valid); without a saved password the account
//!   window opens with the login filled in.
//!
//! Everything slow (HTTP, the keeper's waits) runs on the controller's threads; the frame only
//! polls. Failures are shown in the status bar and the window, never dropped.

use std::path::PathBuf;
use std::sync::Arc;

use crate::account::broker::{BrokerEndpoint, configure_profile};
use crate::account::clock::SystemClock;
use crate::account::controller::{AccountController, AccountEvent, SignInState};
use crate::account::credentials::local_host_name;
use crate::account::datapoints::DatapointNames;
use crate::account::lifecycle::{AccountRequest, Lifecycle, LifecyclePolicy, MqttAccount};
use crate::account::remembered::{self, RememberedAccount};
use crate::model::config::profile::{PasswordStorage, Profile, generate_client_id};
use crate::model::config::secret::{Password, PasswordNeed, SecretBackend, resolve_password};
use crate::ui::account::{AccountAction, AccountPanel};
use crate::ui::status_bar::CredentialsView;

use super::TopicScopeApp;

/// Title of the account window.
pub const ACCOUNT_WINDOW_TITLE: &str = "aedifion account";

/// The account window and the account's background work.
pub(super) struct AccountDesk {
    controller: AccountController,
    panel: AccountPanel,
    open: bool,
    /// The saved profile the window's Connect updates (`None`: a new profile).
    target_profile: Option<String>,
    /// The credentials being kept, and for which profile.
    live: Option<LiveAccount>,
    /// A saved profile waiting for its sign-in before its account is resumed.
    resume: Option<PendingResume>,
    /// Names from the API waiting for the session that runs the live profile.
    names: Option<(String, DatapointNames)>,
    /// The last MQTT password used for a profile in this run (profile id, password): a
    /// reconnect without a keychain resumes the account with it instead of creating another.
    known_password: Option<(String, String)>,
}

/// Credentials kept for a profile.
struct LiveAccount {
    /// The profile they connect (`None` until the first account has saved a new one).
    profile_id: Option<String>,
    /// The broker and its CA file, from the window's Connect (`None`: the profile's own).
    broker: Option<(BrokerEndpoint, Option<PathBuf>)>,
}

/// A saved profile's account, to resume once signed in.
struct PendingResume {
    remembered: RememberedAccount,
    /// The MQTT password from the keychain, if there was one.
    password: Option<String>,
    /// The account window was opened for a failed sign-in (once, not every frame).
    window_opened: bool,
}

impl AccountDesk {
    /// A desk whose controller uses the real HTTP client, the wall clock and `secrets`, and asks
    /// `ctx` for a repaint when background work finishes.
    pub(super) fn new(ctx: &egui::Context, secrets: Arc<dyn SecretBackend>) -> Self {
        let controller = AccountController::new(Arc::new(SystemClock), None).with_secrets(secrets);
        Self::with_controller(ctx, controller)
    }

    fn with_controller(ctx: &egui::Context, mut controller: AccountController) -> Self {
        let repaint = ctx.clone();
        controller.set_notify(Some(Arc::new(move || repaint.request_repaint())));
        Self {
            controller,
            panel: AccountPanel::new(),
            open: false,
            target_profile: None,
            live: None,
            resume: None,
            names: None,
            known_password: None,
        }
    }

    /// The profile the credentials connect, if any.
    fn live_profile_id(&self) -> Option<&str> {
        self.live.as_ref()?.profile_id.as_deref()
    }

    /// Stops keeping credentials (the account expires by itself).
    fn stop(&mut self) {
        self.controller.disconnect();
        self.live = None;
        self.resume = None;
        self.names = None;
    }
}

impl TopicScopeApp {
    /// Replaces the account controller (tests: a contract server, a manual clock, a short
    /// validity). Its repaint callback is set to `ctx`.
    pub fn set_account_controller(&mut self, ctx: &egui::Context, controller: AccountController) {
        self.account = AccountDesk::with_controller(ctx, controller);
    }

    /// The account controller (its sign-in state, projects, keeper status).
    pub fn account_controller(&self) -> &AccountController {
        &self.account.controller
    }

    /// The account window is open.
    pub fn account_window_open(&self) -> bool {
        self.account.open
    }

    /// Opens the account window; its Connect updates the saved profile `profile_id` (`None`:
    /// creates one). A profile that remembers an account fills in its login.
    pub(super) fn open_account_window(&mut self, profile_id: Option<String>) {
        let profile = profile_id
            .as_deref()
            .and_then(|id| self.profiles().get(id))
            .cloned();
        let profile = profile.as_ref();
        if let Some(account) = profile.and_then(|profile| profile.aedifion_account.as_ref()) {
            let oidc = account
                .oidc
                .as_ref()
                .map(|oidc| (oidc.issuer.as_str(), oidc.client_id.as_str()));
            self.account
                .panel
                .fill_login(&account.api_url, &account.email, oidc);
        }
        if let Some(profile) = profile {
            let ca_file = profile.tls.ca_file.as_deref();
            let broker = format!("{}:{}", profile.host, profile.port);
            self.account.panel.set_custom_broker(&broker, ca_file);
        }
        self.account
            .panel
            .set_target(profile.map(|profile| profile.name.clone()));
        self.account.target_profile = profile.map(|profile| profile.id.clone());
        self.account.open = true;
    }

    /// Draws the account window (if open) and applies what it asked for.
    pub(super) fn account_window_ui(&mut self, ctx: &egui::Context) {
        if !self.account.open {
            return;
        }
        let mut open = true;
        let mut requested = None;
        let desk = &mut self.account;
        egui::Window::new(ACCOUNT_WINDOW_TITLE)
            .open(&mut open)
            .default_size([560.0, 520.0])
            .show(ctx, |ui| requested = desk.panel.ui(ui, &desk.controller));
        self.account.open &= open;
        if let Some(action) = requested {
            self.apply_account_action(action);
        }
    }

    /// What the account window asked for (the panel only draws and returns it).
    fn apply_account_action(&mut self, action: AccountAction) {
        let desk = &mut self.account;
        match action {
            AccountAction::SignIn { login, remember } => {
                // A pending resume continues only with the same login.
                if desk.resume.as_ref().is_some_and(|resume| {
                    resume.remembered.api_url != login.api_url
                        || resume.remembered.email != login.email
                }) {
                    desk.resume = None;
                }
                desk.controller.sign_in(login, remember);
            }
            AccountAction::SignOut => {
                desk.stop();
                desk.controller.sign_out();
            }
            AccountAction::Connect {
                project_id,
                rights,
                broker,
                broker_ca_file,
            } => {
                desk.resume = None;
                desk.names = None;
                desk.live = Some(LiveAccount {
                    profile_id: desk.target_profile.clone(),
                    broker: Some((broker, broker_ca_file)),
                });
                desk.controller.connect(project_id, rights);
            }
            AccountAction::Disconnect => desk.stop(),
        }
    }

    /// Connecting a saved profile that remembers an aedifion account: sign in with the saved
    /// platform password and resume the account. Returns false for other profiles.
    pub(super) fn connect_account_profile(
        &mut self,
        ctx: &egui::Context,
        profile: &Profile,
    ) -> bool {
        let Some(remembered) = profile.aedifion_account.clone() else {
            return false;
        };
        let password = match resolve_password(profile, None, &*self.secrets) {
            PasswordNeed::Known(Some(password)) => Some(password),
            PasswordNeed::Known(None) | PasswordNeed::Ask { .. } => {
                self.account_password(&profile.id).map(Password::from)
            }
        };
        let desk = &mut self.account;
        desk.stop();
        desk.live = Some(LiveAccount {
            profile_id: Some(profile.id.clone()),
            broker: None,
        });
        let now = desk.controller.clock().now();
        let still_valid = remembered::expires_at(&remembered)
            .is_some_and(|expires_at| expires_at > now + chrono::TimeDelta::seconds(5));
        let oidc = remembered
            .oidc
            .as_ref()
            .map(|oidc| (oidc.issuer.as_str(), oidc.client_id.as_str()));
        desk.panel
            .fill_login(&remembered.api_url, &remembered.email, oidc);
        desk.panel.set_target(Some(profile.name.clone()));
        desk.target_profile = Some(profile.id.clone());
        // Still signed in with this login (e.g. after a Disconnect): no need to ask again.
        let signed_in = matches!(desk.controller.state(), SignInState::SignedIn { .. })
            && desk.controller.login().is_some_and(|login| {
                login.api_url == remembered.api_url && login.email == remembered.email
            });
        if !signed_in {
            desk.controller
                .sign_in(remembered::login_of(&remembered, String::new()), false);
        }
        desk.resume = Some(PendingResume {
            remembered,
            password: password
                .as_ref()
                .map(|password| password.expose().to_owned()),
            window_opened: false,
        });
        if still_valid && password.is_some() {
            // The account still works: look at the building while the sign-in runs.
            self.connect(ctx, profile.clone(), password);
        }
        true
    }

    /// Frame step 1 (after the pumps): takes what the account's threads finished and acts on
    /// it; never blocks.
    pub(super) fn account_before_frame(&mut self, ctx: &egui::Context) {
        self.continue_resume();
        for event in self.account.controller.poll() {
            match event {
                AccountEvent::Connect {
                    project_id,
                    account,
                    plan,
                    expires_at,
                } => self.account_created(ctx, project_id, &account, &plan, expires_at),
                AccountEvent::Renewed {
                    project_id,
                    account,
                    expires_at,
                } => self.account_renewed(project_id, &account, expires_at),
                AccountEvent::DatapointNames {
                    topic_prefix,
                    names,
                } => match topic_prefix {
                    Some(prefix) => self.account.names = Some((prefix, names)),
                    None => self.notices.push(format!(
                        "The platform gave no topic prefix for project {}: its {} datapoint names are not used.",
                        names.project_id,
                        names.pairs.len()
                    )),
                },
            }
        }
        self.learn_pending_names();
    }

    /// A saved profile's sign-in finished: resume its account (or open the window to ask).
    fn continue_resume(&mut self) {
        let desk = &mut self.account;
        let Some(resume) = &mut desk.resume else {
            return;
        };
        match desk.controller.state() {
            SignInState::SignedIn { .. } => {}
            SignInState::Failed(_) => {
                if !resume.window_opened {
                    resume.window_opened = true;
                    desk.open = true;
                }
                return;
            }
            SignInState::SigningIn | SignInState::SignedOut => return,
        }
        let Some(resume) = desk.resume.take() else {
            return;
        };
        let remembered = &resume.remembered;
        let validity_secs = desk.controller.validity_secs();
        let host = local_host_name();
        let lifecycle = resume
            .password
            .and_then(|password| {
                remembered::resume(
                    remembered,
                    password,
                    validity_secs,
                    LifecyclePolicy::default(),
                    &host,
                )
            })
            .unwrap_or_else(|| {
                let request = AccountRequest {
                    project_id: remembered.project_id,
                    rights: remembered.rights,
                    validity_secs,
                    description: Some("TopicScope session".into()),
                };
                Lifecycle::new(request, LifecyclePolicy::default(), &host)
            });
        desk.controller.connect_lifecycle(lifecycle);
    }

    /// A new MQTT account: save the profile with it and connect (again).
    fn account_created(
        &mut self,
        ctx: &egui::Context,
        project_id: u64,
        account: &MqttAccount,
        plan: &crate::account::acl::SubscriptionPlan,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) {
        let Some(login) = self.account.controller.login().cloned() else {
            return;
        };
        let Some(live) = &self.account.live else {
            return;
        };
        let saved = live
            .profile_id
            .as_deref()
            .and_then(|id| self.profiles().get(id))
            .cloned();
        let first = saved.is_none();
        let mut profile = saved.unwrap_or_else(|| Profile {
            name: self.new_account_profile_name(project_id),
            client_id: generate_client_id(),
            ..Profile::default()
        });
        let broker = match &live.broker {
            Some((broker, ca_file)) => {
                if ca_file.is_some() {
                    profile.tls.ca_file.clone_from(ca_file);
                }
                broker.clone()
            }
            None => BrokerEndpoint {
                host: profile.host.clone(),
                port: profile.port,
            },
        };
        configure_profile(
            &mut profile,
            &broker,
            &account.username,
            account.rights,
            plan,
        );
        if self.secrets.available() {
            profile.password_storage = PasswordStorage::Keychain;
        }
        profile.aedifion_account = Some(remembered::remember(
            &login, project_id, account, expires_at,
        ));
        let profile = match self
            .profile_editor
            .save_account_profile(profile.clone(), &account.password)
        {
            Ok((saved, note)) => {
                self.notices.extend(note);
                saved
            }
            Err(error) => {
                self.notices.push(format!(
                    "The profile for the aedifion account was not saved: {error}"
                ));
                if profile.id.is_empty() {
                    profile.id = crate::model::config::profile::new_profile_id();
                }
                profile
            }
        };
        if let Some(live) = &mut self.account.live {
            live.profile_id = Some(profile.id.clone());
        }
        self.account.known_password = Some((profile.id.clone(), account.password.clone()));
        self.account.target_profile = Some(profile.id.clone());
        self.account.panel.set_target(Some(profile.name.clone()));
        if first {
            // The status bar says the rest; the tree is what the user came for.
            self.account.open = false;
        }
        tracing::info!(
            profile = %profile.name,
            mqttuser_id = account.mqttuser_id,
            "connecting with a new aedifion MQTT account"
        );
        self.connect(ctx, profile, Some(account.password.clone().into()));
    }

    fn new_account_profile_name(&self, project_id: u64) -> String {
        let project = self
            .account
            .controller
            .projects()
            .iter()
            .find(|entry| entry.project.id == project_id)
            .map_or_else(
                || format!("project {project_id}"),
                |entry| entry.project.name.clone(),
            );
        let base = format!("aedifion: {project}");
        let taken = |name: &str| self.profiles().find(name).is_some();
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|number| format!("{base} ({number})"))
            .find(|name| !taken(name))
            .unwrap_or(base)
    }

    /// A renewal: the connection stays; the profile remembers the new expiry.
    fn account_renewed(
        &mut self,
        project_id: u64,
        account: &MqttAccount,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) {
        let Some(login) = self.account.controller.login().cloned() else {
            return;
        };
        let Some(id) = self.account.live_profile_id().map(str::to_owned) else {
            return;
        };
        let remembered = remembered::remember(&login, project_id, account, expires_at);
        if let Err(error) = self
            .profile_editor
            .save_aedifion_account(&id, Some(remembered))
        {
            self.notices.push(format!(
                "The renewed aedifion account could not be remembered: {error}"
            ));
        }
    }

    /// Gives the names from the API to the store of the session running the live profile,
    /// once it runs it.
    fn learn_pending_names(&mut self) {
        let Some(id) = self.account.live_profile_id() else {
            return;
        };
        let runs_it = self
            .session()
            .connection()
            .is_some_and(|connection| connection.profile().id == id);
        if !runs_it {
            return;
        }
        let Some((prefix, names)) = self.account.names.take() else {
            return;
        };
        let learned = self
            .session_mut()
            .store_mut()
            .learn_datapoint_names(&prefix, names.iter());
        tracing::info!(
            project = %prefix,
            listed = names.pairs.len(),
            learned,
            "datapoint names from the API"
        );
    }

    /// Before a connection replaces the current one: a profile other than the account's
    /// stops its credentials.
    pub(super) fn account_before_connect(&mut self, profile: &Profile) {
        if self
            .account
            .live
            .as_ref()
            .is_some_and(|live| live.profile_id.as_deref() != Some(profile.id.as_str()))
        {
            self.account.stop();
        }
    }

    /// The user disconnected: the credentials are no longer needed.
    pub(super) fn account_disconnected(&mut self) {
        self.account.stop();
    }

    /// The status bar's credentials part, when the connection shown runs on the account.
    pub(super) fn credentials_view(&self) -> Option<CredentialsView> {
        let id = self.account.live_profile_id()?;
        let shown = self.session().connection()?.profile();
        if shown.id != id {
            return None;
        }
        let controller = &self.account.controller;
        if self.account.resume.is_some() {
            return Some(match controller.state() {
                SignInState::Failed(message) => CredentialsView {
                    text: format!(
                        "aedifion sign-in failed, credentials are not renewed: {message}"
                    ),
                    problem: true,
                },
                _ => CredentialsView {
                    text: "signing in to aedifion…".into(),
                    problem: false,
                },
            });
        }
        let status = controller.keeper_status()?;
        let mut view = CredentialsView {
            problem: status.last_error.is_some(),
            text: status.summary(),
        };
        if let Some(progress) = controller.import_progress() {
            match progress.total_pages {
                Some(pages) => view.text.push_str(&format!(
                    " · reading datapoint names: page {} of {pages}",
                    progress.pages_done
                )),
                None => view.text.push_str(" · reading datapoint names…"),
            }
        }
        if let Some(error) = controller.import_error() {
            view.text.push_str(&format!(" · datapoint names: {error}"));
            view.problem = true;
        }
        Some(view)
    }

    /// The MQTT password last used for `profile_id` in this run, for reconnects when the
    /// keychain has none.
    fn account_password(&self, profile_id: &str) -> Option<String> {
        let (id, password) = self.account.known_password.as_ref()?;
        (id == profile_id).then(|| password.clone())
    }
}
