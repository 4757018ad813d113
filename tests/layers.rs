//! The layer map of `src/lib.rs` is the rule: every `crate::` path in `src/` names a module of
//! the importing module's own layer or of a layer below it. The map is read from the "# Layers"
//! list of the crate doc (one fact, one place), so editing the map and moving code are checked
//! against each other.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (`cloud::sim`) -> layer number, from the numbered list under `//! # Layers`.
fn layer_map(lib: &str) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    let mut in_layers = false;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with('#') {
            in_layers = doc == "# Layers";
            continue;
        }
        if !in_layers {
            continue;
        }
        let Some((number, rest)) = doc.split_once(". ") else {
            continue;
        };
        let Ok(layer) = number.parse::<usize>() else {
            continue;
        };
        // The module names are the backticked words before the first colon.
        let names = rest.split(':').next().unwrap_or("");
        for (i, part) in names.split('`').enumerate() {
            if i % 2 == 1 {
                map.insert(part.to_string(), layer);
            }
        }
    }
    map
}

/// The layer of a module path: its longest listed prefix.
fn layer_of(map: &BTreeMap<String, usize>, module: &str) -> Option<(String, usize)> {
    let mut parts: Vec<&str> = module.split("::").collect();
    while !parts.is_empty() {
        let candidate = parts.join("::");
        if let Some(layer) = map.get(&candidate) {
            return Some((candidate, *layer));
        }
        parts.pop();
    }
    None
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/cloud/sim/state.rs` -> `cloud::sim::state`; `src/lib.rs`, `src/main.rs` -> None.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    // A `NAME_tests.rs` file is the test module of `NAME`.
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .map(|p| p.strip_suffix("_tests").map(str::to_owned).unwrap_or(p))
        .collect();
    match parts.as_slice() {
        [one] if one == "lib" || one == "main" => None,
        _ => Some(parts.join("::")),
    }
}

/// Every `crate::a::b` path in the code (comments and doc comments left out).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let path: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = path.trim_end_matches(':').to_string();
            // Only module segments (lower case); `crate::cloud::Cloud` is in `cloud`.
            let modules: Vec<&str> = path
                .split("::")
                .take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .collect();
            if !modules.is_empty() {
                out.push((n + 1, modules.join("::")));
            }
            rest = &after[path.len().min(after.len())..];
        }
    }
    out
}

#[test]
fn no_import_runs_upward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let map = layer_map(&lib);
    assert!(
        map.len() >= 10,
        "src/lib.rs has no '# Layers' list to check against: {map:?}"
    );
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unlisted = Vec::new();
    let mut upward = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        // Test modules may assemble the layers above the module they test, as the integration
        // tests in tests/ do; the rule is about the product's own imports.
        if module.split("::").any(|m| m == "tests") || file.ends_with("_tests.rs") {
            continue;
        }
        let Some((_, own)) = layer_of(&map, &module) else {
            unlisted.push(module);
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        for (line, path) in crate_paths(&text) {
            let Some((target, layer)) = layer_of(&map, &path) else {
                unlisted.push(format!("{path} (used in {module})"));
                continue;
            };
            if layer > own {
                upward.push(format!(
                    "{}:{line}: {module} (layer {own}) imports {target} (layer {layer})",
                    file.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "modules missing from the '# Layers' list of src/lib.rs: {unlisted:#?}"
    );
    assert!(upward.is_empty(), "imports that run upward: {upward:#?}");
}

#[test]
fn the_checker_sees_an_upward_import() {
    let lib = "//! # Layers\n//! 1. `manifest`, `cloud`: low\n//! 2. `controller`: high\n//! # Next\n//! 3. `ignored`\n";
    let map = layer_map(lib);
    assert_eq!(map.len(), 3);
    assert_eq!(
        layer_of(&map, "cloud::sim::state"),
        Some(("cloud".into(), 1))
    );
    assert_eq!(layer_of(&map, "ignored"), None);
    let paths = crate_paths(
        "use crate::controller::status::{Health};\n// crate::plan in a comment\nlet x = crate::cloud::Cloud::new();",
    );
    assert_eq!(
        paths,
        vec![
            (1, "controller::status".to_string()),
            (3, "cloud".to_string())
        ]
    );
}
