//! The recorder: every observable event of a run, stamped with its simulated time, in the
//! order it happened. The history it builds is the only thing the checker sees.

use losslab_model::history::{Event, EventKind, NodeName};
use madsim::time::Instant;
use std::sync::Mutex;

pub struct Recorder {
    start: Instant,
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    /// Counts time from `start`, the run's time zero.
    pub fn new(start: Instant) -> Self {
        Recorder { start, events: Mutex::new(Vec::new()) }
    }

    /// Simulated microseconds since the run started.
    pub fn now_us(&self) -> u64 {
        crate::runtime::clock::now().duration_since(self.start).as_micros() as u64
    }

    pub fn record(&self, node: NodeName, kind: EventKind) {
        let t_us = self.now_us();
        self.events.lock().unwrap().push(Event { t_us, node, kind });
    }

    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}
