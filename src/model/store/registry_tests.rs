//! The datapoint registry as the store feeds it: real payloads decoded by the worker's decoder,
//! applied to a store (the registry's own unit tests are in `aedifion::datapoints`).

use crate::model::aedifion::datapoints::*;
use crate::model::aedifion::hash_id::{Base62Variant, hash_id, hash_id_with};
use crate::model::decode::message::Message;
use crate::model::store::{Limits, Store};
use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;

const SEC: Nanos = 1_000_000_000;

fn message(topic: &str, payload: &str, at: Nanos) -> Message {
    Message::new(
        topic.to_owned(),
        payload.to_owned().into(),
        Qos::AtMostOnce,
        false,
        at,
    )
}

fn store_with(messages: &[(&str, &str)]) -> Store {
    let mut store = Store::new(Limits::default());
    for (index, (topic, payload)) in messages.iter().enumerate() {
        store.apply(message(topic, payload, index as Nanos * SEC));
    }
    store
}

fn label(store: &Store, topic: &str) -> Option<String> {
    let node = store.tree().find(topic)?;
    store.tree().label(node).map(str::to_owned)
}

#[test]
fn a_hashed_topic_learns_its_name_from_the_measurement() {
    let name = "AS11-239291_C'Btr06'TempHall";
    let topic = format!("lbg01/hq/{}", hash_id(name, 8));
    let payload = "AS11-239291_C'Btr06'TempHall value=21.4 1700000000000000000";
    let store = store_with(&[(&topic, payload)]);
    assert_eq!(label(&store, &topic).as_deref(), Some(name));
    let registry = store.datapoints();
    let node = store.tree().find(&topic).unwrap();
    let (_, datapoint) = registry.datapoint_of_topic(node).unwrap();
    assert_eq!(
        datapoint.hash_id(store.tree()),
        Some(hash_id(name, 8).as_str())
    );
    assert_eq!(datapoint.activity.observations, 1);
    let project = registry.project(datapoint.project).unwrap();
    assert_eq!(project.detected_hash_id_length, Some(8));
    assert_eq!(
        registry.role(store.tree().find("lbg01/hq").unwrap()),
        Some(NodeRole::Project(datapoint.project))
    );
    assert_eq!(
        registry.role(store.tree().find("lbg01").unwrap()),
        Some(NodeRole::LoadBalancingGroup)
    );
}

#[test]
fn the_project_hash_length_is_detected_from_the_postfix() {
    let name = "bacnet100-4120-Real-room-temperature-setpoint-RTs_real";
    let topic = "lbg03/plant/7fSjkcIHwKiq";
    let store = store_with(&[(topic, &format!("{name} value=20.5 1700000000000000000"))]);
    let registry = store.datapoints();
    let (_, datapoint) = registry
        .datapoint_of_topic(store.tree().find(topic).unwrap())
        .unwrap();
    let project = registry.project(datapoint.project).unwrap();
    assert_eq!(project.hash_id_length(), 12);
}

#[test]
fn both_base62_variants_are_recognised() {
    let legacy = format!(
        "lbg01/p/{}",
        hash_id_with("dp-64", 8, Base62Variant::Legacy)
    );
    let v1 = format!(
        "lbg01/q/{}",
        hash_id_with("dp-64", 8, Base62Variant::Pybase62V1)
    );
    assert_ne!(legacy, v1.replace("/q/", "/p/"));
    let store = store_with(&[
        (&legacy, "dp-64 value=1 1700000000000000000"),
        (&v1, "dp-64 value=2 1700000000000000000"),
    ]);
    assert_eq!(label(&store, &legacy).as_deref(), Some("dp-64"));
    assert_eq!(label(&store, &v1).as_deref(), Some("dp-64"));
}

#[test]
fn a_postfix_that_hashes_nothing_seen_is_left_alone() {
    let store = store_with(&[
        (
            "lbg01/hq/XXXXXXXX",
            "RoomTemperature value=20 1700000000000000000",
        ),
        (
            "lbg01/hq/RoomTemperature",
            "RoomTemperature value=20 1700000000000000000",
        ),
        ("plain/topic", "21.5"),
    ]);
    assert_eq!(label(&store, "lbg01/hq/XXXXXXXX"), None);
    assert_eq!(label(&store, "lbg01/hq/RoomTemperature"), None);
    assert_eq!(label(&store, "plain/topic"), None);
    // Still an observation of the datapoint, twice.
    let datapoint = store
        .datapoints()
        .by_measurement("lbg01/hq/x", "RoomTemperature")
        .unwrap();
    assert_eq!(datapoint.activity.observations, 2);
    assert_eq!(datapoint.topic, None);
}

#[test]
fn a_multi_line_message_observes_every_datapoint_once() {
    let payload = "Supply value=40 1700000000000000000\nReturn value=30 1700000000000000000\nSupply value=41 1700000001000000000";
    let store = store_with(&[("lbg01/hq/batch", payload)]);
    let registry = store.datapoints();
    assert_eq!(registry.len(), 2);
    for name in ["Supply", "Return"] {
        let datapoint = registry.by_measurement("lbg01/hq/batch", name).unwrap();
        assert_eq!(datapoint.activity.observations, 1, "{name}");
    }
    let node = store.tree().find("lbg01/hq/batch").unwrap();
    let keys: Vec<_> = store
        .topic(node)
        .unwrap()
        .latest()
        .unwrap()
        .decoded
        .values
        .iter()
        .map(|value| value.key.clone())
        .collect();
    assert_eq!(keys.len(), 3, "every line is a value a series can take");
}

#[test]
fn a_hashed_topic_is_matched_by_a_later_line_of_a_multi_line_message() {
    let name = "Return temperature";
    let topic = format!("lbg01/hq/{}", hash_id(name, 8));
    let payload =
        "Supply value=40 1700000000000000000\nReturn\\ temperature value=30 1700000000000000000";
    let store = store_with(&[(&topic, payload), (&topic, payload)]);
    assert_eq!(label(&store, &topic).as_deref(), Some(name));
    let registry = store.datapoints();
    let supply = registry.by_measurement(&topic, "Supply").unwrap();
    assert_eq!(supply.activity.observations, 2);
    assert_eq!(supply.topic, None, "not the topic of the first line");
}

#[test]
fn metadata_labels_a_topic_before_its_data_decodes() {
    let name = "Raum 1.OG \"Süd\" Temperatur";
    let hash = hash_id(name, 8);
    let meta = serde_json::json!({
        "name": name, "objtype": "analogInput", "units": "°C",
        "description": "Room temperature", "logInterval": "6000",
        "source": "BACnet", "objinstance": 18
    })
    .to_string();
    let data_topic = format!("lbg01/hq/{hash}");
    let store = store_with(&[("META/lbg01/hq", &meta), (&data_topic, "21.5")]);
    assert_eq!(label(&store, &data_topic).as_deref(), Some(name));
    let node = store.tree().find(&data_topic).unwrap();
    let (_, datapoint) = store.datapoints().datapoint_of_topic(node).unwrap();
    assert_eq!(datapoint.units(), Some("°C"));
    assert_eq!(datapoint.interval_nanos(), Some(60 * SEC));
    let meta = datapoint.meta.as_deref().unwrap();
    assert_eq!(meta.description.as_deref(), Some("Room temperature"));
    assert_eq!(meta.source.as_deref(), Some("BACnet"));
    assert_eq!(meta.tags, vec![("objinstance".into(), "18".into())]);
    assert_eq!(
        store.datapoints().role(store.tree().find("META").unwrap()),
        Some(NodeRole::MetaFamily)
    );
}

#[test]
fn metadata_arriving_later_labels_an_existing_topic() {
    let name = "Pump 3 status";
    let data_topic = format!("lbg01/hq/{}", hash_id(name, 8));
    let meta = format!(r#"{{"name":"{name}","objtype":"binaryInput","units":""}}"#);
    let store = store_with(&[(&data_topic, "1"), ("META/lbg01/hq", &meta)]);
    assert_eq!(label(&store, &data_topic).as_deref(), Some(name));
    let node = store.tree().find(&data_topic).unwrap();
    assert_eq!(
        store
            .datapoints()
            .datapoint_of_topic(node)
            .unwrap()
            .1
            .units(),
        None
    );
}

#[test]
fn per_datapoint_metadata_topics_are_labelled_and_give_the_length() {
    let name = "bacnet221-AbsPower_SI";
    let hash = hash_id(name, 12);
    let meta_topic = format!("META/lbg01/hq/{hash}");
    let meta = format!(r#"{{"name":"{name}","objtype":"analogInput","units":"kW"}}"#);
    let data_topic = format!("lbg01/hq/{hash}");
    let store = store_with(&[(&meta_topic, &meta), (&data_topic, "3.5")]);
    assert_eq!(label(&store, &meta_topic).as_deref(), Some(name));
    assert_eq!(label(&store, &data_topic).as_deref(), Some(name));
}

#[test]
fn device_metadata_is_listed_not_taken_for_a_datapoint() {
    let store = store_with(&[(
        "META/lbg01/hq",
        r#"{"name":"AS11","objtype":"device","source":"BACnet"}"#,
    )]);
    let registry = store.datapoints();
    assert!(registry.is_empty());
    let (_, project) = registry.projects().next().unwrap();
    assert_eq!(project.devices, vec![Box::<str>::from("AS11")]);
}

#[test]
fn controls_messages_reach_the_timeline() {
    let store = store_with(&[
        (
            "CONTROLS/lbg01/hq",
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":20.5,"acknowledge":true,"reference":"r1"}"#,
        ),
        (
            "CONTROLS/lbg01/hq",
            r#"{"type":"ACKSPT","swop_version":"0.2","reference":"r1","state":"failed","message":"Refused: read-only"}"#,
        ),
    ]);
    let timeline = store.datapoints().controls();
    assert_eq!(timeline.len(), 1);
    assert_eq!(
        timeline.by_reference("r1").unwrap().state(),
        crate::model::aedifion::controls::OperationState::Failed(Some("Refused: read-only".into()))
    );
    let group = store.tree().find("CONTROLS/lbg01").unwrap();
    assert_eq!(
        store.datapoints().role(group),
        Some(NodeRole::LoadBalancingGroup)
    );
    let node = store.tree().find("CONTROLS/lbg01/hq").unwrap();
    assert!(matches!(
        store.datapoints().role(node),
        Some(NodeRole::ProjectControls(_))
    ));
}

#[test]
fn stale_topics_are_listed_with_injected_time() {
    let name = "Flaky sensor";
    let topic = format!("lbg01/hq/{}", hash_id(name, 8));
    let mut store = Store::new(Limits::default());
    for at in [0, 5, 10, 15] {
        store.apply(message(
            &topic,
            &format!("Flaky\\ sensor value=1 {}", at * SEC),
            at * SEC,
        ));
    }
    let node = store.tree().find(&topic).unwrap();
    assert!(store.datapoints().stale_topics(20 * SEC).is_empty());
    assert_eq!(store.datapoints().stale_topics(40 * SEC), vec![node]);
}

#[test]
fn the_byte_estimate_grows_with_datapoints_and_reaches_the_store() {
    let empty = Store::new(Limits::default());
    assert_eq!(empty.datapoints().estimated_bytes(), 0);
    let name = "Supply temperature";
    let topic = format!("lbg01/hq/{}", hash_id(name, 8));
    let meta = format!(r#"{{"name":"{name}","objtype":"analogInput","units":"°C"}}"#);
    let store = store_with(&[
        (&topic, "Supply\\ temperature value=40 1700000000000000000"),
        ("META/lbg01/hq", &meta),
    ]);
    let registry_bytes = store.datapoints().estimated_bytes();
    assert!(
        registry_bytes > size_of::<Datapoint>() + name.len(),
        "{registry_bytes}"
    );
    let mut again = store_with(&[
        (&topic, "Supply\\ temperature value=40 1700000000000000000"),
        ("META/lbg01/hq", &meta),
    ]);
    // The same metadata again replaces, it does not add.
    again.apply(message("META/lbg01/hq", &meta, 9 * SEC));
    assert_eq!(again.datapoints().estimated_bytes(), registry_bytes);
    assert!(store.stats().bytes_held as usize >= registry_bytes);
}

#[test]
fn names_from_the_api_label_topics_before_and_after_they_appear() {
    let mut store = Store::new(Limits::default());
    let early = format!("lbg01/hq/{}", hash_id("Pump state", 10));
    // A payload without a measurement: nothing in the traffic names it.
    store.apply(message(&early, "1", SEC));
    assert_eq!(store.tree().label(store.tree().find(&early).unwrap()), None);
    let pairs = [
        (hash_id("Pump state", 10), "Pump state".to_owned()),
        (hash_id("Valve", 10), "Valve".to_owned()),
    ];
    let added = store.learn_datapoint_names(
        "lbg01/hq",
        pairs
            .iter()
            .map(|(hash, name)| (hash.as_str(), name.as_str())),
    );
    assert_eq!(added, 2);
    let tree = store.tree();
    assert_eq!(tree.label(tree.find(&early).unwrap()), Some("Pump state"));
    let late = format!("lbg01/hq/{}", hash_id("Valve", 10));
    store.apply(message(&late, "0", 2 * SEC));
    let tree = store.tree();
    assert_eq!(tree.label(tree.find(&late).unwrap()), Some("Valve"));
    let (project, _) = store.datapoints().projects().next().unwrap();
    assert_eq!(
        store
            .datapoints()
            .project(project)
            .unwrap()
            .hash_id_length(),
        10
    );
    // Learning the same list again adds nothing.
    let again = store.learn_datapoint_names(
        "lbg01/hq",
        pairs
            .iter()
            .map(|(hash, name)| (hash.as_str(), name.as_str())),
    );
    assert_eq!(again, 0);
}
