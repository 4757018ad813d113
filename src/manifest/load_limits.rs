//! The bounds of a load: how big a manifest file, all the manifests together, how many
//! documents in one file and how deep a document may nest. Each is checked before the text is
//! parsed into values (sizes before a byte is read, depth and node count by a scan of parser
//! events), so the memory a load takes stays a small multiple of these, whatever the input. Set
//! on the command line by `--max-file-bytes`, `--max-total-bytes`, `--max-documents-per-file`,
//! `--max-depth` and `--max-nodes-per-document` (README, "Limits"). The limits AWS sets on field values are
//! [`super::limits`].

use std::fmt;

/// Findings shown per document at most; the rest are counted in one last finding (a document
/// of 100,000 unknown keys gives a screenful, not 100,000 lines).
pub const MAX_PROBLEMS_PER_DOCUMENT: usize = 20;

/// The bounds of one load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// Bytes of one manifest file.
    pub max_file_bytes: u64,
    /// Bytes of every manifest file of the load together.
    pub max_total_bytes: u64,
    /// Documents (`---`-separated) in one file.
    pub max_documents_per_file: usize,
    /// Nesting of mappings and sequences in one document (a real manifest needs about 8).
    pub max_depth: usize,
    /// Keys, values and items of one document: what serde would build. AWS's limits keep a
    /// manifest far below the default (a task definition is at most 64 KiB of JSON).
    pub max_nodes_per_document: usize,
}

/// 4 MiB per file.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 << 20;
/// 32 MiB in all.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 32 << 20;
/// 10,000 documents per file (a generated all-in-one file of a few thousand resources is
/// ordinary).
pub const DEFAULT_MAX_DOCUMENTS_PER_FILE: usize = 10_000;
/// 32 levels.
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// 20,000 nodes.
pub const DEFAULT_MAX_NODES_PER_DOCUMENT: usize = 20_000;

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_documents_per_file: DEFAULT_MAX_DOCUMENTS_PER_FILE,
            max_depth: DEFAULT_MAX_DEPTH,
            max_nodes_per_document: DEFAULT_MAX_NODES_PER_DOCUMENT,
        }
    }
}

/// A byte count as the flags take it: `4MiB`, `512KiB`, `1GiB`, `4MB`, `100kB`, or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

/// Why a byte count was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a size: write bytes or a number with B, KiB, MiB, GiB, kB, MB or GB")]
pub struct ByteSizeError(String);

impl ByteSize {
    /// Parses `4MiB`, `4 MiB`, `4096`.
    pub fn parse(text: &str) -> Result<ByteSize, ByteSizeError> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let bad = || ByteSizeError(text.to_string());
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let factor: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "kB" | "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            _ => return Err(bad()),
        };
        n.checked_mul(factor).map(ByteSize).ok_or_else(bad)
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that divides it exactly: `4MiB`, `1536KiB`, `1000B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, factor) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if self.0 >= factor && self.0.is_multiple_of(factor) {
                return write!(f, "{}{unit}", self.0 / factor);
            }
        }
        write!(f, "{}B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        let cases = [
            ("4MiB", Some(4 << 20)),
            ("4 MiB", Some(4 << 20)),
            ("512KiB", Some(512 << 10)),
            ("1GiB", Some(1 << 30)),
            ("4MB", Some(4_000_000)),
            ("100kB", Some(100_000)),
            ("4096", Some(4096)),
            ("10B", Some(10)),
            ("", None),
            ("MiB", None),
            ("4 parsecs", None),
            ("-1", None),
            ("99999999999999999999GiB", None),
        ];
        for (text, want) in cases {
            assert_eq!(ByteSize::parse(text).ok().map(|b| b.0), want, "{text:?}");
        }
    }

    #[test]
    fn sizes_display_in_the_unit_they_are_written_in() {
        assert_eq!(ByteSize(4 << 20).to_string(), "4MiB");
        assert_eq!(ByteSize(1536 << 10).to_string(), "1536KiB");
        assert_eq!(ByteSize(1000).to_string(), "1000B");
        assert_eq!(ByteSize(DEFAULT_MAX_TOTAL_BYTES).to_string(), "32MiB");
    }
}
