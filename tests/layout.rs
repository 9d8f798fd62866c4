//! The shape of the source tree, checked so that it stays readable as it grows (issue 13):
//! `sim/src` is grouped into folders by the process each file simulates, with few files at its
//! top; no source file grows past 800 lines; and no module imports, directly or through others,
//! a module that imports it back. The import graph is read from the source text: every
//! `crate::`, `super::` and `self::` path and every `use` of a child module, resolved to the file
//! of the longest module prefix it names; a `mod` declaration counts as an edge from the parent
//! to the child, so a child that reaches back into its parent's own items closes a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;
const MAX_SIM_TOP_FILES: usize = 6;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.expect("a directory entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target" || n == "gallery") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    for dir in ["src", "model", "sim", "reports"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 50, "the walk found the sources");
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).expect("readable").lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.strip_prefix(root()).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "split these along their seams: {long:?}");
}

#[test]
fn sim_src_is_grouped_in_folders() {
    let top: Vec<String> = std::fs::read_dir(root().join("sim/src"))
        .expect("sim/src")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(top.len() <= MAX_SIM_TOP_FILES, "sim/src has {} top-level files: {top:?}", top.len());
    for folder in ["broker", "controller", "client", "runtime", "fault", "protocol"] {
        let module = root().join("sim/src").join(folder).join("mod.rs");
        let text = std::fs::read_to_string(&module).unwrap_or_else(|_| panic!("{} exists", module.display()));
        assert!(text.starts_with("//!"), "{} opens with a //! paragraph", module.display());
    }
}

/// A crate's modules: module path (`["broker", "node"]`) -> file.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(src).unwrap();
            let mut path: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            let last = path.pop().unwrap();
            let stem = last.trim_end_matches(".rs");
            let root_file = path.is_empty() && matches!(stem, "lib" | "main");
            if stem != "mod" && !root_file {
                path.push(stem.to_string());
            }
            (path, f)
        })
        .collect()
}

/// Expands the braces of one `use` tree: `a::{b, c::{d, e}}` -> `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else { return vec![tree.to_string()] };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').expect("balanced braces")];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).flat_map(expand).map(|p| format!("{prefix}{p}")).collect()
}

/// The module paths one file refers to, as written (absolute after resolving `super`/`self`).
fn references(module: &[String], text: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    // Inline test modules (`#[cfg(test)] mod tests { ... }`, last in their file) are part of their file: drop them (their `super` is the
    // file itself).
    let code: String = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    };
    let code: String = code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut paths = Vec::new();
    // `use` statements (a line that starts one, up to its `;`), braces expanded.
    let mut statement: Option<String> = None;
    for line in code.lines() {
        let t = line.trim_start();
        let starts = t.starts_with("use ") || (t.starts_with("pub") && t.contains(" use "));
        if statement.is_none() && starts {
            statement = Some(String::new());
        }
        if let Some(stmt) = statement.as_mut() {
            stmt.push_str(t);
            stmt.push(' ');
            if t.contains(';') {
                let stmt = statement.take().unwrap();
                let body = stmt[stmt.find("use ").unwrap() + 4..stmt.find(';').unwrap()].to_string();
                paths.extend(expand(&body));
            }
        }
    }
    // Paths in expressions and types.
    for (i, _) in code.match_indices("::") {
        let start = code[..i].rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(0, |s| s + 1);
        let word = &code[start..i];
        if word == "crate" || word == "super" || word == "self" {
            let end =
                code[i..].find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(code.len(), |e| i + e);
            // `use super::{a, b}` leaves a bare `super::` here: the `use` pass has it.
            if !code[start..end].ends_with("::") {
                paths.push(code[start..end].to_string());
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        let p = p.trim().trim_start_matches("pub ").trim();
        let segs: Vec<&str> = p.split("::").map(str::trim).filter(|s| !s.is_empty()).collect();
        let Some(&first) = segs.first() else { continue };
        let mut abs: Vec<String> = match first {
            "crate" => Vec::new(),
            "self" => module.to_vec(),
            "super" => {
                let mut m = module.to_vec();
                let mut k = 0;
                while segs.get(k) == Some(&"super") {
                    m.pop();
                    k += 1;
                }
                m.extend(segs[k..].iter().map(|s| s.to_string()));
                out.push(m);
                continue;
            }
            child if children.contains(child) => module.to_vec(),
            _ => continue,
        };
        let skip = usize::from(matches!(first, "crate" | "self"));
        abs.extend(segs[skip..].iter().map(|s| s.to_string()));
        out.push(abs);
    }
    out
}

/// Every cycle-closing edge of a crate's module graph, as "a -> b -> ... -> a".
fn cycles(src: &Path) -> Vec<String> {
    let mods = modules(src);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, file) in &mods {
        let text = std::fs::read_to_string(file).expect("readable");
        let children: BTreeSet<String> = mods
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m.last().unwrap().clone())
            .collect();
        let mut targets: BTreeSet<Vec<String>> =
            children.iter().map(|c| module.iter().cloned().chain([c.clone()]).collect()).collect();
        for r in references(module, &text, &children) {
            // The longest prefix that is a module file.
            let target = (0..=r.len()).rev().map(|n| r[..n].to_vec()).find(|p| mods.contains_key(p));
            if let Some(t) = target.filter(|t| t != module) {
                targets.insert(t);
            }
        }
        edges.insert(module.clone(), targets);
    }
    let name = |m: &Vec<String>| if m.is_empty() { "crate".to_string() } else { m.join("::") };
    let mut found = Vec::new();
    // Depth-first search for back edges.
    let mut state: BTreeMap<Vec<String>, u8> = BTreeMap::new();
    fn visit(
        m: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
        found: &mut Vec<Vec<Vec<String>>>,
    ) {
        state.insert(m.clone(), 1);
        stack.push(m.clone());
        for t in edges.get(m).into_iter().flatten() {
            match state.get(t) {
                Some(1) => {
                    let from = stack.iter().position(|s| s == t).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(t.clone());
                    found.push(cycle);
                }
                Some(_) => {}
                None => visit(t, edges, state, stack, found),
            }
        }
        stack.pop();
        state.insert(m.clone(), 2);
    }
    let mut raw = Vec::new();
    for m in edges.keys() {
        if !state.contains_key(m) {
            visit(m, &edges, &mut state, &mut Vec::new(), &mut raw);
        }
    }
    for cycle in raw {
        found.push(cycle.iter().map(name).collect::<Vec<_>>().join(" -> "));
    }
    found
}

#[test]
fn no_crate_has_an_import_circle() {
    let found: Vec<String> = ["src", "model/src", "sim/src", "reports/src"]
        .iter()
        .flat_map(|src| cycles(&root().join(src)).into_iter().map(move |c| format!("{src}: {c}")))
        .collect();
    assert!(found.is_empty(), "modules that import each other: {found:#?}");
}

#[test]
fn the_cycle_finder_finds_a_child_reaching_into_its_parent() {
    let dir = std::env::temp_dir().join(format!("losslab-layout-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\n").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "mod b;\npub struct Shared;\n").unwrap();
    std::fs::write(dir.join("a/b.rs"), "use super::Shared;\n").unwrap();
    let found = cycles(&dir);
    assert_eq!(found, vec!["a -> a::b -> a".to_string()]);
    std::fs::write(dir.join("a/b.rs"), "use crate::a::c::{X, Y};\n").unwrap();
    std::fs::write(dir.join("a/c.rs"), "pub struct X; pub struct Y;\n").unwrap();
    assert!(cycles(&dir).is_empty(), "a child reaching a sibling is no circle");
    std::fs::write(dir.join("a/b.rs"), "use super::{c};\nfn f() { super::c::X; }\n").unwrap();
    assert!(cycles(&dir).is_empty(), "nor through its parent's path");
    std::fs::remove_dir_all(&dir).unwrap();
}
