//! Search and list order (API.md "Search and filters"): how text folds into words, how a
//! query splits into terms, which members a query matches, and in which order they come.
//!
//! A term matches when it is the start of a word. Words are cut at whitespace and at `.`,
//! `_`, `-`, `+`, `@`, after Unicode NFKC and lowercase, so `ＡＮＮ`, `Ann` and `ann` are one
//! word and `ann.lee@example.com` is `ann`, `lee`, `example`, `com`. A query is cut the same
//! way (not only at whitespace, as the contract's minimum): pasting an address finds it.

use std::borrow::Cow;

use icu_normalizer::ComposingNormalizerBorrowed;

use super::{Role, Status};

/// The longest `q` taken, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most terms a query may have: each is checked against every candidate.
pub const MAX_TERMS: usize = 8;
/// The most words of one member that are searchable: every word is an index item written
/// with the membership, in its transactions (at most 100 items). Name words come first.
pub const MAX_WORDS: usize = 16;
/// The bytes of a word, of a term and of a sort name that count: keys hold at most 1,024
/// bytes, and a word and a name share one key with the user id.
pub const MAX_KEY_TEXT_BYTES: usize = 200;

/// NFKC, then lowercase: what every comparison sees.
pub fn fold(text: &str) -> String {
    let normalized: Cow<str> = ComposingNormalizerBorrowed::new_nfkc().normalize(text);
    normalized.to_lowercase()
}

/// Control characters cut too: names store them as spaces, and a term holding one could
/// only ever read index keys no word has.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '.' | '_' | '-' | '+' | '@')
}

/// `text` cut to at most `MAX_KEY_TEXT_BYTES` bytes, at a character boundary.
fn cut(text: &str) -> &str {
    if text.len() <= MAX_KEY_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_KEY_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The words of `text`, folded, in order (repeats included).
pub fn words(text: &str) -> impl Iterator<Item = String> {
    let folded = fold(text);
    folded
        .split(is_separator)
        .filter(|w| !w.is_empty())
        .map(|w| cut(w).to_owned())
        .collect::<Vec<_>>()
        .into_iter()
}

/// A member's searchable words: those of their name, then of their address, each once, at
/// most `MAX_WORDS`.
pub fn member_words(name: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in name.into_iter().chain(email).flat_map(words) {
        if found.len() == MAX_WORDS {
            break;
        }
        if !found.contains(&word) {
            found.push(word);
        }
    }
    found
}

/// What a member sorts by under `sort=name`: their name, or their address when they have
/// none, folded (and cut to `MAX_KEY_TEXT_BYTES`); ties go by user id.
pub fn sort_name(name: Option<&str>, email: Option<&str>) -> String {
    cut(&fold(name.or(email).unwrap_or_default())).to_owned()
}

/// A parsed `q`: its distinct terms, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    /// `None` for a query with no term (empty, or only separators).
    pub fn parse(q: &str) -> Result<Option<Self>, String> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("q is at most {MAX_QUERY_CHARS} characters"));
        }
        let visible: String = q.chars().filter(|c| !super::text::is_invisible(*c)).collect();
        let mut terms: Vec<String> = Vec::new();
        for term in words(&visible) {
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        if terms.len() > MAX_TERMS {
            return Err(format!("q has at most {MAX_TERMS} terms"));
        }
        Ok((!terms.is_empty()).then_some(Self(terms)))
    }

    pub fn terms(&self) -> &[String] {
        &self.0
    }

    /// The term an index is read by: the longest (the first of equals), as the one likely to
    /// match fewest words. Results come in the order of the word it matched.
    pub fn driver(&self) -> &str {
        let mut best = &self.0[0];
        for term in &self.0[1..] {
            if term.chars().count() > best.chars().count() {
                best = term;
            }
        }
        best
    }

    /// Whether every term starts one of `words`.
    pub fn matches(&self, words: &[String]) -> bool {
        self.0.iter().all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
    }

    /// The word a matching member is listed under: the smallest of its words the driving
    /// term starts (a member with two such words is listed once).
    pub fn listed_under<'a>(&self, words: &'a [String]) -> Option<&'a str> {
        let driver = self.driver();
        words.iter().filter(|w| w.starts_with(driver)).map(String::as_str).min()
    }

    /// The terms as one canonical string, for binding a cursor to its query.
    pub fn canonical(&self) -> String {
        self.0.join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemberSort {
    #[default]
    Name,
    JoinedAt,
}

impl MemberSort {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "name" => Some(Self::Name),
            "joinedAt" => Some(Self::JoinedAt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::JoinedAt => "joinedAt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

impl Order {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    pub fn is_ascending(self) -> bool {
        self == Self::Asc
    }
}

/// `GET /orgs/{orgId}/members` with its search, filters and order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberQuery {
    pub terms: Option<Terms>,
    pub role: Option<Role>,
    pub status: Option<Status>,
    pub sort: MemberSort,
    pub order: Order,
}

impl MemberQuery {
    /// Whether a member of `role` and `status` passes the query's filters.
    pub fn admits(&self, role: Role, status: Status) -> bool {
        self.role.is_none_or(|r| r == role) && self.status.is_none_or(|s| s == status)
    }

    /// Every part of the query, canonically: a cursor is bound to it.
    pub fn canonical(&self) -> String {
        format!(
            "q={};role={};status={};sort={};order={}",
            self.terms.as_ref().map(Terms::canonical).unwrap_or_default(),
            self.role.map_or("", Role::as_str),
            self.status.map_or("", Status::as_str),
            self.sort.as_str(),
            self.order.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Terms {
        Terms::parse(q).unwrap().unwrap()
    }

    #[test]
    fn words_fold_and_split() {
        let w: Vec<String> = words("Ann-Marie O'Neil ann.lee+x@Example.COM").collect();
        assert_eq!(w, ["ann", "marie", "o'neil", "ann", "lee", "x", "example", "com"]);
        // NFKC: full-width letters, ligatures and compatibility forms fold into plain ones.
        assert_eq!(words("ＡＮＮ ﬁona").collect::<Vec<_>>(), ["ann", "fiona"]);
        assert_eq!(fold("É"), fold("E\u{301}"));
        // A full-width at sign is a separator after NFKC; so is a control character.
        assert_eq!(words("a＠b").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(words("a\u{1}b\u{0}c").collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn member_words_are_distinct_and_bounded() {
        assert_eq!(member_words(Some("Ann Lee"), Some("ann@lee.io")), ["ann", "lee", "io"]);
        let long: String = (0..50).map(|i| format!("w{i} ")).collect();
        assert_eq!(member_words(Some(&long), None).len(), MAX_WORDS);
        let huge = "é".repeat(300);
        assert!(member_words(Some(&huge), None)[0].len() <= MAX_KEY_TEXT_BYTES);
    }

    #[test]
    fn queries_parse() {
        assert_eq!(Terms::parse("   ").unwrap(), None);
        assert_eq!(Terms::parse("..@").unwrap(), None);
        assert_eq!(terms("Ann  ann LEE").terms(), ["ann", "lee"]);
        // An invisible character does not split or change a term.
        assert_eq!(terms("a\u{200b}nn").terms(), ["ann"]);
        assert!(Terms::parse(&"a".repeat(201)).is_err());
        assert!(Terms::parse(&"a".repeat(200)).unwrap().is_some());
        assert!(Terms::parse("a b c d e f g h i").is_err());
        assert!(Terms::parse("a b c d e f g h").unwrap().is_some());
    }

    #[test]
    fn matching_is_prefix_of_a_word_for_every_term() {
        let words = member_words(Some("Ann Lee"), Some("alee@corp.example"));
        assert!(terms("an").matches(&words));
        assert!(terms("le an").matches(&words));
        assert!(terms("ann.lee").matches(&words));
        assert!(!terms("nn").matches(&words));
        assert!(!terms("ann bob").matches(&words));
        assert!(terms("corp").matches(&words));
    }

    #[test]
    fn a_member_is_listed_under_its_smallest_word_the_longest_term_starts() {
        let words = member_words(Some("Alice Al"), Some("alicia@x.io"));
        let q = terms("x ali");
        assert_eq!(q.driver(), "ali");
        assert_eq!(q.listed_under(&words), Some("alice"));
        assert_eq!(terms("al").listed_under(&words), Some("al"));
        assert_eq!(terms("bo").listed_under(&words), None);
    }

    #[test]
    fn sort_names_fall_back_to_the_address() {
        assert_eq!(sort_name(Some("Ann Lee"), Some("z@x.io")), "ann lee");
        assert_eq!(sort_name(None, Some("Z@x.io")), "z@x.io");
        assert_eq!(sort_name(None, None), "");
    }

    #[test]
    fn the_canonical_query_names_every_part() {
        let a = MemberQuery { terms: Terms::parse("ann").unwrap(), ..Default::default() };
        let b = MemberQuery { order: Order::Desc, ..a.clone() };
        assert_ne!(a.canonical(), b.canonical());
        assert_ne!(a.canonical(), MemberQuery::default().canonical());
    }
}
