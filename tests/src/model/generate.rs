//! Random steps, biased towards ones that do something in the current model state (callers
//! who may act, live tokens, members as targets) without leaving out the ones that must fail.

use super::ops::{
    Act, Addr, Bad, CUSTOM_KEYS, CustomIx, METAS, Meta, Op, Ref, Role, Search, SesKind, SignUpTrigger,
    Status, Target, TokArg, USAGE_METRICS, UsageRec, UserIx, WsRole,
};
use super::rng::Rng;
use super::spec::{Model, TokenFor};

/// Addresses the run invites: the users' (in canonical form) and some nobody signs in with.
#[derive(Debug, Clone)]
pub struct Pool {
    pub addresses: Vec<String>,
    pub invalid: Vec<String>,
}

impl Pool {
    /// The text of an invite entry's address.
    pub fn render(&self, addr: Addr) -> String {
        match addr {
            Addr::Invalid(i) => self.invalid[i].clone(),
            Addr::Valid { index, variant } => {
                let address = &self.addresses[index];
                match variant {
                    1 => address.to_uppercase(),
                    2 => format!("  {address} "),
                    3 => {
                        let mut chars = address.chars();
                        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
                    }
                    _ => address.clone(),
                }
            }
        }
    }
}

pub struct Generator {
    pub rng: Rng,
    /// The draws of workspace and group steps (and whether a step is one): apart from
    /// `rng`, so that the other steps of a seed are the same as before they existed, only
    /// interleaved with these (a kept sequence still reaches what it found, at a later step).
    ws_rng: Rng,
    /// The draws of `POST /authorize` steps (and whether a step is one), apart from both
    /// others for the same reason.
    auth_rng: Rng,
    /// Whether to generate `POST /authorize` steps (a case kept from before them replays
    /// without).
    pub authorize: bool,
    /// The draws of SES events and pause lifts (and whether a step is one), apart from the
    /// others for the same reason; and whether to generate them (issue 26: a case kept from
    /// before replays without).
    mail_rng: Rng,
    pub mail: bool,
    /// The draws of a members list's search, sort and order, apart from the others for the
    /// same reason; and whether to draw them (issue 27: a case kept from before lists plain).
    search_rng: Rng,
    pub search: bool,
    /// The draws of usage reports and reads, apart from the others for the same reason; and
    /// whether to draw them (issue 28: a case kept from before replays without).
    usage_rng: Rng,
    pub usage: bool,
    /// The draws of post-confirmations (sign-ups that make an organization), apart from the
    /// others for the same reason; and whether to draw them (issue 28, with `accounts=on`).
    sign_up_rng: Rng,
    pub sign_ups: bool,
    /// The draws of adding users with a temporary password, apart from the others for the
    /// same reason; and whether to draw them (issue 28, with `accounts=on`).
    accounts_rng: Rng,
    pub accounts: bool,
    catalog: super::authorize::Catalog,
    /// Every workspace and group seen live, to name a deleted one now and then.
    seen_ws: Vec<Ref>,
    seen_groups: Vec<Ref>,
    /// The step after an onboarding link: someone accepts it.
    queued: Option<Act>,
    /// Whether to generate workspace and group steps (a case kept from before them replays
    /// without).
    pub workspaces: bool,
    pub pool: Pool,
    next_id: u32,
    /// Step shapes not to generate (`ROSTER_MODEL_SKIP`, comma-separated): a way to look
    /// past a known mismatch while it is being fixed. Empty by default.
    skip: Vec<String>,
}

/// The share of workspace and group steps, in percent.
pub const WORKSPACE_SHARE: u32 = 22;

/// The share of `POST /authorize` steps, in percent.
pub const AUTHORIZE_SHARE: u32 = 6;

/// The share of custom-role steps (create, update, delete, assign), in percent. Drawn from
/// the `POST /authorize` steps' stream: both are issue 25's, and `authorize=off` replays a
/// case from before it without either.
pub const ROLE_SHARE: u32 = 7;

/// The share of members lists with a search, sort or order (besides the lists the main
/// stream draws, which carry one now and then), in percent.
pub const SEARCH_SHARE: u32 = 5;

/// The share of SES events and pause lifts, in percent.
pub const MAIL_SHARE: u32 = 5;

/// The share of users added with a temporary password, in percent.
pub const ACCOUNT_SHARE: u32 = 4;

/// The share of usage reports and reads, in percent.
pub const USAGE_SHARE: u32 = 5;

/// The share of post-confirmations, in percent.
pub const SIGN_UP_SHARE: u32 = 3;

/// How long before the request a usage record's `at` lies, in minutes: each well inside or
/// well outside the 7 days (exactly 7 days is decided at an instant the model cannot know;
/// tests/tests/usage.rs holds that edge), and one in the future.
const USAGE_AGES: [i64; 9] =
    [0, 1, 90, 600, 24 * 60, 2 * 24 * 60 + 30, 7 * 24 * 60 - 30, 7 * 24 * 60 + 30, -30];

const ADVANCES: [u32; 6] = [30, 61, 95, 125, 24 * 60 + 7, 73 * 60];
const HOURS: [i64; 4] = [1, 2, 24, 720];

impl Generator {
    pub fn new(rng: Rng, pool: Pool) -> Self {
        let ws_rng = Rng::new(rng.clone().next_u64() ^ 0x5753_5753_5753_5753);
        let auth_rng = Rng::new(rng.clone().next_u64() ^ 0x415A_415A_415A_415A);
        let mail_rng = Rng::new(rng.clone().next_u64() ^ 0x5345_5345_5345_5345);
        let search_rng = Rng::new(rng.clone().next_u64() ^ 0x5152_5152_5152_5152);
        let usage_rng = Rng::new(rng.clone().next_u64() ^ 0x5553_5553_5553_5553);
        let accounts_rng = Rng::new(rng.clone().next_u64() ^ 0x4143_4143_4143_4143);
        let sign_up_rng = Rng::new(rng.clone().next_u64() ^ 0x5043_5043_5043_5043);
        Self {
            sign_up_rng,
            sign_ups: true,
            usage_rng,
            usage: true,
            accounts_rng,
            accounts: true,
            search_rng,
            search: true,
            rng,
            ws_rng,
            auth_rng,
            mail_rng,
            mail: true,
            authorize: true,
            catalog: super::authorize::Catalog::deployed(),
            seen_ws: Vec::new(),
            seen_groups: Vec::new(),
            queued: None,
            workspaces: true,
            pool,
            next_id: 1,
            skip: skip_tags(),
        }
    }

    fn skips(&self, tag: &str) -> bool {
        self.skip.iter().any(|s| s == tag)
    }

    pub fn next(&mut self, model: &Model, now: i64) -> Op {
        let id = self.next_id;
        self.next_id += 1;
        let act = match self.queued.take() {
            Some(act) => act,
            None => self.act(model, now),
        };
        Op { id, act }
    }

    fn act(&mut self, model: &Model, now: i64) -> Act {
        if self.mail && !self.skips("mail") && self.mail_rng.chance(MAIL_SHARE) {
            if let Some(act) = self.mail_act(model) {
                return act;
            }
        }
        if self.search
            && !self.skips("search")
            && !model.orgs.is_empty()
            && self.search_rng.chance(SEARCH_SHARE)
        {
            return self.search_act(model);
        }
        if self.sign_ups && !self.skips("sign-ups") && self.sign_up_rng.chance(SIGN_UP_SHARE) {
            // Mostly a sign-up's confirmation (again, now and then: Cognito retries), now and
            // then a password reset's.
            let by = self.sign_up_rng.below(model.users.len());
            return Act::ConfirmSignUp { by, reset: self.sign_up_rng.chance(10) };
        }
        if self.accounts
            && !self.skips("accounts")
            && !model.orgs.is_empty()
            && self.accounts_rng.chance(ACCOUNT_SHARE)
        {
            return self.add_user_act(model);
        }
        if self.usage && !self.skips("usage") && !model.orgs.is_empty() && self.usage_rng.chance(USAGE_SHARE)
        {
            return self.usage_act(model);
        }
        if self.authorize
            && !self.skips("authorize")
            && !model.orgs.is_empty()
            && self.auth_rng.chance(AUTHORIZE_SHARE)
        {
            let (caller, checks, bad) =
                super::authorize::generate(&mut self.auth_rng, model, &self.catalog, &self.seen_ws);
            return Act::Authorize { caller, checks, bad };
        }
        if self.authorize
            && !self.skips("roles")
            && !model.orgs.is_empty()
            && self.auth_rng.chance(ROLE_SHARE)
        {
            std::mem::swap(&mut self.rng, &mut self.auth_rng);
            let act = self.role_act(model);
            std::mem::swap(&mut self.rng, &mut self.auth_rng);
            return act;
        }
        if self.workspaces
            && !self.skips("workspaces")
            && !model.orgs.is_empty()
            && self.ws_rng.chance(WORKSPACE_SHARE)
        {
            // The workspace step's draws come from `ws_rng` (the helpers draw from `rng`).
            std::mem::swap(&mut self.rng, &mut self.ws_rng);
            let act = self.workspace_act(model);
            std::mem::swap(&mut self.rng, &mut self.ws_rng);
            return act;
        }
        let users = model.users.len();
        let orgs: Vec<Ref> = model.orgs.keys().copied().collect();
        if orgs.len() < 2 || self.rng.chance(2) {
            let by = self.rng.below(users);
            return Act::CreateOrg { by, name: self.org_name() };
        }
        if !model.deleted.is_empty() && self.rng.chance(3) {
            return self.on_deleted_org(model);
        }
        let org = *self.rng.pick(&orgs);
        if self.rng.chance(1) {
            return Act::DeleteOrg { by: self.owner_caller(model, org), org };
        }
        let weights = [
            14, // invite
            5,  // resend
            4,  // revoke invitation
            6,  // create link
            2,  // revoke link
            4,  // preview
            16, // accept
            4,  // decline
            12, // change
            3,  // transfer
            7,  // remove / leave
            4,  // bulk remove
            2,  // get org
            2,  // get member
            3,  // list members
            2,  // list invitations
            2,  // list links
            2,  // my orgs
            3,  // advance
            1,  // sweep
            3,  // sign up
        ];
        match self.rng.weighted(&weights) {
            0 => self.invite(model, org),
            1 => {
                let by = self.admin_caller(model, org);
                let inv = self.invitation(model, org, now);
                match inv {
                    Some(inv) => Act::Resend { by, org, inv, ses_down: self.rng.chance(4) },
                    None => self.invite(model, org),
                }
            }
            2 => match self.invitation(model, org, now) {
                Some(inv) => Act::RevokeInvitation { by: self.admin_caller(model, org), org, inv },
                None => self.invite(model, org),
            },
            3 => self.create_link(model, org),
            4 => {
                let links: Vec<Ref> =
                    model.links.iter().filter(|(_, l)| l.org == org).map(|(r, _)| *r).collect();
                if links.is_empty() {
                    return self.create_link(model, org);
                }
                Act::RevokeLink { by: self.admin_caller(model, org), org, link: *self.rng.pick(&links) }
            }
            5 => {
                let anonymous = self.rng.chance(50) && !self.skips("anonymous-preview");
                let by = if anonymous { None } else { Some(self.rng.below(users)) };
                Act::Preview { by, token: self.token(model, None) }
            }
            6 => {
                let token = self.token(model, Some(org));
                let by = self.joiner(model, token);
                Act::Accept { by: self.maybe_anonymous(by), token }
            }
            7 => {
                let token = self.token(model, Some(org));
                let by = self.joiner(model, token);
                Act::Decline { by: self.maybe_anonymous(by), token }
            }
            8 if self.rng.chance(25) => self.update_org(model, org),
            8 => self.change(model, org, now),
            9 => {
                let by = self.owner_caller(model, org);
                let target = self.target(model, org);
                // Malformed only where the answer is settled: an owner (400), a non-member
                // (404) or a suspended member (403).
                let member = by.and_then(|u| model.orgs[&org].members.get(&u));
                let settled = member.is_none_or(|m| m.status == Status::Suspended || m.role == Role::Owner);
                let bad = (settled && self.rng.chance(4)).then_some(Bad::Json);
                Act::Transfer { by, org, target, bad }
            }
            10 => {
                let by = self.caller(model, org);
                let target = if self.rng.chance(30) { by } else { self.target(model, org) };
                Act::Remove { by, org, target }
            }
            11 => {
                let by = self.admin_caller(model, org);
                let n = 1 + self.rng.below(4);
                let mut targets: Vec<Target> = (0..n).map(|_| self.target(model, org)).collect();
                if self.rng.chance(20) {
                    targets.push(by);
                }
                if self.rng.chance(20) {
                    let again = *self.rng.pick(&targets);
                    targets.push(again);
                }
                let bad = self.bad_for_admin_route(model, org, by, &[Bad::Json, Bad::Empty]);
                Act::BulkRemove { by, org, targets, bad }
            }
            12 => Act::GetOrg { by: self.caller(model, org), org },
            13 => Act::GetMember { by: self.caller(model, org), org, target: self.target(model, org) },
            14 => {
                let by = self.caller(model, org);
                let role = self.rng.chance(25).then(|| *self.rng.pick(&Role::ALL));
                let status =
                    self.rng.chance(20).then(|| *self.rng.pick(&[Status::Active, Status::Suspended]));
                let bad = self.rng.chance(10).then(|| {
                    *self.rng.pick(&[
                        Bad::Limit("0"),
                        Bad::Limit("101"),
                        Bad::Limit("x"),
                        Bad::Cursor,
                        Bad::Role,
                    ])
                });
                let limit = self.limit();
                let search = if self.search { self.search() } else { Search::default() };
                Act::ListMembers { by, org, limit, role, status, bad, search }
            }
            15 | 16 => {
                let by = self.admin_caller(model, org);
                let bad = self.bad_for_admin_route(
                    model,
                    org,
                    by,
                    &[Bad::Limit("0"), Bad::Limit("x"), Bad::Cursor],
                );
                let limit = self.limit();
                if self.rng.chance(50) {
                    Act::ListInvitations { by, org, limit, bad }
                } else {
                    Act::ListLinks { by, org, limit, bad }
                }
            }
            17 => {
                let by = Some(self.rng.below(users));
                Act::MyOrgs { by: self.maybe_anonymous(by), limit: self.limit() }
            }
            18 => Act::Advance { minutes: *self.rng.pick(&ADVANCES) },
            19 => Act::Sweep,
            _ => self.sign_up(model),
        }
    }

    /// A sign-up through the pre-sign-up trigger: mostly by an address someone invited
    /// (pending or expired), written any way; sometimes by anyone, an invalid address or none.
    fn sign_up(&mut self, model: &Model) -> Act {
        let trigger = match self.rng.below(20) {
            0 => SignUpTrigger::AdminCreateUser,
            1 => SignUpTrigger::Other,
            2..=4 => SignUpTrigger::ExternalProvider,
            _ => SignUpTrigger::SignUp,
        };
        let invited: Vec<usize> = model
            .invitations
            .values()
            .filter_map(|i| self.pool.addresses.iter().position(|a| *a == i.email))
            .collect();
        let variant = self.rng.below(6).min(4) as u8;
        let addr = match self.rng.below(20) {
            0 => None,
            1 => Some(Addr::Invalid(self.rng.below(self.pool.invalid.len()))),
            2..=13 if !invited.is_empty() => Some(Addr::Valid { index: *self.rng.pick(&invited), variant }),
            _ => Some(Addr::Valid { index: self.rng.below(self.pool.addresses.len()), variant }),
        };
        // Federated providers mostly map a verified address; native sign-ups carry "false".
        let verified = match self.rng.below(4) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        };
        Act::SignUp { trigger, addr, verified }
    }

    fn org_name(&mut self) -> String {
        match self.rng.below(12) {
            0 => String::new(),
            1 => "Bad\nName".to_owned(),
            2 => "x".repeat(101),
            3 => "  Padded Org  ".to_owned(),
            n => format!("Org {n}"),
        }
    }

    /// A members list's search, sort and order: terms that start the model's names and
    /// addresses (and some that start nothing), in any case and with separators.
    fn search(&mut self) -> Search {
        const QUERIES: [&str; 20] = [
            "a", "an", "ann", "ANN two", "two ann", "cat", "ca tw", "tw", "bob", "b", "eve", "hal", "gus",
            "g", "example", "zz", "t", "fay dan", "com", " . ",
        ];
        let r = &mut self.search_rng;
        let q = r.chance(45).then(|| *r.pick(&QUERIES));
        let sort = r.chance(30).then(|| *r.pick(&["name", "joinedAt"]));
        let order = r.chance(30).then(|| *r.pick(&["asc", "desc"]));
        Search { q, sort, order }
    }

    /// A members list drawn from `search_rng` alone: mostly by an active member, small pages
    /// as often as whole ones, filters now and then.
    fn search_act(&mut self, model: &Model) -> Act {
        let orgs: Vec<Ref> = model.orgs.keys().copied().collect();
        let r = &mut self.search_rng;
        let org = *r.pick(&orgs);
        let active: Vec<UserIx> = model.orgs[&org]
            .members
            .iter()
            .filter(|(_, m)| m.status == Status::Active)
            .map(|(u, _)| *u)
            .collect();
        let by = if active.is_empty() || r.chance(5) { r.below(model.users.len()) } else { *r.pick(&active) };
        let limit = *r.pick(&[1, 2, 3, 100]);
        let role = r.chance(20).then(|| *r.pick(&Role::ALL));
        let status = r.chance(20).then(|| *r.pick(&[Status::Active, Status::Suspended]));
        let search = self.search();
        Act::ListMembers { by: Some(by), org, limit, role, status, bad: None, search }
    }

    /// Adding a user (API.md "Accounts"), drawn from `accounts_rng` alone: mostly by an admin
    /// or owner of a live organization, of a user's address (which has an account); an address
    /// nobody signs in with only with a weak password or by a caller who may not add users.
    fn add_user_act(&mut self, model: &Model) -> Act {
        let r = &mut self.accounts_rng;
        let orgs: Vec<Ref> = model.orgs.keys().copied().collect();
        let org = orgs[r.below(orgs.len())];
        let admins: Vec<UserIx> = model.orgs[&org]
            .members
            .iter()
            .filter(|(_, m)| matches!(m.role, Role::Owner | Role::Admin))
            .map(|(u, _)| *u)
            .collect();
        let by = if !admins.is_empty() && r.chance(85) {
            admins[r.below(admins.len())]
        } else {
            r.below(model.users.len())
        };
        let role = [Role::Member, Role::Viewer, Role::Admin, Role::Owner][r.below(4)];
        let weak = r.chance(10);
        let with_account: Vec<usize> = (0..self.pool.addresses.len())
            .filter(|i| model.accounts.contains(&self.pool.addresses[*i]))
            .collect();
        let may_add = admins.contains(&by) && !weak;
        let index = if may_add || r.chance(50) {
            with_account[r.below(with_account.len())]
        } else {
            r.below(self.pool.addresses.len())
        };
        let without = !model.accounts.contains(&self.pool.addresses[index]);
        // An address without an account only where nothing is created.
        let weak = weak || (without && admins.contains(&by));
        Act::AddUser { by: Some(by), org, addr: Addr::Valid { index, variant: 0 }, role, weak }
    }

    /// A usage report (a service's, of a few records: members' mostly, ids from a small pool
    /// so that they come again) or a read of the totals (an admin's mostly), drawn from
    /// `usage_rng` alone; now and then of a deleted organization.
    fn usage_act(&mut self, model: &Model) -> Act {
        let r = &mut self.usage_rng;
        let mut orgs: Vec<Ref> = model.orgs.keys().copied().collect();
        if r.chance(3) {
            orgs.extend(model.deleted.keys().copied());
        }
        let org = *r.pick(&orgs);
        let members: Vec<(UserIx, Role)> = model
            .orgs
            .get(&org)
            .map(|o| o.members.iter().map(|(u, m)| (*u, m.role)).collect())
            .unwrap_or_default();
        if r.chance(35) {
            let admins: Vec<UserIx> =
                members.iter().filter(|(_, role)| role.administers()).map(|(u, _)| *u).collect();
            let by = if admins.is_empty() || r.chance(15) {
                r.below(model.users.len())
            } else if r.chance(20) {
                r.pick(&members).0
            } else {
                *r.pick(&admins)
            };
            let metric = r.below(USAGE_METRICS.len());
            let by_day = r.chance(50);
            let days = *r.pick(&[1, 2, 8, 30, 92]);
            let only = if r.chance(30) { Some(r.below(model.users.len())) } else { None };
            return Act::ReadUsage { by: Some(by), org, only, metric, by_day, days };
        }
        let n = 1 + r.below(4);
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let user = if members.is_empty() || r.chance(15) {
                r.below(model.users.len())
            } else {
                r.pick(&members).0
            };
            records.push(UsageRec {
                id: r.below(12) as u32,
                user,
                metric: r.below(USAGE_METRICS.len()),
                bad_metric: r.chance(5),
                hundredths: *r.pick(&[-300, 0, 5, 125, 1250, 99_999]),
                age_minutes: *r.pick(&USAGE_AGES),
            });
        }
        Act::ReportUsage { org, records }
    }

    fn limit(&mut self) -> u32 {
        if self.rng.chance(40) { 1 + self.rng.below(3) as u32 } else { 100 }
    }

    /// A custom-role step (API.md "Roles and permissions"): mostly by an owner (the only
    /// ones who manage roles), assigning by an admin or owner; a role the organization may
    /// not have, and a base of every rank.
    /// An SES event for a live invitation (complaints rare: one pauses its organization), or
    /// the operator lifting a paused organization's pause. Drawn from `mail_rng` alone.
    fn mail_act(&mut self, model: &Model) -> Option<Act> {
        let paused: Vec<Ref> = model.orgs.iter().filter(|(_, o)| o.paused).map(|(r, _)| *r).collect();
        if !paused.is_empty() && self.mail_rng.chance(30) {
            return Some(Act::LiftPause { org: *self.mail_rng.pick(&paused) });
        }
        let live: Vec<Ref> = model
            .invitations
            .iter()
            .filter(|(_, i)| model.orgs.contains_key(&i.org))
            .map(|(r, _)| *r)
            .collect();
        if live.is_empty() {
            return None;
        }
        let inv = *self.mail_rng.pick(&live);
        let kind = if self.mail_rng.chance(8) {
            SesKind::Complaint
        } else {
            *self.mail_rng.pick(&[
                SesKind::Send,
                SesKind::Delivery,
                SesKind::Delivery,
                SesKind::Bounce,
                SesKind::Bounce,
                SesKind::TransientBounce,
                SesKind::Suppressed,
                SesKind::Reject,
            ])
        };
        Some(Act::SesEvent { inv, kind, stale: self.mail_rng.chance(15) })
    }

    fn role_act(&mut self, model: &Model) -> Act {
        let orgs: Vec<Ref> = model.orgs.keys().copied().collect();
        let with_roles: Vec<Ref> =
            model.orgs.iter().filter(|(_, o)| !o.roles.is_empty()).map(|(r, _)| *r).collect();
        let org = if !with_roles.is_empty() && self.rng.chance(70) {
            *self.rng.pick(&with_roles)
        } else {
            *self.rng.pick(&orgs)
        };
        // Mostly a role the organization has, so that assignments land and deletions meet
        // holders; now and then any key.
        let existing: Vec<CustomIx> = model.orgs[&org].roles.keys().copied().collect();
        let key = if !existing.is_empty() && self.rng.chance(80) {
            *self.rng.pick(&existing)
        } else {
            self.rng.below(CUSTOM_KEYS.len()) as CustomIx
        };
        let perms = (self.rng.next_u64() & 0x3ff) as u16;
        match self.rng.below(100) {
            0..=29 => {
                let base = *self.rng.pick(&[Role::Admin, Role::Member, Role::Member, Role::Viewer]);
                Act::CreateRole { by: self.owner_caller(model, org), org, key, base, perms }
            }
            30..=44 => Act::UpdateRole { by: self.owner_caller(model, org), org, key, perms },
            45..=54 => Act::DeleteRole { by: self.owner_caller(model, org), org, key },
            _ => {
                let by = if self.rng.chance(50) {
                    self.owner_caller(model, org)
                } else {
                    self.admin_caller(model, org)
                };
                Act::AssignCustom { by, org, target: self.target(model, org), key }
            }
        }
    }

    fn maybe_anonymous(&mut self, by: Option<UserIx>) -> Option<UserIx> {
        if self.rng.chance(2) { None } else { by }
    }

    /// Anyone, weighted towards members of `org`: admins and owners, other active members,
    /// suspended members, non-members.
    fn caller(&mut self, model: &Model, org: Ref) -> Option<UserIx> {
        let members = &model.orgs[&org].members;
        let users = model.users.len();
        let roll = self.rng.below(100);
        let pick = |rng: &mut Rng, f: &dyn Fn(&super::spec::Member) -> bool| -> Option<UserIx> {
            let found: Vec<UserIx> = members.iter().filter(|(_, m)| f(m)).map(|(u, _)| *u).collect();
            (!found.is_empty()).then(|| *rng.pick(&found))
        };
        let chosen = match roll {
            0..=1 => return None,
            2..=59 => pick(&mut self.rng, &|m| m.status == Status::Active && m.role.administers()),
            60..=79 => pick(&mut self.rng, &|m| m.status == Status::Active),
            80..=89 => pick(&mut self.rng, &|m| m.status == Status::Suspended),
            _ => None,
        };
        Some(chosen.unwrap_or_else(|| self.rng.below(users)))
    }

    fn admin_caller(&mut self, model: &Model, org: Ref) -> Option<UserIx> {
        if self.rng.chance(75) {
            let admins: Vec<UserIx> = model.orgs[&org]
                .members
                .iter()
                .filter(|(_, m)| m.status == Status::Active && m.role.administers())
                .map(|(u, _)| *u)
                .collect();
            if !admins.is_empty() {
                return Some(*self.rng.pick(&admins));
            }
        }
        self.caller(model, org)
    }

    fn owner_caller(&mut self, model: &Model, org: Ref) -> Option<UserIx> {
        if self.rng.chance(70) {
            let owners: Vec<UserIx> = model.orgs[&org]
                .members
                .iter()
                .filter(|(_, m)| m.status == Status::Active && m.role == Role::Owner)
                .map(|(u, _)| *u)
                .collect();
            if !owners.is_empty() {
                return Some(*self.rng.pick(&owners));
            }
        }
        self.caller(model, org)
    }

    /// A member of `org` mostly; sometimes anyone, or a user id nobody has.
    fn target(&mut self, model: &Model, org: Ref) -> Target {
        let members: Vec<UserIx> = model.orgs[&org].members.keys().copied().collect();
        match self.rng.below(100) {
            0..=4 => None,
            5..=19 => Some(self.rng.below(model.users.len())),
            _ if members.is_empty() => None,
            _ => Some(*self.rng.pick(&members)),
        }
    }

    /// Malformed input for an admin-only route, only where the contract settles the answer:
    /// from an admin (400), a non-member (404) or a suspended member (403).
    fn bad_for_admin_route(
        &mut self,
        model: &Model,
        org: Ref,
        by: Option<UserIx>,
        kinds: &[Bad],
    ) -> Option<Bad> {
        if !self.rng.chance(8) {
            return None;
        }
        let member = by.and_then(|u| model.orgs[&org].members.get(&u));
        let settled = member.is_none_or(|m| m.status == Status::Suspended || m.role.administers());
        settled.then(|| *self.rng.pick(kinds))
    }

    fn address(&mut self) -> Addr {
        if self.rng.chance(8) {
            return Addr::Invalid(self.rng.below(self.pool.invalid.len()));
        }
        Addr::Valid {
            index: self.rng.below(self.pool.addresses.len()),
            variant: self.rng.below(6).min(4) as u8,
        }
    }

    fn invite(&mut self, model: &Model, org: Ref) -> Act {
        let by = self.admin_caller(model, org);
        let most = if self.rng.chance(20) { 8 } else { 3 };
        let n = 1 + self.rng.below(most);
        let mut entries: Vec<(Addr, Option<Role>)> = Vec::new();
        for _ in 0..n {
            let email = match (entries.is_empty(), self.rng.chance(12)) {
                // The same address again, written another way.
                (false, true) => match self.rng.pick(&entries).0 {
                    Addr::Valid { index, .. } => Addr::Valid { index, variant: 1 },
                    invalid => invalid,
                },
                _ => self.address(),
            };
            let role = if self.rng.chance(50) { None } else { Some(*self.rng.pick(&Role::ALL)) };
            entries.push((email, role));
        }
        let hours = self.rng.chance(40).then(|| *self.rng.pick(&HOURS));
        let bad = self.bad_for_admin_route(
            model,
            org,
            by,
            &[
                Bad::Json,
                Bad::MediaType,
                Bad::Empty,
                Bad::Hours(0),
                Bad::Hours(721),
                Bad::Role,
                Bad::Metadata,
            ],
        );
        let metadata = if self.rng.chance(60) { 0 } else { self.meta() };
        Act::Invite { by, org, entries, hours, metadata, ses_down: self.rng.chance(3), bad }
    }

    fn create_link(&mut self, model: &Model, org: Ref) -> Act {
        let by = self.admin_caller(model, org);
        let role = self.rng.chance(60).then(|| *self.rng.pick(&Role::ALL));
        let hours = self.rng.chance(40).then(|| *self.rng.pick(&HOURS));
        let max_uses = self.rng.chance(70).then(|| 1 + self.rng.below(3) as i64);
        let bad = self.bad_for_admin_route(
            model,
            org,
            by,
            &[Bad::Json, Bad::Hours(721), Bad::MaxUses(0), Bad::MaxUses(100_001), Bad::Role],
        );
        Act::CreateLink { by, org, role, hours, max_uses, bad }
    }

    /// A live invitation of `org` mostly; sometimes any invitation ever made.
    fn invitation(&mut self, model: &Model, org: Ref, now: i64) -> Option<Ref> {
        let live: Vec<Ref> =
            model.invitations.iter().filter(|(_, i)| i.org == org).map(|(r, _)| *r).collect();
        let expired: Vec<Ref> =
            live.iter().copied().filter(|r| model.invitations[r].expires_at <= now).collect();
        // Expired ones often: resending them takes a seat again.
        if !expired.is_empty() && self.rng.chance(40) {
            return Some(*self.rng.pick(&expired));
        }
        if !live.is_empty() && self.rng.chance(85) {
            return Some(*self.rng.pick(&live));
        }
        let any: Vec<Ref> = model
            .tokens
            .values()
            .filter_map(|t| match t.target {
                TokenFor::Invitation(i) => Some(i),
                TokenFor::Link(_) => None,
            })
            .collect();
        (!any.is_empty()).then(|| *self.rng.pick(&any))
    }

    /// A delivered token: mostly a live one (of `org` when given), sometimes a dead one.
    fn token(&mut self, model: &Model, org: Option<Ref>) -> TokArg {
        let delivered: Vec<Ref> = model.tokens.iter().filter(|(_, t)| t.delivered).map(|(r, _)| *r).collect();
        let live: Vec<Ref> = delivered
            .iter()
            .copied()
            .filter(|t| {
                model.live_token(*t).is_some_and(|target| org.is_none_or(|o| model.org_of_token(target) == o))
            })
            .collect();
        match self.rng.below(100) {
            0..=2 => TokArg::Garbage,
            3..=79 if !live.is_empty() => TokArg::Issued(*self.rng.pick(&live)),
            _ if !delivered.is_empty() => TokArg::Issued(*self.rng.pick(&delivered)),
            _ => TokArg::Garbage,
        }
    }

    /// Who tries a token: for an email invitation mostly someone with that address.
    fn joiner(&mut self, model: &Model, token: TokArg) -> Option<UserIx> {
        let users = model.users.len();
        if let TokArg::Issued(t) = token {
            if let Some(TokenFor::Invitation(i)) = model.live_token(t) {
                let address = &model.invitations[&i].email;
                let holders: Vec<UserIx> = (0..users)
                    .filter(|u| {
                        model.users[*u].email_claim.as_ref().is_some_and(|e| e.eq_ignore_ascii_case(address))
                    })
                    .collect();
                if !holders.is_empty() && self.rng.chance(75) {
                    return Some(*self.rng.pick(&holders));
                }
            }
        }
        Some(self.rng.below(users))
    }

    fn change(&mut self, model: &Model, org: Ref, _now: i64) -> Act {
        let by = self.admin_caller(model, org);
        let target = if self.rng.chance(15) { by } else { self.target(model, org) };
        let role = self.rng.chance(65).then(|| *self.rng.pick(&Role::ALL));
        let status = self.rng.chance(45).then(|| *self.rng.pick(&[Status::Active, Status::Suspended]));
        let active =
            by.and_then(|u| model.orgs[&org].members.get(&u)).is_some_and(|m| m.status == Status::Active);
        // Any active member may send a malformed change: reading it comes before the rank rules.
        let bad = (self.rng.chance(6) && (active || self.rng.chance(50)))
            .then(|| *self.rng.pick(&[Bad::Json, Bad::Role, Bad::Status, Bad::Metadata]));
        let metadata = self.rng.chance(30).then(|| self.meta());
        Act::Change { by, org, target, role, status, metadata, bad }
    }

    /// A step on a deleted organization, by someone who was in it or not: it is gone (404);
    /// or a sign-up by an address it may have invited.
    fn on_deleted_org(&mut self, model: &Model) -> Act {
        let deleted: Vec<Ref> = model.deleted.keys().copied().collect();
        let org = *self.rng.pick(&deleted);
        let by = Some(self.rng.below(model.users.len()));
        match self.rng.below(6) {
            // Its invitations stay in the table until the purge: they must admit no one.
            5 => {
                let index = self.rng.below(self.pool.addresses.len());
                let addr = Some(Addr::Valid { index, variant: 0 });
                Act::SignUp { trigger: SignUpTrigger::SignUp, addr, verified: Some(false) }
            }
            0 => Act::GetOrg { by, org },
            1 => Act::ListMembers {
                by,
                org,
                limit: 50,
                role: None,
                status: None,
                bad: None,
                search: Search::default(),
            },
            2 => Act::DeleteOrg { by, org },
            3 => Act::UpdateOrg { by, org, name: Some("Back".into()), metadata: None, bad: None },
            _ => Act::Remove { by, org, target: by },
        }
    }

    /// A workspace or group step: in an organization that has some (mostly), by a caller
    /// likely to be let through, on a target likely to be there.
    fn workspace_act(&mut self, model: &Model) -> Act {
        for o in model.orgs.values() {
            for ws in o.workspaces.keys() {
                if !self.seen_ws.contains(ws) {
                    self.seen_ws.push(*ws);
                }
            }
            for g in o.groups.keys() {
                if !self.seen_groups.contains(g) {
                    self.seen_groups.push(*g);
                }
            }
        }
        if !model.deleted.is_empty() && self.rng.chance(3) {
            return self.on_deleted_org_workspace(model);
        }
        let orgs: Vec<Ref> = model.orgs.keys().copied().collect();
        let busy: Vec<Ref> = model
            .orgs
            .iter()
            .filter(|(_, o)| !o.workspaces.is_empty() || !o.groups.is_empty())
            .map(|(r, _)| *r)
            .collect();
        // Else the most populous of a few (workspaces need members to be interesting).
        let org = if !busy.is_empty() && self.rng.chance(80) {
            *self.rng.pick(&busy)
        } else {
            let few: Vec<Ref> = (0..3).map(|_| *self.rng.pick(&orgs)).collect();
            *few.iter().max_by_key(|o| model.orgs[o].members.len()).expect("three")
        };
        let o = &model.orgs[&org];
        // Workspaces need members: an organization of few gets one more now and then (a
        // single-use link, accepted by a non-member at the next step).
        if o.members.len() < 5 && self.rng.chance(10) {
            if let Some(act) = self.onboard(model, org) {
                return act;
            }
        }
        let (n_ws, n_groups) = (o.workspaces.len(), o.groups.len());
        let weights = [
            if n_ws < 4 { 10 } else { 1 },    // create workspace
            4,                                // update workspace
            2,                                // delete workspace
            7,                                // get workspace
            4,                                // list workspaces
            18,                               // put workspace member
            6,                                // remove workspace member
            4,                                // list workspace members
            8,                                // grant
            3,                                // revoke
            if n_groups < 3 { 6 } else { 1 }, // create group
            2,                                // rename group
            2,                                // delete group
            12,                               // put group member
            4,                                // remove group member
            3,                                // list group members
            7,                                // a member's workspaces
        ];
        let mut kind = self.rng.weighted(&weights);
        if n_ws == 0 && matches!(kind, 1..=9) {
            kind = 0;
        }
        if n_groups == 0 && matches!(kind, 8 | 9 | 11..=15) {
            kind = 10;
        }
        match kind {
            0 => {
                let name = self.ws_name();
                let metadata = if self.rng.chance(60) { 0 } else { self.meta() };
                Act::CreateWorkspace { by: self.admin_caller(model, org), org, name, metadata }
            }
            1 => {
                let ws = self.ws_ref(model, org);
                let by = self.ws_caller(model, org, ws);
                let name = self.rng.chance(70).then(|| self.ws_name());
                let metadata = self.rng.chance(40).then(|| self.meta());
                let bad = self.rng.chance(10).then_some(Bad::Json);
                Act::UpdateWorkspace { by, org, ws, name, metadata, bad }
            }
            2 => {
                let ws = self.ws_ref(model, org);
                Act::DeleteWorkspace { by: self.ws_caller(model, org, ws), org, ws }
            }
            3 => {
                let ws = self.ws_ref(model, org);
                Act::GetWorkspace { by: self.ws_reader(model, org, ws), org, ws }
            }
            4 => Act::ListWorkspaces { by: self.caller(model, org), org, limit: self.limit() },
            5 => {
                let ws = self.ws_ref(model, org);
                let by = self.ws_caller(model, org, ws);
                let target = self.ws_target(model, org, by);
                let role = self.rng.chance(70).then(|| *self.rng.pick(&WsRole::ALL));
                // Malformed only where the answer is settled (not by a workspace admin on a
                // member they may not manage: 400 or 403 would both do).
                let settled = !self.is_ws_admin_only(model, org, ws, by)
                    || target.is_some_and(|t| {
                        Some(t) != by && o.members.get(&t).is_some_and(|m| !m.role.administers())
                    });
                let bad = (settled && self.rng.chance(10)).then(|| *self.rng.pick(&[Bad::Role, Bad::Json]));
                Act::PutWsMember { by, org, ws, target, role, bad }
            }
            6 => {
                let ws = self.ws_ref(model, org);
                let by = self.ws_caller(model, org, ws);
                let direct: Vec<UserIx> =
                    o.workspaces.get(&ws).map(|w| w.direct.keys().copied().collect()).unwrap_or_default();
                let target = if !direct.is_empty() && self.rng.chance(65) {
                    Some(*self.rng.pick(&direct))
                } else {
                    self.ws_target(model, org, by)
                };
                Act::RemoveWsMember { by, org, ws, target }
            }
            7 => {
                let ws = self.ws_ref(model, org);
                let by = self.ws_reader(model, org, ws);
                let has_access = by.is_some_and(|u| model.access(org, ws, u).is_some());
                let outsider =
                    by.and_then(|u| o.members.get(&u)).is_none_or(|m| m.status == Status::Suspended);
                let bad = ((has_access || outsider) && self.rng.chance(8))
                    .then(|| *self.rng.pick(&[Bad::Limit("0"), Bad::Limit("x"), Bad::Cursor]));
                Act::ListWsMembers { by, org, ws, limit: self.limit(), bad }
            }
            8 => {
                let ws = self.ws_ref(model, org);
                let group = self.group_ref(model, org);
                let role = *self.rng.pick(&WsRole::ALL);
                let bad = self.rng.chance(6).then(|| *self.rng.pick(&[Bad::Role, Bad::Json]));
                Act::Grant { by: self.admin_caller(model, org), org, ws, group, role, bad }
            }
            9 => {
                let ws = self.ws_ref(model, org);
                let granted: Vec<Ref> =
                    o.workspaces.get(&ws).map(|w| w.grants.keys().copied().collect()).unwrap_or_default();
                let group = if !granted.is_empty() && self.rng.chance(75) {
                    *self.rng.pick(&granted)
                } else {
                    self.group_ref(model, org)
                };
                Act::Revoke { by: self.admin_caller(model, org), org, ws, group }
            }
            10 => Act::CreateGroup { by: self.admin_caller(model, org), org, name: self.ws_name() },
            11 => {
                let group = self.group_ref(model, org);
                Act::RenameGroup { by: self.admin_caller(model, org), org, group, name: self.ws_name() }
            }
            12 => {
                let group = self.group_ref(model, org);
                Act::DeleteGroup { by: self.admin_caller(model, org), org, group }
            }
            13 => {
                let group = self.group_ref(model, org);
                let by = self.admin_caller(model, org);
                Act::PutGroupMember { by, org, group, target: self.target(model, org) }
            }
            14 => {
                let group = self.group_ref(model, org);
                let by = self.admin_caller(model, org);
                let placed: Vec<UserIx> =
                    o.groups.get(&group).map(|g| g.members.keys().copied().collect()).unwrap_or_default();
                let target = if !placed.is_empty() && self.rng.chance(65) {
                    Some(*self.rng.pick(&placed))
                } else {
                    self.target(model, org)
                };
                Act::RemoveGroupMember { by, org, group, target }
            }
            15 => {
                let group = self.group_ref(model, org);
                Act::ListGroupMembers { by: self.caller(model, org), org, group, limit: self.limit() }
            }
            _ => {
                let target = self.target(model, org);
                let by = match self.rng.below(10) {
                    0..=3 => target,
                    4..=7 => self.admin_caller(model, org),
                    _ => self.caller(model, org),
                };
                Act::MemberWorkspaces { by, org, target }
            }
        }
    }

    /// A single-use link for a member or viewer of `org`, made by one of its admins, and
    /// (queued for the next step) its acceptance by a non-member, preferably of no
    /// organization.
    fn onboard(&mut self, model: &Model, org: Ref) -> Option<Act> {
        let by = self.pick_member(model, org, &|_, m| m.role.administers())?;
        let outside: Vec<UserIx> =
            (0..model.users.len()).filter(|u| !model.orgs[&org].members.contains_key(u)).collect();
        let free: Vec<UserIx> = outside
            .iter()
            .copied()
            .filter(|u| model.orgs.values().all(|o| !o.members.contains_key(u)))
            .collect();
        let joiner = match (free.is_empty(), outside.is_empty()) {
            (false, _) if self.rng.chance(70) => *self.rng.pick(&free),
            (_, false) => *self.rng.pick(&outside),
            _ => return None,
        };
        let role = if self.rng.chance(65) { Role::Member } else { Role::Viewer };
        let link = Ref { step: self.next_id - 1, n: 0 };
        self.queued = Some(Act::Accept { by: Some(joiner), token: TokArg::Issued(link) });
        Some(Act::CreateLink {
            by: Some(by),
            org,
            role: Some(role),
            hours: None,
            max_uses: Some(1),
            bad: None,
        })
    }

    /// A workspace step on a deleted organization, by someone who was in it or not: gone.
    fn on_deleted_org_workspace(&mut self, model: &Model) -> Act {
        let deleted: Vec<Ref> = model.deleted.keys().copied().collect();
        let org = *self.rng.pick(&deleted);
        let by = Some(self.rng.below(model.users.len()));
        let ws = if self.seen_ws.is_empty() { Ref { step: 0, n: 0 } } else { *self.rng.pick(&self.seen_ws) };
        match self.rng.below(3) {
            0 => Act::GetWorkspace { by, org, ws },
            1 => Act::ListWorkspaces { by, org, limit: 50 },
            _ => Act::MemberWorkspaces { by, org, target: by },
        }
    }

    fn ws_name(&mut self) -> String {
        match self.rng.below(14) {
            0 => String::new(),
            1 => "Bad\nName".to_owned(),
            2 => "x".repeat(101),
            3 => "  Padded Space  ".to_owned(),
            n => format!("Space {n}"),
        }
    }

    /// A live workspace of `org` mostly; now and then one deleted or of another
    /// organization (404 either way).
    fn ws_ref(&mut self, model: &Model, org: Ref) -> Ref {
        let live: Vec<Ref> = model.orgs[&org].workspaces.keys().copied().collect();
        if live.is_empty() || (!self.seen_ws.is_empty() && self.rng.chance(6)) {
            return *self.rng.pick(&self.seen_ws);
        }
        *self.rng.pick(&live)
    }

    fn group_ref(&mut self, model: &Model, org: Ref) -> Ref {
        let live: Vec<Ref> = model.orgs[&org].groups.keys().copied().collect();
        if live.is_empty() || (!self.seen_groups.is_empty() && self.rng.chance(6)) {
            return *self.rng.pick(&self.seen_groups);
        }
        *self.rng.pick(&live)
    }

    /// Active members of `org` that `f` picks, if any.
    fn pick_member(
        &mut self,
        model: &Model,
        org: Ref,
        f: &dyn Fn(UserIx, &super::spec::Member) -> bool,
    ) -> Option<UserIx> {
        let found: Vec<UserIx> = model.orgs[&org]
            .members
            .iter()
            .filter(|(u, m)| m.status == Status::Active && f(**u, m))
            .map(|(u, _)| *u)
            .collect();
        (!found.is_empty()).then(|| *self.rng.pick(&found))
    }

    /// Whether `by` is an admin of workspace `ws` without being an organization admin.
    fn is_ws_admin_only(&self, model: &Model, org: Ref, ws: Ref, by: Option<UserIx>) -> bool {
        by.is_some_and(|u| {
            model.orgs[&org].members.get(&u).is_some_and(|m| !m.role.administers())
                && model.access(org, ws, u).is_some_and(|a| a.role == WsRole::Admin)
        })
    }

    /// Who manages a workspace: organization admins, the workspace's own admins, its other
    /// members, other members of the organization, anyone.
    fn ws_caller(&mut self, model: &Model, org: Ref, ws: Ref) -> Option<UserIx> {
        let ws_admin = |u: UserIx| model.access(org, ws, u).is_some_and(|a| a.role == WsRole::Admin);
        let chosen = match self.rng.below(100) {
            0..=29 => self.pick_member(model, org, &|_, m| m.role.administers()),
            30..=59 => self
                .pick_member(model, org, &|u, m| !m.role.administers() && ws_admin(u))
                .or_else(|| self.pick_member(model, org, &|_, m| !m.role.administers())),
            60..=79 => self
                .pick_member(model, org, &|u, m| {
                    !m.role.administers() && !ws_admin(u) && model.access(org, ws, u).is_some()
                })
                .or_else(|| self.pick_member(model, org, &|_, m| !m.role.administers())),
            80..=87 => self.pick_member(model, org, &|_, m| !m.role.administers()),
            _ => None,
        };
        chosen.or_else(|| self.caller(model, org))
    }

    /// Who reads a workspace: mostly someone with access to it.
    fn ws_reader(&mut self, model: &Model, org: Ref, ws: Ref) -> Option<UserIx> {
        let chosen = if self.rng.chance(60) {
            self.pick_member(model, org, &|u, m| !m.role.administers() && model.access(org, ws, u).is_some())
        } else {
            None
        };
        chosen.or_else(|| self.caller(model, org))
    }

    /// A target of a workspace membership: mostly a member or viewer (whom a workspace admin
    /// manages), sometimes oneself or anyone.
    fn ws_target(&mut self, model: &Model, org: Ref, by: Option<UserIx>) -> Target {
        match self.rng.below(100) {
            0..=54 => {
                let plain: Vec<UserIx> = model.orgs[&org]
                    .members
                    .iter()
                    .filter(|(_, m)| !m.role.administers())
                    .map(|(u, _)| *u)
                    .collect();
                if plain.is_empty() { self.target(model, org) } else { Some(*self.rng.pick(&plain)) }
            }
            55..=62 => by,
            _ => self.target(model, org),
        }
    }

    fn meta(&mut self) -> Meta {
        self.rng.below(usize::from(METAS)) as Meta
    }

    fn update_org(&mut self, model: &Model, org: Ref) -> Act {
        let by = self.admin_caller(model, org);
        let name = self.rng.chance(60).then(|| {
            let names = ["Acme", "  Globex  ", "Initech\nInc", "", "Umbrella", "Ünïcödé & <Co>"];
            self.rng.pick(&names).to_string()
        });
        let metadata = self.rng.chance(60).then(|| self.meta());
        let bad = self.bad_for_admin_route(model, org, by, &[Bad::Json, Bad::MediaType, Bad::Metadata]);
        Act::UpdateOrg { by, org, name, metadata, bad }
    }
}

/// TEMPORARY skips: shapes of steps (and expectations) where the model and the
/// implementation disagree and the implementation is wrong by API.md, left out by default
/// until the fix is in, so that the test stays green meanwhile. Each names its case; lift
/// them with `ROSTER_MODEL_UNSKIP=<tags>` (or `all`) to see whether a fix is in, then delete
/// the tag here (and its uses) and keep the case's replay line in
/// `tests/model-regressions.txt`. Tags in use (`skipped` below, and `run::model`):
///
/// - `removal-cleanup`: a sweep does not clear what removed members left in workspaces and
///   groups (their `memberCount` may count it for good). Fixed in 079e1e6; not listed.
pub const TEMPORARY_SKIPS: &[&str] = &[];

/// The tags of `ROSTER_MODEL_SKIP`, and the [`TEMPORARY_SKIPS`] that
/// `ROSTER_MODEL_UNSKIP` does not lift.
pub fn skip_tags() -> Vec<String> {
    let list = |name: &str| -> Vec<String> {
        std::env::var(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    };
    let unskip = list("ROSTER_MODEL_UNSKIP");
    let mut tags = list("ROSTER_MODEL_SKIP");
    for tag in TEMPORARY_SKIPS {
        if !unskip.iter().any(|u| u == tag || u == "all") && !tags.iter().any(|t| t == tag) {
            tags.push((*tag).to_owned());
        }
    }
    tags
}

/// Whether a step has a shape `ROSTER_MODEL_SKIP` asks to leave out, in the current state
/// (a replay while shrinking meets states the generator never saw).
pub fn skipped(_model: &Model, act: &Act, tags: &[String]) -> bool {
    let has = |tag: &str| tags.iter().any(|t| t == tag);
    match act {
        Act::Preview { by: None, .. } => has("anonymous-preview"),
        _ => false,
    }
}
