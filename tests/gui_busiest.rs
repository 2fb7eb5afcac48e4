//! The busiest-topics window, driven like a user with egui_kittest: the flooding topic is listed
//! first, its subtree leads the subtrees, and a click selects it.

mod common;

use bytes::Bytes;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use topicscope::model::decode::message::Message;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::Nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::ui::busiest::BUSIEST_TITLE;

const SEC: Nanos = 1_000_000_000;
const NOW: Nanos = 1_800_000_005 * SEC;

fn store_with_a_flood() -> Store {
    let mut store = Store::new(Limits::default());
    let mut apply = |topic: &str, at: Nanos| {
        store.apply(Message::new(
            topic.to_owned(),
            Bytes::from_static(b"21.5"),
            Qos::AtMostOnce,
            false,
            at,
        ));
    };
    // Over the last 5 seconds: 400 messages on the flooding topic, a few elsewhere.
    for tick in 0..400 {
        let at = NOW - 5 * SEC + tick * SEC / 80;
        apply("lbg01/plant/flood", at);
        if tick % 40 == 0 {
            apply("lbg01/plant/quiet", at);
            apply("lbg02/other/steady", at);
        }
        if tick % 100 == 0 {
            apply("lbg02/other/rare", at);
        }
    }
    store
}

fn harness() -> Harness<'static, common::ExplorerState> {
    let mut explorer = common::ExplorerState::new(store_with_a_flood());
    explorer.set_fixed_now(Some(NOW));
    common::explorer_harness(explorer, 1400.0)
}

#[test]
fn the_busiest_view_lists_the_flooding_topic_first() {
    let mut harness = harness();
    harness.get_by_label(BUSIEST_TITLE).click();
    harness.run();

    let flood = harness.get_by_label("lbg01/plant/flood").rect();
    for calmer in [
        "lbg01/plant/quiet",
        "lbg02/other/steady",
        "lbg02/other/rare",
    ] {
        let row = harness.get_by_label(calmer).rect();
        assert!(
            flood.top() < row.top(),
            "{calmer} is listed above the flooding topic"
        );
    }
    let busy_subtree = harness.get_by_label("lbg01/plant").rect();
    let calm_subtree = harness.get_by_label("lbg02/other").rect();
    assert!(busy_subtree.top() < calm_subtree.top());
    assert!(
        harness
            .query_by_label_contains("active topic levels")
            .is_some(),
        "the window says how many levels are active"
    );
}

#[test]
fn clicking_a_busy_topic_selects_it() {
    let mut harness = harness();
    harness.get_by_label(BUSIEST_TITLE).click();
    harness.run();
    harness.get_by_label("lbg01/plant/flood").click();
    harness.run();
    let explorer = harness.state();
    let selected = explorer.selected().expect("a topic is selected");
    assert_eq!(explorer.store().tree().path(selected), "lbg01/plant/flood");
}

#[test]
fn a_quiet_broker_shows_no_ranking() {
    let mut explorer = common::ExplorerState::new(store_with_a_flood());
    // Two minutes later nothing has arrived.
    explorer.set_fixed_now(Some(NOW + 120 * SEC));
    explorer.set_busiest_open(true);
    let harness = common::explorer_harness(explorer, 1400.0);
    assert!(
        harness
            .query_by_label_contains("No message in the last")
            .is_some()
    );
    assert!(harness.query_by_label("lbg01/plant/flood").is_none());
}
