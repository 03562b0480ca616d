//! Pure domain: types that can only hold valid values, and the rules over them.

pub mod access;
pub mod authorization;
pub mod cursor;
pub mod custom_role;
pub mod email;
pub mod identity;
pub mod ids;
pub mod invitation;
pub mod metadata;
pub mod model;
pub mod password;
pub mod permission;
pub mod role;
pub mod search;
pub mod standing;
pub mod text;
pub mod time;
pub mod token;
pub mod usage;
pub mod workspace;

pub use email::Email;
pub use identity::{Caller, Principal, Service};
pub use ids::{EventId, GroupId, InvitationId, LinkId, OrgId, UserId, WorkspaceId};
pub use metadata::Metadata;
pub use model::{AuditAction, AuditEvent, Member, Org};
pub use role::{Role, Status};
pub use text::{DisplayName, Label, OrgName};
pub use time::{Clock, Timestamp};
