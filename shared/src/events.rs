//! Membership events for the host product: each audit item the table's stream carries, as
//! the EventBridge event it becomes. Pure: records in, entries out; the `events` handler
//! publishes them.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::domain::{AuditAction, AuditEvent};

/// The `source` of every event Roster publishes.
pub const SOURCE: &str = "roster";

/// One record of a DynamoDB stream batch, as Lambda hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// Lambda retries a batch from the lowest sequence number reported as failed.
    pub sequence_number: String,
    /// The audit event and its organization, or why the record is not one (a poison record).
    pub event: Result<(String, AuditEvent), String>,
}

/// The records of a Lambda DynamoDB stream event (`{"Records": [...]}`), in order.
/// Records that are not inserted audit items are left out: Lambda's event filter passes
/// only those, and anything else is none of this function's business.
pub fn records(batch: &Value) -> Vec<StreamRecord> {
    let empty = Vec::new();
    batch["Records"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter_map(|record| {
            let stream = &record["dynamodb"];
            let sequence_number = stream["SequenceNumber"].as_str()?.to_owned();
            let image = stream["NewImage"].as_object()?;
            let is_audit = image.get("type").and_then(|t| t["S"].as_str()) == Some("audit");
            if record["eventName"] != "INSERT" || !is_audit {
                return None;
            }
            Some(StreamRecord { sequence_number, event: audit_event(image) })
        })
        .collect()
}

fn audit_event(image: &serde_json::Map<String, Value>) -> Result<(String, AuditEvent), String> {
    let item: std::collections::HashMap<String, AttributeValue> = image
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute(value).ok_or_else(|| format!("attribute {name}"))?)))
        .collect::<Result<_, String>>()?;
    let org = item
        .get("PK")
        .and_then(|pk| pk.as_s().ok())
        .and_then(|pk| pk.strip_prefix(crate::store::keys::ORG_PREFIX))
        .ok_or("no organization key")?
        .to_owned();
    let event = crate::store::decode_audit(item).map_err(|_| "not an audit event".to_owned())?;
    Ok((org, event))
}

/// A value in DynamoDB's JSON (`{"S": "x"}`), as the SDK's type.
fn attribute(value: &Value) -> Option<AttributeValue> {
    let (kind, inner) = value.as_object()?.iter().next()?;
    let strings =
        || inner.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect());
    Some(match kind.as_str() {
        "S" => AttributeValue::S(inner.as_str()?.to_owned()),
        "N" => AttributeValue::N(inner.as_str()?.to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings()?),
        "NS" => AttributeValue::Ns(strings()?),
        "L" => AttributeValue::L(inner.as_array()?.iter().map(attribute).collect::<Option<_>>()?),
        "M" => AttributeValue::M(
            inner
                .as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), attribute(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// The event's `detail-type`: its action (`member.role_changed`).
pub fn detail_type(event: &AuditEvent) -> String {
    serde_json::to_value(event.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The event's `detail`: the audit event, its organization, and the `before`/`after` of the
/// member's role and status where the action changed them (enough to act without calling
/// back). `eventId` is the audit event's id: consumers drop repeats by it.
pub fn detail(org: &str, event: &AuditEvent) -> Value {
    let d = &event.details;
    let (before, after) = match event.action {
        AuditAction::MemberRoleChanged => (json!({ "role": d["from"] }), json!({ "role": d["to"] })),
        AuditAction::MemberSuspended => (
            json!({ "role": d["role"], "status": "active" }),
            json!({ "role": d["role"], "status": "suspended" }),
        ),
        AuditAction::MemberReactivated => (
            json!({ "role": d["role"], "status": "suspended" }),
            json!({ "role": d["role"], "status": "active" }),
        ),
        AuditAction::MemberRemoved | AuditAction::MemberLeft => {
            (json!({ "role": d["role"], "status": d["status"] }), Value::Null)
        }
        AuditAction::InvitationAccepted | AuditAction::MemberAdded => {
            (Value::Null, json!({ "role": d["role"], "status": "active" }))
        }
        AuditAction::OwnershipTransferred => {
            (json!({ "role": d["previousRole"] }), json!({ "role": "owner" }))
        }
        _ => (Value::Null, Value::Null),
    };
    json!({
        "eventId": event.id,
        "orgId": org,
        "action": event.action,
        "actor": event.actor,
        "target": event.target,
        "time": event.at,
        "details": event.details,
        "before": before,
        "after": after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: &str, image: Value) -> Value {
        json!({ "eventName": "INSERT", "dynamodb": { "SequenceNumber": seq, "NewImage": image } })
    }

    fn audit_image(action: &str, details: &str) -> Value {
        json!({
            "PK": { "S": "ORG#org_1" }, "SK": { "S": "AUDIT#evt_1" }, "type": { "S": "audit" },
            "id": { "S": "evt_0192f5c4a1b27c3d8e9f0a1b2c3d4e5f" }, "at": { "S": "2026-11-24T08:00:00.000Z" },
            "actor": { "S": "alice" }, "action": { "S": action }, "target": { "S": "bob" },
            "details": { "S": details },
        })
    }

    #[test]
    fn audit_inserts_become_events_with_what_changed() {
        let batch = json!({ "Records": [
            record("1", audit_image("member.role_changed", r#"{"from":"member","to":"admin"}"#)),
            record("2", json!({ "PK": { "S": "ORG#org_1" }, "type": { "S": "member" } })),
            { "eventName": "MODIFY", "dynamodb": { "SequenceNumber": "3", "NewImage": audit_image("org.created", "{}") } },
            record("4", json!({ "type": { "S": "audit" }, "PK": { "S": "ORG#org_1" }, "bad": { "X": 1 } })),
        ]});
        let records = records(&batch);
        assert_eq!(records.len(), 2, "only inserted audit items");
        let (org, event) = records[0].event.as_ref().unwrap();
        assert_eq!(org, "org_1");
        assert_eq!(detail_type(event), "member.role_changed");
        let detail = detail(org, event);
        assert_eq!(
            (&detail["before"], &detail["after"]),
            (&json!({ "role": "member" }), &json!({ "role": "admin" }))
        );
        assert_eq!(detail["eventId"], "evt_0192f5c4a1b27c3d8e9f0a1b2c3d4e5f");
        assert_eq!(records[1].sequence_number, "4");
        assert!(records[1].event.is_err(), "a record that is not an audit event is a poison record");
    }
}
