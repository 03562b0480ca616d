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

/// A pre-token-generation event of `version` (`"1"` for `V1_0`, `"2"` for `V2_0`) for the
/// user `sub`, as Cognito sends it to Lambda: the response's part still `null`.
pub fn pre_token_generation_event(version: &str, trigger_source: &str, sub: &str) -> Value {
    let response = if version == "1" {
        json!({ "claimsOverrideDetails": null })
    } else {
        json!({ "claimsAndScopeOverrideDetails": null })
    };
    let mut event = json!({
        "version": version,
        "triggerSource": trigger_source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE",
        "userName": sub,
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client" },
        "request": {
            "userAttributes": {
                "sub": sub,
                "cognito:user_status": "CONFIRMED",
                "email_verified": "true",
                "email": format!("{sub}@example.com")
            },
            "groupConfiguration": { "groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null }
        },
        "response": response
    });
    if version != "1" {
        event["request"]["scopes"] = json!(["openid", "email", "profile"]);
    }
    event
}
