//! Headless GUI tests of the explorer (tree, details, plot, status bar) with egui_kittest:
//! find widgets by label, click and type like a user, assert on the store and on what is shown.

mod common;

use bytes::Bytes;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use common::ExplorerState as Explorer;
use topicscope::app::status_view;
use topicscope::model::decode::message::Message;
use topicscope::model::decode::payload::ValueKey;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::now_nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::topic::tree::NodeId;
use topicscope::mqtt::Inbox;

fn message(topic: &str, payload: &[u8]) -> Message {
    Message::new(
        topic.to_owned(),
        Bytes::copy_from_slice(payload),
        Qos::AtLeastOnce,
        false,
        now_nanos(),
    )
}

/// An explorer over `messages` with every tree level expanded.
fn explorer_with(messages: &[(&str, &[u8])]) -> Explorer {
    let mut store = Store::new(Limits::default());
    for (topic, payload) in messages {
        store.apply(message(topic, payload));
    }
    store.tree_mut().expand_all_below(NodeId::ROOT);
    common::ExplorerState::new(store)
}

fn harness(explorer: Explorer) -> Harness<'static, common::ExplorerState> {
    common::explorer_harness(explorer, 1400.0)
}

#[test]
fn selecting_a_topic_in_the_tree_shows_its_payload_in_the_details() {
    let payload = br#"{"unit": "degC", "value": 21.5}"#;
    let mut harness = harness(explorer_with(&[
        ("building/room1/temperature", payload),
        ("building/room2/humidity", b"55"),
    ]));
    assert!(
        harness.query_by_label("\"degC\"").is_none(),
        "nothing selected yet"
    );

    harness.get_by_label("temperature").click();
    harness.run();

    let selected = harness.state().selected().expect("a selection");
    assert_eq!(
        harness.state().store().tree().path(selected),
        "building/room1/temperature"
    );
    harness.get_by_label("building/room1/temperature");
    harness.get_by_label("\"degC\"");

    harness.get_by_label("Text").click();
    harness.run();
    harness.get_by_label(r#"{"unit": "degC", "value": 21.5}"#);
}

#[test]
fn add_to_plot_on_a_numeric_value_creates_a_series_shown_in_the_legend() {
    let mut harness = harness(explorer_with(&[("plant/boiler/flow_temp", b"63.5")]));
    harness.get_by_label("flow_temp").click();
    harness.run();

    harness.get_by_label("Add to plot").click();
    harness.run();

    let store = harness.state().store();
    let series: Vec<_> = store.series().map(|(_, series)| series).collect();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].topic, "plant/boiler/flow_temp");
    assert_eq!(series[0].key, ValueKey::Whole);
    assert_eq!(series[0].len(), 1, "back-filled from the topic's history");
    let label = series[0].label.clone();
    harness.get_by_role_and_label(egui::accesskit::Role::CheckBox, &label);
    harness.get_by_label("Plotted");
}

#[test]
fn typing_in_the_filter_box_narrows_the_tree() {
    let mut harness = harness(explorer_with(&[
        ("site/ahu1/supply_temp", b"18"),
        ("site/ahu1/fan_speed", b"40"),
        ("site/boiler/return_temp", b"45"),
        ("other/meter/energy", b"1200"),
    ]));
    for name in ["supply_temp", "fan_speed", "return_temp", "energy"] {
        harness.get_by_label(name);
    }

    let filter = harness.get_by_label("Filter");
    filter.focus();
    filter.type_text("temp");
    harness.run();

    harness.get_by_label("supply_temp");
    harness.get_by_label("return_temp");
    assert!(
        harness.query_by_label("fan_speed").is_none(),
        "non-matching topic still shown"
    );
    assert!(
        harness.query_by_label("energy").is_none(),
        "non-matching subtree still shown"
    );
    assert!(
        harness.query_by_label("other").is_none(),
        "ancestor of nothing matching still shown"
    );
}

#[test]
fn an_mqtt_wildcard_in_the_filter_box_matches_like_a_subscription() {
    let mut harness = harness(explorer_with(&[
        ("site/ahu1/supply_temp", b"18"),
        ("site/ahu2/supply_temp", b"19"),
        ("site/ahu2/fan_speed", b"40"),
    ]));
    let filter = harness.get_by_label("Filter");
    filter.focus();
    filter.type_text("site/+/supply_temp");
    harness.run();

    assert_eq!(harness.query_all_by_label("supply_temp").count(), 2);
    assert!(harness.query_by_label("fan_speed").is_none());
}

#[test]
fn a_binary_payload_shows_as_hex_instead_of_failing() {
    let mut harness = harness(explorer_with(&[(
        "devices/blob",
        &[0xff, 0x00, 0xfe, 0x41, 0x80],
    )]));
    harness.get_by_label("blob").click();
    harness.run();

    harness.get_by_label("Not valid UTF-8: shown as hex.");
    harness.get_by_label_contains("00000000  ff 00 fe 41 80");
    // Choosing Text or JSON cannot make it render invalid UTF-8 as text.
    harness.get_by_label("Text").click();
    harness.run();
    harness.get_by_label_contains("00000000  ff 00 fe 41 80");
}

fn is_highlighted(harness: &Harness<'_, Explorer>, label: &str) -> bool {
    harness.get_by_label(label).accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
}

#[test]
fn the_payload_mode_selector_highlights_what_is_shown_and_greys_out_what_cannot_be() {
    let mut harness = harness(explorer_with(&[
        ("site/line", b"temp,room=a value=21.5"),
        ("site/doc", br#"{"value": 21.5}"#),
    ]));
    harness.get_by_label("line").click();
    harness.run();
    // JSON is the default choice, but an Influx line is shown as text.
    assert!(is_highlighted(&harness, "Text"));
    assert!(!is_highlighted(&harness, "JSON"));
    assert!(harness.get_by_label("JSON").accesskit_node().is_disabled());

    harness.get_by_label("doc").click();
    harness.run();
    assert!(is_highlighted(&harness, "JSON"));
    assert!(!harness.get_by_label("JSON").accesskit_node().is_disabled());
}

#[test]
fn the_status_bar_shows_messages_dropped_by_a_full_inbox() {
    let inbox = Inbox::new(3);
    for n in 0..10 {
        inbox.push(message(&format!("flood/{n}"), b"1"));
    }
    let mut explorer = common::ExplorerState::new(Store::new(Limits::default()));
    let mut taken = Vec::new();
    assert_eq!(inbox.drain_into(usize::MAX, &mut taken), 3);
    for message in taken {
        explorer.store_mut().apply(message);
    }
    explorer.set_status(status_view(None, inbox.stats(), now_nanos()));

    let harness = harness(explorer);

    harness.get_by_label("Dropped: 7");
    harness.get_by_label("Received: 10");
    harness.get_by_label("Applied: 3");
}

#[test]
fn arrow_keys_move_the_selection_over_visible_rows() {
    let mut harness = harness(explorer_with(&[("a/first", b"1"), ("a/second", b"2")]));
    harness.get_by_label("first").click();
    harness.run();

    harness.key_press(egui::Key::ArrowDown);
    harness.run();
    let selected = harness.state().selected().expect("a selection");
    assert_eq!(harness.state().store().tree().path(selected), "a/second");

    harness.key_press(egui::Key::ArrowLeft);
    harness.run();
    let selected = harness.state().selected().expect("a selection");
    assert_eq!(
        harness.state().store().tree().path(selected),
        "a",
        "Left on a leaf goes to its parent"
    );

    harness.key_press(egui::Key::ArrowLeft);
    harness.run();
    assert!(
        harness.query_by_label("first").is_none(),
        "Left on an expanded node collapses it"
    );
}

#[test]
fn the_collapse_arrow_hides_children() {
    let mut harness = harness(explorer_with(&[("top/child", b"1")]));
    harness.get_by_label("child");
    harness.get_by_label("Collapse").click();
    harness.run();
    assert!(harness.query_by_label("child").is_none());
    harness.get_by_label("Expand").click();
    harness.run();
    harness.get_by_label("child");
}

#[test]
fn a_large_payload_shows_its_size_and_a_truncated_view() {
    let big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB of text on one line
    let mut harness = harness(explorer_with(&[("bulk/blob", big.as_bytes())]));
    harness.get_by_label("blob").click();
    harness.run();

    harness.get_by_label("1.0 MiB");
    harness.get_by_label(
        "Showing the first 256.0 KiB of 1.0 MiB (copy the payload to see all of it).",
    );
    harness.get_by_label("Hex").click();
    harness.run();
    harness
        .get_by_label("Showing the first 64.0 KiB of 1.0 MiB (copy the payload to see all of it).");
}

#[test]
fn a_tree_of_100000_topics_lays_out_only_the_rows_on_screen() {
    let mut store = Store::new(Limits::default());
    for n in 0..100_000 {
        store.apply(message(&format!("site/dev{n}"), b"1"));
    }
    store.tree_mut().expand_all_below(NodeId::ROOT);
    let harness = harness(common::ExplorerState::new(store));

    let laid_out = harness
        .query_all_by(|node| node.label().is_some_and(|label| label.starts_with("dev")))
        .count();
    assert!(laid_out > 10, "rows are shown ({laid_out})");
    assert!(
        laid_out < 100,
        "only rows on screen are laid out, not {laid_out}"
    );
}
