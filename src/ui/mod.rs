//! egui panels. Depends on `model` only (never on `mqtt` internals).
//!
//! Every panel is a plain struct with a `ui` method that reads the [`crate::model::store::Store`]
//! and returns [`UiAction`]s; the app applies them at one point in the frame, after drawing.

pub mod about;
pub mod account;
pub mod action;
pub mod busiest;
pub mod controls_view;
pub mod datapoint_view;
pub mod decoder_overrides;
pub mod details;
pub mod diff;
pub mod explorer;
pub mod format;
pub mod password_prompt;
pub mod payload_view;
pub mod plot;
pub mod settings;
pub mod silent_view;
pub mod status_bar;
pub mod text;
pub mod theme;
pub mod top_bar;
pub mod tree_rows;
pub mod tree_view;

pub use action::UiAction;
pub use explorer::Explorer;
pub mod audit_view;
pub mod confirm;
pub mod profile_account;
pub mod profiles;
pub mod publish;
pub mod setpoint;
pub mod writes;
