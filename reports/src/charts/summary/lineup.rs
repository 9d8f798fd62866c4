//! [`render_all`]: every summary chart, in the order a reader should see them, each with the
//! file name it is written under, its title and caption ([`words`](super::words)); a chart
//! with fewer than two categories to compare is not drawn, and [`Lineup::not_drawn`] says
//! why. The one module that knows every chart.

use super::canvas::Drawn;
use super::commit::consumer_commit;
use super::flush::flush_power_loss;
use super::heatmap::heatmap;
use super::latency::durability_latency;
use super::tally::Known;
use super::words::{self, ChartWords};
use crate::charts::chart::{Chart, ChartError};
use crate::charts::input::ConfigResult;

/// The charts drawn, and those not drawn with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lineup {
    pub charts: Vec<Chart>,
    pub not_drawn: Vec<NotDrawn>,
}

/// A chart left out: its file name, title and why (`not drawn: it would show one ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotDrawn {
    pub file_name: String,
    pub title: String,
    pub reason: String,
}

/// The caption of the chart written as `file_name`: one sentence saying what to read from it,
/// for any page that shows the chart.
pub fn caption(file_name: &str) -> Option<&'static str> {
    words::ALL.iter().find(|w| w.file_name == file_name).map(|w| w.caption)
}

/// Every summary chart, in the order a reader should see them.
pub fn render_all(results: &[ConfigResult]) -> Result<Lineup, ChartError> {
    let known = Known::of(results);
    let drawn: [(&ChartWords, Drawn); 4] = [
        (&words::HEATMAP, heatmap(&known)?),
        (&words::LATENCY, durability_latency(&known)?),
        (&words::FLUSH, flush_power_loss(&known)?),
        (&words::COMMIT, consumer_commit(&known)?),
    ];
    let mut lineup = Lineup { charts: Vec::new(), not_drawn: Vec::new() };
    for (w, d) in drawn {
        let (file_name, title) = (w.file_name.to_string(), w.title.to_string());
        match d {
            Drawn::Svg(svg) => lineup.charts.push(Chart { file_name, title, svg }),
            Drawn::NotDrawn(reason) => lineup.not_drawn.push(NotDrawn { file_name, title, reason }),
        }
    }
    Ok(lineup)
}
