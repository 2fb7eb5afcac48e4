//! The worker thread.
//!
//! One named thread ("mqtt-worker") runs a current-thread tokio runtime with two futures side by
//! side: the connection driver, which only ever polls rumqttc's `EventLoop` (never cancelled
//! mid-packet while running), and the command server, which turns UI commands into rumqttc
//! requests. Both run on the same thread, so they share the subscription book through a
//! `RefCell` that is never borrowed across an `.await`.
//!
//! Backpressure: when the inbox is full the connection driver awaits room before polling the
//! event loop again ([`Inbox::push_or_wait`]), so TCP makes the broker wait; the command server
//! keeps running meanwhile (a Stop ends the wait at once). Two exceptions read on and drop the
//! oldest instead: a stalled consumer (the inbox's rule) and an overdue PINGRESP ([`PingWatch`]).

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, Request, SubscribeReasonCode,
};
use tokio::sync::mpsc;

use crate::model::config::profile::Profile;
use crate::model::config::secret::Password;
use crate::model::decode::decoder_override::DecoderOverrides;
use crate::model::decode::message::Message;
use crate::model::time::now_nanos;
use crate::model::topic::qos::Qos;
use crate::model::write::publish::{AuthorizedPublish, PublishId, PublishOutcome};

use super::backoff::Backoff;
use super::failure::{Failure, FailureContext, classify};
use super::inbox::Inbox;
use super::options::{
    DEFAULT_MAX_PACKET_BYTES, broker_label, effective_max_packet_bytes, mqtt_options,
};
use super::outcomes::{PublishPairing, PublishReports};
use super::status::{ConnectionState, FailureReason, StatusCell, SubscriptionState};
use super::subscriptions::{AddOutcome, SubscriptionBook};

/// Name of the worker thread (shows in debuggers and panic messages).
pub const WORKER_THREAD_NAME: &str = "mqtt-worker";

/// Commands waiting for the worker; `send` fails (returns false) rather than block when full.
pub const COMMAND_CHANNEL_CAPACITY: usize = 256;

/// How long a stopping worker waits for its DISCONNECT to reach the broker.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything needed to connect: the profile plus the secret, which is never stored in it.
#[derive(Clone)]
pub struct ConnectParams {
    /// The connection settings.
    pub profile: Profile,
    /// The password (from the keychain or asked at connect time); never logged, zeroed on drop.
    pub password: Option<Password>,
    /// Largest packet accepted in or out (rumqttc defaults to 10 KiB; we raise it).
    pub max_packet_bytes: usize,
}

impl ConnectParams {
    /// Params for `profile` with the default packet size limit ([`DEFAULT_MAX_PACKET_BYTES`]).
    pub fn new(profile: Profile, password: Option<Password>) -> Self {
        Self {
            profile,
            password,
            max_packet_bytes: DEFAULT_MAX_PACKET_BYTES,
        }
    }
}

impl std::fmt::Debug for ConnectParams {
    /// Redacts the password so params can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectParams")
            .field("profile", &self.profile)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("max_packet_bytes", &self.max_packet_bytes)
            .finish()
    }
}

/// Requests the UI sends to the worker (bounded channel, never blocks the UI).
#[derive(Debug, Clone)]
pub enum WorkerCommand {
    /// Subscribe to a filter (kept and re-subscribed after every reconnect).
    Subscribe { filter: String, qos: Qos },
    /// Stop receiving a filter.
    Unsubscribe { filter: String },
    /// Publish a message the write gate allowed and report its outcome in
    /// [`WorkerHandle::publish_reports`] (PUBACK, PUBCOMP, sent, not sent, or unknown). The
    /// only way to publish: there is no variant for a message the gate has not seen.
    PublishAuthorized(AuthorizedPublish),
    /// Disconnect cleanly and end the thread.
    Stop,
}

/// Counters of things the worker could not do, readable from any thread. Nothing is lost silently.
#[derive(Debug, Default)]
pub struct WorkerStats {
    oversize_packets_refused: AtomicU64,
    publishes_not_sent: AtomicU64,
    requests_not_queued: AtomicU64,
}

/// A copy of [`WorkerStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerCounters {
    /// Incoming packets refused because they exceeded the packet size limit (each one closes the
    /// connection, as rumqttc cannot skip a packet).
    pub oversize_packets_refused: u64,
    /// Publish commands dropped: not connected, payload over the limit, or rumqttc's queue full.
    pub publishes_not_sent: u64,
    /// Subscribe/unsubscribe requests rumqttc's full queue refused (retried at the next connection).
    pub requests_not_queued: u64,
}

impl WorkerStats {
    /// The current counts.
    pub fn snapshot(&self) -> WorkerCounters {
        WorkerCounters {
            oversize_packets_refused: self.oversize_packets_refused.load(Ordering::Relaxed),
            publishes_not_sent: self.publishes_not_sent.load(Ordering::Relaxed),
            requests_not_queued: self.requests_not_queued.load(Ordering::Relaxed),
        }
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The UI's side of a running worker. Dropping it stops the worker (without waiting for it).
pub struct WorkerHandle {
    /// Messages received, decoded, waiting for the UI.
    pub inbox: Arc<Inbox>,
    /// Latest connection status.
    pub status: Arc<StatusCell>,
    /// What the worker could not do.
    pub stats: Arc<WorkerStats>,
    /// Outcomes of [`WorkerCommand::PublishAuthorized`] publishes, for the UI to poll.
    pub publish_reports: Arc<PublishReports>,
    commands: mpsc::Sender<WorkerCommand>,
    thread: std::thread::JoinHandle<()>,
}

impl WorkerHandle {
    /// Starts the worker thread and returns at once; connection progress shows in `status`.
    pub fn spawn(params: ConnectParams, inbox: Arc<Inbox>) -> std::io::Result<Self> {
        let status = Arc::new(StatusCell::new(broker_label(&params.profile)));
        let stats = Arc::new(WorkerStats::default());
        let (commands, command_receiver) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
        let publish_reports = Arc::new(PublishReports::default());
        let decoders = decoder_overrides(&params.profile);
        let worker = Worker {
            broker: broker_label(&params.profile),
            max_packet_bytes: effective_max_packet_bytes(params.max_packet_bytes),
            params,
            inbox: inbox.clone(),
            status: status.clone(),
            stats: stats.clone(),
            publish_reports: publish_reports.clone(),
            pairing: RefCell::new(PublishPairing::default()),
            decoders,
        };
        let thread = std::thread::Builder::new()
            .name(WORKER_THREAD_NAME.to_owned())
            .spawn(move || worker.run(command_receiver))?;
        Ok(Self {
            inbox,
            status,
            stats,
            publish_reports,
            commands,
            thread,
        })
    }

    /// Sends a command without blocking; returns false if the worker is gone or its queue is full.
    pub fn send(&self, command: WorkerCommand) -> bool {
        self.commands.try_send(command).is_ok()
    }

    /// True until the worker thread has ended.
    pub fn running(&self) -> bool {
        !self.thread.is_finished()
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        // If the queue is full the Stop is lost, but dropping the sender closes the channel,
        // which the worker also treats as Stop once it has drained the queue.
        let _ = self.commands.try_send(WorkerCommand::Stop);
    }
}

/// Everything the worker thread owns.
struct Worker {
    params: ConnectParams,
    /// `host:port`, for messages.
    broker: String,
    max_packet_bytes: usize,
    inbox: Arc<Inbox>,
    status: Arc<StatusCell>,
    stats: Arc<WorkerStats>,
    publish_reports: Arc<PublishReports>,
    /// Packet id ↔ publish id (never borrowed across an await).
    pairing: RefCell<PublishPairing>,
    /// The profile's per-topic decoder overrides, matched once per message.
    decoders: DecoderOverrides,
}

impl Worker {
    /// The thread's body.
    fn run(self, commands: mpsc::Receiver<WorkerCommand>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => runtime.block_on(self.run_async(commands)),
            Err(error) => self.set_failed(
                Failure {
                    reason: FailureReason::Other,
                    message: format!(
                        "Connection failed: could not start the network runtime ({error})"
                    ),
                    oversize_packet_bytes: None,
                },
                None,
            ),
        }
    }

    async fn run_async(self, mut commands: mpsc::Receiver<WorkerCommand>) {
        let options = mqtt_options(
            &self.params.profile,
            self.params.password.as_ref().map(Password::expose),
            self.max_packet_bytes,
        );
        let book = RefCell::new(SubscriptionBook::new(&self.params.profile.subscriptions));
        self.publish_subscriptions(&book);
        let options = match options {
            Ok(options) => options,
            Err(error) => {
                // A setting the user must fix: retrying would fail the same way.
                let reason = FailureReason::Configuration;
                let message = format!("{}: {error}", reason.summary());
                tracing::warn!("{message}");
                self.set_failed(
                    Failure {
                        reason,
                        message,
                        oversize_packet_bytes: None,
                    },
                    None,
                );
                wait_for_stop(&mut commands).await;
                self.status
                    .update(|status| status.state = ConnectionState::Stopped);
                return;
            }
        };
        self.connect_and_serve(options, &book, &mut commands).await;
        self.status
            .update(|status| status.state = ConnectionState::Stopped);
    }

    /// Drives the connection until a Stop command (or the handle's drop), then disconnects.
    async fn connect_and_serve(
        &self,
        options: MqttOptions,
        book: &RefCell<SubscriptionBook>,
        commands: &mut mpsc::Receiver<WorkerCommand>,
    ) {
        let (client, mut event_loop) =
            AsyncClient::new(options, super::options::REQUEST_CHANNEL_CAPACITY);
        tokio::select! {
            () = self.drive_connection(&mut event_loop, &client, book) => {}
            () = self.serve_commands(commands, &client, book) => {}
        }
        if book.borrow().connected() && client.try_disconnect().is_ok() {
            let flushed = tokio::time::timeout(DISCONNECT_TIMEOUT, async {
                loop {
                    match event_loop.poll().await {
                        Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            });
            if flushed.await.is_err() {
                tracing::debug!("DISCONNECT not flushed within {DISCONNECT_TIMEOUT:?}");
            }
        }
    }

    /// Polls the event loop forever: connects, reconnects with backoff, handles packets.
    async fn drive_connection(
        &self,
        event_loop: &mut EventLoop,
        client: &AsyncClient,
        book: &RefCell<SubscriptionBook>,
    ) {
        let mut backoff = Backoff::new();
        let mut attempt: u32 = 0;
        let keep_alive = Duration::from_secs(u64::from(self.params.profile.keep_alive_secs));
        let mut ping = PingWatch::new(keep_alive);
        let mut connected_at: Option<Instant> = None;
        loop {
            let was_connected = book.borrow().connected();
            if !was_connected {
                attempt = attempt.saturating_add(1);
                self.status
                    .update(|status| status.state = ConnectionState::Connecting { attempt });
            }
            // A ping nobody answers on a link that stays silent: the connection is gone even
            // though no FIN came (a dead NAT entry, a pulled cable). rumqttc would notice only
            // at the ping after next; give up on it before then.
            let polled = match ping.silent_deadline() {
                Some(deadline) => {
                    let deadline = tokio::time::Instant::from_std(deadline);
                    tokio::time::timeout_at(deadline, event_loop.poll())
                        .await
                        .ok()
                }
                None => Some(event_loop.poll().await),
            };
            let Some(polled) = polled else {
                // Dropping the network makes the next poll reconnect; what rumqttc kept of
                // the old connection moves to its pending queue, which `connection_lost` trims.
                event_loop.clean();
                connected_at = None;
                let failure = Failure {
                    reason: FailureReason::ConnectionLost,
                    message: format!(
                        "{}: {} stopped answering: no reply to the keep-alive ping within {} s \
                         (keep-alive {} s) and nothing else arrived",
                        FailureReason::ConnectionLost.summary(),
                        self.broker,
                        ping.silence_patience().as_secs_f32(),
                        keep_alive.as_secs()
                    ),
                    oversize_packet_bytes: None,
                };
                self.connection_lost(event_loop, book, failure, &mut backoff, &mut ping)
                    .await;
                continue;
            };
            match polled {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    attempt = 0;
                    // The backoff starts over only once this connection has stayed up.
                    backoff.on_connected(Instant::now());
                    connected_at = Some(Instant::now());
                    ping.reset();
                    self.on_connected(client, book);
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    ping.heard();
                    let message = self.decode(publish);
                    if ping.overdue(Instant::now()) {
                        // Read on at full speed (dropping the oldest if the inbox is full) until
                        // the PINGRESP queued behind the backlog arrives: rumqttc closes the
                        // connection if it is still missing when the next ping is due.
                        self.inbox.push(message);
                    } else {
                        // Backpressure: while the inbox is full the event loop is not polled, so
                        // TCP makes the broker wait (see Inbox::push_or_wait).
                        self.inbox.push_or_wait(message).await;
                    }
                }
                Ok(event) => {
                    ping.observe(&event, Instant::now());
                    self.on_event(event, book);
                }
                Err(error) => {
                    let connected_for = connected_at
                        .take()
                        .filter(|_| was_connected)
                        .map(|at| at.elapsed());
                    let filters: Vec<String> = book
                        .borrow()
                        .snapshot()
                        .into_iter()
                        .map(|(filter, _)| filter)
                        .collect();
                    let context = self.failure_context(was_connected, connected_for, &filters);
                    let failure = classify(&error, context);
                    if failure.oversize_packet_bytes.is_some() {
                        WorkerStats::count(&self.stats.oversize_packets_refused);
                    }
                    tracing::info!("{} ({error})", failure.message);
                    self.connection_lost(event_loop, book, failure, &mut backoff, &mut ping)
                        .await;
                }
            }
        }
    }

    /// The connection dropped (or never came up): settle every publish still waiting, forget
    /// what rumqttc would send again, mark subscriptions pending, report, wait the backoff.
    async fn connection_lost(
        &self,
        event_loop: &mut EventLoop,
        book: &RefCell<SubscriptionBook>,
        failure: Failure,
        backoff: &mut Backoff,
        ping: &mut PingWatch,
    ) {
        ping.reset();
        forget_unsent_requests(event_loop);
        for report in self.pairing.borrow_mut().on_disconnected() {
            self.report(Some(report));
        }
        book.borrow_mut().on_disconnected();
        self.publish_subscriptions(book);
        let delay = backoff.next_delay_after_failure(Instant::now());
        let retry_at_nanos = now_nanos().saturating_add(duration_nanos(delay));
        self.set_failed(failure, Some(retry_at_nanos));
        tokio::time::sleep(delay).await;
    }

    /// CONNACK accepted: report it and (re-)subscribe every filter, since rumqttc does not.
    fn on_connected(&self, client: &AsyncClient, book: &RefCell<SubscriptionBook>) {
        let since_nanos = now_nanos();
        self.status
            .update(|status| status.state = ConnectionState::Connected { since_nanos });
        tracing::info!("connected to {}", self.broker);
        let plan = book.borrow_mut().on_connected();
        for filter in plan.unsubscribe {
            if client.try_unsubscribe(filter).is_err() {
                WorkerStats::count(&self.stats.requests_not_queued);
            }
        }
        if !plan.subscribe.is_empty() {
            self.queue_subscribe(client, book, plan.subscribe);
        }
        self.publish_subscriptions(book);
    }

    /// Decodes an incoming publish, here on the worker thread (Message::new_as).
    fn decode(&self, publish: rumqttc::Publish) -> Message {
        let qos = qos_from_rumqttc(publish.qos);
        // The payload is copied out: rumqttc hands out slices of its read buffer, and keeping
        // such a slice in a topic's history would pin the whole buffer chunk in memory.
        let decoder = self.decoders.choice_for(&publish.topic);
        Message::new_as(
            publish.topic,
            bytes::Bytes::copy_from_slice(&publish.payload),
            qos,
            publish.retain,
            now_nanos(),
            decoder,
        )
    }

    /// Everything but CONNACK, PUBLISH and errors.
    fn on_event(&self, event: Event, book: &RefCell<SubscriptionBook>) {
        match event {
            Event::Incoming(Packet::SubAck(suback)) => {
                let answers = suback.return_codes.iter().map(|code| match code {
                    SubscribeReasonCode::Success(qos) => {
                        SubscriptionState::Granted(qos_from_rumqttc(*qos).level())
                    }
                    SubscribeReasonCode::Failure => SubscriptionState::Refused,
                });
                if book.borrow_mut().on_suback(suback.pkid, answers) {
                    self.publish_subscriptions(book);
                }
            }
            Event::Outgoing(Outgoing::Subscribe(pkid)) => book.borrow_mut().on_subscribe_sent(pkid),
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                let report = self.pairing.borrow_mut().on_sent(pkid);
                self.report(report);
            }
            Event::Incoming(Packet::PubAck(ack)) => {
                let report = self
                    .pairing
                    .borrow_mut()
                    .on_acknowledged(ack.pkid, Qos::AtLeastOnce);
                self.report(report);
            }
            Event::Incoming(Packet::PubComp(comp)) => {
                let report = self
                    .pairing
                    .borrow_mut()
                    .on_acknowledged(comp.pkid, Qos::ExactlyOnce);
                self.report(report);
            }
            _ => {}
        }
    }

    /// Serves UI commands until Stop or until the handle is dropped.
    async fn serve_commands(
        &self,
        commands: &mut mpsc::Receiver<WorkerCommand>,
        client: &AsyncClient,
        book: &RefCell<SubscriptionBook>,
    ) {
        while let Some(command) = commands.recv().await {
            match command {
                WorkerCommand::Stop => return,
                WorkerCommand::Subscribe { filter, qos } => {
                    let outcome = book.borrow_mut().add(&filter, qos);
                    if outcome == AddOutcome::SendNow {
                        self.queue_subscribe(client, book, vec![(filter, qos)]);
                    }
                    self.publish_subscriptions(book);
                }
                WorkerCommand::Unsubscribe { filter } => {
                    let send_now = book.borrow_mut().remove(&filter);
                    if send_now && client.try_unsubscribe(filter).is_err() {
                        WorkerStats::count(&self.stats.requests_not_queued);
                    }
                    self.publish_subscriptions(book);
                }
                WorkerCommand::PublishAuthorized(authorized) => {
                    let (id, request) = authorized.into_parts();
                    let (topic, payload) = (request.topic, request.payload);
                    self.publish(
                        client,
                        book,
                        id,
                        topic,
                        payload,
                        request.qos,
                        request.retain,
                    );
                }
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one publish, passed through"
    )]
    fn publish(
        &self,
        client: &AsyncClient,
        book: &RefCell<SubscriptionBook>,
        id: PublishId,
        topic: String,
        payload: Vec<u8>,
        qos: Qos,
        retain: bool,
    ) {
        // rumqttc closes the connection on an outgoing packet over the limit: refuse it here.
        // Remaining length = 2-byte topic length + topic + 2-byte packet id + payload.
        let packet_bytes = payload.len().saturating_add(topic.len()).saturating_add(4);
        let too_big = packet_bytes > self.max_packet_bytes;
        let refusal = if !book.borrow().connected() {
            Some("not connected to the broker".to_owned())
        } else if too_big {
            Some(format!(
                "the message ({packet_bytes} bytes) is over the packet size limit ({} bytes)",
                self.max_packet_bytes
            ))
        } else if client
            .try_publish(topic.clone(), qos_to_rumqttc(qos), retain, payload)
            .is_err()
        {
            Some("the send queue is full; try again in a moment".to_owned())
        } else {
            self.pairing.borrow_mut().on_queued(Some(id), qos);
            None
        };
        if let Some(reason) = refusal {
            WorkerStats::count(&self.stats.publishes_not_sent);
            tracing::warn!("publish to {topic} not sent: {reason}");
            self.report(Some((id, PublishOutcome::NotSent(reason))));
        }
    }

    fn report(&self, report: Option<(PublishId, PublishOutcome)>) {
        if let Some((id, outcome)) = report {
            self.publish_reports.push(id, outcome);
        }
    }

    /// Queues one SUBSCRIBE for `filters` and records it for SUBACK pairing.
    fn queue_subscribe(
        &self,
        client: &AsyncClient,
        book: &RefCell<SubscriptionBook>,
        filters: Vec<(String, Qos)>,
    ) {
        let names = filters.iter().map(|(filter, _)| filter.clone()).collect();
        // Recorded before queueing: the event loop sees the request only after this returns.
        book.borrow_mut().on_subscribe_queued(names);
        let request = filters
            .into_iter()
            .map(|(filter, qos)| rumqttc::SubscribeFilter::new(filter, qos_to_rumqttc(qos)));
        if client.try_subscribe_many(request).is_err() {
            book.borrow_mut().on_subscribe_not_queued();
            WorkerStats::count(&self.stats.requests_not_queued);
        }
    }

    fn publish_subscriptions(&self, book: &RefCell<SubscriptionBook>) {
        let subscriptions = book.borrow().snapshot();
        self.status
            .update(|status| status.subscriptions = subscriptions);
    }

    fn set_failed(&self, failure: Failure, retry_at_nanos: Option<i64>) {
        let Failure {
            reason, message, ..
        } = failure;
        self.status.update(|status| {
            status.last_failure = Some(message.clone());
            status.state = ConnectionState::Failed {
                reason,
                message,
                retry_at_nanos,
            }
        });
    }

    fn failure_context<'a>(
        &'a self,
        was_connected: bool,
        connected_for: Option<Duration>,
        filters: &'a [String],
    ) -> FailureContext<'a> {
        FailureContext {
            broker: &self.broker,
            host: self.params.profile.host.trim(),
            was_connected,
            max_packet_bytes: self.max_packet_bytes,
            client_id: self.params.profile.client_id.trim(),
            connected_for,
            filters,
        }
    }
}

/// Watches the keep-alive: how long the last PINGREQ has waited for its PINGRESP.
///
/// Under backpressure the PINGRESP queues at the broker behind the publishes not read yet;
/// rumqttc gives up on the connection when it is still missing at the next ping (one keep-alive
/// interval later), so after half an interval the worker reads on without waiting
/// ([`PingWatch::overdue`]).
///
/// A link that went silent (nothing at all arrives after a ping: a blackhole, no FIN) is given
/// up after [`PingWatch::silence_patience`] (0.4 × keep-alive) instead: pings leave every
/// keep-alive interval, so a dead link is noticed within 1.4 × keep-alive, where rumqttc alone
/// needs up to 2 ×.
#[derive(Debug)]
struct PingWatch {
    patience: Option<Duration>,
    silence_patience: Option<Duration>,
    sent_at: Option<Instant>,
    /// Something arrived since the outstanding ping was sent.
    heard_since_ping: bool,
}

impl PingWatch {
    /// For a keep-alive interval (zero: no pings, never overdue).
    fn new(keep_alive: Duration) -> Self {
        let pinging = !keep_alive.is_zero();
        Self {
            patience: pinging.then_some(keep_alive / 2),
            silence_patience: pinging.then_some(keep_alive.mul_f64(0.4)),
            sent_at: None,
            heard_since_ping: false,
        }
    }

    /// Notes a PINGREQ sent or any packet received.
    fn observe(&mut self, event: &Event, now: Instant) {
        match event {
            Event::Outgoing(Outgoing::PingReq) => {
                if self.sent_at.is_none() {
                    self.sent_at = Some(now);
                    self.heard_since_ping = false;
                }
            }
            Event::Incoming(Packet::PingResp) => self.sent_at = None,
            Event::Incoming(_) => self.heard_since_ping = true,
            Event::Outgoing(_) => {}
        }
    }

    /// A packet arrived (a publish, handled outside [`PingWatch::observe`]).
    fn heard(&mut self) {
        self.heard_since_ping = true;
    }

    /// A new connection (or none): no ping outstanding.
    fn reset(&mut self) {
        self.sent_at = None;
        self.heard_since_ping = false;
    }

    /// True when a PINGRESP has been missing for half the keep-alive interval or longer.
    fn overdue(&self, now: Instant) -> bool {
        self.patience
            .zip(self.sent_at)
            .is_some_and(|(patience, sent_at)| now.saturating_duration_since(sent_at) >= patience)
    }

    /// How long a ping may go unanswered on a silent link.
    fn silence_patience(&self) -> Duration {
        self.silence_patience.unwrap_or_default()
    }

    /// When the link counts as dead if nothing arrives before: a ping is outstanding and
    /// nothing at all has arrived since it was sent.
    fn silent_deadline(&self) -> Option<Instant> {
        if self.heard_since_ping {
            return None;
        }
        self.silence_patience
            .zip(self.sent_at)
            .map(|(patience, sent_at)| sent_at + patience)
    }
}

/// The profile's decoder overrides; rows with an invalid filter are logged and skipped (the
/// profile editor refuses them, so only a hand-edited file has any).
fn decoder_overrides(profile: &Profile) -> DecoderOverrides {
    let (overrides, errors) = DecoderOverrides::new(&profile.decoder_overrides);
    for error in errors {
        tracing::warn!("{error}");
    }
    overrides
}

/// rumqttc moves requests it had not sent yet, and QoS 1/2 publishes not yet acknowledged, into
/// `pending` when a connection drops, and sends them again after a reconnect that resumes the
/// session. Two kinds are removed:
/// - SUBSCRIBEs: every filter is subscribed again at the next CONNACK anyway, and a stale one
///   would break the pairing of SUBACKs to filters;
/// - PUBLISHes: each was reported as not sent or outcome unknown
///   ([`PublishPairing::on_disconnected`]); sending it later would deliver a write (a setpoint)
///   the user was told had not been confirmed, possibly a second time.
///
/// PUBRELs stay: they finish QoS 2 exchanges the broker already acknowledged with PUBREC and
/// carry no message.
fn forget_unsent_requests(event_loop: &mut EventLoop) {
    event_loop
        .pending
        .retain(|request| !matches!(request, Request::Subscribe(_) | Request::Publish(_)));
}

/// Waits until Stop arrives or the handle is dropped (the channel closes).
async fn wait_for_stop(commands: &mut mpsc::Receiver<WorkerCommand>) {
    while let Some(command) = commands.recv().await {
        if matches!(command, WorkerCommand::Stop) {
            return;
        }
    }
}

fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

fn qos_from_rumqttc(qos: rumqttc::QoS) -> Qos {
    match qos {
        rumqttc::QoS::AtMostOnce => Qos::AtMostOnce,
        rumqttc::QoS::AtLeastOnce => Qos::AtLeastOnce,
        rumqttc::QoS::ExactlyOnce => Qos::ExactlyOnce,
    }
}

fn qos_to_rumqttc(qos: Qos) -> rumqttc::QoS {
    match qos {
        Qos::AtMostOnce => rumqttc::QoS::AtMostOnce,
        Qos::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
        Qos::ExactlyOnce => rumqttc::QoS::ExactlyOnce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP_ALIVE: Duration = Duration::from_secs(60);

    #[test]
    fn a_ping_is_overdue_after_half_the_keep_alive_without_an_answer() {
        let start = Instant::now();
        let mut ping = PingWatch::new(KEEP_ALIVE);
        assert!(!ping.overdue(start + KEEP_ALIVE), "no ping sent yet");
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        assert!(!ping.overdue(start + KEEP_ALIVE / 2 - Duration::from_millis(1)));
        assert!(ping.overdue(start + KEEP_ALIVE / 2));
    }

    #[test]
    fn a_pingresp_or_a_new_connection_clears_the_outstanding_ping() {
        let start = Instant::now();
        let late = start + KEEP_ALIVE;
        let mut ping = PingWatch::new(KEEP_ALIVE);
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        ping.observe(&Event::Incoming(Packet::PingResp), start);
        assert!(!ping.overdue(late));
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        ping.reset();
        assert!(!ping.overdue(late));
    }

    #[test]
    fn a_second_ping_does_not_restart_the_clock_of_the_first() {
        let start = Instant::now();
        let mut ping = PingWatch::new(KEEP_ALIVE);
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start + KEEP_ALIVE / 4);
        assert!(ping.overdue(start + KEEP_ALIVE / 2));
    }

    #[test]
    fn a_ping_on_a_silent_link_has_a_deadline_and_anything_heard_lifts_it() {
        let start = Instant::now();
        let mut ping = PingWatch::new(Duration::from_secs(10));
        assert_eq!(ping.silent_deadline(), None, "no ping outstanding");
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        assert_eq!(ping.silent_deadline(), Some(start + Duration::from_secs(4)));
        ping.heard();
        assert_eq!(ping.silent_deadline(), None, "a busy link is not silent");
        ping.observe(&Event::Incoming(Packet::PingResp), start);
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        assert!(
            ping.silent_deadline().is_some(),
            "a new ping, silence again"
        );
        assert_eq!(PingWatch::new(Duration::ZERO).silent_deadline(), None);
    }

    #[test]
    fn without_keep_alive_nothing_is_ever_overdue() {
        let start = Instant::now();
        let mut ping = PingWatch::new(Duration::ZERO);
        ping.observe(&Event::Outgoing(Outgoing::PingReq), start);
        assert!(!ping.overdue(start + Duration::from_secs(3600)));
    }
}
