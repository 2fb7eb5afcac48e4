//! What panels ask for. Panels never change the store or the connection while drawing; they
//! return these, and the app applies them at one point in the frame, after drawing.

use crate::model::config::profile::Profile;
use crate::model::decode::payload::ValueKey;
use crate::model::store::{Limits, SeriesId};
use crate::model::topic::tree::NodeId;

/// A request from a panel, applied after the frame's panels are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum UiAction {
    /// Show this node in the details panel.
    SelectTopic(NodeId),
    /// Expand or collapse one node of the tree.
    SetExpanded { node: NodeId, expanded: bool },
    /// Expand a node and everything below it.
    ExpandAllBelow(NodeId),
    /// Start plotting one number of a topic's payloads.
    AddSeries { node: NodeId, key: ValueKey },
    /// Stop plotting a series.
    RemoveSeries(SeriesId),
    /// Time a series by the payload's timestamps or by arrival.
    SetSeriesTimeSource {
        id: SeriesId,
        time_source: crate::model::store::series::TimeSource,
    },
    /// Connect with this profile (replaces any current connection).
    Connect {
        profile: Box<Profile>,
        password: Option<crate::model::config::secret::Password>,
    },
    /// Connect with the saved profile of this id (the app looks up its password).
    ConnectSaved { profile_id: String },
    /// Start (if needed) the built-in demo broker and connect to it.
    ConnectDemo,
    /// Close the current connection.
    Disconnect,
    /// Forget every received topic and series.
    ClearStore,
    /// Open the profile editor window.
    OpenProfileEditor,
    /// Open the settings window.
    OpenSettings,
    /// Open the aedifion account window (sign in, pick a project, connect a new profile).
    OpenAedifionAccount,
    /// New store limits from the settings window.
    SetLimits(Limits),
    /// Open the publish window, with this topic filled in if given.
    OpenPublish(Option<String>),
    /// Open the SWOP setpoint composer.
    OpenSetpoint,
    /// Open the audit log viewer.
    OpenAuditLog,
    /// Open the About window.
    OpenAbout,
    /// Clear the retained messages at and below this node (after a confirmation).
    ClearRetained(NodeId),
}
