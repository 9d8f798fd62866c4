//! `--png` and `DIR/index.html` on the built binary (issue 18, items 5 and 6): `replay --out
//! --png` writes a PNG beside every SVG, twice its size and not blank, the same bytes on a
//! second run; `DIR/index.html` lists every file and seed with links that exist, and keeps the
//! scenarios an earlier run left in the same `DIR`; `chart --png` and `explore --out` do their
//! part.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Two catalogue files: a loss and its fixed twin (expectations `some` and `none`).
const LOSS: &str = "scenarios/acks1-leader-crash.json";
const FIXED: &str = "scenarios/acks1-leader-crash-fixed.json";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losslab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the losslab binary runs")
}

fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("index_png").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every `href="..."` of a page.
fn links(page: &str) -> Vec<String> {
    page.split("href=\"").skip(1).map(|rest| rest[..rest.find('"').expect("closed")].to_string()).collect()
}

/// The `width` and `height` attributes of an SVG's root element.
fn svg_size(svg: &str) -> (u32, u32) {
    let attribute = |name: &str| -> u32 {
        let at = svg.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    (attribute("width"), attribute("height"))
}

/// Decodes a PNG: (width, height, pixels as RGBA or RGB samples).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut pixels = vec![0; reader.output_buffer_size().expect("fits")];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert!(matches!(info.color_type, png::ColorType::Rgba | png::ColorType::Rgb), "{}", path.display());
    pixels.truncate(info.buffer_size());
    let samples = info.color_type.samples();
    // As RGB: the picture is opaque (drawn on white).
    let rgb = pixels.chunks(samples).flat_map(|p| [p[0], p[1], p[2]]).collect();
    (info.width, info.height, rgb)
}

#[test]
fn replay_out_png_writes_a_picture_beside_every_svg_and_an_index_of_every_run() {
    let dir = out_dir("replay");
    let dir_arg = dir.to_str().unwrap();
    let out = run(&["replay", LOSS, FIXED, "--seeds", "2", "--out", dir_arg, "--png"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A PNG beside every SVG: twice its size, more than one colour, a fair share of ink.
    let timeline = dir.join("acks1-leader-crash/seed-1/timeline.png");
    let first = std::fs::read(&timeline).unwrap();
    for scenario in ["acks1-leader-crash", "acks1-leader-crash-fixed"] {
        for seed in [1, 2] {
            let seed_dir = dir.join(format!("{scenario}/seed-{seed}"));
            let svgs: Vec<PathBuf> = std::fs::read_dir(&seed_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "svg"))
                .collect();
            assert!(!svgs.is_empty(), "{}", seed_dir.display());
            for svg in svgs {
                let (width, height) = svg_size(&std::fs::read_to_string(&svg).unwrap());
                let (png_width, png_height, pixels) = decode(&svg.with_extension("png"));
                assert_eq!((png_width, png_height), (2 * width, 2 * height), "{}", svg.display());
                let white = pixels.chunks(3).filter(|p| p == &[255, 255, 255]).count();
                let all = pixels.len() / 3;
                let distinct: std::collections::BTreeSet<&[u8]> = pixels.chunks(3).collect();
                assert!(distinct.len() > 16, "{}: {} colours", svg.display(), distinct.len());
                let ink = all - white;
                assert!(ink * 100 > all * 3 && ink * 100 < all * 90, "{}: {ink} of {all} pixels inked", svg.display());
            }
        }
    }

    // The index: both files, every seed, each with a link to a report that exists.
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(page.contains(&format!("<code>{LOSS}</code>")) && page.contains(&format!("<code>{FIXED}</code>")));
    let reports: Vec<String> = links(&page);
    let want: Vec<String> = ["acks1-leader-crash", "acks1-leader-crash-fixed"]
        .iter()
        .flat_map(|s| [1, 2].map(|seed| format!("{s}/seed-{seed}/report.html")))
        .collect();
    assert_eq!(reports, want, "a link per seed, relative, in file and seed order");
    for link in &reports {
        assert!(dir.join(link).is_file(), "{link}");
    }
    assert_eq!(page.matches("<tr><td>").count(), 4, "a row per file and seed");
    assert!(page.contains("<th scope=\"col\">lost_acked</th>"), "a column for the class found");
    assert!(!page.contains("://"), "self-contained: nothing fetched");
    assert!(!dir.join("index.html.tmp").exists());

    // An earlier run's scenario stays listed when another file is run into the same DIR, and
    // the same input draws the same PNG bytes.
    let out = run(&["replay", LOSS, "--seeds", "1", "--out", dir_arg, "--png"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(&timeline).unwrap(), first, "the same PNG bytes twice");
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let reports = links(&page);
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert!(reports.contains(&"acks1-leader-crash-fixed/seed-2/report.html".to_string()));

    // Without --png, no PNG.
    let plain = out_dir("plain");
    let out = run(&["replay", LOSS, "--out", plain.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!plain.join("acks1-leader-crash/seed-1/timeline.png").exists());
    assert!(plain.join("index.html").is_file());

    // `chart --png` over that directory: a PNG beside every chart.
    let charts = out_dir("charts");
    let out = run(&["chart", dir_arg, "--out", charts.to_str().unwrap(), "--png"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svgs: Vec<PathBuf> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    assert!(!svgs.is_empty());
    for svg in svgs {
        let (width, height) = svg_size(&std::fs::read_to_string(&svg).unwrap());
        assert_eq!(decode(&svg.with_extension("png")).0, 2 * width, "{}", svg.display());
        assert_eq!(decode(&svg.with_extension("png")).1, 2 * height, "{}", svg.display());
    }
}

#[test]
fn replay_png_needs_out() {
    let out = run(&["replay", LOSS, "--png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
}

#[test]
fn explore_out_writes_an_index_linking_its_counterexamples() {
    let dir = out_dir("explore");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("unsafe.json");
    std::fs::write(&config, r#"{"producer": {"acks": "1"}, "workload": {"messages": 300}}"#).unwrap();
    let out_arg = dir.join("found");
    let out = run(&[
        "explore",
        "--config",
        config.to_str().unwrap(),
        "--seeds",
        "8",
        "--faults",
        "crash",
        "--out",
        out_arg.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(out_arg.join("index.html")).unwrap();
    assert!(page.contains("<th scope=\"col\">lost_acked</th>"), "{page}");
    let files = links(&page);
    assert!(files.iter().any(|f| f.contains("lost_acked")), "{files:?}");
    for file in &files {
        assert!(out_arg.join(file).is_file(), "{file}");
    }
}
