//! The building simulator: a deterministic engine ([`Simulation`]) that turns the catalogue into
//! MQTT messages as time advances, and a runner thread ([`SimulatorHandle`]) that drives it
//! against the demo broker with a rumqttc client.
//!
//! Topics, as an aedifion edge device uses them:
//! - `lbg01/demo_building/<hash_id>`: Influx line protocol `<name> value=<float> <ns>` with
//!   the time of the simulated reading (bursts and batches carry past timestamps).
//! - Metadata, one JSON object per datapoint, goes two ways. aedifion documents metadata on
//!   the single topic `META/lbg01/demo_building`; a retained message there would be
//!   overwritten by the next datapoint, so those are sent *not retained*, at connect and every
//!   [`METADATA_REPEAT_SECS`]. Each object is also published *retained* on
//!   `META/lbg01/demo_building/<hash_id>` so that a subscriber arriving late still sees it.
//! - `CONTROLS/lbg01/demo_building` (and anything below): SWOP `NEWSPT` requests are answered
//!   with `ACKSPT` on the topic they came in on (see [`super::controls`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::thread::JoinHandle;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::building::{Cadence, DatapointSpec, Signal, catalogue};
use super::controls::{
    AckLog, ControlMessage, RequestedValue, SetpointOutcome, SetpointRequest, SetpointState,
    ackspt_json, classify,
};
use super::signals::{SignalState, round_to};
use super::{CONTROLS_TOPIC, DATA_TOPIC_PREFIX, HASH_ID_LENGTH, MAX_PAYLOAD_BYTES, META_TOPIC};
use crate::model::aedifion::hash_id::hash_id;
use crate::model::decode::influx::write_aedifion_value;
use crate::model::time::{Nanos, now_nanos};

/// How often the non-retained metadata on the project topic is repeated.
pub const METADATA_REPEAT_SECS: u64 = 60;

/// If the simulator falls further behind than this (a suspended laptop), it skips readings
/// instead of flooding the broker with the backlog.
pub const MAX_CATCH_UP_NANOS: Nanos = 10 * NANOS_PER_SEC;

/// Every datapoint publishes for the first time within this time after the start.
pub const FIRST_PUBLICATION_WITHIN_NANOS: Nanos = 5 * NANOS_PER_SEC;

/// Client id of the simulator's MQTT connection.
pub const SIMULATOR_CLIENT_ID: &str = "TopicScopeDemoSimulator";

const NANOS_PER_SEC: Nanos = 1_000_000_000;
const NANOS_PER_MILLI: Nanos = 1_000_000;

/// How often the runner advances the simulation.
const TICK_MILLIS: u64 = 50;

/// Pause before the runner reconnects after a connection error.
const RECONNECT_DELAY_MILLIS: u64 = 500;

/// Bound of the rumqttc request channel. Publishing never waits: when it is full (broker
/// gone) messages are dropped and counted.
const REQUEST_CHANNEL_CAPACITY: usize = 4_096;

/// One message the simulator wants published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub topic: String,
    pub payload: String,
    pub retained: bool,
}

/// The deterministic engine: given a seed and a start time, the same calls produce the same
/// messages, however the time steps are chunked.
pub struct Simulation {
    datapoints: Vec<DatapointSpec>,
    hash_ids: Vec<String>,
    states: Vec<SignalState>,
    /// The time each datapoint is due next; heap entries that disagree are stale.
    next_due_nanos: Vec<Nanos>,
    queue: BinaryHeap<Reverse<(Nanos, usize)>>,
    start_nanos: Nanos,
    acks: AckLog,
}

impl Simulation {
    /// A simulation of the demo building starting at `start_nanos`.
    pub fn new(seed: u64, start_nanos: Nanos) -> Self {
        let datapoints = catalogue();
        let hash_ids = datapoints
            .iter()
            .map(|spec| hash_id(&spec.name, HASH_ID_LENGTH))
            .collect();
        let states = (0..datapoints.len())
            .map(|index| SignalState::new(datapoint_seed(seed, index)))
            .collect();
        let mut schedule_rng = StdRng::seed_from_u64(seed);
        let next_due_nanos: Vec<Nanos> = datapoints
            .iter()
            .map(|spec| {
                let interval = interval_nanos(spec.cadence);
                start_nanos
                    + schedule_rng.random_range(0..interval.min(FIRST_PUBLICATION_WITHIN_NANOS))
            })
            .collect();
        let queue = next_due_nanos
            .iter()
            .enumerate()
            .map(|(index, due)| Reverse((*due, index)))
            .collect();
        Self {
            datapoints,
            hash_ids,
            states,
            next_due_nanos,
            queue,
            start_nanos,
            acks: AckLog::default(),
        }
    }

    /// The simulated datapoints, in catalogue order.
    pub fn datapoints(&self) -> &[DatapointSpec] {
        &self.datapoints
    }

    /// The topic a datapoint's readings are published on.
    pub fn data_topic(&self, index: usize) -> Option<String> {
        self.hash_ids
            .get(index)
            .map(|id| format!("{DATA_TOPIC_PREFIX}/{id}"))
    }

    /// Catalogue index of the datapoint called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.datapoints.iter().position(|spec| spec.name == name)
    }

    /// The value the datapoint shows now (setpoints: their schedule level or written value).
    pub fn current_value(&self, index: usize, timestamp_nanos: Nanos) -> Option<f64> {
        let spec = self.datapoints.get(index)?;
        let state = self.states.get(index)?;
        match spec.signal {
            Signal::Stepped { .. } => Some(state.current(&spec.signal, timestamp_nanos)),
            _ => state.last_value(),
        }
    }

    /// Appends to `out` every reading due up to and including `now_nanos`, in time order.
    pub fn advance_to(&mut self, now_nanos: Nanos, out: &mut Vec<Outgoing>) {
        while let Some(&Reverse((due, index))) = self.queue.peek() {
            if due > now_nanos {
                break;
            }
            self.queue.pop();
            if self.next_due_nanos.get(index) != Some(&due) {
                continue;
            }
            let due = self.skip_backlog(index, due, now_nanos);
            self.publish_due(index, due, out);
            let next = due + interval_nanos(self.datapoints[index].cadence);
            self.next_due_nanos[index] = next;
            self.queue.push(Reverse((next, index)));
        }
    }

    /// Moves a due time that lies too far in the past forward by whole intervals.
    fn skip_backlog(&mut self, index: usize, due: Nanos, now_nanos: Nanos) -> Nanos {
        let behind = now_nanos - MAX_CATCH_UP_NANOS - due;
        if behind <= 0 {
            return due;
        }
        let interval = interval_nanos(self.datapoints[index].cadence);
        due + (behind / interval + 1) * interval
    }

    fn publish_due(&mut self, index: usize, due: Nanos, out: &mut Vec<Outgoing>) {
        let cadence = self.datapoints[index].cadence;
        let Some(topic) = self.data_topic(index) else {
            return;
        };
        match cadence {
            Cadence::Periodic { .. } => {
                if let Some(line) = self.reading_line(index, due) {
                    out.push(Outgoing {
                        topic,
                        payload: line,
                        retained: false,
                    });
                }
            }
            Cadence::Intermittent {
                active_secs,
                quiet_secs,
                ..
            } => {
                let cycle = i64::from(active_secs + quiet_secs).max(1) * NANOS_PER_SEC;
                let active = (due - self.start_nanos).rem_euclid(cycle)
                    < i64::from(active_secs) * NANOS_PER_SEC;
                if active && let Some(line) = self.reading_line(index, due) {
                    out.push(Outgoing {
                        topic,
                        payload: line,
                        retained: false,
                    });
                }
            }
            Cadence::Burst { count, every_secs } => {
                for timestamp in spread_timestamps(due, count, every_secs) {
                    if let Some(line) = self.reading_line(index, timestamp) {
                        out.push(Outgoing {
                            topic: topic.clone(),
                            payload: line,
                            retained: false,
                        });
                    }
                }
            }
            Cadence::Batch { count, every_secs } => {
                let lines: Vec<String> = spread_timestamps(due, count, every_secs)
                    .filter_map(|timestamp| self.reading_line(index, timestamp))
                    .collect();
                if !lines.is_empty() {
                    out.push(Outgoing {
                        topic,
                        payload: lines.join("\n"),
                        retained: false,
                    });
                }
            }
        }
    }

    /// Samples a datapoint at `timestamp_nanos` and writes its line of line protocol.
    fn reading_line(&mut self, index: usize, timestamp_nanos: Nanos) -> Option<String> {
        let leader_value = match self.datapoints.get(index)?.signal {
            Signal::Follow { leader, .. } => self.current_value(leader, timestamp_nanos),
            _ => None,
        };
        let spec = self.datapoints.get(index)?;
        let value = self
            .states
            .get_mut(index)?
            .sample(&spec.signal, timestamp_nanos, leader_value);
        let published = round_to(value, spec.decimals);
        match write_aedifion_value(&spec.name, published, timestamp_nanos) {
            Ok(line) => Some(line),
            Err(error) => {
                tracing::warn!(datapoint = %spec.name, %error, "demo reading not written");
                None
            }
        }
    }

    /// Metadata of every datapoint, retained on `META/lbg01/demo_building/<hash_id>`.
    pub fn retained_metadata(&self) -> Vec<Outgoing> {
        self.datapoints
            .iter()
            .zip(&self.hash_ids)
            .map(|(spec, id)| Outgoing {
                topic: format!("{META_TOPIC}/{id}"),
                payload: metadata_json(spec, id).to_string(),
                retained: true,
            })
            .collect()
    }

    /// Metadata of every datapoint on the documented project topic `META/lbg01/demo_building`,
    /// not retained (they would overwrite each other).
    pub fn project_metadata(&self) -> Vec<Outgoing> {
        self.datapoints
            .iter()
            .zip(&self.hash_ids)
            .map(|(spec, id)| Outgoing {
                topic: META_TOPIC.to_owned(),
                payload: metadata_json(spec, id).to_string(),
                retained: false,
            })
            .collect()
    }

    /// Handles a message received on a `CONTROLS/…` topic and returns the `ACKSPT` to publish,
    /// if one is due. A repeated `reference` gets the earlier answer again, without a write.
    pub fn handle_control(
        &mut self,
        topic: &str,
        payload: &[u8],
        now_nanos: Nanos,
    ) -> Option<Outgoing> {
        let (reference, acknowledge, outcome) = match classify(payload) {
            ControlMessage::Ignored => return None,
            ControlMessage::Malformed {
                reference,
                acknowledge,
                reason,
            } => {
                if let Some(earlier) = reference.as_deref().and_then(|r| self.acks.answer_for(r)) {
                    return acknowledge.then(|| ack_message(topic, earlier.to_owned()));
                }
                (
                    reference,
                    acknowledge,
                    SetpointOutcome::failed(format!("Refused: {reason}.")),
                )
            }
            ControlMessage::Setpoint(request) => {
                if let Some(earlier) = request
                    .reference
                    .as_deref()
                    .and_then(|r| self.acks.answer_for(r))
                {
                    return request
                        .acknowledge
                        .then(|| ack_message(topic, earlier.to_owned()));
                }
                let outcome = self.apply_setpoint(&request, now_nanos);
                (request.reference, request.acknowledge, outcome)
            }
        };
        let ack = ackspt_json(reference.as_deref(), &outcome);
        if let Some(reference) = &reference {
            self.acks.remember(reference, ack.clone());
        }
        acknowledge.then(|| ack_message(topic, ack))
    }

    /// Validates a request against the catalogue and, unless it is a dry run, writes it: the
    /// setpoint holds the value and is published at once; its followers converge towards it.
    fn apply_setpoint(&mut self, request: &SetpointRequest, now_nanos: Nanos) -> SetpointOutcome {
        let name = &request.datapoint;
        let Some(index) = self.index_of(name) else {
            return SetpointOutcome::failed(format!(
                "Refused: unknown datapoint '{name}'. The demo building has no datapoint of that name."
            ));
        };
        let spec = &self.datapoints[index];
        let Some(range) = spec.write_range else {
            return SetpointOutcome::failed(format!(
                "Refused: datapoint '{name}' is read-only ({}). Write to a setpoint instead.",
                spec.objtype.as_str()
            ));
        };
        let previous = self.current_value(index, now_nanos);
        let units = spec.units;
        let new_value = match request.value {
            RequestedValue::Number(value) if !range.contains(value) => {
                return SetpointOutcome::failed(format!(
                    "Refused: value {value} is outside the plausible range {} to {} {units} of '{name}'.",
                    range.min, range.max
                ));
            }
            RequestedValue::Number(value) => Some(value),
            RequestedValue::Relinquish => None,
        };
        let detail = json!({
            "datapoint": name,
            "priority": request.priority,
            "previous_value": previous,
            "requested_value": new_value,
        });
        let described = match new_value {
            Some(value) => format!("value {value} {units} at priority {}", request.priority),
            None => format!("relinquish of priority {}", request.priority),
        };
        if request.dry_run {
            return SetpointOutcome {
                state: SetpointState::Validated,
                message: format!("Dry run: {described} is valid; nothing was written."),
                detail: Some(detail),
            };
        }
        self.states[index].set_override(new_value);
        // Publish the new value right away instead of at the next scheduled reading.
        self.next_due_nanos[index] = now_nanos;
        self.queue.push(Reverse((now_nanos, index)));
        SetpointOutcome {
            state: SetpointState::Written,
            message: format!("Successfully wrote {described}."),
            detail: Some(detail),
        }
    }
}

fn ack_message(topic: &str, payload: String) -> Outgoing {
    Outgoing {
        topic: topic.to_owned(),
        payload,
        retained: false,
    }
}

/// A different, well-mixed seed per datapoint (SplitMix64 step).
fn datapoint_seed(seed: u64, index: usize) -> u64 {
    let mut mixed = seed
        ^ (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^ (mixed >> 31)
}

fn interval_nanos(cadence: Cadence) -> Nanos {
    i64::try_from(cadence.interval_millis()).unwrap_or(i64::MAX / NANOS_PER_MILLI) * NANOS_PER_MILLI
}

/// `count` timestamps evenly spread over the `every_secs` before `due`, the last one at `due`.
fn spread_timestamps(due: Nanos, count: u32, every_secs: u32) -> impl Iterator<Item = Nanos> {
    let count = i64::from(count.max(1));
    let span = i64::from(every_secs) * NANOS_PER_SEC;
    (1..=count).map(move |i| due - span + i * span / count)
}

/// The metadata object of one datapoint, with the keys aedifion documents (`name`, `objtype`,
/// `units`, `description`, `source`) and BACnet extras as an edge device sends them.
pub fn metadata_json(spec: &DatapointSpec, hash_id: &str) -> Value {
    let mut meta = json!({
        "name": spec.name,
        "objtype": spec.objtype.as_str(),
        "objinstance": spec.objinstance,
        "units": spec.units,
        "description": spec.description,
        // BACnet Log_Interval is in hundredths of a second (the reference's "6000" is 60 s).
        "logInterval": spec.cadence.interval_millis().div_ceil(10).to_string(),
        "eventState": "normal",
        "statusFlags": "[0, 0, 0, 0]",
        "outOfService": "False",
        "address": format!("192.0.2.{}", spec.device_instance % 250 + 1),
        "bacnet_id": spec.device_instance.to_string(),
        "system": spec.system,
        "hash_id": hash_id,
        "source": "BACnet",
    });
    if let (Some(range), Value::Object(fields)) = (spec.write_range, &mut meta) {
        fields.insert("writable".to_owned(), Value::from("True"));
        fields.insert("setpoint_min_value".to_owned(), Value::from(range.min));
        fields.insert("setpoint_max_value".to_owned(), Value::from(range.max));
        fields.insert("relinquishDefault".to_owned(), Value::from("null"));
    }
    meta
}

/// The running simulator thread. Dropping it stops the simulator and waits for the thread.
pub struct SimulatorHandle {
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SimulatorHandle {
    /// Starts the simulator on its own named thread; it connects to the broker on
    /// `127.0.0.1:port` and keeps reconnecting until dropped.
    pub fn spawn(port: u16, seed: u64) -> std::io::Result<Self> {
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("demo-simulator".to_owned())
            .spawn(move || run_thread(port, seed, shutdown_rx))?;
        Ok(Self {
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// True while the simulator thread runs.
    pub fn is_running(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }
}

impl Drop for SimulatorHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // An error means the thread has already ended; joining still tidies up.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the demo simulator thread panicked");
        }
    }
}

fn run_thread(port: u16, seed: u64, shutdown: tokio::sync::oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "demo simulator could not start its async runtime");
            return;
        }
    };
    runtime.block_on(run(port, seed, shutdown));
}

/// What the connection task reports to the simulation loop.
enum ConnectionEvent {
    Connected,
    Disconnected,
    Control {
        topic: String,
        payload: bytes::Bytes,
    },
}

async fn run(port: u16, seed: u64, mut shutdown: tokio::sync::oneshot::Receiver<()>) {
    use rumqttc::{AsyncClient, MqttOptions, QoS};

    let mut options = MqttOptions::new(SIMULATOR_CLIENT_ID, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    options.set_max_packet_size(MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES);
    let (client, eventloop) = AsyncClient::new(options, REQUEST_CHANNEL_CAPACITY);
    let (events_tx, mut events) = tokio::sync::mpsc::channel(256);
    let connection = tokio::spawn(drive_connection(eventloop, events_tx));

    let mut publisher = Publisher {
        client,
        connected: false,
        dropped: 0,
    };
    let mut simulation = Simulation::new(seed, now_nanos());
    let mut tick = tokio::time::interval(Duration::from_millis(TICK_MILLIS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut metadata_repeat = tokio::time::interval(Duration::from_secs(METADATA_REPEAT_SECS));
    metadata_repeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut due = Vec::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tick.tick() => {
                due.clear();
                simulation.advance_to(now_nanos(), &mut due);
                publisher.publish_all(&due, QoS::AtMostOnce);
            }
            _ = metadata_repeat.tick() => publisher.publish_all(&simulation.project_metadata(), QoS::AtMostOnce),
            event = events.recv() => match event {
                Some(ConnectionEvent::Connected) => {
                    publisher.connected = true;
                    // `…/#` also matches the project topic itself (MQTT 3.1.1 §4.7.1.2); a
                    // second subscription to it would deliver every request twice.
                    if let Err(error) = publisher.client.try_subscribe(format!("{CONTROLS_TOPIC}/#"), QoS::AtLeastOnce) {
                        tracing::warn!(%error, "demo simulator could not subscribe to its controls topic");
                    }
                    publisher.publish_all(&simulation.retained_metadata(), QoS::AtLeastOnce);
                    publisher.publish_all(&simulation.project_metadata(), QoS::AtMostOnce);
                }
                Some(ConnectionEvent::Disconnected) => publisher.connected = false,
                Some(ConnectionEvent::Control { topic, payload }) => {
                    if let Some(ack) = simulation.handle_control(&topic, &payload, now_nanos()) {
                        publisher.publish_all(std::slice::from_ref(&ack), QoS::AtLeastOnce);
                    }
                }
                None => break,
            },
        }
    }
    // Best effort: the broker forgets the session either way.
    let _ = publisher.client.try_disconnect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    connection.abort();
    tracing::debug!(dropped = publisher.dropped, "demo simulator stopped");
}

/// Publishes without ever waiting, so the loop stays responsive to shutdown.
struct Publisher {
    client: rumqttc::AsyncClient,
    connected: bool,
    dropped: u64,
}

impl Publisher {
    fn publish_all(&mut self, messages: &[Outgoing], qos: rumqttc::QoS) {
        if !self.connected {
            return;
        }
        for message in messages {
            let result = self.client.try_publish(
                message.topic.as_str(),
                qos,
                message.retained,
                message.payload.as_bytes(),
            );
            if result.is_err() {
                self.dropped += 1;
                if self.dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped = self.dropped,
                        "demo simulator is dropping messages: request queue full"
                    );
                }
            }
        }
    }
}

async fn drive_connection(
    mut eventloop: rumqttc::EventLoop,
    events: tokio::sync::mpsc::Sender<ConnectionEvent>,
) {
    use rumqttc::{Event, Packet};

    loop {
        let event = match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => ConnectionEvent::Connected,
            Ok(Event::Incoming(Packet::Publish(publish)))
                if publish.topic.starts_with(CONTROLS_TOPIC) =>
            {
                ConnectionEvent::Control {
                    topic: publish.topic,
                    payload: publish.payload,
                }
            }
            Ok(_) => continue,
            Err(error) => {
                tracing::debug!(%error, "demo simulator connection error; reconnecting");
                if events.send(ConnectionEvent::Disconnected).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(RECONNECT_DELAY_MILLIS)).await;
                continue;
            }
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::influx::parse_payload;

    /// Monday 2024-03-04 10:00 local time.
    const START: Nanos = 1_709_542_800 * NANOS_PER_SEC;

    fn run_for(simulation: &mut Simulation, secs: i64, step_millis: i64) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let end = START + secs * NANOS_PER_SEC;
        let mut now = START;
        while now < end {
            simulation.advance_to(now, &mut out);
            now += step_millis * NANOS_PER_MILLI;
        }
        simulation.advance_to(end, &mut out);
        out
    }

    #[test]
    fn metadata_log_interval_is_in_hundredths_of_a_second_like_bacnet() {
        let catalogue = crate::demo::building::catalogue();
        for spec in &catalogue {
            let meta = metadata_json(spec, "abcdefgh");
            let text = meta["logInterval"]
                .as_str()
                .expect("logInterval is a string");
            let nanos =
                crate::model::aedifion::staleness::log_interval_nanos(text).expect("parses");
            let millis = i64::try_from(spec.cadence.interval_millis()).expect("fits");
            // Rounded up to whole hundredths, so within 10 ms of the real cadence.
            assert!(
                (nanos / NANOS_PER_MILLI - millis).abs() < 10,
                "{}: logInterval {text} vs {millis} ms",
                spec.name
            );
        }
    }

    #[test]
    fn every_datapoint_publishes_within_the_first_ten_seconds() {
        let mut simulation = Simulation::new(1, START);
        let out = run_for(&mut simulation, 10, 100);
        let topics: std::collections::HashSet<_> =
            out.iter().map(|message| message.topic.as_str()).collect();
        let expected = (0..simulation.datapoints().len()).filter(|index| {
            !matches!(
                simulation.datapoints()[*index].cadence,
                Cadence::Intermittent { .. }
            )
        });
        for index in expected {
            let topic = simulation.data_topic(index).unwrap();
            assert!(
                topics.contains(topic.as_str()),
                "{} never published",
                simulation.datapoints()[index].name
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_messages_however_time_is_chunked() {
        let coarse = run_for(&mut Simulation::new(42, START), 60, 1_000);
        let fine = run_for(&mut Simulation::new(42, START), 60, 37);
        assert_eq!(coarse, fine);
        let other_seed = run_for(&mut Simulation::new(43, START), 60, 1_000);
        assert_ne!(coarse, other_seed);
    }

    #[test]
    fn every_payload_is_line_protocol_whose_measurement_hashes_to_the_topic() {
        let mut simulation = Simulation::new(7, START);
        let out = run_for(&mut simulation, 35, 250);
        assert!(out.len() > 1_000, "only {} messages", out.len());
        for message in &out {
            let postfix = message.topic.strip_prefix("lbg01/demo_building/").unwrap();
            for line in parse_payload(&message.payload) {
                let line = line.unwrap_or_else(|error| panic!("{:?}: {error}", message.payload));
                assert_eq!(hash_id(&line.measurement, 8), postfix);
                assert!(
                    line.timestamp_nanos
                        .is_some_and(|t| t <= START + 36 * NANOS_PER_SEC)
                );
                assert_eq!(line.fields.len(), 1);
                assert_eq!(line.fields[0].0, "value");
            }
        }
    }

    #[test]
    fn bursts_batches_and_quiet_periods_all_occur() {
        let mut simulation = Simulation::new(3, START);
        let out = run_for(&mut simulation, 400, 500);
        let burst_index = simulation.index_of("bacnet221-Energy_SI").unwrap();
        let burst_topic = simulation.data_topic(burst_index).unwrap();
        let burst_messages = out
            .iter()
            .filter(|message| message.topic == burst_topic)
            .count();
        assert!(burst_messages >= 20 * 13, "{burst_messages} burst messages");

        let batch_index = simulation.index_of("Wasserzähler Haupt m³").unwrap();
        let batch_topic = simulation.data_topic(batch_index).unwrap();
        let batch = out
            .iter()
            .find(|message| message.topic == batch_topic)
            .unwrap();
        assert_eq!(parse_payload(&batch.payload).len(), 6);

        let gas_index = simulation.index_of("Gaszähler Kessel").unwrap();
        let gas_topic = simulation.data_topic(gas_index).unwrap();
        let gas_times: Vec<Nanos> = out
            .iter()
            .filter(|message| message.topic == gas_topic)
            .filter_map(|message| {
                parse_payload(&message.payload)[0]
                    .as_ref()
                    .ok()?
                    .timestamp_nanos
            })
            .collect();
        let longest_gap = gas_times
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .max()
            .unwrap();
        assert!(
            longest_gap >= 170 * NANOS_PER_SEC,
            "gas meter never went quiet"
        );
    }

    #[test]
    fn metadata_has_the_documented_keys_for_every_datapoint() {
        let simulation = Simulation::new(1, START);
        let retained = simulation.retained_metadata();
        let project = simulation.project_metadata();
        assert_eq!(retained.len(), simulation.datapoints().len());
        assert_eq!(project.len(), simulation.datapoints().len());
        for (message, spec) in retained.iter().zip(simulation.datapoints()) {
            assert!(message.retained);
            assert_eq!(
                message.topic,
                format!("META/lbg01/demo_building/{}", hash_id(&spec.name, 8))
            );
            let meta: Value = serde_json::from_str(&message.payload).unwrap();
            for key in ["name", "objtype", "units", "description", "source"] {
                assert!(meta.get(key).is_some(), "{key} missing in {meta}");
            }
            assert_eq!(meta["name"], spec.name.as_str());
        }
        assert!(
            project
                .iter()
                .all(|message| !message.retained && message.topic == "META/lbg01/demo_building")
        );
    }

    fn newspt(datapoint: &str, value: Value, reference: &str) -> Vec<u8> {
        json!({"type": "NEWSPT", "swop_version": "0.2", "datapoint": datapoint, "value": value,
               "priority": 13, "acknowledge": true, "reference": reference})
        .to_string()
        .into_bytes()
    }

    fn ack_of(message: Option<Outgoing>) -> Value {
        serde_json::from_str(&message.expect("an ACKSPT").payload).unwrap()
    }

    const SETPOINT: &str = "bacnet100-4120-Real-room-temperature-setpoint-RTs_real";
    const ROOM_TEMPERATURE: &str = "bacnet100-4120-Real-room-temperature-RT_real";

    #[test]
    fn a_valid_setpoint_is_written_acknowledged_and_followed_by_the_room() {
        let mut simulation = Simulation::new(5, START);
        let mut out = Vec::new();
        simulation.advance_to(START + 10 * NANOS_PER_SEC, &mut out);
        let now = START + 10 * NANOS_PER_SEC;
        let reply =
            simulation.handle_control(CONTROLS_TOPIC, &newspt(SETPOINT, json!(26.5), "ref-1"), now);
        let reply_topic = reply.as_ref().map(|message| message.topic.clone());
        let ack = ack_of(reply);
        assert_eq!(reply_topic.as_deref(), Some(CONTROLS_TOPIC));
        assert_eq!(ack["reference"], "ref-1");
        assert_eq!(ack["success"], true);
        assert_eq!(ack["state"], "written");

        let setpoint = simulation.index_of(SETPOINT).unwrap();
        assert_eq!(
            simulation.current_value(setpoint, now + NANOS_PER_SEC),
            Some(26.5)
        );
        out.clear();
        simulation.advance_to(now, &mut out);
        let setpoint_topic = simulation.data_topic(setpoint).unwrap();
        assert!(
            out.iter().any(|message| message.topic == setpoint_topic
                && message.payload.contains("value=26.5 "))
        );

        let room = simulation.index_of(ROOM_TEMPERATURE).unwrap();
        simulation.advance_to(now + 3_600 * NANOS_PER_SEC, &mut out);
        let room_value = simulation.current_value(room, now).unwrap();
        assert!((room_value - 26.2).abs() < 0.5, "room at {room_value}");
    }

    #[test]
    fn unknown_read_only_and_out_of_range_writes_are_refused_with_a_reason() {
        let mut simulation = Simulation::new(5, START);
        let cases = [
            ("no-such-datapoint", json!(20.0), "unknown datapoint"),
            (ROOM_TEMPERATURE, json!(20.0), "read-only"),
            (SETPOINT, json!(95.0), "outside the plausible range"),
        ];
        for (index, (datapoint, value, reason)) in cases.into_iter().enumerate() {
            let reference = format!("bad-{index}");
            let ack = ack_of(simulation.handle_control(
                CONTROLS_TOPIC,
                &newspt(datapoint, value, &reference),
                START,
            ));
            assert_eq!(ack["success"], false);
            assert_eq!(ack["state"], "failed");
            assert_eq!(ack["reference"], reference.as_str());
            assert!(ack["message"].as_str().unwrap().contains(reason), "{ack}");
        }
    }

    #[test]
    fn a_duplicate_reference_gets_the_same_ack_without_writing_again() {
        let mut simulation = Simulation::new(5, START);
        let first = simulation
            .handle_control(CONTROLS_TOPIC, &newspt(SETPOINT, json!(22.0), "dup"), START)
            .unwrap();
        // Same reference, different value: the earlier answer stands and nothing is written.
        let second = simulation
            .handle_control(CONTROLS_TOPIC, &newspt(SETPOINT, json!(24.0), "dup"), START)
            .unwrap();
        assert_eq!(first, second);
        let setpoint = simulation.index_of(SETPOINT).unwrap();
        assert_eq!(simulation.current_value(setpoint, START), Some(22.0));
    }

    #[test]
    fn a_dry_run_validates_without_writing_and_acks_are_not_answered() {
        let mut simulation = Simulation::new(5, START);
        let setpoint = simulation.index_of(SETPOINT).unwrap();
        let before = simulation.current_value(setpoint, START);
        let request = json!({"type": "NEWSPT", "swop_version": "0.2", "datapoint": SETPOINT, "value": 27.0,
                             "acknowledge": true, "dry_run": true, "reference": "dry"});
        let ack = ack_of(simulation.handle_control(
            CONTROLS_TOPIC,
            request.to_string().as_bytes(),
            START,
        ));
        assert_eq!(ack["success"], true);
        assert_eq!(ack["state"], "validated");
        assert_eq!(simulation.current_value(setpoint, START), before);

        let own_ack = ackspt_json(Some("x"), &SetpointOutcome::failed("no"));
        assert_eq!(
            simulation.handle_control(CONTROLS_TOPIC, own_ack.as_bytes(), START),
            None
        );
    }

    #[test]
    fn a_request_without_acknowledge_is_carried_out_silently() {
        let mut simulation = Simulation::new(5, START);
        let request =
            json!({"type": "NEWSPT", "swop_version": "0.2", "datapoint": SETPOINT, "value": 19.0});
        assert_eq!(
            simulation.handle_control(CONTROLS_TOPIC, request.to_string().as_bytes(), START),
            None
        );
        let setpoint = simulation.index_of(SETPOINT).unwrap();
        assert_eq!(simulation.current_value(setpoint, START), Some(19.0));
    }

    #[test]
    fn a_simulator_that_fell_far_behind_skips_the_backlog() {
        let mut simulation = Simulation::new(5, START);
        let mut out = Vec::new();
        simulation.advance_to(START + 3_600 * NANOS_PER_SEC, &mut out);
        // Without skipping, an hour of the 10 Hz duct pressure alone would be 36 000 messages.
        assert!(
            out.len() < 5_000,
            "{} messages after a one-hour stall",
            out.len()
        );
    }
}
