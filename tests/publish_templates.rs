//! Templates are saved per profile: they survive a reload of profiles.toml, an open editor
//! draft of that profile picks them up, and old profile files without the new fields load with
//! writing allowed (read-only off) and no templates.

use topicscope::model::config::presets::Preset;
use topicscope::model::config::profile::{Profile, Subscription};
use topicscope::model::config::profile_store::{PROFILES_FILE_NAME, ProfileStore};
use topicscope::model::config::secret::NoSecrets;
use topicscope::model::topic::qos::Qos;
use topicscope::model::write::publish::PayloadMode;
use topicscope::model::write::templates::Template;
use topicscope::ui::profiles::ProfilesPanel;

fn template(name: &str) -> Template {
    Template {
        name: name.into(),
        topic: "lab/{{counter}}".into(),
        payload: "{\"at\": \"{{now_iso}}\"}".into(),
        mode: PayloadMode::Json,
        qos: 1,
        retain: false,
    }
}

#[test]
fn saved_templates_survive_a_reload_and_reach_an_open_draft() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    let id = store
        .create(Profile {
            name: "Lab".into(),
            subscriptions: vec![Subscription::new("#", Qos::AtMostOnce)],
            ..Preset::LocalMosquitto.profile()
        })
        .expect("create");
    let mut panel = ProfilesPanel::new(store, Box::new(NoSecrets::new("test")));
    assert!(panel.select(&id));
    panel
        .save_templates(&id, vec![template("one"), template("two")])
        .expect("save");
    let reloaded = ProfileStore::open(dir.path());
    let saved = reloaded.get(&id).expect("profile");
    assert_eq!(saved.templates, vec![template("one"), template("two")]);
    assert!(!saved.read_only);
}

#[test]
fn a_profile_file_from_before_read_only_loads_writable_without_templates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path());
    let id = store
        .create(Preset::LocalMosquitto.profile())
        .expect("create");
    let path = dir.path().join(PROFILES_FILE_NAME);
    let text = std::fs::read_to_string(&path).expect("read");
    let old: String = text
        .lines()
        .filter(|line| !line.starts_with("read_only") && !line.starts_with("templates"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&path, old).expect("write");
    let reloaded = ProfileStore::open(dir.path());
    let profile = reloaded.get(&id).expect("profile");
    assert!(!profile.read_only);
    assert!(profile.templates.is_empty());
}
