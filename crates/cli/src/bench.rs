//! `quantriet bench http`: the real app over HTTP against a hello-world axum route measured in
//! the same run on the same machine, so the figures are ratios, not absolute numbers that depend
//! on the machine. Each engine gets a fresh database with the demo province.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use fixtures::demo::{self, Scale};
use fixtures::testing::{fresh, Engine};
use serde::Serialize;
use store::Db;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum Which {
    /// Member import (read, check, write in one transaction) vs. the engine's own bulk path for
    /// the same rows (multi-row INSERT on SQLite, COPY on PostgreSQL) into the same indexed table
    /// and into a copy without indexes, measured in the same run, on SQLite and PostgreSQL.
    Import {
        /// Rows in the generated file (a province is about 92,000; the country 5.6 million).
        #[arg(long, default_value_t = 92_000)]
        rows: usize,
        /// Only this engine: sqlite or postgres (default: both).
        #[arg(long)]
        engine: Option<String>,
    },
    /// The check-in endpoint (R3.4) under concurrent clients vs. a hello-world route and the same
    /// stack doing nothing (an authenticated no-op POST), measured in the same run.
    Checkin {
        /// Concurrent clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Only this engine: sqlite or postgres (default: both).
        #[arg(long)]
        engine: Option<String>,
    },
    /// Replay of the national conference: bridge points, batch uploads and QR check-ins.
    National {
        #[arg(long, default_value_t = 31_000)]
        bridge_points: i64,
        /// Participants, each checking in once.
        #[arg(long, default_value_t = 1_900_000)]
        people: i64,
        /// One participant in this many checks in by QR on a phone; the rest by operator upload.
        #[arg(long, default_value_t = 20)]
        qr_every: i64,
        /// sqlite or postgres.
        #[arg(long, default_value = "sqlite")]
        engine: String,
    },
    /// Issue 12's pages at province (or national) scale: single-client p50/p99 and the rate at
    /// many clients against a hello-world route and the same stack doing nothing (an
    /// authenticated no-op POST), measured in the same run.
    Pages {
        /// small, province or national.
        #[arg(long, default_value = "province")]
        scale: String,
        /// sqlite or postgres.
        #[arg(long, default_value = "sqlite")]
        engine: String,
        /// Concurrent clients for the rate.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// The roll-up of a cascaded task (issue 14) at country size (the centre, 34 provinces,
    /// 3,321 communes, their cells) or province size: single-client p50/p99 and the rate at many
    /// clients beside a hello-world route and the same stack doing nothing, in the same run.
    Plans {
        /// small, province or country.
        #[arg(long, default_value = "province")]
        scale: String,
        /// sqlite or postgres.
        #[arg(long, default_value = "sqlite")]
        engine: String,
        /// Concurrent clients for the rate.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// The year-end rating eligibility report (issue 15, R3.7) on a demo of the chosen scale with
    /// a year of conduct records: the report page and API of the province, its ineligible
    /// members, a cell's page and a commune's xlsx; single-client p50/p99 and the rate at many
    /// clients beside a hello-world route and the same stack doing nothing, in the same run.
    Conduct {
        /// small, province or national.
        #[arg(long, default_value = "province")]
        scale: String,
        /// sqlite or postgres.
        #[arg(long, default_value = "sqlite")]
        engine: String,
        /// Concurrent clients for the rate.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// A knowledge contest taken by `people` (issue 16): submissions over HTTP, then the ranking.
    Contest {
        #[arg(long, default_value = "province")]
        scale: String,
        #[arg(long, default_value = "sqlite")]
        engine: String,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        #[arg(long, default_value_t = 200_000)]
        people: i64,
    },
    /// Pages and API calls of the study loop vs. a hello-world route, on SQLite and PostgreSQL.
    Http {
        /// Concurrent clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

#[derive(Debug, Clone, Serialize)]
struct Figure {
    name: String,
    engine: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// rps / baseline rps
    ratio: f64,
    /// Rows written per second, for batch writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_per_s: Option<f64>,
}

pub async fn run(which: Which, json: bool, config: &Config) -> anyhow::Result<()> {
    match which {
        Which::Http { clients, seconds } => http(clients, seconds, json, config).await,
        Which::Pages {
            scale,
            engine,
            clients,
            seconds,
        } => crate::bench_pages::pages(&scale, &engine, clients, seconds, json).await,
        Which::Plans {
            scale,
            engine,
            clients,
            seconds,
        } => crate::bench_plans::plans(&scale, &engine, clients, seconds, json).await,
        Which::Conduct {
            scale,
            engine,
            clients,
            seconds,
        } => crate::bench_conduct::conduct(&scale, &engine, clients, seconds, json).await,
        Which::Contest {
            scale,
            engine,
            clients,
            seconds,
            people,
        } => crate::bench_contest::contest(&scale, &engine, clients, seconds, people, json).await,
        Which::Import { rows, engine } => import(rows, engine.as_deref(), json).await,
        Which::Checkin {
            clients,
            seconds,
            engine,
        } => crate::bench_checkin::checkin(clients, seconds, engine.as_deref(), json).await,
        Which::National {
            bridge_points,
            people,
            qr_every,
            engine,
        } => crate::bench_checkin::national(bridge_points, people, qr_every, &engine, json).await,
    }
}

/// Member `i` of the generated province: 480 names that repeat as in life, birth dates, cards.
struct BenchMember {
    name: String,
    birth: chrono::NaiveDate,
    female: bool,
    card: String,
}

fn bench_member(i: usize) -> BenchMember {
    const FAMILY: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"];
    const MIDDLE: [&str; 6] = ["Văn", "Thị", "Hữu", "Minh", "Thu", "Đức"];
    const GIVEN: [&str; 10] = [
        "An", "Bình", "Cường", "Dũng", "Hà", "Lan", "Mai", "Nam", "Tâm", "Yến",
    ];
    let day = u32::try_from(1 + i % 28).unwrap_or(1);
    let month = u32::try_from(1 + (i / 28) % 12).unwrap_or(1);
    let year = 1950 + i32::try_from(i % 50).unwrap_or(0);
    BenchMember {
        name: format!(
            "{} {} {}",
            FAMILY[i % 8],
            MIDDLE[(i / 8) % 6],
            GIVEN[(i / 48) % 10]
        ),
        birth: chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default(),
        female: i.is_multiple_of(3),
        card: format!("{:09}", 500_000_000 + i),
    }
}

/// Writes the generated member file of `n` rows to `path`, a row at a time (csv, UTF-8).
fn member_csv(path: &std::path::Path, n: usize, cells: &[String]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(
        "Họ và tên,Ngày sinh,Giới tính,Dân tộc,Số thẻ đảng viên,Mã tổ chức,Chức vụ\n".as_bytes(),
    )?;
    for i in 0..n {
        let m = bench_member(i);
        writeln!(
            out,
            "{},{},{},Kinh,{},{},",
            m.name,
            m.birth.format("%d/%m/%Y"),
            if m.female { "Nữ" } else { "Nam" },
            m.card,
            cells[i % cells.len()]
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The process's peak resident memory since the last [`reset_peak_memory`] (MB; Linux only).
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Starts measuring the peak memory afresh (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[derive(Serialize)]
struct ImportFigure {
    engine: String,
    rows: usize,
    /// The engine's bulk path into the same indexed table (issue 12's baseline).
    baseline_rows_per_s: f64,
    /// The same into a copy of the table without indexes or triggers.
    bare_rows_per_s: f64,
    import_rows_per_s: f64,
    /// import / bulk into the indexed table (target: at least 0.5).
    ratio: f64,
    /// import / bulk into the bare table.
    bare_ratio: f64,
    /// The dry run (read and check, nothing written).
    dry_run_s: f64,
    /// The import itself (read, check and write in one transaction).
    import_s: f64,
    /// Peak resident memory of the process during the dry run and the import (MB).
    peak_mb: Option<f64>,
    file_mb: f64,
}

/// The demo's scale by name (`--scale`).
pub(crate) fn scale_of(s: &str) -> anyhow::Result<Scale> {
    Ok(match s {
        "small" => Scale::Small,
        "province" => Scale::Province,
        "national" => Scale::National,
        other => anyhow::bail!("unknown scale {other}: small, province or national"),
    })
}

/// The `p` quantile of `sorted` latencies, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The engines asked for: `sqlite`, `postgres`, or both when none is named.
pub(crate) fn engines(only: Option<&str>) -> anyhow::Result<Vec<Engine>> {
    Ok(match only {
        None => vec![Engine::Sqlite, Engine::Postgres],
        Some("sqlite") => vec![Engine::Sqlite],
        Some("postgres") => vec![Engine::Postgres],
        Some(other) => anyhow::bail!("unknown engine {other}: sqlite or postgres"),
    })
}

/// `QUANTRIET_BENCH_KEEP=1` keeps a benchmark's database for a look afterwards (its URL is
/// printed); otherwise it is dropped with the returned guard.
pub(crate) fn keep_if_asked(t: fixtures::testing::TestDb) -> Option<fixtures::testing::TestDb> {
    if std::env::var("QUANTRIET_BENCH_KEEP").is_ok_and(|v| v == "1") {
        eprintln!("kept: {}", t.url);
        std::mem::forget(t);
        None
    } else {
        Some(t)
    }
}

/// A fresh, migrated database of `engine` (`None` when PostgreSQL is unreachable).
pub(crate) async fn fresh_db(
    engine: Engine,
) -> anyhow::Result<Option<(fixtures::testing::TestDb, Db)>> {
    let Some(t) = fresh(engine).await else {
        eprintln!("PostgreSQL unreachable: skipping it");
        return Ok(None);
    };
    let db = Db::connect(&t.url).await?;
    db.migrate().await?;
    Ok(Some((t, db)))
}

async fn import(n: usize, only: Option<&str>, json: bool) -> anyhow::Result<()> {
    let mut figures = Vec::new();
    for engine in engines(only)? {
        // Baseline: the same number of people through the store's raw batched INSERT.
        let Some((test_db, db)) = fresh_db(engine).await? else {
            continue;
        };
        demo::load(&db, Scale::Small, 2026, true).await?;
        let scope = store::auth::scope_of(&db, "admin").await?;
        let commune = store::org::find_by_code(&db, "T01-X002")
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo commune missing"))?;
        let cells: Vec<(i64, String)> = match &db {
            Db::Sqlite(p) => {
                sqlx::query_as("SELECT id, code FROM orgs WHERE parent_id = $1")
                    .bind(commune)
                    .fetch_all(p)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as("SELECT id, code FROM orgs WHERE parent_id = $1")
                    .bind(commune)
                    .fetch_all(p)
                    .await?
            }
        };
        // Baseline (issue 12): the engine's own bulk path for the same members, folded and
        // keyed beforehand, into the same table with its indexes and triggers (a multi-row
        // prepared INSERT in one transaction without RETURNING on SQLite, COPY on PostgreSQL);
        // and the same into a copy of the table without indexes or triggers.
        let provinces: HashMap<i64, i64> = store::db_run!(&db, p => sqlx::query_as::<_, (i64, i64)>(
            "SELECT id, province_id FROM orgs WHERE parent_id = $1").bind(commune).fetch_all(p).await)?
            .into_iter()
            .collect();
        let folded: Vec<Folded> = (0..n)
            .map(|i| Folded::of(i, cells[i % cells.len()].0, &provinces))
            .collect::<anyhow::Result<_>>()?;
        store::db_exec!(&db, p => sqlx::query(match engine {
            Engine::Sqlite => "CREATE TABLE people_bare AS SELECT * FROM people WHERE 0",
            Engine::Postgres => "CREATE TABLE people_bare (LIKE people INCLUDING DEFAULTS INCLUDING IDENTITY)",
        }).execute(p).await)?;
        let bare = bulk_insert(&db, "people_bare", &folded).await?;
        let elapsed = bulk_insert(&db, "people", &folded).await?;
        drop(folded);
        let bare_rate = n as f64 / bare.as_secs_f64();
        let baseline = n as f64 / elapsed.as_secs_f64();
        db.close().await;
        drop(test_db);

        let Some((_t, db)) = fresh_db(engine).await? else {
            continue;
        };
        demo::load(&db, Scale::Small, 2026, true).await?;
        let codes: Vec<String> = cells.iter().map(|(_, c)| c.clone()).collect();
        let path = std::env::temp_dir().join(format!("quantriet-bench-{}.csv", std::process::id()));
        member_csv(&path, n, &codes)?;
        let file_mb = std::fs::metadata(&path)?.len() as f64 / 1_048_576.0;
        let src = store::import::Source::File(path.clone());
        let target = domain::ids::OrgId(commune);
        reset_peak_memory();
        let t0 = Instant::now();
        let dry = store::import::Options {
            max_bytes: u64::MAX,
            ..Default::default()
        };
        let out =
            store::import::import_members(&db, &scope, target, "bench.csv", &src, &dry).await?;
        let dry_run_s = t0.elapsed().as_secs_f64();
        anyhow::ensure!(
            out.plan.is_clean() && out.plan.new == n,
            "unexpected plan: {} new, {} errors",
            out.plan.new,
            out.plan.error_total
        );
        let t1 = Instant::now();
        let write = store::import::Options {
            write: true,
            expect: Some(out.plan.expected()),
            max_bytes: u64::MAX,
            ..Default::default()
        };
        let out =
            store::import::import_members(&db, &scope, target, "bench.csv", &src, &write).await?;
        let import_s = t1.elapsed().as_secs_f64();
        let peak_mb = peak_memory_mb();
        let _ = std::fs::remove_file(&path);
        anyhow::ensure!(
            out.applied.as_ref().map(|a| a.inserted) == Some(n),
            "the import wrote {:?}",
            out.applied
        );
        let rate = n as f64 / import_s;
        figures.push(ImportFigure {
            engine: db.engine().into(),
            rows: n,
            baseline_rows_per_s: baseline,
            bare_rows_per_s: bare_rate,
            import_rows_per_s: rate,
            ratio: rate / baseline,
            bare_ratio: rate / bare_rate,
            dry_run_s,
            import_s,
            peak_mb,
            file_mb,
        });
        db.close().await;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        println!("member import of {n} rows (csv), same machine, same run\n");
        println!(
            "{:<9} {:>12} {:>12} {:>11} {:>7} {:>7} {:>10} {:>9} {:>8} {:>8}",
            "engine",
            "bulk r/s",
            "bare r/s",
            "import r/s",
            "ratio",
            "bare",
            "dry run s",
            "import s",
            "file MB",
            "peak MB"
        );
        for f in &figures {
            println!(
                "{:<9} {:>12.0} {:>12.0} {:>11.0} {:>7.3} {:>7.3} {:>10.2} {:>9.2} {:>8.0} {:>8}",
                f.engine,
                f.baseline_rows_per_s,
                f.bare_rows_per_s,
                f.import_rows_per_s,
                f.ratio,
                f.bare_ratio,
                f.dry_run_s,
                f.import_s,
                f.file_mb,
                f.peak_mb.map_or("-".into(), |m| format!("{m:.0}"))
            );
        }
        println!("\nbulk = the engine's own bulk path (SQLite: multi-row prepared INSERT in one transaction, no RETURNING; PostgreSQL: COPY) for the same rows, folded beforehand, into the same table with its indexes and triggers; bare = the same into a copy without indexes or triggers; ratio = import ÷ bulk");
    }
    Ok(())
}

/// One member as the people table holds it, folded and keyed before the clock starts.
struct Folded {
    org_id: i64,
    province_id: i64,
    full: String,
    family: String,
    middle: String,
    given: String,
    folded: String,
    sort_key: String,
    birth: chrono::NaiveDate,
    gender: &'static str,
    card: String,
}

impl Folded {
    fn of(i: usize, org_id: i64, provinces: &HashMap<i64, i64>) -> anyhow::Result<Self> {
        let m = bench_member(i);
        let name = domain::org::PersonName::from_full(&m.name)?;
        Ok(Self {
            org_id,
            province_id: provinces.get(&org_id).copied().unwrap_or(org_id),
            folded: domain::text::fold(&name.full),
            sort_key: name.sort_key(),
            full: name.full,
            family: name.family,
            middle: name.middle,
            given: name.given,
            birth: m.birth,
            gender: if m.female { "female" } else { "male" },
            card: m.card,
        })
    }
}

const FOLDED_COLUMNS: &str = "org_id, province_id, full_name, family_name, middle_name, given_name, name_folded, sort_key, \
     birth_date, gender, ethnicity, party_card_number, positions, management_level, exempt_from_activities, created_at";

/// The engine's bulk path for `rows` into `table`; answers the time it took.
async fn bulk_insert(db: &Db, table: &str, rows: &[Folded]) -> anyhow::Result<Duration> {
    let now = store::now();
    let t0 = Instant::now();
    match db {
        Db::Sqlite(p) => {
            let per = db.rows_per_insert(16);
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(per) {
                let sql = format!(
                    "INSERT INTO {table} ({FOLDED_COLUMNS}) VALUES {}",
                    db.values(chunk.len(), 16, |ph| format!("({})", ph.join(", ")))
                );
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q
                        .bind(r.org_id)
                        .bind(r.province_id)
                        .bind(&r.full)
                        .bind(&r.family)
                        .bind(&r.middle)
                        .bind(&r.given)
                        .bind(&r.folded)
                        .bind(&r.sort_key)
                        .bind(r.birth)
                        .bind(r.gender)
                        .bind("Kinh")
                        .bind(&r.card)
                        .bind("")
                        .bind("none")
                        .bind(false)
                        .bind(now);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Db::Postgres(p) => {
            use sqlx::postgres::PgPoolCopyExt;
            let mut copy = p
                .copy_in_raw(&format!(
                    "COPY {table} ({FOLDED_COLUMNS}) FROM STDIN (FORMAT csv)"
                ))
                .await?;
            let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            let stamp = now.to_rfc3339();
            let mut buf = String::with_capacity(1 << 20);
            for r in rows {
                use std::fmt::Write as _;
                let _ = writeln!(
                    buf,
                    "{},{},{},{},{},{},{},{},{},{},Kinh,{},\"\",none,false,{stamp}",
                    r.org_id,
                    r.province_id,
                    quote(&r.full),
                    quote(&r.family),
                    quote(&r.middle),
                    quote(&r.given),
                    quote(&r.folded),
                    quote(&r.sort_key),
                    r.birth,
                    r.gender,
                    quote(&r.card),
                );
                if buf.len() > 1 << 20 {
                    copy.send(buf.as_bytes()).await?;
                    buf.clear();
                }
            }
            copy.send(buf.as_bytes()).await?;
            copy.finish().await?;
        }
    }
    Ok(t0.elapsed())
}

async fn http(clients: usize, seconds: u64, json: bool, _config: &Config) -> anyhow::Result<()> {
    let dur = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let (base_rps, base_p50, base_p99) = baseline(&client, clients, dur).await?;
    let mut figures = vec![Figure {
        name: "hello-world axum (baseline)".into(),
        engine: "-".into(),
        rps: base_rps,
        p50_ms: base_p50,
        p99_ms: base_p99,
        ratio: 1.0,
        rows_per_s: None,
    }];
    for engine in engines(None)? {
        let Some((_t, db)) = fresh_db(engine).await? else {
            continue;
        };
        demo::load(&db, Scale::Small, 2026, true).await?;
        let app = web::app::App::build(db.clone(), "127.0.0.1:0", Default::default()).await?;
        let base = format!("http://{}", app.local_addr()?);
        let server = tokio::spawn(app.serve(std::future::pending()));
        let token = login(&db).await?;
        let auth = format!("Bearer {token}");
        let name = db.engine().to_string();
        // The in-person demo class of the first commune: its first session has ~100 participants.
        let classes: serde_json::Value = client
            .get(format!("{base}/api/v1/classes"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        let class_id = classes
            .as_array()
            .and_then(|a| a.iter().find(|c| c["form"] == "in_person"))
            .and_then(|c| c["id"].as_i64())
            .unwrap_or(2);
        let detail: serde_json::Value = client
            .get(format!("{base}/api/v1/classes/{class_id}"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        let session_id = detail["sessions"][0]["id"].as_i64().unwrap_or(1);
        let sheet: serde_json::Value = client
            .get(format!("{base}/api/v1/sessions/{session_id}/attendance"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        let marks: Vec<serde_json::Value> = sheet
            .as_array()
            .map(|rows| rows.iter().map(|r| serde_json::json!({"participant_id": r["participant_id"], "status": "present", "late_minutes": 5})).collect())
            .unwrap_or_default();
        let batch = Arc::new(serde_json::json!({ "marks": marks }).to_string());
        let rows = marks.len();

        let cases: Vec<(&str, Req)> = vec![
            (
                "GET /api/v1/people (50 per page, name order)",
                Req::get(format!("{base}/api/v1/people?per_page=50"), &auth),
            ),
            (
                "GET /classes/{id} results page (HTML)",
                Req::get(format!("{base}/classes/{class_id}?tab=results"), &auth),
            ),
            (
                "PUT /api/v1/sessions/{id}/attendance (batch)",
                Req::put(
                    format!("{base}/api/v1/sessions/{session_id}/attendance"),
                    &auth,
                    batch,
                ),
            ),
        ];
        for (label, req) in cases {
            let is_batch = req.body.is_some();
            let (rps, p50, p99) = load(&client, clients, dur, req).await?;
            figures.push(Figure {
                name: label.into(),
                engine: name.clone(),
                rps,
                p50_ms: p50,
                p99_ms: p99,
                ratio: rps / base_rps,
                rows_per_s: is_batch.then_some(rps * rows as f64),
            });
        }
        server.abort();
        db.close().await;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "clients": clients, "seconds": seconds, "baseline_rps": base_rps, "figures": figures })
            )?
        );
    } else {
        println!("{clients} concurrent clients, {seconds} s each, same machine, same run\n");
        println!(
            "{:<50} {:>8} {:>10} {:>8} {:>8} {:>7} {:>11}",
            "request", "engine", "req/s", "p50 ms", "p99 ms", "ratio", "rows/s"
        );
        for f in &figures {
            let rows = f.rows_per_s.map(|r| format!("{r:.0}")).unwrap_or_default();
            println!(
                "{:<50} {:>8} {:>10.0} {:>8.2} {:>8.2} {:>7.3} {:>11}",
                f.name, f.engine, f.rps, f.p50_ms, f.p99_ms, f.ratio, rows
            );
        }
    }
    Ok(())
}

#[derive(Clone)]
pub(crate) struct Req {
    url: String,
    /// The `authorization` header (or, with `cookie`, the session token).
    auth: String,
    /// Authenticated by the session cookie, as a browser is, not a bearer token.
    cookie: bool,
    body: Option<Arc<String>>,
    /// POST without a body (the same-stack baseline), else GET or PUT by the body.
    post: bool,
}

impl Req {
    pub(crate) fn get(url: String, auth: &str) -> Self {
        Self {
            url,
            auth: auth.into(),
            cookie: false,
            body: None,
            post: false,
        }
    }
    /// A GET with the session cookie of `token` (a page as the browser asks for it).
    pub(crate) fn page(url: String, token: &str) -> Self {
        Self {
            cookie: true,
            ..Self::get(url, token)
        }
    }
    fn put(url: String, auth: &str, body: Arc<String>) -> Self {
        Self {
            body: Some(body),
            ..Self::get(url, auth)
        }
    }
    /// An empty POST (the authenticated no-op `/api/v1/ping`).
    pub(crate) fn post(url: String, auth: &str) -> Self {
        Self {
            post: true,
            ..Self::get(url, auth)
        }
    }
}

/// One measured page of `bench pages`, `bench plans` and `bench conduct`: a line of the table or
/// of `--json`.
#[derive(Debug, Serialize)]
pub(crate) struct PageLine {
    pub page: String,
    pub engine: String,
    pub scale: String,
    /// Single client.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Requests per second at `clients` concurrent clients.
    pub rps: f64,
    /// rps / the same stack doing nothing (`POST /api/v1/ping`).
    pub stack_ratio: f64,
    /// rps / hello-world.
    pub ratio: f64,
    /// Bytes of the answer.
    pub bytes: usize,
}

/// How the page benchmarks measure, the same for each: the hello-world rate of the run, the
/// rate's clients and the seconds of each measurement.
pub(crate) struct Pages<'a> {
    pub client: &'a reqwest::Client,
    pub clients: usize,
    pub dur: Duration,
    pub hello_rps: f64,
    pub scale: &'a str,
}

impl Pages<'_> {
    /// The same stack doing nothing (`req`: an authenticated `POST /api/v1/ping`): its rate, and
    /// the first line of an engine's table.
    pub(crate) async fn stack(&self, req: Req, engine: &str) -> anyhow::Result<(f64, PageLine)> {
        let (rps, p50, p99) = load(self.client, self.clients, self.dur, req).await?;
        Ok((
            rps,
            PageLine {
                page: "POST /api/v1/ping (same stack, no work)".into(),
                engine: engine.into(),
                scale: self.scale.into(),
                p50_ms: p50,
                p99_ms: p99,
                rps,
                stack_ratio: 1.0,
                ratio: rps / self.hello_rps,
                bytes: 0,
            },
        ))
    }

    /// One page (`req`, whose answer `body` was fetched once and checked): p50/p99 with one
    /// client, the rate with many. A page far over the target is not loaded by many clients:
    /// they would only queue for the pool (and time out); its rate is the single client's, and
    /// its label says so.
    pub(crate) async fn page(
        &self,
        req: Req,
        label: String,
        engine: &str,
        stack_rps: f64,
        body: usize,
    ) -> anyhow::Result<PageLine> {
        let (one_rps, p50, p99) = load(self.client, 1, self.dur, req.clone()).await?;
        let (rps, note) = if p50 > 100.0 {
            (one_rps, " [1 client]")
        } else {
            (load(self.client, self.clients, self.dur, req).await?.0, "")
        };
        Ok(PageLine {
            page: format!("{label}{note}"),
            engine: engine.into(),
            scale: self.scale.into(),
            p50_ms: p50,
            p99_ms: p99,
            rps,
            stack_ratio: rps / stack_rps,
            ratio: rps / self.hello_rps,
            bytes: body,
        })
    }
}

/// Prints `lines`: one JSON object a line with `json`, else the table under a line that says
/// what was measured how.
pub(crate) fn print_page_lines(
    lines: &[PageLine],
    json: bool,
    hello_rps: f64,
    clients: usize,
    seconds: u64,
    scale: &str,
) -> anyhow::Result<()> {
    if json {
        for l in lines {
            println!("{}", serde_json::to_string(l)?);
        }
        return Ok(());
    }
    println!(
        "hello-world: {hello_rps:.0} req/s; {clients} clients for the rate, 1 client for p50/p99; {seconds} s each; same machine, same run; scale {scale}\n"
    );
    let w = lines
        .iter()
        .map(|l| l.page.chars().count())
        .max()
        .unwrap_or(0)
        .max(62);
    println!(
        "{:<w$} {:>8} {:>8} {:>8} {:>9} {:>7} {:>7} {:>8}",
        "page", "engine", "p50 ms", "p99 ms", "req/s", "stack", "hello", "bytes"
    );
    for l in lines {
        println!(
            "{:<w$} {:>8} {:>8.2} {:>8.2} {:>9.0} {:>7.3} {:>7.3} {:>8}",
            l.page, l.engine, l.p50_ms, l.p99_ms, l.rps, l.stack_ratio, l.ratio, l.bytes
        );
    }
    Ok(())
}

/// A bearer token of the demo admin. Made directly in the store: the admin's password login
/// also asks for a one-use TOTP code (issue 4), which a benchmark has no business spending.
pub(crate) async fn login(db: &Db) -> anyhow::Result<String> {
    let admin = store::auth::scope_of(db, "admin").await?;
    Ok(store::auth::create_session(db, admin.account_id).await?)
}

pub(crate) async fn baseline(
    client: &reqwest::Client,
    clients: usize,
    dur: Duration,
) -> anyhow::Result<(f64, f64, f64)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let r = load(
        client,
        clients,
        dur,
        Req::get(format!("http://{addr}/"), ""),
    )
    .await;
    server.abort();
    r
}

/// Runs `clients` loops for `dur`; returns (requests/s, p50 ms, p99 ms). Any non-2xx aborts.
pub(crate) async fn load(
    client: &reqwest::Client,
    clients: usize,
    dur: Duration,
    req: Req,
) -> anyhow::Result<(f64, f64, f64)> {
    // Warm-up: connections and caches.
    for _ in 0..clients.min(16) {
        send(client, &req).await?;
    }
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = client.clone();
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while start.elapsed() < dur {
                let t = Instant::now();
                send(&client, &req).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok((all.len() as f64 / secs, pct(0.50), pct(0.99)))
}

async fn send(client: &reqwest::Client, req: &Req) -> anyhow::Result<()> {
    fetch(client, req).await.map(|_| ())
}

/// One request of `req`; answers the body. Any non-2xx is an error.
pub(crate) async fn fetch(client: &reqwest::Client, req: &Req) -> anyhow::Result<Vec<u8>> {
    let mut b = match &req.body {
        Some(body) => client
            .put(&req.url)
            .header("content-type", "application/json")
            .body(body.as_ref().clone()),
        None if req.post => client.post(&req.url),
        None => client.get(&req.url),
    };
    if req.cookie {
        b = b.header(
            "cookie",
            format!("{}={}", web::auth::SESSION_COOKIE, req.auth),
        );
    } else if !req.auth.is_empty() {
        b = b.header("authorization", &req.auth);
    }
    let r = b.send().await?;
    if !r.status().is_success() {
        anyhow::bail!("{} answered {}", req.url, r.status());
    }
    Ok(r.bytes().await?.to_vec())
}
