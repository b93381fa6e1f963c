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

/// The modules of one layer each file imports (`super::x` or
/// `crate::layer::x`, in `use` lines or paths), by module name.
fn module_imports(layer: &str) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer);
    let mut graph = std::collections::BTreeMap::new();
    for (file, text) in sources(&root) {
        let rel = Path::new(&file).strip_prefix(&root).unwrap().to_path_buf();
        // A file's module: its first path part (`vendor/row.rs` is `vendor`).
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "mod" {
            continue;
        }
        let nested = rel.components().count() > 1;
        let deps: &mut std::collections::BTreeSet<String> = graph.entry(module.clone()).or_default();
        // Tests may reach anywhere; only the module's own code counts.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or_default();
            let mut rest = line;
            let prefixes = [format!("crate::{layer}::"), "super::".to_string()];
            while let Some((at, prefix)) = prefixes.iter().filter_map(|p| rest.find(p.as_str()).map(|i| (i, p))).min() {
                let after = &rest[at + prefix.len()..];
                // In a nested file `super::` is its own module's root.
                let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let is_super = prefix == "super::";
                let own = is_super && nested;
                if !own && !name.is_empty() && name != module && name != "super" {
                    deps.insert(name.clone());
                }
                rest = &after[name.len()..];
            }
        }
    }
    graph
}

/// A cycle among a layer's modules, if any (as the path that closes it).
fn a_cycle(graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_of_each_layer_import_each_other_without_cycles() {
    for layer in ["domain", "storage", "app", "ingest", "mail", "cli"] {
        let graph = module_imports(layer);
        assert!(!graph.is_empty(), "{layer} was read");
        assert_eq!(a_cycle(&graph), None, "a cycle among src/{layer}'s modules");
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(a_cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}

/// The longest a function may be (lines from its `fn` to its closing brace)
/// without a reason written down in [`LONG_FUNCTIONS`].
const MAX_FUNCTION_LINES: usize = 80;

/// The functions allowed to be longer than [`MAX_FUNCTION_LINES`], each
/// with why (file under `src/` and the function's name).
const LONG_FUNCTIONS: &[(&str, &str, &str)] = &[
    ("web/routes.rs", "configure", "every route in one place, grouped by area: a table, read top to bottom"),
    ("domain/study.rs", "texts", "the study templates' texts in both languages: a table of constants"),
    (
        "app/demo.rs",
        "seed_study",
        "the demonstration study's script, one step after the other, in the order a researcher works",
    ),
];

/// Every function of `text` (by name, first line and length in lines),
/// as rustfmt lays them out: the body ends at the first line that is the
/// `fn` line's indentation and a closing brace.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut words = line.trim_start();
        for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
            words = words.strip_prefix(prefix).unwrap_or(words);
        }
        let Some(rest) = words.strip_prefix("fn ") else { continue };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        // The signature ends with `{` (a body), `;` (a declaration) or
        // `}` (a body on one line).
        let Some(open) = (at..lines.len()).find(|&i| {
            let l = lines[i].split("//").next().unwrap_or_default().trim_end();
            l.ends_with('{') || l.ends_with(';') || l.ends_with('}')
        }) else {
            continue;
        };
        if !lines[open].split("//").next().unwrap_or_default().trim_end().ends_with('{') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = (open + 1..lines.len()).find(|&i| lines[i].trim_end() == close) {
            out.push((name, at + 1, end - at + 1));
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_the_limit_without_a_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    let mut allowed_and_long = Vec::new();
    for (file, text) in sources(&root) {
        let rel = Path::new(&file).strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        for (name, line, length) in functions(&text) {
            if length <= MAX_FUNCTION_LINES {
                continue;
            }
            if LONG_FUNCTIONS.iter().any(|(f, n, _)| *f == rel && *n == name) {
                allowed_and_long.push((rel.clone(), name));
            } else {
                long.push(format!("src/{rel}:{line}: fn {name} has {length} lines"));
            }
        }
    }
    long.sort();
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines (split them, or name them with a reason in LONG_FUNCTIONS):\n{}",
        long.join("\n")
    );
    // The list names only functions that are still long.
    for (file, name, _) in LONG_FUNCTIONS {
        assert!(
            allowed_and_long.iter().any(|(f, n)| f == file && n == name),
            "src/{file}: fn {name} is allowed to be long but is not (or is gone): take it off LONG_FUNCTIONS"
        );
    }
}

#[test]
fn the_function_length_check_measures_a_function() {
    let text = "fn short() { 1 }\n\npub async fn two(\n    a: u8,\n) -> u8 {\n    if a > 0 {\n        a\n    } else {\n        0\n    }\n}\n\ntrait T {\n    fn declared(&self);\n}\n";
    assert_eq!(functions(text), vec![("two".to_string(), 3, 9)]);
}
