//! The SQL layer's imports point one way: no module cycles.
//!
//! This test reads `src/` as text, collects every path each file names (`crate::a::b`,
//! `super::x`, `self::x`, and in a `mod.rs` its child modules by their bare names) outside
//! comments, string literals and the `#[cfg(test)]` tail, resolves each path to the
//! longest module it names, and checks two graphs for cycles:
//!
//! 1. **the crate's top-level modules** (`session`, `bind`, `optimize`, `exec`, `plan`,
//!    `expr`, `value`, ...; a directory module is one node), which must form the layers
//!    `session -> bind -> optimize -> exec -> plan -> expr -> value ...`;
//! 2. **the files inside each directory in [`FILE_LEVEL`]** (the executor's operators
//!    and the optimiser's passes), where the module root (`mod.rs`: the builder, the pass
//!    list) may use every file and no file may use the root or, through others, itself.
//!
//! `bind/` is checked only as a whole: it is one recursive-descent binder whose
//! `impl Binder` is split across files (an expression holds a subquery, which holds a
//! query, which holds expressions), so its files call each other by design.
//!
//! A failure prints the cycle with the file and line of each edge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Directory modules whose files must not form a cycle among themselves either.
const FILE_LEVEL: &[&str] = &["exec", "optimize", "plan"];

/// A module path inside the crate: `["exec", "hash_join"]`; `[]` is the crate root.
type Module = Vec<String>;

/// Where an edge was seen: file and line.
type Site = (PathBuf, usize);

fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The code of a file with comments, string and char literals blanked out (newlines
/// kept, so line numbers hold) and everything from the first `#[cfg(test)]` on removed.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !ident_char_before(&chars, i)
        {
            // A raw string: r"...", r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                out.push(blank(chars[j]));
                j += 1;
            }
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    out.push(blank(ch));
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path the code names, as segment lists, with its line: `a::b::c` chains, and
/// use-trees with braces expanded (`crate::{a, b::c}` gives `crate::a` and
/// `crate::b::c`).
fn paths(code: &str) -> Vec<(Vec<String>, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if is_ident_char(chars[i]) && !ident_char_before(&chars, i) {
            let (mut trees, end) = use_tree(&chars, i);
            if trees.iter().any(|t| t.len() > 1) {
                out.extend(trees.drain(..).map(|t| (t, line)));
            }
            line += chars[i..end].iter().filter(|c| **c == '\n').count();
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

/// Parses a path or use-tree starting at `i`; returns its expansions and where it ends.
fn use_tree(chars: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        let start = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i);
        }
        prefix.push(chars[start..i].iter().collect::<String>());
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if !(chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':')) {
            return (vec![prefix], i);
        }
        j += 2;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if chars.get(j) == Some(&'{') {
            let mut trees = Vec::new();
            j += 1;
            loop {
                while j < chars.len() && (chars[j].is_whitespace() || chars[j] == ',') {
                    j += 1;
                }
                if j >= chars.len() || chars[j] == '}' {
                    return (trees, j + 1);
                }
                let (subtrees, end) = use_tree(chars, j);
                for sub in subtrees {
                    let mut full = prefix.clone();
                    full.extend(sub.into_iter().filter(|s| s != "self"));
                    trees.push(full);
                }
                // Skip an `as alias` or a `*`.
                j = end;
                while j < chars.len() && !matches!(chars[j], ',' | '}') {
                    j += 1;
                }
            }
        }
        if chars.get(j) == Some(&'*') {
            return (vec![prefix], j + 1);
        }
        i = j;
    }
}

/// The module a path names from inside `module` (whose file is a `mod.rs` if
/// `is_dir_root`), if it names one of the crate's: the longest prefix that is a module.
fn resolve(
    path: &[String],
    module: &Module,
    is_dir_root: bool,
    known: &BTreeMap<Module, PathBuf>,
) -> Option<Module> {
    let (mut base, rest): (Module, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (module.clone(), &path[1..]),
        Some("super") => {
            let mut base = module.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                // In `a/b.rs` (module a::b), `super` is `a`; in `a/mod.rs` (module a), the
                // crate root.
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        Some(first) if is_dir_root || module.is_empty() => {
            let mut child = module.clone();
            child.push(first.to_string());
            if !known.contains_key(&child) {
                return None;
            }
            (module.clone(), path)
        }
        _ => return None,
    };
    let mut best = base.clone();
    for segment in rest {
        base.push(segment.clone());
        if known.contains_key(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    Some(best)
}

/// Edges `from -> to` with the sites that make them.
type Graph = BTreeMap<String, BTreeMap<String, Vec<Site>>>;

fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(node, graph, &mut state, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

fn describe(cycle: &[String], graph: &Graph) -> String {
    let mut out = cycle.join(" -> ");
    for pair in cycle.windows(2) {
        if let Some(sites) = graph.get(&pair[0]).and_then(|e| e.get(&pair[1])) {
            let (file, line) = &sites[0];
            out.push_str(&format!(
                "\n  {} -> {}: {}:{line}",
                pair[0],
                pair[1],
                file.display()
            ));
        }
    }
    out
}

/// The two graphs of the crate at `src`.
fn graphs(src: &Path) -> (Graph, BTreeMap<&'static str, Graph>) {
    let known = modules(src);
    let mut top = Graph::new();
    let mut dirs: BTreeMap<&'static str, Graph> = BTreeMap::new();
    for (module, file) in &known {
        let text = std::fs::read_to_string(file).expect("read source");
        let is_dir_root = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        for (path, line) in paths(&code_of(&text)) {
            let Some(target) = resolve(&path, module, is_dir_root, &known) else {
                continue;
            };
            let site = (file.clone(), line);
            let (Some(from), Some(to)) = (module.first(), target.first()) else {
                continue;
            };
            if from != to {
                top.entry(from.clone())
                    .or_default()
                    .entry(to.clone())
                    .or_default()
                    .push(site.clone());
            }
            for dir in FILE_LEVEL {
                let inside = |m: &Module| m.first().is_some_and(|f| f == dir);
                if inside(module) && inside(&target) && *module != target {
                    dirs.entry(dir)
                        .or_default()
                        .entry(module.join("::"))
                        .or_default()
                        .entry(target.join("::"))
                        .or_default()
                        .push(site.clone());
                }
            }
        }
    }
    (top, dirs)
}

#[test]
fn the_sql_layer_has_no_module_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (top, dirs) = graphs(&src);
    if std::env::var_os("HDB_PRINT_MODULE_GRAPH").is_some() {
        for (from, edges) in top.iter().chain(dirs.values().flatten()) {
            eprintln!(
                "{from} -> {}",
                edges.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    assert!(
        top.contains_key("session") && top.contains_key("exec"),
        "the scan found no imports: {top:?}"
    );
    if let Some(cycle) = find_cycle(&top) {
        panic!(
            "the crate's top-level modules import each other in a cycle: {}",
            describe(&cycle, &top)
        );
    }
    for (dir, graph) in &dirs {
        if let Some(cycle) = find_cycle(graph) {
            panic!(
                "files of {dir}/ import each other in a cycle: {}",
                describe(&cycle, graph)
            );
        }
    }
}

#[test]
fn the_checker_sees_cycles_and_paths() {
    // Use-trees expand, comments and strings do not count.
    let code = code_of(
        "use crate::{a, b::{c, d as e}};\n// crate::x::y\nlet s = \"crate::z::w\";\nsuper::f::g();\n#[cfg(test)]\nuse crate::t::u;",
    );
    let found: Vec<Vec<String>> = paths(&code).into_iter().map(|(p, _)| p).collect();
    let want = |p: &str| p.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(
        found,
        vec![
            want("crate::a"),
            want("crate::b::c"),
            want("crate::b::d"),
            want("super::f::g")
        ]
    );
    let mut graph = Graph::new();
    for (a, b) in [("x", "y"), ("y", "z"), ("z", "x")] {
        graph
            .entry(a.into())
            .or_default()
            .insert(b.into(), vec![(PathBuf::from("f.rs"), 1)]);
    }
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["x".into(), "y".into(), "z".into(), "x".into()])
    );
    graph.get_mut("z").map(|e| e.remove("x"));
    assert_eq!(find_cycle(&graph), None);
}
