//! A scan of one document's parser events (saphyr-parser) before serde builds anything from
//! it: nesting deeper than `--max-depth` is refused at the line it goes too deep (serde_yaml
//! would first build, and libyaml first parse, the whole tree), and a key written twice in one
//! mapping is an error at every level (serde keeps the second silently: two manifests
//! concatenated without `---` become one resource). The scan keeps only the keys of the
//! mappings open at the current point, so it costs little more than the parse.
//!
//! A document the scanner cannot parse ends the scan quietly: the decoder reports the syntax
//! error with its own message.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

use super::decode::Problem;
use super::diagnostic::Severity;
use super::path::{FieldPath, Segment};

enum Frame {
    /// An open mapping: its keys so far with their lines, and whether a key waits for its
    /// value.
    Map {
        keys: HashMap<String, u32>,
        key_pending: bool,
    },
    /// An open sequence and the index of its next item.
    Seq { next: usize },
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
    let mut stack: Vec<Frame> = Vec::new();
    let mut path = FieldPath::root();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ok) => ok,
            // The scanner's own bound on flow nesting (`[[[[...`, 255 levels).
            Err(e) if e.info().contains("recursion limit") => {
                problems.push(too_deep(path, e.marker().line() as u32, max_depth));
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
                problems.insert(
                    0,
                    Problem {
                        severity: Severity::Error,
                        path,
                        line: Some(line),
                        rule: "max-nodes",
                        message: format!(
                            "more than {max_nodes} keys, values and items in one document \
                         (--max-nodes-per-document); AWS's own limits keep a manifest far below"
                        ),
                    },
                );
                return problems;
            }
        }
        match event {
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map {
                    keys,
                    key_pending: pending @ false,
                }) = stack.last_mut()
                {
                    *pending = true;
                    if let Some(first) = keys.get(value.as_ref()) {
                        if problems.len() < MAX_DUPLICATES {
                            problems.push(duplicate(&path, &value, *first, line));
                        }
                    } else {
                        keys.insert(value.to_string(), line);
                    }
                    path.push(Segment::Key(value.into_owned()));
                } else {
                    begin_item(&mut stack, &mut path);
                    value_done(&mut stack, &mut path);
                }
            }
            Event::Alias(_) => {
                if matches!(
                    stack.last(),
                    Some(Frame::Map {
                        key_pending: false,
                        ..
                    })
                ) {
                    // An alias as a key: no text to compare; it waits for its value.
                    if let Some(Frame::Map { key_pending, .. }) = stack.last_mut() {
                        *key_pending = true;
                    }
                    path.push(Segment::Key("*alias".into()));
                } else {
                    begin_item(&mut stack, &mut path);
                    value_done(&mut stack, &mut path);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if matches!(stack.last(), Some(Frame::Seq { .. })) {
                    begin_item(&mut stack, &mut path);
                } else if let Some(Frame::Map {
                    key_pending: pending @ false,
                    ..
                }) = stack.last_mut()
                {
                    // A mapping or sequence as a key (`? [a, b]`): not a manifest key; it is
                    // compared with nothing, and the decoder refuses it.
                    *pending = true;
                    path.push(Segment::Key("?".into()));
                }
                if stack.len() >= max_depth {
                    problems.insert(0, too_deep(path, line, max_depth));
                    return problems;
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        keys: HashMap::new(),
                        key_pending: false,
                    }
                } else {
                    Frame::Seq { next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack, &mut path);
            }
            _ => {}
        }
    }
    problems
}

/// A node starts: inside a sequence, it is the next item.
fn begin_item(stack: &mut [Frame], path: &mut FieldPath) {
    if let Some(Frame::Seq { next }) = stack.last_mut() {
        path.push(Segment::Index(*next));
        *next += 1;
    }
}

/// A value ended inside the innermost open collection: drop the key or index it was under.
fn value_done(stack: &mut [Frame], path: &mut FieldPath) {
    match stack.last_mut() {
        Some(Frame::Map { key_pending, .. }) if *key_pending => {
            *key_pending = false;
            path.pop();
        }
        Some(Frame::Seq { .. }) => path.pop(),
        _ => {}
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

    #[test]
    fn broken_yaml_ends_the_scan_quietly() {
        assert!(found("a: [\n", 32).is_empty());
        assert!(found("a: 1\n  b: 2\n", 32).is_empty());
    }
}
