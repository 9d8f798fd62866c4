//! One seed's run, start to finish: build the madsim runtime from the seed, start every process,
//! let the nemesis fire the fault steps while the workload runs (the safety phase), then the
//! final phase (heal, resume, restart, converge, drain) and the final state the checker judges.
//! Each run gets its own OS thread, because madsim keeps per-thread state.

use crate::broker::txn_index::committed_view;
use crate::broker::Broker;
use crate::client::consumer::Consumer;
use crate::client::producer::Producer;
use crate::controller::Controller;
use crate::fault::mutation::{self, Mutation};
use crate::fault::nemesis::Nemesis;
use crate::protocol::is_internal_partition;
use crate::runtime::actor;
use crate::runtime::clock::sleep;
use crate::runtime::network::NodeIdx;
use crate::runtime::world::{NodeStatus, World};
use losslab_model::config::{AppOutput, CommitStrategy, IsolationLevel, OffsetReset, OnFailure, Processing, SendMode};
use losslab_model::history::{is_out_partition, EventKind, FinalPartition, FinalReplica, NodeName, RunMeta};
use losslab_model::{FinalState, History, MsgIds, Scenario};
use madsim::runtime::{Handle, Runtime};
use madsim::time::Duration;
use std::future::Future;
use std::sync::Arc;

/// The safety phase ends at the latest after this much simulated time; steps whose triggers
/// never held by then do not fire.
pub const SAFETY_PHASE_LIMIT_S: u64 = 600;
/// The final phase must converge within this much simulated time, or the run is `stuck`.
pub const CONVERGE_LIMIT_S: u64 = 120;
const CONVERGE_POLL_MS: u64 = 100;

/// One seed's run: the recorded history, the cluster's final state, the trace hash.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub seed: u64,
    pub history: History,
    pub final_state: FinalState,
    pub trace_hash: String,
}

/// How a run is made beyond its scenario and seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// A deliberate protocol bug to turn on (`losslab explore --mutation`).
    pub mutation: Option<Mutation>,
}

/// Runs `scenario` with `seed` on a fresh OS thread (madsim keeps thread-local state).
pub fn run(scenario: &Scenario, seed: u64) -> RunOutput {
    run_with(scenario, seed, RunOptions::default())
}

/// `run` with options.
pub fn run_with(scenario: &Scenario, seed: u64, options: RunOptions) -> RunOutput {
    try_run_with(scenario, seed, options).unwrap_or_else(|message| panic!("{message}"))
}

/// `run_with`, with an assertion failure inside the simulation (a broken invariant) returned as
/// its message instead of unwinding into the caller.
pub fn try_run_with(scenario: &Scenario, seed: u64, options: RunOptions) -> Result<RunOutput, String> {
    let scenario = scenario.clone();
    std::thread::Builder::new()
        .name(format!("losslab-seed-{seed}"))
        .spawn(move || {
            mutation::set_active(options.mutation);
            run_here(scenario, seed)
        })
        .expect("spawn a simulation thread")
        .join()
        .map_err(|panic| {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into());
            format!("seed {seed}: {text}")
        })
}

/// Runs every seed, `jobs` at a time (one OS thread each), results in seed order.
pub fn run_seeds(scenario: &Scenario, seeds: &[u64], jobs: usize) -> Vec<RunOutput> {
    let items: Vec<(Scenario, u64)> = seeds.iter().map(|&s| (scenario.clone(), s)).collect();
    run_all(&items, jobs, RunOptions::default(), &|r| r.unwrap_or_else(|message| panic!("{message}")))
}

/// Runs every (scenario, seed), `jobs` at a time, each on a fresh OS thread, and hands each
/// outcome (the run, or a broken invariant as its message) to `then` on the worker that ran it;
/// `then`'s results come back in the order of `items`. Checking a run inside `then` keeps the
/// caller's thread out of the way and only the verdicts in memory.
pub fn run_all<T: Send>(
    items: &[(Scenario, u64)],
    jobs: usize,
    options: RunOptions,
    then: &(dyn Fn(Result<RunOutput, String>) -> T + Sync),
) -> Vec<T> {
    crate::runtime::pool::map(items, jobs, &|_, (scenario, seed)| then(try_run_with(scenario, *seed, options)))
}

/// Runs `count` consecutive seeds from `first_seed`, `jobs` at a time, and hands each outcome to
/// `then` on the worker that ran it; `then`'s results go to `sink` on the caller's thread in
/// seed order as they finish, so memory holds only the runs under way. Once `stop()` is true
/// no new seed starts; those under way finish and are delivered. Returns how many were.
/// The caller makes sure `first_seed + count - 1` does not overflow.
pub fn run_stream<T: Send>(
    scenario: &Scenario,
    first_seed: u64,
    count: u64,
    jobs: usize,
    stop: &(dyn Fn() -> bool + Sync),
    then: &(dyn Fn(Result<RunOutput, String>) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> u64 {
    let options = RunOptions::default();
    crate::runtime::pool::stream(count, jobs, stop, &|i| then(try_run_with(scenario, first_seed + i, options)), sink)
}

fn run_here(scenario: Scenario, seed: u64) -> RunOutput {
    let runtime = Runtime::with_seed_and_config(seed, madsim::Config::default());
    let (history, final_state) = runtime.block_on(simulate(scenario, seed));
    let trace_hash = history.trace_hash();
    RunOutput { seed, history, final_state, trace_hash }
}

/// Creates a madsim node that runs `start` now and again on every restart.
fn spawn_node<F, Fut>(name: String, start: F) -> madsim::task::NodeId
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Handle::current().create_node().name(name).init(start).build().id()
}

fn node_for(world: &Arc<World>, name: NodeName) -> madsim::task::NodeId {
    let idx = world.idx_of(name);
    let w = world.clone();
    spawn_node(name.to_string(), move || {
        let world = w.clone();
        async move {
            world.net.register(idx);
            let net = world.net.clone();
            match name {
                NodeName::Broker(b) => actor::run(Broker::start(world.clone(), b), net, idx).await,
                NodeName::Controller => actor::run(Controller::start(world.clone()), net, idx).await,
                NodeName::Producer(p) => actor::run(Producer::start(world.clone(), p), net, idx).await,
                NodeName::Consumer(c) => actor::run(Consumer::start(world.clone(), c), net, idx).await,
            }
            // The process finished a graceful shutdown and exited.
            world.node_stopped(idx);
        }
    })
}

async fn simulate(scenario: Scenario, seed: u64) -> (History, FinalState) {
    let world = World::new(scenario);
    let meta = run_meta(&world.scenario, seed);
    let mut nodes: Vec<Option<madsim::task::NodeId>> = vec![None; world.names.len()];
    world.net.prepare_all();
    for (idx, node) in nodes.iter_mut().enumerate().take(world.supervisor_idx()) {
        *node = Some(node_for(&world, world.names[idx]));
    }
    // The OS's writeback runs on a node of its own: no process crash stops it.
    let os = Handle::current().create_node().name("os").build();
    os.spawn(os_writeback(world.clone()));
    let mut madsim_nodes: Vec<madsim::task::NodeId> = nodes.iter().flatten().copied().collect();
    madsim_nodes.push(os.id());

    let mut nemesis = Nemesis::new(world.clone(), nodes);
    let steps = world.scenario.faults.clone();
    let limit_us = SAFETY_PHASE_LIMIT_S * 1_000_000;
    let fired = nemesis.run_steps(&steps, limit_us).await;
    while !workload_done(&world) && world.now_us() < limit_us {
        sleep(Duration::from_millis(CONVERGE_POLL_MS)).await;
    }
    if fired < steps.len() {
        world.record(
            NodeName::Controller,
            EventKind::Step {
                step: fired,
                action: "skipped".into(),
                detail: format!(
                    "steps {}.. never fired: their triggers did not hold within {SAFETY_PHASE_LIMIT_S} s",
                    fired + 1
                ),
            },
        );
    }

    world.record(NodeName::Controller, EventKind::FinalPhase);
    nemesis.heal_everything();
    let deadline = world.now_us() + CONVERGE_LIMIT_S * 1_000_000;
    let stuck_reason = loop {
        let missing = not_converged(&world);
        if missing.is_none() {
            break None;
        }
        if world.now_us() >= deadline {
            break missing;
        }
        sleep(Duration::from_millis(CONVERGE_POLL_MS)).await;
        nemesis.restart_stopped();
    };
    world.record(
        NodeName::Controller,
        EventKind::Converged {
            ok: stuck_reason.is_none(),
            detail: stuck_reason
                .clone()
                .unwrap_or_else(|| "every replica caught up and the group drained every partition".into()),
        },
    );
    let final_state = final_state(&world, stuck_reason);
    let history = History { meta, events: world.recorder.take() };
    tear_down(&world, &madsim_nodes).await;
    (history, final_state)
}

/// Ends every task of the run while the runtime still runs them. madsim frees a task only when
/// it runs to its end or is dropped by the executor; a task left waiting when the runtime is
/// dropped (a waker in a timer, a runnable in the ready queue) keeps the queue, the timers and
/// through its future the whole world alive: the run's memory would never be freed, and a sweep
/// of thousands of seeds would grow without bound. So: kill every node, drop the wakers the
/// inboxes hold, and let every timer still armed fire (actors never sleep longer than
/// `actor::MAX_WAIT_US`), which hands each killed task to the executor to drop.
async fn tear_down(world: &World, nodes: &[madsim::task::NodeId]) {
    for &node in nodes {
        Handle::current().kill(node);
    }
    world.net.close();
    sleep(Duration::from_micros(actor::MAX_WAIT_US) + Duration::from_secs(1)).await;
}

fn run_meta(s: &Scenario, seed: u64) -> RunMeta {
    let mut settings = std::collections::BTreeMap::new();
    settings.insert("acks".to_string(), s.producer.acks.as_kafka().to_string());
    settings.insert("enable.idempotence".to_string(), s.producer.enable_idempotence.to_string());
    settings.insert("min.insync.replicas".to_string(), s.topic.min_insync_replicas.to_string());
    settings.insert("replication.factor".to_string(), s.topic.replication_factor.to_string());
    settings.insert("unclean.leader.election.enable".to_string(), s.topic.unclean_leader_election_enable.to_string());
    let send_mode = match s.producer.app_send {
        SendMode::Callback => "callback",
        SendMode::FireAndForget => "fire-and-forget",
        SendMode::Sync => "sync",
    };
    settings.insert("app.send".to_string(), send_mode.to_string());
    let on_failure = if s.producer.app_on_failure == OnFailure::Resend { "resend" } else { "log" };
    settings.insert("app.on.failure".to_string(), on_failure.to_string());
    let in_flight = s.producer.max_in_flight_requests_per_connection;
    settings.insert("max.in.flight.requests.per.connection".to_string(), in_flight.to_string());
    settings.insert("linger.ms".to_string(), s.producer.linger_ms.to_string());
    settings.insert("request.timeout.ms".to_string(), s.producer.request_timeout_ms.to_string());
    // Before 2.1 (KIP-91) there is no delivery timeout to quote.
    if s.kafka_version.has_delivery_timeout() {
        settings.insert("delivery.timeout.ms".to_string(), s.producer.delivery_timeout_ms.to_string());
    }
    let elr = s.broker.eligible_leader_replicas_enable;
    settings.insert("eligible.leader.replicas.enable".to_string(), elr.to_string());
    let flush = s.broker.log_flush_interval_messages;
    settings.insert("log.flush.interval.messages".to_string(), flush.to_string());
    // The flush policy's time trigger and the OS writeback, which explain a power loss.
    if let Some(ms) = s.broker.log_flush_interval_ms {
        settings.insert("log.flush.interval.ms".to_string(), ms.to_string());
    }
    let scheduler = s.broker.log_flush_scheduler_interval_ms;
    settings.insert("log.flush.scheduler.interval.ms".to_string(), scheduler.to_string());
    settings.insert("os.dirty.expire.ms".to_string(), s.broker.os_dirty_expire_ms.to_string());
    if s.workload.consumers > 0 {
        consumer_settings(s, &mut settings);
    }
    txn_settings(s, &mut settings);
    RunMeta {
        scenario: s.name.clone(),
        seed,
        kafka_version: s.kafka_version.to_string(),
        producers: s.workload.producers,
        consumers: s.workload.consumers,
        settings,
    }
}

/// The transactional settings the checker's explanations quote (issue 16), only for runs that
/// use transactions, so that other runs' metadata is unchanged.
fn txn_settings(s: &Scenario, settings: &mut std::collections::BTreeMap<String, String>) {
    let c = &s.consumer;
    let reads_committed = s.workload.consumers > 0 && c.isolation_level == IsolationLevel::ReadCommitted;
    let pipeline = s.workload.consumers > 0 && c.app_output != AppOutput::None;
    let tid = s.producer.transactional_id.as_ref().filter(|_| s.workload.producers > 0);
    if tid.is_none() && !reads_committed && !pipeline {
        return;
    }
    if let Some(tid) = tid {
        settings.insert("transactional.id".to_string(), tid.clone());
    }
    settings.insert("kafka.version".to_string(), s.kafka_version.to_string());
    if s.workload.consumers > 0 {
        let level = if reads_committed { "read_committed" } else { "read_uncommitted" };
        settings.insert("isolation.level".to_string(), level.to_string());
        let output = match c.app_output {
            AppOutput::None => "none",
            AppOutput::Plain => "plain",
            AppOutput::Transactional => "transactional",
        };
        settings.insert("app.output".to_string(), output.to_string());
    }
}

/// The consumer settings the checker quotes when it explains the group's findings.
fn consumer_settings(s: &Scenario, settings: &mut std::collections::BTreeMap<String, String>) {
    let c = &s.consumer;
    let processing = if c.app_processing == Processing::Async { "async" } else { "sync" };
    let commit = match c.app_commit {
        CommitStrategy::None => "none",
        CommitStrategy::AfterProcess => "after-process",
        CommitStrategy::BeforeProcess => "before-process",
    };
    let reset = match c.auto_offset_reset {
        OffsetReset::Earliest => "earliest",
        OffsetReset::Latest => "latest",
        OffsetReset::None => "none",
    };
    let pairs = [
        ("enable.auto.commit", c.enable_auto_commit.to_string()),
        ("auto.commit.interval.ms", c.auto_commit_interval_ms.to_string()),
        ("auto.offset.reset", reset.to_string()),
        ("max.poll.records", c.max_poll_records.to_string()),
        ("max.poll.interval.ms", c.max_poll_interval_ms.to_string()),
        ("session.timeout.ms", c.session_timeout_ms.to_string()),
        ("app.processing", processing.to_string()),
        ("app.workers", c.app_workers.to_string()),
        ("app.process.ms", c.app_process_ms.to_string()),
        ("app.commit", commit.to_string()),
    ];
    for (k, v) in pairs {
        settings.insert(k.to_string(), v);
    }
}

/// The OS of every broker machine: every `os.dirty.writeback.ms` its flusher thread hands the
/// files dirty for `os.dirty.expire.ms` to the device (`Disk::start_writeback`), whether or not
/// the Kafka process runs (but not while the machine is off after a power crash); in between,
/// the device completes those requests one by one, and a file whose writeback finished gets a
/// `Flush` event by `os writeback`. The task sleeps until the next pass or the next completion,
/// whichever comes first.
async fn os_writeback(world: Arc<World>) {
    let b = &world.scenario.broker;
    let period_us = b.os_dirty_writeback_ms.clamp(1, 3_600_000) * 1000;
    let expire_us = b.os_dirty_expire_ms.saturating_mul(1000);
    let (order, record_bytes) = (b.os_writeback_order, world.scenario.workload.message_bytes);
    let mut next_pass_us = period_us;
    loop {
        let next_done_us = world.disks.iter().filter_map(|d| d.lock().unwrap().next_completion_us()).min();
        let wake_us = next_done_us.map_or(next_pass_us, |d| d.min(next_pass_us));
        sleep(Duration::from_micros(wake_us.saturating_sub(world.now_us()))).await;
        let now = world.now_us();
        for (i, disk) in world.disks.iter().enumerate() {
            let finished = {
                let mut disk = disk.lock().unwrap();
                if now >= next_pass_us {
                    // What completed before the pass is on the platter before it starts.
                    let finished = disk.complete_writes(now);
                    disk.start_writeback(now, expire_us, order, record_bytes, &mut madsim::rand::thread_rng());
                    finished
                } else {
                    disk.complete_writes(now)
                }
            };
            for (partition, durable_offset) in finished {
                let broker = i as u32 + 1;
                world.record(
                    NodeName::Broker(broker),
                    EventKind::Flush { broker, partition, durable_offset, by: "os writeback".into() },
                );
            }
        }
        if now >= next_pass_us {
            next_pass_us += period_us;
        }
    }
}

fn workload_done(world: &World) -> bool {
    let messages = world.scenario.workload.messages;
    world.producers.iter().enumerate().all(|(i, p)| {
        let p = p.lock().unwrap();
        let idx: NodeIdx = world.producer_idx(i as u32 + 1);
        matches!(world.status_of(idx), NodeStatus::Crashed | NodeStatus::Stopped)
            || (p.next_seq >= messages && p.outstanding.is_empty() && p.to_resend.is_empty() && p.replay.is_empty())
    })
}

/// `None` once the cluster has converged, else what is still missing.
fn not_converged(world: &World) -> Option<String> {
    if !workload_done(world) {
        return Some("producers still have records without an outcome".into());
    }
    let store = world.controller.lock().unwrap().clone();
    let observed = world.observed.lock().unwrap().clone();
    let mut high_watermarks = std::collections::BTreeMap::new();
    // `__consumer_offsets` is judged by what it serves: a group that drains every partition
    // (and `__transaction_state` by the transactions it completes).
    for (&p, st) in store.partitions.iter().filter(|(&p, _)| !is_internal_partition(p)) {
        let Some(leader) = st.leader else {
            return Some(format!("partition {p} has no leader"));
        };
        let Some(lobs) = observed.get(&(leader, p)).filter(|o| o.is_leader && o.leader_epoch == st.leader_epoch) else {
            return Some(format!("b{leader} does not yet act as leader of partition {p} in epoch {}", st.leader_epoch));
        };
        let leo =
            |b: u32| world.disks[b as usize - 1].lock().unwrap().logs.get(&p).map_or(0, |s| s.log.log_end_offset());
        let leader_leo = leo(leader);
        if lobs.high_watermark < leader_leo {
            return Some(format!(
                "partition {p}: the high watermark {} is below the leader's log end {leader_leo}",
                lobs.high_watermark
            ));
        }
        for &r in &st.replicas {
            if !st.isr.contains(&r) {
                return Some(format!("partition {p}: b{r} is not in the ISR {:?}", st.isr));
            }
            if leo(r) != leader_leo {
                return Some(format!("partition {p}: b{r} has not caught up with the leader"));
            }
        }
        high_watermarks.insert(p, lobs.high_watermark);
    }
    if world.scenario.workload.consumers > 0 {
        return group_not_drained(world, &high_watermarks);
    }
    None
}

/// `None` once the group has drained every partition: its running consumers are stable members
/// of one generation, and each partition is assigned to one of them, whose app has processed it
/// up to the high watermark.
fn group_not_drained(world: &World, high_watermarks: &std::collections::BTreeMap<u32, u64>) -> Option<String> {
    let mut generation = None;
    let mut owners = std::collections::BTreeMap::new();
    for (i, progress) in world.consumers.iter().enumerate() {
        let c = i as u32 + 1;
        if world.status_of(world.consumer_idx(c)) != NodeStatus::Up {
            continue;
        }
        let progress = progress.lock().unwrap();
        let Some(g) = progress.generation else {
            return Some(format!("c{c} is not a stable member of the group yet"));
        };
        match generation {
            Some(other) if other != g => {
                return Some(format!("the group's consumers are in different generations ({other} and {g})"))
            }
            _ => generation = Some(g),
        }
        for (&p, &done) in &progress.processed_to {
            owners.insert(p, (c, done));
        }
    }
    for p in world.topic_partitions() {
        let hw = high_watermarks.get(&p).copied().unwrap_or(0);
        match owners.get(&p) {
            None => return Some(format!("no consumer has a position on partition {p} yet")),
            Some(&(c, done)) if done < hw => {
                return Some(format!("c{c} has processed partition {p} up to {done} of {hw}"))
            }
            _ => {}
        }
    }
    None
}

fn final_state(world: &World, stuck_reason: Option<String>) -> FinalState {
    let store = world.controller.lock().unwrap().clone();
    let observed = world.observed.lock().unwrap().clone();
    let (out, partitions): (Vec<FinalPartition>, Vec<FinalPartition>) = store
        .partitions
        .values()
        .filter(|st| !is_internal_partition(st.partition))
        .map(|st| {
            let p = st.partition;
            // Replicas that converged hold the same records: they share one copy (a
            // 1,000,000-message run would otherwise keep one per replica).
            let mut distinct: Vec<MsgIds> = Vec::new();
            let replicas: Vec<FinalReplica> = st
                .replicas
                .iter()
                .map(|&b| {
                    let disk = world.disks[b as usize - 1].lock().unwrap();
                    let records = disk.logs.get(&p).map(|s| s.log.all_records()).unwrap_or_default();
                    let log = distinct.iter().find(|d| d[..] == records[..]).cloned().unwrap_or_else(|| {
                        let shared: MsgIds = records.into();
                        distinct.push(shared.clone());
                        shared
                    });
                    let hw = observed.get(&(b, p)).map_or(0, |o| o.high_watermark).min(log.len() as u64);
                    FinalReplica { broker: b, log_end_offset: log.len() as u64, high_watermark: hw, log }
                })
                .collect();
            let leader = st.leader.and_then(|l| replicas.iter().find(|r| r.broker == l));
            let mut log: MsgIds = leader
                .map(|r| match r.high_watermark as usize {
                    hw if hw == r.log.len() => r.log.clone(),
                    hw => r.log[..hw].into(),
                })
                .unwrap_or_default();
            let (mut offsets, mut uncommitted) = (Vec::new(), Vec::new());
            if let (Some(r), true) = (leader, world.transactions_on()) {
                // Markers and uncommitted transactional records are not stored records.
                let disk = world.disks[r.broker as usize - 1].lock().unwrap();
                if let Some(s) = disk.logs.get(&p) {
                    let committed;
                    (committed, offsets, uncommitted) = committed_view(s.log.batches(), r.high_watermark);
                    log = committed.into();
                }
            }
            FinalPartition {
                partition: p,
                leader: st.leader,
                leader_epoch: st.leader_epoch,
                isr: st.isr.clone(),
                log,
                replicas,
                offsets,
                uncommitted,
            }
        })
        .partition(|fp| is_out_partition(fp.partition));
    FinalState { partitions, stuck: stuck_reason.is_some(), stuck_reason, end_us: world.now_us(), out }
}
