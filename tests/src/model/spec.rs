//! The reference model of Roster, written from API.md and the README's decisions, not from
//! the store: organizations, memberships, address slots, email invitations, invite links and
//! their tokens, counters and seats, and (issue 24) workspaces, groups and everyone's
//! effective access to each workspace. `apply` says what a step must answer and how the state
//! moves; times are the app's clock in epoch milliseconds.

use std::collections::{BTreeMap, BTreeSet};

use super::generate::Pool;
use super::ops::{
    Act, Addr, Bad, CustomIx, Meta, Op, Ref, Role, SesKind, SignUpTrigger, Status, Target, TokArg, UserIx,
    WsRole,
};

pub const HOUR_MS: i64 = 3_600_000;
/// How long after a deletion the purge starts (`store::purge::PURGE_GRACE`).
pub const PURGE_GRACE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// How long a usage record's id makes it count once, and how far back its `at` may lie.
pub const USAGE_WINDOW_MS: i64 = 7 * DAY_MS;

/// A user as the authorizer describes them.
#[derive(Debug, Clone)]
pub struct UserInfo {
    pub sub: String,
    pub name: String,
    /// The `email` claim as sent (any case).
    pub email_claim: Option<String>,
    pub email_verified: Option<bool>,
}

impl UserInfo {
    /// The address that may claim an email invitation: only `email_verified: true` proves it
    /// (API.md "Identity"; an absent claim proves nothing).
    pub fn verified_email(&self) -> Option<String> {
        match (self.email_verified, &self.email_claim) {
            (Some(true), Some(e)) => Some(e.trim().to_lowercase()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cfg {
    pub max_members: Option<u32>,
    pub one_org_per_user: bool,
    pub ttl_hours: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub role: Role,
    pub status: Status,
    /// The verified address at joining (README: an unverified one is recorded nowhere).
    pub email: Option<String>,
    pub invited_by: Option<UserIx>,
    pub metadata: Meta,
    /// Which joining this is (new on every join) and its standing number (raised by every
    /// demotion and suspension), with why it last moved: API.md "Roles and rank".
    pub generation: u32,
    pub standing: u32,
    pub standing_reason: Option<&'static str>,
    /// The custom role held (`role` is then its base).
    pub custom: Option<CustomIx>,
}

/// An organization's custom role: its base (the rank every rule reads) and the host
/// permissions it holds, a bit each in the catalog's key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomRole {
    pub base: Role,
    pub perms: u16,
}

/// What an invitation or link records of whoever made or last resent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voucher {
    pub by: UserIx,
    pub generation: u32,
    pub standing: u32,
}

impl Member {
    fn active_owner(&self) -> bool {
        self.status == Status::Active && self.role == Role::Owner
    }
}

#[derive(Debug, Clone)]
pub struct Invitation {
    pub org: Ref,
    pub email: String,
    pub role: Role,
    pub invited_by: UserIx,
    /// Who sent the current token (the inviter, or whoever resent it): the email, the
    /// preview and the membership's `invitedBy` name them.
    pub sender: UserIx,
    pub expires_at: i64,
    pub delivered: bool,
    /// Where its latest email is (API.md "Email delivery"), once the queue has been drained,
    /// and why when `failed` or `bounced`.
    pub delivery: &'static str,
    pub reason: Option<&'static str>,
    /// Its send: 0, and one more with every resend.
    pub send: u64,
    pub token: Ref,
    /// Copied to the membership on accept.
    pub metadata: Meta,
    pub voucher: Voucher,
    /// Declined by its invitee: listed until it expires, admits nobody, holds no address.
    pub declined: bool,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub org: Ref,
    pub role: Role,
    pub created_by: UserIx,
    pub expires_at: i64,
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub token: Ref,
    pub voucher: Voucher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFor {
    Invitation(Ref),
    Link(Ref),
}

#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub target: TokenFor,
    /// Whether anyone got it (an email SES refused was never delivered).
    pub delivered: bool,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub name: String,
    pub metadata: Meta,
    pub members: BTreeMap<UserIx, Member>,
    /// Live workspaces and groups, by the step that created them (a deleted one goes at
    /// once: API.md "Deleting a workspace or group ends its access at once").
    pub workspaces: BTreeMap<Ref, Workspace>,
    pub groups: BTreeMap<Ref, Group>,
    pub roles: BTreeMap<CustomIx, CustomRole>,
    /// Its invitation emails are paused (API.md "Email delivery"), and the hard bounces and
    /// complaints SES reported since the last lift (the model's organizations never send the
    /// 200 emails of a window).
    pub paused: bool,
    pub bounces: u32,
    pub complaints: u32,
    /// Made by its owner's sign-up and nobody invited to it since (API.md "Accounts"): with
    /// one organization per user, an accepted invitation replaces it while its owner is its
    /// only member.
    pub personal: bool,
}

/// Where access to a workspace comes from (API.md: `org_role`, `direct`, `group:{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    OrgRole,
    Direct,
    Group(Ref),
}

/// A member's effective access to a workspace: the highest role of its sources, and every
/// source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub role: WsRole,
    pub via: BTreeSet<Via>,
}

/// A direct workspace membership: its role (`None` follows the organization role) and the
/// generation (joining) of the organization membership it was made for. One of an earlier
/// joining, or of a member gone, grants nothing and is no member of the workspace (API.md);
/// the model keeps it only as far as the implementation may still count it (see
/// [`Model::count_range`]) or clear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direct {
    pub role: Option<WsRole>,
    pub generation: u32,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub name: String,
    pub metadata: Meta,
    pub direct: BTreeMap<UserIx, Direct>,
    /// Grants to live groups of the organization (a deleted group's go with it).
    pub grants: BTreeMap<Ref, WsRole>,
    /// Grants of deleted groups: nothing, until the purge removes them.
    pub lingering: BTreeSet<Ref>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// Members' places, by the generation of the membership they were made for (as for
    /// [`Direct`]).
    pub members: BTreeMap<UserIx, u32>,
}

/// What a usage total is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UsageKey {
    Member(UserIx),
    /// A UTC day, as its number since the epoch.
    Day(i64),
}

/// What a preview shows of a token that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewView {
    pub kind: &'static str,
    pub org: Ref,
    pub role: Role,
    pub sender: UserIx,
    pub expires_at: i64,
    pub email: Option<String>,
    pub status: &'static str,
    pub reason: Option<&'static str>,
}

/// One result of an invite batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteItem {
    pub email: String,
    pub status: &'static str,
    pub invitation: Option<Ref>,
}

/// What a step must answer. Bodies are rendered from the model state after the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Error(u16, &'static str),
    NoContent,
    OrgCreated(Ref),
    Invited(Vec<InviteItem>),
    /// `201 {result: "invited", invitation}` of adding a user whose address has an account.
    AccountInvited(Ref),
    Resent(Ref),
    LinkCreated(Ref),
    /// `200` of a preview.
    Preview(PreviewView),
    /// `200 {org, membership}` of accept.
    Joined {
        org: Ref,
        user: UserIx,
    },
    Member {
        org: Ref,
        user: UserIx,
    },
    Transferred {
        org: Ref,
        from: UserIx,
        to: UserIx,
    },
    Bulk(Vec<(Target, &'static str)>),
    /// `200 {org}` of a settings change.
    OrgUpdated(Ref),
    OrgView {
        org: Ref,
        user: UserIx,
    },
    Members {
        org: Ref,
        role: Option<Role>,
        status: Option<Status>,
        search: super::ops::Search,
    },
    Invitations(Ref),
    Links(Ref),
    MyOrgs(UserIx),
    /// The pre-sign-up trigger's answer: admitted (the event handed back) or refused.
    SignUp(bool),
    /// The post-confirmation trigger's: the organization it made, if any (the event comes
    /// back untouched either way).
    SignUpOrg(Option<Ref>),
    /// `email-events`' answer: whether the SES event moved the invitation's delivery.
    Moved(bool),
    /// `201 {workspace}` with the creator's `you`.
    WorkspaceCreated {
        org: Ref,
        ws: Ref,
        user: UserIx,
    },
    /// `200 {workspace}` (with the caller's `you`) of a read or an update; a read also
    /// lists the workspace's grants (`groups`).
    WorkspaceView {
        org: Ref,
        ws: Ref,
        user: UserIx,
    },
    Workspaces {
        org: Ref,
        user: UserIx,
    },
    /// `201` (new) or `200 {member}`: a workspace member row.
    WsMember {
        org: Ref,
        ws: Ref,
        user: UserIx,
        created: bool,
    },
    WsMembers {
        org: Ref,
        ws: Ref,
    },
    /// `201` (new) or `200 {grant}`.
    Granted {
        ws: Ref,
        group: Ref,
        role: WsRole,
        created: bool,
    },
    /// `201` (new) or `200 {group}`.
    GroupView {
        org: Ref,
        group: Ref,
        created: bool,
    },
    /// `201` (new) or `200 {member}`: a group member row.
    GroupMember {
        org: Ref,
        group: Ref,
        user: UserIx,
        created: bool,
    },
    GroupMembers {
        org: Ref,
        group: Ref,
    },
    MemberWorkspaces {
        org: Ref,
        user: UserIx,
    },
    /// `201 {role}` (new) or `200 {role}`: a custom role as the model holds it.
    Role {
        org: Ref,
        key: CustomIx,
        created: bool,
    },
    /// Either answer (where the contract leaves it open; neither changes what the model
    /// holds afterwards): an error or `204`.
    Either(Box<Outcome>, Box<Outcome>),
    /// A step that sends no request (clock, TTL).
    Local,
    /// `200 {results}` of a usage report: each record's status, in order.
    UsageResults(Vec<&'static str>),
    /// `200 {totals}` of a usage read: each member's or day's total in hundredths, over the
    /// UTC days `from` to `to` (day numbers since the epoch).
    UsageTotals {
        rows: Vec<(UsageKey, i64)>,
        from: i64,
        to: i64,
    },
}

fn err(status: u16, code: &'static str) -> Outcome {
    Outcome::Error(status, code)
}

fn bad_input(bad: Bad) -> Outcome {
    match bad {
        Bad::Json => err(400, "invalid_json"),
        Bad::MediaType => err(415, "unsupported_media_type"),
        Bad::Role => err(400, "invalid_role"),
        Bad::Cursor => err(400, "invalid_cursor"),
        Bad::Empty | Bad::Hours(_) | Bad::MaxUses(_) | Bad::Status | Bad::Limit(_) | Bad::Metadata => {
            err(400, "invalid_request")
        }
    }
}

/// A name as the API keeps it (org names): trimmed, 1–100 characters, no control characters.
fn valid_name(name: &str) -> Option<String> {
    let trimmed = name.trim();
    let ok = !trimmed.is_empty() && trimmed.chars().count() <= 100 && !trimmed.chars().any(char::is_control);
    ok.then(|| trimmed.to_owned())
}

/// The model's own address check: one `@`, a non-empty local part, a dotted domain of
/// letter/digit/hyphen labels and an alphabetic top-level label of two or more.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && !domain.contains('@')
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels.last().is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()))
}

#[derive(Debug, Clone)]
pub struct Model {
    /// The addresses that have an account in the user pool (API.md "Accounts"): the users'.
    pub accounts: BTreeSet<String>,
    pub cfg: Cfg,
    pub users: Vec<UserInfo>,
    pub pool: Pool,
    pub orgs: BTreeMap<Ref, Org>,
    /// Live invitations and links (revoked, accepted, declined, replaced or swept ones go).
    pub invitations: BTreeMap<Ref, Invitation>,
    pub links: BTreeMap<Ref, Link>,
    /// Every token ever issued; it works while it is the current token of a live target.
    pub tokens: BTreeMap<Ref, Token>,
    /// Deleted organizations: when, and who were members. Until the purge removes their
    /// items, those members' one-org locks still stand.
    pub deleted: BTreeMap<Ref, (i64, BTreeSet<UserIx>)>,
    /// The last membership generation handed out.
    pub generations: u32,
    /// Email invitations accepted, by their token: the token stays readable (a preview says
    /// `accepted`) until it expires.
    pub accepted: BTreeMap<Ref, Invitation>,
    /// Whether a sweep (the scheduled purge) ends the workspace and group memberships that
    /// removed members left behind (API.md: "removal then deletes the member's workspace and
    /// group memberships in the background"), as it does deleted organizations', once
    /// [`PURGE_GRACE_MS`] has passed. Until then they may still be counted. Off while the
    /// temporary skip `removal-cleanup` stands (see `generate::TEMPORARY_SKIPS`).
    pub cleanup_on_sweep: bool,
    /// When each joining ended (removal or leave): `(org, user, generation)`, until a sweep
    /// has cleared what it left.
    pub departed: BTreeMap<(Ref, UserIx, u32), i64>,
    /// Groups deleted, `(org, group)`, and when: the purge removes their grants after its
    /// grace.
    pub deleted_groups: BTreeMap<(Ref, Ref), i64>,
    /// Usage totals in hundredths by (organization, member, metric, UTC day number); kept
    /// when the member leaves (what was counted stays counted).
    pub usage: BTreeMap<(Ref, UserIx, usize, i64), i64>,
    /// Usage record ids by organization, with when they were counted: each counts once for
    /// [`USAGE_WINDOW_MS`].
    pub usage_ids: BTreeMap<(Ref, u32), i64>,
    /// Users whose sign-up was confirmed (made them an organization or not): decided once.
    pub signed_up: BTreeSet<UserIx>,
    /// The organization each user's sign-up made: only that one an accept of theirs replaces.
    pub sign_up_orgs: BTreeMap<UserIx, Ref>,
    /// Personal organizations an accept replaced (a count, for the coverage tally).
    pub replaced: u32,
}

type Check<T> = Result<T, Outcome>;

enum AddressState {
    Free,
    Member,
    Invitation(Ref, i64),
}

impl Model {
    pub fn new(cfg: Cfg, users: Vec<UserInfo>, pool: Pool) -> Self {
        Self {
            cfg,
            users,
            pool,
            orgs: BTreeMap::new(),
            invitations: BTreeMap::new(),
            links: BTreeMap::new(),
            tokens: BTreeMap::new(),
            deleted: BTreeMap::new(),
            generations: 0,
            accepted: BTreeMap::new(),
            cleanup_on_sweep: true,
            departed: BTreeMap::new(),
            deleted_groups: BTreeMap::new(),
            usage: BTreeMap::new(),
            usage_ids: BTreeMap::new(),
            accounts: BTreeSet::new(),
            signed_up: BTreeSet::new(),
            sign_up_orgs: BTreeMap::new(),
            replaced: 0,
        }
    }

    /// A new membership as it starts.
    fn joining(
        &mut self,
        role: Role,
        email: Option<String>,
        invited_by: Option<UserIx>,
        metadata: Meta,
    ) -> Member {
        self.generations += 1;
        Member {
            role,
            status: Status::Active,
            email,
            invited_by,
            metadata,
            generation: self.generations,
            standing: 0,
            standing_reason: None,
            custom: None,
        }
    }

    /// `by`'s voucher for a new invitation or link in `org` (an active member).
    fn voucher(&self, org: Ref, by: UserIx) -> Voucher {
        let m = &self.orgs[&org].members[&by];
        Voucher { by, generation: m.generation, standing: m.standing }
    }

    /// Why an invitation or link of `org` for `role` no longer admits (API.md "Roles and
    /// rank"): its voucher's membership gone or re-made, its standing moved, suspended, or
    /// no longer granting the role. `None` while it admits.
    pub fn revoked(&self, org: Ref, voucher: Voucher, role: Role) -> Option<&'static str> {
        let Some(m) = self.member(org, voucher.by) else { return Some("creator_left") };
        if m.generation != voucher.generation {
            return Some("creator_left");
        }
        if m.standing != voucher.standing {
            return Some(m.standing_reason.unwrap_or("revoked"));
        }
        if m.status != Status::Active {
            return Some("creator_suspended");
        }
        if !(m.role.administers() && m.role.can_act_on(role)) {
            return Some("creator_demoted");
        }
        None
    }

    /// What a preview shows of `token`, if it still exists: the current token of a live
    /// invitation or link, of a declined invitation, or of an accepted one (until expiry).
    pub fn preview(&self, token: Ref, now: i64) -> Option<PreviewView> {
        let invitation = |i: &Invitation, status, reason| PreviewView {
            kind: "email",
            org: i.org,
            role: i.role,
            sender: i.sender,
            expires_at: i.expires_at,
            email: Some(i.email.clone()),
            status,
            reason,
        };
        if let Some(i) = self.accepted.get(&token) {
            // Readable as accepted until its expiry; past it, expired like every token.
            let status = if i.expires_at <= now { "expired" } else { "accepted" };
            return Some(invitation(i, status, None));
        }
        let t = self.tokens.get(&token)?;
        match t.target {
            TokenFor::Invitation(r) => {
                let i = self.invitations.get(&r).filter(|i| i.token == token)?;
                let (status, reason) = self.token_status(TokenFor::Invitation(r), now);
                Some(invitation(i, status, reason))
            }
            TokenFor::Link(r) => {
                let l = self.links.get(&r).filter(|l| l.token == token)?;
                let (status, reason) = self.token_status(TokenFor::Link(r), now);
                Some(PreviewView {
                    kind: "link",
                    org: l.org,
                    role: l.role,
                    sender: l.created_by,
                    expires_at: l.expires_at,
                    email: None,
                    status,
                    reason,
                })
            }
        }
    }

    /// The status a preview or a list shows for a live target at `now`.
    pub fn token_status(&self, target: TokenFor, now: i64) -> (&'static str, Option<&'static str>) {
        let (org, role, voucher, expires_at, used_up, live) = match target {
            TokenFor::Invitation(i) => {
                let i = &self.invitations[&i];
                (i.org, i.role, i.voucher, i.expires_at, false, "pending")
            }
            TokenFor::Link(l) => {
                let l = &self.links[&l];
                (l.org, l.role, l.voucher, l.expires_at, l.max_uses.is_some_and(|m| l.uses >= m), "active")
            }
        };
        let revoked = self.revoked(org, voucher, role);
        let declined = matches!(target, TokenFor::Invitation(i) if self.invitations[&i].declined);
        if expires_at <= now {
            ("expired", None)
        } else if declined {
            ("declined", None)
        } else if used_up {
            ("used_up", None)
        } else if revoked.is_some() {
            ("revoked", revoked)
        } else {
            (live, None)
        }
    }

    // ---- queries ----

    pub fn member(&self, org: Ref, user: UserIx) -> Option<&Member> {
        self.orgs.get(&org)?.members.get(&user)
    }

    /// Whether `user` holds a one-org lock: a membership, or one of a deleted organization
    /// not purged yet.
    fn in_any_org(&self, user: UserIx) -> bool {
        self.orgs.values().any(|o| o.members.contains_key(&user))
            || self.deleted.values().any(|(_, members)| members.contains(&user))
    }

    /// Seats in use: active members plus unexpired pending invitations.
    pub fn seats_used(&self, org: Ref, now: i64) -> u32 {
        let active = self.orgs[&org].members.values().filter(|m| m.status == Status::Active).count();
        let pending =
            self.invitations.values().filter(|i| i.org == org && i.expires_at > now && !i.declined).count();
        (active + pending) as u32
    }

    pub fn active_owners(&self, org: Ref) -> usize {
        self.orgs[&org].members.values().filter(|m| m.active_owner()).count()
    }

    /// The live invitation or link a token is the current token of.
    pub fn live_token(&self, token: Ref) -> Option<TokenFor> {
        let t = self.tokens.get(&token)?;
        let current = match t.target {
            TokenFor::Invitation(i) => self.invitations.get(&i).filter(|i| !i.declined).map(|i| i.token),
            TokenFor::Link(l) => self.links.get(&l).map(|l| l.token),
        };
        (current == Some(token)).then_some(t.target)
    }

    pub fn org_of_token(&self, target: TokenFor) -> Ref {
        match target {
            TokenFor::Invitation(i) => self.invitations[&i].org,
            TokenFor::Link(l) => self.links[&l].org,
        }
    }

    /// Invitations of an organization, as listed: `(ref, invitation, expired?)`.
    pub fn invitations_of(&self, org: Ref, now: i64) -> Vec<(Ref, &Invitation, bool)> {
        self.invitations
            .iter()
            .filter(|(_, i)| i.org == org)
            .map(|(r, i)| (*r, i, i.expires_at <= now))
            .collect()
    }

    pub fn links_of(&self, org: Ref) -> Vec<(Ref, &Link)> {
        self.links.iter().filter(|(_, l)| l.org == org).map(|(r, l)| (*r, l)).collect()
    }

    /// Every expiry the model tracks (to keep the app's clock clear of them).
    pub fn expiries(&self) -> impl Iterator<Item = i64> + '_ {
        self.invitations
            .values()
            .map(|i| i.expires_at)
            .chain(self.links.values().map(|l| l.expires_at))
            .chain(self.deleted.values().map(|(at, _)| at + PURGE_GRACE_MS))
            .chain(self.departed.values().map(|at| at + PURGE_GRACE_MS))
            .chain(self.deleted_groups.values().map(|at| at + PURGE_GRACE_MS))
            .chain(self.usage_ids.values().map(|at| at + USAGE_WINDOW_MS))
    }

    /// Whether the pre-sign-up trigger admits a sign-up (self sign-up closed): always for an
    /// administrator's AdminCreateUser; for a sign-up of one's own (SignUp, ExternalProvider)
    /// only if the address, in any case, has an invitation pending at `now`, and a federated
    /// provider's address only when it comes verified. The model keeps no invitation of a
    /// deleted organization, so "in a live organization" needs no check.
    pub fn may_sign_up(
        &self,
        trigger: SignUpTrigger,
        address: Option<&str>,
        verified: Option<bool>,
        now: i64,
    ) -> bool {
        match trigger {
            SignUpTrigger::AdminCreateUser => true,
            SignUpTrigger::Other => false,
            SignUpTrigger::ExternalProvider if verified != Some(true) => false,
            SignUpTrigger::SignUp | SignUpTrigger::ExternalProvider => {
                address.map(|a| a.trim().to_lowercase()).is_some_and(|address| {
                    valid_address(&address)
                        && self
                            .invitations
                            .values()
                            .any(|i| i.email == address && i.expires_at > now && !i.declined)
                })
            }
        }
    }

    /// The caller's active membership of `org`: `401` anonymous, `404` not a member (or no
    /// such organization), `403 suspended`.
    fn active(&self, org: Ref, by: Option<UserIx>) -> Check<(UserIx, Member)> {
        let by = by.ok_or(err(401, "unauthenticated"))?;
        let member = self.member(org, by).ok_or(err(404, "not_found"))?;
        if member.status == Status::Suspended {
            return Err(err(403, "suspended"));
        }
        Ok((by, member.clone()))
    }

    fn admin(&self, org: Ref, by: Option<UserIx>) -> Check<(UserIx, Member)> {
        let (by, me) = self.active(org, by)?;
        if !me.role.administers() {
            return Err(err(403, "forbidden"));
        }
        Ok((by, me))
    }

    // ---- changes ----

    fn drop_invitation(&mut self, inv: Ref) {
        self.invitations.remove(&inv);
    }

    fn drop_member(&mut self, org: Ref, user: UserIx, now: i64) {
        let gone = self.orgs.get_mut(&org).expect("org").members.remove(&user).expect("a member");
        self.departed.insert((org, user, gone.generation), now);
    }

    /// README "Address slots": a member's verified address marks it "already a member";
    /// otherwise the (one) invitation to it, pending or expired, holds it.
    fn address_state(&self, org: Ref, address: &str) -> AddressState {
        if self.orgs[&org].members.values().any(|m| m.email.as_deref() == Some(address)) {
            return AddressState::Member;
        }
        match self.invitations.iter().find(|(_, i)| i.org == org && i.email == address && !i.declined) {
            None => AddressState::Free,
            Some((r, i)) => AddressState::Invitation(*r, i.expires_at),
        }
    }

    /// DynamoDB's TTL: expired invitations (with their slots and tokens) and links go.
    pub fn sweep(&mut self, now: i64) {
        let expired: Vec<Ref> =
            self.invitations.iter().filter(|(_, i)| i.expires_at <= now).map(|(r, _)| *r).collect();
        for r in expired {
            self.drop_invitation(r);
        }
        self.links.retain(|_, l| l.expires_at > now);
        self.accepted.retain(|_, i| i.expires_at > now);
        // The purge runs with the sweep: organizations deleted long enough ago are gone.
        for (at, members) in self.deleted.values_mut() {
            if *at + PURGE_GRACE_MS <= now {
                members.clear();
            }
        }
        if self.cleanup_on_sweep {
            self.clear_stale(now);
        }
        let purged: Vec<(Ref, Ref)> = self
            .deleted_groups
            .iter()
            .filter(|(_, at)| **at + PURGE_GRACE_MS <= now)
            .map(|(k, _)| *k)
            .collect();
        for (org, group) in purged {
            self.deleted_groups.remove(&(org, group));
            for w in self.orgs.get_mut(&org).into_iter().flat_map(|o| o.workspaces.values_mut()) {
                w.lingering.remove(&group);
            }
        }
    }

    /// The delivery of an email the queue took (the driver drains it at once: `sent`) or
    /// refused (`failed`, `queue_refused`).
    fn queued(refused: bool) -> (&'static str, Option<&'static str>) {
        if refused { ("failed", Some("queue_refused")) } else { ("sent", None) }
    }

    /// What `op` must answer at `now`, moving the model to the state after it.
    pub fn apply(&mut self, op: &Op, now: i64) -> Outcome {
        match self.try_apply(op, now) {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    fn try_apply(&mut self, op: &Op, now: i64) -> Check<Outcome> {
        let step = op.id;
        Ok(match &op.act {
            Act::CreateOrg { by, name } => self.create_org(step, *by, name)?,
            Act::AddUser { by, org, addr, role, weak } => {
                self.add_user(step, now, (*by, *org), (*addr, *role), *weak)?
            }
            Act::Invite { by, org, entries, hours, metadata, ses_down, bad } => {
                let (me, member) = self.admin(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                if self.orgs[org].paused {
                    return Err(err(403, "invitations_paused"));
                }
                let hours = hours.unwrap_or(self.cfg.ttl_hours);
                let expiry = (now + hours * HOUR_MS, now);
                self.invite(step, *org, (me, member.role), (entries, *metadata), expiry, *ses_down)?
            }
            Act::Resend { by, org, inv, ses_down } => {
                let (me, member) = self.admin(*org, *by)?;
                let i = self.invitations.get(inv).filter(|i| i.org == *org).ok_or(err(404, "not_found"))?;
                if !member.role.can_act_on(i.role) {
                    return Err(err(403, "forbidden"));
                }
                if self.orgs[org].paused {
                    return Err(err(403, "invitations_paused"));
                }
                if i.declined {
                    return Err(err(409, "conflict"));
                }
                let expired = i.expires_at <= now;
                if let (true, Some(max)) = (expired, self.cfg.max_members) {
                    if self.seats_used(*org, now) + 1 > max {
                        return Err(err(409, "seat_limit"));
                    }
                }
                let token = Ref { step, n: 0 };
                self.tokens.insert(token, Token { target: TokenFor::Invitation(*inv), delivered: !ses_down });
                let voucher = self.voucher(*org, me);
                let i = self.invitations.get_mut(inv).expect("checked");
                i.token = token;
                i.sender = me;
                i.voucher = voucher;
                i.expires_at = now + self.cfg.ttl_hours * HOUR_MS;
                i.delivered = !ses_down;
                i.send += 1;
                (i.delivery, i.reason) = Self::queued(*ses_down);
                if *ses_down {
                    return Err(err(502, "email_delivery_failed"));
                }
                Outcome::Resent(*inv)
            }
            Act::RevokeInvitation { by, org, inv } => {
                let (_, member) = self.admin(*org, *by)?;
                let i = self.invitations.get(inv).filter(|i| i.org == *org).ok_or(err(404, "not_found"))?;
                if !member.role.can_act_on(i.role) {
                    return Err(err(403, "forbidden"));
                }
                self.drop_invitation(*inv);
                Outcome::NoContent
            }
            Act::CreateLink { by, org, role, hours, max_uses, bad } => {
                let (me, member) = self.admin(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                let role = role.unwrap_or(Role::Viewer);
                if !member.role.can_act_on(role) {
                    return Err(err(403, "forbidden"));
                }
                let link = Ref { step, n: 0 };
                self.tokens.insert(link, Token { target: TokenFor::Link(link), delivered: true });
                let hours = hours.unwrap_or(self.cfg.ttl_hours);
                let voucher = self.voucher(*org, me);
                self.links.insert(
                    link,
                    Link {
                        org: *org,
                        role,
                        created_by: me,
                        expires_at: now + hours * HOUR_MS,
                        max_uses: max_uses.map(|m| m as u32),
                        uses: 0,
                        token: link,
                        voucher,
                    },
                );
                self.orgs.get_mut(org).expect("org").personal = false;
                Outcome::LinkCreated(link)
            }
            Act::RevokeLink { by, org, link } => {
                let (_, member) = self.admin(*org, *by)?;
                let l = self.links.get(link).filter(|l| l.org == *org).ok_or(err(404, "not_found"))?;
                if !member.role.can_act_on(l.role) {
                    return Err(err(403, "forbidden"));
                }
                self.links.remove(link);
                Outcome::NoContent
            }
            Act::Preview { token, .. } => {
                // Every token that exists answers, with its status (API.md "Preview").
                let TokArg::Issued(token) = token else { return Err(err(404, "invitation_not_found")) };
                Outcome::Preview(self.preview(*token, now).ok_or(err(404, "invitation_not_found"))?)
            }
            Act::Accept { by, token } => {
                let by = by.ok_or(err(401, "unauthenticated"))?;
                self.accept(by, *token, now)?
            }
            Act::Decline { by, token } => {
                let by = by.ok_or(err(401, "unauthenticated"))?;
                let TokArg::Issued(token) = token else { return Err(err(404, "invitation_not_found")) };
                let target = self.live_token(*token).ok_or(err(404, "invitation_not_found"))?;
                let TokenFor::Invitation(inv) = target else { return Err(err(400, "invalid_request")) };
                let i = &self.invitations[&inv];
                if self.users[by].verified_email().as_deref() != Some(i.email.as_str()) {
                    return Err(err(403, "email_mismatch"));
                }
                if i.expires_at <= now {
                    return Err(err(410, "invitation_expired"));
                }
                self.invitations.get_mut(&inv).expect("live").declined = true;
                Outcome::NoContent
            }
            Act::Change { by, org, target, role, status, metadata, bad } => {
                let (me, actor) = self.active(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                // A built-in role given ends a custom one.
                let custom = role.map(|_| None);
                self.change(*org, (me, &actor), *target, (*role, custom, *status, *metadata), now)?
            }
            Act::AssignCustom { by, org, target, key } => {
                let (me, actor) = self.active(*org, *by)?;
                // A role the organization lacks is bad input, before the target is looked up.
                let role = self.orgs[org].roles.get(key).ok_or(err(400, "invalid_role"))?;
                let assigned = (Some(role.base), Some(Some(*key)), None, None);
                self.change(*org, (me, &actor), *target, assigned, now)?
            }
            Act::CreateRole { by, org, key, base, perms } => {
                let (_, actor) = self.active(*org, *by)?;
                if actor.role != Role::Owner {
                    return Err(err(403, "forbidden"));
                }
                let roles = &mut self.orgs.get_mut(org).expect("org").roles;
                if roles.contains_key(key) {
                    return Err(err(409, "conflict"));
                }
                roles.insert(*key, CustomRole { base: *base, perms: *perms });
                Outcome::Role { org: *org, key: *key, created: true }
            }
            Act::UpdateRole { by, org, key, perms } => {
                let (_, actor) = self.active(*org, *by)?;
                if actor.role != Role::Owner {
                    return Err(err(403, "forbidden"));
                }
                let roles = &mut self.orgs.get_mut(org).expect("org").roles;
                roles.get_mut(key).ok_or(err(404, "not_found"))?.perms = *perms;
                Outcome::Role { org: *org, key: *key, created: false }
            }
            Act::DeleteRole { by, org, key } => {
                let (_, actor) = self.active(*org, *by)?;
                if actor.role != Role::Owner {
                    return Err(err(403, "forbidden"));
                }
                let o = self.orgs.get_mut(org).expect("org");
                if !o.roles.contains_key(key) {
                    return Err(err(404, "not_found"));
                }
                // Only memberships hold custom roles in these runs (invitations, links and
                // workspace roles are given built-in ones): tests/tests/custom_roles.rs covers
                // the other holders.
                if o.members.values().any(|m| m.custom == Some(*key)) {
                    return Err(err(409, "role_in_use"));
                }
                o.roles.remove(key);
                Outcome::NoContent
            }
            Act::UpdateOrg { by, org, name, metadata, bad } => {
                self.admin(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                let name = match name {
                    None => None,
                    Some(name) => Some(valid_name(name).ok_or(err(400, "invalid_request"))?),
                };
                let o = self.orgs.get_mut(org).expect("org");
                if let Some(name) = name {
                    o.name = name;
                }
                if let Some(metadata) = metadata {
                    o.metadata = *metadata;
                }
                Outcome::OrgUpdated(*org)
            }
            Act::DeleteOrg { by, org } => {
                let (_, actor) = self.active(*org, *by)?;
                if actor.role != Role::Owner {
                    return Err(err(403, "forbidden"));
                }
                let gone = self.orgs.remove(org).expect("active");
                self.invitations.retain(|_, i| i.org != *org);
                self.links.retain(|_, l| l.org != *org);
                self.accepted.retain(|_, i| i.org != *org);
                self.deleted.insert(*org, (now, gone.members.into_keys().collect()));
                Outcome::NoContent
            }
            Act::Transfer { by, org, target, bad } => {
                // Authorize first (only an owner transfers), then read the body.
                let (me, actor) = self.active(*org, *by)?;
                if actor.role != Role::Owner {
                    return Err(err(403, "forbidden"));
                }
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                if *target == Some(me) {
                    return Err(err(400, "invalid_request"));
                }
                let to =
                    target.and_then(|t| self.member(*org, t).map(|m| (t, m))).ok_or(err(404, "not_found"))?;
                let to_user = to.0;
                if to.1.status != Status::Active {
                    return Err(err(409, "conflict"));
                }
                let members = &mut self.orgs.get_mut(org).expect("org").members;
                // A demotion like any other: the old owner's standing rises (API.md), so
                // nothing they vouched for admits after, even if ownership comes back.
                let from = members.get_mut(&me).expect("actor");
                from.role = Role::Admin;
                from.custom = None;
                from.standing += 1;
                from.standing_reason = Some("creator_demoted");
                // Ownership is built-in: a custom role the new owner held ends with it.
                let to = members.get_mut(&to_user).expect("target");
                to.role = Role::Owner;
                to.custom = None;
                Outcome::Transferred { org: *org, from: me, to: to_user }
            }
            Act::Remove { by, org, target } => {
                let (me, actor) = self.active(*org, *by)?;
                let (t, member) = target
                    .and_then(|t| self.member(*org, t).map(|m| (t, m.clone())))
                    .ok_or(err(404, "not_found"))?;
                if t != me && !actor.role.can_act_on(member.role) {
                    return Err(err(403, "forbidden"));
                }
                if member.active_owner() && self.active_owners(*org) == 1 {
                    return Err(err(409, "last_owner"));
                }
                self.drop_member(*org, t, now);
                Outcome::NoContent
            }
            Act::BulkRemove { by, org, targets, bad } => {
                let (me, actor) = self.admin(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                let mut seen = BTreeSet::new();
                let mut results = Vec::new();
                for t in targets {
                    if !seen.insert(*t) {
                        continue;
                    }
                    let status = match t.and_then(|u| self.member(*org, u).cloned().map(|m| (u, m))) {
                        None => "not_found",
                        Some((u, _)) if u == me => "forbidden",
                        Some((_, m)) if !actor.role.can_act_on(m.role) => "forbidden",
                        Some((_, m)) if m.active_owner() && self.active_owners(*org) == 1 => "last_owner",
                        Some((u, _)) => {
                            self.drop_member(*org, u, now);
                            "removed"
                        }
                    };
                    results.push((*t, status));
                }
                Outcome::Bulk(results)
            }
            Act::GetOrg { by, org } => {
                let (me, _) = self.active(*org, *by)?;
                Outcome::OrgView { org: *org, user: me }
            }
            Act::GetMember { by, org, target } => {
                self.active(*org, *by)?;
                let t = target.filter(|t| self.member(*org, *t).is_some()).ok_or(err(404, "not_found"))?;
                Outcome::Member { org: *org, user: t }
            }
            Act::ListMembers { by, org, role, status, bad, search, .. } => {
                self.active(*org, *by)?;
                // The search is read first: a search ordered by joining time is refused
                // whatever else is wrong.
                if search.conflicts() {
                    return Err(err(400, "invalid_request"));
                }
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                Outcome::Members { org: *org, role: *role, status: *status, search: *search }
            }
            Act::ListInvitations { by, org, bad, .. } => {
                self.admin(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                Outcome::Invitations(*org)
            }
            Act::ListLinks { by, org, bad, .. } => {
                self.admin(*org, *by)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                Outcome::Links(*org)
            }
            Act::MyOrgs { by, .. } => Outcome::MyOrgs(by.ok_or(err(401, "unauthenticated"))?),
            Act::SignUp { trigger, addr, verified } => {
                let address = addr.map(|a| self.pool.render(a));
                Outcome::SignUp(self.may_sign_up(*trigger, address.as_deref(), *verified, now))
            }
            Act::ConfirmSignUp { by, reset } => {
                Outcome::SignUpOrg(self.confirm_sign_up(step, *by, *reset, now))
            }
            Act::CreateWorkspace { .. }
            | Act::UpdateWorkspace { .. }
            | Act::DeleteWorkspace { .. }
            | Act::GetWorkspace { .. }
            | Act::ListWorkspaces { .. }
            | Act::PutWsMember { .. }
            | Act::RemoveWsMember { .. }
            | Act::ListWsMembers { .. }
            | Act::Grant { .. }
            | Act::Revoke { .. }
            | Act::CreateGroup { .. }
            | Act::RenameGroup { .. }
            | Act::DeleteGroup { .. }
            | Act::PutGroupMember { .. }
            | Act::RemoveGroupMember { .. }
            | Act::ListGroupMembers { .. }
            | Act::MemberWorkspaces { .. } => self.workspace_step(step, &op.act, now)?,
            // Answered by `authorize::expect`; it changes nothing.
            Act::Authorize { .. } | Act::Advance { .. } => Outcome::Local,
            Act::SesEvent { inv, kind, stale } => Outcome::Moved(self.ses_event(*inv, *kind, *stale)),
            Act::ReportUsage { org, records } => self.report_usage(*org, records, now)?,
            Act::ReadUsage { by, org, only, metric, by_day, days } => {
                self.admin(*org, *by)?;
                let to = now.div_euclid(DAY_MS);
                let from = to - (days - 1);
                let mut sums: BTreeMap<UsageKey, i64> = BTreeMap::new();
                for ((o, user, m, day), total) in &self.usage {
                    if o == org && m == metric && (from..=to).contains(day) && only.is_none_or(|u| u == *user)
                    {
                        let key = if *by_day { UsageKey::Day(*day) } else { UsageKey::Member(*user) };
                        *sums.entry(key).or_default() += total;
                    }
                }
                Outcome::UsageTotals { rows: sums.into_iter().collect(), from, to }
            }
            Act::LiftPause { org } => {
                let o = self.orgs.get_mut(org).ok_or(err(404, "not_found"))?;
                (o.paused, o.bounces, o.complaints) = (false, 0, 0);
                Outcome::NoContent
            }
            Act::Sweep => {
                self.sweep(now);
                Outcome::Local
            }
        })
    }

    /// A usage report, record by record in order: invalid (a bad metric, `at` more than 7
    /// days ago or in the future), not a member (active or suspended are), an id counted in
    /// the last 7 days (or earlier in the request), else counted on its member's, metric's
    /// and day's total.
    fn report_usage(&mut self, org: Ref, records: &[super::ops::UsageRec], now: i64) -> Check<Outcome> {
        let members: BTreeSet<UserIx> =
            self.orgs.get(&org).ok_or(err(404, "not_found"))?.members.keys().copied().collect();
        let mut results = Vec::with_capacity(records.len());
        for r in records {
            let age = r.age_minutes * 60_000;
            let status = if r.bad_metric || !(0..=USAGE_WINDOW_MS).contains(&age) {
                "invalid"
            } else if !members.contains(&r.user) {
                "not_member"
            } else if self.usage_ids.get(&(org, r.id)).is_some_and(|seen| now < seen + USAGE_WINDOW_MS) {
                "duplicate"
            } else {
                self.usage_ids.insert((org, r.id), now);
                let day = (now - age).div_euclid(DAY_MS);
                *self.usage.entry((org, r.user, r.metric, day)).or_default() += r.hundredths;
                "recorded"
            };
            results.push(status);
        }
        Ok(Outcome::UsageResults(results))
    }

    fn create_org(&mut self, step: u32, by: UserIx, name: &str) -> Check<Outcome> {
        let trimmed = valid_name(name).ok_or(err(400, "invalid_request"))?;
        if self.cfg.one_org_per_user && self.in_any_org(by) {
            return Err(err(409, "already_in_org"));
        }
        let id = Ref { step, n: 0 };
        let email = self.users[by].verified_email();
        let mut org = Org {
            name: trimmed,
            metadata: 0,
            members: BTreeMap::new(),
            workspaces: BTreeMap::new(),
            groups: BTreeMap::new(),
            roles: BTreeMap::new(),
            paused: false,
            bounces: 0,
            complaints: 0,
            personal: false,
        };
        let owner = self.joining(Role::Owner, email, None, 0);
        org.members.insert(by, owner);
        self.orgs.insert(id, org);
        Ok(Outcome::OrgCreated(id))
    }

    /// Cognito's post-confirmation trigger (the deployment creates organizations on
    /// sign-up): "{name}'s organization", personal, for a user's first confirmed sign-up,
    /// when their verified address has no pending invitation and (one organization per user)
    /// they belong to none; nothing otherwise.
    fn confirm_sign_up(&mut self, step: u32, by: UserIx, reset: bool, now: i64) -> Option<Ref> {
        if reset || self.signed_up.contains(&by) {
            return None;
        }
        let email = self.users[by].verified_email();
        let invited = email.as_ref().is_some_and(|e| {
            self.invitations.values().any(|i| &i.email == e && i.expires_at > now && !i.declined)
        });
        // Decided once: a sign-up that made none is recorded too, so that a redelivery after
        // they accepted (or left) makes none either.
        self.signed_up.insert(by);
        if invited || (self.cfg.one_org_per_user && self.in_any_org(by)) {
            return None;
        }
        let id = Ref { step, n: 0 };
        let owner = self.joining(Role::Owner, email, None, 0);
        let name = format!("{}'s organization", self.users[by].name);
        self.orgs.insert(
            id,
            Org {
                name,
                metadata: 0,
                members: BTreeMap::from([(by, owner)]),
                workspaces: BTreeMap::new(),
                groups: BTreeMap::new(),
                roles: BTreeMap::new(),
                paused: false,
                bounces: 0,
                complaints: 0,
                personal: true,
            },
        );
        self.sign_up_orgs.insert(by, id);
        Some(id)
    }

    /// With one organization per user, the organization an accept by `by` replaces: their
    /// one (live) organization, if it is personal and they are its only member.
    fn replaceable(&self, by: UserIx) -> Option<Ref> {
        let (id, org) = self.orgs.iter().find(|(_, o)| o.members.contains_key(&by))?;
        let theirs = self.sign_up_orgs.get(&by) == Some(id);
        (org.personal && org.members.len() == 1 && theirs).then_some(*id)
    }

    /// What SES's event does: it moves the current send only, and only forward (API.md
    /// "Email delivery"): `sent` after `queued`; `delivered` after those; a bounce after any
    /// of those three; a complaint after a bounce too; `failed` ends a send. A hard bounce or
    /// a complaint that moves counts against the organization: past 5% of 200 emails (11
    /// hard bounces) or 0.1% (one complaint) its invitation emails pause.
    fn ses_event(&mut self, inv: Ref, kind: SesKind, stale: bool) -> bool {
        let Some(i) = self.invitations.get_mut(&inv) else { return false };
        if stale {
            // An event of the send before this one (there is none before the first).
            return false;
        }
        let (to, reason, counts) = match kind {
            SesKind::Send => ("sent", None, None),
            SesKind::Delivery => ("delivered", None, None),
            SesKind::Bounce => ("bounced", Some("permanent"), Some(false)),
            SesKind::TransientBounce => ("bounced", Some("transient"), None),
            SesKind::Suppressed => ("failed", Some("suppressed"), None),
            SesKind::Complaint => ("complained", None, Some(true)),
            SesKind::Reject => ("failed", Some("rejected"), None),
        };
        let after: &[&str] = match to {
            "sent" => &["queued"],
            "delivered" => &["queued", "sent"],
            "bounced" | "failed" => &["queued", "sent", "delivered"],
            _ => &["queued", "sent", "delivered", "bounced"],
        };
        // Only an email handed to SES is reported on: the model's sends are all handed over
        // once drained, but one the queue refused never was.
        if !i.delivered || !after.contains(&i.delivery) {
            return false;
        }
        (i.delivery, i.reason) = (to, reason);
        let org = i.org;
        if let Some(complaint) = counts {
            let o = self.orgs.get_mut(&org).expect("an invitation's organization");
            if complaint {
                o.complaints += 1;
            } else {
                o.bounces += 1;
            }
            if o.complaints >= 1 || o.bounces >= 11 {
                o.paused = true;
            }
        }
        true
    }

    fn invite(
        &mut self,
        step: u32,
        org: Ref,
        (me, my_role): (UserIx, Role),
        (entries, metadata): (&[(Addr, Option<Role>)], Meta),
        (expires_at, now): (i64, i64),
        ses_down: bool,
    ) -> Check<Outcome> {
        let mut seen = BTreeSet::new();
        let mut results: Vec<InviteItem> = Vec::new();
        // (result index, address, role) of the addresses that may be invited.
        let mut candidates = Vec::new();
        for (addr, role) in entries {
            let key = self.pool.render(*addr).trim().to_lowercase();
            if !seen.insert(key.clone()) {
                continue;
            }
            let role = role.unwrap_or(Role::Member);
            let status = if !valid_address(&key) {
                "invalid_email"
            } else if !my_role.can_act_on(role) {
                "forbidden_role"
            } else {
                candidates.push((results.len(), key.clone(), role));
                "invited"
            };
            results.push(InviteItem { email: key, status, invitation: None });
        }
        let takes_seat = |address: &String| match self.address_state(org, address) {
            AddressState::Free => true,
            AddressState::Member => false,
            AddressState::Invitation(_, expires_at) => expires_at <= now,
        };
        if let Some(max) = self.cfg.max_members {
            let new = candidates.iter().filter(|(_, a, _)| takes_seat(a)).count() as u32;
            if new > max.saturating_sub(self.seats_used(org, now)) {
                return Err(err(409, "seat_limit"));
            }
        }
        for (index, address, role) in candidates {
            match self.address_state(org, &address) {
                AddressState::Member => {
                    results[index].status = "already_member";
                    continue;
                }
                AddressState::Invitation(_, expires_at) if expires_at > now => {
                    results[index].status = "already_invited";
                    continue;
                }
                // An expired invitation for the same address is replaced.
                AddressState::Invitation(old, _) => self.drop_invitation(old),
                AddressState::Free => {}
            }
            let r = Ref { step, n: index as u32 };
            let voucher = self.voucher(org, me);
            self.tokens.insert(r, Token { target: TokenFor::Invitation(r), delivered: !ses_down });
            self.invitations.insert(
                r,
                Invitation {
                    org,
                    email: address.clone(),
                    role,
                    invited_by: me,
                    sender: me,
                    expires_at,
                    delivered: !ses_down,
                    delivery: Self::queued(ses_down).0,
                    reason: Self::queued(ses_down).1,
                    send: 0,
                    token: r,
                    metadata,
                    voucher,
                    declined: false,
                },
            );
            results[index].status = if ses_down { "email_failed" } else { "invited" };
            results[index].invitation = Some(r);
            // Its first invitation ends a personal organization's being personal.
            self.orgs.get_mut(&org).expect("org").personal = false;
        }
        Ok(Outcome::Invited(results))
    }

    /// A token that may be previewed or accepted now: found, unexpired, not used up.
    fn usable(&self, token: TokArg, now: i64) -> Check<(Ref, TokenFor)> {
        let TokArg::Issued(token) = token else { return Err(err(404, "invitation_not_found")) };
        let target = self.live_token(token).ok_or(err(404, "invitation_not_found"))?;
        let (expires_at, exhausted) = match target {
            TokenFor::Invitation(i) => (self.invitations[&i].expires_at, false),
            TokenFor::Link(l) => {
                let l = &self.links[&l];
                (l.expires_at, l.max_uses.is_some_and(|m| l.uses >= m))
            }
        };
        if expires_at <= now {
            return Err(err(410, "invitation_expired"));
        }
        if exhausted {
            return Err(err(410, "invitation_exhausted"));
        }
        Ok((token, target))
    }

    fn accept(&mut self, by: UserIx, token: TokArg, now: i64) -> Check<Outcome> {
        // A member gets their membership, whatever the state of a token that exists.
        if let TokArg::Issued(t) = token {
            if let Some(org) = self.preview(t, now).map(|p| p.org) {
                if let Some(existing) = self.member(org, by) {
                    if existing.status == Status::Suspended {
                        return Err(err(403, "suspended"));
                    }
                    return Ok(Outcome::Joined { org, user: by });
                }
            }
        }
        let (token_ref, target) = self.usable(token, now)?;
        let org = self.org_of_token(target);
        let verified = self.users[by].verified_email();
        if let TokenFor::Invitation(i) = target {
            if verified.as_deref() != Some(self.invitations[&i].email.as_str()) {
                return Err(err(403, "email_mismatch"));
            }
        }
        // README "Address slots": joining by link while an invitation to one's verified
        // address is live consumes it; a pending one already holds the joiner's seat.
        let taken_over = match (target, &verified) {
            (TokenFor::Link(_), Some(v)) => self
                .invitations
                .iter()
                .find(|(_, i)| i.org == org && &i.email == v && !i.declined)
                .map(|(r, i)| (*r, i.expires_at > now)),
            _ => None,
        };
        let holds_seat =
            matches!(target, TokenFor::Invitation(_)) || taken_over.is_some_and(|(_, pending)| pending);
        if let (false, Some(max)) = (holds_seat, self.cfg.max_members) {
            if self.seats_used(org, now) + 1 > max {
                return Err(err(409, "seat_limit"));
            }
        }
        // Whoever made or last resent it must still vouch for it (checked in the join's
        // transaction, before the one-org lock).
        let (org_of, role, voucher) = match target {
            TokenFor::Invitation(i) => (org, self.invitations[&i].role, self.invitations[&i].voucher),
            TokenFor::Link(l) => (org, self.links[&l].role, self.links[&l].voucher),
        };
        if self.revoked(org_of, voucher, role).is_some() {
            return Err(err(404, "invitation_not_found"));
        }
        // With one organization per user, a personal organization of theirs alone is
        // replaced (deleted as this join is written); any other keeps them out.
        let mut replaced = None;
        if self.cfg.one_org_per_user && self.in_any_org(by) {
            replaced = Some(self.replaceable(by).ok_or(err(409, "already_in_org"))?);
        }
        let (role, sender, metadata) = match target {
            TokenFor::Invitation(i) => {
                // Used, and readable as accepted until it expires.
                let inv = self.invitations.remove(&i).expect("live");
                let used = (inv.role, inv.sender, inv.metadata);
                self.accepted.insert(token_ref, inv);
                used
            }
            TokenFor::Link(l) => {
                if let Some((inv, _)) = taken_over {
                    self.drop_invitation(inv);
                }
                let link = self.links.get_mut(&l).expect("live");
                link.uses += 1;
                (link.role, link.created_by, 0)
            }
        };
        let member = self.joining(role, verified, Some(sender), metadata);
        self.orgs.get_mut(&org).expect("org").members.insert(by, member);
        if let Some(personal) = replaced {
            // Deleted: nothing of it was anyone else's. Its member's lock moved with the join,
            // so the purge has none of it to wait for.
            self.orgs.remove(&personal);
            self.deleted.insert(personal, (now, BTreeSet::new()));
            self.replaced += 1;
        }
        Ok(Outcome::Joined { org, user: by })
    }

    fn change(
        &mut self,
        org: Ref,
        (me, actor): (UserIx, &Member),
        target: Target,
        (role, custom, status, metadata): (
            Option<Role>,
            Option<Option<CustomIx>>,
            Option<Status>,
            Option<Meta>,
        ),
        now: i64,
    ) -> Check<Outcome> {
        let (t, before) =
            target.and_then(|t| self.member(org, t).map(|m| (t, m.clone()))).ok_or(err(404, "not_found"))?;
        let (role, status) = (role.unwrap_or(before.role), status.unwrap_or(before.status));
        let custom = custom.unwrap_or(before.custom);
        let metadata = metadata.unwrap_or(before.metadata);
        let same_role = role == before.role && custom == before.custom;
        let unchanged = same_role && status == before.status && metadata == before.metadata;
        if t == me {
            // Role and status: only an owner stepping down; metadata: only an owner.
            let stepping_down = actor.role == Role::Owner && status == before.status;
            let same_standing = same_role && status == before.status;
            if !(stepping_down || same_standing) || (metadata != before.metadata && actor.role != Role::Owner)
            {
                return Err(err(403, "forbidden"));
            }
        } else if !actor.role.can_act_on(before.role) || (role != before.role && !actor.role.can_act_on(role))
        {
            return Err(err(403, "forbidden"));
        }
        if unchanged {
            return Ok(Outcome::Member { org, user: t });
        }
        let reactivating = before.status == Status::Suspended && status == Status::Active;
        if let (true, Some(max)) = (reactivating, self.cfg.max_members) {
            if self.seats_used(org, now) + 1 > max {
                return Err(err(409, "seat_limit"));
            }
        }
        let mut after = Member { role, custom, status, metadata, ..before.clone() };
        // A loss of trust raises the standing: a suspension, or a lower role.
        let lost = if status == Status::Suspended && before.status != Status::Suspended {
            Some("creator_suspended")
        } else if role < before.role {
            Some("creator_demoted")
        } else {
            None
        };
        if lost.is_some() {
            after.standing += 1;
            after.standing_reason = lost;
        }
        if before.active_owner() && !after.active_owner() && self.active_owners(org) == 1 {
            return Err(err(409, "last_owner"));
        }
        self.orgs.get_mut(&org).expect("org").members.insert(t, after);
        Ok(Outcome::Member { org, user: t })
    }
}

/// Workspaces and groups (API.md "Workspaces and groups", and the README's "Authorization
/// before input"), written from the contract:
///
/// - access: organization owners and admins are `admin` of every workspace (`org_role`); a
///   direct membership gives its role, or the organization role's when `null` (`direct`);
///   each live group one belongs to gives its grant's role (`group:{id}`); the effective
///   role is the highest, `via` every source. Only an active member has any; a membership
///   of another joining (removed, invited again) counts for nothing.
/// - a workspace one has no access to does not exist for one (`404`), as an organization
///   does not for a non-member;
/// - a route's role before its input: creating workspaces and groups, deleting workspaces,
///   granting and managing groups are for organization admins and owners; renaming a
///   workspace and managing its direct members for its admins too, who manage only members
///   whose organization role is `member` or `viewer`, and never their own access;
/// - the thing a path names is looked up before the rank rules on it (as for members).
impl Model {
    /// A membership of `org` that is `user`'s current joining `generation`.
    fn current(&self, org: Ref, user: UserIx, generation: u32) -> bool {
        self.member(org, user).is_some_and(|m| m.generation == generation)
    }

    /// `user`'s effective access to workspace `ws` of `org`, if any.
    pub fn access(&self, org: Ref, ws: Ref, user: UserIx) -> Option<Access> {
        let o = self.orgs.get(&org)?;
        let w = o.workspaces.get(&ws)?;
        let m = o.members.get(&user)?;
        if m.status != Status::Active {
            return None;
        }
        let mut sources: Vec<(WsRole, Via)> = Vec::new();
        if m.role.administers() {
            sources.push((WsRole::Admin, Via::OrgRole));
        }
        if let Some(d) = w.direct.get(&user).filter(|d| d.generation == m.generation) {
            sources.push((d.role.unwrap_or(WsRole::of_org(m.role)), Via::Direct));
        }
        for (g, role) in &w.grants {
            if o.groups.get(g).is_some_and(|group| group.members.get(&user) == Some(&m.generation)) {
                sources.push((*role, Via::Group(*g)));
            }
        }
        let role = sources.iter().map(|(r, _)| *r).max()?;
        Some(Access { role, via: sources.into_iter().map(|(_, v)| v).collect() })
    }

    /// Every workspace of `org` that `user` has access to.
    pub fn accessible(&self, org: Ref, user: UserIx) -> BTreeMap<Ref, Access> {
        let Some(o) = self.orgs.get(&org) else { return BTreeMap::new() };
        o.workspaces.keys().filter_map(|ws| self.access(org, *ws, user).map(|a| (*ws, a))).collect()
    }

    /// The direct members of a workspace (of their current joining), in user order.
    pub fn ws_members(&self, org: Ref, ws: Ref) -> Vec<(UserIx, Direct)> {
        let w = &self.orgs[&org].workspaces[&ws];
        w.direct.iter().filter(|(u, d)| self.current(org, **u, d.generation)).map(|(u, d)| (*u, *d)).collect()
    }

    pub fn group_members(&self, org: Ref, group: Ref) -> Vec<UserIx> {
        let g = &self.orgs[&org].groups[&group];
        g.members
            .iter()
            .filter(|(u, generation)| self.current(org, **u, **generation))
            .map(|(u, _)| *u)
            .collect()
    }

    /// The `memberCount` a workspace (`Ok`) or a group (`Err`) may show: its members, and at
    /// most as many more as memberships left behind by removed members that may not have
    /// been cleared yet.
    pub fn count_range(&self, org: Ref, of: Result<Ref, Ref>) -> (usize, usize) {
        let o = &self.orgs[&org];
        let generations: Vec<(UserIx, u32)> = match of {
            Ok(ws) => o.workspaces[&ws].direct.iter().map(|(u, d)| (*u, d.generation)).collect(),
            Err(g) => o.groups[&g].members.iter().map(|(u, generation)| (*u, *generation)).collect(),
        };
        let live = generations.iter().filter(|(u, generation)| self.current(org, *u, *generation)).count();
        (live, generations.len())
    }

    /// The background clean-up of removal, as the purge runs it: the memberships of each
    /// joining that ended at least [`PURGE_GRACE_MS`] ago go.
    fn clear_stale(&mut self, now: i64) {
        let due: BTreeSet<(Ref, UserIx, u32)> =
            self.departed.iter().filter(|(_, at)| **at + PURGE_GRACE_MS <= now).map(|(k, _)| *k).collect();
        self.departed.retain(|k, _| !due.contains(k));
        for (r, o) in &mut self.orgs {
            for w in o.workspaces.values_mut() {
                w.direct.retain(|u, d| !due.contains(&(*r, *u, d.generation)));
            }
            for g in o.groups.values_mut() {
                g.members.retain(|u, generation| !due.contains(&(*r, *u, *generation)));
            }
        }
    }

    /// The workspace as `me` sees it: `404` when it does not exist or they have no access.
    fn seen_ws(&self, org: Ref, ws: Ref, me: UserIx) -> Check<Access> {
        self.access(org, ws, me).ok_or(err(404, "not_found"))
    }

    fn group_exists(&self, org: Ref, group: Ref) -> Check<()> {
        self.orgs[&org].groups.contains_key(&group).then_some(()).ok_or(err(404, "not_found"))
    }

    fn workspace_step(&mut self, step: u32, act: &Act, now: i64) -> Check<Outcome> {
        let forbidden = || err(403, "forbidden");
        Ok(match act {
            Act::CreateWorkspace { by, org, name, metadata } => {
                let (me, actor) = self.active(*org, *by)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let name = valid_name(name).ok_or(err(400, "invalid_request"))?;
                let ws = Ref { step, n: 0 };
                let w = Workspace {
                    name,
                    metadata: *metadata,
                    direct: BTreeMap::new(),
                    grants: BTreeMap::new(),
                    lingering: BTreeSet::new(),
                };
                self.orgs.get_mut(org).expect("org").workspaces.insert(ws, w);
                Outcome::WorkspaceCreated { org: *org, ws, user: me }
            }
            Act::GetWorkspace { by, org, ws } => {
                let (me, _) = self.active(*org, *by)?;
                self.seen_ws(*org, *ws, me)?;
                Outcome::WorkspaceView { org: *org, ws: *ws, user: me }
            }
            Act::UpdateWorkspace { by, org, ws, name, metadata, bad } => {
                let (me, _) = self.active(*org, *by)?;
                if self.seen_ws(*org, *ws, me)?.role != WsRole::Admin {
                    return Err(forbidden());
                }
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                let name = match name {
                    None => None,
                    Some(name) => Some(valid_name(name).ok_or(err(400, "invalid_request"))?),
                };
                let w = self.orgs.get_mut(org).expect("org").workspaces.get_mut(ws).expect("seen");
                if let Some(name) = name {
                    w.name = name;
                }
                if let Some(metadata) = metadata {
                    w.metadata = *metadata;
                }
                Outcome::WorkspaceView { org: *org, ws: *ws, user: me }
            }
            Act::DeleteWorkspace { by, org, ws } => {
                let (me, actor) = self.active(*org, *by)?;
                self.seen_ws(*org, *ws, me)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                self.orgs.get_mut(org).expect("org").workspaces.remove(ws);
                Outcome::NoContent
            }
            Act::ListWorkspaces { by, org, .. } => {
                let (me, _) = self.active(*org, *by)?;
                Outcome::Workspaces { org: *org, user: me }
            }
            Act::ListWsMembers { by, org, ws, bad, .. } => {
                let (me, _) = self.active(*org, *by)?;
                self.seen_ws(*org, *ws, me)?;
                if let Some(bad) = bad {
                    return Err(bad_input(*bad));
                }
                Outcome::WsMembers { org: *org, ws: *ws }
            }
            Act::PutWsMember { by, org, ws, target, role, bad } => {
                let (me, actor) = self.active(*org, *by)?;
                let mine = self.seen_ws(*org, *ws, me)?;
                let ws_admin = mine.role == WsRole::Admin;
                // The route's role (the workspace's admins) before a malformed body (README
                // "Authorization before input"); the member the path names before the rank
                // rules on them (as for removals).
                if let Some(bad) = bad {
                    if !ws_admin {
                        return Err(forbidden());
                    }
                    return Err(match bad {
                        Bad::Role => err(400, "invalid_request"),
                        other => bad_input(*other),
                    });
                }
                let (t, member) = target
                    .and_then(|t| self.member(*org, t).map(|m| (t, m.clone())))
                    .ok_or(err(404, "not_found"))?;
                if !actor.role.administers() && (!ws_admin || member.role.administers() || t == me) {
                    return Err(forbidden());
                }
                let w = self.orgs.get_mut(org).expect("org").workspaces.get_mut(ws).expect("seen");
                let now = Direct { role: *role, generation: member.generation };
                let created = w.direct.get(&t).is_none_or(|d| d.generation != member.generation);
                w.direct.insert(t, now);
                Outcome::WsMember { org: *org, ws: *ws, user: t, created }
            }
            Act::RemoveWsMember { by, org, ws, target } => {
                let (me, actor) = self.active(*org, *by)?;
                let mine = self.seen_ws(*org, *ws, me)?;
                let t = target.ok_or(err(404, "not_found"))?;
                let direct = self.orgs[org].workspaces[ws].direct.get(&t).copied();
                let member = self.member(*org, t).cloned();
                let current =
                    direct.is_some_and(|d| member.as_ref().is_some_and(|m| m.generation == d.generation));
                if direct.is_none() {
                    return Err(err(404, "not_found"));
                }
                // A membership left by an earlier joining is no member of the workspace, until
                // the purge clears it; the organization's admins may clear it themselves.
                // Whether anyone else sees it, API.md leaves open: 403 or 404, nothing changes.
                if !current && !actor.role.administers() {
                    return Err(Outcome::Either(Box::new(forbidden()), Box::new(err(404, "not_found"))));
                }
                if !actor.role.administers() {
                    let member = member.expect("current");
                    if mine.role != WsRole::Admin || member.role.administers() || t == me {
                        return Err(forbidden());
                    }
                }
                self.orgs.get_mut(org).expect("org").workspaces.get_mut(ws).expect("seen").direct.remove(&t);
                Outcome::NoContent
            }
            Act::Grant { by, org, ws, group, role, bad } => {
                let (me, actor) = self.active(*org, *by)?;
                self.seen_ws(*org, *ws, me)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                if let Some(bad) = bad {
                    return Err(match bad {
                        Bad::Role => err(400, "invalid_request"),
                        other => bad_input(*other),
                    });
                }
                self.group_exists(*org, *group)?;
                let w = self.orgs.get_mut(org).expect("org").workspaces.get_mut(ws).expect("seen");
                let created = w.grants.insert(*group, *role).is_none();
                Outcome::Granted { ws: *ws, group: *group, role: *role, created }
            }
            Act::Revoke { by, org, ws, group } => {
                let (me, actor) = self.active(*org, *by)?;
                self.seen_ws(*org, *ws, me)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let w = self.orgs.get_mut(org).expect("org").workspaces.get_mut(ws).expect("seen");
                if w.lingering.remove(group) {
                    // A deleted group's grant grants nothing, but stays until the purge: that
                    // it may be revoked meanwhile, API.md leaves open. Gone either way.
                    return Err(Outcome::Either(
                        Box::new(Outcome::NoContent),
                        Box::new(err(404, "not_found")),
                    ));
                }
                w.grants.remove(group).ok_or(err(404, "not_found"))?;
                Outcome::NoContent
            }
            Act::CreateGroup { by, org, name } => {
                let (_, actor) = self.active(*org, *by)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let name = valid_name(name).ok_or(err(400, "invalid_request"))?;
                let group = Ref { step, n: 0 };
                self.orgs
                    .get_mut(org)
                    .expect("org")
                    .groups
                    .insert(group, Group { name, members: BTreeMap::new() });
                Outcome::GroupView { org: *org, group, created: true }
            }
            Act::RenameGroup { by, org, group, name } => {
                let (_, actor) = self.active(*org, *by)?;
                self.group_exists(*org, *group)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let name = valid_name(name).ok_or(err(400, "invalid_request"))?;
                self.orgs.get_mut(org).expect("org").groups.get_mut(group).expect("exists").name = name;
                Outcome::GroupView { org: *org, group: *group, created: false }
            }
            Act::DeleteGroup { by, org, group } => {
                let (_, actor) = self.active(*org, *by)?;
                self.group_exists(*org, *group)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let o = self.orgs.get_mut(org).expect("org");
                o.groups.remove(group);
                for w in o.workspaces.values_mut() {
                    if w.grants.remove(group).is_some() {
                        w.lingering.insert(*group);
                    }
                }
                self.deleted_groups.insert((*org, *group), now);
                Outcome::NoContent
            }
            Act::PutGroupMember { by, org, group, target } => {
                let (_, actor) = self.active(*org, *by)?;
                self.group_exists(*org, *group)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let (t, generation) = target
                    .and_then(|t| self.member(*org, t).map(|m| (t, m.generation)))
                    .ok_or(err(404, "not_found"))?;
                let g = self.orgs.get_mut(org).expect("org").groups.get_mut(group).expect("exists");
                let created = g.members.insert(t, generation) != Some(generation);
                Outcome::GroupMember { org: *org, group: *group, user: t, created }
            }
            Act::RemoveGroupMember { by, org, group, target } => {
                let (_, actor) = self.active(*org, *by)?;
                self.group_exists(*org, *group)?;
                if !actor.role.administers() {
                    return Err(forbidden());
                }
                let t = target.ok_or(err(404, "not_found"))?;
                let g = self.orgs.get_mut(org).expect("org").groups.get_mut(group).expect("exists");
                // A place left by an earlier joining is cleared too (only admins get here).
                g.members.remove(&t).ok_or(err(404, "not_found"))?;
                Outcome::NoContent
            }
            Act::ListGroupMembers { by, org, group, .. } => {
                self.active(*org, *by)?;
                self.group_exists(*org, *group)?;
                Outcome::GroupMembers { org: *org, group: *group }
            }
            Act::MemberWorkspaces { by, org, target } => {
                let (me, actor) = self.active(*org, *by)?;
                if *target != Some(me) && !actor.role.administers() {
                    return Err(forbidden());
                }
                let t = target.filter(|t| self.member(*org, *t).is_some()).ok_or(err(404, "not_found"))?;
                Outcome::MemberWorkspaces { org: *org, user: t }
            }
            _ => unreachable!("not a workspace step"),
        })
    }
}

mod accounts;
