//! Kafka's `UnifiedLogTest` (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala).
//! Kafka's `UnifiedLog` holds the high watermark; in losslab the `Replica` does, so the
//! high-watermark cases run through a follower `Replica` over a `Log`: Kafka's
//! `maybeUpdateHighWatermark(hw)` / `updateHighWatermark(hw)` is `append_as_follower(log, [], hw)`,
//! which is what a follower does with the leader's high watermark on every fetch.

use crate::common::{batch, log_of, V3_7};
use crate::fixtures::{follower, seeded};
use losslab_sim::broker::log::Log;

/// Kafka: UnifiedLogTest.testTruncateToEndOffsetClearsEpochCache (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// Truncating at or past the log end drops an epoch that starts at the log end. Offsets shifted by -27.
#[test]
fn test_truncate_to_end_offset_clears_epoch_cache() {
    // Two records appended as a follower at base 27 with epoch 19.
    let mut log = log_of(&[batch(0, 19, 2)]);
    assert_eq!(log.epoch_cache().last(), Some(&(19, 0)));
    assert_eq!(log.log_end_offset(), 2);
    for (epoch, truncation_offset) in [(20, 2), (24, 3)] {
        // Becoming leader at `epoch` (maybeAssignEpochStartOffset at the log end).
        log.assign_epoch(epoch, log.log_end_offset());
        assert_eq!(log.epoch_cache().last(), Some(&(epoch, 2)));
        // Becoming follower and truncating at (20) or past (24) the log end.
        log.truncate_to(truncation_offset);
        assert_eq!(log.epoch_cache().last(), Some(&(19, 0)));
        assert_eq!(log.log_end_offset(), 2);
    }
}

/// Kafka: UnifiedLogTest.testMaybeUpdateHighWatermarkAsFollower (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// A follower takes the leader's high watermark once, and never past its own log end.
#[test]
fn test_maybe_update_high_watermark_as_follower() {
    let mut log = seeded(100, 0);
    let mut r = follower(V3_7, &mut log, 0);
    assert_eq!(r.append_as_follower(&mut log, vec![], 99).1, Some(99));
    assert_eq!(r.append_as_follower(&mut log, vec![], 99).1, None);
    assert_eq!(r.append_as_follower(&mut log, vec![], 100).1, Some(100));
    assert_eq!(r.append_as_follower(&mut log, vec![], 100).1, None);
    // Bound by the log end offset.
    assert_eq!(r.append_as_follower(&mut log, vec![], 101).1, None);
}

/// Kafka: UnifiedLogTest.testHighWatermarkMaintenance (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// The high watermark starts at 0, stays within the log end, and follows truncation down.
#[test]
fn test_high_watermark_maintenance() {
    let mut log = Log::default();
    let mut r = follower(V3_7, &mut log, 0);
    assert_eq!(r.high_watermark, 0);
    // Not changed by an append (three records).
    r.append_as_follower(&mut log, vec![batch(0, 0, 3)], 0);
    assert_eq!(r.high_watermark, 0);
    r.append_as_follower(&mut log, vec![], 1);
    assert_eq!(r.high_watermark, 1);
    // Cannot go past the log end offset.
    r.append_as_follower(&mut log, vec![], 5);
    assert_eq!(r.high_watermark, 3);
    // As a follower: three more records, then the leader's 6.
    r.append_as_follower(&mut log, vec![batch(3, 0, 3)], 6);
    assert_eq!(r.high_watermark, 6);
    // Adjusted by truncation.
    r.truncate(&mut log, 3);
    assert_eq!(r.high_watermark, 3);
    r.append_as_follower(&mut log, vec![batch(3, 0, 3)], 3);
    assert_eq!(r.high_watermark, 3);
    assert_eq!(log.log_end_offset(), 6);
}
