//! Starting and stopping the demo: the profile it hands out, a clear error when the port is
//! taken, and the simulator stopping when the server is dropped.

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use topicscope::demo::{DemoError, DemoServer};

const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn the_demo_profile_points_at_the_running_broker() {
    let server = DemoServer::start().unwrap();
    let profile = server.profile();
    assert!(profile.demo);
    assert_eq!(profile.host, "127.0.0.1");
    assert_eq!(profile.port, server.port());
    assert_eq!(profile.aedifion_project, "lbg01/demo_building");
    assert!(
        profile
            .subscriptions
            .iter()
            .any(|subscription| subscription.filter == "#")
    );
    assert!(profile.validate().is_ok(), "{:?}", profile.validate());
    assert!(server.simulator_running());
}

#[test]
fn a_port_taken_by_another_program_gives_a_clear_error() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hang up, like a program that is not an MQTT broker.
    std::thread::Builder::new()
        .name("not-a-broker".to_owned())
        .spawn(move || {
            for stream in listener.incoming().take(50) {
                drop(stream);
            }
        })
        .unwrap();
    let error = DemoServer::start_on_port(port)
        .err()
        .expect("the demo must not start on a taken port");
    assert!(
        matches!(
            error,
            DemoError::BrokerStopped { .. }
                | DemoError::NotMqtt { .. }
                | DemoError::PortInUse { .. }
        ),
        "unexpected error: {error}"
    );
    assert!(error.to_string().contains("choose another port"), "{error}");
}

#[test]
fn dropping_the_server_stops_the_simulator() {
    let server = DemoServer::start().unwrap();
    let mut options = MqttOptions::new("demo-startup-observer", "127.0.0.1", server.port());
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut connection) = Client::new(options, 100);
    client
        .subscribe("lbg01/demo_building/#", QoS::AtMostOnce)
        .unwrap();

    let deadline = Instant::now() + TIMEOUT;
    let mut readings = 0;
    while readings < 10 {
        assert!(Instant::now() < deadline, "no readings from the simulator");
        if let Ok(Ok(Event::Incoming(Packet::Publish(_)))) =
            connection.recv_timeout(Duration::from_millis(500))
        {
            readings += 1;
        }
    }

    drop(server);
    // Messages already on their way may still arrive; then it must go quiet for good.
    let quiet_needed = Duration::from_secs(3);
    let deadline = Instant::now() + TIMEOUT;
    let mut last_message = Instant::now();
    while last_message.elapsed() < quiet_needed {
        assert!(
            Instant::now() < deadline,
            "readings kept coming after the server was dropped"
        );
        if let Ok(Ok(Event::Incoming(Packet::Publish(_)))) =
            connection.recv_timeout(Duration::from_millis(200))
        {
            last_message = Instant::now();
        }
    }
}
