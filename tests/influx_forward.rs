//! Forwarding to a real InfluxDB 1.x (Debian's `influxdb`, started here with a generated config
//! on free loopback ports and a temporary folder): every forwarded point comes back from an
//! InfluxQL query with its value, tags and timestamp; killing and restarting the server
//! mid-stream loses nothing that is not counted; wrong credentials and a full buffer are
//! reported and counted.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;

use topicscope::forward::{ForwardConfig, ForwardStatus, Forwarder, InfluxTarget};
use topicscope::model::decode::message::Message;
use topicscope::model::time::Nanos;
use topicscope::model::topic::qos::Qos;

/// Longest any single wait may take.
const WAIT: Duration = Duration::from_secs(60);
const T0: Nanos = 1_714_564_800_000_000_000;

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("influxd test helper");
    listener.local_addr().expect("influxd test helper").port()
}

fn influxd() -> PathBuf {
    for candidate in ["/usr/bin/influxd", "/usr/local/bin/influxd"] {
        if std::path::Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!("influxd not found: run scripts/install-deps.sh (apt-get install influxdb)");
}

/// An influxd of our own.
struct Influx {
    dir: tempfile::TempDir,
    http_port: u16,
    https: bool,
    child: Option<Child>,
    agent: ureq::Agent,
}

impl Influx {
    fn start(auth: bool) -> Influx {
        Influx::start_with(auth, false)
    }

    /// With `https`, the server uses a certificate for 127.0.0.1 signed by a CA of its own
    /// (`ca.crt` in its folder).
    fn start_with(auth: bool, https: bool) -> Influx {
        let dir = tempfile::tempdir().expect("influxd test helper");
        let tls = if https {
            generate_certificates(dir.path());
            format!(
                "  https-enabled = true\n  https-certificate = \"{0}/server.crt\"\n  https-private-key = \"{0}/server.key\"\n",
                dir.path().display()
            )
        } else {
            String::new()
        };
        let http_port = free_port();
        let rpc_port = free_port();
        let root = dir.path().display();
        let config = format!(
            "reporting-disabled = true\n\
             bind-address = \"127.0.0.1:{rpc_port}\"\n\
             [meta]\n  dir = \"{root}/meta\"\n\
             [data]\n  dir = \"{root}/data\"\n  wal-dir = \"{root}/wal\"\n  query-log-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{http_port}\"\n  log-enabled = false\n  auth-enabled = {auth}\n{tls}\
             [monitor]\n  store-enabled = false\n\
             [continuous_queries]\n  enabled = false\n"
        );
        std::fs::write(dir.path().join("influxdb.conf"), config).expect("influxd test helper");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                        rustls::crypto::aws_lc_rs::default_provider(),
                    ))
                    .disable_verification(true)
                    .build(),
            )
            .build()
            .new_agent();
        let mut server = Influx {
            dir,
            http_port,
            https,
            child: None,
            agent,
        };
        server.run();
        server
    }

    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.http_port)
    }

    fn run(&mut self) {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("influxd.log"))
            .expect("influxd test helper");
        let child = Command::new(influxd())
            .args(["run", "-config"])
            .arg(self.dir.path().join("influxdb.conf"))
            .stdout(Stdio::from(log.try_clone().expect("influxd test helper")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("influxd test helper");
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        loop {
            let ping = self.agent.get(format!("{}/ping", self.url())).call();
            if ping.is_ok_and(|response| response.status().as_u16() == 204) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "influxd did not start:\n{}",
                self.log()
            );
            // Another test's free-port probe can hold the port for a moment (a restart needs the
            // same port): start again when influxd gave up on the bind.
            let exited = self
                .child
                .as_mut()
                .is_some_and(|child| child.try_wait().is_ok_and(|status| status.is_some()));
            if exited && self.log().contains("address already in use") {
                std::thread::sleep(Duration::from_millis(200));
                self.child = None;
                return self.run_after_bind_failure(deadline);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// [`Influx::run`] again after a failed bind, until `deadline`.
    fn run_after_bind_failure(&mut self, deadline: Instant) {
        assert!(
            Instant::now() < deadline,
            "influxd could not bind its port:\n{}",
            self.log()
        );
        let log_path = self.dir.path().join("influxd.log");
        let _ = std::fs::remove_file(&log_path);
        self.run();
    }

    /// SIGKILL, like a crash or a power cut.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("influxd.log")).unwrap_or_default()
    }

    /// Runs InfluxQL (as `user:password` when given); returns the JSON answer.
    fn query(&self, database: &str, q: &str, auth: Option<(&str, &str)>) -> serde_json::Value {
        let mut url =
            url::Url::parse(&format!("{}/query", self.url())).expect("influxd test helper");
        url.query_pairs_mut()
            .append_pair("db", database)
            .append_pair("epoch", "ns")
            .append_pair("q", q);
        if let Some((user, password)) = auth {
            url.query_pairs_mut()
                .append_pair("u", user)
                .append_pair("p", password);
        }
        let mut response = self
            .agent
            .post(url.as_str())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(&b""[..])
            .expect("influxd test helper");
        let body = response
            .body_mut()
            .read_to_string()
            .expect("influxd test helper");
        assert_eq!(response.status().as_u16(), 200, "{q}: {body}");
        serde_json::from_str(&body).expect("influxd test helper")
    }

    /// `SELECT * FROM measurement` as rows of column → value.
    fn rows(
        &self,
        database: &str,
        measurement: &str,
    ) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let answer = self.query(database, &format!("SELECT * FROM \"{measurement}\""), None);
        let Some(series) = answer["results"][0]["series"][0].as_object() else {
            return Vec::new();
        };
        let columns: Vec<String> = series["columns"]
            .as_array()
            .expect("influxd test helper")
            .iter()
            .map(|column| column.as_str().expect("influxd test helper").to_owned())
            .collect();
        series["values"]
            .as_array()
            .expect("influxd test helper")
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .cloned()
                    .zip(row.as_array().expect("influxd test helper").iter().cloned())
                    .collect()
            })
            .collect()
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it (P-256), made with the openssl CLI.
fn generate_certificates(dir: &std::path::Path) {
    let path = |name: &str| dir.join(name).display().to_string();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .output()
            .expect("run openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &path("ca.key"),
        "-out",
        &path("ca.crt"),
        "-days",
        "2",
        "-subj",
        "/CN=TopicScope Influx Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    std::fs::write(
        path("server.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write extensions");
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &path("server.key"),
        "-out",
        &path("server.csr"),
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("server.csr"),
        "-CA",
        &path("ca.crt"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-out",
        &path("server.crt"),
        "-days",
        "2",
        "-extfile",
        &path("server.ext"),
    ]);
}

impl Drop for Influx {
    fn drop(&mut self) {
        self.kill();
    }
}

fn message(topic: &str, payload: String, received_at: Nanos) -> Message {
    Message::new(
        topic.into(),
        Bytes::from(payload),
        Qos::AtLeastOnce,
        false,
        received_at,
    )
}

fn config(server: &Influx, database: &str) -> ForwardConfig {
    let mut config = ForwardConfig::new(
        &server.url(),
        InfluxTarget::V1 {
            database: database.into(),
            retention_policy: None,
            user: None,
            password: None,
        },
    );
    config.batch_lines = 100;
    config.batch_interval = Duration::from_millis(100);
    config.backoff_initial = Duration::from_millis(100);
    config.backoff_max = Duration::from_millis(500);
    config.finish_timeout = WAIT;
    config
}

fn wait_for(
    forwarder: &Forwarder,
    what: &str,
    condition: impl Fn(&ForwardStatus) -> bool,
) -> ForwardStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = forwarder.status();
        if condition(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn accounted(status: &ForwardStatus) -> u64 {
    status.forwarded + status.pending + status.rejected + status.overflow + status.abandoned
}

#[test]
fn every_forwarded_point_comes_back_with_its_value_tags_and_time() {
    let server = Influx::start(false);
    server.query("site", "CREATE DATABASE site", None);
    let forwarder = Forwarder::start(config(&server, "site")).unwrap();
    let received = T0 + 999;
    for step in 0..250i64 {
        let at = T0 + step * 1_000_000_000;
        let payload = format!("RoomTemp value={} {at}", 20.0 + step as f64 / 8.0);
        assert!(forwarder.offer("lbg01/proj/h1", &message("lbg01/proj/h1", payload, at + 5)));
    }
    // Several lines in one payload, with a tag and typed fields, one without a timestamp.
    let multi = format!(
        "Meter,site=north\\ wing energy=12.5,count=7i,state=\"on\" {T0}\nMeter,site=south energy=3"
    );
    forwarder.offer("lbg01/proj/h2", &message("lbg01/proj/h2", multi, received));
    forwarder.offer(
        "home/living room/json",
        &message(
            "home/living room/json",
            "{\"t\":-1.25,\"on\":true}".into(),
            received,
        ),
    );
    forwarder.offer(
        "home/plain",
        &message("home/plain", "42 W".into(), received + 1),
    );
    forwarder.offer(
        "legacy/x",
        &message(
            "legacy/x",
            "Pump;2024-05-01T12:00:00.5Z;0.75".into(),
            received,
        ),
    );
    forwarder.offer("home/text", &message("home/text", "hello".into(), received));

    let status = forwarder.finish();
    assert_eq!(status.messages_dropped, 0);
    assert_eq!(status.lines, 250 + 2 + 2 + 1 + 1, "{status:?}");
    assert_eq!(status.forwarded, status.lines, "{status:?}");
    assert_eq!(
        (
            status.pending,
            status.rejected,
            status.overflow,
            status.abandoned
        ),
        (0, 0, 0, 0)
    );
    assert!(!status.failing);

    let temps = server.rows("site", "RoomTemp");
    assert_eq!(temps.len(), 250);
    for (step, row) in temps.iter().enumerate() {
        assert_eq!(row["time"].as_i64(), Some(T0 + step as i64 * 1_000_000_000));
        assert_eq!(row["value"].as_f64(), Some(20.0 + step as f64 / 8.0));
    }
    let meters = server.rows("site", "Meter");
    assert_eq!(meters.len(), 2, "{meters:?}");
    let north = meters
        .iter()
        .find(|row| row["site"] == "north wing")
        .unwrap();
    assert_eq!(north["time"].as_i64(), Some(T0));
    assert_eq!(north["energy"].as_f64(), Some(12.5));
    assert_eq!(north["count"].as_i64(), Some(7));
    assert_eq!(north["state"], "on");
    let south = meters.iter().find(|row| row["site"] == "south").unwrap();
    assert_eq!(
        south["time"].as_i64(),
        Some(received),
        "no timestamp: the receive time"
    );
    assert_eq!(south["energy"].as_f64(), Some(3.0));

    let mqtt = server.rows("site", "mqtt");
    assert_eq!(mqtt.len(), 2, "{mqtt:?}");
    let json = mqtt
        .iter()
        .find(|row| row["topic"] == "home/living room/json")
        .unwrap();
    assert_eq!(json["time"].as_i64(), Some(received));
    assert_eq!(json["t"].as_f64(), Some(-1.25));
    assert_eq!(json["on"].as_f64(), Some(1.0));
    let plain = mqtt
        .iter()
        .find(|row| row["topic"] == "home/plain")
        .unwrap();
    assert_eq!(plain["time"].as_i64(), Some(received + 1));
    assert_eq!(plain["value"].as_f64(), Some(42.0));

    let pump = server.rows("site", "Pump");
    assert_eq!(pump.len(), 1);
    assert_eq!(pump[0]["time"].as_i64(), Some(T0 + 500_000_000));
    assert_eq!(pump[0]["value"].as_f64(), Some(0.75));
}

#[test]
fn a_server_killed_and_restarted_mid_stream_loses_nothing_uncounted() {
    let mut server = Influx::start(false);
    server.query("site", "CREATE DATABASE site", None);
    let forwarder = Forwarder::start(config(&server, "site")).unwrap();
    let total = 3_000i64;
    let offer = |step: i64| {
        let at = T0 + step * 1_000_000;
        let payload = format!("Flow value={step} {at}");
        assert!(forwarder.offer("lbg01/proj/f", &message("lbg01/proj/f", payload, at)));
    };
    for step in 0..1_000 {
        offer(step);
    }
    wait_for(&forwarder, "the first third forwarded", |status| {
        status.forwarded == 1_000
    });
    server.kill();
    for step in 1_000..2_000 {
        offer(step);
    }
    let failing = wait_for(&forwarder, "a failed write", |status| status.failing);
    assert!(
        failing
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("connection refused")),
        "{failing:?}"
    );
    assert_eq!(accounted(&failing), failing.lines, "{failing:?}");
    server.run();
    for step in 2_000..total {
        offer(step);
    }
    let status = forwarder.finish();
    assert_eq!(status.messages_dropped, 0);
    assert_eq!(status.lines, total as u64);
    assert_eq!(accounted(&status), status.lines, "{status:?}");
    assert_eq!(status.forwarded, total as u64, "{status:?}");
    assert!(status.retries >= 1);

    let rows = server.rows("site", "Flow");
    assert_eq!(rows.len(), total as usize);
    for (step, row) in rows.iter().enumerate() {
        assert_eq!(row["time"].as_i64(), Some(T0 + step as i64 * 1_000_000));
        assert_eq!(row["value"].as_f64(), Some(step as f64));
    }
}

#[test]
fn while_the_server_is_down_a_full_buffer_counts_its_overflow() {
    let mut server = Influx::start(false);
    server.query("site", "CREATE DATABASE site", None);
    server.kill();
    let mut config = config(&server, "site");
    config.max_pending_lines = 500;
    let forwarder = Forwarder::start(config).unwrap();
    for step in 0..2_000i64 {
        let at = T0 + step;
        forwarder.offer(
            "a/b",
            &message("a/b", format!("Level value={step} {at}"), at),
        );
    }
    let waiting = wait_for(&forwarder, "all lines taken", |status| {
        status.lines == 2_000
    });
    assert_eq!(
        (waiting.pending, waiting.overflow, waiting.forwarded),
        (500, 1_500, 0),
        "{waiting:?}"
    );
    server.run();
    let status = forwarder.finish();
    assert_eq!(accounted(&status), 2_000, "{status:?}");
    assert_eq!((status.forwarded, status.overflow), (500, 1_500));
    let rows = server.rows("site", "Level");
    assert_eq!(
        rows.len(),
        500,
        "exactly the lines counted as forwarded are stored"
    );
    assert_eq!(
        rows[0]["value"].as_f64(),
        Some(0.0),
        "the oldest pending lines are kept"
    );
}

#[test]
fn wrong_credentials_are_reported_and_nothing_is_lost_silently() {
    let server = Influx::start(true);
    server.query(
        "",
        "CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES",
        None,
    );
    server.query("", "CREATE DATABASE site", Some(("admin", "right")));
    let target = |password: &str| InfluxTarget::V1 {
        database: "site".into(),
        retention_policy: None,
        user: Some("admin".into()),
        password: Some(password.into()),
    };
    let mut wrong = config(&server, "site");
    wrong.target = target("wrong");
    wrong.finish_timeout = Duration::from_millis(300);
    let forwarder = Forwarder::start(wrong).unwrap();
    forwarder.offer("a/b", &message("a/b", format!("Secret value=1 {T0}"), T0));
    let failing = wait_for(&forwarder, "the refusal", |status| status.failing);
    let error = failing.last_error.clone().unwrap();
    assert!(error.contains("refused the credentials (401)"), "{error}");
    assert!(
        !format!("{failing:?}").contains("wrong"),
        "the password is never shown"
    );
    let status = forwarder.finish();
    assert_eq!((status.forwarded, status.abandoned), (0, 1), "{status:?}");

    let mut right = config(&server, "site");
    right.target = target("right");
    let forwarder = Forwarder::start(right).unwrap();
    forwarder.offer("a/b", &message("a/b", format!("Secret value=2 {T0}"), T0));
    let status = forwarder.finish();
    assert_eq!(status.forwarded, 1, "{status:?}");
    let answer = server.query("site", "SELECT value FROM Secret", Some(("admin", "right")));
    assert_eq!(
        answer["results"][0]["series"][0]["values"][0][1].as_f64(),
        Some(2.0)
    );
}

#[test]
fn a_missing_database_is_retried_with_a_clear_error_then_written() {
    let server = Influx::start(false);
    let forwarder = Forwarder::start(config(&server, "later")).unwrap();
    forwarder.offer("a/b", &message("a/b", format!("Late value=3 {T0}"), T0));
    let failing = wait_for(&forwarder, "the 404", |status| status.failing);
    assert!(
        failing
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("no such database")),
        "{failing:?}"
    );
    server.query("", "CREATE DATABASE later", None);
    wait_for(&forwarder, "the retry to succeed", |status| {
        status.forwarded == 1
    });
    let status = forwarder.finish();
    assert_eq!(accounted(&status), 1);
    assert_eq!(server.rows("later", "Late").len(), 1);
}

#[test]
fn data_the_server_refuses_is_counted_as_rejected_not_retried() {
    let server = Influx::start(false);
    server.query("site", "CREATE DATABASE site", None);
    let forwarder = Forwarder::start(config(&server, "site")).unwrap();
    // A float field, then the same field as a string: InfluxDB refuses the conflicting type.
    forwarder.offer("a/b", &message("a/b", format!("Mixed value=1 {T0}"), T0));
    wait_for(&forwarder, "the first write", |status| {
        status.forwarded == 1
    });
    forwarder.offer(
        "a/b",
        &message("a/b", format!("Mixed value=\"text\" {}", T0 + 1), T0),
    );
    let status = forwarder.finish();
    assert_eq!((status.forwarded, status.rejected), (1, 1), "{status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("refused the data (400)")),
        "{status:?}"
    );
}

#[test]
fn https_with_a_private_ca_is_trusted_only_with_its_ca_file() {
    let server = Influx::start_with(false, true);
    server.query("site", "CREATE DATABASE site", None);

    let mut untrusted = config(&server, "site");
    untrusted.finish_timeout = Duration::from_millis(300);
    let forwarder = Forwarder::start(untrusted).unwrap();
    forwarder.offer("a/b", &message("a/b", format!("Tls value=1 {T0}"), T0));
    let failing = wait_for(&forwarder, "the TLS refusal", |status| status.failing);
    let error = failing.last_error.clone().unwrap();
    assert!(
        error.contains("cannot write to https://127.0.0.1"),
        "{error}"
    );
    assert!(
        error.contains("certificate is not trusted (UnknownIssuer)") && error.contains("CA file"),
        "{error}"
    );
    assert_eq!(forwarder.finish().abandoned, 1);

    let mut trusted = config(&server, "site");
    trusted.ca_file = Some(server.dir.path().join("ca.crt"));
    let forwarder = Forwarder::start(trusted).unwrap();
    forwarder.offer("a/b", &message("a/b", format!("Tls value=2 {T0}"), T0));
    let status = forwarder.finish();
    assert_eq!(status.forwarded, 1, "{status:?}");
    assert!(status.url.starts_with("https://127.0.0.1:"));
    let rows = server.rows("site", "Tls");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["value"].as_f64(), Some(2.0));
}
