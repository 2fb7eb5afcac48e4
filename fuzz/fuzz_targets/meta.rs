//! META metadata: never panics; the full decoder and the explorer's summary agree on what is
//! valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicscope::model::aedifion::{family as aedifion, meta};

fuzz_target!(|data: &[u8]| {
    let parsed = meta::parse(data);
    let summary = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|document| aedifion::summarize_meta(&document));
    match &parsed {
        Ok(message) => {
            assert!(!message.tags.contains_key("name"));
            assert!(!message.tags.contains_key("source"));
            assert!(serde_json::to_string(message).is_ok());
            let summary = summary.expect("a valid META message is a JSON object");
            assert_eq!(summary.problem, None);
            assert_eq!(summary.name.as_deref(), Some(message.name.as_str()));
        }
        Err(error) => {
            let _ = error.to_string();
            assert!(summary.is_none_or(|summary| summary.problem.is_some()));
        }
    }
});
