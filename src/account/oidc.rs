//! OpenID Connect sign-in against aedifion's Keycloak (reference §2.3): the discovery document,
//! the password grant ("direct access grant") and the refresh grant, and tokens that know when
//! they need refreshing. Accounts with two-factor authentication cannot use the password grant;
//! they get a message saying so and what to do instead.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use super::clock::seconds;
use super::http::{HttpRequest, HttpTransport, Method, TransportError};

/// aedifion's Keycloak realm (the current URL, without the old `/auth` prefix).
pub const DEFAULT_ISSUER: &str = "https://auth.aedifion.io/realms/aedifion";
/// The client id of aedifion's documented password-grant example; no client id for desktop
/// apps is published, so it is configurable.
pub const DEFAULT_CLIENT_ID: &str = "tutorial-python";
/// Longest head start a token refresh takes before the access token expires.
const MAX_REFRESH_MARGIN_SECS: i64 = 30;

/// Where and as whom to ask for tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer URL; `<issuer>/.well-known/openid-configuration` is the discovery document.
    pub issuer: String,
    /// The OAuth client id.
    pub client_id: String,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
        }
    }
}

impl OidcSettings {
    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        )
    }
}

/// Why an OpenID Connect sign-in failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The password grant was refused as wrong credentials (Keycloak also answers this way for
    /// accounts with a second factor).
    #[error(
        "wrong e-mail or password ({detail}). If your account uses two-factor authentication, \
         signing in with a password cannot work: try HTTP Basic sign-in, or ask support@aedifion.io \
         for MQTT credentials of unlimited validity and enter them in a profile"
    )]
    InvalidCredentials {
        /// Keycloak's `error_description`.
        detail: String,
    },
    /// The account needs a second factor or another step the password grant cannot provide.
    #[error(
        "your account needs two-factor authentication or another sign-in step that TopicScope \
         cannot do with a password ({detail}). Ask support@aedifion.io for MQTT credentials of \
         unlimited validity and enter them in a profile"
    )]
    TwoFactorRequired {
        /// Keycloak's `error_description`.
        detail: String,
    },
    /// The client id may not use the password grant.
    #[error(
        "the OpenID Connect client \"{client_id}\" may not sign in with a password ({detail}): \
         set the client id aedifion gave you, or use HTTP Basic sign-in"
    )]
    ClientNotAllowed {
        /// The client id used.
        client_id: String,
        /// Keycloak's error.
        detail: String,
    },
    /// The refresh token is no longer accepted (expired, revoked, or the session ended).
    #[error("the sign-in session ended ({detail})")]
    RefreshRefused {
        /// Keycloak's error.
        detail: String,
    },
    /// The discovery document could not be read or has no token endpoint.
    #[error("cannot read the sign-in configuration at {url}: {detail}")]
    Discovery {
        /// The discovery URL.
        url: String,
        /// What went wrong.
        detail: String,
        /// Worth trying again later (network, 5xx).
        temporary: bool,
    },
    /// The token endpoint answered with an error not covered above.
    #[error("the sign-in service answered HTTP {status}: {detail}")]
    TokenEndpoint {
        /// The status.
        status: u16,
        /// Its error text.
        detail: String,
    },
    /// The token endpoint did not answer.
    #[error("the sign-in service cannot be reached: {0}")]
    Transport(TransportError),
    /// The token answer is not a token answer.
    #[error("the sign-in service's answer is not understood: {0}")]
    Malformed(String),
}

impl OidcError {
    /// Trying again later may succeed.
    pub fn is_temporary(&self) -> bool {
        match self {
            OidcError::Discovery { temporary, .. } => *temporary,
            OidcError::TokenEndpoint { status, .. } => *status >= 500 || *status == 429,
            OidcError::Transport(_) | OidcError::Malformed(_) => true,
            _ => false,
        }
    }
}

/// Access and refresh tokens with their expiry times.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: String,
    /// When it expires.
    pub access_expires_at: DateTime<Utc>,
    /// When it should be refreshed (a little before it expires).
    pub refresh_at: DateTime<Utc>,
    /// The refresh token, if the server gave one.
    pub refresh_token: Option<String>,
    /// When the refresh token expires (`None`: not said).
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_at", &self.refresh_at)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

impl TokenSet {
    /// Tokens from a token answer received at `now`. The refresh is due a quarter of the
    /// lifetime (at most 30 s) before the access token expires.
    pub fn from_response(response: TokenResponse, now: DateTime<Utc>) -> Self {
        let lifetime = seconds(response.expires_in);
        let margin = (lifetime / 4).min(TimeDelta::seconds(MAX_REFRESH_MARGIN_SECS));
        let access_expires_at = now + lifetime;
        Self {
            access_token: response.access_token,
            access_expires_at,
            refresh_at: access_expires_at - margin,
            // Keycloak answers refresh_expires_in = 0 for offline tokens: no expiry known.
            refresh_expires_at: response
                .refresh_expires_in
                .filter(|&secs| secs > 0)
                .map(|secs| now + seconds(secs)),
            refresh_token: response.refresh_token,
        }
    }

    /// The access token can be sent now without refreshing first.
    pub fn access_fresh(&self, now: DateTime<Utc>) -> bool {
        now < self.refresh_at
    }

    /// The refresh token can still be used at `now`.
    pub fn can_refresh(&self, now: DateTime<Utc>) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_at.is_none_or(|until| now < until)
    }
}

/// A token endpoint's success answer (standard OAuth 2.0 fields).
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// A refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The refresh token's lifetime in seconds.
    #[serde(default)]
    pub refresh_expires_in: Option<u64>,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
}

#[derive(Deserialize)]
struct Discovery {
    token_endpoint: String,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Reads the discovery document and returns the token endpoint.
pub fn discover_token_endpoint(
    transport: &dyn HttpTransport,
    settings: &OidcSettings,
) -> Result<String, OidcError> {
    let url = settings.discovery_url();
    let failed = |detail: String, temporary: bool| OidcError::Discovery {
        url: url.clone(),
        detail,
        temporary,
    };
    let response = transport
        .send(&HttpRequest::new(Method::Get, url.clone()).header("Accept", "application/json"))
        .map_err(OidcError::Transport)?;
    if !(200..300).contains(&response.status) {
        let temporary = response.status >= 500 || response.status == 429;
        return Err(failed(format!("HTTP {}", response.status), temporary));
    }
    let discovery: Discovery = serde_json::from_slice(&response.body)
        .map_err(|error| failed(format!("not a discovery document ({error})"), false))?;
    Ok(discovery.token_endpoint)
}

/// The password grant: e-mail and password for tokens.
pub fn password_grant(
    transport: &dyn HttpTransport,
    token_endpoint: &str,
    client_id: &str,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<TokenSet, OidcError> {
    let request = HttpRequest::new(Method::Post, token_endpoint).form(&[
        ("grant_type", "password"),
        ("client_id", client_id),
        ("username", email),
        ("password", password),
        ("scope", "openid"),
    ]);
    token_request(transport, &request, client_id, false, now)
}

/// The refresh grant: a refresh token for new tokens.
pub fn refresh_grant(
    transport: &dyn HttpTransport,
    token_endpoint: &str,
    client_id: &str,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<TokenSet, OidcError> {
    let request = HttpRequest::new(Method::Post, token_endpoint).form(&[
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", refresh_token),
    ]);
    token_request(transport, &request, client_id, true, now)
}

fn token_request(
    transport: &dyn HttpTransport,
    request: &HttpRequest,
    client_id: &str,
    refreshing: bool,
    now: DateTime<Utc>,
) -> Result<TokenSet, OidcError> {
    let response = transport
        .send(&request.clone().header("Accept", "application/json"))
        .map_err(OidcError::Transport)?;
    if (200..300).contains(&response.status) {
        let tokens: TokenResponse = serde_json::from_slice(&response.body)
            .map_err(|error| OidcError::Malformed(error.to_string()))?;
        return Ok(TokenSet::from_response(tokens, now));
    }
    let Ok(error) = serde_json::from_slice::<OAuthError>(&response.body) else {
        return Err(OidcError::TokenEndpoint {
            status: response.status,
            detail: super::api::server_error_text(&response.body),
        });
    };
    let description = error.error_description.unwrap_or_default();
    let detail = if description.is_empty() {
        error.error.clone()
    } else {
        format!("{}: {description}", error.error)
    };
    Err(classify(
        response.status,
        &error.error,
        &description,
        detail,
        client_id,
        refreshing,
    ))
}

fn classify(
    status: u16,
    code: &str,
    description: &str,
    detail: String,
    client_id: &str,
    refreshing: bool,
) -> OidcError {
    let lower = description.to_ascii_lowercase();
    let second_factor = [
        "otp",
        "two-factor",
        "2fa",
        "not fully set up",
        "required action",
    ]
    .iter()
    .any(|hint| lower.contains(hint));
    match code {
        "invalid_grant" if refreshing => OidcError::RefreshRefused { detail },
        "invalid_grant" if second_factor => OidcError::TwoFactorRequired { detail },
        "invalid_grant" => OidcError::InvalidCredentials { detail },
        "unauthorized_client" | "invalid_client" => OidcError::ClientNotAllowed {
            client_id: client_id.to_owned(),
            detail,
        },
        _ => OidcError::TokenEndpoint { status, detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ILLUSTRATIVE: &str =
        include_str!("../../tests/data/aedifion/http/oidc-token-response.illustrative.json");

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("valid")
    }

    #[test]
    fn tokens_are_refreshed_a_little_before_they_expire() {
        let response: TokenResponse = serde_json::from_str(ILLUSTRATIVE).expect("example");
        let tokens = TokenSet::from_response(response, at(0));
        assert_eq!(tokens.access_expires_at, at(300));
        assert_eq!(tokens.refresh_at, at(270), "30 s margin for a 5 min token");
        assert_eq!(tokens.refresh_expires_at, Some(at(1800)));
        assert!(tokens.access_fresh(at(269)));
        assert!(!tokens.access_fresh(at(270)));
        assert!(tokens.can_refresh(at(1799)));
        assert!(!tokens.can_refresh(at(1800)));
        assert!(
            !format!("{tokens:?}").contains("eyJ"),
            "Debug hides the tokens"
        );
    }

    #[test]
    fn short_tokens_refresh_at_three_quarters_of_their_life() {
        let response = TokenResponse {
            access_token: "a".into(),
            expires_in: 8,
            refresh_token: Some("r".into()),
            refresh_expires_in: Some(0),
            token_type: None,
        };
        let tokens = TokenSet::from_response(response, at(0));
        assert_eq!(tokens.refresh_at, at(6));
        assert_eq!(tokens.refresh_expires_at, None, "0 means no known expiry");
        assert!(tokens.can_refresh(at(1_000_000)));
    }

    #[test]
    fn keycloak_errors_become_plain_messages() {
        let wrong = classify(
            401,
            "invalid_grant",
            "Invalid user credentials",
            "invalid_grant: Invalid user credentials".into(),
            "c",
            false,
        );
        assert!(matches!(wrong, OidcError::InvalidCredentials { .. }));
        let text = wrong.to_string();
        assert!(
            text.contains("two-factor") && text.contains("support@aedifion.io"),
            "{text}"
        );
        assert!(!wrong.is_temporary());

        let setup = classify(
            400,
            "invalid_grant",
            "Account is not fully set up",
            "x".into(),
            "c",
            false,
        );
        assert!(matches!(setup, OidcError::TwoFactorRequired { .. }));

        let client = classify(
            400,
            "unauthorized_client",
            "",
            "unauthorized_client".into(),
            "desk",
            false,
        );
        assert!(client.to_string().contains("\"desk\""), "{client}");

        let refresh = classify(
            400,
            "invalid_grant",
            "Token is not active",
            "x".into(),
            "c",
            true,
        );
        assert!(matches!(refresh, OidcError::RefreshRefused { .. }));

        let busy = classify(503, "temporarily_unavailable", "", "x".into(), "c", false);
        assert!(busy.is_temporary());
    }

    #[test]
    fn the_discovery_url_is_below_the_issuer() {
        let settings = OidcSettings {
            issuer: "https://auth.example/realms/r/".into(),
            client_id: "c".into(),
        };
        assert_eq!(
            settings.discovery_url(),
            "https://auth.example/realms/r/.well-known/openid-configuration"
        );
    }
}
