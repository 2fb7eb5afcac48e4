//! The aedifion account (issue 12): sign in to the platform's HTTP API, list the user's
//! projects, create a limited MQTT account for one and keep it renewed, and read the project's
//! datapoint names. Depends on `model` only: no egui, no tokio, no rumqttc. Everything here is
//! blocking and runs off the UI thread (the keeper has its own thread).
//!
//! Layers, bottom up:
//! - [`http`]: the HTTP layer as a small trait; [`ureq_transport`] is the real client (ureq 3,
//!   rustls on aws-lc-rs, OS roots, time limits, proxy from the environment).
//! - [`api`]: the platform's JSON and its errors in plain words; [`oidc`]: Keycloak sign-in.
//! - [`client`]: [`AedifionClient`], the signed calls (HTTP Basic or OIDC bearer tokens).
//! - [`lifecycle`]: the MQTT account's state machine, pure logic with the time passed in;
//!   [`keeper`]: the thread that runs it against the client.
//! - [`credentials`], [`acl`], [`broker`], [`secrets`], [`remembered`]: generated user names
//!   and passwords, the ACL as subscriptions, the broker per environment, keychain entries, the
//!   account remembered per profile.
//! - [`datapoints`]: every datapoint name of a project, in the background, for the store.
//! - [`controller`]: the background work behind the account panel (`ui::account`), without egui.
//!
//! To keep a connection's credentials: build a [`client::AedifionClient`] from a
//! [`client::Login`], start a [`keeper::CredentialKeeper`] with
//! [`lifecycle::Lifecycle::new`]`(`[`lifecycle::AccountRequest::read_only`]`(project_id), …)`,
//! and read [`keeper::CredentialKeeper::status`]: connect with its `account` (user name,
//! password, ACL → [`acl::subscription_plan`]) and connect again whenever
//! `account_generation` changes.

pub mod acl;
pub mod api;
pub mod broker;
pub mod client;
pub mod clock;
pub mod controller;
pub mod credentials;
pub mod datapoints;
pub mod http;
pub mod keeper;
pub mod lifecycle;
pub mod oidc;
pub mod remembered;
pub mod secrets;
pub mod ureq_transport;

pub use client::{AedifionClient, Login, SignInMethod};
