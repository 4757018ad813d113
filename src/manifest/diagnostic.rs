//! Diagnostics: an error or warning about one field of one manifest, with file and line.
//! Rendering escapes every control character of the file name, the field path and the message,
//! and cuts long quoted values ([`super::escape`]): they come from manifests and file names, and
//! end up on terminals and in log lines.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::escape::{QUOTED_KEEP, cap_quoted, escape};
use super::path::{FieldPath, Segment};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The manifest cannot be applied; nothing live is touched.
    Error,
    /// Legal but risky; `validate --strict` treats it as an error.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding about a manifest, pointing at a file, a line and a field path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as given on the command line or found while walking a directory.
    pub file: PathBuf,
    /// 1-based line; 0 when the finding is about the whole file (it could not be read).
    pub line: u32,
    /// The field the finding is about (empty for the document itself).
    #[serde(serialize_with = "serialize_display")]
    pub path: FieldPath,
    /// A stable identifier of the rule, for scripts and for `--output json` consumers.
    pub rule: &'static str,
    /// What is wrong and, where it helps, what to do instead.
    pub message: String,
}

fn serialize_display<S: serde::Serializer>(p: &FieldPath, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(p)
}

impl Diagnostic {
    /// An error about `path` in `file` at `line`.
    pub fn error(
        file: &Path,
        line: u32,
        path: FieldPath,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line,
            path,
            rule,
            message: message.into(),
        }
    }

    /// A warning about `path` in `file` at `line`.
    pub fn warning(
        file: &Path,
        line: u32,
        path: FieldPath,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, line, path, rule, message)
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The location part: `manifests/api.yaml:14 spec.taskDefinition.cpu`, escaped.
    pub fn location(&self) -> String {
        let mut s = escape(&self.file.display().to_string()).into_owned();
        if self.line > 0 {
            s.push_str(&format!(":{}", self.line));
        }
        if !self.path.is_root() {
            s.push(' ');
            s.push_str(&escape(&shown_path(&self.path)));
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    /// `error: manifests/api.yaml:14 spec.taskDefinition.cpu: message [rule]`, escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} [{}]",
            self.severity,
            self.location(),
            escape(&cap_quoted(&self.message, QUOTED_KEEP)),
            self.rule
        )
    }
}

/// `path` as shown: each key longer than [`QUOTED_KEEP`] characters cut, with its length (a
/// 3 MiB key is a field path too).
fn shown_path(path: &FieldPath) -> String {
    let mut shown = FieldPath::root();
    for segment in path.segments() {
        shown.push(match segment {
            Segment::Key(k) => match k.char_indices().nth(QUOTED_KEEP) {
                Some((at, _)) => {
                    Segment::Key(format!("{}…({} characters)", &k[..at], k.chars().count()))
                }
                None => segment.clone(),
            },
            Segment::Index(_) => segment.clone(),
        });
    }
    shown.to_string()
}

/// Sorts diagnostics by file, line, path and severity so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.line, &a.path, a.severity, &a.message)
            .cmp(&(&b.file, b.line, &b.path, b.severity, &b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_field() {
        let d = Diagnostic::error(
            Path::new("manifests/api.yaml"),
            14,
            FieldPath::parse("spec.taskDefinition.containerDefinitions[0].cpu"),
            "type",
            "invalid type",
        );
        assert_eq!(
            d.to_string(),
            "error: manifests/api.yaml:14 spec.taskDefinition.containerDefinitions[0].cpu: invalid type [type]"
        );
    }

    #[test]
    fn terminal_escapes_in_file_path_and_message_are_written_out() {
        let d = Diagnostic::error(
            Path::new("evil\u{1b}]0;x\u{7}.yaml"),
            3,
            FieldPath::root().key("sp\u{7}ec"),
            "unknown-field",
            "unknown field `sp\u{1b}[31mec`",
        );
        let shown = d.to_string();
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(
            shown,
            "error: evil\\u{1b}]0;x\\u{7}.yaml:3 sp\\u{7}ec: unknown field `sp\\u{1b}[31mec` [unknown-field]"
        );
    }

    #[test]
    fn whole_file_findings_have_no_line() {
        let d = Diagnostic::warning(Path::new("a.yaml"), 0, FieldPath::root(), "io", "x");
        assert_eq!(d.location(), "a.yaml");
    }
}
