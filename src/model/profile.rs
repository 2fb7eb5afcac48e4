//! Connection profiles (serde). Data types are the contract for the worker and the UI.
//! OWNER: profiles helper (validation, presets, client ids, URL parsing live here too).

use serde::{Deserialize, Serialize};

use super::message::Qos;

/// How bytes reach the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    #[default]
    Tcp,
    Tls,
    WebSocket,
    SecureWebSocket,
}

/// One subscription of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub filter: String,
    #[serde(default)]
    pub qos: Qos,
}

/// TLS settings (used by `Tls` and `SecureWebSocket`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsSettings {
    /// Extra CA certificate (PEM file) trusted in addition to the OS trust store.
    pub ca_file: Option<std::path::PathBuf>,
    /// Client certificate chain (PEM) for mutual TLS.
    pub client_cert_file: Option<std::path::PathBuf>,
    /// Client private key (PEM) for mutual TLS.
    pub client_key_file: Option<std::path::PathBuf>,
    /// Skip certificate verification. Dangerous; the UI warns while it is on.
    pub accept_invalid_certs: bool,
}

/// Where the password of a profile lives. Never the password itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordStorage {
    /// No password.
    #[default]
    None,
    /// In the OS keychain under this profile's id.
    Keychain,
    /// Asked for at connect time, never stored.
    Ask,
}

/// A saved connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Stable id (keychain entries are keyed by it), independent of the display name.
    pub id: String,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub transport: Transport,
    /// WebSocket path (default `/mqtt`).
    pub ws_path: String,
    pub client_id: String,
    pub username: String,
    pub password_storage: PasswordStorage,
    pub keep_alive_secs: u16,
    pub clean_session: bool,
    pub subscriptions: Vec<Subscription>,
    pub tls: TlsSettings,
    /// This profile connects to the built-in demo broker (host/port are chosen at start).
    pub demo: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: "New profile".into(),
            host: "localhost".into(),
            port: 1883,
            transport: Transport::Tcp,
            ws_path: "/mqtt".into(),
            client_id: String::new(),
            username: String::new(),
            password_storage: PasswordStorage::None,
            keep_alive_secs: 60,
            clean_session: true,
            subscriptions: vec![Subscription { filter: "#".into(), qos: Qos::AtMostOnce }],
            tls: TlsSettings::default(),
            demo: false,
        }
    }
}
