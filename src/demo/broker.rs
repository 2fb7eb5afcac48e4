//! The embedded MQTT broker (rumqttd), configured in code and run on its own named thread.
//!
//! rumqttd has no shutdown API, cannot report the port it bound, and only logs a failed bind.
//! So: a free port is chosen first (bind port 0, read it, release it), the broker is started on
//! it, and [`start_broker`] returns only after an MQTT handshake with it succeeded (or with a
//! [`DemoError`] after a timeout). Once started, the broker runs until the process exits.
//!
//! Limits to know about (rumqttd 0.20): a QoS 1 subscription receives at most 100 retained
//! messages when it subscribes (rumqttd's in-flight window); a QoS 0 subscription receives up
//! to [`MAX_OUTGOING_PACKETS`].

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use super::{DemoError, MAX_PAYLOAD_BYTES};

/// How long [`start_broker`] waits for the broker to accept an MQTT connection.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Size of one segment of the broker's per-subscription log. rumqttd's default (100 MiB × 10
/// segments per filter) makes the demo take ~300 MB; 1 MiB × 3 keeps it small while a single
/// message may still overshoot a segment (up to [`MAX_PAYLOAD_BYTES`]).
pub const SEGMENT_BYTES: usize = 1024 * 1024;

/// Segments kept per subscription filter.
pub const SEGMENT_COUNT: usize = 3;

/// Messages the broker hands a connection per read, and the number of retained messages a
/// QoS 0 subscriber gets at once: comfortably more than the demo's retained metadata.
pub const MAX_OUTGOING_PACKETS: u64 = 2_000;

const CONNECT_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
/// How long the probe waits for the CONNACK once connected (generous: the machine may be busy).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_PAUSE: Duration = Duration::from_millis(25);
const PROBE_CLIENT_ID: &str = "TopicScopeDemoProbe";

/// Asks the OS for a free TCP port on 127.0.0.1 and releases it again.
pub fn pick_free_port() -> Result<u16, DemoError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(DemoError::NoFreePort)?;
    let port = listener.local_addr().map_err(DemoError::NoFreePort)?.port();
    Ok(port)
}

/// The broker configuration: one MQTT 3.1.1 listener on `127.0.0.1:port`, no TLS, anonymous.
pub fn broker_config(port: u16) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 5_000,
        max_payload_size: MAX_PAYLOAD_BYTES,
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = ServerSettings {
        name: "demo-broker-v4".to_owned(),
        listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 256,
            max_outgoing_packet_count: MAX_OUTGOING_PACKETS,
            max_segment_size: SEGMENT_BYTES,
            max_segment_count: SEGMENT_COUNT,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("demo".to_owned(), server)])),
        ..Config::default()
    }
}

/// Starts the broker on `127.0.0.1:port` on a thread named `demo-broker` and waits (at most
/// `ready_timeout`) until it completes an MQTT handshake. The broker then runs until the
/// process exits: rumqttd cannot be stopped.
pub fn start_broker(port: u16, ready_timeout: Duration) -> Result<(), DemoError> {
    // rumqttd only logs a failed bind, and the readiness probe below would then shake hands
    // with whatever holds the port (the simulator would publish into another broker): bind
    // the port first and give up at once if it is taken. The port is free again for rumqttd
    // a moment later; another program taking it in between is caught by the thread check.
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .map_err(|source| DemoError::PortInUse { port, source })?;
    let config = broker_config(port);
    let thread = std::thread::Builder::new()
        .name("demo-broker".to_owned())
        .spawn(move || {
            let mut broker = Broker::new(config);
            // `start` blocks while the listener runs; it returns when the listener failed
            // (for example, the port was taken), which `wait_until_ready` notices.
            if let Err(error) = broker.start() {
                tracing::error!(%error, "demo broker failed");
            }
        })
        .map_err(DemoError::Thread)?;
    let deadline = Instant::now() + ready_timeout;
    loop {
        match mqtt_handshake(port) {
            Ok(()) if thread.is_finished() => return Err(DemoError::BrokerStopped { port }),
            Ok(()) => return Ok(()),
            Err(ProbeError::NotMqtt(detail)) => return Err(DemoError::NotMqtt { port, detail }),
            Err(ProbeError::Unreachable) => {}
        }
        if thread.is_finished() {
            return Err(DemoError::BrokerStopped { port });
        }
        if Instant::now() >= deadline {
            return Err(DemoError::NotReachable {
                port,
                waited_secs: ready_timeout.as_secs(),
            });
        }
        std::thread::sleep(RETRY_PAUSE);
    }
}

enum ProbeError {
    /// Nothing accepted a connection (yet).
    Unreachable,
    /// Something answered, but not like an MQTT broker accepting us.
    NotMqtt(String),
}

/// Connects, sends an MQTT 3.1.1 CONNECT, expects CONNACK "accepted", then disconnects.
fn mqtt_handshake(port: u16) -> Result<(), ProbeError> {
    let address = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, CONNECT_ATTEMPT_TIMEOUT) else {
        return Err(ProbeError::Unreachable);
    };
    let io_error = |error: std::io::Error| ProbeError::NotMqtt(format!("no MQTT answer ({error})"));
    stream
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io_error)?;
    stream
        .set_write_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io_error)?;
    stream
        .write_all(&connect_packet(PROBE_CLIENT_ID))
        .map_err(io_error)?;
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).map_err(io_error)?;
    if connack[0] != 0x20 || connack[1] != 0x02 {
        return Err(ProbeError::NotMqtt(format!(
            "unexpected reply {connack:02x?}"
        )));
    }
    if connack[3] != 0 {
        return Err(ProbeError::NotMqtt(format!(
            "connection refused with code {}",
            connack[3]
        )));
    }
    // DISCONNECT; the broker tidies up either way.
    let _ = stream.write_all(&[0xE0, 0x00]);
    Ok(())
}

/// An MQTT 3.1.1 CONNECT packet with a clean session, 10 s keep-alive and no credentials.
fn connect_packet(client_id: &str) -> Vec<u8> {
    let id = client_id.as_bytes();
    let id_length = u16::try_from(id.len()).unwrap_or(u16::MAX);
    let mut variable = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x0A];
    variable.extend_from_slice(&id_length.to_be_bytes());
    variable.extend_from_slice(&id[..usize::from(id_length)]);
    let mut packet = vec![0x10];
    let mut remaining = variable.len();
    // MQTT's variable-length encoding of the remaining length.
    loop {
        let mut byte = (remaining % 128) as u8;
        remaining /= 128;
        if remaining > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if remaining == 0 {
            break;
        }
    }
    packet.extend_from_slice(&variable);
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_packet_is_well_formed_mqtt_3_1_1() {
        let packet = connect_packet("abc");
        assert_eq!(packet[0], 0x10);
        assert_eq!(usize::from(packet[1]), packet.len() - 2);
        assert_eq!(&packet[2..8], b"\x00\x04MQTT");
        assert_eq!(packet[8], 4, "protocol level 3.1.1");
        assert_eq!(&packet[12..], b"\x00\x03abc");
    }

    #[test]
    fn a_long_client_id_uses_a_two_byte_remaining_length() {
        let packet = connect_packet(&"x".repeat(200));
        assert_eq!(packet[1] & 0x80, 0x80);
        let remaining = usize::from(packet[1] & 0x7f) + 128 * usize::from(packet[2]);
        assert_eq!(remaining, packet.len() - 3);
    }

    #[test]
    fn the_config_listens_on_loopback_with_small_segments_and_large_payloads() {
        let config = broker_config(18_830);
        let servers = config.v4.unwrap();
        let server = servers.values().next().unwrap();
        assert_eq!(server.listen.to_string(), "127.0.0.1:18830");
        assert!(server.connections.max_payload_size >= 1024 * 1024);
        assert!(
            config.router.max_segment_size * (config.router.max_segment_count + 1)
                <= 8 * 1024 * 1024
        );
    }

    #[test]
    fn probing_a_port_nobody_listens_on_reports_unreachable() {
        let port = pick_free_port().unwrap();
        assert!(matches!(mqtt_handshake(port), Err(ProbeError::Unreachable)));
    }
}
