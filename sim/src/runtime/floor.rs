//! The raw madsim floor for `losslab bench`: the least a replicated write can cost in this
//! simulator. Three madsim nodes on madsim's own network; a leader sends each message to two
//! followers and takes the next only after both acknowledged. losslab's cluster does far more
//! per message (batches, fetch sessions, purgatories, the recorder), and `floor_ratio` says how
//! much of the simulator's speed it keeps.

use madsim::net::Endpoint;
use madsim::runtime::{Handle, Runtime};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

const PORT: u16 = 9092;

fn addr(host: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)), PORT)
}

/// Replicates `messages` messages through the minimal loop; returns (wall time, simulated time).
pub fn run(messages: u64) -> (Duration, Duration) {
    std::thread::spawn(move || {
        let mut config = madsim::Config::default();
        config.net.send_latency = Duration::from_millis(1)..Duration::from_millis(5);
        let runtime = Runtime::with_seed_and_config(1, config);
        let wall = Instant::now();
        let simulated = runtime.block_on(async move {
            let handle = Handle::current();
            for host in [2u8, 3] {
                handle
                    .create_node()
                    .ip(addr(host).ip())
                    .init(move || async move {
                        let ep = Endpoint::bind(addr(host)).await.expect("bind");
                        loop {
                            let Ok((msg, from)) = ep.recv_from_raw(0).await else { return };
                            let _ = ep.send_to_raw(from, 1, msg).await;
                        }
                    })
                    .build();
            }
            let leader = handle.create_node().ip(addr(1).ip()).build();
            leader
                .spawn(async move {
                    let start = madsim::time::Instant::now();
                    let ep = Endpoint::bind(addr(1)).await.expect("bind");
                    for i in 0..messages {
                        for host in [2u8, 3] {
                            ep.send_to_raw(addr(host), 0, Box::new(i)).await.expect("send");
                        }
                        for _ in 0..2 {
                            ep.recv_from_raw(1).await.expect("ack");
                        }
                    }
                    start.elapsed()
                })
                .await
                .expect("the leader finishes")
        });
        (wall.elapsed(), simulated)
    })
    .join()
    .expect("the floor loop runs")
}
