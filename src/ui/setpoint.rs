//! The SWOP composer: a setpoint (NEWSPT) for a datapoint picked from the project's known
//! datapoints (name and hash id), value typed to number / boolean / text, priority 1–16,
//! acknowledge, dry run and a generated reference; field-level messages; and the list of
//! requests this app sent with their states and a re-send that keeps the reference.
//! Schedules (NEWSCHD/UPSCHD/DELSCHD) have a compact form of their own.

use egui::RichText;

use crate::model::aedifion::datapoints::DatapointId;
use crate::model::store::Store;
use crate::model::time::Nanos;
use crate::model::write::setpoint::{
    ComposedWrite, DraftField, FieldError, ScheduleDraft, ScheduleEntryDraft, ScheduleOperation,
    SetpointDraft, ValueKind, new_reference,
};
use crate::model::write::setpoint_tracker::{RequestState, TrackedRequest};

use super::theme::Palette;

/// Label of the button that opens the confirmation.
pub const REVIEW: &str = "Review and send…";

/// What the composer asks the write desk to do.
#[derive(Debug, Clone, PartialEq)]
pub enum SetpointIntent {
    /// Ask for confirmation, then send this.
    Send(ComposedWrite),
    /// Send the request with this reference again (same payload).
    Resend(String),
}

/// A known datapoint of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDatapoint {
    pub name: String,
    pub hash_id: Option<String>,
    pub units: Option<String>,
}

/// The datapoints the store knows for `project` (`lbg/handle`), sorted by name.
pub fn known_datapoints(store: &Store, project: &str) -> Vec<KnownDatapoint> {
    let registry = store.datapoints();
    let Some((project_id, _)) = registry.projects().find(|(_, candidate)| {
        format!(
            "{}/{}",
            candidate.load_balancing_group, candidate.project_handle
        ) == project.trim()
    }) else {
        return Vec::new();
    };
    let mut known: Vec<KnownDatapoint> = (0..registry.len())
        .filter_map(|index| registry.datapoint(DatapointId(u32::try_from(index).ok()?)))
        .filter(|datapoint| datapoint.project == project_id)
        .map(|datapoint| KnownDatapoint {
            name: datapoint.name.to_string(),
            hash_id: datapoint.hash_id(store.tree()).map(str::to_owned),
            units: datapoint.units().map(str::to_owned),
        })
        .collect();
    known.sort_by(|a, b| a.name.cmp(&b.name));
    known
}

/// Which form is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComposerTab {
    #[default]
    Setpoint,
    Schedule,
    Requests,
}

/// The composer window's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetpointPanel {
    pub draft: SetpointDraft,
    pub schedule: ScheduleDraft,
    pub tab: ComposerTab,
    /// Filter for the datapoint picker.
    pub search: String,
    errors: Vec<FieldError>,
}

impl SetpointPanel {
    /// Fills the project from the profile if the field is still empty.
    pub fn default_project(&mut self, project: &str) {
        if self.draft.project.is_empty() {
            self.draft.project = project.to_owned();
        }
        if self.schedule.project.is_empty() {
            self.schedule.project = project.to_owned();
        }
    }

    /// Draws the composer.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        requests: &[&TrackedRequest],
        read_only: bool,
        now_nanos: Nanos,
    ) -> Vec<SetpointIntent> {
        let mut intents = Vec::new();
        if read_only {
            let palette = Palette::for_ui(ui);
            ui.label(
                RichText::new("This profile is read-only: setpoints cannot be written.")
                    .color(palette.warning),
            );
        }
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, ComposerTab::Setpoint, "Setpoint (NEWSPT)");
            ui.selectable_value(&mut self.tab, ComposerTab::Schedule, "Schedule");
            ui.selectable_value(
                &mut self.tab,
                ComposerTab::Requests,
                format!("Requests ({})", requests.len()),
            );
        });
        ui.separator();
        match self.tab {
            ComposerTab::Setpoint => self.setpoint_ui(ui, store, read_only, &mut intents),
            ComposerTab::Schedule => self.schedule_ui(ui, read_only, now_nanos, &mut intents),
            ComposerTab::Requests => requests_ui(ui, requests, read_only, &mut intents),
        }
        intents
    }

    fn field_errors(&self, ui: &mut egui::Ui, field: DraftField) {
        let palette = Palette::for_ui(ui);
        for error in self.errors.iter().filter(|error| error.field == field) {
            ui.label(RichText::new(&error.message).color(palette.status_error));
        }
    }

    fn setpoint_ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        read_only: bool,
        intents: &mut Vec<SetpointIntent>,
    ) {
        let known = known_datapoints(store, &self.draft.project);
        ui.horizontal(|ui| {
            let label = ui.label("Project");
            ui.text_edit_singleline(&mut self.draft.project)
                .labelled_by(label.id);
        });
        self.field_errors(ui, DraftField::Project);
        ui.horizontal(|ui| {
            let label = ui.label("Datapoint");
            ui.add(egui::TextEdit::singleline(&mut self.draft.datapoint).desired_width(420.0))
                .labelled_by(label.id);
        });
        self.field_errors(ui, DraftField::Datapoint);
        datapoint_picker_ui(ui, &known, &mut self.search, &mut self.draft.datapoint);
        ui.horizontal(|ui| {
            let label = ui.label("Value");
            ui.text_edit_singleline(&mut self.draft.value)
                .labelled_by(label.id);
            for kind in ValueKind::ALL {
                ui.selectable_value(&mut self.draft.kind, kind, kind.label());
            }
            if let Some(units) = known
                .iter()
                .find(|datapoint| datapoint.name == self.draft.datapoint)
                .and_then(|datapoint| datapoint.units.as_deref())
            {
                ui.label(units);
            }
        });
        self.field_errors(ui, DraftField::Value);
        ui.horizontal(|ui| {
            let label = ui.label("Priority (1–16)");
            ui.add(egui::TextEdit::singleline(&mut self.draft.priority).desired_width(40.0))
                .labelled_by(label.id);
            ui.checkbox(&mut self.draft.acknowledge, "Acknowledge");
            ui.checkbox(&mut self.draft.dry_run, "Dry run");
        });
        self.field_errors(ui, DraftField::Priority);
        ui.horizontal(|ui| {
            ui.label("Reference");
            ui.monospace(&self.draft.reference);
            if ui.small_button("New").clicked() {
                self.draft.reference = new_reference();
            }
        });
        self.field_errors(ui, DraftField::Reference);
        self.field_errors(ui, DraftField::Message);
        ui.separator();
        if ui
            .add_enabled(!read_only, egui::Button::new(REVIEW))
            .clicked()
        {
            match self.draft.compose() {
                Ok(write) => {
                    self.errors.clear();
                    intents.push(SetpointIntent::Send(write));
                }
                Err(errors) => self.errors = errors,
            }
        }
    }

    /// After a send: a fresh reference, so the next request is not taken for a re-send.
    pub fn sent(&mut self) {
        self.draft.reference = new_reference();
    }

    fn schedule_ui(
        &mut self,
        ui: &mut egui::Ui,
        read_only: bool,
        now_nanos: Nanos,
        intents: &mut Vec<SetpointIntent>,
    ) {
        let schedule = &mut self.schedule;
        ui.horizontal(|ui| {
            for (operation, label) in [
                (ScheduleOperation::Create, "Create (NEWSCHD)"),
                (ScheduleOperation::Update, "Update (UPSCHD)"),
                (ScheduleOperation::Delete, "Delete (DELSCHD)"),
            ] {
                ui.selectable_value(&mut schedule.operation, operation, label);
            }
        });
        ui.label("Field names follow the reference's inferred schedule format.");
        egui::Grid::new("schedule_form")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label("Project");
                ui.text_edit_singleline(&mut schedule.project)
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Reference");
                ui.horizontal(|ui| {
                    ui.text_edit_singleline(&mut schedule.reference)
                        .labelled_by(label.id);
                    if ui.small_button("New").clicked() {
                        schedule.reference = new_reference();
                    }
                });
                ui.end_row();
                if schedule.operation == ScheduleOperation::Create {
                    let label = ui.label("Datapoint");
                    ui.text_edit_singleline(&mut schedule.datapoint)
                        .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("Priority");
                    ui.text_edit_singleline(&mut schedule.priority)
                        .labelled_by(label.id);
                    ui.end_row();
                }
                if schedule.operation != ScheduleOperation::Delete {
                    let label = ui.label("Heartbeat (s)");
                    ui.text_edit_singleline(&mut schedule.heartbeat_secs)
                        .labelled_by(label.id);
                    ui.end_row();
                }
            });
        if schedule.operation != ScheduleOperation::Delete {
            entries_ui(
                ui,
                "Entries (id, start RFC 3339, value or reset)",
                &mut schedule.entries,
            );
        }
        if schedule.operation == ScheduleOperation::Update {
            entries_ui(ui, "Entries to modify", &mut schedule.modify);
            ui.horizontal(|ui| {
                let label = ui.label("Ids to delete (comma-separated)");
                ui.text_edit_singleline(&mut schedule.delete_ids)
                    .labelled_by(label.id);
            });
        }
        for field in [
            DraftField::Project,
            DraftField::Reference,
            DraftField::Datapoint,
            DraftField::Priority,
            DraftField::Heartbeat,
            DraftField::Setpoints,
        ] {
            self.field_errors(ui, field);
        }
        if ui
            .add_enabled(!read_only, egui::Button::new(REVIEW))
            .clicked()
        {
            match self.schedule.compose(now_nanos) {
                Ok(write) => {
                    self.errors.clear();
                    intents.push(SetpointIntent::Send(write));
                }
                Err(errors) => self.errors = errors,
            }
        }
    }
}

fn entries_ui(ui: &mut egui::Ui, title: &str, entries: &mut Vec<ScheduleEntryDraft>) {
    ui.label(title);
    let mut remove = None;
    for (index, entry) in entries.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let label = ui.label("id");
            ui.add(egui::TextEdit::singleline(&mut entry.id).desired_width(40.0))
                .labelled_by(label.id);
            let label = ui.label("start");
            ui.add(egui::TextEdit::singleline(&mut entry.start).desired_width(200.0))
                .labelled_by(label.id);
            let label = ui.label("value");
            ui.add(egui::TextEdit::singleline(&mut entry.value).desired_width(80.0))
                .labelled_by(label.id);
            if ui.small_button("Remove").clicked() {
                remove = Some(index);
            }
        });
    }
    if let Some(index) = remove {
        entries.remove(index);
    }
    if ui.small_button("Add entry").clicked() {
        entries.push(ScheduleEntryDraft {
            id: entries.len().to_string(),
            ..ScheduleEntryDraft::default()
        });
    }
}

fn datapoint_picker_ui(
    ui: &mut egui::Ui,
    known: &[KnownDatapoint],
    search: &mut String,
    datapoint: &mut String,
) {
    if known.is_empty() {
        ui.weak("No datapoints of this project seen yet; type the name.");
        return;
    }
    ui.horizontal(|ui| {
        let label = ui.label(format!("Known datapoints ({}) — filter", known.len()));
        ui.text_edit_singleline(search).labelled_by(label.id);
    });
    let needle = search.to_lowercase();
    egui::ScrollArea::vertical()
        .id_salt("datapoint_picker")
        .max_height(140.0)
        .show(ui, |ui| {
            for candidate in known
                .iter()
                .filter(|candidate| candidate.name.to_lowercase().contains(&needle))
                .take(200)
            {
                let label = format!(
                    "{}  {}",
                    candidate.name,
                    candidate.hash_id.as_deref().unwrap_or("")
                );
                if ui
                    .selectable_label(*datapoint == candidate.name, label)
                    .clicked()
                {
                    *datapoint = candidate.name.clone();
                }
            }
        });
}

fn requests_ui(
    ui: &mut egui::Ui,
    requests: &[&TrackedRequest],
    read_only: bool,
    intents: &mut Vec<SetpointIntent>,
) {
    if requests.is_empty() {
        ui.label("No requests sent from this app yet.");
        return;
    }
    let palette = Palette::for_ui(ui);
    egui::ScrollArea::vertical()
        .max_height(360.0)
        .show(ui, |ui| {
            egui::Grid::new("tracked_requests")
                .striped(true)
                .num_columns(7)
                .show(ui, |ui| {
                    for header in ["Sent", "Type", "Datapoint", "Value", "Prio", "State", ""] {
                        ui.strong(header);
                    }
                    ui.end_row();
                    for request in requests {
                        ui.label(crate::model::write::audit::format_time(
                            request.sent_at_nanos,
                        ));
                        ui.label(request.message_type);
                        ui.monospace(&request.datapoint)
                            .on_hover_text(&request.reference);
                        ui.monospace(&request.value);
                        ui.label(request.priority.to_string());
                        let colour = match request.state {
                            RequestState::Written
                            | RequestState::Validated
                            | RequestState::Accepted => palette.status_ok,
                            RequestState::Requested => palette.status_busy,
                            RequestState::Failed | RequestState::Timeout => palette.status_error,
                        };
                        let mut state = request.state.as_str().to_owned();
                        if request.attempts > 1 {
                            state.push_str(&format!(" (sent {}×)", request.attempts));
                        }
                        if let Some(message) = &request.message {
                            state.push_str(": ");
                            state.push_str(message);
                        }
                        ui.label(RichText::new(state).color(colour));
                        let resend = egui::Button::new("Re-send");
                        if ui
                            .add_enabled(!read_only, resend)
                            .on_hover_text("Sends the same message with the same reference")
                            .clicked()
                        {
                            intents.push(SetpointIntent::Resend(request.reference.clone()));
                        }
                        ui.end_row();
                    }
                });
        });
}
