//! Free text that users supply: organization names and the display names from token claims.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An organization name: 1–100 characters after trimming, no control characters
/// (which also keeps it to one line wherever it is shown, such as an email subject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgName(String);

impl OrgName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        one_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name shown on one line (an organization's, the product's): `raw` trimmed, 1 to
/// `max_chars` characters, no control characters.
pub(crate) fn one_line(raw: &str, max_chars: usize) -> Result<String, InvalidName> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(InvalidName::Blank);
    }
    if name.chars().count() > max_chars {
        return Err(InvalidName::TooLong(max_chars));
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidName::ControlCharacter);
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("name must not be blank")]
    Blank,
    #[error("name must be at most {0} characters")]
    TooLong(usize),
    #[error("name must not contain control characters or line breaks")]
    ControlCharacter,
}

impl TryFrom<String> for OrgName {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrgName> for String {
    fn from(name: OrgName) -> Self {
        name.0
    }
}

impl fmt::Display for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name from the identity provider's `name` claim. It is not ours to
/// reject, so it is cleaned instead: control characters become spaces, runs of white space
/// collapse, and it is cut to 200 characters. A name that cleans to nothing is no name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 200;

    pub fn clean(raw: &str) -> Option<Self> {
        let spaced: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let cut: String =
            spaced.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(Self::MAX_CHARS).collect();
        // The cut may end on a space.
        let name = cut.trim_end();
        (!name.is_empty()).then(|| Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for DisplayName {
    fn from(value: String) -> Self {
        Self::clean(&value).unwrap_or_else(|| Self(String::new()))
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> Self {
        name.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_name_trims_and_bounds() {
        assert_eq!(OrgName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert_eq!(OrgName::parse("   "), Err(InvalidName::Blank));
        assert!(OrgName::parse(&"é".repeat(100)).is_ok(), "100 characters, not bytes");
        assert_eq!(OrgName::parse(&"x".repeat(101)), Err(InvalidName::TooLong(100)));
        assert_eq!(OrgName::parse("Ac\nme"), Err(InvalidName::ControlCharacter));
        assert_eq!(OrgName::parse("Ac\u{7f}me"), Err(InvalidName::ControlCharacter));
    }

    #[test]
    fn display_name_is_cleaned_to_one_line() {
        let name = DisplayName::clean(" Ann\r\nBcc: evil@x.com\t ").unwrap();
        assert_eq!(name.as_str(), "Ann Bcc: evil@x.com");
        assert_eq!(DisplayName::clean("\n\t "), None);
        assert_eq!(DisplayName::clean(&"a".repeat(500)).unwrap().as_str().len(), 200);
    }
}
