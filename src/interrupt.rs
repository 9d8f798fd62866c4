//! Ctrl-C (SIGINT) for commands that run many simulations (`replay`, `explore`). The first one
//! asks them to stop: no new run starts, the runs under way finish (a simulation cannot be cut
//! short), what finished is written and summarised, and the command exits 130 (128 + SIGINT, as
//! a shell reports a killed job). Files are written under a
//! temporary name and renamed, so a stop never leaves a truncated one. A second Ctrl-C quits
//! at once with 130, for someone who cannot wait for a long run; it may leave `*.tmp` files,
//! which the next run into the same `--out` removes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit status after an interruption.
pub const EXIT_STATUS: u8 = 130;

/// Installs the handler (once per process; later calls do nothing).
pub fn watch() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // ctrlc runs the handler on its own thread, where printing and exiting are safe. If a
        // handler cannot be installed, Ctrl-C keeps its default effect: nothing else changes.
        let _ = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_STATUS));
            }
            eprintln!("interrupted: finishing the runs under way (Ctrl-C again to quit at once)");
        });
    });
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
