//! The worker against a real Mosquitto listener with a password file and an ACL.

mod common;

use common::{
    ALLOWED_PREFIX, Mosquitto, PASSWORD, Received, USER, profile, wait_for_status,
    wait_until_subscribed,
};
use topicscope::model::config::profile::Transport;
use topicscope::mqtt::status::{ConnectionState, FailureReason, SubscriptionState, describe};
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerHandle};

fn spawn(params: ConnectParams) -> WorkerHandle {
    WorkerHandle::spawn(params, Inbox::new(DEFAULT_INBOX_CAPACITY)).expect("spawn worker")
}

/// Mosquitto 2.0 (checked with 2.0.11) answers a SUBSCRIBE outside the ACL of an MQTT 3.1.1
/// client with return code 0 (granted) and then silently delivers nothing on it: its ACL check
/// runs per message at delivery, not at subscribe time. Other brokers answer 0x80 (refused),
/// which the worker shows as `Refused`. So "granted" alone does not prove access; the UI should
/// say so, and this test pins the behaviour down.
#[test]
fn acl_allowed_filter_receives_and_denied_filter_is_granted_but_silent() {
    let broker = Mosquitto::start();
    let allowed = format!("{ALLOWED_PREFIX}/#");
    let mut account = profile(broker.ports.auth, Transport::Tcp, &[&allowed, "denied/#"]);
    account.username = USER.into();
    let handle = spawn(ConnectParams::new(account, Some(PASSWORD.into())));

    let status = wait_until_subscribed(&handle);
    assert_eq!(
        status.subscriptions,
        [
            (allowed, SubscriptionState::Granted(1)),
            ("denied/#".to_owned(), SubscriptionState::Granted(1))
        ]
    );

    // Both go to this one subscriber in publish order: once the allowed one is here, the denied
    // one would have arrived before it if Mosquitto delivered it.
    broker.publish("denied/secret", b"hidden", false);
    broker.publish(&format!("{ALLOWED_PREFIX}/reading"), b"visible", false);
    let mut received = Received::new(handle.inbox.clone());
    let message = received.wait_for_topic(&format!("{ALLOWED_PREFIX}/reading"));
    assert_eq!(&message.payload[..], b"visible");
    assert!(
        !received.has_topic("denied/secret"),
        "the ACL must hide denied/secret"
    );
}

/// Mosquitto 2.0 answers a wrong password with CONNACK code 5 ("not authorized"), not 4
/// ("bad user name or password"); the status text must still point at the password.
#[test]
fn wrong_password_is_reported_plainly_and_retried() {
    let broker = Mosquitto::start();
    let mut account = profile(broker.ports.auth, Transport::Tcp, &["#"]);
    account.username = USER.into();
    let handle = spawn(ConnectParams::new(account, Some("wrong password".into())));

    let status = wait_for_status(&handle, "a refused login", |status| {
        matches!(status.state, ConnectionState::Failed { .. })
    });
    let ConnectionState::Failed {
        reason,
        retry_at_nanos,
        ..
    } = &status.state
    else {
        unreachable!()
    };
    assert_eq!(*reason, FailureReason::NotAuthorized);
    assert!(retry_at_nanos.is_some());
    let text = describe(&status, 0);
    assert!(text.starts_with("Not authorized:"), "{text}");
    assert!(text.contains("password"), "{text}");
}

#[test]
fn anonymous_login_on_the_password_listener_is_refused() {
    let broker = Mosquitto::start();
    let handle = spawn(ConnectParams::new(
        profile(broker.ports.auth, Transport::Tcp, &["#"]),
        None,
    ));
    wait_for_status(&handle, "a refused anonymous login", |status| {
        matches!(
            status.state,
            ConnectionState::Failed {
                reason: FailureReason::NotAuthorized,
                ..
            }
        )
    });
}
