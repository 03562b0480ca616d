//! Temporary passwords of accounts an admin adds (API.md "Accounts"): checked against the user
//! pool's password policy, or generated to it. A password is never logged, stored or shown
//! in an error: only the rule it breaks is named.

/// The user pool's password policy, as the template sets it (`ROSTER_PASSWORD_MIN_LENGTH`,
/// `ROSTER_PASSWORD_REQUIRE`; tests/tests/infra_drift.rs holds them to the pool's `Policies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub lowercase: bool,
    pub uppercase: bool,
    pub numbers: bool,
    pub symbols: bool,
}

/// Cognito's default policy: what a pool without `Policies` enforces.
impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 8, lowercase: true, uppercase: true, numbers: true, symbols: true }
    }
}

/// The characters Cognito counts as symbols in a password.
pub const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// Cognito's longest password.
pub const MAX_LENGTH: usize = 256;
/// A generated password is at least this long, whatever shorter minimum the pool allows.
pub const GENERATED_MIN_LENGTH: usize = 16;

impl PasswordPolicy {
    /// From the minimum length (6–99, Cognito's range) and the comma-separated classes
    /// required (`lowercase`, `uppercase`, `numbers`, `symbols`; empty: none).
    pub fn parse(min_length: &str, require: &str) -> Result<Self, String> {
        let min_length = min_length
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (6..=99).contains(n))
            .ok_or_else(|| format!("the minimum length must be 6–99, got {min_length:?}"))?;
        let mut policy =
            Self { min_length, lowercase: false, uppercase: false, numbers: false, symbols: false };
        for class in require.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            match class {
                "lowercase" => policy.lowercase = true,
                "uppercase" => policy.uppercase = true,
                "numbers" => policy.numbers = true,
                "symbols" => policy.symbols = true,
                other => {
                    return Err(format!(
                        "unknown character class {other:?} (lowercase, uppercase, numbers, symbols)"
                    ));
                }
            }
        }
        Ok(policy)
    }

    /// The first rule `password` breaks, in words fit for a problem's detail.
    pub fn check(&self, password: &str) -> Result<(), String> {
        let length = password.chars().count();
        if length < self.min_length {
            return Err(format!("temporaryPassword must have at least {} characters", self.min_length));
        }
        if length > MAX_LENGTH {
            return Err(format!("temporaryPassword must have at most {MAX_LENGTH} characters"));
        }
        // Cognito's pattern for a temporary password is `[\S]+`.
        if password.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("temporaryPassword must not contain spaces or control characters".into());
        }
        let has = |set: &str| password.chars().any(|c| set.contains(c));
        for (required, set, what) in [
            (self.lowercase, LOWER, "a lowercase letter"),
            (self.uppercase, UPPER, "an uppercase letter"),
            (self.numbers, DIGITS, "a number"),
            (self.symbols, SYMBOLS, "a symbol"),
        ] {
            if required && !has(set) {
                return Err(format!("temporaryPassword must contain {what}"));
            }
        }
        Ok(())
    }

    /// A new password to this policy from the OS's CSPRNG: one character of each required
    /// class, the rest from letters and digits (and symbols when required), shuffled; as long
    /// as the policy's minimum and never shorter than [`GENERATED_MIN_LENGTH`].
    pub fn generate(&self) -> Result<String, getrandom::Error> {
        let length = self.min_length.max(GENERATED_MIN_LENGTH);
        let mut alphabet = format!("{LOWER}{UPPER}{DIGITS}");
        if self.symbols {
            alphabet.push_str(SYMBOLS);
        }
        let pick = |set: &str| -> Result<char, getrandom::Error> {
            let chars: Vec<char> = set.chars().collect();
            Ok(chars[uniform(chars.len())?])
        };
        let mut out = Vec::with_capacity(length);
        for (required, set) in [
            (self.lowercase, LOWER),
            (self.uppercase, UPPER),
            (self.numbers, DIGITS),
            (self.symbols, SYMBOLS),
        ] {
            if required {
                out.push(pick(set)?);
            }
        }
        while out.len() < length {
            out.push(pick(&alphabet)?);
        }
        // Fisher–Yates, so the required characters are not always first.
        for i in (1..out.len()).rev() {
            out.swap(i, uniform(i + 1)?);
        }
        Ok(out.into_iter().collect())
    }
}

/// A uniform index below `n` (n ≤ 256), by rejection: no modulo bias.
fn uniform(n: usize) -> Result<usize, getrandom::Error> {
    debug_assert!((1..=256).contains(&n));
    let limit = 256 - 256 % n;
    loop {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte)?;
        if usize::from(byte[0]) < limit {
            return Ok(usize::from(byte[0]) % n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack_policy() -> PasswordPolicy {
        PasswordPolicy::parse("12", "lowercase,uppercase,numbers").unwrap()
    }

    #[test]
    fn parses_the_template_settings() {
        assert_eq!(
            stack_policy(),
            PasswordPolicy {
                min_length: 12,
                lowercase: true,
                uppercase: true,
                numbers: true,
                symbols: false
            }
        );
        assert!(PasswordPolicy::parse("5", "").is_err());
        assert!(PasswordPolicy::parse("100", "").is_err());
        assert!(PasswordPolicy::parse("8", "digits").unwrap_err().contains("digits"));
        assert!(!PasswordPolicy::parse("8", "").unwrap().numbers);
    }

    #[test]
    fn names_the_rule_broken_and_never_the_password() {
        let policy = stack_policy();
        assert!(policy.check("Abcdefgh1234").is_ok());
        for (password, rule) in [
            ("Abcdefg1234", "at least 12"),
            ("abcdefgh1234", "uppercase"),
            ("ABCDEFGH1234", "lowercase"),
            ("Abcdefghijkl", "number"),
            ("Abcdef gh1234", "spaces"),
        ] {
            let error = policy.check(password).unwrap_err();
            assert!(error.contains(rule), "{password}: {error}");
            assert!(!error.contains(password), "{error}");
        }
        assert!(PasswordPolicy::default().check("Abcdefg1").unwrap_err().contains("symbol"));
        assert!(policy.check(&format!("Aa1{}", "x".repeat(MAX_LENGTH))).is_err());
    }

    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        for policy in
            [stack_policy(), PasswordPolicy::default(), PasswordPolicy::parse("40", "symbols").unwrap()]
        {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..200 {
                let password = policy.generate().unwrap();
                assert!(password.chars().count() >= policy.min_length.max(GENERATED_MIN_LENGTH));
                policy.check(&password).unwrap_or_else(|e| panic!("{password}: {e}"));
                assert!(seen.insert(password), "a repeat");
            }
        }
        // Symbols only when the policy asks for them.
        let password = stack_policy().generate().unwrap();
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()), "{password}");
    }
}
