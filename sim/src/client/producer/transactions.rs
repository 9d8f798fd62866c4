//! The transactional half of Kafka's producer `TransactionManager` (3.9.0-rc3,
//! `clients/.../producer/internals/TransactionManager.java`; TV2 from the 4.0 PRs #17402,
//! #17698, #17849): the client's transaction states and their legal transitions, the queue of
//! transactional requests (one in flight at a time, by priority), which partitions may be
//! drained (only those the coordinator added), and how each coordinator answer moves the state:
//! retried, abortable or fatal. A pure state machine beside the `sequencer` (which keeps the
//! sequences both kinds of producer share); the producer's shell sends what `next_request`
//! returns and feeds the answers back.

use crate::protocol::KafkaError;
use std::collections::{BTreeMap, BTreeSet};

/// `TransactionManager.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientTxnState {
    Uninitialized,
    Initializing,
    Ready,
    InTransaction,
    CommittingTransaction,
    AbortingTransaction,
    AbortableError,
    FatalError,
}

impl ClientTxnState {
    /// `State.isTransitionValid` (3.9 l. 197-232).
    pub fn can_transition_to(self, target: ClientTxnState) -> bool {
        use ClientTxnState::*;
        match target {
            Uninitialized => matches!(self, Ready | AbortableError),
            Initializing => matches!(self, Uninitialized | AbortingTransaction),
            Ready => matches!(self, Initializing | CommittingTransaction | AbortingTransaction),
            InTransaction => self == Ready,
            CommittingTransaction => self == InTransaction,
            AbortingTransaction => matches!(self, InTransaction | AbortableError),
            AbortableError => matches!(self, InTransaction | CommittingTransaction | AbortableError | Initializing),
            FatalError => true,
        }
    }
}

/// A transactional request, with Kafka's `Priority` order (lower first).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TxnRequest {
    FindCoordinator,
    /// `bump`: KIP-360's InitProducerId carrying the current producer id and epoch (2.5+).
    InitProducerId {
        bump: Option<(u64, i32)>,
    },
    AddPartitions(Vec<u32>),
    AddOffsets,
    TxnOffsetCommit,
    EndTxn {
        commit: bool,
    },
}

impl TxnRequest {
    fn priority(&self) -> u8 {
        match self {
            TxnRequest::FindCoordinator => 0,
            TxnRequest::InitProducerId { bump: None } => 1,
            TxnRequest::AddPartitions(_) | TxnRequest::AddOffsets | TxnRequest::TxnOffsetCommit => 2,
            TxnRequest::EndTxn { .. } => 3,
            TxnRequest::InitProducerId { bump: Some(_) } => 4,
        }
    }
}

/// The client rules of a release line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnClientRules {
    /// 2.5 (KIP-360): an abortable error makes the abort bump the epoch (InitProducerId with
    /// the current producer id and epoch).
    pub bumps_epoch_on_abortable_error: bool,
    /// Before 2.7: INVALID_PRODUCER_EPOCH on a produce is fatal (`ProducerFencedException`).
    pub invalid_epoch_on_produce_fatal: bool,
    /// 4.0 (TV2): no AddPartitionsToTxn / AddOffsetsToTxn; EndTxn answers carry the new epoch.
    pub tv2: bool,
}

impl TxnClientRules {
    pub fn of(version: losslab_model::KafkaVersion) -> TxnClientRules {
        TxnClientRules {
            bumps_epoch_on_abortable_error: version.client_bumps_epoch_on_abortable_error(),
            invalid_epoch_on_produce_fatal: version.invalid_producer_epoch_is_fatal(),
            tv2: version.transaction_version_2(),
        }
    }

    pub const V3_9: TxnClientRules =
        TxnClientRules { bumps_epoch_on_abortable_error: true, invalid_epoch_on_produce_fatal: false, tv2: false };
}

/// What the shell does after an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnReaction {
    /// Done; the next request may go.
    Done,
    /// Send the same request again after `backoff_ms`, after finding the coordinator again if
    /// `find_coordinator`.
    Retry { backoff_ms: u64, find_coordinator: bool },
    /// The transaction must be aborted (`KafkaException` from commit).
    Abortable(KafkaError),
    /// The producer is done for (`ProducerFencedException`, INVALID_TXN_STATE, ...).
    Fatal(KafkaError),
}

#[derive(Clone, Debug)]
pub struct TxnManager {
    pub state: ClientTxnState,
    pub rules: TxnClientRules,
    /// Producer id and epoch from InitProducerId (or, TV2, from the last EndTxn).
    pub producer_id_and_epoch: Option<(u64, i32)>,
    /// Partitions the coordinator added to this transaction (`partitionsInTransaction`).
    pub partitions_in_txn: BTreeSet<u32>,
    /// In the AddPartitionsToTxn in flight (`pendingPartitionsInTransaction`).
    pub pending_partitions: BTreeSet<u32>,
    /// Not yet asked for (`newPartitionsInTransaction`).
    pub new_partitions: BTreeSet<u32>,
    /// Something was added at the coordinator: EndTxn must be sent.
    pub transaction_started: bool,
    pub epoch_bump_required: bool,
    pub last_error: Option<KafkaError>,
    queue: BTreeMap<(u8, u64), TxnRequest>,
    queued: u64,
    pub in_flight: Option<TxnRequest>,
}

impl TxnManager {
    pub fn new(rules: TxnClientRules) -> TxnManager {
        TxnManager {
            state: ClientTxnState::Uninitialized,
            rules,
            producer_id_and_epoch: None,
            partitions_in_txn: BTreeSet::new(),
            pending_partitions: BTreeSet::new(),
            new_partitions: BTreeSet::new(),
            transaction_started: false,
            epoch_bump_required: false,
            last_error: None,
            queue: BTreeMap::new(),
            queued: 0,
            in_flight: None,
        }
    }

    fn transition(&mut self, to: ClientTxnState) -> Result<(), KafkaError> {
        if !self.state.can_transition_to(to) {
            // KAFKA-14831: an invalid transition is fatal for the producer.
            self.state = ClientTxnState::FatalError;
            return Err(KafkaError::InvalidTxnState);
        }
        self.state = to;
        Ok(())
    }

    fn enqueue(&mut self, r: TxnRequest) {
        self.queued += 1;
        self.queue.insert((r.priority(), self.queued), r);
    }

    /// `initializeTransactions`.
    pub fn initialize(&mut self) -> Result<(), KafkaError> {
        self.transition(ClientTxnState::Initializing)?;
        self.enqueue(TxnRequest::InitProducerId { bump: None });
        Ok(())
    }

    /// `beginTransaction`: local only.
    pub fn begin(&mut self) -> Result<(), KafkaError> {
        self.transition(ClientTxnState::InTransaction)
    }

    /// `maybeAddPartition` from `send()`: an error state fails the record at once.
    pub fn maybe_add_partition(&mut self, p: u32) -> Result<(), KafkaError> {
        match self.state {
            ClientTxnState::AbortableError | ClientTxnState::FatalError => {
                return Err(self.last_error.unwrap_or(KafkaError::InvalidTxnState))
            }
            ClientTxnState::InTransaction => {}
            _ => return Err(KafkaError::InvalidTxnState),
        }
        if self.rules.tv2 {
            // The partition leader adds it (KIP-890 part 2); the coordinator learns at the produce.
            self.partitions_in_txn.insert(p);
            self.transaction_started = true;
        } else if !self.partitions_in_txn.contains(&p) && !self.pending_partitions.contains(&p) {
            self.new_partitions.insert(p);
        }
        Ok(())
    }

    /// `isSendToPartitionAllowed`: a batch is drained only for a partition the coordinator added.
    pub fn send_to_partition_allowed(&self, p: u32) -> bool {
        self.state != ClientTxnState::FatalError && self.partitions_in_txn.contains(&p)
    }

    /// `nextRequest`: the next transactional request to send, if none is in flight. EndTxn
    /// waits for every incomplete batch.
    pub fn next_request(&mut self, has_incomplete_batches: bool) -> Option<TxnRequest> {
        if self.in_flight.is_some() {
            return None;
        }
        if !self.new_partitions.is_empty() && self.state == ClientTxnState::InTransaction
            || (!self.new_partitions.is_empty() && self.state == ClientTxnState::CommittingTransaction)
        {
            let parts: Vec<u32> = std::mem::take(&mut self.new_partitions).into_iter().collect();
            self.pending_partitions.extend(parts.iter().copied());
            self.enqueue(TxnRequest::AddPartitions(parts));
        }
        let (&key, next) = self.queue.iter().next()?;
        if matches!(next, TxnRequest::EndTxn { .. }) && has_incomplete_batches {
            return None;
        }
        let r = self.queue.remove(&key).expect("present");
        self.in_flight = Some(r.clone());
        Some(r)
    }

    /// `beginCommit`: an abortable error makes the commit throw; nothing started: done locally.
    pub fn begin_commit(&mut self) -> Result<bool, KafkaError> {
        if self.state == ClientTxnState::AbortableError || self.state == ClientTxnState::FatalError {
            return Err(self.last_error.unwrap_or(KafkaError::InvalidTxnState));
        }
        self.transition(ClientTxnState::CommittingTransaction)?;
        Ok(self.begin_completing(true))
    }

    /// `beginAbort`: new partitions are dropped. Returns whether an EndTxn goes out.
    pub fn begin_abort(&mut self) -> Result<bool, KafkaError> {
        if self.state == ClientTxnState::FatalError {
            return Err(self.last_error.unwrap_or(KafkaError::InvalidTxnState));
        }
        self.transition(ClientTxnState::AbortingTransaction)?;
        self.new_partitions.clear();
        Ok(self.begin_completing(false))
    }

    fn begin_completing(&mut self, commit: bool) -> bool {
        // Kafka enqueues EndTxn and decides at `nextRequest` (after any AddPartitionsToTxn
        // ahead of it) whether the transaction started; a partition whose AddPartitions is still
        // queued or in flight will start it, so the EndTxn must go out (found by
        // `aborted_transactions_are_uncommitted_and_their_records_failed`, seed 3: a commit
        // completed locally while AddPartitions was in flight, before its batch was sent).
        // Not yet modelled: an AddPartitions that then fails, after which Kafka completes the
        // EndTxn locally at `nextRequest`.
        let started =
            self.transaction_started || !self.new_partitions.is_empty() || !self.pending_partitions.is_empty();
        if started {
            self.enqueue(TxnRequest::EndTxn { commit });
        }
        if !commit && self.epoch_bump_required && !self.rules.tv2 {
            let bump = self.producer_id_and_epoch;
            self.enqueue(TxnRequest::InitProducerId { bump });
        }
        if !started && (commit || !self.epoch_bump_required) {
            self.complete_transaction();
        }
        started
    }

    /// `completeTransaction`: Ready, or Initializing while an epoch bump is pending.
    fn complete_transaction(&mut self) {
        let to = if self.epoch_bump_required && !self.rules.tv2 {
            ClientTxnState::Initializing
        } else {
            ClientTxnState::Ready
        };
        self.state = to;
        self.last_error = None;
        self.transaction_started = false;
        self.partitions_in_txn.clear();
        self.pending_partitions.clear();
        self.new_partitions.clear();
    }

    /// `sendOffsetsToTransaction`: AddOffsetsToTxn first (TV2: straight to TxnOffsetCommit).
    pub fn send_offsets(&mut self) -> Result<(), KafkaError> {
        if self.state != ClientTxnState::InTransaction {
            return Err(self.last_error.unwrap_or(KafkaError::InvalidTxnState));
        }
        self.enqueue(if self.rules.tv2 { TxnRequest::TxnOffsetCommit } else { TxnRequest::AddOffsets });
        Ok(())
    }

    fn fatal(&mut self, e: KafkaError) -> TxnReaction {
        self.state = ClientTxnState::FatalError;
        self.last_error = Some(e);
        self.queue.clear();
        TxnReaction::Fatal(e)
    }

    fn abortable(&mut self, e: KafkaError) -> TxnReaction {
        if self.state != ClientTxnState::FatalError {
            self.state = ClientTxnState::AbortableError;
        }
        // `maybeTerminateRequestWithError`: a queued EndTxn(commit) fails with the error at the
        // next `nextRequest` instead of going out (3.9 `TransactionManager`).
        self.queue.retain(|_, r| *r != TxnRequest::EndTxn { commit: true });
        self.last_error = Some(e);
        TxnReaction::Abortable(e)
    }

    fn retry(&mut self, r: TxnRequest, backoff_ms: u64, find: bool) -> TxnReaction {
        self.enqueue(r);
        TxnReaction::Retry { backoff_ms, find_coordinator: find }
    }

    /// An answer to the request in flight (`Err(NetworkException)`/`ClientRequestTimeout`: a
    /// disconnect or `request.timeout.ms`, after which the same request is sent again to the
    /// coordinator found anew, `TxnRequestHandler.onComplete`). `answer` carries InitProducerId's
    /// and (TV2) EndTxn's producer id and epoch.
    pub fn on_response(
        &mut self,
        result: Result<Option<(u64, i32)>, KafkaError>,
        retry_backoff_ms: u64,
    ) -> TxnReaction {
        let Some(r) = self.in_flight.take() else { return TxnReaction::Done };
        use KafkaError as E;
        match result {
            Err(E::NetworkException | E::ClientRequestTimeout | E::NotCoordinator | E::CoordinatorNotAvailable) => {
                self.retry(r, retry_backoff_ms, true)
            }
            Err(E::ConcurrentTransactions)
                if matches!(r, TxnRequest::AddPartitions(_)) && self.partitions_in_txn.is_empty() =>
            {
                // KAFKA-5477: the previous transaction is still writing markers.
                self.retry(r, 20, false)
            }
            Err(E::ConcurrentTransactions | E::CoordinatorLoadInProgress) => self.retry(r, retry_backoff_ms, false),
            Err(e @ (E::TxnProducerFenced | E::InvalidProducerEpoch)) => {
                let _ = e;
                self.fatal(E::ProducerFenced)
            }
            Err(e @ (E::TransactionAbortable | E::UnknownProducerId | E::InvalidProducerIdMapping))
                if !matches!(r, TxnRequest::InitProducerId { .. }) =>
            {
                if matches!(e, E::UnknownProducerId | E::InvalidProducerIdMapping)
                    && self.rules.bumps_epoch_on_abortable_error
                {
                    self.epoch_bump_required = true;
                }
                self.pending_partitions.clear();
                self.abortable(e)
            }
            Err(e @ (E::UnknownMemberId | E::IllegalGeneration | E::FencedInstanceId))
                if r == TxnRequest::TxnOffsetCommit =>
            {
                // KIP-447 generation fencing: `CommitFailedException`, abortable.
                self.abortable(e)
            }
            Err(e) => self.fatal(e),
            Ok(answer) => {
                match r {
                    TxnRequest::FindCoordinator => {}
                    TxnRequest::InitProducerId { bump } => {
                        self.producer_id_and_epoch = answer;
                        self.epoch_bump_required = false;
                        let _ = bump;
                        self.state = ClientTxnState::Ready;
                        self.last_error = None;
                    }
                    TxnRequest::AddPartitions(parts) => {
                        for p in parts {
                            self.pending_partitions.remove(&p);
                            self.partitions_in_txn.insert(p);
                        }
                        self.transaction_started = true;
                    }
                    TxnRequest::AddOffsets => {
                        self.transaction_started = true;
                        self.enqueue(TxnRequest::TxnOffsetCommit);
                    }
                    TxnRequest::TxnOffsetCommit => self.transaction_started = true,
                    TxnRequest::EndTxn { .. } => {
                        if self.rules.tv2 {
                            if let Some(pe) = answer {
                                self.producer_id_and_epoch = Some(pe);
                            }
                        }
                        self.complete_transaction();
                    }
                }
                TxnReaction::Done
            }
        }
    }

    /// A produce batch of this transaction failed for good (`handleFailedBatch`,
    /// `maybeTransitionToErrorState`): fenced errors are fatal (INVALID_PRODUCER_EPOCH only
    /// before 2.7), everything else is abortable, and from 2.5 (TV1) the abort then bumps the
    /// epoch.
    pub fn on_batch_failed(&mut self, e: KafkaError) -> TxnReaction {
        let fatal = matches!(e, KafkaError::ProducerFenced | KafkaError::TxnProducerFenced)
            || (e == KafkaError::InvalidProducerEpoch && self.rules.invalid_epoch_on_produce_fatal);
        if fatal {
            return self.fatal(KafkaError::ProducerFenced);
        }
        let completing =
            matches!(self.state, ClientTxnState::CommittingTransaction | ClientTxnState::AbortingTransaction);
        if self.rules.bumps_epoch_on_abortable_error && !self.rules.tv2 && !completing {
            self.epoch_bump_required = true;
        }
        if self.state == ClientTxnState::AbortingTransaction {
            // `transitionToAbortableError`: "Skipping transition to abortable error state since
            // the transaction is already being aborted".
            self.last_error = Some(e);
            return TxnReaction::Abortable(e);
        }
        // Committing -> AbortableError: the queued EndTxn(commit) is failed, not sent.
        self.abortable(e)
    }

    /// The app is done with the transaction: whether `commitTransaction()`/`abortTransaction()`
    /// has returned (the manager is Ready again, or Initializing while the epoch bump that
    /// follows an abort is on its way).
    pub fn is_ready(&self) -> bool {
        self.state == ClientTxnState::Ready
    }
}
