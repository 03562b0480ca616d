//! Custom roles (API.md "Roles and permissions"): an organization's own roles, each ranked as
//! a built-in `base` for every rule of "Roles and rank", holding the host product's
//! permissions its owners pick.
//!
//! Where a role is held (a membership, an invitation, a link, a workspace membership or a
//! group grant), the item keeps `role` = the base, so that every condition and rule written
//! for built-in roles holds unchanged, and adds `customRole` = the key. The API shows both:
//! a client that knows only built-in roles keeps reading a rank it understands.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::permission::{Catalog, CatalogEntry, Permission, PermissionScope};
use super::role::Role;
use super::text::{Description, Name};
use super::time::Timestamp;
use super::workspace::WorkspaceRole;
use crate::error::Error;

/// Custom roles per organization: `GET .../roles` answers them in one page, and a role picker
/// shows them all.
pub const MAX_CUSTOM_ROLES: u32 = 50;

/// A custom role's key: `[a-z][a-z0-9_-]{0,31}`, never a built-in role's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleKey(String);

impl RoleKey {
    pub fn parse(text: &str) -> Option<Self> {
        let mut bytes = text.bytes();
        let first = bytes.next()?;
        let shaped = text.len() <= 32
            && first.is_ascii_lowercase()
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        (shaped && text.parse::<Role>().is_err()).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RoleKey {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("{value:?} is not a custom role key"))
    }
}

impl From<RoleKey> for String {
    fn from(key: RoleKey) -> Self {
        key.0
    }
}

impl fmt::Display for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A role as a request names it: a built-in one, or an organization's custom one (whose base
/// only the table knows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleName {
    Builtin(Role),
    Custom(RoleKey),
}

impl RoleName {
    /// `400 invalid_role` for anything else.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text.parse::<Role>() {
            Ok(role) => Ok(Self::Builtin(role)),
            Err(_) => RoleKey::parse(text).map(Self::Custom).ok_or(Error::InvalidRole),
        }
    }

    pub fn custom(&self) -> Option<&RoleKey> {
        match self {
            Self::Custom(key) => Some(key),
            Self::Builtin(_) => None,
        }
    }
}

/// A role as it is held: the rank every rule reads, and the custom role, if any. Resolved from
/// a [`RoleName`] against the organization's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub base: Role,
    pub custom: Option<RoleKey>,
}

impl Assigned {
    pub fn builtin(base: Role) -> Self {
        Self { base, custom: None }
    }

    /// `name`, given the custom role it names (read from the table): `400 invalid_role` when
    /// the organization has no such role, or it is being deleted.
    pub fn resolve(name: &RoleName, found: Option<&CustomRole>) -> Result<Self, Error> {
        match (name, found) {
            (RoleName::Builtin(role), _) => Ok(Self::builtin(*role)),
            (RoleName::Custom(key), Some(role)) if role.key == *key && !role.retiring => {
                Ok(Self { base: role.base, custom: Some(key.clone()) })
            }
            (RoleName::Custom(key), _) => Err(Error::InvalidRoleNamed(format!(
                "this organization has no role \"{key}\" (GET /orgs/{{orgId}}/roles lists them)"
            ))),
        }
    }

    /// As a workspace role: a custom role of base `owner` cannot exist; a built-in owner is
    /// a workspace admin.
    pub fn workspace(&self) -> WorkspaceRole {
        WorkspaceRole::of_org_role(self.base)
    }
}

/// An organization's custom role, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomRole {
    pub key: RoleKey,
    pub name: Name,
    #[serde(default)]
    pub description: Description,
    pub base: Role,
    /// The host product's permissions it holds (never Roster's own: those are the base's).
    #[serde(default)]
    pub permissions: BTreeSet<Permission>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every change, and the condition of the next. Stored, never shown.
    #[serde(default, skip_serializing)]
    pub version: u64,
    /// Set while a deletion looks for holders: no assignment commits meanwhile (each one
    /// checks it), so the holders found are all there are. Stored, never shown.
    #[serde(default, skip_serializing)]
    pub retiring: bool,
}

impl CustomRole {
    /// Whether this role holds the host permission `entry` (Roster's own are its base's).
    pub fn holds(&self, entry: &CatalogEntry) -> bool {
        !entry.builtin && self.permissions.contains(&entry.key)
    }

    /// The object `GET .../roles` lists.
    pub fn shown(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["builtin"] = Value::Bool(false);
        value
    }
}

/// The base a custom role may have: not `owner` (ownership has rules of its own: the last
/// owner, a single owner, transfer).
pub fn parse_base(text: &str) -> Result<Role, Error> {
    match text.parse::<Role>() {
        Ok(Role::Owner) | Err(_) => Err(Error::invalid_request("base must be admin, member or viewer")),
        Ok(role) => Ok(role),
    }
}

/// A custom role's permissions as a request lists them: each a host permission of the
/// catalog; an unknown one or one of Roster's own is named.
pub fn parse_permissions(catalog: &Catalog, keys: &[String]) -> Result<BTreeSet<Permission>, Error> {
    let mut out = BTreeSet::new();
    for key in keys {
        let entry = catalog
            .get(key)
            .ok_or_else(|| Error::invalid_request(format!("permissions: {key:?} is not in the catalog")))?;
        if entry.builtin {
            return Err(Error::invalid_request(format!(
                "permissions: {key} is one of Roster's own; a custom role holds its base's"
            )));
        }
        out.insert(entry.key.clone());
    }
    Ok(out)
}

/// The built-in roles as `GET .../roles` lists them, highest first: each with the host
/// permissions the catalog gives it (workspace-scope ones as the workspace role of that name).
pub fn builtin_roles(catalog: &Catalog) -> Vec<Value> {
    Role::ALL
        .into_iter()
        .map(|role| {
            let permissions: Vec<&str> = catalog
                .entries()
                .filter(|e| !e.builtin && e.roles.contains(&role.as_str()))
                .map(|e| e.key.as_str())
                .collect();
            let (name, description) = match role {
                Role::Owner => ("Owner", "Everything, including ownership, deletion and custom roles"),
                Role::Admin => {
                    ("Admin", "Manages members (not owners or admins), invitations and workspaces")
                }
                Role::Member => ("Member", "Uses the product; reads the organization and its members"),
                Role::Viewer => ("Viewer", "Reads the organization and its members"),
            };
            serde_json::json!({
                "key": role, "name": name, "description": description, "base": role,
                "builtin": true, "permissions": permissions,
            })
        })
        .collect()
}

/// The org-scope permissions a holder of `base` (with `custom`, if any) holds, sorted: what
/// `you.permissions` lists.
pub fn org_permissions<'a>(
    catalog: &'a Catalog,
    base: Role,
    custom: Option<&CustomRole>,
) -> Vec<&'a Permission> {
    catalog.entries().filter(|e| org_holds(e, base, custom)).map(|e| &e.key).collect()
}

/// Whether a holder of `base` (with `custom`, if any) holds the org-scope `entry`.
pub fn org_holds(entry: &CatalogEntry, base: Role, custom: Option<&CustomRole>) -> bool {
    if entry.scope != PermissionScope::Org {
        return false;
    }
    match custom {
        Some(role) if !entry.builtin => role.holds(entry),
        _ => Catalog::org_role_holds(entry, base),
    }
}

/// Whether a workspace role `base` (with `custom`, if any) holds the workspace-scope `entry`.
pub fn workspace_holds(entry: &CatalogEntry, base: WorkspaceRole, custom: Option<&CustomRole>) -> bool {
    if entry.scope != PermissionScope::Workspace {
        return false;
    }
    match custom {
        Some(role) => role.holds(entry),
        None => Catalog::workspace_role_holds(entry, base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_only_in_their_shape_and_never_as_a_builtin() {
        for good in ["editor", "a", "billing-admin", "ops_2", &"a".repeat(32)] {
            assert!(RoleKey::parse(good).is_some(), "{good}");
        }
        for bad in
            ["", "Editor", "2fa", "-x", "owner", "admin", "member", "viewer", "a b", "é", &"a".repeat(33)]
        {
            assert!(RoleKey::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(RoleName::parse("admin").unwrap(), RoleName::Builtin(Role::Admin));
        assert!(matches!(RoleName::parse("editor").unwrap(), RoleName::Custom(_)));
        assert!(RoleName::parse("Admin").is_err());
    }

    #[test]
    fn a_base_is_never_owner() {
        assert!(parse_base("owner").is_err() && parse_base("root").is_err());
        assert_eq!(parse_base("viewer").unwrap(), Role::Viewer);
    }

    fn catalog() -> Catalog {
        Catalog::parse(
            r#"{"permissions": [
                {"key": "billing:read", "scope": "org", "description": "Read invoices"},
                {"key": "docs:write", "scope": "workspace", "description": "Edit documents"}
            ], "roles": {"admin": ["billing:read", "docs:write"], "member": ["docs:write"]}}"#,
        )
        .unwrap()
    }

    fn role(base: Role, permissions: &[&str]) -> CustomRole {
        let at = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        CustomRole {
            key: RoleKey::parse("custom").unwrap(),
            name: Name::parse("Custom").unwrap(),
            description: Description::default(),
            base,
            permissions: permissions.iter().map(|p| Permission::parse(p).unwrap()).collect(),
            created_at: at,
            updated_at: at,
            version: 0,
            retiring: false,
        }
    }

    #[test]
    fn a_custom_role_holds_its_host_permissions_and_its_bases_own() {
        let catalog = catalog();
        let billing = catalog.get("billing:read").unwrap();
        let docs = catalog.get("docs:write").unwrap();
        let invite = catalog.get("members:invite").unwrap();
        let accountant = role(Role::Viewer, &["billing:read"]);
        assert!(org_holds(billing, Role::Viewer, Some(&accountant)));
        assert!(!org_holds(invite, Role::Viewer, Some(&accountant)), "Roster's own are the base's");
        let lead = role(Role::Admin, &[]);
        assert!(org_holds(invite, Role::Admin, Some(&lead)));
        assert!(!org_holds(billing, Role::Admin, Some(&lead)), "host permissions are only its own");
        assert!(!workspace_holds(docs, WorkspaceRole::Admin, Some(&lead)));
        assert!(workspace_holds(docs, WorkspaceRole::Viewer, Some(&role(Role::Viewer, &["docs:write"]))));
        assert!(!org_holds(docs, Role::Admin, None), "workspace scope is never the org role's");
    }

    #[test]
    fn permissions_are_host_ones_of_the_catalog() {
        let catalog = catalog();
        assert_eq!(parse_permissions(&catalog, &["docs:write".into()]).unwrap().len(), 1);
        let unknown = parse_permissions(&catalog, &["docs:delete".into()]).unwrap_err();
        assert!(unknown.to_string().contains("docs:delete"), "{unknown}");
        let own = parse_permissions(&catalog, &["members:invite".into()]).unwrap_err();
        assert!(own.to_string().contains("Roster's own"), "{own}");
    }

    #[test]
    fn resolving_needs_the_live_role() {
        let name = RoleName::parse("custom").unwrap();
        let live = role(Role::Member, &[]);
        assert_eq!(Assigned::resolve(&name, Some(&live)).unwrap().base, Role::Member);
        assert!(Assigned::resolve(&name, None).is_err());
        let retiring = CustomRole { retiring: true, ..live };
        assert!(Assigned::resolve(&name, Some(&retiring)).is_err());
    }
}
