//! A map from [`MsgId`] to per-message facts that stays fast at a million messages.
//!
//! The checker touches every message several times (its send, its batch's acknowledgement,
//! each replica's append, the final log). A `BTreeMap<MsgId, _>` would make each touch a tree
//! walk; instead each producer gets a dense vector indexed by `seq`, since a producer numbers
//! its records densely from 0 or 1. A history from elsewhere may not: a `seq` far beyond the
//! dense part goes to an ordered side map, so a stray huge number costs one tree entry instead
//! of an absurd allocation. Iteration is in `MsgId` order, which keeps the output deterministic.

use crate::history::MsgId;
use std::collections::BTreeMap;

/// How far past the dense part a `seq` may land and still grow it (besides doubling).
const DENSE_SLACK: u64 = 4096;

pub(super) struct MsgTable<T> {
    producers: BTreeMap<u32, Lane<T>>,
}

/// One producer's records. Invariant: every key of `sparse` is at least `dense.len()`, so
/// iterating `dense` then `sparse` visits records in `seq` order.
struct Lane<T> {
    dense: Vec<Option<T>>,
    sparse: BTreeMap<u64, T>,
}

impl<T> Default for Lane<T> {
    fn default() -> Self {
        Lane { dense: Vec::new(), sparse: BTreeMap::new() }
    }
}

impl<T: Default> MsgTable<T> {
    pub(super) fn new() -> Self {
        MsgTable { producers: BTreeMap::new() }
    }

    pub(super) fn get(&self, msg: MsgId) -> Option<&T> {
        let lane = self.producers.get(&msg.producer)?;
        match usize::try_from(msg.seq).ok().filter(|&i| i < lane.dense.len()) {
            Some(i) => lane.dense[i].as_ref(),
            None => lane.sparse.get(&msg.seq),
        }
    }

    pub(super) fn get_mut(&mut self, msg: MsgId) -> Option<&mut T> {
        let lane = self.producers.get_mut(&msg.producer)?;
        match usize::try_from(msg.seq).ok().filter(|&i| i < lane.dense.len()) {
            Some(i) => lane.dense[i].as_mut(),
            None => lane.sparse.get_mut(&msg.seq),
        }
    }

    pub(super) fn entry(&mut self, msg: MsgId) -> &mut T {
        let lane = self.producers.entry(msg.producer).or_default();
        let dense_len = lane.dense.len() as u64;
        let reach = dense_len.saturating_mul(2).saturating_add(DENSE_SLACK);
        if msg.seq >= dense_len && msg.seq < reach {
            // Grow the dense part to cover `seq`, and pull in the sparse entries it now
            // covers so that the ordering invariant holds.
            let new_len = msg.seq + 1;
            let above = lane.sparse.split_off(&new_len);
            let below = std::mem::replace(&mut lane.sparse, above);
            lane.dense.resize_with(new_len as usize, || None);
            for (seq, value) in below {
                lane.dense[seq as usize] = Some(value);
            }
        }
        if msg.seq < lane.dense.len() as u64 {
            lane.dense[msg.seq as usize].get_or_insert_with(T::default)
        } else {
            lane.sparse.entry(msg.seq).or_default()
        }
    }

    /// Every message in `MsgId` order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (MsgId, &T)> + '_ {
        self.producers.iter().flat_map(|(&producer, lane)| {
            let dense = lane
                .dense
                .iter()
                .enumerate()
                .filter_map(move |(seq, value)| value.as_ref().map(|v| (MsgId { producer, seq: seq as u64 }, v)));
            let sparse = lane.sparse.iter().map(move |(&seq, v)| (MsgId { producer, seq }, v));
            dense.chain(sparse)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(producer: u32, seq: u64) -> MsgId {
        MsgId { producer, seq }
    }

    #[test]
    fn dense_sparse_and_migration_keep_order() {
        let mut table: MsgTable<u32> = MsgTable::new();
        *table.entry(id(2, 1)) = 1;
        *table.entry(id(1, u64::MAX)) = 2;
        *table.entry(id(1, 100_000)) = 3;
        *table.entry(id(1, 0)) = 4;
        // Grows the dense part past 100_000's neighbourhood step by step.
        for seq in 1..60_000 {
            *table.entry(id(1, seq)) += 0;
        }
        assert_eq!(table.get(id(1, 100_000)), Some(&3));
        assert_eq!(table.get(id(1, u64::MAX)), Some(&2));
        assert_eq!(table.get(id(3, 0)), None);
        let keys: Vec<MsgId> = table.iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 60_000 + 3);
    }
}
