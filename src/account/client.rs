//! The aedifion HTTP API client: signs every request (HTTP Basic, or an OpenID Connect bearer
//! token it keeps fresh), calls the endpoints TopicScope needs, and turns every failure into an
//! [`ApiError`] a user can act on. Blocking: call it from a worker thread, never the UI thread.
//! `Sync`: one client can serve the credential keeper and the datapoint import at once.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use serde::de::DeserializeOwned;

use super::api::{
    ApiError, ApiErrorKind, DatapointPage, Envelope, MqttUser, NewMqttUser, Operation,
    ProjectWithContext, UpdateMqttUser, status_error,
};
use super::clock::Clock;
use super::http::{HttpRequest, HttpResponse, HttpTransport, Method};
use super::oidc::{self, OidcError, OidcSettings, TokenSet};

/// Production API.
pub const PRODUCTION_API_URL: &str = "https://api.aedifion.io";
/// Development API.
pub const DEVELOPMENT_API_URL: &str = "https://api-dev.aedifion.io";

/// How requests are authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignInMethod {
    /// `Authorization: Basic base64(email:password)` on every request (documented, simplest).
    #[default]
    Basic,
    /// Keycloak tokens from the password grant, refreshed before they expire.
    Oidc(OidcSettings),
}

/// Who signs in where. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The API's base URL, e.g. [`PRODUCTION_API_URL`].
    pub api_url: String,
    /// The platform e-mail address.
    pub email: String,
    /// The platform password.
    pub password: String,
    /// Basic or OpenID Connect.
    pub method: SignInMethod,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("api_url", &self.api_url)
            .field("email", &self.email)
            .field("password", &"(hidden)")
            .field("method", &self.method)
            .finish()
    }
}

#[derive(Debug, Default)]
struct OidcState {
    token_endpoint: Option<String>,
    tokens: Option<TokenSet>,
}

/// The API client.
pub struct AedifionClient {
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    login: Login,
    api_url: String,
    oidc: Mutex<OidcState>,
}

impl fmt::Debug for AedifionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AedifionClient")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

impl AedifionClient {
    /// A client for `login` over `transport`, with `clock` deciding when tokens are refreshed.
    /// Nothing is sent until the first call.
    pub fn new(login: Login, transport: Arc<dyn HttpTransport>, clock: Arc<dyn Clock>) -> Self {
        let api_url = login.api_url.trim().trim_end_matches('/').to_owned();
        Self {
            transport,
            clock,
            login,
            api_url,
            oidc: Mutex::new(OidcState::default()),
        }
    }

    /// The API base URL (without a trailing slash).
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The e-mail address signed in with.
    pub fn email(&self) -> &str {
        &self.login.email
    }

    /// The clock this client (and whatever drives it) goes by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The current OIDC refresh token, to keep in the keychain (`None` with Basic sign-in).
    pub fn refresh_token(&self) -> Option<String> {
        self.oidc_state()
            .tokens
            .as_ref()
            .and_then(|tokens| tokens.refresh_token.clone())
    }

    /// `GET /v2/user/projects`: the projects the user may use. With Basic sign-in this is also
    /// the check that the e-mail and password are right.
    pub fn projects(&self) -> Result<Vec<ProjectWithContext>, ApiError> {
        let operation = Operation::ListProjects;
        let url = format!("{}/v2/user/projects", self.api_url);
        let response = self.call(operation, HttpRequest::new(Method::Get, url))?;
        // Documented as a bare array; accept the success envelope too.
        if let Ok(projects) = serde_json::from_slice::<Vec<ProjectWithContext>>(&response.body) {
            return Ok(projects);
        }
        resource(operation, &response)
    }

    /// `POST /v2/project/{id}/mqttuser`: a new MQTT account.
    pub fn create_mqtt_user(
        &self,
        project_id: u64,
        user: &NewMqttUser,
    ) -> Result<MqttUser, ApiError> {
        let operation = Operation::CreateMqttUser { project_id };
        let url = format!("{}/v2/project/{project_id}/mqttuser", self.api_url);
        let body = to_json(operation, user)?;
        let response = self.call(operation, HttpRequest::new(Method::Post, url).json(body))?;
        resource(operation, &response)
    }

    /// `PUT /v2/project/{id}/mqttuser/{mqttuser_id}`: renews (new expiry = now + validity) or
    /// changes an MQTT account.
    pub fn update_mqtt_user(
        &self,
        project_id: u64,
        mqttuser_id: u64,
        update: &UpdateMqttUser,
    ) -> Result<MqttUser, ApiError> {
        let operation = Operation::RenewMqttUser {
            project_id,
            mqttuser_id,
        };
        let url = format!(
            "{}/v2/project/{project_id}/mqttuser/{mqttuser_id}",
            self.api_url
        );
        let body = to_json(operation, update)?;
        let response = self.call(operation, HttpRequest::new(Method::Put, url).json(body))?;
        resource(operation, &response)
    }

    /// `GET /v2/project/{id}/datapoints/byPage?page=N&per_page=M` (pages start at 1, at most
    /// 100 per page).
    pub fn datapoints_page(
        &self,
        project_id: u64,
        page: u32,
        per_page: u32,
    ) -> Result<DatapointPage, ApiError> {
        let operation = Operation::ListDatapoints { project_id };
        let url = format!(
            "{}/v2/project/{project_id}/datapoints/byPage?page={page}&per_page={per_page}",
            self.api_url
        );
        let response = self.call(operation, HttpRequest::new(Method::Get, url))?;
        serde_json::from_slice(&response.body).map_err(|error| {
            ApiError::new(
                operation,
                ApiErrorKind::Malformed {
                    detail: error.to_string(),
                },
            )
        })
    }

    /// Sends `request` signed; a 2xx answer is returned, anything else becomes an error. With
    /// OIDC, a 401 is retried once with a fresh token (the old one may have been revoked).
    fn call(&self, operation: Operation, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        let mut retried = false;
        loop {
            let authorization = self.authorization(operation, retried)?;
            let signed = request
                .clone()
                .header("Authorization", authorization)
                .header("Accept", "application/json");
            let response = self
                .transport
                .send(&signed)
                .map_err(|error| ApiError::new(operation, ApiErrorKind::Transport(error)))?;
            if (200..300).contains(&response.status) {
                return Ok(response);
            }
            let oidc = matches!(self.login.method, SignInMethod::Oidc(_));
            if response.status == 401 && oidc && !retried {
                retried = true;
                continue;
            }
            return Err(ApiError::new(
                operation,
                status_error(response.status, &response.body),
            ));
        }
    }

    /// The `Authorization` header value; `renew` forces new OIDC tokens.
    fn authorization(&self, operation: Operation, renew: bool) -> Result<String, ApiError> {
        match &self.login.method {
            SignInMethod::Basic => {
                let pair = format!("{}:{}", self.login.email, self.login.password);
                Ok(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            SignInMethod::Oidc(settings) => self
                .bearer(settings, renew)
                .map(|token| format!("Bearer {token}"))
                .map_err(|error| ApiError::new(operation, ApiErrorKind::SignIn(error))),
        }
    }

    /// A fresh access token: the one held, else refreshed, else a new password grant.
    fn bearer(&self, settings: &OidcSettings, renew: bool) -> Result<String, OidcError> {
        let mut state = self.oidc_state();
        let now = self.clock.now();
        if let Some(tokens) = &state.tokens
            && !renew
            && tokens.access_fresh(now)
        {
            return Ok(tokens.access_token.clone());
        }
        let transport = self.transport.as_ref();
        let endpoint = match &state.token_endpoint {
            Some(endpoint) => endpoint.clone(),
            None => {
                let endpoint = oidc::discover_token_endpoint(transport, settings)?;
                state.token_endpoint = Some(endpoint.clone());
                endpoint
            }
        };
        let refresh_token = state
            .tokens
            .as_ref()
            .filter(|tokens| tokens.can_refresh(now))
            .and_then(|tokens| tokens.refresh_token.clone());
        let refreshed = refresh_token.map(|token| {
            oidc::refresh_grant(transport, &endpoint, &settings.client_id, &token, now)
        });
        let tokens = match refreshed {
            Some(Ok(tokens)) => tokens,
            // A refused refresh (session ended) falls back to the password; a network failure
            // would fail the password grant too, so it is reported as it is.
            Some(Err(error)) if error.is_temporary() => return Err(error),
            Some(Err(_)) | None => oidc::password_grant(
                transport,
                &endpoint,
                &settings.client_id,
                &self.login.email,
                &self.login.password,
                now,
            )?,
        };
        let token = tokens.access_token.clone();
        state.tokens = Some(tokens);
        Ok(token)
    }

    fn oidc_state(&self) -> std::sync::MutexGuard<'_, OidcState> {
        self.oidc.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn to_json(operation: Operation, value: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|error| {
        ApiError::new(
            operation,
            ApiErrorKind::Malformed {
                detail: format!("cannot write the request: {error}"),
            },
        )
    })
}

/// The `resource` of a success envelope.
fn resource<T: DeserializeOwned>(
    operation: Operation,
    response: &HttpResponse,
) -> Result<T, ApiError> {
    let malformed = |detail: String| ApiError::new(operation, ApiErrorKind::Malformed { detail });
    let envelope: Envelope<T> =
        serde_json::from_slice(&response.body).map_err(|error| malformed(error.to_string()))?;
    match envelope {
        Envelope {
            success: true,
            resource: Some(resource),
            ..
        } => Ok(resource),
        Envelope { error, .. } => Err(malformed(format!(
            "HTTP {} without a resource{}",
            response.status,
            error.map(|text| format!(": {text}")).unwrap_or_default()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use chrono::{DateTime, TimeDelta, Utc};

    use super::*;
    use crate::account::api::Rights;
    use crate::account::clock::ManualClock;
    use crate::account::http::TransportError;

    /// Answers queued by the test, requests recorded: exercises everything above the transport.
    #[derive(Default)]
    struct Scripted {
        answers: Mutex<VecDeque<Result<HttpResponse, TransportError>>>,
        sent: Mutex<Vec<HttpRequest>>,
    }

    impl Scripted {
        fn answer(&self, status: u16, body: &str) {
            self.answers
                .lock()
                .expect("lock")
                .push_back(Ok(HttpResponse {
                    status,
                    body: body.as_bytes().to_vec(),
                }));
        }

        fn sent(&self) -> Vec<HttpRequest> {
            self.sent.lock().expect("lock").clone()
        }
    }

    impl HttpTransport for Scripted {
        fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
            self.sent.lock().expect("lock").push(request.clone());
            self.answers
                .lock()
                .expect("lock")
                .pop_front()
                .expect("an answer was scripted for every request")
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("valid")
    }

    fn client(method: SignInMethod) -> (Arc<Scripted>, Arc<ManualClock>, AedifionClient) {
        let transport = Arc::new(Scripted::default());
        let clock = Arc::new(ManualClock::new(start()));
        let login = Login {
            api_url: "https://api.example/".into(),
            email: "me@example.com".into(),
            password: "pw".into(),
            method,
        };
        let client = AedifionClient::new(login, transport.clone(), clock.clone());
        (transport, clock, client)
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn basic_sign_in_signs_every_request() {
        let (transport, _, client) = client(SignInMethod::Basic);
        transport.answer(200, "[]");
        assert_eq!(client.projects().expect("projects"), []);
        let sent = transport.sent();
        assert_eq!(sent[0].url, "https://api.example/v2/user/projects");
        // base64("me@example.com:pw")
        assert_eq!(
            header(&sent[0], "Authorization"),
            Some("Basic bWVAZXhhbXBsZS5jb206cHc=")
        );
    }

    #[test]
    fn an_oidc_token_is_reused_then_refreshed_before_it_expires() {
        let settings = OidcSettings {
            issuer: "https://auth.example/realms/r".into(),
            client_id: "desk".into(),
        };
        let (transport, clock, client) = client(SignInMethod::Oidc(settings));
        transport.answer(
            200,
            r#"{"token_endpoint": "https://auth.example/realms/r/token"}"#,
        );
        transport.answer(
            200,
            r#"{"access_token": "A1", "expires_in": 300, "refresh_token": "R1", "refresh_expires_in": 1800}"#,
        );
        transport.answer(200, "[]");
        transport.answer(200, "[]");
        client.projects().expect("first");
        clock.advance(TimeDelta::seconds(200));
        client.projects().expect("token still fresh");
        clock.advance(TimeDelta::seconds(80)); // 280 s: inside the 30 s margin
        transport.answer(
            200,
            r#"{"access_token": "A2", "expires_in": 300, "refresh_token": "R2", "refresh_expires_in": 1800}"#,
        );
        transport.answer(200, "[]");
        client.projects().expect("after refresh");

        let sent = transport.sent();
        let urls: Vec<&str> = sent.iter().map(|request| request.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://auth.example/realms/r/.well-known/openid-configuration",
                "https://auth.example/realms/r/token",
                "https://api.example/v2/user/projects",
                "https://api.example/v2/user/projects",
                "https://auth.example/realms/r/token",
                "https://api.example/v2/user/projects",
            ]
        );
        assert_eq!(header(&sent[3], "Authorization"), Some("Bearer A1"));
        let refresh = String::from_utf8(sent[4].body.clone().expect("form").bytes).expect("text");
        assert_eq!(
            refresh,
            "grant_type=refresh_token&client_id=desk&refresh_token=R1"
        );
        assert_eq!(header(&sent[5], "Authorization"), Some("Bearer A2"));
        assert_eq!(client.refresh_token().as_deref(), Some("R2"));
    }

    #[test]
    fn create_sends_the_documented_body_and_reads_the_envelope() {
        let (transport, _, client) = client(SignInMethod::Basic);
        transport.answer(
            201,
            include_str!("../../tests/data/aedifion/http/mqttuser-create-response.json"),
        );
        let user = client
            .create_mqtt_user(
                7,
                &NewMqttUser {
                    username: "u".into(),
                    password: "p".into(),
                    rights: Rights::Read,
                    validity: 7200,
                    description: None,
                },
            )
            .expect("created");
        assert_eq!(user.id, 42);
        let sent = transport.sent();
        assert_eq!(sent[0].url, "https://api.example/v2/project/7/mqttuser");
        let body: serde_json::Value =
            serde_json::from_slice(&sent[0].body.clone().expect("json").bytes).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"username": "u", "password": "p", "rights": "read", "validity": 7200})
        );
    }

    #[test]
    fn a_success_status_without_a_resource_is_malformed_not_a_panic() {
        let (transport, _, client) = client(SignInMethod::Basic);
        transport.answer(200, r#"{"success": false, "error": "odd"}"#);
        let error = client
            .update_mqtt_user(7, 42, &UpdateMqttUser::renewal(7200))
            .expect_err("no resource");
        assert!(
            matches!(error.kind, ApiErrorKind::Malformed { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("odd"), "{error}");
    }

    #[test]
    fn a_network_failure_names_the_operation() {
        let (transport, _, client) = client(SignInMethod::Basic);
        transport
            .answers
            .lock()
            .expect("lock")
            .push_back(Err(TransportError::Timeout {
                url: "https://api.example/v2/project/3/datapoints/byPage".into(),
                timeout_secs: 30,
            }));
        let error = client.datapoints_page(3, 1, 100).expect_err("timeout");
        assert!(error.is_temporary());
        assert!(
            error
                .to_string()
                .starts_with("Reading the datapoints of project 3 failed:"),
            "{error}"
        );
    }
}
