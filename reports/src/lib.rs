//! losslab's reports: everything a person or a script reads about a replayed scenario, rendered
//! from model types only. The readable verdict (`verdict`), the one-line JSON object of the
//! `losslab replay` contract (`json`), the Markdown report of one run (`markdown`) and the
//! summary table across files (`table`) all start from one [`FileResult`], so they cannot
//! disagree about what a run showed. Nothing here links the simulator: a history recorded
//! anywhere can be reported on.
//!
//! Every renderer is a pure function of its input: no clock, no environment, no terminal
//! width, and maps in key order, so that the same run gives the same bytes everywhere.

pub mod charts;
pub mod command;
pub mod counts;
pub mod html;
pub mod idle;
pub mod index;
pub mod json;
pub mod markdown;
pub mod png;
pub mod result;
pub mod settings;
pub mod stepper;
pub mod story;
pub mod table;
mod text;
pub mod verdict;

pub use command::replay_command;
pub use counts::Counts;
pub use result::{FileResult, SeedRun};
pub use story::Story;

#[cfg(test)]
mod test_support;
