//! Invitation tokens: 256 bits from the OS random source, shown once, stored only as a hash.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::ids::OrgId;

/// A secret token as handed to the invitee: `<orgId>.<256 random bits, base64url>`. The
/// organization id is not secret; carrying it lets accept read the token, the organization
/// and the caller's membership in one round trip. `Debug` never shows the token.
pub struct Token {
    org: OrgId,
    text: String,
}

/// The SHA-256 of a token, hex: what the table stores and looks tokens up by. A plain hash
/// is enough because the token itself has 256 bits of entropy (no guessing, no rainbow table).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

const TOKEN_BYTES: usize = 32;
/// 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

impl Token {
    pub fn generate(org: &OrgId) -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self { org: org.clone(), text: format!("{org}.{}", URL_SAFE_NO_PAD.encode(bytes)) })
    }

    /// A token as a client sent it back: `None` if it cannot be one Roster issued.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (org, secret) = raw.split_once('.')?;
        let org = OrgId::parse(org)?;
        let ok = secret.len() == TOKEN_CHARS
            && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self { org, text: raw.to_owned() })
    }

    pub fn org(&self) -> &OrgId {
        &self.org
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(format!("{:x}", Sha256::digest(self.text.as_bytes())))
    }

    /// The secret itself, for the one response or email that carries it.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_parse_back() {
        let org = OrgId::new();
        let a = Token::generate(&org).unwrap();
        let b = Token::generate(&org).unwrap();
        assert_eq!(a.expose().len(), org.as_str().len() + 1 + TOKEN_CHARS);
        assert_eq!(Token::parse(a.expose()).unwrap().org(), &org);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(Token::parse(a.expose()).unwrap().hash(), a.hash());
        assert_eq!(a.hash().as_str().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn rejects_what_cannot_be_a_token() {
        let org = OrgId::new();
        for bad in [
            String::new(),
            "short".into(),
            "a".repeat(43),
            format!("{org}.{}", "a".repeat(44)),
            format!("{org}.{}=", "a".repeat(42)),
            format!("{org}.{}/", "a".repeat(42)),
            format!("org_x.{}", "a".repeat(43)),
        ] {
            assert!(Token::parse(&bad).is_none(), "{bad}");
        }
    }
}
