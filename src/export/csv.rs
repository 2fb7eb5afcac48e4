//! CSV: long (one row per value: time, topic, datapoint, field, value, unit) and wide (one row per
//! timestamp, one column per series, units in the header). Fields are quoted as RFC 4180 says
//! when they hold the separator, a quote or a line break. With a decimal comma (German and
//! other European spreadsheets) the separator must be `;`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use crate::model::time::Nanos;

use super::{ExportError, Point, TimeFormat};

/// Separators and time format of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Between fields: `,` (default) or `;` (or a tab).
    pub separator: char,
    /// Write `21,5` instead of `21.5`.
    pub decimal_comma: bool,
    /// How times are written.
    pub time_format: TimeFormat,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            separator: ',',
            decimal_comma: false,
            time_format: TimeFormat::IsoUtc,
        }
    }
}

impl CsvOptions {
    /// European spreadsheets: `;` between fields, decimal comma.
    pub fn european(time_format: TimeFormat) -> Self {
        Self {
            separator: ';',
            decimal_comma: true,
            time_format,
        }
    }

    /// Refuses separators a reader could not tell from the data.
    pub fn check(&self) -> Result<(), ExportError> {
        if self.decimal_comma && self.separator == ',' {
            return Err(ExportError::Options(
                "a decimal comma needs another field separator: use `;`".into(),
            ));
        }
        if matches!(self.separator, '"' | '\n' | '\r' | '.') || self.separator.is_alphanumeric() {
            return Err(ExportError::Options(format!(
                "`{}` cannot separate CSV fields: use `,`, `;` or a tab",
                self.separator.escape_default()
            )));
        }
        Ok(())
    }

    /// A number as text: shortest exact form, never an exponent; empty for NaN or infinity.
    pub fn number(&self, value: f64) -> String {
        if !value.is_finite() {
            return String::new();
        }
        let text = value.to_string();
        if self.decimal_comma {
            text.replace('.', ",")
        } else {
            text
        }
    }

    /// `text` quoted if it must be.
    fn field<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if text.contains(self.separator) || text.contains(['"', '\n', '\r']) {
            std::borrow::Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }
}

/// Writes long CSV: a header, then one row per [`Point`].
pub struct LongCsvWriter<W: Write> {
    out: W,
    options: CsvOptions,
    rows: u64,
    line: String,
}

/// The header of long CSV.
pub const LONG_COLUMNS: [&str; 6] = ["time", "topic", "datapoint", "field", "value", "unit"];

impl<W: Write> LongCsvWriter<W> {
    /// Checks the options and writes the header.
    pub fn new(mut out: W, options: CsvOptions) -> Result<Self, ExportError> {
        options.check()?;
        let header = LONG_COLUMNS.join(&options.separator.to_string());
        writeln!(out, "{header}").map_err(write_error)?;
        Ok(Self {
            out,
            options,
            rows: 0,
            line: String::new(),
        })
    }

    /// Writes one row.
    pub fn write_point(&mut self, point: &Point) -> Result<(), ExportError> {
        let options = self.options;
        let separator = options.separator;
        self.line.clear();
        self.line
            .push_str(&options.time_format.format(point.at_nanos));
        for text in [
            options.field(&point.topic).as_ref(),
            options
                .field(point.datapoint.as_deref().unwrap_or(""))
                .as_ref(),
            options.field(&point.field).as_ref(),
            &options.number(point.value),
            options.field(point.unit.as_deref().unwrap_or("")).as_ref(),
        ] {
            self.line.push(separator);
            self.line.push_str(text);
        }
        self.line.push('\n');
        self.out
            .write_all(self.line.as_bytes())
            .map_err(write_error)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        self.out.flush().map_err(write_error)?;
        Ok(self.out)
    }
}

fn write_error(source: std::io::Error) -> ExportError {
    ExportError::Io {
        action: "cannot write",
        path: "the export".into(),
        source,
    }
}

/// Series gathered for a wide CSV: one column per series, one row per distinct time. Held in
/// memory (about 40 bytes per value) because the header needs every series first.
#[derive(Debug, Default)]
pub struct WideTable {
    columns: Vec<WideColumn>,
    by_key: HashMap<(String, Option<String>, String), usize>,
    rows: BTreeMap<Nanos, Vec<(u32, f64)>>,
    values: u64,
}

/// A column of a [`WideTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideColumn {
    /// The column's name in the header (before the unit).
    pub label: String,
    /// Its unit, written as ` [unit]` after the label.
    pub unit: Option<String>,
}

impl WideTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column and its points (e.g. a plotted series); returns its index. At equal
    /// times within a column the last value wins.
    pub fn add_series(
        &mut self,
        label: &str,
        unit: Option<&str>,
        points: impl IntoIterator<Item = (Nanos, f64)>,
    ) -> usize {
        let column = self.columns.len();
        self.columns.push(WideColumn {
            label: label.to_owned(),
            unit: unit.map(str::to_owned),
        });
        for (at_nanos, value) in points {
            self.put(column, at_nanos, value);
        }
        column
    }

    /// Adds a point to the column of its series (topic, datapoint, field), making the column
    /// on first sight. A column's label is the datapoint name (with `.field` unless the field
    /// is `value`), else the topic (with the JSON path); a label two series share gets
    /// ` @ topic` appended when the table is written.
    pub fn add_point(&mut self, point: &Point) {
        let key = (
            point.topic.clone(),
            point.datapoint.clone(),
            point.field.clone(),
        );
        let column = match self.by_key.get(&key) {
            Some(column) => *column,
            None => {
                let label = match &point.datapoint {
                    Some(datapoint) if point.field == "value" => datapoint.clone(),
                    Some(datapoint) => format!("{datapoint}.{}", point.field),
                    None if point.field == "value" => point.topic.clone(),
                    None => format!("{} {}", point.topic, point.field),
                };
                let column = self.add_series(&label, point.unit.as_deref(), []);
                self.by_key.insert(key, column);
                column
            }
        };
        if let Some(unit) = &point.unit
            && let Some(slot) = self.columns.get_mut(column)
            && slot.unit.is_none()
        {
            slot.unit = Some(unit.clone());
        }
        self.put(column, point.at_nanos, point.value);
    }

    fn put(&mut self, column: usize, at_nanos: Nanos, value: f64) {
        let column = column as u32;
        let row = self.rows.entry(at_nanos).or_default();
        match row.iter_mut().find(|(index, _)| *index == column) {
            Some(slot) => slot.1 = value,
            None => {
                row.push((column, value));
                self.values += 1;
            }
        }
    }

    /// The columns, in order of first appearance.
    pub fn columns(&self) -> &[WideColumn] {
        &self.columns
    }

    /// Distinct times (rows).
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Values held.
    pub fn value_count(&self) -> u64 {
        self.values
    }

    /// Writes the header (`time`, then each column with its unit) and one row per time, empty
    /// where a series has no value at that time. Returns the rows written.
    pub fn write(&self, mut out: impl Write, options: CsvOptions) -> Result<u64, ExportError> {
        options.check()?;
        let separator = options.separator;
        let mut line = String::from("time");
        for header in self.headers() {
            line.push(separator);
            line.push_str(&options.field(&header));
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(write_error)?;
        let mut cells: Vec<Option<f64>> = vec![None; self.columns.len()];
        let mut rows = 0;
        for (at_nanos, values) in &self.rows {
            cells.iter_mut().for_each(|cell| *cell = None);
            for (column, value) in values {
                if let Some(cell) = cells.get_mut(*column as usize) {
                    *cell = Some(*value);
                }
            }
            line.clear();
            line.push_str(&options.time_format.format(*at_nanos));
            for cell in &cells {
                line.push(separator);
                if let Some(value) = cell {
                    line.push_str(&options.number(*value));
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(write_error)?;
            rows += 1;
        }
        out.flush().map_err(write_error)?;
        Ok(rows)
    }

    /// Header texts: labels made unique, units in brackets.
    pub fn headers(&self) -> Vec<String> {
        let mut label_count: HashMap<&str, usize> = HashMap::new();
        for column in &self.columns {
            *label_count.entry(&column.label).or_default() += 1;
        }
        let topics: HashMap<usize, &str> = self
            .by_key
            .iter()
            .map(|((topic, _, _), column)| (*column, topic.as_str()))
            .collect();
        self.columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let mut text = column.label.clone();
                if label_count.get(column.label.as_str()).copied().unwrap_or(0) > 1 {
                    match topics.get(&index) {
                        Some(topic) => text.push_str(&format!(" @ {topic}")),
                        None => text.push_str(&format!(" #{}", index + 1)),
                    }
                }
                if let Some(unit) = &column.unit {
                    text.push_str(&format!(" [{unit}]"));
                }
                text
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(
        at: Nanos,
        topic: &str,
        datapoint: Option<&str>,
        field: &str,
        value: f64,
        unit: Option<&str>,
    ) -> Point {
        Point {
            at_nanos: at,
            topic: topic.into(),
            datapoint: datapoint.map(Into::into),
            field: field.into(),
            value,
            unit: unit.map(Into::into),
        }
    }

    #[test]
    fn long_csv_quotes_what_it_must_and_writes_decimal_commas() {
        let mut writer =
            LongCsvWriter::new(Vec::new(), CsvOptions::european(TimeFormat::UnixNanos)).unwrap();
        writer
            .write_point(&point(
                5,
                "a;b",
                Some("Temp \"x\""),
                "value",
                -21.25,
                Some("°C"),
            ))
            .unwrap();
        writer
            .write_point(&point(6, "c", None, "a.b[0]", 1e21, None))
            .unwrap();
        let text = String::from_utf8(writer.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "time;topic;datapoint;field;value;unit\n\
             5;\"a;b\";\"Temp \"\"x\"\"\";value;-21,25;°C\n\
             6;c;;a.b[0];1000000000000000000000;\n"
        );
    }

    #[test]
    fn a_decimal_comma_with_a_comma_separator_is_refused() {
        let options = CsvOptions {
            separator: ',',
            decimal_comma: true,
            time_format: TimeFormat::IsoUtc,
        };
        assert!(LongCsvWriter::new(Vec::new(), options).is_err());
    }

    #[test]
    fn wide_csv_aligns_series_on_time_with_units_in_the_header() {
        let mut table = WideTable::new();
        table.add_point(&point(2, "p/a", Some("Temp"), "value", 20.5, Some("°C")));
        table.add_point(&point(1, "p/b", Some("Valve"), "value", 0.0, None));
        table.add_point(&point(2, "p/b", Some("Valve"), "value", 1.0, Some("%")));
        table.add_point(&point(3, "p/c", Some("Temp"), "value", 7.0, None));
        table.add_point(&point(3, "p/a", Some("Temp"), "value", 21.0, None));
        table.add_series("extra", None, [(1, 0.5)]);
        let mut out = Vec::new();
        let rows = table
            .write(&mut out, CsvOptions::european(TimeFormat::UnixNanos))
            .unwrap();
        assert_eq!(rows, 3);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time;Temp @ p/a [°C];Valve [%];Temp @ p/c;extra\n\
             1;;0;;0,5\n\
             2;20,5;1;;\n\
             3;21;;7;\n"
        );
        assert_eq!(table.value_count(), 6);
    }
}
