//! Charts, drawn with plotters' SVG backend: the timeline of one run ([`timeline`]) and the
//! charts over many configurations ([`summary`], read by [`input`]). Every chart is a pure
//! function of its input that returns an SVG document as a string: no clock, no file system, no
//! fonts from the machine (SVG text is laid out by the viewer), so the same input gives the same
//! bytes everywhere. The look that survives greyscale printing is in [`style`].

pub mod input;
pub mod style;
pub mod summary;
pub mod timeline;

use std::fmt;

/// A chart that could not be drawn. Drawing into a string does not fail in practice; this
/// keeps the promise of never panicking if it ever does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> ChartError {
        ChartError(e.to_string())
    }
}

/// A drawn chart: the file name it is written under and its SVG document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    pub file_name: String,
    pub title: String,
    pub svg: String,
}
