//! What the invitation email shows of the product: its name, an optional logo and an accent
//! colour (`ROSTER_PRODUCT_NAME`, `ROSTER_LOGO_URL`, `ROSTER_ACCENT_COLOR`), parsed at cold
//! start into types that can only hold values safe to put in an email.

use std::fmt;

use crate::domain::text::{InvalidName, one_line};

/// The product's look in the invitation email.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Branding {
    pub product_name: ProductName,
    /// Shown above the message instead of the product name as text.
    pub logo_url: Option<LogoUrl>,
    pub accent_color: AccentColor,
}

/// The product's name: 1–60 characters after trimming, no control characters (so it stays on
/// one line in a subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub const MAX_CHARS: usize = 60;
    pub const DEFAULT: &'static str = "Roster";

    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        one_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ProductName {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for ProductName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The address of the logo: an absolute `https://` URL (`http://` only for `localhost`,
/// `127.0.0.1` or `[::1]`, for local development) with a host, no user info, and none of the
/// characters that could end an HTML attribute or a URL early: quotes, white space, `<`, `>`,
/// a backslash or a control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoUrl(String);

impl LogoUrl {
    pub const MAX_CHARS: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, InvalidLogoUrl> {
        let url = raw.trim();
        if url.chars().count() > Self::MAX_CHARS {
            return Err(InvalidLogoUrl::TooLong);
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace() || "\"'<>\\`".contains(c)) {
            return Err(InvalidLogoUrl::Character);
        }
        let lower = url.to_ascii_lowercase();
        let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(InvalidLogoUrl::Scheme);
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(InvalidLogoUrl::UserInfo);
        }
        let host = match authority.strip_prefix('[') {
            // An IPv6 literal: up to its closing bracket.
            Some(v6) => v6.split_once(']').map(|(inside, _)| inside).unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        if host.is_empty() {
            return Err(InvalidLogoUrl::NoHost);
        }
        if !secure && !matches!(host, "localhost" | "127.0.0.1" | "::1") {
            return Err(InvalidLogoUrl::Scheme);
        }
        Ok(Self(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLogoUrl {
    #[error("must be an https:// URL (http:// only for localhost)")]
    Scheme,
    #[error("must name a host")]
    NoHost,
    #[error("must not carry a user name or password")]
    UserInfo,
    #[error("must not contain quotes, spaces, `<`, `>`, backslashes or control characters")]
    Character,
    #[error("must be at most 2048 characters")]
    TooLong,
}

/// The accent colour of the button and links: an sRGB colour, written `#rgb` or `#rrggbb`.
/// Shown as `#rrggbb` (lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccentColor([u8; 3]);

impl AccentColor {
    /// A blue with white text at a contrast of 5.2:1.
    pub const DEFAULT: AccentColor = AccentColor([0x25, 0x63, 0xeb]);

    pub fn parse(raw: &str) -> Result<Self, InvalidAccentColor> {
        let hex = raw.trim().strip_prefix('#').ok_or(InvalidAccentColor)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidAccentColor);
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).map_err(|_| InvalidAccentColor);
        match hex.len() {
            3 => Ok(Self([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17])),
            6 => {
                Ok(Self([digit(0)? * 16 + digit(1)?, digit(2)? * 16 + digit(3)?, digit(4)? * 16 + digit(5)?]))
            }
            _ => Err(InvalidAccentColor),
        }
    }

    pub fn rgb(self) -> [u8; 3] {
        self.0
    }

    /// WCAG 2 relative luminance, 0 (black) to 1 (white).
    pub fn relative_luminance(self) -> f64 {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        let [r, g, b] = self.0;
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// WCAG 2 contrast ratio against white, 1 to 21.
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.relative_luminance() + 0.05)
    }

    /// Whether white text on this colour (and this colour as text on white) reaches the
    /// WCAG AA contrast for normal text, 4.5:1.
    pub fn takes_white_text(self) -> bool {
        self.contrast_with_white() >= 4.5
    }
}

impl Default for AccentColor {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for AccentColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a hex colour, #rgb or #rrggbb")]
pub struct InvalidAccentColor;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_name_trims_and_bounds() {
        assert_eq!(ProductName::default().as_str(), "Roster");
        assert_eq!(ProductName::parse("  Acme HR ").unwrap().as_str(), "Acme HR");
        assert_eq!(ProductName::parse("  "), Err(InvalidName::Blank));
        assert!(ProductName::parse(&"é".repeat(60)).is_ok(), "60 characters, not bytes");
        assert_eq!(ProductName::parse(&"x".repeat(61)), Err(InvalidName::TooLong(60)));
        assert_eq!(ProductName::parse("Acme\r\nBcc: x@y.z"), Err(InvalidName::ControlCharacter));
    }

    #[test]
    fn logo_url_is_https_or_local_http() {
        for ok in [
            "https://cdn.example.com/logo.png",
            "HTTPS://cdn.example.com/logo.png?v=2&size=80",
            "https://cdn.example.com:8443/logo.png",
            "http://localhost:5173/logo.png",
            "http://127.0.0.1/logo.png",
            "http://[::1]:8080/logo.png",
        ] {
            assert_eq!(LogoUrl::parse(ok).unwrap().as_str(), ok.trim());
        }
        assert_eq!(LogoUrl::parse(" https://x.test/a.png ").unwrap().as_str(), "https://x.test/a.png");
        for (bad, why) in [
            ("http://cdn.example.com/logo.png", InvalidLogoUrl::Scheme),
            ("http://localhost.evil.com/logo.png", InvalidLogoUrl::Scheme),
            ("javascript:alert(1)", InvalidLogoUrl::Scheme),
            ("data:image/png;base64,AAAA", InvalidLogoUrl::Scheme),
            ("//cdn.example.com/logo.png", InvalidLogoUrl::Scheme),
            ("/logo.png", InvalidLogoUrl::Scheme),
            ("https:///logo.png", InvalidLogoUrl::NoHost),
            ("https://:443/logo.png", InvalidLogoUrl::NoHost),
            ("http://localhost@evil.com/logo.png", InvalidLogoUrl::UserInfo),
            ("https://x.test/a.png\" onerror=\"alert(1)", InvalidLogoUrl::Character),
            ("https://x.test/a'.png", InvalidLogoUrl::Character),
            ("https://x.test/<a>.png", InvalidLogoUrl::Character),
            ("https://x.test/a b.png", InvalidLogoUrl::Character),
            ("https://x.test/a\n.png", InvalidLogoUrl::Character),
            ("https://x.test\\@evil.com/a.png", InvalidLogoUrl::Character),
        ] {
            assert_eq!(LogoUrl::parse(bad), Err(why), "{bad:?}");
        }
        assert_eq!(
            LogoUrl::parse(&format!("https://x.test/{}", "a".repeat(2048))),
            Err(InvalidLogoUrl::TooLong)
        );
    }

    #[test]
    fn accent_color_parses_short_and_long_hex() {
        assert_eq!(AccentColor::default().to_string(), "#2563eb");
        assert_eq!(AccentColor::parse("#2563EB").unwrap(), AccentColor::DEFAULT);
        assert_eq!(AccentColor::parse("#fa0").unwrap().rgb(), [0xff, 0xaa, 0x00]);
        assert_eq!(AccentColor::parse(" #0F0 ").unwrap().to_string(), "#00ff00");
        for bad in ["", "#", "2563eb", "#2563e", "#2563ebff", "#ggg", "red", "#+12", "#１２３"] {
            assert_eq!(AccentColor::parse(bad), Err(InvalidAccentColor), "{bad:?}");
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        let white = AccentColor::parse("#fff").unwrap();
        let black = AccentColor::parse("#000").unwrap();
        assert!((white.relative_luminance() - 1.0).abs() < 1e-9);
        assert!((black.contrast_with_white() - 21.0).abs() < 1e-9);
        assert!((AccentColor::DEFAULT.contrast_with_white() - 5.17).abs() < 0.01);
        assert!(AccentColor::DEFAULT.takes_white_text());
        // #767676 is the lightest grey with 4.5:1 on white; #777777 just misses it.
        assert!(AccentColor::parse("#767676").unwrap().takes_white_text());
        assert!(!AccentColor::parse("#777777").unwrap().takes_white_text());
        assert!(!AccentColor::parse("#fde047").unwrap().takes_white_text(), "a light yellow");
    }
}
