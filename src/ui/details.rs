//! The details panel: everything about the selected topic — path, the shown message's metadata,
//! its numbers (with "Add to plot"), the payload as text/JSON/hex, the topic's recent history
//! and a diff against the message before it.

use egui::{Grid, RichText, ScrollArea};

use crate::model::decode::message::Message;
use crate::model::decode::payload::ValueKey;
use crate::model::store::{Store, TopicState};
use crate::model::time::Nanos;
use crate::model::topic::tree::NodeId;

use super::action::UiAction;
use super::datapoint_view::{datapoint_details_ui, hierarchy_details_ui, units_of, with_units};
use super::diff::{DiffLine, LineChange, diff_lines, is_unchanged};
use super::payload_view::{MessageKey, MessageView, ViewMode};
use super::theme::Palette;
use crate::ui::format::{format_age, format_bytes, format_count, format_timestamp_local};

/// Height of the history list and the diff, in points.
const LIST_HEIGHT: f32 = 160.0;

/// The diff of one message against the one before it, kept while both stay the same.
#[derive(Debug)]
struct DiffCache {
    newer: MessageKey,
    older: MessageKey,
    lines: Vec<DiffLine>,
}

/// The details panel.
#[derive(Debug, Default)]
pub struct DetailsPanel {
    /// How payloads are shown (persisted by the app).
    pub mode: ViewMode,
    /// The node shown last frame; a new selection resets the history choice.
    shown_node: Option<NodeId>,
    /// A message picked from the history; `None` follows the latest.
    picked: Option<MessageKey>,
    view: Option<MessageView>,
    older_view: Option<MessageView>,
    diff: Option<DiffCache>,
}

impl DetailsPanel {
    /// A panel showing payloads in `mode`.
    pub fn new(mode: ViewMode) -> Self {
        Self {
            mode,
            ..Self::default()
        }
    }

    /// Draws the details of `selected`; pushes what the user asked for to `actions`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        selected: Option<NodeId>,
        now_nanos: Nanos,
        actions: &mut Vec<UiAction>,
    ) {
        if self.shown_node != selected {
            self.shown_node = selected;
            self.picked = None;
        }
        let Some(node) =
            selected.filter(|node| *node != NodeId::ROOT && (node.0 as usize) < store.tree().len())
        else {
            ui.weak("Select a topic in the tree to see its messages.");
            return;
        };
        let path = store.tree().path(node);
        ScrollArea::vertical()
            .id_salt("details_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                path_ui(ui, &path);
                match store.topic(node) {
                    Some(topic) => self.topic_ui(ui, store, node, topic, now_nanos, actions),
                    None => {
                        inner_node_ui(ui, store, node);
                        hierarchy_details_ui(ui, store, node);
                    }
                }
            });
    }

    fn topic_ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        node: NodeId,
        topic: &TopicState,
        now_nanos: Nanos,
        actions: &mut Vec<UiAction>,
    ) {
        let history: Vec<&Message> = topic.history.iter_newest_first().collect();
        let picked_index = self.picked.and_then(|key| {
            history
                .iter()
                .position(|message| MessageKey::of(message) == key)
        });
        if picked_index.is_none() {
            self.picked = None;
        }
        let index = picked_index.unwrap_or(0);
        let Some(message) = history.get(index).copied() else {
            evicted_topic_ui(ui, store, node, topic, now_nanos, actions);
            return;
        };
        let older = history.get(index + 1).copied();

        if picked_index.is_some() {
            ui.horizontal(|ui| {
                ui.label(format!("Message {} of {} kept", index + 1, history.len()));
                if ui.button("Back to latest").clicked() {
                    self.picked = None;
                }
            });
        }
        metadata_ui(ui, message, topic.message_count, now_nanos);
        write_actions_ui(ui, store, node, actions);
        datapoint_details_ui(ui, store, node, now_nanos);
        if let Some(problem) = message.decoded.problem() {
            ui.colored_label(Palette::for_ui(ui).warning, problem);
        }
        values_ui(ui, store, node, message, actions);
        ui.separator();
        self.payload_ui(ui, message);
        ui.separator();
        self.history_ui(ui, &history, index);
        self.diff_ui(ui, message, older);
    }

    fn payload_ui(&mut self, ui: &mut egui::Ui, message: &Message) {
        let key = MessageKey::of(message);
        if self.view.as_ref().is_none_or(|view| view.key() != key) {
            self.view = Some(MessageView::new(message));
        }
        let Some(view) = self.view.as_mut() else {
            return;
        };
        ui.horizontal(|ui| {
            ui.strong("Payload");
            // The highlighted mode is the one shown: JSON chosen for an Influx line shows text,
            // and saying "JSON" there would be wrong. The choice itself is kept for the next
            // payload that is JSON.
            let shown = view.effective_mode(self.mode);
            for mode in ViewMode::ALL {
                let possible = view.effective_mode(mode) == mode;
                let button = ui
                    .add_enabled(
                        possible,
                        egui::Button::selectable(shown == mode, mode.label()),
                    )
                    .on_disabled_hover_text(unavailable_reason(mode));
                if button.clicked() {
                    self.mode = mode;
                }
            }
            if ui.button("Copy payload").clicked() {
                let text = match std::str::from_utf8(&message.payload) {
                    Ok(text) => text.to_owned(),
                    Err(_) => view.hex().rows.join("\n"),
                };
                ui.ctx().copy_text(text);
            }
        });
        let max_height = (ui.ctx().content_rect().height() * 0.4).max(120.0);
        view.ui(ui, self.mode, max_height);
    }

    fn history_ui(&mut self, ui: &mut egui::Ui, history: &[&Message], shown_index: usize) {
        egui::CollapsingHeader::new(format!("History ({} kept, newest first)", history.len()))
            .id_salt("details_history")
            .default_open(true)
            .show(ui, |ui| {
                let row_height = ui.spacing().interact_size.y;
                ScrollArea::vertical()
                    .id_salt("details_history_rows")
                    .max_height(LIST_HEIGHT)
                    .auto_shrink([false, true])
                    .show_rows(ui, row_height, history.len(), |ui, range| {
                        for index in range {
                            let message = history[index];
                            let text = format!(
                                "{}  {}  {}",
                                format_timestamp_local(message.received_at_nanos),
                                format_bytes(message.payload.len() as u64),
                                message.decoded.preview
                            );
                            let label = egui::Button::selectable(
                                index == shown_index,
                                RichText::new(text).monospace(),
                            );
                            if ui.add(label).clicked() {
                                self.picked = (index > 0).then(|| MessageKey::of(message));
                            }
                        }
                    });
            });
    }

    fn diff_ui(&mut self, ui: &mut egui::Ui, message: &Message, older: Option<&Message>) {
        egui::CollapsingHeader::new("Changes from the previous message")
            .id_salt("details_diff")
            .default_open(true)
            .show(ui, |ui| {
                let Some(older) = older else {
                    ui.weak("No earlier message kept for this topic.");
                    return;
                };
                let lines = self.diff_of(message, older);
                if is_unchanged(lines) {
                    ui.weak("Same payload as the previous message.");
                    return;
                }
                diff_lines_ui(ui, lines);
            });
    }

    fn diff_of(&mut self, newer: &Message, older: &Message) -> &[DiffLine] {
        let (newer_key, older_key) = (MessageKey::of(newer), MessageKey::of(older));
        let fresh = self
            .diff
            .as_ref()
            .is_some_and(|diff| diff.newer == newer_key && diff.older == older_key);
        if !fresh {
            let new_text = match self.view.as_mut().filter(|view| view.key() == newer_key) {
                Some(view) => view.diff_text(),
                None => MessageView::new(newer).diff_text(),
            };
            if self
                .older_view
                .as_ref()
                .is_none_or(|view| view.key() != older_key)
            {
                self.older_view = Some(MessageView::new(older));
            }
            let old_text = self
                .older_view
                .as_mut()
                .map(MessageView::diff_text)
                .unwrap_or_default();
            self.diff = Some(DiffCache {
                newer: newer_key,
                older: older_key,
                lines: diff_lines(&old_text, &new_text),
            });
        }
        self.diff.as_ref().map_or(&[], |diff| diff.lines.as_slice())
    }
}

/// Publish to this topic; clear its retained message when it is known to hold one.
fn write_actions_ui(ui: &mut egui::Ui, store: &Store, node: NodeId, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        if ui.small_button("Publish to this topic…").clicked() {
            actions.push(UiAction::OpenPublish(Some(store.tree().path(node))));
        }
        if crate::model::write::retained::is_known_retained(store, node)
            && ui
                .small_button("Clear retained…")
                .on_hover_text("Delete this topic's retained message on the broker (asks first)")
                .clicked()
        {
            actions.push(UiAction::ClearRetained(node));
        }
    });
}

fn path_ui(ui: &mut egui::Ui, path: &str) {
    ui.horizontal(|ui| {
        if ui
            .button("Copy path")
            .on_hover_text("Copy the full topic path")
            .clicked()
        {
            ui.ctx().copy_text(path.to_owned());
        }
        ui.add(egui::Label::new(RichText::new(path).monospace().strong()).wrap());
    });
}

fn inner_node_ui(ui: &mut egui::Ui, store: &Store, node: NodeId) {
    let tree_node = store.tree().node(node);
    ui.label(format!(
        "No message on this exact topic. Below it: {} topics, {} messages, {} direct sub-levels.",
        format_count(u64::from(tree_node.subtree_topics)),
        format_count(tree_node.subtree_messages),
        store.tree().children(node).len()
    ));
}

/// A topic whose latest message the memory budget evicted: what happened and what is still
/// known (counts, time, datapoint, write actions), instead of an empty payload.
fn evicted_topic_ui(
    ui: &mut egui::Ui,
    store: &Store,
    node: NodeId,
    topic: &TopicState,
    now_nanos: Nanos,
    actions: &mut Vec<UiAction>,
) {
    if topic.latest_evicted() {
        ui.colored_label(Palette::for_ui(ui).warning, EVICTED_TOPIC_TEXT);
    } else {
        ui.weak("No message kept for this topic.");
    }
    Grid::new("details_evicted_metadata")
        .num_columns(2)
        .spacing([16.0, 2.0])
        .show(ui, |ui| {
            ui.label("Last received");
            ui.label(format!(
                "{} ({})",
                format_timestamp_local(topic.changed_at_nanos),
                format_age(now_nanos - topic.changed_at_nanos)
            ));
            ui.end_row();
            ui.label("Messages");
            ui.label(format_count(topic.message_count));
            ui.end_row();
        });
    write_actions_ui(ui, store, node, actions);
    datapoint_details_ui(ui, store, node, now_nanos);
}

/// Said in the details panel instead of the payload of a topic whose latest message was evicted.
const EVICTED_TOPIC_TEXT: &str = "The latest message of this topic was removed to stay within the memory budget (topics updated least recently go first). The topic, its message count and its plots are kept; the next message on this topic will be shown here. Raise the memory budget in the settings to keep more.";

fn metadata_ui(ui: &mut egui::Ui, message: &Message, message_count: u64, now_nanos: Nanos) {
    let palette = Palette::for_ui(ui);
    Grid::new("details_metadata")
        .num_columns(2)
        .spacing([16.0, 2.0])
        .show(ui, |ui| {
            ui.label("Received");
            ui.label(format!(
                "{} ({})",
                format_timestamp_local(message.received_at_nanos),
                format_age(now_nanos - message.received_at_nanos)
            ));
            ui.end_row();
            ui.label("QoS");
            ui.label(message.qos.level().to_string());
            ui.end_row();
            ui.label("Retained");
            if message.retained {
                ui.colored_label(
                    palette.retained,
                    "yes (the broker kept it for new subscribers)",
                );
            } else {
                ui.label("no");
            }
            ui.end_row();
            ui.label("Size");
            ui.label(format_bytes(message.payload.len() as u64));
            ui.end_row();
            ui.label("Format");
            ui.label(format!("{:?}", message.decoded.format));
            ui.end_row();
            ui.label("Messages");
            ui.label(format_count(message_count));
            ui.end_row();
        });
}

fn values_ui(
    ui: &mut egui::Ui,
    store: &Store,
    node: NodeId,
    message: &Message,
    actions: &mut Vec<UiAction>,
) {
    if message.decoded.values.is_empty() {
        return;
    }
    ui.separator();
    ui.strong("Values");
    Grid::new("details_values")
        .num_columns(3)
        .spacing([16.0, 2.0])
        .striped(true)
        .show(ui, |ui| {
            for value in &message.decoded.values {
                ui.label(RichText::new(value_key_label(&value.key)).monospace());
                let units = units_of(store, node, &value.key);
                ui.label(RichText::new(with_units(&format_value(value.value), units)).monospace());
                if store.find_series(node, &value.key).is_some() {
                    ui.add_enabled(false, egui::Button::new("Plotted"));
                } else if ui.button("Add to plot").clicked() {
                    actions.push(UiAction::AddSeries {
                        node,
                        key: value.key.clone(),
                    });
                }
                ui.end_row();
            }
        });
}

/// How a value's key reads in the details and the legend.
pub fn value_key_label(key: &ValueKey) -> String {
    match key {
        ValueKey::Whole => "value".to_owned(),
        ValueKey::JsonPath(path) => path.to_string(),
        ValueKey::InfluxField { measurement, field } => format!("{measurement} {field}"),
    }
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

fn diff_lines_ui(ui: &mut egui::Ui, lines: &[DiffLine]) {
    let palette = Palette::for_ui(ui);
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    ScrollArea::both()
        .id_salt("details_diff_rows")
        .max_height(LIST_HEIGHT)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, lines.len(), |ui, range| {
            for line in &lines[range] {
                let (mark, background) = match line.change {
                    LineChange::Same => (' ', None),
                    LineChange::Added => ('+', Some(palette.diff_added)),
                    LineChange::Removed => ('-', Some(palette.diff_removed)),
                };
                let mut text = RichText::new(format!("{mark} {}", line.text)).monospace();
                if let Some(background) = background {
                    text = text.background_color(background);
                }
                ui.add(egui::Label::new(text).extend());
            }
        });
}

/// Why a payload view mode is greyed out for the shown payload.
fn unavailable_reason(mode: ViewMode) -> &'static str {
    match mode {
        ViewMode::Json => "This payload is not JSON.",
        ViewMode::Text | ViewMode::Hex => "This payload is not valid UTF-8 text.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_keys_read_naturally() {
        assert_eq!(value_key_label(&ValueKey::Whole), "value");
        assert_eq!(
            value_key_label(&ValueKey::JsonPath("a.b[2]".into())),
            "a.b[2]"
        );
        let influx = ValueKey::InfluxField {
            measurement: "RoomTemp".into(),
            field: "value".into(),
        };
        assert_eq!(value_key_label(&influx), "RoomTemp value");
    }

    #[test]
    fn whole_numbers_print_without_a_fraction() {
        assert_eq!(format_value(21.0), "21");
        assert_eq!(format_value(21.5), "21.5");
        assert_eq!(format_value(1e20), "100000000000000000000");
    }
}
