//! The event loop every simulated process runs, in the manner of stateright's actors: a
//! process is a state machine with `on_msg` and `on_timer`, one mailbox and one timer queue.
//! One task per process keeps runs cheap (no task per request) and makes a crash simple: madsim
//! kills the task, and with it everything the process held in memory.

use crate::network::{Mailbox, NodeIdx};
use crate::protocol::Msg;
use madsim::time::{timeout, Duration};
use std::collections::BTreeMap;

/// The longest single wait (one simulated hour).
const MAX_WAIT_US: u64 = 3_600_000_000;

/// A queue of timers ordered by deadline (simulated microseconds), ties by insertion order.
#[derive(Debug)]
pub struct Timers<T> {
    queue: BTreeMap<(u64, u64), T>,
    seq: u64,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers { queue: BTreeMap::new(), seq: 0 }
    }
}

/// Names one armed timer, so that it can be disarmed without a scan of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerKey(u64, u64);

impl<T> Timers<T> {
    pub fn at(&mut self, t_us: u64, timer: T) -> TimerKey {
        self.seq += 1;
        self.queue.insert((t_us, self.seq), timer);
        TimerKey(t_us, self.seq)
    }

    /// Disarms the timer `key` names, if it has not fired yet.
    pub fn remove(&mut self, key: TimerKey) -> Option<T> {
        self.queue.remove(&(key.0, key.1))
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.queue.keys().next().map(|k| k.0)
    }

    pub fn pop_due(&mut self, now_us: u64) -> Option<T> {
        let (&key, _) = self.queue.iter().next()?;
        if key.0 > now_us {
            return None;
        }
        self.queue.remove(&key)
    }

}

pub trait Actor {
    type Timer;
    fn now_us(&self) -> u64;
    fn timers(&mut self) -> &mut Timers<Self::Timer>;
    fn on_msg(&mut self, from: NodeIdx, msg: Msg);
    fn on_timer(&mut self, timer: Self::Timer);
    /// Runs after every message and timer (a broker publishes what the final phase observes).
    fn after_event(&mut self) {}
}

/// Runs `actor` until its mailbox closes (it never does: a process ends when madsim kills it).
pub async fn run<A: Actor>(mut actor: A, mut mailbox: Mailbox) {
    loop {
        loop {
            let now = actor.now_us();
            let Some(timer) = actor.timers().pop_due(now) else { break };
            actor.on_timer(timer);
            actor.after_event();
        }
        let envelope = match actor.timers().next_deadline() {
            Some(t_us) => {
                // Capped so that a timer at "never" (a Kafka long of i64::MAX ms) cannot overflow
                // the clock; the loop simply waits again.
                let wait_us = t_us.saturating_sub(actor.now_us()).clamp(1, MAX_WAIT_US);
                match timeout(Duration::from_micros(wait_us), mailbox.recv()).await {
                    Ok(envelope) => envelope,
                    Err(_) => continue,
                }
            }
            None => mailbox.recv().await,
        };
        match envelope {
            Some(env) => {
                actor.on_msg(env.from, env.msg);
                actor.after_event();
            }
            None => return,
        }
    }
}
