//! The explorer: the store plus the panels that show it (tree, details, plot, status bar).
//!
//! It needs no window, network or demo: build it from a filled [`Store`], call [`Explorer::ui`]
//! inside any `egui::Ui` and [`Explorer::apply`] on the returned actions. The app adds the top
//! bar, the worker and the windows around it; the GUI tests drive it directly.

use crate::model::message::{Nanos, now_nanos};
use crate::model::store::Store;
use crate::model::tree::NodeId;

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

/// The store and its panels.
#[derive(Debug)]
pub struct Explorer {
    store: Store,
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
    /// An explorer over `store` with default view choices.
    pub fn new(store: Store) -> Self {
        Self::with_view_state(store, ExplorerViewState::default())
    }

    /// An explorer over `store` restoring earlier view choices.
    pub fn with_view_state(store: Store, view: ExplorerViewState) -> Self {
        Self {
            store,
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

    /// The store (read-only).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, to apply messages.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
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

    /// Forgets every topic and series and the selection.
    pub fn clear(&mut self) {
        self.store.clear();
        self.selected = None;
    }

    /// Draws the status bar, tree, plot and details into `ui` (which they fill); returns what the
    /// user asked for. Nothing is changed until the actions are [applied](Self::apply).
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Vec<UiAction> {
        let now_nanos = self.fixed_now_nanos.unwrap_or_else(now_nanos);
        let mut actions = Vec::new();
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            status_bar_ui(ui, &self.status, &self.store);
        });
        egui::Panel::left("topic_tree")
            .resizable(true)
            .default_size(560.0)
            .min_size(200.0)
            .show(ui, |ui| {
                // Fill the panel: egui keeps a panel only as wide as what it drew, and the
                // tree's rows truncate, so without this the panel would shrink frame by frame.
                ui.set_min_width(ui.available_width());
                let operations = self.store.datapoints().controls().len();
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
                let (tree, datapoints) = self.store.tree_and_datapoints_mut();
                self.tree
                    .ui(ui, tree, datapoints, self.selected, now_nanos, &mut actions);
            });
        egui::Panel::bottom("plot")
            .resizable(true)
            .default_size(260.0)
            .min_size(120.0)
            .show(ui, |ui| {
                self.plot.ui(ui, &self.store, now_nanos, &mut actions);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            self.details
                .ui(ui, &self.store, self.selected, now_nanos, &mut actions);
        });
        self.controls
            .ui(ui.ctx(), self.store.datapoints().controls());
        self.busiest
            .ui(ui.ctx(), &mut self.store, now_nanos, &mut actions);
        actions
    }

    /// Applies an action that concerns the explorer (selection, tree, series, limits); returns
    /// the action back when it is for the app (connect, settings, …).
    pub fn apply(&mut self, action: UiAction) -> Option<UiAction> {
        match action {
            UiAction::SelectTopic(node) => {
                self.selected = Some(node);
            }
            UiAction::SetExpanded { node, expanded } => {
                self.store.tree_mut().set_expanded(node, expanded);
                if !expanded
                    && self
                        .selected
                        .is_some_and(|selected| self.is_below(selected, node))
                {
                    // The selection would vanish inside the collapsed node: move it up.
                    self.selected = Some(node);
                }
            }
            UiAction::ExpandAllBelow(node) => {
                self.store.tree_mut().expand_all_below(node);
            }
            UiAction::AddSeries { node, key } => {
                self.store.add_series(node, key);
            }
            UiAction::RemoveSeries(id) => self.store.remove_series(id),
            UiAction::SetSeriesTimeSource { id, time_source } => {
                self.store.set_series_time_source(id, time_source);
            }
            UiAction::ClearStore => self.clear(),
            UiAction::SetLimits(limits) => self.store.set_limits(limits),
            other => return Some(other),
        }
        None
    }

    /// Draws and applies the explorer's own actions at once; returns those for the app.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Vec<UiAction> {
        let actions = self.ui(ui);
        actions
            .into_iter()
            .filter_map(|action| self.apply(action))
            .collect()
    }

    /// Selects a topic by path, expanding its ancestors and scrolling to it. Returns false when
    /// no such topic is known.
    pub fn select_path(&mut self, path: &str) -> bool {
        let Some(node) = self.store.tree().find(path) else {
            return false;
        };
        self.store.tree_mut().reveal(node);
        self.tree.scroll_to(node);
        self.selected = Some(node);
        true
    }

    fn is_below(&self, node: NodeId, ancestor: NodeId) -> bool {
        let tree = self.store.tree();
        let mut current = tree.node(node).parent;
        while let Some(parent) = current {
            if parent == ancestor {
                return true;
            }
            current = tree.node(parent).parent;
        }
        false
    }
}
