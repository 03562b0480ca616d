//! Permissions (API.md "Roles and permissions"): `resource:action` keys, each scoped to the
//! organization or to a workspace, and the deployment's catalog of the host product's own,
//! with which of them each built-in role holds. Roster's own permissions are fixed here and
//! follow the rank rules; the catalog may not redefine them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::role::Role;
use super::workspace::WorkspaceRole;

/// `resource:action`, each part `[a-z0-9_-]{1,32}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Permission(String);

/// Lets the catalog be looked up by a request's text without parsing or allocating it (a
/// malformed key is simply not in the catalog): `Permission`'s order is its text's.
impl std::borrow::Borrow<str> for Permission {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Permission {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("{value:?} is not resource:action"))
    }
}

impl From<Permission> for String {
    fn from(permission: Permission) -> Self {
        permission.0
    }
}

impl Permission {
    pub fn parse(text: &str) -> Option<Self> {
        let (resource, action) = text.split_once(':')?;
        let part = |p: &str| {
            (1..=32).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        (part(resource) && part(action)).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a permission is decided: by the organization role, or by the effective role in
/// one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PermissionScope {
    Org,
    Workspace,
}

/// Roster's own permissions (org scope), and the least role that holds each: they follow
/// the rank rules of API.md "Roles and rank", so they are not the catalog's to change.
pub const ROSTER_PERMISSIONS: [(&str, Role, &str); 9] = [
    ("org:read", Role::Viewer, "Read the organization"),
    ("members:read", Role::Viewer, "Read the member list"),
    ("org:update", Role::Admin, "Rename the organization and edit its metadata"),
    ("members:invite", Role::Admin, "Invite people and create invite links"),
    ("members:manage", Role::Admin, "Change, suspend and remove members, by rank"),
    ("workspaces:manage", Role::Admin, "Create workspaces and groups and manage their members"),
    ("audit:read", Role::Admin, "Read the audit trail"),
    ("org:delete", Role::Owner, "Delete the organization"),
    ("roles:manage", Role::Owner, "Create, edit and delete custom roles"),
];

/// One permission of the catalog, as `GET /permissions` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry {
    pub key: Permission,
    pub scope: PermissionScope,
    pub description: String,
    /// Roster's own (fixed) rather than the host product's (the catalog file's).
    pub builtin: bool,
    /// The built-in roles that hold it: organization roles for `org` scope, workspace roles
    /// (`admin`, `member`, `viewer`) for `workspace` scope.
    pub roles: Vec<&'static str>,
}

/// The deployment's permissions: Roster's own and the host product's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    entries: BTreeMap<Permission, CatalogEntry>,
}

/// The catalog file as written (`infra/permissions.json`; its JSON Schema beside it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    permissions: Vec<FileEntry>,
    roles: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    key: String,
    scope: PermissionScope,
    description: String,
}

/// What is wrong with a catalog: named, so that a deploy check or a cold start says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permissions catalog: {0}")]
pub struct CatalogError(String);

/// The catalog the deployment was built with (`infra/permissions.json`), compiled in so that
/// every function that needs it carries the same one, and checked by [`Catalog::parse`] at
/// cold start and by the deploy script before it builds.
pub const DEPLOYED_CATALOG: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/permissions.json"));

/// The most permissions a catalog may list: `GET /permissions` answers them in one page,
/// and a custom role's checklist shows them all.
pub const MAX_CATALOG: usize = 200;

impl Catalog {
    pub fn deployed() -> Result<Self, CatalogError> {
        Self::parse(DEPLOYED_CATALOG)
    }

    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile = serde_json::from_str(text).map_err(|e| CatalogError(e.to_string()))?;
        let mut entries = BTreeMap::new();
        for (key, role, description) in ROSTER_PERMISSIONS {
            let key = Permission::parse(key).expect("Roster's permissions are well-formed");
            let roles = Role::ALL.iter().filter(|r| **r >= role).map(|r| r.as_str()).collect();
            entries.insert(
                key.clone(),
                CatalogEntry {
                    key,
                    scope: PermissionScope::Org,
                    description: description.to_owned(),
                    builtin: true,
                    roles,
                },
            );
        }
        if file.permissions.len() > MAX_CATALOG {
            return Err(CatalogError(format!(
                "at most {MAX_CATALOG} permissions, got {}",
                file.permissions.len()
            )));
        }
        for entry in file.permissions {
            let key = Permission::parse(&entry.key).ok_or_else(|| {
                CatalogError(format!("{:?} is not resource:action ([a-z0-9_-]{{1,32}} each)", entry.key))
            })?;
            if entries.get(&key).is_some_and(|e| e.builtin) {
                return Err(CatalogError(format!("{key} is one of Roster's own permissions")));
            }
            let description = entry.description.trim();
            if description.is_empty()
                || description.chars().count() > 200
                || description.chars().any(char::is_control)
            {
                return Err(CatalogError(format!(
                    "{key}: a description of 1–200 characters, no control characters"
                )));
            }
            let previous = entries.insert(
                key.clone(),
                CatalogEntry {
                    key: key.clone(),
                    scope: entry.scope,
                    description: description.to_owned(),
                    builtin: false,
                    roles: Vec::new(),
                },
            );
            if previous.is_some() {
                return Err(CatalogError(format!("{key} is listed twice")));
            }
        }
        for (role, keys) in file.roles {
            let (name, workspace_role) = match role.parse::<Role>() {
                Ok(Role::Owner) => ("owner", None),
                Ok(r) => (r.as_str(), Some(r)),
                Err(_) => return Err(CatalogError(format!("roles: {role:?} is not a built-in role"))),
            };
            let mut seen = BTreeSet::new();
            for key in keys {
                let entry = Permission::parse(&key)
                    .and_then(|p| entries.get_mut(&p))
                    .ok_or_else(|| CatalogError(format!("roles.{name}: {key:?} is not in the catalog")))?;
                if entry.builtin {
                    return Err(CatalogError(format!(
                        "roles.{name}: {key} is Roster's own; it follows the rank rules"
                    )));
                }
                if entry.scope == PermissionScope::Workspace && workspace_role.is_none() {
                    return Err(CatalogError(format!(
                        "roles.owner: {key} is workspace-scoped; owners hold workspace permissions as workspace admins"
                    )));
                }
                if !seen.insert(key.clone()) {
                    return Err(CatalogError(format!("roles.{name}: {key} is listed twice")));
                }
                entry.roles.push(name);
            }
        }
        // Built-in roles in rank order, highest first, whatever the file's order.
        let rank = |r: &&str| std::cmp::Reverse(r.parse::<Role>().ok());
        for entry in entries.values_mut() {
            entry.roles.sort_by_key(rank);
        }
        Ok(Self { entries })
    }

    /// The entry of `key`, if the catalog lists it: a lookup on the check's hot path, so by
    /// the text as given (no parse, no allocation).
    pub fn get(&self, key: &str) -> Option<&CatalogEntry> {
        self.entries.get(key)
    }

    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.values()
    }

    /// The org-scope permissions an organization role holds, sorted.
    pub fn org_permissions(&self, role: Role) -> Vec<&Permission> {
        self.entries
            .values()
            .filter(|e| e.scope == PermissionScope::Org && e.roles.contains(&role.as_str()))
            .map(|e| &e.key)
            .collect()
    }

    /// Whether `role` (an organization role) holds the org-scope `entry`.
    pub fn org_role_holds(entry: &CatalogEntry, role: Role) -> bool {
        entry.scope == PermissionScope::Org && entry.roles.contains(&role.as_str())
    }

    /// Whether `role` (an effective workspace role) holds the workspace-scope `entry`.
    pub fn workspace_role_holds(entry: &CatalogEntry, role: WorkspaceRole) -> bool {
        entry.scope == PermissionScope::Workspace && entry.roles.contains(&role.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_only_in_their_shape() {
        assert!(Permission::parse("projects:read").is_some());
        assert!(Permission::parse("a_b-1:c").is_some());
        for bad in ["projects", "Projects:read", "projects:", ":read", "a:b:c", "a :b", "é:b", ""] {
            assert!(Permission::parse(bad).is_none(), "{bad:?}");
        }
        assert!(Permission::parse(&format!("{}:x", "a".repeat(32))).is_some());
        assert!(Permission::parse(&format!("{}:x", "a".repeat(33))).is_none());
    }

    #[test]
    fn the_deployed_catalog_parses() {
        let catalog = Catalog::deployed().unwrap();
        assert!(catalog.entries().any(|e| !e.builtin), "the default catalog lists host permissions");
        assert_eq!(catalog.get("org:delete").unwrap().roles, ["owner"]);
        assert_eq!(catalog.get("members:read").unwrap().roles, ["owner", "admin", "member", "viewer"]);
    }

    fn parse(file: &str) -> Result<Catalog, CatalogError> {
        Catalog::parse(file)
    }

    #[test]
    fn a_bad_catalog_is_named() {
        let cases = [
            (r#"{"permissions": [], "roles": {}, "extra": 1}"#, "unknown field"),
            (
                r#"{"permissions": [{"key": "x", "scope": "org", "description": "d"}], "roles": {}}"#,
                "\"x\" is not",
            ),
            (
                r#"{"permissions": [{"key": "org:read", "scope": "org", "description": "d"}], "roles": {}}"#,
                "Roster's own",
            ),
            (
                r#"{"permissions": [{"key": "a:b", "scope": "team", "description": "d"}], "roles": {}}"#,
                "unknown variant",
            ),
            (
                r#"{"permissions": [{"key": "a:b", "scope": "org", "description": "d"}, {"key": "a:b", "scope": "org", "description": "d"}], "roles": {}}"#,
                "twice",
            ),
            (r#"{"permissions": [], "roles": {"root": []}}"#, "not a built-in role"),
            (r#"{"permissions": [], "roles": {"admin": ["a:b"]}}"#, "not in the catalog"),
            (r#"{"permissions": [], "roles": {"admin": ["org:read"]}}"#, "rank rules"),
            (
                r#"{"permissions": [{"key": "a:b", "scope": "workspace", "description": "d"}], "roles": {"owner": ["a:b"]}}"#,
                "workspace admins",
            ),
            (
                r#"{"permissions": [{"key": "a:b", "scope": "org", "description": " "}], "roles": {}}"#,
                "description",
            ),
        ];
        for (file, needle) in cases {
            let err = parse(file).unwrap_err().to_string();
            assert!(err.contains(needle), "{file}: {err}");
        }
    }

    #[test]
    fn roles_hold_what_the_file_and_the_rank_rules_say() {
        let catalog = parse(
            r#"{"permissions": [
                {"key": "billing:read", "scope": "org", "description": "Read invoices"},
                {"key": "docs:write", "scope": "workspace", "description": "Edit documents"}
            ], "roles": {"viewer": [], "member": ["docs:write"], "owner": ["billing:read"], "admin": ["billing:read", "docs:write"]}}"#,
        )
        .unwrap();
        let names =
            |role| catalog.org_permissions(role).iter().map(|p| p.as_str().to_owned()).collect::<Vec<_>>();
        assert!(names(Role::Owner).contains(&"billing:read".to_owned()));
        assert!(names(Role::Owner).contains(&"roles:manage".to_owned()));
        assert!(!names(Role::Admin).contains(&"roles:manage".to_owned()));
        assert_eq!(names(Role::Viewer), ["members:read", "org:read"]);
        let docs = catalog.get("docs:write").unwrap();
        assert_eq!(docs.roles, ["admin", "member"]);
        assert!(Catalog::workspace_role_holds(docs, WorkspaceRole::Member));
        assert!(!Catalog::workspace_role_holds(docs, WorkspaceRole::Viewer));
        assert!(
            !Catalog::org_role_holds(docs, Role::Owner),
            "workspace scope is never decided by the org role"
        );
    }
}
