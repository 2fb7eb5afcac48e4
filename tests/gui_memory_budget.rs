//! The status bar shows the memory held against the budget, and says so when the process's own
//! size (RSS) holds the store below its budget.

mod common;

use bytes::Bytes;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use common::ExplorerState as Explorer;
use topicscope::model::decode::message::Message;
use topicscope::model::store::memory_budget::BudgetReading;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::now_nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::ui::format::format_bytes;

const BUDGET_BYTES: usize = 64 << 20;

fn explorer() -> Explorer {
    let mut store = Store::new(Limits {
        memory_budget_bytes: BUDGET_BYTES,
        ..Limits::default()
    });
    store.apply(Message::new(
        "building/room1/temperature".to_owned(),
        Bytes::from_static(b"21.5"),
        Qos::AtMostOnce,
        false,
        now_nanos(),
    ));
    common::ExplorerState::new(store)
}

fn harness(explorer: Explorer) -> Harness<'static, common::ExplorerState> {
    common::explorer_harness(explorer, 1600.0)
}

fn memory_label(explorer: &Explorer) -> String {
    format!(
        "Memory: {} of {}",
        format_bytes(explorer.store().stats().bytes_held),
        format_bytes(BUDGET_BYTES as u64)
    )
}

#[test]
fn the_status_bar_shows_the_memory_held_against_the_budget() {
    let explorer = explorer();
    let label = memory_label(&explorer);
    let harness = harness(explorer);
    harness.get_by_label(&label);
    assert!(
        harness
            .query_by_label(&format!("{label} · budget enforced"))
            .is_none()
    );
}

#[test]
fn the_status_bar_says_when_the_process_size_enforces_the_budget() {
    let mut explorer = explorer();
    explorer.store_mut().record_budget_reading(BudgetReading {
        rss_bytes: Some(80 << 20),
        store_target_bytes: Some(20 << 20),
        rss_limit_bytes: 48 << 20,
    });
    let label = memory_label(&explorer);
    let harness = harness(explorer);
    harness.get_by_label(&format!("{label} · budget enforced"));
}

#[test]
fn a_topic_whose_latest_message_the_budget_evicted_says_so_in_the_row_details_and_status_bar() {
    let mut store = Store::new(Limits::default());
    for topic in ["quiet_sensor", "busy_sensor"] {
        store.apply(Message::new(
            topic.to_owned(),
            Bytes::from_static(b"21.5"),
            Qos::AtMostOnce,
            false,
            now_nanos(),
        ));
    }
    // Just under the estimate: the least recently updated topic's latest message goes.
    let held = store.stats().bytes_held as usize;
    store.set_memory_target_bytes(Some(held - 1));
    assert_eq!(store.stats().latest_evicted, 1);
    let mut harness = harness(common::ExplorerState::new(store));
    harness.get_by_label("Latest evicted: 1");
    assert!(harness.query_by_label("busy_sensor").is_some(), "kept");
    harness
        .get_by_label("quiet_sensor  (evicted: memory budget)")
        .click();
    harness.run();
    harness.get_by_label_contains("removed to stay within the memory budget");
    harness.get_by_label_contains("the next message on this topic will be shown here");
}
