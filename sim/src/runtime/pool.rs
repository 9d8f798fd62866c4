//! The worker pool every multi-run command shares: `jobs` OS threads take items in order and map
//! each through a function, and the results come back in the items' order whatever the timing.
//! Work that follows a run (checking its history, measuring it) belongs inside that function, on
//! the worker, so that the caller's thread does not become the bottleneck of a sweep and only
//! the (small) results stay in memory, not every run's history. [`stream`] is the same for work
//! too large to hold at all: items made only when taken, results handed on as they finish, and
//! a way to stop early (Ctrl-C) that still delivers everything started.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

/// Maps `f` over `items` on `jobs` threads; `f` gets each item's position. Results in order.
pub fn map<I: Sync, T: Send>(items: &[I], jobs: usize, f: &(dyn Fn(usize, &I) -> T + Sync)) -> Vec<T> {
    let mut out: Vec<Option<T>> = (0..items.len()).map(|_| None).collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(&mut out);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(items.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(i, item);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    out.into_iter().map(|r| r.expect("every item was mapped")).collect()
}

/// Maps `f` over the items `0..count` on `jobs` threads and hands each result to `sink`, on the
/// caller's thread, in index order as soon as it and every one before it are done. Items are
/// only indices, so nothing is built per item before a worker takes it. Once `stop()` is true
/// no worker takes a new item; the items already taken are finished and delivered, so what
/// `sink` saw is always the prefix `0..n`. Returns `n`.
pub fn stream<T: Send>(
    count: u64,
    jobs: usize,
    stop: &(dyn Fn() -> bool + Sync),
    f: &(dyn Fn(u64) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> u64 {
    let next = AtomicU64::new(0);
    let workers = u64::try_from(jobs.max(1)).unwrap_or(u64::MAX).min(count);
    let (sender, receiver) = mpsc::channel::<(u64, T)>();
    let mut delivered = 0;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                while !stop() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    // The receiver lives until every worker is done.
                    let _ = sender.send((i, f(i)));
                }
            });
        }
        drop(sender);
        // Results that finished before an earlier one: held until it arrives.
        let mut early: BTreeMap<u64, T> = BTreeMap::new();
        for (i, result) in receiver {
            early.insert(i, result);
            while let Some(result) = early.remove(&delivered) {
                sink(result);
                delivered += 1;
            }
        }
        assert!(early.is_empty(), "every item taken was delivered, in order");
    });
    delivered
}

#[cfg(test)]
mod tests {
    use super::{map, stream};
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn results_come_back_in_order_whatever_the_jobs() {
        let items: Vec<u64> = (0..100).collect();
        for jobs in [0, 1, 3, 200] {
            let out = map(&items, jobs, &|i, &x| (i as u64, x * x));
            assert_eq!(out, items.iter().enumerate().map(|(i, &x)| (i as u64, x * x)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn streams_every_item_in_order_whatever_the_jobs() {
        for jobs in [0, 1, 3, 200] {
            let mut seen = Vec::new();
            let n = stream(100, jobs, &|| false, &|i| i * i, &mut |r| seen.push(r));
            assert_eq!(n, 100);
            assert_eq!(seen, (0..100).map(|i| i * i).collect::<Vec<u64>>());
        }
        assert_eq!(stream(0, 4, &|| false, &|i| i, &mut |_| panic!("no items")), 0);
    }

    #[test]
    fn a_stop_delivers_a_prefix_of_what_was_started() {
        let stopped = AtomicBool::new(false);
        let mut seen = Vec::new();
        let n = stream(
            1_000_000,
            3,
            &|| stopped.load(Ordering::Relaxed),
            &|i| {
                if i == 10 {
                    stopped.store(true, Ordering::Relaxed);
                }
                i
            },
            &mut |r| seen.push(r),
        );
        assert!((11..20).contains(&n), "{n}");
        assert_eq!(seen, (0..n).collect::<Vec<u64>>());
    }
}
