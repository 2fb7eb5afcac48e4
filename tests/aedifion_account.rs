//! The aedifion account against the contract server (tests/aedifion_api): sign-in with HTTP
//! Basic and OpenID Connect, MQTT credentials that connect to a real Mosquitto (TLS, password
//! file and ACL from the platform's accounts), renewal before expiry, recreation after expiry,
//! retries. The real HTTP client (ureq) is used throughout; time is a manual clock shared by the
//! keeper and the server, so "75 % of the validity" happens exactly when the test says.

mod aedifion_api;
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aedifion_api::{ContractServer, OIDC_CLIENT, ProjectSpec, configure_mosquitto};
use chrono::{SubsecRound as _, TimeDelta};
use common::{Mosquitto, Received, WAIT, wait_until_subscribed};
use topicscope::account::acl::subscription_plan;
use topicscope::account::api::{ApiErrorKind, Rights, format_timestamp};
use topicscope::account::broker::{BrokerEndpoint, configure_profile};
use topicscope::account::client::{AedifionClient, Login, SignInMethod};
use topicscope::account::clock::{Clock, ManualClock};
use topicscope::account::keeper::{CredentialKeeper, KeeperActivity, KeeperSettings, KeeperStatus};
use topicscope::account::lifecycle::{AccountRequest, Lifecycle, LifecycleEvent, LifecyclePolicy};
use topicscope::account::oidc::{OidcError, OidcSettings};
use topicscope::account::ureq_transport::{TransportSettings, UreqTransport};
use topicscope::model::config::profile::{Profile, Transport};
use topicscope::mqtt::{ConnectParams, DEFAULT_INBOX_CAPACITY, Inbox, WorkerHandle};

const EMAIL: &str = "engineer@newco.example";
const PASSWORD: &str = "platform password";
const PROJECT: u64 = 7;

/// A manual clock at now, to the microsecond (the precision of the platform's `valid_until`).
fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(chrono::Utc::now().trunc_subsecs(6)))
}

/// A server with one user who may use project 7 (`lbg01/mybuilding`) and project 8 exists too.
fn server(clock: &Arc<ManualClock>) -> ContractServer {
    let server = ContractServer::start(clock.clone());
    server.add_user(EMAIL, PASSWORD);
    server.add_project(ProjectSpec::new(PROJECT, "lbg01", "mybuilding"));
    server.add_project(ProjectSpec::new(8, "lbg02", "elsewhere"));
    server.grant(EMAIL, PROJECT);
    server
}

fn client(
    server: &ContractServer,
    clock: &Arc<ManualClock>,
    password: &str,
    method: SignInMethod,
) -> Arc<AedifionClient> {
    let transport = UreqTransport::new(&TransportSettings::default()).expect("client");
    let login = Login {
        api_url: server.base_url.clone(),
        email: EMAIL.into(),
        password: password.into(),
        method,
    };
    Arc::new(AedifionClient::new(
        login,
        Arc::new(transport),
        clock.clone(),
    ))
}

fn request(validity_secs: u32) -> AccountRequest {
    AccountRequest {
        project_id: PROJECT,
        rights: Rights::Read,
        validity_secs,
        description: Some("TopicScope test".into()),
    }
}

fn keeper(client: &Arc<AedifionClient>, validity_secs: u32) -> CredentialKeeper {
    let lifecycle = Lifecycle::new(
        request(validity_secs),
        LifecyclePolicy::default(),
        "test-host",
    );
    let settings = KeeperSettings {
        poll_interval: Duration::from_millis(20),
    };
    CredentialKeeper::start(client.clone(), lifecycle, settings, None).expect("keeper thread")
}

/// Polls the keeper until `accept` holds (bounded by [`WAIT`]).
fn wait_for_keeper(
    keeper: &CredentialKeeper,
    what: &str,
    accept: impl Fn(&KeeperStatus) -> bool,
) -> KeeperStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = keeper.status();
        if accept(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last status: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn methods_and_statuses(server: &ContractServer, path_part: &str) -> Vec<(String, u16)> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.path.contains(path_part))
        .map(|request| (request.method, request.status))
        .collect()
}

/// Publishes on `topic` every half second until it arrives (a reconnect in between may lose one
/// QoS 1 message of a clean session), bounded by [`WAIT`].
fn publish_until_received(broker: &Mosquitto, received: &mut Received, topic: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        broker.publish(topic, b"RoomTemperature value=20.5", false);
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            if received.try_topic(topic) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            Instant::now() < deadline,
            "no message on {topic} within {WAIT:?}; broker log:\n{}",
            broker.log()
        );
    }
}

#[test]
fn basic_sign_in_lists_the_projects_with_their_topic_prefix() {
    let clock = clock();
    let server = server(&clock);
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let projects = client.projects().expect("signed in");
    assert_eq!(projects.len(), 1, "only the granted project: {projects:?}");
    let project = &projects[0];
    assert_eq!(
        (project.project.id, project.company.name.as_str()),
        (PROJECT, "NewCo")
    );
    assert_eq!(
        project
            .project
            .topic_prefix()
            .map(|p| p.to_string())
            .as_deref(),
        Some("lbg01/mybuilding")
    );
    let requests = server.requests();
    assert_eq!(
        requests[0].auth,
        aedifion_api::Auth::Basic(EMAIL.into()),
        "HTTP Basic on the request"
    );
}

#[test]
fn a_wrong_password_gets_the_documented_401_in_plain_words() {
    let clock = clock();
    let server = server(&clock);
    let client = client(&server, &clock, "wrong", SignInMethod::Basic);
    let error = client.projects().expect_err("refused");
    let ApiErrorKind::Unauthorized { server: text } = &error.kind else {
        panic!("{error:?}");
    };
    assert_eq!(text, "Unauthorized access");
    assert!(error.is_sign_in_refused());
    let message = error.to_string();
    assert!(
        message.starts_with("Signing in failed: wrong e-mail or password (401)"),
        "{message}"
    );
}

#[test]
fn a_project_without_access_halts_the_keeper_with_a_plain_message() {
    let clock = clock();
    let server = server(&clock);
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let lifecycle = Lifecycle::new(
        AccountRequest::read_only(8),
        LifecyclePolicy::default(),
        "test-host",
    );
    let keeper = CredentialKeeper::start(
        client,
        lifecycle,
        KeeperSettings {
            poll_interval: Duration::from_millis(20),
        },
        None,
    )
    .expect("keeper");
    let status = wait_for_keeper(&keeper, "a halt", |status| {
        status.activity == KeeperActivity::Halted
    });
    let summary = status.summary();
    assert!(
        summary.contains("no access to project 8 (401)"),
        "{summary}"
    );
    let waited = keeper.wait_for_account(Duration::from_secs(5));
    assert!(
        matches!(
            &waited,
            Err(topicscope::account::keeper::KeeperWaitError::Halted(_))
        ),
        "{waited:?}"
    );
    // Halted means no more requests: asking again with the same login would not help.
    let count = server.requests().len();
    clock.advance(TimeDelta::seconds(3600));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.requests().len(), count);
    keeper.stop();
}

#[test]
fn oidc_signs_in_with_the_password_grant_and_refreshes_before_expiry() {
    let clock = clock();
    let server = server(&clock);
    server.set_access_token_secs(8);
    let settings = OidcSettings {
        issuer: server.issuer(),
        client_id: OIDC_CLIENT.into(),
    };
    let client = client(&server, &clock, PASSWORD, SignInMethod::Oidc(settings));
    client.projects().expect("signed in with a token");
    clock.advance(TimeDelta::seconds(3));
    client.projects().expect("same token");
    // 6 s of 8: inside the refresh margin (a quarter of the lifetime).
    clock.advance(TimeDelta::seconds(3));
    client.projects().expect("refreshed token");

    let requests = server.requests();
    let summary: Vec<String> = requests
        .iter()
        .map(|request| {
            let grant = request
                .body
                .split('&')
                .find(|field| field.starts_with("grant_type="))
                .unwrap_or("");
            format!("{} {} {grant}", request.method, request.path)
        })
        .collect();
    assert_eq!(
        summary,
        [
            "GET /realms/aedifion/.well-known/openid-configuration ",
            "POST /realms/aedifion/protocol/openid-connect/token grant_type=password",
            "GET /v2/user/projects ",
            "GET /v2/user/projects ",
            "POST /realms/aedifion/protocol/openid-connect/token grant_type=refresh_token",
            "GET /v2/user/projects ",
        ]
    );
    let bearers: Vec<&aedifion_api::Auth> = requests
        .iter()
        .filter(|request| request.path == "/v2/user/projects")
        .map(|request| &request.auth)
        .collect();
    assert!(matches!(bearers[0], aedifion_api::Auth::Bearer(email) if email == EMAIL));
    assert!(requests.iter().all(|request| request.status < 300));
    assert!(client.refresh_token().is_some(), "kept for the keychain");
}

#[test]
fn an_expired_refresh_token_falls_back_to_the_password_grant() {
    let clock = clock();
    let server = server(&clock);
    server.set_access_token_secs(8);
    let settings = OidcSettings {
        issuer: server.issuer(),
        client_id: OIDC_CLIENT.into(),
    };
    let client = client(&server, &clock, PASSWORD, SignInMethod::Oidc(settings));
    client.projects().expect("signed in");
    clock.advance(TimeDelta::seconds(2000)); // past the 1800 s refresh token
    client.projects().expect("signed in again");
    let grants: Vec<String> = server
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/token"))
        .map(|request| request.body.split('&').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(grants, ["grant_type=password", "grant_type=password"]);
}

#[test]
fn a_two_factor_account_is_told_what_to_do_instead() {
    let clock = clock();
    let server = server(&clock);
    server.require_two_factor(EMAIL);
    let settings = OidcSettings {
        issuer: server.issuer(),
        client_id: OIDC_CLIENT.into(),
    };
    let client = client(&server, &clock, PASSWORD, SignInMethod::Oidc(settings));
    let error = client.projects().expect_err("no password grant for 2FA");
    assert!(
        matches!(
            error.kind,
            ApiErrorKind::SignIn(OidcError::InvalidCredentials { .. })
        ),
        "{error:?}"
    );
    assert!(error.is_sign_in_refused());
    let message = error.to_string();
    assert!(message.contains("two-factor authentication"), "{message}");
    assert!(message.contains("support@aedifion.io"), "{message}");
}

#[test]
fn an_unknown_oidc_client_is_named_in_the_message() {
    let clock = clock();
    let server = server(&clock);
    let settings = OidcSettings {
        issuer: server.issuer(),
        client_id: "not-registered".into(),
    };
    let client = client(&server, &clock, PASSWORD, SignInMethod::Oidc(settings));
    let error = client.projects().expect_err("client refused");
    assert!(error.to_string().contains("\"not-registered\""), "{error}");
}

#[test]
fn renewal_before_expiry_follows_the_put_expiry_rule() {
    let clock = clock();
    let server = server(&clock);
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let keeper = keeper(&client, 6);
    let account = keeper.wait_for_account(WAIT).expect("an account");
    let created = keeper.status();
    let start = clock.now();
    assert_eq!(account.valid_until, start + TimeDelta::seconds(6));
    assert_eq!(
        server.mqtt_users()[0].password,
        account.password,
        "what was sent"
    );

    // 4 s of 6: nothing yet.
    clock.advance(TimeDelta::seconds(4));
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(
        methods_and_statuses(&server, "/mqttuser"),
        [("POST".into(), 201)]
    );

    // 4.6 s: past 75 %, the keeper renews.
    clock.advance(TimeDelta::milliseconds(600));
    let renewed = wait_for_keeper(&keeper, "a renewal", |status| {
        status
            .account
            .as_ref()
            .is_some_and(|renewed| renewed.valid_until > account.valid_until)
    });
    let renewed_account = renewed.account.expect("account");
    let put_time = start + TimeDelta::milliseconds(4600);
    assert_eq!(
        renewed_account.valid_until,
        put_time + TimeDelta::seconds(6),
        "new expiry = update time + validity, not the old expiry + validity"
    );
    assert_eq!(renewed_account.mqttuser_id, account.mqttuser_id);
    assert_eq!(
        renewed.account_generation, created.account_generation,
        "same account"
    );
    assert_eq!(
        methods_and_statuses(&server, "/mqttuser"),
        [("POST".into(), 201), ("PUT".into(), 200)]
    );
    let put = server
        .requests()
        .into_iter()
        .find(|request| request.method == "PUT")
        .expect("put");
    assert_eq!(put.body, r#"{"validity":6}"#);
    assert_eq!(
        format_timestamp(server.mqtt_users()[0].valid_until),
        format_timestamp(put_time + TimeDelta::seconds(6))
    );

    // Past the first expiry (6 s): the account lives on.
    clock.advance(TimeDelta::milliseconds(1900));
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(server.mqtt_users().len(), 1);
    let events = keeper.take_events();
    assert!(
        matches!(
            &events[..],
            [
                LifecycleEvent::Created { .. },
                LifecycleEvent::Renewed { .. }
            ]
        ),
        "{events:?}"
    );
    keeper.stop();
}

#[test]
fn an_account_that_expired_is_recreated_with_post() {
    let clock = clock();
    let server = server(&clock);
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let keeper = keeper(&client, 6);
    let first = wait_for_keeper(&keeper, "an account", |status| status.account.is_some());
    let first_account = first.account.expect("account");
    // The machine slept through the renewal and the expiry: the platform deleted the account.
    clock.advance(TimeDelta::seconds(30));
    let second = wait_for_keeper(&keeper, "a new account", |status| {
        status.account_generation > first.account_generation
    });
    let second_account = second.account.expect("account");
    assert_ne!(second_account.mqttuser_id, first_account.mqttuser_id);
    assert_eq!(
        (&second_account.username, &second_account.password),
        (&first_account.username, &first_account.password),
        "the same name may be used again after expiry"
    );
    assert_eq!(
        methods_and_statuses(&server, "/mqttuser"),
        [("POST".into(), 201), ("POST".into(), 201)],
        "no renewal of an account known to be gone"
    );
    let events = keeper.take_events();
    assert!(
        matches!(
            &events[..],
            [
                LifecycleEvent::Created { replaces: None, .. },
                LifecycleEvent::Expired { .. },
                LifecycleEvent::Created { replaces: Some(old), .. }
            ] if *old == first_account.mqttuser_id
        ),
        "{events:?}"
    );
    keeper.stop();
}

#[test]
fn a_deleted_account_is_recreated_when_its_renewal_is_refused() {
    let clock = clock();
    let server = server(&clock);
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let keeper = keeper(&client, 6);
    let first = wait_for_keeper(&keeper, "an account", |status| status.account.is_some());
    let id = first.account.as_ref().expect("account").mqttuser_id;
    server.delete_mqtt_user(id);
    clock.advance(TimeDelta::seconds(5));
    wait_for_keeper(&keeper, "a new account", |status| {
        status.account_generation > first.account_generation
    });
    assert_eq!(
        methods_and_statuses(&server, "/mqttuser"),
        [
            ("POST".into(), 201),
            ("PUT".into(), 404),
            ("POST".into(), 201)
        ]
    );
    let events = keeper.take_events();
    assert!(
        events.iter().any(
            |event| matches!(event, LifecycleEvent::Gone { mqttuser_id, .. } if *mqttuser_id == id)
        ),
        "{events:?}"
    );
    keeper.stop();
}

#[test]
fn server_errors_are_retried_with_backoff_and_shown_meanwhile() {
    let clock = clock();
    let server = server(&clock);
    server.fail_next("POST", 503, "maintenance");
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let keeper = keeper(&client, 7200);
    let failing = wait_for_keeper(&keeper, "a scheduled retry", |status| {
        status.activity == KeeperActivity::WaitingToRetry
    });
    assert_eq!(failing.retry_at, Some(clock.now() + TimeDelta::seconds(2)));
    let summary = failing.summary();
    assert!(
        summary.starts_with("no MQTT credentials yet, retrying at"),
        "{summary}"
    );
    assert!(
        summary.contains("HTTP 503") && summary.contains("maintenance"),
        "{summary}"
    );
    clock.advance(TimeDelta::seconds(2));
    let created = wait_for_keeper(&keeper, "an account", |status| status.account.is_some());
    assert_eq!(created.last_error, None, "a success clears the failure");
    assert!(created.summary().starts_with("credentials valid until "));
    keeper.stop();
}

/// The whole path: projects → credentials → a TLS connection to a Mosquitto configured with the
/// platform's accounts (password file + ACL) → messages; then renewal, expiry and recreation
/// with the connection coming back on its own.
#[test]
fn credentials_from_the_api_connect_to_mosquitto_over_tls_and_survive_expiry() {
    let clock = clock();
    let server = server(&clock);
    let broker = Mosquitto::start();
    let (dir, pid) = (broker.dir().to_owned(), broker.pid().expect("running"));
    server.on_accounts_changed(move |accounts| configure_mosquitto(&dir, pid, accounts));

    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let projects = client.projects().expect("signed in");
    let prefix = projects[0].project.topic_prefix().expect("prefix");
    let keeper = keeper(&client, 6);
    let status = wait_for_keeper(&keeper, "an account", |status| status.account.is_some());
    let account = status.account.expect("account");
    let plan = subscription_plan(&account.acl, Some(&prefix));
    assert_eq!(plan.filters, ["lbg01/mybuilding/#"]);

    let mut profile = Profile {
        client_id: format!("tsacct{}", rand::random::<u32>()),
        ..Profile::default()
    };
    let endpoint = BrokerEndpoint {
        host: "127.0.0.1".into(),
        port: broker.ports.tls_auth,
    };
    configure_profile(
        &mut profile,
        &endpoint,
        &account.username,
        account.rights,
        &plan,
    );
    profile.tls.ca_file = Some(broker.ca_file());
    assert_eq!(profile.transport, Transport::Tls);
    let worker = WorkerHandle::spawn(
        ConnectParams::new(profile, Some(account.password.clone().into())),
        Inbox::new(DEFAULT_INBOX_CAPACITY),
    )
    .expect("worker");
    wait_until_subscribed(&worker);
    let mut received = Received::new(worker.inbox.clone());
    broker.publish("lbg02/elsewhere/x", b"not ours", false);
    broker.publish(
        "lbg01/mybuilding/Pm2cx76I",
        b"RoomTemperature value=20.3",
        false,
    );
    received.wait_for_topic("lbg01/mybuilding/Pm2cx76I");
    assert!(
        !received.has_topic("lbg02/elsewhere/x"),
        "the ACL hides other projects"
    );

    // Renewal at 75 %: same account, the connection is untouched.
    clock.advance(TimeDelta::milliseconds(4600));
    wait_for_keeper(&keeper, "a renewal", |status| {
        status
            .account
            .as_ref()
            .is_some_and(|renewed| renewed.valid_until > account.valid_until)
    });
    publish_until_received(&broker, &mut received, "lbg01/mybuilding/after-renewal");

    // The platform deletes the account (asleep past the expiry) and Mosquitto reloads without
    // it, which closes the connection; the keeper recreates the account with the same name and
    // password, and the worker's own reconnect gets in again.
    clock.advance(TimeDelta::seconds(60));
    wait_for_keeper(&keeper, "a new account", |status| {
        status.account_generation == 2
    });
    publish_until_received(&broker, &mut received, "lbg01/mybuilding/after-recreation");
    assert!(worker.status.snapshot().connected());
    assert_eq!(
        methods_and_statuses(&server, "/mqttuser"),
        [
            ("POST".into(), 201),
            ("PUT".into(), 200),
            ("POST".into(), 201)
        ]
    );
    keeper.stop();
}

/// `openssl s_server -www` with the test CA's server certificate, killed on drop.
struct TlsServer {
    child: std::process::Child,
    port: u16,
}

impl TlsServer {
    fn start(dir: &std::path::Path) -> Self {
        let port = common::free_port();
        let child = std::process::Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(port.to_string())
            .arg("-cert")
            .arg(dir.join("server.crt"))
            .arg("-key")
            .arg(dir.join("server.key"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "openssl s_server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real client's TLS (rustls with aws-lc-rs): a server signed by an unknown CA is refused
/// with a TLS message; with that CA added as the extra CA file the handshake succeeds (the
/// `-www` page is then, correctly, not the API's JSON).
#[test]
fn https_trusts_the_os_roots_plus_the_extra_ca_file_only() {
    let broker = Mosquitto::start(); // only for its test CA and server certificate
    let server = TlsServer::start(broker.dir());
    let url = format!("https://127.0.0.1:{}", server.port);
    let clock = clock();
    let login = |transport: UreqTransport| {
        AedifionClient::new(
            Login {
                api_url: url.clone(),
                email: EMAIL.into(),
                password: PASSWORD.into(),
                method: SignInMethod::Basic,
            },
            Arc::new(transport),
            clock.clone(),
        )
    };
    let untrusted = login(UreqTransport::new(&TransportSettings::default()).expect("client"));
    let error = untrusted.projects().expect_err("unknown CA");
    assert!(
        matches!(
            &error.kind,
            ApiErrorKind::Transport(topicscope::account::http::TransportError::Tls { .. })
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("add its CA certificate"),
        "{error}"
    );

    let settings = TransportSettings {
        extra_ca_file: Some(broker.ca_file()),
        ..TransportSettings::default()
    };
    let trusted = login(UreqTransport::new(&settings).expect("client"));
    let error = trusted.projects().expect_err("not the API");
    assert!(
        matches!(error.kind, ApiErrorKind::Malformed { .. }),
        "the handshake succeeded and an HTML page came back: {error:?}"
    );
}

#[test]
fn a_cancelled_datapoint_import_stops_between_pages_and_a_refused_one_says_why() {
    let clock = clock();
    let server = server(&clock);
    server.add_datapoints(PROJECT, (0..30).map(|index| format!("dp-{index}")));
    let client = client(&server, &clock, PASSWORD, SignInMethod::Basic);
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let result = topicscope::account::datapoints::fetch_datapoint_names(
        &client,
        PROJECT,
        &cancel,
        &mut |_| {},
    );
    assert_eq!(
        result,
        Err(topicscope::account::datapoints::ImportError::Cancelled)
    );
    assert!(
        server.requests().is_empty(),
        "nothing read after the cancel"
    );

    let mut import =
        topicscope::account::datapoints::DatapointImport::start(client.clone(), 8, None)
            .expect("thread");
    let deadline = Instant::now() + WAIT;
    let result = loop {
        if let Some(result) = import.take_result() {
            break result;
        }
        assert!(Instant::now() < deadline, "the import did not end");
        std::thread::sleep(Duration::from_millis(10));
    };
    let error = result.expect_err("project 8 is not granted");
    assert!(
        error.to_string().contains("no access to project 8"),
        "{error}"
    );
}
