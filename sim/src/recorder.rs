//! The recorder: every observable event of a run, stamped with its simulated time, in the
//! order it happened. The history it builds is the only thing the checker sees.

use losslab_model::history::{Event, EventKind, NodeName};
use madsim::time::{Instant, TimeHandle};
use std::sync::Mutex;

pub struct Recorder {
    /// The runtime's clock, held directly: `Instant::now()` would reach it through madsim's
    /// `clock_gettime` override, which looks the runtime up and clones its handles on every
    /// call, and every event of the run asks for the time.
    clock: TimeHandle,
    start: Instant,
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    /// Starts the clock at the current simulated instant (inside the run's runtime).
    pub fn new() -> Self {
        let clock = TimeHandle::current();
        Recorder { start: clock.now_instant(), clock, events: Mutex::new(Vec::new()) }
    }

    /// Simulated microseconds since the run started.
    pub fn now_us(&self) -> u64 {
        self.clock.now_instant().duration_since(self.start).as_micros() as u64
    }

    pub fn record(&self, node: NodeName, kind: EventKind) {
        let t_us = self.now_us();
        self.events.lock().unwrap().push(Event { t_us, node, kind });
    }

    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}
