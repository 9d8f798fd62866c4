//! The simulated network: one mailbox per node, point-to-point messages with a latency drawn
//! from the seed, and cuts. Links are FIFO, as Kafka's TCP connections are: a message never
//! overtakes an earlier one on the same link, so any reordering a run shows comes from the
//! protocol (retries), never from the wire. A cut drops messages at send time and messages
//! still in flight when they would arrive; a dead node's mailbox drops what reaches it, so a
//! restarted node never sees messages meant for its earlier incarnation.

use crate::protocol::Msg;
use madsim::rand::Rng;
use madsim::runtime::NodeHandle;
use madsim::time::{sleep_until, Duration, Instant, TimeHandle};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// A node's index in the run (see `world::World::name_of`).
pub type NodeIdx = usize;

/// A message with its sender.
#[derive(Debug)]
pub struct Envelope {
    pub from: NodeIdx,
    pub msg: Msg,
}

pub type Mailbox = UnboundedReceiver<Envelope>;

struct Links {
    mailboxes: Vec<Option<UnboundedSender<Envelope>>>,
    /// Mailboxes opened before their node's first start, so that nothing sent at time zero is
    /// lost to the order in which processes happen to start.
    prepared: Vec<Option<Mailbox>>,
    /// Nodes whose process is dead while their machine is up: connections to them are
    /// refused at once instead of timing out.
    refusing: BTreeSet<NodeIdx>,
    /// Directed cuts: (from, to) drops every message from `from` to `to`.
    cuts: BTreeSet<(NodeIdx, NodeIdx)>,
    /// Per directed link, when its last message arrives: keeps links FIFO.
    last_arrival: Vec<Vec<Option<Instant>>>,
}

pub struct Network {
    links: Mutex<Links>,
    latency_us: (u64, u64),
    /// The runtime's clock, held directly (cheaper than `Instant::now()` under madsim).
    clock: TimeHandle,
    /// Deliveries run on the supervisor node, so that a paused or crashed sender does not
    /// hold back what it already put on the wire.
    wire: NodeHandle,
}

impl Network {
    pub fn new(nodes: usize, latency_ms_min: u64, latency_ms_max: u64, wire: NodeHandle) -> Self {
        Network {
            links: Mutex::new(Links {
                mailboxes: (0..nodes).map(|_| None).collect(),
                prepared: (0..nodes).map(|_| None).collect(),
                cuts: BTreeSet::new(),
                refusing: BTreeSet::new(),
                last_arrival: vec![vec![None; nodes]; nodes],
            }),
            latency_us: (latency_ms_min.saturating_mul(1000), latency_ms_max.saturating_mul(1000)),
            clock: TimeHandle::current(),
            wire,
        }
    }

    /// Opens every node's first mailbox before any process starts.
    pub fn prepare_all(&self) {
        let mut links = self.links.lock().unwrap();
        for node in 0..links.mailboxes.len() {
            let (tx, rx) = unbounded_channel();
            links.mailboxes[node] = Some(tx);
            links.prepared[node] = Some(rx);
        }
    }

    /// The mailbox of a node's new incarnation: the prepared one on its first start, else a
    /// fresh one (the old one, if any, is closed).
    pub fn register(&self, node: NodeIdx) -> Mailbox {
        let mut links = self.links.lock().unwrap();
        links.refusing.remove(&node);
        if let Some(rx) = links.prepared[node].take() {
            return rx;
        }
        let (tx, rx) = unbounded_channel();
        links.mailboxes[node] = Some(tx);
        rx
    }

    /// Closes a node's mailbox (the node died): messages to it are dropped from now on. With
    /// `machine_up` (a process crash) its OS refuses connections and resets the open ones:
    /// every other node is told, as a TCP reset would.
    pub fn unregister(self: &Arc<Self>, node: NodeIdx, machine_up: bool) {
        let peers: Vec<NodeIdx> = {
            let mut links = self.links.lock().unwrap();
            links.mailboxes[node] = None;
            links.prepared[node] = None;
            if machine_up {
                links.refusing.insert(node);
            } else {
                links.refusing.remove(&node);
            }
            (0..links.mailboxes.len()).filter(|&i| i != node && machine_up).collect()
        };
        for peer in peers {
            self.send(node, peer, Msg::PeerDown { peer: node });
        }
    }

    /// Sends `msg` from `from` to `to`. Dropped if the link is cut (now or on arrival) or the
    /// receiver is dead; refused at once (a `Msg::Refused` back to the sender) if the receiver's
    /// process is dead on a machine that is up.
    pub fn send(self: &Arc<Self>, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let mut links = self.links.lock().unwrap();
        if links.cuts.contains(&(from, to)) {
            return;
        }
        match links.mailboxes[to].clone() {
            Some(tx) => self.deliver_later(&mut links, from, to, tx, msg),
            None if links.refusing.contains(&to) && !matches!(msg, Msg::Refused { .. } | Msg::PeerDown { .. }) => {
                // The receiver's OS answers for it: connection refused.
                let Some(back) = links.mailboxes[from].clone() else { return };
                self.deliver_later(&mut links, to, from, back, Msg::Refused { to, msg: Box::new(msg) });
            }
            None => {}
        }
    }

    /// Puts `msg` on the wire from `from` to `to`, arriving after a latency drawn from the seed
    /// and never before the link's previous message.
    fn deliver_later(
        self: &Arc<Self>,
        links: &mut Links,
        from: NodeIdx,
        to: NodeIdx,
        tx: UnboundedSender<Envelope>,
        msg: Msg,
    ) {
        let (lo, hi) = self.latency_us;
        let latency_us = if hi > lo { madsim::rand::thread_rng().gen_range(lo..=hi) } else { lo };
        let mut arrival = self.clock.now_instant() + Duration::from_micros(latency_us);
        if let Some(last) = links.last_arrival[from][to] {
            arrival = arrival.max(last + Duration::from_micros(1));
        }
        links.last_arrival[from][to] = Some(arrival);
        let net = self.clone();
        self.wire.spawn(async move {
            sleep_until(arrival).await;
            // A message still in flight when a cut starts is lost with it.
            if !net.is_cut(from, to) {
                // A closed mailbox means the receiving incarnation died: the message is lost.
                let _ = tx.send(Envelope { from, msg });
            }
        });
    }

    pub fn is_cut(&self, from: NodeIdx, to: NodeIdx) -> bool {
        self.links.lock().unwrap().cuts.contains(&(from, to))
    }

    pub fn cut(&self, from: NodeIdx, to: NodeIdx) {
        if from != to {
            self.links.lock().unwrap().cuts.insert((from, to));
        }
    }

    pub fn heal(&self, from: NodeIdx, to: NodeIdx) {
        self.links.lock().unwrap().cuts.remove(&(from, to));
    }

    pub fn heal_all(&self) {
        self.links.lock().unwrap().cuts.clear();
    }

    pub fn has_cuts(&self) -> bool {
        !self.links.lock().unwrap().cuts.is_empty()
    }
}
