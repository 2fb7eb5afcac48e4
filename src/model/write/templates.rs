//! Saved publish templates (per profile), their variables, and the publish generator.
//!
//! Variables in a template's topic and payload: `{{now_ns}}` (nanoseconds since the epoch),
//! `{{now_iso}}` (RFC 3339, UTC, milliseconds), `{{uuid}}` (random UUID v4), `{{random}}` (a
//! random number in 0..1), `{{counter}}` (1, 2, 3… per expander). The clock and the random
//! numbers come from a [`VariableSource`], so tests are deterministic.

use serde::{Deserialize, Serialize};

use crate::model::time::Nanos;
use crate::model::topic::qos::Qos;
use crate::model::write::publish::{PayloadMode, PublishError, PublishRequest, payload_bytes};

/// Most messages one generator run may send.
pub const MAX_GENERATOR_COUNT: u32 = 100_000;
/// Shortest interval of a generator.
pub const MIN_GENERATOR_INTERVAL_MS: u64 = 10;

/// A saved message to publish again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Template {
    /// Name shown in the list.
    pub name: String,
    /// Topic, may contain variables.
    pub topic: String,
    /// Payload text, may contain variables.
    pub payload: String,
    /// How the payload text is read.
    pub mode: PayloadMode,
    /// QoS level 0, 1 or 2.
    pub qos: u8,
    pub retain: bool,
}

impl Default for Template {
    fn default() -> Self {
        Self {
            name: "New template".to_owned(),
            topic: String::new(),
            payload: String::new(),
            mode: PayloadMode::Text,
            qos: 0,
            retain: false,
        }
    }
}

/// Why a template cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{name}}` that is not one of the known variables.
    #[error(
        "Unknown variable {{{{{0}}}}}. Known: {{{{now_ns}}}}, {{{{now_iso}}}}, {{{{uuid}}}}, {{{{random}}}}, {{{{counter}}}}."
    )]
    UnknownVariable(String),
    /// `{{` without `}}`.
    #[error("A variable is not closed: add \"}}}}\" after its name.")]
    Unclosed,
    /// The expanded payload or topic is not valid.
    #[error("{0}")]
    Invalid(#[from] PublishError),
    /// QoS outside 0..=2.
    #[error("QoS must be 0, 1 or 2 (not {0}).")]
    Qos(u8),
}

/// Where variable values come from.
pub trait VariableSource {
    /// The current time.
    fn now_nanos(&mut self) -> Nanos;
    /// 16 random bytes (for a UUID).
    fn random_bytes(&mut self) -> [u8; 16];
    /// A random number in 0..1.
    fn random_unit(&mut self) -> f64;
}

/// The wall clock and the thread's random generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemVariables;

impl VariableSource for SystemVariables {
    fn now_nanos(&mut self) -> Nanos {
        crate::model::time::now_nanos()
    }

    fn random_bytes(&mut self) -> [u8; 16] {
        rand::random()
    }

    fn random_unit(&mut self) -> f64 {
        rand::random()
    }
}

/// A random (version 4) UUID in its usual text form.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Expands variables; keeps the counter between expansions.
#[derive(Debug, Default, Clone)]
pub struct Expander {
    counter: u64,
}

impl Expander {
    /// A fresh expander (the counter starts at 1).
    pub fn new() -> Self {
        Self::default()
    }

    /// `text` with every variable replaced.
    pub fn expand(
        &mut self,
        text: &str,
        source: &mut dyn VariableSource,
    ) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut counted = false;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
            let name = after[..end].trim();
            match name {
                "now_ns" => out.push_str(&source.now_nanos().to_string()),
                "now_iso" => {
                    out.push_str(&crate::model::write::audit::format_time(source.now_nanos()))
                }
                "uuid" => out.push_str(&uuid_v4(source.random_bytes())),
                "random" => out.push_str(&source.random_unit().to_string()),
                "counter" => {
                    // One counter value per message, however often it appears in it.
                    if !counted {
                        self.counter += 1;
                        counted = true;
                    }
                    out.push_str(&self.counter.to_string());
                }
                other => return Err(TemplateError::UnknownVariable(other.to_owned())),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The template as a ready request (topic and payload expanded, payload read in its mode).
    pub fn request(
        &mut self,
        template: &Template,
        source: &mut dyn VariableSource,
    ) -> Result<PublishRequest, TemplateError> {
        let qos = Qos::from_level(template.qos).ok_or(TemplateError::Qos(template.qos))?;
        // Expand both with one counter step: a message's topic and payload share its number.
        let combined = format!("{}\u{0}{}", template.topic, template.payload);
        let expanded = self.expand(&combined, source)?;
        let (topic, payload) = expanded.split_once('\u{0}').unwrap_or((&expanded, ""));
        let request = PublishRequest {
            topic: topic.to_owned(),
            payload: payload_bytes(template.mode, payload)?,
            qos,
            retain: template.retain,
        };
        request.validate()?;
        Ok(request)
    }
}

/// Re-sends a template every `interval_ms` until `count` messages were sent or it is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    interval_nanos: Nanos,
    remaining: u32,
    sent: u32,
    next_due_nanos: Nanos,
    stopped: bool,
}

impl Generator {
    /// Starts at `now_nanos` (the first message is due at once). The interval and count are
    /// clamped to [`MIN_GENERATOR_INTERVAL_MS`] and [`MAX_GENERATOR_COUNT`].
    pub fn start(interval_ms: u64, count: u32, now_nanos: Nanos) -> Self {
        let interval_ms = interval_ms.max(MIN_GENERATOR_INTERVAL_MS);
        Self {
            interval_nanos: i64::try_from(interval_ms.saturating_mul(1_000_000))
                .unwrap_or(i64::MAX),
            remaining: count.min(MAX_GENERATOR_COUNT),
            sent: 0,
            next_due_nanos: now_nanos,
            stopped: false,
        }
    }

    /// True when a message is due now; counts it as sent. At most one per call, so a late
    /// frame does not fire a burst.
    pub fn due(&mut self, now_nanos: Nanos) -> bool {
        if !self.running() || now_nanos < self.next_due_nanos {
            return false;
        }
        self.remaining -= 1;
        self.sent += 1;
        self.next_due_nanos = now_nanos.saturating_add(self.interval_nanos);
        true
    }

    /// Stops it (the visible Stop button).
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// True until stopped or all messages were sent.
    pub fn running(&self) -> bool {
        !self.stopped && self.remaining > 0
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Messages still to send.
    pub fn remaining(&self) -> u32 {
        if self.stopped { 0 } else { self.remaining }
    }

    /// When the next message is due (for the repaint timer).
    pub fn next_due_nanos(&self) -> Nanos {
        self.next_due_nanos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed clock and fixed "random" values.
    struct Fixed;

    impl VariableSource for Fixed {
        fn now_nanos(&mut self) -> Nanos {
            1_700_000_000_123_000_000
        }
        fn random_bytes(&mut self) -> [u8; 16] {
            [0xab; 16]
        }
        fn random_unit(&mut self) -> f64 {
            0.25
        }
    }

    #[test]
    fn every_variable_expands() {
        let mut expander = Expander::new();
        let text = "{{now_ns}} {{now_iso}} {{uuid}} {{random}} {{counter}} {{ counter }}";
        assert_eq!(
            expander.expand(text, &mut Fixed).unwrap(),
            "1700000000123000000 2023-11-14T22:13:20.123Z abababab-abab-4bab-abab-abababababab 0.25 1 1"
        );
        assert_eq!(expander.expand("n={{counter}}", &mut Fixed).unwrap(), "n=2");
    }

    #[test]
    fn unknown_and_unclosed_variables_are_refused() {
        let mut expander = Expander::new();
        assert_eq!(
            expander.expand("{{nope}}", &mut Fixed),
            Err(TemplateError::UnknownVariable("nope".to_owned()))
        );
        assert_eq!(
            expander.expand("{{now_ns", &mut Fixed),
            Err(TemplateError::Unclosed)
        );
        assert!(
            TemplateError::UnknownVariable("x".into())
                .to_string()
                .contains("{{x}}")
        );
    }

    #[test]
    fn a_template_becomes_a_request_with_one_counter_step() {
        let template = Template {
            name: "t".into(),
            topic: "test/{{counter}}".into(),
            payload: "{\"n\": {{counter}}, \"id\": \"{{uuid}}\"}".into(),
            mode: PayloadMode::Json,
            qos: 1,
            retain: true,
        };
        let mut expander = Expander::new();
        let request = expander.request(&template, &mut Fixed).unwrap();
        assert_eq!(request.topic, "test/1");
        assert_eq!(
            request.payload,
            b"{\"n\": 1, \"id\": \"abababab-abab-4bab-abab-abababababab\"}".to_vec()
        );
        assert_eq!((request.qos, request.retain), (Qos::AtLeastOnce, true));
        assert_eq!(
            expander.request(&template, &mut Fixed).unwrap().topic,
            "test/2"
        );
    }

    #[test]
    fn uuids_have_version_4_and_the_rfc_variant() {
        let uuid = uuid_v4([0; 16]);
        assert_eq!(uuid, "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn the_generator_fires_at_most_count_times_at_its_interval_and_stops() {
        let mut generator = Generator::start(100, 3, 0);
        assert!(generator.due(0));
        assert!(!generator.due(50_000_000));
        assert!(generator.due(100_000_000));
        assert!(generator.due(250_000_000));
        assert!(!generator.due(10_000_000_000), "count reached");
        assert_eq!((generator.sent(), generator.running()), (3, false));
        let mut stopped = Generator::start(1, 10, 0);
        assert!(stopped.due(0));
        stopped.stop();
        assert!(!stopped.due(1_000_000_000));
        assert_eq!(stopped.remaining(), 0);
        assert_eq!(
            Generator::start(0, u32::MAX, 0).remaining(),
            MAX_GENERATOR_COUNT
        );
    }
}
