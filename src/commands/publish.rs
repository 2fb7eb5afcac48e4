//! `topicscope publish`: publish one message and report the broker's acknowledgement; plus the
//! plumbing `setpoint` shares with it (profile resolution, connecting, the write gate).
//!
//! Every write goes through the same [`Publisher`] gate as the window: a read-only profile is
//! refused (exit code 3) before anything connects, and every message is appended to the audit
//! log in the config folder.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::config::profile::{Profile, Subscription, generate_client_id};
use crate::model::config::profile_store::{ProfileStore, default_config_dir};
use crate::model::config::secret::{Password, password_from_env};
use crate::model::config::secret::{PasswordNeed, resolve_password};
use crate::model::config::settings::Settings;
use crate::model::config::url::{allow_unencrypted_login, allow_writes, url_to_profile};
use crate::model::decode::message::Message;
use crate::model::time::now_nanos;
use crate::model::topic::qos::Qos;
use crate::model::write::publish::{
    AuthorizedPublish, PublishOutcome, PublishRequest, Publisher, WriteContext, WriteError,
    WriteKind,
};
use crate::mqtt::options::broker_label;
use crate::session::{ConnectOptions, Connection};

/// Exit code: the write was refused because the profile is read-only.
pub const EXIT_READ_ONLY: u8 = 3;
/// Exit code: the command line or the message is invalid; nothing was sent.
pub const EXIT_INVALID: u8 = 2;
/// Exit code: sent but not confirmed, or failed.
pub const EXIT_FAILED: u8 = 1;
/// How often the command looks at the worker while waiting.
const POLL: Duration = Duration::from_millis(20);
/// How long the worker gets to send DISCONNECT at the end.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// Messages a writer's inbox holds (it only waits for acknowledgements).
const INBOX_CAPACITY: usize = 10_000;

/// Where to connect: `--url` or `--profile`, plus the config folder for profiles and audit log.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Target {
    /// Broker: mqtt[s]|ws[s]://[user@]host[:port][/path] (password from TOPICSCOPE_PASSWORD, sent only with a user name).
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "profile",
        required_unless_present = "profile"
    )]
    pub url: Option<String>,
    /// A saved profile (name or id); its read-only switch applies.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    #[arg(long, requires = "url", help = crate::model::config::url::ALLOW_WRITES_HELP)]
    pub allow_writes: bool,
    #[arg(long, requires = "url", help = crate::model::config::url::ALLOW_UNENCRYPTED_LOGIN_HELP)]
    pub allow_unencrypted_login: bool,
    /// Folder holding profiles.toml and the audit log (default: the platform config folder).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Seconds to wait for the connection and for the broker's acknowledgement.
    #[arg(long = "connect-timeout", value_name = "SECS", default_value_t = 10)]
    pub connect_timeout_secs: u64,
}

/// Options of `topicscope publish`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(
    after_help = "Exit codes: 0 acknowledged (QoS 1/2) or sent (QoS 0); 1 not sent or \
no acknowledgement; 2 invalid input; 3 the profile is read-only."
)]
pub struct PublishArgs {
    #[command(flatten)]
    pub target: Target,
    /// Topic to publish to (no wildcards).
    #[arg(long, value_name = "TOPIC")]
    pub topic: String,
    /// Quality of service 0, 1 or 2.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: u8,
    /// Ask the broker to retain the message.
    #[arg(long)]
    pub retain: bool,
    /// The payload; "-" reads it from standard input; absent means empty.
    #[arg(value_name = "PAYLOAD|-")]
    pub payload: Option<String>,
}

/// Why a write command failed, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Refused by the gate.
    #[error("{0}")]
    Refused(#[from] WriteError),
    /// Bad input; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// Connection or sending failed.
    #[error("{0}")]
    Failed(String),
}

impl CommandError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Refused(WriteError::ReadOnly { .. }) => EXIT_READ_ONLY,
            CommandError::Refused(_) | CommandError::Invalid(_) => EXIT_INVALID,
            CommandError::Failed(_) => EXIT_FAILED,
        }
    }
}

/// A resolved target: the profile, its password, and the gate for it.
pub struct Resolved {
    pub profile: Profile,
    pub password: Option<Password>,
    pub publisher: Publisher,
    pub timeout: Duration,
}

impl Target {
    /// Finds the profile (or builds one from `--url`) and opens the gate with the audit log.
    pub fn resolve(&self) -> Result<Resolved, CommandError> {
        let config_dir = match &self.config_dir {
            Some(dir) => dir.clone(),
            None => default_config_dir().ok_or_else(|| {
                CommandError::Invalid(
                    "Cannot find a config folder (is HOME set?). Pass --config-dir DIR.".into(),
                )
            })?,
        };
        let profile = match (&self.url, &self.profile) {
            (Some(url), _) => {
                let mut profile = url_to_profile(url)
                    .map_err(|error| CommandError::Invalid(format!("--url: {error}")))?;
                allow_writes(&mut profile, self.allow_writes);
                allow_unencrypted_login(&mut profile, self.allow_unencrypted_login);
                profile
            }
            (None, Some(name)) => ProfileStore::open(&config_dir)
                .find(name)
                .cloned()
                .ok_or_else(|| {
                    CommandError::Invalid(format!(
                        "No saved profile is called \"{name}\". Check the spelling or use --url."
                    ))
                })?,
            (None, None) => return Err(CommandError::Invalid("Give --url or --profile.".into())),
        };
        // A read-only profile is refused by the gate before anything connects: no password.
        let password = if profile.read_only {
            None
        } else {
            password_for(&profile)?
        };
        let context = WriteContext {
            profile: profile.name.clone(),
            broker: broker_label(&profile),
            read_only: profile.read_only,
        };
        let timeout = Duration::from_secs(self.connect_timeout_secs.max(1));
        let audit = Settings::load(&config_dir).settings.audit_log(&config_dir);
        let publisher =
            Publisher::new(context, Some(audit)).with_ack_timeout_nanos(duration_nanos(timeout));
        Ok(Resolved {
            profile,
            password,
            publisher,
            timeout,
        })
    }
}

fn password_for(profile: &Profile) -> Result<Option<Password>, CommandError> {
    let secrets = crate::secrets::SecretStore::os();
    match resolve_password(profile, password_from_env(), &secrets) {
        PasswordNeed::Known(password) => Ok(password),
        PasswordNeed::Ask { reason } => Err(CommandError::Invalid(format!(
            "{}This profile needs a password: set TOPICSCOPE_PASSWORD.",
            reason
                .map(|reason| format!("{reason} "))
                .unwrap_or_default()
        ))),
    }
}

fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// A connection made for writing: subscribed to what the command needs to see (e.g. a SWOP
/// acknowledgement), sending through the write gate.
pub struct Writer {
    connection: Connection,
}

impl Writer {
    /// Connects and waits until connected and every filter in `filters` is granted.
    pub fn connect(resolved: &Resolved, filters: &[String]) -> Result<Writer, CommandError> {
        let mut profile = resolved.profile.clone();
        // A client id of its own: a broker closes the older of two connections with the same
        // id, so reusing the profile's would throw the window (connected with it) off, and the
        // window's reconnect would throw this one off in turn. A fresh id needs a clean session.
        profile.client_id = generate_client_id();
        profile.clean_session = true;
        profile.subscriptions = filters
            .iter()
            .map(|filter| Subscription::new(filter.clone(), Qos::AtLeastOnce))
            .collect();
        let options = ConnectOptions {
            inbox_capacity_messages: INBOX_CAPACITY,
            ..ConnectOptions::default()
        };
        let connection = Connection::start(profile, resolved.password.clone(), options, None)
            .map_err(|error| CommandError::Failed(error.to_string()))?;
        let writer = Writer { connection };
        match writer.connection.wait_until_subscribed(resolved.timeout) {
            Ok(()) => Ok(writer),
            Err(error @ crate::session::ConnectionError::Refused { .. }) => Err(
                CommandError::Failed(format!("{error} Acknowledgements cannot be received.")),
            ),
            Err(error) => Err(CommandError::Failed(error.to_string())),
        }
    }

    /// Sends an authorized publish and waits for its outcome (or the gate's timeout).
    pub fn send(&self, publisher: &mut Publisher, authorized: AuthorizedPublish) -> PublishOutcome {
        let id = authorized.id();
        if !self.connection.publish(authorized) {
            let outcome = PublishOutcome::NotSent("the connection thread is not running".into());
            publisher.record_outcome(id, outcome.clone(), now_nanos());
            return outcome;
        }
        loop {
            for (reported, outcome) in self.connection.publish_reports().drain() {
                publisher.record_outcome(reported, outcome, now_nanos());
            }
            publisher.expire(now_nanos());
            if let Some(outcome) = publisher.outcome(id).filter(|outcome| outcome.is_final()) {
                return outcome.clone();
            }
            std::thread::sleep(POLL);
        }
    }

    /// Messages received so far.
    pub fn drain(&self, into: &mut Vec<Message>) {
        self.connection.inbox().drain_into(usize::MAX, into);
    }

    /// Disconnects cleanly (bounded wait).
    pub fn close(self) {
        self.connection.stop_and_wait(STOP_GRACE);
    }
}

/// The payload: the argument, standard input for "-", or empty.
fn read_payload(payload: Option<&str>) -> Result<Vec<u8>, CommandError> {
    match payload {
        None => Ok(Vec::new()),
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|error| {
                CommandError::Invalid(format!("Could not read standard input: {error}"))
            })?;
            Ok(bytes)
        }
        Some(text) => Ok(text.as_bytes().to_vec()),
    }
}

/// Runs `topicscope publish`; returns the outcome once known.
pub fn run(args: &PublishArgs) -> Result<PublishOutcome, CommandError> {
    let mut resolved = args.target.resolve()?;
    let request = PublishRequest {
        topic: args.topic.clone(),
        payload: read_payload(args.payload.as_deref())?,
        qos: Qos::from_level(args.qos).unwrap_or_default(),
        retain: args.retain,
    };
    // The gate first: a read-only profile is refused before anything connects.
    let authorized = resolved
        .publisher
        .authorize(request, WriteKind::Publish, now_nanos())?;
    let writer = match Writer::connect(&resolved, &[]) {
        Ok(writer) => writer,
        Err(error) => {
            let reason = PublishOutcome::NotSent(error.to_string());
            resolved
                .publisher
                .record_outcome(authorized.id(), reason, now_nanos());
            return Err(error);
        }
    };
    let outcome = writer.send(&mut resolved.publisher, authorized);
    writer.close();
    Ok(outcome)
}

/// `main` for `topicscope publish`: prints the outcome, returns the exit code.
pub fn main(args: &PublishArgs) -> std::process::ExitCode {
    match run(args) {
        Ok(outcome) => {
            println!("{}: {}", args.topic, outcome.label());
            if outcome.is_success() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(EXIT_FAILED)
            }
        }
        Err(error) => {
            eprintln!("topicscope: {error}");
            std::process::ExitCode::from(error.exit_code())
        }
    }
}
