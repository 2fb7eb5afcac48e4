//! The saved profiles together with their keychain passwords: every change the profile editor
//! makes to disk goes through here, so the file and the keychain stay in step and the editor
//! only draws and edits.
//!
//! A change to the profile file either fails (nothing changed, a [`StoreError`]) or succeeds;
//! the keychain step that goes with it (store the typed password, copy it to a duplicate,
//! remove an entry no longer used) comes after and its result is reported beside the saved
//! profile as a [`KeychainOutcome`], because the profile is saved either way. Passwords never go
//! into the file.

use std::path::Path;

use crate::model::config::aedifion_account::RememberedAccount;
use crate::model::config::profile::{PasswordStorage, Profile};
use crate::model::config::profile_store::{ProfileStore, StoreError};
use crate::model::config::secret::{
    Password, PasswordNeed, SecretBackend, SecretError, resolve_password,
};
use crate::model::write::templates::Template;

/// A keychain step that failed after the profile file was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    /// The password typed in the editor could not be stored.
    #[error("the password was not stored: {0}")]
    NotStored(SecretError),
    /// The original's password could not be read or given to the duplicate.
    #[error("its password was not copied: {0}")]
    NotCopied(SecretError),
    /// The entry of a deleted profile, or of one that no longer keeps its password in the
    /// keychain, is still there.
    #[error("its keychain entry could not be removed: {0}")]
    NotRemoved(SecretError),
}

/// What a change did to the profile's keychain entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainOutcome {
    /// Nothing to do: no password typed, none to copy, or the profile keeps none there.
    Untouched,
    /// The typed password was stored.
    Stored,
    /// The duplicate got the original's password.
    Copied,
    /// The entry the profile no longer uses was removed.
    Removed,
    /// The keychain step failed; the profile file was changed all the same.
    Failed(KeychainError),
}

/// A profile as saved (created, updated, duplicated) or as it was before deletion, with what
/// happened in the keychain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    /// The profile as it is now in the file (for a deletion: as it was).
    pub profile: Profile,
    /// The keychain step that went with the change.
    pub keychain: KeychainOutcome,
}

/// The profile file of one config directory and the keychain holding its passwords.
pub struct ProfileLibrary {
    store: ProfileStore,
    secrets: Box<dyn SecretBackend>,
}

impl std::fmt::Debug for ProfileLibrary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProfileLibrary")
            .field("store", &self.store)
            .field("keychain_available", &self.secrets.available())
            .finish()
    }
}

impl ProfileLibrary {
    /// The profiles of `store`, their passwords kept in `secrets` (the OS keychain in the app).
    pub fn new(store: ProfileStore, secrets: Box<dyn SecretBackend>) -> Self {
        Self { store, secrets }
    }

    /// The profiles in `config_dir` (see [`ProfileStore::open`] for broken files).
    pub fn open(config_dir: &Path, secrets: Box<dyn SecretBackend>) -> Self {
        Self::new(ProfileStore::open(config_dir), secrets)
    }

    /// The saved profiles.
    pub fn store(&self) -> &ProfileStore {
        &self.store
    }

    /// Forgets the load warning (the user has read it).
    pub fn dismiss_load_warning(&mut self) {
        self.store.dismiss_load_warning();
    }

    /// Passwords can probably be kept in the keychain (the editor offers a field only then).
    pub fn keychain_available(&self) -> bool {
        self.secrets.available()
    }

    /// The password to connect `profile` with: `given` (typed), the keychain's, none, or ask.
    pub fn password_need(&self, profile: &Profile, given: Option<Password>) -> PasswordNeed {
        resolve_password(profile, given, &*self.secrets)
    }

    /// Saves `draft`: creates it when `previous_storage` is `None` (a new profile), otherwise
    /// replaces the saved profile with its id, whose password storage was `previous_storage`.
    /// Then stores `password` in the keychain when the profile keeps it there and one was typed
    /// (empty: keep the stored one), or removes the keychain entry a profile no longer uses.
    /// Nothing reaches the keychain when the file could not be written.
    pub fn save(
        &mut self,
        draft: Profile,
        password: &str,
        previous_storage: Option<PasswordStorage>,
    ) -> Result<ProfileChange, StoreError> {
        let id = if previous_storage.is_some() {
            let id = draft.id.clone();
            self.store.update(draft)?;
            id
        } else {
            self.store.create(draft)?
        };
        let profile = self
            .store
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound(id))?;
        let keychain = self.save_password(&profile, previous_storage, password);
        Ok(ProfileChange { profile, keychain })
    }

    fn save_password(
        &self,
        profile: &Profile,
        previous_storage: Option<PasswordStorage>,
        password: &str,
    ) -> KeychainOutcome {
        match profile.password_storage {
            PasswordStorage::Keychain if !password.is_empty() => {
                match self.secrets.set(&profile.id, password) {
                    Ok(()) => KeychainOutcome::Stored,
                    Err(error) => KeychainOutcome::Failed(KeychainError::NotStored(error)),
                }
            }
            PasswordStorage::Keychain => KeychainOutcome::Untouched,
            PasswordStorage::None | PasswordStorage::Ask
                if previous_storage == Some(PasswordStorage::Keychain) =>
            {
                self.remove_password(&profile.id)
            }
            PasswordStorage::None | PasswordStorage::Ask => KeychainOutcome::Untouched,
        }
    }

    /// Removes the profile `id` from the file, then its keychain entry if it had one.
    pub fn delete(&mut self, id: &str) -> Result<ProfileChange, StoreError> {
        let profile = self.store.delete(id)?;
        let keychain = if profile.password_storage == PasswordStorage::Keychain {
            self.remove_password(id)
        } else {
            KeychainOutcome::Untouched
        };
        Ok(ProfileChange { profile, keychain })
    }

    fn remove_password(&self, id: &str) -> KeychainOutcome {
        match self.secrets.delete(id) {
            Ok(()) => KeychainOutcome::Removed,
            Err(error) => KeychainOutcome::Failed(KeychainError::NotRemoved(error)),
        }
    }

    /// Adds a copy of the profile `id` (new id and client id, "Copy of …") right after it and
    /// gives the copy the original's keychain password.
    pub fn duplicate(&mut self, id: &str) -> Result<ProfileChange, StoreError> {
        let profile = self.store.duplicate(id)?;
        let keychain = if profile.password_storage == PasswordStorage::Keychain {
            self.copy_password(id, &profile.id)
        } else {
            KeychainOutcome::Untouched
        };
        Ok(ProfileChange { profile, keychain })
    }

    fn copy_password(&self, from_id: &str, to_id: &str) -> KeychainOutcome {
        match self.secrets.get(from_id) {
            Ok(Some(password)) => match self.secrets.set(to_id, &password) {
                Ok(()) => KeychainOutcome::Copied,
                Err(error) => KeychainOutcome::Failed(KeychainError::NotCopied(error)),
            },
            Ok(None) => KeychainOutcome::Untouched,
            Err(error) => KeychainOutcome::Failed(KeychainError::NotCopied(error)),
        }
    }

    /// Replaces the publish templates of the saved profile `id`. Returns the profile as saved,
    /// `None` when there is no such profile (deleted meanwhile: nothing to do).
    pub fn save_templates(
        &mut self,
        id: &str,
        templates: Vec<Template>,
    ) -> Result<Option<Profile>, StoreError> {
        let Some(mut profile) = self.store.get(id).cloned() else {
            return Ok(None);
        };
        profile.templates = templates;
        self.store.update(profile.clone())?;
        Ok(Some(profile))
    }

    /// Replaces the aedifion account the saved profile `id` remembers (a renewal moved its
    /// expiry). Returns the profile as saved, `None` when there is no such profile.
    pub fn save_aedifion_account(
        &mut self,
        id: &str,
        account: Option<RememberedAccount>,
    ) -> Result<Option<Profile>, StoreError> {
        let Some(mut profile) = self.store.get(id).cloned() else {
            return Ok(None);
        };
        profile.aedifion_account = account;
        self.store.update(profile.clone())?;
        Ok(Some(profile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::model::config::presets::Preset;
    use crate::model::config::profile_store::PROFILES_FILE_NAME;
    use crate::model::config::secret::{MemorySecrets, NoSecrets};
    use crate::model::write::publish::PayloadMode;

    /// A keychain the test can still look into after handing it over.
    type Shared = Arc<MemorySecrets>;

    fn keychain_profile() -> Profile {
        Profile {
            name: "Plant".into(),
            username: "me".into(),
            password_storage: PasswordStorage::Keychain,
            ..Preset::LocalMosquitto.profile()
        }
    }

    fn file_text(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(PROFILES_FILE_NAME)).expect("read profiles file")
    }

    #[test]
    fn saving_a_new_profile_stores_the_typed_password_in_the_keychain_and_not_in_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets.clone()));

        let change = library
            .save(keychain_profile(), "hunter2-secret", None)
            .expect("saved");

        assert_eq!(change.keychain, KeychainOutcome::Stored);
        assert_eq!(
            library.store().profiles(),
            std::slice::from_ref(&change.profile)
        );
        assert_eq!(
            secrets.get(&change.profile.id),
            Ok(Some("hunter2-secret".into()))
        );
        assert!(!file_text(dir.path()).contains("hunter2"));
        assert_eq!(ProfileStore::open(dir.path()).profiles(), [change.profile]);
    }

    #[test]
    fn saving_without_a_typed_password_keeps_the_stored_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets.clone()));
        let saved = library
            .save(keychain_profile(), "first", None)
            .expect("saved")
            .profile;

        let renamed = Profile {
            name: "Renamed".into(),
            ..saved.clone()
        };
        let change = library
            .save(renamed, "", Some(PasswordStorage::Keychain))
            .expect("saved");

        assert_eq!(change.keychain, KeychainOutcome::Untouched);
        assert_eq!(change.profile.name, "Renamed");
        assert_eq!(change.profile.id, saved.id);
        assert_eq!(secrets.get(&saved.id), Ok(Some("first".into())));
    }

    #[test]
    fn switching_from_keychain_to_ask_removes_the_stored_password() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets.clone()));
        let saved = library
            .save(keychain_profile(), "pw", None)
            .expect("saved")
            .profile;

        let ask = Profile {
            password_storage: PasswordStorage::Ask,
            ..saved.clone()
        };
        let change = library
            .save(ask, "", Some(PasswordStorage::Keychain))
            .expect("saved");

        assert_eq!(change.keychain, KeychainOutcome::Removed);
        assert_eq!(secrets.get(&saved.id), Ok(None));
    }

    #[test]
    fn without_a_keychain_the_profile_is_saved_and_the_password_failure_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut library = ProfileLibrary::open(dir.path(), Box::new(NoSecrets::new("no bus")));
        assert!(!library.keychain_available());

        let change = library
            .save(keychain_profile(), "typed", None)
            .expect("the profile is saved all the same");

        let KeychainOutcome::Failed(error) = &change.keychain else {
            panic!("expected a keychain failure, got {:?}", change.keychain);
        };
        assert!(matches!(error, KeychainError::NotStored(_)));
        let text = error.to_string();
        assert!(text.starts_with("the password was not stored"), "{text}");
        assert!(text.contains("no bus"), "{text}");
        assert!(!file_text(dir.path()).contains("typed"));
        assert_eq!(ProfileStore::open(dir.path()).profiles().len(), 1);
    }

    #[test]
    fn an_invalid_draft_is_refused_and_its_password_goes_nowhere() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets.clone()));
        let invalid = Profile {
            id: "p1".into(),
            client_id: "my/client".into(),
            ..keychain_profile()
        };

        let result = library.save(invalid, "pw", None);

        assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
        assert!(library.store().profiles().is_empty());
        assert!(!dir.path().join(PROFILES_FILE_NAME).exists());
        assert_eq!(secrets.get("p1"), Ok(None));
    }

    #[test]
    fn updating_a_profile_that_is_gone_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut library = ProfileLibrary::open(dir.path(), Box::new(MemorySecrets::new()));
        let ghost = Profile {
            id: "gone".into(),
            ..Preset::LocalMosquitto.profile()
        };
        let result = library.save(ghost, "", Some(PasswordStorage::None));
        assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    }

    #[test]
    fn deleting_removes_the_profile_and_its_keychain_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets.clone()));
        let saved = library
            .save(keychain_profile(), "pw", None)
            .expect("saved")
            .profile;

        let change = library.delete(&saved.id).expect("deleted");

        assert_eq!(change.profile, saved);
        assert_eq!(change.keychain, KeychainOutcome::Removed);
        assert_eq!(secrets.get(&saved.id), Ok(None));
        assert!(ProfileStore::open(dir.path()).profiles().is_empty());
        assert!(matches!(
            library.delete(&saved.id),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn deleting_without_a_keychain_still_deletes_and_reports_the_leftover_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let id = store.create(keychain_profile()).expect("create");
        let mut library = ProfileLibrary::new(store, Box::new(NoSecrets::new("no bus")));

        let change = library.delete(&id).expect("deleted");

        assert!(matches!(
            change.keychain,
            KeychainOutcome::Failed(KeychainError::NotRemoved(_))
        ));
        assert!(library.store().profiles().is_empty());
    }

    #[test]
    fn deleting_a_profile_without_a_keychain_password_leaves_the_keychain_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let id = store
            .create(Preset::LocalMosquitto.profile())
            .expect("create");
        let mut library = ProfileLibrary::new(store, Box::new(NoSecrets::new("no bus")));
        let change = library.delete(&id).expect("deleted");
        assert_eq!(change.keychain, KeychainOutcome::Untouched);
    }

    #[test]
    fn duplicating_copies_the_keychain_password_to_the_copy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets.clone()));
        let original = library
            .save(keychain_profile(), "pw", None)
            .expect("saved")
            .profile;

        let change = library.duplicate(&original.id).expect("duplicated");

        assert_eq!(change.keychain, KeychainOutcome::Copied);
        assert_eq!(change.profile.name, "Copy of Plant");
        assert_ne!(change.profile.id, original.id);
        assert_ne!(change.profile.client_id, original.client_id);
        assert_eq!(secrets.get(&change.profile.id), Ok(Some("pw".into())));
        assert_eq!(secrets.get(&original.id), Ok(Some("pw".into())));
        let saved = ProfileStore::open(dir.path());
        assert_eq!(saved.profiles(), [original, change.profile]);
    }

    #[test]
    fn duplicating_without_a_keychain_keeps_the_copy_and_says_the_password_was_not_copied() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = ProfileStore::open(dir.path());
        let id = store.create(keychain_profile()).expect("create");
        let mut library = ProfileLibrary::new(store, Box::new(NoSecrets::new("no bus")));

        let change = library.duplicate(&id).expect("duplicated");

        let KeychainOutcome::Failed(error) = &change.keychain else {
            panic!("expected a keychain failure, got {:?}", change.keychain);
        };
        assert!(matches!(error, KeychainError::NotCopied(_)));
        assert!(error.to_string().contains("no bus"), "{error}");
        assert_eq!(library.store().profiles().len(), 2);
    }

    #[test]
    fn saved_templates_reach_the_file_and_an_unknown_profile_is_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut library = ProfileLibrary::open(dir.path(), Box::new(NoSecrets::new("none")));
        let saved = library
            .save(Preset::LocalMosquitto.profile(), "", None)
            .expect("saved")
            .profile;
        let template = Template {
            name: "ping".into(),
            topic: "lab/ping".into(),
            payload: "{}".into(),
            mode: PayloadMode::Json,
            qos: 0,
            retain: false,
        };

        let updated = library
            .save_templates(&saved.id, vec![template.clone()])
            .expect("saved");

        assert_eq!(
            updated.map(|profile| profile.templates),
            Some(vec![template.clone()])
        );
        let reloaded = ProfileStore::open(dir.path());
        assert_eq!(
            reloaded.get(&saved.id).map(|p| p.templates.clone()),
            Some(vec![template.clone()])
        );
        assert!(matches!(
            library.save_templates("unknown", vec![template]),
            Ok(None)
        ));
    }

    #[test]
    fn the_password_need_uses_this_librarys_keychain() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Shared::default();
        let mut library = ProfileLibrary::open(dir.path(), Box::new(secrets));
        let saved = library
            .save(keychain_profile(), "pw", None)
            .expect("saved")
            .profile;
        assert_eq!(
            library.password_need(&saved, None),
            PasswordNeed::Known(Some("pw".into()))
        );
        let library = ProfileLibrary::open(dir.path(), Box::new(NoSecrets::new("no bus")));
        let PasswordNeed::Ask { reason } = library.password_need(&saved, None) else {
            panic!("expected to ask");
        };
        assert!(reason.unwrap_or_default().contains("no bus"));
    }
}
