//! `report.html`: one run (one file, one seed) as a single self-contained page for people who
//! would rather look than read: the scenario and the verdict, the timeline charts inline as SVG,
//! the fault steps as they fired, every finding with its explanation, and the configuration. No
//! script, no external style sheet, font or image: the file can be mailed, archived or opened
//! years later and shows the same thing. Findings are told as stories (`story`: consecutive
//! records whose explanations differ only in ids and offsets are one range), and very long
//! lists of stories are cut per class with a count of the rest (every story is in `report.md`
//! beside it).

use crate::charts::Chart;
use crate::result::{FileResult, SeedRun};
use crate::settings::key_settings;
use crate::stepper;
pub use crate::text::esc;
use losslab_model::history::fmt_time;
use losslab_model::{EventKind, FindingClass, History};

/// How many partitions' timelines the page shows inline (every one is written beside it).
pub const TIMELINES_SHOWN: usize = 8;

/// How many stories of one class the page shows before "... and N more".
pub const STORIES_SHOWN_PER_CLASS: usize = 200;

/// The page for `run`, one of `result`'s seeds judged on its own; `history` is its history and
/// `charts` its timelines, already drawn.
pub fn run_report(result: &FileResult, run: &SeedRun, history: &History, charts: &[Chart]) -> String {
    let one = result.only(run);
    let s = one.scenario;
    let title = format!("{}, seed {}", s.name, run.seed);
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{} · losslab</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n", esc(&title)));
    page.push_str(&header(&one, run, &title));
    // The picture first, right after the outcome: it is what a reader came for.
    page.push_str(&verdict(&one, run));
    page.push_str(&timelines(charts));
    page.push_str(&step_through(run, history));
    page.push_str(&faults(history));
    page.push_str(&findings(run));
    page.push_str(&settings(&one));
    page.push_str(&format!(
        "<section id=\"replay\">\n<h2>Replay</h2>\n<p>The same file and seed give the same run, on every machine:</p>\n<pre>{}</pre>\n</section>\n",
        esc(&one.replay_command())
    ));
    page.push_str("<footer>Written by losslab, a deterministic simulation lab for Kafka's durability promises. Times are simulated.</footer>\n");
    page.push_str("</body>\n</html>\n");
    page
}

const STYLE: &str = concat!(
    "body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, ",
    crate::charts::style::cjk_fonts!(),
    ", sans-serif; color: #111; \
background: #fff; max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; line-height: 1.45; }
h1 { font-size: 1.8em; margin: 0.4em 0 0.2em; }
h2 { font-size: 1.3em; margin: 1.6em 0 0.5em; border-bottom: 2px solid #333; padding-bottom: 0.15em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.description { font-size: 1.05em; max-width: 75em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; margin: 0.8em 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.outcome { display: inline-block; padding: 0.3em 0.8em; border: 3px solid #111; font-weight: 700; font-size: 1.1em; }
.outcome.not-met { border-style: double; border-width: 5px; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #999; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.found td { font-weight: 700; }
.settings { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 0 2em; }
#step ol.moments li { cursor: pointer; } #step ol.moments li.current { background: #fff3c4; font-weight: 600; }
#step ol.moments li.lost-ack, #step ol.moments li.truncation { color: #8a1c1c; }
.step-controls { display: flex; gap: 0.6em; align-items: center; flex-wrap: wrap; }
.step-controls input[type=range] { flex: 1; min-width: 12em; } .step-text { font-weight: 600; min-height: 1.4em; }
#step-svg { width: 100%; height: auto; border: 1px solid #ccc; } #step-svg text { font-size: 13px; }
#step-svg text.axis { fill: #555; font-size: 11px; } #step-svg text.cell { fill: #fff; font-size: 11px; }
li.pickable { cursor: pointer; } li.picked { outline: 3px solid #f2c200; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 0.95em; color: #333; max-width: 75em; margin-top: 0.4em; }
ol.findings li { margin-bottom: 0.5em; } .more { font-style: italic; }
.class-meaning { color: #333; margin-top: 0; }
code, pre { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; }
pre { background: #f4f4f4; border: 1px solid #ccc; padding: 0.6em 0.9em; overflow-x: auto; }
footer { margin-top: 3em; color: #555; font-size: 0.9em; }
@media print { body { max-width: none; } figure { break-inside: avoid; } }
"
);

fn header(result: &FileResult, run: &SeedRun, title: &str) -> String {
    let s = result.scenario;
    let mut out = format!("<header>\n<h1>{}</h1>\n", esc(title));
    if !s.description.is_empty() {
        out.push_str(&format!("<p class=\"description\">{}</p>\n", esc(&s.description)));
    }
    out.push_str("<dl class=\"facts\">\n");
    let mut fact = |k: &str, v: String| out.push_str(&format!("<dt>{k}</dt><dd>{v}</dd>\n"));
    fact("file", format!("<code>{}</code>", esc(result.file)));
    if !s.source.is_empty() {
        fact("source", esc(&s.source));
    }
    fact("Kafka version", esc(&s.kafka_version.to_string()));
    fact("seed", run.seed.to_string());
    fact("trace hash", format!("<code>{}</code>", esc(&run.trace_hash)));
    out.push_str("</dl>\n</header>\n");
    out
}

fn verdict(result: &FileResult, run: &SeedRun) -> String {
    let mut out = String::from("<section id=\"verdict\">\n<h2>Verdict</h2>\n");
    let (class, text) = match result.judgement.passed {
        true => ("outcome met", "Every expectation met"),
        false => ("outcome not-met", "NOT MET: an expectation did not hold"),
    };
    out.push_str(&format!("<p><span class=\"{class}\">{text}</span></p>\n"));
    let c = &run.counts;
    out.push_str(&format!(
        "<p>The producers handed {} records to <code>send()</code>; {} were acknowledged and {} failed.</p>\n",
        c.get("sent"),
        c.get("acked"),
        c.get("failed")
    ));
    let expectations: Vec<String> = result
        .judgement
        .expectations()
        .map(|(class, want, met)| {
            let found = result.total_counts().class(class);
            format!(
                "<tr><td><code>{class}</code></td><td>{}</td><td class=\"n\">{found}</td><td>{}</td></tr>\n",
                want.as_str(),
                if met { "met" } else { "<strong>NOT MET</strong>" }
            )
        })
        .collect();
    out.push_str("<h3>Expectations</h3>\n");
    match expectations.is_empty() {
        true => out.push_str("<p>The scenario names no expectation.</p>\n"),
        false => out.push_str(&format!(
            "<table>\n<tr><th>class</th><th>want</th><th>found</th><th>result</th></tr>\n{}</table>\n",
            expectations.concat()
        )),
    }
    out.push_str(
        "<h3>Findings by class</h3>\n<table>\n<tr><th>class</th><th>count</th><th>a message counts when</th></tr>\n",
    );
    for class in FindingClass::ALL {
        let n = c.class(class);
        let row = if n > 0 { " class=\"found\"" } else { "" };
        out.push_str(&format!(
            "<tr{row}><td><code>{class}</code></td><td class=\"n\">{n}</td><td>{}</td></tr>\n",
            esc(meaning(class))
        ));
    }
    out.push_str("</table>\n</section>\n");
    out
}

/// What a class means, as the scenario format defines it.
pub fn meaning(class: FindingClass) -> &'static str {
    match class {
        FindingClass::LostAcked => "its producer was told it succeeded, and it is not in the final log",
        FindingClass::LostUnnoticed => {
            "the app handed it to send(), it is not in the final log, and the app was never told it failed"
        }
        FindingClass::LostFailed => "it is not in the final log and the app was told it failed (no guarantee broken)",
        FindingClass::Duplicated => "it is stored at more than one offset of the final log",
        FindingClass::Reordered => {
            "two acknowledged records of one producer to one partition are stored in the opposite order to their sends"
        }
        FindingClass::ConsumerSkipped => "it is in the final log and the consumer group never processed it",
        FindingClass::ConsumerDuplicated => "the consumer group processed it more than once",
        FindingClass::ConsumedLost => "the consumer group processed it, and it is not in the final log",
        FindingClass::Divergence => {
            "two replicas hold different records at one offset below both their high watermarks"
        }
        FindingClass::Stuck => "(per run) the final phase did not converge",
        FindingClass::AbortedRead => {
            "a consumer processed it, and its transaction was aborted or never committed"
        }
        FindingClass::TornTransaction => {
            "(per transaction) the producer was told the transaction committed, and only some of its records are in the final log, or a consumer processed only some of them"
        }
        FindingClass::PipelineLost => {
            "with app.output: it is in the final input log, and no output for it is in the final log of out"
        }
        FindingClass::PipelineDuplicated => "with app.output: more than one output for it is in the final log of out",
    }
}

fn settings(result: &FileResult) -> String {
    let mut out = String::from("<section id=\"configuration\">\n<h2>Configuration</h2>\n<div class=\"settings\">\n");
    for group in key_settings(result.scenario) {
        out.push_str(&format!("<table>\n<tr><th colspan=\"2\">{}</th></tr>\n", esc(group.name)));
        for (key, value) in group.settings {
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
                esc(key),
                esc(&value)
            ));
        }
        out.push_str("</table>\n");
    }
    out.push_str("</div>\n</section>\n");
    out
}

fn faults(history: &History) -> String {
    let items: Vec<String> = history
        .events
        .iter()
        .filter_map(|event| {
            let what = match &event.kind {
                EventKind::Step { step, action, detail } => {
                    format!("step {}: {}", step + 1, if detail.is_empty() { action } else { detail })
                }
                EventKind::FinalPhase => "final phase: heal every cut, resume and restart every node, drain".into(),
                EventKind::Converged { ok: true, detail } => format!("converged: {detail}"),
                EventKind::Converged { ok: false, detail } => format!("did NOT converge: {detail}"),
                _ => return None,
            };
            Some(format!("<li><strong>{}</strong>: {}</li>\n", fmt_time(event.t_us), esc(&what)))
        })
        .collect();
    let body = match items.is_empty() {
        true => "<p>The history records no fault step.</p>\n".to_string(),
        false => format!("<ul>\n{}</ul>\n", items.concat()),
    };
    format!("<section id=\"faults\">\n<h2>Faults, as they fired</h2>\n{body}</section>\n")
}

/// The step-through of the partition that lost acknowledged records (partition 0 when none did).
fn step_through(run: &SeedRun, history: &History) -> String {
    let lost_classes = [FindingClass::LostAcked, FindingClass::LostUnnoticed];
    let lost: Vec<&losslab_model::Finding> =
        run.verdict.findings.iter().filter(|f| lost_classes.contains(&f.class)).collect();
    let partition = lost.iter().find_map(|f| f.partition).unwrap_or(0);
    let records = lost.iter().filter_map(|f| f.message).collect();
    let end_us = history.events.last().map_or(0, |e| e.t_us);
    stepper::section(&stepper::steps(history, partition, &records), end_us)
}

fn timelines(charts: &[Chart]) -> String {
    let mut out = String::from("<section id=\"timeline\">\n<h2>Timeline</h2>\n");
    if charts.is_empty() {
        out.push_str("<p>No timeline was drawn for this run.</p>\n");
    }
    for chart in charts.iter().take(TIMELINES_SHOWN) {
        out.push_str(&format!(
            "<figure>\n{}\n<figcaption><strong>{}</strong>. One lane per broker over simulated time: the solid line \
             is where the replica's log ends (LEO), the dashed line its high watermark (HW; consumers read below it), \
             the shaded stretches the periods it led, with their leader epochs. Hatched bands are faults: diagonal for \
             a process crash, cross-hatched for a power loss, vertical for a pause, horizontal for a network cut. \
             Orange circles mark lost messages where the producer was told they were written; red crosses mark where \
             a replica took them away. The top panel is the controller's view: the ISR size and each election.\
             </figcaption>\n</figure>\n",
            chart.svg.trim_end(),
            esc(&chart.title)
        ));
    }
    if charts.len() > TIMELINES_SHOWN {
        let rest: Vec<String> =
            charts[TIMELINES_SHOWN..].iter().map(|c| format!("<code>{}</code>", esc(&c.file_name))).collect();
        out.push_str(&format!(
            "<p class=\"more\">{} more partitions are drawn beside this page: {}.</p>\n",
            rest.len(),
            rest.join(", ")
        ));
    }
    out.push_str("</section>\n");
    out
}

fn findings(run: &SeedRun) -> String {
    let mut out = String::from("<section id=\"findings\">\n<h2>Findings</h2>\n");
    let mut any = false;
    for class in FindingClass::ALL {
        let all: Vec<_> = run.stories.iter().filter(|s| s.class() == class).collect();
        if all.is_empty() {
            continue;
        }
        any = true;
        out.push_str(&format!("<h3 id=\"{class}\"><code>{class}</code> ({})</h3>\n", run.counts.class(class)));
        out.push_str(&format!("<p class=\"class-meaning\">A message counts when {}.</p>\n", esc(meaning(class))));
        out.push_str("<ol class=\"findings\">\n");
        for story in all.iter().take(STORIES_SHOWN_PER_CLASS) {
            let partition = story.first.partition.map(|p| format!(" (partition {p})")).unwrap_or_default();
            let record = story.first.message.map(|m| format!(" data-record=\"{m}\"")).unwrap_or_default();
            out.push_str(&format!(
                "<li{record}><strong>{}</strong>{}{}: {}</li>\n",
                esc(&story.subject()),
                story.records_suffix(),
                partition,
                esc(&story.first.explanation)
            ));
        }
        out.push_str("</ol>\n");
        let told = run.stories_told.get(&class).copied().unwrap_or(0);
        let shown = all.len().min(STORIES_SHOWN_PER_CLASS) as u64;
        if told > shown {
            out.push_str(&format!(
                "<p class=\"more\">… and {} more <code>{class}</code> stories, not shown here; every one is in \
                 <code>report.md</code> beside this page.</p>\n",
                told - shown
            ));
        }
    }
    if !any {
        out.push_str("<p>No findings: every message the producers sent is where it should be.</p>\n");
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{finding, run, scenario};
    use losslab_model::Expectation;

    fn chart() -> Chart {
        Chart { file_name: "timeline.svg".into(), title: "Partition 0".into(), svg: "<svg></svg>\n".into() }
    }

    #[test]
    fn a_page_with_every_section_and_the_chart_inline() {
        let mut s = scenario();
        s.description = "A <b>bold</b> claim & more".into();
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let runs = [run(2, &[finding(FindingClass::LostAcked, 7)])];
        let result = FileResult::new(&s, "x.json", &runs);
        let page = run_report(&result, &runs[0], &History::default(), &[chart()]);
        assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
        assert!(page.ends_with("</html>\n"));
        assert!(page.contains("<title>test-scenario, seed 2 · losslab</title>"));
        assert!(page.contains("A &lt;b&gt;bold&lt;/b&gt; claim &amp; more"), "{page}");
        assert!(page.contains("<figure>\n<svg></svg>\n<figcaption>"), "{page}");
        assert!(page.contains("<strong>p1#7</strong> (partition 0): p1#7 was acked by b1"), "{page}");
        assert!(page.contains("Every expectation met"));
        assert!(page.contains("<pre>losslab replay x.json --seed 2</pre>"));
        assert!(page.contains("<code>min.insync.replicas</code>"));
        assert!(!page.contains("<script"), "no script: nothing to go wrong in a browser");
    }

    #[test]
    fn long_story_lists_are_cut_with_a_count() {
        let s = scenario();
        let mut many: Vec<_> =
            (0..(STORIES_SHOWN_PER_CLASS as u64 + 7)).map(|i| finding(FindingClass::LostAcked, i)).collect();
        for (i, f) in many.iter_mut().enumerate() {
            f.explanation = format!("story {i}");
        }
        let runs = [run(1, &many)];
        let result = FileResult::new(&s, "x.json", &runs);
        let page = run_report(&result, &runs[0], &History::default(), &[]);
        assert_eq!(page.matches("\"><strong>p1#").count(), STORIES_SHOWN_PER_CLASS);
        // Each lost record can be picked: the step-through jumps to its moment.
        assert!(page.contains("<li data-record=\"p1#0\"><strong>p1#0</strong>"), "{page}");
        assert!(page.contains("… and 7 more <code>lost_acked</code> stories"), "{page}");
        assert!(page.contains("No timeline was drawn"));
    }

    #[test]
    fn escapes_everything_a_user_wrote() {
        assert_eq!(esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
