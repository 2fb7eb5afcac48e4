//! Crash-safe writing and backing up of the app's small config files (profiles, settings).
//!
//! A file is replaced by writing a temporary file in the same directory, flushing it to disk and
//! renaming it over the old one, so a crash or full disk leaves either the old or the new file,
//! never half of one. Files that cannot be read are moved (or copied) aside to a timestamped
//! backup next to them instead of being overwritten.
//!
//! Files are private (see [`crate::model::files`]): a new file is 0600 and a folder created for
//! it 0700 on Unix; a rewrite keeps the mode of the file it replaces, so a user's `chmod` stays.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::model::files::{create_private_dir_all, keep_mode_of, new_private_file_options};

/// Replaces `path` with `contents` atomically (temp file in the same directory, fsync, rename).
/// Creates the parent directory if needed (private). On error no temp file is left behind.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    create_private_dir_all(dir)?;
    let temp_path = temp_path_for(path);
    let result =
        write_and_sync(&temp_path, path, contents).and_then(|()| fs::rename(&temp_path, path));
    if result.is_err() {
        // Best effort: the write already failed, and a leftover temp file must not pile up.
        let _ = fs::remove_file(&temp_path);
        return result;
    }
    sync_dir(dir);
    Ok(())
}

/// Renames `path` to a fresh timestamped backup next to it and returns the backup's path.
pub fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let backup = backup_path_for(path);
    fs::rename(path, &backup)?;
    Ok(backup)
}

/// Copies `path` to a fresh timestamped backup next to it and returns the backup's path.
pub fn copy_aside(path: &Path) -> io::Result<PathBuf> {
    let backup = backup_path_for(path);
    fs::copy(path, &backup)?;
    Ok(backup)
}

/// `dir/profiles.toml` → `dir/profiles.backup-20250131T120000Z.toml` (UTC), with `-2`, `-3`, …
/// appended when that name is taken, so no backup ever overwrites another.
pub fn backup_path_for(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let dir = parent_dir(path);
    let mut candidate = dir.join(format!("{stem}.backup-{stamp}{extension}"));
    let mut counter = 2;
    while candidate.exists() {
        candidate = dir.join(format!("{stem}.backup-{stamp}-{counter}{extension}"));
        counter += 1;
    }
    candidate
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce: u32 = rand::random();
    parent_dir(path).join(format!(".{name}.tmp-{}-{nonce:08x}", std::process::id()))
}

/// Writes the temp file (private, or with the mode of the file it will replace) and syncs it.
fn write_and_sync(temp_path: &Path, replaces: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = new_private_file_options().open(temp_path)?;
    keep_mode_of(replaces, &file)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes the rename itself durable. Not possible on every platform; failure only weakens
/// crash safety, it does not lose the new contents, so it is logged rather than returned.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    {
        if let Err(error) = fs::File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!("could not sync directory {}: {error}", dir.display());
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Sorted names of the files in `dir` (shared with other modules' tests).
    pub(crate) fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_write_replaces_contents_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.toml");
        write_atomically(&path, b"one").expect("first write");
        write_atomically(&path, b"two").expect("second write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "two");
        assert_eq!(file_names(dir.path()), ["a.toml"]);
    }

    #[test]
    fn atomic_write_creates_missing_directories() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/deeper/a.toml");
        write_atomically(&path, b"x").expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"x");
    }

    #[test]
    fn failed_atomic_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A directory where the file should be: the final rename fails.
        let path = dir.path().join("taken");
        fs::create_dir(&path).expect("mkdir");
        fs::write(path.join("inside"), "keep").expect("write");
        assert!(write_atomically(&path, b"x").is_err());
        assert_eq!(file_names(dir.path()), ["taken"]);
    }

    #[cfg(unix)]
    #[test]
    fn config_files_are_private_and_a_rewrite_keeps_the_users_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("TopicScope");
        let path = dir.join("profiles.toml");
        write_atomically(&path, b"one").expect("write");
        assert_eq!(mode(&dir), 0o700, "the config folder");
        assert_eq!(mode(&path), 0o600, "a new file");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomically(&path, b"two").expect("rewrite");
        assert_eq!(mode(&path), 0o640, "the user's chmod survives the rewrite");
        assert_eq!(fs::read_to_string(&path).expect("read"), "two");
    }

    #[test]
    fn backups_never_overwrite_each_other() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("profiles.toml");
        fs::write(&path, "first").expect("write");
        let first = copy_aside(&path).expect("copy");
        let second = move_aside(&path).expect("move");
        assert_ne!(first, second);
        assert!(!path.exists());
        assert_eq!(fs::read_to_string(&first).expect("read"), "first");
        assert_eq!(fs::read_to_string(&second).expect("read"), "first");
        let name = first
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("profiles.backup-") && name.ends_with(".toml"),
            "{name}"
        );
    }
}
