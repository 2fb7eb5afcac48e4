//! The "busiest topics" window: topics and subtrees ranked by messages/s or bytes/s over the
//! last 10 s or minute, so a user sees at once what floods a broker.
//!
//! The ranking comes from the store's rate counters ([`crate::model::store::rates`]) and is recomputed
//! at most once per second, only while the window is open; a frame costs the rows shown.

use egui::{Grid, RichText};

use crate::model::store::Store;
use crate::model::store::rates::{RankBy, RankedNode, Ranking, RateWindow};
use crate::model::time::Nanos;
use crate::ui::format::format_bytes;

use super::action::UiAction;

/// Title of the window (also the label of the button that opens it).
pub const BUSIEST_TITLE: &str = "Busiest topics";
/// Rows per list.
pub const BUSIEST_ROWS: usize = 15;

/// The busiest-topics window and its choices.
#[derive(Debug, Default)]
pub struct BusiestWindow {
    /// Shown.
    pub open: bool,
    /// The window rates are averaged over.
    pub window: RateWindow,
    /// The order.
    pub by: RankBy,
}

impl BusiestWindow {
    /// The logic step, before drawing: refreshes the ranking (at most once per second, and only
    /// while the window is open). Drawing then only reads the store.
    pub fn logic(&self, store: &mut Store, now_nanos: Nanos) {
        if self.open {
            store.refresh_busiest(self.window, self.by, BUSIEST_ROWS, now_nanos);
        }
    }

    /// Draws the window if it is open, from the ranking [`BusiestWindow::logic`] refreshed. A
    /// click on a row selects that topic or subtree.
    pub fn ui(&mut self, ctx: &egui::Context, store: &Store, actions: &mut Vec<UiAction>) {
        if !self.open {
            return;
        }
        let ranking = store.rates().ranking();
        let mut open = self.open;
        let (window, by) = (&mut self.window, &mut self.by);
        egui::Window::new(BUSIEST_TITLE)
            .open(&mut open)
            .default_size([640.0, 480.0])
            .show(ctx, |ui| {
                choices_ui(ui, window, by);
                ranking_ui(ui, ranking, actions);
            });
        self.open = open;
    }
}

fn choices_ui(ui: &mut egui::Ui, window: &mut RateWindow, by: &mut RankBy) {
    ui.horizontal(|ui| {
        ui.label("Over the last");
        for choice in RateWindow::ALL {
            ui.selectable_value(window, choice, choice.label());
        }
        ui.separator();
        ui.label("ranked by");
        ui.selectable_value(by, RankBy::Messages, "messages/s");
        ui.selectable_value(by, RankBy::Bytes, "bytes/s");
    });
}

fn ranking_ui(ui: &mut egui::Ui, ranking: &Ranking, actions: &mut Vec<UiAction>) {
    if ranking.topics.is_empty() {
        ui.weak(format!(
            "No message in the last {}.",
            ranking.window.label()
        ));
        return;
    }
    ui.weak(format!(
        "{} active topic levels; updated every second",
        ranking.active_nodes
    ));
    ui.add_space(4.0);
    ui.strong("Topics");
    rows_ui(ui, "busiest_topics", &ranking.topics, actions);
    ui.add_space(8.0);
    ui.strong("Subtrees");
    rows_ui(ui, "busiest_subtrees", &ranking.subtrees, actions);
}

fn rows_ui(ui: &mut egui::Ui, id: &str, rows: &[RankedNode], actions: &mut Vec<UiAction>) {
    Grid::new(id).striped(true).num_columns(3).show(ui, |ui| {
        ui.weak("path");
        ui.weak("messages/s");
        ui.weak("bytes/s");
        ui.end_row();
        for row in rows {
            if ui
                .link(RichText::new(&row.path).monospace())
                .on_hover_text("Select in the tree")
                .clicked()
            {
                actions.push(UiAction::SelectTopic(row.node));
            }
            ui.label(format_rate(row.messages_per_sec));
            ui.label(format!("{}/s", format_bytes(row.bytes_per_sec as u64)));
            ui.end_row();
        }
    });
}

/// "0.3", "12.5", "4,210".
fn format_rate(per_sec: f64) -> String {
    if per_sec < 100.0 {
        format!("{per_sec:.1}")
    } else {
        crate::ui::format::format_count(per_sec.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_with_a_decimal_when_small_and_grouped_when_large() {
        assert_eq!(format_rate(0.24), "0.2");
        assert_eq!(format_rate(12.5), "12.5");
        assert!(format_rate(4210.0).starts_with('4'));
    }
}
