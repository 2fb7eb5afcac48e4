//! The audit log viewer: the newest entries of the local audit log (what this app published,
//! when, where and with which outcome), reloadable and exportable as JSON lines.

use std::path::PathBuf;

use egui::RichText;

use crate::model::write::audit::{AuditEntry, AuditLog};

use super::theme::Palette;

/// Entries shown.
pub const SHOWN_ENTRIES: usize = 500;

/// The viewer's state.
#[derive(Debug, Clone, Default)]
pub struct AuditView {
    entries: Vec<AuditEntry>,
    status: Option<Result<String, String>>,
    loaded: bool,
}

impl AuditView {
    /// Reads the newest entries again.
    pub fn reload(&mut self, log: &AuditLog) {
        match log.recent(SHOWN_ENTRIES) {
            Ok(entries) => {
                self.entries = entries;
                self.status = None;
            }
            Err(error) => self.status = Some(Err(error.to_string())),
        }
        self.loaded = true;
    }

    /// Forgets what was read, so the next draw reloads.
    pub fn invalidate(&mut self) {
        self.loaded = false;
    }

    /// Exports the whole log to `target`.
    pub fn export(&mut self, log: &AuditLog, target: PathBuf) {
        self.status = Some(
            log.export(&target)
                .map(|count| format!("Exported {count} entries to {}.", target.display()))
                .map_err(|error| error.to_string()),
        );
    }

    /// Draws the viewer; `log` is `None` when there is no config folder.
    pub fn ui(&mut self, ui: &mut egui::Ui, log: Option<&AuditLog>) {
        let Some(log) = log else {
            ui.label("No audit log: TopicScope has no config folder.");
            return;
        };
        if !self.loaded {
            self.reload(log);
        }
        ui.horizontal(|ui| {
            ui.label(format!("{}", log.path().display()));
            if ui.button("Reload").clicked() {
                self.reload(log);
            }
            if ui.button("Export…").clicked()
                && let Some(target) = rfd::FileDialog::new()
                    .set_file_name("topicscope-audit.jsonl")
                    .save_file()
            {
                self.export(log, target);
            }
        });
        let palette = Palette::for_ui(ui);
        match &self.status {
            Some(Ok(text)) => {
                ui.label(RichText::new(text).color(palette.status_ok));
            }
            Some(Err(text)) => {
                ui.label(RichText::new(text).color(palette.status_error));
            }
            None => {}
        }
        if self.entries.is_empty() {
            ui.label("Nothing was published yet.");
            return;
        }
        egui::ScrollArea::both().max_height(420.0).show(ui, |ui| {
            egui::Grid::new("audit_entries")
                .striped(true)
                .num_columns(8)
                .show(ui, |ui| {
                    for header in [
                        "Time", "Profile", "Broker", "Topic", "Payload", "QoS", "Retain", "Outcome",
                    ] {
                        ui.strong(header);
                    }
                    ui.end_row();
                    for entry in &self.entries {
                        ui.label(&entry.time);
                        ui.label(&entry.profile);
                        ui.label(&entry.broker);
                        ui.monospace(&entry.topic);
                        let payload: String = entry.payload.chars().take(60).collect();
                        ui.monospace(payload);
                        ui.label(entry.qos.to_string());
                        ui.label(if entry.retain { "yes" } else { "no" });
                        ui.label(entry.outcome.label());
                        ui.end_row();
                    }
                });
        });
    }
}
