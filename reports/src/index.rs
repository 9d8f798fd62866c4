//! `DIR/index.html`: one page listing every run of a `losslab replay --out DIR` directory (a row
//! per file and seed: its verdict, its finding counts, a link to its `report.html`) or every
//! configuration of a `losslab explore --out DIR` (its runs, the classes found and links to the
//! counterexample files). Built from what is on disk or already judged, never from histories,
//! so it costs a few hundred bytes per row whatever the runs held. Self-contained like
//! `report.html` (inline style, no network); the table sorts by a click on a column header
//! with a few lines of inline script, and is a plain table with the script off. Links are
//! relative, so the directory can be moved or archived whole. Every text a reader sees is in
//! [`TEXT`].

use crate::html::esc;
use losslab_model::FindingClass;
use std::collections::BTreeMap;

/// The page's words, in one place (a `--lang` table can replace it).
pub struct Text {
    pub replay_title: &'static str,
    pub explore_title: &'static str,
    pub scenario: &'static str,
    pub file: &'static str,
    pub seed: &'static str,
    pub file_verdict: &'static str,
    pub seed_verdict: &'static str,
    pub report: &'static str,
    pub met: &'static str,
    pub not_met: &'static str,
    pub no_expect: &'static str,
    pub configuration: &'static str,
    pub runs: &'static str,
    pub found: &'static str,
    pub nothing_found: &'static str,
    pub broken: &'static str,
    pub counterexamples: &'static str,
    pub interrupted: &'static str,
    pub total: &'static str,
    pub seeds: &'static str,
    pub sort_hint: &'static str,
    pub replay_intro: &'static str,
    pub explore_intro: &'static str,
    pub scenario_files: &'static str,
    pub empty: &'static str,
}

pub const TEXT: Text = Text {
    replay_title: "losslab replay: every run in this directory",
    explore_title: "losslab explore: every configuration of this run",
    scenario: "scenario",
    file: "file",
    seed: "seed",
    file_verdict: "file's expect",
    seed_verdict: "this seed alone",
    report: "report",
    met: "met",
    not_met: "NOT MET",
    no_expect: "no expect",
    configuration: "configuration",
    runs: "runs",
    found: "classes found",
    nothing_found: "none",
    broken: "GUARANTEE BROKEN",
    counterexamples: "counterexamples (shrunk scenario files)",
    interrupted: "interrupted",
    total: "total",
    seeds: "seeds",
    sort_hint: "Click a column header to sort by it; click again to reverse.",
    replay_intro: "A row per scenario file and seed, with the number of records in each finding class (empty: none). \
The file's expect is judged over all its seeds; “this seed alone” judges the same expect on one seed.",
    explore_intro: "A row per configuration: how many runs showed each finding class. Each class found has a \
counterexample, a scenario file that losslab replay reproduces.",
    scenario_files: "Scenario files in this directory (this run's and earlier ones')",
    empty: "No runs are recorded in this directory.",
};

/// One seed of a replayed file, as its `summary.json` tells it.
pub struct SeedEntry {
    pub seed: u64,
    /// Per finding class, the records that showed it (the classes of `FindingClass`).
    pub counts: BTreeMap<String, u64>,
    /// The seed judged alone against the file's expect; `None` without an expect.
    pub passed: Option<bool>,
    /// Its `report.html`, relative to the index; `None` when it is not on disk.
    pub report: Option<String>,
}

/// One replayed file (one `DIR/<scenario>/summary.json`).
pub struct FileEntry {
    pub scenario: String,
    pub file: String,
    pub passed: bool,
    pub has_expect: bool,
    pub seeds: Vec<SeedEntry>,
}

/// One explored configuration.
pub struct ConfigEntry {
    pub label: String,
    pub runs: u64,
    /// Per class found: how many runs showed it and whether any broke a guarantee.
    pub found: BTreeMap<FindingClass, (u64, bool)>,
    /// Per class, its counterexample file relative to the index.
    pub scenarios: BTreeMap<FindingClass, String>,
    pub interrupted: bool,
}

/// The index of a replay `--out` directory.
pub fn replay_page(files: &[FileEntry]) -> String {
    // Only the classes some row shows get a column: a table of 17 empty columns hides the few
    // that matter.
    let classes: Vec<FindingClass> = FindingClass::ALL
        .into_iter()
        .filter(|c| files.iter().flat_map(|f| &f.seeds).any(|s| s.counts.get(c.as_str()).is_some_and(|&n| n > 0)))
        .collect();
    let mut head = vec![TEXT.scenario, TEXT.file, TEXT.seed, TEXT.file_verdict, TEXT.seed_verdict];
    head.extend(classes.iter().map(|c| c.as_str()));
    head.push(TEXT.report);
    let mut body = String::new();
    let mut totals = vec![0u64; classes.len()];
    for f in files {
        let file_verdict = verdict(f.has_expect.then_some(f.passed));
        for s in &f.seeds {
            body.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td>{file_verdict}{}",
                esc(&f.scenario),
                esc(&f.file),
                s.seed,
                verdict(s.passed)
            ));
            for (total, class) in totals.iter_mut().zip(&classes) {
                let n = s.counts.get(class.as_str()).copied().unwrap_or(0);
                *total += n;
                body.push_str(&count_cell(n));
            }
            match &s.report {
                Some(href) => body.push_str(&format!("<td><a href=\"{}\">{}</a></td></tr>\n", esc(href), TEXT.report)),
                None => body.push_str("<td></td></tr>\n"),
            }
        }
    }
    let seeds: usize = files.iter().map(|f| f.seeds.len()).sum();
    let foot = match seeds {
        0 => String::new(),
        _ => {
            let mut foot = format!(
                "<tr><th colspan=\"5\">{}, {seeds} {}</th>",
                TEXT.total,
                if seeds == 1 { TEXT.seed } else { TEXT.seeds }
            );
            for n in totals {
                foot.push_str(&count_cell(n));
            }
            foot.push_str("<td></td></tr>\n");
            foot
        }
    };
    let table = match seeds {
        0 => format!("<p>{}</p>\n", TEXT.empty),
        _ => sortable(&head, &body, &foot),
    };
    page(TEXT.replay_title, TEXT.replay_intro, &table)
}

/// The index of an explore `--out` directory: this run's configurations, then every scenario
/// file in the directory (`others`, relative names), earlier runs' included.
pub fn explore_page(configs: &[ConfigEntry], others: &[String]) -> String {
    let classes: Vec<FindingClass> =
        FindingClass::ALL.into_iter().filter(|c| configs.iter().any(|r| r.found.contains_key(c))).collect();
    let mut head = vec![TEXT.configuration, TEXT.runs, TEXT.found];
    head.extend(classes.iter().map(|c| c.as_str()));
    head.push(TEXT.counterexamples);
    let mut body = String::new();
    for r in configs {
        let label = match r.interrupted {
            true => format!("{} ({})", esc(&r.label), TEXT.interrupted),
            false => esc(&r.label),
        };
        let found: Vec<String> = r
            .found
            .iter()
            .map(|(class, &(_, broken))| match broken {
                true => format!("{class} ({})", TEXT.broken),
                false => class.to_string(),
            })
            .collect();
        let found = match found.is_empty() {
            true => TEXT.nothing_found.to_string(),
            false => found.join(", "),
        };
        body.push_str(&format!(
            "<tr><td><code>{label}</code></td><td class=\"n\">{}</td><td>{}</td>",
            r.runs,
            esc(&found)
        ));
        for class in &classes {
            body.push_str(&count_cell(r.found.get(class).map_or(0, |&(n, _)| n)));
        }
        let links: Vec<String> =
            r.scenarios.iter().map(|(class, href)| format!("<a href=\"{}\">{class}</a>", esc(href))).collect();
        body.push_str(&format!("<td>{}</td></tr>\n", links.join(" ")));
    }
    let mut content = match configs.is_empty() {
        true => format!("<p>{}</p>\n", TEXT.empty),
        false => sortable(&head, &body, ""),
    };
    if !others.is_empty() {
        content.push_str(&format!("<h2>{}</h2>\n<ul>\n", TEXT.scenario_files));
        for name in others {
            content.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>\n", esc(name)));
        }
        content.push_str("</ul>\n");
    }
    page(TEXT.explore_title, TEXT.explore_intro, &content)
}

fn verdict(passed: Option<bool>) -> String {
    match passed {
        Some(true) => format!("<td>{}</td>", TEXT.met),
        Some(false) => format!("<td class=\"not-met\">{}</td>", TEXT.not_met),
        None => format!("<td>{}</td>", TEXT.no_expect),
    }
}

/// A count, empty when zero so that the classes a row shows stand out.
fn count_cell(n: u64) -> String {
    match n {
        0 => "<td class=\"n\" data-sort=\"0\"></td>".to_string(),
        n => format!("<td class=\"n\">{n}</td>"),
    }
}

fn sortable(head: &[&str], body: &str, foot: &str) -> String {
    let head: String = head.iter().map(|h| format!("<th scope=\"col\">{}</th>", esc(h))).collect();
    let foot = match foot.is_empty() {
        true => String::new(),
        false => format!("<tfoot>\n{foot}</tfoot>\n"),
    };
    format!(
        "<p class=\"hint\">{}</p>\n<table class=\"sortable\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n{foot}</table>\n",
        TEXT.sort_hint
    )
}

fn page(title: &str, intro: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p>{intro}</p>\n\
         {content}<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

const STYLE: &str = concat!(
    "body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, ",
    crate::charts::style::cjk_fonts!(),
    ", sans-serif; color: #111; background: #fff; margin: 0 auto; padding: 16px 24px 48px; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #999; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #eee; position: sticky; top: 0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.not-met { font-weight: 700; }
.hint { color: #555; font-size: 0.9em; }
html.js .hint { display: block; } .hint { display: none; }
html.js thead th { cursor: pointer; }
th[aria-sort=ascending]::after { content: ' \\25B2'; } th[aria-sort=descending]::after { content: ' \\25BC'; }
"
);

/// Sorts the rows by the clicked column: numbers as numbers (a cell's `data-sort`, else its
/// text), the rest as text; a second click reverses. The hint shows only when this runs.
const SCRIPT: &str = "document.documentElement.classList.add('js');
document.querySelectorAll('table.sortable thead th').forEach((th, i) => {
  th.tabIndex = 0;
  const sort = () => {
    const body = th.closest('table').tBodies[0];
    const up = th.getAttribute('aria-sort') !== 'ascending';
    th.parentNode.querySelectorAll('th').forEach(h => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
    const key = row => row.cells[i].dataset.sort ?? row.cells[i].textContent;
    const rows = Array.from(body.rows).sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const order = x !== '' && y !== '' && !isNaN(x) && !isNaN(y) ? x - y : x.localeCompare(y);
      return up ? order : -order;
    });
    rows.forEach(row => body.appendChild(row));
  };
  th.addEventListener('click', sort);
  th.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
});
";

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(seed: u64, lost: u64, report: Option<&str>) -> SeedEntry {
        SeedEntry {
            seed,
            counts: BTreeMap::from([("lost_acked".to_string(), lost), ("acked".to_string(), 100)]),
            passed: Some(lost > 0),
            report: report.map(str::to_string),
        }
    }

    #[test]
    fn a_replay_index_lists_every_seed_with_its_verdict_counts_and_link() {
        let files = [FileEntry {
            scenario: "a<b".into(),
            file: "scenarios/a.json".into(),
            passed: true,
            has_expect: true,
            seeds: vec![seed(1, 304, Some("a_b/seed-1/report.html")), seed(2, 0, None)],
        }];
        let page = replay_page(&files);
        assert_eq!(page, replay_page(&files), "the same bytes twice");
        assert!(page.contains("<td>a&lt;b</td>"), "names are escaped");
        assert!(page.contains("<th scope=\"col\">lost_acked</th>"), "a column per class shown");
        assert!(!page.contains(">acked<"), "counts that are not finding classes get no column");
        assert!(page.contains("<td class=\"n\">304</td>"));
        assert!(page.contains("<a href=\"a_b/seed-1/report.html\">report</a>"));
        assert_eq!(page.matches("<tr><td>").count(), 2, "a row per seed");
        assert!(page.contains("<td class=\"not-met\">NOT MET</td>"), "seed 2 alone does not meet `some`");
        assert!(page.contains("<th colspan=\"5\">total, 2 seeds</th><td class=\"n\">304</td>"));
        assert!(!page.contains("http"), "no network");
        for row in page.lines().filter(|l| l.starts_with("<tr><td>")) {
            assert!(row.len() < 400, "a row is a few hundred bytes: {row}");
        }
    }

    #[test]
    fn an_empty_directory_says_so() {
        assert!(replay_page(&[]).contains(TEXT.empty));
        assert!(explore_page(&[], &[]).contains(TEXT.empty));
    }

    #[test]
    fn an_explore_index_lists_classes_found_and_their_counterexamples() {
        let configs = [ConfigEntry {
            label: "acks=1".into(),
            runs: 10,
            found: BTreeMap::from([(FindingClass::LostAcked, (3, false))]),
            scenarios: BTreeMap::from([(FindingClass::LostAcked, "explore-acks-1.json".to_string())]),
            interrupted: false,
        }];
        let page = explore_page(&configs, &["explore-acks-1.json".to_string()]);
        assert!(page.contains("<td class=\"n\">10</td><td>lost_acked</td><td class=\"n\">3</td>"));
        assert!(page.contains("<a href=\"explore-acks-1.json\">lost_acked</a>"));
        assert!(page.contains("<li><a href=\"explore-acks-1.json\">explore-acks-1.json</a></li>"));
    }
}
