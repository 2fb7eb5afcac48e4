//! A profile's per-topic decoder override changes how the worker decodes real messages from a
//! real Mosquitto; topics the override does not match are still decoded automatically.

mod common;

use common::{Mosquitto, Received, profile, wait_until_subscribed};
use topicscope::model::config::profile::Transport;
use topicscope::model::decode::decoder_override::{DecoderChoice, DecoderOverride};
use topicscope::model::decode::payload::PayloadFormat;
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerHandle};

/// JSON metadata, but published on ordinary time-series topics.
const METADATA: &[u8] = br#"{"name":"AHU-1","objtype":"device","source":"BACnet"}"#;

#[test]
fn an_override_changes_the_decoded_format_of_matching_topics_only() {
    let broker = Mosquitto::start();
    let mut connection = profile(broker.ports.plain, Transport::Tcp, &["site/#"]);
    connection.decoder_overrides = vec![
        DecoderOverride::new("site/devices/+", DecoderChoice::Meta),
        DecoderOverride::new("site/raw/#", DecoderChoice::Legacy),
    ];
    let handle = WorkerHandle::spawn(
        ConnectParams::new(connection, None),
        Inbox::new(DEFAULT_INBOX_CAPACITY),
    )
    .expect("spawn worker");
    let mut received = Received::new(handle.inbox.clone());
    wait_until_subscribed(&handle);

    broker.publish("site/devices/ahu1", METADATA, false);
    broker.publish("site/other/ahu1", METADATA, false);
    broker.publish("site/raw/x", b"m value=1 1", false);

    let overridden = received.wait_for_topic("site/devices/ahu1");
    assert_eq!(overridden.decoded.format, PayloadFormat::Meta);
    assert_eq!(overridden.decoded.problem(), None);

    let automatic = received.wait_for_topic("site/other/ahu1");
    assert_eq!(automatic.decoded.format, PayloadFormat::Json);

    // Forced to legacy, line protocol is not decoded and the reason says why.
    let forced = received.wait_for_topic("site/raw/x");
    assert_eq!(forced.decoded.format, PayloadFormat::Text);
    assert!(forced.decoded.values.is_empty());
    let problem = forced.decoded.problem().expect("a reason");
    assert!(problem.contains("legacy"), "{problem}");
}
