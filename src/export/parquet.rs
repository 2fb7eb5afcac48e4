//! Parquet, long format, with the Apache `parquet` crate's column writers (no Arrow):
//!
//! ```text
//! message topicscope_points {
//!   required int64 time (TIMESTAMP(NANOS,true));   -- UTC, nanoseconds
//!   required binary topic (STRING);
//!   optional binary datapoint (STRING);
//!   required binary field (STRING);
//!   required double value;
//!   optional binary unit (STRING);
//!   required int32 qos (INTEGER(8,false));
//!   required boolean retained;
//! }
//! ```
//! zstd-compressed, a row group every [`ROW_GROUP_ROWS`] rows. pandas, Polars, DuckDB and Spark
//! read it directly.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::model::topic::qos::Qos;

use super::{ExportError, Point};

/// The schema, in Parquet's message-type notation.
pub const SCHEMA: &str = "
message topicscope_points {
  required int64 time (TIMESTAMP(NANOS,true));
  required binary topic (STRING);
  optional binary datapoint (STRING);
  required binary field (STRING);
  required double value;
  optional binary unit (STRING);
  required int32 qos (INTEGER(8,false));
  required boolean retained;
}";

/// Rows buffered before a row group is written (bounds memory: ~100 bytes a row).
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

#[derive(Default)]
struct Columns {
    time: Vec<i64>,
    topic: Vec<ByteArray>,
    datapoint: Vec<ByteArray>,
    datapoint_defined: Vec<i16>,
    field: Vec<ByteArray>,
    value: Vec<f64>,
    unit: Vec<ByteArray>,
    unit_defined: Vec<i16>,
    qos: Vec<i32>,
    retained: Vec<bool>,
}

impl Columns {
    fn len(&self) -> usize {
        self.time.len()
    }

    fn clear(&mut self) {
        *self = Columns::default();
    }
}

/// Writes points as Parquet rows; [`ParquetLongWriter::finish`] writes the footer.
pub struct ParquetLongWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    columns: Columns,
    rows: u64,
}

impl<W: Write + Send> ParquetLongWriter<W> {
    /// Starts a file on `out`.
    pub fn new(out: W) -> Result<Self, ExportError> {
        let schema = Arc::new(parse_message_type(SCHEMA)?);
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .set_created_by(format!("TopicScope {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            writer: SerializedFileWriter::new(out, schema, Arc::new(properties))?,
            columns: Columns::default(),
            rows: 0,
        })
    }

    /// Adds a row: the point, and the QoS and retain flag of the message it came in.
    pub fn write_point(
        &mut self,
        point: &Point,
        qos: Qos,
        retained: bool,
    ) -> Result<(), ExportError> {
        let columns = &mut self.columns;
        columns.time.push(point.at_nanos);
        columns.topic.push(ByteArray::from(point.topic.as_str()));
        match &point.datapoint {
            Some(datapoint) => {
                columns.datapoint.push(ByteArray::from(datapoint.as_str()));
                columns.datapoint_defined.push(1);
            }
            None => columns.datapoint_defined.push(0),
        }
        columns.field.push(ByteArray::from(point.field.as_str()));
        columns.value.push(point.value);
        match &point.unit {
            Some(unit) => {
                columns.unit.push(ByteArray::from(unit.as_str()));
                columns.unit_defined.push(1);
            }
            None => columns.unit_defined.push(0),
        }
        columns.qos.push(i32::from(qos.level()));
        columns.retained.push(retained);
        self.rows += 1;
        if self.columns.len() >= ROW_GROUP_ROWS {
            self.write_row_group()?;
        }
        Ok(())
    }

    /// Rows added.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn write_row_group(&mut self) -> Result<(), ExportError> {
        if self.columns.len() == 0 {
            return Ok(());
        }
        let columns = &self.columns;
        let mut group = self.writer.next_row_group()?;
        let mut index = 0;
        while let Some(mut column) = group.next_column()? {
            match index {
                0 => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(&columns.time, None, None)?;
                }
                1 => {
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&columns.topic, None, None)?;
                }
                2 => {
                    column.typed::<ByteArrayType>().write_batch(
                        &columns.datapoint,
                        Some(&columns.datapoint_defined),
                        None,
                    )?;
                }
                3 => {
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&columns.field, None, None)?;
                }
                4 => {
                    column
                        .typed::<DoubleType>()
                        .write_batch(&columns.value, None, None)?;
                }
                5 => {
                    column.typed::<ByteArrayType>().write_batch(
                        &columns.unit,
                        Some(&columns.unit_defined),
                        None,
                    )?;
                }
                6 => {
                    column
                        .typed::<Int32Type>()
                        .write_batch(&columns.qos, None, None)?;
                }
                _ => {
                    column
                        .typed::<BoolType>()
                        .write_batch(&columns.retained, None, None)?;
                }
            }
            column.close()?;
            index += 1;
        }
        group.close()?;
        self.columns.clear();
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        self.write_row_group()?;
        let mut out = self.writer.into_inner()?;
        out.flush().map_err(|source| ExportError::Io {
            action: "cannot write",
            path: "the export".into(),
            source,
        })?;
        Ok(out)
    }
}
