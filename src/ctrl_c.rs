//! Ctrl-C (SIGINT) as a request to stop at the next safe point rather than a kill: a long
//! command (`explore` over millions of seeds) polls [`requested`] between batches of runs and
//! then reports what finished, exiting 130 (128 + SIGINT, as a shell reports a killed job).
//! A second Ctrl-C exits at once with the same status, for a user who will not wait.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit status after an interruption.
pub const EXIT_STATUS: u8 = 130;

/// Turns SIGINT into a request; a second one exits. Harmless if called twice.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_STATUS));
        }
    });
}

/// Whether Ctrl-C was pressed since [`install`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
