//! Free text that users supply: organization names and the display names from token claims.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// An organization name: 1–100 characters after trimming, no control characters
/// (which also keeps it to one line wherever it is shown, such as an email subject) and no
/// invisible or text-direction characters (see [`is_invisible`]).
///
/// Request text goes through [`OrgName::parse`]. A name read back (from the table) was
/// checked when written, but one written before invisible characters were refused may hold
/// some: reading drops them rather than leave the organization unreadable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
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

/// An invite link's label, for the admins who list links ("Sales team", "Onboarding
/// cohort 3"): the rules of a name, at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        one_line(raw, Self::MAX_CHARS).map(Self)
    }
}

impl TryFrom<String> for Label {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Label> for String {
    fn from(label: Label) -> Self {
        label.0
    }
}

/// A workspace's or group's name: the rules of an organization's name, read back as
/// leniently (a name stored before a character was refused loses it, rather than make its
/// workspace unreadable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = String::deserialize(deserializer)?;
        let visible: String = stored.chars().filter(|c| !is_invisible(*c)).collect();
        match Self::parse(&visible) {
            Ok(name) => Ok(name),
            Err(InvalidName::Blank) if !stored.is_empty() => Ok(Self("Unnamed".to_owned())),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

impl Name {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        one_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> Self {
        name.0
    }
}

/// A workspace's or group's description: at most 500 characters after trimming; line
/// breaks are allowed (it is shown as a paragraph), other control characters and invisible
/// or text-direction characters are not. Empty is no description. Read back leniently, as
/// [`Name`] is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(into = "String")]
pub struct Description(String);

impl<'de> Deserialize<'de> for Description {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = String::deserialize(deserializer)?;
        let visible: String = stored.chars().filter(|c| !is_invisible(*c)).collect();
        Self::parse(&visible).map_err(serde::de::Error::custom)
    }
}

impl Description {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidName::TooLong(Self::MAX_CHARS));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(InvalidName::ControlCharacter);
        }
        if text.chars().any(is_invisible) {
            return Err(InvalidName::InvisibleCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Description {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Description> for String {
    fn from(text: Description) -> Self {
        text.0
    }
}

/// A name shown on one line (an organization's, the product's): `raw` trimmed, 1 to
/// `max_chars` characters, no control characters, no invisible or text-direction characters.
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
    if name.chars().any(is_invisible) {
        return Err(InvalidName::InvisibleCharacter);
    }
    Ok(name.to_owned())
}

/// A character that shows nothing yet changes the text: one that reorders what follows
/// (bidi embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, the marks U+200E,
/// U+200F and U+061C, the deprecated format controls U+206A–U+206F) or that has no width
/// (zero-width space and joiners U+200B–U+200D, word joiner and invisible operators
/// U+2060–U+2064, U+FEFF, soft hyphen U+00AD). In a name it can make `Acme` and `Ac\u{200B}me`
/// two names that look the same, or turn the rest of an email subject around.
/// (U+200C and U+200D also shape Persian and Indic text and join emoji: such names lose them.)
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            // Also no width (Mongolian vowel separator), a line or paragraph break in one
            // character, and characters that show as blank (Hangul fillers, the Braille blank).
            | '\u{180E}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{2800}'
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("name must not be blank")]
    Blank,
    #[error("name must be at most {0} characters")]
    TooLong(usize),
    #[error("name must not contain control characters or line breaks")]
    ControlCharacter,
    #[error("name must not contain invisible or text-direction characters")]
    InvisibleCharacter,
}

impl TryFrom<String> for OrgName {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

/// What a stored organization name of invisible characters only reads as.
pub const UNNAMED: &str = "Unnamed organization";

impl<'de> Deserialize<'de> for OrgName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = String::deserialize(deserializer)?;
        let visible: String = stored.chars().filter(|c| !is_invisible(*c)).collect();
        match Self::parse(&visible) {
            Ok(name) => Ok(name),
            // Nothing visible was left of a name the rules of its day let through: it reads
            // as a placeholder an owner can see and replace, rather than fail every read.
            Err(InvalidName::Blank) if !stored.is_empty() => Ok(Self(UNNAMED.to_owned())),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
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
/// reject, so it is cleaned instead: invisible and text-direction characters (see
/// [`is_invisible`]) are dropped, control characters become spaces, runs of white space
/// collapse, and it is cut to 200 characters. A name that cleans to nothing is no name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 200;

    pub fn clean(raw: &str) -> Option<Self> {
        let spaced: String =
            raw.chars().filter(|c| !is_invisible(*c)).map(|c| if c.is_control() { ' ' } else { c }).collect();
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

    /// Every character [`is_invisible`] names, by group.
    const BIDI: [char; 12] = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
    ];
    const ZERO_WIDTH: [char; 6] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}'];
    const OTHER_FORMAT: [char; 10] = [
        '\u{2061}', '\u{2062}', '\u{2063}', '\u{2064}', '\u{206A}', '\u{206B}', '\u{206C}', '\u{206D}',
        '\u{206E}', '\u{206F}',
    ];

    #[test]
    fn org_names_refuse_invisible_and_text_direction_characters() {
        for c in BIDI.into_iter().chain(ZERO_WIDTH).chain(OTHER_FORMAT) {
            for name in [format!("Ac{c}me"), format!("{c}Acme"), format!("Acme{c}"), format!(" {c} Acme ")] {
                assert_eq!(
                    OrgName::parse(&name),
                    Err(InvalidName::InvisibleCharacter),
                    "U+{:04X} in {name:?}",
                    c as u32
                );
            }
            assert_eq!(
                one_line(&format!("Roster{c}"), 60),
                Err(InvalidName::InvisibleCharacter),
                "U+{:04X}",
                c as u32
            );
        }
        assert_eq!(
            OrgName::parse("\u{202E}"),
            Err(InvalidName::InvisibleCharacter),
            "not blank: refused for what it is"
        );
        assert_eq!(
            InvalidName::InvisibleCharacter.to_string(),
            "name must not contain invisible or text-direction characters"
        );
        // Visible text of any script and direction is fine, emoji too.
        for ok in ["Acme GmbH", "Ärzte ohne Grenzen", "שלום", "مرحبا", "東京", "Café ☕", "❤️ Club"]
        {
            assert_eq!(OrgName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn org_name_read_back_drops_what_a_request_may_not_hold() {
        let read: OrgName = serde_json::from_value(serde_json::json!("Ac\u{200B}me \u{202E}Corp")).unwrap();
        assert_eq!(read.as_str(), "Acme Corp");
        let plain: OrgName = serde_json::from_value(serde_json::json!("Acme")).unwrap();
        assert_eq!(plain.as_str(), "Acme");
        // Nothing visible left (written before the rule): a placeholder, never a failed read.
        let blank: OrgName = serde_json::from_value(serde_json::json!(" \u{200B} ")).unwrap();
        assert_eq!(blank.as_str(), UNNAMED);
        assert_eq!(OrgName::try_from("Ac\u{200B}me".to_owned()), Err(InvalidName::InvisibleCharacter));
    }

    #[test]
    fn display_names_drop_invisible_and_text_direction_characters() {
        for c in BIDI.into_iter().chain(ZERO_WIDTH).chain(OTHER_FORMAT) {
            let name = DisplayName::clean(&format!("{c}A{c}nn {c} Smith{c}")).unwrap();
            assert_eq!(name.as_str(), "Ann Smith", "U+{:04X}", c as u32);
            assert_eq!(DisplayName::clean(&format!(" {c} {c}")), None, "U+{:04X}", c as u32);
        }
        let hostile = DisplayName::clean("\u{202E}nhoJ\u{202C}\r\n\u{2066}Bcc: x@y.z\u{2069}").unwrap();
        assert_eq!(hostile.as_str(), "nhoJ Bcc: x@y.z");
        let read: DisplayName = serde_json::from_value(serde_json::json!("A\u{200D}nn")).unwrap();
        assert_eq!(read.as_str(), "Ann");
    }

    #[test]
    fn display_name_is_cleaned_to_one_line() {
        let name = DisplayName::clean(" Ann\r\nBcc: evil@x.com\t ").unwrap();
        assert_eq!(name.as_str(), "Ann Bcc: evil@x.com");
        assert_eq!(DisplayName::clean("\n\t "), None);
        assert_eq!(DisplayName::clean(&"a".repeat(500)).unwrap().as_str().len(), 200);
    }
}
