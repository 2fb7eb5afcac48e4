//! Enforces the one-way layering: `src/model` uses no UI, async runtime or MQTT client crate, and
//! no higher layer of this crate; `src/mqtt` uses no UI crate. Scans the source text with comments
//! and string literals blanked out, so documentation may still mention the forbidden names.

use std::fs;
use std::path::{Path, PathBuf};

/// Crates the data model must not use.
const MODEL_FORBIDDEN_CRATES: &[&str] = &[
    "egui",
    "eframe",
    "egui_plot",
    "egui_kittest",
    "tokio",
    "rumqttc",
    "rumqttd",
];
/// Layers of this crate above the model.
const MODEL_FORBIDDEN_MODULES: &[&str] = &["ui", "app", "mqtt", "demo"];
/// Crates the MQTT worker must not use.
const MQTT_FORBIDDEN_CRATES: &[&str] = &["egui", "eframe", "egui_plot", "egui_kittest"];
/// Layers of this crate the MQTT worker must not use.
const MQTT_FORBIDDEN_MODULES: &[&str] = &["ui", "app"];

#[test]
fn model_uses_no_ui_runtime_or_mqtt_crate() {
    let violations = layer_violations("src/model", MODEL_FORBIDDEN_CRATES, MODEL_FORBIDDEN_MODULES);
    assert!(
        violations.is_empty(),
        "src/model must stay UI- and network-free:\n{}",
        violations.join("\n")
    );
}

#[test]
fn mqtt_worker_uses_no_ui_crate() {
    let violations = layer_violations("src/mqtt", MQTT_FORBIDDEN_CRATES, MQTT_FORBIDDEN_MODULES);
    assert!(
        violations.is_empty(),
        "src/mqtt must not depend on the UI:\n{}",
        violations.join("\n")
    );
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
    let crates = forbidden_paths(&code, MODEL_FORBIDDEN_CRATES, MODEL_FORBIDDEN_MODULES);
    assert_eq!(crates, ["tokio", "egui_plot", "crate::ui"]);
    let grouped = grouped_crate_imports(&code, MODEL_FORBIDDEN_MODULES);
    assert_eq!(grouped, ["crate::mqtt", "crate::app"]);
}

/// `file:line: name` for every forbidden path used under `dir`.
fn layer_violations(dir: &str, crates: &[&str], modules: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    collect_rust_files(&root, &mut files);
    assert!(
        !files.is_empty(),
        "no Rust files found under {}",
        root.display()
    );
    let mut violations = Vec::new();
    for file in files {
        let source = fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        let code = blank_comments_and_strings(&source);
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
