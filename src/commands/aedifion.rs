//! `topicscope aedifion …`: the platform account from the command line, for scripts.
//!
//! - `projects`: the projects the account may use, as JSON (id, name, company, topic prefix).
//! - `mqtt-user --project ID [--write] [--validity S]`: creates a limited MQTT account and prints
//!   it once as JSON (user name, password, expiry, ACL, subscriptions, broker).
//!
//! Every subcommand signs in with `--email` and the platform password from
//! `TOPICSCOPE_AEDIFION_PASSWORD`, or asks for it on the terminal (never echoed).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::account::acl::subscription_plan;
use crate::account::api::{ApiError, Rights, format_timestamp};
use crate::account::broker::{BrokerEndpoint, broker_for_api};
use crate::account::client::{AedifionClient, Login, PRODUCTION_API_URL, SignInMethod};
use crate::account::clock::SystemClock;
use crate::account::credentials::local_host_name;
use crate::account::lifecycle::{AccountRequest, Lifecycle, LifecycleEvent, LifecyclePolicy, Step};
use crate::account::oidc::{DEFAULT_CLIENT_ID, DEFAULT_ISSUER, OidcSettings};
use crate::account::ureq_transport::{TransportSettings, TransportSetupError, UreqTransport};

/// Environment variable holding the platform password.
pub const PASSWORD_ENV: &str = "TOPICSCOPE_AEDIFION_PASSWORD";

const AEDIFION_HELP: &str = "\
The platform password is read from TOPICSCOPE_AEDIFION_PASSWORD, or asked for on the terminal.

Examples:
  topicscope aedifion projects --email me@example.com
      [{\"id\": 1, \"name\": \"Headquarters\", \"company\": \"NewCo\", \"topic_prefix\": \"lbg1/hq\", …}]
  TOPICSCOPE_AEDIFION_PASSWORD=... topicscope aedifion mqtt-user --email me@example.com --project 1
      Creates a read-only MQTT account valid for 2 hours and prints it, password included, once.
  topicscope aedifion mqtt-user --email me@example.com --project 1 --write --validity 600
      An account that may also publish, valid for 10 minutes.";

/// Arguments of `topicscope aedifion`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(after_long_help = AEDIFION_HELP)]
pub struct AedifionArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AedifionCommand,
}

/// `topicscope aedifion` subcommands.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum AedifionCommand {
    /// List the projects your account may use, as JSON.
    Projects(SignInArgs),
    /// Create a limited MQTT account for a project and print it (password included) as JSON.
    MqttUser(MqttUserArgs),
}

/// How to sign in (every subcommand).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct SignInArgs {
    /// The API's base URL (development: https://api-dev.aedifion.io).
    #[arg(long, value_name = "URL", default_value = PRODUCTION_API_URL)]
    pub api_url: String,
    /// Your platform e-mail address.
    #[arg(long, value_name = "ADDR")]
    pub email: String,
    /// Sign in with OpenID Connect (Keycloak password grant) instead of HTTP Basic.
    #[arg(long)]
    pub oidc: bool,
    /// The OpenID Connect issuer (with --oidc).
    #[arg(long, value_name = "URL", default_value = DEFAULT_ISSUER)]
    pub oidc_issuer: String,
    /// The OpenID Connect client id (with --oidc).
    #[arg(long, value_name = "ID", default_value = DEFAULT_CLIENT_ID)]
    pub oidc_client_id: String,
    /// A PEM file of extra CA certificates to trust for the API (e.g. a company proxy's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

/// Arguments of `topicscope aedifion mqtt-user`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct MqttUserArgs {
    /// How to sign in.
    #[command(flatten)]
    pub sign_in: SignInArgs,
    /// The project's numeric id (see `topicscope aedifion projects`).
    #[arg(long, value_name = "ID")]
    pub project: u64,
    /// Ask for write rights: the account may publish to the building. Read-only without it.
    #[arg(long)]
    pub write: bool,
    /// Seconds until the account expires (1 to 7200).
    #[arg(long, value_name = "S", default_value_t = 7200,
          value_parser = clap::value_parser!(u32).range(1..=7200))]
    pub validity: u32,
    /// The broker for a custom --api-url, HOST[:PORT] (TLS; port 8884 if absent).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub broker: Option<String>,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum AedifionCommandError {
    /// No password in the environment and none could be asked for.
    #[error("no platform password: set {PASSWORD_ENV} or run in a terminal ({0})")]
    NoPassword(String),
    /// The HTTP client could not be set up.
    #[error("{0}")]
    Setup(#[from] TransportSetupError),
    /// The platform refused or failed.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The account was not created, for no reason the platform gave.
    #[error("the MQTT account was not created")]
    NotCreated,
    /// `--broker` is not `host[:port]`.
    #[error("--broker \"{0}\" is not HOST[:PORT]")]
    Broker(String),
}

impl AedifionCommandError {
    fn exit_code(&self) -> ExitCode {
        match self {
            AedifionCommandError::Api(_) => ExitCode::from(1),
            _ => ExitCode::from(2),
        }
    }
}

/// Runs `topicscope aedifion …`.
pub fn main(args: &AedifionArgs) -> ExitCode {
    let sign_in = match &args.command {
        AedifionCommand::Projects(sign_in) => sign_in,
        AedifionCommand::MqttUser(mqtt_user) => &mqtt_user.sign_in,
    };
    let result = password(&sign_in.email).and_then(|password| match &args.command {
        AedifionCommand::Projects(sign_in) => projects(sign_in, password),
        AedifionCommand::MqttUser(mqtt_user) => {
            if mqtt_user.write {
                eprintln!(
                    "topicscope aedifion: asking for WRITE rights: this account may publish to the building's topics."
                );
            }
            create_mqtt_user(mqtt_user, password)
        }
    });
    match result {
        Ok(output) => {
            println!("{output:#}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("topicscope aedifion: {error}");
            error.exit_code()
        }
    }
}

/// The platform password: the environment, else a prompt on the terminal.
fn password(email: &str) -> Result<String, AedifionCommandError> {
    if let Ok(password) = std::env::var(PASSWORD_ENV)
        && !password.is_empty()
    {
        return Ok(password);
    }
    rpassword::prompt_password(format!("aedifion password for {email}: "))
        .map_err(|error| AedifionCommandError::NoPassword(error.to_string()))
}

fn client(sign_in: &SignInArgs, password: String) -> Result<AedifionClient, AedifionCommandError> {
    let transport = UreqTransport::new(&TransportSettings {
        extra_ca_file: sign_in.ca_file.clone(),
        ..TransportSettings::default()
    })?;
    let method = if sign_in.oidc {
        SignInMethod::Oidc(OidcSettings {
            issuer: sign_in.oidc_issuer.clone(),
            client_id: sign_in.oidc_client_id.clone(),
        })
    } else {
        SignInMethod::Basic
    };
    let login = Login {
        api_url: sign_in.api_url.clone(),
        email: sign_in.email.clone(),
        password,
        method,
    };
    Ok(AedifionClient::new(
        login,
        Arc::new(transport),
        Arc::new(SystemClock),
    ))
}

/// `projects`: the JSON array printed.
pub fn projects(sign_in: &SignInArgs, password: String) -> Result<Value, AedifionCommandError> {
    let client = client(sign_in, password)?;
    let projects = client.projects()?;
    Ok(Value::Array(
        projects
            .iter()
            .map(|entry| {
                json!({
                    "id": entry.project.id,
                    "name": entry.project.name,
                    "company": entry.company.name,
                    "topic_prefix": entry.project.topic_prefix().map(|prefix| prefix.to_string()),
                    "description": entry.project.description,
                })
            })
            .collect(),
    ))
}

/// `mqtt-user`: creates the account and returns the JSON printed.
pub fn create_mqtt_user(
    args: &MqttUserArgs,
    password: String,
) -> Result<Value, AedifionCommandError> {
    let broker = match &args.broker {
        Some(text) => Some(
            BrokerEndpoint::parse(text)
                .ok_or_else(|| AedifionCommandError::Broker(text.clone()))?,
        ),
        None => broker_for_api(&args.sign_in.api_url),
    };
    let client = client(&args.sign_in, password)?;
    let rights = if args.write {
        Rights::Write
    } else {
        Rights::Read
    };
    let request = AccountRequest {
        project_id: args.project,
        rights,
        validity_secs: args.validity,
        description: Some("TopicScope command line".into()),
    };
    let mut lifecycle = Lifecycle::new(request, LifecyclePolicy::default(), &local_host_name());
    // One creation; a refused name gets one more try with a new name. No waiting for retries:
    // a script gets the error now and decides.
    loop {
        let now = chrono::Utc::now();
        let Step::Create(new) = lifecycle.next_step(now) else {
            return Err(match lifecycle.last_error() {
                Some(error) => error.clone().into(),
                None => AedifionCommandError::NotCreated,
            });
        };
        let result = client.create_mqtt_user(args.project, &new);
        lifecycle.create_finished(now, result);
        let events = lifecycle.take_events();
        for event in events {
            match event {
                LifecycleEvent::Created { account, .. } => {
                    let plan = subscription_plan(&account.acl, None);
                    return Ok(json!({
                        "project_id": args.project,
                        "mqttuser_id": account.mqttuser_id,
                        "username": account.username,
                        "password": account.password,
                        "rights": account.rights.as_str(),
                        "valid_until": format_timestamp(account.valid_until),
                        "acl": account.acl.iter().map(|entry| json!({
                            "topic": entry.topic,
                            "rights": entry.rights.as_str(),
                        })).collect::<Vec<_>>(),
                        "subscriptions": plan.filters,
                        "broker": broker.as_ref().map(|broker| json!({
                            "host": broker.host,
                            "port": broker.port,
                            "url": broker.url(),
                        })),
                    }));
                }
                LifecycleEvent::NameRefused { username, error } => {
                    eprintln!(
                        "topicscope aedifion: the name {username} was refused ({error}); trying another"
                    );
                }
                LifecycleEvent::RetryScheduled { error, .. } | LifecycleEvent::Halted { error } => {
                    return Err(error.into());
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Wrapper {
        #[command(subcommand)]
        command: AedifionCommand,
    }

    #[test]
    fn mqtt_user_arguments_parse_with_defaults() {
        let parsed =
            Wrapper::try_parse_from(["x", "mqtt-user", "--email", "a@b", "--project", "7"])
                .expect("valid");
        let AedifionCommand::MqttUser(args) = parsed.command else {
            panic!("mqtt-user");
        };
        assert_eq!(args.project, 7);
        assert_eq!(args.validity, 7200);
        assert!(!args.write && !args.sign_in.oidc);
        assert_eq!(args.sign_in.api_url, PRODUCTION_API_URL);
    }

    #[test]
    fn a_validity_beyond_two_hours_is_refused_by_the_parser() {
        let parsed = Wrapper::try_parse_from([
            "x",
            "mqtt-user",
            "--email",
            "a@b",
            "--project",
            "7",
            "--validity",
            "7201",
        ]);
        assert!(parsed.is_err());
    }
}
