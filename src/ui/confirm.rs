//! A confirmation dialog that says exactly what will happen (a title, a sentence, and the full
//! list of affected items) and does nothing until its confirm button is pressed.

use egui::RichText;

use super::theme::Palette;

/// Label of the cancel button.
pub const CANCEL: &str = "Cancel";

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Confirmed,
    Cancelled,
}

/// A modal-like window listing what a write will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmDialog {
    /// Window title.
    pub title: String,
    /// One or two sentences: what, where, with which effect.
    pub summary: String,
    /// Every affected item (topics, fields), shown in full.
    pub items: Vec<String>,
    /// The confirm button's label, naming the action ("Clear 3 retained messages").
    pub confirm_label: String,
}

impl ConfirmDialog {
    /// Shows the window; returns the answer once given.
    pub fn show(&self, ctx: &egui::Context) -> Option<ConfirmOutcome> {
        let mut outcome = None;
        let mut open = true;
        egui::Window::new(&self.title)
            .collapsible(false)
            .resizable(true)
            .open(&mut open)
            .default_width(560.0)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| outcome = self.body_ui(ui));
        if !open {
            outcome = Some(ConfirmOutcome::Cancelled);
        }
        outcome
    }

    fn body_ui(&self, ui: &mut egui::Ui) -> Option<ConfirmOutcome> {
        let palette = Palette::for_ui(ui);
        ui.label(RichText::new(&self.summary).strong().color(palette.warning));
        if !self.items.is_empty() {
            ui.separator();
            egui::ScrollArea::vertical()
                .max_height(260.0)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    for item in &self.items {
                        ui.monospace(item);
                    }
                });
        }
        ui.separator();
        let mut outcome = None;
        ui.horizontal(|ui| {
            if ui.button(CANCEL).clicked() {
                outcome = Some(ConfirmOutcome::Cancelled);
            }
            let confirm = egui::Button::new(RichText::new(&self.confirm_label).strong());
            if ui.add(confirm).clicked() {
                outcome = Some(ConfirmOutcome::Confirmed);
            }
        });
        outcome
    }
}
