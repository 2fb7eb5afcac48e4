//! A contract server for the aedifion HTTP API: a small real HTTP/1.1 server on a free loopback
//! port that implements exactly the documented contract (reference §2.2–2.4), with every answer
//! built from the reference's examples (`tests/data/aedifion/http/`):
//!
//! - HTTP Basic and OIDC bearer tokens on every API call; 401 `{"error": "Unauthorized access",
//!   "success": false}` otherwise (also for projects the user may not use).
//! - Keycloak: the discovery document, the password grant (two-factor accounts refused with
//!   `invalid_grant` as Keycloak does), the refresh grant.
//! - `GET /v2/user/projects` (a bare array); `POST …/mqttuser` (201, envelope `create`, name
//!   taken → 400, validity 1…7200 with a lower limit a test may shorten); `PUT …/mqttuser/{id}`
//!   (envelope with `operation: ""`, new expiry = update time + validity, unknown or expired
//!   account → 404); `valid_until` with microseconds; expired accounts are deleted.
//! - `GET …/datapoints/byPage` with `page`/`per_page` (≤ 100) and `meta`.
//!
//! Time comes from an injected clock (a test's `ManualClock`), so expiry is exact. Every request
//! is recorded for assertions; accounts changes are reported to a callback (to configure a real
//! Mosquitto with them, as the platform configures its broker).
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use topicscope::account::api::format_timestamp;
use topicscope::account::clock::Clock;

const CREATE_RESPONSE: &str = include_str!("../data/aedifion/http/mqttuser-create-response.json");
const UPDATE_RESPONSE: &str = include_str!("../data/aedifion/http/mqttuser-update-response.json");
const ERROR_401: &str = include_str!("../data/aedifion/http/error-401.json");
const ERROR_GENERIC: &str = include_str!("../data/aedifion/http/error-generic.json");
const TOKEN_RESPONSE: &str =
    include_str!("../data/aedifion/http/oidc-token-response.illustrative.json");
const PROJECTS_RESPONSE: &str =
    include_str!("../data/aedifion/http/user-projects-response.illustrative.json");

/// The realm path of the test Keycloak.
pub const REALM_PATH: &str = "/realms/aedifion";
/// The OIDC client id the test Keycloak allows the password grant for.
pub const OIDC_CLIENT: &str = "topicscope-test";
/// The documented maximum validity.
pub const MAX_VALIDITY_SECS: u64 = 7200;

/// A project the server knows.
#[derive(Debug, Clone)]
pub struct ProjectSpec {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub company_id: u64,
    pub company_name: String,
    pub handle: String,
    pub load_balancing_group: String,
    /// ACL entries beyond `<lbg>/<handle>/#` that new accounts get (e.g. `META/…`).
    pub extra_acl: Vec<String>,
    /// Hash-id length of the project's datapoints.
    pub hash_id_length: usize,
}

impl ProjectSpec {
    /// A project like the illustrative example, with this id and topic prefix.
    pub fn new(id: u64, load_balancing_group: &str, handle: &str) -> Self {
        Self {
            id,
            name: format!("Building {id}"),
            description: format!("Test building {id}"),
            company_id: 1,
            company_name: "NewCo".into(),
            handle: handle.into(),
            load_balancing_group: load_balancing_group.into(),
            extra_acl: Vec::new(),
            hash_id_length: 8,
        }
    }
}

/// An MQTT account the server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMqttUser {
    pub id: u64,
    pub project_id: u64,
    pub username: String,
    pub password: String,
    pub rights: String,
    pub description: Option<String>,
    pub valid_until: DateTime<Utc>,
    /// (acl id, rights, topic).
    pub topics: Vec<(u64, String, String)>,
}

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic(String),
    Bearer(String),
    Refused,
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Path with query.
    pub path: String,
    pub auth: Auth,
    pub status: u16,
    /// The server's clock when it answered.
    pub at: DateTime<Utc>,
    /// The request body (form or JSON), for assertions.
    pub body: String,
}

#[derive(Debug, Clone)]
struct User {
    email: String,
    password: String,
    projects: Vec<u64>,
    two_factor: bool,
}

type AccountsListener = Box<dyn Fn(&[StoredMqttUser]) + Send + Sync>;

struct State {
    users: Vec<User>,
    projects: Vec<ProjectSpec>,
    mqtt_users: BTreeMap<u64, StoredMqttUser>,
    next_mqtt_id: u64,
    next_acl_id: u64,
    datapoints: HashMap<u64, Vec<String>>,
    access_tokens: HashMap<String, (String, DateTime<Utc>)>,
    refresh_tokens: HashMap<String, (String, DateTime<Utc>)>,
    log: Vec<Recorded>,
    listener: Option<AccountsListener>,
    /// Injected failures: (method, status, body) for the next matching API request.
    failures: VecDeque<(String, u16, String)>,
    min_validity_secs: u64,
    access_token_secs: u64,
    refresh_token_secs: u64,
}

struct Shared {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    base_url: String,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running server; stops on drop.
pub struct ContractServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    port: u16,
    threads: Vec<JoinHandle<()>>,
}

impl ContractServer {
    /// Starts on a free loopback port with `clock`. Validities down to 1 s are allowed (tests
    /// shorten them); access tokens live 300 s and refresh tokens 1800 s, as in the example.
    pub fn start(clock: Arc<dyn Clock>) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
        let port = listener.local_addr().expect("address").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                users: Vec::new(),
                projects: Vec::new(),
                mqtt_users: BTreeMap::new(),
                // The documented example's ids.
                next_mqtt_id: 42,
                next_acl_id: 123,
                datapoints: HashMap::new(),
                access_tokens: HashMap::new(),
                refresh_tokens: HashMap::new(),
                log: Vec::new(),
                listener: None,
                failures: VecDeque::new(),
                min_validity_secs: 1,
                access_token_secs: 300,
                refresh_token_secs: 1800,
            }),
            clock,
            base_url: base_url.clone(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("aedifion-contract-accept".into())
                .spawn(move || accept_loop(&listener, &shared, &stop))
                .expect("spawn")
        };
        let reaper = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("aedifion-contract-reaper".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        reap(&shared, &mut shared.state());
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
                .expect("spawn")
        };
        Self {
            base_url,
            shared,
            stop,
            port,
            threads: vec![accept, reaper],
        }
    }

    /// The issuer URL of the test Keycloak.
    pub fn issuer(&self) -> String {
        format!("{}{REALM_PATH}", self.base_url)
    }

    /// Adds a platform user.
    pub fn add_user(&self, email: &str, password: &str) {
        self.shared.state().users.push(User {
            email: email.into(),
            password: password.into(),
            projects: Vec::new(),
            two_factor: false,
        });
    }

    /// Marks a user as having a second factor: the password grant refuses it.
    pub fn require_two_factor(&self, email: &str) {
        for user in &mut self.shared.state().users {
            if user.email == email {
                user.two_factor = true;
            }
        }
    }

    /// Adds a project.
    pub fn add_project(&self, project: ProjectSpec) {
        self.shared.state().projects.push(project);
    }

    /// Lets `email` use `project_id`.
    pub fn grant(&self, email: &str, project_id: u64) {
        for user in &mut self.shared.state().users {
            if user.email == email {
                user.projects.push(project_id);
            }
        }
    }

    /// Adds datapoints (names) to a project.
    pub fn add_datapoints(&self, project_id: u64, names: impl IntoIterator<Item = String>) {
        self.shared
            .state()
            .datapoints
            .entry(project_id)
            .or_default()
            .extend(names);
    }

    /// Access tokens live this long.
    pub fn set_access_token_secs(&self, secs: u64) {
        self.shared.state().access_token_secs = secs;
    }

    /// The next API request with `method` fails with `status` and an error envelope.
    pub fn fail_next(&self, method: &str, status: u16, error: &str) {
        self.shared
            .state()
            .failures
            .push_back((method.into(), status, error.into()));
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.state().log.clone()
    }

    /// The MQTT accounts that exist now.
    pub fn mqtt_users(&self) -> Vec<StoredMqttUser> {
        let shared = &self.shared;
        let mut state = shared.state();
        reap(shared, &mut state);
        state.mqtt_users.values().cloned().collect()
    }

    /// Deletes an account now, as the platform does on expiry.
    pub fn delete_mqtt_user(&self, id: u64) {
        let mut state = self.shared.state();
        if state.mqtt_users.remove(&id).is_some() {
            notify(&state);
        }
    }

    /// Called with all accounts after every change (creation, update, expiry), under the
    /// server's lock: requests wait until it returns.
    pub fn on_accounts_changed(
        &self,
        listener: impl Fn(&[StoredMqttUser]) + Send + Sync + 'static,
    ) {
        let mut state = self.shared.state();
        state.listener = Some(Box::new(listener));
        notify(&state);
    }
}

impl Drop for ContractServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("aedifion-contract-conn".into())
            .spawn(move || serve_connection(stream, &shared));
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Serves requests on one connection until the client closes it (keep-alive).
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let (status, body) = handle(shared, &request);
        let reason = match status {
            200 => "OK",
            201 => "CREATED",
            400 => "BAD REQUEST",
            401 => "UNAUTHORIZED",
            404 => "NOT FOUND",
            _ => "STATUS",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Deletes expired accounts (the platform's rule) and reports the change.
fn reap(shared: &Shared, state: &mut State) {
    let now = shared.clock.now();
    let before = state.mqtt_users.len();
    state.mqtt_users.retain(|_, user| user.valid_until > now);
    if state.mqtt_users.len() != before {
        notify(state);
    }
}

fn notify(state: &State) {
    if let Some(listener) = &state.listener {
        let users: Vec<StoredMqttUser> = state.mqtt_users.values().cloned().collect();
        listener(&users);
    }
}

fn error_envelope(error: &str, operation: &str) -> String {
    // The shape of the documented generic error, with this error's text.
    let mut envelope: Value = serde_json::from_str(ERROR_GENERIC).expect("example");
    envelope["error"] = json!(error);
    envelope["operation"] = json!(operation);
    envelope.to_string()
}

fn handle(shared: &Shared, request: &Request) -> (u16, String) {
    let mut state = shared.state();
    reap(shared, &mut state);
    let now = shared.clock.now();
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target.as_str(), ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let auth = authenticate(&state, request, now);
    let is_api = segments.first() == Some(&"v2") && segments.get(1) != Some(&"meta");
    let (status, body) = if is_api && matches!(auth, Auth::None | Auth::Refused) {
        (401, ERROR_401.to_owned())
    } else if let Some(position) = state
        .failures
        .iter()
        .position(|(method, _, _)| is_api && *method == request.method)
    {
        let (_, status, error) = state.failures.remove(position).expect("present");
        (status, error_envelope(&error, ""))
    } else {
        route(shared, &mut state, request, &segments, query, &auth, now)
    };
    let recorded = Recorded {
        method: request.method.clone(),
        path: request.target.clone(),
        auth,
        status,
        at: now,
        body: String::from_utf8_lossy(&request.body).into_owned(),
    };
    state.log.push(recorded);
    (status, body)
}

fn authenticate(state: &State, request: &Request, now: DateTime<Utc>) -> Auth {
    let Some(header) = request.header("authorization") else {
        return Auth::None;
    };
    if let Some(encoded) = header.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        if let Some((email, password)) = decoded.as_deref().and_then(|pair| pair.split_once(':'))
            && state
                .users
                .iter()
                .any(|user| user.email == email && user.password == password)
        {
            return Auth::Basic(email.to_owned());
        }
        return Auth::Refused;
    }
    if let Some(token) = header.strip_prefix("Bearer ")
        && let Some((email, expires)) = state.access_tokens.get(token.trim())
        && now < *expires
    {
        return Auth::Bearer(email.clone());
    }
    Auth::Refused
}

fn route(
    shared: &Shared,
    state: &mut State,
    request: &Request,
    segments: &[&str],
    query: &str,
    auth: &Auth,
    now: DateTime<Utc>,
) -> (u16, String) {
    let email = match auth {
        Auth::Basic(email) | Auth::Bearer(email) => Some(email.clone()),
        _ => None,
    };
    let realm = REALM_PATH.trim_matches('/').split('/').collect::<Vec<_>>();
    match (request.method.as_str(), segments) {
        ("GET", ["v2", "meta", "endpoints"]) => (200, "[]".into()),
        ("GET", [r, name, ".well-known", "openid-configuration"]) if [*r, *name] == realm[..] => {
            let issuer = format!("{}{REALM_PATH}", shared.base_url);
            let document = json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
                "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
                "grant_types_supported": ["authorization_code", "password", "refresh_token"],
            });
            (200, document.to_string())
        }
        ("POST", [r, name, "protocol", "openid-connect", "token"]) if [*r, *name] == realm[..] => {
            token(state, &request.body, now)
        }
        ("GET", ["v2", "user", "projects"]) => {
            let email = email.unwrap_or_default();
            projects(state, &email)
        }
        ("POST", ["v2", "project", project, "mqttuser"]) => {
            let Some(project_id) = accessible_project(state, email.as_deref(), project) else {
                return (401, ERROR_401.to_owned());
            };
            create_mqtt_user(state, project_id, &request.body, now)
        }
        ("PUT", ["v2", "project", project, "mqttuser", id]) => {
            let Some(project_id) = accessible_project(state, email.as_deref(), project) else {
                return (401, ERROR_401.to_owned());
            };
            update_mqtt_user(state, project_id, id, &request.body, now)
        }
        ("GET", ["v2", "project", project, "datapoints", "byPage"]) => {
            let Some(project_id) = accessible_project(state, email.as_deref(), project) else {
                return (401, ERROR_401.to_owned());
            };
            datapoints_page(state, project_id, query)
        }
        _ => (404, error_envelope("Not found.", "")),
    }
}

fn accessible_project(state: &State, email: Option<&str>, project: &str) -> Option<u64> {
    let project_id: u64 = project.parse().ok()?;
    let user = state
        .users
        .iter()
        .find(|user| Some(user.email.as_str()) == email)?;
    user.projects.contains(&project_id).then_some(project_id)
}

fn projects(state: &State, email: &str) -> (u16, String) {
    let template: Vec<Value> = serde_json::from_str(PROJECTS_RESPONSE).expect("example");
    let Some(user) = state.users.iter().find(|user| user.email == email) else {
        return (401, ERROR_401.to_owned());
    };
    let list: Vec<Value> = state
        .projects
        .iter()
        .filter(|project| user.projects.contains(&project.id))
        .map(|project| {
            let mut entry = template[0].clone();
            entry["company"] = json!({
                "id": project.company_id,
                "name": project.company_name,
                "description": format!("{} is not a real company", project.company_name),
            });
            entry["project"] = json!({
                "id": project.id,
                "company_id": project.company_id,
                "name": project.name,
                "description": project.description,
                "handle": project.handle,
                "load_balancing_group": project.load_balancing_group,
            });
            entry
        })
        .collect();
    (200, Value::Array(list).to_string())
}

fn validity(state: &State, value: &Value) -> Result<u64, String> {
    let secs = value
        .as_u64()
        .ok_or_else(|| "validity must be an integer number of seconds".to_owned())?;
    if secs < state.min_validity_secs || secs > MAX_VALIDITY_SECS {
        return Err(format!(
            "validity must be between {} and {MAX_VALIDITY_SECS} seconds",
            state.min_validity_secs
        ));
    }
    Ok(secs)
}

fn rights(value: Option<&Value>) -> Result<String, String> {
    match value.and_then(Value::as_str) {
        None => Ok("read".into()),
        Some(rights @ ("read" | "write")) => Ok(rights.into()),
        Some(other) => Err(format!("rights must be read or write, not {other}")),
    }
}

fn resource_json(template: &str, user: &StoredMqttUser) -> String {
    let mut answer: Value = serde_json::from_str(template).expect("example");
    answer["resource"] = json!({
        "description": user.description,
        "id": user.id,
        "topics": user.topics.iter().map(|(id, rights, topic)| json!({
            "id": id, "rights": rights, "topic": topic,
        })).collect::<Vec<_>>(),
        "username": user.username,
        "valid_until": format_timestamp(user.valid_until),
    });
    answer.to_string()
}

fn create_mqtt_user(
    state: &mut State,
    project_id: u64,
    body: &[u8],
    now: DateTime<Utc>,
) -> (u16, String) {
    let bad = |error: String| (400, error_envelope(&error, "create"));
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return bad("The request body is not a JSON object.".into());
    };
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let (Some(username), Some(password)) = (text("username"), text("password")) else {
        return bad("username and password are required.".into());
    };
    let rights = match rights(fields.get("rights")) {
        Ok(rights) => rights,
        Err(error) => return bad(error),
    };
    // Behaviour without a validity is not documented: this server insists on one.
    let validity = match fields.get("validity").map(|value| validity(state, value)) {
        Some(Ok(secs)) => secs,
        Some(Err(error)) => return bad(error),
        None => return bad("validity is required by this test server.".into()),
    };
    if state
        .mqtt_users
        .values()
        .any(|user| user.username == username)
    {
        return bad(format!(
            "MQTT user with username {username} already exists."
        ));
    }
    let Some(project) = state
        .projects
        .iter()
        .find(|project| project.id == project_id)
    else {
        return (401, ERROR_401.to_owned());
    };
    let mut filters = vec![format!(
        "{}/{}/#",
        project.load_balancing_group, project.handle
    )];
    filters.extend(project.extra_acl.iter().cloned());
    let mut topics = Vec::new();
    for topic in filters {
        topics.push((state.next_acl_id, rights.clone(), topic));
        state.next_acl_id += 1;
    }
    let user = StoredMqttUser {
        id: state.next_mqtt_id,
        project_id,
        username,
        password,
        rights,
        description: text("description"),
        valid_until: now + TimeDelta::seconds(validity as i64),
        topics,
    };
    state.next_mqtt_id += 1;
    let answer = resource_json(CREATE_RESPONSE, &user);
    state.mqtt_users.insert(user.id, user);
    notify(state);
    (201, answer)
}

fn update_mqtt_user(
    state: &mut State,
    project_id: u64,
    id: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> (u16, String) {
    let bad = |error: String| (400, error_envelope(&error, ""));
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return bad("The request body is not a JSON object.".into());
    };
    let validity = match fields.get("validity").map(|value| validity(state, value)) {
        Some(Ok(secs)) => Some(secs),
        Some(Err(error)) => return bad(error),
        None => None,
    };
    let rights = match fields.get("rights").map(|value| rights(Some(value))) {
        Some(Ok(rights)) => Some(rights),
        Some(Err(error)) => return bad(error),
        None => None,
    };
    let user = id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.mqtt_users.get_mut(&id))
        .filter(|user| user.project_id == project_id);
    let Some(user) = user else {
        return (
            404,
            error_envelope(&format!("MQTT user {id} not found."), ""),
        );
    };
    if let Some(secs) = validity {
        // The documented rule: the new expiry is the time of this update plus the validity.
        user.valid_until = now + TimeDelta::seconds(secs as i64);
    }
    if let Some(password) = fields.get("password").and_then(Value::as_str) {
        user.password = password.to_owned();
    }
    if let Some(rights) = rights {
        user.rights = rights.clone();
        for topic in &mut user.topics {
            topic.1 = rights.clone();
        }
    }
    if let Some(description) = fields.get("description").and_then(Value::as_str) {
        user.description = Some(description.to_owned());
    }
    let answer = resource_json(UPDATE_RESPONSE, user);
    notify(state);
    (200, answer)
}

fn datapoints_page(state: &State, project_id: u64, query: &str) -> (u16, String) {
    let mut page = 1u64;
    let mut per_page = 20u64;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let number = value.parse::<u64>();
        match (name.as_ref(), number) {
            ("page", Ok(number)) => page = number,
            ("per_page", Ok(number)) => per_page = number,
            ("page" | "per_page", Err(_)) => {
                return (
                    400,
                    error_envelope(&format!("{name} must be a number."), "get"),
                );
            }
            _ => {}
        }
    }
    if page == 0 || per_page == 0 || per_page > 100 {
        return (
            400,
            error_envelope("page must be ≥ 1 and per_page between 1 and 100.", "get"),
        );
    }
    let mut names = state
        .datapoints
        .get(&project_id)
        .cloned()
        .unwrap_or_default();
    names.sort();
    let length = state
        .projects
        .iter()
        .find(|project| project.id == project_id)
        .map_or(8, |project| project.hash_id_length);
    let total = names.len() as u64;
    let start = ((page - 1) * per_page).min(total) as usize;
    let end = (page * per_page).min(total) as usize;
    let on_page = &names[start..end];
    let answer = json!({
        "dataPointIDs": on_page,
        "favorites": [],
        "idMappings": on_page.iter().map(|name| json!({
            "id": name,
            "hash_id": topicscope::model::aedifion::hash_id::hash_id(name, length),
        })).collect::<Vec<_>>(),
        "meta": {
            "current_page": page,
            "items_per_page": per_page,
            "total_items": total,
            "total_pages": total.div_ceil(per_page),
        },
    });
    (200, answer.to_string())
}

fn token(state: &mut State, body: &[u8], now: DateTime<Utc>) -> (u16, String) {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let oauth_error = |status: u16, error: &str, description: &str| {
        (
            status,
            json!({"error": error, "error_description": description}).to_string(),
        )
    };
    if field("client_id") != OIDC_CLIENT {
        return oauth_error(
            400,
            "unauthorized_client",
            "Client not allowed for direct access grants",
        );
    }
    let email = match field("grant_type") {
        "password" => {
            let user = state
                .users
                .iter()
                .find(|user| user.email == field("username") && user.password == field("password"));
            match user {
                // Keycloak's direct grant answers a missing one-time code like a wrong password.
                Some(user) if !user.two_factor => user.email.clone(),
                _ => return oauth_error(401, "invalid_grant", "Invalid user credentials"),
            }
        }
        "refresh_token" => match state.refresh_tokens.remove(field("refresh_token")) {
            Some((email, expires)) if now < expires => email,
            _ => return oauth_error(400, "invalid_grant", "Token is not active"),
        },
        other => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                &format!("Unsupported grant_type {other}"),
            );
        }
    };
    let access = format!("at-{:016x}", rand::random::<u64>());
    let refresh = format!("rt-{:016x}", rand::random::<u64>());
    let access_secs = state.access_token_secs;
    let refresh_secs = state.refresh_token_secs;
    state.access_tokens.insert(
        access.clone(),
        (email.clone(), now + TimeDelta::seconds(access_secs as i64)),
    );
    state.refresh_tokens.insert(
        refresh.clone(),
        (email, now + TimeDelta::seconds(refresh_secs as i64)),
    );
    let mut answer: Value = serde_json::from_str(TOKEN_RESPONSE).expect("example");
    answer["access_token"] = json!(access);
    answer["refresh_token"] = json!(refresh);
    answer["expires_in"] = json!(access_secs);
    answer["refresh_expires_in"] = json!(refresh_secs);
    (200, answer.to_string())
}

/// Writes Mosquitto's password file and ACL for `accounts` into `dir` (as the platform configures
/// its broker) and makes the broker with process id `pid` reload them (SIGHUP).
pub fn configure_mosquitto(dir: &Path, pid: u32, accounts: &[StoredMqttUser]) {
    let password_file = dir.join("passwd");
    let mut acl = String::new();
    let _ = std::fs::remove_file(&password_file);
    std::fs::write(&password_file, "").expect("password file");
    for account in accounts {
        let status = Command::new("mosquitto_passwd")
            .arg("-b")
            .arg(&password_file)
            .arg(&account.username)
            .arg(&account.password)
            .status()
            .expect("run mosquitto_passwd");
        assert!(status.success(), "mosquitto_passwd failed");
        acl.push_str(&format!("user {}\n", account.username));
        for (_, rights, topic) in &account.topics {
            let access = if rights == "write" {
                "readwrite"
            } else {
                "read"
            };
            acl.push_str(&format!("topic {access} {topic}\n"));
        }
    }
    std::fs::write(dir.join("acl"), acl).expect("acl file");
    // Mosquitto reloads in its single main loop: once it logged the reload, every later
    // CONNECT is checked against the new files.
    let log = dir.join("mosquitto.log");
    let reloads = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("Reloading config")
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    // Its listeners accept before its signal handlers are installed; a SIGHUP before then ends
    // the process. "running" comes after the handlers.
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains(" running")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "mosquitto did not say it is running within 20 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = reloads();
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "SIGHUP to mosquitto failed");
    while reloads() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "mosquitto did not log a reload within 20 s; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
