//! The event loop every simulated process runs, in the manner of stateright's actors: a
//! process is a state machine with `on_msg` and `on_timer`, one inbox (in the `network`) and one
//! timer queue. One task per process keeps runs cheap (no task per request or per message, and
//! a madsim timer only for the next wake-up) and makes a crash simple: madsim kills the task,
//! and with it everything the process held in memory.

use crate::protocol::Msg;
use crate::runtime::network::{Network, NodeIdx};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::Poll;

/// The longest single wait (one simulated hour): a timer at "never" (a Kafka long of i64::MAX
/// ms) must not overflow the clock; the actor simply sleeps again.
pub const MAX_WAIT_US: u64 = 3_600_000_000;

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

    /// Every armed timer with its deadline, in firing order, leaving the queue empty (an
    /// embedded client's timers move to its process's queue).
    pub fn take_all(&mut self) -> Vec<(u64, T)> {
        std::mem::take(&mut self.queue).into_iter().map(|((t, _), timer)| (t, timer)).collect()
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
    /// Whether the process has finished a graceful shutdown and exits.
    fn finished(&self) -> bool {
        false
    }
}

/// Runs `actor` as node `me` until madsim kills it or it finishes a graceful shutdown. Each
/// time the task is woken it handles, in time order, every timer that is due and every message
/// that has arrived (a timer first when both fall on the same microsecond), then sleeps until
/// the next of either; the network wakes it sooner when a message will arrive before that.
pub async fn run<A: Actor>(mut actor: A, net: Arc<Network>, me: NodeIdx) {
    std::future::poll_fn(|cx| {
        loop {
            let now = actor.now_us();
            let timer_us = actor.timers().next_deadline().filter(|&t| t <= now);
            // A message goes first only if it arrived before the due timer (one lock per message).
            let arrived_by = match timer_us {
                Some(t) => t.checked_sub(1),
                None => Some(now),
            };
            if let Some(envelope) = arrived_by.and_then(|t| net.take_arrived(me, t)) {
                actor.on_msg(envelope.from, envelope.msg);
            } else if timer_us.is_some() {
                let timer = actor.timers().pop_due(now).expect("a timer is due");
                actor.on_timer(timer);
            } else {
                break;
            }
            actor.after_event();
            if actor.finished() {
                return Poll::Ready(());
            }
        }
        net.park(
            me,
            cx.waker(),
            actor.timers().next_deadline().map(|t| t.min(MAX_WAIT_US.saturating_add(actor.now_us()))),
        );
        Poll::<()>::Pending
    })
    .await
}
