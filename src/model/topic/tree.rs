//! The topic tree: an arena of levels with per-subtree counters, a path index and per-node
//! labels. It knows which nodes are topics, not what they hold (the store keeps that by node).
//!
//! Levels are split on `/`; empty levels are real nodes (`a//b`, `/a`). A node is created before
//! its children, so a parent's index is always lower than its children's. Children are kept in
//! natural order, in chunks of at most `CHUNK_SPLIT_LEN` so that inserting into a level with a
//! million children moves a few kilobytes rather than megabytes, and are found by binary search.
//! Counters are updated along the path to the root: O(depth) per message.
//!
//! A generation counter changes whenever the *structure* changes (a node or topic appeared, an
//! expansion flag changed), so a view can cache its flattened rows until then (the tree panel's
//! `ui::tree_rows`). A message on an existing topic changes counters only.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use crate::model::time::Nanos;
use crate::model::topic::children::{ChildList, InsertPosition};
use crate::model::topic::natural::natural_cmp;

use crate::model::topic::children::Children;
use crate::model::topic::level::LevelName;
use crate::model::topic::node_map::NodeMap;

/// Index of a node in the tree's arena. The root (empty level) is `NodeId::ROOT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The invisible root above the first levels.
    pub const ROOT: NodeId = NodeId(0);

    /// The position in the arena (and in any per-node vector such as `NodeMap`).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One topic level.
#[derive(Debug)]
pub struct Node {
    /// This level's name (may be empty: `a//b` has an empty middle level).
    pub name: LevelName,
    /// `None` only for the root.
    pub parent: Option<NodeId>,
    /// 0 for the root's children (saturates at `u16::MAX`, which MQTT's 64 KiB topics never reach).
    pub depth: u16,
    /// A message was received on exactly this topic (what it holds lives in the store).
    is_topic: bool,
    /// Messages received on this node and everything below it.
    pub subtree_messages: u64,
    /// Number of topics (nodes with messages) at or below this node.
    pub subtree_topics: u32,
    /// Receive time of the newest message at or below this node.
    pub last_change_nanos: Nanos,
    /// Shown expanded (change it with [`TopicTree::set_expanded`] so the row cache notices).
    pub expanded: bool,
    /// In natural order of their names.
    children: ChildList,
}

/// New nodes above this depth start expanded, so a first look shows real topics
/// (`lbg01` → `demo_building` → datapoints) instead of one collapsed row per first level.
pub const AUTO_EXPANDED_DEPTH: u16 = 2;

impl Node {
    fn new(name: &str, parent: Option<NodeId>, depth: u16) -> Self {
        Self {
            name: name.into(),
            parent,
            depth,
            is_topic: false,
            subtree_messages: 0,
            subtree_topics: 0,
            last_change_nanos: 0,
            expanded: depth < AUTO_EXPANDED_DEPTH,
            children: ChildList::default(),
        }
    }

    /// True if a message was received on exactly this topic.
    pub fn is_topic(&self) -> bool {
        self.is_topic
    }

    /// True if any level lies below this one.
    pub fn has_children(&self) -> bool {
        !self.children.is_empty()
    }
}

/// The arena tree. Children are kept in natural order ("a2" before "a10").
#[derive(Debug)]
pub struct TopicTree {
    nodes: Vec<Node>,
    /// Bumped on every change that can change the visible rows.
    generation: u64,
    /// Hash of a full path → the node [`TopicTree::insert`] returned for it, so a message on a
    /// known topic skips the level-by-level binary search (which costs a cache miss per step on a
    /// big tree). Hits are verified against the tree, so a collision only costs the slow path.
    /// Keyed by 32 of the hash's bits: half the slot size, and a rare collision only costs the
    /// slow path.
    path_index: HashMap<u32, NodeId, BuildHasherDefault<PrehashedHasher>>,
    /// Randomly keyed, so outside input cannot aim for collisions.
    path_hasher: RandomState,
    /// Extra names nodes are known by (aedifion datapoint names of hashed topics), matched by
    /// the substring filter like the path.
    labels: NodeMap<std::sync::Arc<str>>,
}

/// A hasher for keys that already are well-mixed 64-bit hashes.
#[derive(Debug, Default)]
struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for the index; fold anything else in so it still hashes.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn write_u32(&mut self, value: u32) {
        // The table uses the top bits as tags and the low bits as positions: spread 32 bits over 64.
        self.0 = u64::from(value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl TopicTree {
    /// A tree holding only the root.
    pub fn new() -> Self {
        let mut root = Node::new("", None, 0);
        root.expanded = true;
        Self {
            nodes: vec![root],
            generation: 0,
            path_index: HashMap::default(),
            path_hasher: RandomState::new(),
            labels: NodeMap::default(),
        }
    }

    /// The node `id`. Panics on an id that did not come from this tree; see [`TopicTree::get`].
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The node `id`, mutably. Change expansion with [`TopicTree::set_expanded`] instead, so the
    /// row cache notices.
    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id.index()]
    }

    /// The node `id`, or `None` for an id not in this tree (e.g. kept across [`Store::clear`]).
    ///
    /// [`Store::clear`]: crate::model::store::Store::clear
    pub fn get(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// The node `id` mutably, or `None` for an id not in this tree. Change expansion with
    /// [`TopicTree::set_expanded`] instead, so the row cache notices.
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.get_mut(id.index())
    }

    /// Children of `id` in natural order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        match self.get(id) {
            Some(node) => node.children.iter(),
            None => Children::empty(),
        }
    }

    /// Number of children of `id`.
    pub fn child_count(&self, id: NodeId) -> usize {
        self.get(id).map_or(0, |node| node.children.len())
    }

    /// The parent of `id` (`None` for the root and unknown ids).
    pub fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        self.get(id)?.parent
    }

    /// The node for a full topic path, if it exists.
    pub fn find(&self, path: &str) -> Option<NodeId> {
        if let Some(id) = self.indexed(path, self.path_hash(path)) {
            return Some(id);
        }
        path.split('/').try_fold(NodeId::ROOT, |parent, level| {
            self.find_child(parent, level).ok()
        })
    }

    /// The full topic path of a node (`a/b/c`); empty for the root and unknown ids.
    pub fn path(&self, id: NodeId) -> String {
        let mut levels = Vec::new();
        let mut current = id;
        while let Some(node) = self.get(current) {
            let Some(parent) = node.parent else { break };
            levels.push(node.name.as_str());
            current = parent;
        }
        levels.reverse();
        levels.join("/")
    }

    /// Number of nodes, root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes of node slots the arena has allocated but not used yet (it grows by doubling), for
    /// the store's memory estimate.
    pub fn spare_bytes(&self) -> usize {
        (self.nodes.capacity() - self.nodes.len()) * std::mem::size_of::<Node>()
    }

    /// True when only the root exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// Changes whenever the visible rows may have changed (for callers caching derived data).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Expands or collapses one node.
    pub fn set_expanded(&mut self, id: NodeId, expanded: bool) {
        if let Some(node) = self.nodes.get_mut(id.index())
            && node.expanded != expanded
            && id != NodeId::ROOT
        {
            node.expanded = expanded;
            self.generation += 1;
        }
    }

    /// Flips the expansion of one node.
    pub fn toggle_expanded(&mut self, id: NodeId) {
        if let Some(expanded) = self.get(id).map(|node| node.expanded) {
            self.set_expanded(id, !expanded);
        }
    }

    /// Expands `id` and every node below it.
    pub fn expand_all_below(&mut self, id: NodeId) {
        self.set_expanded_below(id, true);
    }

    /// Collapses `id` and every node below it.
    pub fn collapse_all_below(&mut self, id: NodeId) {
        self.set_expanded_below(id, false);
    }

    /// Collapses every node, so only the first levels are visible.
    pub fn collapse_all(&mut self) {
        self.set_expanded_below(NodeId::ROOT, false);
    }

    /// Expands every ancestor of `id` so it becomes visible.
    pub fn reveal(&mut self, id: NodeId) {
        let mut current = self.parent_of(id);
        while let Some(ancestor) = current {
            self.set_expanded(ancestor, true);
            current = self.parent_of(ancestor);
        }
    }

    /// The node for `path`, creating missing levels. `None` only if the arena is full (4 billion nodes).
    pub fn insert(&mut self, path: &str) -> Option<NodeId> {
        let hash = self.path_hash(path);
        if let Some(id) = self.indexed(path, hash) {
            return Some(id);
        }
        let mut current = NodeId::ROOT;
        for (depth, level) in path.split('/').enumerate() {
            current = match self.find_child(current, level) {
                Ok(child) => child,
                Err(position) => self.add_child(current, position, level, depth)?,
            };
        }
        // On a collision the first path keeps the slot; the other takes the slow path.
        self.path_index.entry(hash).or_insert(current);
        Some(current)
    }

    /// Gives `id` a label (e.g. the datapoint name of a hashed topic) that the substring filter
    /// matches as well as the path. Unknown ids are ignored.
    /// Takes an `Arc` so a name held elsewhere (the datapoint registry) is shared, not copied.
    pub fn set_label(&mut self, id: NodeId, label: impl Into<std::sync::Arc<str>>) {
        let label = label.into();
        if id.index() >= self.nodes.len() || self.label(id) == Some(&*label) {
            return;
        }
        self.labels.insert(id, label);
        // The label can make the node match the current filter.
        self.generation += 1;
    }

    /// The label of `id`, if one was set.
    pub fn label(&self, id: NodeId) -> Option<&str> {
        self.labels.get(id).map(|label| &**label)
    }

    /// Heap bytes of the labels' slots (the texts are shared with the datapoint registry).
    pub fn label_bytes(&self) -> usize {
        self.labels.heap_bytes()
    }

    /// Number of paths in the fast lookup index (for the memory estimate).
    pub fn indexed_paths(&self) -> usize {
        self.path_index.len()
    }

    /// The path index's key for `path` (the low 32 bits of a keyed hash).
    fn path_hash(&self, path: &str) -> u32 {
        self.path_hasher.hash_one(path) as u32
    }

    /// The indexed node for `path`, if its hash is indexed and the node really has this path.
    fn indexed(&self, path: &str, hash: u32) -> Option<NodeId> {
        let id = *self.path_index.get(&hash)?;
        self.has_path(id, path).then_some(id)
    }

    /// Whether `id`'s full path is `path`, comparing level by level from the leaf up.
    fn has_path(&self, id: NodeId, path: &str) -> bool {
        let mut current = id;
        for level in path.rsplit('/') {
            let Some(node) = self.get(current) else {
                return false;
            };
            let Some(parent) = node.parent else {
                return false;
            };
            if node.name.as_str() != level {
                return false;
            }
            current = parent;
        }
        current == NodeId::ROOT
    }

    /// Marks `id` as a topic (it just received its first message) and counts it upwards.
    pub fn mark_topic(&mut self, id: NodeId) {
        let Some(node) = self.nodes.get_mut(id.index()) else {
            return;
        };
        if std::mem::replace(&mut node.is_topic, true) {
            return;
        }
        self.for_each_ancestor_or_self(id, |_, node| {
            node.subtree_topics = node.subtree_topics.saturating_add(1)
        });
        // A new topic can start matching a filter.
        self.generation += 1;
    }

    /// Counts a message received at `received_at_nanos` on `id` and on every ancestor, and
    /// hands each of those nodes (root included) to `on_level`, so the caller's own per-level
    /// counts (the store's rates) ride on the same walk.
    pub fn record_message(
        &mut self,
        id: NodeId,
        received_at_nanos: Nanos,
        mut on_level: impl FnMut(NodeId),
    ) {
        self.for_each_ancestor_or_self(id, |level, node| {
            node.subtree_messages += 1;
            node.last_change_nanos = node.last_change_nanos.max(received_at_nanos);
            on_level(level);
        });
    }

    fn for_each_ancestor_or_self(&mut self, id: NodeId, mut update: impl FnMut(NodeId, &mut Node)) {
        let mut current = Some(id);
        while let Some(level) = current {
            let Some(node) = self.nodes.get_mut(level.index()) else {
                return;
            };
            update(level, node);
            current = node.parent;
        }
    }

    /// Binary search among `parent`'s children: `Ok(child)` or `Err(insert position)`.
    fn find_child(&self, parent: NodeId, level: &str) -> Result<NodeId, InsertPosition> {
        let Some(node) = self.get(parent) else {
            return Err(InsertPosition::FIRST);
        };
        node.children
            .search(|child| natural_cmp(&self.nodes[child.index()].name, level))
    }

    fn add_child(
        &mut self,
        parent: NodeId,
        position: InsertPosition,
        level: &str,
        depth: usize,
    ) -> Option<NodeId> {
        let id = NodeId(u32::try_from(self.nodes.len()).ok()?);
        let depth = u16::try_from(depth).unwrap_or(u16::MAX);
        self.nodes.get(parent.index())?;
        self.nodes.push(Node::new(level, Some(parent), depth));
        self.nodes
            .get_mut(parent.index())?
            .children
            .insert(position, id);
        self.generation += 1;
        Some(id)
    }

    fn set_expanded_below(&mut self, id: NodeId, expanded: bool) {
        let mut pending = vec![id];
        let mut changed = false;
        while let Some(current) = pending.pop() {
            let Some(node) = self.nodes.get_mut(current.index()) else {
                continue;
            };
            if current != NodeId::ROOT && node.expanded != expanded && !node.children.is_empty() {
                node.expanded = expanded;
                changed = true;
            }
            pending.extend(node.children.iter());
        }
        if changed {
            self.generation += 1;
        }
    }
}

impl Default for TopicTree {
    fn default() -> Self {
        Self::new()
    }
}

/// Trees for tests here and in the views built on the tree.
#[cfg(test)]
pub(crate) mod test_trees {
    use super::*;

    /// A tree holding a message on each of `paths`, in order.
    pub(crate) fn tree_with(paths: &[&str]) -> TopicTree {
        let mut tree = TopicTree::new();
        for (index, path) in paths.iter().enumerate() {
            add_message(&mut tree, path, index as Nanos);
        }
        tree
    }

    /// What the store does for one message, minus the history.
    pub(crate) fn add_message(tree: &mut TopicTree, path: &str, at_nanos: Nanos) -> NodeId {
        let id = tree.insert(path).expect("room for the node");
        tree.mark_topic(id);
        tree.record_message(id, at_nanos, |_| {});
        id
    }

    /// The level names of `ids`.
    pub(crate) fn names(tree: &TopicTree, ids: impl IntoIterator<Item = NodeId>) -> Vec<String> {
        ids.into_iter()
            .map(|id| tree.node(id).name.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_trees::{add_message, names, tree_with};
    use super::*;
    use crate::model::topic::children::CHUNK_SPLIT_LEN;

    #[test]
    fn levels_split_on_slashes_including_empty_ones() {
        let tree = tree_with(&["a//b", "/x", "a/b"]);
        assert_eq!(names(&tree, tree.children(NodeId::ROOT)), ["", "a"]);
        let a = tree.find("a").unwrap();
        assert_eq!(names(&tree, tree.children(a)), ["", "b"]);
        let a_empty_b = tree.find("a//b").unwrap();
        assert_eq!(tree.path(a_empty_b), "a//b");
        assert_eq!(tree.node(a_empty_b).depth, 2);
        assert_eq!(tree.path(tree.find("/x").unwrap()), "/x");
        assert!(tree.find("a/c").is_none());
        assert!(tree.find("a//b/c").is_none());
        assert_eq!(tree.path(NodeId::ROOT), "");
    }

    #[test]
    fn children_are_in_natural_order() {
        let tree = tree_with(&["r/a10", "r/a2", "r/B", "r/a1", "r/b"]);
        let r = tree.find("r").unwrap();
        assert_eq!(
            names(&tree, tree.children(r)),
            ["a1", "a2", "a10", "B", "b"]
        );
    }

    #[test]
    fn counters_add_up_along_the_path() {
        let mut tree = tree_with(&["a/b/c", "a/b/d", "a/b/c", "a/x", "a"]);
        let a = tree.find("a").unwrap();
        let b = tree.find("a/b").unwrap();
        assert_eq!(tree.node(a).subtree_messages, 5);
        assert_eq!(tree.node(a).subtree_topics, 4);
        assert_eq!(tree.node(b).subtree_messages, 3);
        assert_eq!(tree.node(b).subtree_topics, 2);
        assert_eq!(tree.node(NodeId::ROOT).subtree_messages, 5);
        assert_eq!(tree.node(b).last_change_nanos, 2);
        assert_eq!(tree.node(a).last_change_nanos, 4);
        add_message(&mut tree, "a/b/c", 1);
        assert_eq!(
            tree.node(b).last_change_nanos,
            2,
            "an older receive time does not move it back"
        );
    }

    #[test]
    fn setting_the_same_expansion_does_not_invalidate_the_cache() {
        let mut tree = tree_with(&["a/b"]);
        let a = tree.find("a").unwrap();
        tree.set_expanded(a, true);
        let generation = tree.generation();
        tree.set_expanded(a, true);
        tree.set_expanded(NodeId(999), true);
        tree.expand_all_below(a);
        assert_eq!(tree.generation(), generation);
    }

    #[test]
    fn a_very_wide_level_stays_sorted_across_chunks() {
        let mut tree = TopicTree::new();
        let count: u32 = 5_000;
        for index in 0..count {
            // A scrambled order (7919 is prime to 5000), like hash ids arriving from a broker.
            let scrambled = index * 7919 % count;
            add_message(&mut tree, &format!("w/n{scrambled}"), i64::from(index));
        }
        let w = tree.find("w").unwrap();
        assert!(
            tree.node(w).children.chunks().len() > 1,
            "the level was split into chunks"
        );
        assert!(
            tree.node(w)
                .children
                .chunks()
                .iter()
                .all(|chunk| !chunk.is_empty() && chunk.len() <= CHUNK_SPLIT_LEN)
        );
        let children: Vec<String> = names(&tree, tree.children(w));
        let expected: Vec<String> = (0..count).map(|index| format!("n{index}")).collect();
        assert_eq!(children, expected);
        assert_eq!(tree.child_count(w), count as usize);
        assert_eq!(tree.children(w).next_back(), tree.find("w/n4999"));
        for index in [0, 1, 1023, 1024, 2500, 4999] {
            // Both the path index and the chunked binary search find it.
            let id = tree.find(&format!("w/n{index}")).unwrap();
            assert_eq!(tree.path(id), format!("w/n{index}"));
            assert_eq!(tree.find_child(w, &format!("n{index}")), Ok(id));
        }
        assert!(tree.find_child(w, "n5000").is_err());
        assert!(tree.find_child(w, "a").is_err());
        assert!(tree.find("w/n5000").is_none());
        assert_eq!(tree.len(), count as usize + 2);
    }

    #[test]
    fn the_path_index_is_verified_against_the_tree() {
        let mut tree = tree_with(&["a/b", "a/b/c", "x"]);
        let b = tree.find("a/b").unwrap();
        assert_eq!(tree.indexed("a/b", tree.path_hash("a/b")), Some(b));
        // Point a hash at the wrong node, as a collision would: lookups must not trust it.
        let hash_of_c = tree.path_hash("a/b/c");
        tree.path_index.insert(hash_of_c, b);
        assert_eq!(
            tree.find("a/b/c").map(|id| tree.path(id)).as_deref(),
            Some("a/b/c")
        );
        assert_eq!(
            tree.insert("a/b/c").map(|id| tree.path(id)).as_deref(),
            Some("a/b/c")
        );
        assert!(!tree.has_path(b, "b"));
        assert!(!tree.has_path(b, "z/a/b"));
        assert!(!tree.has_path(NodeId::ROOT, ""));
        assert_eq!(tree.indexed_paths(), 3);
    }

    #[test]
    fn short_level_names_are_held_inline_and_long_ones_on_the_heap() {
        let long = "ä".repeat(12);
        let tree = tree_with(&["lbg01/Pm2cx76I", &format!("lbg01/{long}"), "lbg01/"]);
        let short = tree.node(tree.find("lbg01/Pm2cx76I").unwrap());
        assert!(matches!(short.name, LevelName::Inline { .. }));
        assert_eq!((&*short.name, short.name.heap_bytes()), ("Pm2cx76I", 0));
        let heap = tree.node(tree.find(&format!("lbg01/{long}")).unwrap());
        assert!(matches!(heap.name, LevelName::Heap(_)));
        assert_eq!((heap.name.to_string(), heap.name.heap_bytes()), (long, 32));
        assert_eq!(&*tree.node(tree.find("lbg01/").unwrap()).name, "");
        assert_eq!(format!("{:?}", short.name), "\"Pm2cx76I\"");
        assert_eq!(size_of::<LevelName>(), 24);
        let exactly_inline = "x".repeat(LevelName::INLINE_BYTES);
        assert_eq!(LevelName::from(exactly_inline.as_str()).heap_bytes(), 0);
    }

    #[test]
    fn a_node_map_holds_values_by_id_and_counts_them() {
        let mut map = NodeMap::default();
        assert!(map.is_empty() && map.get(NodeId(5)).is_none());
        assert_eq!(map.insert(NodeId(5), 'a'), None);
        assert_eq!(map.insert(NodeId(5), 'b'), Some('a'));
        map.insert_if_missing(NodeId(5), 'c');
        map.insert_if_missing(NodeId(2), 'd');
        assert_eq!(
            (map.get(NodeId(5)), map.get(NodeId(2))),
            (Some(&'b'), Some(&'d'))
        );
        assert!(!map.contains(NodeId(3)) && !map.contains(NodeId(99)));
        assert_eq!(map.len(), 2);
        assert!(map.heap_bytes() >= 6 * size_of::<Option<char>>());
    }

    #[test]
    fn a_leaf_node_is_small() {
        // Name inline, children one pointer: most nodes of a big tree are leaves.
        assert!(size_of::<Node>() <= 72, "{}", size_of::<Node>());
    }

    #[test]
    fn a_node_stays_compact() {
        assert!(
            std::mem::size_of::<Node>() <= 80,
            "{} bytes",
            std::mem::size_of::<Node>()
        );
    }
}
