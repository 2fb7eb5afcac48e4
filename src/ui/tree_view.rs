//! The topic tree (left panel): a filter box over a virtualised list of the tree's visible rows.
//!
//! Only the rows on screen are laid out (`ScrollArea::show_rows` over the tree's cached,
//! flattened rows), so 100,000 topics scroll like 100. Rows are painted directly rather than
//! built from nested widgets, which keeps a row to one interaction and a handful of text runs.

use std::time::Duration;

use egui::{
    Align2, Color32, FontId, Key, Modifiers, Rect, ScrollArea, Sense, Shape, Stroke, pos2, vec2,
};

use crate::model::aedifion::datapoints::Datapoints;
use crate::model::store::{Store, TopicState};
use crate::model::time::Nanos;
use crate::model::topic::tree::{Node, NodeId, TopicTree};

use super::tree_rows::{Row, RowCache, TreeFilter};

use super::action::UiAction;
use super::datapoint_view::{RowAnnotation, row_annotation};
use super::text::age_text_changes_in_nanos;
use super::theme::Palette;
use crate::ui::format::{format_age, format_count};

/// How long a changed row stays highlighted.
const HIGHLIGHT_NANOS: Nanos = 1_000_000_000;
/// Horizontal indent per tree level, in points.
const INDENT_PER_LEVEL: f32 = 14.0;
/// Width of the expand arrow's hit area.
const ARROW_WIDTH: f32 = 16.0;
/// Repaint interval while something fades (about 30 frames per second is smooth enough).
const FADE_REPAINT: Duration = Duration::from_millis(33);
/// The filter box's hint, which also says what it accepts.
pub const FILTER_HINT: &str = "Filter topics (text or MQTT filter like a/+/c)";

/// The topic tree panel.
#[derive(Debug, Default)]
pub struct TreePanel {
    filter_text: String,
    filter: TreeFilter,
    /// The visible rows, rebuilt when the tree's generation or the filter changes.
    rows: RowCache,
    /// Arrow keys move the selection (set by clicking a row; text fields take precedence).
    keyboard_active: bool,
    /// Bring this node's row on screen in the next frame.
    scroll_to: Option<NodeId>,
    /// Rows laid out in the last frame.
    visible_range: std::ops::Range<usize>,
    /// Show only topics of stale datapoints (that also match the filter text).
    stale_only: bool,
    /// When the stale set in `filter` was computed (it is refreshed once a second).
    stale_computed_at_nanos: Option<Nanos>,
    /// With "Stale only": the datapoints that never sent a message.
    silent: super::silent_view::SilentList,
}

/// How often the "Stale only" node set is recomputed.
const STALE_REFRESH_NANOS: Nanos = 1_000_000_000;

/// What the next repaint has to wait for, collected while painting rows.
#[derive(Debug, Default)]
struct RepaintNeed {
    fading: bool,
    next_age_change_nanos: Option<Nanos>,
}

impl TreePanel {
    /// The current filter (as parsed from the filter box).
    pub fn filter(&self) -> &TreeFilter {
        &self.filter
    }

    /// Sets the filter box text, as if typed.
    pub fn set_filter_text(&mut self, text: &str) {
        self.filter_text = text.to_owned();
        self.filter = TreeFilter::parse(text);
        self.stale_computed_at_nanos = None;
    }

    /// Shows only the topics of stale datapoints (or everything again).
    pub fn set_stale_only(&mut self, stale_only: bool) {
        self.stale_only = stale_only;
        self.stale_computed_at_nanos = None;
        self.silent.invalidate();
        self.filter = TreeFilter::parse(&self.filter_text);
    }

    /// With "Stale only", the filter is the stale topics matching the text, refreshed each second.
    fn refresh_stale_filter(
        &mut self,
        tree: &TopicTree,
        datapoints: &Datapoints,
        now_nanos: Nanos,
    ) {
        if !self.stale_only
            || self
                .stale_computed_at_nanos
                .is_some_and(|at| (0..STALE_REFRESH_NANOS).contains(&(now_nanos - at)))
        {
            return;
        }
        let needle = self.filter_text.trim().to_lowercase();
        let nodes: Vec<NodeId> = datapoints
            .stale_topics(now_nanos)
            .into_iter()
            .filter(|&node| {
                needle.is_empty()
                    || tree.path(node).to_lowercase().contains(&needle)
                    || tree
                        .label(node)
                        .is_some_and(|label| label.to_lowercase().contains(&needle))
            })
            .collect();
        self.filter = TreeFilter::Nodes(nodes.into());
        self.stale_computed_at_nanos = Some(now_nanos);
    }

    /// Scrolls the row of `node` into view in the next frame.
    pub fn scroll_to(&mut self, node: NodeId) {
        self.scroll_to = Some(node);
    }

    /// Draws the filter box and the visible rows; pushes what the user asked for to `actions`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        selected: Option<NodeId>,
        now_nanos: Nanos,
        actions: &mut Vec<UiAction>,
    ) {
        let (tree, datapoints) = (store.tree(), store.datapoints());
        self.filter_ui(ui, selected, actions);
        self.refresh_stale_filter(tree, datapoints, now_nanos);
        if self.stale_only {
            self.silent.ui(ui, store, &self.filter_text, now_nanos);
        }
        ui.add_space(2.0);

        let row_count = self.rows.rows(tree, &self.filter).len();
        if row_count == 0 {
            ui.weak(if self.stale_only {
                "No stale datapoint matches the filter."
            } else if self.filter == TreeFilter::None {
                "No topics yet. Messages appear here as they arrive."
            } else {
                "No topic matches the filter."
            });
            if self.stale_only {
                ui.ctx()
                    .request_repaint_after(Duration::from_nanos(STALE_REFRESH_NANOS as u64));
            }
            // Keep the panel's width: without rows it would shrink to the message.
            ui.allocate_space(vec2(ui.available_width(), 0.0));
            return;
        }
        self.keyboard_ui(ui, tree, selected, actions);

        let row_height = ui.text_style_height(&egui::TextStyle::Body).max(18.0);
        let row_pitch = row_height + ui.spacing().item_spacing.y;
        let mut scroll = ScrollArea::vertical()
            .id_salt("topic_tree_rows")
            .auto_shrink([false, false]);
        if let Some(target) = self.scroll_to.take()
            && let Some(index) = self.rows.row_index_of(target)
            && !self.fully_visible(index)
        {
            // Put the row about a third down the view so its neighbours show too.
            let offset = (index as f32 * row_pitch - ui.available_height() / 3.0).max(0.0);
            scroll = scroll.vertical_scroll_offset(offset);
        }

        let base_id = ui.make_persistent_id("topic_tree");
        let filtering = self.filter != TreeFilter::None;
        let mut need = RepaintNeed::default();
        scroll.show_rows(ui, row_height, row_count, |ui, range| {
            self.visible_range = range.clone();
            let rows: Vec<Row> = self.rows.rows(tree, &self.filter)[range].to_vec();
            for row in rows {
                let context = RowContext {
                    tree,
                    topic: store.topic(row.node),
                    annotation: row_annotation(store, row.node, now_nanos),
                    row,
                    selected: selected == Some(row.node),
                    filtering,
                    now_nanos,
                    row_height,
                    id: base_id.with(row.node.0),
                };
                if row_ui(ui, &context, actions, &mut need) {
                    self.keyboard_active = true;
                }
            }
        });
        if need.fading {
            ui.ctx().request_repaint_after(FADE_REPAINT);
        } else if let Some(nanos) = need.next_age_change_nanos {
            ui.ctx()
                .request_repaint_after(Duration::from_nanos(nanos.max(0) as u64));
        }
    }

    fn fully_visible(&self, index: usize) -> bool {
        // The first and last laid-out rows may be cut off by the view's edges.
        index > self.visible_range.start && index + 1 < self.visible_range.end
    }

    fn filter_ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<NodeId>,
        actions: &mut Vec<UiAction>,
    ) {
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let clear_width = if self.filter_text.is_empty() { 0.0 } else { 24.0 };
            let edit = egui::TextEdit::singleline(&mut self.filter_text)
                .hint_text(FILTER_HINT)
                .desired_width(ui.available_width() - clear_width - 190.0);
            let response = ui.add(edit).labelled_by(label.id);
            if response.changed() {
                self.filter = TreeFilter::parse(&self.filter_text);
                self.stale_computed_at_nanos = None;
                if let Some(node) = selected {
                    self.scroll_to = Some(node);
                }
            }
            if response.has_focus() {
                self.keyboard_active = false;
            }
            if !self.filter_text.is_empty()
                && ui.small_button("\u{d7}").on_hover_text("Clear the filter").clicked()
            {
                self.set_filter_text("");
            }
            let mut stale_only = self.stale_only;
            if ui
                .checkbox(&mut stale_only, "Stale only")
                .on_hover_text("Show only datapoints not seen for more than 3 typical intervals")
                .changed()
            {
                self.set_stale_only(stale_only);
            }
            if ui
                .button("Expand all")
                .on_hover_text("Expand the selected node and everything below it (all topics without a selection)")
                .clicked()
            {
                actions.push(UiAction::ExpandAllBelow(selected.unwrap_or(NodeId::ROOT)));
            }
        });
        if let TreeFilter::Wildcard(filter) = &self.filter {
            ui.weak(format!("MQTT filter {}", filter.as_str()));
        }
    }

    /// Up/Down move the selection over the visible rows, Left/Right collapse/expand (or go to the
    /// parent/first child), Enter toggles.
    fn keyboard_ui(
        &mut self,
        ui: &mut egui::Ui,
        tree: &TopicTree,
        selected: Option<NodeId>,
        actions: &mut Vec<UiAction>,
    ) {
        if !self.keyboard_active || ui.ctx().text_edit_focused() {
            return;
        }
        let pressed =
            |ui: &mut egui::Ui, key| ui.input_mut(|input| input.consume_key(Modifiers::NONE, key));
        let keys = [
            Key::ArrowUp,
            Key::ArrowDown,
            Key::ArrowLeft,
            Key::ArrowRight,
            Key::Enter,
        ]
        .map(|key| pressed(ui, key));
        let [up, down, left, right, enter] = keys;
        if !keys.contains(&true) {
            return;
        }
        let rows = self.rows.rows(tree, &self.filter);
        let current = selected.and_then(|node| rows.iter().position(|row| row.node == node));
        let Some(index) = current else {
            if up || down {
                let first = rows[0].node;
                self.select(first, actions);
            }
            return;
        };
        let row = rows[index];
        let previous = rows[index.saturating_sub(1)].node;
        let next = rows.get(index + 1).map(|row| row.node);
        let node = tree.node(row.node);
        let expanded = node.expanded || self.filter != TreeFilter::None;
        let parent = node.parent.filter(|parent| *parent != NodeId::ROOT);
        if up {
            self.select(previous, actions);
        } else if down {
            if let Some(next) = next {
                self.select(next, actions);
            }
        } else if right && row.has_children {
            match next {
                Some(next) if expanded => self.select(next, actions),
                _ => actions.push(UiAction::SetExpanded {
                    node: row.node,
                    expanded: true,
                }),
            }
        } else if left {
            if row.has_children && expanded {
                actions.push(UiAction::SetExpanded {
                    node: row.node,
                    expanded: false,
                });
            } else if let Some(parent) = parent {
                self.select(parent, actions);
            }
        } else if enter && row.has_children {
            actions.push(UiAction::SetExpanded {
                node: row.node,
                expanded: !expanded,
            });
        }
    }

    fn select(&mut self, node: NodeId, actions: &mut Vec<UiAction>) {
        self.scroll_to = Some(node);
        actions.push(UiAction::SelectTopic(node));
    }
}

/// What one row needs to draw itself.
struct RowContext<'a> {
    tree: &'a TopicTree,
    /// What the topic at this row holds, if a message arrived on exactly it.
    topic: Option<&'a TopicState>,
    /// The datapoint name or hierarchy role, value and staleness (aedifion topics only).
    annotation: Option<RowAnnotation>,
    row: Row,
    selected: bool,
    filtering: bool,
    now_nanos: Nanos,
    row_height: f32,
    id: egui::Id,
}

impl RowContext<'_> {
    fn node(&self) -> &Node {
        self.tree.node(self.row.node)
    }

    /// The arrow shows "expanded" while filtering: a filter shows all matches, whatever the flags.
    fn expanded(&self) -> bool {
        self.node().expanded || self.filtering
    }

    fn toggle(&self) -> UiAction {
        UiAction::SetExpanded {
            node: self.row.node,
            expanded: !self.expanded(),
        }
    }
}

/// Draws one row and collects what the user did with it; returns true when it was clicked.
fn row_ui(
    ui: &mut egui::Ui,
    context: &RowContext<'_>,
    actions: &mut Vec<UiAction>,
    need: &mut RepaintNeed,
) -> bool {
    let row = context.row;
    let (rect, _) = ui.allocate_exact_size(
        vec2(ui.available_width(), context.row_height),
        Sense::hover(),
    );
    let response = ui.interact(rect, context.id, Sense::CLICK);
    let indent = f32::from(row.depth) * INDENT_PER_LEVEL;
    let arrow_rect = Rect::from_min_size(
        pos2(rect.left() + indent, rect.top()),
        vec2(ARROW_WIDTH, context.row_height),
    );
    // Registered after the row, so it wins the hit test where they overlap.
    let arrow = row
        .has_children
        .then(|| ui.interact(arrow_rect, context.id.with("arrow"), Sense::CLICK));

    let name = display_name(&context.node().name);
    let mut accessible_name = accessible_row_name(&name, context.annotation.as_ref());
    if latest_evicted(context.topic) {
        accessible_name.push_str(&format!("  {EVICTED_ROW_TEXT}"));
    }
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, true, context.selected, &accessible_name)
    });
    if let Some(arrow) = &arrow {
        let label = if context.expanded() {
            "Collapse"
        } else {
            "Expand"
        };
        arrow.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, label));
    }

    let painter = ui.painter().with_clip_rect(rect.intersect(ui.clip_rect()));
    paint_background(ui, &painter, context, rect, response.hovered(), need);
    if row.has_children {
        let hovered = arrow.as_ref().is_some_and(egui::Response::hovered);
        let colour = if hovered {
            ui.visuals().strong_text_color()
        } else {
            ui.visuals().text_color()
        };
        paint_arrow(&painter, arrow_rect, context.expanded(), colour);
    }
    paint_texts(
        ui,
        &painter,
        context,
        rect,
        arrow_rect.right() + 2.0,
        &name,
        need,
    );

    if arrow.as_ref().is_some_and(egui::Response::clicked) {
        actions.push(context.toggle());
        return true;
    }
    if response.double_clicked() && row.has_children {
        actions.push(context.toggle());
    }
    response.context_menu(|ui| row_menu_ui(ui, context, actions));
    if response.clicked() || response.secondary_clicked() {
        actions.push(UiAction::SelectTopic(row.node));
        return true;
    }
    false
}

fn row_menu_ui(ui: &mut egui::Ui, context: &RowContext<'_>, actions: &mut Vec<UiAction>) {
    let node = context.row.node;
    if ui.button("Expand all below").clicked() {
        actions.push(UiAction::ExpandAllBelow(node));
        ui.close();
    }
    let toggle_label = if context.expanded() {
        "Collapse"
    } else {
        "Expand"
    };
    if context.row.has_children && ui.button(toggle_label).clicked() {
        actions.push(context.toggle());
        ui.close();
    }
    if ui.button("Copy topic path").clicked() {
        ui.ctx().copy_text(context.tree.path(node));
        ui.close();
    }
    ui.separator();
    if ui.button("Publish to this topic…").clicked() {
        actions.push(UiAction::OpenPublish(Some(context.tree.path(node))));
        ui.close();
    }
    if ui.button("Clear retained…").clicked() {
        actions.push(UiAction::ClearRetained(node));
        ui.close();
    }
}

/// Selection or hover background, plus the fading highlight of a recent change.
fn paint_background(
    ui: &egui::Ui,
    painter: &egui::Painter,
    context: &RowContext<'_>,
    rect: Rect,
    hovered: bool,
    need: &mut RepaintNeed,
) {
    let visuals = ui.visuals();
    if context.selected {
        painter.rect_filled(rect, 2.0, visuals.selection.bg_fill);
    } else if hovered {
        painter.rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
    }
    let since_change = context.now_nanos - context.node().last_change_nanos;
    if (0..HIGHLIGHT_NANOS).contains(&since_change) {
        let strength = 1.0 - since_change as f32 / HIGHLIGHT_NANOS as f32;
        let colour = Palette::for_ui(ui).change_highlight;
        painter.rect_filled(rect, 2.0, colour.gamma_multiply(strength * 0.6));
        need.fading = true;
    }
}

/// Name at the left; age and retained marker at the right; counts and the payload preview in
/// between, clipped to the space left.
fn paint_texts(
    ui: &egui::Ui,
    painter: &egui::Painter,
    context: &RowContext<'_>,
    rect: Rect,
    name_left: f32,
    name: &str,
    need: &mut RepaintNeed,
) {
    let node = context.node();
    let visuals = ui.visuals();
    let palette = Palette::for_ui(ui);
    let body_size = ui
        .text_style_height(&egui::TextStyle::Body)
        .min(context.row_height)
        - 2.0;
    let small = FontId::proportional(body_size - 1.5);
    let mono = FontId::monospace(small.size);
    let centre_y = rect.center().y;
    let name_colour = if node.name.is_empty() {
        visuals.weak_text_color()
    } else {
        visuals.strong_text_color()
    };
    let name_rect = painter.text(
        pos2(name_left, centre_y),
        Align2::LEFT_CENTER,
        name,
        FontId::proportional(body_size),
        name_colour,
    );

    let mut right = rect.right() - 4.0;
    if node.subtree_messages > 0 {
        let elapsed = context.now_nanos - node.last_change_nanos;
        let age = format_age(elapsed);
        let age_rect = painter.text(
            pos2(right, centre_y),
            Align2::RIGHT_CENTER,
            age,
            small.clone(),
            visuals.weak_text_color(),
        );
        right = age_rect.left() - 6.0;
        // Ages in hours or days change too rarely to be worth a timer.
        if elapsed < 3600 * 1_000_000_000 {
            let change_in = age_text_changes_in_nanos(elapsed);
            need.next_age_change_nanos = Some(
                need.next_age_change_nanos
                    .map_or(change_in, |n| n.min(change_in)),
            );
        }
    }
    let latest = context.topic.and_then(|topic| topic.history.latest());
    // From the topic, not the message: the marker stays while the memory budget evicted it.
    if context.topic.is_some_and(TopicState::latest_retained) {
        let marker = painter.text(
            pos2(right, centre_y),
            Align2::RIGHT_CENTER,
            "R",
            mono.clone(),
            palette.retained,
        );
        right = marker.left() - 6.0;
    }

    if context.annotation.as_ref().is_some_and(|a| a.stale) {
        let marker = painter.text(
            pos2(right, centre_y),
            Align2::RIGHT_CENTER,
            "stale",
            small.clone(),
            palette.warning,
        );
        right = marker.left() - 6.0;
    }

    // A datapoint's value sits at the right, so a long name is cut rather than its value.
    if let Some(value) = context
        .annotation
        .as_ref()
        .and_then(|annotation| annotation.value_text.clone())
    {
        let galley = painter.layout_no_wrap(value, mono.clone(), palette.preview);
        let left = right - galley.size().x;
        if left > name_rect.right() + 16.0 {
            painter.galley(
                pos2(left, centre_y - galley.size().y / 2.0),
                galley,
                palette.preview,
            );
            right = left - 8.0;
        }
    }

    let mut x = name_rect.right() + 8.0;
    let middle = painter.with_clip_rect(
        Rect::from_x_y_ranges(x..=right.max(x), rect.y_range()).intersect(painter.clip_rect()),
    );
    let counts = if context.row.has_children {
        format!(
            "{} topics \u{b7} {} msgs",
            format_count(u64::from(node.subtree_topics)),
            format_count(node.subtree_messages)
        )
    } else {
        context
            .topic
            .map(|topic| format!("({})", format_count(topic.message_count)))
            .unwrap_or_default()
    };
    if let Some(annotation) = &context.annotation {
        let (font, colour) = if annotation.is_name {
            (FontId::proportional(body_size), palette.json_key)
        } else {
            (small.clone(), visuals.weak_text_color())
        };
        let label_rect = middle.text(
            pos2(x, centre_y),
            Align2::LEFT_CENTER,
            &annotation.label,
            font,
            colour,
        );
        x = label_rect.right() + 8.0;
        if annotation.value_text.is_some() {
            // The value (drawn at the right) says it all; counts and raw preview would repeat it.
            return;
        }
    }
    if !counts.is_empty() {
        let counts_rect = middle.text(
            pos2(x, centre_y),
            Align2::LEFT_CENTER,
            counts,
            small,
            visuals.weak_text_color(),
        );
        x = counts_rect.right() + 8.0;
    }
    if let Some(latest) = latest {
        let preview = format!("= {}", latest.decoded.preview);
        middle.text(
            pos2(x, centre_y),
            Align2::LEFT_CENTER,
            preview,
            mono,
            palette.preview,
        );
    } else if latest_evicted(context.topic) {
        middle.text(
            pos2(x, centre_y),
            Align2::LEFT_CENTER,
            EVICTED_ROW_TEXT,
            FontId::proportional(body_size),
            visuals.weak_text_color(),
        );
    }
}

/// Shown in a topic's row instead of the preview while the memory budget has evicted its latest
/// message (the details panel explains it).
const EVICTED_ROW_TEXT: &str = "(evicted: memory budget)";

/// The memory budget has evicted the latest message of the topic at this node.
fn latest_evicted(topic: Option<&TopicState>) -> bool {
    topic.is_some_and(TopicState::latest_evicted)
}

/// What a screen reader (and a GUI test) reads for a row: the level name, and for a datapoint
/// topic also its name, value and staleness, as the row shows them.
fn accessible_row_name(name: &str, annotation: Option<&RowAnnotation>) -> String {
    let Some(annotation) = annotation.filter(|annotation| annotation.is_name) else {
        return name.to_owned();
    };
    let mut text = format!("{name}  {}", annotation.label);
    if let Some(value) = &annotation.value_text {
        text.push_str(&format!(" \u{b7} {value}"));
    }
    if annotation.stale {
        text.push_str(" \u{b7} stale");
    }
    text
}

/// A level's name as shown; empty levels (`a//b`, a leading `/`) get a visible placeholder.
fn display_name(name: &str) -> String {
    if name.is_empty() {
        "(empty level)".to_owned()
    } else {
        name.to_owned()
    }
}

fn paint_arrow(painter: &egui::Painter, rect: Rect, expanded: bool, colour: Color32) {
    let centre = rect.center();
    let size = 4.0;
    let points = if expanded {
        vec![
            pos2(centre.x - size, centre.y - size * 0.6),
            pos2(centre.x + size, centre.y - size * 0.6),
            pos2(centre.x, centre.y + size * 0.7),
        ]
    } else {
        vec![
            pos2(centre.x - size * 0.6, centre.y - size),
            pos2(centre.x + size * 0.7, centre.y),
            pos2(centre.x - size * 0.6, centre.y + size),
        ]
    };
    painter.add(Shape::convex_polygon(points, colour, Stroke::NONE));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_levels_get_a_visible_name() {
        assert_eq!(display_name(""), "(empty level)");
        assert_eq!(display_name("lbg01"), "lbg01");
    }
}
