//! KIP-890 on a partition leader: before it writes a transactional batch whose producer has no
//! transaction open on the partition, the leader asks the transaction coordinator whether the
//! partition is in that producer's current transaction (part 1, 3.6+, `verifyOnly`), or, for a
//! client that speaks transaction version 2 (part 2, 4.0), asks it to add the partition. The
//! produce request waits for the answer; the append then needs the verification's guard
//! (`txn_index::Verifications`). Without this, a produce that arrives late, after its
//! transaction's marker, opens a transaction nobody will ever end (the hanging transaction of
//! KIP-890's motivation). Kafka: `ReplicaManager.handleProduceAppend` and
//! `maybeStartTransactionVerificationForPartitions` (3.9 l. 808-1100), `AddPartitionsToTxnManager`
//! (`verifyTransaction`, `AddPartitionsToTxnHandler.onComplete`).
//!
//! Liberty: Kafka's `AddPartitionsToTxnManager` sends at most one request per coordinator at a
//! time, merging the transactional ids queued behind it (an id queued twice answers the older
//! request NETWORK_EXCEPTION); here each produce request sends its own. losslab's producer sends
//! one partition per request, so merging would only fail the first of two same-id requests and
//! make the client retry it.

use super::node::{Broker, ProduceRequest, Timer, Verifying, FETCH_REQUEST_TIMEOUT_MS};
use crate::protocol::{KafkaError, Msg, ProduceTxn, TXN_STATE_PARTITION};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::MsgIds;

impl Broker {
    /// Whether a transactional batch goes through the coordinator first: always for a TV2
    /// client (the leader adds the partition), else when verification exists (3.6) and
    /// `transaction.partition.verification.enable` is on.
    pub(super) fn verifies(&self, txn: &ProduceTxn) -> bool {
        let s = &self.world.scenario;
        txn.add_partition
            || (s.kafka_version.verifies_transactional_partitions()
                && s.broker.txn.transaction_partition_verification_enable)
    }

    /// `maybeStartTransactionVerificationForPartitions`: `None` if this broker does not lead the
    /// partition; else the guard to verify, or `Ok(None)` when the producer id already has a
    /// transaction open here (no verification needed). KAFKA-18575 (4.0): for a TV2 client, a
    /// transaction still open here at an older epoch is the previous one, whose marker has not
    /// arrived yet: CONCURRENT_TRANSACTIONS, so the batch is not written into it.
    pub(super) fn start_verification(
        &mut self,
        partition: u32,
        txn_request: &ProduceRequest,
    ) -> Option<Result<Option<u64>, KafkaError>> {
        let stamp = txn_request.stamp?;
        let tv2 = txn_request.transaction.as_ref().is_some_and(|t| t.add_partition);
        let mut v = self.txn.verifications.remove(&partition).unwrap_or_default();
        let guard = self.with_log(partition, |_, s| {
            let pid = stamp.producer_id;
            let previous_open = s.log.txns().open_txn(pid).is_some()
                && s.log.producer_epoch(pid).is_some_and(|e| e < stamp.producer_epoch);
            if tv2 && previous_open {
                return Err(KafkaError::ConcurrentTransactions);
            }
            Ok(v.start(s.log.txns(), pid, stamp.base_sequence, stamp.producer_epoch))
        });
        self.txn.verifications.insert(partition, v);
        guard
    }

    /// Sends AddPartitionsToTxn (`verifyOnly` unless the client speaks TV2) to the coordinator
    /// this broker's metadata names, and parks the produce request until the answer.
    pub(super) fn send_verification(
        &mut self,
        from: NodeIdx,
        corr: u64,
        partition: u32,
        request: ProduceRequest,
        msgs: MsgIds,
        guard: u64,
    ) {
        let (Some(txn), Some(stamp)) = (request.transaction.clone(), request.stamp) else { return };
        let Some(&(Some(leader), _)) = self.metadata.get(&TXN_STATE_PARTITION) else {
            // `verifyTransaction`: no coordinator known -> COORDINATOR_NOT_AVAILABLE.
            let e = self.produce_error_of(KafkaError::CoordinatorNotAvailable);
            self.answer_produce_error(from, corr, partition, request.acks, e, request.connection);
            return;
        };
        let coordinator = self.world.broker_idx(leader);
        self.next_corr += 1;
        let ask = self.next_corr;
        let msg = Msg::AddPartitionsToTxn {
            corr: ask,
            transactional_id: txn.transactional_id,
            producer_id: stamp.producer_id,
            epoch: stamp.producer_epoch as i32,
            partitions: vec![partition],
            verify_only: !txn.add_partition,
            producer: txn.producer,
            txn: txn.txn,
        };
        self.send(coordinator, msg);
        let waiting = Verifying { from, corr, partition, request, msgs, guard, coordinator };
        self.txn.verifying.insert(ask, waiting);
        let at = self.now_us().saturating_add(FETCH_REQUEST_TIMEOUT_MS * 1000);
        self.timers.at(at, Timer::VerificationTimeout { corr: ask });
    }

    /// The coordinator's answer (or its loss): append with the guard, or answer the producer
    /// with the error a producer knows (`handleProduceAppend`'s `postVerificationCallback`).
    pub(super) fn on_verified(
        &mut self,
        corr: u64,
        result: Result<(), KafkaError>,
        verified: Vec<(u32, Result<(), KafkaError>)>,
    ) {
        if self.on_txn_offsets_verified(corr, result, &verified) {
            return;
        }
        let Some(w) = self.txn.verifying.remove(&corr) else { return };
        // A verify-only answer is per partition; an add's answer is for the whole request.
        let outcome = result.and(verified.iter().find(|(p, _)| *p == w.partition).map_or(Ok(()), |(_, r)| *r));
        match outcome {
            Ok(()) => self.append_produce(w.from, w.corr, w.partition, w.request, w.msgs, Some(w.guard)),
            Err(e) => {
                let e = self.produce_error_of(e);
                self.answer_produce_error(w.from, w.corr, w.partition, w.request.acks, e, w.request.connection)
            }
        }
    }

    /// The coordinator `peer` reset its connections: the verifications in flight to it fail.
    pub(super) fn verifications_lost_to(&mut self, peer: NodeIdx) {
        let lost: Vec<u64> =
            self.txn.verifying.iter().filter(|(_, w)| w.coordinator == peer).map(|(&c, _)| c).collect();
        for corr in lost {
            self.on_verified(corr, Err(KafkaError::NetworkException), Vec::new());
        }
    }

    /// The coordinator's error as the producer gets it: PRODUCER_FENCED becomes
    /// INVALID_PRODUCER_EPOCH (`AddPartitionsToTxnHandler`), TRANSACTION_ABORTABLE becomes
    /// INVALID_TXN_STATE for clients before 3.8 (KAFKA-16314), and the retriable coordinator
    /// errors become NOT_ENOUGH_REPLICAS, which every client retries without a metadata refresh
    /// (`handleProduceAppend`, 3.9 l. 837-851).
    pub(super) fn produce_error_of(&self, e: KafkaError) -> KafkaError {
        match e {
            KafkaError::ProducerFenced | KafkaError::TxnProducerFenced => KafkaError::InvalidProducerEpoch,
            KafkaError::TransactionAbortable
                if !self.world.scenario.kafka_version.has_transaction_abortable_error() =>
            {
                KafkaError::InvalidTxnState
            }
            KafkaError::ConcurrentTransactions
            | KafkaError::NetworkException
            | KafkaError::CoordinatorLoadInProgress
            | KafkaError::CoordinatorNotAvailable
            | KafkaError::NotCoordinator
            | KafkaError::RequestTimedOut => KafkaError::NotEnoughReplicas,
            other => other,
        }
    }
}
