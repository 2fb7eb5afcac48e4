//! The profile editor's "Decoders" section: rows of topic filter + decoder that override the
//! automatic payload decoding for matching topics (first matching row wins).

use egui::{Button, ComboBox, RichText, TextEdit};

use crate::model::decode::decoder_override::{DecoderChoice, DecoderOverride};
use crate::model::topic::filter::TopicFilter;

/// Width of the filter field, in points.
const FILTER_WIDTH: f32 = 240.0;

/// Edits `overrides` in place; invalid filters are flagged next to their row in `error_colour`
/// (the worker skips such rows).
pub fn decoder_overrides_ui(
    ui: &mut egui::Ui,
    overrides: &mut Vec<DecoderOverride>,
    error_colour: egui::Color32,
) {
    ui.add_space(6.0);
    ui.strong("Decoders");
    ui.label(
        "Payloads are decoded automatically. To force a decoder for some topics, add a topic \
         filter (`+` and `#` allowed); the first matching row wins.",
    );
    let mut remove = None;
    for (index, row) in overrides.iter_mut().enumerate() {
        ui.horizontal(|ui| override_row(ui, index, row, &mut remove));
        // An empty row is one being typed; it is skipped until it holds a filter.
        if row.filter.is_empty() {
            continue;
        }
        if let Err(error) = TopicFilter::parse(&row.filter) {
            ui.label(RichText::new(error.to_string()).color(error_colour));
        }
    }
    if let Some(index) = remove {
        overrides.remove(index);
    }
    if ui.add(Button::new("Add decoder override")).clicked() {
        overrides.push(DecoderOverride::new(String::new(), DecoderChoice::Influx));
    }
}

fn override_row(
    ui: &mut egui::Ui,
    index: usize,
    row: &mut DecoderOverride,
    remove: &mut Option<usize>,
) {
    let number = index + 1;
    ui.add(
        TextEdit::singleline(&mut row.filter)
            .hint_text("lbg01/project/#")
            .desired_width(FILTER_WIDTH),
    )
    .accessible_name(format!("Decoder filter {number}"));
    ui.name_inputs(format!("Decoder {number}"), |ui| {
        ComboBox::from_id_salt(("decoder_override", index))
            .selected_text(row.format.name())
            .width(90.0)
            .show_ui(ui, |ui| {
                for choice in DecoderChoice::ALL {
                    ui.selectable_value(&mut row.format, choice, choice.name());
                }
            });
    });
    if ui
        .button("Remove")
        .on_hover_text(format!("Remove decoder override {number}"))
        .clicked()
    {
        *remove = Some(index);
    }
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;

    fn harness(rows: Vec<DecoderOverride>) -> Harness<'static, Vec<DecoderOverride>> {
        Harness::new_ui_state(
            |ui, rows: &mut Vec<DecoderOverride>| {
                decoder_overrides_ui(ui, rows, egui::Color32::RED);
            },
            rows,
        )
    }

    #[test]
    fn adding_a_row_and_typing_a_filter_edits_the_profile() {
        let mut harness = harness(Vec::new());
        harness.get_by_label("Add decoder override").click();
        harness.run();
        harness.get_by_label("Decoder filter 1").focus();
        harness
            .get_by_label("Decoder filter 1")
            .type_text("plant/#");
        harness.run();
        assert_eq!(
            harness.state(),
            &vec![DecoderOverride::new("plant/#", DecoderChoice::Influx)]
        );
    }

    #[test]
    fn an_invalid_filter_is_flagged_and_a_row_can_be_removed() {
        let mut harness = harness(vec![
            DecoderOverride::new("a/#/b", DecoderChoice::Json),
            DecoderOverride::new("c/+", DecoderChoice::Meta),
        ]);
        harness.run();
        harness.get_by_label_contains("`#` must be the whole last level");
        harness
            .query_all_by_label("Remove")
            .next()
            .expect("a Remove button")
            .click();
        harness.run();
        assert_eq!(
            harness.state(),
            &vec![DecoderOverride::new("c/+", DecoderChoice::Meta)]
        );
    }
}
