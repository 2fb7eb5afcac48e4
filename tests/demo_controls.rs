//! SWOP against the running demo: a `NEWSPT` with `acknowledge` gets an `ACKSPT` with the same
//! reference; invalid requests are refused; a repeated reference gets the same answer and no
//! second write; a written setpoint shows up in the datapoint's readings.

use std::time::{Duration, Instant};

use rumqttc::{Client, Connection, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use topicscope::demo::{CONTROLS_TOPIC, DemoServer};
use topicscope::model::aedifion::hash_id::hash_id;

const TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for an answer before sending the request again (the issuer's retry:
/// the simulator may not have subscribed yet when the first request goes out).
const RETRY_AFTER: Duration = Duration::from_secs(2);
const SETPOINT: &str = "bacnet100-4120-Real-room-temperature-setpoint-RTs_real";

struct Issuer {
    client: Client,
    connection: Connection,
}

impl Issuer {
    fn connect(port: u16) -> Self {
        let mut options = MqttOptions::new("demo-controls-issuer", "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        let (client, connection) = Client::new(options, 100);
        client
            .subscribe(format!("{CONTROLS_TOPIC}/#"), QoS::AtLeastOnce)
            .expect("subscribe to the controls topic");
        client
            .subscribe("lbg01/demo_building/#", QoS::AtMostOnce)
            .expect("subscribe to the readings");
        Self { client, connection }
    }

    /// Publishes `request` (again every [`RETRY_AFTER`]) until an ACKSPT with its reference
    /// arrives; returns the raw ACK payload.
    fn request(&mut self, request: &Value) -> String {
        let reference = request["reference"]
            .as_str()
            .expect("requests in this test carry a reference")
            .to_owned();
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            self.client
                .publish(CONTROLS_TOPIC, QoS::AtLeastOnce, false, request.to_string())
                .expect("publish the request");
            let retry_at = Instant::now() + RETRY_AFTER;
            while Instant::now() < retry_at {
                let Some(payload) = self.next_publish_on(CONTROLS_TOPIC) else {
                    continue;
                };
                let Ok(message) = serde_json::from_slice::<Value>(&payload) else {
                    continue;
                };
                if message["type"] == "ACKSPT" && message["reference"] == reference.as_str() {
                    return String::from_utf8(payload).expect("the ACKSPT is UTF-8");
                }
            }
        }
        panic!("no ACKSPT for {reference}");
    }

    /// Waits for a reading of `datapoint` whose line contains `value=<value> `.
    fn wait_for_reading(&mut self, datapoint: &str, value: &str) {
        let topic = format!("lbg01/demo_building/{}", hash_id(datapoint, 8));
        let wanted = format!(" value={value} ");
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Some(payload) = self.next_publish_on(&topic)
                && String::from_utf8_lossy(&payload).contains(&wanted)
            {
                return;
            }
        }
        panic!("{datapoint} never reported value {value}");
    }

    /// The payload of the next publish on `topic`, or `None` if something else (or nothing
    /// within half a second) arrived.
    fn next_publish_on(&mut self, topic: &str) -> Option<Vec<u8>> {
        match self.connection.recv_timeout(Duration::from_millis(500)) {
            Ok(Ok(Event::Incoming(Packet::Publish(publish)))) if publish.topic == topic => {
                Some(publish.payload.to_vec())
            }
            Ok(Err(error)) => {
                eprintln!("connection error (retrying): {error}");
                std::thread::sleep(Duration::from_millis(200));
                None
            }
            _ => None,
        }
    }
}

fn newspt(datapoint: &str, value: Value, reference: &str) -> Value {
    json!({"type": "NEWSPT", "swop_version": "0.2", "datapoint": datapoint, "value": value,
           "priority": 13, "acknowledge": true, "dry_run": false, "reference": reference})
}

fn parse(ack: &str) -> Value {
    serde_json::from_str(ack).expect("the ACKSPT is JSON")
}

#[test]
fn setpoint_requests_are_acknowledged_refused_and_deduplicated() {
    let server = DemoServer::start().unwrap();
    let mut issuer = Issuer::connect(server.port());

    let first = issuer.request(&newspt(
        SETPOINT,
        json!(23.5),
        "0cce300f-6b9e-447d-ae29-0e7125e2fa36",
    ));
    let ack = parse(&first);
    assert_eq!(ack["swop_version"], "0.2");
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["state"], "written");
    issuer.wait_for_reading(SETPOINT, "23.5");

    let out_of_range = parse(&issuer.request(&newspt(SETPOINT, json!(95.0), "invalid-range")));
    assert_eq!(out_of_range["success"], false);
    assert_eq!(out_of_range["state"], "failed");
    assert!(
        out_of_range["message"].as_str().unwrap().contains("range"),
        "{out_of_range}"
    );

    let unknown = parse(&issuer.request(&newspt("no such datapoint", json!(20.0), "invalid-name")));
    assert_eq!(unknown["success"], false);
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("unknown datapoint"),
        "{unknown}"
    );

    let sensor = "bacnet100-4120-Real-room-temperature-RT_real";
    let read_only = parse(&issuer.request(&newspt(sensor, json!(20.0), "invalid-sensor")));
    assert_eq!(read_only["success"], false);
    assert!(
        read_only["message"].as_str().unwrap().contains("read-only"),
        "{read_only}"
    );

    // The issuer repeats the first request (as after a lost ACK), even with another value:
    // the same answer comes back and the setpoint keeps the first value.
    let repeated = issuer.request(&newspt(
        SETPOINT,
        json!(18.0),
        "0cce300f-6b9e-447d-ae29-0e7125e2fa36",
    ));
    assert_eq!(repeated, first);
    issuer.wait_for_reading(SETPOINT, "23.5");
}
