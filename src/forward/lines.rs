//! What a received message becomes in InfluxDB: aedifion line protocol as received (measurement
//! = datapoint name, its own timestamp; the receive time added where a line has none), legacy
//! `datapoint;time;value` as `<datapoint> value=<v> <time>`, and any other number as
//! `<measurement>,topic=<topic> <field>=<value> <receive time>`.

use bytes::Bytes;

use crate::model::decode::influx::{self, FieldValue};
use crate::model::decode::message::Message;
use crate::model::decode::payload::{ExtractedValue, PayloadFormat, ValueKey};
use crate::model::time::Nanos;

/// A message handed to the forwarder: only what its lines need.
#[derive(Debug, Clone)]
pub struct ForwardItem {
    topic: String,
    /// Influx payloads: the text, sent line by line as received.
    payload: Bytes,
    /// Other payloads: the numbers decoded from them.
    values: Vec<ExtractedValue>,
    influx: bool,
    received_at_nanos: Nanos,
}

impl ForwardItem {
    /// The item for `message` received on `topic`, or `None` when it carries nothing for a
    /// time-series database (no number; metadata and SWOP control messages).
    pub fn of_message(topic: &str, message: &Message) -> Option<ForwardItem> {
        let influx = match message.decoded.format {
            PayloadFormat::Influx => true,
            PayloadFormat::Legacy | PayloadFormat::Json | PayloadFormat::Number => false,
            _ => return None,
        };
        if message.decoded.values.is_empty() && !influx {
            return None;
        }
        Some(ForwardItem {
            topic: topic.to_owned(),
            payload: if influx {
                message.payload.clone()
            } else {
                Bytes::new()
            },
            values: if influx {
                Vec::new()
            } else {
                message.decoded.values.clone()
            },
            influx,
            received_at_nanos: message.received_at_nanos,
        })
    }

    /// Appends the item's lines (each ending in `\n`) to `out`; returns (lines written, lines
    /// skipped because they are not valid line protocol or cannot be written as such).
    pub fn write_lines(&self, measurement: &str, out: &mut String) -> (u64, u64) {
        if self.influx {
            return write_influx_lines(&self.payload, self.received_at_nanos, out);
        }
        let mut written = 0;
        let mut skipped = 0;
        for value in &self.values {
            match value_line(measurement, &self.topic, value, self.received_at_nanos) {
                Some(line) => {
                    out.push_str(&line);
                    out.push('\n');
                    written += 1;
                }
                None => skipped += 1,
            }
        }
        (written, skipped)
    }
}

fn write_influx_lines(payload: &[u8], received_at_nanos: Nanos, out: &mut String) -> (u64, u64) {
    let Ok(text) = std::str::from_utf8(payload) else {
        return (0, 1);
    };
    let mut written = 0;
    let mut skipped = 0;
    for (_, line) in influx::payload_lines(text) {
        let line = line.trim_start_matches([' ', '\t']);
        match influx::parse_line(line) {
            Ok(parsed) => {
                out.push_str(line.trim_end_matches([' ', '\t']));
                if parsed.timestamp_nanos.is_none() {
                    out.push(' ');
                    out.push_str(&received_at_nanos.to_string());
                }
                out.push('\n');
                written += 1;
            }
            Err(_) => skipped += 1,
        }
    }
    (written, skipped)
}

fn value_line(
    measurement: &str,
    topic: &str,
    value: &ExtractedValue,
    received_at_nanos: Nanos,
) -> Option<String> {
    let number = FieldValue::Float(value.value);
    match &value.key {
        // Legacy aedifion payloads: the datapoint is the measurement, as in line protocol.
        ValueKey::InfluxField {
            measurement: datapoint,
            field,
        } => influx::write_line(
            datapoint,
            [],
            [(field.as_str(), &number)],
            Some(value.timestamp_nanos.unwrap_or(received_at_nanos)),
        )
        .ok(),
        ValueKey::Whole => influx::write_line(
            measurement,
            [("topic", topic)],
            [("value", &number)],
            Some(received_at_nanos),
        )
        .ok(),
        ValueKey::JsonPath(path) => influx::write_line(
            measurement,
            [("topic", topic)],
            [(path.as_str(), &number)],
            Some(value.timestamp_nanos.unwrap_or(received_at_nanos)),
        )
        .ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topic::qos::Qos;

    fn lines_of(topic: &str, payload: &'static [u8]) -> (String, u64, u64) {
        let message = Message::new(
            topic.into(),
            Bytes::from_static(payload),
            Qos::AtLeastOnce,
            false,
            77,
        );
        let mut out = String::new();
        let Some(item) = ForwardItem::of_message(topic, &message) else {
            return (out, 0, 0);
        };
        let (written, skipped) = item.write_lines("mqtt", &mut out);
        (out, written, skipped)
    }

    #[test]
    fn influx_lines_go_as_received_with_the_receive_time_where_missing() {
        let (out, written, skipped) = lines_of(
            "lbg/p/h",
            b"RoomTemp value=21.5 1700000000000000000\r\n# comment\n  Other,tag=x value=1i\nbroken line here\n",
        );
        assert_eq!(
            out,
            "RoomTemp value=21.5 1700000000000000000\nOther,tag=x value=1i 77\n"
        );
        assert_eq!((written, skipped), (2, 1));
    }

    #[test]
    fn other_numbers_become_mqtt_points_tagged_with_their_topic() {
        let (out, written, _) = lines_of("home/living room/temp", b"21.5 \xc2\xb0C");
        assert_eq!(out, "mqtt,topic=home/living\\ room/temp value=21.5 77\n");
        assert_eq!(written, 1);
        let (out, _, _) = lines_of("a/b", b"{\"t\":1,\"s\":{\"on\":true},\"name\":\"x\"}");
        assert_eq!(out, "mqtt,topic=a/b t=1.0 77\nmqtt,topic=a/b s.on=1.0 77\n");
    }

    #[test]
    fn text_metadata_and_binary_carry_nothing() {
        assert_eq!(lines_of("a", b"hello").1, 0);
        assert_eq!(lines_of("a", &[0xff, 0xfe]).1, 0);
        assert!(
            ForwardItem::of_message(
                "META/lbg/p/h",
                &Message::new(
                    "META/lbg/p/h".into(),
                    Bytes::from_static(b"{\"name\":\"x\",\"units\":\"C\"}"),
                    Qos::AtMostOnce,
                    true,
                    1
                )
            )
            .is_none()
        );
    }
}
