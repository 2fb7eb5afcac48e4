//! TopicScope: a fast, native desktop MQTT topic explorer.
//!
//! Layers (one-way): `model` (no UI, no network) ← `mqtt` (worker thread) ← `session` (a source
//! feeding a store) ← {`app` (the window: wiring and per-frame order), `commands` (no window)};
//! `ui` (egui panels over the model) ← `app`. `demo` runs the built-in broker and building
//! simulator. ARCHITECTURE.md draws it; `tests/layering.rs` enforces it.

pub mod account;
pub mod app;
pub mod build_info;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod export;
pub mod forward;
pub mod model;
pub mod mqtt;
pub mod platform;
pub mod process;
pub mod record;
pub mod secrets;
pub mod session;
pub mod ui;
