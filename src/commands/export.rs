//! `topicscope export RECORDING --format csv|csv-wide|jsonl|parquet --output FILE`: a recording
//! to a spreadsheet, a notebook or a data pipeline, decoded exactly as the window decodes.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use crate::export::csv::CsvOptions;
use crate::export::recording::parse_time;
use crate::export::{
    ExportControl, ExportFormat, ExportProgress, ExportRequest, TimeFormat, export_recording,
};
use crate::model::time::Nanos;
use crate::model::topic::filter::TopicFilter;

const EXPORT_HELP: &str = "\
Formats:
  csv       long CSV: time, topic, datapoint, field, value, unit (one row per value)
  csv-wide  wide CSV: one row per time, one column per series, units in the header
  jsonl     JSON Lines: one message per line (topic, payload as text or base64, qos, retain,
            receive time, decoded values)
  parquet   Parquet, long format (time as UTC nanoseconds, topic, datapoint, field, value,
            unit, qos, retained) for pandas, Polars, DuckDB, Spark

Times (--from, --to): 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00, 2024-05-01 14:00
(local), 2024-05-01 (local midnight) or nanoseconds since 1970. --from is inclusive, --to
exclusive; both apply to the receive time.

A damaged or cut-off recording is exported up to the damage; a warning says where it stopped.
The output is written as FILE.partial and renamed when complete.

Examples:
  topicscope export site.tsrec --format csv-wide --decimal-comma --output site.csv
  topicscope export site.tsrec --format parquet --topic 'lbg01/mybuilding/#' \\
      --from '2024-05-01 08:00' --to '2024-05-01 18:00' --output day.parquet";

/// Arguments of `topicscope export`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(after_long_help = EXPORT_HELP)]
pub struct ExportArgs {
    /// The recording (.tsrec) to read.
    #[arg(value_name = "RECORDING")]
    pub recording: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// File to write (replaced if it exists).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Decimal comma (21,5) for European spreadsheets; fields are then separated by `;`.
    #[arg(long)]
    pub decimal_comma: bool,
    /// Field separator for CSV (default `,`, or `;` with --decimal-comma).
    #[arg(long, value_name = "CHAR")]
    pub separator: Option<char>,
    /// How times are written: ISO 8601 in UTC or local time, or Unix nanoseconds.
    #[arg(long, value_enum, default_value = "iso-utc")]
    pub time: TimeArg,
    /// Only messages received at or after this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<Nanos>,
    /// Only messages received before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<Nanos>,
    /// Only messages on topics matching this filter (repeatable; + and # wildcards).
    #[arg(long = "topic", value_name = "FILTER", value_parser = parse_filter)]
    pub topics: Vec<TopicFilter>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Long CSV.
    Csv,
    /// Wide CSV.
    CsvWide,
    /// JSON Lines.
    Jsonl,
    /// Parquet.
    Parquet,
}

/// `--time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeArg {
    /// ISO 8601 in UTC.
    IsoUtc,
    /// ISO 8601 in local time with the offset.
    IsoLocal,
    /// Nanoseconds since 1970.
    UnixNs,
}

fn parse_filter(text: &str) -> Result<TopicFilter, String> {
    TopicFilter::parse(text).map_err(|error| error.to_string())
}

impl ExportArgs {
    /// The export these arguments ask for.
    pub fn request(&self) -> ExportRequest {
        ExportRequest {
            format: match self.format {
                FormatArg::Csv => ExportFormat::Csv,
                FormatArg::CsvWide => ExportFormat::CsvWide,
                FormatArg::Jsonl => ExportFormat::JsonLines,
                FormatArg::Parquet => ExportFormat::Parquet,
            },
            csv: CsvOptions {
                separator: self
                    .separator
                    .unwrap_or(if self.decimal_comma { ';' } else { ',' }),
                decimal_comma: self.decimal_comma,
                time_format: match self.time {
                    TimeArg::IsoUtc => TimeFormat::IsoUtc,
                    TimeArg::IsoLocal => TimeFormat::IsoLocal,
                    TimeArg::UnixNs => TimeFormat::UnixNanos,
                },
            },
            from_nanos: self.from,
            to_nanos: self.to,
            topics: self.topics.clone(),
        }
    }
}

/// Runs the export; prints a summary (and, on a terminal, progress on stderr).
pub fn main(args: &ExportArgs) -> ExitCode {
    let cancel = AtomicBool::new(false);
    let show_progress = std::io::stderr().is_terminal();
    let mut last_percent = u32::MAX;
    let mut progress = |progress: ExportProgress| {
        let percent = (progress.fraction() * 100.0) as u32;
        if show_progress && percent != last_percent {
            last_percent = percent;
            eprint!("\rexporting… {percent:3} %");
        }
    };
    let mut control = ExportControl {
        cancel: &cancel,
        progress: &mut progress,
    };
    let result = export_recording(&args.recording, &args.output, &args.request(), &mut control);
    if show_progress {
        eprintln!();
    }
    match result {
        Ok(summary) => {
            println!(
                "exported {} of {} messages ({} {}) to {}",
                summary.messages_exported,
                summary.records_read,
                summary.rows_written,
                if args.format == FormatArg::Jsonl {
                    "lines"
                } else {
                    "rows"
                },
                args.output.display()
            );
            if let Some(stop) = summary.stop.filter(|stop| !stop.is_undamaged()) {
                eprintln!("topicscope: warning: {}: {stop}", args.recording.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("topicscope: {error}");
            ExitCode::FAILURE
        }
    }
}
