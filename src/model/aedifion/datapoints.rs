//! The datapoint registry: what the explorer has learned about aedifion datapoints from the
//! traffic itself (reference §4.2, §5).
//!
//! - **Names for hashed topics.** An edge device publishes datapoint `name` on
//!   `<lbg>/<project>/<hash_id>` with `name` as the line-protocol measurement. When a topic's
//!   postfix is a hash id of a measurement it carries (either base62 variant), the topic is
//!   labelled with the name and the postfix length is the project's hash id length. Metadata on
//!   `META/<lbg>/<project>[/<hash>]` names datapoints too: their hash ids (under the detected
//!   length, both variants) are indexed so a topic is labelled as soon as it appears. A postfix
//!   that is the hash of nothing seen is left alone.
//! - **Observations.** Every line-protocol measurement in a message is an observation of its
//!   datapoint (a multi-line message observes several), which feeds its [`Activity`] (last seen,
//!   typical interval, staleness).
//! - **Metadata** (units, description, object type, source, other tags) attaches to the datapoint.
//! - **Controls**: SWOP messages go to the [`ControlsTimeline`].
//!
//! Cost per message: hash-map lookups; a SHA-1 only the first time a topic shows a measurement
//! (the verdict is remembered per topic). Nothing is parsed here: the worker decoded the payload.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::model::aedifion::controls::{ControlsTimeline, Operation, SwopFacts};
use crate::model::aedifion::family::{CONTROLS_PREFIX, META_PREFIX, TopicFamily};
use crate::model::aedifion::hash_id::{self, DEFAULT_HASH_ID_LENGTH, HASH_ID_LENGTHS};
use crate::model::aedifion::staleness::{self, Activity, Staleness};
use crate::model::heap::heap_bytes;
use crate::model::time::Nanos;
use crate::model::topic::node_map::NodeMap;
use crate::model::topic::tree::{NodeId, TopicTree};

/// Characters kept of one metadata value (tag values may be arbitrarily long).
const MAX_META_VALUE_CHARS: usize = 2_000;
/// Tags kept per metadata message.
const MAX_META_TAGS: usize = 200;
/// Datapoints the registry holds at most (a hostile broker cannot grow it without bound).
pub const MAX_DATAPOINTS: usize = 2_000_000;

/// What the worker decoded from an aedifion JSON message for the registry. Kept boxed in
/// [`Decoded`](crate::model::decode::payload::Decoded), so other payloads pay one pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum AedifionFacts {
    /// A metadata message (`META/…`).
    Meta(MetaFacts),
    /// A SWOP message (`CONTROLS/…`).
    Swop(SwopFacts),
}

/// A metadata message: `name`, the keys the explorer shows, and the rest as tags (§5.3).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetaFacts {
    /// The device or datapoint described.
    pub name: Option<Box<str>>,
    /// `device`, or the datapoint's BACnet object type.
    pub objtype: Option<Box<str>>,
    /// Engineering units (empty text counts as none).
    pub units: Option<Box<str>>,
    /// Free-text description.
    pub description: Option<Box<str>>,
    /// Origin of the metadata, e.g. `BACnet`.
    pub source: Option<Box<str>>,
    /// `logInterval` as written (BACnet: hundredths of a second).
    pub log_interval: Option<Box<str>>,
    /// Every other key, sorted by key, values as text (nested JSON written compactly).
    pub tags: Vec<(Box<str>, Box<str>)>,
}

impl MetaFacts {
    /// Reads a metadata document; `None` unless it is a JSON object.
    pub fn from_document(document: &Value) -> Option<MetaFacts> {
        let members = document.as_object()?;
        let mut facts = MetaFacts::default();
        for (key, value) in members {
            let text = meta_text(value);
            let slot = match key.as_str() {
                "name" if value.is_string() => &mut facts.name,
                "objtype" => &mut facts.objtype,
                "units" => &mut facts.units,
                "description" => &mut facts.description,
                "source" => &mut facts.source,
                "logInterval" => &mut facts.log_interval,
                _ => {
                    if facts.tags.len() < MAX_META_TAGS {
                        facts.tags.push((key.as_str().into(), text));
                    }
                    continue;
                }
            };
            *slot = Some(text);
        }
        facts.units = facts.units.filter(|units| !units.trim().is_empty());
        Some(facts)
    }

    /// True when the message describes a device rather than a datapoint.
    pub fn is_device(&self) -> bool {
        self.objtype.as_deref() == Some("device")
    }

    /// `logInterval` in nanoseconds (see [`staleness::log_interval_nanos`]).
    pub fn log_interval_nanos(&self) -> Option<Nanos> {
        self.log_interval
            .as_deref()
            .and_then(staleness::log_interval_nanos)
    }
}

/// Heap bytes of one metadata message as kept.
fn meta_bytes(facts: &MetaFacts) -> usize {
    let text = |field: &Option<Box<str>>| field.as_deref().map_or(0, str::len);
    size_of::<MetaFacts>()
        + text(&facts.name)
        + text(&facts.objtype)
        + text(&facts.units)
        + text(&facts.description)
        + text(&facts.source)
        + text(&facts.log_interval)
        + facts
            .tags
            .iter()
            .map(|(key, value)| size_of::<(Box<str>, Box<str>)>() + key.len() + value.len())
            .sum::<usize>()
}

fn meta_text(value: &Value) -> Box<str> {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(MAX_META_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    }
}

/// Index of a datapoint in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatapointId(pub u32);

/// Index of a project in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectId(pub u32);

/// One datapoint of a project.
#[derive(Debug, Clone)]
pub struct Datapoint {
    /// The full datapoint name (the line-protocol measurement); shared with the tree's label
    /// and the name index, so a name is held once.
    pub name: Arc<str>,
    /// The project it belongs to.
    pub project: ProjectId,
    /// Its time-series topic node, once seen.
    pub topic: Option<NodeId>,
    /// The newest metadata for it.
    pub meta: Option<Box<MetaFacts>>,
    /// Arrivals, for last-seen age and staleness.
    pub activity: Activity,
}

impl Datapoint {
    /// The topic postfix it is published on (its hash id), once its topic is known: the last
    /// level of that topic in `tree` (not stored twice).
    pub fn hash_id<'tree>(&self, tree: &'tree TopicTree) -> Option<&'tree str> {
        Some(tree.get(self.topic?)?.name.as_str())
    }

    /// Engineering units from the metadata.
    pub fn units(&self) -> Option<&str> {
        self.meta.as_deref()?.units.as_deref()
    }

    /// The typical interval: learned from arrivals, else the metadata's `logInterval`.
    pub fn interval_nanos(&self) -> Option<Nanos> {
        let from_meta = self.meta.as_deref().and_then(MetaFacts::log_interval_nanos);
        self.activity.interval_nanos(from_meta)
    }

    /// Whether it is overdue at `now_nanos`.
    pub fn staleness(&self, now_nanos: Nanos) -> Staleness {
        self.activity.staleness(self.interval_nanos(), now_nanos)
    }
}

/// One aedifion project (`<lbg>/<project_handle>`).
#[derive(Debug, Clone)]
pub struct Project {
    /// First topic level.
    pub load_balancing_group: Box<str>,
    /// Second topic level.
    pub project_handle: Box<str>,
    /// The hash id length seen on a confirmed match, if any.
    pub detected_hash_id_length: Option<usize>,
    /// Devices named by metadata with `objtype` `device`.
    pub devices: Vec<Box<str>>,
    names: HashMap<Arc<str>, DatapointId>,
    /// Hash id → datapoint, for datapoints named by metadata (pre-labelling).
    hashes: HashMap<Box<str>, DatapointId>,
    /// The length `hashes` was computed with.
    hashes_length: usize,
}

impl Project {
    /// The detected hash id length, else aedifion's default.
    pub fn hash_id_length(&self) -> usize {
        self.detected_hash_id_length
            .unwrap_or(DEFAULT_HASH_ID_LENGTH)
    }

    /// Number of datapoints known in this project.
    pub fn datapoint_count(&self) -> usize {
        self.names.len()
    }
}

/// What a tree node is in the aedifion hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// `<lbg>`.
    LoadBalancingGroup,
    /// `<lbg>/<project>`.
    Project(ProjectId),
    /// `<lbg>/<project>/<hash_id>` of a datapoint.
    Datapoint(DatapointId),
    /// `META`.
    MetaFamily,
    /// `CONTROLS`.
    ControlsFamily,
    /// `META/<lbg>/<project>`: the project's metadata topic.
    ProjectMetadata(ProjectId),
    /// `META/<lbg>/<project>/<hash>`: one datapoint's metadata.
    DatapointMetadata(DatapointId),
    /// `CONTROLS/<lbg>/<project>[/…]`: the project's SWOP topic.
    ProjectControls(ProjectId),
}

/// Everything learned about aedifion projects and datapoints. Lives in the store.
#[derive(Debug, Default)]
pub struct Datapoints {
    projects: Vec<Project>,
    /// `"<lbg>/<project>"` → project.
    project_index: HashMap<Box<str>, ProjectId>,
    datapoints: Vec<Datapoint>,
    /// What each node is (dense: nearly every node of an aedifion tree has a role).
    roles: NodeMap<NodeRole>,
    /// Topics whose postfix is not the hash of the datapoint they carry, so the hash is not redone.
    unmatched: HashMap<NodeId, DatapointId>,
    controls: ControlsTimeline,
    /// Bytes of names, hash ids and metadata held (the variable part of [`Datapoints::estimated_bytes`]).
    text_bytes: usize,
    /// Entries of every project's hash index.
    hash_entries: usize,
}

/// `lbg/project/postfix` split at its first two slashes (the postfix may hold none).
fn split_project_topic(topic: &str) -> Option<(&str, &str)> {
    let first = topic.find('/')?;
    let second = first + 1 + topic[first + 1..].find('/')?;
    let (project_key, postfix) = (&topic[..second], &topic[second + 1..]);
    let valid = first > 0 && second > first + 1 && !postfix.is_empty() && !postfix.contains('/');
    valid.then_some((project_key, postfix))
}

/// `lbg/project` of a topic below `META/` or `CONTROLS/`, and what follows it.
fn split_family_topic<'a>(topic: &'a str, prefix: &str) -> Option<(&'a str, Option<&'a str>)> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix('/')?;
    match rest.match_indices('/').nth(1) {
        Some((cut, _)) => Some((&rest[..cut], Some(&rest[cut + 1..]))),
        None => rest.contains('/').then_some((rest, None)),
    }
}

/// A message as the registry observes it: what the worker decoded, in aedifion terms. The
/// decode room implements it for its `Message`, so the registry depends on no payload format.
pub trait Observed {
    /// The concrete topic.
    fn topic(&self) -> &str;
    /// The topic's family, classified once on the worker.
    fn family(&self) -> TopicFamily;
    /// When it was received.
    fn received_at_nanos(&self) -> Nanos;
    /// The line-protocol measurements the payload names, in payload order (a name may repeat).
    fn measurements(&self) -> impl Iterator<Item = &Arc<str>>;
    /// What the worker decoded from a META or SWOP message.
    fn facts(&self) -> Option<&AedifionFacts>;
}

/// A datapoint name as it arrives: shared with a stored message (kept as is) or plain text.
enum Name<'a> {
    Shared(&'a Arc<str>),
    Text(&'a str),
}

impl Name<'_> {
    fn as_str(&self) -> &str {
        match self {
            Name::Shared(name) => name,
            Name::Text(name) => name,
        }
    }

    fn into_shared(self) -> Arc<str> {
        match self {
            Name::Shared(name) => Arc::clone(name),
            Name::Text(name) => name.into(),
        }
    }
}

impl Datapoints {
    /// Learns from one message that is being stored at `node` (its topic's node in `tree`), and
    /// labels the tree with datapoint names it learns. A datapoint first seen in a measurement
    /// keeps the message's copy of its name (the worker interns measurement names, so stored
    /// messages and the registry share one copy per datapoint without any swapping here).
    pub fn observe(&mut self, tree: &mut TopicTree, node: NodeId, message: &impl Observed) {
        match message.family() {
            TopicFamily::TimeSeries => self.observe_time_series(tree, node, message),
            TopicFamily::Meta => self.observe_meta(tree, node, message),
            TopicFamily::Controls => self.observe_controls(tree, node, message),
        }
    }

    /// Observes the measurements of a time-series message; returns the project whose datapoints
    /// they name, if any.
    fn observe_time_series(&mut self, tree: &mut TopicTree, node: NodeId, message: &impl Observed) {
        let mut seen: Vec<&Arc<str>> = Vec::new();
        for measurement in message.measurements() {
            if !seen.iter().any(|known| ***known == **measurement) {
                seen.push(measurement);
            }
        }
        let Some((project_key, postfix)) = split_project_topic(message.topic()) else {
            // Not `<lbg>/<project>/<postfix>`: observations still count, but need a project.
            return;
        };
        if seen.is_empty() && !self.roles.contains(node) {
            // A payload without a measurement (e.g. a number): metadata may still name it.
            if let Some(&project) = self.project_index.get(project_key) {
                self.link_by_hash(tree, project, node, postfix);
            }
            return;
        }
        let project = self.project_for(project_key);
        // A topic is hashed once per first measurement: a topic whose postfix matched none of
        // a message's datapoints is not hashed again while its messages start the same way.
        let mut matching = !self.roles.contains(node);
        let mut first = None;
        for measurement in seen {
            let Some(datapoint) = self.datapoint_for(project, Name::Shared(measurement)) else {
                return;
            };
            self.datapoints[datapoint.0 as usize]
                .activity
                .record(message.received_at_nanos());
            if first.is_none() {
                first = Some(datapoint);
                matching &= self.unmatched.get(&node) != Some(&datapoint);
            }
            if matching && self.try_link(tree, node, postfix, datapoint) {
                self.unmatched.remove(&node);
                matching = false;
            }
        }
        if let Some(first) = first
            && !self.roles.contains(node)
        {
            self.unmatched.insert(node, first);
        }
    }

    /// Links `node` to `datapoint` if its postfix is the datapoint's hash id.
    fn try_link(
        &mut self,
        tree: &mut TopicTree,
        node: NodeId,
        postfix: &str,
        datapoint: DatapointId,
    ) -> bool {
        let name = &self.datapoints[datapoint.0 as usize].name;
        if !HASH_ID_LENGTHS.contains(&postfix.len()) || !hash_id::is_hash_id_of(postfix, name) {
            return false;
        }
        let project = self.datapoints[datapoint.0 as usize].project;
        self.detect_hash_id_length(project, postfix.len());
        self.link_topic(tree, node, datapoint);
        true
    }

    /// Links a topic to a datapoint named by metadata under this hash id, if any.
    fn link_by_hash(
        &mut self,
        tree: &mut TopicTree,
        project: ProjectId,
        node: NodeId,
        postfix: &str,
    ) {
        if let Some(&datapoint) = self.projects[project.0 as usize].hashes.get(postfix) {
            self.link_topic(tree, node, datapoint);
        }
    }

    fn link_topic(&mut self, tree: &mut TopicTree, node: NodeId, datapoint: DatapointId) {
        let entry = &mut self.datapoints[datapoint.0 as usize];
        entry.topic = Some(node);
        let project = entry.project;
        tree.set_label(node, Arc::clone(&entry.name));
        self.roles.insert(node, NodeRole::Datapoint(datapoint));
        self.label_project_levels(tree, node, project);
    }

    /// Marks the project and load-balancing group nodes above a datapoint topic.
    fn label_project_levels(&mut self, tree: &TopicTree, node: NodeId, project: ProjectId) {
        let Some(project_node) = tree.parent_of(node) else {
            return;
        };
        self.roles
            .insert_if_missing(project_node, NodeRole::Project(project));
        if let Some(group_node) = tree.parent_of(project_node) {
            self.roles
                .insert_if_missing(group_node, NodeRole::LoadBalancingGroup);
        }
    }

    fn observe_meta(&mut self, tree: &mut TopicTree, node: NodeId, message: &impl Observed) {
        let Some((project_key, below)) = split_family_topic(message.topic(), META_PREFIX) else {
            self.label_family_levels(tree, node, NodeRole::MetaFamily, None);
            return;
        };
        let project = self.project_for(project_key);
        let project_role = NodeRole::ProjectMetadata(project);
        self.label_family_levels(tree, node, NodeRole::MetaFamily, Some(project_role));
        let Some(AedifionFacts::Meta(facts)) = message.facts() else {
            return;
        };
        let Some(name) = facts.name.as_deref() else {
            return;
        };
        if facts.is_device() {
            let devices = &mut self.projects[project.0 as usize].devices;
            if !devices.iter().any(|known| **known == *name) && devices.len() < MAX_META_TAGS {
                devices.push(name.into());
            }
            return;
        }
        let Some(datapoint) = self.datapoint_for(project, Name::Text(name)) else {
            return;
        };
        let old_meta = self.datapoints[datapoint.0 as usize]
            .meta
            .replace(Box::new(facts.clone()));
        self.text_bytes += meta_bytes(facts);
        self.text_bytes -= old_meta.as_deref().map_or(0, meta_bytes);
        if let Some(hash) = below.filter(|hash| !hash.contains('/')) {
            if hash_id::is_hash_id_of(hash, name) && HASH_ID_LENGTHS.contains(&hash.len()) {
                self.detect_hash_id_length(project, hash.len());
            }
            let hashes = &mut self.projects[project.0 as usize].hashes;
            if hashes.insert(hash.into(), datapoint).is_none() {
                self.hash_entries += 1;
                self.text_bytes += heap_bytes(hash.len());
            }
            self.roles
                .insert(node, NodeRole::DatapointMetadata(datapoint));
            tree.set_label(
                node,
                Arc::clone(&self.datapoints[datapoint.0 as usize].name),
            );
        }
        self.index_hashes(project, datapoint);
        self.link_known_topics(tree, project, datapoint);
    }

    /// Indexes the hash ids of a datapoint named by metadata, under the project's length.
    fn index_hashes(&mut self, project: ProjectId, datapoint: DatapointId) {
        let length = self.projects[project.0 as usize].hash_id_length();
        let name = &self.datapoints[datapoint.0 as usize].name;
        let candidates = hash_id::hash_id_candidates(name, length);
        let entry = &mut self.projects[project.0 as usize];
        for candidate in candidates {
            if !entry.hashes.contains_key(candidate.as_str()) {
                self.hash_entries += 1;
                self.text_bytes += heap_bytes(candidate.len());
                entry.hashes.insert(candidate.into(), datapoint);
            }
        }
    }

    /// Learns datapoint names from a list (the platform's API): `(hash_id, name)` pairs of the
    /// project `lbg/handle`. Each name becomes a datapoint, its hash id is indexed so its topic is
    /// named from the first message (whatever the payload), the project's hash id length is
    /// taken from ids that match their names, and topics already in the tree are named now.
    /// Returns how many datapoints were new. Stops quietly when the registry is full.
    pub fn learn_names<'a>(
        &mut self,
        tree: &mut TopicTree,
        project_key: &str,
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> usize {
        let project = self.project_for(project_key);
        let before = self.datapoints.len();
        for (hash, name) in names {
            if hash.is_empty() || hash.contains('/') {
                continue;
            }
            let Some(datapoint) = self.datapoint_for(project, Name::Text(name)) else {
                break;
            };
            if HASH_ID_LENGTHS.contains(&hash.len()) && hash_id::is_hash_id_of(hash, name) {
                self.detect_hash_id_length(project, hash.len());
            }
            if self.projects[project.0 as usize]
                .hashes
                .insert(hash.into(), datapoint)
                .is_none()
            {
                self.hash_entries += 1;
                self.text_bytes += heap_bytes(hash.len());
            }
            if self.datapoints[datapoint.0 as usize].topic.is_none()
                && let Some(node) = tree.find(&format!("{project_key}/{hash}"))
                && tree.node(node).is_topic()
                && !self.roles.contains(node)
            {
                self.link_topic(tree, node, datapoint);
            }
        }
        self.datapoints.len() - before
    }

    /// Labels a datapoint's time-series topic if it already exists but was not matched yet.
    fn link_known_topics(
        &mut self,
        tree: &mut TopicTree,
        project: ProjectId,
        datapoint: DatapointId,
    ) {
        if self.datapoints[datapoint.0 as usize].topic.is_some() {
            return;
        }
        let entry = &self.projects[project.0 as usize];
        let length = entry.hash_id_length();
        let prefix = format!("{}/{}", entry.load_balancing_group, entry.project_handle);
        let name = &self.datapoints[datapoint.0 as usize].name;
        for candidate in hash_id::hash_id_candidates(name, length) {
            if let Some(node) = tree.find(&format!("{prefix}/{candidate}"))
                && tree.node(node).is_topic()
                && !self.roles.contains(node)
            {
                self.link_topic(tree, node, datapoint);
                return;
            }
        }
    }

    /// Records a confirmed hash id length; re-indexes metadata names if it changed.
    fn detect_hash_id_length(&mut self, project: ProjectId, length: usize) {
        let entry = &mut self.projects[project.0 as usize];
        entry.detected_hash_id_length = Some(length);
        if entry.hashes_length == length {
            return;
        }
        entry.hashes_length = length;
        let named: Vec<DatapointId> = entry.names.values().copied().collect();
        for datapoint in named {
            if self.datapoints[datapoint.0 as usize].meta.is_some() {
                self.index_hashes(project, datapoint);
            }
        }
    }

    fn observe_controls(&mut self, tree: &mut TopicTree, node: NodeId, message: &impl Observed) {
        let project_role = split_family_topic(message.topic(), CONTROLS_PREFIX)
            .map(|(project_key, _)| NodeRole::ProjectControls(self.project_for(project_key)));
        self.label_family_levels(tree, node, NodeRole::ControlsFamily, project_role);
        if let Some(AedifionFacts::Swop(facts)) = message.facts() {
            self.controls
                .record(node, facts, message.received_at_nanos());
        }
    }

    /// Marks the levels above a `META/…` or `CONTROLS/…` topic: the family, the load-balancing
    /// group and (given) the project.
    fn label_family_levels(
        &mut self,
        tree: &TopicTree,
        node: NodeId,
        family: NodeRole,
        project: Option<NodeRole>,
    ) {
        let mut chain = vec![node];
        while let Some(parent) = chain.last().and_then(|&last| tree.parent_of(last)) {
            if parent == NodeId::ROOT {
                break;
            }
            chain.push(parent);
        }
        let from_top = chain.iter().rev().copied();
        let roles = [Some(family), Some(NodeRole::LoadBalancingGroup), project];
        for (level, role) in from_top.zip(roles) {
            if let Some(role) = role {
                self.roles.insert_if_missing(level, role);
            }
        }
    }

    fn project_for(&mut self, project_key: &str) -> ProjectId {
        if let Some(&project) = self.project_index.get(project_key) {
            return project;
        }
        let id = ProjectId(u32::try_from(self.projects.len()).unwrap_or(u32::MAX));
        let (group, handle) = project_key.split_once('/').unwrap_or((project_key, ""));
        self.projects.push(Project {
            load_balancing_group: group.into(),
            project_handle: handle.into(),
            detected_hash_id_length: None,
            devices: Vec::new(),
            names: HashMap::new(),
            hashes: HashMap::new(),
            hashes_length: DEFAULT_HASH_ID_LENGTH,
        });
        self.project_index.insert(project_key.into(), id);
        id
    }

    /// The datapoint `name` of `project`, created on first sight (`None` when the registry is full).
    fn datapoint_for(&mut self, project: ProjectId, name: Name<'_>) -> Option<DatapointId> {
        let entry = &mut self.projects[project.0 as usize];
        if let Some(&datapoint) = entry.names.get(name.as_str()) {
            return Some(datapoint);
        }
        if self.datapoints.len() >= MAX_DATAPOINTS {
            return None;
        }
        let id = DatapointId(u32::try_from(self.datapoints.len()).ok()?);
        let name = name.into_shared();
        // An `Arc<str>` allocation: two reference counts and the text.
        self.text_bytes += heap_bytes(2 * size_of::<usize>() + name.len());
        entry.names.insert(Arc::clone(&name), id);
        self.datapoints.push(Datapoint {
            name,
            project,
            topic: None,
            meta: None,
            activity: Activity::default(),
        });
        Some(id)
    }

    /// The role of a tree node in the aedifion hierarchy, if it has one.
    pub fn role(&self, node: NodeId) -> Option<NodeRole> {
        self.roles.get(node).copied()
    }

    /// The datapoint a time-series or per-datapoint metadata topic belongs to.
    pub fn datapoint_of_topic(&self, node: NodeId) -> Option<(DatapointId, &Datapoint)> {
        match self.role(node)? {
            NodeRole::Datapoint(id) | NodeRole::DatapointMetadata(id) => {
                Some((id, self.datapoint(id)?))
            }
            _ => None,
        }
    }

    /// One datapoint.
    pub fn datapoint(&self, id: DatapointId) -> Option<&Datapoint> {
        self.datapoints.get(id.0 as usize)
    }

    /// One project.
    pub fn project(&self, id: ProjectId) -> Option<&Project> {
        self.projects.get(id.0 as usize)
    }

    /// Every project, in order of first sight.
    pub fn projects(&self) -> impl Iterator<Item = (ProjectId, &Project)> {
        self.projects
            .iter()
            .enumerate()
            .map(|(index, project)| (ProjectId(index as u32), project))
    }

    /// Number of datapoints known.
    pub fn len(&self) -> usize {
        self.datapoints.len()
    }

    /// True when no datapoint is known.
    pub fn is_empty(&self) -> bool {
        self.datapoints.is_empty()
    }

    /// The datapoint measured as `measurement` in the project of `topic` (`<lbg>/<project>/…`).
    pub fn by_measurement(&self, topic: &str, measurement: &str) -> Option<&Datapoint> {
        let (project_key, _) = split_project_topic(topic)?;
        let project = self.project_index.get(project_key)?;
        let id = self.projects[project.0 as usize].names.get(measurement)?;
        self.datapoint(*id)
    }

    /// Time-series topics whose datapoint is stale at `now_nanos`, in datapoint order. O(datapoints).
    pub fn stale_topics(&self, now_nanos: Nanos) -> Vec<NodeId> {
        self.datapoints
            .iter()
            .filter(|datapoint| datapoint.staleness(now_nanos) == Staleness::Stale)
            .filter_map(|datapoint| datapoint.topic)
            .collect()
    }

    /// The controls timeline.
    pub fn controls(&self) -> &ControlsTimeline {
        &self.controls
    }

    /// Estimated bytes the registry holds, for the store's memory figure. O(1).
    ///
    /// Hash tables are counted at about two slots (and control bytes) per entry (at most 7/8
    /// full, growing by doubling); names are held once (shared with the tree's labels, the name
    /// index and stored messages' measurements); the tree counts its label slots.
    pub fn estimated_bytes(&self) -> usize {
        let table_bytes = |entries: usize, slot_bytes: usize| entries * 2 * (slot_bytes + 1);
        heap_bytes(self.datapoints.capacity() * size_of::<Datapoint>())
            + table_bytes(self.datapoints.len(), size_of::<(Arc<str>, DatapointId)>())
            + self.projects.len() * size_of::<Project>()
            + self.roles.heap_bytes()
            + table_bytes(self.unmatched.len(), size_of::<(NodeId, DatapointId)>())
            + table_bytes(self.hash_entries, size_of::<(Box<str>, DatapointId)>())
            + self.controls.len() * (size_of::<Operation>() + 2 * size_of::<SwopFacts>())
            + self.text_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_splitting_needs_three_non_empty_levels() {
        assert_eq!(split_project_topic("a/b/c"), Some(("a/b", "c")));
        assert_eq!(split_project_topic("a/b/c/d"), None);
        assert_eq!(split_project_topic("a/b"), None);
        assert_eq!(split_project_topic("/b/c"), None);
        assert_eq!(split_project_topic("a//c"), None);
        assert_eq!(split_family_topic("META/a/b", "META"), Some(("a/b", None)));
        assert_eq!(
            split_family_topic("META/a/b/h", "META"),
            Some(("a/b", Some("h")))
        );
        assert_eq!(split_family_topic("META/a", "META"), None);
    }
}
