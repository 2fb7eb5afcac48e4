//! The topic tree: an arena of levels with per-subtree counters and a cached,
//! flattened list of visible rows so the UI lays out only what is on screen.
//! OWNER: model-core helper. Signatures are the contract for the UI layer.

use super::message::Nanos;
use super::store::TopicState;

/// Index of a node in the tree's arena. The root (empty level) is `NodeId::ROOT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const ROOT: NodeId = NodeId(0);
}

/// One topic level.
#[derive(Debug)]
pub struct Node {
    /// This level's name (may be empty: `a//b` has an empty middle level).
    pub name: Box<str>,
    pub parent: Option<NodeId>,
    /// 0 for the root's children.
    pub depth: u16,
    /// Present when a message was received on exactly this topic.
    pub topic: Option<Box<TopicState>>,
    /// Messages received on this node and everything below it.
    pub subtree_messages: u64,
    /// Number of topics (nodes with messages) at or below this node.
    pub subtree_topics: u32,
    /// Receive time of the newest message at or below this node.
    pub last_change_nanos: Nanos,
    pub expanded: bool,
}

/// One row of the flattened, visible tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub node: NodeId,
    pub depth: u16,
    pub has_children: bool,
}

/// What the filter box narrows the tree to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TreeFilter {
    #[default]
    None,
    /// Case-insensitive substring of the full topic path.
    Substring(String),
    /// An MQTT filter with `+`/`#`.
    Wildcard(super::topic::TopicFilter),
}

impl TreeFilter {
    /// Interprets the filter box: empty → none, contains `+` or `#` and parses → wildcard, else substring.
    pub fn parse(text: &str) -> Self {
        let _ = text;
        todo!()
    }
}

/// The arena tree. Children are kept in natural order ("a2" before "a10").
#[derive(Debug)]
pub struct TopicTree {
    nodes: Vec<Node>,
}

impl TopicTree {
    pub fn new() -> Self {
        todo!()
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }
    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id.0 as usize]
    }
    /// Children of `id` in natural order.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let _ = id;
        todo!()
    }
    /// The node for a full topic path, if it exists.
    pub fn find(&self, path: &str) -> Option<NodeId> {
        let _ = path;
        todo!()
    }
    /// The full topic path of a node (`a/b/c`).
    pub fn path(&self, id: NodeId) -> String {
        let _ = id;
        todo!()
    }
    /// Number of nodes, root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }
    pub fn set_expanded(&mut self, id: NodeId, expanded: bool) {
        let _ = (id, expanded);
        todo!()
    }
    /// Expands `id` and every node below it.
    pub fn expand_all_below(&mut self, id: NodeId) {
        let _ = id;
        todo!()
    }
    /// Expands every ancestor of `id` so it becomes visible.
    pub fn reveal(&mut self, id: NodeId) {
        let _ = id;
        todo!()
    }
    /// The visible rows under the current expansion and filter. Cached: recomputed only when the
    /// structure, an expansion or the filter changed, never because a message arrived on an existing topic.
    pub fn visible_rows(&mut self, filter: &TreeFilter) -> &[Row] {
        let _ = filter;
        todo!()
    }
}

impl Default for TopicTree {
    fn default() -> Self {
        Self::new()
    }
}
