//! Topic names and filters (MQTT 3.1.1 §4.7). OWNER: model-core helper.

/// A parsed subscription filter that may hold `+` and `#`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicFilter {
    text: String,
}

impl TopicFilter {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}
