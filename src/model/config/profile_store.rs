//! The saved profiles: a human-readable, versioned TOML file, written atomically.
//!
//! ```toml
//! version = 1
//!
//! [[profiles]]
//! id = "3f2a…"
//! name = "Local Mosquitto"
//! host = "localhost"
//! …
//! ```
//!
//! Loading never fails: a missing file is an empty list; a file that cannot be read is moved
//! aside to a timestamped backup; entries that cannot be read are skipped while every other
//! profile is kept; a file from a newer TopicScope is backed up before anything can overwrite
//! it. Each case leaves a [`LoadWarning`] (with the backup's path) for the UI to show.
//! Passwords are never written here (see [`crate::model::config::profile::PasswordStorage`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::config::config_file;
use crate::model::config::profile::{Profile, ProfileError, generate_client_id, new_profile_id};

/// File name of the profile file inside the config directory.
pub const PROFILES_FILE_NAME: &str = "profiles.toml";
/// The file format version this build reads and writes.
pub const PROFILES_FILE_VERSION: i64 = 1;

const FILE_HEADER: &str = "# TopicScope connection profiles.\n\
# Passwords are never stored here: they live in the OS keychain or are asked for at connect time.\n\n";

/// The platform's config directory for TopicScope (`~/.config/TopicScope` on Linux), if the
/// platform has one (no home directory → `None`).
pub fn default_config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("io", "TopicScope", "TopicScope")
        .map(|dirs| dirs.config_dir().to_owned())
}

/// Something went wrong while loading; profiles may be missing. Shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    /// What happened and what was done about it, in full sentences.
    pub message: String,
    /// Where the original file was saved, if a backup was made.
    pub backup_path: Option<PathBuf>,
    /// One line per profile entry that was left out.
    pub skipped_entries: Vec<String>,
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for entry in &self.skipped_entries {
            write!(f, "\n  • {entry}")?;
        }
        Ok(())
    }
}

/// Why a change to the profiles could not be made or saved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Writing the file failed (disk full, read-only folder, …). Nothing was changed.
    #[error("Could not save profiles to {}: {source}. Check that the folder is writable and the disk is not full.", .path.display())]
    Write {
        /// The profile file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The profiles could not be turned into TOML (should not happen).
    #[error("Could not prepare the profiles for saving: {0}")]
    Serialize(String),
    /// No profile with this id.
    #[error("There is no profile with id {0} (was it deleted?).")]
    NotFound(String),
    /// The profile does not pass [`Profile::validate`].
    #[error("The profile was not saved: {}", join_errors(.0))]
    Invalid(Vec<ProfileError>),
    /// The existing file could not be read nor moved aside, so it must not be overwritten.
    #[error("{} could not be read or backed up, so it is not overwritten. Fix its permissions or move it away, then restart.", .0.display())]
    WriteBlocked(PathBuf),
}

fn join_errors(errors: &[ProfileError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The profiles of one config directory, kept in memory and saved on every change.
#[derive(Debug)]
pub struct ProfileStore {
    path: PathBuf,
    profiles: Vec<Profile>,
    load_warning: Option<LoadWarning>,
    write_blocked: bool,
}

#[derive(Serialize)]
struct ProfileFile<'a> {
    version: i64,
    profiles: &'a [Profile],
}

/// What loading produced before it becomes a [`ProfileStore`].
struct Loaded {
    profiles: Vec<Profile>,
    warning: Option<LoadWarning>,
    write_blocked: bool,
}

impl Loaded {
    fn empty() -> Self {
        Self {
            profiles: Vec::new(),
            warning: None,
            write_blocked: false,
        }
    }
}

impl ProfileStore {
    /// Loads `dir/profiles.toml` (see the module docs for what happens to bad files).
    pub fn open(dir: &Path) -> Self {
        let path = dir.join(PROFILES_FILE_NAME);
        let loaded = load(&path);
        if let Some(warning) = &loaded.warning {
            tracing::warn!("{warning}");
        }
        Self {
            path,
            profiles: loaded.profiles,
            load_warning: loaded.warning,
            write_blocked: loaded.write_blocked,
        }
    }

    /// The profile file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All profiles, in the order they were created.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The profile with this id.
    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// The profile whose id equals `name_or_id`, else the first whose name matches
    /// (case-insensitively). Used by `--profile NAME`.
    pub fn find(&self, name_or_id: &str) -> Option<&Profile> {
        let wanted = name_or_id.trim();
        self.get(wanted).or_else(|| {
            self.profiles
                .iter()
                .find(|p| p.name.trim().eq_ignore_ascii_case(wanted))
        })
    }

    /// What went wrong while loading, if anything.
    pub fn load_warning(&self) -> Option<&LoadWarning> {
        self.load_warning.as_ref()
    }

    /// Forgets the load warning (the user has read it).
    pub fn dismiss_load_warning(&mut self) {
        self.load_warning = None;
    }

    /// Adds a profile (a new id is given if it has none or a taken one) and saves.
    /// Returns the id.
    pub fn create(&mut self, mut profile: Profile) -> Result<String, StoreError> {
        profile.validate().map_err(StoreError::Invalid)?;
        if profile.id.is_empty() || self.get(&profile.id).is_some() {
            profile.id = new_profile_id();
        }
        let id = profile.id.clone();
        let mut profiles = self.profiles.clone();
        profiles.push(profile);
        self.commit(profiles)?;
        Ok(id)
    }

    /// Replaces the profile with the same id and saves.
    pub fn update(&mut self, profile: Profile) -> Result<(), StoreError> {
        profile.validate().map_err(StoreError::Invalid)?;
        let index = self.index_of(&profile.id)?;
        let mut profiles = self.profiles.clone();
        profiles[index] = profile;
        self.commit(profiles)
    }

    /// Adds a copy (new id, new client id, "Copy of …") right after the original and saves.
    pub fn duplicate(&mut self, id: &str) -> Result<Profile, StoreError> {
        let index = self.index_of(id)?;
        let copy = self.profiles[index].duplicate();
        let mut profiles = self.profiles.clone();
        profiles.insert(index + 1, copy.clone());
        self.commit(profiles)?;
        Ok(copy)
    }

    /// Removes the profile and saves. Returns it (its keychain entry is the caller's business).
    pub fn delete(&mut self, id: &str) -> Result<Profile, StoreError> {
        let index = self.index_of(id)?;
        let mut profiles = self.profiles.clone();
        let removed = profiles.remove(index);
        self.commit(profiles)?;
        Ok(removed)
    }

    fn index_of(&self, id: &str) -> Result<usize, StoreError> {
        self.profiles
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// Writes `profiles` and only then makes them the current list, so a failed save changes
    /// nothing in memory either.
    fn commit(&mut self, profiles: Vec<Profile>) -> Result<(), StoreError> {
        if self.write_blocked {
            return Err(StoreError::WriteBlocked(self.path.clone()));
        }
        write_profiles(&self.path, &profiles)?;
        self.profiles = profiles;
        Ok(())
    }
}

fn write_profiles(path: &Path, profiles: &[Profile]) -> Result<(), StoreError> {
    let file = ProfileFile {
        version: PROFILES_FILE_VERSION,
        profiles,
    };
    let body =
        toml::to_string_pretty(&file).map_err(|error| StoreError::Serialize(error.to_string()))?;
    let text = format!("{FILE_HEADER}{body}");
    config_file::write_atomically(path, text.as_bytes()).map_err(|source| StoreError::Write {
        path: path.to_owned(),
        source,
    })
}

fn load(path: &Path) -> Loaded {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Loaded::empty(),
        Err(error) => return set_aside_unreadable(path, &error.to_string()),
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return set_aside_unreadable(path, "it is not UTF-8 text");
    };
    let table = match toml::from_str::<toml::Table>(&text) {
        Ok(table) => table,
        Err(error) => {
            return set_aside_unreadable(
                path,
                &format!("it is not valid TOML: {}", error.message()),
            );
        }
    };
    let version = match table.get("version") {
        None => PROFILES_FILE_VERSION,
        Some(toml::Value::Integer(version)) => *version,
        Some(_) => return set_aside_unreadable(path, "its \"version\" is not a number"),
    };
    let entries = match table.get("profiles") {
        None => Vec::new(),
        Some(toml::Value::Array(entries)) => entries.clone(),
        Some(_) => {
            return set_aside_unreadable(
                path,
                "its \"profiles\" is not a list of [[profiles]] tables",
            );
        }
    };
    let (profiles, skipped_entries) = parse_entries(entries);
    if version > PROFILES_FILE_VERSION {
        return keep_future_version(path, version, profiles, skipped_entries);
    }
    if version < 1 {
        return set_aside_unreadable(
            path,
            &format!("its version {version} is not a known format"),
        );
    }
    if skipped_entries.is_empty() {
        return Loaded {
            profiles,
            warning: None,
            write_blocked: false,
        };
    }
    keep_valid_entries(path, profiles, skipped_entries)
}

/// Deserialises each `[[profiles]]` entry on its own, so one bad entry costs only itself.
/// Missing or repeated ids get fresh ones (ids key keychain entries, so they must be unique).
fn parse_entries(entries: Vec<toml::Value>) -> (Vec<Profile>, Vec<String>) {
    let mut profiles: Vec<Profile> = Vec::new();
    let mut skipped = Vec::new();
    let mut seen_ids = HashSet::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let label = entry_label(index, &entry);
        match entry.try_into::<Profile>() {
            Ok(mut profile) => {
                if profile.id.trim().is_empty() || !seen_ids.insert(profile.id.clone()) {
                    profile.id = new_profile_id();
                    seen_ids.insert(profile.id.clone());
                }
                // A hand-written entry may lack a client id; give it one rather than an error.
                if profile.client_id.is_empty() {
                    profile.client_id = generate_client_id();
                }
                profiles.push(profile);
            }
            Err(error) => skipped.push(format!("{label}: {}", error.message().trim())),
        }
    }
    (profiles, skipped)
}

fn entry_label(index: usize, entry: &toml::Value) -> String {
    match entry.get("name").and_then(toml::Value::as_str) {
        Some(name) => format!("profile {} (\"{name}\")", index + 1),
        None => format!("profile {}", index + 1),
    }
}

/// The whole file is unusable: move it aside so the next save cannot destroy it.
fn set_aside_unreadable(path: &Path, reason: &str) -> Loaded {
    match config_file::move_aside(path) {
        Ok(backup) => Loaded {
            profiles: Vec::new(),
            warning: Some(LoadWarning {
                message: format!(
                    "The profile file {} could not be read ({reason}). It was moved to {} and TopicScope starts with no profiles; you can repair that file and copy it back.",
                    path.display(),
                    backup.display()
                ),
                backup_path: Some(backup),
                skipped_entries: Vec::new(),
            }),
            write_blocked: false,
        },
        Err(error) => Loaded {
            profiles: Vec::new(),
            warning: Some(LoadWarning {
                message: format!(
                    "The profile file {} could not be read ({reason}) nor moved aside ({error}). It is left untouched and profile changes will not be saved until you fix or remove it.",
                    path.display()
                ),
                backup_path: None,
                skipped_entries: Vec::new(),
            }),
            write_blocked: true,
        },
    }
}

/// Some entries were bad: back the original up, then rewrite the file with the good ones so the
/// warning does not repeat on every start.
fn keep_valid_entries(path: &Path, profiles: Vec<Profile>, skipped_entries: Vec<String>) -> Loaded {
    let count = skipped_entries.len();
    let backup = match config_file::copy_aside(path) {
        Ok(backup) => backup,
        Err(error) => {
            let message = format!(
                "{count} profile(s) in {} could not be read and were left out; the file could not be backed up ({error}), so it is left untouched and profile changes will not be saved.",
                path.display()
            );
            return Loaded {
                profiles,
                warning: Some(LoadWarning {
                    message,
                    backup_path: None,
                    skipped_entries,
                }),
                write_blocked: true,
            };
        }
    };
    let rewrite_note = match write_profiles(path, &profiles) {
        Ok(()) => String::new(),
        Err(error) => format!(" Rewriting the file failed: {error}"),
    };
    let message = format!(
        "{count} profile(s) in {} could not be read and were left out; all other profiles were kept. The original file was saved as {}.{rewrite_note}",
        path.display(),
        backup.display()
    );
    Loaded {
        profiles,
        warning: Some(LoadWarning {
            message,
            backup_path: Some(backup),
            skipped_entries,
        }),
        write_blocked: false,
    }
}

/// A newer TopicScope wrote this file: keep a copy before this version may overwrite it.
fn keep_future_version(
    path: &Path,
    version: i64,
    profiles: Vec<Profile>,
    skipped_entries: Vec<String>,
) -> Loaded {
    match config_file::copy_aside(path) {
        Ok(backup) => Loaded {
            warning: Some(LoadWarning {
                message: format!(
                    "The profile file {} was written by a newer TopicScope (format version {version}; this one reads version {PROFILES_FILE_VERSION}). The profiles it could read are shown. The original was copied to {}; saving a change here rewrites the file in version {PROFILES_FILE_VERSION} format.",
                    path.display(),
                    backup.display()
                ),
                backup_path: Some(backup),
                skipped_entries,
            }),
            profiles,
            write_blocked: false,
        },
        Err(error) => Loaded {
            warning: Some(LoadWarning {
                message: format!(
                    "The profile file {} was written by a newer TopicScope (format version {version}) and could not be backed up ({error}). It is left untouched and profile changes will not be saved.",
                    path.display()
                ),
                backup_path: None,
                skipped_entries,
            }),
            profiles,
            write_blocked: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::presets::Preset;
    use crate::model::config::profile::{PasswordStorage, Subscription, Transport};
    use crate::model::topic::qos::Qos;

    fn profile_named(name: &str) -> Profile {
        Profile {
            name: name.into(),
            ..Profile::new_with_fresh_ids()
        }
    }

    fn backups_in(dir: &Path) -> Vec<PathBuf> {
        let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.to_string_lossy().contains(".backup-"))
            .collect();
        backups.sort();
        backups
    }

    #[test]
    fn missing_file_means_no_profiles_and_no_warning() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ProfileStore::open(dir.path());
        assert!(store.profiles().is_empty());
        assert_eq!(store.load_warning(), None);
        assert!(!store.path().exists(), "opening must not create the file");
    }

    #[test]
    fn profiles_survive_a_save_and_reload_unchanged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let mut aedifion = Preset::AedifionProductionWebSocket.profile();
        aedifion.username = "me".into();
        aedifion.set_aedifion_project("lbg01/mybuilding");
        aedifion.add_aedifion_extra_subscriptions();
        let local = Profile {
            subscriptions: vec![Subscription::new("a/+/b", Qos::ExactlyOnce)],
            keep_alive_secs: 5,
            clean_session: false,
            ..Preset::LocalMosquitto.profile()
        };
        store.create(aedifion.clone()).expect("create");
        store.create(local.clone()).expect("create");

        let reloaded = ProfileStore::open(dir.path());
        assert_eq!(reloaded.profiles(), &[aedifion, local]);
        assert_eq!(reloaded.load_warning(), None);
    }

    #[test]
    fn file_is_versioned_human_readable_toml() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        store.create(profile_named("Readable")).expect("create");
        let text = std::fs::read_to_string(store.path()).expect("read");
        assert!(text.contains("version = 1"), "{text}");
        assert!(text.contains("[[profiles]]"), "{text}");
        assert!(text.contains("name = \"Readable\""), "{text}");
        assert!(text.contains("qos = 0"), "{text}");
    }

    #[test]
    fn saving_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let id = store.create(profile_named("A")).expect("create");
        store.duplicate(&id).expect("duplicate");
        assert_eq!(
            crate::model::config::config_file::tests::file_names(dir.path()),
            [PROFILES_FILE_NAME]
        );
    }

    #[test]
    fn passwords_never_reach_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let profile = Profile {
            username: "alice".into(),
            password_storage: PasswordStorage::Keychain,
            ..profile_named("Secret")
        };
        store.create(profile).expect("create");
        let text = std::fs::read_to_string(store.path()).expect("read");
        assert!(text.contains("password_storage = \"keychain\""), "{text}");
        for line in text.lines().filter(|line| line.contains("password")) {
            assert!(
                line.starts_with("password_storage") || line.starts_with('#'),
                "unexpected line {line}"
            );
        }
    }

    #[test]
    fn crud_keeps_ids_stable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let first = store.create(profile_named("First")).expect("create");
        let second = store.create(profile_named("Second")).expect("create");

        let mut edited = store.get(&first).expect("exists").clone();
        edited.name = "First, renamed".into();
        store.update(edited).expect("update");
        assert_eq!(store.get(&first).expect("exists").name, "First, renamed");

        let copy = store.duplicate(&first).expect("duplicate");
        assert_eq!(copy.name, "Copy of First, renamed");
        let ids: Vec<&str> = store.profiles().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, [first.as_str(), copy.id.as_str(), second.as_str()]);

        store.delete(&first).expect("delete");
        let reloaded = ProfileStore::open(dir.path());
        let ids: Vec<&str> = reloaded.profiles().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, [copy.id.as_str(), second.as_str()]);
    }

    #[test]
    fn invalid_profiles_and_unknown_ids_are_refused_without_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let invalid = Profile {
            host: String::new(),
            ..profile_named("Bad")
        };
        assert!(matches!(store.create(invalid), Err(StoreError::Invalid(_))));
        assert!(matches!(
            store.update(profile_named("Ghost")),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(store.delete("nope"), Err(StoreError::NotFound(_))));
        assert!(store.profiles().is_empty());
        assert!(!store.path().exists());
    }

    #[test]
    fn find_matches_id_or_name_case_insensitively() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let id = store.create(profile_named("Building A")).expect("create");
        assert_eq!(
            store.find("building a").map(|p| p.id.as_str()),
            Some(id.as_str())
        );
        assert_eq!(store.find(&id).map(|p| p.name.as_str()), Some("Building A"));
        assert!(store.find("Building B").is_none());
    }

    #[test]
    fn corrupt_file_is_moved_to_a_backup_and_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(PROFILES_FILE_NAME);
        std::fs::write(&path, "version = 1\n[[profiles]\nname = ").expect("write");
        let store = ProfileStore::open(dir.path());
        assert!(store.profiles().is_empty());
        let warning = store.load_warning().expect("warning");
        let backup = warning.backup_path.clone().expect("backup path");
        assert_eq!(backups_in(dir.path()), std::slice::from_ref(&backup));
        assert!(
            warning.message.contains(&backup.display().to_string()),
            "{}",
            warning.message
        );
        assert_eq!(
            std::fs::read_to_string(&backup).expect("read"),
            "version = 1\n[[profiles]\nname = "
        );
        assert!(!path.exists());
    }

    #[test]
    fn non_utf8_file_is_backed_up_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(PROFILES_FILE_NAME), [0xff, 0xfe, 0x00]).expect("write");
        let store = ProfileStore::open(dir.path());
        assert!(
            store
                .load_warning()
                .expect("warning")
                .message
                .contains("UTF-8")
        );
        assert_eq!(backups_in(dir.path()).len(), 1);
    }

    #[test]
    fn invalid_entry_is_skipped_and_every_other_profile_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(PROFILES_FILE_NAME);
        let original = r#"version = 1

[[profiles]]
id = "aaa"
name = "Good one"
host = "localhost"
client_id = "TopicScopeGood"

[[profiles]]
id = "bbb"
name = "Broken"
port = "not a number"

[[profiles]]
id = "ccc"
name = "Good two"
transport = "tls"
client_id = "TopicScopeGood2"
subscriptions = [{ filter = "x/#", qos = 1 }]
"#;
        std::fs::write(&path, original).expect("write");
        let store = ProfileStore::open(dir.path());
        let names: Vec<&str> = store.profiles().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Good one", "Good two"]);
        assert_eq!(store.profiles()[1].transport, Transport::Tls);

        let warning = store.load_warning().expect("warning");
        assert_eq!(warning.skipped_entries.len(), 1);
        assert!(
            warning.skipped_entries[0].contains("Broken"),
            "{:?}",
            warning.skipped_entries
        );
        let backup = warning.backup_path.clone().expect("backup");
        assert_eq!(std::fs::read_to_string(backup).expect("read"), original);

        let reloaded = ProfileStore::open(dir.path());
        assert_eq!(reloaded.load_warning(), None, "the rewritten file is clean");
        assert_eq!(reloaded.profiles(), store.profiles());
    }

    #[test]
    fn future_version_is_backed_up_and_not_overwritten_on_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(PROFILES_FILE_NAME);
        let original = "version = 7\n\n[[profiles]]\nid = \"x\"\nname = \"From the future\"\nclient_id = \"abc\"\nhologram = true\n";
        std::fs::write(&path, original).expect("write");
        let store = ProfileStore::open(dir.path());
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            original,
            "left untouched"
        );
        assert_eq!(store.profiles().len(), 1);
        let warning = store.load_warning().expect("warning");
        assert!(
            warning.message.contains("newer TopicScope"),
            "{}",
            warning.message
        );
        let backup = warning.backup_path.clone().expect("backup");
        assert_eq!(std::fs::read_to_string(backup).expect("read"), original);
    }

    #[test]
    fn repeated_or_missing_ids_are_replaced_on_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "version = 1\n[[profiles]]\nid = \"same\"\nname = \"A\"\n[[profiles]]\nid = \"same\"\nname = \"B\"\n[[profiles]]\nname = \"C\"\n";
        std::fs::write(dir.path().join(PROFILES_FILE_NAME), text).expect("write");
        let store = ProfileStore::open(dir.path());
        let ids: HashSet<&str> = store.profiles().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), 3);
        assert!(!ids.contains(""));
        assert_eq!(store.profiles()[0].id, "same", "the first keeps its id");
    }

    #[test]
    fn hand_written_entry_without_client_id_gets_a_generated_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "version = 1\n[[profiles]]\nid = \"a\"\nname = \"Minimal\"\nhost = \"broker\"\n";
        std::fs::write(dir.path().join(PROFILES_FILE_NAME), text).expect("write");
        let store = ProfileStore::open(dir.path());
        let profile = &store.profiles()[0];
        assert!(
            profile.client_id.starts_with("TopicScope"),
            "{}",
            profile.client_id
        );
        assert_eq!(profile.validate(), Ok(()));
    }

    #[cfg(unix)]
    #[test]
    fn failed_save_changes_nothing_in_memory() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        store.create(profile_named("Kept")).expect("create");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500))
            .expect("chmod");
        let probe = dir.path().join("probe");
        if std::fs::write(&probe, "x").is_ok() {
            // Running as root: permissions do not stop us, so this case cannot be staged here.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
            return;
        }
        let result = store.create(profile_named("Lost"));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let error = result.expect_err("read-only folder");
        assert!(error.to_string().contains("writable"), "{error}");
        let names: Vec<&str> = store.profiles().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Kept"]);
    }
}
