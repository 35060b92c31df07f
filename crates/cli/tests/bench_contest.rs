//! `quantriet bench contest` runs end to end at the small scale on both engines (issue 16,
//! R6.3): a contest is seeded with its submissions, members submit over HTTP through the real
//! API (every answered submission counted once), the results are published and the ranking
//! pages answer, each line with its ratios against the baselines measured in the same run. The
//! figures themselves are for the README, not asserted.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::output;
use serde_json::Value;

fn run(engine: &str) {
    let (ok, text) = output(
        Command::new(env!("CARGO_BIN_EXE_quantriet"))
            .args([
                "bench", "--json", "contest", "--scale", "small", "--engine", engine,
            ])
            .args(["--clients", "2", "--seconds", "1", "--people", "3000"])
            .env("RUST_LOG", "warn"),
    );
    assert!(ok, "{text}");
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let subs: Vec<&Value> = lines.iter().filter(|l| l.get("per_s").is_some()).collect();
    assert_eq!(subs.len(), 1, "{text}");
    let s = subs[0];
    assert_eq!(s["engine"], engine, "{s}");
    assert!(s["submitted"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(
        s["total"].as_i64().unwrap(),
        s["seeded"].as_i64().unwrap() + s["submitted"].as_i64().unwrap(),
        "{s}"
    );
    assert!(s["seeded"].as_i64().unwrap() >= 3000, "{s}");
    assert!(s["ratio"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["stack_ratio"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["submit_p99_ms"].as_f64().unwrap() > 0.0, "{s}");
    let pages: Vec<&Value> = lines.iter().filter(|l| l.get("page").is_some()).collect();
    assert_eq!(pages.len(), 9, "ping and eight reads: {text}");
    for l in &pages {
        assert_eq!(l["engine"], engine, "{l}");
        assert!(l["p99_ms"].as_f64().unwrap() > 0.0, "{l}");
        assert!(l["ratio"].as_f64().unwrap() > 0.0, "{l}");
    }
    assert!(pages.iter().any(|l| l["page"]
        .as_str()
        .unwrap()
        .contains("ranking API, first 500")
        && l["bytes"].as_u64().unwrap() > 10_000));
}

#[test]
fn r6_3_bench_contest_runs_on_sqlite() {
    run("sqlite");
}

#[test]
fn r6_3_bench_contest_runs_on_postgres() {
    run("postgres");
}
