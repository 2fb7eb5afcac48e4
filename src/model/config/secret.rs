//! Where profile passwords are kept, as an interface the UI can use without knowing the OS
//! keychain. The keychain implementation is `crate::secrets::SecretStore`; this module also
//! has an in-memory one (tests, and "remember for this session") and one that has none.

use std::collections::HashMap;

use crate::model::config::profile::{PasswordStorage, Profile};
use std::sync::{Mutex, PoisonError};

/// Environment variable holding the password for `--url` (and `--profile`) connections.
pub const PASSWORD_ENV: &str = "TOPICSCOPE_PASSWORD";

/// A password held in memory: its bytes are overwritten with zeros when it is dropped, and
/// `Debug` prints `***`, so no log line or panic message can show it. Everything that holds a
/// password (connect parameters, start-up options, UI actions, the prompt and the editor, the
/// in-memory secret store) holds this type; [`Password::expose`] is the one way to read it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(zeroize::Zeroizing<String>);

impl Password {
    /// Takes ownership of `text` (no copy is left behind).
    pub fn new(text: String) -> Self {
        Self(zeroize::Zeroizing::new(text))
    }

    /// The password's text, for the few places that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The text to edit in place (a password field); zeroed with the rest on drop.
    pub fn text_mut(&mut self) -> &mut String {
        &mut self.0
    }

    /// True when nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("***")
    }
}

impl From<String> for Password {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for Password {
    fn from(text: &str) -> Self {
        Self::new(text.to_owned())
    }
}

/// The password in [`PASSWORD_ENV`], if set and not empty.
pub fn password_from_env() -> Option<Password> {
    std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|password| !password.is_empty())
        .map(Password::new)
}

/// Why a password could not be read, stored or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// There is no usable keychain (no session bus, no Secret Service, unsupported platform).
    #[error("No OS keychain available ({0}): you will be asked for the password at connect time.")]
    Unavailable(String),
    /// The keychain did not answer in time (a locked keyring waiting for a prompt, a hung bus).
    #[error(
        "The OS keychain did not answer within {timeout_secs} s: you will be asked for the password at connect time."
    )]
    TimedOut {
        /// How long we waited.
        timeout_secs: u64,
    },
    /// The keychain answered with an error.
    #[error("The OS keychain refused the request: {0}")]
    Failed(String),
}

/// A place that keeps one password per profile id. Implementations must never block for long
/// nor panic: callers may be on the UI thread.
pub trait SecretBackend: Send + Sync {
    /// The password stored for this profile, `Ok(None)` if there is none.
    fn get(&self, profile_id: &str) -> Result<Option<String>, SecretError>;
    /// Stores (or replaces) the password of this profile.
    fn set(&self, profile_id: &str, password: &str) -> Result<(), SecretError>;
    /// Removes the password of this profile; removing a missing one is not an error.
    fn delete(&self, profile_id: &str) -> Result<(), SecretError>;
    /// Passwords can probably be stored (the UI shows a note when not).
    fn available(&self) -> bool;
}

/// A shared store is a store: the window and its profile editor hold one keychain together.
impl<T: SecretBackend + ?Sized> SecretBackend for std::sync::Arc<T> {
    fn get(&self, profile_id: &str) -> Result<Option<String>, SecretError> {
        (**self).get(profile_id)
    }

    fn set(&self, profile_id: &str, password: &str) -> Result<(), SecretError> {
        (**self).set(profile_id, password)
    }

    fn delete(&self, profile_id: &str) -> Result<(), SecretError> {
        (**self).delete(profile_id)
    }

    fn available(&self) -> bool {
        (**self).available()
    }
}

/// Passwords held in memory only, gone when the process ends (zeroed when removed).
#[derive(Debug, Default)]
pub struct MemorySecrets {
    passwords: Mutex<HashMap<String, Password>>,
}

impl MemorySecrets {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretBackend for MemorySecrets {
    fn get(&self, profile_id: &str) -> Result<Option<String>, SecretError> {
        let passwords = self
            .passwords
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(passwords
            .get(profile_id)
            .map(|password| password.expose().to_owned()))
    }

    fn set(&self, profile_id: &str, password: &str) -> Result<(), SecretError> {
        let mut passwords = self
            .passwords
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        passwords.insert(profile_id.to_owned(), Password::from(password));
        Ok(())
    }

    fn delete(&self, profile_id: &str) -> Result<(), SecretError> {
        let mut passwords = self
            .passwords
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        passwords.remove(profile_id);
        Ok(())
    }

    fn available(&self) -> bool {
        true
    }
}

/// No keychain at all: every call reports [`SecretError::Unavailable`].
#[derive(Debug, Clone)]
pub struct NoSecrets {
    reason: String,
}

impl NoSecrets {
    /// A store that is unavailable for `reason` (shown to the user).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl SecretBackend for NoSecrets {
    fn get(&self, _profile_id: &str) -> Result<Option<String>, SecretError> {
        Err(SecretError::Unavailable(self.reason.clone()))
    }

    fn set(&self, _profile_id: &str, _password: &str) -> Result<(), SecretError> {
        Err(SecretError::Unavailable(self.reason.clone()))
    }

    fn delete(&self, _profile_id: &str) -> Result<(), SecretError> {
        Err(SecretError::Unavailable(self.reason.clone()))
    }

    fn available(&self) -> bool {
        false
    }
}

/// What is known about a profile's password before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordNeed {
    /// Connect with this password (`None`: the profile sends none).
    Known(Option<Password>),
    /// The user must be asked; `reason` says why it is not known (keychain empty or failing).
    Ask {
        /// Why the stored password could not be used, if one was expected.
        reason: Option<String>,
    },
}

/// The password for `profile`: `given` (typed, or from `TOPICSCOPE_PASSWORD`) when the profile
/// uses one, else the keychain's for keychain profiles, else ask.
pub fn resolve_password(
    profile: &Profile,
    given: Option<Password>,
    secrets: &dyn SecretBackend,
) -> PasswordNeed {
    if !profile.password_storage.needs_password() {
        return PasswordNeed::Known(None);
    }
    if let Some(password) = given.filter(|password| !password.is_empty()) {
        return PasswordNeed::Known(Some(password));
    }
    match profile.password_storage {
        PasswordStorage::None => PasswordNeed::Known(None),
        PasswordStorage::Ask => PasswordNeed::Ask { reason: None },
        PasswordStorage::Keychain => match secrets.get(&profile.id) {
            Ok(Some(password)) => PasswordNeed::Known(Some(Password::new(password))),
            Ok(None) => PasswordNeed::Ask {
                reason: Some("No password is stored in the keychain for this profile.".to_owned()),
            },
            Err(error) => PasswordNeed::Ask {
                reason: Some(error.to_string()),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_secrets_store_replace_and_delete_per_profile() {
        let secrets = MemorySecrets::new();
        assert_eq!(secrets.get("a"), Ok(None));
        secrets.set("a", "one").expect("set");
        secrets.set("a", "two").expect("set");
        secrets.set("b", "other").expect("set");
        assert_eq!(secrets.get("a"), Ok(Some("two".into())));
        secrets.delete("a").expect("delete");
        secrets.delete("a").expect("deleting twice is fine");
        assert_eq!(secrets.get("a"), Ok(None));
        assert_eq!(secrets.get("b"), Ok(Some("other".into())));
    }

    #[test]
    fn no_secrets_reports_unavailable_with_the_reason() {
        let secrets = NoSecrets::new("no session bus");
        assert!(!secrets.available());
        let error = secrets.get("a").expect_err("unavailable");
        assert!(error.to_string().contains("no session bus"), "{error}");
        assert!(
            error.to_string().contains("asked for the password"),
            "{error}"
        );
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::*;
    use crate::model::config::profile::PasswordStorage;

    fn profile(storage: PasswordStorage) -> Profile {
        Profile {
            id: "p1".into(),
            username: "me".into(),
            password_storage: storage,
            ..Profile::default()
        }
    }

    #[test]
    fn a_profile_without_a_password_sends_none_even_when_one_is_given() {
        let secrets = MemorySecrets::default();
        let need = resolve_password(&profile(PasswordStorage::None), Some("x".into()), &secrets);
        assert_eq!(need, PasswordNeed::Known(None));
    }

    #[test]
    fn a_given_password_wins_over_the_keychain() {
        let secrets = MemorySecrets::default();
        secrets.set("p1", "stored").expect("set");
        let need = resolve_password(
            &profile(PasswordStorage::Keychain),
            Some("typed".into()),
            &secrets,
        );
        assert_eq!(need, PasswordNeed::Known(Some("typed".into())));
        let need = resolve_password(&profile(PasswordStorage::Keychain), None, &secrets);
        assert_eq!(need, PasswordNeed::Known(Some("stored".into())));
    }

    #[test]
    fn an_empty_keychain_or_an_ask_profile_asks() {
        let secrets = MemorySecrets::default();
        let need = resolve_password(&profile(PasswordStorage::Keychain), None, &secrets);
        assert!(matches!(need, PasswordNeed::Ask { reason: Some(_) }));
        let need = resolve_password(
            &profile(PasswordStorage::Ask),
            Some(Password::default()),
            &secrets,
        );
        assert_eq!(need, PasswordNeed::Ask { reason: None });
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let need = PasswordNeed::Known(Some("hunter2".into()));
        assert!(!format!("{need:?}").contains("hunter2"));
        let secrets = MemorySecrets::new();
        secrets.set("p", "hunter2").expect("set");
        assert!(!format!("{secrets:?}").contains("hunter2"), "{secrets:?}");
        let password = Password::from("hunter2");
        assert_eq!(format!("{password:?}"), "***");
        assert_eq!(password.expose(), "hunter2");
    }
}
