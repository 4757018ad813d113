//! Escaping user-supplied text for terminals and log lines. Manifests and file names can hold
//! any character: an ESC or BEL in an unknown key, an enum value, a file name or an environment
//! variable name would reach the terminal as a command (colours, a cleared screen, a retitled
//! window). Every such character is written as `\u{1b}` instead, at render time
//! ([`crate::manifest::Diagnostic`]'s `Display`), so the stored text stays as it was read.
//!
//! Escaped: C0 controls (newline and tab included: a finding is one line), DEL, C1 controls
//! (`U+0080..=U+009F`, which some terminals read as CSI) and the bidirectional overrides and
//! isolates (`U+202A..=U+202E`, `U+2066..=U+2069`) that reorder what a reader sees. A backslash
//! is left alone: the escapes are for a reader, not a round trip.

use std::borrow::Cow;
use std::fmt;

/// True for the characters [`escape`] rewrites.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control and bidi character written as `\u{XX}`; borrowed when there is
/// none (the common case costs no allocation).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters of a quoted value kept by [`cap_quoted`] in a finding's message.
pub const QUOTED_KEEP: usize = 40;

/// `message` with every quoted value (`"..."`, as serde and `{:?}` write them, or `` `...` ``)
/// longer than `keep` characters cut to its first `keep` and a count: a finding says which
/// value, it does not reproduce a file (a 4 MiB string, or a file that is no manifest read as
/// one long scalar). `keep` 0 drops the values' text entirely.
pub fn cap_quoted(message: &str, keep: usize) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let quote = bytes[i];
        if quote != b'"' && quote != b'`' {
            i += 1;
            continue;
        }
        // The closing quote (a `"` escaped by a backslash inside `{:?}` output is not one).
        let mut j = i + 1;
        while j < bytes.len() && bytes[j] != quote {
            j += if quote == b'"' && bytes[j] == b'\\' {
                2
            } else {
                1
            };
        }
        if j >= bytes.len() {
            break;
        }
        let inner = &message[i + 1..j];
        let chars = inner.chars().count();
        if chars > keep {
            let cut = inner
                .char_indices()
                .nth(keep)
                .map_or(inner.len(), |(at, _)| at);
            out.push_str(&message[copied..i + 1 + cut]);
            out.push_str(&format!("…({chars} characters)"));
            copied = j;
        }
        i = j + 1;
    }
    if copied == 0 {
        return Cow::Borrowed(message);
    }
    out.push_str(&message[copied..]);
    Cow::Owned(out)
}

/// Displays its text escaped (for `format!` and `tracing` fields).
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_written_out() {
        let cases = [
            ("plain name", "plain name"),
            ("a\u{1b}[2Jb", "a\\u{1b}[2Jb"),
            ("bell\u{7}", "bell\\u{7}"),
            ("line\nbreak\ttab\r", "line\\u{a}break\\u{9}tab\\u{d}"),
            ("del\u{7f}", "del\\u{7f}"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("rtl\u{202e}txt", "rtl\\u{202e}txt"),
            ("isolate\u{2066}", "isolate\\u{2066}"),
            ("ünïcödé ✓ \\", "ünïcödé ✓ \\"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), want, "{input:?}");
        }
    }

    #[test]
    fn long_quoted_values_are_cut_and_counted() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin";
        let msg = format!("invalid type: string {passwd:?}, expected a manifest");
        assert_eq!(
            cap_quoted(&msg, 0),
            "invalid type: string \"…(79 characters)\", expected a manifest"
        );
        assert_eq!(
            cap_quoted(&msg, 10),
            "invalid type: string \"root:x:0:0…(79 characters)\", expected a manifest"
        );
        let cases = [
            (
                "unknown variant `FARGATE_SPOT`, expected `EC2`",
                40,
                "unknown variant `FARGATE_SPOT`, expected `EC2`",
            ),
            ("a \"b\\\"c\" d", 40, "a \"b\\\"c\" d"),
            (
                "key `aaaaaaaaaa` and `bb`",
                3,
                "key `aaa…(10 characters)` and `bb`",
            ),
            ("unclosed \"abcdef", 2, "unclosed \"abcdef"),
            ("ünï \"ééééé\"", 2, "ünï \"éé…(5 characters)\""),
        ];
        for (input, keep, want) in cases {
            assert_eq!(cap_quoted(input, keep), want, "{input:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(escape("api.yaml"), Cow::Borrowed(_)));
        assert_eq!(Escaped("x\u{7}").to_string(), "x\\u{7}");
    }
}
