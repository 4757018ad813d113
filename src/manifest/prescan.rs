//! A scan of one document's parser events (saphyr-parser) before serde builds anything from
//! it: nesting deeper than `--max-depth` is refused at the line it goes too deep (serde_yaml
//! would first build, and libyaml first parse, the whole tree), and a key written twice in one
//! mapping is an error at every level (serde keeps the second silently: two manifests
//! concatenated without `---` become one resource). The scan keeps only the keys of the
//! mappings open at the current point, so it costs little more than the parse.
//!
//! A document the scanner cannot parse ends the scan quietly: the decoder reports the syntax
//! error with its own message.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

use super::decode::Problem;
use super::diagnostic::Severity;
use super::path::{FieldPath, Segment};

/// Keys of one open mapping, borrowed from the text where the parser allows: a short list
/// searched in order (most mappings have a handful of keys), a hash map past [`LINEAR_KEYS`].
#[derive(Default)]
struct Keys<'a> {
    few: Vec<(Cow<'a, str>, u32)>,
    many: HashMap<Cow<'a, str>, u32>,
}

const LINEAR_KEYS: usize = 16;

impl<'a> Keys<'a> {
    /// The line `key` was first seen on.
    fn first(&self, key: &str) -> Option<u32> {
        match self.few.iter().find(|(k, _)| k == key) {
            Some((_, l)) => Some(*l),
            None => self.many.get(key).copied(),
        }
    }

    fn insert(&mut self, key: Cow<'a, str>, line: u32) {
        if self.few.len() < LINEAR_KEYS {
            self.few.push((key, line));
        } else {
            self.many.insert(key, line);
        }
    }
}

enum Frame<'a> {
    /// An open mapping: its keys so far with their lines, and whether a key waits for its
    /// value.
    Map { keys: Keys<'a>, key_pending: bool },
    /// An open sequence and the index of its next item.
    Seq { next: usize },
}

/// A segment of the current path, borrowed; made a [`FieldPath`] only for a finding.
enum Seg<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

fn field_path(segs: &[Seg<'_>]) -> FieldPath {
    let mut p = FieldPath::root();
    for s in segs {
        p.push(match s {
            Seg::Key(k) => Segment::Key(k.to_string()),
            Seg::Index(i) => Segment::Index(*i),
        });
    }
    p
}

/// Duplicate keys recorded at most (the rest are not kept: a document of 100,000 copies of one
/// key costs no more than one of 1,000). Above the findings shown, so their count still says
/// there are more.
const MAX_DUPLICATES: usize = 1000;

/// Problems of `text` (one document): the first nesting too deep or node past the limit (the
/// scan stops there; rules `max-depth`, `max-nodes`), and the duplicate keys. Lines are 1-based
/// within `text`.
pub(crate) fn scan(text: &str, max_depth: usize, max_nodes: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut nodes = 0usize;
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut path: Vec<Seg<'_>> = Vec::new();
    // For each open collection: whether it is a mapping's key (`? [a, b]`), whose end leaves
    // the key waiting for its value.
    let mut as_key: Vec<bool> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ok) => ok,
            // The scanner's own bound on flow nesting (`[[[[...`, 255 levels).
            Err(e) if e.info().contains("recursion limit") => {
                let line = e.marker().line() as u32;
                problems.insert(0, too_deep(field_path(&path), line, max_depth));
                return problems;
            }
            Err(_) => break,
        };
        let line = span.start.line() as u32;
        if matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        ) {
            nodes += 1;
            if nodes > max_nodes {
                // First, so that it is among the findings shown.
                problems.insert(0, too_many(field_path(&path), line, max_nodes));
                return problems;
            }
        }
        let key_expected = matches!(
            stack.last(),
            Some(Frame::Map {
                key_pending: false,
                ..
            })
        );
        match event {
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Scalar(value, ..) if key_expected => {
                if let Some(Frame::Map { keys, key_pending }) = stack.last_mut() {
                    *key_pending = true;
                    match keys.first(&value) {
                        Some(first) if problems.len() < MAX_DUPLICATES => {
                            problems.push(duplicate(&field_path(&path), &value, first, line));
                        }
                        Some(_) => {}
                        None => keys.insert(value.clone(), line),
                    }
                }
                path.push(Seg::Key(value));
            }
            Event::Alias(_) | Event::MappingStart(..) | Event::SequenceStart(..)
                if key_expected =>
            {
                // An alias or a collection as a key (`? [a, b]`): not a manifest key; compared
                // with nothing (the decoder refuses it).
                if let Some(Frame::Map { key_pending, .. }) = stack.last_mut() {
                    *key_pending = true;
                }
                path.push(Seg::Key(Cow::Borrowed("?")));
                if !matches!(event, Event::Alias(_)) {
                    if stack.len() >= max_depth {
                        problems.insert(0, too_deep(field_path(&path), line, max_depth));
                        return problems;
                    }
                    stack.push(open(&event));
                    as_key.push(true);
                }
            }
            Event::Scalar(..) | Event::Alias(_) => {
                begin_item(&mut stack, &mut path);
                value_done(&mut stack, &mut path);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                begin_item(&mut stack, &mut path);
                if stack.len() >= max_depth {
                    problems.insert(0, too_deep(field_path(&path), line, max_depth));
                    return problems;
                }
                stack.push(open(&event));
                as_key.push(false);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if as_key.pop() != Some(true) {
                    value_done(&mut stack, &mut path);
                }
            }
            _ => {}
        }
    }
    problems
}

fn open<'a>(event: &Event<'_>) -> Frame<'a> {
    if matches!(event, Event::MappingStart(..)) {
        Frame::Map {
            keys: Keys::default(),
            key_pending: false,
        }
    } else {
        Frame::Seq { next: 0 }
    }
}

/// A node starts: inside a sequence, it is the next item.
fn begin_item(stack: &mut [Frame<'_>], path: &mut Vec<Seg<'_>>) {
    if let Some(Frame::Seq { next }) = stack.last_mut() {
        path.push(Seg::Index(*next));
        *next += 1;
    }
}

/// A value ended inside the innermost open collection: drop the key or index it was under.
fn value_done(stack: &mut [Frame<'_>], path: &mut Vec<Seg<'_>>) {
    match stack.last_mut() {
        Some(Frame::Map { key_pending, .. }) if *key_pending => {
            *key_pending = false;
            path.pop();
        }
        Some(Frame::Seq { .. }) => {
            path.pop();
        }
        _ => {}
    }
}

fn too_many(path: FieldPath, line: u32, max_nodes: usize) -> Problem {
    Problem {
        severity: Severity::Error,
        path,
        line: Some(line),
        rule: "max-nodes",
        message: format!(
            "more than {max_nodes} keys, values and items in one document \
             (--max-nodes-per-document); AWS's own limits keep a manifest far below"
        ),
    }
}

fn too_deep(path: FieldPath, line: u32, max_depth: usize) -> Problem {
    Problem {
        severity: Severity::Error,
        path,
        line: Some(line),
        rule: "max-depth",
        message: format!(
            "nested deeper than {max_depth} levels (--max-depth); a manifest needs about 8"
        ),
    }
}

fn duplicate(parent: &FieldPath, key: &str, first: u32, line: u32) -> Problem {
    let what = if parent.is_root() {
        "a manifest".to_string()
    } else {
        format!("`{parent}`")
    };
    Problem {
        severity: Severity::Error,
        path: parent.clone().key(key),
        line: Some(line),
        rule: "duplicate-key",
        message: format!(
            "key `{}` is written twice in {what} (first on line {first} of this document); the \
             second would replace the first. Two manifests in one file need `---` between them",
            super::escape::escape(key)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, depth: usize) -> Vec<(String, u32, &'static str)> {
        scan(text, depth, 1000)
            .into_iter()
            .map(|p| (p.path.to_string(), p.line.unwrap(), p.rule))
            .collect()
    }

    #[test]
    fn duplicate_keys_are_found_at_every_level() {
        let cases: &[(&str, &[(&str, u32)])] = &[
            ("a: 1\nb: 2\n", &[]),
            (
                "metadata: {name: a}\nspec: {}\nmetadata: {name: b}\n",
                &[("metadata", 3)],
            ),
            (
                "spec:\n  cluster: a\n  cluster: b\n",
                &[("spec.cluster", 3)],
            ),
            ("l:\n  - {x: 1, x: 2}\n  - {x: 1}\n", &[("l[0].x", 2)]),
            (
                "l: [a, b, {x: 1, x: 2}]\nm: 1\nm: 2\n",
                &[("l[2].x", 1), ("m", 3)],
            ),
            (
                "env: {A: 1, B: 2, A: 3, A: 4}\n",
                &[("env.A", 1), ("env.A", 1)],
            ),
            // The same key in sibling mappings is no duplicate.
            ("a: {k: 1}\nb: {k: 1}\n", &[]),
            ("'a': 1\na: 2\n", &[("a", 2)]),
            // A collection as a key, then its value: the value is no key.
            ("? [a, b]\n: x\nx: 1\n? [c]\n: y\n", &[]),
        ];
        for (text, want) in cases {
            let got = found(text, 32);
            let want: Vec<_> = want
                .iter()
                .map(|(p, l)| (p.to_string(), *l, "duplicate-key"))
                .collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn nesting_is_refused_past_the_limit_and_the_scan_stops() {
        assert!(found("a: {b: {c: [1]}}\n", 4).is_empty());
        assert_eq!(
            found("a: {b: {c: [1]}}\n", 3),
            [("a.b.c".into(), 1, "max-depth")]
        );
        for n in [40, 200, 300, 100_000] {
            let deep = format!("a: {}1{}\n", "[".repeat(n), "]".repeat(n));
            assert_eq!(found(&deep, 32)[0].2, "max-depth", "{n}");
        }
        let mut block = String::new();
        for i in 0..1000 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        let got = found(&block, 32);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, 33, "the 33rd level, {got:?}");
    }

    #[test]
    fn nodes_are_counted_up_to_the_limit() {
        // A mapping of 2 keys with scalar values: the mapping, 2 keys, 2 values.
        assert!(scan("a: 1\nb: [x]\n", 32, 6).is_empty());
        let p = scan("a: 1\nb: [x, y]\n", 32, 6);
        assert_eq!(
            (p[0].rule, p[0].line, p[0].path.to_string()),
            ("max-nodes", Some(2), "b".into())
        );
        let many = "k: 1\n".repeat(5000);
        let p = scan(&many, 32, 100_000);
        assert_eq!(p.len(), MAX_DUPLICATES, "duplicates recorded at most");
    }

    /// What the scan costs next to the decode it guards (figures for BENCHMARKS.md, no
    /// assertion): `cargo test --release --lib prescan::tests::cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn cost() {
        let text = std::fs::read_to_string("benches/load_validate.rs").unwrap();
        let start = text
            .find("apiVersion: ecs-operator/v1\nkind: Service")
            .unwrap();
        let mut doc = text[start..].split("\"#").next().unwrap().to_string();
        for name in ["i", "port", "team", "cluster", "desired", "minor"] {
            doc = doc.replace(&format!("{{{name}}}"), "1");
        }
        let doc = doc.replace("{{", "{").replace("}}", "}");
        assert!(
            super::super::decode::decode(&doc).manifest.is_some(),
            "{doc}"
        );
        let n = 20_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            assert!(scan(&doc, 32, 20_000).is_empty());
        }
        let scanned = t.elapsed();
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(super::super::decode::decode(&doc));
        }
        let decoded = t.elapsed();
        println!(
            "{n} service documents of {} bytes: scan {scanned:?}, decode {decoded:?}",
            doc.len()
        );
    }

    #[test]
    fn broken_yaml_ends_the_scan_quietly() {
        assert!(found("a: [\n", 32).is_empty());
        assert!(found("a: 1\n  b: 2\n", 32).is_empty());
    }
}
