//! App settings (`settings.toml` next to the profiles): theme, store limits, last used profile,
//! inbox and packet limits. Same atomic writer and same care for bad files as the profiles.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::config::config_file;
use crate::model::store::Limits;

/// File name of the settings file inside the config directory.
pub const SETTINGS_FILE_NAME: &str = "settings.toml";
/// The settings format version this build reads and writes.
pub const SETTINGS_FILE_VERSION: i64 = 1;
/// Default capacity of the worker → UI inbox (matches the worker's own default).
pub const DEFAULT_INBOX_CAPACITY_MESSAGES: usize = 200_000;
/// Default largest MQTT packet accepted or sent (rumqttc's own default is only 10 KiB; the
/// worker's default is the same 16 MiB). A bigger packet costs a reconnect, so err on the large side.
pub const DEFAULT_MAX_PACKET_BYTES: usize = 16 << 20;
/// Smallest memory budget accepted, so a typo cannot make the app useless.
pub const MIN_MEMORY_BUDGET_MIB: u64 = 16;

const BYTES_PER_MIB: u64 = 1 << 20;

/// Colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the operating system.
    #[default]
    System,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

/// The store's [`Limits`] as the settings file writes them (memory budget in MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsSettings {
    /// [`Limits::history_messages_per_topic`].
    pub history_messages_per_topic: usize,
    /// [`Limits::history_bytes_per_topic`].
    pub history_bytes_per_topic: usize,
    /// [`Limits::series_points`].
    pub series_points: usize,
    /// [`Limits::memory_budget_bytes`], in MiB.
    pub memory_budget_mib: u64,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self::from_limits(&Limits::default())
    }
}

impl LimitsSettings {
    /// The file form of `limits`.
    pub fn from_limits(limits: &Limits) -> Self {
        Self {
            history_messages_per_topic: limits.history_messages_per_topic,
            history_bytes_per_topic: limits.history_bytes_per_topic,
            series_points: limits.series_points,
            memory_budget_mib: u64::try_from(limits.memory_budget_bytes).unwrap_or(u64::MAX)
                / BYTES_PER_MIB,
        }
    }

    /// The store's limits, with values too small to be useful raised to a working minimum.
    pub fn to_limits(&self) -> Limits {
        Limits {
            history_messages_per_topic: self.history_messages_per_topic.max(1),
            history_bytes_per_topic: self.history_bytes_per_topic.max(1024),
            series_points: self.series_points.max(2),
            memory_budget_bytes: mib_to_bytes(self.memory_budget_mib.max(MIN_MEMORY_BUDGET_MIB)),
        }
    }
}

/// `mib` MiB in bytes, saturating on overflow.
pub fn mib_to_bytes(mib: u64) -> usize {
    usize::try_from(mib.saturating_mul(BYTES_PER_MIB)).unwrap_or(usize::MAX)
}

/// Everything the app remembers between runs, apart from profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Format version of the file.
    pub version: i64,
    /// Colour theme.
    pub theme: Theme,
    /// Store limits.
    pub limits: LimitsSettings,
    /// Id of the profile connected to last (offered first at start).
    pub last_profile_id: Option<String>,
    /// Capacity of the worker → UI inbox, in messages.
    pub inbox_capacity_messages: usize,
    /// Largest MQTT packet accepted or sent.
    pub max_packet_bytes: usize,
    /// Audit log files kept (the current one included); older ones are deleted on rotation.
    pub audit_files: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: SETTINGS_FILE_VERSION,
            theme: Theme::System,
            limits: LimitsSettings::default(),
            last_profile_id: None,
            inbox_capacity_messages: DEFAULT_INBOX_CAPACITY_MESSAGES,
            max_packet_bytes: DEFAULT_MAX_PACKET_BYTES,
            audit_files: crate::model::write::audit::DEFAULT_AUDIT_FILES,
        }
    }
}

impl Settings {
    /// The audit log in `config_dir`, keeping [`Settings::audit_files`] files.
    pub fn audit_log(&self, config_dir: &Path) -> crate::model::write::audit::AuditLog {
        crate::model::write::audit::AuditLog::with_limits(
            config_dir,
            crate::model::write::audit::DEFAULT_AUDIT_MAX_BYTES,
            self.audit_files,
        )
    }
}

/// Why the settings could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Writing failed.
    #[error("Could not save settings to {}: {source}. Check that the folder is writable and the disk is not full.", .path.display())]
    Write {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Serialisation failed (should not happen).
    #[error("Could not prepare the settings for saving: {0}")]
    Serialize(String),
}

/// Loaded settings plus, if the file was bad, a message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedSettings {
    /// The settings (defaults where the file had nothing usable).
    pub settings: Settings,
    /// What went wrong, including where the original file was backed up.
    pub warning: Option<String>,
}

impl Settings {
    /// `dir/settings.toml`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(SETTINGS_FILE_NAME)
    }

    /// Loads `dir/settings.toml`. Missing → defaults. Unreadable or from a newer TopicScope →
    /// backed up next to it, defaults used, and a warning returned.
    pub fn load(dir: &Path) -> LoadedSettings {
        let path = Self::path_in(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return LoadedSettings {
                    settings: Settings::default(),
                    warning: None,
                };
            }
            Err(error) => return set_aside(&path, &error.to_string(), config_file::move_aside),
        };
        match toml::from_str::<Settings>(&text) {
            Ok(settings) if settings.version > SETTINGS_FILE_VERSION => set_aside(
                &path,
                &format!(
                    "it was written by a newer TopicScope (format version {})",
                    settings.version
                ),
                config_file::copy_aside,
            ),
            Ok(settings) => LoadedSettings {
                settings: Settings {
                    version: SETTINGS_FILE_VERSION,
                    ..settings
                },
                warning: None,
            },
            Err(error) => set_aside(&path, error.message().trim(), config_file::move_aside),
        }
    }

    /// Saves to `dir/settings.toml` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), SettingsError> {
        let path = Self::path_in(dir);
        let saved = Settings {
            version: SETTINGS_FILE_VERSION,
            ..self.clone()
        };
        let body = toml::to_string_pretty(&saved)
            .map_err(|error| SettingsError::Serialize(error.to_string()))?;
        let text = format!("# TopicScope settings.\n\n{body}");
        config_file::write_atomically(&path, text.as_bytes())
            .map_err(|source| SettingsError::Write { path, source })
    }
}

fn set_aside(
    path: &Path,
    reason: &str,
    backup: fn(&Path) -> std::io::Result<PathBuf>,
) -> LoadedSettings {
    let warning = match backup(path) {
        Ok(backup_path) => format!(
            "The settings file {} could not be used ({reason}). It was backed up to {}; default settings are used.",
            path.display(),
            backup_path.display()
        ),
        Err(error) => format!(
            "The settings file {} could not be used ({reason}) nor backed up ({error}); default settings are used.",
            path.display()
        ),
    };
    tracing::warn!("{warning}");
    LoadedSettings {
        settings: Settings::default(),
        warning: Some(warning),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_settings_file_gives_defaults_without_warning() {
        let dir = tempfile::tempdir().expect("temp dir");
        let loaded = Settings::load(dir.path());
        assert_eq!(
            loaded,
            LoadedSettings {
                settings: Settings::default(),
                warning: None
            }
        );
    }

    #[test]
    fn settings_round_trip_through_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Settings {
            theme: Theme::Light,
            last_profile_id: Some("abc".into()),
            limits: LimitsSettings {
                memory_budget_mib: 64,
                series_points: 10,
                ..LimitsSettings::default()
            },
            inbox_capacity_messages: 5,
            ..Settings::default()
        };
        settings.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(Settings::path_in(dir.path())).expect("read");
        assert!(text.contains("theme = \"light\""), "{text}");
        assert!(text.contains("memory_budget_mib = 64"), "{text}");
        assert_eq!(Settings::load(dir.path()).settings, settings);
    }

    #[test]
    fn partial_settings_file_fills_in_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(Settings::path_in(dir.path()), "theme = \"dark\"\n").expect("write");
        let loaded = Settings::load(dir.path());
        assert_eq!(loaded.warning, None);
        assert_eq!(
            loaded.settings,
            Settings {
                theme: Theme::Dark,
                ..Settings::default()
            }
        );
    }

    #[test]
    fn corrupt_settings_file_is_backed_up_and_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(Settings::path_in(dir.path()), "theme = [").expect("write");
        let loaded = Settings::load(dir.path());
        assert_eq!(loaded.settings, Settings::default());
        let warning = loaded.warning.expect("warning");
        assert!(warning.contains("settings.backup-"), "{warning}");
        assert!(!Settings::path_in(dir.path()).exists());
    }

    #[test]
    fn settings_from_a_newer_version_are_copied_aside_not_moved() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(Settings::path_in(dir.path()), "version = 9\n").expect("write");
        let loaded = Settings::load(dir.path());
        assert!(
            loaded
                .warning
                .expect("warning")
                .contains("newer TopicScope")
        );
        assert!(Settings::path_in(dir.path()).exists());
    }

    #[test]
    fn limits_convert_mib_and_refuse_useless_values() {
        let limits = LimitsSettings {
            memory_budget_mib: 1,
            series_points: 0,
            ..LimitsSettings::default()
        }
        .to_limits();
        assert_eq!(limits.memory_budget_bytes, 16 << 20);
        assert_eq!(limits.series_points, 2);
        let default = LimitsSettings::default().to_limits();
        assert_eq!(
            default.memory_budget_bytes,
            Limits::default().memory_budget_bytes
        );
    }
}
