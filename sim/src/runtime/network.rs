//! The simulated network: one inbox per node, point-to-point messages with a latency drawn
//! from the seed, and cuts. Links are FIFO, as Kafka's TCP connections are: a message never
//! overtakes an earlier one on the same link, so any reordering a run shows comes from the
//! protocol (retries), never from the wire. A cut drops messages at send time and messages
//! still in flight when they would arrive; a dead node's inbox drops what reaches it, so a
//! restarted node never sees messages meant for its earlier incarnation.
//!
//! A message goes straight into its receiver's inbox, stamped with its arrival time, and the
//! receiver (an `actor`) takes it once that time has come. Nothing runs while a message is on
//! the wire: no task per message, and a madsim timer only when the receiver would otherwise
//! sleep past the arrival (the sender arms it with the receiver's waker). This is what makes a
//! run cheap; a paused or dead sender cannot hold back what it already sent.

use crate::protocol::Msg;
use madsim::rand::Rng;
use madsim::time::{Duration, Instant};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Mutex;
use std::task::Waker;

/// A node's index in the run (see `world::World::name_of`).
pub type NodeIdx = usize;

/// A message with its sender.
#[derive(Debug)]
pub struct Envelope {
    pub from: NodeIdx,
    pub msg: Msg,
}

/// A message on the wire or waiting in an inbox, ordered by arrival (then by sending order).
#[derive(Debug)]
struct InFlight {
    arrival_us: u64,
    seq: u64,
    /// Lost on arrival: its link was cut while it was on the wire (and not healed since).
    cut: bool,
    envelope: Envelope,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.arrival_us, self.seq) == (other.arrival_us, other.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.arrival_us, self.seq).cmp(&(other.arrival_us, other.seq))
    }
}

#[derive(Default)]
struct Inbox {
    /// The node's current incarnation can receive (it is up, or has not started yet).
    open: bool,
    queue: BinaryHeap<Reverse<InFlight>>,
    /// The receiving actor's waker while it sleeps, and when it will wake on its own.
    waker: Option<Waker>,
    wake_us: Option<u64>,
    /// Wake-ups already armed with madsim's timer, so that one is not armed twice.
    alarms_us: BTreeSet<u64>,
}

struct Links {
    inboxes: Vec<Inbox>,
    /// Nodes whose process is dead while their machine is up: connections to them are
    /// refused at once instead of timing out.
    refusing: BTreeSet<NodeIdx>,
    /// Directed cuts: (from, to) drops every message from `from` to `to`.
    cuts: BTreeSet<(NodeIdx, NodeIdx)>,
    /// Per directed link, when its last message arrives: keeps links FIFO.
    last_arrival_us: Vec<Vec<u64>>,
    next_seq: u64,
}

pub struct Network {
    links: Mutex<Links>,
    latency_us: (u64, u64),
    /// Time zero of the run (arrival times count from it, as the recorder's do).
    start: Instant,
}

impl Network {
    pub fn new(nodes: usize, latency_ms_min: u64, latency_ms_max: u64, start: Instant) -> Self {
        Network {
            links: Mutex::new(Links {
                inboxes: (0..nodes).map(|_| Inbox::default()).collect(),
                cuts: BTreeSet::new(),
                refusing: BTreeSet::new(),
                last_arrival_us: vec![vec![0; nodes]; nodes],
                next_seq: 0,
            }),
            latency_us: (latency_ms_min.saturating_mul(1000), latency_ms_max.saturating_mul(1000)),
            start,
        }
    }

    fn now_us(&self) -> u64 {
        crate::runtime::clock::now().duration_since(self.start).as_micros() as u64
    }

    /// Opens every node's first inbox before any process starts, so that nothing sent at time
    /// zero is lost to the order in which processes happen to start.
    pub fn prepare_all(&self) {
        for inbox in &mut self.links.lock().unwrap().inboxes {
            inbox.open = true;
        }
    }

    /// A node's new incarnation starts receiving (on its first start, what was sent to it
    /// before is waiting; after a crash the inbox was emptied).
    pub fn register(&self, node: NodeIdx) {
        let mut links = self.links.lock().unwrap();
        links.refusing.remove(&node);
        links.inboxes[node].open = true;
    }

    /// Closes a node's inbox (the node died): what waits in it and what reaches it from now on
    /// is lost. With `machine_up` (a process crash) its OS refuses connections and resets the
    /// open ones: every other node is told, as a TCP reset would.
    pub fn unregister(&self, node: NodeIdx, machine_up: bool) {
        let peers: Vec<NodeIdx> = {
            let mut links = self.links.lock().unwrap();
            links.inboxes[node] = Inbox::default();
            if machine_up {
                links.refusing.insert(node);
            } else {
                links.refusing.remove(&node);
            }
            (0..links.inboxes.len()).filter(|&i| i != node && machine_up).collect()
        };
        for peer in peers {
            self.send(node, peer, Msg::PeerDown { peer: node });
        }
    }

    /// Drops every inbox and waker at the end of a run: a sleeping actor's waker holds its task,
    /// whose future holds the world, which holds the network (a cycle that would keep the run's
    /// memory alive after it).
    pub fn close(&self) {
        for inbox in &mut self.links.lock().unwrap().inboxes {
            *inbox = Inbox::default();
        }
    }

    /// Sends `msg` from `from` to `to`. Dropped if the link is cut (now or on arrival) or the
    /// receiver is dead; refused at once (a `Msg::Refused` back to the sender) if the receiver's
    /// process is dead on a machine that is up.
    pub fn send(&self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let mut links = self.links.lock().unwrap();
        if links.cuts.contains(&(from, to)) {
            return;
        }
        if links.inboxes[to].open {
            self.put_on_wire(&mut links, from, to, msg);
        } else if links.refusing.contains(&to)
            && !matches!(msg, Msg::Refused { .. } | Msg::PeerDown { .. })
            && links.inboxes[from].open
        {
            // The receiver's OS answers for it: connection refused.
            self.put_on_wire(&mut links, to, from, Msg::Refused { to, msg: Box::new(msg) });
        }
    }

    /// Puts `msg` on the wire from `from` to `to`, arriving after a latency drawn from the seed
    /// and never before the link's previous message; wakes the receiver at the arrival if it
    /// would sleep past it.
    fn put_on_wire(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let (lo, hi) = self.latency_us;
        let latency_us = if hi > lo { madsim::rand::thread_rng().gen_range(lo..=hi) } else { lo };
        let mut arrival_us = self.now_us() + latency_us;
        arrival_us = arrival_us.max(links.last_arrival_us[from][to] + 1);
        links.last_arrival_us[from][to] = arrival_us;
        links.next_seq += 1;
        let seq = links.next_seq;
        let inbox = &mut links.inboxes[to];
        inbox.queue.push(Reverse(InFlight { arrival_us, seq, cut: false, envelope: Envelope { from, msg } }));
        if inbox.waker.is_some() && inbox.wake_us.is_none_or(|w| arrival_us < w) {
            inbox.wake_us = Some(arrival_us);
            self.arm(inbox, arrival_us);
        }
    }

    /// Arms a madsim timer that wakes the inbox's actor at `at_us`.
    fn arm(&self, inbox: &mut Inbox, at_us: u64) {
        let Some(waker) = &inbox.waker else { return };
        if !inbox.alarms_us.insert(at_us) {
            return;
        }
        crate::runtime::clock::wake_at(self.start + Duration::from_micros(at_us), waker);
    }

    /// The next message for `node` that has arrived by `now_us` (messages lost to a cut on the
    /// way are dropped here).
    pub fn take_arrived(&self, node: NodeIdx, now_us: u64) -> Option<Envelope> {
        let mut links = self.links.lock().unwrap();
        let queue = &mut links.inboxes[node].queue;
        while queue.peek().is_some_and(|Reverse(m)| m.arrival_us <= now_us) {
            let Reverse(m) = queue.pop().expect("peeked");
            if !m.cut {
                return Some(m.envelope);
            }
        }
        None
    }

    /// When the next message for `node` arrives, if one is on its way.
    #[cfg(test)]
    pub fn next_arrival_us(&self, node: NodeIdx) -> Option<u64> {
        self.links.lock().unwrap().inboxes[node].queue.peek().map(|Reverse(m)| m.arrival_us)
    }

    /// The actor of `node` goes to sleep until `deadline_us` (its next timer) or the next
    /// arrival, whichever comes first; `waker` wakes it, and a send that arrives sooner will.
    pub fn park(&self, node: NodeIdx, waker: &Waker, deadline_us: Option<u64>) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        let inbox = &mut links.inboxes[node];
        let next_arrival = inbox.queue.peek().map(|Reverse(m)| m.arrival_us);
        let wake_us = match (deadline_us, next_arrival) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        inbox.waker = Some(waker.clone());
        inbox.wake_us = wake_us;
        inbox.alarms_us = inbox.alarms_us.split_off(&now_us);
        if let Some(at_us) = wake_us {
            self.arm(inbox, at_us);
        }
    }

    pub fn is_cut(&self, from: NodeIdx, to: NodeIdx) -> bool {
        self.links.lock().unwrap().cuts.contains(&(from, to))
    }

    pub fn cut(&self, from: NodeIdx, to: NodeIdx) {
        if from != to {
            let now_us = self.now_us();
            let mut links = self.links.lock().unwrap();
            links.cuts.insert((from, to));
            mark_in_flight(&mut links, now_us, |f, t| (f, t) == (from, to), true);
        }
    }

    pub fn heal(&self, from: NodeIdx, to: NodeIdx) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        links.cuts.remove(&(from, to));
        mark_in_flight(&mut links, now_us, |f, t| (f, t) == (from, to), false);
    }

    pub fn heal_all(&self) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        links.cuts.clear();
        mark_in_flight(&mut links, now_us, |_, _| true, false);
    }

    pub fn has_cuts(&self) -> bool {
        !self.links.lock().unwrap().cuts.is_empty()
    }
}

/// Marks the messages still on the wire (arriving after `now_us`) on the links `on` picks as
/// lost (`cut`) or not: a message is lost when its link is cut at the moment it would arrive.
/// Cuts are rare; the inboxes they touch are rebuilt.
fn mark_in_flight(links: &mut Links, now_us: u64, on: impl Fn(NodeIdx, NodeIdx) -> bool, cut: bool) {
    for (to, inbox) in links.inboxes.iter_mut().enumerate() {
        if !inbox.queue.iter().any(|Reverse(m)| m.arrival_us > now_us && on(m.envelope.from, to)) {
            continue;
        }
        let mut all = std::mem::take(&mut inbox.queue).into_vec();
        for Reverse(m) in &mut all {
            if m.arrival_us > now_us && on(m.envelope.from, to) {
                m.cut = cut;
            }
        }
        inbox.queue = BinaryHeap::from(all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::clock;
    use std::future::Future;

    /// Runs `f` in a fresh madsim runtime on its own thread, with a network of three nodes
    /// whose links all take exactly 5 ms.
    fn with_network(f: impl FnOnce(Network) -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Send + 'static) {
        std::thread::spawn(move || {
            madsim::runtime::Runtime::new().block_on(async move {
                let net = Network::new(3, 5, 5, clock::now());
                net.prepare_all();
                f(net).await
            })
        })
        .join()
        .expect("the test runtime ran");
    }

    fn ping(n: u32) -> Msg {
        Msg::Elect { partition: n, unclean: false }
    }

    fn peer(env: Envelope) -> u32 {
        match env.msg {
            Msg::Elect { partition, .. } => partition,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn arrived(net: &Network, node: NodeIdx) -> Vec<u32> {
        let now = net.now_us();
        std::iter::from_fn(|| net.take_arrived(node, now)).map(peer).collect()
    }

    #[test]
    fn a_message_arrives_after_its_latency_and_links_stay_fifo() {
        with_network(|net| {
            Box::pin(async move {
                for n in 0..3 {
                    net.send(0, 1, ping(n));
                }
                assert_eq!(net.next_arrival_us(1), Some(5_000));
                assert!(arrived(&net, 1).is_empty(), "nothing arrives before the latency");
                clock::sleep(Duration::from_millis(6)).await;
                assert_eq!(arrived(&net, 1), [0, 1, 2]);
            })
        });
    }

    #[test]
    fn a_cut_loses_what_is_on_the_wire_unless_healed_before_it_arrives() {
        with_network(|net| {
            Box::pin(async move {
                net.send(0, 1, ping(7));
                net.send(0, 2, ping(8));
                clock::sleep(Duration::from_millis(1)).await;
                net.cut(0, 1);
                net.cut(0, 2);
                net.send(0, 1, ping(9)); // dropped at send time
                clock::sleep(Duration::from_millis(1)).await;
                net.heal(0, 2);
                clock::sleep(Duration::from_millis(5)).await;
                assert!(arrived(&net, 1).is_empty(), "cut at its arrival: lost");
                assert_eq!(arrived(&net, 2), [8], "healed before its arrival: delivered");
            })
        });
    }

    #[test]
    fn a_dead_node_loses_its_inbox_and_a_refusing_one_answers_for_itself() {
        with_network(|net| {
            Box::pin(async move {
                net.send(0, 1, ping(1));
                net.unregister(1, true);
                net.send(0, 1, ping(2));
                clock::sleep(Duration::from_millis(6)).await;
                assert!(arrived(&net, 1).is_empty());
                let now = net.now_us();
                let kinds: Vec<String> = std::iter::from_fn(|| net.take_arrived(0, now))
                    .map(|e| format!("{:?}", e.msg).split_whitespace().next().unwrap_or("").to_string())
                    .collect();
                // Node 1's OS resets 0's connection, then refuses its next request (one link, FIFO).
                assert_eq!(kinds, ["PeerDown", "Refused"]);
            })
        });
    }
}
