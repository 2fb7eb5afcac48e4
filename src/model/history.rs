//! A topic's recent messages, bounded by count and bytes. OWNER: model-core helper.

use super::message::Message;

#[derive(Debug, Default)]
pub struct History {
    messages: std::collections::VecDeque<Message>,
}

impl History {
    /// The newest message.
    pub fn latest(&self) -> Option<&Message> {
        self.messages.back()
    }
    /// Newest first.
    pub fn iter_newest_first(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().rev()
    }
    pub fn len(&self) -> usize {
        self.messages.len()
    }
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}
