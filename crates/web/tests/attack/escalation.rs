//! Privilege escalation: organizers cannot manage accounts; a commune admin cannot reach above or
//! beside their commune, nor give more clearance than their own; the audit log cannot be changed.

use serde_json::json;

use crate::common::*;
use crate::harness::*;

both_engines! {
    no_escalation_above_own_subtree_or_clearance => no_escalation_above_own_subtree_or_clearance_sqlite, no_escalation_above_own_subtree_or_clearance_postgres;
    audit_log_is_append_only_and_scoped => audit_log_is_append_only_and_scoped_sqlite, audit_log_is_append_only_and_scoped_postgres;
}

#[track_caller]
fn refused(r: &Resp, what: &str) {
    assert!(
        matches!(r.status.as_u16(), 403 | 404 | 422),
        "{what}: expected 403/404 (or a 422 rule refusal), got {} {}",
        r.status,
        short(&r.text)
    );
}

async fn no_escalation_above_own_subtree_or_clearance(app: TestApp) {
    let orgs = Orgs::load(&app).await;
    let admin = app.api_login("admin").await;
    let admin_id = admin.login["account"]["id"].as_i64().expect("admin id");

    // The organizer cannot create accounts or see the account pages.
    let organizer = app.api_login("organizer").await;
    refused(
        &create_account(&organizer, "leo.thang", orgs.c1, "member", "none").await,
        "organizer creates an account",
    );
    refused(
        &organizer.get("/api/v1/admin/accounts").await,
        "organizer lists accounts",
    );
    refused(
        &organizer.get("/api/v1/admin/audit").await,
        "organizer reads the audit log",
    );
    let ob = app.browser_login("organizer").await;
    refused(
        &ob.get("/admin/accounts").await,
        "organizer GET /admin/accounts",
    );
    refused(&ob.get("/admin/audit").await, "organizer GET /admin/audit");
    refused(
        &ob.get("/admin/audit.csv").await,
        "organizer GET /admin/audit.csv",
    );
    refused(
        &ob.post_form(
            "/admin/accounts",
            &[
                ("username", "leo.thang2"),
                ("display_name", "Leo thang"),
                ("person_id", ""),
                ("org_id", &orgs.c1.to_string()),
                ("role", "admin"),
                ("clearance", "secret"),
                ("password", STRONG_PASSWORD),
            ],
        )
        .await,
        "organizer POST /admin/accounts",
    );

    // The province admin cannot give more than their own clearance (secret).
    let r = create_account(&admin, "tuyet.mat", orgs.c1, "member", "top_secret").await;
    r.expect_error(403, "forbidden");
    let acct_c1 = create_account_ok(&admin, "tk.c1", orgs.c1, "member", "none").await;
    admin
        .put(
            &format!("/api/v1/admin/accounts/{acct_c1}/clearance"),
            &json!({"clearance": "top_secret"}),
        )
        .await
        .expect_error(403, "forbidden");
    // Not even on their own account.
    let r = admin
        .put(
            &format!("/api/v1/admin/accounts/{admin_id}/clearance"),
            &json!({"clearance": "top_secret"}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 422),
        "own clearance to top_secret: {} {}",
        r.status,
        r.text
    );

    // The commune admin (C4, confidential).
    let (cadmin, cadmin_id) = commune_admin(&app, &orgs).await;
    let roots = items(&cadmin.get_ok("/api/v1/orgs").await);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(
        id(&roots[0]),
        orgs.c4,
        "the commune admin's only root is C4"
    );
    refused(
        &cadmin.get(&format!("/api/v1/orgs/{}", orgs.p)).await,
        "commune admin reads the province",
    );
    refused(
        &cadmin.get(&format!("/api/v1/orgs/{}", orgs.c1)).await,
        "commune admin reads C1",
    );
    // Accounts above or beside.
    for (org, what) in [
        (orgs.p, "province"),
        (orgs.c1, "another commune"),
        (orgs.k1, "a cell of another commune"),
    ] {
        refused(
            &create_account(&cadmin, &format!("ngoai.{org}"), org, "member", "none").await,
            &format!("commune admin creates an account on the {what}"),
        );
        refused(
            &cadmin
                .post(
                    &format!("/api/v1/admin/accounts/{cadmin_id}/grants"),
                    &json!({"org_id": org, "role": "admin"}),
                )
                .await,
            &format!("commune admin grants themself admin on the {what}"),
        );
        refused(
            &cadmin
                .post(
                    "/api/v1/admin/accounts/bulk",
                    &json!({"org_id": org, "role": "member"}),
                )
                .await,
            &format!("commune admin bulk-creates accounts on the {what}"),
        );
    }
    // Clearance above their own, on an account inside.
    let inside = create_account_ok(&cadmin, "tk.xa4", orgs.k4, "member", "none").await;
    for org in [orgs.p, orgs.c1] {
        let r = cadmin
            .post(
                &format!("/api/v1/admin/accounts/{inside}/grants"),
                &json!({"org_id": org, "role": "admin"}),
            )
            .await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "commune admin grants admin on org {org} to an account of C4: {} {}",
            r.status,
            r.text
        );
    }
    for c in ["secret", "top_secret"] {
        cadmin
            .put(
                &format!("/api/v1/admin/accounts/{inside}/clearance"),
                &json!({"clearance": c}),
            )
            .await
            .expect(403);
        refused(
            &create_account(&cadmin, &format!("tk.xa4.{c}"), orgs.k4, "member", c).await,
            &format!("commune admin creates an account cleared {c}"),
        );
    }
    cadmin
        .put(
            &format!("/api/v1/admin/accounts/{inside}/clearance"),
            &json!({"clearance": "confidential"}),
        )
        .await
        .expect(204);
    refused(
        &cadmin
            .put(
                &format!("/api/v1/admin/accounts/{cadmin_id}/clearance"),
                &json!({"clearance": "secret"}),
            )
            .await,
        "commune admin raises their own clearance",
    );
    // Accounts outside: the province admin's, C1's, and an account with grants in both
    // communes (taking it over would reach C1).
    let mixed = create_account_ok(&admin, "tk.hai.xa", orgs.c1, "organizer", "none").await;
    admin
        .post(
            &format!("/api/v1/admin/accounts/{mixed}/grants"),
            &json!({"org_id": orgs.k4, "role": "member"}),
        )
        .await
        .expect(204);
    for (acct, what) in [
        (admin_id, "the province admin"),
        (acct_c1, "an account of C1"),
        (mixed, "an account also organizer of C1"),
    ] {
        refused(
            &cadmin
                .put(
                    &format!("/api/v1/admin/accounts/{acct}/clearance"),
                    &json!({"clearance": "none"}),
                )
                .await,
            &format!("commune admin sets the clearance of {what}"),
        );
        refused(
            &cadmin
                .post(
                    &format!("/api/v1/admin/accounts/{acct}/grants/remove"),
                    &json!({"org_id": orgs.c1, "role": "organizer"}),
                )
                .await,
            &format!("commune admin removes a grant of {what}"),
        );
        refused(
            &cadmin
                .post(&format!("/api/v1/admin/accounts/{acct}/unlock"), &json!({}))
                .await,
            &format!("commune admin unlocks {what}"),
        );
        let cb = app.browser_login_as(COMMUNE_ADMIN, OWN_PASSWORD).await;
        refused(
            &cb.post_form(
                &format!("/admin/accounts/{acct}/reset-password"),
                &[("password", "Mật-khẩu-chiếm-quyền-2026")],
            )
            .await,
            &format!("commune admin resets the password of {what}"),
        );
    }
    // The takeover really did not happen: the password of the mixed account still works.
    activate(&app, "tk.hai.xa").await;
    let r = app
        .api_login_raw(&json!({"username": "tk.hai.xa", "password": "Mật-khẩu-chiếm-quyền-2026"}))
        .await;
    assert_eq!(
        r.status.as_u16(),
        401,
        "password reset by the commune admin took effect"
    );
    // The commune admin's account list has only accounts of C4.
    let list = items(&cadmin.get_ok("/api/v1/admin/accounts").await);
    let names: Vec<&str> = list.iter().filter_map(|a| a["username"].as_str()).collect();
    for n in ["admin", "organizer", "secretary", "member", "tk.c1"] {
        assert!(
            !names.contains(&n),
            "the commune admin lists {n}: {names:?}"
        );
    }
    assert!(names.contains(&"tk.xa4"), "{names:?}");
}

async fn audit_log_is_append_only_and_scoped(app: TestApp) {
    let orgs = Orgs::load(&app).await;
    let admin = app.api_login("admin").await;
    // Something to log: a read of the classified demo entry and an account creation in C1.
    let sid = admin.resolution_id(SECRET_NUMBER).await;
    admin.get_ok(&format!("/api/v1/resolutions/{sid}")).await;
    let c1_acct = create_account_ok(&admin, "nhat.ky.c1", orgs.c1, "member", "none").await;
    let log = admin.get_ok("/api/v1/admin/audit?per_page=500").await;
    let entries = items(&log);
    assert!(log["total"].as_i64().unwrap_or(0) > 0, "{}", brief(&log));
    assert!(
        entries
            .iter()
            .any(|e| e["entity_id"].as_i64() == Some(c1_acct)
                || e["entity_id"].as_str() == Some(&c1_acct.to_string())),
        "the account creation is logged: {}",
        brief(&log)
    );
    for e in &entries {
        for k in ["at", "action", "entity"] {
            assert!(!e[k].is_null(), "audit entry without {k}: {e}");
        }
    }
    // CSV with a BOM.
    let b = app.browser_login("admin").await;
    let csv = b
        .client
        .get(app.url("/admin/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let ct = csv.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let bytes = csv.bytes().await.unwrap();
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "CSV starts with a UTF-8 BOM"
    );

    // No endpoint changes it.
    for (m, path) in [
        ("PUT", "/api/v1/admin/audit"),
        ("DELETE", "/api/v1/admin/audit"),
        ("POST", "/api/v1/admin/audit"),
        ("PUT", "/api/v1/admin/audit/1"),
        ("DELETE", "/api/v1/admin/audit/1"),
    ] {
        let r = admin
            .client
            .request(m.parse().unwrap(), app.url(path))
            .bearer_auth(&admin.token)
            .json(&json!({"action": "erased"}))
            .send()
            .await
            .unwrap();
        assert!(
            matches!(r.status().as_u16(), 404 | 405),
            "{m} {path}: {}",
            r.status()
        );
    }
    let r = b.post_form("/admin/audit", &[("action", "erased")]).await;
    assert!(
        matches!(r.status.as_u16(), 404 | 405),
        "POST /admin/audit: {}",
        r.status
    );

    // Not even directly in the database: the trigger refuses UPDATE and DELETE.
    let update = "UPDATE audit_log SET action = 'erased'";
    let delete = "DELETE FROM audit_log";
    let (u, d) = match &app.db {
        store::Db::Sqlite(p) => (
            sqlx::query(update)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            sqlx::query(delete)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
        ),
        store::Db::Postgres(p) => (
            sqlx::query(update)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            sqlx::query(delete)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
        ),
    };
    assert!(u.is_err(), "UPDATE audit_log succeeded: {u:?}");
    assert!(d.is_err(), "DELETE FROM audit_log succeeded: {d:?}");
    let after = admin.get_ok("/api/v1/admin/audit?per_page=500").await;
    assert!(after["total"].as_i64() >= log["total"].as_i64());
    assert!(
        items(&after).iter().all(|e| e["action"] != "erased"),
        "an entry was changed"
    );

    // The commune admin sees only their commune's entries: not the C1 account creation, not
    // the province's classified read.
    let (cadmin, _) = commune_admin(&app, &orgs).await;
    let theirs = cadmin.get_ok("/api/v1/admin/audit?per_page=500").await;
    for e in items(&theirs) {
        let eid = e["entity_id"]
            .as_i64()
            .or_else(|| e["entity_id"].as_str().and_then(|s| s.parse().ok()));
        assert!(
            !(e["entity"].as_str().is_some_and(|s| s.contains("account")) && eid == Some(c1_acct)),
            "the commune admin sees the C1 account's audit entry: {e}"
        );
        assert!(
            !(e["entity"]
                .as_str()
                .is_some_and(|s| s.contains("resolution"))
                && eid == Some(sid)),
            "the commune admin sees the province's classified read: {e}"
        );
    }
    // The organizer sees none.
    let organizer = app.api_login("organizer").await;
    refused(
        &organizer.get("/api/v1/admin/audit").await,
        "organizer reads the audit log",
    );
}
