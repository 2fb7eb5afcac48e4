//! Reading recordings: an iterator of records that stops at the first damage and says where and
//! why, and a block index (built by scanning the block headers) to seek by time.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;

use crate::model::time::Nanos;

use super::format::{
    BLOCK_HEADER_BYTES, BLOCK_MAGIC, BlockHeader, END_MAGIC, END_MARKER_BYTES, EndMarker,
    FILE_HEADER_FIXED_BYTES, FileHeader, decode_record,
};
use super::{Record, RecordError};

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopKind {
    /// The end marker: the writer closed the file cleanly and every record was read.
    Complete,
    /// The file ends after a whole block but without the end marker: the recording was
    /// interrupted (process killed, power cut) or is still being written. Nothing is damaged.
    Unfinished,
    /// The file ends inside a block: that block (the one in progress when it stopped) is lost.
    Truncated(String),
    /// The bytes at `offset` are not what the format says: reading stops there.
    Damaged(String),
}

/// Where and why a [`RecordReader`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// Byte offset in the file of the block (or marker) where reading stopped.
    pub offset: u64,
    /// Why.
    pub kind: StopKind,
    /// Records read before stopping.
    pub records_read: u64,
}

impl Stop {
    /// True when the whole file was read: complete, or unfinished without damage.
    pub fn is_undamaged(&self) -> bool {
        matches!(self.kind, StopKind::Complete | StopKind::Unfinished)
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = self.records_read;
        match &self.kind {
            StopKind::Complete => write!(formatter, "complete: {records} records"),
            StopKind::Unfinished => write!(
                formatter,
                "{records} records; the recording was not closed (interrupted or still running), \
                 nothing is damaged"
            ),
            StopKind::Truncated(why) => write!(
                formatter,
                "{records} records read; the file is cut off at byte {}: {why}",
                self.offset
            ),
            StopKind::Damaged(why) => write!(
                formatter,
                "{records} records read; damaged at byte {}: {why}",
                self.offset
            ),
        }
    }
}

/// One block as the index knows it (from its header, data not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockIndexEntry {
    /// Byte offset of the block header.
    pub offset: u64,
    /// Number (0-based, in file order) of the block's first record.
    pub first_record: u64,
    /// Records in the block.
    pub record_count: u32,
    /// Earliest receive time in the block.
    pub first_at_nanos: Nanos,
    /// Latest receive time in the block.
    pub last_at_nanos: Nanos,
    /// Bytes of the block in the file, header included.
    pub len_bytes: u64,
}

struct OpenBlock {
    offset: u64,
    data: Bytes,
    cursor: usize,
    remaining_records: u32,
}

/// Reads the records of a recording in file order. An iterator of [`Record`]s: when it ends,
/// [`RecordReader::stop`] says whether the file was complete, unfinished, cut off or damaged,
/// at which byte. Never panics on any bytes.
pub struct RecordReader<R = BufReader<File>> {
    inner: R,
    name: String,
    header: FileHeader,
    data_start: u64,
    file_len: u64,
    position: u64,
    block: Option<OpenBlock>,
    stop: Option<Stop>,
    records_read: u64,
    blocks_read: u64,
    seeked: bool,
    needs_seek: bool,
    skip_before: Option<Nanos>,
    index: Option<Vec<BlockIndexEntry>>,
    decompressor: zstd::bulk::Decompressor<'static>,
}

impl RecordReader<BufReader<File>> {
    /// Opens a recording file and reads its header.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let file = File::open(path).map_err(|source| RecordError::Io {
            action: "cannot open",
            path: path.display().to_string(),
            source,
        })?;
        RecordReader::new(
            BufReader::with_capacity(256 * 1024, file),
            &path.display().to_string(),
        )
    }
}

impl<R: Read + Seek> RecordReader<R> {
    /// Reads the header of the recording in `inner`; `name` names it in messages.
    pub fn new(mut inner: R, name: &str) -> Result<Self, RecordError> {
        let io_error = |source| RecordError::Io {
            action: "cannot read",
            path: name.to_owned(),
            source,
        };
        let not_a_recording = |reason: String| RecordError::NotARecording {
            path: name.to_owned(),
            reason,
        };
        let file_len = inner.seek(SeekFrom::End(0)).map_err(io_error)?;
        inner.seek(SeekFrom::Start(0)).map_err(io_error)?;
        let mut fixed = [0u8; FILE_HEADER_FIXED_BYTES];
        if read_up_to(&mut inner, &mut fixed).map_err(io_error)? < fixed.len() {
            return Err(not_a_recording(format!(
                "{file_len} bytes is shorter than a recording's header"
            )));
        }
        let (version, created_at_nanos, info_len) =
            FileHeader::decode_fixed(&fixed).map_err(not_a_recording)?;
        let mut rest = vec![0u8; info_len + 4];
        if read_up_to(&mut inner, &mut rest).map_err(io_error)? < rest.len() {
            return Err(not_a_recording("the file ends inside its header".into()));
        }
        let mut crc_input = fixed.to_vec();
        crc_input.extend_from_slice(&rest[..info_len]);
        let mut stored = [0u8; 4];
        stored.copy_from_slice(&rest[info_len..]);
        if crc32c::crc32c(&crc_input) != u32::from_le_bytes(stored) {
            return Err(not_a_recording(
                "the header's checksum does not match (the start of the file is damaged)".into(),
            ));
        }
        let header = FileHeader {
            version,
            created_at_nanos,
            info: String::from_utf8_lossy(&rest[..info_len]).into_owned(),
        };
        let data_start = (FILE_HEADER_FIXED_BYTES + info_len + 4) as u64;
        let decompressor = zstd::bulk::Decompressor::new().map_err(io_error)?;
        Ok(Self {
            inner,
            name: name.to_owned(),
            header,
            data_start,
            file_len,
            position: data_start,
            block: None,
            stop: None,
            records_read: 0,
            blocks_read: 0,
            seeked: false,
            needs_seek: false,
            skip_before: None,
            index: None,
            decompressor,
        })
    }

    /// The file header (version, creation time, info text).
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// The name given at opening (the path), for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes of the file read so far (for progress: compare with [`RecordReader::file_len`]).
    pub fn bytes_read(&self) -> u64 {
        self.position
    }

    /// Size of the file when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Why iteration ended; `None` while records remain.
    pub fn stop(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// The block index: every block whose header is sound, in file order, up to the first
    /// damage. Built on first use by scanning the headers (the data is not read).
    pub fn index(&mut self) -> &[BlockIndexEntry] {
        if self.index.is_none() {
            let entries = self.scan_index();
            self.index = Some(entries);
        }
        self.index.as_deref().unwrap_or_default()
    }

    /// Earliest and latest receive time of the indexed blocks.
    pub fn time_range(&mut self) -> Option<(Nanos, Nanos)> {
        let index = self.index();
        let first = index.iter().map(|entry| entry.first_at_nanos).min()?;
        let last = index.iter().map(|entry| entry.last_at_nanos).max()?;
        Some((first, last))
    }

    /// Records in the indexed blocks.
    pub fn indexed_records(&mut self) -> u64 {
        self.index()
            .iter()
            .map(|entry| u64::from(entry.record_count))
            .sum()
    }

    /// Moves to the first record received at or after `at_nanos`: the first block (in file
    /// order) whose latest record is not earlier, skipping that block's earlier records. Past
    /// every block, iteration ends as at the end of the file.
    pub fn seek_to_time(&mut self, at_nanos: Nanos) {
        let index = self.index();
        let (position, first_record, skip_before) =
            match index.iter().find(|entry| entry.last_at_nanos >= at_nanos) {
                Some(entry) => (entry.offset, entry.first_record, Some(at_nanos)),
                None => match index.last() {
                    Some(last) => (
                        last.offset + last.len_bytes,
                        last.first_record + u64::from(last.record_count),
                        None,
                    ),
                    None => (self.data_start, 0, None),
                },
            };
        self.rewind();
        self.seeked = true;
        self.position = position;
        self.records_read = first_record;
        self.skip_before = skip_before;
    }

    /// Back to the first record.
    pub fn rewind(&mut self) {
        self.block = None;
        self.stop = None;
        self.seeked = false;
        self.skip_before = None;
        self.records_read = 0;
        self.blocks_read = 0;
        self.position = self.data_start;
        self.needs_seek = true;
    }

    fn scan_index(&mut self) -> Vec<BlockIndexEntry> {
        self.needs_seek = true;
        let mut entries = Vec::new();
        let mut offset = self.data_start;
        let mut first_record = 0u64;
        if self.inner.seek(SeekFrom::Start(offset)).is_err() {
            return entries;
        }
        loop {
            let mut bytes = [0u8; BLOCK_HEADER_BYTES];
            match read_up_to(&mut self.inner, &mut bytes) {
                Ok(count) if count == bytes.len() => {}
                _ => break,
            }
            let Ok(header) = BlockHeader::decode(&bytes) else {
                break;
            };
            let end = offset + BLOCK_HEADER_BYTES as u64 + u64::from(header.compressed_len);
            if end > self.file_len {
                break;
            }
            entries.push(BlockIndexEntry {
                offset,
                first_record,
                record_count: header.record_count,
                first_at_nanos: header.first_at_nanos,
                last_at_nanos: header.last_at_nanos,
                len_bytes: end - offset,
            });
            first_record += u64::from(header.record_count);
            offset = end;
            if self.inner.seek(SeekFrom::Start(offset)).is_err() {
                break;
            }
        }
        entries
    }

    fn stop_at(&mut self, offset: u64, kind: StopKind) {
        self.block = None;
        self.stop = Some(Stop {
            offset,
            kind,
            records_read: self.records_read,
        });
    }

    /// Reads the block (or end marker) at `self.position`; sets `self.block` or `self.stop`.
    fn read_block(&mut self) {
        let offset = self.position;
        if self.needs_seek {
            // Only after opening, scanning or seeking: a seek empties the read buffer.
            if let Err(error) = self.inner.seek(SeekFrom::Start(offset)) {
                self.stop_at(offset, StopKind::Damaged(format!("cannot read: {error}")));
                return;
            }
            self.needs_seek = false;
        }
        let mut magic = [0u8; 4];
        let count = match read_up_to(&mut self.inner, &mut magic) {
            Ok(count) => count,
            Err(error) => {
                self.stop_at(offset, StopKind::Damaged(format!("cannot read: {error}")));
                return;
            }
        };
        match count {
            0 => return self.stop_at(offset, StopKind::Unfinished),
            1..4 => {
                return self.stop_at(
                    offset,
                    StopKind::Truncated("the file ends inside a block header".into()),
                );
            }
            _ => {}
        }
        if magic == END_MAGIC {
            self.read_end_marker(offset, magic);
        } else if magic == BLOCK_MAGIC {
            self.read_data_block(offset, magic);
        } else {
            self.stop_at(
                offset,
                StopKind::Damaged(format!(
                    "no block starts here (found bytes {:02x} {:02x} {:02x} {:02x})",
                    magic[0], magic[1], magic[2], magic[3]
                )),
            );
        }
    }

    fn read_end_marker(&mut self, offset: u64, magic: [u8; 4]) {
        let mut bytes = [0u8; END_MARKER_BYTES];
        bytes[..4].copy_from_slice(&magic);
        match read_up_to(&mut self.inner, &mut bytes[4..]) {
            Ok(count) if count == END_MARKER_BYTES - 4 => {}
            _ => {
                return self.stop_at(
                    offset,
                    StopKind::Truncated("the file ends inside the end marker".into()),
                );
            }
        }
        let marker = match EndMarker::decode(&bytes) {
            Ok(marker) => marker,
            Err(why) => return self.stop_at(offset, StopKind::Damaged(why)),
        };
        if !self.seeked
            && (marker.record_count != self.records_read || marker.block_count != self.blocks_read)
        {
            let why = format!(
                "the end marker counts {} records in {} blocks, the file holds {} in {}",
                marker.record_count, marker.block_count, self.records_read, self.blocks_read
            );
            return self.stop_at(offset, StopKind::Damaged(why));
        }
        self.position = offset + END_MARKER_BYTES as u64;
        self.stop_at(offset, StopKind::Complete);
    }

    fn read_data_block(&mut self, offset: u64, magic: [u8; 4]) {
        let mut bytes = [0u8; BLOCK_HEADER_BYTES];
        bytes[..4].copy_from_slice(&magic);
        match read_up_to(&mut self.inner, &mut bytes[4..]) {
            Ok(count) if count == BLOCK_HEADER_BYTES - 4 => {}
            _ => {
                return self.stop_at(
                    offset,
                    StopKind::Truncated("the file ends inside a block header".into()),
                );
            }
        }
        let header = match BlockHeader::decode(&bytes) {
            Ok(header) => header,
            Err(why) => return self.stop_at(offset, StopKind::Damaged(why)),
        };
        let data_len = u64::from(header.compressed_len);
        let available = self
            .file_len
            .saturating_sub(offset + BLOCK_HEADER_BYTES as u64);
        if data_len > available {
            let why =
                format!("the block holds {data_len} bytes of data, the file has {available} left");
            return self.stop_at(offset, StopKind::Truncated(why));
        }
        let mut data = vec![0u8; header.compressed_len as usize];
        match read_up_to(&mut self.inner, &mut data) {
            Ok(count) if count == data.len() => {}
            Ok(count) => {
                let why = format!("the file ends after {count} of the block's {data_len} bytes");
                return self.stop_at(offset, StopKind::Truncated(why));
            }
            Err(error) => {
                return self.stop_at(offset, StopKind::Damaged(format!("cannot read: {error}")));
            }
        }
        if crc32c::crc32c(&data) != header.data_crc {
            return self.stop_at(
                offset,
                StopKind::Damaged("the block's data checksum does not match".into()),
            );
        }
        let records = match self
            .decompressor
            .decompress(&data, header.uncompressed_len as usize)
        {
            Ok(records) if records.len() == header.uncompressed_len as usize => records,
            Ok(records) => {
                let why = format!(
                    "the block decompresses to {} bytes, its header says {}",
                    records.len(),
                    header.uncompressed_len
                );
                return self.stop_at(offset, StopKind::Damaged(why));
            }
            Err(error) => {
                let why = format!("the block does not decompress: {error}");
                return self.stop_at(offset, StopKind::Damaged(why));
            }
        };
        self.position = offset + BLOCK_HEADER_BYTES as u64 + data_len;
        self.blocks_read += 1;
        self.block = Some(OpenBlock {
            offset,
            data: Bytes::from(records),
            cursor: 0,
            remaining_records: header.record_count,
        });
    }
}

impl<R: Read + Seek> Iterator for RecordReader<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.stop.is_some() {
                return None;
            }
            let Some(block) = self.block.as_mut() else {
                self.read_block();
                continue;
            };
            if block.remaining_records == 0 {
                let left = block.data.len() - block.cursor.min(block.data.len());
                if left > 0 {
                    let offset = block.offset;
                    let why = format!("{left} bytes follow the block's last record");
                    self.stop_at(offset, StopKind::Damaged(why));
                    return None;
                }
                self.block = None;
                self.skip_before = None;
                continue;
            }
            match decode_record(&block.data, &mut block.cursor) {
                Ok(record) => {
                    block.remaining_records -= 1;
                    if self
                        .skip_before
                        .is_some_and(|before| record.received_at_nanos < before)
                    {
                        self.records_read += 1;
                        continue;
                    }
                    self.records_read += 1;
                    return Some(record);
                }
                Err(why) => {
                    let offset = block.offset;
                    self.stop_at(offset, StopKind::Damaged(why));
                    return None;
                }
            }
        }
    }
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}
