//! Every colour the UI uses, for the dark and the light theme. Panels ask for a [`Palette`]
//! instead of writing colours inline, so both themes stay readable and consistent.

use egui::Color32;

/// The colours of one theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    /// Row background right after a topic changed; fades out over about a second.
    pub change_highlight: Color32,
    /// The retained-message marker in the tree and details.
    pub retained: Color32,
    /// A one-line payload preview in the tree.
    pub preview: Color32,
    /// Connection is up.
    pub status_ok: Color32,
    /// Connecting or retrying.
    pub status_busy: Color32,
    /// A failure the user should look at.
    pub status_error: Color32,
    /// Nothing connected.
    pub status_idle: Color32,
    /// A counter that should be zero but is not (dropped messages, refused subscriptions).
    pub warning: Color32,
    /// Background of a line only in the newer message.
    pub diff_added: Color32,
    /// Background of a line only in the older message.
    pub diff_removed: Color32,
    /// JSON object keys.
    pub json_key: Color32,
    /// JSON strings.
    pub json_string: Color32,
    /// JSON numbers.
    pub json_number: Color32,
    /// JSON booleans and null.
    pub json_literal: Color32,
    /// Offsets in the hex view.
    pub hex_offset: Color32,
    /// Plot line colours, used in turn.
    pub series: [Color32; 8],
}

/// Colours for dark backgrounds.
pub const DARK: Palette = Palette {
    change_highlight: Color32::from_rgb(120, 90, 20),
    retained: Color32::from_rgb(140, 180, 255),
    preview: Color32::from_rgb(150, 150, 150),
    status_ok: Color32::from_rgb(90, 200, 110),
    status_busy: Color32::from_rgb(230, 190, 80),
    status_error: Color32::from_rgb(255, 110, 100),
    status_idle: Color32::from_rgb(150, 150, 150),
    warning: Color32::from_rgb(255, 160, 60),
    diff_added: Color32::from_rgb(30, 75, 40),
    diff_removed: Color32::from_rgb(90, 35, 35),
    json_key: Color32::from_rgb(140, 190, 255),
    json_string: Color32::from_rgb(200, 170, 120),
    json_number: Color32::from_rgb(150, 220, 150),
    json_literal: Color32::from_rgb(210, 150, 230),
    hex_offset: Color32::from_rgb(120, 120, 120),
    series: [
        Color32::from_rgb(100, 170, 255),
        Color32::from_rgb(255, 150, 80),
        Color32::from_rgb(110, 210, 120),
        Color32::from_rgb(235, 100, 110),
        Color32::from_rgb(190, 140, 240),
        Color32::from_rgb(230, 210, 90),
        Color32::from_rgb(90, 215, 215),
        Color32::from_rgb(240, 140, 200),
    ],
};

/// Colours for light backgrounds.
pub const LIGHT: Palette = Palette {
    change_highlight: Color32::from_rgb(255, 225, 140),
    retained: Color32::from_rgb(30, 80, 190),
    preview: Color32::from_rgb(100, 100, 100),
    status_ok: Color32::from_rgb(20, 130, 40),
    status_busy: Color32::from_rgb(170, 120, 0),
    status_error: Color32::from_rgb(200, 30, 30),
    status_idle: Color32::from_rgb(110, 110, 110),
    warning: Color32::from_rgb(200, 90, 0),
    diff_added: Color32::from_rgb(205, 240, 205),
    diff_removed: Color32::from_rgb(250, 210, 210),
    json_key: Color32::from_rgb(20, 70, 170),
    json_string: Color32::from_rgb(150, 80, 10),
    json_number: Color32::from_rgb(20, 120, 40),
    json_literal: Color32::from_rgb(130, 40, 160),
    hex_offset: Color32::from_rgb(130, 130, 130),
    series: [
        Color32::from_rgb(20, 100, 210),
        Color32::from_rgb(220, 100, 20),
        Color32::from_rgb(30, 140, 50),
        Color32::from_rgb(200, 30, 50),
        Color32::from_rgb(120, 60, 190),
        Color32::from_rgb(160, 130, 0),
        Color32::from_rgb(0, 140, 150),
        Color32::from_rgb(200, 60, 150),
    ],
};

impl Palette {
    /// The palette matching the current visuals (dark or light).
    pub fn of(visuals: &egui::Visuals) -> &'static Palette {
        if visuals.dark_mode { &DARK } else { &LIGHT }
    }

    /// The palette of the `ui`'s current theme.
    pub fn for_ui(ui: &egui::Ui) -> &'static Palette {
        Self::of(ui.visuals())
    }

    /// The plot colour for the `index`-th series (repeats after eight).
    pub fn series_colour(&self, index: usize) -> Color32 {
        self.series[index % self.series.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_colours_repeat_after_the_palette_runs_out() {
        assert_eq!(DARK.series_colour(0), DARK.series_colour(8));
        assert_ne!(DARK.series_colour(0), DARK.series_colour(1));
    }

    #[test]
    fn palette_follows_the_dark_mode_flag() {
        assert_eq!(Palette::of(&egui::Visuals::dark()), &DARK);
        assert_eq!(Palette::of(&egui::Visuals::light()), &LIGHT);
    }
}
