//! The settings window: theme, history limits and memory budget, inbox and packet limits.
//! It edits a draft; Save hands the new settings to the app, which applies and persists them.

use egui::{DragValue, Grid};

use crate::model::config::settings::{MIN_MEMORY_BUDGET_MIB, Settings, Theme};

/// egui's theme preference for a settings theme.
pub fn theme_preference(theme: Theme) -> egui::ThemePreference {
    match theme {
        Theme::System => egui::ThemePreference::System,
        Theme::Dark => egui::ThemePreference::Dark,
        Theme::Light => egui::ThemePreference::Light,
    }
}

/// The settings window and its draft.
#[derive(Debug, Default)]
pub struct SettingsWindow {
    open: bool,
    draft: Settings,
}

impl SettingsWindow {
    /// True while the window is shown.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Opens the window on a copy of `current`.
    pub fn open(&mut self, current: &Settings) {
        self.draft = current.clone();
        self.open = true;
    }

    /// Shows the window if open; returns the new settings when the user pressed Save.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Settings> {
        if !self.open {
            return None;
        }
        let mut open = true;
        let mut saved = None;
        let mut cancelled = false;
        egui::Window::new("Settings")
            .open(&mut open)
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                self.form_ui(ui);
                ui.separator();
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        saved = Some(self.draft.clone());
                    }
                    if ui.button("Cancel").clicked() {
                        cancelled = true;
                    }
                });
            });
        if saved.is_some() || cancelled || !open {
            self.open = false;
        }
        saved
    }

    fn form_ui(&mut self, ui: &mut egui::Ui) {
        let draft = &mut self.draft;
        ui.strong("Appearance");
        ui.horizontal(|ui| {
            ui.label("Theme");
            ui.radio_value(&mut draft.theme, Theme::System, "Follow system");
            ui.radio_value(&mut draft.theme, Theme::Dark, "Dark");
            ui.radio_value(&mut draft.theme, Theme::Light, "Light");
        });
        ui.add_space(6.0);
        ui.strong("Memory");
        let limits = &mut draft.limits;
        Grid::new("settings_limits")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                let _ = labelled(
                    ui,
                    "Messages kept per topic",
                    DragValue::new(&mut limits.history_messages_per_topic).range(1..=100_000),
                );
                let mut history_kib = limits.history_bytes_per_topic / 1024;
                if labelled(
                    ui,
                    "History per topic (KiB)",
                    DragValue::new(&mut history_kib).range(1..=1_048_576),
                )
                .changed()
                {
                    limits.history_bytes_per_topic = history_kib * 1024;
                }
                let _ = labelled(
                    ui,
                    "Points per plot series",
                    DragValue::new(&mut limits.series_points).range(100..=10_000_000),
                );
                let _ = labelled(
                    ui,
                    "Memory budget (MiB)",
                    DragValue::new(&mut limits.memory_budget_mib)
                        .range(MIN_MEMORY_BUDGET_MIB..=1_048_576),
                );
            });
        ui.weak("The budget bounds the whole process (measured once per second, with room for a full inbox). Over it, the oldest history goes first; only then, least recently updated first, the latest messages of topics (the topics stay listed).");
        ui.add_space(6.0);
        ui.strong("Connection (applies at the next connect)");
        Grid::new("settings_connection")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                let _ = labelled(
                    ui,
                    "Inbox capacity (messages)",
                    DragValue::new(&mut draft.inbox_capacity_messages).range(1_000..=10_000_000),
                );
                let mut packet_kib = draft.max_packet_bytes / 1024;
                if labelled(
                    ui,
                    "Largest packet (KiB)",
                    DragValue::new(&mut packet_kib).range(10..=262_144),
                )
                .changed()
                {
                    draft.max_packet_bytes = packet_kib * 1024;
                }
            });
        ui.weak("When messages arrive faster than the window can take them in, the oldest waiting ones are dropped and counted in the status bar.");
    }
}

/// A grid row: a label and a widget labelled by it (so screen readers and tests find it by name).
fn labelled(ui: &mut egui::Ui, label: &str, widget: impl egui::Widget) -> egui::Response {
    let label = ui.label(label);
    let response = ui.add(widget).labelled_by(label.id);
    ui.end_row();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_theme_maps_to_an_egui_preference() {
        assert_eq!(
            theme_preference(Theme::System),
            egui::ThemePreference::System
        );
        assert_eq!(theme_preference(Theme::Dark), egui::ThemePreference::Dark);
        assert_eq!(theme_preference(Theme::Light), egui::ThemePreference::Light);
    }

    #[test]
    fn a_closed_window_shows_nothing_and_saves_nothing() {
        let mut window = SettingsWindow::default();
        let ctx = egui::Context::default();
        let mut saved = None;
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            saved = window.show(ui.ctx())
        });
        output.textures_delta.clear();
        assert!(saved.is_none());
        assert!(!window.is_open());
    }
}
