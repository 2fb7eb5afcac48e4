//! The aedifion platform account a profile connects through (issue 12), as the profile file
//! keeps it: where and as whom to sign in, the project, and the limited MQTT account created
//! for it (`mqttuser_id`, user name, expiry). Never a password: the platform password lives in
//! the keychain under the API host and e-mail address, the MQTT password under the profile id
//! like any broker password. The logic (signing in, renewing, resuming after a restart) is in
//! `crate::account`; this is only what is saved.

use serde::{Deserialize, Serialize};

/// What an MQTT account may do on its topics. `write` implies read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rights {
    /// Subscribe only (the default, and what TopicScope asks for unless told otherwise).
    #[default]
    Read,
    /// Subscribe and publish.
    Write,
}

impl Rights {
    /// `read` or `write`, as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rights::Read => "read",
            Rights::Write => "write",
        }
    }
}

/// OpenID Connect sign-in settings (Keycloak): the issuer and the client id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcLogin {
    /// The issuer URL (its discovery document names the token endpoint).
    pub issuer: String,
    /// The client id allowed the password grant.
    pub client_id: String,
}

/// The account a profile remembers (serde: the `[profiles.aedifion_account]` table of
/// `profiles.toml`), so that connecting the profile again — after a restart too — signs in
/// with the saved platform password and renews the same MQTT account instead of asking again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedAccount {
    /// The API it was created with.
    pub api_url: String,
    /// The platform login.
    pub email: String,
    /// OpenID Connect settings; absent: HTTP Basic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcLogin>,
    /// The project.
    pub project_id: u64,
    /// `mqttuser_id`.
    pub mqttuser_id: u64,
    /// The MQTT user name.
    pub username: String,
    /// What it may do.
    pub rights: Rights,
    /// The platform's expiry (RFC 3339), shown to the user.
    pub valid_until: String,
    /// The expiry by this machine's clock (RFC 3339), which schedules the renewal.
    pub expires_at: String,
}
