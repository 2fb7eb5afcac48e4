//! The plot panel: one line per store series over a live scrolling time window.
//!
//! Each frame draws only what is on screen: every series is min/max-decimated by the model to
//! about two points per horizontal pixel before egui_plot sees it.

use std::time::Duration;

use egui::RichText;
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints};

use crate::model::store::series::TimeSource;
use crate::model::store::{SeriesId, Store};
use crate::model::time::Nanos;

use super::action::UiAction;
use super::datapoint_view::{series_title, series_units};
use super::text::clock_time_of_secs;
use super::theme::Palette;

const NANOS_PER_SEC: f64 = 1e9;
/// Height kept free for the plot before anything is plotted, in points.
const EMPTY_PLOT_HEIGHT: f32 = 200.0;

/// How much time the live plot shows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum PlotWindow {
    OneMinute,
    #[default]
    FiveMinutes,
    OneHour,
    /// Everything the series hold.
    All,
}

impl PlotWindow {
    /// All choices, in the order the picker lists them.
    pub const ALL: [PlotWindow; 4] = [
        PlotWindow::OneMinute,
        PlotWindow::FiveMinutes,
        PlotWindow::OneHour,
        PlotWindow::All,
    ];

    /// The picker's label.
    pub fn label(self) -> &'static str {
        match self {
            PlotWindow::OneMinute => "1 min",
            PlotWindow::FiveMinutes => "5 min",
            PlotWindow::OneHour => "1 h",
            PlotWindow::All => "All",
        }
    }

    /// The window's length, or `None` for everything.
    pub fn length_nanos(self) -> Option<Nanos> {
        const MINUTE: Nanos = 60_000_000_000;
        match self {
            PlotWindow::OneMinute => Some(MINUTE),
            PlotWindow::FiveMinutes => Some(5 * MINUTE),
            PlotWindow::OneHour => Some(60 * MINUTE),
            PlotWindow::All => None,
        }
    }

    /// The time range shown when the window ends at `end_nanos`.
    pub fn range(self, end_nanos: Nanos) -> (Nanos, Nanos) {
        match self.length_nanos() {
            Some(length) => (end_nanos.saturating_sub(length), end_nanos),
            None => (Nanos::MIN, Nanos::MAX),
        }
    }
}

/// The plot panel.
#[derive(Debug, Default)]
pub struct PlotPanel {
    /// The time window (persisted by the app).
    pub window: PlotWindow,
    /// When paused, the window stops moving at this time and the plot can be panned and zoomed.
    paused_at_nanos: Option<Nanos>,
    /// Decimated points of the last frame, reused while neither the data nor the range changed.
    decimated: Vec<(DecimationKey, Vec<[f64; 2]>)>,
}

/// Everything a series' decimated points depend on: equal keys give equal points.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DecimationKey {
    id: SeriesId,
    len: usize,
    dropped_points: u64,
    last: Option<(Nanos, f64)>,
    from: Nanos,
    to: Nanos,
    max_points: usize,
}

/// One series prepared for drawing.
struct PreparedLine {
    label: String,
    points: Vec<[f64; 2]>,
    colour: egui::Color32,
}

impl PlotPanel {
    /// A panel showing `window`.
    pub fn new(window: PlotWindow) -> Self {
        Self {
            window,
            paused_at_nanos: None,
            decimated: Vec::new(),
        }
    }

    /// True while the window is frozen.
    pub fn paused(&self) -> bool {
        self.paused_at_nanos.is_some()
    }

    /// Draws the controls and the plot; pushes what the user asked for to `actions`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        now_nanos: Nanos,
        actions: &mut Vec<UiAction>,
    ) {
        self.controls_ui(ui, store, now_nanos, actions);
        if store.series().next().is_none() {
            ui.weak("Nothing plotted yet: select a topic and press \u{201c}Add to plot\u{201d} next to one of its values.");
            // Keep the panel at a plot's height so it does not jump when the first series comes.
            let height = ui.available_height().min(EMPTY_PLOT_HEIGHT);
            ui.allocate_space(egui::vec2(ui.available_width(), height));
            return;
        }
        let max_points = (ui.available_width().max(100.0) * 2.0) as usize;
        let end_nanos = match self.paused_at_nanos {
            Some(paused_at) => paused_at,
            None => self.live_end_nanos(now_nanos, max_points),
        };
        let (from, to) = self.window.range(end_nanos);
        let palette = Palette::for_ui(ui);
        let mut previous = std::mem::take(&mut self.decimated);
        let mut lines = Vec::new();
        for (index, (id, series)) in store.series().enumerate() {
            let key = DecimationKey {
                id,
                len: series.len(),
                dropped_points: series.dropped_points(),
                last: series.last(),
                from,
                to,
                max_points,
            };
            let points = match previous.iter().position(|(cached, _)| *cached == key) {
                Some(position) => previous.swap_remove(position).1,
                None => series.decimated(from, to, max_points),
            };
            lines.push(PreparedLine {
                label: series_title(store.datapoints(), series),
                points: points.clone(),
                colour: palette.series_colour(index),
            });
            self.decimated.push((key, points));
        }

        let live = self.paused_at_nanos.is_none();
        let x_range = self
            .window
            .length_nanos()
            .map(|_| from as f64 / NANOS_PER_SEC..=to as f64 / NANOS_PER_SEC);
        // Label the value axis when every series shares its units.
        let mut units = store
            .series()
            .map(|(_, series)| series_units(store.datapoints(), series));
        let first_units = units.next().flatten();
        let axis_units = first_units
            .filter(|first| units.all(|other| other == Some(*first)))
            .map(str::to_owned);
        Plot::new("series_plot")
            .legend(Legend::default())
            .y_axis_label(axis_units.unwrap_or_default())
            .x_axis_formatter(|mark, _range| clock_time_of_secs(mark.value))
            .label_formatter(hover_label)
            .allow_drag(!live)
            .allow_zoom(!live)
            .allow_scroll(!live)
            .show(ui, move |plot_ui| {
                for line in lines {
                    plot_ui.line(
                        Line::new(line.label, PlotPoints::from(line.points)).color(line.colour),
                    );
                }
                if live {
                    match x_range {
                        Some(range) => {
                            plot_ui.set_plot_bounds_x(range);
                            plot_ui.set_auto_bounds(egui::Vec2b::new(false, true));
                        }
                        None => plot_ui.set_auto_bounds(egui::Vec2b::new(true, true)),
                    }
                }
            });

        if live && let Some(length) = self.window.length_nanos() {
            // Scroll smoothly: repaint when the window has moved about a pixel (but not faster
            // than 20 Hz, and at least once a second).
            let per_pixel_nanos = length / (max_points as Nanos / 2).max(1);
            let wait = Duration::from_nanos(per_pixel_nanos.max(0) as u64)
                .clamp(Duration::from_millis(50), Duration::from_secs(1));
            ui.ctx().request_repaint_after(wait);
        }
    }

    /// The live window's end: now, rounded up to the next step of about one pixel, so the
    /// decimated points (and the picture) change only when the window moved by a pixel.
    fn live_end_nanos(&self, now_nanos: Nanos, max_points: usize) -> Nanos {
        let Some(length) = self.window.length_nanos() else {
            return now_nanos;
        };
        let step = (length / (max_points as Nanos / 2).max(1)).max(1);
        now_nanos
            .checked_add(step - 1)
            .map_or(now_nanos, |rounded| rounded - rounded.rem_euclid(step))
    }

    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        now_nanos: Nanos,
        actions: &mut Vec<UiAction>,
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Plot");
            let label = ui.label("Window");
            egui::ComboBox::from_id_salt("plot_window")
                .selected_text(self.window.label())
                .show_ui(ui, |ui| {
                    for window in PlotWindow::ALL {
                        ui.selectable_value(&mut self.window, window, window.label());
                    }
                })
                .response
                .labelled_by(label.id);
            let pause_label = if self.paused() { "Resume" } else { "Pause" };
            if ui
                .button(pause_label)
                .on_hover_text("Pause freezes the window so you can pan and zoom; Resume follows live data again")
                .clicked()
            {
                self.paused_at_nanos = match self.paused_at_nanos {
                    Some(_) => None,
                    None => Some(now_nanos),
                };
            }
            let palette = Palette::for_ui(ui);
            for (index, (id, series)) in store.series().enumerate() {
                let title = series_title(store.datapoints(), series);
                series_chip_ui(ui, id, &title, palette.series_colour(index), actions);
                time_source_ui(ui, id, series.time_source, actions);
            }
        });
    }
}

fn series_chip_ui(
    ui: &mut egui::Ui,
    id: SeriesId,
    label: &str,
    colour: egui::Color32,
    actions: &mut Vec<UiAction>,
) {
    ui.separator();
    ui.label(RichText::new("\u{25a0}").monospace().color(colour));
    ui.label(RichText::new(label).small());
    if ui
        .small_button("\u{d7}")
        .on_hover_text(format!("Remove {label} from the plot"))
        .clicked()
    {
        actions.push(UiAction::RemoveSeries(id));
    }
}

/// The per-series clock switch: payload timestamps (falling back to arrival) or arrival time.
fn time_source_ui(
    ui: &mut egui::Ui,
    id: SeriesId,
    time_source: TimeSource,
    actions: &mut Vec<UiAction>,
) {
    let (text, other, hint) = match time_source {
        TimeSource::Payload => (
            "payload time",
            TimeSource::Arrival,
            "Plotted at the timestamps inside the payloads (arrival time where a payload has none). Click to plot at arrival time.",
        ),
        TimeSource::Arrival => (
            "arrival time",
            TimeSource::Payload,
            "Plotted at arrival time. Click to plot at the timestamps inside the payloads.",
        ),
    };
    if ui.small_button(text).on_hover_text(hint).clicked() {
        actions.push(UiAction::SetSeriesTimeSource {
            id,
            time_source: other,
        });
    }
}

fn hover_label(position: &HoverPosition<'_>) -> Option<String> {
    Some(match position {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => {
            format!(
                "{plot_name}\n{}  {}",
                clock_time_of_secs(position.x),
                position.y
            )
        }
        HoverPosition::Elsewhere { position } => {
            format!("{}  {:.3}", clock_time_of_secs(position.x), position.y)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_ends_at_the_given_time() {
        let (from, to) = PlotWindow::OneMinute.range(100_000_000_000);
        assert_eq!((from, to), (40_000_000_000, 100_000_000_000));
    }

    #[test]
    fn the_all_window_covers_every_time() {
        assert_eq!(PlotWindow::All.range(5), (Nanos::MIN, Nanos::MAX));
    }

    #[test]
    fn the_live_window_end_moves_in_whole_pixel_steps() {
        let panel = PlotPanel::new(PlotWindow::OneMinute);
        // 1 min over 600 pixels (1200 points): 100 ms per pixel.
        let step = 100_000_000;
        assert_eq!(panel.live_end_nanos(5 * step + 1, 1200), 6 * step);
        assert_eq!(panel.live_end_nanos(6 * step, 1200), 6 * step);
        assert_eq!(panel.live_end_nanos(Nanos::MAX - 1, 1200), Nanos::MAX - 1);
    }

    #[test]
    fn windows_near_the_epoch_do_not_overflow() {
        let (from, _) = PlotWindow::OneHour.range(Nanos::MIN + 1);
        assert_eq!(from, Nanos::MIN);
    }
}
