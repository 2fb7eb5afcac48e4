//! Topic names in any script: the window asks the system for a font when egui's own fonts lack
//! a character (eframe's `system_fonts` provider, installed by eframe in the real window and here
//! by hand). With a CJK font on the system (scripts/install-deps.sh installs one), Chinese,
//! Japanese and Korean topic levels are drawn with real glyphs, not boxes.

use std::sync::Arc;

use bytes::Bytes;
use egui::FontId;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use topicscope::model::decode::message::Message;
use topicscope::model::store::{Limits, Store};
use topicscope::model::time::now_nanos;
use topicscope::model::topic::qos::Qos;
use topicscope::model::topic::tree::NodeId;

mod common;
use common::ExplorerState as Explorer;

const TOPICS: [&str; 3] = ["建筑/三楼/温度", "ビル/会議室/湿度", "건물/층/온도"];

fn explorer() -> Explorer {
    let mut store = Store::new(Limits::default());
    for topic in TOPICS {
        store.apply(Message::new(
            topic.to_owned(),
            Bytes::from_static(b"21.5"),
            Qos::AtMostOnce,
            false,
            now_nanos(),
        ));
    }
    store.tree_mut().expand_all_below(NodeId::ROOT);
    Explorer::new(store)
}

#[test]
fn cjk_topic_names_are_drawn_with_a_system_font() {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(|ctx| {
            ctx.add_font_provider(Arc::new(
                egui_system_font_provider::SystemFontProvider::new(),
            ));
        })
        .build_ui_state(
            |ui, explorer: &mut Explorer| {
                explorer.show(ui);
            },
            explorer(),
        );
    harness.run();

    // The tree shows the levels as they are.
    for level in ["建筑", "三楼", "ビル", "会議室", "건물"] {
        assert!(
            harness.query_by_label_contains(level).is_some(),
            "the tree shows {level}"
        );
    }
    // egui's bundled fonts have no CJK glyphs; after the provider ran, some font has them.
    for character in ['中', '建', 'ビ', '건'] {
        let drawn = harness.ctx.fonts_mut(|fonts| {
            fonts.has_glyph(&FontId::proportional(14.0), character)
                && fonts.has_glyph(&FontId::monospace(14.0), character)
        });
        assert!(
            drawn,
            "no font for {character:?} (U+{:04X}): install a CJK font (fonts-noto-cjk or \
             fonts-droid-fallback; scripts/install-deps.sh does)",
            u32::from(character)
        );
    }
    let discovered: Vec<String> = harness.ctx.fonts(|fonts| {
        fonts
            .discovered_fonts()
            .iter()
            .map(|font| font.name.clone())
            .collect()
    });
    assert!(!discovered.is_empty(), "a system font was installed");
}

#[test]
fn without_a_font_provider_egui_alone_has_no_cjk_glyphs() {
    // The reason the provider is needed: egui's own fonts stop at Latin, Greek and Cyrillic.
    let mut harness = Harness::builder().build_ui(|ui| {
        ui.label("°C");
    });
    harness.run();
    let ctx = &harness.ctx;
    let has = ctx.fonts_mut(|fonts| fonts.has_glyph(&FontId::proportional(14.0), '中'));
    assert!(!has);
    let latin_and_units = ctx.fonts_mut(|fonts| {
        "°²³µ Ωé ж"
            .chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| fonts.has_glyph(&FontId::proportional(14.0), c))
    });
    assert!(latin_and_units);
}
