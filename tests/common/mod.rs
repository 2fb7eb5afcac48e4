//! Shared helpers for integration tests: a real Mosquitto broker on loopback (plain, password +
//! ACL, TLS, mutual TLS, WebSocket and secure WebSocket listeners, certificates made with the
//! openssl CLI at test time), and bounded waits on a worker's status and inbox.
//!
//! Use from a test file with `mod common;`. Every wait here is bounded; nothing depends on speed.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

pub mod proxy;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use topicscope::model::config::profile::{Profile, Subscription, Transport};
use topicscope::model::decode::message::Message;
use topicscope::mqtt::status::{ConnectionStatus, SubscriptionState, describe};
use topicscope::mqtt::{Inbox, WorkerHandle};

/// Longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often waits look again.
pub const POLL_EVERY: Duration = Duration::from_millis(20);

/// The account in the broker's password file.
pub const USER: &str = "alice";
/// Its password.
pub const PASSWORD: &str = "correct horse battery";
/// What the account may read (ACL `topic read allowed/#`); everything else is denied to it.
pub const ALLOWED_PREFIX: &str = "allowed";

/// Loopback ports of the broker's listeners.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// Plain TCP, anonymous, no ACL.
    pub plain: u16,
    /// Plain TCP, password file + ACL, no anonymous access.
    pub auth: u16,
    /// TLS (certificate signed by the test CA), anonymous.
    pub tls: u16,
    /// TLS that requires a client certificate signed by the test CA.
    pub mutual_tls: u16,
    /// WebSocket without TLS, anonymous.
    pub ws: u16,
    /// WebSocket over TLS, anonymous.
    pub wss: u16,
    /// TLS with password file + ACL, no anonymous access: configured like an aedifion broker.
    pub tls_auth: u16,
}

impl Ports {
    /// Seven distinct loopback ports nothing listens on right now (held together while chosen,
    /// so none is handed out twice).
    fn unused() -> Self {
        let listeners: Vec<TcpListener> = (0..7)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0"))
            .collect();
        let port = |index: usize| listeners[index].local_addr().expect("local address").port();
        Self {
            plain: port(0),
            auth: port(1),
            tls: port(2),
            mutual_tls: port(3),
            ws: port(4),
            wss: port(5),
            tls_auth: port(6),
        }
    }
}

/// A Mosquitto process with a generated config in a temp dir; killed on drop.
pub struct Mosquitto {
    dir: tempfile::TempDir,
    /// Where each listener is.
    pub ports: Ports,
    child: Option<Child>,
    /// Sessions and retained messages are saved to disk on a graceful stop (SIGTERM) and loaded
    /// again at start.
    persistent: bool,
}

impl Mosquitto {
    /// Starts a broker on free loopback ports and waits until every listener accepts TCP.
    pub fn start() -> Self {
        Self::start_with_persistence(false)
    }

    /// Like [`Mosquitto::start`], with persistence on: a graceful restart keeps sessions
    /// (subscriptions and queued messages of clients with a persistent session).
    pub fn start_persistent() -> Self {
        Self::start_with_persistence(true)
    }

    fn start_with_persistence(persistent: bool) -> Self {
        let binary = mosquitto_binary();
        let dir = tempfile::Builder::new()
            .prefix("topicscope-mosquitto")
            .tempdir()
            .expect("temp dir");
        generate_certificates(dir.path());
        write_password_and_acl(dir.path());
        // Free ports are found by binding port 0 and releasing it; another process may grab one
        // before Mosquitto binds it, so a failed start is retried with new ports.
        let mut broker = Self {
            dir,
            ports: Ports::unused(),
            child: None,
            persistent,
        };
        let mut last_log = String::new();
        for _ in 0..5 {
            broker.write_config();
            match broker.spawn_and_wait(&binary) {
                Ok(()) => return broker,
                Err(log) => {
                    last_log = log;
                    broker.ports = Ports::unused();
                }
            }
        }
        panic!("mosquitto did not start after 5 tries; last log:\n{last_log}");
    }

    /// Stops the broker (SIGKILL, like a crash) and waits for the process to end.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the broker with SIGTERM, so a persistent one saves its state, and waits (bounded)
    /// for the process to end.
    pub fn stop_gracefully(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if terminated {
            let deadline = Instant::now() + WAIT;
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(POLL_EVERY);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops the broker gracefully (SIGTERM; a persistent broker saves its sessions) and starts
    /// it again on the same ports.
    pub fn restart_gracefully(&mut self) {
        self.stop_gracefully();
        self.start_again();
    }

    /// Stops the broker and starts it again on the same ports (no state kept: no persistence).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    fn start_again(&mut self) {
        let binary = mosquitto_binary();
        // The same ports must be free again; the old process is gone, so they are unless
        // another process took one meanwhile.
        let deadline = Instant::now() + WAIT;
        loop {
            match self.spawn_and_wait(&binary) {
                Ok(()) => return,
                Err(log) if Instant::now() >= deadline => {
                    panic!("mosquitto did not restart on the same ports:\n{log}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The test CA certificate (PEM) that signed the server and client certificates.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A client certificate signed by the test CA (for the mutual-TLS listener).
    pub fn client_cert_file(&self) -> PathBuf {
        self.dir.path().join("client.crt")
    }

    /// The key of [`Mosquitto::client_cert_file`].
    pub fn client_key_file(&self) -> PathBuf {
        self.dir.path().join("client.key")
    }

    /// The folder with the generated config, `passwd` and `acl` (a test may rewrite the last
    /// two and send SIGHUP to [`Mosquitto::pid`] to have them reloaded).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The broker's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What Mosquitto logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// Publishes with `mosquitto_pub` on the plain listener (QoS 1, so it has reached the
    /// broker when this returns).
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) {
        let port = self.ports.plain.to_string();
        let mut args = vec![
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-V",
            "mqttv311",
            "-q",
            "1",
            "-t",
            topic,
            "-s",
        ];
        if retain {
            args.push("-r");
        }
        let output = run_with_input("mosquitto_pub", &args, payload);
        assert!(
            output.status.success(),
            "mosquitto_pub failed: {}\nbroker log:\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }

    fn write_config(&self) {
        let dir = self.dir.path();
        let path = |name: &str| dir.join(name).display().to_string();
        let ports = self.ports;
        let tls_files = format!(
            "cafile {}\ncertfile {}\nkeyfile {}\n",
            path("ca.crt"),
            path("server.crt"),
            path("server.key")
        );
        let config = format!(
            "# Generated by tests/common: one broker, a listener per scenario.\n\
             per_listener_settings true\n\
             # The tests run as root; Mosquitto would drop to the mosquitto user and lose access.\n\
             user root\n\
             {persistence}\
             log_dest stderr\n\
             log_type all\n\
             \n\
             listener {plain} 127.0.0.1\n\
             allow_anonymous true\n\
             \n\
             listener {auth} 127.0.0.1\n\
             allow_anonymous false\n\
             password_file {password_file}\n\
             acl_file {acl_file}\n\
             \n\
             listener {tls} 127.0.0.1\n\
             allow_anonymous true\n\
             {tls_files}\
             \n\
             listener {mutual_tls} 127.0.0.1\n\
             allow_anonymous true\n\
             require_certificate true\n\
             {tls_files}\
             \n\
             listener {ws} 127.0.0.1\n\
             protocol websockets\n\
             allow_anonymous true\n\
             \n\
             listener {wss} 127.0.0.1\n\
             protocol websockets\n\
             allow_anonymous true\n\
             {tls_files}\
             \n\
             listener {tls_auth} 127.0.0.1\n\
             allow_anonymous false\n\
             password_file {password_file}\n\
             acl_file {acl_file}\n\
             {tls_files}",
            plain = ports.plain,
            auth = ports.auth,
            tls = ports.tls,
            mutual_tls = ports.mutual_tls,
            ws = ports.ws,
            wss = ports.wss,
            tls_auth = ports.tls_auth,
            password_file = path("passwd"),
            acl_file = path("acl"),
            persistence = if self.persistent {
                format!(
                    "persistence true\npersistence_location {}/\n",
                    dir.display()
                )
            } else {
                "persistence false\n".to_owned()
            },
        );
        std::fs::write(dir.join("mosquitto.conf"), config).expect("write mosquitto.conf");
    }

    /// Starts the process and waits until all listeners accept; on failure returns the log.
    fn spawn_and_wait(&mut self, binary: &Path) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("mosquitto.log"))
            .expect("log file");
        let child = Command::new(binary)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
        self.child = Some(child);
        let ports = self.ports;
        let all = [
            ports.plain,
            ports.auth,
            ports.tls,
            ports.mutual_tls,
            ports.ws,
            ports.wss,
            ports.tls_auth,
        ];
        let deadline = Instant::now() + WAIT;
        for port in all {
            loop {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    break;
                }
                let exited = self
                    .child
                    .as_mut()
                    .and_then(|child| child.try_wait().ok().flatten());
                if exited.is_some() || Instant::now() >= deadline {
                    self.stop();
                    return Err(format!("(exit: {exited:?})\n{}", self.log()));
                }
                std::thread::sleep(POLL_EVERY);
            }
        }
        Ok(())
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Mosquitto's path; panics with the fix when it is not installed (tests must not skip silently).
pub fn mosquitto_binary() -> PathBuf {
    let candidates = [
        PathBuf::from("/usr/sbin/mosquitto"),
        PathBuf::from("/usr/local/sbin/mosquitto"),
    ];
    let from_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("mosquitto"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain(from_path)
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mosquitto is not installed: these tests need a real Mosquitto broker. \
             Run scripts/test.sh, which installs it (apt-get install mosquitto mosquitto-clients)."
            )
        })
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// CA, server certificate (SAN 127.0.0.1 and localhost) and client certificate, all P-256.
fn generate_certificates(dir: &Path) {
    let in_dir = |name: &str| dir.join(name).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &in_dir("ca.key"),
        "-out",
        &in_dir("ca.crt"),
        "-days",
        "2",
        "-subj",
        "/CN=TopicScope Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    issue_certificate(
        dir,
        "server",
        "localhost",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    issue_certificate(
        dir,
        "client",
        "topicscope-test-client",
        "extendedKeyUsage=clientAuth\n",
    );
}

/// `<name>.key` + `<name>.crt` signed by the test CA, with the given extra extensions.
fn issue_certificate(dir: &Path, name: &str, common_name: &str, extensions: &str) {
    let in_dir = |file: String| dir.join(file).display().to_string();
    let extensions_file = in_dir(format!("{name}.ext"));
    let all_extensions = format!(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n{extensions}"
    );
    std::fs::write(&extensions_file, all_extensions).expect("write extensions");
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &in_dir(format!("{name}.key")),
        "-out",
        &in_dir(format!("{name}.csr")),
        "-subj",
        &format!("/CN={common_name}"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &in_dir(format!("{name}.csr")),
        "-CA",
        &in_dir("ca.crt".into()),
        "-CAkey",
        &in_dir("ca.key".into()),
        "-CAcreateserial",
        "-out",
        &in_dir(format!("{name}.crt")),
        "-days",
        "2",
        "-extfile",
        &extensions_file,
    ]);
}

fn openssl(args: &[&str]) {
    let output = run_with_input("openssl", args, b"");
    assert!(
        output.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Password file (made by mosquitto_passwd) and an ACL that lets the user read only `allowed/#`.
fn write_password_and_acl(dir: &Path) {
    let password_file = dir.join("passwd").display().to_string();
    let output = run_with_input(
        "mosquitto_passwd",
        &["-b", "-c", &password_file, USER, PASSWORD],
        b"",
    );
    assert!(
        output.status.success(),
        "mosquitto_passwd failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let acl = format!("user {USER}\ntopic read {ALLOWED_PREFIX}/#\n");
    std::fs::write(dir.join("acl"), acl).expect("write acl");
}

/// Runs a program with `input` on stdin; killed and reported after [`WAIT`].
pub fn run_with_input(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {program}: {error} (run scripts/test.sh, which installs the test tools)"
            )
        });
    let mut stdin = child.stdin.take().expect("stdin piped");
    stdin.write_all(input).expect("write stdin");
    drop(stdin);
    let deadline = Instant::now() + WAIT;
    while child.try_wait().expect("wait for child").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!(
                "{program} {} did not finish within {WAIT:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(POLL_EVERY);
    }
    child.wait_with_output().expect("collect output")
}

/// A profile for a loopback listener with a unique client id and the given filters (QoS 1).
pub fn profile(port: u16, transport: Transport, filters: &[&str]) -> Profile {
    Profile {
        id: "test".into(),
        name: "test".into(),
        host: "127.0.0.1".into(),
        port,
        transport,
        client_id: format!("ts-test-{}", rand::random::<u32>()),
        keep_alive_secs: 30,
        clean_session: true,
        subscriptions: filters
            .iter()
            .map(|filter| Subscription {
                filter: (*filter).to_owned(),
                qos: topicscope::model::topic::qos::Qos::AtLeastOnce,
            })
            .collect(),
        ..Profile::default()
    }
}

/// A publish the write gate allowed (a writable profile, no audit log), for tests that drive a
/// worker directly: the worker sends nothing else.
pub fn authorized(
    topic: &str,
    payload: &[u8],
    qos: topicscope::model::topic::qos::Qos,
    retain: bool,
) -> topicscope::model::write::publish::AuthorizedPublish {
    use topicscope::model::write::publish::{PublishRequest, Publisher, WriteContext, WriteKind};
    let mut gate = Publisher::new(WriteContext::default(), None);
    gate.authorize(
        PublishRequest {
            topic: topic.to_owned(),
            payload: payload.to_vec(),
            qos,
            retain,
        },
        WriteKind::Publish,
        topicscope::model::time::now_nanos(),
    )
    .expect("the gate allows it")
}

/// Polls the worker's status until `accept` holds; panics after [`WAIT`] with the last status.
pub fn wait_for_status(
    handle: &WorkerHandle,
    what: &str,
    accept: impl Fn(&ConnectionStatus) -> bool,
) -> ConnectionStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = handle.status.snapshot();
        if accept(&status) {
            return status;
        }
        if Instant::now() >= deadline {
            let text = describe(&status, topicscope::model::time::now_nanos());
            panic!("timed out waiting for {what}; last status: {status:?} ({text})");
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// Waits until connected and every subscription has an answer (granted or refused).
pub fn wait_until_subscribed(handle: &WorkerHandle) -> ConnectionStatus {
    wait_for_status(
        handle,
        "connected with every subscription answered",
        |status| {
            status.connected()
                && status
                    .subscriptions
                    .iter()
                    .all(|(_, state)| *state != SubscriptionState::Pending)
        },
    )
}

/// Waits until `filter` is among the subscriptions with the broker's answer (not pending),
/// e.g. after a Subscribe command.
pub fn wait_until_answered(handle: &WorkerHandle, filter: &str) -> ConnectionStatus {
    wait_for_status(handle, &format!("an answer for {filter}"), |status| {
        status
            .subscriptions
            .iter()
            .any(|(candidate, state)| candidate == filter && *state != SubscriptionState::Pending)
    })
}

/// Everything drained from an inbox so far, with bounded waits for particular topics.
pub struct Received {
    inbox: Arc<Inbox>,
    /// Messages in arrival order.
    pub messages: Vec<Message>,
}

impl Received {
    /// Collects from `inbox`.
    pub fn new(inbox: Arc<Inbox>) -> Self {
        Self {
            inbox,
            messages: Vec::new(),
        }
    }

    /// Waits until a message on `topic` has arrived and returns it (the first one).
    pub fn wait_for_topic(&mut self, topic: &str) -> Message {
        let deadline = Instant::now() + WAIT;
        loop {
            self.inbox.drain_into(usize::MAX, &mut self.messages);
            if let Some(message) = self.messages.iter().find(|message| message.topic == topic) {
                return message.clone();
            }
            if Instant::now() >= deadline {
                let topics: Vec<_> = self.messages.iter().map(|message| &message.topic).collect();
                panic!("timed out waiting for a message on {topic}; received: {topics:?}");
            }
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Drains what arrived and says whether a message on `topic` is among everything received.
    pub fn try_topic(&mut self, topic: &str) -> bool {
        self.inbox.drain_into(usize::MAX, &mut self.messages);
        self.has_topic(topic)
    }

    /// True if a message on `topic` was received (among those drained so far).
    pub fn has_topic(&self, topic: &str) -> bool {
        self.messages.iter().any(|message| message.topic == topic)
    }
}

/// A store and the explorer that shows it, as the window's session and panels hold them; derefs
/// to the explorer so tests call its view methods directly.
#[derive(Debug)]
pub struct ExplorerState {
    pub explorer: topicscope::ui::Explorer,
    pub store: topicscope::model::store::Store,
}

impl ExplorerState {
    /// The explorer over `store` with default view choices.
    pub fn new(store: topicscope::model::store::Store) -> Self {
        Self {
            explorer: topicscope::ui::Explorer::new(),
            store,
        }
    }

    /// The store shown.
    pub fn store(&self) -> &topicscope::model::store::Store {
        &self.store
    }

    /// The store shown, mutably (as the session's pump changes it).
    pub fn store_mut(&mut self) -> &mut topicscope::model::store::Store {
        &mut self.store
    }

    /// One whole frame: logic, drawing, applying the explorer's own actions.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Vec<topicscope::ui::UiAction> {
        self.explorer.show(ui, &mut self.store)
    }

    /// Applies one action as the app would.
    pub fn apply(&mut self, action: topicscope::ui::UiAction) -> Option<topicscope::ui::UiAction> {
        self.explorer.apply(action, &mut self.store)
    }

    /// Selects a topic by path (see `Explorer::select_path`).
    pub fn select_path(&mut self, path: &str) -> bool {
        self.explorer.select_path(path, &mut self.store)
    }
}

impl std::ops::Deref for ExplorerState {
    type Target = topicscope::ui::Explorer;

    fn deref(&self) -> &Self::Target {
        &self.explorer
    }
}

impl std::ops::DerefMut for ExplorerState {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.explorer
    }
}

/// The explorer panel drawn headlessly by egui_kittest at `width` × 900 points, one frame run.
pub fn explorer_harness(
    state: ExplorerState,
    width: f32,
) -> egui_kittest::Harness<'static, ExplorerState> {
    let mut harness = egui_kittest::Harness::builder()
        .with_size(egui::vec2(width, 900.0))
        .build_ui_state(
            |ui, state: &mut ExplorerState| {
                state.show(ui);
            },
            state,
        );
    harness.run();
    harness
}

/// Waits (bounded by [`WAIT`]) until `path` exists, e.g. a ready file a child process writes.
pub fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + WAIT;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {WAIT:?}",
            path.display()
        );
        std::thread::sleep(POLL_EVERY);
    }
}

/// Waits for `child` to exit, killing it and failing the test after `within`.
pub fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child process did not stop within {within:?}");
        }
        std::thread::sleep(POLL_EVERY);
    }
}
