//! The module graph of every library crate is a DAG: no module uses a module that (directly or
//! through others) uses it back.
//!
//! Why a test of our own rather than `cargo modules dependencies --acyclic`: that tool needs a
//! rust-analyzer build matching the toolchain (minutes to install, and it breaks across toolchain
//! upgrades), while this check runs in every `cargo test --workspace` in milliseconds. It reads the
//! sources as text, which is enough for the way this workspace writes paths:
//! - a file is a module (`src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is `a::b`; `lib.rs` is
//!   the crate root);
//! - module `m` *uses* module `n` when `m`'s code (not its comments, not its inline
//!   `#[cfg(test)] mod tests`) names an item through `crate::…`, `super::…`, `self::…` or a child
//!   module's name, and the item is *defined* in `n`: a name re-exported by a `pub use` is followed
//!   to the module that defines it, so a facade (`lib.rs`, a `mod.rs` re-exporting its children)
//!   is no hub of false cycles;
//! - declaring a child (`mod b;`) is not a use.
//!
//! On failure it prints the cycle, e.g. `server: app -> transports::sse -> app`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 7] = [
    "wire", "server", "loadgen", "tui", "lab", "browser", "cluster",
];

/// One crate's modules: path (`a::b`, "" for the root) -> source text with comments and inline
/// test modules removed.
type Sources = BTreeMap<String, String>;

#[test]
fn every_crate_module_graph_is_acyclic() {
    // Also runs outside cargo, from the workspace root:
    // `rustc --edition 2021 --test tests/modules.rs -o /tmp/modules && /tmp/modules --nocapture`.
    let root = PathBuf::from(option_env!("CARGO_MANIFEST_DIR").unwrap_or("."));
    let root = root.as_path();
    let mut failures = Vec::new();
    for krate in CRATES {
        let src = root.join(krate).join("src");
        let sources = load(&src);
        assert!(!sources.is_empty(), "no sources under {}", src.display());
        let graph = graph(&sources);
        let edges: usize = graph.values().map(BTreeSet::len).sum();
        match find_cycle(&graph) {
            None => println!(
                "{krate}: {} modules, {edges} use edges, acyclic",
                sources.len()
            ),
            Some(cycle) => {
                failures.push(format!("{krate}: {}", cycle.join(" -> ")));
                for scc in tangles(&graph) {
                    failures.push(format!("  {krate}: mutually dependent: {}", scc.join(", ")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "module cycles:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_check_sees_a_cycle() {
    let mut s = Sources::new();
    s.insert(String::new(), "pub mod a;\npub mod b;\n".into());
    s.insert("a".into(), "use crate::b::f;\npub fn g() {}\n".into());
    s.insert("b".into(), "pub fn f() { super::a::g() }\n".into());
    assert_eq!(
        find_cycle(&graph(&s)),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
    // A facade re-exporting a child, used through the facade by a sibling: no cycle.
    let mut s = Sources::new();
    s.insert(
        String::new(),
        "pub mod a;\npub mod b;\npub use a::A;\n".into(),
    );
    s.insert("a".into(), "pub struct A;\n".into());
    s.insert("b".into(), "use crate::A;\n".into());
    let g = graph(&s);
    assert_eq!(find_cycle(&g), None);
    assert!(g["b"].contains("a"), "{g:?}");
}

fn load(src: &Path) -> Sources {
    let mut out = Sources::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts
                    .last()
                    .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
                {
                    parts.pop();
                }
                let text = std::fs::read_to_string(&p).unwrap();
                out.insert(parts.join("::"), strip(&text));
            }
        }
    }
    out
}

/// Removes comment lines, trailing `//` comments (where no string literal precedes them) and
/// inline `#[cfg(test)] mod … { … }` blocks.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t.starts_with("#[cfg(test)]") {
            // Skip the attribute and, if it opens an inline module, the whole block.
            let next = lines.peek().map(|l| l.trim_start().to_string());
            if let Some(n) = next {
                if n.starts_with("mod ") || n.starts_with("pub mod ") {
                    if n.trim_end().ends_with(';') {
                        lines.next();
                        continue;
                    }
                    let mut depth = 0i64;
                    for l in lines.by_ref() {
                        depth += l.matches('{').count() as i64 - l.matches('}').count() as i64;
                        if depth <= 0 && l.contains('}') {
                            break;
                        }
                    }
                    continue;
                }
            }
            continue;
        }
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every path the text names under `prefix` (`crate::`, `super::`, `self::` or `child::`),
/// with `{a, b::{c, d}}` groups expanded, as segment lists after the prefix.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    scan(text, prefix, false)
}

/// Like [`paths_after`] for a child module's name, except inside a `use` statement that does not
/// start with it: in `use std::{fmt::Write}` or `use crate::a::{b::X}`, `fmt`/`b` are not
/// children of the module being read.
fn child_paths(text: &str, prefix: &str) -> Vec<Vec<String>> {
    scan(text, prefix, true)
}

fn scan(text: &str, prefix: &str, only_path_starts: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let at = from + i;
        from = at + prefix.len();
        // Must start a path: not preceded by an identifier character or `::`.
        if at > 0 {
            let prev = bytes[at - 1];
            if prev.is_ascii_alphanumeric() || prev == b'_' || prev == b':' {
                continue;
            }
        }
        if only_path_starts {
            if let Some(u) = text[..at].rfind("use ") {
                let between = &text[u + 4..at];
                if !between.contains(';') && !between.trim().is_empty() {
                    continue;
                }
            }
        }
        let (paths, _) = parse_tree(&text[from..]);
        out.extend(paths);
    }
    out
}

/// Parses `a::b::{c, d::e}` or `{…}` at the start of `s`; returns the paths and bytes consumed.
fn parse_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let s_trim = s.trim_start();
    let skipped = s.len() - s_trim.len();
    let s = s_trim;
    if let Some(rest) = s.strip_prefix('{') {
        let mut paths = Vec::new();
        let mut pos = 0;
        loop {
            let (ps, n) = parse_tree(&rest[pos..]);
            paths.extend(ps);
            pos += n;
            let r = rest[pos..].trim_start();
            pos = rest.len() - r.len();
            if let Some(r2) = r.strip_prefix(',') {
                pos = rest.len() - r2.len();
                continue;
            }
            if r.starts_with('}') {
                pos += 1;
            }
            break;
        }
        return (paths, skipped + 1 + pos);
    }
    let ident_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    if ident_len == 0 {
        return (Vec::new(), skipped);
    }
    let ident = s[..ident_len].to_string();
    let rest = &s[ident_len..];
    if let Some(after) = rest.strip_prefix("::") {
        let (sub, n) = parse_tree(after);
        let paths = if sub.is_empty() {
            vec![vec![ident]]
        } else {
            sub.into_iter()
                .map(|mut p| {
                    p.insert(0, ident.clone());
                    p
                })
                .collect()
        };
        return (paths, skipped + ident_len + 2 + n);
    }
    // `x as y` and the like end the path.
    (vec![vec![ident]], skipped + ident_len)
}

fn parent(m: &str) -> String {
    m.rsplit_once("::")
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

fn join(base: &str, seg: &str) -> String {
    if base.is_empty() {
        seg.to_string()
    } else {
        format!("{base}::{seg}")
    }
}

/// `pub use` re-exports of one module: exported name -> absolute path of what it names.
fn reexports(m: &str, text: &str, modules: &BTreeSet<String>) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for stmt in text.split(';') {
        let t = stmt.trim();
        let Some(body) = t
            .strip_prefix("pub use ")
            .or_else(|| t.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let (paths, _) = parse_tree(body);
        // `as` renames are rare here; the last segment is the exported name.
        for p in paths {
            let Some(abs) = absolute(m, &p, modules) else {
                continue;
            };
            if let Some(name) = p.last() {
                out.insert(name.clone(), abs);
            }
        }
    }
    out
}

/// Makes a path (as written in module `m`) absolute within the crate, or None for external
/// crates and std.
fn absolute(m: &str, p: &[String], modules: &BTreeSet<String>) -> Option<Vec<String>> {
    let mut base: Vec<String> = if m.is_empty() {
        Vec::new()
    } else {
        m.split("::").map(str::to_string).collect()
    };
    let mut segs = p.iter().peekable();
    match segs.peek().map(|s| s.as_str()) {
        Some("crate") => {
            base.clear();
            segs.next();
        }
        Some("self") => {
            segs.next();
        }
        Some("super") => {
            while segs.peek().map(|s| s.as_str()) == Some("super") {
                segs.next();
                base.pop();
            }
        }
        Some(first) => {
            // A bare path is ours only if it starts with a child module of `m`.
            if !modules.contains(&join(m, first)) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(segs.cloned());
    Some(base)
}

/// The module that defines what the absolute path names, following re-exports.
fn resolve(
    path: &[String],
    modules: &BTreeSet<String>,
    exports: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
    depth: usize,
) -> String {
    // Longest module prefix.
    let mut m = String::new();
    let mut used = 0;
    for (i, seg) in path.iter().enumerate() {
        let cand = join(&m, seg);
        if modules.contains(&cand) {
            m = cand;
            used = i + 1;
        } else {
            break;
        }
    }
    if depth < 8 {
        if let Some(name) = path.get(used) {
            if let Some(target) = exports.get(&m).and_then(|e| e.get(name)) {
                if target.as_slice() != path {
                    return resolve(target, modules, exports, depth + 1);
                }
            }
        }
    }
    m
}

fn graph(sources: &Sources) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let exports: BTreeMap<String, BTreeMap<String, Vec<String>>> = sources
        .iter()
        .map(|(m, t)| (m.clone(), reexports(m, t, &modules)))
        .collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, text) in sources {
        let mut paths: Vec<Vec<String>> = Vec::new();
        for prefix in ["crate::", "super::", "self::"] {
            let head = prefix.trim_end_matches("::").to_string();
            paths.extend(paths_after(text, prefix).into_iter().map(|mut p| {
                p.insert(0, head.clone());
                p
            }));
        }
        for child in modules.iter().filter(|c| !m.is_empty() || !c.is_empty()) {
            if parent(child) != *m || child == m {
                continue;
            }
            let name = child.rsplit("::").next().unwrap_or(child);
            // `child::x` paths, and `pub use child::X` / `use child::{..}` statements.
            let prefix = format!("{name}::");
            paths.extend(child_paths(text, &prefix).into_iter().map(|mut p| {
                p.insert(0, name.to_string());
                p
            }));
        }
        let deps = g.entry(m.clone()).or_default();
        for p in paths {
            let Some(abs) = absolute(m, &p, &modules) else {
                continue;
            };
            let target = resolve(&abs, &modules, &exports, 0);
            if target != *m {
                deps.insert(target);
            }
        }
    }
    g
}

/// Every set of modules that all reach each other (strongly connected, more than one module):
/// what must be untangled, beyond the first cycle found.
fn tangles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for d in g.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let all: BTreeMap<&String, BTreeSet<String>> = g.keys().map(|k| (k, reach(k))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for (k, r) in &all {
        if done.contains(*k) || !r.contains(*k) {
            continue;
        }
        let scc: Vec<String> = r
            .iter()
            .filter(|o| all.get(o).is_some_and(|ro| ro.contains(*k)))
            .cloned()
            .collect();
        done.extend(scc.iter().cloned());
        if scc.len() > 1 {
            out.push(
                scc.into_iter()
                    .map(|m| {
                        if m.is_empty() {
                            "(crate root)".into()
                        } else {
                            m
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

/// A cycle as a module list whose first and last entries are equal, if any.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(n.to_string(), Mark::Open);
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            match marks.get(d).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let i = stack.iter().position(|s| s == d).unwrap_or(0);
                    let mut c: Vec<String> = stack[i..].to_vec();
                    c.push(d.clone());
                    return Some(c.into_iter().map(|s| display(&s)).collect());
                }
                Mark::New => {
                    if let Some(c) = visit(d, g, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    fn display(m: &str) -> String {
        if m.is_empty() {
            "(crate root)".into()
        } else {
            m.to_string()
        }
    }
    let mut marks = BTreeMap::new();
    let mut stack = Vec::new();
    for n in g.keys() {
        if marks.get(n).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(n, g, &mut marks, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}
