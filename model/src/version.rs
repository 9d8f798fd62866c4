//! `kafka.version`: which release line's rules a run follows. Each rule that changed across
//! Kafka's history is a method here, named after what it decides and documented with the KIP or
//! JIRA and the release that brought it, so the simulator asks "does this release truncate by
//! leader epoch?" rather than comparing version numbers all over the code. `rules` lists every
//! rule with whether it is in force, for the verdict's `rules` line.
//!
//! Where a release was read: docs/NOTES.md, "Release lines", names the Kafka source of each rule.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Kafka release line, `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KafkaVersion {
    pub major: u32,
    pub minor: u32,
}

/// How the cluster keeps its metadata: a ZooKeeper ensemble with one broker acting as controller
/// (every release before 4.0, and the default through 3.9: `process.roles` unset), or KRaft
/// (`process.roles` set, from 2.8; the only mode from 4.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataMode {
    ZooKeeper,
    KRaft,
}

/// One rule of a release line, as the verdict prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The KIP or JIRA that changed it (`KIP-101`), or the mode (`KRaft`).
    pub name: &'static str,
    pub on: bool,
    pub meaning: &'static str,
}

impl KafkaVersion {
    pub const DEFAULT: KafkaVersion = KafkaVersion { major: 4, minor: 1 };
    /// The oldest line losslab simulates.
    pub const OLDEST: KafkaVersion = KafkaVersion { major: 0, minor: 10 };
    /// The newest line losslab knows; a newer one is refused rather than guessed at.
    pub const NEWEST: KafkaVersion = KafkaVersion { major: 4, minor: 1 };
    /// Every release line that exists, for error messages.
    pub const LINES: &'static str = "0.10, 0.11, 1.0, 1.1, 2.0 to 2.8, 3.0 to 3.9, 4.0 and 4.1";

    pub const fn new(major: u32, minor: u32) -> Self {
        KafkaVersion { major, minor }
    }

    /// Parses `"X.Y"`. Any `X.Y` from 0.10 to the newest line is accepted and takes the rules of
    /// the nearest line below it; anything else is `None`.
    pub fn parse(text: &str) -> Option<KafkaVersion> {
        let (major, minor) = text.split_once('.')?;
        if major.is_empty() || minor.is_empty() {
            return None;
        }
        if !major.bytes().all(|b| b.is_ascii_digit()) || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v = KafkaVersion::new(major.parse().ok()?, minor.parse().ok()?);
        (Self::OLDEST..=Self::NEWEST).contains(&v).then_some(v)
    }

    const fn at_least(self, major: u32, minor: u32) -> bool {
        self.major > major || (self.major == major && self.minor >= minor)
    }

    /// KIP-101 (0.11): followers truncate by leader epoch, not to their high watermark.
    pub fn truncates_by_leader_epoch(self) -> bool {
        self.at_least(0, 11)
    }

    /// KIP-279 (2.0, KAFKA-6361): truncation compares epochs over several rounds
    /// (`AbstractFetcherThread.getOffsetTruncationState`). Before, 0.11-1.1 truncate once to the
    /// offset the leader gives for the follower's latest epoch (`ReplicaFetcherThread.maybeTruncate`).
    pub fn truncates_over_several_rounds(self) -> bool {
        self.at_least(2, 0)
    }

    /// KAFKA-7415 (2.1): a new leader records its epoch in its epoch cache when elected
    /// (`Partition.makeLeader`); before, only at its first append.
    pub fn caches_epoch_when_elected(self) -> bool {
        self.at_least(2, 1)
    }

    /// KIP-320, broker side (2.1, KAFKA-7395): fetches carry the fetcher's leader epoch and a
    /// leader refuses an older or newer one (`Partition.checkCurrentLeaderEpoch`).
    pub fn fences_fetches_by_leader_epoch(self) -> bool {
        self.at_least(2, 1)
    }

    /// KAFKA-5642 (1.1): when a ZooKeeper-mode controller removes a dead broker from an ISR, it
    /// keeps the last member whatever the topic says; before, only with unclean election off
    /// (`KafkaController.removeReplicaFromIsr`, "Retaining last ISR").
    pub fn keeps_last_isr_member(self) -> bool {
        self.at_least(1, 1)
    }

    /// KIP-380 (2.2): brokers carry an epoch; requests from the controller stamped with an
    /// earlier incarnation's epoch are refused (`KafkaApis.isBrokerEpochStale`), and a broker that
    /// bounced is handled as failed then started again. Before, a restarted broker could act on
    /// partition states meant for its earlier incarnation.
    pub fn rejects_stale_broker_epochs(self) -> bool {
        self.at_least(2, 2)
    }

    /// 2.0 (commit 8f2c087, "Complete inflight requests in order on disconnect"):
    /// `InFlightRequests.clearAll` returns the requests of a broken connection oldest first.
    pub fn completes_in_flight_oldest_first(self) -> bool {
        self.at_least(2, 0)
    }

    /// KIP-320, client side (2.3): consumers detect log truncation after a leader change.
    pub fn consumers_detect_truncation(self) -> bool {
        self.at_least(2, 3)
    }

    /// KAFKA-10554 (2.8): a follower checks its log against its leader's on every fetch, not only
    /// when it starts following.
    pub fn checks_divergence_on_every_fetch(self) -> bool {
        self.at_least(2, 8)
    }

    /// KIP-500 (2.8): KRaft exists (`process.roles`).
    pub fn has_kraft(self) -> bool {
        self.at_least(2, 8)
    }

    /// ZooKeeper removed (4.0, KIP-833): KRaft only.
    pub fn kraft_only(self) -> bool {
        self.at_least(4, 0)
    }

    /// KRaft 3.0-3.5 (`PartitionChangeBuilder.triggerLeaderEpochBumpIfNeeded`): every ISR change
    /// that drops a member bumps the leader epoch; from 3.6 (KAFKA-15021) only leader changes do.
    pub fn kraft_bumps_epoch_on_isr_shrink(self) -> bool {
        !self.at_least(3, 6)
    }

    /// KAFKA-15021 (3.6): the leader's high watermark waits for caught-up followers outside the ISR
    /// only if they may join it (not fenced, not shutting down); 0.10.2-3.5 waited for every
    /// caught-up follower (KAFKA-4485, `Partition.maybeIncrementLeaderHW`).
    pub fn hw_waits_only_for_eligible_replicas(self) -> bool {
        self.at_least(3, 6)
    }

    /// KIP-841 (3.3): AlterPartition refuses an ISR naming a fenced or shutting-down broker.
    pub fn isr_refuses_fenced_brokers(self) -> bool {
        self.at_least(3, 3)
    }

    /// KIP-903 (3.5): AlterPartition refuses an ISR naming a broker by a stale broker epoch.
    pub fn isr_checks_broker_epochs(self) -> bool {
        self.at_least(3, 5)
    }

    /// KAFKA-15583 (3.7): the high watermark does not advance while the ISR is smaller than
    /// `min.insync.replicas`.
    pub fn freezes_hw_below_min_isr(self) -> bool {
        self.at_least(3, 7)
    }

    /// 3.7 (`Partition.effectiveMinIsr`, `ReplicationControlManager.getTopicEffectiveMinIsr`):
    /// `min.insync.replicas` above the replication factor counts as the replication factor.
    pub fn caps_min_isr_at_replication_factor(self) -> bool {
        self.at_least(3, 7)
    }

    /// KIP-966 (4.0): eligible leader replicas may be switched on.
    pub fn supports_elr(self) -> bool {
        self.at_least(4, 0)
    }

    /// KIP-966 default: on from 4.1.
    pub fn elr_default(self) -> bool {
        self.at_least(4, 1)
    }

    /// KAFKA-17927 (4.0): an idempotent producer (the default) with
    /// `max.in.flight.requests.per.connection` above 5 is a configuration error; before 4.0 the
    /// client silently turned idempotence off unless `enable.idempotence` was set explicitly.
    pub fn rejects_in_flight_above_5(self) -> bool {
        self.at_least(4, 0)
    }

    // ---- the producer client (issue 15): `KafkaProducer`, `Sender`, `TransactionManager` ----

    /// KIP-98 (0.11): the idempotent producer exists (`enable.idempotence`); before, the key is
    /// unknown to `ProducerConfig` and Kafka ignores it with a warning.
    pub fn has_idempotent_producer(self) -> bool {
        self.at_least(0, 11)
    }

    /// 0.11 only (`KafkaProducer.configureInflightRequests`): idempotence needs
    /// `max.in.flight.requests.per.connection=1` (unset: forced to 1); KAFKA-5494 (1.0) allows up
    /// to 5, as the broker keeps the last five batches of each producer.
    pub fn idempotence_needs_one_in_flight(self) -> bool {
        !self.at_least(1, 0)
    }

    /// KAFKA-5494 (1.0): the broker remembers the last five batches of each producer for
    /// deduplication (`ProducerStateEntry.NumBatchesToRetain`); 0.11 only the last one
    /// (`Log.analyzeAndValidateProducerState`).
    pub fn producer_batches_retained(self) -> usize {
        if self.at_least(1, 0) {
            5
        } else {
            1
        }
    }

    /// KIP-679 (3.0; effective from 3.0.1/3.1.1 by KAFKA-13598, which losslab takes for the
    /// "3.0" and "3.1" lines): producers default to `acks=all` and `enable.idempotence=true`;
    /// before, `acks=1` and no idempotence.
    pub fn producer_defaults_to_idempotence(self) -> bool {
        self.at_least(3, 0)
    }

    /// KIP-91 (2.1, KAFKA-5886): `delivery.timeout.ms` bounds a record's whole life, in flight
    /// too (`Sender.getExpiredInflightBatches`), and `retries` defaults to 2147483647; before,
    /// only batches waiting in the accumulator expire, after `request.timeout.ms`
    /// (`ProducerBatch.maybeExpire`), and `retries` defaults to 0.
    pub fn has_delivery_timeout(self) -> bool {
        self.at_least(2, 1)
    }

    /// `retries`' default: 2147483647 from 2.1 (KIP-91), 0 before (`ProducerConfig`).
    pub fn producer_retries_default(self) -> u64 {
        if self.has_delivery_timeout() {
            2_147_483_647
        } else {
            0
        }
    }

    /// KIP-1030 (4.0): `linger.ms` defaults to 5; 0 before.
    pub fn producer_linger_ms_default(self) -> u64 {
        if self.at_least(4, 0) {
            5
        } else {
            0
        }
    }

    /// KIP-360 (2.5, KAFKA-8710/KAFKA-8805): the idempotent producer bumps its epoch locally and
    /// renumbers the failing partition from 0 after a sequence gap
    /// (`TransactionManager.bumpIdempotentProducerEpoch`); 1.0-2.4 reset the producer id instead
    /// (`resetProducerId`: a new id, every partition from 0). The 2.8 refinement that holds a
    /// partition's new batches while batches of the old epoch are in flight (KAFKA-12152) is
    /// taken for 2.5-2.7 too (docs/NOTES.md, "The producer").
    pub fn producer_bumps_epoch(self) -> bool {
        self.at_least(2, 5)
    }

    /// KAFKA-5494 (1.0): `TransactionManager.canRetry` retries OUT_OF_ORDER_SEQUENCE_NUMBER for a
    /// batch that is not next in line, and sequences of expired batches are "unresolved" until the
    /// batches in flight settle them; 0.11 fails every OUT_OF_ORDER and resets the producer id
    /// when a batch that was retried expires.
    pub fn producer_resolves_sequences(self) -> bool {
        self.at_least(1, 0)
    }

    /// KAFKA-9911 (2.7): INVALID_PRODUCER_EPOCH fails the batch (`InvalidProducerEpochException`);
    /// before, it is a `ProducerFencedException`, fatal for the whole producer.
    pub fn invalid_producer_epoch_is_fatal(self) -> bool {
        !self.at_least(2, 7)
    }

    /// Brokers 1.0-2.4 answer UNKNOWN_PRODUCER_ID to a batch from a producer they have no state
    /// for, unless it starts at sequence 0 (`ProducerAppendInfo.checkSequence`); KIP-360 (2.5)
    /// accepts any sequence then; 0.11 answers OUT_OF_ORDER_SEQUENCE_NUMBER ("Invalid sequence
    /// number for new epoch").
    pub fn broker_answers_unknown_producer_id(self) -> bool {
        self.at_least(1, 0) && !self.at_least(2, 5)
    }

    /// 0.11 (`ProducerIdEntry.validateAppend`): a producer the broker does not know must start at
    /// sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER.
    pub fn broker_refuses_unknown_producer_sequences(self) -> bool {
        !self.at_least(1, 0)
    }

    /// KAFKA-3720 (2.6): a full `buffer.memory` fails a record with `BufferExhaustedException`;
    /// before, a plain `TimeoutException` (`BufferPool.allocate`).
    pub fn buffer_exhausted_exception(self) -> bool {
        self.at_least(2, 6)
    }

    /// KAFKA-13834 (3.3): each broker has its own drain index, left on the partition being
    /// drained (`RecordAccumulator.drainBatchesForOneNode`); before, one index for all brokers,
    /// moved past each partition visited.
    pub fn drain_index_per_node(self) -> bool {
        self.at_least(3, 3)
    }

    /// KIP-794 (3.3): the built-in partitioner moves to another partition once `batch.size`
    /// bytes went to the current one; 2.4-3.2 (KIP-480, `DefaultPartitioner.onNewBatch`) when a
    /// record would open a new batch in it.
    pub fn partitioner_switches_by_bytes(self) -> bool {
        self.at_least(3, 3)
    }

    /// KIP-580 (3.7, KAFKA-9800): retries back off exponentially from `retry.backoff.ms` to
    /// `retry.backoff.max.ms` with 20% jitter (`ExponentialBackoff`); before, a constant
    /// `retry.backoff.ms`.
    pub fn exponential_retry_backoff(self) -> bool {
        self.at_least(3, 7)
    }

    /// KIP-951 (3.7, KAFKA-15627/KAFKA-15661): a NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH
    /// answer names the new leader, the client takes it into its metadata at once
    /// (`Metadata.updatePartitionLeadership`), and a retry to a new leader skips its backoff
    /// (`RecordAccumulator.shouldBackoff`).
    pub fn produce_errors_name_the_new_leader(self) -> bool {
        self.at_least(3, 7)
    }

    /// KIP-106 (0.11): `unclean.leader.election.enable` defaults to false (true before).
    pub fn unclean_election_default(self) -> bool {
        !self.at_least(0, 11)
    }

    /// KIP-537 (2.5): `replica.lag.time.max.ms` defaults to 30000 (10000 before).
    pub fn replica_lag_time_max_ms_default(self) -> u64 {
        if self.at_least(2, 5) {
            30_000
        } else {
            10_000
        }
    }

    /// KIP-537 (2.5): `zookeeper.session.timeout.ms` defaults to 18000 (6000 before).
    pub fn zookeeper_session_timeout_ms_default(self) -> u64 {
        if self.at_least(2, 5) {
            18_000
        } else {
            6_000
        }
    }
}

/// The consumer's rules (issue 15, consumer half): KIP-320 on the client, the awaited commit
/// before a rejoin, static membership, cooperative rebalancing and the consumer defaults.
impl KafkaVersion {
    /// KIP-320, OffsetCommit v6 (2.1, `ConsumerCoordinator.sendOffsetCommitRequest`): a commit
    /// carries the leader epoch of the last consumed record, and OffsetFetch returns it.
    pub fn commits_carry_leader_epoch(self) -> bool {
        self.at_least(2, 1)
    }

    /// KAFKA-10113 (2.7, `SubscriptionState.maybeCompleteValidation`): an UNDEFINED end offset
    /// from OffsetsForLeaderEpoch resets the position per `auto.offset.reset`. 2.3-2.6 sought to
    /// offset -1, and the next fetch, out of range, reset it the same way a round trip later.
    pub fn resets_on_undefined_divergence(self) -> bool {
        self.at_least(2, 7)
    }

    /// KAFKA-13310 (3.2, `ConsumerCoordinator.onJoinPrepare`): the auto-commit before a rejoin is
    /// asynchronous and the join waits for it across polls (3.2.1+, KAFKA-14024: up to the
    /// rebalance timeout, retrying retriable errors); 0.10.1-3.1 commit synchronously inside
    /// `poll()`, bounded by the rebalance timeout.
    pub fn join_prepare_commits_async(self) -> bool {
        self.at_least(3, 2)
    }

    /// KAFKA-14196 (3.3, `SubscriptionState.markPendingRevocation`): while an eager member waits
    /// for its join-prepare commit, its partitions are pending revocation and `poll()` returns
    /// nothing from them; 3.2 kept returning records that the commit in flight did not cover.
    pub fn pauses_partitions_during_join_prepare(self) -> bool {
        !self.join_prepare_commits_async() || self.at_least(3, 3)
    }

    /// KIP-394 (2.2, `GroupCoordinator.doUnknownJoinGroup`): a dynamic member's first JoinGroup
    /// is answered MEMBER_ID_REQUIRED with the id it must join with, and the coordinator holds
    /// the id as a pending member until it rejoins or its session times out.
    pub fn requires_known_member_id(self) -> bool {
        self.at_least(2, 2)
    }

    /// KIP-345 (2.3): static membership (`group.instance.id`).
    pub fn has_static_membership(self) -> bool {
        self.at_least(2, 3)
    }

    /// KIP-429 (2.4): the cooperative rebalance protocol and `CooperativeStickyAssignor`.
    pub fn has_cooperative_rebalancing(self) -> bool {
        self.at_least(2, 4)
    }

    /// KAFKA-8421 (2.5, "Still return data during rebalance": `KafkaConsumer.poll` calls
    /// `updateAssignmentMetadataIfNeeded(time.timer(0L))`): `poll()` returns records of owned
    /// partitions while a cooperative rebalance runs; 2.4 blocked in the rebalance.
    pub fn polls_during_rebalance(self) -> bool {
        self.at_least(2, 5)
    }

    /// KIP-735 (3.0, KAFKA-12874): the consumer's `session.timeout.ms` defaults to 45000 (10000 before).
    pub fn consumer_session_timeout_ms_default(self) -> u64 {
        if self.at_least(3, 0) {
            45_000
        } else {
            10_000
        }
    }

    /// KIP-726 (3.0, KAFKA-13023): `partition.assignment.strategy` defaults to `[RangeAssignor,
    /// CooperativeStickyAssignor]` (`[RangeAssignor]` before); the protocol both support is
    /// eager, so range still runs.
    pub fn default_assignors_add_cooperative_sticky(self) -> bool {
        self.at_least(3, 0)
    }
}

/// Transactions (issue 16): the rules of KIP-98's transactions by release. Sources: the
/// research report's section 9 and docs/NOTES.md "Transactions"; paths below are Kafka's.
/// A line stands for its first release (0.11 is 0.11.0.0).
impl KafkaVersion {
    /// KIP-98 (0.11): transactions exist: `transactional.id`, the transaction coordinator
    /// (`TransactionCoordinator`), markers, the last stable offset, `isolation.level`.
    pub fn has_transactions(self) -> bool {
        self.at_least(0, 11)
    }

    /// KAFKA-6119 (1.0; also 0.11.0.2, which the 0.11 line does not stand for): a timed-out
    /// transaction is aborted with a bumped epoch (`TransactionMetadata.prepareFenceProducerEpoch`
    /// in `TransactionCoordinator.abortTimedOutTransactions`), which fences the slow producer;
    /// 0.11.0.0 aborted with the same epoch, so it could keep writing.
    pub fn timeout_abort_bumps_epoch(self) -> bool {
        self.at_least(1, 0)
    }

    /// KIP-360 (2.5): after an abortable error the transactional producer's `abortTransaction()`
    /// sends InitProducerId with its (id, epoch) and gets epoch+1, sequences from 0
    /// (`TransactionManager.beginAbort`, `epochBumpRequired`); a voluntary abort keeps the epoch.
    /// Before, the epoch changed only through a new `initTransactions()`.
    pub fn client_bumps_epoch_on_abortable_error(self) -> bool {
        self.at_least(2, 5)
    }

    /// KAFKA-9600 (2.6): the coordinator answers an EndTxn whose epoch is not exactly the
    /// current one with PRODUCER_FENCED / INVALID_PRODUCER_EPOCH (`TransactionCoordinator.endTransaction`);
    /// 1.0-2.5 refused only an older epoch. 0.11.0.0 compared for equality too.
    pub fn endtxn_requires_equal_epoch(self) -> bool {
        !self.at_least(1, 0) || self.at_least(2, 6)
    }

    /// KIP-447 (2.5): TxnOffsetCommit carries the consumer's member id and generation and the
    /// group coordinator refuses a stale one (ILLEGAL_GENERATION, `GroupCoordinator.handleTxnCommitOffsets`);
    /// consumers fetch committed offsets with `requireStable` and wait out pending transactional
    /// offsets (UNSTABLE_OFFSET_COMMIT). Before, `sendOffsetsToTransaction(offsets, groupId)`
    /// was not fenced by generation and an offset fetch ignored pending offsets.
    pub fn fences_txn_offset_commits_by_generation(self) -> bool {
        self.at_least(2, 5)
    }

    /// KAFKA-7763 (2.3): `commitTransaction()` / `abortTransaction()` give up after
    /// `max.block.ms` (the same call must be retried); before they wait forever.
    pub fn commit_bounded_by_max_block(self) -> bool {
        self.at_least(2, 3)
    }

    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`' default
    /// (`TransactionStateManager.DefaultAbortTimedOutTransactionsIntervalMs`): 10 s from 2.5
    /// (changed with KIP-447's work, KAFKA-9417), 1 min before.
    pub fn txn_abort_cleanup_interval_ms_default(self) -> u64 {
        if self.at_least(2, 5) {
            10_000
        } else {
            60_000
        }
    }

    /// KIP-890 part 1 (3.6, KAFKA-14402): a partition leader asks the coordinator whether the
    /// partition is in the producer's ongoing transaction before it appends the producer's first
    /// transactional batch (`ReplicaManager.handleProduceAppend`, `UnifiedLog.verificationGuard`),
    /// switched by `transaction.partition.verification.enable` (default true).
    pub fn verifies_transactional_partitions(self) -> bool {
        self.at_least(3, 6)
    }

    /// KAFKA-15449 (3.7): the group coordinator verifies TxnOffsetCommit the same way.
    pub fn verifies_txn_offset_commits(self) -> bool {
        self.at_least(3, 7)
    }

    /// KAFKA-16314 (3.8): TRANSACTION_ABORTABLE, an abortable error for verification failures.
    pub fn has_transaction_abortable_error(self) -> bool {
        self.at_least(3, 8)
    }

    /// KIP-890 part 2 (4.0, transaction version 2, on for new 4.0 clusters): the coordinator
    /// bumps the epoch at every EndTxn, markers carry the new epoch, the client takes it from the
    /// EndTxn response and sends no AddPartitionsToTxn (the leader adds the partition), so a late
    /// EndTxn or produce of an earlier transaction is fenced by epoch.
    pub fn transaction_version_2(self) -> bool {
        self.at_least(4, 0)
    }
}

impl KafkaVersion {
    /// This release line's rules as a run resolves them: (the KIP, JIRA or mode; whether it is in
    /// force; what it means), so that a reader comparing two runs sees which rule made the
    /// difference. `mode` and `elr` are the resolved metadata mode and eligible leader replicas.
    pub fn rules(self, mode: MetadataMode, elr: bool) -> Vec<Rule> {
        let kraft = mode == MetadataMode::KRaft;
        let rule = |name, on, meaning| Rule { name, on, meaning };
        vec![
            rule("KRaft", kraft, "the controller is a KRaft quorum, not ZooKeeper: brokers are fenced by heartbeats"),
            rule(
                "KIP-101",
                self.truncates_by_leader_epoch(),
                "followers truncate by leader epoch, not to their high watermark",
            ),
            rule("KIP-279", self.truncates_over_several_rounds(), "truncation compares epochs over several rounds"),
            rule("KIP-320", self.fences_fetches_by_leader_epoch(), "fetches are fenced by the leader epoch"),
            rule(
                "KIP-380",
                self.rejects_stale_broker_epochs(),
                "a restarted broker ignores state meant for its earlier self",
            ),
            rule(
                "KIP-841",
                kraft && self.isr_refuses_fenced_brokers(),
                "an ISR may not name a fenced or shutting-down broker",
            ),
            rule(
                "KIP-903",
                kraft && self.isr_checks_broker_epochs(),
                "an ISR may not name a broker's earlier incarnation",
            ),
            rule(
                "KAFKA-15021",
                self.hw_waits_only_for_eligible_replicas(),
                "the high watermark waits only for caught-up replicas allowed to join the ISR",
            ),
            rule(
                "KAFKA-15583",
                self.freezes_hw_below_min_isr(),
                "the high watermark stays put while ISR < min.insync.replicas",
            ),
            rule("KIP-966", elr, "eligible leader replicas: a replica that left an ISR below min ISR may lead"),
        ]
        .into_iter()
        .chain(self.producer_rules())
        .chain(self.txn_rules())
        .collect()
    }

    /// The transaction rules of this line, for the same list.
    fn txn_rules(self) -> Vec<Rule> {
        let rule = |name, on, meaning| Rule { name, on, meaning };
        vec![
            rule("KIP-98", self.has_transactions(), "transactions, markers, read_committed"),
            rule("KAFKA-6119", self.timeout_abort_bumps_epoch(), "a transaction timeout fences the producer"),
            rule(
                "KAFKA-7763",
                self.commit_bounded_by_max_block(),
                "commitTransaction and abortTransaction give up after max.block.ms",
            ),
            rule(
                "KIP-360/txn",
                self.client_bumps_epoch_on_abortable_error(),
                "an abort after an error bumps the producer epoch",
            ),
            rule(
                "KIP-447",
                self.fences_txn_offset_commits_by_generation(),
                "transactional offsets are fenced by generation",
            ),
            rule("KAFKA-9600", self.endtxn_requires_equal_epoch(), "EndTxn must carry the current epoch exactly"),
            rule(
                "KAFKA-9911",
                !self.invalid_producer_epoch_is_fatal(),
                "a produce INVALID_PRODUCER_EPOCH is abortable",
            ),
            rule(
                "KIP-890/1",
                self.verifies_transactional_partitions(),
                "leaders verify a partition is in the transaction before its first write",
            ),
            rule("KAFKA-15449", self.verifies_txn_offset_commits(), "transactional offset commits are verified"),
            rule("KAFKA-16314", self.has_transaction_abortable_error(), "verification failures are abortable"),
            rule("KIP-890/2", self.transaction_version_2(), "every commit and abort bumps the producer epoch"),
        ]
    }

    /// The producer client's rules of this line, for the same list.
    fn producer_rules(self) -> Vec<Rule> {
        let rule = |name, on, meaning| Rule { name, on, meaning };
        vec![
            rule("KIP-91", self.has_delivery_timeout(), "delivery.timeout.ms expires batches in flight too"),
            rule(
                "KIP-360",
                self.producer_bumps_epoch(),
                "an idempotent producer bumps its epoch after a sequence gap instead of taking a new id",
            ),
            rule("KIP-679", self.producer_defaults_to_idempotence(), "producers default to acks=all and idempotence"),
            rule("KIP-580", self.exponential_retry_backoff(), "retries back off exponentially"),
            rule("KIP-951", self.produce_errors_name_the_new_leader(), "a produce error names the new leader"),
        ]
    }
}

impl Default for KafkaVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for KafkaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_lines() {
        assert_eq!(KafkaVersion::parse("4.1"), Some(KafkaVersion::new(4, 1)));
        assert_eq!(KafkaVersion::parse("0.10"), Some(KafkaVersion::new(0, 10)));
        assert_eq!(KafkaVersion::parse("3.8"), Some(KafkaVersion::new(3, 8)));
        assert_eq!(KafkaVersion::parse("0.9"), None);
        assert_eq!(KafkaVersion::parse("4"), None);
        assert_eq!(KafkaVersion::parse("4.1.0"), None);
        assert_eq!(KafkaVersion::parse("x.1"), None);
        assert_eq!(KafkaVersion::parse("4.2"), None, "newer than the newest line");
        assert_eq!(KafkaVersion::parse("5.0"), None, "newer than the newest line");
    }

    #[test]
    fn rules_follow_the_versions_table() {
        let v = KafkaVersion::new;
        assert!(!v(0, 10).truncates_by_leader_epoch() && v(0, 11).truncates_by_leader_epoch());
        assert!(!v(1, 1).truncates_over_several_rounds() && v(2, 0).truncates_over_several_rounds());
        assert!(!v(2, 0).fences_fetches_by_leader_epoch() && v(2, 1).fences_fetches_by_leader_epoch());
        assert!(!v(2, 0).caches_epoch_when_elected() && v(2, 1).caches_epoch_when_elected());
        assert!(!v(1, 0).keeps_last_isr_member() && v(1, 1).keeps_last_isr_member());
        assert!(!v(2, 1).rejects_stale_broker_epochs() && v(2, 2).rejects_stale_broker_epochs());
        assert!(!v(2, 2).consumers_detect_truncation() && v(2, 3).consumers_detect_truncation());
        assert!(!v(2, 7).has_kraft() && v(2, 8).has_kraft());
        assert!(!v(3, 9).kraft_only() && v(4, 0).kraft_only());
        assert!(v(3, 5).kraft_bumps_epoch_on_isr_shrink() && !v(3, 6).kraft_bumps_epoch_on_isr_shrink());
        assert!(!v(3, 5).hw_waits_only_for_eligible_replicas() && v(3, 6).hw_waits_only_for_eligible_replicas());
        assert!(!v(3, 2).isr_refuses_fenced_brokers() && v(3, 3).isr_refuses_fenced_brokers());
        assert!(!v(3, 4).isr_checks_broker_epochs() && v(3, 5).isr_checks_broker_epochs());
        assert!(!v(3, 6).freezes_hw_below_min_isr() && v(3, 7).freezes_hw_below_min_isr());
        assert!(!v(3, 6).caps_min_isr_at_replication_factor() && v(3, 7).caps_min_isr_at_replication_factor());
        assert!(v(4, 0).supports_elr() && !v(4, 0).elr_default() && v(4, 1).elr_default());
        assert!(v(0, 10).unclean_election_default() && !v(0, 11).unclean_election_default());
        assert_eq!(
            (v(2, 4).replica_lag_time_max_ms_default(), v(2, 5).replica_lag_time_max_ms_default()),
            (10_000, 30_000)
        );
        assert_eq!(
            (v(2, 4).zookeeper_session_timeout_ms_default(), v(2, 5).zookeeper_session_timeout_ms_default()),
            (6_000, 18_000)
        );
    }

    #[test]
    fn producer_rules_follow_their_releases() {
        let v = KafkaVersion::new;
        assert!(!v(0, 10).has_idempotent_producer() && v(0, 11).has_idempotent_producer());
        assert!(v(0, 11).idempotence_needs_one_in_flight() && !v(1, 0).idempotence_needs_one_in_flight());
        assert_eq!((v(0, 11).producer_batches_retained(), v(1, 0).producer_batches_retained()), (1, 5));
        assert!(!v(2, 8).producer_defaults_to_idempotence() && v(3, 0).producer_defaults_to_idempotence());
        assert!(!v(2, 0).has_delivery_timeout() && v(2, 1).has_delivery_timeout());
        assert_eq!((v(2, 0).producer_retries_default(), v(2, 1).producer_retries_default()), (0, 2_147_483_647));
        assert_eq!((v(3, 9).producer_linger_ms_default(), v(4, 0).producer_linger_ms_default()), (0, 5));
        assert!(!v(2, 4).producer_bumps_epoch() && v(2, 5).producer_bumps_epoch());
        assert!(!v(0, 11).producer_resolves_sequences() && v(1, 0).producer_resolves_sequences());
        assert!(v(2, 6).invalid_producer_epoch_is_fatal() && !v(2, 7).invalid_producer_epoch_is_fatal());
        assert!(!v(0, 11).broker_answers_unknown_producer_id() && v(1, 0).broker_answers_unknown_producer_id());
        assert!(v(2, 4).broker_answers_unknown_producer_id() && !v(2, 5).broker_answers_unknown_producer_id());
        assert!(v(0, 11).broker_refuses_unknown_producer_sequences());
        assert!(!v(1, 0).broker_refuses_unknown_producer_sequences());
        assert!(!v(2, 5).buffer_exhausted_exception() && v(2, 6).buffer_exhausted_exception());
        assert!(!v(3, 6).exponential_retry_backoff() && v(3, 7).exponential_retry_backoff());
        assert!(!v(3, 2).drain_index_per_node() && v(3, 3).drain_index_per_node());
        assert!(!v(3, 2).partitioner_switches_by_bytes() && v(3, 3).partitioner_switches_by_bytes());
        assert!(!v(3, 6).produce_errors_name_the_new_leader() && v(3, 7).produce_errors_name_the_new_leader());
    }

    #[test]
    fn consumer_rules_follow_their_releases() {
        let v = KafkaVersion::new;
        assert!(!v(2, 0).commits_carry_leader_epoch() && v(2, 1).commits_carry_leader_epoch());
        assert!(!v(2, 6).resets_on_undefined_divergence() && v(2, 7).resets_on_undefined_divergence());
        assert!(!v(3, 1).join_prepare_commits_async() && v(3, 2).join_prepare_commits_async());
        assert!(v(3, 1).pauses_partitions_during_join_prepare());
        assert!(!v(3, 2).pauses_partitions_during_join_prepare() && v(3, 3).pauses_partitions_during_join_prepare());
        assert!(!v(2, 1).requires_known_member_id() && v(2, 2).requires_known_member_id());
        assert!(!v(2, 2).has_static_membership() && v(2, 3).has_static_membership());
        assert!(!v(2, 3).has_cooperative_rebalancing() && v(2, 4).has_cooperative_rebalancing());
        assert!(!v(2, 4).polls_during_rebalance() && v(2, 5).polls_during_rebalance());
        assert_eq!(
            (v(2, 8).consumer_session_timeout_ms_default(), v(3, 0).consumer_session_timeout_ms_default()),
            (10_000, 45_000)
        );
        assert!(!v(2, 8).default_assignors_add_cooperative_sticky());
        assert!(v(3, 0).default_assignors_add_cooperative_sticky());
    }

    #[test]
    fn transaction_rules_follow_their_releases() {
        let v = KafkaVersion::new;
        assert!(!v(0, 10).has_transactions() && v(0, 11).has_transactions());
        assert!(!v(0, 11).timeout_abort_bumps_epoch() && v(1, 0).timeout_abort_bumps_epoch());
        assert!(!v(2, 4).client_bumps_epoch_on_abortable_error() && v(2, 5).client_bumps_epoch_on_abortable_error());
        assert!(v(0, 11).endtxn_requires_equal_epoch() && !v(1, 0).endtxn_requires_equal_epoch());
        assert!(!v(2, 5).endtxn_requires_equal_epoch() && v(2, 6).endtxn_requires_equal_epoch());
        assert!(
            !v(2, 4).fences_txn_offset_commits_by_generation() && v(2, 5).fences_txn_offset_commits_by_generation()
        );
        assert!(!v(2, 2).commit_bounded_by_max_block() && v(2, 3).commit_bounded_by_max_block());
        assert_eq!(
            (v(2, 4).txn_abort_cleanup_interval_ms_default(), v(2, 5).txn_abort_cleanup_interval_ms_default()),
            (60_000, 10_000)
        );
        assert!(!v(3, 5).verifies_transactional_partitions() && v(3, 6).verifies_transactional_partitions());
        assert!(!v(3, 6).verifies_txn_offset_commits() && v(3, 7).verifies_txn_offset_commits());
        assert!(!v(3, 7).has_transaction_abortable_error() && v(3, 8).has_transaction_abortable_error());
        assert!(!v(3, 9).transaction_version_2() && v(4, 0).transaction_version_2());
    }

    #[test]
    fn every_rule_is_listed_with_its_state() {
        let rules = KafkaVersion::new(3, 6).rules(MetadataMode::ZooKeeper, false);
        let on: Vec<&str> = rules.iter().filter(|r| r.on).map(|r| r.name).collect();
        assert_eq!(
            on,
            [
                "KIP-101",
                "KIP-279",
                "KIP-320",
                "KIP-380",
                "KAFKA-15021",
                "KIP-91",
                "KIP-360",
                "KIP-679",
                "KIP-98",
                "KAFKA-6119",
                "KAFKA-7763",
                "KIP-360/txn",
                "KIP-447",
                "KAFKA-9600",
                "KAFKA-9911",
                "KIP-890/1"
            ]
        );
        let rules = KafkaVersion::new(4, 1).rules(MetadataMode::KRaft, true);
        assert!(rules.iter().all(|r| r.on), "{rules:?}");
    }
}
