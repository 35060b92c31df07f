//! The demo province, loaded on first start and by `quantriet demo`. Deterministic for a seed:
//! the same seed gives the same names, tree, classes and attendance.
//!
//! The tree follows the 2025 reform (province → communes/wards → cells; no district level), with
//! affiliated party committees and a vertical sector beside the communes. Names are Vietnamese,
//! with Ba Na, Xơ Đăng, Gia Rai and Ê Đê names in the mountain communes; their given name is set
//! by hand where it is not the last word.

use chrono::NaiveDate;
use domain::auth::{Clearance, Role};
use domain::ids::{OrgId, PersonId};
use domain::org::{Gender, ManagementLevel, OrgKind, PersonName};
use domain::resolutions::ResolutionInput;
use domain::study::{
    AttendanceMark, AttendanceStatus, BridgePointInput, CampaignInput, ClassInput, SessionInput,
};
use domain::text;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::org::{self, NewOrg, NewPerson};
use crate::scope::{Grant, Scope};
use crate::study::{attendance, classes, participants};
use crate::{auth, resolutions, study};

/// The password of every demo account (printed at start, written in the README).
pub const DEMO_PASSWORD: &str = "quantriet-demo-2026";

/// The demo admin's TOTP secret (base32). Admins must use two factors; the demo publishes this
/// one so that anyone can add it to an authenticator app. Never use it outside the demo.
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// One province, 6 communes, about 900 members: the first-start demo.
    Small,
    /// One province of about 92,000 members in about 100 communes.
    Province,
    /// 34 provinces, about 5.6 million members.
    National,
}

impl Scale {
    fn shape(self) -> (usize, usize, usize, std::ops::RangeInclusive<usize>) {
        // (provinces, communes per province, cells per commune, members per cell)
        match self {
            Scale::Small => (1, 6, 5, 18..=30),
            Scale::Province => (1, 100, 10, 75..=105),
            Scale::National => (34, 100, 10, 140..=190),
        }
    }
}

/// What was loaded.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub provinces: usize,
    pub orgs: usize,
    pub people: usize,
}

const PROVINCES: [&str; 34] = [
    "Quảng Ngãi",
    "Gia Lai",
    "Đắk Lắk",
    "Lâm Đồng",
    "Khánh Hòa",
    "Đà Nẵng",
    "Huế",
    "Quảng Trị",
    "Hà Tĩnh",
    "Nghệ An",
    "Thanh Hóa",
    "Ninh Bình",
    "Hưng Yên",
    "Hải Phòng",
    "Quảng Ninh",
    "Bắc Ninh",
    "Thái Nguyên",
    "Lạng Sơn",
    "Cao Bằng",
    "Tuyên Quang",
    "Lào Cai",
    "Phú Thọ",
    "Sơn La",
    "Điện Biên",
    "Lai Châu",
    "Hà Nội",
    "Thành phố Hồ Chí Minh",
    "Đồng Nai",
    "Tây Ninh",
    "Đồng Tháp",
    "Vĩnh Long",
    "An Giang",
    "Cần Thơ",
    "Cà Mau",
];

const COMMUNES: [&str; 24] = [
    "phường Kon Tum",
    "xã Đăk Hà",
    "xã Măng Đen",
    "xã Đăk Tô",
    "xã Ngọc Hồi",
    "xã Sa Thầy",
    "phường Đăk Bla",
    "xã Ia H'Drai",
    "xã Đăk Glei",
    "xã Kon Plông",
    "xã Ia Chim",
    "xã Đăk Rơ Wa",
    "phường Trương Quang Trọng",
    "xã Tịnh Khê",
    "xã Bình Sơn",
    "xã Sơn Tịnh",
    "xã Mộ Đức",
    "xã Đức Phổ",
    "xã Ba Tơ",
    "xã Minh Long",
    "xã Sơn Hà",
    "xã Trà Bồng",
    "xã Lý Sơn",
    "phường Cẩm Thành",
];

const CELLS: [&str; 12] = [
    "Chi bộ thôn 1",
    "Chi bộ thôn 2",
    "Chi bộ thôn 3",
    "Chi bộ làng Kon Klor",
    "Chi bộ Trường Tiểu học",
    "Chi bộ Trường THCS",
    "Chi bộ Trạm Y tế",
    "Chi bộ Quân sự",
    "Chi bộ Công an xã",
    "Chi bộ thôn Đăk Lấp",
    "Chi bộ tổ dân phố 4",
    "Chi bộ làng Plei Đôn",
];

const FAMILY: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE_M: [&str; 10] = [
    "Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Thanh", "Công", "Ngọc", "Đình",
];
const MIDDLE_F: [&str; 8] = [
    "Thị",
    "Thị Thu",
    "Ngọc",
    "Thanh",
    "Thị Mỹ",
    "Thu",
    "Kim",
    "Thị Hồng",
];
const GIVEN_M: [&str; 20] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khánh", "Long", "Minh", "Nam", "Phong",
    "Phúc", "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Ân", "Ẩn",
];
const GIVEN_F: [&str; 18] = [
    "Ánh", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Oanh", "Phương", "Tâm",
    "Thảo", "Trang", "Uyên", "Vân", "Yến", "Ưng",
];
/// Ba Na / Xơ Đăng names written and sorted family + given.
const HIGHLAND_FAMILY: [&str; 6] = ["A", "Y", "Rơ Châm", "Siu", "Ksor", "Đinh"];
const HIGHLAND_GIVEN: [&str; 10] = [
    "Blương", "Thuận", "Hyin", "Pang", "Jút", "Nhơn", "Ber", "Đoan", "Kưi", "Drim",
];
/// Ê Đê clan names: "Y Blô Kpă" is written prefix + given + clan and sorts by the given name.
const EDE_CLAN: [&str; 6] = ["Kpă", "Niê", "Êban", "Mlô", "Byă", "Adrơng"];
const EDE_GIVEN: [&str; 8] = ["Blô", "Hen", "Lim", "Ngơn", "Wơn", "Tlang", "Bhiăm", "Khuê"];

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

struct Gen {
    rng: StdRng,
    card: u64,
}

impl Gen {
    fn person(
        &mut self,
        org: OrgId,
        highland: bool,
        positions: &str,
        level: ManagementLevel,
    ) -> Result<NewPerson> {
        let female = self.rng.gen_bool(0.4);
        let roll: f64 = self.rng.gen();
        let (name, ethnicity) = if highland && roll < 0.15 {
            // Ê Đê: "Y Blô Kpă" (men), "H'Hen Niê" (women).
            let given = pick(&mut self.rng, &EDE_GIVEN);
            let clan = pick(&mut self.rng, &EDE_CLAN);
            let prefix = if female { "H'" } else { "Y " };
            let full = format!("{prefix}{given} {clan}");
            let middle = prefix.trim_end().trim_end_matches('\'');
            (PersonName::written_as(&full, clan, middle, given), "Ê Đê")
        } else if highland && roll < 0.5 {
            let fam = pick(&mut self.rng, &HIGHLAND_FAMILY);
            let given = pick(&mut self.rng, &HIGHLAND_GIVEN);
            let eth = if roll < 0.3 {
                "Ba Na"
            } else if roll < 0.4 {
                "Xơ Đăng"
            } else {
                "Gia Rai"
            };
            (
                PersonName::from_parts(fam, if female { "Thị" } else { "" }, given),
                eth,
            )
        } else {
            let fam = pick(&mut self.rng, &FAMILY);
            let (mid, given) = if female {
                (
                    pick(&mut self.rng, &MIDDLE_F),
                    pick(&mut self.rng, &GIVEN_F),
                )
            } else {
                (
                    pick(&mut self.rng, &MIDDLE_M),
                    pick(&mut self.rng, &GIVEN_M),
                )
            };
            (PersonName::from_parts(fam, mid, given), "Kinh")
        };
        let name = name.map_err(|e| StoreError::Internal(e.to_string()))?;
        let year = self.rng.gen_range(1948..=2001);
        let birth =
            NaiveDate::from_ymd_opt(year, self.rng.gen_range(1..=12), self.rng.gen_range(1..=28));
        self.card += 1;
        // Elderly members are often exempt from party activities (R3.3).
        let exempt = year < 1956 && self.rng.gen_bool(0.6);
        Ok(NewPerson {
            org_id: org,
            name,
            birth_date: birth,
            gender: if female { Gender::Female } else { Gender::Male },
            ethnicity: ethnicity.to_string(),
            party_card_number: Some(format!("{:09}", self.card)),
            positions: positions.to_string(),
            management_level: level,
            exempt_from_activities: exempt && positions.is_empty(),
        })
    }
}

/// Key people of the first province, for the demo classes and accounts.
struct Anchors {
    province: OrgId,
    communes: Vec<OrgId>,
    first_cell: OrgId,
    province_secretary: PersonId,
    propaganda_head: PersonId,
    commune_secretary: PersonId,
    commune_deputy: PersonId,
    cell_member: PersonId,
    cell_secretary: PersonId,
}

/// Loads the demo at `scale` with `seed`. With `accounts`, also the demo accounts, catalog,
/// campaigns and classes (the first-start demo).
pub async fn load(db: &Db, scale: Scale, seed: u64, accounts: bool) -> Result<Report> {
    let (provinces, communes, cells, per_cell) = scale.shape();
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        card: 0,
    };
    let mut report = Report::default();
    let mut anchors = None;
    for pi in 0..provinces {
        g.card = (pi as u64 + 1) * 10_000_000;
        let pname = PROVINCES[pi % PROVINCES.len()];
        let pcode = format!("T{:02}", pi + 1);
        let province = org::insert_org(
            db,
            &NewOrg {
                parent: None,
                code: &pcode,
                name: &format!("Đảng bộ tỉnh {pname}"),
                level_name: "Tỉnh ủy",
                kind: OrgKind::PartyCommittee,
            },
        )
        .await?;
        report.provinces += 1;
        report.orgs += 1;
        let mut people = Vec::new();
        // Provincial bodies: the Party office (standing members), the propaganda department,
        // an affiliated party committee and the police as a vertical sector.
        let office = org::insert_org(
            db,
            &NewOrg {
                parent: Some(province),
                code: &format!("{pcode}-VP"),
                name: "Chi bộ Văn phòng Tỉnh ủy",
                level_name: "Chi bộ",
                kind: OrgKind::Cell,
            },
        )
        .await?;
        let propaganda = org::insert_org(
            db,
            &NewOrg {
                parent: Some(province),
                code: &format!("{pcode}-BTG"),
                name: "Chi bộ Ban Tuyên giáo và Dân vận Tỉnh ủy",
                level_name: "Chi bộ",
                kind: OrgKind::Agency,
            },
        )
        .await?;
        let agencies = org::insert_org(
            db,
            &NewOrg {
                parent: Some(province),
                code: &format!("{pcode}-CQD"),
                name: "Đảng bộ các cơ quan Đảng tỉnh",
                level_name: "Đảng ủy trực thuộc",
                kind: OrgKind::PartyCommittee,
            },
        )
        .await?;
        let police = org::insert_org(
            db,
            &NewOrg {
                parent: Some(province),
                code: &format!("{pcode}-CA"),
                name: "Đảng bộ Công an tỉnh",
                level_name: "Đảng ủy trực thuộc",
                kind: OrgKind::VerticalSector,
            },
        )
        .await?;
        let police_cell = org::insert_org(
            db,
            &NewOrg {
                parent: Some(police),
                code: &format!("{pcode}-CA-1"),
                name: "Chi bộ Phòng Cảnh sát giao thông",
                level_name: "Chi bộ",
                kind: OrgKind::Cell,
            },
        )
        .await?;
        let agencies_cell = org::insert_org(
            db,
            &NewOrg {
                parent: Some(agencies),
                code: &format!("{pcode}-CQD-1"),
                name: "Chi bộ Ban Tổ chức Tỉnh ủy",
                level_name: "Chi bộ",
                kind: OrgKind::Cell,
            },
        )
        .await?;
        report.orgs += 6;
        let leaders = [
            ("Bí thư Tỉnh ủy", office),
            ("Phó Bí thư Thường trực Tỉnh ủy", office),
            ("Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh", office),
            ("Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy", propaganda),
            ("Phó Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy", propaganda),
        ];
        for (pos, o) in leaders {
            people.push(g.person(o, false, pos, ManagementLevel::Province)?);
        }
        for o in [office, propaganda, agencies_cell, police_cell] {
            for _ in 0..g.rng.gen_range(per_cell.clone()) {
                people.push(g.person(o, false, "", ManagementLevel::None)?);
            }
        }
        let mut commune_ids = Vec::new();
        let mut first_cell = None;
        for ci in 0..communes {
            let base = COMMUNES[ci % COMMUNES.len()];
            let cname = if ci < COMMUNES.len() {
                format!("Đảng bộ {base}")
            } else {
                format!("Đảng bộ {base} {}", ci / COMMUNES.len() + 1)
            };
            let level = if base.starts_with("phường") {
                "Đảng ủy phường"
            } else {
                "Đảng ủy xã"
            };
            let ccode = format!("{pcode}-X{:03}", ci + 1);
            let commune = org::insert_org(
                db,
                &NewOrg {
                    parent: Some(province),
                    code: &ccode,
                    name: &cname,
                    level_name: level,
                    kind: OrgKind::Grassroots,
                },
            )
            .await?;
            commune_ids.push(commune);
            report.orgs += 1;
            let highland = ci % 3 != 2;
            // The commune's standing members and committee sit in the first cell (the Party office).
            for k in 0..cells {
                let cell_name = CELLS[k % CELLS.len()];
                let cell_name = if k < CELLS.len() {
                    cell_name.to_string()
                } else {
                    format!("{cell_name} ({})", k / CELLS.len() + 1)
                };
                let cell = org::insert_org(
                    db,
                    &NewOrg {
                        parent: Some(commune),
                        code: &format!("{ccode}-C{:02}", k + 1),
                        name: &cell_name,
                        level_name: "Chi bộ",
                        kind: OrgKind::Cell,
                    },
                )
                .await?;
                report.orgs += 1;
                if ci == 0 && k == 0 {
                    first_cell = Some(cell);
                }
                if k == 0 {
                    for pos in [
                        "Bí thư Đảng ủy",
                        "Phó Bí thư Thường trực Đảng ủy",
                        "Phó Bí thư Đảng ủy, Chủ tịch UBND",
                        "Chủ tịch Ủy ban MTTQ",
                        "Ủy viên Ban Thường vụ Đảng ủy",
                    ] {
                        people.push(g.person(cell, highland, pos, ManagementLevel::Commune)?);
                    }
                }
                people.push(g.person(
                    cell,
                    highland,
                    "Bí thư chi bộ",
                    ManagementLevel::Grassroots,
                )?);
                people.push(g.person(
                    cell,
                    highland,
                    "Phó Bí thư chi bộ",
                    ManagementLevel::Grassroots,
                )?);
                for _ in 0..g.rng.gen_range(per_cell.clone()) {
                    people.push(g.person(cell, highland, "", ManagementLevel::None)?);
                }
            }
            // Keep memory bounded at national scale: write a batch of communes at a time.
            if people.len() > 50_000 {
                let ids = org::insert_people(db, &people).await?;
                report.people += ids.len();
                if pi == 0 && accounts && anchors.is_none() {
                    anchors = Some(find_anchors(
                        &people,
                        &ids,
                        province,
                        first_cell.unwrap_or(province),
                    )?);
                }
                people.clear();
            }
        }
        let ids = org::insert_people(db, &people).await?;
        report.people += ids.len();
        if pi == 0 && accounts && anchors.is_none() {
            anchors = Some(find_anchors(
                &people,
                &ids,
                province,
                first_cell.unwrap_or(province),
            )?);
        }
        if let Some(a) = anchors.as_mut().filter(|a| a.communes.is_empty()) {
            a.communes = commune_ids.clone();
        }
    }
    if let Some(a) = anchors {
        load_study_demo(db, &a, seed).await?;
    }
    // Fresh statistics for PostgreSQL's planner after a bulk load (autovacuum would get to it
    // later; the first requests would meet plans made for empty tables). Not on SQLite: with
    // `ANALYZE` statistics its planner chose a slower plan for the "còn nợ học" page (1.1 s
    // instead of 0.2 s at province size, measured).
    if db.engine() == "postgres" {
        db.analyze().await?;
    }
    Ok(report)
}

/// The key people of the first province, from the batch that holds them: the five provincial
/// leaders come first, then the first commune's standing members in its first cell.
fn find_anchors(
    people: &[NewPerson],
    ids: &[PersonId],
    province: OrgId,
    first_cell: OrgId,
) -> Result<Anchors> {
    let at = |i: usize| {
        ids.get(i)
            .copied()
            .ok_or_else(|| StoreError::Internal("demo anchor missing".into()))
    };
    let start = people
        .iter()
        .position(|p| p.org_id == first_cell)
        .ok_or_else(|| StoreError::Internal("first cell empty".into()))?;
    let member = (start..people.len())
        .find(|&i| {
            people[i].org_id == first_cell
                && people[i].positions.is_empty()
                && !people[i].exempt_from_activities
        })
        .unwrap_or(start);
    Ok(Anchors {
        province,
        communes: Vec::new(),
        first_cell,
        province_secretary: at(0)?,
        propaganda_head: at(3)?,
        commune_secretary: at(start)?,
        commune_deputy: at(start + 1)?,
        cell_secretary: at(start + 5)?,
        cell_member: at(member)?,
    })
}

async fn load_study_demo(db: &Db, a: &Anchors, seed: u64) -> Result<()> {
    let admin = auth::create_account(
        db,
        "admin",
        DEMO_PASSWORD,
        "Quản trị tỉnh",
        Some(a.propaganda_head),
        Clearance::Secret,
    )
    .await?;
    auth::grant(db, admin, a.province, Role::Admin).await?;
    auth::enable_totp_with_secret(db, admin, DEMO_TOTP_SECRET).await?;
    let organizer = auth::create_account(
        db,
        "organizer",
        DEMO_PASSWORD,
        "Cán bộ tuyên giáo xã",
        Some(a.commune_deputy),
        Clearance::None,
    )
    .await?;
    auth::grant(db, organizer, a.communes[0], Role::Organizer).await?;
    let secretary: domain::ids::AccountId = auth::create_account(
        db,
        "secretary",
        DEMO_PASSWORD,
        "Bí thư chi bộ",
        Some(a.cell_secretary),
        Clearance::None,
    )
    .await?;
    auth::grant(db, secretary, a.first_cell, Role::Secretary).await?;
    let member = auth::create_account(
        db,
        "member",
        DEMO_PASSWORD,
        "Đảng viên",
        Some(a.cell_member),
        Clearance::None,
    )
    .await?;
    auth::grant(db, member, a.first_cell, Role::Member).await?;

    let admin_scope = Scope {
        account_id: admin,
        person_id: Some(a.propaganda_head),
        clearance: Clearance::Secret,
        grants: vec![Grant {
            org_id: a.province,
            role: Role::Admin,
        }],
        ip: String::new(),
    };
    let organizer_scope = Scope {
        account_id: organizer,
        person_id: Some(a.commune_deputy),
        clearance: Clearance::None,
        grants: vec![Grant {
            org_id: a.communes[0],
            role: Role::Organizer,
        }],
        ip: String::new(),
    };

    let catalog = [
        ("resolution", "Nghị quyết Đại hội XIV", "Nghị quyết Đại hội đại biểu toàn quốc lần thứ XIV của Đảng", "Ban Chấp hành Trung ương", "23/01/2026", "public", "24/01/2026", "Định hướng phát triển đất nước giai đoạn 2026–2030, tầm nhìn đến năm 2045."),
        ("regulation", "144-QĐ/TW", "Quy định về chuẩn mực đạo đức cách mạng của cán bộ, đảng viên trong giai đoạn mới", "Bộ Chính trị", "09/05/2024", "public", "10/05/2024", "Chuẩn mực đạo đức cách mạng: trung thành, gương mẫu, cần kiệm liêm chính."),
        ("directive", "08-CT/TU", "Chỉ thị về đổi mới, nâng cao chất lượng học tập, quán triệt và thực hiện nghị quyết, chỉ thị của Đảng", "Tỉnh ủy Kon Tum", "15/10/2021", "public", "16/10/2021", "Đổi mới việc học tập, quán triệt và xây dựng chương trình hành động."),
        ("guideline", "26-HD/BTGTU", "Hướng dẫn thực hiện Chỉ thị 08-CT/TU về học tập, quán triệt nghị quyết, chỉ thị của Đảng", "Ban Tuyên giáo Tỉnh ủy Kon Tum", "10/11/2021", "public", "", "Phân loại đối tượng, phân tầng nội dung, quản lý lớp học, học lại khi vắng trên 40% thời gian."),
        ("resolution", "05-NQ/TU", "Nghị quyết về nhiệm vụ quốc phòng, an ninh khu vực biên giới giai đoạn 2026–2030", "Tỉnh ủy", "02/03/2026", "secret", "", ""),
    ];
    let mut res_ids = Vec::new();
    for (kind, number, title, body, released, class, published, summary) in catalog {
        let input = ResolutionInput {
            kind: kind.into(),
            number: number.into(),
            title: title.into(),
            issuing_body: body.into(),
            released_on: released.into(),
            classification: class.into(),
            published_on: published.into(),
            summary: summary.into(),
        };
        let new = input
            .validate()
            .map_err(|e| StoreError::Internal(format!("demo resolution {number}: {e:?}")))?;
        res_ids.push(resolutions::create(db, &admin_scope, a.province, &new).await?);
    }

    // Campaign 1: the province studies the Congress resolution online, with commune bridge points (R2.2).
    let campaign = study::campaigns::create(
        db,
        &admin_scope,
        &CampaignInput {
            name: "Học tập, quán triệt Nghị quyết Đại hội XIV của Đảng".into(),
            org_id: a.province.to_string(),
            leader_person_id: a.province_secretary.to_string(),
            starts_on: "01/02/2026".into(),
            ends_on: "31/03/2026".into(),
            resolution_ids: vec![res_ids[0].to_string(), res_ids[1].to_string()],
        }
        .validate()
        .map_err(|e| StoreError::Internal(format!("{e:?}")))?,
    )
    .await?;
    let online = classes::create(
        db,
        &admin_scope,
        campaign,
        &ClassInput {
            title: "Hội nghị trực tuyến toàn tỉnh quán triệt Nghị quyết Đại hội XIV".into(),
            org_id: a.province.to_string(),
            form: "online".into(),
            audience_tier: "key_cadres".into(),
            chair_person_id: a.province_secretary.to_string(),
            opening_speaker_id: a.province_secretary.to_string(),
            closing_speaker_id: a.propaganda_head.to_string(),
            ..Default::default()
        }
        .validate()
        .map_err(|e| StoreError::Internal(format!("{e:?}")))?,
    )
    .await?;
    let online_class = classes::get(db, &admin_scope, online).await?;
    add_sessions(
        db,
        &admin_scope,
        &online_class,
        &[
            (
                "07/02/2026",
                "07:30",
                150,
                "Quán triệt Nghị quyết Đại hội XIV",
                false,
            ),
            (
                "07/02/2026",
                "13:30",
                90,
                "Thảo luận, liên hệ thực tiễn địa phương",
                true,
            ),
        ],
    )
    .await?;
    let mut bps = Vec::new();
    for (i, commune) in a.communes.iter().take(3).enumerate() {
        let o = org::get(db, &admin_scope, *commune).await?;
        let bp = classes::add_bridge_point(
            db,
            &admin_scope,
            &online_class,
            &BridgePointInput {
                org_id: commune.to_string(),
                name: format!("Điểm cầu {}", o.name.trim_start_matches("Đảng bộ ")),
                operator_person_id: if i == 0 {
                    a.commune_deputy.to_string()
                } else {
                    String::new()
                },
                capacity: "120".into(),
            }
            .validate()
            .map_err(|e| StoreError::Internal(format!("{e:?}")))?,
        )
        .await?;
        bps.push(bp);
    }
    let online_class = classes::get(db, &admin_scope, online).await?;
    participants::generate(
        db,
        &admin_scope,
        &online_class,
        &participants::GenerateRequest {
            bridge_point_ids: bps,
            // R2.2: commune bridge points take committee members and cell secretaries.
            management_levels: vec![ManagementLevel::Commune, ManagementLevel::Grassroots],
            ..Default::default()
        },
    )
    .await?;
    let online_class = classes::get(db, &admin_scope, online).await?;
    mark_all(db, &admin_scope, &online_class, seed).await?;
    attendance::finish(
        db,
        &admin_scope,
        &classes::get(db, &admin_scope, online).await?,
    )
    .await?;

    // Campaign 2: the first commune studies the directive and guideline in person (the
    // organizer's): two sessions held yesterday, one still ahead — dated from today, so that the
    // demo always shows a running class and never carries marks for sessions not yet held.
    let today = domain::study::utc_to_local(crate::now()).date();
    let yesterday = text::format_date(today - chrono::Duration::days(1));
    let in_three_days = text::format_date(today + chrono::Duration::days(3));
    let campaign2 = study::campaigns::create(
        db,
        &organizer_scope,
        &CampaignInput {
            name: "Học tập Chỉ thị 08-CT/TU và Hướng dẫn 26-HD/BTGTU".into(),
            org_id: a.communes[0].to_string(),
            leader_person_id: a.commune_secretary.to_string(),
            starts_on: text::format_date(today - chrono::Duration::days(30)),
            ends_on: text::format_date(today + chrono::Duration::days(30)),
            resolution_ids: vec![res_ids[2].to_string(), res_ids[3].to_string()],
        }
        .validate()
        .map_err(|e| StoreError::Internal(format!("{e:?}")))?,
    )
    .await?;
    let local = classes::create(
        db,
        &organizer_scope,
        campaign2,
        &ClassInput {
            title: "Hội nghị học tập Chỉ thị 08-CT/TU cho cán bộ, đảng viên toàn Đảng bộ xã".into(),
            org_id: a.communes[0].to_string(),
            form: "in_person".into(),
            audience_tier: "grassroots".into(),
            venue_name: "Hội trường Đảng ủy xã".into(),
            venue_capacity: "100".into(),
            chair_person_id: a.commune_secretary.to_string(),
            opening_speaker_id: a.commune_secretary.to_string(),
            closing_speaker_id: a.commune_deputy.to_string(),
            ..Default::default()
        }
        .validate()
        .map_err(|e| StoreError::Internal(format!("{e:?}")))?,
    )
    .await?;
    let local_class = classes::get(db, &organizer_scope, local).await?;
    add_sessions(
        db,
        &organizer_scope,
        &local_class,
        &[
            (
                yesterday.as_str(),
                "07:30",
                120,
                "Những điểm mới của Chỉ thị 08-CT/TU",
                false,
            ),
            (
                yesterday.as_str(),
                "09:45",
                90,
                "Hướng dẫn 26-HD/BTGTU: quản lý lớp học, học lại",
                false,
            ),
            // Still ahead: the class is running, its results provisional (issue 11.1).
            (
                in_three_days.as_str(),
                "07:30",
                90,
                "Thảo luận, liên hệ thực tiễn chi bộ",
                true,
            ),
        ],
    )
    .await?;
    let local_class = classes::get(db, &organizer_scope, local).await?;
    participants::generate(
        db,
        &organizer_scope,
        &local_class,
        &participants::GenerateRequest {
            org_ids: vec![a.communes[0]],
            ..Default::default()
        },
    )
    .await?;
    let local_class = classes::get(db, &organizer_scope, local).await?;
    mark_all(db, &organizer_scope, &local_class, seed + 1).await?;
    Ok(())
}

async fn add_sessions(
    db: &Db,
    scope: &Scope,
    class: &classes::Class,
    sessions: &[(&str, &str, u32, &str, bool)],
) -> Result<()> {
    for (date, time, minutes, topic, discussion) in sessions {
        let s = SessionInput {
            date: (*date).into(),
            start_time: (*time).into(),
            duration_minutes: minutes.to_string(),
            topic: (*topic).into(),
            is_discussion: discussion.then(|| "true".into()),
        }
        .validate()
        .map_err(|e| StoreError::Internal(format!("{e:?}")))?;
        classes::add_session(db, scope, class, &s).await?;
    }
    Ok(())
}

/// Marks every participant of every session with a plausible spread: most present, some late or
/// leaving early, some absent, a few excused, so that the retake list is not empty.
async fn mark_all(db: &Db, scope: &Scope, class: &classes::Class, seed: u64) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let access = classes::Access::Full;
    let now = crate::now();
    // Only sessions that have started carry marks (issue 11.1).
    for s in classes::sessions(db, class)
        .await?
        .into_iter()
        .filter(|s| s.starts_at <= now)
    {
        let len = u32::try_from(s.duration_minutes).unwrap_or(0);
        let rows = attendance::sheet(db, class, &s, &access).await?;
        let mut marks = Vec::with_capacity(rows.len());
        for r in rows {
            let roll: f64 = rng.gen();
            let (status, late, early, reason) = if roll < 0.72 {
                (AttendanceStatus::Present, 0, 0, None)
            } else if roll < 0.82 {
                (
                    AttendanceStatus::Present,
                    rng.gen_range(5..=len / 3),
                    0,
                    None,
                )
            } else if roll < 0.87 {
                (
                    AttendanceStatus::Present,
                    0,
                    rng.gen_range(10..=len / 2),
                    None,
                )
            } else if roll < 0.95 {
                (AttendanceStatus::Absent, 0, 0, None)
            } else {
                (
                    AttendanceStatus::Excused,
                    0,
                    0,
                    Some("Ốm, có giấy của trạm y tế".to_string()),
                )
            };
            let m = AttendanceMark::parse(status, late, early, reason, len)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            marks.push((r.participant_id, m));
        }
        attendance::record(db, scope, class, &s, &marks).await?;
    }
    Ok(())
}

/// Is the database empty (no account yet)? The first start loads the demo only then.
pub async fn is_empty(db: &Db) -> Result<bool> {
    Ok(auth::account_count(db).await? == 0)
}
