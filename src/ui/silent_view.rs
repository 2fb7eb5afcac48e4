//! The stale view's "silent" list: datapoints known by name — the platform's datapoint list, or
//! metadata — whose topic never carried a message, so the tree has no row for them. Shown above
//! the stale topics while "Stale only" is on, each marked "silent" with the topic it would
//! arrive on. The set is recomputed at most once a second (O(datapoints)); only the rows on
//! screen are laid out.

use egui::{RichText, ScrollArea};

use crate::model::aedifion::datapoints::DatapointId;
use crate::model::aedifion::hash_id::hash_id;
use crate::model::store::Store;
use crate::model::time::Nanos;

use super::theme::Palette;

/// How often the silent set is recomputed.
const REFRESH_NANOS: Nanos = 1_000_000_000;
/// The marker next to each silent datapoint.
pub const SILENT_MARKER: &str = "silent";
/// Height of the list before it scrolls.
const MAX_HEIGHT: f32 = 160.0;

/// The silent datapoints matching the filter text, as last computed.
#[derive(Debug, Default)]
pub struct SilentList {
    datapoints: Vec<DatapointId>,
    computed_at_nanos: Option<Nanos>,
    /// The filter text the list was computed for.
    filter_text: String,
}

impl SilentList {
    /// Computes the list again at the next draw (the store or the filter changed).
    pub fn invalidate(&mut self) {
        self.computed_at_nanos = None;
    }

    fn refresh(&mut self, store: &Store, filter_text: &str, now_nanos: Nanos) {
        let fresh = self
            .computed_at_nanos
            .is_some_and(|at| (0..REFRESH_NANOS).contains(&(now_nanos - at)));
        if fresh && self.filter_text == filter_text {
            return;
        }
        let datapoints = store.datapoints();
        let needle = filter_text.trim().to_lowercase();
        self.datapoints = datapoints
            .silent_datapoints()
            .into_iter()
            .filter(|&id| {
                needle.is_empty()
                    || datapoints
                        .datapoint(id)
                        .is_some_and(|datapoint| datapoint.name.to_lowercase().contains(&needle))
            })
            .collect();
        filter_text.clone_into(&mut self.filter_text);
        self.computed_at_nanos = Some(now_nanos);
    }

    /// Draws the list (nothing when no datapoint is silent).
    pub fn ui(&mut self, ui: &mut egui::Ui, store: &Store, filter_text: &str, now_nanos: Nanos) {
        self.refresh(store, filter_text, now_nanos);
        if self.datapoints.is_empty() {
            return;
        }
        let palette = Palette::for_ui(ui);
        let datapoints = store.datapoints();
        let count = self.datapoints.len();
        egui::CollapsingHeader::new(format!("Silent: {count} datapoints never sent a message"))
            .id_salt("silent_datapoints")
            .default_open(true)
            .show(ui, |ui| {
                let row_height = ui.text_style_height(&egui::TextStyle::Body).max(18.0);
                ScrollArea::vertical()
                    .id_salt("silent_datapoint_rows")
                    .max_height(MAX_HEIGHT)
                    .auto_shrink([false, true])
                    .show_rows(ui, row_height, count, |ui, range| {
                        for &id in &self.datapoints[range] {
                            let Some(datapoint) = datapoints.datapoint(id) else {
                                continue;
                            };
                            let topic = datapoints.project(datapoint.project).map(|project| {
                                format!(
                                    "{}/{}/{}",
                                    project.load_balancing_group,
                                    project.project_handle,
                                    hash_id(&datapoint.name, project.hash_id_length())
                                )
                            });
                            ui.horizontal(|ui| {
                                ui.label(
                                    RichText::new(SILENT_MARKER).small().color(palette.warning),
                                )
                                .on_hover_text(
                                    "Listed by the platform (or its metadata), but no message has arrived on its topic",
                                );
                                ui.label(RichText::new(&*datapoint.name).strong());
                                if let Some(topic) = topic {
                                    ui.label(RichText::new(topic).monospace().weak());
                                }
                            });
                        }
                    });
            });
        // The set changes as messages arrive: look again when it is due.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_nanos(REFRESH_NANOS as u64));
    }
}
