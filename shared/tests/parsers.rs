//! Property tests: every parser takes arbitrary input without panicking, and what it accepts
//! keeps the promises of its type.

use proptest::prelude::*;
use roster::domain::token::Token;
use roster::domain::{DisplayName, Email, OrgId, OrgName, Role, Status, UserId, cursor};
use roster::mail::compose::{escape_html, one_line};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn email(raw in "\\PC{0,80}|[a-zA-Z0-9._%+-]{1,20}@[a-zA-Z0-9.-]{1,20}\\.[a-zA-Z]{2,6}") {
        if let Ok(email) = Email::parse(&raw) {
            let text = email.as_str();
            prop_assert_eq!(text, text.to_lowercase());
            prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert_eq!(text.matches('@').count(), 1);
            prop_assert!(text.len() <= 254);
            prop_assert_eq!(Email::parse(text), Ok(email.clone()), "canonical form re-parses to itself");
            prop_assert_eq!(Email::parse(&raw.to_uppercase()).ok(), Some(email), "case does not matter");
        }
    }

    #[test]
    fn org_name(raw in "\\PC{0,120}|[\\s\\S]{0,120}") {
        if let Ok(name) = OrgName::parse(&raw) {
            let text = name.as_str();
            prop_assert_eq!(text, text.trim());
            prop_assert!(!text.is_empty() && text.chars().count() <= 100);
            prop_assert!(!text.chars().any(char::is_control));
        }
    }

    #[test]
    fn display_name(raw in "[\\s\\S]{0,300}") {
        if let Some(name) = DisplayName::clean(&raw) {
            let text = name.as_str();
            prop_assert!(!text.is_empty() && text.chars().count() <= 200);
            prop_assert!(!text.chars().any(char::is_control));
            prop_assert_eq!(text, text.trim());
        }
    }

    #[test]
    fn roles_and_statuses(raw in "\\PC{0,12}") {
        if let Ok(role) = raw.parse::<Role>() {
            prop_assert_eq!(role.as_str(), raw.as_str());
        }
        if let Ok(status) = raw.parse::<Status>() {
            prop_assert_eq!(status.as_str(), raw.as_str());
        }
    }

    #[test]
    fn ids(raw in "\\PC{0,140}|org_[0-9a-f]{32}") {
        if let Some(id) = OrgId::parse(&raw) {
            prop_assert_eq!(id.as_str(), raw.as_str());
        }
        if let Some(user) = UserId::parse(&raw) {
            prop_assert!(!user.as_str().chars().any(|c| c.is_control() || c.is_whitespace()));
        }
    }

    #[test]
    fn cursors(raw in "\\PC{0,200}", scope in "\\PC{0,40}", key in "\\PC{1,60}") {
        let keys = cursor::CursorKeys::parse(&"5a".repeat(32)).unwrap();
        let _ = cursor::decode(&keys, &raw, &scope);
        prop_assert_eq!(cursor::decode(&keys, &cursor::encode(&keys, &scope, &key), &scope), Ok(key.clone()));
        let other = format!("{scope}x");
        prop_assert!(cursor::decode(&keys, &cursor::encode(&keys, &scope, &key), &other).is_err());
    }

    #[test]
    fn cursor_keys(raw in "\\PC{0,200}|[A-Za-z0-9+/=,]{0,200}") {
        // Any input: parsed or refused, never a panic, and an error never repeats a key.
        if let Err(error) = cursor::CursorKeys::parse(&raw) {
            prop_assert!(raw.len() < 8 || !error.contains(raw.as_str()));
        }
    }

    #[test]
    fn tokens(raw in "\\PC{0,120}") {
        if let Some(token) = Token::parse(&raw) {
            prop_assert_eq!(token.expose(), raw.trim());
            prop_assert_eq!(token.hash().as_str().len(), 64);
        }
    }

    #[test]
    fn email_text_helpers(raw in "[\\s\\S]{0,200}") {
        let escaped = escape_html(&raw);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
        let line = one_line(&raw);
        prop_assert!(!line.chars().any(char::is_control));
    }
}
