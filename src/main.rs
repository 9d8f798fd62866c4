//! The `losslab` command. `main` only parses the command line and hands it to the subcommand's
//! module, which owns its arguments and returns a [`status::Status`]; so a new subcommand (`explore`,
//! `chart`, `bench`) is one more variant of [`Command`] and one more module, and every
//! subcommand speaks the same exit statuses.

mod bench;
mod chart;
mod explore;
mod index;
mod interrupt;
mod out;
mod replay;
mod status;

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

fn main() -> ExitCode {
    let status = match Cli::parse().command {
        Command::Replay(args) => replay::run(&args),
        Command::Chart(args) => chart::run(&args),
        Command::Explore(args) => explore::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    status.into()
}
