//! From an MQTT account's ACL (`resource.topics`) to what to subscribe to: every readable
//! filter, the project's `META/…` and `CONTROLS/…` filters where the ACL allows them, and no
//! filter that another one already covers.

use crate::model::aedifion::project::AedifionProject;
use crate::model::topic::filter::TopicFilter;

use super::api::{AclEntry, Rights};

/// What an account may see, as subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscriptionPlan {
    /// Filters to subscribe to, in ACL order, none covered by another.
    pub filters: Vec<String>,
    /// The project (`lbg/handle`), given or read from a `<lbg>/<handle>/#` entry.
    pub project: Option<AedifionProject>,
    /// The ACL lets the account read the project's `META/…` topics.
    pub meta_allowed: bool,
    /// The ACL lets the account read the project's `CONTROLS/…` topics.
    pub controls_allowed: bool,
    /// Filters the account may publish on (`write` entries).
    pub writable: Vec<String>,
    /// ACL entries that are not valid MQTT filters (reported, never subscribed).
    pub ignored: Vec<String>,
}

/// The subscriptions for `acl`. `project` (from the project list) wins over the one read from
/// the ACL.
pub fn subscription_plan(acl: &[AclEntry], project: Option<&AedifionProject>) -> SubscriptionPlan {
    let mut plan = SubscriptionPlan::default();
    let mut allowed: Vec<String> = Vec::new();
    for entry in acl {
        if TopicFilter::parse(&entry.topic).is_err() {
            plan.ignored.push(entry.topic.clone());
            continue;
        }
        if entry.rights == Rights::Write {
            plan.writable.push(entry.topic.clone());
        }
        if !allowed.contains(&entry.topic) {
            allowed.push(entry.topic.clone());
        }
    }
    plan.project = project
        .cloned()
        .or_else(|| allowed.iter().find_map(|filter| project_of(filter)));
    let allows = |filter: &str| allowed.iter().any(|entry| covers(entry, filter));
    let mut wanted = allowed.clone();
    if let Some(project) = &plan.project {
        let (meta, controls) = (project.meta_filter(), project.controls_filter());
        plan.meta_allowed = allows(&meta);
        plan.controls_allowed = allows(&controls);
        if plan.meta_allowed {
            wanted.push(meta);
        }
        if plan.controls_allowed {
            wanted.push(controls);
        }
    }
    for (index, filter) in wanted.iter().enumerate() {
        let redundant = wanted.iter().enumerate().any(|(other_index, other)| {
            other_index != index
                && covers(other, filter)
                // Of two equal filters, keep the first.
                && (other != filter || other_index < index)
        });
        if !redundant {
            plan.filters.push(filter.clone());
        }
    }
    plan
}

/// `<lbg>/<handle>/#` (not below `META` or `CONTROLS`) names the project.
fn project_of(filter: &str) -> Option<AedifionProject> {
    let prefix = filter.strip_suffix("/#")?;
    let first = prefix.split('/').next()?;
    if first == "META" || first == "CONTROLS" {
        return None;
    }
    AedifionProject::parse(prefix)
}

/// Every topic `narrow` matches is matched by `broad` (both valid filters).
pub fn covers(broad: &str, narrow: &str) -> bool {
    let mut broad_levels = broad.split('/');
    let mut narrow_levels = narrow.split('/');
    loop {
        match (broad_levels.next(), narrow_levels.next()) {
            // `a/#` also matches `a`, so it covers whatever `narrow` has left, even nothing.
            (Some("#"), _) => return true,
            (Some(_), Some("#")) => return false,
            (Some("+"), Some(_)) => {}
            (Some(b), Some(n)) if b == n => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(topic: &str, rights: Rights) -> AclEntry {
        AclEntry {
            id: None,
            rights,
            topic: topic.into(),
        }
    }

    #[test]
    fn the_documented_acl_subscribes_to_the_project_only() {
        let plan = subscription_plan(&[entry("lbg01/mybuilding/#", Rights::Read)], None);
        assert_eq!(plan.filters, ["lbg01/mybuilding/#"]);
        assert_eq!(
            plan.project.map(|p| p.to_string()).as_deref(),
            Some("lbg01/mybuilding")
        );
        assert!(!plan.meta_allowed && !plan.controls_allowed);
        assert!(plan.writable.is_empty());
    }

    #[test]
    fn meta_and_controls_are_added_where_the_acl_allows_them() {
        let acl = [
            entry("lbg01/b/#", Rights::Read),
            entry("META/lbg01/+/#", Rights::Read),
            entry("CONTROLS/lbg01/b/#", Rights::Write),
        ];
        let plan = subscription_plan(&acl, None);
        assert!(plan.meta_allowed && plan.controls_allowed);
        // META/lbg01/b/# is covered by the broader META entry, so it is not added twice.
        assert_eq!(
            plan.filters,
            ["lbg01/b/#", "META/lbg01/+/#", "CONTROLS/lbg01/b/#"]
        );
        assert_eq!(plan.writable, ["CONTROLS/lbg01/b/#"]);
    }

    #[test]
    fn a_wildcard_acl_covers_everything_and_narrower_entries_are_dropped() {
        let acl = [
            entry("lbg01/b/#", Rights::Read),
            entry("#", Rights::Read),
            entry("lbg01/b/#", Rights::Read),
        ];
        let project = AedifionProject::parse("lbg01/b");
        let plan = subscription_plan(&acl, project.as_ref());
        assert_eq!(plan.filters, ["#"]);
        assert!(plan.meta_allowed && plan.controls_allowed);
    }

    #[test]
    fn invalid_entries_are_reported_not_subscribed() {
        let plan = subscription_plan(
            &[entry("a/#/b", Rights::Read), entry("x/y/#", Rights::Read)],
            None,
        );
        assert_eq!(plan.filters, ["x/y/#"]);
        assert_eq!(plan.ignored, ["a/#/b"]);
    }

    #[test]
    fn covering_follows_mqtt_matching() {
        assert!(covers("a/#", "a"));
        assert!(covers("a/#", "a/b/c"));
        assert!(covers("a/+/c", "a/b/c"));
        assert!(covers("+/+", "a/+"));
        assert!(!covers("a/+", "a/#"));
        assert!(!covers("a/b", "a/+"));
        assert!(!covers("a/b", "a/b/c"));
        assert!(!covers("a/b/c", "a/b"));
        assert!(covers("#", "META/x/y/#"));
    }
}
