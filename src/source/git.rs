//! (Over 600 lines: the fetch, the ref resolution, the tree read and the token handling share
//! the one gix repository handle and its error type.)
//!
//! The git manifest source: a bare cache of a remote repository, fetched with gitoxide (`gix`),
//! and the manifests read straight from the object database at the commit a branch or tag
//! names (no worktree checkout). Plus the GitHub-style webhook signature check that lets a
//! push trigger an immediate fetch.
//!
//! Every fetch goes through an in-memory remote (nothing about the URL or the token is written
//! to the cache's config), with force-refspecs for branches and tags, so a force-pushed branch is
//! followed. The reference is resolved against what the remote advertised on this very fetch,
//! never against refs left in the cache, so a deleted branch is not served from a stale copy.
//!
//! Secrets: the https token is handed to gix through a credentials callback (never put in the
//! URL), [`GitOptions`]'s `Debug` prints `<redacted>`, and every error message has the URL's
//! userinfo stripped and any occurrence of the token replaced.
//!
//! Transports: https goes through reqwest with rustls. `file://` URLs and local paths are
//! served by gix spawning `git-upload-pack`, so those need a git installation; https does not.

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::bstr::ByteSlice;
use gix::remote::Direction;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Branch or tag used when none is given.
pub const DEFAULT_REFERENCE: &str = "main";

/// User name sent with the token (GitHub's convention for tokens; other forges ignore it).
const TOKEN_USER: &str = "x-access-token";

/// Where fetched branches and tags are kept in the cache. Both force (`+`): a force-push or a
/// moved tag is followed, as the remote is the source of truth.
const REFSPECS: [&str; 2] = [
    "+refs/heads/*:refs/remotes/origin/*",
    "+refs/tags/*:refs/tags/*",
];

/// What to fetch and where to keep it.
#[derive(Clone)]
pub struct GitOptions {
    /// Repository URL: `https://...`, `file:///...`, or a local path.
    pub url: String,
    /// Branch or tag name (`refs/heads/X` is tried, then `refs/tags/X`), a full ref name
    /// (`refs/...`), or a full 40-hex commit SHA.
    pub reference: String,
    /// Sub-directory of the repository holding the manifests (`.` for the root), or one file.
    pub path: PathBuf,
    /// Where the bare cache lives; created if missing. Must be empty or a git repository.
    pub cache_dir: PathBuf,
    /// Token for https (sent as the password of user `x-access-token` when the server asks).
    /// Never logged, never in an error message or `Debug` output.
    pub token: Option<String>,
    /// Largest manifest blob read (`--max-file-bytes`): its size is read from the object's
    /// header, so a larger blob is refused before it is loaded into memory.
    pub max_file_bytes: u64,
}

impl GitOptions {
    /// Options for `url` cached in `cache_dir`, with the default reference (`main`), the
    /// repository root as path and no token.
    pub fn new(url: impl Into<String>, cache_dir: impl Into<PathBuf>) -> GitOptions {
        GitOptions {
            url: url.into(),
            reference: DEFAULT_REFERENCE.to_string(),
            path: PathBuf::from("."),
            cache_dir: cache_dir.into(),
            token: None,
            max_file_bytes: crate::manifest::load_limits::DEFAULT_MAX_FILE_BYTES,
        }
    }
}

impl fmt::Debug for GitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitOptions")
            .field("url", &display_url(&self.url))
            .field("reference", &self.reference)
            .field("path", &self.path)
            .field("cache_dir", &self.cache_dir)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The manifest files of one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSnapshot {
    /// Full SHA of the commit the files come from.
    pub sha: String,
    /// Every `*.yaml` / `*.yml` blob under the options' `path` (recursively, hidden entries
    /// skipped as the directory loader does), sorted by path. Paths are repository-relative,
    /// e.g. `manifests/shop/api.yaml`. Feed them to [`crate::manifest::load::load_texts`].
    pub files: Vec<(PathBuf, String)>,
}

/// Why a fetch gave no snapshot. Messages name the URL (userinfo stripped) and the reference,
/// never the token.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The cache directory could not be created, opened or initialized.
    #[error("git {url}: cache directory {}: {message}", dir.display())]
    Cache {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The cache directory.
        dir: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Connecting to the remote or receiving from it failed (unreachable, refused credentials,
    /// not a repository, ...).
    #[error("git {url}: fetching {reference}: {message}")]
    Fetch {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The reference being fetched.
        reference: String,
        /// What went wrong.
        message: String,
    },
    /// The remote has no branch or tag by that name (or the SHA is not a known commit).
    #[error("git {url}: no branch, tag or commit named {reference:?}")]
    RefNotFound {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The reference that was looked for.
        reference: String,
    },
    /// The manifest path is not in the commit's tree.
    #[error("git {url} at {reference} ({sha}): {} not found in the tree", path.display())]
    PathNotFound {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The reference.
        reference: String,
        /// The commit it resolved to.
        sha: String,
        /// The path looked for.
        path: PathBuf,
    },
    /// The manifest path is not usable (absolute, or going up with `..`).
    #[error("git {url}: manifest path {}: {message}", path.display())]
    BadPath {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The path given.
        path: PathBuf,
        /// Why it is refused.
        message: String,
    },
    /// A manifest blob is over `max_file_bytes`: the commit is not loaded (the controller
    /// keeps the last load).
    #[error("git {url} at {reference} ({sha}): {} is {size} bytes, over the limit of {max} per file (--max-file-bytes); the commit is not loaded", path.display())]
    TooLarge {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The reference.
        reference: String,
        /// The commit.
        sha: String,
        /// Repository-relative path of the file.
        path: PathBuf,
        /// The blob's size.
        size: u64,
        /// The limit.
        max: crate::manifest::load_limits::ByteSize,
    },
    /// A manifest file is not UTF-8 text.
    #[error("git {url} at {reference} ({sha}): {} is not UTF-8 text", path.display())]
    NotUtf8 {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The reference.
        reference: String,
        /// The commit.
        sha: String,
        /// Repository-relative path of the file.
        path: PathBuf,
    },
    /// Reading objects from the cache failed (corrupt cache, missing object).
    #[error("git {url} at {reference}: reading the repository: {message}")]
    Read {
        /// The repository URL, userinfo stripped.
        url: String,
        /// The reference.
        reference: String,
        /// What went wrong.
        message: String,
    },
    /// The blocking fetch task panicked or was cancelled.
    #[error("git {url}: the fetch task failed: {message}")]
    Task {
        /// The repository URL, userinfo stripped.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// A git repository as a manifest source. One fetch at a time (`&mut self`).
#[derive(Debug)]
pub struct GitSource {
    options: GitOptions,
    last_sha: Option<String>,
}

impl GitSource {
    /// A source for `options`. Nothing is fetched until [`GitSource::fetch`].
    pub fn new(options: GitOptions) -> GitSource {
        GitSource {
            options,
            last_sha: None,
        }
    }

    /// The options this source fetches with.
    pub fn options(&self) -> &GitOptions {
        &self.options
    }

    /// Creates the cache on the first call, fetches branches and tags, resolves the reference
    /// to a commit and reads the manifest files from its tree. The gix work runs on
    /// `tokio::task::spawn_blocking`.
    ///
    /// Dropping the future (a timeout, shutdown) asks gix to stop receiving the pack; the
    /// connection itself is bounded by gix's 20 s connect timeout.
    pub async fn fetch(&mut self) -> Result<GitSnapshot, GitError> {
        let options = self.options.clone();
        let interrupt = Arc::new(AtomicBool::new(false));
        let _interrupt_on_drop = InterruptOnDrop(interrupt.clone());
        let snapshot = tokio::task::spawn_blocking(move || fetch_blocking(&options, &interrupt))
            .await
            .map_err(|e| GitError::Task {
                url: display_url(&self.options.url),
                message: e.to_string(),
            })??;
        self.last_sha = Some(snapshot.sha.clone());
        Ok(snapshot)
    }

    /// The SHA of the last successful fetch, if any.
    pub fn last_sha(&self) -> Option<&str> {
        self.last_sha.as_deref()
    }
}

/// Sets the flag gix polls while receiving, when the fetch future is dropped (or completes).
struct InterruptOnDrop(Arc<AtomicBool>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// GitHub-style webhook check: `header` is the `X-Hub-Signature-256` value (`sha256=<hex>`),
/// the HMAC-SHA256 of `body` keyed with `secret`. The comparison is constant-time. A missing or
/// malformed header is `false`; the hex digits may be in either case (GitHub sends lowercase).
pub fn verify_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    // verify_slice also rejects a length other than the full 32 bytes.
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// `url` with any userinfo (`user:password@`) removed, for messages and logs.
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://{}{tail}", &authority[at + 1..]),
        None => url.to_string(),
    }
}

/// Context for errors: the names messages carry, and the secrets they must not.
struct Ctx<'a> {
    options: &'a GitOptions,
    url: String,
}

impl Ctx<'_> {
    /// `error`'s text (with its causes), with the raw URL, its password and the token replaced.
    fn scrub(&self, error: &(dyn std::error::Error + 'static)) -> String {
        let mut text = chain(error);
        let raw = &self.options.url;
        if raw != &self.url {
            text = text.replace(raw.as_str(), &self.url);
        }
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(token) = self.options.token.as_deref() {
            secrets.push(token);
        }
        if let Some(password) = url_password(raw) {
            secrets.push(password);
        }
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret, "<redacted>");
        }
        text
    }

    fn fetch_error(&self, error: impl std::error::Error + 'static) -> GitError {
        GitError::Fetch {
            url: self.url.clone(),
            reference: self.options.reference.clone(),
            message: self.scrub(&error),
        }
    }

    fn read_error(&self, error: impl std::error::Error + 'static) -> GitError {
        GitError::Read {
            url: self.url.clone(),
            reference: self.options.reference.clone(),
            message: self.scrub(&error),
        }
    }

    fn cache_error(&self, error: impl std::error::Error + 'static) -> GitError {
        GitError::Cache {
            url: self.url.clone(),
            dir: self.options.cache_dir.clone(),
            message: self.scrub(&error),
        }
    }
}

/// An error and its causes on one line, `a: b: c`, skipping a cause whose text the line
/// already ends with (wrappers often repeat their source).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let next = e.to_string();
        if !next.is_empty() && !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = e.source();
    }
    text
}

fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo.split_once(':').map(|(_, password)| password)
}

fn fetch_blocking(options: &GitOptions, interrupt: &AtomicBool) -> Result<GitSnapshot, GitError> {
    let ctx = Ctx {
        options,
        url: display_url(&options.url),
    };
    let prefix = manifest_prefix(&ctx)?;
    let repo = open_cache(&ctx)?;
    let advertised = fetch_refs(&ctx, &repo, interrupt)?;
    let commit = resolve(&ctx, &repo, &advertised)?;
    let sha = commit.id.to_string();
    let tree = commit.tree().map_err(|e| ctx.read_error(e))?;
    let files = read_manifests(&ctx, &repo, tree, &prefix, &sha)?;
    Ok(GitSnapshot { sha, files })
}

/// The manifest path as normal components (`.` and empty ones dropped); absolute paths and
/// `..` are refused.
fn manifest_prefix(ctx: &Ctx<'_>) -> Result<Vec<String>, GitError> {
    let bad = |message: &str| GitError::BadPath {
        url: ctx.url.clone(),
        path: ctx.options.path.clone(),
        message: message.to_string(),
    };
    let mut parts = Vec::new();
    for component in ctx.options.path.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(name) => parts.push(
                name.to_str()
                    .ok_or_else(|| bad("not valid UTF-8"))?
                    .to_string(),
            ),
            Component::ParentDir => return Err(bad("must not contain `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(bad("must be relative to the repository root"));
            }
        }
    }
    Ok(parts)
}

/// Opens the bare cache, creating it when the directory is missing or empty. The repository
/// is opened isolated: no global or system git config, no environment overrides, so a
/// developer's `~/.gitconfig` (credential helpers, URL rewrites) cannot change what the
/// controller fetches.
fn open_cache(ctx: &Ctx<'_>) -> Result<gix::Repository, GitError> {
    let dir = &ctx.options.cache_dir;
    std::fs::create_dir_all(dir).map_err(|e| ctx.cache_error(e))?;
    let empty = std::fs::read_dir(dir)
        .map_err(|e| ctx.cache_error(e))?
        .next()
        .is_none();
    let repo = if empty {
        gix::ThreadSafeRepository::init_opts(
            dir,
            gix::create::Kind::Bare,
            gix::create::Options::default(),
            gix::open::Options::isolated(),
        )
        .map_err(|e| ctx.cache_error(e))?
    } else {
        gix::ThreadSafeRepository::open_opts(dir, gix::open::Options::isolated())
            .map_err(|e| ctx.cache_error(e))?
    };
    Ok(repo.to_thread_local())
}

/// Fetches branches and tags into the cache and returns what the remote advertised:
/// (full ref name, object the ref points to).
fn fetch_refs(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    interrupt: &AtomicBool,
) -> Result<Vec<(String, gix::ObjectId)>, GitError> {
    let remote = repo
        .remote_at(ctx.options.url.as_str())
        .map_err(|e| ctx.fetch_error(e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs(REFSPECS, Direction::Fetch)
        .map_err(|e| ctx.fetch_error(e))?;
    let token = ctx.options.token.clone();
    let connection = remote
        .connect(Direction::Fetch)
        .map_err(|e| ctx.fetch_error(e))?
        // Our own credentials callback in every case: the token when there is one, none
        // otherwise, so gix never runs credential helpers or prompts on a terminal.
        .with_credentials(move |action| match (action, token.as_ref()) {
            (gix::credentials::helper::Action::Get(context), Some(token)) => {
                Ok(Some(gix::credentials::protocol::Outcome {
                    identity: gix::sec::identity::Account {
                        username: TOKEN_USER.to_string(),
                        password: token.clone(),
                        oauth_refresh_token: None,
                    },
                    next: context.into(),
                }))
            }
            (gix::credentials::helper::Action::Get(_), None) => Err(gix::error::message(
                "the server asks for credentials and no token is configured",
            )
            .unauthenticated_error()),
            // Store/Erase: nothing is kept between fetches.
            _ => Ok(None),
        });
    let outcome = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| ctx.fetch_error(e))?
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| ctx.fetch_error(e))?;
    Ok(outcome
        .ref_map
        .remote_refs
        .iter()
        .filter_map(|r| {
            let (name, target, _peeled) = r.unpack();
            Some((name.to_str_lossy().into_owned(), target?.to_owned()))
        })
        .collect())
}

/// The commit `reference` names: a full SHA is looked up in the cache; `refs/...` is taken
/// as is; otherwise `refs/heads/X`, then `refs/tags/X`, as the remote advertised them.
fn resolve<'r>(
    ctx: &Ctx<'_>,
    repo: &'r gix::Repository,
    advertised: &[(String, gix::ObjectId)],
) -> Result<gix::Commit<'r>, GitError> {
    let reference = ctx.options.reference.as_str();
    let not_found = || GitError::RefNotFound {
        url: ctx.url.clone(),
        reference: reference.to_string(),
    };
    let id = if reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = gix::ObjectId::from_hex(reference.as_bytes()).map_err(|_| not_found())?;
        if !repo.has_object(id) {
            return Err(not_found());
        }
        id
    } else {
        let candidates = if reference.starts_with("refs/") {
            vec![reference.to_string()]
        } else {
            vec![
                format!("refs/heads/{reference}"),
                format!("refs/tags/{reference}"),
            ]
        };
        candidates
            .iter()
            .find_map(|want| {
                advertised
                    .iter()
                    .find(|(name, _)| name == want)
                    .map(|(_, id)| *id)
            })
            .ok_or_else(not_found)?
    };
    repo.find_object(id)
        .map_err(|e| ctx.read_error(e))?
        .peel_to_commit()
        .map_err(|e| ctx.read_error(e))
}

/// The manifest files under `prefix` in `tree`, sorted by repository-relative path.
fn read_manifests(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    root: gix::Tree<'_>,
    prefix: &[String],
    sha: &str,
) -> Result<Vec<(PathBuf, String)>, GitError> {
    let base: PathBuf = prefix.iter().collect();
    let mut files = Vec::new();
    if prefix.is_empty() {
        walk(ctx, repo, &root, &base, sha, &mut files)?;
    } else {
        let entry = root
            .lookup_entry(prefix.iter().map(String::as_str))
            .map_err(|e| ctx.read_error(e))?
            .ok_or_else(|| GitError::PathNotFound {
                url: ctx.url.clone(),
                reference: ctx.options.reference.clone(),
                sha: sha.to_string(),
                path: base.clone(),
            })?;
        let mode = entry.mode();
        let object = entry.object().map_err(|e| ctx.read_error(e))?;
        if mode.is_tree() {
            let tree = object.peel_to_tree().map_err(|e| ctx.read_error(e))?;
            walk(ctx, repo, &tree, &base, sha, &mut files)?;
        } else if mode.is_blob() {
            // A single file named explicitly is read whatever its extension, as the directory
            // loader does for a file argument.
            check_size(ctx, repo, entry.object_id(), &base, sha)?;
            files.push(blob_text(ctx, object.detach().data, &base, sha)?);
        } else {
            return Err(GitError::PathNotFound {
                url: ctx.url.clone(),
                reference: ctx.options.reference.clone(),
                sha: sha.to_string(),
                path: base,
            });
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Recursively collects `*.yaml` / `*.yml` blobs under `tree` (at `dir`), skipping entries
/// whose names start with `.`, symlinks and submodules.
fn walk(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    tree: &gix::Tree<'_>,
    dir: &Path,
    sha: &str,
    files: &mut Vec<(PathBuf, String)>,
) -> Result<(), GitError> {
    let decoded = tree.decode().map_err(|e| ctx.read_error(e))?;
    for entry in &decoded.entries {
        let Ok(name) = entry.filename.to_str() else {
            continue; // not UTF-8: cannot end in .yaml anyway, nor be a path we can report
        };
        if name.starts_with('.') {
            continue;
        }
        let path = dir.join(name);
        if entry.mode.is_tree() {
            let sub = repo.find_tree(entry.oid).map_err(|e| ctx.read_error(e))?;
            walk(ctx, repo, &sub, &path, sha, files)?;
        } else if entry.mode.is_blob() && is_manifest_name(name) {
            check_size(ctx, repo, entry.oid.to_owned(), &path, sha)?;
            let blob = repo.find_object(entry.oid).map_err(|e| ctx.read_error(e))?;
            files.push(blob_text(ctx, blob.detach().data, &path, sha)?);
        }
    }
    Ok(())
}

/// Refuses a blob over `max_file_bytes`, by the size in its header (before reading it).
fn check_size(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    id: gix::ObjectId,
    path: &Path,
    sha: &str,
) -> Result<(), GitError> {
    let size = repo.find_header(id).map_err(|e| ctx.read_error(e))?.size();
    let max = ctx.options.max_file_bytes;
    if size <= max {
        return Ok(());
    }
    Err(GitError::TooLarge {
        url: ctx.url.clone(),
        reference: ctx.options.reference.clone(),
        sha: sha.to_string(),
        path: path.to_path_buf(),
        size,
        max: crate::manifest::load_limits::ByteSize(max),
    })
}

fn is_manifest_name(name: &str) -> bool {
    matches!(
        Path::new(name).extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn blob_text(
    ctx: &Ctx<'_>,
    data: Vec<u8>,
    path: &Path,
    sha: &str,
) -> Result<(PathBuf, String), GitError> {
    let text = String::from_utf8(data).map_err(|_| GitError::NotUtf8 {
        url: ctx.url.clone(),
        reference: ctx.options.reference.clone(),
        sha: sha.to_string(),
        path: path.to_path_buf(),
    })?;
    Ok((path.to_path_buf(), text))
}
