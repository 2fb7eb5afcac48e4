//! The `decode` and `hash-id` commands, run as the built binary, against every reference
//! example in tests/data/aedifion: valid payloads decode (exit 0) to the expected parse,
//! invalid ones exit 1 with the reason (and position) in the JSON on stdout.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const META_TOPIC: &str = "META/lbg01/mybuilding";
const CONTROLS_TOPIC: &str = "CONTROLS/lbg01/mybuilding";

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/aedifion")
        .join(name)
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(data_path(name))
        .unwrap_or_else(|error| panic!("reading {name}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parsing {name}: {error}"))
}

/// Runs the binary with `args`, feeding `stdin`; the process ends by itself (stdin is closed).
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start topicscope");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait for topicscope")
}

/// `topicscope decode ARGS` on `payload`: the exit code and the JSON report.
fn decode(args: &[&str], payload: &[u8]) -> (i32, Value) {
    let mut full = vec!["decode"];
    full.extend_from_slice(args);
    let output = run(&full, payload);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().expect("exit code"), report)
}

/// A test payload: a JSON string is used as raw text, anything else is serialised.
fn payload_text(case: &Value) -> String {
    match case.get("payload_text").or_else(|| case.get("payload")) {
        Some(Value::String(raw)) => raw.clone(),
        Some(other) => other.to_string(),
        None => panic!("case without payload: {case}"),
    }
}

/// The parts of a decoded line the reference's vectors specify.
fn point(line: &Value) -> Value {
    serde_json::json!({
        "measurement": line["measurement"],
        "tags": line["tags"],
        "fields": line["fields"],
        "timestamp_ns": line["timestamp_ns"],
    })
}

#[test]
fn every_valid_influx_vector_decodes_to_the_expected_point() {
    let vectors = read_json("influx-line-protocol-vectors.json");
    let valid = vectors["valid"].as_array().expect("valid vectors");
    assert!(valid.len() >= 24);
    for case in valid {
        let line = case["line"].as_str().expect("line");
        let (code, report) = decode(&[], line.as_bytes());
        assert_eq!(code, 0, "{line}: {report:#}");
        assert_eq!(report["ok"], true);
        assert_eq!(report["format"], "influx", "{line}");
        let lines = report["lines"].as_array().expect("lines");
        assert_eq!(lines.len(), 1, "{line}");
        assert_eq!(point(&lines[0]), case["expected"], "{line}");
        let fit = match &case["aedifion_storable"] {
            Value::Bool(true) => "storable",
            Value::Bool(false) => "not_storable",
            _ => "undocumented",
        };
        assert_eq!(lines[0]["aedifion_fit"], fit, "{line}");
        assert_eq!(lines[0]["line_number"], 1);
    }
}

#[test]
fn every_invalid_influx_vector_exits_1_with_line_and_byte_position() {
    let vectors = read_json("influx-line-protocol-vectors.json");
    let invalid = vectors["invalid"].as_array().expect("invalid vectors");
    assert!(invalid.len() >= 21);
    for case in invalid {
        let line = case["line"].as_str().expect("line");
        let (code, report) = decode(&["--format", "influx"], line.as_bytes());
        assert_eq!(code, 1, "{line} ({}): {report:#}", case["reason"]);
        assert_eq!(report["ok"], false);
        let error = &report["errors"][0];
        assert_eq!(error["line_number"], 1, "{line}: {error}");
        let position = error["byte_position"].as_u64().expect("byte position");
        assert!(position as usize <= line.len(), "{line}: {error}");
        assert!(!error["reason"].as_str().unwrap_or_default().is_empty());
        assert_eq!(error["text"], line);
        // Under auto, the same line is not taken for anything else either.
        let (auto_code, _) = decode(&[], line.as_bytes());
        assert_eq!(auto_code, 1, "{line} decoded as something under auto");
    }
}

#[test]
fn the_reference_error_positions_point_at_the_culprit() {
    // (line, the byte range of the culprit, part of the reason)
    for (line, culprit, reason_part) in [
        (
            "RoomTemperature value=20,3 1465839830100400200",
            22..=26,
            "decimal comma",
        ),
        (
            "RoomTemperature value=NaN 1465839830100400200",
            22..=25,
            "NaN",
        ),
        (
            "RoomTemperature value=20.3 \"1465839830100400200\"",
            27..=27,
            "quoted",
        ),
    ] {
        let (code, report) = decode(&[], line.as_bytes());
        assert_eq!(code, 1);
        let error = &report["errors"][0];
        let position = error["byte_position"].as_u64().expect("byte position");
        assert!(culprit.contains(&position), "{line}: {error}");
        let reason = error["reason"].as_str().expect("reason");
        assert!(reason.contains(reason_part), "{line}: {reason}");
    }
}

#[test]
fn a_multi_line_message_gives_one_point_per_line_and_a_bad_line_does_not_hide_the_others() {
    let vectors = read_json("influx-line-protocol-vectors.json");
    let message = &vectors["multi_line_message"];
    let payload = message["payload"].as_str().expect("payload");
    let (code, report) = decode(&[], payload.as_bytes());
    assert_eq!(code, 0, "{report:#}");
    let points: Vec<Value> = report["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(point)
        .collect();
    assert_eq!(Value::Array(points), message["expected_points"]);
    assert_eq!(report["values"].as_array().map(Vec::len), Some(3));

    let broken = format!("# comment\n{payload}Broken value=20,3 1\n");
    let (code, report) = decode(&[], broken.as_bytes());
    assert_eq!(code, 1);
    assert_eq!(report["lines"].as_array().map(Vec::len), Some(3));
    assert_eq!(report["lines"][0]["line_number"], 2);
    assert_eq!(report["errors"][0]["line_number"], 5);
}

#[test]
fn legacy_vectors_decode_and_invalid_ones_are_refused() {
    let vectors = read_json("legacy-semicolon-vectors.json");
    for case in vectors["valid"].as_array().expect("valid") {
        let payload = payload_text(case);
        let topic = case["topic"].as_str().expect("topic");
        let (code, report) = decode(&["--topic", topic], payload.as_bytes());
        assert_eq!(code, 0, "{payload}: {report:#}");
        assert_eq!(report["format"], "legacy");
        let expected = &case["expected"];
        assert_eq!(report["legacy"]["datapoint"], expected["datapoint"]);
        assert_eq!(report["legacy"]["timestamp_ns"], expected["timestamp_ns"]);
        assert_eq!(report["legacy"]["value"], expected["value"]);
    }
    for case in vectors["invalid"].as_array().expect("invalid") {
        let payload = payload_text(case);
        let (code, report) = decode(&["--format", "legacy"], payload.as_bytes());
        assert_eq!(code, 1, "{payload}: {report:#}");
        assert!(report["errors"][0]["reason"].is_string());
    }
}

#[test]
fn meta_examples_decode_with_name_objtype_source_and_tags() {
    for (file, objtype, subject) in [
        ("meta-datapoint.json", "trendLog", "datapoint"),
        ("meta-device.json", "device", "device"),
    ] {
        let path = data_path(file);
        let path = path.to_str().expect("UTF-8 path");
        let (code, report) = decode(&["--topic", META_TOPIC, path], b"");
        assert_eq!(code, 0, "{file}: {report:#}");
        let expected = read_json(file);
        let meta = &report["meta"];
        assert_eq!(meta["name"], expected["name"]);
        assert_eq!(meta["objtype"], objtype);
        assert_eq!(meta["subject"], subject);
        assert_eq!(meta["source"], expected["source"]);
        let tags = meta["tags"].as_object().expect("tags");
        let members = expected.as_object().expect("object");
        assert_eq!(tags.len(), members.len() - 2, "all but name and source");
        assert!(tags.iter().all(|(key, value)| members[key] == *value));
    }
}

#[test]
fn invalid_meta_examples_are_refused_with_reasons() {
    let cases = read_json("meta-invalid.json");
    for case in cases.as_array().expect("cases") {
        let payload = payload_text(case);
        let (code, report) = decode(&["--topic", META_TOPIC], payload.as_bytes());
        let name = case["case"].as_str().expect("case");
        // The one "invalid" case the explorer cannot detect: a name the project lacks.
        if name.contains("does not exist") {
            assert_eq!(code, 0, "{name}: {report:#}");
        } else {
            assert_eq!(code, 1, "{name}: {report:#}");
            assert!(report["errors"][0]["reason"].is_string(), "{name}");
        }
    }
    let (_, report) = decode(&["--format", "meta"], b"name=x;objtype=y");
    assert_eq!(report["errors"][0]["line_number"], 1);
    assert!(report["errors"][0]["column"].is_u64());
}

#[test]
fn every_swop_example_decodes_and_newspt_is_strict() {
    let swop_dir = data_path("swop");
    let mut seen = 0;
    for entry in std::fs::read_dir(&swop_dir).expect("swop dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "invalid-cases.json" {
            continue;
        }
        seen += 1;
        let expected = read_json(&format!("swop/{name}"));
        let path_text = path.to_str().expect("UTF-8 path");
        let (code, report) = decode(&["--topic", CONTROLS_TOPIC, path_text], b"");
        assert_eq!(code, 0, "{name}: {report:#}");
        let swop = &report["swop"];
        let kind = match expected["type"].as_str().expect("type") {
            "NEWSPT" => "new_setpoint",
            ack if ack.starts_with("ACK") => "acknowledgement",
            _ => "other",
        };
        assert_eq!(swop["kind"], kind, "{name}");
        if kind == "new_setpoint" {
            assert_eq!(swop["datapoint"], expected["datapoint"]);
            assert_eq!(swop["value"], expected["value"]);
        } else {
            assert_eq!(swop["message_type"], expected["type"], "{name}");
        }
    }
    assert_eq!(seen, 15);
    let (_, numeric) = decode(
        &[],
        &std::fs::read(data_path("swop/NEWSPT.numeric-version.json")).expect("read"),
    );
    assert_eq!(numeric["swop"]["swop_version"], "0.1");
    assert_eq!(numeric["swop"]["notes"][0]["note"], "numeric_version");
}

#[test]
fn invalid_swop_cases_exit_1_and_the_decimal_comma_only_warns() {
    let cases = read_json("swop/invalid-cases.json");
    for case in cases.as_array().expect("cases") {
        let payload = payload_text(case);
        let name = case["case"].as_str().expect("case");
        let (code, report) = decode(&["--topic", CONTROLS_TOPIC], payload.as_bytes());
        if name.contains("decimal comma") {
            assert_eq!(code, 0, "{name}: {report:#}");
            assert_eq!(report["swop"]["notes"][0]["note"], "decimal_comma");
        } else {
            assert_eq!(code, 1, "{name}: {report:#}");
            assert!(report["errors"][0]["reason"].is_string(), "{name}");
        }
    }
}

#[test]
fn undecodable_bytes_give_json_errors_and_exit_1() {
    let (code, report) = decode(&[], &[0x6d, 0x20, 0xff, 0xfe, 0x00]);
    assert_eq!(code, 1);
    assert_eq!(report["format"], "binary");
    assert_eq!(report["errors"][0]["byte_position"], 2);
    let (code, report) = decode(&["--format", "swop"], &[0xc3]);
    assert_eq!(code, 1);
    assert_eq!(report["ok"], false);
    let (code, _) = decode(&[], b"");
    assert_eq!(code, 1);
}

#[test]
fn a_missing_file_or_unknown_format_is_a_usage_error() {
    let output = run(&["decode", "/nonexistent/payload.txt"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
    let output = run(&["decode", "--format", "xml"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown decoder"));
}

fn hash_ids(args: &[&str]) -> Vec<String> {
    let mut full = vec!["hash-id"];
    full.extend_from_slice(args);
    let output = run(&full, b"");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn hash_id_prints_the_golden_vector_ids_of_both_variants() {
    let vectors = read_json("hash-id-vectors.json");
    let vectors = vectors.as_array().expect("vectors");
    let names: Vec<&str> = vectors
        .iter()
        .map(|vector| vector["name"].as_str().expect("name"))
        .collect();
    let legacy8 = hash_ids(&[&["--"][..], &names].concat());
    let v1_12 = hash_ids(&[&["--length", "12", "--variant", "v1", "--"][..], &names].concat());
    for ((vector, legacy), v1) in vectors.iter().zip(&legacy8).zip(&v1_12) {
        let name = vector["name"].as_str().expect("name");
        assert_eq!(
            *legacy,
            format!("{name}\t{}", vector["id8_legacy"].as_str().expect("id"))
        );
        assert_eq!(
            *v1,
            format!(
                "{name}\t{}",
                vector["id12_pybase62_1_0_0"].as_str().expect("id")
            )
        );
    }
    assert_eq!(
        hash_ids(&["--variant", "both", "dp-64", "dp-58946", "RoomTemperature"]),
        [
            "dp-64\t5KyL5sGB\tlegacy",
            "dp-64\t015KyL5s\tv1",
            "dp-58946\tsz4OS0g4\tlegacy",
            "dp-58946\t02sz4OS0\tv1",
            "RoomTemperature\tPm2cx76I\tboth",
        ]
    );
}

#[test]
fn hash_id_reproduces_the_ids_published_by_aedifion() {
    let observed = read_json("hash-id-observed-in-docs.json");
    for pair in observed["pairs"].as_array().expect("pairs") {
        let name = pair["name"].as_str().expect("name");
        let length = pair["id_length"].to_string();
        let lines = hash_ids(&["--length", &length, "--", name]);
        assert_eq!(
            lines,
            [format!(
                "{name}\t{}",
                pair["observed_id"].as_str().expect("id")
            )]
        );
    }
}

#[test]
fn hash_id_refuses_lengths_outside_the_documented_range() {
    let output = run(&["hash-id", "--length", "13", "x"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("4 to 12"));
}
