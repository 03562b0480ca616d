//! What Roster's Cognito triggers (`pre_sign_up`, `post_confirmation`) read of a user pool
//! trigger's event: its `triggerSource` and the user's attributes. The rest is handed back to
//! Cognito untouched.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TriggerEvent {
    pub trigger_source: String,
    request: TriggerRequest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TriggerRequest {
    /// Every value a string, as Cognito sends them; absent or null holds none.
    #[serde(default)]
    user_attributes: Option<Map<String, Value>>,
}

impl TriggerEvent {
    /// `event` read as a trigger's; `400` naming `what` (the trigger) for anything else.
    pub fn parse(event: &Value, what: &str) -> Result<Self, Error> {
        Self::deserialize(event).map_err(|_| Error::invalid_request(format!("not a Cognito {what} event")))
    }

    /// The user's attribute `name`, as sent.
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.request.user_attributes.as_ref().and_then(|a| a.get(name))
    }
}
