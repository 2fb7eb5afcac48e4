//! `topicscope bench publish`: a load generator, like `mqttx bench pub`, for the benchmarks.
//!
//! It floods a broker with aedifion-style messages over T topics (`<prefix>/<hash_id(name, 8)>`,
//! payloads `name value=… timestamp` in Influx line protocol, or JSON, or a plain number) and
//! prints how many it sent and how fast. QoS 0 counts a message sent once rumqttc wrote it to the
//! socket; QoS 1 once the broker acknowledged it.
//!
//! It writes, so it passes the write gate like every other writer: an aedifion.io host is
//! read-only unless `--allow-writes` is given, `CONTROLS/…` is refused, and each run is recorded
//! in the audit log (one line before it starts, flushed, and one with its result). It keeps its
//! own rumqttc client for speed; [`AuthorizedLoad`] is what lets it run.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS};

use crate::model::aedifion::hash_id::hash_id;
use crate::model::config::profile::Profile;
use crate::model::config::profile_store::default_config_dir;
use crate::model::config::secret::{NoSecrets, PasswordNeed, password_from_env, resolve_password};
use crate::model::config::settings::Settings;
use crate::model::config::url::{allow_unencrypted_login, allow_writes, url_to_profile};
use crate::model::time::{Nanos, now_nanos};
use crate::model::topic::qos::Qos;
use crate::model::write::publish::{
    AuthorizedLoad, LoadRun, PublishOutcome, Publisher, WriteContext, WriteError,
};
use crate::mqtt::DEFAULT_MAX_PACKET_BYTES;

/// Requests rumqttc may hold before `publish().await` waits (a large queue keeps the socket busy).
const REQUEST_CHANNEL_CAPACITY: usize = 65_536;
/// Unacknowledged QoS 1 publishes in flight.
const INFLIGHT: u16 = 1_000;
/// A rate-limited publisher sleeps only when it is this far ahead of schedule.
const RATE_SLACK: Duration = Duration::from_millis(2);
/// Length of the hash-id part of generated topics (aedifion's is 8).
const HASH_ID_CHARS: usize = 8;
/// How long the end of a run waits for the DISCONNECT to leave.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `topicscope bench …`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum BenchCommand {
    /// Flood a broker with aedifion-style messages over many topics.
    Publish(PublishArgs),
}

/// What the generated payloads look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadKind {
    /// `name value=21.5 1700000000000000000` (aedifion's line protocol).
    #[default]
    Influx,
    /// `{"value":21.5}`.
    Json,
    /// `21.5`.
    Number,
}

/// Options of `topicscope bench publish`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PublishArgs {
    /// Broker: mqtt[s]|ws[s]://[user@]host[:port][/path] (password from TOPICSCOPE_PASSWORD, sent only with a user name).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Distinct topics the messages are spread over (round robin).
    #[arg(long, value_name = "T", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub topics: u64,
    /// Messages to send.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub count: u64,
    /// Messages per second (default: as fast as the broker takes them).
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: Option<u64>,
    /// Payload format.
    #[arg(long, value_enum, default_value_t = PayloadKind::Influx)]
    pub payload: PayloadKind,
    /// Publish retained messages (the broker keeps the latest per topic).
    #[arg(long)]
    pub retain: bool,
    /// QoS of the publishes (0 or 1).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub qos: u8,
    /// First topic levels, before the hash id.
    #[arg(long, default_value = "lbg01/bench")]
    pub prefix: String,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
    #[arg(long, help = crate::model::config::url::ALLOW_WRITES_HELP)]
    pub allow_writes: bool,
    #[arg(long, help = crate::model::config::url::ALLOW_UNENCRYPTED_LOGIN_HELP)]
    pub allow_unencrypted_login: bool,
    /// Folder holding the audit log (default: the platform config folder).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

/// Why a load run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The URL is not usable.
    #[error("--url: {0}")]
    Url(#[from] crate::model::config::url::UrlError),
    /// The MQTT options could not be built (TLS files etc.).
    #[error("{0}")]
    Options(#[from] crate::mqtt::OptionsError),
    /// The broker could not be reached or dropped the connection.
    #[error("Connection to the broker failed after {sent} of {count} messages: {message}")]
    Connection {
        /// Messages sent before the failure.
        sent: u64,
        /// Messages asked for.
        count: u64,
        /// rumqttc's description.
        message: String,
    },
    /// The runtime could not start.
    #[error("Could not start the network runtime: {0}")]
    Runtime(std::io::Error),
    /// The write gate refused the run (read-only, CONTROLS/, audit log not writable).
    #[error("{0}")]
    Refused(#[from] WriteError),
    /// The profile fails the check made before connecting (a password over plain transport).
    #[error("Not connected: {0}")]
    InvalidProfile(String),
    /// No config folder for the audit log.
    #[error("Cannot find a config folder for the audit log (is HOME set?). Pass --config-dir DIR.")]
    NoConfigDir,
    /// The statistics file could not be written.
    #[error("Could not write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// What a load run did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PublishReport {
    /// Messages sent (QoS 0: written; QoS 1: acknowledged).
    pub sent: u64,
    /// Distinct topics.
    pub topics: u64,
    /// QoS used.
    pub qos: u8,
    /// Payload format.
    pub payload: PayloadKind,
    /// Retained flag.
    pub retained: bool,
    /// Time from the connection's acknowledgement to the last message sent.
    pub elapsed_secs: f64,
    /// `sent / elapsed_secs`.
    pub messages_per_sec: f64,
    /// Wall clock when sending started (ns since the Unix epoch).
    pub started_at_nanos: Nanos,
    /// Wall clock when the last message was sent.
    pub finished_at_nanos: Nanos,
}

impl PublishReport {
    /// One line for people.
    pub fn summary(&self) -> String {
        format!(
            "sent {} messages over {} topics (QoS {}, {:?} payloads{}) in {:.2} s: {:.0} msg/s",
            self.sent,
            self.topics,
            self.qos,
            self.payload,
            if self.retained { ", retained" } else { "" },
            self.elapsed_secs,
            self.messages_per_sec
        )
    }
}

/// Runs `bench` and prints the result.
pub fn run(command: &BenchCommand) -> Result<PublishReport, BenchError> {
    match command {
        BenchCommand::Publish(args) => {
            let report = publish(args)?;
            println!("{}", report.summary());
            if let Some(path) = &args.stats_json {
                let text = serde_json::to_string_pretty(&report).unwrap_or_default();
                std::fs::write(path, text + "\n").map_err(|source| BenchError::Write {
                    path: path.clone(),
                    source,
                })?;
            }
            Ok(report)
        }
    }
}

/// `main` for `topicscope bench`: exit code 0 when the run finished, 3 when the gate refused
/// it as read-only (like `publish`), 1 otherwise.
pub fn main(command: &BenchCommand) -> std::process::ExitCode {
    match run(command) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("topicscope: {error}");
            let code = match error {
                BenchError::Refused(WriteError::ReadOnly { .. }) => super::publish::EXIT_READ_ONLY,
                _ => 1,
            };
            std::process::ExitCode::from(code)
        }
    }
}

/// The topics and datapoint names of a run: `<prefix>/<hash_id(name, 8)>`, all distinct.
pub fn bench_topics(prefix: &str, count: u64) -> Vec<(String, String)> {
    let mut seen = HashSet::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut topics = Vec::with_capacity(seen.capacity());
    for index in 0..count {
        // A hash id collision between two names (rare at 8 base62 characters) would merge two
        // topics: the colliding name gets a suffix until its id is new.
        let mut name = format!("bench_dp_{index}");
        let mut topic = format!("{prefix}/{}", hash_id(&name, HASH_ID_CHARS));
        while !seen.insert(topic.clone()) {
            name.push('_');
            topic = format!("{prefix}/{}", hash_id(&name, HASH_ID_CHARS));
        }
        topics.push((topic, name));
    }
    topics
}

/// The payload of message number `sequence` for datapoint `name`.
pub fn bench_payload(kind: PayloadKind, name: &str, sequence: u64, at_nanos: Nanos) -> Vec<u8> {
    // A slow sawtooth, so plots of a bench topic show something.
    let value = (sequence % 1000) as f64 / 10.0;
    match kind {
        PayloadKind::Influx => format!("{name} value={value} {at_nanos}").into_bytes(),
        PayloadKind::Json => format!("{{\"value\":{value}}}").into_bytes(),
        PayloadKind::Number => value.to_string().into_bytes(),
    }
}

/// Passes the run through the write gate (recorded in the audit log), connects, sends
/// `args.count` messages, disconnects and records the result.
pub fn publish(args: &PublishArgs) -> Result<PublishReport, BenchError> {
    let mut profile = url_to_profile(&args.url)?;
    allow_writes(&mut profile, args.allow_writes);
    allow_unencrypted_login(&mut profile, args.allow_unencrypted_login);
    let config_dir = match &args.config_dir {
        Some(dir) => dir.clone(),
        None => default_config_dir().ok_or(BenchError::NoConfigDir)?,
    };
    let audit = Settings::load(&config_dir).settings.audit_log(&config_dir);
    let mut gate = Publisher::new(
        WriteContext {
            profile: profile.name.clone(),
            broker: crate::mqtt::options::broker_label(&profile),
            read_only: profile.read_only,
        },
        Some(audit),
    );
    let run = LoadRun {
        topics: format!("{}/+", args.prefix),
        description: format!(
            "load run: {} messages, {:?} payloads, over {} topics{}",
            args.count,
            args.payload,
            args.topics,
            args.rate
                .map(|rate| format!(", {rate} msg/s"))
                .unwrap_or_default()
        ),
        qos: if args.qos == 0 {
            Qos::AtMostOnce
        } else {
            Qos::AtLeastOnce
        },
        retain: args.retain,
    };
    let load = gate.authorize_load(&run, now_nanos())?;
    let result = publish_authorized(args, &profile, &load);
    let outcome = match &result {
        Ok(report) if report.sent == args.count => PublishOutcome::Sent,
        Ok(report) => PublishOutcome::NotSent(format!("{} of {} sent", report.sent, args.count)),
        Err(error) => PublishOutcome::NotSent(error.to_string()),
    };
    gate.record_load_outcome(load, outcome, now_nanos());
    result
}

/// The run itself, once the gate allowed it.
fn publish_authorized(
    args: &PublishArgs,
    profile: &Profile,
    _allowed: &AuthorizedLoad,
) -> Result<PublishReport, BenchError> {
    // The password only with a user name (MQTT 3.1.1 sends none without one), never from a
    // keychain: a load generator asks nobody.
    let password = match resolve_password(
        profile,
        password_from_env(),
        &NoSecrets::new("the load generator reads no keychain"),
    ) {
        PasswordNeed::Known(password) => password,
        PasswordNeed::Ask { .. } => None,
    };
    // The same check `session::Connection::start` makes for every other entry point.
    let problems = profile.connect_problems(password.as_ref().is_some_and(|p| !p.is_empty()));
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(BenchError::InvalidProfile(text.join(" ")));
    }
    let mut options = crate::mqtt::options::mqtt_options(
        profile,
        password.as_ref().map(|password| password.expose()),
        DEFAULT_MAX_PACKET_BYTES,
    )?;
    options.set_inflight(INFLIGHT);
    let topics = bench_topics(&args.prefix, args.topics);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    runtime.block_on(async {
        let (client, event_loop) = AsyncClient::new(options, REQUEST_CHANNEL_CAPACITY);
        run_load(args, &topics, client, event_loop).await
    })
}

async fn run_load(
    args: &PublishArgs,
    topics: &[(String, String)],
    client: AsyncClient,
    mut event_loop: EventLoop,
) -> Result<PublishReport, BenchError> {
    let qos = if args.qos == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let failure = |sent, error: rumqttc::ConnectionError| BenchError::Connection {
        sent,
        count: args.count,
        message: error.to_string(),
    };
    // Wait for the CONNACK first, so the clock starts at a working connection.
    loop {
        match event_loop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => break,
            Ok(_) => {}
            Err(error) => return Err(failure(0, error)),
        }
    }
    let started = Instant::now();
    let started_at_nanos = now_nanos();
    let producer = produce(args, topics, &client, qos, started);
    let driver = drive(&mut event_loop, args.count, qos);
    let (_, driven) = tokio::join!(producer, driver);
    let sent = driven.map_err(|(sent, error)| failure(sent, error))?;
    let elapsed_secs = started.elapsed().as_secs_f64();
    let finished_at_nanos = now_nanos();
    disconnect(&client, &mut event_loop).await;
    Ok(PublishReport {
        sent,
        topics: args.topics,
        qos: args.qos,
        payload: args.payload,
        retained: args.retain,
        elapsed_secs,
        messages_per_sec: if elapsed_secs > 0.0 {
            sent as f64 / elapsed_secs
        } else {
            0.0
        },
        started_at_nanos,
        finished_at_nanos,
    })
}

/// Queues every message, pacing to `args.rate` if given.
async fn produce(
    args: &PublishArgs,
    topics: &[(String, String)],
    client: &AsyncClient,
    qos: QoS,
    started: Instant,
) {
    for sequence in 0..args.count {
        if let Some(rate) = args.rate {
            let due = started + Duration::from_secs_f64(sequence as f64 / rate as f64);
            if due > Instant::now() + RATE_SLACK {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        let index = usize::try_from(sequence % args.topics).unwrap_or(0);
        let Some((topic, name)) = topics.get(index) else {
            return;
        };
        let payload = bench_payload(args.payload, name, sequence, now_nanos());
        // Fails only when the event loop is gone; the driver reports why.
        if client
            .publish(topic.as_str(), qos, args.retain, payload)
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Polls the event loop until `count` messages are sent (QoS 0) or acknowledged (QoS 1).
async fn drive(
    event_loop: &mut EventLoop,
    count: u64,
    qos: QoS,
) -> Result<u64, (u64, rumqttc::ConnectionError)> {
    let mut done = 0;
    while done < count {
        match event_loop.poll().await {
            Ok(Event::Outgoing(Outgoing::Publish(_))) if qos == QoS::AtMostOnce => done += 1,
            Ok(Event::Incoming(Packet::PubAck(_))) if qos == QoS::AtLeastOnce => done += 1,
            Ok(_) => {}
            Err(error) => return Err((done, error)),
        }
    }
    Ok(done)
}

/// Sends DISCONNECT and waits (bounded) until it has left, which also flushes what is buffered.
async fn disconnect(client: &AsyncClient, event_loop: &mut EventLoop) {
    if client.try_disconnect().is_err() {
        return;
    }
    let flushed = tokio::time::timeout(DISCONNECT_TIMEOUT, async {
        loop {
            match event_loop.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    });
    if flushed.await.is_err() {
        tracing::warn!("DISCONNECT not sent within {DISCONNECT_TIMEOUT:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::payload::{Decoded, PayloadFormat};

    #[test]
    fn bench_topics_are_distinct_aedifion_style_paths() {
        let topics = bench_topics("lbg01/bench", 2000);
        let distinct: HashSet<&str> = topics.iter().map(|(topic, _)| topic.as_str()).collect();
        assert_eq!(distinct.len(), 2000);
        let (topic, name) = &topics[7];
        assert_eq!(name, "bench_dp_7");
        assert_eq!(topic, &format!("lbg01/bench/{}", hash_id("bench_dp_7", 8)));
    }

    #[test]
    fn bench_payloads_decode_as_the_format_asked_for() {
        for (kind, format) in [
            (PayloadKind::Influx, PayloadFormat::Influx),
            (PayloadKind::Json, PayloadFormat::Json),
            (PayloadKind::Number, PayloadFormat::Number),
        ] {
            let payload = bench_payload(kind, "bench_dp_1", 1234, 1_700_000_000_000_000_000);
            let decoded = Decoded::from_payload("lbg01/bench/x", &payload);
            assert_eq!(decoded.format, format, "{kind:?}");
            assert_eq!(decoded.values.len(), 1, "{kind:?}");
            assert!((decoded.values[0].value - 23.4).abs() < 1e-9);
        }
    }

    #[test]
    fn an_unreachable_broker_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("free port");
        let args = PublishArgs {
            url: format!("mqtt://127.0.0.1:{port}"),
            topics: 1,
            count: 1,
            rate: None,
            payload: PayloadKind::Number,
            retain: false,
            qos: 0,
            prefix: "t".into(),
            stats_json: None,
            allow_writes: false,
            allow_unencrypted_login: false,
            config_dir: Some(dir.path().to_owned()),
        };
        let error = publish(&args).expect_err("nothing listens");
        assert!(
            matches!(error, BenchError::Connection { sent: 0, .. }),
            "{error}"
        );
        let audited = Settings::default()
            .audit_log(dir.path())
            .recent(10)
            .expect("audit log");
        assert!(
            matches!(audited[0].outcome, PublishOutcome::NotSent(_)),
            "the failed run is recorded: {audited:?}"
        );
    }
}
