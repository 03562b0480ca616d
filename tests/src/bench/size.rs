//! Deployment sizes: each function's stripped arm64 `bootstrap` (from `cargo lambda build
//! --release --arm64`) and the zip Lambda would receive.

use std::path::Path;
use std::process::Command;

pub struct Size {
    pub function: String,
    pub bootstrap: Option<u64>,
    pub zip: Option<u64>,
}

fn zip_size(bootstrap: &Path) -> Option<u64> {
    let out = std::env::temp_dir().join(format!("roster-bench-{}.zip", uuid::Uuid::new_v4().simple()));
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z: z.write(sys.argv[1], 'bootstrap')";
    let ok = Command::new("python3").args(["-c", script]).arg(bootstrap).arg(&out).status().ok()?.success();
    let size = ok.then(|| std::fs::metadata(&out).ok().map(|m| m.len())).flatten();
    let _ = std::fs::remove_file(&out);
    size
}

pub fn measure(root: &Path, functions: &[&str]) -> Vec<Size> {
    functions
        .iter()
        .map(|f| {
            let bootstrap = root.join("target/lambda").join(f).join("bootstrap");
            let size = std::fs::metadata(&bootstrap).ok().map(|m| m.len());
            Size { function: (*f).to_owned(), bootstrap: size, zip: size.and_then(|_| zip_size(&bootstrap)) }
        })
        .collect()
}

pub fn markdown(rows: &[Size]) -> String {
    let mb = |b: Option<u64>| b.map_or_else(|| "not built".to_owned(), |b| format!("{:.2}", b as f64 / 1e6));
    let mut out = String::from("| Function | arm64 `bootstrap`, MB | zip, MB |\n|---|---|---|\n");
    for r in rows {
        out.push_str(&format!("| `{}` | {} | {} |\n", r.function, mb(r.bootstrap), mb(r.zip)));
    }
    out
}
