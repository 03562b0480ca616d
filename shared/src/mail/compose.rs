//! The invitation email, as text and HTML. Every user-supplied string is HTML-escaped in the
//! HTML part, and the subject is kept to one line.
//!
//! The HTML is what email clients render reliably: tables for layout, inline styles only (no
//! `<style>` block, no external CSS), one container at most 560 px wide and 100% of narrower
//! screens, and every block with both its background and its text colour set, so that a client
//! that darkens or inverts colours never puts dark text on a dark background.

use crate::domain::{Role, Timestamp};
use crate::mail::branding::Branding;

pub struct InvitationEmail<'a> {
    pub org_name: &'a str,
    pub inviter_name: &'a str,
    pub role: Role,
    pub expires_at: Timestamp,
    pub accept_url: &'a str,
    pub branding: &'a Branding,
}

pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Escapes the five characters that matter in HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line: control characters (CR, LF, tabs...) become spaces, runs of spaces collapse.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn compose(mail: &InvitationEmail<'_>) -> Composed {
    let product = one_line(mail.branding.product_name.as_str());
    let org = one_line(mail.org_name);
    let inviter = one_line(mail.inviter_name);
    let role = mail.role.as_str();
    let article = article(role);
    let expires = expiry(mail.expires_at);
    let subject = one_line(&format!("{inviter} invited you to join {org} on {product}"));
    let text = format!(
        "Join {org} on {product}\n\n\
         {inviter} has invited you to join {org} as {article} {role}.\n\n\
         Accept the invitation by opening this link:\n{url}\n\n\
         This invitation expires on {expires}.\n\n\
         If you weren't expecting this invitation, you can ignore this email.\n\n\
         Sent by {product}\n",
        url = mail.accept_url,
    );
    let html = html(&Parts {
        product: &escape_html(&product),
        org: &escape_html(&org),
        inviter: &escape_html(&inviter),
        role,
        article,
        expires: &expires,
        url: &escape_html(mail.accept_url),
        subject: &escape_html(&subject),
        branding: mail.branding,
    });
    Composed { subject, text, html }
}

/// When an invitation expires, in words and in UTC: "27 November 2026 at 14:05 UTC".
fn expiry(at: Timestamp) -> String {
    at.as_datetime().format("%-d %B %Y at %H:%M UTC").to_string()
}

/// The HTML part's text, already escaped.
struct Parts<'a> {
    product: &'a str,
    org: &'a str,
    inviter: &'a str,
    role: &'static str,
    article: &'static str,
    expires: &'a str,
    url: &'a str,
    subject: &'a str,
    branding: &'a Branding,
}

const FONT: &str = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
/// Around the card.
const PAGE: &str = "#f3f4f6";
const CARD: &str = "#ffffff";
const BORDER: &str = "#e5e7eb";
/// Text, and button text on a light accent colour.
const INK: &str = "#111827";
/// Secondary text: 7.6:1 on the card, 6.9:1 on the page.
const MUTED: &str = "#4b5563";

fn html(p: &Parts<'_>) -> String {
    let accent = p.branding.accent_color;
    // White on the accent colour when that reads at WCAG AA (4.5:1), dark text otherwise; the
    // same test says whether the accent colour can be link text on the white card.
    let (button_text, link) = if accent.takes_white_text() {
        ("#ffffff".to_owned(), accent.to_string())
    } else {
        (INK.to_owned(), INK.to_owned())
    };
    let header = match &p.branding.logo_url {
        Some(logo) => format!(
            "<img src=\"{src}\" alt=\"{alt}\" height=\"40\" style=\"display:block;height:40px;width:auto;\
             max-width:240px;border:0;outline:none;text-decoration:none;font-family:{FONT};font-size:20px;\
             line-height:40px;font-weight:700;color:{INK};\">",
            src = escape_html(logo.as_str()),
            alt = p.product,
        ),
        None => p.product.to_owned(),
    };
    let product = p.product;
    let org = p.org;
    let inviter = p.inviter;
    let role = p.role;
    let article = p.article;
    let expires = p.expires;
    let url = p.url;
    let subject = p.subject;
    format!(
        "<!doctype html>\
<html lang=\"en\" dir=\"ltr\">\
<head>\
<meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\">\
<meta name=\"supported-color-schemes\" content=\"light dark\">\
<title>{subject}</title>\
</head>\
<body style=\"margin:0;padding:0;width:100%;background-color:{PAGE};color:{INK};\
-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%;\">\
<div style=\"display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;font-size:1px;line-height:1px;\
color:{PAGE};mso-hide:all;\">{inviter} has invited you to join {org} as {article} {role}.</div>\
<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"{PAGE}\" \
style=\"width:100%;border-collapse:collapse;background-color:{PAGE};\">\
<tr><td align=\"center\" style=\"padding:24px 12px;background-color:{PAGE};color:{INK};\">\
<!--[if mso]><table role=\"presentation\" width=\"560\" align=\"center\" cellpadding=\"0\" cellspacing=\"0\" \
border=\"0\"><tr><td><![endif]-->\
<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
style=\"width:100%;max-width:560px;border-collapse:separate;\">\
<tr><td style=\"padding:0 4px 16px 4px;background-color:{PAGE};color:{INK};font-family:{FONT};font-size:20px;\
line-height:28px;font-weight:700;text-align:left;\">{header}</td></tr>\
<tr><td bgcolor=\"{CARD}\" style=\"padding:32px 24px;background-color:{CARD};color:{INK};border:1px solid {BORDER};\
border-radius:8px;font-family:{FONT};text-align:left;\">\
<h1 style=\"margin:0 0 16px 0;font-family:{FONT};font-size:24px;line-height:32px;font-weight:700;color:{INK};\
overflow-wrap:break-word;word-wrap:break-word;\">Join {org}</h1>\
<p style=\"margin:0 0 16px 0;font-family:{FONT};font-size:16px;line-height:24px;color:{INK};\
overflow-wrap:break-word;word-wrap:break-word;\"><strong>{inviter}</strong> has invited you to join \
<strong>{org}</strong> as {article} <strong>{role}</strong>.</p>\
<p style=\"margin:0 0 24px 0;font-family:{FONT};font-size:14px;line-height:20px;color:{MUTED};\">\
This invitation expires on {expires}.</p>\
<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:separate;\">\
<tr><td align=\"center\" bgcolor=\"{accent}\" style=\"border-radius:6px;background-color:{accent};\
color:{button_text};mso-padding-alt:12px 24px;\">\
<a href=\"{url}\" target=\"_blank\" rel=\"noopener\" style=\"display:inline-block;padding:12px 24px;\
border:1px solid {accent};border-radius:6px;background-color:{accent};color:{button_text};font-family:{FONT};\
font-size:16px;line-height:20px;font-weight:600;text-decoration:none;\">Accept invitation</a>\
</td></tr></table>\
<p style=\"margin:24px 0 4px 0;font-family:{FONT};font-size:14px;line-height:20px;color:{MUTED};\">\
Or paste this link into your browser:</p>\
<p style=\"margin:0;font-family:{FONT};font-size:14px;line-height:20px;color:{INK};word-break:break-all;\
overflow-wrap:anywhere;\"><a href=\"{url}\" target=\"_blank\" rel=\"noopener\" style=\"color:{link};\
text-decoration:underline;word-break:break-all;overflow-wrap:anywhere;\">{url}</a></p>\
</td></tr>\
<tr><td style=\"padding:24px 4px 0 4px;background-color:{PAGE};color:{MUTED};font-family:{FONT};font-size:13px;\
line-height:20px;text-align:center;\">\
If you weren&#39;t expecting this invitation, you can ignore this email.<br>Sent by {product}</td></tr>\
</table>\
<!--[if mso]></td></tr></table><![endif]-->\
</td></tr>\
</table>\
</body>\
</html>\n"
    )
}

fn article(role: &str) -> &'static str {
    if role.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::branding::{AccentColor, LogoUrl, ProductName};

    const URL: &str = "https://app.example.com/invite?token=org_0123.abc-DEF_9&x=1";

    fn mail<'a>(branding: &'a Branding) -> InvitationEmail<'a> {
        InvitationEmail {
            org_name: "Acme",
            inviter_name: "Alice Example",
            role: Role::Member,
            expires_at: Timestamp::parse("2026-11-27T14:05:59.999Z").unwrap(),
            accept_url: URL,
            branding,
        }
    }

    /// The opening tags named `name` (`<td ...>`), for checks on their attributes.
    fn tags<'h>(html: &'h str, name: &str) -> Vec<&'h str> {
        let open = format!("<{name}");
        html.match_indices(&open)
            .filter(|(i, _)| html[i + open.len()..].starts_with([' ', '>']))
            .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap() + 1])
            .collect()
    }

    #[test]
    fn hostile_names_are_escaped_and_kept_off_the_header_lines() {
        let branding = Branding::default();
        let mail = InvitationEmail {
            org_name: "<script>alert(1)</script>\r\nBcc: evil@x.com",
            inviter_name: "Ann \"the\" <b>Admin</b>",
            role: Role::Admin,
            expires_at: Timestamp::now(),
            accept_url: "https://app.example.com/invite?token=abc&x=1",
            branding: &branding,
        };
        let c = compose(&mail);
        assert!(!c.subject.contains('\n') && !c.subject.contains('\r'), "{:?}", c.subject);
        assert!(c.subject.contains("<script>alert(1)</script> Bcc: evil@x.com"));
        assert!(!c.html.contains("<script>"), "{}", c.html);
        assert!(!c.html.contains("<b>"), "{}", c.html);
        assert!(c.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(c.html.contains("Ann &quot;the&quot; &lt;b&gt;Admin&lt;/b&gt;"));
        assert!(c.html.contains("href=\"https://app.example.com/invite?token=abc&amp;x=1\""));
        assert!(c.text.contains("as an admin"));
        assert!(c.text.contains("https://app.example.com/invite?token=abc&x=1"));
        // The names are one line in the text part too.
        assert!(
            c.text.lines().any(|l| l.starts_with("Join <script>alert(1)</script> Bcc: evil@x.com on Roster"))
        );
        assert!(!c.text.lines().any(|l| l.starts_with("Bcc:")), "{}", c.text);
    }

    #[test]
    fn a_hostile_product_name_is_escaped_too() {
        let branding = Branding {
            product_name: ProductName::parse("Acme <i>People</i> & \"Co\"").unwrap(),
            logo_url: Some(LogoUrl::parse("https://cdn.acme.test/logo.png?v=1&size=2").unwrap()),
            ..Branding::default()
        };
        let c = compose(&mail(&branding));
        assert_eq!(c.subject, "Alice Example invited you to join Acme on Acme <i>People</i> & \"Co\"");
        assert!(!c.html.contains("<i>"), "{}", c.html);
        assert!(c.html.contains("alt=\"Acme &lt;i&gt;People&lt;/i&gt; &amp; &quot;Co&quot;\""), "{}", c.html);
        assert!(c.html.contains("src=\"https://cdn.acme.test/logo.png?v=1&amp;size=2\""), "{}", c.html);
        assert!(c.html.contains("Sent by Acme &lt;i&gt;People&lt;/i&gt; &amp; &quot;Co&quot;"), "{}", c.html);
    }

    #[test]
    fn both_parts_say_who_what_and_until_when() {
        let branding = Branding::default();
        let c = compose(&mail(&branding));
        assert_eq!(c.subject, "Alice Example invited you to join Acme on Roster");
        let expires = "This invitation expires on 27 November 2026 at 14:05 UTC.";
        for part in [&c.text, &c.html] {
            assert!(part.contains("Alice Example"), "{part}");
            assert!(part.contains("Acme"), "{part}");
            assert!(part.contains(expires), "{part}");
            assert!(part.contains("you can ignore this email."), "{part}");
        }
        assert!(c.text.contains("Alice Example has invited you to join Acme as a member."), "{}", c.text);
        assert!(c.html.contains("as a <strong>member</strong>."), "{}", c.html);
        assert!(c.html.contains(">Join Acme</h1>"), "{}", c.html);
        // The text part's link is on a line of its own, as it is (and as tests read it).
        assert!(c.text.lines().any(|l| l == URL), "{}", c.text);
        assert_eq!(c.text.matches("token=").count(), 1);
        // One button; the same address beneath it, as a link and as text.
        let escaped = escape_html(URL);
        assert_eq!(c.html.matches(">Accept invitation</a>").count(), 1);
        assert_eq!(c.html.matches(&format!("href=\"{escaped}\"")).count(), 2, "{}", c.html);
        assert!(c.html.contains(&format!(">{escaped}</a>")), "{}", c.html);
        assert!(c.html.contains("Or paste this link into your browser:"));

        let early = Timestamp::parse("2027-03-04T09:00:00Z").unwrap();
        assert_eq!(expiry(early), "4 March 2027 at 09:00 UTC");
        let offset = Timestamp::parse("2026-12-31T23:30:00-02:00").unwrap();
        assert_eq!(expiry(offset), "1 January 2027 at 01:30 UTC");
    }

    #[test]
    fn the_button_wears_the_accent_colour_with_readable_text() {
        let blue = Branding::default();
        let html = compose(&mail(&blue)).html;
        let button = tags(&html, "a").into_iter().find(|a| a.contains("padding:12px 24px")).unwrap();
        assert!(button.contains("background-color:#2563eb;color:#ffffff;"), "{button}");
        assert!(html.contains("bgcolor=\"#2563eb\""), "{html}");

        let yellow = Branding { accent_color: AccentColor::parse("#FDE047").unwrap(), ..Branding::default() };
        let html = compose(&mail(&yellow)).html;
        let button = tags(&html, "a").into_iter().find(|a| a.contains("padding:12px 24px")).unwrap();
        assert!(button.contains("background-color:#fde047;color:#111827;"), "{button}");
        // Nor is the light colour used for link text on the white card.
        let link = tags(&html, "a").into_iter().find(|a| a.contains("text-decoration:underline")).unwrap();
        assert!(link.contains("color:#111827;"), "{link}");
        assert!(!html.contains(";color:#ffffff"), "{html}");

        let green = Branding { accent_color: AccentColor::parse("#047857").unwrap(), ..Branding::default() };
        let html = compose(&mail(&green)).html;
        let link = tags(&html, "a").into_iter().find(|a| a.contains("text-decoration:underline")).unwrap();
        assert!(link.contains("color:#047857;"), "{link}");
    }

    #[test]
    fn the_logo_only_when_configured() {
        let plain =
            Branding { product_name: ProductName::parse("Acme People").unwrap(), ..Branding::default() };
        let html = compose(&mail(&plain)).html;
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains(">Acme People</td>"), "the name heads the email: {html}");

        let logo = Branding {
            logo_url: Some(LogoUrl::parse("https://cdn.acme.test/logo.png").unwrap()),
            ..plain.clone()
        };
        let html = compose(&mail(&logo)).html;
        let images = tags(&html, "img");
        assert_eq!(images.len(), 1, "{html}");
        let img = images[0];
        assert!(img.contains("src=\"https://cdn.acme.test/logo.png\""), "{img}");
        assert!(img.contains("alt=\"Acme People\""), "{img}");
        assert!(img.contains("height=\"40\""), "{img}");
        assert!(!html.contains(">Acme People</td>"), "{html}");
    }

    #[test]
    fn inline_styles_only_and_every_block_coloured() {
        let logo = Branding {
            logo_url: Some(LogoUrl::parse("https://cdn.acme.test/logo.png").unwrap()),
            ..Branding::default()
        };
        for branding in [Branding::default(), logo] {
            let html = compose(&mail(&branding)).html;
            let lower = html.to_ascii_lowercase();
            for absent in ["<script", "<style", "<link", "@import", "url(", "javascript:", "class="] {
                assert!(!lower.contains(absent), "{absent}: {html}");
            }
            assert!(html.contains("<meta name=\"color-scheme\" content=\"light dark\">"));
            assert!(html.contains("<meta name=\"supported-color-schemes\" content=\"light dark\">"));
            assert!(
                html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            );
            assert!(html.contains("width:100%;max-width:560px;"), "{html}");
            // No block is left to a client's default colours: dark mode cannot put dark text
            // on a dark background. (Outlook's conditional comments hold a bare table.)
            let mut html = html.clone();
            while let Some(start) = html.find("<!--") {
                let end = start + html[start..].find("-->").unwrap() + 3;
                html.replace_range(start..end, "");
            }
            for name in ["body", "td"] {
                for tag in tags(&html, name) {
                    assert!(tag.contains("background-color:") && tag.contains(";color:"), "{tag}");
                }
            }
            for name in ["h1", "p", "a", "div"] {
                for tag in tags(&html, name) {
                    assert!(tag.contains(";color:") || tag.contains("\"color:"), "{tag}");
                }
            }
            assert_eq!(tags(&html, "h1").len(), 1);
        }
    }

    #[test]
    fn escaping_and_one_line() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(one_line(" a\r\n\tb   c "), "a b c");
    }
}
