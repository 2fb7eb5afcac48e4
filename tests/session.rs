//! The session layer against a real Mosquitto: a reconnect that keeps the store applies what the
//! old connection had received but not yet handed over, so nothing already received is lost.

mod common;

use std::time::{Duration, Instant};

use topicscope::model::config::profile::{Profile, Subscription, Transport, generate_client_id};
use topicscope::model::store::{Limits, Store};
use topicscope::model::topic::qos::Qos;
use topicscope::session::{ConnectOptions, Connection, Session, Source};

fn profile(port: u16) -> Profile {
    Profile {
        host: "127.0.0.1".into(),
        port,
        transport: Transport::Tcp,
        subscriptions: vec![Subscription::new("kept/#".to_owned(), Qos::AtLeastOnce)],
        client_id: generate_client_id(),
        ..Profile::default()
    }
}

fn connect(port: u16) -> Connection {
    let connection = Connection::start(profile(port), None, ConnectOptions::default(), None)
        .expect("the worker starts");
    connection
        .wait_until_subscribed(common::WAIT)
        .expect("connected and subscribed");
    connection
}

#[test]
fn a_reconnect_applies_what_the_old_connection_still_held() {
    let broker = common::Mosquitto::start();
    let port = broker.ports.plain;
    let mut session = Session::new(Source::Live(connect(port)), Store::new(Limits::default()));
    let sent = 5;
    for index in 0..sent {
        broker.publish(&format!("kept/{index}"), b"1", false);
    }
    // Received by the worker, not yet pumped into the store.
    let deadline = Instant::now() + common::WAIT;
    while session.inbox_stats().received < sent {
        assert!(Instant::now() < deadline, "the worker did not receive them");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(session.store().stats().messages_applied, 0);

    session.set_source(Source::Live(connect(port)));
    assert_eq!(session.store().stats().messages_applied, sent);
    assert!(session.store().find_topic("kept/4").is_some());
    // The new connection feeds the same store.
    broker.publish("kept/new", b"2", false);
    let deadline = Instant::now() + common::WAIT;
    while session.store().find_topic("kept/new").is_none() {
        assert!(
            Instant::now() < deadline,
            "the new connection delivered nothing"
        );
        session.pump(Duration::from_millis(5));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(session.store().stats().messages_applied, sent + 1);
}
