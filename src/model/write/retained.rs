//! Retained messages the store knows about, and plans to clear them.
//!
//! A topic is *known retained* when its latest message arrived with the retain flag and a
//! non-empty payload (an empty retained payload is itself a deletion). Clearing publishes an
//! empty retained message, and a [`ClearPlan`] can only be made from the store, so nothing is
//! ever published to a topic that is not known to hold a retained message.

use crate::model::store::{Store, TopicState};
use crate::model::topic::qos::Qos;
use crate::model::topic::tree::NodeId;
use crate::model::write::publish::PublishRequest;

/// Whether the topic at `node` is known to hold a retained message.
pub fn is_known_retained(store: &Store, node: NodeId) -> bool {
    store.topic(node).is_some_and(TopicState::latest_retained)
}

/// The known retained topics at and below `node`, in the tree's (natural) order.
pub fn retained_topics_below(store: &Store, node: NodeId) -> Vec<String> {
    let tree = store.tree();
    let mut topics = Vec::new();
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        if tree.get(current).is_none() {
            continue;
        }
        if is_known_retained(store, current) {
            topics.push(tree.path(current));
        }
        // Reversed so the stack pops children in natural order.
        stack.extend(tree.children(current).rev());
    }
    topics
}

/// Exactly which retained messages a clear will delete (shown to the user before confirming).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearPlan {
    topics: Vec<String>,
}

impl ClearPlan {
    /// The plan for one topic; `None` unless it is known retained.
    pub fn for_topic(store: &Store, topic: &str) -> Option<Self> {
        let (node, _) = store.find_topic(topic)?;
        is_known_retained(store, node).then(|| Self {
            topics: vec![topic.to_owned()],
        })
    }

    /// The plan for everything known retained at and below `node` (may be empty).
    pub fn for_subtree(store: &Store, node: NodeId) -> Self {
        Self {
            topics: retained_topics_below(store, node),
        }
    }

    /// The topics, in order.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// How many topics will be cleared.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    /// True when there is nothing to clear.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// The messages that clear them: empty payload, retain set, QoS 1 (so the broker confirms).
    pub fn requests(&self) -> Vec<PublishRequest> {
        self.topics
            .iter()
            .map(|topic| PublishRequest {
                topic: topic.clone(),
                payload: Vec::new(),
                qos: Qos::AtLeastOnce,
                retain: true,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode::message::Message;
    use crate::model::store::Limits;

    fn message(topic: &str, payload: &str, retained: bool) -> Message {
        Message::new(
            topic.to_owned(),
            bytes::Bytes::from(payload.to_owned()),
            Qos::AtMostOnce,
            retained,
            1,
        )
    }

    fn store() -> Store {
        let mut store = Store::new(Limits::default());
        store.apply(message("a/1", "x", true));
        store.apply(message("a/2", "x", false));
        store.apply(message("a/3/x", "x", true));
        store.apply(message("a/10", "x", true));
        store.apply(message("a/4", "", true));
        store.apply(message("b", "x", true));
        store.apply(message("a/5", "x", true));
        store.apply(message("a/5", "live", false));
        store
    }

    #[test]
    fn only_topics_whose_latest_message_is_retained_and_non_empty_are_listed() {
        let store = store();
        let a = store.tree().find("a").unwrap();
        assert_eq!(retained_topics_below(&store, a), ["a/1", "a/3/x", "a/10"]);
        let plan = ClearPlan::for_subtree(&store, a);
        assert_eq!(plan.len(), 3);
        let requests = plan.requests();
        assert!(requests.iter().all(|r| r.payload.is_empty() && r.retain));
        assert_eq!(requests[2].topic, "a/10");
    }

    #[test]
    fn a_single_topic_plan_needs_a_known_retained_message() {
        let store = store();
        assert!(ClearPlan::for_topic(&store, "a/1").is_some());
        assert!(ClearPlan::for_topic(&store, "a/2").is_none());
        assert!(ClearPlan::for_topic(&store, "a/4").is_none());
        assert!(ClearPlan::for_topic(&store, "nope").is_none());
        assert!(ClearPlan::for_subtree(&store, NodeId(9999)).is_empty());
    }
}
