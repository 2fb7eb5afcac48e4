//! The top bar: profile picker with Connect/Disconnect, the profile editor and settings buttons,
//! and a short read of the connection status (the full text is in the status bar).

use egui::RichText;

use crate::model::config::profile::Profile;

use super::action::UiAction;
use super::status_bar::Health;
use super::theme::Palette;

/// Label of the demo entry in the profile picker.
pub const DEMO_ENTRY: &str = "Built-in demo building";

/// What the top bar needs to know about the current connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionSummary {
    /// A worker is running (connected, connecting or retrying).
    pub active: bool,
    /// Name of the profile in use.
    pub profile_name: String,
    pub health: Health,
    /// The profile's read-only switch is on: shown as a lock.
    pub read_only: bool,
}

/// Text of the read-only badge.
pub const READ_ONLY_BADGE: &str = "READ-ONLY";

/// Which entry of the picker is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PickerChoice {
    /// Nothing chosen yet.
    #[default]
    None,
    /// The built-in demo.
    Demo,
    /// A saved profile, by id.
    Saved(String),
}

/// The top bar.
#[derive(Debug, Default)]
pub struct TopBar {
    /// The picker's current entry.
    pub choice: PickerChoice,
}

impl TopBar {
    /// Draws the bar; pushes what the user asked for to `actions`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        profiles: &[Profile],
        connection: &ConnectionSummary,
        actions: &mut Vec<UiAction>,
    ) {
        ui.horizontal(|ui| {
            ui.strong("TopicScope");
            ui.separator();
            self.picker_ui(ui, profiles, actions);
            let can_connect = self.choice != PickerChoice::None;
            let connect = ui
                .add_enabled(can_connect, egui::Button::new("Connect"))
                .on_hover_text("Connect with the chosen profile (replaces the current connection)");
            if connect.clicked() {
                match &self.choice {
                    PickerChoice::Saved(id) => actions.push(UiAction::ConnectSaved {
                        profile_id: id.clone(),
                    }),
                    PickerChoice::Demo => actions.push(UiAction::ConnectDemo),
                    PickerChoice::None => {}
                }
            }
            if connection.active && ui.button("Disconnect").clicked() {
                actions.push(UiAction::Disconnect);
            }
            ui.separator();
            if ui
                .button("Profiles…")
                .on_hover_text("Create and edit connection profiles")
                .clicked()
            {
                actions.push(UiAction::OpenProfileEditor);
            }
            if ui.button("Settings…").clicked() {
                actions.push(UiAction::OpenSettings);
            }
            if ui
                .button("Clear")
                .on_hover_text("Forget every received topic and plot series (the connection stays)")
                .clicked()
            {
                actions.push(UiAction::ClearStore);
            }
            ui.separator();
            if ui.button("Publish…").clicked() {
                actions.push(UiAction::OpenPublish(None));
            }
            if ui
                .button("Setpoint…")
                .on_hover_text("Write a setpoint or schedule to an aedifion building (SWOP)")
                .clicked()
            {
                actions.push(UiAction::OpenSetpoint);
            }
            if ui.button("Audit log…").clicked() {
                actions.push(UiAction::OpenAuditLog);
            }
            ui.separator();
            if ui
                .button("About")
                .on_hover_text("Version, licence and the config folder")
                .clicked()
            {
                actions.push(UiAction::OpenAbout);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                connection_ui(ui, connection);
            });
        });
    }

    fn picker_ui(&mut self, ui: &mut egui::Ui, profiles: &[Profile], actions: &mut Vec<UiAction>) {
        if let PickerChoice::Saved(id) = &self.choice
            && !profiles.iter().any(|profile| &profile.id == id)
        {
            self.choice = PickerChoice::None;
        }
        let selected_text = match &self.choice {
            PickerChoice::None => "Choose a profile".to_owned(),
            PickerChoice::Demo => DEMO_ENTRY.to_owned(),
            PickerChoice::Saved(id) => profiles
                .iter()
                .find(|profile| &profile.id == id)
                .map(|profile| profile.name.clone())
                .unwrap_or_default(),
        };
        let label = ui.label("Profile");
        egui::ComboBox::from_id_salt("profile_picker")
            .selected_text(selected_text)
            .width(220.0)
            .show_ui(ui, |ui| {
                for profile in profiles {
                    let choice = PickerChoice::Saved(profile.id.clone());
                    ui.selectable_value(&mut self.choice, choice, &profile.name);
                }
                ui.separator();
                ui.selectable_value(&mut self.choice, PickerChoice::Demo, DEMO_ENTRY);
                // Not a choice: it opens the account window, whose Connect makes the profile.
                if ui
                    .selectable_label(false, super::profile_account::SIGN_IN_ENTRY)
                    .clicked()
                {
                    actions.push(UiAction::OpenAedifionAccount);
                }
            })
            .response
            .labelled_by(label.id);
    }
}

fn connection_ui(ui: &mut egui::Ui, connection: &ConnectionSummary) {
    let palette = Palette::for_ui(ui);
    let (word, colour) = match connection.health {
        Health::Idle => ("Not connected", palette.status_idle),
        Health::Busy => ("Connecting", palette.status_busy),
        Health::Ok => ("Connected", palette.status_ok),
        Health::Error => ("Connection problem", palette.status_error),
    };
    // Right-to-left layout: the last item added appears leftmost.
    if connection.read_only {
        let badge = RichText::new(READ_ONLY_BADGE)
            .strong()
            .color(palette.warning)
            .background_color(ui.visuals().extreme_bg_color);
        ui.label(badge)
            .on_hover_text("This profile never publishes, clears retained messages or writes setpoints. Turn it off in the profile editor.");
    }
    if connection.active && !connection.profile_name.is_empty() {
        ui.label(RichText::new(&connection.profile_name).strong());
    }
    ui.label(RichText::new(word).color(colour));
    ui.label(RichText::new("\u{25cf}").monospace().color(colour));
}
