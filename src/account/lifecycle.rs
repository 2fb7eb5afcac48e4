//! The life of a limited MQTT account, as pure logic with the time passed in (so every rule is
//! unit-tested without waiting):
//!
//! 1. **Create** (`POST …/mqttuser`) with a generated user name and password.
//! 2. **Renew** (`PUT …/mqttuser/{id}` with the validity) once `renew_fraction` (75 %) of the
//!    validity has passed. The platform sets the new expiry to *update time + validity*; the
//!    schedule here counts from when *this* side sent the request, so a wrong local clock does
//!    not matter (only elapsed time does).
//! 3. **Recreate** (POST again, same user name and password, which the platform allows after
//!    expiry) when the account is gone: the renewal was refused (404/401/403/400, accounts are
//!    deleted on expiry), or the local estimate of the expiry passed before a renewal succeeded.
//! 4. **Retry** temporary failures (network, 5xx, 429) with doubling delays up to a cap; a name
//!    that is taken gets a fresh random suffix; a refused sign-in or project **halts** until the
//!    user acts (asking again with a wrong password could lock the platform account).
//!
//! Every transition produces a [`LifecycleEvent`]: nothing fails silently.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use super::api::{
    AclEntry, ApiError, ApiErrorKind, MAX_VALIDITY_SECS, MqttUser, NewMqttUser, Rights,
    UpdateMqttUser,
};
use super::clock::seconds;
use super::credentials::{generate_password, generate_username};

/// What account to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRequest {
    /// The project.
    pub project_id: u64,
    /// `read` (default) or `write`.
    pub rights: Rights,
    /// Validity asked for at creation and each renewal, seconds (1…7200).
    pub validity_secs: u32,
    /// Description sent at creation.
    pub description: Option<String>,
}

impl AccountRequest {
    /// A read-only account for `project_id` with the longest validity (2 h).
    pub fn read_only(project_id: u64) -> Self {
        Self {
            project_id,
            rights: Rights::Read,
            validity_secs: MAX_VALIDITY_SECS,
            description: Some("TopicScope session".into()),
        }
    }
}

/// When to renew and how to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecyclePolicy {
    /// Fraction of the validity after which the account is renewed.
    pub renew_fraction: f64,
    /// First delay after a temporary failure.
    pub retry_initial: TimeDelta,
    /// Longest delay between retries.
    pub retry_max: TimeDelta,
    /// New user names tried when the platform refuses a creation (400, e.g. the name is taken).
    pub max_name_retries: u32,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        Self {
            renew_fraction: 0.75,
            retry_initial: TimeDelta::seconds(2),
            retry_max: TimeDelta::seconds(60),
            max_name_retries: 1,
        }
    }
}

/// An MQTT account in use. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttAccount {
    /// `mqttuser_id` (for renewals).
    pub mqttuser_id: u64,
    /// The MQTT user name.
    pub username: String,
    /// The MQTT password (generated here; the platform never echoes it).
    pub password: String,
    /// What it may do.
    pub rights: Rights,
    /// When the platform says it expires.
    pub valid_until: DateTime<Utc>,
    /// Its ACL.
    pub acl: Vec<AclEntry>,
}

impl fmt::Debug for MqttAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttAccount")
            .field("mqttuser_id", &self.mqttuser_id)
            .field("username", &self.username)
            .field("password", &"(hidden)")
            .field("rights", &self.rights)
            .field("valid_until", &self.valid_until)
            .field("acl", &self.acl)
            .finish()
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this creation.
    Create(NewMqttUser),
    /// Send this renewal.
    Renew {
        /// The account.
        mqttuser_id: u64,
        /// The body.
        update: UpdateMqttUser,
    },
    /// Nothing until then.
    WaitUntil(DateTime<Utc>),
    /// Nothing until [`Lifecycle::resume`].
    Halted,
}

/// Something the user (or the connection) should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// A new account exists: connect (again) with it. `replaces` is the account it stands in for.
    Created {
        /// The account.
        account: MqttAccount,
        /// The previous account's id, if this one replaces an expired or deleted one.
        replaces: Option<u64>,
    },
    /// The account was renewed (same user name and password: no reconnect needed).
    Renewed {
        /// The account with its new expiry.
        account: MqttAccount,
    },
    /// The account's validity ran out before a renewal succeeded; a new one is being created.
    Expired {
        /// The account.
        mqttuser_id: u64,
        /// When it ran out (local estimate).
        at: DateTime<Utc>,
    },
    /// The platform refused the renewal because the account is gone; a new one is being created.
    Gone {
        /// The account.
        mqttuser_id: u64,
        /// The refusal.
        error: ApiError,
    },
    /// The platform refused the creation (e.g. the user name is taken): trying another name.
    NameRefused {
        /// The refused name.
        username: String,
        /// The refusal.
        error: ApiError,
    },
    /// A temporary failure; the next attempt is at `retry_at`.
    RetryScheduled {
        /// The failure.
        error: ApiError,
        /// Consecutive failures so far.
        attempt: u32,
        /// When to try again.
        retry_at: DateTime<Utc>,
    },
    /// Stopped until the user acts (wrong password, no access to the project…).
    Halted {
        /// Why.
        error: ApiError,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Active {
    account: MqttAccount,
    renew_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// No account: create one (standing in for `replaces`, if set).
    Creating {
        replaces: Option<u64>,
    },
    Active(Active),
    Halted {
        error: ApiError,
        resume_to: Box<Phase>,
    },
}

/// The account's state machine. `Debug` hides the password.
#[derive(Clone)]
pub struct Lifecycle {
    request: AccountRequest,
    policy: LifecyclePolicy,
    host: String,
    username: String,
    password: String,
    phase: Phase,
    failures: u32,
    retry_at: Option<DateTime<Utc>>,
    last_error: Option<ApiError>,
    name_retries: u32,
    events: Vec<LifecycleEvent>,
}

impl fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle")
            .field("request", &self.request)
            .field("username", &self.username)
            .field("phase", &self.phase)
            .field("failures", &self.failures)
            .field("retry_at", &self.retry_at)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

impl Lifecycle {
    /// A lifecycle that will create an account with a generated user name (from `host`, this
    /// machine's name) and password.
    pub fn new(request: AccountRequest, policy: LifecyclePolicy, host: &str) -> Self {
        Self::with_credentials(
            request,
            policy,
            host,
            generate_username(host),
            generate_password(),
        )
    }

    /// Like [`Lifecycle::new`] with a given user name and password (tests, or a remembered
    /// account that expired: the platform allows the same name again).
    pub fn with_credentials(
        request: AccountRequest,
        policy: LifecyclePolicy,
        host: &str,
        username: String,
        password: String,
    ) -> Self {
        let validity_secs = request.validity_secs.clamp(1, MAX_VALIDITY_SECS);
        Self {
            request: AccountRequest {
                validity_secs,
                ..request
            },
            policy,
            host: host.to_owned(),
            username,
            password,
            phase: Phase::Creating { replaces: None },
            failures: 0,
            retry_at: None,
            last_error: None,
            name_retries: 0,
            events: Vec::new(),
        }
    }

    /// Takes over an account created earlier (e.g. before a restart), renewed on the usual
    /// schedule counted from `renewed_at` (when it was last created or renewed). If it already
    /// expired, the first step creates a new one with the same name and password.
    pub fn resume_account(
        request: AccountRequest,
        policy: LifecyclePolicy,
        host: &str,
        account: MqttAccount,
        renewed_at: DateTime<Utc>,
    ) -> Self {
        let mut lifecycle = Self::with_credentials(
            request,
            policy,
            host,
            account.username.clone(),
            account.password.clone(),
        );
        let expires_at = (renewed_at + lifecycle.validity()).min(account.valid_until);
        lifecycle.phase = Phase::Active(Active {
            renew_at: (renewed_at + lifecycle.renew_after()).min(expires_at),
            expires_at,
            account,
        });
        lifecycle
    }

    /// What it keeps.
    pub fn request(&self) -> &AccountRequest {
        &self.request
    }

    /// The account in use, if any (also while a renewal is being retried).
    pub fn account(&self) -> Option<&MqttAccount> {
        match &self.phase {
            Phase::Active(active) => Some(&active.account),
            Phase::Halted { resume_to, .. } => match resume_to.as_ref() {
                Phase::Active(active) => Some(&active.account),
                _ => None,
            },
            Phase::Creating { .. } => None,
        }
    }

    /// When the account is renewed next (local time), if one is active.
    pub fn renew_at(&self) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::Active(active) => Some(active.renew_at),
            _ => None,
        }
    }

    /// When the account in use expires by this machine's clock (creation or last renewal plus
    /// the validity; the platform's `valid_until` may differ by its clock's error).
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::Active(active) => Some(active.expires_at),
            _ => None,
        }
    }

    /// The last failure, until the next success.
    pub fn last_error(&self) -> Option<&ApiError> {
        self.last_error.as_ref()
    }

    /// When the next attempt after a failure is due.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        self.retry_at
    }

    /// Stopped until [`Lifecycle::resume`].
    pub fn is_halted(&self) -> bool {
        matches!(self.phase, Phase::Halted { .. })
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<LifecycleEvent> {
        std::mem::take(&mut self.events)
    }

    /// Continues after a halt (the user fixed the password, or asked to try again).
    pub fn resume(&mut self) {
        if let Phase::Halted { resume_to, .. } = &self.phase {
            self.phase = (**resume_to).clone();
            self.failures = 0;
            self.retry_at = None;
            self.name_retries = 0;
        }
    }

    /// The next step at `now`.
    pub fn next_step(&mut self, now: DateTime<Utc>) -> Step {
        if let Phase::Active(active) = &self.phase
            && now >= active.expires_at
        {
            self.events.push(LifecycleEvent::Expired {
                mqttuser_id: active.account.mqttuser_id,
                at: active.expires_at,
            });
            self.phase = Phase::Creating {
                replaces: Some(active.account.mqttuser_id),
            };
            self.failures = 0;
            self.retry_at = None;
        }
        if let Some(retry_at) = self.retry_at
            && now < retry_at
            && !self.is_halted()
        {
            let until = match &self.phase {
                Phase::Active(active) => retry_at.min(active.expires_at),
                _ => retry_at,
            };
            return Step::WaitUntil(until);
        }
        match &self.phase {
            Phase::Halted { .. } => Step::Halted,
            Phase::Creating { .. } => Step::Create(NewMqttUser {
                username: self.username.clone(),
                password: self.password.clone(),
                rights: self.request.rights,
                validity: self.request.validity_secs,
                description: self.request.description.clone(),
            }),
            Phase::Active(active) if now >= active.renew_at => Step::Renew {
                mqttuser_id: active.account.mqttuser_id,
                update: UpdateMqttUser::renewal(self.request.validity_secs),
            },
            Phase::Active(active) => Step::WaitUntil(active.renew_at),
        }
    }

    /// The answer to a [`Step::Create`] sent at `sent_at`.
    pub fn create_finished(&mut self, sent_at: DateTime<Utc>, result: Result<MqttUser, ApiError>) {
        let replaces = match &self.phase {
            Phase::Creating { replaces } => *replaces,
            _ => None,
        };
        match result {
            Ok(user) => {
                let account = MqttAccount {
                    mqttuser_id: user.id,
                    username: self.username.clone(),
                    password: self.password.clone(),
                    rights: self.request.rights,
                    valid_until: user.valid_until.unwrap_or(sent_at + self.validity()),
                    acl: user.topics,
                };
                self.activate(account.clone(), sent_at);
                self.name_retries = 0;
                self.events
                    .push(LifecycleEvent::Created { account, replaces });
            }
            Err(error) => {
                let refused_input = matches!(error.kind, ApiErrorKind::BadRequest { .. });
                if refused_input && self.name_retries < self.policy.max_name_retries {
                    self.name_retries += 1;
                    let refused =
                        std::mem::replace(&mut self.username, generate_username(&self.host));
                    self.last_error = Some(error.clone());
                    self.events.push(LifecycleEvent::NameRefused {
                        username: refused,
                        error,
                    });
                } else if error.is_temporary() {
                    self.schedule_retry(sent_at, error);
                } else {
                    self.halt(error);
                }
            }
        }
    }

    /// The answer to a [`Step::Renew`] sent at `sent_at`.
    pub fn renew_finished(&mut self, sent_at: DateTime<Utc>, result: Result<MqttUser, ApiError>) {
        let Phase::Active(active) = &self.phase else {
            return;
        };
        let mqttuser_id = active.account.mqttuser_id;
        match result {
            Ok(user) => {
                let mut account = active.account.clone();
                account.valid_until = user.valid_until.unwrap_or(sent_at + self.validity());
                if !user.topics.is_empty() {
                    account.acl = user.topics;
                }
                self.activate(account.clone(), sent_at);
                self.events.push(LifecycleEvent::Renewed { account });
            }
            Err(error) if error.is_sign_in_refused() => self.halt(error),
            Err(error)
                if matches!(
                    error.kind,
                    ApiErrorKind::NotFound { .. }
                        | ApiErrorKind::Unauthorized { .. }
                        | ApiErrorKind::Forbidden { .. }
                        | ApiErrorKind::BadRequest { .. }
                ) =>
            {
                self.phase = Phase::Creating {
                    replaces: Some(mqttuser_id),
                };
                self.failures = 0;
                self.retry_at = None;
                self.last_error = Some(error.clone());
                self.events
                    .push(LifecycleEvent::Gone { mqttuser_id, error });
            }
            Err(error) => self.schedule_retry(sent_at, error),
        }
    }

    fn activate(&mut self, account: MqttAccount, sent_at: DateTime<Utc>) {
        self.phase = Phase::Active(Active {
            account,
            renew_at: sent_at + self.renew_after(),
            expires_at: sent_at + self.validity(),
        });
        self.failures = 0;
        self.retry_at = None;
        self.last_error = None;
    }

    fn schedule_retry(&mut self, now: DateTime<Utc>, error: ApiError) {
        self.failures = self.failures.saturating_add(1);
        let doublings = (self.failures - 1).min(16);
        let delay = (self.policy.retry_initial * (1 << doublings)).min(self.policy.retry_max);
        let retry_at = now + delay;
        self.retry_at = Some(retry_at);
        self.last_error = Some(error.clone());
        self.events.push(LifecycleEvent::RetryScheduled {
            error,
            attempt: self.failures,
            retry_at,
        });
    }

    fn halt(&mut self, error: ApiError) {
        let previous = std::mem::replace(&mut self.phase, Phase::Creating { replaces: None });
        let resume_to = match previous {
            Phase::Halted { resume_to, .. } => resume_to,
            other => Box::new(other),
        };
        self.phase = Phase::Halted {
            error: error.clone(),
            resume_to,
        };
        self.retry_at = None;
        self.last_error = Some(error.clone());
        self.events.push(LifecycleEvent::Halted { error });
    }

    fn validity(&self) -> TimeDelta {
        seconds(u64::from(self.request.validity_secs))
    }

    fn renew_after(&self) -> TimeDelta {
        let fraction = self.policy.renew_fraction.clamp(0.05, 0.95);
        let millis = f64::from(self.request.validity_secs) * 1000.0 * fraction;
        // At most 7,200,000 ms: the conversion cannot overflow.
        TimeDelta::milliseconds(millis as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::api::{Operation, status_error};
    use crate::account::http::TransportError;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("valid") + TimeDelta::seconds(secs)
    }

    fn request(validity_secs: u32) -> AccountRequest {
        AccountRequest {
            project_id: 7,
            rights: Rights::Read,
            validity_secs,
            description: None,
        }
    }

    fn lifecycle(validity_secs: u32) -> Lifecycle {
        Lifecycle::with_credentials(
            request(validity_secs),
            LifecyclePolicy::default(),
            "host",
            "topicscope-host-aaaa".into(),
            "pw".into(),
        )
    }

    /// What the platform answers: expiry = answer time + validity.
    fn user(id: u64, answered_at: DateTime<Utc>, validity_secs: i64) -> MqttUser {
        MqttUser {
            id,
            username: "topicscope-host-aaaa".into(),
            description: None,
            valid_until: Some(answered_at + TimeDelta::seconds(validity_secs)),
            topics: vec![AclEntry {
                id: Some(1),
                rights: Rights::Read,
                topic: "lbg01/b/#".into(),
            }],
        }
    }

    fn create_error(status: u16) -> ApiError {
        ApiError::new(
            Operation::CreateMqttUser { project_id: 7 },
            status_error(status, br#"{"success": false, "error": "x"}"#),
        )
    }

    fn renew_error(status: u16) -> ApiError {
        ApiError::new(
            Operation::RenewMqttUser {
                project_id: 7,
                mqttuser_id: 42,
            },
            status_error(status, br#"{"success": false, "error": "x"}"#),
        )
    }

    fn network_error() -> ApiError {
        ApiError::new(
            Operation::RenewMqttUser {
                project_id: 7,
                mqttuser_id: 42,
            },
            ApiErrorKind::Transport(TransportError::Timeout {
                url: "u".into(),
                timeout_secs: 30,
            }),
        )
    }

    /// Created at t=0 with a 7200 s validity.
    fn active() -> Lifecycle {
        let mut lifecycle = lifecycle(7200);
        let Step::Create(new) = lifecycle.next_step(at(0)) else {
            panic!("creates first");
        };
        assert_eq!(new.validity, 7200);
        assert_eq!(new.rights, Rights::Read);
        lifecycle.create_finished(at(0), Ok(user(42, at(0), 7200)));
        lifecycle.take_events();
        lifecycle
    }

    #[test]
    fn creates_then_waits_until_three_quarters_of_the_validity() {
        let mut lifecycle = lifecycle(7200);
        assert!(matches!(lifecycle.next_step(at(0)), Step::Create(_)));
        lifecycle.create_finished(at(0), Ok(user(42, at(0), 7200)));
        let events = lifecycle.take_events();
        assert!(
            matches!(&events[..], [LifecycleEvent::Created { account, replaces: None }]
                if account.mqttuser_id == 42 && account.password == "pw"),
            "{events:?}"
        );
        assert_eq!(lifecycle.next_step(at(10)), Step::WaitUntil(at(5400)));
        assert_eq!(
            lifecycle.next_step(at(5400)),
            Step::Renew {
                mqttuser_id: 42,
                update: UpdateMqttUser::renewal(7200)
            }
        );
    }

    #[test]
    fn a_renewal_counts_the_new_validity_from_the_update() {
        let mut lifecycle = active();
        assert!(matches!(lifecycle.next_step(at(5400)), Step::Renew { .. }));
        lifecycle.renew_finished(at(5400), Ok(user(42, at(5400), 7200)));
        let account = lifecycle.account().expect("active").clone();
        assert_eq!(
            account.valid_until,
            at(5400 + 7200),
            "update time + validity"
        );
        assert!(matches!(
            &lifecycle.take_events()[..],
            [LifecycleEvent::Renewed { .. }]
        ));
        assert_eq!(
            lifecycle.next_step(at(5401)),
            Step::WaitUntil(at(5400 + 5400))
        );
    }

    #[test]
    fn the_schedule_follows_the_local_clock_not_the_servers() {
        // The platform's clock is an hour ahead: its valid_until says 3 h from our now.
        let mut lifecycle = lifecycle(7200);
        lifecycle.next_step(at(0));
        lifecycle.create_finished(at(0), Ok(user(42, at(3600), 7200)));
        assert_eq!(lifecycle.next_step(at(1)), Step::WaitUntil(at(5400)));
        assert_eq!(
            lifecycle.account().map(|account| account.valid_until),
            Some(at(3600 + 7200)),
            "what the platform said is what is shown"
        );
    }

    #[test]
    fn temporary_failures_are_retried_with_doubling_capped_delays() {
        let mut lifecycle = active();
        let mut now = at(5400);
        let mut delays = Vec::new();
        for _ in 0..7 {
            assert!(
                matches!(lifecycle.next_step(now), Step::Renew { .. }),
                "{now}"
            );
            lifecycle.renew_finished(now, Err(network_error()));
            let events = lifecycle.take_events();
            let [
                LifecycleEvent::RetryScheduled {
                    retry_at, attempt, ..
                },
            ] = &events[..]
            else {
                panic!("{events:?}");
            };
            assert_eq!(*attempt as usize, delays.len() + 1);
            delays.push((*retry_at - now).num_seconds());
            assert_eq!(lifecycle.next_step(now), Step::WaitUntil(*retry_at));
            now = *retry_at;
        }
        assert_eq!(delays, [2, 4, 8, 16, 32, 60, 60]);
        assert!(
            lifecycle.last_error().is_some(),
            "the failure stays visible"
        );
        // Success clears the failure.
        lifecycle.next_step(now);
        lifecycle.renew_finished(now, Ok(user(42, now, 7200)));
        assert_eq!(lifecycle.last_error(), None);
        assert_eq!(lifecycle.retry_at(), None);
    }

    #[test]
    fn a_refused_renewal_recreates_the_account_with_the_same_credentials() {
        for status in [404, 401, 403, 400] {
            let mut lifecycle = active();
            lifecycle.next_step(at(5400));
            lifecycle.renew_finished(at(5400), Err(renew_error(status)));
            assert!(matches!(
                &lifecycle.take_events()[..],
                [LifecycleEvent::Gone {
                    mqttuser_id: 42,
                    ..
                }]
            ));
            let Step::Create(new) = lifecycle.next_step(at(5400)) else {
                panic!("recreates at once after {status}");
            };
            assert_eq!(
                (new.username.as_str(), new.password.as_str()),
                ("topicscope-host-aaaa", "pw")
            );
            lifecycle.create_finished(at(5400), Ok(user(43, at(5400), 7200)));
            assert!(matches!(
                &lifecycle.take_events()[..],
                [LifecycleEvent::Created {
                    replaces: Some(42),
                    ..
                }]
            ));
        }
    }

    #[test]
    fn an_account_past_its_expiry_is_recreated_without_a_renewal() {
        let mut lifecycle = active();
        // Asleep (laptop lid closed) through the renewal and the expiry.
        assert!(matches!(lifecycle.next_step(at(9000)), Step::Create(_)));
        assert!(matches!(
            &lifecycle.take_events()[..],
            [LifecycleEvent::Expired { mqttuser_id: 42, at: expired }] if *expired == at(7200)
        ));
    }

    #[test]
    fn failing_renewals_give_way_to_recreation_at_the_expiry() {
        let mut lifecycle = active();
        let mut now = at(7190);
        lifecycle.next_step(now);
        lifecycle.renew_finished(now, Err(network_error()));
        now += TimeDelta::seconds(1);
        assert_eq!(lifecycle.next_step(now), Step::WaitUntil(at(7192)));
        now = at(7192);
        lifecycle.next_step(now);
        lifecycle.renew_finished(now, Err(network_error()));
        // The third failure puts the next retry at 7204, after the expiry at 7200: the wait
        // ends at the expiry, which switches to creating a new account.
        lifecycle.next_step(at(7196));
        lifecycle.renew_finished(at(7196), Err(network_error()));
        assert_eq!(lifecycle.next_step(at(7197)), Step::WaitUntil(at(7200)));
        assert!(matches!(lifecycle.next_step(at(7200)), Step::Create(_)));
    }

    #[test]
    fn a_refused_name_is_replaced_once_then_the_refusal_halts() {
        let mut lifecycle = lifecycle(7200);
        lifecycle.next_step(at(0));
        lifecycle.create_finished(at(0), Err(create_error(400)));
        let Step::Create(second) = lifecycle.next_step(at(0)) else {
            panic!("tries again at once");
        };
        assert_ne!(second.username, "topicscope-host-aaaa");
        assert!(second.username.starts_with("topicscope-host-"));
        lifecycle.create_finished(at(0), Err(create_error(400)));
        assert_eq!(lifecycle.next_step(at(0)), Step::Halted);
        let events = lifecycle.take_events();
        assert!(
            matches!(
                &events[..],
                [
                    LifecycleEvent::NameRefused { .. },
                    LifecycleEvent::Halted { .. }
                ]
            ),
            "{events:?}"
        );
    }

    #[test]
    fn no_access_halts_until_resumed() {
        let mut lifecycle = lifecycle(7200);
        lifecycle.next_step(at(0));
        lifecycle.create_finished(at(0), Err(create_error(401)));
        assert!(lifecycle.is_halted());
        assert_eq!(lifecycle.next_step(at(100_000)), Step::Halted);
        assert!(lifecycle.last_error().is_some());
        lifecycle.resume();
        assert!(matches!(lifecycle.next_step(at(100_000)), Step::Create(_)));
    }

    #[test]
    fn server_errors_on_creation_are_retried() {
        let mut lifecycle = lifecycle(7200);
        lifecycle.next_step(at(0));
        lifecycle.create_finished(at(0), Err(create_error(503)));
        assert_eq!(lifecycle.next_step(at(1)), Step::WaitUntil(at(2)));
        assert!(matches!(lifecycle.next_step(at(2)), Step::Create(_)));
    }

    #[test]
    fn a_short_validity_renews_at_three_quarters() {
        let mut lifecycle = lifecycle(6);
        lifecycle.next_step(at(0));
        lifecycle.create_finished(at(0), Ok(user(1, at(0), 6)));
        assert_eq!(
            lifecycle.next_step(at(0)),
            Step::WaitUntil(at(0) + TimeDelta::milliseconds(4500))
        );
    }

    #[test]
    fn a_resumed_account_renews_on_its_old_schedule_or_is_recreated() {
        let account = MqttAccount {
            mqttuser_id: 9,
            username: "topicscope-h-x".into(),
            password: "pw".into(),
            rights: Rights::Read,
            valid_until: at(7200),
            acl: Vec::new(),
        };
        let mut lifecycle = Lifecycle::resume_account(
            request(7200),
            LifecyclePolicy::default(),
            "h",
            account.clone(),
            at(0),
        );
        assert_eq!(lifecycle.next_step(at(100)), Step::WaitUntil(at(5400)));
        let mut expired = Lifecycle::resume_account(
            request(7200),
            LifecyclePolicy::default(),
            "h",
            account,
            at(0),
        );
        let Step::Create(new) = expired.next_step(at(8000)) else {
            panic!("expired: create again");
        };
        assert_eq!(new.username, "topicscope-h-x");
    }

    #[test]
    fn the_validity_is_clamped_to_what_the_platform_allows() {
        let mut lifecycle = lifecycle(100_000);
        let Step::Create(new) = lifecycle.next_step(at(0)) else {
            panic!("create");
        };
        assert_eq!(new.validity, MAX_VALIDITY_SECS);
    }

    #[test]
    fn debug_output_hides_the_password() {
        let mut lifecycle = active();
        let text = format!("{:?} {lifecycle:?}", lifecycle.account());
        assert!(
            text.contains("(hidden)") && !text.contains("\"pw\""),
            "{text}"
        );
        lifecycle.renew_finished(at(5400), Err(renew_error(404)));
        let step = format!("{:?}", lifecycle.next_step(at(5400)));
        assert!(
            step.contains("Create") && !step.contains("\"pw\""),
            "{step}"
        );
    }
}
