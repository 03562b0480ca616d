//! Events as Cognito sends them to its Lambda triggers.

use serde_json::{Value, json};

/// A pre-sign-up event for `trigger_source` (`PreSignUp_SignUp`, ...), with the `email` and
/// `email_verified` attributes when given (every attribute a string, as Cognito sends them).
pub fn pre_sign_up_event(trigger_source: &str, email: Option<&str>, verified: Option<bool>) -> Value {
    let mut attributes = json!({});
    if let Some(email) = email {
        attributes["email"] = json!(email);
    }
    if let Some(verified) = verified {
        attributes["email_verified"] = json!(verified.to_string());
    }
    json!({
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE",
        "userName": "3f1e6c2a-8b4d-4e0f-9a71-2c5d8e9b0a13",
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client" },
        "triggerSource": trigger_source,
        "request": { "userAttributes": attributes, "validationData": null },
        "response": { "autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false }
    })
}
