//! Kafka's `GroupCoordinatorTest` TxnOffsetCommit cases and `GroupMetadataManagerTest`'s loader
//! case (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/group/), translated onto the pure
//! group coordinator (`broker::coordinator::txn_commit`): the validation of a TxnOffsetCommit,
//! offsets pending until the producer id's marker (and `requireStable`'s view of them), and the
//! loader's reading of transactional batches and markers. Kafka's tests go through
//! `GroupCoordinator` with a mocked log: here the log append is `Out::TxnAppend`, its
//! replication `on_appended`, and the marker `on_txn_marker` (what `handleTxnCompletion` does
//! once KafkaApis has written it).

use losslab_sim::broker::coordinator::{Coordinator, LogEntry, Out, ReplyTo, TxnCommitRequest};
use losslab_sim::protocol::{KafkaError, MemberId, OffsetsRecord};

const PID: u64 = 1000;

fn reply(corr: u64) -> ReplyTo {
    ReplyTo { node: 9, corr }
}

/// An empty group (no member, generation 0), as `GroupCoordinatorTest` starts for these cases.
fn empty_group() -> Coordinator {
    Coordinator::load(1, 4, &[], 0).0
}

fn txn_commit(member: Option<MemberId>, generation: Option<u32>, offsets: Vec<(u32, u64)>) -> TxnCommitRequest {
    TxnCommitRequest { consumer: 1, producer_id: PID, epoch: 0, member, generation, instance: None, offsets }
}

fn answer(out: &[Out]) -> Option<Result<(), KafkaError>> {
    out.iter().find_map(|o| match o {
        Out::TxnCommitAnswer(_, r) => Some(*r),
        _ => None,
    })
}

/// Sends the TxnOffsetCommit, replicates its batch, and returns the coordinator's answer.
fn commit_replicated(c: &mut Coordinator, request: TxnCommitRequest) -> Result<(), KafkaError> {
    let out = c.on_txn_commit_request(reply(1), request);
    if let Some(r) = answer(&out) {
        return r;
    }
    let op = out
        .iter()
        .find_map(|o| match o {
            Out::TxnAppend { op, producer_id, .. } => {
                assert_eq!(*producer_id, PID, "the batch is the producer's");
                Some(*op)
            }
            _ => None,
        })
        .expect("a transactional append");
    answer(&c.on_appended(0, op, Ok(()))).expect("answered once replicated")
}

fn committed(c: &Coordinator, p: u32) -> Option<u64> {
    c.committed(&[p])[0].1
}

/// Kafka: GroupCoordinatorTest.testFetchPendingTxnOffsetsWithCommit (3.9.0-rc3, GroupCoordinatorTest.scala l. 2712)
/// A replicated TxnOffsetCommit is answered NONE, but its offset is pending: OffsetFetch still
/// returns none (and a `requireStable` fetch is told it is unstable) until the COMMIT marker.
#[test]
fn test_fetch_pending_txn_offsets_with_commit() {
    let mut c = empty_group();
    assert_eq!(commit_replicated(&mut c, txn_commit(None, None, vec![(0, 25)])), Ok(()));
    assert_eq!(committed(&c, 0), None, "pending offsets are not visible");
    assert!(c.unstable(&[0]) && !c.unstable(&[1]));
    c.on_txn_marker(PID, true);
    assert_eq!(committed(&c, 0), Some(25));
    assert!(!c.unstable(&[0]));
}

/// Kafka: GroupCoordinatorTest.testFetchPendingTxnOffsetsWithAbort (3.9.0-rc3, GroupCoordinatorTest.scala l. 2683)
#[test]
fn test_fetch_pending_txn_offsets_with_abort() {
    let mut c = empty_group();
    assert_eq!(commit_replicated(&mut c, txn_commit(None, None, vec![(0, 25)])), Ok(()));
    c.on_txn_marker(PID, false);
    assert_eq!(committed(&c, 0), None);
    assert!(!c.unstable(&[0]));
}

/// Kafka: GroupCoordinatorTest.testFetchTxnOffsetsIgnoreSpuriousCommit (3.9.0-rc3, GroupCoordinatorTest.scala l. 2738)
/// After the ABORT, a later COMMIT of the same producer id has nothing to materialise.
#[test]
fn test_fetch_txn_offsets_ignore_spurious_commit() {
    let mut c = empty_group();
    commit_replicated(&mut c, txn_commit(None, None, vec![(0, 25)])).unwrap();
    c.on_txn_marker(PID, false);
    c.on_txn_marker(PID, true);
    assert_eq!(committed(&c, 0), None);
}

/// Kafka: GroupCoordinatorTest.testTxnCommitOffsetWithInvalidMemberId (3.9.0-rc3, GroupCoordinatorTest.scala l. 3044)
/// A member id the group does not know is UNKNOWN_MEMBER_ID; nothing is written or pending.
#[test]
fn test_txn_commit_offset_with_invalid_member_id() {
    let mut c = empty_group();
    let stranger = MemberId { consumer: 7, serial: 77 };
    let out = c.on_txn_commit_request(reply(1), txn_commit(Some(stranger), Some(0), vec![(0, 25)]));
    assert_eq!(answer(&out), Some(Err(KafkaError::UnknownMemberId)));
    assert!(!out.iter().any(|o| matches!(o, Out::TxnAppend { .. })));
    assert!(!c.unstable(&[0]));
}

/// Kafka: GroupCoordinatorTest.testTxnCommitOffsetWithIllegalGeneration and
/// testTxnCommitOffsetWithLegalGeneration (3.9.0-rc3, GroupCoordinatorTest.scala l. 3078, 3097)
/// KIP-447: a known member with another generation is ILLEGAL_GENERATION (the zombie's
/// transaction must abort); with the group's generation it is written.
#[test]
fn test_txn_commit_offset_with_illegal_and_legal_generation() {
    let member = MemberId { consumer: 1, serial: 11 };
    let stored = vec![losslab_sim::protocol::StoredMember {
        id: member,
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 60_000,
        partitions: vec![0],
        instance: None,
    }];
    let records = [OffsetsRecord::Group { generation: 1, members: stored }];
    let mut c = Coordinator::load(1, 4, &records, 0).0;
    let out = c.on_txn_commit_request(reply(1), txn_commit(Some(member), Some(0), vec![(0, 25)]));
    assert_eq!(answer(&out), Some(Err(KafkaError::IllegalGeneration)));
    assert_eq!(commit_replicated(&mut c, txn_commit(Some(member), Some(1), vec![(0, 25)])), Ok(()));
    assert!(c.unstable(&[0]));
}

/// Kafka: GroupMetadataManagerTest.testLoadWithCommittedAndAbortedAndPendingTransactionalOffsetCommits (3.9.0-rc3, GroupMetadataManagerTest.scala l. 347)
/// The loader applies each producer id's COMMIT and ABORT control batches to the transactional
/// offsets before them, and keeps the ones after the last marker pending until the next.
#[test]
fn test_load_with_committed_and_aborted_and_pending_transactional_offset_commits() {
    let rec = |partition: u32, offset: u64| LogEntry::TxnRecord {
        producer_id: PID,
        record: OffsetsRecord::Commit { consumer: 1, partition, offset, leader_epoch: None },
    };
    let entries = vec![
        rec(0, 23),
        rec(1, 455),
        LogEntry::Marker { producer_id: PID, commit: true },
        rec(2, 231),
        rec(3, 4551),
        LogEntry::Marker { producer_id: PID, commit: false },
        rec(3, 2312),
        rec(4, 45512),
    ];
    let mut c = Coordinator::load_log(1, 5, &entries, 0).0;
    assert_eq!(c.committed(&[0, 1, 2, 3, 4]), vec![(0, Some(23)), (1, Some(455)), (2, None), (3, None), (4, None)]);
    assert!(c.unstable(&[3]) && c.unstable(&[4]) && !c.unstable(&[2]));
    c.on_txn_marker(PID, true);
    assert_eq!(c.committed(&[3, 4]), vec![(3, Some(2312)), (4, Some(45512))]);
    assert!(!c.unstable(&[3, 4]));
}

/// Kafka: GroupMetadataManagerTest.testGroupLoadWithConsumerAndTransactionalOffsetCommitsTransactionWins (3.9.0-rc3, GroupMetadataManagerTest.scala l. 510)
/// A plain commit before the transactional one in the log loses to it when the COMMIT comes.
#[test]
fn test_group_load_with_consumer_and_transactional_offset_commits_transaction_wins() {
    let entries = vec![
        LogEntry::Record(OffsetsRecord::Commit { consumer: 1, partition: 0, offset: 10, leader_epoch: None }),
        LogEntry::TxnRecord {
            producer_id: PID,
            record: OffsetsRecord::Commit { consumer: 1, partition: 0, offset: 20, leader_epoch: None },
        },
        LogEntry::Marker { producer_id: PID, commit: true },
    ];
    let c = Coordinator::load_log(1, 1, &entries, 0).0;
    assert_eq!(c.committed(&[0]), vec![(0, Some(20))]);
}
