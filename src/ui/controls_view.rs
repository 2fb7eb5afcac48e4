//! The controls timeline window: SWOP operations seen on `CONTROLS/…`, newest first, each
//! request with the state its acknowledgement gave it (requested → written / validated / failed,
//! with the edge device's message) and duplicates counted rather than repeated.

use egui::{RichText, ScrollArea};

use crate::model::aedifion::controls::{ControlsTimeline, Operation, OperationState};
use crate::ui::format::format_timestamp_local;

use super::theme::Palette;

/// Title of the window (also what tests look for).
pub const CONTROLS_TITLE: &str = "Controls timeline";

/// The controls timeline window.
#[derive(Debug, Default)]
pub struct ControlsWindow {
    /// Shown.
    pub open: bool,
}

impl ControlsWindow {
    /// Draws the window if it is open.
    pub fn ui(&mut self, ctx: &egui::Context, timeline: &ControlsTimeline) {
        let mut open = self.open;
        egui::Window::new(CONTROLS_TITLE)
            .open(&mut open)
            .default_size([720.0, 320.0])
            .show(ctx, |ui| timeline_ui(ui, timeline));
        self.open = open;
    }
}

/// The timeline as rows, newest first (only the rows on screen are laid out).
pub fn timeline_ui(ui: &mut egui::Ui, timeline: &ControlsTimeline) {
    if timeline.is_empty() {
        ui.weak(
            "No SWOP message seen yet. Requests and acknowledgements on CONTROLS/… appear here.",
        );
        return;
    }
    ui.weak(format!(
        "{} operations, grouped by reference; newest first",
        timeline.len()
    ));
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let count = timeline.len();
    ScrollArea::vertical()
        .id_salt("controls_timeline_rows")
        .auto_shrink([false, true])
        .show_rows(ui, row_height, count, |ui, range| {
            for operation in timeline
                .operations()
                .rev()
                .skip(range.start)
                .take(range.len())
            {
                operation_ui(ui, operation);
            }
        });
}

fn operation_ui(ui: &mut egui::Ui, operation: &Operation) {
    let palette = Palette::for_ui(ui);
    let state = operation.state();
    let colour = match state {
        OperationState::Written | OperationState::Validated => palette.status_ok,
        OperationState::Failed(_) => palette.status_error,
        OperationState::Requested => palette.status_busy,
        OperationState::Acknowledged(_) => ui.visuals().text_color(),
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(format_timestamp_local(operation.first_at_nanos)).monospace());
        ui.label(RichText::new(state.label()).strong().color(colour));
        let request = operation.request.as_ref().map_or_else(
            || "(request not seen)".to_owned(),
            |request| request.describe(),
        );
        ui.label(RichText::new(request).monospace());
        if let Some(ack) = &operation.acknowledgement {
            let answer = match &ack.message {
                Some(message) => format!("{}: {message}", ack.message_type),
                None => ack.describe(),
            };
            let answer = RichText::new(answer);
            match state {
                OperationState::Failed(_) => ui.colored_label(palette.status_error, answer),
                _ => ui.label(answer),
            };
        }
        let duplicates = operation.duplicates();
        if duplicates > 0 {
            ui.weak(format!(
                "({} requests, {} acknowledgements)",
                operation.requests_seen, operation.acknowledgements_seen
            ))
            .on_hover_text(
                "Re-sent requests and repeated answers with the same reference are grouped",
            );
        }
        if let Some(reference) = &operation.reference {
            ui.weak(format!("ref {}", abbreviate(reference, 8)))
                .on_hover_text(reference.to_string());
        }
    });
}

fn abbreviate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
