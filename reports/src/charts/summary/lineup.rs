//! [`render_all`]: every summary chart, in the order a reader should see them, each with the
//! file name it is written under and its title. The one module that knows every chart.

use super::commit::consumer_commit;
use super::flush::flush_power_loss;
use super::heatmap::heatmap;
use super::latency::durability_latency;
use super::tally::Known;
use crate::charts::chart::{Chart, ChartError};
use crate::charts::input::ConfigResult;

/// Every summary chart, in the order a reader should see them.
pub fn render_all(results: &[ConfigResult]) -> Result<Vec<Chart>, ChartError> {
    let known = Known::of(results);
    Ok(vec![
        Chart {
            file_name: "loss-heatmap.svg".into(),
            title: "Which settings lose acknowledged messages".into(),
            svg: heatmap(&known)?,
        },
        Chart {
            file_name: "durability-latency.svg".into(),
            title: "Durability against produce latency".into(),
            svg: durability_latency(&known)?,
        },
        Chart {
            file_name: "flush-power-loss.svg".into(),
            title: "Flush interval against messages lost to power loss".into(),
            svg: flush_power_loss(&known)?,
        },
        Chart {
            file_name: "consumer-commit.svg".into(),
            title: "Consumer commit strategy against skipped and duplicated records".into(),
            svg: consumer_commit(&known)?,
        },
    ])
}
