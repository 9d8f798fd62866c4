//! A transactional producer's shell and its app (issue 16): it drives the pure `TxnManager`
//! (`transactions`) over the network and runs Kafka's transactional app loop. The app calls
//! `initTransactions()`, then per transaction `beginTransaction()`, hands
//! `app.transaction.records` records to `send()`, and calls `commitTransaction()` (or
//! `abortTransaction()` every `app.transaction.abort.every`-th time), waiting for it to return;
//! a commit that throws is followed by an abort, as Kafka's examples do; a fatal error
//! (`ProducerFencedException`, ...) ends the app's sending and closes the producer. The shell
//! finds the coordinator as the leader of `__transaction_state` in its metadata
//! (`FindCoordinator` with `CoordinatorType.TRANSACTION`), sends one transactional request at a
//! time, holds produce data while one is in flight (`Sender.maybeSendAndPollTransactionalRequest`),
//! gates the drain on the partitions the coordinator added, and records `TxnBegun`/`TxnEnded`
//! with the per-partition `Acked`/`Failed` the app sees at the end (docs/NOTES.md, issue 16).

use super::node::{OpenTxn, Producer, Timer, TxnPhase, TxnShell};
use super::transactions::{ClientTxnState, TxnReaction, TxnRequest};
use crate::protocol::{KafkaError, Msg, OFFSETS_PARTITION, TXN_STATE_PARTITION};
use crate::runtime::actor::Actor;
use losslab_model::history::{EventKind, MsgId, TxnOutcome};
use std::collections::BTreeMap;

impl Producer {
    fn shell(&mut self) -> &mut TxnShell {
        self.txn.as_mut().expect("a transactional producer")
    }

    /// The app's next record goes into the open transaction, beginning one if none is open
    /// (`beginTransaction()`). Returns the transaction's number and whether `send()` may append
    /// the record (`maybeAddPartition` fails it at once in an error state).
    pub(super) fn txn_add_record(&mut self, msg: MsgId, partition: u32) -> (u64, Result<(), KafkaError>) {
        if self.shell().open.is_none() {
            let txn = match &self.embedded {
                Some(e) => e.next_txn(&self.world),
                None => {
                    let mut progress = self.world.producers[self.id as usize - 1].lock().unwrap();
                    progress.txns += 1;
                    progress.txns
                }
            };
            let began = self.shell().manager.begin();
            assert!(began.is_ok(), "beginTransaction only when Ready");
            self.shell().open = Some(OpenTxn { txn, records: Vec::new() });
            self.record(EventKind::TxnBegun { producer: self.id, txn });
        }
        let shell = self.shell();
        let open = shell.open.as_mut().expect("just begun");
        open.records.push((msg, partition));
        let txn = open.txn;
        (txn, shell.manager.maybe_add_partition(partition))
    }

    /// After `send()` returned: the app ends the transaction once it holds
    /// `app.transaction.records` records, or when the workload has nothing more.
    pub(super) fn txn_maybe_end(&mut self, workload_exhausted: bool) {
        let per_txn = self.cfg().app_transaction_records.max(1) as usize;
        let abort_every = self.cfg().app_transaction_abort_every;
        if self.embedded.is_some() {
            // The pipeline's app ends its transactions itself (`embedded`).
            return;
        }
        let Some(open) = self.txn.as_ref().and_then(|t| t.open.as_ref()) else { return };
        if open.records.len() < per_txn && !workload_exhausted {
            return;
        }
        let abort = abort_every > 0 && open.txn % abort_every == 0;
        if abort {
            self.txn_abort(false);
        } else {
            self.shell().phase = TxnPhase::Committing;
            if let Err(e) = self.shell().manager.begin_commit() {
                self.txn_commit_threw(e);
            }
        }
        self.pump();
    }

    /// `abortTransaction()`.
    fn txn_abort(&mut self, reported: bool) {
        self.shell().phase = TxnPhase::Aborting { reported };
        if let Err(e) = self.shell().manager.begin_abort() {
            self.txn_fatal(e);
        }
    }

    /// `commitTransaction()` threw: the records failed for the app, which aborts to go on.
    pub(super) fn txn_commit_threw(&mut self, e: KafkaError) {
        let what = format!("commitTransaction() threw: {}", e.name());
        self.txn_end(TxnOutcome::Failed, Some(what));
        self.txn_abort(true);
    }

    /// Records the open transaction's end and tells the app its records' outcome.
    fn txn_end(&mut self, outcome: TxnOutcome, error: Option<String>) {
        let Some(open) = self.shell().open.clone() else { return };
        let msgs: Vec<MsgId> = open.records.iter().map(|&(m, _)| m).collect();
        self.record(EventKind::TxnEnded {
            producer: self.id,
            txn: open.txn,
            outcome,
            msgs: msgs.clone(),
            error: error.clone(),
        });
        let mut by_partition: BTreeMap<u32, Vec<MsgId>> = BTreeMap::new();
        for &(m, p) in &open.records {
            by_partition.entry(p).or_default().push(m);
        }
        let failed = outcome != TxnOutcome::Committed;
        if let Some(e) = self.embedded.as_mut() {
            e.last_outcome = Some(outcome);
        }
        for (partition, msgs) in by_partition {
            let kind = if failed {
                let error = error.clone().unwrap_or_else(|| "abortTransaction() returned".to_string());
                EventKind::Failed { partition, batch: 0, error, msgs: msgs.into(), app_notified: true }
            } else {
                EventKind::Acked { partition, batch: 0, base_offset: None, msgs: msgs.into(), app_notified: true }
            };
            self.record(kind);
        }
        self.outcome(&msgs, failed);
    }

    /// A fatal error: the open transaction failed for the app, which stops sending and closes
    /// the producer; the sender fails what it holds (`Sender.maybeAbortBatches`).
    fn txn_fatal(&mut self, e: KafkaError) {
        if self.shell().phase == TxnPhase::Done {
            return;
        }
        let reported = matches!(self.shell().phase, TxnPhase::Aborting { reported: true });
        if !reported {
            self.txn_end(TxnOutcome::Failed, Some(format!("fatal: {}", e.name())));
        }
        self.shell().open = None;
        self.shell().phase = TxnPhase::Done;
        if let Some(seq) = self.sender.sequencer.as_mut() {
            seq.transition_to_fatal_error(e);
        }
        self.app_close();
    }

    /// The app's view after the manager moved: `initTransactions()`, commit or abort returned or
    /// threw, or a fatal error.
    fn txn_progress(&mut self) {
        let state = self.shell().manager.state;
        if state == ClientTxnState::FatalError {
            let e = self.shell().manager.last_error.unwrap_or(KafkaError::InvalidTxnState);
            self.txn_fatal(e);
            return;
        }
        let ready = self.shell().manager.is_ready();
        match self.shell().phase.clone() {
            TxnPhase::Initializing if ready => self.txn_resume(),
            TxnPhase::Committing if ready => {
                self.txn_end(TxnOutcome::Committed, None);
                self.txn_resume();
            }
            TxnPhase::Committing if state == ClientTxnState::AbortableError => {
                let e = self.shell().manager.last_error.unwrap_or(KafkaError::InvalidTxnState);
                self.txn_commit_threw(e);
            }
            TxnPhase::Aborting { reported } if ready => {
                if !reported {
                    self.txn_end(TxnOutcome::Aborted, None);
                }
                self.txn_resume();
            }
            _ => {}
        }
    }

    /// Back to the app's loop after a blocking call returned.
    fn txn_resume(&mut self) {
        self.shell().open = None;
        self.shell().phase = TxnPhase::Running;
        if !self.app.closing() {
            self.app_send_now();
        }
    }

    /// Before a sender run: the gate from the manager, the sequencer's id from InitProducerId.
    pub(super) fn txn_before_run(&mut self) {
        let Some(shell) = self.txn.as_ref() else { return };
        let gate = shell.gate();
        let pe = shell.manager.producer_id_and_epoch;
        let state = shell.manager.state;
        self.sender.txn_gate = Some(gate);
        if let (Some((pid, epoch)), Some(seq)) = (pe, self.sender.sequencer.as_mut()) {
            assert!(epoch >= 0, "an InitProducerId answer carries an epoch");
            seq.set_producer_id_and_epoch(pid, epoch as u32);
        }
        // `maybeSendAndPollTransactionalRequest`: an abortable error or an abort fails the
        // batches never drained, with the error, or `TransactionAbortedException` for the app's
        // own abort.
        if matches!(state, ClientTxnState::AbortableError | ClientTxnState::AbortingTransaction) {
            let e = self.txn.as_ref().and_then(|t| t.manager.last_error).unwrap_or(KafkaError::TransactionAborted);
            self.sender.abort_undrained(e);
        }
    }

    /// After a sender run: the next transactional request, if one may go. True if one went.
    pub(super) fn txn_after_run(&mut self) -> bool {
        if self.txn.is_none() {
            return false;
        }
        // A sequence gap a transactional producer cannot retry past (`maybeResolveSequences`):
        // abortable, and the abort bumps the epoch.
        let gap = self.sender.sequencer.as_ref().is_some_and(|s| s.epoch_bump_required());
        if gap
            && matches!(
                self.shell().manager.state,
                ClientTxnState::InTransaction | ClientTxnState::CommittingTransaction
            )
        {
            self.shell().manager.on_batch_failed(KafkaError::OutOfOrderSequenceNumber);
        }
        self.txn_progress();
        let now = self.now_us();
        let shell = self.txn.as_ref().expect("transactional");
        if shell.in_flight.is_some() || now < shell.not_before_us {
            return false;
        }
        let Some(broker) = shell.coordinator.or_else(|| self.metadata.leader(TXN_STATE_PARTITION)) else {
            self.txn_find_coordinator();
            return false;
        };
        let incomplete = self.sender.has_incomplete();
        let Some(request) = self.shell().manager.next_request(incomplete) else { return false };
        self.shell().coordinator = Some(broker);
        self.txn_send(broker, request);
        true
    }

    fn txn_find_coordinator(&mut self) {
        self.shell().coordinator = None;
        self.request_metadata();
        let at = self.now_us().saturating_add(self.cfg().retry_backoff_ms.saturating_mul(1000));
        // One lookup per retry.backoff.ms: without it every pump while the coordinator is unknown
        // (each metadata answer pumps) armed one more Wake, and each Wake another, without end.
        let shell = self.shell();
        shell.not_before_us = shell.not_before_us.max(at);
        self.timers.at(at, Timer::Wake);
    }

    fn txn_send(&mut self, broker: u32, request: TxnRequest) {
        let id = self.id;
        let timeout_ms = self.cfg().transaction_timeout_ms;
        let request_timeout_ms = self.cfg().request_timeout_ms;
        let shell = self.shell();
        shell.next_corr += 1;
        let corr = shell.next_corr;
        let transactional_id = shell.transactional_id.clone();
        let (producer_id, epoch) = shell.manager.producer_id_and_epoch.unwrap_or((0, -1));
        let txn = shell.open.as_ref().map(|o| o.txn);
        let msg = match request {
            TxnRequest::InitProducerId { bump } => {
                Msg::InitProducerId { corr, transactional_id, timeout_ms, expected: bump, producer: id }
            }
            TxnRequest::AddPartitions(partitions) => Msg::AddPartitionsToTxn {
                corr,
                transactional_id,
                producer_id,
                epoch,
                partitions,
                verify_only: false,
                producer: id,
                txn,
            },
            TxnRequest::EndTxn { commit } => {
                Msg::EndTxn { corr, transactional_id, producer_id, epoch, commit, producer: id, txn }
            }
            TxnRequest::AddOffsets => {
                Msg::AddOffsetsToTxn { corr, transactional_id, producer_id, epoch, producer: id, txn }
            }
            TxnRequest::TxnOffsetCommit => {
                let Some(msg) = self
                    .embedded
                    .as_ref()
                    .map(|e| e.txn_offset_commit(corr, transactional_id, producer_id, epoch, id, txn))
                else {
                    unreachable!("only the pipeline's producer sends offsets")
                };
                // To the group coordinator (FindCoordinator(GROUP)): the leader of the group's
                // offsets partition as the producer's metadata has it.
                let group_coordinator = self.metadata.leader(OFFSETS_PARTITION);
                return self.txn_send_to(group_coordinator, corr, msg, request_timeout_ms);
            }
            TxnRequest::FindCoordinator => unreachable!("coordinators are found from metadata"),
        };
        self.txn_send_to(Some(broker), corr, msg, request_timeout_ms);
    }

    /// Puts a transactional request on the wire (`broker` unknown: it fails as a lost
    /// connection would, and is retried after finding the coordinator).
    fn txn_send_to(&mut self, broker: Option<u32>, corr: u64, msg: Msg, request_timeout_ms: u64) {
        let Some(broker) = broker else {
            self.shell().in_flight = Some((corr, 0));
            self.on_txn_response(corr, Err(KafkaError::CoordinatorNotAvailable));
            return;
        };
        self.shell().in_flight = Some((corr, broker));
        self.world.net.send(self.me, self.world.broker_idx(broker), msg);
        let at = self.now_us().saturating_add(request_timeout_ms.saturating_mul(1000));
        self.timers.at(at, Timer::TxnTimeout { corr });
    }

    /// An answer (or a failure) of the transactional request `corr`.
    pub(super) fn on_txn_response(&mut self, corr: u64, result: Result<Option<(u64, i32)>, KafkaError>) {
        let Some(shell) = self.txn.as_mut() else { return };
        if shell.in_flight.map(|(c, _)| c) != Some(corr) {
            return;
        }
        shell.in_flight = None;
        let backoff = self.cfg().retry_backoff_ms;
        let reaction = self.shell().manager.on_response(result, backoff);
        if let TxnReaction::Retry { backoff_ms, find_coordinator } = reaction {
            let now = self.now_us();
            let at = now.saturating_add(backoff_ms.saturating_mul(1000));
            self.shell().not_before_us = at;
            self.timers.at(at, Timer::Wake);
            if find_coordinator {
                self.txn_find_coordinator();
            }
        }
        self.pump();
    }

    /// The request on the wire to `broker` is lost (the connection broke or was refused).
    pub(super) fn on_txn_connection_lost(&mut self, broker: u32) {
        let lost = self.txn.as_ref().and_then(|t| t.in_flight).filter(|&(_, b)| b == broker);
        if let Some((corr, _)) = lost {
            self.on_txn_response(corr, Err(KafkaError::NetworkException));
        }
    }

    /// `request.timeout.ms` passed for `corr`.
    pub(super) fn on_txn_timeout(&mut self, corr: u64) {
        // `NetworkClient` closes the connection; the request may still be on a cut link, where
        // it keeps the old connection's retransmissions (the late EndTxn of KAFKA-17754).
        if let Some((c, broker)) = self.txn.as_ref().and_then(|t| t.in_flight) {
            if c == corr {
                self.world.net.abandon(self.me, self.world.broker_idx(broker));
            }
        }
        self.on_txn_response(corr, Err(KafkaError::ClientRequestTimeout));
    }

    /// A produce batch of the transaction failed for good.
    pub(super) fn txn_batch_failed(&mut self, error: KafkaError) {
        let Some(shell) = self.txn.as_mut() else { return };
        if matches!(shell.manager.state, ClientTxnState::InTransaction | ClientTxnState::CommittingTransaction) {
            shell.manager.on_batch_failed(error);
        }
    }

    /// `close()` with a transaction open: Kafka's sender aborts it ("Aborting incomplete
    /// transaction due to shutdown", `Sender.run`); the app never hears of its records.
    pub(super) fn txn_close(&mut self) {
        let Some(shell) = self.txn.as_mut() else { return };
        if shell.manager.state != ClientTxnState::InTransaction {
            return;
        }
        let _ = shell.manager.begin_abort();
        if let Some(open) = shell.open.take().filter(|_| self.embedded.is_none()) {
            let mut progress = self.world.producers[self.id as usize - 1].lock().unwrap();
            for (m, _) in open.records {
                progress.outstanding.remove(&m);
            }
        }
    }

    /// Whether the transactional side lets a closing producer exit.
    pub(super) fn txn_idle(&self) -> bool {
        self.txn.as_ref().is_none_or(|t| {
            t.in_flight.is_none()
                && !matches!(
                    t.manager.state,
                    ClientTxnState::InTransaction
                        | ClientTxnState::CommittingTransaction
                        | ClientTxnState::AbortingTransaction
                )
        })
    }
}
