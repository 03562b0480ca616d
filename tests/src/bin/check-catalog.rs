//! Checks a permissions catalog as every function does at cold start
//! (`roster::domain::permission::Catalog::parse`), before a build compiles it in.
//!
//! `check-catalog [FILE]` (default: infra/permissions.json). Exit status 1 with the reason when
//! the catalog is refused.

use roster::domain::permission::{Catalog, PermissionScope};

fn main() {
    let path = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| {
        let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/permissions.json");
        default.canonicalize().unwrap_or(default)
    });
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => fail(&format!("{}: {e}", path.display())),
    };
    let catalog = match Catalog::parse(&text) {
        Ok(catalog) => catalog,
        Err(e) => fail(&format!("{}: {e}", path.display())),
    };
    let host: Vec<_> = catalog.entries().filter(|e| !e.builtin).collect();
    let workspace = host.iter().filter(|e| e.scope == PermissionScope::Workspace).count();
    println!(
        "{}: {} host permissions ({} org, {workspace} workspace) besides Roster's own {}",
        path.display(),
        host.len(),
        host.len() - workspace,
        catalog.entries().count() - host.len()
    );
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}
