//! Kafka's `SubscriptionStateTest` (KIP-320, the consumer's truncation detection), translated
//! onto `client::consumer::position::PartitionPosition`. Broker 1 is `leader: Some(1)`; Kafka's
//! `Optional.empty()` is `None`; `maybeCompleteValidation` returning `Optional.empty()` is any
//! outcome other than `Validation::Truncated`. Read at 3.7.0,
//! `clients/src/test/java/org/apache/kafka/clients/consumer/internals/SubscriptionStateTest.java`.

use losslab_sim::client::consumer::position::{
    FetchPosition, LeaderAndEpoch, LogTruncation, PartitionPosition, ResetPolicy, Validation,
};

fn leader(epoch: Option<u32>) -> LeaderAndEpoch {
    LeaderAndEpoch { leader: Some(1), epoch }
}

fn at(offset: u64, offset_epoch: Option<u32>, leader_epoch: Option<u32>) -> FetchPosition {
    FetchPosition { offset, offset_epoch, current_leader: leader(leader_epoch) }
}

/// Kafka: SubscriptionStateTest.testSeekUnvalidatedWithNoOffsetEpoch (3.7.0): a position
/// without an epoch is never validated, whatever the leader's epoch.
#[test]
fn seek_unvalidated_with_no_offset_epoch() {
    let mut s = PartitionPosition::default();
    s.seek_unvalidated(at(0, None, Some(5)));
    assert!(s.has_valid_position() && !s.awaiting_validation());
    assert!(!s.maybe_validate_for_leader(leader(None)));
    assert!(s.has_valid_position() && !s.awaiting_validation());
    assert!(!s.maybe_validate_for_leader(leader(Some(10))));
    assert!(s.has_valid_position() && !s.awaiting_validation());
}

/// Kafka: SubscriptionStateTest.testSeekUnvalidatedWithOffsetEpoch (3.7.0): a committed offset
/// with an epoch awaits validation; a leader without an epoch skips it.
#[test]
fn seek_unvalidated_with_offset_epoch() {
    let mut s = PartitionPosition::default();
    s.seek_unvalidated(at(0, Some(2), Some(5)));
    assert!(!s.has_valid_position() && s.awaiting_validation());
    assert!(s.maybe_validate_for_leader(leader(Some(5))));
    assert!(!s.has_valid_position() && s.awaiting_validation());
    assert!(s.maybe_validate_for_leader(leader(Some(15))));
    assert!(!s.has_valid_position() && s.awaiting_validation());
    assert!(!s.maybe_validate_for_leader(leader(None)));
    assert!(s.has_valid_position() && !s.awaiting_validation());
}

/// Kafka: SubscriptionStateTest.testSeekValidatedShouldClearAwaitingValidation and
/// testCompleteValidationShouldClearAwaitingValidation (3.7.0).
#[test]
fn seek_validated_or_complete_validation_clears_awaiting() {
    let mut s = PartitionPosition::default();
    s.seek_unvalidated(at(10, Some(5), Some(10)));
    assert!(s.awaiting_validation());
    s.seek_validated(at(8, Some(4), Some(10)));
    assert!(!s.awaiting_validation() && s.has_valid_position());
    assert_eq!(s.valid_offset(), Some(8));

    let mut s = PartitionPosition::default();
    s.seek_unvalidated(at(10, Some(5), Some(10)));
    s.complete_validation();
    assert!(!s.awaiting_validation() && s.has_valid_position());
    assert_eq!(s.valid_offset(), Some(10));
}

/// Kafka: SubscriptionStateTest.testOffsetResetWhileAwaitingValidation and
/// testMaybeCompleteValidationAfterOffsetReset (3.7.0): a reset wins over a late answer.
#[test]
fn offset_reset_while_awaiting_validation() {
    let mut s = PartitionPosition::default();
    let initial = at(10, Some(5), Some(10));
    s.seek_unvalidated(initial);
    assert!(s.awaiting_validation());
    s.request_reset(ResetPolicy::Earliest);
    assert!(!s.awaiting_validation() && s.awaiting_reset());
    let outcome = s.maybe_complete_validation(initial, Some((5, 15)), ResetPolicy::Earliest);
    assert_eq!(outcome, Validation::Ignored);
    assert!(s.awaiting_reset());
    assert_eq!(s.position(), None);
}

/// Kafka: SubscriptionStateTest.testMaybeCompleteValidation (3.7.0): the leader's log reaches
/// past the position: valid, unchanged.
#[test]
fn maybe_complete_validation() {
    let mut s = PartitionPosition::default();
    let initial = at(10, Some(5), Some(10));
    s.seek_unvalidated(initial);
    assert_eq!(s.maybe_complete_validation(initial, Some((5, 15)), ResetPolicy::Earliest), Validation::Valid);
    assert!(s.has_valid_position());
    assert_eq!(s.position(), Some(initial));
}

/// Kafka: SubscriptionStateTest.testMaybeCompleteValidationAfterPositionChange (3.7.0): an
/// answer for a position the consumer has since left is ignored.
#[test]
fn maybe_complete_validation_after_position_change() {
    let mut s = PartitionPosition::default();
    let initial = at(10, Some(5), Some(10));
    s.seek_unvalidated(initial);
    let update = at(20, Some(8), Some(10));
    s.seek_unvalidated(update);
    assert_eq!(s.maybe_complete_validation(initial, Some((5, 15)), ResetPolicy::Earliest), Validation::Ignored);
    assert!(s.awaiting_validation());
    assert_eq!(s.position(), Some(update));
}

/// Kafka: SubscriptionStateTest.testTruncationDetectionWithResetPolicy (3.7.0): the epoch ends at
/// 5 on the leader, below the position 10: the consumer seeks back to (5, epoch 7). Audit C7.
#[test]
fn truncation_detection_with_reset_policy() {
    let mut s = PartitionPosition::default();
    let initial = at(10, Some(5), Some(10));
    s.seek_unvalidated(initial);
    let outcome = s.maybe_complete_validation(initial, Some((7, 5)), ResetPolicy::Earliest);
    assert_eq!(outcome, Validation::SeekBack { from: 10, offset: 5, epoch: 7 });
    assert!(!s.awaiting_validation());
    assert_eq!(s.position(), Some(at(5, Some(7), Some(10))));
}

/// Kafka: SubscriptionStateTest.testTruncationDetectionWithoutResetPolicy (3.7.0): with
/// `auto.offset.reset=none` the truncation is raised and the position still awaits validation.
#[test]
fn truncation_detection_without_reset_policy() {
    let mut s = PartitionPosition::default();
    let initial = at(10, Some(5), Some(10));
    s.seek_unvalidated(initial);
    let outcome = s.maybe_complete_validation(initial, Some((7, 5)), ResetPolicy::None);
    assert_eq!(outcome, Validation::Truncated(LogTruncation { fetch_position: initial, divergent: Some((5, 7)) }));
    assert!(s.awaiting_validation());
    assert_eq!(s.position(), Some(initial));
}

/// Kafka: SubscriptionStateTest.testTruncationDetectionUnknownDivergentOffsetWithResetPolicy and
/// testTruncationDetectionUnknownDivergentOffsetWithoutResetPolicy (3.7.0): an UNDEFINED answer
/// resets per policy (2.7+, KAFKA-10113), or is raised without a divergent offset.
#[test]
fn truncation_detection_unknown_divergent_offset() {
    let mut s = PartitionPosition::default();
    let initial = at(10, Some(5), Some(10));
    s.seek_unvalidated(initial);
    assert_eq!(s.maybe_complete_validation(initial, None, ResetPolicy::Earliest), Validation::Reset);
    assert!(!s.awaiting_validation() && s.awaiting_reset());
    assert_eq!(s.reset_policy(), Some(ResetPolicy::Earliest));

    let mut s = PartitionPosition::default();
    s.seek_unvalidated(initial);
    let outcome = s.maybe_complete_validation(initial, None, ResetPolicy::None);
    assert_eq!(outcome, Validation::Truncated(LogTruncation { fetch_position: initial, divergent: None }));
    assert!(s.awaiting_validation());
}
