//! Writes to a building from the window always pass the SWOP validator and a confirmation
//! (issue 9): a message typed in the Publish window for `CONTROLS/…`, a retained one, a
//! generator aimed at it, and a setpoint's Re-send.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use topicscope::model::config::profile::Profile;
use topicscope::model::store::{Limits, Store};
use topicscope::model::write::publish::WriteKind;
use topicscope::model::write::setpoint::SetpointDraft;
use topicscope::ui::confirm::CANCEL;
use topicscope::ui::publish::SEND;
use topicscope::ui::setpoint::{ComposerTab, REVIEW};
use topicscope::ui::writes::{CONFIRM_SETPOINT, WriteDesk};

const CONTROLS: &str = "CONTROLS/lbg01/demo_building";
const NEWSPT: &str = r#"{"type":"NEWSPT","swop_version":"1.0","datapoint":"room_setpoint","value":22.5,"priority":13}"#;

struct State {
    desk: WriteDesk,
    store: Store,
}

fn harness() -> Harness<'static, State> {
    let mut desk = WriteDesk::new(None);
    let profile = Profile {
        name: "Lab".into(),
        aedifion_project: "lbg01/demo_building".into(),
        ..Profile::default()
    };
    desk.set_profile(Some(&profile), "127.0.0.1:1883");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(
            |ui, state: &mut State| state.desk.ui(ui.ctx(), &state.store, true),
            State {
                desk,
                store: Store::new(Limits::default()),
            },
        );
    harness.run();
    harness
}

fn type_message(harness: &mut Harness<'static, State>, topic: &str, payload: &str, retain: bool) {
    let desk = &mut harness.state_mut().desk;
    desk.open_publish(Some(topic.into()));
    desk.publish.payload = payload.into();
    desk.publish.qos = 1;
    desk.publish.retain = retain;
    desk.publish.error = None;
    harness.run();
}

#[test]
fn a_publish_to_controls_must_be_a_valid_swop_request_and_waits_for_confirm() {
    let mut harness = harness();
    type_message(&mut harness, CONTROLS, "22.5", false);
    harness.get_by_label(SEND).click();
    harness.run();
    assert!(!harness.state().desk.confirming(), "nothing to confirm");
    assert!(harness.state_mut().desk.take_outgoing().is_empty());
    assert!(
        harness
            .query_by_label_contains("must be a valid SWOP request")
            .is_some(),
        "the validator's verdict is shown"
    );

    type_message(&mut harness, CONTROLS, NEWSPT, false);
    harness.get_by_label(SEND).click();
    harness.run();
    assert!(harness.state().desk.confirming());
    assert!(
        harness.state_mut().desk.take_outgoing().is_empty(),
        "nothing before Confirm"
    );
    assert!(
        harness
            .query_by_label_contains("Publish this NEWSPT request to CONTROLS/lbg01/demo_building")
            .is_some()
    );
    harness.get_by_label(CONFIRM_SETPOINT).click();
    harness.run();
    let sent = harness.state_mut().desk.take_outgoing();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), WriteKind::Setpoint);
    assert_eq!(sent[0].request().payload, NEWSPT.as_bytes());
}

#[test]
fn a_retained_controls_message_is_refused_and_cancel_sends_nothing() {
    let mut harness = harness();
    type_message(&mut harness, CONTROLS, NEWSPT, true);
    harness.get_by_label(SEND).click();
    harness.run();
    assert!(!harness.state().desk.confirming());
    assert!(
        harness
            .query_by_label_contains("must not be retained")
            .is_some()
    );

    type_message(&mut harness, CONTROLS, NEWSPT, false);
    harness.get_by_label(SEND).click();
    harness.run();
    harness.get_by_label(CANCEL).click();
    harness.run();
    assert!(harness.state_mut().desk.take_outgoing().is_empty());
}

#[test]
fn a_setpoint_is_sent_again_only_after_its_own_confirmation() {
    let mut harness = harness();
    let desk = &mut harness.state_mut().desk;
    desk.setpoint_open = true;
    desk.setpoint.draft = SetpointDraft {
        project: "lbg01/demo_building".into(),
        datapoint: "room_setpoint".into(),
        value: "22.5".into(),
        reference: "ref-resend".into(),
        ..SetpointDraft::default()
    };
    harness.run();
    harness.get_by_label(REVIEW).click();
    harness.run();
    harness.get_by_label(CONFIRM_SETPOINT).click();
    harness.run();
    assert_eq!(harness.state_mut().desk.take_outgoing().len(), 1);

    harness.state_mut().desk.setpoint.tab = ComposerTab::Requests;
    harness.run();
    harness.get_by_label("Re-send").click();
    harness.run();
    assert!(harness.state().desk.confirming(), "Re-send asks first");
    assert!(harness.state_mut().desk.take_outgoing().is_empty());
    assert!(
        harness
            .query_by_label_contains("Send request ref-resend again (sent 1 time(s) so far")
            .is_some()
    );
    harness.get_by_label(CONFIRM_SETPOINT).click();
    harness.run();
    let again = harness.state_mut().desk.take_outgoing();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].kind(), WriteKind::Setpoint);
    let tracked = harness
        .state()
        .desk
        .tracker()
        .get("ref-resend")
        .expect("tracked");
    assert_eq!(tracked.attempts, 2);
}

#[test]
fn typing_an_aedifion_host_into_a_new_profile_turns_read_only_on() {
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
    harness.get_by_label("Preset").click();
    harness.run();
    harness.get_by_label("Local Mosquitto").click();
    harness.run();
    harness.get_by_label("New profile").click();
    harness.run();
    let toggled = |harness: &Harness<'_, ProfilesPanel>| {
        harness.get_by_label(SWITCH).accesskit_node().toggled()
            == Some(egui::accesskit::Toggled::True)
    };
    assert!(!toggled(&harness), "a local broker starts writable");
    harness.get_by_label("Host").focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness.get_by_label("Host").type_text("mqtt2.aedifion.io");
    harness.run();
    assert!(toggled(&harness), "an aedifion.io host starts read-only");
    // The user may still turn it off: it is a default, not a lock.
    harness.get_by_label(SWITCH).click();
    harness.run();
    assert!(!toggled(&harness));
}
