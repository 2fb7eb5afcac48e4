//! What the account panel (and the app) drive, without egui: sign-in and the project list on a
//! background thread, then for the chosen project the credential keeper and the datapoint-name
//! import. Call [`AccountController::poll`] once per frame: it never blocks, and returns what
//! the app must act on (new credentials to connect with, datapoint names for the store).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use super::acl::{SubscriptionPlan, subscription_plan};
use super::api::{ApiError, ProjectWithContext, Rights};
use super::client::{AedifionClient, Login};
use super::clock::Clock;
use super::credentials::local_host_name;
use super::datapoints::{DatapointImport, DatapointNames, ImportError, ImportProgress};
use super::http::HttpTransport;
use super::keeper::{CredentialKeeper, KeeperSettings, KeeperStatus};
use super::lifecycle::{AccountRequest, Lifecycle, LifecyclePolicy, MqttAccount};
use super::secrets::PlatformSecrets;
use super::ureq_transport::{TransportSettings, UreqTransport};
use crate::model::config::secret::SecretBackend;

/// A callback that asks the window for a repaint; must not block.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Where the sign-in is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignInState {
    /// Not signed in.
    #[default]
    SignedOut,
    /// Waiting for the platform.
    SigningIn,
    /// Signed in; the projects are known.
    SignedIn {
        /// The e-mail address.
        email: String,
    },
    /// The sign-in failed, for this reason.
    Failed(String),
}

/// What the app must act on after a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountEvent {
    /// Connect (again) with these credentials and subscriptions: a new account was created.
    Connect {
        /// The project.
        project_id: u64,
        /// User name, password, expiry, ACL.
        account: MqttAccount,
        /// What to subscribe to.
        plan: SubscriptionPlan,
    },
    /// Names for the store: `Store::learn_datapoint_names(prefix, names.iter())`.
    DatapointNames {
        /// `lbg/handle`, if the project list gave it.
        topic_prefix: Option<String>,
        /// The names.
        names: DatapointNames,
    },
}

/// A finished sign-in: the client, the projects, and a note about the keychain (if any).
type SignInResult = Result<(Arc<AedifionClient>, Vec<ProjectWithContext>, Option<String>), String>;

struct Connection {
    project_id: u64,
    keeper: CredentialKeeper,
    generation: u64,
}

/// The account's background work and its state.
pub struct AccountController {
    clock: Arc<dyn Clock>,
    transport: Option<Arc<dyn HttpTransport>>,
    secrets: Option<Arc<dyn SecretBackend>>,
    notify: Option<Notify>,
    keeper_settings: KeeperSettings,
    state: SignInState,
    pending: Option<Receiver<SignInResult>>,
    client: Option<Arc<AedifionClient>>,
    projects: Vec<ProjectWithContext>,
    connection: Option<Connection>,
    import: Option<DatapointImport>,
    import_error: Option<String>,
    keychain_note: Option<String>,
    validity_secs: u32,
}

impl std::fmt::Debug for AccountController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountController")
            .field("state", &self.state)
            .field("projects", &self.projects.len())
            .finish_non_exhaustive()
    }
}

impl AccountController {
    /// A controller using the real HTTP client (created on the sign-in thread) and `clock`.
    pub fn new(clock: Arc<dyn Clock>, notify: Option<Notify>) -> Self {
        Self {
            clock,
            transport: None,
            secrets: None,
            notify,
            keeper_settings: KeeperSettings::default(),
            state: SignInState::SignedOut,
            pending: None,
            client: None,
            projects: Vec::new(),
            connection: None,
            import: None,
            import_error: None,
            keychain_note: None,
            validity_secs: super::api::MAX_VALIDITY_SECS,
        }
    }

    /// Uses `transport` instead of the real client (and tests may shorten waits and validity).
    pub fn with_transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Keeps the platform password in `secrets`, the same keychain as broker passwords: a
    /// sign-in with an empty password uses the saved one.
    pub fn with_secrets(mut self, secrets: Arc<dyn SecretBackend>) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Keeper settings (tests poll the clock more often).
    pub fn with_keeper_settings(mut self, settings: KeeperSettings) -> Self {
        self.keeper_settings = settings;
        self
    }

    /// Validity asked for (1…7200 s; tests shorten it).
    pub fn with_validity_secs(mut self, validity_secs: u32) -> Self {
        self.validity_secs = validity_secs;
        self
    }

    /// The sign-in state.
    pub fn state(&self) -> &SignInState {
        &self.state
    }

    /// The projects of the signed-in account.
    pub fn projects(&self) -> &[ProjectWithContext] {
        &self.projects
    }

    /// The project credentials are kept for, if any.
    pub fn connected_project(&self) -> Option<u64> {
        self.connection
            .as_ref()
            .map(|connection| connection.project_id)
    }

    /// The credential keeper's status, once connecting.
    pub fn keeper_status(&self) -> Option<KeeperStatus> {
        self.connection
            .as_ref()
            .map(|connection| connection.keeper.status())
    }

    /// The datapoint import's progress while it runs.
    pub fn import_progress(&self) -> Option<ImportProgress> {
        self.import.as_ref().map(DatapointImport::progress)
    }

    /// What happened with the keychain at the last sign-in (e.g. the password could not be
    /// saved), if worth saying.
    pub fn keychain_note(&self) -> Option<&str> {
        self.keychain_note.as_deref()
    }

    /// Why the last datapoint import failed.
    pub fn import_error(&self) -> Option<&str> {
        self.import_error.as_deref()
    }

    /// Signs in on a background thread and reads the project list (a new sign-in replaces the
    /// old one and stops its credentials). An empty password means the one saved in the
    /// keychain; `remember` saves the password after a successful sign-in. Keychain calls run on that thread too, never on the caller's.
    pub fn sign_in(&mut self, login: Login, remember: bool) {
        self.sign_out();
        self.state = SignInState::SigningIn;
        self.keychain_note = None;
        let (sender, receiver) = mpsc::sync_channel(1);
        let transport = self.transport.clone();
        let secrets = self.secrets.clone();
        let clock = Arc::clone(&self.clock);
        let notify = self.notify.clone();
        let job = move || {
            let result = sign_in(login, remember, secrets.as_deref(), transport, clock);
            let _ = sender.send(result);
            if let Some(notify) = notify {
                notify();
            }
        };
        match std::thread::Builder::new()
            .name("topicscope-aedifion-sign-in".into())
            .spawn(job)
        {
            Ok(_) => self.pending = Some(receiver),
            Err(error) => {
                self.state = SignInState::Failed(format!("could not start a thread: {error}"));
            }
        }
    }

    /// Stops the credentials and the import and forgets the sign-in.
    pub fn sign_out(&mut self) {
        self.disconnect();
        self.pending = None;
        self.client = None;
        self.projects.clear();
        self.state = SignInState::SignedOut;
    }

    /// Starts keeping credentials for `project_id` with `rights` (write only after the user
    /// confirmed), and reads the project's datapoint names.
    pub fn connect(&mut self, project_id: u64, rights: Rights) {
        self.disconnect();
        let Some(client) = self.client.clone() else {
            return;
        };
        let request = AccountRequest {
            project_id,
            rights,
            validity_secs: self.validity_secs,
            description: Some("TopicScope session".into()),
        };
        let lifecycle = Lifecycle::new(request, LifecyclePolicy::default(), &local_host_name());
        let notify = self.notify.clone();
        let boxed = notify
            .clone()
            .map(|notify| Box::new(move || notify()) as Box<dyn Fn() + Send + Sync>);
        match CredentialKeeper::start(Arc::clone(&client), lifecycle, self.keeper_settings, boxed) {
            Ok(keeper) => {
                self.connection = Some(Connection {
                    project_id,
                    keeper,
                    generation: 0,
                });
            }
            Err(error) => {
                self.state = SignInState::Failed(format!("could not start a thread: {error}"));
                return;
            }
        }
        let boxed = notify.map(|notify| Box::new(move || notify()) as Box<dyn Fn() + Send + Sync>);
        match DatapointImport::start(client, project_id, boxed) {
            Ok(import) => {
                self.import = Some(import);
                self.import_error = None;
            }
            Err(error) => self.import_error = Some(format!("could not start a thread: {error}")),
        }
    }

    /// Stops keeping credentials (the account expires by itself) and any import.
    pub fn disconnect(&mut self) {
        self.connection = None;
        if let Some(import) = self.import.take() {
            import.cancel();
        }
    }

    /// Takes finished background work; never blocks. Call once per frame.
    pub fn poll(&mut self) -> Vec<AccountEvent> {
        let mut events = Vec::new();
        if let Some(receiver) = &self.pending {
            match receiver.try_recv() {
                Ok(Ok((client, projects, keychain_note))) => {
                    self.keychain_note = keychain_note;
                    self.state = SignInState::SignedIn {
                        email: client.email().to_owned(),
                    };
                    self.client = Some(client);
                    self.projects = projects;
                    self.pending = None;
                }
                Ok(Err(message)) => {
                    self.state = SignInState::Failed(message);
                    self.pending = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.state = SignInState::Failed("the sign-in stopped unexpectedly".into());
                    self.pending = None;
                }
            }
        }
        let prefix_of = |projects: &[ProjectWithContext], project_id: u64| {
            projects
                .iter()
                .find(|entry| entry.project.id == project_id)
                .and_then(|entry| entry.project.topic_prefix())
        };
        if let Some(connection) = &mut self.connection {
            let status = connection.keeper.status();
            if status.account_generation != connection.generation
                && let Some(account) = status.account
            {
                connection.generation = status.account_generation;
                let prefix = prefix_of(&self.projects, connection.project_id);
                let plan = subscription_plan(&account.acl, prefix.as_ref());
                events.push(AccountEvent::Connect {
                    project_id: connection.project_id,
                    account,
                    plan,
                });
            }
        }
        if let Some(import) = &mut self.import
            && let Some(result) = import.take_result()
        {
            let project_id = import.project_id();
            self.import = None;
            match result {
                Ok(names) => events.push(AccountEvent::DatapointNames {
                    topic_prefix: prefix_of(&self.projects, project_id)
                        .map(|prefix| prefix.to_string()),
                    names,
                }),
                Err(ImportError::Cancelled) => {}
                Err(error) => self.import_error = Some(error.to_string()),
            }
        }
        events
    }

    /// The keeper's status line ("credentials valid until 14:32"), if connecting.
    pub fn status_line(&self) -> Option<String> {
        self.keeper_status().map(|status| status.summary())
    }
}

fn sign_in(
    mut login: Login,
    remember: bool,
    secrets: Option<&dyn SecretBackend>,
    transport: Option<Arc<dyn HttpTransport>>,
    clock: Arc<dyn Clock>,
) -> SignInResult {
    let keychain = secrets.map(PlatformSecrets::new);
    if login.password.is_empty() {
        let saved = match &keychain {
            Some(keychain) => keychain
                .password(&login.api_url, &login.email)
                .map_err(|error| error.to_string())?,
            None => None,
        };
        login.password = saved.ok_or_else(|| {
            format!(
                "No password is saved for {}: type your password.",
                login.email
            )
        })?;
    }
    let transport = match transport {
        Some(transport) => transport,
        None => Arc::new(
            UreqTransport::new(&TransportSettings::default()).map_err(|error| error.to_string())?,
        ),
    };
    let (api_url, email, password) = (
        login.api_url.clone(),
        login.email.clone(),
        login.password.clone(),
    );
    let client = Arc::new(AedifionClient::new(login, transport, clock));
    let projects = client
        .projects()
        .map_err(|error: ApiError| error.to_string())?;
    let note = match (&keychain, remember) {
        // Only the password: it signs in again whenever needed, so a stored refresh token
        // would be one more secret on disk for nothing.
        (Some(keychain), true) => keychain
            .remember_password(&api_url, &email, &password)
            .err()
            .map(|error| format!("The password was not saved: {error}")),
        (None, true) => Some("No keychain: the password was not saved.".into()),
        (_, false) => None,
    };
    Ok((client, projects, note))
}
