//! The bad-manifest corpus: every file in `tests/bad-manifests/` is a realistic manifest file
//! with a mistake, and declares in its leading comment lines exactly what validation must say
//! about it. One test walks the corpus (sorted), loads each file on its own with
//! [`load_paths`], validates it with [`validate`], and reports every mismatch of every file at
//! once.
//!
//! Header directives (comment lines before the first line of YAML content):
//!
//! ```text
//! # expect: <error|warning> <line> <path>: <message fragment>
//! # expect-failed-documents: <N>    (default 0: documents that failed to load)
//! # expect-documents: <N>           (optional: documents that loaded)
//! # known-bug: <what the validator does wrong>
//! ```
//!
//! - `<line>` is the 1-based line in the file, counting the header itself.
//! - `<path>` is `Diagnostic.path` as displayed; an empty path is written `error 3 : fragment`.
//! - `<message fragment>` must be a substring of `Diagnostic.message`.
//!
//! Rules checked for every file:
//! - each `expect` matches its own actual diagnostic (severity, line and path exact, message
//!   contains the fragment);
//! - every actual error is expected; warnings may be left undeclared, unless the file declares
//!   a warning, in which case its warnings must be exactly the declared ones;
//! - a file declares at least one error, except files named `NN-warning-...`/`...-warning-...`,
//!   which must be valid (no error) and declare at least one warning;
//! - the number of failed documents is the declared one (0 unless declared), so syntax, type
//!   and unknown-field cases prove the loader kept the document out of the desired set;
//! - a location written inside a message (`at line 23 column 21`) is the diagnostic's own
//!   line: a user reads both, so they must agree;
//! - a directive that cannot be parsed is a failure, never silently skipped.
//!
//! A file whose expectations state the right behaviour but that the validator gets wrong today
//! carries `# known-bug:`: its mismatches are printed but do not fail the test, and the test
//! fails once the file passes, so the marker is removed when the bug is fixed. The expectations
//! of such a file are never bent to what the validator does.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ecs_operator::manifest::{Diagnostic, Loaded, Severity, load_paths, validate};

/// The corpus must not shrink below this (deleting it must fail the test).
const MIN_FILES: usize = 30;

/// The corpus, relative to the package root: files are loaded by relative paths, as a user runs
/// `ecs-operator validate manifests/`, so messages that name a file can be matched exactly.
const CORPUS: &str = "tests/bad-manifests";

/// One `# expect:` line.
#[derive(Debug)]
struct Expect {
    severity: Severity,
    line: u32,
    path: String,
    fragment: String,
    /// Line of the directive itself, for the report.
    header_line: usize,
}

impl Expect {
    fn render(&self) -> String {
        format!(
            "{} {} {}: {:?} (declared on line {})",
            self.severity, self.line, self.path, self.fragment, self.header_line
        )
    }

    fn matches(&self, d: &Diagnostic) -> bool {
        d.severity == self.severity
            && d.line == self.line
            && d.path.to_string() == self.path
            && d.message.contains(&self.fragment)
    }
}

/// What a file's header declares.
#[derive(Debug, Default)]
struct Header {
    expects: Vec<Expect>,
    /// `# expect-failed-documents:`; 0 when not given.
    failed_documents: Option<usize>,
    /// `# expect-documents:`; not checked when not given.
    documents: Option<usize>,
    /// Why the file is expected to fail today (`# known-bug:`).
    known_bug: Option<String>,
}

/// Parses the header directives; every malformed directive is an error.
fn parse_header(text: &str) -> Result<Header, Vec<String>> {
    let mut header = Header::default();
    let mut errors = Vec::new();
    let mut in_header = true;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix('#') else {
            in_header = false;
            continue;
        };
        let comment = comment.trim_start();
        if !comment.starts_with("expect") && !comment.starts_with("known-bug") {
            continue;
        }
        if !in_header {
            errors.push(format!(
                "line {n}: directive after the first YAML content is not read; move it to the \
                 header: {raw:?}"
            ));
            continue;
        }
        let Some((name, value)) = comment.split_once(':') else {
            errors.push(format!("line {n}: malformed directive (no `:`): {raw:?}"));
            continue;
        };
        match name.trim_end() {
            "expect" => match parse_expect(value, n) {
                Ok(e) => header.expects.push(e),
                Err(why) => {
                    errors.push(format!("line {n}: malformed expectation ({why}): {raw:?}"))
                }
            },
            name @ ("expect-failed-documents" | "expect-documents") => {
                let slot = if name == "expect-documents" {
                    &mut header.documents
                } else {
                    &mut header.failed_documents
                };
                match value.trim().parse() {
                    Ok(v) if slot.is_none() => *slot = Some(v),
                    Ok(_) => errors.push(format!("line {n}: `{name}` given twice")),
                    Err(_) => errors.push(format!("line {n}: not a count: {raw:?}")),
                }
            }
            "known-bug" if value.trim().is_empty() => {
                errors.push(format!("line {n}: known-bug needs a description"))
            }
            "known-bug" => {
                let known = header.known_bug.get_or_insert_with(String::new);
                if !known.is_empty() {
                    known.push(' ');
                }
                known.push_str(value.trim());
            }
            other => errors.push(format!("line {n}: unknown directive `{other}`: {raw:?}")),
        }
    }
    if errors.is_empty() {
        Ok(header)
    } else {
        Err(errors)
    }
}

/// Parses `<severity> <line> <path>: <fragment>` (the part after `# expect:`).
fn parse_expect(value: &str, header_line: usize) -> Result<Expect, String> {
    let value = value.trim_start();
    let (severity, rest) = value
        .split_once(' ')
        .ok_or("want `<error|warning> <line> <path>: <fragment>`")?;
    let severity = match severity {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        other => return Err(format!("severity {other:?} is not `error` or `warning`")),
    };
    let (line, rest) = rest
        .trim_start()
        .split_once(' ')
        .ok_or("no line number followed by a path")?;
    let line: u32 = line
        .parse()
        .map_err(|_| format!("line {line:?} is not a number"))?;
    if line == 0 {
        return Err("line numbers start at 1".into());
    }
    let (path, fragment) = rest
        .split_once(": ")
        .ok_or("no `: ` between the path and the message fragment")?;
    let (path, fragment) = (path.trim(), fragment.trim());
    if path.contains(char::is_whitespace) && !path.contains('"') {
        return Err(format!("path {path:?} contains a space"));
    }
    if fragment.is_empty() {
        return Err("empty message fragment".into());
    }
    Ok(Expect {
        severity,
        line,
        path: path.to_string(),
        fragment: fragment.to_string(),
        header_line,
    })
}

/// The line numbers a message mentions itself (`... at line 23 column 21, ...`).
fn lines_in_message(message: &str) -> Vec<u32> {
    const AT: &str = " at line ";
    message
        .match_indices(AT)
        .filter_map(|(i, _)| {
            let rest = &message[i + AT.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

/// A diagnostic written the way a header declares it, for copying into a header.
fn render_actual(d: &Diagnostic) -> String {
    format!(
        "# expect: {} {} {}: {}   [{}]",
        d.severity, d.line, d.path, d.message, d.rule
    )
}

/// What checking one file found.
struct Outcome {
    /// Problems with the file or its header itself; they fail the test even for a known bug.
    header_problems: Vec<String>,
    /// Mismatches between the header and what validation reports.
    problems: Vec<String>,
    /// The file's `# known-bug:` description.
    known_bug: Option<String>,
}

/// Checks one file against its header.
fn check_file(path: &Path) -> Outcome {
    let fail = |header_problems| Outcome {
        header_problems,
        problems: Vec::new(),
        known_bug: None,
    };
    let mut header_problems = Vec::new();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(vec![format!("cannot read: {e}")]),
    };
    let header = match parse_header(&text) {
        Ok(h) => h,
        Err(errors) => return fail(errors),
    };
    let warning_file = name.contains("-warning-");
    let declared_errors = header
        .expects
        .iter()
        .filter(|e| e.severity == Severity::Error)
        .count();
    let declared_warnings = header.expects.len() - declared_errors;
    if warning_file {
        if declared_errors > 0 {
            header_problems
                .push("a `-warning-` file must be valid: it may not declare errors".into());
        }
        if declared_warnings == 0 {
            header_problems
                .push("a `-warning-` file must declare at least one `# expect: warning`".into());
        }
    } else if declared_errors == 0 {
        header_problems.push(
            "declares no `# expect: error` (a bad manifest must fail; name valid files \
             `NN-warning-...`)"
                .into(),
        );
    }

    let loaded: Loaded = load_paths(&[path.to_path_buf()]);
    let diags = validate(&loaded);
    let mut problems = Vec::new();

    for d in &diags {
        if d.file != path {
            problems.push(format!(
                "diagnostic names another file {}: {d}",
                d.file.display()
            ));
        }
    }

    for d in &diags {
        for l in lines_in_message(&d.message) {
            if l != d.line {
                problems.push(format!(
                    "the message says line {l} but the diagnostic is on line {}: {d}",
                    d.line
                ));
            }
        }
    }

    // The most specific expectations pick their diagnostic first, so a short fragment cannot
    // take the diagnostic a longer one on the same line and path needs.
    let mut expects: Vec<&Expect> = header.expects.iter().collect();
    expects.sort_by_key(|e| std::cmp::Reverse(e.fragment.len()));
    let mut used = vec![false; diags.len()];
    for e in expects {
        let found = diags
            .iter()
            .enumerate()
            .find(|(i, d)| !used[*i] && e.matches(d));
        match found {
            Some((i, _)) => used[i] = true,
            None => problems.push(format!("missing: {}", e.render())),
        }
    }
    for (d, _) in diags.iter().zip(&used).filter(|(_, u)| !**u) {
        if d.is_error() {
            problems.push(format!("unexpected error: {d}"));
        } else if declared_warnings > 0 {
            problems.push(format!(
                "unexpected warning (the file declares its warnings, so all of them): {d}"
            ));
        }
    }

    let failed_documents = header.failed_documents.unwrap_or(0);
    if loaded.failed.len() != failed_documents {
        let lines: Vec<String> = loaded.failed.iter().map(|f| f.line.to_string()).collect();
        problems.push(format!(
            "{} document(s) failed to load (at lines [{}]), the header declares {} \
             (`# expect-failed-documents: N`)",
            loaded.failed.len(),
            lines.join(", "),
            failed_documents
        ));
    }
    if let Some(want) = header.documents
        && loaded.documents.len() != want
    {
        problems.push(format!(
            "{} document(s) loaded, the header declares {want} (`# expect-documents: N`)",
            loaded.documents.len()
        ));
    }

    if !problems.is_empty() || !header_problems.is_empty() {
        let mut actual = String::from("actual diagnostics:");
        if diags.is_empty() {
            actual.push_str(" none");
        }
        for d in &diags {
            write!(actual, "\n      {}", render_actual(d)).unwrap();
        }
        problems.push(actual);
    }
    Outcome {
        header_problems,
        problems,
        known_bug: header.known_bug,
    }
}

#[test]
fn every_bad_manifest_reports_exactly_what_it_declares() {
    // The only test in this binary, so changing the directory affects nothing else.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("package root");
    let dir = Path::new(CORPUS);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    entries.sort();

    let mut failures: Vec<(String, Vec<String>)> = Vec::new();
    let mut known: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut numbers = HashSet::new();
    let mut files = 0;
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let well_named = path.is_file()
            && name.ends_with(".yaml")
            && name.len() > 8
            && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
            && name.as_bytes()[2] == b'-'
            && name
                .trim_end_matches(".yaml")
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_named {
            failures.push((
                name,
                vec![
                    "not a corpus file: want `NN-short-name.yaml` (lowercase, digits, hyphens)"
                        .into(),
                ],
            ));
            continue;
        }
        files += 1;
        if !numbers.insert(name[..2].to_string()) {
            failures.push((
                name.clone(),
                vec![format!("number {} is used twice", &name[..2])],
            ));
        }
        let Outcome {
            mut header_problems,
            problems,
            known_bug,
        } = check_file(path);
        match known_bug {
            _ if !header_problems.is_empty() => {
                header_problems.extend(problems);
                failures.push((name, header_problems));
            }
            None if !problems.is_empty() => failures.push((name, problems)),
            None => {}
            Some(bug) if problems.is_empty() => failures.push((
                name,
                vec![format!(
                    "matches its header although it is marked `# known-bug: {bug}`; the bug \
                     looks fixed, remove the marker"
                )],
            )),
            Some(bug) => known.push((name, bug, problems)),
        }
    }

    if !known.is_empty() {
        let mut out = format!(
            "{} corpus file(s) show known validator bugs (not failing the test):\n",
            known.len()
        );
        for (name, bug, problems) in &known {
            writeln!(out, "\n{CORPUS}/{name}: known bug: {bug}").unwrap();
            for p in problems {
                writeln!(out, "  - {p}").unwrap();
            }
        }
        eprintln!("{out}");
    }

    let mut report = String::new();
    if files < MIN_FILES {
        writeln!(
            report,
            "the corpus {} holds {files} files; it must hold at least {MIN_FILES}",
            dir.display()
        )
        .unwrap();
    }
    for (name, problems) in &failures {
        writeln!(report, "\n{CORPUS}/{name}:").unwrap();
        for p in problems {
            writeln!(report, "  - {p}").unwrap();
        }
    }
    assert!(
        report.is_empty(),
        "{} of {files} corpus files do not match their headers\n{report}",
        failures.len()
    );
}
