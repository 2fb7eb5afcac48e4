//! Sessions: one data source feeding one store. The window holds sessions (one today), headless
//! mode holds one, and a second source (another connection, or a recording opened offline) is a
//! matter of holding a second [`Session`].
//!
//! A session's [`Session::pump`] is the only way messages reach its store: the window calls it
//! once per frame before drawing, headless mode in its loop, both with a time budget. It first
//! lets the memory governor take its once-per-second reading, then applies what the source has
//! waiting until the source is empty or the budget is spent.
//!
//! Depends on: model, mqtt, process. Never ui, app, commands or cli (`tests/layering.rs`).

pub mod connection;
pub mod governor;
pub mod wake;

use std::time::{Duration, Instant};

use crate::model::decode::message::Message;
use crate::model::store::Store;
use crate::mqtt::{ConnectionStatus, InboxStats};

pub use connection::{ConnectOptions, Connection, ConnectionError};
pub use governor::MemoryGovernor;

/// Messages taken from a source per lock; the pump looks at the clock after each batch. Small,
/// so a frame keeps to its budget: a new topic among 300,000 costs about 20 µs to apply, and
/// batches of 1,024 overshot the 6 ms budget to 26-35 ms (p99) while a retained burst loaded.
pub const PUMP_BATCH: usize = 128;

/// Where a session's messages come from.
#[derive(Debug)]
pub enum Source {
    /// A live broker connection: its worker, inbox and status.
    Live(Connection),
    // A recording opened offline is the next kind (issue #11): it hands records from a file to
    // the pump the way a connection hands messages from its inbox, and has no writes.
}

impl Source {
    /// The live connection, if this source is one.
    pub fn connection(&self) -> Option<&Connection> {
        match self {
            Source::Live(connection) => Some(connection),
        }
    }

    /// The live connection mutably, if this source is one.
    pub fn connection_mut(&mut self) -> Option<&mut Connection> {
        match self {
            Source::Live(connection) => Some(connection),
        }
    }

    /// Messages the source holds before it makes its producer wait (sizes the memory
    /// governor's room for them).
    fn capacity_messages(&self) -> usize {
        match self {
            Source::Live(connection) => connection.inbox().capacity(),
        }
    }

    /// Takes up to `max` waiting messages into `into`; returns how many.
    fn take(&mut self, max: usize, into: &mut Vec<Message>) -> usize {
        match self {
            Source::Live(connection) => connection.inbox().drain_into(max, into),
        }
    }

    /// True if messages are still waiting.
    fn has_waiting(&self) -> bool {
        self.waiting() > 0
    }

    /// Messages waiting to be taken.
    fn waiting(&self) -> usize {
        match self {
            Source::Live(connection) => {
                usize::try_from(connection.inbox_stats().pending).unwrap_or(usize::MAX)
            }
        }
    }
}

/// What one [`Session::pump`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PumpReport {
    /// Messages applied to the store.
    pub applied: usize,
    /// The budget ran out with messages still waiting: pump again at once.
    pub more_waiting: bool,
}

/// A data source and the store it feeds, with the governor that holds the store to the memory
/// budget measured on the whole process.
#[derive(Debug)]
pub struct Session {
    source: Option<Source>,
    store: Store,
    governor: MemoryGovernor,
    /// Reused between pumps so a pump allocates nothing.
    buffer: Vec<Message>,
}

impl Session {
    /// A session feeding `store` from `source`.
    pub fn new(source: Source, store: Store) -> Self {
        Self {
            source: Some(source),
            ..Self::without_source(store)
        }
    }

    /// A session with a store but nothing feeding it yet (the window before its first connect).
    pub fn without_source(store: Store) -> Self {
        Self {
            source: None,
            store,
            governor: MemoryGovernor::new(),
            buffer: Vec::with_capacity(PUMP_BATCH),
        }
    }

    /// Governor reading (when due), then messages from the source into the store until the
    /// source is empty or `budget` is spent.
    pub fn pump(&mut self, budget: Duration) -> PumpReport {
        let capacity = self.source.as_ref().map_or(0, Source::capacity_messages);
        self.governor.tick(&mut self.store, capacity);
        let Some(source) = &mut self.source else {
            return PumpReport::default();
        };
        if let Some(connection) = source.connection_mut() {
            connection.reap();
        }
        pump_into(source, &mut self.store, &mut self.buffer, budget)
    }

    /// The store the source feeds.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, mutably (actions the window applies after drawing, limits, clear).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The source, if one is attached.
    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    /// The live connection, if the source is one.
    pub fn connection(&self) -> Option<&Connection> {
        self.source.as_ref()?.connection()
    }

    /// The live connection mutably, if the source is one.
    pub fn connection_mut(&mut self) -> Option<&mut Connection> {
        self.source.as_mut()?.connection_mut()
    }

    /// Replaces the source (a reconnect keeps the store). What the old source still holds is
    /// applied first, so a reconnect loses nothing already received; then the old one is
    /// dropped, which stops a live connection's worker.
    pub fn set_source(&mut self, source: Source) {
        let Some(mut old) = self.source.replace(source) else {
            return;
        };
        if let Some(connection) = old.connection_mut() {
            connection.stop();
        }
        // Only what is held now: a stopping worker may still push a few, which go with it.
        let mut left = old.waiting();
        while left > 0 {
            self.buffer.clear();
            let taken = old.take(PUMP_BATCH.min(left), &mut self.buffer);
            if taken == 0 {
                break;
            }
            for message in self.buffer.drain(..) {
                self.store.apply(message);
            }
            left -= taken;
        }
    }

    /// The connection status of a live source.
    pub fn status(&self) -> Option<ConnectionStatus> {
        self.connection().map(Connection::status)
    }

    /// The inbox counters of a live source (zero otherwise).
    pub fn inbox_stats(&self) -> InboxStats {
        self.connection()
            .map(Connection::inbox_stats)
            .unwrap_or_default()
    }

    /// Takes the store out (headless mode writes its dump after the connection closed).
    pub fn into_store(self) -> Store {
        self.store
    }
}

/// Applies messages from `source` to `store` in batches of [`PUMP_BATCH`] until the source is
/// empty or `budget` is spent. `buffer` is reused between calls.
fn pump_into(
    source: &mut Source,
    store: &mut Store,
    buffer: &mut Vec<Message>,
    budget: Duration,
) -> PumpReport {
    let started = Instant::now();
    let mut report = PumpReport::default();
    loop {
        buffer.clear();
        let taken = source.take(PUMP_BATCH, buffer);
        for message in buffer.drain(..) {
            store.apply(message);
        }
        report.applied += taken;
        if taken < PUMP_BATCH {
            return report;
        }
        if started.elapsed() >= budget {
            report.more_waiting = source.has_waiting();
            return report;
        }
    }
}
