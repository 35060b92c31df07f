//! `quantriet bench conduct` runs end to end at the small scale on both engines (issue 15,
//! R3.7): the demo and a year of conduct records load, every measured page answers, and each
//! line carries its ratios against the baselines measured in the same run. The figures
//! themselves are for the README, not asserted.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::output;
use serde_json::Value;

fn run(engine: &str) {
    let (ok, text) = output(
        Command::new(env!("CARGO_BIN_EXE_quantriet"))
            .args([
                "bench", "--json", "conduct", "--scale", "small", "--engine", engine,
            ])
            .args(["--clients", "2", "--seconds", "1"])
            .env("RUST_LOG", "warn"),
    );
    assert!(ok, "{text}");
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "ping and five pages: {text}");
    for l in &lines {
        assert_eq!(l["engine"], engine, "{l}");
        assert_eq!(l["scale"], "small", "{l}");
        assert!(l["p99_ms"].as_f64().unwrap() > 0.0, "{l}");
        assert!(l["ratio"].as_f64().unwrap() > 0.0, "{l}");
        assert!(l["stack_ratio"].as_f64().unwrap() > 0.0, "{l}");
    }
    assert!(lines.iter().any(|l| l["page"]
        .as_str()
        .unwrap()
        .contains("report page, the province")
        && l["bytes"].as_u64().unwrap() > 1000));
    // The report found cells over the 10% line (the seeding is real), said on stderr.
    assert!(text.contains("of them ineligible"), "{text}");
}

#[test]
fn r3_7_bench_conduct_runs_on_sqlite() {
    run("sqlite");
}

#[test]
fn r3_7_bench_conduct_runs_on_postgres() {
    run("postgres");
}
