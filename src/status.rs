//! The exit statuses every subcommand speaks, as the `losslab replay` contract defines them
//! (scenario-format.md). Usage errors exit with 2 too: clap's own status for them.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every expectation met.
    Passed,
    /// Some expectation not met.
    NotMet,
    /// Invalid input: a scenario file, a flag, or an output directory that cannot be written.
    Invalid,
    /// Stopped by Ctrl-C after reporting what finished (`crate::interrupt`).
    Interrupted,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Passed => 0,
            Status::NotMet => 1,
            Status::Invalid => 2,
            Status::Interrupted => crate::interrupt::EXIT_STATUS,
        })
    }
}
