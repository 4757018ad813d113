//! Loading manifests: walking directories (any depth, `.yaml`/`.yml`, hidden entries such as
//! `.git` skipped, sorted so the order never depends on the filesystem, links kept inside the
//! directory: `files`), splitting files into documents, scanning each for nesting and
//! duplicate keys (`prescan`) and decoding it, all within [`LoadLimits`]. Nothing here fails as a whole: an unreadable file or a broken
//! document becomes an error [`Diagnostic`] and a [`FailedDocument`], so callers can tell "this
//! resource failed to load" from "this resource was deleted".

use std::cell::OnceCell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::decode::{self, Problem};
use super::diagnostic::Diagnostic;
use super::document::Manifest;
use super::escape;
use super::files::{self, Found};
use super::lines::LineIndex;
use super::load_limits::{ByteSize, LoadLimits, MAX_PROBLEMS_PER_DOCUMENT};
use super::path::FieldPath;
use super::prescan;

/// A document that decoded into a manifest, with where it came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file it was read from.
    pub file: PathBuf,
    /// Line of the document's first content in the file (1-based).
    pub line: u32,
    /// The decoded manifest, shared: the directory cache, the desired state and a running
    /// reconcile hold the same one (a save copies no document it did not change).
    pub manifest: Arc<Manifest>,
    source: DocSource,
    /// [`Document::content_hash`], computed once and shared by every clone.
    content: Arc<OnceLock<String>>,
}

/// A document that failed to load. Whatever resource it describes must be treated as
/// unknown, never as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDocument {
    /// The file.
    pub file: PathBuf,
    /// Line of the document (0 for a file that could not be read at all).
    pub line: u32,
    /// `kind` and `metadata.name`, when they could be read.
    pub identity: Option<(String, String)>,
}

/// Everything read from a set of paths.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    /// Documents that decoded, in load order (files sorted, documents in file order).
    pub documents: Vec<Document>,
    /// Documents or files that did not.
    pub failed: Vec<FailedDocument>,
    /// Problems found while reading and decoding (validation adds its own).
    pub diagnostics: Vec<Diagnostic>,
    /// Number of files read.
    pub files: usize,
}

/// The text of one document inside its file, kept to find lines on demand.
#[derive(Debug, Clone)]
struct DocSource {
    text: Arc<str>,
    range: Range<usize>,
    /// File line of the first line of `range`, minus one.
    line_offset: u32,
}

impl DocSource {
    fn lines(&self, fallback: u32) -> DocLines {
        DocLines {
            index: LineIndex::build(&self.text[self.range.clone()]),
            offset: self.line_offset,
            fallback,
        }
    }
}

/// The file line of each field of one document ([`Document::lines`]). Built when a finding
/// needs a line and dropped with the findings' pass: it is not kept with the document (about
/// 8 KB for a small service, 77 MB at 10,000 documents with a warning each).
#[derive(Debug)]
pub struct DocLines {
    index: LineIndex,
    offset: u32,
    /// The document's own line, for a path not written in it.
    fallback: u32,
}

impl DocLines {
    /// The file line on which `path` (or its nearest written ancestor) is written.
    pub fn line_of(&self, path: &FieldPath) -> u32 {
        self.index
            .line_of(path)
            .map_or(self.fallback, |l| l + self.offset)
    }
}

impl Document {
    /// The file line on which `path` (or its nearest written ancestor) is written. Reads the
    /// document's text again: for several paths, [`Document::lines`] once.
    pub fn line_of(&self, path: &FieldPath) -> u32 {
        self.lines().line_of(path)
    }

    /// The lines of this document's fields, read from its text.
    pub fn lines(&self) -> DocLines {
        self.source.lines(self.line)
    }

    /// [`Manifest::content_hash`] of this document's manifest, computed on first use and
    /// shared with every clone (a loaded manifest is never changed in place), so a reload
    /// hashes only the documents it parsed again.
    pub fn content_hash(&self) -> &str {
        self.content.get_or_init(|| self.manifest.content_hash())
    }

    /// The manifest to change in place (tests and generated sets): this document gets its own
    /// copy if it is shared, and its content hash is computed again.
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        self.content = Arc::default();
        Arc::make_mut(&mut self.manifest)
    }

    /// Builds a document from a manifest with no source text (for tests and generated sets).
    pub fn synthetic(file: impl Into<PathBuf>, line: u32, manifest: Manifest) -> Document {
        Document {
            file: file.into(),
            line,
            manifest: Arc::new(manifest),
            source: DocSource {
                text: Arc::from(""),
                range: 0..0,
                line_offset: 0,
            },
            content: Arc::default(),
        }
    }
}

/// Loads every manifest under `paths` (files or directories), within the default
/// [`LoadLimits`].
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    load_paths_with(paths, &LoadLimits::default())
}

/// Loads every manifest under `paths` (files or directories) within `limits`. A path named
/// here is followed if it is a link; inside a directory only what `files::walk` admits is
/// read.
pub fn load_paths_with(paths: &[PathBuf], limits: &LoadLimits) -> Loaded {
    let mut budget = Budget::new(limits);
    let mut reads = Vec::new();
    for root in paths {
        match std::fs::metadata(root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => reads.push(FileRead::failed(
                root,
                "io",
                format!("{} does not exist", root.display()),
            )),
            Err(e) => reads.push(FileRead::failed(
                root,
                "io",
                format!("cannot read {}: {e}", root.display()),
            )),
            Ok(m) if m.is_dir() => {
                for found in files::walk(root) {
                    reads.push(match found {
                        Found::File { path, open } => FileRead::read(&path, &open, &mut budget),
                        Found::Refused {
                            path,
                            rule,
                            message,
                        } => FileRead::failed(&path, rule, message),
                    });
                }
            }
            Ok(m) if m.is_file() => reads.push(FileRead::read(root, root, &mut budget)),
            Ok(m) => reads.push(FileRead::failed(
                root,
                "file-type",
                format!(
                    "{} is {}, not a manifest file or directory; refused",
                    root.display(),
                    files::kind_of(m.file_type())
                ),
            )),
        }
    }
    parse_all(&mut reads, limits);
    let mut out = Loaded::default();
    for f in reads {
        out.append(f.out);
    }
    budget.finish(&mut out);
    out
}

/// One file of a load, in load order. Every file is read (within the file and total limits)
/// before any is parsed, so that [`parse_all`] can parse them on every core.
pub(super) struct FileRead {
    path: PathBuf,
    /// What the file loaded to: reading's findings, then the parse's.
    out: Loaded,
    /// The bytes read, until they are parsed.
    bytes: Option<Vec<u8>>,
    /// Not read because the total-bytes budget was spent: what it loaded to depends on the
    /// other files, so a cache must not keep it.
    pub(super) over_budget: bool,
}

impl FileRead {
    /// A path that failed before it could be read.
    fn failed(path: &Path, rule: &'static str, message: String) -> Self {
        let mut out = Loaded::default();
        out.fail_file_rule(path, rule, message);
        FileRead {
            path: path.to_path_buf(),
            out,
            bytes: None,
            over_budget: false,
        }
    }

    /// Reads `open` (reported as `path`) within the file limit and the load's budget.
    pub(super) fn read(path: &Path, open: &Path, budget: &mut Budget<'_>) -> Self {
        let mut out = Loaded::default();
        let mut over_budget = false;
        let bytes = match files::read_capped(path, open, budget.limits.max_file_bytes) {
            Ok(bytes) if budget.take(path, bytes.len() as u64, &mut out) => Some(bytes),
            Ok(_) => {
                over_budget = true;
                None
            }
            Err(e) => {
                let rule = match e {
                    files::ReadError::TooLarge { .. } => "max-file-bytes",
                    files::ReadError::NotRegular { .. } => "file-type",
                    files::ReadError::Io { .. } => "io",
                };
                out.fail_file_rule(path, rule, e.to_string());
                None
            }
        };
        FileRead {
            path: path.to_path_buf(),
            out,
            bytes,
            over_budget,
        }
    }
}

impl FileRead {
    /// The path and what it loaded to (after [`parse_all`]).
    pub(super) fn into_parts(self) -> (PathBuf, Loaded) {
        (self.path, self.out)
    }
}

/// Parses every file read, on every core ([`super::parallel`]): the same result, in the same
/// order, as one after the other.
pub(super) fn parse_all(files: &mut [FileRead], limits: &LoadLimits) {
    super::parallel::for_each_in_runs(files, |f| {
        let Some(bytes) = f.bytes.take() else { return };
        match String::from_utf8(bytes) {
            Ok(text) => load_str_into(&f.path, &text, limits, &mut f.out),
            Err(e) => f.out.fail_file(
                &f.path,
                format!("{} is not UTF-8 text: {}", f.path.display(), e.utf8_error()),
            ),
        }
    });
}

/// The total-bytes allowance of one load, spent file by file.
pub(super) struct Budget<'a> {
    limits: &'a LoadLimits,
    spent: u64,
    /// Files not read because the allowance was spent, after the first (which has its own
    /// finding): counted in one finding at the end.
    skipped: Vec<PathBuf>,
}

impl<'a> Budget<'a> {
    pub(super) fn new(limits: &'a LoadLimits) -> Self {
        Budget {
            limits,
            spent: 0,
            skipped: Vec::new(),
        }
    }

    /// Takes `len` bytes for `file`; false (with a finding for the first file refused) when the
    /// load would go over `max_total_bytes`.
    pub(super) fn take(&mut self, file: &Path, len: u64, out: &mut Loaded) -> bool {
        let max = self.limits.max_total_bytes;
        if self.spent.saturating_add(len) <= max {
            self.spent += len;
            return true;
        }
        if self.skipped.is_empty() && self.spent <= max {
            out.fail_file_rule(
                file,
                "max-total-bytes",
                format!(
                    "{}: the manifests read so far and this file are over the limit of {} for \
                     all manifests (--max-total-bytes); not read",
                    file.display(),
                    ByteSize(max)
                ),
            );
            self.spent = max + 1;
        } else {
            self.skipped.push(file.to_path_buf());
        }
        false
    }

    /// True while no file was refused for the total-bytes limit.
    pub(super) fn is_untouched_by_limit(&self) -> bool {
        self.spent <= self.limits.max_total_bytes
    }

    pub(super) fn finish(self, out: &mut Loaded) {
        let Some(first) = self.skipped.first() else {
            return;
        };
        out.diagnostics.push(Diagnostic::error(
            first,
            0,
            FieldPath::root(),
            "max-total-bytes",
            format!(
                "{} more files from here on not read: over the limit of {} for all manifests \
                 (--max-total-bytes)",
                self.skipped.len(),
                ByteSize(self.limits.max_total_bytes)
            ),
        ));
        for file in &self.skipped {
            out.failed.push(FailedDocument {
                file: file.clone(),
                line: 0,
                identity: None,
            });
        }
    }
}

/// Loads the documents of one file's text, as if read from `file`.
pub fn load_str(file: &Path, text: &str) -> Loaded {
    let mut out = Loaded::default();
    load_str_into(file, text, &LoadLimits::default(), &mut out);
    out
}

/// Loads the documents of several files' texts, in the given order, into one [`Loaded`]:
/// what a git source reads from a commit's tree. Diagnostics name each `path` as given
/// (repository-relative for git).
pub fn load_texts(files: &[(PathBuf, String)]) -> Loaded {
    load_texts_with(files, &LoadLimits::default())
}

/// [`load_texts`] within `limits` (each text as a file of its size).
pub fn load_texts_with(files: &[(PathBuf, String)], limits: &LoadLimits) -> Loaded {
    let mut out = Loaded::default();
    let mut budget = Budget::new(limits);
    for (path, text) in files {
        let len = text.len() as u64;
        if len > limits.max_file_bytes {
            let e = files::ReadError::TooLarge {
                path: path.clone(),
                size: len,
                max: ByteSize(limits.max_file_bytes),
            };
            out.fail_file_rule(path, "max-file-bytes", e.to_string());
            continue;
        }
        if budget.take(path, len, &mut out) {
            load_str_into(path, text, limits, &mut out);
        }
    }
    budget.finish(&mut out);
    out
}

fn load_str_into(file: &Path, text: &str, limits: &LoadLimits, out: &mut Loaded) {
    out.files += 1;
    let text: Arc<str> = Arc::from(text.strip_prefix('\u{feff}').unwrap_or(text));
    let chunks = split_documents(&text);
    if let Some(extra) = chunks.get(limits.max_documents_per_file) {
        let line = extra.first_line;
        out.diagnostics.push(Diagnostic::error(
            file,
            line,
            FieldPath::root(),
            "max-documents",
            format!(
                "{} documents in one file, over the limit of {} (--max-documents-per-file); \
                 the file is not loaded (this is the first one over)",
                chunks.len(),
                limits.max_documents_per_file
            ),
        ));
        out.failed.push(FailedDocument {
            file: file.to_path_buf(),
            line,
            identity: None,
        });
        return;
    }
    for chunk in chunks {
        let body = &text[chunk.range.clone()];
        let scanned = prescan::scan(body, limits.max_depth, limits.max_nodes_per_document);
        let decoded = if scanned
            .iter()
            .any(|p| matches!(p.rule, "max-depth" | "max-nodes"))
        {
            // Never handed to serde: building the tree is what the limit prevents.
            decode::Decoded {
                problems: scanned,
                ..decode::Decoded::default()
            }
        } else {
            // Duplicate keys fail the document; decoding it still names the resource (so it is
            // held, not taken as deleted) and finds its other problems.
            let mut decoded = decode::decode(body);
            if !scanned.is_empty() {
                decoded.problems.splice(0..0, scanned);
                decoded.empty = false;
            }
            decoded
        };
        if decoded.empty {
            continue;
        }
        let source = DocSource {
            text: text.clone(),
            range: chunk.range.clone(),
            line_offset: chunk.first_line - 1,
        };
        let doc_line = chunk.first_line + first_content_line(body);
        // Built for the first finding without a line of its own, for all of them.
        let lines = OnceCell::new();
        let mut failed = false;
        let total = decoded.problems.len();
        for (i, p) in decoded.problems.into_iter().enumerate() {
            failed |= p.severity == super::diagnostic::Severity::Error;
            if i < MAX_PROBLEMS_PER_DOCUMENT {
                out.diagnostics
                    .push(place(file, &source, &lines, doc_line, p));
            } else if i == MAX_PROBLEMS_PER_DOCUMENT {
                let more = total - MAX_PROBLEMS_PER_DOCUMENT;
                out.diagnostics.push(Diagnostic {
                    severity: p.severity,
                    file: file.to_path_buf(),
                    line: doc_line,
                    path: FieldPath::root(),
                    rule: "more-findings",
                    message: format!(
                        "{more} more findings in this document not shown (the first \
                         {MAX_PROBLEMS_PER_DOCUMENT} are)"
                    ),
                });
            }
        }
        match decoded.manifest {
            Some(manifest) if !failed => out.documents.push(Document {
                file: file.to_path_buf(),
                line: doc_line,
                manifest: Arc::new(manifest),
                source,
                content: Arc::default(),
            }),
            _ => out.failed.push(FailedDocument {
                file: file.to_path_buf(),
                line: doc_line,
                identity: decoded.identity,
            }),
        }
    }
}

fn place(
    file: &Path,
    source: &DocSource,
    lines: &OnceCell<DocLines>,
    doc_line: u32,
    p: Problem,
) -> Diagnostic {
    let line = match p.line {
        Some(l) => l + source.line_offset,
        None => lines
            .get_or_init(|| source.lines(doc_line))
            .line_of(&p.path),
    };
    // A document that is not a mapping (a file that is no manifest, read as one scalar) is
    // never quoted; other values are cut to a few words.
    let keep = if p.path.is_root() && matches!(p.rule, "syntax" | "type") {
        0
    } else {
        escape::QUOTED_KEEP
    };
    let message = match escape::cap_quoted(&p.message, keep) {
        std::borrow::Cow::Borrowed(_) => p.message,
        std::borrow::Cow::Owned(capped) => capped,
    };
    Diagnostic {
        severity: p.severity,
        file: file.to_path_buf(),
        line,
        path: p.path,
        rule: p.rule,
        message,
    }
}

impl Loaded {
    /// Adds what `other` loaded after what this one has.
    pub(super) fn append(&mut self, other: Loaded) {
        self.files += other.files;
        self.documents.extend(other.documents);
        self.failed.extend(other.failed);
        self.diagnostics.extend(other.diagnostics);
    }

    fn fail_file(&mut self, file: &Path, message: String) {
        self.fail_file_rule(file, "io", message);
    }

    pub(super) fn fail_file_rule(&mut self, file: &Path, rule: &'static str, message: String) {
        self.diagnostics
            .push(Diagnostic::error(file, 0, FieldPath::root(), rule, message));
        self.failed.push(FailedDocument {
            file: file.to_path_buf(),
            line: 0,
            identity: None,
        });
    }

    /// True when every file and document loaded (the condition for pruning anything).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// One document's byte range and the file line it starts on.
#[derive(Debug, PartialEq)]
struct Chunk {
    range: Range<usize>,
    first_line: u32,
}

/// Splits a YAML stream at document markers (`---` or `...` at the start of a line). YAML
/// forbids those markers inside any node, so a line-based split finds the same documents as a
/// full parse, and lets each document be decoded (and its lines counted) on its own.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line_no = i as u32 + 1;
        if is_marker(line, "---") || is_marker(line, "...") {
            if offset > start {
                chunks.push(Chunk {
                    range: start..offset,
                    first_line: start_line,
                });
            }
            // `---` belongs to the document it opens (it may carry content: `--- {a: 1}`);
            // `...` closes the one before and is dropped.
            if is_marker(line, "---") {
                start = offset;
                start_line = line_no;
            } else {
                start = offset + line.len();
                start_line = line_no + 1;
            }
        }
        offset += line.len();
    }
    if offset > start {
        chunks.push(Chunk {
            range: start..offset,
            first_line: start_line,
        });
    }
    // Directive-only chunks (`%YAML 1.2` before `---`) hold no document.
    chunks.retain(|c| {
        !text[c.range.clone()]
            .lines()
            .all(|l| l.trim_start().starts_with('%') || is_blank_or_comment(l))
    });
    chunks
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Lines (0-based) before the first line with content, skipping blanks, comments and `---`.
fn first_content_line(body: &str) -> u32 {
    body.lines()
        .position(|l| !is_blank_or_comment(l) && l.trim_end() != "---")
        .unwrap_or(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(text: &str) -> Vec<(String, u32)> {
        split_documents(text)
            .into_iter()
            .map(|c| (text[c.range].to_string(), c.first_line))
            .collect()
    }

    #[test]
    fn documents_split_at_markers_only_at_line_start() {
        let text = "a: 1\n---\nb: '---'\n  ---x\n--- {c: 3}\n...\n---\n";
        assert_eq!(
            ranges(text),
            [
                ("a: 1\n".to_string(), 1),
                ("---\nb: '---'\n  ---x\n".to_string(), 2),
                ("--- {c: 3}\n".to_string(), 5),
                ("---\n".to_string(), 7),
            ]
        );
    }

    #[test]
    fn directives_alone_are_not_documents() {
        assert_eq!(
            ranges("%YAML 1.2\n---\na: 1\n"),
            [("---\na: 1\n".to_string(), 2)]
        );
    }

    const TWO: &str = "# header\n---\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: a}\nspec: {}\n---\n\n---\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: b}\nspec:\n  settings: {containerInsights: 1}\n  bogus: true\n";

    #[test]
    fn lines_are_file_lines_not_document_lines() {
        let loaded = load_str(Path::new("c.yaml"), TWO);
        assert_eq!(loaded.documents.len(), 1);
        assert_eq!(loaded.documents[0].line, 3);
        assert_eq!(loaded.failed.len(), 1);
        assert_eq!(loaded.failed[0].line, 10);
        assert_eq!(
            loaded.failed[0].identity,
            Some(("Cluster".into(), "b".into()))
        );
        let d = &loaded.diagnostics[0];
        assert_eq!((d.line, d.path.to_string().as_str()), (15, "spec.bogus"));
    }

    #[test]
    fn document_line_of_finds_fields() {
        let loaded = load_str(Path::new("c.yaml"), TWO);
        let doc = &loaded.documents[0];
        assert_eq!(doc.line_of(&FieldPath::parse("metadata.name")), 5);
        assert_eq!(doc.line_of(&FieldPath::parse("spec.nothing")), 6);
    }

    #[test]
    fn directories_load_sorted_and_skip_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/deep")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        let doc = |n: &str| {
            format!(
                "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {{name: {n}}}\nspec: {{}}\n"
            )
        };
        std::fs::write(root.join("b/deep/z.yml"), doc("z")).unwrap();
        std::fs::write(root.join("a.yaml"), doc("a")).unwrap();
        std::fs::write(root.join("b/m.yaml"), doc("m")).unwrap();
        std::fs::write(root.join(".git/x.yaml"), doc("hidden")).unwrap();
        std::fs::write(root.join(".hidden.yaml"), doc("hidden2")).unwrap();
        std::fs::write(root.join("notes.txt"), "not yaml").unwrap();
        let loaded = load_paths(&[root.to_path_buf()]);
        let names: Vec<_> = loaded
            .documents
            .iter()
            .map(|d| d.manifest.metadata.name.as_str())
            .collect();
        assert_eq!(names, ["a", "z", "m"]);
        assert!(loaded.is_complete());
    }

    #[test]
    fn a_missing_path_is_an_error_and_an_incomplete_load() {
        let loaded = load_paths(&[PathBuf::from("/definitely/not/here")]);
        assert!(!loaded.is_complete());
        assert_eq!(loaded.diagnostics[0].rule, "io");
    }
}
