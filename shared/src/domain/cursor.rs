//! Opaque pagination cursors, bound to the list they came from and signed by the deployment.
//!
//! A cursor is `base64url(version ‖ tag ‖ last key)`. The tag is HMAC-SHA256, under the
//! deployment's cursor key, of the version, the list's scope (which list, which organization
//! or user, which filters) and the last key of the page. The scope is authenticated but not
//! carried: a cursor verifies only in the list that made it, and any change to it fails the
//! tag (`400 invalid_cursor`). The store still checks that the key lies inside the scope's
//! key range, a second line should a key ever leak.

use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;

type HmacSha256 = Hmac<Sha256>;

/// Version 1 was unsigned JSON; such cursors are refused like any forged one.
const VERSION: u8 = 2;
const TAG_LEN: usize = 32;
const MAX_LEN: usize = 1024;
/// The least a key must decode to: 256 bits, as much as the tag.
pub const MIN_KEY_BYTES: usize = 32;

/// The keys that sign and verify cursors: the first signs, every one verifies, so that a new
/// key can be put first while cursors signed with the previous one stay valid. Never empty
/// (made only by `parse` and `generate`); `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct CursorKeys(Vec<Vec<u8>>);

/// Keys are written by people and tools in either alphabet, padded or not (`openssl rand
/// -base64 32`, Secrets Manager's generated strings).
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const KEY_BASE64: [GeneralPurpose; 2] =
    [GeneralPurpose::new(&alphabet::STANDARD, LENIENT), GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT)];

impl CursorKeys {
    /// `ROSTER_CURSOR_KEYS`: one or more keys separated by commas, each hex or base64 of at
    /// least [`MIN_KEY_BYTES`] random bytes. Errors never repeat a key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let entries: Vec<&str> = text.split(',').map(str::trim).collect();
        let count = entries.len();
        let keys = entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let n = i + 1;
                let bytes = decode_key(entry)
                    .ok_or_else(|| format!("key {n} of {count} is neither hex nor base64"))?;
                if bytes.len() < MIN_KEY_BYTES {
                    return Err(format!(
                        "key {n} of {count} decodes to {} bytes; at least {MIN_KEY_BYTES} random bytes are required",
                        bytes.len()
                    ));
                }
                Ok(bytes)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(keys))
    }

    /// One fresh random key, for tests and local tools; deployments configure theirs.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = vec![0u8; MIN_KEY_BYTES];
        getrandom::fill(&mut key)?;
        Ok(Self(vec![key]))
    }

    fn tag(key: &[u8], scope: &str, last_key: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        // Length-prefixed scope: no (scope, key) pair can be re-split into another.
        mac.update(&[VERSION]);
        mac.update(&(scope.len() as u64).to_be_bytes());
        mac.update(scope.as_bytes());
        mac.update(last_key);
        mac
    }
}

impl fmt::Debug for CursorKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CursorKeys({} keys, redacted)", self.0.len())
    }
}

fn decode_key(entry: &str) -> Option<Vec<u8>> {
    if entry.is_empty() {
        return None;
    }
    // Hex first: a hex string is also valid base64, and would decode to other bytes.
    if entry.len() % 2 == 0 && entry.bytes().all(|b| b.is_ascii_hexdigit()) {
        let digits: Vec<u8> =
            entry.bytes().map(|b| (b as char).to_digit(16).expect("a hex digit") as u8).collect();
        return Some(digits.chunks(2).map(|pair| pair[0] << 4 | pair[1]).collect());
    }
    KEY_BASE64.iter().find_map(|engine| engine.decode(entry).ok())
}

pub fn encode(keys: &CursorKeys, scope: &str, last_key: &str) -> String {
    let signing = &keys.0[0];
    let tag = CursorKeys::tag(signing, scope, last_key.as_bytes()).finalize().into_bytes();
    let mut bytes = Vec::with_capacity(1 + TAG_LEN + last_key.len());
    bytes.push(VERSION);
    bytes.extend_from_slice(&tag);
    bytes.extend_from_slice(last_key.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The last key carried by `cursor`, if one of `keys` signed it for `scope`.
pub fn decode(keys: &CursorKeys, cursor: &str, scope: &str) -> Result<String, Error> {
    if cursor.len() > MAX_LEN {
        return Err(Error::InvalidCursor);
    }
    // Strict decoding (canonical trailing bits): one cursor has exactly one spelling.
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| Error::InvalidCursor)?;
    let Some((&VERSION, rest)) = bytes.split_first() else { return Err(Error::InvalidCursor) };
    if rest.len() <= TAG_LEN {
        return Err(Error::InvalidCursor);
    }
    let (tag, last_key) = rest.split_at(TAG_LEN);
    // verify_slice compares in constant time.
    if !keys.0.iter().any(|key| CursorKeys::tag(key, scope, last_key).verify_slice(tag).is_ok()) {
        return Err(Error::InvalidCursor);
    }
    String::from_utf8(last_key.to_vec()).map_err(|_| Error::InvalidCursor)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SCOPE: &str = "members:org_1::";

    fn key(byte: u8) -> Vec<u8> {
        vec![byte; MIN_KEY_BYTES]
    }

    fn keys(list: &[u8]) -> CursorKeys {
        CursorKeys(list.iter().map(|b| key(*b)).collect())
    }

    #[test]
    fn round_trip_in_scope() {
        let k = keys(&[1]);
        let c = encode(&k, SCOPE, "MEMBER#u7");
        assert_eq!(decode(&k, &c, SCOPE).unwrap(), "MEMBER#u7");
    }

    #[test]
    fn another_scope_is_refused() {
        let k = keys(&[1]);
        let c = encode(&k, SCOPE, "MEMBER#u7");
        for other in ["members:org_2::", "members:org_1:admin:", "audit:org_1", "orgs:u1", ""] {
            assert_eq!(decode(&k, &c, other), Err(Error::InvalidCursor), "{other}");
        }
        // The scope is length-prefixed: moving bytes between scope and key changes the tag.
        let c = encode(&k, "audit:org_1", "EVENT#1");
        assert_eq!(decode(&k, &c, "audit:org_1EVENT#"), Err(Error::InvalidCursor));
    }

    #[test]
    fn every_single_character_change_is_refused() {
        let k = keys(&[1]);
        let c = encode(&k, SCOPE, "MEMBER#u7");
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (i, original) in c.char_indices() {
            for replacement in alphabet.chars().filter(|r| *r != original) {
                let mut edited = c.clone();
                edited.replace_range(i..i + 1, &replacement.to_string());
                assert_eq!(decode(&k, &edited, SCOPE), Err(Error::InvalidCursor), "{i}: {edited}");
            }
            let mut shorter = c.clone();
            shorter.remove(i);
            assert_eq!(decode(&k, &shorter, SCOPE), Err(Error::InvalidCursor), "without {i}");
        }
        for suffix in ["A", "AA", "AAAA", "="] {
            assert_eq!(decode(&k, &format!("{c}{suffix}"), SCOPE), Err(Error::InvalidCursor));
        }
    }

    #[test]
    fn every_single_byte_change_is_refused() {
        let k = keys(&[1]);
        let bytes = URL_SAFE_NO_PAD.decode(encode(&k, SCOPE, "MEMBER#u7")).unwrap();
        for i in 0..bytes.len() {
            for value in (0..=255u8).filter(|v| *v != bytes[i]) {
                let mut edited = bytes.clone();
                edited[i] = value;
                let edited = URL_SAFE_NO_PAD.encode(&edited);
                assert_eq!(decode(&k, &edited, SCOPE), Err(Error::InvalidCursor), "byte {i} = {value}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_alteration_of_any_cursor_is_refused(
            scope in "[a-z:_0-9]{0,40}",
            last_key in "[A-Za-z#_0-9]{1,80}",
            position in any::<prop::sample::Index>(),
            flip in 1..=255u8,
        ) {
            let k = keys(&[7]);
            let c = encode(&k, &scope, &last_key);
            prop_assert_eq!(decode(&k, &c, &scope), Ok(last_key));
            let mut bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
            let i = position.index(bytes.len());
            bytes[i] ^= flip;
            prop_assert_eq!(decode(&k, &URL_SAFE_NO_PAD.encode(&bytes), &scope), Err(Error::InvalidCursor));
        }
    }

    #[test]
    fn rotation_accepts_listed_keys_only() {
        let old = keys(&[1]);
        let c = encode(&old, SCOPE, "MEMBER#u7");
        // Rotation: the new key signs, the old one still verifies.
        let rotated = keys(&[2, 1]);
        assert_eq!(decode(&rotated, &c, SCOPE).unwrap(), "MEMBER#u7");
        let fresh = encode(&rotated, SCOPE, "MEMBER#u7");
        assert_ne!(fresh, c, "the first key signs");
        assert_eq!(decode(&keys(&[2]), &fresh, SCOPE).unwrap(), "MEMBER#u7");
        // Once the old key is dropped, its cursors are refused.
        assert_eq!(decode(&keys(&[2]), &c, SCOPE), Err(Error::InvalidCursor));
        assert_eq!(decode(&keys(&[3]), &fresh, SCOPE), Err(Error::InvalidCursor));
    }

    #[test]
    fn unsigned_and_garbage_cursors_are_refused() {
        let k = keys(&[1]);
        // A version-1 cursor: base64url of {"v":1,"s":SCOPE,"k":"MEMBER#u7"}.
        let v1 = URL_SAFE_NO_PAD.encode(format!(r#"{{"v":1,"s":"{SCOPE}","k":"MEMBER#u7"}}"#));
        let no_key = URL_SAFE_NO_PAD.encode([&[VERSION][..], &[0u8; TAG_LEN]].concat());
        for junk in ["", "!!!", "e30", &"A".repeat(2000), &v1, &no_key] {
            assert_eq!(decode(&k, junk, SCOPE), Err(Error::InvalidCursor), "{junk}");
        }
    }

    #[test]
    fn keys_parse_from_hex_and_base64_and_never_show() {
        let hex = "00".repeat(31) + "ff";
        let parsed = CursorKeys::parse(&format!(
            " {hex} ,{},{}",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "_-8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0"
        ))
        .unwrap();
        assert_eq!(parsed.0.len(), 3);
        assert_eq!(parsed.0[0][31], 0xff);
        assert_eq!(parsed.0[1], (0..32u8).collect::<Vec<_>>());
        assert_eq!(&parsed.0[2][..3], &[0xff, 0xef, 0x00]);
        // Secrets Manager's generated strings (alphanumeric, 64 characters) are base64.
        assert_eq!(CursorKeys::parse(&"aZ09".repeat(16)).unwrap().0[0].len(), 48);
        assert_eq!(format!("{parsed:?}"), "CursorKeys(3 keys, redacted)");

        let short = "c2hvcnQta2V5"; // "short-key"
        for bad in ["", ",", &format!("{hex},"), short, "not base64 at all!", &"ab".repeat(31)] {
            let error = CursorKeys::parse(bad).unwrap_err();
            assert!(bad.len() < 2 || !error.contains(bad), "the error repeats the key: {error}");
        }
        assert!(CursorKeys::parse(short).unwrap_err().contains("at least 32"));
        assert_eq!(CursorKeys::generate().unwrap().0[0].len(), MIN_KEY_BYTES);
        assert_ne!(CursorKeys::generate().unwrap(), CursorKeys::generate().unwrap());
    }
}
