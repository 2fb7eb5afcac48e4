//! The whole decoder as the worker runs it, automatic or with a profile's override, and the
//! `decode` command's report: never panics, on any topic family; previews are bounded and every
//! extracted value is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicscope::commands::decode;
use topicscope::model::decode::decoder_override::DecoderChoice;
use topicscope::model::decode::payload::{Decoded, PREVIEW_CHARS};

const TOPICS: [&str; 4] = [
    "lbg01/mybuilding/Pm2cx76I",
    "META/lbg01/mybuilding",
    "CONTROLS/lbg01/mybuilding",
    "some/other/topic",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let topic = TOPICS[usize::from(selector) % TOPICS.len()];
    // Selectors 0..=3 (the seeds) decode automatically, others with a forced decoder.
    let choice = DecoderChoice::ALL[usize::from(selector / 4) % DecoderChoice::ALL.len()];
    let decoded = Decoded::from_payload_as(topic, payload, choice);
    assert!(
        decoded.preview.chars().count() <= PREVIEW_CHARS,
        "{:?}",
        decoded.preview
    );
    assert!(!decoded.preview.contains('\n'));
    assert!(decoded.values.iter().all(|value| value.value.is_finite()));
    if choice == DecoderChoice::Auto {
        assert_eq!(decoded, Decoded::from_payload(topic, payload));
    }
    // `topicscope decode` on the same input: a JSON report, never a panic.
    let report = decode::decode(Some(topic), payload, choice);
    assert!(serde_json::to_string(&report).is_ok());
    assert_eq!(report.ok, report.errors.is_empty());
});
