//! Finding and reading manifest files, and nothing else: a directory is walked without
//! following links (sorted by name, hidden entries skipped); a symbolic link is read only when
//! its target is inside the directory (a Kubernetes ConfigMap volume links every file into its
//! `..data` folder), and refused, naming the link, when it points outside or nowhere; FIFOs,
//! devices and sockets are refused by type, never opened for reading; a file is read only up to
//! the size limit (the size is checked before a byte is read, and the read is capped, for
//! files such as those of `/proc` that report no size).

use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::load_limits::ByteSize;

/// One entry of a walk.
#[derive(Debug)]
pub(crate) enum Found {
    /// A manifest file to read.
    File {
        /// The path as walked (what diagnostics name).
        path: PathBuf,
        /// What to open: the path itself, or a link's resolved target inside the root.
        open: PathBuf,
    },
    /// An entry that is not read, and why.
    Refused {
        /// The path as walked.
        path: PathBuf,
        /// The rule of the finding: `symlink`, `file-type` or `io`.
        rule: &'static str,
        /// The reason, naming the entry.
        message: String,
    },
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// Over `--max-file-bytes`.
    #[error("{} is {size} bytes, over the limit of {max} per file (--max-file-bytes); not read", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (at least; a capped read stops one byte over the limit).
        size: u64,
        /// The limit.
        max: ByteSize,
    },
    /// A FIFO, device, socket or directory where a file was expected.
    #[error("{} is {kind}, not a regular file; refused", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// `a FIFO`, `a character device`, ...
        kind: &'static str,
    },
    /// The operating system refused.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `a FIFO`, `a character device`, `a block device`, `a socket`, `a directory`, `a symbolic
/// link`, `a regular file`.
pub(crate) fn kind_of(t: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// True for names the loader reads from a directory.
pub(crate) fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Every manifest file under `root` (a directory), sorted by name, hidden entries (and what is
/// below them) skipped, links resolved and kept inside `root`.
pub(crate) fn walk(root: &Path) -> Vec<Found> {
    let canonical_root = match root.canonicalize() {
        Ok(r) => r,
        Err(source) => {
            return vec![Found::Refused {
                path: root.to_path_buf(),
                rule: "io",
                message: ReadError::Io {
                    path: root.to_path_buf(),
                    source,
                }
                .to_string(),
            }];
        }
    };
    let mut out = Vec::new();
    let entries = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                let message = format!("cannot read {}: {e}", path.display());
                out.push(Found::Refused {
                    path,
                    rule: "io",
                    message,
                });
                continue;
            }
        };
        let path = entry.path();
        let t = entry.file_type();
        if entry.depth() == 0 || t.is_dir() {
            continue;
        }
        if t.is_symlink() {
            if let Some(found) = resolve_link(path, &canonical_root) {
                out.push(found);
            }
            continue;
        }
        if !is_manifest_name(path) {
            continue;
        }
        if t.is_file() {
            out.push(Found::File {
                path: path.to_path_buf(),
                open: path.to_path_buf(),
            });
        } else {
            let message = ReadError::NotRegular {
                path: path.to_path_buf(),
                kind: kind_of(t),
            }
            .to_string();
            out.push(Found::Refused {
                path: path.to_path_buf(),
                rule: "file-type",
                message,
            });
        }
    }
    out
}

/// What a link in the walk stands for: its target when that is a manifest file inside the
/// root; a refusal when a manifest name or a directory link points outside, or a manifest name
/// nowhere or at a special file; nothing for a link to a directory inside the root (that
/// directory is walked where it is) or to a file that is not a manifest.
fn resolve_link(link: &Path, canonical_root: &Path) -> Option<Found> {
    let refuse = |message: String| {
        Some(Found::Refused {
            path: link.to_path_buf(),
            rule: "symlink",
            message,
        })
    };
    let target = match link.canonicalize() {
        Ok(t) => t,
        Err(_) if !is_manifest_name(link) => return None,
        Err(e) => {
            return refuse(format!(
                "{} is a symbolic link that cannot be resolved ({e}); not followed",
                link.display()
            ));
        }
    };
    if !target.starts_with(canonical_root) {
        if !is_manifest_name(link) && !target.is_dir() {
            return None;
        }
        return refuse(format!(
            "{} is a symbolic link to a path outside the manifests directory; not followed",
            link.display()
        ));
    }
    let meta = std::fs::metadata(&target).ok()?;
    if meta.is_dir() || !is_manifest_name(link) {
        return None;
    }
    if !meta.is_file() {
        return refuse(
            ReadError::NotRegular {
                path: link.to_path_buf(),
                kind: kind_of(meta.file_type()),
            }
            .to_string(),
        );
    }
    Some(Found::File {
        path: link.to_path_buf(),
        open: target,
    })
}

/// Reads the regular file `open` (reported as `path`), at most `max` bytes. The file is opened
/// without blocking (a FIFO swapped in after the walk does not hang the load) and without
/// following a link in its last component, and its type and size are checked on the open
/// handle before reading.
pub(crate) fn read_capped(path: &Path, open: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = open_no_follow(open).map_err(io)?;
    let meta: Metadata = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    let too_large = |size| ReadError::TooLarge {
        path: path.to_path_buf(),
        size,
        max: ByteSize(max),
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(found: &[Found]) -> Vec<String> {
        found
            .iter()
            .map(|f| match f {
                Found::File { path, open } => format!(
                    "read {} from {}",
                    path.file_name().unwrap().to_string_lossy(),
                    open.file_name().unwrap().to_string_lossy()
                ),
                Found::Refused { path, message, .. } => format!(
                    "refuse {}: {}",
                    path.file_name().unwrap().to_string_lossy(),
                    message.rsplit("; ").next().unwrap_or_default()
                ),
            })
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn links_are_read_inside_the_root_and_refused_outside() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.yaml"), "a: 1\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("..data")).unwrap();
        std::fs::write(root.join("..data/api.yaml"), "a: 1\n").unwrap();
        symlink(root.join("..data/api.yaml"), root.join("api.yaml")).unwrap();
        symlink("/etc/passwd", root.join("passwd.yaml")).unwrap();
        symlink(outside.path(), root.join("shared")).unwrap();
        symlink(root.join("nowhere.yaml"), root.join("dangling.yaml")).unwrap();
        symlink(root.join("..data"), root.join("inside-dir")).unwrap();
        symlink("/etc/hostname", root.join("notes.txt")).unwrap();
        assert_eq!(
            summary(&walk(root)),
            [
                "read api.yaml from api.yaml",
                "refuse dangling.yaml: not followed",
                "refuse passwd.yaml: not followed",
                "refuse shared: not followed",
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_by_type_without_opening() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let found = walk(dir.path());
        assert_eq!(summary(&found), ["refuse pipe.yaml: refused"]);
        let Found::Refused { message, rule, .. } = &found[0] else {
            unreachable!()
        };
        assert!(message.contains("is a FIFO"), "{message}");
        assert_eq!(*rule, "file-type");
        // Even opened directly (a FIFO swapped in after the walk): refused, not blocking.
        let e = read_capped(&fifo, &fifo, 10).unwrap_err();
        assert!(e.to_string().contains("is a FIFO"), "{e}");
        let e = read_capped(Path::new("/dev/zero"), Path::new("/dev/zero"), 10).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "0123456789").unwrap();
        assert_eq!(read_capped(&p, &p, 10).unwrap().len(), 10);
        let e = read_capped(&p, &p, 9).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} is 10 bytes, over the limit of 9B per file (--max-file-bytes); not read",
                p.display()
            )
        );
    }
}
