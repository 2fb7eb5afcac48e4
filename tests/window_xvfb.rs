//! The real window under Xvfb: `topicscope --demo` opens a window, draws the demo building
//! (many distinct colours, not a blank frame) and keeps running. Needs Xvfb, xdotool and
//! ImageMagick (installed by scripts/test.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_display() -> String {
    for n in 120..200 {
        if !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        {
            return format!(":{n}");
        }
    }
    panic!("no free X display number between :120 and :199");
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

fn distinct_colours(png: &Path) -> u64 {
    let out = Command::new("convert")
        .arg(png)
        .args(["-format", "%k", "info:"])
        .output()
        .expect("ImageMagick `convert` runs (scripts/test.sh installs it)");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn demo_window_shows_a_drawn_explorer_under_xvfb() {
    let display = free_display();
    let _xvfb = KillOnDrop(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1400x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (scripts/test.sh installs it)"),
    );
    assert!(
        wait_until(Duration::from_secs(10), || Path::new(&format!(
            "/tmp/.X11-unix/X{}",
            &display[1..]
        ))
        .exists()),
        "Xvfb did not come up on {display}"
    );

    let home = tempfile::tempdir().expect("temp dir");
    let runtime = tempfile::tempdir().expect("temp dir");
    let config: PathBuf = home.path().join("config");
    let mut app = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_topicscope"))
            .arg("--demo")
            .arg("--config-dir")
            .arg(&config)
            .env("DISPLAY", &display)
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the topicscope binary starts"),
    );

    let window_found = wait_until(Duration::from_secs(60), || {
        Command::new("xdotool")
            .args(["search", "--name", "TopicScope"])
            .env("DISPLAY", &display)
            .output()
            .map(|o| o.status.success() && !o.stdout.is_empty())
            .unwrap_or(false)
    });
    assert!(
        window_found,
        "no window titled TopicScope appeared within 60 s"
    );

    // Give the demo broker and simulator time to fill the tree, then look at the screen.
    let shot = home.path().join("shot.png");
    let drawn = wait_until(Duration::from_secs(60), || {
        let ok = Command::new("import")
            .args(["-window", "root"])
            .arg(&shot)
            .env("DISPLAY", &display)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok && distinct_colours(&shot) > 64
    });
    assert!(
        drawn,
        "the window stayed (nearly) blank: fewer than 64 distinct colours on screen"
    );
    assert!(
        app.0.try_wait().expect("query the app process").is_none(),
        "the app exited while showing the demo"
    );
}
