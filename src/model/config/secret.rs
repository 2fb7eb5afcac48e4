//! Where profile passwords are kept, as an interface the UI can use without knowing the OS
//! keychain. The keychain implementation is `crate::secrets::SecretStore`; this module also
//! has an in-memory one (tests, and "remember for this session") and one that has none.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Environment variable holding the password for `--url` (and `--profile`) connections.
pub const PASSWORD_ENV: &str = "TOPICSCOPE_PASSWORD";

/// The password in [`PASSWORD_ENV`], if set and not empty.
pub fn password_from_env() -> Option<String> {
    std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|password| !password.is_empty())
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

/// Passwords held in memory only, gone when the process ends.
#[derive(Debug, Default)]
pub struct MemorySecrets {
    passwords: Mutex<HashMap<String, String>>,
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
        Ok(passwords.get(profile_id).cloned())
    }

    fn set(&self, profile_id: &str, password: &str) -> Result<(), SecretError> {
        let mut passwords = self
            .passwords
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        passwords.insert(profile_id.to_owned(), password.to_owned());
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
