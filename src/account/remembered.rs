//! The MQTT account remembered per profile — `mqttuser_id`, user name, expiry; never the
//! password, which belongs in the keychain like any broker password — so that after a restart
//! within the validity the same account is renewed instead of a new one created.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::api::{Rights, format_timestamp, parse_timestamp};
use super::clock::seconds;
use super::lifecycle::{AccountRequest, Lifecycle, LifecyclePolicy, MqttAccount};

/// What a profile keeps about its account (serde: a TOML table in `profiles.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedAccount {
    /// The API it was created with.
    pub api_url: String,
    /// The platform login.
    pub email: String,
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

impl RememberedAccount {
    /// What to remember of `account`, which expires at `expires_at` by this machine's clock.
    pub fn new(
        api_url: &str,
        email: &str,
        project_id: u64,
        account: &MqttAccount,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            api_url: api_url.to_owned(),
            email: email.to_owned(),
            project_id,
            mqttuser_id: account.mqttuser_id,
            username: account.username.clone(),
            rights: account.rights,
            valid_until: format_timestamp(account.valid_until),
            expires_at: format_timestamp(expires_at),
        }
    }

    /// A lifecycle that renews this account (with `password`, from the keychain) on its old
    /// schedule, or creates it again under the same name if it expired. `None` if the
    /// remembered times do not parse (then start afresh with [`Lifecycle::new`]).
    pub fn resume(
        &self,
        password: String,
        validity_secs: u32,
        policy: LifecyclePolicy,
        host: &str,
    ) -> Option<Lifecycle> {
        let valid_until = parse_timestamp(&self.valid_until)?;
        let expires_at = parse_timestamp(&self.expires_at)?;
        let request = AccountRequest {
            project_id: self.project_id,
            rights: self.rights,
            validity_secs,
            description: Some("TopicScope session".into()),
        };
        let account = MqttAccount {
            mqttuser_id: self.mqttuser_id,
            username: self.username.clone(),
            password,
            rights: self.rights,
            valid_until,
            acl: Vec::new(),
        };
        let renewed_at = expires_at - seconds(u64::from(validity_secs));
        Some(Lifecycle::resume_account(
            request, policy, host, account, renewed_at,
        ))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
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
        let remembered =
            RememberedAccount::new("https://api.aedifion.io", "a@b", 7, &account, at(7200));
        let text = toml::to_string(&remembered).expect("toml");
        assert!(!text.contains("secret"), "no password: {text}");
        let back: RememberedAccount = toml::from_str(&text).expect("toml");
        assert_eq!(back, remembered);

        let mut lifecycle = back
            .resume("secret".into(), 7200, LifecyclePolicy::default(), "h")
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
            project_id: 1,
            mqttuser_id: 1,
            username: "u".into(),
            rights: Rights::Read,
            valid_until: "garbage".into(),
            expires_at: "garbage".into(),
        };
        assert!(
            remembered
                .resume("p".into(), 7200, LifecyclePolicy::default(), "h")
                .is_none()
        );
    }
}
