//! How fast the recorder takes and writes messages, and how many bytes a message costs on disk:
//! `cargo run --release --example record_throughput [MESSAGES] [TOPICS]`. Prints figures; asserts
//! nothing (the ingest cost of recording belongs in scripts/bench.sh once headless records).
//!
//! Messages are the benchmark's aedifion line protocol (`bench_dp_N value=V TIME` on
//! `bench/<hash id>`), handed over as fast as the hot path would, for zstd levels 1 and 3.

use std::time::{Duration, Instant};

use bytes::Bytes;

use topicscope::commands::bench::{PayloadKind, bench_payload, bench_topics};
use topicscope::model::topic::qos::Qos;
use topicscope::record::{Record, RecordOptions, RecordReader, RecordWriter};

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: u64 = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let topic_count: u64 = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000);
    let topics = bench_topics("bench", topic_count);
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary folder");
        return;
    };
    let start_nanos = 1_700_000_000_000_000_000i64;
    println!("{messages} messages on {topic_count} topics");
    for level in [1, 3] {
        let path = dir.path().join(format!("level{level}.tsrec"));
        let options = RecordOptions {
            zstd_level: level,
            // The whole run fits in the queue, so the hand-over rate is the hot path's cost alone.
            queue_records: usize::try_from(messages).unwrap_or(usize::MAX),
            ..RecordOptions::default()
        };
        let writer = match RecordWriter::create(&path, options) {
            Ok(writer) => writer,
            Err(error) => {
                eprintln!("{error}");
                return;
            }
        };
        let records: Vec<Record> = (0..messages)
            .map(|sequence| {
                let (topic, name) = &topics[(sequence % topic_count) as usize];
                let at = start_nanos + sequence as i64 * 100_000;
                Record {
                    topic: topic.clone(),
                    payload: Bytes::from(bench_payload(PayloadKind::Influx, name, sequence, at)),
                    qos: Qos::AtMostOnce,
                    retained: false,
                    received_at_nanos: at + 1_000,
                }
            })
            .collect();
        let payload_bytes: usize = records
            .iter()
            .map(|r| r.topic.len() + r.payload.len())
            .sum();
        let started = Instant::now();
        for record in records {
            writer.record(record);
        }
        let handed = started.elapsed();
        let status = writer.finish();
        let total = started.elapsed();
        let read_started = Instant::now();
        let read = RecordReader::open(&path)
            .map(|reader| reader.count())
            .unwrap_or(0);
        let read_time = read_started.elapsed();
        println!(
            "zstd {level}: hand-over {:.0} ns/msg; written {} (dropped {}) at {:.0} msg/s; \
             {:.1} bytes/msg on disk ({:.1} raw topic+payload); read back {read} at {:.0} msg/s",
            per_message_nanos(handed, messages),
            status.written,
            status.dropped_queue_full,
            messages as f64 / total.as_secs_f64(),
            status.bytes_per_record().unwrap_or(0.0),
            payload_bytes as f64 / messages as f64,
            read as f64 / read_time.as_secs_f64(),
        );
    }
}

fn per_message_nanos(elapsed: Duration, messages: u64) -> f64 {
    elapsed.as_nanos() as f64 / messages.max(1) as f64
}
