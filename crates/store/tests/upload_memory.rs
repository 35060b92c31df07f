//! Issue 10.1 and 10.4: hostile uploads are refused, and the reader's memory stays bounded while
//! it refuses them. Peak memory is the process's own high-water mark (VmHWM), reset before each
//! file through /proc/self/clear_refs, so this file holds one test and runs in its own process.

use quantriet_store::import::{read_sheet, RowStream, Source, MAX_FILE};
use quantriet_store::testing::bombs;

/// The process's peak resident memory since the last reset, in MB.
fn peak_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        / 1024
}

fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak (Linux ≥ 4.0)");
}

/// What a refusal must look like, and how much memory reading the file took at its peak.
async fn refused(what: &str, name: &str, bytes: &[u8], expect: &str) -> u64 {
    reset_peak();
    let before = peak_mb();
    let err = read_sheet(name, bytes)
        .await
        .expect_err(&format!("{what}: refused"));
    assert!(
        err.to_string().contains(expect),
        "{what}: a Vietnamese message containing {expect:?}, got {err}"
    );
    let grew = peak_mb().saturating_sub(before);
    eprintln!(
        "{what}: {} KB on the wire, peak +{grew} MB",
        bytes.len() / 1024
    );
    grew
}

/// docs/security.md states 320 MB for one read at worst (a real 2-million-string table); these
/// files must stay well below it.
const BOUND_MB: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_are_refused_in_bounded_memory() {
    // The two files of the report: a 1.5 GB string, and 20 million tiny strings.
    let huge = bombs::one_huge_string(1_500 * 1024 * 1024);
    assert!(huge.len() < 4 * 1024 * 1024, "{} bytes", huge.len());
    let many = bombs::many_strings(20_000_000);
    assert!(many.len() < 2 * 1024 * 1024, "{} bytes", many.len());
    let declared = bombs::declared_count();
    let commas = vec![b','; 60 * 1024 * 1024 - 1];
    // 60 MB of short fields in rows of 200: each row is valid, the sheet as a whole too large.
    let mut wide = Vec::with_capacity(MAX_FILE);
    let row = format!("{}\n", vec!["a"; 200].join(","));
    while wide.len() + row.len() < MAX_FILE {
        wide.extend_from_slice(row.as_bytes());
    }

    let mut peaks = vec![
        refused("1.5 GB string", "a.xlsx", &huge, "bất thường").await,
        refused("20 million strings", "a.xlsx", &many, "quá nhiều chuỗi").await,
        refused("declared count", "a.xlsx", &declared, "quá nhiều chuỗi").await,
        refused("60 MB of commas", "a.csv", &commas, "hơn 200 cột").await,
        refused("60 MB of short cells", "a.csv", &wide, "Tệp quá lớn").await,
    ];

    // The member import streams: the same wide file goes through in chunks, memory flat.
    reset_peak();
    let before = peak_mb();
    let mut stream = RowStream::open("a.csv", &Source::bytes(&wide), MAX_FILE as u64)
        .await
        .expect("open");
    let mut rows = 0usize;
    while let Some(chunk) = stream.next().await {
        rows += chunk.expect("chunk").rows.len();
    }
    assert!(rows > 100_000, "{rows} rows");
    let grew = peak_mb().saturating_sub(before);
    eprintln!("streaming {rows} rows of 200 cells: peak +{grew} MB");
    peaks.push(grew);

    for (i, p) in peaks.iter().enumerate() {
        assert!(
            *p < BOUND_MB,
            "file {i}: peak grew by {p} MB (bound {BOUND_MB} MB)"
        );
    }
}
