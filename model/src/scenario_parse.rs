//! Parsing and validation of scenario files (see `scenario`). Placeholder until implemented.
use crate::error::ScenarioError;
use crate::scenario::Scenario;

pub(crate) fn parse(file: &str, _stem: &str, _text: &str) -> Result<Scenario, ScenarioError> {
    Err(ScenarioError::new(file, "not implemented"))
}
