//! The publish panel: compose a message (topic with completion from the tree, payload as text,
//! JSON or hex, QoS, retain; Ctrl+Enter sends), see its outcome, re-send from the history, save
//! and run templates (with a bounded generator and a visible Stop), and build Influx lines for
//! aedifion ingestion. It returns [`PublishIntent`]s; the write desk sends them through the gate.

use egui::{Key, Modifiers, RichText};

use crate::model::aedifion::hash_id::hash_id;
use crate::model::aedifion::project::AedifionProject;
use crate::model::decode::influx::{FieldValue, write_line};
use crate::model::store::Store;
use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;
use crate::model::write::publish::{
    PayloadMode, PublishOutcome, PublishRequest, SentMessage, payload_bytes, pretty_json, to_hex,
};
use crate::model::write::templates::Template;

use super::theme::Palette;

/// Label of the send button.
pub const SEND: &str = "Send";
/// Topic suggestions shown under the topic field.
const SUGGESTIONS: usize = 8;
/// Hash id length used for the Influx builder's default topic.
const DEFAULT_HASH_LENGTH: usize = 8;

/// What the panel asks the write desk to do.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishIntent {
    /// Send this message.
    Publish(PublishRequest),
    /// The profile's templates changed (save them).
    SaveTemplates(Vec<Template>),
    /// Start re-sending this template every `interval_ms`, `count` times.
    StartGenerator {
        template: Template,
        interval_ms: u64,
        count: u32,
    },
    /// Stop the running generator.
    StopGenerator,
}

/// Which part of the panel is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublishTab {
    #[default]
    Message,
    Templates,
    Influx,
    History,
}

/// What the panel shows besides its own fields.
#[derive(Debug, Clone, Copy)]
pub struct PublishView<'a> {
    /// The profile is read-only: sending is disabled.
    pub read_only: bool,
    /// A worker is connected.
    pub connected: bool,
    /// Sent messages, newest first.
    pub sent: &'a [SentMessage],
    /// The profile's saved templates.
    pub templates: &'a [Template],
    /// The profile's aedifion project, for the Influx builder's topic.
    pub project: Option<&'a AedifionProject>,
    /// The running generator: (sent, remaining).
    pub generator: Option<(u32, u32)>,
    /// Now, for the Influx builder's timestamp.
    pub now_nanos: Nanos,
}

/// The Influx line builder's fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InfluxDraft {
    pub datapoint: String,
    pub value: String,
    /// One `key=value` per line.
    pub tags: String,
    /// Use a chosen timestamp (nanoseconds or RFC 3339) instead of now.
    pub chosen_time: bool,
    pub timestamp: String,
    /// Topic; empty means `<lbg>/<project>/<hash id>`.
    pub topic: String,
}

/// The publish panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPanel {
    pub topic: String,
    pub payload: String,
    pub mode: PayloadMode,
    /// 0, 1 or 2.
    pub qos: u8,
    pub retain: bool,
    pub tab: PublishTab,
    pub influx: InfluxDraft,
    /// Problem with the last attempt (invalid input, refused by the gate).
    pub error: Option<String>,
    /// The publish whose outcome is shown.
    pub last_sent: Option<u64>,
    template_name: String,
    generator_interval_ms: u64,
    generator_count: u32,
}

impl Default for PublishPanel {
    fn default() -> Self {
        Self {
            topic: String::new(),
            payload: String::new(),
            mode: PayloadMode::Text,
            qos: 0,
            retain: false,
            tab: PublishTab::Message,
            influx: InfluxDraft::default(),
            error: None,
            last_sent: None,
            template_name: String::new(),
            generator_interval_ms: 1000,
            generator_count: 10,
        }
    }
}

impl PublishPanel {
    /// The message in the editor, or what is wrong with it.
    pub fn request(&self) -> Result<PublishRequest, String> {
        let payload = payload_bytes(self.mode, &self.payload).map_err(|e| e.to_string())?;
        let request = PublishRequest {
            topic: self.topic.clone(),
            payload,
            qos: Qos::from_level(self.qos).unwrap_or_default(),
            retain: self.retain,
        };
        request.validate().map_err(|error| error.to_string())?;
        Ok(request)
    }

    /// The editor's message as a template.
    pub fn as_template(&self) -> Template {
        Template {
            name: if self.template_name.trim().is_empty() {
                self.topic.clone()
            } else {
                self.template_name.trim().to_owned()
            },
            topic: self.topic.clone(),
            payload: self.payload.clone(),
            mode: self.mode,
            qos: self.qos,
            retain: self.retain,
        }
    }

    /// Draws the panel; returns what the user asked for.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        view: &PublishView<'_>,
    ) -> Vec<PublishIntent> {
        let mut intents = Vec::new();
        if view.read_only {
            let palette = Palette::for_ui(ui);
            ui.label(
                RichText::new("This profile is read-only: nothing can be published. Turn off \"Read-only\" in the profile editor to write.")
                    .color(palette.warning),
            );
        } else if !view.connected {
            ui.label("Not connected: messages cannot be sent until a connection is up.");
        }
        ui.horizontal(|ui| {
            for (tab, label) in [
                (PublishTab::Message, "Message"),
                (PublishTab::Templates, "Templates"),
                (PublishTab::Influx, "Influx line"),
                (PublishTab::History, "Sent"),
            ] {
                ui.selectable_value(&mut self.tab, tab, label);
            }
        });
        ui.separator();
        match self.tab {
            PublishTab::Message => self.message_ui(ui, store, view, &mut intents),
            PublishTab::Templates => self.templates_ui(ui, view, &mut intents),
            PublishTab::Influx => self.influx_ui(ui, view, &mut intents),
            PublishTab::History => self.history_ui(ui, view, &mut intents),
        }
        if let Some(error) = &self.error {
            let palette = Palette::for_ui(ui);
            ui.label(RichText::new(error).color(palette.status_error));
        }
        intents
    }

    fn send(&mut self, intents: &mut Vec<PublishIntent>) {
        match self.request() {
            Ok(request) => {
                self.error = None;
                intents.push(PublishIntent::Publish(request));
            }
            Err(error) => self.error = Some(error),
        }
    }

    fn message_ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        view: &PublishView<'_>,
        intents: &mut Vec<PublishIntent>,
    ) {
        // Taken before the editor sees it, so Ctrl+Enter sends instead of adding a line.
        let shortcut = ui.input_mut(|input| input.consume_key(Modifiers::COMMAND, Key::Enter));
        ui.horizontal(|ui| {
            let label = ui.label("Topic");
            ui.add(
                egui::TextEdit::singleline(&mut self.topic)
                    .hint_text("building/floor1/room/temperature")
                    .desired_width(420.0),
            )
            .labelled_by(label.id);
        });
        suggestions_ui(ui, store, &mut self.topic);
        let payload_label = ui.horizontal(|ui| {
            let label = ui.label("Payload");
            for mode in PayloadMode::ALL {
                if ui
                    .selectable_label(self.mode == mode, mode.label())
                    .clicked()
                {
                    self.switch_mode(mode);
                }
            }
            if self.mode == PayloadMode::Json && ui.button("Pretty-print").clicked() {
                match pretty_json(&self.payload) {
                    Ok(pretty) => self.payload = pretty,
                    Err(error) => self.error = Some(error.to_string()),
                }
            }
            label.id
        });
        ui.add(
            egui::TextEdit::multiline(&mut self.payload)
                .code_editor()
                .desired_rows(6)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(payload_label.inner);
        if self.mode == PayloadMode::Json
            && let Err(error) = payload_bytes(PayloadMode::Json, &self.payload)
            && !self.payload.trim().is_empty()
        {
            let palette = Palette::for_ui(ui);
            ui.label(RichText::new(error.to_string()).color(palette.status_error));
        }
        ui.horizontal(|ui| {
            ui.label("QoS");
            for level in 0..=2u8 {
                ui.selectable_value(&mut self.qos, level, level.to_string());
            }
            ui.checkbox(&mut self.retain, "Retain");
            let enabled = !view.read_only;
            let button = ui
                .add_enabled(enabled, egui::Button::new(RichText::new(SEND).strong()))
                .on_hover_text("Ctrl+Enter");
            if button.clicked() || (shortcut && enabled) {
                self.send(intents);
            }
        });
        if let Some(id) = self.last_sent
            && let Some(sent) = view.sent.iter().find(|sent| sent.id == id)
        {
            outcome_ui(ui, &sent.outcome);
        }
    }

    /// Converts the editor's text between text and hex so the bytes stay the same.
    fn switch_mode(&mut self, mode: PayloadMode) {
        let bytes = payload_bytes(self.mode, &self.payload).ok();
        match (self.mode, mode, bytes) {
            (PayloadMode::Hex, PayloadMode::Text | PayloadMode::Json, Some(bytes)) => {
                if let Ok(text) = String::from_utf8(bytes) {
                    self.payload = text;
                }
            }
            (PayloadMode::Text | PayloadMode::Json, PayloadMode::Hex, Some(bytes)) => {
                self.payload = to_hex(&bytes);
            }
            _ => {}
        }
        self.mode = mode;
    }

    fn templates_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &PublishView<'_>,
        intents: &mut Vec<PublishIntent>,
    ) {
        ui.label("Variables: {{now_ns}} {{now_iso}} {{uuid}} {{random}} {{counter}}");
        ui.horizontal(|ui| {
            let label = ui.label("Name");
            ui.text_edit_singleline(&mut self.template_name)
                .labelled_by(label.id);
            if ui.button("Save current message as template").clicked() {
                let mut templates = view.templates.to_vec();
                let template = self.as_template();
                templates.retain(|existing| existing.name != template.name);
                templates.push(template);
                intents.push(PublishIntent::SaveTemplates(templates));
            }
        });
        ui.horizontal(|ui| {
            ui.label("Generator: every");
            ui.add(
                egui::DragValue::new(&mut self.generator_interval_ms)
                    .range(10..=3_600_000)
                    .suffix(" ms"),
            );
            ui.label("for");
            ui.add(
                egui::DragValue::new(&mut self.generator_count)
                    .range(1..=100_000)
                    .suffix(" messages"),
            );
        });
        if let Some((sent, remaining)) = view.generator {
            ui.horizontal(|ui| {
                ui.label(format!("Generator running: {sent} sent, {remaining} to go"));
                if ui.button("Stop").clicked() {
                    intents.push(PublishIntent::StopGenerator);
                }
            });
        }
        ui.separator();
        if view.templates.is_empty() {
            ui.label("No templates yet.");
        }
        let mut remove = None;
        for (index, template) in view.templates.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.strong(&template.name);
                ui.monospace(&template.topic);
                if ui.button("Load").clicked() {
                    self.load(template);
                }
                if ui
                    .add_enabled(!view.read_only, egui::Button::new("Send"))
                    .clicked()
                {
                    intents.push(PublishIntent::StartGenerator {
                        template: template.clone(),
                        interval_ms: self.generator_interval_ms,
                        count: 1,
                    });
                }
                let can_run = !view.read_only && view.generator.is_none();
                if ui
                    .add_enabled(can_run, egui::Button::new("Run generator"))
                    .clicked()
                {
                    intents.push(PublishIntent::StartGenerator {
                        template: template.clone(),
                        interval_ms: self.generator_interval_ms,
                        count: self.generator_count,
                    });
                }
                if ui.button("Delete").clicked() {
                    remove = Some(index);
                }
            });
        }
        if let Some(index) = remove {
            let mut templates = view.templates.to_vec();
            templates.remove(index);
            intents.push(PublishIntent::SaveTemplates(templates));
        }
    }

    fn load(&mut self, template: &Template) {
        self.topic = template.topic.clone();
        self.payload = template.payload.clone();
        self.mode = template.mode;
        self.qos = template.qos.min(2);
        self.retain = template.retain;
        self.template_name = template.name.clone();
        self.tab = PublishTab::Message;
    }

    fn influx_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &PublishView<'_>,
        intents: &mut Vec<PublishIntent>,
    ) {
        let draft = &mut self.influx;
        egui::Grid::new("influx_builder")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Datapoint");
                ui.text_edit_singleline(&mut draft.datapoint);
                ui.end_row();
                ui.label("Value");
                ui.text_edit_singleline(&mut draft.value);
                ui.end_row();
                ui.label("Tags (key=value per line)");
                ui.add(egui::TextEdit::multiline(&mut draft.tags).desired_rows(2));
                ui.end_row();
                ui.label("Timestamp");
                ui.horizontal(|ui| {
                    ui.checkbox(&mut draft.chosen_time, "chosen:");
                    ui.add_enabled(
                        draft.chosen_time,
                        egui::TextEdit::singleline(&mut draft.timestamp)
                            .hint_text("ns or 2026-11-26T08:00:00Z"),
                    );
                    if !draft.chosen_time {
                        ui.label("now");
                    }
                });
                ui.end_row();
                ui.label("Topic");
                ui.add(
                    egui::TextEdit::singleline(&mut draft.topic)
                        .hint_text(default_influx_topic(view.project, &draft.datapoint)),
                );
                ui.end_row();
            });
        let built = influx_message(draft, view.project, view.now_nanos);
        match &built {
            Ok((topic, line)) => {
                ui.label(format!("→ {topic}"));
                ui.monospace(line);
            }
            Err(error) => {
                let palette = Palette::for_ui(ui);
                ui.label(RichText::new(error).color(palette.status_error));
            }
        }
        ui.horizontal(|ui| {
            if ui
                .add(egui::Button::new("Copy to message editor"))
                .clicked()
                && let Ok((topic, line)) = &built
            {
                self.topic = topic.clone();
                self.payload = line.clone();
                self.mode = PayloadMode::Text;
                self.tab = PublishTab::Message;
            }
            let can_send = !view.read_only && built.is_ok();
            if ui
                .add_enabled(can_send, egui::Button::new("Publish line"))
                .clicked()
                && let Ok((topic, line)) = built
            {
                intents.push(PublishIntent::Publish(PublishRequest {
                    topic,
                    payload: line.into_bytes(),
                    qos: Qos::AtLeastOnce,
                    retain: false,
                }));
            }
        });
    }

    fn history_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &PublishView<'_>,
        intents: &mut Vec<PublishIntent>,
    ) {
        if view.sent.is_empty() {
            ui.label("Nothing sent yet.");
            return;
        }
        egui::ScrollArea::vertical()
            .max_height(360.0)
            .show(ui, |ui| {
                egui::Grid::new("sent_history")
                    .striped(true)
                    .num_columns(6)
                    .show(ui, |ui| {
                        for header in ["Time", "Topic", "Payload", "QoS", "Retain", "Result"] {
                            ui.strong(header);
                        }
                        ui.label("");
                        ui.end_row();
                        for sent in view.sent {
                            ui.label(crate::model::write::audit::format_time(sent.sent_at_nanos));
                            ui.monospace(&sent.request.topic);
                            ui.monospace(preview(&sent.request.payload));
                            ui.label(sent.request.qos.level().to_string());
                            ui.label(if sent.request.retain { "yes" } else { "no" });
                            ui.label(sent.outcome.label());
                            if ui
                                .add_enabled(!view.read_only, egui::Button::new("Re-send"))
                                .clicked()
                            {
                                intents.push(PublishIntent::Publish(sent.request.clone()));
                            }
                            ui.end_row();
                        }
                    });
            });
    }
}

/// Up to 60 characters of a payload for lists.
fn preview(payload: &[u8]) -> String {
    match std::str::from_utf8(payload) {
        Ok(text) => {
            let mut short: String = text.chars().take(60).collect();
            if short.len() < text.len() {
                short.push('…');
            }
            short
        }
        Err(_) => to_hex(&payload[..payload.len().min(20)]),
    }
}

fn outcome_ui(ui: &mut egui::Ui, outcome: &PublishOutcome) {
    let palette = Palette::for_ui(ui);
    let colour = match outcome {
        PublishOutcome::Requested => palette.status_busy,
        outcome if outcome.is_success() => palette.status_ok,
        _ => palette.status_error,
    };
    ui.label(RichText::new(format!("Last message: {}", outcome.label())).color(colour));
}

/// Up to [`SUGGESTIONS`] known topics continuing what is typed (children of the typed prefix).
pub fn topic_suggestions(store: &Store, typed: &str) -> Vec<String> {
    let tree = store.tree();
    let (parent_path, partial) = match typed.rfind('/') {
        Some(slash) => (&typed[..slash], &typed[slash + 1..]),
        None => ("", typed),
    };
    let parent = if parent_path.is_empty() && !typed.contains('/') {
        Some(crate::model::topic::tree::NodeId::ROOT)
    } else {
        tree.find(parent_path)
    };
    let Some(parent) = parent else {
        return Vec::new();
    };
    tree.children(parent)
        .filter(|&child| tree.node(child).name.starts_with(partial))
        .take(SUGGESTIONS)
        .map(|child| {
            // A level with levels below continues with a slash, so the next click goes deeper.
            let mut path = tree.path(child);
            if tree.node(child).has_children() {
                path.push('/');
            }
            path
        })
        .filter(|path| path != typed)
        .collect()
}

fn suggestions_ui(ui: &mut egui::Ui, store: &Store, topic: &mut String) {
    let suggestions = topic_suggestions(store, topic);
    if suggestions.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak("Known:");
        for suggestion in suggestions {
            if ui.small_button(&suggestion).clicked() {
                *topic = suggestion;
            }
        }
    });
}

/// `<lbg>/<project>/<hash id of the datapoint>`, or a hint when no project is set.
pub fn default_influx_topic(project: Option<&AedifionProject>, datapoint: &str) -> String {
    match project {
        Some(project) if !datapoint.is_empty() => {
            format!("{project}/{}", hash_id(datapoint, DEFAULT_HASH_LENGTH))
        }
        Some(project) => format!("{project}/<hash id>"),
        None => "set the profile's aedifion project, or type a topic".to_owned(),
    }
}

/// The topic and escaped line for the builder's fields.
pub fn influx_message(
    draft: &InfluxDraft,
    project: Option<&AedifionProject>,
    now_nanos: Nanos,
) -> Result<(String, String), String> {
    let value = draft.value.trim();
    let field = if let Ok(number) = value.parse::<f64>() {
        FieldValue::Float(number)
    } else {
        match value {
            "true" => FieldValue::Boolean(true),
            "false" => FieldValue::Boolean(false),
            "" => return Err("Type a value (a number for aedifion).".to_owned()),
            text => FieldValue::String(text.to_owned()),
        }
    };
    let mut tags = Vec::new();
    for line in draft
        .tags
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
    {
        let (key, tag_value) = line
            .split_once('=')
            .ok_or_else(|| format!("Tag \"{line}\" is not key=value."))?;
        tags.push((key.trim().to_owned(), tag_value.trim().to_owned()));
    }
    let timestamp = if draft.chosen_time {
        parse_timestamp(&draft.timestamp)?
    } else {
        now_nanos
    };
    let line = write_line(
        &draft.datapoint,
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        [("value", &field)],
        Some(timestamp),
    )
    .map_err(|error| error.to_string())?;
    let topic = if draft.topic.trim().is_empty() {
        if project.is_none() || draft.datapoint.is_empty() {
            return Err("Type a topic, or set the profile's aedifion project.".to_owned());
        }
        default_influx_topic(project, &draft.datapoint)
    } else {
        draft.topic.trim().to_owned()
    };
    Ok((topic, line))
}

fn parse_timestamp(text: &str) -> Result<Nanos, String> {
    let text = text.trim();
    if let Ok(nanos) = text.parse::<Nanos>() {
        return Ok(nanos);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|time| time.timestamp_nanos_opt())
        .ok_or_else(|| format!("Timestamp \"{text}\" is neither nanoseconds nor RFC 3339."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::message::Message;
    use crate::model::store::Limits;

    #[test]
    fn the_influx_builder_escapes_and_defaults_the_topic_to_the_hash_id() {
        let project = AedifionProject::parse("lbg01/demo_building");
        let draft = InfluxDraft {
            datapoint: "Room 1,temp".into(),
            value: "21.5".into(),
            tags: "unit=°C\nsite=A B".into(),
            chosen_time: true,
            timestamp: "2023-11-14T22:13:20Z".into(),
            topic: String::new(),
        };
        let (topic, line) = influx_message(&draft, project.as_ref(), 0).unwrap();
        assert_eq!(
            topic,
            format!("lbg01/demo_building/{}", hash_id("Room 1,temp", 8))
        );
        assert_eq!(
            line,
            "Room\\ 1\\,temp,unit=°C,site=A\\ B value=21.5 1700000000000000000"
        );
        let parsed = crate::model::decode::influx::parse_line(&line).unwrap();
        assert_eq!(parsed.measurement, "Room 1,temp");
    }

    #[test]
    fn the_influx_builder_refuses_missing_values_and_topics() {
        let draft = InfluxDraft {
            datapoint: "x".into(),
            ..InfluxDraft::default()
        };
        assert!(influx_message(&draft, None, 1).is_err());
        let with_value = InfluxDraft {
            value: "1".into(),
            ..draft
        };
        assert!(
            influx_message(&with_value, None, 1)
                .unwrap_err()
                .contains("topic")
        );
    }

    #[test]
    fn topic_suggestions_continue_the_typed_level() {
        let mut store = Store::new(Limits::default());
        for topic in ["a/temp", "a/tank", "a/x/y", "b"] {
            store.apply(Message::new(
                topic.into(),
                bytes::Bytes::from_static(b"1"),
                Qos::AtMostOnce,
                false,
                1,
            ));
        }
        assert_eq!(topic_suggestions(&store, "a/t"), ["a/tank", "a/temp"]);
        assert_eq!(topic_suggestions(&store, ""), ["a/", "b"]);
        assert_eq!(
            topic_suggestions(&store, "a/"),
            ["a/tank", "a/temp", "a/x/"]
        );
        assert_eq!(topic_suggestions(&store, "a/x/"), ["a/x/y"]);
        assert!(topic_suggestions(&store, "zz/").is_empty());
    }

    #[test]
    fn switching_between_text_and_hex_keeps_the_bytes() {
        let mut panel = PublishPanel {
            payload: "hi".into(),
            ..PublishPanel::default()
        };
        panel.switch_mode(PayloadMode::Hex);
        assert_eq!(panel.payload, "68 69");
        panel.switch_mode(PayloadMode::Text);
        assert_eq!(panel.payload, "hi");
        panel.topic = "a/#".into();
        assert!(panel.request().unwrap_err().contains("Topic"));
    }
}
