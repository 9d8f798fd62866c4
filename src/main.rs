//! The `losslab` command. `main` only parses the command line and hands it to the subcommand's
//! module, which owns its arguments and returns an [`Status`]; so a new subcommand (`explore`,
//! `chart`, `bench`) is one more variant of [`Command`] and one more module, and every
//! subcommand speaks the same exit statuses.

mod bench;
mod chart;
mod explore;
mod out;
mod replay;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "losslab", version, about = "A deterministic simulation lab for Kafka's durability promises")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files, judge their expectations and explain every finding.
    Replay(replay::Args),
    /// Chart explore or replay results: which settings lose messages, and at what cost.
    Chart(chart::Args),
    /// Throw random fault schedules at a configuration (or a grid) and report what it survives.
    Explore(explore::Args),
    /// Measure the lab's speed: the madsim floor, runs per second, memory.
    Bench(bench::Args),
}

/// The exit statuses of the `losslab replay` contract (scenario-format.md). Usage errors exit
/// with 2 too: clap's own status for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every expectation met.
    Passed,
    /// Some expectation not met.
    NotMet,
    /// Invalid input: a scenario file, a flag, or an output directory that cannot be written.
    Invalid,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Passed => 0,
            Status::NotMet => 1,
            Status::Invalid => 2,
        })
    }
}

fn main() -> ExitCode {
    let status = match Cli::parse().command {
        Command::Replay(args) => replay::run(&args),
        Command::Chart(args) => chart::run(&args),
        Command::Explore(args) => explore::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    status.into()
}
