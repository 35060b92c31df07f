//! The seating chart (R3.4): the hall's plan with blocked seats, automatic seating by
//! organization then Vietnamese name order, manual moves, the print layout, and attendance
//! marked by tapping a seat during a session.

use serde_json::json;

use crate::harness::*;

both_engines! {
    r3_4_seat_plan_auto_assign_and_moves => r3_4_seat_plan_auto_assign_and_moves_sqlite, r3_4_seat_plan_auto_assign_and_moves_postgres;
    r3_4_session_seat_chart_marks_attendance => r3_4_session_seat_chart_marks_attendance_sqlite, r3_4_session_seat_chart_marks_attendance_postgres;
}

/// A class of the organizer's commune with one session and the whole commune listed.
struct Setup {
    organizer: Api,
    browser: Browser,
    class: i64,
    session: i64,
    /// Participants listed.
    n: usize,
}

async fn setup(app: &TestApp, title: &str) -> Setup {
    let organizer = app.api_login("organizer").await;
    let browser = app.browser_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let people = organizer.all_people(Some(commune)).await;
    let leader = people
        .iter()
        .find(|p| p["positions"] == "Bí thư Đảng ủy")
        .unwrap_or(&people[0]);
    let res = organizer.resolution_id("144-QĐ/TW").await;
    let campaign = organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": format!("Đợt học tập {title}"), "org_id": commune, "leader_person_id": id(leader),
                "starts_on": "01/03/2026", "ends_on": "30/04/2026", "resolution_ids": [res],
            }),
            201,
        )
        .await;
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign)),
            &json!({
                "title": title, "org_id": commune, "form": "in_person",
                "audience_tier": "grassroots", "venue_name": "Hội trường Đảng ủy phường", "venue_capacity": 200,
            }),
            201,
        )
        .await;
    let class = id(&class);
    let session = organizer
        .post_ok(
            &format!("/api/v1/classes/{class}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 120,
                    "topic": "Quán triệt Quy định 144", "is_discussion": false}),
            201,
        )
        .await;
    let gen = organizer
        .post_ok(
            &format!("/api/v1/classes/{class}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": false}),
            200,
        )
        .await;
    let n = usize::try_from(gen["added"].as_i64().expect("added")).expect("count");
    assert!(n > 20, "the commune lists many people: {gen}");
    Setup {
        organizer,
        browser,
        class,
        session: id(&session),
        n,
    }
}

/// One seated participant as stored, with what the seating order depends on.
#[derive(Debug, Clone, sqlx::FromRow)]
struct SeatRow {
    seat_row: i64,
    seat_number: i64,
    participant_id: i64,
    org_id: i64,
    org_depth: i64,
    org_sort_key: String,
    name_key: String,
}

/// The seats of a class straight from the database, front to back, left to right.
async fn seating(app: &TestApp, class: i64) -> Vec<SeatRow> {
    let sql = "SELECT sa.seat_row, sa.seat_number, sa.participant_id, o.id AS org_id, o.depth AS org_depth, \
               o.sort_key AS org_sort_key, p.sort_key AS name_key \
               FROM seat_assignments sa JOIN participants pt ON pt.id = sa.participant_id \
               JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
               WHERE sa.class_id = $1 ORDER BY sa.seat_row, sa.seat_number";
    match &app.db {
        store::Db::Sqlite(p) => sqlx::query_as::<_, SeatRow>(sql)
            .bind(class)
            .fetch_all(p)
            .await
            .expect("seats"),
        store::Db::Postgres(p) => sqlx::query_as::<_, SeatRow>(sql)
            .bind(class)
            .fetch_all(p)
            .await
            .expect("seats"),
    }
}

fn code(row: i64, number: i64) -> String {
    let letter = char::from(b'A' + u8::try_from(row - 1).expect("row below 27"));
    format!("{letter}{number}")
}

async fn r3_4_seat_plan_auto_assign_and_moves(app: TestApp) {
    let s = setup(&app, "Hội nghị học tập Quy định 144 (xếp chỗ)").await;
    let b = &s.browser;
    let base = format!("/classes/{}/seats", s.class);

    let page = b.get(&base).await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Sơ đồ chỗ ngồi"), "{}", short(&html));
    assert!(html.contains("Lớp học chưa có sơ đồ hội trường"));
    // The class page links to the chart.
    let class_page = b.get(&format!("/classes/{}", s.class)).await;
    assert!(
        class_page.html().contains(&base),
        "link from the class page"
    );

    // Bad plan: each field says what is wrong, and what was typed stays.
    let r = b
        .post_form(
            &format!("{base}/plan"),
            &[
                ("row_count", "0"),
                ("seats_per_row", "abc"),
                ("blocked", "A3, ??"),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains("Số hàng ghế phải là số nguyên từ 1 đến 60."),
        "{}",
        short(&html)
    );
    assert!(html.contains("Số ghế mỗi hàng phải là số nguyên từ 1 đến 80."));
    assert!(html.contains("«??» không phải mã ghế hợp lệ"));
    assert!(
        html.contains("name=\"seats_per_row\" value=\"abc\"")
            && html.contains("name=\"blocked\" value=\"A3, ??\"")
    );
    let r = b
        .post_form(
            &format!("{base}/plan"),
            &[
                ("row_count", "3"),
                ("seats_per_row", "4"),
                ("blocked", "D1"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r
        .html()
        .contains("Ghế D1 nằm ngoài sơ đồ (hàng A–C, ghế 1–4)."));
    let r = b
        .post_form(
            &format!("{base}/plan"),
            &[
                ("row_count", "61"),
                ("seats_per_row", "10"),
                ("blocked", ""),
            ],
        )
        .await;
    r.expect(422);

    // Too small a hall: 2 rows of 3, one blocked = 5 seats. Refused, nobody seated.
    b.post_form(
        &format!("{base}/plan"),
        &[
            ("row_count", "2"),
            ("seats_per_row", "3"),
            ("blocked", "a2"),
        ],
    )
    .await
    .expect_redirect(&base);
    let r = b.post_form(&format!("{base}/auto"), &[]).await;
    r.expect(422);
    let missing = s.n - 5;
    assert!(
        r.html().contains(&format!(
            "Có {} người cần xếp chỗ nhưng hội trường chỉ có 5 ghế sử dụng được: còn thiếu {missing} ghế.",
            s.n
        )),
        "{}",
        short(&r.html())
    );
    assert!(seating(&app, s.class).await.is_empty(), "nothing assigned");

    // A hall that fits: 10 seats a row, blocked seats in the first rows.
    let rows = s.n / 10 + 2;
    let blocked = ["A2", "B5", "C10", "C1"];
    b.post_form(
        &format!("{base}/plan"),
        &[
            ("row_count", &rows.to_string()),
            ("seats_per_row", "10"),
            ("blocked", &blocked.join(", ")),
        ],
    )
    .await
    .expect_redirect(&base);
    let page = b.get(&base).await;
    page.expect(200);
    assert!(
        page.html()
            .contains("name=\"blocked\" value=\"A2,B5,C1,C10\""),
        "blocked seats stored in order"
    );
    b.post_form(&format!("{base}/auto"), &[])
        .await
        .expect_redirect(&base);

    let seats = seating(&app, s.class).await;
    assert_eq!(seats.len(), s.n, "everyone seated");
    let codes: Vec<String> = seats
        .iter()
        .map(|r| code(r.seat_row, r.seat_number))
        .collect();
    for bl in blocked {
        assert!(
            !codes.contains(&bl.to_string()),
            "nobody on blocked seat {bl}"
        );
    }
    // Filled front to back, left to right, with no gap but the blocked seats.
    let expected: Vec<String> = (1..=rows as i64)
        .flat_map(|r| (1..=10).map(move |n| code(r, n)))
        .filter(|c| !blocked.contains(&c.as_str()))
        .take(s.n)
        .collect();
    assert_eq!(codes, expected);
    // One organization's people sit together, organizations top-down, names in order within.
    let mut seen_orgs = Vec::new();
    for w in seats.windows(2) {
        let (a, c) = (&w[0], &w[1]);
        let ka = (a.org_depth, &a.org_sort_key, a.org_id);
        let kc = (c.org_depth, &c.org_sort_key, c.org_id);
        assert!(ka <= kc, "organizations in order: {a:?} then {c:?}");
        if a.org_id == c.org_id {
            assert!(
                a.name_key <= c.name_key,
                "name order within an org: {a:?} then {c:?}"
            );
        }
    }
    for r in &seats {
        if seen_orgs.last() != Some(&r.org_id) {
            assert!(
                !seen_orgs.contains(&r.org_id),
                "org {} split in two groups",
                r.org_id
            );
            seen_orgs.push(r.org_id);
        }
    }
    assert!(seen_orgs.len() >= 3, "several organizations: {seen_orgs:?}");

    // The chart shows the seats; blocked seats say so in words.
    let page = b.get(&base).await;
    let html = page.html();
    assert!(html.contains("id=\"ghe-A1\""));
    assert!(html.contains("class=\"seat blocked\" id=\"ghe-A2\""));
    assert!(html.contains(&format!("{} người đã có chỗ", s.n)));

    // Manual moves: occupied, blocked and outside seats are refused with the reason.
    let first = seats[0].participant_id;
    let second = seats[1].participant_id;
    let form_of = |pid: i64, seat: &str| {
        vec![
            ("participant_id".to_string(), pid.to_string()),
            ("seat".to_string(), seat.to_string()),
            ("action".to_string(), "assign".to_string()),
        ]
    };
    let r = b
        .post_fields(&format!("{base}/assign"), form_of(first, &codes[1]))
        .await;
    r.expect(422);
    assert!(
        r.html()
            .contains(&format!("Ghế {} đã có người ngồi", codes[1])),
        "{}",
        short(&r.html())
    );
    assert!(
        r.html().contains(&format!("value=\"{}\"", codes[1])),
        "typed seat kept"
    );
    let r = b
        .post_fields(&format!("{base}/assign"), form_of(first, "b5"))
        .await;
    r.expect(422);
    assert!(r.html().contains("Ghế B5 là ghế không sử dụng (bị chặn)."));
    let outside = format!("{}1", char::from(b'A' + u8::try_from(rows).expect("rows")));
    let r = b
        .post_fields(&format!("{base}/assign"), form_of(first, &outside))
        .await;
    r.expect(422);
    assert!(r.html().contains(&format!("Ghế {outside} nằm ngoài sơ đồ")));
    let r = b
        .post_fields(&format!("{base}/assign"), form_of(first, "A0"))
        .await;
    r.expect(422);
    assert!(r.html().contains("«A0» không phải mã ghế hợp lệ"));
    assert_eq!(seating(&app, s.class).await.len(), s.n, "nothing changed");

    // Free the second person's seat, move the first one there.
    let mut unassign = form_of(second, "");
    unassign[2].1 = "unassign".into();
    b.post_fields(&format!("{base}/assign"), unassign)
        .await
        .expect_redirect(&base);
    b.post_fields(&format!("{base}/assign"), form_of(first, &codes[1]))
        .await
        .expect_redirect(&base);
    let now = seating(&app, s.class).await;
    assert_eq!(now.len(), s.n - 1);
    let at = |pid: i64| {
        now.iter()
            .find(|r| r.participant_id == pid)
            .map(|r| code(r.seat_row, r.seat_number))
    };
    assert_eq!(at(first), Some(codes[1].clone()));
    assert_eq!(at(second), None);
    let page = b.get(&base).await;
    assert!(page.html().contains("Chưa có chỗ ngồi (1)"));

    // A plan that would drop or block occupied seats is refused and nothing changes.
    let r = b
        .post_form(
            &format!("{base}/plan"),
            &[
                ("row_count", "2"),
                ("seats_per_row", "10"),
                ("blocked", "A3"),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.html().contains("Không lưu sơ đồ mới"),
        "{}",
        short(&r.html())
    );
    assert!(
        r.html().contains("name=\"row_count\" value=\"2\""),
        "typed plan kept"
    );
    let page = b.get(&base).await;
    assert!(page
        .html()
        .contains(&format!("name=\"row_count\" value=\"{rows}\"")));

    // Without the CSRF token nothing is done.
    let r = b
        .post_raw(&format!("{base}/clear"), form(&[("csrf", "wrong")]))
        .await;
    r.expect(403);
    let r = b.post_raw(&format!("{base}/auto"), vec![]).await;
    r.expect(403);
    assert_eq!(seating(&app, s.class).await.len(), s.n - 1);

    // A cell secretary does not see the commune's class: not found, for reading and changing.
    let outsider = app.browser_login("secretary").await;
    outsider.get(&base).await.expect(404);
    outsider.get(&format!("{base}/print")).await.expect(404);
    outsider
        .post_form(&format!("{base}/auto"), &[])
        .await
        .expect(404);
    outsider
        .post_fields(&format!("{base}/assign"), form_of(second, "A1"))
        .await
        .expect(404);
    assert_eq!(seating(&app, s.class).await.len(), s.n - 1);

    // Clearing frees every seat and keeps the plan.
    b.post_form(&format!("{base}/clear"), &[])
        .await
        .expect_redirect(&base);
    assert!(seating(&app, s.class).await.is_empty());
    let _ = &s.organizer;
}

async fn r3_4_session_seat_chart_marks_attendance(app: TestApp) {
    let s = setup(&app, "Hội nghị học tập Quy định 144 (điểm danh theo sơ đồ)").await;
    let b = &s.browser;
    let base = format!("/classes/{}/seats", s.class);
    let rows = s.n / 8 + 1;
    b.post_form(
        &format!("{base}/plan"),
        &[
            ("row_count", &rows.to_string()),
            ("seats_per_row", "8"),
            ("blocked", "A1"),
        ],
    )
    .await
    .expect_redirect(&base);
    b.post_form(&format!("{base}/auto"), &[])
        .await
        .expect_redirect(&base);
    let seats = seating(&app, s.class).await;
    assert_eq!(seats.len(), s.n);
    let pid = seats[0].participant_id;
    let seat = code(seats[0].seat_row, seats[0].seat_number);
    assert_eq!(seat, "A2", "A1 is blocked");

    let path = format!("/sessions/{}/seats", s.session);
    // The class page's session row links here.
    assert!(b
        .get(&format!("/classes/{}", s.class))
        .await
        .html()
        .contains(&path));
    let page = b.get(&path).await;
    page.expect(200);
    let html = page.html();
    assert!(
        html.contains(&format!("Có mặt 0 / {}", s.n)),
        "{}",
        short(&html)
    );
    assert!(html.contains(&format!("name=\"participant_id\" value=\"{pid}\"")));
    assert!(html.contains("? Chưa"), "unmarked seats say so in words");

    // A tap marks present, through the attendance sheet's rules.
    let r = b
        .post_form(&path, &[("participant_id", &pid.to_string())])
        .await;
    let loc = r.expect_redirect(&path);
    assert!(loc.ends_with(&format!("#ghe-{seat}")), "{loc}");
    let status_of = |sheet: &serde_json::Value| {
        items(sheet)
            .into_iter()
            .find(|r| r["participant_id"] == pid)
            .map(|r| r["status"].clone())
            .expect("participant on the sheet")
    };
    let sheet = s
        .organizer
        .get_ok(&format!("/api/v1/sessions/{}/attendance", s.session))
        .await;
    assert_eq!(status_of(&sheet), "present");
    let page = b.get(&path).await;
    let html = page.html();
    assert!(
        html.contains(&format!("Có mặt 1 / {}", s.n)),
        "{}",
        short(&html)
    );
    assert!(html.contains(&format!("class=\"seat present\" id=\"ghe-{seat}\"")));
    assert!(html.contains("✓ Có mặt"));

    // A second tap marks absent: a red seat that also says "Vắng".
    b.post_form(&path, &[("participant_id", &pid.to_string())])
        .await
        .expect_redirect(&path);
    let sheet = s
        .organizer
        .get_ok(&format!("/api/v1/sessions/{}/attendance", s.session))
        .await;
    assert_eq!(status_of(&sheet), "absent");
    let html = b.get(&path).await.html();
    assert!(html.contains(&format!("class=\"seat absent\" id=\"ghe-{seat}\"")));
    assert!(html.contains("✗ Vắng"));
    assert!(html.contains(&format!("Có mặt 0 / {}", s.n)));

    // The class results count the mark like any other (120-minute session missed).
    let results = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}/results", s.class))
        .await;
    let mine = results["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results in {results}"))
        .iter()
        .find(|r| r["participant_id"] == pid)
        .expect("result row")
        .clone();
    assert_eq!(mine["summary"]["missed_minutes"], 120, "{mine}");

    // No CSRF token: refused, nothing changes.
    let r = b
        .post_raw(&path, form(&[("participant_id", &pid.to_string())]))
        .await;
    r.expect(403);
    // Outside the subtree: not found.
    let outsider = app.browser_login("secretary").await;
    outsider.get(&path).await.expect(404);
    outsider
        .post_form(&path, &[("participant_id", &pid.to_string())])
        .await
        .expect(404);
    let sheet = s
        .organizer
        .get_ok(&format!("/api/v1/sessions/{}/attendance", s.session))
        .await;
    assert_eq!(status_of(&sheet), "absent");

    // The print page: the Party header, the stage, seats with full names, the name index.
    let page = b.get(&format!("{base}/print")).await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("ĐẢNG CỘNG SẢN VIỆT NAM"));
    assert!(html.contains("class=\"doc-head\""));
    assert!(html.contains("SƠ ĐỒ CHỖ NGỒI"));
    assert!(html.contains("SÂN KHẤU"));
    assert!(html.contains("DANH SÁCH THEO TÊN"));
    assert!(
        html.contains("ĐẢNG ỦY PHƯỜNG KON TUM"),
        "issuer in capitals"
    );
    assert!(
        !html.contains("class=\"top\""),
        "no navigation on the print page"
    );
    // The index lists everyone, each with a seat code, in Vietnamese name order.
    let index = html
        .split("class=\"seat-index\"")
        .nth(1)
        .expect("index list");
    assert_eq!(index.matches("<li>").count(), s.n);
    let sheet_names: Vec<String> = items(&sheet)
        .iter()
        .map(|r| r["full_name"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut at = 0;
    for name in &sheet_names {
        let pos = index[at..]
            .find(&format!("<span>{name}</span>"))
            .unwrap_or_else(|| panic!("{name} in name order in the index"));
        at += pos + 1;
    }
}
