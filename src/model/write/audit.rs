//! The local audit log: one JSON line per event of every message the app publishes (requested,
//! then its outcome) and of every write refused because the profile is read-only, in
//! `audit.jsonl` under the config folder.
//!
//! What is guaranteed:
//! - **written before sent**: the "requested" line is appended and flushed to disk (`fsync`)
//!   before the gate hands the message on; if that fails nothing is sent (fail closed);
//! - **bounded, and nothing overwritten**: when the file would grow beyond its limit it becomes
//!   `audit.1.jsonl`, the older ones move up (`audit.2.jsonl` …), and only the oldest beyond
//!   the kept count ([`DEFAULT_AUDIT_FILES`], a setting) is deleted;
//! - **several processes at once** (the window and `topicscope publish`) lose nothing: every
//!   append and rotation holds an exclusive lock on `audit.lock`;
//! - **private**: files are created 0600 in a 0700 folder (Unix) and a symlink in place of the
//!   log is refused, not followed ([`crate::model::files`]).
//!
//! Payloads are stored up to [`AUDIT_PAYLOAD_BYTES`]; text as text, other bytes as hex.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::model::files::{create_private_dir_all, open_append_no_follow, open_lock_file};
use crate::model::time::Nanos;
use crate::model::write::publish::{PublishOutcome, SentMessage, WriteContext, WriteKind, to_hex};

/// File name of the current log.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// File name of the newest rotated log (older ones count up: `audit.2.jsonl`, …).
pub const AUDIT_ROTATED_FILE: &str = "audit.1.jsonl";
/// File locked while appending or rotating.
pub const AUDIT_LOCK_FILE: &str = "audit.lock";
/// Default size of one log file before it rotates.
pub const DEFAULT_AUDIT_MAX_BYTES: u64 = 4 << 20;
/// Default number of log files kept (the current one included).
pub const DEFAULT_AUDIT_FILES: usize = 10;
/// Payload bytes kept per line.
pub const AUDIT_PAYLOAD_BYTES: usize = 2048;

/// Why the audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// File system trouble.
    #[error(
        "The audit log {path} could not be {action}: {source}. Check that the config folder is writable."
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// "written", "read", "rotated", "exported".
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// An entry could not be turned into JSON (should not happen).
    #[error("An audit entry could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// When this line was written (RFC 3339, UTC).
    pub time: String,
    /// The same as nanoseconds since the epoch.
    pub time_nanos: Nanos,
    /// Number of the publish within this app run (pairs "requested" with its outcome).
    pub id: u64,
    /// Profile name.
    pub profile: String,
    /// `host:port`.
    pub broker: String,
    /// What kind of write.
    pub kind: WriteKind,
    pub topic: String,
    /// The payload as text (or hex, see `payload_hex`), cut at [`AUDIT_PAYLOAD_BYTES`].
    pub payload: String,
    /// The payload is written as hex because it is not UTF-8.
    #[serde(default)]
    pub payload_hex: bool,
    /// Full payload size.
    pub payload_bytes: usize,
    /// The payload was cut.
    #[serde(default)]
    pub payload_truncated: bool,
    pub qos: u8,
    pub retain: bool,
    /// `requested`, then what became of it.
    pub outcome: PublishOutcome,
}

impl AuditEntry {
    /// The line for `sent` in its current state.
    pub fn new(context: &WriteContext, sent: &SentMessage, now_nanos: Nanos) -> Self {
        let payload = &sent.request.payload;
        let kept = &payload[..payload.len().min(AUDIT_PAYLOAD_BYTES)];
        let (text, hex) = match std::str::from_utf8(kept) {
            Ok(text) => (text.to_owned(), false),
            // A cut may split a character: keep the valid prefix when the rest was cut.
            Err(error)
                if payload.len() > AUDIT_PAYLOAD_BYTES
                    && error.error_len().is_none()
                    && std::str::from_utf8(payload).is_ok() =>
            {
                (
                    String::from_utf8_lossy(&kept[..error.valid_up_to()]).into_owned(),
                    false,
                )
            }
            Err(_) => (to_hex(kept), true),
        };
        Self {
            time: format_time(now_nanos),
            time_nanos: now_nanos,
            id: sent.id,
            profile: context.profile.clone(),
            broker: context.broker.clone(),
            kind: sent.kind,
            topic: sent.request.topic.clone(),
            payload: text,
            payload_hex: hex,
            payload_bytes: payload.len(),
            payload_truncated: payload.len() > AUDIT_PAYLOAD_BYTES,
            qos: sent.request.qos.level(),
            retain: sent.request.retain,
            outcome: sent.outcome.clone(),
        }
    }
}

/// RFC 3339 with milliseconds, UTC.
pub fn format_time(nanos: Nanos) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The audit log files in one folder.
#[derive(Debug, Clone)]
pub struct AuditLog {
    dir: PathBuf,
    max_bytes: u64,
    keep_files: usize,
}

impl AuditLog {
    /// The log in `dir` (created on first write), rotating at [`DEFAULT_AUDIT_MAX_BYTES`] and
    /// keeping [`DEFAULT_AUDIT_FILES`] files.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_limits(dir, DEFAULT_AUDIT_MAX_BYTES, DEFAULT_AUDIT_FILES)
    }

    /// The log in `dir`, rotating when a file would exceed `max_bytes`, keeping [`DEFAULT_AUDIT_FILES`].
    pub fn with_max_bytes(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self::with_limits(dir, max_bytes, DEFAULT_AUDIT_FILES)
    }

    /// The log in `dir`, rotating when a file would exceed `max_bytes` and keeping `keep_files`
    /// files (at least 2: the current one and one rotated).
    pub fn with_limits(dir: impl Into<PathBuf>, max_bytes: u64, keep_files: usize) -> Self {
        Self {
            dir: dir.into(),
            max_bytes: max_bytes.max(1),
            keep_files: keep_files.max(2),
        }
    }

    /// The current log file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(AUDIT_FILE)
    }

    /// How many files are kept.
    pub fn keep_files(&self) -> usize {
        self.keep_files
    }

    /// `audit.<n>.jsonl`: the n-th newest rotated file (n ≥ 1).
    fn rotated_path(&self, n: usize) -> PathBuf {
        self.dir.join(format!("audit.{n}.jsonl"))
    }

    /// Appends one line and flushes it to disk, rotating first if the file would grow beyond
    /// its limit; holds the lock file throughout, so other processes wait.
    pub fn append(&mut self, entry: &AuditEntry) -> Result<(), AuditError> {
        let mut line = serde_json::to_string(entry)?;
        line.push('\n');
        let path = self.path();
        let io = |action| {
            let path = path.clone();
            move |source| AuditError::Io {
                path,
                action,
                source,
            }
        };
        create_private_dir_all(&self.dir).map_err(io("written"))?;
        let lock = open_lock_file(&self.dir.join(AUDIT_LOCK_FILE)).map_err(io("locked"))?;
        lock.lock().map_err(io("locked"))?;
        // The lock is released when `lock` is dropped, also on every error path below.
        let current = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta.len(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
            Err(error) => return Err(io("written")(error)),
        };
        if current > 0 && current + line.len() as u64 > self.max_bytes {
            self.rotate().map_err(io("rotated"))?;
        }
        let mut file = open_append_no_follow(&path).map_err(io("written"))?;
        file.write_all(line.as_bytes()).map_err(io("written"))?;
        file.sync_data().map_err(io("written"))?;
        drop(lock);
        Ok(())
    }

    /// Moves every file one place up (the current one becomes `audit.1.jsonl`) and deletes
    /// the one that falls beyond the kept count. Called with the lock held.
    fn rotate(&self) -> std::io::Result<()> {
        let oldest = self.keep_files - 1;
        match std::fs::remove_file(self.rotated_path(oldest)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        for n in (1..oldest).rev() {
            let from = self.rotated_path(n);
            if from.exists() {
                std::fs::rename(from, self.rotated_path(n + 1))?;
            }
        }
        std::fs::rename(self.path(), self.rotated_path(1))
    }

    /// The newest `limit` entries, newest first (every kept file). Lines that do not parse
    /// are skipped.
    pub fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        // A shared lock, so a rotation in another process does not move files mid-read.
        let _lock = self.dir.is_dir().then(|| {
            open_lock_file(&self.dir.join(AUDIT_LOCK_FILE))
                .and_then(|file| file.lock_shared().map(|()| file))
                .ok()
        });
        let mut entries = Vec::new();
        for n in (1..self.keep_files).rev() {
            entries.extend(self.read_file(&self.rotated_path(n))?);
        }
        entries.extend(self.read_file(&self.path())?);
        entries.reverse();
        entries.truncate(limit);
        Ok(entries)
    }

    fn read_file(&self, path: &Path) -> Result<Vec<AuditEntry>, AuditError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(AuditError::Io {
                    path: path.to_owned(),
                    action: "read",
                    source,
                });
            }
        };
        let mut entries = Vec::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|source| AuditError::Io {
                path: path.to_owned(),
                action: "read",
                source,
            })?;
            if let Ok(entry) = serde_json::from_str(&line) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Writes the whole log, oldest first, as JSON lines to `target`; returns the line count.
    pub fn export(&self, target: &Path) -> Result<usize, AuditError> {
        let mut entries = self.recent(usize::MAX)?;
        entries.reverse();
        let mut text = String::new();
        for entry in &entries {
            text.push_str(&serde_json::to_string(entry)?);
            text.push('\n');
        }
        std::fs::write(target, text).map_err(|source| AuditError::Io {
            path: target.to_owned(),
            action: "exported",
            source,
        })?;
        Ok(entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topic::qos::Qos;
    use crate::model::write::publish::PublishRequest;

    fn sent(id: u64, payload: &[u8]) -> SentMessage {
        SentMessage {
            id,
            kind: WriteKind::Publish,
            request: PublishRequest {
                topic: "a/b".to_owned(),
                payload: payload.to_vec(),
                qos: Qos::ExactlyOnce,
                retain: true,
            },
            sent_at_nanos: 0,
            outcome: PublishOutcome::Completed,
        }
    }

    fn context() -> WriteContext {
        WriteContext {
            profile: "Local".to_owned(),
            broker: "localhost:1883".to_owned(),
            read_only: false,
        }
    }

    #[test]
    fn entries_round_trip_newest_first_and_export_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::new(dir.path());
        for id in 1..=3 {
            log.append(&AuditEntry::new(
                &context(),
                &sent(id, b"x"),
                1_700_000_000_000_000_000,
            ))
            .unwrap();
        }
        let recent = log.recent(2).unwrap();
        assert_eq!(recent.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 2]);
        assert_eq!(recent[0].time, "2023-11-14T22:13:20.000Z");
        assert_eq!((recent[0].qos, recent[0].retain), (2, true));
        assert_eq!(recent[0].outcome, PublishOutcome::Completed);
        let target = dir.path().join("export.jsonl");
        assert_eq!(log.export(&target).unwrap(), 3);
        let exported = std::fs::read_to_string(target).unwrap();
        assert!(exported.lines().next().unwrap().contains("\"id\":1"));
    }

    #[test]
    fn the_log_rotates_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::with_max_bytes(dir.path(), 1000);
        for id in 0..100 {
            log.append(&AuditEntry::new(&context(), &sent(id, b"payload"), 0))
                .unwrap();
        }
        let current = std::fs::metadata(log.path()).unwrap().len();
        let rotated = std::fs::metadata(dir.path().join(AUDIT_ROTATED_FILE))
            .unwrap()
            .len();
        assert!(current <= 1000 && rotated <= 1000, "{current} {rotated}");
        let recent = log.recent(usize::MAX).unwrap();
        assert_eq!(recent.first().map(|e| e.id), Some(99));
        assert!(recent.len() < 100, "old entries were dropped");
    }

    #[test]
    fn rotation_keeps_the_configured_number_of_files_and_overwrites_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::with_limits(dir.path(), 600, 4);
        let one_line = serde_json::to_string(&AuditEntry::new(&context(), &sent(0, b"p"), 0))
            .unwrap()
            .len() as u64
            + 1;
        let per_file = 600 / one_line;
        let total = per_file * 10;
        for id in 0..total {
            log.append(&AuditEntry::new(&context(), &sent(id, b"p"), 0))
                .unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != AUDIT_LOCK_FILE)
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "audit.1.jsonl",
                "audit.2.jsonl",
                "audit.3.jsonl",
                "audit.jsonl"
            ]
        );
        let ids: Vec<u64> = log
            .recent(usize::MAX)
            .unwrap()
            .iter()
            .rev()
            .map(|e| e.id)
            .collect();
        // The newest four files' worth, in order, without a gap.
        let kept = ids.len() as u64;
        assert!(kept >= 3 * per_file, "{kept} entries kept");
        assert_eq!(ids, (total - kept..total).collect::<Vec<_>>());
    }

    #[test]
    fn threads_appending_and_rotating_at_once_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let writers: Vec<_> = (0..4u64)
            .map(|writer| {
                let mut log = AuditLog::with_limits(dir.path(), 2_000, 1_000);
                std::thread::Builder::new()
                    .name(format!("audit-writer-{writer}"))
                    .spawn(move || {
                        for n in 0..100 {
                            log.append(&AuditEntry::new(
                                &context(),
                                &sent(writer * 1_000 + n, b"x"),
                                0,
                            ))
                            .unwrap();
                        }
                    })
                    .unwrap()
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let mut ids: Vec<u64> = AuditLog::with_limits(dir.path(), 2_000, 1_000)
            .recent(usize::MAX)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        ids.sort_unstable();
        let expected: Vec<u64> = (0..4u64)
            .flat_map(|writer| (0..100).map(move |n| writer * 1_000 + n))
            .collect();
        assert_eq!(ids, expected);
    }

    #[cfg(unix)]
    #[test]
    fn log_files_are_private_and_a_symlinked_log_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("config");
        let mut log = AuditLog::new(&folder);
        log.append(&AuditEntry::new(&context(), &sent(1, b"x"), 0))
            .unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&log.path()), 0o600);
        assert_eq!(mode(&folder.join(AUDIT_LOCK_FILE)), 0o600);

        let target = dir.path().join("somewhere-else");
        std::fs::write(&target, "untouched").unwrap();
        std::fs::remove_file(log.path()).unwrap();
        std::os::unix::fs::symlink(&target, log.path()).unwrap();
        let refused = log.append(&AuditEntry::new(&context(), &sent(2, b"x"), 0));
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
    }

    #[test]
    fn binary_and_large_payloads_are_stored_as_hex_or_cut() {
        let binary = AuditEntry::new(&context(), &sent(1, &[0xff, 0x00]), 0);
        assert_eq!(
            (binary.payload.as_str(), binary.payload_hex),
            ("ff 00", true)
        );
        let big = AuditEntry::new(&context(), &sent(2, &vec![b'a'; 5000]), 0);
        assert_eq!(big.payload.len(), AUDIT_PAYLOAD_BYTES);
        assert!(big.payload_truncated);
        assert_eq!(big.payload_bytes, 5000);
    }

    #[test]
    fn reading_a_missing_log_gives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            AuditLog::new(dir.path().join("none"))
                .recent(10)
                .unwrap()
                .is_empty()
        );
    }
}
