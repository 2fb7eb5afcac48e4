//! Quick checks of what the packages ship, without building them (scripts/package-test.sh
//! installs a real .deb): the desktop entry and the AppStream metainfo validate, the icons have
//! their sizes, every file the package tables name exists, and the binary's `--version`, man
//! page and completions come out of the clap definitions. Needs desktop-file-validate and
//! appstreamcli (scripts/install-deps.sh installs them).

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_topicscope");

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("{program} does not run ({error}); scripts/install-deps.sh installs it")
        })
}

fn manifest() -> toml::Table {
    read("Cargo.toml").parse().expect("Cargo.toml parses")
}

fn desktop_value(key: &str) -> String {
    read("packaging/linux/topicscope.desktop")
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in the desktop file"))
        .to_owned()
}

#[test]
fn the_desktop_entry_validates_and_starts_this_binary_with_its_icon() {
    let output = run(
        "desktop-file-validate",
        &[repo("packaging/linux/topicscope.desktop")
            .to_str()
            .expect("UTF-8 path")],
    );
    let messages = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && messages.trim().is_empty(),
        "{messages}"
    );
    assert_eq!(desktop_value("Exec"), env!("CARGO_PKG_NAME"));
    assert_eq!(desktop_value("Icon"), "topicscope");
    // The window's app id (X11 WM_CLASS, Wayland app_id) ties the window to this entry.
    assert_eq!(desktop_value("StartupWMClass"), "topicscope");
    assert!(read("src/main.rs").contains(".with_app_id(\"topicscope\")"));
}

#[test]
fn the_metainfo_validates_with_the_version_and_homepage_from_cargo_toml() {
    let dir = tempfile::tempdir().expect("temp dir");
    let filled = read("packaging/linux/topicscope.metainfo.xml.in")
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"))
        .replace("@DATE@", "2026-01-01")
        .replace("@HOMEPAGE@", env!("CARGO_PKG_HOMEPAGE"));
    assert!(!filled.contains('@'), "a placeholder is left: {filled}");
    let id = "io.github.topicscope.TopicScope";
    assert!(filled.contains(&format!("<id>{id}</id>")));
    assert!(filled.contains(&format!(
        "<release version=\"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
    let path = dir.path().join(format!("{id}.metainfo.xml"));
    std::fs::write(&path, filled).expect("written");
    let output = run(
        "appstreamcli",
        &["validate", "--no-net", path.to_str().expect("UTF-8 path")],
    );
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The packages install it under that id.
    assert!(read("Cargo.toml").contains(&format!("target/package-assets/{id}.metainfo.xml")));
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (word(16), word(20))
}

#[test]
fn the_hicolor_icons_have_the_size_their_folder_says() {
    for size in [16, 22, 24, 32, 48, 64, 128, 256, 512] {
        let path = repo(&format!(
            "packaging/icons/hicolor/{size}x{size}/apps/topicscope.png"
        ));
        assert_eq!(png_size(&path), (size, size), "{}", path.display());
    }
    assert_eq!(png_size(&repo("assets/topicscope.png")), (256, 256));
    assert_eq!(
        read("packaging/icons/hicolor/scalable/apps/topicscope.svg"),
        read("assets/topicscope.svg"),
        "run scripts/icons.sh after changing the SVG"
    );
    assert!(repo("packaging/windows/topicscope.ico").is_file());
    assert!(repo("packaging/macos/topicscope.icns").is_file());
}

#[test]
fn every_file_the_package_tables_name_exists_or_is_generated() {
    let manifest = manifest();
    let metadata = &manifest["package"]["metadata"];
    let mut sources: Vec<String> = metadata["deb"]["assets"]
        .as_array()
        .expect("deb assets")
        .iter()
        .map(|asset| asset[0].as_str().expect("source").to_owned())
        .collect();
    sources.extend(
        metadata["generate-rpm"]["assets"]
            .as_array()
            .expect("rpm assets")
            .iter()
            .map(|asset| asset["source"].as_str().expect("source").to_owned()),
    );
    assert!(sources.len() > 20);
    for source in sources {
        if source.starts_with("target/") {
            // Built or generated by scripts/package.sh.
            let generated = source.starts_with("target/package-assets/")
                || source == "target/release/topicscope"
                || source == "target/dist/topicscope";
            assert!(generated, "{source} is neither the binary nor generated");
            continue;
        }
        assert!(repo(&source).is_file(), "{source} does not exist");
    }
    for icon in metadata["packager"]["icons"].as_array().expect("icons") {
        let icon = icon.as_str().expect("path");
        assert!(repo(icon).is_file(), "{icon} does not exist");
    }
    assert!(repo("packaging/macos/Info.plist").is_file());
}

#[test]
fn version_shows_the_version_commit_and_build_date() {
    let output = run(BINARY, &["--version"]);
    assert!(output.status.success());
    let line = String::from_utf8(output.stdout).expect("UTF-8");
    let expected = format!("topicscope {}", topicscope::build_info::VERSION_LINE);
    assert_eq!(line.trim(), expected);
    assert!(line.contains(topicscope::build_info::COMMIT));
    assert!(line.starts_with(&format!(
        "topicscope {} (commit ",
        env!("CARGO_PKG_VERSION")
    )));
}

#[test]
fn completions_come_from_the_command_line_definition() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef topicscope"),
        ("fish", "complete -c topicscope"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = run(BINARY, &["generate", "completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).expect("UTF-8");
        assert!(script.contains(marker), "{shell}: {script}");
        for option in ["demo", "memory-budget", "config-dir", "hash-id"] {
            assert!(script.contains(option), "{shell} completes {option}");
        }
    }
}

#[test]
fn man_pages_cover_the_window_options_and_each_visible_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().join("man1");
    let output = run(
        BINARY,
        &[
            "generate",
            "man",
            "--out-dir",
            out_dir.to_str().expect("UTF-8 path"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let main_page = std::fs::read_to_string(out_dir.join("topicscope.1")).expect("topicscope.1");
    for text in [
        "\\-\\-demo",
        "\\-\\-profile",
        "TOPICSCOPE_PASSWORD",
        env!("CARGO_PKG_VERSION"),
    ] {
        assert!(main_page.contains(text), "topicscope.1 lacks {text}");
    }
    for command in [
        "decode",
        "hash-id",
        "publish",
        "setpoint",
        "headless",
        "demo-server",
    ] {
        assert!(
            out_dir.join(format!("topicscope-{command}.1")).is_file(),
            "no page for {command}"
        );
    }
    // The packaging command itself stays out of the user's manual and --help.
    assert!(!out_dir.join("topicscope-generate.1").exists());
    let help = run(BINARY, &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("hash-id"), "{help}");
    assert!(
        !help
            .lines()
            .any(|line| line.trim_start().starts_with("generate")),
        "{help}"
    );
}

#[test]
fn the_changelog_has_a_section_for_unreleased_work_or_this_version() {
    let changelog = read("CHANGELOG.md");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        changelog.contains("## [Unreleased]") || changelog.contains(&format!("## [{version}]")),
        "CHANGELOG.md needs a section for {version}"
    );
}
