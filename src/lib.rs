//! TopicScope: a fast, native desktop MQTT topic explorer.
//!
//! Layers (one-way): `model` (no UI, no network) ← `mqtt` (worker thread) ← `ui` (egui panels)
//! ← `app` (wiring and per-frame order). `demo` runs the built-in broker and building simulator.

pub mod app;
pub mod build_info;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod model;
pub mod mqtt;
pub mod platform;
pub mod secrets;
pub mod sysinfo;
pub mod ui;
