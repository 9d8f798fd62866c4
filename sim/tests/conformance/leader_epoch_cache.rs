//! Kafka's `LeaderEpochFileCacheTest` (3.7.0,
//! core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala) against `Log`.
//!
//! Kafka builds an empty cache with `assign(epoch, startOffset)` and passes the log end offset
//! to `endOffsetFor` by hand; losslab's epoch cache lives in `Log`, whose log end follows its
//! batches from offset 0. Tests that ask only for non-latest epochs call `assign_epoch` on an
//! empty `Log` with Kafka's numbers; tests that need the log end build the log from batches,
//! every offset shifted down by the first entry's start offset (said in each test).
//! Kafka's `(UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)` is `None`.

use crate::common::{batch, log_of};
use crate::fixtures::{seed, seeded};
use losslab_sim::broker::log::Log;

fn assigned(entries: &[(u32, u64)]) -> Log {
    let mut log = Log::default();
    for &(epoch, start) in entries {
        log.assign_epoch(epoch, start);
    }
    log
}

/// Kafka: LeaderEpochFileCacheTest.shouldAddEpochAndMessageOffsetToCache (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An assigned epoch is the latest, and its end is the log end. Offsets shifted by -10.
#[test]
fn should_add_epoch_and_message_offset_to_cache() {
    let log = log_of(&[batch(0, 2, 1)]); // assign(2, 10), log end 11
    assert_eq!(log.latest_epoch(), Some(2));
    assert_eq!(log.epoch_cache()[0], (2, 0));
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 1)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldReturnLogEndOffsetIfLatestEpochRequested (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// The latest epoch ends at the log end. Offsets shifted by -11.
#[test]
fn should_return_log_end_offset_if_latest_epoch_requested() {
    // assign(2, 11), assign(2, 12), log end 14.
    let log = log_of(&[batch(0, 2, 1), batch(1, 2, 2)]);
    assert_eq!(log.epoch_cache(), &[(2, 0)]);
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 3)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldNotOverwriteLogEndOffsetForALeaderEpochOnceItHasBeenAssigned (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// A later assignment of the same epoch keeps the first start offset.
#[test]
fn should_not_overwrite_log_end_offset_for_a_leader_epoch_once_it_has_been_assigned() {
    let log = assigned(&[(2, 9), (2, 10)]);
    assert_eq!(log.epoch_cache(), &[(2, 9)]);
}

/// Kafka: LeaderEpochFileCacheTest.shouldEnforceMonotonicallyIncreasingStartOffsets (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// A new epoch at the same start offset replaces the old one.
#[test]
fn should_enforce_monotonically_increasing_start_offsets() {
    let log = assigned(&[(2, 9), (3, 9)]);
    assert_eq!(log.epoch_cache(), &[(3, 9)]);
}

/// Kafka: LeaderEpochFileCacheTest.shouldNotOverwriteOffsetForALeaderEpochOnceItHasBeenAssigned (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Assigning an epoch again with a greater offset is ignored.
#[test]
fn should_not_overwrite_offset_for_a_leader_epoch_once_it_has_been_assigned() {
    let log = assigned(&[(2, 6), (2, 10)]);
    assert_eq!(log.epoch_cache()[0].1, 6);
}

/// Kafka: LeaderEpochFileCacheTest.shouldReturnUnsupportedIfNoEpochRecorded (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An empty cache answers UNDEFINED.
#[test]
fn should_return_unsupported_if_no_epoch_recorded() {
    assert_eq!(Log::default().end_offset_for_epoch(0), None);
}

/// Kafka: LeaderEpochFileCacheTest.shouldFetchEndOffsetOfEmptyCache (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An empty cache has no latest epoch and answers UNDEFINED for epoch 7.
#[test]
fn should_fetch_end_offset_of_empty_cache() {
    let log = Log::default();
    assert_eq!(log.latest_epoch(), None); // shouldFetchLatestEpochOfEmptyCache
    assert_eq!(log.end_offset_for_epoch(7), None);
}

/// Kafka: LeaderEpochFileCacheTest.shouldReturnFirstEpochIfRequestedEpochLessThanFirstEpoch (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An epoch below the first answers (that epoch, the first start offset).
#[test]
fn should_return_first_epoch_if_requested_epoch_less_than_first_epoch() {
    let log = assigned(&[(5, 11), (6, 12), (7, 13)]);
    assert_eq!(log.end_offset_for_epoch(4), Some((4, 11)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldTruncateIfMatchingEpochButEarlierStartingOffset (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Reassigning the latest epoch at an earlier offset drops the entries in between.
#[test]
fn should_truncate_if_matching_epoch_but_earlier_starting_offset() {
    let log = assigned(&[(5, 11), (6, 12), (7, 13), (7, 12)]);
    assert_eq!(log.end_offset_for_epoch(5), Some((5, 12)));
    assert_eq!(log.end_offset_for_epoch(6), Some((5, 12)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldGetFirstOffsetOfSubsequentEpochWhenOffsetRequestedForPreviousEpoch (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// A non-latest epoch ends where the next one starts.
#[test]
fn should_get_first_offset_of_subsequent_epoch_when_offset_requested_for_previous_epoch() {
    let log = assigned(&[(1, 11), (1, 12), (2, 13), (2, 14), (3, 15), (3, 16)]);
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 15)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldReturnNextAvailableEpochIfThereIsNoExactEpochForTheOneRequested (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An epoch the cache lacks answers the largest epoch below it and where the next starts.
#[test]
fn should_return_next_available_epoch_if_there_is_no_exact_epoch_for_the_one_requested() {
    let log = assigned(&[(0, 10), (2, 13), (4, 17)]);
    assert_eq!(log.end_offset_for_epoch(1), Some((0, 13)));
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 17)));
    assert_eq!(log.end_offset_for_epoch(3), Some((2, 17)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldNotUpdateEpochAndStartOffsetIfItDidNotChange (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// The same epoch at a later offset adds no entry.
#[test]
fn should_not_update_epoch_and_start_offset_if_it_did_not_change() {
    let log = assigned(&[(2, 6), (2, 7)]);
    assert_eq!(log.epoch_cache(), &[(2, 6)]);
}

/// Kafka: LeaderEpochFileCacheTest.shouldReturnInvalidOffsetIfEpochIsRequestedWhichIsNotCurrentlyTracked (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An epoch above the latest answers UNDEFINED.
#[test]
fn should_return_invalid_offset_if_epoch_is_requested_which_is_not_currently_tracked() {
    // assign(2, 100), log end 100: the same as a log whose epoch 2 starts at its end.
    let log = assigned(&[(2, 100)]);
    assert_eq!(log.end_offset_for_epoch(3), None);
}

/// Kafka: LeaderEpochFileCacheTest.shouldSupportEpochsThatDoNotStartFromZero (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// A single epoch not starting at 0 ends at the log end. Offsets shifted by -6.
#[test]
fn should_support_epochs_that_do_not_start_from_zero() {
    let log = log_of(&[batch(0, 2, 1)]); // assign(2, 6), log end 7
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 1)));
    assert_eq!(log.epoch_cache(), &[(2, 0)]);
}

/// Kafka: LeaderEpochFileCacheTest.shouldEnforceMonotonicallyIncreasingEpochs (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// An older epoch assigned at a later offset drops the later epochs.
#[test]
fn should_enforce_monotonically_increasing_epochs() {
    // assign(1, 5), assign(2, 6), assign(1, 7), log end 8, shifted by -5: one record each, the
    // last of the older epoch 1 (as a follower appends what a new leader sends).
    let mut log = log_of(&[batch(0, 1, 1), batch(1, 2, 1)]);
    log.append(batch(2, 1, 1));
    assert_eq!(log.latest_epoch(), Some(1));
    assert_eq!(log.end_offset_for_epoch(1), Some((1, 3)));
    assert_eq!(log.end_offset_for_epoch(2), None);
    assert_eq!(log.epoch_cache()[0], (1, 2));
}

/// Kafka: LeaderEpochFileCacheTest.shouldEnforceOffsetsIncreaseMonotonically (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// A newer epoch at an earlier offset wins and the conflicting entry goes.
#[test]
fn should_enforce_offsets_increase_monotonically() {
    let log = assigned(&[(2, 6), (3, 5)]);
    assert_eq!(log.epoch_cache()[0], (3, 5));
}

/// Kafka: LeaderEpochFileCacheTest.shouldIncreaseAndTrackEpochsAsLeadersChangeManyTimes (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Epochs started by leaders without records, then written, end where the next starts.
#[test]
fn should_increase_and_track_epochs_as_leaders_change_many_times() {
    let mut log = assigned(&[(0, 0), (1, 0)]);
    assert_eq!(log.latest_epoch(), Some(1));
    assert_eq!(log.end_offset_for_epoch(1), Some((1, 0)));
    assert_eq!(log.end_offset_for_epoch(0), Some((0, 0)));
    log.append(batch(0, 1, 5)); // five messages as epoch 1
    assert_eq!(log.end_offset_for_epoch(1), Some((1, 5)));
    assert_eq!(log.end_offset_for_epoch(0), Some((0, 0)));
    log.assign_epoch(2, 5);
    log.append(batch(5, 2, 5));
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 10)));
    assert_eq!(log.end_offset_for_epoch(1), Some((1, 5)));
    assert_eq!(log.end_offset_for_epoch(0), Some((0, 0)));
}

/// Kafka: LeaderEpochFileCacheTest.shouldIncreaseAndTrackEpochsAsFollowerReceivesManyMessages (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Single-record batches of epochs 0, 1, 2 (three each): each epoch ends where the next starts.
#[test]
fn should_increase_and_track_epochs_as_follower_receives_many_messages() {
    let mut log = seeded(3, 0);
    assert_eq!(log.latest_epoch(), Some(0));
    assert_eq!(log.end_offset_for_epoch(0), Some((0, 3)));
    seed(&mut log, 3, 1);
    assert_eq!(log.latest_epoch(), Some(1));
    assert_eq!(log.end_offset_for_epoch(1), Some((1, 6)));
    seed(&mut log, 3, 2);
    assert_eq!(log.latest_epoch(), Some(2));
    assert_eq!(log.end_offset_for_epoch(2), Some((2, 9)));
    assert_eq!(log.end_offset_for_epoch(0), Some((0, 3)));
    assert_eq!(log.end_offset_for_epoch(1), Some((1, 6)));
}

/// Epochs 2@6, 3@8, 4@11 shifted by -6, one record per offset so that truncation can cut anywhere.
fn three_epochs() -> Log {
    log_of(&[batch(0, 2, 1), batch(1, 2, 1), batch(2, 3, 1), batch(3, 3, 1), batch(4, 3, 1), batch(5, 4, 1)])
}

/// Kafka: LeaderEpochFileCacheTest.shouldDropEntriesOnEpochBoundaryWhenRemovingLatestEntries (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Truncating at an epoch's start offset removes it and every later one. Offsets shifted by -6.
#[test]
fn should_drop_entries_on_epoch_boundary_when_removing_latest_entries() {
    let mut log = three_epochs();
    assert_eq!(log.epoch_cache(), &[(2, 0), (3, 2), (4, 5)]);
    log.truncate_to(2); // truncateFromEnd(8)
    assert_eq!(log.epoch_cache(), &[(2, 0)]);
}

/// Kafka: LeaderEpochFileCacheTest.shouldDropEntriesBetweenEpochBoundaryWhenRemovingNewest (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Truncating inside an epoch keeps it. Offsets shifted by -6.
#[test]
fn should_drop_entries_between_epoch_boundary_when_removing_newest() {
    let mut log = three_epochs();
    log.truncate_to(3); // truncateFromEnd(9)
    assert_eq!(log.latest_epoch(), Some(3));
    assert_eq!(log.epoch_cache(), &[(2, 0), (3, 2)]);
}

/// Kafka: LeaderEpochFileCacheTest.shouldClearLatestOnEmptyCache (3.7.0, core/src/test/scala/unit/kafka/server/epoch/LeaderEpochFileCacheTest.scala)
/// Truncating an empty log is harmless.
#[test]
fn should_clear_latest_on_empty_cache() {
    let mut log = Log::default();
    assert!(log.truncate_to(7).is_empty());
    assert_eq!(log.epoch_cache(), &[]);
}
