//! The HTML report in a real browser: `losslab replay --out` writes `report.html` and
//! `timeline.svg`, headless Chromium (Debian's package, installed by `.ci/run`) opens each, and
//! the test asserts that the browser logged no console error and that the screenshot is not
//! blank.
//!
//! The test is `#[ignore]`d, so that a machine without Chromium reports it as `ignored` rather
//! than a 0.00 s `ok` (issue 17: libtest has no runtime skip, and a test that returns early
//! passes). It runs when asked for: `cargo test --release --test report_browser --
//! --include-ignored`, which `.ci/run` does after installing Chromium; asked for and without
//! Chromium, it fails saying how to install it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = "tests/fixtures/cli/acks1-leader-crash.json";

/// `chromium` on the PATH (Debian installs it as /usr/bin/chromium).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("chromium")).find(|p| p.is_file())
}

fn dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creates the test directory");
    dir
}

/// `losslab replay SCENARIO --out out`; the seed's directory.
fn replayed(out: &Path) -> PathBuf {
    let replay = Command::new(env!("CARGO_BIN_EXE_losslab"))
        .args(["replay", SCENARIO, "--out"])
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("losslab runs");
    assert!(replay.status.success(), "replay failed: {}", String::from_utf8_lossy(&replay.stderr));
    out.join("cli-acks1-leader-crash").join("seed-1")
}

#[test]
#[ignore = "needs chromium: cargo test --release --test report_browser -- --include-ignored (.ci/run does)"]
fn the_html_report_and_the_timeline_render_in_a_browser() {
    let browser = chromium().expect(
        "chromium is not on the PATH: install it (Debian: apt-get install chromium; .ci/run does) to run this test",
    );
    let out = dir("out");
    let seed_dir = replayed(&out);
    // The page holds text, tables and the chart; the chart alone is denser.
    for (file, min_ink) in [("report.html", 0.02), ("timeline.svg", 0.05)] {
        let page = seed_dir.join(file);
        assert!(page.is_file(), "replay --out wrote no {}", page.display());
        let png = out.join(format!("{file}.png"));
        let log = screenshot(&browser, &page, &png);
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Uncaught") || l.contains("console error") || l.contains(":CONSOLE"))
            .collect();
        assert!(errors.is_empty(), "{file}: the browser logged console messages:\n{}", errors.join("\n"));
        let ink = ink_share(&png);
        assert!(ink > min_ink, "{file}: the screenshot is blank ({:.2}% of pixels not white)", ink * 100.0);
    }
}

/// Opens `page` in headless Chromium and saves a 1200×2000 screenshot to `png`; returns what
/// the browser logged.
fn screenshot(browser: &Path, page: &Path, png: &Path) -> String {
    let profile = dir(&format!("profile-{}", png.file_name().and_then(|n| n.to_str()).unwrap_or("x")));
    let url = format!("file://{}", page.canonicalize().expect("the page exists").display());
    let log_path = png.with_extension("log");
    let log = fs::File::create(&log_path).expect("creates the log");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        match child.try_wait().expect("waits for chromium") {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 120 s on {url}");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let log = fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "chromium failed on {url} ({status}):\n{log}");
    assert!(png.is_file(), "chromium wrote no screenshot of {url}:\n{log}");
    log
}

/// The share of pixels that are not (nearly) white.
fn ink_share(png: &Path) -> f64 {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(png).expect("the screenshot opens")));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("the screenshot decodes");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let total = pixels.len() / channels;
    let ink = pixels.chunks(channels).filter(|p| p.iter().take(3.min(channels)).any(|&v| v < 245)).count();
    ink as f64 / total.max(1) as f64
}

/// The step-through (issue 18): `report.html#step=N` opens at moment N, so the browser's DOM
/// after the script ran shows a different moment, state and highlighted list item for each N.
#[test]
#[ignore = "needs chromium: cargo test --release --test report_browser -- --include-ignored (.ci/run does)"]
fn the_step_through_moves_from_moment_to_moment() {
    let browser = chromium().expect(
        "chromium is not on the PATH: install it (Debian: apt-get install chromium; .ci/run does) to run this test",
    );
    let page = replayed(&dir("step")).join("report.html");
    let html = fs::read_to_string(&page).expect("report.html");
    let moments = html.matches("<li id=\"moment-").count();
    assert!(moments >= 5, "the acks=1 loss has at least a lost ack, a crash, an election, a truncation: {moments}");
    let first = dom(&browser, &page, 0);
    let last = dom(&browser, &page, moments - 1);
    assert!(first.contains(&format!("moment 1 of {moments} ")), "{}", where_text(&first));
    assert!(last.contains(&format!("moment {moments} of {moments} ")), "{}", where_text(&last));
    assert!(first.contains("<li id=\"moment-0\" class=\"lost-ack current\">"), "the first moment is highlighted");
    assert!(last.contains(&format!("<li id=\"moment-{}\" class=\"", moments - 1)) && last.contains(" current\">"));
    // Each moment draws every replica: three brokers' lanes in the stage.
    for dom in [&first, &last] {
        assert_eq!(dom.matches(">b1 (").count() + dom.matches(">b2 (").count() + dom.matches(">b3 (").count(), 3);
    }
    assert_ne!(stage(&first), stage(&last), "the drawing changes between moments");
}

/// The DOM of `page#step=n` after its scripts ran.
fn dom(browser: &Path, page: &Path, n: usize) -> String {
    let url = format!("file://{}#step={n}", page.canonicalize().expect("the page exists").display());
    let profile = dir(&format!("profile-dom-{n}"));
    let output = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=3000"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .expect("chromium starts");
    assert!(output.status.success(), "chromium failed on {url}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn where_text(dom: &str) -> &str {
    dom.split("id=\"step-where\">").nth(1).and_then(|s| s.split('<').next()).unwrap_or("no step-where")
}

fn stage(dom: &str) -> &str {
    dom.split("id=\"step-svg\"").nth(1).and_then(|s| s.split("</svg>").next()).unwrap_or("")
}
