//! The UI-free core: topics, tree, payload decoding, histories, series, profiles.
//! Must not depend on egui, tokio or rumqttc (a test enforces it).

pub mod aedifion;
pub mod audit;
pub mod config_file;
pub mod controls;
pub mod datapoints;
pub mod decoder_override;
pub mod format;
pub mod hash_id;
pub mod history;
pub mod influx;
pub mod json_values;
pub mod legacy;
pub mod memory_budget;
pub mod message;
pub mod meta;
pub mod natural;
pub mod payload;
pub mod profile;
pub mod profile_store;
pub mod publish;
pub mod rates;
pub mod retained;
pub mod secret;
pub mod series;
pub mod setpoint;
pub mod settings;
pub mod staleness;
pub mod store;
pub mod swop;
pub mod templates;
pub mod topic;
pub mod tree;
