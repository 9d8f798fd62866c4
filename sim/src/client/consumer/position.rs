//! A consumer's position on one assigned partition, as Kafka's `SubscriptionState`
//! (`TopicPartitionState`, `FetchStates`, `FetchPosition`) keeps it: a pure state machine, so
//! that KIP-320's truncation detection (2.3) can be tested on its own (tests/conformance,
//! `SubscriptionStateTest`). A position is an offset, the leader epoch of the record before it
//! (`offset_epoch`: the last consumed batch's epoch, or the epoch stored with a committed
//! offset) and the leader it was last checked against. When the leader or its epoch changes,
//! or after a seek to a committed offset that carries an epoch, the position awaits validation:
//! no fetch until OffsetsForLeaderEpoch says where the position's epoch ends on the leader
//! (`maybe_complete_validation`). An end below the position means the log was truncated under
//! the consumer: with a reset policy the position moves back to that end (`seekValidated`), with
//! `auto.offset.reset=none` the truncation is raised (LogTruncationException). The async shell
//! (`validation`) sends the requests and acts on the outcomes.

/// `Metadata.LeaderAndEpoch`: a partition's leader and its epoch, as the client knows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaderAndEpoch {
    pub leader: Option<u32>,
    pub epoch: Option<u32>,
}

/// `SubscriptionState.FetchPosition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchPosition {
    pub offset: u64,
    pub offset_epoch: Option<u32>,
    pub current_leader: LeaderAndEpoch,
}

/// `SubscriptionState.FetchStates`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchState {
    /// No position yet (assigned, committed offset not loaded).
    Initializing,
    /// A valid position: fetches go out.
    Fetching,
    /// The position is to be reset per `auto.offset.reset`.
    AwaitReset,
    /// The position waits for OffsetsForLeaderEpoch.
    AwaitValidation,
}

impl FetchState {
    /// `FetchState.validTransitions`: a reset cannot go straight to validation.
    fn can_become(self, next: FetchState) -> bool {
        !(self == FetchState::AwaitReset && matches!(next, FetchState::Initializing | FetchState::AwaitValidation))
            && next != FetchState::Initializing
    }

    fn requires_position(self) -> bool {
        matches!(self, FetchState::Fetching | FetchState::AwaitValidation)
    }
}

/// `auto.offset.reset` as `SubscriptionState` holds it (`OffsetResetStrategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetPolicy {
    Earliest,
    Latest,
    None,
}

/// An OffsetsForLeaderEpoch answer (`EpochEndOffset`): `None` is UNDEFINED (the leader has no
/// epoch at or below the one asked for).
pub type EpochEndOffset = Option<(u32, u64)>;

/// `SubscriptionState.LogTruncation`: what `poll()` throws as LogTruncationException.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogTruncation {
    pub fetch_position: FetchPosition,
    /// The first offset known to diverge and its epoch; `None` when the leader could not say.
    pub divergent: Option<(u64, u32)>,
}

/// What completing a validation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validation {
    /// The answer was for another position, or none is awaited: nothing changed.
    Ignored,
    /// The leader's log reaches the position: fetching resumes there.
    Valid,
    /// The log was truncated below the position: it moved back to `offset` (the first offset
    /// known to diverge).
    SeekBack { from: u64, offset: u64, epoch: u32 },
    /// The leader could not place the epoch: the position is reset per policy.
    Reset,
    /// Truncated, and no reset policy: `poll()` throws.
    Truncated(LogTruncation),
}

/// `SubscriptionState.TopicPartitionState`, the part KIP-320 needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionPosition {
    state: FetchState,
    position: Option<FetchPosition>,
    reset: Option<ResetPolicy>,
}

impl Default for PartitionPosition {
    fn default() -> Self {
        PartitionPosition { state: FetchState::Initializing, position: None, reset: None }
    }
}

impl PartitionPosition {
    pub fn state(&self) -> FetchState {
        self.state
    }

    /// The position, valid or awaiting validation.
    pub fn position(&self) -> Option<FetchPosition> {
        self.position
    }

    /// The offset fetches start at, only while the position is valid (`isFetchable`).
    pub fn valid_offset(&self) -> Option<u64> {
        self.has_valid_position().then(|| self.position.map(|p| p.offset)).flatten()
    }

    pub fn has_valid_position(&self) -> bool {
        self.state == FetchState::Fetching
    }

    pub fn awaiting_validation(&self) -> bool {
        self.state == FetchState::AwaitValidation
    }

    pub fn awaiting_reset(&self) -> bool {
        self.state == FetchState::AwaitReset
    }

    pub fn reset_policy(&self) -> Option<ResetPolicy> {
        self.reset
    }

    /// `transitionState`: only valid transitions happen; a state without a position drops it.
    fn transition(&mut self, next: FetchState, position: Option<FetchPosition>) -> bool {
        if !self.state.can_become(next) {
            return false;
        }
        self.state = next;
        if let Some(p) = position {
            self.position = Some(p);
        }
        if !next.requires_position() {
            self.position = None;
        }
        assert!(
            !next.requires_position() || self.position.is_some(),
            "{next:?} needs a position (SubscriptionState throws IllegalStateException)"
        );
        true
    }

    /// `seekValidated`: fetch from `position` without checking it.
    pub fn seek_validated(&mut self, position: FetchPosition) {
        if self.transition(FetchState::Fetching, Some(position)) {
            self.reset = None;
        }
    }

    /// `seekUnvalidated`: seek, then validate if the position has an epoch and the leader's
    /// epoch is known (a committed offset loaded with its epoch).
    pub fn seek_unvalidated(&mut self, position: FetchPosition) {
        self.seek_validated(position);
        self.validate(position);
    }

    /// `validatePosition`.
    fn validate(&mut self, position: FetchPosition) {
        if position.offset_epoch.is_some() && position.current_leader.epoch.is_some() {
            self.transition(FetchState::AwaitValidation, Some(position));
        } else {
            self.transition(FetchState::Fetching, Some(position));
        }
    }

    /// The consumer moved past records it returned: the new offset and the epoch of the batch
    /// they came from (`SubscriptionState.position(tp, position)`: only a valid position moves).
    pub fn advance(&mut self, offset: u64, offset_epoch: Option<u32>) {
        assert!(self.has_valid_position(), "poll() returned records of a partition without a valid position");
        let p = self.position.as_mut().expect("a valid position");
        assert!(offset >= p.offset, "a position moves forward only ({} -> {offset})", p.offset);
        p.offset = offset;
        p.offset_epoch = offset_epoch.or(p.offset_epoch);
    }

    /// `maybeValidatePosition`: the metadata names `leader` for the partition. A position
    /// checked against another leader or epoch is validated again. True if it now awaits
    /// validation.
    pub fn maybe_validate_for_leader(&mut self, leader: LeaderAndEpoch) -> bool {
        if self.state == FetchState::AwaitReset || leader.leader.is_none() {
            return false;
        }
        if let Some(p) = self.position.filter(|p| p.current_leader != leader) {
            self.validate(FetchPosition { current_leader: leader, ..p });
        }
        self.awaiting_validation()
    }

    /// `updatePositionLeaderNoValidation`: a client without KIP-320 (before 2.3) follows the
    /// leader without checking its position.
    pub fn update_leader_no_validation(&mut self, leader: LeaderAndEpoch) {
        if let Some(p) = self.position.as_mut() {
            p.current_leader = leader;
        }
    }

    /// `completeValidation`.
    pub fn complete_validation(&mut self) {
        if self.position.is_some() {
            self.transition(FetchState::Fetching, None);
        }
    }

    /// `requestOffsetReset`.
    pub fn request_reset(&mut self, policy: ResetPolicy) {
        if self.transition(FetchState::AwaitReset, None) {
            self.reset = Some(policy);
        }
    }

    /// `maybeCompleteValidation`: the leader's answer to OffsetsForLeaderEpoch for the position
    /// `requested` (as it was when the request went out). `policy` is `auto.offset.reset`.
    pub fn maybe_complete_validation(
        &mut self,
        requested: FetchPosition,
        answer: EpochEndOffset,
        policy: ResetPolicy,
    ) -> Validation {
        if !self.awaiting_validation() || self.position != Some(requested) {
            return Validation::Ignored;
        }
        let current = requested;
        match answer {
            None if policy != ResetPolicy::None => {
                self.request_reset(policy);
                Validation::Reset
            }
            None => Validation::Truncated(LogTruncation { fetch_position: requested, divergent: None }),
            Some((epoch, end)) if end < current.offset => {
                if policy != ResetPolicy::None {
                    let back = FetchPosition { offset: end, offset_epoch: Some(epoch), ..current };
                    self.seek_validated(back);
                    Validation::SeekBack { from: current.offset, offset: end, epoch }
                } else {
                    Validation::Truncated(LogTruncation { fetch_position: requested, divergent: Some((end, epoch)) })
                }
            }
            Some(_) => {
                self.complete_validation();
                Validation::Valid
            }
        }
    }
}
