//! The simulated clock, read cheaply. `Instant::now()` under madsim goes through its
//! `clock_gettime` override, which looks the runtime up and clones two of its handles on every
//! call; a run asks for the time at every event. Each run has its own OS thread (madsim's state
//! is per thread), so the runtime's time handle is kept in a thread-local, taken on the first
//! read inside the run and dropped with the thread (holding it in the `World` would keep the
//! runtime's timers, and through them every task, alive after the run). For the same reason
//! nothing here holds a madsim `Sleep` across a wait.

use madsim::time::{Duration, Instant, TimeHandle};
use std::future::Future;
use std::task::{Context, Poll, Waker};

thread_local! {
    static CLOCK: TimeHandle = TimeHandle::current();
}

/// The current simulated instant (inside a run).
pub fn now() -> Instant {
    CLOCK.with(|c| c.now_instant())
}

/// Wakes `waker` at `at` (madsim's timer: a `Sleep` polled once with a waker arms exactly that,
/// and is not needed afterwards).
pub fn wake_at(at: Instant, waker: &Waker) {
    let mut sleep = std::pin::pin!(madsim::time::sleep_until(at));
    if sleep.as_mut().poll(&mut Context::from_waker(waker)).is_ready() {
        waker.wake_by_ref();
    }
}

/// Sleeps for `duration` of simulated time, like madsim's `sleep`, but without holding madsim's
/// timer while it waits: a task that sleeps forever (the OS writeback) would otherwise keep the
/// timer alive through its own waker, and with it every task and the whole run after the end.
pub async fn sleep(duration: Duration) {
    let deadline = now() + duration;
    std::future::poll_fn(|cx| {
        if now() >= deadline {
            return Poll::Ready(());
        }
        wake_at(deadline, cx.waker());
        Poll::Pending
    })
    .await
}
