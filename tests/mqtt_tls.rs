//! The worker against a real Mosquitto over TLS and WebSockets: extra CA, untrusted certificate,
//! accept-invalid switch, mutual TLS, ws:// and wss://, and unusable TLS settings.

mod common;

use common::{Mosquitto, Received, profile, wait_for_status, wait_until_subscribed};
use topicscope::model::config::profile::Transport;
use topicscope::mqtt::status::{ConnectionState, FailureReason, SubscriptionState, describe};
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerHandle};

fn spawn(params: ConnectParams) -> WorkerHandle {
    WorkerHandle::spawn(params, Inbox::new(DEFAULT_INBOX_CAPACITY)).expect("spawn worker")
}

/// Connects with `params`, then checks a live message published on the broker arrives.
fn assert_connects_and_receives(broker: &Mosquitto, params: ConnectParams) {
    let handle = spawn(params);
    let status = wait_until_subscribed(&handle);
    assert_eq!(
        status.subscriptions,
        [("secure/#".to_owned(), SubscriptionState::Granted(1))]
    );
    broker.publish("secure/reading", b"42", false);
    let message = Received::new(handle.inbox.clone()).wait_for_topic("secure/reading");
    assert_eq!(&message.payload[..], b"42");
}

#[test]
fn tls_with_the_test_ca_in_the_profile_connects_and_receives() {
    let broker = Mosquitto::start();
    let mut tls = profile(broker.ports.tls, Transport::Tls, &["secure/#"]);
    tls.tls.ca_file = Some(broker.ca_file());
    assert_connects_and_receives(&broker, ConnectParams::new(tls, None));
}

#[test]
fn tls_by_host_name_checks_the_name_against_the_certificate() {
    let broker = Mosquitto::start();
    let mut tls = profile(broker.ports.tls, Transport::Tls, &["secure/#"]);
    tls.host = "localhost".into();
    tls.tls.ca_file = Some(broker.ca_file());
    assert_connects_and_receives(&broker, ConnectParams::new(tls, None));
}

#[test]
fn tls_without_the_ca_reports_an_untrusted_certificate() {
    let broker = Mosquitto::start();
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.tls, Transport::Tls, &["#"]),
        None,
    ));
    let status = wait_for_status(&handle, "certificate not trusted", |status| {
        matches!(
            status.state,
            ConnectionState::Failed {
                reason: FailureReason::CertificateNotTrusted,
                ..
            }
        )
    });
    let text = describe(&status, 0);
    assert!(
        text.contains("add its CA in the profile's TLS settings"),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "the detail is kept: {text}");
}

#[test]
fn accept_invalid_certs_connects_without_the_ca() {
    let broker = Mosquitto::start();
    let mut tls = profile(broker.ports.tls, Transport::Tls, &["secure/#"]);
    tls.tls.accept_invalid_certs = true;
    assert_connects_and_receives(&broker, ConnectParams::new(tls, None));
}

#[test]
fn mutual_tls_with_a_client_certificate_connects() {
    let broker = Mosquitto::start();
    let mut mutual = profile(broker.ports.mutual_tls, Transport::Tls, &["secure/#"]);
    mutual.tls.ca_file = Some(broker.ca_file());
    mutual.tls.client_cert_file = Some(broker.client_cert_file());
    mutual.tls.client_key_file = Some(broker.client_key_file());
    assert_connects_and_receives(&broker, ConnectParams::new(mutual, None));
}

#[test]
fn mutual_tls_without_a_client_certificate_fails_with_a_hint() {
    let broker = Mosquitto::start();
    let mut mutual = profile(broker.ports.mutual_tls, Transport::Tls, &["#"]);
    mutual.tls.ca_file = Some(broker.ca_file());
    let handle = spawn(ConnectParams::new(mutual, None));
    let status = wait_for_status(&handle, "a TLS failure", |status| {
        matches!(status.state, ConnectionState::Failed { .. })
    });
    let ConnectionState::Failed {
        reason, message, ..
    } = &status.state
    else {
        unreachable!()
    };
    // Under TLS 1.3 the server checks the client certificate after the client finished its
    // handshake, so the refusal arrives as an alert while waiting for CONNACK.
    assert_eq!(*reason, FailureReason::Tls, "{message}");
    assert!(message.contains("client certificate"), "{message}");
}

#[test]
fn plain_websocket_connects_and_receives() {
    let broker = Mosquitto::start();
    let ws = profile(broker.ports.ws, Transport::WebSocket, &["secure/#"]);
    assert_connects_and_receives(&broker, ConnectParams::new(ws, None));
}

#[test]
fn secure_websocket_connects_and_receives() {
    let broker = Mosquitto::start();
    let mut wss = profile(broker.ports.wss, Transport::SecureWebSocket, &["secure/#"]);
    wss.tls.ca_file = Some(broker.ca_file());
    assert_connects_and_receives(&broker, ConnectParams::new(wss, None));
}

#[test]
fn secure_websocket_without_the_ca_reports_an_untrusted_certificate() {
    let broker = Mosquitto::start();
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.wss, Transport::SecureWebSocket, &["#"]),
        None,
    ));
    wait_for_status(&handle, "certificate not trusted", |status| {
        matches!(
            status.state,
            ConnectionState::Failed {
                reason: FailureReason::CertificateNotTrusted,
                ..
            }
        )
    });
}

#[test]
fn unreadable_ca_file_fails_once_as_configuration_without_retrying() {
    let mut tls = profile(common::free_port(), Transport::Tls, &["#"]);
    tls.tls.ca_file = Some("/nonexistent/topicscope-ca.pem".into());
    let handle = spawn(ConnectParams::new(tls, None));
    let status = wait_for_status(&handle, "a configuration failure", |status| {
        matches!(status.state, ConnectionState::Failed { .. })
    });
    let ConnectionState::Failed {
        reason,
        message,
        retry_at_nanos,
    } = &status.state
    else {
        unreachable!()
    };
    assert_eq!(*reason, FailureReason::Configuration);
    assert_eq!(*retry_at_nanos, None, "a settings error is not retried");
    assert!(
        message.contains("/nonexistent/topicscope-ca.pem"),
        "{message}"
    );
    assert!(
        handle.running(),
        "the worker waits for Stop instead of spinning or vanishing"
    );
}
