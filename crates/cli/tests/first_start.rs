//! A province's own first start (issue 13.1): `docs/deploy/first-start.sh`, the script the
//! README shows, run as written on a fresh folder and database — `init`, the organization tree
//! and the members by import — then the server started without the demo, the administrator's
//! second-factor enrollment, and the first class through the API. `init` refuses a weak password
//! (changing nothing) and a second run. Both engines.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{browser, free_addr, output, page, quantriet, wait_ready};
use fixtures::testing::{fresh, Engine};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_3_new_province_from_nothing_to_its_first_class_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_3_new_province_from_nothing_to_its_first_class_postgres() {
    run(Engine::Postgres).await;
}

const PASSWORD: &str = "Tinh-uy-Gia-Lai-2026";

const ORGS: &str = "Mã,Tên,Mã cấp trên,Cấp,Loại\n\
T01,Đảng bộ tỉnh Gia Lai,,Tỉnh ủy,party_committee\n\
X001,Đảng bộ xã Ia Grai,T01,Đảng ủy xã,grassroots\n\
X002,Đảng bộ phường Pleiku,T01,Đảng ủy phường,grassroots\n\
X001-C01,Chi bộ thôn 1,X001,Chi bộ,cell\n\
X001-C02,Chi bộ thôn 2,X001,Chi bộ,cell\n";

const MEMBERS: &str = "Họ và tên,Ngày sinh,Dân tộc,Số thẻ đảng viên,Mã tổ chức\n\
Rơ Châm H'Nhung,12/03/1980,Jrai,79000001,X001-C01\n\
Nguyễn Văn An,01/01/1975,Kinh,79000002,X001-C01\n\
Ksor Y Phik,20/11/1990,Jrai,79000003,X001-C02\n\
Trần Thị Bình,05/06/1985,Kinh,79000004,X001-C02\n";

fn scrape(html: &str, before: &str, after: &str) -> String {
    let at = html
        .find(before)
        .unwrap_or_else(|| panic!("{before} in {html}"))
        + before.len();
    let end = at + html[at..].find(after).unwrap();
    html[at..end].to_string()
}

async fn run(engine: Engine) {
    let Some(t) = fresh(engine).await else {
        return;
    };
    let dir = common::scratch("first", engine);
    std::fs::write(dir.join("to-chuc.csv"), ORGS).unwrap();
    std::fs::write(dir.join("dang-vien.csv"), MEMBERS).unwrap();

    // A weak password is refused and creates nothing: the real run below still works.
    let (ok, out) = output(
        Command::new(env!("CARGO_BIN_EXE_quantriet"))
            .args([
                "init",
                "--org-code",
                "T01",
                "--org-name",
                "Thử",
                "--username",
                "quantri",
            ])
            .env("QUANTRIET_DATABASE_URL", &t.url)
            .env("QUANTRIET_ADMIN_PASSWORD", "123456"),
    );
    assert!(!ok, "weak password accepted: {out}");

    // The README's script, as written.
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/deploy/first-start.sh"
    );
    let (ok, text) = output(
        Command::new("sh")
            .arg(script)
            .current_dir(&dir)
            .env("QUANTRIET", env!("CARGO_BIN_EXE_quantriet"))
            .env("QUANTRIET_DATABASE_URL", &t.url)
            .env("QUANTRIET_ADMIN_PASSWORD", PASSWORD),
    );
    assert!(ok, "first-start.sh failed: {text}");
    assert!(text.contains("created 4 organizations"), "{text}");
    assert!(text.contains("written: 4 new"), "{text}");

    // Once only.
    let (ok, out) = quantriet(
        &t.url,
        &[
            "init",
            "--org-code",
            "T02",
            "--org-name",
            "Tỉnh khác",
            "--username",
            "khac",
            "--password",
            PASSWORD,
        ],
    );
    assert!(!ok && out.contains("already_initialized"), "{out}");

    // Served without the demo: no demo accounts, no trial notice.
    let addr = free_addr();
    let base = format!("http://{addr}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_quantriet"))
        .arg("serve")
        .env("QUANTRIET_DATABASE_URL", &t.url)
        .env("QUANTRIET_LISTEN", &addr)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = browser();
    wait_ready(&client, &base).await;
    let login_page = page(&client, &format!("{base}/login")).await;
    assert!(
        !login_page.contains("Dữ liệu dùng thử"),
        "trial notice on a real database"
    );
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": fixtures::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no demo admin");

    // The administrator must enroll a second factor before anything else.
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "quantri", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "totp_enrollment_required");
    let csrf = scrape(&login_page, "name=\"csrf\" value=\"", "\"");
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("username", "quantri"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let enroll = page(&client, &format!("{base}/account/2fa")).await;
    let secret = scrape(&enroll, "<code>", "</code>");
    let csrf = scrape(&enroll, "name=\"csrf\" value=\"", "\"");
    let code = store::auth::current_totp(&secret).unwrap();
    let r = client
        .post(format!("{base}/account/2fa"))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );

    // Then the API, with the next code (each code works once).
    tokio::time::sleep(std::time::Duration::from_secs(31)).await;
    let code = store::auth::current_totp(&secret).unwrap();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "quantri", "password": PASSWORD, "totp": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auth = format!(
        "Bearer {}",
        login["token"].as_str().unwrap_or_else(|| panic!("{login}"))
    );
    let api = |path: &str, body: Value| {
        client
            .post(format!("{base}/api/v1{path}"))
            .header("authorization", &auth)
            .json(&body)
            .send()
    };
    let get = |path: &str| {
        client
            .get(format!("{base}/api/v1{path}"))
            .header("authorization", &auth)
            .send()
    };
    let orgs: Value = get("/orgs").await.unwrap().json().await.unwrap();
    let root = orgs[0]["id"].as_i64().unwrap();
    assert_eq!(orgs[0]["name"], "Đảng bộ tỉnh Gia Lai");
    let people: Value = get("/people?q=Nguyen%20An")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let leader = people["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{people}"));
    let commune = people["items"][0]["org_id"].as_i64().unwrap();
    let res: Value = api(
        "/resolutions",
        json!({"kind": "resolution", "number": "01-NQ/TU", "title": "Nghị quyết về phát triển kinh tế số",
               "issuing_body": "Tỉnh ủy Gia Lai", "released_on": "01/10/2026", "classification": "public",
               "published_on": "", "summary": "", "owner_org_id": root}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let res_id = res["id"].as_i64().unwrap_or_else(|| panic!("{res}"));
    let campaign: Value = api(
        "/campaigns",
        json!({"name": "Học tập Nghị quyết 01", "org_id": root, "leader_person_id": leader,
               "starts_on": "2026-12-01", "ends_on": "2026-12-31", "resolution_ids": [res_id]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let campaign_id = campaign["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{campaign}"));
    let r = api(
        &format!("/campaigns/{campaign_id}/classes"),
        json!({"title": "Lớp quán triệt xã Ia Grai", "org_id": commune, "form": "in_person",
               "audience_tier": "grassroots", "venue_name": "Hội trường xã"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let classes: Value = get("/classes").await.unwrap().json().await.unwrap();
    assert_eq!(classes.as_array().map(Vec::len), Some(1), "{classes}");
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
