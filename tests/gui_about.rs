//! The About window with egui_kittest: reachable from the top bar, shows version, commit, build
//! date, licence and the config folder; "Open folder" runs on its own thread (the UI keeps
//! drawing) and a failure is shown in words.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use topicscope::app::{AppOptions, Startup, TopicScopeApp};
use topicscope::build_info;
use topicscope::model::config::profile_store::ProfileStore;
use topicscope::model::config::secret::MemorySecrets;
use topicscope::ui::about::{ABOUT_TITLE, AboutWindow, OPEN_FOLDER};
use topicscope::ui::explorer::ExplorerViewState;

const WAIT: Duration = Duration::from_secs(20);

fn app_harness(config_dir: &Path) -> Harness<'static, TopicScopeApp> {
    let options = AppOptions {
        config_dir: config_dir.to_owned(),
        profiles: ProfileStore::open(config_dir),
        startup: Startup::Idle,
        memory_budget_mib: None,
    };
    let app = TopicScopeApp::new(
        &egui::Context::default(),
        options,
        Arc::new(MemorySecrets::new()),
        ExplorerViewState::default(),
    );
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut TopicScopeApp| {
                app.before_frame(ui.ctx());
                app.frame_ui(ui);
            },
            app,
        )
}

fn about_harness(window: AboutWindow) -> Harness<'static, AboutWindow> {
    Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, window: &mut AboutWindow| window.show(ui.ctx()), window)
}

/// Steps frames until `label` is shown or the timeout passes.
fn step_until_shown<State>(harness: &mut Harness<'_, State>, label: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < WAIT {
        harness.step();
        if harness.query_by_label_contains(label).is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn the_top_bar_opens_about_with_version_commit_date_licence_and_config_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = app_harness(dir.path());
    harness.run();
    assert!(harness.query_by_label(ABOUT_TITLE).is_none());

    harness.get_by_label("About").click();
    harness.run();
    harness.get_by_label(ABOUT_TITLE);
    harness.get_by_label(build_info::VERSION);
    harness.get_by_label(build_info::COMMIT);
    harness.get_by_label(build_info::BUILD_DATE);
    harness.get_by_label(build_info::LICENSE);
    harness.get_by_label(&dir.path().display().to_string());
    harness.get_by_label(OPEN_FOLDER);

    harness.get_by_label("Close").click();
    harness.run();
    assert!(harness.query_by_label(ABOUT_TITLE).is_none());
}

#[test]
fn open_folder_creates_the_folder_and_opens_it_off_the_ui_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config not created yet");
    let (sender, requests) = sync_channel::<(PathBuf, Option<String>)>(1);
    let mut window = AboutWindow::with_opener(
        config.clone(),
        Arc::new(move |path: &Path| {
            let thread = std::thread::current().name().map(str::to_owned);
            sender
                .send((path.to_owned(), thread))
                .map_err(|error| error.to_string())
        }),
    );
    window.open();
    let mut harness = about_harness(window);
    harness.run();

    harness.get_by_label(OPEN_FOLDER).click();
    // One frame takes the click and starts the thread; the window keeps drawing meanwhile.
    harness.step();
    let (path, thread) = requests.recv_timeout(WAIT).expect("the opener ran");
    assert_eq!(path, config);
    assert_eq!(thread.as_deref(), Some("open-folder"));
    assert!(config.is_dir(), "the folder is created before it is opened");
    // The answer arrives: "Opening…" goes away.
    let started = Instant::now();
    while harness.query_by_label("Opening…").is_some() && started.elapsed() < WAIT {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(harness.query_by_label("Opening…").is_none());
}

#[test]
fn a_folder_that_cannot_be_opened_is_explained_and_the_button_works_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&attempts);
    let mut window = AboutWindow::with_opener(
        dir.path().to_owned(),
        Arc::new(move |_: &Path| {
            counter.fetch_add(1, Ordering::SeqCst);
            Err(
                "xdg-open could not open the folder (exit status: 4). Open it by hand (Copy path)."
                    .to_owned(),
            )
        }),
    );
    window.open();
    let mut harness = about_harness(window);
    harness.run();

    harness.get_by_label(OPEN_FOLDER).click();
    assert!(
        step_until_shown(&mut harness, "Open it by hand"),
        "the failure is shown"
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    harness.get_by_label(OPEN_FOLDER).click();
    let started = Instant::now();
    while attempts.load(Ordering::SeqCst) < 2 && started.elapsed() < WAIT {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "a second try runs");
    assert!(step_until_shown(&mut harness, "Open it by hand"));
    assert!(harness.state().is_open());
}
