//! The broker process's life with the controller: registration after log recovery, heartbeats
//! (KRaft) or session pings (ZooKeeper), and the controlled shutdown `kafka-server-stop.sh`
//! starts.
//!
//! - Registration (KRaft `BrokerLifecycleManager`, ZooKeeper `KafkaServer.startup`): a refusal
//!   means the earlier incarnation's session is still valid. KRaft retries with a backoff from
//!   100 ms, doubling up to `broker.session.timeout.ms`. In ZooKeeper mode the broker cannot
//!   create its znode (NODEEXISTS), shuts down in order (its logs flushed and marked clean) and
//!   exits; a supervisor starts it again a second later. Here the process stays and does the same
//!   thing: flush, mark clean, retry after `SUPERVISOR_RESTART_MS`.
//! - Controlled shutdown: KRaft heartbeats with `wantShutDown` until the controller says it leads
//!   nothing; ZooKeeper sends ControlledShutdown and retries (3 times, 5 s apart) while partitions
//!   remain, then proceeds anyway. Then `LogManager.shutdown`: every log flushed, high watermarks
//!   checkpointed, the clean-shutdown marker written; a ZooKeeper-mode broker closes its session,
//!   and the process exits.

use super::node::{
    Broker, Lifecycle, Timer, CONTROLLED_SHUTDOWN_BACKOFF_MS, CONTROLLED_SHUTDOWN_RETRIES, REGISTER_BACKOFF_MS,
    SUPERVISOR_RESTART_MS,
};
use crate::protocol::{KafkaError, Msg};
use crate::runtime::actor::Actor;
use losslab_model::config::MetadataMode;
use losslab_model::history::EventKind;
use std::collections::BTreeSet;

impl Broker {
    fn kraft(&self) -> bool {
        self.world.scenario.broker.metadata_mode == MetadataMode::KRaft
    }

    /// KRaft heartbeats every `broker.heartbeat.interval.ms`; a ZooKeeper client pings its
    /// session every third of the session timeout.
    fn heartbeat_interval_us(&self) -> u64 {
        let b = &self.world.scenario.broker;
        let ms =
            if self.kraft() { b.broker_heartbeat_interval_ms } else { (b.zookeeper_session_timeout_ms / 3).max(1) };
        ms.saturating_mul(1000)
    }

    pub(super) fn send_registration(&mut self) {
        if !matches!(self.lifecycle, Lifecycle::Registering { .. }) {
            return;
        }
        let msg = Msg::Register { broker: self.id, incarnation: self.incarnation, clean_epoch: self.clean_epoch };
        self.send(self.world.controller_idx(), msg);
    }

    /// The registration was refused, or could not reach the controller: try again later.
    pub(super) fn retry_registration(&mut self) {
        let Lifecycle::Registering { attempt } = self.lifecycle else { return };
        self.lifecycle = Lifecycle::Registering { attempt: attempt + 1 };
        let now = self.now_us();
        let delay_ms = if self.kraft() {
            let cap = self.world.scenario.broker.broker_session_timeout_ms;
            REGISTER_BACKOFF_MS.saturating_mul(1u64 << attempt.min(30)).min(cap)
        } else {
            SUPERVISOR_RESTART_MS
        };
        self.timers.at(now.saturating_add(delay_ms.saturating_mul(1000)), Timer::Register);
    }

    pub(super) fn on_register_response(&mut self, result: Result<(), KafkaError>) {
        if !matches!(self.lifecycle, Lifecycle::Registering { .. }) {
            return;
        }
        match result {
            Ok(()) => {
                // The controller sent the partition states before this answer, so they are in:
                // the first heartbeat tells it the broker has caught up.
                self.lifecycle = Lifecycle::Running;
                self.on_heartbeat();
            }
            Err(_) => {
                if !self.kraft() {
                    // NODEEXISTS: `KafkaServer` shuts down in order before it exits.
                    self.flush_everything("shutdown after a failed registration");
                    // The supervisor's restart reads and deletes the marker at once: a power cut
                    // after it is an unclean shutdown again.
                    self.clean_epoch = self.world.disks[self.id as usize - 1].lock().unwrap().take_clean_marker();
                }
                self.retry_registration();
            }
        }
    }

    pub(super) fn on_heartbeat(&mut self) {
        let want_shutdown = matches!(self.lifecycle, Lifecycle::ShuttingDown { .. }) && self.kraft();
        if matches!(self.lifecycle, Lifecycle::Registering { .. } | Lifecycle::Stopped) {
            return;
        }
        let msg = Msg::Heartbeat { broker: self.id, incarnation: self.incarnation, want_fence: false, want_shutdown };
        self.send(self.world.controller_idx(), msg);
        let now = self.now_us();
        let period = self.heartbeat_interval_us();
        self.timers.at(now.saturating_add(period), Timer::Heartbeat);
    }

    /// The brokers the controller reports fenced or shutting down, for every replica.
    pub(super) fn note_ineligible(&mut self, ineligible: Vec<u32>) {
        let ineligible: BTreeSet<u32> = ineligible.into_iter().collect();
        let mut moved = Vec::new();
        for r in self.replicas.values_mut() {
            r.set_ineligible(ineligible.clone());
        }
        // From 3.6 a fenced follower no longer holds the high watermark back.
        let leaders: Vec<u32> = self.replicas.iter().filter(|(_, r)| r.is_leader()).map(|(&p, _)| p).collect();
        for p in leaders {
            if let Some(Some(hw)) = self.with_log(p, |r, s| r.maybe_increment_hw(&s.log)) {
                moved.push((p, hw));
            }
        }
        for (partition, hw) in moved {
            self.record(EventKind::HighWatermark { broker: self.id, partition, hw });
            self.after_hw_or_isr_change(partition);
        }
    }

    pub(super) fn on_heartbeat_response(&mut self, shut_down_now: bool, ineligible: Vec<u32>) {
        self.note_ineligible(ineligible);
        if shut_down_now && matches!(self.lifecycle, Lifecycle::ShuttingDown { .. }) && self.kraft() {
            self.finish_shutdown();
        }
    }

    /// An operator stops the broker (`kafka-server-stop.sh`, SIGTERM).
    pub(super) fn on_stop(&mut self) {
        match self.lifecycle {
            Lifecycle::Running if self.kraft() => {
                self.lifecycle = Lifecycle::ShuttingDown { retries_left: 0 };
                self.on_heartbeat();
            }
            Lifecycle::Running => {
                self.lifecycle = Lifecycle::ShuttingDown { retries_left: CONTROLLED_SHUTDOWN_RETRIES };
                self.send_controlled_shutdown();
            }
            Lifecycle::Registering { .. } => self.finish_shutdown(),
            Lifecycle::ShuttingDown { .. } | Lifecycle::Stopped => {}
        }
    }

    fn send_controlled_shutdown(&mut self) {
        let msg = Msg::ControlledShutdown { broker: self.id, incarnation: self.incarnation };
        self.send(self.world.controller_idx(), msg);
        let now = self.now_us();
        self.timers.at(now.saturating_add(CONTROLLED_SHUTDOWN_BACKOFF_MS * 1000), Timer::ControlledShutdownRetry);
    }

    /// ZooKeeper mode: the controller moved what it could; what remains is retried, up to
    /// `controlled.shutdown.max.retries`, then the broker shuts down anyway.
    pub(super) fn on_controlled_shutdown_response(&mut self, remaining: Vec<u32>) {
        if !matches!(self.lifecycle, Lifecycle::ShuttingDown { .. }) {
            return;
        }
        if remaining.is_empty() {
            self.finish_shutdown();
        }
    }

    pub(super) fn on_controlled_shutdown_retry(&mut self) {
        let Lifecycle::ShuttingDown { retries_left } = self.lifecycle else { return };
        if self.kraft() {
            return;
        }
        if retries_left == 0 {
            self.finish_shutdown();
            return;
        }
        self.lifecycle = Lifecycle::ShuttingDown { retries_left: retries_left - 1 };
        self.send_controlled_shutdown();
    }

    /// `KafkaServer.shutdown` after the leaderships moved: `LogManager.shutdown` flushes every
    /// log and writes the clean-shutdown marker, the high watermarks are checkpointed, and a
    /// ZooKeeper-mode broker closes its session; then the process exits.
    fn finish_shutdown(&mut self) {
        self.flush_everything("clean shutdown");
        self.on_hw_checkpoint();
        if !self.kraft() {
            let msg = Msg::SessionClosed { broker: self.id, incarnation: self.incarnation };
            self.send(self.world.controller_idx(), msg);
        }
        self.lifecycle = Lifecycle::Stopped;
        self.record(EventKind::CleanShutdown { broker: self.id });
    }

    /// `LogManager.shutdown`: every log flushed, the clean-shutdown marker written with this
    /// incarnation's broker epoch.
    fn flush_everything(&mut self, by: &str) {
        let now = self.now_us();
        let flushed = self.world.disks[self.id as usize - 1].lock().unwrap().shut_down_cleanly(self.incarnation, now);
        for (partition, durable_offset) in flushed {
            self.record_flush(partition, Some(durable_offset), by);
        }
    }
}
