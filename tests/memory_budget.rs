//! The memory budget bounds the whole process: `topicscope headless --memory-budget 64` takes a
//! flood that would need about twice the budget if nothing were evicted, through a real
//! Mosquitto, and its resident size stays within the budget. The flood is counted in messages
//! (`--count`), never timed; every wait is bounded.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use topicscope::commands::bench::{PayloadKind, PublishArgs, publish};

const BUDGET_MIB: u64 = 64;
/// 100 messages per topic (the default history length), about 500 bytes each as stored: some
/// 100 MB if nothing were evicted.
const TOPICS: u64 = 2_000;
const MESSAGES: u64 = 200_000;
/// Allowed above the budget: one sampling step of growth between two RSS readings (2 MiB of
/// store growth, or a drain batch) plus allocator granularity.
const TOLERANCE_MIB: u64 = 6;
/// Headless mode's own stop: a lost message fails the counts instead of hanging the test.
const SAFETY_DURATION_SECS: u64 = 120;

/// Mosquitto without a per-client queue limit (like `scripts/bench.sh`), so a subscriber slower
/// than the publisher still gets every message; killed on drop.
struct UnlimitedBroker {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl UnlimitedBroker {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = common::free_port();
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 0\nuser root\n"
            ),
        )
        .expect("write config");
        let child = Command::new(common::mosquitto_binary())
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let deadline = Instant::now() + common::WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not listen");
            std::thread::sleep(common::POLL_EVERY);
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for UnlimitedBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn headless_stays_within_a_small_memory_budget_under_a_flood() {
    let broker = UnlimitedBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let stats_path = dir.path().join("stats.json");
    let ready = dir.path().join("ready");
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let mut headless = Command::new(env!("CARGO_BIN_EXE_topicscope"))
        .args(["headless", "--url", &url, "--subscribe", "lbg01/bench/#"])
        .args(["--memory-budget", &BUDGET_MIB.to_string()])
        .args(["--count", &MESSAGES.to_string()])
        .args(["--duration", &SAFETY_DURATION_SECS.to_string()])
        .arg("--stats-json")
        .arg(&stats_path)
        .arg("--ready-file")
        .arg(&ready)
        .stdout(Stdio::null())
        .spawn()
        .expect("start headless");
    common::wait_for_file(&ready);
    let report = publish(&PublishArgs {
        url,
        topics: TOPICS,
        count: MESSAGES,
        rate: None,
        payload: PayloadKind::Influx,
        retain: false,
        qos: 0,
        prefix: "lbg01/bench".into(),
        stats_json: None,
        allow_writes: false,
        allow_unencrypted_login: false,
        config_dir: Some(dir.path().to_owned()),
    })
    .expect("publish");
    assert_eq!(report.sent, MESSAGES);
    assert!(
        common::wait_for_exit(
            &mut headless,
            Duration::from_secs(SAFETY_DURATION_SECS + 20)
        )
        .success()
    );

    let text = std::fs::read_to_string(&stats_path).expect("stats written");
    let stats: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let field = |name: &str| {
        stats[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} in {stats}"))
    };
    assert_eq!(stats["stopped_by"], "count", "{stats}");
    assert_eq!(field("messages_applied"), MESSAGES, "{stats}");
    assert_eq!(field("messages_dropped"), 0, "{stats}");
    assert_eq!(field("topics"), TOPICS, "{stats}");
    let budget = BUDGET_MIB << 20;
    assert_eq!(field("memory_budget_bytes"), budget);
    // The flood did not fit: history was evicted, every topic kept its latest message.
    assert!(field("history_evicted") > 0, "{stats}");
    assert!(field("bytes_held") <= budget, "{stats}");
    let peak = field("peak_rss_bytes");
    assert!(
        peak <= budget + (TOLERANCE_MIB << 20),
        "peak RSS {} MiB over the {BUDGET_MIB} MiB budget (+{TOLERANCE_MIB} MiB): {stats}",
        peak >> 20
    );
    assert!(field("rss_bytes") <= budget, "{stats}");
}
