//! Headless GUI tests of the write desk with egui_kittest: nothing is sent before Confirm in
//! the setpoint and clear-retained confirmations (which show exactly what will be written), and
//! a read-only profile disables publishing, refuses every write and shows its lock.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use topicscope::model::config::profile::Profile;
use topicscope::model::decode::message::Message;
use topicscope::model::store::{Limits, Store};
use topicscope::model::topic::qos::Qos;
use topicscope::model::write::publish::{WriteError, WriteKind};
use topicscope::model::write::setpoint::SetpointDraft;
use topicscope::model::write::setpoint_tracker::RequestState;
use topicscope::ui::confirm::CANCEL;
use topicscope::ui::publish::SEND;
use topicscope::ui::setpoint::REVIEW;
use topicscope::ui::status_bar::Health;
use topicscope::ui::top_bar::{ConnectionSummary, READ_ONLY_BADGE, TopBar};
use topicscope::ui::writes::{CONFIRM_SETPOINT, WriteDesk};

const DATAPOINT: &str = "bacnet100-4120-Real-room-temperature-setpoint-RTs_real";

struct State {
    desk: WriteDesk,
    store: Store,
}

fn profile(read_only: bool) -> Profile {
    Profile {
        name: if read_only { "Production" } else { "Lab" }.into(),
        aedifion_project: "lbg01/demo_building".into(),
        read_only,
        ..Profile::default()
    }
}

fn store() -> Store {
    let mut store = Store::new(Limits::default());
    for (topic, retained) in [
        ("site/a/1", true),
        ("site/a/2", true),
        ("site/a/3", false),
        ("site/b", true),
    ] {
        store.apply(Message::new(
            topic.into(),
            bytes::Bytes::from_static(b"21.5"),
            Qos::AtMostOnce,
            retained,
            1,
        ));
    }
    store
}

fn harness(read_only: bool) -> Harness<'static, State> {
    let mut desk = WriteDesk::new(None);
    desk.set_profile(Some(&profile(read_only)), "127.0.0.1:1883");
    let state = State {
        desk,
        store: store(),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(
            |ui, state: &mut State| state.desk.ui(ui.ctx(), &state.store, true),
            state,
        );
    harness.run();
    harness
}

fn fill_setpoint(harness: &mut Harness<'static, State>) {
    let desk = &mut harness.state_mut().desk;
    desk.setpoint_open = true;
    desk.setpoint.draft = SetpointDraft {
        project: "lbg01/demo_building".into(),
        datapoint: DATAPOINT.into(),
        value: "22.5".into(),
        priority: "12".into(),
        reference: "ref-gui".into(),
        ..SetpointDraft::default()
    };
    harness.run();
}

#[test]
fn a_setpoint_is_sent_only_after_confirm_and_the_dialog_says_what_where_and_at_which_priority() {
    let mut harness = harness(false);
    fill_setpoint(&mut harness);
    harness.get_by_label(REVIEW).click();
    harness.run();
    assert!(harness.state().desk.confirming());
    assert!(
        harness.state_mut().desk.take_outgoing().is_empty(),
        "nothing before Confirm"
    );
    assert!(
        harness
            .query_by_label_contains("write 22.5 to datapoint \"bacnet100-4120-Real-room-temperature-setpoint-RTs_real\" at priority 12 via CONTROLS/lbg01/demo_building")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Reference:  ref-gui")
            .is_some()
    );

    harness.get_by_label(CONFIRM_SETPOINT).click();
    harness.run();
    let state = harness.state_mut();
    let sent = state.desk.take_outgoing();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), WriteKind::Setpoint);
    assert_eq!(sent[0].request().topic, "CONTROLS/lbg01/demo_building");
    let request = state.desk.tracker().get("ref-gui").expect("tracked");
    assert_eq!(request.state, RequestState::Requested);
    assert_eq!(request.priority, 12);
}

#[test]
fn cancelling_a_setpoint_sends_nothing() {
    let mut harness = harness(false);
    fill_setpoint(&mut harness);
    harness.get_by_label(REVIEW).click();
    harness.run();
    harness.get_by_label(CANCEL).click();
    harness.run();
    assert!(!harness.state().desk.confirming());
    assert!(harness.state_mut().desk.take_outgoing().is_empty());
    assert!(harness.state().desk.tracker().get("ref-gui").is_none());
}

#[test]
fn invalid_setpoint_fields_are_shown_next_to_them_and_nothing_is_offered_for_confirmation() {
    let mut harness = harness(false);
    fill_setpoint(&mut harness);
    harness.state_mut().desk.setpoint.draft.value = "22,5".into();
    harness.state_mut().desk.setpoint.draft.priority = "17".into();
    harness.run();
    harness.get_by_label(REVIEW).click();
    harness.run();
    assert!(!harness.state().desk.confirming());
    assert!(harness.query_by_label_contains("decimal point").is_some());
    assert!(
        harness
            .query_by_label_contains("1 (highest) to 16")
            .is_some()
    );
}

#[test]
fn clearing_a_subtree_lists_exactly_the_retained_topics_and_sends_only_after_confirm() {
    let mut harness = harness(false);
    let state = harness.state_mut();
    let node = state.store.tree().find("site/a").expect("node");
    state.desk.request_clear_retained(&state.store, node);
    harness.run();
    assert!(harness.query_by_label("site/a/1").is_some());
    assert!(harness.query_by_label("site/a/2").is_some());
    assert!(harness.query_by_label("site/a/3").is_none(), "not retained");
    assert!(
        harness.query_by_label("site/b").is_none(),
        "outside the subtree"
    );
    assert!(harness.state_mut().desk.take_outgoing().is_empty());
    harness.get_by_label("Clear 2 retained message(s)").click();
    harness.run();
    let sent = harness.state_mut().desk.take_outgoing();
    let topics: Vec<&str> = sent.iter().map(|p| p.request().topic.as_str()).collect();
    assert_eq!(topics, ["site/a/1", "site/a/2"]);
    assert!(sent.iter().all(|p| p.kind() == WriteKind::ClearRetained
        && p.request().payload.is_empty()
        && p.request().retain));
}

#[test]
fn a_read_only_profile_disables_publish_and_refuses_every_write() {
    let mut harness = harness(true);
    let desk = &mut harness.state_mut().desk;
    desk.open_publish(Some("site/a/1".into()));
    desk.setpoint_open = true;
    harness.run();
    let publish = harness.get_by_label(SEND);
    assert!(
        publish.accesskit_node().is_disabled(),
        "publish button disabled"
    );
    assert!(harness.get_by_label(REVIEW).accesskit_node().is_disabled());
    assert!(
        harness
            .query_by_label_contains("This profile is read-only: nothing can be published")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("This profile is read-only: setpoints cannot be written")
            .is_some()
    );
    let state = harness.state_mut();
    assert!(state.desk.read_only());
    let request = topicscope::model::write::publish::PublishRequest {
        topic: "site/a/1".into(),
        payload: Vec::new(),
        qos: Qos::AtLeastOnce,
        retain: true,
    };
    for kind in [
        WriteKind::Publish,
        WriteKind::ClearRetained,
        WriteKind::Setpoint,
    ] {
        let refused = state.desk.submit(request.clone(), kind, 0);
        assert!(
            matches!(refused, Err(WriteError::ReadOnly { .. })),
            "{kind:?}"
        );
    }
    assert!(state.desk.take_outgoing().is_empty());
}

#[test]
fn the_top_bar_shows_a_lock_for_a_read_only_profile() {
    let summary = |read_only| ConnectionSummary {
        active: true,
        profile_name: "Production".into(),
        health: Health::Ok,
        read_only,
    };
    for read_only in [true, false] {
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1400.0, 60.0))
            .build_ui_state(
                move |ui, bar: &mut TopBar| bar.ui(ui, &[], &summary(read_only), &mut Vec::new()),
                TopBar::default(),
            );
        harness.run();
        assert_eq!(
            harness.query_by_label(READ_ONLY_BADGE).is_some(),
            read_only,
            "read_only = {read_only}"
        );
    }
}

#[test]
fn a_template_generator_sends_at_once_shows_its_progress_and_stops_on_stop() {
    let mut desk = WriteDesk::new(None);
    let mut writable = profile(false);
    writable.templates = vec![topicscope::model::write::templates::Template {
        name: "tick".into(),
        topic: "lab/{{counter}}".into(),
        payload: "{{now_ns}}".into(),
        ..Default::default()
    }];
    desk.set_profile(Some(&writable), "127.0.0.1:1883");
    desk.open_publish(None);
    desk.publish.tab = topicscope::ui::publish::PublishTab::Templates;
    let state = State {
        desk,
        store: store(),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(
            |ui, state: &mut State| state.desk.ui(ui.ctx(), &state.store, true),
            state,
        );
    harness.run();
    harness.get_by_label("Run generator").click();
    harness.run();
    let sent = harness.state_mut().desk.take_outgoing();
    assert_eq!(sent.len(), 1, "the first message goes at once");
    assert_eq!(sent[0].request().topic, "lab/1");
    assert!(
        harness
            .query_by_label_contains("Generator running: 1 sent, 9 to go")
            .is_some()
    );
    harness.get_by_label("Stop").click();
    harness.run();
    let state = harness.state_mut();
    let later = topicscope::model::time::now_nanos() + 60_000_000_000;
    state.desk.tick(&state.store, later);
    assert!(state.desk.take_outgoing().is_empty(), "nothing after Stop");
}

#[test]
fn the_details_of_a_retained_topic_offer_clear_retained_for_exactly_that_topic() {
    use topicscope::model::store::Store;
    use topicscope::ui::UiAction;
    use topicscope::ui::explorer::Explorer;

    struct Explored {
        explorer: Explorer,
        store: Store,
        actions: Vec<UiAction>,
    }
    let mut explorer = Explorer::new();
    let mut store = store();
    let node = store.tree().find("site/b").expect("node");
    explorer.apply(UiAction::SelectTopic(node), &mut store);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, state: &mut Explored| {
                let actions = state.explorer.ui(ui, &state.store);
                state.actions.extend(actions);
            },
            Explored {
                explorer,
                store,
                actions: Vec::new(),
            },
        );
    harness.run();
    harness.get_by_label("Clear retained…").click();
    harness.run();
    let state = harness.state();
    assert!(state.actions.contains(&UiAction::ClearRetained(node)));
    let mut desk = WriteDesk::new(None);
    desk.set_profile(Some(&profile(false)), "127.0.0.1:1883");
    desk.request_clear_retained(&state.store, node);
    assert!(desk.confirming());
    assert!(desk.take_outgoing().is_empty());
}

#[test]
fn the_profile_editor_has_a_read_only_switch_that_is_on_for_aedifion_presets() {
    use topicscope::model::config::secret::MemorySecrets;
    use topicscope::ui::profiles::ProfilesPanel;

    const SWITCH: &str = "Read-only: never publish, clear retained messages or write setpoints";
    let dir = tempfile::tempdir().expect("temp dir");
    let panel = ProfilesPanel::open(dir.path(), Box::new(MemorySecrets::new()));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 1400.0))
        .build_ui_state(
            |ui, panel: &mut ProfilesPanel| {
                let _ = panel.ui(ui);
            },
            panel,
        );
    harness.run();
    for (preset, expected) in [("aedifion.io production", true), ("Local Mosquitto", false)] {
        harness.get_by_label("Preset").click();
        harness.run();
        harness.get_by_label(preset).click();
        harness.run();
        harness.get_by_label("New profile").click();
        harness.run();
        let switch = harness.get_by_label(SWITCH);
        let checked = switch.accesskit_node().toggled() == Some(egui::accesskit::Toggled::True);
        assert_eq!(checked, expected, "{preset}");
        if expected {
            // Turning it off is one click.
            switch.click();
            harness.run();
            let off = harness.get_by_label(SWITCH).accesskit_node().toggled();
            assert_eq!(off, Some(egui::accesskit::Toggled::False));
            harness.get_by_label("Discard changes").click();
            harness.run();
        }
    }
}
