//! The About window: version, commit, build date, licence, links, and the config folder with a
//! button that opens it in the system's file manager.
//!
//! Opening the folder starts a program (`xdg-open`, `explorer`, `open`) that may take a while or
//! hang (a slow desktop portal), so it runs on its own named thread; the window shows "Opening…"
//! and then the outcome, and stays responsive meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use crate::build_info;

/// Title of the window (and label of the top bar button that opens it).
pub const ABOUT_TITLE: &str = "About TopicScope";

/// Label of the button that opens the config folder.
pub const OPEN_FOLDER: &str = "Open folder";

/// Opens a folder in the file manager; runs off the UI thread. The error is shown to the user.
pub type FolderOpener = Arc<dyn Fn(&Path) -> Result<(), String> + Send + Sync>;

/// Where an "Open folder" request stands.
#[derive(Debug)]
enum OpenState {
    Idle,
    /// The opener thread runs; its answer comes through the channel.
    Opening(Receiver<Result<(), String>>),
    Opened,
    Failed(String),
}

/// The About window.
pub struct AboutWindow {
    open: bool,
    config_dir: PathBuf,
    opener: FolderOpener,
    state: OpenState,
}

impl std::fmt::Debug for AboutWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AboutWindow")
            .field("open", &self.open)
            .field("config_dir", &self.config_dir)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl AboutWindow {
    /// The window for the config folder `config_dir`, opening it with the system's file manager.
    pub fn new(config_dir: PathBuf) -> Self {
        Self::with_opener(config_dir, Arc::new(open_in_file_manager))
    }

    /// The window with another way to open the folder (tests record the request instead).
    pub fn with_opener(config_dir: PathBuf, opener: FolderOpener) -> Self {
        Self {
            open: false,
            config_dir,
            opener,
            state: OpenState::Idle,
        }
    }

    /// Shows the window from the next frame on.
    pub fn open(&mut self) {
        self.open = true;
    }

    /// True while the window is shown.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Shows the window if it is open.
    pub fn show(&mut self, ctx: &egui::Context) {
        if !self.open {
            return;
        }
        self.poll_opener(ctx);
        let mut open = true;
        let mut close = false;
        egui::Window::new(ABOUT_TITLE)
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .max_width(560.0)
            .show(ctx, |ui| {
                self.ui(ui);
                ui.separator();
                close = ui.button("Close").clicked();
            });
        self.open = open && !close;
    }

    /// The window's content.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("TopicScope");
        ui.label(env!("CARGO_PKG_DESCRIPTION"));
        ui.add_space(6.0);
        egui::Grid::new("about_grid")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                ui.label("Version");
                ui.label(build_info::VERSION);
                ui.end_row();
                ui.label("Commit");
                ui.label(egui::RichText::new(build_info::COMMIT).monospace());
                ui.end_row();
                ui.label("Built");
                ui.label(build_info::BUILD_DATE);
                ui.end_row();
                ui.label("Licence");
                ui.label(build_info::LICENSE);
                ui.end_row();
                ui.label("Home page");
                ui.hyperlink(build_info::HOMEPAGE);
                ui.end_row();
                ui.label("aedifion MQTT API");
                ui.hyperlink_to("documentation", build_info::AEDIFION_MQTT_DOCS);
                ui.end_row();
                ui.label("Config folder");
                self.config_dir_ui(ui);
                ui.end_row();
            });
    }

    fn config_dir_ui(&mut self, ui: &mut egui::Ui) {
        let shown = self.config_dir.display().to_string();
        ui.vertical(|ui| {
            ui.add(egui::Label::new(egui::RichText::new(&shown).monospace()).selectable(true))
                .on_hover_text("Profiles, settings, the audit log and the window state");
            ui.horizontal(|ui| {
                let opening = matches!(self.state, OpenState::Opening(_));
                if ui
                    .add_enabled(!opening, egui::Button::new(OPEN_FOLDER))
                    .on_hover_text("Show the folder in the file manager")
                    .clicked()
                {
                    self.start_opening(ui.ctx());
                }
                if ui.button("Copy path").clicked() {
                    ui.ctx().copy_text(shown.clone());
                }
                if let OpenState::Opening(_) = &self.state {
                    ui.spinner();
                    ui.label("Opening…");
                }
            });
            if let OpenState::Failed(reason) = &self.state {
                let colour = super::theme::Palette::for_ui(ui).warning;
                ui.add(egui::Label::new(egui::RichText::new(reason).color(colour)).wrap());
            }
        });
    }

    /// Starts the opener on its own thread; its answer is picked up by [`Self::poll_opener`].
    fn start_opening(&mut self, ctx: &egui::Context) {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let opener = Arc::clone(&self.opener);
        let dir = self.config_dir.clone();
        let waker = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("open-folder".to_owned())
            .spawn(move || {
                let result = std::fs::create_dir_all(&dir)
                    .map_err(|error| format!("Cannot create {}: {error}", dir.display()))
                    .and_then(|()| opener(&dir));
                // The window may be gone; nobody to tell then.
                let _ = sender.send(result);
                waker.request_repaint();
            });
        self.state = match spawned {
            Ok(_) => OpenState::Opening(receiver),
            Err(error) => OpenState::Failed(format!("Could not start a thread: {error}")),
        };
    }

    fn poll_opener(&mut self, ctx: &egui::Context) {
        let OpenState::Opening(receiver) = &self.state else {
            return;
        };
        self.state = match receiver.try_recv() {
            Ok(Ok(())) => OpenState::Opened,
            Ok(Err(reason)) => OpenState::Failed(reason),
            Err(TryRecvError::Empty) => {
                ctx.request_repaint_after(std::time::Duration::from_millis(100));
                return;
            }
            Err(TryRecvError::Disconnected) => {
                OpenState::Failed("Opening the folder stopped without an answer.".to_owned())
            }
        };
    }
}

/// The program that shows a folder in this system's file manager.
pub fn file_manager_program() -> &'static str {
    if cfg!(windows) {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    }
}

/// Opens `dir` in the system's file manager and waits for the opener program to finish.
pub fn open_in_file_manager(dir: &Path) -> Result<(), String> {
    let program = file_manager_program();
    let status = std::process::Command::new(program)
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|error| {
            format!("Could not run {program}: {error}. Open the folder by hand (Copy path).")
        })?;
    // explorer.exe exits with 1 even when it opened the folder.
    if status.success() || cfg!(windows) {
        Ok(())
    } else {
        Err(format!(
            "{program} could not open the folder ({status}). Open it by hand (Copy path)."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_manager_is_the_systems_own() {
        let expected = if cfg!(windows) {
            "explorer"
        } else if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        assert_eq!(file_manager_program(), expected);
    }
}
