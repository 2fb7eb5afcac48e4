//! Private files: what TopicScope writes under its config folder (profiles, settings, the audit
//! log) is for the user alone.
//!
//! On Unix, folders it creates are `0700` and files it creates are `0600`; a file rewritten in
//! place of an existing one keeps that file's mode (a user's `chmod` survives every save); the
//! audit log is appended without following a symlink, so a link planted in its place cannot
//! redirect the log into another file. Elsewhere the platform's defaults apply (on Windows the
//! profile folder already belongs to the user).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Mode of folders TopicScope creates (Unix).
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of files TopicScope creates (Unix).
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents; the ones created are private (0700 on Unix).
/// Existing folders keep their mode.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(PRIVATE_DIR_MODE);
    }
    builder.create(dir)
}

/// Options for a new file only the user may read (0600 on Unix): `create_new` + write.
pub fn new_private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(PRIVATE_FILE_MODE);
    }
    options
}

/// Opens `path` for appending, creating it private (0600 on Unix) if missing. On Unix a
/// symlink at `path` is refused (`O_NOFOLLOW`) rather than followed.
pub fn open_append_no_follow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    no_follow(&mut options);
    options.open(path)
}

/// Opens `path` for reading and writing (a lock file), creating it private if missing; a
/// symlink is refused on Unix.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    no_follow(&mut options);
    options.open(path)
}

fn no_follow(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(PRIVATE_FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    {
        let _ = options;
    }
}

/// Gives the file at `path` the mode of `original` if that exists (a rewrite keeps the user's
/// choice); a new file stays private. No-op outside Unix.
pub fn keep_mode_of(original: &Path, file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::metadata(original) {
            Ok(metadata) => {
                let mode = metadata.permissions().mode() & 0o7777;
                file.set_permissions(std::fs::Permissions::from_mode(mode))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (original, file);
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn created_folders_and_files_are_private() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("a/b");
        create_private_dir_all(&dir).expect("create");
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        new_private_file_options().open(&file).expect("create");
        assert_eq!(mode(&file), 0o600);
        let log = dir.join("log");
        open_append_no_follow(&log).expect("append");
        assert_eq!(mode(&log), 0o600);
    }

    #[test]
    fn appending_refuses_a_symlink() {
        let root = tempfile::tempdir().expect("temp dir");
        let target = root.path().join("elsewhere");
        std::fs::write(&target, "keep").expect("write");
        let link = root.path().join("audit.jsonl");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(open_append_no_follow(&link).is_err());
        assert!(open_lock_file(&link).is_err());
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep");
    }
}
