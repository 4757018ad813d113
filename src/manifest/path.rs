//! Field paths inside a manifest document, rendered the way users read them:
//! `spec.taskDefinition.containerDefinitions[0].cpu`.

use std::fmt;

/// One step of a [`FieldPath`]: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A position in a sequence, from 0.
    Index(usize),
}

/// A path from the root of a document to one of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The document root (renders as an empty string).
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// Parses the dotted form used throughout the code (`spec.loadBalancers[0].targetGroup`).
    /// Keys that contain a dot or a bracket are not expressible here; use [`FieldPath::key`].
    pub fn parse(s: &str) -> Self {
        let mut out = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(open) = rest.find('[') {
                if open > 0 {
                    out.push(Segment::Key(rest[..open].to_string()));
                }
                rest = &rest[open..];
                while let Some(stripped) = rest.strip_prefix('[') {
                    let close = stripped.find(']').unwrap_or(stripped.len());
                    match stripped[..close].parse() {
                        Ok(i) => out.push(Segment::Index(i)),
                        Err(_) => out.push(Segment::Key(stripped[..close].to_string())),
                    }
                    rest = stripped.get(close + 1..).unwrap_or("");
                }
            } else {
                out.push(Segment::Key(rest.to_string()));
            }
        }
        FieldPath(out)
    }

    /// This path extended by a mapping key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(Segment::Key(key.into()));
        FieldPath(v)
    }

    /// This path extended by a sequence index.
    pub fn index(&self, index: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Segment::Index(index));
        FieldPath(v)
    }

    /// The segments, root first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The path without its last segment (the root stays the root).
    pub fn parent(&self) -> Self {
        let mut v = self.0.clone();
        v.pop();
        FieldPath(v)
    }

    /// The last key of the path, if it ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// True for the document root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn push(&mut self, seg: Segment) {
        self.0.push(seg);
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }
}

impl From<Vec<Segment>> for FieldPath {
    fn from(v: Vec<Segment>) -> Self {
        FieldPath(v)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if k.contains(['.', '[', ']', ' ']) || k.is_empty() => {
                    write!(f, "[{k:?}]")?
                }
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
            }
        }
        Ok(())
    }
}

/// Converts serde_path_to_error's path into ours.
pub(crate) fn from_path_to_error(p: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    let mut out = FieldPath::root();
    for seg in p.iter() {
        match seg {
            S::Seq { index } => out.push(Segment::Index(*index)),
            S::Map { key } => out.push(Segment::Key(key.clone())),
            S::Enum { .. } | S::Unknown => {}
        }
    }
    out
}

/// Converts serde_ignored's path into ours.
pub(crate) fn from_ignored(p: &serde_ignored::Path<'_>) -> FieldPath {
    fn walk(p: &serde_ignored::Path<'_>, out: &mut Vec<Segment>) {
        use serde_ignored::Path as P;
        match p {
            P::Root => {}
            P::Seq { parent, index } => {
                walk(parent, out);
                out.push(Segment::Index(*index));
            }
            P::Map { parent, key } => {
                walk(parent, out);
                out.push(Segment::Key(key.clone()));
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                walk(parent, out)
            }
        }
    }
    let mut v = Vec::new();
    walk(p, &mut v);
    FieldPath(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_users_write_them() {
        let cases = [
            ("", ""),
            ("spec", "spec"),
            (
                "spec.taskDefinition.containerDefinitions[0].cpu",
                "spec.taskDefinition.containerDefinitions[0].cpu",
            ),
            ("spec.loadBalancers[1]", "spec.loadBalancers[1]"),
            ("a[0][1].b", "a[0][1].b"),
        ];
        for (input, want) in cases {
            assert_eq!(FieldPath::parse(input).to_string(), want, "input {input:?}");
        }
    }

    #[test]
    fn keys_with_dots_are_bracketed() {
        let p = FieldPath::parse("spec.attributes").key("deregistration_delay.timeout_seconds");
        assert_eq!(
            p.to_string(),
            "spec.attributes[\"deregistration_delay.timeout_seconds\"]"
        );
    }

    #[test]
    fn parent_and_last_key() {
        let p = FieldPath::parse("spec.taskDefinition.cpu");
        assert_eq!(p.parent().to_string(), "spec.taskDefinition");
        assert_eq!(p.last_key(), Some("cpu"));
        assert!(FieldPath::root().parent().is_root());
    }
}
