//! `topicscope headless`: the GUI's worker, inbox, drain and store, without a window.
//!
//! It connects like `--url` and pumps a [`Session`] (the same engine as the window), stops after
//! `--duration` seconds or once `--count` messages were received and processed, and writes
//! statistics (and with `--dump`, the store) as JSON. Benchmarks drive it; on a server it checks
//! or snapshots a broker.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::commands::aedifion_source::{
    AedifionRunStats, AedifionSource, AedifionSourceArgs, AedifionSourceError,
};
use crate::model::config::profile::{Profile, validate_client_id};
use crate::model::config::secret::{NoSecrets, password_from_env};
use crate::model::config::secret::{PasswordNeed, resolve_password};
use crate::model::config::settings::{Settings, mib_to_bytes};
use crate::model::config::url::{UrlProfileError, profile_from_url};
use crate::model::decode::payload::{PayloadFormat, ValueKey};
use crate::model::store::Store;
use crate::model::store::memory_budget::inbox_capacity_for_budget;
use crate::model::time::{Nanos, now_nanos};
use crate::model::topic::qos::Qos;
use crate::model::topic::tree::NodeId;
use crate::mqtt::{ConnectionState, InboxStats};
use crate::session::wake::WakeSignal;
use crate::session::{ConnectOptions, Connection, ConnectionError, PUMP_BATCH, Session, Source};

/// Time spent applying messages before the loop looks at the clock and the stop conditions.
const DRAIN_BUDGET: Duration = Duration::from_millis(50);
/// Longest sleep while the inbox is empty (the worker's waker usually ends it sooner).
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// Pause after the inbox ran dry, so a trickle is applied in batches.
const COALESCE: Duration = Duration::from_millis(1);
/// How long the worker gets to send its DISCONNECT at the end.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Options of `topicscope headless`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct HeadlessArgs {
    /// Broker: mqtt[s]|ws[s]://[user@]host[:port][/path] (password from TOPICSCOPE_PASSWORD, sent only with a user name).
    #[arg(long, value_name = "URL", required_unless_present = "aedifion_project")]
    pub url: Option<String>,
    /// Topic filter to subscribe to (repeatable; default: #).
    #[arg(long = "subscribe", short = 's', value_name = "FILTER")]
    pub subscribe: Vec<String>,
    /// Subscription QoS (0, 1 or 2; default 0, or 1 for aedifion.io hosts).
    #[arg(long, value_name = "QOS", value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: Option<u8>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Stop once this many messages were received and processed.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Write statistics as JSON to this file ("-" for standard output).
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
    /// Write the store (every topic, its count, latest payload preview, datapoint) as JSON.
    #[arg(long, value_name = "FILE")]
    pub dump: Option<PathBuf>,
    /// Memory budget of the process, in MiB: over it, the oldest history goes first (default
    /// from settings, 512).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(crate::model::config::settings::MIN_MEMORY_BUDGET_MIB..))]
    pub memory_budget: Option<u64>,
    /// Create this (empty) file once every subscription is granted, so a script knows when to
    /// start publishing.
    #[arg(long, value_name = "FILE", hide = true)]
    pub ready_file: Option<PathBuf>,
    /// Connect with this client id instead of a generated one.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Ask the broker to keep the session (subscriptions and QoS 1/2 messages queued while
    /// disconnected) under the client id: MQTT's clean session off. Needs --client-id.
    #[arg(long, requires = "client_id")]
    pub persistent_session: bool,
    #[arg(long, help = crate::model::config::url::ALLOW_UNENCRYPTED_LOGIN_HELP)]
    pub allow_unencrypted_login: bool,
    /// Credentials from the aedifion platform instead of --url (`--aedifion-project ID`).
    #[command(flatten)]
    pub aedifion: AedifionSourceArgs,
}

/// Why headless mode could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// Neither `--duration` nor `--count`: it would never stop and never write its statistics.
    #[error("Give --duration SECS or --count N (or both), so headless mode knows when to stop.")]
    NoStopCondition,
    /// The URL or a filter is not usable.
    #[error(transparent)]
    Url(#[from] UrlProfileError),
    /// The connection failed before any message arrived.
    #[error("{0}")]
    Connection(String),
    /// The connection could not start.
    #[error(transparent)]
    Start(#[from] ConnectionError),
    /// The aedifion account could not be set up.
    #[error(transparent)]
    Aedifion(#[from] AedifionSourceError),
    /// A JSON file could not be written.
    #[error("Could not write {path}: {source}. Check that the folder exists and is writable.")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// What a headless run measured (written by `--stats-json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeadlessStats {
    /// The broker, as `host:port` plus transport.
    pub broker: String,
    /// The filters subscribed to.
    pub subscriptions: Vec<String>,
    /// Messages the worker received.
    pub messages_received: u64,
    /// Messages applied to the store.
    pub messages_applied: u64,
    /// Messages the full inbox dropped (received, never applied).
    pub messages_dropped: u64,
    /// Messages still waiting in the inbox at the end.
    pub messages_pending: u64,
    /// Time the worker waited for room in the full inbox (the broker held back), milliseconds.
    pub inbox_waited_ms: u64,
    /// Times the consumer counted as stalled, after which the full inbox dropped the oldest.
    pub inbox_stalls: u64,
    /// Distinct topics in the store.
    pub topics: u64,
    /// Points held by plot series.
    pub series_points: u64,
    /// The store's estimate of the memory it holds.
    pub bytes_held: u64,
    /// History messages evicted to stay within the limits or the memory budget.
    pub history_evicted: u64,
    /// Latest messages the memory budget evicted as a last resort (their topics stay).
    pub latest_evicted: u64,
    /// The memory budget in force.
    pub memory_budget_bytes: u64,
    /// The estimate the store was held to at the end, when the process's RSS forced it below
    /// the budget (`None`: the budget itself).
    pub store_target_bytes: Option<u64>,
    /// RSS the process is kept under outside an inbox flood (the budget less the inbox's room).
    pub rss_limit_bytes: u64,
    /// Resident memory before connecting.
    pub rss_before_bytes: Option<u64>,
    /// Resident memory at the end.
    pub rss_bytes: Option<u64>,
    /// Highest resident memory of the run.
    pub peak_rss_bytes: Option<u64>,
    /// CPU seconds the process used (user + system).
    pub cpu_secs: Option<f64>,
    /// Wall time from start to stop.
    pub elapsed_secs: f64,
    /// Receive time of the first message (ns since the Unix epoch).
    pub first_message_at_nanos: Option<Nanos>,
    /// Receive time of the last message (ns since the Unix epoch).
    pub last_message_at_nanos: Option<Nanos>,
    /// Time from the first to the last message.
    pub first_to_last_secs: Option<f64>,
    /// Messages received per second between the first and the last message.
    pub messages_per_sec: Option<f64>,
    /// "count" or "duration".
    pub stopped_by: &'static str,
    /// Wall clock when the last of `--count` messages had been applied (or dropped and counted).
    pub all_processed_at_nanos: Option<Nanos>,
    /// With `--aedifion-project`: what happened to the MQTT account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aedifion: Option<AedifionRunStats>,
}

/// Runs headless mode with the command line's options until a stop condition is met.
pub fn run(args: &HeadlessArgs) -> Result<HeadlessStats, HeadlessError> {
    if args.duration.is_none() && args.count.is_none() {
        return Err(HeadlessError::NoStopCondition);
    }
    let qos = args.qos.and_then(Qos::from_level);
    let mut aedifion = match args.aedifion.aedifion_project {
        Some(_) => Some(AedifionSource::start(&args.aedifion, &args.subscribe)?),
        None => None,
    };
    let mut profile = match &aedifion {
        Some(source) => source.profile().clone(),
        None => profile_from_url(
            args.url.as_deref().unwrap_or_default(),
            &args.subscribe,
            qos,
        )?,
    };
    if let Some(client_id) = &args.client_id {
        validate_client_id(client_id)
            .map_err(|error| HeadlessError::Url(UrlProfileError::InvalidProfile(vec![error])))?;
        profile.client_id.clone_from(client_id);
    }
    profile.clean_session = !args.persistent_session;
    crate::model::config::url::allow_unencrypted_login(&mut profile, args.allow_unencrypted_login);
    let settings = Settings::default();
    let mut limits = settings.limits.to_limits();
    if let Some(mib) = args.memory_budget {
        limits.memory_budget_bytes = mib_to_bytes(mib);
    }
    let result = ingest(
        args,
        &profile,
        &settings,
        Store::new(limits),
        aedifion.as_mut(),
    );
    if let Some(source) = aedifion {
        source.stop();
    }
    let (stats, store) = result?;
    write_outputs(args, &stats, &store)?;
    Ok(stats)
}

/// Connects, pumps the session until a stop condition, stops the worker; returns the statistics
/// and the store.
fn ingest(
    args: &HeadlessArgs,
    profile: &Profile,
    settings: &Settings,
    store: Store,
    mut aedifion: Option<&mut AedifionSource>,
) -> Result<(HeadlessStats, Store), HeadlessError> {
    let rss_before = crate::process::rss_bytes();
    let wake = WakeSignal::new();
    let options = ConnectOptions {
        inbox_capacity_messages: inbox_capacity_for_budget(
            settings.inbox_capacity_messages,
            store.limits().memory_budget_bytes as u64,
        ),
        max_packet_bytes: settings.max_packet_bytes,
    };
    // Without a window nobody can be asked: a profile that wants a password it was not given
    // connects without one, and the broker says what it thinks of that.
    let password = match &aedifion {
        Some(source) => Some(source.password().to_owned().into()),
        None => match resolve_password(
            profile,
            password_from_env(),
            &NoSecrets::new("headless mode reads no keychain"),
        ) {
            PasswordNeed::Known(password) => password,
            PasswordNeed::Ask { .. } => None,
        },
    };
    let connection = Connection::start(profile.clone(), password, options, Some(wake.waker()))?;
    let mut session = Session::new(Source::Live(connection), store);
    let started = Instant::now();
    let deadline = args
        .duration
        .map(|secs| started + Duration::from_secs(secs));
    let mut ready_file = args.ready_file.as_deref();
    let mut all_processed_at_nanos = None;
    // What connections replaced by a reconnect (a recreated aedifion account) received.
    let mut earlier = InboxStats::default();
    let stopped_by = loop {
        let report = session.pump(DRAIN_BUDGET);
        if let Some(source) = aedifion.as_deref_mut()
            && let Some(replaced) = source.poll(&mut session, options, &wake)
        {
            earlier.received += replaced.received;
            earlier.dropped += replaced.dropped + replaced.pending;
        }
        let mut inbox_stats = session.inbox_stats();
        inbox_stats.received += earlier.received;
        if let Some(count) = args.count
            && inbox_stats.received >= count
            && inbox_stats.pending == 0
        {
            all_processed_at_nanos = Some(now_nanos());
            break "count";
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break "duration";
        }
        let status = session.status();
        if inbox_stats.received == 0
            && let Some(ConnectionState::Failed { message, .. }) =
                status.as_ref().map(|status| &status.state)
        {
            return Err(HeadlessError::Connection(message.clone()));
        }
        if let Some(path) = ready_file
            && status.as_ref().is_some_and(|status| status.all_granted())
        {
            std::fs::write(path, b"").map_err(|source| HeadlessError::Write {
                path: path.to_owned(),
                source,
            })?;
            ready_file = None;
        }
        if report.applied == 0 {
            wake.wait(IDLE_WAIT);
        } else if report.applied < PUMP_BATCH {
            // The inbox ran dry: let the next batch gather instead of waking once per message
            // (a QoS 1 trickle otherwise costs two context switches per message).
            std::thread::sleep(COALESCE);
        }
    };
    let elapsed_secs = started.elapsed().as_secs_f64();
    if let Some(connection) = session.connection_mut() {
        connection.stop();
        let stop_deadline = Instant::now() + STOP_GRACE;
        while connection.running() && Instant::now() < stop_deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let mut inbox_stats = session.inbox_stats();
    inbox_stats.received += earlier.received;
    inbox_stats.dropped += earlier.dropped;
    let store = session.into_store();
    let store_stats = store.stats();
    let first = store.rates().first_message_at_nanos();
    let last = store.rates().last_message_at_nanos();
    let first_to_last_secs = first
        .zip(last)
        .map(|(first, last)| (last - first) as f64 / 1e9);
    let stats = HeadlessStats {
        broker: profile.display_url(),
        subscriptions: profile
            .subscriptions
            .iter()
            .map(|s| s.filter.clone())
            .collect(),
        messages_received: inbox_stats.received,
        messages_applied: store_stats.messages_applied,
        messages_dropped: inbox_stats.dropped,
        messages_pending: inbox_stats.pending,
        inbox_waited_ms: inbox_stats.waited_ms,
        inbox_stalls: inbox_stats.stalls,
        topics: store_stats.topics,
        series_points: store_stats.series_points,
        bytes_held: store_stats.bytes_held,
        history_evicted: store_stats.history_evicted,
        latest_evicted: store_stats.latest_evicted,
        memory_budget_bytes: store.limits().memory_budget_bytes as u64,
        store_target_bytes: store.budget_reading().store_target_bytes,
        rss_limit_bytes: store.budget_reading().rss_limit_bytes,
        rss_before_bytes: rss_before,
        rss_bytes: crate::process::rss_bytes(),
        peak_rss_bytes: crate::process::peak_rss_bytes(),
        cpu_secs: crate::process::cpu_secs(),
        elapsed_secs,
        first_message_at_nanos: first,
        last_message_at_nanos: last,
        first_to_last_secs,
        messages_per_sec: first_to_last_secs
            .filter(|secs| *secs > 0.0)
            .map(|secs| inbox_stats.received as f64 / secs),
        stopped_by,
        all_processed_at_nanos,
        aedifion: aedifion.map(|source| source.stats().clone()),
    };
    Ok((stats, store))
}

fn write_outputs(
    args: &HeadlessArgs,
    stats: &HeadlessStats,
    store: &Store,
) -> Result<(), HeadlessError> {
    if let Some(path) = &args.stats_json {
        write_json(path, |writer| {
            serde_json::to_writer_pretty(&mut *writer, stats)?;
            writeln!(writer)
        })?;
    }
    if let Some(path) = &args.dump {
        write_json(path, |writer| write_dump(store, writer))?;
    }
    Ok(())
}

/// Writes a file (or standard output for "-") through `write`.
fn write_json(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), HeadlessError> {
    let error = |source| HeadlessError::Write {
        path: path.to_owned(),
        source,
    };
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return write(&mut out).and_then(|()| out.flush()).map_err(error);
    }
    let file = File::create(path).map_err(error)?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)
        .and_then(|()| writer.flush())
        .map_err(error)
}

/// One topic of the dump.
#[derive(Debug, serde::Serialize)]
struct DumpedTopic<'a> {
    topic: String,
    message_count: u64,
    retained: bool,
    /// Absent while the memory budget has evicted the latest message.
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<PayloadFormat>,
    /// Absent while the memory budget has evicted the latest message.
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<&'a str>,
    /// Present (and true) only while the memory budget has evicted the latest message: the topic
    /// and its counts stay, the payload is gone until the next message.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    latest_evicted: bool,
    /// The aedifion datapoint name (the Influx measurement), where the payload names one.
    datapoint: Option<&'a str>,
    /// The datapoint's unit, where known.
    unit: Option<&'a str>,
    history_messages: usize,
    series_points: usize,
}

/// Writes `{"topics": [...]}` with every topic in path order, one topic at a time (a million
/// topics never become one big in-memory document).
pub fn write_dump(store: &Store, writer: &mut dyn std::io::Write) -> std::io::Result<()> {
    let tree = store.tree();
    let mut topics: Vec<(String, NodeId)> = (0..tree.len())
        .filter_map(|index| {
            let id = NodeId(u32::try_from(index).ok()?);
            store.topic(id)?;
            Some((tree.path(id), id))
        })
        .collect();
    topics.sort_unstable();
    let mut series_points: std::collections::HashMap<&str, usize> = Default::default();
    for (_, series) in store.series() {
        *series_points.entry(series.topic.as_str()).or_default() += series.len();
    }
    writer.write_all(b"{\"topics\":[\n")?;
    for (index, (path, id)) in topics.iter().enumerate() {
        let Some(state) = store.topic(*id) else {
            continue;
        };
        let latest = state.latest();
        // The registry knows names learned from measurements and META (and units); a payload
        // naming its measurement is the fallback.
        let registered = store.datapoints().datapoint_of_topic(*id).map(|(_, dp)| dp);
        let datapoint = registered.map(|dp| &*dp.name).or_else(|| {
            latest?
                .decoded
                .values
                .iter()
                .find_map(|value| match &value.key {
                    ValueKey::InfluxField { measurement, .. } => Some(measurement.as_str()),
                    _ => None,
                })
        });
        let entry = DumpedTopic {
            topic: path.clone(),
            message_count: state.message_count,
            retained: state.latest_retained(),
            format: latest.map(|latest| latest.decoded.format),
            preview: latest.map(|latest| latest.decoded.preview.as_str()),
            latest_evicted: state.latest_evicted(),
            datapoint,
            unit: registered.and_then(|dp| dp.units()),
            history_messages: state.history.len(),
            series_points: series_points.get(path.as_str()).copied().unwrap_or(0),
        };
        if index > 0 {
            writer.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *writer, &entry)?;
    }
    writer.write_all(b"\n]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::message::Message;
    use bytes::Bytes;
    use clap::Parser as _;

    #[test]
    fn a_run_without_a_stop_condition_is_refused() {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            args: HeadlessArgs,
        }
        let command =
            Command::try_parse_from(["headless", "--url", "mqtt://127.0.0.1:1"]).expect("parses");
        assert!(matches!(
            run(&command.args),
            Err(HeadlessError::NoStopCondition)
        ));
    }

    #[test]
    fn an_aedifion_project_replaces_the_url_and_needs_an_email() {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            args: HeadlessArgs,
        }
        let parsed = Command::try_parse_from([
            "headless",
            "--aedifion-project",
            "7",
            "--email",
            "a@b",
            "--count",
            "1",
        ])
        .expect("parses without --url");
        assert_eq!(parsed.args.aedifion.aedifion_project, Some(7));
        assert_eq!(
            parsed.args.aedifion.api_url,
            crate::account::client::PRODUCTION_API_URL
        );
        assert_eq!(parsed.args.aedifion.aedifion_validity, 7200);
        assert!(parsed.args.url.is_none());
        assert!(Command::try_parse_from(["headless", "--aedifion-project", "7"]).is_err());
        assert!(Command::try_parse_from(["headless", "--count", "1"]).is_err());
        assert!(
            Command::try_parse_from([
                "headless",
                "--url",
                "mqtt://x",
                "--aedifion-project",
                "7",
                "--email",
                "a@b"
            ])
            .is_err()
        );
        assert!(Command::try_parse_from(["headless", "--url", "mqtt://x", "--count", "1"]).is_ok());
    }

    #[test]
    fn a_bad_filter_is_refused_before_connecting() {
        let args = HeadlessArgs {
            url: Some("mqtt://127.0.0.1:1".into()),
            subscribe: vec!["a/#/b".into()],
            qos: None,
            duration: Some(1),
            count: None,
            stats_json: None,
            dump: None,
            memory_budget: None,
            ready_file: None,
            client_id: None,
            persistent_session: false,
            allow_unencrypted_login: false,
            aedifion: AedifionSourceArgs::default(),
        };
        let error = run(&args).expect_err("bad filter");
        assert!(error.to_string().contains("a/#/b"), "{error}");
    }

    #[test]
    fn the_dump_lists_every_topic_in_order_with_its_datapoint() {
        let mut store = Store::new(crate::model::store::Limits::default());
        for (topic, payload, retained) in [
            ("b/2", "RoomTemp value=21.5 1700000000000000000", true),
            ("a/1", "hello", false),
            ("b/2", "RoomTemp value=22 1700000001000000000", false),
        ] {
            store.apply(Message::new(
                topic.into(),
                Bytes::from(payload),
                Qos::AtMostOnce,
                retained,
                1,
            ));
        }
        let mut out = Vec::new();
        write_dump(&store, &mut out).expect("write");
        let dump: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let topics = dump["topics"].as_array().expect("array");
        assert_eq!(topics.len(), 2);
        assert_eq!(topics[0]["topic"], "a/1");
        assert_eq!(topics[0]["datapoint"], serde_json::Value::Null);
        assert_eq!(topics[1]["topic"], "b/2");
        assert_eq!(topics[1]["message_count"], 2);
        assert_eq!(topics[1]["retained"], false);
        assert_eq!(topics[1]["datapoint"], "RoomTemp");
        assert_eq!(topics[1]["history_messages"], 2);
        assert_eq!(topics[1]["preview"], "RoomTemp value=22");
        assert!(
            topics[1].get("latest_evicted").is_none(),
            "only said when true"
        );
    }

    #[test]
    fn the_dump_marks_a_topic_whose_latest_message_the_budget_evicted() {
        let mut store = Store::new(crate::model::store::Limits::default());
        for (topic, payload) in [
            ("a/quiet", "RoomTemp value=21.5 1700000000000000000"),
            ("b/busy", "hello"),
        ] {
            store.apply(Message::new(
                topic.into(),
                Bytes::from(payload),
                Qos::AtMostOnce,
                true,
                1,
            ));
        }
        // Just under the estimate: the least recently updated topic's latest message goes.
        let held = store.stats().bytes_held as usize;
        store.set_memory_target_bytes(Some(held - 1));
        let mut out = Vec::new();
        write_dump(&store, &mut out).expect("write");
        let dump: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let quiet = &dump["topics"][0];
        assert_eq!(quiet["topic"], "a/quiet");
        assert_eq!(quiet["latest_evicted"], true);
        assert!(quiet.get("preview").is_none() && quiet.get("format").is_none());
        assert_eq!(quiet["message_count"], 1);
        assert_eq!(
            quiet["retained"], true,
            "known from the topic, not the message"
        );
        assert_eq!(quiet["history_messages"], 0);
        let busy = &dump["topics"][1];
        assert_eq!(busy["preview"], "hello");
        assert!(busy.get("latest_evicted").is_none());
    }
}
