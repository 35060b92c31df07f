//! Shared by the attack tests: the organizations of the demo used as targets, accounts created
//! through the admin API, a commune admin with a second factor, and a bounded same-origin crawl.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{json, Value};

use crate::harness::*;

/// A password that passes the rules (≥ 10 characters, not common, no user or display name in it).
pub const STRONG_PASSWORD: &str = "Sông-Hồng-chảy-về-biển-2026";

/// The password accounts created by the tests choose at their first login (the admin's is
/// temporary: "must change password").
pub const OWN_PASSWORD: &str = "Núi-Ngọc-Linh-mây-trắng-2026";

/// The TOTP secret given to accounts the tests create and then enable a second factor for.
pub const TEST_TOTP_SECRET: &str = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFMFZGK5DF";

/// The commune admin the tests create (admin of the fourth commune, cleared "confidential").
pub const COMMUNE_ADMIN: &str = "quantri.xa4";

/// The demo organizations the attacks aim at: the province, the organizer's commune (C1), the
/// secretary's cell (K1), another cell of C1 (K2), another commune (C4) and one of its cells (K4).
#[derive(Debug, Clone)]
pub struct Orgs {
    pub p: i64,
    pub c1: i64,
    pub k1: i64,
    pub k2: i64,
    pub c4: i64,
    pub k4: i64,
}

impl Orgs {
    pub async fn load(app: &TestApp) -> Orgs {
        let admin = app.api_login("admin").await;
        let (p, children) = province_tree(&admin).await;
        let c1 = org_named(&children, FIRST_COMMUNE);
        let c4 = org_named(&children, FOURTH_COMMUNE);
        let secretary = app.api_login("secretary").await;
        let k1 = secretary.login["account"]["grants"][0]["org_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("secretary grant in {}", secretary.login));
        let kids = |o: i64| {
            let admin = admin.clone();
            async move {
                let d = admin.get_ok(&format!("/api/v1/orgs/{o}")).await;
                d["children"].as_array().cloned().unwrap_or_default()
            }
        };
        let c1_kids = kids(c1).await;
        assert!(c1_kids.iter().any(|o| id(o) == k1), "K1 is a child of C1");
        let k2 = c1_kids
            .iter()
            .map(id)
            .find(|&o| o != k1)
            .expect("a second cell in the first commune");
        let k4 = kids(c4).await.first().map(id).expect("a cell in C4");
        Orgs {
            p,
            c1,
            k1,
            k2,
            c4,
            k4,
        }
    }

    /// Named targets, top down.
    pub fn all(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("P", self.p),
            ("C1", self.c1),
            ("K1", self.k1),
            ("K2", self.k2),
            ("C4", self.c4),
            ("K4", self.k4),
        ]
    }

    /// The targets inside the subtree of `org` (one of the six).
    pub fn subtree(&self, org: i64) -> BTreeSet<i64> {
        let s: Vec<i64> = if org == self.p {
            vec![self.p, self.c1, self.k1, self.k2, self.c4, self.k4]
        } else if org == self.c1 {
            vec![self.c1, self.k1, self.k2]
        } else if org == self.c4 {
            vec![self.c4, self.k4]
        } else {
            vec![org]
        };
        s.into_iter().collect()
    }
}

/// `POST /api/v1/admin/accounts`.
pub async fn create_account(
    admin: &Api,
    username: &str,
    org: i64,
    role: &str,
    clearance: &str,
) -> Resp {
    admin
        .post(
            "/api/v1/admin/accounts",
            &json!({
                "username": username, "display_name": format!("Tài khoản thử {username}"),
                "org_id": org, "role": role, "clearance": clearance, "password": STRONG_PASSWORD,
            }),
        )
        .await
}

/// Creates an account through the admin API (must answer 201); its id.
pub async fn create_account_ok(
    admin: &Api,
    username: &str,
    org: i64,
    role: &str,
    clearance: &str,
) -> i64 {
    let r = create_account(admin, username, org, role, clearance).await;
    r.expect(201);
    account_id(&r.json())
}

/// Enables TOTP with [`TEST_TOTP_SECRET`] for an account (directly in the store: the enrollment
/// pages are tested elsewhere) and tells the harness the secret.
pub async fn enable_totp(app: &TestApp, account: i64, username: &str) {
    store::auth::enable_totp_with_secret(
        &app.db,
        domain::ids::AccountId(account),
        TEST_TOTP_SECRET,
    )
    .await
    .expect("enable TOTP");
    app.set_totp_secret(username, TEST_TOTP_SECRET);
}

/// The commune admin of C4 (created by the province admin, cleared "confidential", TOTP on),
/// logged in through the API; with its account id.
pub async fn commune_admin(app: &TestApp, orgs: &Orgs) -> (Api, i64) {
    let admin = app.api_login("admin").await;
    let aid = create_account_ok(&admin, COMMUNE_ADMIN, orgs.c4, "admin", "confidential").await;
    enable_totp(app, aid, COMMUNE_ADMIN).await;
    let api = activate(app, COMMUNE_ADMIN).await;
    (api, aid)
}

/// First login of an account created by an admin (temporary password): changes the password to
/// [`OWN_PASSWORD`] through the API and returns a working session. Later logins use
/// [`OWN_PASSWORD`].
pub async fn activate(app: &TestApp, username: &str) -> Api {
    let api = app.api_login_as(username, STRONG_PASSWORD).await;
    if api.get("/api/v1/me").await.status.as_u16() == 200
        && api.get("/api/v1/resolutions").await.status.as_u16() == 200
    {
        return api;
    }
    api.post(
        "/api/v1/auth/password",
        &json!({"current_password": STRONG_PASSWORD, "new_password": OWN_PASSWORD}),
    )
    .await
    .expect(204);
    if api.get("/api/v1/resolutions").await.status.as_u16() == 200 {
        return api;
    }
    app.api_login_as(username, OWN_PASSWORD).await
}

/// The same-origin links (`href`) of a page, fragment removed, entities decoded.
pub fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=\"") {
        rest = &rest[i + 6..];
        let Some(end) = rest.find('"') else { break };
        let raw = unescape(&rest[..end]);
        let path = raw.split('#').next().unwrap_or("").to_string();
        if path.starts_with('/') && !path.starts_with("//") {
            out.push(path);
        }
    }
    out
}

/// Crawls GET pages from `seeds`, following same-origin links, at most `limit` pages and at
/// most 6 query variants of one path (paging). Never follows /logout or static files.
pub async fn crawl(b: &Browser, seeds: &[String], limit: usize) -> Vec<Resp> {
    let mut seen = BTreeSet::new();
    let mut per_path: BTreeMap<String, usize> = BTreeMap::new();
    let mut queue: VecDeque<String> = seeds.iter().cloned().collect();
    let mut out = Vec::new();
    while let Some(url) = queue.pop_front() {
        if out.len() >= limit {
            break;
        }
        if !seen.insert(url.clone()) || url.starts_with("/logout") || url.starts_with("/static/") {
            continue;
        }
        let path = url.split('?').next().unwrap_or("").to_string();
        let n = per_path.entry(path).or_insert(0);
        *n += 1;
        if *n > 6 {
            continue;
        }
        let r = b.get(&url).await;
        let is_html = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("text/html"));
        if is_html {
            for l in links(&r.text) {
                if !seen.contains(&l) {
                    queue.push_back(l);
                }
            }
        }
        out.push(r);
    }
    out
}

/// `value` as lower case with HTML entities decoded (for "does this text appear" checks).
pub fn haystack(text: &str) -> String {
    unescape(text).to_lowercase()
}

/// Every needle found in `text` (case-insensitive, entities decoded, and also folded).
pub fn found_in(text: &str, needles: &[String]) -> Vec<String> {
    let h = haystack(text);
    let f = fold(&unescape(text));
    needles
        .iter()
        .filter(|n| {
            let n = n.to_lowercase();
            h.contains(&n) || f.contains(&fold(&n))
        })
        .cloned()
        .collect()
}

/// A JSON value as compact text (for failure messages).
pub fn brief(v: &Value) -> String {
    short(&v.to_string())
}

/// The id of an account answer (`{id, …}` or `{account: {id, …}, grants}`).
#[track_caller]
pub fn account_id(v: &Value) -> i64 {
    v["id"]
        .as_i64()
        .or_else(|| v["account"]["id"].as_i64())
        .unwrap_or_else(|| panic!("no account id in {v}"))
}
