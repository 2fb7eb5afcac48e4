//! The platform password and the OIDC refresh token in the OS keychain, through the same
//! [`SecretBackend`] as broker passwords — never in `profiles.toml`. Entries are keyed by the
//! API host and the e-mail address, so one login serves every profile of that account.

use crate::model::config::secret::{SecretBackend, SecretError};

/// Keychain entry name of the platform password.
pub fn platform_password_key(api_url: &str, email: &str) -> String {
    format!(
        "aedifion-password:{}:{}",
        api_host(api_url),
        email.trim().to_lowercase()
    )
}

/// Keychain entry name of the OIDC refresh token.
pub fn refresh_token_key(api_url: &str, email: &str) -> String {
    format!(
        "aedifion-refresh-token:{}:{}",
        api_host(api_url),
        email.trim().to_lowercase()
    )
}

fn api_host(api_url: &str) -> String {
    url::Url::parse(api_url.trim())
        .ok()
        .and_then(|url| {
            url.host_str().map(|host| match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            })
        })
        .unwrap_or_else(|| api_url.trim().to_owned())
}

/// The platform login's secrets in a keychain.
#[derive(Clone, Copy)]
pub struct PlatformSecrets<'a> {
    backend: &'a dyn SecretBackend,
}

impl<'a> PlatformSecrets<'a> {
    /// Secrets kept in `backend`.
    pub fn new(backend: &'a dyn SecretBackend) -> Self {
        Self { backend }
    }

    /// The stored platform password, if any.
    pub fn password(&self, api_url: &str, email: &str) -> Result<Option<String>, SecretError> {
        self.backend.get(&platform_password_key(api_url, email))
    }

    /// Stores the platform password (after a successful sign-in).
    pub fn remember_password(
        &self,
        api_url: &str,
        email: &str,
        password: &str,
    ) -> Result<(), SecretError> {
        self.backend
            .set(&platform_password_key(api_url, email), password)
    }

    /// The stored refresh token, if any.
    pub fn refresh_token(&self, api_url: &str, email: &str) -> Result<Option<String>, SecretError> {
        self.backend.get(&refresh_token_key(api_url, email))
    }

    /// Stores the refresh token.
    pub fn remember_refresh_token(
        &self,
        api_url: &str,
        email: &str,
        token: &str,
    ) -> Result<(), SecretError> {
        self.backend.set(&refresh_token_key(api_url, email), token)
    }

    /// Removes the password and the token (sign out).
    pub fn forget(&self, api_url: &str, email: &str) -> Result<(), SecretError> {
        self.backend
            .delete(&platform_password_key(api_url, email))?;
        self.backend.delete(&refresh_token_key(api_url, email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::secret::MemorySecrets;

    #[test]
    fn keys_depend_on_host_and_address_not_on_spelling() {
        assert_eq!(
            platform_password_key("https://api.aedifion.io/", " Me@Example.com"),
            "aedifion-password:api.aedifion.io:me@example.com"
        );
        assert_eq!(
            refresh_token_key("http://127.0.0.1:8080", "a@b"),
            "aedifion-refresh-token:127.0.0.1:8080:a@b"
        );
        assert_ne!(
            platform_password_key("https://api.aedifion.io", "a@b"),
            platform_password_key("https://api-dev.aedifion.io", "a@b")
        );
    }

    #[test]
    fn password_and_token_are_stored_and_forgotten_together() {
        let backend = MemorySecrets::new();
        let secrets = PlatformSecrets::new(&backend);
        let api = "https://api.aedifion.io";
        secrets.remember_password(api, "a@b", "pw").expect("set");
        secrets
            .remember_refresh_token(api, "a@b", "tok")
            .expect("set");
        assert_eq!(secrets.password(api, "A@B"), Ok(Some("pw".into())));
        assert_eq!(secrets.refresh_token(api, "a@b"), Ok(Some("tok".into())));
        secrets.forget(api, "a@b").expect("forget");
        assert_eq!(secrets.password(api, "a@b"), Ok(None));
        assert_eq!(secrets.refresh_token(api, "a@b"), Ok(None));
    }
}
