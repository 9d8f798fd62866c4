//! Runs one scenario file for one seed and prints the verdict (a debugging aid; `losslab replay`
//! is the real command). `cargo run -p losslab-sim --example smoke -- FILE SEED`
fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let seed: u64 = std::env::args().nth(2).map_or(1, |s| s.parse().expect("SEED"));
    let s = losslab_model::Scenario::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let t = std::time::Instant::now();
    let out = losslab_sim::run(&s, seed);
    eprintln!("wall {:?} events {} hash {}", t.elapsed(), out.history.events.len(), out.trace_hash);
    let v = losslab_model::check(&out.history, &out.final_state);
    let nonzero: Vec<_> = v.counts.iter().filter(|(_, &n)| n > 0).collect();
    eprintln!("stuck={:?} counts={nonzero:?} sent={} acked={} failed={}", out.final_state.stuck_reason, v.sent, v.acked, v.failed);
    for f in v.findings.iter().take(2) {
        eprintln!("{}: {}", f.class, f.explanation);
    }
    if std::env::var("DUMP").is_ok() {
        for e in &out.history.events {
            println!("{}", serde_json::to_string(e).unwrap());
        }
    }
}
