//! Invalid input: every error names the file and, where there is one, the key or the line and
//! column. The CLI prints it and exits with status 2.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// The full, human-readable message (it already names the file).
    pub message: String,
}

impl ScenarioError {
    pub fn new(file: &str, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_string(), message: message.into() }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}
