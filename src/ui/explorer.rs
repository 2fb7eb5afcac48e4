//! The explorer: the panels that show a store (tree, details, plot, status bar) and the view
//! state they keep (selection, filter, rows, plot window). It holds no store: the app's session
//! does.
//!
//! It needs no window, network or demo. Per frame: [`Explorer::logic`] with the store mutably
//! (before drawing), [`Explorer::ui`] reading `&Store` and returning actions, then
//! [`Explorer::apply`] on each action with the store mutably. The app adds the top bar, the
//! sessions and the windows around it; the GUI tests drive it directly ([`Explorer::show`]).

use crate::model::store::Store;
use crate::model::time::{Nanos, now_nanos};
use crate::model::topic::tree::NodeId;

use super::action::UiAction;
use super::busiest::{BUSIEST_TITLE, BusiestWindow};
use super::controls_view::ControlsWindow;
use super::details::DetailsPanel;
use super::payload_view::ViewMode;
use super::plot::{PlotPanel, PlotWindow};
use super::status_bar::{StatusView, status_bar_ui};
use super::tree_view::TreePanel;

/// View choices worth keeping between runs (the app persists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExplorerViewState {
    pub payload_mode: ViewMode,
    pub plot_window: PlotWindow,
}

/// The panels over a store, and their view state.
#[derive(Debug)]
pub struct Explorer {
    selected: Option<NodeId>,
    tree: TreePanel,
    details: DetailsPanel,
    plot: PlotPanel,
    status: StatusView,
    controls: ControlsWindow,
    busiest: BusiestWindow,
    /// A fixed "now" for deterministic tests; `None` uses the wall clock.
    fixed_now_nanos: Option<Nanos>,
}

impl Explorer {
    /// An explorer with default view choices.
    pub fn new() -> Self {
        Self::with_view_state(ExplorerViewState::default())
    }

    /// An explorer restoring earlier view choices.
    pub fn with_view_state(view: ExplorerViewState) -> Self {
        Self {
            selected: None,
            tree: TreePanel::default(),
            details: DetailsPanel::new(view.payload_mode),
            plot: PlotPanel::new(view.plot_window),
            status: StatusView {
                connection: "Not connected".to_owned(),
                ..StatusView::default()
            },
            controls: ControlsWindow::default(),
            busiest: BusiestWindow::default(),
            fixed_now_nanos: None,
        }
    }

    /// The view choices to persist.
    pub fn view_state(&self) -> ExplorerViewState {
        ExplorerViewState {
            payload_mode: self.details.mode,
            plot_window: self.plot.window,
        }
    }

    /// The node shown in the details panel.
    pub fn selected(&self) -> Option<NodeId> {
        self.selected
    }

    /// The status bar's connection part (set by the app every frame).
    pub fn set_status(&mut self, status: StatusView) {
        self.status = status;
    }

    /// What the status bar shows.
    pub fn status(&self) -> &StatusView {
        &self.status
    }

    /// Freezes the clock used for ages and the plot window (tests); `None` returns to the wall clock.
    pub fn set_fixed_now(&mut self, now: Option<Nanos>) {
        self.fixed_now_nanos = now;
    }

    /// Opens or closes the busiest-topics window.
    pub fn set_busiest_open(&mut self, open: bool) {
        self.busiest.open = open;
    }

    /// Opens or closes the controls timeline window.
    pub fn set_controls_open(&mut self, open: bool) {
        self.controls.open = open;
    }

    /// Shows only the topics of stale datapoints in the tree (or everything again).
    pub fn set_stale_only(&mut self, stale_only: bool) {
        self.tree.set_stale_only(stale_only);
    }

    /// Sets the tree's filter box text.
    pub fn set_filter_text(&mut self, text: &str) {
        self.tree.set_filter_text(text);
    }

    /// Forgets the selection (the store it pointed into was cleared or replaced).
    pub fn clear_selection(&mut self) {
        self.selected = None;
    }

    fn now_nanos(&self) -> Nanos {
        self.fixed_now_nanos.unwrap_or_else(now_nanos)
    }

    /// The logic step, after the session's pump and before drawing: the work that changes the
    /// store on the panels' behalf (the busiest ranking, refreshed once per second while shown).
    pub fn logic(&mut self, store: &mut Store) {
        self.busiest.logic(store, self.now_nanos());
    }

    /// Draws the status bar, tree, plot and details of `store` into `ui` (which they fill);
    /// returns what the user asked for. Nothing is changed until the actions are
    /// [applied](Self::apply).
    pub fn ui(&mut self, ui: &mut egui::Ui, store: &Store) -> Vec<UiAction> {
        let now_nanos = self.now_nanos();
        let mut actions = Vec::new();
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            status_bar_ui(ui, &self.status, store);
        });
        egui::Panel::left("topic_tree")
            .resizable(true)
            .default_size(560.0)
            .min_size(200.0)
            .show(ui, |ui| {
                // Fill the panel: egui keeps a panel only as wide as what it drew, and the
                // tree's rows truncate, so without this the panel would shrink frame by frame.
                ui.set_min_width(ui.available_width());
                let operations = store.datapoints().controls().len();
                if ui
                    .selectable_label(
                        self.controls.open,
                        format!("Controls timeline ({operations})"),
                    )
                    .on_hover_text(
                        "SWOP setpoint requests on CONTROLS/… and their acknowledgements",
                    )
                    .clicked()
                {
                    self.controls.open = !self.controls.open;
                }
                if ui
                    .selectable_label(self.busiest.open, BUSIEST_TITLE)
                    .on_hover_text("Topics and subtrees ranked by messages/s and bytes/s")
                    .clicked()
                {
                    self.busiest.open = !self.busiest.open;
                }
                self.tree
                    .ui(ui, store, self.selected, now_nanos, &mut actions);
            });
        egui::Panel::bottom("plot")
            .resizable(true)
            .default_size(260.0)
            .min_size(120.0)
            .show(ui, |ui| {
                self.plot.ui(ui, store, now_nanos, &mut actions);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            self.details
                .ui(ui, store, self.selected, now_nanos, &mut actions);
        });
        self.controls.ui(ui.ctx(), store.datapoints().controls());
        self.busiest.ui(ui.ctx(), store, &mut actions);
        actions
    }

    /// Applies an action that concerns the explorer and its store (selection, tree, series,
    /// limits); returns the action back when it is for the app (connect, settings, …).
    pub fn apply(&mut self, action: UiAction, store: &mut Store) -> Option<UiAction> {
        match action {
            UiAction::SelectTopic(node) => {
                self.selected = Some(node);
            }
            UiAction::SetExpanded { node, expanded } => {
                store.tree_mut().set_expanded(node, expanded);
                if !expanded
                    && self
                        .selected
                        .is_some_and(|selected| is_below(store, selected, node))
                {
                    // The selection would vanish inside the collapsed node: move it up.
                    self.selected = Some(node);
                }
            }
            UiAction::ExpandAllBelow(node) => {
                store.tree_mut().expand_all_below(node);
            }
            UiAction::AddSeries { node, key } => {
                store.add_series(node, key);
            }
            UiAction::RemoveSeries(id) => store.remove_series(id),
            UiAction::SetSeriesTimeSource { id, time_source } => {
                store.set_series_time_source(id, time_source);
            }
            UiAction::ClearStore => {
                store.clear();
                self.selected = None;
            }
            UiAction::SetLimits(limits) => store.set_limits(limits),
            other => return Some(other),
        }
        None
    }

    /// One whole frame over `store` (logic, drawing, applying the explorer's own actions);
    /// returns the actions for the app.
    pub fn show(&mut self, ui: &mut egui::Ui, store: &mut Store) -> Vec<UiAction> {
        self.logic(store);
        let actions = self.ui(ui, store);
        actions
            .into_iter()
            .filter_map(|action| self.apply(action, store))
            .collect()
    }

    /// Selects a topic by path, expanding its ancestors and scrolling to it. Returns false when
    /// no such topic is known.
    pub fn select_path(&mut self, path: &str, store: &mut Store) -> bool {
        let Some(node) = store.tree().find(path) else {
            return false;
        };
        store.tree_mut().reveal(node);
        self.tree.scroll_to(node);
        self.selected = Some(node);
        true
    }
}

impl Default for Explorer {
    fn default() -> Self {
        Self::new()
    }
}

/// True if `node` lies somewhere below `ancestor`.
fn is_below(store: &Store, node: NodeId, ancestor: NodeId) -> bool {
    let tree = store.tree();
    let mut current = tree.node(node).parent;
    while let Some(parent) = current {
        if parent == ancestor {
            return true;
        }
        current = tree.node(parent).parent;
    }
    false
}
