//! JSON value extraction and numbers with units: never panic; every value is finite and the
//! count stays within the documented bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicscope::model::decode::json_values;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(found) = json_values::extract_json_values(text) {
        assert!(found.values.len() <= json_values::MAX_JSON_VALUES);
        assert!(found.values.iter().all(|value| value.value.is_finite()));
    }
    if let Some((value, unit)) = json_values::parse_number_with_unit(text) {
        assert!(value.is_finite());
        assert!(text.contains(unit));
    }
});
