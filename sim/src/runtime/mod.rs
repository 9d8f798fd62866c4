//! The machinery every simulated process shares, and the run that ties them together: the
//! `actor` loop each process runs, the `network` between them, the simulated `clock`, the
//! `recorder` that writes the history, the `world` that outlives processes (disks, the
//! controller's metadata log, the apps' progress), one seed's `run` with its safety and final
//! phases, the worker `pool` that runs many seeds at once, and the madsim `floor` that
//! `losslab bench` compares against.

pub mod actor;
pub mod clock;
pub mod floor;
pub mod network;
pub mod pool;
pub mod recorder;
pub mod run;
pub mod world;
