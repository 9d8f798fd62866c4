//! The worker pool every multi-run command shares: `jobs` OS threads take items in order and map
//! each through a function, and the results come back in the items' order whatever the timing.
//! Work that follows a run (checking its history, measuring it) belongs inside that function, on
//! the worker, so that the caller's thread does not become the bottleneck of a sweep and only
//! the (small) results stay in memory, not every run's history.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn results_come_back_in_order_whatever_the_jobs() {
        let items: Vec<u64> = (0..100).collect();
        for jobs in [0, 1, 3, 200] {
            let out = map(&items, jobs, &|i, &x| (i as u64, x * x));
            assert_eq!(out, items.iter().enumerate().map(|(i, &x)| (i as u64, x * x)).collect::<Vec<_>>());
        }
    }
}
