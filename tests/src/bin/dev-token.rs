//! Prints a development bearer token for the local API.
//!
//! `dev-token --sub alice [--email alice@example.com] [--name "Alice"] [--unverified] [--ttl 43200]`

use roster_tests::token;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut sub, mut email, mut name, mut verified, mut ttl) = (None, None, None, true, 12 * 3600_i64);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--sub" => sub = args.next(),
            "--email" => email = args.next(),
            "--name" => name = args.next(),
            "--unverified" => verified = false,
            "--ttl" => ttl = args.next().and_then(|t| t.parse().ok()).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let sub = sub.filter(|s| !s.is_empty()).unwrap_or_else(|| usage());
    println!("{}", token::mint(&token::secret(), &sub, email.as_deref(), name.as_deref(), verified, ttl));
}

fn usage() -> ! {
    eprintln!("usage: dev-token --sub ID [--email ADDRESS] [--name NAME] [--unverified] [--ttl SECONDS]");
    std::process::exit(2)
}
