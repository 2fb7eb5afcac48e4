//! The status bar (bottom): connection state in plain words, refused subscriptions, and the
//! counters that make every message accountable — received, applied, dropped (inbox full, never
//! silent), pending, history evicted — plus topics and memory held against the budget.

use egui::RichText;

use crate::model::store::Store;

use super::theme::Palette;
use crate::ui::format::{format_bytes, format_count};

/// How the connection is doing, for the colour of the status dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not connected and not trying.
    #[default]
    Idle,
    /// Connecting or waiting to retry.
    Busy,
    /// Connected.
    Ok,
    /// A failure the user should read.
    Error,
}

/// What the status bar shows besides the store's own counters. The app fills it from the
/// worker's status cell and the inbox each frame (the UI layer knows nothing of the worker).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusView {
    /// The connection state in plain words ("Connected to host:1883 since 10:42:07").
    pub connection: String,
    pub health: Health,
    /// Subscription filters the broker refused.
    pub refused_subscriptions: Vec<String>,
    /// Every subscription filter with the broker's answer in words ("granted, QoS 1",
    /// "refused by the broker", "waiting for the broker"), in the profile's order.
    pub subscriptions: Vec<(String, String)>,
    /// Messages the worker received.
    pub received: u64,
    /// Messages dropped because the inbox was full (received but never applied).
    pub dropped: u64,
    /// Messages waiting in the inbox.
    pub pending: u64,
    /// Incoming packets refused for exceeding the packet size limit (each one costs a reconnect).
    pub oversize_refused: u64,
    /// The inbox is full and the worker has stopped reading: the broker is waiting on
    /// TopicScope and holds the messages not sent yet (backpressure, nothing dropped here).
    pub holding_back: bool,
    /// Times the window took no messages for a while (minimised, busy), so the full inbox
    /// dropped the oldest instead of holding the broker back.
    pub stalls: u64,
    /// The aedifion account's credentials ("credentials valid until 14:32"), when the
    /// connection shown runs on them.
    pub credentials: Option<CredentialsView>,
    /// What is insecure about the connection that is up (a password sent unencrypted,
    /// certificates not checked), shown for as long as it is up.
    pub security_warnings: Vec<String>,
}

/// The credentials part of the status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialsView {
    /// "credentials valid until 14:32", or what is wrong and when it is tried again.
    pub text: String,
    /// Something failed (shown in the error colour until it succeeds).
    pub problem: bool,
}

/// Draws the status bar for `status` and the store's counters.
pub fn status_bar_ui(ui: &mut egui::Ui, status: &StatusView, store: &Store) {
    let palette = Palette::for_ui(ui);
    ui.horizontal_wrapped(|ui| {
        let dot_colour = match status.health {
            Health::Idle => palette.status_idle,
            Health::Busy => palette.status_busy,
            Health::Ok => palette.status_ok,
            Health::Error => palette.status_error,
        };
        ui.label(RichText::new("\u{25cf}").monospace().color(dot_colour));
        let connection = RichText::new(&status.connection);
        if status.health == Health::Error {
            ui.label(connection.color(palette.status_error));
        } else {
            ui.label(connection);
        }
        if let Some(credentials) = &status.credentials {
            ui.separator();
            let text = RichText::new(&credentials.text);
            let text = if credentials.problem {
                text.color(palette.status_error)
            } else {
                text
            };
            ui.label(text).on_hover_text(
                "The aedifion MQTT account: renewed at three quarters of its validity, created again if it expired",
            );
        }
        for warning in &status.security_warnings {
            ui.separator();
            ui.colored_label(palette.warning, format!("\u{26a0} {warning}"));
        }
        subscriptions_ui(ui, status, palette);
        if !status.refused_subscriptions.is_empty() {
            ui.separator();
            ui.colored_label(
                palette.warning,
                format!("Refused by the broker: {}", status.refused_subscriptions.join(", ")),
            )
            .on_hover_text("The broker did not grant these subscriptions (often: outside your account's topic permissions).");
        }
        ui.separator();
        counters_ui(ui, status, store, palette);
    });
}

/// "Subscriptions: N" with each filter and the broker's answer next to it on hover.
fn subscriptions_ui(ui: &mut egui::Ui, status: &StatusView, palette: &Palette) {
    if status.subscriptions.is_empty() {
        return;
    }
    ui.separator();
    ui.label(format!("Subscriptions: {}", status.subscriptions.len()))
        .on_hover_ui(|ui| {
            egui::Grid::new("subscription_states").show(ui, |ui| {
                for (filter, answer) in &status.subscriptions {
                    ui.monospace(filter);
                    if status.refused_subscriptions.contains(filter) {
                        ui.colored_label(palette.warning, answer);
                    } else {
                        ui.label(answer);
                    }
                    ui.end_row();
                }
            });
        });
}

/// Why the broker waits, and what it may cost.
const HOLDING_BACK_HELP: &str = "Messages arrive faster than the window takes them in. \
Instead of dropping them, TopicScope has paused reading until there is room, and the broker keeps \
the rest for now: nothing is dropped here, the newest values show up a little later. \
A broker with a per-client queue limit (Mosquitto: max_queued_messages, 1,000 by default) may \
drop messages meanwhile; TopicScope cannot count those.";

fn counters_ui(ui: &mut egui::Ui, status: &StatusView, store: &Store, palette: &Palette) {
    let stats = store.stats();
    ui.label(format!("Received: {}", format_count(status.received)))
        .on_hover_text("Messages received from the broker on this connection");
    ui.label(format!("Applied: {}", format_count(stats.messages_applied)))
        .on_hover_text("Messages added to the topic tree");
    let dropped = RichText::new(format!("Dropped: {}", format_count(status.dropped)));
    let dropped = if status.dropped > 0 {
        dropped.color(palette.warning)
    } else {
        dropped
    };
    ui.label(dropped).on_hover_text(if status.stalls > 0 {
        "Messages the window could not take in: it took none for over a second (minimised or busy) while the inbox was full, so the oldest waiting ones were dropped"
    } else {
        "Messages the window could not take in: the oldest waiting ones are dropped when the inbox is full and the window takes none for over a second (minimised or busy)"
    });
    if status.oversize_refused > 0 {
        ui.colored_label(
            palette.warning,
            format!("Too large: {}", format_count(status.oversize_refused)),
        )
        .on_hover_text(
            "Messages refused because they exceed the largest packet size set in the settings",
        );
    }
    if status.pending > 0 {
        ui.label(format!("Pending: {}", format_count(status.pending)))
            .on_hover_text("Messages received and waiting to be added");
    }
    if status.holding_back {
        ui.colored_label(palette.status_busy, "Broker waiting on TopicScope")
            .on_hover_text(HOLDING_BACK_HELP);
    }
    ui.label(format!("Evicted: {}", format_count(stats.history_evicted)))
        .on_hover_text("Older history messages removed to stay within the history limits and the memory budget (oldest first; a topic's latest message goes only as a last resort, see Latest evicted)");
    if stats.latest_evicted > 0 {
        ui.colored_label(
            palette.warning,
            format!("Latest evicted: {}", format_count(stats.latest_evicted)),
        )
        .on_hover_text(LATEST_EVICTED_HELP);
    }
    ui.separator();
    ui.label(format!("Topics: {}", format_count(stats.topics)));
    memory_ui(ui, store, palette);
}

/// Why "Latest evicted" counts up, and what stays.
const LATEST_EVICTED_HELP: &str = "Latest messages removed because even without any older history the store was over the memory budget: the least recently updated topics go first. Their topics stay listed with their message counts, times and plots, shown as \"(evicted: memory budget)\"; the next message on such a topic is shown again. Raise the memory budget in the settings to keep them.";

/// "Memory: held of budget", and while the process's size forces the store below its budget,
/// that it does so (coloured) and by how much.
fn memory_ui(ui: &mut egui::Ui, store: &Store, palette: &Palette) {
    let held = store.stats().bytes_held;
    let budget = store.limits().memory_budget_bytes as u64;
    let reading = store.budget_reading();
    let process = reading.rss_bytes.map_or_else(
        || "The process's own size is not known on this system: the budget bounds the store's estimate.".to_owned(),
        |rss| format!("The whole process: {} (measured once per second).", format_bytes(rss)),
    );
    let text = format!("Memory: {} of {}", format_bytes(held), format_bytes(budget));
    if let (Some(target), Some(rss)) = (reading.store_target_bytes, reading.rss_bytes) {
        ui.colored_label(palette.warning, format!("{text} · budget enforced"))
            .on_hover_text(format!(
                "The whole process ({}) was over its share of the {} budget ({}; the rest is room for the inbox), so the store is held to {}: the oldest history goes first, then the latest messages of the least recently updated topics (see Evicted and Latest evicted).",
                format_bytes(rss),
                format_bytes(budget),
                format_bytes(reading.rss_limit_bytes),
                format_bytes(target),
            ));
    } else {
        ui.label(text).on_hover_text(format!(
            "Payloads and bookkeeping held by the store, against the memory budget set in the settings. {process}"
        ));
    }
}
