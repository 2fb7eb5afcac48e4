//! The built-in demo: an in-process MQTT broker and a simulated aedifion building.
//!
//! [`DemoServer::start`] starts the broker (rumqttd on `127.0.0.1`, a free port) and the building
//! simulator, and returns once the broker accepts MQTT connections. [`DemoServer::profile`] is a
//! ready-made connection profile for it. The simulated project is `lbg01/demo_building`:
//! time series on `lbg01/demo_building/<hash_id>`, metadata on `META/lbg01/demo_building[/…]`,
//! SWOP setpoint writes on `CONTROLS/lbg01/demo_building[/…]` (see [`simulator`]).
//!
//! Dropping the [`DemoServer`] stops the simulator. The broker thread keeps running until the
//! process exits, because rumqttd offers no way to stop it; it then idles on its port.

pub mod broker;
pub mod building;
pub mod controls;
pub mod signals;
pub mod simulator;

use std::time::Duration;

use crate::model::config::presets::Preset;
use crate::model::config::profile::{Profile, Subscription};
use crate::model::topic::qos::Qos;

/// First topic level of the simulated project.
pub const LOAD_BALANCING_GROUP: &str = "lbg01";
/// Second topic level of the simulated project.
pub const PROJECT_HANDLE: &str = "demo_building";
/// Prefix of the time-series topics; the datapoint's hash id follows.
pub const DATA_TOPIC_PREFIX: &str = "lbg01/demo_building";
/// The project's metadata topic (retained per-datapoint copies live one level below).
pub const META_TOPIC: &str = "META/lbg01/demo_building";
/// The project's controls topic.
pub const CONTROLS_TOPIC: &str = "CONTROLS/lbg01/demo_building";
/// Length of the hash ids in topics (aedifion's default).
pub const HASH_ID_LENGTH: usize = 8;
/// Largest MQTT packet the demo broker and simulator accept (payloads of 1 MiB fit).
pub const MAX_PAYLOAD_BYTES: usize = 2 * 1024 * 1024;
/// Seed of the simulation when none is given: the demo looks the same every run.
pub const DEFAULT_SEED: u64 = 0x00ae_d1f1_0000_0001;
/// Id of the profile [`DemoServer::profile`] returns.
pub const DEMO_PROFILE_ID: &str = "builtin-demo";

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("Could not find a free local port for the demo broker: {0}")]
    NoFreePort(#[source] std::io::Error),
    #[error("Could not start a thread for the demo: {0}")]
    Thread(#[source] std::io::Error),
    #[error(
        "The demo broker stopped right after starting on 127.0.0.1:{port}. The port is probably used by \
         another program: choose another port."
    )]
    BrokerStopped { port: u16 },
    #[error(
        "The demo broker did not accept connections on 127.0.0.1:{port} within {waited_secs} s. The machine \
         may be overloaded, or a firewall blocks local connections: try again or choose another port."
    )]
    NotReachable { port: u16, waited_secs: u64 },
    #[error(
        "Something else answers on 127.0.0.1:{port} ({detail}), not the demo broker: choose another port."
    )]
    NotMqtt { port: u16, detail: String },
    #[error(
        "Port {port} on 127.0.0.1 is already in use ({source}), perhaps by another broker: the demo \
         did not start and published nothing: choose another port, or leave --port out for a free one."
    )]
    PortInUse {
        port: u16,
        #[source]
        source: std::io::Error,
    },
}

/// How to start the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    /// Port on 127.0.0.1; `None` picks a free one.
    pub port: Option<u16>,
    /// Seed of the simulated signals.
    pub seed: u64,
    /// How long to wait for the broker to accept connections.
    pub ready_timeout: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            port: None,
            seed: DEFAULT_SEED,
            ready_timeout: broker::READY_TIMEOUT,
        }
    }
}

/// The running demo: broker plus simulator. Dropping it stops the simulator (see module docs).
pub struct DemoServer {
    port: u16,
    simulator: simulator::SimulatorHandle,
}

impl DemoServer {
    /// Starts the demo on a free port of 127.0.0.1. Returns once the broker accepts
    /// connections; the simulator connects and starts publishing right after.
    pub fn start() -> Result<Self, DemoError> {
        Self::start_with(DemoConfig::default())
    }

    /// Starts the demo on `127.0.0.1:port` (for a stand-alone `demo-server --port`).
    pub fn start_on_port(port: u16) -> Result<Self, DemoError> {
        Self::start_with(DemoConfig {
            port: Some(port),
            ..DemoConfig::default()
        })
    }

    /// Starts the demo with explicit settings.
    pub fn start_with(config: DemoConfig) -> Result<Self, DemoError> {
        let port = match config.port {
            Some(port) => {
                broker::start_broker(port, config.ready_timeout)?;
                port
            }
            None => start_on_free_port(config.ready_timeout)?,
        };
        let simulator =
            simulator::SimulatorHandle::spawn(port, config.seed).map_err(DemoError::Thread)?;
        tracing::info!(port, "demo broker and building simulator started");
        Ok(Self { port, simulator })
    }

    /// The broker's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True while the simulator thread runs.
    pub fn simulator_running(&self) -> bool {
        self.simulator.is_running()
    }

    /// A profile that connects to this demo and subscribes to everything (`#`, QoS 0: with
    /// QoS 1, rumqttd would deliver at most 100 of the retained metadata messages).
    pub fn profile(&self) -> Profile {
        let mut profile = Profile {
            id: DEMO_PROFILE_ID.to_owned(),
            name: "Demo building (built-in)".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: self.port,
            demo: true,
            ..Preset::Demo.profile()
        };
        profile.set_aedifion_project(&format!("{LOAD_BALANCING_GROUP}/{PROJECT_HANDLE}"));
        profile.subscriptions = vec![Subscription::new("#", Qos::AtMostOnce)];
        profile
    }
}

/// How often a freshly picked port is tried: another program may take it between the pick
/// and the broker's bind.
const FREE_PORT_ATTEMPTS: usize = 3;

/// Starts the broker on a free port, picking a new one if the chosen port was taken meanwhile.
/// Each failed attempt leaves an idle rumqttd router thread behind (rumqttd cannot be stopped).
fn start_on_free_port(ready_timeout: Duration) -> Result<u16, DemoError> {
    let mut attempt = 1;
    loop {
        let port = broker::pick_free_port()?;
        match broker::start_broker(port, ready_timeout) {
            Ok(()) => return Ok(port),
            Err(
                DemoError::BrokerStopped { .. }
                | DemoError::NotMqtt { .. }
                | DemoError::PortInUse { .. },
            ) if attempt < FREE_PORT_ATTEMPTS => {
                tracing::warn!(port, "demo port was taken meanwhile; trying another");
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topic_constants_agree_with_the_project_levels() {
        assert_eq!(
            DATA_TOPIC_PREFIX,
            format!("{LOAD_BALANCING_GROUP}/{PROJECT_HANDLE}")
        );
        assert_eq!(META_TOPIC, format!("META/{DATA_TOPIC_PREFIX}"));
        assert_eq!(CONTROLS_TOPIC, format!("CONTROLS/{DATA_TOPIC_PREFIX}"));
        const { assert!(MAX_PAYLOAD_BYTES > 1024 * 1024) };
    }
}
