//! The demo publishes what an aedifion edge device would: time series on hash-id topics whose
//! Influx measurement hashes to the topic, and metadata with the documented keys, retained so
//! that a late subscriber still gets it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rumqttc::{Client, Connection, Event, MqttOptions, Packet, Publish, QoS};
use serde_json::Value;
use topicscope::demo::DemoServer;
use topicscope::demo::building::catalogue;
use topicscope::model::aedifion::hash_id::hash_id;
use topicscope::model::decode::influx::parse_payload;

const TIMEOUT: Duration = Duration::from_secs(90);

fn subscribe(port: u16, client_id: &str, filter: &str) -> (Client, Connection) {
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    options.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, connection) = Client::new(options, 100);
    client
        .subscribe(filter, QoS::AtMostOnce)
        .expect("subscribe");
    (client, connection)
}

/// Calls `on_publish` for every message until it returns true; panics after [`TIMEOUT`].
fn receive_until(
    connection: &mut Connection,
    what: &str,
    mut on_publish: impl FnMut(&Publish) -> bool,
) {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        let Ok(event) = connection.recv_timeout(Duration::from_millis(500)) else {
            continue;
        };
        match event {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if on_publish(&publish) {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => {
                eprintln!("connection error (retrying): {error}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    panic!("timed out waiting for {what}");
}

fn metadata(publish: &Publish) -> Value {
    let meta: Value = serde_json::from_slice(&publish.payload)
        .unwrap_or_else(|error| panic!("META on {} is not JSON: {error}", publish.topic));
    for key in ["name", "objtype", "units", "description", "source"] {
        assert!(
            meta.get(key).is_some(),
            "META on {} lacks {key}: {meta}",
            publish.topic
        );
    }
    meta
}

#[test]
fn the_demo_publishes_time_series_on_hash_id_topics_with_metadata_for_each() {
    let server = DemoServer::start().unwrap();
    let (_client, mut connection) = subscribe(server.port(), "demo-traffic-observer", "#");
    let mut data_names: HashMap<String, String> = HashMap::new();
    let mut meta_names: HashSet<String> = HashSet::new();
    let mut multi_line_messages = 0;

    receive_until(&mut connection, "150 datapoints with metadata", |publish| {
        let topic = publish.topic.as_str();
        if let Some(postfix) = topic.strip_prefix("lbg01/demo_building/") {
            assert_eq!(postfix.len(), 8, "{topic}");
            let text = std::str::from_utf8(&publish.payload).unwrap();
            let lines = parse_payload(text);
            if lines.len() > 1 {
                multi_line_messages += 1;
            }
            for line in lines {
                let line = line.unwrap_or_else(|error| panic!("{text:?} on {topic}: {error}"));
                assert_eq!(
                    hash_id(&line.measurement, 8),
                    postfix,
                    "{text:?} on {topic}"
                );
                assert!(line.timestamp_nanos.is_some(), "{text:?} has no timestamp");
                data_names.insert(line.measurement, topic.to_owned());
            }
        } else if topic == "META/lbg01/demo_building" {
            meta_names.insert(metadata(publish)["name"].as_str().unwrap().to_owned());
        } else if let Some(postfix) = topic.strip_prefix("META/lbg01/demo_building/") {
            let meta = metadata(publish);
            let name = meta["name"].as_str().unwrap();
            assert_eq!(hash_id(name, 8), postfix);
            meta_names.insert(name.to_owned());
        }
        data_names.len() >= 150 && data_names.keys().all(|name| meta_names.contains(name))
    });
    eprintln!(
        "{} datapoints seen, {} with metadata, {multi_line_messages} multi-line messages",
        data_names.len(),
        meta_names.len()
    );
}

#[test]
fn a_late_subscriber_receives_the_retained_metadata_of_every_datapoint() {
    let datapoints = catalogue().len();
    let server = DemoServer::start().unwrap();
    // First let the simulator publish all its metadata: a watcher sees every datapoint's.
    let (_watcher, mut watching) = subscribe(
        server.port(),
        "demo-traffic-watcher",
        "META/lbg01/demo_building/#",
    );
    let mut published = HashSet::new();
    receive_until(
        &mut watching,
        "the metadata of every datapoint",
        |publish| {
            if publish.topic.starts_with("META/lbg01/demo_building/") {
                published.insert(publish.topic.clone());
            }
            published.len() == datapoints
        },
    );

    let (_late, mut late) = subscribe(
        server.port(),
        "demo-traffic-late",
        "META/lbg01/demo_building/#",
    );
    let mut retained_names = HashSet::new();
    receive_until(
        &mut late,
        "retained metadata of every datapoint",
        |publish| {
            assert!(
                publish.retain,
                "{} arrived live, not retained",
                publish.topic
            );
            let meta = metadata(publish);
            let name = meta["name"].as_str().unwrap().to_owned();
            assert_eq!(
                publish.topic,
                format!("META/lbg01/demo_building/{}", hash_id(&name, 8))
            );
            retained_names.insert(name);
            retained_names.len() == datapoints
        },
    );
    assert!(retained_names.contains("bacnet100-4120-Real-room-temperature-setpoint-RTs_real"));
}
