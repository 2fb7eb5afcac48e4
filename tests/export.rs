//! Exports of a recording, checked value by value against the data that produced the recording:
//! long CSV, wide CSV with decimal commas, JSON Lines, and Parquet read back by an independent
//! reader (pyarrow, in a cached virtualenv made by scripts/test-venv.sh). Also the command line,
//! filters, a damaged recording and cancelling.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use base64::Engine as _;
use bytes::Bytes;

use topicscope::export::csv::CsvOptions;
use topicscope::export::{
    ExportControl, ExportError, ExportFormat, ExportProgress, ExportRequest, TimeFormat, Units,
    export_messages, export_recording,
};
use topicscope::model::time::Nanos;
use topicscope::model::topic::filter::TopicFilter;
use topicscope::model::topic::qos::Qos;
use topicscope::record::{BlockWriter, Record, StopKind};

const T0: Nanos = 1_714_564_800_000_000_000; // 2024-05-01T12:00:00Z
const STEPS: i64 = 300;

/// One expected exported value.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    at: Nanos,
    topic: &'static str,
    datapoint: Option<&'static str>,
    field: &'static str,
    value: f64,
    unit: Option<&'static str>,
    qos: u8,
    retained: bool,
}

/// The records of a small building session and the values an export must contain, computed
/// here from the same formulas (not by TopicScope's decoder).
fn session() -> (Vec<Record>, Vec<Expected>) {
    let mut records = Vec::new();
    let mut expected = Vec::new();
    let mut push = |topic: &str, payload: Vec<u8>, qos: Qos, retained: bool, at: Nanos| {
        records.push(Record {
            topic: topic.to_owned(),
            payload: Bytes::from(payload),
            qos,
            retained,
            received_at_nanos: at,
        });
    };
    push(
        "META/lbg01/proj/h1",
        r#"{"name":"RoomTemp","objtype":"analogInput","units":"°C","description":"Room 1"}"#
            .as_bytes()
            .to_vec(),
        Qos::AtLeastOnce,
        true,
        T0 - 1_000,
    );
    for step in 0..STEPS {
        let measured = T0 + step * 60_000_000_000;
        let received = measured + 5_000_000;
        let temp = 20.0 + step as f64 * 0.25;
        push(
            "lbg01/proj/h1",
            format!("RoomTemp value={temp} {measured}").into_bytes(),
            Qos::AtLeastOnce,
            false,
            received,
        );
        expected.push(Expected {
            at: measured,
            topic: "lbg01/proj/h1",
            datapoint: Some("RoomTemp"),
            field: "value",
            value: temp,
            unit: Some("°C"),
            qos: 1,
            retained: false,
        });
        if step % 2 == 0 {
            let valve = (step % 4 / 2) as f64;
            push(
                "lbg01/proj/h2",
                format!("Valve value={valve} {measured}").into_bytes(),
                Qos::AtMostOnce,
                step == 0,
                received + 1,
            );
            expected.push(Expected {
                at: measured,
                topic: "lbg01/proj/h2",
                datapoint: Some("Valve"),
                field: "value",
                value: valve,
                unit: None,
                qos: 0,
                retained: step == 0,
            });
        }
        let json_value = step as f64 * -1.5;
        push(
            "home/living room/json",
            format!("{{\"t\":{json_value},\"label\":\"x;y\"}}").into_bytes(),
            Qos::ExactlyOnce,
            false,
            received + 2,
        );
        expected.push(Expected {
            at: received + 2,
            topic: "home/living room/json",
            datapoint: None,
            field: "t",
            value: json_value,
            unit: None,
            qos: 2,
            retained: false,
        });
        if step % 50 == 0 {
            push(
                "raw/bin",
                vec![0xff, 0x00, step as u8],
                Qos::AtMostOnce,
                false,
                received + 3,
            );
            push(
                "raw/text",
                b"hello, world".to_vec(),
                Qos::AtMostOnce,
                false,
                received + 4,
            );
        }
    }
    (records, expected)
}

fn write_recording(path: &Path, records: &[Record]) -> Vec<u64> {
    let file = File::create(path).expect("export test helper");
    let mut writer = BlockWriter::new(file, "{}", T0, 3).expect("export test helper");
    let mut block_ends = Vec::new();
    for (index, record) in records.iter().enumerate() {
        assert!(writer.push(record));
        if index % 100 == 99 {
            writer.flush_block().expect("export test helper");
            block_ends.push(writer.bytes_written());
        }
    }
    writer.finish().expect("export test helper");
    block_ends
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    recording: PathBuf,
    records: Vec<Record>,
    expected: Vec<Expected>,
    block_ends: Vec<u64>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("export test helper");
    let recording = dir.path().join("session.tsrec");
    let (records, expected) = session();
    let block_ends = write_recording(&recording, &records);
    Fixture {
        dir: dir.path().to_owned(),
        _dir: dir,
        recording,
        records,
        expected,
        block_ends,
    }
}

fn export(
    fixture: &Fixture,
    request: &ExportRequest,
    name: &str,
) -> (PathBuf, topicscope::export::ExportSummary) {
    let output = fixture.dir.join(name);
    let cancel = AtomicBool::new(false);
    let mut reports = 0;
    let mut progress = |_| reports += 1;
    let mut control = ExportControl {
        cancel: &cancel,
        progress: &mut progress,
    };
    let summary = export_recording(&fixture.recording, &output, request, &mut control)
        .expect("export test helper");
    assert!(reports >= 1, "progress is reported at least at the end");
    (output, summary)
}

#[test]
fn long_csv_holds_every_value_with_its_unit() {
    let fixture = fixture();
    let mut request = ExportRequest::new(ExportFormat::Csv);
    request.csv.time_format = TimeFormat::UnixNanos;
    let (output, summary) = export(&fixture, &request, "long.csv");
    assert_eq!(summary.records_read, fixture.records.len() as u64);
    assert_eq!(summary.rows_written, fixture.expected.len() as u64);
    assert_eq!(summary.stop.unwrap().kind, StopKind::Complete);
    let text = std::fs::read_to_string(output).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time,topic,datapoint,field,value,unit"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), fixture.expected.len());
    for (row, expected) in rows.iter().zip(&fixture.expected) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 6, "{row}");
        assert_eq!(cells[0].parse::<i64>().unwrap(), expected.at, "{row}");
        assert_eq!(cells[1], expected.topic);
        assert_eq!(cells[2], expected.datapoint.unwrap_or(""));
        assert_eq!(cells[3], expected.field);
        assert_eq!(cells[4].parse::<f64>().unwrap(), expected.value, "{row}");
        assert_eq!(cells[5], expected.unit.unwrap_or(""));
    }
}

/// The wide table the test expects: time → (RoomTemp, Valve, json t).
fn expected_wide(expected: &[Expected]) -> BTreeMap<Nanos, [Option<f64>; 3]> {
    let mut rows: BTreeMap<Nanos, [Option<f64>; 3]> = BTreeMap::new();
    for value in expected {
        let column = match value.topic {
            "lbg01/proj/h1" => 0,
            "lbg01/proj/h2" => 1,
            _ => 2,
        };
        rows.entry(value.at).or_default()[column] = Some(value.value);
    }
    rows
}

fn check_wide_csv(text: &str, expected: &[Expected]) {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time;RoomTemp [°C];Valve;home/living room/json t")
    );
    let rows = expected_wide(expected);
    let mut count = 0;
    for (line, (at, values)) in lines.zip(&rows) {
        let cells: Vec<&str> = line.split(';').collect();
        assert_eq!(cells.len(), 4, "{line}");
        let time = chrono::DateTime::parse_from_rfc3339(cells[0]).expect("export test helper");
        assert_eq!(time.timestamp_nanos_opt(), Some(*at), "{line}");
        for (cell, value) in cells[1..].iter().zip(values) {
            match value {
                Some(value) => {
                    assert!(!cell.contains('.'), "decimal comma: {line}");
                    assert_eq!(
                        cell.replace(',', ".")
                            .parse::<f64>()
                            .expect("export test helper"),
                        *value,
                        "{line}"
                    );
                }
                None => assert_eq!(*cell, "", "{line}"),
            }
        }
        count += 1;
    }
    assert_eq!(count, rows.len());
}

#[test]
fn wide_csv_with_decimal_commas_aligns_series_on_time() {
    let fixture = fixture();
    let mut request = ExportRequest::new(ExportFormat::CsvWide);
    request.csv = CsvOptions::european(TimeFormat::IsoLocal);
    let (output, summary) = export(&fixture, &request, "wide.csv");
    let rows = expected_wide(&fixture.expected);
    assert_eq!(summary.rows_written, rows.len() as u64);
    check_wide_csv(&std::fs::read_to_string(output).unwrap(), &fixture.expected);
}

#[test]
fn json_lines_keep_every_message_with_payload_and_decoded_values() {
    let fixture = fixture();
    let (output, summary) = export(
        &fixture,
        &ExportRequest::new(ExportFormat::JsonLines),
        "history.jsonl",
    );
    assert_eq!(summary.rows_written, fixture.records.len() as u64);
    let text = std::fs::read_to_string(output).unwrap();
    let mut expected_values = fixture.expected.iter();
    for (line, record) in text.lines().zip(&fixture.records) {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(json["topic"], record.topic.as_str());
        assert_eq!(json["qos"], u64::from(record.qos.level()));
        assert_eq!(json["retain"], record.retained);
        assert_eq!(json["received_at_nanos"], record.received_at_nanos);
        let payload = json["payload"].as_str().unwrap();
        let bytes = match json["payload_encoding"].as_str().unwrap() {
            "utf8" => payload.as_bytes().to_vec(),
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(payload)
                .unwrap(),
            other => panic!("encoding {other}"),
        };
        assert_eq!(bytes, record.payload);
        assert_eq!(
            json["payload_encoding"] == "base64",
            std::str::from_utf8(&record.payload).is_err()
        );
        for value in json["values"].as_array().unwrap() {
            let expected = expected_values.next().unwrap();
            assert_eq!(value["value"].as_f64(), Some(expected.value), "{line}");
            assert_eq!(value["field"], expected.field);
            assert_eq!(value["datapoint"].as_str(), expected.datapoint);
            assert_eq!(value["unit"].as_str(), expected.unit);
        }
    }
    assert_eq!(expected_values.next(), None, "every value was exported");
}

fn python_with_pyarrow() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-venv.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .expect("export test helper");
    assert!(
        output.status.success(),
        "scripts/test-venv.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(
        String::from_utf8(output.stdout)
            .expect("export test helper")
            .trim(),
    )
}

const READ_PARQUET: &str = r#"
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
table = pq.read_table(sys.argv[1])
columns = {name: table.column(name) for name in table.column_names}
columns["time"] = columns["time"].cast(pa.int64())
rows = [dict(zip(columns, values)) for values in zip(*(c.to_pylist() for c in columns.values()))]
print(json.dumps({"schema": {f.name: str(f.type) for f in table.schema}, "rows": rows}))
"#;

#[test]
fn parquet_reads_back_in_pyarrow_value_by_value() {
    let fixture = fixture();
    let (output, summary) = export(
        &fixture,
        &ExportRequest::new(ExportFormat::Parquet),
        "points.parquet",
    );
    assert_eq!(summary.rows_written, fixture.expected.len() as u64);
    let python = python_with_pyarrow();
    let result = Command::new(python)
        .args(["-c", READ_PARQUET])
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let schema = &json["schema"];
    assert_eq!(schema["time"], "timestamp[ns, tz=UTC]");
    assert_eq!(schema["topic"], "string");
    assert_eq!(schema["datapoint"], "string");
    assert_eq!(schema["value"], "double");
    assert_eq!(schema["qos"], "uint8");
    assert_eq!(schema["retained"], "bool");
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), fixture.expected.len());
    for (row, expected) in rows.iter().zip(&fixture.expected) {
        assert_eq!(row["time"].as_i64(), Some(expected.at), "{row}");
        assert_eq!(row["topic"], expected.topic);
        assert_eq!(row["datapoint"].as_str(), expected.datapoint);
        assert_eq!(row["field"], expected.field);
        assert_eq!(row["value"].as_f64(), Some(expected.value), "{row}");
        assert_eq!(row["unit"].as_str(), expected.unit);
        assert_eq!(row["qos"].as_u64(), Some(u64::from(expected.qos)));
        assert_eq!(row["retained"].as_bool(), Some(expected.retained));
    }
}

#[test]
fn time_and_topic_filters_select_messages_by_receive_time_and_topic() {
    let fixture = fixture();
    let mut request = ExportRequest::new(ExportFormat::Csv);
    request.from_nanos = Some(T0 + 100 * 60_000_000_000);
    request.to_nanos = Some(T0 + 200 * 60_000_000_000);
    request.topics = vec![TopicFilter::parse("lbg01/+/h1").unwrap()];
    let (output, summary) = export(&fixture, &request, "filtered.csv");
    // RoomTemp of steps 100..=199 is received inside the window (5 ms after each step).
    let wanted: Vec<&Expected> = fixture
        .expected
        .iter()
        .filter(|value| value.topic == "lbg01/proj/h1")
        .filter(|value| {
            let received = value.at + 5_000_000;
            (T0 + 100 * 60_000_000_000..T0 + 200 * 60_000_000_000).contains(&received)
        })
        .collect();
    assert_eq!(wanted.len(), 100);
    assert_eq!(summary.rows_written, 100);
    assert_eq!(summary.messages_exported, 100);
    let text = std::fs::read_to_string(output).unwrap();
    let temps: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        temps,
        wanted.iter().map(|value| value.value).collect::<Vec<_>>()
    );
}

#[test]
fn a_damaged_recording_exports_up_to_the_damage_and_says_where() {
    let fixture = fixture();
    let cut = fixture.block_ends[2] + 10; // inside the fourth block
    let bytes = std::fs::read(&fixture.recording).unwrap();
    std::fs::write(&fixture.recording, &bytes[..cut as usize]).unwrap();
    let (_, summary) = export(
        &fixture,
        &ExportRequest::new(ExportFormat::JsonLines),
        "cut.jsonl",
    );
    assert_eq!(summary.records_read, 300);
    let stop = summary.stop.unwrap();
    assert!(matches!(stop.kind, StopKind::Truncated(_)), "{stop:?}");
    assert_eq!(stop.offset, fixture.block_ends[2]);
}

#[test]
fn a_cancelled_export_leaves_no_file_and_keeps_the_old_one() {
    let fixture = fixture();
    let output = fixture.dir.join("keep.csv");
    std::fs::write(&output, "earlier export").unwrap();
    let cancel = AtomicBool::new(true);
    let mut progress = |_| {};
    let mut control = ExportControl {
        cancel: &cancel,
        progress: &mut progress,
    };
    // Enough records that the cancel flag is looked at.
    let many: Vec<Record> = (0..10_000).map(|_| fixture.records[1].clone()).collect();
    write_recording(&fixture.recording.with_extension("big"), &many);
    let result = export_recording(
        &fixture.recording.with_extension("big"),
        &output,
        &ExportRequest::new(ExportFormat::Csv),
        &mut control,
    );
    assert!(matches!(result, Err(ExportError::Cancelled)), "{result:?}");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "earlier export");
    assert!(!fixture.dir.join("keep.csv.partial").exists());
}

#[test]
fn the_export_command_writes_a_european_spreadsheet() {
    let fixture = fixture();
    let output = fixture.dir.join("cli.csv");
    let result = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .arg("export")
        .arg(&fixture.recording)
        .args([
            "--format",
            "csv-wide",
            "--decimal-comma",
            "--time",
            "iso-utc",
            "--output",
        ])
        .arg(&output)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "exported {} of {} messages",
            fixture.records.len(),
            fixture.records.len()
        )),
        "{stdout}"
    );
    check_wide_csv(
        &std::fs::read_to_string(&output).unwrap(),
        &fixture.expected,
    );

    let missing = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .args([
            "export",
            "/nonexistent/x.tsrec",
            "--format",
            "csv",
            "--output",
        ])
        .arg(fixture.dir.join("never.csv"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open /nonexistent/x.tsrec"));

    let not_a_recording = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .arg("export")
        .arg(&output)
        .args(["--format", "jsonl", "--output"])
        .arg(fixture.dir.join("never.jsonl"))
        .output()
        .unwrap();
    assert_eq!(not_a_recording.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_a_recording.stderr).contains("not a readable recording"));

    let bad_format = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .arg("export")
        .arg(&fixture.recording)
        .args(["--format", "xml", "--output", "x"])
        .output()
        .unwrap();
    assert_eq!(bad_format.status.code(), Some(2));
}

#[test]
fn messages_from_the_store_export_like_a_recording_with_progress_in_messages() {
    let fixture = fixture();
    // The store keeps messages without their topic text: the topic travels beside each one.
    let messages = fixture.records.iter().map(|record| {
        let mut message = record.clone().into_message();
        let topic = std::mem::take(&mut message.topic);
        (topic, message)
    });
    let mut units = Units::default();
    units.insert("lbg01/proj", "Valve", "%");
    let mut request = ExportRequest::new(ExportFormat::Csv);
    request.topics = vec![TopicFilter::parse("lbg01/#").unwrap()];
    let output = fixture.dir.join("store.csv");
    let cancel = AtomicBool::new(false);
    let mut reports: Vec<ExportProgress> = Vec::new();
    let mut progress = |report| reports.push(report);
    let mut control = ExportControl {
        cancel: &cancel,
        progress: &mut progress,
    };
    let total = fixture.records.len() as u64;
    let summary =
        export_messages(messages, total, &units, &output, &request, &mut control).unwrap();
    let wanted: Vec<&Expected> = fixture
        .expected
        .iter()
        .filter(|value| value.topic.starts_with("lbg01/"))
        .collect();
    assert_eq!(summary.rows_written, wanted.len() as u64);
    assert_eq!(summary.records_read, total);
    assert_eq!(summary.stop, None);
    let last = reports.last().unwrap();
    assert_eq!(
        (last.done, last.total, last.fraction()),
        (total, total, 1.0)
    );
    let text = std::fs::read_to_string(output).unwrap();
    for (line, expected) in text.lines().skip(1).zip(&wanted) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[1], expected.topic);
        assert_eq!(cells[4].parse::<f64>().unwrap(), expected.value);
        // Units from the caller (the registry) for Valve; RoomTemp has none here.
        let unit = if expected.datapoint == Some("Valve") {
            "%"
        } else {
            ""
        };
        assert_eq!(cells[5], unit, "{line}");
    }
}

#[test]
fn cancelling_an_export_of_messages_stops_it_and_leaves_no_file() {
    let fixture = fixture();
    let message = fixture.records[1].clone().into_message();
    let messages = (0..10_000).map(|_| ("lbg01/proj/h1".to_owned(), message.clone()));
    let output = fixture.dir.join("cancelled.parquet");
    let cancel = AtomicBool::new(true);
    let mut progress = |_| {};
    let mut control = ExportControl {
        cancel: &cancel,
        progress: &mut progress,
    };
    let request = ExportRequest::new(ExportFormat::Parquet);
    let result = export_messages(
        messages,
        10_000,
        &Units::default(),
        &output,
        &request,
        &mut control,
    );
    assert!(matches!(result, Err(ExportError::Cancelled)), "{result:?}");
    assert!(!output.exists());
    assert!(!fixture.dir.join("cancelled.parquet.partial").exists());
}
