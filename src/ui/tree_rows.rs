//! The tree panel's flattened rows: the visible nodes of the topic tree under the expansion state
//! and the filter, built from `&TopicTree` and cached until the tree's generation or the filter
//! changes, so a message on an existing topic costs nothing at the next frame. No egui here: the
//! rules are unit-tested without a window, and `tree_view` only lays out the rows on screen.

use crate::model::topic::filter::{LevelMatch, TopicFilter};
use crate::model::topic::tree::{NodeId, TopicTree};

/// One row of the flattened, visible tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The node shown on this row.
    pub node: NodeId,
    /// Indentation level (0 for the first levels).
    pub depth: u16,
    /// Whether to draw an expand arrow: the node has children (with a filter: visible children).
    pub has_children: bool,
}

/// What the filter box narrows the tree to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TreeFilter {
    /// Everything, under the manual expansion state.
    #[default]
    None,
    /// Case-insensitive substring of the full topic path.
    Substring(String),
    /// An MQTT filter with `+`/`#`.
    Wildcard(TopicFilter),
    /// Exactly these nodes and their ancestors (e.g. the topics of stale datapoints).
    Nodes(std::sync::Arc<[NodeId]>),
}

impl TreeFilter {
    /// Interprets the filter box: empty → none, contains `+` or `#` and parses → wildcard, else substring.
    /// Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text.is_empty() {
            return TreeFilter::None;
        }
        if text.contains(['+', '#'])
            && let Ok(filter) = TopicFilter::parse(text)
        {
            return TreeFilter::Wildcard(filter);
        }
        TreeFilter::Substring(text.to_owned())
    }

    /// True for [`TreeFilter::None`].
    pub fn is_none(&self) -> bool {
        matches!(self, TreeFilter::None)
    }
}

/// Row flags used while building filtered rows.
const VISIBLE: u8 = 1;
const HAS_VISIBLE_CHILD: u8 = 2;

/// The rows built last, and for which tree generation and filter: the tree panel's, so drawing
/// reads the tree and never changes it.
#[derive(Debug, Default)]
pub struct RowCache {
    rows: Vec<Row>,
    built_for: Option<(u64, TreeFilter)>,
    /// Scratch space for filtered builds (one byte per node), kept to avoid reallocating.
    flags: Vec<u8>,
}

impl RowCache {
    /// The visible rows under `tree`'s expansion and `filter`. Rebuilt only when the structure,
    /// an expansion or the filter changed, never because a message arrived on an existing topic.
    ///
    /// With a filter, the rows are the matching nodes, their ancestors and everything below a
    /// match, all expanded regardless of the expansion flags.
    pub fn rows(&mut self, tree: &TopicTree, filter: &TreeFilter) -> &[Row] {
        let up_to_date = matches!(&self.built_for,
            Some((generation, built_filter)) if *generation == tree.generation() && built_filter == filter);
        if !up_to_date {
            self.rebuild(tree, filter);
        }
        &self.rows
    }

    /// The rows of the last [`RowCache::rows`] call (possibly stale), without rebuilding.
    pub fn cached_rows(&self) -> &[Row] {
        &self.rows
    }

    /// Where `id` is in the last built rows (for keyboard navigation); O(rows).
    pub fn row_index_of(&self, id: NodeId) -> Option<usize> {
        self.rows.iter().position(|row| row.node == id)
    }

    fn rebuild(&mut self, tree: &TopicTree, filter: &TreeFilter) {
        let mut rows = std::mem::take(&mut self.rows);
        rows.clear();
        if let TreeFilter::None = filter {
            collect_expanded_rows(tree, &mut rows);
        } else {
            let mut flags = std::mem::take(&mut self.flags);
            flags.clear();
            flags.resize(tree.len(), 0);
            match filter {
                TreeFilter::None => {}
                TreeFilter::Substring(needle) => {
                    mark_substring_matches(tree, &needle.to_lowercase(), &mut flags)
                }
                TreeFilter::Wildcard(topic_filter) => {
                    mark_wildcard_matches(tree, topic_filter, &mut flags)
                }
                TreeFilter::Nodes(nodes) => {
                    for &id in nodes.iter() {
                        if id != NodeId::ROOT && id.index() < tree.len() {
                            mark_visible(tree, &mut flags, id);
                        }
                    }
                }
            }
            collect_flagged_rows(tree, &flags, &mut rows);
            self.flags = flags;
        }
        self.rows = rows;
        self.built_for = Some((tree.generation(), filter.clone()));
    }
}

/// Pre-order walk over expanded nodes.
fn collect_expanded_rows(tree: &TopicTree, rows: &mut Vec<Row>) {
    let mut pending: Vec<NodeId> = tree.children(NodeId::ROOT).rev().collect();
    while let Some(id) = pending.pop() {
        let node = tree.node(id);
        rows.push(Row {
            node: id,
            depth: node.depth,
            has_children: node.has_children(),
        });
        if node.expanded {
            pending.extend(tree.children(id).rev());
        }
    }
}

/// Marks `id` and its ancestors visible (stopping at one already marked).
fn mark_visible(tree: &TopicTree, flags: &mut [u8], id: NodeId) {
    let mut current = id;
    while flags[current.index()] & VISIBLE == 0 {
        flags[current.index()] |= VISIBLE;
        let Some(parent) = tree.node(current).parent else {
            break;
        };
        flags[parent.index()] |= HAS_VISIBLE_CHILD;
        current = parent;
    }
}

/// Marks nodes whose lowercased full path contains `needle` (and so their whole subtrees).
fn mark_substring_matches(tree: &TopicTree, needle: &str, flags: &mut [u8]) {
    // (node, length of the parent's lowercased path in `path`, parent matched)
    let mut pending: Vec<(NodeId, usize, bool)> = tree
        .children(NodeId::ROOT)
        .map(|child| (child, 0, false))
        .collect();
    let mut path = String::new();
    while let Some((id, parent_path_len, parent_matched)) = pending.pop() {
        let node = tree.node(id);
        path.truncate(parent_path_len);
        if node.parent != Some(NodeId::ROOT) {
            path.push('/');
        }
        path.extend(node.name.chars().flat_map(char::to_lowercase));
        // Below a match every path contains the match's path, so it matches too.
        let matched = parent_matched
            || path.contains(needle)
            || tree
                .label(id)
                .is_some_and(|label| label.to_lowercase().contains(needle));
        if matched {
            mark_visible(tree, flags, id);
        }
        pending.extend(tree.children(id).map(|child| (child, path.len(), matched)));
    }
}

/// Marks nodes matching the MQTT filter and everything below them; prunes subtrees that cannot
/// match.
fn mark_wildcard_matches(tree: &TopicTree, filter: &TopicFilter, flags: &mut [u8]) {
    let matcher = filter.level_matcher();
    // (node, depth, parent's matching state, below a match)
    let mut pending: Vec<(NodeId, usize, LevelMatch, bool)> = tree
        .children(NodeId::ROOT)
        .map(|child| (child, 0, LevelMatch::START, false))
        .collect();
    while let Some((id, depth, parent_state, below_match)) = pending.pop() {
        let node = tree.node(id);
        let state = matcher.step(parent_state, depth, &node.name);
        let matched = below_match || matcher.is_match(state, depth + 1);
        if matched {
            mark_visible(tree, flags, id);
        }
        if matched || state != LevelMatch::Failed {
            pending.extend(
                tree.children(id)
                    .map(|child| (child, depth + 1, state, matched)),
            );
        }
    }
}

/// Pre-order walk over visible nodes, all expanded.
fn collect_flagged_rows(tree: &TopicTree, flags: &[u8], rows: &mut Vec<Row>) {
    let visible = |id: &NodeId| flags[id.index()] & VISIBLE != 0;
    let mut pending: Vec<NodeId> = tree.children(NodeId::ROOT).rev().filter(visible).collect();
    while let Some(id) = pending.pop() {
        let node = tree.node(id);
        let has_children = flags[id.index()] & HAS_VISIBLE_CHILD != 0;
        rows.push(Row {
            node: id,
            depth: node.depth,
            has_children,
        });
        if has_children {
            pending.extend(tree.children(id).rev().filter(visible));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topic::tree::test_trees::{add_message, names, tree_with};

    fn row_paths(cache: &mut RowCache, tree: &TopicTree, filter: &TreeFilter) -> Vec<String> {
        let rows = cache.rows(tree, filter).to_vec();
        rows.iter().map(|row| tree.path(row.node)).collect()
    }

    #[test]
    fn rows_follow_expansion_state() {
        let mut cache = RowCache::default();
        let mut tree = tree_with(&["a/b/c", "a/d", "e"]);
        tree.collapse_all();
        assert_eq!(row_paths(&mut cache, &tree, &TreeFilter::None), ["a", "e"]);
        let a = tree.find("a").unwrap();
        tree.set_expanded(a, true);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::None),
            ["a", "a/b", "a/d", "e"]
        );
        let rows = cache.rows(&tree, &TreeFilter::None).to_vec();
        assert_eq!(
            rows[1],
            Row {
                node: tree.find("a/b").unwrap(),
                depth: 1,
                has_children: true
            }
        );
        assert!(!rows[2].has_children);
        tree.expand_all_below(a);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::None),
            ["a", "a/b", "a/b/c", "a/d", "e"]
        );
        tree.collapse_all();
        assert_eq!(row_paths(&mut cache, &tree, &TreeFilter::None), ["a", "e"]);
    }

    #[test]
    fn the_first_two_levels_start_expanded_so_topics_show_at_once() {
        let mut cache = RowCache::default();
        let tree = tree_with(&["lbg01/demo_building/0OHgK8nP/x"]);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::None),
            [
                "lbg01",
                "lbg01/demo_building",
                "lbg01/demo_building/0OHgK8nP"
            ]
        );
    }

    #[test]
    fn the_substring_filter_also_matches_node_labels() {
        let mut cache = RowCache::default();
        let mut tree = tree_with(&["lbg01/hq/0OHgK8nP", "lbg01/hq/Zz000000"]);
        let hashed = tree.find("lbg01/hq/0OHgK8nP").unwrap();
        let filter = TreeFilter::parse("temphall");
        assert!(row_paths(&mut cache, &tree, &filter).is_empty());
        tree.set_label(hashed, "AS11-239291_C'Btr06'TempHall");
        assert_eq!(tree.label(hashed), Some("AS11-239291_C'Btr06'TempHall"));
        assert_eq!(
            row_paths(&mut cache, &tree, &filter),
            ["lbg01", "lbg01/hq", "lbg01/hq/0OHgK8nP"]
        );
    }

    #[test]
    fn a_node_set_filter_shows_those_nodes_and_their_ancestors() {
        let mut cache = RowCache::default();
        let tree = tree_with(&["a/b/c", "a/d", "e/f"]);
        let d = tree.find("a/d").unwrap();
        let f = tree.find("e/f").unwrap();
        let filter = TreeFilter::Nodes(vec![d, f, NodeId(9999)].into());
        assert_eq!(
            row_paths(&mut cache, &tree, &filter),
            ["a", "a/d", "e", "e/f"]
        );
    }

    #[test]
    fn reveal_expands_every_ancestor() {
        let mut cache = RowCache::default();
        let mut tree = tree_with(&["a/b/c/d", "z"]);
        let d = tree.find("a/b/c/d").unwrap();
        tree.reveal(d);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::None),
            ["a", "a/b", "a/b/c", "a/b/c/d", "z"]
        );
        assert_eq!(cache.row_index_of(d), Some(3));
        assert_eq!(tree.parent_of(d), tree.find("a/b/c"));
        assert!(
            !tree.node(d).expanded,
            "the revealed node itself stays as it was"
        );
    }

    #[test]
    fn rows_are_not_rebuilt_for_messages_on_existing_topics() {
        let mut cache = RowCache::default();
        let mut tree = tree_with(&["a/b", "a/c"]);
        cache.rows(&tree, &TreeFilter::None);
        let generation = tree.generation();
        add_message(&mut tree, "a/b", 10);
        add_message(&mut tree, "a/c", 11);
        assert_eq!(tree.generation(), generation);
        let before = cache.rows(&tree, &TreeFilter::None).as_ptr();
        assert_eq!(cache.rows(&tree, &TreeFilter::None).as_ptr(), before);
        assert!(matches!(&cache.built_for, Some((g, _)) if *g == generation));
    }

    #[test]
    fn rows_are_rebuilt_when_structure_expansion_or_filter_change() {
        let mut cache = RowCache::default();
        let mut tree = tree_with(&["a/b"]);
        tree.collapse_all();
        assert_eq!(row_paths(&mut cache, &tree, &TreeFilter::None), ["a"]);
        add_message(&mut tree, "c", 1);
        assert_eq!(row_paths(&mut cache, &tree, &TreeFilter::None), ["a", "c"]);
        tree.set_expanded(tree.find("a").unwrap(), true);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::None),
            ["a", "a/b", "c"]
        );
        assert_eq!(row_paths(&mut cache, &tree, &TreeFilter::parse("c")), ["c"]);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::None),
            ["a", "a/b", "c"]
        );
    }

    #[test]
    fn substring_filter_shows_matches_with_ancestors_and_subtrees_all_expanded() {
        let mut cache = RowCache::default();
        let tree = tree_with(&[
            "lbg01/demo/AHU1/temp",
            "lbg01/demo/AHU2/fan",
            "lbg01/other/Temp2",
            "x/y",
        ]);
        let filter = TreeFilter::parse("TEMP");
        assert_eq!(filter, TreeFilter::Substring("TEMP".into()));
        assert_eq!(
            row_paths(&mut cache, &tree, &filter),
            [
                "lbg01",
                "lbg01/demo",
                "lbg01/demo/AHU1",
                "lbg01/demo/AHU1/temp",
                "lbg01/other",
                "lbg01/other/Temp2"
            ]
        );
        let filter = TreeFilter::parse("demo");
        assert_eq!(
            row_paths(&mut cache, &tree, &filter),
            [
                "lbg01",
                "lbg01/demo",
                "lbg01/demo/AHU1",
                "lbg01/demo/AHU1/temp",
                "lbg01/demo/AHU2",
                "lbg01/demo/AHU2/fan"
            ]
        );
        let rows = cache.rows(&tree, &filter).to_vec();
        assert!(rows[0].has_children && !rows[3].has_children);
        assert!(row_paths(&mut cache, &tree, &TreeFilter::parse("nothing")).is_empty());
    }

    #[test]
    fn substring_filter_matches_across_level_boundaries() {
        let mut cache = RowCache::default();
        let tree = tree_with(&["ab/cd", "ab/ef"]);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::parse("b/c")),
            ["ab", "ab/cd"]
        );
    }

    #[test]
    fn wildcard_filter_shows_matching_nodes() {
        let mut cache = RowCache::default();
        let tree = tree_with(&["a/1/t", "a/2/t", "a/2/u", "b/1/t", "$SYS/x/t"]);
        let filter = TreeFilter::parse("+/+/t");
        assert!(matches!(filter, TreeFilter::Wildcard(_)));
        assert_eq!(
            row_paths(&mut cache, &tree, &filter),
            ["a", "a/1", "a/1/t", "a/2", "a/2/t", "b", "b/1", "b/1/t"]
        );
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::parse("$SYS/#")),
            ["$SYS", "$SYS/x", "$SYS/x/t"]
        );
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::parse("a/2/#")),
            ["a", "a/2", "a/2/t", "a/2/u"]
        );
    }

    #[test]
    fn wildcard_filter_includes_subtrees_of_matching_inner_nodes() {
        let mut cache = RowCache::default();
        let tree = tree_with(&["a/b/c", "a/d"]);
        assert_eq!(
            row_paths(&mut cache, &tree, &TreeFilter::parse("a/+")),
            ["a", "a/b", "a/b/c", "a/d"]
        );
    }

    #[test]
    fn invalid_wildcards_fall_back_to_substring_and_blank_is_no_filter() {
        assert_eq!(
            TreeFilter::parse("a#b"),
            TreeFilter::Substring("a#b".into())
        );
        assert_eq!(TreeFilter::parse("  "), TreeFilter::None);
        assert_eq!(TreeFilter::parse(""), TreeFilter::None);
        assert_eq!(
            TreeFilter::parse(" temp "),
            TreeFilter::Substring("temp".into())
        );
    }

    #[test]
    fn a_new_topic_appears_in_filtered_rows() {
        let mut cache = RowCache::default();
        let mut tree = tree_with(&["a/b"]);
        let filter = TreeFilter::parse("a/b/+");
        assert!(row_paths(&mut cache, &tree, &filter).is_empty());
        add_message(&mut tree, "a/b/c", 1);
        assert_eq!(row_paths(&mut cache, &tree, &filter), ["a", "a/b", "a/b/c"]);
    }

    #[test]
    fn unknown_ids_are_harmless() {
        let cache = RowCache::default();
        let mut tree = tree_with(&["a"]);
        let unknown = NodeId(42);
        assert!(tree.get(unknown).is_none());
        assert_eq!(tree.children(unknown).len(), 0);
        assert_eq!(tree.child_count(unknown), 0);
        assert_eq!(tree.path(unknown), "");
        assert_eq!(tree.parent_of(unknown), None);
        tree.reveal(unknown);
        tree.expand_all_below(unknown);
        tree.toggle_expanded(unknown);
        assert_eq!(cache.row_index_of(unknown), None);
    }

    #[test]
    fn very_deep_topics_do_not_overflow_the_stack() {
        let mut cache = RowCache::default();
        let deep = vec!["x"; 20_000].join("/");
        let mut tree = tree_with(&[&deep]);
        let leaf = tree.find(&deep).unwrap();
        tree.expand_all_below(NodeId::ROOT);
        assert_eq!(cache.rows(&tree, &TreeFilter::None).len(), 20_000);
        assert_eq!(cache.rows(&tree, &TreeFilter::parse("x/x")).len(), 20_000);
        assert_eq!(cache.rows(&tree, &TreeFilter::parse("#")).len(), 20_000);
        assert_eq!(tree.path(leaf), deep);
        assert_eq!(tree.node(NodeId::ROOT).subtree_topics, 1);
    }

    #[test]
    fn a_large_flat_tree_keeps_rows_cached_between_frames() {
        let mut cache = RowCache::default();
        let mut tree = TopicTree::new();
        for index in 0..100_000 {
            add_message(&mut tree, &format!("site/dev{index}"), index);
        }
        let site = tree.find("site").unwrap();
        assert_eq!(
            names(&tree, tree.children(site).take(3)),
            ["dev0", "dev1", "dev2"]
        );
        tree.set_expanded(site, true);
        assert_eq!(cache.rows(&tree, &TreeFilter::None).len(), 100_001);
        let generation = tree.generation();
        for index in 0..1000 {
            add_message(&mut tree, &format!("site/dev{index}"), 200_000 + index);
        }
        assert_eq!(tree.generation(), generation);
        assert_eq!(tree.node(site).subtree_messages, 101_000);
    }

    proptest::proptest! {
        #[test]
        fn insert_and_find_agree_with_a_set_of_paths(
            // Short alphabets so levels repeat, are empty, and cross the inline length with
            // multi-byte characters.
            paths in proptest::collection::vec("[ab/ä]{0,30}", 1..40),
            probes in proptest::collection::vec("[ab/ä]{0,30}", 0..20),
        ) {
            let mut tree = TopicTree::new();
            let mut known = std::collections::HashMap::new();
            for path in &paths {
                let id = tree.insert(path).unwrap();
                proptest::prop_assert_eq!(*known.entry(path.clone()).or_insert(id), id);
                proptest::prop_assert_eq!(tree.path(id), path.clone());
                // Every prefix at a `/` is a node too.
                for (index, _) in path.match_indices('/') {
                    known.entry(path[..index].to_owned()).or_insert_with(|| {
                        tree.find(&path[..index]).unwrap()
                    });
                }
            }
            for (path, &id) in &known {
                proptest::prop_assert_eq!(tree.find(path), Some(id));
                proptest::prop_assert_eq!(&tree.node(id).name.as_str(), &path.rsplit('/').next().unwrap());
            }
            for probe in &probes {
                proptest::prop_assert_eq!(tree.find(probe), known.get(probe).copied());
            }
            proptest::prop_assert_eq!(tree.len(), known.len() + 1);
        }
    }
}
