//! List cursors are tamper-evident (issue 10, defect 6): a real `nextCursor`, decoded, its key
//! changed and encoded again, is `400 invalid_cursor`, as is any cursor the deployment's
//! keys did not sign, while cursors signed with a key still listed keep working.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use roster::domain::cursor::CursorKeys;
use roster_tests::harness::{TestApp, TestResponse, User};
use serde_json::json;

/// Where `needle` last occurs in `haystack`: a cursor ends with its key.
fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

async fn members_page(app: &TestApp, owner: &User, org: &str, cursor: Option<&str>) -> TestResponse {
    let path = match cursor {
        Some(c) => format!("/orgs/{org}/members?limit=1&cursor={c}"),
        None => format!("/orgs/{org}/members?limit=1"),
    };
    app.call(Some(owner), "GET", &path, None).await
}

/// An organization of an owner and two members, so that a one-member page has a next page.
async fn org_of_three(app: &TestApp) -> (User, String) {
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Cursors").await;
    // Ids long enough never to occur by chance in a cursor's signature bytes.
    for name in ["first-member", "second-member"] {
        app.add_member(&owner, &org, &app.user(name), "member").await;
    }
    (owner, org)
}

fn next_cursor(page: &TestResponse) -> String {
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body["nextCursor"].as_str().expect("a next page").to_owned()
}

#[tokio::test]
async fn an_altered_cursor_is_refused() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_three(&app).await;
    let first = members_page(&app, &owner, &org, None).await;
    let cursor = next_cursor(&first);
    let seen = first.body["members"][0]["userId"].as_str().expect("a member").to_owned();

    // The cursor as handed out works.
    let second = members_page(&app, &owner, &org, Some(&cursor)).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let next = second.body["members"][0]["userId"].as_str().expect("a member").to_owned();
    assert_ne!(next, seen, "the second page goes on after the first");

    // Decoded, its key (which ends with the last member's id) changed, encoded again. Each
    // altered key stays inside this list's key range, so only the signature can tell.
    let bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("a cursor is base64url");
    let at = rfind(&bytes, seen.as_bytes()).expect("the cursor carries the last member's key");
    let (before, after) = (&bytes[..at], &bytes[at + seen.len()..]);
    for (what, replacement) in [
        ("skip to another member", next.clone()),
        ("back to the start", String::new()),
        ("past the key", format!("{seen}~")),
        ("one character less", seen[..seen.len() - 1].to_owned()),
    ] {
        let forged = URL_SAFE_NO_PAD.encode([before, replacement.as_bytes(), after].concat());
        let response = members_page(&app, &owner, &org, Some(&forged)).await;
        assert_eq!((response.status, response.code()), (400, "invalid_cursor"), "{what}");
    }

    // The unsigned form cursors had before (base64url JSON), with any key: refused.
    let scope = format!("members:{org}::");
    let key = format!("MEMBER#{next}");
    let unsigned = URL_SAFE_NO_PAD.encode(json!({ "v": 1, "s": scope, "k": key }).to_string());
    let response = members_page(&app, &owner, &org, Some(&unsigned)).await;
    assert_eq!((response.status, response.code()), (400, "invalid_cursor"));
}

#[tokio::test]
async fn cursors_follow_key_rotation() {
    let (old, new) = ("11".repeat(32), "22".repeat(32));
    let mut app =
        TestApp::spawn_with(|config| config.cursor_keys = Some(CursorKeys::parse(&old).unwrap())).await;
    let (owner, org) = org_of_three(&app).await;
    let cursor = next_cursor(&members_page(&app, &owner, &org, None).await);

    // Another deployment (another key) refuses it.
    app.app.config.cursor_keys = Some(CursorKeys::parse(&new).unwrap());
    let response = members_page(&app, &owner, &org, Some(&cursor)).await;
    assert_eq!((response.status, response.code()), (400, "invalid_cursor"));

    // Rotation: the new key signs, the old one still verifies.
    app.app.config.cursor_keys = Some(CursorKeys::parse(&format!("{new},{old}")).unwrap());
    assert_eq!(members_page(&app, &owner, &org, Some(&cursor)).await.status, 200);
    let fresh = next_cursor(&members_page(&app, &owner, &org, None).await);
    assert_ne!(fresh, cursor, "cursors are signed with the first key");

    // The old key dropped: its cursors are refused, the new key's still work.
    app.app.config.cursor_keys = Some(CursorKeys::parse(&new).unwrap());
    let response = members_page(&app, &owner, &org, Some(&cursor)).await;
    assert_eq!((response.status, response.code()), (400, "invalid_cursor"));
    assert_eq!(members_page(&app, &owner, &org, Some(&fresh)).await.status, 200);
}
