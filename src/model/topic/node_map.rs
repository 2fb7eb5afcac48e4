//! Per-node values in a vector indexed by node id.

use crate::model::topic::tree::NodeId;

/// A value for some nodes, in a vector indexed by node id (grown to the highest id given a
/// value). Costs `size_of::<Option<T>>()` per node up to that id, far less than a hash map's
/// two slots per entry when most nodes have a value (the labels and roles of an aedifion tree).
#[derive(Debug, Clone)]
pub struct NodeMap<T> {
    slots: Vec<Option<T>>,
    len: usize,
}

impl<T> Default for NodeMap<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<T> NodeMap<T> {
    /// The value of `id`, if any.
    pub fn get(&self, id: NodeId) -> Option<&T> {
        self.slots.get(id.index())?.as_ref()
    }

    /// The value of `id` mutably, if any.
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut T> {
        self.slots.get_mut(id.index())?.as_mut()
    }

    /// The values with their nodes, in node order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| Some((NodeId(u32::try_from(index).ok()?), slot.as_ref()?)))
    }

    /// Removes every value and gives the slots back.
    pub fn clear(&mut self) {
        *self = Self {
            slots: Vec::new(),
            len: 0,
        };
    }

    /// True if `id` has a value.
    pub fn contains(&self, id: NodeId) -> bool {
        self.get(id).is_some()
    }

    /// Sets the value of `id`; returns the one it replaced.
    pub fn insert(&mut self, id: NodeId, value: T) -> Option<T> {
        let slot = self.slot_mut(id);
        let old = slot.replace(value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Sets the value of `id` unless it has one.
    pub fn insert_if_missing(&mut self, id: NodeId, value: T) {
        let slot = self.slot_mut(id);
        if slot.is_none() {
            *slot = Some(value);
            self.len += 1;
        }
    }

    /// Nodes with a value.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no node has a value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes of the slots, for memory estimates.
    pub fn heap_bytes(&self) -> usize {
        crate::model::heap::heap_bytes(self.slots.capacity() * size_of::<Option<T>>())
    }

    fn slot_mut(&mut self, id: NodeId) -> &mut Option<T> {
        if id.index() >= self.slots.len() {
            self.slots.resize_with(id.index() + 1, || None);
        }
        &mut self.slots[id.index()]
    }
}
