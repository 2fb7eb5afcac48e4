//! No reconnect storms (issue 9): a connection that fails right after it came up (here: another
//! client with the same client id, which makes Mosquitto close the older connection) backs off
//! further each time instead of retrying every half second, and the status says what is
//! probably kicking it.

mod common;

use std::time::{Duration, Instant};

use common::{Mosquitto, WAIT, profile};
use topicscope::model::config::profile::Transport;
use topicscope::model::time::now_nanos;
use topicscope::mqtt::ConnectionState;
use topicscope::session::{ConnectOptions, Connection};

#[test]
fn two_clients_with_one_client_id_back_off_and_the_status_names_the_client_id() {
    let broker = Mosquitto::start();
    let mut shared = profile(broker.ports.plain, Transport::Tcp, &["storm/#"]);
    shared.client_id = format!("ts-storm-{}", rand::random::<u32>());
    let first =
        Connection::start(shared.clone(), None, ConnectOptions::default(), None).expect("first");
    first.wait_until_subscribed(WAIT).expect("first connects");
    let _second =
        Connection::start(shared.clone(), None, ConnectOptions::default(), None).expect("second");

    // With a backoff that starts over at every CONNACK the wait never exceeds 0.5 s; growing,
    // it passes 1.5 s by the third failure (0.5 s, 1 s, 2 s less up to 25 % jitter).
    let deadline = Instant::now() + WAIT;
    let longest_wait_secs = loop {
        let status = first.status();
        if let ConnectionState::Failed {
            retry_at_nanos: Some(retry_at),
            ..
        } = status.state
        {
            let wait_secs = (retry_at - now_nanos()) as f64 / 1e9;
            if wait_secs > 1.2 {
                break wait_secs;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the retries never slowed down; last status: {status}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(longest_wait_secs > 1.2);
    let failure = first.status().last_failure.unwrap_or_default();
    assert!(
        failure.contains(&shared.client_id) && failure.contains("client id"),
        "{failure}"
    );
}
