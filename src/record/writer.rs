//! Writing recordings: [`BlockWriter`] turns records into blocks on any `Write`; [`RecordWriter`]
//! runs one on a named thread behind a bounded queue, with flush rules and a size limit.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::model::time::{Nanos, now_nanos};

use super::format::{
    BlockHeader, EndMarker, FileHeader, MAX_PAYLOAD_BYTES, VERSION, encode_record,
};
use super::{Record, RecordError};

/// Turns records into compressed, checksummed blocks written to `out`. Synchronous: nothing is
/// written until [`BlockWriter::flush_block`] (or [`BlockWriter::finish`]).
pub struct BlockWriter<W: Write> {
    out: W,
    compressor: zstd::bulk::Compressor<'static>,
    buffer: Vec<u8>,
    buffered_records: u32,
    first_at_nanos: Nanos,
    last_at_nanos: Nanos,
    bytes_written: u64,
    records_written: u64,
    blocks_written: u64,
}

impl<W: Write> BlockWriter<W> {
    /// Writes the file header to `out` and returns a writer for its blocks. `info` is free text
    /// kept in the header (a JSON object by convention); `zstd_level` 1–19 (3 is zstd's default).
    pub fn new(
        mut out: W,
        info: &str,
        created_at_nanos: Nanos,
        zstd_level: i32,
    ) -> std::io::Result<Self> {
        let header = FileHeader {
            version: VERSION,
            created_at_nanos,
            info: info.to_owned(),
        }
        .encode();
        out.write_all(&header)?;
        out.flush()?;
        Ok(Self {
            out,
            compressor: zstd::bulk::Compressor::new(zstd_level)?,
            buffer: Vec::new(),
            buffered_records: 0,
            first_at_nanos: Nanos::MAX,
            last_at_nanos: Nanos::MIN,
            bytes_written: header.len() as u64,
            records_written: 0,
            blocks_written: 0,
        })
    }

    /// Adds a record to the block in progress. A payload over [`MAX_PAYLOAD_BYTES`] or a topic
    /// over 65,535 bytes cannot be recorded: `false`, nothing added.
    pub fn push(&mut self, record: &Record) -> bool {
        if record.payload.len() > MAX_PAYLOAD_BYTES || record.topic.len() > usize::from(u16::MAX) {
            return false;
        }
        encode_record(
            &mut self.buffer,
            &record.topic,
            &record.payload,
            record.qos,
            record.retained,
            record.received_at_nanos,
        );
        self.buffered_records += 1;
        self.first_at_nanos = self.first_at_nanos.min(record.received_at_nanos);
        self.last_at_nanos = self.last_at_nanos.max(record.received_at_nanos);
        true
    }

    /// Records in the block in progress.
    pub fn buffered_records(&self) -> u32 {
        self.buffered_records
    }

    /// Uncompressed bytes of the block in progress.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes written to `out` so far (header, blocks, end marker).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Records in the blocks written so far.
    pub fn records_written(&self) -> u64 {
        self.records_written
    }

    /// Compresses the block in progress and writes it with one `write_all`, then flushes `out`.
    /// Does nothing when the block is empty. Returns the bytes written.
    pub fn flush_block(&mut self) -> std::io::Result<u64> {
        if self.buffered_records == 0 {
            return Ok(0);
        }
        let compressed = self.compressor.compress(&self.buffer)?;
        let header = BlockHeader {
            compressed_len: compressed.len() as u32,
            uncompressed_len: self.buffer.len() as u32,
            record_count: self.buffered_records,
            first_at_nanos: self.first_at_nanos,
            last_at_nanos: self.last_at_nanos,
            data_crc: crc32c::crc32c(&compressed),
        };
        let mut block = Vec::with_capacity(header.encode().len() + compressed.len());
        block.extend_from_slice(&header.encode());
        block.extend_from_slice(&compressed);
        self.out.write_all(&block)?;
        self.out.flush()?;
        self.bytes_written += block.len() as u64;
        self.records_written += u64::from(self.buffered_records);
        self.blocks_written += 1;
        self.buffer.clear();
        if self.buffer.capacity() > 4 * 1024 * 1024 {
            // One huge message must not pin its memory for the rest of the recording.
            self.buffer = Vec::new();
        }
        self.buffered_records = 0;
        self.first_at_nanos = Nanos::MAX;
        self.last_at_nanos = Nanos::MIN;
        Ok(block.len() as u64)
    }

    /// Writes the block in progress and the end marker; returns `out`.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.flush_block()?;
        let marker = EndMarker {
            record_count: self.records_written,
            block_count: self.blocks_written,
        };
        self.out.write_all(&marker.encode())?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }
}

/// What to do when a file reaches the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLimit {
    /// Close the file; records after it are refused (and counted).
    Stop,
    /// Close the file and go on in the next one ([`rotated_path`]), deleting the oldest files
    /// beyond `keep_files` (0: keep all).
    Rotate {
        /// Files kept, the current one included; 0 keeps all.
        keep_files: u32,
    },
}

/// How a [`RecordWriter`] writes.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Free text kept in the file header (a JSON object by convention).
    pub info: String,
    /// zstd level, 1–19.
    pub zstd_level: i32,
    /// A block is written when it holds this many records…
    pub block_records: u32,
    /// …or this many uncompressed bytes…
    pub block_bytes: usize,
    /// …or its first record is this old.
    pub block_interval: Duration,
    /// Ask the OS to put each block on the disk (`fdatasync`) before the next one, so that a
    /// power cut, not only a killed process, loses at most the block in progress.
    pub sync_each_block: bool,
    /// Size limit of one file in bytes (checked after each block: a file exceeds it by at most
    /// one block); `None` for no limit.
    pub max_file_bytes: Option<u64>,
    /// What happens at the limit.
    pub on_limit: OnLimit,
    /// Records the queue between the hot path and the writer thread holds.
    pub queue_records: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            info: default_info(""),
            zstd_level: 3,
            block_records: 50_000,
            block_bytes: 1024 * 1024,
            block_interval: Duration::from_millis(1000),
            sync_each_block: true,
            max_file_bytes: None,
            on_limit: OnLimit::Stop,
            queue_records: 65_536,
        }
    }
}

/// The conventional header info: the program and what was recorded (e.g. a broker URL without
/// credentials).
pub fn default_info(source: &str) -> String {
    serde_json::json!({
        "program": format!("TopicScope {}", env!("CARGO_PKG_VERSION")),
        "source": source,
    })
    .to_string()
}

/// Where a recording stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordState {
    /// Taking records.
    Recording,
    /// The size limit was reached with [`OnLimit::Stop`]: the file is closed, records are refused.
    LimitReached,
    /// Writing failed (disk full, file removed…): records are refused. The text says why.
    Failed(String),
    /// [`RecordWriter::finish`] closed it.
    Finished,
}

/// A snapshot of a recording's counters, for a status bar or a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStatus {
    /// The file being written (the newest one when rotating).
    pub path: PathBuf,
    /// Where it stands.
    pub state: RecordState,
    /// Records handed over and taken into the queue.
    pub accepted: u64,
    /// Records in blocks on disk (all files).
    pub written: u64,
    /// Records waiting in the queue or in the block in progress.
    pub pending: u64,
    /// Records not taken because the queue was full (the writer fell behind).
    pub dropped_queue_full: u64,
    /// Records refused after the limit, after a failure, or too large to record.
    pub refused: u64,
    /// Bytes on disk, all files of this recording (deleted rotated files not counted).
    pub bytes_on_disk: u64,
    /// Files written (more than one when rotating).
    pub files: u32,
}

impl RecordStatus {
    /// Average bytes on disk per written record.
    pub fn bytes_per_record(&self) -> Option<f64> {
        (self.written > 0).then(|| self.bytes_on_disk as f64 / self.written as f64)
    }
}

/// Counters the hot path and the writer thread share.
#[derive(Debug, Default)]
struct Shared {
    accepted: AtomicU64,
    dropped_queue_full: AtomicU64,
    written: AtomicU64,
    refused: AtomicU64,
    bytes_on_disk: AtomicU64,
    files: AtomicU64,
    detail: Mutex<Detail>,
}

#[derive(Debug)]
struct Detail {
    path: PathBuf,
    state: RecordState,
}

impl Default for Detail {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            state: RecordState::Recording,
        }
    }
}

enum Command {
    Record(Record),
    Flush(SyncSender<()>),
}

/// A recording in progress: hand records over with [`RecordWriter::record`]; a named thread
/// (`record-writer`) compresses and writes them. Dropping it finishes the file like
/// [`RecordWriter::finish`].
pub struct RecordWriter {
    sender: Option<SyncSender<Command>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl RecordWriter {
    /// Creates `path` (refusing to overwrite an existing file), writes the header and starts
    /// the writer thread. Errors here are the ones a user sees at once (bad folder, no rights).
    pub fn create(path: &Path, options: RecordOptions) -> Result<RecordWriter, RecordError> {
        let writer = open_file(path, &options)?;
        let shared = Arc::new(Shared::default());
        shared.files.store(1, Ordering::Relaxed);
        shared
            .bytes_on_disk
            .store(writer.bytes_written(), Ordering::Relaxed);
        if let Ok(mut detail) = shared.detail.lock() {
            detail.path = path.to_owned();
        }
        let (sender, receiver) = std::sync::mpsc::sync_channel(options.queue_records.max(1));
        let thread_shared = Arc::clone(&shared);
        let base = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("record-writer".into())
            .spawn(move || {
                WriterThread {
                    base,
                    options,
                    shared: thread_shared,
                    writer: Some(writer),
                    file_index: 1,
                    files_on_disk: vec![],
                    bytes_closed_files: 0,
                }
                .run(&receiver);
            })
            .map_err(RecordError::Thread)?;
        Ok(RecordWriter {
            sender: Some(sender),
            shared,
            thread: Some(thread),
        })
    }

    /// Hands a record to the writer thread without blocking. `false` when the queue is full or
    /// the writer has stopped; the record is counted as dropped, never silently lost.
    pub fn record(&self, record: Record) -> bool {
        let Some(sender) = &self.sender else {
            return false;
        };
        match sender.try_send(Command::Record(record)) {
            Ok(()) => {
                self.shared.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Waits (at most `timeout`) until every record handed over so far is in a block on disk.
    /// For tests and for a clean checkpoint; the hot path never calls it.
    pub fn sync(&self, timeout: Duration) -> bool {
        let Some(sender) = &self.sender else {
            return false;
        };
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        let deadline = Instant::now() + timeout;
        let mut command = Command::Flush(done);
        loop {
            match sender.try_send(command) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    command = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return false,
            }
        }
        wait.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }

    /// The counters now.
    pub fn status(&self) -> RecordStatus {
        status_of(&self.shared)
    }

    /// Writes what is pending and the end marker, stops the thread and returns the final
    /// counters. Blocks until the last block is on disk: call it off the UI thread for big
    /// queues.
    pub fn finish(mut self) -> RecordStatus {
        self.stop();
        status_of(&self.shared)
    }

    fn stop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            set_state(
                &self.shared,
                RecordState::Failed("the recording thread panicked".into()),
            );
        }
    }
}

impl Drop for RecordWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

fn status_of(shared: &Shared) -> RecordStatus {
    let (path, state) = match shared.detail.lock() {
        Ok(detail) => (detail.path.clone(), detail.state.clone()),
        Err(_) => (
            PathBuf::new(),
            RecordState::Failed("status lock poisoned".into()),
        ),
    };
    let accepted = shared.accepted.load(Ordering::Relaxed);
    let written = shared.written.load(Ordering::Relaxed);
    let refused = shared.refused.load(Ordering::Relaxed);
    RecordStatus {
        path,
        state,
        accepted,
        written,
        pending: accepted.saturating_sub(written + refused),
        dropped_queue_full: shared.dropped_queue_full.load(Ordering::Relaxed),
        refused,
        bytes_on_disk: shared.bytes_on_disk.load(Ordering::Relaxed),
        files: shared.files.load(Ordering::Relaxed) as u32,
    }
}

fn set_state(shared: &Shared, state: RecordState) {
    if let Ok(mut detail) = shared.detail.lock() {
        // A failure or a limit is final; only `Finished` replaces `Recording`.
        if detail.state == RecordState::Recording {
            detail.state = state;
        }
    }
}

fn open_file(path: &Path, options: &RecordOptions) -> Result<BlockWriter<File>, RecordError> {
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| RecordError::Io {
            action: "cannot create",
            path: path.display().to_string(),
            source,
        })?;
    BlockWriter::new(file, &options.info, now_nanos(), options.zstd_level).map_err(|source| {
        RecordError::Io {
            action: "cannot write to",
            path: path.display().to_string(),
            source,
        }
    })
}

/// The file a rotating recording of `base` writes as its `index`-th file (1-based): `base`
/// itself first, then `name.2.tsrec`, `name.3.tsrec`, … next to it.
pub fn rotated_path(base: &Path, index: u32) -> PathBuf {
    if index <= 1 {
        return base.to_owned();
    }
    let stem = base.file_stem().map_or_else(
        || "recording".into(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    let name = match base.extension() {
        Some(extension) => format!("{stem}.{index}.{}", extension.to_string_lossy()),
        None => format!("{stem}.{index}"),
    };
    base.with_file_name(name)
}

struct WriterThread {
    base: PathBuf,
    options: RecordOptions,
    shared: Arc<Shared>,
    writer: Option<BlockWriter<File>>,
    file_index: u32,
    /// Closed files still on disk, oldest first, with their sizes (for `keep_files`).
    files_on_disk: Vec<(PathBuf, u64)>,
    bytes_closed_files: u64,
}

impl WriterThread {
    fn run(mut self, receiver: &Receiver<Command>) {
        let mut block_started: Option<Instant> = None;
        loop {
            let command = match block_started {
                Some(started) => {
                    let due = started + self.options.block_interval;
                    match receiver.recv_timeout(due.saturating_duration_since(Instant::now())) {
                        Ok(command) => command,
                        Err(RecvTimeoutError::Timeout) => {
                            self.flush_block();
                            block_started = None;
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match receiver.recv() {
                    Ok(command) => command,
                    Err(_) => break,
                },
            };
            match command {
                Command::Record(record) => {
                    let Some(writer) = self.writer.as_mut() else {
                        self.shared.refused.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    if !writer.push(&record) {
                        self.shared.refused.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    block_started.get_or_insert_with(Instant::now);
                    if writer.buffered_records() >= self.options.block_records
                        || writer.buffered_bytes() >= self.options.block_bytes
                    {
                        self.flush_block();
                        block_started = None;
                    }
                }
                Command::Flush(done) => {
                    self.flush_block();
                    block_started = None;
                    let _ = done.try_send(());
                }
            }
        }
        self.close_file();
        set_state(&self.shared, RecordState::Finished);
    }

    fn flush_block(&mut self) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        let records = u64::from(writer.buffered_records());
        let result = writer.flush_block().and_then(|bytes| {
            if self.options.sync_each_block && bytes > 0 {
                writer.get_ref().sync_data()?;
            }
            Ok(())
        });
        if let Err(error) = result {
            self.fail("cannot write to", &error, records);
            return;
        }
        self.shared.written.fetch_add(records, Ordering::Relaxed);
        let file_bytes = writer.bytes_written();
        self.shared
            .bytes_on_disk
            .store(self.bytes_closed_files + file_bytes, Ordering::Relaxed);
        if let Some(limit) = self.options.max_file_bytes
            && file_bytes >= limit
        {
            self.at_limit();
        }
    }

    fn at_limit(&mut self) {
        match self.options.on_limit {
            OnLimit::Stop => {
                self.close_file();
                set_state(&self.shared, RecordState::LimitReached);
            }
            OnLimit::Rotate { keep_files } => {
                self.close_file();
                self.file_index += 1;
                let path = rotated_path(&self.base, self.file_index);
                match open_file(&path, &self.options) {
                    Ok(writer) => {
                        self.shared.files.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut detail) = self.shared.detail.lock() {
                            detail.path = path;
                        }
                        self.writer = Some(writer);
                        self.delete_beyond(keep_files);
                        let current = self.writer.as_ref().map_or(0, BlockWriter::bytes_written);
                        self.shared
                            .bytes_on_disk
                            .store(self.bytes_closed_files + current, Ordering::Relaxed);
                    }
                    Err(error) => {
                        tracing::warn!("recording: {error}");
                        set_state(&self.shared, RecordState::Failed(error.to_string()));
                    }
                }
            }
        }
    }

    /// Deletes the oldest closed files so that at most `keep_files` remain with the open one.
    fn delete_beyond(&mut self, keep_files: u32) {
        if keep_files == 0 {
            return;
        }
        let keep_closed = keep_files.saturating_sub(1) as usize;
        while self.files_on_disk.len() > keep_closed {
            let (path, bytes) = self.files_on_disk.remove(0);
            match std::fs::remove_file(&path) {
                Ok(()) => self.bytes_closed_files = self.bytes_closed_files.saturating_sub(bytes),
                Err(error) => {
                    tracing::warn!("recording: cannot delete {}: {error}", path.display())
                }
            }
        }
    }

    /// Writes the block in progress and the end marker, and closes the file.
    fn close_file(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        let records = u64::from(writer.buffered_records());
        let path = rotated_path(&self.base, self.file_index);
        let result = writer.flush_block().and_then(|_| {
            let bytes = writer.bytes_written();
            let file = writer.finish()?;
            file.sync_all()?;
            Ok(bytes + super::format::END_MARKER_BYTES as u64)
        });
        match result {
            Ok(bytes) => {
                self.shared.written.fetch_add(records, Ordering::Relaxed);
                self.bytes_closed_files += bytes;
                self.files_on_disk.push((path, bytes));
                self.shared
                    .bytes_on_disk
                    .store(self.bytes_closed_files, Ordering::Relaxed);
            }
            Err(error) => self.fail("cannot finish", &error, records),
        }
    }

    fn fail(&mut self, action: &str, error: &std::io::Error, lost_records: u64) {
        let path = rotated_path(&self.base, self.file_index);
        let text = format!("{action} {}: {error}", path.display());
        tracing::warn!("recording stopped: {text}");
        self.shared
            .refused
            .fetch_add(lost_records, Ordering::Relaxed);
        self.writer = None;
        set_state(&self.shared, RecordState::Failed(text));
    }
}
