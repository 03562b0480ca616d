//! A reviewer's attacks on search and filters (API.md "Search and filters", "Identity",
//! "Roles and rank"; README "What each list reads"): forged and partial claims, removed,
//! suspended and demoted callers, another organization's ids in `userId`, `actor`, `target`
//! and paths, cursors replayed across organizations and queries or tampered with, every
//! input at its limit (lengths, terms, multi-byte text at the 200-byte key cut, invisible and
//! control characters, empty and repeated values), names that could collide in the index
//! keys, renames between pages, changes racing searches (the index must match the
//! memberships afterwards), a page of 100 matches, what a search reveals of addresses, and
//! error bodies that change nothing. Every refusal must be the contract's status and code as
//! `application/problem+json`, and nothing may answer 500.

#![recursion_limit = "256"]

use std::collections::BTreeSet;

use roster_tests::harness::{
    TestApp, TestResponse, User, call_app_with_claims, on_big_stack, problem, service_claims,
};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");

/// A query string's value, percent-encoded.
fn enc(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Adds `user` as a member with `name` and the test's address for them, through the
/// service route (as a host product provisions members).
async fn add(app: &TestApp, org: &str, user: &str, name: Option<&str>, role: &str) {
    let status = try_add(app, org, user, name, role).await;
    assert_eq!(status.status, 201, "add {user}: {:?}", status.body);
}

async fn try_add(app: &TestApp, org: &str, user: &str, name: Option<&str>, role: &str) -> TestResponse {
    let mut body = json!({ "userId": user, "role": role });
    // An address only for ids that make a plain local part.
    if user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        body["email"] = json!(app.email(user));
    }
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    app.call_as_service(ADMIN.0, ADMIN.1, "POST", &format!("/orgs/{org}/members"), Some(body)).await
}

/// Every page of `path` (which carries its query) at `limit`: the items of `key`, in order,
/// and how many requests it took.
async fn pages(app: &TestApp, by: &User, path: &str, key: &str, limit: usize) -> (Vec<Value>, usize) {
    app.all_pages(by, path, key, limit, 500).await
}

async fn members(app: &TestApp, by: &User, path: &str, limit: usize) -> Vec<String> {
    ids(&pages(app, by, path, "members", limit).await.0)
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|m| m["userId"].as_str().expect("a userId").to_owned()).collect()
}

#[track_caller]
fn once_each(found: &[String], what: &str) {
    let unique: BTreeSet<&String> = found.iter().collect();
    assert_eq!(unique.len(), found.len(), "{what}: listed twice: {found:?}");
}

/// The last key a cursor carries (after its version byte and 32-byte tag): what it reveals.
fn cursor_key(cursor: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).expect("base64url");
    String::from_utf8_lossy(&bytes[33..]).into_owned()
}

/// An organization of `owner` with an admin, a member, a viewer and three Xaviers.
async fn small_org(app: &TestApp, owner: &User, name: &str) -> String {
    let org = app.create_org(owner, name).await;
    for (user, role) in [("adm", "admin"), ("mem", "member"), ("vie", "viewer")] {
        let user = app.user(&format!("{name}-{user}"));
        app.add_member(owner, &org, &user, role).await;
    }
    for i in 1..=3 {
        add(app, &org, &format!("{name}-x{i}"), Some(&format!("Xavier {name} {i}")), "member").await;
    }
    org
}

// --------------------------------------------------------------------------- claims

/// No claims, no `sub`, an empty `sub`, a person's token naming a service as its `sub`, an
/// unlisted client holding `roster/admin`, and a listed service without `roster/admin`: none
/// reaches a search, a filter or the members by id, whatever the query.
#[tokio::test]
async fn forged_and_partial_claims_reach_no_search_or_filter() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = small_org(&app, &owner, "acme").await;
    let paths = [
        format!("/orgs/{org}/members?q=xav"),
        format!("/orgs/{org}/members?q={}", "a".repeat(201)),
        format!("/orgs/{org}/members?userId=owner&userId=acme-x1"),
        format!("/orgs/{org}/members?role=admin&status=suspended&sort=joinedAt&order=desc"),
        format!("/orgs/{org}/invitations?q=acme&status=pending"),
        format!("/orgs/{org}/audit?actor=owner&action=member."),
        format!("/orgs/{org}/audit?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z"),
    ];
    for path in &paths {
        let r = app.call(None, "GET", path, None).await;
        problem(&r, 401, "unauthenticated", &format!("{path} without claims"));
        let mut claims = owner.claims();
        claims.remove("sub");
        let r = call_app_with_claims(&app.app, Some(&claims), "GET", path, None).await;
        problem(&r, 401, "unauthenticated", &format!("{path} without a sub"));
        claims.insert("sub".into(), String::new());
        let r = call_app_with_claims(&app.app, Some(&claims), "GET", path, None).await;
        problem(&r, 401, "unauthenticated", &format!("{path} with an empty sub"));
        // A person's token cannot name a service (`service:...`) as its sub.
        claims.insert("sub".into(), "service:dev-backend".into());
        let r = call_app_with_claims(&app.app, Some(&claims), "GET", path, None).await;
        problem(&r, 401, "unauthenticated", &format!("{path} as a person named service:"));
        // The owner's sub with scope and client_id claims of its own: still just the owner,
        // which proves nothing forged is needed; a stranger doing the same is no one here.
        let mut forged = app.user("stranger").claims();
        forged.insert("client_id".into(), "dev-backend".into());
        forged.insert("scope".into(), "roster/admin".into());
        let r = call_app_with_claims(&app.app, Some(&forged), "GET", path, None).await;
        problem(&r, 404, "not_found", &format!("{path} as a stranger claiming roster/admin"));
        let r = call_app_with_claims(
            &app.app,
            Some(&service_claims("stranger-service", "roster/admin")),
            "GET",
            path,
            None,
        )
        .await;
        assert!(
            matches!(r.status, 401 | 403 | 404),
            "{path} as an unlisted service: {} {:?}",
            r.status,
            r.body
        );
        assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
        let r = app.call_as_service("dev-service", "roster/authorize", "GET", path, None).await;
        problem(&r, 403, "forbidden", &format!("{path} as a service without roster/admin"));
    }
}

// ----------------------------------------------------- removed, suspended, demoted callers

/// API.md "Roles and rank": a suspended member can do nothing (`403 suspended`), a removed
/// one is a stranger (`404`), `member` and `viewer` read the member list (search included)
/// but not the audit trail or the invitations (`403 forbidden`), and each of these answers
/// comes before the query is judged: a bad query or a cursor from better days changes none.
#[tokio::test]
async fn removed_suspended_and_demoted_callers_get_their_refusal_before_any_query() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = small_org(&app, &owner, "acme").await;
    let (adm, mem, vie) = (app.user("acme-adm"), app.user("acme-mem"), app.user("acme-vie"));
    // Cursors each obtained while in good standing.
    let cursor_of = |by: User, path: String| {
        let app = &app;
        async move {
            let r = app.call(Some(&by), "GET", &path, None).await;
            assert_eq!(r.status, 200, "{path}: {:?}", r.body);
            r.body["nextCursor"].as_str().expect("a second page").to_owned()
        }
    };
    let search = format!("/orgs/{org}/members?q=xav&limit=1");
    let audit = format!("/orgs/{org}/audit?action=member.&limit=1");
    let mem_cursor = cursor_of(mem.clone(), search.clone()).await;
    let adm_cursor = cursor_of(adm.clone(), audit.clone()).await;

    // A viewer and a member read and search the member list ...
    for by in [&mem, &vie] {
        let found = members(&app, by, &format!("/orgs/{org}/members?q=xav"), 2).await;
        assert_eq!(found.len(), 3, "{found:?}");
    }
    // ... but neither the audit trail nor the invitations, filtered or not, well-formed or not.
    for by in [&mem, &vie] {
        for path in [
            format!("/orgs/{org}/audit?actor=owner"),
            format!("/orgs/{org}/audit?action=Member..&from=yesterday"),
            format!("/orgs/{org}/audit?target={}&cursor={adm_cursor}", by.sub),
            format!("/orgs/{org}/invitations?q=acme"),
            format!("/orgs/{org}/invitations?status=accepted&q={}", "a".repeat(500)),
        ] {
            let r = app.call(Some(by), "GET", &path, None).await;
            problem(&r, 403, "forbidden", &format!("{} on {path}", by.sub));
        }
    }

    // Demoted: yesterday's admin is a viewer today; their audit cursor is worth nothing.
    let r = app
        .call(
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/acme-adm"),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for path in [format!("{audit}&cursor={adm_cursor}"), format!("/orgs/{org}/audit?actor=owner")] {
        problem(
            &app.call(Some(&adm), "GET", &path, None).await,
            403,
            "forbidden",
            &format!("demoted: {path}"),
        );
    }

    // Suspended: nothing, not even their own row by id, a search, or a bad query.
    app.suspend(&owner, &org, "acme-mem").await;
    for path in [
        format!("/orgs/{org}/members?q=xav"),
        format!("{search}&cursor={mem_cursor}"),
        format!("/orgs/{org}/members?userId=acme-mem"),
        format!("/orgs/{org}/members?userId=owner&userId=acme-x1"),
        format!("/orgs/{org}/members?status=suspended"),
        format!("/orgs/{org}/members?q={}", "a".repeat(201)),
        format!("/orgs/{org}/members?sort=age"),
        format!("/orgs/{org}/members?userId=%01"),
    ] {
        problem(
            &app.call(Some(&mem), "GET", &path, None).await,
            403,
            "suspended",
            &format!("suspended: {path}"),
        );
    }

    // Removed: a stranger, with or without the cursor they kept.
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/acme-vie"), None).await;
    assert_eq!(r.status, 204);
    let vie_cursor = mem_cursor; // any cursor of this org's search
    for path in [
        format!("/orgs/{org}/members?q=xav"),
        format!("{search}&cursor={vie_cursor}"),
        format!("/orgs/{org}/members?userId=owner"),
        format!("/orgs/{org}/members?q={}", "a".repeat(201)),
        format!("/orgs/{org}/members?cursor=garbage"),
    ] {
        problem(
            &app.call(Some(&vie), "GET", &path, None).await,
            404,
            "not_found",
            &format!("removed: {path}"),
        );
    }
}

// ------------------------------------------------------------ another organization's ids

/// The caller owns A only. B's members, names, addresses and events exist. Asked about B's
/// ids in A (`userId`, `q`, `actor`, `target`), A's answers are exactly those for ids no one
/// has: the same body, no count, no cursor. Asked about B's path, the answer is exactly the
/// one for an organization that does not exist.
#[tokio::test]
async fn another_organizations_ids_answer_exactly_as_ids_of_no_one() {
    let app = TestApp::spawn().await;
    let (alice, bella) = (app.user("alice"), app.user("bella"));
    let a = small_org(&app, &alice, "aa").await;
    let b = small_org(&app, &bella, "bb").await;
    // B's activity: a suspension, a role change, a removal, all about B's people.
    app.suspend(&bella, &b, "bb-mem").await;
    let r = app
        .call(Some(&bella), "PATCH", &format!("/orgs/{b}/members/bb-vie"), Some(json!({"role": "member"})))
        .await;
    assert_eq!(r.status, 200);
    let r = app.call(Some(&bella), "DELETE", &format!("/orgs/{b}/members/bb-x3"), None).await;
    assert_eq!(r.status, 204);
    let r = app
        .call(
            Some(&bella),
            "POST",
            &format!("/orgs/{b}/invitations"),
            Some(json!({"invitations": [{"email": app.email("bbsecret")}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let same = |path_b: String, path_ghost: String| {
        let (app, alice) = (&app, &alice);
        async move {
            let r = app.call(Some(alice), "GET", &path_b, None).await;
            let g = app.call(Some(alice), "GET", &path_ghost, None).await;
            assert_eq!(r.status, 200, "{path_b}: {:?}", r.body);
            // The cursor's tag is bound to the query, so it differs; what it carries (the
            // last key read, of this organization) and whether there is one must not.
            let (mut r_body, mut g_body) = (r.body.clone(), g.body.clone());
            for body in [&mut r_body, &mut g_body] {
                if let Some(c) = body["nextCursor"].as_str() {
                    body["nextCursor"] = json!(cursor_key(c));
                }
            }
            assert_eq!((r.status, r_body), (g.status, g_body), "{path_b} vs {path_ghost}");
            for key in ["members", "events", "invitations"] {
                if let Some(items) = r.body[key].as_array() {
                    assert!(items.is_empty(), "{path_b}: {items:?}");
                }
            }
        }
    };
    let ghost = "zz-nobody";
    // Members by id, one at a time and all of B's at once (100 ids, B's among them).
    for user in ["bella", "bb-adm", "bb-mem", "bb-vie", "bb-x1", "bb-x3"] {
        same(format!("/orgs/{a}/members?userId={user}"), format!("/orgs/{a}/members?userId={ghost}")).await;
    }
    let all_b: String = ["bella", "bb-adm", "bb-mem", "bb-vie", "bb-x1", "bb-x2"]
        .iter()
        .map(|u| format!("userId={u}&"))
        .collect();
    let all_ghosts: String = (0..6).map(|i| format!("userId=zz-ghost{i}&")).collect();
    same(format!("/orgs/{a}/members?{all_b}"), format!("/orgs/{a}/members?{all_ghosts}")).await;
    // A search for words only B's people have (names, address local parts, B's own name).
    for (word, twin) in
        [("bb", "qq"), ("bella", "qqqqq"), ("bbsecret", "qqqqqqqq"), ("xavier%20bb", "xavier%20qq")]
    {
        for limit in [1, 100] {
            same(
                format!("/orgs/{a}/members?q={word}&limit={limit}"),
                format!("/orgs/{a}/members?q={twin}&limit={limit}"),
            )
            .await;
        }
        same(format!("/orgs/{a}/invitations?q={word}"), format!("/orgs/{a}/invitations?q={twin}")).await;
    }
    // The audit trail by B's actors and targets, alone and with an action or a time range.
    for id in ["bella", "bb-mem", "bb-vie", "bb-x3", b.as_str()] {
        for extra in
            ["", "&action=member.", "&action=member.suspended", "&from=2000-01-01T00:00:00Z", "&limit=1"]
        {
            for filter in ["actor", "target"] {
                same(
                    format!("/orgs/{a}/audit?{filter}={}{extra}", enc(id)),
                    format!("/orgs/{a}/audit?{filter}={}{extra}", enc(ghost)),
                )
                .await;
            }
        }
    }
    // An actor or target that spells B's index partition inside A's ("{b}#bella").
    for spelled in [format!("{b}#bella"), format!("AUDA#{b}#bella"), format!("#{b}#bella"), "#".to_owned()] {
        same(
            format!("/orgs/{a}/audit?actor={}", enc(&spelled)),
            format!("/orgs/{a}/audit?actor={}", enc(ghost)),
        )
        .await;
        same(
            format!("/orgs/{a}/audit?target={}", enc(&spelled)),
            format!("/orgs/{a}/audit?target={}", enc(ghost)),
        )
        .await;
    }
    // B's path: as for an organization that does not exist, whatever the query.
    let missing = "org_00000000000000000000000000";
    for query in [
        "members?q=bb",
        "members?userId=bella",
        "members?role=owner",
        "members?q=%01",
        "audit?actor=bella",
        "invitations?q=bbsecret",
        "members?sort=age",
    ] {
        let r = app.call(Some(&alice), "GET", &format!("/orgs/{b}/{query}"), None).await;
        let m = app.call(Some(&alice), "GET", &format!("/orgs/{missing}/{query}"), None).await;
        problem(&r, 404, "not_found", query);
        assert_eq!((r.status, &r.body), (m.status, &m.body), "{query}");
    }
}

// ------------------------------------------------------------------------------ cursors

/// A caller who belongs to two organizations replays a cursor of one in the other, of one
/// query on another, of one list on another, and alters it: always `400 invalid_cursor`.
#[tokio::test]
async fn cursors_serve_only_their_organization_query_and_list() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let a = small_org(&app, &owner, "aa").await;
    let b = small_org(&app, &owner, "bb").await;
    // Same names in both (the key after the cursor exists in both).
    for org in [&a, &b] {
        for i in 0..3 {
            add(&app, org, &format!("twin{i}"), Some(&format!("Twin {i}")), "member").await;
        }
        // A second event about twin1.
        app.suspend(&owner, org, "twin1").await;
        let r = app
            .call(
                Some(&owner),
                "POST",
                &format!("/orgs/{org}/invitations"),
                Some(json!({"invitations": [{"email": app.email("inv1")}, {"email": app.email("inv2")}]})),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let queries = [
        "members?q=twin",
        "members?q=twin&order=desc",
        "members?q=twin&role=member",
        "members?role=member",
        "members?status=active",
        "members?role=member&status=active",
        "members?sort=joinedAt",
        "members?sort=joinedAt&order=desc",
        "members",
        "invitations?q=inv",
        "invitations?q=t",
        "invitations?status=pending",
        "invitations",
        "audit?action=member.",
        "audit?actor=service:dev-backend",
        "audit?target=twin1",
        "audit?from=2000-01-01T00:00:00Z",
        "audit",
    ];
    let mut cursors = Vec::new();
    for query in queries {
        let sep = if query.contains('?') { '&' } else { '?' };
        let r = app.call(Some(&owner), "GET", &format!("/orgs/{a}/{query}{sep}limit=1"), None).await;
        assert_eq!(r.status, 200, "{query}: {:?}", r.body);
        let cursor = r.body["nextCursor"].as_str().unwrap_or_else(|| panic!("{query}: one page")).to_owned();
        cursors.push((query, cursor));
    }
    let url = |org: &str, query: &str, cursor: &str| {
        let sep = if query.contains('?') { '&' } else { '?' };
        format!("/orgs/{org}/{query}{sep}limit=1&cursor={cursor}")
    };
    for (i, (query, cursor)) in cursors.iter().enumerate() {
        // Its own list and organization: fine.
        let r = app.call(Some(&owner), "GET", &url(&a, query, cursor), None).await;
        assert_eq!(r.status, 200, "{query} in its own list: {:?}", r.body);
        // The other organization, same query.
        let r = app.call(Some(&owner), "GET", &url(&b, query, cursor), None).await;
        problem(&r, 400, "invalid_cursor", &format!("{query}'s cursor on the other organization"));
        // Every other query and list of the same organization.
        for (j, (other, _)) in cursors.iter().enumerate() {
            if i != j {
                let r = app.call(Some(&owner), "GET", &url(&a, other, cursor), None).await;
                problem(&r, 400, "invalid_cursor", &format!("{query}'s cursor on {other}"));
            }
        }
        // Tampered: a character changed at each end and in the middle, cut, lengthened.
        let mut tampered = Vec::new();
        for at in [0, cursor.len() / 2, cursor.len() - 1] {
            let mut bytes = cursor.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            tampered.push(String::from_utf8(bytes).unwrap());
        }
        tampered.push(cursor[..cursor.len() - 4].to_owned());
        tampered.push(format!("{cursor}AAAA"));
        tampered.push("A".repeat(2000));
        tampered.push(String::new());
        tampered.push("%00".to_owned());
        tampered.push(enc("eyJwayI6Ik9SRyMifQ=="));
        for bad in tampered {
            let r = app.call(Some(&owner), "GET", &url(&a, query, &bad), None).await;
            problem(&r, 400, "invalid_cursor", &format!("{query} with cursor {bad:?}"));
        }
    }
    // `userId` takes no cursor at all.
    let r = app
        .call(Some(&owner), "GET", &format!("/orgs/{a}/members?userId=twin1&cursor={}", cursors[0].1), None)
        .await;
    problem(&r, 400, "invalid_request", "userId with a cursor");
}

// ------------------------------------------------------------------------ input limits

/// `q` at and over each limit, empty and repeated values, invisible and control characters:
/// a limit is `400 invalid_request`, anything within it is `200`, never `500`.
#[tokio::test]
async fn query_inputs_at_their_limits() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = small_org(&app, &owner, "acme").await;
    let get = |query: String| {
        let (app, owner, org) = (&app, &owner, &org);
        async move { app.call(Some(owner), "GET", &format!("/orgs/{org}/members?{query}"), None).await }
    };
    let everyone = members(&app, &owner, &format!("/orgs/{org}/members"), 100).await;
    // Lengths: 200 characters (of one byte, of two, of four) are taken, 201 are not.
    for unit in ["a", "é", "😀", "中"] {
        let r = get(format!("q={}", enc(&unit.repeat(200)))).await;
        assert_eq!(r.status, 200, "200 × {unit}: {:?}", r.body);
        assert_eq!(r.body["members"], json!([]), "200 × {unit}");
        problem(
            &get(format!("q={}", enc(&unit.repeat(201)))).await,
            400,
            "invalid_request",
            "201 characters",
        );
    }
    // Terms: 8 taken, 9 not; repeats and case collapse before counting.
    assert_eq!(get("q=a%20b%20c%20d%20e%20f%20g%20h".into()).await.status, 200);
    problem(&get("q=a%20b%20c%20d%20e%20f%20g%20h%20i".into()).await, 400, "invalid_request", "9 terms");
    assert_eq!(get("q=a%20b%20c%20d%20e%20f%20g%20h%20A%20b".into()).await.status, 200, "8 distinct");
    // Separators split terms too: 9 of them by dots is still 9.
    problem(&get("q=a.b.c.d.e.f.g.h.i".into()).await, 400, "invalid_request", "9 terms by dots");
    // Empty and separator-only: no search (the whole list), and the same cursor scope.
    for empty in ["q=", "q=%20", "q=.@_-+", "q=%E2%80%8B", "q=%E2%80%AE%E2%80%AC"] {
        assert_eq!(
            members(&app, &owner, &format!("/orgs/{org}/members?{empty}"), 100).await,
            everyone,
            "{empty}"
        );
    }
    // Invisible and text-direction characters are no part of a term.
    let xav = members(&app, &owner, &format!("/orgs/{org}/members?q=xav"), 100).await;
    assert_eq!(xav.len(), 3);
    for q in ["%E2%80%AExav", "x%E2%80%8Bav", "xav%EF%BB%BF", "%C2%ADxa%E2%81%A0v", "%EF%BC%B8AV"] {
        assert_eq!(members(&app, &owner, &format!("/orgs/{org}/members?q={q}"), 100).await, xav, "{q}");
    }
    // Control characters, the index keys' separator U+0001 among them, cut terms as they
    // cut words: one made only of them is no search (the whole list, like `q=`)...
    let everyone = members(&app, &owner, &format!("/orgs/{org}/members"), 100).await;
    for q in ["%01", "%00", "%01%00%7F"] {
        assert_eq!(members(&app, &owner, &format!("/orgs/{org}/members?q={q}"), 100).await, everyone, "{q}");
    }
    // ...and beside letters never a match that is not one, never a 500, and the pages end.
    for q in ["xav%01", "xav%01xavier", "xavier%01xavier%20acme", "xav%00", "xav%7F", "%1Fxav"] {
        let r = get(format!("q={q}&limit=1")).await;
        assert!(r.status == 200 || r.status == 400, "{q}: {} {:?}", r.status, r.body);
        if r.status == 400 {
            problem(&r, 400, "invalid_request", q);
            continue;
        }
        let (found, _) = pages(&app, &owner, &format!("/orgs/{org}/members?q={q}"), "members", 1).await;
        for m in &found {
            let name = m["name"].as_str().unwrap_or("").to_lowercase();
            assert!(name.contains("xav"), "{q} listed {m}");
        }
    }
    // Empty and unknown values of the other parameters.
    for (query, code) in [
        ("role=", "invalid_role"),
        ("status=", "invalid_request"),
        ("sort=", "invalid_request"),
        ("order=", "invalid_request"),
        ("limit=", "invalid_request"),
        ("limit=0", "invalid_request"),
        ("limit=101", "invalid_request"),
        ("limit=-1", "invalid_request"),
        ("limit=1e2", "invalid_request"),
        ("userId=", "invalid_request"),
        ("userId=%01", "invalid_request"),
        ("userId=a%20b", "invalid_request"),
        ("userId=a%0Ab", "invalid_request"),
        ("role=OWNER", "invalid_role"),
        ("status=Active", "invalid_request"),
        ("sort=NAME", "invalid_request"),
        ("q=xav&sort=joinedAt", "invalid_request"),
        ("userId=owner&q=", "invalid_request"),
        ("userId=owner&limit=1&order=asc", "invalid_request"),
    ] {
        problem(&get(query.to_owned()).await, 400, code, query);
    }
    // 100 ids taken, 101 not (also when the 101st repeats one: the count is of values).
    let hundred: String = (0..100).map(|i| format!("userId=u{i}&")).collect();
    assert_eq!(get(hundred.clone()).await.status, 200);
    problem(&get(format!("{hundred}userId=u0")).await, 400, "invalid_request", "101 userIds");
    // A user id of exactly 128 bytes is one, of 129 is not.
    assert_eq!(get(format!("userId={}", enc(&"é".repeat(64)))).await.status, 200);
    problem(&get(format!("userId={}", enc(&"é".repeat(65)))).await, 400, "invalid_request", "129-byte id");
}

/// A repeated `q` (or `role`): one value is used, and the cursor binds exactly the query
/// that was served (a cursor of `q=a&q=b` is refused for `q=b&q=a` unless both mean one).
#[tokio::test]
async fn a_repeated_parameter_is_one_query_and_its_cursor_binds_that_one() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = small_org(&app, &owner, "acme").await;
    let xav = members(&app, &owner, &format!("/orgs/{org}/members?q=xav"), 100).await;
    let none = members(&app, &owner, &format!("/orgs/{org}/members?q=zzz"), 100).await;
    let first = members(&app, &owner, &format!("/orgs/{org}/members?q=xav&q=zzz"), 1).await;
    let second = members(&app, &owner, &format!("/orgs/{org}/members?q=zzz&q=xav"), 1).await;
    assert!(first == xav || first == none, "q=xav&q=zzz: {first:?}");
    assert!(second == xav || second == none, "q=zzz&q=xav: {second:?}");
    if first != second {
        // Two different queries were served: a cursor of one is refused by the other.
        let r =
            app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?q=xav&q=zzz&limit=1"), None).await;
        if let Some(cursor) = r.body["nextCursor"].as_str() {
            let other = app
                .call(
                    Some(&owner),
                    "GET",
                    &format!("/orgs/{org}/members?q=zzz&q=xav&limit=1&cursor={cursor}"),
                    None,
                )
                .await;
            problem(&other, 400, "invalid_cursor", "the other order of repeats");
        }
    }
    // A repeated role: one of them, never both, never a 500.
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?role=owner&role=admin"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let roles: BTreeSet<&str> =
        r.body["members"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles.len(), 1, "{roles:?}");
}

/// Audit filters at and over their limits: `from` after `to`, malformed times, actions that
/// are no action or prefix, ids of 255 and 256 characters, control characters, empty values.
#[tokio::test]
async fn audit_and_invitation_filters_at_their_limits() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = small_org(&app, &owner, "acme").await;
    let get = |query: String| {
        let (app, owner, org) = (&app, &owner, &org);
        async move { app.call(Some(owner), "GET", &format!("/orgs/{org}/{query}"), None).await }
    };
    for query in [
        "audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "audit?from=2026-01-01T00:00:00.002Z&to=2026-01-01T00:00:00.001Z",
        "audit?from=2026-13-01T00:00:00Z",
        "audit?from=2026-02-30T00:00:00Z",
        "audit?from=2026-01-01",
        "audit?from=2026-01-01T00:00:00",
        "audit?from=now",
        "audit?from=1767225600",
        "audit?from=",
        "audit?to=",
        "audit?to=2026-01-01T00:00:00%2B25:00",
        "audit?to=%2B275760-09-13T00:00:00Z",
        "audit?action=",
        "audit?action=.",
        "audit?action=..",
        "audit?action=member..",
        "audit?action=.member",
        "audit?action=member..suspended",
        "audit?action=Member.",
        "audit?action=MEMBER.SUSPENDED",
        "audit?action=member.*",
        "audit?action=member%",
        "audit?action=member.%01",
        "audit?action=member%20.",
        "audit?action=m%C3%A9mber.",
        "audit?actor=",
        "audit?target=",
        "audit?actor=a%01b",
        "audit?target=a%0Ab",
        "audit?actor=a%7Fb",
        "invitations?status=",
        "invitations?status=accepted",
        "invitations?status=PENDING",
        "invitations?emailDelivery=",
        "invitations?emailDelivery=Sent",
        "invitations?q=a%20b%20c%20d%20e%20f%20g%20h%20i",
    ] {
        problem(&get(query.to_owned()).await, 400, "invalid_request", query);
    }
    let action = format!("audit?action={}", "a".repeat(65));
    problem(&get(action).await, 400, "invalid_request", "a 65-character action");
    problem(&get(format!("audit?actor={}", "x".repeat(256))).await, 400, "invalid_request", "256 chars");
    problem(
        &get(format!("audit?target={}", enc(&"é".repeat(256)))).await,
        400,
        "invalid_request",
        "256 chars",
    );
    for query in [
        format!("audit?actor={}", "x".repeat(255)),
        format!("audit?target={}", enc(&"😀".repeat(255))),
        format!("audit?actor={}&target={}", enc("a#b%c"), enc("ü,\u{202e}x")),
        "audit?action=member.".to_owned(),
        "audit?action=nothing.".to_owned(),
        "audit?action=nothing.at_all".to_owned(),
        "audit?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z".to_owned(),
        "invitations?q=".to_owned(),
        "invitations?q=%01".to_owned(),
    ] {
        let r = get(query.clone()).await;
        assert_eq!(r.status, 200, "{query}: {:?}", r.body);
    }
    // Times far out are ranges, not errors: before the epoch and in year 9999 take everything
    // or nothing, as they should.
    let everything = pages(&app, &owner, &format!("/orgs/{org}/audit"), "events", 100).await.0;
    for (query, all) in [
        ("from=1900-01-01T00:00:00Z", true),
        ("to=9999-12-31T23:59:59.999Z", true),
        ("from=1900-01-01T00:00:00Z&to=1900-01-02T00:00:00Z", false),
        ("from=9999-01-01T00:00:00Z", false),
    ] {
        let got = pages(&app, &owner, &format!("/orgs/{org}/audit?{query}"), "events", 100).await.0;
        assert_eq!(got.len(), if all { everything.len() } else { 0 }, "{query}");
    }
}

// ------------------------------------------------------------------- index key collisions

/// Names and ids that could collide in the index keys (`<word>\x01<sort name>\x01<userId>`):
/// an id that is a prefix of another, two members of one name, names holding `#` or a
/// control character (cleaned to a space), ids holding `#`, `%`, `,` and non-ASCII text.
/// Each is listed exactly once, in (name, id) order, at every page size, and by id.
#[tokio::test]
async fn look_alike_keys_list_each_member_once_in_order() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let people: [(&str, &str); 10] = [
        ("p", "Same Name"),
        ("p1", "Same Name"),
        ("p#1", "Same Name"),
        ("p%1", "Same Name"),
        ("p,1", "Same Name"),
        ("pü", "Same Name"),
        ("q", "Same Name Longer"),
        ("r", "Same#Name"),
        ("s", "Same"),
        ("t", "Same NameX"),
    ];
    for (user, name) in people {
        add(&app, &org, user, Some(name), "member").await;
    }
    // A token's name with a control character (U+0001, the keys' separator): cleaned.
    let mut sly = app.user("sly");
    sly.name = Some("Same\u{1}Name\u{0}\u{1}p".into());
    app.add_member(&owner, &org, &sly, "member").await;
    // A service may not store one at all.
    let r = app
        .call_as_service(
            ADMIN.0,
            ADMIN.1,
            "POST",
            &format!("/orgs/{org}/members"),
            Some(json!({"userId": "ctl", "role": "member", "name": "Same\u{1}Name"})),
        )
        .await;
    problem(&r, 400, "invalid_request", "a name with U+0001 from a service");
    let got = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members/sly"), None).await;
    assert_eq!(got.body["member"]["name"], "Same Name p", "{:?}", got.body);

    // Every index key: one separator in an order item, two in a word item, none elsewhere.
    for item in app.partition(&org).await {
        let sk = item["SK"].as_s().unwrap();
        let seps = sk.matches('\u{1}').count();
        let want = if sk.starts_with("MS#") {
            1
        } else if sk.starts_with("MW#") {
            2
        } else {
            0
        };
        assert_eq!(seps, want, "{sk:?}");
    }
    let same_name: Vec<&str> = vec!["p", "p#1", "p%1", "p,1", "p1", "pü"];
    for limit in [1, 2, 3, 100] {
        let by_name = members(&app, &owner, &format!("/orgs/{org}/members?sort=name"), limit).await;
        once_each(&by_name, "sort=name");
        let mut want: Vec<&str> = vec!["s"];
        want.extend(&same_name);
        want.extend(["q", "sly", "t", "r", "owner"]);
        assert_eq!(by_name, want, "limit {limit}");
        let desc = members(&app, &owner, &format!("/orgs/{org}/members?sort=name&order=desc"), limit).await;
        assert_eq!(desc, want.iter().rev().copied().collect::<Vec<_>>(), "desc, limit {limit}");
        // A search for the shared words: listed once each, under the smallest word matched.
        let found = members(&app, &owner, &format!("/orgs/{org}/members?q=same%20name"), limit).await;
        once_each(&found, "q=same name");
        let set: BTreeSet<&str> = found.iter().map(String::as_str).collect();
        let expected: BTreeSet<&str> = same_name.iter().copied().chain(["q", "t", "sly"]).collect();
        assert_eq!(set, expected, "q=same name, limit {limit}: {found:?}");
        // `#` is no separator: "same#name" is one word.
        let hash = members(&app, &owner, &format!("/orgs/{org}/members?q=same%23"), limit).await;
        assert_eq!(hash, ["r"], "q=same#");
    }
    // By id: exactly the ids asked, each once, in the order asked; a prefix is not a match.
    let r = app
        .call(
            Some(&owner),
            "GET",
            &format!("/orgs/{org}/members?userId=p%231&userId=p&userId=p%251&userId=p%2C1&userId={}&userId=p1&userId=p%23", enc("pü")),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids(r.body["members"].as_array().unwrap()), ["p#1", "p", "p%1", "p,1", "pü", "p1"]);
    assert!(app.index_drift(&org).await.is_empty());
}

/// Words and names at the 200-byte cut of the index keys: multi-byte characters across the
/// cut (two, three and four bytes), a word longer than 200 bytes, and NFKC forms that grow.
/// Writes succeed, the index agrees with the memberships, and a term compares on the same
/// first 200 bytes as the words (search.rs `MAX_KEY_TEXT_BYTES`).
#[tokio::test]
async fn words_and_names_at_the_key_cut() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let names = [
        ("e2", "é".repeat(150)),                       // 300 bytes, cut at 200 (even)
        ("e2odd", format!("a{}", "é".repeat(150))),    // cut at 199
        ("c3", "中".repeat(100)),                      // 300 bytes, cut at 198
        ("f4", format!("ab{}", "😀".repeat(60))),      // cut at 198
        ("nfkc", "ﷺ".repeat(50)),                      // each grows to 33 bytes and 4 words
        ("long", format!("{} tail", "z".repeat(195))), // a long word, then another
        ("many", (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")),
    ];
    for (user, name) in &names {
        add(&app, &org, user, Some(name), "member").await;
    }
    assert!(app.index_drift(&org).await.is_empty());
    let find = |q: String| {
        let (app, owner, org) = (&app, &owner, &org);
        async move { members(app, owner, &format!("/orgs/{org}/members?q={}", enc(&q)), 100).await }
    };
    assert_eq!(find("é".repeat(100)).await, ["e2"]);
    assert_eq!(find("é".repeat(150)).await, ["e2"], "the whole word, over the cut");
    // Only a term's first 200 bytes count, as only a word's do: a term that parts from the
    // word after the cut still finds it (documented in search.rs; bounded and harmless: it
    // can only find what a shorter, valid term finds too).
    assert_eq!(find(format!("{}x", "é".repeat(100))).await, ["e2"]);
    assert_eq!(find(format!("a{}", "é".repeat(150))).await, ["e2odd"]);
    assert_eq!(find("中".repeat(100)).await, ["c3"]);
    assert_eq!(find(format!("ab{}", "😀".repeat(60))).await, ["f4"]);
    assert_eq!(find("صلى".to_owned()).await, ["nfkc"]);
    assert_eq!(find("tail".to_owned()).await, ["long"]);
    assert_eq!(find("z".repeat(195)).await, ["long"]);
    // Name words come first and at most 16 count: w0..w15; w16 on and the address are not.
    assert_eq!(find("w15".to_owned()).await, ["many"]);
    assert!(find("w16".to_owned()).await.is_empty());
    // Sorting by such names neither fails nor loses anyone.
    let all = members(&app, &owner, &format!("/orgs/{org}/members?sort=name"), 3).await;
    assert_eq!(all.len(), names.len() + 1);
    once_each(&all, "sort=name");
    // The cursor of a page that ends on the longest keys still fits and verifies.
    let page = members(&app, &owner, &format!("/orgs/{org}/members?q={}", enc(&"é".repeat(10))), 1).await;
    assert_eq!(page, ["e2"]);
}

// ------------------------------------------------------------- renames between pages

/// A member renamed between two pages of a search: every member not changed meanwhile is
/// listed exactly once and in order; the renamed one is listed under its new name if at
/// all after the cursor (keyset paging: at most once more), never anyone else twice.
#[tokio::test]
async fn a_rename_between_pages_disturbs_no_one_else() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let mut people = Vec::new();
    for (i, letter) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        let mut u = app.user(&format!("n{i}"));
        u.name = Some(format!("Nora {letter}{letter}"));
        app.add_member(&owner, &org, &u, "member").await;
        people.push(u);
    }
    let path = format!("/orgs/{org}/members?q=nora&limit=2");
    let first = app.call(Some(&owner), "GET", &path, None).await;
    assert_eq!(ids(first.body["members"].as_array().unwrap()), ["n0", "n1"]);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    // n0 (listed) moves to the end; n4 (not yet listed) moves before the cursor.
    let mut moved = people[0].clone();
    moved.name = Some("Nora zz".into());
    assert_eq!(app.call(Some(&moved), "GET", &format!("/orgs/{org}"), None).await.status, 200);
    let mut back = people[4].clone();
    back.name = Some("Nora a0".into());
    assert_eq!(app.call(Some(&back), "GET", &format!("/orgs/{org}"), None).await.status, 200);
    let mut rest = Vec::new();
    let mut next = Some(cursor);
    while let Some(c) = next {
        let r = app.call(Some(&owner), "GET", &format!("{path}&cursor={c}"), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        rest.extend(ids(r.body["members"].as_array().unwrap()));
        next = r.body["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(rest, ["n2", "n3", "n5", "n0"], "unchanged members once and in order");
    assert!(app.index_drift(&org).await.is_empty());
}

// ------------------------------------------------------------------------------ races

/// Renames, role changes, suspensions, removals and re-adds, leaving, ownership transfers and
/// service adds, all racing searches and filters: no search lists anyone twice or anyone who
/// does not match, and afterwards the index agrees with the memberships and every search
/// answers exactly what the memberships say.
#[test]
fn changes_racing_searches_leave_the_index_exactly_the_memberships() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        let mut people: Vec<User> = Vec::new();
        for i in 0..8 {
            let mut u = app.user(&format!("r{i}"));
            u.name = Some(format!("Racer{i} Omega"));
            app.add_member(&owner, &org, &u, if i == 0 { "owner" } else { "member" }).await;
            people.push(u);
        }
        let app = &app;
        for round in 0..3 {
            let mut tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>> = Vec::new();
            for (i, person) in people.iter().enumerate() {
                let mut renamed = person.clone();
                renamed.name = Some(format!("Racer{i} R{round} Omega"));
                let (o, w) = (org.clone(), owner.clone());
                tasks.push(Box::pin(async move {
                    let _ = app.call(Some(&renamed), "GET", &format!("/orgs/{o}"), None).await;
                    let path = format!("/orgs/{o}/members/{}", renamed.sub);
                    match (i + round) % 5 {
                        0 => {
                            let _ = app.call(Some(&w), "DELETE", &path, None).await;
                            let name = format!("Racer{i} Back Omega");
                            let r = try_add(app, &o, &renamed.sub, Some(&name), "viewer").await;
                            assert!(r.status < 500, "re-add: {:?}", r.body);
                        }
                        1 => {
                            let _ = app.call(Some(&w), "PATCH", &path, Some(json!({"role": "admin"}))).await;
                        }
                        2 => {
                            let _ = app
                                .call(Some(&w), "PATCH", &path, Some(json!({"status": "suspended"})))
                                .await;
                        }
                        3 => {
                            let _ = app
                                .call(
                                    Some(&w),
                                    "PATCH",
                                    &path,
                                    Some(json!({"status": "active", "role": "member"})),
                                )
                                .await;
                        }
                        _ => {
                            let _ = app.call(Some(&renamed), "DELETE", &path, None).await;
                        }
                    }
                }));
                let (o, w) = (org.clone(), owner.clone());
                tasks.push(Box::pin(async move {
                    for query in [
                        "q=racer&limit=3",
                        "q=omega%20racer&limit=100",
                        "role=admin&limit=2",
                        "status=suspended",
                    ] {
                        let path = format!("/orgs/{o}/members?{query}");
                        let page = app.call(Some(&w), "GET", &path, None).await;
                        assert_eq!(page.status, 200, "{path}: {:?}", page.body);
                        let found = page.body["members"].as_array().unwrap();
                        once_each(&ids(found), &path);
                        for m in found {
                            if query.starts_with("role=admin") {
                                assert_eq!(m["role"], "admin", "{path}: {m}");
                            }
                            if query.starts_with("status=") {
                                assert_eq!(m["status"], "suspended", "{path}: {m}");
                            }
                        }
                    }
                }));
            }
            // The owner hands ownership over and back, racing too.
            let (o, w, r0) = (org.clone(), owner.clone(), people[0].clone());
            tasks.push(Box::pin(async move {
                let t = format!("/orgs/{o}/transfer-ownership");
                let _ = app.call(Some(&w), "POST", &t, Some(json!({"userId": r0.sub}))).await;
            }));
            futures::future::join_all(tasks).await;
            let drift = app.index_drift(&org).await;
            assert!(drift.is_empty(), "round {round}: {drift:?}");
            // People who left come back for the next round.
            for (i, p) in people.iter().enumerate() {
                let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members/{}", p.sub), None).await;
                if r.status == 404 {
                    add(app, &org, &p.sub, Some(&format!("Racer{i} Omega")), "member").await;
                }
            }
        }
        // Afterwards each search is exactly what the memberships say.
        let everyone = pages(app, &owner, &format!("/orgs/{org}/members"), "members", 100).await.0;
        type Keep = Box<dyn Fn(&Value) -> bool>;
        let checks: Vec<(&str, Keep)> = vec![
            ("q=racer", Box::new(|_| true)),
            ("q=racer&role=admin", Box::new(|m| m["role"] == "admin")),
            ("q=racer&status=suspended", Box::new(|m| m["status"] == "suspended")),
            ("role=viewer", Box::new(|m| m["role"] == "viewer")),
            ("status=active&role=member", Box::new(|m| m["status"] == "active" && m["role"] == "member")),
        ];
        for (query, keep) in checks {
            let found: BTreeSet<String> =
                members(app, &owner, &format!("/orgs/{org}/members?{query}"), 2).await.into_iter().collect();
            let want: BTreeSet<String> = everyone
                .iter()
                .filter(|m| !query.starts_with("q=") || m["name"].as_str().unwrap_or("").starts_with("Racer"))
                .filter(|m| keep(m))
                .map(|m| m["userId"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(found, want, "{query}");
        }
    });
}

// ---------------------------------------------------------------- a page of 100 matches

/// 130 members match; pages of 100 read at most 200 word items: every match once, few
/// requests. A query whose longest term matches everyone and whose other term matches no
/// one walks the run in short pages and ends. 100 real members by id come back, all 100
/// (one key more than a BatchGetItem takes, with the organization's item).
#[test]
fn a_page_of_a_hundred_matches_and_a_hundred_ids() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        use futures::StreamExt;
        futures::stream::iter(0..130)
            .for_each_concurrent(8, |i| {
                let (app, org) = (&app, &org);
                async move {
                    add(app, org, &format!("b{i:03}"), Some(&format!("Bulk Person {i:03}")), "member").await
                }
            })
            .await;
        let (found, requests) =
            pages(&app, &owner, &format!("/orgs/{org}/members?q=bulk"), "members", 100).await;
        let found = ids(&found);
        once_each(&found, "q=bulk");
        assert_eq!(found.len(), 130);
        assert!(requests <= 3, "{requests} requests for 130 matches at 100 a page");
        let (none, requests) =
            pages(&app, &owner, &format!("/orgs/{org}/members?q=person%20zzz"), "members", 100).await;
        assert!(none.is_empty());
        assert!(requests <= 3, "{requests} requests to learn there is no match among 130");
        let hundred: String = (0..100).map(|i| format!("userId=b{i:03}&")).collect();
        let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?{hundred}"), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let got = ids(r.body["members"].as_array().unwrap());
        let want: Vec<String> = (0..100).map(|i| format!("b{i:03}")).collect();
        assert_eq!(got, want);
        assert!(app.index_drift(&org).await.is_empty());
    });
}

// ------------------------------------------------------------------------- addresses

/// What a search may reveal of addresses: API.md lets `member` and `viewer` read the member
/// list, and the list shows each member's `email`; a search by address words must reveal no
/// more. Addresses the list does not show, it must not find: an unverified address of the
/// token (never stored), an address the member moved away from (stored as the slot, never
/// shown), an invitation's address (admins only).
#[tokio::test]
async fn a_search_reveals_no_address_the_list_does_not_show() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let viewer = app.user("viewer");
    app.add_member(&owner, &org, &viewer, "viewer").await;
    // Joins with an unverified address claim: a user, not an address.
    let mut sham = app.user("sham").with_email(&app.email("ceo.shamaddress")).unverified();
    sham.name = Some("Sham Person".into());
    app.add_member(&owner, &org, &sham, "member").await;
    // Joins with one verified address, later proves another: the first stays as the slot.
    let mut mover = app.user("mover").with_email(&app.email("oldhidden"));
    mover.name = Some("Mover Person".into());
    app.add_member(&owner, &org, &mover, "member").await;
    let moved = mover.clone().with_email(&app.email("newshown"));
    assert_eq!(app.call(Some(&moved), "GET", &format!("/orgs/{org}"), None).await.status, 200);
    // An invitation to an address nobody else has.
    let r = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({"invitations": [{"email": app.email("invitedsecret")}]})),
        )
        .await;
    assert_eq!(r.status, 200);

    // What the viewer's list shows of everyone.
    let listed = pages(&app, &viewer, &format!("/orgs/{org}/members"), "members", 100).await.0;
    let shown: String =
        listed.iter().map(|m| format!("{} {} ", m["email"], m["name"])).collect::<String>().to_lowercase();
    for word in ["shamaddress", "oldhidden", "invitedsecret"] {
        assert!(!shown.contains(word), "the list shows {word}: {shown}");
        for by in [&viewer, &owner] {
            let found = members(&app, by, &format!("/orgs/{org}/members?q={word}"), 10).await;
            assert!(found.is_empty(), "{} finds {word}: {found:?}", by.sub);
        }
    }
    // What it does show, a search finds, for the viewer as for the owner.
    assert!(shown.contains("newshown"));
    for by in [&viewer, &owner] {
        assert_eq!(members(&app, by, &format!("/orgs/{org}/members?q=newshown"), 10).await, ["mover"]);
    }
    // Every member a viewer's search finds by a word of an address, the viewer's list shows
    // with that address.
    for m in &listed {
        let Some(email) = m["email"].as_str() else { continue };
        let local = email.split('@').next().unwrap();
        let found = members(&app, &viewer, &format!("/orgs/{org}/members?q={}", enc(local)), 10).await;
        assert!(found.contains(&m["userId"].as_str().unwrap().to_owned()), "{local}: {found:?}");
    }
    // Invitation addresses: admins only, whatever the query.
    for by in [&viewer, &sham] {
        for q in ["invitedsecret", "", "i"] {
            let r = app.call(Some(by), "GET", &format!("/orgs/{org}/invitations?q={q}"), None).await;
            problem(&r, 403, "forbidden", &format!("{} invitations?q={q}", by.sub));
        }
    }
    assert!(app.index_drift(&org).await.is_empty());
}

/// A service asking for members by id gets members, and only members: not a row made up for
/// itself (it is no member of the organization).
#[tokio::test]
async fn members_by_id_lists_only_members_for_a_service_too() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let path =
        format!("/orgs/{org}/members?userId=owner&userId=service:dev-backend&userId=service:dev-service");
    let r = app.call_as_service(ADMIN.0, ADMIN.1, "GET", &path, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids(r.body["members"].as_array().unwrap()), ["owner"], "{:?}", r.body);
    let r = app.call(Some(&owner), "GET", &path, None).await;
    assert_eq!(ids(r.body["members"].as_array().unwrap()), ["owner"], "{:?}", r.body);
}

// ------------------------------------------------------------------ errors change nothing

/// A battery of refused queries, by everyone who may be refused: every answer is
/// problem+json, and the table is exactly as before (no refresh, no audit event, no index
/// item written by a refused read).
#[tokio::test]
async fn refused_queries_change_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = small_org(&app, &owner, "acme").await;
    let (mem, vie) = (app.user("acme-mem"), app.user("acme-vie"));
    let stranger = app.user("stranger");
    app.suspend(&owner, &org, "acme-adm").await;
    let adm = app.user("acme-adm");
    let before = app.all_items().await;
    let bad = [
        format!("/orgs/{org}/members?q={}", "a".repeat(201)),
        format!("/orgs/{org}/members?q=a%20b%20c%20d%20e%20f%20g%20h%20i"),
        format!("/orgs/{org}/members?userId="),
        format!("/orgs/{org}/members?cursor=AAAA"),
        format!("/orgs/{org}/members?q=ann&sort=joinedAt"),
        format!("/orgs/{org}/audit?action=member.."),
        format!("/orgs/{org}/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"),
        format!("/orgs/{org}/invitations?status=accepted"),
        format!("/orgs/{org}/audit?actor=owner"),
        format!("/orgs/{org}/invitations?q=acme"),
    ];
    for by in [&owner, &mem, &vie, &adm, &stranger] {
        for path in &bad {
            let r = app.call(Some(by), "GET", path, None).await;
            if by.sub == "owner" && r.status == 200 {
                // The owner's well-formed reads (audit by actor, invitations by q) are served.
                assert!(path.contains("actor=owner") || path.contains("invitations?q="), "{path}");
                continue;
            }
            assert!(r.status >= 400 && r.status < 500, "{} {path}: {} {:?}", by.sub, r.status, r.body);
            assert_eq!(r.content_type.as_deref(), Some("application/problem+json"), "{path}");
            let keys: BTreeSet<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["type", "title", "status", "detail", "code"]), "{path}");
        }
    }
    let after = app.all_items().await;
    type Items = std::collections::BTreeMap<
        String,
        std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    >;
    let by_key =
        |items: Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>| -> Items {
            items.into_iter().map(|i| (format!("{:?}|{:?}", i["PK"], i["SK"]), i)).collect()
        };
    let (before, after) = (by_key(before), by_key(after));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "items added or removed");
    for (k, item) in &before {
        assert_eq!(Some(item), after.get(k), "{k} changed by a refused read");
    }
}

/// One member's name flips between the two ends of a run while pages of that run are read:
/// a query is not isolated from a transaction (it may read the old item and the new one),
/// yet no page may list a member twice.
#[test]
fn a_name_flipping_during_a_read_is_never_listed_twice_on_one_page() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        for i in 0..40 {
            add(&app, &org, &format!("f{i:02}"), Some(&format!("Flip Mid{i:02}")), "member").await;
        }
        let mut flipper = app.user("flipper");
        flipper.name = Some("Flip Aaa".into());
        app.add_member(&owner, &org, &flipper, "member").await;
        let done = std::sync::atomic::AtomicBool::new(false);
        let flips = async {
            for round in 0..60 {
                let mut f = flipper.clone();
                f.name = Some(if round % 2 == 0 { "Flip Zzz" } else { "Flip Aaa" }.into());
                assert_eq!(app.call(Some(&f), "GET", &format!("/orgs/{org}"), None).await.status, 200);
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        };
        let reads = async {
            let mut pages_read = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                for query in ["q=flip&limit=100", "sort=name&limit=100", "sort=name&order=desc&limit=100"] {
                    let r =
                        app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?{query}"), None).await;
                    assert_eq!(r.status, 200, "{:?}", r.body);
                    once_each(&ids(r.body["members"].as_array().unwrap()), query);
                    pages_read += 1;
                }
            }
            pages_read
        };
        let ((), pages_read) = futures::future::join(flips, reads).await;
        assert!(pages_read > 0);
        assert!(app.index_drift(&org).await.is_empty());
    });
}
