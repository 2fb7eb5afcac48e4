//! Memory per topic of the store, measured like the scale benchmark but without a broker: applies
//! N aedifion-style retained messages (`lbg01/bench/<hash id>`, one Influx line each, as
//! `topicscope bench publish --retain` sends them) and prints the RSS growth per topic beyond the
//! payload bytes, next to the store's own estimate.
//!
//! ```text
//! cargo run --release --example store_memory -- 1000000          # the whole store
//! cargo run --release --example store_memory -- 1000000 tree     # one part alone
//! cargo run --release --example store_memory -- 1000000 store 256 # a 256 MiB memory budget
//! ```
//! Parts: `store` (default), `tree` (levels and path index), `datapoints` (tree + the aedifion
//! registry), `rates` (tree + busiest-topics counters), `messages` (decoded messages kept in a
//! `Vec`, no store). Each part's figure includes the tree where it says so.

use bytes::Bytes;
use topicscope::commands::bench::{PayloadKind, bench_payload};
use topicscope::model::aedifion::datapoints::Datapoints;
use topicscope::model::aedifion::hash_id::hash_id;
use topicscope::model::decode::message::Message;
use topicscope::model::store::rates::Rates;
use topicscope::model::store::{Limits, Store};
use topicscope::model::topic::qos::Qos;
use topicscope::model::topic::tree::TopicTree;

/// The process's resident set in bytes (Linux), 0 where unknown.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Message number `index` as the worker would hand it to the store.
fn bench_message(index: u64, at_nanos: i64) -> Message {
    let name = format!("bench_dp_{index}");
    let topic = format!("lbg01/bench/{}", hash_id(&name, 8));
    let payload = bench_payload(PayloadKind::Influx, &name, index, at_nanos);
    // The worker copies the payload out of rumqttc's buffer: one exact-size allocation.
    Message::new(
        topic,
        Bytes::copy_from_slice(&payload),
        Qos::AtLeastOnce,
        true,
        at_nanos,
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200_000);
    let part = args.next().unwrap_or_else(|| "store".to_owned());
    // A budget small enough makes the store evict, latest messages last: shows what it frees.
    let budget_mib: Option<usize> = args.next().and_then(|text| text.parse().ok());
    let start_nanos = 1_764_000_000_000_000_000_i64;

    let mut store = Store::new(Limits {
        memory_budget_bytes: budget_mib
            .map_or(Limits::default().memory_budget_bytes, |mib| mib << 20),
        ..Limits::default()
    });
    let mut tree = TopicTree::new();
    let mut datapoints = Datapoints::default();
    let mut rates = Rates::new();
    let mut kept = Vec::new();
    let mut payload_bytes = 0u64;
    let before = rss_bytes();
    for index in 0..count {
        let at_nanos = start_nanos + index as i64 * 1_000;
        let message = bench_message(index, at_nanos);
        payload_bytes += message.payload.len() as u64;
        match part.as_str() {
            "tree" => {
                tree.insert(&message.topic);
            }
            "datapoints" => {
                if let Some(node) = tree.insert(&message.topic) {
                    datapoints.observe(&mut tree, node, &message);
                }
            }
            "rates" => {
                if let Some(node) = tree.insert(&message.topic) {
                    rates.record(&tree, node, message.payload.len(), at_nanos);
                }
            }
            "messages" => kept.push(message),
            _ => store.apply(message),
        }
    }
    let grown = rss_bytes().saturating_sub(before);
    let topics = count.max(1) as f64;
    let payload_per_topic = payload_bytes as f64 / topics;
    println!(
        "{part}: {count} topics, RSS growth {:.0} B/topic, payload {payload_per_topic:.1} B/topic, \
         beyond payload {:.0} B/topic",
        grown as f64 / topics,
        grown as f64 / topics - payload_per_topic,
    );
    match part.as_str() {
        "store" | "" => println!(
            "store estimate {:.0} B/topic (of which datapoints {:.0}, rates {:.0}); topics {}; \
             latest messages evicted {} (budget {} MiB)",
            store.stats().bytes_held as f64 / topics,
            store.datapoints().estimated_bytes() as f64 / topics,
            store.rates().estimated_bytes() as f64 / topics,
            store.stats().topics,
            store.stats().latest_evicted,
            store.limits().memory_budget_bytes >> 20,
        ),
        "datapoints" => println!(
            "datapoints estimate {:.0} B/topic; {} datapoints",
            datapoints.estimated_bytes() as f64 / topics,
            datapoints.len()
        ),
        "rates" => println!(
            "rates estimate {:.0} B/topic",
            rates.estimated_bytes() as f64 / topics
        ),
        _ => {}
    }
    println!(
        "sizes: Message {} B, ExtractedValue {} B, Node {} B, TopicState {} B, Datapoint {} B",
        size_of::<Message>(),
        size_of::<topicscope::model::decode::payload::ExtractedValue>(),
        size_of::<topicscope::model::topic::tree::Node>(),
        size_of::<topicscope::model::store::TopicState>(),
        size_of::<topicscope::model::aedifion::datapoints::Datapoint>(),
    );
    // Keep everything alive until measured.
    std::hint::black_box((&store, &tree, &datapoints, &rates, &kept));
}
