//! Connection profiles (serde): what a connection needs and what makes a profile valid.
//!
//! A profile never holds a password: [`PasswordStorage`] only says where the password lives
//! (OS keychain keyed by [`Profile::id`], or asked for at connect time).

use std::path::{Path, PathBuf};

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::model::aedifion::project::AedifionProject;
use crate::model::topic::filter::TopicFilter;
use crate::model::topic::qos::Qos;

/// Longest client id every MQTT 3.1.1 broker must accept (§3.1.3.1).
pub const CLIENT_ID_MAX_CHARS: usize = 23;
/// Prefix of generated client ids.
pub const CLIENT_ID_PREFIX: &str = "TopicScope";
/// Random `[0-9A-Za-z]` characters appended to [`CLIENT_ID_PREFIX`] (22 characters in total).
pub const CLIENT_ID_RANDOM_CHARS: usize = 12;
/// Default WebSocket path (what Paho JS and Mosquitto use).
pub const DEFAULT_WS_PATH: &str = "/mqtt";
/// Default keep-alive interval.
pub const DEFAULT_KEEP_ALIVE_SECS: u16 = 60;
/// Characters a client id may not contain: they would confuse topic-based ACLs (`/`, `+`, `#`).
const CLIENT_ID_FORBIDDEN: [char; 3] = ['/', '+', '#'];

/// How bytes reach the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// Plain MQTT over TCP (`mqtt://`, port 1883).
    #[default]
    Tcp,
    /// MQTT over TLS (`mqtts://`, port 8883; aedifion.io uses 8884).
    Tls,
    /// MQTT over a WebSocket (`ws://`).
    WebSocket,
    /// MQTT over a WebSocket over TLS (`wss://`; aedifion.io uses 9001).
    SecureWebSocket,
}

impl Transport {
    /// Every transport, in the order the UI lists them.
    pub const ALL: [Transport; 4] = [
        Transport::Tcp,
        Transport::Tls,
        Transport::WebSocket,
        Transport::SecureWebSocket,
    ];

    /// The connection is encrypted (the [`TlsSettings`] apply).
    pub fn uses_tls(self) -> bool {
        matches!(self, Transport::Tls | Transport::SecureWebSocket)
    }

    /// The connection runs over a WebSocket (the WebSocket path applies).
    pub fn uses_websocket(self) -> bool {
        matches!(self, Transport::WebSocket | Transport::SecureWebSocket)
    }

    /// The port this transport conventionally uses.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tcp => 1883,
            Transport::Tls => 8883,
            Transport::WebSocket => 80,
            Transport::SecureWebSocket => 443,
        }
    }

    /// The URL scheme (`mqtt`, `mqtts`, `ws`, `wss`).
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Tcp => "mqtt",
            Transport::Tls => "mqtts",
            Transport::WebSocket => "ws",
            Transport::SecureWebSocket => "wss",
        }
    }

    /// A short human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::WebSocket => "WebSocket",
            Transport::SecureWebSocket => "Secure WebSocket",
        }
    }
}

/// The MQTT protocol version spoken. Only 3.1.1 for now; the field keeps files forward-compatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MqttVersion {
    /// MQTT 3.1.1 (protocol level 4).
    #[default]
    #[serde(rename = "3.1.1")]
    V3_1_1,
}

impl MqttVersion {
    /// A short human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            MqttVersion::V3_1_1 => "MQTT 3.1.1",
        }
    }
}

/// One subscription of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Topic filter, may hold `+` and `#`.
    pub filter: String,
    /// Requested QoS, written as 0, 1 or 2 in the file.
    #[serde(default, with = "qos_level")]
    pub qos: Qos,
}

impl Subscription {
    /// A subscription to `filter` at `qos`.
    pub fn new(filter: impl Into<String>, qos: Qos) -> Self {
        Self {
            filter: filter.into(),
            qos,
        }
    }
}

/// Writes a [`Qos`] as its numeric level so the profile file reads `qos = 1`.
mod qos_level {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::topic::qos::Qos;

    pub fn serialize<S: Serializer>(qos: &Qos, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(qos.level())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Qos, D::Error> {
        let level = u8::deserialize(deserializer)?;
        Qos::from_level(level)
            .ok_or_else(|| D::Error::custom(format!("qos must be 0, 1 or 2, not {level}")))
    }
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

impl PasswordStorage {
    /// A connection with this profile sends a password.
    pub fn needs_password(self) -> bool {
        !matches!(self, PasswordStorage::None)
    }
}

/// A saved connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Stable id (keychain entries are keyed by it), independent of the display name.
    pub id: String,
    /// Display name shown in the profile list.
    pub name: String,
    /// Broker host name or IP address (no scheme, no port).
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// TCP, TLS, WebSocket or secure WebSocket.
    pub transport: Transport,
    /// WebSocket path (default `/mqtt`).
    pub ws_path: String,
    /// MQTT protocol version.
    pub mqtt_version: MqttVersion,
    /// Client identifier sent in CONNECT (1–23 characters, no `/ + #`).
    pub client_id: String,
    /// User name sent in CONNECT; empty for anonymous connections.
    pub username: String,
    /// Where the password lives (never the password itself).
    pub password_storage: PasswordStorage,
    /// Keep-alive interval announced in CONNECT (0 disables it).
    pub keep_alive_secs: u16,
    /// Ask the broker to discard any previous session.
    pub clean_session: bool,
    /// Filters subscribed on every connect.
    pub subscriptions: Vec<Subscription>,
    /// TLS options (used by `Tls` and `SecureWebSocket`).
    pub tls: TlsSettings,
    /// This profile connects to the built-in demo broker (host/port are chosen at start).
    pub demo: bool,
    /// aedifion.io project as `lbg/handle` (empty if not an aedifion profile); the default
    /// subscription filters are derived from it. See [`Profile::aedifion_project`].
    pub aedifion_project: String,
    /// No publish, retained clear or setpoint leaves the app while set (on for aedifion presets).
    pub read_only: bool,
    /// The password may travel unencrypted (plain TCP or WebSocket) to a host that is not this
    /// computer. Off by default: such a profile is refused, and with it on the status bar warns
    /// while connected.
    pub allow_unencrypted_login: bool,
    /// Saved publish templates of this profile.
    pub templates: Vec<crate::model::write::templates::Template>,
    /// Topic patterns whose payloads are decoded with a fixed decoder instead of automatically
    /// (first matching row wins).
    pub decoder_overrides: Vec<crate::model::decode::decoder_override::DecoderOverride>,
    /// The aedifion platform account this profile connects through (sign-in, project, the
    /// MQTT account kept renewed), if any; never a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aedifion_account: Option<super::aedifion_account::RememberedAccount>,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: "New profile".into(),
            host: "localhost".into(),
            port: 1883,
            transport: Transport::Tcp,
            ws_path: DEFAULT_WS_PATH.into(),
            mqtt_version: MqttVersion::V3_1_1,
            client_id: String::new(),
            username: String::new(),
            password_storage: PasswordStorage::None,
            keep_alive_secs: DEFAULT_KEEP_ALIVE_SECS,
            clean_session: true,
            subscriptions: vec![Subscription {
                filter: "#".into(),
                qos: Qos::AtMostOnce,
            }],
            tls: TlsSettings::default(),
            demo: false,
            aedifion_project: String::new(),
            read_only: false,
            allow_unencrypted_login: false,
            templates: Vec::new(),
            decoder_overrides: Vec::new(),
            aedifion_account: None,
        }
    }
}

/// Which field of a profile an error is about (so the editor can show it next to that field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileField {
    /// [`Profile::name`].
    Name,
    /// [`Profile::host`].
    Host,
    /// [`Profile::port`].
    Port,
    /// [`Profile::transport`].
    Transport,
    /// [`Profile::ws_path`].
    WsPath,
    /// [`Profile::client_id`].
    ClientId,
    /// [`Profile::username`].
    Username,
    /// [`Profile::aedifion_project`].
    AedifionProject,
    /// The subscription list as a whole.
    Subscriptions,
    /// One subscription, by index.
    Subscription(usize),
    /// One decoder override row, by index.
    DecoderOverride(usize),
    /// [`TlsSettings::ca_file`].
    CaFile,
    /// [`TlsSettings::client_cert_file`].
    ClientCertFile,
    /// [`TlsSettings::client_key_file`].
    ClientKeyFile,
}

/// One problem with a profile, with a message the user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The name is empty.
    #[error("Name is empty: give the profile a name.")]
    NameEmpty,
    /// The host is empty.
    #[error("Host is empty: enter the broker's host name or IP address.")]
    HostEmpty,
    /// The host holds a scheme, port, path or spaces.
    #[error(
        "Host \"{0}\" must be a bare host name or IP address: no \"://\", path or spaces; put the port in the Port field."
    )]
    HostMalformed(String),
    /// Port 0.
    #[error("Port 0 is not valid: use 1–65535 (MQTT uses 1883, MQTT over TLS 8883).")]
    PortZero,
    /// The WebSocket path does not start with `/`.
    #[error("WebSocket path must start with \"/\" (usually /mqtt).")]
    WsPathMalformed,
    /// The client id is empty.
    #[error("Client id is empty: press Generate for a random one.")]
    ClientIdEmpty,
    /// The client id is longer than 23 characters.
    #[error("Client id has {length} characters; brokers only have to accept up to 23.")]
    ClientIdTooLong {
        /// Characters in the client id.
        length: usize,
    },
    /// The client id holds `/`, `+`, `#`, whitespace or a control character.
    #[error("Client id must not contain {0:?}: use letters and digits (/, + and # are refused).")]
    ClientIdForbiddenChar(char),
    /// aedifion.io brokers refuse anonymous connections.
    #[error("aedifion.io brokers require a user name: enter your MQTT account's user name.")]
    UsernameRequired,
    /// A password is configured but no user name (MQTT 3.1.1 cannot send that).
    #[error("A password needs a user name: enter one, or choose \"No password\".")]
    PasswordWithoutUsername,
    /// aedifion.io brokers refuse unencrypted connections.
    #[error("aedifion.io brokers refuse unencrypted connections: choose TLS or Secure WebSocket.")]
    PlainTransportRefused,
    /// The aedifion project is not `lbg/handle`.
    #[error(
        "aedifion project must look like \"lbg01/mybuilding\" (load-balancing group / project handle)."
    )]
    AedifionProjectMalformed,
    /// No subscriptions.
    #[error("Add at least one subscription (for example # on a generic broker).")]
    NoSubscriptions,
    /// A subscription filter is not a valid MQTT topic filter.
    #[error("Subscription {}: \"{filter}\" is not a valid topic filter: {reason}", .index + 1)]
    SubscriptionInvalid {
        /// Position in [`Profile::subscriptions`].
        index: usize,
        /// The filter as entered.
        filter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same filter appears twice.
    #[error("Subscription {}: \"{filter}\" is already in the list.", .index + 1)]
    SubscriptionDuplicate {
        /// Position of the second occurrence.
        index: usize,
        /// The repeated filter.
        filter: String,
    },
    /// A decoder override's filter is not a valid MQTT topic filter.
    #[error("Decoder override {}: \"{filter}\" is not a valid topic filter: {reason}", .index + 1)]
    DecoderOverrideInvalid {
        /// Position in [`Profile::decoder_overrides`].
        index: usize,
        /// The filter as entered.
        filter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A TLS file does not exist.
    #[error("{} \"{}\" does not exist: pick the file again or clear the field.", field_label(*.field), .path.display())]
    TlsFileMissing {
        /// Which TLS field.
        field: ProfileField,
        /// The path as entered.
        path: PathBuf,
    },
    /// A password would travel unencrypted to another computer.
    #[error(
        "The password would be sent unencrypted to {host}: choose TLS or Secure WebSocket, or tick \"Allow sending the password unencrypted\" if this network is trusted."
    )]
    PasswordOverPlainTransport {
        /// The host.
        host: String,
    },
    /// Certificate checks switched off for aedifion.io.
    #[error(
        "aedifion.io brokers have valid certificates: turn off \"Accept invalid certificates\" (it would let anyone on the way read the password and the data)."
    )]
    InvalidCertsRefused,
    /// Only one of client certificate and client key is set.
    #[error("Mutual TLS needs both a client certificate and its private key: set both or neither.")]
    ClientCertWithoutKey,
}

fn field_label(field: ProfileField) -> &'static str {
    match field {
        ProfileField::CaFile => "CA file",
        ProfileField::ClientCertFile => "Client certificate",
        ProfileField::ClientKeyFile => "Client key",
        _ => "File",
    }
}

impl ProfileError {
    /// The field the editor shows this error next to.
    pub fn field(&self) -> ProfileField {
        match self {
            ProfileError::NameEmpty => ProfileField::Name,
            ProfileError::HostEmpty | ProfileError::HostMalformed(_) => ProfileField::Host,
            ProfileError::PortZero => ProfileField::Port,
            ProfileError::PlainTransportRefused
            | ProfileError::PasswordOverPlainTransport { .. } => ProfileField::Transport,
            ProfileError::InvalidCertsRefused => ProfileField::CaFile,
            ProfileError::WsPathMalformed => ProfileField::WsPath,
            ProfileError::ClientIdEmpty
            | ProfileError::ClientIdTooLong { .. }
            | ProfileError::ClientIdForbiddenChar(_) => ProfileField::ClientId,
            ProfileError::UsernameRequired | ProfileError::PasswordWithoutUsername => {
                ProfileField::Username
            }
            ProfileError::AedifionProjectMalformed => ProfileField::AedifionProject,
            ProfileError::NoSubscriptions => ProfileField::Subscriptions,
            ProfileError::SubscriptionInvalid { index, .. }
            | ProfileError::SubscriptionDuplicate { index, .. } => {
                ProfileField::Subscription(*index)
            }
            ProfileError::DecoderOverrideInvalid { index, .. } => {
                ProfileField::DecoderOverride(*index)
            }
            ProfileError::TlsFileMissing { field, .. } => *field,
            ProfileError::ClientCertWithoutKey => ProfileField::ClientKeyFile,
        }
    }
}

impl Profile {
    /// A fresh profile with a new id and a new random client id.
    pub fn new_with_fresh_ids() -> Self {
        Self {
            id: new_profile_id(),
            client_id: generate_client_id(),
            ..Self::default()
        }
    }

    /// The aedifion project, if [`Profile::aedifion_project`] holds a valid `lbg/handle`.
    pub fn aedifion_project(&self) -> Option<AedifionProject> {
        AedifionProject::parse(&self.aedifion_project)
    }

    /// The host belongs to aedifion.io (their brokers need TLS and a user name).
    pub fn is_aedifion_host(&self) -> bool {
        let host = self.host.trim().trim_end_matches('.').to_ascii_lowercase();
        host == "aedifion.io" || host.ends_with(".aedifion.io")
    }

    /// The subscriptions a new profile of this kind starts with: `<lbg>/<project>/#` at QoS 1
    /// for an aedifion project, otherwise `#` at QoS 0.
    pub fn default_subscriptions(&self) -> Vec<Subscription> {
        match self.aedifion_project() {
            Some(project) => vec![Subscription::new(project.data_filter(), Qos::AtLeastOnce)],
            None if self.is_aedifion_host() => Vec::new(),
            None => vec![Subscription::new("#", Qos::AtMostOnce)],
        }
    }

    /// Sets the aedifion project and, if the subscriptions were still the derived defaults (or
    /// empty), re-derives them, so typing the project fills in `<lbg>/<project>/#`.
    pub fn set_aedifion_project(&mut self, text: &str) {
        let untouched =
            self.subscriptions.is_empty() || self.subscriptions == self.default_subscriptions();
        self.aedifion_project = text.trim().to_owned();
        if untouched {
            self.subscriptions = self.default_subscriptions();
        }
    }

    /// Adds the `META/…` and `CONTROLS/…` filters of the aedifion project (QoS 1) unless present.
    /// Returns `false` when no valid project is set.
    pub fn add_aedifion_extra_subscriptions(&mut self) -> bool {
        let Some(project) = self.aedifion_project() else {
            return false;
        };
        for filter in [project.meta_filter(), project.controls_filter()] {
            if !self.subscriptions.iter().any(|s| s.filter == filter) {
                self.subscriptions
                    .push(Subscription::new(filter, Qos::AtLeastOnce));
            }
        }
        true
    }

    /// A copy with a new id, a new client id and the name "Copy of …".
    pub fn duplicate(&self) -> Self {
        Self {
            id: new_profile_id(),
            name: format!("Copy of {}", self.name),
            client_id: generate_client_id(),
            ..self.clone()
        }
    }

    /// Where this profile connects, as a URL without credentials (for lists and logs).
    pub fn display_url(&self) -> String {
        if self.demo {
            return "built-in demo broker".to_owned();
        }
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let path = if self.transport.uses_websocket() {
            self.ws_path.as_str()
        } else {
            ""
        };
        format!(
            "{}://{}:{}{}",
            self.transport.scheme(),
            host,
            self.port,
            path
        )
    }

    /// The host is this computer (`localhost`, `127.0.0.0/8`, `::1`): nothing leaves it.
    pub fn is_loopback_host(&self) -> bool {
        let host = self.host.trim().trim_end_matches('.');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|address| address.is_loopback())
    }

    /// A password sent with this profile would cross a network unencrypted and the profile does
    /// not allow it (the demo and loopback hosts never leave this computer).
    fn password_in_the_clear(&self) -> bool {
        !self.demo
            && !self.transport.uses_tls()
            && !self.is_loopback_host()
            && !self.allow_unencrypted_login
    }

    /// What is checked again right before connecting, with the password actually sent: every
    /// validation problem except a missing subscription (a command that only writes has none),
    /// plus a password over plain transport even when the profile does not store one.
    pub fn connect_problems(&self, sends_password: bool) -> Vec<ProfileError> {
        let mut problems: Vec<ProfileError> = self
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .filter(|problem| *problem != ProfileError::NoSubscriptions)
            .collect();
        let counted = problems
            .iter()
            .any(|problem| matches!(problem, ProfileError::PasswordOverPlainTransport { .. }));
        if sends_password && !counted && self.password_in_the_clear() {
            problems.push(ProfileError::PasswordOverPlainTransport {
                host: self.host.trim().to_owned(),
            });
        }
        problems
    }

    /// Warnings for the status bar while a connection with this profile is up.
    pub fn security_warnings(&self, sends_password: bool) -> Vec<String> {
        let mut warnings = Vec::new();
        if sends_password && !self.demo && !self.transport.uses_tls() && !self.is_loopback_host() {
            warnings.push(format!(
                "The password was sent unencrypted to {} (allowed in this profile).",
                self.host.trim()
            ));
        }
        if self.transport.uses_tls() && self.tls.accept_invalid_certs {
            warnings.push(
                "The server's certificate is not checked (Accept invalid certificates): anyone on \
                 the way could read the password and the data."
                    .to_owned(),
            );
        }
        warnings
    }

    /// Checks every field; returns all problems found, each tied to a [`ProfileField`].
    pub fn validate(&self) -> Result<(), Vec<ProfileError>> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(ProfileError::NameEmpty);
        }
        if !self.demo {
            self.validate_endpoint(&mut errors);
        }
        if let Err(error) = validate_client_id(&self.client_id) {
            errors.push(error);
        }
        if self.password_storage.needs_password() && self.username.is_empty() {
            errors.push(ProfileError::PasswordWithoutUsername);
        }
        if self.password_storage.needs_password() && self.password_in_the_clear() {
            errors.push(ProfileError::PasswordOverPlainTransport {
                host: self.host.trim().to_owned(),
            });
        }
        if self.is_aedifion_host() && self.transport.uses_tls() && self.tls.accept_invalid_certs {
            errors.push(ProfileError::InvalidCertsRefused);
        }
        if !self.aedifion_project.trim().is_empty() && self.aedifion_project().is_none() {
            errors.push(ProfileError::AedifionProjectMalformed);
        }
        self.validate_subscriptions(&mut errors);
        self.validate_decoder_overrides(&mut errors);
        if self.transport.uses_tls() && !self.demo {
            self.tls.validate(&mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn validate_endpoint(&self, errors: &mut Vec<ProfileError>) {
        let host = self.host.trim();
        if host.is_empty() {
            errors.push(ProfileError::HostEmpty);
        } else if !is_bare_host(host) {
            errors.push(ProfileError::HostMalformed(self.host.clone()));
        }
        if self.port == 0 {
            errors.push(ProfileError::PortZero);
        }
        if self.transport.uses_websocket() && !self.ws_path.starts_with('/') {
            errors.push(ProfileError::WsPathMalformed);
        }
        if self.is_aedifion_host() {
            if !self.transport.uses_tls() {
                errors.push(ProfileError::PlainTransportRefused);
            }
            if self.username.trim().is_empty() {
                errors.push(ProfileError::UsernameRequired);
            }
        }
    }

    /// Rows with an empty filter are ones still being typed: the worker skips them, so they are
    /// not an error.
    fn validate_decoder_overrides(&self, errors: &mut Vec<ProfileError>) {
        for (index, row) in self.decoder_overrides.iter().enumerate() {
            if row.filter.is_empty() {
                continue;
            }
            if let Err(reason) = check_topic_filter(&row.filter) {
                errors.push(ProfileError::DecoderOverrideInvalid {
                    index,
                    filter: row.filter.clone(),
                    reason,
                });
            }
        }
    }

    fn validate_subscriptions(&self, errors: &mut Vec<ProfileError>) {
        if self.subscriptions.is_empty() {
            errors.push(ProfileError::NoSubscriptions);
        }
        for (index, subscription) in self.subscriptions.iter().enumerate() {
            if let Err(reason) = check_topic_filter(&subscription.filter) {
                errors.push(ProfileError::SubscriptionInvalid {
                    index,
                    filter: subscription.filter.clone(),
                    reason,
                });
            } else if self.subscriptions[..index]
                .iter()
                .any(|s| s.filter == subscription.filter)
            {
                errors.push(ProfileError::SubscriptionDuplicate {
                    index,
                    filter: subscription.filter.clone(),
                });
            }
        }
    }
}

impl TlsSettings {
    fn validate(&self, errors: &mut Vec<ProfileError>) {
        let files = [
            (ProfileField::CaFile, &self.ca_file),
            (ProfileField::ClientCertFile, &self.client_cert_file),
            (ProfileField::ClientKeyFile, &self.client_key_file),
        ];
        for (field, path) in files {
            if let Some(path) = non_empty_path(path)
                && !path.is_file()
            {
                errors.push(ProfileError::TlsFileMissing {
                    field,
                    path: path.to_owned(),
                });
            }
        }
        let has_cert = non_empty_path(&self.client_cert_file).is_some();
        let has_key = non_empty_path(&self.client_key_file).is_some();
        if has_cert != has_key {
            errors.push(ProfileError::ClientCertWithoutKey);
        }
    }
}

/// `Some(path)` unless the option is `None` or an empty path (a cleared text field).
pub fn non_empty_path(path: &Option<PathBuf>) -> Option<&Path> {
    path.as_deref().filter(|p| !p.as_os_str().is_empty())
}

/// A host name or IP literal: no scheme, port, path, userinfo or whitespace.
fn is_bare_host(host: &str) -> bool {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    !host.contains(|c: char| c.is_whitespace() || c.is_control() || "/:@?#[]\\".contains(c))
}

/// Checks a client id against the rules in [`ProfileError`]'s client-id variants.
pub fn validate_client_id(client_id: &str) -> Result<(), ProfileError> {
    if client_id.is_empty() {
        return Err(ProfileError::ClientIdEmpty);
    }
    if let Some(bad) = client_id
        .chars()
        .find(|c| CLIENT_ID_FORBIDDEN.contains(c) || c.is_whitespace() || c.is_control())
    {
        return Err(ProfileError::ClientIdForbiddenChar(bad));
    }
    let length = client_id.chars().count();
    if length > CLIENT_ID_MAX_CHARS {
        return Err(ProfileError::ClientIdTooLong { length });
    }
    Ok(())
}

/// Checks an MQTT topic filter (MQTT 3.1.1 §4.7) with [`TopicFilter::parse`]; the reason says
/// what to fix.
pub fn check_topic_filter(filter: &str) -> Result<(), String> {
    TopicFilter::parse(filter)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// `TopicScope` followed by 12 random `[0-9A-Za-z]` characters (22 characters).
pub fn generate_client_id() -> String {
    let suffix: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(CLIENT_ID_RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("{CLIENT_ID_PREFIX}{suffix}")
}

/// A new random profile id (16 hex digits). Ids never change once given.
pub fn new_profile_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_profile() -> Profile {
        Profile {
            name: "Test".into(),
            ..Profile::new_with_fresh_ids()
        }
    }

    fn errors_of(profile: &Profile) -> Vec<ProfileError> {
        profile.validate().err().unwrap_or_default()
    }

    #[test]
    fn generated_client_id_has_prefix_and_22_alphanumeric_characters() {
        let id = generate_client_id();
        assert_eq!(id.len(), 22);
        assert!(id.starts_with("TopicScope"));
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(validate_client_id(&id), Ok(()));
        assert_ne!(generate_client_id(), generate_client_id());
    }

    #[test]
    fn client_id_longer_than_23_characters_is_refused() {
        assert_eq!(validate_client_id(&"a".repeat(23)), Ok(()));
        assert_eq!(
            validate_client_id(&"a".repeat(24)),
            Err(ProfileError::ClientIdTooLong { length: 24 })
        );
    }

    #[test]
    fn client_id_with_slash_plus_hash_or_space_is_refused_with_the_character() {
        for bad in ['/', '+', '#', ' '] {
            let id = format!("abc{bad}def");
            assert_eq!(
                validate_client_id(&id),
                Err(ProfileError::ClientIdForbiddenChar(bad))
            );
        }
        assert_eq!(validate_client_id(""), Err(ProfileError::ClientIdEmpty));
        let message = ProfileError::ClientIdForbiddenChar('#').to_string();
        assert!(message.contains("'#'"), "{message}");
    }

    #[test]
    fn fresh_profile_is_valid() {
        assert_eq!(valid_profile().validate(), Ok(()));
    }

    #[test]
    fn validation_reports_every_problem_with_its_field() {
        let profile = Profile {
            name: " ".into(),
            host: "mqtt://broker".into(),
            port: 0,
            client_id: "bad/id".into(),
            subscriptions: vec![Subscription::new("a/#/b", Qos::AtMostOnce)],
            ..valid_profile()
        };
        let fields: Vec<ProfileField> = errors_of(&profile)
            .iter()
            .map(ProfileError::field)
            .collect();
        assert_eq!(
            fields,
            vec![
                ProfileField::Name,
                ProfileField::Host,
                ProfileField::Port,
                ProfileField::ClientId,
                ProfileField::Subscription(0)
            ]
        );
    }

    #[test]
    fn topic_filter_rules_follow_mqtt_3_1_1() {
        for good in [
            "#",
            "+",
            "a/b",
            "a/+/c",
            "a/#",
            "+/+/#",
            "/",
            "META/lbg01/x/#",
        ] {
            assert_eq!(check_topic_filter(good), Ok(()), "{good}");
        }
        for bad in ["", "a/#/b", "a#", "a+/b", "a/b+", "##", "a\0b"] {
            assert!(check_topic_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_and_missing_subscriptions_are_reported() {
        let profile = Profile {
            subscriptions: vec![
                Subscription::new("a/#", Qos::AtMostOnce),
                Subscription::new("a/#", Qos::AtLeastOnce),
            ],
            ..valid_profile()
        };
        assert!(matches!(
            errors_of(&profile).as_slice(),
            [ProfileError::SubscriptionDuplicate { index: 1, .. }]
        ));
        let empty = Profile {
            subscriptions: Vec::new(),
            ..valid_profile()
        };
        assert_eq!(errors_of(&empty), vec![ProfileError::NoSubscriptions]);
    }

    #[test]
    fn an_invalid_decoder_override_filter_is_reported_and_an_unfinished_row_is_not() {
        use crate::model::decode::decoder_override::{DecoderChoice, DecoderOverride};
        let profile = Profile {
            decoder_overrides: vec![
                DecoderOverride::new("", DecoderChoice::Json),
                DecoderOverride::new("plant/#/x", DecoderChoice::Influx),
            ],
            ..valid_profile()
        };
        let errors = errors_of(&profile);
        assert!(
            matches!(
                errors.as_slice(),
                [ProfileError::DecoderOverrideInvalid { index: 1, .. }]
            ),
            "{errors:?}"
        );
        assert_eq!(errors[0].field(), ProfileField::DecoderOverride(1));
        assert!(errors[0].to_string().contains("plant/#/x"), "{}", errors[0]);
    }

    #[test]
    fn hosts_with_scheme_port_or_spaces_are_refused_but_ip_literals_pass() {
        for bad in ["mqtt://x", "host:1883", "a b", "x/y"] {
            let profile = Profile {
                host: bad.into(),
                ..valid_profile()
            };
            assert_eq!(
                errors_of(&profile),
                vec![ProfileError::HostMalformed(bad.into())],
                "{bad}"
            );
        }
        for good in ["127.0.0.1", "::1", "broker.example.com", "localhost"] {
            let profile = Profile {
                host: good.into(),
                ..valid_profile()
            };
            assert_eq!(profile.validate(), Ok(()), "{good}");
        }
    }

    #[test]
    fn password_without_username_is_refused() {
        let profile = Profile {
            password_storage: PasswordStorage::Ask,
            ..valid_profile()
        };
        assert_eq!(
            errors_of(&profile),
            vec![ProfileError::PasswordWithoutUsername]
        );
    }

    #[test]
    fn plain_tcp_to_aedifion_is_refused() {
        let profile = Profile {
            host: "mqtt2.aedifion.io".into(),
            username: "me".into(),
            ..valid_profile()
        };
        assert_eq!(
            errors_of(&profile),
            vec![ProfileError::PlainTransportRefused]
        );
    }

    #[test]
    fn a_password_over_plain_transport_to_another_computer_needs_an_explicit_allowance() {
        let lan = Profile {
            host: "192.168.1.20".into(),
            username: "me".into(),
            password_storage: PasswordStorage::Ask,
            ..valid_profile()
        };
        assert_eq!(
            errors_of(&lan),
            vec![ProfileError::PasswordOverPlainTransport {
                host: "192.168.1.20".into()
            }]
        );
        assert_eq!(errors_of(&lan)[0].field(), ProfileField::Transport);
        let allowed = Profile {
            allow_unencrypted_login: true,
            ..lan.clone()
        };
        assert_eq!(allowed.validate(), Ok(()));
        assert_eq!(allowed.security_warnings(true).len(), 1);
        for fine in [
            Profile {
                transport: Transport::Tls,
                ..lan.clone()
            },
            Profile {
                host: "127.0.0.1".into(),
                ..lan.clone()
            },
            Profile {
                host: "localhost".into(),
                ..lan.clone()
            },
            Profile {
                host: "::1".into(),
                ..lan.clone()
            },
        ] {
            assert_eq!(fine.validate(), Ok(()), "{}", fine.host);
            assert!(fine.security_warnings(true).is_empty(), "{}", fine.host);
        }
        // A password given at connect counts even if the profile stores none.
        let anonymous = Profile {
            host: "broker.lan".into(),
            username: "me".into(),
            ..valid_profile()
        };
        assert!(anonymous.connect_problems(false).is_empty());
        assert_eq!(anonymous.connect_problems(true).len(), 1);
        let writer = Profile {
            subscriptions: Vec::new(),
            ..valid_profile()
        };
        assert!(
            writer.connect_problems(false).is_empty(),
            "no subscription is fine"
        );
    }

    #[test]
    fn accepting_invalid_certificates_is_refused_for_aedifion_and_warned_about_elsewhere() {
        let aedifion = Profile {
            host: "mqtt2.aedifion.io".into(),
            port: 8884,
            transport: Transport::Tls,
            username: "me".into(),
            tls: TlsSettings {
                accept_invalid_certs: true,
                ..TlsSettings::default()
            },
            ..valid_profile()
        };
        assert_eq!(
            errors_of(&aedifion),
            vec![ProfileError::InvalidCertsRefused]
        );
        let lab = Profile {
            host: "broker.lab".into(),
            ..aedifion
        };
        assert_eq!(lab.validate(), Ok(()));
        assert!(lab.security_warnings(false)[0].contains("not checked"));
    }

    #[test]
    fn aedifion_extras_are_added_once() {
        let mut profile = valid_profile();
        profile.set_aedifion_project("lbg01/mybuilding");
        assert!(profile.add_aedifion_extra_subscriptions());
        assert!(profile.add_aedifion_extra_subscriptions());
        let filters: Vec<&str> = profile
            .subscriptions
            .iter()
            .map(|s| s.filter.as_str())
            .collect();
        assert_eq!(
            filters,
            [
                "lbg01/mybuilding/#",
                "META/lbg01/mybuilding/#",
                "CONTROLS/lbg01/mybuilding/#"
            ]
        );
    }

    #[test]
    fn changing_the_project_keeps_hand_edited_subscriptions() {
        let mut profile = valid_profile();
        profile.subscriptions = vec![Subscription::new("my/own", Qos::ExactlyOnce)];
        profile.set_aedifion_project("lbg01/x");
        assert_eq!(
            profile.subscriptions,
            vec![Subscription::new("my/own", Qos::ExactlyOnce)]
        );
    }

    #[test]
    fn malformed_aedifion_project_is_reported() {
        let profile = Profile {
            aedifion_project: "only-one-level".into(),
            ..valid_profile()
        };
        assert_eq!(
            errors_of(&profile),
            vec![ProfileError::AedifionProjectMalformed]
        );
    }

    #[test]
    fn duplicate_gets_new_ids_and_copy_name() {
        let original = valid_profile();
        let copy = original.duplicate();
        assert_ne!(copy.id, original.id);
        assert_ne!(copy.client_id, original.client_id);
        assert_eq!(copy.name, "Copy of Test");
        assert_eq!(copy.host, original.host);
    }

    #[test]
    fn tls_files_must_exist_and_cert_needs_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cert = dir.path().join("client.pem");
        std::fs::write(&cert, "pem").expect("write");
        let profile = Profile {
            transport: Transport::Tls,
            tls: TlsSettings {
                ca_file: Some(dir.path().join("missing.pem")),
                client_cert_file: Some(cert),
                ..TlsSettings::default()
            },
            ..valid_profile()
        };
        let fields: Vec<ProfileField> = errors_of(&profile)
            .iter()
            .map(ProfileError::field)
            .collect();
        assert_eq!(
            fields,
            vec![ProfileField::CaFile, ProfileField::ClientKeyFile]
        );
        let plain = Profile {
            transport: Transport::Tcp,
            ..profile
        };
        assert_eq!(
            plain.validate(),
            Ok(()),
            "TLS files are ignored without TLS"
        );
    }

    #[test]
    fn qos_is_written_as_a_number() {
        let text = toml::to_string(&Subscription::new("a", Qos::AtLeastOnce)).expect("serialize");
        assert!(text.contains("qos = 1"), "{text}");
        let back: Subscription = toml::from_str("filter = \"a\"\nqos = 2").expect("parse");
        assert_eq!(back.qos, Qos::ExactlyOnce);
        assert!(toml::from_str::<Subscription>("filter = \"a\"\nqos = 3").is_err());
    }
}
