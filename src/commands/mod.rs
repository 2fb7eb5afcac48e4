//! Commands that run without a window (`topicscope <command>`): an app-level layer beside
//! `app.rs`, free to use the worker, the store, tokio and rumqttc.

pub mod aedifion;
pub mod aedifion_source;
pub mod bench;
pub mod decode;
pub mod demo_server;
pub mod export;
pub mod generate;
pub mod hash_id;
pub mod headless;
pub mod publish;
pub mod setpoint;
