//! Line numbers for field paths. serde gives us the path of a problem; this index, built from
//! saphyr-parser's marked events, tells on which line that path is written. It is built only
//! for documents that have something to report, so loading clean manifests never pays for it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

use super::path::{FieldPath, Segment};

/// Where each key and sequence item of one document starts.
#[derive(Debug, Default)]
pub struct LineIndex {
    lines: HashMap<FieldPath, u32>,
}

enum Frame {
    /// A mapping; `key` is the pending key once read, `count` the keys read so far.
    Map { key: Option<String>, count: usize },
    /// A sequence and the index of its next item.
    Seq { next: usize },
}

struct Builder {
    lines: HashMap<FieldPath, u32>,
    path: FieldPath,
    stack: Vec<Frame>,
}

impl Builder {
    /// A node starts at `line`: record where it is, and say whether it is a mapping key.
    fn begin_node(&mut self, line: u32) -> bool {
        match self.stack.last_mut() {
            Some(Frame::Map { key: None, .. }) => true,
            Some(Frame::Map { key: Some(_), .. }) => false,
            Some(Frame::Seq { next }) => {
                self.path.push(Segment::Index(*next));
                *next += 1;
                self.lines.entry(self.path.clone()).or_insert(line);
                false
            }
            None => {
                self.lines.entry(FieldPath::root()).or_insert(line);
                false
            }
        }
    }

    /// A mapping key was read. The n-th key also answers for `[n]`: the map shorthand
    /// (`environment: {A: b}`) is a list once decoded, and validation reports its items by index.
    fn key(&mut self, key: String, line: u32) {
        if let Some(Frame::Map { count, .. }) = self.stack.last_mut() {
            self.lines.entry(self.path.index(*count)).or_insert(line);
            *count += 1;
        }
        self.path.push(Segment::Key(key.clone()));
        self.lines.entry(self.path.clone()).or_insert(line);
        if let Some(Frame::Map { key: k, .. }) = self.stack.last_mut() {
            *k = Some(key);
        }
    }

    /// A value node ended: drop the path segment its key or index added.
    fn end_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) if key.is_some() => {
                *key = None;
                self.path.pop();
            }
            Some(Frame::Seq { .. }) => self.path.pop(),
            _ => {}
        }
    }
}

impl LineIndex {
    /// Indexes the first YAML document in `text`. Parse errors end the index where they occur;
    /// what was read before stays usable.
    pub fn build(text: &str) -> LineIndex {
        let mut b = Builder {
            lines: HashMap::new(),
            path: FieldPath::root(),
            stack: Vec::new(),
        };
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok((event, span))) = parser.next_event() {
            let line = span.start.line() as u32;
            match event {
                Event::DocumentEnd | Event::StreamEnd => break,
                Event::Scalar(value, ..) => {
                    if b.begin_node(line) {
                        b.key(value.to_string(), line);
                    } else {
                        b.end_value();
                    }
                }
                Event::Alias(_) if !b.begin_node(line) => b.end_value(),
                Event::MappingStart(..) => {
                    b.begin_node(line);
                    b.stack.push(Frame::Map {
                        key: None,
                        count: 0,
                    });
                }
                Event::SequenceStart(..) => {
                    b.begin_node(line);
                    b.stack.push(Frame::Seq { next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    b.stack.pop();
                    b.end_value();
                }
                _ => {}
            }
        }
        LineIndex { lines: b.lines }
    }

    /// The line of `path`, or of its nearest written ancestor (a missing field is reported
    /// where its parent is written).
    pub fn line_of(&self, path: &FieldPath) -> Option<u32> {
        let mut p = path.clone();
        loop {
            if let Some(l) = self.lines.get(&p) {
                return Some(*l);
            }
            if p.is_root() {
                return None;
            }
            p = p.parent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
apiVersion: ecs-operator/v1
kind: Service
metadata:
  name: api
spec:
  cluster: shop
  taskDefinition:
    containerDefinitions:
      - name: api
        image: x:1
        portMappings: [{containerPort: 8000}]
      - name: side
        image: y:1
  loadBalancers:
    - {targetGroup: tg, containerName: api, containerPort: 8000}
";

    #[test]
    fn keys_and_items_have_their_lines() {
        let idx = LineIndex::build(DOC);
        let cases = [
            ("kind", 2),
            ("metadata.name", 4),
            ("spec.cluster", 6),
            ("spec.taskDefinition.containerDefinitions[0]", 9),
            ("spec.taskDefinition.containerDefinitions[0].image", 10),
            (
                "spec.taskDefinition.containerDefinitions[0].portMappings[0].containerPort",
                11,
            ),
            ("spec.taskDefinition.containerDefinitions[1].name", 12),
            ("spec.taskDefinition.containerDefinitions[1].image", 13),
            ("spec.loadBalancers[0].containerPort", 15),
        ];
        for (path, line) in cases {
            assert_eq!(idx.line_of(&FieldPath::parse(path)), Some(line), "{path}");
        }
    }

    #[test]
    fn missing_fields_fall_back_to_their_parent() {
        let idx = LineIndex::build(DOC);
        let p = FieldPath::parse("spec.taskDefinition.containerDefinitions[1].cpu");
        assert_eq!(idx.line_of(&p), Some(12));
        assert_eq!(idx.line_of(&FieldPath::parse("nothing.here")), Some(1));
    }

    #[test]
    fn map_shorthand_items_answer_by_index() {
        let idx = LineIndex::build("env:\n  A: 1\n  B: 2\n");
        assert_eq!(idx.line_of(&FieldPath::parse("env[1]")), Some(3));
        assert_eq!(idx.line_of(&FieldPath::parse("env.B")), Some(3));
    }

    #[test]
    fn broken_yaml_keeps_what_was_read() {
        let idx = LineIndex::build("a: 1\nb: [\n");
        assert_eq!(idx.line_of(&FieldPath::parse("a")), Some(1));
    }
}
