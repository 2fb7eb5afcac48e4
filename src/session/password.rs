//! Which password a connection sends: the one password rule for the window, the profile
//! editor and the command line.

use crate::model::config::profile::{PasswordStorage, Profile};
use crate::model::config::secret::SecretBackend;

/// What is known about a profile's password before connecting.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordNeed {
    /// Connect with this password (`None`: the profile sends none).
    Known(Option<String>),
    /// The user must be asked; `reason` says why it is not known (keychain empty or failing).
    Ask {
        /// Why the stored password could not be used, if one was expected.
        reason: Option<String>,
    },
}

impl std::fmt::Debug for PasswordNeed {
    /// Never prints the password.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordNeed::Known(password) => formatter
                .debug_tuple("Known")
                .field(&password.as_ref().map(|_| "***"))
                .finish(),
            PasswordNeed::Ask { reason } => formatter
                .debug_struct("Ask")
                .field("reason", reason)
                .finish(),
        }
    }
}

/// The password for `profile`: `given` (typed, or from `TOPICSCOPE_PASSWORD`) when the profile
/// uses one, else the keychain's for keychain profiles, else ask.
pub fn resolve_password(
    profile: &Profile,
    given: Option<String>,
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
            Ok(Some(password)) => PasswordNeed::Known(Some(password)),
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
    use crate::model::config::secret::MemorySecrets;

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
            Some(String::new()),
            &secrets,
        );
        assert_eq!(need, PasswordNeed::Ask { reason: None });
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let need = PasswordNeed::Known(Some("hunter2".into()));
        assert!(!format!("{need:?}").contains("hunter2"));
    }
}
