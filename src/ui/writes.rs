//! The write desk: the publish, setpoint and audit windows, the confirmation dialog, and the one
//! [`Publisher`] gate every write passes. It never touches the network: authorized messages
//! wait in [`WriteDesk::take_outgoing`] for the app to hand to the worker, and the worker's
//! reports come back through [`WriteDesk::record_outcomes`].

use crate::model::config::profile::Profile;
use crate::model::store::Store;
use crate::model::time::{Nanos, now_nanos};
use crate::model::topic::tree::NodeId;
use crate::model::write::audit::AuditLog;
use crate::model::write::publish::{
    AuthorizedPublish, PublishId, PublishOutcome, PublishRequest, Publisher, SentMessage,
    WriteContext, WriteError, WriteKind, check_controls, is_controls_topic,
};
use crate::model::write::retained::ClearPlan;
use crate::model::write::setpoint::ComposedWrite;
use crate::model::write::setpoint_tracker::{SetpointTracker, TrackedRequest};
use crate::model::write::templates::{Expander, Generator, SystemVariables, Template};

use super::audit_view::AuditView;
use super::confirm::{ConfirmDialog, ConfirmOutcome};
use super::publish::{PublishIntent, PublishPanel, PublishView};
use super::setpoint::{SetpointIntent, SetpointPanel};

/// Label of the confirm button of a setpoint confirmation.
pub const CONFIRM_SETPOINT: &str = "Send to the building";

/// A write waiting for the user's confirmation.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Clear(ClearPlan),
    Swop(ComposedWrite),
    /// A message typed in the Publish window for `CONTROLS/…` (already SWOP-validated).
    Controls(PublishRequest),
    /// Sending a tracked setpoint request again, by reference.
    Resend(String),
}

/// A running template generator.
#[derive(Debug)]
struct RunningGenerator {
    template: Template,
    generator: Generator,
    expander: Expander,
}

/// Windows and state for every kind of write.
#[derive(Debug)]
pub struct WriteDesk {
    publisher: Publisher,
    tracker: SetpointTracker,
    /// The publish window.
    pub publish: PublishPanel,
    /// The setpoint window.
    pub setpoint: SetpointPanel,
    audit_view: AuditView,
    /// Which windows are open.
    pub publish_open: bool,
    pub setpoint_open: bool,
    pub audit_open: bool,
    confirm: Option<(ConfirmDialog, Pending)>,
    outgoing: Vec<AuthorizedPublish>,
    generator: Option<RunningGenerator>,
    /// Templates of the connection's profile (the app saves changes).
    templates: Vec<Template>,
    templates_changed: bool,
    /// The profile's aedifion project as last seen.
    profile_project: String,
    /// The project writes default to: the profile's, else the first seen in the traffic.
    project: String,
    /// Last refusal or problem, shown in the top bar's notices by the app.
    notice: Option<String>,
}

impl WriteDesk {
    /// A desk writing its audit log with `audit` (none in tests that do not care).
    pub fn new(audit: Option<AuditLog>) -> Self {
        Self {
            publisher: Publisher::new(
                WriteContext {
                    read_only: true,
                    ..WriteContext::default()
                },
                audit,
            ),
            tracker: SetpointTracker::default(),
            publish: PublishPanel::default(),
            setpoint: SetpointPanel::default(),
            audit_view: AuditView::default(),
            publish_open: false,
            setpoint_open: false,
            audit_open: false,
            confirm: None,
            outgoing: Vec::new(),
            generator: None,
            templates: Vec::new(),
            templates_changed: false,
            profile_project: String::new(),
            project: String::new(),
            notice: None,
        }
    }

    /// Follows the profile in use (its read-only switch, name, broker, templates, project).
    /// `None`: not connected; everything is refused as read-only.
    pub fn set_profile(&mut self, profile: Option<&Profile>, broker: &str) {
        let context = match profile {
            Some(profile) => WriteContext {
                profile: profile.name.clone(),
                broker: broker.to_owned(),
                read_only: profile.read_only,
            },
            None => WriteContext {
                profile: "no connection".to_owned(),
                broker: String::new(),
                read_only: true,
            },
        };
        if context != *self.publisher.context() {
            if context.read_only
                && let Some(running) = &mut self.generator
            {
                running.generator.stop();
            }
            self.publisher.set_context(context);
        }
        if let Some(profile) = profile {
            if !self.templates_changed {
                self.templates.clone_from(&profile.templates);
            }
            if self.profile_project != profile.aedifion_project {
                self.profile_project.clone_from(&profile.aedifion_project);
                self.project.clone_from(&profile.aedifion_project);
                self.setpoint.default_project(&profile.aedifion_project);
            }
        }
    }

    /// The gate.
    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// The setpoint requests this app sent.
    pub fn tracker(&self) -> &SetpointTracker {
        &self.tracker
    }

    /// True while read-only (shown as a lock in the top bar).
    pub fn read_only(&self) -> bool {
        self.publisher.read_only()
    }

    /// Messages the gate allowed, for the worker (taken).
    pub fn take_outgoing(&mut self) -> Vec<AuthorizedPublish> {
        std::mem::take(&mut self.outgoing)
    }

    /// Templates changed in the panel, for the app to save in the profile (taken).
    pub fn take_changed_templates(&mut self) -> Option<Vec<Template>> {
        if !self.templates_changed {
            return None;
        }
        self.templates_changed = false;
        Some(self.templates.clone())
    }

    /// A refusal or problem to show once (taken).
    pub fn take_notice(&mut self) -> Option<String> {
        self.notice
            .take()
            .or_else(|| self.publisher.take_audit_problem())
    }

    /// Records what the worker reported.
    pub fn record_outcomes(&mut self, reports: Vec<(PublishId, PublishOutcome)>, now: Nanos) {
        if reports.is_empty() {
            return;
        }
        for (id, outcome) in reports {
            self.publisher.record_outcome(id, outcome, now);
        }
        self.audit_view.invalidate();
    }

    /// Per frame: timeouts, setpoint answers seen in the store, the generator. Returns the
    /// time at which it wants to be called again, if anything is waiting.
    pub fn tick(&mut self, store: &Store, now: Nanos) -> Option<Nanos> {
        if !self.publisher.expire(now).is_empty() {
            self.audit_view.invalidate();
        }
        self.tracker.observe_store(store, now);
        self.tracker.expire(now);
        self.run_generator(now);
        let mut wake = None;
        if self.publisher.waiting() || self.tracker.waiting() {
            wake = Some(now.saturating_add(200_000_000));
        }
        if let Some(running) = &self.generator {
            let due = running.generator.next_due_nanos();
            wake = Some(wake.map_or(due, |at: Nanos| at.min(due)));
        }
        wake
    }

    fn run_generator(&mut self, now: Nanos) {
        let Some(running) = &mut self.generator else {
            return;
        };
        if !running.generator.running() {
            self.generator = None;
            return;
        }
        if !running.generator.due(now) {
            return;
        }
        match running
            .expander
            .request(&running.template, &mut SystemVariables)
        {
            Ok(request) if is_controls_topic(&request.topic) => {
                // Each write to a building is confirmed on its own: no generator there.
                self.publish.error = Some(format!(
                    "A generator does not write to {}: use Write setpoint, which asks before \
                     each write.",
                    request.topic
                ));
                running.generator.stop();
            }
            Ok(request) => {
                if let Err(error) = self.submit(request, WriteKind::Publish, now) {
                    self.publish.error = Some(error.to_string());
                    if let Some(running) = &mut self.generator {
                        running.generator.stop();
                    }
                }
            }
            Err(error) => {
                self.publish.error = Some(error.to_string());
                running.generator.stop();
            }
        }
    }

    /// Passes a write through the gate and queues it for the worker.
    pub fn submit(
        &mut self,
        request: PublishRequest,
        kind: WriteKind,
        now: Nanos,
    ) -> Result<PublishId, WriteError> {
        let authorized = self.publisher.authorize(request, kind, now)?;
        let id = authorized.id();
        self.outgoing.push(authorized);
        self.audit_view.invalidate();
        Ok(id)
    }

    /// Opens the publish window, with `topic` filled in if given.
    pub fn open_publish(&mut self, topic: Option<String>) {
        if let Some(topic) = topic {
            self.publish.topic = topic;
        }
        self.publish_open = true;
    }

    /// Asks to clear the retained messages at and below `node` (confirmation first).
    pub fn request_clear_retained(&mut self, store: &Store, node: NodeId) {
        let plan = ClearPlan::for_subtree(store, node);
        let path = store.tree().path(node);
        if plan.is_empty() {
            self.notice = Some(format!(
                "No retained messages are known at or below {path}: nothing to clear."
            ));
            return;
        }
        let count = plan.len();
        let dialog = ConfirmDialog {
            title: "Clear retained messages".to_owned(),
            summary: format!(
                "Publish an empty retained message to each of these {count} topic(s) at or below \
                 \"{path}\", deleting their retained message on the broker ({}).",
                self.publisher.context().broker
            ),
            items: plan.topics().to_vec(),
            confirm_label: format!("Clear {count} retained message(s)"),
        };
        self.confirm = Some((dialog, Pending::Clear(plan)));
    }

    fn request_swop(&mut self, write: ComposedWrite) {
        let mut items = vec![
            format!("Topic:      {}", write.topic),
            format!("Type:       {}", write.message_type.code()),
        ];
        if !write.datapoint.is_empty() {
            items.push(format!("Datapoint:  {}", write.datapoint));
        }
        if !write.value.is_empty() {
            items.push(format!("Value:      {}", write.value));
            items.push(format!("Priority:   {}", write.priority));
            items.push(format!("Acknowledge: {}", write.acknowledge));
            items.push(format!("Dry run:    {}", write.dry_run));
        }
        items.push(format!("Reference:  {}", write.reference));
        items.push(format!("Payload:    {}", write.payload));
        let dialog = ConfirmDialog {
            title: "Confirm write to the building".to_owned(),
            summary: write.summary(),
            items,
            confirm_label: CONFIRM_SETPOINT.to_owned(),
        };
        self.confirm = Some((dialog, Pending::Swop(write)));
    }

    /// A message for `CONTROLS/…` from the Publish window: the gate's SWOP rules first (the
    /// verdict shows in the window), then the same confirmation as a composed setpoint.
    fn request_controls(&mut self, request: PublishRequest) {
        if let Err(error) = check_controls(&request) {
            self.publish.error = Some(error.to_string());
            return;
        }
        let payload = String::from_utf8_lossy(&request.payload).into_owned();
        let message_type = crate::model::aedifion::swop::parse(&request.payload)
            .map(|message| message.message_type().code())
            .unwrap_or("SWOP");
        let dialog = ConfirmDialog {
            title: "Confirm write to the building".to_owned(),
            summary: format!(
                "Publish this {message_type} request to {} on {}: the building's edge device acts \
                 on it.",
                request.topic,
                self.publisher.context().broker
            ),
            items: vec![
                format!("Topic:      {}", request.topic),
                format!("QoS:        {}", request.qos.level()),
                format!("Payload:    {payload}"),
            ],
            confirm_label: CONFIRM_SETPOINT.to_owned(),
        };
        self.confirm = Some((dialog, Pending::Controls(request)));
    }

    /// Re-send of a tracked request: asks first, like the first send.
    fn request_resend(&mut self, reference: String) {
        let Some(tracked) = self.tracker.get(&reference) else {
            return;
        };
        let dialog = ConfirmDialog {
            title: "Confirm sending again".to_owned(),
            summary: format!(
                "Send request {reference} again (sent {} time(s) so far, now {}): write {} to \
                 datapoint \"{}\" at priority {} via {}.",
                tracked.attempts,
                tracked.state.as_str(),
                tracked.value,
                tracked.datapoint,
                tracked.priority,
                tracked.topic
            ),
            items: vec![
                format!("Topic:      {}", tracked.topic),
                format!("Reference:  {reference}"),
                format!(
                    "Payload:    {}",
                    String::from_utf8_lossy(&tracked.request().payload)
                ),
            ],
            confirm_label: CONFIRM_SETPOINT.to_owned(),
        };
        self.confirm = Some((dialog, Pending::Resend(reference)));
    }

    /// True while a confirmation is open.
    pub fn confirming(&self) -> bool {
        self.confirm.is_some()
    }

    fn confirmed(&mut self, pending: Pending, now: Nanos) {
        match pending {
            Pending::Clear(plan) => {
                for request in plan.requests() {
                    if let Err(error) = self.submit(request, WriteKind::ClearRetained, now) {
                        self.notice = Some(error.to_string());
                        return;
                    }
                }
            }
            Pending::Controls(request) => match self.submit(request, WriteKind::Setpoint, now) {
                Ok(id) => self.publish.last_sent = Some(id),
                Err(error) => self.publish.error = Some(error.to_string()),
            },
            Pending::Resend(reference) => {
                let Some(request) = self.tracker.get(&reference).map(TrackedRequest::request)
                else {
                    return;
                };
                match self.submit(request, WriteKind::Setpoint, now) {
                    Ok(_) => {
                        self.tracker.resend(&reference, now);
                    }
                    Err(error) => self.notice = Some(error.to_string()),
                }
            }
            Pending::Swop(write) => match self.submit(write.request(), WriteKind::Setpoint, now) {
                Ok(_) => {
                    self.tracker.track(&write, now);
                    self.setpoint.sent();
                    self.setpoint.tab = super::setpoint::ComposerTab::Requests;
                }
                Err(error) => self.notice = Some(error.to_string()),
            },
        }
    }

    /// Draws the open windows and the confirmation; applies what they ask for.
    pub fn ui(&mut self, ctx: &egui::Context, store: &Store, connected: bool) {
        let now = now_nanos();
        if self.project.is_empty()
            && let Some((_, project)) = store.datapoints().projects().next()
        {
            // No project in the profile (e.g. the demo): the first one seen in the traffic.
            self.project = format!(
                "{}/{}",
                project.load_balancing_group, project.project_handle
            );
            self.setpoint.default_project(&self.project);
        }
        self.confirm_ui(ctx, now);
        self.publish_window(ctx, store, connected, now);
        self.setpoint_window(ctx, store, now);
        if self.audit_open {
            let mut open = true;
            let log = self.publisher.audit().cloned();
            egui::Window::new("Audit log")
                .open(&mut open)
                .default_size([900.0, 480.0])
                .show(ctx, |ui| self.audit_view.ui(ui, log.as_ref()));
            self.audit_open = open;
        }
    }

    fn confirm_ui(&mut self, ctx: &egui::Context, now: Nanos) {
        let Some((dialog, _)) = &self.confirm else {
            return;
        };
        match dialog.show(ctx) {
            Some(ConfirmOutcome::Confirmed) => {
                if let Some((_, pending)) = self.confirm.take() {
                    self.confirmed(pending, now);
                }
            }
            Some(ConfirmOutcome::Cancelled) => self.confirm = None,
            None => {}
        }
    }

    fn publish_window(&mut self, ctx: &egui::Context, store: &Store, connected: bool, now: Nanos) {
        if !self.publish_open {
            return;
        }
        let sent: Vec<SentMessage> = self.publisher.sent_newest_first().cloned().collect();
        let project = crate::model::aedifion::project::AedifionProject::parse(&self.project);
        let generator = self
            .generator
            .as_ref()
            .map(|running| (running.generator.sent(), running.generator.remaining()));
        let view = PublishView {
            read_only: self.read_only(),
            connected,
            sent: &sent,
            templates: &self.templates,
            project: project.as_ref(),
            generator,
            now_nanos: now,
        };
        let mut open = true;
        let mut intents = Vec::new();
        egui::Window::new("Publish")
            .open(&mut open)
            .default_size([640.0, 460.0])
            .show(ctx, |ui| intents = self.publish.ui(ui, store, &view));
        self.publish_open = open;
        // The Stop button lives in this window: closing it stops the generator too.
        if !open && let Some(running) = &mut self.generator {
            running.generator.stop();
        }
        for intent in intents {
            self.apply_publish_intent(intent, now);
        }
    }

    fn apply_publish_intent(&mut self, intent: PublishIntent, now: Nanos) {
        match intent {
            PublishIntent::Publish(request) if is_controls_topic(&request.topic) => {
                self.request_controls(request);
            }
            PublishIntent::Publish(request) => {
                match self.submit(request, WriteKind::Publish, now) {
                    Ok(id) => self.publish.last_sent = Some(id),
                    Err(error) => self.publish.error = Some(error.to_string()),
                }
            }
            PublishIntent::SaveTemplates(templates) => {
                self.templates = templates;
                self.templates_changed = true;
            }
            PublishIntent::StartGenerator {
                template,
                interval_ms,
                count,
            } => {
                self.generator = Some(RunningGenerator {
                    template,
                    generator: Generator::start(interval_ms, count, now),
                    expander: Expander::new(),
                });
                self.run_generator(now);
            }
            PublishIntent::StopGenerator => {
                if let Some(running) = &mut self.generator {
                    running.generator.stop();
                }
            }
        }
    }

    fn setpoint_window(&mut self, ctx: &egui::Context, store: &Store, now: Nanos) {
        if !self.setpoint_open {
            return;
        }
        let requests: Vec<TrackedRequest> = self.tracker.newest_first().cloned().collect();
        let references: Vec<&TrackedRequest> = requests.iter().collect();
        let read_only = self.read_only();
        let mut open = true;
        let mut intents = Vec::new();
        egui::Window::new("Write setpoint (SWOP)")
            .open(&mut open)
            .default_size([680.0, 520.0])
            .show(ctx, |ui| {
                intents = self.setpoint.ui(ui, store, &references, read_only, now);
            });
        self.setpoint_open = open;
        for intent in intents {
            match intent {
                SetpointIntent::Send(write) => self.request_swop(write),
                SetpointIntent::Resend(reference) => self.request_resend(reference),
            }
        }
    }
}
