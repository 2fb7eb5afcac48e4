//! The platform's JSON (reference §2.2–2.4): MQTT-user requests and answers, the project list,
//! datapoint pages, the success and error envelopes, and the errors a user sees, in plain words.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::model::aedifion::project::AedifionProject;

use super::http::TransportError;
use super::oidc::OidcError;

/// What an MQTT account may do on its topics. `write` implies read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rights {
    /// Subscribe only (the default, and what TopicScope asks for unless told otherwise).
    #[default]
    Read,
    /// Subscribe and publish.
    Write,
}

impl Rights {
    /// `read` or `write`, as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rights::Read => "read",
            Rights::Write => "write",
        }
    }
}

/// `POST /v2/project/{id}/mqttuser` body (`NewMqttUser`). `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct NewMqttUser {
    /// The new MQTT user name (refused if it exists).
    pub username: String,
    /// Its password.
    pub password: String,
    /// `read` or `write`.
    pub rights: Rights,
    /// Seconds until the account expires (at most [`MAX_VALIDITY_SECS`]).
    pub validity: u32,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl fmt::Debug for NewMqttUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewMqttUser")
            .field("username", &self.username)
            .field("password", &"(hidden)")
            .field("rights", &self.rights)
            .field("validity", &self.validity)
            .field("description", &self.description)
            .finish()
    }
}

/// `PUT /v2/project/{id}/mqttuser/{mqttuser_id}` body (`UpdateMqttUser`): every field optional.
/// A new `validity` sets the expiry to *time of the update + validity*.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateMqttUser {
    /// A new password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// New rights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<Rights>,
    /// New validity in seconds from now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity: Option<u32>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl UpdateMqttUser {
    /// The renewal request: only a new validity.
    pub fn renewal(validity_secs: u32) -> Self {
        Self {
            validity: Some(validity_secs),
            ..Self::default()
        }
    }
}

impl fmt::Debug for UpdateMqttUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateMqttUser")
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .field("rights", &self.rights)
            .field("validity", &self.validity)
            .field("description", &self.description)
            .finish()
    }
}

/// Longest validity the platform grants an MQTT account, in seconds (2 h).
pub const MAX_VALIDITY_SECS: u32 = 7200;

/// One ACL entry of an MQTT account: a topic filter with `read` or `write`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AclEntry {
    /// The entry's id (not needed by clients).
    #[serde(default)]
    pub id: Option<u64>,
    /// `read` or `write`.
    pub rights: Rights,
    /// An MQTT topic filter, e.g. `lbg01/mybuilding/#`.
    pub topic: String,
}

/// The MQTT account in a create or update answer (`resource`). The password is never echoed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MqttUser {
    /// `mqttuser_id` for renewals.
    pub id: u64,
    /// The user name.
    pub username: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// When the account expires (UTC; the platform writes microseconds).
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub valid_until: Option<DateTime<Utc>>,
    /// The account's ACL.
    #[serde(default)]
    pub topics: Vec<AclEntry>,
}

/// A company in the project list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A project in the project list. Unknown fields are ignored; `handle` and
/// `load_balancing_group` come from the current OpenAPI (reference §2.4, [3P]) and may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The numeric id used in every `/v2/project/{id}/…` path.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The owning company's id.
    #[serde(default)]
    pub company_id: Option<u64>,
    /// The project handle (second topic level).
    #[serde(default)]
    pub handle: Option<String>,
    /// The load-balancing group (first topic level).
    #[serde(default)]
    pub load_balancing_group: Option<String>,
}

impl Project {
    /// `load_balancing_group/handle`, the MQTT topic prefix, when both are known and valid.
    pub fn topic_prefix(&self) -> Option<AedifionProject> {
        let group = self.load_balancing_group.as_deref()?;
        let handle = self.handle.as_deref()?;
        AedifionProject::parse(&format!("{group}/{handle}"))
    }
}

/// One entry of `GET /v2/user/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectWithContext {
    /// The project's company.
    pub company: Company,
    /// The project.
    pub project: Project,
}

/// `meta` of a datapoint page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PageMeta {
    /// This page (1-based).
    pub current_page: u32,
    /// Entries per page asked for.
    pub items_per_page: u32,
    /// Entries in all pages.
    pub total_items: u64,
    /// Pages in all.
    pub total_pages: u32,
}

/// One `{id, hash_id}` of a datapoint page: the datapoint's name and its topic postfix.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdMapping {
    /// The datapoint id (its name), as text even if the API sent a number.
    #[serde(deserialize_with = "text_or_number")]
    pub id: String,
    /// The hash id (topic postfix).
    pub hash_id: String,
}

/// `GET /v2/project/{id}/datapoints/byPage` (reference §2.4, [3P]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatapointPage {
    /// The datapoint ids (names) on this page.
    #[serde(rename = "dataPointIDs", default)]
    pub datapoint_ids: Vec<String>,
    /// Name → hash id.
    #[serde(rename = "idMappings", default)]
    pub id_mappings: Vec<IdMapping>,
    /// Paging.
    pub meta: PageMeta,
}

/// The success envelope `{success, operation, resource}`; `operation` is `""` on PUT.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Envelope<T> {
    pub success: bool,
    #[serde(default)]
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "\"\" on PUT, so nothing outside the tests reads it"
        )
    )]
    pub operation: Option<String>,
    pub resource: Option<T>,
    #[serde(default)]
    pub error: Option<String>,
}

/// The error envelope `{success: false, error, operation}` (401: `{"error": "Unauthorized access"}`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The error text of a 4xx/5xx body, if it is an error envelope (or short plain text).
pub(crate) fn server_error_text(body: &[u8]) -> String {
    if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body)
        && let Some(text) = envelope.error.or(envelope.message)
    {
        return text;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        String::new()
    } else {
        text.chars().take(200).collect()
    }
}

/// Which call failed (the same status means different things for different calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Signing in / listing the user's projects.
    ListProjects,
    /// Creating an MQTT account for a project.
    CreateMqttUser {
        /// The project.
        project_id: u64,
    },
    /// Renewing an MQTT account.
    RenewMqttUser {
        /// The project.
        project_id: u64,
        /// The account.
        mqttuser_id: u64,
    },
    /// Reading the datapoint list.
    ListDatapoints {
        /// The project.
        project_id: u64,
    },
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::ListProjects => write!(f, "Signing in"),
            Operation::CreateMqttUser { project_id } => {
                write!(f, "Creating MQTT credentials for project {project_id}")
            }
            Operation::RenewMqttUser {
                project_id,
                mqttuser_id,
            } => write!(
                f,
                "Renewing MQTT account {mqttuser_id} of project {project_id}"
            ),
            Operation::ListDatapoints { project_id } => {
                write!(f, "Reading the datapoints of project {project_id}")
            }
        }
    }
}

/// What went wrong with a call, without the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// 401: wrong e-mail or password, an expired token, or no access to the resource.
    Unauthorized {
        /// The platform's `error` text.
        server: String,
    },
    /// 403.
    Forbidden {
        /// The platform's `error` text.
        server: String,
    },
    /// 404.
    NotFound {
        /// The platform's `error` text.
        server: String,
    },
    /// 400: correctable input, e.g. a user name that is taken.
    BadRequest {
        /// The platform's `error` text.
        server: String,
    },
    /// 423 or 429: a quota was hit.
    RateLimited {
        /// The status.
        status: u16,
        /// The platform's `error` text.
        server: String,
    },
    /// 5xx.
    Server {
        /// The status.
        status: u16,
        /// The platform's `error` text.
        server: String,
    },
    /// Any other status.
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The platform's `error` text.
        server: String,
    },
    /// No answer.
    Transport(TransportError),
    /// An answer that is not what the API documents.
    Malformed {
        /// What did not fit.
        detail: String,
    },
    /// The OpenID Connect sign-in failed.
    SignIn(OidcError),
}

/// A failed API call, with the call, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {}", describe(self))]
pub struct ApiError {
    /// The call.
    pub operation: Operation,
    /// What went wrong.
    pub kind: ApiErrorKind,
}

impl ApiError {
    /// An error of `operation`.
    pub fn new(operation: Operation, kind: ApiErrorKind) -> Self {
        Self { operation, kind }
    }

    /// The platform or the network may do better later: try again after a pause.
    pub fn is_temporary(&self) -> bool {
        match &self.kind {
            ApiErrorKind::RateLimited { .. }
            | ApiErrorKind::Server { .. }
            | ApiErrorKind::Transport(_)
            | ApiErrorKind::Malformed { .. } => true,
            ApiErrorKind::SignIn(error) => error.is_temporary(),
            _ => false,
        }
    }

    /// The platform did not accept the sign-in (wrong password, two-factor account…): asking
    /// again with the same login would not help and may lock the account.
    pub fn is_sign_in_refused(&self) -> bool {
        match &self.kind {
            ApiErrorKind::SignIn(error) => !error.is_temporary(),
            ApiErrorKind::Unauthorized { .. } => self.operation == Operation::ListProjects,
            _ => false,
        }
    }
}

fn with_server(text: &str, server: &str) -> String {
    if server.is_empty() {
        text.to_owned()
    } else {
        format!("{text} (the platform says: \"{server}\")")
    }
}

fn describe(error: &ApiError) -> String {
    match &error.kind {
        ApiErrorKind::Unauthorized { server } => match error.operation {
            Operation::ListProjects => with_server(
                "wrong e-mail or password (401). Check both and sign in again",
                server,
            ),
            Operation::CreateMqttUser { project_id } | Operation::ListDatapoints { project_id } => {
                with_server(
                    &format!(
                        "no access to project {project_id} (401): your account may not use it, or the sign-in is no longer valid"
                    ),
                    server,
                )
            }
            Operation::RenewMqttUser { .. } => {
                with_server("the account is gone or not yours any more (401)", server)
            }
        },
        ApiErrorKind::Forbidden { server } => {
            with_server("the platform does not allow this (403)", server)
        }
        ApiErrorKind::NotFound { server } => match error.operation {
            Operation::RenewMqttUser { .. } => with_server(
                "the MQTT account no longer exists (404; expired accounts are deleted)",
                server,
            ),
            _ => with_server("not found (404)", server),
        },
        ApiErrorKind::BadRequest { server } => {
            with_server("the platform refused the request (400)", server)
        }
        ApiErrorKind::RateLimited { status, server } => with_server(
            &format!("the platform is limiting requests (HTTP {status}); wait a moment"),
            server,
        ),
        ApiErrorKind::Server { status, server } => with_server(
            &format!("the aedifion platform had a problem (HTTP {status})"),
            server,
        ),
        ApiErrorKind::UnexpectedStatus { status, server } => {
            with_server(&format!("unexpected answer HTTP {status}"), server)
        }
        ApiErrorKind::Transport(transport) => transport.to_string(),
        ApiErrorKind::Malformed { detail } => {
            format!("the platform's answer is not what its API documents: {detail}")
        }
        ApiErrorKind::SignIn(oidc) => oidc.to_string(),
    }
}

/// The error kind for an HTTP status that is not a success.
pub(crate) fn status_error(status: u16, body: &[u8]) -> ApiErrorKind {
    let server = server_error_text(body);
    match status {
        400 => ApiErrorKind::BadRequest { server },
        401 => ApiErrorKind::Unauthorized { server },
        403 => ApiErrorKind::Forbidden { server },
        404 => ApiErrorKind::NotFound { server },
        423 | 429 => ApiErrorKind::RateLimited { status, server },
        500..=599 => ApiErrorKind::Server { status, server },
        _ => ApiErrorKind::UnexpectedStatus { status, server },
    }
}

/// Parses an RFC 3339 timestamp; a time without offset is taken as UTC.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// Formats a timestamp the way the platform does: `2019-01-18T16:23:01.707344Z`.
pub fn format_timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    match text {
        None => Ok(None),
        Some(text) => parse_timestamp(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("\"{text}\" is not an RFC 3339 time"))),
    }
}

fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a text or number id, found {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The documented examples, verbatim (shared/reference/examples/http, copied into tests/data).
    const CREATE_RESPONSE: &str =
        include_str!("../../tests/data/aedifion/http/mqttuser-create-response.json");
    const UPDATE_RESPONSE: &str =
        include_str!("../../tests/data/aedifion/http/mqttuser-update-response.json");
    const CREATE_REQUEST: &str =
        include_str!("../../tests/data/aedifion/http/mqttuser-create-request.json");
    const ERROR_401: &str = include_str!("../../tests/data/aedifion/http/error-401.json");
    const ERROR_GENERIC: &str = include_str!("../../tests/data/aedifion/http/error-generic.json");
    const PROJECTS: &str =
        include_str!("../../tests/data/aedifion/http/user-projects-response.illustrative.json");

    #[test]
    fn the_documented_create_answer_parses_with_microseconds() {
        let envelope: Envelope<MqttUser> =
            serde_json::from_str(CREATE_RESPONSE).expect("documented shape");
        assert!(envelope.success);
        let user = envelope.resource.expect("resource");
        assert_eq!((user.id, user.username.as_str()), (42, "my_mqtt_user"));
        assert_eq!(
            user.valid_until.map(format_timestamp).as_deref(),
            Some("2019-01-18T16:23:01.707344Z")
        );
        assert_eq!(
            user.topics,
            [AclEntry {
                id: Some(123),
                rights: Rights::Read,
                topic: "lbg01/mybuilding/#".into()
            }]
        );
    }

    #[test]
    fn the_update_answer_with_an_empty_operation_parses() {
        let envelope: Envelope<MqttUser> =
            serde_json::from_str(UPDATE_RESPONSE).expect("documented shape");
        assert_eq!(envelope.operation.as_deref(), Some(""));
        let user = envelope.resource.expect("resource");
        assert_eq!(
            user.valid_until.map(format_timestamp).as_deref(),
            Some("2019-01-18T17:28:39.392003Z")
        );
    }

    #[test]
    fn the_create_request_serialises_like_the_documented_example() {
        let request = NewMqttUser {
            username: "topicscope_ab12cd34".into(),
            password: "Xk3-example-only-9qP".into(),
            rights: Rights::Read,
            validity: 7200,
            description: Some("TopicScope read-only session".into()),
        };
        let ours: serde_json::Value = serde_json::to_value(&request).expect("serialise");
        let documented: serde_json::Value = serde_json::from_str(CREATE_REQUEST).expect("example");
        assert_eq!(ours, documented);
        assert!(!format!("{request:?}").contains("Xk3"), "Debug hides it");
    }

    #[test]
    fn a_renewal_sends_only_the_validity() {
        let body = serde_json::to_string(&UpdateMqttUser::renewal(7200)).expect("serialise");
        assert_eq!(body, r#"{"validity":7200}"#);
    }

    #[test]
    fn error_bodies_give_the_server_text() {
        assert_eq!(
            server_error_text(ERROR_401.as_bytes()),
            "Unauthorized access"
        );
        assert_eq!(
            server_error_text(ERROR_GENERIC.as_bytes()),
            "Project 1 not found or setpoint writing not enabled for project."
        );
        assert_eq!(server_error_text(b"<html>Bad Gateway</html>"), "");
        assert_eq!(server_error_text(b"upstream timeout"), "upstream timeout");
    }

    #[test]
    fn a_401_reads_differently_for_sign_in_and_for_a_project() {
        let kind = status_error(401, ERROR_401.as_bytes());
        let sign_in = ApiError::new(Operation::ListProjects, kind.clone());
        assert!(
            sign_in.to_string().contains("wrong e-mail or password"),
            "{sign_in}"
        );
        assert!(sign_in.is_sign_in_refused() && !sign_in.is_temporary());
        let project = ApiError::new(Operation::CreateMqttUser { project_id: 7 }, kind);
        assert!(
            project.to_string().contains("no access to project 7"),
            "{project}"
        );
        assert!(!project.is_sign_in_refused());
    }

    #[test]
    fn server_errors_are_temporary_and_quote_the_platform() {
        let error = ApiError::new(
            Operation::CreateMqttUser { project_id: 1 },
            status_error(503, br#"{"success": false, "error": "maintenance"}"#),
        );
        assert!(error.is_temporary());
        assert!(error.to_string().contains("HTTP 503"), "{error}");
        assert!(error.to_string().contains("\"maintenance\""), "{error}");
    }

    #[test]
    fn the_illustrative_project_list_gives_the_topic_prefix() {
        let projects: Vec<ProjectWithContext> =
            serde_json::from_str(PROJECTS).expect("illustrative shape");
        let project = &projects[0];
        assert_eq!(project.company.name, "NewCo");
        assert_eq!(
            project
                .project
                .topic_prefix()
                .map(|p| p.to_string())
                .as_deref(),
            Some("lbg1/buildinginc_headquarter")
        );
    }

    #[test]
    fn timestamps_without_offset_are_utc_and_garbage_is_refused() {
        let time = parse_timestamp("2019-01-18T16:23:01.707344").expect("naive");
        assert_eq!(format_timestamp(time), "2019-01-18T16:23:01.707344Z");
        assert!(parse_timestamp("yesterday").is_none());
        let bad = serde_json::from_str::<MqttUser>(
            r#"{"id": 1, "username": "u", "valid_until": "soon"}"#,
        );
        assert!(bad.is_err());
    }

    #[test]
    fn datapoint_pages_accept_numeric_ids() {
        let page: DatapointPage = serde_json::from_str(
            r#"{"dataPointIDs": ["a"], "favorites": [], "idMappings": [{"id": 17, "hash_id": "Ab3dEf9h"}],
                "meta": {"current_page": 1, "items_per_page": 100, "total_items": 1, "total_pages": 1}}"#,
        )
        .expect("page");
        assert_eq!(page.id_mappings[0].id, "17");
    }
}
