//! What the explorer shows about aedifion datapoints: the tree row's name, value and staleness,
//! the details panel's datapoint section, units for values and plot series.
//!
//! Everything here reads the store's datapoint registry; nothing parses a payload.

use egui::{Grid, RichText};

use crate::model::aedifion::datapoints::{Datapoint, Datapoints, NodeRole};
use crate::model::aedifion::staleness::{Staleness, stale_after_nanos};
use crate::model::decode::payload::ValueKey;
use crate::model::store::Store;
use crate::model::store::series::Series;
use crate::model::time::Nanos;
use crate::model::topic::tree::NodeId;
use crate::ui::format::format_age;

use super::theme::Palette;

/// What a tree row adds to the level name.
#[derive(Debug, Clone, PartialEq)]
pub struct RowAnnotation {
    /// The datapoint name, or what the level is (`project`, `metadata`, …).
    pub label: String,
    /// True for a datapoint name (drawn strong), false for a level kind (drawn weak).
    pub is_name: bool,
    /// `21.4 °C` for a datapoint topic whose latest message holds its value.
    pub value_text: Option<String>,
    /// The datapoint is overdue.
    pub stale: bool,
}

/// The annotation of a tree row, if the node has a role in the aedifion hierarchy.
pub fn row_annotation(store: &Store, node: NodeId, now_nanos: Nanos) -> Option<RowAnnotation> {
    let datapoints = store.datapoints();
    let kind = |label: &str| RowAnnotation {
        label: label.to_owned(),
        is_name: false,
        value_text: None,
        stale: false,
    };
    Some(match datapoints.role(node)? {
        NodeRole::LoadBalancingGroup => kind("load-balancing group"),
        NodeRole::Project(_) => kind("project"),
        NodeRole::MetaFamily => kind("metadata"),
        NodeRole::ControlsFamily => kind("controls (SWOP)"),
        NodeRole::ProjectMetadata(_) => kind("project metadata"),
        NodeRole::ProjectControls(_) => kind("setpoint requests and acknowledgements"),
        NodeRole::DatapointMetadata(id) => RowAnnotation {
            label: datapoints.datapoint(id)?.name.to_string(),
            is_name: true,
            value_text: Some("metadata".to_owned()),
            stale: false,
        },
        NodeRole::Datapoint(id) => {
            let datapoint = datapoints.datapoint(id)?;
            RowAnnotation {
                label: datapoint.name.to_string(),
                is_name: true,
                value_text: latest_value_text(store, node, datapoint),
                stale: datapoint.staleness(now_nanos) == Staleness::Stale,
            }
        }
    })
}

/// The datapoint's newest value in its topic's latest message, with units: `21.4 °C`.
fn latest_value_text(store: &Store, node: NodeId, datapoint: &Datapoint) -> Option<String> {
    let latest = store.topic(node)?.history.latest()?;
    let values = &latest.decoded.values;
    let own = |value: &&crate::model::decode::payload::ExtractedValue| match &value.key {
        ValueKey::InfluxField { measurement, field } => {
            *measurement == *datapoint.name && field == "value"
        }
        ValueKey::Whole => true,
        ValueKey::JsonPath(_) => false,
    };
    // The last line of a batch is the newest reading.
    let value = values.iter().rev().find(own)?;
    Some(with_units(&format_number(value.value), datapoint.units()))
}

/// `21.4 °C`, or just the number without units.
pub fn with_units(number: &str, units: Option<&str>) -> String {
    match units {
        Some(units) => format!("{number} {units}"),
        None => number.to_owned(),
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// The units of a value of the topic at `node`, when its datapoint's metadata gives them.
pub fn units_of<'a>(store: &'a Store, node: NodeId, key: &ValueKey) -> Option<&'a str> {
    let datapoints = store.datapoints();
    match key {
        ValueKey::InfluxField { measurement, .. } => datapoints
            .by_measurement(&store.tree().path(node), measurement)?
            .units(),
        ValueKey::Whole => datapoints.datapoint_of_topic(node)?.1.units(),
        ValueKey::JsonPath(_) => None,
    }
}

/// The datapoint a series plots, if its topic or measurement is a known datapoint.
fn series_datapoint<'a>(datapoints: &'a Datapoints, series: &Series) -> Option<&'a Datapoint> {
    match &series.key {
        ValueKey::InfluxField { measurement, .. } => {
            datapoints.by_measurement(&series.topic, measurement)
        }
        _ => None,
    }
}

/// A series' legend text: the datapoint name and units when known, else the series' label.
pub fn series_title(datapoints: &Datapoints, series: &Series) -> String {
    let Some(datapoint) = series_datapoint(datapoints, series) else {
        return series.label.clone();
    };
    let mut title = datapoint.name.to_string();
    if let ValueKey::InfluxField { field, .. } = &series.key
        && field != "value"
    {
        title.push(' ');
        title.push_str(field);
    }
    if let Some(units) = datapoint.units() {
        title.push_str(&format!(" [{units}]"));
    }
    title
}

/// The units of a series, when its datapoint's metadata gives them.
pub fn series_units<'a>(datapoints: &'a Datapoints, series: &Series) -> Option<&'a str> {
    series_datapoint(datapoints, series)?.units()
}

/// The details panel's datapoint section for the topic at `node` (nothing if it is none).
pub fn datapoint_details_ui(ui: &mut egui::Ui, store: &Store, node: NodeId, now_nanos: Nanos) {
    let Some((_, datapoint)) = store.datapoints().datapoint_of_topic(node) else {
        return;
    };
    let palette = Palette::for_ui(ui);
    ui.separator();
    ui.strong("Datapoint");
    Grid::new("details_datapoint")
        .num_columns(2)
        .spacing([16.0, 2.0])
        .show(ui, |ui| {
            row(ui, "Name", &datapoint.name);
            if let Some(hash_id) = datapoint.hash_id(store.tree()) {
                row(ui, "Hash id", hash_id);
            }
            if let Some(project) = store.datapoints().project(datapoint.project) {
                row(
                    ui,
                    "Project",
                    &format!(
                        "{} / {} (hash ids of {} characters)",
                        project.load_balancing_group,
                        project.project_handle,
                        project.hash_id_length()
                    ),
                );
            }
            if let Some(meta) = datapoint.meta.as_deref() {
                for (label, value) in [
                    ("Units", &meta.units),
                    ("Description", &meta.description),
                    ("Object type", &meta.objtype),
                    ("Source", &meta.source),
                ] {
                    if let Some(value) = value {
                        row(ui, label, value);
                    }
                }
            }
            let interval = datapoint.interval_nanos();
            let interval_text = match (interval, datapoint.activity.learned_interval_nanos()) {
                (Some(interval), Some(_)) => format!("{} (learned)", format_duration(interval)),
                (Some(interval), None) => {
                    format!("{} (from logInterval)", format_duration(interval))
                }
                (None, _) => "not known yet".to_owned(),
            };
            row(ui, "Typical interval", &interval_text);
            ui.label("Last seen");
            let seen = if datapoint.activity.observations == 0 {
                "not yet (named by metadata)".to_owned()
            } else {
                format!(
                    "{} ({} messages)",
                    format_age(datapoint.activity.age_nanos(now_nanos)),
                    datapoint.activity.observations
                )
            };
            match datapoint.staleness(now_nanos) {
                Staleness::Stale => ui.colored_label(
                    palette.warning,
                    format!(
                        "{seen}: STALE, silent for more than {}",
                        format_duration(stale_after_nanos(interval))
                    ),
                ),
                _ => ui.label(seen),
            };
            ui.end_row();
        });
    if let Some(meta) = datapoint.meta.as_deref()
        && !meta.tags.is_empty()
    {
        egui::CollapsingHeader::new(format!("Other metadata tags ({})", meta.tags.len()))
            .id_salt("details_datapoint_tags")
            .show(ui, |ui| {
                Grid::new("details_datapoint_tag_grid")
                    .num_columns(2)
                    .striped(true)
                    .show(ui, |ui| {
                        for (key, value) in &meta.tags {
                            row(ui, key, value);
                        }
                    });
            });
    }
}

/// What an inner level is in the aedifion hierarchy: a project with its datapoint count and
/// detected hash id length, a load-balancing group, or a message family.
pub fn hierarchy_details_ui(ui: &mut egui::Ui, store: &Store, node: NodeId) {
    let datapoints = store.datapoints();
    let text = match datapoints.role(node) {
        Some(NodeRole::Project(id))
        | Some(NodeRole::ProjectMetadata(id))
        | Some(NodeRole::ProjectControls(id)) => {
            let Some(project) = datapoints.project(id) else {
                return;
            };
            let length = match project.detected_hash_id_length {
                Some(length) => format!("hash ids of {length} characters (detected)"),
                None => format!(
                    "hash ids of {} characters (aedifion's default; none matched yet)",
                    project.hash_id_length()
                ),
            };
            let mut text = format!(
                "aedifion project {} in load-balancing group {}: {} datapoints known, {length}.",
                project.project_handle,
                project.load_balancing_group,
                project.datapoint_count()
            );
            if !project.devices.is_empty() {
                let devices: Vec<&str> = project.devices.iter().map(|device| &**device).collect();
                text.push_str(&format!(" Devices: {}.", devices.join(", ")));
            }
            text
        }
        Some(NodeRole::LoadBalancingGroup) => {
            "aedifion load-balancing group: its projects are the levels below.".to_owned()
        }
        Some(NodeRole::MetaFamily) => {
            "aedifion metadata (META/<group>/<project>): JSON naming devices and datapoints."
                .to_owned()
        }
        Some(NodeRole::ControlsFamily) => {
            "aedifion controls (CONTROLS/<group>/<project>): SWOP setpoint requests and acknowledgements; see the controls timeline."
                .to_owned()
        }
        _ => return,
    };
    ui.label(text);
}

fn row(ui: &mut egui::Ui, label: &str, value: &str) {
    ui.label(label);
    ui.label(RichText::new(value).monospace());
    ui.end_row();
}

/// `1 min 30 s`, `5 s`, `250 ms`.
pub fn format_duration(nanos: Nanos) -> String {
    let millis = nanos / 1_000_000;
    if millis < 1000 {
        return format!("{millis} ms");
    }
    let secs = millis / 1000;
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(250_000_000), "250 ms");
        assert_eq!(format_duration(5_000_000_000), "5 s");
        assert_eq!(format_duration(60_000_000_000), "1 min");
        assert_eq!(format_duration(90_000_000_000), "1 min 30 s");
        assert_eq!(format_duration(7_260_000_000_000), "2 h 1 min");
    }

    #[test]
    fn units_follow_the_number() {
        assert_eq!(with_units("21.4", Some("°C")), "21.4 °C");
        assert_eq!(with_units("3", None), "3");
    }
}
