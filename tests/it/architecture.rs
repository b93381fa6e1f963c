//! The layers hold: the domain core is pure (no I/O, no framework), and
//! what may import what is checked here rather than remembered
//! (docs/architecture.md).

use std::path::Path;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// Lines of `dir` that use any of `forbidden` (comments aside).
fn offending(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut found = Vec::new();
    for (file, text) in sources(&root) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if forbidden.iter().any(|f| code.contains(f)) {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_domain_imports_nothing_from_the_outer_layers_and_does_no_io() {
    let found = offending(
        "domain",
        &[
            "crate::ingest",
            "crate::storage",
            "crate::app",
            "crate::web",
            "crate::cli",
            "crate::mail",
            "sqlx",
            "actix_web",
            "tokio::",
            "std::fs",
            "std::net",
            "std::env",
        ],
    );
    assert!(found.is_empty(), "the domain must stay pure:\n{}", found.join("\n"));
}

#[test]
fn sql_is_written_only_in_storage() {
    let mut found = Vec::new();
    for dir in ["domain", "ingest", "app", "web", "cli", "mail"] {
        found.extend(offending(dir, &["sqlx::query"]));
    }
    assert!(found.is_empty(), "SQL belongs in src/storage:\n{}", found.join("\n"));
}
