//! The app's side of writing: keeps the write desk in step with the connection (profile,
//! read-only switch, worker reports), hands authorized messages to the worker, and saves
//! template changes into the profile.

use std::time::Duration;

use crate::model::config::profile::Profile;
use crate::model::time::now_nanos;
use crate::model::write::publish::PublishOutcome;
use crate::ui::UiAction;

use super::TopicScopeApp;

impl TopicScopeApp {
    /// The profile writes are made with: the saved copy when there is one (so a read-only
    /// switch changed in the editor applies at once), else the connection's own profile.
    fn write_profile(&self) -> Option<Profile> {
        let live = self.connected_profile()?;
        let saved = self.profiles().get(&live.id).cloned();
        Some(saved.map_or_else(
            || live.clone(),
            |saved| Profile {
                // The demo's host and port are chosen at start; keep the live ones.
                host: live.host.clone(),
                port: live.port,
                ..saved
            },
        ))
    }

    /// Before drawing: follows the profile, records the worker's reports, runs timeouts,
    /// setpoint answers and the generator.
    pub(super) fn writes_before_frame(&mut self, ctx: &egui::Context) {
        let now = now_nanos();
        let profile = self.write_profile();
        let broker = profile
            .as_ref()
            .map(|profile| format!("{}:{}", profile.host, profile.port))
            .unwrap_or_default();
        self.writes.set_profile(profile.as_ref(), &broker);
        if let Some(connection) = self.session().connection() {
            self.writes
                .record_outcomes(connection.publish_reports().drain(), now);
        }
        if let Some(wake_at) = self.writes.tick(self.sessions[0].store(), now) {
            let delay = u64::try_from(wake_at.saturating_sub(now)).unwrap_or(0);
            ctx.request_repaint_after(Duration::from_nanos(delay));
        }
    }

    /// Draws the write windows, then sends what they allowed and saves template changes.
    pub(super) fn writes_ui(&mut self, ctx: &egui::Context) {
        let connected = self.explorer.status().health == crate::ui::status_bar::Health::Ok;
        self.writes.ui(ctx, self.sessions[0].store(), connected);
        self.send_outgoing(ctx);
        if let Some(templates) = self.writes.take_changed_templates()
            && let Some(id) = self.connected_profile().map(|profile| profile.id.clone())
            && self.profiles().get(&id).is_some()
            && let Err(error) = self.profile_editor.save_templates(&id, templates)
        {
            self.notices
                .push(format!("Templates were not saved: {error}"));
        }
        if let Some(notice) = self.writes.take_notice() {
            self.notices.push(notice);
        }
    }

    /// Hands every authorized message to the worker; without one it is reported as not sent.
    fn send_outgoing(&mut self, ctx: &egui::Context) {
        let outgoing = self.writes.take_outgoing();
        if outgoing.is_empty() {
            return;
        }
        let now = now_nanos();
        let connection = self.sessions[0]
            .connection()
            .filter(|connection| connection.active());
        let mut failed = Vec::new();
        for authorized in outgoing {
            let id = authorized.id();
            let sent = connection.is_some_and(|connection| connection.publish(authorized));
            if !sent {
                let reason = if connection.is_some() {
                    "the connection's command queue is full; try again"
                } else {
                    "not connected to a broker"
                };
                failed.push((id, PublishOutcome::NotSent(reason.to_owned())));
            }
        }
        self.writes.record_outcomes(failed, now);
        ctx.request_repaint();
    }

    /// Applies the write-related actions; returns false for any other action.
    pub(super) fn apply_write_action(&mut self, action: &UiAction) -> bool {
        match action {
            UiAction::OpenPublish(topic) => self.writes.open_publish(topic.clone()),
            UiAction::OpenSetpoint => self.writes.setpoint_open = true,
            UiAction::OpenAuditLog => self.writes.audit_open = true,
            UiAction::ClearRetained(node) => {
                self.writes
                    .request_clear_retained(self.sessions[0].store(), *node);
            }
            _ => return false,
        }
        true
    }
}

impl TopicScopeApp {
    /// The write desk (publish, setpoint and audit windows, the write gate).
    pub fn writes(&self) -> &crate::ui::writes::WriteDesk {
        &self.writes
    }

    /// The write desk, to open windows or queue writes from tests and scripts.
    pub fn writes_mut(&mut self) -> &mut crate::ui::writes::WriteDesk {
        &mut self.writes
    }
}
