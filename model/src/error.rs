//! Invalid input: every error names the file and, where there is one, the key or the line and
//! column. The CLI prints it and exits with status 2. A file with several independent mistakes
//! gets them all at once (issue 17): the first is `message`, the others `more`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// The full, human-readable message (it already names the file).
    pub message: String,
    /// Further errors found in the same file, in the order the parser met them.
    pub more: Vec<String>,
}

impl ScenarioError {
    pub fn new(file: &str, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_string(), message: message.into(), more: Vec::new() }
    }

    /// Every message, the first one first.
    pub fn messages(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.message.as_str()).chain(self.more.iter().map(String::as_str))
    }
}

/// Every message; each after the first on a line of its own that starts `error: `, as the CLI
/// prints the first (so `eprintln!("error: {e}")` shows one error per line).
impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for more in &self.more {
            write!(f, "\nerror: {more}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}
