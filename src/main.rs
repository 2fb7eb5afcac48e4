//! TopicScope's binary: parse the command line, open the window with the app.

// Windows release builds open no console window beside the app; commands still print when run
// from a terminal (see `platform::attach_parent_console`). Debug builds keep the console.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tracing_subscriber::EnvFilter;

use topicscope::app::{AppOptions, Startup, TopicScopeApp};
use topicscope::cli::{Cli, CliError, Command, StartupConnection};
use topicscope::model::config::profile_store::ProfileStore;

/// The window icon, built into the binary.
const ICON_PNG: &[u8] = include_bytes!("../assets/topicscope.png");

fn main() -> ExitCode {
    topicscope::platform::attach_parent_console();
    let cli = Cli::parse();
    init_tracing();
    if let Some(command) = &cli.command {
        return run_command(command);
    }
    let options = match app_options(&cli) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("topicscope: {error}");
            return ExitCode::from(2);
        }
    };
    let native = native_options(&cli);
    let result = eframe::run_native(
        "TopicScope",
        native,
        Box::new(move |cc| Ok(Box::new(TopicScopeApp::from_creation_context(cc, options)))),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("topicscope: could not open the window: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command that needs no window.
fn run_command(command: &Command) -> ExitCode {
    let result = match command {
        Command::Decode(args) => return topicscope::commands::decode::main(args),
        Command::HashId(args) => return topicscope::commands::hash_id::main(args),
        Command::Publish(args) => return topicscope::commands::publish::main(args),
        Command::Setpoint(args) => return topicscope::commands::setpoint::main(args),
        Command::DemoServer(args) => return topicscope::commands::demo_server::main(args),
        Command::Export(args) => return topicscope::commands::export::main(args),
        Command::Aedifion(args) => return topicscope::commands::aedifion::main(args),
        Command::Generate(args) => {
            return topicscope::commands::generate::main(args, Cli::command());
        }
        Command::Headless(args) => topicscope::commands::headless::run(args)
            .map(|stats| {
                if args.stats_json.is_none() {
                    println!(
                        "received {} messages ({} dropped) on {} topics in {:.2} s",
                        stats.messages_received,
                        stats.messages_dropped,
                        stats.topics,
                        stats.elapsed_secs
                    );
                }
            })
            .map_err(|error| error.to_string()),
        Command::Bench(bench) => return topicscope::commands::bench::main(bench),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("topicscope: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default (warnings, plus TopicScope's own info).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,topicscope=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Where the files live and what to connect to, from the command line.
fn app_options(cli: &Cli) -> Result<AppOptions, CliError> {
    let config_dir = cli.config_dir()?;
    let profiles = ProfileStore::open(&config_dir);
    let startup = match cli.startup_connection(&profiles, Cli::password_from_env())? {
        StartupConnection::None => Startup::Auto,
        StartupConnection::Connect { profile, password } => Startup::Connect {
            profile: Box::new(profile),
            password,
        },
    };
    Ok(AppOptions {
        config_dir,
        profiles,
        startup,
        memory_budget_mib: cli.memory_budget,
    })
}

fn native_options(cli: &Cli) -> eframe::NativeOptions {
    eframe::NativeOptions {
        viewport: viewport(),
        // With --config-dir, everything the app writes stays in that folder (a second
        // installation, a test): the window state too, not the OS data folder.
        persistence_path: cli.config_dir.as_ref().map(|dir| dir.join("window-state")),
        ..eframe::NativeOptions::default()
    }
}

fn viewport() -> egui::ViewportBuilder {
    let viewport = egui::ViewportBuilder::default()
        .with_title("TopicScope")
        .with_app_id("topicscope")
        .with_inner_size([1400.0, 900.0])
        .with_min_inner_size([720.0, 480.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport.with_icon(icon),
        Err(error) => {
            tracing::warn!("window icon not loaded: {error}");
            viewport
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn with_a_config_dir_the_window_state_is_kept_there_too() {
        let cli = Cli::parse_from(["topicscope", "--config-dir", "/tmp/ts-config"]);
        assert_eq!(
            native_options(&cli).persistence_path,
            Some(PathBuf::from("/tmp/ts-config/window-state"))
        );
        let default = Cli::parse_from(["topicscope"]);
        assert_eq!(native_options(&default).persistence_path, None);
    }
}
