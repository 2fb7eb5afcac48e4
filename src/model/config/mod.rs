//! What the user configures and TopicScope remembers: connection profiles (types, validation,
//! presets, URLs), the profile and settings files (atomic, with backups of broken files) and the
//! secret store interface (passwords never go into a file); the profile library keeps the profile
//! file and the keychain in step.
//!
//! Depends on: time, heap, files, topic, aedifion, decode, store, write.

pub mod aedifion_account;
pub mod config_file;
pub mod presets;
pub mod profile;
pub mod profile_library;
pub mod profile_store;
pub mod secret;
pub mod settings;
pub mod url;
