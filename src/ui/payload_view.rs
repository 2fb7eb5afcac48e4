//! Showing one payload as text, as a collapsible JSON tree, or as hex.
//!
//! Everything expensive (splitting lines, parsing JSON, formatting hex) happens once per shown
//! message and is cached in a [`MessageView`]; each frame then lays out only the visible lines.
//! Big payloads are cut to a bounded prefix so a megabyte of text is never laid out.

use std::hash::{Hash, Hasher};

use egui::{CollapsingHeader, RichText, ScrollArea};

use crate::model::decode::message::Message;
use crate::model::decode::payload::PayloadFormat;
use crate::model::time::Nanos;
use crate::ui::format::format_bytes;

use super::text::prefix_at_char_boundary;
use super::theme::Palette;

/// Bytes of a text payload prepared for display; the rest is summarised.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Bytes of a payload shown in the hex view.
pub const MAX_HEX_BYTES: usize = 64 * 1024;
/// Largest payload parsed into a JSON tree.
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;
/// A text line longer than this many characters is continued on the next display row.
const WRAP_CHARS: usize = 400;
/// Children of one JSON object or array listed before "… and N more".
const MAX_JSON_CHILDREN: usize = 200;
/// Characters of one JSON string shown in the tree.
const MAX_JSON_STRING_CHARS: usize = 2000;
/// Bytes per hex row.
const HEX_ROW_BYTES: usize = 16;

/// How the user wants payloads shown.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum ViewMode {
    /// The payload as UTF-8 text.
    Text,
    /// A collapsible tree when the payload is JSON, text otherwise.
    #[default]
    Json,
    /// Offsets, hex bytes and printable characters.
    Hex,
}

impl ViewMode {
    /// All modes, in the order the selector shows them.
    pub const ALL: [ViewMode; 3] = [ViewMode::Text, ViewMode::Json, ViewMode::Hex];

    /// The selector's label.
    pub fn label(self) -> &'static str {
        match self {
            ViewMode::Text => "Text",
            ViewMode::Json => "JSON",
            ViewMode::Hex => "Hex",
        }
    }
}

/// Identifies one received message cheaply: its receive time and the address and length of its
/// shared payload buffer (payload bytes are never copied after receipt, so this is stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageKey {
    received_at_nanos: Nanos,
    payload_addr: usize,
    payload_len: usize,
}

impl MessageKey {
    /// The key of `message`.
    pub fn of(message: &Message) -> Self {
        Self {
            received_at_nanos: message.received_at_nanos,
            payload_addr: message.payload.as_ptr() as usize,
            payload_len: message.payload.len(),
        }
    }
}

/// Display rows prepared from a payload, cut to a bounded size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextLines {
    pub rows: Vec<String>,
    /// Payload bytes the rows cover (less than the payload when it was cut).
    pub shown_bytes: usize,
    pub total_bytes: usize,
}

impl TextLines {
    /// Rows of `text`, at most `max_bytes` of it, long lines continued on the next row.
    pub fn from_text(text: &str, max_bytes: usize) -> Self {
        let shown = prefix_at_char_boundary(text, max_bytes);
        let mut rows = Vec::new();
        for line in shown.lines() {
            push_wrapped(&mut rows, line);
        }
        if rows.is_empty() {
            rows.push(String::new());
        }
        Self {
            rows,
            shown_bytes: shown.len(),
            total_bytes: text.len(),
        }
    }

    /// A hex dump of at most `max_bytes` of `bytes`: offset, 16 bytes in hex, printable ASCII.
    pub fn hex_dump(bytes: &[u8], max_bytes: usize) -> Self {
        let shown = &bytes[..bytes.len().min(max_bytes)];
        let rows = shown
            .chunks(HEX_ROW_BYTES)
            .enumerate()
            .map(|(index, chunk)| hex_row(index * HEX_ROW_BYTES, chunk))
            .collect();
        Self {
            rows,
            shown_bytes: shown.len(),
            total_bytes: bytes.len(),
        }
    }

    /// True when the payload was cut.
    pub fn truncated(&self) -> bool {
        self.shown_bytes < self.total_bytes
    }
}

fn push_wrapped(rows: &mut Vec<String>, line: &str) {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.chars().count() <= WRAP_CHARS {
        rows.push(line.to_owned());
        return;
    }
    let mut row = String::with_capacity(WRAP_CHARS * 2);
    for (count, ch) in line.chars().enumerate() {
        if count > 0 && count % WRAP_CHARS == 0 {
            rows.push(std::mem::take(&mut row));
        }
        row.push(ch);
    }
    rows.push(row);
}

fn hex_row(offset: usize, chunk: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut row = format!("{offset:08x}  ");
    for index in 0..HEX_ROW_BYTES {
        match chunk.get(index) {
            Some(byte) => {
                let _ = write!(row, "{byte:02x} ");
            }
            None => row.push_str("   "),
        }
        if index == 7 {
            row.push(' ');
        }
    }
    row.push_str(" |");
    row.extend(chunk.iter().map(|&byte| {
        if byte.is_ascii_graphic() || byte == b' ' {
            byte as char
        } else {
            '.'
        }
    }));
    row.push('|');
    row
}

/// The parsed JSON of a payload, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonState {
    Parsed(serde_json::Value),
    /// Not JSON (or not valid UTF-8).
    NotJson,
    /// Bigger than [`MAX_JSON_BYTES`].
    TooLarge,
}

/// Everything prepared to show one message; built lazily per view mode and kept while the same
/// message stays selected.
#[derive(Debug)]
pub struct MessageView {
    key: MessageKey,
    format: PayloadFormat,
    payload: bytes::Bytes,
    text: Option<Option<TextLines>>,
    json: Option<JsonState>,
    hex: Option<TextLines>,
}

impl MessageView {
    /// A view of `message`; nothing is computed until a mode asks for it.
    pub fn new(message: &Message) -> Self {
        Self {
            key: MessageKey::of(message),
            format: message.decoded.format,
            payload: message.payload.clone(),
            text: None,
            json: None,
            hex: None,
        }
    }

    /// The message this view shows.
    pub fn key(&self) -> MessageKey {
        self.key
    }

    /// Text rows, or `None` when the payload is not valid UTF-8.
    pub fn text(&mut self) -> Option<&TextLines> {
        let payload = &self.payload;
        self.text
            .get_or_insert_with(|| {
                text_of(payload).map(|text| TextLines::from_text(text, MAX_TEXT_BYTES))
            })
            .as_ref()
    }

    /// Hex rows (always available).
    pub fn hex(&mut self) -> &TextLines {
        let payload = &self.payload;
        self.hex
            .get_or_insert_with(|| TextLines::hex_dump(payload, MAX_HEX_BYTES))
    }

    /// The parsed JSON, parsed on first use.
    pub fn json(&mut self) -> &JsonState {
        let (payload, format) = (&self.payload, self.format);
        self.json.get_or_insert_with(|| parse_json(payload, format))
    }

    /// What is actually shown for the requested `mode`: binary payloads always show hex, and
    /// JSON mode shows text when the payload is not JSON.
    pub fn effective_mode(&mut self, mode: ViewMode) -> ViewMode {
        if self.text().is_none() {
            return ViewMode::Hex;
        }
        if mode == ViewMode::Json && !matches!(self.json(), JsonState::Parsed(_)) {
            return ViewMode::Text;
        }
        mode
    }

    /// Draws the payload in `mode` (after [`Self::effective_mode`] fallbacks).
    pub fn ui(&mut self, ui: &mut egui::Ui, mode: ViewMode, max_height: f32) {
        let effective = self.effective_mode(mode);
        // Say why the chosen mode is not used, except for the everyday case of JSON mode on a
        // payload that is simply not JSON (Influx lines, numbers): text is what the user expects.
        let reason = match (effective, self.json()) {
            (ViewMode::Hex, _) if mode != ViewMode::Hex => {
                Some("Not valid UTF-8: shown as hex.".to_owned())
            }
            (ViewMode::Text, JsonState::TooLarge) if mode == ViewMode::Json => Some(format!(
                "Too large for the JSON tree (over {} MiB): shown as text.",
                MAX_JSON_BYTES >> 20
            )),
            _ => None,
        };
        if let Some(reason) = reason {
            ui.weak(reason);
        }
        match effective {
            ViewMode::Hex => {
                let lines = self.hex();
                lines_ui(ui, "payload_hex", lines, max_height);
                truncation_note(ui, lines);
            }
            ViewMode::Json => {
                if let JsonState::Parsed(value) = self.json() {
                    ScrollArea::both()
                        .id_salt("payload_json")
                        .max_height(max_height)
                        .auto_shrink([false, true])
                        .show(ui, |ui| json_tree_ui(ui, None, value, "$", 0));
                }
            }
            ViewMode::Text => {
                if let Some(lines) = self.text() {
                    lines_ui(ui, "payload_text", lines, max_height);
                    truncation_note(ui, lines);
                }
            }
        }
    }

    /// The payload as text for the diff: pretty-printed when it is JSON, the hex dump when it is
    /// binary, cut to a bounded size.
    pub fn diff_text(&mut self) -> String {
        if let JsonState::Parsed(value) = self.json()
            && let Ok(pretty) = serde_json::to_string_pretty(value)
        {
            return prefix_at_char_boundary(&pretty, MAX_TEXT_BYTES).to_owned();
        }
        match self.text() {
            Some(text) => text.rows.join("\n"),
            None => self.hex().rows.join("\n"),
        }
    }
}

fn truncation_note(ui: &mut egui::Ui, summary: &TextLines) {
    if summary.truncated() {
        ui.weak(format!(
            "Showing the first {} of {} (copy the payload to see all of it).",
            format_bytes(summary.shown_bytes as u64),
            format_bytes(summary.total_bytes as u64)
        ));
    }
}

fn text_of(payload: &[u8]) -> Option<&str> {
    match std::str::from_utf8(payload) {
        Ok(text) => Some(text),
        // A payload cut mid-character by a size limit upstream is still text.
        Err(error) if error.error_len().is_none() && error.valid_up_to() > 0 => {
            std::str::from_utf8(&payload[..error.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

fn parse_json(payload: &[u8], format: PayloadFormat) -> JsonState {
    if payload.len() > MAX_JSON_BYTES {
        return JsonState::TooLarge;
    }
    let looks_like_json = matches!(
        format,
        PayloadFormat::Json | PayloadFormat::Meta | PayloadFormat::Swop
    ) || payload
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| matches!(byte, b'{' | b'['));
    if !looks_like_json {
        return JsonState::NotJson;
    }
    match serde_json::from_slice(payload) {
        Ok(value) => JsonState::Parsed(value),
        Err(_) => JsonState::NotJson,
    }
}

/// Monospace rows in a scroll area; only the rows on screen are laid out.
pub fn lines_ui(ui: &mut egui::Ui, id_salt: &str, lines: &TextLines, max_height: f32) {
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    ScrollArea::both()
        .id_salt(id_salt)
        .max_height(max_height)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, lines.rows.len(), |ui, range| {
            for row in &lines.rows[range] {
                ui.add(egui::Label::new(RichText::new(row).monospace()).extend());
            }
        });
}

fn json_tree_ui(
    ui: &mut egui::Ui,
    key: Option<&str>,
    value: &serde_json::Value,
    path: &str,
    depth: usize,
) {
    use serde_json::Value;
    let palette = Palette::for_ui(ui);
    match value {
        Value::Object(map) => {
            let header = container_header(key, "{…}", map.len(), "key");
            CollapsingHeader::new(header)
                .id_salt(path)
                .default_open(depth < 2)
                .show(ui, |ui| {
                    for (child_key, child) in map.iter().take(MAX_JSON_CHILDREN) {
                        let child_path = format!("{path}.{child_key}");
                        json_tree_ui(ui, Some(child_key), child, &child_path, depth + 1);
                    }
                    more_note(ui, map.len());
                });
        }
        Value::Array(items) => {
            let header = container_header(key, "[…]", items.len(), "item");
            CollapsingHeader::new(header)
                .id_salt(path)
                .default_open(depth < 2)
                .show(ui, |ui| {
                    for (index, child) in items.iter().enumerate().take(MAX_JSON_CHILDREN) {
                        let child_key = format!("[{index}]");
                        let child_path = format!("{path}{child_key}");
                        json_tree_ui(ui, Some(&child_key), child, &child_path, depth + 1);
                    }
                    more_note(ui, items.len());
                });
        }
        leaf => {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                if let Some(key) = key {
                    ui.label(RichText::new(key).monospace().color(palette.json_key));
                    ui.label(RichText::new(": ").monospace());
                }
                let (text, colour) = match leaf {
                    Value::String(text) => (quoted(text), palette.json_string),
                    Value::Number(number) => (number.to_string(), palette.json_number),
                    Value::Bool(flag) => (flag.to_string(), palette.json_literal),
                    _ => ("null".to_owned(), palette.json_literal),
                };
                ui.label(RichText::new(text).monospace().color(colour));
            });
        }
    }
}

fn container_header(key: Option<&str>, brackets: &str, len: usize, noun: &str) -> String {
    let plural = if len == 1 { "" } else { "s" };
    match key {
        Some(key) => format!("{key}: {brackets} {len} {noun}{plural}"),
        None => format!("{brackets} {len} {noun}{plural}"),
    }
}

fn more_note(ui: &mut egui::Ui, len: usize) {
    if len > MAX_JSON_CHILDREN {
        ui.weak(format!(
            "… and {} more (see the Text view)",
            len - MAX_JSON_CHILDREN
        ));
    }
}

fn quoted(text: &str) -> String {
    let mut shown: String = text.chars().take(MAX_JSON_STRING_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// A stable hash of a message key, for widget ids.
pub fn key_hash(key: MessageKey) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topic::qos::Qos;

    fn message(payload: &'static [u8]) -> Message {
        Message::new(
            "t".into(),
            bytes::Bytes::from_static(payload),
            Qos::AtMostOnce,
            false,
            1,
        )
    }

    #[test]
    fn invalid_utf8_is_shown_as_hex_whatever_mode_was_chosen() {
        let mut view = MessageView::new(&message(&[0xff, 0xfe, 0x00, 0x41]));
        assert_eq!(view.effective_mode(ViewMode::Text), ViewMode::Hex);
        assert_eq!(view.effective_mode(ViewMode::Json), ViewMode::Hex);
        let row = &view.hex().rows[0];
        assert!(row.starts_with("00000000  ff fe 00 41 "), "{row}");
        assert!(row.ends_with(" |...A|"), "{row}");
    }

    #[test]
    fn json_mode_falls_back_to_text_for_non_json() {
        let mut view = MessageView::new(&message(b"temp value=21.5"));
        assert_eq!(view.effective_mode(ViewMode::Json), ViewMode::Text);
        assert_eq!(view.effective_mode(ViewMode::Hex), ViewMode::Hex);
    }

    #[test]
    fn json_payloads_parse_once_into_a_tree() {
        let mut view = MessageView::new(&message(br#"{"a": {"b": [1, 2]}}"#));
        assert_eq!(view.effective_mode(ViewMode::Json), ViewMode::Json);
        assert!(matches!(view.json(), JsonState::Parsed(_)));
        assert!(view.diff_text().contains("\"b\": ["));
    }

    #[test]
    fn big_text_is_cut_to_the_display_limit() {
        let text = "x".repeat(MAX_TEXT_BYTES * 2);
        let lines = TextLines::from_text(&text, MAX_TEXT_BYTES);
        assert!(lines.truncated());
        assert_eq!(lines.shown_bytes, MAX_TEXT_BYTES);
        assert!(
            lines
                .rows
                .iter()
                .all(|row| row.chars().count() <= WRAP_CHARS)
        );
    }

    #[test]
    fn hex_dump_rows_hold_sixteen_bytes_each() {
        let bytes: Vec<u8> = (0..40).collect();
        let lines = TextLines::hex_dump(&bytes, MAX_HEX_BYTES);
        assert_eq!(lines.rows.len(), 3);
        assert!(lines.rows[1].starts_with("00000010  10 11"));
        assert!(!lines.truncated());
    }

    #[test]
    fn message_keys_tell_messages_apart() {
        let first = message(b"1");
        let second = Message::new(
            "t".into(),
            bytes::Bytes::from(b"1".to_vec()),
            Qos::AtMostOnce,
            false,
            1,
        );
        assert_eq!(MessageKey::of(&first), MessageKey::of(&first.clone()));
        assert_ne!(MessageKey::of(&first), MessageKey::of(&second));
    }
}
