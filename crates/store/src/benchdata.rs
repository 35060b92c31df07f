//! The data of the national-conference replay (`quantriet bench national`, issue 3): one online
//! class of the central level with a bridge point in every commune, its members listed there,
//! one operator account per province and a login for every member who checks in by QR.
//!
//! Written with raw multi-row inserts (a benchmark fixture, not an import): names are synthetic.

use chrono::{DateTime, Duration, Utc};
use domain::ids::AccountId;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::{auth, db_run, now};

/// A value to bind.
enum V {
    I(i64),
    S(String),
    T(DateTime<Utc>),
    Null,
}

/// Inserts `rows` into `table` in multi-row statements, one transaction.
async fn insert(db: &Db, table: &str, cols: &[&str], rows: Vec<Vec<V>>) -> Result<()> {
    let per = db.rows_per_insert(cols.len()).min(1000);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for chunk in rows.chunks(per) {
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {}",
                cols.join(", "),
                db.values(chunk.len(), cols.len(), |ph| format!("({})", ph.join(", ")))
            );
            let mut q = sqlx::query(&sql);
            for row in chunk {
                for v in row {
                    q = match v {
                        V::I(i) => q.bind(*i),
                        V::S(s) => q.bind(s.clone()),
                        V::T(t) => q.bind(*t),
                        V::Null => q.bind(None::<i64>),
                    };
                }
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// One bridge point of the replay: its id and its participants.
#[derive(Debug, Clone)]
pub struct Point {
    pub bridge_point_id: i64,
    pub participants: Vec<i64>,
}

/// What the replay drives.
#[derive(Debug, Clone)]
pub struct Conference {
    pub session_id: i64,
    pub starts_at: DateTime<Utc>,
    /// Per province: the operator's session token and the bridge points of the province.
    pub operators: Vec<(String, Vec<Point>)>,
    /// Members who check in by QR: their session token and participant id.
    pub qr_members: Vec<(String, i64)>,
}

const PROVINCES: i64 = 34;

/// Builds the conference: `bridge_points` communes over 34 provinces, `people` members spread
/// over them, and QR logins for every `qr_every`-th member.
pub async fn national_conference(
    db: &Db,
    bridge_points: i64,
    people: i64,
    qr_every: i64,
) -> Result<Conference> {
    let t = now();
    let starts_at = t - Duration::minutes(60);
    let org = |id: i64,
               parent: Option<i64>,
               province: Option<i64>,
               name: String,
               level: &str,
               kind: &str,
               depth: i64| {
        vec![
            V::I(id),
            parent.map_or(V::Null, V::I),
            province.map_or(V::Null, V::I),
            V::S(format!("B{id}")),
            V::S(name.clone()),
            V::S(domain::text::fold(&name)),
            V::S(domain::text::fold(&name)),
            V::S(level.into()),
            V::S(kind.into()),
            V::I(depth),
            V::T(t),
        ]
    };
    let root = 1_000_000_000;
    let mut orgs = vec![org(
        root,
        None,
        None,
        "Ban Chấp hành Trung ương".into(),
        "Trung ương",
        "party_committee",
        0,
    )];
    let mut closure = vec![vec![V::I(root), V::I(root), V::I(0)]];
    for p in 1..=PROVINCES {
        let id = root + p;
        orgs.push(org(
            id,
            Some(root),
            Some(id),
            format!("Đảng bộ tỉnh số {p}"),
            "Tỉnh",
            "party_committee",
            1,
        ));
        closure.push(vec![V::I(id), V::I(id), V::I(0)]);
        closure.push(vec![V::I(root), V::I(id), V::I(1)]);
    }
    let commune_id = |c: i64| root + 100 + c;
    let province_of = |c: i64| root + 1 + c % PROVINCES;
    for c in 0..bridge_points {
        let (id, prov) = (commune_id(c), province_of(c));
        orgs.push(org(
            id,
            Some(prov),
            Some(prov),
            format!("Đảng bộ xã số {c}"),
            "Xã",
            "party_committee",
            2,
        ));
        closure.push(vec![V::I(id), V::I(id), V::I(0)]);
        closure.push(vec![V::I(prov), V::I(id), V::I(1)]);
        closure.push(vec![V::I(root), V::I(id), V::I(2)]);
    }
    insert(
        db,
        "orgs",
        &[
            "id",
            "parent_id",
            "province_id",
            "code",
            "name",
            "name_folded",
            "sort_key",
            "level_name",
            "kind",
            "depth",
            "created_at",
        ],
        orgs,
    )
    .await?;
    insert(
        db,
        "org_closure",
        &["ancestor_id", "descendant_id", "depth"],
        closure,
    )
    .await?;

    const GIVEN: [&str; 8] = ["An", "Bình", "Chi", "Dũng", "Hà", "Lan", "Minh", "Tâm"];
    let person_base = 1_000_000_000;
    let mut rows = Vec::new();
    for i in 0..people {
        let c = i % bridge_points;
        let given = GIVEN[(i % 8) as usize];
        let full = format!("Nguyễn Văn {given} {i}");
        rows.push(vec![
            V::I(person_base + i),
            V::I(commune_id(c)),
            V::I(province_of(c)),
            V::S(full.clone()),
            V::S("Nguyễn".into()),
            V::S("Văn".into()),
            V::S(format!("{given} {i}")),
            V::S(domain::text::fold(&full)),
            V::S(format!("{} {i:08}", domain::text::fold(given))),
            V::S("male".into()),
            V::S("Kinh".into()),
            V::T(t),
        ]);
        if rows.len() == 100_000 {
            insert(
                db,
                "people",
                &[
                    "id",
                    "org_id",
                    "province_id",
                    "full_name",
                    "family_name",
                    "middle_name",
                    "given_name",
                    "name_folded",
                    "sort_key",
                    "gender",
                    "ethnicity",
                    "created_at",
                ],
                std::mem::take(&mut rows),
            )
            .await?;
        }
    }
    insert(
        db,
        "people",
        &[
            "id",
            "org_id",
            "province_id",
            "full_name",
            "family_name",
            "middle_name",
            "given_name",
            "name_folded",
            "sort_key",
            "gender",
            "ethnicity",
            "created_at",
        ],
        rows,
    )
    .await?;

    let (campaign,): (i64,) = db_run!(db, p => sqlx::query_as("INSERT INTO campaigns (org_id, province_id, name, leader_person_id, starts_on, ends_on, created_at) VALUES ($1, $1, 'Hội nghị toàn quốc', $2, $3, $3, $4) RETURNING id")
        .bind(root).bind(person_base).bind(t.date_naive()).bind(t).fetch_one(p).await)?;
    let (class,): (i64,) = db_run!(db, p => sqlx::query_as("INSERT INTO classes (campaign_id, org_id, province_id, title, form, audience_tier, retake_threshold, created_at) \
        VALUES ($1, $2, $2, 'Hội nghị toàn quốc nghiên cứu, học tập, quán triệt Nghị quyết Đại hội XIV', 'online', 'grassroots', 40, $3) RETURNING id")
        .bind(campaign).bind(root).bind(t).fetch_one(p).await)?;
    let (session_id,): (i64,) = db_run!(db, p => sqlx::query_as("INSERT INTO study_sessions (class_id, starts_at, duration_minutes, topic) VALUES ($1, $2, 240, 'Nghị quyết Đại hội XIV') RETURNING id")
        .bind(class).bind(starts_at).fetch_one(p).await)?;
    let bp_base = 1_000_000_000;
    let bps = (0..bridge_points)
        .map(|c| {
            vec![
                V::I(bp_base + c),
                V::I(class),
                V::I(commune_id(c)),
                V::S(format!("Điểm cầu xã số {c}")),
            ]
        })
        .collect();
    insert(
        db,
        "bridge_points",
        &["id", "class_id", "org_id", "name"],
        bps,
    )
    .await?;
    let pt_base = 1_000_000_000;
    let mut rows = Vec::new();
    for i in 0..people {
        rows.push(vec![
            V::I(pt_base + i),
            V::I(class),
            V::I(person_base + i),
            V::I(bp_base + i % bridge_points),
            V::S("generated".into()),
        ]);
        if rows.len() == 100_000 {
            insert(
                db,
                "participants",
                &["id", "class_id", "person_id", "bridge_point_id", "source"],
                std::mem::take(&mut rows),
            )
            .await?;
        }
    }
    insert(
        db,
        "participants",
        &["id", "class_id", "person_id", "bridge_point_id", "source"],
        rows,
    )
    .await?;

    // Accounts: an operator (secretary) per province, and the members who scan the QR code.
    // The password hash is a placeholder: these accounts log in through sessions made here.
    let acc_base = 1_000_000_000;
    let mut accounts = Vec::new();
    let mut grants = Vec::new();
    for p in 1..=PROVINCES {
        accounts.push(vec![
            V::I(acc_base + p),
            V::S(format!("operator{p}")),
            V::S("!".into()),
            V::S(format!("Điều hành tỉnh {p}")),
            V::Null,
            V::T(t),
        ]);
        grants.push(vec![
            V::I(acc_base + p),
            V::I(root + p),
            V::S("secretary".into()),
        ]);
    }
    let qr: Vec<i64> = (0..people)
        .filter(|i| qr_every > 0 && i % qr_every == 1)
        .collect();
    for i in &qr {
        accounts.push(vec![
            V::I(acc_base + 1000 + i),
            V::S(format!("member{i}")),
            V::S("!".into()),
            V::S(format!("Đảng viên {i}")),
            V::I(person_base + i),
            V::T(t),
        ]);
    }
    insert(
        db,
        "accounts",
        &[
            "id",
            "username",
            "password_hash",
            "display_name",
            "person_id",
            "created_at",
        ],
        accounts,
    )
    .await?;
    insert(db, "role_grants", &["account_id", "org_id", "role"], grants).await?;
    let mut ids: Vec<AccountId> = (1..=PROVINCES).map(|p| AccountId(acc_base + p)).collect();
    ids.extend(qr.iter().map(|i| AccountId(acc_base + 1000 + i)));
    let tokens = auth::bulk_sessions(db, &ids).await?;
    let mut points: Vec<Vec<Point>> = vec![Vec::new(); PROVINCES as usize];
    for c in 0..bridge_points {
        let participants = (c..people)
            .step_by(bridge_points as usize)
            .map(|i| pt_base + i)
            .collect();
        points[(c % PROVINCES) as usize].push(Point {
            bridge_point_id: bp_base + c,
            participants,
        });
    }
    let operators = tokens
        .iter()
        .take(PROVINCES as usize)
        .cloned()
        .zip(points)
        .collect();
    let qr_members = tokens
        .into_iter()
        .skip(PROVINCES as usize)
        .zip(qr.iter().map(|i| pt_base + i))
        .collect();
    Ok(Conference {
        session_id,
        starts_at,
        operators,
        qr_members,
    })
}
