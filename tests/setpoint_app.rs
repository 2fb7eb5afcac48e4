//! The whole app against the built-in demo building (egui_kittest): a setpoint written through
//! the composer and its confirmation is acknowledged as written, a refused one shows the edge
//! device's reason, and a publish shows the broker's PUBACK; all of it lands in the audit log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use topicscope::app::{AppOptions, Startup, TopicScopeApp};
use topicscope::model::config::profile_store::ProfileStore;
use topicscope::model::config::secret::MemorySecrets;
use topicscope::model::write::publish::PublishOutcome;
use topicscope::model::write::setpoint::SetpointDraft;
use topicscope::model::write::setpoint_tracker::RequestState;
use topicscope::ui::explorer::ExplorerViewState;
use topicscope::ui::publish::SEND;
use topicscope::ui::setpoint::{ComposerTab, REVIEW};
use topicscope::ui::writes::CONFIRM_SETPOINT;

const SETPOINT: &str = "bacnet100-4120-Real-room-temperature-setpoint-RTs_real";
const WAIT: Duration = Duration::from_secs(30);

fn harness(config_dir: &std::path::Path) -> Harness<'static, TopicScopeApp> {
    let options = AppOptions {
        config_dir: config_dir.to_owned(),
        profiles: ProfileStore::open(config_dir),
        startup: Startup::Auto,
        memory_budget_mib: None,
    };
    let app = TopicScopeApp::new(
        &egui::Context::default(),
        options,
        Arc::new(MemorySecrets::new()),
        ExplorerViewState::default(),
    );
    Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(
            |ui, app: &mut TopicScopeApp| {
                app.before_frame(ui.ctx());
                app.frame_ui(ui);
            },
            app,
        )
}

/// Steps frames (real time passing) until `done`; panics after [`WAIT`] with `what`.
fn step_until(
    harness: &mut Harness<'_, TopicScopeApp>,
    what: &str,
    done: impl Fn(&TopicScopeApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn send_setpoint(harness: &mut Harness<'_, TopicScopeApp>, datapoint: &str, reference: &str) {
    let desk = harness.state_mut().writes_mut();
    desk.setpoint_open = true;
    desk.setpoint.tab = ComposerTab::Setpoint;
    desk.setpoint.draft = SetpointDraft {
        project: "lbg01/demo_building".into(),
        datapoint: datapoint.into(),
        value: "22.5".into(),
        reference: reference.into(),
        ..SetpointDraft::default()
    };
    harness.run_steps(4);
    harness.get_by_label(REVIEW).click();
    harness.run_steps(4);
    assert!(
        harness.state().writes().confirming(),
        "no confirmation for {datapoint}"
    );
    harness.get_by_label(CONFIRM_SETPOINT).click();
    harness.run_steps(2);
}

fn state_of(app: &TopicScopeApp, reference: &str) -> Option<RequestState> {
    app.writes()
        .tracker()
        .get(reference)
        .map(|request| request.state.clone())
}

#[test]
fn setpoints_and_publishes_through_the_app_are_acknowledged_by_the_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = harness(dir.path());
    step_until(&mut harness, "the demo's datapoints", |app| {
        app.store().datapoints().len() > 100
    });
    assert!(
        !harness.state().writes().read_only(),
        "the demo is writable"
    );

    send_setpoint(&mut harness, SETPOINT, "app-written");
    step_until(&mut harness, "the ACKSPT of a valid setpoint", |app| {
        state_of(app, "app-written") != Some(RequestState::Requested)
    });
    assert_eq!(
        state_of(harness.state(), "app-written"),
        Some(RequestState::Written)
    );
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("written: Successfully wrote")
            .is_some()
    );

    send_setpoint(&mut harness, "no-such-datapoint", "app-refused");
    step_until(&mut harness, "the ACKSPT of a refused setpoint", |app| {
        state_of(app, "app-refused") != Some(RequestState::Requested)
    });
    let refused = harness
        .state()
        .writes()
        .tracker()
        .get("app-refused")
        .cloned()
        .expect("tracked");
    assert_eq!(refused.state, RequestState::Failed);
    assert!(
        refused
            .message
            .is_some_and(|m| m.contains("unknown datapoint"))
    );

    let desk = harness.state_mut().writes_mut();
    desk.open_publish(Some("lbg01/demo_building/test".into()));
    desk.publish.payload = "hello".into();
    desk.publish.qos = 1;
    harness.run_steps(2);
    harness.get_by_label(SEND).click();
    // Wait for this publish itself: until the click is processed, the newest sent message is
    // the earlier setpoint, whose outcome is already final.
    step_until(&mut harness, "the PUBACK of a publish", |app| {
        app.writes()
            .publisher()
            .sent_newest_first()
            .next()
            .is_some_and(|sent| {
                sent.request.topic == "lbg01/demo_building/test" && sent.outcome.is_final()
            })
    });
    let last = harness
        .state()
        .writes()
        .publisher()
        .sent_newest_first()
        .next()
        .cloned()
        .expect("sent");
    assert_eq!(last.outcome, PublishOutcome::Acknowledged);
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("acknowledged (PUBACK)")
            .is_some()
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    assert!(audit.contains("app-written") && audit.contains("\"acknowledged\""));
}
