//! The `email-events` function: SES's events for Roster's configuration set (published to
//! the account's default EventBridge bus, routed here by a rule) move each invitation's
//! `emailDelivery` along API.md's state machine.
//!
//! The message tags Roster set on the email (`roster-org`, `roster-invitation`,
//! `roster-send`) say which send an event is about; the store moves only that send, and only
//! forward (`Delivery::follows`), so events of an earlier send, repeats and late arrivals
//! change nothing. A bounce or complaint is audited and counted in the organization's bounce
//! window with the move itself, once however often SES repeats it; passing the deployment's
//! threshold pauses the organization's invitation emails.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::App;
use crate::domain::invitation::{Delivery, DeliveryReason};
use crate::domain::{AuditAction, AuditEvent, InvitationId, OrgId, UserId};
use crate::error::Error;
use crate::store::email_limits::count_outcome;

/// Who the audit trail names for what SES reported.
pub const SES_ACTOR: &str = "aws:ses";

#[derive(Deserialize)]
struct SesEvent {
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_type: String,
    mail: Mail,
    #[serde(default)]
    bounce: Option<Bounce>,
    #[serde(default)]
    complaint: Option<Value>,
}

#[derive(Deserialize)]
struct Mail {
    #[serde(default)]
    tags: std::collections::HashMap<String, Vec<String>>,
    #[serde(default)]
    destination: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    #[serde(default)]
    bounce_sub_type: String,
}

/// What an event does to its send: the state and why, the audit event it writes (bounces and
/// complaints), and the counter of the organization's bounce window it adds to (hard bounces
/// and complaints).
struct Move {
    to: Delivery,
    reason: Option<DeliveryReason>,
    audited: Option<AuditAction>,
    counter: Option<&'static str>,
}

fn move_of(detail: &Detail) -> Option<Move> {
    let plain = |to, reason| Some(Move { to, reason, audited: None, counter: None });
    match detail.event_type.as_str() {
        "Send" => plain(Delivery::Sent, None),
        "Delivery" => plain(Delivery::Delivered, None),
        "Reject" => plain(Delivery::Failed, Some(DeliveryReason::Rejected)),
        "Rendering Failure" | "RenderingFailure" => {
            plain(Delivery::Failed, Some(DeliveryReason::RenderingFailure))
        }
        "Complaint" => Some(Move {
            to: Delivery::Complained,
            reason: None,
            audited: Some(AuditAction::InvitationEmailComplained),
            counter: Some("complaints"),
        }),
        "Bounce" => {
            let bounce = detail.bounce.as_ref()?;
            // SES did not try: the address is on the account's suppression list. Audited as a
            // bounce, but not counted: no mail went out to bounce.
            if bounce.bounce_sub_type == "OnAccountSuppressionList" {
                return Some(Move {
                    to: Delivery::Failed,
                    reason: Some(DeliveryReason::Suppressed),
                    audited: Some(AuditAction::InvitationEmailBounced),
                    counter: None,
                });
            }
            let (reason, counter) = match bounce.bounce_type.as_str() {
                // Only hard bounces count toward SES's bounce rate, and so toward ours.
                "Permanent" => (DeliveryReason::Permanent, Some("bounces")),
                "Transient" => (DeliveryReason::Transient, None),
                _ => (DeliveryReason::Undetermined, None),
            };
            Some(Move {
                to: Delivery::Bounced,
                reason: Some(reason),
                audited: Some(AuditAction::InvitationEmailBounced),
                counter,
            })
        }
        // Opens, clicks, delivery delays and subscriptions say nothing of the state.
        _ => None,
    }
}

/// One event. `Ok` also for events that are not Roster's or change nothing; `Err` (the table
/// could not be reached) makes Lambda retry the asynchronous invocation.
pub async fn handle(app: &App, event: Value) -> Result<Value, Error> {
    let Ok(SesEvent { detail }) = serde_json::from_value::<SesEvent>(event) else {
        tracing::warn!("not an SES event");
        return Ok(json!({ "moved": false }));
    };
    let tag = |name: &str| detail.mail.tags.get(name).and_then(|v| v.first()).map(String::as_str);
    let (Some(org), Some(id), Some(send)) = (
        tag("roster-org").and_then(OrgId::parse),
        tag("roster-invitation").and_then(InvitationId::parse),
        tag("roster-send").and_then(|s| s.parse::<u64>().ok()),
    ) else {
        tracing::info!(event_type = detail.event_type, "an SES event without Roster's tags");
        return Ok(json!({ "moved": false }));
    };
    let Some(step) = move_of(&detail) else { return Ok(json!({ "moved": false })) };
    let now = app.now();
    let actor = UserId::parse(SES_ACTOR).expect("a valid actor id");
    let mut extra = Vec::new();
    if let Some(action) = step.audited {
        let mut details = json!({
            "email": detail.mail.destination.first(),
            "sendNumber": send,
            "emailDelivery": step.to.as_str(),
            "reason": step.reason.map(DeliveryReason::as_str),
        });
        if let Some(bounce) = &detail.bounce {
            details["bounceType"] = json!(bounce.bounce_type);
            details["bounceSubType"] = json!(bounce.bounce_sub_type);
        }
        if let Some(kind) = detail.complaint.as_ref().and_then(|c| c.get("complaintFeedbackType")) {
            details["complaintFeedbackType"] = kind.clone();
        }
        extra.push(
            app.store.audit_put(&org, &AuditEvent::new(now, &actor, action, Some(id.to_string()), details)),
        );
    }
    if let Some(counter) = step.counter {
        extra.push(count_outcome(app.store.table(), &org, counter));
    }
    let moved = app.store.move_reported_delivery(&org, &id, send, (step.to, step.reason), extra).await?;
    if moved && step.counter.is_some() {
        let rule = app.config.mail.pause;
        app.store
            .judge_bounce_window(&org, rule, now, |reason| {
                AuditEvent::new(
                    now,
                    &actor,
                    AuditAction::OrgInvitationsPaused,
                    Some(org.to_string()),
                    json!({ "reason": reason }),
                )
            })
            .await?;
    }
    Ok(json!({ "moved": moved }))
}
