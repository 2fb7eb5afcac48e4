//! The explorer understands aedifion data: hashed topics show their datapoint's name, value and
//! units; the filter finds a datapoint by name; stale datapoints can be filtered; the controls
//! timeline shows setpoint requests with their acknowledgement state. The last test runs the
//! real demo building through the real worker.

use std::time::{Duration, Instant};

use bytes::Bytes;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use rumqttc::{Client, Event, MqttOptions, Outgoing, QoS};
use topicscope::app::DRAIN_BUDGET;
use topicscope::demo::DemoServer;
use topicscope::demo::building::catalogue;
use topicscope::model::aedifion::controls::OperationState;
use topicscope::model::aedifion::hash_id::hash_id;
use topicscope::model::decode::message::Message;
use topicscope::model::decode::payload::ValueKey;
use topicscope::model::store::series::TimeSource;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::Nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::topic::tree::NodeId;
use topicscope::session::{ConnectOptions, Connection, Session, Source};

mod common;
use common::ExplorerState as Explorer;

const SEC: Nanos = 1_000_000_000;
/// A fixed "now" for the explorer, so ages and staleness do not depend on the machine.
const NOW: Nanos = 1_700_000_100 * SEC;
const TEMP_HALL: &str = "AS11-239291_C'Btr06'TempHall";

fn message(topic: &str, payload: &str, received_at_nanos: Nanos) -> Message {
    Message::new(
        topic.to_owned(),
        Bytes::copy_from_slice(payload.as_bytes()),
        Qos::AtMostOnce,
        false,
        received_at_nanos,
    )
}

fn temp_hall_topic() -> String {
    format!("lbg01/buildinginc_hq/{}", hash_id(TEMP_HALL, 8))
}

/// META for the hall temperature, then readings every 10 s up to 3 s before [`NOW`], plus an
/// unrelated datapoint that fell silent a minute ago.
fn building_store() -> Store {
    let mut store = Store::new(Limits::default());
    let meta = serde_json::json!({
        "name": TEMP_HALL, "objtype": "analogInput", "units": "°C",
        "description": "Hall temperature", "logInterval": "1000", "source": "BACnet",
        "objinstance": 18,
    });
    store.apply(message(
        "META/lbg01/buildinginc_hq",
        &meta.to_string(),
        NOW - 60 * SEC,
    ));
    let topic = temp_hall_topic();
    let escaped = TEMP_HALL.replace(' ', "\\ ");
    for (index, value) in [21.1, 21.2, 21.3, 21.4].into_iter().enumerate() {
        let at = NOW - 3 * SEC - (3 - index as Nanos) * 10 * SEC;
        store.apply(message(
            &topic,
            &format!("{escaped} value={value} {at}"),
            at,
        ));
    }
    let silent = "Boiler flow temperature";
    let silent_topic = format!("lbg01/buildinginc_hq/{}", hash_id(silent, 8));
    for step in 0..4 {
        let at = NOW - 100 * SEC + step * 10 * SEC;
        store.apply(message(
            &silent_topic,
            &format!("Boiler\\ flow\\ temperature value=60 {at}"),
            at,
        ));
    }
    store.tree_mut().expand_all_below(NodeId::ROOT);
    store
}

fn harness(store: Store) -> Harness<'static, common::ExplorerState> {
    let mut explorer = common::ExplorerState::new(store);
    explorer.set_fixed_now(Some(NOW));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, explorer: &mut Explorer| {
                explorer.show(ui);
            },
            explorer,
        );
    harness.run_steps(2);
    harness
}

#[test]
fn a_hashed_topic_shows_its_datapoint_name_value_and_unit() {
    let mut harness = harness(building_store());
    let hash = hash_id(TEMP_HALL, 8);
    let row = format!("{hash}  {TEMP_HALL} \u{b7} 21.4 °C");
    harness.get_by_label(&row).click();
    harness.run_steps(2);
    // The details panel shows the datapoint with its metadata.
    harness.get_by_label("Datapoint");
    harness.get_by_label("Hall temperature");
    harness.get_by_label("BACnet");
    harness.get_by_label("analogInput");
    harness.get_by_label("10 s (learned)");
    assert!(
        harness
            .get_all_by_label(&format!("{TEMP_HALL} value"))
            .count()
            >= 1
    );
    harness.get_by_label("21.4 °C");
}

#[test]
fn filtering_by_datapoint_name_finds_the_hashed_topic() {
    let mut harness = harness(building_store());
    harness.state_mut().set_filter_text("temphall");
    harness.run_steps(2);
    harness.get_by_label_contains(TEMP_HALL);
    assert!(
        harness
            .query_by_label_contains("Boiler flow temperature")
            .is_none(),
        "the other datapoint does not match"
    );
}

#[test]
fn stale_only_shows_the_datapoint_that_fell_silent() {
    let mut harness = harness(building_store());
    harness.get_by_label_contains("Boiler flow temperature \u{b7} 60 \u{b7} stale");
    harness.get_by_label("Stale only").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Boiler flow temperature");
    assert!(harness.query_by_label_contains(TEMP_HALL).is_none());
}

#[test]
fn the_controls_timeline_shows_setpoint_requests_with_their_acknowledgement_state() {
    let mut store = building_store();
    let topic = "CONTROLS/lbg01/buildinginc_hq";
    let requests = [
        (
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":20.5,"priority":13,"acknowledge":true,"reference":"ref-ok"}"#,
            1,
        ),
        (
            r#"{"type":"ACKSPT","swop_version":"0.2","reference":"ref-ok","success":true,"state":"written","message":"Successfully wrote value 20.5 at priority 13."}"#,
            2,
        ),
        (
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"Outside","value":3,"acknowledge":true,"reference":"ref-bad"}"#,
            3,
        ),
        (
            r#"{"type":"ACKSPT","swop_version":"0.2","reference":"ref-bad","success":false,"state":"failed","message":"Refused: datapoint 'Outside' is read-only."}"#,
            4,
        ),
        (
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":21,"acknowledge":true,"reference":"ref-open"}"#,
            5,
        ),
    ];
    for (payload, second) in requests {
        store.apply(message(topic, payload, NOW - 10 * SEC + second * SEC));
    }
    let mut harness = harness(store);
    harness.get_by_label("Controls timeline (3)").click();
    harness.run_steps(2);
    harness.get_by_label("NEWSPT RTs = 20.5 (priority 13)");
    harness.get_by_label("written");
    harness.get_by_label_contains("Successfully wrote value 20.5");
    harness.get_by_label("failed");
    harness.get_by_label_contains("Refused: datapoint 'Outside' is read-only.");
    harness.get_by_label("requested");
}

/// Pumps what the worker delivered into the session's store until `done` holds or `timeout`
/// passes.
fn pump_until(session: &mut Session, timeout: Duration, done: impl Fn(&Store) -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        session.pump(DRAIN_BUDGET);
        if done(session.store()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn the_demo_buildings_hashed_topics_get_names_and_units() {
    let server = DemoServer::start().expect("demo starts");
    let connection = Connection::start(server.profile(), None, ConnectOptions::default(), None)
        .expect("worker starts");
    let mut session = Session::new(Source::Live(connection), Store::new(Limits::default()));
    let labelled_with_units = |store: &Store| {
        let datapoints = store.datapoints();
        let tree = store.tree();
        let Some(project) = tree.find("lbg01/demo_building") else {
            return 0;
        };
        tree.children(project)
            .filter(|&node| {
                tree.label(node).is_some()
                    && datapoints
                        .datapoint_of_topic(node)
                        .is_some_and(|(_, datapoint)| datapoint.units().is_some())
            })
            .count()
    };
    let named = pump_until(&mut session, Duration::from_secs(60), |store| {
        labelled_with_units(store) >= 20
    });
    assert!(
        named,
        "only {} demo topics were named with units within 60 s",
        labelled_with_units(session.store())
    );
    let store = session.store();
    let project = store.tree().find("lbg01/demo_building").expect("project");
    let (_, datapoint) = store
        .tree()
        .children(project)
        .find_map(|node| store.datapoints().datapoint_of_topic(node))
        .expect("a datapoint");
    let registry = store.datapoints();
    let project = registry.project(datapoint.project).expect("its project");
    assert_eq!(project.hash_id_length(), 8);
    assert!(datapoint.meta.is_some(), "metadata attached");

    // A setpoint request, sent like any issuer would, shows its acknowledgement state.
    let setpoint = catalogue()
        .into_iter()
        .find_map(|spec| Some((spec.name, spec.write_range?)))
        .expect("the demo has a writable datapoint");
    let (name, range) = setpoint;
    let request = serde_json::json!({
        "type": "NEWSPT", "swop_version": "0.2", "datapoint": name,
        "value": (range.min + range.max) / 2.0, "priority": 13,
        "acknowledge": true, "reference": "gui-aedifion-test-1",
    });
    let mut options = MqttOptions::new("gui-aedifion-issuer", "127.0.0.1", server.port());
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut connection) = Client::new(options, 10);
    client
        .publish(
            "CONTROLS/lbg01/demo_building",
            QoS::AtLeastOnce,
            false,
            request.to_string(),
        )
        .expect("queue the request");
    let issuer = std::thread::Builder::new()
        .name("gui-aedifion-issuer".to_owned())
        .spawn(move || {
            // Drive the connection until the request is out (bounded by the event count).
            for event in connection.iter().take(20) {
                if let Ok(Event::Outgoing(Outgoing::Publish(_))) = event {
                    break;
                }
            }
        })
        .expect("issuer thread");
    let written = pump_until(&mut session, Duration::from_secs(30), |store| {
        store
            .datapoints()
            .controls()
            .by_reference("gui-aedifion-test-1")
            .is_some_and(|operation| operation.state() == OperationState::Written)
    });
    let _ = issuer.join();
    let store = session.into_store();
    let operation = store
        .datapoints()
        .controls()
        .by_reference("gui-aedifion-test-1")
        .map(|operation| (operation.state(), operation.requests_seen));
    assert!(
        written,
        "no written acknowledgement within 30 s: {operation:?}"
    );
}

#[test]
fn a_plotted_datapoint_shows_its_units_and_switches_between_payload_and_arrival_time() {
    let mut store = building_store();
    let node = store.tree().find(&temp_hall_topic()).expect("topic");
    let key = ValueKey::InfluxField {
        measurement: TEMP_HALL.into(),
        field: "value".into(),
    };
    let id = store.add_series(node, key);
    let mut harness = harness(store);
    // In the legend and on the series chip.
    assert_eq!(
        harness
            .get_all_by_label(&format!("{TEMP_HALL} [°C]"))
            .count(),
        2
    );
    harness.get_by_label("payload time").click();
    harness.run_steps(2);
    let series = harness.state().store().series_by_id(id).expect("series");
    assert_eq!(series.time_source, TimeSource::Arrival);
    assert_eq!(series.len(), 4, "rebuilt from the history");
    harness.get_by_label("arrival time");
}

#[test]
fn a_project_level_says_what_it_is_and_its_hash_id_length() {
    let mut harness = harness(building_store());
    // The project level shows twice (data and META); pick the data one.
    assert!(harness.state_mut().select_path("lbg01/buildinginc_hq"));
    harness.run_steps(2);
    harness.get_by_label_contains("aedifion project buildinginc_hq in load-balancing group lbg01");
    harness.get_by_label_contains("hash ids of 8 characters (detected)");
}
