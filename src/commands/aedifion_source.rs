//! `topicscope headless --aedifion-project ID`: headless mode on credentials from the aedifion
//! platform. Signs in (`--api-url`, `--email`, the password from `TOPICSCOPE_AEDIFION_PASSWORD`
//! or a prompt), creates a read-only MQTT account for the project, subscribes to its ACL, and
//! while the loop runs keeps the account renewed (the credential keeper's thread), reconnects
//! the session with the same store when the account had to be created again, and gives the
//! store the project's datapoint names from the API. Every renewal, failure and retry is
//! printed to standard error: nothing fails silently.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::account::acl::subscription_plan;
use crate::account::api::{MAX_VALIDITY_SECS, Rights};
use crate::account::broker::{BrokerEndpoint, broker_for_api, configure_profile};
use crate::account::client::{AedifionClient, Login, PRODUCTION_API_URL, SignInMethod};
use crate::account::clock::SystemClock;
use crate::account::credentials::local_host_name;
use crate::account::datapoints::DatapointImport;
use crate::account::keeper::{CredentialKeeper, KeeperSettings};
use crate::account::lifecycle::{
    AccountRequest, Lifecycle, LifecycleEvent, LifecyclePolicy, MqttAccount,
};
use crate::account::oidc::{DEFAULT_CLIENT_ID, DEFAULT_ISSUER, OidcSettings};
use crate::account::ureq_transport::{TransportSettings, UreqTransport};
use crate::model::config::profile::{Profile, Subscription, generate_client_id};
use crate::model::topic::qos::Qos;
use crate::mqtt::InboxStats;
use crate::session::wake::WakeSignal;
use crate::session::{ConnectOptions, Connection, Session, Source};

/// How long the first MQTT account may take (retries of temporary failures included).
const FIRST_ACCOUNT_WAIT: Duration = Duration::from_secs(60);
/// Time spent applying what a replaced connection still holds.
pub const DRAIN_BEFORE_RECONNECT: Duration = Duration::from_secs(1);

/// The aedifion options of `topicscope headless`.
#[derive(Debug, Clone, PartialEq, Eq, Default, clap::Args)]
pub struct AedifionSourceArgs {
    /// Connect to this aedifion project (numeric id) with credentials created from your
    /// platform login, kept renewed while running; subscribes to the account's ACL.
    #[arg(long, value_name = "ID", requires = "email", conflicts_with = "url")]
    pub aedifion_project: Option<u64>,
    /// The platform API's base URL (with --aedifion-project).
    #[arg(long, value_name = "URL", default_value = PRODUCTION_API_URL, requires = "aedifion_project")]
    pub api_url: String,
    /// Your platform e-mail address (with --aedifion-project).
    #[arg(long, value_name = "ADDR", requires = "aedifion_project")]
    pub email: Option<String>,
    /// Sign in with OpenID Connect (Keycloak password grant) instead of HTTP Basic.
    #[arg(long, requires = "aedifion_project")]
    pub oidc: bool,
    /// The OpenID Connect issuer (with --oidc).
    #[arg(long, value_name = "URL", default_value = DEFAULT_ISSUER)]
    pub oidc_issuer: String,
    /// The OpenID Connect client id (with --oidc).
    #[arg(long, value_name = "ID", default_value = DEFAULT_CLIENT_ID)]
    pub oidc_client_id: String,
    /// The broker for a custom --api-url, HOST[:PORT] (MQTT over TLS; port 8884 if absent).
    #[arg(long, value_name = "HOST[:PORT]", requires = "aedifion_project")]
    pub broker: Option<String>,
    /// A PEM file of an extra CA to trust for the broker's TLS.
    #[arg(long, value_name = "FILE", requires = "aedifion_project")]
    pub broker_ca_file: Option<PathBuf>,
    /// A PEM file of extra CA certificates to trust for the API (e.g. a company proxy's).
    #[arg(long, value_name = "FILE", requires = "aedifion_project")]
    pub api_ca_file: Option<PathBuf>,
    /// Seconds each MQTT account is valid (1 to 7200); renewed at three quarters of it.
    #[arg(long, value_name = "S", default_value_t = MAX_VALIDITY_SECS,
          value_parser = clap::value_parser!(u32).range(1..=7200))]
    pub aedifion_validity: u32,
}

/// Why the aedifion source could not start.
#[derive(Debug, thiserror::Error)]
pub enum AedifionSourceError {
    /// No usable password, client or broker, or the platform refused.
    #[error("aedifion: {0}")]
    Setup(String),
}

/// What the run did with the account (part of the statistics).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AedifionRunStats {
    /// The project.
    pub project_id: u64,
    /// The MQTT user name in use at the end.
    pub mqtt_username: String,
    /// MQTT accounts created (1, plus one per recreation).
    pub accounts_created: u64,
    /// Renewals that succeeded.
    pub renewals: u64,
    /// Failed requests (each one retried or reported).
    pub failures: u64,
    /// Reconnects after a recreation.
    pub reconnects: u64,
    /// Datapoint names the API listed (once read).
    pub datapoint_names: Option<usize>,
}

/// The account behind a headless run.
pub struct AedifionSource {
    keeper: CredentialKeeper,
    import: Option<DatapointImport>,
    topic_prefix: Option<String>,
    profile: Profile,
    password: String,
    generation: u64,
    stats: AedifionRunStats,
    subscribe: Vec<String>,
}

impl AedifionSource {
    /// Signs in, checks the project, creates the first account (waiting for it) and starts the
    /// datapoint import. `subscribe`, if not empty, replaces the ACL's filters. Blocking.
    pub fn start(
        args: &AedifionSourceArgs,
        subscribe: &[String],
    ) -> Result<Self, AedifionSourceError> {
        let setup = |text: String| AedifionSourceError::Setup(text);
        let project_id = args
            .aedifion_project
            .ok_or_else(|| setup("no --aedifion-project".into()))?;
        let email = args
            .email
            .clone()
            .ok_or_else(|| setup("--email is needed with --aedifion-project".into()))?;
        let broker = match &args.broker {
            Some(text) => Some(
                BrokerEndpoint::parse(text)
                    .ok_or_else(|| setup(format!("--broker \"{text}\" is not HOST[:PORT]")))?,
            ),
            None => broker_for_api(&args.api_url),
        }
        .ok_or_else(|| {
            setup(format!(
                "{} is not a known aedifion API: give its broker with --broker HOST[:PORT]",
                args.api_url
            ))
        })?;
        let password =
            super::aedifion::password(&email).map_err(|error| setup(error.to_string()))?;
        let transport = UreqTransport::new(&TransportSettings {
            extra_ca_file: args.api_ca_file.clone(),
            ..TransportSettings::default()
        })
        .map_err(|error| setup(error.to_string()))?;
        let method = if args.oidc {
            SignInMethod::Oidc(OidcSettings {
                issuer: args.oidc_issuer.clone(),
                client_id: args.oidc_client_id.clone(),
            })
        } else {
            SignInMethod::Basic
        };
        let login = Login {
            api_url: args.api_url.clone(),
            email,
            password,
            method,
        };
        let client = Arc::new(AedifionClient::new(
            login,
            Arc::new(transport),
            Arc::new(SystemClock),
        ));
        let projects = client
            .projects()
            .map_err(|error| setup(error.to_string()))?;
        let project = projects
            .iter()
            .find(|entry| entry.project.id == project_id)
            .ok_or_else(|| {
                setup(format!(
                    "project {project_id} is not among the projects of this login (see `topicscope aedifion projects`)"
                ))
            })?;
        let prefix = project.project.topic_prefix();
        let request = AccountRequest {
            project_id,
            rights: Rights::Read,
            validity_secs: args.aedifion_validity,
            description: Some("TopicScope headless".into()),
        };
        let lifecycle = Lifecycle::new(request, LifecyclePolicy::default(), &local_host_name());
        let keeper = CredentialKeeper::start(
            Arc::clone(&client),
            lifecycle,
            KeeperSettings::default(),
            None,
        )
        .map_err(|error| setup(format!("could not start a thread: {error}")))?;
        let account = keeper
            .wait_for_account(FIRST_ACCOUNT_WAIT)
            .map_err(|error| setup(error.to_string()))?;
        let mut profile = Profile {
            name: format!("aedifion: {}", project.project.name),
            client_id: generate_client_id(),
            ..Profile::default()
        };
        profile.tls.ca_file = args.broker_ca_file.clone();
        let plan = subscription_plan(&account.acl, prefix.as_ref());
        configure_profile(
            &mut profile,
            &broker,
            &account.username,
            account.rights,
            &plan,
        );
        let import = match DatapointImport::start(client, project_id, None) {
            Ok(import) => Some(import),
            Err(error) => {
                eprintln!("topicscope headless: the datapoint names are not read: {error}");
                None
            }
        };
        let mut source = Self {
            keeper,
            import,
            topic_prefix: prefix.map(|prefix| prefix.to_string()),
            profile,
            password: account.password.clone(),
            generation: 0,
            stats: AedifionRunStats {
                project_id,
                ..AedifionRunStats::default()
            },
            subscribe: subscribe.to_vec(),
        };
        source.take_account(&account);
        // The creation's events (and any failure before it) are reported now.
        source.report_events();
        source.generation = source.keeper.status().account_generation;
        Ok(source)
    }

    /// The profile to connect with (broker, TLS, user name, subscriptions).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The MQTT password of the account in use.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// What the run did with the account so far.
    pub fn stats(&self) -> &AedifionRunStats {
        &self.stats
    }

    fn take_account(&mut self, account: &MqttAccount) {
        self.profile.username.clone_from(&account.username);
        if !self.subscribe.is_empty() {
            self.profile.subscriptions = self
                .subscribe
                .iter()
                .map(|filter| Subscription::new(filter.clone(), Qos::AtLeastOnce))
                .collect();
        }
        self.password.clone_from(&account.password);
        self.stats.mqtt_username.clone_from(&account.username);
    }

    /// Once per loop: reports the keeper's events, reconnects `session` (keeping its store)
    /// when a new account replaced the old one, and gives the store the datapoint names once
    /// read. Returns the counters of a connection it replaced (what it received stays counted).
    /// Never blocks for long: before a reconnect, what the old connection still holds is
    /// applied (at most [`DRAIN_BEFORE_RECONNECT`]).
    pub fn poll(
        &mut self,
        session: &mut Session,
        options: ConnectOptions,
        wake: &Arc<WakeSignal>,
    ) -> Option<InboxStats> {
        let mut replaced = None;
        self.report_events();
        let status = self.keeper.status();
        if status.account_generation != self.generation
            && let Some(account) = status.account
        {
            self.generation = status.account_generation;
            self.take_account(&account);
            match Connection::start(
                self.profile.clone(),
                Some(self.password.clone().into()),
                options,
                Some(wake.waker()),
            ) {
                Ok(connection) => {
                    eprintln!(
                        "topicscope headless: reconnecting with the new MQTT account {}",
                        account.username
                    );
                    session.pump(DRAIN_BEFORE_RECONNECT);
                    replaced = Some(session.inbox_stats());
                    session.set_source(Source::Live(connection));
                    self.stats.reconnects += 1;
                }
                Err(error) => eprintln!("topicscope headless: {error}"),
            }
        }
        if let Some(import) = &mut self.import
            && let Some(result) = import.take_result()
        {
            self.import = None;
            match (result, &self.topic_prefix) {
                (Ok(names), Some(prefix)) => {
                    let learned = session
                        .store_mut()
                        .learn_datapoint_names(prefix, names.iter());
                    self.stats.datapoint_names = Some(names.pairs.len());
                    eprintln!(
                        "topicscope headless: {} datapoint names from the API ({learned} new)",
                        names.pairs.len()
                    );
                }
                (Ok(_), None) => eprintln!(
                    "topicscope headless: the platform gave no topic prefix for the project; its datapoint names are not used"
                ),
                (Err(error), _) => {
                    eprintln!("topicscope headless: the datapoint names were not read: {error}");
                }
            }
        }
        replaced
    }

    fn report_events(&mut self) {
        for event in self.keeper.take_events() {
            match event {
                LifecycleEvent::Created { account, replaces } => {
                    self.stats.accounts_created += 1;
                    match replaces {
                        None => eprintln!(
                            "topicscope headless: MQTT account {} created, valid until {}",
                            account.username, account.valid_until
                        ),
                        Some(old) => eprintln!(
                            "topicscope headless: MQTT account {} created again (replaces id {old}), valid until {}",
                            account.username, account.valid_until
                        ),
                    }
                }
                LifecycleEvent::Renewed { account } => {
                    self.stats.renewals += 1;
                    eprintln!(
                        "topicscope headless: MQTT account renewed until {}",
                        account.valid_until
                    );
                }
                LifecycleEvent::Expired { mqttuser_id, .. } => eprintln!(
                    "topicscope headless: MQTT account {mqttuser_id} expired before it could be renewed; creating a new one"
                ),
                LifecycleEvent::Gone { error, .. } => {
                    self.stats.failures += 1;
                    eprintln!("topicscope headless: {error}; creating a new account");
                }
                LifecycleEvent::NameRefused { error, .. } => {
                    self.stats.failures += 1;
                    eprintln!("topicscope headless: {error}; trying another name");
                }
                LifecycleEvent::RetryScheduled {
                    error, retry_at, ..
                } => {
                    self.stats.failures += 1;
                    eprintln!("topicscope headless: {error}; retrying at {retry_at}");
                }
                LifecycleEvent::Halted { error } => {
                    self.stats.failures += 1;
                    eprintln!(
                        "topicscope headless: {error}; the credentials are no longer renewed"
                    );
                }
            }
        }
    }

    /// Stops the keeper (the account expires by itself).
    pub fn stop(self) {
        self.keeper.stop();
    }
}
