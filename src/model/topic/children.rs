//! A node's children in natural order, chunked so that a level with a million children inserts
//! by moving a few kilobytes; found by binary search.

use std::cmp::Ordering;

use crate::model::topic::tree::NodeId;

/// A chunk is split in two when it grows beyond this many children.
pub(super) const CHUNK_SPLIT_LEN: usize = 1024;

/// Children in natural order, split into chunks (no chunk is empty). Leaves allocate nothing and
/// hold one pointer (most nodes of a big tree are leaves).
#[derive(Debug, Default)]
pub(super) struct ChildList {
    #[expect(
        clippy::box_collection,
        reason = "a leaf holds one pointer (8 bytes) instead of an empty Vec (24)"
    )]
    chunks: Option<Box<Vec<Vec<NodeId>>>>,
}

/// Where a missing child would be inserted: chunk and index within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct InsertPosition {
    chunk: usize,
    index: usize,
}

impl InsertPosition {
    /// The first place of an empty list.
    pub(super) const FIRST: InsertPosition = InsertPosition { chunk: 0, index: 0 };
}

impl ChildList {
    pub(super) fn chunks(&self) -> &[Vec<NodeId>] {
        self.chunks.as_deref().map_or(&[], Vec::as_slice)
    }

    pub(super) fn len(&self) -> usize {
        self.chunks().iter().map(Vec::len).sum()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.chunks.is_none()
    }

    pub(super) fn iter(&self) -> Children<'_> {
        Children {
            inner: self.chunks().iter().flatten().copied(),
            remaining: self.len(),
        }
    }

    /// Binary search; `compare` orders a child against the one looked for.
    pub(super) fn search(
        &self,
        mut compare: impl FnMut(NodeId) -> Ordering,
    ) -> Result<NodeId, InsertPosition> {
        // The first chunk whose last child is not less than the target holds it (or its place).
        let chunks = self.chunks();
        let chunk = chunks.partition_point(|chunk| {
            chunk
                .last()
                .is_some_and(|&last| compare(last) == Ordering::Less)
        });
        let Some(children) = chunks.get(chunk) else {
            let chunk = chunks.len().saturating_sub(1);
            let index = chunks.last().map_or(0, Vec::len);
            return Err(InsertPosition { chunk, index });
        };
        match children.binary_search_by(|&child| compare(child)) {
            Ok(index) => Ok(children[index]),
            Err(index) => Err(InsertPosition { chunk, index }),
        }
    }

    pub(super) fn insert(&mut self, position: InsertPosition, id: NodeId) {
        let chunks = self.chunks.get_or_insert_with(Box::default);
        let Some(chunk) = chunks.get_mut(position.chunk) else {
            chunks.push(vec![id]);
            return;
        };
        chunk.insert(position.index.min(chunk.len()), id);
        if chunk.len() > CHUNK_SPLIT_LEN {
            let upper_half = chunk.split_off(chunk.len() / 2);
            chunks.insert(position.chunk + 1, upper_half);
        }
    }
}

/// The children of a node in natural order (see [`TopicTree::children`]).
#[derive(Debug, Clone)]
pub struct Children<'a> {
    inner: std::iter::Copied<std::iter::Flatten<std::slice::Iter<'a, Vec<NodeId>>>>,
    remaining: usize,
}

impl Children<'_> {
    /// No children (of a node that does not exist).
    pub(super) fn empty() -> Self {
        Children {
            inner: [].iter().flatten().copied(),
            remaining: 0,
        }
    }
}

impl Iterator for Children<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let next = self.inner.next()?;
        self.remaining -= 1;
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Children<'_> {
    fn next_back(&mut self) -> Option<NodeId> {
        let next = self.inner.next_back()?;
        self.remaining -= 1;
        Some(next)
    }
}

impl ExactSizeIterator for Children<'_> {}
