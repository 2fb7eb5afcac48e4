//! Exporting a recording: read it (up to any damage), decode each message as the window would,
//! filter by time and topic, write one of the formats. Units come from the recording's own
//! metadata messages, found in a first pass over `META/…` records.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::model::decode::message::Message;
use crate::model::time::Nanos;
use crate::model::topic::filter::TopicFilter;
use crate::record::{RecordReader, Stop};

use super::csv::{CsvOptions, LongCsvWriter, WideTable};
use super::jsonl::JsonLinesWriter;
use super::parquet::ParquetLongWriter;
use super::{ExportControl, ExportError, ExportProgress, Units, points_of};

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Long CSV: one row per value.
    Csv,
    /// Wide CSV: one row per time, one column per series.
    CsvWide,
    /// JSON Lines: one line per message.
    JsonLines,
    /// Parquet, long format.
    Parquet,
}

/// An export of a recording.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The format.
    pub format: ExportFormat,
    /// Separators and time format (CSV; JSON Lines uses the time format).
    pub csv: CsvOptions,
    /// Only messages received at or after this time.
    pub from_nanos: Option<Nanos>,
    /// Only messages received before this time.
    pub to_nanos: Option<Nanos>,
    /// Only messages on topics matching one of these (all when empty).
    pub topics: Vec<TopicFilter>,
}

impl ExportRequest {
    /// Everything, in `format`, with default CSV options.
    pub fn new(format: ExportFormat) -> Self {
        Self {
            format,
            csv: CsvOptions::default(),
            from_nanos: None,
            to_nanos: None,
            topics: Vec::new(),
        }
    }

    /// Refuses options that do not go together (a decimal comma with a comma separator).
    pub fn check(&self) -> Result<(), ExportError> {
        if self.format == ExportFormat::JsonLines {
            return Ok(());
        }
        self.csv.check()
    }

    fn wants(&self, topic: &str, received_at_nanos: Nanos) -> bool {
        self.from_nanos.is_none_or(|from| received_at_nanos >= from)
            && self.to_nanos.is_none_or(|to| received_at_nanos < to)
            && (self.topics.is_empty() || self.topics.iter().any(|filter| filter.matches(topic)))
    }
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Messages read from the recording.
    pub records_read: u64,
    /// Messages that passed the filters.
    pub messages_exported: u64,
    /// Rows (CSV, Parquet) or lines (JSON Lines) written.
    pub rows_written: u64,
    /// Datapoints whose unit the recording's metadata gave.
    pub units_known: usize,
    /// Where reading stopped: says whether the recording was complete or damaged (and where).
    pub stop: Option<Stop>,
}

/// Records between progress reports and cancel checks.
const CHECK_EVERY_RECORDS: u64 = 4096;

/// Exports the recording at `input` to `output` (written as `output.partial`, renamed at the
/// end; an existing `output` is replaced only then). A damaged recording is exported up to the
/// damage; [`ExportSummary::stop`] says where it stopped. Progress is in bytes of the file
/// (read twice: units first, then the messages).
pub fn export_recording(
    input: &Path,
    output: &Path,
    request: &ExportRequest,
    control: &mut ExportControl<'_>,
) -> Result<ExportSummary, ExportError> {
    request.check()?;
    let mut reader = RecordReader::open(input)?;
    let units = learn_units(&mut reader, control)?;
    reader.rewind();
    if let Some(from) = request.from_nanos {
        reader.seek_to_time(from);
    }
    let total = reader.file_len().saturating_mul(2);
    let mut source = RecordingSource {
        base: reader.file_len(),
        reader: &mut reader,
        request,
        read: 0,
    };
    let (records_read, messages_exported, rows_written) =
        write_output(&mut source, total, &units, output, request, control)?;
    Ok(ExportSummary {
        records_read,
        messages_exported,
        rows_written,
        units_known: units.len(),
        stop: reader.stop().cloned(),
    })
}

/// Exports messages from anywhere (the window's store: a topic's or a subtree's history, each
/// message with its topic) like [`export_recording`] exports a recording: same formats,
/// filters, progress (in messages, of `total_messages`), cancel and `FILE.partial`. `units`
/// gives units by project and datapoint (e.g. from the datapoint registry). Run it off the UI
/// thread.
pub fn export_messages(
    messages: impl Iterator<Item = (String, Message)>,
    total_messages: u64,
    units: &Units,
    output: &Path,
    request: &ExportRequest,
    control: &mut ExportControl<'_>,
) -> Result<ExportSummary, ExportError> {
    request.check()?;
    let mut source = IterSource {
        messages,
        request,
        read: 0,
    };
    let (records_read, messages_exported, rows_written) =
        write_output(&mut source, total_messages, units, output, request, control)?;
    Ok(ExportSummary {
        records_read,
        messages_exported,
        rows_written,
        units_known: units.len(),
        stop: None,
    })
}

/// Writes `output.partial`, renames it to `output`; removes it on error or cancel. Returns
/// (messages read, messages exported, rows written).
fn write_output(
    source: &mut dyn Source,
    total: u64,
    units: &Units,
    output: &Path,
    request: &ExportRequest,
    control: &mut ExportControl<'_>,
) -> Result<(u64, u64, u64), ExportError> {
    let partial = partial_path(output);
    let file = File::create(&partial).map_err(|source| ExportError::Io {
        action: "cannot create",
        path: partial.display().to_string(),
        source,
    })?;
    let out = BufWriter::with_capacity(256 * 1024, file);
    let mut pass = Pass {
        source,
        request,
        units,
        control,
        total,
        exported: 0,
    };
    let result = pass.write(out);
    let exported = pass.exported;
    let rows_written = match result {
        Ok(rows) => rows,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, output).map_err(|source| ExportError::Io {
        action: "cannot rename the finished export to",
        path: output.display().to_string(),
        source,
    })?;
    Ok((source.read(), exported, rows_written))
}

/// `FILE.partial` next to `FILE`.
pub fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

/// First pass: units from the `META/…` records (only those are decoded).
fn learn_units(
    reader: &mut RecordReader,
    control: &mut ExportControl<'_>,
) -> Result<Units, ExportError> {
    let mut units = Units::default();
    let total = reader.file_len().saturating_mul(2);
    let mut count = 0u64;
    while let Some(record) = reader.next() {
        count += 1;
        if count.is_multiple_of(CHECK_EVERY_RECORDS) {
            if control.cancelled() {
                return Err(ExportError::Cancelled);
            }
            (control.progress)(ExportProgress {
                done: reader.bytes_read(),
                total,
                messages_exported: 0,
            });
        }
        if record.topic.starts_with("META/") {
            let topic = record.topic.clone();
            units.learn(&topic, &record.into_message());
        }
    }
    Ok(units)
}

/// Where messages come from. `tick` is called every [`CHECK_EVERY_RECORDS`] messages read
/// (filtered out or not) with the work done; it reports progress and fails when cancelled.
trait Source {
    /// The next message that passes the filters.
    fn next_message(
        &mut self,
        tick: &mut dyn FnMut(u64) -> Result<(), ExportError>,
    ) -> Result<Option<(String, Message)>, ExportError>;

    /// Messages read so far.
    fn read(&self) -> u64;
}

struct RecordingSource<'a> {
    reader: &'a mut RecordReader,
    request: &'a ExportRequest,
    /// Bytes of the first pass, for progress.
    base: u64,
    read: u64,
}

impl Source for RecordingSource<'_> {
    fn next_message(
        &mut self,
        tick: &mut dyn FnMut(u64) -> Result<(), ExportError>,
    ) -> Result<Option<(String, Message)>, ExportError> {
        while let Some(record) = self.reader.next() {
            self.read += 1;
            if self.read.is_multiple_of(CHECK_EVERY_RECORDS) {
                tick(self.base + self.reader.bytes_read())?;
            }
            if self.request.wants(&record.topic, record.received_at_nanos) {
                let topic = record.topic.clone();
                return Ok(Some((topic, record.into_message())));
            }
        }
        Ok(None)
    }

    fn read(&self) -> u64 {
        self.read
    }
}

struct IterSource<'a, I> {
    messages: I,
    request: &'a ExportRequest,
    read: u64,
}

impl<I: Iterator<Item = (String, Message)>> Source for IterSource<'_, I> {
    fn next_message(
        &mut self,
        tick: &mut dyn FnMut(u64) -> Result<(), ExportError>,
    ) -> Result<Option<(String, Message)>, ExportError> {
        for (topic, message) in self.messages.by_ref() {
            self.read += 1;
            if self.read.is_multiple_of(CHECK_EVERY_RECORDS) {
                tick(self.read)?;
            }
            if self.request.wants(&topic, message.received_at_nanos) {
                return Ok(Some((topic, message)));
            }
        }
        Ok(None)
    }

    fn read(&self) -> u64 {
        self.read
    }
}

struct Pass<'a, 'c> {
    source: &'a mut dyn Source,
    request: &'a ExportRequest,
    units: &'a Units,
    control: &'a mut ExportControl<'c>,
    total: u64,
    exported: u64,
}

impl Pass<'_, '_> {
    /// The next message to export; checks the cancel flag and reports progress as it goes.
    fn next_message(&mut self) -> Result<Option<(String, Message)>, ExportError> {
        let (control, total, exported) = (&mut *self.control, self.total, self.exported);
        let mut tick = |done: u64| {
            if control.cancelled() {
                return Err(ExportError::Cancelled);
            }
            (control.progress)(ExportProgress {
                done,
                total,
                messages_exported: exported,
            });
            Ok(())
        };
        let next = self.source.next_message(&mut tick)?;
        if next.is_some() {
            self.exported += 1;
        }
        Ok(next)
    }

    fn write(&mut self, out: BufWriter<File>) -> Result<u64, ExportError> {
        let rows = match self.request.format {
            ExportFormat::Csv => {
                let mut writer = LongCsvWriter::new(out, self.request.csv)?;
                while let Some((topic, message)) = self.next_message()? {
                    for point in points_of(&topic, &message, self.units) {
                        writer.write_point(&point)?;
                    }
                }
                let rows = writer.rows();
                finish_file(writer.finish()?)?;
                rows
            }
            ExportFormat::CsvWide => {
                let mut table = WideTable::new();
                while let Some((topic, message)) = self.next_message()? {
                    for point in points_of(&topic, &message, self.units) {
                        table.add_point(&point);
                    }
                }
                let mut out = out;
                let rows = table.write(&mut out, self.request.csv)?;
                finish_file(out)?;
                rows
            }
            ExportFormat::JsonLines => {
                let mut writer = JsonLinesWriter::new(out, self.request.csv.time_format);
                while let Some((topic, message)) = self.next_message()? {
                    writer.write_message(&topic, &message, self.units)?;
                }
                let lines = writer.lines();
                finish_file(writer.finish()?)?;
                lines
            }
            ExportFormat::Parquet => {
                let mut writer = ParquetLongWriter::new(out)?;
                while let Some((topic, message)) = self.next_message()? {
                    for point in points_of(&topic, &message, self.units) {
                        writer.write_point(&point, message.qos, message.retained)?;
                    }
                }
                let rows = writer.rows();
                finish_file(writer.finish()?)?;
                rows
            }
        };
        (self.control.progress)(ExportProgress {
            done: self.total,
            total: self.total,
            messages_exported: self.exported,
        });
        Ok(rows)
    }
}

/// Flushes the buffer and puts the file on disk before it is renamed into place.
fn finish_file(out: BufWriter<File>) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        action: "cannot write",
        path: "the export".into(),
        source,
    };
    let file = out.into_inner().map_err(|error| io(error.into_error()))?;
    file.sync_all().map_err(io)
}

/// Parses a time for `--from`/`--to`: RFC 3339 (`2024-05-01T12:00:00Z`, `…+02:00`), a local
/// date and time (`2024-05-01 12:00`, `2024-05-01T12:00:00.5`), a local date (`2024-05-01`,
/// midnight) or nanoseconds since the Unix epoch.
pub fn parse_time(text: &str) -> Result<Nanos, String> {
    use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone as _};
    let text = text.trim();
    if let Ok(nanos) = text.parse::<i64>() {
        return Ok(nanos);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return at
            .timestamp_nanos_opt()
            .ok_or_else(|| format!("{text} is outside the years 1677–2262"));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|pattern| NaiveDateTime::parse_from_str(text, pattern).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
    });
    let Some(naive) = naive else {
        return Err(format!(
            "\"{text}\" is not a time: use 2024-05-01T12:00:00Z, 2024-05-01 14:00 (local time), \
             2024-05-01 or nanoseconds since 1970"
        ));
    };
    let local = Local
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| format!("{text} does not exist in the local time zone (a clock change)"))?;
    local
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("{text} is outside the years 1677–2262"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_documented_form() {
        assert_eq!(
            parse_time("2024-05-01T12:00:00Z"),
            Ok(1_714_564_800_000_000_000)
        );
        assert_eq!(
            parse_time("2024-05-01T14:00:00.5+02:00"),
            Ok(1_714_564_800_500_000_000)
        );
        assert_eq!(
            parse_time("1714564800000000000"),
            Ok(1_714_564_800_000_000_000)
        );
        let local = parse_time("2024-05-01 12:00").unwrap();
        assert_eq!(parse_time("2024-05-01T12:00:00.0"), Ok(local));
        assert_eq!(
            parse_time("2024-05-01").unwrap() + 12 * 3_600_000_000_000,
            local
        );
        assert!(parse_time("yesterday").unwrap_err().contains("not a time"));
    }

    #[test]
    fn the_partial_file_sits_next_to_the_output() {
        assert_eq!(
            partial_path(Path::new("/x/out.csv")),
            PathBuf::from("/x/out.csv.partial")
        );
    }
}
