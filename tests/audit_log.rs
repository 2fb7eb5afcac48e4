//! The audit log shared by several processes (the window and `topicscope publish` at once):
//! appends and rotations of two processes lose and overwrite nothing.
//!
//! The writers are this test binary started again with `AUDIT_WRITER_DIR` set: the test
//! `audit_writer_child` then appends and exits; run normally it does nothing.

use std::process::Command;
use std::time::Duration;

use topicscope::model::time::now_nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::write::audit::{AuditEntry, AuditLog};
use topicscope::model::write::publish::{
    PublishOutcome, PublishRequest, SentMessage, WriteContext, WriteKind,
};

mod common;

const DIR_VAR: &str = "AUDIT_WRITER_DIR";
const WRITER_VAR: &str = "AUDIT_WRITER_NUMBER";
const ENTRIES_PER_WRITER: u64 = 300;
/// Small files, so the writers rotate often and at the same time.
const MAX_BYTES: u64 = 4_000;
/// Enough files that nothing written here falls off the end.
const KEEP_FILES: usize = 1_000;

#[test]
fn audit_writer_child() {
    let (Ok(dir), Ok(writer)) = (std::env::var(DIR_VAR), std::env::var(WRITER_VAR)) else {
        return;
    };
    let writer: u64 = writer.parse().expect("writer number");
    let mut log = AuditLog::with_limits(dir, MAX_BYTES, KEEP_FILES);
    let context = WriteContext {
        profile: format!("writer {writer}"),
        broker: "h:1".into(),
        read_only: false,
    };
    for n in 0..ENTRIES_PER_WRITER {
        let sent = SentMessage {
            id: writer * 10_000 + n,
            kind: WriteKind::Publish,
            request: PublishRequest {
                topic: "a/b".into(),
                payload: b"x".to_vec(),
                qos: Qos::AtLeastOnce,
                retain: false,
            },
            sent_at_nanos: now_nanos(),
            outcome: PublishOutcome::Requested,
        };
        log.append(&AuditEntry::new(&context, &sent, now_nanos()))
            .expect("append");
    }
}

#[test]
fn two_processes_appending_and_rotating_at_once_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let mut children: Vec<_> = (1..=2u64)
        .map(|writer| {
            Command::new(&exe)
                .args(["--exact", "audit_writer_child", "--test-threads", "1"])
                .env(DIR_VAR, dir.path())
                .env(WRITER_VAR, writer.to_string())
                .spawn()
                .expect("start a writer process")
        })
        .collect();
    for child in &mut children {
        let status = common::wait_for_exit(child, Duration::from_secs(60));
        assert!(status.success(), "a writer failed: {status}");
    }
    let log = AuditLog::with_limits(dir.path(), MAX_BYTES, KEEP_FILES);
    let mut ids: Vec<u64> = log
        .recent(usize::MAX)
        .expect("read")
        .iter()
        .map(|entry| entry.id)
        .collect();
    ids.sort_unstable();
    let expected: Vec<u64> = (1..=2u64)
        .flat_map(|writer| (0..ENTRIES_PER_WRITER).map(move |n| writer * 10_000 + n))
        .collect();
    assert_eq!(ids.len(), expected.len(), "entries lost or doubled");
    assert_eq!(ids, expected);
    for entry in std::fs::read_dir(dir.path()).expect("list") {
        let entry = entry.expect("entry");
        let size = entry.metadata().expect("metadata").len();
        assert!(
            size <= MAX_BYTES,
            "{:?} grew to {size} bytes",
            entry.file_name()
        );
    }
}
