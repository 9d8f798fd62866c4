//! The auto-commit a member makes before it rejoins its group (Kafka's
//! `ConsumerCoordinator.onJoinPrepare`), as a pure state machine: the join waits for that commit,
//! retrying retriable errors, until the rebalance timeout (`max.poll.interval.ms`) runs out.
//! 0.10.1-3.1 do it synchronously inside `poll()` (`maybeAutoCommitOffsetsSync(timer)`); 3.2.1+
//! send it asynchronously and postpone the join across polls until it completed, failed for good
//! or the timer expired (KAFKA-13310, KAFKA-14024). Either way the JoinGroup waits, so the commit
//! is not lost in a race with the member's own revocation (audit row C8). The async shell in
//! `membership` sends the commits and calls [`JoinPrepare::on_result`].

use crate::protocol::KafkaError;

/// What the member does after an answer to its join-prepare commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinPrepareStep {
    /// Go on with the join (`onJoinPrepare` returns true).
    Rejoin,
    /// Commit again after `retry.backoff.ms` (`onJoinPrepare` returns false);
    /// `coordinator_unknown`: the error also marked the coordinator unknown.
    Retry { coordinator_unknown: bool },
    /// The commit is still in flight: wait for it (`onJoinPrepare` returns false).
    Wait,
}

/// The join-prepare of one rebalance: started when the member decides to rejoin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinPrepare {
    deadline_us: u64,
}

impl JoinPrepare {
    /// `joinPrepareTimer = time.timer(rebalanceTimeoutMs)`.
    pub fn new(now_us: u64, rebalance_timeout_ms: u64) -> JoinPrepare {
        JoinPrepare { deadline_us: now_us.saturating_add(rebalance_timeout_ms.saturating_mul(1000)) }
    }

    pub fn deadline_us(&self) -> u64 {
        self.deadline_us
    }

    /// The commit answered `result` (or did not answer in time: `RequestTimedOut`) at `now_us`.
    /// Success and non-retriable errors let the join go on (the commit's failure is logged, as
    /// `maybeAutoCommitOffsetsSync` swallows it); a retriable one retries until the timer
    /// expires, then the join goes on without the commit.
    pub fn on_result(&self, now_us: u64, result: Result<(), KafkaError>) -> JoinPrepareStep {
        let Err(e) = result else { return JoinPrepareStep::Rejoin };
        if !is_retriable(e) || now_us >= self.deadline_us {
            return JoinPrepareStep::Rejoin;
        }
        JoinPrepareStep::Retry { coordinator_unknown: marks_coordinator_unknown(e) }
    }

    /// The commit has no answer yet at `now_us`: wait, unless the timer expired ("joinPrepare
    /// timeout. Will continue to join group": the join goes on without it).
    pub fn on_pending(&self, now_us: u64) -> JoinPrepareStep {
        if now_us >= self.deadline_us {
            JoinPrepareStep::Rejoin
        } else {
            JoinPrepareStep::Wait
        }
    }
}

/// `RetriableCommitFailedException` causes (`OffsetCommitResponseHandler`): the coordinator
/// moved or is loading, the partition is unknown for now, the request timed out or the
/// connection broke. UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS and
/// FENCED_INSTANCE_ID end the attempt.
pub fn is_retriable(e: KafkaError) -> bool {
    !matches!(
        e,
        KafkaError::UnknownMemberId
            | KafkaError::IllegalGeneration
            | KafkaError::RebalanceInProgress
            | KafkaError::FencedInstanceId
    )
}

/// `markCoordinatorUnknown` on COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, a timeout or a
/// broken connection.
pub fn marks_coordinator_unknown(e: KafkaError) -> bool {
    matches!(
        e,
        KafkaError::CoordinatorNotAvailable
            | KafkaError::NotCoordinator
            | KafkaError::NetworkException
            | KafkaError::ClientRequestTimeout
            | KafkaError::RequestTimedOut
    )
}
