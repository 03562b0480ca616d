//! An email address that has been checked once, at the edge, and is canonical from then on.

use std::fmt;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use serde::{Deserialize, Serialize};

use super::text::is_invisible;

/// A syntactically valid, trimmed email address in canonical form: an ASCII local part in
/// lower case, and the domain in lower case ASCII, a Unicode domain in its punycode form
/// (`bücher.example` is `xn--bcher-kva.example`).
///
/// Addresses are compared case-insensitively everywhere in Roster (an invitation to
/// `Ann@Example.COM` is accepted by `ann@example.com`), so the canonical form is lower case.
/// Only ASCII letters are folded: a local part with any other character is refused as given,
/// because Unicode case folding would make distinct addresses equal (U+212A KELVIN SIGN
/// lower-cases to `k`, so `\u{212A}im` would pass for `kim`).
/// The grammar is deliberately stricter than RFC 5321 (no quoted local parts, no IP literals):
/// every accepted address must be one SES will deliver to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// The limits are those of the ASCII form, as stored and as SES sends to it.
const MAX_LEN: usize = 254;
const MAX_LOCAL: usize = 64;
const MAX_LABEL: usize = 63;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let raw = raw.trim();
        // Bounds the work below; the limit holds again for the ASCII form.
        if raw.is_empty() || raw.chars().count() > MAX_LEN {
            return Err(InvalidEmail);
        }
        let (local, domain) = raw.split_once('@').ok_or(InvalidEmail)?;
        // Checked as given, before anything is folded (see the type's comment).
        if !valid_local(local) {
            return Err(InvalidEmail);
        }
        let domain = ascii_domain(domain).ok_or(InvalidEmail)?;
        let address = format!("{}@{domain}", local.to_ascii_lowercase());
        if address.len() > MAX_LEN || !valid_domain(&domain) {
            return Err(InvalidEmail);
        }
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// ASCII only, so it is checked before (and needs no) Unicode case folding.
fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    !local.is_empty()
        && local.len() <= MAX_LOCAL
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

/// The domain's ASCII form by UTS 46 (non-transitional: `ß` stays `ß`), lower case, every
/// Unicode label as its `xn--` A-label; `None` when the conversion refuses it (a disallowed
/// character, bad punycode, a right-to-left label breaking the bidi rule, a joiner out of
/// context, a character outside letters, digits and hyphens, a label too long...). Invisible
/// characters are refused first: UTS 46 would silently drop some of them (U+200B, U+00AD),
/// and an address should not hold what nobody can see.
fn ascii_domain(domain: &str) -> Option<String> {
    if domain.chars().any(is_invisible) {
        return None;
    }
    Uts46::new()
        .to_ascii(domain.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast, DnsLength::Verify)
        .ok()
        .map(|ascii| ascii.into_owned())
}

/// Checks the ASCII form: at least two labels of letters, digits and inner hyphens, and a
/// top-level domain that is letters only or an A-label (`xn--p1ai`, which IDNA has
/// already decoded and checked).
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && tld.len() >= 2
        && (tld.chars().all(|c| c.is_ascii_alphabetic()) || is_a_label(tld))
}

fn is_a_label(label: &str) -> bool {
    label.len() > "xn--".len() && label.starts_with("xn--")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct InvalidEmail;

/// How stored addresses are read back (serde only: request input goes through
/// [`Email::parse`]). An address written before the IDNA rules, which they now refuse (an
/// `xn--` label that is not valid punycode), still reads, as written, so that one old member
/// cannot make a list unreadable: it was checked when it was written, by the rules of then.
impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).or_else(|e| {
            let stored_canonical = value.len() <= MAX_LEN
                && value.bytes().all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
                && value.split_once('@').is_some_and(|(local, domain)| {
                    valid_local(local) && !domain.is_empty() && !domain.contains('@')
                });
            if stored_canonical { Ok(Self(value)) } else { Err(e) }
        })
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_case_and_whitespace() {
        let email = Email::parse("  Ann@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ann@example.com");
        assert_eq!(email, Email::parse("ann@example.com").unwrap());
    }

    #[test]
    fn accepts_common_shapes() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "o'brien@x-y.io", "u_1@d.museum"] {
            assert!(Email::parse(ok).is_ok(), "{ok} should parse");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "",
            " ",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@b.c",
            "a@b.c0m",
            "a@[127.0.0.1]",
            "\"q\"@b.com",
            "a@b.com\r\nBcc: x@y.com",
            "a@b.com\nx",
            "é@b.com",
            &long_local,
            &long_total,
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn a_local_part_is_checked_before_it_is_folded() {
        // U+212A KELVIN SIGN lower-cases to ASCII `k`: it must not pass for `kim`.
        assert_eq!("\u{212A}im".to_lowercase(), "kim", "the folding this guards against");
        assert_eq!(Email::parse("\u{212A}im@x.test"), Err(InvalidEmail));
        assert_eq!(Email::parse("\u{212A}IM@X.TEST"), Err(InvalidEmail));
        assert_eq!(Email::parse("Kim@X.test").unwrap().as_str(), "kim@x.test");
        // Other letters that fold or look like ASCII ones: dotted capital I, long s, Cyrillic а,
        // fullwidth letters, and an invisible character.
        for bad in [
            "\u{130}van@x.test",
            "\u{17F}am@x.test",
            "\u{430}nn@x.test",
            "\u{FF41}nn@x.test",
            "a\u{200B}nn@x.test",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn a_unicode_domain_is_stored_as_punycode() {
        for raw in
            ["ann@bücher.example", "ann@BÜCHER.example", "  Ann@Bücher.EXAMPLE ", "ann@xn--bcher-kva.example"]
        {
            assert_eq!(Email::parse(raw).unwrap().as_str(), "ann@xn--bcher-kva.example", "{raw:?}");
        }
        assert_eq!(Email::parse("user@пример.рф").unwrap().as_str(), "user@xn--e1afmkfd.xn--p1ai");
        assert_eq!(Email::parse("user@ПРИМЕР.РФ").unwrap().as_str(), "user@xn--e1afmkfd.xn--p1ai");
        // Non-transitional processing: `ß` is kept, not turned into `ss`.
        assert_eq!(Email::parse("a@straße.example").unwrap().as_str(), "a@xn--strae-oqa.example");
        // A dot by another name separates labels, as in any IDNA lookup.
        assert_eq!(Email::parse("a@example\u{3002}com").unwrap().as_str(), "a@example.com");
    }

    #[test]
    fn a_punycode_top_level_domain_is_accepted() {
        assert_eq!(Email::parse("user@example.xn--p1ai").unwrap().as_str(), "user@example.xn--p1ai");
        assert_eq!(Email::parse("user@EXAMPLE.XN--P1AI").unwrap().as_str(), "user@example.xn--p1ai");
        assert_eq!(Email::parse("user@example.рф").unwrap().as_str(), "user@example.xn--p1ai");
        // Only a well-formed A-label counts as one; digits are still no TLD.
        for bad in [
            "user@example.xn--",
            "user@example.xn--a",
            "user@example.xn--zz-",
            "user@example.xn--abc-",
            "user@example.123",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn a_domain_that_idna_refuses_is_invalid() {
        for bad in [
            // Bidi controls and marks.
            "a@exa\u{202E}mple.com",
            "a@example.com\u{202E}",
            "a@\u{2066}example\u{2069}.com",
            "a@example\u{200F}.com",
            // Zero-width characters, which UTS 46 would otherwise drop or keep unseen.
            "a@exa\u{200B}mple.com",
            "a@exa\u{200D}mple.com",
            "a@exa\u{2060}mple.com",
            "a@\u{FEFF}example.com",
            "a@ex\u{AD}ample.com",
            // Disallowed code points, symbols and a leading hyphen in a Unicode label.
            "a@ex\u{FFFD}ample.com",
            "a@exa mple.com",
            "a@ex_ample.com",
            "a@-bücher.example",
            "a@bücher-.example",
            // A right-to-left label next to one starting with a digit (the bidi rule).
            "a@1.\u{5D0}\u{5D1}.example",
            // A mixed-direction label.
            "a@a\u{5D0}.example",
            // Bad punycode.
            "a@xn--.example",
            "a@xn--ab-.example",
            // A trailing root dot, an empty domain.
            "a@example.com.",
            "a@",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn limits_apply_to_the_ascii_form() {
        // 60 `ü` are 60 characters, but their A-label is longer than 63.
        let wide_label = format!("a@{}.example", "ü".repeat(60));
        assert!(wide_label.chars().count() < MAX_LEN);
        assert_eq!(Email::parse(&wide_label), Err(InvalidEmail));
        let ascii_label = format!("a@{}.example", "u".repeat(63));
        assert!(Email::parse(&ascii_label).is_ok());
        // Short as typed, over 254 in ASCII: each label's A-label has 50 characters.
        let label = "東京都渋谷区神宮前一丁目二番三号";
        let three = Email::parse(&format!("{}@{label}.{label}.{label}.example", "a".repeat(64))).unwrap();
        assert_eq!(three.as_str().len(), 64 + 1 + 3 * 51 + 7);
        let long_total = format!("{}@{label}.{label}.{label}.{label}.example", "a".repeat(64));
        assert!(long_total.chars().count() < 150);
        assert_eq!(Email::parse(&long_total), Err(InvalidEmail));
        // 254 exactly is fine.
        let exact =
            format!("{}@{}.{}.{}.example", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(53));
        assert_eq!(exact.len(), MAX_LEN);
        assert!(Email::parse(&exact).is_ok());
        let over =
            format!("{}@{}.{}.{}.example", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(54));
        assert_eq!(over.len(), MAX_LEN + 1);
        assert_eq!(Email::parse(&over), Err(InvalidEmail));
    }

    #[test]
    fn stored_addresses_read_back_unchanged() {
        for stored in ["ann@xn--bcher-kva.example", "user@example.xn--p1ai", "kim@x.test"] {
            let read: Email = serde_json::from_value(serde_json::json!(stored)).unwrap();
            assert_eq!(read.as_str(), stored);
        }
        let refused: Result<Email, _> = serde_json::from_value(serde_json::json!("\u{212A}im@x.test"));
        assert!(refused.is_err());
    }
}
