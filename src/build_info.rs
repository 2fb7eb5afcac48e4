//! What this binary is: version (Cargo.toml is the single source), commit and build date (from
//! `build.rs`), licence and links. Shown by `topicscope --version` and the About dialog.

/// The version from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Short id of the commit the binary was built from, or "unknown" (a tarball without git and
/// without `TOPICSCOPE_COMMIT`).
pub const COMMIT: &str = env!("TOPICSCOPE_COMMIT");

/// Day of the build (UTC, YYYY-MM-DD): `SOURCE_DATE_EPOCH` for packages, else the day the build
/// script last ran (it reruns when the commit changes).
pub const BUILD_DATE: &str = env!("TOPICSCOPE_BUILD_DATE");

/// The licence expression from Cargo.toml.
pub const LICENSE: &str = env!("CARGO_PKG_LICENSE");

/// The project's home page from Cargo.toml.
pub const HOMEPAGE: &str = env!("CARGO_PKG_HOMEPAGE");

/// What `topicscope --version` prints after the program name.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TOPICSCOPE_COMMIT"),
    ", built ",
    env!("TOPICSCOPE_BUILD_DATE"),
    ")"
);

/// The aedifion.io MQTT API documentation, linked from the About dialog.
pub const AEDIFION_MQTT_DOCS: &str = "https://docs.aedifion.io/en/developers/mqtt-api/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_names_version_commit_and_date() {
        assert!(VERSION_LINE.starts_with(VERSION));
        assert!(VERSION_LINE.contains(&format!("commit {COMMIT}")));
        assert!(VERSION_LINE.contains(&format!("built {BUILD_DATE}")));
    }

    #[test]
    fn the_build_date_is_a_calendar_day() {
        let parts: Vec<&str> = BUILD_DATE.split('-').collect();
        assert_eq!(parts.len(), 3, "{BUILD_DATE}");
        assert_eq!(parts[0].len(), 4, "{BUILD_DATE}");
        assert!(
            parts.iter().all(|part| part.parse::<u32>().is_ok()),
            "{BUILD_DATE}"
        );
    }

    #[test]
    fn a_git_checkout_records_the_commit_it_was_built_from() {
        // Without git (a tarball) the commit is "unknown" and there is nothing to compare.
        let Ok(output) = std::process::Command::new("git")
            .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
            .output()
        else {
            return;
        };
        if !output.status.success() || std::env::var_os("TOPICSCOPE_COMMIT").is_some() {
            return;
        }
        let head = String::from_utf8_lossy(&output.stdout);
        assert!(
            head.trim().starts_with(COMMIT),
            "built from {COMMIT}, HEAD is {head}"
        );
    }
}
