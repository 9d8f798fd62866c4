//! What every chart module hands back: a drawn [`Chart`] (file name, title, SVG) and the
//! [`ChartError`] drawing may end in. They live in this leaf module, not in `charts/mod.rs`, so
//! that the renderers (`style`, `timeline`, `summary`) import them from a module that imports
//! none of them back.

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
