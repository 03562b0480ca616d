//! Deployment settings, read once per cold start from the environment (API.md "Configuration").

use std::env;

use crate::domain::cursor::CursorKeys;
use crate::domain::identity::ServiceClients;
use crate::domain::password::PasswordPolicy;
use crate::mail::branding::{AccentColor, Branding, LogoUrl, ProductName};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    /// Base of the accept link in invitation emails: `{app_url}/invite?token=...`.
    pub app_url: String,
    /// SES sender identity; only the functions that send mail need it.
    pub from_email: Option<String>,
    /// Default invitation lifetime, 1–720 hours.
    pub invite_ttl_hours: u32,
    /// Active members plus pending invitations may not exceed this.
    pub max_members: Option<u32>,
    /// A user belongs to at most one organization.
    pub one_org_per_user: bool,
    /// `ROSTER_CREATE_ORG_ON_SIGN_UP`: the post-confirmation trigger gives each user who signs
    /// up an organization of their own (API.md "Accounts").
    pub create_org_on_sign_up: bool,
    /// An organization has exactly one owner: no route grants `owner`; ownership moves only
    /// by transfer (the last-owner rule then keeps the one owner from being removed,
    /// suspended or demoted).
    pub single_owner: bool,
    /// Keys that sign list cursors: the first signs, all verify. Only `list` needs them, and
    /// it does not start without them ([`Config::require_cursor_keys`]).
    pub cursor_keys: Option<CursorKeys>,
    /// The product's name, logo and accent colour in invitation emails
    /// (`ROSTER_PRODUCT_NAME`, `ROSTER_LOGO_URL`, `ROSTER_ACCENT_COLOR`).
    pub branding: Branding,
    /// `ROSTER_SERVICE_CLIENTS`: the client ids whose tokens are services' (API.md "Service
    /// callers"); none when unset.
    pub service_clients: ServiceClients,
    pub mail: MailSettings,
    /// `ROSTER_USER_POOL_ID`: the stack's own Cognito user pool, in which admins add users
    /// with a temporary password (API.md "Accounts"); unset where the stack signs people in
    /// through another provider, and that route then answers `501 accounts_unavailable`.
    pub user_pool_id: Option<String>,
    /// That pool's password policy (`ROSTER_PASSWORD_MIN_LENGTH`, `ROSTER_PASSWORD_REQUIRE`,
    /// which the template sets from the same values as the pool; Cognito's default policy
    /// when unset).
    pub password_policy: PasswordPolicy,
}

/// Invitation email off the request path (API.md "Email delivery").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The SQS queue invite and resend put `{invitationId, sendNumber}` on
    /// (`ROSTER_EMAIL_QUEUE_URL`); required by the functions that queue.
    pub queue_url: Option<String>,
    /// The SES configuration set every invitation email names, whose events come back as
    /// delivery status (`ROSTER_SES_CONFIGURATION_SET`).
    pub configuration_set: Option<String>,
    /// Emails per second the account may send when SES's `GetAccount` does not answer
    /// (`ROSTER_SEND_RATE`, default 1: a sandbox account's rate).
    pub send_rate: u32,
    /// How many senders run at once: the queue's event source `MaximumConcurrency`
    /// (`ROSTER_SEND_CONCURRENCY`, default 2); each takes its share of the rate.
    pub send_concurrency: u32,
    /// Deliveries of one message before it goes to the dead-letter queue: the queue's
    /// `maxReceiveCount` (`ROSTER_SEND_ATTEMPTS`, default 5). The last one marks the
    /// invitation `failed`.
    pub send_attempts: u32,
    pub quotas: Quotas,
    pub pause: PauseRule,
}

/// Invitation emails allowed per window (API.md "Email delivery", abuse limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub org_per_hour: u32,
    pub org_per_day: u32,
    pub inviter_per_hour: u32,
}

/// When an organization's invitation emails are paused: bounces or complaints past these
/// shares (in basis points) of its last `window` emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PauseRule {
    pub window: u32,
    pub bounce_basis_points: u32,
    pub complaint_basis_points: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            queue_url: None,
            configuration_set: None,
            send_rate: 1,
            send_concurrency: 2,
            send_attempts: 5,
            quotas: Quotas { org_per_hour: 200, org_per_day: 1000, inviter_per_hour: 100 },
            pause: PauseRule { window: 200, bounce_basis_points: 500, complaint_basis_points: 10 },
        }
    }
}

impl MailSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let count = |name: &str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ConfigError(format!("{name} must be a positive whole number, got {v:?}"))),
        };
        // A percentage with at most two decimals, as basis points.
        let percent = |name: &str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|p| (0.01..=100.0).contains(p))
                .map(|p| (p * 100.0).round() as u32)
                .ok_or_else(|| {
                    ConfigError(format!("{name} must be a percentage from 0.01 to 100, got {v:?}"))
                }),
        };
        Ok(Self {
            queue_url: get("ROSTER_EMAIL_QUEUE_URL"),
            configuration_set: get("ROSTER_SES_CONFIGURATION_SET"),
            send_rate: count("ROSTER_SEND_RATE", defaults.send_rate)?,
            send_concurrency: count("ROSTER_SEND_CONCURRENCY", defaults.send_concurrency)?,
            send_attempts: count("ROSTER_SEND_ATTEMPTS", defaults.send_attempts)?,
            quotas: Quotas {
                org_per_hour: count("ROSTER_INVITE_EMAILS_PER_ORG_HOUR", defaults.quotas.org_per_hour)?,
                org_per_day: count("ROSTER_INVITE_EMAILS_PER_ORG_DAY", defaults.quotas.org_per_day)?,
                inviter_per_hour: count(
                    "ROSTER_INVITE_EMAILS_PER_INVITER_HOUR",
                    defaults.quotas.inviter_per_hour,
                )?,
            },
            pause: PauseRule {
                window: count("ROSTER_PAUSE_WINDOW", defaults.pause.window)?,
                bounce_basis_points: percent(
                    "ROSTER_PAUSE_BOUNCE_PERCENT",
                    defaults.pause.bounce_basis_points,
                )?,
                complaint_basis_points: percent(
                    "ROSTER_PAUSE_COMPLAINT_PERCENT",
                    defaults.pause.complaint_basis_points,
                )?,
            },
        })
    }
}

/// The pool's password policy; both variables or neither (Cognito's default then).
fn password_policy(get: &impl Fn(&str) -> Option<String>) -> Result<PasswordPolicy, ConfigError> {
    match (get("ROSTER_PASSWORD_MIN_LENGTH"), get("ROSTER_PASSWORD_REQUIRE")) {
        (None, None) => Ok(PasswordPolicy::default()),
        (min, require) => {
            PasswordPolicy::parse(min.as_deref().unwrap_or("8"), require.as_deref().unwrap_or("")).map_err(
                |e| ConfigError(format!("ROSTER_PASSWORD_MIN_LENGTH / ROSTER_PASSWORD_REQUIRE: {e}")),
            )
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

pub const MAX_INVITE_HOURS: u32 = 720;

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| env::var(key).ok())
    }

    /// Reads settings through `lookup`, so that parsing is testable without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let table_name = get("TABLE_NAME").ok_or_else(|| ConfigError("TABLE_NAME is required".into()))?;
        let app_url = get("ROSTER_APP_URL")
            .unwrap_or_else(|| "http://localhost:5173".to_owned())
            .trim_end_matches('/')
            .to_owned();
        let invite_ttl_hours = match get("ROSTER_INVITE_TTL_HOURS") {
            None => 72,
            Some(v) => v
                .parse()
                .ok()
                .filter(|h| (1..=MAX_INVITE_HOURS).contains(h))
                .ok_or_else(|| ConfigError(format!("ROSTER_INVITE_TTL_HOURS must be 1–720, got {v:?}")))?,
        };
        let max_members = match get("ROSTER_MAX_MEMBERS") {
            None => None,
            Some(v) => Some(v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ConfigError(format!("ROSTER_MAX_MEMBERS must be a positive number, got {v:?}"))
            })?),
        };
        let flag = |name: &str| match get(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ConfigError(format!("{name} must be true or false, got {other:?}"))),
        };
        let one_org_per_user = flag("ROSTER_ONE_ORG_PER_USER")?;
        let create_org_on_sign_up = flag("ROSTER_CREATE_ORG_ON_SIGN_UP")?;
        let single_owner = flag("ROSTER_SINGLE_OWNER")?;
        // The error names the variable but never repeats its value: it is a secret.
        let cursor_keys = get("ROSTER_CURSOR_KEYS")
            .map(|v| CursorKeys::parse(&v).map_err(|e| ConfigError(format!("ROSTER_CURSOR_KEYS: {e}"))))
            .transpose()?;
        let branding = Branding {
            product_name: get("ROSTER_PRODUCT_NAME")
                .map(|v| {
                    ProductName::parse(&v)
                        .map_err(|e| ConfigError(format!("ROSTER_PRODUCT_NAME {e}, got {v:?}")))
                })
                .transpose()?
                .unwrap_or_default(),
            logo_url: get("ROSTER_LOGO_URL")
                .map(|v| {
                    LogoUrl::parse(&v).map_err(|e| ConfigError(format!("ROSTER_LOGO_URL {e}, got {v:?}")))
                })
                .transpose()?,
            accent_color: get("ROSTER_ACCENT_COLOR")
                .map(|v| {
                    AccentColor::parse(&v)
                        .map_err(|e| ConfigError(format!("ROSTER_ACCENT_COLOR {e}, got {v:?}")))
                })
                .transpose()?
                .unwrap_or_default(),
        };
        let service_clients = ServiceClients::parse(&get("ROSTER_SERVICE_CLIENTS").unwrap_or_default())
            .map_err(|e| ConfigError(format!("ROSTER_SERVICE_CLIENTS: {e}")))?;
        Ok(Self {
            table_name,
            app_url,
            from_email: get("ROSTER_FROM_EMAIL"),
            invite_ttl_hours,
            max_members,
            one_org_per_user,
            create_org_on_sign_up,
            single_owner,
            cursor_keys,
            branding,
            service_clients,
            mail: MailSettings::from_lookup(&get)?,
            user_pool_id: get("ROSTER_USER_POOL_ID"),
            password_policy: password_policy(&get)?,
        })
    }

    /// For the functions that queue invitation emails (invite, resend).
    pub fn require_email_queue(&self) -> Result<(), ConfigError> {
        match self.mail.queue_url {
            Some(_) => Ok(()),
            None => Err(ConfigError("ROSTER_EMAIL_QUEUE_URL is required: the invitation email queue".into())),
        }
    }

    /// For the functions that hand out cursors: no built-in or per-process fallback key, since
    /// a well-known key would make cursors forgeable and a random one would break them across
    /// instances. Checked at cold start.
    pub fn require_cursor_keys(&self) -> Result<(), ConfigError> {
        match self.cursor_keys {
            Some(_) => Ok(()),
            None => Err(ConfigError(
                "ROSTER_CURSOR_KEYS is required: the keys that sign list cursors (one or more, \
                 comma-separated, each hex or base64 of at least 32 random bytes, e.g. \
                 `head -c 32 /dev/urandom | base64`)"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Config::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults() {
        let c = config(&[("TABLE_NAME", "t")]).unwrap();
        assert_eq!(c.invite_ttl_hours, 72);
        assert_eq!(c.max_members, None);
        assert!(!c.one_org_per_user);
        assert_eq!(c.cursor_keys, None);
        assert!(c.require_cursor_keys().unwrap_err().to_string().contains("ROSTER_CURSOR_KEYS"));
        assert_eq!((c.user_pool_id, c.password_policy), (None, PasswordPolicy::default()));
    }

    #[test]
    fn user_pool_and_password_policy() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("ROSTER_USER_POOL_ID", "us-east-1_abc"),
            ("ROSTER_PASSWORD_MIN_LENGTH", "12"),
            ("ROSTER_PASSWORD_REQUIRE", "lowercase,uppercase,numbers"),
        ])
        .unwrap();
        assert_eq!(c.user_pool_id.as_deref(), Some("us-east-1_abc"));
        assert_eq!((c.password_policy.min_length, c.password_policy.symbols), (12, false));
        let error = config(&[("TABLE_NAME", "t"), ("ROSTER_PASSWORD_REQUIRE", "emoji")]).unwrap_err();
        assert!(error.to_string().contains("ROSTER_PASSWORD_REQUIRE"), "{error}");
    }

    #[test]
    fn mail_settings() {
        let c = config(&[("TABLE_NAME", "t")]).unwrap();
        assert_eq!(c.mail, MailSettings::default());
        assert!(c.require_email_queue().unwrap_err().to_string().contains("ROSTER_EMAIL_QUEUE_URL"));
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("ROSTER_EMAIL_QUEUE_URL", "https://sqs.example/q"),
            ("ROSTER_PAUSE_COMPLAINT_PERCENT", "0.1"),
            ("ROSTER_PAUSE_BOUNCE_PERCENT", "5"),
            ("ROSTER_INVITE_EMAILS_PER_INVITER_HOUR", "7"),
        ])
        .unwrap();
        assert!(c.require_email_queue().is_ok());
        assert_eq!((c.mail.pause.complaint_basis_points, c.mail.pause.bounce_basis_points), (10, 500));
        assert_eq!(c.mail.quotas.inviter_per_hour, 7);
        for (key, bad) in
            [("ROSTER_SEND_RATE", "0"), ("ROSTER_PAUSE_BOUNCE_PERCENT", "101"), ("ROSTER_SEND_ATTEMPTS", "x")]
        {
            assert!(
                config(&[("TABLE_NAME", "t"), (key, bad)]).unwrap_err().to_string().contains(key),
                "{key}"
            );
        }
    }

    #[test]
    fn cursor_keys() {
        let hex = "ab".repeat(32);
        let c = config(&[("TABLE_NAME", "t"), ("ROSTER_CURSOR_KEYS", &format!("{hex}, {hex}"))]).unwrap();
        assert!(c.require_cursor_keys().is_ok());
        let short = "ab".repeat(16);
        let error = config(&[("TABLE_NAME", "t"), ("ROSTER_CURSOR_KEYS", &short)]).unwrap_err().to_string();
        assert!(error.contains("ROSTER_CURSOR_KEYS") && !error.contains(&short), "{error}");
        assert!(config(&[("TABLE_NAME", "t"), ("ROSTER_CURSOR_KEYS", "x,")]).is_err());
    }

    #[test]
    fn parses_and_rejects() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("ROSTER_APP_URL", "https://app.example.com/"),
            ("ROSTER_MAX_MEMBERS", "5"),
            ("ROSTER_ONE_ORG_PER_USER", "true"),
            ("ROSTER_INVITE_TTL_HOURS", "24"),
        ])
        .unwrap();
        assert_eq!(c.app_url, "https://app.example.com");
        assert_eq!((c.max_members, c.one_org_per_user, c.invite_ttl_hours), (Some(5), true, 24));
        assert!(config(&[]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("ROSTER_INVITE_TTL_HOURS", "0")]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("ROSTER_MAX_MEMBERS", "-1")]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("ROSTER_ONE_ORG_PER_USER", "yes")]).is_err());
    }

    #[test]
    fn branding() {
        let c = config(&[("TABLE_NAME", "t")]).unwrap();
        assert_eq!(c.branding, Branding::default());
        assert_eq!(c.branding.product_name.as_str(), "Roster");
        assert_eq!(c.branding.logo_url, None);
        assert_eq!(c.branding.accent_color.to_string(), "#2563eb");
        // Empty, as the template's defaults leave them, means unset.
        let c =
            config(&[("TABLE_NAME", "t"), ("ROSTER_LOGO_URL", ""), ("ROSTER_PRODUCT_NAME", " ")]).unwrap();
        assert_eq!(c.branding, Branding::default());

        let c = config(&[
            ("TABLE_NAME", "t"),
            ("ROSTER_PRODUCT_NAME", " Acme People "),
            ("ROSTER_LOGO_URL", "https://cdn.acme.test/logo.png"),
            ("ROSTER_ACCENT_COLOR", "#0A7"),
        ])
        .unwrap();
        assert_eq!(c.branding.product_name.as_str(), "Acme People");
        assert_eq!(c.branding.logo_url.as_ref().map(LogoUrl::as_str), Some("https://cdn.acme.test/logo.png"));
        assert_eq!(c.branding.accent_color.to_string(), "#00aa77");

        for (key, value) in [
            ("ROSTER_PRODUCT_NAME", "x".repeat(61)),
            ("ROSTER_PRODUCT_NAME", "Acme\nBcc: evil@example.com".into()),
            ("ROSTER_LOGO_URL", "http://cdn.acme.test/logo.png".into()),
            ("ROSTER_LOGO_URL", "cdn.acme.test/logo.png".into()),
            ("ROSTER_LOGO_URL", "https://cdn.acme.test/logo.png\" onerror=\"x".into()),
            ("ROSTER_ACCENT_COLOR", "blue".into()),
            ("ROSTER_ACCENT_COLOR", "#12345".into()),
        ] {
            let error = config(&[("TABLE_NAME", "t"), (key, &value)]).unwrap_err().to_string();
            assert!(error.contains(key), "{key}={value:?}: {error}");
        }
    }
}
