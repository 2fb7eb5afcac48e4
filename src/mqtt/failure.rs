//! Turns rumqttc's connection errors into plain-language failures.
//!
//! rumqttc wraps the interesting cause deep inside: a TLS certificate problem is a `rustls::Error`
//! inside an `io::Error` inside `rumqttc::TlsError` (or inside a tungstenite error for `wss://`).
//! So the classifier walks the error chain, looking inside `io::Error`s too.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};

use super::status::FailureReason;

/// A classified connection failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The category the UI shows.
    pub reason: FailureReason,
    /// A full sentence starting with the reason's summary and saying what to do.
    pub message: String,
    /// Size of an incoming packet refused for exceeding the packet size limit, if that was the cause.
    pub oversize_packet_bytes: Option<usize>,
}

/// What the classifier needs to know besides the error.
#[derive(Debug, Clone, Copy)]
pub struct FailureContext<'a> {
    /// `host:port` for messages.
    pub broker: &'a str,
    /// The host name alone (DNS messages).
    pub host: &'a str,
    /// The connection was up (CONNACK accepted) when the error happened.
    pub was_connected: bool,
    /// The packet size limit in force.
    pub max_packet_bytes: usize,
    /// The client id sent in CONNECT (messages about a take-over name it).
    pub client_id: &'a str,
    /// How long the connection had been up when it failed (`None`: it never came up).
    pub connected_for: Option<Duration>,
    /// The filters subscribed (where an unreadable retained message probably came from).
    pub filters: &'a [String],
}

/// A connection that fails within this time after its CONNACK was probably thrown off by
/// something the broker does at once (a take-over, a retained message it cannot deliver).
const SOON_AFTER_CONNECTING: Duration = super::backoff::STABLE_AFTER;

/// Classifies `error` into a reason and an actionable message.
pub fn classify(error: &ConnectionError, context: FailureContext<'_>) -> Failure {
    let failure = |reason: FailureReason, advice: String| Failure {
        message: format!("{}: {advice}", reason.summary()),
        reason,
        oversize_packet_bytes: None,
    };
    let broker = context.broker;
    if let ConnectionError::ConnectionRefused(code) = error {
        return classify_connack(*code, broker);
    }
    if let ConnectionError::MqttState(StateError::Deserialization(
        rumqttc::Error::PayloadSizeLimitExceeded(size_bytes),
    )) = error
    {
        let mut lost = failure(
            FailureReason::ConnectionLost,
            format!(
                "the broker sent a packet of {size_bytes} bytes, more than the limit of {} bytes; \
                 it was refused and the connection closed. Unsubscribe from the topic carrying it \
                 or raise the packet size limit",
                context.max_packet_bytes
            ),
        );
        if let Some(origin) = retained_origin(&context) {
            lost.message.push_str(&format!(
                ". Its topic cannot be known (the packet is refused before its topic is read); \
                 {origin}"
            ));
        }
        lost.oversize_packet_bytes = Some(*size_bytes);
        return lost;
    }
    if let ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::TopicNotUtf8)) =
        error
    {
        let mut lost = failure(
            FailureReason::ConnectionLost,
            format!(
                "{broker} sent a message whose topic is not valid UTF-8, which MQTT forbids; the \
                 connection had to close. Unsubscribe from the filter that carries it"
            ),
        );
        if let Some(origin) = retained_origin(&context) {
            lost.message.push_str(&format!(" ({origin})"));
        }
        return lost;
    }
    if let Some(taken_over) = closed_soon_after_connecting(error, &context) {
        return taken_over;
    }
    if let Some(tls_error) = find_in_chain::<rustls::Error>(error) {
        return classify_tls(tls_error, broker);
    }
    if !context.was_connected
        && let Some(io_error) = find_in_chain::<io::Error>(error)
        && let Some(failure) = classify_connect_io(io_error, context)
    {
        return failure;
    }
    match error {
        ConnectionError::NetworkTimeout if !context.was_connected => failure(
            FailureReason::Timeout,
            format!("{broker} did not answer in time: check host, port, transport and firewall"),
        ),
        ConnectionError::Tls(detail) => failure(
            FailureReason::Tls,
            format!(
                "TLS with {broker} failed ({}): check that this port expects TLS",
                chain_text(detail)
            ),
        ),
        ConnectionError::Websocket(_) | ConnectionError::ResponseValidation(_) => failure(
            FailureReason::Other,
            format!(
                "WebSocket connection to {broker} failed ({}): check the port, the transport and the \
                 WebSocket path",
                chain_text(error)
            ),
        ),
        ConnectionError::InvalidUrl(_) | ConnectionError::WsConnect(_) => failure(
            FailureReason::Configuration,
            format!(
                "the WebSocket address is not valid ({}): check host and path",
                chain_text(error)
            ),
        ),
        ConnectionError::NotConnAck(packet) => failure(
            FailureReason::Other,
            format!("{broker} answered {packet:?} instead of CONNACK: is this an MQTT port?"),
        ),
        _ if context.was_connected => failure(
            FailureReason::ConnectionLost,
            format!("the connection to {broker} dropped ({})", chain_text(error)),
        ),
        _ => failure(
            FailureReason::Other,
            format!("could not connect to {broker} ({})", chain_text(error)),
        ),
    }
}

/// "arrived N s after connecting: probably a retained message under one of: …", when the
/// connection failed soon after it came up and has subscriptions.
fn retained_origin(context: &FailureContext<'_>) -> Option<String> {
    let connected_for = context.connected_for?;
    if connected_for >= SOON_AFTER_CONNECTING || context.filters.is_empty() {
        return None;
    }
    Some(format!(
        "it arrived {:.1} s after connecting, so it is probably a retained message under one of: {}",
        connected_for.as_secs_f64(),
        context.filters.join(", ")
    ))
}

/// The broker closed a connection it had accepted only moments before: in MQTT 3.1.1 it gives
/// no reason, and the usual one is another client taking over the client id.
fn closed_soon_after_connecting(
    error: &ConnectionError,
    context: &FailureContext<'_>,
) -> Option<Failure> {
    let connected_for = context.connected_for?;
    if connected_for >= SOON_AFTER_CONNECTING {
        return None;
    }
    let closed_by_peer = matches!(
        error,
        ConnectionError::MqttState(StateError::ConnectionAborted)
    ) || find_in_chain::<io::Error>(error).is_some_and(|io_error| {
        matches!(
            io_error.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        )
    });
    if !closed_by_peer {
        return None;
    }
    let reason = FailureReason::ConnectionLost;
    Some(Failure {
        message: format!(
            "{}: {} closed the connection {:.1} s after accepting it. A broker does this when \
             another client connects with the same client id \"{}\" (it keeps only the newest \
             connection): give every program and window its own client id. It also does it when \
             the account may not do what was asked",
            reason.summary(),
            context.broker,
            connected_for.as_secs_f64(),
            context.client_id
        ),
        reason,
        oversize_packet_bytes: None,
    })
}

/// CONNACK refusal codes (MQTT 3.1.1 §3.2.2.3).
fn classify_connack(code: ConnectReturnCode, broker: &str) -> Failure {
    let (reason, advice) = match code {
        ConnectReturnCode::BadUserNamePassword => (
            FailureReason::BadCredentials,
            format!("{broker} refused the user name or password: check them in the profile"),
        ),
        ConnectReturnCode::NotAuthorized => (
            FailureReason::NotAuthorized,
            format!(
                "{broker} refused this login (many brokers, Mosquitto included, answer this to a \
                 wrong user name or password): check user name, password and client id"
            ),
        ),
        ConnectReturnCode::BadClientId => (
            FailureReason::Refused,
            format!("{broker} rejected the client id: use 1–23 letters and digits"),
        ),
        ConnectReturnCode::RefusedProtocolVersion => (
            FailureReason::Refused,
            format!("{broker} does not speak MQTT 3.1.1"),
        ),
        ConnectReturnCode::ServiceUnavailable => (
            FailureReason::Refused,
            format!("{broker} is unavailable right now (server busy or shutting down)"),
        ),
        ConnectReturnCode::Success => (
            FailureReason::Other,
            format!("{broker} sent an unexpected CONNACK"),
        ),
    };
    Failure {
        message: format!("{}: {advice}", reason.summary()),
        reason,
        oversize_packet_bytes: None,
    }
}

/// rustls failures: untrusted certificates get their own reason and a fix.
fn classify_tls(error: &rustls::Error, broker: &str) -> Failure {
    let (reason, advice) = match error {
        rustls::Error::InvalidCertificate(certificate_error) => {
            let fix = match certificate_error {
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. } => {
                    "the certificate is not issued for this host name: connect with the name \
                     in the certificate"
                }
                rustls::CertificateError::Expired
                | rustls::CertificateError::ExpiredContext { .. } => {
                    "the certificate has expired: the broker must renew it (or check this computer's clock)"
                }
                _ => "add its CA in the profile's TLS settings",
            };
            (
                FailureReason::CertificateNotTrusted,
                format!("the server's certificate is not trusted: {fix} ({error})"),
            )
        }
        rustls::Error::AlertReceived(alert) => (
            FailureReason::Tls,
            format!(
                "{broker} ended the TLS handshake ({alert:?}): if it requires a client certificate, \
                 set one in the profile's TLS settings"
            ),
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateHandshakeMessage { .. } => (
            FailureReason::Tls,
            format!(
                "{broker} did not answer like a TLS server ({error}): check that this port expects TLS"
            ),
        ),
        _ => (
            FailureReason::Tls,
            format!("TLS with {broker} failed: {error}"),
        ),
    };
    Failure {
        message: format!("{}: {advice}", reason.summary()),
        reason,
        oversize_packet_bytes: None,
    }
}

/// I/O errors while connecting: refused, timed out, or a failed name lookup.
fn classify_connect_io(error: &io::Error, context: FailureContext<'_>) -> Option<Failure> {
    let broker = context.broker;
    let (reason, advice) = match error.kind() {
        io::ErrorKind::ConnectionRefused => (
            FailureReason::ConnectionRefused,
            format!(
                "nothing accepts connections on {broker}: check host and port, and that the broker runs"
            ),
        ),
        io::ErrorKind::TimedOut => (
            FailureReason::Timeout,
            format!("{broker} did not answer in time: check host, port and firewall"),
        ),
        _ if is_name_lookup_failure(error) => (
            FailureReason::Dns,
            format!(
                "the host name \"{}\" could not be resolved ({error}): check its spelling and the network",
                context.host
            ),
        ),
        _ => return None,
    };
    Some(Failure {
        message: format!("{}: {advice}", reason.summary()),
        reason,
        oversize_packet_bytes: None,
    })
}

/// tokio's `lookup_host` reports getaddrinfo failures with this wording (std's, on every platform)
/// and no distinct error kind.
fn is_name_lookup_failure(error: &io::Error) -> bool {
    let text = error.to_string();
    text.contains("failed to lookup address information") || text.contains("could not resolve")
}

/// The first `T` in `error`'s source chain, looking inside `io::Error`s (whose `source()` skips
/// the wrapped error itself).
fn find_in_chain<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        let inner = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref);
        if let Some(found) = inner.and_then(|inner| find_in_chain::<T>(inner)) {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// The innermost useful text of an error chain ("TLS: I/O: tls handshake eof" → all of it, once).
fn chain_text(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(inner) = current {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        current = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(was_connected: bool) -> FailureContext<'static> {
        FailureContext {
            broker: "b.example:8884",
            host: "b.example",
            was_connected,
            max_packet_bytes: 1024,
            client_id: "TopicScopeAbc",
            connected_for: None,
            filters: &[],
        }
    }

    #[test]
    fn a_close_right_after_connecting_names_the_client_id() {
        let filters = ["a/#".to_owned()];
        let soon = FailureContext {
            connected_for: Some(Duration::from_millis(300)),
            filters: &filters,
            ..context(true)
        };
        let failure = classify(
            &ConnectionError::MqttState(StateError::ConnectionAborted),
            soon,
        );
        assert_eq!(failure.reason, FailureReason::ConnectionLost);
        assert!(
            failure.message.contains("same client id \"TopicScopeAbc\""),
            "{}",
            failure.message
        );
        let later = FailureContext {
            connected_for: Some(Duration::from_secs(600)),
            ..soon
        };
        let failure = classify(
            &ConnectionError::MqttState(StateError::ConnectionAborted),
            later,
        );
        assert!(
            !failure.message.contains("client id"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn an_oversize_or_non_utf8_packet_soon_after_subscribing_names_the_filters() {
        let filters = ["big/#".to_owned(), "other/+".to_owned()];
        let soon = FailureContext {
            connected_for: Some(Duration::from_millis(200)),
            filters: &filters,
            ..context(true)
        };
        let oversize = classify(
            &ConnectionError::MqttState(StateError::Deserialization(
                rumqttc::Error::PayloadSizeLimitExceeded(5000),
            )),
            soon,
        );
        assert!(
            oversize
                .message
                .contains("retained message under one of: big/#, other/+"),
            "{}",
            oversize.message
        );
        let not_utf8 = classify(
            &ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::TopicNotUtf8)),
            soon,
        );
        assert!(
            not_utf8.message.contains("not valid UTF-8"),
            "{}",
            not_utf8.message
        );
        assert!(not_utf8.message.contains("big/#"), "{}", not_utf8.message);
    }

    #[test]
    fn bad_credentials_connack_says_so_plainly() {
        let error = ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword);
        let failure = classify(&error, context(false));
        assert_eq!(failure.reason, FailureReason::BadCredentials);
        assert!(
            failure.message.starts_with("Bad user name or password:"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn not_authorized_connack_mentions_the_password() {
        let error = ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized);
        let failure = classify(&error, context(false));
        assert_eq!(failure.reason, FailureReason::NotAuthorized);
        assert!(failure.message.contains("password"), "{}", failure.message);
    }

    #[test]
    fn untrusted_certificate_inside_io_error_is_found() {
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io_error = io::Error::new(io::ErrorKind::InvalidData, rustls_error);
        let error = ConnectionError::Tls(rumqttc::TlsError::Io(io_error));
        let failure = classify(&error, context(false));
        assert_eq!(failure.reason, FailureReason::CertificateNotTrusted);
        assert!(
            failure
                .message
                .contains("add its CA in the profile's TLS settings"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("UnknownIssuer"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn wrong_host_name_certificate_says_to_use_the_certificate_name() {
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName);
        let error = ConnectionError::Io(io::Error::new(io::ErrorKind::InvalidData, rustls_error));
        let failure = classify(&error, context(false));
        assert_eq!(failure.reason, FailureReason::CertificateNotTrusted);
        assert!(failure.message.contains("host name"), "{}", failure.message);
    }

    #[test]
    fn refused_tcp_connection_is_connection_refused() {
        let error = ConnectionError::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(
            classify(&error, context(false)).reason,
            FailureReason::ConnectionRefused
        );
    }

    #[test]
    fn failed_name_lookup_is_dns_and_names_the_host() {
        let error = ConnectionError::Io(io::Error::other(
            "failed to lookup address information: Name or service not known",
        ));
        let failure = classify(&error, context(false));
        assert_eq!(failure.reason, FailureReason::Dns);
        assert!(
            failure.message.contains("\"b.example\""),
            "{}",
            failure.message
        );
    }

    #[test]
    fn network_timeout_while_connecting_is_timeout() {
        assert_eq!(
            classify(&ConnectionError::NetworkTimeout, context(false)).reason,
            FailureReason::Timeout
        );
    }

    #[test]
    fn errors_after_connack_are_connection_lost() {
        let error = ConnectionError::MqttState(StateError::ConnectionAborted);
        let failure = classify(&error, context(true));
        assert_eq!(failure.reason, FailureReason::ConnectionLost);
        assert!(
            failure.message.contains("b.example:8884"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn oversize_packet_is_counted_and_explained() {
        let error = ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::Error::PayloadSizeLimitExceeded(5000),
        ));
        let failure = classify(&error, context(true));
        assert_eq!(failure.oversize_packet_bytes, Some(5000));
        assert!(
            failure.message.contains("5000 bytes"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("1024 bytes"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn every_message_starts_with_its_reason_summary() {
        let errors = [
            ConnectionError::NetworkTimeout,
            ConnectionError::FlushTimeout,
            ConnectionError::RequestsDone,
            ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable),
            ConnectionError::Io(io::Error::other("something odd")),
        ];
        for error in &errors {
            for was_connected in [false, true] {
                let failure = classify(error, context(was_connected));
                assert!(
                    failure.message.starts_with(failure.reason.summary()),
                    "{}",
                    failure.message
                );
            }
        }
    }
}
