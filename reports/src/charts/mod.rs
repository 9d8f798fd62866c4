//! Charts, drawn with plotters' SVG backend: the timeline of one run ([`timeline`]) and the
//! charts over many configurations ([`summary`], read by [`input`]). Every chart is a pure
//! function of its input that returns an SVG document as a string: no clock, no file system, no
//! fonts from the machine (SVG text is laid out by the viewer), so the same input gives the same
//! bytes everywhere. The look that survives greyscale printing is in [`style`]; what a renderer
//! returns ([`Chart`], [`ChartError`]) is in the leaf module `chart`, which every renderer
//! imports and which imports none of them.

mod chart;
pub mod input;
pub mod style;
pub mod summary;
pub mod timeline;

pub use chart::{Chart, ChartError};
