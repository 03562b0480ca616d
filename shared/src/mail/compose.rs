//! The invitation email, as text and HTML. Every user-supplied string is HTML-escaped in the
//! HTML part, and the subject is kept to one line.

use crate::domain::{Role, Timestamp};

pub struct InvitationEmail<'a> {
    pub org_name: &'a str,
    pub inviter_name: &'a str,
    pub role: Role,
    pub expires_at: Timestamp,
    pub accept_url: &'a str,
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
    let org = one_line(mail.org_name);
    let inviter = one_line(mail.inviter_name);
    let expires = mail.expires_at.as_datetime().format("%Y-%m-%d %H:%M UTC").to_string();
    let role = mail.role.as_str();
    let subject = one_line(&format!("{inviter} invited you to join {org} on Roster"));
    let text = format!(
        "{inviter} invited you to join {org} as {article} {role}.\n\n\
         Accept the invitation:\n{url}\n\n\
         The invitation expires on {expires}. If you did not expect it, ignore this email.\n",
        article = article(role),
        url = mail.accept_url,
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p><strong>{inviter}</strong> invited you to join <strong>{org}</strong> as {article} {role}.</p>\
         <p><a href=\"{url}\">Accept the invitation</a></p>\
         <p style=\"color:#666\">The invitation expires on {expires}. If you did not expect it, ignore this email.</p>\
         </body></html>",
        inviter = escape_html(&inviter),
        org = escape_html(&org),
        article = article(role),
        url = escape_html(mail.accept_url),
    );
    Composed { subject, text, html }
}

fn article(role: &str) -> &'static str {
    if role.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_and_kept_off_the_header_lines() {
        let mail = InvitationEmail {
            org_name: "<script>alert(1)</script>\r\nBcc: evil@x.com",
            inviter_name: "Ann \"the\" <b>Admin</b>",
            role: Role::Admin,
            expires_at: Timestamp::now(),
            accept_url: "https://app.example.com/invite?token=abc&x=1",
        };
        let c = compose(&mail);
        assert!(!c.subject.contains('\n') && !c.subject.contains('\r'), "{:?}", c.subject);
        assert!(c.subject.contains("<script>alert(1)</script> Bcc: evil@x.com"));
        assert!(!c.html.contains("<script>"), "{}", c.html);
        assert!(c.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(c.html.contains("Ann &quot;the&quot; &lt;b&gt;Admin&lt;/b&gt;"));
        assert!(c.html.contains("href=\"https://app.example.com/invite?token=abc&amp;x=1\""));
        assert!(c.text.contains("as an admin"));
        assert!(c.text.contains("https://app.example.com/invite?token=abc&x=1"));
    }
}
