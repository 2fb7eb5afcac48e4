//! Builds rumqttc options (TLS, WebSocket, credentials) from a profile.
//!
//! Everything that can go wrong here is a setting the user can fix (an unreadable CA file, a key
//! that is not PEM…), so it is reported as an [`OptionsError`] before any connection is tried.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rumqttc::{MqttOptions, TlsConfiguration, Transport as RumqttcTransport};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::model::config::profile::{Profile, TlsSettings, Transport};

/// Largest packet accepted in or out unless the caller chooses otherwise: 16 MiB, far above
/// rumqttc's 10 KiB default (which kills the connection on any bigger publish).
pub const DEFAULT_MAX_PACKET_BYTES: usize = 16 * 1024 * 1024;

/// The largest packet MQTT can express (remaining length of 268,435,455 bytes).
pub const MQTT_MAX_PACKET_BYTES: usize = 268_435_455;

/// Capacity of rumqttc's request channel (subscribe/publish requests waiting for the event loop).
pub const REQUEST_CHANNEL_CAPACITY: usize = 1024;

/// Prefix of generated client ids (plus 12 random characters: 22 in all, within MQTT 3.1's 23).
const GENERATED_CLIENT_ID_PREFIX: &str = "TopicScope";
const GENERATED_CLIENT_ID_RANDOM_CHARS: usize = 12;

/// A profile setting that cannot be turned into a connection. Messages say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// The host field is empty.
    #[error("the broker host is empty: enter a host name or IP address")]
    EmptyHost,
    /// Port 0 cannot be connected to.
    #[error("port 0 is not a broker port: enter the broker's port (often 1883, 8883 or 8884)")]
    ZeroPort,
    /// A certificate or key file could not be read.
    #[error("cannot read the {what} file {}: {source}", path.display())]
    ReadFile {
        /// Which file ("CA", "client certificate", "client key").
        what: &'static str,
        /// Where it was expected.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// A file is not PEM or holds no certificate.
    #[error("the {what} file {} holds no usable PEM certificate: {detail}", path.display())]
    BadCertificatePem {
        /// Which file ("CA", "client certificate").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the PEM parser or the trust store said.
        detail: String,
    },
    /// The client key file holds no private key.
    #[error(
        "the client key file {} holds no private key (expected PEM: PKCS#8, PKCS#1 or SEC1): {detail}",
        path.display()
    )]
    BadPrivateKeyPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        detail: String,
    },
    /// Only one half of the client certificate/key pair is set.
    #[error(
        "mutual TLS needs both a client certificate and a client key, but the {missing} is not set"
    )]
    IncompleteClientAuth {
        /// The half that is missing.
        missing: &'static str,
    },
    /// rustls refused the client certificate and key (e.g. they do not match).
    #[error("the client certificate and key cannot be used together: {0}")]
    ClientAuth(#[source] rustls::Error),
    /// rustls refused the protocol versions (should not happen with the built-in provider).
    #[error("TLS cannot be set up: {0}")]
    Tls(#[source] rustls::Error),
}

/// `host:port` for display, with IPv6 addresses in brackets.
pub fn broker_label(profile: &Profile) -> String {
    format!("{}:{}", url_host(profile.host.trim()), profile.port)
}

/// The WebSocket URL of a profile, e.g. `wss://mqtt2.aedifion.io:9001/mqtt`.
pub fn websocket_url(profile: &Profile, secure: bool) -> String {
    let scheme = if secure { "wss" } else { "ws" };
    let path = profile.ws_path.trim();
    let path = match path {
        "" => "/mqtt".to_owned(),
        path if path.starts_with('/') => path.to_owned(),
        path => format!("/{path}"),
    };
    format!(
        "{scheme}://{}:{}{path}",
        url_host(profile.host.trim()),
        profile.port
    )
}

/// The profile's client id, or a fresh `TopicScope` + 12 random alphanumerics when it is empty
/// (an empty id is only legal with a clean session, and brokers differ in what they do with it).
pub fn effective_client_id(configured: &str) -> String {
    let configured = configured.trim();
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let random: String = rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(GENERATED_CLIENT_ID_RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("{GENERATED_CLIENT_ID_PREFIX}{random}")
}

/// The packet size limit actually used: `requested`, or the default when 0, at most MQTT's maximum.
pub fn effective_max_packet_bytes(requested: usize) -> usize {
    if requested == 0 {
        DEFAULT_MAX_PACKET_BYTES
    } else {
        requested.min(MQTT_MAX_PACKET_BYTES)
    }
}

/// rumqttc options for `profile`: transport, TLS, client id, credentials, keep-alive, clean session,
/// MQTT 3.1.1 (rumqttc's v4 client), packet size limit in both directions.
pub fn mqtt_options(
    profile: &Profile,
    password: Option<&str>,
    max_packet_bytes: usize,
) -> Result<MqttOptions, OptionsError> {
    let host = profile.host.trim();
    if host.is_empty() {
        return Err(OptionsError::EmptyHost);
    }
    if profile.port == 0 {
        return Err(OptionsError::ZeroPort);
    }
    let client_id = effective_client_id(&profile.client_id);
    // For WebSockets rumqttc takes host, port and path from the URL given as the "host".
    let (address, transport) = match profile.transport {
        Transport::Tcp => (host.to_owned(), RumqttcTransport::Tcp),
        Transport::Tls => {
            let tls = TlsConfiguration::Rustls(tls_client_config(&profile.tls)?);
            (host.to_owned(), RumqttcTransport::tls_with_config(tls))
        }
        Transport::WebSocket => (websocket_url(profile, false), RumqttcTransport::Ws),
        Transport::SecureWebSocket => {
            let tls = TlsConfiguration::Rustls(tls_client_config(&profile.tls)?);
            (
                websocket_url(profile, true),
                RumqttcTransport::wss_with_config(tls),
            )
        }
    };
    let mut options = MqttOptions::new(client_id, address, profile.port);
    options.set_transport(transport);
    // rumqttc accepts 0 (no keep-alive) or whole seconds >= 1; a u16 of seconds is always one.
    options.set_keep_alive(Duration::from_secs(u64::from(profile.keep_alive_secs)));
    // The client id is never empty here, so rumqttc's assertion cannot fire.
    options.set_clean_session(profile.clean_session);
    // A password travels only with a user name: MQTT 3.1.1 (§3.1.2.9) forbids one without,
    // and Mosquitto refuses such a connection with no reason the user could see.
    if !profile.username.is_empty() {
        options.set_credentials(profile.username.clone(), password.unwrap_or_default());
    }
    let limit_bytes = effective_max_packet_bytes(max_packet_bytes);
    options.set_max_packet_size(limit_bytes, limit_bytes);
    options.set_request_channel_capacity(REQUEST_CHANNEL_CAPACITY);
    Ok(options)
}

/// The rustls client configuration for `settings`: TLS 1.2 and 1.3 with the aws-lc-rs provider,
/// roots = OS trust store + the optional extra CA file, optional client certificate (mutual TLS),
/// or, when `accept_invalid_certs` is on, a verifier that accepts any server certificate.
pub fn tls_client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, OptionsError> {
    // Built explicitly with aws-lc-rs: ring is compiled in too, so there is no process default.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(OptionsError::Tls)?;
    let builder = if settings.accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(DangerousAcceptAnyServerCertificate {
                provider,
            }))
    } else {
        builder.with_root_certificates(root_store(settings.ca_file.as_deref())?)
    };
    let config = match client_identity(settings)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(OptionsError::ClientAuth)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// OS trust store plus the certificates of `extra_ca_file`.
fn root_store(extra_ca_file: Option<&Path>) -> Result<RootCertStore, OptionsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!("skipping part of the OS trust store: {error}");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!("OS trust store: {added} certificates, {ignored} unusable");
    if let Some(path) = extra_ca_file {
        for certificate in read_certificates("CA", path)? {
            roots
                .add(certificate)
                .map_err(|error| OptionsError::BadCertificatePem {
                    what: "CA",
                    path: path.to_owned(),
                    detail: error.to_string(),
                })?;
        }
    }
    Ok(roots)
}

/// The client certificate chain and key, if mutual TLS is configured.
fn client_identity(
    settings: &TlsSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, OptionsError> {
    match (&settings.client_cert_file, &settings.client_key_file) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(OptionsError::IncompleteClientAuth {
            missing: "client key file",
        }),
        (None, Some(_)) => Err(OptionsError::IncompleteClientAuth {
            missing: "client certificate file",
        }),
        (Some(cert_path), Some(key_path)) => {
            let chain = read_certificates("client certificate", cert_path)?;
            let key_pem = read_file("client key", key_path)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| {
                OptionsError::BadPrivateKeyPem {
                    path: key_path.clone(),
                    detail: error.to_string(),
                }
            })?;
            Ok(Some((chain, key)))
        }
    }
}

/// Every certificate in a PEM file; at least one, or an error naming the file.
fn read_certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, OptionsError> {
    let pem = read_file(what, path)?;
    let bad_pem = |detail: String| OptionsError::BadCertificatePem {
        what,
        path: path.to_owned(),
        detail,
    };
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| bad_pem(error.to_string()))?;
    if certificates.is_empty() {
        return Err(bad_pem("no \"BEGIN CERTIFICATE\" section found".to_owned()));
    }
    Ok(certificates)
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, OptionsError> {
    std::fs::read(path).map_err(|source| OptionsError::ReadFile {
        what,
        path: path.to_owned(),
        source,
    })
}

/// IPv6 literals need brackets in URLs and `host:port` labels.
fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// DANGEROUS: accepts any server certificate (unknown issuer, wrong host, expired).
/// Used only when the profile's `accept_invalid_certs` switch is on; the UI warns while it is.
/// The handshake signatures are still checked, so the server must hold the certificate's key,
/// but nothing proves the certificate belongs to the broker: the connection can be intercepted.
#[derive(Debug)]
struct DangerousAcceptAnyServerCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for DangerousAcceptAnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn profile(transport: Transport) -> Profile {
        Profile {
            host: "broker.example".into(),
            port: 9001,
            transport,
            client_id: "TopicScopeTest".into(),
            ..Profile::default()
        }
    }

    fn temp_file(contents: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(contents.as_bytes())
            .expect("write temp file");
        file
    }

    #[test]
    fn websocket_url_adds_scheme_port_and_path() {
        let mut ws = profile(Transport::WebSocket);
        assert_eq!(websocket_url(&ws, false), "ws://broker.example:9001/mqtt");
        ws.ws_path = "ws".into();
        assert_eq!(websocket_url(&ws, true), "wss://broker.example:9001/ws");
        ws.ws_path = String::new();
        assert_eq!(websocket_url(&ws, true), "wss://broker.example:9001/mqtt");
    }

    #[test]
    fn ipv6_hosts_are_bracketed_in_labels_and_urls() {
        let mut ws = profile(Transport::WebSocket);
        ws.host = "::1".into();
        assert_eq!(broker_label(&ws), "[::1]:9001");
        assert_eq!(websocket_url(&ws, false), "ws://[::1]:9001/mqtt");
    }

    #[test]
    fn empty_client_id_gets_a_generated_one_of_22_characters() {
        let generated = effective_client_id("  ");
        assert!(generated.starts_with("TopicScope"));
        assert_eq!(generated.len(), 22);
        assert!(generated.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(generated, effective_client_id(""), "ids are random");
        assert_eq!(effective_client_id("mine"), "mine");
    }

    #[test]
    fn packet_limit_defaults_and_is_capped_at_mqtt_maximum() {
        assert_eq!(effective_max_packet_bytes(0), DEFAULT_MAX_PACKET_BYTES);
        assert_eq!(
            effective_max_packet_bytes(usize::MAX),
            MQTT_MAX_PACKET_BYTES
        );
        assert_eq!(effective_max_packet_bytes(1024), 1024);
    }

    #[test]
    fn options_carry_profile_settings_and_raised_packet_limit() {
        let mut tcp = profile(Transport::Tcp);
        tcp.username = "alice".into();
        tcp.keep_alive_secs = 30;
        tcp.clean_session = false;
        let options = mqtt_options(&tcp, Some("secret"), 0).expect("valid profile");
        assert_eq!(
            options.broker_address(),
            ("broker.example".to_owned(), 9001)
        );
        assert_eq!(options.client_id(), "TopicScopeTest");
        assert_eq!(options.keep_alive(), Duration::from_secs(30));
        assert!(!options.clean_session());
        assert_eq!(options.max_packet_size(), DEFAULT_MAX_PACKET_BYTES);
        let login = options.credentials().expect("credentials set");
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("alice", "secret")
        );
    }

    #[test]
    fn anonymous_profile_sends_no_credentials() {
        let options = mqtt_options(&profile(Transport::Tcp), None, 0).expect("valid profile");
        assert!(options.credentials().is_none());
    }

    #[test]
    fn a_password_without_a_user_name_is_not_sent() {
        // MQTT 3.1.1 (§3.1.2.9) forbids a password without a user name; Mosquitto refuses
        // the connection.
        let options =
            mqtt_options(&profile(Transport::Tcp), Some("from-the-env"), 0).expect("valid profile");
        assert!(options.credentials().is_none());
    }

    #[test]
    fn websocket_options_use_the_url_as_address() {
        let options = mqtt_options(&profile(Transport::WebSocket), None, 0).expect("valid profile");
        assert_eq!(options.broker_address().0, "ws://broker.example:9001/mqtt");
        assert!(matches!(options.transport(), RumqttcTransport::Ws));
        let secure = mqtt_options(&profile(Transport::SecureWebSocket), None, 0).expect("valid");
        assert!(matches!(
            secure.transport(),
            RumqttcTransport::Wss(TlsConfiguration::Rustls(_))
        ));
    }

    #[test]
    fn empty_host_and_port_zero_are_refused() {
        let mut bad = profile(Transport::Tcp);
        bad.host = " ".into();
        assert!(matches!(
            mqtt_options(&bad, None, 0),
            Err(OptionsError::EmptyHost)
        ));
        bad.host = "h".into();
        bad.port = 0;
        assert!(matches!(
            mqtt_options(&bad, None, 0),
            Err(OptionsError::ZeroPort)
        ));
    }

    #[test]
    fn missing_ca_file_names_the_file() {
        let settings = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        let error = tls_client_config(&settings).expect_err("file does not exist");
        assert!(matches!(error, OptionsError::ReadFile { what: "CA", .. }));
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn ca_file_without_certificate_is_refused_with_an_explanation() {
        let file = temp_file("this is not a certificate\n");
        let settings = TlsSettings {
            ca_file: Some(file.path().into()),
            ..TlsSettings::default()
        };
        let error = tls_client_config(&settings).expect_err("no PEM inside");
        assert!(
            error.to_string().contains("no usable PEM certificate"),
            "{error}"
        );
    }

    #[test]
    fn ca_file_with_garbage_certificate_is_refused() {
        let file = temp_file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        let settings = TlsSettings {
            ca_file: Some(file.path().into()),
            ..TlsSettings::default()
        };
        assert!(matches!(
            tls_client_config(&settings),
            Err(OptionsError::BadCertificatePem { what: "CA", .. })
        ));
    }

    #[test]
    fn half_a_client_identity_is_refused() {
        let settings = TlsSettings {
            client_cert_file: Some("c.pem".into()),
            ..TlsSettings::default()
        };
        let error = tls_client_config(&settings).expect_err("key missing");
        assert!(
            error.to_string().contains("client key file is not set"),
            "{error}"
        );
    }

    #[test]
    fn accept_invalid_certs_builds_without_any_roots() {
        let settings = TlsSettings {
            accept_invalid_certs: true,
            ..TlsSettings::default()
        };
        assert!(tls_client_config(&settings).is_ok());
    }

    #[test]
    fn default_tls_settings_use_the_os_trust_store() {
        assert!(tls_client_config(&TlsSettings::default()).is_ok());
    }
}
