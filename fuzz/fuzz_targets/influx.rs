//! Line protocol: never panics; every parsed line writes back to text that parses to the same
//! line; errors point inside their line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicscope::model::decode::influx;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<(usize, &str)> = influx::payload_lines(text).collect();
    for ((line_number, line_text), result) in lines.iter().zip(influx::parse_payload(text)) {
        match result {
            Ok(line) => {
                assert!(!line.fields.is_empty());
                for (_, value) in &line.fields {
                    if let Some(number) = value.as_f64() {
                        assert!(number.is_finite());
                    }
                }
                if let Ok(written) = line.to_line_protocol() {
                    let reread = influx::parse_line(&written)
                        .unwrap_or_else(|error| panic!("{written:?} does not re-parse: {error}"));
                    assert_eq!(reread, line, "round trip of {written:?}");
                }
                let _ = line.aedifion_fit();
            }
            Err(error) => {
                assert_eq!(error.line_number, *line_number);
                assert!(error.byte_position <= line_text.len(), "{error}");
                let _ = error.to_string();
            }
        }
    }
});
