//! Command-line interface (clap).
//!
//! `topicscope` alone opens the window with the saved profiles. Options connect at launch
//! (`--profile`, `--url`, `--demo`), tune memory (`--memory-budget`) or point at another config
//! folder (`--config-dir`, used by tests). `Cli::parse_from` makes all of it testable.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::model::config::presets::Preset;
use crate::model::config::profile::Profile;
use crate::model::config::profile_store::{ProfileStore, default_config_dir};
use crate::model::config::settings::{MIN_MEMORY_BUDGET_MIB, mib_to_bytes};
use crate::model::config::url::{UrlProfileError, profile_from_url};
use crate::model::store::Limits;

pub use crate::model::config::url::{UrlError, url_to_profile};

pub use crate::model::config::secret::PASSWORD_ENV;
use crate::model::config::secret::{Password, password_from_env};

const EXAMPLES: &str = "\
Examples:
  topicscope
      Open the window with your saved profiles.
  topicscope --demo
      Start the built-in demo broker with a simulated building and connect to it.
  topicscope --profile \"aedifion.io production\"
      Connect with a saved profile (its password comes from the OS keychain or is asked for).
  topicscope --url mqtt://localhost
      Connect to a local broker (port 1883) and subscribe to everything (#).
  TOPICSCOPE_PASSWORD=... topicscope --url mqtts://me@mqtt2.aedifion.io:8884 \\
      --subscribe 'lbg01/mybuilding/#' --subscribe 'META/lbg01/mybuilding/#'
      Connect over TLS with a user name; the password is read from the environment.
  topicscope --url wss://broker.example.com:9001/mqtt --memory-budget 256
      MQTT over a secure WebSocket, keeping at most 256 MiB of messages in memory.

URL forms: mqtt://  (TCP, port 1883)     mqtts:// (TLS, port 8883)
           ws://    (WebSocket, port 80)  wss://   (WebSocket over TLS, port 443)
           WebSocket path defaults to /mqtt. Never put the password in the URL.

Files: profiles.toml and settings.toml live in the platform config folder
(~/.config/topicscope on Linux) unless --config-dir says otherwise.";

/// TopicScope: a fast, native desktop MQTT topic explorer.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "topicscope", version = crate::build_info::VERSION_LINE, about, after_long_help = EXAMPLES, after_help = "Run with --help for examples.")]
pub struct Cli {
    /// Connect at launch with the saved profile of this name (case-insensitive) or id.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["url", "demo"])]
    pub profile: Option<String>,

    /// Connect at launch without a saved profile: mqtt[s]|ws[s]://[user@]host[:port][/path].
    /// The password is read from the TOPICSCOPE_PASSWORD environment variable, or asked for;
    /// it is sent only with a user name (mqtt://user@host).
    #[arg(long, value_name = "URL", conflicts_with = "demo")]
    pub url: Option<String>,

    /// Topic filter to subscribe to with --url (repeatable; default: #).
    #[arg(
        long = "subscribe",
        short = 's',
        value_name = "FILTER",
        requires = "url"
    )]
    pub subscribe: Vec<String>,

    /// Allow writes with --url to an aedifion.io host, which is read-only by default (a saved
    /// profile's Read-only switch is changed in the profile editor).
    #[arg(long, requires = "url")]
    pub allow_writes: bool,

    #[arg(long, requires = "url", help = crate::model::config::url::ALLOW_UNENCRYPTED_LOGIN_HELP)]
    pub allow_unencrypted_login: bool,

    /// Start the built-in demo broker and building simulator and connect to it.
    #[arg(long)]
    pub demo: bool,

    /// Memory budget of the process, in MiB: over it, the oldest history goes first (at least 16;
    /// default from settings, 512).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(MIN_MEMORY_BUDGET_MIB..))]
    pub memory_budget: Option<u64>,

    /// Folder for profiles.toml, settings.toml, the audit log and the window state instead of
    /// the platform folders.
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// A command that runs without a window; none opens the window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Headless commands.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Connect, apply messages to the same store as the window, and write statistics as JSON.
    Headless(crate::commands::headless::HeadlessArgs),
    /// Load generators for benchmarks.
    #[command(subcommand)]
    Bench(crate::commands::bench::BenchCommand),
    /// Decode one payload (file or stdin) and print the result as JSON; exit 1 if it does not decode.
    Decode(crate::commands::decode::DecodeArgs),
    /// Print the aedifion hash ids (topic postfixes) of datapoint names.
    HashId(crate::commands::hash_id::HashIdArgs),
    /// Publish one message and report the broker's acknowledgement.
    Publish(crate::commands::publish::PublishArgs),
    /// Write a setpoint (SWOP NEWSPT) to an aedifion project and wait for its acknowledgement.
    Setpoint(crate::commands::setpoint::SetpointArgs),
    /// Run the demo broker and simulated building without a window.
    DemoServer(crate::commands::demo_server::DemoServerArgs),
    /// Export a recording to CSV, wide CSV, JSON Lines or Parquet.
    Export(crate::commands::export::ExportArgs),
    /// The aedifion platform account: list projects, create MQTT credentials.
    Aedifion(crate::commands::aedifion::AedifionArgs),
    /// Write the man pages or print shell completions (for packagers).
    #[command(hide = true)]
    Generate(crate::commands::generate::GenerateArgs),
}

/// What to connect to right after start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "made once at start; boxing the profile would only make matching clumsier"
)]
pub enum StartupConnection {
    /// Nothing: show the profiles.
    None,
    /// Connect with this profile (a saved one, an ad-hoc `--url` one, or the demo profile
    /// whose `demo` flag is set). `password` comes from `TOPICSCOPE_PASSWORD`; when it is
    /// `None` and the profile needs one, look in the keychain or ask.
    Connect {
        /// The profile.
        profile: Profile,
        /// The password from the environment, if any.
        password: Option<Password>,
    },
}

/// A command line that cannot be carried out, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// `--url` or a `--subscribe` filter is not usable.
    #[error(transparent)]
    Url(#[from] UrlProfileError),
    /// `--profile NAME` matches no saved profile.
    #[error(
        "No saved profile is called \"{name}\". Saved profiles: {available}. Check the spelling, or use --url."
    )]
    UnknownProfile {
        /// The name given.
        name: String,
        /// Names of the saved profiles, comma-separated (or "none").
        available: String,
    },
    /// No platform config folder (no home directory).
    #[error("Cannot find a config folder for TopicScope (is HOME set?). Pass --config-dir DIR.")]
    NoConfigDir,
}

impl Cli {
    /// The folder holding profiles and settings: `--config-dir`, else the platform's.
    pub fn config_dir(&self) -> Result<PathBuf, CliError> {
        match &self.config_dir {
            Some(dir) => Ok(dir.clone()),
            None => default_config_dir().ok_or(CliError::NoConfigDir),
        }
    }

    /// `base` with `--memory-budget` applied, if given.
    pub fn limits(&self, base: Limits) -> Limits {
        match self.memory_budget {
            Some(mib) => Limits {
                memory_budget_bytes: mib_to_bytes(mib),
                ..base
            },
            None => base,
        }
    }

    /// The password in `TOPICSCOPE_PASSWORD`, if set and not empty.
    pub fn password_from_env() -> Option<Password> {
        password_from_env()
    }

    /// What to connect to at start. `env_password` is normally [`Cli::password_from_env`]; it
    /// is passed in so tests need not touch the environment.
    pub fn startup_connection(
        &self,
        profiles: &ProfileStore,
        env_password: Option<Password>,
    ) -> Result<StartupConnection, CliError> {
        if self.demo {
            return Ok(StartupConnection::Connect {
                profile: Preset::Demo.profile(),
                password: None,
            });
        }
        if let Some(url) = &self.url {
            let profile = self.url_profile(url)?;
            let password = env_password.filter(|_| profile.password_storage.needs_password());
            return Ok(StartupConnection::Connect { profile, password });
        }
        let Some(name) = &self.profile else {
            return Ok(StartupConnection::None);
        };
        let Some(profile) = profiles.find(name) else {
            return Err(unknown_profile(name, profiles));
        };
        let password = env_password.filter(|_| profile.password_storage.needs_password());
        Ok(StartupConnection::Connect {
            profile: profile.clone(),
            password,
        })
    }

    /// The ad-hoc profile for `--url`, with the `--subscribe` filters.
    fn url_profile(&self, url: &str) -> Result<Profile, CliError> {
        let mut profile = profile_from_url(url, &self.subscribe, None)?;
        crate::model::config::url::allow_writes(&mut profile, self.allow_writes);
        crate::model::config::url::allow_unencrypted_login(
            &mut profile,
            self.allow_unencrypted_login,
        );
        Ok(profile)
    }
}

fn unknown_profile(name: &str, profiles: &ProfileStore) -> CliError {
    let names: Vec<String> = profiles
        .profiles()
        .iter()
        .map(|p| format!("\"{}\"", p.name))
        .collect();
    let available = if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    };
    CliError::UnknownProfile {
        name: name.to_owned(),
        available,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;
    use crate::model::config::profile::{PasswordStorage, Subscription, Transport};
    use crate::model::topic::qos::Qos;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("topicscope").chain(args.iter().copied()))
            .expect("valid command line")
    }

    fn empty_store() -> (tempfile::TempDir, ProfileStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ProfileStore::open(dir.path());
        (dir, store)
    }

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_means_no_startup_connection() {
        let (_dir, store) = empty_store();
        let cli = parse(&[]);
        assert_eq!(
            cli,
            Cli {
                profile: None,
                url: None,
                subscribe: Vec::new(),
                allow_writes: false,
                allow_unencrypted_login: false,
                demo: false,
                memory_budget: None,
                config_dir: None,
                command: None
            }
        );
        assert_eq!(
            cli.startup_connection(&store, None),
            Ok(StartupConnection::None)
        );
    }

    #[test]
    fn url_with_repeated_subscribe_builds_an_ad_hoc_profile() {
        let (_dir, store) = empty_store();
        let cli = parse(&[
            "--url",
            "mqtt://broker:1884",
            "--subscribe",
            "a/#",
            "-s",
            "b/+",
        ]);
        let Ok(StartupConnection::Connect { profile, password }) =
            cli.startup_connection(&store, Some("pw".into()))
        else {
            panic!("expected a connection");
        };
        let filters: Vec<&str> = profile
            .subscriptions
            .iter()
            .map(|s| s.filter.as_str())
            .collect();
        assert_eq!(filters, ["a/#", "b/+"]);
        assert_eq!(
            (profile.host.as_str(), profile.port, profile.transport),
            ("broker", 1884, Transport::Tcp)
        );
        assert_eq!(password, None, "no user name, so no password is sent");
    }

    #[test]
    fn url_with_user_takes_the_password_from_the_environment() {
        let (_dir, store) = empty_store();
        let cli = parse(&[
            "--url",
            "mqtts://me@mqtt2.aedifion.io:8884",
            "--subscribe",
            "lbg01/x/#",
        ]);
        let connection = cli
            .startup_connection(&store, Some("pw".into()))
            .expect("valid");
        let StartupConnection::Connect { profile, password } = connection else {
            panic!("expected a connection");
        };
        assert_eq!(password.as_ref().map(Password::expose), Some("pw"));
        assert_eq!(profile.password_storage, PasswordStorage::Ask);
        assert_eq!(
            profile.subscriptions,
            vec![Subscription::new("lbg01/x/#", Qos::AtLeastOnce)]
        );
    }

    #[test]
    fn an_aedifion_url_opens_read_only_unless_writes_are_allowed() {
        let (_dir, store) = empty_store();
        for (extra, read_only) in [(None, true), (Some("--allow-writes"), false)] {
            let mut args = vec!["--url", "mqtts://me@mqtt2.aedifion.io:8884"];
            args.extend(extra);
            let Ok(StartupConnection::Connect { profile, .. }) =
                parse(&args).startup_connection(&store, None)
            else {
                panic!("expected a connection");
            };
            assert_eq!(profile.read_only, read_only, "{args:?}");
        }
        assert!(Cli::try_parse_from(["topicscope", "--allow-writes"]).is_err());
    }

    #[test]
    fn the_password_never_shows_in_debug_output_of_what_connects() {
        let (_dir, store) = empty_store();
        let connection = parse(&["--url", "mqtts://me@broker.example:8883"])
            .startup_connection(&store, Some("hunter2".into()))
            .expect("valid");
        let text = format!("{connection:?}");
        assert!(!text.contains("hunter2") && text.contains("***"), "{text}");
    }

    #[test]
    fn url_defaults_to_subscribing_to_everything() {
        let (_dir, store) = empty_store();
        let connection = parse(&["--url", "ws://h"])
            .startup_connection(&store, None)
            .expect("valid");
        let StartupConnection::Connect { profile, .. } = connection else {
            panic!("expected a connection");
        };
        assert_eq!(
            profile.subscriptions,
            vec![Subscription::new("#", Qos::AtMostOnce)]
        );
        assert_eq!(profile.ws_path, "/mqtt");
    }

    #[test]
    fn bad_url_and_bad_filter_are_reported() {
        let (_dir, store) = empty_store();
        let bad_url = parse(&["--url", "http://h"]).startup_connection(&store, None);
        assert_eq!(
            bad_url,
            Err(CliError::Url(UrlProfileError::Url(
                UrlError::UnsupportedScheme("http".into())
            )))
        );
        let bad_filter =
            parse(&["--url", "mqtt://h", "--subscribe", "a/#/b"]).startup_connection(&store, None);
        assert!(
            matches!(
                bad_filter,
                Err(CliError::Url(UrlProfileError::Filter { .. }))
            ),
            "{bad_filter:?}"
        );
        let aedifion_anonymous =
            parse(&["--url", "mqtts://mqtt2.aedifion.io:8884"]).startup_connection(&store, None);
        assert!(
            matches!(
                aedifion_anonymous,
                Err(CliError::Url(UrlProfileError::InvalidProfile(_)))
            ),
            "{aedifion_anonymous:?}"
        );
    }

    #[test]
    fn profile_name_resolves_against_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let saved = Preset::LocalMosquitto.profile();
        store.create(saved.clone()).expect("create");
        let connection =
            parse(&["--profile", "local mosquitto"]).startup_connection(&store, Some("pw".into()));
        assert_eq!(
            connection,
            Ok(StartupConnection::Connect {
                profile: saved,
                password: None
            })
        );
        let missing = parse(&["--profile", "Nope"]).startup_connection(&store, None);
        let Err(error) = missing else {
            panic!("expected an error")
        };
        assert!(error.to_string().contains("\"Local Mosquitto\""), "{error}");
    }

    #[test]
    fn demo_connects_to_the_demo_profile() {
        let (_dir, store) = empty_store();
        let Ok(StartupConnection::Connect { profile, password }) =
            parse(&["--demo"]).startup_connection(&store, None)
        else {
            panic!("expected a connection");
        };
        assert!(profile.demo);
        assert_eq!(password, None);
    }

    #[test]
    fn conflicting_or_incomplete_options_are_refused() {
        for args in [
            &["topicscope", "--demo", "--url", "mqtt://h"][..],
            &["topicscope", "--profile", "a", "--url", "mqtt://h"],
            &["topicscope", "--subscribe", "#"],
            &["topicscope", "--memory-budget", "1"],
            &["topicscope", "--memory-budget", "lots"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn memory_budget_and_config_dir_are_applied() {
        let cli = parse(&["--memory-budget", "64", "--config-dir", "/tmp/ts"]);
        assert_eq!(cli.limits(Limits::default()).memory_budget_bytes, 64 << 20);
        assert_eq!(cli.config_dir(), Ok(PathBuf::from("/tmp/ts")));
        let defaults = parse(&[]).limits(Limits::default());
        assert_eq!(
            defaults.memory_budget_bytes,
            Limits::default().memory_budget_bytes
        );
    }

    #[test]
    fn help_documents_every_option_with_examples() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "--profile",
            "--url",
            "--subscribe",
            "--demo",
            "--memory-budget",
            "--config-dir",
            "TOPICSCOPE_PASSWORD",
            "Examples:",
            "mqtts://",
        ] {
            assert!(help.contains(needle), "help lacks {needle}:\n{help}");
        }
    }
}
