//! Property tests for the payload decoders: no input makes them panic, and whatever the
//! line-protocol writer produces the parser reads back unchanged.

use proptest::prelude::*;
use topicscope::model::decode::influx::{self, FieldValue, Line};
use topicscope::model::decode::legacy;
use topicscope::model::decode::payload::{Decoded, PREVIEW_CHARS, PayloadFormat};

/// Names made of the characters that need escaping, plus umlauts and ordinary letters.
fn awkward_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(' '),
            Just(','),
            Just('='),
            Just('"'),
            Just('\\'),
            Just('\''),
            Just('#'),
            Just('ä'),
            Just('ß'),
            Just('°'),
            Just('温'),
            Just('\t'),
            proptest::char::range('a', 'z'),
            proptest::char::range('0', '9'),
        ],
        1..16,
    )
    .prop_map(|characters| characters.into_iter().collect())
}

fn key() -> impl Strategy<Value = String> {
    awkward_name().prop_filter("reserved keys are refused", |key| {
        !["time", "_field", "_measurement"].contains(&key.as_str())
    })
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |value| value.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        awkward_name().prop_map(FieldValue::String),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    (
        awkward_name().prop_filter("a leading # makes a comment", |name| {
            let after_tabs = name.trim_start_matches('\t');
            !after_tabs.is_empty() && !after_tabs.starts_with('#')
        }),
        proptest::collection::vec((key(), awkward_name()), 0..3),
        proptest::collection::vec((key(), field_value()), 1..4),
        proptest::option::of(influx::TIMESTAMP_RANGE_NANOS),
    )
        .prop_map(|(measurement, tags, fields, timestamp_nanos)| Line {
            measurement,
            tags,
            fields,
            timestamp_nanos,
        })
}

fn topic() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("META/lbg01/proj".to_owned()),
        Just("CONTROLS/lbg01/proj".to_owned()),
        Just("lbg01/proj/Pm2cx76I".to_owned()),
        any::<String>(),
    ]
}

/// Bytes that are often almost a valid payload, so the deep decoder paths get exercised.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        any::<String>().prop_map(String::into_bytes),
        "[a-z\\\\ ,=\"#.0-9iueE+-]{0,40}( [0-9-]{0,20})?(\n[a-z ,=\".0-9]{0,20}){0,3}"
            .prop_map(String::into_bytes),
        "[a-z;]{0,12};[0-9T:.Z-]{0,30};[0-9.,e+-]{0,12}".prop_map(String::into_bytes),
        "[{}\\[\\]\":,a-z0-9. tfn-]{0,60}".prop_map(String::into_bytes),
        "-?[0-9]{0,5}(\\.[0-9]{0,3})?(e[0-9])? ?[°%a-zA-Z/0-9]{0,5}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn from_payload_never_panics_and_keeps_its_promises(topic in topic(), payload in payload()) {
        let decoded = Decoded::from_payload(&topic, &payload);
        prop_assert!(decoded.preview.chars().count() <= PREVIEW_CHARS);
        prop_assert!(!decoded.preview.chars().any(char::is_control));
        prop_assert!(decoded.values.iter().all(|value| value.value.is_finite()));
        prop_assert_eq!(decoded.format == PayloadFormat::Empty, payload.is_empty());
        prop_assert_eq!(decoded.format == PayloadFormat::Binary, std::str::from_utf8(&payload).is_err());
    }

    #[test]
    fn written_lines_parse_back_unchanged(line in line()) {
        let text = line.to_line_protocol().expect("generated lines are writable");
        prop_assert!(!text.contains('\n'));
        let parsed = influx::parse_line(&text);
        prop_assert_eq!(parsed.as_ref(), Ok(&line), "written as {}", text);
        let decoded = Decoded::from_payload("lbg01/proj/x", text.as_bytes());
        prop_assert_eq!(decoded.format, PayloadFormat::Influx);
    }

    #[test]
    fn several_written_lines_parse_back_as_one_payload(lines in proptest::collection::vec(line(), 1..5)) {
        let payload: String = lines
            .iter()
            .map(|line| line.to_line_protocol().expect("writable") + "\n")
            .collect();
        let parsed: Vec<_> = influx::parse_payload(&payload).into_iter().collect::<Result<_, _>>().expect("all lines parse");
        prop_assert_eq!(parsed, lines);
    }

    #[test]
    fn line_parser_never_panics_on_any_text(text in any::<String>()) {
        for result in influx::parse_payload(&text) {
            if let Err(error) = result {
                prop_assert!(error.line_number >= 1);
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn legacy_parser_never_panics_on_any_text(text in any::<String>()) {
        let _ = legacy::parse_legacy(&text);
    }
}
