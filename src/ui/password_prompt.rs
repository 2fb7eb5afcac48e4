//! Asks for a profile's password at connect time (profiles set to "ask", or when the keychain
//! has none or is unavailable). The password lives only in memory for this connection.

use crate::model::config::profile::Profile;
use crate::model::config::secret::Password;

/// What the user decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptOutcome {
    /// Connect with this password.
    Connect {
        profile: Box<Profile>,
        password: Password,
    },
    /// Do not connect.
    Cancel,
}

/// A small modal window asking for one password.
#[derive(Debug)]
pub struct PasswordPrompt {
    profile: Profile,
    password: Password,
    /// Why we ask (e.g. the keychain is unavailable), shown above the field.
    reason: Option<String>,
    focus_requested: bool,
}

impl PasswordPrompt {
    /// Asks for the password of `profile`, optionally saying why.
    pub fn new(profile: Profile, reason: Option<String>) -> Self {
        Self {
            profile,
            password: Password::default(),
            reason,
            focus_requested: false,
        }
    }

    /// The profile being connected.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Shows the prompt; returns the outcome once the user decided.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<PromptOutcome> {
        let mut outcome = None;
        let modal = egui::Modal::new(egui::Id::unique("password_prompt")).show(ctx, |ui| {
            ui.heading(format!("Connect to {}", self.profile.name));
            let user = if self.profile.username.is_empty() {
                String::new()
            } else {
                format!("{}@", self.profile.username)
            };
            ui.label(format!("{user}{}:{}", self.profile.host, self.profile.port));
            if let Some(reason) = &self.reason {
                ui.weak(reason);
            }
            let label = ui.label("Password");
            let field = ui
                .add(egui::TextEdit::singleline(self.password.text_mut()).password(true))
                .labelled_by(label.id);
            if !self.focus_requested {
                field.request_focus();
                self.focus_requested = true;
            }
            let submitted =
                field.lost_focus() && ui.input(|input| input.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if ui.button("Connect").clicked() || submitted {
                    outcome = Some(PromptOutcome::Connect {
                        profile: Box::new(self.profile.clone()),
                        password: std::mem::take(&mut self.password),
                    });
                }
                if ui.button("Cancel").clicked() {
                    outcome = Some(PromptOutcome::Cancel);
                }
            });
        });
        if outcome.is_none() && modal.should_close() {
            outcome = Some(PromptOutcome::Cancel);
        }
        outcome
    }
}
