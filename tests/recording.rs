//! Recordings: what is written reads back exactly; a file cut off or damaged anywhere opens up
//! to the damage and says where, never panics; the threaded writer flushes by time, honours the
//! size limit (stop and rotate) and counts every record it did not write.

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;

use topicscope::model::topic::qos::Qos;
use topicscope::record::format::BLOCK_HEADER_BYTES;
use topicscope::record::{
    BlockWriter, OnLimit, Record, RecordOptions, RecordReader, RecordState, RecordWriter, StopKind,
    rotated_path,
};

fn record(index: u64) -> Record {
    let qos = Qos::from_level((index % 3) as u8).expect("recording test helper");
    let payload = match index % 4 {
        0 => Bytes::from(format!(
            "RoomTemp value={}.5 {}",
            index,
            1_700_000_000_000_000_000u64 + index
        )),
        1 => Bytes::from(vec![0xff, 0x00, index as u8]),
        2 => Bytes::new(),
        _ => Bytes::from(format!("{{\"v\":{index}}}")),
    };
    Record {
        topic: format!("site/floor{}/sensor{}", index % 5, index % 7),
        payload,
        qos,
        retained: index.is_multiple_of(6),
        received_at_nanos: 1_700_000_000_000_000_000 + (index as i64) * 1_000_000,
    }
}

/// A recording in memory with `blocks` blocks of `per_block` records, closed cleanly when
/// `finish`. Returns the bytes, the records and each block's (offset, length).
fn recording(
    blocks: usize,
    per_block: usize,
    finish: bool,
) -> (Vec<u8>, Vec<Record>, Vec<(usize, usize)>) {
    let mut writer =
        BlockWriter::new(Vec::new(), "{\"test\":true}", 42, 3).expect("recording test helper");
    let mut records = Vec::new();
    let mut spans = Vec::new();
    for block in 0..blocks {
        for index in 0..per_block {
            let record = record((block * per_block + index) as u64);
            assert!(writer.push(&record));
            records.push(record);
        }
        let start = writer.bytes_written() as usize;
        let len = writer.flush_block().expect("recording test helper") as usize;
        spans.push((start, len));
    }
    let bytes = if finish {
        writer.finish().expect("recording test helper")
    } else {
        writer.get_ref().clone()
    };
    (bytes, records, spans)
}

fn read_all(bytes: &[u8]) -> (Vec<Record>, topicscope::record::Stop) {
    let mut reader =
        RecordReader::new(Cursor::new(bytes.to_vec()), "memory").expect("recording test helper");
    let records: Vec<Record> = reader.by_ref().collect();
    let stop = reader.stop().cloned().expect("recording test helper");
    (records, stop)
}

#[test]
fn a_closed_recording_reads_back_every_record_and_says_complete() {
    let (bytes, records, _) = recording(3, 10, true);
    let mut reader = RecordReader::new(Cursor::new(bytes.clone()), "memory").unwrap();
    assert_eq!(reader.header().info, "{\"test\":true}");
    assert_eq!(reader.header().created_at_nanos, 42);
    let read: Vec<Record> = reader.by_ref().collect();
    assert_eq!(read, records);
    let stop = reader.stop().unwrap();
    assert_eq!(stop.kind, StopKind::Complete);
    assert_eq!(stop.records_read, 30);
    assert_eq!(reader.bytes_read(), bytes.len() as u64);
}

#[test]
fn a_file_cut_at_every_offset_opens_up_to_the_cut() {
    let (bytes, records, spans) = recording(3, 4, true);
    let data_start = spans[0].0;
    for cut in 0..bytes.len() {
        let short = &bytes[..cut];
        let opened = RecordReader::new(Cursor::new(short.to_vec()), "memory");
        if cut < data_start {
            let error = opened.err().expect("a cut header cannot open").to_string();
            assert!(
                error.contains("not a readable recording"),
                "cut {cut}: {error}"
            );
            continue;
        }
        let (read, stop) = read_all(short);
        let whole_blocks = spans
            .iter()
            .filter(|(start, len)| start + len <= cut)
            .count();
        assert_eq!(read, records[..whole_blocks * 4], "cut at {cut}");
        let at_boundary = cut == data_start || spans.iter().any(|(start, len)| start + len == cut);
        let expected = if at_boundary {
            "unfinished"
        } else {
            "truncated"
        };
        let kind = match stop.kind {
            StopKind::Unfinished => "unfinished",
            StopKind::Truncated(_) => "truncated",
            ref other => panic!("cut at {cut}: {other:?}"),
        };
        assert_eq!(kind, expected, "cut at {cut}");
        assert!(
            stop.to_string()
                .contains(&format!("{} records", whole_blocks * 4)),
            "{stop}"
        );
    }
}

#[test]
fn an_unfinished_file_says_so_without_losing_a_record() {
    let (bytes, records, _) = recording(2, 5, false);
    let (read, stop) = read_all(&bytes);
    assert_eq!(read, records);
    assert_eq!(stop.kind, StopKind::Unfinished);
    assert!(stop.is_undamaged());
}

#[test]
fn seeking_by_time_starts_at_the_first_record_not_earlier() {
    let (bytes, records, spans) = recording(4, 10, true);
    let mut reader = RecordReader::new(Cursor::new(bytes), "memory").unwrap();
    assert_eq!(reader.index().len(), 4);
    assert_eq!(reader.index()[2].offset, spans[2].0 as u64);
    assert_eq!(reader.indexed_records(), 40);
    assert_eq!(
        reader.time_range(),
        Some((records[0].received_at_nanos, records[39].received_at_nanos))
    );
    for target in [0usize, 9, 10, 25, 39] {
        reader.seek_to_time(records[target].received_at_nanos);
        let read: Vec<Record> = reader.by_ref().collect();
        assert_eq!(read, records[target..], "seek to record {target}");
        assert_eq!(reader.stop().unwrap().kind, StopKind::Complete);
    }
    reader.seek_to_time(records[39].received_at_nanos + 1);
    assert_eq!(reader.by_ref().count(), 0);
    reader.seek_to_time(i64::MIN);
    assert_eq!(reader.by_ref().count(), 40);
    reader.rewind();
    assert_eq!(reader.by_ref().collect::<Vec<_>>(), records);
}

#[test]
fn a_file_that_is_not_a_recording_is_refused_with_a_reason() {
    for (bytes, needle) in [
        (b"".to_vec(), "shorter than"),
        (
            b"hello world, this is a text file, not a recording".to_vec(),
            "does not start with TSREC",
        ),
    ] {
        let error = RecordReader::new(Cursor::new(bytes), "x.tsrec")
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains(needle), "{error}");
    }
    let (mut bytes, _, _) = recording(1, 1, true);
    bytes[8] = 9; // version 9
    let error = RecordReader::new(Cursor::new(bytes), "x")
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("version 9"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Flipping bytes anywhere after the file header: the reader returns exactly the records of
    /// the blocks before the first damaged one and stops at that block, never panicking.
    #[test]
    fn a_damaged_file_opens_up_to_the_damage(
        blocks in 1usize..5,
        per_block in 1usize..6,
        damage in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let (mut bytes, records, spans) = recording(blocks, per_block, true);
        let data_start = spans[0].0;
        let damaged_len = bytes.len() - data_start;
        // Two flips of one byte can cancel out: only a byte that ends up changed is damage.
        let original = bytes.clone();
        for (index, xor) in &damage {
            bytes[data_start + index.index(damaged_len)] ^= xor;
        }
        let first_damage = (data_start..bytes.len())
            .find(|&at| bytes[at] != original[at])
            .unwrap_or(usize::MAX);
        prop_assume!(first_damage != usize::MAX);
        let (read, stop) = read_all(&bytes);
        let intact_blocks = spans.iter().take_while(|(start, len)| start + len <= first_damage).count();
        prop_assert_eq!(&read[..], &records[..intact_blocks * per_block]);
        prop_assert!(!stop.is_undamaged(), "{}", stop);
        let expected_offset = spans.get(intact_blocks).map_or(bytes.len() - 24, |span| span.0);
        prop_assert_eq!(stop.offset, expected_offset as u64);
    }

    /// Arbitrary bytes after a valid header and random truncation never panic the reader or
    /// the index.
    #[test]
    fn random_bytes_after_the_header_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..400),
        keep_block in any::<bool>(),
    ) {
        let (mut bytes, _, spans) = recording(1, 2, false);
        if !keep_block {
            bytes.truncate(spans[0].0);
        }
        bytes.extend_from_slice(&tail);
        let mut reader = RecordReader::new(Cursor::new(bytes), "memory").unwrap();
        let _ = reader.index().len();
        reader.seek_to_time(0);
        let _ = reader.by_ref().count();
        prop_assert!(reader.stop().is_some());
    }

    /// Any records, any block split: read back equal.
    #[test]
    fn any_records_round_trip(
        messages in prop::collection::vec(
            ("[a-z/+#$ é]{0,20}", prop::collection::vec(any::<u8>(), 0..64), 0u8..3, any::<bool>(), any::<i64>(), any::<bool>()),
            0..40,
        ),
    ) {
        let mut writer = BlockWriter::new(Vec::new(), "", 0, 1).unwrap();
        let mut records = Vec::new();
        for (topic, payload, qos, retained, at, flush) in messages {
            let record = Record {
                topic,
                payload: Bytes::from(payload),
                qos: Qos::from_level(qos).unwrap(),
                retained,
                received_at_nanos: at,
            };
            prop_assert!(writer.push(&record));
            records.push(record);
            if flush {
                writer.flush_block().unwrap();
            }
        }
        let bytes = writer.finish().unwrap();
        let (read, stop) = read_all(&bytes);
        prop_assert_eq!(read, records);
        prop_assert_eq!(stop.kind, StopKind::Complete);
    }
}

#[test]
fn block_header_damage_is_reported_at_the_block() {
    let (mut bytes, records, spans) = recording(3, 2, true);
    bytes[spans[1].0 + BLOCK_HEADER_BYTES - 1] ^= 1;
    let (read, stop) = read_all(&bytes);
    assert_eq!(read, records[..2]);
    assert_eq!(stop.offset, spans[1].0 as u64);
    assert!(
        stop.to_string()
            .contains(&format!("damaged at byte {}", spans[1].0)),
        "{stop}"
    );
    assert!(stop.to_string().contains("checksum"), "{stop}");
}

fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    condition()
}

fn read_file(path: &Path) -> (Vec<Record>, topicscope::record::Stop) {
    let mut reader = RecordReader::open(path).expect("recording test helper");
    let records: Vec<Record> = reader.by_ref().collect();
    (
        records,
        reader.stop().cloned().expect("recording test helper"),
    )
}

#[test]
fn the_writer_thread_flushes_by_time_so_a_kill_loses_only_the_block_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.tsrec");
    let writer = RecordWriter::create(
        &path,
        RecordOptions {
            block_interval: Duration::from_millis(50),
            ..RecordOptions::default()
        },
    )
    .unwrap();
    let records: Vec<Record> = (0..3).map(record).collect();
    for record in &records {
        assert!(writer.record(record.clone()));
    }
    assert!(
        wait_until(Duration::from_secs(10), || writer.status().written == 3),
        "{:?}",
        writer.status()
    );
    // What a killed process leaves: the file as it is now, without the end marker.
    let copy = dir.path().join("killed.tsrec");
    std::fs::copy(&path, &copy).unwrap();
    let (read, stop) = read_file(&copy);
    assert_eq!(read, records);
    assert_eq!(stop.kind, StopKind::Unfinished);

    let status = writer.finish();
    assert_eq!(status.state, RecordState::Finished);
    assert_eq!((status.accepted, status.written, status.pending), (3, 3, 0));
    assert_eq!(
        status.bytes_on_disk,
        std::fs::metadata(&path).unwrap().len()
    );
    let (read, stop) = read_file(&path);
    assert_eq!(read, records);
    assert_eq!(stop.kind, StopKind::Complete);
}

#[test]
fn the_writer_refuses_to_overwrite_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exists.tsrec");
    std::fs::write(&path, b"precious").unwrap();
    let error = RecordWriter::create(&path, RecordOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("cannot create") && error.contains("exists.tsrec"),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    let missing = dir.path().join("no/such/folder/x.tsrec");
    assert!(RecordWriter::create(&missing, RecordOptions::default()).is_err());
}

#[test]
fn at_the_size_limit_the_writer_stops_and_counts_what_it_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("limited.tsrec");
    let writer = RecordWriter::create(
        &path,
        RecordOptions {
            block_records: 10,
            block_interval: Duration::from_secs(3600),
            max_file_bytes: Some(1),
            on_limit: OnLimit::Stop,
            ..RecordOptions::default()
        },
    )
    .unwrap();
    for index in 0..25 {
        writer.record(record(index));
    }
    let status = writer.finish();
    assert_eq!(status.state, RecordState::LimitReached);
    assert_eq!(status.written, 10, "{status:?}");
    assert_eq!(status.refused, 15);
    assert_eq!(status.accepted + status.dropped_queue_full, 25);
    let (read, stop) = read_file(&path);
    assert_eq!(read.len(), 10);
    assert_eq!(stop.kind, StopKind::Complete);
}

#[test]
fn rotation_keeps_the_newest_files_each_one_complete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.tsrec");
    let writer = RecordWriter::create(
        &path,
        RecordOptions {
            block_records: 10,
            block_interval: Duration::from_secs(3600),
            max_file_bytes: Some(1),
            on_limit: OnLimit::Rotate { keep_files: 2 },
            ..RecordOptions::default()
        },
    )
    .unwrap();
    let records: Vec<Record> = (0..45).map(record).collect();
    for record in &records {
        assert!(writer.record(record.clone()));
    }
    let status = writer.finish();
    assert_eq!(status.state, RecordState::Finished, "{status:?}");
    assert_eq!((status.written, status.refused, status.files), (45, 0, 5));
    assert_eq!(status.path, rotated_path(&path, 5));
    assert_eq!(rotated_path(&path, 5).file_name().unwrap(), "rot.5.tsrec");
    // Files 1–3 were deleted; 4 holds records 30..40, 5 the last five.
    for gone in 1..=3 {
        assert!(
            !rotated_path(&path, gone).exists(),
            "file {gone} should be deleted"
        );
    }
    let (fourth, stop) = read_file(&rotated_path(&path, 4));
    assert_eq!(fourth, records[30..40]);
    assert_eq!(stop.kind, StopKind::Complete);
    let (fifth, _) = read_file(&rotated_path(&path, 5));
    assert_eq!(fifth, records[40..]);
    let on_disk: u64 = [4, 5]
        .iter()
        .map(|index| {
            std::fs::metadata(rotated_path(&path, *index))
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(status.bytes_on_disk, on_disk);
}

#[test]
fn a_flood_beyond_the_queue_is_counted_never_lost_silently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.tsrec");
    let writer = RecordWriter::create(
        &path,
        RecordOptions {
            queue_records: 4,
            zstd_level: 19,
            ..RecordOptions::default()
        },
    )
    .unwrap();
    let offered = 20_000u64;
    let mut taken = Vec::new();
    for index in 0..offered {
        let record = record(index);
        if writer.record(record.clone()) {
            taken.push(record);
        }
    }
    let status = writer.finish();
    assert_eq!(status.accepted + status.dropped_queue_full, offered);
    assert_eq!(status.written, status.accepted);
    let (read, _) = read_file(&path);
    assert_eq!(read, taken, "what was accepted is on disk, in order");
}
