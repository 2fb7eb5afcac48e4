//! Wires store, worker and panels; owns the per-frame order. OWNER: ui helper.
//!
//! Per frame: (1) [`drain_inbox`] moves decoded messages into the store until the inbox is empty
//! or a time budget is spent (in [`eframe::App::logic`]); (2) one status snapshot becomes the
//! status bar's [`StatusView`]; (3) the panels draw and return [`UiAction`]s; (4) the actions are
//! applied, in one place ([`TopicScopeApp::apply`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::demo::DemoServer;
use crate::model::message::{Message, Nanos, now_nanos};
use crate::model::profile::{PasswordStorage, Profile};
use crate::model::profile_store::ProfileStore;
use crate::model::secret::SecretBackend;
use crate::model::settings::Settings;
use crate::model::store::Store;
use crate::mqtt::status::{SubscriptionState, describe};
use crate::mqtt::worker::{WorkerCommand, WorkerStats};
use crate::mqtt::{
    ConnectParams, ConnectionState, ConnectionStatus, Inbox, InboxStats, StatusCell, WorkerHandle,
};
use crate::ui::UiAction;
use crate::ui::explorer::{Explorer, ExplorerViewState};
use crate::ui::password_prompt::{PasswordPrompt, PromptOutcome};
use crate::ui::profiles::{ProfileAction, ProfilesPanel};
use crate::ui::settings::{SettingsWindow, theme_preference};
use crate::ui::status_bar::{Health, StatusView};
use crate::ui::top_bar::{ConnectionSummary, PickerChoice, TopBar};

mod writes;

/// Key of the explorer's view choices in eframe's storage.
const VIEW_STATE_KEY: &str = "topicscope.explorer_view";

/// Messages taken from the inbox per lock; the drain looks at the clock after each batch. Small,
/// so a frame keeps to its budget: a new topic among 300,000 costs about 20 µs to apply, and
/// batches of 1,024 overshot the 6 ms budget to 26-35 ms (p99) while a retained burst loaded.
pub const DRAIN_BATCH: usize = 128;
/// Time per frame spent applying messages before drawing; the rest waits for the next frame.
/// It stays short even during a flood: a full inbox makes the worker (and through TCP the
/// broker) wait instead of dropping (see `mqtt::inbox`), so a short drain costs latency, not
/// messages, and frames stay short.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(6);

/// Delay between the inbox waking the UI and the repaint, so a burst becomes one frame.
pub const WAKE_REPAINT_DELAY: Duration = Duration::from_millis(16);

/// What one drain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrainReport {
    /// Messages applied to the store.
    pub applied: usize,
    /// The budget ran out with messages still waiting: ask for another frame at once.
    pub more_waiting: bool,
}

/// Applies messages from `inbox` to `store` in batches of [`DRAIN_BATCH`] until the inbox is
/// empty or `budget` is spent. `buffer` is reused between frames to avoid allocating.
pub fn drain_inbox(
    inbox: &Inbox,
    store: &mut Store,
    buffer: &mut Vec<Message>,
    budget: Duration,
) -> DrainReport {
    let started = Instant::now();
    let mut report = DrainReport::default();
    loop {
        buffer.clear();
        let taken = inbox.drain_into(DRAIN_BATCH, buffer);
        for message in buffer.drain(..) {
            store.apply(message);
        }
        report.applied += taken;
        if taken < DRAIN_BATCH {
            return report;
        }
        if started.elapsed() >= budget {
            report.more_waiting = inbox.stats().pending > 0;
            return report;
        }
    }
}

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
        password: Option<String>,
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

/// One connection: its worker (gone after Disconnect) plus the inbox and status it leaves behind.
struct Connection {
    profile: Profile,
    inbox: Arc<Inbox>,
    status: Arc<StatusCell>,
    worker_stats: Arc<WorkerStats>,
    /// `None` once a disconnected worker has ended; the inbox is still drained so nothing
    /// received is lost.
    worker: Option<WorkerHandle>,
    /// Disconnect was asked for; the worker is finishing.
    stopping: bool,
}

/// The whole application: explorer, connection, profiles, settings and their windows.
pub struct TopicScopeApp {
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
    connection: Option<Connection>,
    demo: Option<DemoServer>,
    drain_buffer: Vec<Message>,
    /// Frame-time and throughput probe for `scripts/bench.sh` (only when its variables are set).
    bench_probe: Option<crate::commands::bench::GuiProbe>,
    /// Holds the store below the memory budget measured on the whole process (once per second).
    memory_governor: crate::sysinfo::MemoryGovernor,
    /// Problems to show under the top bar until dismissed.
    notices: Vec<String>,
    /// Publish, setpoint and audit windows with the write gate (see `app/writes.rs`).
    writes: crate::ui::writes::WriteDesk,
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
            limits.memory_budget_bytes = crate::model::settings::mib_to_bytes(mib);
        }
        let mut top_bar = TopBar::default();
        if let Some(id) = settings
            .last_profile_id
            .as_ref()
            .filter(|id| profiles.get(id).is_some())
        {
            top_bar.choice = PickerChoice::Saved(id.clone());
        }
        let shared: Box<dyn SecretBackend> = Box::new(SharedSecrets(secrets.clone()));
        let audit = crate::model::audit::AuditLog::new(options.config_dir.clone());
        let mut app = Self {
            writes: crate::ui::writes::WriteDesk::new(Some(audit)),
            explorer: Explorer::with_view_state(Store::new(limits), view),
            about: crate::ui::about::AboutWindow::new(options.config_dir.clone()),
            config_dir: options.config_dir,
            settings,
            profile_editor: ProfilesPanel::new(profiles, shared),
            secrets,
            top_bar,
            settings_window: SettingsWindow::default(),
            profile_editor_open: false,
            password_prompt: None,
            connection: None,
            demo: None,
            drain_buffer: Vec::with_capacity(DRAIN_BATCH),
            bench_probe: crate::commands::bench::GuiProbe::from_env(),
            memory_governor: crate::sysinfo::MemoryGovernor::new(),
            notices,
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

    /// The explorer (store and panels).
    pub fn explorer(&self) -> &Explorer {
        &self.explorer
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
        self.connection
            .as_ref()
            .map(|connection| &connection.profile)
    }

    /// Frame steps 1–2: applies waiting messages within the time budget and reads the status.
    pub fn before_frame(&mut self, ctx: &egui::Context) {
        let now = now_nanos();
        let inbox_capacity = self
            .connection
            .as_ref()
            .map_or(self.settings.inbox_capacity_messages, |connection| {
                connection.inbox.capacity()
            });
        self.memory_governor
            .tick(self.explorer.store_mut(), inbox_capacity);
        let Some(connection) = &mut self.connection else {
            self.explorer
                .set_status(status_view(None, InboxStats::default(), now));
            return;
        };
        let report = drain_inbox(
            &connection.inbox,
            self.explorer.store_mut(),
            &mut self.drain_buffer,
            DRAIN_BUDGET,
        );
        if report.more_waiting {
            ctx.request_repaint();
        }
        if connection.stopping
            && connection
                .worker
                .as_ref()
                .is_some_and(|worker| !worker.running())
        {
            connection.worker = None;
        }
        let status = connection.status.snapshot();
        // The status cell has no waker: poll it while a worker runs (cheap, and only then).
        if connection.worker.is_some() {
            let busy = !matches!(status.state, ConnectionState::Connected { .. });
            ctx.request_repaint_after(if busy {
                STATUS_POLL_BUSY
            } else {
                STATUS_POLL_IDLE
            });
        }
        let mut view = status_view(Some(&status), connection.inbox.stats(), now);
        view.oversize_refused = connection.worker_stats.snapshot().oversize_packets_refused;
        self.explorer.set_status(view);
    }

    /// Frame steps 3–4: draws everything into `ui`, then applies what the panels asked for.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
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
        actions.extend(self.explorer.ui(ui));
        self.windows_ui(ui.ctx());
        self.writes_ui(ui.ctx());
        for action in actions {
            self.apply(ui.ctx(), action);
        }
    }

    /// Applies one action (the single place where panels' requests change state).
    pub fn apply(&mut self, ctx: &egui::Context, action: UiAction) {
        let Some(action) = self.explorer.apply(action) else {
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
            UiAction::Disconnect => self.disconnect(),
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
        let Some(connection) = &self.connection else {
            return ConnectionSummary::default();
        };
        ConnectionSummary {
            active: connection.worker.is_some() && !connection.stopping,
            profile_name: connection.profile.name.clone(),
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
        self.about.show(ctx);
        if let Some(prompt) = &mut self.password_prompt
            && let Some(outcome) = prompt.show(ctx)
        {
            self.password_prompt = None;
            if let PromptOutcome::Connect { profile, password } = outcome {
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
        if let Some(ProfileAction::Connect { profile, password }) = requested {
            // The editor asked for any password it needed; a profile without one connects as is.
            self.profile_editor_open = false;
            self.connect(ctx, profile, password);
        }
    }

    fn apply_settings(&mut self, ctx: &egui::Context, settings: Settings) {
        ctx.set_theme(theme_preference(settings.theme));
        self.explorer
            .store_mut()
            .set_limits(settings.limits.to_limits());
        if let Err(error) = settings.save(&self.config_dir) {
            self.notices.push(error.to_string());
        }
        self.settings = settings;
    }

    /// Connects with `profile`, taking its password from the keychain or asking for it.
    fn connect_with_stored_password(&mut self, ctx: &egui::Context, profile: Profile) {
        match profile.password_storage {
            PasswordStorage::None => self.connect(ctx, profile, None),
            PasswordStorage::Ask => self.password_prompt = Some(PasswordPrompt::new(profile, None)),
            PasswordStorage::Keychain => match self.secrets.get(&profile.id) {
                Ok(Some(password)) => self.connect(ctx, profile, Some(password)),
                Ok(None) => {
                    let reason =
                        "No password is stored in the keychain for this profile.".to_owned();
                    self.password_prompt = Some(PasswordPrompt::new(profile, Some(reason)));
                }
                Err(error) => {
                    self.password_prompt =
                        Some(PasswordPrompt::new(profile, Some(error.to_string())))
                }
            },
        }
    }

    fn connect_demo(&mut self, ctx: &egui::Context) {
        let profile = Profile {
            id: DEMO_PROFILE_ID.to_owned(),
            name: crate::ui::top_bar::DEMO_ENTRY.to_owned(),
            ..crate::model::profile::Preset::Demo.profile()
        };
        self.connect(ctx, profile, None);
    }

    /// Replaces the current connection with one for `profile`. What was received is kept when
    /// reconnecting with the same profile and forgotten otherwise.
    fn connect(&mut self, ctx: &egui::Context, mut profile: Profile, password: Option<String>) {
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
        let same_profile = self
            .connection
            .as_ref()
            .is_some_and(|connection| connection.profile.id == profile.id);
        self.connection = None;
        if !same_profile {
            self.explorer.clear();
        }
        let inbox = Inbox::new(crate::model::memory_budget::inbox_capacity_for_budget(
            self.settings.inbox_capacity_messages,
            self.explorer.store().limits().memory_budget_bytes as u64,
        ));
        let waker_ctx = ctx.clone();
        inbox.set_waker(Box::new(move || {
            waker_ctx.request_repaint_after(WAKE_REPAINT_DELAY)
        }));
        let params = ConnectParams {
            profile: profile.clone(),
            password,
            max_packet_bytes: self.settings.max_packet_bytes,
        };
        match WorkerHandle::spawn(params, inbox.clone()) {
            Ok(worker) => {
                tracing::info!(broker = %profile.display_url(), "connecting");
                self.remember_choice(&profile);
                self.connection = Some(Connection {
                    profile,
                    inbox,
                    status: worker.status.clone(),
                    worker_stats: worker.stats.clone(),
                    worker: Some(worker),
                    stopping: false,
                });
            }
            Err(error) => self
                .notices
                .push(format!("Could not start the connection thread: {error}. Close other programs or restart TopicScope.")),
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
        let (inbox, status) = match &self.connection {
            Some(connection) => (connection.inbox.stats(), Some(connection.status.snapshot())),
            None => (InboxStats::default(), None),
        };
        let outcome = probe.end_frame(self.explorer.store(), inbox, status.as_ref());
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
        if let Some(connection) = &mut self.connection
            && let Some(worker) = &connection.worker
        {
            // Keep the handle until the thread ends, so the status shows the clean disconnect.
            // If the queue is full, dropping the handle later still stops the worker.
            worker.send(WorkerCommand::Stop);
            connection.stopping = true;
        }
    }
}

/// Lets the app (quick connect from the top bar) and the profile editor share one secret store.
struct SharedSecrets(Arc<dyn SecretBackend>);

impl SecretBackend for SharedSecrets {
    fn get(&self, profile_id: &str) -> Result<Option<String>, crate::model::secret::SecretError> {
        self.0.get(profile_id)
    }

    fn set(
        &self,
        profile_id: &str,
        password: &str,
    ) -> Result<(), crate::model::secret::SecretError> {
        self.0.set(profile_id, password)
    }

    fn delete(&self, profile_id: &str) -> Result<(), crate::model::secret::SecretError> {
        self.0.delete(profile_id)
    }

    fn available(&self) -> bool {
        self.0.available()
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
    use crate::model::message::Qos;
    use crate::model::store::Limits;
    use crate::mqtt::SubscriptionState;

    fn message(n: usize) -> Message {
        Message::new(
            format!("t/{n}"),
            bytes::Bytes::from(n.to_string()),
            Qos::AtMostOnce,
            false,
            1,
        )
    }

    #[test]
    fn drain_applies_everything_waiting_when_the_budget_allows() {
        let inbox = Inbox::new(10_000);
        for n in 0..3000 {
            inbox.push(message(n));
        }
        let mut store = Store::new(Limits::default());
        let report = drain_inbox(&inbox, &mut store, &mut Vec::new(), Duration::from_secs(60));
        assert_eq!(
            report,
            DrainReport {
                applied: 3000,
                more_waiting: false
            }
        );
        assert_eq!(store.stats().messages_applied, 3000);
        assert_eq!(inbox.stats().pending, 0);
    }

    #[test]
    fn drain_stops_after_a_batch_when_the_budget_is_spent() {
        let inbox = Inbox::new(10_000);
        for n in 0..(DRAIN_BATCH * 3) {
            inbox.push(message(n));
        }
        let mut store = Store::new(Limits::default());
        let report = drain_inbox(&inbox, &mut store, &mut Vec::new(), Duration::ZERO);
        assert_eq!(
            report,
            DrainReport {
                applied: DRAIN_BATCH,
                more_waiting: true
            }
        );
        assert_eq!(inbox.stats().pending, (DRAIN_BATCH * 2) as u64);
    }

    #[test]
    fn status_view_carries_inbox_counters_and_refusals() {
        let status = ConnectionStatus {
            state: ConnectionState::Connected { since_nanos: 0 },
            subscriptions: vec![
                ("a/#".to_owned(), SubscriptionState::Granted(1)),
                ("secret/#".to_owned(), SubscriptionState::Refused),
            ],
            broker: "example:1883".to_owned(),
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
