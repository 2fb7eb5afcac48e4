//! The profile editor's "aedifion account" section: which platform login, project and MQTT
//! account the profile connects through (the credentials are created and renewed by the app),
//! with a button to sign in again and one to forget the account. It edits only the draft; the
//! sign-in itself happens in the account window (`ui::account`), opened by the app.

use egui::{Grid, RichText};

use crate::model::config::aedifion_account::{RememberedAccount, Rights};
use crate::model::config::profile::Profile;

/// Text of the buttons that open the account window.
pub const SIGN_IN_ENTRY: &str = "Sign in to aedifion…";

/// What the section asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountSectionRequest {
    /// Open the account window for this profile.
    SignIn,
}

/// Draws the section for `draft`; returns what the user asked for.
pub fn aedifion_account_ui(
    ui: &mut egui::Ui,
    draft: &mut Profile,
    warning: egui::Color32,
) -> Option<AccountSectionRequest> {
    let mut request = None;
    let mut forget = false;
    ui.horizontal(|ui| {
        ui.strong("aedifion account");
        if ui
            .button(SIGN_IN_ENTRY)
            .on_hover_text(
                "Sign in with your aedifion login, pick a project and connect: TopicScope creates \
                 this profile's MQTT credentials and keeps them renewed",
            )
            .clicked()
        {
            request = Some(AccountSectionRequest::SignIn);
        }
        if draft.aedifion_account.is_some()
            && ui
                .button("Forget the account")
                .on_hover_text(
                    "Connect with the user name and password stored in the profile instead \
                     (the MQTT account expires by itself)",
                )
                .clicked()
        {
            forget = true;
        }
    });
    if let Some(account) = &draft.aedifion_account {
        account_grid_ui(ui, account);
        ui.label(
            RichText::new(
                "Connect signs in with the password saved in the keychain and renews the MQTT \
                 account; the user name and subscriptions come from the account.",
            )
            .color(warning)
            .small(),
        );
    }
    if forget {
        draft.aedifion_account = None;
    }
    request
}

fn account_grid_ui(ui: &mut egui::Ui, account: &RememberedAccount) {
    Grid::new("profile_aedifion_account")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            let mut line = |label: &str, value: String| {
                ui.label(label);
                ui.label(value);
                ui.end_row();
            };
            line("Platform", account.api_url.clone());
            let method = match &account.oidc {
                None => "HTTP Basic".to_owned(),
                Some(oidc) => format!("OpenID Connect ({})", oidc.client_id),
            };
            line("Signed in as", format!("{} · {method}", account.email));
            let rights = match account.rights {
                Rights::Read => "read only",
                Rights::Write => "read and write",
            };
            line("Project", format!("{} ({rights})", account.project_id));
            line(
                "MQTT account",
                format!("{} (id {})", account.username, account.mqttuser_id),
            );
            line("Valid until", local_time(&account.valid_until));
        });
}

/// An RFC 3339 time as local `YYYY-MM-DD HH:MM`, or the text as is if it does not parse.
fn local_time(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text).map_or_else(
        |_| text.to_owned(),
        |time| {
            time.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        },
    )
}
