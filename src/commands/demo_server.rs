//! `topicscope demo-server`: the built-in demo broker and simulated building without a window,
//! so other tools and tests can use it. Runs until Ctrl+C or SIGTERM (the default action of both
//! ends the process; rumqttd cannot be stopped any other way).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use crate::demo::{CONTROLS_TOPIC, DATA_TOPIC_PREFIX, DemoServer};

/// How often the command checks that the simulator still runs.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Options of `topicscope demo-server`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(
    after_help = "Prints mqtt://127.0.0.1:PORT on the first line of standard output once \
the broker accepts connections. Stop it with Ctrl+C or SIGTERM."
)]
pub struct DemoServerArgs {
    /// Port on 127.0.0.1 (default: a free one).
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
}

/// Starts the demo; returns it once it accepts connections.
pub fn start(args: &DemoServerArgs) -> Result<DemoServer, crate::demo::DemoError> {
    match args.port {
        Some(port) => DemoServer::start_on_port(port),
        None => DemoServer::start(),
    }
}

/// `main` for `topicscope demo-server`.
pub fn main(args: &DemoServerArgs) -> ExitCode {
    let demo = match start(args) {
        Ok(demo) => demo,
        Err(error) => {
            eprintln!("topicscope: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("mqtt://127.0.0.1:{}", demo.port());
    let _ = std::io::stdout().flush();
    eprintln!(
        "Demo building: data on {DATA_TOPIC_PREFIX}/#, setpoints on {CONTROLS_TOPIC}. Ctrl+C stops it."
    );
    while demo.simulator_running() {
        std::thread::sleep(CHECK_EVERY);
    }
    eprintln!("topicscope: the demo simulator stopped unexpectedly");
    ExitCode::FAILURE
}
