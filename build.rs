//! Build script: records the commit and the build date for `topicscope --version` and the About
//! dialog, and on Windows hosts embeds the icon and version resource in the executable.
//!
//! It works without git (a source tarball): the commit then comes from `TOPICSCOPE_COMMIT`, or
//! from `.cargo_vcs_info.json` (a crate packaged by `cargo package`), or reads "unknown". It
//! reruns only when the checked-out commit changes (`.git/HEAD` and the branch's ref) or one of
//! its variables does, not on every build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TOPICSCOPE_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());

    let commit = std::env::var("TOPICSCOPE_COMMIT")
        .ok()
        .filter(|commit| !commit.trim().is_empty())
        .map(|commit| commit.trim().to_owned())
        .or_else(|| git_commit(&manifest_dir))
        .or_else(|| packaged_commit(&manifest_dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TOPICSCOPE_COMMIT={commit}");
    println!("cargo:rustc-env=TOPICSCOPE_BUILD_DATE={}", build_date());

    windows_resource(&manifest_dir);
}

/// The short commit id when the crate is the top of a git checkout (not a folder inside some
/// other repository); also asks cargo to rerun when HEAD or the branch moves.
fn git_commit(manifest_dir: &Path) -> Option<String> {
    let top = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), manifest_dir) {
        return None;
    }
    // Watch only files that exist: a missing one would make cargo rerun this script every build.
    let mut watched = vec![git(manifest_dir, &["rev-parse", "--git-path", "HEAD"])?];
    if let Some(reference) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(manifest_dir, &["rev-parse", "--git-path", &reference]));
        watched.extend(git(
            manifest_dir,
            &["rev-parse", "--git-path", "packed-refs"],
        ));
    }
    for path in watched {
        let path = manifest_dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    git(manifest_dir, &["rev-parse", "--short=12", "HEAD"])
}

/// Runs git in `dir`; its trimmed output if it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The commit `cargo package` recorded in `.cargo_vcs_info.json` ("sha1": "…").
fn packaged_commit(manifest_dir: &Path) -> Option<String> {
    let info = std::fs::read_to_string(manifest_dir.join(".cargo_vcs_info.json")).ok()?;
    let after = &info[info.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find('"')? + 1;
    let sha: String = after[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() >= 12).then(|| sha[..12].to_owned())
}

/// `SOURCE_DATE_EPOCH` (reproducible builds; `scripts/package.sh` sets it to the commit's
/// time) or today, as YYYY-MM-DD in UTC.
fn build_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs() as i64)
        });
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The icon and version information (from Cargo.toml) in the .exe, when building for Windows
/// on Windows (winresource is a build dependency of Windows hosts only).
#[cfg(windows)]
fn windows_resource(manifest_dir: &Path) {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let icon = manifest_dir.join("packaging/windows/topicscope.ico");
    println!("cargo:rerun-if-changed={}", icon.display());
    let mut resource = winresource::WindowsResource::new();
    resource
        .set_icon(&icon.to_string_lossy())
        .set("ProductName", "TopicScope")
        .set("FileDescription", "TopicScope MQTT explorer");
    if let Err(error) = resource.compile() {
        println!("cargo:warning=the Windows icon and version resource were not embedded: {error}");
    }
}

#[cfg(not(windows))]
fn windows_resource(_manifest_dir: &Path) {}
