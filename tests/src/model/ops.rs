//! The steps of a model-based run, in terms that survive shrinking: users by index, and
//! everything the server creates by the step that created it ([`Ref`]), never by server id.

use std::fmt;

/// A user of the run's world, by index.
pub type UserIx = usize;

/// Something created by step `step` (its `n`-th creation): an organization, an invitation,
/// a link or a token. Stable when other steps are deleted while shrinking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    pub step: u32,
    pub n: u32,
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.n == 0 { write!(f, "@{}", self.step) } else { write!(f, "@{}.{}", self.step, self.n) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn administers(self) -> bool {
        self >= Role::Admin
    }

    /// API.md: an admin acts on (and grants) member and viewer; an owner on anyone.
    pub fn can_act_on(self, target: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => target <= Role::Member,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Active,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }
}

/// A role inside a workspace (API.md "Workspaces and groups"): `admin` > `member` > `viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WsRole {
    Viewer,
    Member,
    Admin,
}

impl WsRole {
    pub const ALL: [WsRole; 3] = [WsRole::Admin, WsRole::Member, WsRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            WsRole::Admin => "admin",
            WsRole::Member => "member",
            WsRole::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<WsRole> {
        WsRole::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// What an organization role counts as in a workspace: owners and admins are `admin`.
    pub fn of_org(role: Role) -> WsRole {
        match role {
            Role::Owner | Role::Admin => WsRole::Admin,
            Role::Member => WsRole::Member,
            Role::Viewer => WsRole::Viewer,
        }
    }
}

/// The custom roles a run may create in each organization (API.md "Roles and permissions"),
/// by index: two keys, so that a run meets both one role and two.
pub const CUSTOM_KEYS: [&str; 2] = ["crew", "auditor"];

/// A custom role by its index in [`CUSTOM_KEYS`].
pub type CustomIx = u8;

/// Metadata by number: 0 is none (`{}`), the others distinct objects (one with an empty key
/// and nested values, which a DynamoDB map could not hold as is).
pub type Meta = u8;

pub const METAS: Meta = 4;

pub fn meta_json(meta: Meta) -> serde_json::Value {
    use serde_json::json;
    match meta {
        0 => json!({}),
        1 => json!({ "plan": "pro" }),
        2 => json!({ "projects": ["apollo", "gemini"], "seat": 3 }),
        _ => json!({ "": null, "nested": { "a": [1, 2.5, true], "b": "ü" } }),
    }
}

/// A token as a step names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokArg {
    /// The token issued by a step (mailed, or in a link's creation response).
    Issued(Ref),
    /// Something Roster never issued.
    Garbage,
}

/// Malformed input, one kind per request (so the expected error does not depend on the
/// order in which the handler reads its input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// Not JSON at all: `400 invalid_json`.
    Json,
    /// A body declared as text/plain: `415`.
    MediaType,
    /// An empty `invitations` / `userIds` list: `400 invalid_request`.
    Empty,
    /// `expiresInHours` out of 1–720: `400 invalid_request`.
    Hours(i64),
    /// `maxUses` out of 1–100000: `400 invalid_request`.
    MaxUses(i64),
    /// A role that does not exist (`root`): `400 invalid_role`.
    Role,
    /// A status that does not exist: `400 invalid_request`.
    Status,
    /// `limit` out of 1–100 or not a number: `400 invalid_request`.
    Limit(&'static str),
    /// A cursor Roster never issued: `400 invalid_cursor`.
    Cursor,
    /// Metadata that is not an object, or has more than 32 keys: `400 invalid_request`.
    Metadata,
}

/// An address of an invite entry, by its place in the run's [`Pool`](super::generate::Pool):
/// a valid one written in one of several ways, or an invalid one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    /// `variant`: 0 as is, 1 upper case, 2 padded with spaces, 3 capitalised.
    Valid {
        index: usize,
        variant: u8,
    },
    Invalid(usize),
}

/// The `triggerSource` of a sign-up step (Cognito's pre-sign-up trigger).
/// What SES reports of an email (tests/fixtures/ses-events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SesKind {
    Send,
    Delivery,
    Bounce,
    TransientBounce,
    Suppressed,
    Complaint,
    Reject,
}

impl SesKind {
    pub const ALL: [SesKind; 7] = [
        SesKind::Send,
        SesKind::Delivery,
        SesKind::Bounce,
        SesKind::TransientBounce,
        SesKind::Suppressed,
        SesKind::Complaint,
        SesKind::Reject,
    ];

    pub fn fixture(self) -> &'static str {
        match self {
            SesKind::Send => "send",
            SesKind::Delivery => "delivery",
            SesKind::Bounce => "bounce-permanent",
            SesKind::TransientBounce => "bounce-transient",
            SesKind::Suppressed => "bounce-suppressed",
            SesKind::Complaint => "complaint",
            SesKind::Reject => "reject",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpTrigger {
    SignUp,
    ExternalProvider,
    AdminCreateUser,
    /// A trigger source this trigger never gets (another trigger's, say).
    Other,
}

impl SignUpTrigger {
    pub fn source(self) -> &'static str {
        match self {
            SignUpTrigger::SignUp => "PreSignUp_SignUp",
            SignUpTrigger::ExternalProvider => "PreSignUp_ExternalProvider",
            SignUpTrigger::AdminCreateUser => "PreSignUp_AdminCreateUser",
            SignUpTrigger::Other => "PostConfirmation_ConfirmSignUp",
        }
    }
}

/// A member (by user index) or a user id no one has.
pub type Target = Option<UserIx>;

#[derive(Debug, Clone)]
pub enum Act {
    CreateOrg {
        by: UserIx,
        name: String,
    },
    Invite {
        by: Option<UserIx>,
        org: Ref,
        entries: Vec<(Addr, Option<Role>)>,
        hours: Option<i64>,
        /// Every entry of the batch carries this metadata.
        metadata: Meta,
        ses_down: bool,
        bad: Option<Bad>,
    },
    Resend {
        by: Option<UserIx>,
        org: Ref,
        inv: Ref,
        ses_down: bool,
    },
    RevokeInvitation {
        by: Option<UserIx>,
        org: Ref,
        inv: Ref,
    },
    CreateLink {
        by: Option<UserIx>,
        org: Ref,
        role: Option<Role>,
        hours: Option<i64>,
        max_uses: Option<i64>,
        bad: Option<Bad>,
    },
    RevokeLink {
        by: Option<UserIx>,
        org: Ref,
        link: Ref,
    },
    Preview {
        by: Option<UserIx>,
        token: TokArg,
    },
    Accept {
        by: Option<UserIx>,
        token: TokArg,
    },
    Decline {
        by: Option<UserIx>,
        token: TokArg,
    },
    Change {
        by: Option<UserIx>,
        org: Ref,
        target: Target,
        role: Option<Role>,
        status: Option<Status>,
        metadata: Option<Meta>,
        bad: Option<Bad>,
    },
    /// `PATCH /orgs/{orgId}`.
    UpdateOrg {
        by: Option<UserIx>,
        org: Ref,
        name: Option<String>,
        metadata: Option<Meta>,
        bad: Option<Bad>,
    },
    /// `DELETE /orgs/{orgId}`.
    DeleteOrg {
        by: Option<UserIx>,
        org: Ref,
    },
    Transfer {
        by: Option<UserIx>,
        org: Ref,
        target: Target,
        bad: Option<Bad>,
    },
    /// `DELETE /orgs/{orgId}/members/{userId}`; leaving when `by` is the target.
    Remove {
        by: Option<UserIx>,
        org: Ref,
        target: Target,
    },
    BulkRemove {
        by: Option<UserIx>,
        org: Ref,
        targets: Vec<Target>,
        bad: Option<Bad>,
    },
    GetOrg {
        by: Option<UserIx>,
        org: Ref,
    },
    GetMember {
        by: Option<UserIx>,
        org: Ref,
        target: Target,
    },
    ListMembers {
        by: Option<UserIx>,
        org: Ref,
        limit: u32,
        role: Option<Role>,
        status: Option<Status>,
        bad: Option<Bad>,
        /// Search, sort and order (API.md "Search and filters"); `None` each: the default.
        search: Search,
    },
    ListInvitations {
        by: Option<UserIx>,
        org: Ref,
        limit: u32,
        bad: Option<Bad>,
    },
    ListLinks {
        by: Option<UserIx>,
        org: Ref,
        limit: u32,
        bad: Option<Bad>,
    },
    MyOrgs {
        by: Option<UserIx>,
        limit: u32,
    },
    /// Cognito asks the pre-sign-up trigger whether someone may sign up with this address
    /// (`None`: the event carries no `email` attribute). Self sign-up is closed.
    SignUp {
        trigger: SignUpTrigger,
        addr: Option<Addr>,
        /// The event's `email_verified` attribute (`None`: absent).
        verified: Option<bool>,
    },
    /// Cognito's post-confirmation trigger for user `by` (their sub, address, name and
    /// `email_verified` as their claims have them): a confirmed sign-up, or a password
    /// reset's confirmation (`reset`). The deployment creates organizations on sign-up.
    ConfirmSignUp {
        by: UserIx,
        reset: bool,
    },
    /// `POST /orgs/{orgId}/workspaces`.
    CreateWorkspace {
        by: Option<UserIx>,
        org: Ref,
        name: String,
        metadata: Meta,
    },
    /// `PATCH /orgs/{orgId}/workspaces/{workspaceId}` (a rename, new metadata, or both).
    UpdateWorkspace {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
        name: Option<String>,
        metadata: Option<Meta>,
        bad: Option<Bad>,
    },
    DeleteWorkspace {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
    },
    GetWorkspace {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
    },
    ListWorkspaces {
        by: Option<UserIx>,
        org: Ref,
        limit: u32,
    },
    /// `PUT .../workspaces/{workspaceId}/members/{userId} {role}` (`None`: `null`, the
    /// organization role's).
    PutWsMember {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
        target: Target,
        role: Option<WsRole>,
        bad: Option<Bad>,
    },
    RemoveWsMember {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
        target: Target,
    },
    ListWsMembers {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
        limit: u32,
        bad: Option<Bad>,
    },
    /// `PUT .../workspaces/{workspaceId}/groups/{groupId} {role}`.
    Grant {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
        group: Ref,
        role: WsRole,
        bad: Option<Bad>,
    },
    Revoke {
        by: Option<UserIx>,
        org: Ref,
        ws: Ref,
        group: Ref,
    },
    CreateGroup {
        by: Option<UserIx>,
        org: Ref,
        name: String,
    },
    /// `PATCH /orgs/{orgId}/groups/{groupId} {name}`.
    RenameGroup {
        by: Option<UserIx>,
        org: Ref,
        group: Ref,
        name: String,
    },
    DeleteGroup {
        by: Option<UserIx>,
        org: Ref,
        group: Ref,
    },
    PutGroupMember {
        by: Option<UserIx>,
        org: Ref,
        group: Ref,
        target: Target,
    },
    RemoveGroupMember {
        by: Option<UserIx>,
        org: Ref,
        group: Ref,
        target: Target,
    },
    ListGroupMembers {
        by: Option<UserIx>,
        org: Ref,
        group: Ref,
        limit: u32,
    },
    /// `GET /orgs/{orgId}/members/{userId}/workspaces`.
    MemberWorkspaces {
        by: Option<UserIx>,
        org: Ref,
        target: Target,
    },
    /// SES reports on an invitation's email (its published JSON, fed to `email-events` as the
    /// default bus's rule would): of its current send, or of the send before (`stale`).
    SesEvent {
        inv: Ref,
        kind: SesKind,
        stale: bool,
    },
    /// `DELETE /orgs/{orgId}/email-pause`, by the deployment's operator (a `roster/admin`
    /// service).
    LiftPause {
        org: Ref,
    },
    /// `POST /orgs/{orgId}/members/accounts` (API.md "Accounts"): `addr` is a user's (who has
    /// an account, made in the user pool when the run starts) or one nobody signs in with (no
    /// account: drawn only where the request is refused, for the model cannot name the user an
    /// account would make); `weak`: a temporary password the pool's policy refuses.
    AddUser {
        by: Option<UserIx>,
        org: Ref,
        addr: Addr,
        role: Role,
        weak: bool,
    },
    /// `POST /orgs/{orgId}/usage`, by a service holding `roster/usage` (API.md "Usage per
    /// member").
    ReportUsage {
        org: Ref,
        records: Vec<UsageRec>,
    },
    /// `GET /orgs/{orgId}/usage?metric=&from=&to=&groupBy=[&userId=]`: the `days` days to
    /// today, of `only` when it names a user.
    ReadUsage {
        by: Option<UserIx>,
        org: Ref,
        only: Option<UserIx>,
        metric: usize,
        by_day: bool,
        days: i64,
    },
    /// `POST /authorize`: a batch of checks (`bad`: a batch refused whole, see
    /// `authorize::body`).
    Authorize {
        caller: super::authorize::Caller,
        checks: Vec<super::authorize::AuthCheck>,
        bad: Option<Bad>,
    },
    /// `POST /orgs/{orgId}/roles`: `perms` picks the host permissions, a bit each, in the
    /// catalog's key order (`authorize::Catalog::host_keys`).
    CreateRole {
        by: Option<UserIx>,
        org: Ref,
        key: CustomIx,
        base: Role,
        perms: u16,
    },
    /// `PATCH /orgs/{orgId}/roles/{key} {permissions}`.
    UpdateRole {
        by: Option<UserIx>,
        org: Ref,
        key: CustomIx,
        perms: u16,
    },
    DeleteRole {
        by: Option<UserIx>,
        org: Ref,
        key: CustomIx,
    },
    /// `PATCH /orgs/{orgId}/members/{userId} {role: <custom key>}`.
    AssignCustom {
        by: Option<UserIx>,
        org: Ref,
        target: Target,
        key: CustomIx,
    },
    /// Moves the app's clock forward.
    Advance {
        minutes: u32,
    },
    /// DynamoDB's TTL catches up: every item whose expiry has passed is deleted.
    Sweep,
}

/// One step: its id (the creation step of whatever it creates) and what it does.
#[derive(Debug, Clone)]
pub struct Op {
    pub id: u32,
    pub act: Act,
}

impl Act {
    /// The kind of step, to tell failures apart while shrinking.
    pub fn kind(&self) -> &'static str {
        match self {
            Act::CreateOrg { .. } => "create-org",
            Act::Invite { .. } => "invite",
            Act::Resend { .. } => "resend",
            Act::RevokeInvitation { .. } => "revoke-invitation",
            Act::CreateLink { .. } => "create-link",
            Act::RevokeLink { .. } => "revoke-link",
            Act::Preview { .. } => "preview",
            Act::Accept { .. } => "accept",
            Act::Decline { .. } => "decline",
            Act::Change { .. } => "change-role",
            Act::UpdateOrg { .. } => "update-org",
            Act::DeleteOrg { .. } => "delete-org",
            Act::Transfer { .. } => "transfer",
            Act::Remove { .. } => "remove",
            Act::BulkRemove { .. } => "bulk-remove",
            Act::GetOrg { .. } => "get-org",
            Act::GetMember { .. } => "get-member",
            Act::ListMembers { .. } => "list-members",
            Act::ListInvitations { .. } => "list-invitations",
            Act::ListLinks { .. } => "list-links",
            Act::MyOrgs { .. } => "my-orgs",
            Act::SignUp { .. } => "sign-up",
            Act::ConfirmSignUp { .. } => "confirm-sign-up",
            Act::CreateWorkspace { .. } => "create-workspace",
            Act::UpdateWorkspace { .. } => "update-workspace",
            Act::DeleteWorkspace { .. } => "delete-workspace",
            Act::GetWorkspace { .. } => "get-workspace",
            Act::ListWorkspaces { .. } => "list-workspaces",
            Act::PutWsMember { .. } => "put-workspace-member",
            Act::RemoveWsMember { .. } => "remove-workspace-member",
            Act::ListWsMembers { .. } => "list-workspace-members",
            Act::Grant { .. } => "grant-group",
            Act::Revoke { .. } => "revoke-group",
            Act::CreateGroup { .. } => "create-group",
            Act::RenameGroup { .. } => "rename-group",
            Act::DeleteGroup { .. } => "delete-group",
            Act::PutGroupMember { .. } => "put-group-member",
            Act::RemoveGroupMember { .. } => "remove-group-member",
            Act::ListGroupMembers { .. } => "list-group-members",
            Act::MemberWorkspaces { .. } => "member-workspaces",
            Act::Authorize { .. } => "authorize",
            Act::SesEvent { .. } => "ses-event",
            Act::LiftPause { .. } => "lift-email-pause",
            Act::AddUser { .. } => "add-user",
            Act::ReportUsage { .. } => "report-usage",
            Act::ReadUsage { .. } => "read-usage",
            Act::CreateRole { .. } => "create-role",
            Act::UpdateRole { .. } => "update-role",
            Act::DeleteRole { .. } => "delete-role",
            Act::AssignCustom { .. } => "assign-custom-role",
            Act::Advance { .. } => "advance",
            Act::Sweep => "ttl-sweep",
        }
    }
}

impl Act {
    /// Whether the step is one of the workspace and group routes (API.md "Workspaces and
    /// groups"), and the organization it names.
    pub fn workspace_org(&self) -> Option<Ref> {
        match self {
            Act::CreateWorkspace { org, .. }
            | Act::UpdateWorkspace { org, .. }
            | Act::DeleteWorkspace { org, .. }
            | Act::GetWorkspace { org, .. }
            | Act::ListWorkspaces { org, .. }
            | Act::PutWsMember { org, .. }
            | Act::RemoveWsMember { org, .. }
            | Act::ListWsMembers { org, .. }
            | Act::Grant { org, .. }
            | Act::Revoke { org, .. }
            | Act::CreateGroup { org, .. }
            | Act::RenameGroup { org, .. }
            | Act::DeleteGroup { org, .. }
            | Act::PutGroupMember { org, .. }
            | Act::RemoveGroupMember { org, .. }
            | Act::ListGroupMembers { org, .. }
            | Act::MemberWorkspaces { org, .. } => Some(*org),
            _ => None,
        }
    }
}

/// Renders steps with the users' names, for a failing case a person can replay by hand.
pub struct Show<'a> {
    pub op: &'a Op,
    pub names: &'a [String],
    pub pool: &'a super::generate::Pool,
}

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = |u: &Option<UserIx>| u.map_or("anonymous".to_owned(), |u| self.names[u].clone());
        let target = |t: &Target| t.map_or("nobody".to_owned(), |u| self.names[u].clone());
        let org = |o: &Ref| format!("org{o}");
        let bad = |b: &Option<Bad>| b.map_or(String::new(), |b| format!(" with bad input {b:?}"));
        let tok = |t: &TokArg| match t {
            TokArg::Issued(r) => format!("token{r}"),
            TokArg::Garbage => "a garbage token".to_owned(),
        };
        write!(f, "#{} ", self.op.id)?;
        match &self.op.act {
            Act::CreateOrg { by, name } => write!(f, "{} creates an org named {name:?}", self.names[*by]),
            Act::Invite { by, org: o, entries, hours, metadata, ses_down, bad: b } => {
                let list: Vec<String> = entries
                    .iter()
                    .map(|(a, r)| {
                        let e = self.pool.render(*a);
                        match r {
                            Some(r) => format!("{e:?} as {}", r.as_str()),
                            None => format!("{e:?}"),
                        }
                    })
                    .collect();
                write!(f, "{} invites into {} [{}]", who(by), org(o), list.join(", "))?;
                if let Some(h) = hours {
                    write!(f, " for {h}h")?;
                }
                if *metadata != 0 {
                    write!(f, " with metadata {}", meta_json(*metadata))?;
                }
                if *ses_down {
                    write!(f, " (SES unreachable)")?;
                }
                write!(f, "{}", bad(b))
            }
            Act::Resend { by, org: o, inv, ses_down } => write!(
                f,
                "{} resends invitation{inv} of {}{}",
                who(by),
                org(o),
                if *ses_down { " (SES unreachable)" } else { "" }
            ),
            Act::RevokeInvitation { by, org: o, inv } => {
                write!(f, "{} revokes invitation{inv} of {}", who(by), org(o))
            }
            Act::CreateLink { by, org: o, role, hours, max_uses, bad: b } => write!(
                f,
                "{} creates a link in {} role={} hours={hours:?} maxUses={max_uses:?}{}",
                who(by),
                org(o),
                role.map_or("default", Role::as_str),
                bad(b)
            ),
            Act::RevokeLink { by, org: o, link } => write!(f, "{} revokes link{link} of {}", who(by), org(o)),
            Act::Preview { by, token } => write!(f, "{} previews {}", who(by), tok(token)),
            Act::Accept { by, token } => write!(f, "{} accepts {}", who(by), tok(token)),
            Act::Decline { by, token } => write!(f, "{} declines {}", who(by), tok(token)),
            Act::Change { by, org: o, target: t, role, status, metadata, bad: b } => write!(
                f,
                "{} changes {} in {}: role={} status={} metadata={}{}",
                who(by),
                target(t),
                org(o),
                role.map_or("-", Role::as_str),
                status.map_or("-", Status::as_str),
                metadata.map_or("-".to_owned(), |m| meta_json(m).to_string()),
                bad(b)
            ),
            Act::UpdateOrg { by, org: o, name, metadata, bad: b } => write!(
                f,
                "{} updates {}: name={name:?} metadata={}{}",
                who(by),
                org(o),
                metadata.map_or("-".to_owned(), |m| meta_json(m).to_string()),
                bad(b)
            ),
            Act::Transfer { by, org: o, target: t, bad: b } => {
                write!(f, "{} transfers ownership of {} to {}{}", who(by), org(o), target(t), bad(b))
            }
            Act::Remove { by, org: o, target: t } if by.is_some() && *by == *t => {
                write!(f, "{} leaves {}", who(by), org(o))
            }
            Act::Remove { by, org: o, target: t } => {
                write!(f, "{} removes {} from {}", who(by), target(t), org(o))
            }
            Act::BulkRemove { by, org: o, targets, bad: b } => {
                let list: Vec<String> = targets.iter().map(target).collect();
                write!(f, "{} bulk-removes [{}] from {}{}", who(by), list.join(", "), org(o), bad(b))
            }
            Act::GetOrg { by, org: o } => write!(f, "{} reads {}", who(by), org(o)),
            Act::DeleteOrg { by, org: o } => write!(f, "{} deletes {}", who(by), org(o)),
            Act::GetMember { by, org: o, target: t } => {
                write!(f, "{} reads member {} of {}", who(by), target(t), org(o))
            }
            Act::ListMembers { by, org: o, limit, role, status, bad: b, search } => write!(
                f,
                "{} lists members of {} limit={limit} role={} status={}{search}{}",
                who(by),
                org(o),
                role.map_or("-", Role::as_str),
                status.map_or("-", Status::as_str),
                bad(b)
            ),
            Act::ListInvitations { by, org: o, limit, bad: b } => {
                write!(f, "{} lists invitations of {} limit={limit}{}", who(by), org(o), bad(b))
            }
            Act::ListLinks { by, org: o, limit, bad: b } => {
                write!(f, "{} lists links of {} limit={limit}{}", who(by), org(o), bad(b))
            }
            Act::MyOrgs { by, limit } => write!(f, "{} lists their orgs limit={limit}", who(by)),
            Act::ConfirmSignUp { by, reset } => {
                let what = if *reset { "a password reset" } else { "their sign-up" };
                write!(f, "{} confirms {what} (post-confirmation)", self.names[*by])
            }
            Act::SignUp { trigger, addr, verified } => {
                let verified = match verified {
                    Some(v) => format!(", email_verified={v}"),
                    None => String::new(),
                };
                match addr {
                    Some(a) => write!(
                        f,
                        "a visitor signs up ({}) as {:?}{verified}",
                        trigger.source(),
                        self.pool.render(*a)
                    ),
                    None => write!(f, "a visitor signs up ({}) with no address{verified}", trigger.source()),
                }
            }
            Act::CreateWorkspace { by, org: o, name, metadata } => {
                write!(
                    f,
                    "{} creates workspace{} in {} named {name:?}",
                    who(by),
                    Ref { step: self.op.id, n: 0 },
                    org(o)
                )?;
                if *metadata != 0 {
                    write!(f, " with metadata {}", meta_json(*metadata))?;
                }
                Ok(())
            }
            Act::UpdateWorkspace { by, org: o, ws, name, metadata, bad: b } => write!(
                f,
                "{} updates workspace{ws} of {}: name={name:?} metadata={}{}",
                who(by),
                org(o),
                metadata.map_or("-".to_owned(), |m| meta_json(m).to_string()),
                bad(b)
            ),
            Act::DeleteWorkspace { by, org: o, ws } => {
                write!(f, "{} deletes workspace{ws} of {}", who(by), org(o))
            }
            Act::GetWorkspace { by, org: o, ws } => {
                write!(f, "{} reads workspace{ws} of {}", who(by), org(o))
            }
            Act::ListWorkspaces { by, org: o, limit } => {
                write!(f, "{} lists the workspaces of {} limit={limit}", who(by), org(o))
            }
            Act::PutWsMember { by, org: o, ws, target: t, role, bad: b } => write!(
                f,
                "{} puts {} in workspace{ws} of {} as {}{}",
                who(by),
                target(t),
                org(o),
                role.map_or("null", WsRole::as_str),
                bad(b)
            ),
            Act::RemoveWsMember { by, org: o, ws, target: t } => {
                write!(f, "{} takes {} out of workspace{ws} of {}", who(by), target(t), org(o))
            }
            Act::ListWsMembers { by, org: o, ws, limit, bad: b } => {
                write!(
                    f,
                    "{} lists the members of workspace{ws} of {} limit={limit}{}",
                    who(by),
                    org(o),
                    bad(b)
                )
            }
            Act::Grant { by, org: o, ws, group, role, bad: b } => write!(
                f,
                "{} grants workspace{ws} of {} to group{group} as {}{}",
                who(by),
                org(o),
                role.as_str(),
                bad(b)
            ),
            Act::Revoke { by, org: o, ws, group } => {
                write!(f, "{} revokes workspace{ws} of {} from group{group}", who(by), org(o))
            }
            Act::CreateGroup { by, org: o, name } => {
                write!(
                    f,
                    "{} creates group{} in {} named {name:?}",
                    who(by),
                    Ref { step: self.op.id, n: 0 },
                    org(o)
                )
            }
            Act::RenameGroup { by, org: o, group, name } => {
                write!(f, "{} renames group{group} of {} to {name:?}", who(by), org(o))
            }
            Act::DeleteGroup { by, org: o, group } => {
                write!(f, "{} deletes group{group} of {}", who(by), org(o))
            }
            Act::PutGroupMember { by, org: o, group, target: t } => {
                write!(f, "{} puts {} in group{group} of {}", who(by), target(t), org(o))
            }
            Act::RemoveGroupMember { by, org: o, group, target: t } => {
                write!(f, "{} takes {} out of group{group} of {}", who(by), target(t), org(o))
            }
            Act::ListGroupMembers { by, org: o, group, limit } => {
                write!(f, "{} lists the members of group{group} of {} limit={limit}", who(by), org(o))
            }
            Act::MemberWorkspaces { by, org: o, target: t } => {
                write!(f, "{} lists the workspaces of {} in {}", who(by), target(t), org(o))
            }
            Act::SesEvent { inv, kind, stale } => write!(
                f,
                "SES reports {} for invitation #{}{}",
                kind.fixture(),
                inv.step,
                if *stale { " (of the send before)" } else { "" }
            ),
            Act::LiftPause { org: o } => write!(f, "the operator lifts the email pause of {}", org(o)),
            Act::AddUser { by, org: o, addr, role, weak } => write!(
                f,
                "{} adds the user {:?} to {} as {}{}",
                who(by),
                self.pool.render(*addr),
                org(o),
                role.as_str(),
                if *weak { " with a weak password" } else { "" }
            ),
            Act::ReportUsage { org: o, records } => {
                let list: Vec<String> = records
                    .iter()
                    .map(|r| {
                        format!(
                            "#{} {} {}{} {} {}min ago",
                            r.id,
                            self.names.get(r.user).map_or("?", String::as_str),
                            USAGE_METRICS[r.metric],
                            if r.bad_metric { "(bad)" } else { "" },
                            usage_quantity(r.hundredths),
                            r.age_minutes
                        )
                    })
                    .collect();
                write!(f, "a service reports usage to {}: [{}]", org(o), list.join(", "))
            }
            Act::ReadUsage { by, org: o, only, metric, by_day, days } => write!(
                f,
                "{} reads usage of {}{} metric={} by {} over {days} days",
                who(by),
                org(o),
                only.map_or(String::new(), |u| format!(" for {}", self.names[u])),
                USAGE_METRICS[*metric],
                if *by_day { "day" } else { "member" }
            ),
            Act::Authorize { caller, checks, bad: b } => {
                let caller = match caller {
                    super::authorize::Caller::Person(u) => format!("{} (a person)", self.names[*u]),
                    other => other.to_string(),
                };
                let list: Vec<String> = checks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("[{i}] {}", super::authorize::show(c, self.names)))
                    .collect();
                write!(f, "{caller} checks {}{}", list.join(", "), super::authorize::bad_text(*b))
            }
            Act::CreateRole { by, org: o, key, base, perms } => write!(
                f,
                "{} creates role {} in {} based on {} with permissions {perms:#012b}",
                who(by),
                CUSTOM_KEYS[usize::from(*key)],
                org(o),
                base.as_str()
            ),
            Act::UpdateRole { by, org: o, key, perms } => write!(
                f,
                "{} sets the permissions of role {} in {} to {perms:#012b}",
                who(by),
                CUSTOM_KEYS[usize::from(*key)],
                org(o)
            ),
            Act::DeleteRole { by, org: o, key } => {
                write!(f, "{} deletes role {} of {}", who(by), CUSTOM_KEYS[usize::from(*key)], org(o))
            }
            Act::AssignCustom { by, org: o, target: t, key } => write!(
                f,
                "{} gives {} in {} the role {}",
                who(by),
                target(t),
                org(o),
                CUSTOM_KEYS[usize::from(*key)]
            ),
            Act::Advance { minutes } => {
                write!(f, "the clock moves {}h{:02}m forward", minutes / 60, minutes % 60)
            }
            Act::Sweep => write!(f, "TTL deletes every expired item"),
        }
    }
}

/// The search, sort and order of a members list: each absent means the default (no search,
/// by name, ascending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Search {
    pub q: Option<&'static str>,
    pub sort: Option<&'static str>,
    pub order: Option<&'static str>,
}

impl Search {
    /// The query-string parts, URL-encoded.
    pub fn query(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(q) = self.q {
            let encoded: String = q
                .bytes()
                .map(
                    |b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") },
                )
                .collect();
            parts.push(format!("q={encoded}"));
        }
        if let Some(sort) = self.sort {
            parts.push(format!("sort={sort}"));
        }
        if let Some(order) = self.order {
            parts.push(format!("order={order}"));
        }
        parts
    }

    /// A search ordered by joining time: refused (a search comes by the word matched).
    pub fn conflicts(&self) -> bool {
        self.q.is_some_and(|q| !terms(q).is_empty()) && self.sort == Some("joinedAt")
    }
}

impl std::fmt::Display for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(q) = self.q {
            write!(f, " q={q:?}")?;
        }
        if let Some(sort) = self.sort {
            write!(f, " sort={sort}")?;
        }
        if let Some(order) = self.order {
            write!(f, " order={order}")?;
        }
        Ok(())
    }
}

/// The words of `text` as the contract defines them, for ASCII text (the model's names and
/// addresses): lowercase, cut at whitespace and `.`, `_`, `-`, `+`, `@`.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || ".-_+@".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A query's distinct terms, in order.
pub fn terms(q: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in words(q) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The metrics of the model's usage records.
pub const USAGE_METRICS: [&str; 3] = ["credits", "api.calls", "storage_gb-hours"];

/// A usage record as the model draws it (API.md "Usage per member").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRec {
    /// From a small pool, so that ids come again (within the request and across steps).
    pub id: u32,
    pub user: UserIx,
    pub metric: usize,
    /// The metric sent with a character it may not hold: `invalid`.
    pub bad_metric: bool,
    /// The quantity in hundredths (exact decimals either way).
    pub hundredths: i64,
    /// How long before the request's instant `at` lies, in minutes (negative: in the future).
    pub age_minutes: i64,
}

/// `hundredths` as the decimal text sent and shown (`12.5`, `-3`, `0.05`).
pub fn usage_quantity(hundredths: i64) -> String {
    roster::domain::usage::Quantity::from_units(i128::from(hundredths) * 10_000_000_000).to_string()
}
