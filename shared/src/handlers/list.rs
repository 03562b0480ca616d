//! The read routes: my organizations, an organization, its members, one member, its audit
//! trail, its pending invitations and its invite links.

use std::collections::HashMap;

use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use super::{
    Acting, acting_current, acting_member, after, current, next_cursor, on_behalf_of, org_id, serve_any,
};
use crate::App;
use crate::domain::custom_role;
use crate::domain::invitation::Vouched;
use crate::domain::search::{MemberQuery, MemberSort, Order, Terms};
use crate::domain::{Caller, Member, OrgId, Role, Status, UserId, access, standing};
use crate::error::Error;
use crate::http::request::{page_limit, path_param, query_param, query_params};
use crate::http::response::{list, ok};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve_any(app, req, |app, principal, route, req| async move {
        if route == "GET /permissions" {
            return permissions(app);
        }
        // "My organizations", and an organization as its member sees it (with the caller's
        // membership and `you`), mean nothing for a service: 403 (API.md "Service callers").
        match route.as_str() {
            "GET /orgs" => return my_orgs(app, &principal.person()?, &req).await,
            "GET /orgs/{orgId}" => return org(app, &principal.person()?, &req).await,
            _ => {}
        }
        // An organization's other reads: its members, or a service holding `roster/admin`.
        let who = Acting::of(principal)?;
        // Reads write no audit event: the header is checked, and records nothing.
        on_behalf_of(&who, &req)?;
        match route.as_str() {
            "GET /orgs/{orgId}/members" => members(app, &who, &req).await,
            "GET /orgs/{orgId}/members/{userId}" => member(app, &who, &req).await,
            "GET /orgs/{orgId}/audit" => audit(app, &who, &req).await,
            "GET /orgs/{orgId}/invitations" => invitations(app, &who, &req).await,
            "GET /orgs/{orgId}/invite-links" => links(app, &who, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

/// The deployment's catalog: Roster's own permissions and the host product's, each with its
/// scope and the built-in roles that hold it. Any signed-in caller, person or service.
fn permissions(app: &App) -> Result<Response<Body>, Error> {
    let entries: Vec<_> = app.catalog.entries().collect();
    ok(&json!({ "permissions": entries }))
}

async fn my_orgs(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let scope = format!("orgs:{}", caller.user_id);
    let page = app.store.user_orgs(&caller.user_id, page_limit(req)?, after(app, req, &scope)?).await?;
    list("orgs", &page.items, next_cursor(app, &scope, page.last_key)?)
}

/// The organization and the caller's membership; with a seat limit configured, also the
/// seats in use (`{limit, used}`), counted alongside the authorization read (its answer is
/// dropped unless the caller turns out to be an active member).
async fn org(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let id = org_id(req)?;
    let read = app.store.org_and_membership(&id, &caller.user_id);
    let ((org, membership), seats) = match app.config.max_members {
        Some(limit) => {
            let (read, seats) = tokio::join!(read, app.store.seats(&id, app.now()));
            (read?, Some((limit, seats)))
        }
        None => (read.await?, None),
    };
    let membership = current(app, caller, &id, access::active(membership)?).await;
    let org = org.ok_or(Error::NotFound)?;
    // What the caller may do here, for an app to offer it (the API still judges each call).
    // A custom role's host permissions are its own: one more read, for its holders only.
    let custom = match &membership.custom_role {
        Some(key) => app.store.custom_role(&id, key).await?,
        None => None,
    };
    let mut permissions = custom_role::org_permissions(&app.catalog, membership.role, custom.as_ref());
    if membership.custom_role.is_some() && custom.is_none() {
        // Held but gone (a deletion cannot finish while held: a defect): only the base's own.
        permissions.retain(|p| app.catalog.get(p.as_str()).is_some_and(|e| e.builtin));
    }
    let mut you = json!({ "role": membership.role, "permissions": permissions });
    if let Some(key) = &membership.custom_role {
        you["customRole"] = json!(key);
    }
    let mut body = json!({ "org": org, "membership": membership, "you": you });
    if let Some((limit, seats)) = seats {
        body["seats"] = json!({ "limit": limit, "used": seats?.used() });
    }
    ok(&body)
}

async fn members(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let id = org_id(req)?;
    // Authorization before input: a non-member learns nothing from a bad query (404).
    let me = acting_member(app, who, &id).await?;
    let ids = query_params(req, "userId");
    if !ids.is_empty() {
        return members_by_id(app, who, &id, me, req, &ids).await;
    }
    let query = member_query(req)?;
    let scope = format!("members:{id}:{}", query.canonical());
    let (limit, start) = (page_limit(req)?, after(app, req, &scope)?);
    let (me, page) =
        tokio::join!(acting_current(app, who, &id, me), app.store.member_page(&id, &query, limit, start));
    let mut page = page?;
    // The caller's own row as just refreshed, unless the page read it after a later change
    // (the caller demoted, or handed ownership over, meanwhile): the newer version shows,
    // and only if it still matches the filters.
    if let Some(row) = page.items.iter_mut().find(|m| m.user_id == me.user_id)
        && me.version > row.version
    {
        *row = me;
    }
    page.items.retain(|m| query.admits(m.role, m.status));
    list("members", &page.items, next_cursor(app, &scope, page.last_key)?)
}

/// The search, filters and order of `GET /orgs/{orgId}/members` (API.md "Search and filters").
fn member_query(req: &Request) -> Result<MemberQuery, Error> {
    let terms = match query_param(req, "q") {
        Some(q) => Terms::parse(&q).map_err(Error::invalid_request)?,
        None => None,
    };
    let sort = match query_param(req, "sort") {
        Some(raw) => {
            MemberSort::parse(&raw).ok_or_else(|| Error::invalid_request("sort is `name` or `joinedAt`"))?
        }
        None => MemberSort::default(),
    };
    if terms.is_some() && sort == MemberSort::JoinedAt {
        return Err(Error::invalid_request(
            "a search comes by the word matched: sort=joinedAt does not apply with q",
        ));
    }
    Ok(MemberQuery {
        terms,
        role: query_param(req, "role")
            .map(|r| r.parse::<Role>().map_err(|_| Error::InvalidRole))
            .transpose()?,
        status: query_param(req, "status")
            .map(|s| s.parse::<Status>().map_err(|e| Error::invalid_request(e.to_string())))
            .transpose()?,
        sort,
        order: match query_param(req, "order") {
            Some(raw) => {
                Order::parse(&raw).ok_or_else(|| Error::invalid_request("order is `asc` or `desc`"))?
            }
            None => Order::default(),
        },
    })
}

/// Up to 100 members by id, in the order asked (each once; ids of no member left out): how
/// an app resolves the names in a list in one call.
async fn members_by_id(
    app: &App,
    who: &Acting,
    org: &OrgId,
    me: Member,
    req: &Request,
    raw: &[String],
) -> Result<Response<Body>, Error> {
    const MAX_IDS: usize = 100;
    if raw.len() > MAX_IDS {
        return Err(Error::invalid_request(format!("at most {MAX_IDS} userId values")));
    }
    let others = ["q", "role", "status", "sort", "order", "cursor"];
    if let Some(other) = others.iter().find(|p| query_param(req, p).is_some()) {
        return Err(Error::invalid_request(format!("userId lists members by id: {other} does not apply")));
    }
    let mut users: Vec<UserId> = Vec::with_capacity(raw.len());
    for value in raw {
        let user = UserId::parse(value)
            .ok_or_else(|| Error::invalid_request(format!("{value:?} is not a user id")))?;
        if !users.contains(&user) {
            users.push(user);
        }
    }
    let (me, found) = tokio::join!(acting_current(app, who, org, me), app.store.memberships(org, &users));
    let mut found = std::mem::take(&mut found?);
    // The caller's own row as just refreshed, when it is among those read: a service acting
    // as an owner is no member, and asking for its own id must not list a row made up for it
    // (tests/tests/attacks_search.rs `members_by_id_lists_only_members_for_a_service_too`).
    if let Some(row) = found.get_mut(me.user_id.as_str())
        && me.version > row.version
    {
        *row = me;
    }
    let items: Vec<Member> = users.iter().filter_map(|u| found.remove(u.as_str())).collect();
    list("members", &items, None)
}

async fn member(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let id = org_id(req)?;
    let target = UserId::parse(&path_param(req, "userId")?).ok_or(Error::NotFound)?;
    let (me, them) = app.store.membership_pair(&id, who.user_id(), &target).await?;
    let me = who.member(app, &id, me).await?;
    let me = acting_current(app, who, &id, me).await;
    let them = them.ok_or(Error::NotFound)?;
    ok(&json!({ "member": if them.user_id == me.user_id { me } else { them } }))
}

async fn audit(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let id = org_id(req)?;
    let me = acting_member(app, who, &id).await?;
    access::require_admin(&me)?;
    // After authorization: a non-member learns nothing from a bad query (404).
    let filter =
        crate::store::AuditFilter::parse(|name| query_param(req, name)).map_err(Error::invalid_request)?;
    // Every filter is in the scope: a cursor of one filter is `invalid_cursor` on another.
    let scope = match filter.canonical() {
        canonical if canonical.is_empty() => format!("audit:{id}"),
        canonical => format!("audit:{id}:{canonical}"),
    };
    let (limit, start) = (page_limit(req)?, after(app, req, &scope)?);
    let (_, page) =
        tokio::join!(acting_current(app, who, &id, me), app.store.audit_events(&id, &filter, limit, start));
    let page = page?;
    list("events", &page.items, next_cursor(app, &scope, page.last_key)?)
}

/// Pending invitations, and expired ones DynamoDB has not deleted yet (shown as `expired`),
/// and those whose creator no longer vouches for them (`revoked`, with the reason).
async fn invitations(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let id = org_id(req)?;
    let me = acting_member(app, who, &id).await?;
    access::require_admin(&me)?;
    // After authorization: a non-member learns nothing from a bad query (404).
    let filter = crate::domain::invitation::InvitationFilter::parse(|name| query_param(req, name))
        .map_err(Error::invalid_request)?;
    let scope = match filter.canonical() {
        canonical if canonical.is_empty() => format!("invitations:{id}"),
        canonical => format!("invitations:{id}:{canonical}"),
    };
    let (limit, start) = (page_limit(req)?, after(app, req, &scope)?);
    // Filtered, a request reads a bounded run of the organization's invitations (they are
    // few: they expire, and quotas bound them) and keeps the matches; the page may be short
    // and still carry a cursor, after the last invitation read (README "What each list reads").
    let read = if filter.is_empty() { limit } else { INVITATIONS_READ };
    let (me, page) = tokio::join!(acting_current(app, who, &id, me), app.store.invitations(&id, read, start));
    let page = page?;
    if filter.is_empty() {
        let items = shown(app, &id, &me, &page.items).await?;
        return list("invitations", &items, next_cursor(app, &scope, page.last_key)?);
    }
    let candidates: Vec<_> = page.items.into_iter().filter(|i| filter.admits(i)).collect();
    let shown_items = shown(app, &id, &me, &candidates).await?;
    let (mut items, mut last_shown, mut last_key) = (Vec::new(), None, page.last_key);
    for (invitation, item) in candidates.iter().zip(shown_items) {
        if !filter.admits_shown(&item) {
            continue;
        }
        if items.len() == limit {
            // More matches than the page holds: the next page starts after the last shown.
            last_key = last_shown.map(crate::store::keys::invitation);
            break;
        }
        last_shown = Some(&invitation.id);
        items.push(item);
    }
    list("invitations", &items, next_cursor(app, &scope, last_key)?)
}

/// How many invitations a filtered list request reads (and one more, to know whether it
/// read the last).
const INVITATIONS_READ: usize = 100;

async fn links(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let id = org_id(req)?;
    let me = acting_member(app, who, &id).await?;
    access::require_admin(&me)?;
    let scope = format!("links:{id}");
    let (limit, start) = (page_limit(req)?, after(app, req, &scope)?);
    let (me, page) = tokio::join!(acting_current(app, who, &id, me), app.store.links(&id, limit, start));
    let page = page?;
    let items = shown(app, &id, &me, &page.items).await?;
    list("links", &items, next_cursor(app, &scope, page.last_key)?)
}

/// A page of invitations or links as listed: each with its status, decided on the current
/// membership of whoever vouches for it (one more consistent read, none when the caller made
/// them all).
async fn shown<T: Vouched>(app: &App, org: &OrgId, me: &Member, items: &[T]) -> Result<Vec<Value>, Error> {
    let creators = vouchers(app, org, me, items.iter().map(Vouched::vouched_by)).await?;
    let now = app.now();
    Ok(items
        .iter()
        .map(|i| {
            i.shown(now, standing::verdict(creators.get(i.vouched_by().as_str()), i.voucher(), i.role()))
        })
        .collect())
}

/// The current memberships of `creators`, by user id (the caller's as already read).
async fn vouchers<'a>(
    app: &App,
    org: &OrgId,
    me: &Member,
    creators: impl Iterator<Item = &'a UserId>,
) -> Result<HashMap<String, Member>, Error> {
    let (now, services) = (app.now(), &app.config.service_clients);
    let (mut from_services, mut others): (Vec<UserId>, Vec<UserId>) =
        creators.filter(|c| **c != me.user_id).cloned().partition(UserId::is_service);
    others.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    others.dedup();
    from_services.sort();
    from_services.dedup();
    let mut found =
        if others.is_empty() { HashMap::new() } else { app.store.memberships(org, &others).await? };
    // A service vouches while it is listed (and is absent, `creator_left`, once it is not).
    found.extend(
        from_services
            .iter()
            .filter_map(|by| standing::service_creator(by, services, now))
            .map(|creator| (creator.user_id.to_string(), creator)),
    );
    found.insert(me.user_id.to_string(), me.clone());
    Ok(found)
}
