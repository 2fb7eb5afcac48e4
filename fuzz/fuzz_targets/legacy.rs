//! Legacy semicolon format: never panics; a decoded record has a finite value and a name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicscope::model::decode::legacy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match legacy::parse_legacy(text) {
        Ok(record) => {
            assert!(record.value.is_finite());
            assert!(!record.datapoint.is_empty());
            assert_eq!(
                legacy::parse_utc_time(&record.time_text),
                Some(record.timestamp_nanos)
            );
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    let _ = legacy::parse_utc_time(text);
});
