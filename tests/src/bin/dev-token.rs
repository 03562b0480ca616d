//! Prints a development bearer token for the local API: a person's, or a service's.
//!
//! `dev-token --sub alice [--email alice@example.com] [--name "Alice"] [--unverified] [--ttl 43200]`
//! `dev-token --client dev-service --scope "roster/authorize roster/admin" [--ttl 3600]`

use roster_tests::token;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut sub, mut email, mut name, mut verified, mut ttl) = (None, None, None, true, 12 * 3600_i64);
    let (mut client, mut scope) = (None, None);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--sub" => sub = args.next(),
            "--email" => email = args.next(),
            "--name" => name = args.next(),
            "--unverified" => verified = false,
            "--ttl" => ttl = args.next().and_then(|t| t.parse().ok()).unwrap_or_else(|| usage()),
            "--client" => client = args.next(),
            "--scope" => scope = args.next(),
            _ => usage(),
        }
    }
    let sub = sub.filter(|s| !s.is_empty());
    let client = client.filter(|c| !c.is_empty());
    match (sub, client) {
        // A service's access token (client-credentials grant): sub = client_id = the client.
        (None, Some(client)) if email.is_none() && name.is_none() && verified => {
            let scope = scope.unwrap_or_default();
            println!("{}", token::mint_service(&token::secret(), &client, scope.trim(), ttl));
        }
        (Some(sub), None) if scope.is_none() => {
            println!(
                "{}",
                token::mint(&token::secret(), &sub, email.as_deref(), name.as_deref(), verified, ttl)
            );
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: dev-token --sub ID [--email ADDRESS] [--name NAME] [--unverified] [--ttl SECONDS]");
    eprintln!(
        "       dev-token --client CLIENT_ID [--scope \"roster/authorize roster/admin\"] [--ttl SECONDS]"
    );
    std::process::exit(2)
}
