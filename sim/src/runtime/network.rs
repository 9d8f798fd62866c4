//! The simulated network: one inbox per node, point-to-point messages with a latency drawn
//! from the seed, and links that behave as Kafka's TCP connections do. A link is FIFO: a message
//! never overtakes an earlier one, so any reordering a run shows comes from the protocol
//! (retries), never from the wire. A cut does not drop what crosses it: TCP keeps retransmitting
//! what was sent (before or during the cut), so those messages wait on the link and are delivered,
//! in order, at TCP's first retransmission after the heal (of the freshest connection) (retransmissions back off from 200 ms,
//! doubling up to 120 s, Linux's `TCP_RTO_MIN` and `TCP_RTO_MAX`). A sender that gives up on a
//! request (a client's timeout) has still written it: it may reach the receiver later, and the
//! receiver acts on it as Kafka's `SocketServer` does on a request read before the close; the
//! sender simply ignores an answer it no longer waits for. A `slow` link delivers later than
//! usual, in order and without loss.
//!
//! Deaths: a dead node's inbox drops what reaches it, and what it had written that still waited
//! on a cut link is gone with it (what others wrote to it meets a reset when the link heals). A process crash on a live machine makes its OS reset every connection (peers
//! hear at once) and refuse new ones; a power loss is silent until the machine comes back, when
//! its OS answers its peers' old connections with a reset (a `PeerDown` to each). A message that
//! waited on a cut link for a receiver that has since restarted reaches a new process on an old
//! connection: it is reset (`Refused` back to its sender).
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
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::sync::Mutex;
use std::task::Waker;

/// A node's index in the run (see `world::World::name_of`).
pub type NodeIdx = usize;

/// Linux's `TCP_RTO_MIN`: the first retransmission of a lost segment.
pub const RTO_MIN_US: u64 = 200_000;
/// Linux's `TCP_RTO_MAX`: retransmissions back off, doubling, up to this.
pub const RTO_MAX_US: u64 = 120_000_000;

/// When TCP's first retransmission at or after `healed_us` happens, for a segment first sent at
/// `sent_us` and lost since: retransmissions come at `sent_us` + 200 ms, then after 400 ms, 800 ms,
/// ... each interval doubling up to `RTO_MAX_US`.
pub fn next_retransmission_us(sent_us: u64, healed_us: u64) -> u64 {
    let mut at = sent_us;
    let mut interval = RTO_MIN_US;
    loop {
        at = at.saturating_add(interval);
        if at >= healed_us {
            return at;
        }
        interval = (interval * 2).min(RTO_MAX_US);
    }
}

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
    /// When its sender wrote it (TCP retransmits from then on if the link is cut).
    sent_us: u64,
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

/// A message held on a cut link: written, not yet across, retransmitted by TCP until the heal.
#[derive(Debug)]
struct Waiting {
    sent_us: u64,
    /// The link's connection generation it was written on (see `Network::abandon`).
    generation: u64,
    /// The receiver's incarnation when it was written: its connection belongs to that one.
    incarnation: u64,
    envelope: Envelope,
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
    /// Per node, how many times its process has started.
    incarnations: Vec<u64>,
    /// Nodes whose process is dead while their machine is up: connections to them are
    /// refused at once instead of timing out.
    refusing: BTreeSet<NodeIdx>,
    /// Nodes whose machine lost power: when it is back, its OS resets its peers' connections.
    powered_off: BTreeSet<NodeIdx>,
    /// Directed cuts: nothing from `from` gets across to `to` until the heal.
    cuts: BTreeSet<(NodeIdx, NodeIdx)>,
    /// Directed slow links and the latency they add.
    slow_us: BTreeMap<(NodeIdx, NodeIdx), u64>,
    /// What waits on each cut link, in the order it was written.
    waiting: BTreeMap<(NodeIdx, NodeIdx), VecDeque<Waiting>>,
    /// Per directed link, its current connection generation (0 until a sender abandons one).
    generations: BTreeMap<(NodeIdx, NodeIdx), u64>,
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
                incarnations: vec![0; nodes],
                refusing: BTreeSet::new(),
                powered_off: BTreeSet::new(),
                cuts: BTreeSet::new(),
                slow_us: BTreeMap::new(),
                waiting: BTreeMap::new(),
                generations: BTreeMap::new(),
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
    /// before is waiting; after a crash the inbox was emptied). A machine back from a power loss
    /// resets every old connection its peers still hold.
    pub fn register(&self, node: NodeIdx) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        links.incarnations[node] += 1;
        links.refusing.remove(&node);
        links.inboxes[node].open = true;
        if links.powered_off.remove(&node) {
            for peer in (0..links.inboxes.len()).filter(|&p| p != node) {
                self.send_locked(&mut links, node, peer, Msg::PeerDown { peer: node }, now_us);
            }
        }
    }

    /// Closes a node's inbox (the node died): what waits in it, what waits on its links and
    /// what reaches it from now on is lost. With `machine_up` (a process crash) its OS refuses
    /// connections and resets the open ones: every other node is told, as a TCP reset would
    /// (across a cut, once it heals). Without (a power loss) the machine is silent until it is
    /// back.
    pub fn unregister(&self, node: NodeIdx, machine_up: bool) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        links.inboxes[node] = Inbox::default();
        // What it had written is gone with it; what others wrote to it still waits in their
        // kernels, and will meet a reset when the link heals.
        links.waiting.retain(|&(from, _), _| from != node);
        if machine_up {
            links.refusing.insert(node);
            links.powered_off.remove(&node);
            for peer in (0..links.inboxes.len()).filter(|&p| p != node) {
                self.send_locked(&mut links, node, peer, Msg::PeerDown { peer: node }, now_us);
            }
        } else {
            links.refusing.remove(&node);
            links.powered_off.insert(node);
        }
    }

    /// Drops every inbox and waker at the end of a run: a sleeping actor's waker holds its task,
    /// whose future holds the world, which holds the network (a cycle that would keep the run's
    /// memory alive after it).
    pub fn close(&self) {
        let mut links = self.links.lock().unwrap();
        for inbox in &mut links.inboxes {
            *inbox = Inbox::default();
        }
        links.waiting.clear();
    }

    /// Sends `msg` from `from` to `to`. Across a cut it waits on the link until the heal; to a
    /// dead process on a live machine it is refused at once (a `Msg::Refused` back to the
    /// sender); to a dead machine it is lost.
    pub fn send(&self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        self.send_locked(&mut links, from, to, msg, now_us);
    }

    fn send_locked(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, msg: Msg, now_us: u64) {
        if links.cuts.contains(&(from, to)) {
            let generation = links.generations.get(&(from, to)).copied().unwrap_or(0);
            let envelope = Envelope { from, msg };
            let waiting = Waiting { sent_us: now_us, generation, incarnation: links.incarnations[to], envelope };
            links.waiting.entry((from, to)).or_default().push_back(waiting);
            return;
        }
        self.deliver(links, from, to, msg, now_us, now_us);
    }

    /// Puts `msg` on the wire at `depart_us` if its receiver can take it, or answers for a dead
    /// process on a live machine.
    fn deliver(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, msg: Msg, sent_us: u64, depart_us: u64) {
        if links.inboxes[to].open {
            self.put_on_wire(links, from, to, msg, sent_us, depart_us);
        } else if links.refusing.contains(&to) {
            self.reset(links, from, to, msg, depart_us);
        }
    }

    /// The receiver's OS answers `msg` with a reset: `Msg::Refused` back to its sender.
    fn reset(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, msg: Msg, at_us: u64) {
        if !matches!(msg, Msg::Refused { .. } | Msg::PeerDown { .. }) && links.inboxes[from].open {
            self.put_on_wire(links, to, from, Msg::Refused { to, msg: Box::new(msg) }, at_us, at_us);
        }
    }

    /// Puts `msg` on the wire from `from` to `to` at `depart_us`, arriving after a latency drawn
    /// from the seed (plus a slow link's), never before the link's previous message; wakes the
    /// receiver at the arrival if it would sleep past it.
    fn put_on_wire(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, msg: Msg, sent_us: u64, depart_us: u64) {
        let (lo, hi) = self.latency_us;
        let latency_us = if hi > lo { madsim::rand::thread_rng().gen_range(lo..=hi) } else { lo };
        let slow_us = links.slow_us.get(&(from, to)).copied().unwrap_or(0);
        let mut arrival_us = depart_us.saturating_add(latency_us).saturating_add(slow_us);
        arrival_us = arrival_us.max(links.last_arrival_us[from][to] + 1);
        links.last_arrival_us[from][to] = arrival_us;
        links.next_seq += 1;
        let seq = links.next_seq;
        let inbox = &mut links.inboxes[to];
        inbox.queue.push(Reverse(InFlight { arrival_us, seq, sent_us, envelope: Envelope { from, msg } }));
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

    /// The next message for `node` that has arrived by `now_us`.
    pub fn take_arrived(&self, node: NodeIdx, now_us: u64) -> Option<Envelope> {
        let mut links = self.links.lock().unwrap();
        let queue = &mut links.inboxes[node].queue;
        if queue.peek().is_some_and(|Reverse(m)| m.arrival_us <= now_us) {
            return queue.pop().map(|Reverse(m)| m.envelope);
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

    /// Cuts the link from `from` to `to`: what is on the wire and what is sent from now on waits
    /// on the link (TCP retransmits it) until the heal.
    pub fn cut(&self, from: NodeIdx, to: NodeIdx) {
        if from == to {
            return;
        }
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        if !links.cuts.insert((from, to)) {
            return;
        }
        let incarnation = links.incarnations[to];
        let generation = links.generations.get(&(from, to)).copied().unwrap_or(0);
        let inbox = &mut links.inboxes[to];
        if !inbox.queue.iter().any(|Reverse(m)| m.arrival_us > now_us && m.envelope.from == from) {
            return;
        }
        let (mut stopped, kept): (Vec<InFlight>, Vec<InFlight>) = std::mem::take(&mut inbox.queue)
            .into_iter()
            .map(|Reverse(m)| m)
            .partition(|m| m.arrival_us > now_us && m.envelope.from == from);
        inbox.queue = kept.into_iter().map(Reverse).collect();
        stopped.sort();
        let queue = links.waiting.entry((from, to)).or_default();
        for m in stopped {
            queue.push_back(Waiting { sent_us: m.sent_us, generation, incarnation, envelope: m.envelope });
        }
    }

    /// Makes the link from `from` to `to` deliver `extra_us` later than usual until healed.
    pub fn slow(&self, from: NodeIdx, to: NodeIdx, extra_us: u64) {
        if from != to {
            self.links.lock().unwrap().slow_us.insert((from, to), extra_us);
        }
    }

    /// Heals the link from `from` to `to` (its cut and its slowness): what waited on it crosses
    /// at TCP's next retransmission.
    pub fn heal(&self, from: NodeIdx, to: NodeIdx) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        links.cuts.remove(&(from, to));
        links.slow_us.remove(&(from, to));
        self.release(&mut links, from, to, now_us);
    }

    pub fn heal_all(&self) {
        let now_us = self.now_us();
        let mut links = self.links.lock().unwrap();
        links.cuts.clear();
        links.slow_us.clear();
        let held: Vec<(NodeIdx, NodeIdx)> = links.waiting.keys().copied().collect();
        for (from, to) in held {
            self.release(&mut links, from, to, now_us);
        }
    }

    /// A sender gave up on its connection to `to` (a request timed out) and will open a new one.
    /// What it wrote on the old one and still waits on a cut link stays that connection's: TCP
    /// keeps retransmitting it on the old connection's backoff, apart from the new connection's
    /// stream, so a request re-sent on the new connection can arrive before the original
    /// (the delayed requests of KAFKA-17754, research 5.8). Only the senders that need it call
    /// this (the transactional paths); without a call a link is one stream.
    /// On a slow link the same holds for what is on the wire: the new connection is not held
    /// behind the old one's messages, so once the link is fast again it can overtake them.
    /// A connection carries both directions: the receiver's answers on the old one do not hold
    /// back those on the new one either.
    pub fn abandon(&self, from: NodeIdx, to: NodeIdx) {
        let mut links = self.links.lock().unwrap();
        for link in [(from, to), (to, from)] {
            if links.waiting.get(&link).is_some_and(|w| !w.is_empty()) {
                *links.generations.entry(link).or_insert(0) += 1;
            }
            links.last_arrival_us[link.0][link.1] = 0;
        }
    }

    /// What waited on a healed link goes across, in order, at the first retransmission at or
    /// after the heal. Its timer is the most recently written message's: a sender that keeps
    /// writing has given up on its stale connections and opened new ones, whose timers are
    /// fresh; a lone message waits out its own backoff. A message written to an earlier
    /// incarnation of its receiver reaches a new process on an old connection: reset. What an
    /// abandoned connection holds (`abandon`) goes at that connection's own retransmission,
    /// outside the link's order.
    fn release(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, now_us: u64) {
        let Some(waiting) = links.waiting.remove(&(from, to)) else { return };
        let current = links.generations.get(&(from, to)).copied().unwrap_or(0);
        let (old, waiting): (VecDeque<Waiting>, VecDeque<Waiting>) =
            waiting.into_iter().partition(|w| w.generation < current);
        if !old.is_empty() {
            self.release_abandoned(links, from, to, old, now_us);
        }
        let Some(newest) = waiting.back() else { return };
        let depart_us = next_retransmission_us(newest.sent_us, now_us);
        for w in waiting {
            if w.incarnation != links.incarnations[to] {
                self.reset(links, from, to, w.envelope.msg, depart_us);
            } else {
                self.deliver(links, from, to, w.envelope.msg, w.sent_us, depart_us);
            }
        }
    }

    /// Each abandoned connection's messages go at its own next retransmission, in their order,
    /// without holding back (or being held back by) the link's current connection.
    fn release_abandoned(&self, links: &mut Links, from: NodeIdx, to: NodeIdx, old: VecDeque<Waiting>, now_us: u64) {
        let mut by_generation: BTreeMap<u64, Vec<Waiting>> = BTreeMap::new();
        for w in old {
            by_generation.entry(w.generation).or_default().push(w);
        }
        for (_, group) in by_generation {
            let Some(newest) = group.last() else { continue };
            let depart_us = next_retransmission_us(newest.sent_us, now_us);
            // The link's FIFO bound is the current connection's: set it aside for this stream.
            let bound = links.last_arrival_us[from][to];
            links.last_arrival_us[from][to] = 0;
            for w in group {
                if w.incarnation != links.incarnations[to] {
                    self.reset(links, from, to, w.envelope.msg, depart_us);
                } else {
                    self.deliver(links, from, to, w.envelope.msg, w.sent_us, depart_us);
                }
            }
            links.last_arrival_us[from][to] = bound;
        }
    }

    /// Whether any link is cut or slow.
    pub fn has_faults(&self) -> bool {
        let links = self.links.lock().unwrap();
        !links.cuts.is_empty() || !links.slow_us.is_empty()
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

    fn arrived_kinds(net: &Network, node: NodeIdx) -> Vec<String> {
        let now = net.now_us();
        std::iter::from_fn(|| net.take_arrived(node, now))
            .map(|e| format!("{:?}", e.msg).split_whitespace().next().unwrap_or("").to_string())
            .collect()
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
    fn retransmissions_back_off_from_200_ms_up_to_120_s() {
        assert_eq!(next_retransmission_us(0, 0), 200_000);
        assert_eq!(next_retransmission_us(0, 200_000), 200_000);
        assert_eq!(next_retransmission_us(0, 200_001), 600_000);
        assert_eq!(next_retransmission_us(0, 1_000_000), 1_400_000);
        // 0.2 + 0.4 + ... + 102.4 s = 204.6 s; then every 120 s.
        assert_eq!(next_retransmission_us(0, 204_600_000), 204_600_000);
        assert_eq!(next_retransmission_us(0, 204_600_001), 324_600_000);
        assert_eq!(next_retransmission_us(5, 324_600_006), 444_600_005);
    }

    /// A request written on a connection its sender then abandoned keeps that connection's
    /// retransmission backoff; the copy re-sent on the new connection goes at the new one's, so
    /// after the heal the re-sent copy arrives first and the original ~15 s later.
    #[test]
    fn an_abandoned_connection_delivers_at_its_own_retransmission_after_the_new_one() {
        with_network(|net| {
            Box::pin(async move {
                net.cut(0, 1);
                net.send(0, 1, ping(1)); // written at 0: retransmitted at 0.2, 0.6, ... 25.4, 51.0 s
                clock::sleep(Duration::from_secs(30)).await;
                net.abandon(0, 1);
                net.send(0, 1, ping(2)); // the new connection, at 30 s: 30.2, ... 33.0, 36.2 s
                clock::sleep(Duration::from_secs(5)).await;
                net.heal(0, 1);
                assert_eq!(net.next_arrival_us(1), Some(36_205_000), "the new connection's copy first");
                clock::sleep(Duration::from_millis(1_300)).await;
                assert_eq!(arrived(&net, 1), [2]);
                net.send(0, 1, ping(3));
                clock::sleep(Duration::from_millis(10)).await;
                assert_eq!(arrived(&net, 1), [3], "the new connection is not held behind the old one");
                clock::sleep(Duration::from_secs(15)).await;
                assert_eq!(arrived(&net, 1), [1], "the original at its own retransmission, 51.0 s");
            })
        });
        // Without `abandon` the link stays one stream: both go together, in order.
        with_network(|net| {
            Box::pin(async move {
                net.cut(0, 1);
                net.send(0, 1, ping(1));
                clock::sleep(Duration::from_secs(30)).await;
                net.send(0, 1, ping(2));
                clock::sleep(Duration::from_secs(5)).await;
                net.heal(0, 1);
                clock::sleep(Duration::from_millis(1_300)).await;
                assert_eq!(arrived(&net, 1), [1, 2]);
            })
        });
    }

    #[test]
    fn a_cut_holds_what_crosses_it_until_the_retransmission_after_the_heal() {
        with_network(|net| {
            Box::pin(async move {
                net.send(0, 1, ping(7));
                net.send(0, 2, ping(8));
                clock::sleep(Duration::from_millis(1)).await;
                net.cut(0, 1);
                net.send(0, 1, ping(9)); // written during the cut
                clock::sleep(Duration::from_millis(10)).await;
                assert!(arrived(&net, 1).is_empty(), "nothing crosses a cut");
                assert_eq!(arrived(&net, 2), [8], "other links are untouched");
                clock::sleep(Duration::from_millis(989)).await; // t = 1 s
                net.heal(0, 1);
                // The newest waiting message was written at 1 ms: its retransmissions come at
                // 0.201, 0.601 and 1.401 s.
                assert_eq!(net.next_arrival_us(1), Some(1_406_000));
                clock::sleep(Duration::from_millis(407)).await;
                assert_eq!(arrived(&net, 1), [7, 9], "in order, after the heal");
            })
        });
    }

    #[test]
    fn a_slow_link_delivers_later_in_order_until_healed() {
        with_network(|net| {
            Box::pin(async move {
                net.slow(0, 1, 100_000);
                net.send(0, 1, ping(1));
                net.heal(0, 1);
                net.send(0, 1, ping(2)); // not slowed, but never ahead of the first
                assert_eq!(net.next_arrival_us(1), Some(105_000));
                clock::sleep(Duration::from_millis(106)).await;
                assert_eq!(arrived(&net, 1), [1, 2]);
            })
        });
    }

    #[test]
    fn a_message_for_a_receiver_that_restarted_meanwhile_is_reset() {
        with_network(|net| {
            Box::pin(async move {
                net.cut(0, 1);
                net.send(0, 1, ping(3));
                net.unregister(1, true);
                net.register(1);
                // Drain the reset that the crash sent (it waited on no cut: 1 -> 0 is open).
                clock::sleep(Duration::from_millis(6)).await;
                let _ = arrived_kinds(&net, 0);
                net.send(0, 1, ping(4)); // written to the new process
                net.heal(0, 1);
                clock::sleep(Duration::from_millis(400)).await;
                assert_eq!(arrived(&net, 1), [4], "the new process gets nothing meant for the old one");
                assert_eq!(arrived_kinds(&net, 0), ["Refused"], "the old connection's message is reset");
            })
        });
    }

    #[test]
    fn a_machine_back_from_a_power_loss_resets_its_peers() {
        with_network(|net| {
            Box::pin(async move {
                net.unregister(1, false);
                clock::sleep(Duration::from_millis(6)).await;
                assert!(arrived_kinds(&net, 0).is_empty(), "a power loss is silent");
                net.register(1);
                clock::sleep(Duration::from_millis(6)).await;
                assert_eq!(arrived_kinds(&net, 0), ["PeerDown"]);
                assert_eq!(arrived_kinds(&net, 2), ["PeerDown"]);
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
                // Node 1's OS resets 0's connection, then refuses its next request (one link, FIFO).
                assert_eq!(arrived_kinds(&net, 0), ["PeerDown", "Refused"]);
            })
        });
    }
}
