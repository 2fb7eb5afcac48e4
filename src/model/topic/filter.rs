//! Topic names and filters (MQTT 3.1.1 §4.7).
//!
//! A topic *name* is what a message is published on (no wildcards); a topic *filter* is what a
//! client subscribes to and may hold `+` (exactly one level) and `#` (this level and everything
//! below, only as the last level). Levels are separated by `/` and may be empty.

use std::fmt;
use std::str::FromStr;

/// The largest topic (name or filter) MQTT can encode: a two-byte length prefix.
pub const MAX_TOPIC_BYTES: usize = 65_535;

/// Why a topic name or filter is not valid MQTT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// Topics must be at least one character long.
    #[error("the topic is empty: enter at least one character (for example `building/#`)")]
    Empty,
    /// MQTT forbids the NUL character anywhere in a topic.
    #[error("the topic contains a NUL character, which MQTT does not allow")]
    ContainsNul,
    /// Longer than the 65,535 bytes MQTT can encode.
    #[error("the topic is {length_bytes} bytes long; MQTT allows at most 65535 bytes")]
    TooLong {
        /// The topic's length in bytes (UTF-8).
        length_bytes: usize,
    },
    /// `#` somewhere other than as the whole last level.
    #[error("`#` must be the whole last level (like `a/b/#`), found in level {level}")]
    MisplacedMultiLevelWildcard {
        /// 1-based level number.
        level: usize,
    },
    /// `+` mixed with other characters in one level.
    #[error("`+` must fill a whole level (like `a/+/c`), found in level {level}")]
    MisplacedSingleLevelWildcard {
        /// 1-based level number.
        level: usize,
    },
    /// A wildcard in a topic name used for publishing.
    #[error("a topic to publish on cannot contain `+` or `#`: wildcards are only for subscribing")]
    WildcardInTopicName,
}

/// A parsed subscription filter that may hold `+` and `#`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicFilter {
    text: String,
}

impl TopicFilter {
    /// Parses and validates a filter by the MQTT 3.1.1 rules: non-empty, at most 65,535 bytes, no
    /// NUL, `+` only as a whole level, `#` only as the whole last level.
    pub fn parse(text: &str) -> Result<TopicFilter, TopicError> {
        check_common(text)?;
        let level_count = text.split('/').count();
        for (index, level) in text.split('/').enumerate() {
            let number = index + 1;
            if level.contains('#') && (level != "#" || number != level_count) {
                return Err(TopicError::MisplacedMultiLevelWildcard { level: number });
            }
            if level.contains('+') && level != "+" {
                return Err(TopicError::MisplacedSingleLevelWildcard { level: number });
            }
        }
        Ok(TopicFilter {
            text: text.to_owned(),
        })
    }

    /// The filter as typed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The filter's levels (split on `/`).
    pub fn levels(&self) -> impl Iterator<Item = &str> {
        self.text.split('/')
    }

    /// True if the filter holds `+` or `#` (otherwise it matches exactly one topic).
    pub fn has_wildcards(&self) -> bool {
        self.text.contains(['+', '#'])
    }

    /// Whether `topic` (a concrete topic name) matches this filter. A filter that starts with a
    /// wildcard does not match topics starting with `$` (MQTT 3.1.1 §4.7.2, e.g. `$SYS/...`).
    pub fn matches(&self, topic: &str) -> bool {
        if topic.starts_with('$') && self.text.starts_with(['+', '#']) {
            return false;
        }
        let mut topic_levels = topic.split('/');
        for filter_level in self.text.split('/') {
            match filter_level {
                // `a/#` also matches `a` itself, which is why `#` is checked before the topic runs out.
                "#" => return true,
                "+" => {
                    if topic_levels.next().is_none() {
                        return false;
                    }
                }
                literal => {
                    if topic_levels.next() != Some(literal) {
                        return false;
                    }
                }
            }
        }
        topic_levels.next().is_none()
    }

    /// A matcher that walks a path level by level (e.g. down a tree) without building each path.
    pub fn level_matcher(&self) -> LevelMatcher<'_> {
        LevelMatcher {
            levels: self.text.split('/').collect(),
            starts_with_wildcard: self.text.starts_with(['+', '#']),
        }
    }
}

/// Matches a filter against a path one level at a time; see [`TopicFilter::level_matcher`].
#[derive(Debug, Clone)]
pub struct LevelMatcher<'a> {
    levels: Vec<&'a str>,
    starts_with_wildcard: bool,
}

impl LevelMatcher<'_> {
    /// The matching state after the level at `depth` (0 = first level), given the parent's state
    /// ([`LevelMatch::START`] for a first level).
    pub fn step(&self, parent: LevelMatch, depth: usize, level: &str) -> LevelMatch {
        if parent != LevelMatch::Prefix {
            return parent;
        }
        let Some(&filter_level) = self.levels.get(depth) else {
            return LevelMatch::Failed;
        };
        if depth == 0 && self.starts_with_wildcard && level.starts_with('$') {
            return LevelMatch::Failed;
        }
        match filter_level {
            "#" => LevelMatch::Everything,
            "+" => LevelMatch::Prefix,
            literal if literal == level => LevelMatch::Prefix,
            _ => LevelMatch::Failed,
        }
    }

    /// Whether a path of `level_count` levels whose walk ended in `state` matches the filter.
    pub fn is_match(&self, state: LevelMatch, level_count: usize) -> bool {
        match state {
            LevelMatch::Failed => false,
            LevelMatch::Everything => true,
            // `a/#` matches `a`: a trailing `#` may stand for "no more levels".
            LevelMatch::Prefix => matches!(self.levels.get(level_count..), Some([] | ["#"])),
        }
    }
}

/// Progress of matching a filter against a path one level at a time (see [`TopicFilter::level_matcher`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelMatch {
    /// The levels so far match the filter's first levels; more may follow.
    Prefix,
    /// A `#` was reached: this path and everything below it match.
    Everything,
    /// No path starting with these levels can match.
    Failed,
}

impl LevelMatch {
    /// The state before the first level.
    pub const START: LevelMatch = LevelMatch::Prefix;
}

impl fmt::Display for TopicFilter {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl FromStr for TopicFilter {
    type Err = TopicError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TopicFilter::parse(text)
    }
}

/// Checks a topic name for publishing: non-empty, at most 65,535 bytes, no NUL, no wildcards.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    check_common(name)?;
    if name.contains(['+', '#']) {
        return Err(TopicError::WildcardInTopicName);
    }
    Ok(())
}

/// Rules shared by names and filters.
fn check_common(text: &str) -> Result<(), TopicError> {
    if text.is_empty() {
        return Err(TopicError::Empty);
    }
    if text.len() > MAX_TOPIC_BYTES {
        return Err(TopicError::TooLong {
            length_bytes: text.len(),
        });
    }
    if text.contains('\0') {
        return Err(TopicError::ContainsNul);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filter(text: &str) -> TopicFilter {
        TopicFilter::parse(text).unwrap()
    }

    /// A deliberately naive matcher, written straight from the specification's wording.
    fn reference_matches(filter: &str, topic: &str) -> bool {
        fn levels_match(filter: &[&str], topic: &[&str]) -> bool {
            match (filter.first(), topic.first()) {
                (Some(&"#"), _) => true,
                (None, None) => true,
                (None, Some(_)) | (Some(_), None) => false,
                (Some(&f), Some(&t)) => {
                    (f == "+" || f == t) && levels_match(&filter[1..], &topic[1..])
                }
            }
        }
        if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
            return false;
        }
        let filter_levels: Vec<&str> = filter.split('/').collect();
        let topic_levels: Vec<&str> = topic.split('/').collect();
        levels_match(&filter_levels, &topic_levels)
    }

    fn walk_matches(filter: &TopicFilter, topic: &str) -> bool {
        let matcher = filter.level_matcher();
        let mut state = LevelMatch::START;
        let mut count = 0;
        for (depth, level) in topic.split('/').enumerate() {
            state = matcher.step(state, depth, level);
            count += 1;
        }
        matcher.is_match(state, count)
    }

    #[test]
    fn valid_filters_parse() {
        for text in [
            "#",
            "+",
            "a",
            "a/b",
            "a/+/c",
            "a/#",
            "+/+",
            "/",
            "a//b",
            "/+",
            "$SYS/#",
            "sport/tennis/+/#",
        ] {
            assert!(TopicFilter::parse(text).is_ok(), "{text} should parse");
        }
    }

    #[test]
    fn misplaced_wildcards_are_refused_with_the_level() {
        assert_eq!(
            TopicFilter::parse("a/#/c"),
            Err(TopicError::MisplacedMultiLevelWildcard { level: 2 })
        );
        assert_eq!(
            TopicFilter::parse("a#"),
            Err(TopicError::MisplacedMultiLevelWildcard { level: 1 })
        );
        assert_eq!(
            TopicFilter::parse("a/b#"),
            Err(TopicError::MisplacedMultiLevelWildcard { level: 2 })
        );
        assert_eq!(
            TopicFilter::parse("a/+b"),
            Err(TopicError::MisplacedSingleLevelWildcard { level: 2 })
        );
        assert_eq!(
            TopicFilter::parse("++"),
            Err(TopicError::MisplacedSingleLevelWildcard { level: 1 })
        );
        assert_eq!(
            TopicFilter::parse("#/"),
            Err(TopicError::MisplacedMultiLevelWildcard { level: 1 })
        );
    }

    #[test]
    fn empty_nul_and_oversized_filters_are_refused() {
        assert_eq!(TopicFilter::parse(""), Err(TopicError::Empty));
        assert_eq!(TopicFilter::parse("a\0b"), Err(TopicError::ContainsNul));
        let long = "a".repeat(MAX_TOPIC_BYTES + 1);
        assert_eq!(
            TopicFilter::parse(&long),
            Err(TopicError::TooLong {
                length_bytes: MAX_TOPIC_BYTES + 1
            })
        );
        assert!(TopicFilter::parse(&"a".repeat(MAX_TOPIC_BYTES)).is_ok());
    }

    #[test]
    fn error_messages_tell_the_user_what_to_do() {
        let message = TopicError::MisplacedMultiLevelWildcard { level: 2 }.to_string();
        assert!(message.contains("last level"), "{message}");
    }

    #[test]
    fn multi_level_wildcard_matches_parent_and_everything_below() {
        let f = filter("sport/tennis/#");
        assert!(f.matches("sport/tennis"));
        assert!(f.matches("sport/tennis/player1"));
        assert!(f.matches("sport/tennis/player1/ranking"));
        assert!(!f.matches("sport/tennisplayer"));
        assert!(!f.matches("sport"));
        assert!(filter("#").matches("a/b/c"));
        assert!(filter("#").matches("/"));
    }

    #[test]
    fn single_level_wildcard_matches_exactly_one_level_including_empty() {
        let f = filter("sport/+/player1");
        assert!(f.matches("sport/tennis/player1"));
        assert!(f.matches("sport//player1"));
        assert!(!f.matches("sport/tennis/x/player1"));
        assert!(filter("sport/+").matches("sport/"));
        assert!(!filter("sport/+").matches("sport"));
        assert!(filter("+/+").matches("/finance"));
        assert!(filter("/+").matches("/finance"));
        assert!(!filter("+").matches("/finance"));
    }

    #[test]
    fn wildcards_at_the_start_do_not_match_dollar_topics() {
        assert!(!filter("#").matches("$SYS/broker/uptime"));
        assert!(!filter("+/monitor/Clients").matches("$SYS/monitor/Clients"));
        assert!(filter("$SYS/#").matches("$SYS/monitor/Clients"));
        assert!(filter("$SYS/monitor/+").matches("$SYS/monitor/Clients"));
        assert!(filter("a/#").matches("a/$b"));
    }

    #[test]
    fn literal_filters_match_only_the_same_topic() {
        assert!(filter("a/b").matches("a/b"));
        assert!(!filter("a/b").matches("a/b/"));
        assert!(!filter("a/b").matches("A/b"));
        assert!(filter("a//b").matches("a//b"));
        assert!(!filter("a/b").has_wildcards());
        assert!(filter("a/+").has_wildcards());
    }

    #[test]
    fn topic_names_for_publishing_are_checked() {
        assert_eq!(validate_topic_name("a/b"), Ok(()));
        assert_eq!(validate_topic_name("/"), Ok(()));
        assert_eq!(
            validate_topic_name("a/+"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(
            validate_topic_name("a/#"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("x\0"), Err(TopicError::ContainsNul));
        assert!(validate_topic_name(&"é".repeat(40_000)).is_err());
    }

    #[test]
    fn filters_round_trip_through_display_and_from_str() {
        let parsed: TopicFilter = "a/+/#".parse().unwrap();
        assert_eq!(parsed.to_string(), "a/+/#");
        assert_eq!(parsed.levels().collect::<Vec<_>>(), ["a", "+", "#"]);
    }

    proptest! {
        #[test]
        fn matching_agrees_with_the_reference_matcher(
            filter_text in "[ab$+#/]{1,8}", topic in "[ab$/]{0,8}"
        ) {
            if let Ok(parsed) = TopicFilter::parse(&filter_text) {
                let expected = reference_matches(&filter_text, &topic);
                prop_assert_eq!(parsed.matches(&topic), expected);
                prop_assert_eq!(walk_matches(&parsed, &topic), expected);
            }
        }

        #[test]
        fn parse_never_panics_and_accepts_only_valid_wildcards(text in "\\PC{0,12}") {
            if let Ok(parsed) = TopicFilter::parse(&text) {
                let levels: Vec<&str> = parsed.levels().collect();
                for (index, level) in levels.iter().enumerate() {
                    prop_assert!(!level.contains('+') || *level == "+");
                    prop_assert!(!level.contains('#') || (*level == "#" && index == levels.len() - 1));
                }
            }
        }
    }
}
