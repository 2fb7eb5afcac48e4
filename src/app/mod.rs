//! The window: holds the sessions (one today) and the panels, and owns the per-frame order.
//!
//! Per frame: (1) each session's [`Session::pump`] moves decoded messages into its store until
//! its source is empty or a time budget is spent (in [`eframe::App::logic`]), and one status
//! snapshot becomes the status bar's [`StatusView`]; (2) the explorer's logic step (the busiest
//! ranking); (3) the panels draw from `&Store` and return [`UiAction`]s; (4) the actions are
//! applied, in one place ([`TopicScopeApp::apply`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::demo::DemoServer;
use crate::model::config::profile::Profile;
use crate::model::config::profile_store::ProfileStore;
use crate::model::config::secret::SecretBackend;
use crate::model::config::secret::{PasswordNeed, resolve_password};
use crate::model::config::settings::Settings;
use crate::model::store::Store;
use crate::model::store::memory_budget::inbox_capacity_for_budget;
use crate::model::time::{Nanos, now_nanos};
use crate::mqtt::status::{SubscriptionState, describe};
use crate::mqtt::{ConnectionState, ConnectionStatus, InboxStats};
use crate::session::{ConnectOptions, Connection, Session, Source};
use crate::ui::UiAction;
use crate::ui::explorer::{Explorer, ExplorerViewState};
use crate::ui::password_prompt::{PasswordPrompt, PromptOutcome};
use crate::ui::profiles::{ProfileAction, ProfilesPanel};
use crate::ui::settings::{SettingsWindow, theme_preference};
use crate::ui::status_bar::{Health, StatusView};
use crate::ui::top_bar::{ConnectionSummary, PickerChoice, TopBar};

mod aedifion;
pub mod bench_probe;
mod writes;

pub use aedifion::ACCOUNT_WINDOW_TITLE;

/// Key of the explorer's view choices in eframe's storage.
const VIEW_STATE_KEY: &str = "topicscope.explorer_view";

/// Time per frame spent applying messages before drawing; the rest waits for the next frame.
/// It stays short even during a flood: a full inbox makes the worker (and through TCP the
/// broker) wait instead of dropping (see `mqtt::inbox`), so a short drain costs latency, not
/// messages, and frames stay short.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(6);

/// Delay between the inbox waking the UI and the repaint, so a burst becomes one frame.
pub const WAKE_REPAINT_DELAY: Duration = Duration::from_millis(16);

/// The status bar's view of a connection (`None`: nothing connected) and its inbox.
pub fn status_view(
    status: Option<&ConnectionStatus>,
    inbox: InboxStats,
    now_nanos: Nanos,
) -> StatusView {
    let (connection, health, refused_subscriptions, subscriptions) = match status {
        None => (
            "Not connected".to_owned(),
            Health::Idle,
            Vec::new(),
            Vec::new(),
        ),
        Some(status) => (
            describe(status, now_nanos),
            health_of(&status.state),
            status.refused_filters().map(str::to_owned).collect(),
            status
                .subscriptions
                .iter()
                .map(|(filter, state)| (filter.clone(), describe_subscription(state)))
                .collect(),
        ),
    };
    StatusView {
        connection,
        health,
        refused_subscriptions,
        subscriptions,
        received: inbox.received,
        dropped: inbox.dropped,
        pending: inbox.pending,
        oversize_refused: 0,
        holding_back: inbox.holding_back,
        stalls: inbox.stalls,
        credentials: None,
        security_warnings: Vec::new(),
    }
}

fn describe_subscription(state: &SubscriptionState) -> String {
    match state {
        SubscriptionState::Pending => "waiting for the broker".to_owned(),
        SubscriptionState::Granted(qos) => format!("granted, QoS {qos}"),
        SubscriptionState::Refused => {
            "refused by the broker (outside your account's permissions?)".to_owned()
        }
    }
}

fn health_of(state: &ConnectionState) -> Health {
    match state {
        ConnectionState::Idle | ConnectionState::Stopped => Health::Idle,
        ConnectionState::Connecting { .. } => Health::Busy,
        ConnectionState::Connected { .. } => Health::Ok,
        ConnectionState::Failed { .. } => Health::Error,
    }
}

/// Repaint interval while connecting or waiting to retry (the status text counts down).
const STATUS_POLL_BUSY: Duration = Duration::from_millis(250);
/// Repaint interval while a connection is up and quiet, so a lost connection shows promptly.
const STATUS_POLL_IDLE: Duration = Duration::from_secs(1);
/// Id of the built-in demo's profile, so reconnecting to the demo keeps what was received.
const DEMO_PROFILE_ID: &str = "builtin-demo";

/// What to do at start.
#[derive(Debug, Clone, PartialEq)]
pub enum Startup {
    /// First start (no saved profile): the demo. Otherwise wait, with the last used profile
    /// chosen in the picker.
    Auto,
    /// Connect with this profile; without a password one is looked up (keychain) or asked for.
    Connect {
        profile: Box<Profile>,
        password: Option<crate::model::config::secret::Password>,
    },
    /// Start without connecting.
    Idle,
}

/// How the app was started (from the command line).
#[derive(Debug)]
pub struct AppOptions {
    /// Where `profiles.toml` and `settings.toml` live.
    pub config_dir: PathBuf,
    /// The saved profiles, already opened (so a bad file is backed up and reported only once).
    pub profiles: ProfileStore,
    pub startup: Startup,
    /// Overrides the settings' memory budget for this run (MiB).
    pub memory_budget_mib: Option<u64>,
}

/// The whole application: sessions, explorer, profiles, settings and their windows.
pub struct TopicScopeApp {
    /// The data sources and their stores; never empty, the first is the one shown (several
    /// connections side by side will show one tab each).
    sessions: Vec<Session>,
    explorer: Explorer,
    config_dir: PathBuf,
    settings: Settings,
    /// The profile editor; it owns the saved profiles.
    profile_editor: ProfilesPanel,
    secrets: Arc<dyn SecretBackend>,
    top_bar: TopBar,
    settings_window: SettingsWindow,
    profile_editor_open: bool,
    password_prompt: Option<PasswordPrompt>,
    /// The prompt was opened by the profile editor, which closes when it connects.
    prompt_from_editor: bool,
    demo: Option<DemoServer>,
    /// Frame-time and throughput probe for `scripts/bench.sh` (only when its variables are set).
    bench_probe: Option<bench_probe::GuiProbe>,
    /// Problems to show under the top bar until dismissed.
    notices: Vec<String>,
    /// Publish, setpoint and audit windows with the write gate (see `app/writes.rs`).
    writes: crate::ui::writes::WriteDesk,
    /// The aedifion account window and its credentials (see `app/aedifion.rs`).
    account: aedifion::AccountDesk,
    about: crate::ui::about::AboutWindow,
}

impl TopicScopeApp {
    /// The app for eframe: restores the view choices, uses the OS keychain.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let view = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, VIEW_STATE_KEY))
            .unwrap_or_default();
        let secrets: Arc<dyn SecretBackend> = Arc::new(crate::secrets::SecretStore::os());
        Self::new(&cc.egui_ctx, options, secrets, view)
    }

    /// The app with explicit collaborators (tests pass an in-memory secret store).
    pub fn new(
        ctx: &egui::Context,
        options: AppOptions,
        secrets: Arc<dyn SecretBackend>,
        view: ExplorerViewState,
    ) -> Self {
        let mut notices = Vec::new();
        let loaded = Settings::load(&options.config_dir);
        notices.extend(loaded.warning);
        let settings = loaded.settings;
        let profiles = options.profiles;
        notices.extend(profiles.load_warning().map(ToString::to_string));
        ctx.set_theme(theme_preference(settings.theme));

        let mut limits = settings.limits.to_limits();
        if let Some(mib) = options.memory_budget_mib {
            limits.memory_budget_bytes = crate::model::config::settings::mib_to_bytes(mib);
        }
        let mut top_bar = TopBar::default();
        if let Some(id) = settings
            .last_profile_id
            .as_ref()
            .filter(|id| profiles.get(id).is_some())
        {
            top_bar.choice = PickerChoice::Saved(id.clone());
        }
        let shared: Box<dyn SecretBackend> = Box::new(secrets.clone());
        let audit = settings.audit_log(&options.config_dir);
        let mut app = Self {
            writes: crate::ui::writes::WriteDesk::new(Some(audit)),
            sessions: vec![Session::without_source(Store::new(limits))],
            explorer: Explorer::with_view_state(view),
            about: crate::ui::about::AboutWindow::new(options.config_dir.clone()),
            config_dir: options.config_dir,
            settings,
            profile_editor: ProfilesPanel::new(profiles, shared),
            secrets: secrets.clone(),
            top_bar,
            settings_window: SettingsWindow::default(),
            profile_editor_open: false,
            password_prompt: None,
            prompt_from_editor: false,
            demo: None,
            bench_probe: bench_probe::GuiProbe::from_env(),
            notices,
            account: aedifion::AccountDesk::new(ctx, secrets.clone()),
        };
        match options.startup {
            Startup::Auto if app.profiles().profiles().is_empty() => app.connect_demo(ctx),
            // `--demo`: the built-in demo, unless a saved demo profile was named.
            Startup::Connect { profile, .. }
                if profile.demo && app.profiles().get(&profile.id).is_none() =>
            {
                app.connect_demo(ctx)
            }
            Startup::Auto | Startup::Idle => {}
            Startup::Connect {
                profile,
                password: Some(password),
            } => app.connect(ctx, *profile, Some(password)),
            Startup::Connect {
                profile,
                password: None,
            } => app.connect_with_stored_password(ctx, *profile),
        }
        app
    }

    /// The explorer (the panels and their view state).
    pub fn explorer(&self) -> &Explorer {
        &self.explorer
    }

    /// The session shown.
    pub fn session(&self) -> &Session {
        &self.sessions[0]
    }

    fn session_mut(&mut self) -> &mut Session {
        &mut self.sessions[0]
    }

    /// The store of the session shown.
    pub fn store(&self) -> &Store {
        self.session().store()
    }

    /// The settings in effect.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The saved profiles.
    pub fn profiles(&self) -> &ProfileStore {
        self.profile_editor.store()
    }

    /// Problems shown under the top bar.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The port of the running demo broker, if started.
    pub fn demo_port(&self) -> Option<u16> {
        self.demo.as_ref().map(DemoServer::port)
    }

    /// The profile of the current (or last) connection.
    pub fn connected_profile(&self) -> Option<&Profile> {
        self.session().connection().map(Connection::profile)
    }

    /// Frame step 1: pumps every session within the time budget and reads the status.
    pub fn before_frame(&mut self, ctx: &egui::Context) {
        let now = now_nanos();
        let budget = DRAIN_BUDGET / u32::try_from(self.sessions.len()).unwrap_or(1).max(1);
        for session in &mut self.sessions {
            if session.pump(budget).more_waiting {
                ctx.request_repaint();
            }
            // The status cell has no waker: poll it while a worker runs (cheap, and only then).
            if let Some(connection) = session.connection().filter(|c| c.running()) {
                let connected = connection.status().connected();
                ctx.request_repaint_after(if connected {
                    STATUS_POLL_IDLE
                } else {
                    STATUS_POLL_BUSY
                });
            }
        }
        let view = match self.session().connection() {
            None => status_view(None, InboxStats::default(), now),
            Some(connection) => {
                let mut view =
                    status_view(Some(&connection.status()), connection.inbox_stats(), now);
                view.oversize_refused = connection.worker_counters().oversize_packets_refused;
                if connection.status().connected() {
                    view.security_warnings = connection.security_warnings();
                }
                view
            }
        };
        self.account_before_frame(ctx);
        let view = StatusView {
            credentials: self.credentials_view(),
            ..view
        };
        self.explorer.set_status(view);
    }

    /// Frame steps 2–4: the explorer's logic, then draws everything into `ui`, then applies
    /// what the panels asked for.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.explorer.logic(self.sessions[0].store_mut());
        self.writes_before_frame(ui.ctx());
        let mut actions = Vec::new();
        let summary = self.connection_summary();
        egui::Panel::top("top_bar").show(ui, |ui| {
            self.top_bar.ui(
                ui,
                self.profile_editor.store().profiles(),
                &summary,
                &mut actions,
            );
            self.notices_ui(ui);
        });
        actions.extend(self.explorer.ui(ui, self.sessions[0].store()));
        self.windows_ui(ui.ctx());
        self.writes_ui(ui.ctx());
        for action in actions {
            self.apply(ui.ctx(), action);
        }
    }

    /// Applies one action (the single place where panels' requests change state).
    pub fn apply(&mut self, ctx: &egui::Context, action: UiAction) {
        let Some(action) = self.explorer.apply(action, self.sessions[0].store_mut()) else {
            return;
        };
        match action {
            UiAction::Connect { profile, password } => match password {
                Some(password) => self.connect(ctx, *profile, Some(password)),
                None => self.connect_with_stored_password(ctx, *profile),
            },
            UiAction::ConnectSaved { profile_id } => match self.profiles().get(&profile_id) {
                Some(profile) => self.connect_with_stored_password(ctx, profile.clone()),
                None => self
                    .notices
                    .push(format!("The profile {profile_id} no longer exists.")),
            },
            UiAction::ConnectDemo => self.connect_demo(ctx),
            UiAction::Disconnect => {
                self.account_disconnected();
                self.disconnect();
            }
            UiAction::OpenAedifionAccount => self.open_account_window(None),
            UiAction::OpenProfileEditor => {
                if let PickerChoice::Saved(id) = &self.top_bar.choice {
                    self.profile_editor.select(id);
                }
                self.profile_editor_open = true;
            }
            UiAction::OpenSettings => self.settings_window.open(&self.settings),
            UiAction::OpenAbout => self.about.open(),
            ref write if self.apply_write_action(write) => {}
            // The explorer applied everything else.
            _ => {}
        }
    }

    fn connection_summary(&self) -> ConnectionSummary {
        let Some(connection) = self.session().connection() else {
            return ConnectionSummary::default();
        };
        ConnectionSummary {
            active: connection.active(),
            profile_name: connection.profile().name.clone(),
            health: self.explorer.status().health,
            read_only: self.writes.read_only(),
        }
    }

    fn notices_ui(&mut self, ui: &mut egui::Ui) {
        let warning = crate::ui::theme::Palette::for_ui(ui).warning;
        let mut dismissed = None;
        for (index, notice) in self.notices.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.small_button("Dismiss").clicked() {
                    dismissed = Some(index);
                }
                ui.add(egui::Label::new(egui::RichText::new(notice).color(warning)).wrap());
            });
        }
        if let Some(index) = dismissed {
            self.notices.remove(index);
        }
    }

    fn windows_ui(&mut self, ctx: &egui::Context) {
        if let Some(settings) = self.settings_window.show(ctx) {
            self.apply_settings(ctx, settings);
        }
        self.profile_editor_ui(ctx);
        self.account_window_ui(ctx);
        self.about.show(ctx);
        if let Some(prompt) = &mut self.password_prompt
            && let Some(outcome) = prompt.show(ctx)
        {
            self.password_prompt = None;
            if let PromptOutcome::Connect { profile, password } = outcome {
                self.profile_editor_open &= !self.prompt_from_editor;
                self.connect(ctx, *profile, Some(password));
            }
        }
    }

    fn profile_editor_ui(&mut self, ctx: &egui::Context) {
        if !self.profile_editor_open {
            return;
        }
        let mut open = true;
        let mut requested = None;
        egui::Window::new("Connection profiles")
            .open(&mut open)
            .default_size([760.0, 600.0])
            .show(ctx, |ui| requested = self.profile_editor.ui(ui));
        self.profile_editor_open = open;
        match requested {
            Some(
                ProfileAction::Connect { profile, .. } | ProfileAction::AskPassword { profile, .. },
            ) if profile.aedifion_account.is_some() => {
                self.profile_editor_open = false;
                self.connect_account_profile(ctx, &profile);
            }
            Some(ProfileAction::SignInToAedifion { profile_id }) => {
                self.open_account_window(profile_id);
            }
            Some(ProfileAction::Connect { profile, password }) => {
                self.profile_editor_open = false;
                self.connect(ctx, profile, password);
            }
            Some(ProfileAction::AskPassword { profile, reason }) => {
                self.password_prompt = Some(PasswordPrompt::new(profile, reason));
                self.prompt_from_editor = true;
            }
            None => {}
        }
    }

    fn apply_settings(&mut self, ctx: &egui::Context, settings: Settings) {
        ctx.set_theme(theme_preference(settings.theme));
        self.session_mut()
            .store_mut()
            .set_limits(settings.limits.to_limits());
        if let Err(error) = settings.save(&self.config_dir) {
            self.notices.push(error.to_string());
        }
        self.settings = settings;
    }

    /// Connects with `profile`, taking its password from the keychain or asking for it.
    fn connect_with_stored_password(&mut self, ctx: &egui::Context, profile: Profile) {
        if self.connect_account_profile(ctx, &profile) {
            return;
        }
        match resolve_password(&profile, None, &*self.secrets) {
            PasswordNeed::Known(password) => self.connect(ctx, profile, password),
            PasswordNeed::Ask { reason } => {
                self.password_prompt = Some(PasswordPrompt::new(profile, reason));
                self.prompt_from_editor = false;
            }
        }
    }

    fn connect_demo(&mut self, ctx: &egui::Context) {
        let profile = Profile {
            id: DEMO_PROFILE_ID.to_owned(),
            name: crate::ui::top_bar::DEMO_ENTRY.to_owned(),
            ..crate::model::config::presets::Preset::Demo.profile()
        };
        self.connect(ctx, profile, None);
    }

    /// Replaces the current connection with one for `profile`. What was received is kept when
    /// reconnecting with the same profile and forgotten otherwise.
    fn connect(
        &mut self,
        ctx: &egui::Context,
        mut profile: Profile,
        password: Option<crate::model::config::secret::Password>,
    ) {
        self.account_before_connect(&profile);
        if profile.demo {
            match self.start_demo() {
                Ok(port) => {
                    profile.host = "127.0.0.1".to_owned();
                    profile.port = port;
                }
                Err(message) => {
                    self.notices.push(message);
                    return;
                }
            }
        }
        let session = &mut self.sessions[0];
        let same_profile = session
            .connection()
            .is_some_and(|connection| connection.profile().id == profile.id);
        if !same_profile {
            session.store_mut().clear();
            self.explorer.clear_selection();
        }
        let options = ConnectOptions {
            inbox_capacity_messages: inbox_capacity_for_budget(
                self.settings.inbox_capacity_messages,
                session.store().limits().memory_budget_bytes as u64,
            ),
            max_packet_bytes: self.settings.max_packet_bytes,
        };
        let waker_ctx = ctx.clone();
        let waker = Box::new(move || waker_ctx.request_repaint_after(WAKE_REPAINT_DELAY));
        match Connection::start(profile.clone(), password, options, Some(waker)) {
            Ok(connection) => {
                session.set_source(Source::Live(connection));
                self.remember_choice(&profile);
            }
            Err(error) => self.notices.push(error.to_string()),
        }
    }

    /// Starts the demo broker and simulator once; returns its port.
    fn start_demo(&mut self) -> Result<u16, String> {
        if let Some(demo) = &self.demo {
            return Ok(demo.port());
        }
        let demo = DemoServer::start()
            .map_err(|error| format!("The built-in demo could not start: {error}"))?;
        let port = demo.port();
        self.demo = Some(demo);
        Ok(port)
    }

    fn remember_choice(&mut self, profile: &Profile) {
        if profile.id == DEMO_PROFILE_ID {
            self.top_bar.choice = PickerChoice::Demo;
            return;
        }
        if self.profiles().get(&profile.id).is_none() {
            return;
        }
        self.top_bar.choice = PickerChoice::Saved(profile.id.clone());
        if self.settings.last_profile_id.as_deref() != Some(profile.id.as_str()) {
            self.settings.last_profile_id = Some(profile.id.clone());
            if let Err(error) = self.settings.save(&self.config_dir) {
                self.notices.push(error.to_string());
            }
        }
    }

    /// Ends the bench probe's frame measurement and applies what it asks for (bench runs only).
    fn after_frame_probe(&mut self, ctx: &egui::Context) {
        let Some(probe) = &mut self.bench_probe else {
            return;
        };
        let session = &self.sessions[0];
        let outcome = probe.end_frame(
            session.store(),
            session.inbox_stats(),
            session.status().as_ref(),
        );
        for action in outcome.actions {
            self.apply(ctx, action);
        }
        if outcome.close {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        // Keep probing (phase file, figures) while idle.
        ctx.request_repaint_after(Duration::from_secs(1));
    }

    /// Stops the worker; messages it already received are still applied.
    fn disconnect(&mut self) {
        if let Some(connection) = self.session_mut().connection_mut() {
            // The connection stays until its thread ends, so the status shows the clean
            // disconnect.
            connection.stop();
        }
    }
}

impl eframe::App for TopicScopeApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if let Some(probe) = &mut self.bench_probe {
            probe.begin_frame();
        }
        self.before_frame(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
        self.after_frame_probe(ui.ctx());
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, VIEW_STATE_KEY, &self.explorer.view_state());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_view_carries_inbox_counters_and_refusals() {
        let status = ConnectionStatus {
            state: ConnectionState::Connected { since_nanos: 0 },
            subscriptions: vec![
                ("a/#".to_owned(), SubscriptionState::Granted(1)),
                ("secret/#".to_owned(), SubscriptionState::Refused),
            ],
            broker: "example:1883".to_owned(),
            last_failure: None,
        };
        let inbox = InboxStats {
            received: 10,
            dropped: 4,
            drained: 5,
            pending: 1,
            holding_back: true,
            waited_ms: 1500,
            stalls: 2,
        };
        let view = status_view(Some(&status), inbox, 0);
        assert_eq!(view.health, Health::Ok);
        assert!(
            view.connection.contains("example:1883"),
            "{}",
            view.connection
        );
        assert_eq!(view.refused_subscriptions, ["secret/#"]);
        assert_eq!(
            view.subscriptions,
            [
                ("a/#".to_owned(), "granted, QoS 1".to_owned()),
                (
                    "secret/#".to_owned(),
                    "refused by the broker (outside your account's permissions?)".to_owned()
                ),
            ]
        );
        assert_eq!((view.received, view.dropped, view.pending), (10, 4, 1));
        assert_eq!((view.holding_back, view.stalls), (true, 2));
    }

    #[test]
    fn no_connection_reads_not_connected() {
        let view = status_view(None, InboxStats::default(), 0);
        assert_eq!(
            (view.connection.as_str(), view.health),
            ("Not connected", Health::Idle)
        );
    }
}
