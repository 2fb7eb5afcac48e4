//! Profile passwords in the OS keychain (macOS Keychain, Windows Credential Manager, Secret
//! Service on Linux) through `keyring` 4.x.
//!
//! Keychain calls can block (a D-Bus call to a locked keyring waiting for an unlock prompt, a
//! hung bus), so every call runs on a short-lived named thread and is abandoned after a timeout.
//! When there is no keychain (no session bus: CI, Xvfb, minimal Linux) calls report
//! [`SecretError::Unavailable`] and the caller asks for the password at connect time. Passwords
//! are never written anywhere else, and never logged.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use crate::model::config::secret::{MemorySecrets, NoSecrets, SecretBackend, SecretError};

/// Service name under which TopicScope's entries appear in the keychain (the user is the
/// profile id).
pub const KEYCHAIN_SERVICE: &str = "TopicScope";
/// How long one keychain call may take before it is given up.
pub const DEFAULT_KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// What is known about the keychain so far.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Availability {
    /// Not probed yet (or the probe is still running).
    Unknown,
    /// The keychain answered.
    Available,
    /// No keychain, for this reason; no further calls are attempted.
    Unavailable(String),
}

/// The OS keychain, one password per profile id.
#[derive(Debug, Clone)]
pub struct SecretStore {
    service: String,
    timeout: Duration,
    availability: Arc<Mutex<Availability>>,
}

impl SecretStore {
    /// The OS keychain with the default service name and timeout. Starts a background probe so
    /// that [`SecretBackend::available`] soon knows whether a keychain exists; never blocks.
    pub fn os() -> Self {
        Self::with_service(KEYCHAIN_SERVICE, DEFAULT_KEYCHAIN_TIMEOUT)
    }

    /// The OS keychain with a custom service name (tests use one so they never touch the user's
    /// real entries) and timeout.
    pub fn with_service(service: &str, timeout: Duration) -> Self {
        let store = Self {
            service: service.to_owned(),
            timeout,
            availability: Arc::new(Mutex::new(Availability::Unknown)),
        };
        store.start_probe();
        store
    }

    /// The password of this profile, `Ok(None)` if none is stored.
    pub fn get(&self, profile_id: &str) -> Result<Option<String>, SecretError> {
        let service = self.service.clone();
        let user = profile_id.to_owned();
        self.call(
            move || match keyring::Entry::new(&service, &user)?.get_password() {
                Ok(password) => Ok(Some(password)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(error) => Err(error),
            },
        )
    }

    /// Stores (or replaces) the password of this profile.
    pub fn set(&self, profile_id: &str, password: &str) -> Result<(), SecretError> {
        let service = self.service.clone();
        let user = profile_id.to_owned();
        let password = password.to_owned();
        self.call(move || keyring::Entry::new(&service, &user)?.set_password(&password))
    }

    /// Removes the password of this profile (a missing entry is fine).
    pub fn delete(&self, profile_id: &str) -> Result<(), SecretError> {
        let service = self.service.clone();
        let user = profile_id.to_owned();
        self.call(
            move || match keyring::Entry::new(&service, &user)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(error) => Err(error),
            },
        )
    }

    fn availability(&self) -> Availability {
        self.availability
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn mark(&self, availability: Availability) {
        *self
            .availability
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = availability;
    }

    /// Initialises keyring's default store off-thread and records whether it exists.
    fn start_probe(&self) {
        let availability = Arc::clone(&self.availability);
        let probe = move || {
            let result = match keyring::Entry::store_status() {
                Ok(()) => Availability::Available,
                Err(error) => Availability::Unavailable(describe(error)),
            };
            let mut cell = availability.lock().unwrap_or_else(PoisonError::into_inner);
            if *cell == Availability::Unknown {
                *cell = result;
            }
        };
        if let Err(error) = std::thread::Builder::new()
            .name("topicscope-keychain-probe".into())
            .spawn(probe)
        {
            self.mark(Availability::Unavailable(format!(
                "could not start a thread: {error}"
            )));
        }
    }

    /// Runs one keychain operation with the timeout and maps its outcome.
    fn call<T: Send + 'static>(
        &self,
        operation: impl FnOnce() -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, SecretError> {
        if let Availability::Unavailable(reason) = self.availability() {
            return Err(SecretError::Unavailable(reason));
        }
        match run_with_timeout(self.timeout, operation) {
            Ok(Ok(value)) => {
                self.mark(Availability::Available);
                Ok(value)
            }
            Ok(Err(error)) => Err(self.map_error(error)),
            Err(error) => {
                // A keychain that hangs once will hang again: stop asking it this session.
                if let SecretError::TimedOut { .. } = error {
                    self.mark(Availability::Unavailable(
                        "it did not answer in time".into(),
                    ));
                }
                Err(error)
            }
        }
    }

    fn map_error(&self, error: keyring::Error) -> SecretError {
        match error {
            keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => {
                let reason = describe(&error);
                self.mark(Availability::Unavailable(reason.clone()));
                SecretError::Unavailable(reason)
            }
            keyring::Error::NoStorageAccess(_) => SecretError::Failed(format!(
                "the keychain is locked or access was denied ({error})"
            )),
            other => SecretError::Failed(other.to_string()),
        }
    }
}

fn describe(error: &keyring::Error) -> String {
    match error {
        keyring::Error::NoDefaultStore => {
            "no Secret Service, Keychain or Credential Manager could be reached".to_owned()
        }
        other => other.to_string(),
    }
}

/// Runs `operation` on a named thread and waits at most `timeout` for it. A late operation is
/// abandoned (its thread ends on its own when the call finally returns).
fn run_with_timeout<T: Send + 'static>(
    timeout: Duration,
    operation: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SecretError> {
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("topicscope-keychain".into())
        .spawn(move || {
            // The receiver is gone if we timed out; nothing left to tell.
            let _ = sender.send(operation());
        })
        .map_err(|error| SecretError::Failed(format!("could not start a thread: {error}")))?;
    receiver
        .recv_timeout(timeout)
        .map_err(|_| SecretError::TimedOut {
            timeout_secs: timeout.as_secs().max(1),
        })
}

impl SecretBackend for SecretStore {
    fn get(&self, profile_id: &str) -> Result<Option<String>, SecretError> {
        SecretStore::get(self, profile_id)
    }

    fn set(&self, profile_id: &str, password: &str) -> Result<(), SecretError> {
        SecretStore::set(self, profile_id, password)
    }

    fn delete(&self, profile_id: &str) -> Result<(), SecretError> {
        SecretStore::delete(self, profile_id)
    }

    fn available(&self) -> bool {
        !matches!(self.availability(), Availability::Unavailable(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_that_never_returns_times_out() {
        let (release, blocked) = mpsc::channel::<()>();
        let result = run_with_timeout(Duration::from_millis(50), move || blocked.recv().is_ok());
        assert_eq!(result, Err(SecretError::TimedOut { timeout_secs: 1 }));
        drop(release); // lets the abandoned thread finish
    }

    #[test]
    fn a_quick_operation_returns_its_value() {
        assert_eq!(run_with_timeout(Duration::from_secs(30), || 42), Ok(42));
    }

    #[test]
    fn os_keychain_answers_or_reports_unavailable_without_panicking() {
        let store = SecretStore::with_service("TopicScope-unit-test", Duration::from_secs(10));
        let id = crate::model::config::profile::new_profile_id();
        match store.set(&id, "s3cret") {
            Ok(()) => {
                assert_eq!(store.get(&id), Ok(Some("s3cret".into())));
                assert_eq!(store.delete(&id), Ok(()));
                assert_eq!(store.get(&id), Ok(None));
            }
            Err(SecretError::Unavailable(_) | SecretError::TimedOut { .. }) => {
                assert!(!store.available(), "after Unavailable the store says so");
                assert!(matches!(store.get(&id), Err(SecretError::Unavailable(_))));
            }
            Err(SecretError::Failed(reason)) => {
                // A locked keyring: reported with a reason, not a panic.
                assert!(!reason.is_empty());
            }
        }
    }
}
