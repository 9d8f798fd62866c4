#[test]
fn print_schedule() {
    let path = std::env::var("CFG").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let grid = losslab_model::explore::expand("f.json", "f", &text).unwrap();
    let kinds = losslab_model::explore::FaultKind::parse_list(&std::env::var("KINDS").unwrap()).unwrap();
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let steps = losslab_model::explore::random_schedule(seed, &kinds, &grid[0].scenario);
    let mut file = grid[0].file.clone();
    if std::env::var("TXN").is_ok() {
        file = losslab_model::explore::with_transactions(&file, seed);
    }
    let file = losslab_model::explore::with_faults(&file, &steps, &format!("s{seed}"), seed);
    std::fs::write(format!("/tmp/txr/s{seed}.json"), serde_json::to_string_pretty(&file).unwrap()).unwrap();
}
