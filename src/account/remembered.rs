//! The MQTT account remembered per profile — `mqttuser_id`, user name, expiry; never the
//! password, which belongs in the keychain like any broker password — so that after a restart
//! within the validity the same account is renewed instead of a new one created.

use chrono::{DateTime, Utc};

pub use crate::model::config::aedifion_account::{OidcLogin, RememberedAccount};

use super::api::{format_timestamp, parse_timestamp};
use super::client::{Login, SignInMethod};
use super::clock::seconds;
use super::lifecycle::{AccountRequest, Lifecycle, LifecyclePolicy, MqttAccount};
use super::oidc::OidcSettings;

/// What to remember of `account` of `project_id`, created by signing in with `login` (its
/// password is not kept), which expires at `expires_at` by this machine's clock.
pub fn remember(
    login: &Login,
    project_id: u64,
    account: &MqttAccount,
    expires_at: DateTime<Utc>,
) -> RememberedAccount {
    RememberedAccount {
        api_url: login.api_url.clone(),
        email: login.email.clone(),
        oidc: match &login.method {
            SignInMethod::Basic => None,
            SignInMethod::Oidc(settings) => Some(OidcLogin {
                issuer: settings.issuer.clone(),
                client_id: settings.client_id.clone(),
            }),
        },
        project_id,
        mqttuser_id: account.mqttuser_id,
        username: account.username.clone(),
        rights: account.rights,
        valid_until: format_timestamp(account.valid_until),
        expires_at: format_timestamp(expires_at),
    }
}

/// The login `remembered` was created with, signing in with `password` (empty: the one saved
/// in the keychain).
pub fn login_of(remembered: &RememberedAccount, password: String) -> Login {
    Login {
        api_url: remembered.api_url.clone(),
        email: remembered.email.clone(),
        password,
        method: match &remembered.oidc {
            None => SignInMethod::Basic,
            Some(oidc) => SignInMethod::Oidc(OidcSettings {
                issuer: oidc.issuer.clone(),
                client_id: oidc.client_id.clone(),
            }),
        },
    }
}

/// The remembered account's expiry by this machine's clock, if it parses.
pub fn expires_at(remembered: &RememberedAccount) -> Option<DateTime<Utc>> {
    parse_timestamp(&remembered.expires_at)
}

/// A lifecycle that renews `remembered` (with `password`, from the keychain) on its old
/// schedule, or creates it again under the same name if it expired. `None` if the remembered
/// times do not parse (then start afresh with [`Lifecycle::new`]).
pub fn resume(
    remembered: &RememberedAccount,
    password: String,
    validity_secs: u32,
    policy: LifecyclePolicy,
    host: &str,
) -> Option<Lifecycle> {
    let valid_until = parse_timestamp(&remembered.valid_until)?;
    let expires_at = parse_timestamp(&remembered.expires_at)?;
    let request = AccountRequest {
        project_id: remembered.project_id,
        rights: remembered.rights,
        validity_secs,
        description: Some("TopicScope session".into()),
    };
    let account = MqttAccount {
        mqttuser_id: remembered.mqttuser_id,
        username: remembered.username.clone(),
        password,
        rights: remembered.rights,
        valid_until,
        acl: Vec::new(),
    };
    let renewed_at = expires_at - seconds(u64::from(validity_secs));
    Some(Lifecycle::resume_account(
        request, policy, host, account, renewed_at,
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::account::api::Rights;
    use crate::account::lifecycle::Step;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("valid") + TimeDelta::seconds(secs)
    }

    #[test]
    fn a_remembered_account_round_trips_through_toml_and_resumes_its_schedule() {
        let account = MqttAccount {
            mqttuser_id: 42,
            username: "topicscope-h-abc".into(),
            password: "secret".into(),
            rights: Rights::Read,
            valid_until: at(7200),
            acl: Vec::new(),
        };
        let login = Login {
            api_url: "https://api.aedifion.io".into(),
            email: "a@b".into(),
            password: "platform".into(),
            method: SignInMethod::Basic,
        };
        let remembered = remember(&login, 7, &account, at(7200));
        let text = toml::to_string(&remembered).expect("toml");
        assert!(!text.contains("secret"), "no password: {text}");
        let back: RememberedAccount = toml::from_str(&text).expect("toml");
        assert_eq!(back, remembered);

        assert_eq!(login_of(&back, String::new()).method, SignInMethod::Basic);
        let mut lifecycle = resume(
            &back,
            "secret".into(),
            7200,
            LifecyclePolicy::default(),
            "h",
        )
        .expect("times parse");
        assert_eq!(lifecycle.next_step(at(60)), Step::WaitUntil(at(5400)));
        assert!(matches!(
            lifecycle.next_step(at(5400)),
            Step::Renew {
                mqttuser_id: 42,
                ..
            }
        ));
        let Step::Create(new) = lifecycle.next_step(at(8000)) else {
            panic!("expired: created again");
        };
        assert_eq!(
            (new.username.as_str(), new.password.as_str()),
            ("topicscope-h-abc", "secret")
        );
    }

    #[test]
    fn unparsable_times_mean_starting_afresh() {
        let remembered = RememberedAccount {
            api_url: String::new(),
            email: String::new(),
            oidc: None,
            project_id: 1,
            mqttuser_id: 1,
            username: "u".into(),
            rights: Rights::Read,
            valid_until: "garbage".into(),
            expires_at: "garbage".into(),
        };
        assert!(
            resume(
                &remembered,
                "p".into(),
                7200,
                LifecyclePolicy::default(),
                "h"
            )
            .is_none()
        );
    }
}
