//! Enforces the layering ARCHITECTURE.md draws:
//!
//! ```text
//! model (rooms, see below) <- mqtt <- session <- { app, commands }      ui <- app      cli -> commands' arguments
//! ```
//!
//! Each layer may use only the crates and the modules of this crate its table row allows, and
//! inside `src/model` each room (a folder) only the rooms its `mod.rs` names on its
//! `Depends on:` line. Scans the source text with comments and string literals blanked out, so
//! documentation may still mention the forbidden names.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// UI crates: only `ui` and `app` draw.
const UI_CRATES: &[&str] = &["egui", "eframe", "egui_plot", "egui_kittest"];
/// The crates that make a thread talk to a broker.
const NETWORK_CRATES: &[&str] = &["tokio", "rumqttc", "rumqttd"];
/// Every top-level module of the crate.
const ALL_MODULES: &[&str] = &[
    "account",
    "app",
    "build_info",
    "cli",
    "commands",
    "demo",
    "export",
    "forward",
    "model",
    "mqtt",
    "platform",
    "process",
    "record",
    "secrets",
    "session",
    "ui",
];

/// One layer: a folder or file under `src/`, the crates it must not use and the modules of this
/// crate it may use (every other top-level module is forbidden).
struct Layer {
    path: &'static str,
    forbidden_crates: &'static [&'static str],
    allowed_modules: &'static [&'static str],
}

const LAYERS: &[Layer] = &[
    Layer {
        path: "src/model",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &["model"],
    },
    Layer {
        path: "src/build_info.rs",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &[],
    },
    Layer {
        path: "src/platform.rs",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &[],
    },
    Layer {
        path: "src/process.rs",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &[],
    },
    Layer {
        path: "src/account",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &["account", "model"],
    },
    Layer {
        path: "src/record",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &["model", "record"],
    },
    Layer {
        path: "src/export",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &["export", "model", "record"],
    },
    Layer {
        path: "src/forward",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &["forward", "model"],
    },
    Layer {
        path: "src/mqtt",
        forbidden_crates: UI_CRATES,
        allowed_modules: &["model", "mqtt"],
    },
    Layer {
        path: "src/session",
        forbidden_crates: UI_CRATES,
        allowed_modules: &[
            "account", "forward", "model", "mqtt", "process", "record", "session",
        ],
    },
    Layer {
        path: "src/ui",
        forbidden_crates: &["eframe", "tokio", "rumqttc", "rumqttd"],
        // The account panel reads the account controller's state (UI-free, like the model);
        // the About window shows the build's version.
        allowed_modules: &["account", "build_info", "model", "ui"],
    },
    Layer {
        path: "src/commands",
        forbidden_crates: UI_CRATES,
        allowed_modules: &[
            "account", "commands", "demo", "export", "forward", "model", "mqtt", "process",
            "record", "secrets", "session",
        ],
    },
    Layer {
        path: "src/app",
        forbidden_crates: NETWORK_CRATES,
        allowed_modules: &[
            "account", "app", "demo", "export", "forward", "model", "mqtt", "process", "record",
            "secrets", "session", "ui",
        ],
    },
    Layer {
        path: "src/cli.rs",
        forbidden_crates: &[
            "egui",
            "eframe",
            "egui_plot",
            "egui_kittest",
            "tokio",
            "rumqttc",
            "rumqttd",
        ],
        allowed_modules: &["build_info", "cli", "commands", "model"],
    },
    Layer {
        path: "src/demo",
        forbidden_crates: UI_CRATES,
        allowed_modules: &["demo", "model"],
    },
];

/// Only the session layer owns a worker: the window and the commands hold `session::Connection`.
const WORKER_OWNERS: &[&str] = &["WorkerHandle", "ConnectParams", "Inbox", "WorkerCommand"];

#[test]
fn every_layer_uses_only_what_its_row_allows() {
    let mut violations = Vec::new();
    for layer in LAYERS {
        let forbidden_modules: Vec<&str> = ALL_MODULES
            .iter()
            .copied()
            .filter(|module| !layer.allowed_modules.contains(module))
            .collect();
        violations.extend(layer_violations(
            layer.path,
            layer.forbidden_crates,
            &forbidden_modules,
        ));
    }
    assert!(
        violations.is_empty(),
        "layering broken (see ARCHITECTURE.md):\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: Vec<String> = fs::read_dir(&root)
        .expect("src")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_stem()?.to_str()?.to_owned();
            (path.is_dir() || path.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|name| !["lib", "main"].contains(&name.as_str()))
        .collect();
    modules.sort();
    modules.dedup();
    let known: Vec<String> = ALL_MODULES.iter().map(|m| (*m).to_owned()).collect();
    assert_eq!(
        modules, known,
        "a new top-level module needs a row in LAYERS"
    );
}

#[test]
fn only_the_session_layer_owns_a_worker() {
    let mut violations = Vec::new();
    for dir in ["src/app", "src/commands", "src/ui"] {
        for file in rust_files(dir) {
            let code = blank_comments_and_strings(&read(&file));
            for (index, line) in code.lines().enumerate() {
                for (_, identifier) in identifier_tokens(line) {
                    if WORKER_OWNERS.contains(&identifier) {
                        violations.push(format!(
                            "{}:{}: names {identifier}",
                            file.display(),
                            index + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "hold a session::Connection instead:\n{}",
        violations.join("\n")
    );
}

/// The only files holding an MQTT client that can publish: the worker (it sends nothing but
/// what the write gate authorized: `WorkerCommand::PublishAuthorized`), the load generator (it
/// runs only with the gate's `AuthorizedLoad`) and the demo's simulated building (its own
/// in-process broker).
const MQTT_CLIENT_HOLDERS: &[&str] = &[
    "src/mqtt/worker.rs",
    "src/commands/bench.rs",
    "src/demo/simulator.rs",
];

#[test]
fn every_write_goes_through_the_gate() {
    let mut violations = Vec::new();
    for file in rust_files("src") {
        let relative = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("under the crate")
            .to_string_lossy()
            .trim_start_matches('/')
            .to_owned();
        let code = blank_comments_and_strings(&read(&file));
        let tokens = identifier_tokens(&code);
        let holds_client = tokens
            .iter()
            .any(|&(_, identifier)| identifier == "AsyncClient");
        if holds_client && !MQTT_CLIENT_HOLDERS.contains(&relative.as_str()) {
            violations.push(format!("{relative}: holds a rumqttc AsyncClient"));
        }
        if relative == "src/commands/bench.rs"
            && !tokens
                .iter()
                .any(|&(_, identifier)| identifier == "AuthorizedLoad")
        {
            violations.push(format!("{relative}: runs without an AuthorizedLoad"));
        }
    }
    let worker = blank_comments_and_strings(&read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mqtt/worker.rs"),
    ));
    let publishing_variants = worker
        .lines()
        .skip_while(|line| !line.contains("pub enum WorkerCommand"))
        .take_while(|line| !line.starts_with('}'))
        .filter(|line| line.trim_start().starts_with("Publish"))
        .map(str::trim)
        .collect::<Vec<_>>();
    assert_eq!(
        publishing_variants,
        ["PublishAuthorized(AuthorizedPublish),"],
        "the worker must publish nothing the gate did not authorize"
    );
    assert!(
        violations.is_empty(),
        "a write that skips the gate:\n{}",
        violations.join("\n")
    );
}

#[test]
fn each_model_room_uses_only_the_rooms_its_mod_rs_names() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut rooms = Vec::new();
    let mut foundations = Vec::new();
    for entry in fs::read_dir(&model).expect("src/model") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        if path.is_dir() {
            rooms.push(name);
        } else if name != "mod" {
            foundations.push(name);
        }
    }
    assert!(rooms.len() >= 6, "the model's rooms: {rooms:?}");
    let everything: Vec<&str> = rooms
        .iter()
        .chain(&foundations)
        .map(String::as_str)
        .collect();
    let mut violations = Vec::new();
    for room in &rooms {
        let allowed = declared_dependencies(&model.join(room).join("mod.rs"));
        for name in &allowed {
            assert!(
                everything.contains(&name.as_str()),
                "src/model/{room}/mod.rs names `{name}`, which is not a part of the model"
            );
        }
        for file in rust_files(&format!("src/model/{room}")) {
            let code = blank_comments_and_strings(&read(&file));
            for used in model_parts_used(&code, &everything) {
                if used != *room && !allowed.contains(&used) {
                    violations.push(format!("{}: uses model::{used}", file.display()));
                }
            }
        }
    }
    for foundation in &foundations {
        let file = model.join(format!("{foundation}.rs"));
        let code = blank_comments_and_strings(&read(&file));
        for used in model_parts_used(&code, &everything) {
            violations.push(format!("{}: uses model::{used}", file.display()));
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "a model room used a room its mod.rs does not allow:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_model_rooms_form_no_cycle() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut graph: Vec<(String, BTreeSet<String>)> = Vec::new();
    // The foundations (files beside the rooms, such as time.rs) use nothing.
    let mut done: BTreeSet<String> = BTreeSet::new();
    for entry in fs::read_dir(&model).expect("src/model") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().and_then(|n| n.to_str()).expect("name");
        if path.is_dir() {
            graph.push((name.to_owned(), declared_dependencies(&path.join("mod.rs"))));
        } else if name != "mod" {
            done.insert(name.to_owned());
        }
    }
    // Peel off rooms whose dependencies are all peeled; anything left is in a cycle.
    loop {
        let ready: Vec<String> = graph
            .iter()
            .filter(|(room, deps)| !done.contains(room) && deps.iter().all(|d| done.contains(d)))
            .map(|(room, _)| room.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        done.extend(ready);
    }
    let stuck: Vec<&String> = graph
        .iter()
        .map(|(room, _)| room)
        .filter(|room| !done.contains(*room))
        .collect();
    assert!(stuck.is_empty(), "rooms in a dependency cycle: {stuck:?}");
}

#[test]
fn the_room_scanner_reads_paths_groups_and_super() {
    let code = blank_comments_and_strings(
        "use crate::model::store::Store;\nuse crate::model::{topic::tree, decode};\n// crate::model::config\nuse super::write::x;\nlet s = \"crate::model::config\";\n",
    );
    let parts = ["store", "topic", "decode", "config", "write"];
    assert_eq!(
        model_parts_used(&code, &parts),
        ["store", "topic", "decode", "write"]
    );
    let declared = declaration_line("//! text\n//!\n//! Depends on: time, heap, topic.\n");
    assert_eq!(declared, ["time", "heap", "topic"]);
}

/// The rooms named on a room's `//! Depends on: a, b, c.` line.
fn declared_dependencies(mod_rs: &Path) -> BTreeSet<String> {
    let text = read(mod_rs);
    let declared = declaration_line(&text);
    assert!(
        !declared.is_empty() || text.contains("Depends on: nothing"),
        "{} must say what the room may use on a `//! Depends on:` line",
        mod_rs.display()
    );
    declared.into_iter().collect()
}

fn declaration_line(text: &str) -> Vec<String> {
    text.lines()
        .find_map(|line| line.trim_start().strip_prefix("//! Depends on:"))
        .map(|list| {
            list.trim()
                .trim_end_matches('.')
                .split(',')
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty() && name != "nothing")
                .collect()
        })
        .unwrap_or_default()
}

/// Parts of the model (`crate::model::<part>`, `crate::model::{<part>, …}`, `super::<part>`)
/// named in `code`, in order of first appearance.
fn model_parts_used(code: &str, parts: &[&str]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    let mut note = |name: &str| {
        if parts.contains(&name) && !used.iter().any(|u| u == name) {
            used.push(name.to_owned());
        }
    };
    for prefix in ["crate::model::", "super::"] {
        let mut rest = code;
        while let Some(position) = rest.find(prefix) {
            let preceded = code.len() - rest.len() + position;
            let after = &rest[position + prefix.len()..];
            let is_path_start = preceded == 0
                || !code[..preceded].ends_with(|c: char| is_identifier_char(c) || c == ':');
            if is_path_start {
                if let Some(group) = after.strip_prefix('{') {
                    for item in top_level_items(group) {
                        note(&item);
                    }
                } else {
                    let word: String = after
                        .chars()
                        .take_while(|&c| is_identifier_char(c))
                        .collect();
                    note(&word);
                }
            }
            rest = after;
        }
    }
    used
}

/// The first identifier of each top-level item of a `{ … }` group (the text after `{`).
fn top_level_items(group: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut item_starts = true;
    for (offset, character) in group.char_indices() {
        match character {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_starts = true,
            c if c.is_whitespace() => {}
            _ if item_starts && depth == 0 => {
                item_starts = false;
                items.push(
                    group[offset..]
                        .chars()
                        .take_while(|&c| is_identifier_char(c))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    items
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Every `.rs` file at `path` (a folder, searched recursively, or one file) under the crate.
fn rust_files(path: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let mut files = Vec::new();
    if root.is_file() {
        files.push(root.clone());
    } else {
        collect_rust_files(&root, &mut files);
    }
    assert!(
        !files.is_empty(),
        "no Rust files found at {}",
        root.display()
    );
    files
}

#[test]
fn the_scanner_finds_uses_and_ignores_comments_and_strings() {
    let source = r##"
        // use egui::Ui;
        /* tokio::spawn /* nested rumqttc */ */
        /// Mentions `eframe` in docs.
        let text = "egui::Ui and tokio";
        let raw = r#"rumqttc "quoted" "#;
        let lifetime: &'static str = "x";
        let quote = '"';
        let escaped = '\'';
        use tokio::sync::mpsc;
        fn f() -> egui_plot::Line { todo() }
        let not_a_use = my_egui_helper;
        use crate::ui::theme;
        use crate::{ mqtt };
        use crate::{
            model::{ui_like, demo},
            app,
        };
    "##;
    let code = blank_comments_and_strings(source);
    let model = &LAYERS[0];
    let modules = ["ui", "app", "mqtt", "demo"];
    let crates = forbidden_paths(&code, model.forbidden_crates, &modules);
    assert_eq!(crates, ["tokio", "egui_plot", "crate::ui"]);
    let grouped = grouped_crate_imports(&code, &modules);
    assert_eq!(grouped, ["crate::mqtt", "crate::app"]);
}

/// `file:line: name` for every forbidden path used under `path`.
fn layer_violations(path: &str, crates: &[&str], modules: &[&str]) -> Vec<String> {
    let mut violations = Vec::new();
    for file in rust_files(path) {
        let code = blank_comments_and_strings(&read(&file));
        for (line_index, line) in code.lines().enumerate() {
            for name in forbidden_paths(line, crates, modules) {
                violations.push(format!(
                    "{}:{}: uses {name}",
                    file.display(),
                    line_index + 1
                ));
            }
        }
        // `use crate::{ ui, ... }` groups may span lines: check them on the whole file.
        for name in grouped_crate_imports(&code, modules) {
            violations.push(format!("{}: imports {name} in a use group", file.display()));
        }
    }
    violations
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files.sort();
}

/// Identifiers in `code` that name a forbidden crate (used as a path or in `use`/`extern crate`),
/// and `crate::<module>` paths to forbidden modules, in order of appearance.
fn forbidden_paths(code: &str, crates: &[&str], modules: &[&str]) -> Vec<String> {
    let tokens = identifier_tokens(code);
    let mut found = Vec::new();
    for (index, &(start, identifier)) in tokens.iter().enumerate() {
        let after = &code[start + identifier.len()..];
        let followed_by_path = after.trim_start().starts_with("::");
        let previous = index.checked_sub(1).map(|i| tokens[i].1);
        let preceded_by_path = code[..start].trim_end().ends_with("::");
        let imported = matches!(previous, Some("use") | Some("crate")) && !preceded_by_path;
        if crates.contains(&identifier) && !preceded_by_path && (followed_by_path || imported) {
            found.push(identifier.to_owned());
        }
        if identifier == "crate" && followed_by_path {
            let rest = after.trim_start().trim_start_matches("::").trim_start();
            for module in modules {
                if rest
                    .strip_prefix(module)
                    .is_some_and(|tail| !tail.starts_with(is_identifier_char))
                {
                    found.push(format!("crate::{module}"));
                }
            }
        }
    }
    found
}

/// `crate::<module>` for forbidden modules named at the top level of `crate::{ ... }` groups
/// (which may span lines and nest: in `crate::{model::{a, ui}, mqtt}` only `model` and `mqtt`
/// are top-level).
fn grouped_crate_imports(code: &str, modules: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(position) = rest.find("crate::{") {
        let group = &rest[position + "crate::{".len()..];
        let mut depth = 0;
        let mut item_starts = true;
        let mut end = group.len();
        for (offset, character) in group.char_indices() {
            match character {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = offset;
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => item_starts = true,
                c if c.is_whitespace() => {}
                _ if item_starts && depth == 0 => {
                    item_starts = false;
                    let word: String = group[offset..]
                        .chars()
                        .take_while(|&c| is_identifier_char(c))
                        .collect();
                    if modules.contains(&word.as_str()) {
                        found.push(format!("crate::{word}"));
                    }
                }
                _ => {}
            }
        }
        rest = &group[end..];
    }
    found
}

fn is_identifier_char(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

/// `(byte offset, identifier)` for every identifier-like word.
fn identifier_tokens(code: &str) -> Vec<(usize, &str)> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (offset, character) in code
        .char_indices()
        .chain(std::iter::once((code.len(), ' ')))
    {
        match (start, is_identifier_char(character)) {
            (None, true) => start = Some(offset),
            (Some(begin), false) => {
                tokens.push((begin, &code[begin..offset]));
                start = None;
            }
            _ => {}
        }
    }
    tokens
}

/// Replaces comments, string literals and character literals with spaces (newlines kept, so line
/// numbers stay right).
fn blank_comments_and_strings(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut output = String::with_capacity(source.len());
    let mut index = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while index < chars.len() {
        let current = chars[index];
        let next = chars.get(index + 1).copied();
        if current == '/' && next == Some('/') {
            while index < chars.len() && chars[index] != '\n' {
                output.push(' ');
                index += 1;
            }
        } else if current == '/' && next == Some('*') {
            let mut depth = 0;
            while index < chars.len() {
                if chars[index] == '/' && chars.get(index + 1) == Some(&'*') {
                    depth += 1;
                    output.push_str("  ");
                    index += 2;
                } else if chars[index] == '*' && chars.get(index + 1) == Some(&'/') {
                    depth -= 1;
                    output.push_str("  ");
                    index += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    output.push(blank(chars[index]));
                    index += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, index) {
            // r#"..."# (also br"..."): skip to the quote followed by the same number of hashes.
            let opening = hashes + 2 + usize::from(chars[index] == 'b');
            output.extend(std::iter::repeat_n(' ', opening));
            index += opening;
            while index < chars.len() {
                let closes = chars[index] == '"'
                    && (1..=hashes).all(|offset| chars.get(index + offset) == Some(&'#'));
                if closes {
                    output.extend(std::iter::repeat_n(' ', hashes + 1));
                    index += hashes + 1;
                    break;
                }
                output.push(blank(chars[index]));
                index += 1;
            }
        } else if current == '"' {
            output.push(' ');
            index += 1;
            while index < chars.len() && chars[index] != '"' {
                let skip = if chars[index] == '\\' { 2 } else { 1 };
                for offset in 0..skip {
                    if let Some(&c) = chars.get(index + offset) {
                        output.push(blank(c));
                    }
                }
                index += skip;
            }
            output.push(' ');
            index += 1;
        } else if current == '\'' && is_char_literal(&chars, index) {
            // An escape's closing quote comes after the escaped character: '\'', '\n', '\u{..}'.
            let length = if next == Some('\\') {
                chars
                    .get(index + 3..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&c| c == '\'')
                    .map_or(chars.len() - index, |p| p + 4)
            } else {
                3
            };
            output.extend(std::iter::repeat_n(' ', length));
            index += length;
        } else {
            output.push(current);
            index += 1;
        }
    }
    output
}

/// Number of `#` if a raw string literal starts at `index` (`r"`, `r#"`, `br"`...).
fn raw_string_start(chars: &[char], index: usize) -> Option<usize> {
    let previous_is_identifier = index > 0 && is_identifier_char(chars[index - 1]);
    if previous_is_identifier {
        return None;
    }
    let mut position = index;
    if chars.get(position) == Some(&'b') {
        position += 1;
    }
    if chars.get(position) != Some(&'r') {
        return None;
    }
    position += 1;
    let hashes = chars[position..].iter().take_while(|&&c| c == '#').count();
    (chars.get(position + hashes) == Some(&'"')).then_some(hashes)
}

/// A quote starts a character literal (`'x'`, `'\n'`) rather than a lifetime (`'a`).
fn is_char_literal(chars: &[char], index: usize) -> bool {
    match chars.get(index + 1) {
        Some('\\') => true,
        Some(_) => chars.get(index + 2) == Some(&'\''),
        None => false,
    }
}
