//! The bytes of a recording, as RECORDING.md documents them: the file header, block headers,
//! the end marker and the records inside a block. Encoding and decoding only; no I/O.
//!
//! Every integer is little-endian. Checksums are CRC-32C (Castagnoli), as `crc32c::crc32c`.

use bytes::Bytes;

use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;

use super::Record;

/// First eight bytes of every recording: `TSREC`, CR, LF, SUB (like PNG's, it shows a file
/// mangled by a text-mode transfer).
pub const MAGIC: [u8; 8] = *b"TSREC\r\n\x1a";
/// The format version this code writes and reads.
pub const VERSION: u16 = 1;
/// Bytes of the file header before the info text.
pub const FILE_HEADER_FIXED_BYTES: usize = 24;
/// Longest info text in the file header.
pub const MAX_INFO_BYTES: usize = 64 * 1024;
/// First four bytes of a block header.
pub const BLOCK_MAGIC: [u8; 4] = *b"TSBK";
/// Bytes of a block header.
pub const BLOCK_HEADER_BYTES: usize = 40;
/// First four bytes of the end marker.
pub const END_MAGIC: [u8; 4] = *b"TSEN";
/// Bytes of the end marker.
pub const END_MARKER_BYTES: usize = 24;
/// Bytes of a record header inside a block.
pub const RECORD_HEADER_BYTES: usize = 15;
/// Largest payload a record may hold (MQTT's own limit is 256 MiB).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024 * 1024;
/// Largest block, compressed or not: one maximal record plus slack. A reader refuses bigger
/// lengths before allocating anything.
pub const MAX_BLOCK_BYTES: usize = MAX_PAYLOAD_BYTES + 64 * 1024 * 1024;

/// Flag bits of a record: QoS in bits 0–1, retained in bit 2, the rest zero.
const QOS_MASK: u8 = 0b0000_0011;
const RETAINED_BIT: u8 = 0b0000_0100;

/// What the file header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Format version (1).
    pub version: u16,
    /// When the recording was started (wall clock).
    pub created_at_nanos: Nanos,
    /// Free text from the writer (a JSON object by convention: program, source).
    pub info: String,
}

impl FileHeader {
    /// The header's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let info = truncate_utf8(&self.info, MAX_INFO_BYTES);
        let mut bytes = Vec::with_capacity(FILE_HEADER_FIXED_BYTES + info.len() + 4);
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&self.version.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes());
        bytes.extend_from_slice(&self.created_at_nanos.to_le_bytes());
        bytes.extend_from_slice(&(info.len() as u32).to_le_bytes());
        bytes.extend_from_slice(info.as_bytes());
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Reads the fixed part; returns the header without its info and the info length.
    pub fn decode_fixed(
        fixed: &[u8; FILE_HEADER_FIXED_BYTES],
    ) -> Result<(u16, Nanos, usize), String> {
        if fixed[..8] != MAGIC {
            return Err("not a TopicScope recording (the file does not start with TSREC)".into());
        }
        let version = u16_at(fixed, 8);
        if version != VERSION {
            return Err(format!(
                "recording format version {version}: this TopicScope reads version {VERSION}; \
                 open it with a newer TopicScope"
            ));
        }
        let created_at_nanos = i64_at(fixed, 12);
        let info_len = u32_at(fixed, 20) as usize;
        if info_len > MAX_INFO_BYTES {
            return Err(format!(
                "the file header claims {info_len} bytes of info (at most {MAX_INFO_BYTES})"
            ));
        }
        Ok((version, created_at_nanos, info_len))
    }
}

/// A block header: where the block's data is and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// Bytes of zstd data after the header.
    pub compressed_len: u32,
    /// Bytes of the records once decompressed.
    pub uncompressed_len: u32,
    /// Records in the block (at least one).
    pub record_count: u32,
    /// Earliest receive time in the block.
    pub first_at_nanos: Nanos,
    /// Latest receive time in the block.
    pub last_at_nanos: Nanos,
    /// CRC-32C of the compressed data.
    pub data_crc: u32,
}

impl BlockHeader {
    /// The header's bytes, its own checksum last.
    pub fn encode(&self) -> [u8; BLOCK_HEADER_BYTES] {
        let mut bytes = [0u8; BLOCK_HEADER_BYTES];
        bytes[0..4].copy_from_slice(&BLOCK_MAGIC);
        bytes[4..8].copy_from_slice(&self.compressed_len.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.uncompressed_len.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.record_count.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.first_at_nanos.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.last_at_nanos.to_le_bytes());
        bytes[32..36].copy_from_slice(&self.data_crc.to_le_bytes());
        let crc = crc32c::crc32c(&bytes[..36]);
        bytes[36..40].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Checks and reads a header (whose magic the caller has seen).
    pub fn decode(bytes: &[u8; BLOCK_HEADER_BYTES]) -> Result<BlockHeader, String> {
        if bytes[0..4] != BLOCK_MAGIC {
            return Err("no block starts here (bad block magic)".into());
        }
        let stored_crc = u32_at(bytes, 36);
        if crc32c::crc32c(&bytes[..36]) != stored_crc {
            return Err("the block header's checksum does not match".into());
        }
        let header = BlockHeader {
            compressed_len: u32_at(bytes, 4),
            uncompressed_len: u32_at(bytes, 8),
            record_count: u32_at(bytes, 12),
            first_at_nanos: i64_at(bytes, 16),
            last_at_nanos: i64_at(bytes, 24),
            data_crc: u32_at(bytes, 32),
        };
        if header.compressed_len as usize > MAX_BLOCK_BYTES
            || header.uncompressed_len as usize > MAX_BLOCK_BYTES
        {
            return Err(format!(
                "the block header claims {} compressed / {} uncompressed bytes (at most {MAX_BLOCK_BYTES})",
                header.compressed_len, header.uncompressed_len
            ));
        }
        if header.record_count == 0 {
            return Err("the block header claims no records".into());
        }
        let min_bytes = u64::from(header.record_count) * RECORD_HEADER_BYTES as u64;
        if u64::from(header.uncompressed_len) < min_bytes {
            return Err(format!(
                "the block header claims {} records in {} bytes",
                header.record_count, header.uncompressed_len
            ));
        }
        Ok(header)
    }
}

/// The end marker a writer appends when it closes the file cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndMarker {
    /// Records in the whole file.
    pub record_count: u64,
    /// Blocks in the whole file.
    pub block_count: u64,
}

impl EndMarker {
    /// The marker's bytes.
    pub fn encode(&self) -> [u8; END_MARKER_BYTES] {
        let mut bytes = [0u8; END_MARKER_BYTES];
        bytes[0..4].copy_from_slice(&END_MAGIC);
        bytes[4..12].copy_from_slice(&self.record_count.to_le_bytes());
        bytes[12..20].copy_from_slice(&self.block_count.to_le_bytes());
        let crc = crc32c::crc32c(&bytes[..20]);
        bytes[20..24].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Checks and reads a marker.
    pub fn decode(bytes: &[u8; END_MARKER_BYTES]) -> Result<EndMarker, String> {
        if bytes[0..4] != END_MAGIC {
            return Err("no end marker here".into());
        }
        if crc32c::crc32c(&bytes[..20]) != u32_at(bytes, 20) {
            return Err("the end marker's checksum does not match".into());
        }
        Ok(EndMarker {
            record_count: u64_at(bytes, 4),
            block_count: u64_at(bytes, 12),
        })
    }
}

/// Appends one record to a block's uncompressed bytes. The caller keeps topics ≤ 65,535 bytes
/// and payloads ≤ [`MAX_PAYLOAD_BYTES`].
pub fn encode_record(
    out: &mut Vec<u8>,
    topic: &str,
    payload: &[u8],
    qos: Qos,
    retained: bool,
    received_at_nanos: Nanos,
) {
    let flags = qos.level() | if retained { RETAINED_BIT } else { 0 };
    out.extend_from_slice(&received_at_nanos.to_le_bytes());
    out.push(flags);
    out.extend_from_slice(&(topic.len() as u16).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(topic.as_bytes());
    out.extend_from_slice(payload);
}

/// Bytes [`encode_record`] appends for these lengths.
pub fn encoded_record_bytes(topic_len: usize, payload_len: usize) -> usize {
    RECORD_HEADER_BYTES + topic_len + payload_len
}

/// Reads the record starting at `*cursor` of a decompressed block and moves the cursor past it.
/// The payload shares `block`'s memory.
pub fn decode_record(block: &Bytes, cursor: &mut usize) -> Result<Record, String> {
    let start = *cursor;
    let rest = block.len().saturating_sub(start);
    if rest < RECORD_HEADER_BYTES {
        return Err(format!(
            "a record header needs {RECORD_HEADER_BYTES} bytes, {rest} are left in the block"
        ));
    }
    let head = &block[start..start + RECORD_HEADER_BYTES];
    let received_at_nanos = i64_at(head, 0);
    let flags = head[8];
    let topic_len = usize::from(u16_at(head, 9));
    let payload_len = u32_at(head, 11) as usize;
    if flags & !(QOS_MASK | RETAINED_BIT) != 0 {
        return Err(format!("unknown record flags {flags:#04x}"));
    }
    let Some(qos) = Qos::from_level(flags & QOS_MASK) else {
        return Err("record QoS 3 does not exist".into());
    };
    let topic_start = start + RECORD_HEADER_BYTES;
    let payload_start = topic_start + topic_len;
    let end = payload_start + payload_len;
    if end > block.len() {
        return Err(format!(
            "a record of {topic_len} topic and {payload_len} payload bytes runs past the block's end"
        ));
    }
    let Ok(topic) = std::str::from_utf8(&block[topic_start..payload_start]) else {
        return Err("a record's topic is not UTF-8".into());
    };
    let record = Record {
        topic: topic.to_owned(),
        payload: block.slice(payload_start..end),
        qos,
        retained: flags & RETAINED_BIT != 0,
        received_at_nanos,
    };
    *cursor = end;
    Ok(record)
}

/// The longest prefix of `text` of at most `max_bytes` that ends on a character boundary.
fn truncate_utf8(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut cut = max_bytes;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn i64_at(bytes: &[u8], at: usize) -> i64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    i64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_crc32c_as_documented() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn a_record_round_trips_with_its_flags() {
        let mut block = Vec::new();
        encode_record(&mut block, "a/b", b"21.5", Qos::ExactlyOnce, true, -5);
        encode_record(&mut block, "", b"", Qos::AtMostOnce, false, i64::MAX);
        assert_eq!(
            block.len(),
            encoded_record_bytes(3, 4) + encoded_record_bytes(0, 0)
        );
        let block = Bytes::from(block);
        let mut cursor = 0;
        let first = decode_record(&block, &mut cursor).unwrap();
        assert_eq!(
            (
                first.topic.as_str(),
                &first.payload[..],
                first.qos,
                first.retained,
                first.received_at_nanos
            ),
            ("a/b", &b"21.5"[..], Qos::ExactlyOnce, true, -5)
        );
        let second = decode_record(&block, &mut cursor).unwrap();
        assert_eq!(
            (second.topic.as_str(), second.payload.len(), second.retained),
            ("", 0, false)
        );
        assert_eq!(cursor, block.len());
    }

    #[test]
    fn the_record_layout_is_the_documented_one() {
        let mut block = Vec::new();
        encode_record(
            &mut block,
            "t",
            b"xy",
            Qos::AtLeastOnce,
            true,
            0x0102_0304_0506_0708,
        );
        assert_eq!(
            block,
            [
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // time
                0b101, // QoS 1, retained
                1, 0, // topic length
                2, 0, 0, 0, // payload length
                b't', b'x', b'y'
            ]
        );
    }

    #[test]
    fn headers_round_trip_and_refuse_a_flipped_bit() {
        let header = BlockHeader {
            compressed_len: 10,
            uncompressed_len: 100,
            record_count: 2,
            first_at_nanos: 1,
            last_at_nanos: 2,
            data_crc: 0xdead_beef,
        };
        let mut bytes = header.encode();
        assert_eq!(BlockHeader::decode(&bytes), Ok(header));
        bytes[13] ^= 0x10;
        assert!(
            BlockHeader::decode(&bytes)
                .unwrap_err()
                .contains("checksum")
        );

        let end = EndMarker {
            record_count: 7,
            block_count: 1,
        };
        assert_eq!(EndMarker::decode(&end.encode()), Ok(end));

        let file = FileHeader {
            version: VERSION,
            created_at_nanos: 42,
            info: "{}".into(),
        };
        let encoded = file.encode();
        let mut fixed = [0u8; FILE_HEADER_FIXED_BYTES];
        fixed.copy_from_slice(&encoded[..FILE_HEADER_FIXED_BYTES]);
        assert_eq!(FileHeader::decode_fixed(&fixed), Ok((VERSION, 42, 2)));
        assert_eq!(encoded.len(), FILE_HEADER_FIXED_BYTES + 2 + 4);
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let mut block = Vec::new();
        encode_record(&mut block, "topic", b"payload", Qos::AtMostOnce, false, 1);
        for cut in 0..block.len() {
            let short = Bytes::copy_from_slice(&block[..cut]);
            assert!(decode_record(&short, &mut 0).is_err(), "cut at {cut}");
        }
        let mut bad_flags = block.clone();
        bad_flags[8] = 0b11;
        assert!(decode_record(&Bytes::from(bad_flags), &mut 0).is_err());
        let mut bad_topic = block;
        bad_topic[RECORD_HEADER_BYTES] = 0xff;
        assert!(decode_record(&Bytes::from(bad_topic), &mut 0).is_err());
    }
}
