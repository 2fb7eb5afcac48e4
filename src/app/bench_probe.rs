//! Measurement hooks for the window under `scripts/bench.sh`: frame CPU and wall times per
//! phase, first frame and first data, and the setup a benchmark asks for (plotted series, an
//! expanded subtree). Switched on by environment variables; without them there is no probe and
//! no cost.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::model::store::Store;
use crate::model::time::{Nanos, now_nanos};
use crate::mqtt::{ConnectionStatus, InboxStats};

/// Environment variable: close the window once this many messages were received and processed.
pub const ENV_EXIT_AFTER: &str = "TOPICSCOPE_BENCH_EXIT_AFTER";
/// Environment variable: write the window's figures (JSON) to this file, every second and at exit.
pub const ENV_STATS: &str = "TOPICSCOPE_BENCH_STATS";
/// Environment variable: create this file once every subscription is granted.
pub const ENV_READY: &str = "TOPICSCOPE_BENCH_READY";
/// Environment variable: plot this many series (the first topics with numbers, in arrival order).
pub const ENV_PLOT: &str = "TOPICSCOPE_BENCH_PLOT";
/// Environment variable: expand the tree down to this path (e.g. `lbg01/bench`).
pub const ENV_EXPAND: &str = "TOPICSCOPE_BENCH_EXPAND";
/// Environment variable: a file whose content names the current phase; frame times are kept per
/// phase, and the phase `exit` closes the window after writing the figures.
pub const ENV_PHASE_FILE: &str = "TOPICSCOPE_BENCH_PHASE_FILE";

/// Frames kept per phase (a bounded ring: the newest win).
const FRAMES_PER_PHASE: usize = 200_000;
/// How often the probe looks at the phase file and rewrites its figures.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Per-frame cost of the UI pass (drain, panels, actions) of one phase.
#[derive(Debug, Default)]
struct FrameTimes {
    /// (thread CPU ns, wall ns) per frame, oldest first once full.
    frames: std::collections::VecDeque<(u64, u64)>,
    total: u64,
}

impl FrameTimes {
    fn record(&mut self, cpu_nanos: u64, wall_nanos: u64) {
        if self.frames.len() == FRAMES_PER_PHASE {
            self.frames.pop_front();
        }
        self.frames.push_back((cpu_nanos, wall_nanos));
        self.total += 1;
    }

    fn summary(&self) -> serde_json::Value {
        let percentiles = |pick: fn(&(u64, u64)) -> u64| {
            let mut values: Vec<u64> = self.frames.iter().map(pick).collect();
            values.sort_unstable();
            let at = |q: f64| {
                let index = ((values.len() as f64 - 1.0) * q).round() as usize;
                values.get(index).map_or(0.0, |&nanos| nanos as f64 / 1e6)
            };
            serde_json::json!({ "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0) })
        };
        serde_json::json!({
            "frames": self.total,
            "cpu": percentiles(|frame| frame.0),
            "wall": percentiles(|frame| frame.1),
        })
    }
}

/// What the window should do after a probed frame.
#[derive(Debug, Default)]
pub struct ProbeOutcome {
    /// Actions to apply (plot series, expand the tree).
    pub actions: Vec<crate::ui::UiAction>,
    /// Close the window: the run is over and the figures are written.
    pub close: bool,
}

/// Measurement hooks for the window under `scripts/bench.sh`, switched on by environment
/// variables (none set: no probe, no cost). Records the CPU and wall time of every frame's UI
/// pass per phase, the first frame and first data times, and writes them as JSON.
#[derive(Debug)]
pub struct GuiProbe {
    exit_after: Option<u64>,
    stats_path: Option<PathBuf>,
    ready_path: Option<PathBuf>,
    phase_path: Option<PathBuf>,
    plot_series: usize,
    expand: Option<String>,
    phase: String,
    phases: std::collections::BTreeMap<String, FrameTimes>,
    frame_started: Option<(u64, Instant)>,
    first_frame_secs: Option<f64>,
    first_data_frame_secs: Option<f64>,
    all_processed_at_nanos: Option<Nanos>,
    probed_at: Option<Instant>,
    closing: bool,
}

impl GuiProbe {
    /// A probe if any bench variable is set.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let exit_after = var(ENV_EXIT_AFTER).and_then(|value| value.parse().ok());
        let stats_path = var(ENV_STATS).map(PathBuf::from);
        let ready_path = var(ENV_READY).map(PathBuf::from);
        let phase_path = var(ENV_PHASE_FILE).map(PathBuf::from);
        let plot_series = var(ENV_PLOT).and_then(|value| value.parse().ok());
        let expand = var(ENV_EXPAND);
        if exit_after.is_none() && stats_path.is_none() && ready_path.is_none() {
            return None;
        }
        Some(Self {
            exit_after,
            stats_path,
            ready_path,
            phase_path,
            plot_series: plot_series.unwrap_or(0),
            expand,
            phase: "start".to_owned(),
            phases: Default::default(),
            frame_started: None,
            first_frame_secs: None,
            first_data_frame_secs: None,
            all_processed_at_nanos: None,
            probed_at: None,
            closing: false,
        })
    }

    /// Call first thing in a frame (before the drain).
    pub fn begin_frame(&mut self) {
        self.frame_started = Some((
            crate::process::thread_cpu_nanos().unwrap_or(0),
            Instant::now(),
        ));
    }

    /// Call last thing in a frame, with the state after it.
    pub fn end_frame(
        &mut self,
        store: &Store,
        inbox: InboxStats,
        status: Option<&ConnectionStatus>,
    ) -> ProbeOutcome {
        if let Some((cpu_before, wall_before)) = self.frame_started.take() {
            let cpu = crate::process::thread_cpu_nanos()
                .unwrap_or(0)
                .saturating_sub(cpu_before);
            let wall = u64::try_from(wall_before.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.phases
                .entry(self.phase.clone())
                .or_default()
                .record(cpu, wall);
        }
        if self.first_frame_secs.is_none() {
            self.first_frame_secs = crate::process::secs_since_start();
        }
        if self.first_data_frame_secs.is_none() && store.stats().topics > 0 {
            self.first_data_frame_secs = crate::process::secs_since_start();
        }
        let mut outcome = ProbeOutcome::default();
        if let Some(path) = &self.ready_path
            && status.is_some_and(ConnectionStatus::all_granted)
        {
            let _ = std::fs::write(path, b"");
            self.ready_path = None;
        }
        let finished = self
            .exit_after
            .is_some_and(|count| inbox.received >= count && inbox.pending == 0);
        if finished && self.all_processed_at_nanos.is_none() {
            self.all_processed_at_nanos = Some(now_nanos());
        }
        let due = self.probed_at.is_none_or(|at| at.elapsed() >= PROBE_EVERY);
        if !(due || finished) || self.closing {
            return outcome;
        }
        self.probed_at = Some(Instant::now());
        if let Some(path) = &self.phase_path
            && let Ok(text) = std::fs::read_to_string(path)
        {
            self.phase = text.trim().to_owned();
        }
        self.setup_actions(store, &mut outcome.actions);
        let exit = finished || self.phase == "exit";
        self.write_stats(store, inbox);
        if exit {
            self.closing = true;
            outcome.close = true;
        }
        outcome
    }

    /// Plots the first topics with numbers and expands the tree, once each is possible.
    fn setup_actions(&mut self, store: &Store, actions: &mut Vec<crate::ui::UiAction>) {
        use crate::model::topic::tree::NodeId;
        use crate::ui::UiAction;
        if self.plot_series > 0 && store.series().count() == 0 {
            let tree = store.tree();
            let wanted: Vec<UiAction> = (0..tree.len())
                .filter_map(|index| {
                    let node = NodeId(u32::try_from(index).ok()?);
                    let value = store.topic(node)?.latest()?.decoded.values.first()?;
                    Some(UiAction::AddSeries {
                        node,
                        key: value.key.clone(),
                    })
                })
                .take(self.plot_series)
                .collect();
            if wanted.len() == self.plot_series {
                actions.extend(wanted);
                self.plot_series = 0;
            }
        }
        if let Some(path) = &self.expand
            && let Some(_) = store.tree().find(path)
        {
            let mut prefix = String::new();
            for level in path.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(level);
                if let Some(node) = store.tree().find(&prefix) {
                    actions.push(UiAction::SetExpanded {
                        node,
                        expanded: true,
                    });
                }
            }
            self.expand = None;
        }
    }

    fn write_stats(&self, store: &Store, inbox: InboxStats) {
        let Some(path) = &self.stats_path else {
            return;
        };
        let first = store.rates().first_message_at_nanos();
        let last = store.rates().last_message_at_nanos();
        let first_to_last_secs = first.zip(last).map(|(f, l)| (l - f) as f64 / 1e9);
        let phases: serde_json::Map<String, serde_json::Value> = self
            .phases
            .iter()
            .map(|(name, times)| (name.clone(), times.summary()))
            .collect();
        let stats = serde_json::json!({
            "messages_received": inbox.received,
            "messages_applied": store.stats().messages_applied,
            "messages_dropped": inbox.dropped,
            "messages_pending": inbox.pending,
            "inbox_waited_ms": inbox.waited_ms,
            "inbox_stalls": inbox.stalls,
            "topics": store.stats().topics,
            "bytes_held": store.stats().bytes_held,
            "series_points": store.stats().series_points,
            "first_message_at_nanos": first,
            "last_message_at_nanos": last,
            "first_to_last_secs": first_to_last_secs,
            "messages_per_sec": first_to_last_secs
                .filter(|secs| *secs > 0.0)
                .map(|secs| inbox.received as f64 / secs),
            "rss_bytes": crate::process::rss_bytes(),
            "peak_rss_bytes": crate::process::peak_rss_bytes(),
            "cpu_secs": crate::process::cpu_secs(),
            "first_frame_secs": self.first_frame_secs,
            "first_data_frame_secs": self.first_data_frame_secs,
            "all_processed_at_nanos": self.all_processed_at_nanos,
            "phase": self.phase,
            "frame_times": phases,
        });
        // Written whole to a temporary name and renamed, so a reader never sees half a file.
        let temporary = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(&stats).unwrap_or_default();
        if std::fs::write(&temporary, text).is_ok() {
            let _ = std::fs::rename(&temporary, path);
        }
    }
}
