//! Connection profiles (serde). Data types are the contract for the worker and the UI.
//! OWNER: profiles helper (validation, presets, client ids, URL parsing live here too).
//!
//! A profile never holds a password: [`PasswordStorage`] only says where the password lives
//! (OS keychain keyed by [`Profile::id`], or asked for at connect time).

use std::path::{Path, PathBuf};

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::message::Qos;
use super::topic::TopicFilter;

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

    use crate::model::message::Qos;

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

/// An aedifion.io project: the first two topic levels, `<load_balancing_group>/<project_handle>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AedifionProject {
    /// First topic level, assigned by aedifion (e.g. `lbg01`).
    pub load_balancing_group: String,
    /// Second topic level, the project's fixed handle (e.g. `mybuilding`).
    pub project_handle: String,
}

impl AedifionProject {
    /// Parses `lbg/handle`; `None` unless it is exactly two non-empty levels without wildcards.
    pub fn parse(text: &str) -> Option<Self> {
        let (group, handle) = text.trim().split_once('/')?;
        let level_ok = |level: &str| {
            !level.is_empty() && level.trim() == level && !level.contains(['/', '+', '#', '\0'])
        };
        (level_ok(group) && level_ok(handle)).then(|| Self {
            load_balancing_group: group.to_owned(),
            project_handle: handle.to_owned(),
        })
    }

    /// `<lbg>/<project>/#`: the project's time series (what an aedifion account is granted).
    pub fn data_filter(&self) -> String {
        format!("{}/{}/#", self.load_balancing_group, self.project_handle)
    }

    /// `META/<lbg>/<project>/#`: datapoint metadata (JSON).
    pub fn meta_filter(&self) -> String {
        format!("META/{}", self.data_filter())
    }

    /// `CONTROLS/<lbg>/<project>/#`: control messages (SWOP JSON).
    pub fn controls_filter(&self) -> String {
        format!("CONTROLS/{}", self.data_filter())
    }
}

impl std::fmt::Display for AedifionProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.load_balancing_group, self.project_handle)
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
    /// Saved publish templates of this profile.
    pub templates: Vec<super::templates::Template>,
    /// Topic patterns whose payloads are decoded with a fixed decoder instead of automatically
    /// (first matching row wins).
    pub decoder_overrides: Vec<super::decoder_override::DecoderOverride>,
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
            templates: Vec::new(),
            decoder_overrides: Vec::new(),
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
            ProfileError::PlainTransportRefused => ProfileField::Transport,
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

/// Ready-made starting points for new profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `mqtt2.aedifion.io:8884`, TLS.
    AedifionProduction,
    /// `mqtt-dev.aedifion.io:8884`, TLS.
    AedifionDevelopment,
    /// `wss://mqtt2.aedifion.io:9001/mqtt`.
    AedifionProductionWebSocket,
    /// `wss://mqtt-dev.aedifion.io:9001/mqtt`.
    AedifionDevelopmentWebSocket,
    /// A Mosquitto on this machine, `localhost:1883`.
    LocalMosquitto,
    /// The built-in demo broker and building simulator.
    Demo,
    /// An empty generic profile.
    Blank,
}

impl Preset {
    /// Every preset, in the order the UI offers them.
    pub const ALL: [Preset; 7] = [
        Preset::AedifionProduction,
        Preset::AedifionDevelopment,
        Preset::AedifionProductionWebSocket,
        Preset::AedifionDevelopmentWebSocket,
        Preset::LocalMosquitto,
        Preset::Demo,
        Preset::Blank,
    ];

    /// The name shown in the preset chooser (and given to the new profile).
    pub fn label(self) -> &'static str {
        match self {
            Preset::AedifionProduction => "aedifion.io production",
            Preset::AedifionDevelopment => "aedifion.io development",
            Preset::AedifionProductionWebSocket => "aedifion.io production (WebSocket)",
            Preset::AedifionDevelopmentWebSocket => "aedifion.io development (WebSocket)",
            Preset::LocalMosquitto => "Local Mosquitto",
            Preset::Demo => "Demo",
            Preset::Blank => "Blank",
        }
    }

    /// A new profile (fresh id and client id) from this preset.
    pub fn profile(self) -> Profile {
        let base = Profile {
            name: self.label().to_owned(),
            ..Profile::new_with_fresh_ids()
        };
        match self {
            Preset::AedifionProduction => aedifion(base, "mqtt2.aedifion.io", Transport::Tls),
            Preset::AedifionDevelopment => aedifion(base, "mqtt-dev.aedifion.io", Transport::Tls),
            Preset::AedifionProductionWebSocket => {
                aedifion(base, "mqtt2.aedifion.io", Transport::SecureWebSocket)
            }
            Preset::AedifionDevelopmentWebSocket => {
                aedifion(base, "mqtt-dev.aedifion.io", Transport::SecureWebSocket)
            }
            Preset::LocalMosquitto => Profile {
                host: "localhost".into(),
                port: 1883,
                ..base
            },
            Preset::Demo => Profile {
                demo: true,
                host: "127.0.0.1".into(),
                ..base
            },
            Preset::Blank => Profile {
                name: "New profile".into(),
                ..base
            },
        }
    }
}

/// aedifion.io settings: TLS on 8884 (or WebSocket on 9001), keep-alive 60 s, QoS 1, user name
/// required, password in the keychain. Subscriptions follow once the project is entered.
fn aedifion(base: Profile, host: &str, transport: Transport) -> Profile {
    let port = if transport.uses_websocket() {
        9001
    } else {
        8884
    };
    Profile {
        host: host.to_owned(),
        port,
        transport,
        ws_path: DEFAULT_WS_PATH.into(),
        mqtt_version: MqttVersion::V3_1_1,
        keep_alive_secs: DEFAULT_KEEP_ALIVE_SECS,
        password_storage: PasswordStorage::Keychain,
        subscriptions: Vec::new(),
        // Writing to a real building must be a deliberate choice.
        read_only: true,
        ..base
    }
}

/// Why a `--url` could not become a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL at all.
    #[error("\"{url}\" is not a URL ({reason}); write it like mqtt://localhost:1883")]
    Malformed {
        /// The input.
        url: String,
        /// What the parser said.
        reason: String,
    },
    /// No `scheme://`.
    #[error("\"{0}\" has no scheme; write it like mqtt://{0} (or mqtts://, ws://, wss://)")]
    MissingScheme(String),
    /// A scheme other than mqtt, mqtts, ws, wss.
    #[error("unsupported scheme \"{0}\": use mqtt://, mqtts://, ws:// or wss://")]
    UnsupportedScheme(String),
    /// No host.
    #[error("the URL has no host; write it like mqtt://localhost:1883")]
    MissingHost,
    /// A password in the URL would end up in shell history and process lists.
    #[error(
        "do not put the password in the URL: set the TOPICSCOPE_PASSWORD environment variable instead"
    )]
    PasswordInUrl,
    /// A path on a non-WebSocket URL.
    #[error("a path (\"{0}\") only makes sense for ws:// and wss:// URLs")]
    PathWithoutWebSocket(String),
    /// Query or fragment.
    #[error("the URL must not have a query (?…) or fragment (#…)")]
    QueryOrFragment,
    /// Port 0.
    #[error("port 0 is not valid: use 1–65535")]
    PortZero,
}

/// Turns `mqtt[s]|ws[s]://[user@]host[:port][/path]` into an ad-hoc profile.
///
/// Default ports: mqtt 1883, mqtts 8883, ws 80, wss 443; WebSocket path defaults to `/mqtt`.
/// With a user name the password is asked for (or taken from `TOPICSCOPE_PASSWORD` by the CLI).
/// The profile subscribes to `#`; the caller may replace the subscriptions.
pub fn url_to_profile(text: &str) -> Result<Profile, UrlError> {
    let text = text.trim();
    if !text.contains("://") {
        return Err(UrlError::MissingScheme(text.to_owned()));
    }
    let url = url::Url::parse(text).map_err(|error| UrlError::Malformed {
        url: text.to_owned(),
        reason: error.to_string(),
    })?;
    let transport = match url.scheme() {
        "mqtt" | "tcp" => Transport::Tcp,
        "mqtts" | "ssl" | "tls" => Transport::Tls,
        "ws" => Transport::WebSocket,
        "wss" => Transport::SecureWebSocket,
        other => return Err(UrlError::UnsupportedScheme(other.to_owned())),
    };
    if url.password().is_some() {
        return Err(UrlError::PasswordInUrl);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::QueryOrFragment);
    }
    let host = match url.host() {
        Some(url::Host::Domain(domain)) if !domain.is_empty() => percent_decode(domain),
        Some(url::Host::Ipv4(address)) => address.to_string(),
        Some(url::Host::Ipv6(address)) => address.to_string(),
        _ => return Err(UrlError::MissingHost),
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(transport.default_port());
    if port == 0 {
        return Err(UrlError::PortZero);
    }
    let path = url.path();
    let ws_path = if transport.uses_websocket() {
        if path.is_empty() || path == "/" {
            DEFAULT_WS_PATH.to_owned()
        } else {
            path.to_owned()
        }
    } else if path.is_empty() || path == "/" {
        DEFAULT_WS_PATH.to_owned()
    } else {
        return Err(UrlError::PathWithoutWebSocket(path.to_owned()));
    };
    let username = percent_decode(url.username());
    let password_storage = if username.is_empty() {
        PasswordStorage::None
    } else {
        PasswordStorage::Ask
    };
    let mut profile = Profile {
        host,
        port,
        transport,
        ws_path,
        username,
        password_storage,
        ..Profile::new_with_fresh_ids()
    };
    profile.name = profile.display_url();
    Ok(profile)
}

/// Decodes `%XX` escapes (user names like `me%40example.com`); invalid escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
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
        use crate::model::decoder_override::{DecoderChoice, DecoderOverride};
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
    fn aedifion_presets_use_tls_port_8884_qos_1_keychain_and_need_a_username() {
        let profile = Preset::AedifionProduction.profile();
        assert_eq!(profile.host, "mqtt2.aedifion.io");
        assert_eq!(profile.port, 8884);
        assert_eq!(profile.transport, Transport::Tls);
        assert_eq!(profile.mqtt_version, MqttVersion::V3_1_1);
        assert_eq!(profile.keep_alive_secs, 60);
        assert_eq!(profile.password_storage, PasswordStorage::Keychain);
        let errors = errors_of(&profile);
        assert!(
            errors.contains(&ProfileError::UsernameRequired),
            "{errors:?}"
        );

        let mut ready = Profile {
            username: "me".into(),
            ..profile
        };
        ready.set_aedifion_project("lbg01/mybuilding");
        assert_eq!(
            ready.subscriptions,
            vec![Subscription::new("lbg01/mybuilding/#", Qos::AtLeastOnce)]
        );
        assert_eq!(ready.validate(), Ok(()));

        let dev = Preset::AedifionDevelopment.profile();
        assert_eq!(
            (dev.host.as_str(), dev.port),
            ("mqtt-dev.aedifion.io", 8884)
        );
    }

    #[test]
    fn aedifion_websocket_presets_use_port_9001_and_path_mqtt() {
        for (preset, host) in [
            (Preset::AedifionProductionWebSocket, "mqtt2.aedifion.io"),
            (Preset::AedifionDevelopmentWebSocket, "mqtt-dev.aedifion.io"),
        ] {
            let profile = preset.profile();
            assert_eq!(profile.display_url(), format!("wss://{host}:9001/mqtt"));
        }
    }

    #[test]
    fn local_mosquitto_and_demo_presets_are_valid_as_they_come() {
        let local = Preset::LocalMosquitto.profile();
        assert_eq!(local.display_url(), "mqtt://localhost:1883");
        assert_eq!(local.validate(), Ok(()));
        let demo = Preset::Demo.profile();
        assert!(demo.demo);
        assert_eq!(demo.validate(), Ok(()));
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
    fn aedifion_project_derives_filters_and_extras_are_added_once() {
        let project = AedifionProject::parse("lbg01/mybuilding").expect("valid");
        assert_eq!(project.meta_filter(), "META/lbg01/mybuilding/#");
        assert_eq!(project.controls_filter(), "CONTROLS/lbg01/mybuilding/#");
        for bad in ["lbg01", "lbg01/", "/x", "a/b/c", "a/+", "a/#"] {
            assert_eq!(AedifionProject::parse(bad), None, "{bad}");
        }
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
    fn url_with_defaults_becomes_a_tcp_profile_subscribing_to_everything() {
        let profile = url_to_profile("mqtt://broker.example.com").expect("valid");
        assert_eq!(
            (profile.host.as_str(), profile.port),
            ("broker.example.com", 1883)
        );
        assert_eq!(profile.transport, Transport::Tcp);
        assert_eq!(
            profile.subscriptions,
            vec![Subscription::new("#", Qos::AtMostOnce)]
        );
        assert_eq!(profile.password_storage, PasswordStorage::None);
        assert_eq!(profile.name, "mqtt://broker.example.com:1883");
        assert_eq!(profile.validate(), Ok(()));
    }

    #[test]
    fn url_schemes_map_to_transports_and_default_ports() {
        let cases = [
            ("mqtts://h", Transport::Tls, 8883),
            ("ws://h", Transport::WebSocket, 80),
            ("wss://h", Transport::SecureWebSocket, 443),
            ("wss://h:9001/ws", Transport::SecureWebSocket, 9001),
            ("MQTT://h:1884", Transport::Tcp, 1884),
        ];
        for (url, transport, port) in cases {
            let profile = url_to_profile(url).expect(url);
            assert_eq!(
                (profile.transport, profile.port),
                (transport, port),
                "{url}"
            );
        }
    }

    #[test]
    fn url_websocket_path_defaults_to_mqtt() {
        assert_eq!(url_to_profile("ws://h").expect("ok").ws_path, "/mqtt");
        assert_eq!(url_to_profile("ws://h/").expect("ok").ws_path, "/mqtt");
        assert_eq!(
            url_to_profile("wss://h:9001/custom/path")
                .expect("ok")
                .ws_path,
            "/custom/path"
        );
    }

    #[test]
    fn url_user_is_decoded_and_password_is_asked() {
        let profile =
            url_to_profile("mqtts://me%40example.com@mqtt2.aedifion.io:8884").expect("ok");
        assert_eq!(profile.username, "me@example.com");
        assert_eq!(profile.password_storage, PasswordStorage::Ask);
        assert_eq!(profile.host, "mqtt2.aedifion.io");
    }

    #[test]
    fn url_ipv6_host_loses_its_brackets() {
        let profile = url_to_profile("mqtt://[::1]:1883").expect("ok");
        assert_eq!(profile.host, "::1");
        assert_eq!(profile.display_url(), "mqtt://[::1]:1883");
        assert_eq!(profile.validate(), Ok(()));
    }

    #[test]
    fn url_errors_say_what_to_write() {
        assert_eq!(
            url_to_profile("localhost:1883"),
            Err(UrlError::MissingScheme("localhost:1883".into()))
        );
        assert_eq!(
            url_to_profile("http://h"),
            Err(UrlError::UnsupportedScheme("http".into()))
        );
        assert_eq!(
            url_to_profile("mqtt://u:secret@h"),
            Err(UrlError::PasswordInUrl)
        );
        assert_eq!(
            url_to_profile("mqtt://h/path"),
            Err(UrlError::PathWithoutWebSocket("/path".into()))
        );
        assert_eq!(
            url_to_profile("mqtt://h?x=1"),
            Err(UrlError::QueryOrFragment)
        );
        assert_eq!(url_to_profile("mqtt://h:0"), Err(UrlError::PortZero));
        assert!(matches!(
            url_to_profile("mqtt://h:99999"),
            Err(UrlError::Malformed { .. })
        ));
        assert!(matches!(
            url_to_profile("mqtt://"),
            Err(UrlError::Malformed { .. } | UrlError::MissingHost)
        ));
        assert!(!UrlError::PasswordInUrl.to_string().contains("secret"));
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
