//! `--png`: an SVG chart rendered in-process to a PNG a slide deck takes, at [`SCALE`] times
//! its size. The renderer (resvg) sees only the font bundled here, WenQuanYi Micro Hei
//! (`reports/fonts/`, Apache-2.0; Latin and CJK in one file, derived from Droid Sans and Droid
//! Sans Fallback), never the machine's fonts: every family a chart names (`style::FONT`, the
//! generic ones included) resolves to it, so the same SVG gives the same PNG bytes on every
//! machine, and Chinese labels have ink where no CJK font is installed.

use std::sync::{Arc, OnceLock};

/// How many pixels per SVG unit: 2 for slides and high-density screens.
pub const SCALE: f32 = 2.0;

/// The bundled font: a TrueType collection (regular and mono faces).
const FONT_DATA: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");

/// The family name inside [`FONT_DATA`] that every family a chart names is mapped to.
pub const FONT_FAMILY: &str = "WenQuanYi Micro Hei";

/// The renderer's font database: the bundled font alone, parsed once per process.
fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_source(resvg::usvg::fontdb::Source::Binary(Arc::new(FONT_DATA)));
            // usvg ends every family list with `serif` as its last resort; every generic family
            // must therefore name the bundled font too.
            db.set_serif_family(FONT_FAMILY);
            db.set_sans_serif_family(FONT_FAMILY);
            db.set_cursive_family(FONT_FAMILY);
            db.set_fantasy_family(FONT_FAMILY);
            db.set_monospace_family(FONT_FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// The PNG of `svg` at [`SCALE`] times its size, or why it could not be drawn.
pub fn render(svg: &str) -> Result<Vec<u8>, String> {
    let options = resvg::usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: fonts(),
        // Nothing outside the SVG is read: no image files beside it.
        resources_dir: None,
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| format!("cannot read the SVG: {e}"))?;
    let size = tree.size().to_int_size().scale_by(SCALE).ok_or("the SVG is too large to draw")?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("cannot draw a {}x{} picture", size.width(), size.height()))?;
    // Charts have no background of their own in every viewer; a slide wants white, not
    // transparency.
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(SCALE, SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("cannot encode the PNG: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (width, height, RGBA pixels) of a PNG, decoded by tiny-skia.
    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(png).expect("a PNG");
        (pixmap.width(), pixmap.height(), pixmap.data().to_vec())
    }

    /// Pixels that are not the white background.
    fn inked(pixels: &[u8]) -> usize {
        pixels.chunks(4).filter(|p| p[0] < 200 || p[1] < 200 || p[2] < 200).count()
    }

    fn text_svg(text: &str, family: &str) -> String {
        format!(
            "<svg width=\"200\" height=\"60\" viewBox=\"0 0 200 60\" xmlns=\"http://www.w3.org/2000/svg\">\
             <text x=\"10\" y=\"40\" font-family=\"{family}\" font-size=\"32\" fill=\"#000\">{text}</text></svg>"
        )
    }

    #[test]
    fn draws_at_twice_the_size_the_same_bytes_twice() {
        let svg = text_svg("Kafka", "sans-serif");
        let png = render(&svg).unwrap();
        assert_eq!(png, render(&svg).unwrap());
        let (width, height, pixels) = decode(&png);
        assert_eq!((width, height), (400, 120));
        assert!(inked(&pixels) > 200, "Latin text has ink");
    }

    #[test]
    fn chinese_text_has_ink_in_the_bundled_font_whatever_family_is_named() {
        for family in ["sans-serif", crate::charts::style::FONT, "No Such Font", "monospace"] {
            let (_, _, pixels) = decode(&render(&text_svg("消息丢失", family)).unwrap());
            assert!(inked(&pixels) > 500, "{family}: {} inked pixels", inked(&pixels));
        }
        let (_, _, blank) = decode(&render(&text_svg("", "sans-serif")).unwrap());
        assert_eq!(inked(&blank), 0, "an empty text draws nothing: the background is white");
    }

    #[test]
    fn an_svg_that_is_not_one_is_an_error() {
        assert!(render("not svg").unwrap_err().starts_with("cannot read the SVG"));
    }
}
